//! The SEI side: `/sei/api/v1/integrations…`, per the contract's check
//! order, error bodies and update quirks.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::SandboxError;
use super::shared::{self, route_label, ApiError, Presented, Service};
use super::world::{sha256_hex, StoredIntegration, StoredToken};
use super::Sandbox;

const NAME_MAX: usize = 50;
const DESCRIPTION_MAX: usize = 140;
const BASE: &str = "/v1/integrations";

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/v1/integrations", post(create).delete(bulk_delete))
        .route("/v1/integrations/list", post(list))
        .route("/v1/integrations/{id}", get(read).put(update).delete(delete))
        .method_not_allowed_fallback(shared::method_not_allowed)
}

/// Resolves the API key to its account. Unknown keys, and an account header
/// naming another account, get SEI's bare 401.
pub(crate) fn authenticate(sb: &Sandbox, req: &Request) -> Result<String, ApiError> {
    let headers = req.headers();
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            let raw = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
            let (scheme, rest) = raw.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("apikey").then(|| rest.trim().to_string())
        })
        .ok_or(ApiError::SeiUnauthorized)?;
    let account = sb
        .seed
        .sei
        .api_keys
        .iter()
        .find(|k| k.key == key)
        .map(|k| k.account.clone())
        .ok_or(ApiError::SeiUnauthorized)?;
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let claimed = headers
        .get("harness-account")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .into_iter()
        .chain(
            query
                .iter()
                .filter(|(k, _)| k == "accountIdentifier" || k == "routingId")
                .map(|(_, v)| v.clone()),
        );
    for c in claimed {
        if c != account {
            return Err(ApiError::SeiUnauthorized);
        }
    }
    let label = route_label(req);
    sb.control(|c| c.count(&format!("sei:{account}"), &label));
    Ok(account)
}

fn bad(message: &str, path: &str) -> ApiError {
    ApiError::spring(StatusCode::BAD_REQUEST, message, path)
}

/// A create or update body, as SEI's Jackson reads it: unknown keys are
/// ignored, a value of the wrong type is a 400.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IntegrationBody {
    name: Option<String>,
    description: Option<String>,
    application: Option<String>,
    url: Option<String>,
    tags: Vec<Id>,
    metadata: Option<Map<String, Value>>,
    append_metadata: bool,
    method: Option<String>,
    username: Option<String>,
    apikey: Option<String>,
    keys: Option<Vec<KeyBody>>,
    code: Option<String>,
    satellite: Option<bool>,
    skip_preflight_check: Option<bool>,
    start_ingestion: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KeyBody {
    username: String,
    apikey: String,
}

/// An id or tag id: SEI takes numbers and numeric strings alike.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Id {
    Text(String),
    Number(serde_json::Number),
}

impl Id {
    pub(crate) fn text(&self) -> String {
        match self {
            Id::Text(s) => s.clone(),
            Id::Number(n) => n.to_string(),
        }
    }
}

pub(crate) fn texts(ids: &[Id]) -> Vec<String> {
    ids.iter().map(Id::text).collect()
}

/// SEI's list request (`DefaultListRequest`), as `POST /v1/integrations/list`
/// and `POST /v1/tags/list` take it, with each one's filter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ListBody<F> {
    page: i64,
    page_size: Option<i64>,
    pub(crate) filter: F,
}

impl<F> ListBody<F> {
    /// The page asked for and its size: SEI's 1000 when none is given.
    pub(crate) fn page(&self) -> (usize, usize) {
        let page = usize::try_from(self.page.max(0)).unwrap_or(0);
        let size = self
            .page_size
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(1000);
        (page, size)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListFilter {
    applications: Vec<String>,
    application: Option<String>,
    partial: Option<Partial>,
    integration_ids: Vec<Id>,
    satellite: Option<bool>,
    tag_ids: Vec<Id>,
    updated_at: Option<Range>,
    linked_credentials: Option<String>,
}

/// `filter.partial`: SEI's name filter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Partial {
    pub(crate) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Range {
    #[serde(rename = "$gt")]
    gt: Option<i64>,
    #[serde(rename = "$lt")]
    lt: Option<i64>,
}

fn render(i: &StoredIntegration) -> Value {
    let mut metadata = i.metadata.clone();
    metadata.remove("__secrets__");
    let mut v = json!({
        "id": i.id.to_string(),
        "name": i.name,
        "url": i.url,
        "status": i.status,
        "application": i.application,
        "satellite": i.satellite,
        "tags": i.tags,
        "metadata": metadata,
        "append_metadata": false,
        "authentication": i.authentication,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
    });
    if let Some(d) = &i.description {
        v["description"] = json!(d);
    }
    if let Some(l) = &i.linked_credentials {
        v["linked_credentials"] = json!(l);
    }
    v
}

fn authentication_of(method: Option<&str>) -> String {
    match method {
        Some("apikey") => "api_key",
        Some("multiple_api_keys") => "multiple_api_keys",
        Some("oauth") => "oauth",
        _ => "none",
    }
    .to_string()
}

/// What a request's credentials amount to: the token record to store and
/// the credentials preflight uses.
struct Credentials {
    token: StoredToken,
    presented: Vec<(String, Presented)>,
}

/// Builds SEI's token from `method`.
async fn build_credentials(
    sb: &Sandbox,
    host: &str,
    body: &IntegrationBody,
    method: &str,
    path: &str,
) -> Result<Credentials, ApiError> {
    let mut token = StoredToken {
        method: Some(method.to_string()),
        ..StoredToken::default()
    };
    let mut presented = Vec::new();
    let mut add = |user: &str, key: &str| {
        token.usernames.push(user.to_string());
        token.secret_sha256.push(sha256_hex(key));
        presented.push((
            user.to_string(),
            Presented::Basic {
                user: user.to_string(),
                secret: key.to_string(),
            },
        ));
    };
    match method {
        "apikey" => add(
            body.username.as_deref().unwrap_or_default(),
            body.apikey.as_deref().unwrap_or_default(),
        ),
        "multiple_api_keys" => {
            let keys = body.keys.as_deref().unwrap_or_default();
            if keys.is_empty() {
                return Err(bad("keys must not be empty for multiple_api_keys", path));
            }
            for k in keys {
                add(&k.username, &k.apikey);
            }
        }
        "oauth" => {
            let code = body.code.as_deref().unwrap_or_default();
            let access = exchange_code(sb, host, code).await.map_err(|e| {
                ApiError::spring(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Failed to exchange the Bitbucket authorization code: {e}"),
                    path,
                )
            })?;
            token.secret_sha256.push(sha256_hex(&access));
            presented.push(("OAuth token".to_string(), Presented::Bearer(access)));
        }
        _ => return Err(bad("Unsupported token_type provided.", path)),
    }
    Ok(Credentials { token, presented })
}

/// SEI exchanges an authorization code itself, at Bitbucket's token endpoint
/// (here, the sandbox's own), with SEI's OAuth consumer. A code works once.
async fn exchange_code(sb: &Sandbox, host: &str, code: &str) -> Result<String, SandboxError> {
    let consumer = sb
        .seed
        .sei
        .oauth_consumer
        .clone()
        .ok_or_else(|| SandboxError::Exchange("SEI has no Bitbucket OAuth consumer configured".into()))?;
    let secret = sb
        .accounts()
        .principal(&consumer)
        .map(|p| p.secret.clone())
        .ok_or_else(|| SandboxError::Exchange("SEI's OAuth consumer is not seeded".into()))?;
    let resp = sb
        .http
        .post(format!("{}://{host}/bitbucket/site/oauth2/access_token", sb.scheme))
        .basic_auth(&consumer, Some(secret))
        .form(&[("grant_type", "authorization_code"), ("code", code)])
        .send()
        .await
        .map_err(|e| SandboxError::Exchange(format!("token endpoint unreachable: {e}")))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| SandboxError::Exchange(format!("unreadable token response: {e}")))?;
    if !status.is_success() {
        return Err(SandboxError::Exchange(format!(
            "{}: {}",
            body["error"].as_str().unwrap_or("error"),
            body["error_description"].as_str().unwrap_or("")
        )));
    }
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SandboxError::Exchange("the token response has no access_token".into()))
}

/// The `Host` a request came to: where this sandbox's Bitbucket side is.
fn host_of(req: &Request) -> String {
    shared::request_authority(req).unwrap_or_else(|| "127.0.0.1".to_string())
}

/// SEI's Bitbucket preflight: one check, `Get repositories`, run with each
/// credential against the sandbox's own Bitbucket side.
fn preflight(sb: &Sandbox, account: &str, creds: &[(String, Presented)], repos: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let wanted: Vec<(String, String)> = repos
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .filter_map(|r| r.split_once('/').map(|(w, n)| (w.to_string(), n.to_string())))
        .collect();
    for (who, cred) in creds {
        let caller = match sb.accounts().resolve(cred) {
            Ok(c) => c,
            Err(f) => {
                problems.push(format!("{who}: Bitbucket answered 401 Unauthorized: {}", f.message));
                continue;
            }
        };
        sb.control(|c| c.count(&caller.name, &format!("SEI preflight ({account})")));
        if let Some(scope) = sb
            .accounts()
            .missing_scope(&caller, "repository", "read:repository:bitbucket")
        {
            problems.push(format!(
                "{who}: Bitbucket answered 403 Forbidden: Your credentials lack one or more required privilege scopes (required: {scope})."
            ));
            continue;
        }
        if wanted.is_empty() {
            if !caller
                .access
                .workspaces
                .keys()
                .any(|ws| sb.accounts().sees_workspace(&caller, ws))
            {
                problems.push(format!("{who}: Bitbucket lists no workspace for this credential."));
            }
            continue;
        }
        for (ws, repo) in &wanted {
            if !sb.accounts().sees_workspace(&caller, ws) {
                problems.push(format!(
                    "{who}: Bitbucket answered 404 Not Found: No workspace with identifier '{ws}'."
                ));
            } else if !sb.accounts().visible_repos(&caller, ws).contains(repo) {
                problems.push(format!(
                    "{who}: Bitbucket answered 404 Not Found: Repository {ws}/{repo} not found."
                ));
            }
        }
    }
    problems
}

/// SEI's Data Center preflight. SEI calls `{url}/rest/api/1.0/…` with
/// Basic `username:apikey` (the literal `null` for a missing username); here
/// the call is answered in process when `url` is this sandbox's instance,
/// and fails to connect otherwise.
fn datacenter_preflight(sb: &Sandbox, host: &str, body: &IntegrationBody) -> Option<(&'static str, String)> {
    let url = body.url.as_deref().unwrap_or_default();
    let ours = url::Url::parse(url).ok().is_some_and(|u| {
        let authority = match u.port() {
            Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_string(),
        };
        authority == host && u.path().trim_end_matches('/') == super::shared::DATACENTER_BASE_PATH
    });
    if !ours {
        return Some((
            "Get projects",
            format!("Failed to connect to {url}/rest/api/1.0/projects: not a Bitbucket Data Center this SEI can reach"),
        ));
    }
    let user = body.username.as_deref().unwrap_or("null");
    let key = body.apikey.as_deref().unwrap_or_default();
    super::datacenter::preflight(sb, user, key).map(|f| (f.check, f.error))
}

fn preflight_failed(account: &str, body: &IntegrationBody, problems: Vec<String>) -> Response {
    checks_failed(account, body, vec![("Get repositories", problems.join("; "))])
}

fn checks_failed(account: &str, body: &IntegrationBody, failed: Vec<(&str, String)>) -> Response {
    let checks: Vec<Value> = failed
        .into_iter()
        .map(|(name, error)| {
            json!({"success": false, "name": name, "error": error,
                   "exception": "BitbucketClientException", "warning": null})
        })
        .collect();
    let body = json!({
        "timestamp": chrono::Utc::now().timestamp_millis(),
        "status": 400,
        "error": "Bad Request",
        "message": "preflight_check_failed",
        "path": BASE,
        "preflight_check": {
            "success": false,
            "tenant_id": account,
            "integration": {"name": body.name, "application": body.application, "url": body.url},
            "exception": null,
            "checks": checks,
        }
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// SEI's names are unique ignoring case: "BB-Prod" collides with "bb-prod".
fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn too_long(name: &str, description: Option<&str>) -> bool {
    name.chars().count() > NAME_MAX || description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX)
}

async fn create(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Response, ApiError> {
    let account = authenticate(&sb, &req)?;
    let host = host_of(&req);
    let body: IntegrationBody = shared::read_body(req, Service::Sei).await?;
    let name = check_create(&body)?;
    let satellite = body.satellite.unwrap_or(false);
    let credentials = match body.method.as_deref() {
        _ if satellite => None,
        Some(m) => Some(build_credentials(&sb, &host, &body, m, BASE).await?),
        None => return Err(bad("Invalid type provided for integration Request", BASE)),
    };
    if let Some(creds) = &credentials {
        if let Some(failed) = create_preflight(&sb, &host, &account, &body, creds) {
            return Ok(failed);
        }
    }
    // The url column is NOT NULL: the insert fails.
    let url = body.url.clone().ok_or(ApiError::SeiInternal)?;
    if too_long(&name, body.description.as_deref()) {
        return Err(ApiError::SeiInternal);
    }
    let now = chrono::Utc::now().timestamp();
    let record = StoredIntegration {
        id: 0,
        account: account.clone(),
        name: name.clone(),
        description: body.description.clone(),
        url,
        application: body.application.clone().unwrap_or_default(),
        status: "ACTIVE".into(),
        satellite,
        tags: texts(&body.tags),
        metadata: body.metadata.clone().unwrap_or_default(),
        authentication: if satellite {
            "none".to_string()
        } else {
            authentication_of(body.method.as_deref())
        },
        linked_credentials: None,
        created_at: now,
        updated_at: now,
        ingestion_frequency: if body.start_ingestion.unwrap_or(true) { 60 } else { 0 },
        token: credentials.map(|c| c.token).unwrap_or_default(),
    };
    let id = insert(&sb, &record)?;
    let mut resp = json!({
        "tags": record.tags, "id": id.to_string(), "name": name, "url": record.url, "status": "ACTIVE",
        "application": body.application, "satellite": satellite, "metadata": record.metadata,
        "append_metadata": false, "authentication": record.authentication,
    });
    if let Some(d) = &record.description {
        resp["description"] = json!(d);
    }
    Ok(Json(resp).into_response())
}

/// SEI's checks of a create body, in its order, before any credential is
/// built: the application, a non-blank name, a known method. The name,
/// trimmed.
fn check_create(body: &IntegrationBody) -> Result<String, ApiError> {
    let application = body.application.as_deref();
    if !matches!(application, Some("bitbucket" | "bitbucket_server")) {
        return Err(bad("Invalid application provided for integration Request", BASE));
    }
    let name = body.name.as_deref().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(bad("The integration name can't be empty", BASE));
    }
    if body.satellite.unwrap_or(false) {
        return Ok(name);
    }
    match body.method.as_deref() {
        None => Err(bad("Invalid type provided for integration Request", BASE)),
        Some(m) if !matches!(m, "apikey" | "multiple_api_keys" | "oauth") => {
            Err(bad("Unsupported token_type provided.", BASE))
        }
        // SEI's Data Center client factory handles only an ApiKey token.
        Some(m) if application == Some("bitbucket_server") && m != "apikey" => {
            Err(bad("Unsupported token_type provided.", BASE))
        }
        Some(_) => Ok(name),
    }
}

/// SEI's preflight ("Validate Connection") of a create with credentials,
/// unless skipped: the failure answer, if it fails.
fn create_preflight(
    sb: &Sandbox,
    host: &str,
    account: &str,
    body: &IntegrationBody,
    creds: &Credentials,
) -> Option<Response> {
    if body.skip_preflight_check.unwrap_or(false) {
        return None;
    }
    if body.application.as_deref() == Some("bitbucket_server") {
        let failed = datacenter_preflight(sb, host, body)?;
        return Some(checks_failed(account, body, vec![failed]));
    }
    let metadata = body.metadata.clone().unwrap_or_default();
    let repos = metadata.get("repos").and_then(Value::as_str).unwrap_or("");
    let problems = preflight(sb, account, &creds.presented, repos);
    (!problems.is_empty()).then(|| preflight_failed(account, body, problems))
}

/// Inserts the record under a fresh id. A name the account already holds
/// (ignoring case) violates the UNIQUE constraint, which SEI surfaces as a
/// generic 500.
fn insert(sb: &Sandbox, record: &StoredIntegration) -> Result<u64, ApiError> {
    let created = sb.mutate(
        |w| {
            if w.integrations
                .values()
                .any(|i| i.account == record.account && same_name(&i.name, &record.name))
            {
                return Err(());
            }
            let id = w.next_id;
            w.next_id += 1;
            w.integrations.insert(id, StoredIntegration { id, ..record.clone() });
            Ok(id)
        },
        |_| (),
    );
    created.map_err(|()| ApiError::SeiInternal)
}

/// SEI's partial update: the name and tags always, a description only when
/// one is given, metadata replaced or appended; application, url, status
/// and the token only together with new credentials.
fn apply_update(
    rec: &mut StoredIntegration,
    name: &str,
    description: &Option<String>,
    body: &IntegrationBody,
    credentials: Option<&Credentials>,
) {
    rec.name = name.to_string();
    if let Some(d) = description {
        rec.description = Some(d.clone());
    }
    rec.tags = texts(&body.tags);
    match (&body.metadata, body.append_metadata) {
        (Some(m), true) => rec.metadata.extend(m.clone()),
        (Some(m), false) => rec.metadata = m.clone(),
        (None, _) => {}
    }
    let Some(c) = credentials else { return };
    if let Some(app) = body.application.clone().filter(|a| !a.is_empty()) {
        rec.application = app;
    }
    if let Some(u) = body.url.clone().filter(|u| !u.is_empty()) {
        rec.url = u;
    }
    rec.status = "ACTIVE".into();
    rec.authentication = authentication_of(c.token.method.as_deref());
    let replacements = rec.token.replacements + 1;
    rec.token = c.token.clone();
    rec.token.replacements = replacements;
}

fn find(sb: &Sandbox, account: &str, id: &str) -> Option<StoredIntegration> {
    let id = id.parse::<u64>().ok()?;
    sb.read_world(|w| w.integrations.get(&id).filter(|i| i.account == account).cloned())
}

async fn read(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Result<Response, ApiError> {
    let account = authenticate(&sb, &req)?;
    match find(&sb, &account, &id) {
        Some(i) => Ok(Json(render(&i)).into_response()),
        None => Err(ApiError::spring(
            StatusCode::NOT_FOUND,
            format!("Could not find integration id={id} for company={account}"),
            format!("{BASE}/{id}"),
        )),
    }
}

async fn update(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Result<Response, ApiError> {
    let account = authenticate(&sb, &req)?;
    let path = format!("{BASE}/{id}");
    let host = host_of(&req);
    let body: IntegrationBody = shared::read_body(req, Service::Sei).await?;
    let name = body.name.as_deref().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(bad("The integration name cannot be empty.", &path));
    }
    let existing = find(&sb, &account, &id).ok_or_else(|| {
        ApiError::spring(
            StatusCode::NOT_FOUND,
            format!("Could not update integration with id={id}"),
            &path,
        )
    })?;
    let non_empty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    // SEI replaces stored credentials only when a key or code comes along.
    let credentials = if non_empty(&body.apikey) || non_empty(&body.code) {
        let method = body.method.clone().unwrap_or_else(|| "apikey".to_string());
        Some(build_credentials(&sb, &host, &body, &method, &path).await?)
    } else {
        None
    };
    let description = body.description.clone().filter(|d| !d.is_empty());
    if too_long(&name, description.as_deref()) {
        return Err(ApiError::SeiInternal);
    }
    let resume = body.start_ingestion.unwrap_or(false);
    let now = chrono::Utc::now().timestamp();
    let updated = sb.mutate(
        |w| {
            if w.integrations
                .values()
                .any(|i| i.account == account && same_name(&i.name, &name) && i.id != existing.id)
            {
                return Err(());
            }
            let rec = w.integrations.get_mut(&existing.id).ok_or(())?;
            apply_update(rec, &name, &description, &body, credentials.as_ref());
            if resume {
                rec.ingestion_frequency = 60;
            }
            rec.updated_at = now;
            Ok(rec.clone())
        },
        |_| (),
    );
    let rec = updated.map_err(|()| ApiError::SeiInternal)?;
    let mut metadata_out: Map<String, Value> = rec.metadata.clone();
    metadata_out.remove("__secrets__");
    let mut resp = json!({"id": rec.id.to_string(), "name": rec.name, "tags": rec.tags, "metadata": metadata_out});
    if let Some(d) = &rec.description {
        resp["description"] = json!(d);
    }
    if credentials.is_some() {
        resp["application"] = json!(rec.application);
        resp["status"] = json!(rec.status);
        resp["url"] = json!(rec.url);
    }
    Ok(Json(resp).into_response())
}

fn delete_one(sb: &Sandbox, account: &str, id: &str) -> Value {
    let removed = sb.mutate(
        |w| {
            let key = id.parse::<u64>().map_err(|_| ())?;
            match w.integrations.get(&key) {
                Some(i) if i.account == account => {
                    w.integrations.remove(&key);
                    Ok(())
                }
                _ => Err(()),
            }
        },
        |_| (),
    );
    match removed {
        Ok(()) => json!({"id": id, "success": true}),
        Err(()) => {
            json!({"id": id, "success": false, "error": format!("Could not find integration id={id} for company={account}")})
        }
    }
}

async fn delete(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Result<Json<Value>, ApiError> {
    let account = authenticate(&sb, &req)?;
    Ok(Json(delete_one(&sb, &account, &id)))
}

async fn bulk_delete(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<Value>, ApiError> {
    let account = authenticate(&sb, &req)?;
    let ids: Vec<Id> = shared::read_body(req, Service::Sei).await?;
    let records: Vec<Value> = texts(&ids).iter().map(|id| delete_one(&sb, &account, id)).collect();
    Ok(Json(json!({"count": records.len(), "records": records})))
}

async fn list(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<Value>, ApiError> {
    let account = authenticate(&sb, &req)?;
    let body: ListBody<ListFilter> = shared::read_body(req, Service::Sei).await?;
    let (page, page_size) = body.page();
    let f = &body.filter;
    let mut apps = f.applications.clone();
    apps.extend(f.application.clone());
    let partial = f
        .partial
        .as_ref()
        .and_then(|p| p.name.as_deref())
        .map(str::to_lowercase);
    let ids = texts(&f.integration_ids);
    let tag_ids = texts(&f.tag_ids);
    let (gt, lt) = f.updated_at.as_ref().map_or((None, None), |r| (r.gt, r.lt));
    let mut matching: Vec<StoredIntegration> = sb.read_world(|w| {
        w.integrations
            .values()
            .filter(|i| i.account == account)
            .filter(|i| apps.is_empty() || apps.contains(&i.application))
            .filter(|i| partial.as_ref().is_none_or(|p| i.name.to_lowercase().contains(p)))
            .filter(|i| ids.is_empty() || ids.contains(&i.id.to_string()))
            .filter(|i| f.satellite.is_none_or(|s| i.satellite == s))
            .filter(|i| tag_ids.is_empty() || i.tags.iter().any(|t| tag_ids.contains(t)))
            .filter(|i| gt.is_none_or(|g| i.updated_at > g) && lt.is_none_or(|l| i.updated_at < l))
            .filter(|i| {
                f.linked_credentials
                    .as_ref()
                    .is_none_or(|l| i.linked_credentials.as_ref() == Some(l))
            })
            .cloned()
            .collect()
    });
    matching.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    Ok(Json(shared::sei_page(&matching, page, page_size, render)))
}
