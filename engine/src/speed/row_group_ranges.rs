//! A scan's partitions share the row groups its predicate keeps.
//!
//! DataFusion splits a Parquet file into one byte range per partition before
//! anything is pruned, and a range is read by one stream: the row groups
//! that start in it (streams take unopened ranges from each other, never
//! part of one). Area codes are stored sorted, so the row groups a fence or
//! an area filter keeps lie side by side: a county's three row groups of
//! payments all start in the file's first half, and one core decodes them
//! while the other waits (`EXPLAIN ANALYZE`: `output_rows_skew=100%`).
//! [`RowGroupRanges`] cuts such a scan's ranges again at row group
//! boundaries, so that each partition starts with about as many of the rows
//! the predicate's statistics keep. It reads the footers DataFusion has
//! already cached (a file not in the cache, or changed since, is left as
//! it is), and every row group still starts in exactly one range: the
//! scan reads the same rows, in other partitions.

use crate::speed::plan_cache;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::metadata::CachedParquetMetaData;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// Recuts the byte ranges of Parquet scans whose predicate keeps row
/// groups that one partition would read alone.
pub(crate) struct RowGroupRanges {
    footers: Arc<FileMetadataCache>,
    /// The rows each predicate keeps of each file version's row groups, as
    /// worked out before (`None`: the file is left as it is). Short
    /// statements would otherwise pay for pruning by statistics twice, here
    /// and in the scan: a tenth of a millisecond.
    seen: std::sync::Mutex<std::collections::HashMap<Seen, Option<Arc<RowGroups>>>>,
}

/// A file version and a predicate over it.
#[derive(PartialEq, Eq, Hash)]
struct Seen {
    location: String,
    size: u64,
    modified: i64,
    predicate: String,
}

/// Where each row group of a file starts, and the rows a predicate keeps
/// of it, in file order.
struct RowGroups {
    starts: Vec<i64>,
    rows: Vec<u64>,
}

/// How many file versions and predicates [`RowGroupRanges`] remembers
/// before it starts again.
const SEEN: usize = 1024;

impl std::fmt::Debug for RowGroupRanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowGroupRanges")
    }
}

impl RowGroupRanges {
    /// The rule over the footers a runtime caches.
    pub(crate) fn new(footers: Arc<FileMetadataCache>) -> Self {
        RowGroupRanges {
            footers,
            seen: Default::default(),
        }
    }
}

impl PhysicalOptimizerRule for RowGroupRanges {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        rewrite_file_scans(plan, |config| {
            let groups = self.recut(config)?;
            Some(
                FileScanConfigBuilder::from(config.clone())
                    .with_file_groups(groups)
                    .build(),
            )
        })
    }

    fn name(&self) -> &str {
        "row_group_ranges"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` with each file scan that `rewrite` returns a new configuration
/// for rebuilt over it; the query's plan only (a governed scan's nested
/// plan reaches the query's pass below its barrier, see `nested_plan`).
pub(crate) fn rewrite_file_scans(
    plan: Arc<dyn ExecutionPlan>,
    rewrite: impl Fn(&FileScanConfig) -> Option<FileScanConfig>,
) -> Result<Arc<dyn ExecutionPlan>> {
    if plan_cache::planning_nested() {
        return Ok(plan);
    }
    plan.transform_up(|node| {
        let config = file_scan(&node).and_then(&rewrite);
        Ok(match config {
            Some(config) => {
                Transformed::yes(DataSourceExec::from_data_source(config) as Arc<dyn ExecutionPlan>)
            }
            None => Transformed::no(node),
        })
    })
    .data()
}

/// The file scan `node` is, if it is one.
pub(crate) fn file_scan(node: &Arc<dyn ExecutionPlan>) -> Option<&FileScanConfig> {
    node.downcast_ref::<DataSourceExec>()
        .and_then(|scan| scan.data_source().downcast_ref::<FileScanConfig>())
}

/// The conjuncts of `filter` whose values are known while the plan is
/// made: a scalar subquery's value is not (it runs with the plan), and
/// pruning by a conjunction that holds it keeps every row group, the
/// fence's others too. The scan prunes by the value when it runs.
fn known_at_planning(filter: &Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
    use crate::speed::lookup_scans::SubqueryValue;
    use datafusion::physical_expr::scalar_subquery::ScalarSubqueryExpr;
    use datafusion::physical_expr::split_conjunction;
    use datafusion::physical_expr::utils::conjunction;
    // Also once lookup scans have wrapped the value (`SubqueryValue`).
    let has_subquery = |e: &Arc<dyn PhysicalExpr>| {
        e.exists(|e| {
            Ok(e.downcast_ref::<ScalarSubqueryExpr>().is_some()
                || e.downcast_ref::<SubqueryValue>().is_some())
        })
        .unwrap_or(true)
    };
    if !has_subquery(filter) {
        return filter.clone();
    }
    conjunction(
        split_conjunction(filter)
            .into_iter()
            .filter(|c| !has_subquery(c))
            .cloned(),
    )
}

/// One file of a scan, whole, and its row groups.
struct Kept {
    file: PartitionedFile,
    groups: Arc<RowGroups>,
}

impl RowGroupRanges {
    /// The scan's partitions cut again, or `None` to leave it as it is.
    fn recut(&self, config: &FileScanConfig) -> Option<Vec<FileGroup>> {
        let partitions = config.file_groups.len();
        if partitions < 2 || !config.output_ordering.is_empty() || config.limit.is_some() {
            return None;
        }
        let source = config.file_source().downcast_ref::<ParquetSource>()?;
        let kept = self.kept(config, &source.filter()?)?;
        let total: u64 = kept.iter().flat_map(|k| k.groups.rows.iter()).sum();
        let groups_kept = kept
            .iter()
            .flat_map(|k| k.groups.rows.iter())
            .filter(|&&r| r > 0)
            .count();
        if groups_kept < 2 {
            return None;
        }
        Some(cut(&kept, partitions, total))
    }

    /// How many row groups of a Parquet scan's files `filter` keeps by
    /// their statistics, and how many rows they hold; `None` when that is
    /// not known (files read in part, a footer no scan has read yet).
    pub(crate) fn row_groups_kept(
        &self,
        config: &FileScanConfig,
        filter: &Arc<dyn PhysicalExpr>,
    ) -> Option<(usize, u64)> {
        let kept = self.kept(config, filter)?;
        let rows = kept.iter().flat_map(|k| k.groups.rows.iter());
        Some((rows.clone().filter(|&&r| r > 0).count(), rows.sum()))
    }

    /// The scan's files, whole, with the rows `filter` keeps of each row
    /// group, or `None` when that is not known.
    fn kept(&self, config: &FileScanConfig, filter: &Arc<dyn PhysicalExpr>) -> Option<Vec<Kept>> {
        let filter = &known_at_planning(filter);
        let text = filter.to_string();
        let mut predicate = None;
        let files = whole_files(config)?;
        let mut kept = Vec::with_capacity(files.len());
        for file in files {
            let meta = &file.object_meta;
            let key = Seen {
                location: meta.location.to_string(),
                size: meta.size,
                modified: meta.last_modified.timestamp_nanos_opt().unwrap_or_default(),
                predicate: text.clone(),
            };
            let known = self
                .seen
                .lock()
                .expect("row groups lock")
                .get(&key)
                .cloned();
            let groups = match known {
                Some(groups) => groups?,
                None => {
                    // Until a scan has read the footer, nothing is remembered.
                    let footer = self.footer(&file)?;
                    let pruning = predicate.get_or_insert_with(|| {
                        PruningPredicateBuilder::new()
                            .with_file_schema(config.file_schema().clone())
                            .build(filter.clone())
                    });
                    let groups = pruning
                        .as_ref()
                        .and_then(|p| keep(&file, &footer, p, config))
                        .map(Arc::new);
                    let mut seen = self.seen.lock().expect("row groups lock");
                    if seen.len() >= SEEN {
                        seen.clear();
                    }
                    seen.insert(key, groups.clone());
                    groups?
                }
            };
            kept.push(Kept { file, groups });
        }
        Some(kept)
    }

    /// The file's footer, if DataFusion has cached it for this version.
    pub(crate) fn footer(&self, file: &PartitionedFile) -> Option<Arc<ParquetMetaData>> {
        let entry = self.footers.get(&file.object_meta.location)?;
        if !entry.is_valid_for(&file.object_meta) {
            return None;
        }
        entry
            .file_metadata
            .as_any()
            .downcast_ref::<CachedParquetMetaData>()
            .map(|m| m.parquet_metadata().clone())
    }
}

/// The files a scan reads, each whole (no range), or `None` unless its
/// pieces cover every file whole: a scan that reads part of a file (a
/// range someone chose) or adds columns to it (partition values, access
/// plans) is not one whose row groups the rules here may redistribute.
pub(crate) fn whole_files(config: &FileScanConfig) -> Option<Vec<PartitionedFile>> {
    let mut files: Vec<(PartitionedFile, u64)> = Vec::new();
    for piece in config.file_groups.iter().flat_map(|g| g.iter()) {
        if !piece.partition_values.is_empty() || !piece.extensions.is_empty() {
            return None;
        }
        let size = piece.object_meta.size;
        let (start, end) = piece
            .range
            .as_ref()
            .map(|r| (r.start as u64, r.end as u64))
            .unwrap_or((0, size));
        match files
            .iter_mut()
            .find(|(f, _)| f.object_meta.location == piece.object_meta.location)
        {
            Some((_, covered)) => *covered += end - start,
            None => {
                let mut whole = piece.clone();
                whole.range = None;
                files.push((whole, end - start));
            }
        }
    }
    files
        .into_iter()
        .map(|(file, covered)| (covered == file.object_meta.size).then_some(file))
        .collect()
}

/// The rows `predicate` keeps of each row group of `file`, by their
/// statistics, as DataFusion's scan will prune them.
fn keep(
    file: &PartitionedFile,
    footer: &ParquetMetaData,
    predicate: &PruningPredicate,
    config: &FileScanConfig,
) -> Option<RowGroups> {
    use datafusion::datasource::physical_plan::parquet::{
        ParquetAccessPlan, ParquetFileMetrics, RowGroupAccessPlanFilter,
    };
    let groups = footer.row_groups();
    let mut starts = Vec::with_capacity(groups.len());
    for group in groups {
        let column = group.columns().first()?;
        let start = column
            .dictionary_page_offset()
            .unwrap_or_else(|| column.data_page_offset());
        if starts.last().is_some_and(|&last| start <= last) {
            return None;
        }
        starts.push(start);
    }
    let mut filter = RowGroupAccessPlanFilter::new(ParquetAccessPlan::new_all(groups.len()));
    let metrics = ParquetFileMetrics::new(
        0,
        file.object_meta.location.as_ref(),
        &ExecutionPlanMetricsSet::new(),
    );
    filter.prune_by_statistics(
        config.file_schema(),
        footer.file_metadata().schema_descr(),
        groups,
        predicate,
        &metrics,
    );
    let plan = filter.build();
    let rows = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if plan.should_scan(i) {
                g.num_rows() as u64
            } else {
                0
            }
        })
        .collect();
    Some(RowGroups { starts, rows })
}

/// `partitions` groups of ranges, each starting about as many kept rows:
/// row groups in file order are dealt out in runs, and a range runs from
/// its first row group's start to the next range's (the first from the
/// file's start, the last to its end), so every row group starts in one.
fn cut(kept: &[Kept], partitions: usize, total: u64) -> Vec<FileGroup> {
    let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); partitions];
    let mut seen = 0u64;
    for k in kept {
        let size = k.file.object_meta.size as i64;
        // The partition each row group goes to: by the kept rows before it.
        let owner: Vec<usize> = k
            .groups
            .rows
            .iter()
            .map(|&r| {
                // By the middle of its kept rows: three row groups on two
                // partitions go one and two, whichever way the halves fall.
                let middle = 2 * seen as u128 + r as u128;
                seen += r;
                let p = middle * partitions as u128 / (2 * total.max(1) as u128);
                (p as usize).min(partitions - 1)
            })
            .collect();
        let mut i = 0;
        while i < owner.len() {
            let mut j = i;
            while j + 1 < owner.len() && owner[j + 1] == owner[i] {
                j += 1;
            }
            let start = if i == 0 { 0 } else { k.groups.starts[i] };
            let end = if j + 1 == owner.len() {
                size
            } else {
                k.groups.starts[j + 1]
            };
            let mut piece = k.file.clone();
            piece.range = Some(datafusion::datasource::listing::FileRange { start, end });
            groups[owner[i]].push(piece);
            i = j + 1;
        }
    }
    groups.into_iter().map(FileGroup::new).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

    /// The last data source scan of `plan` (its only one, in these tests).
    pub(crate) fn last_scan(plan: &Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let mut scan = None;
        plan.apply(|node| {
            if node.downcast_ref::<DataSourceExec>().is_some() {
                scan = Some(node.clone());
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })
        .unwrap();
        scan.expect("a scan")
    }

    /// The rows each partition of `plan`'s scan reads.
    async fn rows_per_partition(plan: &Arc<dyn ExecutionPlan>, ctx: &SessionContext) -> Vec<usize> {
        let scan = last_scan(plan);
        let mut rows = Vec::new();
        let partitions = scan.properties().output_partitioning().partition_count();
        for partition in 0..partitions {
            let stream = scan.execute(partition, ctx.task_ctx()).unwrap();
            let batches: Vec<RecordBatch> =
                futures::TryStreamExt::try_collect(stream).await.unwrap();
            rows.push(batches.iter().map(|b| b.num_rows()).sum());
        }
        rows
    }

    /// Sorted area codes in eight row groups; a county's range keeps the
    /// first three, which DataFusion's two byte ranges leave to one
    /// partition. Cut again, both partitions read kept row groups, and the
    /// query's rows are the same.
    #[tokio::test]
    async fn partitions_share_the_kept_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("code", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .build();
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        for group in 0..8i64 {
            let county = if group < 3 { 370602 } else { 370610 + group };
            let codes: StringArray = (0..1000)
                .map(|i| Some(format!("{county}{group}{i:05}")))
                .collect();
            let n = Int64Array::from_iter_values((0..1000).map(|i| group * 1000 + i));
            let batch =
                RecordBatch::try_new(schema.clone(), vec![Arc::new(codes), Arc::new(n)]).unwrap();
            writer.write(&batch).unwrap();
            writer.flush().unwrap();
        }
        writer.close().unwrap();
        let mut config = SessionConfig::new().with_target_partitions(2);
        config.options_mut().optimizer.repartition_file_min_size = 0;
        // Each partition reads its own ranges, so what it reads shows how
        // the ranges were cut (with stealing, the partition run first would
        // take them all).
        config
            .options_mut()
            .execution
            .enable_file_stream_work_stealing = false;
        let ctx = SessionContext::new_with_config(config);
        ctx.register_parquet("t", path.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
        let sql = "SELECT n FROM t WHERE code >= '370602' AND code < '370603' ORDER BY n";
        let rule = RowGroupRanges::new(ctx.runtime_env().cache_manager.get_file_metadata_cache());
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        assert_eq!(rows_per_partition(&plan, &ctx).await, vec![3000, 0]);
        // A rule over another runtime's (empty) cache leaves the plan alone.
        let elsewhere = RowGroupRanges::new(
            SessionContext::new()
                .runtime_env()
                .cache_manager
                .get_file_metadata_cache(),
        );
        let kept = elsewhere
            .optimize(plan.clone(), &Default::default())
            .unwrap();
        assert_eq!(rows_per_partition(&kept, &ctx).await, vec![3000, 0]);
        let recut = rule.optimize(plan.clone(), &Default::default()).unwrap();
        let mut shares = rows_per_partition(&recut, &ctx).await;
        shares.sort();
        assert_eq!(shares, vec![1000, 2000]);
        // Planned again, the same statement is cut the same way from what
        // the rule remembers.
        let again = rule.optimize(plan.clone(), &Default::default()).unwrap();
        let shown = |p: &Arc<dyn ExecutionPlan>| {
            datafusion::physical_plan::displayable(p.as_ref())
                .indent(false)
                .to_string()
        };
        assert_eq!(shown(&again), shown(&recut));
        assert_ne!(shown(&recut), shown(&plan));
        let want = collect(plan, ctx.task_ctx()).await.unwrap();
        let got = collect(recut, ctx.task_ctx()).await.unwrap();
        let pretty = |b: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        assert_eq!(pretty(&got), pretty(&want));
        assert_eq!(got.iter().map(|b| b.num_rows()).sum::<usize>(), 3000);
    }
}
