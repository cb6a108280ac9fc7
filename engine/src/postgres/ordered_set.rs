//! PostgreSQL's ordered-set aggregates DataFusion lacks: `mode() WITHIN
//! GROUP (ORDER BY x)` and `percentile_disc(f) WITHIN GROUP (ORDER BY x)`,
//! which report designers use for "the most common value" and medians that
//! are real values of the column (`percentile_cont` interpolates and is
//! DataFusion's own).
//!
//! Both keep the group's values and sort them once at the end, in the
//! WITHIN GROUP order; NULLs are skipped, as in PostgreSQL.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};
use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

/// `mode()` and `percentile_disc(f)`, to register in a session.
pub(crate) fn ordered_set_udafs() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::from(OrderedSet::new(Kind::Mode)),
        AggregateUDF::from(OrderedSet::new(Kind::PercentileDisc)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Mode,
    PercentileDisc,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct OrderedSet {
    kind: Kind,
    signature: Signature,
}

impl OrderedSet {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static MODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        datafusion::logical_expr::DocSection {
            include: true,
            label: "Aggregate Functions",
            description: None,
        },
        "The most frequent non-NULL value of the group; among equally \
         frequent values the first in the WITHIN GROUP order (PostgreSQL's \
         `mode`).",
        "mode() WITHIN GROUP (ORDER BY expression)",
    )
    .with_sql_example("SELECT mode() WITHIN GROUP (ORDER BY county_code) FROM persons;")
    .build()
});

static PERCENTILE_DISC_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        datafusion::logical_expr::DocSection {
            include: true,
            label: "Aggregate Functions",
            description: None,
        },
        "The first value of the group, in the WITHIN GROUP order, whose \
         position reaches the fraction of the group's non-NULL values \
         (PostgreSQL's `percentile_disc`: always a value of the column).",
        "percentile_disc(fraction) WITHIN GROUP (ORDER BY expression)",
    )
    .with_sql_example("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY age) FROM persons;")
    .build()
});

impl AggregateUDFImpl for OrderedSet {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Mode => "mode",
            Kind::PercentileDisc => "percentile_disc",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        // The value sorted first (the planner puts it there), then the
        // fraction for percentile_disc.
        match (self.kind, arg_types) {
            (Kind::Mode, [value]) => Ok(vec![value.clone()]),
            (Kind::PercentileDisc, [value, _]) => Ok(vec![value.clone(), DataType::Float64]),
            _ => Err(not_ordered_set(self.name())),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Field::new_list_field(args.input_fields[0].data_type().clone(), true);
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "values"),
            DataType::List(Arc::new(item)),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let descending = args
            .order_bys
            .first()
            .is_some_and(|sort| sort.options.descending);
        let fraction = match self.kind {
            Kind::Mode => None,
            Kind::PercentileDisc => Some(fraction(args.exprs.get(1))?),
        };
        Ok(Box::new(Values {
            data_type: args.expr_fields[0].data_type().clone(),
            values: Vec::new(),
            descending,
            fraction,
        }))
    }

    fn supports_within_group_clause(&self) -> bool {
        true
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            Kind::Mode => &MODE_DOC,
            Kind::PercentileDisc => &PERCENTILE_DISC_DOC,
        })
    }
}

fn not_ordered_set(name: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{name} is an ordered-set aggregate: write {name}({}) WITHIN GROUP (ORDER BY value)",
        if name == "mode" { "" } else { "fraction" }
    ))
}

/// percentile_disc's fraction: a constant between 0 and 1.
fn fraction(expr: Option<&Arc<dyn datafusion::physical_expr::PhysicalExpr>>) -> Result<f64> {
    // A constant evaluates without rows.
    let empty = datafusion::arrow::array::RecordBatch::new_empty(Arc::new(
        datafusion::arrow::datatypes::Schema::empty(),
    ));
    let value = expr
        .and_then(|e| match e.evaluate(&empty) {
            Ok(datafusion::logical_expr::ColumnarValue::Scalar(v)) => Some(v),
            _ => None,
        })
        .ok_or_else(|| {
            DataFusionError::External(Box::new(crate::EngineError::new(
                crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                "percentile_disc's fraction must be a constant",
            )))
        })?;
    let f = match value.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(f)) => f,
        _ => f64::NAN,
    };
    if !(0.0..=1.0).contains(&f) {
        return Err(DataFusionError::External(Box::new(
            crate::EngineError::new(
                crate::error::sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                format!("percentile value {value} is not between 0 and 1"),
            ),
        )));
    }
    Ok(f)
}

#[derive(Debug)]
struct Values {
    data_type: DataType,
    values: Vec<ScalarValue>,
    descending: bool,
    /// percentile_disc's fraction; `None` for mode.
    fraction: Option<f64>,
}

impl Values {
    fn push_array(&mut self, array: &ArrayRef) -> Result<()> {
        for row in 0..array.len() {
            if array.is_valid(row) {
                self.values.push(ScalarValue::try_from_array(array, row)?);
            }
        }
        Ok(())
    }
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.push_array(&values[0])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = datafusion::common::cast::as_list_array(&states[0])?;
        for list in lists.iter().flatten() {
            self.push_array(&list)?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = ScalarValue::new_list_nullable(&self.values, &self.data_type);
        Ok(vec![ScalarValue::List(list)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let order = |a: &ScalarValue, b: &ScalarValue| {
            let o = a.partial_cmp(b).unwrap_or(Ordering::Equal);
            if self.descending {
                o.reverse()
            } else {
                o
            }
        };
        let mut sorted = std::mem::take(&mut self.values);
        sorted.sort_by(order);
        let answer = match self.fraction {
            Some(f) => {
                // PostgreSQL: the first value whose position (1-based)
                // reaches f × n.
                let n = sorted.len();
                let position = ((f * n as f64).ceil() as usize).max(1);
                sorted.get(position - 1).cloned()
            }
            None => {
                // The longest run of equal values; the first one wins a tie.
                let mut best: Option<(usize, usize)> = None;
                let mut start = 0;
                for i in 1..=sorted.len() {
                    if i == sorted.len() || order(&sorted[start], &sorted[i]) != Ordering::Equal {
                        if best.is_none_or(|(_, len)| i - start > len) {
                            best = Some((start, i - start));
                        }
                        start = i;
                    }
                }
                best.map(|(at, _)| sorted[at].clone())
            }
        };
        self.values = sorted;
        match answer {
            Some(v) => Ok(v),
            None => ScalarValue::try_from(&self.data_type),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.iter().map(ScalarValue::size).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;

    fn values(fraction: Option<f64>, descending: bool, data: Vec<Option<i32>>) -> ScalarValue {
        let mut acc = Values {
            data_type: DataType::Int32,
            values: Vec::new(),
            descending,
            fraction,
        };
        let array: ArrayRef = Arc::new(Int32Array::from(data));
        acc.update_batch(&[array]).unwrap();
        acc.evaluate().unwrap()
    }

    #[test]
    fn mode_takes_the_first_of_equally_frequent_values() {
        // As PostgreSQL 15 answers.
        assert_eq!(
            values(
                None,
                false,
                vec![Some(3), Some(1), Some(3), Some(1), None, None, None]
            ),
            ScalarValue::Int32(Some(1))
        );
        assert_eq!(
            values(None, true, vec![Some(3), Some(1), Some(3), Some(1)]),
            ScalarValue::Int32(Some(3))
        );
        assert_eq!(values(None, false, vec![None]), ScalarValue::Int32(None));
    }

    #[test]
    fn percentile_disc_is_a_value_of_the_column() {
        let data = || (1..=5).map(Some).collect::<Vec<_>>();
        assert_eq!(
            values(Some(0.5), false, data()),
            ScalarValue::Int32(Some(3))
        );
        assert_eq!(
            values(Some(0.0), false, data()),
            ScalarValue::Int32(Some(1))
        );
        assert_eq!(
            values(Some(1.0), false, data()),
            ScalarValue::Int32(Some(5))
        );
        assert_eq!(
            values(Some(0.41), false, data()),
            ScalarValue::Int32(Some(3))
        );
        assert_eq!(values(Some(0.5), true, data()), ScalarValue::Int32(Some(3)));
        assert_eq!(values(Some(0.2), true, data()), ScalarValue::Int32(Some(5)));
    }
}
