//! Bitbucket OAuth 2.0 token grants through the `oauth2` crate, with our
//! retry policy underneath it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields, RefreshToken, RequestTokenError,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::http::{self, HttpPolicy, TransportError};
use crate::secret::Secret;

/// Bitbucket named the granted scopes `scopes` (space-separated) until
/// 2026-05-04 and `scope`, the standard name, since; both are read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BitbucketTokenFields {
    #[serde(default)]
    pub scopes: Option<String>,
}

impl ExtraTokenFields for BitbucketTokenFields {}

type BitbucketTokenResponse = StandardTokenResponse<BitbucketTokenFields, BasicTokenType>;

type TokenClient = oauth2::Client<
    BasicErrorResponse,
    BitbucketTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

#[derive(Clone, PartialEq, Eq)]
pub struct OAuthToken {
    pub access_token: Secret,
    pub token_type: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub refresh_token: Option<Secret>,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("Bitbucket refused the token request: {code}{}", .description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused { code: String, description: Option<String> },
    #[error("cannot reach Bitbucket's token endpoint: {0}")]
    Transport(TransportError),
    #[error("Bitbucket's token endpoint answered HTTP {status}")]
    Http { status: u16 },
    #[error("Bitbucket's token response cannot be read: {0}")]
    Decode(String),
    #[error("invalid OAuth URL: {0}")]
    Config(String),
}

#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    base: Url,
    policy: HttpPolicy,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("base", &self.base.as_str())
            .finish()
    }
}

impl OAuthClient {
    pub fn new(base: Url, policy: HttpPolicy) -> Result<Self, http::ClientSetupError> {
        Ok(OAuthClient {
            http: http::build_http_client(&policy)?,
            base,
            policy,
        })
    }

    fn token_client(&self, client_id: &str, client_secret: &Secret) -> Result<TokenClient, OAuthError> {
        let token_url = format!("{}/access_token", self.base.as_str().trim_end_matches('/'));
        Ok(oauth2::Client::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(client_secret.expose().to_string()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::new(token_url).map_err(|e| OAuthError::Config(e.to_string()))?))
    }

    pub async fn client_credentials(
        &self,
        client_id: &str,
        client_secret: &Secret,
        cancel: &CancellationToken,
    ) -> Result<OAuthToken, OAuthError> {
        let client = self.token_client(client_id, client_secret)?;
        let adapter = RetryingHttp {
            http: &self.http,
            policy: &self.policy,
            cancel,
        };
        let response = client.exchange_client_credentials().request_async(&adapter).await;
        convert(response)
    }

    pub async fn refresh(
        &self,
        client_id: &str,
        client_secret: &Secret,
        refresh_token: &Secret,
        cancel: &CancellationToken,
    ) -> Result<OAuthToken, OAuthError> {
        let client = self.token_client(client_id, client_secret)?;
        let adapter = RetryingHttp {
            http: &self.http,
            policy: &self.policy,
            cancel,
        };
        let token = RefreshToken::new(refresh_token.expose().to_string());
        let response = client.exchange_refresh_token(&token).request_async(&adapter).await;
        convert(response)
    }
}

fn convert(
    response: Result<BitbucketTokenResponse, RequestTokenError<AdapterError, BasicErrorResponse>>,
) -> Result<OAuthToken, OAuthError> {
    match response {
        Ok(token) => {
            let scopes = token
                .extra_fields()
                .scopes
                .as_deref()
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .or_else(|| token.scopes().map(|s| s.iter().map(|x| x.to_string()).collect()))
                .unwrap_or_default();
            Ok(OAuthToken {
                access_token: Secret::new(token.access_token().secret().clone()),
                token_type: "bearer".to_string(),
                scopes,
                expires_at: token
                    .expires_in()
                    .and_then(|d| chrono::Duration::from_std(d).ok())
                    .map(|d| chrono::Utc::now() + d),
                refresh_token: token.refresh_token().map(|t| Secret::new(t.secret().clone())),
            })
        }
        Err(RequestTokenError::ServerResponse(e)) => Err(OAuthError::Refused {
            code: e.error().as_ref().to_string(),
            description: e.error_description().cloned(),
        }),
        Err(RequestTokenError::Request(AdapterError(e))) => Err(e),
        // Parse errors carry the body, which holds the token: never shown.
        Err(RequestTokenError::Parse(e, _body)) => Err(OAuthError::Decode(e.to_string())),
        Err(RequestTokenError::Other(e)) => Err(OAuthError::Decode(e)),
    }
}

#[derive(Debug)]
struct AdapterError(OAuthError);

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for AdapterError {}

/// Lets the `oauth2` crate send through our retry policy. Token grants are
/// safe to repeat: client credentials and refresh mint a token each time.
struct RetryingHttp<'a> {
    http: &'a reqwest::Client,
    policy: &'a HttpPolicy,
    cancel: &'a CancellationToken,
}

impl<'c> oauth2::AsyncHttpClient<'c> for RetryingHttp<'_> {
    type Error = AdapterError;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, AdapterError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let build = || {
                let mut rb = self.http.request(parts.method.clone(), &url);
                for (name, value) in &parts.headers {
                    rb = rb.header(name, value);
                }
                rb.body(body.clone())
            };
            let (resp, _attempts) = http::send_idempotent(build, self.policy, self.cancel)
                .await
                .map_err(|e| AdapterError(OAuthError::Transport(e)))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| AdapterError(OAuthError::Decode(e.without_url().to_string())))?;
            if status.as_u16() == 429 || status.is_server_error() {
                return Err(AdapterError(OAuthError::Http {
                    status: status.as_u16(),
                }));
            }
            let mut out = ::http::Response::builder().status(status.as_u16());
            for (name, value) in &headers {
                out = out.header(name, value);
            }
            out.body(bytes.to_vec())
                .map_err(|e| AdapterError(OAuthError::Decode(e.to_string())))
        })
    }
}
