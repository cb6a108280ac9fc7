//! The catalog's views, planned in each principal's own context.

use super::functions::constant_udf;
use crate::error::sqlstate;
use crate::{Engine, EngineError, Principal, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// Registers the catalog's views this principal may see. A view is planned
/// in the principal's own context, over their governed tables, so it carries
/// their fence and masks; one that reads a table they cannot see does not
/// plan and is left out (the engine checked at open that every view plans
/// over the full catalog).
pub(super) async fn register_views(ctx: &SessionContext, engine: &Engine, principal: &Principal) {
    for view in engine.views() {
        if !view.levels.is_empty() && !view.levels.contains(&principal.level) {
            continue;
        }
        if let Ok(plan) = ctx.state().create_logical_plan(&view.sql).await {
            let table = datafusion::datasource::ViewTable::new(plan, Some(view.sql.clone()));
            let _ = ctx.register_table(view.name.as_str(), Arc::new(table));
        }
    }
}

/// Plans every catalog view over the raw datasets, so a view that cannot
/// work for anyone stops the engine from opening, naming the view.
pub(crate) async fn check_views(engine: &Engine) -> Result<()> {
    let catalog = engine.catalog();
    if catalog.file.views.is_empty() {
        return Ok(());
    }
    // The raw datasets and domain functions, as rules are checked.
    let ctx = crate::scenarios::raw_context(engine)?;
    if let Some(platform) = Principal::platform(catalog) {
        ctx.register_udtf(
            crate::snapshots::AS_OF,
            Arc::new(crate::snapshots::AsOf::new(engine.clone(), platform)),
        );
    }
    for udf in ["current_area", "current_area_name", "current_level"] {
        ctx.register_udf(constant_udf(udf, String::new()));
    }
    for view in &catalog.file.views {
        let bad = |e: &dyn std::fmt::Display| {
            EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("view {}: {e}", view.name),
            )
        };
        let plan = ctx
            .state()
            .create_logical_plan(&view.sql)
            .await
            .map_err(|e| bad(&e))?;
        if !matches!(
            plan,
            LogicalPlan::Projection(_)
                | LogicalPlan::Aggregate(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Limit(_)
                | LogicalPlan::Union(_)
                | LogicalPlan::Distinct(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::Window(_)
        ) {
            return Err(bad(&"sql must be one SELECT query"));
        }
        for column in view.columns.keys() {
            if plan.schema().field_with_unqualified_name(column).is_err() {
                return Err(bad(&format!(
                    "a comment names column {column}, which the view does not have"
                )));
            }
        }
    }
    Ok(())
}

/// Plans every report template as the platform (city level, in a session
/// with every view and table function), so a template that cannot work — or
/// whose columns are not those it labels — stops the engine from opening,
/// naming the template. Also refuses an engine view that would take the name
/// of a dataset or a catalog view.
pub(crate) async fn check_reports(engine: &Engine) -> Result<()> {
    let catalog = engine.catalog();
    let mut names: std::collections::HashSet<&str> = catalog
        .file
        .datasets
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    for v in engine.views() {
        if !names.insert(v.name.as_str()) {
            return Err(EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("view {} is defined twice (a report or rule view takes the name of a dataset or view)", v.name),
            ));
        }
    }
    if catalog.file.reports.is_empty() {
        return Ok(());
    }
    let Some(platform) = Principal::platform(catalog) else {
        return Ok(());
    };
    let session = super::Session::new(engine.clone(), platform).await?;
    for report in &catalog.file.reports {
        let bad = |e: &dyn std::fmt::Display| {
            EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("report {}: {e}", report.name),
            )
        };
        let plan = session
            .ctx
            .state()
            .create_logical_plan(&report.sql)
            .await
            .map_err(|e| bad(&e))?;
        let returned: Vec<&str> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let labelled: Vec<&str> = report.columns.iter().map(|c| c.name.as_str()).collect();
        if returned != labelled {
            return Err(bad(&format!(
                "the query returns columns {returned:?} but the template labels {labelled:?}"
            )));
        }
        if let Some(area) = &report.area_column {
            if !labelled.contains(&area.as_str()) {
                return Err(bad(&format!(
                    "area_column {area} is not one of its columns"
                )));
            }
        }
    }
    Ok(())
}
