//! The SEI integrations API (`/v1/integrations`), as the contract describes
//! it, quirks included.

use std::collections::HashSet;
use std::fmt;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::http::{self, AttemptError, HttpPolicy, Step, TransportError};
use crate::secret::Secret;

/// How the API key travels: Harness platform tokens through the gateway's
/// `x-api-key`, SEI's own keys as `Authorization: ApiKey`.
#[derive(Debug, Clone)]
pub enum SeiAuth {
    PlatformToken(Secret),
    ApiKey(Secret),
}

impl SeiAuth {
    pub fn from_key(key: Secret) -> Self {
        let k = key.expose();
        if k.starts_with("pat.") || k.starts_with("sat.") {
            SeiAuth::PlatformToken(key)
        } else {
            SeiAuth::ApiKey(key)
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SeiScope {
    pub account_id: Option<String>,
    pub org_id: Option<String>,
    pub project_id: Option<String>,
}

/// An integration record as SEI returns it. Secrets are never in it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Integration {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub application: Option<String>,
    #[serde(default)]
    pub satellite: Option<bool>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub authentication: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

/// One Bitbucket account credential inside `keys[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyEntry {
    pub username: String,
    pub apikey: Secret,
}

/// `ModifyIntegrationRequest`; `None` fields are left out of the JSON.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IntegrationRequest {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apikey: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<ApiKeyEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satellite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_preflight_check: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ingestion: Option<bool>,
}

/// One failed SEI preflight check.
/// What SEI ingests, kept in the record's `metadata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchFlags {
    pub commits: bool,
    pub prs: bool,
    pub pr_reviews: bool,
    pub commit_files: bool,
}

impl Default for FetchFlags {
    /// SEI's defaults for a new integration.
    fn default() -> Self {
        FetchFlags {
            commits: true,
            prs: true,
            pr_reviews: true,
            commit_files: false,
        }
    }
}

impl FetchFlags {
    const KEYS: [&'static str; 4] = ["fetch_commits", "fetch_prs", "fetch_pr_reviews", "fetch_commit_files"];

    fn values(&self) -> [bool; 4] {
        [self.commits, self.prs, self.pr_reviews, self.commit_files]
    }
}

/// The parts of an integration the provider manages, in its own terms; the
/// client maps them onto SEI's wire shapes (metadata keys, comma-joined
/// repositories).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrationSpec {
    pub name: String,
    /// `None` or empty: send none (SEI cannot clear one anyway).
    pub description: Option<String>,
    pub application: String,
    pub url: Option<String>,
    pub tags: Vec<String>,
    pub repositories: Vec<String>,
    /// Data Center project names (`metadata.projects`); `None` for Cloud,
    /// which has no such key.
    pub projects: Option<Vec<String>>,
    pub fetch: FetchFlags,
}

/// Credentials to send; SEI never returns them.
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    /// One key is SEI's method `apikey`; more are `multiple_api_keys`.
    ApiKeys(Vec<ApiKeyEntry>),
    /// A single-use Bitbucket authorization code for SEI's OAuth consumer.
    OAuthCode(Secret),
}

/// Settings that act at create only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateOptions {
    pub satellite: bool,
    pub skip_preflight: bool,
    pub start_ingestion: bool,
}

impl IntegrationRequest {
    /// A create body.
    pub fn create(spec: &IntegrationSpec, credentials: Option<&Credentials>, options: CreateOptions) -> Self {
        let mut req = Self::from_spec(spec, serde_json::Map::new());
        if let Some(c) = credentials {
            req.set_credentials(c);
        }
        req.satellite = Some(options.satellite);
        req.skip_preflight_check = Some(options.skip_preflight);
        req.start_ingestion = Some(options.start_ingestion);
        req
    }

    /// An update body. A PUT replaces `metadata` whole, so `current` (what
    /// SEI holds now) is merged in to keep the keys the SEI UI set. SEI
    /// applies a `url` change only together with credentials, so the url
    /// goes only with them.
    pub fn update(
        spec: &IntegrationSpec,
        current: &serde_json::Map<String, serde_json::Value>,
        credentials: Option<&Credentials>,
        resume_ingestion: bool,
    ) -> Self {
        let mut req = Self::from_spec(spec, current.clone());
        match credentials {
            Some(c) => req.set_credentials(c),
            None => req.url = None,
        }
        if resume_ingestion {
            req.start_ingestion = Some(true);
        }
        req
    }

    fn from_spec(spec: &IntegrationSpec, mut metadata: serde_json::Map<String, serde_json::Value>) -> Self {
        for (key, value) in FetchFlags::KEYS.iter().zip(spec.fetch.values()) {
            metadata.insert((*key).to_string(), serde_json::Value::Bool(value));
        }
        metadata.insert("repos".into(), serde_json::Value::String(joined(&spec.repositories)));
        if let Some(projects) = &spec.projects {
            metadata.insert("projects".into(), serde_json::Value::String(joined(projects)));
        }
        let mut tags = spec.tags.clone();
        tags.sort();
        tags.dedup();
        IntegrationRequest {
            name: spec.name.clone(),
            description: spec.description.clone().filter(|d| !d.is_empty()),
            application: Some(spec.application.clone()),
            url: spec.url.clone(),
            tags,
            metadata,
            ..Default::default()
        }
    }

    /// SEI's credential shapes. For more than one key, the first also goes
    /// in `username`/`apikey`: SEI replaces stored credentials only when
    /// `apikey` is non-empty.
    fn set_credentials(&mut self, credentials: &Credentials) {
        match credentials {
            Credentials::ApiKeys(keys) => {
                if let Some(first) = keys.first() {
                    self.username = Some(first.username.clone());
                    self.apikey = Some(first.apikey.clone());
                }
                if keys.len() > 1 {
                    self.method = Some("multiple_api_keys".into());
                    self.keys = Some(keys.clone());
                } else {
                    self.method = Some("apikey".into());
                }
            }
            Credentials::OAuthCode(code) => {
                self.method = Some("oauth".into());
                self.code = Some(code.clone());
            }
        }
    }
}

/// SEI's comma-joined form of a set: sorted, each once.
fn joined(items: &[String]) -> String {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items.join(",")
}

impl Integration {
    /// `metadata.repos`, SEI's comma-joined list; empty means all.
    pub fn repositories(&self) -> Vec<String> {
        self.metadata_list("repos")
    }

    /// `metadata.projects` (Data Center project names); empty means all.
    pub fn projects(&self) -> Vec<String> {
        self.metadata_list("projects")
    }

    fn metadata_list(&self, key: &str) -> Vec<String> {
        let joined = self.metadata.get(key).and_then(|v| v.as_str()).unwrap_or("");
        let mut out: Vec<String> = joined
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The fetch flags, with SEI's defaults for keys it does not hold.
    pub fn fetch_flags(&self) -> FetchFlags {
        let d = FetchFlags::default();
        let flag = |key: &str, default: bool| self.metadata.get(key).and_then(|v| v.as_bool()).unwrap_or(default);
        FetchFlags {
            commits: flag("fetch_commits", d.commits),
            prs: flag("fetch_prs", d.prs),
            pr_reviews: flag("fetch_pr_reviews", d.pr_reviews),
            commit_files: flag("fetch_commit_files", d.commit_files),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightCheck {
    pub name: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeiError {
    #[error("SEI has no integration {id}: {message}")]
    NotFound { id: String, message: String },
    /// A 404 that is not SEI's own answer for the integration: a wrong
    /// endpoint path, a gateway or a proxy page. Never "gone".
    #[error("{url} answered 404 without SEI's own not-found answer (HTTP 404: {message}). Check the provider's `endpoint` (SEI_ENDPOINT): it must be SEI's API base URL, for example https://app.harness.io/gateway/sei/api")]
    UnexpectedNotFound { url: String, message: String },
    #[error("an integration named {name:?} already exists (id {existing_id})")]
    NameConflict {
        name: String,
        existing_id: String,
        /// The record carries a creation marker of this provider from an
        /// earlier create call (an interrupted apply, another state, an
        /// older provider version): still someone else's until imported.
        earlier_marker: bool,
    },
    #[error("SEI's preflight check failed: {}", format_checks(.checks))]
    PreflightFailed { checks: Vec<PreflightCheck> },
    #[error("SEI refused the API key (HTTP {status}){}", suffix(.message))]
    Unauthorized { status: u16, message: String },
    #[error("SEI is rate limiting this key; {}{}", http::attempts_note(*.attempts), http::reset_note(*.reset_in))]
    RateLimited {
        attempts: u32,
        /// How long SEI asked to wait, when it said.
        reset_in: Option<std::time::Duration>,
    },
    #[error("SEI rejected the request (HTTP {status}): {message}")]
    BadRequest { status: u16, message: String },
    #[error("SEI answered {status} with a redirect. The provider follows no redirect, because it would carry the API key to another address: the endpoint is most likely http:// where SEI serves https://, or lacks its path. Set `endpoint` (SEI_ENDPOINT) to the address it redirects to, such as https://app.harness.io/gateway/sei/api")]
    Redirected { status: u16 },
    #[error("SEI failed (HTTP {status}) after {attempts} attempt(s): {message}")]
    Server {
        status: u16,
        message: String,
        attempts: u32,
    },
    #[error("cannot reach SEI: {0}")]
    Transport(TransportError),
    #[error("SEI sent a response this provider cannot read: {0}")]
    Decode(String),
    #[error("SEI could not delete integration {id}: {message}")]
    DeleteFailed { id: String, message: String },
}

fn suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn format_checks(checks: &[PreflightCheck]) -> String {
    checks
        .iter()
        .map(|c| format!("{}: {}", c.name, c.error))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Clone)]
pub struct SeiClient {
    http: reqwest::Client,
    base: Url,
    auth: SeiAuth,
    scope: SeiScope,
    policy: HttpPolicy,
}

impl fmt::Debug for SeiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeiClient")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Filters of `POST /v1/integrations/list`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// SEI's `applications` filter; `None` lists every application.
    pub application: Option<String>,
    pub name_contains: Option<String>,
    pub tag_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    records: Vec<Integration>,
    #[serde(default, rename = "_metadata")]
    metadata: Option<PageMeta>,
}

/// One SEI tag: integrations' `tags` hold its id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tag {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub name: String,
}

/// SEI writes ids as strings; accept a number too.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("a tag id, not {other}"))),
    }
}

#[derive(Deserialize)]
struct TagPage {
    #[serde(default)]
    records: Vec<Tag>,
    #[serde(default, rename = "_metadata")]
    metadata: Option<PageMeta>,
}

#[derive(Deserialize)]
struct PageMeta {
    #[serde(default)]
    has_next: bool,
}

#[derive(Deserialize)]
struct DeleteResponse {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    error: Option<String>,
}

/// Page size for list calls: big enough for few calls, small enough that a
/// slow page does not hit the request timeout.
pub const LIST_PAGE_SIZE: u32 = 100;

/// SEI's application name for Bitbucket Cloud.
pub const APPLICATION: &str = "bitbucket";

/// SEI's application name for Bitbucket Data Center (and Server).
pub const SERVER_APPLICATION: &str = "bitbucket_server";

/// The metadata key of the creation marker (see `SeiClient::create`). SEI
/// keeps metadata keys it does not know, and updates merge them back in.
pub const CREATE_MARKER_KEY: &str = "terraform_create_marker";

/// The proof that a record was made by one create call: 122 random bits,
/// drawn for each call. Never derived from the configuration (another
/// state, a copied directory or another workspace shares it) nor from a
/// secret (anyone who reads the record could test guesses of it). Markers
/// of earlier versions (an HMAC of the request) never equal a fresh one,
/// so they prove nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateMarker(String);

impl CreateMarker {
    pub fn fresh() -> Self {
        CreateMarker(format!("create-{}", uuid::Uuid::new_v4()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `rec` is the record this marker's create call made.
    pub fn is_on(&self, rec: &Integration) -> bool {
        rec.metadata.get(CREATE_MARKER_KEY).and_then(|v| v.as_str()) == Some(self.as_str())
    }
}

/// What a create call got: the record, and why it was adopted when SEI's
/// answer was lost or ambiguous.
#[derive(Debug, Clone)]
pub struct Created {
    pub record: Integration,
    /// `Some(why)`: the answer was ambiguous and the record was found by
    /// this call's marker.
    pub adopted: Option<String>,
}

impl Created {
    fn adopted(record: Integration, why: String) -> Self {
        tracing::info!(id = %record.id, why = %why, "the create's answer was ambiguous; adopting the record that carries this call's marker");
        Created {
            record,
            adopted: Some(why),
        }
    }
}

/// SEI's largest page, for the refresh snapshot: its records are small.
pub const SNAPSHOT_PAGE_SIZE: u32 = 1000;

impl SeiClient {
    pub fn new(base: Url, auth: SeiAuth, scope: SeiScope, policy: HttpPolicy) -> Result<Self, http::ClientSetupError> {
        Ok(SeiClient {
            http: http::build_http_client(&policy)?,
            base,
            auth,
            scope,
            policy,
        })
    }

    fn url(&self, tail: &str) -> Url {
        self.url_of("integrations", tail)
    }

    /// `<endpoint>/v1/<collection><tail>`, with the org and project scope.
    fn url_of(&self, collection: &str, tail: &str) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}/v1/{collection}{tail}", self.base.path().trim_end_matches('/'));
        url.set_path(&path);
        {
            let mut q = url.query_pairs_mut();
            if let Some(org) = &self.scope.org_id {
                q.append_pair("orgIdentifier", org);
            }
            if let Some(project) = &self.scope.project_id {
                q.append_pair("projectIdentifier", project);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    fn request(&self, method: Method, tail: &str) -> RequestBuilder {
        self.request_to(method, self.url(tail))
    }

    fn request_to(&self, method: Method, url: Url) -> RequestBuilder {
        let mut rb = self.http.request(method, url).header("Accept", "application/json");
        rb = match &self.auth {
            SeiAuth::PlatformToken(t) => rb.header("x-api-key", t.expose()),
            SeiAuth::ApiKey(k) => rb.header("Authorization", format!("ApiKey {}", k.expose())),
        };
        if let Some(account) = &self.scope.account_id {
            rb = rb.header("Harness-Account", account);
        }
        rb
    }

    pub async fn get(&self, id: &str, cancel: &CancellationToken) -> Result<Integration, SeiError> {
        let tail = format!("/{}", http::path_segment(id));
        let ex = http::exchange(|| self.request(Method::GET, &tail), &self.policy, cancel).await?;
        let (status, body, attempts) = (ex.status, ex.body.as_str(), ex.attempts);
        let reset_in = http::server_wait(&ex.headers);
        if status == StatusCode::NOT_FOUND {
            let message = error_message(body, status);
            if is_sei_not_found(body, id) {
                return Err(SeiError::NotFound {
                    id: id.to_string(),
                    message,
                });
            }
            return Err(SeiError::UnexpectedNotFound {
                url: redacted(&self.url(&tail)),
                message: short(&message),
            });
        }
        check_status(status, body, attempts, reset_in)?;
        serde_json::from_str(body).map_err(|e| SeiError::Decode(e.to_string()))
    }

    /// Creates an integration. The POST is not idempotent, so after any
    /// answer that may hide a processed create (a 500, 502, 503 or 504, a
    /// timeout, a reset or closed connection) the name is looked up: the
    /// record that carries this call's marker is ours and is adopted; any
    /// other record of that name is a name conflict, never adopted.
    pub async fn create(&self, req: &IntegrationRequest, cancel: &CancellationToken) -> Result<Created, SeiError> {
        let mut req = req.clone();
        let marker = CreateMarker::fresh();
        req.metadata.insert(
            CREATE_MARKER_KEY.to_string(),
            serde_json::Value::String(marker.as_str().to_string()),
        );
        let (req, marker) = (&req, &marker);
        http::with_retries(&self.policy, cancel, move |attempt, retries_left| {
            self.create_attempt(req, marker, attempt, retries_left, cancel)
        })
        .await
    }

    /// One attempt of a create, and what it came to. SEI answers a
    /// duplicate name with a generic 500, and a gateway may answer
    /// 502/503/504 after SEI created the record: like a lost answer, either
    /// may hide a processed create, so the record with this call's marker is
    /// looked for before anything is sent again.
    async fn create_attempt(
        &self,
        req: &IntegrationRequest,
        marker: &CreateMarker,
        attempt: u32,
        retries_left: bool,
        cancel: &CancellationToken,
    ) -> Result<Step<Created>, SeiError> {
        let outcome = http::send_once(
            self.request(Method::POST, "").json(req),
            self.policy.request_timeout,
            cancel,
            attempt,
        )
        .await;
        let lost = match outcome {
            Ok(resp) => {
                return self
                    .create_answered(req, marker, resp, attempt, retries_left, cancel)
                    .await
            }
            Err(AttemptError::Cancelled) => return Err(TransportError::Cancelled.into()),
            Err(AttemptError::Build(message)) => return Err(TransportError::Other { message }.into()),
            // Never reached SEI: nothing to look for.
            Err(AttemptError::Connect(message)) if retries_left => {
                return Ok(Step::Again {
                    why: format!("connection failed: {message}"),
                    server_wait: None,
                })
            }
            Err(AttemptError::Connect(message)) => {
                return Err(TransportError::Connect {
                    attempts: attempt,
                    message,
                }
                .into())
            }
            Err(lost) => lost,
        };
        let why = match &lost {
            AttemptError::Dropped(m) => format!("the connection was lost before an answer ({m})"),
            _ => "no answer within the request timeout".to_string(),
        };
        if let Some(record) = self.own_record(&req.name, marker, cancel).await? {
            return Ok(Step::Done(Created::adopted(record, why)));
        }
        if !retries_left {
            return Err(match lost {
                AttemptError::Dropped(message) => TransportError::Dropped {
                    attempts: attempt,
                    message,
                },
                _ => TransportError::Timeout { attempts: attempt },
            }
            .into());
        }
        Ok(Step::Again {
            why: format!("{why}, and no record carries this call's marker"),
            server_wait: None,
        })
    }

    /// A create SEI answered: done, adopted (an error status that hides a
    /// processed create), or worth another attempt.
    async fn create_answered(
        &self,
        req: &IntegrationRequest,
        marker: &CreateMarker,
        resp: reqwest::Response,
        attempt: u32,
        retries_left: bool,
        cancel: &CancellationToken,
    ) -> Result<Step<Created>, SeiError> {
        let status = resp.status();
        let asked = http::server_wait(resp.headers());
        let server_wait = asked.filter(|w| *w <= self.policy.max_wait);
        let body = resp.text().await.map_err(|e| SeiError::Decode(e.to_string()))?;
        if status != StatusCode::INTERNAL_SERVER_ERROR && !http::is_retryable_status(status) {
            check_status(status, &body, attempt, asked)?;
            let record = serde_json::from_str(&body).map_err(|e| SeiError::Decode(e.to_string()))?;
            return Ok(Step::Done(Created { record, adopted: None }));
        }
        if let Some(record) = self.own_record(&req.name, marker, cancel).await? {
            return Ok(Step::Done(Created::adopted(
                record,
                format!("SEI answered HTTP {status}"),
            )));
        }
        // A 500, no retry left, or a wait longer than retry_max_wait: the
        // answer stands.
        if status == StatusCode::INTERNAL_SERVER_ERROR || !retries_left || asked != server_wait {
            check_status(status, &body, attempt, asked)?;
        }
        Ok(Step::Again {
            why: format!("the create answered HTTP {status} and no record carries this call's marker"),
            server_wait,
        })
    }

    /// After an ambiguous create: the record this call made (it carries
    /// `marker`), `None` (nothing was created), or a name conflict with a
    /// record this call did not make, which is never adopted: a later
    /// replace or destroy would delete someone else's integration.
    async fn own_record(
        &self,
        name: &str,
        marker: &CreateMarker,
        cancel: &CancellationToken,
    ) -> Result<Option<Integration>, SeiError> {
        match self.find_by_name(name, None, cancel).await? {
            None => Ok(None),
            Some(rec) if marker.is_on(&rec) => Ok(Some(rec)),
            Some(other) => Err(SeiError::NameConflict {
                name: name.trim().to_string(),
                existing_id: other.id.clone(),
                earlier_marker: other.metadata.contains_key(CREATE_MARKER_KEY),
            }),
        }
    }

    /// Updates in place. A PUT is idempotent: the same body twice gives the
    /// same record.
    pub async fn update(&self, id: &str, req: &IntegrationRequest, cancel: &CancellationToken) -> Result<(), SeiError> {
        let tail = format!("/{}", http::path_segment(id));
        let ex = http::exchange(|| self.request(Method::PUT, &tail).json(req), &self.policy, cancel).await?;
        let (status, body, attempts) = (ex.status, ex.body.as_str(), ex.attempts);
        let reset_in = http::server_wait(&ex.headers);
        if status == StatusCode::NOT_FOUND {
            return Err(SeiError::NotFound {
                id: id.to_string(),
                message: error_message(body, status),
            });
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // A rename onto a name another record holds is SEI's generic 500.
            if let Some(other) = self.find_by_name(&req.name, None, cancel).await?.filter(|r| r.id != id) {
                return Err(SeiError::NameConflict {
                    name: other.name.clone(),
                    existing_id: other.id.clone(),
                    earlier_marker: other.metadata.contains_key(CREATE_MARKER_KEY),
                });
            }
        }
        check_status(status, body, attempts, reset_in)
    }

    /// Deletes; a record that is already gone counts as deleted. SEI answers
    /// 200 even on failure, so `success: false` is checked with a GET.
    pub async fn delete(&self, id: &str, cancel: &CancellationToken) -> Result<(), SeiError> {
        let tail = format!("/{}", http::path_segment(id));
        let ex = http::exchange(|| self.request(Method::DELETE, &tail), &self.policy, cancel).await?;
        let (status, body, attempts) = (ex.status, ex.body.as_str(), ex.attempts);
        let reset_in = http::server_wait(&ex.headers);
        check_status(status, body, attempts, reset_in)?;
        let parsed: DeleteResponse = serde_json::from_str(body).map_err(|e| SeiError::Decode(e.to_string()))?;
        if parsed.success {
            return Ok(());
        }
        match self.get(id, cancel).await {
            Err(SeiError::NotFound { .. }) => Ok(()),
            Err(other) => Err(other),
            Ok(_) => Err(SeiError::DeleteFailed {
                id: id.to_string(),
                message: parsed.error.unwrap_or_else(|| "no reason given".to_string()),
            }),
        }
    }

    /// Every matching record, across all pages, each once. SEI pages by
    /// offset over `updated_at DESC`, so a record updated mid-listing can
    /// appear on two pages.
    pub async fn list(&self, filter: &ListFilter, cancel: &CancellationToken) -> Result<Vec<Integration>, SeiError> {
        let mut f = serde_json::Map::new();
        if let Some(app) = &filter.application {
            f.insert("applications".into(), serde_json::json!([app]));
        }
        if let Some(name) = &filter.name_contains {
            f.insert("partial".into(), serde_json::json!({ "name": name }));
        }
        if !filter.tag_ids.is_empty() {
            f.insert("tag_ids".into(), serde_json::json!(filter.tag_ids));
        }
        self.list_pages(&f, LIST_PAGE_SIZE, cancel).await
    }

    /// One cheap authenticated call that proves the endpoint, the key and
    /// the account: the first page (of one record) of the list.
    pub async fn probe(&self, cancel: &CancellationToken) -> Result<(), SeiError> {
        let body = serde_json::json!({"page": 0, "page_size": 1, "filter": {"applications": ["bitbucket"]}});
        let ex = http::exchange(|| self.request(Method::POST, "/list").json(&body), &self.policy, cancel).await?;
        let (status, text, attempts) = (ex.status, ex.body.as_str(), ex.attempts);
        let reset_in = http::server_wait(&ex.headers);
        if status == StatusCode::NOT_FOUND {
            return Err(SeiError::UnexpectedNotFound {
                url: redacted(&self.url("/list")),
                message: short(&error_message(text, status)),
            });
        }
        check_status(status, text, attempts, reset_in)?;
        serde_json::from_str::<ListPage>(text)
            .map(|_| ())
            .map_err(|e| SeiError::Decode(format!("{e} (is `endpoint` SEI's API?)")))
    }

    /// Every integration of `application` in the account, at SEI's largest
    /// page: one call per 1000 records.
    pub async fn list_application(
        &self,
        application: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<Integration>, SeiError> {
        let mut f = serde_json::Map::new();
        f.insert("applications".into(), serde_json::json!([application]));
        self.list_pages(&f, SNAPSHOT_PAGE_SIZE, cancel).await
    }

    /// Every integration in the account, of every application (names are
    /// unique across them), at SEI's largest page.
    pub async fn list_every_application(&self, cancel: &CancellationToken) -> Result<Vec<Integration>, SeiError> {
        self.list_pages(&serde_json::Map::new(), SNAPSHOT_PAGE_SIZE, cancel)
            .await
    }

    /// Pages through `POST /list` until a page is empty or says it is the
    /// last (SEI's `has_next` is true on a full last page), de-duplicating
    /// by id.
    async fn list_pages(
        &self,
        filter: &serde_json::Map<String, serde_json::Value>,
        page_size: u32,
        cancel: &CancellationToken,
    ) -> Result<Vec<Integration>, SeiError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for page in 0u32.. {
            let body = serde_json::json!({"page": page, "page_size": page_size, "filter": filter});
            let ex = http::exchange(|| self.request(Method::POST, "/list").json(&body), &self.policy, cancel).await?;
            let (status, text, attempts) = (ex.status, ex.body.as_str(), ex.attempts);
            let reset_in = http::server_wait(&ex.headers);
            check_status(status, text, attempts, reset_in)?;
            let parsed: ListPage = serde_json::from_str(text).map_err(|e| SeiError::Decode(e.to_string()))?;
            let empty = parsed.records.is_empty();
            merge_page(&mut out, &mut seen, parsed.records);
            let has_next = parsed.metadata.is_some_and(|m| m.has_next);
            if empty || !has_next {
                break;
            }
        }
        Ok(out)
    }

    /// Every tag of the account (`POST /v1/tags/list`, gitsei
    /// `TagsController.tagsList`), at SEI's largest page. SEI stores tag
    /// names in lower case.
    pub async fn list_tags(&self, cancel: &CancellationToken) -> Result<Vec<Tag>, SeiError> {
        let url = self.url_of("tags", "/list");
        let mut out: Vec<Tag> = Vec::new();
        for page in 0u32.. {
            let body = serde_json::json!({"page": page, "page_size": SNAPSHOT_PAGE_SIZE, "filter": {}});
            let ex = http::exchange(
                || self.request_to(Method::POST, url.clone()).json(&body),
                &self.policy,
                cancel,
            )
            .await?;
            let (status, text, attempts) = (ex.status, ex.body.as_str(), ex.attempts);
            if status == StatusCode::NOT_FOUND {
                return Err(SeiError::UnexpectedNotFound {
                    url: redacted(&url),
                    message: short(&error_message(text, status)),
                });
            }
            check_status(status, text, attempts, http::server_wait(&ex.headers))?;
            let parsed: TagPage = serde_json::from_str(text).map_err(|e| SeiError::Decode(e.to_string()))?;
            let empty = parsed.records.is_empty();
            for tag in parsed.records {
                if !out.iter().any(|t| t.id == tag.id) {
                    out.push(tag);
                }
            }
            if empty || !parsed.metadata.is_some_and(|m| m.has_next) {
                break;
            }
        }
        Ok(out)
    }

    /// The record with this (trimmed) name, of `application` or of any: the
    /// exact name, else the one that differs only in case (SEI's names are
    /// unique ignoring case). SEI's name filter matches substrings, so the
    /// comparison happens here. Names are unique across applications, so a name
    /// conflict looks in all of them.
    pub async fn find_by_name(
        &self,
        name: &str,
        application: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Option<Integration>, SeiError> {
        let wanted = name.trim();
        let filter = ListFilter {
            application: application.map(str::to_string),
            name_contains: Some(wanted.to_string()),
            tag_ids: Vec::new(),
        };
        let found = self.list(&filter, cancel).await?;
        // SEI's names are unique ignoring case; an exact match wins.
        let exact = found.iter().position(|i| i.name == wanted);
        let folded = || {
            found
                .iter()
                .position(|i| i.name.to_lowercase() == wanted.to_lowercase())
        };
        Ok(exact.or_else(folded).map(|at| found[at].clone()))
    }
}

/// Appends a page's records that were not seen on an earlier page: SEI pages
/// by offset over `updated_at DESC`, so a record updated while we list moves
/// to the front and can come back on a later page.
fn merge_page(out: &mut Vec<Integration>, seen: &mut HashSet<String>, page: Vec<Integration>) {
    for record in page {
        if seen.insert(record.id.clone()) {
            out.push(record);
        }
    }
}

/// Maps a non-2xx status to the typed error, keeping SEI's message.
fn check_status(
    status: StatusCode,
    body: &str,
    attempts: u32,
    reset_in: Option<std::time::Duration>,
) -> Result<(), SeiError> {
    if status.is_success() {
        return Ok(());
    }
    let message = error_message(body, status);
    let code = status.as_u16();
    Err(match code {
        300..=399 => SeiError::Redirected { status: code },
        401 | 403 => SeiError::Unauthorized { status: code, message },
        429 => SeiError::RateLimited { attempts, reset_in },
        400 if message == "preflight_check_failed" => SeiError::PreflightFailed {
            checks: preflight_checks(body),
        },
        400..=499 => SeiError::BadRequest { status: code, message },
        _ => SeiError::Server {
            status: code,
            message,
            attempts,
        },
    })
}

/// SEI's own answer that integration `id` does not exist: Spring's error
/// JSON whose message names that id (`Could not find integration id=4512
/// for company=…`). A 404 from a wrong path, a gateway or a proxy (HTML, an
/// empty body, another message) is not.
fn is_sei_not_found(body: &str, id: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    let Some(message) = v.get("message").and_then(|m| m.as_str()) else {
        return false;
    };
    let needle = format!("id={id}");
    message.contains("integration")
        && message.match_indices(&needle).any(|(at, _)| {
            !message[at + needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        })
}

/// A URL as it may appear in messages and logs: without user info or query.
pub fn redacted(url: &Url) -> String {
    http::loggable(url)
}

/// The first line of a message, at most 200 characters: a proxy's HTML page
/// is not a diagnostic.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(200).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// `message` from any JSON error body, else the status line.
fn error_message(body: &str, status: StatusCode) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
}

fn preflight_checks(body: &str) -> Vec<PreflightCheck> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v.pointer("/preflight_check/checks")
        .and_then(|c| c.as_array())
        .map(|checks| {
            checks
                .iter()
                .filter(|c| c.get("success").and_then(|s| s.as_bool()) != Some(true))
                .map(|c| PreflightCheck {
                    name: c
                        .get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or("unnamed check")
                        .to_string(),
                    error: c
                        .get("error")
                        .and_then(|n| n.as_str())
                        .unwrap_or("no reason given")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A transport failure as this client's error; a window closed by an
/// earlier 429 of the same credential reads as that rate limit.
impl From<TransportError> for SeiError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::RateLimited { reset_in } => SeiError::RateLimited {
                attempts: 0,
                reset_in: Some(reset_in),
            },
            other => SeiError::Transport(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_create_call_draws_its_own_marker_from_no_input() {
        // `CreateMarker::fresh` takes nothing: not the request, not the SEI
        // key, not a Bitbucket secret, so a record's marker reveals nothing
        // and no other state can reproduce it.
        let markers: HashSet<String> = (0..1000).map(|_| CreateMarker::fresh().as_str().to_string()).collect();
        assert_eq!(
            markers.len(),
            1000,
            "two creates of one configuration never share a marker"
        );
        let marker = CreateMarker::fresh();
        let mut rec = Integration::default();
        assert!(!marker.is_on(&rec));
        rec.metadata
            .insert(CREATE_MARKER_KEY.into(), serde_json::json!(marker.as_str()));
        assert!(marker.is_on(&rec));
        assert!(
            !CreateMarker::fresh().is_on(&rec),
            "another call's marker proves nothing"
        );
        // A marker written by an earlier version (an HMAC of the request)
        // is no proof for any call.
        rec.metadata
            .insert(CREATE_MARKER_KEY.into(), serde_json::json!("9f".repeat(32)));
        assert!(!CreateMarker::fresh().is_on(&rec));
    }

    #[test]
    fn only_seis_own_not_found_for_that_id_means_gone() {
        let own = r#"{"status":404,"error":"Not Found","message":"Could not find integration id=4512 for company=acme","path":"/v1/integrations/4512"}"#;
        assert!(is_sei_not_found(own, "4512"));
        assert!(!is_sei_not_found(own, "451"), "another id's answer");
        let longer = r#"{"message":"Could not find integration id=45120 for company=acme"}"#;
        assert!(!is_sei_not_found(longer, "4512"));
        let gateway = r#"{"status":404,"error":"Not Found","message":"No handler found for this path","path":"/gateway/sei/api/v1/integrations/4512"}"#;
        assert!(!is_sei_not_found(gateway, "4512"));
        assert!(!is_sei_not_found("<html><body>404 Not Found</body></html>", "4512"));
        assert!(!is_sei_not_found("", "4512"));
    }

    #[test]
    fn urls_in_messages_lose_user_info_and_query() {
        let u = Url::parse("https://admin:pass@sei.example/api/v1/integrations/1?projectIdentifier=p#token").unwrap();
        assert_eq!(redacted(&u), "https://sei.example/api/v1/integrations/1");
    }

    #[test]
    fn platform_tokens_use_x_api_key() {
        assert!(matches!(
            SeiAuth::from_key("pat.a.b.c".into()),
            SeiAuth::PlatformToken(_)
        ));
        assert!(matches!(
            SeiAuth::from_key("sat.a.b.c".into()),
            SeiAuth::PlatformToken(_)
        ));
        assert!(matches!(SeiAuth::from_key("eyJrZXkiOi".into()), SeiAuth::ApiKey(_)));
    }

    #[test]
    fn request_debug_redacts_credentials() {
        let req = IntegrationRequest {
            name: "n".into(),
            apikey: Some("tok-123".into()),
            keys: Some(vec![ApiKeyEntry {
                username: "u".into(),
                apikey: "tok-456".into(),
            }]),
            ..Default::default()
        };
        let text = format!("{req:?}");
        assert!(!text.contains("tok-123") && !text.contains("tok-456"));
        let json = serde_json::to_string(&req).unwrap();
        assert!(json.contains("tok-123") && !json.contains("description"));
    }

    #[test]
    fn list_pages_are_deduplicated_by_id() {
        let rec = |id: &str| Integration {
            id: id.into(),
            name: format!("bb-{id}"),
            ..Default::default()
        };
        let (mut out, mut seen) = (Vec::new(), HashSet::new());
        merge_page(&mut out, &mut seen, vec![rec("3"), rec("2")]);
        // "3" was updated mid-listing and shows up again on page 2.
        merge_page(&mut out, &mut seen, vec![rec("3"), rec("1")]);
        let ids: Vec<&str> = out.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["3", "2", "1"]);
    }

    #[test]
    fn reads_preflight_failures() {
        let body = r#"{"status":400,"message":"preflight_check_failed","preflight_check":{"success":false,"checks":[{"success":false,"name":"Get repositories","error":"401 Unauthorized"}]}}"#;
        let err = check_status(StatusCode::BAD_REQUEST, body, 1, None).unwrap_err();
        assert_eq!(
            err,
            SeiError::PreflightFailed {
                checks: vec![PreflightCheck {
                    name: "Get repositories".into(),
                    error: "401 Unauthorized".into()
                }]
            }
        );
    }
}
