//! Organisation codes (组织机构代码, GB 11714): `org_code_valid`,
//! `org_code_invalid_reason`, `org_code_normalize`.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{code_normalize_into, org_code_validate};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{bool_keep_nulls, invoke, str_rows, Emit, Strs};
use crate::common::docs::CREDIT_CODE;

/// Which organisation-code function an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgCodeOp {
    /// `org_code_valid`
    Valid,
    /// `org_code_invalid_reason`
    InvalidReason,
    /// `org_code_normalize`
    Normalize,
}

/// Organisation codes still appear in older records (certificates issued
/// before 2015, tax and social-insurance systems): these functions check and
/// normalise them, in the 9-character or hyphenated `XXXXXXXX-X` form.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OrgCodeFunc {
    op: OrgCodeOp,
    signature: Signature,
}

impl OrgCodeFunc {
    pub fn new(op: OrgCodeOp) -> Self {
        Self {
            op,
            signature: signature(&[Arg::Str]),
        }
    }
}

static VALID_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "True if the value is a valid organisation code (GB 11714): 8 characters from 0-9 \
         and A-Z and a check character (0-9 or X), written either as 9 characters or in the \
         old hyphenated form XXXXXXXX-X. Spaces, full-width characters and lower case are \
         tolerated.",
        "org_code_valid(code)",
    )
    .with_sql_example(
        r#"```sql
> select org_code_valid('M000100Y-4') as hyphenated, org_code_valid('M000100Y4') as plain, org_code_valid('M000100Y-5') as typo;
+------------+-------+-------+
| hyphenated | plain | typo  |
+------------+-------+-------+
| true       | true  | false |
+------------+-------+-------+
```"#,
    )
    .with_argument("code", "Organisation code as text.")
    .with_related_udf("uscc_org_code")
    .build()
});

static REASON_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "Why an organisation code is not valid, or NULL if it is: 'length' (not 9 characters \
         without the hyphen), 'characters' or 'check_digit'.",
        "org_code_invalid_reason(code)",
    )
    .with_sql_example(
        r#"```sql
> select org_code_invalid_reason('M000100Y-5') as typo, org_code_invalid_reason('M000100Y') as short;
+-------------+--------+
| typo        | short  |
+-------------+--------+
| check_digit | length |
+-------------+--------+
```"#,
    )
    .with_argument("code", "Organisation code as text.")
    .with_related_udf("org_code_valid")
    .build()
});

static NORMALIZE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "Normalises an organisation code to the 9-character form embedded in credit codes: \
         hyphen and spaces removed, full-width folded, letters upper-cased; compare with \
         uscc_org_code(code) to link old records to credit codes.",
        "org_code_normalize(code)",
    )
    .with_sql_example(
        r#"```sql
> select org_code_normalize('m000100y-4') as code, org_code_normalize('m000100y-4') = uscc_org_code('91350100M000100Y43') as same;
+-----------+------+
| code      | same |
+-----------+------+
| M000100Y4 | true |
+-----------+------+
```"#,
    )
    .with_argument("code", "Organisation code as text.")
    .with_related_udf("uscc_org_code")
    .build()
});

impl ScalarUDFImpl for OrgCodeFunc {
    fn name(&self) -> &str {
        match self.op {
            OrgCodeOp::Valid => "org_code_valid",
            OrgCodeOp::InvalidReason => "org_code_invalid_reason",
            OrgCodeOp::Normalize => "org_code_normalize",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            OrgCodeOp::Valid => DataType::Boolean,
            OrgCodeOp::InvalidReason | OrgCodeOp::Normalize => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let op = self.op;
        invoke(args, |a| {
            let codes = Strs::new(&a[0])?;
            Ok(match op {
                OrgCodeOp::Valid => bool_keep_nulls(&codes, |s| org_code_validate(s).is_ok()),
                OrgCodeOp::InvalidReason => str_rows(codes.len(), codes.len() * 6, |i, _| {
                    match codes.get(i).map(org_code_validate) {
                        Some(Err(reason)) => Emit::Str(reason.as_str()),
                        _ => Emit::Null,
                    }
                }),
                OrgCodeOp::Normalize => {
                    str_rows(codes.len(), codes.len() * 9, |i, buf| match codes.get(i) {
                        None => Emit::Null,
                        Some(s) => {
                            code_normalize_into(s, buf);
                            Emit::Buf
                        }
                    })
                }
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.op {
            OrgCodeOp::Valid => &VALID_DOC,
            OrgCodeOp::InvalidReason => &REASON_DOC,
            OrgCodeOp::Normalize => &NORMALIZE_DOC,
        })
    }
}
