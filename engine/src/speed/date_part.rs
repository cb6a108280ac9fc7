//! `date_part` / `EXTRACT` with a fast path for the year, month or day of a
//! date.
//!
//! Reports group dates by year and month all the time (`extract(year FROM
//! birth_date)` for ages, months of subsidy payments), and DataFusion's
//! `date_part` turns every `Date32` into a chrono date to read them: a fifth
//! of a GROUP BY county, sex and average age over a million persons. Here
//! those three parts of a date are computed straight from the day number
//! (`zhenjie_udfs::calendar::civil_from_days`, multiplications and shifts);
//! every other part or type, and all of the planning (return types, the year
//! pre-image that prunes row groups, ordering), is DataFusion's own function.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::{DataType, Date32Type, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};
use std::sync::Arc;
use zhenjie_udfs::calendar::civil_from_days;

/// DataFusion's `date_part`, with dates' year, month and day computed
/// without chrono.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct DatePart {
    inner: ScalarUDF,
}

impl DatePart {
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(DatePart {
            inner: datafusion::functions::datetime::date_part()
                .as_ref()
                .clone(),
        })
    }

    /// DataFusion's function, which everything but the fast path goes to.
    fn imp(&self) -> &dyn ScalarUDFImpl {
        self.inner.inner().as_ref()
    }
}

/// Makes a session being built use this `date_part`, by name and for
/// `EXTRACT`.
pub(crate) fn install(builder: &mut SessionStateBuilder) {
    let udf = Arc::new(DatePart::udf());
    if let Some(planners) = builder.expr_planners() {
        planners.insert(0, Arc::new(ExtractPlanner(udf.clone())));
    }
    // Registered after DataFusion's, so it takes the name.
    builder
        .scalar_functions()
        .get_or_insert_with(Vec::new)
        .push(udf);
}

/// Plans `EXTRACT(part FROM x)` to this `date_part` (DataFusion's own planner
/// names its built-in function directly, not through the registry); put
/// ahead of DataFusion's planners.
#[derive(Debug)]
struct ExtractPlanner(Arc<ScalarUDF>);

impl ExprPlanner for ExtractPlanner {
    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(self.0.clone(), args),
        )))
    }
}

#[derive(Clone, Copy)]
enum Part {
    Year,
    Month,
    Day,
}

/// The parts taken here, spelled as DataFusion spells them (quotes allowed,
/// any case); plurals and synonyms go to DataFusion.
fn fast_part(part: &ColumnarValue) -> Option<Part> {
    let ColumnarValue::Scalar(ScalarValue::Utf8(Some(p)) | ScalarValue::Utf8View(Some(p))) = part
    else {
        return None;
    };
    let p = p.trim_matches(|c| c == '\'' || c == '"');
    if p.eq_ignore_ascii_case("year") {
        Some(Part::Year)
    } else if p.eq_ignore_ascii_case("month") {
        Some(Part::Month)
    } else if p.eq_ignore_ascii_case("day") {
        Some(Part::Day)
    } else {
        None
    }
}

/// The part of every date, or `None` when a date lies outside the years
/// chrono (and so DataFusion) can represent: those keep DataFusion's answer.
fn date_parts(days: &ArrayRef, part: Part) -> Option<ArrayRef> {
    // About ±246,000 years, inside chrono's ±262,143.
    const CHRONO_SAFE: std::ops::RangeInclusive<i32> = -90_000_000..=90_000_000;
    let days = days.as_primitive::<Date32Type>();
    if !days.values().iter().all(|d| CHRONO_SAFE.contains(d)) {
        return None;
    }
    let values: Int32Array = days.unary(|d| {
        let (y, m, day) = civil_from_days(d);
        match part {
            Part::Year => y,
            Part::Month => m as i32,
            Part::Day => day as i32,
        }
    });
    Some(Arc::new(values))
}

impl ScalarUDFImpl for DatePart {
    fn name(&self) -> &str {
        self.imp().name()
    }

    fn aliases(&self) -> &[String] {
        self.imp().aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.imp().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.imp().signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.imp().return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.imp().return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let fast = match args.args.as_slice() {
            [part, ColumnarValue::Array(days)] if days.data_type() == &DataType::Date32 => {
                fast_part(part).and_then(|p| date_parts(days, p))
            }
            _ => None,
        };
        match fast {
            // Year, month and day are Int32, as DataFusion's return field says.
            Some(values) => Ok(ColumnarValue::Array(values)),
            None => self.imp().invoke_with_args(args),
        }
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.imp().simplify(args, info)
    }

    fn preimage(
        &self,
        args: &[Expr],
        lit_expr: &Expr,
        info: &SimplifyContext,
    ) -> Result<datafusion::logical_expr::preimage::PreimageResult> {
        self.imp().preimage(args, lit_expr, info)
    }

    fn short_circuits(&self) -> bool {
        self.imp().short_circuits()
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.imp().evaluate_bounds(input)
    }

    fn propagate_constraints(
        &self,
        interval: &Interval,
        inputs: &[&Interval],
    ) -> Result<Option<Vec<Interval>>> {
        self.imp().propagate_constraints(interval, inputs)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.imp().output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.imp().preserves_lex_ordering(inputs)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.imp().coerce_types(arg_types)
    }

    fn is_strict(&self) -> bool {
        self.imp().is_strict()
    }

    fn strictly_order_preserving(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.imp().strictly_order_preserving(inputs)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.imp().documentation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Date32Array;
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::config::ConfigOptions;

    fn run(udf: &ScalarUDF, part: &str, days: &ArrayRef) -> ArrayRef {
        let part = ColumnarValue::Scalar(ScalarValue::Utf8(Some(part.to_string())));
        let arg_fields = vec![
            Arc::new(Field::new("part", DataType::Utf8, false)),
            Arc::new(Field::new("d", DataType::Date32, true)),
        ];
        let scalar = ScalarValue::Utf8(Some("year".into()));
        let return_field = udf
            .return_field_from_args(ReturnFieldArgs {
                arg_fields: &arg_fields,
                scalar_arguments: &[Some(&scalar), None],
            })
            .unwrap();
        let out = udf
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![part, ColumnarValue::Array(days.clone())],
                arg_fields,
                number_rows: days.len(),
                return_field,
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap();
        match out {
            ColumnarValue::Array(a) => a,
            ColumnarValue::Scalar(_) => panic!("an array in, an array out"),
        }
    }

    /// Sessions built with `install` plan both spellings to this function.
    #[tokio::test]
    async fn extract_and_date_part_are_planned_to_this_function() {
        use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
        use datafusion::logical_expr::LogicalPlan;
        let mut builder = SessionStateBuilder::new().with_default_features();
        install(&mut builder);
        let ctx = datafusion::prelude::SessionContext::new_with_state(builder.build());
        let df = ctx
            .sql(
                "SELECT extract(year FROM d) AS y, date_part('month', d) AS m \
                  FROM (VALUES (DATE '2024-02-29')) t(d)",
            )
            .await
            .unwrap();
        let mut ours = 0;
        let LogicalPlan::Projection(p) = df.logical_plan() else {
            panic!("{}", df.logical_plan());
        };
        for e in &p.expr {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e {
                    assert!(f.func.inner().is::<DatePart>(), "{}", f.func.name());
                    ours += 1;
                }
                Ok(TreeNodeRecursion::Continue)
            })
            .unwrap();
        }
        assert_eq!(ours, 2);
        let rows = df.collect().await.unwrap();
        assert_eq!(
            datafusion::arrow::util::pretty::pretty_format_batches(&rows)
                .unwrap()
                .to_string()
                .lines()
                .nth(3)
                .unwrap(),
            "| 2024 | 2 |"
        );
    }

    /// Every day from 1600 to 2400, leap days and nulls included, gives what
    /// DataFusion's own function gives, in every spelling taken here.
    #[test]
    fn agrees_with_datafusion_on_every_day_of_eight_centuries() {
        let from = zhenjie_udfs::calendar::days_from_civil(1600, 1, 1);
        let to = zhenjie_udfs::calendar::days_from_civil(2400, 12, 31);
        let days: ArrayRef = Arc::new(Date32Array::from_iter((from..=to).map(|d| {
            if d % 1000 == 7 {
                None
            } else {
                Some(d)
            }
        })));
        let ours = DatePart::udf();
        let theirs = datafusion::functions::datetime::date_part();
        for part in ["year", "YEAR", "'month'", "Day", "years", "quarter", "doy"] {
            let a = run(&ours, part, &days);
            let b = run(&theirs, part, &days);
            assert_eq!(a.as_ref(), b.as_ref(), "{part}");
        }
    }
}
