//! TLS for client connections: the server answers a client's SSLRequest with
//! a TLS handshake when it was given a certificate and key (PEM files, as
//! PostgreSQL's `ssl_cert_file` and `ssl_key_file`); without them it answers
//! that it has no TLS, and clients that require it stop there.

use pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use pgwire::tokio::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use pgwire::tokio::TlsAcceptor;
use std::io::{Error, ErrorKind};
use std::path::Path;
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
