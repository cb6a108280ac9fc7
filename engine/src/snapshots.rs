//! `as_of(dataset, day)`: a dataset with snapshots as one of its older
//! loads, governed exactly as the dataset is.
//!
//! A dataset declared with `snapshots = true` keeps each nightly load in a
//! dated folder; the table of that name is the newest load (chosen when the
//! engine opens). `as_of` reads the load in force on a day — the newest on or
//! before it — or, given `0`, `-1`, …, the newest load, the one before it,
//! …, so change-detection clues (a disability certificate changed since the
//! last load) are SQL over two loads. Rows, fence and masks are those of the
//! dataset: an older load is no back door.

use crate::error::sqlstate;
use crate::{Engine, EngineError, Principal};
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session as CatalogSession, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;
use zhenjie_catalog::Dataset;

/// The SQL name of the table function.
pub const AS_OF: &str = "as_of";

/// Which load `as_of` reads.
#[derive(Debug, Clone, PartialEq)]
enum When {
    /// The newest load on or before this day (`YYYY-MM-DD`).
    Day(String),
    /// The newest load (0), the one before it (-1), …
    Back(i64),
}

fn error(code: &'static str, message: String) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(EngineError::new(code, message)))
}

fn when_of(e: &Expr) -> Option<When> {
    match e {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(s)), _) => {
            zhenjie_catalog::is_iso_date(s).then(|| When::Day(s.clone()))
        }
        Expr::Literal(ScalarValue::Date32(Some(d)), _) => {
            let (y, m, day) = zhenjie_udfs::calendar::civil_from_days(*d);
            Some(When::Day(format!("{y:04}-{m:02}-{day:02}")))
        }
        Expr::Literal(v, _) if v.data_type().is_integer() => {
            let n = v
                .cast_to(&datafusion::arrow::datatypes::DataType::Int64)
                .ok()?;
            match n {
                ScalarValue::Int64(Some(n)) if n <= 0 => Some(When::Back(n)),
                _ => None,
            }
        }
        Expr::Negative(inner) => match when_of(inner)? {
            When::Back(0) => Some(When::Back(0)),
            _ => match inner.as_ref() {
                Expr::Literal(v, _) if v.data_type().is_integer() => {
                    match v
                        .cast_to(&datafusion::arrow::datatypes::DataType::Int64)
                        .ok()?
                    {
                        ScalarValue::Int64(Some(n)) if n >= 0 => Some(When::Back(-n)),
                        _ => None,
                    }
                }
                _ => None,
            },
        },
        Expr::Cast(c) => when_of(&c.expr),
        Expr::TryCast(c) => when_of(&c.expr),
        _ => None,
    }
}

/// `as_of(dataset, day | n)` for one principal.
#[derive(Debug)]
pub(crate) struct AsOf {
    engine: Engine,
    principal: Principal,
}

impl AsOf {
    pub(crate) fn new(engine: Engine, principal: Principal) -> AsOf {
        AsOf { engine, principal }
    }
}

impl TableFunctionImpl for AsOf {
    fn call(&self, args: &[Expr]) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let usage = || {
            error(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{AS_OF}(dataset, day): dataset is a name as a text literal; day is a date \
                     (DATE '2024-05-31' or '2024-05-31'), or 0, -1, … for the newest load, the one before it, …"
                ),
            )
        };
        let [name, when] = args else {
            return Err(usage());
        };
        let Expr::Literal(ScalarValue::Utf8(Some(name)), _) = name else {
            return Err(usage());
        };
        let when = when_of(when).ok_or_else(usage)?;
        let missing = || {
            error(
                sqlstate::UNDEFINED_TABLE,
                format!("relation \"{name}\" does not exist"),
            )
        };
        let dataset = self.engine.catalog().dataset(name).ok_or_else(missing)?;
        let Some(current) = crate::governance::govern(&self.engine, dataset, &self.principal)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?
        else {
            return Err(missing());
        };
        if !dataset.snapshots {
            return Err(error(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("{AS_OF}: dataset {name} keeps no snapshots (its catalog entry has no `snapshots = true`)"),
            ));
        }
        Ok(Arc::new(AsOfTable {
            engine: self.engine.clone(),
            principal: self.principal.clone(),
            dataset: dataset.clone(),
            when,
            schema: current.schema(),
        }))
    }
}

#[derive(Debug)]
struct AsOfTable {
    engine: Engine,
    principal: Principal,
    dataset: Dataset,
    when: When,
    /// The governed schema of today's load: every load is read with it.
    schema: SchemaRef,
}

impl AsOfTable {
    /// The dated folder this call reads.
    async fn load(&self) -> crate::Result<String> {
        let location = self
            .engine
            .catalog()
            .resolve_location(&self.dataset.location);
        let loads = crate::tables::loads(self.engine.runtime(), &location).await?;
        let chosen = match &self.when {
            When::Day(day) => loads.iter().rev().find(|l| l.as_str() <= day.as_str()),
            When::Back(n) => usize::try_from(-n)
                .ok()
                .and_then(|back| loads.len().checked_sub(back + 1))
                .and_then(|i| loads.get(i)),
        };
        chosen.cloned().ok_or_else(|| {
            let asked = match &self.when {
                When::Day(d) => format!("no load on or before {d}"),
                When::Back(n) => format!("no load {} before the newest", -n),
            };
            EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!(
                    "{AS_OF}({}): {asked}; its loads are {}",
                    self.dataset.name,
                    loads.join(", ")
                ),
            )
        })
    }
}

#[async_trait]
impl TableProvider for AsOfTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
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
        let external = |e: EngineError| datafusion::error::DataFusionError::External(Box::new(e));
        let day = self.load().await.map_err(external)?;
        let location = self
            .engine
            .catalog()
            .resolve_location(&self.dataset.location);
        let raw_schema = self
            .engine
            .table(&self.dataset.name)
            .expect("checked at call")
            .schema();
        let base = crate::tables::open_at(
            &self.dataset,
            &crate::tables::load_location(&location, &day),
            state,
            Some(raw_schema),
        )
        .await
        .map_err(external)?;
        let governed =
            crate::governance::govern_over(&self.engine, &self.dataset, &self.principal, base)
                .map_err(external)?
                .ok_or_else(|| {
                    external(EngineError::new(
                        sqlstate::UNDEFINED_TABLE,
                        format!("relation \"{}\" does not exist", self.dataset.name),
                    ))
                })?;
        governed.scan(state, projection, filters, limit).await
    }
}
