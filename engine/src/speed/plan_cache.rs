//! Prepared statements keep their plan.
//!
//! BI tools and drivers prepare the statements they run again (psycopg and
//! pgjdbc do it on a statement's fifth run; dashboards refresh the same
//! queries). PostgreSQL keeps a prepared statement's plan; so does zhenjie.
//! For a short aggregate, planning (DataFusion's analyzer, optimizer and
//! physical planner, and governance's nested plan of every scan) costs about
//! as much as running it.
//!
//! A kept plan is the physical plan a fresh run would build, and it is reused
//! only while that is still so:
//! * it belongs to one prepared statement of one session, so one principal:
//!   the fence and masks in it are theirs;
//! * the run binds the same parameter values;
//! * the session's settings have not changed since (any SET or RESET);
//! * every file of every dataset it reads, and of the datasets their fences
//!   are read through, is listed again before each reuse and must be the same
//!   (path, size, modification time, e-tag). Everything a plan took from
//!   the data (the file list, the statistics a fence proof reads) comes from
//!   those files; a replaced or added file means a new plan. The listing is
//!   taken before the plan is built, so a file changed while planning is
//!   seen as changed next time.
//!
//! Plans that could not be run again as they are are not kept: ones calling
//! a function that is not immutable (`now()` is folded into the plan as a
//! constant), reading anything but catalog datasets (`pg_catalog` and the
//! audit log change under them), and ones holding a dynamic filter (one run's
//! join or top-k passes its state to a scan). Each reuse starts from fresh
//! per-run state (DataFusion's `reset_plan_states`, the same reset recursive
//! queries use).

use crate::audit::Touched;
use crate::Engine;
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::datasource::listing::ListingTable;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use futures::TryStreamExt;
use object_store::ObjectMeta;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use zhenjie_catalog::Placement;

/// The plan one prepared statement keeps between runs; shared by its clones
/// (the portals bound to it), empty until a run stores one.
#[derive(Clone, Default)]
pub(crate) struct PlanCache(Arc<Mutex<Option<Arc<Kept>>>>);

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanCache")
    }
}

/// A kept plan and what must still hold for it to be reused.
pub(crate) struct Kept {
    /// The session's settings generation it was planned under.
    generation: u64,
    /// The parameter values it was planned with.
    params: Option<Vec<ScalarValue>>,
    /// The files it was planned over, per dataset.
    files: Files,
    /// The physical plan, as planned (reset before each run).
    plan: Arc<dyn ExecutionPlan>,
    /// What the statement reads (datasets and the optimized plan's
    /// columns), for its audit record.
    pub(crate) touched: Touched,
}

/// Every file of a set of datasets, each list sorted by path.
#[derive(PartialEq)]
pub(crate) struct Files(Vec<(String, Vec<ObjectMeta>)>);

impl PlanCache {
    /// The kept plan, ready to run, if it was planned under `generation` with
    /// these parameters over files that are still the same.
    pub(crate) async fn reuse(
        &self,
        engine: &Engine,
        state: &dyn CatalogSession,
        generation: u64,
        params: &Option<ParamValues>,
    ) -> Result<Option<(Arc<dyn ExecutionPlan>, Arc<Kept>)>> {
        let Some(kept) = self.0.lock().expect("plan cache lock").clone() else {
            return Ok(None);
        };
        let Some(params) = param_key(params) else {
            return Ok(None);
        };
        if kept.generation != generation || kept.params != params {
            return Ok(None);
        }
        let datasets = kept.files.0.iter().map(|(d, _)| d.clone()).collect();
        if Files::list(engine, state, &datasets).await? != kept.files {
            return Ok(None);
        }
        let plan = datafusion::physical_plan::execution_plan::reset_plan_states(kept.plan.clone())?;
        Ok(Some((plan, kept)))
    }

    /// Keeps `plan` for the next run, if it can be run again as it is.
    pub(crate) fn keep(
        &self,
        generation: u64,
        params: &Option<ParamValues>,
        files: Files,
        plan: &Arc<dyn ExecutionPlan>,
        touched: Touched,
    ) {
        let Some(params) = param_key(params) else {
            return;
        };
        if holds_dynamic_filter(plan) {
            return;
        }
        *self.0.lock().expect("plan cache lock") = Some(Arc::new(Kept {
            generation,
            params,
            files,
            plan: plan.clone(),
            touched,
        }));
    }
}

impl Files {
    /// Lists every file of `datasets` now.
    pub(crate) async fn list(
        engine: &Engine,
        state: &dyn CatalogSession,
        datasets: &BTreeSet<String>,
    ) -> Result<Files> {
        let mut out = Vec::with_capacity(datasets.len());
        for name in datasets {
            let table = engine
                .table(name)
                .and_then(|t| t.as_ref().downcast_ref::<ListingTable>());
            let Some(table) = table else {
                return Err(datafusion::error::DataFusionError::Internal(format!(
                    "dataset {name} is not a listing table"
                )));
            };
            let ext = &table.options().file_extension;
            let mut files = Vec::new();
            for url in table.table_paths() {
                let store = state.runtime_env().object_store(url.object_store())?;
                let listed: Vec<ObjectMeta> = url
                    .list_all_files(state, store.as_ref(), ext)
                    .await?
                    .try_collect()
                    .await?;
                files.extend(listed);
            }
            files.sort_by(|a, b| a.location.cmp(&b.location));
            out.push((name.clone(), files));
        }
        Ok(Files(out))
    }
}

/// The datasets whose files a plan of `touched` depends on, if the logical
/// plan can be kept at all: the datasets it scans and the ones their key
/// placements attribute rows through (their fence filter and proof read
/// those). `None` for plans that are not to be kept.
pub(crate) fn keepable(
    engine: &Engine,
    plan: &LogicalPlan,
    touched: &Touched,
) -> Option<BTreeSet<String>> {
    let mut ok = true;
    let _ = plan.apply_with_subqueries(|node| {
        match node {
            LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) => ok = false,
            LogicalPlan::TableScan(scan) => {
                let name = scan.table_name.table();
                ok &= matches!(scan.table_name.schema(), None | Some(crate::SCHEMA))
                    && engine.catalog().dataset(name).is_some();
            }
            _ => {}
        }
        let _ = node.apply_expressions(|e| {
            e.apply(|e| {
                ok &= immutable(e);
                Ok(if ok {
                    TreeNodeRecursion::Continue
                } else {
                    TreeNodeRecursion::Stop
                })
            })
        });
        Ok(if ok {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    if !ok {
        return None;
    }
    let mut datasets = touched.datasets.clone();
    for name in &touched.datasets {
        if let Some(Placement::Key { dataset, .. }) = engine
            .catalog()
            .dataset(name)
            .and_then(|d| d.placement.as_ref())
        {
            datasets.insert(dataset.clone());
        }
    }
    Some(datasets)
}

/// Whether `e` gives the same value on every run (for the same input).
fn immutable(e: &Expr) -> bool {
    match e {
        Expr::ScalarFunction(f) => f.func.signature().volatility == Volatility::Immutable,
        Expr::ScalarVariable(..) => false,
        _ => true,
    }
}

/// Parameter values as they are compared between runs; `None` for named
/// parameters, which no front end binds (such runs are planned afresh).
fn param_key(params: &Option<ParamValues>) -> Option<Option<Vec<ScalarValue>>> {
    match params {
        None => Some(None),
        Some(ParamValues::List(values)) => {
            Some(Some(values.iter().map(|v| v.value.clone()).collect()))
        }
        Some(ParamValues::Map(_)) => None,
    }
}

/// Whether any operator of `plan` holds a dynamic filter, whose state one
/// run's producer passes to its consumers.
fn holds_dynamic_filter(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        let _ = node.apply_expressions(&mut |root| {
            root.apply(|e| {
                found |= e.is::<DynamicFilterPhysicalExpr>();
                Ok(if found {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Continue
                })
            })
        });
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}
