//! Wire-protocol behaviour through tokio-postgres: login, simple and extended
//! queries, streaming, errors, cancel, timeouts, misbehaving clients.

use crate::common::*;
use futures::{pin_mut, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_postgres::NoTls;

#[tokio::test]
async fn login_with_right_password_and_query() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    let row = client.query_one("SELECT 1 + 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_fail_alike() {
    let addr = start_server().await;
    let wrong = config(addr, "city", "not-demo")
        .connect(NoTls)
        .await
        .err()
        .expect("must fail");
    assert_eq!(sqlstate(&wrong), "28P01");
    let unknown = config(addr, "nobody", "demo")
        .connect(NoTls)
        .await
        .err()
        .expect("must fail");
    assert_eq!(sqlstate(&unknown), "28P01");
    assert_eq!(
        wrong.as_db_error().unwrap().message().replace("city", "X"),
        unknown
            .as_db_error()
            .unwrap()
            .message()
            .replace("nobody", "X"),
        "messages must not tell which users exist"
    );
    // The server is still there for a good login.
    let client = connect(addr, "city").await;
    assert_eq!(
        client
            .query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
}

#[tokio::test]
async fn wrong_database_is_refused() {
    let addr = start_server().await;
    let mut c = config(addr, "city", "demo");
    c.dbname("postgres");
    let err = c.connect(NoTls).await.err().expect("must fail");
    assert_eq!(sqlstate(&err), "3D000");
}

#[tokio::test]
async fn simple_and_extended_queries_with_parameters_agree() {
    // admin holds pii: identity numbers and birth dates come back raw.
    let addr = start_server().await;
    let client = connect(addr, "admin").await;
    let simple = client
        .simple_query("SELECT count(*) FROM persons WHERE sex = '女'")
        .await
        .unwrap();
    let simple_count: i64 = simple
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(|v| v.parse().unwrap()),
            _ => None,
        })
        .unwrap();
    let extended: i64 = client
        .query_one("SELECT count(*) FROM persons WHERE sex = $1", &[&"女"])
        .await
        .unwrap()
        .get(0);
    assert_eq!(simple_count, extended);
    assert!(extended > 0 && extended < PERSONS as i64);
    // Integer and date parameters, binary results of several types.
    let rows = client
        .query(
            "SELECT id_number, CAST(birth_date AS VARCHAR) FROM persons WHERE birth_date >= CAST($1 AS DATE) ORDER BY id_number LIMIT $2",
            // As in PostgreSQL, CAST($1 AS DATE) makes $1 a date: 1990-01-01
            // is 3652 days before 2000-01-01.
            &[&DateParam(-3652), &5i64],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    for r in &rows {
        let id: String = r.get(0);
        let birth: String = r.get(1);
        assert_eq!(id.len(), 18);
        assert!(birth.as_str() >= "1990-01-01", "{birth}");
        assert_eq!(&id[6..10], &birth[..4], "the ID encodes the birth year");
    }
}

#[tokio::test]
async fn result_larger_than_one_batch_streams_completely() {
    let addr = start_server().await;
    let client = connect(addr, "admin").await;
    let stream = client
        .query_raw("SELECT id_number FROM persons", std::iter::empty::<i32>())
        .await
        .unwrap();
    pin_mut!(stream);
    let mut n = 0usize;
    while let Some(row) = stream.next().await {
        let row = row.unwrap();
        let id: &str = row.get(0);
        assert_eq!(id.len(), 18);
        n += 1;
    }
    let expected: i64 = client
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n as i64, expected);
    assert!(
        n > 8192,
        "the test city must span several batches, has {n} persons"
    );
}

#[tokio::test]
async fn errors_carry_their_sqlstate_and_the_connection_survives() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    for (sql, code) in [
        ("SELEC 1", "42601"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM persons", "42703"),
        ("SELECT 1 / 0", "22012"),
        ("SELECT CAST('abc' AS INTEGER)", "22P02"),
        ("CREATE TABLE t (a int)", "42501"),
        ("INSERT INTO persons (name) VALUES ('x')", "42501"),
        ("SET no_such_setting = 1", "42704"),
        ("SELECT extract(year FROM 1)", "42883"),
        ("SELECT no_such_function(1)", "42883"),
    ] {
        let err = client
            .simple_query(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} must fail"));
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
        let err = client
            .query(sql, &[])
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} must fail"));
        assert_eq!(sqlstate(&err), code, "extended {sql}: {err:?}");
    }
    // PostgreSQL's wording and SQLSTATE (PostgreSQL 15's, same SQL), for
    // people reading it in a tool's error box.
    for (sql, code, message) in [
        ("SELECT 1 / 0", "22012", "division by zero"),
        (
            "SELECT CAST('abc' AS INTEGER)",
            "22P02",
            "invalid input syntax for type integer: \"abc\"",
        ),
        (
            "SELECT 'x'::numeric",
            "22P02",
            "invalid input syntax for type numeric: \"x\"",
        ),
        (
            "SELECT 'x'::date",
            "22007",
            "invalid input syntax for type date: \"x\"",
        ),
        (
            "SELECT '99999999999'::int",
            "22003",
            "value \"99999999999\" is out of range for type integer",
        ),
        ("SELECT 2147483647 + 1", "22003", "integer out of range"),
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        let db = err.as_db_error().unwrap();
        assert_eq!((db.code().code(), db.message()), (code, message), "{sql}");
    }
    assert_eq!(
        client
            .query_one("SELECT 42", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        42
    );
}

#[tokio::test]
async fn set_show_and_transactions() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    client
        .batch_execute("SET application_name = 'zj-test'")
        .await
        .unwrap();
    let v: String = client
        .query_one("SHOW application_name", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, "zj-test");
    let v: String = client
        .query_one("SHOW server_version_num", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, "160000");
    client
        .batch_execute("BEGIN; SELECT 1; COMMIT")
        .await
        .unwrap();
    client.batch_execute("BEGIN READ ONLY").await.unwrap();
    client.batch_execute("ROLLBACK").await.unwrap();
    let err = client
        .batch_execute("SET datafusion.execution.batch_size = 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
}

/// After an error inside a transaction block, statements are refused with
/// 25P02 until the block ends, as PostgreSQL does; ROLLBACK TO SAVEPOINT ends
/// the failure, and COMMIT of a failed block rolls it back.
#[tokio::test]
async fn an_error_fails_the_transaction_block_until_it_ends() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    fn code<T>(r: Result<T, tokio_postgres::Error>) -> String {
        match r {
            Ok(_) => "ok".to_string(),
            Err(e) => sqlstate(&e),
        }
    }
    client.batch_execute("BEGIN").await.unwrap();
    assert_eq!(
        code(client.simple_query("SELECT nope FROM persons").await),
        "42703"
    );
    assert_eq!(code(client.simple_query("SELECT 1").await), "25P02");
    assert_eq!(
        code(client.query("SELECT $1::int", &[&1i32]).await),
        "25P02"
    );
    client.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(code(client.simple_query("SELECT 1").await), "ok");
    // A savepoint rolled back to ends the failure; the block goes on.
    client.batch_execute("BEGIN; SAVEPOINT s").await.unwrap();
    assert_eq!(code(client.simple_query("SELECT 1/0").await), "22012");
    assert_eq!(code(client.simple_query("SELECT 1").await), "25P02");
    client
        .batch_execute("ROLLBACK TO SAVEPOINT s")
        .await
        .unwrap();
    assert_eq!(code(client.simple_query("SELECT 1").await), "ok");
    client.batch_execute("COMMIT").await.unwrap();
    // COMMIT of a failed block answers ROLLBACK.
    client.batch_execute("BEGIN").await.unwrap();
    assert_eq!(code(client.simple_query("SELEC 1").await), "42601");
    let tags: Vec<u64> = client
        .simple_query("COMMIT")
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(tags.len(), 1);
    // Outside a block an error fails nothing.
    assert_eq!(
        code(client.simple_query("SELECT nope FROM persons").await),
        "42703"
    );
    assert_eq!(code(client.simple_query("SELECT 1").await), "ok");
}

/// A result column that is a table's column passed through names its table
/// and column number in the RowDescription, as PostgreSQL's does; a computed
/// one names none.
#[tokio::test]
async fn result_columns_name_the_table_column_they_come_from() {
    let addr = start_server().await;
    let client = connect(addr, "village").await;
    let statement = client
        .prepare("SELECT p.id_number, upper(p.name) AS u, p.phone FROM persons p WHERE p.is_alive")
        .await
        .unwrap();
    let oid: u32 = client
        .query_one(
            "SELECT CAST(oid AS BIGINT) FROM pg_class WHERE relname = 'persons'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0) as u32;
    let attnum = |name: &str| {
        let client = &client;
        let name = name.to_string();
        async move {
            client
                .query_one(
                    &format!(
                        "SELECT CAST(attnum AS BIGINT) FROM pg_attribute \
                         WHERE attrelid = {oid} AND attname = '{name}'"
                    ),
                    &[],
                )
                .await
                .unwrap()
                .get::<_, i64>(0) as i16
        }
    };
    let columns = statement.columns();
    assert_eq!(columns[0].table_oid(), Some(oid));
    assert_eq!(columns[0].column_id(), Some(attnum("id_number").await));
    assert_eq!(columns[1].table_oid(), None);
    assert_eq!(columns[2].table_oid(), Some(oid));
    assert_eq!(columns[2].column_id(), Some(attnum("phone").await));
}

/// Integer results carry PostgreSQL's types: arithmetic on int4 values is
/// int4 (and overflows as an error, 22003), `date - date` is int4, anything
/// involving an int8 stays int8. (Checked against PostgreSQL 15.)
#[tokio::test]
async fn integer_results_are_typed_as_postgresql_types_them() {
    use tokio_postgres::types::Type;
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let cases = [
        ("SELECT 1 + 1", Type::INT4),
        ("SELECT 2::int4 * 3", Type::INT4),
        ("SELECT 2::int8 + 1", Type::INT8),
        ("SELECT 5000000000 + 1", Type::INT8),
        ("SELECT members + 1 FROM households", Type::INT4),
        (
            "SELECT members::int8 * 1000000000 FROM households",
            Type::INT8,
        ),
        ("SELECT count(*) + 1 FROM persons", Type::INT8),
        ("SELECT DATE '2024-03-01' - DATE '2024-02-01'", Type::INT4),
        ("SELECT death_date - birth_date FROM persons", Type::INT4),
    ];
    for (sql, want) in cases {
        let statement = client.prepare(sql).await.unwrap();
        assert_eq!(statement.columns()[0].type_(), &want, "{sql}");
    }
    let days: i32 = client
        .query_one("SELECT DATE '2024-03-01' - DATE '2024-02-01'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(days, 29);
    let err = client
        .simple_query("SELECT 2147483647 + 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22003");
}

const LONG_QUERY: &str = "SELECT count(*) FROM range(1000000000) a WHERE a.value % 7 = 3";

#[tokio::test]
async fn cancel_request_stops_a_long_query() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(NoTls).await.unwrap();
    });
    let started = std::time::Instant::now();
    let err = client
        .simple_query(LONG_QUERY)
        .await
        .expect_err("cancelled");
    assert_eq!(sqlstate(&err), "57014", "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    canceller.await.unwrap();
    assert_eq!(
        client
            .query_one("SELECT 7", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        7
    );
}

#[tokio::test]
async fn statement_timeout_stops_a_long_query() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    client
        .batch_execute("SET statement_timeout = '300ms'")
        .await
        .unwrap();
    let err = client.query(LONG_QUERY, &[]).await.expect_err("timed out");
    assert_eq!(sqlstate(&err), "57014");
    assert!(err
        .as_db_error()
        .unwrap()
        .message()
        .contains("statement timeout"));
    client
        .batch_execute("SET statement_timeout = 0")
        .await
        .unwrap();
    assert_eq!(
        client
            .query_one("SELECT 3", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        3
    );
}

/// A stopped query gives its query thread back at once, even one that is
/// inside a join emitting rows it already holds (a three-way cross join of
/// 8e12 rows here): stopped twice, it would otherwise hold both of a two-core
/// server's query threads for hours, and everyone's next query would wait.
#[tokio::test]
async fn a_stopped_join_gives_its_query_threads_back() {
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    client
        .batch_execute("SET statement_timeout = '300ms'")
        .await
        .unwrap();
    for _ in 0..2 {
        let err = client
            .query(
                "SELECT count(*) FROM persons a, persons b, persons c WHERE a.name || b.name <> c.name",
                &[],
            )
            .await
            .expect_err("timed out");
        assert_eq!(sqlstate(&err), "57014", "{err:?}");
    }
    let other = connect(addr, "city").await;
    let count = tokio::time::timeout(
        Duration::from_secs(60),
        other.query_one("SELECT count(*) FROM persons", &[]),
    )
    .await
    .expect("the next query waited for the stopped ones")
    .unwrap();
    assert!(count.get::<_, i64>(0) > 0);
}

/// A nested-loop join whose costly filter is rarely true evaluates it over
/// build x probe rows without emitting a row: one poll could last the whole
/// join, so a query stopped after a second kept both query threads busy for
/// its natural length (minutes here) and the next statement waited. Its
/// filter now fails at the next chunk once the query is stopped.
#[tokio::test]
async fn a_stopped_costly_join_filter_stops_at_once() {
    let addr = start_server().await;
    let client = connect(addr, "admin").await;
    client
        .batch_execute("SET statement_timeout = '500ms'")
        .await
        .unwrap();
    let sql = "SELECT count(*) FROM persons a, persons b \
               WHERE jaro_winkler(a.name, b.name) > 0.999 AND a.id_number < b.id_number";
    let plan = client
        .simple_query(&format!("EXPLAIN {sql}"))
        .await
        .unwrap();
    assert!(
        format!("{plan:?}").contains("NestedLoopJoinExec"),
        "the case is a nested-loop join: {plan:?}"
    );
    for _ in 0..2 {
        let err = client.query(sql, &[]).await.expect_err("timed out");
        assert_eq!(sqlstate(&err), "57014", "{err:?}");
    }
    // Both stopped joins gave their threads back: a scan that needs them
    // answers well within the same timeout, on this connection and another.
    let started = std::time::Instant::now();
    let n: i64 = client
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .expect("the query threads are free")
        .get(0);
    assert_eq!(n as usize, PERSONS);
    let other = connect(addr, "city").await;
    other
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A client whose socket closes mid-result (the network gone, the laptop
/// shut): the server stops the query — it no longer counts as running, its
/// audit record says `aborted` with the rows sent — and serves the next
/// client. The socket is closed under the client library (a dropped
/// tokio-postgres client would read the rest of the result first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_vanishing_mid_result_does_not_hurt_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (_stop, shutdown) = tokio::sync::oneshot::channel();
    let (addr, ops) = start_server_with_ops(&log, shutdown).await;
    // Fifty times the city: far more than the socket buffers hold.
    let sql = "SELECT * FROM persons CROSS JOIN range(50)";
    let socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let raw = socket2::SockRef::from(&socket).try_clone().unwrap();
    let (client, conn) = config(addr, "city", "demo")
        .connect_raw(socket, NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let stream = client.simple_query_raw(sql).await.unwrap();
    pin_mut!(stream);
    let mut rows = 0;
    while rows < 10 {
        if let tokio_postgres::SimpleQueryMessage::Row(_) = stream.next().await.unwrap().unwrap() {
            rows += 1;
        }
    }
    let running = metric(
        &http_get(ops, "/metrics").await.1,
        "zhenjie_statements_running",
    );
    assert_eq!(running, 1.0);
    raw.shutdown(std::net::Shutdown::Both).unwrap();
    drop(raw);
    // The query stops: nothing runs any more, and the record says aborted.
    let mut stopped = false;
    for _ in 0..100 {
        let text = http_get(ops, "/metrics").await.1;
        if metric(&text, "zhenjie_statements_running") == 0.0 {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stopped, "the abandoned query still runs");
    // (Its record is written just after the query stops counting.)
    let mut record = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap();
        record = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|r| r["statement"] == sql);
        if record.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let record = record.expect("audited");
    assert_eq!(record["status"], "aborted", "{record}");
    let sent = record["rows"].as_u64().unwrap();
    assert!(
        sent >= 10 && sent < 50 * PERSONS as u64,
        "rows produced before the client left: {sent}"
    );
    // The next client is served at once.
    let client = connect(addr, "county").await;
    let n: i64 = client
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    let county: i64 = connect(addr, "admin")
        .await
        .query_one(
            "SELECT count(*) FROM persons WHERE grid_code LIKE '370602%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, county);
}

/// A logged-in client sends a Bind whose parameter claims more bytes than
/// the message holds (pgwire's decoder panics on it; found by the fuzz
/// target): that connection ends with FATAL 08P01, the server goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bind_longer_than_its_message_ends_only_that_connection() {
    use std::io::{Read, Write};
    let addr = start_server().await;
    let socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let raw = socket2::SockRef::from(&socket).try_clone().unwrap();
    let (client, conn) = config(addr, "town", "demo")
        .connect_raw(socket, NoTls)
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    client.simple_query("SELECT 1").await.unwrap();
    // From here on the test speaks for the client, on the same socket.
    conn.abort();
    let _ = conn.await;
    let mut raw = std::net::TcpStream::from(raw);
    // (tokio made the socket non-blocking; this test reads it plainly.)
    raw.set_nonblocking(false).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz/corpus/frontend_messages/bind_past_its_end"
    ))
    .unwrap();
    // (Its first byte chose the decoder's state for the fuzz target.)
    raw.write_all(&input[1..]).unwrap();
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(
        text.contains("SFATAL") && text.contains("C08P01"),
        "{text:?}"
    );
    let other = connect(addr, "grid").await;
    assert_eq!(
        other
            .query_one("SELECT 3", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        3
    );
}

#[tokio::test]
async fn malformed_startup_packets_do_not_take_the_server_down() {
    let addr = start_server().await;
    for garbage in [
        vec![0u8, 0, 0, 3],                            // length shorter than itself
        vec![0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef],      // unknown protocol version
        vec![0xff; 64],                                // absurd length
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), // wrong protocol
    ] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = s.write_all(&garbage).await;
        let mut buf = [0u8; 256];
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
    }
    let client = connect(addr, "city").await;
    assert_eq!(
        client
            .query_one("SELECT 5", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        5
    );
}

#[tokio::test]
async fn extended_protocol_streams_results_it_could_never_hold() {
    // Ten billion rows: a server that collected the result before sending it
    // would never send the first row.
    let addr = start_server().await;
    let client = connect(addr, "city").await;
    let read = tokio::time::timeout(Duration::from_secs(120), async {
        let stream = client
            .query_raw(
                "SELECT value FROM range(10000000000)",
                std::iter::empty::<i32>(),
            )
            .await
            .unwrap();
        pin_mut!(stream);
        let mut last = -1i64;
        for _ in 0..50_000 {
            last = stream.next().await.unwrap().unwrap().get(0);
        }
        last
    })
    .await
    .expect("rows must arrive while the query is still running");
    assert_eq!(read, 49_999);
    drop(client);
    let next = connect(addr, "city").await;
    assert_eq!(
        next.query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
}

/// Parameter types a client declares in Parse are the parameters' types, as
/// in PostgreSQL: `SELECT $1` with an int4 parameter is an int4 column.
#[tokio::test]
async fn declared_parameter_types_type_the_result() {
    use tokio_postgres::types::Type;
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let st = client
        .prepare_typed(
            "SELECT $1 AS a, $2 AS b, $3 AS c",
            &[Type::INT4, Type::TEXT, Type::DATE],
        )
        .await
        .unwrap();
    let types: Vec<Type> = st.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, vec![Type::INT4, Type::TEXT, Type::DATE]);
    let row = client
        .query_one(&st, &[&7i32, &"x", &chrono_free_date()])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    assert_eq!(row.get::<_, &str>(1), "x");
    // A LIMIT parameter keeps its bigint type whatever the client says.
    let rows = client
        .query("SELECT grid_code FROM persons LIMIT $1", &[&3i64])
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
}

/// 2020-01-02 as a DATE parameter, without a date crate.
fn chrono_free_date() -> DateParam {
    DateParam(7306)
}

#[derive(Debug)]
struct DateParam(i32);

impl tokio_postgres::types::ToSql for DateParam {
    fn to_sql(
        &self,
        _: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0.to_be_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }
    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::DATE
    }
    tokio_postgres::types::to_sql_checked!();
}

/// `current_setting()` and `pg_settings` show the session's settings as they
/// are now, after its own SETs, and another session keeps its own.
#[tokio::test]
async fn current_setting_follows_set() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let other = connect(addr, "town").await;
    client
        .batch_execute("SET application_name = 'report-7'; SET statement_timeout = '5s'")
        .await
        .unwrap();
    let now: String = client
        .query_one("SELECT current_setting('application_name')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(now, "report-7");
    let timeout: String = client
        .query_one(
            "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(timeout, "5s");
    let theirs: String = other
        .query_one("SELECT current_setting('application_name')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(theirs, "");
}

/// A user's `statement_timeout` from the catalog — their own, else their
/// level's — is where their sessions start (PostgreSQL's `ALTER ROLE …
/// SET`): it stops their long query; they may SET another; RESET returns to
/// it. Other levels keep no limit.
#[tokio::test]
async fn a_users_statement_timeout_comes_from_the_catalog() {
    let mut catalog = load_catalog();
    let grid = catalog
        .file
        .users
        .iter_mut()
        .find(|u| u.name == "grid")
        .unwrap();
    grid.statement_timeout = Some("300ms".into());
    catalog.file.levels.push(zhenjie_catalog::LevelDefaults {
        level: zhenjie_catalog::Level::Village,
        statement_timeout: Some("2min".into()),
        idle_session_timeout: None,
        max_result_rows: None,
    });
    catalog.file.levels.push(zhenjie_catalog::LevelDefaults {
        level: zhenjie_catalog::Level::Grid,
        statement_timeout: Some("1h".into()),
        idle_session_timeout: None,
        max_result_rows: None,
    });
    let addr = start_server_over(catalog, Default::default()).await;
    async fn show(c: &tokio_postgres::Client) -> String {
        c.query_one("SHOW statement_timeout", &[])
            .await
            .unwrap()
            .get::<_, String>(0)
    }
    let grid = connect(addr, "grid").await;
    assert_eq!(show(&grid).await, "300ms");
    let err = grid.query(LONG_QUERY, &[]).await.expect_err("timed out");
    assert_eq!(sqlstate(&err), "57014");
    grid.batch_execute("SET statement_timeout = '5s'")
        .await
        .unwrap();
    assert_eq!(show(&grid).await, "5s");
    grid.batch_execute("RESET statement_timeout").await.unwrap();
    assert_eq!(show(&grid).await, "300ms");
    grid.batch_execute("RESET ALL").await.unwrap();
    assert_eq!(show(&grid).await, "300ms");
    // The village user has none of their own: their level's.
    let village = connect(addr, "village").await;
    assert_eq!(show(&village).await, "2min");
    let town = connect(addr, "town").await;
    assert_eq!(show(&town).await, "0");
}

/// A catalog whose user has a `statement_timeout` that is not a time does
/// not load, naming the user.
#[test]
fn a_statement_timeout_that_is_not_a_time_stops_the_catalog() {
    let text = std::fs::read_to_string(city_dir().join("catalog.toml")).unwrap();
    let bad = text.replacen(
        "name = \"grid\"\n",
        "name = \"grid\"\nstatement_timeout = \"soon\"\n",
        1,
    );
    assert_ne!(bad, text);
    // Beside the city's files, which the catalog names relatively.
    let path = city_dir().join(format!("catalog-bad-timeout-{}.toml", std::process::id()));
    std::fs::write(&path, bad).unwrap();
    let loaded = zhenjie_catalog::Catalog::load(&path);
    std::fs::remove_file(&path).unwrap();
    let err = loaded.unwrap_err().to_string();
    assert!(
        err.contains("grid") && err.contains("statement_timeout"),
        "{err}"
    );
}

/// Each statement starts at its own time and sees the settings made before
/// it, through both protocols, though a session plans its statements with
/// one copy of its state (`Session::statement_state`).
#[tokio::test]
async fn each_statement_has_its_own_now_and_the_settings_before_it() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let now = |rows: Vec<Vec<Option<String>>>| rows[0][0].clone().unwrap();
    let first = now(text_rows(&client, "SELECT CAST(now() AS text)").await);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = now(text_rows(&client, "SELECT CAST(now() AS text)").await);
    assert!(second > first, "{first} then {second}");
    let prepared: String = client
        .query_one("SELECT CAST(now() AS text)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(prepared > second, "{second} then {prepared}");
    // One statement reads one time.
    assert_eq!(
        text_rows(&client, "SELECT now() = now()").await,
        vec![vec![Some("t".to_string())]]
    );
    client.batch_execute("SET TimeZone = 'UTC'").await.unwrap();
    let utc = now(text_rows(
        &client,
        "SELECT CAST(TIMESTAMPTZ '2024-01-01 08:00:00+08' AS text)",
    )
    .await);
    assert_eq!(utc, "2024-01-01 00:00:00+00");
    client
        .batch_execute("SET TimeZone = 'Asia/Shanghai'")
        .await
        .unwrap();
    let shanghai = now(text_rows(
        &client,
        "SELECT CAST(TIMESTAMPTZ '2024-01-01 08:00:00+08' AS text)",
    )
    .await);
    assert_eq!(shanghai, "2024-01-01 08:00:00+08");
}
