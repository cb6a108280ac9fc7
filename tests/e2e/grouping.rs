//! Grouping by a few text columns (or their first characters) whose keys
//! repeat finds each row's group by its keys' string views
//! (`engine/src/speed/key_grouping.rs`); keys that do not repeat go to
//! DataFusion's own operator. Either way the groups and aggregates must be
//! exactly those of plain DataFusion over the raw files (the oracle).

use crate::common::*;
use crate::governance::{oracle, rows};

#[tokio::test]
async fn grouping_by_key_views_gives_the_oracles_groups() {
    let addr = start_server().await;
    // admin: the whole city, nothing masked, so the raw files are the oracle.
    let admin = connect(addr, "admin").await;
    let plan = rows(
        &admin,
        "EXPLAIN SELECT county_code, count(*) FROM persons GROUP BY county_code",
    )
    .await
    .concat()
    .join("\n");
    assert!(plan.contains("grouping=key_views"), "{plan}");
    // Area codes (sorted runs) and sexes (two values) repeat, so the
    // partition goes by views; names do not, so it is handed to DataFusion's
    // operator. (The fixture's persons are one row group, read in one
    // partition: `speed/one_partition.rs`.)
    for (sql, runs, hashed) in [
        (
            "SELECT county_code, count(*) FROM persons GROUP BY county_code",
            1,
            0,
        ),
        ("SELECT name, count(*) FROM persons GROUP BY name", 0, 1),
        (
            "SELECT town_code, sex, count(*) FROM persons GROUP BY 1, 2",
            1,
            0,
        ),
        (
            "SELECT sex, name, count(*) FROM persons GROUP BY 1, 2",
            0,
            1,
        ),
        // A prefix of the area code: the persons-per-county report.
        (
            "SELECT substr(grid_code, 1, 6), count(*) FROM persons GROUP BY 1",
            1,
            0,
        ),
        (
            "SELECT left(grid_code, 9), count(*) FROM persons GROUP BY 1",
            1,
            0,
        ),
    ] {
        let analyzed = rows(&admin, &format!("EXPLAIN ANALYZE {sql}"))
            .await
            .concat()
            .join("\n");
        assert!(
            analyzed.contains(&format!("partitions_by_key_views={runs}"))
                && analyzed.contains(&format!("partitions_hashed={hashed}")),
            "{analyzed}"
        );
    }
    for sql in [
        // Short keys (inline in the string view), several aggregates, NULLs
        // inside an aggregate (phone).
        "SELECT county_code, count(*), count(phone), min(name), max(household_no), \
         sum(length(address)) FROM persons GROUP BY county_code ORDER BY county_code",
        // Counts tallied by runs (area codes) or by group (sexes), and the
        // counts that must go row by row: of a column with NULLs, of
        // CASE (NULL for half the rows), of a NULL constant.
        "SELECT county_code, count(*), count(1), count(name), count(phone), \
         count(CASE WHEN sex = '男' THEN 1 END), count(NULL) FROM persons \
         GROUP BY county_code ORDER BY county_code",
        "SELECT sex, relation, count(*), count(household_no) FROM persons \
         GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT substr(grid_code, 1, 9), count(*) FROM persons WHERE is_alive \
         GROUP BY 1 HAVING count(*) > 10 ORDER BY 1",
        // Keys longer than 12 bytes (kept out of line) and many groups.
        "SELECT grid_code, count(*), min(id_number) FROM persons \
         GROUP BY grid_code ORDER BY grid_code",
        // A NULL group before runs of values, and one scattered among them.
        "SELECT k, count(*), max(name) FROM (SELECT CASE WHEN county_code <> '370602000000' \
         THEN town_code END AS k, name FROM persons) GROUP BY k ORDER BY k NULLS LAST",
        "SELECT k, count(*), max(name) FROM (SELECT CASE WHEN sex = '男' THEN town_code END AS k, \
         name FROM persons) GROUP BY k ORDER BY k NULLS LAST",
        // Prefixes: counties and towns cut from grid codes, a prefix longer
        // than some values, and characters rather than bytes (the first
        // character of a name, which has no runs).
        "SELECT substr(grid_code, 1, 6) AS county, count(*), count(phone), min(name) \
         FROM persons GROUP BY 1 ORDER BY 1",
        "SELECT substring(grid_code FROM 1 FOR 9), count(*) FROM persons GROUP BY 1 ORDER BY 1",
        "SELECT left(town_code, 6), count(*), max(household_no) FROM persons GROUP BY 1 ORDER BY 1",
        "SELECT substr(k, 1, 12), count(*) FROM (SELECT CASE WHEN sex = '男' THEN grid_code \
         ELSE substr(grid_code, 1, 4) END AS k FROM persons) GROUP BY 1 ORDER BY 1 NULLS LAST",
        "SELECT substr(name, 1, 1), count(*) FROM persons GROUP BY 1 ORDER BY 1",
        "SELECT substr(address, 1, 3), count(*) FROM persons GROUP BY 1 ORDER BY 1",
        // Not a prefix: hashed as before.
        "SELECT substr(grid_code, 7, 3), count(*) FROM persons GROUP BY 1 ORDER BY 1",
        // Two and three keys: a run and a scattered key, NULLs in either,
        // a prefix among them, and a key long enough to be kept out of line.
        "SELECT town_code, sex, count(*), min(name), max(phone) FROM persons \
         GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT sex, relation, count(*) FROM persons GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT k, sex, count(*), count(phone) FROM (SELECT CASE WHEN relation <> '02' \
         THEN town_code END AS k, sex, phone FROM persons) GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT substr(grid_code, 1, 9), CASE WHEN sex = '男' THEN NULL ELSE relation END, \
         grid_code, count(*) FROM persons GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        // No repeats at all: DataFusion's operator takes the partition over.
        "SELECT name, count(*) FROM persons GROUP BY name ORDER BY name",
        "SELECT town_code, count(*) FROM persons GROUP BY town_code \
         HAVING count(*) > 100 ORDER BY town_code",
    ] {
        let got = rows(&admin, sql).await;
        assert!(!got.is_empty(), "{sql}");
        assert_eq!(got, oracle(sql), "{sql}");
    }
}
