//! Where queries run: a tokio runtime of the engine's own, apart from the one
//! that serves connections.
//!
//! DataFusion's operators do their CPU work inside polls, and a few steps (a
//! nested-loop join's probe, say) are long ones. On the runtime that also
//! reads sockets, such a query on a two-core machine leaves no thread to read
//! a cancel request or a login. Here a query's stream is driven on the query
//! runtime and its batches are handed over through a small channel
//! (back-pressure stays: the producer waits while the client reads), so the
//! connection side always answers: a cancel or a statement timeout ends the
//! client's statement at once, and the producer stops at its next batch.
//! A stopped query's tasks end at their next yield; joins, which can emit rows
//! for a long time without reading any, are made to yield (`yielding_joins`).

use datafusion::common::runtime::SpawnedTask;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::ExecutionPlan;
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The engine's query runtime; shut down without waiting when the engine
/// goes (it may be dropped inside another runtime).
pub(crate) struct QueryRuntime(Option<tokio::runtime::Runtime>);

impl QueryRuntime {
    /// A multi-threaded runtime of `threads` workers.
    pub(crate) fn new(threads: usize) -> std::io::Result<QueryRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("zhenjie-query")
            // Evaluating an expression recurses through its depth.
            .thread_stack_size(crate::session::depth::STACK)
            .enable_all()
            .build()?;
        Ok(QueryRuntime(Some(runtime)))
    }

    /// Executes `plan` on this runtime; the returned stream only receives.
    /// Dropping it stops the query.
    pub(crate) fn execute(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: Arc<TaskContext>,
    ) -> SendableRecordBatchStream {
        let schema = plan.schema();
        // Lowered for this run (a kept plan runs again), raised when the
        // stream goes: costly join filters stop at their next chunk.
        let stop = StopOnDrop(crate::speed::yielding_joins::stop_switches(&plan));
        for s in &stop.0 {
            s.store(false, Ordering::Relaxed);
        }
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let runtime = self.0.as_ref().expect("query runtime is running");
        let _entered = runtime.enter();
        let task = SpawnedTask::spawn(async move {
            let mut stream = match datafusion::physical_plan::execute_stream(plan, context) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            while let Some(batch) = stream.next().await {
                if tx.send(batch).await.is_err() {
                    break;
                }
            }
        });
        // The task lives as long as the stream: dropping it aborts the query.
        // A task that ends without a last word panicked: its rows so far are
        // not the result, so the stream ends in an error, never as complete.
        let batches = futures::stream::unfold(Some((rx, task, stop)), |state| async move {
            let (mut rx, task, stop) = state?;
            match rx.recv().await {
                Some(batch) => Some((batch, Some((rx, task, stop)))),
                None => match task.join().await {
                    Ok(()) => None,
                    // Aborted only once this stream is gone: a panic.
                    Err(_) => Some((Err(panicked()), None)),
                },
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, batches))
    }
}

impl Drop for QueryRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The error a query that panicked (a bug in an operator or a function)
/// ends with: SQLSTATE XX000 for that statement; the server goes on.
fn panicked() -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::EngineError::new(
        crate::sqlstate::INTERNAL_ERROR,
        "internal error: the query panicked; no rows of it are a result",
    )))
}

/// Raises a plan's stop switches when the stream that owns it goes.
struct StopOnDrop(Vec<Arc<AtomicBool>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for s in &self.0 {
            s.store(true, Ordering::Relaxed);
        }
    }
}
