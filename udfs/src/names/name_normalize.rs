//! `name_normalize(name)`: one written form per personal name.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::name_normalize_into;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::NAMES;

/// Normalises names so that formatting differences between departments'
/// registers (full-width, spaces, dots, traditional characters) disappear.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NameNormalizeFunc {
    signature: Signature,
}

impl Default for NameNormalizeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl NameNormalizeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "Normalises a personal name: full-width characters folded, traditional characters \
         simplified (張偉 → 张伟), Latin letters upper-cased, spaces removed between Chinese \
         characters and collapsed between Latin words, and the many middle-dot look-alikes \
         (•, ‧, ・, ., …) in transliterated names written as · (阿卜杜·热合曼).",
        "name_normalize(name)",
    )
    .with_sql_example(
        r#"```sql
> select name_normalize(' 張 偉 ') as trad, name_normalize('阿卜杜 • 热合曼') as dotted, name_normalize('ｊｏｈｎ  smith') as latin;
+------+---------------+------------+
| trad | dotted        | latin      |
+------+---------------+------------+
| 张伟 | 阿卜杜·热合曼 | JOHN SMITH |
+------+---------------+------------+
```"#,
    )
    .with_argument("name", "Personal name as text.")
    .with_related_udf("name_match_level")
    .build()
});

impl ScalarUDFImpl for NameNormalizeFunc {
    fn name(&self) -> &str {
        "name_normalize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let names = Strs::new(&a[0])?;
            let mut scratch = Vec::new();
            Ok(str_rows(
                names.len(),
                names.byte_hint(),
                |i, buf| match names.get(i) {
                    None => Emit::Null,
                    Some(s) => {
                        name_normalize_into(s, &mut scratch, buf);
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
