//! `name_similarity(a, b)` and `name_match_level(a, b)`: comparing personal
//! names, built for two- and three-character Chinese names.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{name_match_level_with, name_similarity_with, NameScratch};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, prim_rows, Strs};
use crate::common::docs::NAMES;

/// Which name comparison an instance computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameCompare {
    /// `name_similarity`: a score in [0, 1].
    Similarity,
    /// `name_match_level`: an agreement level 0-4.
    MatchLevel,
}

/// Compares two names the way record linkage needs: identical, homophone,
/// similar-sounding, or different, with traditional = simplified.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NameCompareFunc {
    kind: NameCompare,
    signature: Signature,
}

impl NameCompareFunc {
    pub fn new(kind: NameCompare) -> Self {
        Self {
            kind,
            signature: signature(&[Arg::Str, Arg::Str]),
        }
    }
}

static SIMILARITY_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "Similarity of two personal names in [0, 1]. Both are normalised (traditional = \
         simplified, spaces, dots, full-width) and aligned character by character; a \
         substitution costs 0.2 for a homophone (same toneless pinyin, with surname \
         readings), 0.4 for a similar sound (zh/z, ch/c, sh/s, n/l, -ng/-n) and 1 otherwise, \
         an insertion or deletion 1; the score is 1 − cost / length of the longer name. So a \
         two-character name with one homophone scores 0.9 (张伟 / 章伟) and one with an \
         unrelated character 0.5 (张伟 / 张三), where character Jaro-Winkler gives 0.667 and \
         0.7. Latin-script names are \
         compared with Jaro-Winkler, and a Chinese name with a romanised one by their \
         pinyin. Empty names score 0.",
        "name_similarity(a, b)",
    )
    .with_sql_example(
        r#"```sql
> select name_similarity('张伟', '章伟') as homophone, name_similarity('張偉', '张伟') as traditional, name_similarity('张伟', '张三') as different;
+-----------+-------------+-----------+
| homophone | traditional | different |
+-----------+-------------+-----------+
| 0.9       | 1.0         | 0.5       |
+-----------+-------------+-----------+
```"#,
    )
    .with_argument("a", "A personal name.")
    .with_argument("b", "Another personal name.")
    .with_related_udf("name_match_level")
    .with_related_udf("jaro_winkler")
    .build()
});

static LEVEL_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "The agreement level of two personal names, for record linkage (each level gets its \
         own weight): 4 exact after normalisation (張偉 = 张伟); 3 same pinyin at every \
         position (homophones 张伟 / 章伟 — distinct names can share it, which is why it is \
         below 4); 2 close: similar sounds (陈明 / 程明, 刘洋 / 牛洋) or one character added \
         or dropped in a name of three or more (张伟 / 张小伟); 1 same surname and a shared \
         given-name character or sound (张小伟 / 张晓明); 0 otherwise or if either name is \
         empty. Latin-script or romanised names are graded by Jaro-Winkler (3 ≥ 0.999, \
         2 ≥ 0.92, 1 ≥ 0.85).",
        "name_match_level(a, b)",
    )
    .with_sql_example(
        r#"```sql
> select name_match_level('張偉', '张伟') as exact, name_match_level('张伟', '章伟') as pinyin, name_match_level('张伟', '张小伟') as close, name_match_level('张伟', '李伟') as different;
+-------+--------+-------+-----------+
| exact | pinyin | close | different |
+-------+--------+-------+-----------+
| 4     | 3      | 2     | 0         |
+-------+--------+-------+-----------+
```"#,
    )
    .with_argument("a", "A personal name.")
    .with_argument("b", "Another personal name.")
    .with_related_udf("name_similarity")
    .with_related_udf("name_pinyin")
    .build()
});

impl ScalarUDFImpl for NameCompareFunc {
    fn name(&self) -> &str {
        match self.kind {
            NameCompare::Similarity => "name_similarity",
            NameCompare::MatchLevel => "name_match_level",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            NameCompare::Similarity => DataType::Float64,
            NameCompare::MatchLevel => DataType::Int32,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        invoke(args, |a| {
            let (left, right) = (Strs::new(&a[0])?, Strs::new(&a[1])?);
            let mut scratch = NameScratch::default();
            Ok(match kind {
                NameCompare::Similarity => prim_rows::<Float64Type>(left.len(), |i| {
                    Some(name_similarity_with(
                        &mut scratch,
                        left.get(i)?,
                        right.get(i)?,
                    ))
                }),
                NameCompare::MatchLevel => prim_rows::<Int32Type>(left.len(), |i| {
                    Some(name_match_level_with(
                        &mut scratch,
                        left.get(i)?,
                        right.get(i)?,
                    ))
                }),
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            NameCompare::Similarity => &SIMILARITY_DOC,
            NameCompare::MatchLevel => &LEVEL_DOC,
        })
    }
}
