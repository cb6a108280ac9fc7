//! SQL cursors — `DECLARE name CURSOR FOR query`, `FETCH`, `CLOSE` —
//! the way psycopg's server-side cursors, pandas' chunked reads and report
//! tools page through results too big for the client. A cursor holds the
//! running query's batch stream (already fenced, masked and started under the
//! session's principal); each FETCH pulls the next rows from it, so memory
//! stays bounded by one batch whatever the result's size. Cursors only move
//! forward, as PostgreSQL's `NO SCROLL` cursors do.

use crate::{EngineError, Result, RowStream};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::sqlparser::ast::{self, FetchDirection};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// SQLSTATE 34000: no cursor of that name.
const INVALID_CURSOR_NAME: &str = "34000";
/// SQLSTATE 42P03: a cursor of that name exists already.
const DUPLICATE_CURSOR: &str = "42P03";
/// SQLSTATE 55000: e.g. fetching backwards from a forward-only cursor.
const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";

/// How many rows a FETCH asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchCount {
    /// At most this many.
    Rows(u64),
    /// Everything left.
    All,
}

/// Reads FETCH's direction; only forward directions are possible.
pub(crate) fn fetch_count(direction: &FetchDirection) -> Result<FetchCount> {
    let number = |v: &ast::ValueWithSpan| -> Result<u64> {
        v.value.to_string().parse::<u64>().map_err(|_| {
            EngineError::new(
                OBJECT_NOT_IN_PREREQUISITE_STATE,
                "cursor can only scan forward",
            )
        })
    };
    Ok(match direction {
        FetchDirection::Next => FetchCount::Rows(1),
        FetchDirection::Count { limit } => FetchCount::Rows(number(limit)?),
        FetchDirection::Forward { limit: None } => FetchCount::Rows(1),
        FetchDirection::Forward { limit: Some(l) } => FetchCount::Rows(number(l)?),
        FetchDirection::All | FetchDirection::ForwardAll => FetchCount::All,
        _ => {
            return Err(EngineError::new(
                OBJECT_NOT_IN_PREREQUISITE_STATE,
                "cursor can only scan forward",
            ))
        }
    })
}

/// One open cursor: the query's remaining rows.
struct Cursor {
    stream: SendableRecordBatchStream,
    /// Rows of the last batch pulled that no FETCH has taken yet.
    leftover: Option<RecordBatch>,
    /// `WITH HOLD`: survives the end of the transaction that declared it.
    hold: bool,
}

impl Cursor {
    /// The next at most `max` rows, or `None` at the end.
    async fn next_rows(&mut self, max: u64) -> Option<datafusion::error::Result<RecordBatch>> {
        let batch = match self.leftover.take() {
            Some(b) => b,
            None => loop {
                match self.stream.next().await? {
                    Ok(b) if b.num_rows() == 0 => continue,
                    Ok(b) => break b,
                    Err(e) => return Some(Err(e)),
                }
            },
        };
        let n = batch.num_rows() as u64;
        if n <= max {
            return Some(Ok(batch));
        }
        let take = max as usize;
        self.leftover = Some(batch.slice(take, batch.num_rows() - take));
        Some(Ok(batch.slice(0, take)))
    }
}

/// An open cursor: its row type, and the cursor a FETCH waits its turn for.
type OpenCursor = (SchemaRef, Arc<tokio::sync::Mutex<Cursor>>);

/// A session's open cursors, by name.
#[derive(Default)]
pub(crate) struct Cursors {
    open: Mutex<HashMap<String, OpenCursor>>,
}

impl Cursors {
    /// Opens a cursor over a started query.
    pub(crate) fn declare(&self, name: &str, rows: RowStream, hold: bool) -> Result<()> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.contains_key(name) {
            return Err(EngineError::new(
                DUPLICATE_CURSOR,
                format!("cursor \"{name}\" already exists"),
            ));
        }
        let cursor = Cursor {
            stream: rows.stream,
            leftover: None,
            hold,
        };
        open.insert(
            name.to_string(),
            (rows.schema, Arc::new(tokio::sync::Mutex::new(cursor))),
        );
        Ok(())
    }

    /// The columns FETCH from this cursor returns.
    pub(crate) fn schema(&self, name: &str) -> Result<SchemaRef> {
        self.get(name).map(|(s, _)| s)
    }

    fn get(&self, name: &str) -> Result<(SchemaRef, Arc<tokio::sync::Mutex<Cursor>>)> {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| {
                EngineError::new(
                    INVALID_CURSOR_NAME,
                    format!("cursor \"{name}\" does not exist"),
                )
            })
    }

    /// The next rows of a cursor, pulled as the client reads them.
    pub(crate) fn fetch(&self, name: &str, count: FetchCount) -> Result<RowStream> {
        let (schema, cursor) = self.get(name)?;
        let left = match count {
            FetchCount::Rows(n) => n,
            FetchCount::All => u64::MAX,
        };
        let stream = futures::stream::unfold((cursor, left), |(cursor, left)| async move {
            if left == 0 {
                return None;
            }
            let next = cursor.lock().await.next_rows(left).await?;
            let taken = next.as_ref().map_or(0, |b| b.num_rows() as u64);
            Some((next, (cursor, left - taken)))
        });
        Ok(RowStream {
            schema: schema.clone(),
            stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
        })
    }

    /// `CLOSE name`.
    pub(crate) fn close(&self, name: &str) -> Result<()> {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| {
                EngineError::new(
                    INVALID_CURSOR_NAME,
                    format!("cursor \"{name}\" does not exist"),
                )
            })
    }

    /// `CLOSE ALL`.
    pub(crate) fn close_all(&self) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The end of a transaction closes the cursors it declared without `WITH HOLD`.
    pub(crate) fn end_transaction(&self) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (_, c)| c.try_lock().map_or(true, |c| c.hold));
    }
}
