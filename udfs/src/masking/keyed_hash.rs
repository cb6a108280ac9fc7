//! `keyed_hash(value, key)`: a keyed pseudonym (HMAC-SHA256).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::rules::pseudonym_into;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::MASKING;

/// Pseudonymises identifiers so that extracts for other departments still
/// join on them while the identifiers themselves are not disclosed.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KeyedHashFunc {
    signature: Signature,
}

impl Default for KeyedHashFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyedHashFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str, Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "A keyed pseudonym of a value: HMAC-SHA256 of the value's UTF-8 bytes under the key, \
         returned as the first 32 lower-case hex characters (128 bits). Equal values give \
         equal pseudonyms under the same key, so pseudonymised tables still join; without the \
         key a pseudonym cannot be reversed or confirmed by trying candidate values. \
         Normalise first (e.g. id_normalize) so that formatting does not change the result.",
        "keyed_hash(value, key)",
    )
    .with_sql_example(
        r#"```sql
> select keyed_hash('what do ya want for nothing?', 'Jefe') as pseudonym;
+----------------------------------+
| pseudonym                        |
+----------------------------------+
| 5bdcc146bf60754e6a042426089575c7 |
+----------------------------------+
```"#,
    )
    .with_argument("value", "The value to pseudonymise, as text.")
    .with_argument("key", "The secret key, as text.")
    .build()
});

impl ScalarUDFImpl for KeyedHashFunc {
    fn name(&self) -> &str {
        "keyed_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let values = Strs::new(&a[0])?;
            let keys = Strs::new(&a[1])?;
            // The key is almost always one constant: key the MAC once and
            // clone its state per row.
            let mut cached: Option<(&str, Hmac<Sha256>)> = None;
            Ok(str_rows(values.len(), values.len() * 32, |i, buf| {
                let (Some(v), Some(k)) = (values.get(i), keys.get(i)) else {
                    return Emit::Null;
                };
                if cached.as_ref().is_none_or(|(ck, _)| *ck != k) {
                    match Hmac::<Sha256>::new_from_slice(k.as_bytes()) {
                        Ok(m) => cached = Some((k, m)),
                        Err(_) => return Emit::Null,
                    }
                }
                let Some((_, keyed)) = &cached else {
                    return Emit::Null;
                };
                pseudonym_into(keyed, v.as_bytes(), buf);
                Emit::Buf
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
