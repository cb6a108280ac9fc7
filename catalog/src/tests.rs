use super::*;

fn tree() -> AreaTree {
    AreaTree::new(areas()).unwrap()
}

fn areas() -> Vec<Area> {
    vec![
        Area {
            code: "370600000000".into(),
            parent: "".into(),
            level: Level::City,
            name: "烟台市".into(),
        },
        Area {
            code: "370602000000".into(),
            parent: "370600000000".into(),
            level: Level::County,
            name: "芝罘区".into(),
        },
        Area {
            code: "370614000000".into(),
            parent: "370600000000".into(),
            level: Level::County,
            name: "蓬莱区".into(),
        },
        Area {
            code: "370602001000".into(),
            parent: "370602000000".into(),
            level: Level::Town,
            name: "向阳街道".into(),
        },
    ]
}

fn file(users: Vec<User>) -> CatalogFile {
    CatalogFile {
        database: "zhenjie".into(),
        area_tree: "areas.csv".into(),
        area_lineage: vec![Lineage {
            old: "370684".into(),
            new: "370614".into(),
            note: String::new(),
        }],
        datasets: vec![],
        object_stores: vec![],
        views: vec![],
        reports: vec![],
        rules: vec![],
        reference_date: None,
        levels: vec![],
        users,
        masks: vec![],
        mask_secret_file: None,
    }
}

fn user(name: &str, level: Level, area: &str) -> User {
    User {
        name: name.into(),
        level,
        area: area.into(),
        roles: vec![],
        password: ScramVerifier::derive("demo", b"salt", 16).to_string(),
        statement_timeout: None,
        idle_session_timeout: None,
        max_result_rows: None,
    }
}

#[test]
fn scram_verifier_matches_postgres() {
    // Made by PostgreSQL 15: CREATE ROLE zj PASSWORD 'demo' with
    // password_encryption = 'scram-sha-256'; read back from pg_authid.
    let pg = "SCRAM-SHA-256$4096:5vO8RqayBUQwxjYXzDmC1A==$QTZwtOQLpHHmOD7wHbWlkR2IWgkRvVM4OlK7/zSsx0M=:lChzZEde6SqCsr+xiIEt8dgzlGE2Xq0/sjqMz9thIm8=";
    let parsed = ScramVerifier::parse(pg).unwrap();
    let ours = ScramVerifier::derive("demo", &parsed.salt, parsed.iterations);
    assert_eq!(ours, parsed);
    assert_eq!(ours.to_string(), pg);
    assert_ne!(ScramVerifier::derive("demo2", &parsed.salt, 4096), parsed);
    assert!(ScramVerifier::parse("md5abc").is_err());
    assert!(ScramVerifier::parse("SCRAM-SHA-256$0:AA==$AA==:AA==").is_err());
}

#[test]
fn user_in_unknown_area_is_rejected_with_its_name() {
    let err = Catalog::from_parts(
        file(vec![user("wang", Level::Town, "370602009000")]),
        tree(),
        ".".into(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("user wang") && err.contains("370602009000"),
        "{err}"
    );
}

#[test]
fn statement_timeouts_are_times_and_a_users_own_wins_over_the_levels() {
    let mut f = file(vec![
        user("wang", Level::Town, "370602001000"),
        User {
            statement_timeout: Some("30s".into()),
            ..user("li", Level::Town, "370602001000")
        },
    ]);
    f.levels = vec![LevelDefaults {
        level: Level::Town,
        statement_timeout: Some("5min".into()),
        idle_session_timeout: None,
        max_result_rows: None,
    }];
    let c = Catalog::from_parts(f.clone(), tree(), ".".into()).unwrap();
    let of = |name: &str| {
        c.statement_timeout_of(c.user(name).unwrap())
            .map(str::to_string)
    };
    assert_eq!(of("wang").as_deref(), Some("5min"));
    assert_eq!(of("li").as_deref(), Some("30s"));
    assert_eq!(duration_ms("5min"), Some(300_000));
    assert_eq!(duration_ms("1500"), Some(1500));
    assert_eq!(duration_ms("soon"), None);
    // A level twice, or a value that is not a time, stops the catalog.
    let mut twice = f.clone();
    twice.levels.push(twice.levels[0].clone());
    let err = Catalog::from_parts(twice, tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("levels town") && err.contains("twice"),
        "{err}"
    );
    let mut bad = f;
    bad.levels[0].statement_timeout = Some("later".into());
    let err = Catalog::from_parts(bad, tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(err.contains("later"), "{err}");
}

#[test]
fn idle_timeouts_and_row_limits_come_from_the_user_or_the_level_and_export_lifts_the_limit() {
    let mut f = file(vec![
        user("wang", Level::Town, "370602001000"),
        User {
            idle_session_timeout: Some("10min".into()),
            max_result_rows: Some(0),
            ..user("li", Level::Town, "370602001000")
        },
        User {
            roles: vec![EXPORT_ROLE.into()],
            ..user("zhao", Level::Town, "370602001000")
        },
        user("qian", Level::County, "370602000000"),
    ]);
    f.levels = vec![LevelDefaults {
        level: Level::Town,
        statement_timeout: None,
        idle_session_timeout: Some("1h".into()),
        max_result_rows: Some(50_000),
    }];
    let c = Catalog::from_parts(f.clone(), tree(), ".".into()).unwrap();
    let idle = |name: &str| c.idle_session_timeout_of(c.user(name).unwrap());
    let rows = |name: &str| c.max_result_rows_of(c.user(name).unwrap());
    assert_eq!(idle("wang"), Some("1h"));
    assert_eq!(idle("li"), Some("10min"));
    assert_eq!(idle("qian"), None);
    assert_eq!(rows("wang"), Some(50_000));
    assert_eq!(rows("li"), None, "0 is no limit");
    assert_eq!(rows("zhao"), None, "the export role lifts it");
    assert_eq!(rows("qian"), None);
    let mut bad = f;
    bad.users[0].idle_session_timeout = Some("a while".into());
    let err = Catalog::from_parts(bad, tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("idle_session_timeout") && err.contains("a while"),
        "{err}"
    );
}

#[test]
fn user_level_must_match_area_level() {
    let err = Catalog::from_parts(
        file(vec![user("li", Level::Town, "370602000000")]),
        tree(),
        ".".into(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("user li") && err.contains("county"), "{err}");
}

#[test]
fn dataset_with_missing_file_names_the_dataset() {
    let mut f = file(vec![]);
    f.datasets.push(Dataset {
        snapshots: false,
        name: "persons".into(),
        location: "no/such/file.parquet".into(),
        format: Format::Parquet,
        comment: String::new(),
        placement: None,
        columns: Default::default(),
        partitions: Vec::new(),
    });
    let err = Catalog::from_parts(f, tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dataset persons") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn lineage_maps_retired_codes_to_current_ones() {
    let c = Catalog::from_parts(file(vec![]), tree(), ".".into()).unwrap();
    assert_eq!(c.current_code("370684102003"), "370614102003");
    assert_eq!(c.current_code("370602001001"), "370602001001");
}

#[test]
fn area_tree_rejects_orphans_and_bad_codes() {
    let orphan = AreaTree::new(vec![Area {
        code: "370602001000".into(),
        parent: "370602000000".into(),
        level: Level::Town,
        name: "x".into(),
    }]);
    assert!(orphan.unwrap_err().to_string().contains("not in the tree"));
    let bad = AreaTree::new(vec![Area {
        code: "3706".into(),
        parent: "".into(),
        level: Level::City,
        name: "x".into(),
    }]);
    assert!(bad.is_err());
}

#[test]
fn save_and_load_round_trip() {
    let dir = std::env::temp_dir().join(format!("zhenjie-cat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = Catalog::from_parts(
        file(vec![user("town", Level::Town, "370602001000")]),
        tree(),
        dir.clone(),
    )
    .unwrap();
    c.save(dir.join("catalog.toml")).unwrap();
    let back = Catalog::load(dir.join("catalog.toml")).unwrap();
    assert_eq!(back.user("town").unwrap().area, "370602001000");
    assert_eq!(back.areas.areas().len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mask_rules_are_checked() {
    let mut f = file(vec![]);
    f.masks.push(MaskRule {
        class: "phone".into(),
        mask: MaskKind::Partial,
        unless_roles: vec!["pii".into()],
    });
    let c = Catalog::from_parts(f.clone(), tree(), ".".into()).unwrap();
    assert_eq!(c.mask_for("phone", &[]), Some(MaskKind::Partial));
    assert_eq!(c.mask_for("phone", &["pii".to_string()]), None);
    assert_eq!(c.mask_for("name", &[]), None);
    f.masks.push(MaskRule {
        class: "phone".into(),
        mask: MaskKind::Null,
        unless_roles: vec![],
    });
    let err = Catalog::from_parts(f.clone(), tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than one mask rule"), "{err}");
    f.masks.pop();
    f.masks.push(MaskRule {
        class: "id_number".into(),
        mask: MaskKind::Hash,
        unless_roles: vec![],
    });
    let err = Catalog::from_parts(f, tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(err.contains("mask_secret_file"), "{err}");
}

#[test]
fn unknown_mask_kind_is_a_load_error() {
    let text = "area_tree = \"a.csv\"\n[[masks]]\nclass = \"phone\"\nmask = \"scramble\"\n";
    let err = toml::from_str::<CatalogFile>(text).unwrap_err().to_string();
    assert!(
        err.contains("scramble") || err.contains("unknown variant"),
        "{err}"
    );
}

#[test]
fn views_are_checked_and_named_in_errors() {
    let view = |name: &str, sql: &str| View {
        name: name.into(),
        sql: sql.into(),
        comment: String::new(),
        levels: vec![],
        columns: Default::default(),
    };
    for (v, problem) in [
        (view("Bad Name", "SELECT 1"), "lower-case"),
        (view("empty", "  "), "has no sql"),
    ] {
        let mut f = file(vec![]);
        let name = v.name.clone();
        f.views.push(v);
        let err = Catalog::from_parts(f, tree(), ".".into())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("view {name}")) && err.contains(problem),
            "{err}"
        );
    }
    let mut f = file(vec![]);
    f.views.push(view("twice", "SELECT 1"));
    f.views.push(view("twice", "SELECT 2"));
    let err = Catalog::from_parts(f, tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(err.contains("view twice"), "{err}");
}

/// A fence covers exactly the raw codes whose current code lies under it:
/// checked for every prefix and a spread of raw codes, with a county merged
/// whole (蓬莱市 370684 → 370614) and one merged with its towns renumbered
/// (长岛县 370634 → 370614, its town 001 becoming 370614201).
#[test]
fn fences_follow_lineage_most_specific_first() {
    let mut f = file(vec![]);
    let entry = |old: &str, new: &str| Lineage {
        old: old.into(),
        new: new.into(),
        note: String::new(),
    };
    f.area_lineage = vec![
        entry("370684", "370614"),
        entry("370634", "370614"),
        entry("370634001", "370614201"),
        entry("370634002", "370614006"),
    ];
    let mut towns = areas();
    for (code, name) in [("370614201000", "长岛一"), ("370614006000", "长岛二")] {
        towns.push(Area {
            code: code.into(),
            parent: "370614000000".into(),
            level: Level::Town,
            name: name.into(),
        });
    }
    let c = Catalog::from_parts(f, AreaTree::new(towns).unwrap(), ".".into()).unwrap();
    let covered = |ranges: &[(String, Option<String>)], code: &str| {
        ranges
            .iter()
            .any(|(lo, hi)| code >= lo.as_str() && hi.as_deref().is_none_or(|h| code < h))
    };
    let mut codes = Vec::new();
    for county in ["370602", "370614", "370684", "370634", "370611"] {
        for town in ["001", "002", "006", "201", "999"] {
            codes.push(format!("{county}{town}001001"));
        }
    }
    let prefixes = [
        "3706",
        "370614",
        "370614001",
        "370614201",
        "370614006",
        "370614002",
        "370602",
        "370602001",
    ];
    for p in prefixes {
        let ranges = c.fence_ranges(p);
        for code in &codes {
            assert_eq!(
                covered(&ranges, code),
                c.current_code(code).starts_with(p),
                "fence {p} and {code} (now {}): {ranges:?}",
                c.current_code(code)
            );
        }
    }
    // The case that leaked: town 001 of 蓬莱区 does not get 长岛's old town 001.
    assert!(!covered(&c.fence_ranges("370614001"), "370634001001001"));
    assert!(covered(&c.fence_ranges("370614201"), "370634001001001"));
    assert!(covered(&c.fence_ranges("370614001"), "370684001001001"));
    assert_eq!(prefix_upper_bound("370609").as_deref(), Some("37060:"));
}

#[test]
fn key_placements_clean_keys_only_with_known_functions() {
    let mut f = file(vec![]);
    f.datasets.push(Dataset {
        snapshots: false,
        name: "list".into(),
        location: "Cargo.toml".into(),
        format: Format::Csv,
        comment: String::new(),
        placement: Some(Placement::Key {
            column: "id".into(),
            dataset: "persons".into(),
            dataset_column: "id_number".into(),
            normalize: Some("lower".into()),
        }),
        columns: Default::default(),
        partitions: Vec::new(),
    });
    let err = Catalog::from_parts(f.clone(), tree(), ".".into())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dataset list") && err.contains("normalize lower"),
        "{err}"
    );
    // The field is optional in the file and written only when set.
    let text = toml::to_string(&f).unwrap();
    assert!(text.contains("normalize = \"lower\""), "{text}");
    let Some(Placement::Key { normalize, .. }) = &mut f.datasets[0].placement else {
        unreachable!()
    };
    *normalize = None;
    assert!(!toml::to_string(&f).unwrap().contains("normalize"));
}

#[test]
fn area_partitions_need_a_column_placement_and_read_from_toml() {
    let text = r#"
        name = "persons"
        location = "Cargo.toml"
        format = "parquet"
        placement = { kind = "column", column = "grid_code" }
        partitions = [{ name = "county", area = "county" }, { name = "month" }]
    "#;
    let d: Dataset = toml::from_str(text).unwrap();
    assert_eq!(d.partitions[0].area, Some(Level::County));
    assert_eq!(d.partitions[1].area, None);
    let check = |d: &Dataset| {
        let mut f = file(vec![]);
        f.datasets.push(d.clone());
        Catalog::from_parts(f, tree(), ".".into()).map(|_| ())
    };
    assert!(check(&d).is_ok());
    // An unpartitioned dataset writes no `partitions`.
    let mut plain = d.clone();
    plain.partitions.clear();
    assert!(!toml::to_string(&plain).unwrap().contains("partitions"));
    let refused = |d: &Dataset, why: &str| {
        let err = check(d).unwrap_err().to_string();
        assert!(
            err.contains("dataset persons") && err.contains(why),
            "{err}"
        );
    };
    // Codes in folders mean nothing without the column they come from.
    let mut keyed = d.clone();
    keyed.placement = Some(Placement::Public);
    refused(&keyed, "needs a column placement");
    let mut two = d.clone();
    two.partitions[1].area = Some(Level::Town);
    refused(&two, "only one partition");
    let mut twice = d.clone();
    twice.partitions[1].name = "county".into();
    refused(&twice, "distinct");
    let mut described = d;
    described.columns.insert("month".into(), Column::default());
    refused(&described, "folder key");
}
