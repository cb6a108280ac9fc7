//! Domain SQL functions for a city's data: resident identity numbers (GB 11643),
//! Unified Social Credit Codes (GB 32100), names, phones, addresses, households,
//! enterprise profiling and the masks governance applies.
//!
//! Each family is a module; each SQL function is a `ScalarUDFImpl` with its own
//! `Documentation`, in the style of DataFusion's function crates. The pure rules
//! (check digits, parsing) are plain Rust functions beside them so the demo
//! generator and tests can use them without SQL.
//!
//! This crate knows nothing of sessions, users, policies or the wire protocol.

pub mod address;
mod common;
pub mod enterprise;
pub mod households;
pub mod identity;
pub mod masking;
pub mod names;
pub mod phones;

pub use common::text;

/// Civil-date arithmetic on Arrow `Date32` day numbers, shared with the demo
/// generator so both agree on every date they write and read.
pub mod calendar {
    pub use crate::common::dates::{civil_from_days, days_from_civil, is_valid_date};
}

use datafusion::logical_expr::{AggregateUDF, Documentation, ScalarUDF};
use datafusion::prelude::SessionContext;

/// Every scalar SQL function of this crate.
pub fn all_scalar_udfs() -> Vec<ScalarUDF> {
    let mut v = identity::functions();
    v.extend(enterprise::functions());
    v.extend(masking::functions());
    v.extend(names::functions());
    v.extend(phones::functions());
    v.extend(address::functions());
    v.extend(households::functions());
    v
}

/// Every aggregate SQL function of this crate.
pub fn all_aggregate_udfs() -> Vec<AggregateUDF> {
    households::aggregate_functions()
}

/// Registers every function of this crate in a session: the scalar
/// functions and the aggregates (connected components is an aggregate, so
/// the crate has no table functions). The engine calls this on every session.
pub fn register_all(ctx: &SessionContext) {
    for udf in all_scalar_udfs() {
        ctx.register_udf(udf);
    }
    for udaf in all_aggregate_udfs() {
        ctx.register_udaf(udaf);
    }
}

/// What kind of SQL function a catalogue entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// One value per row.
    Scalar,
    /// One value per group (`GROUP BY`).
    Aggregate,
    /// Used in `FROM`, returns rows (none yet; kept so the catalogue's
    /// consumers need not change when one is added).
    Table,
}

/// One entry of the function catalogue: what SQL clients list (`\df`,
/// `pg_proc`) and what the README documents.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    /// The SQL name.
    pub name: String,
    /// Scalar, aggregate or table function.
    pub kind: FunctionKind,
    /// Description, syntax, arguments and a checked SQL example.
    pub documentation: Documentation,
}

/// Every function this crate registers, with its documentation, in
/// registration order. The engine uses it to fill `pg_proc` descriptions.
pub fn function_catalog() -> Vec<FunctionInfo> {
    let mut out = Vec::new();
    for udf in all_scalar_udfs() {
        if let Some(doc) = udf.documentation() {
            out.push(FunctionInfo {
                name: udf.name().to_string(),
                kind: FunctionKind::Scalar,
                documentation: doc.clone(),
            });
        }
    }
    for udaf in all_aggregate_udfs() {
        if let Some(doc) = udaf.documentation() {
            out.push(FunctionInfo {
                name: udaf.name().to_string(),
                kind: FunctionKind::Aggregate,
                documentation: doc.clone(),
            });
        }
    }
    out
}
