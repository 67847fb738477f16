//! HTTP clients for SEI, Bitbucket Cloud, Bitbucket Data Center and
//! Bitbucket OAuth.
//!
//! Plain Rust APIs: no Terraform or gRPC types in here, so they can be used
//! and tested alone. Every request goes through [`http`], which owns the one
//! retry policy, per-attempt timeouts and cancellation.

pub mod bitbucket;
pub mod datacenter;
pub mod http;
pub mod oauth;
pub mod records;
pub mod sei;
pub mod tls;

pub use bitbucket::{BitbucketAuth, BitbucketClient, BitbucketError};
pub use http::{ClientSetupError, HttpPolicy, TransportError};
pub use oauth::{OAuthClient, OAuthError, OAuthToken};
pub use records::RecordReader;
pub use sei::{SeiAuth, SeiClient, SeiError, SeiScope};
pub use tls::Trust;

/// A credential as it travels to Bitbucket (Cloud or Data Center): Basic
/// `username:secret`, or a Bearer token. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Basic {
        username: String,
        secret: crate::secret::Secret,
    },
    Bearer(crate::secret::Secret),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// Installs aws-lc-rs as the process's TLS crypto provider, once. reqwest is
/// built without a provider of its own so that the whole process uses the one
/// the plugin server needs for Terraform's P-521 certificates.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The user agent on every request, as HashiCorp providers send one.
pub fn user_agent() -> String {
    format!("terraform-provider-sei/{}", env!("CARGO_PKG_VERSION"))
}
