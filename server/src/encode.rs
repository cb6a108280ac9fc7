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
                match zhenjie_engine::postgres::text::value_text(column.as_ref(), data_type, row) {
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
