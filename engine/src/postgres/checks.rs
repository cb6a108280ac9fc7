//! The errors PostgreSQL raises where Arrow's kernels give a value: integer
//! arithmetic that overflows (`9223372036854775807 + 1` wraps in Arrow; in
//! PostgreSQL it is 22003 `bigint out of range`), a float divided by zero
//! (`Infinity` in Arrow; 22012), `acos`/`asin` outside [-1, 1] and the
//! logarithm of zero or a negative number (`NaN` or `-Infinity` in Arrow).
//! A wrapped or NaN number in a report is a silent wrong answer; these make
//! it the error PostgreSQL gives. [`super::casts`] checks the arguments of
//! the functions; [`CheckedArithmetic`], an optimizer rule that runs once the
//! plan is typed and simplified, the operators.

use crate::error::{sqlstate, EngineError};
use datafusion::arrow::array::{ArrayRef, AsArray, Datum};
use datafusion::arrow::compute::kernels::{cast::cast, numeric};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use std::sync::{Arc, LazyLock};

/// What a checked call does.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Check {
    /// Integer `+`, `-`, `*` that fail on overflow.
    Add,
    Sub,
    Mul,
    /// Float `/` that fails on a zero divisor.
    FloatDiv,
    /// The argument of `acos`/`asin`, passed through when in [-1, 1].
    Unit,
    /// The argument of a logarithm, passed through when positive.
    Positive,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Checked {
    check: Check,
    name: &'static str,
    signature: Signature,
}

fn udf(check: Check, name: &'static str, arity: usize) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(Checked {
        check,
        name,
        signature: Signature::any(arity, Volatility::Immutable),
    }))
}

static ADD: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Check::Add, "pg_int_add", 2));
static SUB: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Check::Sub, "pg_int_sub", 2));
static MUL: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Check::Mul, "pg_int_mul", 2));
static FLOAT_DIV: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| udf(Check::FloatDiv, "pg_float_div", 2));
static UNIT: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Check::Unit, "pg_unit_arg", 1));
static POSITIVE: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Check::Positive, "pg_log_arg", 1));

/// Integer `+ - *` and float `/` with PostgreSQL's errors (see the module
/// doc). An optimizer rule rather than part of the analyzer: the analyzer
/// runs twice on a prepared statement, and a deep chain of functions is
/// costly to type again and again (`1 + 1 + … + 1` nine hundred times took
/// seconds); after optimization each operator is seen once, top down, while
/// its operands are still operators.
#[derive(Debug, Default)]
pub(crate) struct CheckedArithmetic;

impl datafusion::optimizer::OptimizerRule for CheckedArithmetic {
    fn name(&self) -> &str {
        "postgres_checked_arithmetic"
    }

    fn rewrite(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
        _config: &dyn datafusion::optimizer::OptimizerConfig,
    ) -> Result<datafusion::common::tree_node::Transformed<datafusion::logical_expr::LogicalPlan>>
    {
        use datafusion::common::tree_node::{Transformed, TreeNode};
        use datafusion::common::DFSchema;
        use datafusion::logical_expr::ExprSchemable;
        use datafusion::optimizer::utils::NamePreserver;
        plan.transform_up_with_subqueries(|plan| {
            let mut schema = DFSchema::empty();
            for input in plan.inputs() {
                schema.merge(input.schema());
            }
            let names = NamePreserver::new(&plan);
            plan.map_expressions(|e| {
                let original = names.save(&e);
                let e = e.transform_down(|e| {
                    let Expr::BinaryExpr(b) = &e else {
                        return Ok(Transformed::no(e));
                    };
                    let (Ok(lt), Ok(rt)) = (b.left.get_type(&schema), b.right.get_type(&schema))
                    else {
                        return Ok(Transformed::no(e));
                    };
                    Ok(match checked_binary(&b.left, b.op, &b.right, &lt, &rt) {
                        Some(checked) => Transformed::yes(checked),
                        None => Transformed::no(e),
                    })
                })?;
                Ok(e.update_data(|e| original.restore(e)))
            })
        })
    }
}

/// `left op right` with PostgreSQL's errors, when the operator and types
/// are ones Arrow answers differently; `None` leaves it as it is.
pub(super) fn checked_binary(
    left: &Expr,
    op: Operator,
    right: &Expr,
    left_type: &DataType,
    right_type: &DataType,
) -> Option<Expr> {
    let func = match op {
        Operator::Plus | Operator::Minus | Operator::Multiply
            if left_type.is_integer() && left_type == right_type =>
        {
            match op {
                Operator::Plus => &ADD,
                Operator::Minus => &SUB,
                _ => &MUL,
            }
        }
        Operator::Divide if left_type.is_floating() && left_type == right_type => &FLOAT_DIV,
        _ => return None,
    };
    Some(Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::clone(func),
        vec![left.clone(), right.clone()],
    )))
}

/// The argument of `acos`/`asin` (`unit`) or of a logarithm, checked.
pub(super) fn checked_argument(function: &str, arg: Expr) -> Option<Expr> {
    let func = match function {
        "acos" | "asin" => &UNIT,
        "ln" | "log" | "log10" | "log2" => &POSITIVE,
        _ => return None,
    };
    Some(Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::clone(func),
        vec![arg],
    )))
}

fn pg_error(code: &'static str, message: impl Into<String>) -> DataFusionError {
    DataFusionError::External(Box::new(EngineError::new(code, message)))
}

/// PostgreSQL's name of an integer type, for `… out of range`.
fn type_word(t: &DataType) -> &'static str {
    match t {
        DataType::Int16 | DataType::Int8 | DataType::UInt8 => "smallint",
        DataType::Int32 | DataType::UInt16 => "integer",
        _ => "bigint",
    }
}

fn datum(v: &ColumnarValue) -> Result<Box<dyn Datum>> {
    Ok(match v {
        ColumnarValue::Array(a) => Box::new(Arc::clone(a)),
        ColumnarValue::Scalar(s) => Box::new(s.to_scalar()?),
    })
}

fn as_floats(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(a, &DataType::Float64)?)
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if all_scalar { 1 } else { args.number_rows };
        let result: ArrayRef = match self.check {
            Check::Add | Check::Sub | Check::Mul => {
                let (l, r) = (datum(&args.args[0])?, datum(&args.args[1])?);
                let out = match self.check {
                    Check::Add => numeric::add(l.as_ref(), r.as_ref()),
                    Check::Sub => numeric::sub(l.as_ref(), r.as_ref()),
                    _ => numeric::mul(l.as_ref(), r.as_ref()),
                };
                match out {
                    Ok(a) => a,
                    Err(ArrowError::ArithmeticOverflow(_)) => {
                        return Err(pg_error(
                            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                            format!(
                                "{} out of range",
                                type_word(&args.return_field.data_type().clone())
                            ),
                        ))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Check::FloatDiv => {
                let divisor = args.args[1].to_array(n)?;
                let floats = as_floats(&divisor)?;
                if floats
                    .as_primitive::<Float64Type>()
                    .iter()
                    .any(|v| v == Some(0.0))
                {
                    return Err(pg_error(sqlstate::DIVISION_BY_ZERO, "division by zero"));
                }
                let (l, r) = (datum(&args.args[0])?, datum(&args.args[1])?);
                numeric::div(l.as_ref(), r.as_ref())?
            }
            Check::Unit | Check::Positive => {
                let arg = args.args[0].to_array(n)?;
                let floats = as_floats(&arg)?;
                for v in floats.as_primitive::<Float64Type>().iter().flatten() {
                    match self.check {
                        Check::Unit if !(-1.0..=1.0).contains(&v) => {
                            return Err(pg_error(
                                sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                                "input is out of range",
                            ))
                        }
                        Check::Positive if v == 0.0 => {
                            return Err(pg_error(
                                sqlstate::INVALID_ARGUMENT_FOR_LOG,
                                "cannot take logarithm of zero",
                            ))
                        }
                        Check::Positive if v < 0.0 => {
                            return Err(pg_error(
                                sqlstate::INVALID_ARGUMENT_FOR_LOG,
                                "cannot take logarithm of a negative number",
                            ))
                        }
                        _ => {}
                    }
                }
                arg
            }
        };
        if all_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?));
        }
        Ok(ColumnarValue::Array(result))
    }
}

/// The functions this module's rule puts into plans (a cluster's executors
/// register them).
#[cfg(feature = "cluster")]
pub(crate) fn planned_udfs() -> Vec<Arc<ScalarUDF>> {
    [&ADD, &SUB, &MUL, &FLOAT_DIV, &UNIT, &POSITIVE]
        .into_iter()
        .map(|u| Arc::clone(u))
        .collect()
}
