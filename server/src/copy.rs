//! COPY TO STDOUT on the wire: the engine's rows, one CopyData message per
//! row, in text, CSV or PGCOPY binary, encoded by arrow-pg's value encoders
//! into pgwire's `CopyEncoder` — the same type mapping as ordinary results.

use crate::errors::from_datafusion;
use arrow_pg::datatypes::arrow_schema_to_pg_fields;
use bytes::Bytes;
use futures::{stream, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyCsvOptions, CopyEncoder, CopyResponse, CopyTextOptions, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;
use std::sync::{Arc, Mutex};
use zhenjie_engine::copy::{CopyFormat, CopyOptions};
use zhenjie_engine::RowStream;

/// The CopyOut response for a COPY's rows.
pub(crate) fn copy_response(rows: RowStream, options: &CopyOptions) -> PgWireResult<CopyResponse> {
    let binary = options.format == CopyFormat::Binary;
    let format = if binary {
        Format::UnifiedBinary
    } else {
        Format::UnifiedText
    };
    let fields: Arc<Vec<FieldInfo>> =
        Arc::new(arrow_schema_to_pg_fields(&rows.schema, &format, None)?);
    let columns = fields.len();
    let mut encoder = match options.format {
        CopyFormat::Binary => CopyEncoder::new_binary(fields.clone()),
        CopyFormat::Text => {
            let mut o = CopyTextOptions::default();
            if let Some(d) = options.delimiter {
                o.delimiter = d.to_string().into();
            }
            if let Some(n) = &options.null {
                o.null_string = n.as_str().into();
            }
            CopyEncoder::new_text(fields.clone(), o)
        }
        CopyFormat::Csv => {
            let mut o = CopyCsvOptions::default();
            if let Some(d) = options.delimiter {
                o.delimiter = d.to_string().into();
            }
            if let Some(n) = &options.null {
                o.null_string = n.as_str().into();
            }
            if let Some(q) = options.quote {
                o.quote = q.to_string().into();
                o.escape = q.to_string().into();
            }
            if let Some(e) = options.escape {
                o.escape = e.to_string().into();
            }
            CopyEncoder::new_csv(fields.clone(), o)
        }
    };
    // pgwire counts CopyData messages for the `COPY n` tag, so the header
    // travels in the first row's message (alone only when there are no rows).
    let header = Arc::new(Mutex::new(
        options.header.then(|| header_line(&rows.schema, options)),
    ));
    let leftover = header.clone();
    let data = rows
        .stream
        .map(move |batch| {
            let encoded: Vec<PgWireResult<CopyData>> = match batch {
                Ok(b) => (0..b.num_rows())
                    .map(|row| {
                        crate::encode::encode_row(&mut encoder, &b, row, &fields)?;
                        let data = encoder.take_copy();
                        Ok(
                            match header.lock().unwrap_or_else(|p| p.into_inner()).take() {
                                Some(h) => CopyData::new(Bytes::from([h, data.data].concat())),
                                None => data,
                            },
                        )
                    })
                    .collect(),
                Err(e) => vec![Err(from_datafusion(e))],
            };
            stream::iter(encoded)
        })
        .flatten()
        .chain(
            stream::once(async move { leftover.lock().unwrap_or_else(|p| p.into_inner()).take() })
                .filter_map(|h| async move { h.map(|h| Ok(CopyData::new(h))) }),
        );
    // Binary COPY starts with its signature even when there are no rows (the
    // encoder writes it with the first row).
    let header = Arc::new(Mutex::new(binary.then(binary_signature)));
    let (first, unsent) = (header.clone(), header);
    let data = data
        .map(move |item| {
            first.lock().unwrap_or_else(|p| p.into_inner()).take();
            item
        })
        .chain(
            stream::once(async move { unsent.lock().unwrap_or_else(|p| p.into_inner()).take() })
                .filter_map(|h| async move { h.map(|h| Ok(CopyData::new(h))) }),
        );
    Ok(CopyResponse::new(if binary { 1 } else { 0 }, columns, data))
}

/// PGCOPY's signature, flags and header extension length.
fn binary_signature() -> Bytes {
    let mut b = b"PGCOPY\n\xff\r\n\0".to_vec();
    b.extend_from_slice(&0i32.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    Bytes::from(b)
}

/// The header line of text and CSV COPY: the column names, quoted in CSV
/// where PostgreSQL would quote them.
fn header_line(schema: &datafusion::arrow::datatypes::Schema, options: &CopyOptions) -> Bytes {
    let csv = options.format == CopyFormat::Csv;
    let delimiter = options.delimiter.unwrap_or(if csv { ',' } else { '\t' });
    let quote = options.quote.unwrap_or('"');
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name();
            let needs_quote = csv
                && (name.contains(delimiter)
                    || name.contains(quote)
                    || name.contains('\n')
                    || name.contains('\r')
                    || options.null.as_deref().unwrap_or("") == name);
            if needs_quote {
                let doubled = name.replace(quote, &format!("{quote}{quote}"));
                format!("{quote}{doubled}{quote}")
            } else {
                name.clone()
            }
        })
        .collect();
    Bytes::from(format!("{}\n", names.join(&delimiter.to_string())))
}
