//! Which of a user's predicates may run below the fence barrier.
//!
//! The barrier keeps every user expression above the fence, because an
//! expression evaluated on a row outside it could fail on that row's values
//! (a division, a cast) and so reveal them. Some predicates cannot: a
//! comparison of an unmasked column with a constant, `LIKE` with a constant
//! pattern, an `IN` list of constants, `IS NULL`, and AND/OR/NOT of those
//! never raise an error and call nothing of the user's. PostgreSQL lets such
//! *leakproof* predicates run below a security-barrier view; zhenjie does
//! the same, so they reach the Parquet scan and prune row groups and pages
//! (a lookup by identity number reads one row group, not the whole file).
//!
//! A predicate that passes here runs below the barrier *together with* the
//! fence, never instead of it: the governed scan applies it to its fenced
//! and masked rows, exactly what the filter above would have been given, so
//! the answer is the same with or without it. What it
//! may still change is how long a query takes: as in PostgreSQL, a leakproof
//! predicate's speed may depend on rows outside the fence (pruning).
//!
//! Not leakproof, so kept above: any function call, arithmetic (overflow),
//! casts that can fail, `SIMILAR TO` and regular expressions, subqueries,
//! and any reference to a masked column (the raw value is not the user's).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::{Between, InList, Like};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator};

/// Whether `e` may be evaluated on rows outside the fence: built only from
/// the `raw` (unmasked) columns of `schema`, constants, comparisons, `LIKE`
/// with a constant pattern, `IN` lists of constants, `BETWEEN`, NULL tests
/// and boolean connectives.
pub(crate) fn is_leakproof(e: &Expr, schema: &DFSchema, raw: &dyn Fn(&str) -> bool) -> bool {
    let operand = |e: &Expr| is_operand(e, schema, raw);
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And | Operator::Or => {
                is_leakproof(left, schema, raw) && is_leakproof(right, schema, raw)
            }
            op if is_comparison(op) => {
                operand(left) && operand(right) && comparable(left, right, schema)
            }
            _ => false,
        },
        Expr::Not(inner) => is_leakproof(inner, schema, raw),
        Expr::IsNull(inner)
        | Expr::IsNotNull(inner)
        | Expr::IsTrue(inner)
        | Expr::IsFalse(inner)
        | Expr::IsNotTrue(inner)
        | Expr::IsNotFalse(inner)
        | Expr::IsUnknown(inner)
        | Expr::IsNotUnknown(inner) => operand(inner) || is_leakproof(inner, schema, raw),
        Expr::Like(Like {
            expr,
            pattern,
            escape_char,
            case_insensitive: _,
            negated: _,
        }) => {
            // (A pattern's error, a bad escape, depends on the constant only.)
            operand(expr)
                && matches!(pattern.as_ref(), Expr::Literal(..))
                && escape_char.is_none()
                && is_text(expr, schema)
        }
        Expr::InList(InList { expr, list, .. }) => {
            operand(expr)
                && list
                    .iter()
                    .all(|i| matches!(i, Expr::Literal(..)) && comparable(expr, i, schema))
        }
        Expr::Between(Between {
            expr, low, high, ..
        }) => {
            operand(expr)
                && operand(low)
                && operand(high)
                && comparable(expr, low, schema)
                && comparable(expr, high, schema)
        }
        Expr::Column(_) => operand(e) && e.get_type(schema).is_ok_and(|t| t == DataType::Boolean),
        Expr::Literal(..) => true,
        _ => false,
    }
}

/// The comparisons that cannot fail on their operands' values (not
/// DataFusion's `is_comparison_operator`, which counts regular expressions,
/// whose pattern can fail to compile).
pub(crate) fn is_comparison(op: &Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// A value a comparison may read: a raw column, a constant, or one of them
/// under a cast that cannot fail.
fn is_operand(e: &Expr, schema: &DFSchema, raw: &dyn Fn(&str) -> bool) -> bool {
    match e {
        Expr::Column(c) => raw(&c.name) && schema.has_column(c),
        Expr::Literal(..) => true,
        Expr::Cast(c) => {
            is_operand(&c.expr, schema, raw)
                && c.expr
                    .get_type(schema)
                    .is_ok_and(|from| cannot_fail(&from, c.field.data_type()))
        }
        _ => false,
    }
}

/// Casts no value can make fail: between text types, and widening integers
/// and floats.
fn cannot_fail(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let text = |t: &DataType| matches!(t, Utf8 | LargeUtf8 | Utf8View);
    let rank = |t: &DataType| match t {
        Int8 => Some(1),
        Int16 => Some(2),
        Int32 => Some(3),
        Int64 => Some(4),
        _ => None,
    };
    from == to
        || (text(from) && text(to))
        || matches!((rank(from), rank(to)), (Some(a), Some(b)) if a <= b)
        || matches!((from, to), (Float32, Float64))
}

fn is_text(e: &Expr, schema: &DFSchema) -> bool {
    e.get_type(schema)
        .is_ok_and(|t| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
}

/// Whether two operands compare without a conversion that could fail:
/// the same type, or both text.
fn comparable(a: &Expr, b: &Expr, schema: &DFSchema) -> bool {
    match (a.get_type(schema), b.get_type(schema)) {
        (Ok(x), Ok(y)) => {
            x == y || (is_text(a, schema) && is_text(b, schema)) || y == DataType::Null
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::{cast, col, lit};
    use datafusion::prelude::lit_timestamp_nano;

    fn schema() -> DFSchema {
        DFSchema::try_from(Schema::new(vec![
            Field::new("grid_code", DataType::Utf8, true),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("age", DataType::Int32, true),
            Field::new("alive", DataType::Boolean, true),
        ]))
        .unwrap()
    }

    fn leakproof(e: Expr) -> bool {
        // `name` is masked for this principal.
        is_leakproof(&e, &schema(), &|c| c != "name")
    }

    #[test]
    fn comparisons_of_raw_columns_with_constants_go_below() {
        assert!(leakproof(col("id_number").eq(lit("370602199001011234"))));
        assert!(leakproof(col("grid_code").like(lit("370687%"))));
        assert!(leakproof(col("age").between(lit(60i32), lit(80i32))));
        assert!(leakproof(
            col("age").in_list(vec![lit(1i32), lit(2i32)], false)
        ));
        assert!(leakproof(col("alive").and(!col("grid_code").is_null())));
        assert!(leakproof(
            col("grid_code")
                .gt_eq(lit("3706"))
                .or(col("age").lt(lit(3i32)))
        ));
        assert!(leakproof(cast(col("age"), DataType::Int64).eq(lit(5i64))));
    }

    #[test]
    fn what_could_fail_or_read_a_mask_stays_above() {
        // A masked column.
        assert!(!leakproof(col("name").eq(lit("张伟"))));
        // Arithmetic can overflow, a division fail.
        assert!(!leakproof((col("age") + lit(1i32)).eq(lit(5i32))));
        assert!(!leakproof((lit(1i32) / col("age")).eq(lit(1i32))));
        // A cast of text to a number fails on the text.
        assert!(!leakproof(
            cast(col("id_number"), DataType::Int64).eq(lit(5i64))
        ));
        // Any function.
        assert!(!leakproof(
            datafusion::functions::string::expr_fn::starts_with(col("grid_code"), lit("37"))
        ));
        // A comparison across types would need a conversion.
        assert!(!leakproof(col("grid_code").eq(lit_timestamp_nano(0))));
        // One bad conjunct spoils the whole predicate.
        assert!(!leakproof(
            col("alive").and((lit(1i32) / col("age")).eq(lit(1i32)))
        ));
        // An unknown column.
        assert!(!leakproof(col("salary").eq(lit(1i32))));
    }
}
