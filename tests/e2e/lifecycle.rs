//! A connection's life and the server's: idle sessions end
//! (`idle_session_timeout`, 57P05), results over a user's row limit end
//! (54000), and SIGTERM stops the server without losing running work.

use crate::common::*;
use std::time::{Duration, Instant};

/// About a second of work on two cores, whatever the user.
const BUSY: &str = "SELECT count(*) FROM range(300000000) a WHERE a.value % 7 = 3";

/// The catalog's `idle_session_timeout` (per user or level) ends a session
/// that waits too long for its next statement, with PostgreSQL's FATAL;
/// a statement running longer than the timeout is not cut; SET changes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_end_with_57p05() {
    let mut catalog = load_catalog();
    catalog.file.levels.push(zhenjie_catalog::LevelDefaults {
        level: zhenjie_catalog::Level::Grid,
        statement_timeout: None,
        idle_session_timeout: Some("400ms".into()),
        max_result_rows: None,
    });
    let addr = start_server_for(catalog).await;
    let (grid, conn) = config(addr, "grid", "demo")
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let show = grid
        .query_one("SHOW idle_session_timeout", &[])
        .await
        .unwrap();
    assert_eq!(show.get::<_, String>(0), "400ms");
    // Busy for longer than the timeout: not idle.
    grid.query_one(BUSY, &[]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the server closed the idle session")
        .unwrap()
        .expect_err("closed with an error");
    assert_eq!(sqlstate(&ended), "57P05", "{ended}");
    assert!(grid.query_one("SELECT 1", &[]).await.is_err());

    // Another grid session turns it off and stays.
    let (grid, conn) = config(addr, "grid", "demo")
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    grid.batch_execute("SET idle_session_timeout = 0")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        grid.query_one("SELECT 7", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        7
    );
    assert!(!conn.is_finished());
    // A user of another level has none.
    let town = connect(addr, "town").await;
    let show = town
        .query_one("SHOW idle_session_timeout", &[])
        .await
        .unwrap();
    assert_eq!(show.get::<_, String>(0), "0");
    let err = town
        .batch_execute("SET idle_session_timeout = 'soon'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
}

/// A user's statements return at most their `max_result_rows` rows: more
/// is 54000 (no row past the limit sent), through queries, COPY and
/// cursors alike; aggregates over more rows are fine; the export role
/// lifts the limit; the refused statement is audited with its SQLSTATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_over_a_users_row_limit_are_refused_with_54000() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut catalog = load_catalog();
    catalog.file.levels.push(zhenjie_catalog::LevelDefaults {
        level: zhenjie_catalog::Level::Town,
        statement_timeout: None,
        idle_session_timeout: None,
        max_result_rows: Some(100),
    });
    // `penglai` is a town user too, given the export role.
    for u in &mut catalog.file.users {
        if u.name == "penglai" {
            u.roles.push(zhenjie_catalog::EXPORT_ROLE.into());
        }
    }
    let addr = start_server_over_with_audit(catalog, &log).await;
    let town = connect(addr, "town").await;
    let n: i64 = town
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    assert!(n > 100, "the town has {n} residents");
    assert_eq!(
        town.query("SELECT name FROM persons LIMIT 100", &[])
            .await
            .unwrap()
            .len(),
        100
    );
    let over = "SELECT name FROM persons LIMIT 101";
    let err = town.query(over, &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err}");
    let message = err.as_db_error().unwrap().message();
    assert!(message.contains("export role"), "{message}");
    let err = town
        .simple_query("SELECT * FROM persons")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "54000");
    // COPY and a cursor are statements like any other.
    let copy = town
        .copy_out("COPY (SELECT name FROM persons) TO STDOUT")
        .await;
    let copied = match copy {
        Ok(stream) => {
            futures::pin_mut!(stream);
            let mut result = Ok(());
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                if let Err(e) = chunk {
                    result = Err(e);
                    break;
                }
            }
            result
        }
        Err(e) => Err(e),
    };
    assert_eq!(sqlstate(&copied.unwrap_err()), "54000");
    town.batch_execute("BEGIN; DECLARE c CURSOR FOR SELECT name FROM persons")
        .await
        .unwrap();
    town.query("FETCH 60 FROM c", &[]).await.unwrap();
    let err = town.query("FETCH 60 FROM c", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "54000");
    town.batch_execute("ROLLBACK").await.unwrap();
    // The session goes on.
    town.query_one("SELECT 1", &[]).await.unwrap();
    // The export role: the whole town.
    let penglai = connect(addr, "penglai").await;
    let all: i64 = penglai
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    assert!(all > 100);
    assert_eq!(
        penglai
            .query("SELECT name FROM persons", &[])
            .await
            .unwrap()
            .len() as i64,
        all
    );
    // The refusal is in the audit log.
    let text = std::fs::read_to_string(&log).unwrap();
    let record: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["statement"] == over)
        .expect("audited");
    assert_eq!(record["status"], "error");
    assert_eq!(record["sqlstate"], "54000");
}

/// SIGTERM: no new connection is accepted, a session waiting for its next
/// statement ends with FATAL 57P01, a running statement finishes and its
/// client gets the answer, the process exits 0 — and with a short grace a
/// statement that takes too long is cancelled (57014) and audited so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_running_statements_finish_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_copy(dir.path(), |_| {});
    let mut server = ServeProcess::start(&catalog, &[]);
    let addr = server.addr;
    let (idle, idle_conn) = config(addr, "town", "demo")
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    let idle_conn = tokio::spawn(idle_conn);
    idle.query_one("SELECT 1", &[]).await.unwrap();
    let busy = connect(addr, "county").await;
    let started = Instant::now();
    let running = tokio::spawn(async move { busy.query_one(BUSY, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!running.is_finished(), "the statement runs at SIGTERM");
    server.signal("TERM");
    let answer = running
        .await
        .unwrap()
        .expect("the running statement finished");
    assert!(started.elapsed() > Duration::from_millis(300));
    assert_eq!(answer.get::<_, i64>(0), 42857143);
    let ended = tokio::time::timeout(Duration::from_secs(10), idle_conn)
        .await
        .expect("the idle session was closed")
        .unwrap()
        .expect_err("with an error");
    assert_eq!(sqlstate(&ended), "57P01", "{ended}");
    let status = server
        .wait_for_exit(Duration::from_secs(20))
        .expect("the server exits");
    assert!(status.success(), "{status:?}");
    assert!(server.stderr.lock().unwrap().contains("zhenjie stopped"));
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    // A grace of one second: a statement that needs far longer is
    // cancelled, and its record says so.
    let mut server = ServeProcess::start(&catalog, &["--shutdown-grace", "1"]);
    let busy = connect(server.addr, "county").await;
    let endless = "SELECT count(*) FROM range(1000000000000) a WHERE a.value % 7 = 3";
    let running = tokio::spawn(async move { busy.query_one(endless, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    server.signal("TERM");
    let err = running.await.unwrap().expect_err("cancelled");
    assert_eq!(sqlstate(&err), "57014", "{err}");
    let status = server
        .wait_for_exit(Duration::from_secs(20))
        .expect("the server exits");
    assert!(status.success());
    assert!(signalled.elapsed() < Duration::from_secs(10));
    let log = std::fs::read_to_string(dir.path().join("audit").join("audit.jsonl")).unwrap();
    let statuses: Vec<(String, String)> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|r| {
            (
                r["statement"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&(BUSY.to_string(), "ok".to_string())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(endless.to_string(), "canceled".to_string())),
        "{statuses:?}"
    );
}

/// `/metrics` counts statements by outcome, rows and bytes out, sessions
/// and failed logins; `/health` is 200 while serving and 503 from the
/// moment the server starts shutting down (a running statement still
/// finishes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ops_endpoint_reports_metrics_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let (stop, shutdown) = tokio::sync::oneshot::channel();
    let (addr, ops) = start_server_with_ops(&dir.path().join("audit.jsonl"), shutdown).await;
    assert_eq!(http_get(ops, "/health").await, (200, "ok\n".into()));
    let before = http_get(ops, "/metrics").await.1;
    assert_eq!(metric(&before, "zhenjie_sessions"), 0.0);
    let town = connect(addr, "town").await;
    town.query("SELECT name FROM persons LIMIT 7", &[])
        .await
        .unwrap();
    town.query("SELECT 1 / 0", &[]).await.unwrap_err();
    assert!(config(addr, "town", "wrong")
        .connect(tokio_postgres::NoTls)
        .await
        .is_err());
    let after = http_get(ops, "/metrics").await.1;
    let ok = "zhenjie_statements_total{status=\"ok\"}";
    assert!(metric(&after, ok) >= 1.0, "{after}");
    assert_eq!(
        metric(&after, "zhenjie_statements_total{status=\"error\"}"),
        1.0
    );
    assert!(metric(&after, "zhenjie_rows_out_total") >= 7.0);
    assert_eq!(metric(&after, "zhenjie_failed_logins_total"), 1.0);
    assert_eq!(metric(&after, "zhenjie_sessions"), 1.0);
    assert!(metric(&after, "zhenjie_bytes_out_total") > 0.0);
    assert!(metric(&after, "zhenjie_audit_write_seconds_count") >= 3.0);
    assert_eq!(metric(&after, "zhenjie_statements_running"), 0.0);
    assert_eq!(http_get(ops, "/nothing").await.0, 404);

    // Shutting down: /health says so while a statement finishes.
    let busy = connect(addr, "county").await;
    let running = tokio::spawn(async move { busy.query_one(BUSY, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = http_get(ops, "/metrics").await.1;
    assert_eq!(metric(&during, "zhenjie_statements_running"), 1.0);
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        http_get(ops, "/health").await,
        (503, "shutting down\n".into())
    );
    running.await.unwrap().expect("finished during the drain");
}

/// A statement that needs more than its share of the memory pool fails
/// with 53200 and says so; statements running beside it are unaffected,
/// and the session goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_its_memory_share_fails_alone_with_53200() {
    let addr = start_server_with(zhenjie_engine::EngineOptions {
        memory_limit: 256 << 20,
        statement_memory_limit: Some(24 << 20),
        ..test_options()
    })
    .await;
    let greedy = connect(addr, "city").await;
    let others: Vec<_> = ["town", "village", "grid", "county"]
        .into_iter()
        .map(|user| {
            tokio::spawn(async move {
                let c = connect(addr, user).await;
                let mut answers = Vec::new();
                for _ in 0..5 {
                    let rows = c
                        .query(
                            "SELECT village_code, count(*), max(name) FROM persons GROUP BY 1",
                            &[],
                        )
                        .await
                        .map(|r| r.len());
                    answers.push(rows);
                }
                answers
            })
        })
        .collect();
    let err = greedy
        .query_one(
            "SELECT count(DISTINCT p.id_number || '-' || r.value) FROM persons p CROSS JOIN range(300) r",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "53200", "{err}");
    let message = err.as_db_error().unwrap().message().to_string();
    assert!(message.contains("share of memory (24 MB"), "{message}");
    for other in others {
        for answer in other.await.unwrap() {
            assert!(answer.expect("unaffected") > 0);
        }
    }
    let n: i64 = greedy
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n as usize, PERSONS);
}
