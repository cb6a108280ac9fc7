//! From SQL text to a planned statement: splitting, PostgreSQL-compatibility
//! rewrites, the read-only check, and what each statement kind plans to.

use super::commands::{command_of, Command};
use super::depth;
use super::Session;
use crate::error::sqlstate;
use crate::governance;
use crate::postgres::copy::CopyOptions;
use crate::postgres::cursor::FetchCount;
use crate::speed::plan_cache::PlanCache;
use crate::{EngineError, Result, SCHEMA};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{self, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{TokenWithSpan, Tokenizer};

/// One statement of a query string, with its own text for the audit log.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The statement's text as the client sent it (trimmed).
    pub text: String,
    /// The parsed statement, with PostgreSQL-compatibility rewrites applied.
    pub statement: Statement,
    /// For a tool's catalog query with a subquery DataFusion may not plan:
    /// the compatibility parser's reading, with those subqueries as NULL,
    /// used only when the statement as written does not plan.
    fallback: Option<Statement>,
}

impl Parsed {
    /// Applies the parameter types a client declared (SQL type names, in
    /// `$1..$n` order; `None`: not declared), so the plan and its result
    /// columns have them.
    pub fn with_parameter_types(mut self, types: &[Option<String>]) -> Parsed {
        crate::postgres::type_parameters(&mut self.statement, types);
        if let Some(fallback) = &mut self.fallback {
            crate::postgres::type_parameters(fallback, types);
        }
        self
    }
}

/// A statement ready to run: planned once, run any number of times (the
/// extended protocol's prepared statements are these).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The statement's text, recorded with every run.
    pub text: String,
    /// What running it does.
    pub kind: PreparedKind,
    /// For each result column that is a table's column passed through, the
    /// table's OID and the column's number (PostgreSQL's RowDescription
    /// carries them; pgjdbc's `getBaseTableName` and DBeaver read them).
    pub sources: Vec<Option<(i32, i16)>>,
    /// A query's physical plan, kept for its next run (see `plan_cache`).
    pub(super) cache: PlanCache,
}

/// What a prepared statement does.
#[derive(Debug, Clone)]
pub enum PreparedKind {
    /// A query with a logical plan (parameters still unbound).
    Query(LogicalPlan),
    /// A session command (SET, SHOW, BEGIN, …) handled without DataFusion.
    Command(Command),
    /// `COPY (query) TO STDOUT`: the query's rows, written in a COPY format.
    Copy(LogicalPlan, CopyOptions),
    /// `DECLARE name CURSOR FOR query`: starts the query, rows come by FETCH.
    Declare {
        /// The cursor's name.
        name: String,
        /// The query (parameters still unbound).
        plan: LogicalPlan,
        /// `WITH HOLD`: the cursor outlives its transaction.
        hold: bool,
    },
    /// `FETCH n FROM name`: the cursor's next rows.
    Fetch {
        /// The cursor's name.
        name: String,
        /// How many rows.
        count: FetchCount,
        /// The cursor's columns (known when the FETCH is prepared).
        schema: SchemaRef,
    },
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    Close(Option<String>),
    /// Nothing to do (an empty statement).
    Empty,
}

impl Session {
    /// Splits SQL text into statements, with PostgreSQL-compatibility rewrites
    /// of the catalog queries clients send. Text that does not parse is
    /// audited as one failed statement.
    pub async fn parse(&self, sql: &str) -> Result<Vec<Parsed>> {
        let pending = self.pending(sql);
        // The depth check comes before anything walks the parsed tree; the
        // parse and the rewrites run on a stack sized for the deepest
        // statement it lets through.
        let tokens = tokenize(sql);
        let parsed = depth::guarded(|| {
            depth::check(sql, tokens.as_deref())?;
            let mut statements = self.parser.parse(sql).map_err(EngineError::from)?;
            for (statement, fallback) in &mut statements {
                crate::postgres::rewrite(statement)?;
                if let Some(fallback) = fallback {
                    crate::postgres::rewrite(fallback)?;
                }
            }
            Ok(statements)
        });
        let statements = match parsed {
            Ok(s) => s,
            Err(e) => return Err(self.audit_failure(pending, e).await),
        };
        // One text per statement; where the split does not line up with the
        // parser's statements, the statement's own rendering stands in.
        let texts = tokens
            .as_deref()
            .and_then(|t| split_statements(sql, t))
            .filter(|t| t.len() == statements.len());
        Ok(statements
            .into_iter()
            .enumerate()
            .map(|(i, (statement, fallback))| Parsed {
                text: match &texts {
                    Some(t) => t[i].clone(),
                    None => statement.to_string(),
                },
                statement,
                fallback,
            })
            .collect())
    }

    /// Plans one statement for this principal. Only reads are allowed; a
    /// refused or unplannable statement is audited here.
    pub async fn prepare(&self, parsed: &Parsed) -> Result<Prepared> {
        let pending = self.pending(&parsed.text);
        let ends_block = matches!(
            parsed.statement,
            Statement::Commit { .. } | Statement::Rollback { .. }
        );
        if !ends_block && self.block.lock().expect("block lock").failed {
            let e = EngineError::new(
                sqlstate::IN_FAILED_SQL_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            );
            return Err(self.audit_failure(pending, e).await);
        }
        let mut planned = depth::BigStack(Box::pin(self.plan(&parsed.statement))).await;
        if let Some(fallback) = &parsed.fallback {
            if !matches!(&planned, Ok(PreparedKind::Query(plan)) if self.executable(plan)) {
                planned = depth::BigStack(Box::pin(self.plan(fallback))).await;
            }
        }
        match planned {
            Ok(kind) => Ok(Prepared {
                text: parsed.text.clone(),
                sources: match &kind {
                    PreparedKind::Query(plan) => self.column_sources(plan),
                    _ => Vec::new(),
                },
                kind,
                cache: PlanCache::default(),
            }),
            Err(e) => Err(self.audit_failure(pending, e).await),
        }
    }

    /// Whether DataFusion turned every subquery of `plan` into a join (a
    /// subquery left in the optimized plan cannot run).
    fn executable(&self, plan: &LogicalPlan) -> bool {
        use datafusion::common::tree_node::TreeNode;
        let Ok(optimized) = self.ctx.state().optimize(plan) else {
            return false;
        };
        let mut subquery = false;
        let _ = optimized.apply_with_subqueries(|node| {
            for e in node.expressions() {
                subquery |= e
                    .exists(|e| {
                        Ok(matches!(
                            e,
                            datafusion::logical_expr::Expr::ScalarSubquery(_)
                                | datafusion::logical_expr::Expr::Exists(_)
                                | datafusion::logical_expr::Expr::InSubquery(_)
                        ))
                    })
                    .unwrap_or(true);
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        });
        !subquery
    }

    async fn plan(&self, statement: &Statement) -> Result<PreparedKind> {
        if let Some(cmd) = command_of(statement)? {
            return Ok(PreparedKind::Command(cmd));
        }
        match statement {
            Statement::Query(_) => {}
            Statement::Copy { .. } => {
                let (query, options) = crate::postgres::copy::copy_to_stdout(statement)?;
                let plan = self.plan_read(query_statement(Box::new(query))).await?;
                return Ok(PreparedKind::Copy(plan, options));
            }
            Statement::Declare { stmts } => {
                let [declare] = stmts.as_slice() else {
                    return Err(refuse(statement));
                };
                let (Some(query), Some(name)) = (&declare.for_query, declare.names.first()) else {
                    return Err(refuse(statement));
                };
                let plan = self.plan_read(query_statement(query.clone())).await?;
                return Ok(PreparedKind::Declare {
                    name: name.value.clone(),
                    plan,
                    hold: declare.hold == Some(true),
                });
            }
            Statement::Fetch {
                name,
                direction,
                into: None,
                ..
            } => {
                let count = crate::postgres::cursor::fetch_count(direction)?;
                return Ok(PreparedKind::Fetch {
                    name: name.value.clone(),
                    count,
                    schema: self.cursors.schema(&name.value)?,
                });
            }
            Statement::Close { cursor } => {
                return Ok(PreparedKind::Close(match cursor {
                    ast::CloseCursor::All => None,
                    ast::CloseCursor::Specific { name } => Some(name.value.clone()),
                }));
            }
            Statement::Explain { .. } => {
                // Its options read once, for the level check and the plan
                // (DESCRIBE is not an EXPLAIN and plans as it is).
                if let Some(explain) = crate::postgres::explain::Explain::of(statement)? {
                    explain.check(
                        self.principal.level,
                        governance::masks_anything(&self.engine, &self.principal),
                    )?;
                    let plan = self.plan_read(explain.to_datafusion()).await?;
                    return Ok(PreparedKind::Query(plan));
                }
            }
            other => return Err(refuse(other)),
        }
        let statement = DfStatement::Statement(Box::new(statement.clone()));
        Ok(PreparedKind::Query(self.plan_read(statement).await?))
    }

    /// Plans a statement that may only read.
    async fn plan_read(&self, statement: DfStatement) -> Result<LogicalPlan> {
        let (generation, state) = self.statement_state();
        let plan = state.statement_to_plan(statement).await?;
        let plan = crate::postgres::narrow_output_types(plan)?;
        // The types PostgreSQL's semantics give are the types Describe
        // reports: the whole analyzer runs here, once (again only for a
        // prepared statement's parameter values, see `start_query`).
        let plan = state
            .analyzer()
            .execute_and_check(plan, state.config_options(), |_, _| {})?;
        if matches!(
            plan,
            LogicalPlan::Dml(_)
                | LogicalPlan::Ddl(_)
                | LogicalPlan::Copy(_)
                | LogicalPlan::Statement(_)
        ) {
            return Err(EngineError::denied(
                "permission denied: zhenjie serves governed data read-only",
            ));
        }
        self.leave_state(generation, state);
        Ok(plan)
    }

    /// Where each output column of `plan` comes from (see [`Prepared::sources`]).
    fn column_sources(&self, plan: &LogicalPlan) -> Vec<Option<(i32, i16)>> {
        let through = |node: &LogicalPlan| {
            matches!(
                node,
                LogicalPlan::Projection(_)
                    | LogicalPlan::Filter(_)
                    | LogicalPlan::Sort(_)
                    | LogicalPlan::Limit(_)
            )
        };
        (0..plan.schema().fields().len())
            .map(|i| {
                let (scan, column) = crate::governance::lineage::source_column(plan, i, &through)?;
                let schema = scan.table_name.schema().unwrap_or(SCHEMA);
                let table = format!("{schema}.{}", scan.table_name.table());
                Some((
                    *self.relation_oids.get(&table)?,
                    i16::try_from(column + 1).ok()?,
                ))
            })
            .collect()
    }
}

/// `sql`'s tokens with their places, read once for the depth check and
/// the split into statements (`None`: it does not tokenize, and the parser
/// will say why).
fn tokenize(sql: &str) -> Option<Vec<TokenWithSpan>> {
    Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()
}

/// The text of each statement of `sql`, as sent (trimmed), split at the
/// top-level semicolons the tokenizer finds; statements with no tokens but
/// whitespace and comments are dropped, as the parser drops them. `None` if
/// the text does not tokenize.
fn split_statements(sql: &str, tokens: &[TokenWithSpan]) -> Option<Vec<String>> {
    use datafusion::sql::sqlparser::tokenizer::{Location, Token};
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // Locations count lines and characters from 1.
    let offset = |loc: Location| -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *line_starts.get(line)?;
        let rest = &sql[start..];
        Some(
            start
                + rest
                    .char_indices()
                    .nth(column)
                    .map_or(rest.len(), |(i, _)| i),
        )
    };
    let (mut out, mut begin, mut content) = (Vec::new(), 0, false);
    for t in tokens {
        match t.token {
            Token::SemiColon => {
                let at = offset(t.span.start)?;
                if content {
                    out.push(sql.get(begin..at)?.trim().to_string());
                }
                begin = at + 1;
                content = false;
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => content = true,
        }
    }
    if content {
        out.push(sql.get(begin..)?.trim().to_string());
    }
    Some(out)
}

fn refuse(statement: &Statement) -> EngineError {
    match statement {
        Statement::Copy { to: false, .. } => {
            EngineError::denied("permission denied: COPY FROM is not allowed; zhenjie is read-only")
        }
        Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_)
        | Statement::Merge { .. }
        | Statement::Truncate { .. }
        | Statement::CreateTable(_)
        | Statement::CreateView { .. }
        | Statement::CreateIndex(_)
        | Statement::CreateSchema { .. }
        | Statement::CreateDatabase { .. }
        | Statement::CreateFunction(_)
        | Statement::AlterTable { .. }
        | Statement::Drop { .. }
        | Statement::Grant { .. }
        | Statement::Revoke { .. } => {
            EngineError::denied("permission denied: zhenjie serves governed data read-only")
        }
        _ => EngineError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            "this statement is not supported by zhenjie",
        ),
    }
}

/// A query as DataFusion's planner takes it.
fn query_statement(query: Box<ast::Query>) -> DfStatement {
    DfStatement::Statement(Box::new(Statement::Query(query)))
}

#[cfg(test)]
mod tests {
    use super::{split_statements, tokenize};

    fn split(sql: &str) -> Option<Vec<String>> {
        split_statements(sql, &tokenize(sql)?)
    }

    #[test]
    fn statements_keep_their_own_text() {
        assert_eq!(
            split("SELECT 1;  select 'a;b' -- c;\n , 2 ;; /* x; */ ;\nSHOW ALL").unwrap(),
            vec!["SELECT 1", "select 'a;b' -- c;\n , 2", "SHOW ALL"]
        );
        assert_eq!(
            split("SELECT '名字';\r\nSELECT \"列\";").unwrap(),
            vec!["SELECT '名字'", "SELECT \"列\""]
        );
        assert!(split("  -- nothing\n").unwrap().is_empty());
        assert!(split("SELECT 'unterminated").is_none());
    }
}
