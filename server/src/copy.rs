//! COPY TO STDOUT on the wire: the engine's rows, one CopyData message per
//! row, in text, CSV or PGCOPY binary, encoded by arrow-pg's value encoders
//! into pgwire's `CopyEncoder` — the same type mapping as ordinary results.

use crate::errors::from_datafusion;
use bytes::Bytes;
use futures::{stream, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyCsvOptions, CopyEncoder, CopyResponse, CopyTextOptions, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;
use std::sync::{Arc, Mutex};
use zhenjie_engine::postgres::copy::{CopyFormat, CopyOptions};
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
        Arc::new(crate::encode::pg_fields(&rows.schema, &format, None, &[])?);
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
    // line travels in the first row's message, and what ends the data in the
    // last one: alone only when there are no rows (then the tag says 1).
    let header = Arc::new(Mutex::new(
        options.header.then(|| header_line(&rows.schema, options)),
    ));
    let leftover = header.clone();
    let any_row = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = any_row.clone();
    let data = rows
        .stream
        .map(move |batch| {
            let encoded: Vec<PgWireResult<CopyData>> = match batch {
                Ok(b) => (0..b.num_rows())
                    .map(|row| {
                        crate::encode::encode_row(&mut encoder, &b, row, &fields)?;
                        seen.store(true, std::sync::atomic::Ordering::Relaxed);
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
        .flatten();
    // The end: a header no row carried; for binary, the signature when no row
    // carried it (the encoder writes it with the first row) and the trailer,
    // in one message, since clients read the signature and what follows it
    // from the same message.
    let tail = stream::once(async move {
        let mut bytes = leftover
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|h| h.to_vec())
            .unwrap_or_default();
        if binary {
            if !any_row.load(std::sync::atomic::Ordering::Relaxed) {
                bytes.extend_from_slice(&binary_signature());
            }
            bytes.extend_from_slice(&[0xff, 0xff]);
        }
        (!bytes.is_empty()).then(|| Ok(CopyData::new(Bytes::from(bytes))))
    })
    .filter_map(futures::future::ready);
    // The stream is set after `new`, which would append a second trailer.
    let mut response = CopyResponse::new(if binary { 1 } else { 0 }, columns, stream::empty());
    *response.data_stream() = Box::pin(data.chain(tail));
    Ok(response)
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
