//! Starting the provider binary as Terraform does and talking to it over
//! gRPC with AutoMTLS: shared by the protocol tests (`grpc.rs`) and the
//! replays of newer Terraform's call sequences (`replay.rs`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use terraform_provider_sei::provider::provider_schema;
use tfplugin::codec::{encode_msgpack, Value};
use tfplugin::server::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use tfplugin::server::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::server::proto::plugin::Empty;
use tfplugin::server::proto::tfplugin6 as pb;
use tonic::transport::{Channel, Endpoint};

pub struct ClientIdentity {
    pub pem: String,
    pub der: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

/// A throwaway CA-flagged client certificate, as Terraform makes one.
pub fn client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// Where a plugin said it listens, from its handshake or reattach line.
#[derive(Debug, Clone)]
pub enum Addr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Addr {
    pub fn parse(network: &str, address: &str) -> Addr {
        match network {
            "tcp" => Addr::Tcp(address.parse().unwrap()),
            "unix" => Addr::Unix(PathBuf::from(address)),
            other => panic!("unknown network {other:?}"),
        }
    }
}

pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

pub async fn dial(addr: &Addr) -> std::io::Result<Box<dyn Io>> {
    Ok(match addr {
        Addr::Tcp(a) => Box::new(tokio::net::TcpStream::connect(a).await?),
        Addr::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
    })
}

pub struct Plugin {
    pub child: Child,
    pub addr: Addr,
    pub server_cert: Vec<u8>,
}

pub fn start_plugin(client_cert_pem: &str, env: &[(&str, &str)]) -> Plugin {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terraform-provider-sei"));
    cmd.env_clear()
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6,5")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", client_cert_pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "{line}");
    assert_eq!(&parts[..2], ["1", "6"]);
    assert_eq!(parts[4], "grpc");
    let addr = Addr::parse(parts[2], parts[3]);
    if let Addr::Tcp(a) = &addr {
        assert!((10000..=25000).contains(&a.port()));
    }
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap();
    Plugin {
        child,
        addr,
        server_cert,
    }
}

/// Trusts exactly the server certificate from the handshake, as go-plugin's
/// client does.
#[derive(Debug)]
pub struct PinnedServer(Vec<u8>, rustls::crypto::WebPkiSupportedAlgorithms);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("unexpected server certificate".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.1.supported_schemes()
    }
}

pub async fn connect(plugin: &Plugin, id: &ClientIdentity) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer(
        plugin.server_cert.clone(),
        provider.signature_verification_algorithms,
    ));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![id.der.clone()], id.key.clone_key())
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = plugin.addr.clone();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            let addr = addr.clone();
            async move {
                let stream = dial(&addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), stream)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

pub fn provider_config(attrs: &[(&str, Value)]) -> pb::DynamicValue {
    let value = Value::object(attrs.iter().map(|(k, v)| (*k, v.clone())));
    pb::DynamicValue {
        msgpack: encode_msgpack(&value, &provider_schema().value_type()).unwrap(),
        json: vec![],
    }
}

pub fn paths(diags: &[pb::Diagnostic]) -> Vec<String> {
    use pb::attribute_path::step::Selector;
    diags
        .iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(|a| {
                    a.steps
                        .iter()
                        .filter_map(|s| match &s.selector {
                            Some(Selector::AttributeName(n)) => Some(n.clone()),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default()
        })
        .collect()
}

pub async fn shutdown_and_wait(mut plugin: Plugin, channel: Channel) -> String {
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = plugin.child.wait().unwrap();
        let mut stderr = String::new();
        plugin.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (status, stderr)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exited with {:?}", status.0);
    status.1
}
