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

/// Runs `plan` on the cluster whose scheduler is at `scheduler`, as one job
/// of `session`: its result, streamed back. `codec` encodes the plan (and
/// refuses what must not travel); `settings` go with the job, as Ballista
/// sends every setting with it, so they must hold nothing secret.
pub async fn execute(
    scheduler: &str,
    plan: Arc<dyn ExecutionPlan>,
    codec: &dyn PhysicalExtensionCodec,
    session: &str,
    settings: SessionConfig,
) -> Result<SendableRecordBatchStream> {
    let settings = settings.upgrade_for_ballista();
    ballista_core::execution_plans::execute_physical_plan::<PhysicalPlanNode>(
        format!("http://{scheduler}"),
        &settings.ballista_config(),
        plan,
        codec,
        session.to_string(),
        settings,
    )
    .await
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
