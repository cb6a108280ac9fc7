//! `relation_code(relation)` and `relation_group(relation)`: relations to the
//! household head (GB/T 4761-2008).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::rules::{relation_code, relation_group};
use crate::common::args::{signature, Arg};
use crate::common::arrays::{invoke, str_rows, Emit, Strs};
use crate::common::docs::HOUSEHOLDS;

/// Which relation function an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationOp {
    /// `relation_code`: text → GB/T 4761 code.
    Code,
    /// `relation_group`: text or code → group label.
    Group,
}

/// Turns the free-text "relation to head" of household registers into the
/// standard code, so that household rules (a head and a spouse, children
/// under 18) can be written once for every department's data.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RelationFunc {
    op: RelationOp,
    signature: Signature,
}

impl RelationFunc {
    pub fn new(op: RelationOp) -> Self {
        Self {
            op,
            signature: signature(&[Arg::Str]),
        }
    }
}

static CODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        HOUSEHOLDS,
        "The GB/T 4761-2008 code of a relation to the household head: 01 本人, 02 户主, \
         10-12 spouse, 20-29 sons (28 女婿), 30-39 daughters (38 儿媳), 40-49 grandchildren, \
         50-59 parents, 60-69 grandparents, 70-79 siblings, 80-97 other relatives, 99 \
         non-relative. Accepts the standard names, everyday words (老婆, 儿子, 外婆, 姥爷, \
         保姆), register forms (户主之子, 之妻) and traditional characters; a code (2 or 02) \
         is returned as a two-digit code. NULL if not recognised.",
        "relation_code(relation)",
    )
    .with_sql_example(
        r#"```sql
> select relation_code('户主') as head, relation_code('之妻') as wife, relation_code('户主之子') as son, relation_code('外婆') as grandma, relation_code('2') as code;
+------+------+-----+---------+------+
| head | wife | son | grandma | code |
+------+------+-----+---------+------+
| 02   | 12   | 20  | 64      | 02   |
+------+------+-----+---------+------+
```"#,
    )
    .with_argument("relation", "Relation to the household head, as text or code.")
    .with_related_udf("relation_group")
    .build()
});

static GROUP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        HOUSEHOLDS,
        "The group of a relation to the household head (given as text or code, see \
         relation_code): 户主, 配偶, 子女, 子女配偶 (女婿, 儿媳), 孙辈, 父母, 祖辈, 兄弟姐妹, \
         其他亲属 or 非亲属. NULL if not recognised.",
        "relation_group(relation)",
    )
    .with_sql_example(
        r#"```sql
> select relation_group('长女') as a, relation_group('儿媳') as b, relation_group('12') as c;
+------+----------+------+
| a    | b        | c    |
+------+----------+------+
| 子女 | 子女配偶 | 配偶 |
+------+----------+------+
```"#,
    )
    .with_argument(
        "relation",
        "Relation to the household head, as text or code.",
    )
    .with_related_udf("relation_code")
    .build()
});

impl ScalarUDFImpl for RelationFunc {
    fn name(&self) -> &str {
        match self.op {
            RelationOp::Code => "relation_code",
            RelationOp::Group => "relation_group",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let op = self.op;
        invoke(args, |a| {
            let relations = Strs::new(&a[0])?;
            Ok(str_rows(relations.len(), relations.len() * 4, |i, _| {
                let code = relations.get(i).and_then(relation_code);
                let out = match op {
                    RelationOp::Code => code,
                    RelationOp::Group => code.and_then(relation_group),
                };
                out.map_or(Emit::Null, Emit::Str)
            }))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.op {
            RelationOp::Code => &CODE_DOC,
            RelationOp::Group => &GROUP_DOC,
        })
    }
}
