//! TLS: with a certificate the server negotiates TLS for clients that ask
//! (psql `sslmode=require`), and still serves clients that do not; without
//! one, a client that requires TLS is told the server has none.

use crate::common::*;
use std::process::Command;

/// A self-signed certificate and key for 127.0.0.1, made with openssl.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    (cert, key)
}

fn psql(addr: std::net::SocketAddr, sslmode: &str, sql: &str) -> (bool, String, String) {
    let conninfo = format!(
        "host={} port={} user=town dbname=zhenjie sslmode={sslmode}",
        addr.ip(),
        addr.port()
    );
    let out = Command::new("psql")
        .args(["-X", "-At", "-d", &conninfo, "-c", sql])
        .env("PGPASSWORD", "demo")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_connects_over_tls_when_the_server_has_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let engine = zhenjie_engine::Engine::open(load_catalog(), Default::default())
        .await
        .unwrap();
    let server = zhenjie_server::Server::bind(engine, "127.0.0.1:0")
        .await
        .unwrap()
        .with_tls(zhenjie_server::tls::acceptor(&cert, &key).unwrap());
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        psql(
            addr,
            "require",
            "SELECT current_user, count(*) > 0 FROM persons",
        )
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "town|t");
    // The connection really is encrypted: psql reports the TLS session.
    let (ok, out, err) = tokio::task::spawn_blocking(move || psql(addr, "require", "\\conninfo"))
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("SSL connection (protocol: TLSv1."), "{out}");
    // Clients that do not ask for TLS are served as before.
    let (ok, out, err) = tokio::task::spawn_blocking(move || psql(addr, "disable", "SELECT 1"))
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_certificate_refuses_clients_that_require_tls() {
    let addr = start_server().await;
    let (ok, _, err) = tokio::task::spawn_blocking(move || psql(addr, "require", "SELECT 1"))
        .await
        .unwrap();
    assert!(!ok);
    assert!(err.contains("does not support SSL"), "{err}");
}

#[test]
fn a_missing_or_bad_certificate_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.crt");
    let err = zhenjie_server::tls::acceptor(&missing, &missing)
        .err()
        .unwrap();
    assert!(err.to_string().contains("none.crt"), "{err}");
    let junk = dir.path().join("junk.crt");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = zhenjie_server::tls::acceptor(&junk, &junk).err().unwrap();
    assert!(err.to_string().contains("junk.crt"), "{err}");
}
