//! Governed plans executed on a Ballista cluster: a scheduler and two
//! executors on loopback, a server sending every plan it may there
//! (`min_bytes` 0), and the same server without a cluster. Every user gets
//! the same rows either way: fences and masks are in the plan before it
//! travels, and the executors hash with the key of their own catalog.

use crate::common::*;
use std::net::SocketAddr;
use zhenjie_engine::{ClusterOptions, Engine, EngineOptions};

async fn serve(options: EngineOptions) -> (SocketAddr, Engine) {
    let engine = Engine::open(load_catalog(), options).await.expect("engine");
    let server = zhenjie_server::Server::bind(engine.clone(), "127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    (addr, engine)
}

/// A server sending every plan that may travel to the cluster at
/// `scheduler`, however small.
async fn serve_on_cluster(scheduler: String) -> (SocketAddr, Engine) {
    serve(EngineOptions {
        cluster: Some(ClusterOptions {
            scheduler,
            min_bytes: 0,
            tls: None,
        }),
        ..test_options()
    })
    .await
}

fn on_cluster(engine: &Engine) -> u64 {
    engine
        .metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix("zhenjie_statements_on_cluster_total "))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or(0)
}

const QUERIES: &[&str] = &[
    // (A plain count is read off the files' statistics at city level: a
    // filter makes every level scan.)
    "SELECT count(*) FROM persons WHERE is_alive",
    "SELECT substr(grid_code, 1, 9) AS town, sex, count(*), min(birth_date) FROM persons GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT id_number, name, phone FROM persons WHERE birth_date < DATE '1950-01-01' ORDER BY id_number LIMIT 20",
    "SELECT c.channel, count(*) FROM social_security_cards c GROUP BY c.channel ORDER BY 1",
    "SELECT p.sex, count(*) FROM persons p JOIN social_security_cards c ON c.id_number = p.id_number GROUP BY p.sex ORDER BY 1",
    "SELECT count(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM social_security_cards c WHERE c.id_number = p.id_number)",
    // PostgreSQL's EXTRACT and to_char, as every session has them.
    "SELECT EXTRACT(year FROM month) AS y, to_char(min(month), 'YYYY-MM'), count(*) FROM subsidy_payments GROUP BY 1 ORDER BY 1 LIMIT 5",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn governed_queries_run_on_the_cluster_with_the_rows_they_have_here() {
    let scheduler = start_cluster().await;
    let (local, _) = serve(test_options()).await;
    let (clustered, engine) = serve_on_cluster(scheduler).await;
    for user in ["city", "county", "town", "village", "grid"] {
        let here = connect(local, user).await;
        let there = connect(clustered, user).await;
        for sql in QUERIES {
            let before = on_cluster(&engine);
            let expected = text_rows(&here, sql).await;
            let got = text_rows(&there, sql).await;
            assert_eq!(got, expected, "{user}: {sql}");
            assert_eq!(
                on_cluster(&engine),
                before + 1,
                "{user}: {sql} ran on the cluster"
            );
        }
    }
    // A town user's rows are its town's on the cluster too.
    let town = connect(clustered, "town").await;
    let towns = text_rows(
        &town,
        "SELECT DISTINCT substr(grid_code, 1, 9) FROM persons",
    )
    .await;
    assert_eq!(towns.len(), 1, "{towns:?}");
}

/// What executors cannot run as the session planned it (the session's
/// PostgreSQL functions, `pg_catalog`) runs here, with its answer, and
/// EXPLAIN says where a statement runs and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plans_the_cluster_cannot_run_as_planned_run_here() {
    let scheduler = start_cluster().await;
    let (clustered, engine) = serve_on_cluster(scheduler).await;
    let town = connect(clustered, "town").await;
    for sql in [
        // A catalog-support function of the session's, which executors
        // do not register.
        "SELECT pg_encoding_to_char(count(*)) FROM persons",
        "SELECT count(*) FROM pg_catalog.pg_class",
        // A scalar subquery's value is used where it is computed.
        "SELECT count(*) FROM persons WHERE id_number = (SELECT max(id_number) FROM persons)",
        // No files at all.
        "SELECT 1 + 1",
    ] {
        let before = on_cluster(&engine);
        let rows = text_rows(&town, sql).await;
        assert_eq!(rows.len(), 1, "{sql}");
        assert_eq!(on_cluster(&engine), before, "{sql} ran here");
    }
    let route = |sql: &str| {
        let town = &town;
        let sql = format!("EXPLAIN {sql}");
        async move {
            text_rows(town, &sql)
                .await
                .into_iter()
                .find(|r| r[0].as_deref() == Some("zhenjie_route"))
                .and_then(|r| r[1].clone())
                .unwrap()
        }
    };
    assert_eq!(
        route("SELECT count(*) FROM persons").await,
        "runs on the cluster: it reads enough to be worth a cluster"
    );
    // The city level sees how many bytes (the whole city's files).
    let city = connect(clustered, "city").await;
    let sized = text_rows(&city, "EXPLAIN SELECT count(*) FROM persons WHERE is_alive").await;
    let sized = sized.last().and_then(|r| r[1].clone()).unwrap();
    assert!(
        sized.starts_with("runs on the cluster: it reads ") && sized.ends_with(" MB of files"),
        "{sized}"
    );
    let here = route("SELECT count(*) FROM pg_catalog.pg_class").await;
    assert!(here.starts_with("runs on this node: it holds "), "{here}");
    let here = route("SELECT pg_encoding_to_char(count(*)) FROM persons").await;
    assert!(here.contains("pg_encoding_to_char"), "{here}");
}

/// A statement timeout (and a cancel request) reaches the cluster job: the
/// scheduler cancels it, and the executors are free for the next statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_statement_timeout_cancels_the_cluster_job() {
    let scheduler = start_cluster().await;
    let (clustered, engine) = serve_on_cluster(scheduler).await;
    let city = connect(clustered, "city").await;
    city.batch_execute("SET statement_timeout = '1s'")
        .await
        .unwrap();
    let cancelled = zhenjie_cluster::cancelled_jobs();
    let started = std::time::Instant::now();
    let err = city
        .simple_query("SELECT count(*) FROM persons a, persons b, persons c WHERE a.is_alive")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::QUERY_CANCELED),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while zhenjie_cluster::cancelled_jobs() == cancelled {
        assert!(
            std::time::Instant::now() < deadline,
            "the job was not cancelled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The executors take the next job.
    city.batch_execute("SET statement_timeout = 0")
        .await
        .unwrap();
    let before = on_cluster(&engine);
    let rows = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        text_rows(&city, "SELECT count(*) FROM persons WHERE is_alive"),
    )
    .await
    .expect("the next cluster job runs");
    assert_eq!(rows.len(), 1);
    assert_eq!(on_cluster(&engine), before + 1);
}

/// A child process killed when the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn zhenjie(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_zhenjie"));
    command.args(args).stdout(std::process::Stdio::null());
    command
}

/// The same binary is every process of the cluster: `zhenjie scheduler` and
/// `zhenjie executor` (which reads the mask key from its own copy of the
/// catalog) serve a server's statements. Without the cluster's mutual TLS
/// neither takes an address other machines reach; with the certificates of
/// `zhenjie cluster-certs` the scheduler listens on every interface.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_binary_runs_a_scheduler_and_executors() {
    let out = zhenjie(&["scheduler", "--listen", "0.0.0.0:0"])
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("mutual TLS"), "{said}");
    // A cluster across machines, here all on this one: the members'
    // certificates from `zhenjie cluster-certs`.
    let certs = tempfile::tempdir().unwrap();
    let made = zhenjie(&[
        "cluster-certs",
        "--out",
        certs.path().to_str().unwrap(),
        "--host",
        "localhost",
    ])
    .status()
    .unwrap();
    assert!(made.success());
    // Certificates are never overwritten: a second run into the same
    // folder is refused, and says why.
    let again = zhenjie(&[
        "cluster-certs",
        "--out",
        certs.path().to_str().unwrap(),
        "--host",
        "localhost",
    ])
    .stderr(std::process::Stdio::piped())
    .output()
    .unwrap();
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("never replaced"), "{said}");
    let member = certs.path().join("localhost");
    let member_tls = member.to_str().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scheduler = format!("localhost:{port}");
    let _scheduler = Child(
        zhenjie(&[
            "scheduler",
            "--listen",
            &format!("0.0.0.0:{port}"),
            "--cluster-tls",
            member_tls,
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap(),
    );
    // Up once it accepts connections.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while tokio::net::TcpStream::connect(&scheduler).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "no scheduler");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let catalog = city_dir().join("catalog.toml");
    let _executor = Child(
        zhenjie(&[
            "executor",
            "--scheduler",
            &scheduler,
            "--catalog",
            catalog.to_str().unwrap(),
            "--cluster-tls",
            member_tls,
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap(),
    );
    let (local, _) = serve(test_options()).await;
    let (clustered, engine) = serve(EngineOptions {
        cluster: Some(ClusterOptions {
            scheduler,
            min_bytes: 0,
            tls: Some(front_end_tls(&member)),
        }),
        ..test_options()
    })
    .await;
    // County users read keyed hashes of identity numbers: the executor
    // process computes them with its own key, and they are the same.
    let sql = "SELECT id_number, sex FROM persons ORDER BY id_number LIMIT 5";
    let expected = text_rows(&connect(local, "county").await, sql).await;
    let there = connect(clustered, "county").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        // The executor registers with the scheduler shortly after it starts.
        let before = on_cluster(&engine);
        let got = text_rows(&there, sql).await;
        assert_eq!(got, expected);
        if on_cluster(&engine) == before + 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never ran on the cluster"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// An error on an executor reaches the client with PostgreSQL's SQLSTATE,
/// as it would from this node.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_on_the_cluster_keep_their_sqlstate() {
    let scheduler = start_cluster().await;
    let (clustered, engine) = serve_on_cluster(scheduler).await;
    let town = connect(clustered, "town").await;
    let before = on_cluster(&engine);
    let err = town
        .simple_query("SELECT count(*) / (count(*) - count(*)) FROM persons")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::DIVISION_BY_ZERO),
        "{err}"
    );
    let route = text_rows(
        &town,
        "EXPLAIN SELECT count(*) / (count(*) - count(*)) FROM persons",
    )
    .await;
    assert_eq!(on_cluster(&engine), before + 1, "{:?}", route.last());
}

/// A member's `--cluster-tls` folder as the front end's options take it.
fn front_end_tls(member: &std::path::Path) -> zhenjie_engine::ClusterTls {
    zhenjie_engine::ClusterTls::from_dir(member).unwrap()
}

/// How a client comes to a member's gRPC server.
enum Peer<'a> {
    /// Plain gRPC.
    Plain,
    /// TLS trusting the cluster's CA (`ca`'s `ca.pem`: it is no secret),
    /// presenting no certificate or that of `identity`'s folder.
    Tls {
        ca: &'a std::path::Path,
        identity: Option<&'a std::path::Path>,
    },
}

/// Whether the gRPC server at `addr` (an executor's) answers `peer` with
/// the service's own reply rather than a refused connection.
async fn flight_answers(addr: &str, peer: Peer<'_>) -> bool {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
    let endpoint = match peer {
        Peer::Plain => Endpoint::from_shared(format!("http://{addr}")).unwrap(),
        Peer::Tls { ca, identity } => {
            let read = |dir: &std::path::Path, name: &str| std::fs::read(dir.join(name)).unwrap();
            let mut tls =
                ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca, "ca.pem")));
            if let Some(dir) = identity {
                tls = tls.identity(Identity::from_pem(
                    read(dir, "cert.pem"),
                    read(dir, "key.pem"),
                ));
            }
            Endpoint::from_shared(format!("https://{addr}"))
                .unwrap()
                .tls_config(tls)
                .unwrap()
        }
    };
    let Ok(channel) = endpoint.connect().await else {
        return false;
    };
    let mut client = arrow_flight::flight_service_client::FlightServiceClient::new(channel);
    match client.list_flights(arrow_flight::Criteria::default()).await {
        Ok(_) => true,
        // Ballista's flight service does not list flights: it answered.
        Err(status) => status.code() == tonic::Code::Unimplemented,
    }
}

/// With the cluster's mutual TLS, governed plans run as before, and every
/// member refuses a peer without a certificate from the cluster's CA: a
/// front end speaking plain gRPC, or trusting the cluster's (public) CA but
/// presenting another CA's certificate, cannot submit to the scheduler, and
/// neither can fetch from an executor, nor can a TLS client with no
/// certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_with_mutual_tls_takes_plans_from_members_only() {
    let certs = tempfile::tempdir().unwrap();
    let localhost = vec!["localhost".to_string()];
    zhenjie_cluster::make_certificates(&certs.path().join("city"), &localhost).unwrap();
    zhenjie_cluster::make_certificates(&certs.path().join("rogue"), &localhost).unwrap();
    let member = certs.path().join("city/localhost");
    let rogue = certs.path().join("rogue/localhost");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in [certs.path().join("city/ca.key"), member.join("key.pem")] {
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is readable by others", key.display());
        }
    }
    let tls = zhenjie_cluster::Tls::from_dir(&member).unwrap();
    let catalog = load_catalog();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (functions, codec) = zhenjie_engine::cluster::scheduler_codec(Some(&catalog)).unwrap();
    let scheduler = zhenjie_cluster::start_scheduler(listener, codec, functions, Some(&tls))
        .await
        .unwrap();
    // The name its certificate gives.
    let addr = format!("localhost:{}", scheduler.addr().port());
    let mut executors = Vec::new();
    for _ in 0..2 {
        let (functions, codec) = zhenjie_engine::cluster::executor_codec(&catalog).unwrap();
        let options = zhenjie_cluster::ExecutorOptions {
            tls: Some(tls.clone()),
            ..Default::default()
        };
        executors.push(
            zhenjie_cluster::start_executor(&addr, codec, functions, options)
                .await
                .unwrap(),
        );
    }
    let on = |tls| EngineOptions {
        cluster: Some(ClusterOptions {
            scheduler: addr.clone(),
            min_bytes: 0,
            tls,
        }),
        ..test_options()
    };
    let (local, _) = serve(test_options()).await;
    let (clustered, engine) = serve(on(Some(front_end_tls(&member)))).await;
    // Shuffles between the executors go over TLS too: a join.
    for sql in [
        "SELECT id_number, sex FROM persons ORDER BY id_number LIMIT 5",
        "SELECT h.household_no, count(*) FROM households h JOIN persons p \
         ON p.household_no = h.household_no GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
    ] {
        for user in ["county", "town"] {
            let expected = text_rows(&connect(local, user).await, sql).await;
            let before = on_cluster(&engine);
            let got = text_rows(&connect(clustered, user).await, sql).await;
            assert_eq!(got, expected, "{user}: {sql}");
            assert_eq!(
                on_cluster(&engine),
                before + 1,
                "{user}: {sql} ran on the cluster"
            );
        }
    }

    let impostor = zhenjie_engine::ClusterTls {
        ca: std::fs::read(member.join("ca.pem")).unwrap(),
        ..front_end_tls(&rogue)
    };
    for (who, tls) in [
        ("plain gRPC", None),
        ("another CA's certificate", Some(impostor)),
    ] {
        let (outsider, _) = serve(on(tls)).await;
        let err = connect(outsider, "town")
            .await
            .simple_query("SELECT count(*) FROM persons")
            .await
            .expect_err(who);
        assert!(err.as_db_error().is_some(), "{who}: {err}");
    }
    for executor in &executors {
        let tls = |identity| Peer::Tls {
            ca: &member,
            identity,
        };
        assert!(
            flight_answers(executor, tls(Some(&member))).await,
            "{executor}"
        );
        assert!(
            !flight_answers(executor, Peer::Plain).await,
            "{executor}: plain"
        );
        assert!(
            !flight_answers(executor, tls(None)).await,
            "{executor}: no certificate"
        );
        assert!(
            !flight_answers(executor, tls(Some(&rogue))).await,
            "{executor}: rogue"
        );
    }
}
