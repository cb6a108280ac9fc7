//! The shared fixture: one small demo city per test binary, one server per test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tokio_postgres::{Client, Config, NoTls};
use zhenjie_engine::{Engine, EngineOptions};

/// Persons in the test city: enough that a full scan spans several batches.
pub const PERSONS: usize = 20_000;

/// The generated test city (made once per test binary).
pub fn city_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("zhenjie-e2e-{}", std::process::id()));
        let opts = zhenjie_demo::DemoOptions {
            persons: PERSONS,
            seed: 7,
            ..Default::default()
        };
        zhenjie_demo::generate(&dir, &opts, false).expect("generate test city");
        dir
    })
}

/// The engine options of every test server unless a test says otherwise:
/// two partitions, so plans repartition as on the two-core machines we run on.
pub fn test_options() -> EngineOptions {
    EngineOptions {
        target_partitions: 2,
        cluster: test_cluster(),
        ..EngineOptions::default()
    }
}

/// With `ZJ_TEST_CLUSTER` set, servers started with the test options send
/// every plan that may travel to a local Ballista cluster (`min_bytes` 0):
/// `ZJ_TEST_CLUSTER=1 cargo test --test e2e governance` runs a suite
/// through it.
fn test_cluster() -> Option<zhenjie_engine::ClusterOptions> {
    #[cfg(feature = "cluster")]
    if std::env::var_os("ZJ_TEST_CLUSTER").is_some() {
        static SCHEDULER: OnceLock<String> = OnceLock::new();
        let scheduler = SCHEDULER.get_or_init(|| {
            // A runtime of its own: the cluster outlives any one test's.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    tx.send(start_cluster().await).unwrap();
                    std::future::pending::<()>().await
                })
            });
            rx.recv().unwrap()
        });
        return Some(zhenjie_engine::ClusterOptions {
            scheduler: scheduler.clone(),
            min_bytes: 0,
            tls: None,
        });
    }
    None
}

/// A scheduler and two executors (two task slots each) over the test city,
/// on loopback in this process; the scheduler's address.
#[cfg(feature = "cluster")]
pub async fn start_cluster() -> String {
    start_cluster_over(load_catalog()).await
}

/// [`start_cluster`] with executors reading `catalog` (its mask key, its
/// object stores).
#[cfg(feature = "cluster")]
pub async fn start_cluster_over(catalog: zhenjie_catalog::Catalog) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (functions, codec) = zhenjie_engine::cluster::scheduler_codec(Some(&catalog)).unwrap();
    let scheduler = zhenjie_cluster::start_scheduler(listener, codec, functions, None)
        .await
        .unwrap();
    let addr = scheduler.addr().to_string();
    // The scheduler serves for the rest of the test binary's life.
    Box::leak(Box::new(scheduler));
    for _ in 0..2 {
        let (functions, codec) = zhenjie_engine::cluster::executor_codec(&catalog).unwrap();
        zhenjie_cluster::start_executor(&addr, codec, functions, Default::default())
            .await
            .unwrap();
    }
    addr
}

/// Starts a server over the test city on 127.0.0.1:0 and returns its address.
pub async fn start_server() -> SocketAddr {
    start_server_with(test_options()).await
}

/// Starts a server over `catalog` (the test city changed by a test) with the
/// test options.
pub async fn start_server_for(catalog: zhenjie_catalog::Catalog) -> SocketAddr {
    start_server_over(catalog, test_options()).await
}

/// Starts a server that writes its audit records to `audit_path` (all test
/// servers share the city folder, so each audit test keeps its own log).
pub async fn start_server_with_audit(audit_path: &Path) -> SocketAddr {
    start_server_over_with_audit(load_catalog(), audit_path).await
}

/// Starts a server over `catalog` (the test city changed by a test) that
/// writes its audit records to `audit_path`.
pub async fn start_server_over_with_audit(
    catalog: zhenjie_catalog::Catalog,
    audit_path: &Path,
) -> SocketAddr {
    start_server_over(
        catalog,
        EngineOptions {
            audit_path: Some(audit_path.to_path_buf()),
            ..test_options()
        },
    )
    .await
}

/// The test city's catalog, freshly loaded (tests may change their copy).
pub fn load_catalog() -> zhenjie_catalog::Catalog {
    zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).expect("catalog")
}

/// Starts a server with explicit engine options.
pub async fn start_server_with(options: EngineOptions) -> SocketAddr {
    start_server_over(load_catalog(), options).await
}

/// Starts a server over a given catalog (e.g. the test city with extra users).
pub async fn start_server_over(
    catalog: zhenjie_catalog::Catalog,
    options: EngineOptions,
) -> SocketAddr {
    let engine = Engine::open(catalog, options).await.expect("engine");
    let server = zhenjie_server::Server::bind(engine, "127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    addr
}

/// Starts a server over the test city with these connection limits.
pub async fn start_server_with_limits(limits: zhenjie_server::ConnectionLimits) -> SocketAddr {
    let engine = Engine::open(load_catalog(), EngineOptions::default())
        .await
        .expect("engine");
    let server = zhenjie_server::Server::bind(engine, "127.0.0.1:0")
        .await
        .expect("bind")
        .with_connection_limits(limits);
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    addr
}

/// A server over the test city with its operations endpoint (`/metrics`,
/// `/health`) and its own audit log, stopped when `shutdown` fires (the
/// drain of SIGTERM, with a grace of ten seconds): the clients' address
/// and the endpoint's.
pub async fn start_server_with_ops(
    audit_path: &Path,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) -> (SocketAddr, SocketAddr) {
    let options = EngineOptions {
        audit_path: Some(audit_path.to_path_buf()),
        ..test_options()
    };
    let engine = Engine::open(load_catalog(), options).await.expect("engine");
    let server = zhenjie_server::Server::bind(engine, "127.0.0.1:0")
        .await
        .expect("bind")
        .with_ops("127.0.0.1:0")
        .await
        .expect("bind ops");
    let addr = server.local_addr().unwrap();
    let ops = server.ops_addr().unwrap();
    tokio::spawn(server.run_until(
        async move {
            let _ = shutdown.await;
        },
        std::time::Duration::from_secs(10),
    ));
    (addr, ops)
}

/// `GET path` from an HTTP endpoint: the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

/// One sample's value from Prometheus text, e.g.
/// `metric(&text, "zhenjie_statements_total{status=\"ok\"}")`.
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {sample} in {text}"))
}

/// Connection settings for a demo user.
pub fn config(addr: SocketAddr, user: &str, password: &str) -> Config {
    let mut c = Config::new();
    c.host(addr.ip().to_string())
        .port(addr.port())
        .user(user)
        .password(password)
        .dbname("zhenjie");
    c
}

/// Connects as a demo user (password `demo`), driving the connection in the background.
pub async fn connect(addr: SocketAddr, user: &str) -> Client {
    let (client, conn) = config(addr, user, "demo")
        .connect(NoTls)
        .await
        .expect("connect");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.code().code().to_string())
        .unwrap_or_else(|| format!("not a server error: {e}"))
}

/// The rows of a simple query as text (NULL as `None`).
pub async fn text_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

/// Writes the result of `sql` (plain DataFusion, no tables) to a Parquet
/// file, for tests that need data files of their own.
pub fn write_parquet(path: &Path, sql: &str) {
    write_parquet_in_groups(path, sql, 1024 * 1024)
}

/// [`write_parquet`] with row groups of at most `rows` rows, for tests of
/// what a scan skips.
pub fn write_parquet_in_groups(path: &Path, sql: &str, rows: usize) {
    write_parquet_with(path, sql, rows, false)
}

/// [`write_parquet_in_groups`], with a bloom filter on every column of
/// every row group when `bloom_filters`: what marks a file's lookup keys.
pub fn write_parquet_with(path: &Path, sql: &str, rows: usize, bloom_filters: bool) {
    let path = path.to_str().unwrap().to_string();
    let sql = sql.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let config = datafusion::prelude::SessionConfig::new()
                    .set_usize("datafusion.execution.parquet.max_row_group_size", rows)
                    .set_bool(
                        "datafusion.execution.parquet.bloom_filter_on_write",
                        bloom_filters,
                    );
                datafusion::prelude::SessionContext::new_with_config(config)
                    .sql(&sql)
                    .await
                    .unwrap()
                    .write_parquet(&path, Default::default(), None)
                    .await
                    .unwrap();
            })
    })
    .join()
    .unwrap();
}

/// The test city's catalog with one more Parquet dataset at `location` (a
/// file, or a folder ending in `/`), placed by its `area_code` column.
pub fn catalog_with_area_dataset(name: &str, location: &str) -> zhenjie_catalog::Catalog {
    use zhenjie_catalog::{Dataset, Format, Placement};
    let mut catalog = load_catalog();
    catalog.file.datasets.push(Dataset {
        snapshots: false,
        name: name.into(),
        location: location.into(),
        format: Format::Parquet,
        comment: String::new(),
        placement: Some(Placement::Column {
            column: "area_code".into(),
        }),
        columns: Default::default(),
        partitions: Vec::new(),
    });
    catalog
}

/// A copy of the test city's catalog in `dir`, changed by `change`: its
/// datasets still read the city's files, its audit log and everything the
/// server writes go to `dir`.
pub fn catalog_copy(dir: &Path, change: impl FnOnce(&mut zhenjie_catalog::CatalogFile)) -> PathBuf {
    let mut catalog = load_catalog();
    let base = catalog.clone();
    for d in &mut catalog.file.datasets {
        d.location = base.resolve_location(&d.location);
    }
    std::fs::copy(city_dir().join("mask.key"), dir.join("mask.key")).unwrap();
    change(&mut catalog.file);
    let path = dir.join("catalog.toml");
    let catalog =
        zhenjie_catalog::Catalog::from_parts(catalog.file, catalog.areas, dir.to_path_buf())
            .unwrap();
    catalog.save(&path).unwrap();
    path
}

/// A `zhenjie serve` process (the real binary), killed when dropped.
pub struct ServeProcess {
    pub child: std::process::Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Everything it has written on stderr so far.
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServeProcess {
    /// Starts `zhenjie serve --catalog CATALOG --listen 127.0.0.1:0 ARGS…`
    /// and waits until it says where it listens (a minute at most).
    pub fn start(catalog: &Path, args: &[&str]) -> ServeProcess {
        let catalog = catalog.to_str().expect("a UTF-8 path");
        let mut all = vec!["--listen", "127.0.0.1:0", "--catalog", catalog];
        all.extend_from_slice(args);
        ServeProcess::serve(&all)
    }

    /// Starts `zhenjie serve ARGS…` and waits until it says where it
    /// listens (a minute at most).
    pub fn serve(args: &[&str]) -> ServeProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zhenjie"))
            .arg("serve")
            .args(args)
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = std::io::BufReader::new(child.stderr.take().unwrap());
        let kept = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let addr = rest.split(';').next().unwrap_or_default().to_string();
                    let _ = tx.send(addr);
                }
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(addr) => addr.parse().expect("the address zhenjie prints"),
            Err(_) => {
                let _ = child.kill();
                panic!("zhenjie serve did not start: {}", stderr.lock().unwrap());
            }
        };
        ServeProcess {
            child,
            addr,
            stderr,
        }
    }

    /// Sends the process a signal (`kill -SIG pid`).
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end, `limit` at most; its exit status.
    pub fn wait_for_exit(
        &mut self,
        limit: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
