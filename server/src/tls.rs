//! TLS for client connections: the server answers a client's SSLRequest with
//! a TLS handshake when it was given a certificate and key (PEM files, as
//! PostgreSQL's `ssl_cert_file` and `ssl_key_file`); without them it answers
//! that it has no TLS, and clients that require it stop there. A demo
//! server makes its own self-signed pair on first start ([`self_signed`]),
//! as Debian's PostgreSQL does with its "snakeoil" certificate.

use pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use pgwire::tokio::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use pgwire::tokio::TlsAcceptor;
use std::io::{Error, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A TLS acceptor for a PEM certificate chain and private key; the errors
/// name the file at fault.
pub fn acceptor(cert: &Path, key: &Path) -> std::io::Result<TlsAcceptor> {
    let named = |path: &Path, e: &dyn std::fmt::Display| {
        Error::new(ErrorKind::InvalidInput, format!("{}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| named(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(cert, &e))?;
    if chain.is_empty() {
        return Err(named(cert, &"no certificate in the file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| named(key, &e))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| named(cert, &e))?;
    // PostgreSQL 17 clients may negotiate TLS directly with this ALPN name.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The certificate and key in `dir` (`server.crt`, `server.key`), made
/// first if they are not there: self-signed for `names` (host names and IP
/// addresses clients connect to, so `sslmode=verify-full` with the
/// certificate as its root works). The key is written readable by its owner
/// only. For demos and trials; a real deployment gives its own.
pub fn self_signed(dir: &Path, names: &[String]) -> std::io::Result<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let failed = |e: &dyn std::fmt::Display| Error::other(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir)?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(|e| failed(&e))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "zhenjie demo server");
    let pair = rcgen::KeyPair::generate().map_err(|e| failed(&e))?;
    let made = params.self_signed(&pair).map_err(|e| failed(&e))?;
    zhenjie_catalog::write_secret_atomically(&key, pair.serialize_pem().as_bytes())
        .map_err(|e| failed(&e))?;
    zhenjie_catalog::write_atomically(&cert, made.pem().as_bytes()).map_err(|e| failed(&e))?;
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_pair_is_made_once_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let (cert, key) = self_signed(dir.path(), &names).unwrap();
        let first = std::fs::read(&cert).unwrap();
        assert!(acceptor(&cert, &key).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is the owner's only");
        }
        // Made once: the same certificate on the next start.
        self_signed(dir.path(), &names).unwrap();
        assert_eq!(std::fs::read(&cert).unwrap(), first);
    }
}
