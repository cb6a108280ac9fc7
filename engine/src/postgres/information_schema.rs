//! `information_schema` as PostgreSQL clients read it: PostgreSQL type
//! names, empty constraint and privilege views, the database's character set.

use super::*;

/// DataFusion's `information_schema` with what PostgreSQL clients also read
/// there: PostgreSQL type names (`data_type`, `udt_name`) in `columns`, and
/// the constraint, key and privilege views, empty (zhenjie tables have no
/// keys; rights are the fence).
#[derive(Debug)]
pub(super) struct PgInformationSchema {
    inner: Arc<dyn SchemaProvider>,
    columns: OnceLock<Arc<dyn TableProvider>>,
    database: String,
}

/// `information_schema.character_sets`: the one character set of a UTF8
/// database, as PostgreSQL lists it. Power BI reads it to pick the text
/// encoding of its folded SQL; with no row it assumes SQL_ASCII.
pub(super) fn character_sets(database: &str) -> datafusion::error::Result<Arc<dyn TableProvider>> {
    let names = [
        "character_set_catalog",
        "character_set_schema",
        "character_set_name",
        "character_repertoire",
        "form_of_use",
        "default_collate_catalog",
        "default_collate_schema",
        "default_collate_name",
    ];
    let values = [
        None,
        None,
        Some("UTF8"),
        Some("UCS"),
        Some("UTF8"),
        Some(database),
        None,
        None,
    ];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns = values
        .iter()
        .map(|v| Arc::new(StringArray::from(vec![*v])) as datafusion::arrow::array::ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The name under which DataFusion's own `columns` stays reachable for the
/// view that replaces it.
pub(super) const DF_COLUMNS: &str = "zhenjie_datafusion_columns";

#[async_trait]
impl SchemaProvider for PgInformationSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(
            super::empty_catalog::INFORMATION_SCHEMA
                .iter()
                .map(|(n, _)| n.to_string()),
        );
        names.push("character_sets".to_string());
        names
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        match name {
            DF_COLUMNS => self.inner.table("columns").await,
            "columns" => match self.columns.get() {
                Some(c) => Ok(Some(c.clone())),
                None => self.inner.table(name).await,
            },
            "character_sets" => character_sets(&self.database).map(Some),
            _ => {
                match super::empty_catalog::shape(super::empty_catalog::INFORMATION_SCHEMA, name) {
                    Some(shape) => super::empty_catalog::empty_table(shape).map(Some),
                    None => self.inner.table(name).await,
                }
            }
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name == DF_COLUMNS
            || name == "character_sets"
            || super::empty_catalog::shape(super::empty_catalog::INFORMATION_SCHEMA, name).is_some()
            || self.inner.table_exist(name)
    }
}

/// DataFusion's type names (as `information_schema.columns.data_type`
/// prints them) and PostgreSQL's: `(condition, data_type, udt_name)`.
pub(super) const TYPE_NAMES: &[(&str, &str, &str)] = &[
    (
        "data_type IN ('Utf8', 'Utf8View', 'LargeUtf8')",
        "text",
        "text",
    ),
    ("data_type = 'Int16'", "smallint", "int2"),
    ("data_type = 'Int32'", "integer", "int4"),
    ("data_type = 'Int64'", "bigint", "int8"),
    ("data_type = 'Float32'", "real", "float4"),
    ("data_type = 'Float64'", "double precision", "float8"),
    ("data_type = 'Boolean'", "boolean", "bool"),
    ("data_type IN ('Date32', 'Date64')", "date", "date"),
    ("data_type LIKE 'Decimal%'", "numeric", "numeric"),
    (
        "data_type LIKE 'Timestamp%' AND (data_type LIKE '%None%' OR data_type NOT LIKE '%,%')",
        "timestamp without time zone",
        "timestamp",
    ),
    (
        "data_type LIKE 'Timestamp%'",
        "timestamp with time zone",
        "timestamptz",
    ),
    ("data_type LIKE 'Interval%'", "interval", "interval"),
    ("data_type LIKE '%List%'", "ARRAY", "_text"),
    ("data_type LIKE '%Binary%'", "bytea", "bytea"),
];

/// A CASE over `data_type` giving the name `pick` chooses from [`TYPE_NAMES`].
pub(super) fn type_case(
    pick: impl Fn(&(&str, &'static str, &'static str)) -> &'static str,
) -> String {
    let arms: String = TYPE_NAMES
        .iter()
        .map(|t| format!("WHEN {} THEN '{}' ", t.0, pick(t)))
        .collect();
    format!("CASE {arms}ELSE lower(data_type) END")
}

/// Replaces the session's `information_schema` with [`PgInformationSchema`].
pub(crate) async fn install_information_schema(ctx: &SessionContext, database: &str) -> Result<()> {
    let catalog = ctx
        .catalog(database)
        .ok_or_else(|| EngineError::new("XX000", "session catalog missing"))?;
    // DataFusion answers `information_schema` itself when its config flag is
    // on, bypassing registered schemas; the session runs with the flag off
    // and this schema wraps DataFusion's provider instead.
    let inner: Arc<dyn SchemaProvider> = Arc::new(
        datafusion::catalog::information_schema::InformationSchemaProvider::new(
            ctx.state().catalog_list().clone(),
        ),
    );
    let wrapper = Arc::new(PgInformationSchema {
        inner,
        columns: OnceLock::new(),
        database: database.to_string(),
    });
    catalog.register_schema("information_schema", wrapper.clone())?;
    let pg_type = type_case(|(_, name, _)| name);
    let udt = type_case(|(_, _, udt)| udt);
    let sql = format!(
        "SELECT table_catalog, table_schema, table_name, column_name, \
                CAST(ordinal_position + 1 AS BIGINT) AS ordinal_position, \
                column_default, is_nullable, {pg_type} AS data_type, \
                character_maximum_length, character_octet_length, \
                CASE data_type WHEN 'Int16' THEN 16 WHEN 'Int32' THEN 32 WHEN 'Int64' THEN 64 \
                  WHEN 'Float32' THEN 24 WHEN 'Float64' THEN 53 ELSE numeric_precision END AS numeric_precision, \
                CASE WHEN data_type IN ('Int16', 'Int32', 'Int64', 'Float32', 'Float64') THEN 2 \
                  ELSE numeric_precision_radix END AS numeric_precision_radix, \
                CASE WHEN data_type IN ('Int16', 'Int32', 'Int64') THEN 0 ELSE numeric_scale END AS numeric_scale, \
                datetime_precision, interval_type, \
                table_catalog AS udt_catalog, CAST('pg_catalog' AS TEXT) AS udt_schema, {udt} AS udt_name, \
                CAST(NULL AS TEXT) AS collation_name, CAST(NULL AS TEXT) AS domain_name, \
                CAST('NO' AS TEXT) AS is_identity, CAST('NEVER' AS TEXT) AS is_generated, \
                CAST('NO' AS TEXT) AS is_updatable \
         FROM information_schema.{DF_COLUMNS}"
    );
    let plan = ctx.state().create_logical_plan(&sql).await?;
    let _ = wrapper
        .columns
        .set(Arc::new(ViewTable::new(plan, Some(sql))));
    Ok(())
}
