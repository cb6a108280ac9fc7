//! `company_name_normalize(name)`: a matching key for company names.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::profile_rules::company_name_normalize_into;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::ENTERPRISE;

/// Normalises company names so that records without a credit code can still
/// be attached to the right enterprise profile (一企一档).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CompanyNameNormalizeFunc {
    signature: Signature,
}

impl Default for CompanyNameNormalizeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl CompanyNameNormalizeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        ENTERPRISE,
        "A matching key for a company name: full-width folded, traditional simplified, spaces \
         removed, Latin upper-cased; bracket forms unified ((), （）, 【】, 〔〕) with a \
         bracketed region or legal form dropped ((烟台), (普通合伙)) and other brackets \
         unwrapped; legal-form words removed (股份有限公司, 有限责任公司, 有限公司, 合伙企业, \
         个人独资企业); leading region names removed (山东省, 烟台市, 烟台, 芝罘区, provincial \
         capitals, …); a trailing 公司 removed but 分公司 kept, since a branch is another \
         entity. Use it with other evidence (address, legal representative): different \
         companies can share a key.",
        "company_name_normalize(name)",
    )
    .with_sql_example(
        r#"```sql
> select company_name_normalize('山东省烟台市张裕葡萄酿酒股份有限公司') as a, company_name_normalize('张裕葡萄酿酒（烟台）有限公司') as b, company_name_normalize('华为技术有限公司烟台分公司') as branch;
+--------------+--------------+--------------------+
| a            | b            | branch             |
+--------------+--------------+--------------------+
| 张裕葡萄酿酒 | 张裕葡萄酿酒 | 华为技术烟台分公司 |
+--------------+--------------+--------------------+
```"#,
    )
    .with_argument("name", "Company name as text.")
    .with_related_udf("uscc_normalize")
    .build()
});

impl ScalarUDFImpl for CompanyNameNormalizeFunc {
    fn name(&self) -> &str {
        "company_name_normalize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let names = Strs::new(&a[0])?;
            Ok(str_rows(
                names.len(),
                names.byte_hint(),
                |i, buf| match names.get(i) {
                    None => Emit::Null,
                    Some(s) => {
                        company_name_normalize_into(s, buf);
                        Emit::Buf
                    }
                },
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
