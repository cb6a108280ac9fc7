//! Linkage: `link_persons(list)`, the table function that says which
//! resident each row of a department's list names, and returns the row to
//! the area where that resident lives (数据返还).
//!
//! What it computes is the `zhenjie-linkage` crate's; what this part adds is
//! who may see what of it:
//! * The link itself is computed over the whole list and the whole register,
//!   as the city would, so every level's answer is the same answer: a town
//!   gets exactly the city's result restricted to its residents, and a
//!   visitor is never forced onto a lookalike just because the real person
//!   lives in another town.
//! * Rows are then fenced like a key-placed dataset: below city level a
//!   principal gets the accepted rows whose resident lives inside their
//!   fence (the register's area column through the catalog's lineage);
//!   review and reject rows stay with the city.
//! * Masks are the list's own, and the matched identity number is masked as
//!   the register's identity number is, through the same seam as every scan;
//!   the result is a governed table, behind the same barrier.
//! * A principal who cannot see the list or the register cannot link them.
//! * `link_households` ([`households`]) groups persons into households
//!   across sources, under the same rules.
//! * A clerk's decisions on review rows (`CALL link_decide`, [`decisions`])
//!   override the model on later runs.
//!
//! Not here: the model and its estimation (`zhenjie-linkage`).

pub mod decisions;
pub mod households;
mod roles;
mod run;

pub(crate) use run::LinkCache;

use crate::governance::{apply_masks, GovernedTable};
use crate::{Engine, EngineError, Principal};
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session as CatalogSession, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::{provider_as_source, MemTable, TableType};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;
use zhenjie_catalog::{Column, Dataset, Level, Placement};
use zhenjie_linkage::LinkOptions;

/// The SQL name of the table function.
pub const LINK_PERSONS: &str = "link_persons";

/// The columns `link_persons` adds to the list's own.
pub const MATCH_COLUMNS: [(&str, &str); 6] = [
    (
        "match_id_number",
        "匹配到的居民公民身份号码（按调用者权限脱敏）",
    ),
    ("match_weight", "匹配权重（比特，Fellegi–Sunter）"),
    ("match_probability", "匹配概率"),
    (
        "match_band",
        "匹配结论：accept 接受 / review 待人工复核 / reject 未匹配",
    ),
    ("match_reasons", "各字段比对等级及分项权重"),
    (
        "match_row_key",
        "名单行键：人工复核决定（CALL link_decide）引用此键",
    ),
];

/// `link_persons(list [, register [, accept [, review]]])` for one principal.
#[derive(Debug)]
pub(crate) struct LinkPersons {
    engine: Engine,
    principal: Principal,
}

impl LinkPersons {
    pub(crate) fn new(engine: Engine, principal: Principal) -> LinkPersons {
        LinkPersons { engine, principal }
    }
}

/// An engine error as DataFusion carries it (its SQLSTATE survives).
fn external(e: EngineError) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(e))
}

impl TableFunctionImpl for LinkPersons {
    fn call(&self, args: &[Expr]) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let usage = || {
            EngineError::new(
                crate::sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{LINK_PERSONS}(list text [, register text [, accept float [, review float]]]): \
                     the list and register are dataset names"
                ),
            )
        };
        let text = |i: usize| match args.get(i) {
            Some(Expr::Literal(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
                _,
            )) => Ok(Some(s.clone())),
            None => Ok(None),
            Some(_) => Err(usage()),
        };
        let number = |i: usize| match args.get(i) {
            Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Float64) {
                Ok(ScalarValue::Float64(Some(x))) if (0.0..=1.0).contains(&x) => Ok(Some(x)),
                _ => Err(usage()),
            },
            None => Ok(None),
            Some(_) => Err(usage()),
        };
        if args.len() > 4 {
            return Err(external(usage()));
        }
        let list = text(0)
            .map_err(external)?
            .ok_or_else(|| external(usage()))?;
        let register = text(1)
            .map_err(external)?
            .unwrap_or_else(|| "persons".to_string());
        let mut options = LinkOptions::default();
        if let Some(a) = number(2).map_err(external)? {
            options.accept = a;
        }
        if let Some(r) = number(3).map_err(external)? {
            options.review = r;
        }
        if options.review > options.accept {
            return Err(external(EngineError::new(
                crate::sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{LINK_PERSONS}: review ({}) must not exceed accept ({})",
                    options.review, options.accept
                ),
            )));
        }
        Ok(Arc::new(ResultTable(
            LinkedTable::new(&self.engine, &self.principal, &list, &register, options)
                .map_err(external)?,
        )))
    }
}

/// One call of `link_persons`: the list's columns and the match columns.
#[derive(Debug)]
pub(crate) struct LinkedTable {
    engine: Engine,
    principal: Principal,
    list: Dataset,
    register: Dataset,
    /// The register's area column, through which rows are returned.
    register_area: String,
    roles: (roles::Roles, roles::Roles),
    options: LinkOptions,
    schema: SchemaRef,
}

impl LinkedTable {
    fn new(
        engine: &Engine,
        principal: &Principal,
        list: &str,
        register: &str,
        options: LinkOptions,
    ) -> crate::Result<LinkedTable> {
        let missing = |name: &str| {
            EngineError::new(
                crate::sqlstate::UNDEFINED_TABLE,
                format!("relation \"{name}\" does not exist"),
            )
        };
        // Only what the principal may see at all can be linked.
        let visible = |name: &str| -> crate::Result<Dataset> {
            let d = engine
                .catalog()
                .dataset(name)
                .ok_or_else(|| missing(name))?;
            match crate::governance::govern(engine, d, principal)? {
                Some(_) => Ok(d.clone()),
                None => Err(missing(name)),
            }
        };
        let list = visible(list)?;
        let register = visible(register)?;
        let Some(Placement::Column {
            column: register_area,
        }) = register.placement.clone()
        else {
            return Err(EngineError::new(
                crate::sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{LINK_PERSONS}: the register {} must be placed by an area column, \
                     so that each matched row can be returned to its area",
                    register.name
                ),
            ));
        };
        let list_schema = engine
            .table(&list.name)
            .ok_or_else(|| missing(&list.name))?
            .schema();
        let register_schema = engine
            .table(&register.name)
            .ok_or_else(|| missing(&register.name))?
            .schema();
        let list_roles = roles::Roles::of(&list, &list_schema)?;
        let register_roles = roles::Roles::of(&register, &register_schema)?;
        if register_roles.id_number.is_none() {
            return Err(EngineError::new(
                crate::sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{LINK_PERSONS}: the register {} has no column of class id_number",
                    register.name
                ),
            ));
        }
        for name in MATCH_COLUMNS.iter().map(|(n, _)| n) {
            if list_schema.field_with_name(name).is_ok() {
                return Err(EngineError::new(
                    crate::sqlstate::INVALID_PARAMETER_VALUE,
                    format!(
                        "{LINK_PERSONS}: the list {} already has a column {name}",
                        list.name
                    ),
                ));
            }
        }
        let mut fields: Vec<Field> = list_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        fields.extend([
            Field::new("match_id_number", DataType::Utf8, true),
            Field::new("match_weight", DataType::Float64, true),
            Field::new("match_probability", DataType::Float64, true),
            Field::new("match_band", DataType::Utf8, false),
            Field::new("match_reasons", DataType::Utf8, false),
            Field::new("match_row_key", DataType::Utf8, true),
        ]);
        Ok(LinkedTable {
            engine: engine.clone(),
            principal: principal.clone(),
            register_area,
            roles: (list_roles, register_roles),
            list,
            register,
            options,
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// The dataset the result is masked as: the list's columns with their
    /// classes, and the matched number with the register's number's class.
    fn masked_as(&self) -> Dataset {
        let mut d = self.list.clone();
        d.name = LINK_PERSONS.to_string();
        let id_class = self
            .roles
            .1
            .id_number
            .as_ref()
            .and_then(|c| self.register.columns.get(c))
            .and_then(|c| c.class.clone());
        for (name, comment) in MATCH_COLUMNS {
            d.columns.insert(
                name.to_string(),
                Column {
                    comment: comment.to_string(),
                    class: if name == "match_id_number" {
                        id_class.clone()
                    } else {
                        None
                    },
                },
            );
        }
        d
    }
}

#[async_trait]
impl FencedRows for LinkedTable {
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
        self.masked_as()
    }

    async fn rows(
        &self,
        state: &dyn CatalogSession,
    ) -> crate::Result<datafusion::arrow::array::RecordBatch> {
        let linked = run::link(self, state).await?;
        // The fence: the city sees every row; below it, accepted rows whose
        // resident lives inside the principal's fence.
        Ok(if self.principal.level == Level::City {
            linked.batch.clone()
        } else {
            let ranges = self
                .engine
                .catalog()
                .fence_ranges(self.principal.area.prefix());
            let keep: datafusion::arrow::array::BooleanArray = linked
                .areas
                .iter()
                .map(|area| Some(in_fence(&ranges, area.as_deref())))
                .collect();
            without_weights(datafusion::arrow::compute::filter_record_batch(
                &linked.batch,
                &keep,
            )?)?
        })
    }
}

/// The rows as a user below city level sees them: levels and bands, no
/// weights. Weights carry the whole register's statistics (how many
/// residents share a name, how large the register is), which the fence hides
/// there, as `pg_database_size` is NULL there.
fn without_weights(
    batch: datafusion::arrow::array::RecordBatch,
) -> crate::Result<datafusion::arrow::array::RecordBatch> {
    use datafusion::arrow::array::{new_null_array, StringArray};
    let schema = batch.schema();
    let mut columns = batch.columns().to_vec();
    for name in ["match_weight", "match_probability"] {
        let i = schema.index_of(name)?;
        columns[i] = new_null_array(&DataType::Float64, batch.num_rows());
    }
    let i = schema.index_of("match_reasons")?;
    let reasons = run::text_column(&batch, "match_reasons")?;
    columns[i] = Arc::new(
        reasons
            .iter()
            .map(|r| r.map(run::without_weights))
            .collect::<StringArray>(),
    );
    Ok(datafusion::arrow::array::RecordBatch::try_new(
        schema, columns,
    )?)
}

/// What a linkage table function computes for one principal: its rows,
/// already fenced, and the dataset whose column classes mask them.
#[async_trait]
pub(crate) trait FencedRows: std::fmt::Debug + Send + Sync {
    fn schema(&self) -> SchemaRef;
    fn engine(&self) -> &Engine;
    fn principal(&self) -> &Principal;
    /// Its columns with their classes; its name names the function.
    fn masked_as(&self) -> Dataset;
    async fn rows(
        &self,
        state: &dyn CatalogSession,
    ) -> crate::Result<datafusion::arrow::array::RecordBatch>;
}

/// A linkage result as a table, scanned as a governed dataset is: planned
/// apart from the user's query, masked, behind the fence barrier.
#[derive(Debug)]
pub(crate) struct ResultTable<T>(pub T);

#[async_trait]
impl<T: FencedRows + 'static> TableProvider for ResultTable<T> {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let batch = self.0.rows(state).await.map_err(external)?;
        let masked_as = self.0.masked_as();
        let name = masked_as.name.as_str();
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        let plan = LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(table)), None)?;
        let (plan, _) = apply_masks(self.0.engine(), &masked_as, self.0.principal(), plan)
            .map_err(|reason| {
                external(EngineError::denied(format!(
                    "permission denied for {name}: {reason}"
                )))
            })?;
        GovernedTable::over(name, plan.build()?)
            .scan(state, projection, filters, limit)
            .await
    }
}

/// Whether a raw area code lies in one of a fence's ranges.
pub(crate) fn in_fence(ranges: &[(String, Option<String>)], code: Option<&str>) -> bool {
    code.is_some_and(|a| {
        ranges
            .iter()
            .any(|(lo, hi)| a >= lo.as_str() && hi.as_deref().is_none_or(|h| a < h))
    })
}
