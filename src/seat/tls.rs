//! HTTPS for the seat server with a certificate the host provides (`play --tls-cert
//! FILE --tls-key FILE`, both PEM): on a network the school does not trust, a student's
//! answers and the facilitator's cookie then cannot be read or changed on the way. The
//! certificate must name the address students open (a school's own name, or the
//! server's IP address); the project ships none.

use std::path::Path;

/// Why the certificate could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("the certificate and key do not go together: {0}")]
    Config(String),
    #[error("this build has no TLS (it was built with --no-default-features): build it with the default features to serve HTTPS")]
    NotBuilt,
}

/// An acceptor serving the certificate chain in `cert` with the private key in `key`.
#[cfg(feature = "tls")]
pub fn acceptor(cert: &Path, key: &Path) -> Result<super::accept::Tls, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let file_error = |path: &Path, e: &dyn std::fmt::Display| TlsError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_error(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(cert, &e))?;
    if chain.is_empty() {
        return Err(file_error(
            cert,
            &"no certificate in it (a PEM file is expected)",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, &e))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// This build serves plain HTTP only.
#[cfg(not(feature = "tls"))]
pub fn acceptor(_cert: &Path, _key: &Path) -> Result<super::accept::Tls, TlsError> {
    Err(TlsError::NotBuilt)
}
