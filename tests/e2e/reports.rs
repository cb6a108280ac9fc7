//! `zhenjie report` as a user runs it: the binary over the test city.

use crate::common::*;

/// `--each-town` writes one workbook per town inside the user's area (and
/// none outside it), each an XLSX file; a single template renders to CSV
/// with the template's labels.
#[test]
fn each_town_gets_one_workbook() {
    let catalog = zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let county = catalog.user("county").unwrap();
    let prefix = catalog
        .areas
        .get(&county.area)
        .unwrap()
        .prefix()
        .to_string();
    let towns: Vec<String> = catalog
        .areas
        .at_level(zhenjie_catalog::Level::Town)
        .filter(|t| t.prefix().starts_with(&prefix))
        .map(|t| t.code.clone())
        .collect();
    assert!(!towns.is_empty());
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_zhenjie"))
        .args(["report", "--each-town", "--as", "county", "--catalog"])
        .arg(city_dir().join("catalog.toml"))
        .arg("--out")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    written.sort();
    assert_eq!(written.len(), towns.len(), "{written:?}");
    for (file, code) in written.iter().zip(&towns) {
        assert!(
            file.starts_with(code.as_str()) && file.ends_with(".xlsx"),
            "{file}"
        );
        let bytes = std::fs::read(out.path().join(file)).unwrap();
        assert_eq!(&bytes[..2], b"PK", "{file} is not an XLSX (zip) file");
    }
    let csv = out.path().join("one.csv");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_zhenjie"))
        .args([
            "report",
            "card_coverage",
            "--as",
            "county",
            "--format",
            "csv",
            "--catalog",
        ])
        .arg(city_dir().join("catalog.toml"))
        .arg("--out")
        .arg(&csv)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        text.lines().nth(1),
        Some("村（社区）代码,在世人口,已领卡,未领卡")
    );
}
