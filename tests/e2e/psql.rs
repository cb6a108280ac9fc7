//! The real psql binary against the server: meta-commands users type.

use crate::common::*;
use std::process::Command;

fn psql(addr: std::net::SocketAddr, user: &str, args: &[&str]) -> (bool, String, String) {
    psql_with_password(addr, user, "demo", args)
}

fn psql_with_password(
    addr: std::net::SocketAddr,
    user: &str,
    password: &str,
    args: &[&str],
) -> (bool, String, String) {
    let out = Command::new("psql")
        .args([
            "-h",
            &addr.ip().to_string(),
            "-p",
            &addr.port().to_string(),
            "-U",
            user,
            "-d",
            "zhenjie",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(args)
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql must be installed (apt-get install postgresql-client)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs psql as `user` off the async workers; (success, stdout, stderr).
pub(crate) async fn run(
    addr: std::net::SocketAddr,
    user: &'static str,
    args: Vec<&'static str>,
) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || psql(addr, user, &args))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_dt_lists_the_tables() {
    let addr = start_server().await;
    let (ok, out, err) = run(addr, "city", vec!["-c", "\\dt"]).await;
    assert!(ok, "{err}");
    for t in [
        "persons",
        "households",
        "enterprises",
        "safety_inspections",
        "dept_list",
    ] {
        assert!(out.contains(t), "\\dt must list {t}:\n{out}");
    }
    assert!(out.contains("public"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_d_describes_persons() {
    let addr = start_server().await;
    let (ok, out, err) = run(addr, "city", vec!["-c", "\\d persons"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("Table \"public.persons\""), "{out}");
    for c in ["id_number", "name", "birth_date", "grid_code"] {
        assert!(out.contains(c), "\\d persons must show {c}:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_reports_errors_with_their_sqlstate() {
    let addr = start_server().await;
    let (ok, _out, err) = run(
        addr,
        "city",
        vec!["-v", "VERBOSITY=verbose", "-c", "SELECT 1/0"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("22012"), "{err}");
    let (ok, out, err) = run(
        addr,
        "city",
        vec!["-At", "-c", "SELECT count(*) FROM persons"],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim().parse::<usize>().unwrap(), PERSONS_IN_FILE());
}

#[allow(non_snake_case)]
fn PERSONS_IN_FILE() -> usize {
    crate::governance_smoke::parquet_count("persons", None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_wrong_password_is_refused() {
    let addr = start_server().await;
    let (ok, _out, err) = tokio::task::spawn_blocking(move || {
        psql_with_password(addr, "town", "wrong", &["-c", "SELECT 1"])
    })
    .await
    .unwrap();
    assert!(!ok);
    assert!(err.contains("password authentication failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_d_plus_shows_the_catalog_comments() {
    let addr = start_server().await;
    let catalog = zhenjie_catalog::Catalog::load(city_dir().join("catalog.toml")).unwrap();
    let persons = catalog.dataset("persons").unwrap();
    let (ok, out, err) = run(addr, "town", vec!["-c", "\\d+ persons"]).await;
    assert!(ok, "{err}");
    for (column, c) in &persons.columns {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{column} ")))
            .unwrap_or_else(|| panic!("no line for {column}:\n{out}"));
        assert!(
            line.contains(&c.comment),
            "{column} must show {:?}: {line}",
            c.comment
        );
    }
    let (ok, out, err) = run(addr, "town", vec!["-c", "\\dt+"]).await;
    assert!(ok, "{err}");
    assert!(out.contains(&persons.comment), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_df_lists_the_domain_functions_with_descriptions() {
    let addr = start_server().await;
    let (ok, out, err) = run(addr, "grid", vec!["-At", "-c", "\\df"]).await;
    assert!(ok, "{err}");
    let listed: Vec<&str> = out.lines().filter_map(|l| l.split('|').nth(1)).collect();
    for f in zhenjie_udfs::function_catalog() {
        assert!(
            listed.contains(&f.name.as_str()),
            "\\df must list {}:\n{out}",
            f.name
        );
    }
    let line = out
        .lines()
        .find(|l| l.split('|').nth(1) == Some("id_valid"))
        .unwrap();
    assert_eq!(line, "public|id_valid|boolean|id|func");
    let (ok, out, err) = run(addr, "grid", vec!["-x", "-c", "\\df+ uscc_valid"]).await;
    assert!(ok, "{err}");
    let doc = zhenjie_udfs::function_catalog()
        .into_iter()
        .find(|f| f.name == "uscc_valid")
        .unwrap()
        .documentation
        .description;
    assert!(
        out.contains(&doc),
        "\\df+ must show the description:\n{out}"
    );
}
