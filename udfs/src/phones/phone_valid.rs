//! `phone_valid(phone [, default_area])` and `phone_type(phone [, default_area])`.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::phone_parse;
use crate::common::args::{signature_variants, Arg};
use crate::common::arrays::{bool_keep_nulls, bool_rows, invoke, str_rows, Emit, Strs};
use crate::common::docs::PHONES;

/// Which phone check an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneCheck {
    /// `phone_valid`
    Valid,
    /// `phone_type`
    Type,
}

/// Checks and classifies phone numbers: contact-data quality reports and
/// choosing who can receive a text message (mobiles only).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PhoneCheckFunc {
    check: PhoneCheck,
    signature: Signature,
}

impl PhoneCheckFunc {
    pub fn new(check: PhoneCheck) -> Self {
        Self {
            check,
            signature: signature_variants(&[&[Arg::Str], &[Arg::Str, Arg::Str]]),
        }
    }
}

static VALID_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PHONES,
        "True if the value (its first number, see phone_normalize) is a valid mainland \
         number: an 11-digit mobile starting 13-19, a fixed line with a well-formed area code \
         (010, 02x or 0xxx) and a 7-8 digit subscriber number not starting with 0 or 1, a \
         400/800 number, or a short service number (110, 95588, 12345, …). A local number \
         without area code is valid only with default_area.",
        "phone_valid(phone [, default_area])",
    )
    .with_sql_example(
        r#"```sql
> select phone_valid('13812345678') as mobile, phone_valid('1381234567') as short, phone_valid('6123456') as local, phone_valid('6123456', '0535') as with_area;
+--------+-------+-------+-----------+
| mobile | short | local | with_area |
+--------+-------+-------+-----------+
| true   | false | false | true      |
+--------+-------+-------+-----------+
```"#,
    )
    .with_argument("phone", "Phone number as text.")
    .with_argument("default_area", "Optional area code for local numbers.")
    .with_related_udf("phone_normalize")
    .with_related_udf("phone_type")
    .build()
});

static TYPE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PHONES,
        "The kind of a phone number: 'mobile', 'landline' or 'service' (400/800 and short \
         service numbers); NULL if it is not a valid number.",
        "phone_type(phone [, default_area])",
    )
    .with_sql_example(
        r#"```sql
> select phone_type('13812345678') as a, phone_type('0535-6123456') as b, phone_type('95588') as c, phone_type('123') as d;
+--------+----------+---------+---+
| a      | b        | c       | d |
+--------+----------+---------+---+
| mobile | landline | service |   |
+--------+----------+---------+---+
```"#,
    )
    .with_argument("phone", "Phone number as text.")
    .with_argument("default_area", "Optional area code for local numbers.")
    .with_related_udf("phone_valid")
    .build()
});

impl ScalarUDFImpl for PhoneCheckFunc {
    fn name(&self) -> &str {
        match self.check {
            PhoneCheck::Valid => "phone_valid",
            PhoneCheck::Type => "phone_type",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.check {
            PhoneCheck::Valid => DataType::Boolean,
            PhoneCheck::Type => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let check = self.check;
        invoke(args, |a| {
            let phones = Strs::new(&a[0])?;
            let areas = a.get(1).map(Strs::new).transpose()?;
            let area = |i: usize| areas.as_ref().and_then(|a| a.get(i));
            Ok(match (check, &areas) {
                (PhoneCheck::Valid, None) => {
                    bool_keep_nulls(&phones, |s| phone_parse(s, None).is_some())
                }
                (PhoneCheck::Valid, Some(_)) => bool_rows(phones.len(), |i| {
                    Some(phone_parse(phones.get(i)?, area(i)).is_some())
                }),
                (PhoneCheck::Type, _) => str_rows(phones.len(), phones.len() * 6, |i, _| {
                    match phones.get(i).and_then(|s| phone_parse(s, area(i))) {
                        Some(p) => Emit::Str(p.kind.as_str()),
                        None => Emit::Null,
                    }
                }),
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.check {
            PhoneCheck::Valid => &VALID_DOC,
            PhoneCheck::Type => &TYPE_DOC,
        })
    }
}
