//! Real drivers and the catalog SQL of real tools, against a server on an
//! ephemeral port over the test city: pgjdbc (as DBeaver, DataGrip, Metabase
//! and Tableau use it), psycopg 3 with SQLAlchemy and pandas (as Superset
//! uses them), node-postgres, and the introspection statements of DBeaver,
//! Metabase, Tableau, Grafana and Power BI (Npgsql) collected in
//! `tests/clients/sql/`.
//!
//! Each client program prints `ok <check>` or `FAIL <check>: <why>` per check.
//! The checks zhenjie is known not to pass yet are listed, with the reason,
//! in a `known_gaps` file beside the program; a test fails when a check fails
//! that is not listed (a regression) and when a listed one passes (the list
//! must shrink with the code). `.ci/run` installs every client.

use crate::common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a client program to its end and returns its standard output.
async fn run(mut cmd: Command) -> String {
    let shown = format!("{cmd:?}");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("cannot run {shown}: {e} (bash .ci/run installs the test clients)")
        });
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.lines().any(|l| l.starts_with("ok ")),
        "{shown} ran no check (exit {:?}):\n{stdout}\n{stderr}",
        out.status.code()
    );
    // The program ran to its end: its closing summary counts the checks it
    // printed, and it exits 1 exactly when one failed (a crash part way,
    // or output cut short, fails here).
    let (passed, failed) = summary(&stdout).unwrap_or_else(|| {
        panic!(
            "{shown} printed no closing summary (exit {:?}):\n{stdout}\n{stderr}",
            out.status.code()
        )
    });
    let printed = |prefix: &str| stdout.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        (printed("ok "), printed("FAIL ")),
        (passed, failed),
        "{shown}: the summary does not count the checks printed:\n{stdout}"
    );
    assert_eq!(
        out.status.code(),
        Some(i32::from(failed > 0)),
        "{shown} exited otherwise than its summary says:\n{stdout}\n{stderr}"
    );
    stdout
}

/// The closing `<passed> ok|passed, <failed> failed` line of a client
/// program.
fn summary(stdout: &str) -> Option<(usize, usize)> {
    let line = stdout.lines().rev().find(|l| l.ends_with(" failed"))?;
    let line = line.trim_start_matches("# ");
    let (passed, failed) = line.split_once(", ")?;
    let passed = passed
        .strip_suffix(" ok")
        .or_else(|| passed.strip_suffix(" passed"))?;
    Some((
        passed.parse().ok()?,
        failed.strip_suffix(" failed")?.parse().ok()?,
    ))
}

/// The failed checks' lines, after `FAIL ` (and, for the SQL runner, after
/// the statement's number, which moves when the file changes).
fn failures(stdout: &str, numbered: bool) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL "))
        .map(|rest| {
            if numbered {
                rest.split_once(' ').map_or(rest, |(_, r)| r).to_string()
            } else {
                rest.to_string()
            }
        })
        .collect()
}

/// The checks listed in a known-gaps file: one line each, the whole of the
/// check's `FAIL` line after `FAIL ` (for the SQL runner, after the
/// statement's number); `#` lines say why.
fn known_gaps(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn assert_only_known_gaps(stdout: &str, numbered: bool, gaps: &Path) {
    let failed = failures(stdout, numbered);
    let known = known_gaps(gaps);
    // Whole lines: a short prefix could hide other failures of one check.
    let new: Vec<_> = failed.iter().filter(|f| !known.contains(*f)).collect();
    let fixed: Vec<_> = known.iter().filter(|k| !failed.contains(*k)).collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "failing but not in {} (regressions): {new:#?}\n\
         listed there but passing now (remove them): {fixed:#?}\n\nfull output:\n{stdout}",
        gaps.display()
    );
}

const PGJDBC: &str = "/usr/share/java/postgresql.jar";

fn java(program: &str) -> Command {
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(PGJDBC)
        .arg(repo().join("tests/clients/java").join(program));
    cmd
}

#[tokio::test]
async fn pgjdbc_metadata_parameters_and_types() {
    let addr = start_server().await;
    let mut cmd = java("ClientTest.java");
    cmd.arg(addr.ip().to_string()).arg(addr.port().to_string());
    let out = run(cmd).await;
    assert_only_known_gaps(&out, false, &repo().join("tests/clients/java/known_gaps"));
}

/// Runs one file of tools' catalog SQL over pgjdbc's extended protocol, as
/// the tools send it.
async fn tool_sql(file: &str) {
    let addr = start_server().await;
    let mut cmd = java("RunSql.java");
    cmd.arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .arg("town")
        .arg(repo().join("tests/clients/sql").join(file));
    let out = run(cmd).await;
    let gaps = repo()
        .join("tests/clients/sql")
        .join(file.replace(".sql", ".known_gaps"));
    assert_only_known_gaps(&out, true, &gaps);
}

#[tokio::test]
async fn dbeaver_metabase_and_tableau_catalog_sql() {
    tool_sql("jdbc_tools.sql").await;
}

#[tokio::test]
async fn psycopg_sqlalchemy_and_pandas() {
    let addr = start_server().await;
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/clients/python/test_clients.py"))
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    let out = run(cmd).await;
    assert_only_known_gaps(&out, false, &repo().join("tests/clients/python/known_gaps"));
}

#[tokio::test]
async fn node_postgres() {
    let addr = start_server().await;
    let mut cmd = Command::new("node");
    cmd.arg(repo().join("tests/clients/node/test.js"))
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    let out = run(cmd).await;
    assert_only_known_gaps(&out, false, &repo().join("tests/clients/node/known_gaps"));
}

#[tokio::test]
async fn grafana_npgsql_power_bi_and_superset_catalog_sql() {
    tool_sql("bi_tools.sql").await;
}
