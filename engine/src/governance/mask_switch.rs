//! The switch of a keyed-hash mask: one per mask per governed scan, off
//! (masked) unless `raw_key_join` proves that a join only compares the
//! column, and the barrier, which carries the switches of its output
//! columns, lets that rule find them. Here, apart from both, so that each
//! reads it and neither depends on the other for it.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Whether one scan's keyed-hash mask lets raw values through (off: masked).
pub(crate) type Switch = Arc<AtomicBool>;

/// The keyed-hash mask that returns its (text) argument unchanged once its switch is
/// on. Only [`RawKeyJoin`](super::raw_key_join::RawKeyJoin) turns a switch on; every scan gets its own.
#[derive(Debug)]
pub(crate) struct SwitchableKeyedHash {
    masked: ScalarUDF,
    raw: Arc<AtomicBool>,
}

impl SwitchableKeyedHash {
    /// A switchable version of `masked` (the keyed-hash function), off.
    pub(crate) fn new(masked: ScalarUDF) -> (Self, Switch) {
        let raw = Arc::new(AtomicBool::new(false));
        (
            SwitchableKeyedHash {
                masked,
                raw: raw.clone(),
            },
            raw,
        )
    }
}

impl PartialEq for SwitchableKeyedHash {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.raw, &other.raw)
    }
}

impl Eq for SwitchableKeyedHash {}

impl std::hash::Hash for SwitchableKeyedHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.raw).hash(state);
    }
}

impl ScalarUDFImpl for SwitchableKeyedHash {
    fn name(&self) -> &str {
        self.masked.name()
    }

    fn signature(&self) -> &Signature {
        self.masked.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.masked.return_type(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.raw.load(Ordering::Acquire) {
            // The mask returns its argument's own string type.
            return Ok(args.args[0].clone());
        }
        self.masked.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.masked.documentation()
    }
}
