//! Every demo template rendered as real users of a generated city: labels
//! head the columns, the totals row is the sum of the rows, `--area`
//! narrows within the fence and refuses outside it, and the XLSX reads back
//! in a spreadsheet reader with the same table.

use calamine::{open_workbook, Data, Reader, Xlsx};
use zhenjie_engine::{Engine, EngineOptions};
use zhenjie_reports::{
    render, write_csv, write_geojson, write_parquet, write_svg, write_xlsx, Cell, Line, Rendered,
};

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

/// The totals row sums exactly the totalled columns, and so do the
/// subtotals together; each subtotal sums its own area's rows.
fn check_totals(r: &Rendered) {
    let Some(totals) = &r.totals else { return };
    let mut start = 0;
    for s in &r.subtotals {
        let Cell::Text(head) = &s.cells[0] else {
            panic!("{}: subtotal {:?}", r.name, s.cells)
        };
        let prefix = head.split(' ').nth(1).unwrap();
        for (i, t) in s.cells.iter().enumerate().skip(1) {
            if matches!(t, Cell::Empty) {
                continue;
            }
            let sum: f64 = r.rows[start..=s.after]
                .iter()
                .map(|row| number(&row[i]))
                .sum();
            assert!(
                (number(t) - sum).abs() < 0.01,
                "{}: {head} column {i}",
                r.name
            );
        }
        assert!(r.rows[start..=s.after].iter().all(|row| matches!(
            &row[r.columns.iter().position(|c| c.ends_with("_code")).unwrap()],
            Cell::Text(code) if code.starts_with(prefix)
        )));
        start = s.after + 1;
    }
    if !r.subtotals.is_empty() {
        assert_eq!(start, r.rows.len(), "{}: subtotals cover every row", r.name);
    }
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
    let town = session(&engine, "admin").await;
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
    // Rows, a 小计 after each county's last grid, the 合计 last.
    assert!(
        r.subtotals.len() > 1,
        "the city's grids fall in several counties"
    );
    check_totals(&r);
    let lines: Vec<(&[Cell], Line)> = r.lines().collect();
    let last = 3 + lines.len() as u32 - 1;
    assert_eq!(cell(last, 0), Data::String("合计".into()));
    let mut residents = 0.0;
    for (i, (_, line)) in lines.iter().enumerate() {
        let row = 3 + i as u32;
        let value = match cell(row, 1) {
            Data::Float(x) => x,
            Data::Int(i) => i as f64,
            other => panic!("{other:?}"),
        };
        match line {
            Line::Row => residents += value,
            Line::Subtotal => assert!(
                matches!(cell(row, 0), Data::String(s) if s.starts_with("小计 ")),
                "row {row}"
            ),
            Line::Total => {}
        }
    }
    assert_eq!(cell(last, 1), Data::Float(residents));
    // CSV: a byte-order mark, the title, the labels, the rows, the totals.
    let mut csv = Vec::new();
    write_csv(&r, &mut csv, "out.csv").unwrap();
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with('\u{feff}'));
    assert_eq!(lines[1], r.labels.join(","));
    assert_eq!(lines.len(), 2 + r.rows.len() + r.subtotals.len() + 1);
    assert!(lines.last().unwrap().starts_with("合计,"));
}

/// The map template as GeoJSON (a FeatureCollection of points inside
/// Yantai, one per row, properties named by column), as an SVG picture
/// (one mark per row), and any template as Parquet read back with its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maps_and_parquet_hold_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path()).await;
    let town = session(&engine, "town").await;
    let template = |name: &str| {
        engine
            .catalog()
            .file
            .reports
            .iter()
            .find(|r| r.name == name)
            .unwrap()
            .clone()
    };
    let map = render(&town, &template("one_map"), None).await.unwrap();
    assert!(!map.rows.is_empty());
    let mut out = Vec::new();
    write_geojson(&map, &mut out, "map.geojson").unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["type"], "FeatureCollection");
    let features = json["features"].as_array().unwrap();
    assert_eq!(features.len(), map.rows.len());
    for f in features {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["geometry"]["type"], "Point");
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let (lng, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!(
            (119.0..123.0).contains(&lng) && (36.0..38.5).contains(&lat),
            "{lng},{lat}"
        );
        let kind = f["properties"]["kind"].as_str().unwrap();
        assert!(kind == "village" || kind == "enterprise", "{kind}");
        assert!(f["properties"].get("lng").is_none());
    }
    let mut svg = Vec::new();
    write_svg(&map, &mut svg, "map.svg").unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    // One mark per row, plus the legend's.
    let marks = svg.matches("<circle ").count();
    assert!(
        marks >= map.rows.len() && marks <= map.rows.len() + 8,
        "{marks}"
    );
    // A template without coordinates is no map.
    let population = render(&town, &template("population_by_grid"), None)
        .await
        .unwrap();
    let e = write_geojson(&population, &mut Vec::new(), "x").unwrap_err();
    assert!(e.to_string().contains("lng and lat"), "{e}");
    let path = dir.path().join("population.parquet");
    write_parquet(&population, &path).unwrap();
    let read = datafusion::prelude::SessionContext::new()
        .read_parquet(path.to_str().unwrap(), Default::default())
        .await
        .unwrap();
    assert_eq!(read.schema().fields().len(), population.columns.len());
    assert_eq!(read.count().await.unwrap(), population.rows.len());
}
