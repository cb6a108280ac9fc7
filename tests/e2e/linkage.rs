//! `link_persons` through a real client: which resident each row of a dirty
//! list names, checked against the truth the demo writes beside the list,
//! and who sees which rows of the result. Expected rows come from an oracle
//! (plain DataFusion over the raw files), never from zhenjie itself.

use crate::common::*;
use crate::governance::{oracle, rows};
use std::collections::{BTreeMap, BTreeSet};

/// The test city's catalog copied into a folder of its own (datasets still
/// read from the test city), changed by `change`: decisions and the audit
/// log are written there, not beside the shared city.
fn own_catalog(
    change: impl FnOnce(&mut zhenjie_catalog::CatalogFile, &std::path::Path),
) -> (zhenjie_catalog::Catalog, tempfile::TempDir) {
    use zhenjie_catalog::*;
    let base = Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut file = base.file.clone();
    for d in &mut file.datasets {
        d.location = base.resolve_location(&d.location);
    }
    std::fs::copy(city_dir().join("mask.key"), dir.path().join("mask.key")).unwrap();
    change(&mut file, dir.path());
    let c = Catalog::from_parts(file, base.areas.clone(), dir.path().to_path_buf()).unwrap();
    c.save(dir.path().join("catalog.toml")).unwrap();
    (Catalog::load(dir.path().join("catalog.toml")).unwrap(), dir)
}

/// The first column of `sql`'s rows.
async fn first_column(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    rows(client, sql)
        .await
        .into_iter()
        .map(|mut r| r.swap_remove(0))
        .collect()
}

/// A column with a class and no comment.
fn classed(class: &str) -> zhenjie_catalog::Column {
    zhenjie_catalog::Column {
        comment: String::new(),
        class: Some(class.to_string()),
    }
}

/// `row_id → (match_id_number, band)` of `link_persons('dept_list')` as `user`.
async fn links(addr: std::net::SocketAddr, user: &str) -> BTreeMap<i64, (String, String)> {
    let client = connect(addr, user).await;
    rows(
        &client,
        "SELECT row_id, match_id_number, match_band FROM link_persons('dept_list')",
    )
    .await
    .into_iter()
    .map(|r| (r[0].parse().unwrap(), (r[1].clone(), r[2].clone())))
    .collect()
}

/// Whom each list row truly names (`None`: nobody registered here), from
/// the truth the demo writes beside the list.
async fn truth() -> BTreeMap<i64, Option<String>> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    let ctx = datafusion::prelude::SessionContext::new();
    let path = city_dir().join("dept_list_truth.parquet");
    let df = ctx
        .read_parquet(path.to_str().unwrap(), Default::default())
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for b in df.collect().await.unwrap() {
        let b = datafusion::arrow::compute::cast(
            b.column(1),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .map(|ids| (b.column(0).as_primitive::<Int64Type>().clone(), ids))
        .unwrap();
        let ids = b.1.as_string::<i32>();
        for i in 0..b.0.len() {
            out.insert(
                b.0.value(i),
                ids.is_valid(i).then(|| ids.value(i).to_string()),
            );
        }
    }
    out
}

/// The demo's dirty list, linked as the city administrator, against the
/// truth: accepted matches are right (precision ≥ 0.995) and find nearly
/// everyone (recall ≥ 0.98); every row is there, none lost.
#[tokio::test]
async fn the_demo_list_links_to_the_right_residents() {
    let addr = start_server().await;
    let admin = links(addr, "admin").await;
    let truth = truth().await;
    assert_eq!(admin.len(), truth.len(), "every list row comes back");
    let accepted: Vec<_> = admin.iter().filter(|(_, (_, b))| b == "accept").collect();
    let correct = accepted
        .iter()
        .filter(|(row, (id, _))| truth[row].as_deref() == Some(id.as_str()))
        .count();
    let residents = truth.values().filter(|t| t.is_some()).count();
    let precision = correct as f64 / accepted.len() as f64;
    let recall = correct as f64 / residents as f64;
    assert!(
        precision >= 0.995,
        "precision {precision} ({correct}/{})",
        accepted.len()
    );
    assert!(recall >= 0.98, "recall {recall} ({correct}/{residents})");
    // Rows that name nobody here are never given a resident's number.
    for (row, (id, band)) in &admin {
        if band != "accept" && band != "review" {
            assert!(id.is_empty(), "row {row}: {band} with {id}");
        }
    }
}

/// Data return: a town, a village and a grid user each get exactly the
/// accepted rows whose resident lives in their area — the city's answer
/// restricted to them — and users without `pii` see the matched number
/// masked as they see it in `persons`, so the two still join.
#[tokio::test]
async fn each_level_gets_the_rows_of_its_own_residents() {
    let addr = start_server().await;
    let admin = links(addr, "admin").await;
    let grid_of: BTreeMap<String, String> = oracle("SELECT id_number, grid_code FROM persons")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let city = links(addr, "city").await;
    assert_eq!(
        city.keys().collect::<Vec<_>>(),
        admin.keys().collect::<Vec<_>>(),
        "the city sees every row"
    );
    for user in ["town", "village", "grid"] {
        let prefix = crate::governance::prefix_of(user);
        let expected: BTreeSet<i64> = admin
            .iter()
            .filter(|(_, (id, band))| {
                band == "accept" && grid_of.get(id).is_some_and(|g| g.starts_with(&prefix))
            })
            .map(|(row, _)| *row)
            .collect();
        let got = links(addr, user).await;
        assert!(
            !expected.is_empty(),
            "{user}: the test city gives no rows to check"
        );
        assert_eq!(
            got.keys().copied().collect::<BTreeSet<_>>(),
            expected,
            "{user}"
        );
        assert!(got.values().all(|(_, band)| band == "accept"), "{user}");
    }
    // Below city level a row shows its levels but no weights: they carry
    // the whole register's statistics.
    let town = connect(addr, "town").await;
    let shown = rows(
        &town,
        "SELECT count(*), count(match_weight), count(match_probability), \
                sum(CASE WHEN match_reasons LIKE '%+%' THEN 1 ELSE 0 END) \
         FROM link_persons('dept_list')",
    )
    .await;
    assert_ne!(shown[0][0], "0");
    assert_eq!(&shown[0][1..], ["0", "0", "0"], "{shown:?}");
    // The village user has no pii: the number is a pseudonym, the same one
    // `persons` shows, so a join by it finds the resident.
    let village = connect(addr, "village").await;
    let joined = rows(
        &village,
        "SELECT count(*), count(p.id_number), \
                sum(CASE WHEN l.match_id_number = l.id_number THEN 1 ELSE 0 END) \
         FROM link_persons('dept_list') l LEFT JOIN persons p ON p.id_number = l.match_id_number",
    )
    .await;
    assert_eq!(joined[0][0], joined[0][1], "{joined:?}");
    let sample = rows(
        &village,
        "SELECT match_id_number FROM link_persons('dept_list') LIMIT 1",
    )
    .await;
    assert!(
        !grid_of.contains_key(&sample[0][0]),
        "a raw identity number reached a user without pii"
    );
}

/// A list as a department sends it: a CSV with its own Chinese column
/// names, linked through the catalog's classes alone, with one planted row
/// per kind of dirt, a visitor who shares a resident's name, birth date and
/// phone, and a common name with nothing else to go on.
#[tokio::test]
async fn a_new_list_links_through_its_column_classes() {
    use zhenjie_catalog::*;
    let prefix = crate::governance::prefix_of("town");
    // Residents of the town user's town born before 2000 (so the 15-digit
    // form exists), with phones.
    let people = oracle(&format!(
        "SELECT id_number, name, sex, CAST(birth_date AS VARCHAR), phone, address, grid_code \
         FROM persons WHERE starts_with(grid_code, '{prefix}') AND is_alive \
         AND phone IS NOT NULL AND birth_date < DATE '1999-01-01' \
         AND date_part('day', birth_date) <= 12 AND date_part('day', birth_date) <> date_part('month', birth_date) \
         ORDER BY id_number LIMIT 8"
    ));
    assert_eq!(people.len(), 8);
    let fullwidth = |s: &str| -> String {
        s.chars()
            .map(|c| {
                c.to_digit(10)
                    .map_or(c, |d| char::from_u32(0xFF10 + d).unwrap())
            })
            .collect()
    };
    let transposed = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        let i = (14..16).find(|&i| b[i] != b[i + 1]).unwrap_or(10);
        b.swap(i, i + 1);
        String::from_utf8(b).unwrap()
    };
    let swapped = |d: &str| format!("{}-{}-{}", &d[..4], &d[8..10], &d[5..7]);
    let traditional = |n: &str| {
        n.replace('张', "張")
            .replace('刘', "劉")
            .replace('陈', "陳")
    };
    let p = |i: usize| &people[i];
    // (证件号码, 姓名, 性别, 出生日期, 联系电话, 住址, the resident it names)
    type Planted = (
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    );
    let mut planted: Vec<Planted> = vec![
        (
            p(0)[0].to_lowercase(),
            p(0)[1].clone(),
            p(0)[2].clone(),
            p(0)[3].clone(),
            String::new(),
            String::new(),
            Some(p(0)[0].clone()),
        ),
        (
            format!("{}{}", &p(1)[0][..6], &p(1)[0][8..17]),
            p(1)[1].clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            Some(p(1)[0].clone()),
        ),
        (
            fullwidth(&p(2)[0]),
            traditional(&p(2)[1]),
            p(2)[2].clone(),
            p(2)[3].clone(),
            String::new(),
            String::new(),
            Some(p(2)[0].clone()),
        ),
        (
            transposed(&p(3)[0]),
            p(3)[1].clone(),
            p(3)[2].clone(),
            p(3)[3].clone(),
            String::new(),
            p(3)[5].clone(),
            Some(p(3)[0].clone()),
        ),
        (
            String::new(),
            p(4)[1].clone(),
            p(4)[2].clone(),
            swapped(&p(4)[3]),
            p(4)[4].clone(),
            p(4)[5].replace("山东省烟台市", ""),
            Some(p(4)[0].clone()),
        ),
        (
            String::new(),
            p(5)[1].clone(),
            p(5)[2].clone(),
            p(5)[3].clone(),
            p(5)[4].clone(),
            String::new(),
            Some(p(5)[0].clone()),
        ),
        (
            format!(" {} ", &p(6)[0]),
            p(6)[1].clone(),
            p(6)[2].clone(),
            p(6)[3].clone(),
            String::new(),
            String::new(),
            Some(p(6)[0].clone()),
        ),
    ];
    // A visitor from 济南 with resident 5's name, birth date and phone.
    let visitor = {
        let first17 = format!("370102{}", &p(5)[0][6..17]);
        let check = zhenjie_udfs::identity::id_check_char(first17.as_bytes()).unwrap() as char;
        format!("{first17}{check}")
    };
    planted.push((
        visitor,
        p(5)[1].clone(),
        p(5)[2].clone(),
        p(5)[3].clone(),
        p(5)[4].clone(),
        String::new(),
        None,
    ));
    // The register's most common name, with only its village to go on.
    let common = oracle(
        "SELECT name, min(address) FROM persons GROUP BY name ORDER BY count(*) DESC, name LIMIT 1",
    );
    planted.push((
        String::new(),
        common[0][0].clone(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        None,
    ));

    let mut csv = String::from("序号,证件号码,姓名,性别,出生日期,联系电话,住址\n");
    for (i, r) in planted.iter().enumerate() {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            i + 1,
            r.0,
            r.1,
            r.2,
            r.3,
            r.4,
            r.5
        ));
    }
    let written = csv.clone();
    let (catalog, dir) = own_catalog(|file, dir| {
        std::fs::write(dir.join("clinic.csv"), csv).unwrap();
        file.datasets.push(Dataset {
            snapshots: false,
            name: "clinic_list".into(),
            location: "clinic.csv".into(),
            format: Format::Csv,
            comment: "卫生院随访名单".into(),
            placement: Some(Placement::Key {
                column: "证件号码".into(),
                dataset: "persons".into(),
                dataset_column: "id_number".into(),
                normalize: Some("id_normalize".into()),
            }),
            columns: [
                ("证件号码", "id_number"),
                ("姓名", "name"),
                ("性别", "sex"),
                ("出生日期", "birth_date"),
                ("联系电话", "phone"),
                ("住址", "address"),
            ]
            .into_iter()
            .map(|(c, k)| (c.to_string(), classed(k)))
            .collect(),
            partitions: Vec::new(),
        });
    });
    let addr = start_server_for(catalog).await;
    let admin = connect(addr, "admin").await;
    let got = rows(
        &admin,
        "SELECT 序号, coalesce(match_id_number, ''), match_band, match_reasons \
         FROM link_persons('clinic_list') ORDER BY 序号",
    )
    .await;
    assert_eq!(got.len(), planted.len());
    for (r, want) in got.iter().zip(&planted) {
        match &want.6 {
            Some(id) => assert_eq!((&r[1], r[2].as_str()), (id, "accept"), "row {r:?}"),
            None => assert!(
                r[1].is_empty() || r[2] != "accept",
                "row {r:?} forced onto a resident"
            ),
        }
    }
    // The town user gets the seven rows of its residents; the visitor and
    // the common name stay with the city.
    let town = connect(addr, "town").await;
    assert_eq!(
        first_column(
            &town,
            "SELECT 序号 FROM link_persons('clinic_list') ORDER BY 序号"
        )
        .await,
        ["1", "2", "3", "4", "5", "6", "7"]
    );
    // The department sends the list again without its first row: the next
    // call links the new file, not a kept result.
    let mut lines: Vec<&str> = written.lines().collect();
    lines.remove(1);
    std::fs::write(dir.path().join("clinic.csv"), lines.join("\n") + "\n").unwrap();
    assert_eq!(
        first_column(
            &town,
            "SELECT 序号 FROM link_persons('clinic_list') ORDER BY 序号"
        )
        .await,
        ["2", "3", "4", "5", "6", "7"]
    );
}

/// Bad calls fail with PostgreSQL's SQLSTATEs and say why.
#[tokio::test]
async fn bad_calls_are_clear_errors() {
    let addr = start_server().await;
    let client = connect(addr, "town").await;
    for (sql, state) in [
        ("SELECT * FROM link_persons('no_such_list')", "42P01"),
        (
            "SELECT * FROM link_persons('dept_list', 'social_security_cards')",
            "22023",
        ),
        (
            "SELECT * FROM link_persons('dept_list', 'persons', 0.5, 0.9)",
            "22023",
        ),
        ("SELECT * FROM link_persons(42)", "22023"),
    ] {
        let e = client
            .simple_query(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} succeeded"));
        assert_eq!(sqlstate(&e), state, "{sql}: {e:?}");
    }
    // The session goes on.
    assert_eq!(rows(&client, "SELECT 1").await, vec![vec!["1".to_string()]]);
}

/// A list with a line the reader cannot parse is refused whole, and the
/// error names the file, the line and (for a bad value) the column: a line
/// short of fields stops the catalog from opening; a birth date that is not
/// a date stops the link.
#[tokio::test]
async fn a_broken_line_is_refused_by_name() {
    use zhenjie_catalog::*;
    let catalog_with = |csv: &str| {
        let csv = csv.to_string();
        own_catalog(|file, dir| {
            std::fs::write(dir.join("broken.csv"), csv).unwrap();
            file.datasets.push(Dataset {
                snapshots: false,
                name: "broken_list".into(),
                location: "broken.csv".into(),
                format: Format::Csv,
                comment: String::new(),
                placement: None,
                columns: [
                    ("证件号码", "id_number"),
                    ("姓名", "name"),
                    ("出生日期", "birth_date"),
                ]
                .into_iter()
                .map(|(c, k)| (c.to_string(), classed(k)))
                .collect(),
                partitions: Vec::new(),
            });
        })
    };
    let header = "序号,证件号码,姓名,出生日期\n1,370602198001010011,张伟,1980-01-01\n";
    let (short, _dir) = catalog_with(&format!("{header}2,370602198001010029,李娜\n"));
    let e = zhenjie_engine::Engine::open(short, test_options())
        .await
        .unwrap_err();
    assert!(
        e.message.contains("broken.csv") && e.message.contains("line 3"),
        "{e:?}"
    );
    let (bad_date, _dir) = catalog_with(&format!("{header}2,370602198001010029,李娜,1980-13-45\n"));
    let addr = start_server_for(bad_date).await;
    let admin = connect(addr, "admin").await;
    let e = admin
        .simple_query("SELECT count(*) FROM link_persons('broken_list')")
        .await
        .unwrap_err();
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "22007");
    for part in ["broken.csv", "line 3", "出生日期", "1980-13-45"] {
        assert!(db.message().contains(part), "{part}: {}", db.message());
    }
    // The session goes on.
    assert_eq!(rows(&admin, "SELECT 1").await, vec![vec!["1".to_string()]]);
}

/// Clerical review: a city clerk's decision on a row (`CALL link_decide`)
/// overrides the model on later runs; an accept holds only while it names
/// the row's best candidate; only the city decides; the audit log keeps
/// who decided what.
#[tokio::test]
async fn decisions_are_honoured_on_later_runs() {
    let (catalog, dir) = own_catalog(|_, _| {});
    let addr = start_server_for(catalog).await;
    let admin = connect(addr, "admin").await;
    let q = "SELECT match_row_key, coalesce(match_id_number, ''), match_band, match_reasons \
             FROM link_persons('dept_list') WHERE row_id = ";
    let accepted = rows(
        &admin,
        "SELECT row_id FROM link_persons('dept_list') WHERE match_band = 'accept' ORDER BY row_id LIMIT 1",
    )
    .await;
    let row = &accepted[0][0];
    let first = rows(&admin, &format!("{q}{row}")).await.remove(0);
    let (key, resident) = (first[0].clone(), first[1].clone());
    assert_eq!(key.len(), 32, "{first:?}");
    // Rejected by the clerk: the row is the city's again.
    admin
        .simple_query(&format!("CALL link_decide('dept_list', '{key}', 'reject')"))
        .await
        .unwrap();
    let now = rows(&admin, &format!("{q}{row}")).await.remove(0);
    assert_eq!(
        (now[1].as_str(), now[2].as_str()),
        ("", "reject"),
        "{now:?}"
    );
    assert!(now[3].starts_with("reject by admin"), "{now:?}");
    // An accept naming someone else sends it back to review.
    let other: String = resident.chars().rev().collect();
    admin
        .simple_query(&format!(
            "CALL link_decide('dept_list', '{key}', 'accept', '{other}')"
        ))
        .await
        .unwrap();
    let now = rows(&admin, &format!("{q}{row}")).await.remove(0);
    assert_eq!(now[2], "review", "{now:?}");
    // The city user has no pii and decides on the pseudonym it is shown.
    let city = connect(addr, "city").await;
    let shown = rows(&city, &format!("{q}{row}")).await.remove(0);
    assert_eq!(shown[1].len(), 32, "{shown:?}");
    city.simple_query(&format!(
        "CALL link_decide('dept_list', '{key}', 'accept', '{}')",
        shown[1]
    ))
    .await
    .unwrap();
    let now = rows(&admin, &format!("{q}{row}")).await.remove(0);
    assert_eq!(
        (now[1].as_str(), now[2].as_str()),
        (resident.as_str(), "accept")
    );
    assert!(now[3].starts_with("accept by city"), "{now:?}");
    // Only the city decides; a decision must be one.
    let town = connect(addr, "town").await;
    let e = town
        .simple_query(&format!("CALL link_decide('dept_list', '{key}', 'reject')"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501");
    for bad in [
        format!("CALL link_decide('dept_list', '{key}', 'maybe')"),
        format!("CALL link_decide('dept_list', '{key}', 'accept')"),
        "CALL link_decide('dept_list', 'nokey', 'reject')".to_string(),
    ] {
        let e = admin.simple_query(&bad).await.unwrap_err();
        assert_eq!(sqlstate(&e), "22023", "{bad}");
    }
    // Who decided what is in the audit log.
    let log = crate::audit::records(&dir.path().join("audit").join("audit.jsonl"));
    let calls: Vec<_> = log
        .iter()
        .filter(|r| {
            r["statement"]
                .as_str()
                .is_some_and(|s| s.starts_with("CALL link_decide"))
        })
        .filter(|r| r["status"] == "ok")
        .map(|r| r["user"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(calls, ["admin", "admin", "city"]);
}

/// 农户资产核验, the demo's `farmer_asset_check` view: monitored (低保,
/// 特困) households whose members own vehicles, lead enterprises or farm
/// more than ten mu. Each town's user gets exactly the answer of the same
/// SQL over their town's rows; the city gets every town's.
#[tokio::test]
async fn farmer_asset_check_finds_each_towns_households() {
    let catalog = zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let view = catalog
        .file
        .views
        .iter()
        .find(|v| v.name == "farmer_asset_check")
        .expect("the demo has the view");
    let addr = start_server().await;
    let q = "SELECT count(*), sum(members), sum(vehicles), sum(enterprises), \
             CAST(round(sum(farmland_mu) * 100) AS BIGINT) FROM farmer_asset_check";
    for user in ["city", "county", "town"] {
        // The view's SQL with every table fenced to the user's area.
        let prefix = if user == "city" {
            String::new()
        } else {
            crate::governance::prefix_of(user)
        };
        let mut sql = view.sql.clone();
        for table in [
            "special_groups",
            "persons",
            "vehicles",
            "enterprises",
            "farmland",
        ] {
            for before in ["FROM", "JOIN"] {
                sql = sql.replace(
                    &format!("{before} {table} "),
                    &format!(
                        "{before} (SELECT * FROM {table} WHERE starts_with(grid_code, '{prefix}')) "
                    ),
                );
            }
        }
        let want = oracle(&format!(
            "SELECT count(*), sum(members), sum(vehicles), sum(enterprises), \
             CAST(round(sum(farmland_mu) * 100) AS BIGINT) FROM ({sql}) AS checked"
        ));
        assert_ne!(want[0][0], "0", "{user}: no household to find");
        let got = rows(&connect(addr, user).await, q).await;
        assert_eq!(got, want, "{user}");
    }
}

/// `link_households`: every registered household stays one group; a list
/// without household numbers joins the register's households through
/// address and surname; each user groups only the rows they see, masked as
/// they see them; a source placed through a key is the city's to group.
#[tokio::test]
async fn households_group_across_sources() {
    let addr = start_server().await;
    let town = connect(addr, "town").await;
    let prefix = crate::governance::prefix_of("town");
    // Every row of the town, none else, and no registered household split.
    let got = rows(
        &town,
        "SELECT count(*), count(DISTINCT household_group), max(household_size) \
         FROM link_households('persons')",
    )
    .await;
    let want = oracle(&format!(
        "SELECT count(*) FROM persons WHERE starts_with(grid_code, '{prefix}')"
    ));
    assert_eq!(got[0][0], want[0][0]);
    let split = rows(
        &town,
        "SELECT count(*) FROM (SELECT p.household_no FROM link_households('persons') l \
         JOIN persons p ON p.id_number = l.id_number \
         GROUP BY p.household_no HAVING count(DISTINCT l.household_group) > 1) s",
    )
    .await;
    assert_eq!(split[0][0], "0", "a registered household was split");
    let groups: usize = got[0][1].parse().unwrap();
    let households: usize = oracle(&format!(
        "SELECT count(DISTINCT household_no) FROM persons WHERE starts_with(grid_code, '{prefix}')"
    ))[0][0]
        .parse()
        .unwrap();
    assert!(
        groups <= households,
        "{groups} groups, {households} households"
    );
    // Across sources: list rows with an address join their resident's
    // household.
    let admin = connect(addr, "admin").await;
    let joined = rows(
        &admin,
        "WITH h AS (SELECT * FROM link_households('persons', 'dept_list')) \
         SELECT count(*) FROM h l JOIN h r ON l.household_group = r.household_group \
         AND l.source = 'dept_list' AND r.source = 'persons' AND l.id_number = r.id_number",
    )
    .await;
    let with_address = oracle(
        "SELECT count(*) FROM dept_list d JOIN persons p ON d.id_number = p.id_number \
         WHERE d.address IS NOT NULL",
    );
    let joined: usize = joined[0][0].parse().unwrap();
    let with_address: usize = with_address[0][0].parse().unwrap();
    assert!(
        joined * 10 >= with_address * 9,
        "{joined} of {with_address} list rows with an address found their household"
    );
    // A user without pii sees pseudonyms and masked names; the key-placed
    // list is the city's to group.
    let village = connect(addr, "village").await;
    let masked = rows(
        &village,
        "SELECT count(*), min(length(id_number)), sum(CASE WHEN name LIKE '%*%' THEN 1 ELSE 0 END) \
         FROM link_households('persons')",
    )
    .await;
    assert_eq!(masked[0][1], "32", "{masked:?}");
    assert_ne!(masked[0][2], "0", "{masked:?}");
    let e = village
        .simple_query("SELECT count(*) FROM link_households('persons', 'dept_list')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501");
}
