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
    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        let zone: Arc<str> = config
            .execution
            .time_zone
            .as_deref()
            .unwrap_or("+00:00")
            .into();
        // A child's types may have changed (a sum that became numeric):
        // every node's schema follows its inputs.
        let plan = rewrite_plan(plan, true, &|e, schema| {
            rewrite(e, schema)?.transform_data(|e| zoned(e, schema, &zone))
        })?;
        let plan = date_part_as_double(plan)?;
        let plan = window_counts(plan)?;
        let plan = exact_averages(plan)?;
        shown_in_zone(plan, &zone)
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
    f: &dyn Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<LogicalPlan> {
    // Children come before their parent, so while nothing has changed yet
    // no node has a schema to recompute (see `Settle`). Statements a rule
    // leaves alone (most) cost a walk, not a rebuild.
    let settle = Settle::default();
    plan.transform_up_with_subqueries(|plan| {
        // (A limit's count is not an expression PostgreSQL types; VALUES
        // rows keep the types of the schema they were planned with.)
        if matches!(plan, LogicalPlan::Limit(_) | LogicalPlan::Values(_)) {
            return Ok(Transformed::no(plan));
        }
        let schema: datafusion::common::DFSchemaRef = match plan.inputs().as_slice() {
            [] => Arc::clone(plan.schema()),
            [input] => Arc::clone(input.schema()),
            inputs => {
                let mut schema = DFSchema::empty();
                for input in inputs {
                    schema.merge(input.schema());
                }
                Arc::new(schema)
            }
        };
        let names = NamePreserver::new(&plan);
        let changed = plan.map_expressions(|e| {
            let original = names.save(&e);
            let e = e.transform_up(|e| f(e, &schema))?;
            Ok(e.update_data(|e| original.restore(e)))
        })?;
        match (recompute, changed.transformed) {
            (false, _) => Ok(changed),
            (true, true) => settle.after(changed.map_data(|p| p.recompute_schema())?),
            (true, false) => settle.after(changed),
        }
    })
    .map(|t| t.data)
}

/// Carries a rewrite's new types up the plan: once a node has been
/// rewritten (with its own new schema), every node visited after it, its
/// ancestors among them, takes its inputs' types, so the analyzed plan's
/// schemas (what Describe reports) are the types its rows will have.
#[derive(Default)]
struct Settle(std::cell::Cell<bool>);

impl Settle {
    fn after(&self, node: Transformed<LogicalPlan>) -> Result<Transformed<LogicalPlan>> {
        if node.transformed {
            self.0.set(true);
            Ok(node)
        } else if self.0.get() {
            node.data.recompute_schema().map(Transformed::yes)
        } else {
            Ok(node)
        }
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn rewrite(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match e {
        Expr::Cast(Cast { expr, field })
            if field.data_type() == &DataType::Decimal128(38, 6)
                && matches!(expr.as_ref(), Expr::ScalarFunction(f)
                    if f.func.name() == "date_part"
                        && matches!(f.args.as_slice(), [Expr::Literal(p, _), d]
                            if p.try_as_str().flatten() == Some("epoch")
                                && d.get_type(schema).is_ok_and(|t| matches!(t, DataType::Date32 | DataType::Date64)))) =>
        {
            // `EXTRACT(epoch FROM date)` is a whole number of seconds.
            Ok(Transformed::yes(Expr::Cast(Cast::new(
                expr,
                DataType::Decimal128(38, 0),
            ))))
        }
        Expr::Cast(Cast { expr, field })
            if matches!(
                field.metadata().get(crate::PG_TYPE_KEY).map(String::as_str),
                Some("json" | "jsonb")
            ) =>
        {
            // Text read as json is checked; as jsonb, also normalised.
            let jsonb =
                field.metadata().get(crate::PG_TYPE_KEY).map(String::as_str) == Some("jsonb");
            let from_jsonb = expr.to_field(schema).is_ok_and(|(_, f)| {
                f.metadata().get(crate::PG_TYPE_KEY).map(String::as_str) == Some("jsonb")
            });
            if from_jsonb && jsonb {
                return Ok(Transformed::yes(*expr));
            }
            let udf = &super::json::JSON_IN[usize::from(jsonb)];
            let text = Expr::Cast(Cast::new(expr, DataType::Utf8));
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(Arc::clone(udf), vec![text]),
            )))
        }
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
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (Ok(lt), Ok(rt)) = (left.get_type(schema), right.get_type(schema)) else {
                return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op,
                    right,
                })));
            };
            if op == Operator::Divide
                && matches!(lt, DataType::Decimal128(..))
                && matches!(rt, DataType::Decimal128(..))
            {
                // PostgreSQL's numeric division (see `numeric_math`), with
                // constants folded so a constant quotient gets its own scale.
                let folded = |e: Box<Expr>| match *e {
                    Expr::Cast(Cast { expr, field }) => match *expr {
                        Expr::Literal(v, m) => match v.cast_to(field.data_type()) {
                            Ok(v) => Expr::Literal(v, m),
                            Err(_) => Expr::Cast(Cast::new(
                                Box::new(Expr::Literal(v, m)),
                                field.data_type().clone(),
                            )),
                        },
                        expr => Expr::Cast(Cast::new(Box::new(expr), field.data_type().clone())),
                    },
                    e => e,
                };
                return Ok(Transformed::yes(Expr::ScalarFunction(
                    ScalarFunction::new_udf(
                        Arc::clone(&super::numeric_math::DIVIDE),
                        vec![folded(left), folded(right)],
                    ),
                )));
            }
            match date_arithmetic(&left, op, &right, &lt, &rt, schema) {
                Some(e) => Ok(Transformed::yes(e)),
                None => Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
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
        Expr::ScalarFunction(f) if f.func.name() == "date_part" => match date_part(&f, schema)? {
            Some(e) => Ok(Transformed::yes(e)),
            None => Ok(Transformed::no(Expr::ScalarFunction(f))),
        },
        Expr::ScalarFunction(f)
            if super::numeric_math::udf(f.func.name()).is_some()
                && numeric_arguments(f.func.name(), &f.args, schema).is_some() =>
        {
            // PostgreSQL's numeric functions (see `numeric_math`).
            let func = super::numeric_math::udf(f.func.name()).expect("checked");
            let args = numeric_arguments(f.func.name(), &f.args, schema).expect("checked");
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(func, args),
            )))
        }
        Expr::ScalarFunction(f)
            if f.func.name() == "log"
                && f.args.len() == 1
                && f.args[0].get_type(schema).is_ok_and(|t| t.is_floating()) =>
        {
            // The float `log(x)` is the C library's log10, as PostgreSQL's
            // (DataFusion divides natural logarithms: a last digit off),
            // with log10's argument check.
            let log10 = Expr::ScalarFunction(ScalarFunction::new_udf(
                datafusion::functions::math::log10(),
                f.args,
            ));
            Ok(Transformed::yes(rewrite(log10, schema)?.data))
        }
        Expr::ScalarFunction(f)
            if f.func.name() == "to_hex"
                && f.args.len() == 1
                && strip_casts(&f.args[0])
                    .get_type(schema)
                    .is_ok_and(|t| matches!(t, DataType::Int32 | DataType::Int16)) =>
        {
            // An int4's hex is of its 32 bits (`to_hex(-1)` is `ffffffff`).
            let expr = Box::new(strip_casts(&f.args[0]).clone());
            let bits = Expr::BinaryExpr(BinaryExpr::new(
                Box::new(Expr::Cast(Cast::new(expr, DataType::Int64))),
                Operator::BitwiseAnd,
                Box::new(Expr::Literal(
                    datafusion::common::ScalarValue::Int64(Some(0xffff_ffff)),
                    None,
                )),
            ));
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(Arc::clone(&f.func), vec![bits]),
            )))
        }
        Expr::ScalarFunction(mut f)
            if matches!(
                f.func.name(),
                "acos" | "asin" | "ln" | "log" | "log10" | "log2"
            ) =>
        {
            let name = f.func.name().to_string();
            let checked =
                |a: &Expr| matches!(a, Expr::ScalarFunction(g) if g.func.name().starts_with("pg_"));
            if f.args.iter().all(checked) {
                return Ok(Transformed::no(Expr::ScalarFunction(f)));
            }
            // DataFusion's logarithm of a narrow numeric fails (it cannot
            // write its base 10 in the argument's type): as a float.
            f.args = f
                .args
                .into_iter()
                .map(|a| {
                    let a = match a.get_type(schema) {
                        Ok(DataType::Decimal128(..) | DataType::Decimal256(..)) => {
                            Expr::Cast(Cast::new(Box::new(a), DataType::Float64))
                        }
                        _ => a,
                    };
                    super::checks::checked_argument(&name, a.clone()).unwrap_or(a)
                })
                .collect();
            Ok(Transformed::yes(Expr::ScalarFunction(f)))
        }
        Expr::ScalarFunction(mut f)
            if matches!(f.func.name(), "round" | "ceil" | "floor" | "trunc")
                && f.args.len() == 1
                && f.args[0].get_type(schema).is_ok_and(|t| t.is_integer()) =>
        {
            // PostgreSQL has these for double precision and numeric, and
            // reads an integer as a double precision.
            let arg = f.args.remove(0);
            f.args
                .push(Expr::Cast(Cast::new(Box::new(arg), DataType::Float64)));
            Ok(Transformed::yes(Expr::ScalarFunction(f)))
        }
        Expr::ScalarFunction(f)
            if f.func.name() == "round"
                && f.args.len() == 1
                && f.args[0]
                    .get_type(schema)
                    .is_ok_and(|t| matches!(t, DataType::Float64 | DataType::Float32))
                && !matches!(&f.args[0], Expr::Cast(Cast { expr, .. })
                    if expr.get_type(schema).is_ok_and(|t| matches!(t, DataType::Decimal128(..)))) =>
        {
            // A float rounds half to even, as PostgreSQL's `rint`.
            let arg = f.args.into_iter().next().expect("one argument");
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(
                    RINT.clone(),
                    vec![Expr::Cast(Cast::new(Box::new(arg), DataType::Float64))],
                ),
            )))
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
            // (The coercion may have cast the digits to an int4.)
            let digits = f.args.get(1).map(|mut d| {
                while let Expr::Cast(Cast { expr, .. }) = d {
                    d = expr.as_ref();
                }
                d
            });
            let scale = match digits {
                None => Some(0),
                Some(Expr::Literal(v, _)) => match v.cast_to(&DataType::Int64) {
                    // A negative scale rounds left of the point: no decimals.
                    Ok(datafusion::common::ScalarValue::Int64(Some(n)))
                        if (-30..=30).contains(&n) =>
                    {
                        Some(n.max(0) as i8)
                    }
                    _ => None,
                },
                Some(_) => None,
            };
            // Room for the carry (`ceil(0.5)` is 1, more than numeric(1,1)
            // holds: DataFusion overflows).
            let mut f = f;
            if let Ok(DataType::Decimal128(p, s)) = f.args[0].get_type(schema) {
                if p < 38 {
                    let arg = f.args.remove(0);
                    f.args.insert(
                        0,
                        Expr::Cast(Cast::new(Box::new(arg), DataType::Decimal128(38, s))),
                    );
                }
            }
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
        Expr::ScalarFunction(f) if result_type(&f, schema).is_some() => {
            let to = result_type(&f, schema).expect("checked");
            Ok(Transformed::yes(Expr::Cast(Cast::new(
                Box::new(Expr::ScalarFunction(f)),
                to,
            ))))
        }
        Expr::ScalarSubquery(sq)
            if sq.subquery.schema().fields().len() == 1
                && !sq.subquery.schema().field(0).is_nullable() =>
        {
            // A scalar subquery of no rows is NULL, whatever its column
            // (`(SELECT name FROM persons WHERE false)` failed: the column
            // was declared NOT NULL).
            let (qualifier, field) = sq.subquery.schema().qualified_field(0);
            let column = Expr::Column(datafusion::common::Column::new(
                qualifier.cloned(),
                field.name(),
            ));
            let nullable =
                Expr::ScalarFunction(ScalarFunction::new_udf(NULLABLE.clone(), vec![column]))
                    .alias(field.name());
            let plan = datafusion::logical_expr::Projection::try_new(
                vec![nullable],
                Arc::clone(&sq.subquery),
            )?;
            let mut sq = sq;
            sq.subquery = Arc::new(LogicalPlan::Projection(plan));
            Ok(Transformed::yes(Expr::ScalarSubquery(sq)))
        }
        other => Ok(Transformed::no(other)),
    }
}

/// The type PostgreSQL gives a function's result where DataFusion's differs
/// in type only: `gcd`/`lcm` of int4s are int4, `sign` of a numeric and
/// `factorial` are numeric, array lengths and positions are int4 (DataFusion:
/// unsigned, which clients would read as numeric).
fn result_type(f: &ScalarFunction, schema: &DFSchema) -> Option<DataType> {
    let int4 = |e: &Expr| {
        strip_casts(e)
            .get_type(schema)
            .is_ok_and(|t| matches!(t, DataType::Int32 | DataType::Int16))
    };
    let returns = |t: DataType| {
        Expr::ScalarFunction(f.clone())
            .get_type(schema)
            .is_ok_and(|r| r == t)
    };
    match f.func.name() {
        "gcd" | "lcm" if f.args.iter().all(int4) && returns(DataType::Int64) => {
            Some(DataType::Int32)
        }
        "sign" | "signum"
            if f.args.len() == 1
                && numeric_before_coercion(&f.args[0], schema)
                && returns(DataType::Float64) =>
        {
            Some(DataType::Decimal128(38, 0))
        }
        "factorial" if returns(DataType::Int64) => Some(DataType::Decimal128(38, 0)),
        "array_length" | "cardinality" | "array_position" | "array_ndims"
            if returns(DataType::UInt64) =>
        {
            Some(DataType::Int32)
        }
        _ => None,
    }
}

/// Whether `e` was a numeric before type coercion cast it to a float (a
/// column, a literal, or a user's own cast to numeric, `NULL::numeric`).
fn numeric_before_coercion(e: &Expr, schema: &DFSchema) -> bool {
    let e = match e {
        Expr::Cast(Cast { expr, field }) if field.data_type() == &DataType::Float64 => expr,
        e => e,
    };
    e.get_type(schema)
        .is_ok_and(|t| matches!(t, DataType::Decimal128(..)))
}

/// An expression without the casts around it.
fn strip_casts(mut e: &Expr) -> &Expr {
    while let Expr::Cast(Cast { expr, .. }) = e {
        e = expr.as_ref();
    }
    e
}

/// The arguments of a math function as PostgreSQL's numeric version takes
/// them, when it is that version PostgreSQL would call: every argument a
/// numeric or an integer (before the coercion's cast to a float), one at
/// least a numeric. Integer constants become numeric constants.
fn numeric_arguments(name: &str, args: &[Expr], schema: &DFSchema) -> Option<Vec<Expr>> {
    use datafusion::common::ScalarValue;
    // PostgreSQL's log(b, x) is numeric only.
    let mut any_numeric = name == "log" && args.len() == 2;
    let out = args
        .iter()
        .map(|a| {
            let inner = match a {
                Expr::Cast(Cast { expr, field }) if field.data_type() == &DataType::Float64 => {
                    expr.as_ref()
                }
                a => a,
            };
            match inner.get_type(schema).ok()? {
                DataType::Decimal128(..) => {
                    any_numeric = true;
                    Some(inner.clone())
                }
                t if t.is_integer() => Some(match inner {
                    Expr::Literal(v, _) => match v.cast_to(&DataType::Int64).ok()? {
                        ScalarValue::Int64(v) => {
                            Expr::Literal(ScalarValue::Decimal128(v.map(i128::from), 38, 0), None)
                        }
                        _ => return None,
                    },
                    e => Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Decimal128(38, 0))),
                }),
                _ => None,
            }
        })
        .collect::<Option<Vec<_>>>()?;
    any_numeric.then_some(out)
}

/// Timestamps with PostgreSQL's zones (see [`super::zones`]): the epoch
/// seconds of `to_timestamp(number)` are an instant (DataFusion reads them
/// in the session's zone), `date_trunc` of a date truncates the date's local
/// midnight and is a `timestamptz`, and an instant made by `AT TIME ZONE` is
/// shown in the session's zone.
fn zoned(e: Expr, schema: &DFSchema, zone: &Arc<str>) -> Result<Transformed<Expr>> {
    let Expr::ScalarFunction(f) = e else {
        return Ok(Transformed::no(e));
    };
    let local = |unit: TimeUnit| DataType::Timestamp(unit, Some(Arc::clone(zone)));
    match (f.func.name(), f.args.as_slice()) {
        ("to_timestamp", [x])
            if x.get_type(schema)
                .is_ok_and(|t| t.is_numeric() && !matches!(t, DataType::Timestamp(..))) =>
        {
            // Microseconds, as PostgreSQL keeps them.
            let micros = Expr::ScalarFunction(ScalarFunction::new_udf(
                RINT.clone(),
                vec![Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(Expr::Cast(Cast::new(
                        Box::new(x.clone()),
                        DataType::Float64,
                    ))),
                    Operator::Multiply,
                    Box::new(Expr::Literal(
                        datafusion::common::ScalarValue::Float64(Some(1e6)),
                        None,
                    )),
                ))],
            ));
            let micros = Expr::Cast(Cast::new(Box::new(micros), DataType::Int64));
            Ok(Transformed::yes(Expr::Cast(Cast::new(
                Box::new(micros),
                local(TimeUnit::Microsecond),
            ))))
        }
        ("date_trunc", [unit, Expr::Cast(Cast { expr: date, field })])
            if matches!(field.data_type(), DataType::Timestamp(_, None))
                && date
                    .get_type(schema)
                    .is_ok_and(|t| matches!(t, DataType::Date32 | DataType::Date64)) =>
        {
            let midnight = Expr::ScalarFunction(ScalarFunction::new_udf(
                Arc::clone(&super::zones::LOCAL_MIDNIGHT),
                vec![
                    date.as_ref().clone(),
                    Expr::Literal(datafusion::common::ScalarValue::from(zone.as_ref()), None),
                ],
            ));
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(Arc::clone(&f.func), vec![unit.clone(), midnight]),
            )))
        }
        ("pg_at_time_zone", _) => {
            let e = Expr::ScalarFunction(f);
            match e.get_type(schema) {
                Ok(DataType::Timestamp(unit, Some(z))) if z != *zone => Ok(Transformed::yes(
                    Expr::Cast(Cast::new(Box::new(e), local(unit))),
                )),
                _ => Ok(Transformed::no(e)),
            }
        }
        _ => Ok(Transformed::no(Expr::ScalarFunction(f))),
    }
}

/// `avg` of integers or numerics is PostgreSQL's numeric: the sum divided
/// by the count as numerics divide (`avg` of 1, 2 and 4 is
/// `2.3333333333333333`; DataFusion's float average is
/// `2.3333333333333335`). An aggregation with such averages computes sums
/// and counts instead, and a projection above it the quotients, under the
/// averages' names. (Grouping sets, whose output carries an internal
/// grouping id, keep DataFusion's average.)
fn exact_averages(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::logical_expr::expr::AggregateFunction;
    use datafusion::logical_expr::{Aggregate, Projection};
    let settle = Settle::default();
    plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::Aggregate(agg) = node else {
            return settle.after(Transformed::no(node));
        };
        let input_schema = agg.input.schema().clone();
        let exact = |e: &Expr| -> Option<(AggregateFunction, DataType)> {
            let inner = match e {
                Expr::Alias(a) => a.expr.as_ref(),
                e => e,
            };
            let Expr::AggregateFunction(f) = inner else {
                return None;
            };
            if f.func.name() != "avg" || f.params.args.len() != 1 {
                return None;
            }
            // (The coercion casts an integer argument to a float.)
            let mut f = f.clone();
            if let Expr::Cast(Cast { expr, field }) = &f.params.args[0] {
                if field.data_type() == &DataType::Float64
                    && expr.get_type(&input_schema).is_ok_and(|t| t.is_integer())
                {
                    f.params.args[0] = expr.as_ref().clone();
                }
            }
            let t = f.params.args[0].get_type(&input_schema).ok()?;
            let scale = match t {
                DataType::Decimal128(_, s) => s,
                t if t.is_integer() => 0,
                _ => return None,
            };
            Some((f, DataType::Decimal128(38, scale)))
        };
        let grouping_sets = agg
            .group_expr
            .iter()
            .any(|e| matches!(e, Expr::GroupingSet(_)));
        if grouping_sets || !agg.aggr_expr.iter().any(|e| exact(e).is_some()) {
            return settle.after(Transformed::no(LogicalPlan::Aggregate(agg)));
        }
        let mut aggr_expr = Vec::new();
        let mut finals = Vec::new();
        let group_count = agg.group_expr.len();
        for (i, (e, (qualifier, field))) in agg
            .aggr_expr
            .iter()
            .zip(agg.schema.iter().skip(group_count))
            .enumerate()
        {
            match exact(e) {
                Some((f, decimal)) => {
                    let (sum_name, count_name) =
                        (format!("__pg_avg_sum_{i}"), format!("__pg_avg_count_{i}"));
                    let with = |func: Arc<datafusion::logical_expr::AggregateUDF>, arg: Expr| {
                        let mut g = f.clone();
                        g.func = func;
                        g.params.args = vec![arg];
                        Expr::AggregateFunction(g)
                    };
                    let arg = f.params.args[0].clone();
                    aggr_expr.push(
                        with(
                            datafusion::functions_aggregate::sum::sum_udaf(),
                            Expr::Cast(Cast::new(Box::new(arg.clone()), decimal)),
                        )
                        .alias(&sum_name),
                    );
                    aggr_expr.push(
                        with(datafusion::functions_aggregate::count::count_udaf(), arg)
                            .alias(&count_name),
                    );
                    finals.push(
                        Expr::ScalarFunction(ScalarFunction::new_udf(
                            Arc::clone(&super::numeric_math::DIVIDE),
                            vec![
                                Expr::Column(datafusion::common::Column::from_name(sum_name)),
                                Expr::Cast(Cast::new(
                                    Box::new(Expr::Column(datafusion::common::Column::from_name(
                                        count_name,
                                    ))),
                                    DataType::Decimal128(20, 0),
                                )),
                            ],
                        ))
                        .alias_qualified(qualifier.cloned(), field.name()),
                    );
                }
                None => {
                    aggr_expr.push(e.clone());
                    finals.push(Expr::Column(datafusion::common::Column::new(
                        qualifier.cloned(),
                        field.name(),
                    )));
                }
            }
        }
        let groups: Vec<Expr> = agg
            .schema
            .iter()
            .take(group_count)
            .map(|(q, f)| Expr::Column(datafusion::common::Column::new(q.cloned(), f.name())))
            .collect();
        let inner = Aggregate::try_new(agg.input.clone(), agg.group_expr.clone(), aggr_expr)?;
        let exprs = groups.into_iter().chain(finals).collect();
        let projection = Projection::try_new(exprs, Arc::new(LogicalPlan::Aggregate(inner)))?;
        settle.after(Transformed::yes(LogicalPlan::Projection(projection)))
    })
    .map(|t| t.data)
}

/// `date_part` is a `double precision` in PostgreSQL; DataFusion's is an
/// integer for most parts. What a select list or a grouping shows is cast
/// (`2024` either way, but typed as PostgreSQL types it, so a client reads
/// the type it expects); a filter keeps the integer, whose year pre-image
/// prunes row groups.
fn date_part_as_double(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let is_integer_part =
        |e: &Expr| matches!(e, Expr::ScalarFunction(f) if f.func.name() == "date_part");
    let settle = Settle::default();
    plan.transform_up_with_subqueries(|node| {
        if !matches!(node, LogicalPlan::Projection(_) | LogicalPlan::Aggregate(_)) {
            return settle.after(Transformed::no(node));
        }
        let schema = {
            let mut schema = DFSchema::empty();
            for input in node.inputs() {
                schema.merge(input.schema());
            }
            schema
        };
        let names = NamePreserver::new(&node);
        let changed = node.map_expressions(|e| {
            let original = names.save(&e);
            let e = e.transform_down(|e| {
                // Already a double, or EXTRACT's numeric (an integer casts
                // to a decimal much faster than a float does).
                if let Expr::Cast(Cast { expr, field }) = &e {
                    if is_integer_part(expr)
                        && matches!(
                            field.data_type(),
                            DataType::Float64 | DataType::Decimal128(..)
                        )
                    {
                        return Ok(Transformed::new(e, false, TreeNodeRecursion::Jump));
                    }
                }
                if is_integer_part(&e) && e.get_type(&schema).is_ok_and(|t| t.is_integer()) {
                    let cast = Expr::Cast(Cast::new(Box::new(e), DataType::Float64));
                    return Ok(Transformed::new(cast, true, TreeNodeRecursion::Jump));
                }
                Ok(Transformed::no(e))
            })?;
            Ok(e.update_data(|e| original.restore(e)))
        })?;
        if changed.transformed {
            settle.after(changed.map_data(|p| p.recompute_schema())?)
        } else {
            settle.after(changed)
        }
    })
    .map(|t| t.data)
}

/// `row_number`, `rank` and `dense_rank` are bigints and `ntile` an integer
/// in PostgreSQL; DataFusion's are unsigned (which clients would read as
/// numeric): cast where a projection takes them from the window.
fn window_counts(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::logical_expr::expr::WindowFunctionDefinition;
    let mut counts = std::collections::HashMap::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Window(w) = node {
            for e in &w.window_expr {
                let mut inner = e;
                while let Expr::Alias(a) = inner {
                    inner = a.expr.as_ref();
                }
                if let Expr::WindowFunction(f) = inner {
                    if let WindowFunctionDefinition::WindowUDF(udf) = &f.fun {
                        let to = match udf.name() {
                            "row_number" | "rank" | "dense_rank" => DataType::Int64,
                            "ntile" => DataType::Int32,
                            _ => continue,
                        };
                        counts.insert(e.schema_name().to_string(), to);
                    }
                }
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })?;
    if counts.is_empty() {
        return Ok(plan);
    }
    plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::Projection(_) = node else {
            // (A parent's types follow its rewritten input.)
            return node.recompute_schema().map(Transformed::yes);
        };
        let schema = node.inputs()[0].schema().clone();
        let names = NamePreserver::new(&node);
        node.map_expressions(|e| {
            let original = names.save(&e);
            let e = e.transform_up(|e| match &e {
                Expr::Column(c)
                    if counts.contains_key(&c.name)
                        && e.get_type(&schema).is_ok_and(|t| t == DataType::UInt64) =>
                {
                    let to = counts[&c.name].clone();
                    Ok(Transformed::yes(Expr::Cast(Cast::new(Box::new(e), to))))
                }
                _ => Ok(Transformed::no(e)),
            })?;
            Ok(e.update_data(|e| original.restore(e)))
        })?
        .map_data(|p| p.recompute_schema())
    })
    .map(|t| t.data)
}

/// The statement's own timestamptz columns in the session's zone: an
/// instant read from a file labelled UTC is shown as PostgreSQL shows every
/// timestamptz, in the session's `TimeZone`.
fn shown_in_zone(plan: LogicalPlan, zone: &Arc<str>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Projection(p) => {
            let foreign = |t: &DataType| matches!(t, DataType::Timestamp(_, Some(z)) if z != zone);
            if !p.schema.fields().iter().any(|f| foreign(f.data_type())) {
                return Ok(LogicalPlan::Projection(p));
            }
            let exprs = p
                .expr
                .iter()
                .zip(p.schema.iter())
                .map(|(e, (qualifier, field))| match field.data_type() {
                    DataType::Timestamp(unit, Some(z)) if z != zone => {
                        let inner = match e {
                            Expr::Alias(a) => a.expr.as_ref().clone(),
                            e => e.clone(),
                        };
                        Expr::Cast(Cast::new(
                            Box::new(inner),
                            DataType::Timestamp(*unit, Some(Arc::clone(zone))),
                        ))
                        .alias_qualified(qualifier.cloned(), field.name())
                    }
                    _ => e.clone(),
                })
                .collect();
            Ok(LogicalPlan::Projection(
                datafusion::logical_expr::Projection::try_new(exprs, p.input)?,
            ))
        }
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => {
            let plan = plan.map_children(|c| shown_in_zone(c, zone).map(Transformed::yes))?;
            plan.data.recompute_schema()
        }
        other => Ok(other),
    }
}

/// Date and timestamp arithmetic with PostgreSQL's result types: a date
/// plus or minus an interval is a timestamp, a date plus or minus a number
/// of days stays a date, and a timestamp minus a timestamp is an interval of
/// days and time.
fn date_arithmetic(
    left: &Expr,
    op: Operator,
    right: &Expr,
    lt: &DataType,
    rt: &DataType,
    schema: &DFSchema,
) -> Option<Expr> {
    use datafusion::arrow::datatypes::IntervalUnit::{MonthDayNano, YearMonth};
    if !matches!(op, Operator::Plus | Operator::Minus) {
        return None;
    }
    if op == Operator::Minus
        && matches!(lt, DataType::Timestamp(..))
        && matches!(rt, DataType::Timestamp(..))
    {
        return Some(Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::clone(&super::intervals::TIMESTAMP_DIFF),
            vec![left.clone(), right.clone()],
        )));
    }
    // The coercion turns a number of days into an interval through casts;
    // only a written interval makes a timestamp.
    let from_number = |mut e: &Expr| {
        while let Expr::Cast(Cast { expr, .. }) = e {
            e = expr.as_ref();
        }
        e.get_type(schema).is_ok_and(|t| t.is_integer())
    };
    if from_number(left) || from_number(right) {
        return None;
    }
    let as_timestamp = |e: &Expr| {
        Box::new(Expr::Cast(Cast::new(
            Box::new(e.clone()),
            DataType::Timestamp(TimeUnit::Nanosecond, None),
        )))
    };
    let date = |t: &DataType| matches!(t, DataType::Date32 | DataType::Date64);
    let interval = |t: &DataType| matches!(t, DataType::Interval(MonthDayNano | YearMonth));
    if date(lt) && interval(rt) {
        return Some(Expr::BinaryExpr(BinaryExpr::new(
            as_timestamp(left),
            op,
            Box::new(right.clone()),
        )));
    }
    if interval(lt) && date(rt) && op == Operator::Plus {
        return Some(Expr::BinaryExpr(BinaryExpr::new(
            Box::new(left.clone()),
            op,
            as_timestamp(right),
        )));
    }
    None
}

/// `date_part` with PostgreSQL's answers where DataFusion's differ: seconds
/// (and milli-, microseconds) keep their fraction (`59.5`, not `59`), the
/// epoch of an interval counts a year as 365.25 days, and a date has no
/// time parts (PostgreSQL refuses them).
fn date_part(f: &ScalarFunction, schema: &DFSchema) -> Result<Option<Expr>> {
    let [Expr::Literal(part, _), source] = f.args.as_slice() else {
        return Ok(None);
    };
    let Some(part) = part.try_as_str().flatten().map(str::to_ascii_lowercase) else {
        return Ok(None);
    };
    let Ok(t) = source.get_type(schema) else {
        return Ok(None);
    };
    let unit = |name: &str| {
        Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::clone(&f.func),
            vec![
                Expr::Literal(datafusion::common::ScalarValue::from(name), None),
                source.clone(),
            ],
        ))
    };
    let micros_over = |divisor: f64| {
        Expr::BinaryExpr(BinaryExpr::new(
            Box::new(Expr::Cast(Cast::new(
                Box::new(unit("microsecond")),
                DataType::Float64,
            ))),
            Operator::Divide,
            Box::new(Expr::Literal(
                datafusion::common::ScalarValue::Float64(Some(divisor)),
                None,
            )),
        ))
    };
    let time_part = matches!(
        part.as_str(),
        "hour"
            | "minute"
            | "second"
            | "millisecond"
            | "milliseconds"
            | "microsecond"
            | "microseconds"
    );
    let null = |mut e: &Expr| {
        while let Expr::Cast(Cast { expr, .. }) = e {
            e = expr.as_ref();
        }
        matches!(e, Expr::Literal(v, _) if v.is_null())
    };
    Ok(match &t {
        // (PostgreSQL's function is strict: a NULL date gives NULL.)
        DataType::Date32 | DataType::Date64 if time_part && !null(source) => {
            return Err(datafusion::common::DataFusionError::External(Box::new(
                crate::EngineError::new(
                    crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                    format!("unit \"{part}\" not supported for type date"),
                ),
            )))
        }
        DataType::Timestamp(..) | DataType::Time64(_) | DataType::Time32(_) => {
            match part.as_str() {
                "second" => Some(micros_over(1e6)),
                "millisecond" | "milliseconds" => Some(micros_over(1e3)),
                _ => None,
            }
        }
        // The Julian day: days since 4714-11-24 BC (the epoch is day
        // 2440588). A timestamp's fraction of a day stays unsupported.
        DataType::Date32 if part == "julian" => Some(Expr::Cast(Cast::new(
            Box::new(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(Expr::Cast(Cast::new(
                    Box::new(source.clone()),
                    DataType::Int32,
                ))),
                Operator::Plus,
                Box::new(Expr::Literal(
                    datafusion::common::ScalarValue::Int32(Some(2_440_588)),
                    None,
                )),
            ))),
            DataType::Float64,
        ))),
        DataType::Interval(_) if part == "epoch" => {
            Some(Expr::ScalarFunction(ScalarFunction::new_udf(
                Arc::clone(&super::intervals::INTERVAL_EPOCH),
                vec![Expr::Cast(Cast::new(
                    Box::new(source.clone()),
                    DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano),
                ))],
            )))
        }
        _ => None,
    })
}

/// Before type coercion: integer literals are `int4` where they fit, and a boolean compared with a text literal PostgreSQL
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
        // (A recursive query's working table is typed before this runs: its
        // literals stay as they are.)
        let recursive = plan
            .exists(|p| Ok(matches!(p, LogicalPlan::RecursiveQuery(_))))
            .unwrap_or(true);
        let plan = if recursive {
            plan
        } else {
            let plan = rewrite_plan(plan, true, &|e, _| integer_literal(e))?;
            int4_rows(plan)?
        };
        rewrite_plan(plan, false, &|e, schema| {
            refused(&e, schema)?;
            boolean_comparison(e, schema)?
                .transform_data(|e| real_with_other(e, schema))?
                .transform_data(|e| array_text(e, schema))
        })
    }

    fn name(&self) -> &str {
        "postgres_boolean_literals"
    }
}

/// What PostgreSQL has no operator or cast for, refused as it refuses it
/// (DataFusion would answer): `%` of a double precision or real, and a
/// boolean cast to a number other than `int4`.
fn refused(e: &Expr, schema: &DFSchema) -> Result<()> {
    use crate::error::sqlstate;
    let refuse = |code, message: String| {
        Err(datafusion::common::DataFusionError::External(Box::new(
            crate::EngineError::new(code, message),
        )))
    };
    let name = |e: &Expr| {
        e.get_type(schema)
            .map(|t| super::proc::pg_type_name(&t))
            .unwrap_or_default()
    };
    match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Modulo,
            right,
        }) if [left, right]
            .iter()
            .any(|e| e.get_type(schema).is_ok_and(|t| t.is_floating())) =>
        {
            refuse(
                sqlstate::UNDEFINED_FUNCTION,
                format!("operator does not exist: {} % {}", name(left), name(right)),
            )
        }
        Expr::Cast(Cast { expr, field })
            if expr.get_type(schema).is_ok_and(|t| t == DataType::Boolean)
                && (field.data_type().is_numeric() && field.data_type() != &DataType::Int32) =>
        {
            refuse(
                sqlstate::CANNOT_COERCE,
                format!(
                    "cannot cast type boolean to {}",
                    super::proc::pg_type_name(field.data_type())
                ),
            )
        }
        _ => Ok(()),
    }
}

/// The int4 literals above reach the types of what combines rows: a VALUES
/// column of integer literals that all fit is int4 (its schema was fixed
/// before this rule), and a UNION's column types are found again from its
/// branches (`SELECT 1 UNION SELECT 2` is int4, as in PostgreSQL; type
/// coercion widens where branches differ).
fn int4_rows(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{Union, Values};
    let fits = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => i32::try_from(*v).is_ok(),
        Expr::Literal(ScalarValue::Int32(_), _) => true,
        _ => false,
    };
    let combines = plan
        .exists(|p| Ok(matches!(p, LogicalPlan::Values(_) | LogicalPlan::Union(_))))
        .unwrap_or(false);
    if !combines {
        return Ok(plan);
    }
    plan.transform_up_with_subqueries(|node| match node {
        LogicalPlan::Values(Values { schema, values }) => {
            let width = schema.fields().len();
            let narrow: Vec<bool> = (0..width)
                .map(|c| {
                    schema.field(c).data_type() == &DataType::Int64
                        && values.iter().all(|row| fits(&row[c]))
                })
                .collect();
            if !narrow.contains(&true) {
                return Ok(Transformed::no(LogicalPlan::Values(Values {
                    schema,
                    values,
                })));
            }
            let values = values
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .zip(&narrow)
                        .map(|(e, &narrow)| match e {
                            Expr::Literal(ScalarValue::Int64(Some(v)), m) if narrow => {
                                Expr::Literal(ScalarValue::Int32(Some(v as i32)), m)
                            }
                            e => e,
                        })
                        .collect()
                })
                .collect();
            let fields = schema
                .iter()
                .zip(&narrow)
                .map(|((q, f), &narrow)| {
                    let f = if narrow {
                        Arc::new(f.as_ref().clone().with_data_type(DataType::Int32))
                    } else {
                        Arc::clone(f)
                    };
                    (q.cloned(), f)
                })
                .collect();
            let schema = Arc::new(DFSchema::new_with_metadata(
                fields,
                schema.metadata().clone(),
            )?);
            Ok(Transformed::yes(LogicalPlan::Values(Values {
                schema,
                values,
            })))
        }
        LogicalPlan::Union(u) => {
            let union = Union::try_new_with_loose_types(u.inputs)?;
            Ok(Transformed::yes(LogicalPlan::Union(union)))
        }
        // (Above a changed node, the schema follows.)
        node => node.recompute_schema().map(Transformed::yes),
    })
    .map(|t| t.data)
}

/// A numeric literal written with an exponent keeps no negative scale, and an
/// integer literal is an `int4` where it fits, as PostgreSQL reads
/// `1` (DataFusion reads every integer literal as an `int8`): `SELECT 1` is
/// an int4 to every driver, `to_hex(-1)` is `ffffffff`, and `2147483647 + 1`
/// overflows as in PostgreSQL.
fn integer_literal(e: Expr) -> Result<Transformed<Expr>> {
    use datafusion::common::ScalarValue;
    match e {
        // `count(*)` (DataFusion's count(1)) keeps its int8 1: only in that
        // form is it answered from file statistics; a count's argument is
        // only tested for NULL, so its type changes no answer.
        Expr::AggregateFunction(mut f)
            if f.func.name() == "count"
                && matches!(
                    f.params.args.as_slice(),
                    [Expr::Literal(ScalarValue::Int32(Some(1)), _)]
                ) =>
        {
            f.params.args[0] = Expr::Literal(ScalarValue::Int64(Some(1)), None);
            Ok(Transformed::yes(Expr::AggregateFunction(f)))
        }
        // A minus on a constant is part of the constant (`-(-2147483648)`
        // is the int8 2147483648, as PostgreSQL folds it).
        Expr::Negative(inner)
            if matches!(
                inner.as_ref(),
                Expr::Literal(ScalarValue::Int32(Some(_)) | ScalarValue::Int64(Some(_)), _)
            ) =>
        {
            let Expr::Literal(v, metadata) = *inner else {
                unreachable!("matched above")
            };
            let v = match v {
                ScalarValue::Int32(Some(v)) => -(v as i64),
                ScalarValue::Int64(Some(v)) if v != i64::MIN => -v,
                v => {
                    return Ok(Transformed::no(Expr::Negative(Box::new(Expr::Literal(
                        v, metadata,
                    )))))
                }
            };
            integer_literal(Expr::Literal(ScalarValue::Int64(Some(v)), metadata))
                .map(|t| Transformed::yes(t.data))
        }
        Expr::Literal(ScalarValue::Int64(Some(v)), metadata)
            if v >= i32::MIN as i64 && v <= i32::MAX as i64 =>
        {
            Ok(Transformed::yes(Expr::Literal(
                ScalarValue::Int32(Some(v as i32)),
                metadata,
            )))
        }
        // `1e3` is the numeric 1000 (scale 0) in PostgreSQL; a negative
        // Arrow scale breaks `abs`, negation and casts.
        Expr::Literal(ScalarValue::Decimal128(Some(v), p, s), metadata) if s < 0 => {
            let widened = 10i128
                .checked_pow(s.unsigned_abs() as u32)
                .and_then(|f| v.checked_mul(f))
                .filter(|v| v.unsigned_abs() < 10u128.pow(38));
            match widened {
                Some(v) => Ok(Transformed::yes(Expr::Literal(
                    ScalarValue::Decimal128(Some(v), (p as i16 - s as i16).min(38) as u8, 0),
                    metadata,
                ))),
                None => Ok(Transformed::no(Expr::Literal(
                    ScalarValue::Decimal128(Some(v), p, s),
                    metadata,
                ))),
            }
        }
        e => Ok(Transformed::no(e)),
    }
}

/// An array compared with PostgreSQL's text of an array (`polroles <>
/// '{0}'` in psql's `\dp`) compares with that array; DataFusion finds no
/// common type.
fn array_text(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    use datafusion::common::ScalarValue;
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else {
        return Ok(Transformed::no(e));
    };
    let as_array = |list: &Expr, text: &Expr| -> Option<Expr> {
        let Ok(DataType::List(field)) = list.get_type(schema) else {
            return None;
        };
        let Expr::Literal(ScalarValue::Utf8(Some(t)), _) = text else {
            return None;
        };
        let inner = t.trim().strip_prefix('{')?.strip_suffix('}')?;
        let items: Option<Vec<ScalarValue>> = inner
            .split(',')
            .filter(|i| !i.trim().is_empty())
            .map(|i| {
                let i = i.trim().trim_matches('"');
                if i.eq_ignore_ascii_case("null") {
                    ScalarValue::try_from(field.data_type()).ok()
                } else {
                    ScalarValue::try_from_string(i.to_string(), field.data_type()).ok()
                }
            })
            .collect();
        let list = ScalarValue::new_list_nullable(&items?, field.data_type());
        Some(Expr::Literal(ScalarValue::List(list), None))
    };
    let comparison = matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    );
    if comparison {
        if let Some(array) = as_array(&left, &right) {
            return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                left,
                op,
                Box::new(array),
            ))));
        }
        if let Some(array) = as_array(&right, &left) {
            return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(array),
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

/// A `real` in arithmetic with an integer or a numeric is computed as
/// `double precision`, as PostgreSQL resolves the operator (`1::real / 3`
/// is `0.3333333333333333`), where DataFusion would stay in `real`.
fn real_with_other(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else {
        return Ok(Transformed::no(e));
    };
    let arithmetic = matches!(
        op,
        Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide
    );
    let kind = |e: &Expr| e.get_type(schema).ok();
    let other = |t: &Option<DataType>| {
        t.as_ref()
            .is_some_and(|t| t.is_integer() || matches!(t, DataType::Decimal128(..)))
    };
    let (lt, rt) = (kind(&left), kind(&right));
    let real = |t: &Option<DataType>| t == &Some(DataType::Float32);
    if arithmetic && ((real(&lt) && other(&rt)) || (other(&lt) && real(&rt))) {
        let double = |e: Box<Expr>| Box::new(Expr::Cast(Cast::new(e, DataType::Float64)));
        return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
            double(left),
            op,
            double(right),
        ))));
    }
    Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
        left,
        op,
        right,
    })))
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
static NULLABLE: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(Nullable {
        signature: Signature::any(1, Volatility::Immutable),
    }))
});

/// Its argument, declared nullable (see the scalar subqueries above).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Nullable {
    signature: Signature,
}

impl ScalarUDFImpl for Nullable {
    fn name(&self) -> &str {
        "pg_nullable"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }
    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
            self.name(),
            args.arg_fields[0].data_type().clone(),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(args.args[0].clone())
    }
}
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

/// The functions this module's rule puts into plans (a cluster's executors
/// register them).
#[cfg(feature = "cluster")]
pub(crate) fn planned_udfs() -> Vec<Arc<ScalarUDF>> {
    [&RINT, &NULLABLE, &TEXT]
        .into_iter()
        .map(|u| Arc::clone(u))
        .collect()
}
