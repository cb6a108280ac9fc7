//! What clients expect of a PostgreSQL catalog beyond what
//! `datafusion-pg-catalog` provides: table and column comments in
//! `pg_description` (from the zhenjie catalog, and for built-in tables such as
//! `audit_log` from the engine, for the tables this principal can see),
//! `col_description`/`obj_description`, and rewrites of the few
//! psql catalog idioms DataFusion cannot plan.

use crate::{Engine, EngineError, Result};
use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, StringArray};
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
pub(crate) async fn install_comments(ctx: &SessionContext, engine: &Engine) -> Result<()> {
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
    let wrapper = Arc::new(CommentedPgCatalog {
        inner,
        comments,
        description: OnceLock::new(),
    });
    catalog.register_schema("pg_catalog", wrapper.clone())?;
    let sql = "SELECT CAST(c.oid AS INT) AS objoid, CAST(1259 AS INT) AS classoid, CAST(0 AS INT) AS objsubid, d.description \
               FROM pg_catalog.pg_class c JOIN pg_catalog.zhenjie_comments d \
                 ON c.relname = d.table_name AND d.column_name IS NULL \
               UNION ALL \
               SELECT CAST(c.oid AS INT), CAST(1259 AS INT), CAST(a.attnum AS INT), d.description \
               FROM pg_catalog.pg_class c \
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
               JOIN pg_catalog.zhenjie_comments d ON c.relname = d.table_name AND a.attname = d.column_name";
    let plan = ctx.state().create_logical_plan(sql).await?;
    let view: Arc<dyn TableProvider> = Arc::new(ViewTable::new(plan, Some(sql.to_string())));
    let _ = wrapper.description.set(view);
    Ok(())
}

/// `pg_catalog` as `datafusion-pg-catalog` builds it, with our
/// `pg_description` and the comments table it is computed from.
#[derive(Debug)]
struct CommentedPgCatalog {
    inner: Arc<dyn SchemaProvider>,
    comments: Arc<dyn TableProvider>,
    description: OnceLock<Arc<dyn TableProvider>>,
}

#[async_trait]
impl SchemaProvider for CommentedPgCatalog {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.push("zhenjie_comments".into());
        names
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        match name {
            "zhenjie_comments" => Ok(Some(self.comments.clone())),
            "pg_description" => match self.description.get() {
                Some(d) => Ok(Some(d.clone())),
                None => self.inner.table(name).await,
            },
            _ => self.inner.table(name).await,
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "zhenjie_comments" || self.inner.table_exist(name)
    }
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

/// Rewrites client catalog idioms DataFusion cannot plan into equivalents it
/// can. Only catalog functions are touched, never user expressions.
pub(crate) fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut CatalogIdioms);
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

impl VisitorMut for CatalogIdioms {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
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
            "shobj_description" => Some("CAST(NULL AS VARCHAR)".to_string()),
            "pg_table_size" | "pg_indexes_size" => {
                let a = function_args(&f.args);
                (a.len() == 1).then(|| format!("pg_relation_size({})", a[0]))
            }
            // psql's `\d+` lists storage options; zhenjie tables have none.
            "array_to_string" if f.args.to_string().contains("reloptions") => {
                Some("CAST('' AS VARCHAR)".to_string())
            }
            // psql's `\d+` appends toast reloptions with ARRAY(SELECT … unnest(reloptions));
            // zhenjie tables have no reloptions.
            "array" if matches!(&f.args, FunctionArguments::Subquery(q) if q.to_string().contains("reloptions")) => {
                Some("CAST(NULL AS VARCHAR[])".to_string())
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
