//! `jaro_winkler(a, b)` and `levenshtein_similarity(a, b)`: general string
//! similarity over characters.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::strsim::{jaro_winkler_with, levenshtein_similarity_with, Scratch};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, prim_rows, Strs};
use crate::common::docs::NAMES;

/// Which general similarity an instance computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringSimilarity {
    /// `jaro_winkler`
    JaroWinkler,
    /// `levenshtein_similarity`
    Levenshtein,
}

/// General-purpose similarity scores for text other than personal names
/// (company names, addresses, free text), normalised to [0, 1].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StringSimilarityFunc {
    kind: StringSimilarity,
    signature: Signature,
}

impl StringSimilarityFunc {
    pub fn new(kind: StringSimilarity) -> Self {
        Self {
            kind,
            signature: signature(&[Arg::Str, Arg::Str]),
        }
    }
}

static JW_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "Jaro-Winkler similarity of two strings in [0, 1], over Unicode characters (prefix \
         scale 0.1, up to 4 characters); 1 for equal strings. Good for Latin-script names \
         and short codes; for Chinese personal names use name_similarity: on two characters \
         it ranks the homophone 张伟 / 章伟 (0.667) below the unrelated 张伟 / 张三 (0.7).",
        "jaro_winkler(a, b)",
    )
    .with_sql_example(
        r#"```sql
> select round(jaro_winkler('MARTHA', 'MARHTA'), 3) as jw, round(jaro_winkler('张伟', '章伟'), 3) as short_name;
+-------+------------+
| jw    | short_name |
+-------+------------+
| 0.961 | 0.667      |
+-------+------------+
```"#,
    )
    .with_argument("a", "A string.")
    .with_argument("b", "Another string.")
    .with_related_udf("levenshtein_similarity")
    .with_related_udf("name_similarity")
    .build()
});

static LEV_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        NAMES,
        "Levenshtein similarity of two strings in [0, 1]: 1 − edit distance / length of the \
         longer string, both in Unicode characters (DataFusion's levenshtein gives the raw \
         distance); 1 for two empty strings.",
        "levenshtein_similarity(a, b)",
    )
    .with_sql_example(
        r#"```sql
> select levenshtein_similarity('kitten', 'sitting') as latin, round(levenshtein_similarity('烟台市芝罘区', '烟台芝罘区'), 3) as chinese;
+--------------------+---------+
| latin              | chinese |
+--------------------+---------+
| 0.5714285714285714 | 0.833   |
+--------------------+---------+
```"#,
    )
    .with_argument("a", "A string.")
    .with_argument("b", "Another string.")
    .with_related_udf("jaro_winkler")
    .build()
});

impl ScalarUDFImpl for StringSimilarityFunc {
    fn name(&self) -> &str {
        match self.kind {
            StringSimilarity::JaroWinkler => "jaro_winkler",
            StringSimilarity::Levenshtein => "levenshtein_similarity",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let f = match self.kind {
            StringSimilarity::JaroWinkler => jaro_winkler_with,
            StringSimilarity::Levenshtein => levenshtein_similarity_with,
        };
        invoke(args, |a| {
            let (left, right) = (Strs::new(&a[0])?, Strs::new(&a[1])?);
            let mut scratch = Scratch::default();
            Ok(prim_rows::<Float64Type>(left.len(), |i| {
                Some(f(&mut scratch, left.get(i)?, right.get(i)?))
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            StringSimilarity::JaroWinkler => &JW_DOC,
            StringSimilarity::Levenshtein => &LEV_DOC,
        })
    }
}
