//! `birth_year(date)`: generalises a birth date to its year.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::args::{signature, Arg};
use crate::common::arrays::{dates, invoke, prim_at, prim_rows};
use crate::common::dates::civil_from_days;
use crate::common::docs::MASKING;

/// Generalises a birth date to its year: what a role that needs age bands
/// but not identities may see (a full birth date next to a masked identity
/// number would undo the mask).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BirthYearFunc {
    signature: Signature,
}

impl Default for BirthYearFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl BirthYearFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Date]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "The year of a date, as an integer: the generalisation governance applies to birth \
         dates, which would otherwise undo an identity-number mask shown beside them. \
         Timestamps and date text are accepted.",
        "birth_year(date)",
    )
    .with_sql_example(
        r#"```sql
> select birth_year(DATE '1949-12-31') as year, birth_year(id_birth_date('11010519491231002X')) as from_id;
+------+---------+
| year | from_id |
+------+---------+
| 1949 | 1949    |
+------+---------+
```"#,
    )
    .with_argument("date", "A date (or timestamp).")
    .with_related_udf("mask_id_number")
    .build()
});

impl ScalarUDFImpl for BirthYearFunc {
    fn name(&self) -> &str {
        "birth_year"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let days = dates(&a[0])?;
            Ok(prim_rows::<Int32Type>(days.len(), |i| {
                prim_at(&days, i).map(|d| civil_from_days(d).0)
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
