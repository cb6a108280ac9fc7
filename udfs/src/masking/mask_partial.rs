//! `mask_partial(text, keep_first, keep_last)`: a generic partial mask.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::mask_partial_into;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{ints, invoke, prim_at, str_rows, Emit, Strs};
use crate::common::docs::MASKING;

/// A partial mask for columns without a dedicated one (bank accounts,
/// licence plates, certificate numbers).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaskPartialFunc {
    signature: Signature,
}

impl Default for MaskPartialFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskPartialFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str, Arg::Int, Arg::Int]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "Masks a text keeping keep_first leading and keep_last trailing characters and \
         replacing each character in between by *. If the kept characters would cover the \
         whole value it is masked entirely: the function never returns a value unmasked. \
         Negative counts are treated as 0.",
        "mask_partial(text, keep_first, keep_last)",
    )
    .with_sql_example(
        r#"```sql
> select mask_partial('6222021234567890', 4, 4) as card, mask_partial('鲁F12345', 2, 0) as plate, mask_partial('abc', 2, 2) as short;
+------------------+----------+-------+
| card             | plate    | short |
+------------------+----------+-------+
| 6222********7890 | 鲁F***** | ***   |
+------------------+----------+-------+
```"#,
    )
    .with_argument("text", "The value to mask.")
    .with_argument("keep_first", "How many leading characters to keep.")
    .with_argument("keep_last", "How many trailing characters to keep.")
    .build()
});

impl ScalarUDFImpl for MaskPartialFunc {
    fn name(&self) -> &str {
        "mask_partial"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let values = Strs::new(&a[0])?;
            let first = ints(&a[1])?;
            let last = ints(&a[2])?;
            Ok(str_rows(values.len(), values.byte_hint(), |i, buf| {
                let (Some(s), Some(f), Some(l)) =
                    (values.get(i), prim_at(&first, i), prim_at(&last, i))
                else {
                    return Emit::Null;
                };
                let clamp = |v: i64| v.clamp(0, i64::from(u32::MAX)) as usize;
                mask_partial_into(s, clamp(f), clamp(l), buf);
                Emit::Buf
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
