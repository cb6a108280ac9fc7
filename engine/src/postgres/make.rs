//! PostgreSQL's constructors of date/time values from numbers that
//! DataFusion lacks: `make_interval` (report SQL builds periods from a
//! setting: `make_interval(days => n)`) and `make_timestamp`; and
//! `make_date`, whose DataFusion form reads a negative year as an
//! astronomical one (`make_date(-44, 3, 15)` was 45 BC, PostgreSQL's 44 BC)
//! and accepts a year zero that PostgreSQL refuses.
//!
//! `make_interval`'s named and omitted arguments are resolved by the SQL
//! rewrite (see `rewrite.rs`): the function here always takes all seven.

use chrono::{NaiveDate, NaiveTime};
use datafusion::arrow::array::{
    Array, AsArray, Date32Builder, IntervalMonthDayNanoBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, IntervalMonthDayNano, IntervalUnit, TimeUnit,
};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use std::sync::{Arc, LazyLock};

/// make_interval's parameters, in PostgreSQL's order.
pub(crate) const INTERVAL_PARAMETERS: [&str; 7] =
    ["years", "months", "weeks", "days", "hours", "mins", "secs"];

/// `make_interval(years, months, weeks, days, hours, mins, secs)`,
/// `make_timestamp(year, month, mday, hour, min, sec)` and
/// `make_date(year, month, day)`.
pub(crate) fn make_udfs() -> [ScalarUDF; 3] {
    [
        ScalarUDF::from(MakeDate {
            signature: Signature::user_defined(Volatility::Immutable),
        }),
        ScalarUDF::from(Make {
            interval: true,
            signature: Signature::user_defined(Volatility::Immutable),
        }),
        ScalarUDF::from(Make {
            interval: false,
            signature: Signature::user_defined(Volatility::Immutable),
        }),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Make {
    /// `make_interval`, else `make_timestamp`.
    interval: bool,
    signature: Signature,
}

fn doc_section() -> datafusion::logical_expr::DocSection {
    datafusion::logical_expr::DocSection {
        include: true,
        label: "Time and Date Functions",
        description: None,
    }
}

static INTERVAL_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        doc_section(),
        "An interval from years, months, weeks, days, hours, minutes and \
         seconds, each optional and named (PostgreSQL's `make_interval`).",
        "make_interval([years => ]int, …, [secs => ]double precision)",
    )
    .with_sql_example("SELECT make_interval(days => 10);")
    .build()
});

static TIMESTAMP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        doc_section(),
        "A timestamp without time zone from its fields (PostgreSQL's \
         `make_timestamp`).",
        "make_timestamp(year, month, mday, hour, min, sec)",
    )
    .with_sql_example("SELECT make_timestamp(2024, 1, 2, 3, 4, 5.5);")
    .build()
});

fn out_of_range(what: &str) -> DataFusionError {
    DataFusionError::External(Box::new(crate::EngineError::new(
        "22008",
        format!("{what} out of range"),
    )))
}

impl ScalarUDFImpl for Make {
    fn name(&self) -> &str {
        if self.interval {
            "make_interval"
        } else {
            "make_timestamp"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let wanted = if self.interval { 7 } else { 6 };
        if arg_types.len() != wanted {
            return Err(DataFusionError::Plan(format!(
                "{} takes {wanted} arguments",
                self.name()
            )));
        }
        // Integers, and seconds with a fraction.
        Ok((0..wanted)
            .map(|i| {
                if i + 1 == wanted {
                    DataType::Float64
                } else {
                    DataType::Int64
                }
            })
            .collect())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.interval {
            DataType::Interval(IntervalUnit::MonthDayNano)
        } else {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (whole, secs) = arrays.split_at(arrays.len() - 1);
        let whole: Vec<_> = whole
            .iter()
            .map(|a| a.as_primitive::<Int64Type>())
            .collect();
        let secs = secs[0].as_primitive::<Float64Type>();
        let row = |i: usize| -> Option<(Vec<i64>, f64)> {
            let ints = whole
                .iter()
                .map(|a| a.is_valid(i).then(|| a.value(i)))
                .collect::<Option<Vec<_>>>()?;
            secs.is_valid(i).then(|| (ints, secs.value(i)))
        };
        if self.interval {
            let mut out = IntervalMonthDayNanoBuilder::with_capacity(n);
            for i in 0..n {
                match row(i) {
                    None => out.append_null(),
                    Some((v, secs)) => out.append_value(interval(&v, secs)?),
                }
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        } else {
            let mut out = TimestampMicrosecondBuilder::with_capacity(n);
            for i in 0..n {
                match row(i) {
                    None => out.append_null(),
                    Some((v, secs)) => out.append_value(timestamp(&v, secs)?),
                }
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.interval {
            &INTERVAL_DOC
        } else {
            &TIMESTAMP_DOC
        })
    }
}

/// PostgreSQL's `make_date`: negative years are BC, there is no year zero.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MakeDate {
    signature: Signature,
}

static DATE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        doc_section(),
        "A date from its year, month and day; a negative year counts BC \
         (PostgreSQL's `make_date`).",
        "make_date(year, month, day)",
    )
    .with_sql_example("SELECT make_date(2024, 2, 29);")
    .build()
});

impl ScalarUDFImpl for MakeDate {
    fn name(&self) -> &str {
        "make_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return Err(DataFusionError::Plan(
                "make_date takes 3 arguments".to_string(),
            ));
        }
        Ok(vec![DataType::Int64; 3])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [y, m, d] = [0, 1, 2].map(|i| arrays[i].as_primitive::<Int64Type>());
        let mut out = Date32Builder::with_capacity(n);
        for i in 0..n {
            if y.is_null(i) || m.is_null(i) || d.is_null(i) {
                out.append_null();
            } else {
                out.append_value(date(y.value(i), m.value(i), d.value(i))?);
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DATE_DOC)
    }
}

/// Days since 1970-01-01 of PostgreSQL's date `year`-`month`-`day`, where
/// year -1 is 1 BC (the astronomical year 0) and year 0 does not exist.
fn date(year: i64, month: i64, day: i64) -> Result<i32> {
    let field = || {
        DataFusionError::External(Box::new(crate::EngineError::new(
            "22008",
            format!("date field value out of range: {year}-{month:02}-{day:02}"),
        )))
    };
    let astronomical = match year {
        0 => return Err(field()),
        y if y < 0 => y + 1,
        y => y,
    };
    let date = i32::try_from(astronomical)
        .ok()
        .zip(u32::try_from(month).ok())
        .zip(u32::try_from(day).ok())
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(field)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    i32::try_from((date - epoch).num_days()).map_err(|_| field())
}

/// years, months, weeks, days, hours, mins and secs as PostgreSQL keeps
/// them: months, days, and microseconds of time.
fn interval(v: &[i64], secs: f64) -> Result<IntervalMonthDayNano> {
    let too_big = || out_of_range("interval");
    let months = v[0]
        .checked_mul(12)
        .and_then(|m| m.checked_add(v[1]))
        .and_then(|m| i32::try_from(m).ok())
        .ok_or_else(too_big)?;
    let days = v[2]
        .checked_mul(7)
        .and_then(|d| d.checked_add(v[3]))
        .and_then(|d| i32::try_from(d).ok())
        .ok_or_else(too_big)?;
    let micros = (secs * 1e6).round();
    if !micros.is_finite() || micros.abs() > 9.2e18 {
        return Err(too_big());
    }
    let micros = v[4]
        .checked_mul(3_600_000_000)
        .and_then(|h| v[5].checked_mul(60_000_000).and_then(|m| h.checked_add(m)))
        .and_then(|t| t.checked_add(micros as i64))
        .ok_or_else(too_big)?;
    let nanos = micros.checked_mul(1000).ok_or_else(too_big)?;
    Ok(IntervalMonthDayNano::new(months, days, nanos))
}

/// A timestamp's microseconds since 1970 from its fields.
fn timestamp(v: &[i64], secs: f64) -> Result<i64> {
    let field = |what: &str| {
        DataFusionError::External(Box::new(crate::EngineError::new(
            "22008",
            format!("date field value out of range: {what}"),
        )))
    };
    let year = match v[0] {
        0 => return Err(field(&format!("{}-{:02}-{:02}", v[0], v[1], v[2]))),
        // (PostgreSQL's BC years; zhenjie does not write them.)
        y if y < 0 => {
            return Err(DataFusionError::External(Box::new(
                crate::EngineError::new(
                    crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                    "timestamps before the year 1 are not supported",
                ),
            )))
        }
        y => y,
    };
    let date = i32::try_from(year)
        .ok()
        .zip(u32::try_from(v[1]).ok())
        .zip(u32::try_from(v[2]).ok())
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| field(&format!("{}-{:02}-{:02}", v[0], v[1], v[2])))?;
    let time_field = || {
        DataFusionError::External(Box::new(crate::EngineError::new(
            "22008",
            format!(
                "time field value out of range: {}:{:02}:{secs:02}",
                v[3], v[4]
            ),
        )))
    };
    let micros = (secs * 1e6).round();
    if !(0.0..=60e6).contains(&micros) || !(0..=24).contains(&v[3]) || !(0..60).contains(&v[4]) {
        return Err(time_field());
    }
    let time_micros = v[3] * 3_600_000_000 + v[4] * 60_000_000 + micros as i64;
    // 24:00:00 is allowed, nothing later.
    if time_micros > 86_400_000_000 {
        return Err(time_field());
    }
    let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_micros();
    Ok(midnight + time_micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_carry_weeks_and_years() {
        // As PostgreSQL 15 answers.
        let i = interval(&[1, 2, 1, 3, 4, 5], 6.5).unwrap();
        assert_eq!((i.months, i.days), (14, 10));
        assert_eq!(
            i.nanoseconds,
            (4 * 3600 + 5 * 60) * 1_000_000_000 + 6_500_000_000
        );
        assert!(interval(&[i64::MAX, 0, 0, 0, 0, 0], 0.0).is_err());
    }

    #[test]
    fn dates_count_negative_years_bc() {
        assert_eq!(date(1970, 1, 1).unwrap(), 0);
        assert_eq!(date(2024, 2, 29).unwrap(), 19_782);
        // 1 BC is the year before 1 AD.
        assert_eq!(date(-1, 12, 31).unwrap(), -719_163);
        assert!(date(0, 1, 1).is_err());
        assert!(date(2023, 2, 29).is_err());
        assert!(date(2024, 13, 1).is_err());
    }

    #[test]
    fn timestamps_check_their_fields() {
        let t = timestamp(&[2024, 1, 2, 3, 4], 5.5).unwrap();
        assert_eq!(t, 1_704_164_645_500_000);
        assert!(timestamp(&[2024, 2, 30, 0, 0], 0.0).is_err());
        assert!(timestamp(&[2024, 1, 1, 25, 0], 0.0).is_err());
        assert!(timestamp(&[0, 1, 1, 0, 0], 0.0).is_err());
        assert_eq!(
            timestamp(&[2024, 1, 1, 24, 0], 0.0).unwrap(),
            timestamp(&[2024, 1, 2, 0, 0], 0.0).unwrap()
        );
    }
}
