//! Time zones as PostgreSQL has them: a `timestamptz` is an instant shown in
//! the session's `TimeZone`, and `AT TIME ZONE` converts between an instant
//! and a wall-clock time. DataFusion keeps a zone label on each column and
//! treats `AT TIME ZONE` as a relabelling, so `now() AT TIME ZONE 'UTC'`
//! printed `+00` instead of the UTC wall-clock time, and `to_timestamp(0)`
//! was eight hours off in Asia/Shanghai — Grafana's time filters are
//! `to_timestamp(<epoch>)`.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use std::str::FromStr;
use std::sync::Arc;

/// `pg_at_time_zone(value, zone)`: what the SQL rewrite makes of
/// `value AT TIME ZONE zone`. An instant becomes the wall-clock time in
/// `zone` (a `timestamp`); a wall-clock time read in `zone` becomes an
/// instant (a `timestamptz`, shown in the session's zone).
pub(crate) fn at_time_zone_udf() -> ScalarUDF {
    ScalarUDF::from(AtTimeZone {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct AtTimeZone {
    signature: Signature,
}

fn zone_of(v: Option<&ScalarValue>) -> Result<String> {
    match v.and_then(|v| v.try_as_str().flatten()) {
        Some(z) => Ok(z.to_string()),
        None => datafusion::common::not_impl_err!("AT TIME ZONE needs a constant time zone name"),
    }
}

impl ScalarUDFImpl for AtTimeZone {
    fn name(&self) -> &str {
        "pg_at_time_zone"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        unreachable!("return_field_from_args is implemented")
    }
    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let zone = zone_of(args.scalar_arguments.get(1).copied().flatten())?;
        let unit = |t: &DataType| match t {
            DataType::Timestamp(u, _) => *u,
            _ => TimeUnit::Nanosecond,
        };
        let input = args.arg_fields[0].data_type();
        let out = match input {
            DataType::Timestamp(u, Some(_)) => DataType::Timestamp(*u, None),
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                DataType::Timestamp(unit(input), Some(zone.into()))
            }
            DataType::Null => DataType::Timestamp(TimeUnit::Nanosecond, None),
            other => return plan_err!("AT TIME ZONE of a {other}: a timestamp is needed"),
        };
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
            self.name(),
            out,
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(zone) = &args.args[1] else {
            return datafusion::common::not_impl_err!(
                "AT TIME ZONE needs a constant time zone name"
            );
        };
        let zone = zone_of(Some(zone))?;
        let value = args.args[0].to_array(args.number_rows)?;
        let out: ArrayRef = match value.data_type() {
            DataType::Timestamp(unit, Some(_)) => wall_clock(&value, *unit, &zone)?,
            DataType::Null => cast(&value, args.return_field.data_type())?,
            _ => {
                // A wall-clock time read in `zone` (Arrow's cast of a naive
                // time to a zoned one reads it so).
                let naive = cast(&value, &DataType::Timestamp(unit_of(&value), None))?;
                cast(&naive, args.return_field.data_type())?
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// `pg_local_midnight(date, zone)`: the instant a date begins in `zone`, as
/// PostgreSQL casts a date to `timestamptz` (`date_trunc` of a date). A
/// midnight a daylight-saving change skipped (Shanghai's 1940s summers) is
/// read with the offset in force before the change, as PostgreSQL does;
/// Arrow's cast fails there.
pub(crate) static LOCAL_MIDNIGHT: std::sync::LazyLock<Arc<ScalarUDF>> =
    std::sync::LazyLock::new(|| {
        Arc::new(ScalarUDF::from(LocalMidnight {
            signature: Signature::any(2, Volatility::Immutable),
        }))
    });

#[derive(Debug, PartialEq, Eq, Hash)]
struct LocalMidnight {
    signature: Signature,
}

impl ScalarUDFImpl for LocalMidnight {
    fn name(&self) -> &str {
        "pg_local_midnight"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        unreachable!("return_field_from_args is implemented")
    }
    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let zone = zone_of(args.scalar_arguments.get(1).copied().flatten())?;
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
            self.name(),
            DataType::Timestamp(TimeUnit::Nanosecond, Some(zone.into())),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use chrono::{LocalResult, Offset, TimeZone};
        let ColumnarValue::Scalar(zone) = &args.args[1] else {
            return datafusion::common::not_impl_err!("a constant time zone is needed");
        };
        let zone = zone_of(Some(zone))?;
        let tz = datafusion::arrow::array::timezone::Tz::from_str(&zone)?;
        let days = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Date32)?;
        let out: datafusion::arrow::array::TimestampNanosecondArray = days
            .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
            .iter()
            .map(|d| {
                let midnight = chrono::DateTime::from_timestamp(d? as i64 * 86_400, 0)?.naive_utc();
                let offset = match tz.offset_from_local_datetime(&midnight) {
                    LocalResult::Single(o) => o.fix(),
                    LocalResult::Ambiguous(first, _) => first.fix(),
                    LocalResult::None => tz
                        .offset_from_utc_datetime(&(midnight - chrono::Duration::days(1)))
                        .fix(),
                };
                (midnight - offset).and_utc().timestamp_nanos_opt()
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out.with_timezone(zone))))
    }
}

fn unit_of(a: &ArrayRef) -> TimeUnit {
    match a.data_type() {
        DataType::Timestamp(u, _) => *u,
        _ => TimeUnit::Nanosecond,
    }
}

/// The wall-clock time in `zone` of each instant of `value`.
fn wall_clock(value: &ArrayRef, unit: TimeUnit, zone: &str) -> Result<ArrayRef> {
    use chrono::{Offset, TimeZone};
    let tz = datafusion::arrow::array::timezone::Tz::from_str(zone)?;
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let raw = cast(value, &DataType::Int64)?;
    let shifted: datafusion::arrow::array::Int64Array = raw
        .as_primitive::<Int64Type>()
        .iter()
        .map(|v| {
            v.map(|v| {
                let seconds = v.div_euclid(per_second);
                let utc = chrono::DateTime::from_timestamp(seconds, 0)
                    .unwrap_or_default()
                    .naive_utc();
                let offset = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc() as i64;
                v + offset * per_second
            })
        })
        .collect();
    Ok(cast(&shifted, &DataType::Timestamp(unit, None))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::TimestampSecondArray;

    #[test]
    fn an_instant_becomes_the_wall_clock_time_of_the_zone() {
        let utc_noon: ArrayRef =
            Arc::new(TimestampSecondArray::from(vec![Some(43_200), None]).with_timezone("UTC"));
        let out = wall_clock(&utc_noon, TimeUnit::Second, "Asia/Shanghai").unwrap();
        let out = cast(&out, &DataType::Int64).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(out.value(0), 43_200 + 8 * 3600);
        assert!(out.is_null(1));
        assert!(out.len() == 2);
    }
}
