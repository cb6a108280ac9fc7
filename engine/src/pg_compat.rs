//! What clients expect of a PostgreSQL catalog beyond what
//! `datafusion-pg-catalog` provides: table and column comments in
//! `pg_description` (from the zhenjie catalog, and for built-in tables such as
//! `audit_log` from the engine, for the tables this principal can see),
//! `col_description`/`obj_description`, and rewrites of the few
//! psql catalog idioms DataFusion cannot plan.

use crate::{Engine, EngineError, Result};
use async_trait::async_trait;
use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::datasource::ViewTable;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

/// Replaces the session's `pg_catalog` with one whose `pg_description` holds
/// the catalog's comments for the tables registered in this session.
pub(crate) async fn install_comments(
    ctx: &SessionContext,
    engine: &Engine,
    settings: Arc<std::sync::Mutex<crate::Settings>>,
) -> Result<std::collections::HashMap<String, i32>> {
    let database = &engine.catalog().file.database;
    let catalog = ctx
        .catalog(database)
        .ok_or_else(|| EngineError::new("XX000", "session catalog missing"))?;
    let inner = catalog
        .schema("pg_catalog")
        .ok_or_else(|| EngineError::new("XX000", "pg_catalog missing"))?;
    let visible: Vec<String> = catalog
        .schema(crate::session::SCHEMA)
        .map(|s| s.table_names())
        .unwrap_or_default();
    let (mut tables, mut columns, mut texts) = (Vec::new(), Vec::new(), Vec::new());
    for d in &engine.catalog().file.datasets {
        if !visible.contains(&d.name) {
            continue;
        }
        if !d.comment.is_empty() {
            tables.push(d.name.clone());
            columns.push(None);
            texts.push(d.comment.clone());
        }
        for (name, c) in &d.columns {
            if !c.comment.is_empty() {
                tables.push(d.name.clone());
                columns.push(Some(name.clone()));
                texts.push(c.comment.clone());
            }
        }
    }
    for v in &engine.catalog().file.views {
        if !visible.contains(&v.name) {
            continue;
        }
        if !v.comment.is_empty() {
            tables.push(v.name.clone());
            columns.push(None);
            texts.push(v.comment.clone());
        }
        for (name, comment) in &v.columns {
            tables.push(v.name.clone());
            columns.push(Some(name.clone()));
            texts.push(comment.clone());
        }
    }
    if visible.iter().any(|t| t == crate::audit::TABLE) {
        tables.push(crate::audit::TABLE.to_string());
        columns.push(None);
        texts.push(crate::audit::TABLE_COMMENT.to_string());
        for (name, comment) in crate::audit::COLUMN_COMMENTS {
            tables.push(crate::audit::TABLE.to_string());
            columns.push(Some(name.to_string()));
            texts.push(comment.to_string());
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(tables)),
            Arc::new(StringArray::from(columns)),
            Arc::new(StringArray::from(texts)),
        ],
    )?;
    let comments: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(schema, vec![vec![batch]])?);
    let builtin_proc = inner.table("pg_proc").await?;
    let wrapper = Arc::new(CommentedPgCatalog {
        settings: Arc::new(LiveSettings { settings }),
        inner,
        comments,
        functions: functions_table()?,
        description: OnceLock::new(),
        proc: OnceLock::new(),
        types: OnceLock::new(),
        attributes: OnceLock::new(),
    });
    catalog.register_schema("pg_catalog", wrapper.clone())?;
    let sql = "SELECT CAST(c.oid AS INT) AS objoid, CAST(1259 AS INT) AS classoid, CAST(0 AS INT) AS objsubid, d.description \
               FROM pg_catalog.pg_class c JOIN pg_catalog.zhenjie_comments d \
                 ON c.relname = d.table_name AND d.column_name IS NULL \
               UNION ALL \
               SELECT CAST(c.oid AS INT), CAST(1259 AS INT), CAST(a.attnum AS INT), d.description \
               FROM pg_catalog.pg_class c \
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
               JOIN pg_catalog.zhenjie_comments d ON c.relname = d.table_name AND a.attname = d.column_name \
               UNION ALL \
               SELECT f.oid, CAST(1255 AS INT), CAST(0 AS INT), f.description FROM pg_catalog.zhenjie_functions f";
    let plan = ctx.state().create_logical_plan(sql).await?;
    let view: Arc<dyn TableProvider> = Arc::new(ViewTable::new(plan, Some(sql.to_string())));
    let _ = wrapper.description.set(view);
    if let Some(builtin) = builtin_proc {
        if let Some(proc) = proc_with_functions(ctx, builtin).await? {
            let _ = wrapper.proc.set(proc);
        }
    }
    if let Some(raw) = wrapper.inner.table("pg_type").await? {
        let _ = wrapper.types.set(types_view(ctx, &raw).await?);
    }
    let oids = settle_oids(ctx).await?;
    let definitions = engine
        .catalog()
        .file
        .views
        .iter()
        .filter(|v| visible.contains(&v.name))
        .filter_map(|v| Some((*oids.get(&format!("public.{}", v.name))?, v.sql.clone())))
        .collect();
    ctx.register_udf(viewdef_udf(definitions));
    if let Some(raw) = wrapper.inner.table("pg_attribute").await? {
        let typmods = typmods_table(ctx, database, &oids).await?;
        let _ = wrapper.attributes.set(attributes_view(raw, typmods)?);
    }
    Ok(oids)
}

/// `pg_get_viewdef(view [, pretty])`: the SQL of a catalog view this session
/// can see (SQLAlchemy's `get_view_definition`, DBeaver's view source), NULL
/// for anything else.
fn viewdef_udf(
    definitions: std::collections::HashMap<i32, String>,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, Signature, TypeSignature, Volatility,
    };
    #[derive(Debug)]
    struct ViewDef(std::collections::HashMap<i32, String>, Signature);
    impl PartialEq for ViewDef {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }
    impl Eq for ViewDef {}
    impl std::hash::Hash for ViewDef {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            let mut keys: Vec<_> = self.0.keys().collect();
            keys.sort();
            keys.hash(state);
        }
    }
    impl datafusion::logical_expr::ScalarUDFImpl for ViewDef {
        fn name(&self) -> &str {
            "pg_get_viewdef"
        }
        fn signature(&self) -> &Signature {
            &self.1
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Utf8)
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let oids = args.args[0].clone().into_array(args.number_rows)?;
            let oids = datafusion::arrow::compute::cast(&oids, &DataType::Int32)?;
            let oids = oids.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
            let out: StringArray = (0..oids.len())
                .map(|i| {
                    (!oids.is_null(i))
                        .then(|| self.0.get(&oids.value(i)).cloned())
                        .flatten()
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(ViewDef(
        definitions,
        Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Any(2)],
            Volatility::Stable,
        ),
    ))
}

/// `(attrelid, attnum, atttypmod)` of the columns whose type has a modifier
/// PostgreSQL shows: `numeric(p,s)` is `((p << 16) | s) + 4`.
async fn typmods_table(
    ctx: &SessionContext,
    database: &str,
    oids: &std::collections::HashMap<String, i32>,
) -> Result<Arc<dyn TableProvider>> {
    let (mut rel, mut num, mut typmod) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(public) = ctx
        .catalog(database)
        .and_then(|c| c.schema(crate::session::SCHEMA))
    {
        for name in public.table_names() {
            let (Some(oid), Some(table)) = (
                oids.get(&format!("public.{name}")),
                public.table(&name).await?,
            ) else {
                continue;
            };
            for (i, field) in table.schema().fields().iter().enumerate() {
                if let DataType::Decimal128(p, s) | DataType::Decimal256(p, s) = field.data_type() {
                    rel.push(*oid);
                    num.push(i as i32 + 1);
                    typmod.push(((i32::from(*p) << 16) | i32::from(*s)) + 4);
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("attrelid", DataType::Int32, false),
        Field::new("attnum", DataType::Int32, false),
        Field::new("typmod", DataType::Int32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(rel)),
            Arc::new(Int32Array::from(num)),
            Arc::new(Int32Array::from(typmod)),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// `pg_attribute` with `atttypmod` filled in where PostgreSQL has one
/// (the crate says -1 everywhere): `format_type` then prints numeric(12,2),
/// and pgjdbc/SQLAlchemy read precision and scale.
fn attributes_view(
    raw: Arc<dyn TableProvider>,
    typmods: Arc<dyn TableProvider>,
) -> datafusion::error::Result<Arc<dyn TableProvider>> {
    use datafusion::functions::expr_fn::coalesce;
    use datafusion::logical_expr::{cast, JoinType, LogicalPlanBuilder};
    use datafusion::prelude::col;
    let schema = raw.schema();
    let typed = |name: &str| -> DataType {
        schema
            .field_with_name(name)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Int32)
    };
    let typmods = LogicalPlanBuilder::scan(
        "zm",
        datafusion::datasource::provider_as_source(typmods),
        None,
    )?
    .project(vec![
        cast(col("zm.attrelid"), typed("attrelid")).alias("zm_rel"),
        cast(col("zm.attnum"), typed("attnum")).alias("zm_num"),
        col("zm.typmod").alias("zm_typmod"),
    ])?
    .build()?;
    let joined = LogicalPlanBuilder::scan(
        "pg_attribute",
        datafusion::datasource::provider_as_source(raw.clone()),
        None,
    )?
    .join(
        typmods,
        JoinType::Left,
        (
            vec![
                datafusion::common::Column::new(Some("pg_attribute"), "attrelid"),
                datafusion::common::Column::new(Some("pg_attribute"), "attnum"),
            ],
            vec![
                datafusion::common::Column::new_unqualified("zm_rel"),
                datafusion::common::Column::new_unqualified("zm_num"),
            ],
        ),
        None,
    )?;
    let exprs = schema
        .fields()
        .iter()
        .map(|f| {
            let c = col(datafusion::common::Column::new(
                Some("pg_attribute"),
                f.name(),
            ));
            if f.name() == "atttypmod" {
                cast(coalesce(vec![col("zm_typmod"), c]), f.data_type().clone()).alias("atttypmod")
            } else {
                c.alias(f.name())
            }
        })
        .collect::<Vec<_>>();
    let plan = joined.project(exprs)?.build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// `datafusion-pg-catalog` numbers relations in the order it first meets
/// them, and DataFusion lists tables in hash order, so a table's OID changed
/// from one connection to the next — and tools that keep OIDs across their
/// pooled connections (DBeaver, Metabase) mixed tables up. Listing every
/// level in sorted order, and making the first look a full `pg_class` scan
/// (see [`settle_oids`]), gives each table the same OID in every session of
/// the same principal.
#[derive(Debug, Clone)]
struct SortedCatalogs(Arc<dyn datafusion::catalog::CatalogProviderList>);

#[async_trait]
impl datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo for SortedCatalogs {
    async fn catalog_names(&self) -> datafusion::error::Result<Vec<String>> {
        let mut names = datafusion::catalog::CatalogProviderList::catalog_names(self.0.as_ref());
        names.sort();
        Ok(names)
    }

    async fn schema_names(&self, catalog: &str) -> datafusion::error::Result<Option<Vec<String>>> {
        let mut names = self.0.schema_names(catalog).await?;
        if let Some(n) = names.as_mut() {
            n.sort();
        }
        Ok(names)
    }

    async fn table_names(
        &self,
        catalog: &str,
        schema: &str,
    ) -> datafusion::error::Result<Option<Vec<String>>> {
        let mut names = self.0.table_names(catalog, schema).await?;
        if let Some(n) = names.as_mut() {
            n.sort();
        }
        Ok(names)
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> datafusion::error::Result<Option<datafusion::arrow::datatypes::SchemaRef>> {
        self.0.table_schema(catalog, schema, table).await
    }

    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> datafusion::error::Result<Option<datafusion::datasource::TableType>> {
        self.0.table_type(catalog, schema, table).await
    }
}

/// The static half of `pg_catalog` (pg_type, pg_proc, …), decoded once per
/// process.
fn static_tables() -> Result<Arc<datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables>> {
    static TABLES: OnceLock<
        std::result::Result<Arc<datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables>, String>,
    > = OnceLock::new();
    TABLES
        .get_or_init(|| {
            datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables::try_new()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| EngineError::new("XX000", format!("pg_catalog tables: {e}")))
}

/// Replaces the `pg_catalog` that `setup_pg_catalog` registered with one that
/// lists relations in sorted order (its functions stay registered).
pub(crate) fn install_sorted_catalog(ctx: &SessionContext, database: &str) -> Result<()> {
    use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
    let provider = datafusion_pg_catalog::pg_catalog::PgCatalogSchemaProvider::try_new(
        SortedCatalogs(ctx.state().catalog_list().clone()),
        static_tables()?,
        EmptyContextProvider,
    )?;
    ctx.catalog(database)
        .ok_or_else(|| EngineError::new("XX000", "session catalog missing"))?
        .register_schema("pg_catalog", Arc::new(provider))?;
    Ok(())
}

/// Scans `pg_class` once, so OIDs are handed out in its (sorted) order before
/// any other catalog query can take some first, and registers
/// `zhenjie_regclass(text)`, which resolves relation names computed per row
/// (`(schema || '.' || name)::regclass`) from the OIDs just settled.
async fn settle_oids(ctx: &SessionContext) -> Result<std::collections::HashMap<String, i32>> {
    use datafusion::arrow::array::AsArray;
    let batches = ctx
        .sql(
            "SELECT CAST(c.oid AS INT), n.nspname, c.relname FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid",
        )
        .await?
        .collect()
        .await?;
    let mut oids = std::collections::HashMap::new();
    let mut visible = std::collections::HashSet::new();
    for b in &batches {
        let oid = datafusion::arrow::compute::cast(b.column(0), &DataType::Int32)?;
        let oid = oid.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        let ns = datafusion::arrow::compute::cast(b.column(1), &DataType::Utf8)?;
        let rel = datafusion::arrow::compute::cast(b.column(2), &DataType::Utf8)?;
        let (ns, rel) = (ns.as_string::<i32>(), rel.as_string::<i32>());
        for i in 0..b.num_rows() {
            let oid = match system_relation_oid(rel.value(i)) {
                Some(fixed) if ns.value(i) == "pg_catalog" => fixed,
                _ => oid.value(i),
            };
            oids.insert(format!("{}.{}", ns.value(i), rel.value(i)), oid);
            if matches!(ns.value(i), "public" | "pg_catalog") {
                visible.insert(oid);
            }
        }
    }
    ctx.register_udf(regclass_udf(oids.clone()));
    ctx.register_udf(table_is_visible_udf(visible));
    Ok(oids)
}

/// `pg_table_is_visible(oid)`: whether the relation is on the search path
/// (`public`, then `pg_catalog`) — not `information_schema`, which tools
/// listing "the tables" (SQLAlchemy, psql) must not mix in.
fn table_is_visible_udf(
    visible: std::collections::HashSet<i32>,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, AsArray, BooleanArray};
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        "pg_table_is_visible",
        vec![DataType::Int32],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(move |args: &[ColumnarValue]| {
            let oids = ColumnarValue::values_to_arrays(args)?;
            let oids = oids[0].as_primitive::<datafusion::arrow::datatypes::Int32Type>();
            let out: BooleanArray = (0..oids.len())
                .map(|i| (!oids.is_null(i)).then(|| visible.contains(&oids.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// `zhenjie_regclass(name)`: a relation's OID from its (optionally
/// schema-qualified) name, NULL if there is no such relation here.
fn regclass_udf(
    oids: std::collections::HashMap<String, i32>,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        "zhenjie_regclass",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Stable,
        Arc::new(move |args: &[ColumnarValue]| {
            let names = ColumnarValue::values_to_arrays(args)?;
            let names = names[0].as_string::<i32>();
            let out: Int32Array = (0..names.len())
                .map(|i| {
                    if names.is_null(i) {
                        return None;
                    }
                    let name = names.value(i).replace('"', "");
                    let qualified = if name.contains('.') {
                        name
                    } else if let Some(oid) = oids.get(&format!("public.{name}")) {
                        return Some(*oid);
                    } else {
                        format!("pg_catalog.{name}")
                    };
                    oids.get(&qualified).copied()
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// SQL type names PostgreSQL clients send that DataFusion's planner does not
/// know, on top of the crate's oid aliases: `json`, `jsonb`, `uuid` and
/// `name` values are carried as text, the first three marked with their
/// PostgreSQL type ([`crate::PG_TYPE_KEY`]) so clients receive them as such.
#[derive(Debug)]
struct PgTypePlanner(datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner);

impl datafusion::logical_expr::planner::TypePlanner for PgTypePlanner {
    fn plan_type_field(
        &self,
        sql_type: &datafusion::sql::sqlparser::ast::DataType,
    ) -> datafusion::error::Result<Option<datafusion::arrow::datatypes::FieldRef>> {
        use datafusion::sql::sqlparser::ast::DataType as T;
        let name = match sql_type {
            // `varchar` is reported as such (its length is not kept); text
            // stays text.
            T::Varchar(_) | T::CharacterVarying(_) => Some("varchar".to_string()),
            T::JSON => Some("json".to_string()),
            T::JSONB => Some("jsonb".to_string()),
            T::Uuid => Some("uuid".to_string()),
            T::Custom(name, args) if args.is_empty() => Some(name.to_string().to_ascii_lowercase()),
            _ => None,
        };
        let marked = match name.as_deref() {
            Some("varchar") => Some("varchar"),
            Some("json" | "pg_catalog.json") => Some("json"),
            Some("jsonb" | "pg_catalog.jsonb") => Some("jsonb"),
            Some("uuid" | "pg_catalog.uuid") => Some("uuid"),
            Some("name" | "pg_catalog.name") => None,
            _ => return self.0.plan_type_field(sql_type),
        };
        let mut field = Field::new("", DataType::Utf8, true);
        if let Some(pg_type) = marked {
            field =
                field.with_metadata([(crate::PG_TYPE_KEY.to_string(), pg_type.to_string())].into());
        }
        Ok(Some(Arc::new(field)))
    }
}

/// Installs [`PgTypePlanner`] in place of the crate's type planner.
pub(crate) fn install_type_planner(ctx: &SessionContext) {
    use datafusion::execution::session_state::SessionStateBuilder;
    let state = ctx.state_ref();
    let existing = state.read().clone();
    let new_state = SessionStateBuilder::new_from_existing(existing)
        .with_type_planner(Arc::new(PgTypePlanner(
            datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner,
        )))
        .build();
    *state.write() = new_state;
}

/// First oid of zhenjie's own functions in `pg_proc` (above PostgreSQL's
/// built-in range).
const FUNCTION_OID_BASE: i32 = 900_000;

/// zhenjie's SQL functions with their documentation, as a table
/// (`oid, proname, prokind, args, result, description`).
fn functions_table() -> Result<Arc<dyn TableProvider>> {
    let funcs = zhenjie_udfs::function_catalog();
    let names = |syntax: &str| -> Vec<String> {
        match (syntax.find('('), syntax.rfind(')')) {
            (Some(a), Some(b)) if b > a => syntax[a + 1..b]
                .split(',')
                // Optional arguments are documented in brackets.
                .map(|n| n.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace()))
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("oid", DataType::Int32, false),
        Field::new("proname", DataType::Utf8, false),
        Field::new("prokind", DataType::Utf8, false),
        Field::new("args", DataType::Utf8, false),
        Field::new("result", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, false),
        Field::new("rettype", DataType::Int32, true),
        Field::new("argtypes", DataType::Utf8, false),
        Field::new("argnames", DataType::Utf8, false),
        Field::new("nargs", DataType::Int16, false),
    ]));
    let scalars = zhenjie_udfs::all_scalar_udfs();
    let aggregates = zhenjie_udfs::all_aggregate_udfs();
    struct Row {
        args: String,
        result: Option<String>,
        rettype: Option<i32>,
        argtypes: String,
        argnames: String,
        nargs: i16,
    }
    let rows: Vec<Row> = funcs
        .iter()
        .map(|f| {
            let names = names(&f.documentation.syntax_example);
            let signature = match f.kind {
                zhenjie_udfs::FunctionKind::Aggregate => aggregates
                    .iter()
                    .find(|u| u.name() == f.name)
                    .map(|u| u.signature().clone()),
                _ => scalars
                    .iter()
                    .find(|u| u.name() == f.name)
                    .map(|u| u.signature().clone()),
            };
            // The documented arguments' types, as the signature asks for them
            // (text where it does not say).
            let types: Vec<DataType> =
                match signature.map(|s| argument_types(&s.type_signature, names.len())) {
                    Some(Some(t)) => t,
                    _ => vec![DataType::Utf8; names.len()],
                };
            let ret = match f.kind {
                zhenjie_udfs::FunctionKind::Aggregate => aggregates
                    .iter()
                    .find(|u| u.name() == f.name)
                    .and_then(|u| u.return_type(&types).ok()),
                _ => scalars
                    .iter()
                    .find(|u| u.name() == f.name)
                    .and_then(|u| u.return_type(&types).ok()),
            };
            Row {
                args: names
                    .iter()
                    .zip(&types)
                    .map(|(n, t)| format!("{n} {}", pg_type_name(t)))
                    .collect::<Vec<_>>()
                    .join(", "),
                result: ret.as_ref().map(pg_type_name),
                rettype: ret.as_ref().and_then(pg_type_oid),
                argtypes: types
                    .iter()
                    .map(|t| pg_type_oid(t).unwrap_or(25).to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                argnames: format!("{{{}}}", names.join(",")),
                nargs: names.len() as i16,
            }
        })
        .collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from_iter_values(
                (0..funcs.len() as i32).map(|i| FUNCTION_OID_BASE + i),
            )),
            Arc::new(StringArray::from_iter_values(
                funcs.iter().map(|f| f.name.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(funcs.iter().map(
                |f| match f.kind {
                    zhenjie_udfs::FunctionKind::Aggregate => "a",
                    _ => "f",
                },
            ))),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.args.as_str()),
            )),
            Arc::new(StringArray::from_iter(
                rows.iter().map(|r| r.result.as_deref()),
            )),
            Arc::new(StringArray::from_iter_values(
                funcs.iter().map(|f| f.documentation.description.as_str()),
            )),
            Arc::new(Int32Array::from_iter(rows.iter().map(|r| r.rettype))),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.argtypes.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.argnames.as_str()),
            )),
            Arc::new(datafusion::arrow::array::Int16Array::from_iter_values(
                rows.iter().map(|r| r.nargs),
            )),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The types a signature asks for, for a call with `n` arguments: the
/// variant of that many arguments (or the longest), each argument's native
/// type. `None` when the signature does not say.
fn argument_types(
    signature: &datafusion::logical_expr::TypeSignature,
    n: usize,
) -> Option<Vec<DataType>> {
    use datafusion::common::types::NativeType;
    use datafusion::logical_expr::{TypeSignature, TypeSignatureClass};
    match signature {
        TypeSignature::Coercible(coercions) => Some(
            coercions
                .iter()
                .map(|c| match c.desired_type() {
                    TypeSignatureClass::Native(t) => match t.native() {
                        NativeType::Int64 => DataType::Int64,
                        NativeType::Int32 => DataType::Int32,
                        NativeType::Float64 => DataType::Float64,
                        NativeType::Boolean => DataType::Boolean,
                        NativeType::Date => DataType::Date32,
                        _ => DataType::Utf8,
                    },
                    _ => DataType::Utf8,
                })
                .collect(),
        ),
        TypeSignature::Exact(types) => Some(types.clone()),
        TypeSignature::OneOf(variants) => {
            let all: Vec<Vec<DataType>> = variants
                .iter()
                .filter_map(|v| argument_types(v, n))
                .collect();
            all.iter()
                .find(|t| t.len() == n)
                .or_else(|| all.iter().max_by_key(|t| t.len()))
                .cloned()
        }
        _ => None,
    }
    .filter(|t| t.len() == n)
}

/// The OID of the PostgreSQL type zhenjie reports for an Arrow type.
fn pg_type_oid(t: &DataType) -> Option<i32> {
    Some(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 25,
        DataType::Boolean => 16,
        DataType::Int16 => 21,
        DataType::Int32 => 23,
        DataType::Int64 => 20,
        DataType::Float32 => 700,
        DataType::Float64 => 701,
        DataType::Date32 | DataType::Date64 => 1082,
        DataType::Decimal128(..) => 1700,
        DataType::List(f) if matches!(f.data_type(), DataType::Utf8) => 1009,
        _ => return None,
    })
}

/// PostgreSQL's name for an Arrow type, as `\\df` prints it.
fn pg_type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Struct(_) => "record".into(),
        DataType::List(f) | DataType::LargeList(f) => format!("{}[]", pg_type_name(f.data_type())),
        other => other.to_string().to_lowercase(),
    }
}

/// `pg_proc` with zhenjie's functions appended in schema `public`, so `\df`
/// and clients' function browsers list them. `None` if the built-in table has
/// a column type this does not know how to fill (the built-ins stay).
async fn proc_with_functions(
    ctx: &SessionContext,
    builtin: Arc<dyn TableProvider>,
) -> Result<Option<Arc<dyn TableProvider>>> {
    let mut select = Vec::new();
    for field in builtin.schema().fields() {
        let name = field.name().as_str();
        let expr = match name {
            "oid" => "f.oid".to_string(),
            "proname" => "f.proname".to_string(),
            "prokind" => "f.prokind".to_string(),
            "pronamespace" => "(SELECT max(CAST(n.oid AS INT)) FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public')".to_string(),
            "proargnames" => "f.argnames".to_string(),
            "proargtypes" => "f.argtypes".to_string(),
            "prorettype" => "f.rettype".to_string(),
            "pronargs" => "f.nargs".to_string(),
            "provolatile" => "'i'".to_string(),
            "prosrc" => "f.proname".to_string(),
            _ => {
                let ty = match field.data_type() {
                    DataType::Int32 => "INT",
                    DataType::Int16 => "SMALLINT",
                    DataType::Int64 => "BIGINT",
                    DataType::Float32 => "REAL",
                    DataType::Float64 => "DOUBLE",
                    DataType::Boolean => "BOOLEAN",
                    DataType::Utf8 => "TEXT",
                    _ => return Ok(None),
                };
                format!("CAST(NULL AS {ty})")
            }
        };
        select.push(format!("{expr} AS \"{name}\""));
    }
    let ours = ctx
        .state()
        .create_logical_plan(&format!(
            "SELECT {} FROM pg_catalog.zhenjie_functions f",
            select.join(", ")
        ))
        .await?;
    let plan = datafusion::logical_expr::LogicalPlanBuilder::scan(
        "pg_proc",
        datafusion::datasource::provider_as_source(builtin),
        None,
    )?
    .union(ours)?;
    // `proargnames` is a text[] in PostgreSQL (pgjdbc reads it with
    // `getArray`); the crate keeps `{a,b}` as text.
    let exprs: Vec<datafusion::logical_expr::Expr> = plan
        .schema()
        .fields()
        .iter()
        .map(|f| {
            use datafusion::functions::expr_fn::btrim;
            use datafusion::functions_nested::expr_fn::string_to_array;
            use datafusion::logical_expr::lit;
            let c = datafusion::prelude::col(datafusion::common::Column::new_unqualified(f.name()));
            if f.name() == "proargnames" && f.data_type() == &DataType::Utf8 {
                string_to_array(
                    btrim(vec![c, lit("{}")]),
                    lit(","),
                    lit(datafusion::common::ScalarValue::Utf8(None)),
                )
                .alias("proargnames")
            } else {
                c
            }
        })
        .collect();
    let plan = plan.project(exprs)?.build()?;
    Ok(Some(Arc::new(ViewTable::new(plan, None))))
}

/// `pg_settings`: the session's settings as they are when a query reads them
/// (after its `SET`s). pgjdbc reads `max_index_keys` there before listing
/// foreign keys; `current_setting()` reads it; psql and Grafana the rest.
#[derive(Debug)]
struct LiveSettings {
    settings: Arc<std::sync::Mutex<crate::Settings>>,
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

fn settings_schema() -> datafusion::arrow::datatypes::SchemaRef {
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
fn settings_batch(settings: &crate::Settings) -> datafusion::error::Result<RecordBatch> {
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

/// A catalog table with extra all-NULL text columns PostgreSQL has and
/// `datafusion-pg-catalog` lacks (`pg_class.relacl`: zhenjie's rights are the
/// fence, not ACLs, and NULL is what PostgreSQL shows for default rights).
fn with_null_columns(
    table: Arc<dyn TableProvider>,
    columns: &[&str],
) -> datafusion::error::Result<Arc<dyn TableProvider>> {
    use datafusion::logical_expr::{lit, LogicalPlanBuilder};
    use datafusion::prelude::col;
    let schema = table.schema();
    // System tables keep PostgreSQL's OIDs, so `classoid = 'pg_catalog.pg_class'::regclass`
    // holds whichever way the name is written.
    let system_oid = {
        let mut case = datafusion::logical_expr::case(col("relname"));
        for (name, oid) in SYSTEM_RELATION_OIDS {
            case = case.when(lit(*name), lit(*oid));
        }
        datafusion::logical_expr::when(col("relnamespace").eq(lit(11)), case.otherwise(col("oid"))?)
            .otherwise(col("oid"))?
    };
    let mut exprs: Vec<datafusion::logical_expr::Expr> = schema
        .fields()
        .iter()
        .map(|f| match f.name().as_str() {
            "oid" => datafusion::logical_expr::cast(system_oid.clone(), f.data_type().clone())
                .alias("oid"),
            name => col(datafusion::common::Column::new_unqualified(name)),
        })
        .collect();
    for c in columns {
        if schema.field_with_name(c).is_err() {
            exprs.push(lit(datafusion::common::ScalarValue::Utf8(None)).alias(*c));
        }
    }
    let plan = LogicalPlanBuilder::scan(
        "pg_class",
        datafusion::datasource::provider_as_source(table),
        None,
    )?
    .project(exprs)?
    .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// `pg_constraint` and `pg_index` with their key columns as `smallint[]`
/// (the crate stores `[1, 2]` and `1 2` text).
fn with_array_columns(
    name: &str,
    table: Arc<dyn TableProvider>,
) -> datafusion::error::Result<Arc<dyn TableProvider>> {
    use datafusion::functions::expr_fn::btrim;
    use datafusion::functions_nested::expr_fn::string_to_array;
    use datafusion::logical_expr::{cast, lit, LogicalPlanBuilder};
    use datafusion::prelude::col;
    const ARRAYS: &[&str] = &[
        "conkey",
        "confkey",
        "indkey",
        "indclass",
        "indcollation",
        "indoption",
    ];
    let schema = table.schema();
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Int16, true)));
    let exprs = schema
        .fields()
        .iter()
        .map(|f| {
            let c = col(datafusion::common::Column::new_unqualified(f.name()));
            if ARRAYS.contains(&f.name().as_str()) && f.data_type() == &DataType::Utf8 {
                let parts = if f.name().starts_with("ind") {
                    string_to_array(
                        c,
                        lit(" "),
                        lit(datafusion::common::ScalarValue::Utf8(None)),
                    )
                } else {
                    string_to_array(
                        btrim(vec![c, lit("[]")]),
                        lit(", "),
                        lit(datafusion::common::ScalarValue::Utf8(None)),
                    )
                };
                cast(parts, list.clone()).alias(f.name())
            } else {
                c
            }
        })
        .collect::<Vec<_>>();
    let plan = LogicalPlanBuilder::scan(
        name,
        datafusion::datasource::provider_as_source(table),
        None,
    )?
    .project(exprs)?
    .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// `pg_catalog` as `datafusion-pg-catalog` builds it, with our
/// `pg_description` and the comments table it is computed from.
#[derive(Debug)]
struct CommentedPgCatalog {
    inner: Arc<dyn SchemaProvider>,
    /// `pg_settings`, read live from the session's settings.
    settings: Arc<dyn TableProvider>,
    comments: Arc<dyn TableProvider>,
    functions: Arc<dyn TableProvider>,
    description: OnceLock<Arc<dyn TableProvider>>,
    proc: OnceLock<Arc<dyn TableProvider>>,
    /// `pg_type` with its regproc columns as OIDs.
    types: OnceLock<Arc<dyn TableProvider>>,
    /// `pg_attribute` with type modifiers.
    attributes: OnceLock<Arc<dyn TableProvider>>,
}

/// The name under which the crate's own `pg_type` stays reachable for the
/// view that replaces it.
const RAW_PG_TYPE: &str = "zhenjie_raw_pg_type";

/// `pg_type`'s regproc columns, which the crate keeps as function names and
/// PostgreSQL as `pg_proc` OIDs — Npgsql (Power BI) joins
/// `pg_proc.oid = typ.typreceive` to tell arrays from base types.
const TYPE_PROC_COLUMNS: &[&str] = &["typinput", "typoutput", "typreceive", "typsend"];

/// Plans the `pg_type` view over the crate's table.
async fn types_view(
    ctx: &SessionContext,
    raw: &Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>> {
    let mut select = Vec::new();
    let mut joins = String::new();
    for field in raw.schema().fields() {
        let name = field.name();
        if TYPE_PROC_COLUMNS.contains(&name.as_str()) && field.data_type() == &DataType::Utf8 {
            select.push(format!("COALESCE(r_{name}.oid, 0) AS {name}"));
            joins.push_str(&format!(
                " LEFT JOIN (SELECT proname, CAST(min(oid) AS INT) AS oid FROM pg_catalog.pg_proc \
                   GROUP BY proname) r_{name} ON r_{name}.proname = t.{name}"
            ));
        } else {
            select.push(format!("t.\"{name}\""));
        }
    }
    let sql = format!(
        "SELECT {} FROM pg_catalog.{RAW_PG_TYPE} t{joins}",
        select.join(", ")
    );
    let plan = ctx.state().create_logical_plan(&sql).await?;
    Ok(Arc::new(ViewTable::new(plan, Some(sql))))
}

#[async_trait]
impl SchemaProvider for CommentedPgCatalog {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.push("zhenjie_comments".into());
        names.push("zhenjie_functions".into());
        names
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        match name {
            "zhenjie_comments" => Ok(Some(self.comments.clone())),
            "zhenjie_functions" => Ok(Some(self.functions.clone())),
            "pg_settings" => Ok(Some(self.settings.clone())),
            RAW_PG_TYPE => self.inner.table("pg_type").await,
            "pg_attribute" => match self.attributes.get() {
                Some(a) => Ok(Some(a.clone())),
                None => self.inner.table(name).await,
            },
            "pg_type" => match self.types.get() {
                Some(t) => Ok(Some(t.clone())),
                None => self.inner.table(name).await,
            },
            // Key columns are arrays in PostgreSQL (`con.confkey[pos.n]`,
            // `ANY(c.conkey)`); the crate keeps them as text.
            "pg_constraint" | "pg_index" => match self.inner.table(name).await? {
                Some(t) => Ok(Some(with_array_columns(name, t)?)),
                None => Ok(None),
            },
            "pg_class" => match self.inner.table(name).await? {
                Some(class) => Ok(Some(with_null_columns(class, &["relacl", "reloptions"])?)),
                None => Ok(None),
            },
            "pg_proc" => match self.proc.get() {
                Some(p) => Ok(Some(p.clone())),
                None => self.inner.table(name).await,
            },
            "pg_aggregate" | "pg_extension" => {
                crate::empty_catalog::shape(crate::empty_catalog::PG_CATALOG, name)
                    .map(crate::empty_catalog::empty_table)
                    .transpose()
            }
            "pg_description" => match self.description.get() {
                Some(d) => Ok(Some(d.clone())),
                None => self.inner.table(name).await,
            },
            _ => match self.inner.table(name).await? {
                Some(t) => Ok(Some(t)),
                None => crate::empty_catalog::shape(crate::empty_catalog::PG_CATALOG, name)
                    .map(crate::empty_catalog::empty_table)
                    .transpose(),
            },
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "zhenjie_comments"
            || name == "zhenjie_functions"
            || name == RAW_PG_TYPE
            || self.inner.table_exist(name)
            || crate::empty_catalog::shape(crate::empty_catalog::PG_CATALOG, name).is_some()
    }
}

/// DataFusion's `information_schema` with what PostgreSQL clients also read
/// there: PostgreSQL type names (`data_type`, `udt_name`) in `columns`, and
/// the constraint, key and privilege views, empty (zhenjie tables have no
/// keys; rights are the fence).
#[derive(Debug)]
struct PgInformationSchema {
    inner: Arc<dyn SchemaProvider>,
    columns: OnceLock<Arc<dyn TableProvider>>,
    database: String,
}

/// `information_schema.character_sets`: the one character set of a UTF8
/// database, as PostgreSQL lists it. Power BI reads it to pick the text
/// encoding of its folded SQL; with no row it assumes SQL_ASCII.
fn character_sets(database: &str) -> datafusion::error::Result<Arc<dyn TableProvider>> {
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
const DF_COLUMNS: &str = "zhenjie_datafusion_columns";

#[async_trait]
impl SchemaProvider for PgInformationSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(
            crate::empty_catalog::INFORMATION_SCHEMA
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
                match crate::empty_catalog::shape(crate::empty_catalog::INFORMATION_SCHEMA, name) {
                    Some(shape) => crate::empty_catalog::empty_table(shape).map(Some),
                    None => self.inner.table(name).await,
                }
            }
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name == DF_COLUMNS
            || name == "character_sets"
            || crate::empty_catalog::shape(crate::empty_catalog::INFORMATION_SCHEMA, name).is_some()
            || self.inner.table_exist(name)
    }
}

/// DataFusion's type names (as `information_schema.columns.data_type`
/// prints them) and PostgreSQL's: `(condition, data_type, udt_name)`.
const TYPE_NAMES: &[(&str, &str, &str)] = &[
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
fn type_case(pick: impl Fn(&(&str, &'static str, &'static str)) -> &'static str) -> String {
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

/// `has_table_privilege` and its siblings: what zhenjie lets anyone do with
/// what they can see — read it (SELECT, USAGE, CONNECT) and nothing else.
/// Tools such as Metabase ask before offering edits; `datafusion-pg-catalog`
/// answers `true` to everything. Only the last argument (the privilege, or a
/// comma-separated list of them) matters: invisible objects are not in this
/// session's catalog at all.
pub(crate) fn privilege_udf(name: &str) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, AsArray, BooleanArray};
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, Signature, Volatility};
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Privilege {
        name: String,
        signature: Signature,
    }
    impl datafusion::logical_expr::ScalarUDFImpl for Privilege {
        fn name(&self) -> &str {
            &self.name
        }
        fn signature(&self) -> &Signature {
            &self.signature
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Boolean)
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let allowed = |p: &str| {
                p.split(',').any(|one| {
                    let one = one.trim().to_ascii_uppercase();
                    let one = one.trim_end_matches(" WITH GRANT OPTION");
                    matches!(one, "SELECT" | "USAGE" | "CONNECT")
                })
            };
            let last = args.args.last().cloned().ok_or_else(|| {
                datafusion::error::DataFusionError::Plan("privilege argument missing".into())
            })?;
            let privileges = last.into_array(args.number_rows)?;
            let privileges = datafusion::arrow::compute::cast(&privileges, &DataType::Utf8)?;
            let privileges = privileges.as_string::<i32>();
            let out: BooleanArray = (0..privileges.len())
                .map(|i| (!privileges.is_null(i)).then(|| allowed(privileges.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(Privilege {
        name: name.to_string(),
        signature: Signature::variadic_any(Volatility::Stable),
    })
}

/// `information_schema._pg_expandarray(int2vector)`, which pgjdbc's
/// `getPrimaryKeys`/`getIndexInfo` and Metabase call on `pg_index.indkey`.
/// In PostgreSQL it returns one `(x, n)` row per array element; zhenjie has
/// no indexes (`pg_index` is empty), so the function is never called on a
/// row — it only has to exist with the right result type for those queries
/// to plan. It answers `(NULL, NULL)`.
pub(crate) fn expandarray_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::StructArray;
    use datafusion::arrow::datatypes::Fields;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, Signature, Volatility};
    fn fields() -> Fields {
        Fields::from(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("n", DataType::Int32, true),
        ])
    }
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct ExpandArray(Signature);
    impl datafusion::logical_expr::ScalarUDFImpl for ExpandArray {
        fn name(&self) -> &str {
            "_pg_expandarray"
        }
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Struct(fields()))
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let n = args.number_rows;
            let out = StructArray::new_null(fields(), n);
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(ExpandArray(Signature::any(
        1,
        Volatility::Immutable,
    )))
}

/// PostgreSQL's `format(fmt, args…)` with `%s`, `%I` (identifier), `%L`
/// (literal) and `%%`: Metabase builds `format('%I.%I', schema, table)::regclass`
/// while syncing, and report SQL uses it for labels.
pub(crate) fn format_udf() -> datafusion::logical_expr::ScalarUDF {
    row_text_udf("format", |args, row| {
        let text = |i: usize| -> datafusion::error::Result<Option<String>> {
            match args.get(i) {
                Some(a) => {
                    let v = datafusion::common::ScalarValue::try_from_array(a, row)?;
                    Ok((!v.is_null()).then(|| v.to_string()))
                }
                None => Ok(None),
            }
        };
        let Some(fmt) = text(0)? else {
            return Ok(None);
        };
        let values = (1..args.len())
            .map(text)
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        format_row(&fmt, |i| values.get(i).and_then(|v| v.as_deref()))
            .map(Some)
            .map_err(datafusion::error::DataFusionError::Execution)
    })
}

/// A variadic text function of PostgreSQL's (`format`,
/// `json_build_object`) computed row by row from its arguments' values:
/// the one shape those functions share here.
fn row_text_udf(
    name: &'static str,
    row: fn(
        &[datafusion::arrow::array::ArrayRef],
        usize,
    ) -> datafusion::error::Result<Option<String>>,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, Signature, TypeSignature, Volatility,
    };
    #[derive(Debug)]
    struct RowText {
        name: &'static str,
        signature: Signature,
        row: fn(
            &[datafusion::arrow::array::ArrayRef],
            usize,
        ) -> datafusion::error::Result<Option<String>>,
    }
    impl PartialEq for RowText {
        fn eq(&self, other: &Self) -> bool {
            self.name == other.name
        }
    }
    impl Eq for RowText {}
    impl std::hash::Hash for RowText {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.name.hash(state);
        }
    }
    impl datafusion::logical_expr::ScalarUDFImpl for RowText {
        fn name(&self) -> &str {
            self.name
        }
        fn signature(&self) -> &Signature {
            &self.signature
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Utf8)
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let n = args.number_rows;
            let arrays = args
                .args
                .iter()
                .map(|a| a.clone().into_array(n))
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            let mut out = datafusion::arrow::array::StringBuilder::new();
            for row in 0..n {
                out.append_option((self.row)(&arrays, row)?);
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(RowText {
        name,
        signature: Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Stable,
        ),
        row,
    })
}

/// One `format()` result; `arg(i)` is the i-th argument after the format.
fn format_row<'a>(
    fmt: &str,
    arg: impl Fn(usize) -> Option<&'a str>,
) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars.next().ok_or("unterminated format() type specifier")?;
        if spec == '%' {
            out.push('%');
            continue;
        }
        let value = arg(next);
        next += 1;
        match spec {
            's' => out.push_str(value.unwrap_or("")),
            'I' => {
                let v = value.ok_or("null values cannot be formatted as an SQL identifier")?;
                let plain = v
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if plain {
                    out.push_str(v);
                } else {
                    out.push('"');
                    out.push_str(&v.replace('"', "\"\""));
                    out.push('"');
                }
            }
            'L' => match value {
                None => out.push_str("NULL"),
                Some(v) => {
                    out.push('\'');
                    out.push_str(&v.replace('\'', "''"));
                    out.push('\'');
                }
            },
            other => return Err(format!("unrecognized format() type specifier \"{other}\"")),
        }
    }
    Ok(out)
}

/// Catalog functions about objects zhenjie never has (index and trigger
/// definitions, …): they exist so tools' listing queries plan, and say NULL,
/// as PostgreSQL does for an OID that names no such object.
pub(crate) fn null_text_udf(name: &str) -> datafusion::logical_expr::ScalarUDF {
    constant_any_udf(name, datafusion::common::ScalarValue::Utf8(None))
}

/// The bytes of the catalog's local data files, for `pg_database_size`
/// (DBeaver's database properties); data in object stores is not counted.
pub(crate) fn local_data_size(engine: &Engine) -> i64 {
    let size = |path: &std::path::Path| -> u64 {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok()?.metadata().ok())
                        .filter(|m| m.is_file())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    };
    let catalog = engine.catalog();
    catalog
        .file
        .datasets
        .iter()
        .map(|d| catalog.resolve_location(&d.location))
        .filter(|l| !l.contains("://"))
        .map(|l| size(std::path::Path::new(&l)))
        .sum::<u64>() as i64
}

/// A function of any arguments (or none) with a fixed answer, for catalog
/// questions whose answer is the same for everything zhenjie has
/// (`pg_collation_is_visible`: there are only built-in collations).
pub(crate) fn constant_any_udf(
    name: &str,
    value: datafusion::common::ScalarValue,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, Signature, TypeSignature, Volatility,
    };
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Constant(String, ScalarValue, Signature);
    impl datafusion::logical_expr::ScalarUDFImpl for Constant {
        fn name(&self) -> &str {
            &self.0
        }
        fn signature(&self) -> &Signature {
            &self.2
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(self.1.data_type())
        }
        fn invoke_with_args(
            &self,
            _: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            Ok(ColumnarValue::Scalar(self.1.clone()))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(Constant(
        name.to_string(),
        value,
        Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Stable,
        ),
    ))
}

/// `json_build_object(key, value, …)`: SQLAlchemy's column reflection (and
/// report SQL) builds JSON with it. zhenjie has no JSON type, so the object
/// comes back as its text, which is what PostgreSQL sends on the wire.
pub(crate) fn json_build_object_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::common::ScalarValue;
    use datafusion::error::DataFusionError;
    row_text_udf("json_build_object", |args, row| {
        if args.len() % 2 != 0 {
            return Err(DataFusionError::Execution(
                "argument list must have even number of elements".into(),
            ));
        }
        let mut text = String::from("{");
        for (i, pair) in args.chunks(2).enumerate() {
            let key = ScalarValue::try_from_array(&pair[0], row)?;
            if key.is_null() {
                return Err(DataFusionError::Execution(
                    "null value not allowed for object key".into(),
                ));
            }
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&json_value(&key, true));
            text.push_str(" : ");
            text.push_str(&json_value(
                &ScalarValue::try_from_array(&pair[1], row)?,
                false,
            ));
        }
        text.push('}');
        Ok(Some(text))
    })
}

/// One value in JSON, as PostgreSQL's json functions write it (keys always
/// as strings).
fn json_value(v: &datafusion::common::ScalarValue, as_key: bool) -> String {
    use datafusion::common::ScalarValue as S;
    let quoted = |s: &str| {
        let mut q = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\n' => q.push_str("\\n"),
                '\r' => q.push_str("\\r"),
                '\t' => q.push_str("\\t"),
                c if (c as u32) < 0x20 => q.push_str(&format!("\\u{:04x}", c as u32)),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    };
    if v.is_null() {
        return "null".into();
    }
    match v {
        S::Boolean(Some(b)) if !as_key => b.to_string(),
        S::Int8(_)
        | S::Int16(_)
        | S::Int32(_)
        | S::Int64(_)
        | S::UInt8(_)
        | S::UInt16(_)
        | S::UInt32(_)
        | S::UInt64(_)
        | S::Float32(_)
        | S::Float64(_)
        | S::Decimal128(..)
            if !as_key =>
        {
            v.to_string()
        }
        S::Utf8(Some(s)) | S::Utf8View(Some(s)) | S::LargeUtf8(Some(s)) => quoted(s),
        other => quoted(&other.to_string()),
    }
}

/// PostgreSQL `to_char`/`to_date`/`to_timestamp` patterns as chrono formats
/// (the subset reports and Superset use: YYYY MM DD HH24 HH12 HH MI SS MS US);
/// `None` when the pattern has anything else, which is then left to fail.
fn chrono_format(pattern: &str) -> Option<String> {
    const TOKENS: &[(&str, &str)] = &[
        ("YYYY", "%Y"),
        ("HH24", "%H"),
        ("HH12", "%I"),
        ("HH", "%I"),
        ("MI", "%M"),
        ("SS", "%S"),
        ("MS", "%3f"),
        ("US", "%6f"),
        ("MM", "%m"),
        ("DD", "%d"),
        ("YY", "%y"),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while !rest.is_empty() {
        for (pg, chrono) in TOKENS {
            if let Some(r) = rest.strip_prefix(pg) {
                out.push_str(chrono);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next()?;
        if c.is_ascii_alphabetic() || c == '%' {
            return None;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

/// `pg_size_pretty(bigint)`: sizes the way PostgreSQL prints them (psql `\dt+`).
pub(crate) fn pg_size_pretty_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let sizes = arrays[0]
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| {
                    datafusion::error::DataFusionError::Internal(
                        "pg_size_pretty takes bigint".into(),
                    )
                })?;
            let out: StringArray = (0..sizes.len())
                .map(|i| (!sizes.is_null(i)).then(|| size_pretty(sizes.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

fn size_pretty(size: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    if size.abs() < LIMIT {
        return format!("{size} bytes");
    }
    let mut value = size;
    for unit in ["kB", "MB", "GB", "TB", "PB"] {
        // Half-units, rounded to nearest, as PostgreSQL does.
        let half = value / 512;
        if half.abs() < 2 * LIMIT - 1 || unit == "PB" {
            return format!("{} {unit}", (half + half.signum()) / 2);
        }
        value /= 1024;
    }
    unreachable!("the loop returns at PB")
}

/// Gives each `$n` the type the client declared for it in Parse (an SQL type
/// name per parameter, `None` where the client left it to the server), as
/// PostgreSQL does: `SELECT $1` with an int4 parameter returns an int4
/// column. Parameters of LIMIT and OFFSET keep their own (bigint) typing.
pub(crate) fn type_parameters(statement: &mut Statement, types: &[Option<String>]) {
    use datafusion::sql::sqlparser::ast::{Query, Value};
    struct LimitParams(std::collections::HashSet<String>);
    impl datafusion::sql::sqlparser::ast::Visitor for LimitParams {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(limit) = &q.limit_clause {
                let text = limit.to_string();
                for (i, _) in text.match_indices('$') {
                    let digits: String = text[i + 1..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    self.0.insert(format!("${digits}"));
                }
            }
            ControlFlow::Continue(())
        }
    }
    struct Typed<'a>(&'a [Option<String>], std::collections::HashSet<String>);
    impl VisitorMut for Typed<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Value(v) = expr {
                if let Value::Placeholder(p) = &v.value {
                    let ty = p
                        .strip_prefix('$')
                        .and_then(|n| n.parse::<usize>().ok())
                        .and_then(|n| self.0.get(n.checked_sub(1)?))
                        .and_then(|t| t.clone());
                    if let (Some(ty), false) = (ty, self.1.contains(p)) {
                        if let Some(cast) = parse_expr(&format!("CAST({p} AS {ty})")) {
                            *expr = cast;
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    // A parameter nothing gives a type, selected as a value (`SELECT $1`),
    // is text in PostgreSQL; DataFusion would describe it as unknown.
    struct UntypedSelected<'a>(&'a [Option<String>]);
    impl VisitorMut for UntypedSelected<'_> {
        type Break = ();
        fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
            if let SetExpr::Select(select) = query.body.as_mut() {
                for item in select.projection.iter_mut() {
                    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) =
                        item
                    else {
                        continue;
                    };
                    let Expr::Value(v) = &*e else {
                        continue;
                    };
                    let Value::Placeholder(p) = &v.value else {
                        continue;
                    };
                    let declared = p
                        .strip_prefix('$')
                        .and_then(|n| n.parse::<usize>().ok())
                        .and_then(|n| self.0.get(n.checked_sub(1)?))
                        .is_some_and(Option::is_some);
                    if !declared {
                        if let Some(cast) = parse_expr(&format!("CAST({p} AS TEXT)")) {
                            *e = cast;
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut UntypedSelected(types));
    if types.iter().all(Option::is_none) {
        return;
    }
    let mut limits = LimitParams(Default::default());
    let _ = datafusion::sql::sqlparser::ast::Visit::visit(&*statement, &mut limits);
    let _ = statement.visit(&mut Typed(types, limits.0));
}

/// Rewrites client catalog idioms DataFusion cannot plan into equivalents it
/// can. Only catalog functions are touched, never user expressions.
pub(crate) fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut CatalogIdioms);
}

/// PostgreSQL interval text DataFusion cannot read, in words it can:
/// `04:05:06.5` becomes `4 hours 5 minutes 6.5 seconds` (`MM:SS` under
/// `MINUTE TO SECOND`), a number right before such a time is days
/// (`1 04:05:06`), and a lone number takes the literal's leading field
/// (`interval '3' day`). `None` when nothing needs changing.
fn interval_text(text: &str, leading_field: Option<&str>, minutes_first: bool) -> Option<String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let is_time = |t: &str| {
        let t = t.trim_start_matches(['+', '-']);
        t.contains(':')
            && t.split(':')
                .all(|p| !p.is_empty() && p.parse::<f64>().is_ok())
    };
    let is_number = |t: &str| t.parse::<f64>().is_ok();
    if let (Some(field), [number]) = (leading_field, tokens.as_slice()) {
        if is_number(number) {
            return Some(format!("{number} {}", field.to_ascii_lowercase()));
        }
    }
    if !tokens.iter().any(|t| is_time(t)) {
        return None;
    }
    let mut words = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if is_time(token) {
            let negative = token.starts_with('-');
            let parts: Vec<&str> = token.trim_start_matches(['+', '-']).split(':').collect();
            let units: &[&str] = match (parts.len(), minutes_first) {
                (2, true) => &["minutes", "seconds"],
                _ => &["hours", "minutes", "seconds"],
            };
            for (part, unit) in parts.iter().zip(units) {
                words.push(format!("{}{part} {unit}", if negative { "-" } else { "" }));
            }
        } else if is_number(token) && tokens.get(i + 1).is_some_and(|t| is_time(t)) {
            words.push(format!("{token} days"));
        } else {
            words.push(token.to_string());
        }
    }
    Some(words.join(" "))
}

/// An integer literal PostgreSQL would type `int4` (it fits) as an explicit
/// `int4` cast; DataFusion types every integer literal `int8`.
fn as_int4_literal(e: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{UnaryOperator, Value};
    let number = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, false) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    };
    let digits = match e {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => format!("-{}", number(expr)?),
        other => number(other)?,
    };
    digits.parse::<i32>().ok()?;
    parse_expr(&format!("CAST({digits} AS INT)"))
}


struct CatalogIdioms;

fn function_args(args: &FunctionArguments) -> Vec<String> {
    match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e.to_string(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

/// PostgreSQL names an unnamed function column after the function
/// (`count(*)` is `count`); DataFusion after the whole expression. BI tools
/// and pandas show these names, so where the name is unambiguous the column
/// gets PostgreSQL's.
fn name_function_columns(projection: &mut [datafusion::sql::sqlparser::ast::SelectItem]) {
    use datafusion::sql::sqlparser::ast::{Ident, SelectItem};
    let name_of = |item: &SelectItem| -> Option<String> {
        match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_ascii_lowercase()),
            SelectItem::UnnamedExpr(e) => last_ident(e),
            _ => None,
        }
    };
    let function_name = |item: &SelectItem| -> Option<String> {
        match item {
            SelectItem::UnnamedExpr(e) => postgres_column_name(e),
            _ => None,
        }
    };
    let taken: Vec<String> = projection.iter().filter_map(name_of).collect();
    let functions: Vec<Option<String>> = projection.iter().map(function_name).collect();
    for (item, name) in projection.iter_mut().zip(&functions) {
        let Some(name) = name else { continue };
        let unique = functions
            .iter()
            .filter(|f| f.as_ref() == Some(name))
            .count()
            == 1
            && !taken.contains(name);
        if let (true, SelectItem::UnnamedExpr(e)) = (unique, &*item) {
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias: Ident::with_quote('"', name.clone()),
            };
        }
    }
}

/// The name PostgreSQL gives an unnamed select item DataFusion would name
/// after the whole expression: a function's name (`count`), a cast's type
/// (`int4`) or, for a cast column, the column, and `?column?` for literals.
fn postgres_column_name(e: &Expr) -> Option<String> {
    use datafusion::sql::sqlparser::ast::DataType as T;
    match e {
        Expr::Function(f) => f
            .name
            .0
            .last()
            .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase()),
        Expr::Cast {
            expr, data_type, ..
        } => last_ident(expr)
            .or_else(|| postgres_column_name(expr).filter(|n| n != "?column?"))
            .or_else(|| {
                Some(
                    match data_type {
                        T::Int(_) | T::Integer(_) | T::Int4(_) => "int4",
                        T::BigInt(_) | T::Int8(_) => "int8",
                        T::SmallInt(_) | T::Int2(_) => "int2",
                        T::Text => "text",
                        T::Varchar(_) | T::CharacterVarying(_) => "varchar",
                        T::Date => "date",
                        T::Numeric(_) | T::Decimal(_) => "numeric",
                        T::DoublePrecision | T::Float8 => "float8",
                        T::Real | T::Float4 => "float4",
                        T::Boolean | T::Bool => "bool",
                        T::Timestamp(_, datafusion::sql::sqlparser::ast::TimezoneInfo::None)
                        | T::Timestamp(
                            _,
                            datafusion::sql::sqlparser::ast::TimezoneInfo::WithoutTimeZone,
                        ) => "timestamp",
                        T::Timestamp(..) => "timestamptz",
                        T::Interval { .. } => "interval",
                        _ => return None,
                    }
                    .to_string(),
                )
            }),
        Expr::Value(_) | Expr::BinaryOp { .. } | Expr::UnaryOp { .. } | Expr::Nested(_) => {
            Some("?column?".to_string())
        }
        Expr::Case { .. } => Some("case".to_string()),
        Expr::Interval(_) => Some("interval".to_string()),
        _ => None,
    }
}

/// PostgreSQL's fixed OIDs of its system catalog tables. Clients compare
/// `pg_description.classoid` with `'pg_class'::regclass` and the like, so
/// these names must resolve to the numbers PostgreSQL uses (and
/// `pg_description` says 1259 and 1255).
const SYSTEM_RELATION_OIDS: &[(&str, i32)] = &[
    ("pg_aggregate", 2600),
    ("pg_am", 2601),
    ("pg_amop", 2602),
    ("pg_amproc", 2603),
    ("pg_attrdef", 2604),
    ("pg_attribute", 1249),
    ("pg_auth_members", 1261),
    ("pg_authid", 1260),
    ("pg_cast", 2605),
    ("pg_class", 1259),
    ("pg_collation", 3456),
    ("pg_constraint", 2606),
    ("pg_conversion", 2607),
    ("pg_database", 1262),
    ("pg_db_role_setting", 2964),
    ("pg_default_acl", 826),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_enum", 3501),
    ("pg_event_trigger", 3466),
    ("pg_extension", 3079),
    ("pg_foreign_data_wrapper", 2328),
    ("pg_foreign_server", 1417),
    ("pg_foreign_table", 3118),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_init_privs", 3394),
    ("pg_language", 2612),
    ("pg_largeobject", 2613),
    ("pg_largeobject_metadata", 2995),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_opfamily", 2753),
    ("pg_partitioned_table", 3350),
    ("pg_policy", 3256),
    ("pg_proc", 1255),
    ("pg_publication", 6104),
    ("pg_publication_rel", 6106),
    ("pg_range", 3541),
    ("pg_replication_origin", 6000),
    ("pg_rewrite", 2618),
    ("pg_seclabel", 3596),
    ("pg_sequence", 2224),
    ("pg_shdepend", 1214),
    ("pg_shdescription", 2396),
    ("pg_shseclabel", 3592),
    ("pg_statistic", 2619),
    ("pg_statistic_ext", 3381),
    ("pg_statistic_ext_data", 3429),
    ("pg_subscription", 6100),
    ("pg_subscription_rel", 6102),
    ("pg_tablespace", 1213),
    ("pg_transform", 3576),
    ("pg_trigger", 2620),
    ("pg_ts_config", 3602),
    ("pg_ts_config_map", 3603),
    ("pg_ts_dict", 3600),
    ("pg_ts_parser", 3601),
    ("pg_ts_template", 3764),
    ("pg_type", 1247),
    ("pg_user_mapping", 1418),
];

/// The OID of a system catalog table named in a `'…'::regclass` literal.
fn system_relation_oid(literal: &str) -> Option<i32> {
    let name = literal.trim_matches('"');
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    SYSTEM_RELATION_OIDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, oid)| *oid)
}

/// `datafusion-pg-catalog` turns `'name'::regclass` into a lookup in the
/// current schema only; PostgreSQL also searches `pg_catalog`. Returns the
/// literal a lookup of a system table should have been.
fn regclass_lookup_literal(query: &datafusion::sql::sqlparser::ast::Query) -> Option<i32> {
    let text = query.to_string();
    if !text.contains("FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n") {
        return None;
    }
    let start = text.find("parse_ident('")? + "parse_ident('".len();
    let end = start + text[start..].find('\'')?;
    system_relation_oid(&text[start..end])
}

/// A relation name built from text (`schema || '.' || name`, `format(…)`),
/// as opposed to an oid column cast for display (`c.oid::regclass`).
fn is_computed_text(e: &Expr) -> bool {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    match e {
        Expr::BinaryOp {
            op: BinaryOperator::StringConcat,
            ..
        } => true,
        Expr::Nested(inner) => is_computed_text(inner),
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            matches!(
                name.as_str(),
                "concat" | "format" | "quote_ident" | "concat_ws"
            )
        }
        _ => false,
    }
}

/// The function name in the crate's `'name'::regproc` lookup subquery.
fn regproc_lookup_name(query: &datafusion::sql::sqlparser::ast::Query) -> Option<String> {
    let text = query.to_string();
    let rest = text.strip_prefix("SELECT oid FROM pg_catalog.pg_proc WHERE proname = '")?;
    let name = &rest[..rest.find('\'')?];
    Some(name.strip_prefix("pg_catalog.").unwrap_or(name).to_string())
}

/// Catalog tables that never have a row in zhenjie: no column defaults,
/// sequences, triggers, inheritance, partitions or row security.
const ALWAYS_EMPTY: &[&str] = &[
    "pg_attrdef",
    "pg_sequence",
    "pg_trigger",
    "pg_inherits",
    "pg_policy",
    "pg_partitioned_table",
    "pg_statistic_ext",
    "pg_foreign_table",
    "pg_event_trigger",
];

/// Whether a scalar subquery reads one always-empty catalog table and
/// nothing else (no joins, no unions), so its value is NULL.
fn reads_only_empty_catalog(query: &datafusion::sql::sqlparser::ast::Query) -> bool {
    use datafusion::sql::sqlparser::ast::{SetExpr, TableFactor};
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let [from] = select.from.as_slice() else {
        return false;
    };
    if !from.joins.is_empty() {
        return false;
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return false;
    };
    let table = name.to_string().to_ascii_lowercase();
    let table = table.strip_prefix("pg_catalog.").unwrap_or(&table);
    ALWAYS_EMPTY.contains(&table)
        && matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty())
}

/// The last part of a (compound) identifier, lower-cased.
fn last_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// PostgreSQL lets a scalar subquery return "at most one row"; DataFusion
/// can only decorrelate one that aggregates. Catalog lookups by key
/// (`(SELECT c.relkind = 'c' FROM pg_class c WHERE c.oid = t.typrelid)`, as in
/// pgjdbc's `getTypeInfo`) return at most one row, so `max` of it is the same
/// value. Only single-column subqueries over `pg_catalog` tables are touched.
fn aggregate_catalog_lookup(query: &mut datafusion::sql::sqlparser::ast::Query) {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let from = select
        .from
        .iter()
        .map(|t| t.to_string().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    if select.from.is_empty()
        || !from.contains("pg_")
        || select.selection.is_none()
        || select.projection.len() != 1
        || !matches!(select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(ref e, _) if e.is_empty())
    {
        return;
    }
    let item = &mut select.projection[0];
    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
        return;
    };
    let text = e.to_string().to_ascii_lowercase();
    const AGGREGATES: &[&str] = &[
        "max(",
        "min(",
        "count(",
        "sum(",
        "avg(",
        "array_agg(",
        "string_agg(",
        "bool_and(",
        "bool_or(",
        "every(",
    ];
    if AGGREGATES.iter().any(|a| text.contains(a)) {
        return;
    }
    if let Some(wrapped) = parse_expr(&format!("max({e})")) {
        *e = wrapped;
        query.limit_clause = None;
    }
}

fn is_regclass(t: &datafusion::sql::sqlparser::ast::DataType) -> bool {
    let name = t.to_string().to_ascii_lowercase();
    name == "regclass" || name == "pg_catalog.regclass"
}

impl VisitorMut for CatalogIdioms {
    type Break = ();

    /// `FROM pg_locks`: PostgreSQL finds system views without a schema
    /// (pg_catalog is always on the search path); the crate's own rewrite
    /// knows only the tables it implements.
    fn pre_visit_relation(
        &mut self,
        relation: &mut datafusion::sql::sqlparser::ast::ObjectName,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{Ident, ObjectNamePart};
        if let [ObjectNamePart::Identifier(name)] = relation.0.as_slice() {
            if crate::empty_catalog::shape(crate::empty_catalog::PG_CATALOG, &name.value).is_some()
            {
                relation
                    .0
                    .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
            }
        }
        ControlFlow::Continue(())
    }

    /// Names duplicated unnamed select items (`NULL, NULL` in pgjdbc's
    /// `getProcedures`): PostgreSQL allows equal column names, DataFusion
    /// does not.
    fn post_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{Ident, SelectItem, SetExpr};
        if let SetExpr::Select(select) = query.body.as_mut() {
            name_function_columns(&mut select.projection);
            let mut seen = std::collections::HashSet::new();
            for (i, item) in select.projection.iter_mut().enumerate() {
                if let SelectItem::UnnamedExpr(e) = item {
                    if !seen.insert(e.to_string()) {
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias: Ident::with_quote('"', format!("?column?{}", i + 1)),
                        };
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::Value;
        // `U&'a\0009b'` (Power BI's quoting of text with control
        // characters): the parser has already decoded it.
        if let Expr::Value(v) = expr {
            if let Value::UnicodeStringLiteral(text) = &v.value {
                v.value = Value::SingleQuotedString(text.clone());
            }
            return ControlFlow::Continue(());
        }
        // Interval text in PostgreSQL's forms DataFusion does not read.
        if let Expr::Interval(interval) = expr {
            if let Expr::Value(v) = interval.value.as_mut() {
                if let Value::SingleQuotedString(text) = &v.value {
                    let minutes_first = matches!(
                        (&interval.leading_field, &interval.last_field),
                        (
                            Some(datafusion::sql::sqlparser::ast::DateTimeField::Minute),
                            Some(datafusion::sql::sqlparser::ast::DateTimeField::Second)
                        )
                    );
                    let field = interval.leading_field.as_ref().map(|f| f.to_string());
                    if let Some(text) = interval_text(text, field.as_deref(), minutes_first) {
                        v.value = Value::SingleQuotedString(text);
                        interval.leading_field = None;
                        interval.leading_precision = None;
                        interval.last_field = None;
                        interval.fractional_seconds_precision = None;
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        if let Expr::Cast {
            expr: inner,
            data_type: datafusion::sql::sqlparser::ast::DataType::Interval { .. },
            ..
        } = expr
        {
            if let Expr::Value(v) = inner.as_mut() {
                if let Value::SingleQuotedString(text) = &v.value {
                    if let Some(text) = interval_text(text, None, false) {
                        v.value = Value::SingleQuotedString(text);
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        // `ARRAY[1, 2, 3]` is an int4[] in PostgreSQL.
        if let Expr::Array(array) = expr {
            let elems: Option<Vec<Expr>> = array.elem.iter().map(as_int4_literal).collect();
            if let Some(elems) = elems.filter(|e| !e.is_empty()) {
                array.elem = elems;
            }
            return ControlFlow::Continue(());
        }
        if let Expr::Subquery(q) = expr {
            if let Some(oid) = regclass_lookup_literal(q) {
                if let Some(e) = parse_expr(&oid.to_string()) {
                    *expr = e;
                }
            } else if reads_only_empty_catalog(q) {
                // Nothing to look up: the answer is NULL for every row, and
                // the lookup's correlation need not be planned (SQLAlchemy's
                // column defaults and identity options).
                if let Some(e) = parse_expr("NULL") {
                    *expr = e;
                }
            } else if let Some(name) = regproc_lookup_name(q) {
                // `'pg_catalog.array_in'::regproc`: the crate looks the
                // qualified name up as is and finds nothing.
                let lookup = format!(
                    "(SELECT min(zp.oid) FROM pg_catalog.pg_proc zp WHERE zp.proname = '{}')",
                    name.replace('\'', "''")
                );
                if let Some(e) = parse_expr(&lookup) {
                    *expr = e;
                }
            } else {
                aggregate_catalog_lookup(q);
            }
            return ControlFlow::Continue(());
        }
        // `(composite).field`, as in `(information_schema._pg_expandarray(i.indkey)).n`.
        if let Expr::CompoundFieldAccess { root, access_chain } = expr {
            if let (
                [datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))],
                Expr::Nested(_),
            ) = (access_chain.as_slice(), &**root)
            {
                if let Some(e) = parse_expr(&format!("get_field({root}, '{}')", field.value)) {
                    *expr = e;
                }
            }
            return ControlFlow::Continue(());
        }
        // Grafana's "schemas on the search path" subquery reaches here as
        // `IN ('')`: datafusion-pg-catalog swaps the subquery for '' (it
        // splits `current_setting('search_path')` with generate_series). The
        // search path is `"$user", public`, and no schema is named after a
        // user, so it is public.
        if let Expr::InList {
            expr: inner, list, ..
        } = expr
        {
            let empty = |e: &Expr| matches!(e, Expr::Value(v) if v.value == datafusion::sql::sqlparser::ast::Value::SingleQuotedString(String::new()));
            if list.len() == 1
                && empty(&list[0])
                && inner
                    .to_string()
                    .to_ascii_lowercase()
                    .starts_with("quote_ident(table_schema")
            {
                list[0] = Expr::value(datafusion::sql::sqlparser::ast::Value::SingleQuotedString(
                    "public".into(),
                ));
            }
            return ControlFlow::Continue(());
        }
        // `LIKE 'pg/_%' ESCAPE '/'` (SQLAlchemy): DataFusion only escapes with
        // a backslash, so a literal pattern is rewritten to use one.
        if let Expr::Like {
            pattern,
            escape_char: Some(escape),
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char: Some(escape),
            ..
        } = expr
        {
            use datafusion::sql::sqlparser::ast::Value;
            let esc = match &escape.value {
                Value::SingleQuotedString(e) if e.chars().count() == 1 => e.chars().next(),
                _ => None,
            };
            if let (Some(esc), false) = (esc, matches!(**pattern, Expr::Value(_))) {
                // A bound or computed pattern: rewrite its escapes at run time.
                let esc_re = if esc.is_ascii_alphanumeric() {
                    esc.to_string()
                } else {
                    format!("\\{esc}")
                };
                let rewritten = format!(
                    "regexp_replace(replace({pattern}, '\\', '\\\\'), '{esc_re}(.)', '\\\\1', 'g')"
                );
                if let Some(e) = parse_expr(&rewritten) {
                    **pattern = e;
                    if let Expr::Like { escape_char, .. } | Expr::ILike { escape_char, .. } = expr {
                        *escape_char = None;
                    }
                }
                return ControlFlow::Continue(());
            }
            if let (Some(esc), Expr::Value(v)) = (esc, &mut **pattern) {
                if let Value::SingleQuotedString(p) = &v.value {
                    let mut out = String::new();
                    let mut chars = p.chars();
                    while let Some(c) = chars.next() {
                        if c == esc {
                            if let Some(next) = chars.next() {
                                out.push('\\');
                                out.push(next);
                            }
                        } else if c == '\\' {
                            out.push_str("\\\\");
                        } else {
                            out.push(c);
                        }
                    }
                    v.value = Value::SingleQuotedString(out);
                    if let Expr::Like { escape_char, .. } | Expr::ILike { escape_char, .. } = expr {
                        *escape_char = None;
                    }
                }
            }
            return ControlFlow::Continue(());
        }
        // A relation name computed per row (`(schema || '.' || name)::regclass`,
        // as Metabase writes it) is looked up per row.
        if let Expr::Cast {
            data_type,
            expr: operand,
            ..
        } = expr
        {
            if is_regclass(data_type) && is_computed_text(operand) {
                if let Some(e) = parse_expr(&format!("zhenjie_regclass({operand})")) {
                    *expr = e;
                }
            }
            return ControlFlow::Continue(());
        }
        let Expr::Function(f) = expr else {
            return ControlFlow::Continue(());
        };
        let name = f.name.to_string().to_ascii_lowercase();
        let name = name
            .strip_prefix("pg_catalog.")
            .unwrap_or(&name)
            .to_string();
        let replacement = match name.as_str() {
            "col_description" => {
                let a = function_args(&f.args);
                (a.len() == 2).then(|| {
                    format!(
                        "(SELECT max(zd.description) FROM pg_catalog.pg_description zd \
                          WHERE zd.objoid = {} AND zd.objsubid = {})",
                        a[0], a[1]
                    )
                })
            }
            "obj_description" => {
                let a = function_args(&f.args);
                (!a.is_empty()).then(|| {
                    format!(
                        "(SELECT max(zd.description) FROM pg_catalog.pg_description zd \
                          WHERE zd.objoid = {} AND zd.objsubid = 0)",
                        a[0]
                    )
                })
            }
            "shobj_description" => Some("CAST(NULL AS TEXT)".to_string()),
            // Superset's time ranges: `TO_DATE('2018-01-01', 'YYYY-MM-DD')`.
            "to_date" | "to_timestamp" => {
                let a = function_args(&f.args);
                match a.as_slice() {
                    [value, pattern] if pattern.starts_with('\'') && !pattern.contains('%') => {
                        chrono_format(pattern.trim_matches('\''))
                            .map(|fmt| format!("{name}({value}, '{fmt}')"))
                    }
                    _ => None,
                }
            }
            // Grafana reads `current_setting('server_version_num')`.
            "current_setting" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zs.setting) FROM pg_catalog.pg_settings zs WHERE zs.name = lower({}))",
                        a[0]
                    )
                })
            }
            // SQLAlchemy zips `unnest(conkey)` with `generate_subscripts(conkey, 1)`.
            "generate_subscripts" => {
                let a = function_args(&f.args);
                (a.len() == 2).then(|| {
                    format!(
                        "unnest(range(1, CAST(array_length({}) AS BIGINT) + 1))",
                        a[0]
                    )
                })
            }
            // psycopg's TypeInfo.fetch: the type's OID, NULL if there is none.
            "to_regtype" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zt.oid) FROM pg_catalog.pg_type zt WHERE zt.typname = \
                          regexp_replace({}, '^pg_catalog\\.', ''))",
                        a[0]
                    )
                })
            }
            "pg_function_is_visible" => Some("true".to_string()),
            "pg_get_function_arguments" | "pg_get_function_identity_arguments" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zf.args) FROM pg_catalog.zhenjie_functions zf WHERE zf.oid = {})",
                        a[0]
                    )
                })
            }
            "pg_get_function_result" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| {
                    format!(
                        "(SELECT max(zf.result) FROM pg_catalog.zhenjie_functions zf WHERE zf.oid = {})",
                        a[0]
                    )
                })
            }
            "pg_get_function_sqlbody" => Some("CAST(NULL AS TEXT)".to_string()),
            "pg_table_size" | "pg_indexes_size" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| format!("pg_relation_size({})", a[0]))
            }
            // psql's `\d+` lists storage options and `\df+` access privileges;
            // zhenjie has neither (privileges are the fence, not ACLs).
            "array_to_string"
                if f.args.to_string().contains("reloptions")
                    || f.args.to_string().contains("acl") =>
            {
                Some("CAST('' AS TEXT)".to_string())
            }
            // psql's `\d+` appends toast reloptions with ARRAY(SELECT … unnest(reloptions));
            // zhenjie tables have no reloptions.
            "array" if matches!(&f.args, FunctionArguments::Subquery(q) if q.to_string().contains("reloptions")) => {
                Some("CAST(NULL AS TEXT[])".to_string())
            }
            _ => None,
        };
        if let Some(new) = replacement.and_then(|s| parse_expr(&s)) {
            *expr = new;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn postgres_date_patterns_become_chrono_formats() {
        assert_eq!(
            super::chrono_format("YYYY-MM-DD").as_deref(),
            Some("%Y-%m-%d")
        );
        assert_eq!(
            super::chrono_format("YYYY-MM-DD HH24:MI:SS.US").as_deref(),
            Some("%Y-%m-%d %H:%M:%S.%6f")
        );
        assert_eq!(super::chrono_format("Month DD"), None);
    }

    #[test]
    fn json_values_are_written_like_postgres() {
        use datafusion::common::ScalarValue as S;
        assert_eq!(
            super::json_value(&S::Utf8(Some("a\"b".into())), false),
            "\"a\\\"b\""
        );
        assert_eq!(super::json_value(&S::Int64(Some(3)), false), "3");
        assert_eq!(super::json_value(&S::Int64(Some(3)), true), "\"3\"");
        assert_eq!(super::json_value(&S::Boolean(None), false), "null");
    }

    #[test]
    fn format_quotes_like_postgres() {
        // Expected strings from PostgreSQL 15's format().
        let args = ["public", "Persons", "it's"];
        let f = |fmt: &str| super::format_row(fmt, |i| args.get(i).copied()).unwrap();
        assert_eq!(f("%I.%I"), "public.\"Persons\"");
        assert_eq!(f("%s-%s=%L %%"), "public-Persons='it''s' %");
        assert!(super::format_row("%I", |_| None).is_err());
        assert_eq!(super::format_row("%L|%s|", |_| None).unwrap(), "NULL||");
    }

    #[test]
    fn sizes_print_like_postgres() {
        // Expected strings from PostgreSQL 15's pg_size_pretty.
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_000_000), "977 kB");
        assert_eq!(size_pretty(123_456_789), "118 MB");
        assert_eq!(size_pretty(10_000_000_000), "9537 MB");
    }
}

/// Result columns typed as PostgreSQL types them where DataFusion widens:
/// integer literals that fit (`SELECT 1`: node-postgres then reads a number,
/// pgjdbc an Integer) and arithmetic on `int4` values (int4 columns and
/// casts, such literals) are `int4`, and `date - date` is an `int4` number
/// of days.
/// DataFusion computes both in `int8`; the outermost select list narrows the
/// value, so an overflow is an error, as in PostgreSQL, not a wrap-around.
/// Runs on the plan before type coercion, so a user's own `::int8` still
/// makes a column `int8`.
pub(crate) fn narrow_output_types(
    plan: datafusion::logical_expr::LogicalPlan,
) -> datafusion::error::Result<datafusion::logical_expr::LogicalPlan> {
    use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, Projection};
    match plan {
        LogicalPlan::Projection(p) => {
            let schema = p.input.schema().clone();
            let mut changed = false;
            let exprs = p
                .expr
                .iter()
                .map(|e| {
                    let (inner, name) = match e {
                        Expr::Alias(a) => (a.expr.as_ref(), a.name.clone()),
                        other => (other, other.schema_name().to_string()),
                    };
                    let widened = matches!(
                        inner,
                        Expr::BinaryExpr(_) | Expr::Literal(..) | Expr::Negative(_)
                    ) && inner.get_type(&schema).ok() == Some(DataType::Int64)
                        && (is_pg_int4(inner, &schema) || is_date_difference(inner, &schema));
                    if widened {
                        changed = true;
                        datafusion::logical_expr::cast(inner.clone(), DataType::Int32).alias(name)
                    } else {
                        e.clone()
                    }
                })
                .collect();
            if !changed {
                return Ok(LogicalPlan::Projection(p));
            }
            Ok(LogicalPlan::Projection(Projection::try_new(
                exprs, p.input,
            )?))
        }
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => {
            let exprs = plan.expressions();
            let inputs: Vec<LogicalPlan> = plan.inputs().into_iter().cloned().collect();
            let inputs = inputs
                .into_iter()
                .map(narrow_output_types)
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            plan.with_new_exprs(exprs, inputs)
        }
        other => Ok(other),
    }
}

/// Whether PostgreSQL would type `e` `int4`: int4 columns and casts, integer
/// literals that fit, and `+ - * / %` of those.
fn is_pg_int4(e: &datafusion::logical_expr::Expr, schema: &datafusion::common::DFSchema) -> bool {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
    match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => i32::try_from(*v).is_ok(),
        Expr::Literal(ScalarValue::Int32(Some(_)), _) => true,
        Expr::Negative(inner) => is_pg_int4(inner, schema),
        Expr::BinaryExpr(b) => {
            matches!(
                b.op,
                Operator::Plus
                    | Operator::Minus
                    | Operator::Multiply
                    | Operator::Divide
                    | Operator::Modulo
            ) && is_pg_int4(&b.left, schema)
                && is_pg_int4(&b.right, schema)
        }
        Expr::Cast(c) => c.field.data_type() == &DataType::Int32,
        Expr::Column(_) => e.get_type(schema).ok() == Some(DataType::Int32),
        _ => false,
    }
}

/// Whether `e` is one date minus another.
fn is_date_difference(
    e: &datafusion::logical_expr::Expr,
    schema: &datafusion::common::DFSchema,
) -> bool {
    use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
    match e {
        Expr::BinaryExpr(b) if b.op == Operator::Minus => {
            b.left.get_type(schema).ok() == Some(DataType::Date32)
                && b.right.get_type(schema).ok() == Some(DataType::Date32)
        }
        _ => false,
    }
}
