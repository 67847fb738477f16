//! The Bitbucket Data Center REST API subset the plan-time check needs,
//! under each integration's own `url` (`{url}/rest/api/1.0/…`).
//!
//! Data Center answers 401 both for a bad credential and for a missing
//! permission; only `X-AUSERNAME`, which it sets on every authenticated
//! answer, tells them apart. So every answer here carries that header's
//! value next to its outcome.

use std::fmt;

use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::http::{self, Failure, HttpPolicy, TransportError};

/// How a credential is presented. SEI only ever sends Basic; Bearer is
/// used by the check to recognise a project or repository token.
pub type DataCenterAuth = super::Auth;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataCenterError {
    /// HTTP 401, with `X-AUSERNAME` as `identity`. When present, the caller is known
    /// and lacks a permission; when absent, the credential was refused.
    #[error("Bitbucket Data Center answered 401 ({message})")]
    Unauthorized {
        identity: Option<String>,
        message: String,
        exception: Option<String>,
    },
    #[error("Bitbucket Data Center found nothing there (404): {message}")]
    NotFound { message: String },
    #[error("Bitbucket Data Center is rate limiting this user; {}{}", http::attempts_note(*.attempts), http::reset_note(*.reset_in))]
    RateLimited {
        attempts: u32,
        reset_in: Option<std::time::Duration>,
    },
    #[error("Bitbucket Data Center failed (HTTP {status}) after {attempts} attempt(s): {message}")]
    Server {
        status: u16,
        message: String,
        attempts: u32,
    },
    #[error("cannot reach Bitbucket Data Center: {0}")]
    Transport(TransportError),
    #[error("the answer is not Bitbucket Data Center's: {0}")]
    Decode(String),
}

impl DataCenterError {
    /// Failures that say nothing about the credential, and so are never
    /// cached.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DataCenterError::RateLimited { .. } | DataCenterError::Transport(_) | DataCenterError::Server { .. }
        )
    }
}

/// An answer: who Data Center says the caller is, and the outcome.
#[derive(Debug, Clone)]
pub struct DcReply<T> {
    pub identity: Option<String>,
    pub result: Result<T, DataCenterError>,
}

/// `GET /rest/api/1.0/application-properties`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub version: String,
    #[serde(default)]
    pub build_number: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// What answered at `url` when it is not Data Center.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("{url} answered HTTP {status}{}{}", kind(.content_type), snippet(.body))]
    NotDataCenter {
        url: String,
        status: u16,
        content_type: Option<String>,
        body: String,
    },
    #[error("cannot reach {url}: {source}")]
    Unreachable { url: String, source: TransportError },
}

fn kind(content_type: &Option<String>) -> String {
    content_type.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
}

fn snippet(body: &str) -> String {
    let text: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return " with an empty body".to_string();
    }
    let short: String = text.chars().take(120).collect();
    let more = if text.chars().count() > 120 { "…" } else { "" };
    format!(": {short}{more}")
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Project {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    pub slug: String,
    pub name: String,
    pub project: Project,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default)]
    is_last_page: Option<bool>,
    #[serde(default)]
    next_page_start: Option<u64>,
}

/// Data Center's largest page.
const PAGE_LIMIT: u32 = 1000;
/// A safety stop for a server whose pages never end.
const MAX_PAGES: usize = 1000;

#[derive(Clone)]
pub struct DataCenterClient {
    http: reqwest::Client,
    policy: HttpPolicy,
}

impl fmt::Debug for DataCenterClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataCenterClient").finish_non_exhaustive()
    }
}

/// `{base}/rest/api/1.0{tail}`, keeping any context path of `base`.
pub fn api_url(base: &Url, tail: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_path(&format!("{}/rest/api/1.0{tail}", base.path().trim_end_matches('/')));
    url
}

/// The list of a project's repositories, for [`DataCenterClient::paged`].
pub fn project_repos_path(key: &str) -> String {
    format!("/projects/{}/repos", http::path_segment(key))
}

impl DataCenterClient {
    pub fn new(policy: HttpPolicy) -> Result<Self, http::ClientSetupError> {
        Ok(DataCenterClient {
            http: http::build_http_client(&policy)?,
            policy,
        })
    }

    fn get(&self, url: Url, auth: Option<&DataCenterAuth>) -> RequestBuilder {
        let rb = self.http.get(url).header("Accept", "application/json");
        match auth {
            Some(DataCenterAuth::Basic { username, secret }) => rb.basic_auth(username, Some(secret.expose())),
            Some(DataCenterAuth::Bearer(token)) => rb.bearer_auth(token.expose()),
            None => rb,
        }
    }

    /// The version probe, without credentials: anything but Data Center's
    /// JSON answer is reported with what did answer.
    pub async fn server_info(&self, base: &Url, cancel: &CancellationToken) -> Result<ServerInfo, ProbeError> {
        let url = api_url(base, "/application-properties");
        let shown = http::loggable(&url);
        let (resp, _) = http::send_idempotent(|| self.get(url.clone(), None), &self.policy, cancel)
            .await
            .map_err(|source| ProbeError::Unreachable {
                url: shown.clone(),
                source,
            })?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_string());
        let body = http::read_bounded(resp, READ_LIMIT).await;
        let not_dc = |body: String| ProbeError::NotDataCenter {
            url: shown.clone(),
            status: status.as_u16(),
            content_type: content_type.clone(),
            body,
        };
        if !status.is_success() {
            return Err(not_dc(body));
        }
        match serde_json::from_str::<ServerInfo>(&body) {
            Ok(info) if !info.version.is_empty() => Ok(info),
            _ => Err(not_dc(body)),
        }
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        url: Url,
        auth: &DataCenterAuth,
        cancel: &CancellationToken,
    ) -> DcReply<T> {
        let ex = match http::exchange(|| self.get(url.clone(), Some(auth)), &self.policy, cancel).await {
            Ok(ex) => ex,
            Err(e) => {
                return DcReply {
                    identity: None,
                    result: Err(e.into()),
                }
            }
        };
        // Who Data Center took the caller for: tells its two 401s apart.
        let identity = ex
            .headers
            .get("x-ausername")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .filter(|s| !s.is_empty());
        let result = if ex.status.is_success() {
            serde_json::from_str(&ex.body).map_err(|e| DataCenterError::Decode(e.to_string()))
        } else {
            Err(classify(
                ex.status,
                &ex.body,
                ex.attempts,
                identity.clone(),
                http::server_wait(&ex.headers),
            ))
        };
        DcReply { identity, result }
    }

    /// Every page of a Data Center list, following `nextPageStart`.
    pub async fn paged<T: for<'de> Deserialize<'de>>(
        &self,
        base: &Url,
        tail: &str,
        auth: &DataCenterAuth,
        cancel: &CancellationToken,
    ) -> DcReply<Vec<T>> {
        let mut out = Vec::new();
        let mut start = 0u64;
        let mut identity = None;
        for _ in 0..MAX_PAGES {
            let mut url = api_url(base, tail);
            url.query_pairs_mut()
                .append_pair("start", &start.to_string())
                .append_pair("limit", &PAGE_LIMIT.to_string());
            let reply: DcReply<Page<T>> = self.get_json(url, auth, cancel).await;
            identity = reply.identity.or(identity);
            let page = match reply.result {
                Ok(p) => p,
                Err(e) => {
                    return DcReply {
                        identity,
                        result: Err(e),
                    }
                }
            };
            let count = page.values.len();
            out.extend(page.values);
            // SEI stops on isLastPage, a missing nextPageStart or a short
            // page; so does this.
            match (page.is_last_page, page.next_page_start) {
                (Some(false), Some(next)) if count > 0 && next > start => start = next,
                _ => {
                    return DcReply {
                        identity,
                        result: Ok(out),
                    }
                }
            }
        }
        DcReply {
            identity,
            result: Err(DataCenterError::Decode("pagination did not end".into())),
        }
    }

    /// `GET /projects/{key}/repos/{slug}`: whether a repository the caller
    /// cannot list exists (401 with identity) or not (404).
    pub async fn repository(
        &self,
        base: &Url,
        key: &str,
        slug: &str,
        auth: &DataCenterAuth,
        cancel: &CancellationToken,
    ) -> DcReply<Repository> {
        let tail = format!(
            "/projects/{}/repos/{}",
            http::path_segment(key),
            http::path_segment(slug)
        );
        self.get_json(api_url(base, &tail), auth, cancel).await
    }
}

/// How much of a version probe's answer is read: a misconfigured `url` can
/// point at anything (an HTML login page), and only its start is shown.
const READ_LIMIT: usize = 64 * 1024;

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ErrorItem {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    exception_name: Option<String>,
}

fn classify(
    status: StatusCode,
    body: &str,
    attempts: u32,
    identity: Option<String>,
    reset_in: Option<std::time::Duration>,
) -> DataCenterError {
    let env: Envelope = serde_json::from_str(body).unwrap_or_default();
    let first = env.errors.into_iter().next().unwrap_or_default();
    let message = first
        .message
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    // Data Center answers 401, never 403, for missing permissions; who
    // asked (`X-AUSERNAME`) tells the two 401s apart.
    match Failure::of(status) {
        Failure::Unauthorized => DataCenterError::Unauthorized {
            identity,
            message,
            exception: first.exception_name,
        },
        Failure::NotFound => DataCenterError::NotFound { message },
        Failure::RateLimited => DataCenterError::RateLimited { attempts, reset_in },
        Failure::Forbidden | Failure::Gone | Failure::Other(_) => DataCenterError::Server {
            status: status.as_u16(),
            message,
            attempts,
        },
    }
}

/// A transport failure as this client's error; a window closed by an
/// earlier 429 of the same credential reads as that rate limit.
impl From<TransportError> for DataCenterError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::RateLimited { reset_in } => DataCenterError::RateLimited {
                attempts: 0,
                reset_in: Some(reset_in),
            },
            other => DataCenterError::Transport(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_keep_the_context_path() {
        let base = Url::parse("https://git.acme.internal/bitbucket").unwrap();
        assert_eq!(
            api_url(&base, "/projects").as_str(),
            "https://git.acme.internal/bitbucket/rest/api/1.0/projects"
        );
        let root = Url::parse("https://git.acme.internal").unwrap();
        assert_eq!(
            api_url(&root, "/repos").as_str(),
            "https://git.acme.internal/rest/api/1.0/repos"
        );
    }

    #[test]
    fn a_401_keeps_the_identity_that_tells_permission_from_credential() {
        let body = r#"{"errors":[{"context":null,"message":"You are not permitted to access this resource","exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}"#;
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, body, 1, Some("dfrankel".into()), None),
            DataCenterError::Unauthorized {
                identity: Some("dfrankel".into()),
                message: "You are not permitted to access this resource".into(),
                exception: Some("com.atlassian.bitbucket.AuthorisationException".into()),
            }
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, "", 6, None, None),
            DataCenterError::RateLimited {
                attempts: 6,
                reset_in: None
            }
        );
    }

    #[test]
    fn what_answered_instead_is_shown_briefly() {
        let e = ProbeError::NotDataCenter {
            url: "https://x/rest/api/1.0/application-properties".into(),
            status: 404,
            content_type: Some("text/html".into()),
            body: "<html>\n<h1>Not   Found</h1></html>".into(),
        };
        assert_eq!(
            e.to_string(),
            "https://x/rest/api/1.0/application-properties answered HTTP 404 (text/html): <html> <h1>Not Found</h1></html>"
        );
    }
}
