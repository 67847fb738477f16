//! The error bodies of each emulated service.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::MAX_BODY_BYTES;

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Spring Boot's default error JSON, as SEI renders `ResponseStatusException`.
pub fn spring(status: StatusCode, message: &str, path: &str) -> Response {
    let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string();
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

/// SEI's `ControllerErrorHandler` body for unhandled failures: what a
/// duplicate name or an over-long column produces.
pub fn sei_internal() -> Response {
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({
            "error": "INTERNAL_SERVER_ERROR",
            "status": 500,
            "message": "Unhandled exception during API invocation",
            "timestamp": chrono::Utc::now().timestamp_millis(),
        }),
    )
}

/// SEI's 401: no body at all.
pub fn sei_unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

/// Bitbucket's error envelope.
pub fn bitbucket(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({"type": "error", "error": {"message": message}}))
}

pub fn bitbucket_rate_limited(retry_after: Option<u64>) -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit for this resource has been exceeded",
    )
        .into_response();
    if let Some(secs) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Which service a path belongs to, for choosing an error envelope.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sei,
    Bitbucket,
}

impl Service {
    pub fn of(path: &str) -> Service {
        if path.starts_with("/bitbucket") {
            Service::Bitbucket
        } else {
            Service::Sei
        }
    }

    pub fn error(self, status: StatusCode, message: &str, path: &str) -> Response {
        match self {
            Service::Sei => spring(status, message, path),
            Service::Bitbucket => bitbucket(status, message),
        }
    }
}

pub async fn unknown_route(req: Request) -> Response {
    let path = req.uri().path().to_string();
    Service::of(&path).error(StatusCode::NOT_FOUND, "No handler found for this path", &path)
}

pub async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path().to_string();
    Service::of(&path).error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Request method '{}' is not supported", req.method()),
        &path,
    )
}

/// Reads a JSON body: the right content type, at most 1 MiB, well-formed.
/// Every failure is a 4xx in the service's own envelope.
pub async fn read_json(req: Request, service: Service) -> Result<serde_json::Value, Response> {
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
        .map_err(|_| service.error(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large", &path))?;
    Ok((headers, url::form_urlencoded::parse(&bytes).into_owned().collect()))
}
