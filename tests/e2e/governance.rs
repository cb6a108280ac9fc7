//! The adversarial governance suite: principals at each level try to reach
//! rows outside their fence or raw values behind a mask, through the real wire
//! protocol. Every case states its expected rows, computed by an oracle — plain
//! DataFusion over the raw Parquet files with the fence spelled out — never by
//! zhenjie itself.

use crate::common::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::*;
use std::path::Path;
use std::sync::OnceLock;
use tokio_postgres::SimpleQueryMessage;

/// All datasets of the test city, raw, in a plain DataFusion context.
pub(crate) fn oracle(sql: &str) -> Vec<Vec<String>> {
    let sql = sql.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let ctx = SessionContext::new();
                zhenjie_udfs::register_all(&ctx);
                let catalog =
                    zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap();
                for d in &catalog.file.datasets {
                    let mut path = catalog.resolve_location(&d.location);
                    if d.snapshots {
                        // The newest dated load, as the engine reads it.
                        let newest = std::fs::read_dir(&path)
                            .unwrap()
                            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                            .filter(|n| zhenjie_catalog::is_iso_date(n))
                            .max()
                            .unwrap();
                        path = format!("{path}/{newest}/");
                    }
                    ctx.register_parquet(d.name.as_str(), &path, ParquetReadOptions::default())
                        .await
                        .unwrap();
                }
                let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
                let mut rows = Vec::new();
                for b in batches {
                    let fmts: Vec<_> = b
                        .columns()
                        .iter()
                        .map(|c| {
                            ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()).unwrap()
                        })
                        .collect();
                    for r in 0..b.num_rows() {
                        rows.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
                    }
                }
                rows
            })
    })
    .join()
    .unwrap()
}

/// Rows of a simple-protocol query, as text.
pub(crate) async fn rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

pub(crate) fn prefix_of(user: &str) -> String {
    static CAT: OnceLock<zhenjie_catalog::Catalog> = OnceLock::new();
    let cat = CAT
        .get_or_init(|| zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap());
    let u = cat.user(user).unwrap();
    cat.areas.get(&u.area).unwrap().prefix().to_string()
}

/// `(user, zhenjie SQL, oracle SQL)`: the oracle's `{P}` is the user's area prefix.
const SAME_ROWS: &[(&str, &str, &str)] = &[
    ("town", "SELECT count(*) FROM persons",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    ("grid", "SELECT min(grid_code), max(grid_code), count(*) FROM persons",
     "SELECT min(grid_code), max(grid_code), count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    ("village", "WITH p AS (SELECT * FROM persons) SELECT count(*) FROM p",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    ("village", "SELECT count(*) FROM (SELECT grid_code FROM persons WHERE is_alive) s",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND is_alive"),
    ("town", "SELECT count(*) FROM households h WHERE EXISTS (SELECT 1 FROM persons p WHERE p.household_no = h.household_no AND p.relation = '10')",
     "SELECT count(*) FROM households h WHERE starts_with(h.grid_code, '{P}') AND EXISTS (SELECT 1 FROM persons p WHERE p.household_no = h.household_no AND p.relation = '10' AND starts_with(p.grid_code, '{P}'))"),
    ("town", "SELECT count(*) FROM persons WHERE household_no IN (SELECT household_no FROM households WHERE members > 3)",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND household_no IN (SELECT household_no FROM households WHERE members > 3 AND starts_with(grid_code, '{P}'))"),
    ("grid", "SELECT count(*) FROM (SELECT grid_code FROM persons UNION ALL SELECT grid_code FROM households) u",
     "SELECT count(*) FROM (SELECT grid_code FROM persons WHERE starts_with(grid_code, '{P}') UNION ALL SELECT grid_code FROM households WHERE starts_with(grid_code, '{P}')) u"),
    ("village", "SELECT count(*) FROM persons a JOIN persons b ON a.household_no = b.household_no AND b.relation = '02'",
     "SELECT count(*) FROM persons a JOIN persons b ON a.household_no = b.household_no AND b.relation = '02' WHERE starts_with(a.grid_code, '{P}') AND starts_with(b.grid_code, '{P}')"),
    // A predicate that would divide by zero on any row outside the fence.
    ("town", "SELECT count(*) FROM persons WHERE 1 / (CASE WHEN starts_with(grid_code, current_area_prefix()) THEN 1 ELSE 0 END) = 1",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    // A cast that fails on any row outside the fence.
    ("village", "SELECT count(*) FROM persons WHERE CAST(CASE WHEN starts_with(grid_code, current_area_prefix()) THEN '1' ELSE 'x' END AS INT) = 1",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    // OR 1 = 1 widens nothing.
    ("grid", "SELECT count(*) FROM persons WHERE grid_code LIKE '3706%' OR 1 = 1",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    // Masked birth dates are years; ranges work on the year.
    ("village", "SELECT count(*) FROM persons WHERE birth_date BETWEEN 1960 AND 1969",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND extract(year FROM birth_date) BETWEEN 1960 AND 1969"),
    // Keyed hashes still join: persons with a disability certificate.
    ("village", "SELECT count(*) FROM persons p JOIN disability_certs d ON p.id_number = d.id_number",
     "SELECT count(*) FROM persons p JOIN disability_certs d ON p.id_number = d.id_number WHERE starts_with(p.grid_code, '{P}') AND starts_with(d.grid_code, '{P}')"),
    // … and count distinct.
    ("grid", "SELECT count(DISTINCT id_number) FROM persons",
     "SELECT count(DISTINCT id_number) FROM persons WHERE starts_with(grid_code, '{P}')"),
    // Attribution through a key: a province list lands where the person lives.
    ("village", "SELECT count(*) FROM dept_list",
     "SELECT count(*) FROM dept_list WHERE id_number IN (SELECT id_number FROM persons WHERE starts_with(grid_code, '{P}'))"),
    ("town", "SELECT count(*) FROM social_security_cards",
     "SELECT count(*) FROM social_security_cards WHERE id_number IN (SELECT id_number FROM persons WHERE starts_with(grid_code, '{P}'))"),
    // The pii role sees raw identity numbers in its own area.
    ("town", "SELECT count(*) FROM persons WHERE length(id_number) = 18 AND substr(id_number, 7, 4) = CAST(extract(year FROM birth_date) AS VARCHAR)",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    // Public reference data is whole for everyone.
    ("grid", "SELECT count(*) FROM areas", "SELECT count(*) FROM areas"),
    // Masked names keep surname and length class; grouping sees masked values.
    ("village", "SELECT count(*) FROM persons WHERE substr(name, 2, 1) = '*'",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND character_length(name) >= 2"),
    ("village", "SELECT count(*) FROM persons WHERE phone LIKE '%****%'",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND phone IS NOT NULL"),
    // Leakproof predicates run below the barrier beside the fence, never
    // instead of it: a range, LIKE, IN and NULL tests over unmasked columns.
    ("town", "SELECT count(*) FROM persons WHERE grid_code LIKE '37%' AND relation IN ('01', '02')",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND relation IN ('01', '02')"),
    ("grid", "SELECT count(*) FROM persons WHERE grid_code >= '3' OR grid_code IS NULL",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    ("town", "SELECT count(*) FROM persons WHERE id_number BETWEEN '1' AND '9' AND NOT is_alive IS NULL",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND id_number BETWEEN '1' AND '9'"),
    // … on a key-placed dataset, below its attribution.
    ("village", "SELECT count(*) FROM social_security_cards WHERE issued_on >= DATE '2020-01-01' AND channel IS NOT NULL",
     "SELECT count(*) FROM social_security_cards WHERE issued_on >= DATE '2020-01-01' AND channel IS NOT NULL AND id_number IN (SELECT id_number FROM persons WHERE starts_with(grid_code, '{P}'))"),
    // A masked column (amount is health data, NULL for the village): the
    // comparison reads the mask, above the barrier.
    ("village", "SELECT count(*), count(amount) FROM subsidy_payments WHERE amount > 0 OR month IS NOT NULL",
     "SELECT count(*), 0 FROM subsidy_payments WHERE starts_with(grid_code, '{P}')"),
    // A leakproof conjunct goes below; the division stays above and sees
    // only the fence's rows.
    ("town", "SELECT count(*) FROM persons WHERE grid_code >= '3' AND 1 / (CASE WHEN starts_with(grid_code, current_area_prefix()) THEN 1 ELSE 0 END) = 1",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}')"),
    // A comparison with an uncorrelated scalar subquery's value goes below
    // too (at run time, as a constant); the subquery sees only the fence.
    ("town", "SELECT count(*) FROM persons WHERE id_number = (SELECT max(id_number) FROM persons)",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND id_number = (SELECT max(id_number) FROM persons WHERE starts_with(grid_code, '{P}'))"),
    // A comparison with a masked column reads the mask, as before.
    ("village", "SELECT count(*) FROM persons WHERE phone <> '13800000000'",
     "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{P}') AND phone IS NOT NULL"),
    // Catalog views run under the caller's fence: one SQL, each level its own rows.
    ("village", "SELECT sum(residents), sum(households) FROM village_population",
     "SELECT count(*), count(DISTINCT household_no) FROM persons WHERE starts_with(grid_code, '{P}')"),
    ("county", "SELECT count(*), sum(residents), sum(deceased) FROM village_population",
     "SELECT count(DISTINCT village_code), count(*), sum(CASE WHEN is_alive THEN 0 ELSE 1 END) FROM persons WHERE starts_with(grid_code, '{P}')"),
    ("town", "SELECT count(*), sum(amount) FROM deceased_still_paid",
     "SELECT count(*), sum(s.amount) FROM subsidy_payments s JOIN persons p ON p.id_number = s.id_number WHERE NOT p.is_alive AND s.month > p.death_date AND starts_with(s.grid_code, '{P}') AND starts_with(p.grid_code, '{P}')"),
    // … with the caller's masks: the county (no pii) sees keyed hashes and masked names.
    ("county", "SELECT count(*) FROM deceased_still_paid WHERE length(id_number) = 32 AND name LIKE '%*%'",
     "SELECT count(*) FROM subsidy_payments s JOIN persons p ON p.id_number = s.id_number WHERE NOT p.is_alive AND s.month > p.death_date AND starts_with(s.grid_code, '{P}') AND starts_with(p.grid_code, '{P}') AND character_length(p.name) >= 2"),
];

#[tokio::test]
async fn queries_see_exactly_their_fence() {
    let (_dir, log) = crate::audit::audit_file();
    let addr = start_server_with_audit(&log).await;
    for (user, sql, oracle_sql) in SAME_ROWS {
        let client = connect(addr, user).await;
        let prefix = prefix_of(user);
        let sql = sql.replace("current_area_prefix()", &format!("'{prefix}'"));
        let got = rows(&client, &sql).await;
        let want = oracle(&oracle_sql.replace("{P}", &prefix));
        assert_eq!(got, want, "{user}: {sql}");
        assert_ne!(
            want,
            vec![vec!["0".to_string()]],
            "{user}: {sql} must not be vacuous"
        );
        // Each case leaves its one audit record: who, what, how many rows.
        let r = crate::audit::the_record(&log, &sql);
        assert_eq!(r["user"], *user, "{r}");
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["rows"], got.len() as u64, "{r}");
        assert!(!r["datasets"].as_array().unwrap().is_empty(), "{r}");
    }
}

#[tokio::test]
async fn views_are_listed_only_where_they_may_be_used() {
    let addr = start_server().await;
    // open_hazards is for city, county and town users only.
    let village = connect(addr, "village").await;
    let err = village
        .simple_query("SELECT count(*) FROM open_hazards")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let listed = rows(
        &village,
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW' AND table_schema = 'public' ORDER BY 1",
    )
    .await;
    // Every view whose levels include the village's, the engine's own, and
    // the report views whose SQL the village may run.
    let catalog = load_catalog();
    let mut expected: Vec<Vec<String>> = catalog
        .file
        .views
        .iter()
        .filter(|v| v.levels.is_empty() || v.levels.contains(&zhenjie_catalog::Level::Village))
        .map(|v| vec![v.name.clone()])
        .chain(["policy_gaps", "policy_rules"].map(|n| vec![n.to_string()]))
        .collect();
    expected.sort();
    let (reports, others): (Vec<Vec<String>>, Vec<Vec<String>>) = listed
        .into_iter()
        .partition(|v| v[0].starts_with("report_"));
    assert_eq!(others, expected);
    assert!(!others.iter().any(|v| v[0] == "open_hazards"));
    // The overdue form reads open_hazards, so the village has no view of it.
    assert!(reports.iter().any(|v| v[0] == "report_population_by_grid"));
    assert!(!reports
        .iter()
        .any(|v| v[0] == "report_overdue_rectifications"));
    let town = connect(addr, "town").await;
    let got = rows(&town, "SELECT count(*) FROM open_hazards").await;
    let want = oracle(&format!(
        "SELECT count(*) FROM safety_inspections i JOIN enterprises e ON e.credit_code = i.credit_code \
         WHERE i.result <> '合格' AND i.rectification_status <> '已整改' \
           AND starts_with(i.grid_code, '{p}') AND starts_with(e.grid_code, '{p}')",
        p = prefix_of("town")
    ));
    assert_eq!(got, want);
    // Views carry their comments like tables.
    let comment = rows(
        &town,
        "SELECT obj_description('open_hazards'::regclass, 'pg_class')",
    )
    .await;
    assert_eq!(
        comment,
        vec![vec!["检查不合格且未整改的企业隐患".to_string()]]
    );
}

#[tokio::test]
async fn a_view_that_cannot_plan_stops_the_engine_naming_it() {
    let mut catalog = load_catalog();
    catalog.file.views.push(zhenjie_catalog::View {
        name: "broken".into(),
        sql: "SELECT no_such_column FROM persons".into(),
        comment: String::new(),
        levels: vec![],
        columns: Default::default(),
    });
    let err = zhenjie_engine::Engine::open(catalog, Default::default())
        .await
        .expect_err("must not open");
    assert!(err.message.contains("view broken"), "{}", err.message);
    // A view over a table some principals cannot see is simply absent for them.
    let mut catalog = load_catalog();
    catalog
        .file
        .datasets
        .iter_mut()
        .find(|d| d.name == "vehicles")
        .unwrap()
        .placement = None;
    catalog.file.views.push(zhenjie_catalog::View {
        name: "vehicle_count".into(),
        sql: "SELECT count(*) AS n FROM vehicles".into(),
        comment: String::new(),
        levels: vec![],
        columns: Default::default(),
    });
    let addr = start_server_over(catalog, Default::default()).await;
    let county = connect(addr, "county").await;
    let err = county
        .simple_query("SELECT n FROM vehicle_count")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let city = connect(addr, "city").await;
    assert_eq!(
        rows(&city, "SELECT n FROM vehicle_count").await,
        oracle("SELECT count(*) FROM vehicles")
    );
}

#[tokio::test]
async fn masked_values_do_not_match_raw_ones() {
    let addr = start_server().await;
    let village = connect(addr, "village").await;
    let p = prefix_of("village");
    let raw = oracle(&format!(
        "SELECT id_number, phone, name FROM persons WHERE starts_with(grid_code, '{p}') AND phone IS NOT NULL ORDER BY id_number LIMIT 1"
    ));
    let (id, phone, name) = (&raw[0][0], &raw[0][1], &raw[0][2]);
    for sql in [
        format!("SELECT count(*) FROM persons WHERE id_number = '{id}'"),
        format!(
            "SELECT count(*) FROM persons WHERE id_number LIKE '{}%'",
            &id[..6]
        ),
        format!("SELECT count(*) FROM persons WHERE phone = '{phone}'"),
        format!(
            "SELECT count(*) FROM persons WHERE name = '{name}' AND character_length(name) > 1"
        ),
        format!("SELECT count(*) FROM persons WHERE md5(id_number) = md5('{id}')"),
        // Rebuilding an identity number from county and birth date: the birth
        // date is only a year below pii.
        "SELECT count(*) FROM persons WHERE CAST(birth_date AS VARCHAR) LIKE '%-%'".to_string(),
    ] {
        assert_eq!(
            rows(&village, &sql).await,
            vec![vec!["0".to_string()]],
            "{sql}"
        );
    }
    // Hashes are not identity numbers: 32 hex characters, never 18.
    let lens = rows(
        &village,
        "SELECT min(length(id_number)), max(length(id_number)) FROM persons",
    )
    .await;
    assert_eq!(lens, vec![vec!["32".to_string(), "32".to_string()]]);
    // The display masks follow the convention.
    let shown = rows(
        &village,
        &format!(
            "SELECT phone FROM persons WHERE phone LIKE '{}%{}' LIMIT 1",
            &phone[..3],
            &phone[7..]
        ),
    )
    .await;
    assert_eq!(shown[0][0], format!("{}****{}", &phone[..3], &phone[7..]));
    // The same row, raw, for the pii role of the town above.
    let town = connect(addr, "town").await;
    assert_eq!(
        rows(
            &town,
            &format!("SELECT count(*) FROM persons WHERE id_number = '{id}'")
        )
        .await,
        vec![vec!["1".to_string()]]
    );
}

#[tokio::test]
async fn explain_shows_only_the_own_fence_and_analyze_and_verbose_are_refused_below_city() {
    let addr = start_server().await;
    let town = connect(addr, "town").await;
    let plan = rows(&town, "EXPLAIN SELECT count(*) FROM persons").await;
    let text: String = plan
        .iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains(&prefix_of("town")), "{text}");
    assert!(text.contains("FenceBarrierExec"), "{text}");
    // count(*) is computed, not read off file statistics.
    assert!(text.contains("AggregateExec"), "{text}");
    let county = prefix_of("county");
    let other_county = if county == "370602" {
        "370611"
    } else {
        "370602"
    };
    assert!(!text.contains(other_county), "{text}");
    let err = town
        .simple_query("EXPLAIN ANALYZE SELECT count(*) FROM persons")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    // VERBOSE prints every node's statistics, the scan's included: the whole
    // city's row count and its smallest and largest grid codes.
    let err = town
        .simple_query("EXPLAIN VERBOSE SELECT count(*) FROM persons")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    // PostgreSQL's parenthesised spelling is read, and refused, alike.
    for sql in [
        "EXPLAIN (ANALYZE) SELECT count(*) FROM persons",
        "EXPLAIN (VERBOSE true, COSTS off) SELECT count(*) FROM persons",
    ] {
        let err = town.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}");
    }
    let json = rows(
        &town,
        "EXPLAIN (FORMAT JSON, COSTS off) SELECT count(*) FROM persons",
    )
    .await;
    assert!(
        json.iter().any(|r| r[1].contains("\"Node Type\"")),
        "{json:?}"
    );
    let err = town
        .simple_query("EXPLAIN (SHOW_STATISTICS) SELECT count(*) FROM persons")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42601");
    // At city level they need a session with no masked column (`admin` has
    // `pii`; `city` has masks: its case is in `explain_shows_no_raw_value_…`).
    let city = connect(addr, "admin").await;
    assert!(!rows(&city, "EXPLAIN ANALYZE SELECT count(*) FROM persons")
        .await
        .is_empty());
    let analyzed = rows(&city, "EXPLAIN (ANALYZE) SELECT count(*) FROM persons").await;
    assert!(
        analyzed.iter().any(|r| r[1].contains("output_rows")),
        "{analyzed:?}"
    );
    // (With a predicate: a plain count of rows the city sees all of, as
    // stored, is read off the files; see
    // `city_scans_skip_the_fence_only_when_statistics_prove_it`.)
    let verbose = rows(
        &city,
        "EXPLAIN VERBOSE SELECT count(*) FROM persons WHERE sex = '女'",
    )
    .await;
    assert!(
        verbose.iter().any(|r| r[1].contains("FenceBarrierExec")),
        "{verbose:?}"
    );
    // The barrier passes on a size for the planner, never an exact count
    // (which would answer count(*)) nor any column's values.
    let barriers: Vec<&str> = verbose
        .iter()
        .filter(|r| r[0] == "physical_plan_with_stats")
        .flat_map(|r| r[1].lines())
        .filter(|l| l.contains("FenceBarrierExec"))
        .collect();
    assert!(!barriers.is_empty(), "{verbose:?}");
    for line in barriers {
        assert!(line.contains("Rows=Inexact("), "{line}");
        assert!(!line.contains("=Exact("), "{line}");
        assert!(!line.contains("Min=") && !line.contains("Max="), "{line}");
    }
}

/// Leakproof predicates reach the Parquet scan below the barrier (so they
/// prune row groups and pages); a predicate that could fail, call a
/// function or read a masked column does not.
#[tokio::test]
async fn only_leakproof_predicates_reach_the_governed_scan() {
    let addr = start_server().await;
    // The scan below the barrier: what follows its line in the plan.
    let below = |text: &str| {
        text.split_once("FenceBarrierExec")
            .map(|(_, below)| below.to_string())
            .unwrap_or_default()
    };
    let town = connect(addr, "town").await;
    let text = plan_text(
        rows(
            &town,
            "EXPLAIN SELECT count(*) FROM persons WHERE id_number = '370602199901019999' \
             AND 1 / (CASE WHEN grid_code LIKE '37%' THEN 1 ELSE 0 END) = 1",
        )
        .await,
    );
    let scan = below(&text);
    assert!(scan.contains("370602199901019999"), "{text}");
    assert!(scan.contains("required_guarantees=[id_number in"), "{text}");
    assert!(!scan.contains("CASE"), "{text}");
    // The village's id_number is a keyed hash: a comparison with it is a
    // comparison with the mask, above the barrier.
    let village = connect(addr, "village").await;
    let text = plan_text(
        rows(
            &village,
            "EXPLAIN SELECT count(*) FROM persons WHERE id_number = 'abc' AND grid_code LIKE '3706%'",
        )
        .await,
    );
    let scan = below(&text);
    assert!(!scan.contains("abc"), "{text}");
    assert!(scan.contains("3706%"), "{text}");
    // A comparison with a scalar subquery's value: below for an unmasked
    // column, above for a mask.
    let lookup = "EXPLAIN SELECT name FROM persons WHERE id_number = \
                  (SELECT min(id_number) FROM persons WHERE grid_code LIKE '3706%')";
    let text = plan_text(rows(&town, lookup).await);
    assert!(
        below(&text).contains("id_number@0 = scalar_subquery"),
        "{text}"
    );
    let text = plan_text(rows(&village, lookup).await);
    assert!(!below(&text).contains("= scalar_subquery"), "{text}");
    // Functions and arithmetic stay above.
    for predicate in [
        "starts_with(grid_code, '3706')",
        "length(grid_code) + 1 > 3",
        "CAST(grid_code AS BIGINT) > 3",
    ] {
        let text = plan_text(
            rows(
                &town,
                &format!("EXPLAIN SELECT count(*) FROM persons WHERE {predicate}"),
            )
            .await,
        );
        let scan = below(&text);
        assert!(
            !scan.contains("starts_with") && !scan.contains("length") && !scan.contains("Int64"),
            "{predicate}: {text}"
        );
    }
}

/// A governed scan's own plan is physically optimized once, by the query's
/// pass, which reaches it below the barrier: a leakproof predicate is put
/// into the files' scan once, and no node is wrapped twice for the
/// scheduler (both happened while the nested plan got a pass of its own).
#[tokio::test]
async fn a_governed_scans_plan_is_optimized_once_with_the_query() {
    let addr = start_server().await;
    let town = connect(addr, "town").await;
    let county = connect(addr, "county").await;
    let lookup = plan_text(
        rows(
            &town,
            "EXPLAIN SELECT name FROM persons WHERE id_number = '370602199901019999'",
        )
        .await,
    );
    let scan = lookup
        .lines()
        .find(|l| l.contains("DataSourceExec") && l.contains("persons"))
        .unwrap_or_else(|| panic!("{lookup}"));
    let predicate = scan
        .split_once(", predicate=")
        .and_then(|(_, p)| p.split_once(", pruning_predicate="))
        .map(|(p, _)| p)
        .unwrap_or_else(|| panic!("{scan}"));
    assert_eq!(
        predicate.matches("370602199901019999").count(),
        1,
        "{lookup}"
    );
    // A key placement's semi-join (a node DataFusion hands the scheduler
    // through a cooperative wrapper) under the barrier.
    for client in [&town, &county] {
        let text = plan_text(
            rows(
                client,
                "EXPLAIN SELECT channel, count(*) FROM social_security_cards GROUP BY 1",
            )
            .await,
        );
        assert!(text.contains("FenceBarrierExec"), "{text}");
        assert!(text.contains("HashJoinExec"), "{text}");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert!(
            !lines
                .windows(2)
                .any(|w| w[0] == "CooperativeExec" && w[1] == "CooperativeExec"),
            "{text}"
        );
    }
}

/// A join's run-time filter (the keys its build side holds) reaches the
/// governed scan of the probe side when the key is read unmasked, and
/// stays above the barrier when it is a mask.
#[tokio::test]
async fn join_filters_reach_the_scan_only_through_unmasked_keys() {
    let addr = start_server().await;
    let sql = "EXPLAIN SELECT count(*) FROM subsidy_payments s JOIN persons p \
               ON p.id_number = s.id_number WHERE p.death_date IS NOT NULL";
    let scans = |text: Vec<Vec<String>>| -> Vec<String> {
        text.iter()
            .flat_map(|r| r[1].lines().map(str::to_string).collect::<Vec<_>>())
            .filter(|l| l.contains("DataSourceExec"))
            .collect()
    };
    // town holds pii: identity numbers are raw, the join's keys prune.
    let town = connect(addr, "town").await;
    let with_pii = scans(rows(&town, sql).await);
    assert!(
        with_pii.iter().any(|l| l.contains("DynamicFilter")),
        "{with_pii:#?}"
    );
    // The village reads keyed hashes: nothing of the join goes below.
    let village = connect(addr, "village").await;
    let masked = scans(rows(&village, sql).await);
    assert!(!masked.is_empty());
    assert!(
        masked.iter().all(|l| !l.contains("DynamicFilter")),
        "{masked:#?}"
    );
    // And the answers are the fence's, as the same join written by hand.
    for user in ["town", "village"] {
        let client = connect(addr, user).await;
        let got = rows(
            &client,
            "SELECT count(*) FROM subsidy_payments s JOIN persons p \
             ON p.id_number = s.id_number WHERE p.death_date IS NOT NULL",
        )
        .await;
        let want = oracle(&format!(
            "SELECT count(*) FROM subsidy_payments s JOIN persons p ON p.id_number = s.id_number \
             WHERE p.death_date IS NOT NULL AND starts_with(s.grid_code, '{p}') \
             AND starts_with(p.grid_code, '{p}')",
            p = prefix_of(user)
        ));
        assert_eq!(got, want, "{user}");
    }
}

/// A keyed-hash mask's key is the server's secret: with it, anyone could hash
/// candidate identity numbers and undo the mask. Plans name the mask, never
/// the key, in every form of EXPLAIN a user may run.
#[tokio::test]
async fn no_plan_shows_the_mask_secret() {
    let addr = start_server().await;
    let secret = std::fs::read(city_dir().join("mask.key")).unwrap();
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let city = connect(addr, "city").await;
    let join = "SELECT count(*) FROM dept_list d JOIN persons p ON d.id_number = p.id_number";
    let shown = "SELECT id_number, count(*) FROM subsidy_payments GROUP BY id_number";
    let mut seen = 0;
    for sql in [
        format!("EXPLAIN VERBOSE {join}"),
        format!("EXPLAIN VERBOSE {shown}"),
    ] {
        let err = city.simple_query(&sql).await.expect_err("city has masks");
        assert_eq!(sqlstate(&err), "42501", "{sql}");
    }
    for sql in [
        format!("EXPLAIN {join}"),
        format!("EXPLAIN {shown}"),
        format!("EXPLAIN FORMAT TREE {shown}"),
        format!("EXPLAIN FORMAT JSON {shown}"),
        format!("EXPLAIN FORMAT GRAPHVIZ {shown}"),
    ] {
        let text: String = rows(&city, &sql)
            .await
            .iter()
            .map(|r| r.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        seen += text.matches("keyed_hash_mask").count();
        assert!(!text.contains(&hex), "{sql} shows the mask secret:\n{text}");
        assert!(
            !text.contains(&hex[..16]),
            "{sql} shows part of the mask secret"
        );
    }
    // The masks are there (the city user has no pii): named, without a key.
    assert!(seen > 0);
}

/// What a principal may not read in a row, they may not read in a plan: a
/// city user without `pii` runs EXPLAIN in every spelling over data with
/// masked columns, and no raw value of a classed column shows (the files'
/// smallest and largest identity numbers, names and phones were printed by
/// VERBOSE's statistics, and the join filter's bounds by ANALYZE).
#[tokio::test]
async fn explain_shows_no_raw_value_of_a_masked_column() {
    let addr = start_server().await;
    let admin = connect(addr, "admin").await;
    // The raw values at stake: the extremes statistics print, for every
    // classed text column of the datasets queried.
    let mut raw = Vec::new();
    for (table, column) in [
        ("dept_list", "id_number"),
        ("dept_list", "name"),
        ("dept_list", "phone"),
        ("persons", "id_number"),
        ("persons", "name"),
        ("persons", "phone"),
        ("disability_certs", "cert_no"),
    ] {
        for agg in ["min", "max"] {
            let sql = format!("SELECT {agg}({column})::text FROM {table} WHERE {column} <> ''");
            if let Some(v) = admin
                .query_one(sql.as_str(), &[])
                .await
                .unwrap()
                .get::<_, Option<String>>(0)
            {
                raw.push(v);
            }
        }
    }
    assert!(raw.len() >= 10, "{raw:?}");
    let city = connect(addr, "city").await;
    let queries = [
        "SELECT count(*) FROM dept_list d JOIN persons p ON d.id_number = p.id_number",
        "SELECT count(*) FROM dept_list",
        "SELECT grade, count(*) FROM disability_certs GROUP BY grade",
    ];
    let mut shown = 0;
    for q in queries {
        for form in [
            "EXPLAIN",
            "EXPLAIN VERBOSE",
            "EXPLAIN ANALYZE",
            "EXPLAIN ANALYZE VERBOSE",
            "EXPLAIN (ANALYZE)",
            "EXPLAIN (VERBOSE, COSTS off)",
            "EXPLAIN (ANALYZE, FORMAT JSON)",
            "EXPLAIN (FORMAT JSON)",
            "EXPLAIN FORMAT TREE",
            "EXPLAIN FORMAT GRAPHVIZ",
        ] {
            let sql = format!("{form} {q}");
            match city.simple_query(&sql).await {
                Err(e) => assert_eq!(sqlstate(&e), "42501", "{sql}: {e}"),
                Ok(messages) => {
                    shown += 1;
                    for m in messages {
                        let SimpleQueryMessage::Row(r) = m else {
                            continue;
                        };
                        for cell in (0..r.len()).filter_map(|i| r.get(i)) {
                            for v in &raw {
                                assert!(!cell.contains(v.as_str()), "{sql} shows {v}:\n{cell}");
                            }
                        }
                    }
                }
            }
        }
    }
    // The plain forms stay available.
    assert!(shown >= 3 * 4, "{shown}");
}

#[tokio::test]
async fn settings_and_statements_that_would_lift_governance_are_refused() {
    let (_dir, log) = crate::audit::audit_file();
    let addr = start_server_with_audit(&log).await;
    let grid = connect(addr, "grid").await;
    for sql in [
        "SET datafusion.execution.parquet.pushdown_filters = true",
        "SET datafusion.optimizer.skip_failed_rules = true",
        "SET zhenjie.governance = off",
        "SET SESSION AUTHORIZATION city",
        "SET ROLE city",
        "CREATE VIEW v AS SELECT * FROM persons",
        "CREATE EXTERNAL TABLE raw STORED AS PARQUET LOCATION '/tmp/persons.parquet'",
        "COPY persons FROM '/tmp/x.csv'",
        "DROP TABLE persons",
    ] {
        let err = grid
            .simple_query(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} must be refused"));
        let code = sqlstate(&err);
        assert!(
            code == "42501" || code == "0A000" || code == "42601",
            "{sql}: {code} {err:?}"
        );
        let r = crate::audit::the_record(&log, sql);
        assert_eq!(r["user"], "grid", "{r}");
        assert_eq!(r["sqlstate"], code.as_str(), "{r}");
        let status = if code == "42501" { "denied" } else { "error" };
        assert_eq!(r["status"], status, "{r}");
    }
    // Files cannot be read by URL.
    let err = grid
        .simple_query("SELECT count(*) FROM '/etc/passwd'")
        .await
        .unwrap_err();
    assert_ne!(sqlstate(&err), "00000");
    // Still fenced afterwards.
    let n = rows(&grid, "SELECT count(*) FROM persons").await;
    let want = oracle(&format!(
        "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{}')",
        prefix_of("grid")
    ));
    assert_eq!(n, want);
}

#[tokio::test]
async fn session_functions_name_the_fence() {
    let addr = start_server().await;
    let village = connect(addr, "village").await;
    let r = rows(
        &village,
        "SELECT current_area(), current_level(), current_area_name()",
    )
    .await;
    let cat = zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let u = cat.user("village").unwrap();
    assert_eq!(r[0][0], u.area);
    assert_eq!(r[0][1], "village");
    assert_eq!(r[0][2], cat.areas.get(&u.area).unwrap().name);
}

#[tokio::test]
async fn prepared_statements_belong_to_the_connection_that_prepared_them() {
    let addr = start_server().await;
    let town = connect(addr, "town").await;
    let grid = connect(addr, "grid").await;
    let stmt = town.prepare("SELECT count(*) FROM persons").await.unwrap();
    let err = grid.query(&stmt, &[]).await.unwrap_err();
    assert!(err.as_db_error().is_some(), "{err:?}");
    let n: i64 = town.query_one(&stmt, &[]).await.unwrap().get(0);
    let want = oracle(&format!(
        "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{}')",
        prefix_of("town")
    ));
    assert_eq!(n.to_string(), want[0][0]);
}

/// The test city's catalog file for a catalog in `dir` (datasets read where
/// they are, the mask key copied), with a CSV dataset `old_records` of
/// `area_code,note` rows placed by its area code.
fn with_old_records(
    base: &zhenjie_catalog::Catalog,
    dir: &Path,
    rows: &str,
) -> zhenjie_catalog::CatalogFile {
    use zhenjie_catalog::*;
    let mut file = base.file.clone();
    for d in &mut file.datasets {
        d.location = base.resolve_location(&d.location);
    }
    std::fs::copy(city_dir().join("mask.key"), dir.join("mask.key")).unwrap();
    std::fs::write(
        dir.join("old_records.csv"),
        format!("area_code,note\n{rows}"),
    )
    .unwrap();
    file.datasets.push(Dataset {
        snapshots: false,
        name: "old_records".into(),
        location: "old_records.csv".into(),
        format: Format::Csv,
        comment: "old records".into(),
        placement: Some(Placement::Column {
            column: "area_code".into(),
        }),
        columns: Default::default(),
        partitions: Vec::new(),
    });
    file
}

/// The test city's catalog plus: a dataset with no placement, a CSV of old
/// records with retired and missing area codes, and a county user of 蓬莱区 (370614).
fn edge_catalog() -> zhenjie_catalog::Catalog {
    use zhenjie_catalog::*;
    let base = Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let dir = std::env::temp_dir().join(format!("zhenjie-edge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut file = with_old_records(
        &base,
        &dir,
        "370684102001001,retired 蓬莱市 code\n370614102001001,current 蓬莱区 code\n,no area\n370602001001001,芝罘区\n",
    );
    file.datasets.push(Dataset {
        snapshots: false,
        name: "unplaced".into(),
        location: base.resolve_location("households.parquet"),
        format: Format::Parquet,
        comment: "no placement declared".into(),
        placement: None,
        columns: Default::default(),
        partitions: Vec::new(),
    });
    let mut penglai = file
        .users
        .iter()
        .find(|u| u.name == "county")
        .unwrap()
        .clone();
    penglai.name = "penglai_county".into();
    penglai.area = "370614000000".into();
    file.users.push(penglai);
    let c = Catalog::from_parts(file, base.areas.clone(), dir.clone()).unwrap();
    c.save(dir.join("catalog.toml")).unwrap();
    Catalog::load(dir.join("catalog.toml")).unwrap()
}

#[tokio::test]
async fn unplaced_data_retired_codes_and_null_areas() {
    let addr = start_server_for(edge_catalog()).await;
    let city = connect(addr, "city").await;
    let county = connect(addr, "county").await;
    let penglai = connect(addr, "penglai_county").await;
    let town = connect(addr, "town").await;
    // Old records: the retired 370684 code lands in today's 蓬莱区; NULL only at city level.
    let notes = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    let q = "SELECT note FROM old_records ORDER BY note";
    assert_eq!(
        notes(rows(&penglai, q).await),
        vec!["current 蓬莱区 code", "retired 蓬莱市 code"]
    );
    assert_eq!(notes(rows(&county, q).await), vec!["芝罘区"]);
    assert_eq!(notes(rows(&city, q).await).len(), 4);
    // A dataset without placement is invisible below city level, everywhere.
    let err = town
        .simple_query("SELECT count(*) FROM unplaced")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    for sql in [
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'unplaced'",
        "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'unplaced'",
    ] {
        assert_eq!(
            rows(&town, sql).await,
            vec![vec!["0".to_string()]],
            "town: {sql}"
        );
        assert_eq!(
            rows(&city, sql).await,
            vec![vec!["1".to_string()]],
            "city: {sql}"
        );
    }
    let n = rows(&city, "SELECT count(*) FROM unplaced").await;
    assert_eq!(n, oracle("SELECT count(*) FROM households"));
}

/// A lookup by a column its file marks as a key (a bloom filter in every
/// row group) is read by row filter where it spans row groups
/// (`speed/lookup_scans.rs`): the rest of a row is decoded only where the
/// key matched. The rows are the same, the fence holds, and a predicate that
/// could fail on a hidden row still runs above the barrier.
#[tokio::test]
async fn lookups_read_by_row_filter_keep_the_fence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cards.parquet");
    let town = prefix_of("town");
    // Four row groups of 1,000: the first two inside the town's area, the
    // last two outside the city. Each key once, scattered over the file.
    write_parquet_with(
        &path,
        &format!(
            "SELECT CASE WHEN value < 2000 THEN '{town}' ELSE '440300' END              || lpad(CAST(value AS VARCHAR), 6, '0') AS area_code,              'k' || lpad(CAST((value * 7919) % 4000 AS VARCHAR), 5, '0') AS key,              CASE WHEN value = 3000 THEN 'zero' ELSE 'one' END AS payload,              value AS n FROM generate_series(0, 3999)"
        ),
        1000,
        true,
    );
    let catalog = catalog_with_area_dataset("cards", path.to_str().unwrap());
    let addr = start_server_over(catalog, Default::default()).await;
    let city = connect(addr, "city").await;
    let town_user = connect(addr, "town").await;
    let one = |n: &str| vec![vec![n.to_string(), "one".to_string()]];
    // k02500 is row 1500 (inside the town), k01000 row 3000 (outside the
    // city, with the payload that makes the division below fail).
    let lookup = "SELECT n, payload FROM cards WHERE key = 'k02500'";
    for client in [&city, &town_user] {
        // The first read puts the footer where the rule looks for it.
        assert_eq!(rows(client, lookup).await, one("1500"));
        assert_eq!(rows(client, lookup).await, one("1500"));
        assert!(rows(client, "SELECT n FROM cards WHERE key = 'k01000'")
            .await
            .is_empty());
        assert_eq!(
            rows(
                client,
                "SELECT n, payload FROM cards WHERE key IN ('k02500', 'k01000')"
            )
            .await,
            one("1500")
        );
        assert!(rows(
            client,
            "SELECT n FROM cards WHERE key = 'k01000'              AND 1 / (CASE WHEN payload = 'zero' THEN 0 ELSE 1 END) = 1"
        )
        .await
        .is_empty());
    }
    // Prepared, the kept plan looks up a fresh subquery value each run
    // (keys are (n * 7919) % 4000, each n once).
    let key = |n: i64| (n * 7919) % 4000;
    let by_subquery = town_user
        .prepare(
            "SELECT n FROM cards WHERE key = \
             (SELECT max(key) FROM cards WHERE n BETWEEN $1 AND $2)",
        )
        .await
        .unwrap();
    for (low, high) in [(0i64, 10i64), (1500, 1600), (10, 20), (2500, 2600)] {
        let got: Vec<i64> = town_user
            .query(&by_subquery, &[&low, &high])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        // Rows past 2000 are outside the town: its subquery sees none.
        let want: Vec<i64> = (low..=high.min(1999))
            .max_by_key(|&n| key(n))
            .into_iter()
            .collect();
        assert_eq!(got, want, "n between {low} and {high}");
    }
    // A city-level scan (two row groups inside the city) read by row
    // filter: the rows of the row group the bloom filter kept, but the
    // matching one, were dropped as they were read. (EXPLAIN ANALYZE is
    // `admin`'s.)
    let admin = connect(addr, "admin").await;
    assert_eq!(rows(&admin, lookup).await, one("1500"));
    let analyzed = plan_text(rows(&admin, &format!("EXPLAIN ANALYZE {lookup}")).await);
    let scan = analyzed
        .lines()
        .find(|l| l.contains("DataSourceExec") && l.contains("cards.parquet"))
        .unwrap_or_else(|| panic!("{analyzed}"));
    assert!(
        scan.contains("pushdown_rows_pruned=999,") && scan.contains("output_rows=1,"),
        "{scan}"
    );
    // Not a key (no equality with a constant): read as before.
    let ranged = plan_text(
        rows(
            &admin,
            "EXPLAIN ANALYZE SELECT n FROM cards WHERE key > 'k03990'",
        )
        .await,
    );
    assert!(ranged.contains("pushdown_rows_pruned=0,"), "{ranged}");
}

/// The fence filter is dropped only for a scan whose files' statistics prove
/// every row inside the fence; a single row outside keeps it.
#[tokio::test]
async fn city_scans_skip_the_fence_only_when_statistics_prove_it() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("mixed.parquet");
    write_parquet(
        &mixed,
        "SELECT column1 AS area_code, column2 AS note FROM (VALUES \
         ('370602001001001', 'inside'), ('440300000000000', 'outside'), \
         (NULL, 'no area'))",
    );
    let catalog = catalog_with_area_dataset("mixed", mixed.to_str().unwrap());
    let addr = start_server_over(catalog, Default::default()).await;
    let city = connect(addr, "city").await;
    // Every person of the test city is inside the city: no filter, no area
    // column read, and a count hides nothing from the city, so it is read
    // off the files' statistics, as for any table.
    let persons = plan_text(rows(&city, "EXPLAIN SELECT count(*) FROM persons").await);
    assert!(!persons.contains("FilterExec"), "{persons}");
    assert!(persons.contains("PlaceholderRowExec"), "{persons}");
    assert_eq!(
        rows(&city, "SELECT count(*) FROM persons").await,
        oracle("SELECT count(*) FROM persons")
    );
    // The least of a masked column is not: the files' statistics hold the
    // raw values. It is the least of the masks, behind the barrier.
    let masked = plan_text(rows(&city, "EXPLAIN SELECT min(id_number) FROM persons").await);
    assert!(masked.contains("FenceBarrierExec"), "{masked}");
    assert!(!masked.contains("PlaceholderRowExec"), "{masked}");
    let least = rows(&city, "SELECT min(id_number) FROM persons").await;
    assert_ne!(least, oracle("SELECT min(id_number) FROM persons"));
    assert_eq!(least[0][0].len(), 32, "a keyed hash: {least:?}");
    // A key placement attributes nothing at city level: every row of the
    // list is the city's, those whose key names no resident (dirty numbers,
    // outsiders) included, as rows with no area code are. Closed is not lost.
    let listed_plan = plan_text(rows(&city, "EXPLAIN SELECT count(*) FROM dept_list").await);
    assert!(!listed_plan.contains("LeftSemi"), "{listed_plan}");
    assert!(!listed_plan.contains("FilterExec"), "{listed_plan}");
    let listed = rows(&city, "SELECT count(*) FROM dept_list").await;
    assert_eq!(listed, oracle("SELECT count(*) FROM dept_list"));
    assert_ne!(
        listed,
        oracle("SELECT count(*) FROM dept_list WHERE id_number IN (SELECT id_number FROM persons)"),
        "the list names outsiders and dirty numbers too"
    );
    // Below city level only attributed rows: the unattributed ones are the
    // city's alone.
    let county = connect(addr, "county").await;
    assert_eq!(
        rows(&county, "SELECT count(*) FROM dept_list").await,
        oracle(&format!(
            "SELECT count(*) FROM dept_list WHERE id_number IN \
             (SELECT id_number FROM persons WHERE starts_with(grid_code, '{}'))",
            prefix_of("county")
        ))
    );
    // One row from another province: the fence stays and keeps it out, of
    // a count too (the files' row count includes it).
    let mixed_plan = plan_text(rows(&city, "EXPLAIN SELECT note FROM mixed").await);
    assert!(mixed_plan.contains("FilterExec"), "{mixed_plan}");
    assert_eq!(
        rows(&city, "SELECT count(*) FROM mixed").await,
        vec![vec!["2".to_string()]]
    );
    assert_eq!(
        rows(&city, "SELECT note FROM mixed ORDER BY note").await,
        vec![vec!["inside".to_string()], vec!["no area".to_string()]]
    );
    // Below city level the statistics of the whole city never prove a fence.
    let town = connect(addr, "town").await;
    let town_plan = plan_text(rows(&town, "EXPLAIN SELECT count(*) FROM persons").await);
    assert!(town_plan.contains("FilterExec"), "{town_plan}");
}

/// A join on the attribution key attributes by itself, so the fence's own
/// semi-join is dropped for it; anything of the user's query that would see
/// the attributed rows first keeps it.
#[tokio::test]
async fn joins_on_the_attribution_key_keep_the_fence_without_repeating_it() {
    let addr = start_server().await;
    let plan = |r: Vec<Vec<String>>| r.iter().map(|r| r.join(" ")).collect::<Vec<_>>().join("\n");
    for user in ["village", "town", "city"] {
        let client = connect(addr, user).await;
        let prefix = prefix_of(user);
        let fenced_persons =
            format!("SELECT id_number FROM persons WHERE starts_with(grid_code, '{prefix}')");
        // What the user sees of the list: at city level all of it (rows
        // that attribute to no resident are the city's), below it the rows
        // whose key names a resident inside the fence.
        let attributed = if user == "city" {
            "SELECT * FROM dept_list".to_string()
        } else {
            format!("SELECT * FROM dept_list WHERE id_number IN ({fenced_persons})")
        };
        let joined = oracle(&format!(
            "SELECT count(*) FROM ({attributed}) d JOIN ({fenced_persons}) p ON d.id_number = p.id_number"
        ));
        assert_ne!(joined, vec![vec!["0".to_string()]], "{user}: vacuous");
        // The join alone: same rows, and the only semi-join left is none.
        let join = "SELECT count(*) FROM dept_list d JOIN persons p ON d.id_number = p.id_number";
        assert_eq!(rows(&client, join).await, joined, "{user}: {join}");
        let shape = plan(rows(&client, &format!("EXPLAIN {join}")).await);
        assert!(
            !shape.contains("LeftSemi") && !shape.contains("RightSemi"),
            "{user}: {shape}"
        );
        // Keyed-hash masked on both sides (all but the pii town): the join
        // compares raw keys, which it does not output.
        let raw_keys = shape.matches("join compares raw keys=[id_number]").count();
        assert_eq!(
            raw_keys,
            if user == "town" { 0 } else { 2 },
            "{user}: {shape}"
        );
        // Output the key and the masks stay, row for row.
        let key_join = "SELECT d.id_number, p.id_number FROM dept_list d JOIN persons p ON d.id_number = p.id_number";
        let shown = rows(&client, key_join).await;
        assert_eq!(shown.len().to_string(), joined[0][0], "{user}");
        for r in &shown {
            assert_eq!(r[0], r[1], "{user}");
            assert_eq!(
                r[0].len(),
                if user == "town" { 18 } else { 32 },
                "{user}: {r:?}"
            );
        }
        let shape = plan(rows(&client, &format!("EXPLAIN {key_join}")).await);
        assert!(!shape.contains("raw keys"), "{user}: {shape}");
        // The same as a semi-join of the user's, with a filter on persons.
        let semi = "SELECT count(*) FROM dept_list d WHERE d.id_number IN (SELECT id_number FROM persons WHERE is_alive)";
        assert_eq!(
            rows(&client, semi).await,
            oracle(&format!(
                "SELECT count(*) FROM ({attributed}) d WHERE d.id_number IN (SELECT id_number FROM persons WHERE is_alive AND starts_with(grid_code, '{prefix}'))"
            )),
            "{user}: {semi}"
        );
        // A left join keeps unmatched list rows: the fence must stay.
        let left =
            "SELECT count(*) FROM dept_list d LEFT JOIN persons p ON d.id_number = p.id_number";
        assert_eq!(
            rows(&client, left).await,
            oracle(&format!("SELECT count(*) FROM ({attributed}) d")),
            "{user}: {left}"
        );
        // A predicate on the list that divides by zero on every row outside
        // the fence: evaluated before the join, so the fence stays below it.
        let visible: Vec<String> = oracle(&format!("SELECT row_id FROM ({attributed}) d"))
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        let guarded = format!(
            "{join} WHERE 1 / (CASE WHEN d.row_id IN ({}) THEN 1 ELSE 0 END) = 1",
            visible.join(",")
        );
        assert_eq!(
            rows(&client, &guarded).await,
            joined,
            "{user}: guarded join"
        );
        let shape = plan(rows(&client, &format!("EXPLAIN {guarded}")).await);
        assert!(
            user == "city" || shape.contains("LeftSemi") || shape.contains("RightSemi"),
            "{user}: {shape}"
        );
    }
}

/// 长岛县 (370634) merged into 蓬莱区 (370614) with its towns renumbered: an
/// old record of 长岛's town that shares its number with one of 蓬莱区's
/// towns belongs to the town it became, not to that namesake. Lineage
/// entries at town level win over the county's.
#[tokio::test]
async fn retired_town_codes_go_to_the_town_they_became() {
    use zhenjie_catalog::*;
    let base = Catalog::load(city_dir().join("catalog.toml")).unwrap();
    // Today's town the old one became, and a town of 蓬莱区 that happens to
    // carry the old town's number (added to the tree here).
    let became = base
        .areas
        .at_level(Level::Town)
        .find(|a| a.code.starts_with("370614"))
        .expect("the test city has a town in 蓬莱区")
        .clone();
    let namesake = Area {
        code: "370614998000".into(),
        parent: "370614000000".into(),
        level: Level::Town,
        name: "同号镇".into(),
    };
    assert!(base.areas.get(&namesake.code).is_none());
    let mut areas = base.areas.areas().to_vec();
    areas.push(namesake.clone());
    let tree = AreaTree::new(areas).unwrap();
    let (namesake, became) = (&namesake, &became);
    let number = &namesake.prefix()[6..];
    let dir = tempfile::tempdir().unwrap();
    let mut file = with_old_records(
        &base,
        dir.path(),
        &format!(
            "370634{number}001001,长岛 old town\n{}001001,namesake today\n{}001001,became today\n",
            namesake.prefix(),
            became.prefix()
        ),
    );
    file.area_lineage.push(Lineage {
        old: format!("370634{number}"),
        new: became.prefix().to_string(),
        note: "长岛县的镇并入蓬莱区后重新编号".into(),
    });
    let town_user = file
        .users
        .iter()
        .find(|u| u.name == "town")
        .unwrap()
        .clone();
    for (name, area) in [("namesake", namesake), ("became", became)] {
        let mut u = town_user.clone();
        u.name = name.into();
        u.area = area.code.clone();
        file.users.push(u);
    }
    let c = Catalog::from_parts(file, tree, dir.path().to_path_buf()).unwrap();
    c.save(dir.path().join("catalog.toml")).unwrap();
    let catalog = Catalog::load(dir.path().join("catalog.toml")).unwrap();
    let addr = start_server_for(catalog).await;
    let q = "SELECT note FROM old_records ORDER BY note";
    let notes = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(
        notes(rows(&connect(addr, "namesake").await, q).await),
        vec!["namesake today"]
    );
    assert_eq!(
        notes(rows(&connect(addr, "became").await, q).await),
        vec!["became today", "长岛 old town"]
    );
    assert_eq!(notes(rows(&connect(addr, "city").await, q).await).len(), 3);
}

/// The demo city's 蓬莱区 has farmland subsidies paid before the 2020
/// merger under the retired codes: 蓬莱市's (370684…, same town numbers)
/// and 长岛县's 砣矶镇 (370634100…, today 370614101). The demo users of
/// 南王镇 (370614100) and 砣矶镇 each see exactly their own town's old
/// rows; 南王镇 never gets 长岛's rows that share its number.
#[tokio::test]
async fn demo_towns_of_the_merged_county_see_their_own_old_records() {
    let addr = start_server().await;
    let q = "SELECT substr(grid_code, 1, 9), count(*) FROM agri_subsidies \
             WHERE year < 2020 GROUP BY 1 ORDER BY 1";
    let expect = |prefixes: &[&str]| {
        let cond = prefixes
            .iter()
            .map(|p| format!("starts_with(grid_code, '{p}')"))
            .collect::<Vec<_>>()
            .join(" OR ");
        oracle(&format!(
            "SELECT substr(grid_code, 1, 9), count(*) FROM agri_subsidies \
             WHERE year < 2020 AND ({cond}) GROUP BY 1 ORDER BY 1"
        ))
    };
    let penglai = rows(&connect(addr, "penglai").await, q).await;
    assert_eq!(penglai, expect(&["370614100", "370684100"]));
    assert_eq!(penglai.len(), 1, "南王镇's old rows: {penglai:?}");
    assert_eq!(penglai[0][0], "370684100");
    let tuoji = rows(&connect(addr, "tuoji").await, q).await;
    assert_eq!(tuoji, expect(&["370614101", "370634100"]));
    assert_eq!(tuoji.len(), 1, "砣矶镇's old rows: {tuoji:?}");
    assert_eq!(tuoji[0][0], "370634100");
    // Every old row is someone's: the city sees them all.
    let city = rows(&connect(addr, "city").await, q).await;
    assert_eq!(city, expect(&[""]));
    assert!(city
        .iter()
        .all(|r| r[0].starts_with("370684") || r[0].starts_with("370634")));
}

/// `SELECT count(*) FROM table` as `client` sees it.
async fn count(client: &tokio_postgres::Client, table: &str) -> usize {
    rows(client, &format!("SELECT count(*) FROM {table}")).await[0][0]
        .parse()
        .unwrap()
}

/// A list's identity numbers come dirty (full-width digits, spaces, the
/// legacy 15 digits, a lower-case x). A key placement with `normalize =
/// "id_normalize"` compares the cleaned number, so each such row lands
/// where its person lives; the row keeps its own text. Without it only the
/// clean row does, and the rest stay the city's.
#[tokio::test]
async fn a_key_placement_can_attribute_through_the_cleaned_key() {
    use zhenjie_catalog::*;
    // A resident of the town user's area, born in the 1900s (so the legacy
    // 15-digit form exists).
    let town_prefix = prefix_of("town");
    let id = oracle(&format!(
        "SELECT min(id_number) FROM persons WHERE starts_with(grid_code, '{town_prefix}') \
         AND substr(id_number, 7, 2) = '19' AND length(id_number) = 18"
    ))[0][0]
        .clone();
    let full_width: String = id
        .chars()
        .map(|c| {
            c.to_digit(10)
                .map_or(c, |d| char::from_u32(0xFF10 + d).unwrap())
        })
        .collect();
    let spaced = format!("{} {} {}", &id[..6], &id[6..14], &id[14..]);
    let legacy = format!("{}{}", &id[..6], &id[8..17]);
    let outsider = "110101199003077777".to_string();
    let mut variants = vec![id.clone(), full_width.clone(), spaced, legacy];
    if id.ends_with('X') {
        variants.push(id.to_lowercase());
    }
    variants.push(outsider);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("dirty.csv");
    let body: String = variants
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{i},{v}\n"))
        .collect();
    std::fs::write(&csv, format!("row_id,id_number\n{body}")).unwrap();
    let mut catalog = load_catalog();
    for (name, normalize) in [("dirty_clean", Some("id_normalize")), ("dirty_raw", None)] {
        catalog.file.datasets.push(Dataset {
            snapshots: false,
            name: name.into(),
            location: csv.to_str().unwrap().into(),
            format: Format::Csv,
            comment: String::new(),
            placement: Some(Placement::Key {
                column: "id_number".into(),
                dataset: "persons".into(),
                dataset_column: "id_number".into(),
                normalize: normalize.map(str::to_string),
            }),
            columns: Default::default(),
            partitions: Vec::new(),
        });
    }
    let addr = start_server_for(catalog).await;
    let town = connect(addr, "town").await;
    // Every dirty form of the resident's number, and not the outsider.
    assert_eq!(count(&town, "dirty_clean").await, variants.len() - 1);
    assert_eq!(count(&town, "dirty_raw").await, 1);
    // The rows keep their own text (town has pii: raw values).
    let shown = rows(&town, "SELECT id_number FROM dirty_clean ORDER BY row_id").await;
    assert_eq!(shown[1][0], full_width);
    // Another area sees none of them; the city sees every row.
    let other = connect(addr, "grid").await;
    let grid_has = oracle(&format!(
        "SELECT count(*) FROM persons WHERE id_number = '{id}' AND starts_with(grid_code, '{}')",
        prefix_of("grid")
    ))[0][0]
        != "0";
    assert_eq!(
        count(&other, "dirty_clean").await,
        if grid_has { variants.len() - 1 } else { 0 }
    );
    let city = connect(addr, "city").await;
    assert_eq!(count(&city, "dirty_clean").await, variants.len());
    assert_eq!(count(&city, "dirty_raw").await, variants.len());
}

/// A dataset in Hive folders by county and month: a user's own leakproof
/// predicate on a folder column (`month = …`, a range) runs below the
/// barrier, so the listing skips the other months' folders, while a
/// function of it stays above and every folder of the user's county is
/// read. A broken file dropped into another month's folder of the town's
/// own county shows which statements open it.
#[tokio::test]
async fn a_users_predicate_on_a_folder_column_picks_the_folders_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog =
        catalog_with_area_dataset("visits", &format!("{}/visits/", dir.path().display()));
    let town = catalog
        .file
        .users
        .iter()
        .find(|u| u.name == "town")
        .unwrap()
        .area
        .clone();
    let mine = format!("{}001001", &town[..9]);
    let neighbour = format!("{}999001001", &town[..6]);
    for (month, rows) in [
        ("2026-10", vec![(&mine, 1), (&neighbour, 100)]),
        ("2026-11", vec![(&mine, 2), (&mine, 4), (&neighbour, 200)]),
    ] {
        let folder = dir
            .path()
            .join(format!("visits/county={}/month={month}", &town[..6]));
        std::fs::create_dir_all(&folder).unwrap();
        let values: Vec<String> = rows
            .iter()
            .map(|(code, n)| format!("('{code}', {n})"))
            .collect();
        write_parquet(
            &folder.join("part-0.parquet"),
            &format!(
                "SELECT * FROM (VALUES {}) AS t(area_code, n)",
                values.join(", ")
            ),
        );
    }
    let visits = catalog
        .file
        .datasets
        .iter_mut()
        .find(|d| d.name == "visits")
        .unwrap();
    visits.partitions = vec![
        zhenjie_catalog::Partition {
            name: "county".into(),
            area: Some(zhenjie_catalog::Level::County),
        },
        zhenjie_catalog::Partition {
            name: "month".into(),
            area: None,
        },
    ];
    let addr = start_server_for(catalog).await;
    let client = connect(addr, "town").await;
    let sum = |sql: &'static str| {
        let client = &client;
        async move { text_rows(client, sql).await }
    };
    assert_eq!(
        sum("SELECT month, sum(n) FROM visits GROUP BY month ORDER BY month").await,
        vec![
            vec![Some("2026-10".to_string()), Some("1".to_string())],
            vec![Some("2026-11".to_string()), Some("6".to_string())],
        ]
    );
    let broken = dir
        .path()
        .join(format!("visits/county={}/month=2026-09", &town[..6]));
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("broken.parquet"), "not a parquet file").unwrap();
    for sql in [
        "SELECT sum(n) FROM visits WHERE month = '2026-11'",
        "SELECT sum(n) FROM visits WHERE month >= '2026-10' AND n > 1",
        "SELECT sum(n) FROM visits WHERE month IN ('2026-11', '2027-01')",
    ] {
        assert_eq!(sum(sql).await, vec![vec![Some("6".to_string())]], "{sql}");
    }
    // A function of the folder column is not leakproof: it stays above the
    // barrier, and the scan reads every folder of the county.
    for sql in [
        "SELECT sum(n) FROM visits",
        "SELECT sum(n) FROM visits WHERE substr(month, 1, 7) = '2026-11'",
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::IO_ERROR),
            "{sql}: {err}"
        );
    }
}

/// An EXPLAIN's rows as one text, a line per row.
fn plan_text(rows: Vec<Vec<String>>) -> String {
    rows.iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}
