//! `sqrt`, `exp`, `ln`, `log`, `log10` and `power` of a `numeric` with
//! PostgreSQL's digits. PostgreSQL computes these in decimal, to a result
//! scale it chooses from the argument (at least 16 significant digits:
//! `sqrt(2.5)` is `1.581138830084190`, `exp(0.5)` `1.6487212707001281`);
//! DataFusion computes them in binary floating point, and the last digits
//! differ. Here each is computed with 40 guard digits and rounded, half away
//! from zero, at PostgreSQL's scale.
//!
//! A result column has one scale: a constant's is PostgreSQL's scale for it;
//! a column's is [`COLUMN_SCALE`], each value rounded at its own scale
//! first, so it is PostgreSQL's number (written with more zeros). A value
//! whose scale would exceed the column's is an error, not other digits.

use crate::error::{sqlstate, EngineError};
use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, Context, RoundingMode, Signed, ToPrimitive, Zero};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use std::num::NonZeroU64;
use std::sync::{Arc, LazyLock};

/// The scale of a result column computed from columns.
pub(crate) const COLUMN_SCALE: i8 = 20;

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`.
const MIN_SIG_DIGITS: i64 = 16;

/// The function for `name` (PostgreSQL's name) over numeric arguments.
pub(crate) fn udf(name: &str) -> Option<Arc<ScalarUDF>> {
    static UDFS: LazyLock<Vec<Arc<ScalarUDF>>> = LazyLock::new(|| {
        ["sqrt", "exp", "ln", "log", "power"]
            .into_iter()
            .map(|name| {
                Arc::new(ScalarUDF::from(NumericMath {
                    name,
                    signature: Signature::variadic_any(Volatility::Immutable),
                }))
            })
            .collect()
    });
    let name = match name {
        "log10" => "log",
        "pow" => "power",
        n => n,
    };
    UDFS.iter()
        .find(|u| u.name() == format!("pg_numeric_{name}"))
        .cloned()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NumericMath {
    name: &'static str,
    signature: Signature,
}

fn pg_error(code: &'static str, message: impl Into<String>) -> DataFusionError {
    DataFusionError::External(Box::new(EngineError::new(code, message)))
}

/// A numeric with PostgreSQL's display scale (`dscale`).
struct Numeric {
    value: BigDecimal,
    dscale: i64,
}

/// PostgreSQL's view of a number: its base-10000 weight and leading
/// base-10000 digits, trailing zero digits dropped (`None` for zero).
fn base_10000(v: &BigDecimal) -> Option<(i64, Vec<u32>)> {
    if v.is_zero() {
        return None;
    }
    let v = v.abs();
    let (digits, scale) = v.as_bigint_and_exponent();
    let text = digits.to_string();
    let leading = text.len() as i64 - 1 - scale;
    let weight = leading.div_euclid(4);
    // Four base-10000 digits from the weight down.
    let shift = 4 * (weight - 3);
    let shifted =
        (v * BigDecimal::new(BigInt::from(1), shift)).with_scale_round(0, RoundingMode::Down);
    let mut n = shifted.to_u128().unwrap_or(0);
    let mut groups = Vec::new();
    for _ in 0..4 {
        groups.push((n % 10_000) as u32);
        n /= 10_000;
    }
    groups.reverse();
    while groups.len() > 1 && groups.last() == Some(&0) {
        groups.pop();
    }
    Some((weight, groups))
}

/// PostgreSQL's `estimate_ln_dweight`: the decimal weight of `ln(v)`.
fn ln_dweight(v: &BigDecimal) -> i64 {
    if !v.is_positive() {
        return 0;
    }
    let near_one =
        v >= &BigDecimal::new(BigInt::from(9), 1) && v <= &BigDecimal::new(BigInt::from(11), 1);
    if near_one {
        return match base_10000(&(v - BigDecimal::from(1))) {
            Some((weight, groups)) => weight * 4 + (groups[0] as f64).log10() as i64,
            None => 0,
        };
    }
    let Some((weight, groups)) = base_10000(v) else {
        return 0;
    };
    let mut digits = groups[0] as f64;
    let mut dweight = weight * 4;
    if groups.len() > 1 {
        digits = digits * 10_000.0 + groups[1] as f64;
        dweight -= 4;
    }
    let ln = digits.ln() + dweight as f64 * std::f64::consts::LN_10;
    ln.abs().log10() as i64
}

fn context(digits: i64) -> Context {
    let precision = NonZeroU64::new(digits.clamp(40, 1_100) as u64).expect("positive");
    Context::default().with_precision(precision)
}

/// `ln(v)` for a positive `v` to about `digits` significant digits: square
/// roots bring the argument near 1, where the series of
/// `atanh((v-1)/(v+1))` converges fast.
fn ln(v: &BigDecimal, digits: i64) -> BigDecimal {
    let ctx = context(digits + 10);
    // v = m · 10^k with m in [1, 10).
    let (int, scale) = v.as_bigint_and_exponent();
    let k = int.to_string().len() as i64 - 1 - scale;
    let mut m = (v * BigDecimal::new(BigInt::from(1), k)).with_precision_round(
        NonZeroU64::new(digits as u64 + 20).expect("positive"),
        RoundingMode::HalfEven,
    );
    let mut halvings = 0u32;
    let near = BigDecimal::new(BigInt::from(1), 3);
    while (&m - BigDecimal::from(1)).abs() > near {
        m = m.sqrt_with_context(&ctx).expect("positive");
        halvings += 1;
    }
    let z = ((&m - BigDecimal::from(1)) / (&m + BigDecimal::from(1))).with_precision_round(
        NonZeroU64::new(digits as u64 + 20).expect("positive"),
        RoundingMode::HalfEven,
    );
    let z2 = (&z * &z).with_precision_round(
        NonZeroU64::new(digits as u64 + 20).expect("positive"),
        RoundingMode::HalfEven,
    );
    let mut term = z.clone();
    let mut sum = z.clone();
    let limit = BigDecimal::new(BigInt::from(1), digits + 20);
    let mut n = 1u64;
    loop {
        term = (&term * &z2).with_precision_round(
            NonZeroU64::new(digits as u64 + 20).expect("positive"),
            RoundingMode::HalfEven,
        );
        n += 2;
        let step = &term / BigDecimal::from(n);
        if step.abs() < limit {
            break;
        }
        sum += step;
    }
    // ln m = 2^halvings · 2 · atanh(z).
    let ln_m = sum * BigDecimal::from(2u64 << halvings.min(60));
    let ln_10 = if k == 0 {
        BigDecimal::zero()
    } else {
        // ln 10 = 3 ln 2 + ln 1.25 (both with m in [1, 10): no recursion).
        let ln_10 = ln(&BigDecimal::from(2), digits) * BigDecimal::from(3)
            + ln(&BigDecimal::new(BigInt::from(125), 2), digits);
        ln_10 * BigDecimal::from(k)
    };
    ln_m + ln_10
}

/// PostgreSQL's answer and result scale for `name(args)`.
fn compute(name: &str, args: &[Numeric]) -> Result<(BigDecimal, i64)> {
    let max_dscale = args.iter().map(|a| a.dscale).max().unwrap_or(0);
    let scale = |rscale: i64| rscale.max(max_dscale).clamp(0, 1000);
    let log_argument = |v: &BigDecimal| -> Result<()> {
        if v.is_zero() {
            return Err(pg_error(
                sqlstate::INVALID_ARGUMENT_FOR_LOG,
                "cannot take logarithm of zero",
            ));
        }
        if v.is_negative() {
            return Err(pg_error(
                sqlstate::INVALID_ARGUMENT_FOR_LOG,
                "cannot take logarithm of a negative number",
            ));
        }
        Ok(())
    };
    match (name, args) {
        ("sqrt", [x]) => {
            if x.value.is_negative() {
                return Err(pg_error(
                    "2201F",
                    "cannot take square root of a negative number",
                ));
            }
            let weight = base_10000(&x.value).map_or(0, |(w, _)| w);
            let rscale = scale(MIN_SIG_DIGITS - (2 * weight + 1));
            let root = x
                .value
                .sqrt_with_context(&context(rscale + 40))
                .unwrap_or_default();
            Ok((root, rscale))
        }
        ("exp", [x]) => {
            let weight = (x.value.to_f64().unwrap_or(0.0) * std::f64::consts::LOG10_E)
                .clamp(-2000.0, 2000.0);
            let rscale = scale(MIN_SIG_DIGITS - weight as i64);
            Ok((
                x.value
                    .exp_with_context(&context(rscale + weight.abs() as i64 + 40)),
                rscale,
            ))
        }
        ("ln", [x]) => {
            log_argument(&x.value)?;
            let rscale = scale(MIN_SIG_DIGITS - ln_dweight(&x.value));
            Ok((ln(&x.value, rscale + 40), rscale))
        }
        ("log", [x]) => compute(
            "log",
            &[
                Numeric {
                    value: BigDecimal::from(10),
                    dscale: 0,
                },
                Numeric {
                    value: x.value.clone(),
                    dscale: x.dscale,
                },
            ],
        ),
        ("log", [base, x]) => {
            log_argument(&base.value)?;
            log_argument(&x.value)?;
            if base.value == 1 {
                return Err(pg_error(sqlstate::DIVISION_BY_ZERO, "division by zero"));
            }
            let rscale = scale(MIN_SIG_DIGITS - (ln_dweight(&x.value) - ln_dweight(&base.value)));
            let digits = rscale + 40;
            Ok((ln(&x.value, digits) / ln(&base.value, digits), rscale))
        }
        ("power", [x, y]) => {
            if x.value.is_zero() && y.value.is_negative() {
                return Err(pg_error(
                    "2201F",
                    "zero raised to a negative power is undefined",
                ));
            }
            let integer = y.value.is_integer();
            if x.value.is_negative() && !integer {
                return Err(pg_error(
                    "2201F",
                    "a negative number raised to a non-integer power yields a complex result",
                ));
            }
            let exponent = y
                .value
                .to_i64()
                .filter(|n| integer && i32::try_from(*n).is_ok());
            if let Some(n) = exponent {
                // PostgreSQL's power_var_int: x ≈ f · 10^p.
                let weight = match base_10000(&x.value) {
                    Some((w, groups)) => {
                        let mut f = 0f64;
                        let mut p = w * 4;
                        for (i, g) in groups.iter().enumerate() {
                            if i > 0 && i * 4 >= 16 {
                                break;
                            }
                            f = f * 10_000.0 + *g as f64;
                            if i > 0 {
                                p -= 4;
                            }
                        }
                        n as f64 * (f.log10() + p as f64)
                    }
                    None => 0.0,
                };
                let rscale = scale(MIN_SIG_DIGITS - weight as i64);
                let power = x.value.powi(n.abs());
                let power = if n < 0 {
                    power.inverse_with_context(&context(rscale + weight.abs() as i64 + 40))
                } else {
                    power
                };
                return Ok((power, rscale));
            }
            let weight = y.value.to_f64().unwrap_or(0.0)
                * x.value.to_f64().unwrap_or(1.0).ln()
                * std::f64::consts::LOG10_E;
            let weight = weight.clamp(-2000.0, 2000.0);
            let rscale = scale(MIN_SIG_DIGITS - weight as i64);
            let digits = rscale + weight.abs() as i64 + 40;
            let exponent = &y.value * ln(&x.value, digits);
            Ok((exponent.exp_with_context(&context(digits)), rscale))
        }
        _ => Err(DataFusionError::Plan(format!(
            "{name} takes other arguments"
        ))),
    }
}

fn numeric_of(v: &ScalarValue) -> Option<Numeric> {
    match v {
        ScalarValue::Decimal128(Some(n), _, s) => Some(Numeric {
            value: BigDecimal::new(BigInt::from(*n), *s as i64),
            dscale: *s as i64,
        }),
        _ => None,
    }
}

/// The answer as a Decimal128 of `scale`, or PostgreSQL's error where it
/// cannot be written there without other digits.
fn to_decimal(value: &BigDecimal, rscale: i64, scale: i8) -> Result<i128> {
    if rscale > scale as i64 {
        return Err(pg_error(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "the result needs {rscale} decimal places, more than the {scale} zhenjie keeps \
                 for a column; cast the argument to double precision"
            ),
        ));
    }
    let rounded = value
        .with_scale_round(rscale, RoundingMode::HalfUp)
        .with_scale(scale as i64);
    let (digits, _) = rounded.into_bigint_and_exponent();
    digits
        .to_i128()
        .filter(|d| d.unsigned_abs() < 10u128.pow(38))
        .ok_or_else(|| {
            pg_error(
                sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                "value out of range: overflow",
            )
        })
}

impl ScalarUDFImpl for NumericMath {
    fn name(&self) -> &str {
        match self.name {
            "sqrt" => "pg_numeric_sqrt",
            "exp" => "pg_numeric_exp",
            "ln" => "pg_numeric_ln",
            "log" => "pg_numeric_log",
            _ => "pg_numeric_power",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        unreachable!("return_field_from_args is implemented")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // A constant's own scale, as PostgreSQL writes it.
        let constants: Option<Vec<Numeric>> = args
            .scalar_arguments
            .iter()
            .map(|a| a.and_then(numeric_of))
            .collect();
        let scale = match constants.map(|c| compute(self.name, &c)) {
            Some(Ok((_, rscale))) if rscale <= 38 => rscale as i8,
            _ => COLUMN_SCALE,
        };
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Decimal128(38, scale),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Decimal128(_, scale) = args.return_field.data_type().clone() else {
            unreachable!("the return type is a Decimal128");
        };
        let n = args.number_rows;
        // Integers read as numerics of scale 0, once for the whole batch.
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| {
                let a = a.to_array(n)?;
                Ok(match a.data_type() {
                    DataType::Decimal128(..) => a,
                    _ => cast(&a, &DataType::Decimal128(38, 0))?,
                })
            })
            .collect::<Result<_>>()?;
        let mut out = Decimal128Builder::with_capacity(n);
        for row in 0..n {
            let mut values = Vec::with_capacity(arrays.len());
            for a in &arrays {
                let DataType::Decimal128(_, s) = a.data_type() else {
                    unreachable!("cast to a decimal above");
                };
                values.push((!a.is_null(row)).then(|| Numeric {
                    value: BigDecimal::new(
                        BigInt::from(a.as_primitive::<Decimal128Type>().value(row)),
                        *s as i64,
                    ),
                    dscale: *s as i64,
                }));
            }
            match values.into_iter().collect::<Option<Vec<_>>>() {
                Some(values) => {
                    let (value, rscale) = compute(self.name, &values)?;
                    out.append_value(to_decimal(&value, rscale, scale)?);
                }
                None => out.append_null(),
            }
        }
        let out = out.finish().with_precision_and_scale(38, scale)?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `a / b` of two numerics as PostgreSQL divides them: to the scale its
/// `select_div_scale` chooses from the operands (16 significant digits at
/// least: `1.0 / 3` is `0.33333333333333333333`, DataFusion's `0.33333`),
/// rounded half away from zero.
pub(crate) static DIVIDE: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(Divide {
        signature: Signature::any(2, Volatility::Immutable),
    }))
});

#[derive(Debug, PartialEq, Eq, Hash)]
struct Divide {
    signature: Signature,
}

/// The base-10000 weight and leading base-10000 digit of `v / 10^scale`
/// (PostgreSQL's `weight` and `digits[0]`; zero for zero).
fn leading_group(v: i128, scale: i8) -> (i64, u32) {
    if v == 0 {
        return (0, 0);
    }
    let v = v.unsigned_abs();
    let digits = v.ilog10() as i64 + 1;
    let exponent = digits - 1 - scale as i64;
    let weight = exponent.div_euclid(4);
    let in_group = exponent - 4 * weight + 1;
    // (The group may run past the last digit: 0.5's is 5000.)
    let first = if digits >= in_group {
        v / 10u128.pow((digits - in_group) as u32)
    } else {
        v * 10u128.pow((in_group - digits) as u32)
    };
    (weight, first as u32)
}

/// PostgreSQL's `select_div_scale`.
fn division_scale(a: i128, sa: i8, b: i128, sb: i8) -> i64 {
    let (w1, f1) = leading_group(a, sa);
    let (w2, f2) = leading_group(b, sb);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    (MIN_SIG_DIGITS - qweight * 4)
        .max(sa as i64)
        .max(sb as i64)
        .clamp(0, 1000)
}

/// `a / b` rounded half away from zero at `rscale`, written at `scale`.
fn divide(a: i128, sa: i8, b: i128, sb: i8, scale: i8) -> Result<i128> {
    use datafusion::arrow::datatypes::i256;
    if b == 0 {
        return Err(pg_error(sqlstate::DIVISION_BY_ZERO, "division by zero"));
    }
    let rscale = division_scale(a, sa, b, sb);
    if rscale > scale as i64 {
        return Err(pg_error(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "the quotient needs {rscale} decimal places, more than the {scale} zhenjie keeps \
                 for a column; cast an operand to double precision"
            ),
        ));
    }
    let ten = i256::from_i128(10);
    let out_of_range = || {
        pg_error(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            "value out of range: overflow",
        )
    };
    // q = a / b · 10^(rscale + sb − sa), as integers.
    let shift = rscale + sb as i64 - sa as i64;
    let (mut num, mut den) = (i256::from_i128(a), i256::from_i128(b));
    if shift >= 0 {
        num = num
            .checked_mul(ten.checked_pow(shift as u32).ok_or_else(out_of_range)?)
            .ok_or_else(out_of_range)?;
    } else {
        den = den
            .checked_mul(ten.checked_pow((-shift) as u32).ok_or_else(out_of_range)?)
            .ok_or_else(out_of_range)?;
    }
    let (q, r) = (num / den, num % den);
    let twice = r
        .wrapping_abs()
        .checked_mul(i256::from_i128(2))
        .ok_or_else(out_of_range)?;
    let q = if twice >= den.wrapping_abs() {
        if (num < i256::ZERO) != (den < i256::ZERO) {
            q - i256::ONE
        } else {
            q + i256::ONE
        }
    } else {
        q
    };
    let q = q
        .checked_mul(
            ten.checked_pow((scale as i64 - rscale) as u32)
                .ok_or_else(out_of_range)?,
        )
        .ok_or_else(out_of_range)?;
    q.to_i128()
        .filter(|q| q.unsigned_abs() < 10u128.pow(38))
        .ok_or_else(out_of_range)
}

impl ScalarUDFImpl for Divide {
    fn name(&self) -> &str {
        "pg_numeric_div"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        unreachable!("return_field_from_args is implemented")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let scale_of = |t: &DataType| match t {
            DataType::Decimal128(_, s) => *s,
            _ => 0,
        };
        let (sa, sb) = (
            scale_of(args.arg_fields[0].data_type()),
            scale_of(args.arg_fields[1].data_type()),
        );
        // A constant quotient has PostgreSQL's own scale; a column's, room
        // for any row's (see the module doc).
        let scale = match (args.scalar_arguments[0], args.scalar_arguments[1]) {
            (
                Some(ScalarValue::Decimal128(Some(a), _, sa)),
                Some(ScalarValue::Decimal128(Some(b), _, sb)),
            ) if *b != 0 => division_scale(*a, *sa, *b, *sb).min(38) as i8,
            _ => COLUMN_SCALE.max(sa).max(sb),
        };
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Decimal128(38, scale),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Decimal128(_, scale) = args.return_field.data_type().clone() else {
            unreachable!("the return type is a Decimal128");
        };
        let n = args.number_rows;
        let (a, b) = (args.args[0].to_array(n)?, args.args[1].to_array(n)?);
        let scale_of = |t: &DataType| match t {
            DataType::Decimal128(_, s) => *s,
            _ => 0,
        };
        let (sa, sb) = (scale_of(a.data_type()), scale_of(b.data_type()));
        let (a, b) = (
            a.as_primitive::<Decimal128Type>(),
            b.as_primitive::<Decimal128Type>(),
        );
        let mut out = Decimal128Builder::with_capacity(n);
        for row in 0..n {
            if a.is_null(row) || b.is_null(row) {
                out.append_null();
            } else {
                out.append_value(divide(a.value(row), sa, b.value(row), sb, scale)?);
            }
        }
        let out = out.finish().with_precision_and_scale(38, scale)?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `scale`, `min_scale` and `trim_scale` of a numeric: the digits after the
/// point it is written with, the fewest that write it exactly, and the
/// number written with those. A column's values share one scale in Arrow,
/// so `trim_scale` of a column keeps it (the same numbers); of a constant it
/// is PostgreSQL's.
pub(crate) fn scale_udfs() -> [ScalarUDF; 3] {
    ["scale", "min_scale", "trim_scale"].map(|name| {
        ScalarUDF::from(Scales {
            name,
            signature: Signature::any(1, Volatility::Immutable),
        })
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Scales {
    name: &'static str,
    signature: Signature,
}

/// The fewest decimals that write `v / 10^scale` exactly.
fn min_scale(mut v: i128, mut scale: i8) -> i8 {
    while scale > 0 && v % 10 == 0 {
        v /= 10;
        scale -= 1;
    }
    scale
}

impl ScalarUDFImpl for Scales {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        unreachable!("return_field_from_args is implemented")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let input = args.arg_fields[0].data_type();
        if !(input.is_integer() || matches!(input, DataType::Decimal128(..) | DataType::Null)) {
            return Err(pg_error(
                sqlstate::UNDEFINED_FUNCTION,
                format!(
                    "function {}({input}) does not exist: it takes a numeric",
                    self.name
                ),
            ));
        }
        let out = match self.name {
            "trim_scale" => match (args.scalar_arguments[0], args.arg_fields[0].data_type()) {
                (Some(ScalarValue::Decimal128(Some(v), _, s)), _) => {
                    DataType::Decimal128(38, min_scale(*v, *s))
                }
                (_, DataType::Decimal128(_, s)) => DataType::Decimal128(38, *s),
                _ => DataType::Decimal128(38, 0),
            },
            _ => DataType::Int32,
        };
        Ok(Arc::new(Field::new(self.name, out, true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let values = args.args[0].to_array(n)?;
        let values = match values.data_type() {
            DataType::Decimal128(..) => values,
            _ => cast(&values, &DataType::Decimal128(38, 0))?,
        };
        let DataType::Decimal128(_, scale) = values.data_type().clone() else {
            unreachable!("cast to a decimal");
        };
        let values = values.as_primitive::<Decimal128Type>();
        let out: ArrayRef = match self.name {
            "scale" => Arc::new(
                values
                    .iter()
                    .map(|v| v.map(|_| scale as i32))
                    .collect::<datafusion::arrow::array::Int32Array>(),
            ),
            "min_scale" => Arc::new(
                values
                    .iter()
                    .map(|v| v.map(|v| min_scale(v, scale) as i32))
                    .collect::<datafusion::arrow::array::Int32Array>(),
            ),
            _ => {
                let DataType::Decimal128(_, to) = args.return_field.data_type().clone() else {
                    unreachable!("the return type is a Decimal128");
                };
                cast(
                    &(Arc::new(values.clone()) as ArrayRef),
                    &DataType::Decimal128(38, to),
                )?
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str, args: &[&str]) -> String {
        let args: Vec<Numeric> = args
            .iter()
            .map(|a| {
                let value: BigDecimal = a.parse().unwrap();
                let dscale = a.split_once('.').map_or(0, |(_, f)| f.len() as i64);
                Numeric { value, dscale }
            })
            .collect();
        let (value, rscale) = compute(name, &args).unwrap();
        value
            .with_scale_round(rscale, RoundingMode::HalfUp)
            .to_string()
    }

    fn quotient(a: i128, sa: i8, b: i128, sb: i8) -> String {
        let rscale = division_scale(a, sa, b, sb);
        let q = divide(a, sa, b, sb, rscale as i8).unwrap();
        BigDecimal::new(BigInt::from(q), rscale).to_string()
    }

    #[test]
    fn quotients_are_postgresqls() {
        // Each checked against PostgreSQL 15.
        assert_eq!(quotient(10, 1, 3, 0), "0.33333333333333333333");
        assert_eq!(quotient(50, 1, 2, 0), "2.5000000000000000");
        assert_eq!(quotient(25, 1, 2, 0), "1.25000000000000000000");
        assert_eq!(quotient(-7, 0, 5, 1), "-14.0000000000000000");
        assert_eq!(quotient(-325, 2, 4, 0), "-0.81250000000000000000");
        assert_eq!(
            quotient(9223372036854775807, 0, 5, 1),
            "18446744073709551614.0"
        );
    }

    #[test]
    fn digits_are_postgresqls() {
        // Each checked against PostgreSQL 15.
        assert_eq!(text("sqrt", &["2.5"]), "1.581138830084190");
        assert_eq!(text("sqrt", &["0.5"]), "0.70710678118654752");
        assert_eq!(text("exp", &["0.5"]), "1.6487212707001281");
        assert_eq!(text("exp", &["-2.5"]), "0.08208499862389880");
        assert_eq!(text("ln", &["0.01"]), "-4.6051701859880914");
        assert_eq!(text("log", &["0.5"]), "-0.3010299956639812");
        assert_eq!(text("log", &["2.0", "3"]), "1.5849625007211562");
        assert_eq!(text("power", &["2.0", "3"]), "8.0000000000000000");
        assert_eq!(text("power", &["9", "0.5"]), "3.0000000000000000");
    }
}
