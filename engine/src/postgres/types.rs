//! Types as PostgreSQL clients know them: SQL type names DataFusion does
//! not plan (`json`, `uuid`, `varchar` kept as such), and result columns
//! narrowed to the types PostgreSQL gives them.

use super::*;

/// SQL type names PostgreSQL clients send that DataFusion's planner does not
/// know, on top of the crate's oid aliases: `json`, `jsonb`, `uuid`,
/// `bpchar` (what `char(n)` becomes) and `name` values are carried as text,
/// all but `name` marked with their PostgreSQL type ([`crate::PG_TYPE_KEY`])
/// so clients receive them as such.
#[derive(Debug)]
pub(super) struct PgTypePlanner(
    datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner,
);

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
            Some("bpchar" | "pg_catalog.bpchar") => Some("bpchar"),
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
pub(super) fn is_pg_int4(
    e: &datafusion::logical_expr::Expr,
    schema: &datafusion::common::DFSchema,
) -> bool {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
    match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => i32::try_from(*v).is_ok(),
        Expr::Literal(ScalarValue::Int32(Some(_)), _) => true,
        // (A minus on a constant folds into it: `-(-2147483648)` is int8.)
        Expr::Negative(inner) => match inner.as_ref() {
            Expr::Literal(ScalarValue::Int64(Some(v)), _) => {
                v.checked_neg().is_some_and(|n| i32::try_from(n).is_ok())
            }
            inner => is_pg_int4(inner, schema),
        },
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
pub(super) fn is_date_difference(
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
