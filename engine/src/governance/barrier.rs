//! The fence barrier: the top of every governed scan's physical plan.
//!
//! DataFusion pushes filters, dynamic filters, projections and limits down
//! through plan nodes that allow it, and answers `count(*)`, `min` and `max`
//! from file statistics. The barrier allows none of that: nothing of the
//! user's query is evaluated below it (so a user predicate or function never
//! sees a row outside the fence, nor an unmasked value), and it reports no
//! exact statistics (so an aggregate cannot be read off the files' metadata).
//! It does pass on an inexact estimate of how many rows and bytes come out,
//! without any column's values, so the planner can still put the smaller side
//! of a join on its build side. The one exception: where the governed scan
//! reads the files unchanged (no fence left to apply, no filter, no join,
//! every column unmasked, as for a city-level user with `pii`), the files'
//! statistics tell nothing a `SELECT` would not, and pass through exactly,
//! so `count(*)`, `min` and `max` are answered from them as for any table.
//!
//! The pushdown refusals are the defaults of `ExecutionPlan`; this node
//! relies on them on purpose and the governance tests hold it to them.
//!
//! One kind of filter does pass: the dynamic filters a join or a top-N
//! builds at run time (the join keys seen, the current N-th value), over
//! columns the principal reads unmasked. They are comparisons with values
//! and cannot fail or call anything (they are leakproof, see `leakproof`);
//! below the barrier they only let the scan skip row groups and rows, beside
//! the fence, and the join or sort above still decides every row.

use super::mask_switch::Switch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Statistics;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::filter_pushdown::{
    ChildFilterDescription, ChildPushdownResult, FilterDescription, FilterPushdownPhase,
    FilterPushdownPropagation,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use std::fmt;
use std::sync::Arc;

/// Passes its input through unchanged while blocking pushdown and statistics.
#[derive(Debug)]
pub struct FenceBarrierExec {
    input: Arc<dyn ExecutionPlan>,
    dataset: String,
    properties: Arc<PlanProperties>,
    /// Output columns that are keyed-hash masks, with their switches (see
    /// `raw_key_join`).
    switches: Vec<(usize, Switch)>,
    /// Output columns the principal reads unmasked: the only ones a dynamic
    /// filter may reach below the barrier through.
    raw: Vec<usize>,
}

impl FenceBarrierExec {
    /// Puts a barrier on top of a governed scan of `dataset`.
    pub fn new(dataset: &str, input: Arc<dyn ExecutionPlan>) -> Self {
        FenceBarrierExec {
            properties: input.properties().clone(),
            dataset: dataset.to_string(),
            input,
            switches: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// The same barrier, letting dynamic filters over these (unmasked)
    /// output columns through.
    pub fn with_raw_columns(mut self, raw: Vec<usize>) -> Self {
        self.raw = raw;
        self
    }

    /// The same barrier, knowing which of its output columns are switchable
    /// keyed-hash masks.
    pub fn with_switches(mut self, switches: Vec<(usize, Switch)>) -> Self {
        self.switches = switches;
        self
    }

    /// The governed dataset it tops.
    #[cfg(feature = "cluster")]
    pub(crate) fn dataset(&self) -> &str {
        &self.dataset
    }

    /// The output columns the principal reads unmasked.
    #[cfg(feature = "cluster")]
    pub(crate) fn raw_columns(&self) -> &[usize] {
        &self.raw
    }

    /// The switch of output column `i`, if it is a keyed-hash mask.
    pub(crate) fn switch(&self, i: usize) -> Option<Switch> {
        self.switches
            .iter()
            .find(|(c, _)| *c == i)
            .map(|(_, s)| s.clone())
    }
}

impl DisplayAs for FenceBarrierExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "FenceBarrierExec: dataset={}", self.dataset)?;
        // Keyed-hash masks a join compares unmasked (see `raw_key_join`).
        let raw: Vec<String> = self
            .switches
            .iter()
            .filter(|(_, s)| s.load(std::sync::atomic::Ordering::Acquire))
            .map(|(i, _)| self.input.schema().field(*i).name().clone())
            .collect();
        if !raw.is_empty() {
            write!(f, ", join compares raw keys=[{}]", raw.join(", "))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for FenceBarrierExec {
    fn name(&self) -> &str {
        "FenceBarrierExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    /// The barrier only passes batches on: splitting its input into more
    /// partitions gains nothing here (the nodes that compute, under or over
    /// it, ask for that themselves), and a join collecting this side would
    /// merge them straight back.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    /// Sizes only, and never exact: an exact count would let `count(*)` be
    /// answered from the files, and column statistics would carry values
    /// (min, max) of rows outside the fence or of masked columns. Unless the
    /// scan reads the files unchanged and shows every column as it is.
    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let shown_as_stored = self.switches.is_empty()
            && self.raw.len() == self.schema().fields().len()
            && reads_files_only(&self.input);
        if let (true, Some(input)) = (shown_as_stored, input_stats.first()) {
            return Ok(Arc::clone(input));
        }
        let mut stats = Statistics::new_unknown(&self.schema());
        if let Some(input) = input_stats.first() {
            stats.num_rows = input.num_rows.to_inexact();
            stats.total_byte_size = input.total_byte_size.to_inexact();
        }
        Ok(Arc::new(stats))
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children.pop().ok_or_else(|| {
            datafusion::error::DataFusionError::Internal("FenceBarrierExec needs its input".into())
        })?;
        Ok(Arc::new(
            FenceBarrierExec::new(&self.dataset, input)
                .with_switches(self.switches.clone())
                .with_raw_columns(self.raw.clone()),
        ))
    }

    /// Only dynamic filters (run-time bounds of a join or a top-N), and
    /// comparisons with a value known before the scan (an uncorrelated
    /// scalar subquery's, which the logical plan cannot hand the governed
    /// table), and only over unmasked columns, go below; other filters never
    /// do (the leakproof ones already went in through the governed table).
    fn gather_filters_for_pushdown(
        &self,
        phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterDescription> {
        let dynamic =
            |f: &Arc<dyn PhysicalExpr>| f.downcast_ref::<DynamicFilterPhysicalExpr>().is_some();
        let schema = self.input.schema();
        let passes = match phase {
            FilterPushdownPhase::Post => parent_filters.iter().all(dynamic),
            FilterPushdownPhase::Pre => parent_filters
                .iter()
                .all(|f| compares_with_a_value(f, &self.raw, &schema)),
        };
        if !passes {
            return Ok(FilterDescription::all_unsupported(
                &parent_filters,
                &self.children(),
            ));
        }
        let child = ChildFilterDescription::from_child_with_allowed_indices(
            &parent_filters,
            self.raw.iter().copied().collect(),
            &self.input,
        )?;
        Ok(FilterDescription::new().with_child(child))
    }

    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        Ok(FilterPushdownPropagation::if_all(child_pushdown_result))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}

/// Whether `e` compares unmasked columns only with values (a constant, an
/// uncorrelated scalar subquery's result, another unmasked column of the
/// same type), joined by AND/OR: nothing that could fail on a row, or call
/// anything, runs below the barrier (see `leakproof`).
fn compares_with_a_value(
    e: &Arc<dyn PhysicalExpr>,
    raw: &[usize],
    schema: &datafusion::arrow::datatypes::Schema,
) -> bool {
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{BinaryExpr, Column, Literal};
    use datafusion::physical_expr::scalar_subquery::ScalarSubqueryExpr;
    let Some(b) = e.downcast_ref::<BinaryExpr>() else {
        return false;
    };
    let value = |v: &Arc<dyn PhysicalExpr>| {
        v.downcast_ref::<Literal>().is_some()
            || v.downcast_ref::<ScalarSubqueryExpr>().is_some()
            || v.downcast_ref::<Column>()
                .is_some_and(|c| raw.contains(&c.index()))
    };
    let column = |v: &Arc<dyn PhysicalExpr>| {
        v.downcast_ref::<Column>()
            .is_some_and(|c| raw.contains(&c.index()))
    };
    match b.op() {
        Operator::And | Operator::Or => {
            compares_with_a_value(b.left(), raw, schema)
                && compares_with_a_value(b.right(), raw, schema)
        }
        op if super::leakproof::is_comparison(op) => {
            (column(b.left()) || column(b.right()))
                && value(b.left())
                && value(b.right())
                && matches!(
                    (b.left().data_type(schema), b.right().data_type(schema)),
                    (Ok(l), Ok(r)) if l == r
                )
        }
        _ => false,
    }
}

/// Whether `plan` returns the files' rows and columns as stored: a file scan
/// with no predicate (pushed into it or above it), under nothing but
/// projections of plain columns; no fence, join or computed column.
fn reads_files_only(plan: &Arc<dyn ExecutionPlan>) -> bool {
    use datafusion::datasource::physical_plan::FileScanConfig;
    use datafusion::datasource::source::DataSourceExec;
    use datafusion::physical_expr::expressions::Column;
    use datafusion::physical_plan::coop::CooperativeExec;
    use datafusion::physical_plan::projection::ProjectionExec;
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>() {
        return scan
            .data_source()
            .downcast_ref::<FileScanConfig>()
            .is_some_and(|files| files.file_source().filter().is_none());
    }
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        return projection
            .expr()
            .iter()
            .all(|e| e.expr.downcast_ref::<Column>().is_some())
            && reads_files_only(projection.input());
    }
    if plan.downcast_ref::<CooperativeExec>().is_some() {
        return plan.children().first().is_some_and(|c| reads_files_only(c));
    }
    false
}
