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
        let batches = futures::stream::unfold((rx, task), |(mut rx, task)| async move {
            let batch = rx.recv().await?;
            Some((batch, (rx, task)))
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
