//! Masking helpers used by governance: display masks for identity numbers,
//! phones and names, a generic partial mask, keyed pseudonyms and birth-year
//! generalisation.
//!
//! The pure functions ([`mask_id_number`], [`mask_phone`], [`mask_name`],
//! [`keyed_hash`]) are what the governance code calls on single values; the
//! `*_udf()` accessors give the same rules as SQL functions for the
//! expressions it rewrites queries into.

mod birth_year;
mod keyed_hash;
mod keyed_hash_mask;
mod mask_partial;
mod masks;
mod rules;

pub use birth_year::BirthYearFunc;
pub use keyed_hash::KeyedHashFunc;
pub use keyed_hash_mask::KeyedHashMaskFunc;
pub use mask_partial::MaskPartialFunc;
pub use masks::{MaskFunc, MaskKind};
pub use rules::{
    keyed_hash, mask_id_number, mask_id_number_into, mask_name, mask_name_into, mask_partial,
    mask_partial_into, mask_phone, mask_phone_into, KEYED_HASH_HEX_LEN,
};

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::ScalarUDF;

use crate::common::make_udf_function;

make_udf_function!(MaskPartialFunc, mask_partial_udf);
make_udf_function!(KeyedHashFunc, keyed_hash_udf);
make_udf_function!(BirthYearFunc, birth_year_udf);

fn mask_udf(kind: MaskKind) -> ScalarUDF {
    static INSTANCES: LazyLock<[Arc<ScalarUDF>; 3]> = LazyLock::new(|| {
        [MaskKind::IdNumber, MaskKind::Phone, MaskKind::Name]
            .map(|k| Arc::new(ScalarUDF::new_from_impl(MaskFunc::new(k))))
    });
    let i = match kind {
        MaskKind::IdNumber => 0,
        MaskKind::Phone => 1,
        MaskKind::Name => 2,
    };
    INSTANCES[i].as_ref().clone()
}

/// `mask_id_number(text)` as a `ScalarUDF`, for building expressions.
pub fn mask_id_number_udf() -> ScalarUDF {
    mask_udf(MaskKind::IdNumber)
}

/// `mask_phone(text)` as a `ScalarUDF`, for building expressions.
pub fn mask_phone_udf() -> ScalarUDF {
    mask_udf(MaskKind::Phone)
}

/// `mask_name(text)` as a `ScalarUDF`, for building expressions.
pub fn mask_name_udf() -> ScalarUDF {
    mask_udf(MaskKind::Name)
}

/// Every masking SQL function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        mask_id_number_udf(),
        mask_phone_udf(),
        mask_name_udf(),
        mask_partial_udf(),
        keyed_hash_udf(),
        birth_year_udf(),
    ]
}
