//! Crash safety: `kill -9` of the server at any moment loses no statement a
//! client was told had finished, a half-written last line of the audit log
//! (power lost mid-write) never breaks `audit_log`, and the catalog file is
//! whole. The server is the real binary, killed under load.

use crate::common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_audit_record() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_copy(dir.path(), |_| {});
    let catalog_before = std::fs::read(&catalog).unwrap();
    let mut server = ServeProcess::start(&catalog, &[]);
    let addr = server.addr;

    // Clients at four levels run statements without pause; each keeps the
    // text of every statement the server answered.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for (n, user) in ["town", "grid", "county", "city"].into_iter().enumerate() {
        let acknowledged = acknowledged.clone();
        clients.push(tokio::spawn(async move {
            let client = connect(addr, user).await;
            for i in 0.. {
                let sql = format!(
                    "SELECT count(*) FROM persons WHERE birth_date > DATE '1960-01-01' /* crash c{n} n{i} */"
                );
                if client.query_one(&sql, &[]).await.is_err() {
                    return;
                }
                acknowledged.lock().unwrap().push(sql);
            }
        }));
    }
    // Let them run, then kill the server mid-load.
    while acknowledged.lock().unwrap().len() < 40 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.signal("KILL");
    assert!(server.wait_for_exit(Duration::from_secs(10)).is_some());
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    // The catalog is the file it was; the audit log ends, as after a power
    // loss, with half a record.
    assert_eq!(std::fs::read(&catalog).unwrap(), catalog_before);
    let log = dir.path().join("audit").join("audit.jsonl");
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, b"{\"time\":\"2026-12-05T10:").unwrap();
    drop(f);

    let server = ServeProcess::start(&catalog, &[]);
    let admin = connect(server.addr, "admin").await;
    let after = "SELECT 1 /* crash after the restart */";
    admin.simple_query(after).await.unwrap();
    let recorded: Vec<(String, String)> = admin
        .query(
            "SELECT statement, status FROM audit_log WHERE statement LIKE '%/* crash %'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for sql in &acknowledged {
        assert!(
            recorded
                .iter()
                .any(|(s, status)| s == sql && status == "ok"),
            "answered but not in the audit log after kill -9: {sql}"
        );
    }
    // The first record after the restart starts on a line of its own.
    assert!(
        recorded.iter().any(|(s, _)| s == after),
        "the record after the torn line is lost"
    );
    assert!(
        server
            .stderr
            .lock()
            .unwrap()
            .contains("the last line is incomplete"),
        "the torn line is reported"
    );
    assert!(acknowledged.len() >= 40);
}
