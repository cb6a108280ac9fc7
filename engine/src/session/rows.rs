//! Running a prepared statement: starting its query (or reusing a kept
//! plan), and the row stream that a cancel or the statement timeout ends.

use super::statements::{Prepared, PreparedKind};
use super::Session;
use crate::audit::{self, Pending};
use crate::error::sqlstate;
use crate::postgres::copy::CopyOptions;
use crate::speed::plan_cache::{self, PlanCache};
use crate::{EngineError, Result};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ParamValues;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use zhenjie_catalog::Level;

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

impl Session {
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
        let (generation, state) = self.statement_state();
        let start = async {
            if let Some(cache) = cache {
                if let Some((physical, kept)) = cache
                    .reuse(&self.engine, &state, generation, &params)
                    .await?
                {
                    pending.touches(&self.engine, &self.principal, kept.touched.clone());
                    pending.plan_kept();
                    return Ok((physical, Some(kept.plan.clone())));
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
            // The statement was analyzed when it was planned (Describe
            // reports its types); only parameters' values, and EXPLAIN's
            // record of each rule, need the analyzer again.
            let optimized = if params.is_none() && !matches!(plan, LogicalPlan::Explain(_)) {
                state.optimizer().optimize(plan, &state, |_, _| {})?
            } else {
                state.optimize(&plan)?
            };
            let columns = audit::touched(&self.engine, &optimized, true);
            pending.touches(&self.engine, &self.principal, columns.clone());
            let physical = state
                .query_planner()
                .create_physical_plan(&optimized, &state)
                .await?;
            let before = self.before_run_time_filters.take();
            if let (Some(cache), Some(files), Some(before)) = (cache, files, before.clone()) {
                cache.keep(generation, &params, files, before, &physical, columns);
            }
            Ok::<_, EngineError>((physical, before))
        };
        let (physical, before) = tokio::select! {
            s = super::depth::BigStack(Box::pin(start)) => s?,
            _ = token.cancelled() => return Err(EngineError::canceled("user request")),
            _ = sleep_until(deadline) => return Err(EngineError::canceled("statement timeout")),
        };
        let explain = matches!(plan, LogicalPlan::Explain(_));
        let (on_cluster, route) = tokio::select! {
            s = self.on_cluster(before, plan) => s?,
            _ = token.cancelled() => return Err(EngineError::canceled("user request")),
            _ = sleep_until(deadline) => return Err(EngineError::canceled("statement timeout")),
        };
        let mut stream = match on_cluster {
            Some(stream) => stream,
            None => self.engine.queries().execute(
                physical,
                Arc::new(TaskContext::from(&state).with_runtime(self.engine.statement_runtime()?)),
            ),
        };
        // Byte ranges of whole-city files measure data outside a fence.
        if explain && self.principal.level != Level::City {
            stream = crate::postgres::explain::without_file_sizes(stream);
        }
        if let Some(route) = route {
            stream = crate::postgres::explain::with_route(stream, route);
        }
        self.leave_state(generation, state);
        let limit = self.principal.max_result_rows;
        Ok(guard_stream(stream, token, deadline, limit))
    }
}

/// A statement started on the cluster, if it goes there; for an EXPLAIN,
/// where it would run and why (its `zhenjie_route` row).
type OnCluster = (Option<SendableRecordBatchStream>, Option<String>);

impl Session {
    /// `plan`'s statement on the engine's cluster, given `before` (its plan
    /// as planned before run-time filters): started there if the engine has
    /// a cluster and the plan is routed and can travel, else `None` (it
    /// runs here).
    #[cfg(feature = "cluster")]
    async fn on_cluster(
        &self,
        before: Option<Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
        plan: &LogicalPlan,
    ) -> Result<OnCluster> {
        let (Some(before), Some((options, link))) = (before, self.engine.cluster()) else {
            return Ok((None, None));
        };
        match plan {
            LogicalPlan::Explain(_) => {
                let sizes = self.principal.level == Level::City;
                let route =
                    crate::cluster::decide(&before, options.min_bytes, &link.codec, sizes).0;
                return Ok((None, Some(route.to_string())));
            }
            LogicalPlan::Analyze(_) => return Ok((None, None)),
            _ => {}
        }
        let (route, bytes) = crate::cluster::decide(&before, options.min_bytes, &link.codec, false);
        let Some(bytes) = bytes else {
            tracing::debug!("{route}");
            return Ok((None, None));
        };
        let mut settings = datafusion::prelude::SessionConfig::new()
            .with_target_partitions(self.engine.options().target_partitions)
            .with_batch_size(self.engine.options().batch_size);
        settings.options_mut().execution.time_zone = self
            .ctx
            .state()
            .config_options()
            .execution
            .time_zone
            .clone();
        self.engine.metrics().on_cluster();
        let stream = zhenjie_cluster::execute(
            &options.scheduler,
            link.tls.as_ref(),
            bytes,
            before.schema(),
            &format!("zhenjie-{}", self.id),
            settings,
        )
        .await?;
        Ok((Some(stream), None))
    }

    /// Without the cluster feature every statement runs here.
    #[cfg(not(feature = "cluster"))]
    async fn on_cluster(
        &self,
        _before: Option<Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
        _plan: &LogicalPlan,
    ) -> Result<OnCluster> {
        Ok((None, None))
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Wraps a running query's stream so a cancel request or the statement timeout
/// ends it with SQLSTATE 57014, even between batches of a slow query, and a
/// result growing past the user's row limit ends with 54000 after the rows
/// up to the limit (a cursor's FETCHes deliver those).
fn guard_stream(
    inner: SendableRecordBatchStream,
    token: CancellationToken,
    deadline: Option<tokio::time::Instant>,
    max_rows: Option<u64>,
) -> RowStream {
    let schema = inner.schema();
    // The state: the query's stream and the rows passed so far; the stream
    // is gone once the limit was reached, with only its error left to say.
    let stream = futures::stream::unfold(Some((Some(inner), 0u64)), move |state| {
        let token = token.clone();
        async move {
            let (inner, sent) = state?;
            let Some(mut inner) = inner else {
                return Some((Err(too_many_rows(max_rows.unwrap_or(sent))), None));
            };
            let next = tokio::select! {
                b = inner.next() => b,
                _ = token.cancelled() => Some(Err(cancel_error("user request"))),
                _ = sleep_until(deadline) => Some(Err(cancel_error("statement timeout"))),
            };
            match next {
                None => None,
                Some(Err(e)) => Some((Err(e), None)),
                Some(Ok(b)) => {
                    let total = sent + b.num_rows() as u64;
                    match max_rows {
                        // The rows up to the limit go out; the error follows.
                        Some(max) if total > max => {
                            let allowed = (max - sent) as usize;
                            Some((Ok(b.slice(0, allowed)), Some((None, max))))
                        }
                        _ => Some((Ok(b), Some((Some(inner), total)))),
                    }
                }
            }
        }
    });
    RowStream {
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
    }
}

/// The error of a result over `max_result_rows`: what the limit is and the
/// way around it, nothing about the rows.
fn too_many_rows(max: u64) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(EngineError::new(
        sqlstate::PROGRAM_LIMIT_EXCEEDED,
        format!(
            "the result has more than {max} rows, the most a statement may return to you (max_result_rows); aggregate or narrow the query, or ask for the export role"
        ),
    )))
}

/// Cancellation travels inside the batch stream as a DataFusion error whose
/// message the front end recognises (see [`EngineError::from`]).
fn cancel_error(reason: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(EngineError::canceled(reason)))
}
