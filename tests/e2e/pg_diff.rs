//! The differential harness: every statement of `tests/pg_diff/corpus/` runs
//! on zhenjie and on a real PostgreSQL 15 started here over the same data,
//! and the answers are compared as psql would show them — the text of every
//! value (NULL apart), the column types, or the class of the error's
//! SQLSTATE. Column names are compared too but reported apart: PostgreSQL
//! allows two columns of one name, DataFusion does not.
//!
//! A statement that disagrees must be listed in `tests/pg_diff/known_gaps`
//! with what kind of disagreement it is; one that is listed and agrees, or
//! disagrees in another way than listed, fails the test, so the file stays
//! the truth. `PG_DIFF_BLESS=1` rewrites the file from this run (review the
//! diff before committing: a `wrong` entry is a silent wrong answer).
//!
//! PostgreSQL comes from `PG_BIN` (default `/usr/lib/postgresql/15/bin`);
//! as root the server runs as the `postgres` user.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pg_diff")
}

/// The fixture both servers hold, as `t`: every column type zhenjie serves,
/// with NULLs, negatives, Chinese text and a leap day.
const FIXTURE: &str = "SELECT * FROM (VALUES \
    (CAST(1 AS INTEGER), CAST(10 AS BIGINT), CAST(12.50 AS DECIMAL(10,2)), CAST(1.5 AS DOUBLE PRECISION), 'alpha', '张伟', CAST('2024-02-29' AS DATE), CAST('2024-02-29 13:45:10' AS TIMESTAMP), true), \
    (CAST(2 AS INTEGER), CAST(-20 AS BIGINT), CAST(-3.25 AS DECIMAL(10,2)), CAST(-0.25 AS DOUBLE PRECISION), 'Beta', '李娜', CAST('1999-12-31' AS DATE), CAST('1999-12-31 23:59:59' AS TIMESTAMP), false), \
    (CAST(3 AS INTEGER), CAST(NULL AS BIGINT), CAST(NULL AS DECIMAL(10,2)), CAST(NULL AS DOUBLE PRECISION), NULL, NULL, CAST(NULL AS DATE), CAST(NULL AS TIMESTAMP), CAST(NULL AS BOOLEAN)), \
    (CAST(4 AS INTEGER), CAST(30 AS BIGINT), CAST(0.00 AS DECIMAL(10,2)), CAST(100 AS DOUBLE PRECISION), 'gamma delta', '欧阳 修', CAST('2000-01-01' AS DATE), CAST('2000-01-01 00:00:00' AS TIMESTAMP), true), \
    (CAST(5 AS INTEGER), CAST(10 AS BIGINT), CAST(7.75 AS DECIMAL(10,2)), CAST(2.5 AS DOUBLE PRECISION), '', 'x', CAST('2023-06-15' AS DATE), CAST('2023-06-15 08:00:00' AS TIMESTAMP), false) \
    ) AS t(i, b, n, f, s, name, d, ts, flag)";

/// A throwaway PostgreSQL 15 cluster on loopback.
struct Postgres {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Postgres {
    /// Stops the postmaster itself (immediate shutdown, by the pid it
    /// wrote): killing `runuser`, the child when the tests run as root,
    /// would leave PostgreSQL running over a deleted folder.
    fn drop(&mut self) {
        let pid_file = self._dir.path().join("data").join("postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_string));
        if let Some(pid) = &pid {
            let _ = Command::new("kill").args(["-QUIT", pid]).status();
            // Gone when its pid file is (it removes it on the way out).
            for _ in 0..100 {
                if !pid_file.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn as_postgres(bin: &Path, as_root: bool) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start_postgres() -> Postgres {
    let bin = PathBuf::from(
        std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
    );
    assert!(
        bin.join("postgres").exists(),
        "PostgreSQL 15 is needed at {} (Debian package postgresql; .ci/run installs it)",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if as_root {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let data = dir.path().join("data");
    let status = as_postgres(&bin.join("initdb"), as_root)
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "initdb failed");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = as_postgres(&bin.join("postgres"), as_root)
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "TimeZone=Asia/Shanghai",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Postgres {
        child,
        port,
        _dir: dir,
    }
}

async fn connect_postgres(port: u16) -> tokio_postgres::Client {
    for _ in 0..200 {
        if let Ok((client, conn)) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
            tokio_postgres::NoTls,
        )
        .await
        {
            tokio::spawn(conn);
            return client;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("PostgreSQL did not start on port {port}");
}

/// One statement's answer as psql would show it.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Rows {
        names: Vec<String>,
        types: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
    },
    Error {
        class: String,
        message: String,
    },
}

async fn answer(client: &tokio_postgres::Client, sql: &str) -> Answer {
    use tokio_postgres::SimpleQueryMessage;
    let error = |e: tokio_postgres::Error| {
        let state = sqlstate(&e);
        Answer::Error {
            class: state.chars().take(2).collect(),
            message: e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string()),
        }
    };
    let messages = match client.simple_query(sql).await {
        Ok(m) => m,
        Err(e) => return error(e),
    };
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                names = cols.iter().map(|c| c.name().to_string()).collect();
            }
            SimpleQueryMessage::Row(r) => {
                rows.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => {}
        }
    }
    let types = match client.prepare(sql).await {
        Ok(s) => s
            .columns()
            .iter()
            .map(|c| c.type_().name().to_string())
            .collect(),
        Err(e) => vec![format!("(describe failed: {})", sqlstate(&e))],
    };
    Answer::Rows { names, types, rows }
}

/// Whether two answers hold the same values where they differ only in
/// trailing decimal zeros (`2.50000` and `2.5000000000000000`): PostgreSQL's
/// numeric carries a display scale per value, Arrow's decimal one per
/// column, so the same number can be written with other decimal places.
/// Only exact decimal texts count; any other difference is `wrong`.
fn same_numbers(a: &[Vec<Option<String>>], b: &[Vec<Option<String>>]) -> bool {
    fn canonical(text: &str) -> Option<String> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty()
            || !int.bytes().all(|c| c.is_ascii_digit())
            || !frac.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        let int = int.trim_start_matches('0');
        let value = format!("{}.{frac}", if int.is_empty() { "0" } else { int });
        Some(if value == "0." {
            value
        } else {
            format!("{}{value}", if text.starts_with('-') { "-" } else { "" })
        })
    }
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len()
                && x.iter().zip(y).all(|(u, v)| match (u, v) {
                    (Some(u), Some(v)) if u != v => {
                        canonical(u).is_some_and(|c| Some(c) == canonical(v))
                    }
                    (u, v) => u == v,
                })
        })
}

/// How a statement disagrees (or `None`).
fn disagreement(zj: &Answer, pg: &Answer) -> Option<(&'static str, String)> {
    let show = |rows: &Vec<Vec<Option<String>>>| {
        let text: Vec<String> = rows
            .iter()
            .take(3)
            .map(|r| {
                r.iter()
                    .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        format!(
            "{}{}",
            text.join("; "),
            if rows.len() > 3 { "; …" } else { "" }
        )
    };
    match (zj, pg) {
        (Answer::Error { class: a, .. }, Answer::Error { class: b, .. }) if a == b => None,
        (Answer::Error { class: a, message }, Answer::Error { class: b, .. }) => Some((
            "errclass",
            format!("zhenjie fails with class {a} ({message}), PostgreSQL with {b}"),
        )),
        (Answer::Error { class, message }, Answer::Rows { rows, .. }) => Some((
            "error",
            format!(
                "zhenjie fails ({class}: {message}); PostgreSQL: {}",
                show(rows)
            ),
        )),
        (Answer::Rows { rows, .. }, Answer::Error { class, message }) => Some((
            "answers",
            format!(
                "zhenjie answers {}; PostgreSQL fails ({class}: {message})",
                show(rows)
            ),
        )),
        (
            Answer::Rows {
                types: t1,
                rows: r1,
                ..
            },
            Answer::Rows {
                types: t2,
                rows: r2,
                ..
            },
        ) => {
            if r1 != r2 && same_numbers(r1, r2) {
                Some((
                    "scale",
                    format!(
                        "same numbers, other decimal places: zhenjie: {}; PostgreSQL: {}",
                        show(r1),
                        show(r2)
                    ),
                ))
            } else if r1 != r2 {
                Some((
                    "wrong",
                    format!("zhenjie: {}; PostgreSQL: {}", show(r1), show(r2)),
                ))
            } else if t1 != t2 {
                Some(("type", format!("zhenjie types {t1:?}; PostgreSQL {t2:?}")))
            } else {
                None
            }
        }
    }
}

/// The corpus: `(file, statement)`, statements ending with `;` at the end
/// of a line, `--` lines as comments.
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir().join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let mut current = String::new();
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            if line.trim_start().starts_with("--") || line.trim().is_empty() {
                continue;
            }
            current.push_str(line.trim());
            current.push(' ');
            if line.trim_end().ends_with(';') {
                let stmt = current.trim().trim_end_matches(';').trim().to_string();
                out.push((name.clone(), stmt));
                current.clear();
            }
        }
    }
    out
}

/// `known_gaps`: statement → (kind, reason). One tab-separated line each:
/// kind, statement, reason.
fn known_gaps() -> BTreeMap<String, (String, String)> {
    let path = corpus_dir().join("known_gaps");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let kind = parts.next().unwrap_or_default().to_string();
            let stmt = parts.next().unwrap_or_default().to_string();
            let reason = parts.next().unwrap_or_default().to_string();
            (stmt, (kind, reason))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_agree_with_postgresql_or_are_known_gaps() {
    let statements = corpus();
    assert!(statements.len() >= 500, "{} statements", statements.len());
    // The same fixture on both sides.
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("t.parquet");
    write_parquet(&parquet, FIXTURE);
    let mut catalog = load_catalog();
    catalog.file.datasets.push(zhenjie_catalog::Dataset {
        snapshots: false,
        name: "t".into(),
        location: parquet.to_str().unwrap().into(),
        format: zhenjie_catalog::Format::Parquet,
        comment: String::new(),
        placement: Some(zhenjie_catalog::Placement::Public),
        columns: Default::default(),
        partitions: Vec::new(),
    });
    let addr = start_server_for(catalog).await;
    let zj = connect(addr, "admin").await;
    let pg = start_postgres();
    let pgc = connect_postgres(pg.port).await;
    let create = FIXTURE
        .replace("DOUBLE PRECISION", "double precision")
        .replacen("SELECT * FROM", "CREATE TABLE t AS SELECT * FROM", 1);
    pgc.batch_execute(&create).await.unwrap();

    let known = known_gaps();
    let mut found: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut names_differ = 0usize;
    for (file, stmt) in &statements {
        let (a, b) = (answer(&zj, stmt).await, answer(&pgc, stmt).await);
        // A failed statement must not leave either side in a failed block.
        let _ = zj.simple_query("ROLLBACK").await;
        let _ = pgc.simple_query("ROLLBACK").await;
        if let (Answer::Rows { names: n1, .. }, Answer::Rows { names: n2, .. }) = (&a, &b) {
            names_differ += usize::from(n1 != n2);
            if n1 != n2 && std::env::var("PG_DIFF_NAMES").is_ok() {
                eprintln!("names: {stmt}\n    zhenjie {n1:?}\n    PostgreSQL {n2:?}");
            }
        }
        if let Some((kind, reason)) = disagreement(&a, &b) {
            found.insert(stmt.clone(), (kind.to_string(), reason, file.clone()));
        }
    }
    let total = statements.len();
    let agree = total - found.len();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for (kind, ..) in found.values() {
        *kinds.entry(kind.as_str()).or_default() += 1;
    }
    eprintln!(
        "pg_diff: {agree} of {total} statements agree with PostgreSQL 15 ({:.1}%); \
         {} disagree, by kind {kinds:?}; column names differ in {names_differ}",
        100.0 * agree as f64 / total as f64,
        found.len(),
    );
    if std::env::var("PG_DIFF_BLESS").is_ok() {
        let mut text = String::from(
            "# Statements of tests/pg_diff/corpus where zhenjie and PostgreSQL 15 disagree.\n\
             # kind<TAB>statement<TAB>what differs. Kinds: wrong (both answer, differently: a\n\
             # silent wrong answer), scale (the same numbers with other trailing decimal zeros),\n\
             # error (zhenjie fails where PostgreSQL answers), answers (zhenjie answers where\n\
             # PostgreSQL fails), type (same text, other column types),\n\
             # errclass (both fail, other SQLSTATE class). Written by PG_DIFF_BLESS=1.\n",
        );
        for (stmt, (kind, reason, _)) in &found {
            // (DataFusion's "Did you mean" guess changes with every new
            // function: not part of the reason.)
            let reason = match reason.find("Did you mean") {
                Some(at) => {
                    let end = reason[at..].find('?').map_or(reason.len(), |e| at + e + 1);
                    format!("{}{}", reason[..at].trim_end(), &reason[end..])
                }
                None => reason.clone(),
            };
            let reason: String = reason.chars().take(300).collect();
            text.push_str(&format!(
                "{kind}\t{stmt}\t{}\n",
                reason.replace(['\t', '\n'], " ")
            ));
        }
        std::fs::write(corpus_dir().join("known_gaps"), text).unwrap();
        return;
    }
    let mut problems = Vec::new();
    for (stmt, (kind, reason, file)) in &found {
        match known.get(stmt) {
            None => problems.push(format!("[{file}] new gap ({kind}): {stmt}\n    {reason}")),
            Some((k, _)) if k != kind => problems.push(format!(
                "[{file}] listed as {k} but now {kind}: {stmt}\n    {reason}"
            )),
            Some(_) => {}
        }
    }
    for stmt in known.keys() {
        if !found.contains_key(stmt) {
            if statements.iter().any(|(_, s)| s == stmt) {
                problems.push(format!("agrees now (remove from known_gaps): {stmt}"));
            } else {
                problems.push(format!(
                    "listed in known_gaps but not in the corpus: {stmt}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The catalog SQL of psql's `\d` family and of the BI tools' introspection
/// (`tests/clients/sql/`), compared with PostgreSQL 15's over the same
/// schema by `tests/pg_diff/catalog_diff.py`: it mirrors what the test
/// city's `admin` sees into PostgreSQL, runs both, and holds disagreements
/// to `tests/pg_diff/catalog_known_gaps` (`PG_DIFF_BLESS=1` rewrites it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_sql_agrees_with_postgresql_or_is_a_known_gap() {
    let addr = start_server().await;
    let pg = start_postgres();
    // Ready before the script connects.
    drop(connect_postgres(pg.port).await);
    let mut cmd = Command::new("python3");
    cmd.arg(corpus_dir().join("catalog_diff.py"))
        .args([
            "--zj",
            &addr.to_string(),
            "--zj-user",
            "admin",
            "--zj-password",
            "demo",
        ])
        .args([
            "--pg",
            &format!("127.0.0.1:{}", pg.port),
            "--owner",
            "zhenjie",
        ]);
    if std::env::var("PG_DIFF_BLESS").is_ok() {
        cmd.arg("--bless");
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("python3 with psycopg (bash .ci/run installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("catalog_diff:"))
        .unwrap_or_else(|| panic!("no summary from catalog_diff.py:\n{stdout}\n{stderr}"));
    eprintln!("{summary}");
    assert!(
        out.status.success(),
        "catalog_diff.py failed:\n{stdout}\n{stderr}"
    );
}
