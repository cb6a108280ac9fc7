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
    assert_eq!(line, "public|id_valid|boolean|id text|func");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_dv_lists_the_views_this_level_may_use() {
    let addr = start_server().await;
    let (ok, out, err) = run(addr, "village", vec!["-c", "\\dv+"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("village_population") && out.contains("各村社区人口概况"),
        "{out}"
    );
    assert!(out.contains("deceased_still_paid"), "{out}");
    // open_hazards is for city, county and town users.
    assert!(!out.contains("open_hazards"), "{out}");
    let (ok, out, err) = run(addr, "town", vec!["-c", "\\dv"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("open_hazards"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expanded_display_and_client_side_copy_to_a_file() {
    let addr = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("village.csv");
    let copy = format!(
        "\\copy (SELECT name, phone FROM persons ORDER BY id_number) to '{}' with csv header",
        file.display()
    );
    let copy: &'static str = Box::leak(copy.into_boxed_str());
    let (ok, out, err) = run(addr, "village", vec!["-c", copy]).await;
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "name,phone");
    let (_, count, _) = run(
        addr,
        "village",
        vec!["-At", "-c", "SELECT count(*) FROM persons"],
    )
    .await;
    let count: usize = count.trim().parse().unwrap();
    assert_eq!(
        lines.len(),
        count + 1,
        "a header and one line per fenced row"
    );
    assert_eq!(
        out.trim(),
        format!("COPY {count}"),
        "the tag counts rows, not the header"
    );
    assert!(
        lines[1..].iter().all(|l| l.contains('*')),
        "masked names and phones"
    );
    let (ok, out, err) = run(
        addr,
        "village",
        vec![
            "-c",
            "\\x on",
            "-c",
            "SELECT current_level() AS level, current_user AS who",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("-[ RECORD 1 ]"), "{out}");
    assert!(
        out.contains("level | village") && out.contains("who   | village"),
        "{out}"
    );
}

/// psql's tab completion, typed into a real psql on a pseudo-terminal
/// (`script` gives it one, so readline completes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_completion_finds_tables_and_views() {
    use std::io::Write;
    let addr = start_server().await;
    let out = tokio::task::spawn_blocking(move || {
        let cmd = format!(
            "psql -X -h {} -p {} -U village zhenjie",
            addr.ip(),
            addr.port()
        );
        let mut child = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("PGPASSWORD", "demo")
            .env("TERM", "dumb")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs psql on a terminal");
        let mut stdin = child.stdin.take().unwrap();
        for chunk in [
            "SELECT count(*) > 0 AS found FROM village_po",
            "\t",
            ";\n",
            "\\q\n",
        ] {
            stdin.write_all(chunk.as_bytes()).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(700));
        }
        drop(stdin);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FROM village_population"),
        "completed: {text}"
    );
    assert!(
        text.contains(" t\r\n") || text.contains(" t\n"),
        "the completed query ran: {text}"
    );
}
