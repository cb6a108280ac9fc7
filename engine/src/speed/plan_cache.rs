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
//! constant), and ones reading anything but catalog datasets (`pg_catalog`
//! and the audit log change under them).
//!
//! Joins and top-Ns hand their scans run-time filters (the keys seen, the
//! current N-th value) that one run fills in; a plan holding last run's
//! filter would prune this run's rows by it (a top-N's filter would drop the
//! rows tied with the N-th). So what is kept is the plan as it was *before*
//! DataFusion's last filter pushdown placed those filters, and each reuse
//! starts from fresh per-run state (DataFusion's `reset_plan_states`, the
//! same reset recursive queries use) and runs that pushdown and the rules
//! after it again: fresh filters, placed as a fresh plan would place them.
//! [`RunTimeFilters`] is that pushdown, noting the plan it is given. A plan
//! that holds no such state (no run-time filter, no scalar subquery's
//! value, no join's stop switch: most short aggregates) is kept as it ran
//! too, and each reuse runs a reset copy of it, since the pushdown and the
//! rules after it would build it alike.

use crate::audit::Touched;
use crate::Engine;
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::datasource::listing::ListingTable;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_optimizer::filter_pushdown::FilterPushdown;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
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
    /// The physical plan as it was before run-time filters were placed
    /// (reset, and given fresh ones, before each run).
    pub(crate) plan: Arc<dyn ExecutionPlan>,
    /// The plan as it ran, where it holds nothing one run leaves for the
    /// next (see [`holds_no_run_state`]): reset, it runs again as it is,
    /// without the pushdown and the rules after it (a fifth of a short
    /// prepared aggregate's time, for a plan they would build alike).
    ready: Option<Arc<dyn ExecutionPlan>>,
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
        use datafusion::physical_plan::execution_plan::reset_plan_states;
        let plan = match &kept.ready {
            Some(ready) => reset_plan_states(ready.clone())?,
            None => RunTimeFilters::place(reset_plan_states(kept.plan.clone())?, state)?,
        };
        Ok(Some((plan, kept)))
    }

    /// Keeps `before` (a plan as [`RunTimeFilters`] noted it) for the next
    /// run, and `ran` (the plan made from it) where it can run again.
    pub(crate) fn keep(
        &self,
        generation: u64,
        params: &Option<ParamValues>,
        files: Files,
        before: Arc<dyn ExecutionPlan>,
        ran: &Arc<dyn ExecutionPlan>,
        touched: Touched,
    ) {
        let Some(params) = param_key(params) else {
            return;
        };
        *self.0.lock().expect("plan cache lock") = Some(Arc::new(Kept {
            generation,
            params,
            files,
            plan: before,
            ready: holds_no_run_state(ran).then(|| ran.clone()),
            touched,
        }));
    }
}

/// Whether `plan` holds nothing one run leaves for the next, so that a reset
/// copy of it runs as a fresh plan would. A run-time filter does not reset
/// with it: its producer (a join, a top-N) makes a new one, while the scan
/// it was placed in keeps the old, filled in by the last run. Nor does a
/// scalar subquery's value, nor a join's stop switch (raised when a run's
/// stream is dropped, lowered when the next starts).
fn holds_no_run_state(plan: &Arc<dyn ExecutionPlan>) -> bool {
    use crate::speed::lookup_scans::SubqueryValue;
    use crate::speed::yielding_joins::StopCheck;
    use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
    use datafusion::physical_expr::scalar_subquery::ScalarSubqueryExpr;
    use datafusion::physical_expr::PhysicalExpr;
    let mut stateful = false;
    let mut look = |e: &Arc<dyn PhysicalExpr>| {
        stateful |= e
            .exists(|e| {
                Ok(e.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
                    || e.downcast_ref::<ScalarSubqueryExpr>().is_some()
                    || e.downcast_ref::<SubqueryValue>().is_some()
                    || e.downcast_ref::<StopCheck>().is_some())
            })
            .unwrap_or(true);
        Ok(if stateful {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    };
    // A scan lists its predicate among its expressions.
    let walked = plan.apply(|node| {
        node.apply_expressions(&mut look)?;
        Ok(TreeNodeRecursion::Continue)
    });
    walked.is_ok() && !stateful
}

tokio::task_local! {
    /// Set while a governed scan's own plan is planned inside a query's.
    static NESTED: ();
}

/// Whether a governed scan's own plan is being planned (inside a query's).
pub(crate) fn planning_nested() -> bool {
    NESTED.try_with(|_| ()).is_ok()
}

/// Plans a governed scan's own plan (`planning`) inside a query's with the
/// session's physical rules (a table function's result; a dataset's scan
/// gets none, see `nested_plan`): its run-time filters are placed by the
/// query's pushdown, over the whole plan, so the query's plan before that
/// pushdown holds none.
pub(crate) async fn nested<T>(planning: impl std::future::Future<Output = T>) -> T {
    NESTED.scope((), planning).await
}

/// DataFusion's last filter pushdown, which places joins' and top-Ns'
/// run-time filters in the scans below them, in place of DataFusion's own
/// (same work): it notes the plan it is given, which a prepared statement
/// keeps (see the module documentation). Inside a governed scan's own plan
/// it does nothing; the query's own pushdown places that plan's filters.
#[derive(Debug)]
pub(crate) struct RunTimeFilters {
    pushdown: FilterPushdown,
    before: Arc<Mutex<Option<Arc<dyn ExecutionPlan>>>>,
}

impl RunTimeFilters {
    /// The rule, and where it leaves the plan it was last given (one slot per
    /// session: a session plans one statement at a time).
    pub(crate) fn new() -> (Self, BeforeRunTimeFilters) {
        let before = Arc::new(Mutex::new(None));
        let rule = RunTimeFilters {
            pushdown: FilterPushdown::new_post_optimization(),
            before: before.clone(),
        };
        (rule, BeforeRunTimeFilters(before))
    }

    /// Places fresh run-time filters in `plan` (a kept plan, reset): this
    /// rule and the ones after it, as a fresh plan gets them.
    fn place(
        mut plan: Arc<dyn ExecutionPlan>,
        state: &dyn CatalogSession,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rules = state.physical_optimizers();
        let start = rules
            .iter()
            .position(|r| r.name() == RUN_TIME_FILTERS)
            .unwrap_or(rules.len());
        for rule in &rules[start..] {
            plan = rule.optimize(plan, state.config_options())?;
        }
        Ok(plan)
    }
}

const RUN_TIME_FILTERS: &str = "zhenjie_run_time_filters";

impl PhysicalOptimizerRule for RunTimeFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if planning_nested() {
            return Ok(plan);
        }
        *self.before.lock().expect("run-time filters lock") = Some(plan.clone());
        self.pushdown.optimize(plan, config)
    }

    fn name(&self) -> &str {
        RUN_TIME_FILTERS
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The plan [`RunTimeFilters`] was last given in a session.
#[derive(Clone)]
pub(crate) struct BeforeRunTimeFilters(Arc<Mutex<Option<Arc<dyn ExecutionPlan>>>>);

impl BeforeRunTimeFilters {
    /// Takes the plan noted by the last planning, leaving none.
    pub(crate) fn take(&self) -> Option<Arc<dyn ExecutionPlan>> {
        self.0.lock().expect("run-time filters lock").take()
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
