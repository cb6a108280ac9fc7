//! Prepared statements keep their plan, and run it again only while it is the
//! plan a fresh run would build: files replaced or added under a dataset, a
//! function whose value changes between runs, or other parameter values
//! mean a new plan. Every run is audited alike, kept plan or not.

use crate::audit::{audit_file, records_of};
use crate::common::*;
use std::path::Path;

/// Writes the rows of a `VALUES` list of `(area_code, note)` to a Parquet file.
fn write_notes(path: &Path, values: &str) {
    write_parquet(
        path,
        &format!("SELECT column1 AS area_code, column2 AS note FROM (VALUES {values})"),
    );
}

async fn notes(client: &tokio_postgres::Client, stmt: &tokio_postgres::Statement) -> Vec<String> {
    client
        .query(stmt, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

/// The city user's plan over a dataset whose files lie inside the city has no
/// fence filter (the statistics prove it). A file replaced with one holding a
/// row from elsewhere must bring the filter back for a statement prepared
/// before, and a file added to the dataset's folder must be read.
#[tokio::test]
async fn a_kept_plan_is_replanned_when_its_files_change() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("notes");
    std::fs::create_dir(&folder).unwrap();
    let a = folder.join("a.parquet");
    write_notes(&a, "('370602001001001', 'inside'), (NULL, 'no area')");
    let catalog = catalog_with_area_dataset("notes", &format!("{}/", folder.to_str().unwrap()));
    let addr = start_server_over(catalog, Default::default()).await;
    let city = connect(addr, "city").await;
    let plan = city
        .simple_query("EXPLAIN SELECT note FROM notes ORDER BY note")
        .await
        .unwrap();
    let plan = format!("{plan:?}");
    assert!(!plan.contains("FilterExec"), "the fence is proven: {plan}");
    let stmt = city
        .prepare("SELECT note FROM notes ORDER BY note")
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(notes(&city, &stmt).await, ["inside", "no area"]);
    }
    // Replaced in place: one row now lies outside the city.
    write_notes(
        &a,
        "('370602001001001', 'inside'), ('440300000000000', 'outside'), (NULL, 'no area')",
    );
    assert_eq!(notes(&city, &stmt).await, ["inside", "no area"]);
    // A statement planned afresh sees the new file too (DataFusion's own
    // cache of folder listings would keep the old file's size).
    let fresh: Vec<String> = city
        .query("SELECT note FROM notes ORDER BY note", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(fresh, ["inside", "no area"]);
    // Added beside it.
    write_notes(
        &folder.join("b.parquet"),
        "('370602001001002', 'inside too'), ('440300000000001', 'outside too')",
    );
    assert_eq!(
        notes(&city, &stmt).await,
        ["inside", "inside too", "no area"]
    );
}

/// A function whose value changes between runs is evaluated on each run, and
/// a kept plan is for the parameter values it was planned with.
#[tokio::test]
async fn kept_plans_do_not_freeze_values() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let now = client.prepare("SELECT CAST(now() AS TEXT)").await.unwrap();
    let first: String = client.query_one(&now, &[]).await.unwrap().get(0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second: String = client.query_one(&now, &[]).await.unwrap().get(0);
    assert_ne!(first, second, "now() is the time of each run");
    let by_sex = client
        .prepare("SELECT count(*) FROM persons WHERE sex = $1")
        .await
        .unwrap();
    let mut counts = Vec::new();
    for sex in ["男", "女", "男", "女"] {
        let n: i64 = client.query_one(&by_sex, &[&sex]).await.unwrap().get(0);
        counts.push(n);
    }
    assert_ne!(counts[0], counts[1]);
    assert_eq!(counts[0], counts[2]);
    assert_eq!(counts[1], counts[3]);
    let all: i64 = client
        .query_one("SELECT count(*) FROM persons", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(counts[0] + counts[1], all);
}

/// Each run of a prepared statement leaves its own record, naming what it
/// read and the masks it got, whether its plan was kept or new.
#[tokio::test]
async fn every_run_of_a_kept_plan_is_audited() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let city = connect(addr, "city").await;
    let sql = "SELECT count(DISTINCT id_number), count(DISTINCT name) FROM persons";
    let stmt = city.prepare(sql).await.unwrap();
    let first = city.query(&stmt, &[]).await.unwrap();
    for _ in 0..3 {
        let again = city.query(&stmt, &[]).await.unwrap();
        let ids = |rows: &[tokio_postgres::Row]| {
            rows.iter()
                .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&again), ids(&first));
    }
    let records = records_of(&log, sql);
    assert_eq!(records.len(), 4, "{records:#?}");
    // The first run plans; the others run the plan it kept, and say so.
    let kept: Vec<bool> = records
        .iter()
        .map(|r| r["plan_kept"].as_bool().unwrap())
        .collect();
    assert_eq!(kept, [false, true, true, true], "{records:#?}");
    for r in &records {
        assert_eq!(r["status"], "ok");
        assert_eq!(r["rows"], 1);
        assert_eq!(r["datasets"], records[0]["datasets"]);
        assert_eq!(r["columns"], records[0]["columns"]);
        assert_eq!(r["masks"], records[0]["masks"]);
    }
    assert_eq!(records[0]["datasets"], serde_json::json!(["persons"]));
    let masks = records[0]["masks"].as_array().unwrap();
    assert!(
        masks.iter().any(|m| m == "persons.id_number:hash"),
        "{masks:?}"
    );
}

/// Joins and top-Ns pass run-time filters to their scans, which one run fills
/// in: a kept plan gets fresh ones each run, so it answers as a fresh plan
/// does (last run's top-N bound would drop this run's N-th row and its
/// ties), and such plans are kept too. For a town user the key-placed
/// `social_security_cards` is attributed through `persons` by a join inside
/// the governed scan, whose filter is placed afresh as well.
#[tokio::test]
async fn kept_plans_get_fresh_run_time_filters() {
    let (_dir, log) = audit_file();
    let addr = start_server_with_audit(&log).await;
    let town = connect(addr, "town").await;
    let statements = [
        // Top-N with ties on its first key (two values of sex).
        "SELECT sex, name FROM persons ORDER BY sex, name DESC LIMIT 25",
        "SELECT name FROM persons ORDER BY birth_date DESC, id_number LIMIT 9",
        // A join, and a join into a key-placed dataset.
        "SELECT p.sex, count(*) FROM persons p JOIN social_security_cards c ON c.id_number = p.id_number GROUP BY p.sex ORDER BY p.sex",
        "SELECT c.channel, count(*) FROM social_security_cards c GROUP BY c.channel ORDER BY c.channel",
    ];
    for sql in statements {
        let fresh = text_rows(&town, sql).await;
        assert!(!fresh.is_empty(), "{sql}");
        let stmt = town.prepare(sql).await.unwrap();
        for run in 0..4 {
            let rows: Vec<Vec<Option<String>>> = town
                .query(&stmt, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| match r.try_get::<_, Option<String>>(i) {
                            Ok(text) => text,
                            Err(_) => r.get::<_, Option<i64>>(i).map(|n| n.to_string()),
                        })
                        .collect()
                })
                .collect();
            assert_eq!(rows, fresh, "run {run} of the kept plan of {sql}");
        }
        // The simple query's record, then the prepared statement's runs.
        let kept: Vec<bool> = records_of(&log, sql)
            .iter()
            .map(|r| r["plan_kept"].as_bool().unwrap())
            .collect();
        assert_eq!(kept, [false, false, true, true, true], "{sql}");
    }
}

/// A top-N's bound prunes row groups by their statistics: with last run's
/// bound (11, the 11th value) from the start, the row group whose smallest
/// value is 11 would be skipped and the 11th row lost. Each run of the kept
/// plan starts from no bound.
#[tokio::test]
async fn a_kept_top_n_starts_each_run_without_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("numbers.parquet");
    write_parquet_in_groups(
        &file,
        "SELECT '370602001001001' AS area_code, CAST(value AS BIGINT) AS n FROM generate_series(1, 200) ORDER BY (value - 1) / 10, value DESC",
        10,
    );
    let catalog = catalog_with_area_dataset("numbers", file.to_str().unwrap());
    let addr = start_server_over(catalog, Default::default()).await;
    for user in ["city", "town"] {
        let client = connect(addr, user).await;
        let stmt = client
            .prepare("SELECT n FROM numbers ORDER BY n LIMIT 11")
            .await
            .unwrap();
        for run in 0..3 {
            let n: Vec<i64> = client
                .query(&stmt, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert_eq!(n, (1..=11).collect::<Vec<i64>>(), "{user}, run {run}");
        }
    }
}
