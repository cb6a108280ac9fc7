//! Governed plans executed on a Ballista cluster.
//!
//! The plan a cluster runs is made and governed here exactly as for a local
//! run; the cluster only executes it. What may travel is decided here and
//! fails closed: [`ZhenjieCodec`] encodes zhenjie's own nodes and refuses
//! (so the statement runs locally) any function an executor would not run as
//! the session planned it, and [`route`] sends only plans that read nothing
//! but catalog files, and enough of them to be worth a cluster.
//!
//! The keyed-hash mask travels by name only: its key never leaves this
//! process. An executor builds the mask from the key in its own copy of the
//! catalog; a scheduler, which never evaluates anything, holds none. A mask
//! a raw-key join switched off (see `raw_key_join`) travels switched on: both
//! sides of such a join are hashed alike, so it compares pseudonyms and finds
//! the same pairs, and raw identity numbers never reach an executor's
//! shuffle files.

use crate::governance::barrier::FenceBarrierExec;
use crate::speed::view_comparisons::{Test, ViewComparison};
use crate::speed::widening_casts::WideningCast;
use crate::speed::yielding_joins::StopCheck;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SessionState, SessionStateBuilder, TaskContext};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;
use datafusion::physical_plan::scalar_subquery::ScalarSubqueryExec;
use datafusion::physical_plan::ExecutionPlan;
use std::collections::HashMap;
use std::sync::Arc;
use zhenjie_cluster::datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalProtoConverterExtension,
};
use zhenjie_udfs::masking::KeyedHashMaskFunc;

/// What marks zhenjie's own encodings among Ballista's (prost messages,
/// which never start with these bytes).
const MAGIC: &[u8] = b"ZJ\x00";
const BARRIER: u8 = 1;
const STOP_CHECK: u8 = 2;
const MASK: u8 = 3;
const WIDENING_CAST: u8 = 4;
const VIEW_COMPARISON: u8 = 5;

/// The codec of a zhenjie cluster: zhenjie's nodes, and the functions every
/// process registers alike; everything else is Ballista's and DataFusion's.
#[derive(Debug)]
pub struct ZhenjieCodec {
    ballista: Arc<dyn PhysicalExtensionCodec>,
    /// The functions every process of the cluster registers ([`functions`]).
    scalars: HashMap<String, Arc<ScalarUDF>>,
    aggregates: HashMap<String, Arc<AggregateUDF>>,
    /// The keyed-hash mask under this process's key; `None` where there is
    /// no key (a scheduler, a front end).
    mask: Option<Arc<ScalarUDF>>,
}

impl ZhenjieCodec {
    /// The codec of a process whose function registry is `functions` (see
    /// [`functions`]), evaluating the keyed-hash mask under `mask_key` if it
    /// is an executor.
    pub fn new(functions: &SessionState, mask_key: Option<Vec<u8>>) -> ZhenjieCodec {
        ZhenjieCodec {
            ballista: zhenjie_cluster::ballista_codec(),
            scalars: functions.scalar_functions().clone(),
            aggregates: functions.aggregate_functions().clone(),
            mask: mask_key
                .map(|key| Arc::new(ScalarUDF::new_from_impl(KeyedHashMaskFunc::new(key)))),
        }
    }

    fn ours(buf: &[u8]) -> Option<(u8, &[u8])> {
        let rest = buf.strip_prefix(MAGIC)?;
        let (&kind, rest) = rest.split_first()?;
        Some((kind, rest))
    }

    fn tagged(kind: u8, buf: &mut Vec<u8>) {
        buf.extend_from_slice(MAGIC);
        buf.push(kind);
    }
}

/// The function registry of every process of a cluster: DataFusion's own
/// functions, zhenjie's domain functions and the PostgreSQL functions no
/// session changes, the same everywhere. A session's own functions (its
/// principal's, its settings') are not in it, so plans calling them run
/// where they were planned.
pub fn functions() -> SessionState {
    let mut builder = SessionStateBuilder::new().with_default_features();
    crate::speed::date_part::install(&mut builder);
    let ctx = datafusion::prelude::SessionContext::new_with_state(builder.build());
    zhenjie_udfs::register_all(&ctx);
    // PostgreSQL's functions that every session registers alike (a session
    // may hold others of the same names, built for it: those do not compare
    // equal, and plans calling them stay where they were planned).
    use crate::postgres as pg;
    let scalars = [
        pg::pg_size_pretty_udf(),
        pg::cbrt_udf(),
        pg::to_char_udf(),
        pg::age_udf(),
        pg::interval_mul_udf(),
        pg::format_udf(),
        pg::quote_ident_udf(),
        pg::at_time_zone_udf(),
        pg::json_build_object_udf(),
    ];
    for udf in scalars
        .into_iter()
        .chain(pg::scale_udfs())
        .chain(pg::justify_udfs())
        .chain(pg::quote_literal_udfs())
        .chain(pg::make_udfs())
        .chain(
            pg::json::json_udfs()
                .into_iter()
                .map(|u| u.as_ref().clone()),
        )
        .chain(pg::planned_udfs().into_iter().map(|u| u.as_ref().clone()))
    {
        ctx.register_udf(udf);
    }
    for udaf in pg::ordered_set_udafs() {
        ctx.register_udaf(udaf);
    }
    // One function per name: a function replaced above stays reachable
    // under its aliases (DataFusion's `to_char` as `date_format`), and a
    // registry rebuilt from this one (each scheduler job's) registers its
    // functions in no set order, so the replaced one could win its name
    // back. Only the function each name now means is kept.
    let state = ctx.state();
    let scalars = state.scalar_functions();
    let aggregates = state.aggregate_functions();
    SessionStateBuilder::new()
        .with_config(state.config().clone())
        .with_runtime_env(state.runtime_env().clone())
        .with_scalar_functions(
            scalars
                .values()
                .filter(|f| scalars.get(f.name()).is_some_and(|g| Arc::ptr_eq(f, g)))
                .cloned()
                .collect(),
        )
        .with_aggregate_functions(
            aggregates
                .values()
                .filter(|f| aggregates.get(f.name()).is_some_and(|g| Arc::ptr_eq(f, g)))
                .cloned()
                .collect(),
        )
        .with_window_functions(state.window_functions().values().cloned().collect())
        .build()
}

/// What a scheduler decodes and re-encodes plans with: it evaluates
/// nothing, so it holds no key; it does open the files plans name, so it
/// needs `catalog`'s object stores for `s3://` datasets.
pub fn scheduler_codec(
    catalog: Option<&zhenjie_catalog::Catalog>,
) -> crate::Result<(SessionState, Arc<ZhenjieCodec>)> {
    let functions = functions();
    if let Some(catalog) = catalog {
        crate::tables::register_object_stores(catalog, functions.runtime_env())?;
    }
    let codec = Arc::new(ZhenjieCodec::new(&functions, None));
    Ok((functions, codec))
}

/// What an executor runs plans with: the keyed-hash mask under the key of
/// its own copy of the catalog (which it reads from its own disk), and the
/// catalog's object stores to read `s3://` datasets from.
pub fn executor_codec(
    catalog: &zhenjie_catalog::Catalog,
) -> crate::Result<(SessionState, Arc<ZhenjieCodec>)> {
    let key = match catalog.file.mask_secret_file {
        Some(_) => Some(crate::governance::hash_mask_key_of(catalog).map_err(|e| {
            crate::EngineError::new(
                crate::error::sqlstate::INVALID_PARAMETER_VALUE,
                e.to_string(),
            )
        })?),
        None => None,
    };
    let functions = functions();
    crate::tables::register_object_stores(catalog, functions.runtime_env())?;
    let codec = Arc::new(ZhenjieCodec::new(&functions, key));
    Ok((functions, codec))
}

impl PhysicalExtensionCodec for ZhenjieCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some((kind, rest)) = Self::ours(buf) else {
            return self.ballista.try_decode(buf, inputs, ctx, proto);
        };
        match (kind, inputs) {
            (BARRIER, [input]) => {
                let (dataset, raw) = decode_barrier(rest)?;
                Ok(Arc::new(
                    FenceBarrierExec::new(&dataset, input.clone()).with_raw_columns(raw),
                ))
            }
            _ => Err(DataFusionError::Internal(format!(
                "zhenjie plan node {kind} with {} inputs",
                inputs.len()
            ))),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(barrier) = node.downcast_ref::<FenceBarrierExec>() {
            Self::tagged(BARRIER, buf);
            encode_barrier(barrier.dataset(), barrier.raw_columns(), buf);
            return Ok(());
        }
        self.ballista.try_encode(node, buf, proto)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        match Self::ours(buf) {
            Some((MASK, _)) => Ok(self
                .mask
                .clone()
                .unwrap_or_else(|| Arc::new(ScalarUDF::new_from_impl(KeylessMask::new())))),
            _ => self.ballista.try_decode_udf(name, buf),
        }
    }

    /// The keyed-hash mask by name only; any other function only if every
    /// process registers the very same one, else the plan stays here.
    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if node.name() == KeyedHashMaskFunc::NAME {
            Self::tagged(MASK, buf);
            return Ok(());
        }
        match self.scalars.get(node.name()) {
            Some(shared) if shared.as_ref() == node => self.ballista.try_encode_udf(node, buf),
            _ => Err(not_shippable("function", node.name())),
        }
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        match self.aggregates.get(node.name()) {
            Some(shared) if shared.as_ref() == node => self.ballista.try_encode_udaf(node, buf),
            _ => Err(not_shippable("aggregate", node.name())),
        }
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    /// A join's stop check travels as the filter it checks: a cluster job is
    /// stopped through its scheduler, not a switch in this process. A
    /// widening cast travels as its operand and target type.
    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        if node.downcast_ref::<StopCheck>().is_some() {
            Self::tagged(STOP_CHECK, buf);
            return Ok(());
        }
        if let Some(cast) = node.downcast_ref::<WideningCast>() {
            Self::tagged(WIDENING_CAST, buf);
            buf.extend_from_slice(&cast.target());
            return Ok(());
        }
        if let Some(comparison) = node.downcast_ref::<ViewComparison>() {
            let (test, constant) = comparison.parts();
            Self::tagged(VIEW_COMPARISON, buf);
            buf.push(test.code());
            buf.extend_from_slice(constant);
            return Ok(());
        }
        self.ballista.try_encode_expr(node, buf, ctx)
    }

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        match (Self::ours(buf), inputs) {
            (Some((STOP_CHECK, _)), [inner]) => Ok(inner.clone()),
            (Some((WIDENING_CAST, &[precision, scale])), [input]) => {
                WideningCast::over(input.clone(), precision, scale)
            }
            (Some((VIEW_COMPARISON, [code, constant @ ..])), [text]) => {
                let test = Test::from_code(*code).ok_or_else(|| {
                    DataFusionError::Internal(format!("view comparison test {code}"))
                })?;
                ViewComparison::over(text.clone(), test, constant.to_vec())
            }
            (Some((kind, _)), _) => Err(DataFusionError::Internal(format!(
                "zhenjie expression {kind} with {} inputs",
                inputs.len()
            ))),
            (None, _) => self.ballista.try_decode_expr(buf, inputs, ctx),
        }
    }
}

/// The keyed-hash mask in a process without the key (a scheduler, which
/// decodes plans to split them and encodes their stages again, but
/// evaluates nothing): the same function to the planner, an error if run.
#[derive(Debug, PartialEq, Eq, Hash)]
struct KeylessMask {
    /// The real mask, for its signature and return type only.
    shape: ScalarUDF,
}

impl KeylessMask {
    fn new() -> Self {
        KeylessMask {
            shape: ScalarUDF::new_from_impl(KeyedHashMaskFunc::new(Vec::new())),
        }
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for KeylessMask {
    fn name(&self) -> &str {
        KeyedHashMaskFunc::NAME
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        self.shape.signature()
    }

    fn return_type(
        &self,
        arg_types: &[datafusion::arrow::datatypes::DataType],
    ) -> Result<datafusion::arrow::datatypes::DataType> {
        self.shape.return_type(arg_types)
    }

    fn invoke_with_args(
        &self,
        _args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        Err(DataFusionError::Execution(
            "the keyed-hash mask needs the catalog's mask secret, which this process does not hold"
                .into(),
        ))
    }
}

fn not_shippable(what: &str, name: &str) -> DataFusionError {
    DataFusionError::NotImplemented(format!(
        "{what} {name} is not one every cluster process registers alike"
    ))
}

fn encode_barrier(dataset: &str, raw: &[usize], buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(dataset.len() as u32).to_le_bytes());
    buf.extend_from_slice(dataset.as_bytes());
    for &i in raw {
        buf.extend_from_slice(&(i as u32).to_le_bytes());
    }
}

fn decode_barrier(buf: &[u8]) -> Result<(String, Vec<usize>)> {
    let bad = || DataFusionError::Internal("malformed fence barrier".into());
    let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(bad)?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len || !(rest.len() - len).is_multiple_of(4) {
        return Err(bad());
    }
    let dataset = std::str::from_utf8(&rest[..len])
        .map_err(|_| bad())?
        .to_string();
    let raw = rest[len..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    Ok((dataset, raw))
}

/// Where a plan runs, and why (what `EXPLAIN` says).
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// On this node.
    Local(String),
    /// On the cluster.
    Cluster(String),
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Route::Local(why) => write!(f, "runs on this node: {why}"),
            Route::Cluster(why) => write!(f, "runs on the cluster: {why}"),
        }
    }
}

/// Where `plan` runs on an engine with a cluster: [`route`], and then only if
/// it can be encoded for the cluster (a function executors do not have, or
/// a node no codec knows, keeps it here). A plan for the cluster comes with
/// its bytes, encoded once. `sizes`: whether the reason may say how many
/// bytes the plan reads (only to the city level: below it, the size of
/// whole-city files would tell about rows outside the fence).
pub fn decide(
    plan: &Arc<dyn ExecutionPlan>,
    min_bytes: u64,
    codec: &ZhenjieCodec,
    sizes: bool,
) -> (Route, Option<Vec<u8>>) {
    match route(plan, min_bytes, sizes) {
        Route::Cluster(why) => match zhenjie_cluster::encode(plan.clone(), codec) {
            Ok(bytes) => (Route::Cluster(why), Some(bytes)),
            Err(e) => (
                Route::Local(format!("it cannot travel: {}", e.strip_backtrace())),
                None,
            ),
        },
        local => (local, None),
    }
}

/// Whether `plan` goes to the cluster: only if every leaf reads catalog
/// files (not `pg_catalog`, the audit log or a table function's rows), it
/// has no scalar subquery (whose value Ballista's stages would cut off from
/// where it is used), and it reads at least `min_bytes` of files. Whether
/// it can be encoded is [`decide`]'s question.
pub fn route(plan: &Arc<dyn ExecutionPlan>, min_bytes: u64, sizes: bool) -> Route {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut bytes = 0u64;
    let mut scans = 0usize;
    let mut other = None;
    let _ = plan.apply(|node| {
        // Its subqueries' values reach the expressions above through the
        // node itself, which Ballista's stages would separate.
        if node.downcast_ref::<ScalarSubqueryExec>().is_some() {
            other = Some(node.name().to_string());
            return Ok(TreeNodeRecursion::Stop);
        }
        if !node.children().is_empty() {
            return Ok(TreeNodeRecursion::Continue);
        }
        let files = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|d| d.data_source().downcast_ref::<FileScanConfig>());
        match files {
            Some(config) => {
                scans += 1;
                bytes += config
                    .file_groups
                    .iter()
                    .flat_map(|g| g.files())
                    .map(|f| f.object_meta.size)
                    .sum::<u64>();
            }
            None if node.downcast_ref::<EmptyExec>().is_some()
                || node.downcast_ref::<PlaceholderRowExec>().is_some() => {}
            None => {
                other = Some(node.name().to_string());
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if let Some(name) = other {
        return Route::Local(format!("it holds {name}, which runs here"));
    }
    if scans == 0 {
        return Route::Local("it reads no files".into());
    }
    let size = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
    match (bytes < min_bytes, sizes) {
        (true, true) => Route::Local(format!(
            "it reads {} of files, under the cluster's {}",
            size(bytes),
            size(min_bytes)
        )),
        (true, false) => Route::Local("it reads too little to be worth a cluster".into()),
        (false, true) => Route::Cluster(format!("it reads {} of files", size(bytes))),
        (false, false) => Route::Cluster("it reads enough to be worth a cluster".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_expr::expressions::col;
    use datafusion::physical_expr::ScalarFunctionExpr;
    use datafusion::physical_plan::projection::ProjectionExec;

    /// A governed scan of identity numbers under the keyed-hash mask.
    fn masked_scan(key: &[u8]) -> Arc<dyn ExecutionPlan> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "id_number",
            DataType::Utf8,
            true,
        )]));
        let ids = StringArray::from(vec![
            Some("370602199001011234"),
            None,
            Some("37060219800101123X"),
        ]);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)]).unwrap();
        let scan = MemorySourceConfig::try_new_exec(&[vec![batch]], schema.clone(), None).unwrap();
        let mask = Arc::new(ScalarUDF::new_from_impl(KeyedHashMaskFunc::new(
            key.to_vec(),
        )));
        let masked = ScalarFunctionExpr::try_new(
            mask,
            vec![col("id_number", &schema).unwrap()],
            &schema,
            Arc::new(datafusion::common::config::ConfigOptions::default()),
        )
        .unwrap();
        let projection =
            ProjectionExec::try_new(vec![(Arc::new(masked) as _, "id_number".to_string())], scan)
                .unwrap();
        Arc::new(FenceBarrierExec::new("persons", Arc::new(projection)).with_raw_columns(vec![]))
    }

    async fn rows(plan: Arc<dyn ExecutionPlan>) -> Vec<RecordBatch> {
        let ctx = Arc::new(TaskContext::from(&functions()));
        datafusion::physical_plan::collect(plan, ctx).await.unwrap()
    }

    /// The plan's bytes hold neither the key nor its hex; an executor with
    /// the key computes the same pseudonyms, a process without one refuses.
    #[tokio::test]
    async fn the_mask_key_never_travels() {
        let key = b"0123456789abcdef-the-mask-secret".to_vec();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let plan = masked_scan(&key);
        let front = ZhenjieCodec::new(&functions(), None);
        let bytes = zhenjie_cluster::encode(plan.clone(), &front).unwrap();
        let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(&key), "the key is in the plan's bytes");
        assert!(
            !contains(hex.as_bytes()),
            "the key's hex is in the plan's bytes"
        );
        assert!(
            !contains(&key[..8]),
            "part of the key is in the plan's bytes"
        );
        let ctx = TaskContext::from(&functions());
        let executor = ZhenjieCodec::new(&functions(), Some(key.clone()));
        let decoded = zhenjie_cluster::decode(&bytes, &ctx, &executor).unwrap();
        assert!(decoded.downcast_ref::<FenceBarrierExec>().is_some());
        assert_eq!(rows(decoded).await, rows(plan).await);
        // A process without the key decodes the plan (a scheduler splits
        // it) and passes the mask on by name, but cannot run it.
        let keyless = zhenjie_cluster::decode(&bytes, &ctx, &front).unwrap();
        assert_eq!(
            zhenjie_cluster::encode(keyless.clone(), &front).unwrap(),
            bytes
        );
        let ctx = Arc::new(TaskContext::from(&functions()));
        let err = datafusion::physical_plan::collect(keyless, ctx)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("mask secret"), "{err}");
    }

    /// A registry rebuilt from the cluster's (as each scheduler job's is)
    /// means by each name the function the cluster's does, whatever order
    /// it registers them in.
    #[test]
    fn rebuilt_registries_mean_the_same_functions() {
        // Each registry's maps iterate in an order of their own.
        for _ in 0..20 {
            let shared = functions();
            let codec = ZhenjieCodec::new(&shared, None);
            let rebuilt = SessionStateBuilder::new_from_existing(shared.clone()).build();
            for name in ["to_char", "date_part", "upper"] {
                let f = rebuilt.scalar_functions()[name].clone();
                let mut buf = Vec::new();
                assert!(codec.try_encode_udf(&f, &mut buf).is_ok(), "{name}");
            }
        }
    }

    /// A function only this session has (a principal's, PostgreSQL's
    /// overrides) cannot be encoded: such plans stay where they were planned.
    #[test]
    fn functions_executors_lack_are_refused() {
        let codec = ZhenjieCodec::new(&functions(), None);
        // A function of the session's catalog support, which executors
        // do not register.
        let own = crate::postgres::encoding_to_char_udf();
        let mut buf = Vec::new();
        assert!(codec.try_encode_udf(&own, &mut buf).is_err());
        let shared = functions().scalar_functions()["upper"].clone();
        assert!(codec.try_encode_udf(&shared, &mut buf).is_ok());
        // PostgreSQL's to_char and EXTRACT's date_part, as sessions have them.
        assert!(codec
            .try_encode_udf(&crate::postgres::to_char_udf(), &mut buf)
            .is_ok());
        let date_part = crate::speed::date_part::DatePart::udf();
        assert!(codec.try_encode_udf(&date_part, &mut buf).is_ok());
    }

    /// A widening cast travels (a plan holding one would otherwise stay
    /// here) and converts on the executor as it does here.
    #[tokio::test]
    async fn widening_casts_travel() {
        use datafusion::arrow::array::Int64Array;
        use datafusion::physical_expr::expressions::CastExpr;
        let schema = Arc::new(Schema::new(vec![Field::new("b", DataType::Int64, true)]));
        let values = Int64Array::from(vec![Some(i64::MIN), None, Some(7)]);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
        let scan = MemorySourceConfig::try_new_exec(&[vec![batch]], schema.clone(), None).unwrap();
        let cast: Arc<dyn PhysicalExpr> = Arc::new(CastExpr::new(
            col("b", &schema).unwrap(),
            DataType::Decimal128(21, 2),
            None,
        ));
        let projection: Arc<dyn ExecutionPlan> =
            Arc::new(ProjectionExec::try_new(vec![(cast, "n".to_string())], scan).unwrap());
        let plan = datafusion::physical_optimizer::PhysicalOptimizerRule::optimize(
            &crate::speed::widening_casts::WideningCasts,
            projection,
            &Default::default(),
        )
        .unwrap();
        let widened = |p: &Arc<dyn ExecutionPlan>| {
            p.downcast_ref::<ProjectionExec>().unwrap().expr()[0]
                .expr
                .downcast_ref::<WideningCast>()
                .is_some()
        };
        assert!(widened(&plan));
        let codec = ZhenjieCodec::new(&functions(), None);
        let bytes = zhenjie_cluster::encode(plan.clone(), &codec).unwrap();
        let ctx = TaskContext::from(&functions());
        let decoded = zhenjie_cluster::decode(&bytes, &ctx, &codec).unwrap();
        assert!(widened(&decoded));
        assert_eq!(decoded.schema(), plan.schema());
        assert_eq!(rows(decoded).await, rows(plan).await);
    }

    /// View comparisons travel (a filter holding one would otherwise stay
    /// here), each test with its constant, and filter on the executor as
    /// they do here.
    #[tokio::test]
    async fn view_comparisons_travel() {
        use datafusion::arrow::array::StringViewArray;
        use datafusion::common::ScalarValue;
        use datafusion::logical_expr::Operator;
        use datafusion::physical_expr::expressions::{lit, BinaryExpr, LikeExpr};
        use datafusion::physical_plan::filter::FilterExec;
        let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Utf8View, true)]));
        let codes = StringViewArray::from(vec![
            Some("370602001001001"),
            None,
            Some("370603001"),
            Some("3706"),
        ]);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(codes)]).unwrap();
        let t = col("t", &schema).unwrap();
        let text = |s: &str| lit(ScalarValue::Utf8View(Some(s.to_string())));
        let compare = |op| -> Arc<dyn PhysicalExpr> {
            Arc::new(BinaryExpr::new(t.clone(), op, text("370602")))
        };
        let like = |negated| -> Arc<dyn PhysicalExpr> {
            Arc::new(LikeExpr::new(negated, false, t.clone(), text("370602%")))
        };
        let predicates = [
            compare(Operator::Lt),
            compare(Operator::LtEq),
            compare(Operator::Gt),
            compare(Operator::GtEq),
            like(false),
            like(true),
        ];
        for predicate in predicates {
            let scan =
                MemorySourceConfig::try_new_exec(&[vec![batch.clone()]], schema.clone(), None)
                    .unwrap();
            let filter: Arc<dyn ExecutionPlan> =
                Arc::new(FilterExec::try_new(predicate.clone(), scan).unwrap());
            let plan = datafusion::physical_optimizer::PhysicalOptimizerRule::optimize(
                &crate::speed::view_comparisons::ViewComparisons,
                filter,
                &Default::default(),
            )
            .unwrap();
            let fast = |p: &Arc<dyn ExecutionPlan>| {
                p.downcast_ref::<FilterExec>()
                    .unwrap()
                    .predicate()
                    .downcast_ref::<ViewComparison>()
                    .map(|c| (c.parts().0, c.parts().1.to_vec()))
            };
            assert!(fast(&plan).is_some(), "{predicate}");
            let codec = ZhenjieCodec::new(&functions(), None);
            let bytes = zhenjie_cluster::encode(plan.clone(), &codec).unwrap();
            let ctx = TaskContext::from(&functions());
            let decoded = zhenjie_cluster::decode(&bytes, &ctx, &codec).unwrap();
            assert_eq!(fast(&decoded), fast(&plan), "{predicate}");
            assert_eq!(rows(decoded).await, rows(plan).await, "{predicate}");
        }
    }

    #[test]
    fn barriers_round_trip_and_malformed_ones_are_errors() {
        let mut buf = Vec::new();
        encode_barrier("persons", &[0, 3, 7], &mut buf);
        assert_eq!(
            decode_barrier(&buf).unwrap(),
            ("persons".to_string(), vec![0, 3, 7])
        );
        assert!(decode_barrier(&buf[..buf.len() - 1]).is_err());
        assert!(decode_barrier(&[9, 0, 0, 0, b'x']).is_err());
    }
}
