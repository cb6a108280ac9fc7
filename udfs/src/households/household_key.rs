//! `household_key(household_no, address [, depth])`: one key per household.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::household_key_into;
use crate::address::{AddressScratch, DEFAULT_DEPTH};
use crate::common::args::{signature_variants, Arg};
use crate::common::arrays::{ints, invoke, prim_at, str_rows, Emit, Strs};
use crate::common::docs::HOUSEHOLDS;

/// Groups persons into households: by household number where the register
/// has one, by dwelling (address key) where it does not, as in lists
/// returned from upper levels that carry only addresses.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HouseholdKeyFunc {
    signature: Signature,
}

impl Default for HouseholdKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl HouseholdKeyFunc {
    pub fn new() -> Self {
        Self {
            signature: signature_variants(&[
                &[Arg::Str, Arg::Str],
                &[Arg::Str, Arg::Str, Arg::Int],
            ]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        HOUSEHOLDS,
        "A household grouping key for a person: 'H:' and the household number (户号, \
         spaces and hyphens removed, upper-cased) when it is given and not empty, otherwise \
         'A:' and address_key(address, depth) (depth 10, the room, by default). NULL only \
         if neither gives a key: unlike most functions it is not NULL because one argument \
         is NULL. GROUP BY it to list households; persons without a household number are \
         grouped by dwelling.",
        "household_key(household_no, address [, depth])",
    )
    .with_sql_example(
        r#"```sql
> select household_key('3706-0200-1234', '芝罘区幸福街道福山路12号') as by_number, household_key(NULL, '芝罘区幸福街道福山路12号3号楼2单元502室') as by_address;
+----------------+--------------------------------------+
| by_number      | by_address                           |
+----------------+--------------------------------------+
| H:370602001234 | A:芝罘区|幸福街道||福山路|12|3|2|502 |
+----------------+--------------------------------------+
```"#,
    )
    .with_argument("household_no", "Household number (户号), may be NULL or empty.")
    .with_argument("address", "Address, used when there is no household number.")
    .with_argument("depth", "Address key depth, 1-10 (default 10).")
    .with_related_udf("address_key")
    .with_related_udf("connected_components")
    .build()
});

impl ScalarUDFImpl for HouseholdKeyFunc {
    fn name(&self) -> &str {
        "household_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let numbers = Strs::new(&a[0])?;
            let addresses = Strs::new(&a[1])?;
            let depths = a.get(2).map(ints).transpose()?;
            let mut scratch = AddressScratch::default();
            Ok(str_rows(numbers.len(), numbers.len() * 24, |i, buf| {
                let depth = match &depths {
                    Some(d) => prim_at(d, i).unwrap_or(DEFAULT_DEPTH),
                    None => DEFAULT_DEPTH,
                };
                let ok = household_key_into(
                    numbers.get(i),
                    addresses.get(i),
                    depth.clamp(1, 10) as usize,
                    &mut scratch,
                    buf,
                );
                if ok {
                    Emit::Buf
                } else {
                    Emit::Null
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
