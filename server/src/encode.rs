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
//! A result's text, integer, boolean and date columns (and, in binary,
//! floats) are written straight from their typed arrays, a column plan made
//! once per batch: a streamed roster is mostly these, and going value by
//! value through the general encoders cost more than reading and filtering
//! them.

use arrow_pg::datatypes::arrow_schema_to_pg_fields;
use arrow_pg::encoder::{encode_value, Encoder};
use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Schema,
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

/// How one column of a batch is written: straight from its typed array
/// for the types rosters are made of, in text or binary, so a streamed
/// result does not pay a type dispatch (and, for dates, a DateStyle parse)
/// for every value.
enum Direct {
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
    Int16(Int16Array, bool),
    Int32(Int32Array, bool),
    Int64(Int64Array, bool),
    Bool(BooleanArray, bool),
    /// In text, a date in the ISO style (PostgreSQL's default).
    Date(Date32Array, bool),
    /// Binary only: in text PostgreSQL's float output has rules of its own
    /// (`value_text`).
    Float64(Float64Array),
    Float32(Float32Array),
    /// Any other type, or format: the value-by-value path.
    General(ArrayRef),
}

impl Direct {
    fn of(column: &ArrayRef, field: &FieldInfo) -> Self {
        let binary = field.format() == FieldFormat::Binary;
        let ty = field.datatype();
        let text = *ty == Type::TEXT || *ty == Type::VARCHAR;
        match column.data_type() {
            DataType::Utf8 if text => Direct::Utf8(column.as_string::<i32>().clone()),
            DataType::LargeUtf8 if text => Direct::LargeUtf8(column.as_string::<i64>().clone()),
            DataType::Utf8View if text => Direct::Utf8View(column.as_string_view().clone()),
            DataType::Int16 if *ty == Type::INT2 => {
                Direct::Int16(column.as_primitive::<Int16Type>().clone(), binary)
            }
            DataType::Int32 if *ty == Type::INT4 => {
                Direct::Int32(column.as_primitive::<Int32Type>().clone(), binary)
            }
            DataType::Int64 if *ty == Type::INT8 => {
                Direct::Int64(column.as_primitive::<Int64Type>().clone(), binary)
            }
            DataType::Boolean if *ty == Type::BOOL => {
                Direct::Bool(column.as_boolean().clone(), binary)
            }
            DataType::Date32 if *ty == Type::DATE && (binary || iso_dates(field)) => {
                Direct::Date(column.as_primitive::<Date32Type>().clone(), binary)
            }
            DataType::Float64 if *ty == Type::FLOAT8 && binary => {
                Direct::Float64(column.as_primitive::<Float64Type>().clone())
            }
            DataType::Float32 if *ty == Type::FLOAT4 && binary => {
                Direct::Float32(column.as_primitive::<Float32Type>().clone())
            }
            _ => Direct::General(column.clone()),
        }
    }

    /// Writes row `row`'s value (known not NULL) in the column's format.
    fn write(&self, row: usize, out: &mut BytesMut) -> PgWireResult<()> {
        let mut int = itoa::Buffer::new();
        match self {
            // A text value's binary form is its text.
            Direct::Utf8(a) => out.put_slice(a.value(row).as_bytes()),
            Direct::LargeUtf8(a) => out.put_slice(a.value(row).as_bytes()),
            Direct::Utf8View(a) => out.put_slice(a.value(row).as_bytes()),
            Direct::Int16(a, true) => out.put_i16(a.value(row)),
            Direct::Int32(a, true) => out.put_i32(a.value(row)),
            Direct::Int64(a, true) => out.put_i64(a.value(row)),
            Direct::Int16(a, false) => out.put_slice(int.format(a.value(row)).as_bytes()),
            Direct::Int32(a, false) => out.put_slice(int.format(a.value(row)).as_bytes()),
            Direct::Int64(a, false) => out.put_slice(int.format(a.value(row)).as_bytes()),
            Direct::Bool(a, true) => out.put_u8(u8::from(a.value(row))),
            Direct::Bool(a, false) => out.put_u8(if a.value(row) { b't' } else { b'f' }),
            // Binary dates count days from 2000-01-01.
            Direct::Date(a, true) => match a.value(row).checked_sub(10_957) {
                Some(days) => out.put_i32(days),
                None => {
                    return Err(pgwire::error::PgWireError::ApiError(
                        "date out of range".into(),
                    ))
                }
            },
            Direct::Date(a, false) => iso_date(a.value(row), out),
            Direct::Float64(a) => out.put_f64(a.value(row)),
            Direct::Float32(a) => out.put_f32(a.value(row)),
            Direct::General(_) => unreachable!("written value by value"),
        }
        Ok(())
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Direct::Utf8(a) => a.is_null(row),
            Direct::LargeUtf8(a) => a.is_null(row),
            Direct::Utf8View(a) => a.is_null(row),
            Direct::Int16(a, _) => a.is_null(row),
            Direct::Int32(a, _) => a.is_null(row),
            Direct::Int64(a, _) => a.is_null(row),
            Direct::Bool(a, _) => a.is_null(row),
            Direct::Date(a, _) => a.is_null(row),
            Direct::Float64(a) => a.is_null(row),
            Direct::Float32(a) => a.is_null(row),
            Direct::General(a) => a.is_null(row),
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
    let (year, month, day) = zhenjie_udfs::calendar::civil_from_days(days);
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
    let columns: Vec<Direct> = batch
        .columns()
        .iter()
        .zip(fields.iter())
        .map(|(column, field)| Direct::of(column, field))
        .collect();
    let schema = batch.schema();
    let mut row_buffer = BytesMut::new();
    (0..batch.num_rows()).map(move |row| {
        for (i, column) in columns.iter().enumerate() {
            let field = &fields[i];
            match column {
                Direct::General(array) => {
                    let mut encoder = RowWriter(&mut row_buffer);
                    encode_one(&mut encoder, array, row, schema.field(i), field)?
                }
                _ if column.is_null(row) => row_buffer.put_i32(-1),
                _ => length_prefixed(&mut row_buffer, |out| {
                    column.write(row, out)?;
                    Ok(IsNull::No)
                })?,
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
        length_prefixed(self.0, |out| {
            Ok(if field.format() == FieldFormat::Text {
                value.to_sql_text(field.datatype(), out, field.format_options())?
            } else {
                value.to_sql(field.datatype(), out)?
            })
        })
    }

    fn take_row(&mut self) -> Self::Item {}
}

/// Writes one field of a DataRow: its length, then what `write` writes
/// (the length -1 and nothing else when `write` finds a NULL). Inlined: it
/// runs for every value of a result.
#[inline(always)]
fn length_prefixed(
    out: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> PgWireResult<IsNull>,
) -> PgWireResult<()> {
    let at = out.len();
    out.put_i32(-1);
    if let IsNull::No = write(out)? {
        let length = (out.len() - at - 4) as i32;
        out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }
    Ok(())
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

    /// The typed columns write, in text and in binary, exactly what the
    /// value-by-value encoders write.
    #[test]
    fn typed_columns_write_what_the_general_encoders_write() {
        use datafusion::arrow::array::*;
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use pgwire::api::portal::Format;
        use pgwire::api::results::DataRowEncoder;
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("v", DataType::Utf8View, true),
            Field::new("l", DataType::LargeUtf8, true),
            Field::new("i2", DataType::Int16, true),
            Field::new("i4", DataType::Int32, true),
            Field::new("i8", DataType::Int64, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("d", DataType::Date32, true),
            Field::new("f8", DataType::Float64, true),
            Field::new("f4", DataType::Float32, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("张伟"), None, Some("")])),
            Arc::new(StringViewArray::from(vec![
                Some("a longer string than twelve bytes"),
                Some("x"),
                None,
            ])),
            Arc::new(LargeStringArray::from(vec![None, Some("y"), Some("z")])),
            Arc::new(Int16Array::from(vec![Some(i16::MIN), None, Some(7)])),
            Arc::new(Int32Array::from(vec![Some(-1), Some(i32::MAX), None])),
            Arc::new(Int64Array::from(vec![None, Some(i64::MIN), Some(0)])),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            Arc::new(Date32Array::from(vec![Some(19_782), None, Some(-719_162)])),
            Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN), None])),
            Arc::new(Float32Array::from(vec![None, Some(-0.25), Some(1e20)])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        for format in [Format::UnifiedText, Format::UnifiedBinary] {
            let options = Arc::new(pgwire::types::format::FormatOptions::default());
            let fields = Arc::new(super::pg_fields(&schema, &format, Some(options), &[]).unwrap());
            let direct: Vec<_> = super::data_rows(fields.clone(), batch.clone())
                .map(|r| r.unwrap())
                .collect();
            let mut encoder = DataRowEncoder::new(fields.clone());
            for (row, got) in direct.iter().enumerate() {
                super::encode_row(&mut encoder, &batch, row, &fields).unwrap();
                let want = encoder.take_row();
                assert_eq!(got.field_count, want.field_count);
                assert_eq!(got.data, want.data, "row {row} in {format:?}");
            }
        }
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
