//! `phone_normalize(phone [, default_area])`: one form per phone number.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::phone_normalize_into;
use crate::common::args::{signature_variants, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::PHONES;

/// Puts phone numbers into one form so that contact data from different
/// systems joins and deduplicates.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PhoneNormalizeFunc {
    signature: Signature,
}

impl Default for PhoneNormalizeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PhoneNormalizeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature_variants(&[&[Arg::Str], &[Arg::Str, Arg::Str]]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PHONES,
        "Normalises a phone number: removes +86/0086, spaces, hyphens, brackets and \
         full-width digits; keeps the first number of a list (138…/139…) and drops \
         extensions (转801, ext); writes mobiles as 11 digits, fixed lines as \
         area-subscriber (0535-6123456, also from +86 535 6123456), 400/800 numbers as \
         400-123-4567. With default_area, a local fixed-line number without area code gets \
         it (NULL default_area means none). A value that is not a valid number is returned \
         as its digits, not dropped (see phone_valid).",
        "phone_normalize(phone [, default_area])",
    )
    .with_sql_example(
        r#"```sql
> select phone_normalize('+86 138-1234-5678') as mobile, phone_normalize('(0535)6123456转801') as landline, phone_normalize('6123456', '0535') as local;
+-------------+--------------+--------------+
| mobile      | landline     | local        |
+-------------+--------------+--------------+
| 13812345678 | 0535-6123456 | 0535-6123456 |
+-------------+--------------+--------------+
```"#,
    )
    .with_argument("phone", "Phone number as text.")
    .with_argument("default_area", "Optional area code (e.g. '0535') for local numbers.")
    .with_related_udf("phone_valid")
    .build()
});

impl ScalarUDFImpl for PhoneNormalizeFunc {
    fn name(&self) -> &str {
        "phone_normalize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let phones = Strs::new(&a[0])?;
            let areas = a.get(1).map(Strs::new).transpose()?;
            Ok(str_rows(
                phones.len(),
                phones.len() * 12,
                |i, buf| match phones.get(i) {
                    None => Emit::Null,
                    Some(s) => {
                        phone_normalize_into(s, areas.as_ref().and_then(|a| a.get(i)), buf);
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
