//! Invariants of a small generated city, checked by reading the Parquet files
//! back: what downstream users (the engine, the SQL functions, the demos) rely on.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Date32Type, Decimal128Type, Int32Type};
use datafusion::arrow::temporal_conversions::date32_to_datetime;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use zhenjie_catalog::{Catalog, Level, Placement};
use zhenjie_demo::{generate, DemoError, DemoOptions};
use zhenjie_udfs::enterprise::{org_code_check_char, uscc_check_char};
use zhenjie_udfs::identity::id_check_char;

fn city(persons: usize, seed: u64) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = generate(
        dir.path(),
        &DemoOptions {
            persons,
            seed,
            // A list long enough to show every kind of dirt.
            list_share: 0.2,
            ..Default::default()
        },
        false,
    )
    .unwrap();
    (dir, catalog)
}

/// The Parquet file of a table: `table.parquet`, or for a table kept as
/// dated loads, the newest load's file.
fn data_file(dir: &Path, table: &str) -> std::path::PathBuf {
    let loads = dir.join(table);
    if loads.is_dir() {
        let newest = std::fs::read_dir(&loads)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .max()
            .unwrap();
        loads.join(newest).join(format!("{table}.parquet"))
    } else {
        dir.join(format!("{table}.parquet"))
    }
}

fn read(dir: &Path, table: &str) -> Vec<RecordBatch> {
    let file = std::fs::File::open(data_file(dir, table)).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn strings(batches: &[RecordBatch], col: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(col).unwrap().as_string::<i32>().clone();
            (0..a.len())
                .map(move |i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn req(batches: &[RecordBatch], col: &str) -> Vec<String> {
    strings(batches, col)
        .into_iter()
        .map(|s| s.expect("non-null"))
        .collect()
}

fn dates(batches: &[RecordBatch], col: &str) -> Vec<Option<i32>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(col)
                .unwrap()
                .as_primitive::<Date32Type>()
                .clone();
            (0..a.len())
                .map(move |i| (!a.is_null(i)).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn yyyymmdd(d: i32) -> String {
    date32_to_datetime(d).unwrap().format("%Y%m%d").to_string()
}

#[test]
fn small_city_invariants() {
    let (dir, catalog) = city(3000, 42);
    let dir = dir.path();

    // The catalog loads from disk and describes every dataset and column.
    let loaded = Catalog::load(dir.join("catalog.toml")).unwrap();
    assert_eq!(loaded.file.datasets.len(), catalog.file.datasets.len());
    assert!(dir.join("areas.csv").exists());
    for d in &loaded.file.datasets {
        assert!(!d.comment.is_empty(), "{} has no comment", d.name);
        let file = std::fs::File::open(data_file(dir, &d.name)).unwrap();
        let schema = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .schema()
            .clone();
        let rows: i64 = ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(data_file(dir, &d.name)).unwrap(),
        )
        .unwrap()
        .metadata()
        .file_metadata()
        .num_rows();
        assert!(rows > 0, "{} is empty", d.name);
        for f in schema.fields() {
            let c = d
                .columns
                .get(f.name())
                .unwrap_or_else(|| panic!("{}.{} not in catalog", d.name, f.name()));
            assert!(
                !c.comment.is_empty(),
                "{}.{} has no comment",
                d.name,
                f.name()
            );
        }
        assert_eq!(d.columns.len(), schema.fields().len());
    }
    let persons_ds = loaded.dataset("persons").unwrap();
    for (col, class) in [
        ("id_number", "id_number"),
        ("name", "name"),
        ("phone", "phone"),
        ("address", "address"),
        ("birth_date", "birth_date"),
    ] {
        assert_eq!(persons_ds.columns[col].class.as_deref(), Some(class));
    }
    assert_eq!(
        loaded.dataset("disability_certs").unwrap().columns["grade"]
            .class
            .as_deref(),
        Some("health")
    );
    assert!(matches!(
        loaded.dataset("dept_list").unwrap().placement,
        Some(Placement::Key { .. })
    ));
    assert_eq!(loaded.current_code("370684123456"), "370614123456");
    assert_eq!(loaded.current_code("370672000000"), "370676000000");

    // Identity numbers: valid, unique, agreeing with birth date and sex.
    let persons = read(dir, "persons");
    let ids = req(&persons, "id_number");
    assert_eq!(ids.len(), 3000);
    let births = dates(&persons, "birth_date");
    let sexes = req(&persons, "sex");
    let mut unique = HashSet::new();
    let mut retired = 0;
    for ((id, birth), sex) in ids.iter().zip(&births).zip(&sexes) {
        let b = id.as_bytes();
        assert_eq!(b.len(), 18, "{id}");
        assert_eq!(id_check_char(&b[..17]), Some(b[17]), "{id}");
        assert_eq!(&id[6..14], yyyymmdd(birth.unwrap()), "{id}");
        let male = (b[16] - b'0') % 2 == 1;
        assert_eq!(sex, if male { "男" } else { "女" }, "{id}");
        assert!(unique.insert(id.clone()), "duplicate {id}");
        if id.starts_with("370684") || id.starts_with("370634") {
            retired += 1;
        }
    }
    assert!(
        retired > 0,
        "some identity numbers should carry retired codes"
    );

    // Every person sits in a grid of the tree, with consistent codes.
    let grids = req(&persons, "grid_code");
    let villages = req(&persons, "village_code");
    let towns = req(&persons, "town_code");
    let counties = req(&persons, "county_code");
    for i in 0..grids.len() {
        let g = catalog.areas.get(&grids[i]).expect("grid in tree");
        assert_eq!(g.level, Level::Grid);
        assert_eq!(g.parent, villages[i]);
        assert_eq!(&grids[i][..12], villages[i]);
        assert_eq!(towns[i], format!("{}000", &grids[i][..9]));
        assert_eq!(counties[i], format!("{}000000", &grids[i][..6]));
        let v = catalog.areas.get(&villages[i]).unwrap();
        assert_eq!(v.parent, towns[i]);
        let t = catalog.areas.get(&towns[i]).unwrap();
        assert_eq!(t.parent, counties[i]);
    }

    // Deceased persons have a death date, the living none; ~1% deceased.
    let alive: Vec<bool> = persons
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name("is_alive").unwrap().as_boolean().clone();
            (0..a.len()).map(move |i| a.value(i)).collect::<Vec<_>>()
        })
        .collect();
    let deaths = dates(&persons, "death_date");
    for (a, d) in alive.iter().zip(&deaths) {
        assert_eq!(*a, d.is_none());
    }
    let dead = alive.iter().filter(|a| !**a).count();
    assert!((5..=90).contains(&dead), "{dead} deceased of 3000");

    // Every household has exactly one head, who is the households table's head.
    let hh_of = req(&persons, "household_no");
    let relations = req(&persons, "relation");
    let mut heads: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut members: HashMap<&str, i32> = HashMap::new();
    for i in 0..ids.len() {
        *members.entry(&hh_of[i]).or_default() += 1;
        if relations[i] == "02" {
            heads.entry(&hh_of[i]).or_default().push(&ids[i]);
        }
    }
    let households = read(dir, "households");
    let hh_nos = req(&households, "household_no");
    let hh_heads = req(&households, "head_id_number");
    let hh_members: Vec<i32> = households
        .iter()
        .flat_map(|b| {
            b.column_by_name("members")
                .unwrap()
                .as_primitive::<Int32Type>()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(hh_nos.len(), members.len());
    for i in 0..hh_nos.len() {
        let h = heads.get(hh_nos[i].as_str()).expect("household has a head");
        assert_eq!(h.len(), 1, "household {} has {} heads", hh_nos[i], h.len());
        assert_eq!(h[0], hh_heads[i]);
        assert_eq!(members[hh_nos[i].as_str()], hh_members[i]);
    }

    // Credit codes and their organisation codes pass their checks.
    let enterprises = read(dir, "enterprises");
    let credit = req(&enterprises, "credit_code");
    assert!(credit.len() > 50, "only {} enterprises", credit.len());
    let person_set: HashSet<&String> = ids.iter().collect();
    for (c, rep) in credit.iter().zip(req(&enterprises, "legal_rep_id")) {
        let b = c.as_bytes();
        assert_eq!(b.len(), 18, "{c}");
        assert_eq!(b[0], b'9');
        assert!(matches!(b[1], b'1' | b'2' | b'3'), "{c}");
        assert_eq!(uscc_check_char(&b[..17]), Some(b[17]), "{c}");
        assert_eq!(org_code_check_char(&b[8..16]), Some(b[16]), "{c}");
        assert!(person_set.contains(&rep));
    }
    assert_eq!(credit.iter().collect::<HashSet<_>>().len(), credit.len());

    // Every governed file is sorted by grid_code, in row groups of at most 64k.
    for d in &loaded.file.datasets {
        if let Some(Placement::Column { column }) = &d.placement {
            let batches = read(dir, &d.name);
            let codes = req(&batches, column);
            assert!(
                codes.windows(2).all(|w| w[0] <= w[1]),
                "{} is not sorted by {column}",
                d.name
            );
            let file = std::fs::File::open(data_file(dir, &d.name)).unwrap();
            let meta = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
            for rg in meta.metadata().row_groups() {
                assert!(rg.num_rows() <= 65_536);
                let idx = rg
                    .columns()
                    .iter()
                    .position(|c| c.column_path().string() == *column)
                    .unwrap();
                assert!(rg.column(idx).statistics().is_some());
            }
        }
    }

    // Each demo user's area has residents.
    for u in &loaded.file.users {
        let area = loaded.areas.get(&u.area).unwrap();
        let n = grids
            .iter()
            .filter(|g| g.starts_with(area.prefix()))
            .count();
        assert!(n > 0, "user {} sees nobody", u.name);
    }

    // The civil-affairs clue exists: payments dated after the recipient died.
    let death_of: HashMap<&String, i32> = ids
        .iter()
        .zip(&deaths)
        .filter_map(|(id, d)| d.map(|d| (id, d)))
        .collect();
    let payments = read(dir, "subsidy_payments");
    let pay_ids = req(&payments, "id_number");
    let months = dates(&payments, "month");
    let after_death = pay_ids
        .iter()
        .zip(&months)
        .filter(|(id, m)| death_of.get(id).is_some_and(|d| m.unwrap() > *d))
        .count();
    assert!(after_death > 0, "no payment after death");
    for b in &payments {
        let a = b
            .column_by_name("amount")
            .unwrap()
            .as_primitive::<Decimal128Type>();
        assert!(a.values().iter().all(|v| *v > 0));
    }
    for m in &months {
        assert_eq!(&yyyymmdd(m.unwrap())[6..], "01");
    }

    // The province list is dirty in the documented ways.
    let dept = read(dir, "dept_list");
    let dept_ids = strings(&dept, "id_number");
    assert!(dept_ids.len() > 30);
    assert!(dept_ids.iter().any(|i| i.is_none()));
    assert!(dept_ids.iter().flatten().any(|i| i.len() == 15));
    assert!(dept_ids.iter().flatten().any(
        |i| i.contains('\u{FF10}') || i.chars().any(|c| ('\u{FF10}'..='\u{FF19}').contains(&c))
    ));
    assert!(dept_ids.iter().flatten().any(|i| i.contains(' ')));
    // Beside it, whom each row names: a resident, or nobody registered here
    // (outsiders, and twins who share a resident's name and birth date).
    let truth = read(dir, "dept_list_truth");
    let named = strings(&truth, "resident_id");
    assert_eq!(named.len(), dept_ids.len());
    assert!(named.iter().flatten().all(|id| person_set.contains(id)));
    let dirt = strings(&truth, "dirt");
    for kind in [
        "twin",
        "outsider",
        "id_15",
        "name_homophone",
        "birth_swapped",
    ] {
        assert!(
            dirt.iter()
                .flatten()
                .any(|d| d.split(';').any(|k| k == kind)),
            "no {kind} row"
        );
    }

    // Social-security cards: roughly 70% of residents, only residents.
    let cards = req(&read(dir, "social_security_cards"), "id_number");
    let share = cards.len() as f64 / 3000.0;
    assert!((0.55..0.85).contains(&share), "card share {share}");
    assert!(cards.iter().all(|c| person_set.contains(c)));

    // Plates are Yantai plates and unique.
    let plates = req(&read(dir, "vehicles"), "plate_no");
    assert!(plates
        .iter()
        .all(|p| p.starts_with("鲁F·") || p.starts_with("鲁Y·")));
    assert_eq!(plates.iter().collect::<HashSet<_>>().len(), plates.len());

    // No temp files are left behind.
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "left over {name}");
    }
}

#[test]
fn same_seed_same_city_other_seed_other_city() {
    let (a, _) = city(2000, 7);
    let (b, _) = city(2000, 7);
    let (c, _) = city(2000, 8);
    for table in ["persons", "enterprises", "subsidy_payments", "dept_list"] {
        let pa = read(a.path(), table);
        let pb = read(b.path(), table);
        assert_eq!(pa, pb, "{table} differs between identical runs");
    }
    assert_eq!(
        std::fs::read(a.path().join("catalog.toml")).unwrap(),
        std::fs::read(b.path().join("catalog.toml")).unwrap()
    );
    assert_ne!(read(a.path(), "persons"), read(c.path(), "persons"));
}

#[test]
fn tiny_city_still_populates_every_user_area_and_county() {
    let (dir, catalog) = city(500, 1);
    let grids = req(&read(dir.path(), "persons"), "grid_code");
    assert_eq!(grids.len(), 500);
    for u in &catalog.file.users {
        let area = catalog.areas.get(&u.area).unwrap();
        assert_eq!(area.level, u.level);
        assert!(
            grids.iter().any(|g| g.starts_with(area.prefix())),
            "user {} sees nobody",
            u.name
        );
    }
    for county in catalog.areas.at_level(Level::County) {
        assert!(grids.iter().any(|g| g.starts_with(county.prefix())));
        assert!(catalog
            .areas
            .at_level(Level::Town)
            .any(|t| t.parent == county.code));
    }
    for grid in catalog.areas.at_level(Level::Grid) {
        assert!(grids.contains(&grid.code), "grid {} is empty", grid.code);
    }
}

#[test]
fn regenerating_replaces_the_old_city() {
    let (dir, _) = city(800, 3);
    let again = generate(
        dir.path(),
        &DemoOptions {
            persons: 600,
            seed: 4,
            ..Default::default()
        },
        false,
    )
    .unwrap();
    assert_eq!(req(&read(dir.path(), "persons"), "id_number").len(), 600);
    assert!(again.dataset("persons").is_some());
}

#[test]
fn bad_output_paths_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let e = generate(
        &file,
        &DemoOptions {
            persons: 500,
            seed: 1,
            ..Default::default()
        },
        false,
    )
    .unwrap_err();
    assert!(matches!(e, DemoError::Io { .. }), "{e}");
    let e = generate(
        &file.join("below"),
        &DemoOptions {
            persons: 500,
            seed: 1,
            ..Default::default()
        },
        false,
    )
    .unwrap_err();
    assert!(matches!(e, DemoError::Io { .. }), "{e}");
}

/// A grid's people are read by page: pages of at most 8,192 rows with a page
/// index, and the columns whose values do not repeat (identity numbers,
/// phones, names, birth dates) written without the dictionary a reader must
/// decode whole before any page; area codes, which repeat, keep theirs.
#[test]
fn persons_are_laid_out_to_be_read_by_page() {
    use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
    use datafusion::parquet::file::metadata::PageIndexPolicy;
    let (dir, _) = city(20_000, 7);
    let file = std::fs::File::open(data_file(dir.path(), "persons")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
        file,
        ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required),
    )
    .unwrap();
    let meta = reader.metadata();
    let group = meta.row_group(0);
    assert!(group.num_rows() > 8192, "{}", group.num_rows());
    let offsets = meta.offset_index().expect("a page index");
    for (i, column) in group.columns().iter().enumerate() {
        let name = column.column_path().string();
        let starts: Vec<i64> = offsets[0][i]
            .page_locations()
            .iter()
            .map(|p| p.first_row_index)
            .chain([group.num_rows()])
            .collect();
        assert!(starts.len() > 2, "{name}: one page");
        assert!(
            starts.windows(2).all(|w| w[1] - w[0] <= 8192),
            "{name}: {starts:?}"
        );
        let dictionary = column.dictionary_page_offset().is_some();
        if ["id_number", "phone", "name", "birth_date"].contains(&name.as_str()) {
            assert!(!dictionary, "{name} has a dictionary");
        }
        if ["grid_code", "town_code", "sex", "relation"].contains(&name.as_str()) {
            assert!(dictionary, "{name} has no dictionary");
        }
    }
}
