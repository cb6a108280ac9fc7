//! `id_age(id, at)`: age in whole years at a date, from an identity number.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::id_validate;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{dates, invoke, prim_at, prim_rows, Strs};
use crate::common::dates::{age_at, civil_from_days};
use crate::common::docs::IDENTITY;

/// Age at a reference date, the basis of most 政策找人 screening rules
/// ("aged 80 or over on 1 January").
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdAgeFunc {
    signature: Signature,
}

impl Default for IdAgeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdAgeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str, Arg::Date]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "Age in whole years on the given date of the person an identity number belongs to \
         (birthdays count on the day). NULL if the number is not valid or the date is before \
         the birth date. Pass current_date for today's age; a fixed date keeps reports \
         reproducible.",
        "id_age(id, at)",
    )
    .with_sql_example(
        r#"```sql
> select id_age('11010519491231002X', DATE '2024-12-30') as age, id_age('11010519491231002X', DATE '2024-12-31') as on_birthday;
+-----+-------------+
| age | on_birthday |
+-----+-------------+
| 74  | 75          |
+-----+-------------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_argument("at", "The date at which to compute the age.")
    .with_related_udf("id_birth_date")
    .build()
});

impl ScalarUDFImpl for IdAgeFunc {
    fn name(&self) -> &str {
        "id_age"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let ids = Strs::new(&a[0])?;
            let at = dates(&a[1])?;
            Ok(prim_rows::<Int32Type>(ids.len(), |i| {
                let day = prim_at(&at, i)?;
                let info = id_validate(ids.get(i)?).ok()?;
                age_at(info.birth, civil_from_days(day))
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
