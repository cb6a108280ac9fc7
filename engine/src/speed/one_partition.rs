//! A statement that reads one row group of one file runs in one partition.
//!
//! DataFusion plans every statement for all cores: a scan is split into a
//! byte range per partition, partial aggregates are hashed across the
//! partitions to their final ones, sorted partitions are merged. A row
//! group is read by one stream, so where a fence or a filter keeps a single
//! row group of a file (a town's, a village's or a grid's people; the
//! city's enterprises, one row group in all), one partition reads every row
//! and the others read nothing, and the exchanges between them cost their
//! tasks, channels and wake-ups for nothing: a tenth of the server's time
//! for a grid user's short aggregate.
//!
//! [`OnePartition`] rewrites such a plan to one partition: each scan reads
//! its files whole in one stream, and every repartition then left with one
//! input partition goes. What each node computes is unchanged: one
//! partition holds all of a node's rows, which meets any distribution it
//! requires (all rows of a key in one partition), and orderings are kept.
//! It applies only to a plan with one such scan, of one file (a folder's
//! files are opened side by side by two partitions, most of them only to be
//! skipped) and at most [`ROWS`] rows (a row group may be written large),
//! whose result has one partition at every node: otherwise the plan is left
//! as it is. A join of two small
//! scans is left too: in two partitions, one scan is read while the other
//! is (5–8% faster than one after the other, for a town's deceased still
//! paid).

use crate::speed::plan_cache;
use crate::speed::row_group_ranges::{file_scan, whole_files, RowGroupRanges};
use datafusion::common::internal_err;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use std::sync::Arc;

/// The most rows (of the row groups kept, over all scans) a plan may read to
/// run in one partition: what one core decodes in a few milliseconds.
const ROWS: u64 = 1 << 17;

/// Rewrites plans whose scans each read one row group to one partition
/// (see the module doc).
pub(crate) struct OnePartition {
    /// The footers DataFusion has cached, and what each scan's predicate
    /// keeps of its row groups (shared with the rule that cuts scans at
    /// them, which remembers it).
    ranges: Arc<RowGroupRanges>,
}

impl std::fmt::Debug for OnePartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnePartition")
    }
}

impl OnePartition {
    /// The rule over the footers `ranges` reads: a plan reading a file whose
    /// footer no scan has read yet is left as it is.
    pub(crate) fn new(ranges: Arc<RowGroupRanges>) -> Self {
        OnePartition { ranges }
    }

    /// The row groups and rows a Parquet scan of `files` (whole) reads:
    /// those its predicate keeps by their statistics, or all of its files'.
    /// `None` when that is not known, or the scan is not one this rule may
    /// rewrite.
    fn reads(&self, config: &FileScanConfig, files: &[PartitionedFile]) -> Option<(usize, u64)> {
        let source = config.file_source().downcast_ref::<ParquetSource>()?;
        if !config.output_ordering.is_empty() {
            // Files read one after another in one stream are not in order.
            return None;
        }
        if let Some(kept) = source
            .filter()
            .and_then(|filter| self.ranges.row_groups_kept(config, &filter))
        {
            return Some(kept);
        }
        // No predicate, or one statistics cannot prune by.
        let mut groups = 0;
        let mut rows = 0;
        for file in files {
            let footer = self.ranges.footer(file)?;
            groups += footer.num_row_groups();
            rows += footer.file_metadata().num_rows().max(0) as u64;
        }
        Some((groups, rows))
    }

    /// Whether `plan` reads one scan, of at most one row group of one file
    /// and few rows, and otherwise only rows of constants.
    fn small(&self, plan: &Arc<dyn ExecutionPlan>) -> bool {
        let mut small = true;
        let mut scans = 0;
        let mut rows = 0u64;
        let _ = plan.apply(|node| {
            if !node.children().is_empty()
                || node.downcast_ref::<PlaceholderRowExec>().is_some()
                || node.downcast_ref::<EmptyExec>().is_some()
            {
                return Ok(TreeNodeRecursion::Continue);
            }
            let read = file_scan(node).and_then(|config| {
                let files = whole_files(config)?;
                let (groups, read) = self.reads(config, &files)?;
                (files.len() == 1 && groups <= 1).then_some(read)
            });
            match read {
                Some(read) => {
                    scans += 1;
                    rows += read;
                    small = scans == 1 && rows <= ROWS;
                }
                None => small = false,
            }
            Ok(if small {
                TreeNodeRecursion::Continue
            } else {
                TreeNodeRecursion::Stop
            })
        });
        small
    }

    /// `plan` in one partition, or `None` where it does not come out so.
    fn one_partition(&self, plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
        let rewritten = plan
            .clone()
            .transform_up(|node| {
                if let Some(config) = file_scan(&node) {
                    if config.file_groups.len() > 1 {
                        // Never fewer files: a scan not read whole leaves
                        // the plan as it is.
                        let Some(files) = whole_files(config) else {
                            return internal_err!("a scan reads part of a file");
                        };
                        let config = FileScanConfigBuilder::from(config.clone())
                            .with_file_groups(vec![FileGroup::new(files)])
                            .build();
                        return Ok(Transformed::yes(
                            DataSourceExec::from_data_source(config) as Arc<dyn ExecutionPlan>
                        ));
                    }
                }
                if let Some(repartition) = node.downcast_ref::<RepartitionExec>() {
                    let input = repartition.input();
                    if input.output_partitioning().partition_count() == 1 {
                        return Ok(Transformed::yes(input.clone()));
                    }
                }
                Ok(Transformed::no(node))
            })
            .ok()?
            .data;
        let mut one = true;
        let _ = rewritten.apply(|node| {
            one &= node.output_partitioning().partition_count() == 1;
            Ok(if one {
                TreeNodeRecursion::Continue
            } else {
                TreeNodeRecursion::Stop
            })
        });
        one.then_some(rewritten)
    }
}

impl PhysicalOptimizerRule for OnePartition {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A governed scan's nested plan is rewritten with the query's.
        if config.execution.target_partitions < 2
            || plan_cache::planning_nested()
            || !self.small(&plan)
        {
            return Ok(plan);
        }
        Ok(self.one_partition(&plan).unwrap_or(plan))
    }

    fn name(&self) -> &str {
        "one_partition"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

    /// Area codes sorted in row groups of 1,000 rows; `groups` of them.
    fn write(path: &std::path::Path, groups: i64) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("code", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        for group in 0..groups {
            let codes: StringArray = (0..1000)
                .map(|i| Some(format!("3706{group:02}{i:05}")))
                .collect();
            let kinds: StringArray = (0..1000).map(|i| Some(format!("k{}", i % 7))).collect();
            let n = Int64Array::from_iter_values((0..1000).map(|i| group * 1000 + i));
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(codes), Arc::new(kinds), Arc::new(n)],
            )
            .unwrap();
            writer.write(&batch).unwrap();
            writer.flush().unwrap();
        }
        writer.close().unwrap();
    }

    fn partitions(plan: &Arc<dyn ExecutionPlan>) -> Vec<usize> {
        let mut counts = Vec::new();
        plan.apply(|node| {
            counts.push(node.output_partitioning().partition_count());
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        counts
    }

    fn shown(plan: &Arc<dyn ExecutionPlan>) -> String {
        displayable(plan.as_ref()).indent(false).to_string()
    }

    /// Statements reading one row group run in one partition, with the
    /// rows they had: a GROUP BY with ORDER BY over a range of area codes,
    /// and one with no predicate over a file of one row group. One keeping
    /// two row groups, a join, a UNION (its inputs in two partitions), one
    /// over a folder of two files, and one over a file whose footer no scan
    /// has read are left as they were.
    #[tokio::test]
    async fn plans_reading_one_row_group_run_in_one_partition() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("big.parquet"), 8);
        write(&dir.path().join("one.parquet"), 1);
        let mut config = SessionConfig::new().with_target_partitions(2);
        config.options_mut().optimizer.repartition_file_min_size = 0;
        let ctx = SessionContext::new_with_config(config);
        for name in ["big", "one"] {
            let path = dir.path().join(format!("{name}.parquet"));
            ctx.register_parquet(name, path.to_str().unwrap(), ParquetReadOptions::default())
                .await
                .unwrap();
        }
        let folder = dir.path().join("two");
        std::fs::create_dir(&folder).unwrap();
        write(&folder.join("a.parquet"), 1);
        write(&folder.join("b.parquet"), 1);
        ctx.register_parquet(
            "two",
            &format!("{}/", folder.to_str().unwrap()),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
        let footers = ctx.runtime_env().cache_manager.get_file_metadata_cache();
        let rule = OnePartition::new(Arc::new(RowGroupRanges::new(footers.clone())));
        let plan = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let df = ctx.sql(sql).await.unwrap();
                // A first run reads (and caches) the footers; a plan runs once.
                df.clone().collect().await.unwrap();
                df.create_physical_plan().await.unwrap()
            }
        };
        let pretty = |b: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        let one_group = [
            "SELECT kind, count(*), sum(n) FROM big WHERE code >= '370603' AND code < '370604' \
             GROUP BY kind ORDER BY kind",
            "SELECT kind, max(code) FROM one GROUP BY kind ORDER BY kind",
        ];
        for sql in one_group {
            let before = plan(sql).await;
            assert!(partitions(&before).iter().any(|&p| p > 1), "{sql}");
            let after = rule.optimize(before.clone(), &Default::default()).unwrap();
            assert!(
                partitions(&after).iter().all(|&p| p == 1),
                "{}",
                shown(&after)
            );
            assert!(
                !shown(&after).contains("RepartitionExec"),
                "{}",
                shown(&after)
            );
            let got = collect(after, ctx.task_ctx()).await.unwrap();
            let want = collect(plan(sql).await, ctx.task_ctx()).await.unwrap();
            assert_eq!(pretty(&got), pretty(&want), "{sql}");
            assert!(got.iter().map(|b| b.num_rows()).sum::<usize>() > 0, "{sql}");
        }
        let left_alone = [
            "SELECT kind, count(*) FROM big WHERE code < '370602' GROUP BY kind",
            "SELECT b.kind, count(*) FROM big b JOIN one o ON o.n + 3000 = b.n \
             WHERE b.code LIKE '370603%' GROUP BY b.kind ORDER BY 1",
            "SELECT kind FROM big WHERE code LIKE '370603%' UNION ALL SELECT 'k9'",
            "SELECT kind, count(*) FROM two WHERE code LIKE '370600%' GROUP BY kind",
        ];
        for sql in left_alone {
            let before = plan(sql).await;
            let after = rule.optimize(before.clone(), &Default::default()).unwrap();
            assert_eq!(shown(&after), shown(&before), "{sql}");
        }
        // A rule over another runtime's (empty) cache knows no footer.
        let elsewhere = OnePartition::new(Arc::new(RowGroupRanges::new(
            SessionContext::new()
                .runtime_env()
                .cache_manager
                .get_file_metadata_cache(),
        )));
        let before = plan(one_group[0]).await;
        let after = elsewhere
            .optimize(before.clone(), &Default::default())
            .unwrap();
        assert_eq!(shown(&after), shown(&before));
    }
}
