//! A lookup reads the rest of a row only where its key matched.
//!
//! Looking a person up by identity number or phone, or an enterprise by its
//! credit code, keeps one row of a row group, yet DataFusion's Parquet scan
//! decodes every column it returns for the whole row group and leaves the
//! choosing to the filter above it: for a lookup over the city, the names,
//! addresses and area codes of 150,000 people, to return one. The scan can
//! instead evaluate its predicate as it reads (Parquet's row filter) and
//! decode the other columns only for the rows that pass; but where a
//! predicate keeps many rows (a sex, a status, a month) reading that way
//! costs more than it saves, which is why DataFusion leaves it off.
//!
//! [`LookupScans`] turns it on for the scans that look a value up: those
//! whose predicate compares a column with a constant (`=`, or `IN` a list)
//! where the file marks that column as one looked up by value, with a bloom
//! filter in every row group. Bloom filters are written only for columns of
//! many distinct values (they answer "is this value here?", useless for a
//! sex), so the mark is the data's own statement of what is a key. It pays
//! where the statistics keep one row group too (a fence below county
//! level): the page index narrows the scan to the area's pages, and of
//! those only the key is decoded for every row (a town's lookup by identity
//! number, 4.0 → 3.2 ms with the fence written out as `admin`). The scan
//! keeps its predicate and the filter above it: the same rows come out, and
//! the predicate is the one already allowed below the fence (governance
//! decides what reaches a scan, not this rule).
//!
//! A key looked up by a scalar subquery's value (`id_number = (SELECT
//! min(id_number) …)`) is not known when the plan is made, and DataFusion
//! reads bloom filters only for constants: such a lookup read every row
//! group the statistics kept. The rule puts a [`SubqueryValue`] in the
//! scan's predicate in place of the subquery's value: it evaluates as the
//! value does, and once the subquery has run (before any file is opened) it
//! offers the value as a constant to the scan's pruning, which then asks
//! the bloom filters.

use crate::speed::row_group_ranges::{rewrite_file_scans, RowGroupRanges};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::{
    FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::error::Result;
use datafusion::logical_expr::Operator;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_expr::expressions::{BinaryExpr, Column, InListExpr};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{split_conjunction, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// Turns on reading by row filter for Parquet scans that look a key up
/// (see the module doc).
pub(crate) struct LookupScans {
    /// The footers DataFusion has cached, and what each scan's predicate
    /// keeps of its row groups, as the rule that cuts scans at them works
    /// it out (and remembers it).
    ranges: Arc<RowGroupRanges>,
}

impl std::fmt::Debug for LookupScans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupScans")
    }
}

impl LookupScans {
    /// The rule over the footers `ranges` reads: a file whose footer no
    /// scan has read yet is read as DataFusion reads it.
    pub(crate) fn new(ranges: Arc<RowGroupRanges>) -> Self {
        LookupScans { ranges }
    }

    /// `config` reading by row filter or pruning by its subqueries' values,
    /// or `None` to leave it as it is.
    fn lookup(&self, config: &FileScanConfig) -> Option<FileScanConfig> {
        let source = config.file_source().downcast_ref::<ParquetSource>()?;
        let filter = source.filter()?;
        let valued = with_subquery_values(&filter);
        let by_row_filter = !source.table_parquet_options().global.pushdown_filters
            && self.looks_up(config, &filter).unwrap_or(false);
        if valued.is_none() && !by_row_filter {
            return None;
        }
        let mut source = source.clone();
        if let Some(predicate) = valued {
            source = source.with_predicate(predicate);
        }
        if by_row_filter {
            source = source.with_pushdown_filters(true);
        }
        Some(
            FileScanConfigBuilder::from(config.clone())
                .with_source(Arc::new(source))
                .build(),
        )
    }

    /// Whether `config`, filtered by `filter`, looks a key up in the row
    /// groups its statistics keep; `None` when that is not known (a footer
    /// no scan has read yet).
    fn looks_up(&self, config: &FileScanConfig, filter: &Arc<dyn PhysicalExpr>) -> Option<bool> {
        let keys = looked_up(filter);
        if keys.is_empty() {
            return Some(false);
        }
        for file in config.file_groups.iter().flat_map(|g| g.iter()) {
            let footer = self.ranges.footer(file)?;
            if !keys.iter().any(|key| marked_as_key(&footer, key)) {
                return Some(false);
            }
        }
        Some(self.ranges.row_groups_kept(config, filter)?.0 >= 1)
    }
}

impl PhysicalOptimizerRule for LookupScans {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        rewrite_file_scans(plan, |config| self.lookup(config))
    }

    fn name(&self) -> &str {
        "lookup_scans"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The columns `predicate` compares with a constant, by name: one side of
/// an `=` of its conjunction, or the subject of an `IN` list, where the
/// other side reads no column (a literal, a parameter, a scalar subquery's
/// value).
fn looked_up(predicate: &Arc<dyn PhysicalExpr>) -> Vec<String> {
    split_conjunction(predicate)
        .into_iter()
        .filter_map(key_of)
        .collect()
}

/// The column `e` compares with constants: `column = constant`, `column IN
/// (constants)`, or an `OR` of such over one column (DataFusion writes a
/// short `IN` list so).
fn key_of(e: &Arc<dyn PhysicalExpr>) -> Option<String> {
    let constant = |e: &Arc<dyn PhysicalExpr>| collect_columns(e).is_empty();
    let column =
        |e: &Arc<dyn PhysicalExpr>| e.downcast_ref::<Column>().map(|c| c.name().to_string());
    if let Some(b) = e.downcast_ref::<BinaryExpr>() {
        return match b.op() {
            Operator::Eq => match (column(b.left()), column(b.right())) {
                (Some(c), None) if constant(b.right()) => Some(c),
                (None, Some(c)) if constant(b.left()) => Some(c),
                _ => None,
            },
            Operator::Or => {
                let left = key_of(b.left())?;
                (key_of(b.right())? == left).then_some(left)
            }
            _ => None,
        };
    }
    let list = e.downcast_ref::<InListExpr>()?;
    if list.negated() || !list.list().iter().all(constant) {
        return None;
    }
    column(list.expr())
}

/// `predicate` with each scalar subquery's value in a [`SubqueryValue`],
/// or `None` when it has none.
fn with_subquery_values(predicate: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
    use datafusion::physical_expr::scalar_subquery::ScalarSubqueryExpr;
    let changed = predicate
        .clone()
        .transform_up(|e| {
            if e.downcast_ref::<ScalarSubqueryExpr>().is_some() {
                Ok(Transformed::yes(
                    Arc::new(SubqueryValue { value: e }) as Arc<dyn PhysicalExpr>
                ))
            } else {
                Ok(Transformed::no(e))
            }
        })
        .ok()?;
    changed.transformed.then_some(changed.data)
}

/// A scalar subquery's value in a scan's predicate, offered to the scan's
/// pruning as a constant once the subquery has run (see the module doc).
/// It evaluates, prints and compares as the value it stands for.
#[derive(Debug)]
pub(crate) struct SubqueryValue {
    value: Arc<dyn PhysicalExpr>,
}

impl PartialEq for SubqueryValue {
    fn eq(&self, other: &Self) -> bool {
        self.value.eq(&other.value)
    }
}

impl Eq for SubqueryValue {}

impl std::hash::Hash for SubqueryValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl std::fmt::Display for SubqueryValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl PhysicalExpr for SubqueryValue {
    fn return_field(
        &self,
        input_schema: &datafusion::arrow::datatypes::Schema,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        self.value.return_field(input_schema)
    }

    fn evaluate(
        &self,
        batch: &datafusion::arrow::array::RecordBatch,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        self.value.evaluate(batch)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(self)
    }

    /// The value as a constant, once the subquery has run; before, nothing
    /// (the value is not known, so nothing is pruned by it).
    fn snapshot(&self) -> Result<Option<Arc<dyn PhysicalExpr>>> {
        use datafusion::arrow::array::RecordBatch;
        use datafusion::arrow::datatypes::Schema;
        use datafusion::logical_expr::ColumnarValue;
        use datafusion::physical_expr::expressions::Literal;
        let no_rows = RecordBatch::new_empty(Arc::new(Schema::empty()));
        Ok(match self.value.evaluate(&no_rows) {
            Ok(ColumnarValue::Scalar(v)) => Some(Arc::new(Literal::new(v))),
            _ => None,
        })
    }

    fn fmt_sql(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt_sql(f)
    }
}

/// Whether every row group of `footer` has a bloom filter on the top-level
/// column `name`.
fn marked_as_key(footer: &ParquetMetaData, name: &str) -> bool {
    let schema = footer.file_metadata().schema_descr();
    let Some(index) = schema
        .columns()
        .iter()
        .position(|c| c.path().parts() == [name.to_string()])
    else {
        return false;
    };
    !footer.row_groups().is_empty()
        && footer
            .row_groups()
            .iter()
            .all(|g| g.column(index).bloom_filter_offset().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speed::row_group_ranges::tests::last_scan;
    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::source::DataSourceExec;
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use datafusion::parquet::schema::types::ColumnPath;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::{ParquetReadOptions, SessionContext};

    /// The rows the plan's scan hands up, and whether it reads by row filter.
    async fn scanned(plan: &Arc<dyn ExecutionPlan>, ctx: &SessionContext) -> (usize, bool) {
        let scan = last_scan(plan);
        let by_row_filter = scan
            .downcast_ref::<DataSourceExec>()
            .and_then(|s| s.data_source().downcast_ref::<FileScanConfig>())
            .and_then(|c| c.file_source().downcast_ref::<ParquetSource>())
            .map(|s| s.table_parquet_options().global.pushdown_filters)
            .unwrap();
        let rows = collect(scan, ctx.task_ctx())
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        (rows, by_row_filter)
    }

    /// Four row groups of 1,000 people: `key` has a bloom filter (a lookup
    /// column), `kind` (two values) has none.
    fn write_people(path: &std::path::Path) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("payload", DataType::Utf8, false),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .set_column_bloom_filter_enabled(ColumnPath::from("key"), true)
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        for group in 0..4 {
            let rows = (0..1000).map(|i| group * 1000 + i);
            // Keys scattered over the row groups, as identity numbers are in
            // a file sorted by area: min/max statistics cannot prune them.
            let key: StringArray = rows
                .clone()
                .map(|n| Some(format!("k{:05}", (n * 7919) % 4000)))
                .collect();
            let kind: StringArray = rows.clone().map(|n| Some(["a", "b"][n % 2])).collect();
            let payload: StringArray = rows.map(|n| Some(format!("payload of {n}"))).collect();
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(key), Arc::new(kind), Arc::new(payload)],
            )
            .unwrap();
            writer.write(&batch).unwrap();
            writer.flush().unwrap();
        }
        writer.close().unwrap();
    }

    /// A session over [`write_people`]'s file as `t`, and the rule over its
    /// footers (the folder lives as long as the first value).
    async fn people() -> (tempfile::TempDir, SessionContext, LookupScans) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.parquet");
        write_people(&path);
        let ctx = SessionContext::new();
        ctx.register_parquet("t", path.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
        let footers = ctx.runtime_env().cache_manager.get_file_metadata_cache();
        let rule = LookupScans::new(Arc::new(RowGroupRanges::new(footers)));
        (dir, ctx, rule)
    }

    /// Four row groups of people: `key` has a bloom filter (a lookup
    /// column), `kind` (two values) has none. A lookup by key reads the
    /// rest of only the matching row; a filter on kind is read as before.
    #[tokio::test]
    async fn lookups_by_a_marked_key_read_by_row_filter() {
        let (_dir, ctx, rule) = people().await;
        // The rows in any order: two partitions may come in either.
        let pretty = |b: &[RecordBatch]| {
            let text = datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            lines
        };
        for (sql, looked_up) in [
            ("SELECT payload FROM t WHERE key = 'k00123'", Some(1)),
            (
                "SELECT payload, kind FROM t WHERE 'k00123' = key AND kind = 'b'",
                Some(1),
            ),
            (
                "SELECT payload FROM t WHERE key IN ('k00123', 'k03999')",
                Some(2),
            ),
            ("SELECT payload FROM t WHERE kind = 'a'", None),
            ("SELECT payload FROM t WHERE key = kind", None),
            ("SELECT payload FROM t WHERE key NOT IN ('k00123')", None),
            ("SELECT payload FROM t WHERE key > 'k03990'", None),
            // Payloads sort by row, so this keeps one row group by its
            // statistics: the key is looked up in it.
            (
                "SELECT payload FROM t WHERE key = 'k00000' AND payload < 'payload of 1'",
                Some(1),
            ),
        ] {
            // A plan runs once: each run below gets a fresh one. The first
            // also puts the file's footer where the rule looks for it.
            let want = collect(plan_of(&ctx, sql).await, ctx.task_ctx())
                .await
                .unwrap();
            let (before, by_row_filter) = scanned(&plan_of(&ctx, sql).await, &ctx).await;
            assert!(!by_row_filter, "{sql}");
            // A rule over another runtime's (empty) cache leaves the plan alone.
            let empty = SessionContext::new()
                .runtime_env()
                .cache_manager
                .get_file_metadata_cache();
            let elsewhere = LookupScans::new(Arc::new(RowGroupRanges::new(empty)));
            let plan = plan_of(&ctx, sql).await;
            let kept = elsewhere
                .optimize(plan.clone(), &Default::default())
                .unwrap();
            assert!(Arc::ptr_eq(&kept, &plan), "{sql}");
            let ruled = rule
                .optimize(plan_of(&ctx, sql).await, &Default::default())
                .unwrap();
            let (after, by_row_filter) = scanned(&ruled, &ctx).await;
            match looked_up {
                Some(rows) => {
                    assert!(by_row_filter, "{sql}");
                    assert_eq!(after, rows, "{sql}");
                    assert!(before >= 1000, "{sql}: {before}");
                }
                None => {
                    assert!(!by_row_filter, "{sql}");
                    assert_eq!(after, before, "{sql}");
                }
            }
            let ruled = rule
                .optimize(plan_of(&ctx, sql).await, &Default::default())
                .unwrap();
            let got = collect(ruled, ctx.task_ctx()).await.unwrap();
            assert_eq!(pretty(&got), pretty(&want), "{sql}");
            assert!(!want.is_empty() || looked_up.is_none(), "{sql}");
        }
    }

    async fn plan_of(ctx: &SessionContext, sql: &str) -> Arc<dyn ExecutionPlan> {
        ctx.sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap()
    }

    /// A key looked up by a scalar subquery's value: before the rule every
    /// row group the statistics keep is read; after it, the bloom filters
    /// leave the one holding the key.
    #[tokio::test]
    async fn a_subquerys_value_prunes_by_bloom_filter() {
        let (_dir, ctx, rule) = people().await;
        let sql = "SELECT payload FROM t WHERE key = \
                   (SELECT max(key) FROM t WHERE payload = 'payload of 5')";
        let plan = plan_of(&ctx, sql).await;
        let want = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
        // A plan runs once: the rule gets one of its own.
        let fresh = plan_of(&ctx, sql).await;
        let ruled = rule.optimize(fresh, &Default::default()).unwrap();
        let got = collect(ruled.clone(), ctx.task_ctx()).await.unwrap();
        let pretty = |b: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        assert_eq!(pretty(&got), pretty(&want));
        assert_eq!(got.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
        let analyzed = |p: &Arc<dyn ExecutionPlan>| {
            datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(p.as_ref())
                .indent(true)
                .to_string()
        };
        let (before, after) = (analyzed(&plan), analyzed(&ruled));
        assert!(
            before.contains("row_groups_pruned_bloom_filter=4 total → 4 matched"),
            "{before}"
        );
        assert!(
            after.contains("row_groups_pruned_bloom_filter=4 total → 1 matched"),
            "{after}"
        );
        // Where what is known while planning keeps one row group (payloads
        // sort by row), that one row group is where the subquery's value is
        // looked up, by row filter: the statistics are worked out without
        // the value (with it, they kept all four).
        let narrow = "SELECT payload FROM t WHERE payload < 'payload of 1' AND key = \
                      (SELECT max(key) FROM t WHERE payload = 'payload of 0')";
        let ruled = rule
            .optimize(plan_of(&ctx, narrow).await, &Default::default())
            .unwrap();
        let mut configs = Vec::new();
        ruled
            .apply(|node| {
                if let Some(config) = node
                    .downcast_ref::<DataSourceExec>()
                    .and_then(|s| s.data_source().downcast_ref::<FileScanConfig>())
                {
                    configs.push(config.clone());
                }
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            })
            .unwrap();
        let outer = configs
            .iter()
            .find_map(|c| {
                let source = c.file_source().downcast_ref::<ParquetSource>()?.clone();
                let filter = source.filter()?;
                filter
                    .to_string()
                    .contains("key@")
                    .then_some((c, source, filter))
            })
            .expect("the outer scan");
        let (config, source, filter) = outer;
        assert!(source.table_parquet_options().global.pushdown_filters);
        assert!(format!("{filter:?}").contains("SubqueryValue"));
        assert_eq!(
            rule.ranges.row_groups_kept(config, &filter).map(|k| k.0),
            Some(1)
        );
        let got = collect(ruled, ctx.task_ctx()).await.unwrap();
        assert_eq!(got.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    }
}
