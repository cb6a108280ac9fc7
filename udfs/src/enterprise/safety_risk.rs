//! `safety_risk_grade(inspections, hazards, major_hazards, overdue)`.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::profile_rules::safety_risk_grade;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{ints, invoke, prim_at, str_rows, Emit};
use crate::common::docs::ENTERPRISE;

/// Grades an enterprise's safety risk from counts over its inspection
/// history, for the 安全生产 view of the one-enterprise-one-file profile and
/// for choosing whom to remind first.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SafetyRiskGradeFunc {
    signature: Signature,
}

impl Default for SafetyRiskGradeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SafetyRiskGradeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Int, Arg::Int, Arg::Int, Arg::Int]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        ENTERPRISE,
        "Grades an enterprise's safety risk (four-colour grading) from its inspection history \
         over the period you select: 重大风险 (red) if a major hazard was not rectified in time \
         (major_hazards ≥ 1 and overdue ≥ 1) or there were 3 or more major hazards; 较大风险 \
         (orange) for any major hazard, 3 or more overdue rectifications, or 2 or more hazards \
         per inspection on average; 一般风险 (yellow) for any overdue rectification or 0.5 or \
         more hazards per inspection; 低风险 (blue) otherwise; 未评级 if there were no \
         inspections and nothing found. NULL if an argument is NULL or negative. Feed it the \
         aggregates of an inspection table grouped by credit code.",
        "safety_risk_grade(inspections, hazards, major_hazards, overdue)",
    )
    .with_sql_example(
        r#"```sql
> select uscc, safety_risk_grade(count(*), sum(hazards), sum(major), sum(overdue)) as grade from (values ('A', 2, 1, 1), ('A', 0, 0, 0), ('B', 1, 0, 0), ('B', 0, 0, 0), ('B', 0, 0, 0)) as inspections(uscc, hazards, major, overdue) group by uscc order by uscc;
+------+----------+
| uscc | grade    |
+------+----------+
| A    | 重大风险 |
| B    | 低风险   |
+------+----------+
```"#,
    )
    .with_argument("inspections", "Number of inspections.")
    .with_argument("hazards", "Number of hazards found (all levels).")
    .with_argument("major_hazards", "Number of major hazards (重大隐患) found.")
    .with_argument("overdue", "Number of rectifications not completed by their deadline.")
    .build()
});

impl ScalarUDFImpl for SafetyRiskGradeFunc {
    fn name(&self) -> &str {
        "safety_risk_grade"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let cols = [ints(&a[0])?, ints(&a[1])?, ints(&a[2])?, ints(&a[3])?];
            Ok(str_rows(cols[0].len(), cols[0].len() * 12, |i, _| {
                let v = |k: usize| prim_at(&cols[k], i);
                let (Some(n), Some(h), Some(m), Some(o)) = (v(0), v(1), v(2), v(3)) else {
                    return Emit::Null;
                };
                safety_risk_grade(n, h, m, o).map_or(Emit::Null, Emit::Str)
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
