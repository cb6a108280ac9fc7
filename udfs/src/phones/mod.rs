//! Phone numbers (mainland China): normalise, validate and classify.

mod phone_normalize;
mod phone_valid;
mod rules;

pub use phone_normalize::PhoneNormalizeFunc;
pub use phone_valid::{PhoneCheck, PhoneCheckFunc};
pub use rules::{phone_normalize_into, phone_parse, Phone, PhoneKind};

use datafusion::logical_expr::ScalarUDF;

use crate::common::make_udf_function;

make_udf_function!(PhoneNormalizeFunc, phone_normalize_udf);

/// Every phone SQL function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        phone_normalize_udf(),
        ScalarUDF::new_from_impl(PhoneCheckFunc::new(PhoneCheck::Valid)),
        ScalarUDF::new_from_impl(PhoneCheckFunc::new(PhoneCheck::Type)),
    ]
}
