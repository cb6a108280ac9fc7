//! `id_normalize(id)`: the canonical 18-character form of an identity number.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{id_normalize_into, is_normalized_18};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::IDENTITY;

/// Puts identity numbers into one form so that they join: the key step
/// before matching two departments' lists.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdNormalizeFunc {
    signature: Signature,
}

impl Default for IdNormalizeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdNormalizeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "Normalises an identity number: removes spaces and hyphens, folds full-width digits \
         and letters, upper-cases x, and converts the legacy 15-digit form to 18 digits \
         (inserting 19 after the area code and computing the check digit). A value that is \
         not 15 or 18 digits is returned trimmed and folded, not dropped; the result is not \
         necessarily valid (see id_valid).",
        "id_normalize(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_normalize('110105491231002') as from15, id_normalize(' 11010519491231002x ') as lower_x;
+--------------------+--------------------+
| from15             | lower_x            |
+--------------------+--------------------+
| 11010519491231002X | 11010519491231002X |
+--------------------+--------------------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("id_valid")
    .build()
});

impl ScalarUDFImpl for IdNormalizeFunc {
    fn name(&self) -> &str {
        "id_normalize"
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
            Ok(str_rows(ids.len(), ids.len() * 18, |i, buf| {
                match ids.get(i) {
                    None => Emit::Null,
                    // Most values are already canonical: copy them straight through.
                    Some(s) if is_normalized_18(s) => Emit::Str(s),
                    Some(s) => {
                        id_normalize_into(s, buf);
                        Emit::Buf
                    }
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
