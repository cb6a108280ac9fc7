//! `id_invalid_reason(id)`: why an identity number is not valid.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::id_validate;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::IDENTITY;

/// Explains a failed identity-number validation, so data stewards can fix
/// the source rather than just drop the row.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdInvalidReasonFunc {
    signature: Signature,
}

impl Default for IdInvalidReasonFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdInvalidReasonFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "The first check an identity number fails, or NULL if it is valid: 'length' (not 18 \
         or 15 characters once spaces are removed), 'characters' (anything but digits and a \
         final X), 'date' (birth date not a real date), 'area' (unknown province code) or \
         'check_digit' (the 18th character does not match).",
        "id_invalid_reason(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_invalid_reason('110105194902300021') as date, id_invalid_reason('110105194912310021') as check_digit, id_invalid_reason('11010519491231002X') as valid;
+------+-------------+-------+
| date | check_digit | valid |
+------+-------------+-------+
| date | check_digit |       |
+------+-------------+-------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("id_valid")
    .build()
});

impl ScalarUDFImpl for IdInvalidReasonFunc {
    fn name(&self) -> &str {
        "id_invalid_reason"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let ids = Strs::new(&a[0])?;
            Ok(str_rows(ids.len(), ids.len() * 4, |i, _| {
                match ids.get(i).map(id_validate) {
                    Some(Err(reason)) => Emit::Str(reason.as_str()),
                    _ => Emit::Null,
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
