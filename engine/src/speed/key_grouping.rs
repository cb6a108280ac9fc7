//! Grouping by text keys that repeat.
//!
//! The reports people run group by a few text columns of few values: an area
//! code (persons per county, households per grid), a status, a channel, a
//! type, a sex. DataFusion's partial aggregate hashes every row's key and
//! compares it with the group it lands on, whatever the data looks like; for
//! `GROUP BY town_code, sex` over a million persons that is a third of the
//! query's CPU.
//!
//! Such keys come cheaper. The city's files are sorted by area code, so an
//! area column read in file order comes in long runs of one value; and a
//! column of few values is stored dictionary-encoded, so within a batch every
//! row of one value carries the same 16-byte string view. [`KeyGrouping`]
//! gives such partial aggregates (one to [`MAX_KEYS`] text columns as the
//! key, each whole or cut to its first characters, as in
//! `GROUP BY substr(grid_code, 1, 6)`; no FILTER, no ordered or DISTINCT
//! aggregates) an operator that finds a row's group from its views alone, in
//! a small table of the views seen lately. Only a key not seen lately is read
//! as text, cut, and looked up. The aggregates themselves
//! are DataFusion's own group accumulators, fed the same group indices (a
//! `count`, its batch's counts per group through its merge: see [`Feed`])
//! and emitting the same partial state, so what the final aggregate
//! receives is what it would have received. Data whose keys do not repeat (in the first
//! batch, more than one row in [`MIN_REPEAT`] has a key not seen lately) is
//! handed, first batch included, to DataFusion's operator.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringViewArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{aggregate_expressions, AggregateExec, AggregateMode};
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Below one row in this many whose key was not seen lately (in the first
/// batch), grouping by key views gains nothing over hashing every row.
pub(crate) const MIN_REPEAT: usize = 16;

/// The most key columns grouped by views; wider keys are hashed by
/// DataFusion's operator.
pub(crate) const MAX_KEYS: usize = 4;

/// Puts [`KeyGroupedAggregateExec`] in place of each eligible partial
/// aggregate.
#[derive(Debug, Default)]
pub(crate) struct KeyGrouping;

impl PhysicalOptimizerRule for KeyGrouping {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(agg) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(keys) = eligible(agg) else {
                return Ok(Transformed::no(node));
            };
            let agg = Arc::new(agg.clone());
            Ok(Transformed::yes(Arc::new(KeyGroupedAggregateExec {
                properties: agg.properties().clone(),
                agg,
                keys,
                metrics: Default::default(),
            }) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "key_grouping"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The keys of a partial aggregate grouped by one to [`MAX_KEYS`] `Utf8View`
/// columns (or their first characters), whose aggregates all have group
/// accumulators and need no filter, order or distinct; `None` for any other
/// aggregate.
fn eligible(agg: &AggregateExec) -> Option<Vec<Key>> {
    let group = agg.group_expr();
    let exprs = group.expr();
    if exprs.is_empty() || exprs.len() > MAX_KEYS {
        return None;
    }
    let keys = exprs
        .iter()
        .map(|(e, _)| Key::of(e))
        .collect::<Option<Vec<_>>>()?;
    let input = agg.input_schema();
    let text = |t: Option<&DataType>| t == Some(&DataType::Utf8View);
    let eligible = *agg.mode() == AggregateMode::Partial
        && group.is_single()
        && keys
            .iter()
            .zip(exprs)
            .enumerate()
            .all(|(i, (key, (e, _)))| {
                text(input.fields().get(key.column).map(|f| f.data_type()))
                    && text(Some(agg.schema().field(i).data_type()))
                    && text(e.data_type(&input).ok().as_ref())
            })
        && agg.filter_expr().iter().all(Option::is_none)
        && agg.limit_options().is_none()
        && agg.aggr_expr().iter().all(|a| {
            a.groups_accumulator_supported() && a.order_bys().is_empty() && !a.is_distinct()
        });
    eligible.then_some(keys)
}

/// What a row's group is keyed by: a text column of the aggregate's input,
/// whole or cut to its first `chars` characters.
#[derive(Debug, Clone, Copy)]
struct Key {
    column: usize,
    chars: Option<usize>,
}

impl Key {
    /// The key `expr` stands for: a column, or `substr(column, 1, n)` or
    /// `left(column, n)` with a constant n ≥ 1 (both its first n
    /// characters, or all of it when shorter).
    fn of(expr: &Arc<dyn PhysicalExpr>) -> Option<Key> {
        use datafusion::physical_expr::expressions::Literal;
        use datafusion::physical_expr::ScalarFunctionExpr;
        if let Some(c) = expr.downcast_ref::<Column>() {
            return Some(Key {
                column: c.index(),
                chars: None,
            });
        }
        let f = expr.downcast_ref::<ScalarFunctionExpr>()?;
        let constant = |e: &Arc<dyn PhysicalExpr>| -> Option<i64> {
            let v = e.downcast_ref::<Literal>()?.value();
            match v.cast_to(&DataType::Int64).ok()? {
                datafusion::common::ScalarValue::Int64(Some(n)) => Some(n),
                _ => None,
            }
        };
        let (column, n) = match (f.fun().name(), f.args()) {
            ("substr", [c, start, n]) if constant(start) == Some(1) => (c, constant(n)?),
            ("left", [c, n]) => (c, constant(n)?),
            _ => return None,
        };
        Some(Key {
            column: column.downcast_ref::<Column>()?.index(),
            chars: Some(usize::try_from(n).ok().filter(|&n| n >= 1)?),
        })
    }
}

/// The first `chars` characters of `s` (all of it when shorter, or when
/// `chars` is `None`).
fn cut(s: &str, chars: Option<usize>) -> &str {
    match chars.and_then(|n| s.char_indices().nth(n)) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// A partial aggregate that groups rows by their keys' views (see the module
/// doc).
#[derive(Debug)]
pub(crate) struct KeyGroupedAggregateExec {
    /// The aggregate it stands for: its groups, aggregates, schema and
    /// input, and the operator used when the keys do not repeat.
    agg: Arc<AggregateExec>,
    /// The aggregate's group keys, as the rule found them.
    keys: Vec<Key>,
    properties: Arc<PlanProperties>,
    /// How many partitions were grouped by key views, and how many handed
    /// over (EXPLAIN ANALYZE shows them).
    metrics: ExecutionPlanMetricsSet,
}

impl DisplayAs for KeyGroupedAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.agg.fmt_as(t, f)?;
        write!(f, ", grouping=key_views")
    }
}

impl ExecutionPlan for KeyGroupedAggregateExec {
    fn name(&self) -> &str {
        "KeyGroupedAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.agg.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.agg.apply_expressions(f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let agg = recompute(self.agg.clone(), children)?;
        let agg = agg
            .downcast_ref::<AggregateExec>()
            .expect("an aggregate stays an aggregate")
            .clone();
        Ok(Arc::new(KeyGroupedAggregateExec {
            properties: agg.properties().clone(),
            agg: Arc::new(agg),
            keys: self.keys.clone(),
            metrics: Default::default(),
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.agg.input().execute(partition, context.clone())?;
        let agg = self.agg.clone();
        let keys = self.keys.clone();
        let schema = agg.schema();
        let reservation = MemoryConsumer::new(format!("KeyGroupedAggregate[{partition}]"))
            .register(context.memory_pool());
        let paths = Paths {
            by_views: MetricBuilder::new(&self.metrics)
                .counter("partitions_by_key_views", partition),
            hashed: MetricBuilder::new(&self.metrics).counter("partitions_hashed", partition),
        };
        let job = Job {
            agg,
            input,
            partition,
            context,
            reservation,
            paths,
        };
        let output = futures::stream::once(async move {
            match keys.len() {
                1 => job.run::<1>(&keys).await,
                2 => job.run::<2>(&keys).await,
                3 => job.run::<3>(&keys).await,
                _ => job.run::<MAX_KEYS>(&keys).await,
            }
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, output)))
    }
}

/// Counts of the way each partition was aggregated.
struct Paths {
    by_views: Count,
    hashed: Count,
}

/// One partition's aggregation.
struct Job {
    agg: Arc<AggregateExec>,
    input: SendableRecordBatchStream,
    partition: usize,
    context: Arc<TaskContext>,
    reservation: MemoryReservation,
    paths: Paths,
}

impl Job {
    /// Aggregates the partition by its `N` keys' views, or by DataFusion's
    /// operator when the first batch shows keys that do not repeat.
    async fn run<const N: usize>(mut self, keys: &[Key]) -> Result<SendableRecordBatchStream> {
        let keys: [Key; N] = std::array::from_fn(|k| keys[k]);
        let columns_of = |b: &RecordBatch| -> [ArrayRef; N] {
            std::array::from_fn(|k| b.column(keys[k].column).clone())
        };
        let arguments = aggregate_expressions(self.agg.aggr_expr(), self.agg.mode(), 1)?;
        let mut first = None;
        while let Some(batch) = self.input.next().await {
            let batch = batch?;
            if batch.num_rows() > 0 {
                first = Some(batch);
                break;
            }
        }
        let Some(first) = first else {
            return Ok(empty(&self.agg));
        };
        let columns = columns_of(&first);
        if !repeats(&text(&columns)) {
            self.paths.hashed.add(1);
            return hashed(&self.agg, first, self.input, self.partition, self.context);
        }
        self.paths.by_views.add(1);
        let mut groups = Groups::<N>::new(keys.map(|k| k.chars));
        let mut accumulators: Vec<Box<dyn GroupsAccumulator>> = self
            .agg
            .aggr_expr()
            .iter()
            .map(|a| a.create_groups_accumulator())
            .collect::<Result<_>>()?;
        let feeds: Vec<Feed> = self
            .agg
            .aggr_expr()
            .iter()
            .zip(&arguments)
            .map(|(a, args)| Feed::of(a, args))
            .collect();
        let counting = feeds.iter().any(|f| matches!(f, Feed::Count { .. }));
        let mut indices = Vec::new();
        let mut tally = Tally::default();
        let mut batch = Some((first, columns));
        loop {
            let (b, columns) = match batch.take() {
                Some(next) => next,
                None => match self.input.next().await {
                    Some(b) => {
                        let b = b?;
                        let columns = columns_of(&b);
                        (b, columns)
                    }
                    None => break,
                },
            };
            let long_runs = groups.assign(&text(&columns), &mut indices);
            let tallied = counting && tally.of(&indices, long_runs, groups.len());
            for ((acc, args), feed) in accumulators.iter_mut().zip(&arguments).zip(&feeds) {
                let values = match feed {
                    Feed::Count { constant: true } if tallied => {
                        acc.merge_batch(&[tally.counts()], &tally.groups, groups.len())?;
                        continue;
                    }
                    // Only whether a value is NULL counts, and a constant
                    // is not: no need to make a column of it.
                    Feed::Count { constant: true } => vec![tally.ones(b.num_rows())],
                    _ => args
                        .iter()
                        .map(|e| e.evaluate(&b)?.into_array(b.num_rows()))
                        .collect::<Result<Vec<ArrayRef>>>()?,
                };
                if tallied
                    && *feed == (Feed::Count { constant: false })
                    && values[0].logical_null_count() == 0
                {
                    acc.merge_batch(&[tally.counts()], &tally.groups, groups.len())?;
                } else {
                    acc.update_batch(&values, &indices, None, groups.len())?;
                }
            }
            let size = groups.size() + accumulators.iter().map(|a| a.size()).sum::<usize>();
            self.reservation.try_resize(size)?;
        }
        let mut columns: Vec<ArrayRef> = groups
            .values()
            .into_iter()
            .map(|c| Arc::new(c) as ArrayRef)
            .collect();
        for acc in &mut accumulators {
            columns.extend(acc.state(EmitTo::All)?);
        }
        let batch = RecordBatch::try_new(self.agg.schema(), columns)?;
        drop(self.reservation);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.agg.schema(),
            futures::stream::iter([Ok(batch)]),
        )))
    }
}

/// How an aggregate takes a batch's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Row by row, with each row's group, as DataFusion's operator feeds it.
    Rows,
    /// DataFusion's `count` of one argument (`count(*)` is `count(1)`,
    /// `constant`). Counting row by row adds one to the row's group, and
    /// where keys come in runs each addition waits for the one before, to
    /// the same counter: a million rows cost a millisecond and a half. Where
    /// the argument has no NULL, a batch is [`Tally`]'d instead and its
    /// partial counts added through the accumulator's merge, which is what
    /// counting it row by row would add.
    Count { constant: bool },
}

impl Feed {
    fn of(
        aggregate: &datafusion::physical_expr::aggregate::AggregateFunctionExpr,
        arguments: &[Arc<dyn PhysicalExpr>],
    ) -> Feed {
        use datafusion::functions_aggregate::count::Count;
        use datafusion::physical_expr::expressions::Literal;
        match arguments {
            [argument] if aggregate.fun().inner().is::<Count>() && !aggregate.is_distinct() => {
                Feed::Count {
                    constant: argument
                        .downcast_ref::<Literal>()
                        .is_some_and(|l| !l.value().is_null()),
                }
            }
            _ => Feed::Rows,
        }
    }
}

/// Below this many rows per run, or per group, on average, a batch is
/// counted row by row: tallying it would cost more than it saves.
const MIN_RUN: usize = 4;

/// Lanes of [`Tally::of`]'s histogram: rows of one group in a row add to
/// different counters, so an addition does not wait for the one before.
const LANES: usize = 4;

/// A batch's rows counted by group, as partial counts: by runs where the
/// keys come in long runs, else in a histogram when there are few groups.
#[derive(Default)]
struct Tally {
    /// The group of each partial count (a group may have several).
    groups: Vec<usize>,
    /// The partial counts.
    counts: Vec<i64>,
    /// The histogram's counters, [`LANES`] per group.
    lanes: Vec<i64>,
    /// A column of ones as long as the longest batch, lent to `count` of a
    /// constant counted row by row.
    ones: Option<ArrayRef>,
}

impl Tally {
    /// Tallies `indices`, rows of `groups` groups whose keys come in
    /// `long_runs` or not; false (the tally unset) where neither way pays.
    fn of(&mut self, indices: &[usize], long_runs: bool, groups: usize) -> bool {
        self.groups.clear();
        self.counts.clear();
        (long_runs && self.runs(indices))
            || (groups * MIN_RUN <= indices.len() && {
                self.histogram(indices, groups);
                true
            })
    }

    /// Tallies each run of one group in `indices` as its length; false when
    /// they average fewer than [`MIN_RUN`] rows.
    fn runs(&mut self, indices: &[usize]) -> bool {
        let most = indices.len() / MIN_RUN;
        let mut start = 0;
        while start < indices.len() {
            if self.groups.len() >= most {
                self.groups.clear();
                self.counts.clear();
                return false;
            }
            let g = indices[start];
            let end = indices[start..]
                .iter()
                .position(|&i| i != g)
                .map_or(indices.len(), |n| start + n);
            self.groups.push(g);
            self.counts.push((end - start) as i64);
            start = end;
        }
        true
    }

    /// Tallies `indices`, each below `groups`, in a histogram.
    fn histogram(&mut self, indices: &[usize], groups: usize) {
        self.lanes.clear();
        self.lanes.resize(groups * LANES, 0);
        let mut rows = indices.chunks_exact(LANES);
        for chunk in &mut rows {
            for (lane, &g) in chunk.iter().enumerate() {
                self.lanes[g * LANES + lane] += 1;
            }
        }
        for &g in rows.remainder() {
            self.lanes[g * LANES] += 1;
        }
        for (g, lanes) in self.lanes.chunks_exact(LANES).enumerate() {
            let n: i64 = lanes.iter().sum();
            if n > 0 {
                self.groups.push(g);
                self.counts.push(n);
            }
        }
    }

    /// The partial counts, as `count`'s state.
    fn counts(&self) -> ArrayRef {
        Arc::new(datafusion::arrow::array::Int64Array::from(
            self.counts.clone(),
        ))
    }

    /// A column of `rows` ones, without NULLs.
    fn ones(&mut self, rows: usize) -> ArrayRef {
        if self.ones.as_ref().is_none_or(|o| o.len() < rows) {
            self.ones = Some(Arc::new(datafusion::arrow::array::Int64Array::from(
                vec![1i64; rows],
            )));
        }
        self.ones
            .as_ref()
            .map(|o| o.slice(0, rows))
            .expect("made above")
    }
}

/// The key columns as the string views they are (the rule admits no other
/// type).
fn text<const N: usize>(columns: &[ArrayRef; N]) -> [&StringViewArray; N] {
    std::array::from_fn(|k| columns[k].as_string_view())
}

/// Whether the keys of a batch repeat enough for grouping by their views:
/// at most one row in [`MIN_REPEAT`] has views not among those seen lately.
fn repeats<const N: usize>(columns: &[&StringViewArray; N]) -> bool {
    let rows = columns[0].len();
    let mut lately = Lately::<N>::new();
    let mut new = 0;
    for i in 0..rows {
        let views = RowViews::of(columns, i);
        let slot = views.slot();
        if lately.get(slot, views, 1).is_none() {
            lately.put(slot, views, 1, 0);
            new += 1;
        }
    }
    new * MIN_REPEAT <= rows
}

/// Partition `partition` aggregated by DataFusion's own operator, over the
/// batch already read and the rest of the input.
fn hashed(
    agg: &Arc<AggregateExec>,
    first: RecordBatch,
    rest: SendableRecordBatchStream,
    partition: usize,
    context: Arc<TaskContext>,
) -> Result<SendableRecordBatchStream> {
    let input = agg.input();
    let schema = input.schema();
    let replayed = futures::stream::iter([Ok(first)]).chain(rest);
    let partitions = input.properties().output_partitioning().partition_count();
    let mut streams: Vec<Option<SendableRecordBatchStream>> =
        (0..partitions).map(|_| None).collect();
    streams[partition] = Some(Box::pin(RecordBatchStreamAdapter::new(schema, replayed)));
    let replay = Arc::new(Replay {
        properties: input.properties().clone(),
        streams: Mutex::new(streams),
    });
    recompute(agg.clone(), vec![replay])?.execute(partition, context)
}

/// `plan` over new children, its properties computed again.
fn recompute(
    plan: Arc<dyn ExecutionPlan>,
    children: Vec<Arc<dyn ExecutionPlan>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.replace_children(
        children,
        ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
    )
}

fn empty(agg: &Arc<AggregateExec>) -> SendableRecordBatchStream {
    Box::pin(RecordBatchStreamAdapter::new(
        agg.schema(),
        futures::stream::empty(),
    ))
}

/// A row's key as its columns' string views, NULLs marked apart (a NULL's
/// view is taken as zero, whatever its slot holds).
///
/// Equal views mean equal strings, within one batch: a view holds a string
/// of up to 12 bytes whole, and a longer one's length, first bytes, buffer
/// and offset. The converse does not hold (two copies of one string in a
/// buffer have different views), so a row whose views are new is looked up
/// by its text.
#[derive(Clone, Copy)]
struct RowViews<const N: usize> {
    views: [u128; N],
    nulls: u8,
}

impl<const N: usize> RowViews<N> {
    /// No row's: its NULL marks name a column past the last.
    const NONE: Self = RowViews {
        views: [0; N],
        nulls: u8::MAX,
    };

    #[inline(always)]
    fn of(columns: &[&StringViewArray; N], row: usize) -> Self {
        let mut views = [0u128; N];
        let mut nulls = 0u8;
        for k in 0..N {
            if columns[k].is_null(row) {
                nulls |= 1 << k;
            } else {
                views[k] = columns[k].views()[row];
            }
        }
        RowViews { views, nulls }
    }

    /// Whether `self` and `other` are the same views (compared in registers:
    /// a derived comparison goes through memory and stalls).
    #[inline(always)]
    fn same(&self, other: &Self) -> bool {
        let mut same = self.nulls == other.nulls;
        for k in 0..N {
            same &= self.views[k] == other.views[k];
        }
        same
    }

    /// Whether every string is held in its view: such views mean the same
    /// strings in every batch, where a longer string's view points into its
    /// own batch's buffers.
    fn inline(&self) -> bool {
        self.views.iter().all(|&v| v as u32 <= 12)
    }

    /// Its slot in [`Lately`].
    #[inline(always)]
    fn slot(&self) -> usize {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut h = u64::from(self.nulls);
        for &v in &self.views {
            h = (h ^ v as u64 ^ ((v >> 64) as u64).wrapping_mul(K)).wrapping_mul(K);
        }
        (h >> (64 - LATELY_BITS)) as usize
    }
}

/// Slots in [`Lately`], as a power of two.
const LATELY_BITS: u32 = 9;

/// The groups of the keys seen lately, by their views: one entry per slot,
/// a newer key taking an older one's place.
struct Lately<const N: usize> {
    slots: Vec<Seen<N>>,
}

#[derive(Clone, Copy)]
struct Seen<const N: usize> {
    views: RowViews<N>,
    /// The batch the views point into, or 0 for views that hold their
    /// strings whole (valid in every batch).
    batch: u64,
    group: usize,
}

impl<const N: usize> Lately<N> {
    fn new() -> Self {
        let empty = Seen {
            views: RowViews::NONE,
            batch: 0,
            group: 0,
        };
        Lately {
            slots: vec![empty; 1 << LATELY_BITS],
        }
    }

    #[inline(always)]
    fn get(&self, slot: usize, views: RowViews<N>, batch: u64) -> Option<usize> {
        let seen = &self.slots[slot & ((1 << LATELY_BITS) - 1)];
        (seen.views.same(&views) && (seen.batch == 0 || seen.batch == batch)).then_some(seen.group)
    }

    fn put(&mut self, slot: usize, views: RowViews<N>, batch: u64, group: usize) {
        let batch = if views.inline() { 0 } else { batch };
        self.slots[slot] = Seen {
            views,
            batch,
            group,
        };
    }

    fn size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Seen<N>>()
    }
}

/// The groups seen so far, in order of first appearance.
struct Groups<const N: usize> {
    /// How many characters of each key column make the key (`None`: all).
    chars: [Option<usize>; N],
    /// Each group's key (`None`: NULL).
    keys: Vec<[Option<Box<str>>; N]>,
    /// The newest group of each key hash, and for each group the one before
    /// it with the same hash: a key is looked up without being copied.
    index: HashMap<u64, usize>,
    same_hash: Vec<Option<usize>>,
    hasher: std::hash::RandomState,
    lately: Lately<N>,
    /// Batches assigned so far: the views of batch b point into its
    /// buffers only.
    batch: u64,
    /// The group of the last row of the previous batch.
    last: Option<usize>,
    bytes: usize,
}

impl<const N: usize> Groups<N> {
    fn new(chars: [Option<usize>; N]) -> Self {
        Groups {
            chars,
            keys: Vec::new(),
            index: HashMap::new(),
            same_hash: Vec::new(),
            hasher: std::hash::RandomState::new(),
            lately: Lately::new(),
            batch: 0,
            last: None,
            bytes: 0,
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn size(&self) -> usize {
        let key = std::mem::size_of::<[Option<Box<str>>; N]>();
        self.bytes
            + self.keys.capacity() * key
            + self.same_hash.capacity() * std::mem::size_of::<Option<usize>>()
            + self.index.capacity() * (2 * std::mem::size_of::<usize>() + 1)
            + self.lately.size()
    }

    /// Sets `indices` to the group of each row of `columns`, creating groups
    /// for keys not seen before. A row whose views were seen lately takes
    /// their group without reading its text; in a batch of long runs (area
    /// codes in a sorted file), a row whose views are the previous row's
    /// takes its group without even that. Elsewhere that comparison would
    /// only be a branch mispredicted at every other row. Returns whether the
    /// batch came in such long runs.
    fn assign(&mut self, columns: &[&StringViewArray; N], indices: &mut Vec<usize>) -> bool {
        let rows = columns[0].len();
        indices.clear();
        indices.resize(rows, 0);
        self.batch += 1;
        if columns.iter().all(|c| c.null_count() == 0) {
            let views: [&[u128]; N] = std::array::from_fn(|k| &columns[k].views()[..rows]);
            let key = |i: usize| RowViews {
                views: std::array::from_fn(|k| views[k][i]),
                nulls: 0,
            };
            // Long runs: at most one row in MIN_REPEAT starts one (counted
            // until there are more).
            let most = rows / MIN_REPEAT;
            let long_runs = (1..rows)
                .filter(|&i| (0..N).any(|k| views[k][i] != views[k][i - 1]))
                .nth(most)
                .is_none();
            if long_runs {
                self.assign_rows::<true>(columns, indices, key);
            } else {
                self.assign_rows::<false>(columns, indices, key);
            }
            long_runs
        } else {
            self.assign_rows::<false>(columns, indices, |i| RowViews::of(columns, i));
            false
        }
    }

    /// [`Self::assign`] over keys read by `key`, looking at the previous
    /// row's views first when `RUNS`.
    #[inline(always)]
    fn assign_rows<const RUNS: bool>(
        &mut self,
        columns: &[&StringViewArray; N],
        indices: &mut [usize],
        key: impl Fn(usize) -> RowViews<N>,
    ) {
        let mut previous = self.last;
        let mut previous_key = RowViews::NONE;
        for (i, out) in indices.iter_mut().enumerate() {
            let views = key(i);
            let g = match previous {
                Some(g) if RUNS && i > 0 && views.same(&previous_key) => g,
                _ => self.find(views, columns, i, previous),
            };
            *out = g;
            previous = Some(g);
            if RUNS {
                previous_key = views;
            }
        }
        self.last = previous;
    }

    /// The group of row `row`, whose views are `key`.
    #[inline(always)]
    fn find(
        &mut self,
        key: RowViews<N>,
        columns: &[&StringViewArray; N],
        row: usize,
        previous: Option<usize>,
    ) -> usize {
        let slot = key.slot();
        match self.lately.get(slot, key, self.batch) {
            Some(g) => g,
            None => self.not_seen_lately(slot, key, columns, row, previous),
        }
    }

    #[cold]
    #[inline(never)]
    fn not_seen_lately(
        &mut self,
        slot: usize,
        key: RowViews<N>,
        columns: &[&StringViewArray; N],
        row: usize,
        previous: Option<usize>,
    ) -> usize {
        let g = self.group_of(columns, row, previous);
        self.lately.put(slot, key, self.batch, g);
        g
    }

    /// The group of row `row`'s key read as text: the group `before` (the
    /// previous row's) when the key is its key, else the key's group, made
    /// if new.
    fn group_of(
        &mut self,
        columns: &[&StringViewArray; N],
        row: usize,
        before: Option<usize>,
    ) -> usize {
        let key = |k: usize| -> Option<&str> {
            (!columns[k].is_null(row)).then(|| cut(columns[k].value(row), self.chars[k]))
        };
        let is_key_of = |g: usize| (0..N).all(|k| self.keys[g][k].as_deref() == key(k));
        if let Some(g) = before.filter(|&g| is_key_of(g)) {
            return g;
        }
        let hash = {
            use std::hash::{BuildHasher, Hash, Hasher};
            let mut h = self.hasher.build_hasher();
            (0..N).for_each(|k| key(k).hash(&mut h));
            h.finish()
        };
        let mut candidate = self.index.get(&hash).copied();
        while let Some(g) = candidate {
            if is_key_of(g) {
                return g;
            }
            candidate = self.same_hash[g];
        }
        let owned: [Option<Box<str>>; N] = std::array::from_fn(|k| key(k).map(Box::from));
        let g = self.keys.len();
        self.bytes += owned.iter().flatten().map(|s| s.len()).sum::<usize>();
        self.keys.push(owned);
        self.same_hash.push(self.index.insert(hash, g));
        g
    }

    /// The group keys, a column per key, in group order.
    fn values(&self) -> [StringViewArray; N] {
        std::array::from_fn(|k| {
            StringViewArray::from_iter(self.keys.iter().map(|key| key[k].as_deref()))
        })
    }
}

/// Hands a partition's input, already partly read, to an operator that
/// executes its input afresh: each partition's stream, once.
struct Replay {
    properties: Arc<PlanProperties>,
    streams: Mutex<Vec<Option<SendableRecordBatchStream>>>,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Replay")
    }
}

impl DisplayAs for Replay {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Replay")
    }
}

impl ExecutionPlan for Replay {
    fn name(&self) -> &str {
        "Replay"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.streams
            .lock()
            .expect("replay lock")
            .get_mut(partition)
            .and_then(Option::take)
            .ok_or_else(|| {
                datafusion::error::DataFusionError::Internal(format!(
                    "partition {partition} replayed twice"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::{repeats, Groups, Tally, MIN_REPEAT};
    use datafusion::arrow::array::StringViewArray;

    fn column(keys: &[Option<&str>]) -> StringViewArray {
        StringViewArray::from_iter(keys.iter().copied())
    }

    fn assign(groups: &mut Groups<1>, keys: &[Option<&str>]) -> Vec<usize> {
        let mut indices = Vec::new();
        let _ = groups.assign(&[&column(keys)], &mut indices);
        indices
    }

    fn keys(groups: &Groups<1>) -> Vec<Option<String>> {
        let [values] = groups.values();
        values.iter().map(|k| k.map(str::to_string)).collect()
    }

    #[test]
    fn prefixes_group_values_that_share_their_first_characters() {
        let mut g = Groups::new([Some(6)]);
        // A value shorter than the prefix is its own key; a longer one that
        // starts with it is not in its group.
        assert_eq!(
            assign(
                &mut g,
                &[
                    Some("370602001001001"),
                    Some("370602001001002"),
                    Some("3706"),
                    Some("370611001001001"),
                    None,
                    Some("370602999"),
                ],
            ),
            [0, 0, 1, 2, 3, 0]
        );
        // Characters, not bytes: 芝罘区 is three characters of nine bytes.
        assert_eq!(
            assign(
                &mut g,
                &[Some("370611"), Some("芝罘区第一街道"), Some("芝罘区")]
            ),
            [2, 4, 5]
        );
        assert_eq!(
            keys(&g),
            [
                Some("370602".into()),
                Some("3706".into()),
                Some("370611".into()),
                None,
                Some("芝罘区第一街".into()),
                Some("芝罘区".into()),
            ]
        );
        let mut g = Groups::new([Some(3)]);
        assert_eq!(
            assign(&mut g, &[Some("芝罘区第一街道"), Some("芝罘区")]),
            [0, 0]
        );
        assert_eq!(keys(&g), [Some("芝罘区".into())]);
    }

    #[test]
    fn runs_nulls_and_long_keys_across_batches() {
        let long_a = "370602001001001";
        let long_b = "370602001001002";
        let mut g = Groups::new([None]);
        assert_eq!(
            assign(
                &mut g,
                &[Some("a"), Some("a"), None, None, Some(long_a), Some(long_a)]
            ),
            [0, 0, 1, 1, 2, 2]
        );
        // The next batch continues the last run, and comes back to old keys.
        assert_eq!(
            assign(
                &mut g,
                &[Some(long_a), Some(long_b), Some("a"), None, Some(long_a)]
            ),
            [2, 3, 0, 1, 2]
        );
        assert_eq!(
            keys(&g),
            [
                Some("a".into()),
                None,
                Some(long_a.into()),
                Some(long_b.into())
            ]
        );
    }

    #[test]
    fn a_long_keys_view_counts_only_in_its_own_batch() {
        // Each batch has one buffer, so a long key's view (buffer 0, offset
        // 0) is the same in both; the strings are not.
        let long_a = "广东省深圳市南山区";
        let long_b = "广东省深圳市福田区";
        let mut g = Groups::new([None]);
        assert_eq!(assign(&mut g, &[Some(long_a), Some("x")]), [0, 1]);
        assert_eq!(assign(&mut g, &[Some(long_b), Some("x")]), [2, 1]);
        assert_eq!(assign(&mut g, &[Some("x"), Some(long_a)]), [1, 0]);
        assert_eq!(
            keys(&g),
            [Some(long_a.into()), Some("x".into()), Some(long_b.into())]
        );
    }

    #[test]
    fn two_keys_and_equal_strings_behind_different_views() {
        // Two copies of one long string: different views, one group.
        let long = "城关街道第一社区居委会";
        let town = StringViewArray::from_iter_values([long, "b", long, "b", long, "b"]);
        let sex = column(&[
            Some("男"),
            Some("女"),
            Some("男"),
            None,
            Some("女"),
            Some("女"),
        ]);
        let mut g = Groups::new([None, None]);
        let mut indices = Vec::new();
        g.assign(&[&town, &sex], &mut indices);
        assert_eq!(indices, [0, 1, 0, 2, 3, 1]);
        let [t, s] = g.values();
        assert_eq!(
            t.iter().zip(s.iter()).collect::<Vec<_>>(),
            [
                (Some(long), Some("男")),
                (Some("b"), Some("女")),
                (Some("b"), None),
                (Some(long), Some("女")),
            ]
        );
    }

    #[test]
    fn long_runs_continue_across_batches() {
        // Two runs in a batch of 64 rows: the batch goes by runs.
        let town = |runs: &[(&'static str, usize)]| {
            StringViewArray::from_iter_values(
                runs.iter().flat_map(|&(v, n)| std::iter::repeat_n(v, n)),
            )
        };
        let sex = StringViewArray::from_iter_values(std::iter::repeat_n("男性", 64));
        let mut g = Groups::new([None, Some(1)]);
        let mut indices = Vec::new();
        g.assign(
            &[&town(&[("370602", 40), ("370611", 24)]), &sex],
            &mut indices,
        );
        let expected: Vec<usize> = [(0, 40), (1, 24)]
            .iter()
            .flat_map(|&(g, n)| std::iter::repeat_n(g, n))
            .collect();
        assert_eq!(indices, expected);
        g.assign(
            &[&town(&[("370611", 10), ("370602", 54)]), &sex],
            &mut indices,
        );
        let expected: Vec<usize> = [(1, 10), (0, 54)]
            .iter()
            .flat_map(|&(g, n)| std::iter::repeat_n(g, n))
            .collect();
        assert_eq!(indices, expected);
        let [t, s] = g.values();
        assert_eq!(
            t.iter().zip(s.iter()).collect::<Vec<_>>(),
            [(Some("370602"), Some("男")), (Some("370611"), Some("男"))]
        );
    }

    #[test]
    fn keys_repeat_when_few_rows_bring_new_views() {
        let few: Vec<Option<&str>> = (0..1024)
            .map(|i| Some(["社区", "网格", "乡镇", "村"][i * 7 % 4]))
            .collect();
        assert!(repeats(&[&column(&few)]));
        let names: Vec<String> = (0..1024).map(|i| format!("name{i}")).collect();
        let many = StringViewArray::from_iter_values(names.iter());
        assert!(!repeats(&[&many]));
        // The threshold: one new key per MIN_REPEAT rows still repeats.
        let edge: Vec<String> = (0..1024).map(|i| format!("k{}", i / MIN_REPEAT)).collect();
        let edge = StringViewArray::from_iter_values(edge.iter());
        assert!(repeats(&[&edge]));
        // With two keys it is their combinations that must repeat: four
        // values against each of 64 keys make one new pair in four rows.
        assert!(repeats(&[&column(&few), &column(&few)]));
        assert!(!repeats(&[&column(&few), &edge]));
        assert!(!repeats(&[&column(&few), &many]));
    }

    #[test]
    fn batches_are_tallied_by_runs_or_few_groups() {
        let mut tally = Tally::default();
        let runs = [3, 3, 3, 3, 3, 0, 0, 0, 3, 3, 3, 3, 1, 1, 1, 1];
        assert!(tally.of(&runs, true, 4));
        assert_eq!(tally.groups, [3, 0, 3, 1]);
        assert_eq!(tally.counts, [5, 3, 4, 4]);
        assert_eq!(tally.counts().len(), 4);
        // Sixteen rows in four runs is the shortest average counted by runs;
        // one more run is counted in the histogram, by group.
        let five = [3, 3, 3, 3, 3, 0, 0, 0, 3, 3, 3, 3, 1, 1, 1, 2];
        assert!(tally.of(&five, true, 4));
        assert_eq!(tally.groups, [0, 1, 2, 3]);
        assert_eq!(tally.counts, [3, 3, 1, 9]);
        // Keys not in runs: by group, in every lane and the remainder.
        let scattered = [1, 0, 1, 1, 2, 0, 1, 0, 1, 2, 1, 0, 2];
        assert!(tally.of(&scattered, false, 3));
        assert_eq!(
            (tally.groups.clone(), tally.counts.clone()),
            (vec![0, 1, 2], vec![4, 6, 3])
        );
        // A group not in this batch has no count.
        assert!(tally.of(&[2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0], false, 3));
        assert_eq!(
            (tally.groups.clone(), tally.counts.clone()),
            (vec![0, 2], vec![6, 6])
        );
        // Too many groups for the rows, and runs too short: row by row.
        assert!(!tally.of(&[0, 1, 0], true, 2));
        assert!(!tally.of(&[0, 1, 2, 3, 4, 0, 1, 2], false, 5));
        assert!(tally.groups.is_empty() && tally.counts.is_empty());
        assert!(tally.of(&[], true, 0));
        assert!(tally.groups.is_empty());
        // The ones lent out are as long as asked, and NULL-free.
        assert_eq!(tally.ones(5).len(), 5);
        assert_eq!(tally.ones(3).len(), 3);
        assert_eq!(tally.ones(9).null_count(), 0);
    }
}
