//! The Bitbucket Cloud side: `/bitbucket/2.0/…` and the OAuth endpoints
//! under `/bitbucket/site/oauth2/…`.

// Handlers return axum `Response`s as their errors; that is axum's idiom,
// and the error's size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Timelike;
use serde_json::{json, Value};

use super::connection::ConnHandle;
use super::error::SandboxError;
use super::seed::{AppPasswordMode, PrincipalKind, PrincipalSeed, WorkspaceSeed};
use super::shared::{self, presented_from_headers, route_label, ApiError, Presented, Service};
use super::world::{IssuedToken, OAuthGrant};
use super::Sandbox;

/// Bitbucket OAuth access tokens live two hours.
pub const TOKEN_LIFETIME_SECS: i64 = 7200;

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/2.0/user", get(user))
        .route("/2.0/user/workspaces", get(user_workspaces))
        .route("/2.0/user/workspaces/{workspace}/permission", get(workspace_permission))
        .route("/2.0/workspaces/{workspace}", get(workspace))
        .route("/2.0/repositories/{workspace}", get(repositories))
        .route("/2.0/repositories/{workspace}/{repo}/pullrequests", get(pull_requests))
        .route("/2.0/workspaces", get(removed))
        .route("/2.0/user/permissions/workspaces", get(removed))
        .route("/2.0/user/permissions/repositories", get(removed))
        .route("/2.0/repositories", get(removed))
        .route("/site/oauth2/authorize", get(authorize))
        .route("/site/oauth2/access_token", post(access_token))
        .method_not_allowed_fallback(shared::method_not_allowed)
}

/// An authenticated caller.
#[derive(Clone)]
pub struct Caller {
    /// Rate-limit and counter identity: the consumer for OAuth tokens.
    pub name: String,
    /// Whose identity `/2.0/user` shows.
    pub identity: PrincipalSeed,
    /// Whose workspaces and repositories are visible.
    pub access: PrincipalSeed,
    pub credential_type: String,
    pub scopes: Vec<String>,
    /// API tokens use `read:x:bitbucket` scope names; the rest legacy names.
    pub api_token_scopes: bool,
}

pub struct AuthFailure {
    pub message: String,
    pub www_authenticate: bool,
}

fn failure(message: &str, www_authenticate: bool) -> AuthFailure {
    AuthFailure {
        message: message.to_string(),
        www_authenticate,
    }
}

const TOKEN_INVALID: &str = "Token is invalid, expired, or not supported for this endpoint.";

/// The brownout schedule: 15-minute windows at 00:00, 06:00, 12:00 and
/// 18:00 UTC.
fn in_brownout(now: chrono::DateTime<chrono::Utc>) -> bool {
    now.hour().is_multiple_of(6) && now.minute() < 15
}

/// Bitbucket's view of the sandbox's accounts: who a credential is, what it
/// may see. Borrowed from the one shared [`Sandbox`] state.
pub struct Accounts<'a>(pub(super) &'a Sandbox);

impl Accounts<'_> {
    pub(super) fn principal(&self, name: &str) -> Option<&PrincipalSeed> {
        self.0
            .seed
            .bitbucket
            .principals
            .iter()
            .find(|p| p.principal_name() == name)
    }

    fn scopes_of(&self, p: &PrincipalSeed) -> Vec<String> {
        let name = p.principal_name();
        self.0
            .read_world(|w| w.scope_overrides.get(&name).cloned())
            .unwrap_or_else(|| p.scopes.clone())
    }

    fn is_revoked(&self, name: &str) -> bool {
        self.0.read_world(|w| w.revoked.contains(name))
    }

    /// An Atlassian API token for `p`'s email: the seeded token or one
    /// added since, unless that token or the whole account is revoked.
    fn api_token(&self, p: &PrincipalSeed, secret: &str) -> Result<Caller, AuthFailure> {
        let name = p.principal_name();
        let (extra, token_revoked) = self.0.read_world(|w| {
            (
                w.extra_tokens.get(&name).is_some_and(|t| t.iter().any(|x| x == secret)),
                w.revoked_tokens.contains(secret),
            )
        });
        if p.secret != secret && !extra {
            return Err(failure("Invalid credentials.", true));
        }
        if token_revoked || self.is_revoked(&name) {
            return Err(failure(TOKEN_INVALID, true));
        }
        Ok(self.caller_for(p, p, "api_token", true))
    }

    /// Checks a credential the way Bitbucket would.
    pub fn resolve(&self, presented: &Presented) -> Result<Caller, AuthFailure> {
        let principals = &self.0.seed.bitbucket.principals;
        match presented {
            Presented::Basic { user, secret } => {
                if let Some(p) = principals
                    .iter()
                    .find(|p| p.kind == PrincipalKind::ApiToken && p.email.as_deref() == Some(user.as_str()))
                {
                    return self.api_token(p, secret);
                }
                if let Some(p) = principals
                    .iter()
                    .find(|p| p.kind == PrincipalKind::AppPassword && p.username.as_deref() == Some(user.as_str()))
                {
                    let removed = match self.0.seed.bitbucket.app_passwords {
                        AppPasswordMode::Removed => true,
                        AppPasswordMode::Brownout => in_brownout(chrono::Utc::now()),
                        AppPasswordMode::Active => false,
                    };
                    if removed || p.secret != *secret || self.is_revoked(&p.principal_name()) {
                        return Err(failure("Invalid credentials.", true));
                    }
                    return Ok(self.caller_for(p, p, "app_password", false));
                }
                // Anyone else, including an API token's owner signing in with
                // the Bitbucket username instead of the email.
                Err(failure("Invalid credentials.", true))
            }
            Presented::Bearer(token) => {
                let issued = self.0.read_world(|w| w.access_tokens.get(token).cloned());
                if let Some(t) = issued {
                    if t.expires_at <= chrono::Utc::now().timestamp() {
                        return Err(failure(
                            "Access token expired. Use your refresh token to obtain a new access token.",
                            false,
                        ));
                    }
                    let consumer = self
                        .principal(&t.client_id)
                        .ok_or_else(|| failure(TOKEN_INVALID, false))?;
                    if self.is_revoked(&t.client_id) {
                        return Err(failure(TOKEN_INVALID, false));
                    }
                    let identity = t.user.as_deref().and_then(|u| self.principal(u)).unwrap_or(consumer);
                    let access = if consumer.workspaces.is_empty() {
                        identity
                    } else {
                        consumer
                    };
                    let mut caller = self.caller_for(identity, access, "oauth", false);
                    caller.name = consumer.principal_name();
                    caller.scopes = self.scopes_of(consumer);
                    return Ok(caller);
                }
                if let Some(p) = principals
                    .iter()
                    .find(|p| p.kind == PrincipalKind::AccessToken && p.secret == *token)
                {
                    if self.is_revoked(&p.principal_name()) {
                        return Err(failure(TOKEN_INVALID, false));
                    }
                    let kind = p
                        .credential_type
                        .clone()
                        .unwrap_or_else(|| "repo_access_token".to_string());
                    return Ok(self.caller_for(p, p, &kind, false));
                }
                Err(failure(TOKEN_INVALID, false))
            }
        }
    }

    fn caller_for(
        &self,
        identity: &PrincipalSeed,
        access: &PrincipalSeed,
        kind: &str,
        api_token_scopes: bool,
    ) -> Caller {
        Caller {
            name: identity.principal_name(),
            identity: identity.clone(),
            access: access.clone(),
            credential_type: kind.to_string(),
            scopes: self.scopes_of(access),
            api_token_scopes,
        }
    }

    pub fn sees_workspace(&self, caller: &Caller, ws: &str) -> bool {
        caller.access.workspaces.contains_key(ws) && self.0.seed.bitbucket.workspaces.iter().any(|w| w.slug == ws)
    }

    fn workspace(&self, ws: &str) -> Option<&WorkspaceSeed> {
        self.0.seed.bitbucket.workspaces.iter().find(|w| w.slug == ws)
    }

    /// What a member sees of a workspace: its private repositories the
    /// caller may read, and its public ones.
    pub fn visible_repos(&self, caller: &Caller, ws: &str) -> Vec<String> {
        if !self.sees_workspace(caller, ws) {
            return Vec::new();
        }
        let Some(w) = self.workspace(ws) else {
            return Vec::new();
        };
        let private = w.repositories.iter().filter(|r| match &caller.access.repositories {
            None => true,
            Some(allowed) => allowed.iter().any(|a| a == &format!("{ws}/{r}")),
        });
        let mut out: Vec<String> = private.cloned().collect();
        for r in &w.public_repositories {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }

    /// What anyone sees, member or not: the public repositories.
    pub fn public_repos(&self, ws: &str) -> Option<Vec<String>> {
        self.workspace(ws).map(|w| w.public_repositories.clone())
    }

    /// `None` when granted; else the scope names to report as required.
    pub fn missing_scope(&self, caller: &Caller, legacy: &str, api: &str) -> Option<String> {
        let wanted = if caller.api_token_scopes { api } else { legacy };
        let granted = caller.scopes.iter().any(|g| {
            g == wanted
                || (!caller.api_token_scopes && {
                    let base = g.split(':').next().unwrap_or(g);
                    base == wanted || (wanted == "repository" && base == "pullrequest")
                })
        });
        (!granted).then(|| wanted.to_string())
    }
}

/// Authenticates an HTTP request and admits it under the rate limit.
fn authenticate(sb: &Sandbox, req: &Request) -> Result<Caller, Response> {
    let Some(presented) = presented_from_headers(req.headers()) else {
        let mut resp = ApiError::bitbucket(StatusCode::UNAUTHORIZED, "Authentication required.").into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Bitbucket.org HTTP\""),
        );
        return Err(resp);
    };
    let caller = sb.accounts().resolve(&presented).map_err(|f| {
        let mut resp = ApiError::bitbucket(StatusCode::UNAUTHORIZED, &f.message).into_response();
        if f.www_authenticate {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Bitbucket.org HTTP\""),
            );
        }
        resp
    })?;
    let label = route_label(req);
    let (admitted, limited) = sb.control(|c| (c.admit(&caller.name, &label), c.rate_limited()));
    if !admitted {
        return Err(limited.into_response());
    }
    Ok(caller)
}

/// Adds the credential headers Bitbucket sets on every authenticated answer.
fn with_facts(caller: &Caller, mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&caller.credential_type) {
        headers.insert("x-credential-type", v);
    }
    if let Ok(v) = HeaderValue::from_str(&caller.scopes.join(", ")) {
        headers.insert("x-oauth-scopes", v);
    }
    resp
}

fn scope_error(caller: &Caller, required: &str) -> Response {
    let body = json!({"type": "error", "error": {
        "message": "Your credentials lack one or more required privilege scopes.",
        "detail": {"required": [required], "granted": caller.scopes},
    }});
    let mut resp = (StatusCode::FORBIDDEN, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(required) {
        resp.headers_mut().insert("x-accepted-oauth-scopes", v);
    }
    with_facts(caller, resp)
}

/// Runs a handler body for an authenticated caller with one required scope.
fn guarded(sb: &Sandbox, req: &Request, legacy: &str, api: &str, body: impl FnOnce(&Caller) -> Response) -> Response {
    let caller = match authenticate(sb, req) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if let Some(required) = sb.accounts().missing_scope(&caller, legacy, api) {
        return scope_error(&caller, &required);
    }
    let mut resp = with_facts(&caller, body(&caller));
    // Bitbucket sends its scaled rate-limit headers only to access tokens
    // on the repository API.
    if caller.credential_type.ends_with("access_token") && req.uri().path().starts_with("/2.0/repositories") {
        let (limit, used) = sb.control(|c| (c.rate_limit_per_hour, c.used(&caller.name)));
        let near = (used as u64) * 10 >= u64::from(limit) * 9;
        let headers = resp.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-resource", HeaderValue::from_static("api"));
        headers.insert(
            "x-ratelimit-nearlimit",
            HeaderValue::from_static(if near { "true" } else { "false" }),
        );
    }
    resp
}

/// A stable Bitbucket account UUID per name, in braces as Bitbucket shows it.
fn uuid_for(name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!("{{{}}}", uuid::Uuid::from_bytes(bytes))
}

fn host_base(req: &Request) -> String {
    let host = shared::request_authority(req).unwrap_or_else(|| "localhost".to_string());
    let scheme = req
        .extensions()
        .get::<axum::extract::ConnectInfo<ConnHandle>>()
        .map_or("http", |c| c.0.scheme());
    format!("{scheme}://{host}")
}

/// One page of a Bitbucket list, with `next` absent on the last page.
fn paginate(req: &Request, values: Vec<Value>, max_pagelen: usize) -> Response {
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let pagelen = q
        .get("pagelen")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, max_pagelen);
    let page = q.get("page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).max(1);
    let size = values.len();
    let start = (page - 1).saturating_mul(pagelen);
    let items: Vec<Value> = values.into_iter().skip(start).take(pagelen).collect();
    let link = |p: usize| {
        let mut params = q.clone();
        params.insert("page".into(), p.to_string());
        params.insert("pagelen".into(), pagelen.to_string());
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let path = req
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .map(|o| o.0.path().to_string())
            .unwrap_or_else(|| req.uri().path().to_string());
        format!("{}{path}?{query}", host_base(req))
    };
    let mut body = json!({"pagelen": pagelen, "values": items, "page": page, "size": size});
    if start + pagelen < size {
        body["next"] = json!(link(page + 1));
    }
    if page > 1 {
        body["previous"] = json!(link(page - 1));
    }
    Json(body).into_response()
}

async fn user(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    let caller = match authenticate(&sb, &req) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if caller.identity.kind == PrincipalKind::AccessToken {
        return with_facts(
            &caller,
            ApiError::bitbucket(StatusCode::FORBIDDEN, "Forbidden").into_response(),
        );
    }
    if let Some(required) = sb.accounts().missing_scope(&caller, "account", "read:user:bitbucket") {
        return scope_error(&caller, &required);
    }
    let p = &caller.identity;
    let name = p.principal_name();
    let username = p
        .username
        .clone()
        .unwrap_or_else(|| name.split('@').next().unwrap_or(&name).to_string());
    let body = json!({
        "type": "user",
        "uuid": uuid_for(&name),
        "account_id": p.account_id.clone().unwrap_or_else(|| format!("557058:{}", &super::world::sha256_hex(&name)[..24])),
        "nickname": username,
        "display_name": p.display_name.clone().unwrap_or_else(|| name.clone()),
        "username": username,
        "created_on": "2019-02-19T10:36:46.361566+00:00",
        "is_staff": false,
        "account_status": "active",
        "has_2fa_enabled": null,
        "links": {"self": {"href": format!("{}/bitbucket/2.0/user", host_base(&req))}},
    });
    with_facts(&caller, Json(body).into_response())
}

async fn user_workspaces(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    guarded(&sb, &req, "team", "read:workspace:bitbucket", |caller| {
        let values = caller
            .access
            .workspaces
            .iter()
            .filter(|(slug, _)| sb.accounts().sees_workspace(caller, slug))
            .map(|(slug, perm)| {
                json!({
                    "type": "workspace_access",
                    "administrator": perm == "owner",
                    "workspace": {"type": "workspace", "uuid": uuid_for(slug), "slug": slug,
                                  "name": workspace_name(&sb, slug), "links": {}},
                    "links": {},
                })
            })
            .collect();
        paginate(&req, values, 100)
    })
}

fn workspace_name(sb: &Sandbox, slug: &str) -> String {
    sb.seed
        .bitbucket
        .workspaces
        .iter()
        .find(|w| w.slug == slug)
        .and_then(|w| w.name.clone())
        .unwrap_or_else(|| slug.to_string())
}

async fn workspace_permission(State(sb): State<Arc<Sandbox>>, Path(ws): Path<String>, req: Request) -> Response {
    guarded(&sb, &req, "team", "read:workspace:bitbucket", |caller| {
        if !sb.accounts().sees_workspace(caller, &ws) {
            return ApiError::bitbucket(StatusCode::NOT_FOUND, format!("No workspace with identifier '{ws}'."))
                .into_response();
        }
        let perm = caller.access.workspaces.get(&ws).cloned().unwrap_or_default();
        Json(json!({"type": "workspace_membership", "permission": perm, "user": {"uuid": uuid_for(&caller.identity.principal_name())},
                    "workspace": {"slug": ws, "uuid": uuid_for(&ws)}}))
        .into_response()
    })
}

async fn workspace(State(sb): State<Arc<Sandbox>>, Path(ws): Path<String>, req: Request) -> Response {
    guarded(&sb, &req, "account", "read:workspace:bitbucket", |caller| {
        if !sb.accounts().sees_workspace(caller, &ws) {
            return ApiError::bitbucket(StatusCode::NOT_FOUND, format!("No workspace with identifier '{ws}'."))
                .into_response();
        }
        Json(
            json!({"type": "workspace", "uuid": uuid_for(&ws), "name": workspace_name(&sb, &ws), "slug": ws,
                    "is_private": true, "links": {}, "created_on": "2020-01-01T00:00:00.000000+00:00"}),
        )
        .into_response()
    })
}

/// `GET /2.0/repositories/{ws}`. As on Bitbucket, a 200 here proves nothing
/// about membership: a non-member, and a caller without credentials, get the
/// workspace's public repositories; `role=member` lists only what the caller
/// is a member for.
async fn repositories(State(sb): State<Arc<Sandbox>>, Path(ws): Path<String>, req: Request) -> Response {
    let Some(public) = sb.accounts().public_repos(&ws) else {
        return ApiError::bitbucket(StatusCode::NOT_FOUND, format!("No workspace with identifier '{ws}'."))
            .into_response();
    };
    let role = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "role")
        .map(|(_, v)| v.into_owned());
    let listing = |slugs: Vec<String>| {
        let values = slugs
            .into_iter()
            .map(|slug| {
                let is_private = !public.contains(&slug);
                json!({"type": "repository", "uuid": uuid_for(&format!("{ws}/{slug}")), "full_name": format!("{ws}/{slug}"),
                       "name": slug, "slug": slug, "is_private": is_private, "scm": "git",
                       "workspace": {"slug": ws}, "mainbranch": {"type": "branch", "name": "main"}})
            })
            .collect();
        paginate(&req, values, 100)
    };
    if presented_from_headers(req.headers()).is_none() {
        return listing(if role.is_some() { Vec::new() } else { public.clone() });
    }
    guarded(&sb, &req, "repository", "read:repository:bitbucket", |caller| {
        let accounts = sb.accounts();
        if accounts.sees_workspace(caller, &ws) && sb.control(|c| c.restricted.contains(&caller.name)) {
            return ip_allowlisted();
        }
        let slugs = match (accounts.sees_workspace(caller, &ws), role.is_some()) {
            (true, _) => accounts.visible_repos(caller, &ws),
            (false, false) => public.clone(),
            (false, true) => Vec::new(),
        };
        listing(slugs)
    })
}

/// Private content from an address the workspace's IP allowlist refuses:
/// 403 without a scope list (the REST answer is inferred; Git over HTTPS
/// says "an admin must whitelist your IP").
fn ip_allowlisted() -> Response {
    ApiError::bitbucket(
        StatusCode::FORBIDDEN,
        "Access to this workspace's private content is restricted to allowlisted IP addresses.",
    )
    .into_response()
}

async fn pull_requests(
    State(sb): State<Arc<Sandbox>>,
    Path((ws, repo)): Path<(String, String)>,
    req: Request,
) -> Response {
    guarded(&sb, &req, "pullrequest", "read:pullrequest:bitbucket", |caller| {
        if sb.control(|c| c.restricted.contains(&caller.name)) {
            return ip_allowlisted();
        }
        if !sb.accounts().visible_repos(caller, &ws).contains(&repo) {
            return ApiError::bitbucket(StatusCode::NOT_FOUND, format!("Repository {ws}/{repo} not found"))
                .into_response();
        }
        paginate(&req, Vec::new(), 50)
    })
}

async fn removed() -> Response {
    let data = json!({"announcement_url": "https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770"});
    let body = json!({"type": "error",
        "error": {"message": "CHANGE-2770 - Functionality has been deprecated",
                  "detail": "Please read the changelog entry for more details.", "data": data},
        "data": data});
    (StatusCode::GONE, Json(body)).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 20]>()))
}

/// OAuth access and refresh tokens are over 2,500 characters since
/// 2026-05-04: a client that bounds them tighter breaks.
fn long_token(prefix: &str) -> String {
    let mut t = String::from(prefix);
    for _ in 0..33 {
        t.push_str(&hex::encode(rand::random::<[u8; 40]>()));
    }
    t
}

/// How long a rotated-out refresh token keeps working after its first
/// use: about ten minutes at Bitbucket.
pub const REFRESH_GRACE_SECS: i64 = 600;

/// Auto-approves for the consumer's seeded user and redirects with a
/// single-use code, as a user clicking "Grant access" would.
async fn authorize(State(sb): State<Arc<Sandbox>>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let Some(consumer) = sb
        .accounts()
        .principal(&client_id)
        .filter(|p| p.kind == PrincipalKind::OauthConsumer)
        .cloned()
    else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "No such OAuth consumer.");
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "response_type must be code.",
        );
    }
    let Some(user) = consumer.user.clone() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "access_denied",
            "This consumer has no user to approve it.",
        );
    };
    let code = random_token("code_");
    let grant = OAuthGrant {
        client_id: client_id.clone(),
        user: Some(user),
        first_used_at: None,
    };
    let saved = sb.change(|w| {
        w.oauth_codes.insert(code.clone(), grant);
    });
    if let Err(e) = saved {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e.to_string());
    }
    let redirect = q
        .get("redirect_uri")
        .cloned()
        .unwrap_or_else(|| "http://localhost/callback".to_string());
    let mut target = match url::Url::parse(&redirect) {
        Ok(u) => u,
        Err(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri is not a URL."),
    };
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = q.get("state") {
        target.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

/// Issues an access token, and a new refresh token except for client
/// credentials (Bitbucket since 2026-05-04: refresh tokens rotate, and a
/// client-credentials grant gets none). The answer names the granted
/// scopes `scope`, as it has since then.
fn issue_token(sb: &Sandbox, client_id: &str, user: Option<String>, grant_type: &str) -> Result<Value, SandboxError> {
    let access = long_token("bbat_");
    let refresh = (grant_type != "client_credentials").then(|| long_token("bbrt_"));
    let scopes = sb
        .accounts()
        .principal(client_id)
        .map(|p| sb.accounts().scopes_of(p))
        .unwrap_or_default();
    let expires_at = chrono::Utc::now().timestamp() + TOKEN_LIFETIME_SECS;
    sb.change(|w| {
        w.access_tokens.insert(
            access.clone(),
            IssuedToken {
                client_id: client_id.to_string(),
                user: user.clone(),
                expires_at,
            },
        );
        if let Some(refresh) = &refresh {
            w.refresh_tokens.insert(
                refresh.clone(),
                OAuthGrant {
                    client_id: client_id.to_string(),
                    user,
                    first_used_at: None,
                },
            );
        }
    })?;
    let mut body = json!({"access_token": access, "scope": scopes.join(" "), "expires_in": TOKEN_LIFETIME_SECS,
              "token_type": "bearer", "state": grant_type});
    if let Some(refresh) = refresh {
        body["refresh_token"] = Value::String(refresh);
    }
    Ok(body)
}

/// Uses a refresh token: the first use starts its grace period, after
/// which it is dead; every use gets a new one.
fn use_refresh_token(sb: &Sandbox, client_id: &str, refresh: &str) -> Result<Option<OAuthGrant>, SandboxError> {
    let now = chrono::Utc::now().timestamp();
    sb.change(|w| {
        let grace = w.refresh_grace_secs.unwrap_or(REFRESH_GRACE_SECS);
        match w.refresh_tokens.get_mut(refresh) {
            Some(g) if g.client_id == client_id => match g.first_used_at {
                Some(first) if now - first >= grace => None,
                Some(_) => Some(g.clone()),
                None => {
                    g.first_used_at = Some(now);
                    Some(g.clone())
                }
            },
            _ => None,
        }
    })
}

async fn access_token(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    let label = route_label(&req);
    let (headers, form) = match shared::read_form(req, Service::Bitbucket).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (client_id, client_secret) = match presented_from_headers(&headers) {
        Some(Presented::Basic { user, secret }) => (user, secret),
        _ => (
            field("client_id").unwrap_or_default(),
            field("client_secret").unwrap_or_default(),
        ),
    };
    let consumer = sb
        .accounts()
        .principal(&client_id)
        .filter(|p| p.kind == PrincipalKind::OauthConsumer && p.secret == client_secret)
        .cloned();
    let Some(consumer) = consumer else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid OAuth client credentials.",
        );
    };
    if sb.accounts().is_revoked(&client_id) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "This OAuth consumer has been revoked.",
        );
    }
    let (admitted, limited) = sb.control(|c| (c.admit(&client_id, &label), c.rate_limited()));
    if !admitted {
        return limited.into_response();
    }
    match grant(&sb, &client_id, &consumer, &field) {
        Ok(body) => Json(body).into_response(),
        Err(resp) => resp,
    }
}

/// The token answer for the form's grant, or the OAuth error for it.
fn grant(
    sb: &Sandbox,
    client_id: &str,
    consumer: &PrincipalSeed,
    field: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, Response> {
    let invalid_grant = |why: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let grant_type = field("grant_type").unwrap_or_default();
    let issued = match grant_type.as_str() {
        "client_credentials" => issue_token(sb, client_id, consumer.user.clone(), "client_credentials"),
        "authorization_code" => {
            let code = field("code").unwrap_or_default();
            let grant = sb.mutate(
                |w| match w.oauth_codes.get(&code) {
                    Some(g) if g.client_id == client_id => Ok(w.oauth_codes.remove(&code)),
                    _ => Err(()),
                },
                |_| (),
            );
            let Ok(Some(g)) = grant else {
                return Err(invalid_grant(
                    "The authorization code is invalid or has already been used.",
                ));
            };
            issue_token(sb, client_id, g.user, "authorization_code")
        }
        "refresh_token" => {
            let Some(refresh) = field("refresh_token").filter(|r| !r.is_empty()) else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Bad request. Missing refresh token.",
                ));
            };
            match use_refresh_token(sb, client_id, &refresh) {
                Ok(Some(g)) => issue_token(sb, client_id, g.user, "refresh_token"),
                Ok(None) => return Err(invalid_grant("Invalid refresh_token.")),
                Err(e) => Err(e),
            }
        }
        "password" => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The password grant is no longer supported.",
            ))
        }
        other => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Unsupported grant type {other:?}."),
            ))
        }
    };
    issued.map_err(|e| oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e.to_string()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::in_brownout;

    #[test]
    fn brownout_windows() {
        let at = |h, m| chrono::Utc.with_ymd_and_hms(2026, 7, 1, h, m, 0).unwrap();
        assert!(in_brownout(at(0, 0)) && in_brownout(at(6, 14)) && in_brownout(at(18, 5)));
        assert!(!in_brownout(at(6, 15)) && !in_brownout(at(7, 0)) && !in_brownout(at(23, 59)));
    }
}
