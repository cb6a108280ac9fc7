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

use crate::governance::GovernedTable;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan, SubqueryAlias, TableScan};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use std::sync::Arc;

/// The optimizer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct AttributionJoin;

impl OptimizerRule for AttributionJoin {
    fn name(&self) -> &str {
        "zhenjie_attribution_join"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Join(join) = plan else {
            return Ok(Transformed::no(plan));
        };
        if join.null_equality != NullEquality::NullEqualsNothing || join.null_aware {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        // Which sides may be the attributed one: those whose unmatched rows
        // the join drops.
        let (left_ok, right_ok) = match join.join_type {
            JoinType::Inner => (true, true),
            JoinType::LeftSemi => (true, false),
            JoinType::RightSemi => (false, true),
            _ => (false, false),
        };
        for (l, r) in &join.on {
            let (Expr::Column(lc), Expr::Column(rc)) = (l, r) else {
                continue;
            };
            if left_ok {
                if let Some(left) = unattributed(&join.left, lc, &join.right, rc)? {
                    let join = Join {
                        left: Arc::new(left),
                        ..join
                    };
                    return Ok(Transformed::yes(LogicalPlan::Join(join)));
                }
            }
            if right_ok {
                if let Some(right) = unattributed(&join.right, rc, &join.left, lc)? {
                    let join = Join {
                        right: Arc::new(right),
                        ..join
                    };
                    return Ok(Transformed::yes(LogicalPlan::Join(join)));
                }
            }
        }
        Ok(Transformed::no(LogicalPlan::Join(join)))
    }
}

/// `side` with its attributed scan replaced by the unattributed one, when
/// `side.key = other.other_key` makes the attribution redundant.
fn unattributed(
    side: &LogicalPlan,
    key: &Column,
    other: &LogicalPlan,
    other_key: &Column,
) -> Result<Option<LogicalPlan>> {
    let Some((scan, column)) = scan_of(side, key, false) else {
        return Ok(None);
    };
    let Some(table) = governed(scan) else {
        return Ok(None);
    };
    let Some(attribution) = table.attribution() else {
        return Ok(None);
    };
    if attribution.column != column || !scan.filters.is_empty() || scan.fetch.is_some() {
        return Ok(None);
    }
    let Some((target_scan, target_column)) = scan_of(other, other_key, true) else {
        return Ok(None);
    };
    match governed(target_scan) {
        Some(target)
            if target.dataset() == attribution.target
                && target_column == attribution.target_column => {}
        _ => return Ok(None),
    }
    let source = provider_as_source(attribution.unattributed.clone());
    replace_scan(side, &source).map(Some)
}

/// The governed table behind a scan, if it is one.
fn governed(scan: &TableScan) -> Option<&GovernedTable> {
    // `source_as_provider` clones the Arc; look through the source instead so
    // the reference lives as long as the plan.
    let source = scan
        .source
        .as_ref()
        .downcast_ref::<datafusion::catalog::default_table_source::DefaultTableSource>()?;
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
    match plan {
        LogicalPlan::TableScan(scan) => {
            let source_index = match &scan.projection {
                Some(p) => *p.get(index)?,
                None => index,
            };
            let source = source_as_provider(&scan.source).ok()?;
            Some((scan, source.schema().field(source_index).name().clone()))
        }
        LogicalPlan::SubqueryAlias(alias) => {
            let inner = Column::from(alias.input.schema().qualified_field(index));
            scan_of(&alias.input, &inner, through_user_nodes)
        }
        LogicalPlan::Filter(filter) if through_user_nodes => {
            scan_of(&filter.input, column, through_user_nodes)
        }
        LogicalPlan::Projection(projection) if through_user_nodes => {
            match projection.expr.get(index)?.clone().unalias() {
                Expr::Column(inner) => scan_of(&projection.input, &inner, through_user_nodes),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `plan` (aliases over one table scan) with the scan reading `source`.
fn replace_scan(
    plan: &LogicalPlan,
    source: &Arc<dyn datafusion::logical_expr::TableSource>,
) -> Result<LogicalPlan> {
    Ok(match plan {
        LogicalPlan::TableScan(scan) => LogicalPlan::TableScan(TableScan {
            source: source.clone(),
            ..scan.clone()
        }),
        LogicalPlan::SubqueryAlias(alias) => LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::new(replace_scan(&alias.input, source)?),
            alias.alias.clone(),
        )?),
        other => other.clone(),
    })
}
