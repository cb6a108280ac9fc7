//! Vectorised loops over Arrow arrays.
//!
//! A kernel sees its text arguments through [`Strs`], which hides whether the
//! column is `Utf8`, `LargeUtf8`, `Utf8View` or an all-NULL column, and writes
//! its output through one of the row builders below. NULL handling is the
//! kernel's row closure returning `None`: the helpers never panic on any input.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, BooleanBuilder, LargeStringArray,
    PrimitiveArray, PrimitiveBuilder, StringArray, StringBuilder, StringViewArray,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};

/// Runs a kernel over the arguments of one call: scalars are expanded to
/// arrays, and if every argument was a scalar the result is a scalar again.
pub(crate) fn invoke(
    args: ScalarFunctionArgs,
    kernel: impl FnOnce(&[ArrayRef]) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let all_scalar = args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let mut arrays = ColumnarValue::values_to_arrays(&args.args)?;
    // Dictionary-encoded columns (common from Arrow and Parquet sources) are
    // unpacked to their value type, so kernels see plain arrays.
    for a in arrays.iter_mut() {
        *a = unpack_dictionary(a)?;
    }
    let out = kernel(&arrays)?;
    if all_scalar && out.len() == 1 {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
    } else {
        Ok(ColumnarValue::Array(out))
    }
}

/// A dictionary-encoded array cast to its value type; any other array as is.
pub(crate) fn unpack_dictionary(array: &ArrayRef) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::Dictionary(_, value_type) => Ok(cast(array, value_type)?),
        _ => Ok(Arc::clone(array)),
    }
}

/// Read access to a text column of any string encoding.
pub(crate) enum Strs<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    /// An untyped NULL column (a bare `NULL` literal).
    Null(usize),
}

impl<'a> Strs<'a> {
    /// Wraps a text (or NULL-typed) array; any other type is an error.
    pub(crate) fn new(array: &'a ArrayRef) -> Result<Self> {
        Ok(match array.data_type() {
            DataType::Utf8 => Strs::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Strs::Large(array.as_string::<i64>()),
            DataType::Utf8View => Strs::View(array.as_string_view()),
            DataType::Null => Strs::Null(array.len()),
            other => return exec_err!("expected a text argument, got {other}"),
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Strs::Utf8(a) => a.len(),
            Strs::Large(a) => a.len(),
            Strs::View(a) => a.len(),
            Strs::Null(n) => *n,
        }
    }

    /// The validity of the column, to be reused as the validity of an output
    /// that is NULL exactly where the input is.
    pub(crate) fn nulls(&self) -> Option<NullBuffer> {
        match self {
            Strs::Utf8(a) => a.nulls().cloned(),
            Strs::Large(a) => a.nulls().cloned(),
            Strs::View(a) => a.nulls().cloned(),
            Strs::Null(n) => Some(NullBuffer::new_null(*n)),
        }
    }

    /// Total bytes of the values where cheaply known, as a capacity hint.
    pub(crate) fn byte_hint(&self) -> usize {
        match self {
            Strs::Utf8(a) => a.values().len(),
            Strs::Large(a) => a.values().len(),
            Strs::View(a) => a.len() * 16,
            Strs::Null(_) => 0,
        }
    }

    /// The value at row `i`, `None` where it is NULL.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Null(_) => None,
        }
    }
}

/// An integer argument column (coerced to Int64 by the signature).
pub(crate) fn ints(array: &ArrayRef) -> Result<PrimitiveArray<Int64Type>> {
    Ok(cast(array, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

/// A date argument column (coerced to Date32 by the signature).
pub(crate) fn dates(array: &ArrayRef) -> Result<PrimitiveArray<Date32Type>> {
    Ok(cast(array, &DataType::Date32)?
        .as_primitive::<Date32Type>()
        .clone())
}

/// Value of a primitive column at `i`, `None` where NULL.
#[inline]
pub(crate) fn prim_at<T: ArrowPrimitiveType>(a: &PrimitiveArray<T>, i: usize) -> Option<T::Native> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// Boolean output that is NULL exactly where the text input is: the fastest
/// path, used by the validators (no per-row branching on the builder).
pub(crate) fn bool_keep_nulls(strs: &Strs, f: impl Fn(&str) -> bool) -> ArrayRef {
    let values = BooleanBuffer::collect_bool(strs.len(), |i| strs.get(i).map(&f).unwrap_or(false));
    Arc::new(BooleanArray::new(values, strs.nulls()))
}

/// Boolean output computed row by row.
pub(crate) fn bool_rows(len: usize, mut row: impl FnMut(usize) -> Option<bool>) -> ArrayRef {
    let mut b = BooleanBuilder::with_capacity(len);
    for i in 0..len {
        b.append_option(row(i));
    }
    Arc::new(b.finish())
}

/// Primitive output (integers, floats, dates) computed row by row.
pub(crate) fn prim_rows<T: ArrowPrimitiveType>(
    len: usize,
    mut row: impl FnMut(usize) -> Option<T::Native>,
) -> ArrayRef {
    let mut b = PrimitiveBuilder::<T>::with_capacity(len);
    for i in 0..len {
        b.append_option(row(i));
    }
    Arc::new(b.finish())
}

/// What a text kernel produced for one row.
pub(crate) enum Emit<'s> {
    /// The row is NULL.
    Null,
    /// The row is the text the kernel wrote into the scratch buffer.
    Buf,
    /// The row is this text (typically the unchanged input: no copy needed).
    Str(&'s str),
}

/// Text output computed row by row. The kernel gets a cleared scratch
/// `String`, reused across rows so that no row allocates.
pub(crate) fn str_rows<'s>(
    len: usize,
    byte_hint: usize,
    mut row: impl FnMut(usize, &mut String) -> Emit<'s>,
) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(len, byte_hint);
    let mut buf = String::with_capacity(64);
    for i in 0..len {
        buf.clear();
        match row(i, &mut buf) {
            Emit::Null => b.append_null(),
            Emit::Buf => b.append_value(&buf),
            Emit::Str(s) => b.append_value(s),
        }
    }
    Arc::new(b.finish())
}
