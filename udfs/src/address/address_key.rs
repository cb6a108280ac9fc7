//! `address_key(address [, depth])`: a canonical address key for blocking.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{address_key_into, address_parse_with, AddressScratch};
use crate::common::args::{signature_variants, Arg};
use crate::common::arrays::{ints, invoke, prim_at, str_rows, Emit, Strs};
use crate::common::docs::ADDRESSES;

/// Default key depth: down to the room, i.e. one dwelling.
pub const DEFAULT_DEPTH: i64 = 10;

/// A key that is equal for different spellings of the same place down to a
/// chosen level: households are blocked at room depth, villages at depth 5.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AddressKeyFunc {
    signature: Signature,
}

impl Default for AddressKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl AddressKeyFunc {
    pub fn new() -> Self {
        Self {
            signature: signature_variants(&[&[Arg::Str], &[Arg::Str, Arg::Int]]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        ADDRESSES,
        "A canonical key of an address down to a depth: 1 province, 2 city, 3 district, \
         4 town, 5 village, 6 road, 7 number, 8 building, 9 unit, 10 room (the default). \
         The levels of address_parse are joined with |, missing ones empty; from depth 3 on \
         the key starts at the district, because province and city are implied by it within \
         one city's data and often omitted. Numbers are canonical (三号楼 = 3号楼 = 3栋), \
         full-width and spaces folded, 街道办事处 = 街道, 村委会 = 村. NULL if no level of the \
         key was found, so that unparseable addresses do not all block together.",
        "address_key(address [, depth])",
    )
    .with_sql_example(
        r#"```sql
> select address_key('山东省烟台市芝罘区幸福街道福山路12号3号楼2单元502室') as full_key, address_key('芝罘区幸福街道福山路１２号三栋二单元502', 10) = address_key('山东省烟台市芝罘区幸福街道福山路12号3号楼2单元502室') as same, address_key('烟台市芝罘区幸福街道', 4) as town_key;
+------------------------------------+------+-----------------+
| full_key                           | same | town_key        |
+------------------------------------+------+-----------------+
| 芝罘区|幸福街道||福山路|12|3|2|502 | true | 芝罘区|幸福街道 |
+------------------------------------+------+-----------------+
```"#,
    )
    .with_argument("address", "Address as text.")
    .with_argument("depth", "Finest level in the key, 1-10 (default 10).")
    .with_related_udf("address_parse")
    .with_related_udf("household_key")
    .build()
});

impl ScalarUDFImpl for AddressKeyFunc {
    fn name(&self) -> &str {
        "address_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let addresses = Strs::new(&a[0])?;
            let depths = a.get(1).map(ints).transpose()?;
            let mut scratch = AddressScratch::default();
            Ok(str_rows(
                addresses.len(),
                addresses.byte_hint(),
                |i, buf| {
                    let Some(s) = addresses.get(i) else {
                        return Emit::Null;
                    };
                    let depth = match &depths {
                        Some(d) => match prim_at(d, i) {
                            Some(d) => d,
                            None => return Emit::Null,
                        },
                        None => DEFAULT_DEPTH,
                    };
                    let parsed = address_parse_with(&mut scratch, s);
                    if address_key_into(&parsed, depth.clamp(1, 10) as usize, buf) {
                        Emit::Buf
                    } else {
                        Emit::Null
                    }
                },
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
