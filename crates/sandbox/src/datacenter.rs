//! The Bitbucket Data Center side: one instance under `/bbdc`, with
//! `/rest/api/1.0/…` below it, per `shared/contract/bitbucket-datacenter-api.md`.
//!
//! The corners that matter to a validator are modelled as Data Center has
//! them: 401 for a missing permission as well as for a bad credential (told
//! apart only by `X-AUSERNAME`), project access tokens that work as Bearer
//! tokens and are refused in Basic auth, `nextPageStart` paging capped at
//! 1000, and a per-user token bucket answering 429 with `Retry-After`.

#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::seed::{dc_slug, DcProjectSeed, DcUserSeed};
use super::shared::{presented_from_headers, route_label, Presented};
use super::Sandbox;

/// Where the instance lives on the sandbox's listener: an integration's
/// `url` is `http://HOST:PORT/bbdc`.
pub const BASE_PATH: &str = super::shared::DATACENTER_BASE_PATH;
/// Data Center's default and maximum page sizes.
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 1000;

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/rest/api/1.0/application-properties", get(application_properties))
        .route("/rest/api/1.0/projects", get(projects))
        .route("/rest/api/1.0/projects/{key}", get(project))
        .route("/rest/api/1.0/projects/{key}/repos", get(project_repos))
        .route("/rest/api/1.0/projects/{key}/repos/{slug}", get(repository))
        .route("/rest/api/1.0/projects/{key}/repos/{slug}/commits", get(commits))
        .route(
            "/rest/api/1.0/projects/{key}/repos/{slug}/pull-requests",
            get(pull_requests),
        )
        .route("/rest/api/1.0/repos", get(repos))
}

/// Data Center's error envelope.
pub fn error(status: StatusCode, message: &str, exception: &str) -> Response {
    super::shared::datacenter_error(status, message, exception)
}

const NOT_PERMITTED: &str = "You are not permitted to access this resource";
const AUTHORISATION: &str = "com.atlassian.bitbucket.AuthorisationException";

/// Who a credential is on Data Center.
#[derive(Clone)]
pub enum DcCaller {
    /// A user, by password or by one of the user's HTTP access tokens;
    /// `principal` names which, for counters and revocation.
    User { user: DcUserSeed, principal: String },
    /// A project HTTP access token: reads its project, nothing else.
    ProjectToken { name: String, project: String },
}

impl DcCaller {
    /// What `X-AUSERNAME` says.
    pub fn username(&self) -> String {
        match self {
            DcCaller::User { user, .. } => user.username.clone(),
            DcCaller::ProjectToken { name, .. } => name.clone(),
        }
    }

    fn user_id(&self) -> u64 {
        match self {
            DcCaller::User { user, .. } => user.id,
            DcCaller::ProjectToken { .. } => 90_000,
        }
    }

    /// The rate-limit bucket: Data Center limits per user.
    fn bucket(&self) -> String {
        format!("bbdc:{}", self.username())
    }

    pub fn principal(&self) -> String {
        match self {
            DcCaller::User { principal, .. } => principal.clone(),
            DcCaller::ProjectToken { name, .. } => name.clone(),
        }
    }
}

/// Data Center's view of the seeded instance.
pub struct Instance<'a>(pub(super) &'a Sandbox);

impl Instance<'_> {
    fn revoked(&self, name: &str) -> bool {
        self.0.read_world(|w| w.revoked.contains(name))
    }

    /// Checks a credential as Data Center does. Basic takes a user's
    /// password or one of that user's tokens; a project token only works
    /// as Bearer.
    pub fn resolve(&self, presented: &Presented) -> Option<DcCaller> {
        let dc = &self.0.seed.datacenter;
        match presented {
            Presented::Basic { user, secret } => {
                let u = dc.users.iter().find(|u| u.username.eq_ignore_ascii_case(user))?;
                if u.password == *secret && !self.revoked(&u.username) {
                    return Some(DcCaller::User {
                        user: u.clone(),
                        principal: u.username.clone(),
                    });
                }
                let t = u.tokens.iter().find(|t| t.secret == *secret)?;
                (!self.revoked(&t.name)).then(|| DcCaller::User {
                    user: u.clone(),
                    principal: t.name.clone(),
                })
            }
            Presented::Bearer(secret) => {
                for u in &dc.users {
                    if let Some(t) = u.tokens.iter().find(|t| t.secret == *secret) {
                        return (!self.revoked(&t.name)).then(|| DcCaller::User {
                            user: u.clone(),
                            principal: t.name.clone(),
                        });
                    }
                }
                let t = dc.project_tokens.iter().find(|t| t.secret == *secret)?;
                (!self.revoked(&t.name)).then(|| DcCaller::ProjectToken {
                    name: t.name.clone(),
                    project: t.project.clone(),
                })
            }
        }
    }

    pub fn knows_principal(&self, name: &str) -> bool {
        let dc = &self.0.seed.datacenter;
        dc.users
            .iter()
            .any(|u| u.username == name || u.tokens.iter().any(|t| t.name == name))
            || dc.project_tokens.iter().any(|t| t.name == name)
    }

    fn project(&self, key: &str) -> Option<&DcProjectSeed> {
        find_project(self.0, key)
    }

    /// Permissions are additive: a project permission reads every
    /// repository in it, a repository permission that one.
    pub fn can_read_repo(&self, caller: &DcCaller, key: &str, slug: &str) -> bool {
        match caller {
            DcCaller::User { user, .. } => {
                user.projects.contains_key(key) || user.repositories.contains_key(&format!("{key}/{slug}"))
            }
            DcCaller::ProjectToken { project, .. } => project == key,
        }
    }

    /// A project is visible with a permission on it or on any of its
    /// repositories.
    pub fn sees_project(&self, caller: &DcCaller, key: &str) -> bool {
        let Some(p) = self.project(key) else { return false };
        p.repositories
            .iter()
            .any(|r| self.can_read_repo(caller, key, &dc_slug(r)))
            || matches!(caller, DcCaller::User { user, .. } if user.projects.contains_key(key))
    }

    pub fn visible_projects(&self, caller: &DcCaller) -> Vec<&DcProjectSeed> {
        let mut out: Vec<&DcProjectSeed> = self
            .0
            .seed
            .datacenter
            .projects
            .iter()
            .filter(|p| self.sees_project(caller, &p.key))
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Readable repositories of a project, by name.
    pub fn readable_repos<'p>(&self, caller: &DcCaller, project: &'p DcProjectSeed) -> Vec<&'p String> {
        let mut out: Vec<&String> = project
            .repositories
            .iter()
            .filter(|r| self.can_read_repo(caller, &project.key, &dc_slug(r)))
            .collect();
        out.sort_by_key(|r| dc_slug(r));
        out
    }

    /// Takes one token from the caller's bucket; `Err(seconds)` to wait
    /// when it is empty.
    pub fn admit(&self, caller: &DcCaller, route: &str) -> Result<(), u64> {
        let principal = caller.principal();
        self.0.control(|c| {
            let bucket = c.dc_bucket;
            let refill = f64::from(bucket.refill_per_second.max(1));
            let size = f64::from(bucket.size);
            let now = Instant::now();
            let (tokens, at) = c.dc_buckets.entry(caller.bucket()).or_insert((size, now));
            *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * refill).min(size);
            *at = now;
            if *tokens < 1.0 {
                let wait = ((1.0 - *tokens) / refill).ceil().max(1.0);
                return Err(wait as u64);
            }
            *tokens -= 1.0;
            c.count(&principal, route);
            Ok(())
        })
    }
}

/// The token bucket's state, per bucket: tokens left and when last filled.
pub type Buckets = std::collections::HashMap<String, (f64, Instant)>;

/// Adds `X-AUSERNAME` / `X-AUSERID`, which Data Center sets on every
/// authenticated answer, errors included.
fn identified(caller: &DcCaller, mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&caller.username()) {
        resp.headers_mut().insert("x-ausername", v);
    }
    if let Ok(v) = HeaderValue::from_str(&caller.user_id().to_string()) {
        resp.headers_mut().insert("x-auserid", v);
    }
    resp
}

/// Authenticates and rate-limits a request; the error is the response.
fn authenticate(sb: &Sandbox, req: &Request) -> Result<DcCaller, Response> {
    let Some(presented) = presented_from_headers(req.headers()) else {
        return Err(error(StatusCode::UNAUTHORIZED, NOT_PERMITTED, AUTHORISATION));
    };
    let Some(caller) = Instance(sb).resolve(&presented) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Authentication failed. Please check your credentials and try again.",
            "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException",
        ));
    };
    if let Err(wait) = Instance(sb).admit(&caller, &route_label(req)) {
        let mut resp = error(
            StatusCode::TOO_MANY_REQUESTS,
            "You have been rate limited: too many requests in too short a time.",
            "com.atlassian.bitbucket.throttle.ThrottledException",
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(identified(&caller, resp));
    }
    Ok(caller)
}

/// Runs `body` for an authenticated caller and stamps its identity on the
/// answer, whatever the answer is.
fn authed(sb: &Sandbox, req: &Request, body: impl FnOnce(&DcCaller) -> Response) -> Response {
    match authenticate(sb, req) {
        Ok(caller) => identified(&caller, body(&caller)),
        Err(resp) => resp,
    }
}

async fn application_properties(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    let dc = &sb.seed.datacenter;
    let build: String = dc
        .version
        .split('.')
        .map(|p| format!("{:0>3}", p))
        .collect::<String>()
        .trim_start_matches('0')
        .to_string();
    Json(json!({
        "version": dc.version,
        "buildNumber": build,
        "buildDate": "1767225600000",
        "displayName": dc.display_name,
    }))
}

/// Data Center's paging: `start` and `limit` (25 by default, at most
/// 1000), `nextPageStart` only when there is more.
fn page(values: Vec<Value>, q: &BTreeMap<String, String>) -> Response {
    let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let total = values.len();
    let slice: Vec<Value> = values.into_iter().skip(start).take(limit).collect();
    let last = start.saturating_add(slice.len()) >= total;
    let mut body = json!({"size": slice.len(), "limit": limit, "isLastPage": last, "start": start, "values": slice});
    if !last {
        body["nextPageStart"] = json!(start + limit);
    }
    Json(body).into_response()
}

fn project_json(p: &DcProjectSeed, index: usize) -> Value {
    json!({"key": p.key, "id": index + 1, "name": p.name, "public": false, "type": "NORMAL"})
}

fn repo_json(p: &DcProjectSeed, project_index: usize, name: &str) -> Value {
    let slug = dc_slug(name);
    json!({
        "slug": slug, "name": name, "scmId": "git", "state": "AVAILABLE", "public": false,
        "id": (project_index + 1) * 1000 + p.repositories.iter().position(|r| r == name).unwrap_or(0) + 1,
        "project": project_json(p, project_index),
    })
}

fn project_index(sb: &Sandbox, key: &str) -> Option<usize> {
    sb.seed.datacenter.projects.iter().position(|p| p.key == key)
}

fn contains_ci(haystack: &str, needle: Option<&String>) -> bool {
    needle.is_none_or(|n| haystack.to_lowercase().contains(&n.to_lowercase()))
}

async fn projects(State(sb): State<Arc<Sandbox>>, Query(q): Query<BTreeMap<String, String>>, req: Request) -> Response {
    authed(&sb, &req, |caller| {
        let inst = Instance(&sb);
        let values = inst
            .visible_projects(caller)
            .into_iter()
            .filter(|p| contains_ci(&p.name, q.get("name")))
            .map(|p| project_json(p, project_index(&sb, &p.key).unwrap_or(0)))
            .collect();
        page(values, &q)
    })
}

fn no_such_project(key: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("Project {key} does not exist."),
        "com.atlassian.bitbucket.project.NoSuchProjectException",
    )
}

async fn project(State(sb): State<Arc<Sandbox>>, Path(key): Path<String>, req: Request) -> Response {
    authed(&sb, &req, |caller| {
        let inst = Instance(&sb);
        match inst.project(&key) {
            None => no_such_project(&key),
            Some(_) if !inst.sees_project(caller, &key) => {
                error(StatusCode::UNAUTHORIZED, NOT_PERMITTED, AUTHORISATION)
            }
            Some(p) => Json(project_json(p, project_index(&sb, &key).unwrap_or(0))).into_response(),
        }
    })
}

async fn project_repos(
    State(sb): State<Arc<Sandbox>>,
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    req: Request,
) -> Response {
    authed(&sb, &req, |caller| {
        let inst = Instance(&sb);
        match inst.project(&key) {
            None => no_such_project(&key),
            Some(_) if !inst.sees_project(caller, &key) => {
                error(StatusCode::UNAUTHORIZED, NOT_PERMITTED, AUTHORISATION)
            }
            Some(p) => {
                let index = project_index(&sb, &key).unwrap_or(0);
                let values = inst
                    .readable_repos(caller, p)
                    .into_iter()
                    .map(|r| repo_json(p, index, r))
                    .collect();
                page(values, &q)
            }
        }
    })
}

fn find_project<'s>(sb: &'s Sandbox, key: &str) -> Option<&'s DcProjectSeed> {
    sb.seed.datacenter.projects.iter().find(|p| p.key == key)
}

/// The repository `KEY/slug`, if the caller may read it; else the answer.
fn readable<'s>(
    sb: &'s Sandbox,
    caller: &DcCaller,
    key: &str,
    slug: &str,
) -> Result<(&'s DcProjectSeed, &'s String), Response> {
    let inst = Instance(sb);
    let p = find_project(sb, key).ok_or_else(|| no_such_project(key))?;
    let r = p.repositories.iter().find(|r| dc_slug(r) == slug).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            &format!("Repository {key}/{slug} does not exist."),
            "com.atlassian.bitbucket.repository.NoSuchRepositoryException",
        )
    })?;
    if !inst.can_read_repo(caller, key, slug) {
        return Err(error(StatusCode::UNAUTHORIZED, NOT_PERMITTED, AUTHORISATION));
    }
    Ok((p, r))
}

async fn repository(
    State(sb): State<Arc<Sandbox>>,
    Path((key, slug)): Path<(String, String)>,
    req: Request,
) -> Response {
    authed(&sb, &req, |caller| match readable(&sb, caller, &key, &slug) {
        Ok((p, r)) => Json(repo_json(p, project_index(&sb, &key).unwrap_or(0), r)).into_response(),
        Err(resp) => resp,
    })
}

async fn commits(
    State(sb): State<Arc<Sandbox>>,
    Path((key, slug)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    req: Request,
) -> Response {
    authed(&sb, &req, |caller| match readable(&sb, caller, &key, &slug) {
        Ok(_) => {
            let id = super::world::sha256_hex(&format!("{key}/{slug}"));
            let commit = json!({"id": id, "displayId": &id[..11], "message": "Initial commit",
                                "author": {"name": "sandbox", "emailAddress": "sandbox@example.invalid"},
                                "authorTimestamp": 1767225600000_i64});
            page(vec![commit], &q)
        }
        Err(resp) => resp,
    })
}

async fn pull_requests(
    State(sb): State<Arc<Sandbox>>,
    Path((key, slug)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    req: Request,
) -> Response {
    authed(&sb, &req, |caller| match readable(&sb, caller, &key, &slug) {
        Ok(_) => page(Vec::new(), &q),
        Err(resp) => resp,
    })
}

async fn repos(State(sb): State<Arc<Sandbox>>, Query(q): Query<BTreeMap<String, String>>, req: Request) -> Response {
    authed(&sb, &req, |caller| {
        let inst = Instance(&sb);
        let mut values = Vec::new();
        for p in inst.visible_projects(caller) {
            if !contains_ci(&p.name, q.get("projectname")) {
                continue;
            }
            let index = project_index(&sb, &p.key).unwrap_or(0);
            for r in inst.readable_repos(caller, p) {
                if contains_ci(r, q.get("name")) {
                    values.push(repo_json(p, index, r));
                }
            }
        }
        page(values, &q)
    })
}

/// One failed step of SEI's `BitbucketServerPreflightCheck`.
pub struct PreflightFailure {
    pub check: &'static str,
    pub error: String,
}

/// SEI's Data Center preflight, in process: "Get projects"
/// (`/projects?start=0&limit=250`), then "Get repositories" of the first
/// project, then commits and pull requests of its first repository. Each
/// step spends a token of the user's bucket, as the real calls would.
pub fn preflight(sb: &Sandbox, username: &str, secret: &str) -> Option<PreflightFailure> {
    let inst = Instance(sb);
    let fail = |check, error: String| Some(PreflightFailure { check, error });
    let presented = Presented::Basic {
        user: username.to_string(),
        secret: secret.to_string(),
    };
    let Some(caller) = inst.resolve(&presented) else {
        return fail(
            "Get projects",
            "Response code: 401, Authentication failed. Please check your credentials and try again.".into(),
        );
    };
    let step = |check: &'static str, route: &str| {
        inst.admit(&caller, &format!("SEI preflight: {route}"))
            .err()
            .map(|_| PreflightFailure {
                check,
                error: "Response code: 429, You have been rate limited.".into(),
            })
    };
    if let Some(f) = step("Get projects", "GET /projects") {
        return Some(f);
    }
    let visible = inst.visible_projects(&caller);
    // No project, or a project without repositories, passes: `None` is
    // "no failure" here.
    let first = visible.first()?;
    if let Some(f) = step("Get repositories", "GET /projects/{key}/repos") {
        return Some(f);
    }
    let repo = inst.readable_repos(&caller, first).first().map(|r| dc_slug(r))?;
    for (check, route) in [
        ("Get commits", "GET /projects/{key}/repos/{slug}/commits"),
        ("Get pull requests", "GET /projects/{key}/repos/{slug}/pull-requests"),
    ] {
        if let Some(f) = step(check, route) {
            return Some(f);
        }
        if !inst.can_read_repo(&caller, &first.key, &repo) {
            return fail(check, format!("Response code: 401, {NOT_PERMITTED}"));
        }
    }
    None
}
