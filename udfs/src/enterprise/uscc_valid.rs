//! `uscc_valid(code)` and `uscc_invalid_reason(code)`.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{uscc_is_valid, uscc_validate};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{bool_keep_nulls, invoke, str_rows, Emit, Strs};
use crate::common::docs::CREDIT_CODE;

/// Validates Unified Social Credit Codes, the key of the one-enterprise-one-
/// file profile.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UsccValidFunc {
    signature: Signature,
}

impl Default for UsccValidFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl UsccValidFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static VALID_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "True if the value is a valid Unified Social Credit Code (GB 32100): 18 characters \
         from 0-9 and A-Z without I, O, S, V, Z; a known registration department; a \
         division code in characters 3-8; a correct check character; and an embedded \
         organisation code (characters 9-17) that passes its own GB 11714 check. Spaces, \
         full-width characters and lower case are tolerated.",
        "uscc_valid(code)",
    )
    .with_sql_example(
        r#"```sql
> select uscc_valid('91350100M000100Y43') as ok, uscc_valid('91350100M000100Y42') as typo;
+------+-------+
| ok   | typo  |
+------+-------+
| true | false |
+------+-------+
```"#,
    )
    .with_argument("code", "Credit code as text.")
    .with_related_udf("uscc_invalid_reason")
    .build()
});

impl ScalarUDFImpl for UsccValidFunc {
    fn name(&self) -> &str {
        "uscc_valid"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            Ok(bool_keep_nulls(&Strs::new(&a[0])?, uscc_is_valid))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&VALID_DOC)
    }
}

/// Says why a credit code is invalid: real registers hold old registration
/// numbers, bare organisation codes and typos, each needing a different fix.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UsccInvalidReasonFunc {
    signature: Signature,
}

impl Default for UsccInvalidReasonFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl UsccInvalidReasonFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static REASON_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "The first check a credit code fails, or NULL if it is valid: \
         'old_registration_number' (a 15-digit 工商注册号 from before 2015), \
         'organization_code_only' (a bare GB 11714 organisation code), 'length', \
         'characters' (I, O, S, V, Z or punctuation), 'department' (unknown first \
         character), 'area' (characters 3-8 are not a division code), 'check_digit' \
         (18th character wrong: usually a typo) or 'org_code' (the embedded organisation \
         code fails its own check).",
        "uscc_invalid_reason(code)",
    )
    .with_sql_example(
        r#"```sql
> select uscc_invalid_reason('370602200012345') as old, uscc_invalid_reason('M000100Y-4') as org, uscc_invalid_reason('91350100M000100Y42') as typo;
+-------------------------+------------------------+-------------+
| old                     | org                    | typo        |
+-------------------------+------------------------+-------------+
| old_registration_number | organization_code_only | check_digit |
+-------------------------+------------------------+-------------+
```"#,
    )
    .with_argument("code", "Credit code as text.")
    .with_related_udf("uscc_valid")
    .build()
});

impl ScalarUDFImpl for UsccInvalidReasonFunc {
    fn name(&self) -> &str {
        "uscc_invalid_reason"
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
            Ok(str_rows(codes.len(), codes.len() * 4, |i, _| {
                match codes.get(i).map(uscc_validate) {
                    Some(Err(reason)) => Emit::Str(reason.as_str()),
                    _ => Emit::Null,
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&REASON_DOC)
    }
}
