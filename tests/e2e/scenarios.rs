//! The platform's scenarios through a real client: policy rules from the
//! catalog (政策找人) find exactly the gaps the generator planted, each town
//! gets its own part, and a rule that cannot plan stops the server by name.

use crate::common::*;
use crate::governance::{prefix_of, rows};
use std::collections::{BTreeMap, BTreeSet};

/// `(rule, gap, id_number, grid_code, reason)`.
type Gap = (String, String, String, String, String);

/// What the generator planted for the catalog's policy rules.
async fn planted_gaps() -> BTreeSet<Gap> {
    let catalog = load_catalog();
    let rules: BTreeSet<&str> = catalog.file.rules.iter().map(|r| r.name.as_str()).collect();
    planted()
        .await
        .into_iter()
        .filter(|g| rules.contains(g.0.as_str()))
        .collect()
}

/// What the generator planted (`scenario_truth.parquet`, beside the city).
async fn planted() -> BTreeSet<Gap> {
    use datafusion::arrow::array::AsArray;
    let ctx = datafusion::prelude::SessionContext::new();
    let path = city_dir().join("scenario_truth.parquet");
    let df = ctx
        .read_parquet(path.to_str().unwrap(), Default::default())
        .await
        .unwrap();
    let mut out = BTreeSet::new();
    for b in df.collect().await.unwrap() {
        let text = |i: usize| {
            datafusion::arrow::compute::cast(
                b.column(i),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap()
        };
        let cols: Vec<_> = (0..5).map(text).collect();
        let s: Vec<_> = cols.iter().map(|c| c.as_string::<i32>()).collect();
        for r in 0..b.num_rows() {
            out.insert((
                s[0].value(r).to_string(),
                s[1].value(r).to_string(),
                s[2].value(r).to_string(),
                s[3].value(r).to_string(),
                s[4].value(r).to_string(),
            ));
        }
    }
    out
}

async fn gaps(client: &tokio_postgres::Client) -> BTreeSet<Gap> {
    rows(
        client,
        "SELECT rule, gap, id_number, grid_code, reason FROM policy_gaps",
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r[0].clone(),
            r[1].clone(),
            r[2].clone(),
            r[3].clone(),
            r[4].clone(),
        )
    })
    .collect()
}

/// Rules whose rows reveal a class the user sees masked.
fn hidden_rules(user: &str) -> BTreeSet<String> {
    let catalog = load_catalog();
    let roles = &catalog.user(user).unwrap().roles;
    catalog
        .file
        .rules
        .iter()
        .filter(|r| {
            r.class
                .as_deref()
                .is_some_and(|c| catalog.mask_for(c, roles).is_some())
        })
        .map(|r| r.name.clone())
        .collect()
}

/// As the city, `policy_gaps` is exactly what the generator planted —
/// eligible people never enrolled, people enrolled by mistake, deaths not
/// reported, people who moved away — for every one of at least 20 rules,
/// each with its reason.
#[tokio::test]
async fn policy_gaps_are_exactly_the_planted_cases() {
    let addr = start_server().await;
    let admin = connect(addr, "admin").await;
    let rules = rows(&admin, "SELECT rule FROM policy_rules").await;
    assert!(rules.len() >= 20, "{rules:?}");
    let truth = planted_gaps().await;
    let got = gaps(&admin).await;
    let missing: Vec<_> = truth.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(&truth).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    // Every kind of planted case is there to be found.
    let kinds: BTreeSet<&str> = truth.iter().map(|g| g.4.as_str()).collect();
    for reason in [
        zhenjie_catalog::Rule::UNSERVED,
        zhenjie_catalog::Rule::NOT_REGISTERED,
        "已死亡",
        "人员未死亡",
    ] {
        assert!(
            kinds.contains(reason),
            "no planted case {reason}: {kinds:?}"
        );
    }
    let per_rule: BTreeMap<&str, usize> = truth.iter().fold(BTreeMap::new(), |mut m, g| {
        *m.entry(g.0.as_str()).or_default() += 1;
        m
    });
    assert!(per_rule.len() >= 20, "{per_rule:?}");
    // One rule alone, through the function.
    let orphans = rows(
        &admin,
        "SELECT id_number FROM policy_gaps('orphan') WHERE gap = 'unserved'",
    )
    .await;
    assert_eq!(
        orphans.len(),
        truth
            .iter()
            .filter(|g| g.0 == "orphan" && g.1 == "unserved")
            .count()
    );
}

/// A town user with the `pii` role gets exactly the planted gaps of their
/// own town; one without it gets the same counts with identity numbers
/// masked, and none of the rules that reveal health or income.
#[tokio::test]
async fn each_town_gets_only_its_own_gaps() {
    let addr = start_server().await;
    let truth = planted_gaps().await;
    let town = connect(addr, "town").await;
    let prefix = prefix_of("town");
    assert!(hidden_rules("town").is_empty());
    let own: BTreeSet<Gap> = truth
        .iter()
        .filter(|g| g.3.starts_with(&prefix))
        .cloned()
        .collect();
    assert!(!own.is_empty());
    assert_eq!(gaps(&town).await, own);

    let penglai = connect(addr, "penglai").await;
    let prefix = prefix_of("penglai");
    let hidden = hidden_rules("penglai");
    assert!(hidden.contains("disability_nursing") && hidden.contains("dibao"));
    let count = |set: &mut dyn Iterator<Item = &Gap>| {
        set.fold(
            BTreeMap::new(),
            |mut m: BTreeMap<(String, String, String, String), usize>, g| {
                *m.entry((g.0.clone(), g.1.clone(), g.3.clone(), g.4.clone()))
                    .or_default() += 1;
                m
            },
        )
    };
    let expected = count(
        &mut truth
            .iter()
            .filter(|g| g.3.starts_with(&prefix) && !hidden.contains(&g.0)),
    );
    let seen = gaps(&penglai).await;
    assert!(!expected.is_empty());
    assert_eq!(count(&mut seen.iter()), expected);
    for g in &seen {
        assert!(
            !truth.iter().any(|t| t.2 == g.2),
            "{} is shown unmasked",
            g.2
        );
    }
}

/// `policy_rules` lists each rule with its group, benefit and condition;
/// asking for a rule that does not exist is a clear error.
#[tokio::test]
async fn rules_are_listed_and_unknown_rules_refused() {
    let addr = start_server().await;
    let village = connect(addr, "village").await;
    let listed = rows(
        &village,
        "SELECT group_type, benefit FROM policy_rules WHERE rule = 'elderly_80'",
    )
    .await;
    assert_eq!(
        listed,
        vec![vec!["高龄".to_string(), "高龄津贴".to_string()]]
    );
    let err = village
        .simple_query("SELECT * FROM policy_gaps('no_such_rule')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42704", "{err:?}");
    // Described to clients like any view.
    let comment = rows(
        &village,
        "SELECT obj_description('policy_gaps'::regclass, 'pg_class')",
    )
    .await;
    assert!(comment[0][0].contains("政策找人"), "{comment:?}");
}

/// `zhenjie serve` over the test city's catalog changed by `change`:
/// whether it opened (kept serving, or exited successfully) and what it
/// printed on stderr.
fn serve_changed(change: impl FnOnce(&mut zhenjie_catalog::CatalogFile)) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = catalog_copy(dir.path(), change);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zhenjie"))
        .args(["serve", "--listen", "127.0.0.1:0", "--catalog"])
        .arg(&path)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // A catalog that opens serves forever: give it a minute, then call it open.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.is_none_or(|s| s.success()), stderr)
}

/// A rule whose condition does not plan, or a report template whose SQL
/// does not plan or whose columns are not those it labels, stops `zhenjie
/// serve` before it listens, and the message names it.
#[test]
fn a_rule_or_template_that_does_not_plan_stops_serve_naming_it() {
    let (ok, stderr) = serve_changed(|file| {
        let mut rule = file.rules[0].clone();
        rule.name = "broken_allowance".into();
        rule.eligible = "p.is_alive AND p.no_such_column > 1".into();
        file.rules.push(rule);
    });
    assert!(!ok);
    assert!(
        stderr.contains("rule broken_allowance") && stderr.contains("no_such_column"),
        "{stderr}"
    );
    let (ok, stderr) = serve_changed(|file| {
        let mut report = file.reports[0].clone();
        report.name = "broken_form".into();
        report.sql = "SELECT grid_code FROM no_such_table".into();
        file.reports.push(report);
    });
    assert!(!ok);
    assert!(
        stderr.contains("report broken_form") && stderr.contains("no_such_table"),
        "{stderr}"
    );
    let (ok, stderr) = serve_changed(|file| {
        file.reports[0].columns.pop();
    });
    assert!(!ok);
    assert!(stderr.contains("labels"), "{stderr}");
}

/// Each report template is a view for BI tools, with the form's labels as
/// column comments, and the same rows the template renders.
#[tokio::test]
async fn report_templates_are_views_for_bi_tools() {
    let addr = start_server().await;
    let town = connect(addr, "town").await;
    let catalog = load_catalog();
    let report = catalog
        .file
        .reports
        .iter()
        .find(|r| r.name == "population_by_grid")
        .unwrap();
    // A view keeps no order: the same rows, in the form's order when asked.
    let through_view = rows(
        &town,
        "SELECT * FROM report_population_by_grid ORDER BY grid_code",
    )
    .await;
    let direct = rows(&town, &report.sql).await;
    assert!(!direct.is_empty());
    assert_eq!(through_view, direct);
    let label = rows(
        &town,
        "SELECT col_description('report_population_by_grid'::regclass, 2)",
    )
    .await;
    assert_eq!(label, vec![vec![report.columns[1].label.clone()]]);
}

/// The planted cases of one scenario as `(id_number, grid_code, reason)`.
async fn planted_of(scenario: &str) -> BTreeSet<(String, String, String)> {
    planted()
        .await
        .into_iter()
        .filter(|g| g.0 == scenario)
        .map(|g| (g.2, g.3, g.4))
        .collect()
}

fn triples(rows: Vec<Vec<String>>) -> BTreeSet<(String, String, String)> {
    rows.into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

fn within(
    set: &BTreeSet<(String, String, String)>,
    prefix: &str,
) -> BTreeSet<(String, String, String)> {
    set.iter()
        .filter(|t| t.1.starts_with(prefix))
        .cloned()
        .collect()
}

/// 线索核查 and 电子社保卡扩面: each clue view finds exactly the cases the
/// generator planted — certificates added, cancelled or re-graded between
/// the last two loads (read through `as_of`), residents living outside the
/// grid they are registered in, payments after death, residents without a
/// card — and a town user exactly their own town's.
#[tokio::test]
async fn clue_views_find_exactly_the_planted_cases() {
    let addr = start_server().await;
    let admin = connect(addr, "admin").await;
    let town = connect(addr, "town").await;
    let prefix = prefix_of("town");
    let cases = [
        (
            "disability_changes",
            "SELECT id_number, grid_code, change FROM disability_changes",
        ),
        (
            "moved_out_of_grid",
            "SELECT id_number, grid_code, living_grid_code FROM moved_out_of_grid",
        ),
        (
            "deceased_still_paid",
            "SELECT DISTINCT id_number, grid_code, subsidy_type FROM deceased_still_paid",
        ),
        (
            "card_expansion",
            "SELECT id_number, grid_code, '未领电子社保卡' FROM card_expansion",
        ),
    ];
    for (scenario, sql) in cases {
        let truth = planted_of(scenario).await;
        assert!(!truth.is_empty(), "nothing planted for {scenario}");
        assert_eq!(
            triples(rows(&admin, sql).await),
            truth,
            "{scenario} as admin"
        );
        let own = within(&truth, &prefix);
        assert!(
            !own.is_empty(),
            "nothing planted for {scenario} in the town"
        );
        assert_eq!(triples(rows(&town, sql).await), own, "{scenario} as town");
    }
    // Every kind of certificate change was planted and found.
    let changes: BTreeSet<String> = planted_of("disability_changes")
        .await
        .into_iter()
        .map(|t| t.2)
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
}

/// `as_of` reads an older load under the same fence and masks as the
/// dataset, picks the load in force on a day, and refuses what it cannot
/// read with a clear error.
#[tokio::test]
async fn as_of_reads_an_older_load_under_the_same_governance() {
    let addr = start_server().await;
    let village = connect(addr, "village").await;
    let p = prefix_of("village");
    let counted = rows(
        &village,
        "SELECT count(*) FROM as_of('disability_certs', DATE '2024-06-15')",
    )
    .await;
    let ctx = datafusion::prelude::SessionContext::new();
    let old = ctx
        .read_parquet(
            city_dir()
                .join("disability_certs/2024-05-31/")
                .to_str()
                .unwrap(),
            Default::default(),
        )
        .await
        .unwrap()
        .filter(datafusion::prelude::starts_with(
            datafusion::prelude::col("grid_code"),
            datafusion::prelude::lit(p.as_str()),
        ))
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(counted[0][0], old.to_string());
    let newest = rows(
        &village,
        "SELECT count(*) FROM as_of('disability_certs', 0)",
    )
    .await;
    let current = rows(&village, "SELECT count(*) FROM disability_certs").await;
    assert_eq!(newest, current);
    // Masks hold on the old load: the grade is hidden from the village.
    let grades = rows(
        &village,
        "SELECT count(grade) FROM as_of('disability_certs', -1)",
    )
    .await;
    assert_eq!(grades, vec![vec!["0".to_string()]]);
    for (sql, code) in [
        (
            "SELECT * FROM as_of('disability_certs', '2001-01-01')",
            "22023",
        ),
        ("SELECT * FROM as_of('disability_certs', -5)", "22023"),
        ("SELECT * FROM as_of('persons', 0)", "22023"),
        ("SELECT * FROM as_of('no_such_table', 0)", "42P01"),
    ] {
        let err = village.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
    }
}

/// The profile and loop views give each town exactly its own part of what
/// the same SQL over the raw files gives, fenced by hand.
#[tokio::test]
async fn scenario_views_give_each_town_its_own_part() {
    let addr = start_server().await;
    let town = connect(addr, "town").await;
    let p = prefix_of("town");
    let cases = [
        (
            "SELECT count(*), sum(inspections), sum(overdue) FROM enterprise_profile",
            format!(
                "SELECT count(*), sum(coalesce(k.n, 0)), sum(coalesce(k.o, 0)) FROM enterprises e \
                 LEFT JOIN (SELECT credit_code, count(*) AS n, \
                   sum(CASE WHEN rectification_status = '逾期未整改' THEN 1 ELSE 0 END) AS o \
                   FROM safety_inspections WHERE starts_with(grid_code, '{p}') GROUP BY credit_code) k \
                 ON k.credit_code = e.credit_code WHERE starts_with(e.grid_code, '{p}')"
            ),
        ),
        (
            "SELECT reminder, count(*) FROM safety_reminders GROUP BY 1 ORDER BY 1",
            format!(
                "SELECT CASE WHEN i.due_date < DATE '2024-06-30' THEN '逾期提醒' ELSE '整改提醒' END, count(*) \
                 FROM safety_inspections i JOIN enterprises e ON e.credit_code = i.credit_code \
                 WHERE i.result <> '合格' AND i.rectification_status IN ('整改中', '逾期未整改') \
                   AND starts_with(i.grid_code, '{p}') AND starts_with(e.grid_code, '{p}') \
                 GROUP BY 1 ORDER BY 1"
            ),
        ),
        (
            "SELECT count(*), count(DISTINCT household_no) FROM vehicle_households",
            format!(
                "SELECT count(*), count(DISTINCT p.household_no) FROM vehicles v \
                 JOIN persons p ON p.id_number = v.owner_id_number WHERE starts_with(p.grid_code, '{p}')"
            ),
        ),
        (
            "SELECT kind, count(*), sum(measure) FROM map_points GROUP BY 1 ORDER BY 1",
            format!(
                "SELECT 'enterprise' AS kind, count(*) AS n, sum(employees) AS m FROM enterprises \
                 WHERE status IN ('存续', '在业') AND starts_with(grid_code, '{p}') \
                 UNION ALL \
                 SELECT 'village', count(DISTINCT village_code) AS n, count(*) AS m FROM persons \
                 WHERE is_alive AND starts_with(grid_code, '{p}') ORDER BY 1"
            ),
        ),
    ];
    for (sql, oracle_sql) in cases {
        let got = rows(&town, sql).await;
        assert!(!got.is_empty(), "{sql}");
        assert_eq!(got, crate::governance::oracle(&oracle_sql), "{sql}");
    }
}

/// `serve` answers the rules for the city when it starts: the embedded call
/// it makes returns every planted gap.
#[tokio::test]
async fn prepared_scenarios_hold_every_gap() {
    let engine = zhenjie_engine::Engine::open(load_catalog(), test_options())
        .await
        .unwrap();
    let n = engine.prepare_scenarios().await.unwrap();
    assert_eq!(n, planted_gaps().await.len());
}
