//! The control plane (`/_sandbox/…`) and the per-request observer that
//! counts calls, injects faults and enforces Bitbucket's rate limit.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::connection::{ConnHandle, ConnectionFault};
use super::datacenter::Buckets;
use super::error::SandboxError;
use super::seed::TokenBucketSeed;
use super::shared::{self, route_label, ApiError, Service};
use super::Sandbox;

const HOUR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// The request is not processed; the fault answers instead.
    #[default]
    Before,
    /// The request is processed, then the fault answers (after `delay_ms`):
    /// with a delay past the client's timeout, a lost response.
    After,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub id: u64,
    /// `GET`, `POST`…; any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Request path, `*` matching any run of characters.
    pub path: String,
    /// The status to answer; unused (0) with `connection`.
    #[serde(default)]
    pub status: u16,
    /// End the connection without any answer instead: `reset` or `close`.
    /// With `when: "after"` the request is processed first, as when a
    /// load balancer drops a connection whose request already reached SEI.
    #[serde(default)]
    pub connection: Option<ConnectionFault>,
    #[serde(default = "one")]
    pub count: u32,
    /// Let this many matching requests through before firing.
    #[serde(default)]
    pub skip: u32,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// For a Bitbucket 429: `X-RateLimit-Reset` seconds (and the other
    /// `X-RateLimit-*` headers).
    #[serde(default)]
    pub rate_limit_reset: Option<u64>,
    #[serde(default)]
    pub when: When,
    /// A body to answer verbatim instead of the service's own error
    /// envelope: a proxy's HTML 404, an empty 502.
    #[serde(default)]
    pub body: Option<String>,
    /// The body's content type; `text/html` when a body is given.
    #[serde(default)]
    pub content_type: Option<String>,
    /// With a 3xx status: where the redirect points, as a load balancer
    /// sends `http://` callers to `https://`.
    #[serde(default)]
    pub location: Option<String>,
}

/// Round-trip time added before each request of a service is processed,
/// so benchmarks can run at real-world latency.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    #[serde(default)]
    pub sei_ms: u64,
    #[serde(default)]
    pub bitbucket_ms: u64,
    #[serde(default)]
    pub oauth_ms: u64,
    #[serde(default)]
    pub datacenter_ms: u64,
}

impl Latency {
    fn for_path(&self, path: &str) -> Duration {
        let ms = if path.starts_with(super::shared::DATACENTER_BASE_PATH) {
            self.datacenter_ms
        } else if path.starts_with("/bitbucket/site/oauth2") {
            self.oauth_ms
        } else if path.starts_with("/bitbucket/") {
            self.bitbucket_ms
        } else if path.starts_with("/sei/") {
            self.sei_ms
        } else {
            0
        };
        Duration::from_millis(ms)
    }
}

fn one() -> u32 {
    1
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counters {
    /// `METHOD /route/{template}` → calls received, faults included.
    pub routes: BTreeMap<String, u64>,
    /// Principal → authenticated calls.
    pub principals: BTreeMap<String, u64>,
    /// Principal → route → authenticated calls.
    pub principal_routes: BTreeMap<String, BTreeMap<String, u64>>,
}

pub struct Control {
    faults: Vec<Fault>,
    next_fault_id: u64,
    pub rate_limit_per_hour: u32,
    pub rate_limit_retry_after: Option<u64>,
    /// `X-RateLimit-Reset` (seconds) on Bitbucket's 429s; none when unset.
    pub rate_limit_reset: Option<u64>,
    windows: HashMap<String, VecDeque<Instant>>,
    counters: Counters,
    latency: Latency,
    /// Data Center's per-user token bucket, and each bucket's level.
    pub dc_bucket: TokenBucketSeed,
    pub dc_buckets: Buckets,
    /// Principals whose calls come from an address the workspaces'
    /// IP allowlist refuses: private content answers 403.
    pub restricted: std::collections::BTreeSet<String>,
}

impl Control {
    pub fn new(rate_limit_per_hour: u32, dc_bucket: TokenBucketSeed) -> Self {
        Control {
            faults: Vec::new(),
            next_fault_id: 1,
            rate_limit_per_hour,
            rate_limit_retry_after: None,
            rate_limit_reset: None,
            windows: HashMap::new(),
            counters: Counters::default(),
            latency: Latency::default(),
            dc_bucket,
            dc_buckets: Buckets::new(),
            restricted: Default::default(),
        }
    }

    fn take_fault(&mut self, method: &Method, path: &str) -> Option<Fault> {
        for f in self.faults.iter_mut() {
            if f.count == 0 {
                continue;
            }
            if f.method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method.as_str()))
            {
                continue;
            }
            if !glob_match(&f.path, path) {
                continue;
            }
            if f.skip > 0 {
                f.skip -= 1;
                return None;
            }
            f.count -= 1;
            return Some(f.clone());
        }
        None
    }

    /// Counts an authenticated call for `principal`; false when the rolling
    /// hour is full (the call must get a 429).
    pub fn admit(&mut self, principal: &str, route: &str) -> bool {
        let now = Instant::now();
        let window = self.windows.entry(principal.to_string()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= HOUR) {
            window.pop_front();
        }
        if window.len() >= self.rate_limit_per_hour as usize {
            return false;
        }
        window.push_back(now);
        self.count(principal, route);
        true
    }

    /// The 429 of the rolling-hour limit, with the headers set for it.
    pub fn rate_limited(&self) -> ApiError {
        ApiError::BitbucketRateLimited {
            retry_after: self.rate_limit_retry_after,
            reset: self.rate_limit_reset,
            limit: self.rate_limit_per_hour,
        }
    }

    /// Calls `principal` made in the current rolling hour.
    pub fn used(&self, principal: &str) -> usize {
        self.windows.get(principal).map_or(0, |w| w.len())
    }

    /// Counts a call for `principal` without rate limiting (SEI's side).
    pub fn count(&mut self, principal: &str, route: &str) {
        *self.counters.principals.entry(principal.to_string()).or_default() += 1;
        *self
            .counters
            .principal_routes
            .entry(principal.to_string())
            .or_default()
            .entry(route.to_string())
            .or_default() += 1;
    }
}

/// `*` matches any run of characters, everything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else { return false };
            rest = &rest[pos + part.len()..];
        }
    }
    true
}

/// Counts every API request and applies injected faults.
pub async fn observe(State(sb): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let label = route_label(&req);
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let conn = req
        .extensions()
        .get::<axum::extract::ConnectInfo<ConnHandle>>()
        .map(|c| c.0.clone());
    let (fault, latency) = sb.control(|c| {
        *c.counters.routes.entry(label.clone()).or_default() += 1;
        (c.take_fault(&method, &path), c.latency.for_path(&path))
    });
    tracing::debug!(route = %label, fault = fault.is_some(), "request");
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(fault) = fault else {
        return next.run(req).await;
    };
    if fault.when == When::After {
        let _processed = next.run(req).await;
    }
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if let (Some(how), Some(conn)) = (fault.connection, conn) {
        // Nothing of this response is written: the connection ends first.
        conn.end(how);
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    fault_response(&fault, &path)
}

fn fault_response(fault: &Fault, path: &str) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match (Service::of(path), status.as_u16()) {
        (_, 300..=399) => {
            let location = fault.location.clone().unwrap_or_default();
            (status, [(header::LOCATION, location)], "").into_response()
        }
        _ if fault.body.is_some() => {
            let content_type = fault.content_type.clone().unwrap_or_else(|| "text/html".to_string());
            (
                status,
                [(header::CONTENT_TYPE, content_type)],
                fault.body.clone().unwrap_or_default(),
            )
                .into_response()
        }
        (Service::Bitbucket, 429) => ApiError::BitbucketRateLimited {
            retry_after: None,
            reset: fault.rate_limit_reset,
            limit: 1000,
        }
        .into_response(),
        (Service::Sei, 500) => ApiError::SeiInternal.into_response(),
        (Service::DataCenter, 429) => shared::datacenter_error(
            status,
            "You have been rate limited: too many requests in too short a time.",
            "com.atlassian.bitbucket.throttle.ThrottledException",
        ),
        (service, _) => service
            .error(status, status.canonical_reason().unwrap_or("Injected fault"), path)
            .into_response(),
    };
    if let Some(secs) = fault.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/counters", get(get_counters).delete(reset_counters))
        .route("/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/rate-limit", put(set_rate_limit))
        .route("/oauth", put(set_oauth))
        .route("/datacenter/rate-limit", put(set_dc_rate_limit))
        .route("/latency", get(get_latency).put(set_latency))
        .route("/principals/{name}/revoke", post(revoke))
        .route("/principals/{name}/restore", post(restore))
        .route("/principals/{name}/tokens", post(add_token))
        .route("/principals/{name}/tokens/revoke", post(revoke_token))
        .route("/principals/{name}/restrict", post(restrict))
        .route("/principals/{name}/unrestrict", post(unrestrict))
        .route("/principals/{name}/scopes", put(set_scopes))
        .route("/integrations/{id}/token", get(integration_token))
        .fallback(|| async { control_error(StatusCode::NOT_FOUND, "no such control-plane route") })
}

fn control_error(status: StatusCode, message: &str) -> ApiError {
    ApiError::control(status, message)
}

async fn get_counters(State(sb): State<Arc<Sandbox>>) -> Json<Counters> {
    Json(sb.control(|c| c.counters.clone()))
}

async fn reset_counters(State(sb): State<Arc<Sandbox>>) -> Json<serde_json::Value> {
    sb.control(|c| c.counters = Counters::default());
    Json(json!({"reset": true}))
}

async fn list_faults(State(sb): State<Arc<Sandbox>>) -> Json<Vec<Fault>> {
    Json(sb.control(|c| c.faults.clone()))
}

/// A control-plane body: its own error envelope for every failure.
async fn control_body<T: serde::de::DeserializeOwned>(req: Request, what: &str) -> Result<T, ApiError> {
    let body = shared::read_json(req, Service::Sei).await?;
    serde_json::from_value(body).map_err(|e| control_error(StatusCode::BAD_REQUEST, &format!("invalid {what}: {e}")))
}

async fn add_fault(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Response, ApiError> {
    let mut fault: Fault = control_body(req, "fault").await?;
    let redirect = (300..=399).contains(&fault.status) && fault.location.is_some();
    if fault.connection.is_none() && !redirect && !(400..=599).contains(&fault.status) {
        return Err(control_error(
            StatusCode::BAD_REQUEST,
            "status must be from 400 to 599, or 300 to 399 with a location (or give connection: reset | close)",
        ));
    }
    let id = sb.control(|c| {
        fault.id = c.next_fault_id;
        c.next_fault_id += 1;
        c.faults.push(fault.clone());
        fault.id
    });
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn clear_faults(State(sb): State<Arc<Sandbox>>) -> Json<serde_json::Value> {
    sb.control(|c| c.faults.clear());
    Json(json!({"cleared": true}))
}

#[derive(Deserialize)]
struct RateLimit {
    per_hour: u32,
    #[serde(default)]
    retry_after: Option<u64>,
    /// Seconds until the window resets, sent as `X-RateLimit-Reset`.
    #[serde(default)]
    reset: Option<u64>,
}

async fn set_rate_limit(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<serde_json::Value>, ApiError> {
    let limit: RateLimit = control_body(req, "rate limit").await?;
    sb.control(|c| {
        c.rate_limit_per_hour = limit.per_hour;
        c.rate_limit_retry_after = limit.retry_after;
        c.rate_limit_reset = limit.reset;
        c.windows.clear();
    });
    Ok(Json(
        json!({"per_hour": limit.per_hour, "retry_after": limit.retry_after, "reset": limit.reset}),
    ))
}

#[derive(Deserialize)]
struct OAuthSettings {
    refresh_grace_secs: i64,
}

/// How long a used refresh token keeps working (Bitbucket: ten minutes),
/// so a test can see a rotated-out token die.
async fn set_oauth(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<serde_json::Value>, ApiError> {
    let settings: OAuthSettings = control_body(req, "oauth settings").await?;
    if settings.refresh_grace_secs < 0 {
        return Err(control_error(
            StatusCode::BAD_REQUEST,
            "refresh_grace_secs must not be negative",
        ));
    }
    saved(sb.change(|w| w.refresh_grace_secs = Some(settings.refresh_grace_secs)))?;
    Ok(Json(json!({"refresh_grace_secs": settings.refresh_grace_secs})))
}

async fn set_dc_rate_limit(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<TokenBucketSeed>, ApiError> {
    let bucket: TokenBucketSeed = control_body(req, "token bucket").await?;
    if bucket.size == 0 {
        return Err(control_error(StatusCode::BAD_REQUEST, "size must be at least 1"));
    }
    sb.control(|c| {
        c.dc_bucket = bucket;
        c.dc_buckets.clear();
    });
    Ok(Json(bucket))
}

async fn get_latency(State(sb): State<Arc<Sandbox>>) -> Json<Latency> {
    Json(sb.control(|c| c.latency))
}

async fn set_latency(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<Latency>, ApiError> {
    let latency: Latency = control_body(req, "latency").await?;
    sb.control(|c| c.latency = latency);
    Ok(Json(latency))
}

fn known_principal(sb: &Sandbox, name: &str) -> Result<(), ApiError> {
    if sb.seed.bitbucket.principals.iter().any(|p| p.principal_name() == name)
        || super::datacenter::Instance(sb).knows_principal(name)
    {
        Ok(())
    } else {
        Err(control_error(StatusCode::NOT_FOUND, "no such principal"))
    }
}

fn saved<T>(result: Result<T, SandboxError>) -> Result<T, ApiError> {
    result.map_err(|e| control_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))
}

async fn revoke(State(sb): State<Arc<Sandbox>>, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    saved(sb.change(|w| {
        w.revoked.insert(name.clone());
        // Revoking a consumer kills the tokens it issued.
        w.access_tokens
            .retain(|_, t| t.client_id != name && t.user.as_deref() != Some(name.as_str()));
    }))?;
    Ok(Json(json!({"revoked": name})))
}

async fn restore(
    State(sb): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    saved(sb.change(|w| w.revoked.remove(&name)))?;
    Ok(Json(json!({"restored": name})))
}

#[derive(Deserialize)]
struct NewToken {
    secret: String,
}

/// Another valid token for the principal: both work until one is revoked.
async fn add_token(
    State(sb): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    req: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    let token: NewToken = control_body(req, "token").await?;
    if token.secret.is_empty() {
        return Err(control_error(StatusCode::BAD_REQUEST, "secret must not be empty"));
    }
    saved(sb.change(|w| w.extra_tokens.entry(name.clone()).or_default().push(token.secret)))?;
    Ok(Json(json!({"principal": name, "tokens": "added"})))
}

/// Revokes one token of the principal (the seeded one or an added one);
/// its other tokens keep working.
async fn revoke_token(
    State(sb): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    req: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    let token: NewToken = control_body(req, "token").await?;
    saved(sb.change(|w| {
        w.revoked_tokens.insert(token.secret);
    }))?;
    Ok(Json(json!({"principal": name, "tokens": "revoked"})))
}

/// The principal's calls now come from an address an IP allowlist refuses.
async fn restrict(
    State(sb): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    sb.control(|c| c.restricted.insert(name.clone()));
    Ok(Json(json!({"restricted": name})))
}

async fn unrestrict(
    State(sb): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    sb.control(|c| c.restricted.remove(&name));
    Ok(Json(json!({"unrestricted": name})))
}

#[derive(Deserialize)]
struct Scopes {
    scopes: Vec<String>,
}

async fn set_scopes(
    State(sb): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    req: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_principal(&sb, &name)?;
    let scopes: Scopes = control_body(req, "scopes").await?;
    let list = scopes.scopes.clone();
    saved(sb.change(move |w| {
        w.scope_overrides.insert(name, list);
    }))?;
    Ok(Json(json!({"scopes": scopes.scopes})))
}

async fn integration_token(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let token = id
        .parse::<u64>()
        .ok()
        .and_then(|id| sb.read_world(|w| w.integrations.get(&id).map(|i| i.token.clone())));
    token
        .map(|t| Json(t).into_response())
        .ok_or_else(|| control_error(StatusCode::NOT_FOUND, "no such integration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("/sei/api/v1/integrations", "/sei/api/v1/integrations"));
        assert!(glob_match("/bitbucket/2.0/*", "/bitbucket/2.0/user"));
        assert!(glob_match("*/user", "/bitbucket/2.0/user"));
        assert!(glob_match("/a/*/c/*", "/a/b/c/d"));
        assert!(!glob_match("/bitbucket/2.0/*", "/sei/api"));
    }
}
