//! The one seam where governance happens: what each dataset becomes for one
//! principal. A dataset is either invisible to them, or registered in their
//! session as a [`GovernedTable`] whose every scan is the dataset filtered to
//! their work fence.
//!
//! The fence is planned separately from the user's query: user predicates are
//! never pushed into the governed scan (`supports_filters_pushdown` answers
//! `Unsupported`), so they are evaluated only on rows that passed the fence.

use crate::{Engine, EngineError, Principal, Result};
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session as CatalogSession, TableProvider};
use datafusion::common::Column;
use datafusion::datasource::provider_as_source;
use datafusion::datasource::TableType;
use datafusion::logical_expr::{
    col, lit, Expr, JoinType, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown,
};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;
use zhenjie_catalog::{Dataset, Level, Placement};

/// What a principal gets for one dataset: `None` when they may not see it at all.
pub fn govern(
    engine: &Engine,
    dataset: &Dataset,
    principal: &Principal,
) -> Result<Option<Arc<dyn TableProvider>>> {
    let base = engine
        .table(&dataset.name)
        .ok_or_else(|| EngineError::new("XX000", format!("dataset {} is not open", dataset.name)))?
        .clone();
    let plan = match &dataset.placement {
        Some(Placement::Public) => return Ok(Some(base)),
        // Fail closed: without a declared placement only the city level sees it.
        None if principal.level == Level::City => return Ok(Some(base)),
        None => return Ok(None),
        Some(Placement::Column { column }) => {
            let scan =
                LogicalPlanBuilder::scan(&dataset.name, provider_as_source(base.clone()), None)?;
            scan.filter(fence_predicate(engine, principal, column))?
                .build()?
        }
        Some(Placement::Key {
            column,
            dataset: target,
            dataset_column,
        }) => {
            let target_ds = engine.catalog().dataset(target).ok_or_else(|| {
                EngineError::new(
                    "XX000",
                    format!("placement target {target} is not in the catalog"),
                )
            })?;
            let Some(Placement::Column { column: area_col }) = &target_ds.placement else {
                // A key into data that is not itself placed by area cannot be fenced.
                return if principal.level == Level::City {
                    Ok(Some(base))
                } else {
                    Ok(None)
                };
            };
            let target_base = engine.table(target).expect("validated at open").clone();
            let keys =
                LogicalPlanBuilder::scan("__fence_keys", provider_as_source(target_base), None)?
                    .filter(fence_predicate(engine, principal, area_col))?
                    .project(vec![col(Column::new(Some("__fence_keys"), dataset_column))])?
                    .build()?;
            LogicalPlanBuilder::scan(&dataset.name, provider_as_source(base.clone()), None)?
                .join(
                    keys,
                    JoinType::LeftSemi,
                    (
                        vec![Column::new(Some(dataset.name.as_str()), column)],
                        vec![Column::new(Some("__fence_keys"), dataset_column)],
                    ),
                    None,
                )?
                .build()?
        }
    };
    Ok(Some(Arc::new(GovernedTable {
        schema: base.schema(),
        plan,
    })))
}

/// The rows of `column` inside the principal's area, today's codes and the
/// retired codes that became part of it alike. Area codes compare as strings,
/// so the fence is a range Parquet statistics can prune row groups with.
fn fence_predicate(engine: &Engine, principal: &Principal, column: &str) -> Expr {
    let prefix = principal.area.prefix().to_string();
    let mut prefixes = vec![prefix.clone()];
    for l in &engine.catalog().file.area_lineage {
        if prefix.starts_with(&l.new) {
            prefixes.push(format!("{}{}", l.old, &prefix[l.new.len()..]));
        } else if l.new.starts_with(&prefix) && !l.old.starts_with(&prefix) {
            prefixes.push(l.old.clone());
        }
    }
    prefixes
        .into_iter()
        .map(|p| {
            let upper = prefix_upper_bound(&p);
            let c = col(Column::new_unqualified(column));
            match upper {
                Some(u) => c.clone().gt_eq(lit(p)).and(c.lt(lit(u))),
                None => c.gt_eq(lit(p)),
            }
        })
        .reduce(Expr::or)
        .expect("at least the principal's own prefix")
}

/// The smallest string greater than every string starting with `p` (for ASCII
/// digit prefixes: the last digit incremented, carrying over '9').
fn prefix_upper_bound(p: &str) -> Option<String> {
    let mut bytes = p.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return Some(String::from_utf8(bytes).expect("ASCII"));
        }
    }
    None
}

/// A dataset as one principal sees it. Its scan is planned on its own, so no
/// predicate of the user's query is evaluated on rows outside the fence.
#[derive(Debug)]
pub struct GovernedTable {
    schema: SchemaRef,
    plan: LogicalPlan,
}

#[async_trait]
impl TableProvider for GovernedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let mut plan = LogicalPlanBuilder::from(self.plan.clone());
        if let Some(projection) = projection {
            let fields: Vec<Expr> = projection
                .iter()
                .map(|&i| Expr::Column(Column::from(self.plan.schema().qualified_field(i))))
                .collect();
            plan = plan.project(fields)?;
        }
        let plan = state.optimize(&plan.build()?)?;
        state.create_physical_plan(&plan).await
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn upper_bound_of_digit_prefixes() {
        assert_eq!(prefix_upper_bound("370602").as_deref(), Some("370603"));
        assert_eq!(prefix_upper_bound("370609").as_deref(), Some("37060:"));
    }
}
