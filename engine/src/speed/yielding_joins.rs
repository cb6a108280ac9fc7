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

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec, SymmetricHashJoinExec,
};
use datafusion::physical_plan::ExecutionPlan;
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
        plan.transform_up(|node| {
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
