//! PostgreSQL's text for the values whose text Arrow and DataFusion write
//! differently: floats (`21`, `1e+20`, `Infinity`), timestamps (no
//! `.000000` on a whole second, the zone as `+08`) and intervals (`1 year 2
//! mons 3 days 04:05:06.5`). The wire writes result values with it and
//! `CAST(… AS text)` returns it, so psql, drivers and string functions all
//! see PostgreSQL's text.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;

/// PostgreSQL's text for the value at `row` of a float, timestamp or
/// interval column; `None` for every other type.
pub fn value_text(column: &dyn Array, data_type: &DataType, row: usize) -> Option<String> {
    use datafusion::arrow::array::timezone::Tz;
    use datafusion::arrow::datatypes::*;
    use datafusion::arrow::temporal_conversions::{as_datetime, as_datetime_with_timezone};
    fn stamp<T: ArrowTimestampType>(
        column: &dyn Array,
        tz: Option<&str>,
        row: usize,
    ) -> Option<String> {
        let v = column.as_primitive::<T>().value(row);
        match tz {
            None => Some(timestamp_text(as_datetime::<T>(v)?, None)),
            Some(tz) => {
                let tz: Tz = tz.parse().ok()?;
                let at = as_datetime_with_timezone::<T>(v, tz)?;
                let offset = chrono::Offset::fix(at.offset());
                Some(timestamp_text(
                    at.naive_local(),
                    Some(offset.local_minus_utc()),
                ))
            }
        }
    }
    Some(match data_type {
        DataType::Float64 => float_text(column.as_primitive::<Float64Type>().value(row), 15),
        DataType::Float32 => float_text(column.as_primitive::<Float32Type>().value(row) as f64, 6)
            .replace_shortest_f32(column.as_primitive::<Float32Type>().value(row)),
        DataType::Timestamp(unit, tz) => {
            let tz = tz.as_deref();
            match unit {
                TimeUnit::Second => stamp::<TimestampSecondType>(column, tz, row)?,
                TimeUnit::Millisecond => stamp::<TimestampMillisecondType>(column, tz, row)?,
                TimeUnit::Microsecond => stamp::<TimestampMicrosecondType>(column, tz, row)?,
                TimeUnit::Nanosecond => stamp::<TimestampNanosecondType>(column, tz, row)?,
            }
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = column.as_primitive::<IntervalMonthDayNanoType>().value(row);
            interval_text(v.months, v.days, v.nanoseconds / 1000)
        }
        DataType::Interval(IntervalUnit::YearMonth) => interval_text(
            column.as_primitive::<IntervalYearMonthType>().value(row),
            0,
            0,
        ),
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = column.as_primitive::<IntervalDayTimeType>().value(row);
            interval_text(0, v.days, v.milliseconds as i64 * 1000)
        }
        _ => return None,
    })
}

/// A float's shortest text, as PostgreSQL's `float8out`/`float4out` write
/// it (extra_float_digits = 1): fixed notation for exponents from -4 up to
/// `digits` - 1, otherwise `1e+20`, `1e-05`.
pub fn float_text(x: f64, digits: i32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    scientific_or_fixed(&format!("{x:e}"), &format!("{x}"), digits)
}

fn scientific_or_fixed(sci: &str, fixed: &str, digits: i32) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..digits).contains(&exp) {
        fixed.to_string()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// `float_text` for a float4, from its own shortest digits (not those of
/// the float8 it widens to).
trait ShortestF32 {
    fn replace_shortest_f32(self, x: f32) -> String;
}

impl ShortestF32 for String {
    fn replace_shortest_f32(self, x: f32) -> String {
        if !x.is_finite() || x == 0.0 {
            return self;
        }
        scientific_or_fixed(&format!("{x:e}"), &format!("{x}"), 6)
    }
}

/// `YYYY-MM-DD HH:MM:SS`, the fraction only when there is one (without
/// trailing zeros), and the offset (`+08`, `+05:30`) for a timestamptz.
pub fn timestamp_text(t: chrono::NaiveDateTime, offset_secs: Option<i32>) -> String {
    use chrono::Timelike;
    let mut s = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = t.nanosecond() / 1000;
    if micros != 0 {
        let frac = format!("{micros:06}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    if let Some(off) = offset_secs {
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.abs();
        s.push_str(&format!("{sign}{:02}", off / 3600));
        if off % 3600 != 0 {
            s.push_str(&format!(":{:02}", (off % 3600) / 60));
        }
    }
    s
}

/// An interval in PostgreSQL's default style: `1 year 2 mons 3 days
/// 04:05:06.5`, each part with its own sign (`-1 years -2 mons`).
pub fn interval_text(months: i32, days: i32, micros: i64) -> String {
    let mut parts = Vec::new();
    let unit = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let (years, mons) = (months / 12, months % 12);
    if years != 0 {
        parts.push(unit(years as i64, "year", "years"));
    }
    if mons != 0 {
        parts.push(unit(mons as i64, "mon", "mons"));
    }
    if days != 0 {
        parts.push(unit(days as i64, "day", "days"));
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        let m = micros.unsigned_abs();
        let (h, rest) = (m / 3_600_000_000, m % 3_600_000_000);
        let (min, rest) = (rest / 60_000_000, rest % 60_000_000);
        let (sec, frac) = (rest / 1_000_000, rest % 1_000_000);
        let mut t = format!("{sign}{h:02}:{min:02}:{sec:02}");
        if frac != 0 {
            t.push('.');
            t.push_str(format!("{frac:06}").trim_end_matches('0'));
        }
        parts.push(t);
    }
    parts.join(" ")
}

/// What marks the hidden part of a repeated column name (see
/// the SQL rewrite's `name_function_columns`): a NUL, which no SQL name or wire string can
/// hold, so nothing a user writes can collide with it.
pub const NAME_SUFFIX: char = '\0';

/// A column's name as clients must see it: without the hidden suffix that
/// keeps a repeated name unique inside DataFusion.
pub fn display_name(name: &str) -> &str {
    name.split(NAME_SUFFIX).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn floats_timestamps_and_intervals_read_as_postgresql_writes_them() {
        use super::{float_text, interval_text, timestamp_text, ShortestF32};
        assert_eq!(float_text(21.0, 15), "21");
        assert_eq!(float_text(0.1 + 0.2, 15), "0.30000000000000004");
        assert_eq!(float_text(1e20, 15), "1e+20");
        assert_eq!(
            float_text(2.7670116110564327e19, 15),
            "2.7670116110564327e+19"
        );
        assert_eq!(float_text(1e-5, 15), "1e-05");
        assert_eq!(float_text(0.001, 15), "0.001");
        assert_eq!(float_text(f64::NEG_INFINITY, 15), "-Infinity");
        assert_eq!(float_text(f64::NAN, 15), "NaN");
        assert_eq!(String::new().replace_shortest_f32(1e10), "1e+10");
        assert_eq!(String::new().replace_shortest_f32(0.33333334), "0.33333334");
        let t = chrono::NaiveDate::from_ymd_opt(2024, 3, 5)
            .unwrap()
            .and_hms_micro_opt(10, 11, 12, 500_000)
            .unwrap();
        assert_eq!(timestamp_text(t, None), "2024-03-05 10:11:12.5");
        assert_eq!(
            timestamp_text(t, Some(8 * 3600)),
            "2024-03-05 10:11:12.5+08"
        );
        assert_eq!(
            timestamp_text(t, Some(-(5 * 3600 + 1800))),
            "2024-03-05 10:11:12.5-05:30"
        );
        assert_eq!(interval_text(14, 3, 0), "1 year 2 mons 3 days");
        assert_eq!(interval_text(-14, -3, 0), "-1 years -2 mons -3 days");
        assert_eq!(interval_text(0, 0, -9_000_000_000), "-02:30:00");
        assert_eq!(interval_text(0, 1, 1_500_000), "1 day 00:00:01.5");
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
    }
}
