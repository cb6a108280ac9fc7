//! `mask_id_number(id)`, `mask_phone(phone)`, `mask_name(name)`: the display
//! masks governance applies to columns a role may see only in part.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{mask_id_number_into, mask_name_into, mask_phone_into};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::MASKING;

/// Which display mask an instance applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaskKind {
    /// `mask_id_number`
    IdNumber,
    /// `mask_phone`
    Phone,
    /// `mask_name`
    Name,
}

/// A display mask as a SQL function; governance rewrites a protected column
/// `c` into `mask_…(c)` for roles that may only see it partly.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaskFunc {
    kind: MaskKind,
    signature: Signature,
}

impl MaskFunc {
    pub fn new(kind: MaskKind) -> Self {
        Self {
            kind,
            signature: signature(&[Arg::Str]),
        }
    }
}

static ID_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "Masks an identity number for display: the 6-digit area code and the last 4 \
         characters are kept, the birth date and the rest hidden (370602********1234); the \
         legacy 15-digit form keeps 6 and 3. Spaces are dropped and full-width digits \
         folded first. Any other length is masked entirely, so a short or malformed value \
         never shows through. Note that the last 4 are the sequence and check digits: do not \
         show an unmasked birth date beside this mask (use birth_year).",
        "mask_id_number(id)",
    )
    .with_sql_example(
        r#"```sql
> select mask_id_number('370602199001011234') as id, mask_id_number('123') as odd;
+--------------------+-----+
| id                 | odd |
+--------------------+-----+
| 370602********1234 | *** |
+--------------------+-----+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("birth_year")
    .build()
});

static PHONE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "Masks a phone number for display, from its digits once +86/0086 and separators are \
         removed: 11 or more digits keep the first 3 and the last 4 (138****5678); 7 to 10 \
         digits keep only the last 2; shorter values are masked entirely.",
        "mask_phone(phone)",
    )
    .with_sql_example(
        r#"```sql
> select mask_phone('13812345678') as mobile, mask_phone('+86 138-1234-5678') as formatted;
+-------------+-------------+
| mobile      | formatted   |
+-------------+-------------+
| 138****5678 | 138****5678 |
+-------------+-------------+
```"#,
    )
    .with_argument("phone", "Phone number as text.")
    .build()
});

static NAME_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "Masks a personal name for display: 张* for two characters, 张*三 for three, first \
         and last kept for longer names (欧**娜), * for one character. Spaces are dropped \
         first.",
        "mask_name(name)",
    )
    .with_sql_example(
        r#"```sql
> select mask_name('张三') as two, mask_name('张小三') as three;
+-----+-------+
| two | three |
+-----+-------+
| 张* | 张*三 |
+-----+-------+
```"#,
    )
    .with_argument("name", "Personal name as text.")
    .build()
});

impl ScalarUDFImpl for MaskFunc {
    fn name(&self) -> &str {
        match self.kind {
            MaskKind::IdNumber => "mask_id_number",
            MaskKind::Phone => "mask_phone",
            MaskKind::Name => "mask_name",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mask: fn(&str, &mut String) = match self.kind {
            MaskKind::IdNumber => mask_id_number_into,
            MaskKind::Phone => mask_phone_into,
            MaskKind::Name => mask_name_into,
        };
        invoke(args, |a| {
            let values = Strs::new(&a[0])?;
            Ok(str_rows(
                values.len(),
                values.byte_hint(),
                |i, buf| match values.get(i) {
                    None => Emit::Null,
                    Some(s) => {
                        mask(s, buf);
                        Emit::Buf
                    }
                },
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            MaskKind::IdNumber => &ID_DOC,
            MaskKind::Phone => &PHONE_DOC,
            MaskKind::Name => &NAME_DOC,
        })
    }
}
