//! What every emulated service shares, and nothing above it: the error
//! envelope of each service, request bodies read under the size limit, the
//! credential a request presents, and route labels for counters. Service
//! modules (`sei`, `bitbucket`, `datacenter`) and the control plane import
//! this module; it imports none of them.

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use super::MAX_BODY_BYTES;

/// Where the Data Center instance is mounted.
pub const DATACENTER_BASE_PATH: &str = "/bbdc";

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Every error a sandbox route answers, each in the envelope of the service
/// it emulates. Handlers return `Result<_, ApiError>` and use `?`.
#[derive(Debug)]
pub enum ApiError {
    /// Spring Boot's default error JSON, as SEI renders
    /// `ResponseStatusException`.
    Spring {
        status: StatusCode,
        message: String,
        path: String,
    },
    /// SEI's `ControllerErrorHandler` body for unhandled failures: what a
    /// duplicate name or an over-long column produces.
    SeiInternal,
    /// SEI's 401: no body at all.
    SeiUnauthorized,
    /// Bitbucket's error envelope.
    Bitbucket { status: StatusCode, message: String },
    /// Bitbucket's 429, plain text, with `Retry-After` when set.
    /// Bitbucket's 429: `Retry-After` when set, and the `X-RateLimit-*`
    /// headers with the seconds until the window resets when `reset` is
    /// set (as live 429s carry them, often without `Retry-After`).
    BitbucketRateLimited {
        retry_after: Option<u64>,
        reset: Option<u64>,
        limit: u32,
    },
    /// Data Center's `{"errors": [...]}`.
    DataCenter { status: StatusCode, message: String },
    /// The control plane's own `{"error": …}`.
    Control { status: StatusCode, message: String },
}

impl ApiError {
    pub fn spring(status: StatusCode, message: impl Into<String>, path: impl Into<String>) -> Self {
        ApiError::Spring {
            status,
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn bitbucket(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::Bitbucket {
            status,
            message: message.into(),
        }
    }

    pub fn control(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::Control {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Spring { status, message, path } => {
                let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
                json_response(
                    status,
                    json!({
                        "timestamp": timestamp,
                        "status": status.as_u16(),
                        "error": status.canonical_reason().unwrap_or("Error"),
                        "message": message,
                        "path": path,
                    }),
                )
            }
            ApiError::SeiInternal => json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({
                    "error": "INTERNAL_SERVER_ERROR",
                    "status": 500,
                    "message": "Unhandled exception during API invocation",
                    "timestamp": chrono::Utc::now().timestamp_millis(),
                }),
            ),
            ApiError::SeiUnauthorized => StatusCode::UNAUTHORIZED.into_response(),
            ApiError::Bitbucket { status, message } => {
                json_response(status, json!({"type": "error", "error": {"message": message}}))
            }
            ApiError::BitbucketRateLimited {
                retry_after,
                reset,
                limit,
            } => {
                let mut resp = (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate limit for this resource has been exceeded",
                )
                    .into_response();
                let headers = resp.headers_mut();
                if let Some(v) = retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
                if let Some(secs) = reset {
                    let limit_header = format!("{limit}, {limit};w=3600");
                    if let Ok(v) = HeaderValue::from_str(&limit_header) {
                        headers.insert("x-ratelimit-limit", v);
                    }
                    headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
                    headers.insert("x-ratelimit-reset", HeaderValue::from(secs));
                }
                resp
            }
            ApiError::DataCenter { status, message } => json_response(
                status,
                json!({"errors": [{"context": null, "message": message, "exceptionName": null}]}),
            ),
            ApiError::Control { status, message } => json_response(status, json!({"error": message})),
        }
    }
}

/// Which service a path belongs to, for choosing an error envelope.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sei,
    Bitbucket,
    DataCenter,
}

impl Service {
    pub fn of(path: &str) -> Service {
        if path.starts_with("/bitbucket") {
            Service::Bitbucket
        } else if path.starts_with(DATACENTER_BASE_PATH) {
            Service::DataCenter
        } else {
            Service::Sei
        }
    }

    pub fn error(self, status: StatusCode, message: &str, path: &str) -> ApiError {
        match self {
            Service::Sei => ApiError::spring(status, message, path),
            Service::Bitbucket => ApiError::bitbucket(status, message),
            Service::DataCenter => ApiError::DataCenter {
                status,
                message: message.to_string(),
            },
        }
    }
}

pub async fn unknown_route(req: Request) -> ApiError {
    let path = req.uri().path().to_string();
    Service::of(&path).error(StatusCode::NOT_FOUND, "No handler found for this path", &path)
}

pub async fn method_not_allowed(req: Request) -> ApiError {
    let path = req.uri().path().to_string();
    Service::of(&path).error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Request method '{}' is not supported", req.method()),
        &path,
    )
}

/// Reads a typed JSON body: the right content type, at most 1 MiB,
/// well-formed, and of the request's shape (a wrong type is Jackson's 400).
/// Every failure is a 4xx in the service's own envelope.
pub async fn read_body<T: serde::de::DeserializeOwned>(req: Request, service: Service) -> Result<T, ApiError> {
    let path = req.uri().path().to_string();
    let value = read_json(req, service).await?;
    serde_json::from_value(value)
        .map_err(|e| service.error(StatusCode::BAD_REQUEST, &format!("JSON parse error: {e}"), &path))
}

/// Reads a JSON body of any shape.
pub async fn read_json(req: Request, service: Service) -> Result<serde_json::Value, ApiError> {
    let path = req.uri().path().to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("application/json") {
        let shown = if content_type.is_empty() {
            "none".to_string()
        } else {
            content_type.clone()
        };
        return Err(service.error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Content type '{shown}' not supported"),
            &path,
        ));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            service.error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Request body exceeds {MAX_BODY_BYTES} bytes"),
                &path,
            )
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| service.error(StatusCode::BAD_REQUEST, &format!("JSON parse error: {e}"), &path))
}

/// Drains and discards a body that must be empty-or-anything, still within
/// the size limit.
pub async fn read_form(
    req: Request,
    service: Service,
) -> Result<(axum::http::HeaderMap, Vec<(String, String)>), Response> {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Use application/x-www-form-urlencoded"}),
        ));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            service
                .error(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large", &path)
                .into_response()
        })?;
    Ok((headers, url::form_urlencoded::parse(&bytes).into_owned().collect()))
}

/// A credential as presented, over HTTP or by SEI's preflight.
pub enum Presented {
    Basic { user: String, secret: String },
    Bearer(String),
}

pub(crate) fn presented_from_headers(headers: &HeaderMap) -> Option<Presented> {
    let raw = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = raw.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, secret) = text.split_once(':')?;
        Some(Presented::Basic {
            user: user.to_string(),
            secret: secret.to_string(),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Presented::Bearer(rest.trim().to_string()))
    } else {
        None
    }
}

/// The route label of a request: its matched template when there is one.
pub fn route_label(req: &Request) -> String {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    format!("{} {}", req.method(), route)
}

/// Data Center's error envelope.
pub fn datacenter_error(status: StatusCode, message: &str, exception: &str) -> Response {
    let body = json!({"errors": [{"context": null, "message": message, "exceptionName": exception}]});
    (status, Json(body)).into_response()
}

/// The `host:port` a request was sent to: the `Host` header (HTTP/1.1), or
/// the `:authority` of an HTTP/2 request, which has no `Host`.
pub fn request_authority(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

/// One page of an SEI list answer over `matching` (already filtered and
/// ordered), with SEI's quirk: a full page says there is more, even when
/// there is not.
pub fn sei_page<T>(
    matching: &[T],
    page: usize,
    page_size: usize,
    render: impl Fn(&T) -> serde_json::Value,
) -> serde_json::Value {
    let records: Vec<serde_json::Value> = matching
        .iter()
        .skip(page.saturating_mul(page_size))
        .take(page_size)
        .map(render)
        .collect();
    let has_next = records.len() >= page_size;
    let mut meta =
        serde_json::json!({"page_size": page_size, "page": page, "has_next": has_next, "total_count": matching.len()});
    if has_next {
        meta["next_page"] = serde_json::json!(page + 1);
    }
    serde_json::json!({"records": records, "count": records.len(), "_metadata": meta})
}
