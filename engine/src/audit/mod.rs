//! The audit log: one record per statement — allowed, denied or failed, EXPLAIN
//! included — appended to a JSON-lines file and synced to disk before the
//! statement's result completes. If the record cannot be written the statement
//! fails (SQLSTATE 58030), and while the log keeps failing no query starts.
//! Rows a query streamed before its own record failed have reached the client,
//! but the client sees an error instead of the statement completing.
//!
//! A record is appended when its statement ends, so the file is in order of
//! completion; `time` is the start. Statements of one simple-protocol query
//! are all started before the first result is sent, so they end (and are
//! appended) out of order; order by `time` and `session_id` to read them.
//!
//! The log is readable as the table `audit_log`, registered only in sessions of
//! principals with the `auditor` role and fenced by the `area` of each record
//! like any other data: an auditor sees the records of users inside their area.
//!
//! In the table the list fields (`datasets`, `columns`, `masks`) are
//! `List(Utf8)` (PostgreSQL `text[]`), `time` is a UTC timestamp with
//! millisecond precision, and `rows`/`session_id` are `bigint`.

mod redact;

use crate::error::sqlstate;
use crate::metrics::{Metrics, Running};
use crate::{Engine, EngineError, Principal, Result};
use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Builder, Int64Builder, ListBuilder, RecordBatch,
    StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{MemTable, Session as CatalogSession, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::DFSchema;
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, RecordBatchStream};
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Instant;

/// The name of the audit table in an auditor's session.
pub const TABLE: &str = "audit_log";

/// What happened to a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It ran to the end and its whole result was produced.
    Ok,
    /// The principal may not do this (SQLSTATE 42501).
    Denied,
    /// It failed (any other SQLSTATE).
    Error,
    /// A cancel request or `statement_timeout` stopped it (SQLSTATE 57014).
    Canceled,
    /// The result was dropped before its end: the client went away, or the
    /// front end never sent it (a statement after a failing one in a
    /// multi-statement query had already been started).
    Aborted,
}

impl Status {
    /// The status of a statement that failed with `error`.
    pub fn of_error(error: &EngineError) -> Status {
        match error.code {
            // (A failed login, 28P01, is refused entry.)
            sqlstate::INSUFFICIENT_PRIVILEGE | "28P01" => Status::Denied,
            sqlstate::QUERY_CANCELED => Status::Canceled,
            _ => Status::Error,
        }
    }

    /// The name written to the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Denied => "denied",
            Status::Error => "error",
            Status::Canceled => "canceled",
            Status::Aborted => "aborted",
        }
    }
}

/// One statement as the audit log keeps it: who ran what, from where, what it
/// touched and how it ended. Serialized as one JSON object per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the statement started, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// Login name of the principal.
    pub user: String,
    /// The principal's level (`city` … `grid`).
    pub level: String,
    /// The principal's full area code; the record lies inside this area.
    pub area: String,
    /// The client's socket address; `None` for embedded use.
    pub client_addr: Option<String>,
    /// The session (connection) it ran in, unique within one engine.
    pub session_id: u64,
    /// The statement text as received.
    pub statement: String,
    /// Catalog datasets its plan reads (for EXPLAIN: would read).
    pub datasets: Vec<String>,
    /// Columns read, as `dataset.column`.
    pub columns: Vec<String>,
    /// Masks applied to those columns, as `dataset.column:mask`.
    pub masks: Vec<String>,
    /// Rows returned to the client.
    pub rows: u64,
    /// How it ended.
    pub status: Status,
    /// The SQLSTATE of a statement that did not end `ok`.
    pub sqlstate: Option<String>,
    /// Wall time from start to the end of its result.
    pub duration_ms: f64,
    /// Whether the run reused the plan its prepared statement kept (see
    /// `speed::plan_cache`) instead of planning afresh: what makes a
    /// dashboard's repeated query cheap, visible to whoever checks it.
    #[serde(default)]
    pub plan_kept: bool,
}

/// The append-only file of audit records. Appends are serialised by a mutex
/// and each is synced (`fdatasync`) before it returns, so a statement whose
/// record was appended is on disk.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Writer>,
    /// The last append failed: queries are refused before they send a row
    /// until an append succeeds again.
    failing: AtomicBool,
    /// Where each record is counted (statements by status, latency, writes).
    metrics: Arc<Metrics>,
}

/// The statement text of a refused login's record.
pub(crate) const FAILED_LOGIN: &str = "(login failed)";

#[derive(Debug)]
struct Writer {
    file: File,
    /// A previous append failed and may have left a partial line; the next
    /// record starts on a fresh line so that fragment stays a line of its own.
    torn: bool,
}

fn write_failed(e: impl std::fmt::Display) -> EngineError {
    EngineError::new(sqlstate::IO_ERROR, format!("audit log write failed: {e}"))
}

impl AuditLog {
    /// Opens (creating it and its folders if needed) the log at `path` for
    /// appending. An engine without a writable audit log does not start.
    pub fn open(path: &Path) -> Result<AuditLog> {
        let open_failed = |e: std::io::Error| {
            EngineError::new(
                sqlstate::IO_ERROR,
                format!("cannot open audit log {}: {e}", path.display()),
            )
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(open_failed)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(open_failed)?;
        // A crash (power lost mid-write) can leave a last line without its
        // end: the next record must not be glued to it, or it would be
        // unreadable too. The fragment stays a line of its own, which
        // `read_all` skips and reports.
        let torn = ends_mid_line(&file).map_err(open_failed)?;
        if torn {
            tracing::warn!(
                "audit log {}: the last line is incomplete (a crash mid-write); it is set aside",
                path.display()
            );
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(Writer { file, torn }),
            failing: AtomicBool::new(false),
            metrics: Arc::default(),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metrics every record is counted in.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Appends one record and syncs it to disk. Blocking: async callers use
    /// [`AuditLog::append_async`].
    pub fn append(&self, record: &AuditRecord) -> Result<()> {
        let mut line = serde_json::to_string(record).map_err(write_failed)?;
        line.push('\n');
        // A poisoned lock only means another append panicked; the file is
        // still usable and `torn` covers a half-written line.
        let mut w = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if w.torn {
            line.insert(0, '\n');
        }
        let started = Instant::now();
        let result = w
            .file
            .write_all(line.as_bytes())
            .and_then(|()| w.file.sync_data());
        w.torn = result.is_err();
        self.failing.store(w.torn, Ordering::Relaxed);
        drop(w);
        self.metrics
            .audit_written(started.elapsed().as_secs_f64(), result.is_ok());
        if record.statement == FAILED_LOGIN {
            self.metrics.failed_login();
        } else {
            self.metrics.ended(
                record.status.as_str(),
                record.duration_ms / 1000.0,
                record.rows,
            );
        }
        result.map_err(write_failed)
    }

    /// Whether the last append failed (the disk may be full): a query's rows
    /// would be sent before its record could be written, so none is started.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// [`AuditLog::append`] on the blocking thread pool, so a slow disk does
    /// not stall the async workers.
    pub async fn append_async(self: &Arc<Self>, record: AuditRecord) -> Result<()> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.append(&record))
            .await
            .map_err(write_failed)?
    }

    /// Every complete record written so far. A line that does not parse (the
    /// fragment of a failed append) is skipped; so is a last line still being
    /// written.
    pub fn read_all(&self) -> Result<Vec<AuditRecord>> {
        let read_failed = |e: std::io::Error| {
            EngineError::new(sqlstate::IO_ERROR, format!("cannot read audit log: {e}"))
        };
        let meta = std::fs::metadata(&self.path).map_err(read_failed)?;
        if !meta.is_file() {
            return Err(EngineError::new(
                sqlstate::IO_ERROR,
                "cannot read audit log: not a regular file",
            ));
        }
        let bytes = std::fs::read(&self.path).map_err(read_failed)?;
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => &bytes[..end],
            None => &[][..],
        };
        let mut records = Vec::new();
        let mut skipped = 0usize;
        for line in complete.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<AuditRecord>(line) {
                Ok(r) if chrono::DateTime::parse_from_rfc3339(&r.time).is_ok() => records.push(r),
                _ => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::warn!(
                "audit log {}: {skipped} unreadable line(s) skipped",
                self.path.display()
            );
        }
        Ok(records)
    }
}

/// Whether a non-empty file's last byte is not a newline.
fn ends_mid_line(file: &File) -> std::io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

/// A statement's record while it runs: everything but how it ends.
pub(crate) struct Pending {
    record: AuditRecord,
    started: Instant,
    /// Counts the statement as running until its record is finished.
    running: Option<Running>,
}

impl Pending {
    /// Starts the record of `statement` for `principal` now.
    pub(crate) fn start(
        principal: &Principal,
        session_id: u64,
        client_addr: Option<String>,
        statement: &str,
    ) -> Pending {
        Pending {
            record: AuditRecord {
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                user: principal.user.clone(),
                level: principal.level.as_str().to_string(),
                area: principal.area.code.clone(),
                client_addr,
                session_id,
                statement: statement.to_string(),
                datasets: Vec::new(),
                columns: Vec::new(),
                masks: Vec::new(),
                rows: 0,
                status: Status::Ok,
                sqlstate: None,
                duration_ms: 0.0,
                plan_kept: false,
            },
            started: Instant::now(),
            running: None,
        }
    }

    /// Counts the statement among those running (until it is finished).
    pub(crate) fn counted(mut self, metrics: &Metrics) -> Pending {
        self.running = Some(metrics.running());
        self
    }

    /// Notes what the statement's plan reads and the masks on it.
    pub(crate) fn touches(&mut self, engine: &Engine, principal: &Principal, touched: Touched) {
        let columns: Vec<(String, String)> = touched.columns.into_iter().collect();
        self.record.masks = crate::governance::masks_applied(engine, principal, &columns);
        self.record.columns = columns.iter().map(|(d, c)| format!("{d}.{c}")).collect();
        self.record.datasets = touched.datasets.into_iter().collect();
    }

    /// Notes that the run reuses its prepared statement's kept plan.
    pub(crate) fn plan_kept(&mut self) {
        self.record.plan_kept = true;
    }

    /// The finished record.
    pub(crate) fn finish(
        self,
        status: Status,
        rows: u64,
        error: Option<&EngineError>,
    ) -> AuditRecord {
        drop(self.running);
        let mut record = self.record;
        record.status = status;
        record.rows = rows;
        record.sqlstate = error.map(|e| e.code.to_string());
        record.duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        record
    }

    /// The record of a statement that failed with `error` after `rows` rows.
    pub(crate) fn failed(self, rows: u64, error: &EngineError) -> AuditRecord {
        self.finish(Status::of_error(error), rows, Some(error))
    }
}

/// The catalog datasets (and their columns) a plan reads.
#[derive(Debug, Default, Clone)]
pub(crate) struct Touched {
    pub(crate) datasets: BTreeSet<String>,
    pub(crate) columns: BTreeSet<(String, String)>,
}

/// Walks `plan` (subqueries and EXPLAIN's inner plan included) for scans of
/// catalog datasets and of the audit log. With `columns`, the scans'
/// projections are recorded too — meaningful on an optimized plan, where
/// projections have been pushed into the scans; an unoptimized plan reads
/// every column of every scan.
pub(crate) fn touched(engine: &Engine, plan: &LogicalPlan, columns: bool) -> Touched {
    let mut out = Touched::default();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let name = scan.table_name.table();
            let ours = matches!(scan.table_name.schema(), None | Some(crate::SCHEMA))
                && (name == TABLE || engine.catalog().dataset(name).is_some());
            if ours {
                out.datasets.insert(name.to_string());
                if columns {
                    for f in scan.projected_schema.fields() {
                        out.columns.insert((name.to_string(), f.name().clone()));
                    }
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// Wraps a result stream so that its audit record is appended when it ends —
/// before the end is passed on, so the client's completion message follows
/// the sync. A failed append turns the end into a 58030 error. If the stream
/// is dropped before its end, the record says `aborted`.
pub(crate) fn audited_stream(
    inner: SendableRecordBatchStream,
    pending: Pending,
    log: Arc<AuditLog>,
) -> SendableRecordBatchStream {
    Box::pin(AuditedStream {
        schema: inner.schema(),
        inner: Some(inner),
        pending: Some(pending),
        rows: 0,
        log,
        writing: None,
    })
}

struct AuditedStream {
    schema: SchemaRef,
    /// `None` once the inner stream ended (or failed).
    inner: Option<SendableRecordBatchStream>,
    /// `None` once the record has been handed to the writer.
    pending: Option<Pending>,
    rows: u64,
    log: Arc<AuditLog>,
    /// The append in flight, and the error to yield after it (none: the end).
    writing: Option<(BoxFuture<'static, Result<()>>, Option<DataFusionError>)>,
}

impl AuditedStream {
    fn start_write(&mut self, record: AuditRecord, then: Option<DataFusionError>) {
        let log = self.log.clone();
        let fut = async move { log.append_async(record).await }.boxed();
        self.writing = Some((fut, then));
        self.inner = None;
    }
}

impl Stream for AuditedStream {
    type Item = datafusion::error::Result<RecordBatch>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some((fut, _)) = this.writing.as_mut() {
                let written = ready!(fut.poll_unpin(cx));
                let then = this.writing.take().and_then(|(_, then)| then);
                return Poll::Ready(match (written, then) {
                    (Err(audit), _) => Some(Err(DataFusionError::External(Box::new(audit)))),
                    (Ok(()), Some(e)) => Some(Err(e)),
                    (Ok(()), None) => None,
                });
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(inner.poll_next_unpin(cx)) {
                Some(Ok(batch)) => {
                    this.rows += batch.num_rows() as u64;
                    return Poll::Ready(Some(Ok(batch)));
                }
                Some(Err(e)) => {
                    let error = EngineError::from(e);
                    let Some(pending) = this.pending.take() else {
                        return Poll::Ready(None);
                    };
                    let record = pending.failed(this.rows, &error);
                    // The error travels on as an EngineError, so the front end
                    // reports the same SQLSTATE it would have without us.
                    let e = DataFusionError::External(Box::new(error));
                    this.start_write(record, Some(e));
                }
                None => {
                    let Some(pending) = this.pending.take() else {
                        return Poll::Ready(None);
                    };
                    let record = pending.finish(Status::Ok, this.rows, None);
                    this.start_write(record, None);
                }
            }
        }
    }
}

impl RecordBatchStream for AuditedStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Drop for AuditedStream {
    fn drop(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        // Best effort: nobody is left to tell if this append fails.
        let record = pending.finish(Status::Aborted, self.rows, None);
        let log = self.log.clone();
        let write = move || {
            if let Err(e) = log.append(&record) {
                tracing::error!("{e}");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(write);
            }
            Err(_) => write(),
        }
    }
}

/// The audit table's columns.
pub(crate) fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
            Arc::new(Schema::new(vec![
                Field::new(
                    "time",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    false,
                ),
                Field::new("user", DataType::Utf8, false),
                Field::new("level", DataType::Utf8, false),
                Field::new("area", DataType::Utf8, false),
                Field::new("client_addr", DataType::Utf8, true),
                Field::new("session_id", DataType::Int64, false),
                Field::new("statement", DataType::Utf8, false),
                Field::new("datasets", list.clone(), false),
                Field::new("columns", list.clone(), false),
                Field::new("masks", list, false),
                Field::new("rows", DataType::Int64, false),
                Field::new("status", DataType::Utf8, false),
                Field::new("sqlstate", DataType::Utf8, true),
                Field::new("duration_ms", DataType::Float64, false),
                Field::new("plan_kept", DataType::Boolean, false),
            ]))
        })
        .clone()
}

/// The table comment shown by psql `\dt+`/`\d+`.
pub(crate) const TABLE_COMMENT: &str =
    "审计日志：每条语句一条记录（成功、拒绝、失败、取消、中断），仅 auditor 角色可查，按用户辖区围栏";

/// Column comments shown by psql `\d+ audit_log`.
pub(crate) const COLUMN_COMMENTS: [(&str, &str); 15] = [
    ("time", "语句开始时间（UTC，毫秒）"),
    ("user", "登录用户"),
    ("level", "用户层级：city/county/town/village/grid"),
    ("area", "用户辖区的完整区划代码"),
    ("client_addr", "客户端地址（嵌入式调用为空）"),
    ("session_id", "会话编号（同一引擎内唯一）"),
    ("statement", "语句原文"),
    ("datasets", "读取的数据集（EXPLAIN 为将读取的）"),
    ("columns", "读取的列，数据集.列"),
    ("masks", "应用的脱敏，数据集.列:脱敏方式"),
    ("rows", "返回行数"),
    (
        "status",
        "结果：ok 成功 / denied 拒绝 / error 失败 / canceled 取消 / aborted 客户端中途断开",
    ),
    ("sqlstate", "未成功时的 SQLSTATE"),
    ("duration_ms", "耗时（毫秒）"),
    ("plan_kept", "是否复用预备语句保留的执行计划"),
];

/// Records as one batch of the audit table.
pub(crate) fn to_batch(records: &[AuditRecord]) -> Result<RecordBatch> {
    let n = records.len();
    let mut time = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    let (mut user, mut level, mut area, mut client_addr) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut statement, mut status, mut state) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut session_id = Int64Builder::with_capacity(n);
    let mut rows = Int64Builder::with_capacity(n);
    let mut duration = Float64Builder::with_capacity(n);
    let mut kept = datafusion::arrow::array::BooleanBuilder::with_capacity(n);
    let mut datasets = ListBuilder::new(StringBuilder::new());
    let mut columns = ListBuilder::new(StringBuilder::new());
    let mut masks = ListBuilder::new(StringBuilder::new());
    for r in records {
        let millis = chrono::DateTime::parse_from_rfc3339(&r.time)
            .map(|t| t.timestamp_millis())
            .map_err(|e| EngineError::new(sqlstate::DATA_EXCEPTION, e.to_string()))?;
        time.append_value(millis);
        user.append_value(&r.user);
        level.append_value(&r.level);
        area.append_value(&r.area);
        client_addr.append_option(r.client_addr.as_deref());
        session_id.append_value(i64::try_from(r.session_id).unwrap_or(i64::MAX));
        statement.append_value(&r.statement);
        for (list, values) in [
            (&mut datasets, &r.datasets),
            (&mut columns, &r.columns),
            (&mut masks, &r.masks),
        ] {
            for v in values {
                list.values().append_value(v);
            }
            list.append(true);
        }
        rows.append_value(i64::try_from(r.rows).unwrap_or(i64::MAX));
        status.append_value(r.status.as_str());
        state.append_option(r.sqlstate.as_deref());
        duration.append_value(r.duration_ms);
        kept.append_value(r.plan_kept);
    }
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(time.finish()),
        Arc::new(user.finish()),
        Arc::new(level.finish()),
        Arc::new(area.finish()),
        Arc::new(client_addr.finish()),
        Arc::new(session_id.finish()),
        Arc::new(statement.finish()),
        Arc::new(datasets.finish()),
        Arc::new(columns.finish()),
        Arc::new(masks.finish()),
        Arc::new(rows.finish()),
        Arc::new(status.finish()),
        Arc::new(state.finish()),
        Arc::new(duration.finish()),
        Arc::new(kept.finish()),
    ];
    Ok(RecordBatch::try_new(schema(), arrays)?)
}

/// The audit log as a table: each scan reads the records written so far and
/// keeps only those inside the auditor's fence before anything of the user's
/// query runs, so no user predicate, function or statistic ever sees a record
/// outside it.
#[derive(Debug)]
pub(crate) struct AuditTable {
    log: Arc<AuditLog>,
    fence: Expr,
    /// How statement texts are masked for this auditor (`None`: raw).
    redactor: Option<redact::Redactor>,
}

impl AuditTable {
    /// The audit table as `principal` may see it: the records whose `area`
    /// lies in the principal's area (the same fence as area-placed datasets),
    /// their statements' literals masked as the principal's masks say.
    pub(crate) fn new(engine: &Engine, principal: &Principal) -> AuditTable {
        let catalog = engine.catalog();
        let hash_key = crate::governance::hash_mask_key(engine).ok();
        AuditTable {
            log: engine.audit().clone(),
            fence: crate::governance::fence_predicate(engine, principal, "area"),
            redactor: redact::Redactor::new(
                crate::governance::masks_anything(engine, principal),
                |class| catalog.mask_for(class, &principal.roles),
                hash_key,
            ),
        }
    }
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[async_trait]
impl TableProvider for AuditTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let log = self.log.clone();
        let mut records = tokio::task::spawn_blocking(move || log.read_all())
            .await
            .map_err(external)?
            .map_err(external)?;
        // Before anything of the user's query sees the text.
        if let Some(redactor) = &self.redactor {
            for r in &mut records {
                r.statement = redactor.statement(&r.statement);
            }
        }
        let batch = to_batch(&records).map_err(external)?;
        let df_schema = DFSchema::try_from(schema())?;
        let fence = state.create_physical_expr(self.fence.clone(), &df_schema)?;
        let keep = fence.evaluate(&batch)?.into_array(batch.num_rows())?;
        let keep = keep
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| DataFusionError::Internal("audit fence is not boolean".into()))?;
        let fenced = filter_record_batch(&batch, keep)?;
        let snapshot = MemTable::try_new(schema(), vec![vec![fenced]])?;
        snapshot.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(user: &str, status: Status) -> AuditRecord {
        AuditRecord {
            time: "2024-05-01T08:30:00.123Z".into(),
            user: user.into(),
            level: "town".into(),
            area: "370602001000".into(),
            client_addr: Some("127.0.0.1:50000".into()),
            session_id: 7,
            statement: "SELECT name FROM persons WHERE note = '一行\n两行'".into(),
            datasets: vec!["persons".into()],
            columns: vec!["persons.name".into(), "persons.note".into()],
            masks: vec![],
            rows: 3,
            status,
            sqlstate: (status != Status::Ok).then(|| "42501".into()),
            duration_ms: 1.5,
            plan_kept: false,
        }
    }

    #[test]
    fn records_round_trip_through_the_file_one_line_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let a = record("town", Status::Ok);
        let b = record("grid", Status::Denied);
        log.append(&a).unwrap();
        log.append(&b).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().next().unwrap().contains("\"status\":\"ok\""));
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .contains("\"status\":\"denied\""));
        assert_eq!(log.read_all().unwrap(), vec![a.clone(), b.clone()]);
        // Reopening appends rather than truncating.
        let again = AuditLog::open(&path).unwrap();
        again.append(&a).unwrap();
        assert_eq!(again.read_all().unwrap(), vec![a.clone(), b, a]);
    }

    #[test]
    fn torn_and_unfinished_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let a = record("town", Status::Ok);
        log.append(&a).unwrap();
        // A fragment of a failed append, then a good record on its own line,
        // then a record still being written.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"time\":\"2024-").unwrap();
        log.file.lock().unwrap().torn = true;
        log.append(&a).unwrap();
        f.write_all(b"{\"time\":\"2024-05").unwrap();
        assert_eq!(log.read_all().unwrap(), vec![a.clone(), a]);
    }

    #[test]
    fn a_log_reopened_after_a_crash_mid_line_keeps_the_next_record_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let a = record("town", Status::Ok);
        AuditLog::open(&path).unwrap().append(&a).unwrap();
        // The process died while writing the second record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"time\":\"2024-05-01T08:3").unwrap();
        let reopened = AuditLog::open(&path).unwrap();
        let b = record("grid", Status::Denied);
        reopened.append(&b).unwrap();
        assert_eq!(reopened.read_all().unwrap(), vec![a, b]);
    }

    #[test]
    fn records_become_a_batch_of_the_table_schema() {
        let batch = to_batch(&[record("town", Status::Ok), record("grid", Status::Error)]).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), schema());
        assert_eq!(COLUMN_COMMENTS.len(), schema().fields().len());
        for ((name, _), field) in COLUMN_COMMENTS.iter().zip(schema().fields()) {
            assert_eq!(name, field.name());
        }
    }

    #[test]
    fn status_of_errors() {
        assert_eq!(Status::of_error(&EngineError::denied("no")), Status::Denied);
        assert_eq!(
            Status::of_error(&EngineError::canceled("user request")),
            Status::Canceled
        );
        assert_eq!(
            Status::of_error(&EngineError::new(sqlstate::DIVISION_BY_ZERO, "x")),
            Status::Error
        );
    }

    #[test]
    fn a_failed_write_is_an_error_with_sqlstate_58030() {
        // /dev/full accepts the open and fails every write with ENOSPC: a full disk.
        let log = AuditLog::open(Path::new("/dev/full")).unwrap();
        assert!(!log.is_failing());
        let err = log.append(&record("town", Status::Ok)).unwrap_err();
        assert_eq!(err.code, "58030");
        assert!(
            err.message.starts_with("audit log write failed: "),
            "{}",
            err.message
        );
        assert!(log.is_failing());
    }

    #[test]
    fn an_unopenable_log_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let err = AuditLog::open(&file.join("audit.jsonl")).unwrap_err();
        assert_eq!(err.code, "58030");
    }
}
