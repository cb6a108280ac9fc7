//! Unified Social Credit Codes (统一社会信用代码, GB 32100-2015), organisation
//! codes (组织机构代码, GB 11714), and enterprise profiling: company-name
//! normalisation and safety-risk grading.

mod company_name;
mod org_code;
mod profile_rules;
mod rules;
mod safety_risk;
mod uscc_decode;
mod uscc_normalize;
mod uscc_valid;

pub use company_name::CompanyNameNormalizeFunc;
pub use org_code::{OrgCodeFunc, OrgCodeOp};
pub use profile_rules::{
    company_name_normalize, company_name_normalize_into, grade, safety_risk_grade,
};
pub use rules::{
    code_clean, code_normalize_into, department_name, org_code_check_char, org_code_validate,
    org_type_name, uscc_check_char, uscc_is_valid, uscc_validate, CodeBuf, OrgCodeInvalid,
    UsccInvalid, UsccParts, DEPARTMENTS, ORG_CODE_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS,
};
pub use safety_risk::SafetyRiskGradeFunc;
pub use uscc_decode::{UsccDecodeFunc, UsccField, UsccFieldFunc};
pub use uscc_normalize::UsccNormalizeFunc;
pub use uscc_valid::{UsccInvalidReasonFunc, UsccValidFunc};

use datafusion::logical_expr::ScalarUDF;

use crate::common::make_udf_function;

make_udf_function!(UsccValidFunc, uscc_valid_udf);
make_udf_function!(UsccInvalidReasonFunc, uscc_invalid_reason_udf);
make_udf_function!(UsccNormalizeFunc, uscc_normalize_udf);
make_udf_function!(UsccDecodeFunc, uscc_decode_udf);
make_udf_function!(CompanyNameNormalizeFunc, company_name_normalize_udf);
make_udf_function!(SafetyRiskGradeFunc, safety_risk_grade_udf);

/// Every credit-code and enterprise SQL function.
pub fn functions() -> Vec<ScalarUDF> {
    let mut v = vec![
        uscc_valid_udf(),
        uscc_invalid_reason_udf(),
        uscc_normalize_udf(),
        uscc_decode_udf(),
    ];
    for field in [
        UsccField::Department,
        UsccField::OrgType,
        UsccField::AreaCode,
        UsccField::OrgCode,
    ] {
        v.push(ScalarUDF::new_from_impl(UsccFieldFunc::new(field)));
    }
    for op in [
        OrgCodeOp::Valid,
        OrgCodeOp::InvalidReason,
        OrgCodeOp::Normalize,
    ] {
        v.push(ScalarUDF::new_from_impl(OrgCodeFunc::new(op)));
    }
    v.push(company_name_normalize_udf());
    v.push(safety_risk_grade_udf());
    v
}
