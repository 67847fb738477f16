//! Which servers every HTTPS call trusts, and what a TLS failure means.
//!
//! Corporate networks put SEI, Bitbucket Data Center and sometimes all of
//! the internet behind a private CA or a TLS-inspecting proxy. So the roots
//! are the operating system's trust store (read by `rustls-native-certs`
//! from the usual files and directories, `SSL_CERT_FILE` and `SSL_CERT_DIR`
//! included, so a static binary finds them on Alpine too), Mozilla's roots
//! when the system has none (an empty container), and the certificates of
//! `ca_cert_file`. Nothing turns verification off.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// The trust every client of one provider configuration shares.
#[derive(Clone)]
pub struct Trust {
    config: Arc<rustls::ClientConfig>,
    /// `ca_cert_file`, when one is given: messages name it.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl Default for Trust {
    fn default() -> Self {
        Trust::new(&[], None)
    }
}

/// Why `ca_cert_file` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaFileError {
    #[error("cannot read {path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: String },
    #[error("{path} holds a certificate that is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// The PEM certificates of a CA bundle or of one server's self-signed
/// certificate.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaFileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CaFileError::Unreadable {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| CaFileError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CaFileError::NoCertificate { path: shown });
    }
    let mut probe = RootCertStore::empty();
    for cert in &certs {
        probe.add(cert.clone()).map_err(|e| CaFileError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(certs)
}

/// The operating system's roots, read once per process; Mozilla's when the
/// system has none.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!(error = %e, "a system trust store file could not be read");
        }
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            tracing::debug!("no system trust store found; trusting Mozilla's roots");
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            tracing::debug!(roots = added, "trusting the system trust store");
        }
        roots
    })
}

impl Trust {
    /// The system's roots plus `extra` (from `ca_file`).
    pub fn new(extra: &[CertificateDer<'static>], ca_file: Option<PathBuf>) -> Self {
        super::install_crypto_provider();
        let mut roots = system_roots().clone();
        let (_, _) = roots.add_parsable_certificates(extra.iter().cloned());
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Trust {
            config: Arc::new(config),
            ca_file,
        }
    }

    /// The system's roots plus the certificates of `path`.
    pub fn with_ca_file(path: &Path) -> Result<Self, CaFileError> {
        let extra = read_ca_file(path)?;
        Ok(Trust::new(&extra, Some(path.to_path_buf())))
    }

    pub fn client_config(&self) -> rustls::ClientConfig {
        (*self.config).clone()
    }
}

/// What went wrong with a server's certificate, in a user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// Signed by a CA this machine does not trust: a private CA, a
    /// self-signed certificate, or a TLS-inspecting proxy.
    UnknownIssuer,
    Expired,
    NotYetValid,
    /// Issued for another host name.
    NameMismatch,
    Revoked,
    /// Anything else rustls refused, as it says it.
    Other(String),
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertProblem::UnknownIssuer => f.write_str("its certificate is signed by an unknown issuer (a private CA, a self-signed certificate, or a TLS-inspecting proxy)"),
            CertProblem::Expired => f.write_str("its certificate has expired"),
            CertProblem::NotYetValid => f.write_str("its certificate is not valid yet (check this machine's clock)"),
            CertProblem::NameMismatch => f.write_str("its certificate is for another host name"),
            CertProblem::Revoked => f.write_str("its certificate is revoked"),
            CertProblem::Other(s) => write!(f, "the TLS handshake failed: {s}"),
        }
    }
}

/// The certificate problem behind a request error, if that is what it was.
/// The rustls error sits somewhere down the chain, often inside an
/// `io::Error`, whose `source()` skips its own inner error: each of those is
/// searched too.
pub fn cert_problem(e: &(dyn std::error::Error + 'static)) -> Option<CertProblem> {
    let mut current = Some(e);
    let mut depth = 0;
    while let Some(err) = current {
        depth += 1;
        if depth > 32 {
            return None;
        }
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return classify(r);
        }
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            let inner: &(dyn std::error::Error + 'static) = inner;
            if let Some(found) = cert_problem(inner) {
                return Some(found);
            }
        }
        current = err.source();
    }
    None
}

fn classify(e: &rustls::Error) -> Option<CertProblem> {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => Some(match c {
            C::UnknownIssuer => CertProblem::UnknownIssuer,
            C::Expired | C::ExpiredContext { .. } => CertProblem::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => CertProblem::NotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => CertProblem::NameMismatch,
            C::Revoked => CertProblem::Revoked,
            other => CertProblem::Other(format!("{other:?}")),
        }),
        rustls::Error::InvalidCertRevocationList(_) => Some(CertProblem::Other(e.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(matches!(read_ca_file(&empty), Err(CaFileError::NoCertificate { .. })));
        assert!(matches!(
            read_ca_file(&dir.path().join("missing.pem")),
            Err(CaFileError::Unreadable { .. })
        ));
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, cert.cert.pem()).unwrap();
        assert_eq!(read_ca_file(&good).unwrap().len(), 1);
    }

    #[test]
    fn certificate_errors_are_named() {
        let io = std::io::Error::other(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert_eq!(cert_problem(&io), Some(CertProblem::UnknownIssuer));
        let plain = std::io::Error::other("connection refused");
        assert_eq!(cert_problem(&plain), None);
    }
}
