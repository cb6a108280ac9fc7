//! zhenjie's SQL functions in `pg_proc`, with their argument and result
//! types and descriptions, beside the crate's built-in rows.

use super::*;

/// First oid of zhenjie's own functions in `pg_proc` (above PostgreSQL's
/// built-in range).
pub(super) const FUNCTION_OID_BASE: i32 = 900_000;

/// zhenjie's SQL functions with their documentation, as a table
/// (`oid, proname, prokind, args, result, description`).
pub(super) fn functions_table() -> Result<Arc<dyn TableProvider>> {
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
pub(super) fn argument_types(
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
pub(super) fn pg_type_oid(t: &DataType) -> Option<i32> {
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
pub(super) fn pg_type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Decimal128(..) | DataType::Decimal256(..) => "numeric".into(),
        DataType::Struct(_) => "record".into(),
        DataType::List(f) | DataType::LargeList(f) => format!("{}[]", pg_type_name(f.data_type())),
        other => other.to_string().to_lowercase(),
    }
}

/// `pg_proc` with zhenjie's functions appended in schema `public`, so `\df`
/// and clients' function browsers list them. `None` if the built-in table has
/// a column type this does not know how to fill (the built-ins stay).
pub(super) async fn proc_with_functions(
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
