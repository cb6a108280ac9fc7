//! The demo city: deterministic, realistic synthetic data for a Yantai-like
//! city (烟台市) — residents, households, certificates, benefits and payments,
//! enterprises and safety inspections, vehicles, farmland, social-security
//! cards and a dirty province-level list — written as Parquet files sorted by
//! grid, together with the zhenjie catalog (area tree, datasets with Chinese
//! comments and sensitivity classes, area lineage, demo users) that describes
//! them.
//!
//! It exists so zhenjie can be demonstrated, tested and benchmarked on data
//! that behaves like the real thing (valid identity numbers and credit codes,
//! retired county codes, deceased persons still paid, typos in names) without
//! touching anyone's personal information. It is not a data loader for real
//! deployments, and nothing in its output describes real people.
//!
//! ```no_run
//! let catalog = zhenjie_demo::generate(
//!     std::path::Path::new("demo-city"),
//!     &zhenjie_demo::DemoOptions { persons: 20_000, seed: 42, ..Default::default() },
//!     false,
//! )?;
//! assert!(catalog.dataset("persons").is_some());
//! # Ok::<(), zhenjie_demo::DemoError>(())
//! ```

mod areas;
mod codes;
mod dates;
mod gen;
mod layout;
mod names;
mod policies;
mod reports;
mod sink;
mod tables;

use datafusion::arrow::error::ArrowError;
use datafusion::parquet::errors::ParquetError;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
pub use layout::Layout;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sink::{Place, Sink, TableSpec, V};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zhenjie_catalog::{
    AreaTree, Catalog, CatalogError, CatalogFile, Column, Dataset, Format, Level, Lineage,
    MaskKind, MaskRule, Placement, ScramVerifier, User, View, DEFAULT_ITERATIONS,
};

/// The password of every demo user (demo only).
pub const DEMO_PASSWORD: &str = "demo";

/// The smallest city the generator builds: every county, and every demo
/// user's area, must have residents.
pub const MIN_PERSONS: usize = 100;

/// The largest city the generator builds (identity-number and plate spaces are
/// sized for it).
pub const MAX_PERSONS: usize = 10_000_000;

/// Options of the generator: how big the city is and which random city it is.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Number of registered residents (including the ~1% deceased).
    pub persons: usize,
    /// Seed: the same seed and size always give the same city.
    pub seed: u64,
    /// Share of living residents sampled into the province list
    /// (`dept_list`); 1.0 puts every one of them on it, for linkage
    /// benchmarks at a million rows.
    pub list_share: f64,
    /// How the files are laid out: one per table, or by county folders.
    pub layout: Layout,
}

/// The province list's share of residents unless asked otherwise.
pub const DEFAULT_LIST_SHARE: f64 = 0.03;

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            persons: 1_000_000,
            seed: 42,
            list_share: DEFAULT_LIST_SHARE,
            layout: Layout::Flat,
        }
    }
}

/// Why the demo city could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The requested size is outside what the generator supports.
    #[error("persons must be between {min} and {max}, got {got}")]
    Persons {
        /// What was asked for.
        got: usize,
        /// [`MIN_PERSONS`].
        min: usize,
        /// [`MAX_PERSONS`].
        max: usize,
    },
    /// A file or folder could not be created, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("{}: writing Parquet: {source}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The writer's error.
        source: ParquetError,
    },
    /// An Arrow batch could not be built.
    #[error("table {table}: building a record batch: {source}")]
    Arrow {
        /// The table.
        table: String,
        /// Arrow's error.
        source: ArrowError,
    },
    /// The generated catalog did not validate, or could not be saved or loaded.
    #[error("demo catalog: {0}")]
    Catalog(#[from] CatalogError),
    /// A bug in the generator (an invariant it maintains did not hold).
    #[error("demo generator bug: {0}")]
    Internal(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Mixes the user's seed with a stream number, so the area tree, the people
/// and the password salts each have an independent random stream.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Generates the demo city into `out` (created if missing) and returns the
/// loaded catalog.
///
/// Writes `out/<dataset>.parquet` for every dataset (with
/// [`Layout::ByCounty`], a folder per county for those placed by grid),
/// `out/areas.csv` and
/// `out/catalog.toml`. Files are written under temporary names and renamed at
/// the end, and `catalog.toml` comes last, so an interrupted run never leaves a
/// folder that looks like a complete city. `progress` shows a progress bar on
/// stderr.
pub fn generate(out: &Path, opts: &DemoOptions, progress: bool) -> Result<Catalog, DemoError> {
    if !(MIN_PERSONS..=MAX_PERSONS).contains(&opts.persons) {
        return Err(DemoError::Persons {
            got: opts.persons,
            min: MIN_PERSONS,
            max: MAX_PERSONS,
        });
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let plan = areas::plan(&mut stream(opts.seed, 1), opts.persons);
    let tree = AreaTree::new(plan.areas.iter().map(|(a, _)| a.clone()).collect())?;

    let mut created: Vec<PathBuf> = Vec::new();
    let written = write_tables(out, &plan, opts, progress, &mut created);
    let finals = match written {
        Ok(finals) => finals,
        Err(e) => {
            for p in &created {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
    };

    // From here on the old city (if any) stops being a city: drop its catalog
    // first, then move the new files in, then write the new catalog.
    let catalog_path = out.join("catalog.toml");
    if catalog_path.exists() {
        std::fs::remove_file(&catalog_path).map_err(io(&catalog_path))?;
    }
    for (tmp, fin) in &finals {
        std::fs::rename(tmp, fin).map_err(io(tmp))?;
    }
    let split: Vec<&TableSpec> = match opts.layout {
        Layout::Flat => Vec::new(),
        Layout::ByCounty => tables::ALL
            .iter()
            .copied()
            .filter(|s| matches!(s.place, Place::Grid) && !tables::has_snapshots(s))
            .collect(),
    };
    for spec in &split {
        layout::split_by_county(out, spec)?;
    }
    // The mask secret comes from the operating system's random source, never
    // from the seed (anyone can read the seed in the source and recompute
    // every pseudonym); a city generated again keeps the key it has.
    let secret_path = out.join(MASK_SECRET_FILE);
    if !secret_path.exists() {
        let mut secret = [0u8; 32];
        rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut secret).map_err(|e| {
            DemoError::Io {
                path: secret_path.clone(),
                source: std::io::Error::other(e),
            }
        })?;
        zhenjie_catalog::write_secret_atomically(&secret_path, &secret)?;
    }
    let mut file = catalog_file(&plan, opts.seed)?;
    for d in &mut file.datasets {
        if split.iter().any(|s| s.name == d.name) {
            d.location = d.name.clone();
            d.partitions = vec![zhenjie_catalog::Partition {
                name: layout::COUNTY.to_string(),
                area: Some(Level::County),
            }];
        }
    }
    let catalog = Catalog::from_parts(file, tree, out.to_path_buf())?;
    catalog.save(&catalog_path)?;
    Ok(Catalog::load(&catalog_path)?)
}

/// Writes every table under its temp name; returns (temp, final) paths.
fn write_tables(
    out: &Path,
    plan: &areas::Plan,
    opts: &DemoOptions,
    progress: bool,
    created: &mut Vec<PathBuf>,
) -> Result<Vec<(PathBuf, PathBuf)>, DemoError> {
    created.push(out.join(format!(".{}.tmp", tables::AREAS.file_name())));
    let mut areas = Sink::create(out, &tables::AREAS)?;
    for (a, (lng, lat)) in &plan.areas {
        areas.push(&[
            V::S(&a.code),
            if a.parent.is_empty() {
                V::Null
            } else {
                V::S(&a.parent)
            },
            V::S(a.level.as_str()),
            V::S(&a.name),
            V::F(*lng),
            V::F(*lat),
        ])?;
    }
    areas.finish()?;

    let sinks = gen::Sinks::create(out, created)?;
    let mut g = gen::Gen::new(stream(opts.seed, 2), sinks, opts.list_share);
    let bar = if progress {
        let bar =
            ProgressBar::with_draw_target(Some(opts.persons as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} 生成示范城市 [{bar:40}] {pos}/{len} 人 {elapsed_precise} (剩余 {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    for grid in &plan.grids {
        g.grid(grid)?;
        bar.inc(grid.persons as u64);
    }
    g.finish()?;
    let mut finals = vec![(areas.tmp_path.clone(), areas.final_path.clone())];
    for s in g.sinks.all_mut() {
        s.finish()?;
        finals.push((s.tmp_path.clone(), s.final_path.clone()));
    }
    bar.finish_and_clear();
    Ok(finals)
}

fn dataset(spec: &TableSpec) -> Dataset {
    let placement = match spec.place {
        Place::Grid => Placement::Column {
            column: "grid_code".to_string(),
        },
        Place::PersonKey => Placement::Key {
            column: "id_number".to_string(),
            dataset: "persons".to_string(),
            dataset_column: "id_number".to_string(),
            normalize: None,
        },
        Place::Public => Placement::Public,
    };
    let columns: BTreeMap<String, Column> = spec
        .cols
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                Column {
                    comment: c.comment.to_string(),
                    class: c.class.map(str::to_string),
                },
            )
        })
        .collect();
    let snapshots = tables::has_snapshots(spec);
    Dataset {
        snapshots,
        name: spec.name.to_string(),
        location: if snapshots {
            spec.name.to_string()
        } else {
            spec.file_name()
        },
        format: Format::Parquet,
        comment: spec.comment.to_string(),
        placement: Some(placement),
        columns,
        partitions: Vec::new(),
    }
}

fn user(seed: u64, name: &str, level: Level, area: &str, roles: &[&str]) -> User {
    // FNV-1a of the name picks the salt stream, so salts are stable per user.
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut salt = [0u8; 16];
    stream(seed, h).fill(&mut salt);
    User {
        name: name.to_string(),
        level,
        area: area.to_string(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        password: ScramVerifier::derive(DEMO_PASSWORD, &salt, DEFAULT_ITERATIONS).to_string(),
        statement_timeout: None,
        idle_session_timeout: None,
        max_result_rows: None,
    }
}

/// The demo's keyed-hash secret, beside its catalog (random, made once).
const MASK_SECRET_FILE: &str = "mask.key";

/// The demo's masking policy: below the `pii` role, identity numbers become
/// keyed hashes (still joinable and countable), phones, names and addresses are
/// partially masked, birth dates generalised to the year so they cannot
/// rebuild an identity number, and health data hidden.
fn demo_masks() -> Vec<MaskRule> {
    let rule = |class: &str, mask: MaskKind| MaskRule {
        class: class.to_string(),
        mask,
        unless_roles: vec!["pii".to_string()],
    };
    vec![
        rule("id_number", MaskKind::Hash),
        rule("phone", MaskKind::Partial),
        rule("name", MaskKind::Partial),
        rule("address", MaskKind::Partial),
        rule("birth_date", MaskKind::Year),
        rule("health", MaskKind::Null),
        rule("income", MaskKind::Null),
    ]
}

/// Views that show off governed roll-ups: each runs under the caller's
/// fence and masks, so the same SQL gives every level its own answer.
fn demo_views() -> Vec<View> {
    let columns = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(c, d)| (c.to_string(), d.to_string()))
            .collect()
    };
    vec![
        View {
            name: "village_population".into(),
            comment: "各村社区人口概况（按调用者工作围栏汇总）".into(),
            levels: vec![],
            sql: "SELECT p.village_code, a.name AS village_name, \
                    count(*) AS residents, \
                    sum(CASE WHEN p.is_alive THEN 0 ELSE 1 END) AS deceased, \
                    count(DISTINCT p.household_no) AS households \
                  FROM persons p JOIN areas a ON a.code = p.village_code \
                  GROUP BY p.village_code, a.name"
                .into(),
            columns: columns(&[
                ("village_code", "村社区代码"),
                ("village_name", "村社区名称"),
                ("residents", "户籍人口数（含已死亡未注销）"),
                ("deceased", "已死亡人数"),
                ("households", "户数"),
            ]),
        },
        View {
            name: "deceased_still_paid".into(),
            comment: "死亡后仍在发放的补贴（民政核查线索）".into(),
            levels: vec![],
            sql: "SELECT s.id_number, p.name, p.death_date, s.subsidy_type, s.month, s.amount, s.grid_code \
                  FROM subsidy_payments s JOIN persons p ON p.id_number = s.id_number \
                  WHERE NOT p.is_alive AND s.month > p.death_date"
                .into(),
            columns: columns(&[
                ("id_number", "身份证号"),
                ("name", "姓名"),
                ("death_date", "死亡日期"),
                ("subsidy_type", "补贴类型"),
                ("month", "发放月份"),
                ("amount", "发放金额（元）"),
                ("grid_code", "网格代码"),
            ]),
        },
        View {
            name: "farmer_asset_check".into(),
            comment: "农户资产核验：低保、特困在册家庭中成员名下有车辆、任企业法定代表人或承包地超过10亩的户".into(),
            levels: vec![],
            sql: "WITH monitored AS ( \
                    SELECT DISTINCT p.household_no FROM special_groups g \
                    JOIN persons p ON p.id_number = g.id_number \
                    WHERE g.group_type IN ('低保', '特困') AND g.status = '在册'), \
                  members AS ( \
                    SELECT p.household_no, p.town_code, p.id_number FROM persons p \
                    JOIN monitored m ON m.household_no = p.household_no WHERE p.is_alive), \
                  cars AS ( \
                    SELECT m.household_no, count(*) AS n FROM members m \
                    JOIN vehicles v ON v.owner_id_number = m.id_number GROUP BY m.household_no), \
                  firms AS ( \
                    SELECT m.household_no, count(*) AS n FROM members m \
                    JOIN enterprises e ON e.legal_rep_id = m.id_number \
                    WHERE e.status IN ('存续', '在业') GROUP BY m.household_no), \
                  land AS ( \
                    SELECT household_no, sum(area_mu) AS mu FROM farmland fl GROUP BY household_no), \
                  households AS ( \
                    SELECT h.household_no, min(h.town_code) AS town_code, count(*) AS members, \
                      coalesce(max(c.n), 0) AS vehicles, coalesce(max(f.n), 0) AS enterprises, \
                      coalesce(max(l.mu), 0) AS farmland_mu \
                    FROM members h \
                    LEFT JOIN cars c ON c.household_no = h.household_no \
                    LEFT JOIN firms f ON f.household_no = h.household_no \
                    LEFT JOIN land l ON l.household_no = h.household_no \
                    GROUP BY h.household_no) \
                  SELECT household_no, town_code, members, vehicles, enterprises, farmland_mu \
                  FROM households WHERE vehicles > 0 OR enterprises > 0 OR farmland_mu > 10"
                .into(),
            columns: columns(&[
                ("household_no", "户号"),
                ("town_code", "乡镇（街道）代码"),
                ("members", "在世家庭成员数"),
                ("vehicles", "成员名下车辆数"),
                ("enterprises", "成员任法定代表人的存续企业数"),
                ("farmland_mu", "家庭承包地面积（亩）"),
            ]),
        },
        View {
            name: "disability_changes".into(),
            comment: "线索核查：残疾人证本次与上次入库相比新增、注销或等级变化的人员（as_of 读上次入库）".into(),
            levels: vec![],
            sql: "SELECT coalesce(c.id_number, o.id_number) AS id_number, \
                    CASE WHEN o.id_number IS NULL THEN '新增' WHEN c.id_number IS NULL THEN '注销' \
                         ELSE '等级变化' END AS change, \
                    o.grade AS old_grade, c.grade AS new_grade, \
                    coalesce(c.grid_code, o.grid_code) AS grid_code \
                  FROM disability_certs c \
                  FULL JOIN as_of('disability_certs', -1) o ON o.id_number = c.id_number \
                  WHERE o.id_number IS NULL OR c.id_number IS NULL OR o.grade <> c.grade"
                .into(),
            columns: columns(&[
                ("id_number", "持证人公民身份号码"),
                ("change", "变化：新增/注销/等级变化"),
                ("old_grade", "上次入库的残疾等级"),
                ("new_grade", "本次入库的残疾等级"),
                ("grid_code", "网格代码"),
            ]),
        },
        View {
            name: "moved_out_of_grid".into(),
            comment: "线索核查：户籍在本网格、居住登记在其他网格的人员（人户分离）".into(),
            levels: vec![],
            sql: "SELECT p.id_number, p.name, p.grid_code, r.living_grid_code, r.registered_on \
                  FROM persons p JOIN residence_registrations r ON r.id_number = p.id_number \
                  WHERE p.is_alive AND r.living_grid_code <> p.grid_code"
                .into(),
            columns: columns(&[
                ("id_number", "公民身份号码"),
                ("name", "姓名"),
                ("grid_code", "户籍网格代码"),
                ("living_grid_code", "现居住网格代码"),
                ("registered_on", "居住登记日期"),
            ]),
        },
        View {
            name: "card_expansion".into(),
            comment: "电子社保卡扩面：未领电子社保卡的在世户籍居民及上门地址，按乡镇网格下发".into(),
            levels: vec![],
            sql: "SELECT p.town_code, p.village_code, p.grid_code, p.id_number, p.name, p.phone, p.address \
                  FROM persons p \
                  WHERE p.is_alive AND NOT EXISTS \
                    (SELECT 1 FROM social_security_cards c WHERE c.id_number = p.id_number)"
                .into(),
            columns: columns(&[
                ("town_code", "乡镇（街道）代码"),
                ("village_code", "村（社区）代码"),
                ("grid_code", "网格代码"),
                ("id_number", "公民身份号码"),
                ("name", "姓名"),
                ("phone", "手机号码"),
                ("address", "上门地址（户籍地址）"),
            ]),
        },
        View {
            name: "enterprise_profile".into(),
            comment: "一企一档：每个市场主体的登记信息、法定代表人、从业人数、检查与整改情况和安全风险等级".into(),
            levels: vec![Level::City, Level::County, Level::Town],
            sql: "WITH checks AS ( \
                    SELECT credit_code, count(*) AS inspections, \
                      sum(CASE WHEN result <> '合格' THEN 1 ELSE 0 END) AS hazards, \
                      sum(CASE WHEN result = '重大隐患' THEN 1 ELSE 0 END) AS major_hazards, \
                      sum(CASE WHEN rectification_status = '逾期未整改' THEN 1 ELSE 0 END) AS overdue, \
                      max(inspected_on) AS last_inspected \
                    FROM safety_inspections GROUP BY credit_code) \
                  SELECT e.credit_code, e.name, e.org_type, e.industry, e.status, e.established_date, \
                    e.legal_rep_id, e.employees, e.address, \
                    coalesce(k.inspections, 0) AS inspections, coalesce(k.hazards, 0) AS hazards, \
                    coalesce(k.overdue, 0) AS overdue, k.last_inspected, \
                    safety_risk_grade(coalesce(k.inspections, 0), coalesce(k.hazards, 0), \
                      coalesce(k.major_hazards, 0), coalesce(k.overdue, 0)) AS risk_grade, \
                    e.grid_code \
                  FROM enterprises e LEFT JOIN checks k ON k.credit_code = e.credit_code"
                .into(),
            columns: columns(&[
                ("credit_code", "统一社会信用代码"),
                ("name", "市场主体名称"),
                ("org_type", "主体类型"),
                ("industry", "行业门类"),
                ("status", "登记状态"),
                ("established_date", "成立日期"),
                ("legal_rep_id", "法定代表人公民身份号码"),
                ("employees", "从业人数"),
                ("address", "住所（经营场所）"),
                ("inspections", "安全检查次数"),
                ("hazards", "发现隐患次数"),
                ("overdue", "逾期未整改次数"),
                ("last_inspected", "最近检查日期"),
                ("risk_grade", "安全风险等级（四色）"),
                ("grid_code", "网格代码"),
            ]),
        },
        View {
            name: "safety_reminders".into(),
            comment: "安全生产闭环：未整改隐患的提醒与逾期天数（检查-提醒-整改）".into(),
            levels: vec![Level::City, Level::County, Level::Town],
            sql: "SELECT i.inspection_id, i.credit_code, e.name AS enterprise_name, i.site_type, i.result, \
                    i.inspected_on, i.due_date, i.rectification_status, \
                    CASE WHEN i.due_date < reference_date() THEN '逾期提醒' ELSE '整改提醒' END AS reminder, \
                    CASE WHEN i.due_date < reference_date() \
                      THEN CAST(reference_date() - i.due_date AS BIGINT) ELSE 0 END AS days_overdue, \
                    concat(substr(i.grid_code, 1, 9), '000') AS town_code, i.grid_code \
                  FROM safety_inspections i JOIN enterprises e ON e.credit_code = i.credit_code \
                  WHERE i.result <> '合格' AND i.rectification_status IN ('整改中', '逾期未整改')"
                .into(),
            columns: columns(&[
                ("inspection_id", "检查编号"),
                ("credit_code", "统一社会信用代码"),
                ("enterprise_name", "企业名称"),
                ("site_type", "监管场所类别"),
                ("result", "检查结果"),
                ("inspected_on", "检查日期"),
                ("due_date", "整改期限"),
                ("rectification_status", "整改状态"),
                ("reminder", "提醒类型"),
                ("days_overdue", "逾期天数"),
                ("town_code", "乡镇（街道）代码"),
                ("grid_code", "网格代码"),
            ]),
        },
        View {
            name: "vehicle_households".into(),
            comment: "人车关联：车辆与所有人及其户的关联，按网格".into(),
            levels: vec![],
            sql: "SELECT v.plate_no, v.vehicle_type, v.brand, v.registered_on, v.owner_id_number, \
                    p.name AS owner_name, p.household_no, p.is_alive AS owner_alive, p.grid_code \
                  FROM vehicles v JOIN persons p ON p.id_number = v.owner_id_number"
                .into(),
            columns: columns(&[
                ("plate_no", "号牌号码"),
                ("vehicle_type", "车辆类型"),
                ("brand", "品牌"),
                ("registered_on", "初次登记日期"),
                ("owner_id_number", "所有人公民身份号码"),
                ("owner_name", "所有人姓名"),
                ("household_no", "所有人户号"),
                ("owner_alive", "所有人是否健在"),
                ("grid_code", "所有人户籍网格"),
            ]),
        },
        View {
            name: "map_points".into(),
            comment: "一张图：村（社区）与企业的坐标点及其度量（村为在世人口，企业为从业人数），可导出 GeoJSON".into(),
            levels: vec![],
            sql: "SELECT 'village' AS kind, a.code, a.name, a.lng, a.lat, \
                    CAST(count(p.id_number) AS BIGINT) AS measure, a.code AS area_code \
                  FROM areas a JOIN persons p ON p.village_code = a.code AND p.is_alive \
                  WHERE a.level = 'village' GROUP BY a.code, a.name, a.lng, a.lat \
                  UNION ALL \
                  SELECT 'enterprise' AS kind, e.credit_code AS code, e.name, e.lng, e.lat, \
                    CAST(e.employees AS BIGINT) AS measure, e.grid_code AS area_code \
                  FROM enterprises e WHERE e.status IN ('存续', '在业')"
                .into(),
            columns: columns(&[
                ("kind", "点类型：village 村社区 / enterprise 企业"),
                ("code", "区划代码或统一社会信用代码"),
                ("name", "名称"),
                ("lng", "经度（示意）"),
                ("lat", "纬度（示意）"),
                ("measure", "度量：村为在世人口，企业为从业人数"),
                ("area_code", "所在区划代码"),
            ]),
        },
        View {
            name: "open_hazards".into(),
            comment: "检查不合格且未整改的企业隐患".into(),
            levels: vec![Level::City, Level::County, Level::Town],
            sql: "SELECT i.inspection_id, e.credit_code, e.name AS enterprise_name, e.industry, \
                    i.inspected_on, i.result, i.rectification_status, i.due_date, i.grid_code \
                  FROM safety_inspections i JOIN enterprises e ON e.credit_code = i.credit_code \
                  WHERE i.result <> '合格' AND i.rectification_status <> '已整改'"
                .into(),
            columns: columns(&[
                ("inspection_id", "检查编号"),
                ("credit_code", "统一社会信用代码"),
                ("enterprise_name", "企业名称"),
                ("industry", "行业"),
                ("inspected_on", "检查日期"),
                ("result", "检查结果"),
                ("rectification_status", "整改状态"),
                ("due_date", "整改期限"),
                ("grid_code", "网格代码"),
            ]),
        },
    ]
}

fn catalog_file(plan: &areas::Plan, seed: u64) -> Result<CatalogFile, DemoError> {
    let county = "370602000000";
    let grid = plan
        .grids
        .iter()
        .find(|g| g.county_code == county)
        .ok_or_else(|| DemoError::Internal("芝罘区 has no grid".into()))?;
    let lineage = |old: &str, new: &str, note: &str| Lineage {
        old: old.to_string(),
        new: new.to_string(),
        note: note.to_string(),
    };
    Ok(CatalogFile {
        database: "zhenjie".to_string(),
        area_tree: "areas.csv".to_string(),
        area_lineage: vec![
            lineage("370684", "370614", "蓬莱市并入蓬莱区（2020年）"),
            lineage("370634", "370614", "长岛县并入蓬莱区（2020年）"),
            lineage("370672", "370676", "开发区旧代码改为经开区（2021年）"),
            lineage(
                areas::ISLAND_TOWN.0,
                areas::ISLAND_TOWN.1,
                "长岛县砣矶镇并入蓬莱区后重新编号（2020年）",
            ),
        ],
        datasets: tables::ALL.iter().map(|s| dataset(s)).collect(),
        masks: demo_masks(),
        mask_secret_file: Some(MASK_SECRET_FILE.to_string()),
        views: demo_views(),
        reports: reports::demo_reports(),
        rules: policies::demo_rules(),
        reference_date: Some(dates::reference_date()),
        object_stores: vec![],
        levels: vec![],
        users: vec![
            user(seed, "city", Level::City, areas::CITY_CODE, &["auditor"]),
            user(seed, "county", Level::County, county, &[]),
            user(seed, "town", Level::Town, &grid.town_code, &["pii"]),
            user(seed, "village", Level::Village, &grid.village_code, &[]),
            user(seed, "grid", Level::Grid, &grid.code, &[]),
            // Two towns of 蓬莱区, where old records carry retired codes.
            // 南王镇 (370614100) holds 蓬莱市's old records of the same
            // number, but not 长岛县's 370634100, which became 砣矶镇.
            user(seed, "penglai", Level::Town, "370614100000", &[]),
            user(
                seed,
                "tuoji",
                Level::Town,
                &format!("{}000", areas::ISLAND_TOWN.1),
                &[],
            ),
            user(
                seed,
                "admin",
                Level::City,
                areas::CITY_CODE,
                &["admin", "auditor", "pii"],
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_sizes_out_of_range() {
        let dir = std::env::temp_dir().join("zhenjie-demo-never-created");
        let e = generate(
            &dir,
            &DemoOptions {
                persons: 10,
                seed: 1,
                ..Default::default()
            },
            false,
        )
        .unwrap_err();
        assert!(matches!(e, DemoError::Persons { got: 10, .. }), "{e}");
        assert!(!dir.exists());
    }
}
