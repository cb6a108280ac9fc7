//! `pg_settings`, read live from the session's settings.

use super::*;

/// `pg_settings`: the session's settings as they are when a query reads them
/// (after its `SET`s). pgjdbc reads `max_index_keys` there before listing
/// foreign keys; `current_setting()` reads it; psql and Grafana the rest.
#[derive(Debug)]
pub(super) struct LiveSettings {
    pub(super) settings: Arc<std::sync::Mutex<crate::Settings>>,
}

#[async_trait]
impl TableProvider for LiveSettings {
    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        settings_schema()
    }

    fn table_type(&self) -> datafusion::datasource::TableType {
        datafusion::datasource::TableType::View
    }

    async fn scan(
        &self,
        state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        filters: &[datafusion::logical_expr::Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
        let now = self
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        MemTable::try_new(settings_schema(), vec![vec![settings_batch(&now)?]])?
            .scan(state, projection, filters, limit)
            .await
    }
}

pub(super) fn settings_schema() -> datafusion::arrow::datatypes::SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        text("name"),
        text("setting"),
        text("unit"),
        text("category"),
        text("short_desc"),
        text("extra_desc"),
        text("context"),
        text("vartype"),
        text("source"),
        text("min_val"),
        text("max_val"),
        text("enumvals"),
        text("boot_val"),
        text("reset_val"),
        text("sourcefile"),
        Field::new("sourceline", DataType::Int32, true),
        Field::new("pending_restart", DataType::Boolean, true),
    ]))
}

/// The `pg_settings` rows of some settings.
pub(super) fn settings_batch(settings: &crate::Settings) -> datafusion::error::Result<RecordBatch> {
    let rows: Vec<(&str, &str)> = settings.all().collect();
    let names = StringArray::from_iter_values(rows.iter().map(|(k, _)| *k));
    let values = StringArray::from_iter_values(rows.iter().map(|(_, v)| *v));
    let nulls = || Arc::new(StringArray::from(vec![None::<&str>; rows.len()])) as _;
    let mut columns: Vec<datafusion::arrow::array::ArrayRef> =
        vec![Arc::new(names), Arc::new(values)];
    for _ in 2..12 {
        columns.push(nulls());
    }
    columns.push(nulls());
    columns.push(Arc::new(StringArray::from_iter_values(
        rows.iter().map(|(_, v)| *v),
    )));
    columns.push(nulls());
    columns.push(Arc::new(Int32Array::from(vec![None::<i32>; rows.len()])));
    columns.push(Arc::new(datafusion::arrow::array::BooleanArray::from(
        vec![false; rows.len()],
    )));
    Ok(RecordBatch::try_new(settings_schema(), columns)?)
}
