//! One principal's session: their own DataFusion context, settings and
//! statement handling. Front ends (the wire server, an embedding program) call
//! [`Session::prepare`] and [`Session::run`], or [`Session::sql`] for both.
//!
//! Every statement leaves exactly one audit record (see [`crate::audit`]): a
//! statement that fails to parse or plan, or is refused, is recorded by
//! [`Session::parse`]/[`Session::prepare`]; one that runs is recorded by
//! [`Session::run`] — a command at once, a query when its row stream ends.
//!
//! One file per concern: `statements` (from text to a planned statement),
//! `commands` (SET, SHOW and the transaction block), `rows` (running a
//! statement and the stream a cancel or timeout ends), `parameters` (their
//! types for Describe), `views` (the catalog's views per principal) and
//! `functions` (answers fixed for the session: `current_user`, `version()`).
//! Not here: what a scan becomes for the principal (`governance`), and what
//! PostgreSQL clients expect of the catalog (`postgres`).

use crate::audit::{self, Pending};
use crate::postgres::cursor::Cursors;
use crate::postgres::settings::Settings;
use crate::{governance, Engine, EngineError, Principal, Result, SCHEMA};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

/// Parses statements the PostgreSQL way. Catalog queries (BI tools'
/// introspection of `pg_catalog`, `information_schema`, `::regclass`) go
/// through `datafusion-pg-catalog`'s parser with all its rewrites; every
/// other statement gets the same rewrites except the one that replaces a
/// correlated subquery in the select list with NULL and caps the others at
/// `LIMIT 1`: over the user's data that would be a different answer, where
/// PostgreSQL's is a count (`(SELECT count(*) … WHERE t2.x < t.x)`) or an
/// error (a subquery of more than one row), and zhenjie answers as
/// PostgreSQL does or fails.
pub(crate) struct SqlParser {
    compat: PostgresCompatibilityParser,
    rules: Vec<Box<dyn datafusion_pg_catalog::sql::rules::SqlStatementRewriteRule>>,
    /// `'name'::regclass` and the like as a lookup, for catalog SQL.
    reg_casts: datafusion_pg_catalog::sql::rules::RewriteRegCastToSubquery,
}

impl SqlParser {
    fn new() -> SqlParser {
        use datafusion_pg_catalog::sql::rules::*;
        SqlParser {
            compat: PostgresCompatibilityParser::new(),
            rules: vec![
                Box::new(AliasDuplicatedProjectionRewrite),
                Box::new(ResolveUnqualifiedIdentifier),
                Box::new(RewriteArrayAnyAllOperation),
                Box::new(PrependUnqualifiedPgTableName),
                Box::new(StripCallableQualifier),
                Box::new(FixArrayLiteral),
                Box::new(CurrentUserVariableToSessionUserFunctionCall),
                Box::new(StripCollate),
                Box::new(RewritePgCatalogOperator),
                Box::new(FixVersionColumnName),
            ],
            reg_casts: RewriteRegCastToSubquery::new(),
        }
    }

    /// Whether `sql` reads the system catalogs (where the compatibility
    /// parser's substitutions of known client statements apply).
    fn is_catalog_sql(sql: &str) -> bool {
        let lower = sql.to_ascii_lowercase();
        [
            "pg_",
            "information_schema",
            "regclass",
            "regproc",
            "regtype",
            "regnamespace",
            "oid",
        ]
        .iter()
        .any(|k| lower.contains(k))
    }

    /// The crate's rules, in the compatibility parser's order, with or
    /// without the one that blanks select-list subqueries.
    fn rewritten(
        &self,
        s: datafusion::sql::sqlparser::ast::Statement,
        blank_subqueries: bool,
    ) -> datafusion::sql::sqlparser::ast::Statement {
        use datafusion_pg_catalog::sql::rules::{
            RemoveSubqueryFromProjection, SqlStatementRewriteRule,
        };
        let (before, version) = self.rules.split_at(self.rules.len() - 1);
        let s = before.iter().fold(s, |s, r| r.rewrite(s));
        let s = self.reg_casts.rewrite(s);
        let s = if blank_subqueries {
            RemoveSubqueryFromProjection.rewrite(s)
        } else {
            s
        };
        version.iter().fold(s, |s, r| r.rewrite(s))
    }

    pub(crate) fn parse(
        &self,
        sql: &str,
    ) -> std::result::Result<
        Vec<(
            datafusion::sql::sqlparser::ast::Statement,
            Option<datafusion::sql::sqlparser::ast::Statement>,
        )>,
        datafusion::sql::sqlparser::parser::ParserError,
    > {
        use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};
        let alone = |statements: Vec<_>| statements.into_iter().map(|s| (s, None)).collect();
        let Ok(mut statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
            // What only the compatibility parser reads (`ABORT`, known
            // client statements it substitutes).
            return self.compat.parse(sql).map(alone);
        };
        statements
            .iter_mut()
            .for_each(crate::postgres::before_rules);
        if !Self::is_catalog_sql(sql) {
            return Ok(statements
                .into_iter()
                .map(|s| (self.rules.iter().fold(s, |s, r| r.rewrite(s)), None))
                .collect());
        }
        // Catalog SQL: the compatibility parser replaces a few known client
        // statements DataFusion cannot plan, which is kept; but it also
        // blanks every correlated subquery of a select list to NULL (a
        // silent wrong answer in a tool's catalog). Where its answer is only
        // that blanking, the statement is planned as written first.
        let compat = self.compat.parse(sql)?;
        let blanked: Vec<_> = statements
            .iter()
            .map(|s| self.rewritten(s.clone(), true))
            .collect();
        if compat != blanked {
            return Ok(alone(compat));
        }
        // Where DataFusion cannot plan a subquery as written, the blanked
        // reading stands in (a tool's listing is better with a NULL column
        // than failed).
        Ok(statements
            .into_iter()
            .zip(blanked)
            .map(|(s, blanked)| {
                let s = self.rewritten(s, false);
                let fallback = (s != blanked).then_some(blanked);
                (s, fallback)
            })
            .collect())
    }
}
use futures::StreamExt;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

mod commands;
pub(crate) mod depth;
mod functions;
mod parameters;
mod rows;
mod statements;
mod views;

pub use commands::Command;
pub use parameters::parameter_types;
pub use rows::{Output, RowStream};
pub use statements::{Parsed, Prepared, PreparedKind};
pub(crate) use views::{check_reports, check_views};

use functions::{constant_udf, principal_functions, version_udf};
use views::register_views;

/// One principal's connection to the engine.
pub struct Session {
    engine: Engine,
    principal: Principal,
    ctx: SessionContext,
    parser: SqlParser,
    /// Shared with the session's `pg_settings`, which shows them live.
    settings: Arc<Mutex<Settings>>,
    cancel: Mutex<CancellationToken>,
    /// The session's id in audit records.
    id: u64,
    /// Where the client connects from, once the front end says so.
    client_addr: Mutex<Option<String>>,
    /// Open SQL cursors (DECLARE … CURSOR).
    cursors: Cursors,
    /// The transaction block the client is in, as PostgreSQL tracks it.
    block: Arc<Mutex<Block>>,
    /// `schema.relation` → its OID in this session's `pg_class`.
    relation_oids: std::collections::HashMap<String, i32>,
    /// Counts SET and RESET: a plan kept under an older count is not reused.
    generation: std::sync::atomic::AtomicU64,
    /// The copy of the DataFusion state the last statement planned with,
    /// under the count of SETs it was copied at (see `statement_state`).
    spare_state: Mutex<Option<(u64, datafusion::execution::SessionState)>>,
    /// The last plan before its run-time filters were placed: what a
    /// prepared statement keeps.
    before_run_time_filters: crate::speed::plan_cache::BeforeRunTimeFilters,
}

/// A transaction block: after an error inside one, PostgreSQL refuses every
/// statement but the ones that end it (25P02), and so does zhenjie, so a
/// client's error handling behaves as it would against PostgreSQL.
#[derive(Debug, Default)]
struct Block {
    open: bool,
    failed: bool,
}

impl Block {
    /// An error happened: inside a block, the block has failed.
    fn fail(&mut self) {
        self.failed |= self.open;
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("principal", &self.principal.user)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// How large a join's smaller side may be for DataFusion to build one hash
/// table from it (`CollectLeft`), rather than hash-partitioning both sides
/// and building one table per partition. Partitioning sends every row of
/// both sides through a repartition, a cost that only pays off when many
/// cores build in parallel: on this machine's two, a county user's
/// `deceased still paid` (1,740 build rows, 184,000 probe rows) took 10.2 ms
/// partitioned and 9.2 ms with one table, the city's 33.9 and 24.9 ms. The
/// thresholds (DataFusion's 1 MB and 131,072 rows) grow as the partitions
/// fall: 32 MB and 2,000,000 rows in all, shared by the partitions.
fn join_build_thresholds(config: &mut SessionConfig, target_partitions: usize) {
    let partitions = target_partitions.max(1);
    let optimizer = &mut config.options_mut().optimizer;
    optimizer.hash_join_single_partition_threshold = optimizer
        .hash_join_single_partition_threshold
        .max((32 << 20) / partitions);
    optimizer.hash_join_single_partition_threshold_rows = optimizer
        .hash_join_single_partition_threshold_rows
        .max(2_000_000 / partitions);
}

impl Session {
    pub(crate) async fn new(engine: Engine, principal: Principal) -> Result<Session> {
        let database = engine.catalog().file.database.clone();
        let opts = engine.options();
        let mut config = SessionConfig::new();
        // Timestamps with time zone (TIMESTAMPTZ literals, now()) are in the
        // session's zone, so they reach clients as timestamptz.
        config.options_mut().execution.time_zone = Settings::new(&principal.user)
            .get("timezone")
            .map(str::to_string);
        // A literal with a decimal point is PostgreSQL's `numeric`, not a
        // float: `0.1 + 0.2` is `0.3`, and money sums carry no float noise.
        config.options_mut().sql_parser.parse_float_as_decimal = true;
        join_build_thresholds(&mut config, opts.target_partitions);
        let config = config
            .with_default_catalog_and_schema(&database, SCHEMA)
            .with_create_default_catalog_and_schema(true)
            .with_information_schema(false)
            .with_target_partitions(opts.target_partitions)
            .with_batch_size(opts.batch_size);
        // Governance's two optimizer rules run after DataFusion's own, then
        // grouping by runs of area codes; joins are made to yield (so a
        // query can always be stopped) last of all.
        let mut builder = datafusion::execution::session_state::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(engine.runtime().clone())
            .with_default_features();
        crate::speed::date_part::install(&mut builder);
        if let Some(planners) = builder.expr_planners() {
            planners.insert(0, Arc::new(crate::postgres::json::JsonPlanner));
        }
        // PostgreSQL's reading of boolean words goes before type coercion
        // (which would refuse `flag = 'true'`), its casts after it.
        let mut analyzer: Vec<Arc<dyn datafusion::optimizer::AnalyzerRule + Send + Sync>> =
            vec![Arc::new(crate::postgres::BooleanLiterals)];
        analyzer.extend(datafusion::optimizer::Analyzer::new().rules);
        analyzer.push(Arc::new(crate::postgres::PostgresCasts));
        let builder = builder.with_analyzer_rules(analyzer);
        // PostgreSQL's overflow errors before constant folding, which would
        // wrap `9223372036854775807 + 1` in Arrow's arithmetic.
        let mut optimizer: Vec<Arc<dyn datafusion::optimizer::OptimizerRule + Send + Sync>> =
            vec![Arc::new(crate::postgres::CheckedArithmetic)];
        optimizer.extend(datafusion::optimizer::Optimizer::new().rules);
        let builder = builder.with_optimizer_rules(optimizer);
        // DataFusion's physical rules, its last pushdown (of run-time
        // filters) noting the plan a prepared statement keeps.
        let (run_time_filters, before_run_time_filters) =
            crate::speed::plan_cache::RunTimeFilters::new();
        let mut physical =
            datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules;
        for rule in &mut physical {
            if rule.name() == "FilterPushdown(Post)" {
                *rule = Arc::new(run_time_filters);
                break;
            }
        }
        // First: projections are still projections, not yet pushed into
        // the scans.
        physical.insert(0, Arc::new(crate::speed::widening_casts::WideningCasts));
        physical.push(Arc::new(crate::governance::raw_key_join::RawKeyJoin));
        physical.push(Arc::new(crate::speed::key_grouping::KeyGrouping));
        physical.push(Arc::new(crate::speed::yielding_joins::YieldingJoins));
        // Last: the scans have taken the filters they prune with.
        let footers = engine.runtime().cache_manager.get_file_metadata_cache();
        let ranges = Arc::new(crate::speed::row_group_ranges::RowGroupRanges::new(footers));
        physical.push(Arc::new(crate::speed::lookup_scans::LookupScans::new(
            ranges.clone(),
        )));
        physical.push(Arc::new(crate::speed::one_partition::OnePartition::new(
            ranges.clone(),
        )));
        physical.push(ranges);
        physical.push(Arc::new(crate::speed::view_comparisons::ViewComparisons));
        let state = builder
            .with_optimizer_rule(Arc::new(
                crate::governance::attribution_join::AttributionJoin,
            ))
            .with_physical_optimizer_rules(physical)
            .build();
        let ctx = SessionContext::new_with_state(state);
        for dataset in &engine.catalog().file.datasets {
            if let Some(table) = governance::govern(&engine, dataset, &principal)? {
                ctx.register_table(dataset.name.as_str(), table)?;
            }
        }
        if principal.has_role("auditor") {
            ctx.register_table(
                audit::TABLE,
                Arc::new(audit::AuditTable::new(&engine, &principal)),
            )?;
        }
        zhenjie_udfs::register_all(&ctx);
        ctx.register_udtf(
            crate::linkage::LINK_PERSONS,
            Arc::new(crate::linkage::LinkPersons::new(
                engine.clone(),
                principal.clone(),
            )),
        );
        ctx.register_udtf(
            crate::linkage::households::LINK_HOUSEHOLDS,
            Arc::new(crate::linkage::households::LinkHouseholds::new(
                engine.clone(),
                principal.clone(),
            )),
        );
        for udf in &engine.options().functions {
            ctx.register_udf(udf.clone());
        }
        ctx.register_udf(crate::postgres::pg_size_pretty_udf());
        ctx.register_udf(crate::postgres::cbrt_udf());
        for udf in crate::postgres::scale_udfs() {
            ctx.register_udf(udf);
        }
        for udf in principal_functions(&principal) {
            ctx.register_udf(udf);
        }
        ctx.register_udf(crate::scenarios::reference_date_udf(engine.catalog()));
        ctx.register_udtf(
            crate::snapshots::AS_OF,
            Arc::new(crate::snapshots::AsOf::new(
                engine.clone(),
                principal.clone(),
            )),
        );
        ctx.register_udtf(
            crate::scenarios::POLICY_GAPS,
            Arc::new(crate::scenarios::PolicyGaps::new(
                engine.clone(),
                principal.clone(),
            )),
        );
        datafusion_pg_catalog::setup_pg_catalog(&ctx, &database, EmptyContextProvider)
            .map_err(|e| EngineError::from(*e))?;
        crate::postgres::install_sorted_catalog(&ctx, &database)?;
        crate::postgres::install_type_planner(&ctx);
        crate::postgres::install_information_schema(&ctx, &database).await?;
        // After the pg_catalog setup, which brings DataFusion's own `version()`.
        ctx.register_udf(version_udf());
        ctx.register_udf(crate::postgres::to_char_udf());
        ctx.register_udf(crate::postgres::age_udf());
        ctx.register_udf(crate::postgres::interval_mul_udf());
        for udf in crate::postgres::justify_udfs() {
            ctx.register_udf(udf);
        }
        for name in [
            "has_table_privilege",
            "has_schema_privilege",
            "has_database_privilege",
            "has_any_column_privilege",
            "has_column_privilege",
        ] {
            ctx.register_udf(crate::postgres::privilege_udf(name));
        }
        ctx.register_udf(crate::postgres::expandarray_udf());
        ctx.register_udf(crate::postgres::format_udf());
        ctx.register_udf(crate::postgres::quote_ident_udf());
        ctx.register_udf(crate::postgres::at_time_zone_udf());
        for udf in crate::postgres::quote_literal_udfs() {
            ctx.register_udf(udf);
        }
        ctx.register_udf(crate::postgres::json_build_object_udf());
        for udf in crate::postgres::json::json_udfs() {
            ctx.register_udf(udf.as_ref().clone());
        }
        for udf in crate::postgres::make_udfs() {
            ctx.register_udf(udf);
        }
        for udaf in crate::postgres::ordered_set_udafs() {
            ctx.register_udaf(udaf);
        }
        // The size of the whole city's files is a rough count of its rows:
        // below city level, where the fence hides most of them, it is NULL
        // (PostgreSQL's answer for a database one cannot size).
        let size = (principal.level == zhenjie_catalog::Level::City)
            .then(|| crate::postgres::local_data_size(&engine));
        ctx.register_udf(crate::postgres::constant_any_udf(
            "pg_database_size",
            datafusion::common::ScalarValue::Int64(size),
        ));
        // Every object zhenjie has is in `public` or `pg_catalog`, both on
        // the search path: visible (psql's `\dT`, `\do`, `\dc`, `\dF`).
        for name in [
            "pg_collation_is_visible",
            "pg_type_is_visible",
            "pg_conversion_is_visible",
            "pg_operator_is_visible",
            "pg_opclass_is_visible",
            "pg_opfamily_is_visible",
            "pg_statistics_obj_is_visible",
            "pg_ts_config_is_visible",
            "pg_ts_dict_is_visible",
            "pg_ts_parser_is_visible",
            "pg_ts_template_is_visible",
        ] {
            ctx.register_udf(crate::postgres::constant_any_udf(
                name,
                datafusion::common::ScalarValue::Boolean(Some(true)),
            ));
        }
        ctx.register_udf(crate::postgres::char_to_encoding_udf());
        ctx.register_udf(crate::postgres::constant_any_udf(
            "getdatabaseencoding",
            datafusion::common::ScalarValue::from("UTF8"),
        ));
        for name in [
            "pg_get_indexdef",
            "pg_get_triggerdef",
            "pg_get_ruledef",
            "pg_get_functiondef",
            "pg_tablespace_location",
            "pg_get_serial_sequence",
            "pg_advisory_unlock_all",
        ] {
            ctx.register_udf(crate::postgres::null_text_udf(name));
        }
        ctx.register_udf(constant_udf("session_user", principal.user.clone()));
        ctx.register_udf(constant_udf("current_user", principal.user.clone()));
        register_views(&ctx, &engine, &principal).await;
        let settings = Arc::new(Mutex::new(fresh_settings(&engine, &principal)));
        let relation_oids =
            crate::postgres::install_comments(&ctx, &engine, settings.clone(), &principal.user)
                .await?;
        ctx.register_udf(crate::postgres::userbyid_udf(&principal.user));
        ctx.register_udf(crate::postgres::encoding_to_char_udf());
        Ok(Session {
            relation_oids,
            settings,
            principal,
            ctx,
            parser: SqlParser::new(),
            cancel: Mutex::new(CancellationToken::new()),
            id: engine.next_session_id(),
            client_addr: Mutex::new(None),
            cursors: Cursors::default(),
            block: Arc::default(),
            generation: Default::default(),
            spare_state: Mutex::new(None),
            before_run_time_filters,
            engine,
        })
    }

    /// The session's DataFusion state for one statement, with the count
    /// of SETs it holds: the copy the last statement left when no SET or
    /// RESET has come since, else a new copy (copying the function
    /// registries cost about a twentieth of a short statement, once to plan
    /// it and once to run it); either way marked as starting now, which
    /// `now()` and the planner's generated names read.
    fn statement_state(&self) -> (u64, datafusion::execution::SessionState) {
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let spare = self.spare_state.lock().expect("state lock").take();
        match spare {
            Some((kept, mut state)) if kept == generation => {
                state.mark_start_execution();
                (generation, state)
            }
            _ => (generation, self.ctx.state()),
        }
    }

    /// Leaves a statement's state for the next one.
    fn leave_state(&self, generation: u64, state: datafusion::execution::SessionState) {
        *self.spare_state.lock().expect("state lock") = Some((generation, state));
    }

    /// Who this session belongs to.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The engine it runs on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A copy of the session's settings.
    pub fn settings(&self) -> Settings {
        self.settings.lock().expect("settings lock").clone()
    }

    /// The session's id, as audit records name it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Records where the client connects from, for the audit log (the wire
    /// front end calls this at login; embedded sessions have no address).
    pub fn set_client_addr(&self, addr: String) {
        *self.client_addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
    }

    /// The columns of an open cursor: what a protocol-level Describe of the
    /// portal named like the cursor returns (psycopg describes its server-side
    /// cursors so).
    pub fn cursor_schema(&self, name: &str) -> Option<SchemaRef> {
        self.cursors.schema(name).ok()
    }

    /// Cancels whatever statement is running now (a PostgreSQL cancel request).
    pub fn cancel(&self) {
        self.cancel.lock().expect("cancel lock").cancel();
    }

    /// The audit record of a statement of this session, starting now.
    fn pending(&self, text: &str) -> Pending {
        let addr = self
            .client_addr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Pending::start(&self.principal, self.id, addr, text).counted(self.engine.audit().metrics())
    }

    /// Records a failed statement and returns the error to report: its own,
    /// or the audit log's if the record could not be written.
    async fn audit_failure(&self, pending: Pending, error: EngineError) -> EngineError {
        self.block.lock().expect("block lock").fail();
        match self
            .engine
            .audit()
            .append_async(pending.failed(0, &error))
            .await
        {
            Ok(()) => error,
            Err(audit_error) => audit_error,
        }
    }

    /// Parses, plans and runs every statement of `sql`, for embedding programs
    /// and tests; collects nothing, each result is a stream.
    pub async fn sql(&self, sql: &str) -> Result<Vec<Output>> {
        let mut out = Vec::new();
        for st in self.parse(sql).await? {
            let prepared = self.prepare(&st).await?;
            out.push(self.run(&prepared, None).await?);
        }
        Ok(out)
    }

    /// Runs one query and collects its batches (convenience for embedding).
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let mut outputs = self.sql(sql).await?;
        match outputs.pop() {
            Some(Output::Rows(rows)) => {
                let mut batches = Vec::new();
                let mut s = rows.stream;
                while let Some(b) = s.next().await {
                    batches.push(b?);
                }
                Ok(batches)
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// A new session's settings for `principal`: PostgreSQL's defaults and the
/// catalog user's own (what RESET returns to).
pub(crate) fn fresh_settings(engine: &Engine, principal: &Principal) -> Settings {
    match engine.catalog().user(&principal.user) {
        Some(user) => Settings::for_user(engine.catalog(), user),
        None => Settings::new(&principal.user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two partitions build one table from up to 16 MB or 1,000,000 rows;
    /// many partitions keep DataFusion's thresholds, never below them.
    #[test]
    fn join_build_thresholds_shrink_as_partitions_grow() {
        let thresholds = |partitions| {
            let mut config = SessionConfig::new();
            join_build_thresholds(&mut config, partitions);
            let o = &config.options().optimizer;
            (
                o.hash_join_single_partition_threshold,
                o.hash_join_single_partition_threshold_rows,
            )
        };
        assert_eq!(thresholds(2), (16 << 20, 1_000_000));
        assert_eq!(thresholds(0), (32 << 20, 2_000_000));
        let defaults = SessionConfig::new();
        let d = &defaults.options().optimizer;
        assert_eq!(
            thresholds(64),
            (
                d.hash_join_single_partition_threshold,
                d.hash_join_single_partition_threshold_rows
            )
        );
    }
}
