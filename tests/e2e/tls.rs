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
    psql_to(&addr.ip().to_string(), addr.port(), sslmode, sql)
}

/// psql to `host:port` as `town` with libpq's `sslmode` (and its extra
/// settings, e.g. `verify-full sslrootcert=…`).
fn psql_to(host: &str, port: u16, sslmode: &str, sql: &str) -> (bool, String, String) {
    let conninfo = format!("host={host} port={port} user=town dbname=zhenjie sslmode={sslmode}");
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

/// `serve --demo` offers TLS out of the box: a self-signed certificate made
/// on first start (kept for the next) that `sslmode=require` and
/// `verify-full` accept; with `--require-tls-remote`, a client from another
/// machine without TLS is refused (28000) while loopback clients are not.
#[test]
fn serve_demo_makes_its_certificate_and_can_require_tls_from_other_machines() {
    let dir = tempfile::tempdir().unwrap();
    catalog_copy(dir.path(), |_| {});
    let data = dir.path().to_str().unwrap();
    let args = [
        "--demo",
        "--data",
        data,
        "--listen",
        "0.0.0.0:0",
        "--require-tls-remote",
    ];
    let server = ServeProcess::serve(&args);
    let port = server.addr.port();
    let cert = dir.path().join("tls").join("server.crt");
    let made = std::fs::read(&cert).expect("the demo made its certificate");

    let (ok, out, err) = psql_to("127.0.0.1", port, "require", "\\conninfo");
    assert!(ok, "{err}");
    assert!(out.contains("SSL connection (protocol: TLSv1."), "{out}");
    let verify = format!("verify-full sslrootcert={}", cert.display());
    let (ok, out, err) = psql_to("localhost", port, &verify, "SELECT current_user");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "town");
    let (ok, _, err) = psql_to("127.0.0.1", port, &verify, "SELECT 1");
    assert!(ok, "the certificate names 127.0.0.1 too: {err}");
    // This machine: TLS optional.
    let (ok, _, err) = psql_to("127.0.0.1", port, "disable", "SELECT 1");
    assert!(ok, "{err}");
    // Another machine, as far as the server can tell: this machine's
    // address on its network interface.
    let remote = network_address();
    let (ok, _, err) = psql_to(&remote, port, "disable", "SELECT 1");
    assert!(!ok);
    assert!(
        err.contains("no pg_hba.conf entry") && err.contains("no encryption"),
        "{err}"
    );
    let (ok, out, err) = psql_to(&remote, port, "require", "SELECT 2");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2");
    drop(server);

    // The next start keeps the certificate clients were told to trust.
    let _again = ServeProcess::serve(&args);
    assert_eq!(std::fs::read(&cert).unwrap(), made);
}

/// This machine's address on its network (not loopback): where the
/// kernel would send from to reach another host (no packet is sent).
fn network_address() -> String {
    ["192.0.2.200:9", "10.255.255.255:9", "8.8.8.8:53"]
        .iter()
        .find_map(|peer| {
            let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
            s.connect(peer).ok()?;
            let ip = s.local_addr().ok()?.ip();
            (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
        })
        .expect("a network interface besides loopback")
}
