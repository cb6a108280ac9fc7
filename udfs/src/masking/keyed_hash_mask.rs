//! `keyed_hash_mask(value)`: the keyed-hash column mask, its key bound inside.

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

/// The mask governance puts on a keyed-hash masked column. It computes what
/// `keyed_hash(value, key)` does, but holds the key itself: a key passed as an
/// argument is a literal of the plan, and plans are shown to users (EXPLAIN),
/// who could then hash candidate identity numbers and undo the mask. It is not
/// a SQL function anyone can call; plans name it, without its key.
#[derive(PartialEq, Eq, Hash)]
pub struct KeyedHashMaskFunc {
    key: Vec<u8>,
    signature: Signature,
}

impl KeyedHashMaskFunc {
    /// The name plans show it by.
    pub const NAME: &'static str = "keyed_hash_mask";

    /// The mask under `key`, the same bytes `keyed_hash` would take as text.
    pub fn new(key: Vec<u8>) -> Self {
        Self {
            key,
            signature: signature(&[Arg::Str]),
        }
    }
}

/// Never prints the key.
impl std::fmt::Debug for KeyedHashMaskFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyedHashMaskFunc")
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        MASKING,
        "The keyed-hash column mask as plans show it: keyed_hash of the value under the \
         server's mask secret, which the mask holds and never shows. Equal values give equal \
         pseudonyms, so masked columns still join and count across datasets.",
        "keyed_hash_mask(value)",
    )
    .with_argument("value", "The value to pseudonymise, as text.")
    .with_related_udf("keyed_hash")
    .build()
});

impl ScalarUDFImpl for KeyedHashMaskFunc {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The pseudonym comes in the value's own string type, so a masked column
    /// keeps its type (a join on two of them needs no cast).
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types.first() {
            Some(t @ (DataType::Utf8View | DataType::LargeUtf8)) => t.clone(),
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // HMAC takes keys of any length: this cannot fail.
        let keyed = Hmac::<Sha256>::new_from_slice(&self.key)
            .map_err(|e| datafusion::error::DataFusionError::Internal(format!("mask key: {e}")))?;
        let returns = args.return_field.data_type().clone();
        let hashed = invoke(args, |a| {
            let values = Strs::new(&a[0])?;
            Ok(str_rows(values.len(), values.len() * 32, |i, buf| {
                let Some(v) = values.get(i) else {
                    return Emit::Null;
                };
                pseudonym_into(&keyed, v.as_bytes(), buf);
                Emit::Buf
            }))
        })?;
        if returns == DataType::Utf8 {
            return Ok(hashed);
        }
        hashed.cast_to(&returns, None)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masking::keyed_hash;
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    use datafusion::logical_expr::ScalarUDF;
    use datafusion::prelude::{col, SessionContext};

    #[tokio::test]
    async fn hashes_as_keyed_hash_does_and_never_shows_its_key() {
        let key = b"0123456789abcdef-secret".to_vec();
        let mask = ScalarUDF::new_from_impl(KeyedHashMaskFunc::new(key.clone()));
        let ctx = SessionContext::new();
        let df = ctx
            .sql("SELECT * FROM (VALUES ('370602199001011234'), (NULL)) AS t(v)")
            .await
            .unwrap()
            .select(vec![mask.call(vec![col("v")]).alias("m")])
            .unwrap();
        let plan = format!("{}", df.logical_plan().display_indent());
        assert!(plan.contains("keyed_hash_mask(t.v)"), "{plan}");
        assert!(!plan.contains("secret"), "{plan}");
        assert!(!format!("{:?}", df.logical_plan()).contains("secret"));
        let batches = df.collect().await.unwrap();
        let m = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(m.value(0), keyed_hash(b"370602199001011234", &key));
        assert!(m.is_null(1));
        // A Utf8View column (how Parquet text is read) stays Utf8View.
        let view = ctx
            .sql("SELECT arrow_cast('370602199001011234', 'Utf8View') AS v")
            .await
            .unwrap()
            .select(vec![mask.call(vec![col("v")]).alias("m")])
            .unwrap()
            .collect()
            .await
            .unwrap();
        let m = view[0].column(0).as_string_view();
        assert_eq!(m.value(0), keyed_hash(b"370602199001011234", &key));
    }
}
