//! Chinese addresses: parsing into levels and canonical keys for household
//! blocking.

mod address_key;
mod address_parse;
mod rules;

pub use address_key::{AddressKeyFunc, DEFAULT_DEPTH};
pub use address_parse::AddressParseFunc;
pub use rules::{
    address_key_into, address_parse, address_parse_into, address_parse_with, level, Address,
    AddressScratch, FIELDS,
};

use datafusion::logical_expr::ScalarUDF;

use crate::common::make_udf_function;

make_udf_function!(AddressParseFunc, address_parse_udf);
make_udf_function!(AddressKeyFunc, address_key_udf);

/// Every address SQL function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![address_parse_udf(), address_key_udf()]
}
