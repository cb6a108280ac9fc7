//! Joins hand control back to the scheduler every so often.
//!
//! A query stops (cancel, statement timeout, a client gone) when its tasks
//! are dropped, and a tokio task only notices that when it yields. DataFusion
//! yields at its scans and exchanges, which is enough while every batch comes
//! from them. A join does not: a cross join or a nested-loop join emits many
//! batches from rows it already holds, one per build row, and a hash join on a
//! common key many per probe batch, so an aggregate above it can run for
//! minutes inside one poll. That query cannot be stopped and holds a query
//! thread, and a two-core server has two.
//!
//! This physical optimizer rule puts a [`CooperativeExec`] on every join's
//! output: each batch spends a unit of the task's tokio budget, and an
//! exhausted budget yields. It changes no result, ordering or partitioning.
//!
//! Yielding between output batches is not enough for a nested-loop join
//! whose filter is costly and rarely true (a cross join on a string
//! similarity): it evaluates the filter over build × probe rows, chunk by
//! chunk, without emitting, so one poll can last as long as the whole join,
//! and a query stopped after one second kept a core busy for its natural
//! length. So the rule also wraps such a join's filter in a [`StopCheck`]:
//! before each chunk it looks at the plan's stop switch, which the query
//! runtime raises when the query's stream is dropped ([`stop_switches`]);
//! a raised switch fails the chunk and the join ends there.

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::joins::utils::JoinFilter;
use datafusion::physical_plan::joins::NestedLoopJoinExecBuilder;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec, SymmetricHashJoinExec,
};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Wraps every join's output in a [`CooperativeExec`].
#[derive(Debug)]
pub(crate) struct YieldingJoins;

fn is_join(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<CrossJoinExec>().is_some()
        || plan.downcast_ref::<NestedLoopJoinExec>().is_some()
        || plan.downcast_ref::<HashJoinExec>().is_some()
        || plan.downcast_ref::<SortMergeJoinExec>().is_some()
        || plan.downcast_ref::<SymmetricHashJoinExec>().is_some()
}

impl PhysicalOptimizerRule for YieldingJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // One switch for the whole plan, shared by its joins' filters.
        let stop = Arc::new(AtomicBool::new(false));
        plan.transform_up(|node| {
            let node = match stoppable(&node, &stop)? {
                Some(stoppable) => stoppable,
                None => node,
            };
            if is_join(&node) {
                Ok(Transformed::yes(
                    Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>
                ))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "zhenjie_yielding_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `node` with its filter wrapped in a [`StopCheck`], if it is a
/// nested-loop join with a filter.
fn stoppable(
    node: &Arc<dyn ExecutionPlan>,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(join) = node.downcast_ref::<NestedLoopJoinExec>() else {
        return Ok(None);
    };
    let Some(filter) = join.filter() else {
        return Ok(None);
    };
    if filter.expression().downcast_ref::<StopCheck>().is_some() {
        return Ok(None);
    }
    let checked = JoinFilter::new(
        Arc::new(StopCheck {
            inner: filter.expression().clone(),
            stop: stop.clone(),
        }),
        filter.column_indices().to_vec(),
        filter.schema().clone(),
    );
    let rebuilt = NestedLoopJoinExecBuilder::new(
        join.left().clone(),
        join.right().clone(),
        *join.join_type(),
    )
    .with_projection_ref(join.projection().clone())
    .with_filter(Some(checked))
    .build()?;
    Ok(Some(Arc::new(rebuilt)))
}

/// The stop switches in `plan`'s join filters: the query runtime lowers
/// them when a run starts and raises them when its stream is dropped.
pub(crate) fn stop_switches(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<AtomicBool>> {
    let mut switches: Vec<Arc<AtomicBool>> = Vec::new();
    let _ = plan.apply(|node| {
        if let Some(check) = node
            .downcast_ref::<NestedLoopJoinExec>()
            .and_then(|j| j.filter())
            .and_then(|f| f.expression().downcast_ref::<StopCheck>())
        {
            if !switches.iter().any(|s| Arc::ptr_eq(s, &check.stop)) {
                switches.push(check.stop.clone());
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    switches
}

/// A join filter that fails once its query was stopped, so a join that
/// spends long polls evaluating it ends at its next chunk. It prints as the
/// filter it wraps.
#[derive(Debug)]
pub(crate) struct StopCheck {
    inner: Arc<dyn PhysicalExpr>,
    stop: Arc<AtomicBool>,
}

impl PartialEq for StopCheck {
    fn eq(&self, other: &Self) -> bool {
        self.inner.eq(&other.inner) && Arc::ptr_eq(&self.stop, &other.stop)
    }
}

impl Eq for StopCheck {}

impl std::hash::Hash for StopCheck {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl std::fmt::Display for StopCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl PhysicalExpr for StopCheck {
    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.inner.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.inner.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(DataFusionError::Execution("the query was stopped".into()));
        }
        self.inner.evaluate(batch)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(StopCheck {
            inner: children[0].clone(),
            stop: self.stop.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt_sql(f)
    }
}
