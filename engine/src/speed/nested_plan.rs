//! A governed scan's own plan is planned for speed in two ways, both
//! leaving what it reads and returns as it was:
//!
//! * its logical optimizer (the seam's five `LEAN` rules) makes one pass:
//!   they push the filters into the scan, find the semi-join's keys and drop
//!   unread columns in one, and the second pass DataFusion runs to see that
//!   nothing more changes cost as much as the first;
//! * it is physically planned without DataFusion's physical optimizer
//!   rules: it is planned while the query's plan is, and ends up in that
//!   plan below its fence barrier, where the query's own pass of the same
//!   rules reaches it (the barrier is an ordinary node with one child).
//!   Running the rules on it first did the same work twice (each pushed
//!   predicate went into the Parquet scan twice), about a twentieth of a
//!   short governed statement's time. What the rules promise still holds:
//!   every node of the nested plan is rewritten by the query's pass, and the
//!   barrier's refusals (no pushdown through it, no statistics) do not
//!   depend on when that pass runs.

use datafusion::catalog::{CatalogProviderList, Session};
use datafusion::common::config::{ConfigOptions, TableOptions};
use datafusion::common::{DFSchema, Result};
use datafusion::execution::context::{QueryPlanner, SessionState};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::execution_props::ExecutionProps;
use datafusion::logical_expr::registry::ExtensionTypeRegistryRef;
use datafusion::logical_expr::{
    AggregateUDF, Expr, HigherOrderUDF, LogicalPlan, ScalarUDF, WindowUDF,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::operator_statistics::StatisticsRegistry;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionConfig;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// `plan` optimized by `optimizer` in one pass, with the session's options
/// otherwise.
pub(crate) fn optimize(
    optimizer: &datafusion::optimizer::Optimizer,
    plan: LogicalPlan,
    state: &SessionState,
) -> Result<LogicalPlan> {
    let config = OnePass {
        state,
        options: one_pass_options(state.config_options()),
    };
    optimizer.optimize(plan, &config, |_, _| {})
}

/// `options` with one optimizer pass, kept for the options they were made
/// from (a session's options change only when it sets one), so most scans
/// do not copy them.
fn one_pass_options(options: &Arc<ConfigOptions>) -> Arc<ConfigOptions> {
    static KEPT: Mutex<Option<(Weak<ConfigOptions>, Arc<ConfigOptions>)>> = Mutex::new(None);
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((from, one_pass)) = kept.as_ref() {
        if from
            .upgrade()
            .is_some_and(|from| Arc::ptr_eq(&from, options))
        {
            return Arc::clone(one_pass);
        }
    }
    let mut one_pass = ConfigOptions::clone(options);
    one_pass.optimizer.max_passes = 1;
    let one_pass = Arc::new(one_pass);
    *kept = Some((Arc::downgrade(options), Arc::clone(&one_pass)));
    one_pass
}

/// The session as the logical optimizer sees it, with other options.
struct OnePass<'a> {
    state: &'a SessionState,
    options: Arc<ConfigOptions>,
}

impl datafusion::optimizer::OptimizerConfig for OnePass<'_> {
    fn query_execution_start_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        datafusion::optimizer::OptimizerConfig::query_execution_start_time(self.state)
    }

    fn alias_generator(&self) -> &Arc<datafusion::common::alias::AliasGenerator> {
        datafusion::optimizer::OptimizerConfig::alias_generator(self.state)
    }

    fn options(&self) -> Arc<ConfigOptions> {
        Arc::clone(&self.options)
    }

    fn function_registry(&self) -> Option<&dyn datafusion::execution::FunctionRegistry> {
        datafusion::optimizer::OptimizerConfig::function_registry(self.state)
    }
}

/// Physical plan of `plan` (already optimized) for a governed scan inside
/// the query `state` is planning; its physical optimization is left to the
/// query's.
pub(crate) async fn plan(
    plan: &LogicalPlan,
    state: &SessionState,
) -> Result<Arc<dyn ExecutionPlan>> {
    let session = WithoutPhysicalRules {
        state,
        table_options: None,
    };
    DefaultPhysicalPlanner::default()
        .create_physical_plan(plan, &session)
        .await
}

/// `state` as the physical planner sees it, but with no physical optimizer
/// rules.
struct WithoutPhysicalRules<'a> {
    state: &'a SessionState,
    /// The table options, once something asks to change them (the planner
    /// never does; the trait asks for a way).
    table_options: Option<TableOptions>,
}

impl WithoutPhysicalRules<'_> {
    /// The session's own answers, through the trait (not `SessionState`'s
    /// inherent methods of the same names).
    fn inner(&self) -> &dyn Session {
        self.state
    }
}

#[async_trait::async_trait]
impl Session for WithoutPhysicalRules<'_> {
    fn session_id(&self) -> &str {
        self.inner().session_id()
    }

    fn config(&self) -> &SessionConfig {
        self.inner().config()
    }

    fn config_options(&self) -> &ConfigOptions {
        self.inner().config_options()
    }

    fn catalog_list(&self) -> Arc<dyn CatalogProviderList> {
        self.inner().catalog_list()
    }

    fn query_planner(&self) -> Arc<dyn QueryPlanner + Send + Sync> {
        self.inner().query_planner()
    }

    fn optimize(&self, plan: &LogicalPlan) -> Result<LogicalPlan> {
        self.inner().optimize(plan)
    }

    /// None: the query's pass runs them over this plan.
    fn physical_optimizers(&self) -> &[Arc<dyn PhysicalOptimizerRule + Send + Sync>] {
        &[]
    }

    fn statistics_registry(&self) -> Option<&StatisticsRegistry> {
        self.inner().statistics_registry()
    }

    async fn create_physical_plan(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::default()
            .create_physical_plan(plan, self)
            .await
    }

    fn create_physical_expr(&self, expr: Expr, schema: &DFSchema) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner().create_physical_expr(expr, schema)
    }

    fn scalar_functions(&self) -> &HashMap<String, Arc<ScalarUDF>> {
        self.inner().scalar_functions()
    }

    fn higher_order_functions(&self) -> &HashMap<String, Arc<HigherOrderUDF>> {
        self.inner().higher_order_functions()
    }

    fn aggregate_functions(&self) -> &HashMap<String, Arc<AggregateUDF>> {
        self.inner().aggregate_functions()
    }

    fn window_functions(&self) -> &HashMap<String, Arc<WindowUDF>> {
        self.inner().window_functions()
    }

    fn extension_type_registry(&self) -> &ExtensionTypeRegistryRef {
        self.inner().extension_type_registry()
    }

    fn runtime_env(&self) -> &Arc<RuntimeEnv> {
        self.inner().runtime_env()
    }

    fn execution_props(&self) -> &ExecutionProps {
        self.inner().execution_props()
    }

    /// The session itself: whatever downcasts a session finds the one the
    /// query is planned in.
    fn as_any(&self) -> &dyn Any {
        self.inner().as_any()
    }

    fn table_options(&self) -> &TableOptions {
        match &self.table_options {
            Some(options) => options,
            None => self.inner().table_options(),
        }
    }

    fn table_options_mut(&mut self) -> &mut TableOptions {
        let state = self.state;
        self.table_options
            .get_or_insert_with(|| Session::table_options(state).clone())
    }

    fn task_ctx(&self) -> Arc<TaskContext> {
        self.inner().task_ctx()
    }
}
