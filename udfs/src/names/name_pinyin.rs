//! `name_pinyin(name)` and `name_pinyin_initials(name)`: blocking keys.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::pinyin::pinyin_into;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::NAMES;

/// Pinyin keys bring together records whose names were typed with
/// different (homophone) characters, so that candidate pairs can be formed
/// without comparing every pair ("blocking").
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NamePinyinFunc {
    initials: bool,
    signature: Signature,
}

impl NamePinyinFunc {
    /// `initials` selects `name_pinyin_initials` instead of `name_pinyin`.
    pub fn new(initials: bool) -> Self {
        Self {
            initials,
            signature: signature(&[Arg::Str]),
        }
    }
}

static PINYIN_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "The toneless pinyin of a name, lower case, syllables separated by spaces, with the \
         surname read as a surname (曾 zeng, 单 shan, 解 xie, 仇 qiu, 区 ou, 朴 piao, 尉迟 \
         yu chi, …) and traditional characters read like simplified ones; Latin words are \
         kept lower-cased. Use it for blocking candidate pairs, never alone for matching: \
         different names share a pinyin (张伟 / 张卫).",
        "name_pinyin(name)",
    )
    .with_sql_example(
        r#"```sql
> select name_pinyin('曾小贤') as zeng, name_pinyin('單田芳') as shan, name_pinyin('张伟') = name_pinyin('张卫') as homophones;
+----------------+----------------+------------+
| zeng           | shan           | homophones |
+----------------+----------------+------------+
| zeng xiao xian | shan tian fang | true       |
+----------------+----------------+------------+
```"#,
    )
    .with_argument("name", "Personal name as text.")
    .with_related_udf("name_pinyin_initials")
    .with_related_udf("name_match_level")
    .build()
});

static INITIALS_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "The first letters of the pinyin syllables of a name (and of Latin words), with the \
         same surname readings as name_pinyin: a coarse blocking key that also tolerates a \
         wrongly typed final (张伟 / 张威 → zw).",
        "name_pinyin_initials(name)",
    )
    .with_sql_example(
        r#"```sql
> select name_pinyin_initials('张小伟') as initials, name_pinyin_initials('区小明') as surname_ou;
+----------+------------+
| initials | surname_ou |
+----------+------------+
| zxw      | oxm        |
+----------+------------+
```"#,
    )
    .with_argument("name", "Personal name as text.")
    .with_related_udf("name_pinyin")
    .build()
});

impl ScalarUDFImpl for NamePinyinFunc {
    fn name(&self) -> &str {
        if self.initials {
            "name_pinyin_initials"
        } else {
            "name_pinyin"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let initials = self.initials;
        invoke(args, |a| {
            let names = Strs::new(&a[0])?;
            Ok(str_rows(
                names.len(),
                names.len() * 12,
                |i, buf| match names.get(i) {
                    None => Emit::Null,
                    Some(s) => {
                        pinyin_into(s, initials, buf);
                        Emit::Buf
                    }
                },
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.initials {
            &INITIALS_DOC
        } else {
            &PINYIN_DOC
        })
    }
}
