//! Every demo template rendered as real users of a generated city: labels
//! head the columns, the totals row is the sum of the rows, `--area`
//! narrows within the fence and refuses outside it, and the XLSX reads back
//! in a spreadsheet reader with the same table.

use calamine::{open_workbook, Data, Reader, Xlsx};
use zhenjie_engine::{Engine, EngineOptions};
use zhenjie_reports::{render, write_csv, write_xlsx, Cell, Rendered};

async fn engine(dir: &std::path::Path) -> Engine {
    let catalog = zhenjie_demo::generate(
        dir,
        &zhenjie_demo::DemoOptions {
            persons: 6000,
            seed: 3,
            ..Default::default()
        },
        false,
    )
    .unwrap();
    Engine::open(catalog, EngineOptions::default())
        .await
        .unwrap()
}

async fn session(engine: &Engine, user: &str) -> zhenjie_engine::Session {
    engine
        .session(engine.principal(user).unwrap())
        .await
        .unwrap()
}

fn number(c: &Cell) -> f64 {
    match c {
        Cell::Int(i) => *i as f64,
        Cell::Number(x) => *x,
        _ => 0.0,
    }
}

/// The totals row sums exactly the totalled columns.
fn check_totals(r: &Rendered) {
    let Some(totals) = &r.totals else { return };
    assert_eq!(totals[0], Cell::Text("合计".into()));
    for (i, t) in totals.iter().enumerate().skip(1) {
        if matches!(t, Cell::Empty) {
            continue;
        }
        let sum: f64 = r.rows.iter().map(|row| number(&row[i])).sum();
        assert!(
            (number(t) - sum).abs() < 0.01,
            "{}: column {i}: {t:?} vs {sum}",
            r.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_template_renders_for_a_town_and_its_totals_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path()).await;
    let town = session(&engine, "town").await;
    let city = session(&engine, "admin").await;
    let reports = engine.catalog().file.reports.clone();
    assert!(reports.len() >= 14, "{} templates", reports.len());
    for report in &reports {
        let r = render(&town, report, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.labels.len(), report.columns.len());
        assert!(r.rows.iter().all(|row| row.len() == r.labels.len()));
        check_totals(&r);
        // A town's rows are the city's rows under the town.
        if let Some(area) = &report.area_column {
            let whole = render(&city, report, Some(&town.principal().area.code))
                .await
                .unwrap();
            assert_eq!(whole.rows.len(), r.rows.len(), "{}", report.name);
            let i = report.columns.iter().position(|c| &c.name == area).unwrap();
            let prefix = town.principal().area.prefix().to_string();
            for row in &r.rows {
                match &row[i] {
                    Cell::Text(code) => {
                        assert!(code.starts_with(&prefix), "{}: {code}", report.name)
                    }
                    other => panic!("{}: area column holds {other:?}", report.name),
                }
            }
        }
    }
    // Most templates find something in a town of the test city.
    let non_empty = {
        let mut n = 0;
        for report in &reports {
            n += usize::from(!render(&town, report, None).await.unwrap().rows.is_empty());
        }
        n
    };
    assert!(non_empty >= 10, "{non_empty} templates had rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn areas_outside_the_fence_and_broken_templates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path()).await;
    let town = session(&engine, "town").await;
    let report = engine.catalog().file.reports[0].clone();
    let e = render(&town, &report, Some("370687000000"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
    let e = render(&town, &report, Some("999999999999"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not an area"), "{e}");
    let mut broken = report.clone();
    broken.sql = "SELECT nothing FROM nowhere".into();
    let e = render(&town, &broken, None).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("report {}", report.name)),
        "{e}"
    );
    let mut mislabelled = report.clone();
    mislabelled.columns.pop();
    let e = render(&town, &mislabelled, None).await.unwrap_err();
    assert!(e.to_string().contains("labels"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_and_csv_read_back_as_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path()).await;
    let town = session(&engine, "town").await;
    let report = engine
        .catalog()
        .file
        .reports
        .iter()
        .find(|r| r.name == "population_by_grid")
        .unwrap()
        .clone();
    let r = render(&town, &report, None).await.unwrap();
    assert!(!r.rows.is_empty());
    let path = dir.path().join("out.xlsx");
    write_xlsx(&r, &path).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = book.worksheet_range(&r.name).unwrap();
    let cell = |row: u32, col: u32| sheet.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        cell(0, 0),
        Data::String(format!("{}（{}）", r.title, r.area))
    );
    for (c, label) in r.labels.iter().enumerate() {
        assert_eq!(cell(2, c as u32), Data::String(label.clone()));
    }
    let last = 3 + r.rows.len() as u32;
    assert_eq!(cell(last, 0), Data::String("合计".into()));
    let residents: f64 = (3..last)
        .map(|row| match cell(row, 1) {
            Data::Float(x) => x,
            Data::Int(i) => i as f64,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(cell(last, 1), Data::Float(residents));
    // CSV: a byte-order mark, the title, the labels, the rows, the totals.
    let mut csv = Vec::new();
    write_csv(&r, &mut csv, "out.csv").unwrap();
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with('\u{feff}'));
    assert_eq!(lines[1], r.labels.join(","));
    assert_eq!(lines.len(), 2 + r.rows.len() + 1);
    assert!(lines.last().unwrap().starts_with("合计,"));
}
