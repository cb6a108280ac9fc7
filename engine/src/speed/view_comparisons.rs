//! Text compared with a short constant, by each string's first 16 bytes.
//!
//! The work fence is a range of area codes (`grid_code >= '370602' AND
//! grid_code < '370603'` for a county), and users pick areas the same way
//! or with `LIKE '370602%'`. Arrow compares a string view with a constant by
//! its 4-byte inline prefix and then by the whole strings; area codes share
//! their first four characters ("3706"), so every row goes to the byte
//! comparison: the fence took 30% of a county user's `payments of 2024 by
//! type`, and the `LIKE` of the same query written by hand 20%.
//!
//! For a constant of at most 16 bytes, a string's first 16 bytes read as one
//! big-endian integer (zeros past its end), and then its length, order it
//! against the constant exactly as bytewise comparison does, and its first
//! bytes masked to the constant's length say whether it starts with it.
//! [`ViewComparisons`] gives such comparisons in filters, over text held as
//! string views, an expression that decides them that way. It runs after
//! DataFusion's rules, so the scans have already taken the original
//! predicates to prune row groups and pages with; the expression prints as
//! the comparison it stands for, and any other comparison is left to Arrow.

use crate::speed::plan_cache;
use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringViewArray};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{BinaryExpr, LikeExpr, Literal};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// The longest constant decided by its first bytes alone.
const KEY_BYTES: usize = 16;

/// Puts [`ViewComparison`] in place of each comparison in a filter of text
/// held as string views with a constant of at most 16 bytes: `<`, `<=`,
/// `>`, `>=`, and `LIKE` / `NOT LIKE` with a pattern that is a prefix and
/// `%`.
#[derive(Debug, Default)]
pub(crate) struct ViewComparisons;

impl PhysicalOptimizerRule for ViewComparisons {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A governed scan's own plan is optimized again inside the query's,
        // after DataFusion's pushdown has given its scan the fence to prune
        // with; only then is the fence's comparison replaced.
        if plan_cache::planning_nested() {
            return Ok(plan);
        }
        plan.transform_up(|node| {
            let Some(filter) = node.downcast_ref::<FilterExec>() else {
                return Ok(Transformed::no(node));
            };
            let input = filter.input().schema();
            let predicate = filter
                .predicate()
                .clone()
                .transform_up(|e| compare_by_views(e, &input))?;
            if !predicate.transformed {
                return Ok(Transformed::no(node));
            }
            let rebuilt = FilterExecBuilder::from(filter)
                .with_predicate(predicate.data)
                .build()?;
            Ok(Transformed::yes(Arc::new(rebuilt) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "view_comparisons"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// What a [`ViewComparison`] tests a string for, against its constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Test {
    Lt,
    LtEq,
    Gt,
    GtEq,
    StartsWith,
    NotStartsWith,
}

impl Test {
    fn comparison(op: &Operator) -> Option<Test> {
        Some(match op {
            Operator::Lt => Test::Lt,
            Operator::LtEq => Test::LtEq,
            Operator::Gt => Test::Gt,
            Operator::GtEq => Test::GtEq,
            _ => return None,
        })
    }

    /// The same test with its operands swapped (`'a' < t` is `t > 'a'`).
    fn swapped(self) -> Test {
        match self {
            Test::Lt => Test::Gt,
            Test::LtEq => Test::GtEq,
            Test::Gt => Test::Lt,
            Test::GtEq => Test::LtEq,
            prefix => prefix,
        }
    }

    /// Its code on the wire to cluster executors.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn from_code(code: u8) -> Option<Test> {
        [
            Test::Lt,
            Test::LtEq,
            Test::Gt,
            Test::GtEq,
            Test::StartsWith,
            Test::NotStartsWith,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }
}

/// `expr` as a [`ViewComparison`] when it is a comparison it decides.
fn compare_by_views(
    expr: Arc<dyn PhysicalExpr>,
    input: &Schema,
) -> Result<Transformed<Arc<dyn PhysicalExpr>>> {
    let views = |e: &Arc<dyn PhysicalExpr>| matches!(e.data_type(input), Ok(DataType::Utf8View));
    let found = if let Some(binary) = expr.downcast_ref::<BinaryExpr>() {
        Test::comparison(binary.op()).and_then(|test| {
            match (short_text(binary.left()), short_text(binary.right())) {
                (None, Some(constant)) if views(binary.left()) => {
                    Some((binary.left().clone(), test, constant))
                }
                (Some(constant), None) if views(binary.right()) => {
                    Some((binary.right().clone(), test.swapped(), constant))
                }
                _ => None,
            }
        })
    } else if let Some(like) = expr.downcast_ref::<LikeExpr>() {
        let prefix = short_text(like.pattern()).and_then(|p| like_prefix(&p));
        match prefix {
            Some(prefix) if !like.case_insensitive() && views(like.expr()) => {
                let test = if like.negated() {
                    Test::NotStartsWith
                } else {
                    Test::StartsWith
                };
                Some((like.expr().clone(), test, prefix))
            }
            _ => None,
        }
    } else {
        None
    };
    let Some((text, test, constant)) = found else {
        return Ok(Transformed::no(expr));
    };
    if constant.len() > KEY_BYTES {
        return Ok(Transformed::no(expr));
    }
    Ok(Transformed::yes(Arc::new(ViewComparison::new(
        expr.clone(),
        text,
        test,
        constant,
    ))))
}

/// The bytes of a non-NULL text constant.
fn short_text(expr: &Arc<dyn PhysicalExpr>) -> Option<Vec<u8>> {
    match expr.downcast_ref::<Literal>()?.value() {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// The prefix a `LIKE` pattern asks for, when it is a prefix and one `%`:
/// no other wildcard and no escape character.
fn like_prefix(pattern: &[u8]) -> Option<Vec<u8>> {
    let prefix = pattern.strip_suffix(b"%")?;
    if prefix.iter().any(|b| matches!(b, b'%' | b'_' | b'\\')) {
        return None;
    }
    Some(prefix.to_vec())
}

/// A comparison of text held as string views with a constant of at most 16
/// bytes, decided by each string's first 16 bytes and its length.
#[derive(Debug)]
pub(crate) struct ViewComparison {
    /// The comparison it stands for: how it prints, and what any other
    /// input than string views (a constant) goes to.
    original: Arc<dyn PhysicalExpr>,
    text: Arc<dyn PhysicalExpr>,
    test: Test,
    constant: Vec<u8>,
    /// The constant's bytes as a big-endian integer, zeros past its end.
    key: u128,
}

impl PartialEq for ViewComparison {
    fn eq(&self, other: &Self) -> bool {
        self.original.eq(&other.original)
    }
}

impl Eq for ViewComparison {}

impl std::hash::Hash for ViewComparison {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.original.hash(state);
    }
}

impl std::fmt::Display for ViewComparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.original.fmt(f)
    }
}

impl ViewComparison {
    fn new(
        original: Arc<dyn PhysicalExpr>,
        text: Arc<dyn PhysicalExpr>,
        test: Test,
        constant: Vec<u8>,
    ) -> Self {
        let mut padded = [0u8; KEY_BYTES];
        padded[..constant.len()].copy_from_slice(&constant);
        ViewComparison {
            original,
            text,
            test,
            key: u128::from_be_bytes(padded),
            constant,
        }
    }

    /// The comparison of `text` with `constant`, as a cluster executor
    /// receives it ([`Self::parts`] is what was sent).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn over(
        text: Arc<dyn PhysicalExpr>,
        test: Test,
        constant: Vec<u8>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        if constant.len() > KEY_BYTES {
            return Err(datafusion::error::DataFusionError::Internal(
                "a view comparison's constant is longer than 16 bytes".into(),
            ));
        }
        let text_constant = |bytes: Vec<u8>| -> Result<Arc<dyn PhysicalExpr>> {
            let s = String::from_utf8(bytes)
                .map_err(|e| datafusion::error::DataFusionError::Internal(e.to_string()))?;
            Ok(Arc::new(Literal::new(ScalarValue::Utf8View(Some(s)))))
        };
        let original: Arc<dyn PhysicalExpr> = match test {
            Test::StartsWith | Test::NotStartsWith => {
                let mut pattern = constant.clone();
                pattern.push(b'%');
                Arc::new(LikeExpr::new(
                    test == Test::NotStartsWith,
                    false,
                    text.clone(),
                    text_constant(pattern)?,
                ))
            }
            _ => {
                let op = match test {
                    Test::Lt => Operator::Lt,
                    Test::LtEq => Operator::LtEq,
                    Test::Gt => Operator::Gt,
                    _ => Operator::GtEq,
                };
                Arc::new(BinaryExpr::new(
                    text.clone(),
                    op,
                    text_constant(constant.clone())?,
                ))
            }
        };
        Ok(Arc::new(ViewComparison::new(
            original, text, test, constant,
        )))
    }

    /// The test and the constant.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn parts(&self) -> (Test, &[u8]) {
        (self.test, &self.constant)
    }

    fn decide(&self, strings: &StringViewArray) -> BooleanArray {
        let views = strings.views();
        let buffers = strings.data_buffers();
        let (key, len) = (self.key, self.constant.len() as u32);
        let values = match self.test {
            Test::Lt => each_string(views, buffers, |k, l| (k, l) < (key, len)),
            Test::LtEq => each_string(views, buffers, |k, l| (k, l) <= (key, len)),
            Test::Gt => each_string(views, buffers, |k, l| (k, l) > (key, len)),
            Test::GtEq => each_string(views, buffers, |k, l| (k, l) >= (key, len)),
            Test::StartsWith => {
                let mask = mask(len);
                each_string(views, buffers, |k, l| k & mask == key && l >= len)
            }
            Test::NotStartsWith => {
                let mask = mask(len);
                each_string(views, buffers, |k, l| !(k & mask == key && l >= len))
            }
        };
        BooleanArray::new(values, strings.nulls().cloned())
    }
}

/// Each string's first 16 bytes and length, given to `test`. Area codes
/// come sorted, in runs of one code, and a string's view is the same along
/// its run: a row with the previous row's view has its result. A NULL's
/// view may point anywhere: it is read without trusting it, and its result
/// is masked by the NULL.
#[inline(always)]
fn each_string(
    views: &[u128],
    buffers: &[Buffer],
    test: impl Fn(u128, u32) -> bool,
) -> BooleanBuffer {
    let decide = |view: u128| {
        let len = view as u32;
        test(first_bytes(view, len, buffers), len)
    };
    let Some(&first) = views.first() else {
        return BooleanBuffer::new_unset(0);
    };
    let mut last = (first, decide(first));
    BooleanBuffer::collect_bool(views.len(), |i| {
        let view = views[i];
        if view != last.0 {
            last = (view, decide(view));
        }
        last.1
    })
}

/// A string's first 16 bytes as a big-endian integer, zeros past its end.
#[inline(always)]
fn first_bytes(view: u128, len: u32, buffers: &[Buffer]) -> u128 {
    if len <= 12 {
        // Inline: the string's bytes follow its length, first byte lowest.
        return (view >> 32).swap_bytes() & mask(len);
    }
    let buffer = (view >> 64) as u32 as usize;
    let offset = (view >> 96) as usize;
    let Some(bytes) = buffers.get(buffer).map(|b| b.as_slice()) else {
        return 0;
    };
    let key = match bytes.get(offset..offset + KEY_BYTES) {
        Some(first) => u128::from_be_bytes(first.try_into().expect("16 bytes")),
        None => {
            // The string ends less than 16 bytes before its buffer does.
            let mut padded = [0u8; KEY_BYTES];
            let end = (offset + len as usize).min(bytes.len());
            if let Some(tail) = bytes.get(offset..end) {
                let n = tail.len().min(KEY_BYTES);
                padded[..n].copy_from_slice(&tail[..n]);
            }
            u128::from_be_bytes(padded)
        }
    };
    key & mask(len)
}

/// The bits of a key's first `len` bytes.
#[inline(always)]
fn mask(len: u32) -> u128 {
    if len as usize >= KEY_BYTES {
        u128::MAX
    } else {
        !(u128::MAX >> (8 * len))
    }
}

impl PhysicalExpr for ViewComparison {
    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.original.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.original.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        match self.text.evaluate(batch)? {
            ColumnarValue::Array(text) if text.data_type() == &DataType::Utf8View => Ok(
                ColumnarValue::Array(Arc::new(self.decide(text.as_string_view()))),
            ),
            _ => self.original.evaluate(batch),
        }
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.text]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let text = children[0].clone();
        let original = self.original.clone();
        let replaced = original
            .children()
            .into_iter()
            .map(|c| {
                if Arc::ptr_eq(c, &self.text) {
                    text.clone()
                } else {
                    c.clone()
                }
            })
            .collect();
        Ok(Arc::new(ViewComparison {
            original: self.original.clone().with_new_children(replaced)?,
            text,
            test: self.test,
            constant: self.constant.clone(),
            key: self.key,
        }))
    }

    fn fmt_sql(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.original.fmt_sql(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringViewBuilder;
    use datafusion::arrow::datatypes::Field;
    use datafusion::physical_expr::expressions::{col, lit};

    /// Strings around each constant's edges: equal, one byte shorter and
    /// longer, a byte above and below, an embedded NUL, past 16 bytes,
    /// inline and in buffers (one at a buffer's very end), in runs and
    /// with NULLs; every test agrees with Arrow's.
    #[test]
    fn decides_as_arrow_does() {
        let strings = [
            "",
            "3",
            "37",
            "3706",
            "370602",
            "370602\0",
            "370601",
            "370603",
            "3706029",
            "370602001",
            "370602001001",
            "370602001001001",
            "370602001001002",
            "370602001001001x",
            "370602001001001xyz",
            "370603000000000000",
            "371",
            "4",
            "中文街道",
            "abc",
            "abd",
            "ab",
            // Last of the long strings: it ends its buffer, 13 bytes after
            // its start.
            "3706020010010",
        ];
        let mut values: Vec<Option<&str>> = strings.iter().map(|s| Some(*s)).collect();
        values.insert(3, None);
        values.push(None);
        let array = StringViewArray::from(values.clone());
        // The same strings sliced out of a longer array, so some views point
        // within 16 bytes of their buffer's end.
        let longer: Vec<Option<&str>> = std::iter::once(Some("zzzzzzzzzzzzzzzzzzzzz"))
            .chain(values.iter().copied())
            .collect();
        let sliced = StringViewArray::from(longer).slice(1, values.len());
        // Runs of one string behind one view, as dictionary-encoded Parquet
        // columns decode.
        let mut builder = StringViewBuilder::new().with_deduplicate_strings();
        for s in values.iter().flat_map(|s| [*s, *s, *s]) {
            builder.append_option(s);
        }
        let runs = builder.finish();
        let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Utf8View, true)]));
        let constants = [
            "",
            "3",
            "3706",
            "370602",
            "370603",
            "370602001001",
            "370602001001001",
            "370602001001001x",
            "371",
            "中文",
            "ab",
        ];
        for array in [array, sliced, runs] {
            let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(array)]).unwrap();
            let t = col("t", &schema).unwrap();
            for constant in constants {
                let c = lit(ScalarValue::Utf8View(Some(constant.to_string())));
                let mut exprs: Vec<Arc<dyn PhysicalExpr>> =
                    [Operator::Lt, Operator::LtEq, Operator::Gt, Operator::GtEq]
                        .into_iter()
                        .flat_map(|op| {
                            [
                                Arc::new(BinaryExpr::new(t.clone(), op, c.clone()))
                                    as Arc<dyn PhysicalExpr>,
                                Arc::new(BinaryExpr::new(c.clone(), op, t.clone())),
                            ]
                        })
                        .collect();
                let pattern = lit(ScalarValue::Utf8View(Some(format!("{constant}%"))));
                for negated in [false, true] {
                    exprs.push(Arc::new(LikeExpr::new(
                        negated,
                        false,
                        t.clone(),
                        pattern.clone(),
                    )));
                }
                for expr in exprs {
                    let fast = compare_by_views(expr.clone(), &schema).unwrap();
                    assert!(fast.transformed, "{expr}");
                    assert_eq!(fast.data.to_string(), expr.to_string());
                    let rows = batch.num_rows();
                    let want = expr.evaluate(&batch).unwrap().into_array(rows).unwrap();
                    let got = fast
                        .data
                        .evaluate(&batch)
                        .unwrap()
                        .into_array(rows)
                        .unwrap();
                    assert_eq!(&got, &want, "{expr} over {values:?}");
                }
            }
        }
    }

    /// Constants past 16 bytes, patterns with other wildcards or an escape,
    /// case-insensitive matching and equality stay Arrow's.
    #[test]
    fn leaves_what_it_does_not_decide() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Utf8View, true),
            Field::new("u", DataType::Utf8, true),
        ]));
        let t = col("t", &schema).unwrap();
        let text = |s: &str| lit(ScalarValue::Utf8View(Some(s.to_string())));
        let long = "370602001001001xy";
        let kept: Vec<Arc<dyn PhysicalExpr>> = vec![
            Arc::new(BinaryExpr::new(t.clone(), Operator::Lt, text(long))),
            Arc::new(BinaryExpr::new(t.clone(), Operator::Eq, text("3706"))),
            Arc::new(BinaryExpr::new(
                col("u", &schema).unwrap(),
                Operator::Lt,
                lit("3706"),
            )),
            Arc::new(LikeExpr::new(false, false, t.clone(), text("37_6%"))),
            Arc::new(LikeExpr::new(false, false, t.clone(), text("37%6%"))),
            Arc::new(LikeExpr::new(false, false, t.clone(), text("37\\%%"))),
            Arc::new(LikeExpr::new(false, false, t.clone(), text("3706"))),
            Arc::new(LikeExpr::new(false, true, t.clone(), text("ab%"))),
            Arc::new(BinaryExpr::new(
                t.clone(),
                Operator::Lt,
                lit(ScalarValue::Utf8View(None)),
            )),
        ];
        for expr in kept {
            assert!(
                !compare_by_views(expr.clone(), &schema).unwrap().transformed,
                "{expr}"
            );
        }
    }

    /// A filter's range comparisons are replaced, and its rows stay the same.
    #[tokio::test]
    async fn filters_keep_their_rows() {
        use datafusion::datasource::memory::MemorySourceConfig;
        use datafusion::physical_plan::collect;
        let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Utf8View, true)]));
        let codes = StringViewArray::from(vec![
            Some("370602001001001"),
            Some("370603001001001"),
            None,
            Some("370601999999999"),
            Some("370602999"),
        ]);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(codes)]).unwrap();
        let scan = MemorySourceConfig::try_new_exec(&[vec![batch]], schema.clone(), None).unwrap();
        let t = col("t", &schema).unwrap();
        let text = |s: &str| lit(ScalarValue::Utf8View(Some(s.to_string())));
        let fence = Arc::new(BinaryExpr::new(
            Arc::new(BinaryExpr::new(t.clone(), Operator::GtEq, text("370602"))),
            Operator::And,
            Arc::new(BinaryExpr::new(t.clone(), Operator::Lt, text("370603"))),
        ));
        let plan: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(fence, scan).unwrap());
        let fast = ViewComparisons
            .optimize(plan.clone(), &Default::default())
            .unwrap();
        let predicate = fast.downcast_ref::<FilterExec>().unwrap().predicate();
        let replaced = predicate
            .children()
            .iter()
            .filter(|c| c.downcast_ref::<ViewComparison>().is_some())
            .count();
        assert_eq!(replaced, 2);
        let ctx = datafusion::prelude::SessionContext::new().task_ctx();
        let rows = |p| async {
            let batches = collect(p, ctx.clone()).await.unwrap();
            datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string()
        };
        let (want, got) = (rows(plan).await, rows(fast).await);
        assert!(got.contains("370602001001001") && got.contains("370602999"));
        assert_eq!(got, want);
    }
}
