//! Lets a join do the attribution it already does.
//!
//! A dataset placed through a key (say `dept_list.id_number → persons`) is
//! fenced by a semi-join against the keys of the principal's fenced
//! `persons`. When the user's own query inner-joins that dataset to the
//! principal's `persons` on the very same key, the semi-join is redundant:
//! only rows whose key is among the fenced persons' keys can come out of the
//! user's join, and those are exactly the attributed rows. Running it anyway
//! reads and hashes every person's key a second time, which doubled the cost
//! of the commonest query on such data.
//!
//! So this optimizer rule swaps the attributed scan for the same dataset
//! without its semi-join, under these conditions, each of which the fence's
//! promise depends on:
//!
//! * nothing of the user's query sits between the join and the attributed
//!   scan (no filter, no projection), so no user predicate or function sees
//!   a row outside the fence: the join's equality is the first thing that
//!   touches them, and its non-equi filter only sees matched pairs;
//! * the join keeps only matched rows of the attributed side (inner, or a
//!   semi-join keeping that side), and NULL keys match nothing;
//! * the other side is the same principal's governed target dataset, reached
//!   through filters, aliases and column pass-throughs only, so its keys are
//!   a subset of the fenced keys;
//! * equal (masked) keys mean equal raw keys: both columns are unmasked, or
//!   both carry the keyed hash (decided when the table is governed).
//!
//! It is not a way around the fence: if any condition fails, the plan keeps
//! its semi-join.

use super::GovernedTable;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, NullEquality, Result};
use datafusion::datasource::{provider_as_source, DefaultTableSource};
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan, SubqueryAlias, TableScan};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use std::sync::Arc;

/// The optimizer rule; see the module documentation.
///
/// It runs last in every optimizer pass and walks the whole plan: a scan
/// that dropped its semi-join in an earlier pass but is no longer right
/// under a join that attributes it (another rule moved something in
/// between) gets the semi-join back. So the plan that runs is always one
/// this rule has checked as a whole.
#[derive(Debug, Default)]
pub struct AttributionJoin;

impl OptimizerRule for AttributionJoin {
    fn name(&self) -> &str {
        "zhenjie_attribution_join"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        walk(plan)
    }
}

/// Which input of a join may drop its attribution.
#[derive(PartialEq)]
enum Side {
    Left,
    Right,
}

fn walk(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let plan = match plan {
        LogicalPlan::Join(join) => {
            let side = attributed_side(&join);
            let Join { left, right, .. } = &join;
            let left = match side {
                Some(Side::Left) => with_variant(left, true)?,
                _ => walk(left.as_ref().clone())?,
            };
            let right = match side {
                Some(Side::Right) => with_variant(right, true)?,
                _ => walk(right.as_ref().clone())?,
            };
            if !left.transformed && !right.transformed {
                Transformed::no(LogicalPlan::Join(join))
            } else {
                Transformed::yes(LogicalPlan::Join(Join {
                    left: Arc::new(left.data),
                    right: Arc::new(right.data),
                    ..join
                }))
            }
        }
        // Anywhere else, a scan keeps (or gets back) its semi-join.
        LogicalPlan::TableScan(_) => with_variant(&plan, false)?,
        other => other.map_children(walk)?,
    };
    plan.transform_data(|p| p.map_subqueries(walk))
}

/// The input of `join` whose attribution the join itself does, if any.
fn attributed_side(join: &Join) -> Option<Side> {
    if join.null_equality != NullEquality::NullEqualsNothing || join.null_aware {
        return None;
    }
    // Only a side whose unmatched rows the join drops.
    let (left_ok, right_ok) = match join.join_type {
        JoinType::Inner => (true, true),
        JoinType::LeftSemi => (true, false),
        JoinType::RightSemi => (false, true),
        _ => (false, false),
    };
    join.on.iter().find_map(|(l, r)| {
        let (Expr::Column(lc), Expr::Column(rc)) = (l, r) else {
            return None;
        };
        if left_ok && attributes(&join.left, lc, &join.right, rc) {
            Some(Side::Left)
        } else if right_ok && attributes(&join.right, rc, &join.left, lc) {
            Some(Side::Right)
        } else {
            None
        }
    })
}

/// Whether `side.key = other.other_key` attributes `side`'s rows: `side` is
/// an attributed scan (under aliases only) keyed by `key`, and `other_key`
/// is the target column of the principal's governed target dataset.
fn attributes(side: &LogicalPlan, key: &Column, other: &LogicalPlan, other_key: &Column) -> bool {
    let Some((scan, column)) = scan_of(side, key, false) else {
        return false;
    };
    let Some((attribution, _)) = governed(scan).and_then(|t| t.attribution()) else {
        return false;
    };
    if attribution.column != column || !scan.filters.is_empty() || scan.fetch.is_some() {
        return false;
    }
    let Some((target_scan, target_column)) = scan_of(other, other_key, true) else {
        return false;
    };
    matches!(governed(target_scan), Some(target)
        if target.dataset() == attribution.target && target_column == attribution.target_column)
}

/// The governed table behind a scan, if it is one.
fn governed(scan: &TableScan) -> Option<&GovernedTable> {
    let source = scan.source.as_ref().downcast_ref::<DefaultTableSource>()?;
    let provider: &dyn TableProvider = source.table_provider.as_ref();
    provider.downcast_ref::<GovernedTable>()
}

/// The table scan `column` of `plan` comes from unchanged, with the column's
/// name in the table. Aliases are looked through; filters and projections
/// that pass the column through only when `through_user_nodes`.
fn scan_of<'a>(
    plan: &'a LogicalPlan,
    column: &Column,
    through_user_nodes: bool,
) -> Option<(&'a TableScan, String)> {
    let index = plan.schema().index_of_column(column).ok()?;
    let through = |node: &LogicalPlan| {
        through_user_nodes && matches!(node, LogicalPlan::Filter(_) | LogicalPlan::Projection(_))
    };
    let (scan, source) = super::lineage::source_column(plan, index, &through)?;
    Some((scan, scan.source.schema().field(source).name().clone()))
}

/// `plan` (aliases over one table scan) with its scan, if attributed through
/// a key, reading the variant with or without the semi-join.
fn with_variant(plan: &LogicalPlan, dropped: bool) -> Result<Transformed<LogicalPlan>> {
    Ok(match plan {
        LogicalPlan::TableScan(scan) => match governed(scan).and_then(|t| {
            let (_, is_dropped) = t.attribution()?;
            (is_dropped != dropped)
                .then(|| t.variant(dropped))
                .flatten()
        }) {
            Some(table) => Transformed::yes(LogicalPlan::TableScan(TableScan {
                source: provider_as_source(table),
                ..scan.clone()
            })),
            None => Transformed::no(plan.clone()),
        },
        LogicalPlan::SubqueryAlias(alias) => {
            with_variant(&alias.input, dropped)?.map_data(|input| {
                Ok(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
                    Arc::new(input),
                    alias.alias.clone(),
                )?))
            })?
        }
        other => Transformed::no(other.clone()),
    })
}
