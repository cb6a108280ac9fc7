//! Arrow values to PostgreSQL rows, through arrow-pg's per-value encoders,
//! with corrections of our own:
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
//!
//! A result's text, integer, boolean and (ISO-style) date columns are
//! written straight from their typed arrays, a column plan made once per
//! batch: a streamed roster is mostly these, and going value by value
//! through the general encoders cost more than reading and filtering them.

use arrow_pg::datatypes::arrow_schema_to_pg_fields;
use arrow_pg::encoder::{encode_value, Encoder};
use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int16Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Int16Type, Int32Type, Int64Type, Schema,
};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldFormat, FieldInfo};
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
                Some("bpchar") => Some(Type::BPCHAR),
                _ => None,
            };
            let source = sources.get(i).copied().flatten();
            let name = zhenjie_engine::postgres::text::display_name(info.name());
            if marked.is_none() && source.is_none() && name == info.name() {
                return info;
            }
            FieldInfo::new(
                name.to_string(),
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
        encode_one(encoder, column, row, schema.field(i), &fields[i])?;
    }
    Ok(())
}

/// Encodes the value at `row` of one column, whatever its type and format.
fn encode_one<E: Encoder>(
    encoder: &mut E,
    column: &ArrayRef,
    row: usize,
    arrow_field: &Field,
    field: &FieldInfo,
) -> PgWireResult<()> {
    if column.is_null(row) {
        return encoder.encode_field(&None::<i32>, field);
    }
    match (column.data_type(), field.datatype()) {
        (DataType::Decimal128(38, 10), _) => {
            let raw = column.as_primitive::<Decimal128Type>().value(row);
            match rust_decimal::Decimal::try_from_i128_with_scale(raw, 10) {
                Ok(d) => encoder.encode_field(&d.normalize(), field),
                Err(_) => encode_value(encoder, column, row, arrow_field, field),
            }
        }
        (DataType::Utf8, &Type::JSON | &Type::JSONB | &Type::UUID) => {
            let text = column.as_string::<i32>().value(row);
            encoder.encode_field(&TypedText(text), field)
        }
        (data_type, _) if field.format() == FieldFormat::Text => {
            match zhenjie_engine::postgres::text::value_text(column.as_ref(), data_type, row) {
                Some(text) => encoder.encode_field(&TypedText(&text), field),
                None => encode_value(encoder, column, row, arrow_field, field),
            }
        }
        _ => encode_value(encoder, column, row, arrow_field, field),
    }
}

/// How one column of a batch is written in text: straight from its typed
/// array for the types rosters are made of, so a streamed result does not
/// pay a type dispatch and a date-style parse for every value.
enum TextColumn {
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
    Int16(Int16Array),
    Int32(Int32Array),
    Int64(Int64Array),
    Bool(BooleanArray),
    /// A date in the ISO date style (PostgreSQL's default).
    IsoDate(Date32Array),
    /// Any other type or format: the value-by-value path.
    General(ArrayRef),
}

impl TextColumn {
    fn of(column: &ArrayRef, field: &FieldInfo) -> Self {
        let general = || TextColumn::General(column.clone());
        if field.format() != FieldFormat::Text {
            return general();
        }
        let ty = field.datatype();
        let text = *ty == Type::TEXT || *ty == Type::VARCHAR;
        match column.data_type() {
            DataType::Utf8 if text => TextColumn::Utf8(column.as_string::<i32>().clone()),
            DataType::LargeUtf8 if text => TextColumn::LargeUtf8(column.as_string::<i64>().clone()),
            DataType::Utf8View if text => TextColumn::Utf8View(column.as_string_view().clone()),
            DataType::Int16 if *ty == Type::INT2 => {
                TextColumn::Int16(column.as_primitive::<Int16Type>().clone())
            }
            DataType::Int32 if *ty == Type::INT4 => {
                TextColumn::Int32(column.as_primitive::<Int32Type>().clone())
            }
            DataType::Int64 if *ty == Type::INT8 => {
                TextColumn::Int64(column.as_primitive::<Int64Type>().clone())
            }
            DataType::Boolean if *ty == Type::BOOL => TextColumn::Bool(column.as_boolean().clone()),
            DataType::Date32 if *ty == Type::DATE && iso_dates(field) => {
                TextColumn::IsoDate(column.as_primitive::<Date32Type>().clone())
            }
            _ => general(),
        }
    }

    /// Writes row `row`'s value (known not NULL) as text.
    fn write(&self, row: usize, out: &mut BytesMut) {
        let mut int = itoa::Buffer::new();
        match self {
            TextColumn::Utf8(a) => out.put_slice(a.value(row).as_bytes()),
            TextColumn::LargeUtf8(a) => out.put_slice(a.value(row).as_bytes()),
            TextColumn::Utf8View(a) => out.put_slice(a.value(row).as_bytes()),
            TextColumn::Int16(a) => out.put_slice(int.format(a.value(row)).as_bytes()),
            TextColumn::Int32(a) => out.put_slice(int.format(a.value(row)).as_bytes()),
            TextColumn::Int64(a) => out.put_slice(int.format(a.value(row)).as_bytes()),
            TextColumn::Bool(a) => out.put_u8(if a.value(row) { b't' } else { b'f' }),
            TextColumn::IsoDate(a) => iso_date(a.value(row), out),
            TextColumn::General(_) => unreachable!("written value by value"),
        }
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            TextColumn::Utf8(a) => a.is_null(row),
            TextColumn::LargeUtf8(a) => a.is_null(row),
            TextColumn::Utf8View(a) => a.is_null(row),
            TextColumn::Int16(a) => a.is_null(row),
            TextColumn::Int32(a) => a.is_null(row),
            TextColumn::Int64(a) => a.is_null(row),
            TextColumn::Bool(a) => a.is_null(row),
            TextColumn::IsoDate(a) => a.is_null(row),
            TextColumn::General(a) => a.is_null(row),
        }
    }
}

/// Whether `field`'s dates are written in the ISO style (`DateStyle` ISO,
/// whatever its field order): the only style written here directly.
fn iso_dates(field: &FieldInfo) -> bool {
    let style = field.format_options().date_style.as_str();
    let style = style.split(',').next().unwrap_or("").trim();
    style.eq_ignore_ascii_case("iso")
}

/// A date (days since 1970-01-01) as PostgreSQL writes it in the ISO style:
/// `2024-02-29`, the year zero-padded to four digits (more when it has
/// them), and years before 1 AD as `0001-12-31 BC`.
fn iso_date(days: i32, out: &mut BytesMut) {
    // Days to the proleptic Gregorian calendar (H. Hinnant's civil_from_days).
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (shown, bc) = if year > 0 {
        (year, false)
    } else {
        (1 - year, true)
    };
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(shown);
    for _ in digits.len()..4 {
        out.put_u8(b'0');
    }
    out.put_slice(digits.as_bytes());
    out.put_slice(&[
        b'-',
        b'0' + (month / 10) as u8,
        b'0' + (month % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ]);
    if bc {
        out.put_slice(b" BC");
    }
}

/// The DataRows of a batch: column plans made once per batch, then each
/// row written column by column.
pub(crate) fn data_rows(
    fields: Arc<Vec<FieldInfo>>,
    batch: RecordBatch,
) -> impl Iterator<Item = PgWireResult<DataRow>> {
    let columns: Vec<TextColumn> = batch
        .columns()
        .iter()
        .zip(fields.iter())
        .map(|(column, field)| TextColumn::of(column, field))
        .collect();
    let schema = batch.schema();
    let mut row_buffer = BytesMut::new();
    (0..batch.num_rows()).map(move |row| {
        for (i, column) in columns.iter().enumerate() {
            let field = &fields[i];
            match column {
                TextColumn::General(array) => {
                    let mut encoder = RowWriter(&mut row_buffer);
                    encode_one(&mut encoder, array, row, schema.field(i), field)?
                }
                _ if column.is_null(row) => row_buffer.put_i32(-1),
                _ => {
                    let at = row_buffer.len();
                    row_buffer.put_i32(0);
                    column.write(row, &mut row_buffer);
                    let length = (row_buffer.len() - at - 4) as i32;
                    row_buffer[at..at + 4].copy_from_slice(&length.to_be_bytes());
                }
            }
        }
        Ok(DataRow::new(row_buffer.split(), columns.len() as i16))
    })
}

/// A DataRow being written: a length-prefixed value per field, in the
/// field's format, as pgwire's `DataRowEncoder` writes them; it lets the
/// value-by-value path and the typed columns share one row buffer.
struct RowWriter<'a>(&'a mut BytesMut);

impl Encoder for RowWriter<'_> {
    type Item = ();

    fn encode_field<T>(&mut self, value: &T, field: &FieldInfo) -> PgWireResult<()>
    where
        T: ToSql + ToSqlText + Sized,
    {
        let at = self.0.len();
        self.0.put_i32(-1);
        let is_null = if field.format() == FieldFormat::Text {
            value.to_sql_text(field.datatype(), self.0, field.format_options())?
        } else {
            value.to_sql(field.datatype(), self.0)?
        };
        if let IsNull::No = is_null {
            let length = (self.0.len() - at - 4) as i32;
            self.0[at..at + 4].copy_from_slice(&length.to_be_bytes());
        }
        Ok(())
    }

    fn take_row(&mut self) -> Self::Item {}
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
    fn date_text(days: i32) -> String {
        let mut out = bytes::BytesMut::new();
        super::iso_date(days, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn dates_are_written_as_postgresql_writes_them_in_iso_style() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_782), "2024-02-29");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(date_text(-719_162), "0001-01-01");
        // The year before 1 AD is 1 BC: PostgreSQL has no year zero.
        assert_eq!(date_text(-719_163), "0001-12-31 BC");
        assert_eq!(date_text(-719_162 - 366 - 365), "0002-01-01 BC");
        assert_eq!(date_text(2_932_896), "9999-12-31");
        assert_eq!(date_text(2_932_897), "10000-01-01");
        // Every day of years 1 to 9999 agrees with chrono's calendar.
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-719_162..=2_932_896).step_by(7) {
            let date = epoch + chrono::Duration::days(days.into());
            assert_eq!(date_text(days), date.format("%Y-%m-%d").to_string());
        }
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
