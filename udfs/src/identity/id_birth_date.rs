//! `id_birth_date(id)`: the birth date encoded in an identity number.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::id_validate;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, prim_rows, Strs};
use crate::common::dates::days_from_civil;
use crate::common::docs::IDENTITY;

/// Reads the birth date from an identity number, for age-based policy rules
/// (elderly allowances, school-age children) when no birth-date column exists.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdBirthDateFunc {
    signature: Signature,
}

impl Default for IdBirthDateFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdBirthDateFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "The birth date encoded in an identity number (digits 7-14, or 7-12 with 19 prefixed \
         for the 15-digit form). NULL if the number is not valid: a date read from a mistyped \
         number would silently mislead age-based rules.",
        "id_birth_date(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_birth_date('11010519491231002X') as born, id_birth_date('110105491231002') as legacy;
+------------+------------+
| born       | legacy     |
+------------+------------+
| 1949-12-31 | 1949-12-31 |
+------------+------------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("id_age")
    .build()
});

impl ScalarUDFImpl for IdBirthDateFunc {
    fn name(&self) -> &str {
        "id_birth_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let ids = Strs::new(&a[0])?;
            Ok(prim_rows::<Date32Type>(ids.len(), |i| {
                let (y, m, d) = id_validate(ids.get(i)?).ok()?.birth;
                Some(days_from_civil(y, m, d))
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
