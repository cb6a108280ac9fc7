//! `id_area_code(id)`: the area code of first registration.

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

/// The 6-digit area code of first registration, to join the division-code
/// lineage table (retired codes such as 370684 map to current areas there).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdAreaCodeFunc {
    signature: Signature,
}

impl Default for IdAreaCodeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdAreaCodeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "The 6-digit administrative area code of first registration (the first six digits) \
         of a valid identity number; NULL if the number is not valid. The code is where the \
         person was first registered, not where they live, and may be a retired code \
         (e.g. 370684 蓬莱市, now 370614): join a code-lineage table, do not drop it.",
        "id_area_code(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_area_code('11010519491231002X') as area;
+--------+
| area   |
+--------+
| 110105 |
+--------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .build()
});

impl ScalarUDFImpl for IdAreaCodeFunc {
    fn name(&self) -> &str {
        "id_area_code"
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
            Ok(str_rows(ids.len(), ids.len() * 6, |i, buf| {
                match ids.get(i).map(id_validate) {
                    Some(Ok(info)) => {
                        buf.extend(info.area.iter().map(|&b| b as char));
                        Emit::Buf
                    }
                    _ => Emit::Null,
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
