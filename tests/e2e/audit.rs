//! The audit log through the wire: every statement — allowed, denied, failed,
//! EXPLAIN, each statement of a multi-statement query, a result abandoned by
//! its client — leaves exactly one record in the file, written before the
//! client sees the statement complete; the log is a fenced table for auditors;
//! a log that cannot be written fails the statement.
//!
//! Records are read back from the JSON-lines file with plain `serde_json`, so
//! the documented field names are checked, not the engine's own reader.

use crate::common::*;
use futures::{pin_mut, StreamExt};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh audit file path in its own temporary folder (kept alive by the guard).
pub(crate) fn audit_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    (dir, path)
}

/// Every record in the file, in order.
pub(crate) fn records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// The records whose statement text is exactly `statement`.
pub(crate) fn records_of(path: &Path, statement: &str) -> Vec<Value> {
    records(path)
        .into_iter()
        .filter(|r| r["statement"] == statement)
        .collect()
}

/// The one record of `statement`; fails if there are none or several.
pub(crate) fn the_record(path: &Path, statement: &str) -> Value {
    let mut found = records_of(path, statement);
    assert_eq!(
        found.len(),
        1,
        "exactly one record for {statement:?}; the log:\n{:#?}",
        records(path)
    );
    found.remove(0)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn area_of(user: &str) -> String {
    load_catalog().user(user).expect("demo user").area.clone()
}

/// The one record of `statement` once it appears: records of results dropped
/// unsent are appended in the background.
async fn wait_for_record(path: &Path, statement: &str) -> Value {
    for _ in 0..50 {
        if !records_of(path, statement).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    the_record(path, statement)
}

/// The fields every record has, whatever its status.
fn assert_common(r: &Value, user: &str, level: &str) {
    assert_eq!(r["user"], user, "{r}");
    assert_eq!(r["level"], level, "{r}");
    assert_eq!(r["area"], area_of(user).as_str(), "{r}");
    let addr = r["client_addr"].as_str().expect("client address");
    assert!(addr.starts_with("127.0.0.1:"), "{r}");
    assert!(r["session_id"].as_u64().expect("session id") > 0, "{r}");
    let time = r["time"].as_str().expect("time");
    // RFC 3339, UTC, milliseconds: 2024-05-01T08:30:00.123Z
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    assert!(r["duration_ms"].as_f64().expect("duration") >= 0.0, "{r}");
}

#[tokio::test]
async fn a_select_leaves_one_record_with_what_it_read_and_returned() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let client = connect(addr, "town").await;
    let sql = "SELECT name, sex FROM persons WHERE sex = '女' ORDER BY id_number LIMIT 7";
    let rows = client.query(sql, &[]).await.unwrap();
    assert_eq!(rows.len(), 7);
    // No waiting: the record was synced before the client saw CommandComplete.
    let r = the_record(&log, sql);
    assert_common(&r, "town", "town");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["sqlstate"], Value::Null);
    assert_eq!(r["rows"], 7);
    assert_eq!(strings(&r["datasets"]), ["persons"]);
    let columns = strings(&r["columns"]);
    for c in ["persons.name", "persons.sex", "persons.id_number"] {
        assert!(columns.contains(&c.to_string()), "{c} in {columns:?}");
    }
    assert!(
        columns.iter().all(|c| c.starts_with("persons.")),
        "{columns:?}"
    );
    assert!(r["masks"].is_array(), "{r}");

    // A second statement on the same connection: same session, its own record.
    let n: i64 = client
        .query_one("SELECT count(*) FROM households", &[])
        .await
        .unwrap()
        .get(0);
    assert!(n > 0);
    let r2 = the_record(&log, "SELECT count(*) FROM households");
    assert_eq!(r2["session_id"], r["session_id"]);
    assert_eq!(strings(&r2["datasets"]), ["households"]);
    assert_eq!(r2["rows"], 1);
    // A new connection is a new session.
    let other = connect(addr, "town").await;
    other.simple_query("SELECT 1").await.unwrap();
    let r3 = the_record(&log, "SELECT 1");
    assert_ne!(r3["session_id"], r["session_id"]);
    assert_eq!(strings(&r3["datasets"]), Vec::<String>::new());
}

#[tokio::test]
async fn denied_and_failing_statements_are_recorded_with_their_sqlstate() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let client = connect(addr, "town").await;

    let create = "CREATE TABLE x (a int)";
    let err = client.simple_query(create).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    let r = the_record(&log, create);
    assert_common(&r, "town", "town");
    assert_eq!(r["status"], "denied");
    assert_eq!(r["sqlstate"], "42501");
    assert_eq!(r["rows"], 0);

    let div = "SELECT 1/0";
    let err = client.query(div, &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "22012");
    let r = the_record(&log, div);
    assert_eq!(r["status"], "error");
    assert_eq!(r["sqlstate"], "22012");

    // A statement that does not even parse, and one naming a table the
    // principal cannot see, are statements too.
    let garbage = "SELEC name FROM persons";
    let err = client.simple_query(garbage).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42601");
    assert_eq!(the_record(&log, garbage)["sqlstate"], "42601");
    let hidden = "SELECT * FROM audit_log";
    let err = client.simple_query(hidden).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let r = the_record(&log, hidden);
    assert_eq!(r["status"], "error");
    assert_eq!(r["sqlstate"], "42P01");

    // Commands, refused ones included.
    client
        .batch_execute("SET statement_timeout = '5s'")
        .await
        .unwrap();
    assert_eq!(
        the_record(&log, "SET statement_timeout = '5s'")["status"],
        "ok"
    );
    let set = "SET datafusion.execution.batch_size = 1";
    let err = client.batch_execute(set).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    assert_eq!(the_record(&log, set)["status"], "denied");

    // A statement stopped by statement_timeout.
    client
        .batch_execute("SET statement_timeout = '200ms'")
        .await
        .unwrap();
    let long = "SELECT count(*) FROM range(1000000000) a WHERE a.value % 7 = 3";
    let err = client.simple_query(long).await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    let r = the_record(&log, long);
    assert_eq!(r["status"], "canceled");
    assert_eq!(r["sqlstate"], "57014");
}

#[tokio::test]
async fn explain_is_recorded_with_what_it_would_read() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let client = connect(addr, "town").await;
    let sql = "EXPLAIN SELECT household_no, count(*) FROM persons GROUP BY 1";
    let rows = client.simple_query(sql).await.unwrap();
    let n = rows
        .iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
        .count();
    assert!(n > 0);
    let r = the_record(&log, sql);
    assert_common(&r, "town", "town");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["rows"], n as u64);
    assert_eq!(strings(&r["datasets"]), ["persons"]);
    assert_eq!(strings(&r["columns"]), ["persons.household_no"]);
}

#[tokio::test]
async fn each_statement_of_a_multi_statement_query_has_its_own_record() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let client = connect(addr, "village").await;
    client
        .simple_query("SELECT 1 AS one;\n  SHOW statement_timeout ;BEGIN; SELECT count(*) FROM households; COMMIT")
        .await
        .unwrap();
    let texts = [
        "SELECT 1 AS one",
        "SHOW statement_timeout",
        "BEGIN",
        "SELECT count(*) FROM households",
        "COMMIT",
    ];
    // Records are appended as statements end, and the front end starts every
    // statement of a simple query before sending the first result, so the
    // file is in completion order; `time` (the start) gives statement order.
    let mut mine: Vec<Value> = records(&log)
        .into_iter()
        .filter(|r| r["user"] == "village")
        .collect();
    assert_eq!(mine.len(), texts.len(), "{mine:#?}");
    mine.sort_by_key(|r| {
        texts
            .iter()
            .position(|t| r["statement"] == *t)
            .unwrap_or(usize::MAX)
    });
    for pair in mine.windows(2) {
        assert!(
            pair[0]["time"].as_str() <= pair[1]["time"].as_str(),
            "{pair:#?}"
        );
    }
    assert_eq!(
        mine.iter()
            .map(|r| r["statement"].as_str().unwrap())
            .collect::<Vec<_>>(),
        texts,
        "{mine:#?}"
    );
    for r in &mine {
        assert_common(r, "village", "village");
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["session_id"], mine[0]["session_id"]);
    }
    assert_eq!(mine[1]["rows"], 1);
    assert_eq!(strings(&mine[3]["datasets"]), ["households"]);

    // The error of the second statement comes while its rows are produced.
    // The front end plans and starts every statement of a simple query
    // before sending the first result, so the third was started too; its
    // result was never sent, and its record says so.
    let err = client
        .simple_query("SELECT 2 AS two; SELECT 1/0 AS boom; SELECT 3 AS three")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22012");
    assert_eq!(the_record(&log, "SELECT 2 AS two")["status"], "ok");
    let boom = the_record(&log, "SELECT 1/0 AS boom");
    assert_eq!(boom["status"], "error");
    assert_eq!(boom["sqlstate"], "22012");
    let three = wait_for_record(&log, "SELECT 3 AS three").await;
    assert_eq!(three["status"], "aborted", "{three}");
    assert_eq!(three["rows"], 0);
}

#[tokio::test]
async fn auditors_query_the_log_inside_their_fence_and_others_cannot_see_it() {
    let (_dir, log) = audit_file();
    // The demo city plus an auditor at town level, in the town user's town.
    let mut catalog = load_catalog();
    let town = catalog.user("town").unwrap().clone();
    let mut town_auditor = town.clone();
    town_auditor.name = "town_auditor".into();
    town_auditor.roles = vec!["auditor".into()];
    catalog.file.users.push(town_auditor);
    let addr = start_server_over_with_audit(catalog, &log).await;

    for user in ["town", "county", "grid"] {
        let c = connect(addr, user).await;
        c.query("SELECT count(*) FROM persons", &[]).await.unwrap();
        // Only auditors have the table: for everyone else it does not exist.
        let err = c.query("SELECT * FROM audit_log", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42P01", "{user}");
    }

    let city = connect(addr, "city").await;
    // Unquoted, `user` is current_user, as in PostgreSQL; the column is
    // `"user"`.
    let me: String = city
        .query_one("SELECT user FROM audit_log LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(me, "city");
    let rows = city
        .query("SELECT \"user\", status FROM audit_log", &[])
        .await
        .unwrap();
    let seen: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for user in ["town", "county", "grid"] {
        assert!(
            seen.contains(&(user.to_string(), "ok".to_string())),
            "{user}: {seen:?}"
        );
        assert!(
            seen.contains(&(user.to_string(), "error".to_string())),
            "{user}: {seen:?}"
        );
    }
    // Every column of the record is there, lists as text[].
    let row = city
        .query_one(
            "SELECT datasets, columns, masks, rows, session_id, client_addr, sqlstate, level, area, duration_ms \
             FROM audit_log WHERE \"user\" = 'town' AND status = 'ok'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<String>>(0), ["persons"]);
    assert_eq!(row.get::<_, Vec<String>>(1), Vec::<String>::new());
    assert_eq!(row.get::<_, i64>(3), 1);
    assert!(row.get::<_, i64>(4) > 0);
    assert!(row.get::<_, String>(5).starts_with("127.0.0.1:"));
    assert_eq!(row.get::<_, Option<String>>(6), None);
    assert_eq!(row.get::<_, String>(7), "town");
    assert_eq!(row.get::<_, String>(8), area_of("town"));
    // Reading the log is itself recorded, naming the table read.
    let r = the_record(&log, "SELECT \"user\", status FROM audit_log");
    assert_eq!(r["user"], "city");
    assert_eq!(strings(&r["datasets"]), ["audit_log"]);

    // An auditor at town level sees the records of users inside the town
    // (town and grid) but not the county's or the city's.
    let auditor = connect(addr, "town_auditor").await;
    let users: Vec<String> = auditor
        .query("SELECT DISTINCT \"user\" FROM audit_log ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(users, ["grid", "town"]);
    // Not by filtering, nor by counting.
    let n: i64 = auditor
        .query_one(
            "SELECT count(*) FROM audit_log WHERE \"user\" IN ('city', 'county') OR 1 = 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let inside = records(&log)
        .iter()
        .filter(|r| {
            r["area"]
                .as_str()
                .unwrap()
                .starts_with(&area_of("town")[..9])
        })
        .count();
    // The records written before this statement started, inside the town.
    assert_eq!(n as usize, inside - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describes_the_audit_table_with_comments() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let (ok, out, err) = crate::psql::run(addr, "city", vec!["-c", "\\d+ audit_log"]).await;
    assert!(ok, "{err}");
    for (column, comment) in [
        ("statement", "语句原文"),
        ("status", "aborted 客户端中途断开"),
        ("datasets", "读取的数据集"),
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(column))
            .unwrap_or_else(|| panic!("{column} in:\n{out}"));
        assert!(line.contains(comment), "{line}");
    }
    let (ok, out, err) = crate::psql::run(addr, "city", vec!["-c", "\\dt+ audit_log"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("审计日志"), "{out}");
}

#[tokio::test]
async fn a_log_that_cannot_be_written_fails_the_statement() {
    // /dev/full opens fine and fails every write with ENOSPC: a full disk.
    let addr = start_server_with_audit(Path::new("/dev/full")).await;
    let client = connect(addr, "city").await;
    let err = client
        .query("SELECT count(*) FROM persons", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "58030", "{err:?}");
    assert!(err
        .as_db_error()
        .unwrap()
        .message()
        .starts_with("audit log write failed"));
    // While the log is failing, queries are refused before any row is sent.
    let stream = client
        .query_raw(
            "SELECT name FROM persons LIMIT 10",
            std::iter::empty::<i32>(),
        )
        .await;
    match stream {
        Err(e) => assert_eq!(sqlstate(&e), "58030"),
        Ok(stream) => {
            pin_mut!(stream);
            let first = stream.next().await.expect("an item");
            assert_eq!(sqlstate(&first.expect_err("no row")), "58030");
        }
    }
    // Commands and refused statements fail the same way.
    let err = client
        .simple_query("SET search_path = public")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "58030");
    let err = client
        .simple_query("CREATE TABLE x (a int)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "58030");
}

#[tokio::test]
async fn an_engine_without_a_writable_log_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let options = zhenjie_engine::EngineOptions {
        audit_path: Some(file.join("audit.jsonl")),
        ..Default::default()
    };
    let err = zhenjie_engine::Engine::open(load_catalog(), options)
        .await
        .expect_err("must fail");
    assert_eq!(err.code, "58030");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_mid_result_leaves_an_aborted_record() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    // Two million rows: seconds of work, so the client leaves long before
    // the end. The simple protocol streams rows as they are produced (the
    // extended protocol's Execute collects the whole result first in pgwire
    // 0.41, so a client leaving then is only noticed after the end).
    let sql = "SELECT * FROM persons CROSS JOIN range(100)";
    {
        let (client, conn) = config(addr, "city", "demo")
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap();
        let conn = tokio::spawn(conn);
        let stream = client.simple_query_raw(sql).await.unwrap();
        pin_mut!(stream);
        let mut rows = 0;
        while rows < 10 {
            if let tokio_postgres::SimpleQueryMessage::Row(_) =
                stream.next().await.unwrap().unwrap()
            {
                rows += 1;
            }
        }
        // The client goes away mid-result: its socket closes at once (a
        // dropped tokio-postgres client would first read the rest).
        conn.abort();
    }
    let r = &wait_for_record(&log, sql).await;
    assert_common(r, "city", "city");
    assert_eq!(r["status"], "aborted", "{r}");
    assert_eq!(r["sqlstate"], Value::Null, "{r}");
    let rows = r["rows"].as_u64().unwrap();
    assert!(
        rows >= 10 && rows < 100 * PERSONS as u64,
        "rows produced before the client left: {rows}"
    );
}

/// A `pii` user's statement holds a raw identity number and phone. The file
/// keeps it verbatim; an auditor with `pii` reads it so, and one without
/// reads each literal masked as they see that class in the data: the
/// identity number as the same pseudonym `persons` shows them, the phone
/// partially, a name not at all.
#[tokio::test]
async fn auditors_read_statements_masked_as_their_roles_say() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let admin = connect(addr, "admin").await;
    let row = admin
        .query_one(
            "SELECT id_number, phone, name FROM persons WHERE phone LIKE '1%' AND length(phone) = 11 ORDER BY id_number LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (id, phone, name): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    let town = connect(addr, "town").await;
    let sql = format!(
        "SELECT count(*) FROM persons WHERE id_number = '{id}' OR phone = '{phone}' OR name = '{name}'"
    );
    town.simple_query(&sql).await.unwrap();
    assert_eq!(the_record(&log, &sql)["statement"], sql.as_str());
    let read = |client: tokio_postgres::Client| async move {
        client
            .query(
                "SELECT statement FROM audit_log WHERE \"user\" = 'town' AND statement LIKE 'SELECT count(*) FROM persons WHERE id_number%'",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
    };
    assert_eq!(read(connect(addr, "admin").await).await, vec![sql.clone()]);
    let city = connect(addr, "city").await;
    // The pseudonym city sees for that person in `persons`.
    let secret = std::fs::read(city_dir().join("mask.key")).unwrap();
    let key: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let pseudonym = zhenjie_udfs::masking::keyed_hash(id.as_bytes(), key.as_bytes());
    let n: i64 = city
        .query_one(
            &format!("SELECT count(*) FROM persons WHERE id_number = '{pseudonym}'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let seen = read(city).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let text = &seen[0];
    for raw in [&id, &phone, &name] {
        assert!(!text.contains(raw.as_str()), "{text} shows {raw}");
    }
    assert!(
        text.contains(&format!("id_number = '{pseudonym}'")),
        "{text} vs {pseudonym}"
    );
    assert!(
        text.contains(&format!("phone = '{}****{}'", &phone[..3], &phone[7..])),
        "{text}"
    );
    assert!(text.contains("name = '***'"), "{text}");
}

/// Every failed login is audited — under the user's area when the name is a
/// user's, under the city's when it is not — and answered later the more
/// failures its address has had lately; a right password is still let in.
#[tokio::test]
async fn failed_logins_are_audited_and_slowed() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let fail = |user: &'static str| async move {
        let started = std::time::Instant::now();
        let e = config(addr, user, "not-the-password")
            .connect(tokio_postgres::NoTls)
            .await
            .err()
            .expect("must fail");
        assert_eq!(sqlstate(&e), "28P01");
        started.elapsed()
    };
    fail("village").await;
    fail("nobody").await;
    // Two failures from this address before it: at least 2 × 0.5 s.
    let third = fail("village").await;
    assert!(third >= std::time::Duration::from_millis(1000), "{third:?}");
    // The right password is not held back.
    let village = connect(addr, "village").await;
    assert_eq!(village.simple_query("SELECT 1").await.unwrap().len(), 3);
    let failed = records_of(&log, "(login failed)");
    assert_eq!(failed.len(), 3, "{failed:#?}");
    for r in &failed {
        assert_eq!(r["status"], "denied", "{r}");
        assert_eq!(r["sqlstate"], "28P01", "{r}");
        assert!(
            r["client_addr"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{r}"
        );
    }
    assert_eq!(failed[0]["user"], "village");
    assert_eq!(failed[0]["level"], "village");
    assert_eq!(failed[1]["user"], "nobody");
    assert_eq!(failed[1]["level"], "city");
}
