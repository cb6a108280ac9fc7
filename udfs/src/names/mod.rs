//! Personal names: normalisation, pinyin blocking keys, comparison built for
//! short Chinese names, and general string similarity.

mod name_normalize;
mod name_pinyin;
mod name_similarity;
mod pinyin;
mod rules;
mod string_similarity;
mod strsim;

pub use name_normalize::NameNormalizeFunc;
pub use name_pinyin::NamePinyinFunc;
pub use name_similarity::{NameCompare, NameCompareFunc};
pub use rules::{
    level, name_match_level, name_match_level_with, name_normalize, name_normalize_into,
    name_similarity, name_similarity_with, NameScratch,
};
pub use string_similarity::{StringSimilarity, StringSimilarityFunc};
pub use strsim::{
    jaro_winkler, jaro_winkler_with, levenshtein_similarity_with, levenshtein_with, Scratch,
};

/// The toneless pinyin of a name with surname readings (see `name_pinyin`).
pub fn name_pinyin(s: &str) -> String {
    let mut out = String::new();
    pinyin::pinyin_into(s, false, &mut out);
    out
}

use datafusion::logical_expr::ScalarUDF;

use crate::common::make_udf_function;

make_udf_function!(NameNormalizeFunc, name_normalize_udf);

/// Every name SQL function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        name_normalize_udf(),
        ScalarUDF::new_from_impl(NamePinyinFunc::new(false)),
        ScalarUDF::new_from_impl(NamePinyinFunc::new(true)),
        ScalarUDF::new_from_impl(NameCompareFunc::new(NameCompare::Similarity)),
        ScalarUDF::new_from_impl(NameCompareFunc::new(NameCompare::MatchLevel)),
        ScalarUDF::new_from_impl(StringSimilarityFunc::new(StringSimilarity::JaroWinkler)),
        ScalarUDF::new_from_impl(StringSimilarityFunc::new(StringSimilarity::Levenshtein)),
    ]
}
