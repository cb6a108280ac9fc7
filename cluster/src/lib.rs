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
//!
//! Schedulers and executors run whatever plan reaches them, so with [`Tls`]
//! every hop (front end to scheduler and executors, executors to the
//! scheduler and to each other) is mutual TLS: a peer without a certificate
//! from the cluster's CA is refused at the handshake.

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

/// The cluster's mutual TLS, in PEM: the CA that signs every member's
/// certificate, and this process's own certificate and key. Each process
/// presents its certificate and accepts only peers whose certificate the CA
/// signed; a certificate must name the host others reach its process by.
#[derive(Clone)]
pub struct Tls {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls { .. }")
    }
}

impl Tls {
    /// The CA's certificate, this process's certificate and its key, as
    /// PEM; an error names what does not parse.
    pub fn from_pem(ca: Vec<u8>, cert: Vec<u8>, key: Vec<u8>) -> Result<Tls> {
        let tls = Tls { ca, cert, key };
        // tonic reads the PEM only when a server or channel is built.
        tonic::transport::Server::builder()
            .tls_config(tls.server())
            .map_err(|e| tls_error("certificate, key or CA", e))?;
        tonic::transport::Endpoint::from_static("https://localhost")
            .tls_config(tls.client())
            .map_err(|e| tls_error("client certificate or CA", e))?;
        Ok(tls)
    }

    /// The `ca.pem`, `cert.pem` and `key.pem` of a member's folder, as
    /// [`make_certificates`] writes them.
    pub fn from_dir(dir: &std::path::Path) -> Result<Tls> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| tls_error(&path.display().to_string(), e))
        };
        Tls::from_pem(read("ca.pem")?, read("cert.pem")?, read("key.pem")?)
    }

    fn identity(&self) -> tonic::transport::Identity {
        tonic::transport::Identity::from_pem(&self.cert, &self.key)
    }

    fn server(&self) -> tonic::transport::ServerTlsConfig {
        tonic::transport::ServerTlsConfig::new()
            .identity(self.identity())
            .client_ca_root(tonic::transport::Certificate::from_pem(&self.ca))
    }

    fn client(&self) -> tonic::transport::ClientTlsConfig {
        tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&self.ca))
            .identity(self.identity())
    }

    /// What Ballista applies to each channel it opens itself (shuffle
    /// reads between executors, the scheduler's calls to executors).
    fn endpoint_override(&self) -> ballista_core::extension::EndpointOverrideFn {
        let client = self.client();
        Arc::new(move |endpoint: tonic::transport::Endpoint| {
            endpoint
                .tls_config(client.clone())
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
    }
}

/// Makes a new cluster's certificates under `dir`: its CA (`ca.pem`, and
/// `ca.key` to sign members added later), and for each of `hosts` a folder
/// `dir/<host>/` holding `ca.pem`, `cert.pem` and `key.pem`, what
/// [`Tls::from_dir`] reads, its certificate naming the host (and 127.0.0.1
/// for `localhost`). Keys are readable by their owner only.
pub fn make_certificates(dir: &std::path::Path, hosts: &[String]) -> Result<()> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let failed = |e: &dyn std::fmt::Display| tls_error("making certificates", e);
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| failed(&e))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "zhenjie cluster CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(|e| failed(&e))?;
    let ca_pem = ca.self_signed(&ca_key).map_err(|e| failed(&e))?.pem();
    write_file(&dir.join("ca.key"), ca_key.serialize_pem().as_bytes(), true)?;
    write_file(&dir.join("ca.pem"), ca_pem.as_bytes(), false)?;
    let issuer = Issuer::new(ca, ca_key);
    for host in hosts {
        let mut names = vec![host.clone()];
        if host == "localhost" {
            names.push("127.0.0.1".to_string());
        }
        let mut member = CertificateParams::new(names).map_err(|e| failed(&e))?;
        member
            .distinguished_name
            .push(DnType::CommonName, format!("zhenjie cluster member {host}"));
        member.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().map_err(|e| failed(&e))?;
        let cert = member.signed_by(&key, &issuer).map_err(|e| failed(&e))?;
        let folder = dir.join(host);
        write_file(
            &folder.join("key.pem"),
            key.serialize_pem().as_bytes(),
            true,
        )?;
        write_file(&folder.join("cert.pem"), cert.pem().as_bytes(), false)?;
        write_file(&folder.join("ca.pem"), ca_pem.as_bytes(), false)?;
    }
    Ok(())
}

/// Writes a new file (an existing one is an error: certificates are not
/// replaced by accident); `secret` ones readable by their owner only.
fn write_file(path: &std::path::Path, bytes: &[u8], secret: bool) -> Result<()> {
    use std::io::Write;
    let failed = |e: std::io::Error| tls_error(&path.display().to_string(), e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            DataFusionError::Configuration(format!(
                "{} exists: a cluster's certificates are never replaced (give a new --out)",
                path.display()
            ))
        } else {
            failed(e)
        }
    })?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Configuration(format!("cluster TLS: {what}: {e}"))
}

/// A gRPC server, with the cluster's TLS when it has one.
fn grpc_server(tls: Option<&Tls>) -> Result<tonic::transport::Server> {
    let server = create_grpc_server(&GrpcServerConfig::default());
    match tls {
        Some(tls) => server
            .tls_config(tls.server())
            .map_err(|e| tls_error("server", e)),
        None => Ok(server),
    }
}

/// A channel to a member at `addr` (`host:port`), over TLS when the
/// cluster has it.
async fn channel(addr: &str, tls: Option<&Tls>) -> Result<tonic::transport::Channel> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = tonic::transport::Endpoint::from_shared(format!("{scheme}://{addr}"))
        .map_err(|e| DataFusionError::Configuration(format!("cluster address {addr}: {e}")))?;
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls.client())
            .map_err(|e| tls_error("client", e))?;
    }
    endpoint
        .connect()
        .await
        .map_err(|e| DataFusionError::Execution(format!("cannot reach {addr}: {e:?}")))
}

/// Starts a scheduler on `listener`. `codec` decodes the plans front ends
/// submit (and encodes their stages for executors); `functions` is the
/// registry it decodes function names with; `tls`, the cluster's.
pub async fn start_scheduler(
    listener: TcpListener,
    codec: Arc<dyn PhysicalExtensionCodec>,
    functions: SessionState,
    tls: Option<&Tls>,
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
    let mut config =
        SchedulerConfig::default().with_scheduler_policy(TaskSchedulingPolicy::PullStaged);
    config.override_create_grpc_client_endpoint = tls.map(Tls::endpoint_override);
    let max_message = config.grpc_server_max_decoding_message_size as usize;
    let mut server: SchedulerServer<LogicalPlanNode, PhysicalPlanNode> =
        SchedulerServer::new(addr.to_string(), cluster, codec, Arc::new(config), metrics);
    server.init().await.map_err(ballista)?;
    let service = SchedulerGrpcServer::new(server)
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let serving = grpc_server(tls)?
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

/// How an executor joins its cluster.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// Tasks it runs at once.
    pub slots: usize,
    /// The cluster's mutual TLS; `None` only for a cluster on one machine.
    pub tls: Option<Tls>,
    /// Where it listens for executors and front ends fetching its results.
    pub bind: String,
    /// The host name it gives them, which its certificate must name.
    pub host: String,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            slots: 2,
            tls: None,
            bind: "localhost:0".to_string(),
            host: "localhost".to_string(),
        }
    }
}

/// Starts an executor that takes tasks from the scheduler at `scheduler`
/// (`host:port`) and serves their results. `codec` and `functions` as for
/// [`start_scheduler`], but with what only executors hold (the mask key).
/// Ballista's standalone executor, but with TLS on its server and on every
/// channel it opens, and a host others can reach. Returns the `host:port`
/// they reach it at.
pub async fn start_executor(
    scheduler: &str,
    codec: Arc<dyn PhysicalExtensionCodec>,
    functions: SessionState,
    options: ExecutorOptions,
) -> Result<String> {
    use arrow_flight::flight_service_server::FlightServiceServer;
    use ballista_core::serde::protobuf::ExecutorRegistration;
    use ballista_core::serde::scheduler::{
        ExecutorOperatingSystemSpecification, ExecutorSpecification,
    };
    use ballista_executor::executor::Executor;
    use ballista_executor::flight_service::BallistaFlightService;
    let tls = options.tls.as_ref();
    let client = SchedulerGrpcClient::new(channel(scheduler, tls).await?);
    let mut config = functions.config().clone().upgrade_for_ballista();
    if let Some(tls) = tls {
        config = config
            .with_ballista_use_tls(true)
            .with_ballista_override_create_grpc_client_endpoint(tls.endpoint_override());
    }
    let max_message = config.ballista_grpc_client_max_message_size();
    let config_producer: ConfigProducer = Arc::new(move || config.clone());
    let runtime = functions.runtime_env().clone();
    let runtime_producer: RuntimeProducer = Arc::new(move |_| Ok(runtime.clone()));
    let codec: BallistaCodec<LogicalPlanNode, PhysicalPlanNode> =
        BallistaCodec::new(Arc::new(BallistaLogicalExtensionCodec::default()), codec);
    let listener = TcpListener::bind(&options.bind).await.map_err(|e| {
        DataFusionError::Execution(format!("cannot listen on {}: {e}", options.bind))
    })?;
    let port = listener.local_addr()?.port();
    // Shuffle files live as long as the executor's server.
    let work_dir = tempfile::TempDir::new()?;
    let work_path = work_dir.path().to_string_lossy().to_string();
    let registration = ExecutorRegistration {
        id: ballista_core::ids::new_instance_id(),
        host: Some(options.host.clone()),
        port: u32::from(port),
        // Pull-staged scheduling never calls an executor's own gRPC server.
        grpc_port: 0,
        specification: Some(
            ExecutorSpecification::default()
                .with_vcores(options.slots as u32)
                .into(),
        ),
        os_info: Some(ExecutorOperatingSystemSpecification::default().into()),
        ballista_protocol_version: ballista_core::BALLISTA_PROTOCOL_VERSION,
    };
    let executor = Arc::new(Executor::with_default_execution_engine(
        registration,
        &work_path,
        runtime_producer,
        config_producer,
        Arc::new((&functions).into()),
        Arc::new(ballista_executor::metrics::LoggingMetricsCollector::default()),
        options.slots,
    ));
    let flight = FlightServiceServer::new(BallistaFlightService::new(work_path))
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let serving = grpc_server(tls)?
        .add_service(flight)
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
    tokio::spawn(async move {
        let _work_dir = work_dir;
        if let Err(e) = serving.await {
            tracing::error!("executor stopped serving: {e}");
        }
    });
    tokio::spawn(ballista_executor::execution_loop::poll_loop(
        client,
        executor,
        codec,
        None,
        None,
        ballista_executor::health::ExecutorHealth::new(),
    ));
    let addr = format!("{}:{port}", options.host);
    tracing::info!("Ballista executor on {addr}");
    Ok(addr)
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
    tls: Option<&Tls>,
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
    // Every setting travels with the job and overrides the executor's own:
    // shuffle reads between executors must know the cluster is on TLS.
    let settings = settings
        .upgrade_for_ballista()
        .with_ballista_use_tls(tls.is_some());
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
    let client = SchedulerGrpcClient::new(channel(scheduler, tls).await?)
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
    let tls = tls.cloned();
    let fetches = locations.into_iter().map(move |location| {
        futures::stream::once(fetch(location, max_message, tls.clone())).try_flatten()
    });
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
    tls: Option<Tls>,
) -> Result<SendableRecordBatchStream> {
    let missing =
        |what: &str| DataFusionError::Internal(format!("partition location without {what}"));
    let layout = location.layout();
    let executor = location.executor_meta.ok_or_else(|| missing("executor"))?;
    let partition = location
        .partition_id
        .ok_or_else(|| missing("partition id"))?;
    let port = executor.port as u16;
    let customize = tls.as_ref().map(|tls| {
        Arc::new(ballista_core::extension::BallistaConfigGrpcEndpoint::new(
            tls.endpoint_override(),
        ))
    });
    let mut client = ballista_core::client::BallistaClient::try_new(
        &executor.host,
        port,
        max_message,
        tls.is_some(),
        customize,
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
