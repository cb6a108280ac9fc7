//! PostgreSQL's interval arithmetic that DataFusion lacks: `age` (the
//! calendar difference of two timestamps, `1 mon 29 days`) and an interval
//! times or divided by a number (`INTERVAL '5 minutes' * floor(…)`, the time
//! grains Superset and Grafana generate), with PostgreSQL's carrying of
//! fractional months into days and fractional days into time.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, AsArray, IntervalMonthDayNanoBuilder};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use std::sync::Arc;

const MONTH_DAYS: f64 = 30.0;
const DAY_NANOS: f64 = 86_400e9;

/// `interval_mul(interval, factor)`: what the SQL rewrite turns
/// `interval * number` and `interval / number` into.
pub(crate) fn interval_mul_udf() -> ScalarUDF {
    ScalarUDF::from(IntervalMul {
        signature: Signature::exact(
            vec![
                DataType::Interval(IntervalUnit::MonthDayNano),
                DataType::Float64,
            ],
            Volatility::Immutable,
        ),
    })
}

/// `age(timestamp, timestamp)` and `age(timestamp)` (from today's midnight).
pub(crate) fn age_udf() -> ScalarUDF {
    ScalarUDF::from(Age {
        signature: Signature::one_of(
            vec![TypeSignature::Any(2), TypeSignature::Any(1)],
            Volatility::Stable,
        ),
    })
}

/// `justify_hours`, `justify_days` and `justify_interval`: 24 hours as a
/// day, 30 days as a month, with PostgreSQL's sign rules.
pub(crate) fn justify_udfs() -> [ScalarUDF; 3] {
    ["justify_hours", "justify_days", "justify_interval"].map(|name| {
        ScalarUDF::from(Justify {
            name,
            signature: Signature::exact(
                vec![DataType::Interval(IntervalUnit::MonthDayNano)],
                Volatility::Immutable,
            ),
        })
    })
}

/// `timestamp - timestamp` as PostgreSQL's interval: whole days and the
/// time left (`8825 days 13:45:10`), where Arrow gives a count of hours.
pub(crate) static TIMESTAMP_DIFF: std::sync::LazyLock<Arc<ScalarUDF>> =
    std::sync::LazyLock::new(|| {
        Arc::new(ScalarUDF::from(TimestampDiff {
            signature: Signature::any(2, Volatility::Immutable),
        }))
    });

/// `date_part('epoch', interval)` as PostgreSQL counts it: a year of
/// 365.25 days, a month of 30 (Arrow counts a year as 360 days).
pub(crate) static INTERVAL_EPOCH: std::sync::LazyLock<Arc<ScalarUDF>> =
    std::sync::LazyLock::new(|| {
        Arc::new(ScalarUDF::from(IntervalEpoch {
            signature: Signature::exact(
                vec![DataType::Interval(IntervalUnit::MonthDayNano)],
                Volatility::Immutable,
            ),
        }))
    });

#[derive(Debug, PartialEq, Eq, Hash)]
struct TimestampDiff {
    signature: Signature,
}

/// A timestamp column as nanoseconds since the epoch (UTC for zoned ones).
fn nanos(v: &ColumnarValue, n: usize) -> Result<datafusion::arrow::array::Int64Array> {
    use datafusion::arrow::compute::kernels::cast::cast;
    let a = v.to_array(n)?;
    let tz = match a.data_type() {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let a = cast(&a, &DataType::Timestamp(TimeUnit::Nanosecond, tz))?;
    let a = cast(&a, &DataType::Int64)?;
    Ok(a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .clone())
}

impl ScalarUDFImpl for TimestampDiff {
    fn name(&self) -> &str {
        "pg_timestamp_mi"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let (a, b) = (nanos(&args.args[0], n)?, nanos(&args.args[1], n)?);
        const DAY: i64 = 86_400_000_000_000;
        let out: datafusion::arrow::array::IntervalMonthDayNanoArray = a
            .iter()
            .zip(b.iter())
            .map(|(a, b)| {
                let d = a?.checked_sub(b?)?;
                Some(IntervalMonthDayNano::new(0, (d / DAY) as i32, d % DAY))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalEpoch {
    signature: Signature,
}

impl ScalarUDFImpl for IntervalEpoch {
    fn name(&self) -> &str {
        "pg_interval_epoch"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let intervals = args.args[0].to_array(n)?;
        let out: datafusion::arrow::array::Float64Array = intervals
            .as_primitive::<IntervalMonthDayNanoType>()
            .iter()
            .map(|v| {
                v.map(|v| {
                    let (years, months) = (v.months / 12, v.months % 12);
                    // In quarter days, as PostgreSQL does, to stay exact.
                    let quarter_days =
                        1461 * years as i64 + 120 * months as i64 + 4 * v.days as i64;
                    (quarter_days * 86_400) as f64 / 4.0 + v.nanoseconds as f64 / 1e9
                })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Justify {
    name: &'static str,
    signature: Signature,
}

const DAY_MICROS: i64 = 86_400_000_000;

/// PostgreSQL's `interval_justify_hours`, `_days` and `_interval`.
pub(crate) fn justify(name: &str, iv: IntervalMonthDayNano) -> IntervalMonthDayNano {
    let (mut month, mut day, mut time) = (iv.months as i64, iv.days as i64, iv.nanoseconds / 1000);
    let whole_months = |month: &mut i64, day: &mut i64| {
        let m = *day / 30;
        *day -= m * 30;
        *month += m;
    };
    match name {
        "justify_hours" => {
            day += time / DAY_MICROS;
            time %= DAY_MICROS;
            if day > 0 && time < 0 {
                time += DAY_MICROS;
                day -= 1;
            } else if day < 0 && time > 0 {
                time -= DAY_MICROS;
                day += 1;
            }
        }
        "justify_days" => {
            whole_months(&mut month, &mut day);
            if month > 0 && day < 0 {
                day += 30;
                month -= 1;
            } else if month < 0 && day > 0 {
                day -= 30;
                month += 1;
            }
        }
        _ => {
            if (day > 0 && time > 0) || (day < 0 && time < 0) {
                whole_months(&mut month, &mut day);
            }
            day += time / DAY_MICROS;
            time %= DAY_MICROS;
            whole_months(&mut month, &mut day);
            if month > 0 && (day < 0 || (day == 0 && time < 0)) {
                day += 30;
                month -= 1;
            } else if month < 0 && (day > 0 || (day == 0 && time > 0)) {
                day -= 30;
                month += 1;
            }
            if day > 0 && time < 0 {
                time += DAY_MICROS;
                day -= 1;
            } else if day < 0 && time > 0 {
                time -= DAY_MICROS;
                day += 1;
            }
        }
    }
    IntervalMonthDayNano::new(month as i32, day as i32, time * 1000)
}

impl ScalarUDFImpl for Justify {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let intervals = args.args[0].to_array(n)?;
        let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
        let out: datafusion::arrow::array::IntervalMonthDayNanoArray = intervals
            .iter()
            .map(|v| v.map(|v| justify(self.name, v)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalMul {
    signature: Signature,
}

/// PostgreSQL's `interval_mul`: each part times the factor, the fraction of
/// a month carried into days (30 a month), the fraction of a day into time.
pub(crate) fn multiply(iv: IntervalMonthDayNano, factor: f64) -> IntervalMonthDayNano {
    let months = iv.months as f64 * factor;
    let whole_months = months.trunc();
    let month_days = (months - whole_months) * MONTH_DAYS;
    let days = iv.days as f64 * factor;
    let whole_days = days.trunc();
    let carried_nanos = (days - whole_days + month_days - month_days.trunc()) * DAY_NANOS;
    let nanos = (iv.nanoseconds as f64 * factor + carried_nanos) / 1000.0;
    IntervalMonthDayNano::new(
        whole_months as i32,
        (whole_days + month_days.trunc()) as i32,
        nanos.round_ties_even() as i64 * 1000,
    )
}

impl ScalarUDFImpl for IntervalMul {
    fn name(&self) -> &str {
        "interval_mul"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let intervals = args.args[0].to_array(n)?;
        let factors = args.args[1].to_array(n)?;
        let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
        let factors = factors.as_primitive::<Float64Type>();
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(n);
        for i in 0..n {
            if intervals.is_null(i) || factors.is_null(i) {
                out.append_null();
            } else {
                out.append_value(multiply(intervals.value(i), factors.value(i)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Age {
    signature: Signature,
}

fn days_in_month(year: i32, month: u32) -> i64 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    match (next, NaiveDate::from_ymd_opt(year, month, 1)) {
        (Some(n), Some(f)) => (n - f).num_days(),
        _ => 30,
    }
}

/// PostgreSQL's `age(a, b)`: years, months and days between two wall-clock
/// times, borrowing the length of `b`'s month; negative when `a < b`.
pub(crate) fn age(a: NaiveDateTime, b: NaiveDateTime) -> IntervalMonthDayNano {
    if a < b {
        let p = age(b, a);
        return IntervalMonthDayNano::new(-p.months, -p.days, -p.nanoseconds);
    }
    let micros = |t: &NaiveDateTime| {
        (t.hour() as i64 * 3600 + t.minute() as i64 * 60 + t.second() as i64) * 1_000_000
            + (t.nanosecond() / 1000) as i64
    };
    let mut time = micros(&a) - micros(&b);
    let mut day = a.day() as i64 - b.day() as i64;
    let mut month = a.month() as i64 - b.month() as i64;
    let mut year = a.year() as i64 - b.year() as i64;
    if time < 0 {
        time += 86_400_000_000;
        day -= 1;
    }
    while day < 0 {
        day += days_in_month(b.year(), b.month());
        month -= 1;
    }
    while month < 0 {
        month += 12;
        year -= 1;
    }
    IntervalMonthDayNano::new((year * 12 + month) as i32, day as i32, time * 1000)
}

impl ScalarUDFImpl for Age {
    fn name(&self) -> &str {
        "age"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let stamps = |i: usize| -> Result<Vec<Option<NaiveDateTime>>> {
            let a = datafusion::arrow::compute::cast(
                &args.args[i].to_array(n)?,
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )?;
            Ok(a.as_primitive::<TimestampMicrosecondType>()
                .iter()
                .map(|v| {
                    v.and_then(chrono::DateTime::from_timestamp_micros)
                        .map(|t| t.naive_utc())
                })
                .collect())
        };
        let (a, b) = if args.args.len() == 2 {
            (stamps(0)?, stamps(1)?)
        } else {
            let midnight = chrono::Local::now().date_naive().and_hms_opt(0, 0, 0);
            (vec![midnight; n], stamps(0)?)
        };
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(n);
        for (a, b) in a.into_iter().zip(b) {
            match (a, b) {
                (Some(a), Some(b)) => out.append_value(age(a, b)),
                _ => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::{age, multiply};
    use crate::postgres::text::interval_text;
    use datafusion::arrow::datatypes::IntervalMonthDayNano;

    fn text(i: IntervalMonthDayNano) -> String {
        interval_text(i.months, i.days, i.nanoseconds / 1000)
    }

    #[test]
    fn age_and_interval_products_match_postgresql() {
        let d = |y, m, day| {
            chrono::NaiveDate::from_ymd_opt(y, m, day)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        assert_eq!(text(age(d(2024, 2, 29), d(2023, 12, 31))), "1 mon 29 days");
        assert_eq!(
            text(age(d(2000, 1, 1), d(1969, 7, 20))),
            "30 years 5 mons 12 days"
        );
        assert_eq!(
            text(age(d(2024, 2, 29), d(2000, 1, 1))),
            "24 years 1 mon 28 days"
        );
        assert_eq!(
            text(age(d(2000, 1, 1), d(2024, 2, 29))),
            "-24 years -1 mons -28 days"
        );
        let minutes = IntervalMonthDayNano::new(0, 0, 150 * 60 * 1_000_000_000);
        assert_eq!(text(multiply(minutes, 2.0)), "05:00:00");
        assert_eq!(text(multiply(minutes, 0.5)), "01:15:00");
        let month = IntervalMonthDayNano::new(1, 0, 0);
        assert_eq!(text(multiply(month, 1.5)), "1 mon 15 days");
        let day = IntervalMonthDayNano::new(0, 1, 0);
        assert_eq!(text(multiply(day, 1.5)), "1 day 12:00:00");
        use super::justify;
        let hours = IntervalMonthDayNano::new(0, 0, 100 * 3600 * 1_000_000_000);
        assert_eq!(text(justify("justify_interval", hours)), "4 days 04:00:00");
        assert_eq!(
            text(justify("justify_days", IntervalMonthDayNano::new(0, 40, 0))),
            "1 mon 10 days"
        );
        let mixed = IntervalMonthDayNano::new(1, 0, -3600 * 1_000_000_000);
        assert_eq!(text(justify("justify_interval", mixed)), "29 days 23:00:00");
    }
}
