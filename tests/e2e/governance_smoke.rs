//! The work fence as seen through the wire, checked against the Parquet files
//! read directly (the oracle), not against zhenjie itself.

use crate::common::*;
use datafusion::prelude::*;

/// Rows of a dataset's file, optionally only those whose grid_code starts with
/// `prefix`, counted by a plain DataFusion context over the file.
pub fn parquet_count(dataset: &str, prefix: Option<&str>) -> usize {
    let path = city_dir().join(format!("{dataset}.parquet"));
    let sql = match prefix {
        Some(p) => format!("SELECT count(*) FROM t WHERE starts_with(grid_code, '{p}')"),
        None => "SELECT count(*) FROM t".to_string(),
    };
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let ctx = SessionContext::new();
                ctx.register_parquet("t", path.to_str().unwrap(), ParquetReadOptions::default())
                    .await
                    .unwrap();
                let b = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
                b[0].column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Int64Array>()
                    .unwrap()
                    .value(0) as usize
            })
    })
    .join()
    .unwrap()
}

fn area_prefix(user: &str) -> String {
    let cat = zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let u = cat.user(user).unwrap();
    cat.areas.get(&u.area).unwrap().prefix().to_string()
}

#[tokio::test]
async fn each_level_counts_exactly_the_persons_of_its_area() {
    let addr = start_server().await;
    let mut previous = usize::MAX;
    for user in ["city", "county", "town", "village", "grid"] {
        let client = connect(addr, user).await;
        let n: i64 = client
            .query_one("SELECT count(*) FROM persons", &[])
            .await
            .unwrap()
            .get(0);
        let expected = parquet_count("persons", Some(&area_prefix(user)));
        assert_eq!(n as usize, expected, "{user}");
        assert!(expected > 0 && expected <= previous, "{user}: {expected}");
        previous = expected;
        // Every row they get back lies in their area.
        let outside: i64 = client
            .query_one(
                "SELECT count(*) FROM persons WHERE NOT starts_with(grid_code, $1)",
                &[&area_prefix(user)],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(outside, 0, "{user}");
    }
}

#[tokio::test]
async fn a_town_user_cannot_reach_other_towns_by_filtering() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM persons WHERE grid_code LIKE '3706%' OR 1 = 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        n as usize,
        parquet_count("persons", Some(&area_prefix("town")))
    );
}
