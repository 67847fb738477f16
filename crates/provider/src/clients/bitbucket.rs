//! The Bitbucket Cloud REST API subset the credential check needs.
//!
//! Never calls the endpoints CHANGE-2770 removed (`/2.0/workspaces`,
//! `/2.0/repositories` without a workspace, `/2.0/user/permissions/*`).

use std::fmt;

use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::http::{self, Failure, HttpPolicy, TransportError};

/// How a Bitbucket credential travels: `Basic` (Atlassian email + API
/// token, or username + App Password), or `Bearer` (OAuth access token, or a
/// repository, project or workspace access token).
pub type BitbucketAuth = super::Auth;

/// What Bitbucket says about the credential in response headers; present on
/// 403s too, which is how an access token is recognised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialFacts {
    /// `X-Credential-Type`.
    pub credential_type: Option<String>,
    /// `X-OAuth-Scopes`, split on commas; `None` when the header is absent.
    pub scopes: Option<Vec<String>>,
}

impl CredentialFacts {
    fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        CredentialFacts {
            credential_type: header("x-credential-type").filter(|s| !s.is_empty()),
            scopes: header("x-oauth-scopes").map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitbucketError {
    #[error("Bitbucket rejected the credential (401): {message}")]
    Unauthorized { message: String },
    #[error("Bitbucket refused the request (403): {message}")]
    Forbidden {
        message: String,
        required: Vec<String>,
        granted: Vec<String>,
    },
    #[error("Bitbucket found nothing there (404): {message}")]
    NotFound { message: String },
    #[error("Bitbucket removed this endpoint (410): {message}")]
    Gone { message: String },
    #[error("Bitbucket rate limit reached; {}{}", http::attempts_note(*.attempts), http::reset_note(*.reset_in))]
    RateLimited {
        attempts: u32,
        /// How long Bitbucket asked to wait (`X-RateLimit-Reset`,
        /// `Retry-After`), when it said.
        reset_in: Option<std::time::Duration>,
    },
    #[error("Bitbucket failed (HTTP {status}) after {attempts} attempt(s): {message}")]
    Server {
        status: u16,
        message: String,
        attempts: u32,
    },
    #[error("cannot reach Bitbucket: {0}")]
    Transport(TransportError),
    #[error("Bitbucket sent a response this provider cannot read: {0}")]
    Decode(String),
}

/// A response's credential facts with its outcome.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub facts: CredentialFacts,
    pub result: Result<T, BitbucketError>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkspaceAccess {
    #[serde(default)]
    pub administrator: bool,
    pub workspace: WorkspaceRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkspaceRef {
    pub slug: String,
    #[serde(default)]
    pub uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    pub full_name: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Clone)]
pub struct BitbucketClient {
    http: reqwest::Client,
    base: Url,
    policy: HttpPolicy,
}

impl fmt::Debug for BitbucketClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitbucketClient")
            .field("base", &self.base.as_str())
            .finish()
    }
}

/// Bitbucket's page size ceiling.
const PAGE_LEN: u32 = 100;
/// A safety stop for a server whose `next` never ends.
const MAX_PAGES: usize = 1000;

impl BitbucketClient {
    pub fn new(base: Url, policy: HttpPolicy) -> Result<Self, http::ClientSetupError> {
        Ok(BitbucketClient {
            http: http::build_http_client(&policy)?,
            base,
            policy,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        url
    }

    fn authed(&self, url: Url, auth: &BitbucketAuth) -> RequestBuilder {
        let rb = self.http.get(url).header("Accept", "application/json");
        match auth {
            BitbucketAuth::Basic { username, secret } => rb.basic_auth(username, Some(secret.expose())),
            BitbucketAuth::Bearer(token) => rb.bearer_auth(token.expose()),
        }
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        url: Url,
        auth: &BitbucketAuth,
        cancel: &CancellationToken,
    ) -> Reply<T> {
        let ex = match http::exchange(|| self.authed(url.clone(), auth), &self.policy, cancel).await {
            Ok(ex) => ex,
            Err(e) => {
                return Reply {
                    facts: CredentialFacts::default(),
                    result: Err(e.into()),
                }
            }
        };
        let facts = CredentialFacts::from_headers(&ex.headers);
        let result = if ex.status.is_success() {
            serde_json::from_str(&ex.body).map_err(|e| BitbucketError::Decode(e.to_string()))
        } else {
            Err(classify(
                ex.status,
                &ex.body,
                ex.attempts,
                http::server_wait(&ex.headers),
            ))
        };
        Reply { facts, result }
    }

    /// `GET /2.0/user`: identity, plus scopes and credential type from headers.
    pub async fn user(&self, auth: &BitbucketAuth, cancel: &CancellationToken) -> Reply<User> {
        self.get_json(self.url("/user"), auth, cancel).await
    }

    /// `GET /2.0/user/workspaces`, every page.
    pub async fn user_workspaces(
        &self,
        auth: &BitbucketAuth,
        cancel: &CancellationToken,
    ) -> Reply<Vec<WorkspaceAccess>> {
        let mut url = self.url("/user/workspaces");
        url.query_pairs_mut()
            .append_pair("sort", "slug")
            .append_pair("pagelen", &PAGE_LEN.to_string());
        self.paged(url, auth, cancel).await
    }

    /// `GET /2.0/user/workspaces/{ws}/permission`: the caller's role.
    pub async fn workspace_permission(
        &self,
        auth: &BitbucketAuth,
        workspace: &str,
        cancel: &CancellationToken,
    ) -> Reply<String> {
        #[derive(Deserialize)]
        struct Membership {
            permission: String,
        }
        let url = self.url(&format!(
            "/user/workspaces/{}/permission",
            http::path_segment(workspace)
        ));
        let reply: Reply<Membership> = self.get_json(url, auth, cancel).await;
        Reply {
            facts: reply.facts,
            result: reply.result.map(|m| m.permission),
        }
    }

    /// `GET /2.0/repositories/{ws}?role=member`, every page. Covers both
    /// "can this credential see the workspace" and "does this repo exist".
    pub async fn repositories(
        &self,
        auth: &BitbucketAuth,
        workspace: &str,
        cancel: &CancellationToken,
    ) -> Reply<Vec<Repository>> {
        let mut url = self.url(&format!("/repositories/{}", http::path_segment(workspace)));
        url.query_pairs_mut()
            .append_pair("role", "member")
            .append_pair("pagelen", &PAGE_LEN.to_string());
        self.paged(url, auth, cancel).await
    }

    /// `GET /2.0/repositories/{ws}/{repo}/pullrequests?pagelen=1`: a cheap
    /// probe of the pull-request scope.
    pub async fn pull_request_probe(
        &self,
        auth: &BitbucketAuth,
        workspace: &str,
        repo: &str,
        cancel: &CancellationToken,
    ) -> Reply<()> {
        let mut url = self.url(&format!(
            "/repositories/{}/{}/pullrequests",
            http::path_segment(workspace),
            http::path_segment(repo)
        ));
        url.query_pairs_mut().append_pair("pagelen", "1");
        let reply: Reply<serde_json::Value> = self.get_json(url, auth, cancel).await;
        Reply {
            facts: reply.facts,
            result: reply.result.map(|_| ()),
        }
    }

    /// Follows `next` verbatim, but only on our own origin: a credential is
    /// never sent to a host the user did not configure.
    async fn paged<T: for<'de> Deserialize<'de>>(
        &self,
        first: Url,
        auth: &BitbucketAuth,
        cancel: &CancellationToken,
    ) -> Reply<Vec<T>> {
        let mut out = Vec::new();
        let mut url = first;
        let mut facts = CredentialFacts::default();
        for _ in 0..MAX_PAGES {
            let reply: Reply<Page<T>> = self.get_json(url.clone(), auth, cancel).await;
            facts = reply.facts;
            let page = match reply.result {
                Ok(p) => p,
                Err(e) => return Reply { facts, result: Err(e) },
            };
            out.extend(page.values);
            let Some(next) = page.next else {
                return Reply { facts, result: Ok(out) };
            };
            match Url::parse(&next) {
                Ok(n) if n.origin() == self.base.origin() => url = n,
                _ => {
                    return Reply {
                        facts,
                        result: Err(BitbucketError::Decode(format!(
                            "pagination link {next:?} leaves {}",
                            self.base.origin().ascii_serialization()
                        ))),
                    }
                }
            }
        }
        Reply {
            facts,
            result: Err(BitbucketError::Decode("pagination did not end".into())),
        }
    }
}

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

fn classify(status: StatusCode, body: &str, attempts: u32, reset_in: Option<std::time::Duration>) -> BitbucketError {
    let env: Envelope = serde_json::from_str(body).unwrap_or_default();
    let err = env.error.unwrap_or_default();
    let message = err
        .message
        .clone()
        .or_else(|| Some(body.trim().to_string()).filter(|b| !b.is_empty() && b.len() < 500 && !b.starts_with('{')))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let list = |key: &str| -> Vec<String> {
        err.detail
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    match Failure::of(status) {
        Failure::Unauthorized => BitbucketError::Unauthorized { message },
        Failure::Forbidden => BitbucketError::Forbidden {
            message,
            required: list("required"),
            granted: list("granted"),
        },
        Failure::NotFound => BitbucketError::NotFound { message },
        Failure::Gone => BitbucketError::Gone { message },
        Failure::RateLimited => BitbucketError::RateLimited { attempts, reset_in },
        Failure::Other(status) => BitbucketError::Server {
            status,
            message,
            attempts,
        },
    }
}

/// A transport failure as this client's error; a window closed by an
/// earlier 429 of the same credential reads as that rate limit.
impl From<TransportError> for BitbucketError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::RateLimited { reset_in } => BitbucketError::RateLimited {
                attempts: 0,
                reset_in: Some(reset_in),
            },
            other => BitbucketError::Transport(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_scope_errors_with_required_and_granted() {
        let body = r#"{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes.","detail":{"required":["account"],"granted":["team"]}}}"#;
        assert_eq!(
            classify(StatusCode::FORBIDDEN, body, 1, None),
            BitbucketError::Forbidden {
                message: "Your credentials lack one or more required privilege scopes.".into(),
                required: vec!["account".into()],
                granted: vec!["team".into()],
            }
        );
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit for this resource has been exceeded",
                6,
                None
            ),
            BitbucketError::RateLimited {
                attempts: 6,
                reset_in: None
            }
        );
    }

    #[test]
    fn auth_debug_hides_the_secret() {
        let a = BitbucketAuth::Basic {
            username: "ops@acme.example".into(),
            secret: "ATATT-xyz".into(),
        };
        assert_eq!(format!("{a:?}"), "Basic(ops@acme.example, ***)");
    }
}
