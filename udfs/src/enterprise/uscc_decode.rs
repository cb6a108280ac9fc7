//! `uscc_decode(code)` and the single-field readers `uscc_department`,
//! `uscc_org_type`, `uscc_area_code`, `uscc_org_code`.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, StringBuilder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::UsccParts;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::CREDIT_CODE;

/// Names of the fields of `uscc_decode`'s result, in order.
const DECODE_FIELDS: [&str; 6] = [
    "department_code",
    "department",
    "org_type_code",
    "org_type",
    "area_code",
    "org_code",
];

fn decode_fields() -> Fields {
    DECODE_FIELDS
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect()
}

/// Decodes a credit code into its parts, for enterprise profiles (which
/// department registered it, what kind of organisation, where).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UsccDecodeFunc {
    signature: Signature,
}

impl Default for UsccDecodeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl UsccDecodeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static DECODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CREDIT_CODE,
        "Decodes a credit code into a struct: department_code and department (登记管理部门, \
         e.g. 9 工商), org_type_code and org_type (机构类别, e.g. 1 企业, 2 个体工商户, \
         3 农民专业合作社), area_code (division code of the registering authority) and \
         org_code (the embedded GB 11714 organisation code). Decodes any code of 18 \
         characters from the alphabet, even with a wrong check digit (some issued codes \
         fail it); names are NULL for unknown codes; NULL if the value is not of that shape. \
         Read one field with uscc_decode(code)['org_type'].",
        "uscc_decode(code)",
    )
    .with_sql_example(
        r#"```sql
> select uscc_decode('91350100M000100Y43')['org_type'] as org_type, uscc_decode('91350100M000100Y43')['area_code'] as area;
+----------+--------+
| org_type | area   |
+----------+--------+
| 企业     | 350100 |
+----------+--------+
```"#,
    )
    .with_argument("code", "Credit code as text.")
    .with_related_udf("uscc_org_type")
    .build()
});

impl ScalarUDFImpl for UsccDecodeFunc {
    fn name(&self) -> &str {
        "uscc_decode"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(decode_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let codes = Strs::new(&a[0])?;
            let n = codes.len();
            let mut builders: Vec<StringBuilder> = (0..DECODE_FIELDS.len())
                .map(|_| StringBuilder::with_capacity(n, n * 8))
                .collect();
            let mut valid = Vec::with_capacity(n);
            for i in 0..n {
                match codes.get(i).and_then(UsccParts::parse) {
                    Some(p) => {
                        builders[0].append_value(p.department_code());
                        builders[1].append_option(p.department());
                        builders[2].append_value(p.org_type_code());
                        builders[3].append_option(p.org_type());
                        builders[4].append_value(p.area_code());
                        builders[5].append_value(p.org_code());
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
            Ok(Arc::new(StructArray::try_new(decode_fields(), columns, Some(nulls))?) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DECODE_DOC)
    }
}

/// Which single part of a credit code a reader function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsccField {
    /// Registration department name.
    Department,
    /// Organisation type name.
    OrgType,
    /// Division code of the registering authority.
    AreaCode,
    /// Embedded organisation code.
    OrgCode,
}

/// Reads one part of a credit code as text: simpler in reports than the
/// struct of `uscc_decode`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UsccFieldFunc {
    field: UsccField,
    signature: Signature,
}

impl UsccFieldFunc {
    pub fn new(field: UsccField) -> Self {
        Self {
            field,
            signature: signature(&[Arg::Str]),
        }
    }
}

fn field_doc(name: &str, description: &str, example_value: &str) -> Documentation {
    let header = "value";
    let width = example_value
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum::<usize>()
        .max(header.len());
    let line = format!("+{}+", "-".repeat(width + 2));
    let pad = |s: &str| {
        let w: usize = s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
        format!("| {}{} |", s, " ".repeat(width - w))
    };
    Documentation::builder(CREDIT_CODE, description, format!("{name}(code)"))
        .with_sql_example(format!(
            "```sql\n> select {name}('91350100M000100Y43') as value;\n{line}\n{}\n{line}\n{}\n{line}\n```",
            pad(header),
            pad(example_value)
        ))
        .with_argument("code", "Credit code as text.")
        .with_related_udf("uscc_decode")
        .build()
}

static DEPARTMENT_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    field_doc(
        "uscc_department",
        "The registration department (登记管理部门) named by a credit code's first character: \
         机构编制, 民政, 工商, 农业, … NULL for an unknown code or a value that is not an \
         18-character code.",
        "工商",
    )
});
static ORG_TYPE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    field_doc(
        "uscc_org_type",
        "The organisation type (机构类别) named by a credit code's first two characters: \
         for 工商 (9), 企业 (1), 个体工商户 (2) or 农民专业合作社 (3); for 民政 (5), 社会团体, \
         民办非企业单位, 基金会; … NULL if unknown.",
        "企业",
    )
});
static AREA_CODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    field_doc(
        "uscc_area_code",
        "The 6-digit division code of the registering authority (characters 3-8 of a credit \
         code). NULL if the value is not an 18-character code.",
        "350100",
    )
});
static ORG_CODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    field_doc(
        "uscc_org_code",
        "The organisation code (GB 11714) embedded in a credit code (characters 9-17), \
         without hyphen: joins records that still carry the old organisation code (after \
         org_code_normalize). NULL if the value is not an 18-character code.",
        "M000100Y4",
    )
});

impl ScalarUDFImpl for UsccFieldFunc {
    fn name(&self) -> &str {
        match self.field {
            UsccField::Department => "uscc_department",
            UsccField::OrgType => "uscc_org_type",
            UsccField::AreaCode => "uscc_area_code",
            UsccField::OrgCode => "uscc_org_code",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let field = self.field;
        invoke(args, |a| {
            let codes = Strs::new(&a[0])?;
            Ok(str_rows(codes.len(), codes.len() * 9, |i, buf| {
                let Some(p) = codes.get(i).and_then(UsccParts::parse) else {
                    return Emit::Null;
                };
                match field {
                    UsccField::Department => p.department().map_or(Emit::Null, Emit::Str),
                    UsccField::OrgType => p.org_type().map_or(Emit::Null, Emit::Str),
                    UsccField::AreaCode => {
                        buf.push_str(p.area_code());
                        Emit::Buf
                    }
                    UsccField::OrgCode => {
                        buf.push_str(p.org_code());
                        Emit::Buf
                    }
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.field {
            UsccField::Department => &DEPARTMENT_DOC,
            UsccField::OrgType => &ORG_TYPE_DOC,
            UsccField::AreaCode => &AREA_CODE_DOC,
            UsccField::OrgCode => &ORG_CODE_DOC,
        })
    }
}
