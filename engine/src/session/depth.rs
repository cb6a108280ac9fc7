//! How deeply a statement may nest, so that no statement can take the server
//! down.
//!
//! sqlparser builds a chain of binary operators (`1 + 1 + …`, `a OR b OR …`,
//! `x || y || …`) in a loop, so the parse itself never runs out of stack,
//! and it refuses other nesting past its own recursion limit. But the tree it
//! returns is as deep as the chain is long, and every later walk of it
//! recurses once per level: the compatibility rewrites, cloning, hashing,
//! printing, planning, and finally dropping it. A sum of 20,000 terms once
//! overflowed a connection thread's stack, and a stack overflow aborts the
//! whole process, every session with it.
//!
//! PostgreSQL answers such statements with SQLSTATE 54001 and goes on; so
//! does zhenjie. [`check`] runs before anything else walks the tree: a cheap
//! bound from the tokens lets ordinary statements through at once, and only
//! a statement with more operators than [`MAX_DEPTH`] is parsed and measured.
//! One that nests too deeply is taken apart bottom-up (so even dropping it
//! cannot recurse) and refused. The walks here are sqlparser's visitors,
//! which grow their stack on the heap as they go.

use crate::{EngineError, Result};
use datafusion::sql::sqlparser::ast::{
    Expr, ObjectName, Query, SetExpr, Statement, Value, Visit, VisitMut,
};
use datafusion::sql::sqlparser::ast::{Visitor, VisitorMut};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};
use std::ops::ControlFlow;
use std::task::Poll;

/// The deepest nesting of expressions and subqueries a statement may have.
/// Every thread that walks a statement's tree (connections, planning,
/// execution) has the stack for it with room to spare.
pub(crate) const MAX_DEPTH: usize = 1_000;

/// PostgreSQL's SQLSTATE for a statement nested too deeply.
pub(crate) const STATEMENT_TOO_COMPLEX: &str = "54001";

/// The stack parsing and planning run on, whatever thread polls them: room
/// for [`MAX_DEPTH`] levels of the deepest per-level recursion (a derived
/// `Clone` of sqlparser's tree in an unoptimised build takes about 4 KiB a
/// level) several times over. It is reserved address space; only what a
/// statement touches is ever backed by memory.
pub(crate) const STACK: usize = 64 << 20;

/// Below this much stack left, a poll moves to a fresh [`STACK`]-sized one.
const RED_ZONE: usize = 32 << 20;

/// Runs `f` where at least [`RED_ZONE`] of stack is left.
pub(crate) fn on_big_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(RED_ZONE, STACK, f)
}

/// A future each of whose polls runs with [`RED_ZONE`] of stack to spare:
/// planning recurses through a statement's depth inside a poll, and the
/// thread polling it may be a runtime worker with a small stack. A panic
/// inside (a bug) ends the statement with XX000 instead of the connection.
pub(crate) struct BigStack<'a, T>(
    pub std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>,
);

impl<T> std::future::Future for BigStack<'_, T> {
    type Output = Result<T>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Result<T>> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            on_big_stack(|| inner.poll(cx))
        })) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(Err(panicked())),
        }
    }
}

/// Runs `f` as [`on_big_stack`] does, a panic becoming XX000.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_big_stack(f)))
        .unwrap_or_else(|_| Err(panicked()))
}

fn panicked() -> EngineError {
    EngineError::new(
        crate::sqlstate::INTERNAL_ERROR,
        "internal error: planning the statement panicked",
    )
}

/// The error every refusal here gives, in PostgreSQL's words.
pub(crate) fn too_deep() -> EngineError {
    EngineError::new(
        STATEMENT_TOO_COMPLEX,
        format!(
            "stack depth limit exceeded: zhenjie accepts statements nesting up to {MAX_DEPTH} levels of expressions, subqueries and set operations, {MAX_DEPTH} relations, and 50 levels of brackets"
        ),
    )
}

/// Refuses `sql` if any of its statements nests more than [`MAX_DEPTH`]
/// levels deep.
/// `tokens` are `sql`'s (`None`: it does not tokenize; the parser refuses
/// it without building anything).
pub(crate) fn check(sql: &str, tokens: Option<&[TokenWithSpan]>) -> Result<()> {
    if tokens.map_or(0, operator_bound) <= MAX_DEPTH {
        return Ok(());
    }
    // Parsing is safe at any depth (see the module doc); text that does not
    // parse plainly is judged by its tokens alone, and has too many operators.
    let Ok(mut statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return Err(too_deep());
    };
    let mut deep = false;
    for statement in &statements {
        let mut depth = Depth::default();
        deep |= statement.visit(&mut depth).is_break();
    }
    if deep {
        for statement in &mut statements {
            dismantle(statement);
        }
        return Err(too_deep());
    }
    Ok(())
}

/// An upper bound on how deep `sql` can nest, or be planned: every level
/// of a tree sqlparser builds in a loop consumes an operator token (`+`,
/// `OR`, `UNION`, …), every level it builds by recursion an opening token
/// (`(`, `NOT`, `SELECT`, …), and every relation DataFusion joins left-deep a
/// name. So a statement with no more than [`MAX_DEPTH`] tokens other than
/// literals, commas and closing brackets cannot be deeper, and long lists of
/// values (`IN (1, 2, …)`) count nothing.
fn operator_bound(tokens: &[TokenWithSpan]) -> usize {
    tokens
        .iter()
        .filter(|t| {
            !matches!(
                t.token,
                Token::Whitespace(_)
                    | Token::Comma
                    | Token::Number(..)
                    | Token::SingleQuotedString(_)
                    | Token::DoubleQuotedString(_)
                    | Token::EscapedStringLiteral(_)
                    | Token::NationalStringLiteral(_)
                    | Token::DollarQuotedString(_)
                    | Token::Placeholder(_)
                    | Token::RParen
                    | Token::RBracket
                    | Token::SemiColon
                    | Token::Period
                    | Token::EOF
            )
        })
        .count()
}

/// Measures nesting, stopping as soon as it passes [`MAX_DEPTH`]: of
/// expressions and queries, of set operations inside a query (a chain of
/// `UNION`s is a left-deep tree), and the number of relations read (joins
/// and CTEs are planned left-deep).
#[derive(Default)]
struct Depth {
    now: usize,
    relations: usize,
}

impl Depth {
    fn enter(&mut self, levels: usize) -> ControlFlow<()> {
        self.now += levels;
        if self.now > MAX_DEPTH {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.enter(1 + set_operations(&query.body))
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.now -= 1 + set_operations(&query.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, _: &ObjectName) -> ControlFlow<()> {
        self.relations += 1;
        if self.relations > MAX_DEPTH {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.enter(1)
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.now -= 1;
        ControlFlow::Continue(())
    }
}

/// How deep a query body's set operations nest, without recursing.
fn set_operations(body: &SetExpr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(body, 0)];
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if let SetExpr::SetOperation { left, right, .. } = node {
            stack.push((left, depth + 1));
            stack.push((right, depth + 1));
        }
    }
    deepest
}

/// Replaces every expression by a leaf, innermost first, so the statement
/// can be dropped without recursing through its depth.
fn dismantle(statement: &mut Statement) {
    struct Leaves;
    impl VisitorMut for Leaves {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            *expr = Expr::value(Value::Null);
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut Leaves);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(sql: &str) -> Vec<TokenWithSpan> {
        datafusion::sql::sqlparser::tokenizer::Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap()
    }

    fn operator_bound(sql: &str) -> usize {
        super::operator_bound(&tokens(sql))
    }

    fn check(sql: &str) -> Result<()> {
        super::check(sql, Some(&tokens(sql)))
    }

    fn sum(terms: usize) -> String {
        format!("SELECT {}", vec!["1"; terms].join(" + "))
    }

    #[test]
    fn ordinary_statements_pass_on_their_tokens() {
        assert_eq!(
            operator_bound("SELECT a, b, c FROM t WHERE x IN (1, 2, 3)"),
            10
        );
        let list = (0..50_000).map(|i| i.to_string()).collect::<Vec<_>>();
        let sql = format!("SELECT * FROM t WHERE x IN ({})", list.join(", "));
        assert!(operator_bound(&sql) < 10);
        check(&sql).unwrap();
    }

    #[test]
    fn chains_are_measured_and_refused_past_the_limit() {
        check(&sum(MAX_DEPTH - 5)).unwrap();
        for sql in [
            sum(MAX_DEPTH + 1),
            sum(200_000),
            format!("SELECT {}", vec!["'a'"; 5_000].join(" || ")),
            format!(
                "SELECT 1 WHERE {}",
                (0..5_000)
                    .map(|i| format!("x = {i}"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
        ] {
            let err = check(&sql).unwrap_err();
            assert_eq!(err.code, STATEMENT_TOO_COMPLEX);
        }
    }

    #[test]
    fn unions_and_relations_count() {
        let unions = vec!["SELECT 1"; 1_500].join(" UNION ALL ");
        assert_eq!(check(&unions).unwrap_err().code, STATEMENT_TOO_COMPLEX);
        let joins = format!("SELECT 1 FROM {}", vec!["t"; 1_500].join(", "));
        assert_eq!(check(&joins).unwrap_err().code, STATEMENT_TOO_COMPLEX);
        check(&vec!["SELECT 1"; 100].join(" UNION ALL ")).unwrap();
    }

    #[test]
    fn many_shallow_operators_pass() {
        // 2,000 comparisons, each its own column: many operators, no depth.
        let cols = (0..2_000)
            .map(|i| format!("x = {i} AS c{i}"))
            .collect::<Vec<_>>();
        check(&format!("SELECT {}", cols.join(", "))).unwrap();
    }
}
