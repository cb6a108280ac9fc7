//! Unified Social Credit Codes (统一社会信用代码, GB 32100-2015) and organisation
//! codes (组织机构代码, GB 11714).

mod rules;

pub use rules::{org_code_check_char, uscc_check_char, USCC_ALPHABET, USCC_WEIGHTS};

/// Every enterprise SQL function.
pub fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![]
}
