//! Resident identity numbers (公民身份号码, GB 11643-1999).
//!
//! The rules live in [`rules`] as plain functions over bytes (used by the
//! demo generator and the tests); each SQL function is one file.

mod id_age;
mod id_area_code;
mod id_birth_date;
mod id_invalid_reason;
mod id_normalize;
mod id_sex;
mod id_valid;
mod rules;

pub use id_age::IdAgeFunc;
pub use id_area_code::IdAreaCodeFunc;
pub use id_birth_date::IdBirthDateFunc;
pub use id_invalid_reason::IdInvalidReasonFunc;
pub use id_normalize::IdNormalizeFunc;
pub use id_sex::{IdSexCodeFunc, IdSexFunc};
pub use id_valid::IdValidFunc;
pub(crate) use rules::is_province_prefix;
pub use rules::{
    id_check_char, id_clean, id_is_valid, id_normalize_into, id_validate, IdBuf, IdInfo, IdInvalid,
    ID_WEIGHTS, MAX_BIRTH_YEAR, MIN_BIRTH_YEAR,
};

use crate::common::make_udf_function;

make_udf_function!(IdValidFunc, id_valid_udf);
make_udf_function!(IdInvalidReasonFunc, id_invalid_reason_udf);
make_udf_function!(IdNormalizeFunc, id_normalize_udf);
make_udf_function!(IdBirthDateFunc, id_birth_date_udf);
make_udf_function!(IdSexFunc, id_sex_udf);
make_udf_function!(IdSexCodeFunc, id_sex_code_udf);
make_udf_function!(IdAgeFunc, id_age_udf);
make_udf_function!(IdAreaCodeFunc, id_area_code_udf);

/// Every identity-number SQL function.
pub fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        id_valid_udf(),
        id_invalid_reason_udf(),
        id_normalize_udf(),
        id_birth_date_udf(),
        id_sex_udf(),
        id_sex_code_udf(),
        id_age_udf(),
        id_area_code_udf(),
    ]
}
