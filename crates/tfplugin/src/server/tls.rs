//! AutoMTLS, as go-plugin does it.
//!
//! Terraform generates a throwaway client certificate per run and passes it
//! in `PLUGIN_CLIENT_CERT`; we generate a throwaway server certificate per
//! start and print it in the handshake. Each side trusts exactly the other's
//! certificate. Terraform's certificate is a P-521 CA certificate, which
//! webpki refuses as an end-entity and ring cannot verify, so the client
//! check is a pin on the exact DER bytes, with the handshake signature
//! verified by aws-lc-rs.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::transport::{PluginListener, PluginStream};

/// Why our side of AutoMTLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCertificate,
    #[error("PLUGIN_CLIENT_CERT is not valid PEM: {0}")]
    BadClientCertificate(String),
    #[error("cannot make the server certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// Our side of AutoMTLS for one process lifetime.
pub struct ServerTls {
    cert_der: CertificateDer<'static>,
    config: Arc<rustls::ServerConfig>,
}

impl ServerTls {
    pub fn new(client_cert_pem: &str) -> Result<Self, TlsSetupError> {
        let client_cert = first_pem_certificate(client_cert_pem)?;
        let (cert_der, key_der) = generate_server_certificate()?;
        let config = server_config(cert_der.clone(), key_der, client_cert)?;
        Ok(ServerTls {
            cert_der,
            config: Arc::new(config),
        })
    }

    pub fn certificate_der(&self) -> &[u8] {
        self.cert_der.as_ref()
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

pub fn first_pem_certificate(pem: &str) -> Result<CertificateDer<'static>, TlsSetupError> {
    use rustls_pki_types::pem::PemObject;
    let first = CertificateDer::pem_slice_iter(pem.as_bytes()).next();
    first
        .ok_or(TlsSetupError::NoClientCertificate)?
        .map_err(|e| TlsSetupError::BadClientCertificate(e.to_string()))
}

/// A fresh self-signed certificate for `localhost`. Go's TLS client checks
/// the SAN, not the CN; go-plugin marks its certificates as CAs, and so do we.
pub fn generate_server_certificate() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsSetupError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.distinguished_name.push(DnType::OrganizationName, "tfplugin");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key_der))
}

pub fn server_config(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    client_cert: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedClientCert::new(
        client_cert,
        provider.signature_verification_algorithms,
    ));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)?;
    // grpc-go 1.67 and later refuse a server that does not negotiate h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, byte for byte.
#[derive(Debug)]
pub struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    pub fn new(expected: CertificateDer<'static>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        PinnedClientCert { expected, algorithms }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A connection handed to tonic: TLS or plain, over a Unix socket or TCP.
pub struct PluginConn<S>(S);

impl<S> tonic::transport::server::Connected for PluginConn<S> {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl<S: AsyncRead + Unpin> AsyncRead for PluginConn<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PluginConn<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

pub type TlsConn = PluginConn<tokio_rustls::server::TlsStream<PluginStream>>;
pub type PlainConn = PluginConn<PluginStream>;

/// Accepts connections and completes TLS handshakes off the accept loop,
/// so one stalled client cannot block the next. Failed handshakes (a wrong
/// client certificate) are logged and dropped.
pub fn accept_tls(
    listener: PluginListener,
    acceptor: TlsAcceptor,
    shutdown: CancellationToken,
) -> ReceiverStream<Result<TlsConn, io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match acceptor.accept(conn).await {
                    Ok(tls) => {
                        let _ = tx.send(Ok(PluginConn(tls))).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "refused a plugin connection: TLS handshake failed"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

pub fn accept_plain(
    listener: PluginListener,
    shutdown: CancellationToken,
) -> ReceiverStream<Result<PlainConn, io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(conn) => {
                        if tx.send(Ok(PluginConn(conn))).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "accept failed"),
                },
            }
        }
    });
    ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_accepts_only_the_pinned_certificate() {
        let (pinned, _) = generate_server_certificate().unwrap();
        let (other, _) = generate_server_certificate().unwrap();
        let algorithms = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        let verifier = PinnedClientCert::new(pinned.clone(), algorithms);
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(&pinned, &[], now).is_ok());
        let err = verifier.verify_client_cert(&other, &[], now).unwrap_err();
        assert_eq!(err, rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert!(verifier.client_auth_mandatory());
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }
}
