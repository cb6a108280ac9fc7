//! `id_sex(id)` and `id_sex_code(id)`: the sex encoded in an identity number.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::id_validate;
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, prim_rows, str_rows, Emit, Strs};
use crate::common::docs::IDENTITY;

/// The sex as the Chinese word used on forms (男 / 女).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdSexFunc {
    signature: Signature,
}

impl Default for IdSexFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdSexFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static SEX_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "The sex encoded in an identity number: '男' if the sequence digit (17th of 18, 15th \
         of 15) is odd, '女' if even. NULL if the number is not valid.",
        "id_sex(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_sex('11010519491231002X') as sex, id_sex('440524188001010014') as sex2;
+-----+------+
| sex | sex2 |
+-----+------+
| 女  | 男   |
+-----+------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("id_sex_code")
    .build()
});

impl ScalarUDFImpl for IdSexFunc {
    fn name(&self) -> &str {
        "id_sex"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let ids = Strs::new(&a[0])?;
            Ok(str_rows(ids.len(), ids.len() * 3, |i, _| {
                match ids.get(i).map(id_validate) {
                    Some(Ok(info)) => Emit::Str(if info.male { "男" } else { "女" }),
                    _ => Emit::Null,
                }
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&SEX_DOC)
    }
}

/// The sex as the GB/T 2261.1 code (1 male, 2 female), for joining code tables.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdSexCodeFunc {
    signature: Signature,
}

impl Default for IdSexCodeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdSexCodeFunc {
    pub fn new() -> Self {
        Self {
            signature: signature(&[Arg::Str]),
        }
    }
}

static CODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        IDENTITY,
        "The sex encoded in an identity number as the GB/T 2261.1 code: 1 male, 2 female. \
         NULL if the number is not valid.",
        "id_sex_code(id)",
    )
    .with_sql_example(
        r#"```sql
> select id_sex_code('11010519491231002X') as code;
+------+
| code |
+------+
| 2    |
+------+
```"#,
    )
    .with_argument("id", "Identity number as text.")
    .with_related_udf("id_sex")
    .build()
});

impl ScalarUDFImpl for IdSexCodeFunc {
    fn name(&self) -> &str {
        "id_sex_code"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(args, |a| {
            let ids = Strs::new(&a[0])?;
            Ok(prim_rows::<Int32Type>(ids.len(), |i| {
                let info = id_validate(ids.get(i)?).ok()?;
                Some(if info.male { 1 } else { 2 })
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&CODE_DOC)
    }
}
