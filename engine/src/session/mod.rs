//! One principal's session: their own DataFusion context, settings and
//! statement handling. Front ends (the wire server, an embedding program) call
//! [`Session::prepare`] and [`Session::run`], or [`Session::sql`] for both.
//!
//! Every statement leaves exactly one audit record (see [`crate::audit`]): a
//! statement that fails to parse or plan, or is refused, is recorded by
//! [`Session::parse`]/[`Session::prepare`]; one that runs is recorded by
//! [`Session::run`] — a command at once, a query when its row stream ends.

use crate::audit::{self, Pending};
use crate::error::sqlstate;
use crate::postgres::copy::CopyOptions;
use crate::postgres::cursor::{Cursors, FetchCount};
use crate::postgres::settings::Settings;
use crate::speed::plan_cache::{self, PlanCache};
use crate::{governance, Engine, EngineError, Principal, Result};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ParamValues;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{self, Statement};
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use futures::StreamExt;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// The name of the catalog (database) and schema every table lives in.
pub const SCHEMA: &str = "public";

/// One statement of a query string, with its own text for the audit log.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The statement's text as the client sent it (trimmed).
    pub text: String,
    /// The parsed statement, with PostgreSQL-compatibility rewrites applied.
    pub statement: Statement,
}

impl Parsed {
    /// Applies the parameter types a client declared (SQL type names, in
    /// `$1..$n` order; `None`: not declared), so the plan and its result
    /// columns have them.
    pub fn with_parameter_types(mut self, types: &[Option<String>]) -> Parsed {
        crate::postgres::type_parameters(&mut self.statement, types);
        self
    }
}

/// A statement ready to run: planned once, run any number of times (the
/// extended protocol's prepared statements are these).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The statement's text, recorded with every run.
    pub text: String,
    /// What running it does.
    pub kind: PreparedKind,
    /// For each result column that is a table's column passed through, the
    /// table's OID and the column's number (PostgreSQL's RowDescription
    /// carries them; pgjdbc's `getBaseTableName` and DBeaver read them).
    pub sources: Vec<Option<(i32, i16)>>,
    /// A query's physical plan, kept for its next run (see `plan_cache`).
    cache: PlanCache,
}

/// What a prepared statement does.
#[derive(Debug, Clone)]
pub enum PreparedKind {
    /// A query with a logical plan (parameters still unbound).
    Query(LogicalPlan),
    /// A session command (SET, SHOW, BEGIN, …) handled without DataFusion.
    Command(Command),
    /// `COPY (query) TO STDOUT`: the query's rows, written in a COPY format.
    Copy(LogicalPlan, CopyOptions),
    /// `DECLARE name CURSOR FOR query`: starts the query, rows come by FETCH.
    Declare {
        /// The cursor's name.
        name: String,
        /// The query (parameters still unbound).
        plan: LogicalPlan,
        /// `WITH HOLD`: the cursor outlives its transaction.
        hold: bool,
    },
    /// `FETCH n FROM name`: the cursor's next rows.
    Fetch {
        /// The cursor's name.
        name: String,
        /// How many rows.
        count: FetchCount,
        /// The cursor's columns (known when the FETCH is prepared).
        schema: SchemaRef,
    },
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    Close(Option<String>),
    /// Nothing to do (an empty statement).
    Empty,
}

/// Session commands understood without planning a query.
#[derive(Debug, Clone)]
pub enum Command {
    /// `SET name = value`.
    Set(String, String),
    /// `RESET name` / `RESET ALL`.
    Reset(Option<String>),
    /// `SHOW name` / `SHOW ALL`.
    Show(Option<String>),
    /// `BEGIN` / `START TRANSACTION`: accepted for read-only work.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    /// `ROLLBACK TO SAVEPOINT`: ends a failed block's failure (there is
    /// nothing else to undo in read-only work).
    RollbackToSavepoint,
    /// Statements that change nothing here (`DISCARD ALL`, `DEALLOCATE`, …),
    /// answered with their command tag.
    NoOp(&'static str),
}

/// What running a statement produced.
pub enum Output {
    /// Rows, streamed batch by batch.
    Rows(RowStream),
    /// Rows to write as COPY data in the given format.
    Copy(RowStream, CopyOptions),
    /// A command completed; the PostgreSQL command tag (`SET`, `BEGIN`, …).
    Command(&'static str),
    /// The statement was empty.
    Empty,
}

/// A result set: its schema and a stream of batches that stops with an error
/// when the query is cancelled or times out.
pub struct RowStream {
    /// Column names and types.
    pub schema: SchemaRef,
    /// The batches, produced as the client consumes them (back-pressure).
    pub stream: SendableRecordBatchStream,
}

/// One principal's connection to the engine.
pub struct Session {
    engine: Engine,
    principal: Principal,
    ctx: SessionContext,
    parser: PostgresCompatibilityParser,
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
        let state = builder
            .with_optimizer_rule(Arc::new(
                crate::governance::attribution_join::AttributionJoin,
            ))
            .with_physical_optimizer_rule(Arc::new(crate::governance::raw_key_join::RawKeyJoin))
            .with_physical_optimizer_rule(Arc::new(crate::speed::run_grouping::RunGrouping))
            .with_physical_optimizer_rule(Arc::new(crate::speed::yielding_joins::YieldingJoins))
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
        ctx.register_udf(crate::postgres::pg_size_pretty_udf());
        for udf in principal_functions(&principal) {
            ctx.register_udf(udf);
        }
        datafusion_pg_catalog::setup_pg_catalog(&ctx, &database, EmptyContextProvider)
            .map_err(|e| EngineError::from(*e))?;
        crate::postgres::install_sorted_catalog(&ctx, &database)?;
        crate::postgres::install_type_planner(&ctx);
        crate::postgres::install_information_schema(&ctx, &database).await?;
        // After the pg_catalog setup, which brings DataFusion's own `version()`.
        ctx.register_udf(version_udf());
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
        ctx.register_udf(crate::postgres::json_build_object_udf());
        ctx.register_udf(crate::postgres::constant_any_udf(
            "pg_database_size",
            datafusion::common::ScalarValue::Int64(Some(crate::postgres::local_data_size(&engine))),
        ));
        ctx.register_udf(crate::postgres::constant_any_udf(
            "pg_collation_is_visible",
            datafusion::common::ScalarValue::Boolean(Some(true)),
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
        let settings = Arc::new(Mutex::new(Settings::new(&principal.user)));
        let relation_oids =
            crate::postgres::install_comments(&ctx, &engine, settings.clone()).await?;
        Ok(Session {
            relation_oids,
            settings,
            principal,
            ctx,
            parser: PostgresCompatibilityParser::new(),
            cancel: Mutex::new(CancellationToken::new()),
            id: engine.next_session_id(),
            client_addr: Mutex::new(None),
            cursors: Cursors::default(),
            block: Arc::default(),
            generation: Default::default(),
            engine,
        })
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

    /// Splits SQL text into statements, with PostgreSQL-compatibility rewrites
    /// of the catalog queries clients send. Text that does not parse is
    /// audited as one failed statement.
    pub async fn parse(&self, sql: &str) -> Result<Vec<Parsed>> {
        let pending = self.pending(sql);
        let mut statements = match self.parser.parse(sql) {
            Ok(s) => s,
            Err(e) => return Err(self.audit_failure(pending, EngineError::from(e)).await),
        };
        statements.iter_mut().for_each(crate::postgres::rewrite);
        // One text per statement; where the split does not line up with the
        // parser's statements, the statement's own rendering stands in.
        let texts = split_statements(sql).filter(|t| t.len() == statements.len());
        Ok(statements
            .into_iter()
            .enumerate()
            .map(|(i, statement)| Parsed {
                text: match &texts {
                    Some(t) => t[i].clone(),
                    None => statement.to_string(),
                },
                statement,
            })
            .collect())
    }

    /// Plans one statement for this principal. Only reads are allowed; a
    /// refused or unplannable statement is audited here.
    pub async fn prepare(&self, parsed: &Parsed) -> Result<Prepared> {
        let pending = self.pending(&parsed.text);
        let ends_block = matches!(
            parsed.statement,
            Statement::Commit { .. } | Statement::Rollback { .. }
        );
        if !ends_block && self.block.lock().expect("block lock").failed {
            let e = EngineError::new(
                sqlstate::IN_FAILED_SQL_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            );
            return Err(self.audit_failure(pending, e).await);
        }
        match self.plan(&parsed.statement).await {
            Ok(kind) => Ok(Prepared {
                text: parsed.text.clone(),
                sources: match &kind {
                    PreparedKind::Query(plan) => self.column_sources(plan),
                    _ => Vec::new(),
                },
                kind,
                cache: PlanCache::default(),
            }),
            Err(e) => Err(self.audit_failure(pending, e).await),
        }
    }

    async fn plan(&self, statement: &Statement) -> Result<PreparedKind> {
        if let Some(cmd) = command_of(statement)? {
            return Ok(PreparedKind::Command(cmd));
        }
        match statement {
            Statement::Query(_) => {}
            Statement::Copy { .. } => {
                let (query, options) = crate::postgres::copy::copy_to_stdout(statement)?;
                let plan = self.plan_read(query_statement(Box::new(query))).await?;
                return Ok(PreparedKind::Copy(plan, options));
            }
            Statement::Declare { stmts } => {
                let [declare] = stmts.as_slice() else {
                    return Err(refuse(statement));
                };
                let (Some(query), Some(name)) = (&declare.for_query, declare.names.first()) else {
                    return Err(refuse(statement));
                };
                let plan = self.plan_read(query_statement(query.clone())).await?;
                return Ok(PreparedKind::Declare {
                    name: name.value.clone(),
                    plan,
                    hold: declare.hold == Some(true),
                });
            }
            Statement::Fetch {
                name,
                direction,
                into: None,
                ..
            } => {
                let count = crate::postgres::cursor::fetch_count(direction)?;
                return Ok(PreparedKind::Fetch {
                    name: name.value.clone(),
                    count,
                    schema: self.cursors.schema(&name.value)?,
                });
            }
            Statement::Close { cursor } => {
                return Ok(PreparedKind::Close(match cursor {
                    ast::CloseCursor::All => None,
                    ast::CloseCursor::Specific { name } => Some(name.value.clone()),
                }));
            }
            Statement::Explain { .. } => {
                // Its options read once, for the level check and the plan
                // (DESCRIBE is not an EXPLAIN and plans as it is).
                if let Some(explain) = crate::postgres::explain::Explain::of(statement)? {
                    explain.check(self.principal.level)?;
                    let plan = self.plan_read(explain.to_datafusion()).await?;
                    return Ok(PreparedKind::Query(plan));
                }
            }
            other => return Err(refuse(other)),
        }
        let statement = DfStatement::Statement(Box::new(statement.clone()));
        Ok(PreparedKind::Query(self.plan_read(statement).await?))
    }

    /// Plans a statement that may only read.
    async fn plan_read(&self, statement: DfStatement) -> Result<LogicalPlan> {
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        let plan = crate::postgres::narrow_output_types(plan)?;
        if matches!(
            plan,
            LogicalPlan::Dml(_)
                | LogicalPlan::Ddl(_)
                | LogicalPlan::Copy(_)
                | LogicalPlan::Statement(_)
        ) {
            return Err(EngineError::denied(
                "permission denied: zhenjie serves governed data read-only",
            ));
        }
        Ok(plan)
    }

    /// Runs a prepared statement with bound parameters. Its audit record is
    /// appended before this returns (commands, failures) or when the returned
    /// row stream ends (queries, SHOW); an empty statement is not recorded.
    pub async fn run(&self, prepared: &Prepared, params: Option<ParamValues>) -> Result<Output> {
        let mut pending = self.pending(&prepared.text);
        let result = match &prepared.kind {
            PreparedKind::Empty => return Ok(Output::Empty),
            PreparedKind::Command(cmd) => self.run_command(cmd),
            // Rows go out before the end-of-stream record is written: while
            // the log is known to be failing, no query starts.
            PreparedKind::Query(_) if self.engine.audit().is_failing() => Err(EngineError::new(
                sqlstate::IO_ERROR,
                "audit log unavailable: a previous write failed; no data is served until records can be written",
            )),
            PreparedKind::Query(plan) => self
                .start_query(plan, params, &mut pending, Some(&prepared.cache))
                .await
                .map(Output::Rows),
            PreparedKind::Copy(plan, options) => self
                .start_query(plan, params, &mut pending, None)
                .await
                .map(|rows| Output::Copy(rows, options.clone())),
            // The DECLARE's record names what the cursor reads and the masks
            // it got; each FETCH is recorded with the rows it returned.
            PreparedKind::Declare { name, plan, hold } => {
                match self.start_query(plan, params, &mut pending, None).await {
                    Ok(rows) => self
                        .cursors
                        .declare(name, rows, *hold)
                        .map(|()| Output::Command("DECLARE CURSOR")),
                    Err(e) => Err(e),
                }
            }
            PreparedKind::Fetch { name, count, .. } => {
                self.cursors.fetch(name, *count).map(Output::Rows)
            }
            PreparedKind::Close(name) => match name {
                Some(n) => self.cursors.close(n),
                None => {
                    self.cursors.close_all();
                    Ok(())
                },
            }
            .map(|()| Output::Command("CLOSE CURSOR")),
        };
        match result {
            Ok(Output::Rows(rows)) => Ok(Output::Rows(RowStream {
                schema: rows.schema,
                stream: audit::audited_stream(
                    self.fails_block(rows.stream),
                    pending,
                    self.engine.audit().clone(),
                ),
            })),
            Ok(Output::Copy(rows, options)) => Ok(Output::Copy(
                RowStream {
                    schema: rows.schema,
                    stream: audit::audited_stream(
                        self.fails_block(rows.stream),
                        pending,
                        self.engine.audit().clone(),
                    ),
                },
                options,
            )),
            Ok(output) => {
                let record = pending.finish(audit::Status::Ok, 0, None);
                self.engine.audit().append_async(record).await?;
                Ok(output)
            }
            Err(e) => Err(self.audit_failure(pending, e).await),
        }
    }

    /// Where each output column of `plan` comes from (see [`Prepared::sources`]).
    fn column_sources(&self, plan: &LogicalPlan) -> Vec<Option<(i32, i16)>> {
        let through = |node: &LogicalPlan| {
            matches!(
                node,
                LogicalPlan::Projection(_)
                    | LogicalPlan::Filter(_)
                    | LogicalPlan::Sort(_)
                    | LogicalPlan::Limit(_)
            )
        };
        (0..plan.schema().fields().len())
            .map(|i| {
                let (scan, column) = crate::governance::lineage::source_column(plan, i, &through)?;
                let schema = scan.table_name.schema().unwrap_or(SCHEMA);
                let table = format!("{schema}.{}", scan.table_name.table());
                Some((
                    *self.relation_oids.get(&table)?,
                    i16::try_from(column + 1).ok()?,
                ))
            })
            .collect()
    }

    /// `stream`, failing the open transaction block if it ends in an error
    /// (a division by zero found while rows are produced, say).
    fn fails_block(&self, stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
        use futures::StreamExt;
        let block = self.block.clone();
        let schema = stream.schema();
        Box::pin(
            datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                schema,
                stream.inspect(move |item| {
                    if item.is_err() {
                        block.lock().expect("block lock").fail();
                    }
                }),
            ),
        )
    }

    /// Plans and starts a query, noting in `pending` what it reads. With a
    /// prepared statement's `cache`, a plan it kept is run again when it
    /// still holds, and a new plan is kept when it can be.
    async fn start_query(
        &self,
        plan: &LogicalPlan,
        params: Option<ParamValues>,
        pending: &mut Pending,
        cache: Option<&PlanCache>,
    ) -> Result<RowStream> {
        let token = {
            let mut guard = self.cancel.lock().expect("cancel lock");
            if guard.is_cancelled() {
                *guard = CancellationToken::new();
            }
            guard.clone()
        };
        let timeout = self.settings().statement_timeout();
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let state = self.ctx.state();
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let start = async {
            if let Some(cache) = cache {
                if let Some((physical, kept)) = cache
                    .reuse(&self.engine, &state, generation, &params)
                    .await?
                {
                    pending.touches(&self.engine, &self.principal, kept.touched.clone());
                    return Ok(physical);
                }
            }
            let plan = match &params {
                Some(p) => plan.clone().replace_params_with_values(p)?,
                None => plan.clone(),
            };
            // Until the plan is optimized only the datasets are known; the
            // optimized plan's scans tell the columns (its projections are
            // pushed down).
            let read = audit::touched(&self.engine, &plan, false);
            pending.touches(&self.engine, &self.principal, read.clone());
            // The files a kept plan depends on are listed before planning.
            let files = match cache.and_then(|_| plan_cache::keepable(&self.engine, &plan, &read)) {
                Some(datasets) => {
                    Some(plan_cache::Files::list(&self.engine, &state, &datasets).await?)
                }
                None => None,
            };
            let optimized = state.optimize(&plan)?;
            let columns = audit::touched(&self.engine, &optimized, true);
            pending.touches(&self.engine, &self.principal, columns.clone());
            let physical = state
                .query_planner()
                .create_physical_plan(&optimized, &state)
                .await?;
            if let (Some(cache), Some(files)) = (cache, files) {
                cache.keep(generation, &params, files, &physical, columns);
            }
            Ok::<_, EngineError>(physical)
        };
        let physical = tokio::select! {
            s = start => s?,
            _ = token.cancelled() => return Err(EngineError::canceled("user request")),
            _ = sleep_until(deadline) => return Err(EngineError::canceled("statement timeout")),
        };
        let stream = self
            .engine
            .queries()
            .execute(physical, Arc::new(TaskContext::from(&state)));
        Ok(guard_stream(stream, token, deadline))
    }

    /// The audit record of a statement of this session, starting now.
    fn pending(&self, text: &str) -> Pending {
        let addr = self
            .client_addr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Pending::start(&self.principal, self.id, addr, text)
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

    /// Moves DataFusion's session time zone along with the `timezone`
    /// setting, and refreshes the functions that depend on it (`now()`).
    fn set_time_zone(&self, zone: &str) -> Result<()> {
        use datafusion::execution::session_state::SessionStateBuilder;
        let invalid = || {
            EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("invalid value for parameter \"TimeZone\": \"{zone}\""),
            )
        };
        zone.parse::<datafusion::arrow::array::timezone::Tz>()
            .map_err(|_| invalid())?;
        let state = self.ctx.state_ref();
        let mut next = state.read().clone();
        next.config_mut()
            .options_mut()
            .set("datafusion.execution.time_zone", zone)
            .map_err(|_| invalid())?;
        *state.write() = SessionStateBuilder::new_from_existing(next).build();
        Ok(())
    }

    fn run_command(&self, cmd: &Command) -> Result<Output> {
        if matches!(cmd, Command::Set(..) | Command::Reset(_)) {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let mut settings = self.settings.lock().expect("settings lock");
        match cmd {
            Command::Set(name, value) => {
                if name.starts_with("datafusion.") {
                    if !self.principal.is_admin() {
                        return Err(EngineError::denied(format!(
                            "permission denied to set parameter \"{name}\""
                        )));
                    }
                    let state = self.ctx.state_ref();
                    state.write().config_mut().options_mut().set(name, value)?;
                    return Ok(Output::Command("SET"));
                }
                if name.starts_with("zhenjie.") {
                    return Err(EngineError::denied(format!(
                        "permission denied to set parameter \"{name}\""
                    )));
                }
                if name == "timezone" {
                    self.set_time_zone(value)?;
                }
                settings
                    .set(name, value)
                    .map_err(|(code, m)| EngineError::new(code, m))?;
                Ok(Output::Command("SET"))
            }
            Command::Reset(name) => {
                let fresh = Settings::new(&self.principal.user);
                match name {
                    None => *settings = fresh,
                    Some(n) => {
                        if let Some(v) = fresh.get(n) {
                            let _ = settings.set(n, v);
                        }
                    }
                }
                Ok(Output::Command("RESET"))
            }
            Command::Show(name) => {
                let (cols, rows): (Vec<&str>, Vec<Vec<String>>) = match name {
                    None => (
                        vec!["name", "setting"],
                        settings
                            .all()
                            .map(|(k, v)| vec![k.to_string(), v.to_string()])
                            .collect(),
                    ),
                    Some(n) => {
                        let v = settings.get(n).ok_or_else(|| {
                            EngineError::new(
                                sqlstate::UNDEFINED_OBJECT,
                                format!("unrecognized configuration parameter \"{n}\""),
                            )
                        })?;
                        (vec![n.as_str()], vec![vec![v.to_string()]])
                    }
                };
                Ok(Output::Rows(text_rows(&cols, rows)?))
            }
            Command::Begin => {
                self.block.lock().expect("block lock").open = true;
                Ok(Output::Command("BEGIN"))
            }
            Command::Commit => {
                self.cursors.end_transaction();
                let block = std::mem::take(&mut *self.block.lock().expect("block lock"));
                // Committing a failed block rolls it back, and says so.
                Ok(Output::Command(if block.failed {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                }))
            }
            Command::Rollback => {
                self.cursors.end_transaction();
                *self.block.lock().expect("block lock") = Block::default();
                Ok(Output::Command("ROLLBACK"))
            }
            Command::RollbackToSavepoint => {
                self.block.lock().expect("block lock").failed = false;
                Ok(Output::Command("ROLLBACK"))
            }
            Command::NoOp(tag) => Ok(Output::Command(tag)),
        }
    }
}

/// The types of a plan's parameters in `$1..$n` order (`None` where nothing
/// fixes a type). Parameters of LIMIT and OFFSET are bigints, as in PostgreSQL.
pub fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::Expr;
    let mut types = plan.get_parameter_types()?;
    // `CAST($1 AS int[])` with an untyped parameter (node-postgres sends all
    // as text): the parameter is read as the cast's type, as PostgreSQL does.
    // Likewise `x = ANY($1)` (planned as `array_has($1, x)`): a list of x's type.
    plan.apply(|node| {
        let input = node.inputs().first().map(|i| i.schema().clone());
        node.apply_expressions(|e| {
            e.apply(|e| {
                let (id, ty) = match e {
                    Expr::Cast(c) => match c.expr.as_ref() {
                        Expr::Placeholder(p) => (p.id.clone(), Some(c.field.data_type().clone())),
                        _ => return Ok(TreeNodeRecursion::Continue),
                    },
                    Expr::ScalarFunction(f) if f.name() == "array_has" && f.args.len() == 2 => {
                        match (&f.args[0], &input) {
                            (Expr::Placeholder(p), Some(schema)) => (
                                p.id.clone(),
                                datafusion::logical_expr::ExprSchemable::get_type(
                                    &f.args[1],
                                    schema.as_ref(),
                                )
                                .ok()
                                .map(|t| {
                                    DataType::List(Arc::new(
                                        datafusion::arrow::datatypes::Field::new_list_field(
                                            t, true,
                                        ),
                                    ))
                                }),
                            ),
                            _ => return Ok(TreeNodeRecursion::Continue),
                        }
                    }
                    _ => return Ok(TreeNodeRecursion::Continue),
                };
                let slot = types.entry(id).or_insert(None);
                if slot.is_none() {
                    *slot = ty;
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(TreeNodeRecursion::Continue)
    })?;
    plan.apply(|node| {
        if let LogicalPlan::Limit(limit) = node {
            for e in [limit.skip.as_deref(), limit.fetch.as_deref()]
                .into_iter()
                .flatten()
            {
                if let Expr::Placeholder(p) = e {
                    types.insert(p.id.clone(), Some(DataType::Int64));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let mut ordered: Vec<(usize, Option<DataType>)> = types
        .into_iter()
        .filter_map(|(k, v)| {
            k.trim_start_matches('$')
                .parse::<usize>()
                .ok()
                .map(|i| (i, v))
        })
        .filter(|(i, _)| *i > 0)
        .collect();
    ordered.sort_by_key(|(i, _)| *i);
    let n = ordered.last().map(|(i, _)| *i).unwrap_or(0);
    let mut out = vec![None; n];
    for (i, t) in ordered {
        out[i - 1] = t;
    }
    Ok(out)
}

/// The text of each statement of `sql`, as sent (trimmed), split at the
/// top-level semicolons the tokenizer finds; statements with no tokens but
/// whitespace and comments are dropped, as the parser drops them. `None` if
/// the text does not tokenize.
fn split_statements(sql: &str) -> Option<Vec<String>> {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // Locations count lines and characters from 1.
    let offset = |loc: Location| -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *line_starts.get(line)?;
        let rest = &sql[start..];
        Some(
            start
                + rest
                    .char_indices()
                    .nth(column)
                    .map_or(rest.len(), |(i, _)| i),
        )
    };
    let (mut out, mut begin, mut content) = (Vec::new(), 0, false);
    for t in &tokens {
        match t.token {
            Token::SemiColon => {
                let at = offset(t.span.start)?;
                if content {
                    out.push(sql.get(begin..at)?.trim().to_string());
                }
                begin = at + 1;
                content = false;
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => content = true,
        }
    }
    if content {
        out.push(sql.get(begin..)?.trim().to_string());
    }
    Some(out)
}

/// Registers the catalog's views this principal may see. A view is planned
/// in the principal's own context, over their governed tables, so it carries
/// their fence and masks; one that reads a table they cannot see does not
/// plan and is left out (the engine checked at open that every view plans
/// over the full catalog).
async fn register_views(ctx: &SessionContext, engine: &Engine, principal: &Principal) {
    for view in &engine.catalog().file.views {
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
    let ctx = SessionContext::new();
    for d in &catalog.file.datasets {
        if let Some(t) = engine.table(&d.name) {
            ctx.register_table(d.name.as_str(), t.clone())?;
        }
    }
    zhenjie_udfs::register_all(&ctx);
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

/// A function of no arguments returning a fixed text.
fn constant_udf(name: &str, value: String) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        name,
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::Utf8(Some(value.clone())),
            ))
        }),
    )
}

/// `current_area()`, `current_area_name()` and `current_level()`: the
/// caller's fence as constants, for report templates that adapt to who runs them.
fn principal_functions(principal: &Principal) -> Vec<datafusion::logical_expr::ScalarUDF> {
    let constant = constant_udf;
    vec![
        constant("current_area", principal.area.code.clone()),
        constant("current_area_name", principal.area.name.clone()),
        constant("current_level", principal.level.as_str().to_string()),
    ]
}

/// `version()` in PostgreSQL's shape: drivers (SQLAlchemy, pgjdbc, Npgsql)
/// parse the leading `PostgreSQL <major>.<minor>` to choose their queries.
fn version_udf() -> datafusion::logical_expr::ScalarUDF {
    let text = format!(
        "PostgreSQL {} (zhenjie {}, Apache DataFusion {}) on {}-linux, 64-bit",
        crate::SERVER_VERSION,
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION,
        std::env::consts::ARCH,
    );
    constant_udf("version", text)
}

/// A small all-text result (SHOW and friends).
fn text_rows(cols: &[&str], rows: Vec<Vec<String>>) -> Result<RowStream> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays = (0..cols.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )) as datafusion::arrow::array::ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let stream = futures::stream::iter(vec![Ok(batch)]);
    Ok(RowStream {
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
    })
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Wraps a running query's stream so a cancel request or the statement timeout
/// ends it with SQLSTATE 57014, even between batches of a slow query.
fn guard_stream(
    inner: SendableRecordBatchStream,
    token: CancellationToken,
    deadline: Option<tokio::time::Instant>,
) -> RowStream {
    let schema = inner.schema();
    let stream = futures::stream::unfold(Some(inner), move |state| {
        let token = token.clone();
        async move {
            let mut inner = state?;
            let next = tokio::select! {
                b = inner.next() => b,
                _ = token.cancelled() => Some(Err(cancel_error("user request"))),
                _ = sleep_until(deadline) => Some(Err(cancel_error("statement timeout"))),
            };
            match next {
                None => None,
                Some(Err(e)) => Some((Err(e), None)),
                Some(Ok(b)) => Some((Ok(b), Some(inner))),
            }
        }
    });
    RowStream {
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
    }
}

/// Cancellation travels inside the batch stream as a DataFusion error whose
/// message the front end recognises (see [`EngineError::from`]).
fn cancel_error(reason: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(EngineError::canceled(reason)))
}

fn refuse(statement: &Statement) -> EngineError {
    match statement {
        Statement::Copy { to: false, .. } => {
            EngineError::denied("permission denied: COPY FROM is not allowed; zhenjie is read-only")
        }
        Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_)
        | Statement::Merge { .. }
        | Statement::Truncate { .. }
        | Statement::CreateTable(_)
        | Statement::CreateView { .. }
        | Statement::CreateIndex(_)
        | Statement::CreateSchema { .. }
        | Statement::CreateDatabase { .. }
        | Statement::CreateFunction(_)
        | Statement::AlterTable { .. }
        | Statement::Drop { .. }
        | Statement::Grant { .. }
        | Statement::Revoke { .. } => {
            EngineError::denied("permission denied: zhenjie serves governed data read-only")
        }
        _ => EngineError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            "this statement is not supported by zhenjie",
        ),
    }
}

/// Recognises the session commands; `Ok(None)` for everything else.
fn command_of(statement: &Statement) -> Result<Option<Command>> {
    use ast::Set;
    let value_text = |e: &ast::Expr| -> String {
        match e {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            ast::Expr::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        }
    };
    Ok(Some(match statement {
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) => {
            let name = variable.to_string().trim_matches('"').to_ascii_lowercase();
            let value = values.iter().map(value_text).collect::<Vec<_>>().join(", ");
            Command::Set(name, value)
        }
        Statement::Set(Set::SetTimeZone { value, .. }) => {
            Command::Set("timezone".into(), value_text(value))
        }
        Statement::Set(Set::SetNames { charset_name, .. }) => {
            Command::Set("client_encoding".into(), charset_name.value.clone())
        }
        Statement::Set(Set::SetTransaction { .. }) => Command::NoOp("SET"),
        // Resetting to the login principal changes nothing (Npgsql's pool
        // reset sends it); becoming anyone else is refused below.
        Statement::Set(Set::SetSessionAuthorization(ast::SetSessionAuthorizationParam {
            kind: ast::SetSessionAuthorizationParamKind::Default,
            ..
        })) => Command::NoOp("SET"),
        Statement::Set(Set::SetSessionAuthorization(_)) | Statement::Set(Set::SetRole { .. }) => {
            return Err(EngineError::denied(
                "permission denied: the session's principal cannot be changed",
            ))
        }
        Statement::ShowVariable { variable } => {
            let name = variable
                .iter()
                .map(|i| i.value.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            match name.as_str() {
                "all" => Command::Show(None),
                "time zone" => Command::Show(Some("timezone".into())),
                "transaction isolation level" => {
                    Command::Show(Some("transaction_isolation".into()))
                }
                _ => Command::Show(Some(name)),
            }
        }
        Statement::StartTransaction { .. } => Command::Begin,
        Statement::Commit { .. } => Command::Commit,
        Statement::Rollback {
            savepoint: None, ..
        } => Command::Rollback,
        Statement::Discard { .. } => Command::NoOp("DISCARD ALL"),
        // Savepoints have nothing to undo in read-only work; drivers open
        // them for nested transaction blocks (psycopg's `conn.transaction()`).
        Statement::Savepoint { .. } => Command::NoOp("SAVEPOINT"),
        // zhenjie sends no notifications; there is nothing to stop listening to.
        Statement::UNLISTEN { .. } => Command::NoOp("UNLISTEN"),
        Statement::ReleaseSavepoint { .. } => Command::NoOp("RELEASE"),
        Statement::Rollback {
            savepoint: Some(_), ..
        } => Command::RollbackToSavepoint,
        Statement::Deallocate { .. } => Command::NoOp("DEALLOCATE"),
        _ => {
            let text = statement.to_string();
            let upper = text.trim().to_ascii_uppercase();
            if let Some(rest) = upper.strip_prefix("RESET ") {
                let name = rest.trim().to_ascii_lowercase();
                Command::Reset((name != "all").then_some(name))
            } else {
                return Ok(None);
            }
        }
    }))
}

/// A query as DataFusion's planner takes it.
fn query_statement(query: Box<ast::Query>) -> DfStatement {
    DfStatement::Statement(Box::new(Statement::Query(query)))
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_keep_their_own_text() {
        assert_eq!(
            split_statements("SELECT 1;  select 'a;b' -- c;\n , 2 ;; /* x; */ ;\nSHOW ALL")
                .unwrap(),
            vec!["SELECT 1", "select 'a;b' -- c;\n , 2", "SHOW ALL"]
        );
        assert_eq!(
            split_statements("SELECT '名字';\r\nSELECT \"列\";").unwrap(),
            vec!["SELECT '名字'", "SELECT \"列\""]
        );
        assert!(split_statements("  -- nothing\n").unwrap().is_empty());
        assert!(split_statements("SELECT 'unterminated").is_none());
    }
}
