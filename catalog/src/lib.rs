//! What exists in a zhenjie deployment: the datasets and where they live, the
//! area tree (city → county → town → village → grid), the users with their level,
//! area and roles, and the policies that govern them.
//!
//! The catalog is a human-editable TOML file plus an area-tree CSV beside it. This
//! crate parses and validates them and writes them back atomically. It knows no
//! runtime: it never opens a data file or plans a query (that is `zhenjie-engine`).

mod area;
mod error;
mod scram;

pub use area::{Area, AreaTree, Level};
pub use error::CatalogError;
pub use scram::{ScramVerifier, DEFAULT_ITERATIONS};

use serde::{Deserialize, Serialize};

/// The shortest mask secret accepted: a keyed hash is only as strong as
/// its key (32 bytes: HMAC-SHA-256's own size).
pub const MIN_MASK_SECRET: usize = 32;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Result type of catalog operations.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// The whole catalog as it is written on disk (`catalog.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// Database name clients connect to (`psql ... zhenjie`).
    #[serde(default = "default_database")]
    pub database: String,
    /// Path (relative to the catalog file) of the area-tree CSV:
    /// `code,parent,level,name`.
    pub area_tree: String,
    /// Retired area codes and the current code each now belongs to.
    #[serde(default)]
    pub area_lineage: Vec<Lineage>,
    /// Datasets queryable as tables.
    #[serde(default)]
    pub datasets: Vec<Dataset>,
    /// Object stores datasets may live in (`s3://bucket/…` locations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_stores: Vec<ObjectStore>,
    /// Governed views: SQL over the datasets, run under each caller's fence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// Report templates: the forms the platform fills from data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<Report>,
    /// Policy rules (政策找人): who is eligible for a benefit and who is
    /// served, so the platform can list the gaps between the two.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// The day the data describes (`YYYY-MM-DD`): rules measure ages and
    /// deadlines on it through `reference_date()`. Unset: today, as for a
    /// deployment loaded every night; a fixed snapshot (the demo city) sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<String>,
    /// Session defaults by level (a grid worker's statements may be held
    /// shorter than the city's analysts'); a user's own value wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<LevelDefaults>,
    /// Principals allowed to log in.
    #[serde(default)]
    pub users: Vec<User>,
    /// Column masks by sensitivity class.
    #[serde(default)]
    pub masks: Vec<MaskRule>,
    /// File (relative to the catalog) holding the server secret keyed-hash
    /// masks use; required when any rule uses `hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_secret_file: Option<String>,
}

/// How a sensitive value is shown to a principal a mask applies to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MaskKind {
    /// The display convention of the class: 370602********1234, 138****5678,
    /// 张*三; other text keeps its first characters.
    Partial,
    /// A keyed hash (HMAC with the server secret): joins and counts across
    /// datasets still work, the value is never revealed.
    Hash,
    /// NULL.
    Null,
    /// Dates generalised to their year.
    Year,
}

impl MaskKind {
    /// The name used in the catalog and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            MaskKind::Partial => "partial",
            MaskKind::Hash => "hash",
            MaskKind::Null => "null",
            MaskKind::Year => "year",
        }
    }
}

/// Masks every column of a sensitivity class, except for principals holding
/// one of `unless_roles`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MaskRule {
    /// The column class this rule covers (`id_number`, `phone`, …).
    pub class: String,
    /// The mask applied.
    pub mask: MaskKind,
    /// Roles that see the raw value (e.g. `pii`).
    #[serde(default)]
    pub unless_roles: Vec<String>,
}

fn default_database() -> String {
    "zhenjie".to_string()
}

/// A retired area code and the current code it maps to (e.g. 370684 蓬莱市 → 370614 蓬莱区).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    /// Code prefix as it appears in old records.
    pub old: String,
    /// Current code prefix the old one became.
    pub new: String,
    /// Why, for the reader of the catalog.
    #[serde(default)]
    pub note: String,
}

/// File format of a dataset.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Apache Parquet files (preferred: row groups can be pruned by area).
    Parquet,
    /// CSV files with a header line.
    Csv,
}

/// How a dataset's rows are placed in the area tree: this decides who sees them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Placement {
    /// A column of the dataset holds an area code (at any level).
    Column {
        /// Column holding the area code.
        column: String,
    },
    /// Rows are attributed to an area through a key into another dataset
    /// (e.g. a test-result list holding only identity numbers lands where the
    /// person lives).
    Key {
        /// Column of this dataset holding the key.
        column: String,
        /// The governed dataset the key points into.
        dataset: String,
        /// The key column in that dataset.
        dataset_column: String,
        /// A function that cleans this dataset's key before it is compared
        /// (`id_normalize`: 15-digit numbers, lower-case x, full-width digits
        /// and spaces become the 18-character number), so a dirty key still
        /// lands where its person lives; one of [`KEY_NORMALIZERS`]. None:
        /// keys compare as they are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        normalize: Option<String>,
    },
    /// Reference data every principal may read.
    Public,
}

/// The functions a key placement may clean its key with: pure functions of
/// the key alone, which never fail on any input.
pub const KEY_NORMALIZERS: &[&str] = &["id_normalize"];

/// Where an S3-compatible bucket is and how to reach it (AWS S3, Aliyun
/// OSS, MinIO, …). Credentials come from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, as the AWS tools read them)
/// unless `options` names them; the catalog is a reviewed file, so secrets
/// belong in the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStore {
    /// `s3://bucket`: datasets whose location starts with it are read here.
    pub url: String,
    /// S3 client settings by their object_store names: `endpoint`,
    /// `region`, `allow_http`, `virtual_hosted_style_request`, ….
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// A named query over the datasets — a per-area roll-up, a report's base
/// table — defined once for everyone. It holds no rights of its own: it runs
/// as the principal who queries it, so its rows are those of the caller's
/// fence and masks, and a caller who cannot see a table it reads does not see
/// the view.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// View name in SQL (same rules as dataset names).
    pub name: String,
    /// The query (one SELECT, PostgreSQL syntax).
    pub sql: String,
    /// Description shown by clients (`\dv+`, `obj_description`).
    #[serde(default)]
    pub comment: String,
    /// The levels whose users see the view; empty: every level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Level>,
    /// Column descriptions, by output column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

/// A report template: one of the base-level forms the platform fills from
/// data instead of staff. Its SQL runs as the person who renders it, so
/// each user gets their own area's report; its labels, in the order of the
/// SQL's output columns, head the rendered table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Name on the command line (`zhenjie report NAME`).
    pub name: String,
    /// Title printed above the table.
    pub title: String,
    /// What the report is for (`zhenjie report --list`).
    #[serde(default)]
    pub description: String,
    /// The query (one SELECT over datasets and views, PostgreSQL syntax).
    pub sql: String,
    /// Every output column, in order, with its label.
    pub columns: Vec<ReportColumn>,
    /// The output column holding an area code: `--area` keeps the rows
    /// under that area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_column: Option<String>,
}

/// A benefit's eligibility rule, as data: a new policy is a new rule, not
/// new code. The engine turns each rule into two questions over the
/// register — who is eligible but not served, who is served but no longer
/// eligible (and why) — answered for the whole city and then fenced and
/// masked for whoever asks (`policy_gaps`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Rule name in SQL (`policy_gaps('elderly_80')`).
    pub name: String,
    /// What the rule is called (Chinese, as the policy names it).
    pub title: String,
    /// The special-population group it screens (人群类别).
    pub group: String,
    /// The benefit eligibility leads to.
    pub benefit: String,
    /// The policy document it follows.
    #[serde(default)]
    pub basis: String,
    /// First day the policy applies (`YYYY-MM-DD`); before it no one is eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<String>,
    /// Day the policy ends (`YYYY-MM-DD`, exclusive); from then on everyone
    /// still served is served without a policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<String>,
    /// The register rows are read from, as `p` (default `persons`); it must
    /// be placed by an area column and have a column of class `id_number`.
    #[serde(default = "default_population")]
    pub population: String,
    /// Who is eligible: a boolean SQL expression over `p`, which may use
    /// subqueries over other datasets and `reference_date()`.
    pub eligible: String,
    /// Who is served.
    pub served: RuleServed,
    /// Why someone served is no longer eligible, tried in order; the first
    /// that holds is the reason given ("不再符合条件" if none does, and
    /// "户籍已迁出或注销" when the register does not have them at all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exits: Vec<RuleExit>,
    /// A sensitivity class the rule's rows reveal (a disability rule reveals
    /// `health`): users for whom that class is masked do not see its rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

impl Rule {
    /// The reason given to an eligible person nobody serves.
    pub const UNSERVED: &'static str = "符合条件未享受";
    /// The reason given when the register does not have a served person.
    pub const NOT_REGISTERED: &'static str = "户籍已迁出或注销";
    /// The reason given when none of a rule's exits holds.
    pub const NO_LONGER_ELIGIBLE: &'static str = "不再符合条件";
    /// The reason given to everyone served while the policy is not in force.
    pub const NOT_IN_FORCE: &'static str = "政策未生效或已到期";
}

fn default_population() -> String {
    "persons".to_string()
}

/// The records that say a person is served by a rule's benefit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleServed {
    /// The dataset holding them, as `s`; it must have a column of class
    /// `id_number` and be placed by an area column.
    pub dataset: String,
    /// Which of its rows count: a boolean SQL expression over `s`.
    #[serde(rename = "where", default = "default_true")]
    pub condition: String,
}

fn default_true() -> String {
    "true".to_string()
}

/// One reason a served person is no longer eligible.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleExit {
    /// The reason as staff read it (已死亡, 收入超标, 证件过期, …).
    pub reason: String,
    /// When it applies: a boolean SQL expression over `p`.
    pub when: String,
}

/// One column of a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportColumn {
    /// The SQL output column.
    pub name: String,
    /// Its heading (Chinese, as the form has it).
    pub label: String,
    /// Whether the totals row sums it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total: bool,
}

/// One table a principal can query.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Table name in SQL.
    pub name: String,
    /// Local path (relative to the catalog file, a file or a folder) or an
    /// object-store URL.
    pub location: String,
    /// File format.
    pub format: Format,
    /// Whether `location` is a folder of dated loads (`YYYY-MM-DD/`, one
    /// per nightly load, each holding that load's files): the table is the
    /// newest load, and `as_of(name, date)` reads the one in force on a date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub snapshots: bool,
    /// Table comment shown by clients (`\d+`, pg_description).
    #[serde(default)]
    pub comment: String,
    /// Who sees which rows. `None` means city level only (fail closed).
    #[serde(default)]
    pub placement: Option<Placement>,
    /// Per-column comments and sensitivity classes, keyed by column name.
    #[serde(default)]
    pub columns: BTreeMap<String, Column>,
    /// Hive-style folders under `location` (`county=370602/month=2026-11/…`),
    /// outermost first: each becomes a text column, and a query that fixes
    /// them lists only the folders it needs. How a province lays out data
    /// no one machine or listing could hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Partition>,
}

/// One level of a dataset's Hive-style folders.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// The folder key (`county` in `county=370602`), also the column's name.
    pub name: String,
    /// Set when each folder holds the rows whose placement column starts
    /// with its value, an area code of this level (`county=370602` holds
    /// the rows of 370602…): a principal's fence then also picks the
    /// folders, so a town user's query lists and opens only its county's
    /// files. The fence itself still filters every row; a row filed under
    /// another area's folder is seen by the city level only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Level>,
}

/// What the catalog says about one column.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Column comment shown by clients.
    #[serde(default)]
    pub comment: String,
    /// Sensitivity class (`id_number`, `phone`, `name`, `address`, `health`, …),
    /// which policies use to choose a mask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

/// A principal who may log in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Level of the user's post; must match the level of `area`.
    pub level: Level,
    /// Area code the user works in (their fence).
    pub area: String,
    /// Extra rights (`pii`, `auditor`, `admin`, …).
    #[serde(default)]
    pub roles: Vec<String>,
    /// SCRAM-SHA-256 verifier in PostgreSQL's format; never a plain password.
    pub password: String,
    /// The user's sessions start with this `statement_timeout` (PostgreSQL's
    /// `ALTER ROLE … SET statement_timeout`): a grid worker's tool cannot hold
    /// the city's query threads for an hour. They may SET it; RESET returns
    /// to it. PostgreSQL's text: `30s`, `5min`, `1500` (milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<String>,
    /// The user's sessions close after this long without a statement
    /// (PostgreSQL's `idle_session_timeout`, FATAL 57P05): a forgotten BI
    /// tab does not hold a connection slot all week.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_session_timeout: Option<String>,
    /// The most rows one statement may return to the user (0: no limit),
    /// unless they have the [`EXPORT_ROLE`]: bulk copies of personal data
    /// leave through the export role, not through a query window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_result_rows: Option<u64>,
}

/// The role that lifts `max_result_rows`: its holders may take whole tables
/// out (`COPY … TO STDOUT`, large exports).
pub const EXPORT_ROLE: &str = "export";

/// The session defaults of every user at one level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelDefaults {
    /// The level these defaults are for (once each).
    pub level: Level,
    /// `statement_timeout` their sessions start with, unless the user has
    /// their own (PostgreSQL's time text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<String>,
    /// `idle_session_timeout` their sessions start with, unless the user
    /// has their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_session_timeout: Option<String>,
    /// `max_result_rows` of their statements, unless the user has their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_result_rows: Option<u64>,
}

impl Catalog {
    /// The user's own setting, else their level's.
    fn own_or_level<'a, T: ?Sized>(
        &'a self,
        user: &'a User,
        own: Option<&'a T>,
        level: impl Fn(&'a LevelDefaults) -> Option<&'a T>,
    ) -> Option<&'a T> {
        own.or_else(|| {
            self.file
                .levels
                .iter()
                .find(|l| l.level == user.level)
                .and_then(level)
        })
    }

    /// The `statement_timeout` a user's sessions start with: theirs, else
    /// their level's, else none.
    pub fn statement_timeout_of<'a>(&'a self, user: &'a User) -> Option<&'a str> {
        self.own_or_level(user, user.statement_timeout.as_deref(), |l| {
            l.statement_timeout.as_deref()
        })
    }

    /// The `idle_session_timeout` a user's sessions start with: theirs, else
    /// their level's, else none.
    pub fn idle_session_timeout_of<'a>(&'a self, user: &'a User) -> Option<&'a str> {
        self.own_or_level(user, user.idle_session_timeout.as_deref(), |l| {
            l.idle_session_timeout.as_deref()
        })
    }

    /// The most rows a statement of the user may return: none for holders
    /// of the [`EXPORT_ROLE`] or where neither the user nor their level
    /// sets one (or sets 0).
    pub fn max_result_rows_of(&self, user: &User) -> Option<u64> {
        if user.roles.iter().any(|r| r == EXPORT_ROLE) {
            return None;
        }
        self.own_or_level(user, user.max_result_rows.as_ref(), |l| {
            l.max_result_rows.as_ref()
        })
        .copied()
        .filter(|&n| n > 0)
    }
}

/// A PostgreSQL time setting's value in milliseconds: a bare number is
/// milliseconds; units `us`, `ms`, `s`, `min`, `h`, `d`. `None` when it is
/// not one.
pub fn duration_ms(v: &str) -> Option<u64> {
    let v = v.trim().trim_matches('\'').trim();
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    (n >= 0.0).then_some((n * factor) as u64)
}

/// A loaded, validated catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The file as written.
    pub file: CatalogFile,
    /// The area tree it references.
    pub areas: AreaTree,
    /// Folder the catalog file lives in; relative locations resolve against it.
    pub base_dir: PathBuf,
}

impl Catalog {
    /// Reads and validates `catalog.toml` (and the area tree it names).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let file: CatalogFile = toml::from_str(&text).map_err(|e| CatalogError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let tree_path = base_dir.join(&file.area_tree);
        let areas = AreaTree::load_csv(&tree_path)?;
        let catalog = Catalog {
            file,
            areas,
            base_dir,
        };
        catalog.validate()?;
        Ok(catalog)
    }

    /// Builds a catalog from parts already in memory (used by the demo generator
    /// and by tests), validating it the same way `load` does.
    pub fn from_parts(file: CatalogFile, areas: AreaTree, base_dir: PathBuf) -> Result<Self> {
        let catalog = Catalog {
            file,
            areas,
            base_dir,
        };
        catalog.validate()?;
        Ok(catalog)
    }

    /// Writes the catalog file and its area tree atomically (temp file + rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let text = toml::to_string_pretty(&self.file).map_err(|e| CatalogError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        self.areas.save_csv(&dir.join(&self.file.area_tree))?;
        write_atomically(path, text.as_bytes())
    }

    /// Looks a dataset up by name.
    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.file.datasets.iter().find(|d| d.name == name)
    }

    /// The mask a principal with `roles` gets on a column of `class`, if any.
    pub fn mask_for(&self, class: &str, roles: &[String]) -> Option<MaskKind> {
        let rule = self.file.masks.iter().find(|r| r.class == class)?;
        let exempt = rule.unless_roles.iter().any(|r| roles.contains(r));
        (!exempt).then_some(rule.mask)
    }

    /// The keyed-hash secret, read from `mask_secret_file`: at least
    /// [`MIN_MASK_SECRET`] bytes, and no access for other users.
    pub fn mask_secret(&self) -> Result<Vec<u8>> {
        let name = self.file.mask_secret_file.as_deref().ok_or_else(|| {
            CatalogError::Policy(
                "a mask uses hash but the catalog names no mask_secret_file".into(),
            )
        })?;
        let path = self.base_dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| CatalogError::Io {
            path: path.clone(),
            source: e,
        })?;
        // Whoever reads the key can recompute every pseudonym, and so undo
        // the masks by trying candidate identity numbers.
        if bytes.len() < MIN_MASK_SECRET {
            return Err(CatalogError::Policy(format!(
                "mask secret {} must hold at least {MIN_MASK_SECRET} bytes",
                path.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map_err(|e| CatalogError::Io {
                    path: path.clone(),
                    source: e,
                })?
                .permissions()
                .mode();
            if mode & 0o007 != 0 {
                return Err(CatalogError::Policy(format!(
                    "mask secret {} is readable by other users (mode {:o}); \
                     make it readable by its owner only: chmod 600 {}",
                    path.display(),
                    mode & 0o777,
                    path.display()
                )));
            }
        }
        Ok(bytes)
    }

    /// A 32-byte key for one `purpose` of the server's (the mock salts of
    /// unknown users, say), derived from the mask secret so one secret file
    /// serves every purpose without one key revealing another or the secret;
    /// `None` when the catalog has no readable mask secret.
    pub fn derived_secret(&self, purpose: &str) -> Option<[u8; 32]> {
        use hmac::{Hmac, Mac};
        let secret = self.mask_secret().ok()?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).ok()?;
        mac.update(purpose.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    /// Looks a user up by login name.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.file.users.iter().find(|u| u.name == name)
    }

    /// Resolves a dataset location: URLs pass through, relative paths are taken
    /// from the catalog's folder.
    pub fn resolve_location(&self, location: &str) -> String {
        if location.contains("://") {
            location.to_string()
        } else {
            let p = Path::new(location);
            let full = if p.is_absolute() {
                p.to_path_buf()
            } else {
                self.base_dir.join(p)
            };
            full.to_string_lossy().into_owned()
        }
    }

    /// Maps an area code from an old record to today's code through the lineage
    /// table (longest matching old prefix wins); unknown codes are returned as is.
    pub fn current_code(&self, code: &str) -> String {
        let best = self
            .file
            .area_lineage
            .iter()
            .filter(|l| code.starts_with(&l.old))
            .max_by_key(|l| l.old.len());
        match best {
            Some(l) => format!("{}{}", l.new, &code[l.old.len()..]),
            None => code.to_string(),
        }
    }

    /// The raw area codes a fence at `prefix` covers, as `[lower, upper)`
    /// string ranges (`None`: no upper bound): exactly the codes whose
    /// [current code](Catalog::current_code) lies under `prefix`. Today's
    /// codes under it, and the retired codes that became part of it, the
    /// most specific lineage entry deciding: when a county's towns were
    /// renumbered as it merged (长岛县's into 蓬莱区), a town-level entry
    /// sends each old town to its new one, and the county-level entry no
    /// longer hands an old town to the new town that happens to share its
    /// number.
    pub fn fence_ranges(&self, prefix: &str) -> Vec<(String, Option<String>)> {
        let lineage = &self.file.area_lineage;
        // The entry that decides where the codes under `code` go.
        let deciding = |code: &str| {
            lineage
                .iter()
                .filter(|l| code.starts_with(&l.old))
                .map(|l| l.old.len())
                .max()
        };
        // Raw prefixes whose codes all come under `prefix`, each with the
        // length of the entry that sends them there (0: today's codes).
        let mut includes: Vec<(String, usize)> = Vec::new();
        if deciding(prefix).is_none() {
            includes.push((prefix.to_string(), 0));
        }
        for l in lineage {
            let raw = if prefix.starts_with(&l.new) {
                format!("{}{}", l.old, &prefix[l.new.len()..])
            } else if l.new.starts_with(prefix) {
                l.old.clone()
            } else {
                continue;
            };
            // A more specific entry sends all of `raw` elsewhere.
            if deciding(&raw) == Some(l.old.len()) {
                includes.push((raw, l.old.len()));
            }
        }
        let mut ranges = Vec::new();
        for (raw, _) in &includes {
            // More specific entries inside `raw` decide for their own codes.
            let mut holes: Vec<&str> = lineage
                .iter()
                .map(|l| l.old.as_str())
                .filter(|o| o.len() > raw.len() && o.starts_with(raw.as_str()))
                .collect();
            holes.sort_unstable();
            holes.dedup();
            let mut lower = raw.clone();
            let mut last_hole: Option<&str> = None;
            for hole in holes {
                if last_hole.is_some_and(|h| hole.starts_with(h)) {
                    continue;
                }
                if lower.as_str() < hole {
                    ranges.push((lower.clone(), Some(hole.to_string())));
                }
                lower = prefix_upper_bound(hole).expect("area codes are digits");
                last_hole = Some(hole);
            }
            ranges.push((lower, prefix_upper_bound(raw)));
        }
        // Adjacent and overlapping ranges as one.
        ranges.sort();
        let mut merged: Vec<(String, Option<String>)> = Vec::new();
        for (lower, upper) in ranges {
            if let Some(last) = merged.last_mut() {
                let touches = match &last.1 {
                    None => true,
                    Some(u) => lower <= *u,
                };
                if touches {
                    last.1 = match (&last.1, upper) {
                        (Some(a), Some(b)) => Some(if *a > b { a.clone() } else { b }),
                        _ => None,
                    };
                    continue;
                }
            }
            merged.push((lower, upper));
        }
        merged
    }

    fn validate(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for d in &self.file.datasets {
            let bad = |problem: String| CatalogError::Dataset {
                dataset: d.name.clone(),
                problem,
            };
            if !seen.insert(d.name.as_str()) {
                return Err(bad("is declared twice".into()));
            }
            if !is_sql_name(&d.name) {
                return Err(bad(
                    "name must be lower-case letters, digits and '_' so SQL can name it unquoted"
                        .into(),
                ));
            }
            if !d.location.contains("://") {
                let path = PathBuf::from(self.resolve_location(&d.location));
                if !path.exists() {
                    return Err(bad(format!("location {} does not exist", path.display())));
                }
                if d.snapshots && !path.is_dir() {
                    return Err(bad(format!(
                        "has snapshots, so its location {} must be a folder of dated loads",
                        path.display()
                    )));
                }
            }
            if let Some(Placement::Key {
                normalize: Some(f), ..
            }) = &d.placement
            {
                if !KEY_NORMALIZERS.contains(&f.as_str()) {
                    return Err(bad(format!(
                        "placement normalize {f} is not one of {}",
                        KEY_NORMALIZERS.join(", ")
                    )));
                }
            }
            let mut folders = std::collections::HashSet::new();
            for p in &d.partitions {
                if !is_sql_name(&p.name) || !folders.insert(p.name.as_str()) {
                    return Err(bad(format!(
                        "partition {} must be a distinct lower-case SQL name",
                        p.name
                    )));
                }
                if d.columns.contains_key(&p.name) {
                    return Err(bad(format!(
                        "partition {} is a folder key, not a column of the files to describe",
                        p.name
                    )));
                }
            }
            if d.partitions.iter().filter(|p| p.area.is_some()).count() > 1 {
                return Err(bad("only one partition can hold area codes".into()));
            }
            if d.partitions.iter().any(|p| p.area.is_some())
                && !matches!(d.placement, Some(Placement::Column { .. }))
            {
                return Err(bad(
                    "a partition of area codes needs a column placement, whose codes it holds"
                        .into(),
                ));
            }
            if let Some(Placement::Key { dataset, .. }) = &d.placement {
                match self.file.datasets.iter().find(|o| &o.name == dataset) {
                    None => return Err(bad(format!("placement refers to unknown dataset {dataset}"))),
                    Some(o) if matches!(o.placement, Some(Placement::Key { .. })) => {
                        return Err(bad(format!(
                            "placement goes through {dataset}, which is itself placed through a key; chains are not allowed"
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        for o in &self.file.object_stores {
            let bucket = o
                .url
                .strip_prefix("s3://")
                .map(|b| b.trim_end_matches('/'))
                .filter(|b| !b.is_empty() && !b.contains('/'));
            if bucket.is_none() {
                return Err(CatalogError::Policy(format!(
                    "object store {}: url must be s3://bucket",
                    o.url
                )));
            }
        }
        for d in &self.file.datasets {
            if d.location.contains("://")
                && !d.location.starts_with("file://")
                && !self
                    .file
                    .object_stores
                    .iter()
                    .any(|o| d.location.starts_with(o.url.trim_end_matches('/')))
            {
                return Err(CatalogError::Dataset {
                    dataset: d.name.clone(),
                    problem: format!(
                        "location {} is in no declared object store ([[object_stores]])",
                        d.location
                    ),
                });
            }
        }
        for v in &self.file.views {
            let bad = |problem: String| CatalogError::View {
                view: v.name.clone(),
                problem,
            };
            if !seen.insert(v.name.as_str()) {
                return Err(bad("has the name of another dataset or view".into()));
            }
            if !is_sql_name(&v.name) {
                return Err(bad(
                    "name must be lower-case letters, digits and '_' so SQL can name it unquoted"
                        .into(),
                ));
            }
            if v.sql.trim().is_empty() {
                return Err(bad("has no sql".into()));
            }
        }
        let mut rules = std::collections::HashSet::new();
        for r in &self.file.rules {
            let bad = |problem: String| CatalogError::Rule {
                rule: r.name.clone(),
                problem,
            };
            if !rules.insert(r.name.as_str()) {
                return Err(bad("is declared twice".into()));
            }
            if !is_sql_name(&r.name) {
                return Err(bad("name must be lower-case letters, digits and '_'".into()));
            }
            for (what, sql) in [
                ("eligible", &r.eligible),
                ("served.where", &r.served.condition),
            ] {
                if sql.trim().is_empty() {
                    return Err(bad(format!("{what} is empty")));
                }
            }
            for (what, day) in [
                ("effective_from", &r.effective_from),
                ("effective_to", &r.effective_to),
            ] {
                if let Some(day) = day {
                    if !is_iso_date(day) {
                        return Err(bad(format!("{what} {day} is not a date (YYYY-MM-DD)")));
                    }
                }
            }
            for name in [&r.population, &r.served.dataset] {
                if self.dataset(name).is_none() {
                    return Err(bad(format!("reads unknown dataset {name}")));
                }
            }
        }
        if let Some(day) = &self.file.reference_date {
            if !is_iso_date(day) {
                return Err(CatalogError::Policy(format!(
                    "reference_date {day} is not a date (YYYY-MM-DD)"
                )));
            }
        }
        let mut classes = std::collections::HashSet::new();
        for rule in &self.file.masks {
            if !classes.insert(rule.class.as_str()) {
                return Err(CatalogError::Policy(format!(
                    "class {} has more than one mask rule",
                    rule.class
                )));
            }
        }
        if self.file.masks.iter().any(|r| r.mask == MaskKind::Hash) {
            self.mask_secret()?;
        }
        for l in &self.file.area_lineage {
            if self.areas.get(&l.new).is_none() && self.areas.find_prefix(&l.new).is_none() {
                return Err(CatalogError::Lineage {
                    old: l.old.clone(),
                    problem: format!("maps to {} which is not in the area tree", l.new),
                });
            }
        }
        let mut levels = std::collections::HashSet::new();
        for l in &self.file.levels {
            let bad = |problem: String| CatalogError::LevelDefaults {
                level: l.level.to_string(),
                problem,
            };
            if !levels.insert(l.level) {
                return Err(bad("is declared twice".into()));
            }
            for (name, t) in [
                ("statement_timeout", &l.statement_timeout),
                ("idle_session_timeout", &l.idle_session_timeout),
            ] {
                if let Some(t) = t {
                    duration_ms(t).ok_or_else(|| {
                        bad(format!("{name} \"{t}\" is not a time (30s, 5min, 1500)"))
                    })?;
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for u in &self.file.users {
            let bad = |problem: String| CatalogError::User {
                user: u.name.clone(),
                problem,
            };
            if !names.insert(u.name.as_str()) {
                return Err(bad("is declared twice".into()));
            }
            let area = self
                .areas
                .get(&u.area)
                .ok_or_else(|| bad(format!("area {} is not in the area tree", u.area)))?;
            if area.level != u.level {
                return Err(bad(format!(
                    "level is {} but area {} is a {}",
                    u.level, u.area, area.level
                )));
            }
            ScramVerifier::parse(&u.password).map_err(|e| bad(format!("password: {e}")))?;
            for (name, t) in [
                ("statement_timeout", &u.statement_timeout),
                ("idle_session_timeout", &u.idle_session_timeout),
            ] {
                if let Some(t) = t {
                    duration_ms(t).ok_or_else(|| {
                        bad(format!("{name} \"{t}\" is not a time (30s, 5min, 1500)"))
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Whether `s` is a calendar date written `YYYY-MM-DD` (the name of a
/// dataset's dated load).
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Names SQL can use unquoted: lower-case ASCII letters, digits and `_`.
fn is_sql_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The smallest string greater than every string starting with `p` (for
/// ASCII digit prefixes: the last digit incremented, carrying over '9').
pub fn prefix_upper_bound(p: &str) -> Option<String> {
    let mut bytes = p.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return Some(String::from_utf8(bytes).expect("ASCII"));
        }
    }
    None
}

/// Writes `bytes` to `path` so that readers see either the old or the new file,
/// never a half-written one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, false)
}

/// Writes a secret (a mask key) the way [`write_atomically`] writes a file,
/// readable by its owner only from the moment it exists.
pub fn write_secret_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, true)
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    use std::io::Write;
    let io = |e| CatalogError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("catalog"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = options.open(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    // The rename itself is durable only once the folder is synced: without
    // it a crash could bring back the old file after the new was reported.
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests;
