//! How a query runs for one principal: the embeddable API of zhenjie.
//!
//! [`Engine::open`] turns a [`zhenjie_catalog::Catalog`] into queryable tables;
//! [`Engine::session`] gives a principal a [`Session`] (one DataFusion
//! `SessionContext` of their own, with only the tables their fence lets them
//! see); [`Session::sql`] runs SQL and streams Arrow record batches back.
//!
//! Its parts, each a folder or file of its own:
//! * [`governance`] — what keeps each principal inside their area and their
//!   masks on: the one seam every scan goes through, and the rules allowed
//!   to reshape a governed plan (its module doc holds the security argument);
//! * [`session`] — one principal's statements: parsing, planning, commands,
//!   parameters, the row stream;
//! * [`audit`] — one record of every statement, and the `audit_log` table;
//! * [`postgres`] — what PostgreSQL clients expect: `pg_catalog`, settings,
//!   COPY, cursors, EXPLAIN;
//! * `speed` — rules that only change how fast a plan runs;
//! * `tables` and `query_runtime` — the catalog's datasets opened once per
//!   engine, and the threads queries run on.
//!
//! This crate knows nothing of the PostgreSQL wire protocol: `zhenjie-server`
//! is one front end over it; an embedding program is another.

pub mod audit;
#[cfg(feature = "cluster")]
pub mod cluster;
mod error;
pub mod governance;
pub mod linkage;
mod memory;
pub mod metrics;
pub mod postgres;
mod principal;
mod query_runtime;
pub mod scenarios;
pub mod session;
pub mod snapshots;
mod speed;
mod tables;

pub use error::{sqlstate, EngineError, Result};
pub use postgres::settings::{Settings, SERVER_VERSION, SERVER_VERSION_NUM};
pub use principal::Principal;
pub use session::{Output, RowStream, Session};

/// The schema every dataset lives in (under the catalog's database name),
/// as clients see it in `pg_namespace` and `information_schema`.
pub const SCHEMA: &str = "public";

/// The stack a front end should give the threads that poll sessions:
/// parsing and planning recurse through a statement's depth, and run on a
/// stack of their own whenever the polling thread has less than half of
/// this left (fine, but an allocation per poll).
pub const THREAD_STACK: usize = session::depth::STACK;

/// Field metadata naming the PostgreSQL type of a column Arrow carries as
/// text (`json`, `jsonb`, `uuid`), so a front end can report that type.
pub const PG_TYPE_KEY: &str = "zhenjie.pg_type";

use datafusion::catalog::TableProvider;
use datafusion::execution::memory_pool::GreedyMemoryPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zhenjie_catalog::Catalog;

/// Resource settings shared by every session of an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Memory all running queries together may use; a query that needs more
    /// fails with SQLSTATE 53200 instead of taking the server down.
    pub memory_limit: usize,
    /// Memory one statement may use of that (its operators spill at it, or
    /// the statement fails with 53200, the others unaffected); `None`: a
    /// quarter of `memory_limit`.
    pub statement_memory_limit: Option<usize>,
    /// Parallelism of one query (DataFusion target partitions).
    pub target_partitions: usize,
    /// Rows per record batch.
    pub batch_size: usize,
    /// The audit log file (JSON lines, appended and synced per statement);
    /// `None`: `audit/audit.jsonl` beside the catalog file.
    pub audit_path: Option<PathBuf>,
    /// Scalar functions an embedding program adds to every session (its own
    /// domain functions), beside zhenjie's; they see only what the session's
    /// governance lets through, like any function in a query.
    pub functions: Vec<datafusion::logical_expr::ScalarUDF>,
    /// A Ballista cluster big statements run on (see `cluster`); `None`:
    /// every statement runs here.
    pub cluster: Option<ClusterOptions>,
}

/// What the engine reaches its cluster with: the codec plans travel in, and
/// the cluster's TLS, read once when the engine opens.
#[cfg(feature = "cluster")]
#[derive(Debug)]
pub(crate) struct ClusterLink {
    pub(crate) codec: cluster::ZhenjieCodec,
    pub(crate) tls: Option<zhenjie_cluster::Tls>,
}

/// Where a statement's plan runs when the engine has a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The scheduler, `host:port`.
    pub scheduler: String,
    /// Plans reading fewer file bytes than this run here: a cluster job
    /// costs tens of milliseconds before it reads a row.
    pub min_bytes: u64,
    /// The cluster's mutual TLS; `None` only for a cluster on one machine.
    pub tls: Option<ClusterTls>,
}

/// The cluster's mutual TLS as PEM: the CA that signs every member's
/// certificate, and this front end's certificate and key. Schedulers and
/// executors run whatever plan reaches them, so only members may reach them.
#[derive(Clone)]
pub struct ClusterTls {
    /// The cluster CA's certificate.
    pub ca: Vec<u8>,
    /// This front end's certificate, signed by the CA.
    pub cert: Vec<u8>,
    /// Its private key.
    pub key: Vec<u8>,
}

impl ClusterTls {
    /// A member's folder as `zhenjie cluster-certs` writes it: `ca.pem`,
    /// `cert.pem` and `key.pem`. An error names the file.
    pub fn from_dir(dir: &std::path::Path) -> std::io::Result<ClusterTls> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        Ok(ClusterTls {
            ca: read("ca.pem")?,
            cert: read("cert.pem")?,
            key: read("key.pem")?,
        })
    }
}

impl std::fmt::Debug for ClusterTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterTls { .. }")
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memory_limit: 4 << 30,
            statement_memory_limit: None,
            target_partitions: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            batch_size: 8192,
            audit_path: None,
            functions: Vec::new(),
            cluster: None,
        }
    }
}

/// An opened catalog: the shared, principal-independent part of query
/// execution. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("database", &self.inner.catalog.file.database)
            .finish_non_exhaustive()
    }
}

struct EngineInner {
    catalog: Catalog,
    tables: BTreeMap<String, Arc<dyn TableProvider>>,
    runtime: Arc<RuntimeEnv>,
    options: EngineOptions,
    audit: Arc<audit::AuditLog>,
    /// Where queries run, apart from the connections' threads.
    queries: query_runtime::QueryRuntime,
    /// The last session id handed out.
    sessions: AtomicU64,
    /// What the operator should review in the catalog (see
    /// [`Engine::warnings`]).
    warnings: Vec<String>,
    /// `link_persons` results kept while their inputs stay the same.
    link_cache: linkage::LinkCache,
    /// The last `policy_gaps` answer.
    gaps_cache: scenarios::GapsCache,
    /// The catalog's views and those the engine adds for its rules.
    views: Vec<zhenjie_catalog::View>,
    /// How plans reach the cluster, if there is one.
    #[cfg(feature = "cluster")]
    cluster: Option<Arc<ClusterLink>>,
}

impl Engine {
    /// Opens every dataset of the catalog, checking that its files can be read
    /// and that the columns the catalog names exist, and the audit log. Errors
    /// name the dataset or the file.
    pub async fn open(catalog: Catalog, options: EngineOptions) -> Result<Engine> {
        if catalog.dataset(audit::TABLE).is_some() {
            return Err(EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "dataset name {} is reserved for the audit log",
                    audit::TABLE
                ),
            ));
        }
        let audit_path = options
            .audit_path
            .clone()
            .unwrap_or_else(|| catalog.base_dir.join("audit").join("audit.jsonl"));
        let audit = Arc::new(audit::AuditLog::open(&audit_path)?);
        // Folders are listed at every plan: DataFusion's cache of listings
        // keeps a replaced file's old size and date with no expiry, and the
        // next query of a dataset whose files were swapped (the nightly
        // load) fails reading it. File statistics and footers stay cached;
        // their caches check each file's size and date.
        let caches = datafusion::execution::cache::cache_manager::CacheManagerConfig::default()
            .with_list_files_cache_limit(0);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(options.memory_limit)))
            .with_cache_manager(caches)
            .build_arc()
            .map_err(EngineError::from)?;
        let tables = tables::open_all(&catalog, &runtime, &options).await?;
        let queries = query_runtime::QueryRuntime::new(options.target_partitions).map_err(|e| {
            EngineError::new(sqlstate::INTERNAL_ERROR, format!("query runtime: {e}"))
        })?;
        let warnings = governance::derived::review(&catalog, &tables);
        let views = catalog
            .file
            .views
            .iter()
            .cloned()
            .chain(scenarios::views(&catalog))
            .collect();
        #[cfg(feature = "cluster")]
        let cluster_codec = match &options.cluster {
            None => None,
            Some(c) => Some(Arc::new(ClusterLink {
                codec: cluster::ZhenjieCodec::new(&cluster::functions(), None),
                tls: c
                    .tls
                    .as_ref()
                    .map(|t| {
                        zhenjie_cluster::Tls::from_pem(t.ca.clone(), t.cert.clone(), t.key.clone())
                    })
                    .transpose()
                    .map_err(|e| {
                        EngineError::new(sqlstate::INVALID_PARAMETER_VALUE, e.to_string())
                    })?,
            })),
        };
        #[cfg(not(feature = "cluster"))]
        if options.cluster.is_some() {
            return Err(EngineError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "this zhenjie was built without the cluster feature",
            ));
        }
        let engine = Engine {
            inner: Arc::new(EngineInner {
                warnings,
                catalog,
                tables,
                runtime,
                options,
                audit,
                queries,
                sessions: AtomicU64::new(0),
                link_cache: Default::default(),
                gaps_cache: Default::default(),
                views,
                #[cfg(feature = "cluster")]
                cluster: cluster_codec,
            }),
        };
        session::check_views(&engine).await?;
        scenarios::check_rules(&engine).await?;
        session::check_reports(&engine).await?;
        Ok(engine)
    }

    /// The catalog this engine serves.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Things in the catalog an operator should review, found when it was
    /// opened: today, unclassed dates and amounts beside classed columns,
    /// which may carry what a mask hides. `serve` prints them.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The principal a catalog user logs in as, if the user exists.
    pub fn principal(&self, user: &str) -> Option<Principal> {
        Principal::from_catalog(&self.inner.catalog, user)
    }

    /// Audits a failed login (status `denied`, SQLSTATE 28P01): under the
    /// user's own area when the name is a user's, under the city's when it
    /// is not (so only city-level auditors see guesses at names).
    pub fn audit_failed_login(&self, user: &str, client_addr: Option<String>) -> Result<()> {
        let principal = self
            .principal(user)
            .or_else(|| Principal::platform(&self.inner.catalog))
            .ok_or_else(|| EngineError::new("XX000", "the catalog has no city area"))?;
        let mut record = audit::Pending::start(&principal, 0, client_addr, audit::FAILED_LOGIN)
            .failed(
                0,
                &EngineError::new(
                    "28P01",
                    format!("password authentication failed for user \"{user}\""),
                ),
            );
        record.user = user.to_string();
        self.audit().append(&record)
    }

    /// A new session for `principal`, seeing only what their fence allows.
    pub async fn session(&self, principal: Principal) -> Result<Session> {
        Session::new(self.clone(), principal).await
    }

    pub(crate) fn table(&self, name: &str) -> Option<&Arc<dyn TableProvider>> {
        self.inner.tables.get(name)
    }

    pub(crate) fn link_cache(&self) -> &linkage::LinkCache {
        &self.inner.link_cache
    }

    pub(crate) fn gaps_cache(&self) -> &scenarios::GapsCache {
        &self.inner.gaps_cache
    }

    /// Answers the catalog's policy rules for the whole city now and keeps
    /// the answer (see `scenarios`), so the first `policy_gaps` of the day
    /// is as fast as the next; returns how many gaps there are. A server
    /// calls it in the background once it listens.
    pub async fn prepare_scenarios(&self) -> Result<usize> {
        scenarios::prepare(self).await
    }

    /// The views every session may be given: the catalog's, and those the
    /// engine adds for its policy rules (`policy_gaps`, `policy_rules`).
    pub fn views(&self) -> &[zhenjie_catalog::View] {
        &self.inner.views
    }

    pub(crate) fn runtime(&self) -> &Arc<RuntimeEnv> {
        &self.inner.runtime
    }

    /// The cluster's options and the codec plans travel with, if the engine
    /// has one.
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(&self) -> Option<(&ClusterOptions, &ClusterLink)> {
        Some((
            self.inner.options.cluster.as_ref()?,
            self.inner.cluster.as_deref()?,
        ))
    }

    pub(crate) fn queries(&self) -> &query_runtime::QueryRuntime {
        &self.inner.queries
    }

    pub(crate) fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// The runtime one statement executes in: the engine's, with the
    /// statement's share of the memory pool (see `memory`).
    pub(crate) fn statement_runtime(&self) -> Result<Arc<RuntimeEnv>> {
        let options = &self.inner.options;
        let share = options
            .statement_memory_limit
            .unwrap_or(options.memory_limit / 4)
            .min(options.memory_limit);
        let pool = memory::StatementPool::new(self.inner.runtime.memory_pool.clone(), share);
        RuntimeEnvBuilder::from_runtime_env(&self.inner.runtime)
            .with_memory_pool(Arc::new(pool))
            .build_arc()
            .map_err(EngineError::from)
    }

    /// Where this engine's audit records go.
    pub fn audit_path(&self) -> &Path {
        self.inner.audit.path()
    }

    pub(crate) fn audit(&self) -> &Arc<audit::AuditLog> {
        &self.inner.audit
    }

    /// The operations metrics (see [`metrics`]); a front end adds its own.
    pub fn metrics(&self) -> &metrics::Metrics {
        self.inner.audit.metrics()
    }

    /// Every metric in Prometheus' text format, memory in use read now.
    pub fn metrics_text(&self) -> String {
        self.metrics()
            .encode(self.inner.runtime.memory_pool.reserved())
    }

    /// Whether the engine can serve data: false while the audit log cannot
    /// be written (queries are refused then). For health checks.
    pub fn healthy(&self) -> Result<(), &'static str> {
        if self.inner.audit.is_failing() {
            Err("the audit log cannot be written")
        } else {
            Ok(())
        }
    }

    /// A fresh session id (1, 2, …), unique within this engine.
    pub(crate) fn next_session_id(&self) -> u64 {
        self.inner.sessions.fetch_add(1, Ordering::Relaxed) + 1
    }
}
