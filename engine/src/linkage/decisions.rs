//! Clerical review: a clerk's accept or reject of a list row's match, kept
//! in an append-only file beside the catalog (`linkage/decisions.jsonl`)
//! and honoured by every later run of `link_persons`.
//!
//! A decision names the row by its `match_row_key` (a keyed hash of the
//! row's person fields, so the same person sent again in a later list is
//! decided already) and, for an accept, the resident as the clerk saw it
//! (the raw number, or the pseudonym a user without `pii` sees). An accept
//! holds only while that resident is still the row's best candidate; if the
//! data moved on, the row goes back to review. `CALL link_decide(…)` is a
//! statement like any other: the audit log keeps who decided what, when.

use crate::{Engine, EngineError, Principal, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// The procedure's SQL name.
pub const LINK_DECIDE: &str = "link_decide";

/// One clerk's decision on one list row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub list: String,
    pub row_key: String,
    /// `accept` or `reject`.
    pub decision: String,
    /// For an accept: the resident's number or pseudonym as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident: Option<String>,
    pub user: String,
    /// RFC 3339.
    pub at: String,
}

/// One writer at a time, so lines never interleave.
static WRITING: Mutex<()> = Mutex::new(());

fn path(engine: &Engine) -> PathBuf {
    engine
        .catalog()
        .base_dir
        .join("linkage")
        .join("decisions.jsonl")
}

/// The key that names a list row in decisions: a keyed hash of its person
/// fields under a secret derived from the catalog's, so the key reveals
/// nothing a brute force over identity numbers could recover. `None` when
/// the catalog has no secret (and then no decisions can be made).
pub(crate) fn row_key_secret(engine: &Engine) -> Option<Vec<u8>> {
    engine
        .catalog()
        .derived_secret("zhenjie link_persons row key")
        .map(|k| k.to_vec())
}

/// Records a decision after checking who makes it and what it names.
pub(crate) fn record(
    engine: &Engine,
    principal: &Principal,
    list: &str,
    row_key: &str,
    decision: &str,
    resident: Option<&str>,
) -> Result<()> {
    let invalid = |m: String| EngineError::new(crate::sqlstate::INVALID_PARAMETER_VALUE, m);
    // Review and reject rows are the city's: only the city decides them.
    if principal.level != zhenjie_catalog::Level::City {
        return Err(EngineError::denied(format!(
            "permission denied: {LINK_DECIDE} is for city-level users (review rows are the city's)"
        )));
    }
    let dataset = engine.catalog().dataset(list).ok_or_else(|| {
        EngineError::new(
            crate::sqlstate::UNDEFINED_TABLE,
            format!("relation \"{list}\" does not exist"),
        )
    })?;
    if crate::governance::govern(engine, dataset, principal)?.is_none() {
        return Err(EngineError::new(
            crate::sqlstate::UNDEFINED_TABLE,
            format!("relation \"{list}\" does not exist"),
        ));
    }
    if row_key_secret(engine).is_none() {
        return Err(invalid(format!(
            "{LINK_DECIDE}: the catalog has no mask_secret_file, so list rows have no keys to decide on"
        )));
    }
    if row_key.len() != 32 || !row_key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "{LINK_DECIDE}: \"{row_key}\" is not a match_row_key (32 hex digits)"
        )));
    }
    let resident = match (decision, resident.map(str::trim).filter(|r| !r.is_empty())) {
        ("accept", Some(r)) => Some(r.to_string()),
        ("accept", None) => {
            return Err(invalid(format!(
                "{LINK_DECIDE}: an accept names the resident (match_id_number as shown)"
            )))
        }
        ("reject", _) => None,
        (other, _) => {
            return Err(invalid(format!(
                "{LINK_DECIDE}: decision must be accept or reject, not \"{other}\""
            )))
        }
    };
    let d = Decision {
        list: list.to_string(),
        row_key: row_key.to_ascii_lowercase(),
        decision: decision.to_string(),
        resident,
        user: principal.user.clone(),
        at: chrono::Utc::now().to_rfc3339(),
    };
    let mut line = serde_json::to_string(&d).map_err(|e| invalid(e.to_string()))?;
    line.push('\n');
    let path = path(engine);
    let io = |e: std::io::Error| {
        EngineError::new(
            crate::sqlstate::IO_ERROR,
            format!("{}: {e}", path.display()),
        )
    };
    let _guard = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    f.write_all(line.as_bytes()).map_err(io)?;
    f.sync_data().map_err(io)
}

/// The decisions file's size and modification time, or `None` while there
/// is none: a kept link result is stale once they change.
pub(crate) fn stamp(engine: &Engine) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path(engine)).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// The latest decision per row of `list`.
pub(crate) fn load(engine: &Engine, list: &str) -> Result<HashMap<String, Decision>> {
    let path = path(engine);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => {
            return Err(EngineError::new(
                crate::sqlstate::IO_ERROR,
                format!("{}: {e}", path.display()),
            ))
        }
    };
    let mut out = HashMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let d: Decision = serde_json::from_str(line).map_err(|e| {
            EngineError::new(
                crate::sqlstate::DATA_CORRUPTED,
                format!("{}: line {}: {e}", path.display(), n + 1),
            )
        })?;
        if d.list == list {
            out.insert(d.row_key.clone(), d);
        }
    }
    Ok(out)
}
