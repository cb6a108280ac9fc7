//! Plumbing shared by every function family: argument signatures, the loops
//! over Arrow string arrays, documentation sections and character folding.
//!
//! The families keep their rules as plain Rust functions; this module turns
//! such a rule into a vectorised kernel so no family repeats the loop over
//! `StringArray`, `LargeStringArray` and `StringViewArray`.

pub(crate) mod args;
pub(crate) mod arrays;
pub(crate) mod dates;
pub(crate) mod docs;
pub mod text;

/// Declares the `pub fn NAME_udf() -> ScalarUDF` accessor of a function
/// struct, returning a shared instance (as DataFusion's `make_udf_function!`).
macro_rules! make_udf_function {
    ($ty:ty, $accessor:ident) => {
        #[doc = concat!("The [`", stringify!($ty), "`] SQL function as a `ScalarUDF`, for building expressions.")]
        pub fn $accessor() -> datafusion::logical_expr::ScalarUDF {
            static INSTANCE: std::sync::LazyLock<std::sync::Arc<datafusion::logical_expr::ScalarUDF>> =
                std::sync::LazyLock::new(|| {
                    std::sync::Arc::new(datafusion::logical_expr::ScalarUDF::new_from_impl(
                        <$ty>::new(),
                    ))
                });
            INSTANCE.as_ref().clone()
        }
    };
}
pub(crate) use make_udf_function;
