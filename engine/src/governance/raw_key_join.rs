//! Joins on keyed-hash-masked columns compare the raw values instead.
//!
//! A principal without `pii` sees identity numbers as keyed hashes (HMAC),
//! and joins two datasets on them: the masks of both sides are computed for
//! every row before the join can compare them, an HMAC per row that cost
//! five times the join itself. But equal keyed hashes are equal values (the
//! HMAC is injective for all practical purposes), so a join that only
//! *compares* the two masked columns gets the same rows by comparing the raw
//! values, and nobody sees them.
//!
//! Each governed scan's keyed-hash masks are planned as switchable ones
//! ([`SwitchableKeyedHash`], one switch per mask per scan, off = masked).
//! This physical optimizer rule, run last, turns the switches of both key
//! columns of a hash join on, only when:
//!
//! * both keys are keyed-hash masked columns, straight out of governed scans
//!   (only repartitioning in between: no user expression reads them on the
//!   way);
//! * the join neither outputs the key columns nor uses them in its
//!   non-equi filter, so raw values never leave the join.
//!
//! Anything else keeps the masks, and the plan reads as before.

use super::barrier::FenceBarrierExec;
use super::mask_switch::Switch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{JoinSide, JoinType, Result};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::ExecutionPlan;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The physical optimizer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct RawKeyJoin;

impl PhysicalOptimizerRule for RawKeyJoin {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if let Some(join) = node.downcast_ref::<HashJoinExec>() {
                compare_raw_keys(join);
            }
            Ok(Transformed::no(node))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "zhenjie_raw_key_join"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Turns on the switches of the join's key pairs that qualify.
fn compare_raw_keys(join: &HashJoinExec) {
    let left_len = join.left().schema().fields().len();
    // Where each input's columns start in the join's output, before its
    // projection (`None`: that input's columns are not in the output).
    let (left_offset, right_offset) = match join.join_type() {
        JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
            (Some(0), Some(left_len))
        }
        JoinType::LeftSemi | JoinType::LeftAnti => (Some(0), None),
        JoinType::RightSemi | JoinType::RightAnti => (None, Some(0)),
        _ => return,
    };
    // Without a projection every column of the output side(s) is emitted.
    let Some(projection) = join.projection.as_ref() else {
        return;
    };
    let emitted =
        |offset: Option<usize>, i: usize| offset.is_some_and(|o| projection.contains(&(o + i)));
    for (l, r) in join.on() {
        let (Some(l), Some(r)) = (l.downcast_ref::<Column>(), r.downcast_ref::<Column>()) else {
            continue;
        };
        let (l, r) = (l.index(), r.index());
        if emitted(left_offset, l) || emitted(right_offset, r) {
            continue;
        }
        if let Some(filter) = join.filter() {
            if filter.column_indices().iter().any(|c| {
                (c.side == JoinSide::Left && c.index == l)
                    || (c.side == JoinSide::Right && c.index == r)
            }) {
                continue;
            }
        }
        if let (Some(a), Some(b)) = (switch_of(join.left(), l), switch_of(join.right(), r)) {
            a.store(true, Ordering::Release);
            b.store(true, Ordering::Release);
        }
    }
}

/// The switch of the keyed-hash mask that produces column `i` of `plan`,
/// when it comes straight out of a governed scan.
fn switch_of(plan: &Arc<dyn ExecutionPlan>, i: usize) -> Option<Switch> {
    if let Some(barrier) = plan.downcast_ref::<FenceBarrierExec>() {
        return barrier.switch(i);
    }
    let passes_through = plan.downcast_ref::<RepartitionExec>().is_some()
        || plan.downcast_ref::<CoalescePartitionsExec>().is_some();
    match plan.children().as_slice() {
        [input] if passes_through => switch_of(input, i),
        _ => None,
    }
}
