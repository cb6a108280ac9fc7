//! `address_parse(address)`: split a Chinese address into its levels.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, StringBuilder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{address_parse_into, Address, AddressScratch, FIELDS};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, Strs};
use crate::common::docs::ADDRESSES;

fn fields() -> Fields {
    FIELDS
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect()
}

/// Splits addresses into administrative and building levels, so reports can
/// be cut by town or village and households matched by building and room.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AddressParseFunc {
    signature: Signature,
}

impl Default for AddressParseFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl AddressParseFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        ADDRESSES,
        "Parses a Chinese address into a struct of province, city, district, town (街道/镇/乡), \
         village (村/社区), road, number (door number), building, unit, room, and rest (text \
         not placed in a level, such as an estate name). Each level is found by its suffix; \
         full-width characters and spaces are folded first. Names keep their suffix \
         (芝罘区); number, building, unit and room are canonical: Arabic numerals without \
         suffix (三号楼 → 3). Missing levels are NULL. Rule-based, without a gazetteer: a 市 \
         directly followed by a street office or town is taken as a county-level city \
         (district) unless it is a prefecture city of Shandong.",
        "address_parse(address)",
    )
    .with_sql_example(
        r#"```sql
> select a['district'] as district, a['town'] as town, a['road'] as road, a['number'] as no, a['building'] as bldg, a['unit'] as unit, a['room'] as room from (select address_parse('山东省烟台市芝罘区幸福街道福山路12号三号楼2单元502室') as a);
+----------+----------+--------+----+------+------+------+
| district | town     | road   | no | bldg | unit | room |
+----------+----------+--------+----+------+------+------+
| 芝罘区   | 幸福街道 | 福山路 | 12 | 3    | 2    | 502  |
+----------+----------+--------+----+------+------+------+
```"#,
    )
    .with_argument("address", "Address as text.")
    .with_related_udf("address_key")
    .build()
});

impl ScalarUDFImpl for AddressParseFunc {
    fn name(&self) -> &str {
        "address_parse"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let addresses = Strs::new(&a[0])?;
            let n = addresses.len();
            let mut builders: Vec<StringBuilder> = FIELDS
                .iter()
                .map(|_| StringBuilder::with_capacity(n, n * 6))
                .collect();
            let mut scratch = AddressScratch::default();
            let mut parsed = Address::default();
            let mut valid = Vec::with_capacity(n);
            for i in 0..n {
                match addresses.get(i) {
                    Some(s) => {
                        address_parse_into(&mut scratch, s, &mut parsed);
                        for (b, part) in builders.iter_mut().zip(&parsed.parts) {
                            if part.is_empty() {
                                b.append_null();
                            } else {
                                b.append_value(part);
                            }
                        }
                        valid.push(true);
                    }
                    None => {
                        builders.iter_mut().for_each(|b| b.append_null());
                        valid.push(false);
                    }
                }
            }
            let columns: Vec<ArrayRef> = builders
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef)
                .collect();
            let nulls = NullBuffer::from(valid);
            Ok(Arc::new(StructArray::try_new(fields(), columns, Some(nulls))?) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
