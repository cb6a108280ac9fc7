//! The session's `pg_catalog`: comments in `pg_description`, stable OIDs,
//! `pg_attribute` type modifiers, view definitions, and the crate's tables
//! reshaped where clients expect PostgreSQL's column types.

use super::*;

/// Replaces the session's `pg_catalog` with one whose `pg_description` holds
/// the catalog's comments for the tables registered in this session.
pub(crate) async fn install_comments(
    ctx: &SessionContext,
    engine: &Engine,
    settings: Arc<std::sync::Mutex<crate::Settings>>,
    user: &str,
) -> Result<std::collections::HashMap<String, i32>> {
    let database = &engine.catalog().file.database;
    let catalog = ctx
        .catalog(database)
        .ok_or_else(|| EngineError::new("XX000", "session catalog missing"))?;
    let inner = catalog
        .schema("pg_catalog")
        .ok_or_else(|| EngineError::new("XX000", "pg_catalog missing"))?;
    let visible: Vec<String> = catalog
        .schema(crate::SCHEMA)
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
    for v in engine.views() {
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
    let roles = match inner.table("pg_roles").await? {
        Some(t) => roles_table(t.schema(), user)?,
        None => return Err(EngineError::new("XX000", "pg_roles missing")),
    };
    let wrapper = Arc::new(CommentedPgCatalog {
        roles,
        database: database.clone(),
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
        .views()
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
pub(super) fn viewdef_udf(
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
pub(super) async fn typmods_table(
    ctx: &SessionContext,
    database: &str,
    oids: &std::collections::HashMap<String, i32>,
) -> Result<Arc<dyn TableProvider>> {
    let (mut rel, mut num, mut typmod) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(public) = ctx.catalog(database).and_then(|c| c.schema(crate::SCHEMA)) {
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
pub(super) fn attributes_view(
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
pub(super) struct SortedCatalogs(Arc<dyn datafusion::catalog::CatalogProviderList>);

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
pub(super) fn static_tables(
) -> Result<Arc<datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables>> {
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
pub(super) async fn settle_oids(
    ctx: &SessionContext,
) -> Result<std::collections::HashMap<String, i32>> {
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
pub(super) fn table_is_visible_udf(
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
pub(super) fn regclass_udf(
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

/// The role that owns everything a session sees: the platform, not a
/// PostgreSQL superuser (PostgreSQL's bootstrap user has OID 10, which the
/// crate already gives schemas and databases).
pub(crate) const OWNER: &str = "zhenjie";
pub(crate) const OWNER_OID: i32 = 10;
/// The session user's OID in `pg_roles` (above PostgreSQL's pinned OIDs,
/// below the ones relations get).
pub(crate) const USER_OID: i32 = 16_383;

/// `pg_roles` as a session sees it: the owner, which cannot log in, and the
/// user logged in. Other users of the platform are not listed: who else
/// works where is not the user's to see.
fn roles_table(
    schema: datafusion::arrow::datatypes::SchemaRef,
    user: &str,
) -> Result<Arc<dyn TableProvider>> {
    use datafusion::arrow::array::new_null_array;
    let rows: [(&str, i32, bool); 2] = [(OWNER, OWNER_OID, false), (user, USER_OID, true)];
    let columns = schema
        .fields()
        .iter()
        .map(|f| -> Result<datafusion::arrow::array::ArrayRef> {
            use datafusion::arrow::array::{BooleanArray, Int32Array};
            Ok(match f.name().as_str() {
                "rolname" => Arc::new(StringArray::from(
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
                "oid" => datafusion::arrow::compute::cast(
                    &(Arc::new(Int32Array::from(
                        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                    )) as datafusion::arrow::array::ArrayRef),
                    f.data_type(),
                )?,
                "rolcanlogin" => Arc::new(BooleanArray::from(
                    rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                )),
                "rolinherit" => Arc::new(BooleanArray::from(vec![true; rows.len()])),
                "rolsuper" | "rolcreaterole" | "rolcreatedb" | "rolreplication"
                | "rolbypassrls" => Arc::new(BooleanArray::from(vec![false; rows.len()])),
                "rolconnlimit" => Arc::new(Int32Array::from(vec![-1; rows.len()])),
                "rolpassword" => Arc::new(StringArray::from(vec![Some("********"); rows.len()])),
                _ => new_null_array(f.data_type(), rows.len()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| EngineError::new("XX000", format!("pg_roles: {e}")))?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// `pg_get_userbyid(oid)`: the names [`roles_table`] lists, PostgreSQL's
/// `unknown (OID=n)` otherwise (the crate said `postgres` for every OID).
pub(crate) fn userbyid_udf(user: &str) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{AsArray, StringArray};
    use datafusion::logical_expr::{ColumnarValue, Signature, Volatility};
    let user = user.to_string();
    datafusion::logical_expr::ScalarUDF::from(
        datafusion::logical_expr::SimpleScalarUDF::new_with_signature(
            "pg_get_userbyid",
            Signature::uniform(1, vec![DataType::Int64], Volatility::Stable),
            DataType::Utf8,
            Arc::new(move |args: &[ColumnarValue]| {
                let oids = ColumnarValue::values_to_arrays(args)?;
                let out: StringArray = oids[0]
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .iter()
                    .map(|o| {
                        o.map(|o| match o {
                            o if o == OWNER_OID as i64 => OWNER.to_string(),
                            o if o == USER_OID as i64 => user.clone(),
                            o => format!("unknown (OID={o})"),
                        })
                    })
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        ),
    )
}

/// `pg_encoding_to_char(int)`: PostgreSQL's encoding names (`\l` shows
/// `UTF8`, not `UTF-8`).
pub(crate) fn encoding_to_char_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{AsArray, StringArray};
    use datafusion::logical_expr::{ColumnarValue, Signature, Volatility};
    datafusion::logical_expr::ScalarUDF::from(
        datafusion::logical_expr::SimpleScalarUDF::new_with_signature(
            "pg_encoding_to_char",
            Signature::uniform(1, vec![DataType::Int64], Volatility::Immutable),
            DataType::Utf8,
            Arc::new(|args: &[ColumnarValue]| {
                const NAMES: &[&str] = &[
                    "SQL_ASCII",
                    "EUC_JP",
                    "EUC_CN",
                    "EUC_KR",
                    "EUC_TW",
                    "EUC_JIS_2004",
                    "UTF8",
                    "MULE_INTERNAL",
                    "LATIN1",
                    "LATIN2",
                    "LATIN3",
                    "LATIN4",
                    "LATIN5",
                    "LATIN6",
                    "LATIN7",
                    "LATIN8",
                    "LATIN9",
                    "LATIN10",
                    "WIN1256",
                    "WIN1258",
                    "WIN866",
                    "WIN874",
                    "KOI8R",
                    "WIN1251",
                    "WIN1252",
                    "ISO_8859_5",
                    "ISO_8859_6",
                    "ISO_8859_7",
                    "ISO_8859_8",
                    "WIN1250",
                    "WIN1253",
                    "WIN1254",
                    "WIN1255",
                    "WIN1257",
                    "KOI8U",
                    "SJIS",
                    "BIG5",
                    "GBK",
                    "UHC",
                    "GB18030",
                    "JOHAB",
                    "SHIFT_JIS_2004",
                ];
                let codes = ColumnarValue::values_to_arrays(args)?;
                let out: StringArray = codes[0]
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .iter()
                    .map(|c| {
                        c.map(|c| {
                            usize::try_from(c)
                                .ok()
                                .and_then(|c| NAMES.get(c))
                                .copied()
                                .unwrap_or("")
                        })
                    })
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        ),
    )
}

/// A catalog table with extra all-NULL text columns PostgreSQL has and
/// `datafusion-pg-catalog` lacks (`pg_class.relacl`: zhenjie's rights are the
/// fence, not ACLs, and NULL is what PostgreSQL shows for default rights).
pub(super) fn with_null_columns(
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
            "relowner" => datafusion::logical_expr::cast(lit(OWNER_OID), f.data_type().clone())
                .alias("relowner"),
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
pub(super) fn with_array_columns(
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
pub(super) struct CommentedPgCatalog {
    inner: Arc<dyn SchemaProvider>,
    /// `pg_roles`: the owner and the session's user (see [`roles_table`]).
    roles: Arc<dyn TableProvider>,
    /// The one database a session sees.
    database: String,
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
pub(super) const RAW_PG_TYPE: &str = "zhenjie_raw_pg_type";

/// `pg_type`'s regproc columns, which the crate keeps as function names and
/// PostgreSQL as `pg_proc` OIDs — Npgsql (Power BI) joins
/// `pg_proc.oid = typ.typreceive` to tell arrays from base types.
pub(super) const TYPE_PROC_COLUMNS: &[&str] = &["typinput", "typoutput", "typreceive", "typsend"];

/// Plans the `pg_type` view over the crate's table.
pub(super) async fn types_view(
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
            "pg_aggregate" | "pg_extension" | "pg_policy" | "pg_db_role_setting"
            | "pg_event_trigger" | "pg_statistic_ext" => {
                super::empty_catalog::shape(super::empty_catalog::PG_CATALOG, name)
                    .map(super::empty_catalog::empty_table)
                    .transpose()
            }
            "pg_roles" => Ok(Some(self.roles.clone())),
            // The crate adds a `postgres` database that is not there.
            "pg_database" => match self.inner.table(name).await? {
                Some(t) => {
                    use datafusion::logical_expr::{lit, LogicalPlanBuilder};
                    let plan = LogicalPlanBuilder::scan(
                        "pg_database",
                        datafusion::datasource::provider_as_source(t),
                        None,
                    )?
                    .filter(datafusion::prelude::col("datname").eq(lit(self.database.clone())))?
                    .build()?;
                    Ok(Some(Arc::new(ViewTable::new(plan, None))))
                }
                None => Ok(None),
            },
            "pg_tables" => match self.inner.table(name).await? {
                Some(t) => {
                    use datafusion::logical_expr::{lit, LogicalPlanBuilder};
                    let exprs: Vec<_> = t
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| match f.name().as_str() {
                            "tableowner" => lit(OWNER).alias("tableowner"),
                            n => datafusion::prelude::col(
                                datafusion::common::Column::new_unqualified(n),
                            ),
                        })
                        .collect();
                    let plan = LogicalPlanBuilder::scan(
                        "pg_tables",
                        datafusion::datasource::provider_as_source(t),
                        None,
                    )?
                    .project(exprs)?
                    .build()?;
                    Ok(Some(Arc::new(ViewTable::new(plan, None))))
                }
                None => Ok(None),
            },
            "pg_description" => match self.description.get() {
                Some(d) => Ok(Some(d.clone())),
                None => self.inner.table(name).await,
            },
            _ => match self.inner.table(name).await? {
                Some(t) => Ok(Some(t)),
                None => super::empty_catalog::shape(super::empty_catalog::PG_CATALOG, name)
                    .map(super::empty_catalog::empty_table)
                    .transpose(),
            },
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "zhenjie_comments"
            || name == "zhenjie_functions"
            || name == RAW_PG_TYPE
            || self.inner.table_exist(name)
            || super::empty_catalog::shape(super::empty_catalog::PG_CATALOG, name).is_some()
    }
}
