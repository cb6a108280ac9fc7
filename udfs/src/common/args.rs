//! Signatures built from a short list of argument kinds.
//!
//! Every argument is declared with an implicit coercion so that SQL callers
//! can pass any string encoding (Utf8, LargeUtf8, Utf8View), untyped NULLs,
//! and integer or date values in the natural forms without casting.

use datafusion::common::types::{logical_date, logical_int64, logical_string, NativeType};
use datafusion::logical_expr::{
    Coercion, Signature, TypeSignature, TypeSignatureClass, Volatility,
};

/// The kind of one SQL argument.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg {
    /// Text; any other type is cast to text.
    Str,
    /// A 64-bit integer; any integer type is accepted.
    Int,
    /// A date; timestamps and text are cast to a date.
    Date,
}

fn coercion(arg: Arg) -> Coercion {
    match arg {
        Arg::Str => Coercion::new_implicit(
            TypeSignatureClass::Native(logical_string()),
            vec![TypeSignatureClass::Any],
            NativeType::String,
        ),
        Arg::Int => Coercion::new_implicit(
            TypeSignatureClass::Native(logical_int64()),
            vec![TypeSignatureClass::Integer],
            NativeType::Int64,
        ),
        Arg::Date => Coercion::new_implicit(
            TypeSignatureClass::Native(logical_date()),
            vec![
                TypeSignatureClass::Timestamp,
                TypeSignatureClass::Native(logical_string()),
            ],
            NativeType::Date,
        ),
    }
}

/// An immutable signature with one fixed list of arguments.
pub(crate) fn signature(args: &[Arg]) -> Signature {
    Signature::coercible(
        args.iter().map(|a| coercion(*a)).collect(),
        Volatility::Immutable,
    )
}

/// An immutable signature accepting any of several argument lists
/// (optional trailing arguments).
pub(crate) fn signature_variants(variants: &[&[Arg]]) -> Signature {
    Signature::one_of(
        variants
            .iter()
            .map(|v| TypeSignature::Coercible(v.iter().map(|a| coercion(*a)).collect()))
            .collect(),
        Volatility::Immutable,
    )
}
