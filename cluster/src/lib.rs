//! Distributed execution for zhenjie on Apache DataFusion Ballista.
//!
//! What it is for: running a physical plan that zhenjie's engine has already
//! planned and governed (fences, masks, the barrier) on a Ballista cluster:
//! starting a scheduler and executors, and submitting a plan as Ballista's
//! `execute_physical_plan` does, so the scheduler splits it into stages and
//! never plans anything from SQL.
//!
//! What it is not: it knows nothing of principals, policies or the wire. It
//! does not decide what may travel: the engine's codec (which encodes
//! zhenjie's own nodes and refuses what executors could not run as planned)
//! and its routing do. Nor does it hold secrets: each process builds its
//! function registry, keys included, from its own configuration.

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::serde::{BallistaCodec, BallistaLogicalExtensionCodec};
use ballista_core::utils::{create_grpc_server, GrpcServerConfig};
use ballista_core::{ConfigProducer, RuntimeProducer};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, SessionState, SessionStateBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A running scheduler: where executors and front ends reach it.
#[derive(Debug)]
pub struct Scheduler {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs until the server stops (it does not, short of an error).
    pub async fn wait(mut self) -> Result<()> {
        (&mut self.task)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a scheduler on `listener`. `codec` decodes the plans front ends
/// submit (and encodes their stages for executors); `functions` is the
/// registry it decodes function names with.
pub async fn start_scheduler(
    listener: TcpListener,
    codec: Arc<dyn PhysicalExtensionCodec>,
    functions: SessionState,
) -> Result<Scheduler> {
    let addr = listener.local_addr()?;
    let config_producer: ConfigProducer = Arc::new(SessionConfig::new_with_ballista);
    let session_builder: ballista_scheduler::SessionBuilder =
        Arc::new(move |config: SessionConfig| {
            Ok(SessionStateBuilder::new_from_existing(functions.clone())
                .with_config(config)
                .build())
        });
    let cluster = BallistaCluster::new_memory(addr.to_string(), session_builder, config_producer);
    let metrics = ballista_scheduler::metrics::default_metrics_collector().map_err(ballista)?;
    let codec = BallistaCodec::new(Arc::new(BallistaLogicalExtensionCodec::default()), codec);
    let config = SchedulerConfig::default().with_scheduler_policy(TaskSchedulingPolicy::PullStaged);
    let max_message = config.grpc_server_max_decoding_message_size as usize;
    let mut server: SchedulerServer<LogicalPlanNode, PhysicalPlanNode> =
        SchedulerServer::new(addr.to_string(), cluster, codec, Arc::new(config), metrics);
    server.init().await.map_err(ballista)?;
    let service = SchedulerGrpcServer::new(server)
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let serving = create_grpc_server(&GrpcServerConfig::default())
        .add_service(service)
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
    let task = tokio::spawn(async move {
        if let Err(e) = serving.await {
            tracing::error!("scheduler stopped: {e}");
        }
    });
    tracing::info!("Ballista scheduler listening on {addr}");
    Ok(Scheduler { addr, task })
}

/// Starts an executor on this machine (listening on loopback) that takes
/// tasks from the scheduler at `scheduler` (`host:port`) and runs `slots`
/// of them at once. `codec` and `functions` as for [`start_scheduler`], but
/// with what only executors hold (the mask key).
pub async fn start_executor(
    scheduler: &str,
    codec: Arc<dyn PhysicalExtensionCodec>,
    functions: SessionState,
    slots: usize,
) -> Result<()> {
    let client = SchedulerGrpcClient::connect(format!("http://{scheduler}"))
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let config = functions.config().clone().upgrade_for_ballista();
    let config_producer: ConfigProducer = Arc::new(move || config.clone());
    let runtime = functions.runtime_env().clone();
    let runtime_producer: RuntimeProducer = Arc::new(move |_| Ok(runtime.clone()));
    let codec = BallistaCodec::new(Arc::new(BallistaLogicalExtensionCodec::default()), codec);
    ballista_executor::new_standalone_executor_from_builder(
        client,
        slots,
        config_producer,
        runtime_producer,
        codec,
        (&functions).into(),
    )
    .await
    .map_err(ballista)
}

/// Runs a plan (its bytes, from [`encode`], and the schema of its rows) on
/// the cluster whose scheduler is at `scheduler`, as one job of `session`:
/// its result, streamed back once the job has finished. `settings` go with
/// the job, as Ballista sends every setting with it, so they must hold
/// nothing secret.
///
/// Dropping the returned future before the job ends (a cancel request, a
/// statement timeout, a client gone) cancels the job on the scheduler: it
/// does not run on to its end for nobody.
pub async fn execute(
    scheduler: &str,
    plan: Vec<u8>,
    schema: datafusion::arrow::datatypes::SchemaRef,
    session: &str,
    settings: SessionConfig,
) -> Result<SendableRecordBatchStream> {
    use ballista_core::serde::protobuf::{
        execute_query_params::Query, job_status, ExecuteQueryParams, KeyValuePair,
    };
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use futures::{StreamExt, TryStreamExt};
    let settings = settings.upgrade_for_ballista();
    let max_message = settings.ballista_grpc_client_max_message_size();
    let params = ExecuteQueryParams {
        query: Some(Query::PhysicalPlan(plan)),
        settings: settings
            .options()
            .entries()
            .into_iter()
            .map(|e| KeyValuePair {
                key: e.key,
                value: e.value,
            })
            .collect(),
        session_id: session.to_string(),
        operation_id: format!("{session}-{}", next_operation()),
    };
    let client = SchedulerGrpcClient::connect(format!("http://{scheduler}"))
        .await
        .map_err(external)?
        .max_encoding_message_size(max_message)
        .max_decoding_message_size(max_message);
    let mut request = tonic::Request::new(params);
    ballista_core::version::insert_version_header(request.metadata_mut());
    let mut job = Job {
        client: client.clone(),
        id: None,
    };
    let mut statuses = job
        .client
        .execute_query_push(request)
        .await
        .map_err(external)?
        .into_inner();
    let locations = loop {
        let update = statuses
            .next()
            .await
            .ok_or_else(|| {
                DataFusionError::Execution("the scheduler ended the job's updates early".into())
            })?
            .map_err(external)?;
        let Some(status) = update.status else {
            continue;
        };
        if job.id.is_none() && !status.job_id.is_empty() {
            job.id = Some(status.job_id.clone());
        }
        match status.status {
            Some(job_status::Status::Failed(failed)) => {
                job.id = None;
                return Err(DataFusionError::Execution(format!(
                    "cluster job failed: {}",
                    failed.error
                )));
            }
            Some(job_status::Status::Successful(done)) => {
                job.id = None;
                break done.partition_location;
            }
            _ => {}
        }
    };
    let fetches = locations
        .into_iter()
        .map(move |location| futures::stream::once(fetch(location, max_message)).try_flatten());
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(fetches).flatten(),
    )))
}

/// A submitted job not known to have ended: cancelled on the scheduler when
/// dropped.
struct Job {
    client: SchedulerGrpcClient<tonic::transport::Channel>,
    id: Option<String>,
}

impl Drop for Job {
    fn drop(&mut self) {
        let Some(job_id) = self.id.take() else {
            return;
        };
        let mut client = self.client.clone();
        tokio::spawn(async move {
            let cancel = ballista_core::serde::protobuf::CancelJobParams {
                job_id: job_id.clone(),
            };
            match client.cancel_job(cancel).await {
                Ok(r) if r.get_ref().cancelled => {
                    CANCELLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!("cluster job {job_id} cancelled")
                }
                Ok(_) => tracing::info!("cluster job {job_id} had ended"),
                Err(e) => tracing::warn!("cluster job {job_id} could not be cancelled: {e}"),
            }
        });
    }
}

/// One finished partition of a job, read from the executor holding it.
async fn fetch(
    location: ballista_core::serde::protobuf::PartitionLocation,
    max_message: usize,
) -> Result<SendableRecordBatchStream> {
    let missing =
        |what: &str| DataFusionError::Internal(format!("partition location without {what}"));
    let layout = location.layout();
    let executor = location.executor_meta.ok_or_else(|| missing("executor"))?;
    let partition = location
        .partition_id
        .ok_or_else(|| missing("partition id"))?;
    let port = executor.port as u16;
    let mut client = ballista_core::client::BallistaClient::try_new(
        &executor.host,
        port,
        max_message,
        false,
        None,
        3,
        100,
        0,
        0,
    )
    .await
    .map_err(ballista)?;
    client
        .fetch_partition_proxied(
            &executor.id,
            &partition.into(),
            location.file_id,
            layout,
            &executor.host,
            port,
            true,
        )
        .await
        .map_err(ballista)
}

static CANCELLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Jobs this process submitted, gave up on, and the scheduler confirmed
/// cancelled.
pub fn cancelled_jobs() -> u64 {
    CANCELLED.load(std::sync::atomic::Ordering::Relaxed)
}

fn next_operation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// The bytes a plan travels as: what a test reads to check that nothing
/// secret is in them.
pub fn encode(plan: Arc<dyn ExecutionPlan>, codec: &dyn PhysicalExtensionCodec) -> Result<Vec<u8>> {
    use datafusion_proto::physical_plan::AsExecutionPlan;
    let node = PhysicalPlanNode::try_from_physical_plan(plan, codec)?;
    let mut buf = Vec::new();
    node.try_encode(&mut buf)?;
    Ok(buf)
}

/// A plan from its bytes, as an executor reads it.
pub fn decode(
    buf: &[u8],
    ctx: &datafusion::execution::TaskContext,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Arc<dyn ExecutionPlan>> {
    use datafusion_proto::physical_plan::AsExecutionPlan;
    PhysicalPlanNode::try_decode(buf)?.try_into_physical_plan(ctx, codec)
}

fn ballista(e: ballista_core::error::BallistaError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// DataFusion's plan serialisation, as the engine's codec implements it.
pub use datafusion_proto;

/// Ballista's own codec (its shuffle and exchange nodes; DataFusion's nodes
/// through DataFusion's): what a codec for more nodes hands the rest to.
pub fn ballista_codec() -> Arc<dyn PhysicalExtensionCodec> {
    Arc::new(ballista_core::serde::BallistaPhysicalExtensionCodec::default())
}
