//! `uscc_normalize(code)`: the canonical form of a credit code.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::code_normalize_into;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::CREDIT_CODE;

/// Puts credit codes into one form so that twenty departments' enterprise
/// records join on them.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UsccNormalizeFunc {
    signature: Signature,
}

impl Default for UsccNormalizeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl UsccNormalizeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "Normalises a credit code: removes spaces and hyphens, folds full-width characters \
         and upper-cases letters. It does not guess at look-alike letters (O for 0, I for 1): \
         such a code stays invalid so that it gets checked. The result is not necessarily \
         valid (see uscc_valid).",
        "uscc_normalize(code)",
    )
    .with_sql_example(
        r#"```sql
> select uscc_normalize(' 91350100m000100y43 ') as code;
+--------------------+
| code               |
+--------------------+
| 91350100M000100Y43 |
+--------------------+
```"#,
    )
    .with_argument("code", "Credit code as text.")
    .with_related_udf("uscc_valid")
    .build()
});

impl ScalarUDFImpl for UsccNormalizeFunc {
    fn name(&self) -> &str {
        "uscc_normalize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let codes = Strs::new(&a[0])?;
            Ok(str_rows(
                codes.len(),
                codes.len() * 18,
                |i, buf| match codes.get(i) {
                    None => Emit::Null,
                    // Most values are already canonical: copy them through.
                    Some(s)
                        if s.len() == 18
                            && s.bytes()
                                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) =>
                    {
                        Emit::Str(s)
                    }
                    Some(s) => {
                        code_normalize_into(s, buf);
                        Emit::Buf
                    }
                },
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
