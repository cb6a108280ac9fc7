//! Arrow values to PostgreSQL rows, through arrow-pg's per-value encoders,
//! with NULLs written as NULL before any type-specific encoding: arrow-pg
//! 0.16 writes a NULL interval as a zero interval (`NULL::interval` arrived
//! as `00:00:00`), so no value reaches it unless it is present.

use arrow_pg::encoder::{encode_value, Encoder};
use datafusion::arrow::array::{Array, RecordBatch};
use pgwire::api::results::{DataRowEncoder, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use std::sync::Arc;

/// Encodes row `row` of `batch` into `encoder`, column by column.
pub(crate) fn encode_row<E: Encoder>(
    encoder: &mut E,
    batch: &RecordBatch,
    row: usize,
    fields: &[FieldInfo],
) -> PgWireResult<()> {
    let schema = batch.schema_ref();
    for (i, column) in batch.columns().iter().enumerate() {
        if column.is_null(row) {
            encoder.encode_field(&None::<i32>, &fields[i])?;
        } else {
            encode_value(encoder, column, row, schema.field(i), &fields[i])?;
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
