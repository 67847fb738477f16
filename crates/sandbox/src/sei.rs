//! The SEI side: `/sei/api/v1/integrations…`, per the contract's check
//! order, error bodies and update quirks.

// Handlers return axum `Response`s as their errors; that is axum's idiom,
// and the error's size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::bitbucket::Presented;
use super::control::route_label;
use super::errors::{self, Service};
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
        .method_not_allowed_fallback(errors::method_not_allowed)
}

/// Resolves the API key to its account. Unknown keys, and an account header
/// naming another account, get SEI's bare 401.
fn authenticate(sb: &Sandbox, req: &Request) -> Result<String, Response> {
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
        .ok_or_else(errors::sei_unauthorized)?;
    let account = sb
        .seed
        .sei
        .api_keys
        .iter()
        .find(|k| k.key == key)
        .map(|k| k.account.clone())
        .ok_or_else(errors::sei_unauthorized)?;
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
            return Err(errors::sei_unauthorized());
        }
    }
    let label = route_label(req);
    sb.control(|c| c.count(&format!("sei:{account}"), &label));
    Ok(account)
}

fn bad(message: &str, path: &str) -> Response {
    errors::spring(StatusCode::BAD_REQUEST, message, path)
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

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_string)
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

/// Builds SEI's token from `method`. `Err` is the response to send.
async fn build_credentials(
    sb: &Sandbox,
    host: &str,
    body: &Value,
    method: &str,
    path: &str,
) -> Result<Credentials, Response> {
    let mut token = StoredToken {
        method: Some(method.to_string()),
        ..StoredToken::default()
    };
    let mut presented = Vec::new();
    match method {
        "apikey" => {
            let user = text(body, "username").unwrap_or_default();
            let key = text(body, "apikey").unwrap_or_default();
            token.usernames.push(user.clone());
            token.secret_sha256.push(sha256_hex(&key));
            presented.push((user.clone(), Presented::Basic { user, secret: key }));
        }
        "multiple_api_keys" => {
            let keys = body.get("keys").and_then(Value::as_array).cloned().unwrap_or_default();
            if keys.is_empty() {
                return Err(bad("keys must not be empty for multiple_api_keys", path));
            }
            for k in keys {
                let user = text(&k, "username").unwrap_or_default();
                let key = text(&k, "apikey").unwrap_or_default();
                token.usernames.push(user.clone());
                token.secret_sha256.push(sha256_hex(&key));
                presented.push((user.clone(), Presented::Basic { user, secret: key }));
            }
        }
        "oauth" => {
            let code = text(body, "code").unwrap_or_default();
            let access = exchange_code(sb, host, &code).await.map_err(|e| {
                errors::spring(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("Failed to exchange the Bitbucket authorization code: {e}"),
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
async fn exchange_code(sb: &Sandbox, host: &str, code: &str) -> Result<String, String> {
    let consumer = sb
        .seed
        .sei
        .oauth_consumer
        .clone()
        .ok_or_else(|| "SEI has no Bitbucket OAuth consumer configured".to_string())?;
    let secret = sb
        .principal(&consumer)
        .map(|p| p.secret.clone())
        .ok_or_else(|| "SEI's OAuth consumer is not seeded".to_string())?;
    let resp = sb
        .http
        .post(format!("http://{host}/bitbucket/site/oauth2/access_token"))
        .basic_auth(&consumer, Some(secret))
        .form(&[("grant_type", "authorization_code"), ("code", code)])
        .send()
        .await
        .map_err(|e| format!("token endpoint unreachable: {e}"))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("unreadable token response: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "{}: {}",
            body["error"].as_str().unwrap_or("error"),
            body["error_description"].as_str().unwrap_or("")
        ));
    }
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the token response has no access_token".to_string())
}

/// The `Host` a request came to: where this sandbox's Bitbucket side is.
fn host_of(req: &Request) -> String {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string()
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
        let caller = match sb.resolve(cred) {
            Ok(c) => c,
            Err(f) => {
                problems.push(format!("{who}: Bitbucket answered 401 Unauthorized: {}", f.message));
                continue;
            }
        };
        sb.control(|c| c.count(&caller.name, &format!("SEI preflight ({account})")));
        if let Some(scope) = sb.missing_scope(&caller, "repository", "read:repository:bitbucket") {
            problems.push(format!(
                "{who}: Bitbucket answered 403 Forbidden: Your credentials lack one or more required privilege scopes (required: {scope})."
            ));
            continue;
        }
        if wanted.is_empty() {
            if !caller.access.workspaces.keys().any(|ws| sb.sees_workspace(&caller, ws)) {
                problems.push(format!("{who}: Bitbucket lists no workspace for this credential."));
            }
            continue;
        }
        for (ws, repo) in &wanted {
            if !sb.sees_workspace(&caller, ws) {
                problems.push(format!(
                    "{who}: Bitbucket answered 404 Not Found: No workspace with identifier '{ws}'."
                ));
            } else if !sb.visible_repos(&caller, ws).contains(repo) {
                problems.push(format!(
                    "{who}: Bitbucket answered 404 Not Found: Repository {ws}/{repo} not found."
                ));
            }
        }
    }
    problems
}

fn preflight_failed(account: &str, body: &Value, problems: Vec<String>) -> Response {
    let body = json!({
        "timestamp": chrono::Utc::now().timestamp_millis(),
        "status": 400,
        "error": "Bad Request",
        "message": "preflight_check_failed",
        "path": BASE,
        "preflight_check": {
            "success": false,
            "tenant_id": account,
            "integration": {"name": body.get("name"), "application": body.get("application"), "url": body.get("url")},
            "exception": null,
            "checks": [{"success": false, "name": "Get repositories", "error": problems.join("; "),
                        "exception": "BitbucketClientException", "warning": null}],
        }
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn too_long(name: &str, description: Option<&str>) -> bool {
    name.chars().count() > NAME_MAX || description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX)
}

async fn create(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    let account = match authenticate(&sb, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let host = host_of(&req);
    let body = match errors::read_json(req, Service::Sei).await {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(_) => return bad("JSON parse error: expected an object", BASE),
        Err(r) => return r,
    };
    let application = text(&body, "application");
    if !matches!(application.as_deref(), Some("bitbucket" | "bitbucket_server")) {
        return bad("Invalid application provided for integration Request", BASE);
    }
    let name = text(&body, "name").unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return bad("The integration name can't be empty", BASE);
    }
    let satellite = body.get("satellite").and_then(Value::as_bool).unwrap_or(false);
    let method = text(&body, "method");
    let credentials = if satellite {
        None
    } else {
        let Some(m) = method.as_deref() else {
            return bad("Invalid type provided for integration Request", BASE);
        };
        if !matches!(m, "apikey" | "multiple_api_keys" | "oauth") {
            return bad("Unsupported token_type provided.", BASE);
        }
        match build_credentials(&sb, &host, &body, m, BASE).await {
            Ok(c) => Some(c),
            Err(r) => return r,
        }
    };
    let metadata = body
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let skip = body
        .get("skip_preflight_check")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let (Some(creds), false) = (&credentials, skip) {
        let repos = metadata.get("repos").and_then(Value::as_str).unwrap_or("");
        let problems = preflight(&sb, &account, &creds.presented, repos);
        if !problems.is_empty() {
            return preflight_failed(&account, &body, problems);
        }
    }
    let Some(url) = text(&body, "url") else {
        // The column is NOT NULL: the insert fails.
        return errors::sei_internal();
    };
    let description = text(&body, "description");
    if too_long(&name, description.as_deref()) {
        return errors::sei_internal();
    }
    let tags = string_list(body.get("tags"));
    let start_ingestion = body.get("start_ingestion").and_then(Value::as_bool).unwrap_or(true);
    let authentication = if satellite {
        "none".to_string()
    } else {
        authentication_of(method.as_deref())
    };
    let now = chrono::Utc::now().timestamp();
    let created = sb.mutate(
        |w| {
            if w.integrations.values().any(|i| i.account == account && i.name == name) {
                return Err(());
            }
            let id = w.next_id;
            w.next_id += 1;
            let record = StoredIntegration {
                id,
                account: account.clone(),
                name: name.clone(),
                description: description.clone(),
                url: url.clone(),
                application: application.clone().unwrap_or_default(),
                status: "ACTIVE".into(),
                satellite,
                tags: tags.clone(),
                metadata: metadata.clone(),
                authentication: authentication.clone(),
                linked_credentials: None,
                created_at: now,
                updated_at: now,
                ingestion_frequency: if start_ingestion { 60 } else { 0 },
                token: credentials.as_ref().map(|c| c.token.clone()).unwrap_or_default(),
            };
            w.integrations.insert(id, record);
            Ok(id)
        },
        |_| (),
    );
    let Ok(id) = created else {
        // Duplicate name: the UNIQUE constraint, surfaced as a generic 500.
        return errors::sei_internal();
    };
    let mut resp = json!({
        "tags": tags, "id": id.to_string(), "name": name, "url": url, "status": "ACTIVE",
        "application": application, "satellite": satellite, "metadata": metadata,
        "append_metadata": false, "authentication": authentication,
    });
    if let Some(d) = description {
        resp["description"] = json!(d);
    }
    Json(resp).into_response()
}

fn find(sb: &Sandbox, account: &str, id: &str) -> Option<StoredIntegration> {
    let id = id.parse::<u64>().ok()?;
    sb.read_world(|w| w.integrations.get(&id).filter(|i| i.account == account).cloned())
}

async fn read(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Response {
    let account = match authenticate(&sb, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match find(&sb, &account, &id) {
        Some(i) => Json(render(&i)).into_response(),
        None => errors::spring(
            StatusCode::NOT_FOUND,
            &format!("Could not find integration id={id} for company={account}"),
            &format!("{BASE}/{id}"),
        ),
    }
}

async fn update(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Response {
    let account = match authenticate(&sb, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let path = format!("{BASE}/{id}");
    let host = host_of(&req);
    let body = match errors::read_json(req, Service::Sei).await {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(_) => return bad("JSON parse error: expected an object", &path),
        Err(r) => return r,
    };
    let name = text(&body, "name").unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return bad("The integration name cannot be empty.", &path);
    }
    let Some(existing) = find(&sb, &account, &id) else {
        return errors::spring(
            StatusCode::NOT_FOUND,
            &format!("Could not update integration with id={id}"),
            &path,
        );
    };
    let replaces_credentials =
        text(&body, "apikey").is_some_and(|k| !k.is_empty()) || text(&body, "code").is_some_and(|c| !c.is_empty());
    let credentials = if replaces_credentials {
        let method = text(&body, "method").unwrap_or_else(|| "apikey".to_string());
        match build_credentials(&sb, &host, &body, &method, &path).await {
            Ok(c) => Some(c),
            Err(r) => return r,
        }
    } else {
        None
    };
    let description = text(&body, "description").filter(|d| !d.is_empty());
    if too_long(&name, description.as_deref()) {
        return errors::sei_internal();
    }
    let tags = string_list(body.get("tags"));
    let metadata = body.get("metadata").and_then(Value::as_object).cloned();
    let append = body.get("append_metadata").and_then(Value::as_bool).unwrap_or(false);
    let resume = body.get("start_ingestion").and_then(Value::as_bool).unwrap_or(false);
    let now = chrono::Utc::now().timestamp();
    let updated = sb.mutate(
        |w| {
            if w.integrations
                .values()
                .any(|i| i.account == account && i.name == name && i.id != existing.id)
            {
                return Err(());
            }
            let Some(rec) = w.integrations.get_mut(&existing.id) else {
                return Err(());
            };
            rec.name = name.clone();
            if let Some(d) = &description {
                rec.description = Some(d.clone());
            }
            rec.tags = tags.clone();
            if let Some(m) = &metadata {
                if append {
                    for (k, v) in m {
                        rec.metadata.insert(k.clone(), v.clone());
                    }
                } else {
                    rec.metadata = m.clone();
                }
            }
            if let Some(c) = &credentials {
                if let Some(app) = text(&body, "application").filter(|a| !a.is_empty()) {
                    rec.application = app;
                }
                if let Some(u) = text(&body, "url").filter(|u| !u.is_empty()) {
                    rec.url = u;
                }
                rec.status = "ACTIVE".into();
                rec.authentication = authentication_of(c.token.method.as_deref());
                let replacements = rec.token.replacements + 1;
                rec.token = c.token.clone();
                rec.token.replacements = replacements;
            }
            if resume {
                rec.ingestion_frequency = 60;
            }
            rec.updated_at = now;
            Ok(rec.clone())
        },
        |_| (),
    );
    let Ok(rec) = updated else {
        return errors::sei_internal();
    };
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
    Json(resp).into_response()
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

async fn delete(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Response {
    let account = match authenticate(&sb, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    Json(delete_one(&sb, &account, &id)).into_response()
}

async fn bulk_delete(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    let account = match authenticate(&sb, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ids = match errors::read_json(req, Service::Sei).await {
        Ok(v) if v.is_array() => string_list(Some(&v)),
        Ok(_) => return bad("JSON parse error: expected an array of ids", BASE),
        Err(r) => return r,
    };
    let records: Vec<Value> = ids.iter().map(|id| delete_one(&sb, &account, id)).collect();
    Json(json!({"count": records.len(), "records": records})).into_response()
}

async fn list(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    let account = match authenticate(&sb, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let path = format!("{BASE}/list");
    let body = match errors::read_json(req, Service::Sei).await {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(_) => return bad("JSON parse error: expected an object", &path),
        Err(r) => return r,
    };
    let page = body.get("page").and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
    let page_size = match body.get("page_size").and_then(Value::as_i64) {
        Some(n) if n > 0 => n as usize,
        _ => 1000,
    };
    let empty = Value::Object(Map::new());
    let filter = body.get("filter").unwrap_or(&empty);
    let mut apps = string_list(filter.get("applications"));
    if let Some(a) = text(filter, "application") {
        apps.push(a);
    }
    let partial = filter
        .pointer("/partial/name")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let ids = string_list(filter.get("integration_ids"));
    let satellite = filter.get("satellite").and_then(Value::as_bool);
    let tag_ids = string_list(filter.get("tag_ids"));
    let gt = filter.pointer("/updated_at/$gt").and_then(Value::as_i64);
    let lt = filter.pointer("/updated_at/$lt").and_then(Value::as_i64);
    let linked = text(filter, "linked_credentials");
    let mut matching: Vec<StoredIntegration> = sb.read_world(|w| {
        w.integrations
            .values()
            .filter(|i| i.account == account)
            .filter(|i| apps.is_empty() || apps.contains(&i.application))
            .filter(|i| partial.as_ref().is_none_or(|p| i.name.to_lowercase().contains(p)))
            .filter(|i| ids.is_empty() || ids.contains(&i.id.to_string()))
            .filter(|i| satellite.is_none_or(|s| i.satellite == s))
            .filter(|i| tag_ids.is_empty() || i.tags.iter().any(|t| tag_ids.contains(t)))
            .filter(|i| gt.is_none_or(|g| i.updated_at > g) && lt.is_none_or(|l| i.updated_at < l))
            .filter(|i| linked.as_ref().is_none_or(|l| i.linked_credentials.as_ref() == Some(l)))
            .cloned()
            .collect()
    });
    matching.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let total = matching.len();
    let records: Vec<Value> = matching
        .iter()
        .skip(page.saturating_mul(page_size))
        .take(page_size)
        .map(render)
        .collect();
    // SEI's quirk: a full page says there is more, even when there is not.
    let has_next = records.len() >= page_size;
    let mut meta = json!({"page_size": page_size, "page": page, "has_next": has_next, "total_count": total});
    if has_next {
        meta["next_page"] = json!(page + 1);
    }
    Json(json!({"records": records, "count": records.len(), "_metadata": meta})).into_response()
}
