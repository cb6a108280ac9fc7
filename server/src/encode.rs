//! Arrow values to PostgreSQL rows, through arrow-pg's per-value encoders,
//! with three corrections of our own:
//!
//! * NULLs are written as NULL before any type-specific encoding: arrow-pg
//!   0.16 writes a NULL interval as a zero interval (`NULL::interval` arrived
//!   as `00:00:00`), so no value reaches it unless it is present;
//! * an unconstrained `numeric` (DataFusion's `Decimal128(38, 10)`) prints
//!   with the value's own scale, as PostgreSQL's does (`3.5`, not
//!   `3.5000000000`);
//! * text that the query typed `json`, `jsonb` or `uuid` (field metadata set
//!   by the engine's type planner) is reported with that type, and written
//!   in its binary form when the client asks for binary;
//! * in text format, floating-point numbers, timestamps and intervals are
//!   written as PostgreSQL writes them (`21`, not `21.0`; `1e+20`;
//!   `Infinity`; no `.000000` on a whole second; `-1 years -2 mons`), which
//!   is what psql shows and what report designers compare against.

use arrow_pg::datatypes::arrow_schema_to_pg_fields;
use arrow_pg::encoder::{encode_value, Encoder};
use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Schema};
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldInfo};
use pgwire::api::Type;
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;
use pgwire::types::ToSqlText;
use postgres_types::{IsNull, ToSql};
use std::error::Error;
use std::sync::Arc;
use zhenjie_engine::PG_TYPE_KEY;

/// The RowDescription fields of a result schema: arrow-pg's mapping, with
/// the PostgreSQL types the engine marked on text fields and, where known,
/// the table OID and column number each column comes from.
pub(crate) fn pg_fields(
    schema: &Schema,
    format: &Format,
    options: Option<Arc<FormatOptions>>,
    sources: &[Option<(i32, i16)>],
) -> PgWireResult<Vec<FieldInfo>> {
    let fields = arrow_schema_to_pg_fields(schema, format, options)?;
    Ok(fields
        .into_iter()
        .zip(schema.fields())
        .enumerate()
        .map(|(i, (info, field))| {
            let marked = match field.metadata().get(PG_TYPE_KEY).map(String::as_str) {
                Some("json") => Some(Type::JSON),
                Some("jsonb") => Some(Type::JSONB),
                Some("uuid") => Some(Type::UUID),
                Some("varchar") => Some(Type::VARCHAR),
                _ => None,
            };
            let source = sources.get(i).copied().flatten();
            if marked.is_none() && source.is_none() {
                return info;
            }
            FieldInfo::new(
                info.name().to_string(),
                source.map(|(table, _)| table).or(info.table_id()),
                source.map(|(_, column)| column).or(info.column_id()),
                marked.unwrap_or_else(|| info.datatype().clone()),
                info.format(),
            )
            .with_format_options(info.format_options().clone())
        })
        .collect())
}

/// Encodes row `row` of `batch` into `encoder`, column by column.
pub(crate) fn encode_row<E: Encoder>(
    encoder: &mut E,
    batch: &RecordBatch,
    row: usize,
    fields: &[FieldInfo],
) -> PgWireResult<()> {
    let schema = batch.schema_ref();
    for (i, column) in batch.columns().iter().enumerate() {
        let field = &fields[i];
        if column.is_null(row) {
            encoder.encode_field(&None::<i32>, field)?;
            continue;
        }
        match (column.data_type(), field.datatype()) {
            (DataType::Decimal128(38, 10), _) => {
                let raw = column.as_primitive::<Decimal128Type>().value(row);
                match rust_decimal::Decimal::try_from_i128_with_scale(raw, 10) {
                    Ok(d) => encoder.encode_field(&d.normalize(), field)?,
                    Err(_) => encode_value(encoder, column, row, schema.field(i), field)?,
                }
            }
            (DataType::Utf8, &Type::JSON | &Type::JSONB | &Type::UUID) => {
                let text = column.as_string::<i32>().value(row);
                encoder.encode_field(&TypedText(text), field)?
            }
            (data_type, _) if field.format() == pgwire::api::results::FieldFormat::Text => {
                match postgres_text(column.as_ref(), data_type, row) {
                    Some(text) => encoder.encode_field(&TypedText(&text), field)?,
                    None => encode_value(encoder, column, row, schema.field(i), field)?,
                }
            }
            _ => encode_value(encoder, column, row, schema.field(i), field)?,
        }
    }
    Ok(())
}

/// The DataRows of a batch.
pub(crate) fn data_rows(
    fields: Arc<Vec<FieldInfo>>,
    batch: RecordBatch,
) -> impl Iterator<Item = PgWireResult<DataRow>> {
    let mut encoder = DataRowEncoder::new(fields.clone());
    (0..batch.num_rows()).map(move |row| {
        encode_row(&mut encoder, &batch, row, &fields)?;
        Ok(encoder.take_row())
    })
}

/// A json, jsonb or uuid value held as text: the text is its text form; the
/// binary forms are jsonb's version byte before the text, and uuid's 16 bytes.
#[derive(Debug)]
struct TypedText<'a>(&'a str);

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for TypedText<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *ty {
            Type::JSONB => {
                out.put_u8(1);
                out.put_slice(self.0.as_bytes());
            }
            Type::UUID => out.put_slice(&uuid_bytes(self.0)?),
            _ => out.put_slice(self.0.as_bytes()),
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB | Type::UUID)
    }

    postgres_types::to_sql_checked!();
}

impl ToSqlText for TypedText<'_> {
    fn to_sql_text(
        &self,
        ty: &Type,
        out: &mut BytesMut,
        _options: &FormatOptions,
    ) -> Result<IsNull, BoxError> {
        if *ty == Type::UUID {
            // PostgreSQL's output form: lower case, dashed.
            let b = uuid_bytes(self.0)?;
            for (i, byte) in b.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.put_u8(b'-');
                }
                out.put_slice(format!("{byte:02x}").as_bytes());
            }
        } else {
            out.put_slice(self.0.as_bytes());
        }
        Ok(IsNull::No)
    }
}

/// PostgreSQL's text for the value at `row`, for the types whose text
/// arrow-pg writes differently; `None` for every other type.
fn postgres_text(column: &dyn Array, data_type: &DataType, row: usize) -> Option<String> {
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
fn float_text(x: f64, digits: i32) -> String {
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
fn timestamp_text(t: chrono::NaiveDateTime, offset_secs: Option<i32>) -> String {
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
fn interval_text(months: i32, days: i32, micros: i64) -> String {
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

/// The 16 bytes of a uuid in any of the forms PostgreSQL accepts (hex digits,
/// optionally dashed or braced).
fn uuid_bytes(text: &str) -> Result<[u8; 16], BoxError> {
    let digits: Vec<u8> = text
        .trim_matches(|c| c == '{' || c == '}')
        .bytes()
        .filter(|b| *b != b'-')
        .collect();
    let bad = || -> BoxError { format!("invalid input syntax for type uuid: \"{text}\"").into() };
    if digits.len() != 32 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
    }
    Ok(out)
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

    #[test]
    fn uuids_read_in_every_accepted_form() {
        let want = super::uuid_bytes("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(
            super::uuid_bytes("{A0EEBC999C0B4EF8BB6D6BB9BD380A11}").unwrap(),
            want
        );
        assert_eq!(want[0], 0xa0);
        assert!(super::uuid_bytes("a0eebc99").is_err());
        assert!(super::uuid_bytes("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").is_err());
    }
}
