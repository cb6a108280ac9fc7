//! Grouping by an area code over data laid out by area.
//!
//! The city's files are sorted by area code (so a fence prunes row groups),
//! and the most common report groups by one of the area columns: persons per
//! county, households per grid. Read in file order, such a column comes in
//! long runs of one value. DataFusion's partial aggregate hashes and looks up
//! every row's key all the same; for `GROUP BY county_code` over a million
//! persons that is half the query's CPU.
//!
//! [`RunGrouping`] gives such partial aggregates (one text column as the key,
//! or its first characters, as in `GROUP BY substr(grid_code, 1, 6)`; no
//! FILTER, no ordered or DISTINCT aggregates) an operator that only looks
//! a key up where a run starts: each row's key is compared with the previous
//! row's, and equal keys share their group. A prefix is cut only where the
//! column's value changes, not for every row. The aggregates themselves are
//! DataFusion's own group accumulators, fed the same group indices and
//! emitting the same partial state, so what the final aggregate receives is
//! what it would have received. Data that does not come in runs (the first
//! batch has runs shorter than [`MIN_RUN`] rows on average) is handed, first
//! batch included, to DataFusion's operator.

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

/// Below this average run length in the first batch, grouping by runs gains
/// nothing over hashing every row.
pub(crate) const MIN_RUN: usize = 16;

/// Puts [`RunGroupedAggregateExec`] in place of each eligible partial
/// aggregate.
#[derive(Debug, Default)]
pub(crate) struct RunGrouping;

impl PhysicalOptimizerRule for RunGrouping {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(agg) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(key) = eligible(agg) else {
                return Ok(Transformed::no(node));
            };
            let agg = Arc::new(agg.clone());
            Ok(Transformed::yes(Arc::new(RunGroupedAggregateExec {
                properties: agg.properties().clone(),
                agg,
                key,
                metrics: Default::default(),
            }) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "run_grouping"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The key of a partial aggregate grouped by one `Utf8View` column (or its
/// first characters), whose aggregates all have group accumulators and need
/// no filter, order or distinct; `None` for any other aggregate.
fn eligible(agg: &AggregateExec) -> Option<Key> {
    let group = agg.group_expr();
    let [(key, _)] = group.expr() else {
        return None;
    };
    let input = agg.input_schema();
    let key = Key::of(key)?;
    let eligible = *agg.mode() == AggregateMode::Partial
        && group.is_single()
        && input.fields().get(key.column).map(|f| f.data_type()) == Some(&DataType::Utf8View)
        && agg.schema().field(0).data_type() == &DataType::Utf8View
        && group.expr()[0].0.data_type(&input).ok() == Some(DataType::Utf8View)
        && agg.filter_expr().iter().all(Option::is_none)
        && agg.limit_options().is_none()
        && agg.aggr_expr().iter().all(|a| {
            a.groups_accumulator_supported() && a.order_bys().is_empty() && !a.is_distinct()
        });
    eligible.then_some(key)
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

/// A partial aggregate that groups runs of equal keys (see the module doc).
#[derive(Debug)]
pub(crate) struct RunGroupedAggregateExec {
    /// The aggregate it stands for: its groups, aggregates, schema and
    /// input, and the operator used when the data has no runs.
    agg: Arc<AggregateExec>,
    /// The aggregate's group key, as the rule found it.
    key: Key,
    properties: Arc<PlanProperties>,
    /// How many partitions were grouped by runs, and how many handed over
    /// (EXPLAIN ANALYZE shows them).
    metrics: ExecutionPlanMetricsSet,
}

impl DisplayAs for RunGroupedAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.agg.fmt_as(t, f)?;
        write!(f, ", grouping=runs")
    }
}

impl ExecutionPlan for RunGroupedAggregateExec {
    fn name(&self) -> &str {
        "RunGroupedAggregateExec"
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
        Ok(Arc::new(RunGroupedAggregateExec {
            properties: agg.properties().clone(),
            agg: Arc::new(agg),
            key: self.key,
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
        let (agg, key) = (self.agg.clone(), self.key);
        let schema = agg.schema();
        let reservation = MemoryConsumer::new(format!("RunGroupedAggregate[{partition}]"))
            .register(context.memory_pool());
        let paths = Paths {
            by_runs: MetricBuilder::new(&self.metrics).counter("partitions_by_runs", partition),
            hashed: MetricBuilder::new(&self.metrics).counter("partitions_hashed", partition),
        };
        let output = futures::stream::once(async move {
            run(agg, key, input, partition, context, reservation, paths).await
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, output)))
    }
}

/// Counts of the way each partition was aggregated.
struct Paths {
    by_runs: Count,
    hashed: Count,
}

/// Aggregates one partition: by runs, or by DataFusion's operator when the
/// first batch shows no runs.
async fn run(
    agg: Arc<AggregateExec>,
    key: Key,
    mut input: SendableRecordBatchStream,
    partition: usize,
    context: Arc<TaskContext>,
    reservation: MemoryReservation,
    paths: Paths,
) -> Result<SendableRecordBatchStream> {
    // The column the key is read from; where the column's values come in
    // runs, so do their prefixes.
    let values_of = |b: &RecordBatch| b.column(key.column).clone();
    let arguments = aggregate_expressions(agg.aggr_expr(), agg.mode(), 1)?;
    let mut first = None;
    while let Some(batch) = input.next().await {
        let batch = batch?;
        if batch.num_rows() > 0 {
            first = Some(batch);
            break;
        }
    }
    let Some(first) = first else {
        return Ok(empty(&agg));
    };
    let values = values_of(&first);
    if runs(values.as_string_view()) * MIN_RUN > first.num_rows() {
        paths.hashed.add(1);
        return hashed(&agg, first, input, partition, context);
    }
    paths.by_runs.add(1);
    let mut groups = RunGroups::default();
    let mut accumulators: Vec<Box<dyn GroupsAccumulator>> = agg
        .aggr_expr()
        .iter()
        .map(|a| a.create_groups_accumulator())
        .collect::<Result<_>>()?;
    let mut indices = Vec::new();
    let mut batch = Some((first, values));
    loop {
        let (b, values) = match batch.take() {
            Some(next) => next,
            None => match input.next().await {
                Some(b) => {
                    let b = b?;
                    let values = values_of(&b);
                    (b, values)
                }
                None => break,
            },
        };
        groups.assign(values.as_string_view(), key.chars, &mut indices);
        for (acc, args) in accumulators.iter_mut().zip(&arguments) {
            let values = args
                .iter()
                .map(|e| e.evaluate(&b)?.into_array(b.num_rows()))
                .collect::<Result<Vec<ArrayRef>>>()?;
            acc.update_batch(&values, &indices, None, groups.len())?;
        }
        let size = groups.size() + accumulators.iter().map(|a| a.size()).sum::<usize>();
        reservation.try_resize(size)?;
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(groups.values())];
    for acc in &mut accumulators {
        columns.extend(acc.state(EmitTo::All)?);
    }
    let batch = RecordBatch::try_new(agg.schema(), columns)?;
    drop(reservation);
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        agg.schema(),
        futures::stream::iter([Ok(batch)]),
    )))
}

/// Where a row's value differs from the one before, counted over one batch.
fn runs(values: &StringViewArray) -> usize {
    let views = values.views();
    1 + views.windows(2).filter(|w| w[0] != w[1]).count()
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

/// The groups seen so far, in order of first appearance.
#[derive(Default)]
struct RunGroups {
    /// Each group's key (`None`: the NULL group).
    keys: Vec<Option<Box<str>>>,
    index: HashMap<Box<str>, usize>,
    null: Option<usize>,
    /// The group of the last row of the previous batch.
    last: Option<usize>,
    bytes: usize,
}

impl RunGroups {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn size(&self) -> usize {
        self.bytes
            + self.keys.capacity() * std::mem::size_of::<Option<Box<str>>>()
            + self.index.capacity() * (std::mem::size_of::<(Box<str>, usize)>() + 1)
    }

    /// Sets `indices` to the group of each row of `values`, keyed by the
    /// value's first `chars` characters (`None`: all of it), creating groups
    /// for keys not seen before. A row whose value equals the previous row's
    /// takes its group without cutting or looking anything up.
    fn assign(&mut self, values: &StringViewArray, chars: Option<usize>, indices: &mut Vec<usize>) {
        indices.clear();
        indices.reserve(values.len());
        let views = values.views();
        let mut prev = self.last;
        for i in 0..values.len() {
            let group = if values.is_null(i) {
                self.null_group()
            } else {
                match prev {
                    // Equal views are equal strings; for longer strings (or
                    // the same prefix of another value) the bytes decide.
                    Some(g) if i > 0 && !values.is_null(i - 1) && views[i] == views[i - 1] => g,
                    _ => {
                        let key = cut(values.value(i), chars);
                        match prev {
                            Some(g) if self.keys[g].as_deref() == Some(key) => g,
                            _ => self.group_of(key),
                        }
                    }
                }
            };
            indices.push(group);
            prev = Some(group);
        }
        self.last = prev;
    }

    fn null_group(&mut self) -> usize {
        *self.null.get_or_insert_with(|| {
            self.keys.push(None);
            self.keys.len() - 1
        })
    }

    fn group_of(&mut self, key: &str) -> usize {
        if let Some(&g) = self.index.get(key) {
            return g;
        }
        let g = self.keys.len();
        self.keys.push(Some(key.into()));
        self.index.insert(key.into(), g);
        self.bytes += 2 * key.len();
        g
    }

    /// The group keys, in group order.
    fn values(&self) -> StringViewArray {
        StringViewArray::from_iter(self.keys.iter().map(|k| k.as_deref()))
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
    use super::RunGroups;
    use datafusion::arrow::array::StringViewArray;

    fn assign(groups: &mut RunGroups, keys: &[Option<&str>]) -> Vec<usize> {
        assign_cut(groups, keys, None)
    }

    fn assign_cut(
        groups: &mut RunGroups,
        keys: &[Option<&str>],
        chars: Option<usize>,
    ) -> Vec<usize> {
        let mut indices = Vec::new();
        groups.assign(
            &StringViewArray::from_iter(keys.iter().copied()),
            chars,
            &mut indices,
        );
        indices
    }

    fn keys(groups: &RunGroups) -> Vec<Option<String>> {
        groups
            .values()
            .iter()
            .map(|k| k.map(str::to_string))
            .collect()
    }

    #[test]
    fn prefixes_group_values_that_share_their_first_characters() {
        let mut g = RunGroups::default();
        // A value shorter than the prefix is its own key; a longer one that
        // starts with it is not in its group.
        assert_eq!(
            assign_cut(
                &mut g,
                &[
                    Some("370602001001001"),
                    Some("370602001001002"),
                    Some("3706"),
                    Some("370611001001001"),
                    None,
                    Some("370602999"),
                ],
                Some(6),
            ),
            [0, 0, 1, 2, 3, 0]
        );
        // Characters, not bytes: 芝罘区 is three characters of nine bytes.
        assert_eq!(
            assign_cut(
                &mut g,
                &[Some("370611"), Some("芝罘区第一街道"), Some("芝罘区")],
                Some(6)
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
        let mut g = RunGroups::default();
        assert_eq!(
            assign_cut(&mut g, &[Some("芝罘区第一街道"), Some("芝罘区")], Some(3)),
            [0, 0]
        );
        assert_eq!(keys(&g), [Some("芝罘区".into())]);
    }

    #[test]
    fn runs_nulls_and_long_keys_across_batches() {
        let long_a = "370602001001001";
        let long_b = "370602001001002";
        let mut g = RunGroups::default();
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
        let keys: Vec<Option<String>> = g.values().iter().map(|k| k.map(str::to_string)).collect();
        assert_eq!(
            keys,
            [
                Some("a".into()),
                None,
                Some(long_a.into()),
                Some(long_b.into())
            ]
        );
    }
}
