//! `id_valid(id)`: is this a valid resident identity number?

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::id_is_valid;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{bool_keep_nulls, invoke, Strs};
use crate::common::docs::IDENTITY;

/// Validates identity numbers: 18 characters with a correct check digit, or
/// the legacy 15-digit form; real calendar birth date; known province.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdValidFunc {
    signature: Signature,
}

impl Default for IdValidFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdValidFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "True if the value is a valid resident identity number (GB 11643): 18 characters \
         whose last is the check digit (0-9 or X), or the legacy 15-digit form; the birth \
         date must be a real calendar date (years 1800-2099) and the first two digits a \
         province-level code. Spaces, full-width digits and a lower-case x are tolerated. \
         Use id_invalid_reason to see why a number fails.",
        "id_valid(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_valid('11010519491231002X') as ok, id_valid('110105194912310021') as bad_check, id_valid('110105491231002') as legacy;
+------+-----------+--------+
| ok   | bad_check | legacy |
+------+-----------+--------+
| true | false     | true   |
+------+-----------+--------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("id_invalid_reason")
    .with_related_udf("id_normalize")
    .build()
});

impl ScalarUDFImpl for IdValidFunc {
    fn name(&self) -> &str {
        "id_valid"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            Ok(bool_keep_nulls(&Strs::new(&a[0])?, id_is_valid))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
