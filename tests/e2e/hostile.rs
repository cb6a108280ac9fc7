//! One statement must never take the server down: statements nested deeper
//! than any stack, and a bug that panics inside a query, each end that
//! statement with PostgreSQL's SQLSTATE while the server serves everyone
//! else (and the same connection) as before.

use crate::common::*;
use datafusion::arrow::array::{Array, Int64Array};
use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
use std::sync::Arc;
use tokio_postgres::NoTls;
use zhenjie_engine::EngineOptions;

/// The server still answers: a fresh connection counts the city.
async fn still_serving(addr: std::net::SocketAddr) {
    let other = connect(addr, "city").await;
    let n: i64 = other
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n as usize, PERSONS);
}

fn chain(op: &str, term: &str, n: usize) -> String {
    vec![term; n].join(op)
}

#[tokio::test]
async fn statements_nested_too_deeply_get_54001_and_the_server_goes_on() {
    let addr = start_server().await;
    let client = connect(addr, "grid").await;
    let ors = (0..20_000)
        .map(|i| format!("sex = '{i}'"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let cases = [
        format!("SELECT {}", chain(" + ", "1", 20_000)),
        format!("SELECT {}", chain(" || ", "'a'", 20_000)),
        format!("SELECT count(*) FROM persons WHERE {ors}"),
        chain(" UNION ALL ", "SELECT 1", 20_000),
        format!("SELECT 1 FROM {}", chain(", ", "areas", 20_000)),
        format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000)),
        format!("SELECT {}1{}", "(SELECT ".repeat(5_000), ")".repeat(5_000)),
    ];
    for sql in &cases {
        // Simple protocol (psql) and extended protocol (drivers) alike.
        let simple = client.simple_query(sql).await.expect_err("too deep");
        assert_eq!(sqlstate(&simple), "54001", "{}", &sql[..60]);
        let extended = client.query(sql.as_str(), &[]).await.expect_err("too deep");
        assert_eq!(sqlstate(&extended), "54001", "{}", &sql[..60]);
        // The same connection goes on.
        let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
    }
    still_serving(addr).await;
    // Within the limit the answer is PostgreSQL's.
    let sum: i32 = client
        .query_one(&format!("SELECT {}", chain(" + ", "1", 900)), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(sum, 900);
}

/// `boom(n)`: returns n, but panics (a bug) where n is 3 or 60,000.
fn boom() -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        "boom",
        vec![datafusion::arrow::datatypes::DataType::Int64],
        datafusion::arrow::datatypes::DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let values = ColumnarValue::values_to_arrays(args)?;
            let n = values[0].as_any().downcast_ref::<Int64Array>().unwrap();
            if n.iter().flatten().any(|v| v == 3 || v == 60_000) {
                panic!("boom: a bug in a function");
            }
            Ok(ColumnarValue::Array(Arc::new(n.clone())))
        }),
    )
}

#[tokio::test]
async fn a_panic_inside_a_query_fails_that_statement_only() {
    let addr = start_server_with(EngineOptions {
        functions: vec![boom()],
        ..test_options()
    })
    .await;
    let client = connect(addr, "city").await;
    let fine: i64 = client
        .query_one("SELECT boom(2::bigint)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(fine, 2);
    for sql in [
        // While planning: the constant is folded.
        "SELECT boom(3::bigint)",
        // While running, after rows went out: the rows so far are not a result.
        "SELECT boom(value) FROM generate_series(1, 100000)",
    ] {
        let err = client.simple_query(sql).await.expect_err("panicked");
        assert_eq!(sqlstate(&err), "XX000", "{sql}: {err:?}");
        let err = client.query(sql, &[]).await.expect_err("panicked");
        assert_eq!(sqlstate(&err), "XX000", "{sql}: {err:?}");
        let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
    }
    still_serving(addr).await;
}

/// Sessions beyond `max` are refused with 53300, as PostgreSQL refuses
/// them; the last reserved slots take only city-level administrators, so
/// they can always log in to see why; a closed session gives its slot back.
#[tokio::test]
async fn connections_beyond_the_limit_get_53300_and_admins_keep_a_reserve() {
    let addr = start_server_with_limits(zhenjie_server::ConnectionLimits {
        max: 3,
        reserved_for_admins: 1,
    })
    .await;
    let refused = |user: &'static str| async move {
        match config(addr, user, "demo").connect(NoTls).await {
            Ok(_) => panic!("{user} connected beyond the limit"),
            Err(e) => sqlstate(&e),
        }
    };
    let town = connect(addr, "town").await;
    let grid = connect(addr, "grid").await;
    // Two of three taken: the last one is the administrators'.
    assert_eq!(refused("village").await, "53300");
    assert_eq!(refused("city").await, "53300", "city without admin role");
    let admin = connect(addr, "admin").await;
    assert_eq!(refused("admin").await, "53300", "none left at all");
    // The sessions in use go on.
    for c in [&town, &grid, &admin] {
        assert_eq!(c.simple_query("SELECT 1").await.unwrap().len(), 3);
    }
    // A closed session gives its slot back: with the town's and the
    // admin's sessions open, the free slot is the reserved one; with the
    // town's closed too, a village user gets in.
    drop(grid);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(refused("village").await, "53300");
    drop(town);
    let mut again = None;
    for _ in 0..50 {
        if let Ok((client, conn)) = config(addr, "village", "demo").connect(NoTls).await {
            tokio::spawn(conn);
            again = Some(client);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let village = again.expect("a slot came back");
    assert_eq!(village.simple_query("SELECT 1").await.unwrap().len(), 3);
}
