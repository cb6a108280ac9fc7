//! Casts and date arithmetic with PostgreSQL's meaning where DataFusion's
//! differs, once types are known (an analyzer rule, after type coercion):
//!
//! * a number with a fraction cast to an integer rounds (`CAST(2.5 AS int)`
//!   is 3, `-1.5` is -2; a float rounds half to even, as PostgreSQL's `rint`
//!   does) instead of truncating;
//! * a float, timestamp or interval cast to text is PostgreSQL's text (see
//!   [`super::text`]), not Arrow's (`2000-01-01T00:00:00`, `14 mons 3 days`);
//! * a date plus or minus an interval is a timestamp, as in PostgreSQL;
//! * `sum` of a bigint column is numeric (PostgreSQL's, which cannot
//!   overflow);
//! * `round`, `ceil`, `floor` and `trunc` of a numeric have PostgreSQL's
//!   scale (`round(0.5, 2)` is `0.50`, `ceil(2.5)` is `3`).

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::utils::NamePreserver;
use datafusion::optimizer::AnalyzerRule;
use std::sync::{Arc, LazyLock};

/// The analyzer rule (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct PostgresCasts;

impl AnalyzerRule for PostgresCasts {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        // A child's types may have changed (a sum that became numeric):
        // every node's schema follows its inputs.
        rewrite_plan(plan, true, rewrite)
    }

    fn name(&self) -> &str {
        "postgres_casts"
    }
}

/// Rewrites every expression of every node of `plan` (subqueries too) with
/// `f`, which sees the node's input schema, keeping each output column's
/// name; `recompute` gives each node the schema of its new expressions.
fn rewrite_plan(
    plan: LogicalPlan,
    recompute: bool,
    f: fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|plan| {
        let mut schema = DFSchema::empty();
        for input in plan.inputs() {
            schema.merge(input.schema());
        }
        if plan.inputs().is_empty() {
            schema.merge(plan.schema());
        }
        let names = NamePreserver::new(&plan);
        let changed = plan.map_expressions(|e| {
            let original = names.save(&e);
            let e = e.transform_up(|e| f(e, &schema))?;
            Ok(e.update_data(|e| original.restore(e)))
        })?;
        if recompute {
            changed.map_data(|p| p.recompute_schema())
        } else {
            Ok(changed)
        }
    })
    .map(|t| t.data)
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn rewrite(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match e {
        Expr::Cast(Cast { expr, field }) => {
            let data_type = field.data_type().clone();
            let Ok(from) = expr.get_type(schema) else {
                return Ok(Transformed::no(Expr::Cast(Cast { expr, field })));
            };
            if data_type.is_integer() && matches!(from, DataType::Float32 | DataType::Float64) {
                let rounded = Expr::ScalarFunction(ScalarFunction::new_udf(
                    RINT.clone(),
                    vec![Expr::Cast(Cast::new(expr, DataType::Float64))],
                ));
                return Ok(Transformed::yes(Expr::Cast(Cast::new(
                    Box::new(rounded),
                    data_type,
                ))));
            }
            if data_type.is_integer()
                && matches!(from, DataType::Decimal128(_, s) | DataType::Decimal256(_, s) if s > 0)
            {
                let rounded = datafusion::functions::math::expr_fn::round(vec![*expr]);
                return Ok(Transformed::yes(Expr::Cast(Cast::new(
                    Box::new(rounded),
                    data_type,
                ))));
            }
            if is_text(&data_type)
                && matches!(
                    from,
                    DataType::Float32
                        | DataType::Float64
                        | DataType::Timestamp(..)
                        | DataType::Interval(_)
                )
            {
                let text = Expr::ScalarFunction(ScalarFunction::new_udf(TEXT.clone(), vec![*expr]));
                let text = if data_type == DataType::Utf8 {
                    text
                } else {
                    Expr::Cast(Cast::new(Box::new(text), data_type))
                };
                return Ok(Transformed::yes(text));
            }
            Ok(Transformed::no(Expr::Cast(Cast { expr, field })))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::Plus | Operator::Minus) =>
        {
            // A date plus a number of days stays a date: only a written
            // interval makes a timestamp (the coercion's cast of the number
            // to an interval is not one).
            let from_number = |e: &Expr| {
                matches!(e, Expr::Cast(Cast { expr, .. })
                    if expr.get_type(schema).is_ok_and(|t| t.is_integer()))
            };
            if from_number(&left) || from_number(&right) {
                return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op,
                    right,
                })));
            }
            let types = (left.get_type(schema), right.get_type(schema));
            let as_timestamp = |e: Box<Expr>| {
                Box::new(Expr::Cast(Cast::new(
                    e,
                    DataType::Timestamp(TimeUnit::Nanosecond, None),
                )))
            };
            use datafusion::arrow::datatypes::IntervalUnit::{MonthDayNano, YearMonth};
            match types {
                (
                    Ok(DataType::Date32 | DataType::Date64),
                    Ok(DataType::Interval(MonthDayNano | YearMonth)),
                ) => Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                    as_timestamp(left),
                    op,
                    right,
                )))),
                (
                    Ok(DataType::Interval(MonthDayNano | YearMonth)),
                    Ok(DataType::Date32 | DataType::Date64),
                ) if op == Operator::Plus => Ok(Transformed::yes(Expr::BinaryExpr(
                    BinaryExpr::new(left, op, as_timestamp(right)),
                ))),
                _ => Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op,
                    right,
                }))),
            }
        }
        Expr::AggregateFunction(mut agg)
            if agg.func.name() == "sum"
                && agg.params.args.len() == 1
                && matches!(agg.params.args[0], Expr::Column(_))
                && agg.params.args[0]
                    .get_type(schema)
                    .is_ok_and(|t| t == DataType::Int64) =>
        {
            // PostgreSQL sums a bigint column as numeric: no overflow. (An
            // expression of integer literals is int4 in PostgreSQL, whose
            // sum is a bigint, as DataFusion's is.)
            let arg = agg.params.args.remove(0);
            agg.params.args.push(Expr::Cast(Cast::new(
                Box::new(arg),
                DataType::Decimal128(38, 0),
            )));
            Ok(Transformed::yes(Expr::AggregateFunction(agg)))
        }
        Expr::ScalarFunction(f)
            if matches!(f.func.name(), "round" | "ceil" | "floor" | "trunc")
                && f.args.first().is_some_and(|a| {
                    // A numeric argument, perhaps cast to a float by coercion.
                    let a = match a {
                        Expr::Cast(Cast { expr, .. }) => expr.as_ref(),
                        a => a,
                    };
                    a.get_type(schema)
                        .is_ok_and(|t| matches!(t, DataType::Decimal128(..)))
                }) =>
        {
            // PostgreSQL's numeric result has the scale asked for: none for
            // ceil, floor and one-argument round and trunc, `n` for
            // round(x, n) and trunc(x, n).
            let scale = match f.args.get(1) {
                None => Some(0),
                Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Int64) {
                    Ok(datafusion::common::ScalarValue::Int64(Some(n)))
                        if (0..=30).contains(&n) =>
                    {
                        Some(n as i8)
                    }
                    _ => None,
                },
                Some(_) => None,
            };
            match scale {
                Some(scale) if matches!(f.func.name(), "round" | "trunc") || scale == 0 => {
                    Ok(Transformed::yes(Expr::Cast(Cast::new(
                        Box::new(Expr::ScalarFunction(f)),
                        DataType::Decimal128(38, scale),
                    ))))
                }
                _ => Ok(Transformed::no(Expr::ScalarFunction(f))),
            }
        }
        other => Ok(Transformed::no(other)),
    }
}

/// Before type coercion: a boolean compared with a text literal PostgreSQL
/// reads as a boolean (`flag = 'true'`, `'t' = flag`, as Tableau and
/// Superset write them) compares with that boolean; DataFusion finds no
/// common type and fails.
#[derive(Debug, Default)]
pub(crate) struct BooleanLiterals;

fn boolean_word(e: &Expr) -> Option<bool> {
    let Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(s)), _) = e else {
        return None;
    };
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

impl AnalyzerRule for BooleanLiterals {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan(plan, false, boolean_comparison)
    }

    fn name(&self) -> &str {
        "postgres_boolean_literals"
    }
}

/// `flag = 'true'` as `flag = true` (and the literal on the left alike).
fn boolean_comparison(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else {
        return Ok(Transformed::no(e));
    };
    let comparison = matches!(
        op,
        Operator::Eq | Operator::NotEq | Operator::IsDistinctFrom | Operator::IsNotDistinctFrom
    );
    let is_bool = |e: &Expr| e.get_type(schema).is_ok_and(|t| t == DataType::Boolean);
    let literal = |b: bool| {
        Box::new(Expr::Literal(
            datafusion::common::ScalarValue::Boolean(Some(b)),
            None,
        ))
    };
    if comparison && is_bool(&left) {
        if let Some(b) = boolean_word(&right) {
            return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                left,
                op,
                literal(b),
            ))));
        }
    }
    if comparison && is_bool(&right) {
        if let Some(b) = boolean_word(&left) {
            return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                literal(b),
                op,
                right,
            ))));
        }
    }
    Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
        left,
        op,
        right,
    })))
}

static RINT: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| Arc::new(ScalarUDF::from(Rint::new())));
static TEXT: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| Arc::new(ScalarUDF::from(PgText::new())));

/// Rounds half to even (PostgreSQL's float-to-integer cast).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Rint {
    signature: Signature,
}

impl Rint {
    fn new() -> Self {
        Rint {
            signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Rint {
    fn name(&self) -> &str {
        "pg_rint"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = args.args[0].to_array(args.number_rows)?;
        let xs = array
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("signature is Float64");
        let out: Float64Array = xs.iter().map(|x| x.map(f64::round_ties_even)).collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// PostgreSQL's text of a float, timestamp or interval.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PgText {
    signature: Signature,
}

impl PgText {
    fn new() -> Self {
        PgText {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PgText {
    fn name(&self) -> &str {
        "pg_text"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array: ArrayRef = args.args[0].to_array(args.number_rows)?;
        let data_type = array.data_type().clone();
        let mut out = StringBuilder::with_capacity(array.len(), array.len() * 16);
        for i in 0..array.len() {
            if array.is_null(i) {
                out.append_null();
                continue;
            }
            match super::text::value_text(array.as_ref(), &data_type, i) {
                Some(t) => out.append_value(t),
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
