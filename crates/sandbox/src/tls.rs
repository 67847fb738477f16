//! HTTPS for the sandbox (`--tls`): a throwaway CA and a server certificate
//! for the listen address, made at start, so that tests can exercise a
//! private CA (`ca_cert_file`, `SSL_CERT_FILE`), a self-signed server, and
//! the TLS error messages of a client that trusts neither.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::error::SandboxError;

/// How the server's certificate is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsKind {
    /// By a throwaway CA, as an internal PKI does; clients trust the CA.
    Ca,
    /// By itself; clients trust the server's own certificate.
    SelfSigned,
}

/// How `--tls` runs: the certificate's issuer, where the file to trust is
/// written, and host names (besides `localhost` and the listen address) the
/// certificate is good for, such as a name only a proxy resolves.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    pub kind: TlsKind,
    pub dir: PathBuf,
    pub names: Vec<String>,
}

/// The server side of the sandbox's TLS, and the file a client must trust.
pub struct TlsMaterial {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// PEM of the CA (or of the self-signed server certificate).
    pub trust_file: PathBuf,
    /// The same, as SEI's own HTTP client (the OAuth code exchange) needs it.
    pub trust_pem: String,
}

fn setup(what: &str) -> impl Fn(rcgen::Error) -> SandboxError + '_ {
    move |e| SandboxError::Setup(format!("cannot make the {what}: {e}"))
}

/// Makes the certificates for `ip` (and `localhost`), writes the file to
/// trust into `dir`, and builds the acceptor.
pub fn make(options: &TlsOptions, ip: IpAddr) -> Result<TlsMaterial, SandboxError> {
    let (kind, dir) = (options.kind, options.dir.as_path());
    let mut names = vec!["localhost".to_string()];
    names.extend(options.names.iter().cloned());
    let mut leaf = CertificateParams::new(names).map_err(setup("server certificate"))?;
    leaf.subject_alt_names.push(SanType::IpAddress(ip));
    leaf.distinguished_name.push(DnType::CommonName, "sei-sandbox");
    let leaf_key = KeyPair::generate().map_err(setup("server key"))?;
    let (leaf_der, trust_pem) = match kind {
        TlsKind::SelfSigned => {
            let cert = leaf.self_signed(&leaf_key).map_err(setup("server certificate"))?;
            (cert.der().clone(), cert.pem())
        }
        TlsKind::Ca => {
            let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(setup("CA"))?;
            ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            ca.distinguished_name
                .push(DnType::CommonName, "sei-sandbox throwaway CA");
            let ca_key = KeyPair::generate().map_err(setup("CA key"))?;
            let issuer = CertifiedIssuer::self_signed(ca, ca_key).map_err(setup("CA"))?;
            let cert = leaf
                .signed_by(&leaf_key, &issuer)
                .map_err(setup("server certificate"))?;
            (cert.der().clone(), issuer.pem())
        }
    };
    let file = match kind {
        TlsKind::Ca => "ca.pem",
        TlsKind::SelfSigned => "server.pem",
    };
    std::fs::create_dir_all(dir).map_err(|e| SandboxError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    let trust_file = dir.join(file);
    std::fs::write(&trust_file, &trust_pem)
        .map_err(|e| SandboxError::Setup(format!("cannot write {}: {e}", trust_file.display())))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf_der.to_vec())], key)
        .map_err(|e| SandboxError::Setup(format!("cannot configure TLS: {e}")))?;
    let mut config = config;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        trust_file,
        trust_pem,
    })
}
