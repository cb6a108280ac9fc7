//! `zhenjie`: a thin command line over the library crates — serve a catalog
//! over the PostgreSQL protocol, link a list to the register, generate the
//! demo city, make password verifiers.

mod cluster;
mod link;
mod report;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zhenjie_catalog::{Catalog, ScramVerifier, DEFAULT_ITERATIONS};
use zhenjie_engine::{Engine, EngineOptions};

#[derive(Parser)]
#[command(
    name = "zhenjie",
    version,
    about = "A governed PostgreSQL-compatible SQL layer for a city's data"
)]
struct Cli {
    /// Log lines as text or as JSON objects (one per line, for log shippers).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve a catalog over the PostgreSQL wire protocol.
    Serve {
        /// The catalog file to serve.
        #[arg(long, conflicts_with = "demo")]
        catalog: Option<PathBuf>,
        /// Serve the demo city, generating it into --data first if it is not there.
        #[arg(long)]
        demo: bool,
        /// Folder of the demo city.
        #[arg(long, default_value = "data/demo")]
        data: PathBuf,
        /// Persons in the demo city when it has to be generated.
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:5433")]
        listen: String,
        /// Memory all queries together may use, in MiB.
        #[arg(long, default_value_t = 4096)]
        memory_mb: usize,
        /// Memory one statement may use of --memory-mb, in MiB (default: a
        /// quarter of it); beyond, it spills or fails with 53200.
        #[arg(long)]
        query_memory_mb: Option<usize>,
        /// PEM certificate chain: offer TLS to clients (with --tls-key).
        /// Without it, --demo makes a self-signed pair in DATA/tls on first
        /// start.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Sessions open at once, at most (beyond: SQLSTATE 53300).
        #[arg(long, default_value_t = 100)]
        max_connections: usize,
        /// Of --max-connections, those kept for city-level users with the
        /// admin role.
        #[arg(long, default_value_t = 3)]
        reserved_connections: usize,
        /// On SIGTERM or Ctrl-C: seconds running statements may take to
        /// finish before they are cancelled.
        #[arg(long, default_value_t = 20)]
        shutdown_grace: u64,
        /// Also serve GET /metrics (Prometheus) and /health over HTTP on
        /// this address.
        #[arg(long)]
        ops_listen: Option<String>,
        /// Refuse clients from other machines unless they use TLS (those
        /// on this machine may still connect without).
        #[arg(long)]
        require_tls_remote: bool,
        /// A Ballista cluster's scheduler (`host:port`, see `zhenjie
        /// scheduler`): statements reading at least --cluster-min-mb of
        /// files run there, governed here.
        #[arg(long)]
        scheduler: Option<String>,
        /// With --scheduler: statements reading fewer MB of files run here.
        #[arg(long, default_value_t = 256)]
        cluster_min_mb: u64,
        /// With --scheduler: the cluster's mutual TLS, a folder holding
        /// `ca.pem`, `cert.pem` and `key.pem` (see `zhenjie cluster-certs`).
        #[arg(long)]
        cluster_tls: Option<PathBuf>,
    },
    /// Run a cluster scheduler: it splits the governed plans `serve
    /// --scheduler` sends into stages for the executors.
    #[cfg(feature = "cluster")]
    Scheduler {
        /// Address to listen on; beyond this machine only with --cluster-tls.
        #[arg(long, default_value = "127.0.0.1:50050")]
        listen: String,
        /// The catalog, for its object stores (needed when datasets are on
        /// S3-compatible stores).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// The cluster's mutual TLS: a folder holding `ca.pem`, `cert.pem`
        /// and `key.pem` (see `zhenjie cluster-certs`).
        #[arg(long)]
        cluster_tls: Option<PathBuf>,
    },
    /// Run a cluster executor: it runs the stages its scheduler hands out,
    /// reading the catalog's files; the mask key comes from its own copy of
    /// the catalog.
    #[cfg(feature = "cluster")]
    Executor {
        /// The scheduler, `host:port`.
        #[arg(long)]
        scheduler: String,
        /// The catalog file (for the mask secret).
        #[arg(long)]
        catalog: PathBuf,
        /// Tasks run at once.
        #[arg(long, default_value_t = 2)]
        slots: usize,
        /// The cluster's mutual TLS: a folder holding `ca.pem`, `cert.pem`
        /// and `key.pem` (see `zhenjie cluster-certs`).
        #[arg(long)]
        cluster_tls: Option<PathBuf>,
        /// Where it serves its results to the other members; beyond this
        /// machine only with --cluster-tls.
        #[arg(long, default_value = "localhost:0")]
        listen: String,
        /// The host name the other members reach it by (its certificate
        /// must name it).
        #[arg(long, default_value = "localhost")]
        host: String,
    },
    /// Make a new cluster's certificates: a CA, and for each --host a
    /// folder `OUT/<host>/` to give that member's --cluster-tls.
    #[cfg(feature = "cluster")]
    ClusterCerts {
        /// Output folder (its files must not exist yet).
        #[arg(long)]
        out: PathBuf,
        /// A member's host name (repeat for each scheduler, executor and
        /// serve machine).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
    },
    /// Generate the demo city: Parquet files plus its catalog.
    Demo {
        /// Number of persons.
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// Output folder.
        #[arg(long, default_value = "data/demo")]
        out: PathBuf,
        /// Random seed; the same seed gives the same city.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Share of living residents on the dirty province list `dept_list`
        /// (its truth is written beside it, in dept_list_truth.parquet).
        #[arg(long, default_value_t = zhenjie_demo::DEFAULT_LIST_SHARE)]
        list_share: f64,
        /// `by-county`: tables placed by grid as one folder per county
        /// (`persons/county=370602/…`), as a province's object store holds
        /// them; a user's fence then picks the folders it reads.
        #[arg(long, value_enum, default_value = "flat")]
        layout: DemoLayout,
    },
    /// Link a department's list to the register as one user, and write every
    /// row the user may see with its match columns to a Parquet file the
    /// catalog can register (the batch form of `link_persons`).
    Link(link::LinkArgs),
    /// Render a report template for one user's area as CSV or XLSX (or list
    /// the templates with --list).
    Report(report::ReportArgs),
    /// Print the SCRAM-SHA-256 verifier of a password (read from stdin) for a
    /// catalog's `password` field.
    Verifier,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("zhenjie: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Cmd::Link(args) => link::run(&args),
        #[cfg(feature = "cluster")]
        Cmd::Scheduler {
            listen,
            catalog,
            cluster_tls,
        } => cluster::scheduler(&listen, catalog.as_deref(), cluster_tls.as_deref()),
        #[cfg(feature = "cluster")]
        Cmd::Executor {
            scheduler,
            catalog,
            slots,
            cluster_tls,
            listen,
            host,
        } => cluster::executor(
            &scheduler,
            &catalog,
            slots,
            cluster_tls.as_deref(),
            &listen,
            &host,
        ),
        #[cfg(feature = "cluster")]
        Cmd::ClusterCerts { out, hosts } => {
            zhenjie_cluster::make_certificates(&out, &hosts).map_err(|e| e.to_string())?;
            eprintln!("cluster certificates written to {}", out.display());
            Ok(())
        }
        Cmd::Report(args) => report::run(&args),
        Cmd::Demo {
            persons,
            out,
            seed,
            list_share,
            layout,
        } => {
            generate_demo(&out, persons, seed, list_share, layout.into())?;
            eprintln!("demo city written to {}", out.display());
            Ok(())
        }
        Cmd::Verifier => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| e.to_string())?;
            let salt: [u8; 16] = rand_salt();
            println!(
                "{}",
                ScramVerifier::derive(
                    password.trim_end_matches(['\n', '\r']),
                    &salt,
                    DEFAULT_ITERATIONS
                )
            );
            Ok(())
        }
        Cmd::Serve {
            catalog,
            demo,
            data,
            persons,
            listen,
            memory_mb,
            query_memory_mb,
            tls_cert,
            tls_key,
            max_connections,
            reserved_connections,
            shutdown_grace,
            ops_listen,
            require_tls_remote,
            scheduler,
            cluster_min_mb,
            cluster_tls,
        } => {
            let pair = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some((cert, key)),
                _ if demo => Some(
                    zhenjie_server::tls::self_signed(
                        &data.join("tls"),
                        &certificate_names(&listen),
                    )
                    .map_err(|e| format!("cannot make the demo's TLS certificate: {e}"))?,
                ),
                _ => None,
            };
            let tls = match &pair {
                Some((cert, key)) => {
                    Some(zhenjie_server::tls::acceptor(cert, key).map_err(|e| e.to_string())?)
                }
                None if require_tls_remote => {
                    return Err(
                        "--require-tls-remote needs a certificate (--tls-cert and --tls-key)"
                            .into(),
                    )
                }
                None => None,
            };
            let catalog = match (catalog, demo) {
                (Some(path), _) => Catalog::load(&path).map_err(|e| e.to_string())?,
                (None, true) => {
                    let path = data.join("catalog.toml");
                    if !path.exists() {
                        generate_demo(
                            &data,
                            persons,
                            42,
                            zhenjie_demo::DEFAULT_LIST_SHARE,
                            zhenjie_demo::Layout::Flat,
                        )?;
                    }
                    Catalog::load(&path).map_err(|e| e.to_string())?
                }
                (None, false) => return Err("give --catalog FILE or --demo".into()),
            };
            let options = EngineOptions {
                memory_limit: memory_mb << 20,
                statement_memory_limit: query_memory_mb.map(|mb| mb << 20),
                cluster: match scheduler {
                    None => None,
                    Some(scheduler) => Some(zhenjie_engine::ClusterOptions {
                        tls: cluster::front_end_tls(&scheduler, cluster_tls.as_deref())?,
                        scheduler,
                        min_bytes: cluster_min_mb << 20,
                    }),
                },
                ..EngineOptions::default()
            };
            runtime()?.block_on(async move {
                let engine = Engine::open(catalog, options)
                    .await
                    .map_err(|e| e.message)?;
                for w in engine.warnings() {
                    tracing::warn!("{w}");
                }
                let server_engine = engine.clone();
                let mut server = zhenjie_server::Server::bind(engine, &listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                if let Some(tls) = tls {
                    server = server.with_tls(tls).require_tls_remote(require_tls_remote);
                }
                if let Some((cert, _)) = &pair {
                    tracing::info!("TLS offered with {}", cert.display());
                }
                server = server.with_connection_limits(zhenjie_server::ConnectionLimits {
                    max: max_connections,
                    reserved_for_admins: reserved_connections,
                });
                if let Some(ops) = &ops_listen {
                    server = server
                        .with_ops(ops)
                        .await
                        .map_err(|e| format!("cannot listen on {ops}: {e}"))?;
                }
                let addr = server.local_addr().map_err(|e| e.to_string())?;
                if let Some(ops) = server.ops_addr() {
                    tracing::info!(
                        "metrics on http://{ops}/metrics, health on http://{ops}/health"
                    );
                }
                let warm = server_engine.clone();
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    match warm.prepare_scenarios().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            "policy rules answered for the city: {n} gaps in {:.1} s",
                            started.elapsed().as_secs_f64()
                        ),
                        Err(e) => tracing::warn!("policy rules: {}", e.message),
                    }
                });
                tracing::info!(
                    "zhenjie listening on {addr}; try: psql -h {} -p {} -U town zhenjie",
                    addr.ip(),
                    addr.port()
                );
                let stop = stop_signal().map_err(|e| e.to_string())?;
                server
                    .run_until(stop, std::time::Duration::from_secs(shutdown_grace))
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!("zhenjie stopped");
                Ok(())
            })
        }
    }
}

/// The names a demo certificate is made for: this machine by name and
/// loopback address, and the address it listens on when that is one host.
fn certificate_names(listen: &str) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let host = listen
        .rsplit_once(':')
        .map_or(listen, |(h, _)| h)
        .trim_matches(['[', ']']);
    let unspecified = host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    if !host.is_empty() && !unspecified && !names.iter().any(|n| n == host) {
        names.push(host.to_string());
    }
    names
}

/// Completes on SIGTERM (what service managers send) or Ctrl-C.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: shutting down"),
        }
    })
}

/// A runtime whose threads have the stack zhenjie's planning needs.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(zhenjie_engine::THREAD_STACK)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// A session of `user` over `catalog`, for the commands that act as one user.
async fn session_as(catalog: Catalog, user: &str) -> Result<zhenjie_engine::Session, String> {
    let engine = Engine::open(catalog, EngineOptions::default())
        .await
        .map_err(|e| e.message)?;
    let principal = engine
        .principal(user)
        .ok_or_else(|| format!("no user {user} in the catalog"))?;
    engine.session(principal).await.map_err(|e| e.message)
}

/// How `zhenjie demo` lays out the city's files (see [`zhenjie_demo::Layout`]).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DemoLayout {
    Flat,
    ByCounty,
}

impl From<DemoLayout> for zhenjie_demo::Layout {
    fn from(l: DemoLayout) -> Self {
        match l {
            DemoLayout::Flat => zhenjie_demo::Layout::Flat,
            DemoLayout::ByCounty => zhenjie_demo::Layout::ByCounty,
        }
    }
}

fn generate_demo(
    out: &Path,
    persons: usize,
    seed: u64,
    list_share: f64,
    layout: zhenjie_demo::Layout,
) -> Result<(), String> {
    let opts = zhenjie_demo::DemoOptions {
        persons,
        seed,
        list_share,
        layout,
    };
    zhenjie_demo::generate(out, &opts, true)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn rand_salt() -> [u8; 16] {
    rand::random()
}
