//! Session commands answered without planning a query: SET, RESET, SHOW
//! and the transaction block.

use super::{Block, Output, RowStream, Session};
use crate::error::sqlstate;
use crate::{EngineError, Result};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::sqlparser::ast::{self, Statement};
use std::sync::Arc;

/// Session commands understood without planning a query.
#[derive(Debug, Clone)]
pub enum Command {
    /// `SET name = value`.
    Set(String, String),
    /// `RESET name` / `RESET ALL`.
    Reset(Option<String>),
    /// `SHOW name` / `SHOW ALL`.
    Show(Option<String>),
    /// `BEGIN` / `START TRANSACTION`: accepted for read-only work.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    /// `ROLLBACK TO SAVEPOINT`: ends a failed block's failure (there is
    /// nothing else to undo in read-only work).
    RollbackToSavepoint,
    /// Statements that change nothing here (`DISCARD ALL`, `DEALLOCATE`, …),
    /// answered with their command tag.
    NoOp(&'static str),
    /// `CALL link_decide(list, row_key, decision [, resident])`: a clerk's
    /// decision on a list row's match (see `linkage::decisions`).
    LinkDecide {
        list: String,
        row_key: String,
        decision: String,
        resident: Option<String>,
    },
}

impl Session {
    /// Moves DataFusion's session time zone along with the `timezone`
    /// setting, and refreshes the functions that depend on it (`now()`).
    fn set_time_zone(&self, zone: &str) -> Result<()> {
        use datafusion::execution::session_state::SessionStateBuilder;
        let invalid = || {
            EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("invalid value for parameter \"TimeZone\": \"{zone}\""),
            )
        };
        zone.parse::<datafusion::arrow::array::timezone::Tz>()
            .map_err(|_| invalid())?;
        let state = self.ctx.state_ref();
        let mut next = state.read().clone();
        next.config_mut()
            .options_mut()
            .set("datafusion.execution.time_zone", zone)
            .map_err(|_| invalid())?;
        *state.write() = SessionStateBuilder::new_from_existing(next).build();
        Ok(())
    }

    pub(super) fn run_command(&self, cmd: &Command) -> Result<Output> {
        if matches!(cmd, Command::Set(..) | Command::Reset(_)) {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let mut settings = self.settings.lock().expect("settings lock");
        match cmd {
            Command::Set(name, value) => {
                if name.starts_with("datafusion.") {
                    if !self.principal.is_admin() {
                        return Err(EngineError::denied(format!(
                            "permission denied to set parameter \"{name}\""
                        )));
                    }
                    let state = self.ctx.state_ref();
                    state.write().config_mut().options_mut().set(name, value)?;
                    return Ok(Output::Command("SET"));
                }
                if name.starts_with("zhenjie.") {
                    return Err(EngineError::denied(format!(
                        "permission denied to set parameter \"{name}\""
                    )));
                }
                if name == "timezone" {
                    self.set_time_zone(value)?;
                }
                settings
                    .set(name, value)
                    .map_err(|(code, m)| EngineError::new(code, m))?;
                Ok(Output::Command("SET"))
            }
            Command::Reset(name) => {
                let fresh = super::fresh_settings(&self.engine, &self.principal);
                match name {
                    None => *settings = fresh,
                    Some(n) => {
                        if let Some(v) = fresh.get(n) {
                            let _ = settings.set(n, v);
                        }
                    }
                }
                Ok(Output::Command("RESET"))
            }
            Command::Show(name) => {
                let (cols, rows): (Vec<&str>, Vec<Vec<String>>) = match name {
                    None => (
                        vec!["name", "setting"],
                        settings
                            .all()
                            .map(|(k, v)| vec![k.to_string(), v.to_string()])
                            .collect(),
                    ),
                    Some(n) => {
                        let v = settings.get(n).ok_or_else(|| {
                            EngineError::new(
                                sqlstate::UNDEFINED_OBJECT,
                                format!("unrecognized configuration parameter \"{n}\""),
                            )
                        })?;
                        (vec![n.as_str()], vec![vec![v.to_string()]])
                    }
                };
                Ok(Output::Rows(text_rows(&cols, rows)?))
            }
            Command::Begin => {
                self.block.lock().expect("block lock").open = true;
                Ok(Output::Command("BEGIN"))
            }
            Command::Commit => {
                self.cursors.end_transaction();
                let block = std::mem::take(&mut *self.block.lock().expect("block lock"));
                // Committing a failed block rolls it back, and says so.
                Ok(Output::Command(if block.failed {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                }))
            }
            Command::Rollback => {
                self.cursors.end_transaction();
                *self.block.lock().expect("block lock") = Block::default();
                Ok(Output::Command("ROLLBACK"))
            }
            Command::RollbackToSavepoint => {
                self.block.lock().expect("block lock").failed = false;
                Ok(Output::Command("ROLLBACK"))
            }
            Command::NoOp(tag) => Ok(Output::Command(tag)),
            Command::LinkDecide {
                list,
                row_key,
                decision,
                resident,
            } => {
                drop(settings);
                crate::linkage::decisions::record(
                    &self.engine,
                    &self.principal,
                    list,
                    row_key,
                    decision,
                    resident.as_deref(),
                )?;
                Ok(Output::Command("CALL"))
            }
        }
    }
}

/// A small all-text result (SHOW and friends).
fn text_rows(cols: &[&str], rows: Vec<Vec<String>>) -> Result<RowStream> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays = (0..cols.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )) as datafusion::arrow::array::ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let stream = futures::stream::iter(vec![Ok(batch)]);
    Ok(RowStream {
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
    })
}

/// Recognises the session commands; `Ok(None)` for everything else.
pub(super) fn command_of(statement: &Statement) -> Result<Option<Command>> {
    use ast::Set;
    let value_text = |e: &ast::Expr| -> String {
        match e {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            ast::Expr::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        }
    };
    Ok(Some(match statement {
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) => {
            let name = variable.to_string().trim_matches('"').to_ascii_lowercase();
            let value = values.iter().map(value_text).collect::<Vec<_>>().join(", ");
            Command::Set(name, value)
        }
        Statement::Set(Set::SetTimeZone { value, .. }) => {
            Command::Set("timezone".into(), value_text(value))
        }
        Statement::Set(Set::SetNames { charset_name, .. }) => {
            Command::Set("client_encoding".into(), charset_name.value.clone())
        }
        Statement::Set(Set::SetTransaction { .. }) => Command::NoOp("SET"),
        // Resetting to the login principal changes nothing (Npgsql's pool
        // reset sends it); becoming anyone else is refused below.
        Statement::Set(Set::SetSessionAuthorization(ast::SetSessionAuthorizationParam {
            kind: ast::SetSessionAuthorizationParamKind::Default,
            ..
        })) => Command::NoOp("SET"),
        Statement::Set(Set::SetSessionAuthorization(_)) | Statement::Set(Set::SetRole { .. }) => {
            return Err(EngineError::denied(
                "permission denied: the session's principal cannot be changed",
            ))
        }
        Statement::ShowVariable { variable } => {
            let name = variable
                .iter()
                .map(|i| i.value.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            match name.as_str() {
                "all" => Command::Show(None),
                "time zone" => Command::Show(Some("timezone".into())),
                "transaction isolation level" => {
                    Command::Show(Some("transaction_isolation".into()))
                }
                _ => Command::Show(Some(name)),
            }
        }
        Statement::StartTransaction { .. } => Command::Begin,
        Statement::Commit { .. } => Command::Commit,
        Statement::Rollback {
            savepoint: None, ..
        } => Command::Rollback,
        Statement::Discard { .. } => Command::NoOp("DISCARD ALL"),
        // Savepoints have nothing to undo in read-only work; drivers open
        // them for nested transaction blocks (psycopg's `conn.transaction()`).
        Statement::Savepoint { .. } => Command::NoOp("SAVEPOINT"),
        // zhenjie sends no notifications; there is nothing to stop listening to.
        Statement::UNLISTEN { .. } => Command::NoOp("UNLISTEN"),
        Statement::ReleaseSavepoint { .. } => Command::NoOp("RELEASE"),
        Statement::Rollback {
            savepoint: Some(_), ..
        } => Command::RollbackToSavepoint,
        Statement::Deallocate { .. } => Command::NoOp("DEALLOCATE"),
        Statement::Call(f)
            if f.name.to_string().to_ascii_lowercase()
                == crate::linkage::decisions::LINK_DECIDE =>
        {
            let usage = || {
                EngineError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    "CALL link_decide(list text, row_key text, decision text [, resident text]): \
                     decision is accept or reject; an accept names the resident as shown",
                )
            };
            let ast::FunctionArguments::List(list) = &f.args else {
                return Err(usage());
            };
            let mut args = Vec::new();
            for a in &list.args {
                match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                        args.push(value_text(e))
                    }
                    _ => return Err(usage()),
                }
            }
            match args.as_slice() {
                [l, k, d] | [l, k, d, _] => Command::LinkDecide {
                    list: l.clone(),
                    row_key: k.clone(),
                    decision: d.to_ascii_lowercase(),
                    resident: args.get(3).cloned(),
                },
                _ => return Err(usage()),
            }
        }
        _ => {
            let text = statement.to_string();
            let upper = text.trim().to_ascii_uppercase();
            if let Some(rest) = upper.strip_prefix("RESET ") {
                let name = rest.trim().to_ascii_lowercase();
                Command::Reset((name != "all").then_some(name))
            } else {
                return Ok(None);
            }
        }
    }))
}
