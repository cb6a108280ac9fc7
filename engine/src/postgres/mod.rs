//! What PostgreSQL clients expect of a server, beyond running SQL:
//!
//! * [`catalog`] — `pg_catalog` with comments, stable OIDs, type modifiers and
//!   view definitions, the crate's tables reshaped to PostgreSQL's types;
//! * [`empty_catalog`] — empty tables of the right shape for what zhenjie
//!   does not have (locks, indexes, sequences, …);
//! * [`proc`] — zhenjie's functions in `pg_proc`;
//! * [`settings`] and [`live_settings`] — `SET`/`SHOW` and `pg_settings`;
//! * [`information_schema`] — PostgreSQL's type names and views;
//! * [`functions`] — PostgreSQL functions DataFusion lacks;
//! * [`ordered_set`] — `mode()` and `percentile_disc` (WITHIN GROUP);
//! * [`json`] — `json`/`jsonb` operators and functions over their text;
//! * [`rewrite`] — the SQL clients send, rewritten before planning;
//! * [`types`] — type names DataFusion does not plan, and result types
//!   narrowed to PostgreSQL's;
//! * [`copy`], [`cursor`], [`explain`] — `COPY … TO STDOUT`, SQL cursors, and
//!   `EXPLAIN` in both of PostgreSQL's spellings (with the level check on
//!   what a plan may show).
//!
//! Everything here answers for one session, so it only ever shows what that
//! session's principal may query. Not here: the wire protocol (the
//! `zhenjie-server` crate) and governance itself (`governance`).

mod casts;
mod checks;
pub(crate) mod json;
mod numeric_math;
mod ordered_set;
pub(crate) use make::make_udfs;
mod make;
pub(crate) use numeric_math::scale_udfs;
pub(crate) use ordered_set::ordered_set_udafs;
mod zones;
pub(crate) use zones::at_time_zone_udf;
mod intervals;
mod to_char;
pub(crate) use intervals::{age_udf, interval_mul_udf, justify_udfs};
pub(crate) use to_char::to_char_udf;
mod catalog;
pub mod copy;
pub mod cursor;
pub(crate) mod empty_catalog;
pub(crate) mod explain;
mod functions;
mod information_schema;
mod live_settings;
mod proc;
mod rewrite;
pub(crate) mod settings;
pub mod text;
pub(crate) use casts::{BooleanLiterals, PostgresCasts};
pub(crate) use checks::CheckedArithmetic;
mod types;

pub(crate) use catalog::*;
pub(crate) use functions::*;
pub(crate) use information_schema::*;
use live_settings::*;
use proc::*;
pub(crate) use rewrite::*;
pub(crate) use types::*;

use crate::{Engine, EngineError, Result};
use async_trait::async_trait;
use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::datasource::ViewTable;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

/// The functions PostgreSQL's rules and planners put into plans, the same
/// in every session: what a cluster's executors must register for such
/// plans to travel.
#[cfg(feature = "cluster")]
pub(crate) fn planned_udfs() -> Vec<std::sync::Arc<datafusion::logical_expr::ScalarUDF>> {
    let mut all = checks::planned_udfs();
    all.extend(casts::planned_udfs());
    all.push(numeric_math::DIVIDE.clone());
    all.push(intervals::TIMESTAMP_DIFF.clone());
    all.push(intervals::INTERVAL_EPOCH.clone());
    all.push(zones::LOCAL_MIDNIGHT.clone());
    all.extend(json::JSON_IN.iter().cloned());
    all.extend(json::LIST_TO_JSON.iter().cloned());
    all
}
