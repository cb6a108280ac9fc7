//! The platform's scenarios that are data, not code: policy rules
//! (政策找人) turned into governed answers.
//!
//! A rule in the catalog says who is eligible for a benefit (a condition
//! over the register) and who is served (rows of another dataset). The
//! engine asks both questions of the whole city, as the platform: a rule's
//! conditions read ages, disabilities and incomes that most users see
//! masked, and a condition over a masked birth date would answer wrongly
//! rather than fail. The answer — who is eligible but not served, who is
//! served but no longer eligible and why — is then fenced by the person's
//! area and masked by class for whoever asks, like a `link_persons` result,
//! and a rule that reveals a class a user may not see (a disability rule
//! and `health`) shows that user none of its rows.
//!
//! This module is not a rule language: conditions are SQL expressions,
//! planned by DataFusion at open (a rule that does not plan stops the engine,
//! naming the rule) and at every query.

use crate::error::sqlstate;
use crate::linkage::{in_fence, FencedRows, ResultTable};
use crate::{Engine, EngineError, Principal, Result};
use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session as CatalogSession, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::collections::BTreeSet;
use std::sync::Arc;
use zhenjie_catalog::{Catalog, Column, Dataset, Level, Placement, Rule, View};

/// The SQL name of the table function, and of the view over it.
pub const POLICY_GAPS: &str = "policy_gaps";

/// The SQL name of the view listing the catalog's rules.
pub const POLICY_RULES: &str = "policy_rules";

/// The columns of `policy_gaps`, with their comments.
pub const GAP_COLUMNS: [(&str, &str); 9] = [
    ("rule", "规则名"),
    ("title", "政策名称"),
    ("group_type", "人群类别"),
    ("benefit", "享受待遇"),
    (
        "gap",
        "unserved：符合条件未享受；ineligible：享受但不再符合条件",
    ),
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    (
        "grid_code",
        "所属网格代码（在户籍中取户籍网格，迁出者取待遇记录的网格）",
    ),
    ("reason", "原因"),
];

/// The register and served datasets' columns a rule's SQL is built on.
struct Shape {
    key: String,
    name: Option<String>,
    area: String,
    served_key: String,
    served_area: String,
}

fn bad(rule: &Rule, problem: impl std::fmt::Display) -> EngineError {
    EngineError::new(
        sqlstate::INVALID_PARAMETER_VALUE,
        format!("rule {}: {problem}", rule.name),
    )
}

fn class_column<'a>(d: &'a Dataset, class: &str, prefer: Option<&str>) -> Option<&'a str> {
    if let Some(p) = prefer {
        if d.columns.get(p).and_then(|c| c.class.as_deref()) == Some(class) {
            return Some(d.columns.get_key_value(p)?.0.as_str());
        }
    }
    d.columns
        .iter()
        .find(|(_, c)| c.class.as_deref() == Some(class))
        .map(|(n, _)| n.as_str())
}

fn area_column(d: &Dataset) -> Option<&str> {
    match &d.placement {
        Some(Placement::Column { column }) => Some(column),
        _ => None,
    }
}

fn shape(catalog: &Catalog, rule: &Rule) -> Result<Shape> {
    let dataset = |name: &str| {
        catalog
            .dataset(name)
            .ok_or_else(|| bad(rule, format!("reads unknown dataset {name}")))
    };
    let population = dataset(&rule.population)?;
    let served = dataset(&rule.served.dataset)?;
    let key = class_column(population, "id_number", None).ok_or_else(|| {
        bad(
            rule,
            format!("{} has no column of class id_number", population.name),
        )
    })?;
    let served_key = class_column(served, "id_number", Some(key)).ok_or_else(|| {
        bad(
            rule,
            format!("{} has no column of class id_number", served.name),
        )
    })?;
    let placed = |d: &Dataset| {
        area_column(d).map(str::to_string).ok_or_else(|| {
            bad(
                rule,
                format!(
                    "{} must be placed by an area column, so each row has an area",
                    d.name
                ),
            )
        })
    };
    Ok(Shape {
        key: key.to_string(),
        name: class_column(population, "name", None).map(str::to_string),
        area: placed(population)?,
        served_key: served_key.to_string(),
        served_area: placed(served)?,
    })
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The condition that the policy is in force on the reference date.
fn in_force(rule: &Rule) -> String {
    let mut parts = vec!["true".to_string()];
    if let Some(from) = &rule.effective_from {
        parts.push(format!("reference_date() >= DATE {}", literal(from)));
    }
    if let Some(to) = &rule.effective_to {
        parts.push(format!("reference_date() < DATE {}", literal(to)));
    }
    parts.join(" AND ")
}

/// The two queries of a rule: the eligible nobody serves, and the served
/// who are not eligible, each as `(gap, id_number, name, grid_code, reason)`.
pub(crate) fn compile(catalog: &Catalog, rule: &Rule) -> Result<[String; 2]> {
    let s = shape(catalog, rule)?;
    let population = &rule.population;
    let served = &rule.served.dataset;
    let name = s
        .name
        .as_ref()
        .map(|n| format!("p.{n}"))
        .unwrap_or_else(|| "CAST(NULL AS VARCHAR)".into());
    let (key, area, skey, sarea) = (&s.key, &s.area, &s.served_key, &s.served_area);
    let (eligible, condition, force) = (&rule.eligible, &rule.served.condition, in_force(rule));
    let unserved = format!(
        "SELECT 'unserved' AS gap, p.{key} AS id_number, {name} AS name, p.{area} AS grid_code, \
           {reason} AS reason \
         FROM {population} p \
         WHERE ({eligible}) AND ({force}) \
           AND NOT EXISTS (SELECT 1 FROM {served} s WHERE s.{skey} = p.{key} AND ({condition}))",
        reason = literal(Rule::UNSERVED),
    );
    let mut reason = format!(
        "CASE WHEN p.{key} IS NULL THEN {} WHEN NOT ({force}) THEN {}",
        literal(Rule::NOT_REGISTERED),
        literal(Rule::NOT_IN_FORCE)
    );
    for exit in &rule.exits {
        reason.push_str(&format!(
            " WHEN ({}) THEN {}",
            exit.when,
            literal(&exit.reason)
        ));
    }
    reason.push_str(&format!(" ELSE {} END", literal(Rule::NO_LONGER_ELIGIBLE)));
    let ineligible = format!(
        "WITH served AS (SELECT s.{skey} AS k, min(s.{sarea}) AS a FROM {served} s \
                         WHERE ({condition}) GROUP BY s.{skey}), \
              eligible AS (SELECT p.{key} AS k FROM {population} p WHERE ({eligible}) AND ({force})) \
         SELECT 'ineligible' AS gap, served.k AS id_number, {name} AS name, \
           coalesce(p.{area}, served.a) AS grid_code, {reason} AS reason \
         FROM served LEFT JOIN {population} p ON p.{key} = served.k \
         WHERE NOT EXISTS (SELECT 1 FROM eligible e WHERE e.k = served.k)"
    );
    Ok([unserved, ineligible])
}

/// A context over the raw datasets with the domain functions, as the
/// platform plans: for checking catalog SQL and for answering rules.
pub(crate) fn raw_context(engine: &Engine) -> Result<SessionContext> {
    let config = SessionConfig::new().with_target_partitions(engine.options().target_partitions);
    let ctx = SessionContext::new_with_config_rt(config, engine.runtime().clone());
    for d in &engine.catalog().file.datasets {
        if let Some(t) = engine.table(&d.name) {
            ctx.register_table(d.name.as_str(), t.clone())?;
        }
    }
    zhenjie_udfs::register_all(&ctx);
    ctx.register_udf(reference_date_udf(engine.catalog()));
    Ok(ctx)
}

/// Plans both queries of every rule, so a rule that cannot work stops the
/// engine from opening, naming the rule.
pub(crate) async fn check_rules(engine: &Engine) -> Result<()> {
    let catalog = engine.catalog();
    if catalog.file.rules.is_empty() {
        return Ok(());
    }
    let ctx = raw_context(engine)?;
    for rule in &catalog.file.rules {
        for sql in compile(catalog, rule)? {
            let plan = ctx
                .state()
                .create_logical_plan(&sql)
                .await
                .map_err(|e| bad(rule, e))?;
            // Planned to the physical level too: an unsupported subquery
            // shape is only found there.
            ctx.state()
                .create_physical_plan(&plan)
                .await
                .map_err(|e| bad(rule, e))?;
        }
    }
    Ok(())
}

/// `reference_date()`: the day the data describes (the catalog's
/// `reference_date`, or today), the date rules measure ages and deadlines on.
pub(crate) fn reference_date_udf(catalog: &Catalog) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    let fixed = catalog.file.reference_date.as_deref().and_then(days_of);
    create_udf(
        "reference_date",
        vec![],
        DataType::Date32,
        Volatility::Stable,
        Arc::new(move |_: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(ScalarValue::Date32(Some(
                fixed.unwrap_or_else(today),
            ))))
        }),
    )
}

fn today() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86_400) as i32
}

fn days_of(day: &str) -> Option<i32> {
    let y = day.get(0..4)?.parse().ok()?;
    let m = day.get(5..7)?.parse().ok()?;
    let d = day.get(8..10)?.parse().ok()?;
    Some(zhenjie_udfs::calendar::days_from_civil(y, m, d))
}

/// The city's gaps for every rule, and what they were computed from.
struct Gaps {
    batch: RecordBatch,
    key: GapsKey,
}

#[derive(PartialEq)]
struct GapsKey {
    files: crate::speed::plan_cache::Files,
    day: i32,
}

/// The last answer, kept while no file of any dataset changes (and, with no
/// fixed reference date, for the day): every town's dashboard reads the
/// same city answer, fenced for itself. One computation at a time: callers
/// that arrive while it runs wait for its answer.
#[derive(Default)]
pub(crate) struct GapsCache(tokio::sync::Mutex<Option<Arc<Gaps>>>);

impl std::fmt::Debug for GapsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GapsCache")
    }
}

fn gaps_schema() -> SchemaRef {
    Arc::new(Schema::new(
        GAP_COLUMNS
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, !matches!(*n, "rule" | "gap")))
            .collect::<Vec<_>>(),
    ))
}

/// Computes the city's policy gaps now, so the first user of the day does
/// not wait for them (`serve` calls it in the background after opening).
/// Returns how many gaps there are.
pub(crate) async fn prepare(engine: &Engine) -> Result<usize> {
    if engine.catalog().file.rules.is_empty() {
        return Ok(0);
    }
    let ctx = raw_context(engine)?;
    Ok(city_gaps(engine, &ctx.state()).await?.batch.num_rows())
}

async fn city_gaps(engine: &Engine, state: &dyn CatalogSession) -> Result<Arc<Gaps>> {
    let catalog = engine.catalog();
    let datasets: BTreeSet<String> = catalog
        .file
        .datasets
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let key = GapsKey {
        files: crate::speed::plan_cache::Files::list(engine, state, &datasets).await?,
        day: catalog
            .file
            .reference_date
            .as_deref()
            .and_then(days_of)
            .unwrap_or_else(today),
    };
    let mut kept = engine.gaps_cache().0.lock().await;
    if let Some(gaps) = kept.as_ref() {
        if gaps.key == key {
            return Ok(gaps.clone());
        }
    }
    let started = std::time::Instant::now();
    let ctx = raw_context(engine)?;
    let schema = gaps_schema();
    let mut batches = Vec::new();
    for rule in &catalog.file.rules {
        for sql in compile(catalog, rule)? {
            let frame = ctx.sql(&sql).await.map_err(|e| bad(rule, e))?;
            for b in frame.collect().await.map_err(|e| bad(rule, e))? {
                batches.push(with_rule(&schema, rule, &b)?);
            }
        }
    }
    let batch = concat_batches(&schema, &batches)?;
    tracing::info!(
        rules = catalog.file.rules.len(),
        rows = batch.num_rows(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "policy gaps computed"
    );
    let gaps = Arc::new(Gaps { batch, key });
    *kept = Some(gaps.clone());
    Ok(gaps)
}

/// A rule query's rows with the rule's own columns in front.
fn with_rule(schema: &SchemaRef, rule: &Rule, b: &RecordBatch) -> Result<RecordBatch> {
    let n = b.num_rows();
    let constant = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v; n])) };
    let mut columns = vec![
        constant(&rule.name),
        constant(&rule.title),
        constant(&rule.group),
        constant(&rule.benefit),
    ];
    for i in 0..b.num_columns() {
        columns.push(datafusion::arrow::compute::cast(
            b.column(i),
            &DataType::Utf8,
        )?);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// `policy_gaps([rule])` for one principal.
#[derive(Debug)]
pub(crate) struct PolicyGaps {
    engine: Engine,
    principal: Principal,
}

impl PolicyGaps {
    pub(crate) fn new(engine: Engine, principal: Principal) -> PolicyGaps {
        PolicyGaps { engine, principal }
    }
}

impl TableFunctionImpl for PolicyGaps {
    fn call(&self, args: &[Expr]) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let usage = || {
            datafusion::error::DataFusionError::External(Box::new(EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{POLICY_GAPS}([rule]): the optional argument is a rule name as a text literal"
                ),
            )))
        };
        let only = match args {
            [] => None,
            [Expr::Literal(ScalarValue::Utf8(Some(r)), _)] => Some(r.clone()),
            _ => return Err(usage()),
        };
        if let Some(r) = &only {
            if !self
                .engine
                .catalog()
                .file
                .rules
                .iter()
                .any(|x| &x.name == r)
            {
                return Err(datafusion::error::DataFusionError::External(Box::new(
                    EngineError::new(
                        sqlstate::UNDEFINED_OBJECT,
                        format!("rule \"{r}\" does not exist (see {POLICY_RULES})"),
                    ),
                )));
            }
        }
        Ok(Arc::new(ResultTable(GapsTable {
            engine: self.engine.clone(),
            principal: self.principal.clone(),
            only,
            schema: gaps_schema(),
        })))
    }
}

#[derive(Debug)]
struct GapsTable {
    engine: Engine,
    principal: Principal,
    only: Option<String>,
    schema: SchemaRef,
}

#[async_trait]
impl FencedRows for GapsTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn principal(&self) -> &Principal {
        &self.principal
    }

    fn masked_as(&self) -> Dataset {
        let class = |c: &str| Column {
            comment: String::new(),
            class: Some(c.to_string()),
        };
        Dataset {
            snapshots: false,
            name: POLICY_GAPS.to_string(),
            location: String::new(),
            format: zhenjie_catalog::Format::Parquet,
            comment: String::new(),
            placement: None,
            columns: [
                ("id_number".to_string(), class("id_number")),
                ("name".to_string(), class("name")),
            ]
            .into_iter()
            .collect(),
            partitions: Vec::new(),
        }
    }

    async fn rows(&self, state: &dyn CatalogSession) -> Result<RecordBatch> {
        let gaps = city_gaps(&self.engine, state).await?;
        let catalog = self.engine.catalog();
        // Rules whose rows reveal a class this principal sees masked.
        let hidden: BTreeSet<&str> = catalog
            .file
            .rules
            .iter()
            .filter(|r| {
                r.class
                    .as_deref()
                    .is_some_and(|c| catalog.mask_for(c, &self.principal.roles).is_some())
            })
            .map(|r| r.name.as_str())
            .collect();
        let ranges = (self.principal.level != Level::City)
            .then(|| catalog.fence_ranges(self.principal.area.prefix()));
        let b = &gaps.batch;
        let text = |i: usize| b.column(i).as_any().downcast_ref::<StringArray>().cloned();
        let (Some(rules), Some(areas)) = (text(0), text(7)) else {
            return Err(EngineError::new(
                sqlstate::INTERNAL_ERROR,
                "policy gaps: columns are not text",
            ));
        };
        let keep: datafusion::arrow::array::BooleanArray = (0..b.num_rows())
            .map(|i| {
                let rule = rules.value(i);
                let shown = !hidden.contains(rule)
                    && self.only.as_deref().is_none_or(|o| o == rule)
                    && ranges
                        .as_ref()
                        .is_none_or(|r| in_fence(r, (!areas.is_null(i)).then(|| areas.value(i))));
                Some(shown)
            })
            .collect();
        Ok(filter_record_batch(b, &keep)?)
    }
}

/// The prefix of the view each report template is reachable as.
pub const REPORT_VIEW_PREFIX: &str = "report_";

/// The views the engine adds: for the catalog's rules, `policy_gaps` (every
/// gap this user may see) and `policy_rules` (the rules themselves); for
/// each report template, `report_<name>`, so BI tools reach the numbers a
/// form shows (labels as column comments).
pub(crate) fn views(catalog: &Catalog) -> Vec<View> {
    let reports = catalog.file.reports.iter().map(|r| View {
        name: format!("{REPORT_VIEW_PREFIX}{}", r.name),
        sql: r.sql.clone(),
        comment: if r.description.is_empty() {
            r.title.clone()
        } else {
            format!("{}：{}", r.title, r.description)
        },
        levels: vec![],
        columns: r
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.label.clone()))
            .collect(),
    });
    if catalog.file.rules.is_empty() {
        return reports.collect();
    }
    let rows: Vec<String> = catalog
        .file
        .rules
        .iter()
        .map(|r| {
            let opt = |v: &Option<String>| {
                v.as_deref()
                    .map(|d| format!("DATE {}", literal(d)))
                    .unwrap_or_else(|| "CAST(NULL AS DATE)".into())
            };
            format!(
                "({}, {}, {}, {}, {}, {}, {}, {})",
                literal(&r.name),
                literal(&r.title),
                literal(&r.group),
                literal(&r.benefit),
                literal(&r.basis),
                opt(&r.effective_from),
                opt(&r.effective_to),
                literal(&r.eligible),
            )
        })
        .collect();
    vec![
        View {
            name: POLICY_GAPS.to_string(),
            sql: format!("SELECT * FROM {POLICY_GAPS}()"),
            comment: "政策找人：应享未享（unserved）与享受但不再符合条件（ineligible）的人员，按规则计算、按辖区返还".into(),
            levels: vec![],
            columns: GAP_COLUMNS
                .iter()
                .map(|(n, c)| (n.to_string(), c.to_string()))
                .collect(),
        },
        View {
            name: POLICY_RULES.to_string(),
            sql: format!(
                "SELECT * FROM (VALUES {}) AS t(rule, title, group_type, benefit, basis, effective_from, effective_to, eligible)",
                rows.join(", ")
            ),
            comment: "政策找人规则：每条规则的人群、待遇、依据、生效期与认定条件".into(),
            levels: vec![],
            columns: [
                ("rule", "规则名"),
                ("title", "政策名称"),
                ("group_type", "人群类别"),
                ("benefit", "享受待遇"),
                ("basis", "政策依据"),
                ("effective_from", "生效日期"),
                ("effective_to", "失效日期（不含）"),
                ("eligible", "认定条件（SQL）"),
            ]
            .into_iter()
            .map(|(n, c)| (n.to_string(), c.to_string()))
            .collect(),
        },
    ]
    .into_iter()
    .chain(reports)
    .collect()
}
