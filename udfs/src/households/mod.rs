//! Households and links: relations to the head (GB/T 4761), household keys,
//! and connected components that turn match pairs into entity ids.

mod connected_components;
mod household_key;
mod relation;
mod rules;

pub use connected_components::{ConnectedComponentsFunc, UnionFind};
pub use household_key::HouseholdKeyFunc;
pub use relation::{RelationFunc, RelationOp};
pub use rules::{household_key_into, relation_code, relation_group, RELATION_CODES};

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

use crate::common::make_udf_function;

make_udf_function!(HouseholdKeyFunc, household_key_udf);

/// Every household scalar SQL function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(RelationFunc::new(RelationOp::Code)),
        ScalarUDF::new_from_impl(RelationFunc::new(RelationOp::Group)),
        household_key_udf(),
    ]
}

/// `connected_components(a, b)` as an `AggregateUDF`.
pub fn connected_components_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ConnectedComponentsFunc::new())
}

/// Every household aggregate SQL function.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![connected_components_udaf()]
}
