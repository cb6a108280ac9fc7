//! Integers cast to a `numeric` that holds every value of their type.
//!
//! PostgreSQL's arithmetic on integers and `numeric` is exact, so the
//! dialect casts integers to `Decimal128` wherever PostgreSQL would widen
//! them: `2024 - extract(year FROM birth_date)` (extract is `numeric`), the
//! sum and count behind an exact `avg`. Arrow's cast checks every value
//! against the target precision and multiplies it by the scale's power of
//! ten with overflow checks: a sixth of a `GROUP BY town, sex` with an
//! average age over a million persons. Where the target's integer digits
//! hold every value of the source type (`numeric(38, 0)` holds any `int8`),
//! no check can fail, so [`WideningCasts`] gives such casts in projections
//! an expression that converts without one. It runs before any other
//! physical rule, while projections are still projections: DataFusion then
//! pushes them into the file scans as they are. The expression prints as
//! the cast it stands for, and any other cast is left to Arrow.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, RecordBatch};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Decimal128Type, Int16Type, Int32Type, Int64Type, Int8Type,
    Schema, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::expressions::CastExpr;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// Puts [`WideningCast`] in place of each cast in a projection from an
/// integer type to a `Decimal128` that holds all of the type's values.
#[derive(Debug, Default)]
pub(crate) struct WideningCasts;

impl PhysicalOptimizerRule for WideningCasts {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(projection) = node.downcast_ref::<ProjectionExec>() else {
                return Ok(Transformed::no(node));
            };
            let input = projection.input().schema();
            let mut changed = false;
            let exprs = projection
                .expr()
                .iter()
                .map(|p| {
                    let expr = p.expr.clone().transform_up(|e| widen(e, &input))?;
                    changed |= expr.transformed;
                    Ok(ProjectionExpr {
                        expr: expr.data,
                        alias: p.alias.clone(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if !changed {
                return Ok(Transformed::no(node));
            }
            let rebuilt = ProjectionExec::try_new_with_schema_metadata(
                exprs,
                projection.input().clone(),
                &projection.schema(),
            )?;
            Ok(Transformed::yes(Arc::new(rebuilt) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "widening_casts"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `expr` as a [`WideningCast`] when it is a cast that cannot fail.
fn widen(
    expr: Arc<dyn PhysicalExpr>,
    input: &Schema,
) -> Result<Transformed<Arc<dyn PhysicalExpr>>> {
    let Some(cast) = expr.downcast_ref::<CastExpr>() else {
        return Ok(Transformed::no(expr));
    };
    let DataType::Decimal128(precision, scale) = *cast.cast_type() else {
        return Ok(Transformed::no(expr));
    };
    let Ok(from) = cast.expr().data_type(input) else {
        return Ok(Transformed::no(expr));
    };
    let fits =
        scale >= 0 && digits(&from).is_some_and(|d| i16::from(precision) - i16::from(scale) >= d);
    if !fits {
        return Ok(Transformed::no(expr));
    }
    Ok(Transformed::yes(Arc::new(WideningCast {
        cast: expr.clone(),
        input: cast.expr().clone(),
        precision,
        scale: scale as u32,
    })))
}

/// The decimal digits the largest value of an integer type has.
fn digits(t: &DataType) -> Option<i16> {
    Some(match t {
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        DataType::Int64 => 19,
        DataType::UInt64 => 20,
        _ => return None,
    })
}

/// A cast of an integer to a `Decimal128(precision, scale)` with at least
/// as many integer digits as the type's largest value: every value
/// converts exactly, by a multiplication that cannot overflow an `i128`.
#[derive(Debug)]
pub(crate) struct WideningCast {
    /// The cast it stands for: how it prints, and what a constant goes to.
    cast: Arc<dyn PhysicalExpr>,
    input: Arc<dyn PhysicalExpr>,
    precision: u8,
    scale: u32,
}

impl PartialEq for WideningCast {
    fn eq(&self, other: &Self) -> bool {
        self.cast.eq(&other.cast)
    }
}

impl Eq for WideningCast {}

impl std::hash::Hash for WideningCast {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.cast.hash(state);
    }
}

impl std::fmt::Display for WideningCast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cast.fmt(f)
    }
}

impl WideningCast {
    /// The cast of `input` to `Decimal128(precision, scale)`, as a cluster
    /// executor receives it ([`Self::target`] is what was sent).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn over(
        input: Arc<dyn PhysicalExpr>,
        precision: u8,
        scale: u8,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let to = DataType::Decimal128(precision, scale as i8);
        Ok(Arc::new(WideningCast {
            cast: Arc::new(CastExpr::new(input.clone(), to, None)),
            input,
            precision,
            scale: u32::from(scale),
        }))
    }

    /// The target type's precision and scale.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn target(&self) -> [u8; 2] {
        [self.precision, self.scale as u8]
    }

    fn convert(&self, values: &ArrayRef) -> Result<ArrayRef> {
        fn each<T: ArrowPrimitiveType>(values: &ArrayRef, factor: i128) -> Decimal128Array
        where
            T::Native: Into<i128>,
        {
            values
                .as_primitive::<T>()
                .unary::<_, Decimal128Type>(|v| v.into() * factor)
        }
        let factor = 10i128.pow(self.scale);
        let converted = match values.data_type() {
            DataType::Int8 => each::<Int8Type>(values, factor),
            DataType::Int16 => each::<Int16Type>(values, factor),
            DataType::Int32 => each::<Int32Type>(values, factor),
            DataType::Int64 => each::<Int64Type>(values, factor),
            DataType::UInt8 => each::<UInt8Type>(values, factor),
            DataType::UInt16 => each::<UInt16Type>(values, factor),
            DataType::UInt32 => each::<UInt32Type>(values, factor),
            DataType::UInt64 => each::<UInt64Type>(values, factor),
            other => {
                return Err(datafusion::error::DataFusionError::Internal(format!(
                    "widening cast of {other}"
                )))
            }
        };
        Ok(Arc::new(converted.with_precision_and_scale(
            self.precision,
            self.scale as i8,
        )?))
    }
}

impl PhysicalExpr for WideningCast {
    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.cast.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.cast.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        match self.input.evaluate(batch)? {
            ColumnarValue::Array(values) => Ok(ColumnarValue::Array(self.convert(&values)?)),
            ColumnarValue::Scalar(_) => self.cast.evaluate(batch),
        }
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let input = children[0].clone();
        Ok(Arc::new(WideningCast {
            cast: self.cast.clone().with_new_children(vec![input.clone()])?,
            input,
            precision: self.precision,
            scale: self.scale,
        }))
    }

    fn fmt_sql(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cast.fmt_sql(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, Int64Array, UInt64Array};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::Field;
    use datafusion::physical_expr::expressions::col;

    /// Each integer type's extremes, zero and a NULL, converted by
    /// [`WideningCast`] and by Arrow's cast: the same values and type.
    #[test]
    fn converts_as_arrows_cast_does() {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(vec![
                Some(i32::MIN),
                None,
                Some(0),
                Some(i32::MAX),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(i64::MIN),
                Some(-1),
                None,
                Some(i64::MAX),
            ])),
            Arc::new(UInt64Array::from(vec![
                Some(0),
                None,
                Some(7),
                Some(u64::MAX),
            ])),
        ];
        for values in columns {
            let schema = Arc::new(Schema::new(vec![Field::new(
                "v",
                values.data_type().clone(),
                true,
            )]));
            let batch = RecordBatch::try_new(schema.clone(), vec![values.clone()]).unwrap();
            let need = digits(values.data_type()).unwrap() as u8;
            for (precision, scale) in [(38, 0), (need, 0), (38, 38 - need as i8), (need + 2, 2)] {
                let to = DataType::Decimal128(precision, scale);
                let expr: Arc<dyn PhysicalExpr> =
                    Arc::new(CastExpr::new(col("v", &schema).unwrap(), to.clone(), None));
                let widened = widen(expr, &schema).unwrap();
                assert!(widened.transformed, "{to}");
                let got = widened
                    .data
                    .evaluate(&batch)
                    .unwrap()
                    .into_array(4)
                    .unwrap();
                assert_eq!(got.data_type(), &to);
                assert_eq!(&got, &cast(&values, &to).unwrap(), "{to}");
            }
            // One digit short: Arrow's cast (which checks) is kept.
            let short = DataType::Decimal128(need - 1, 0);
            let expr: Arc<dyn PhysicalExpr> =
                Arc::new(CastExpr::new(col("v", &schema).unwrap(), short, None));
            assert!(!widen(expr, &schema).unwrap().transformed);
        }
    }
}
