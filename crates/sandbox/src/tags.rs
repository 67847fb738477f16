//! SEI's tags: `/sei/api/v1/tags…`, from the LevelOps sources the SEI
//! contract cites (gitsei `api-levelops/.../controllers/TagsController.java`
//! and `database-services/.../TagsService.java`):
//!
//! - `GET /v1/tags/{id}`: `{id, name, created_at}`, or 404 when the account
//!   has no such tag;
//! - `POST /v1/tags/list` with SEI's list request: `filter.partial.name` is a
//!   name prefix (lower-cased, SQL `LIKE 'x%'`), `filter.tag_ids` a set of
//!   ids; the paged answer of every SEI list;
//! - `POST /v1/tags` with `{name}`: `{id}`; names are stored lower case and
//!   unique per account ("Tag name already exists at this level.").

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::sei::{authenticate, texts, Id, ListBody, Partial};
use super::shared::{self, ApiError, Service};
use super::world::StoredTag;
use super::Sandbox;

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/v1/tags", post(create))
        .route("/v1/tags/list", post(list))
        .route("/v1/tags/{id}", get(read))
}

fn render(t: &StoredTag) -> Value {
    json!({"id": t.id.to_string(), "name": t.name, "created_at": t.created_at})
}

async fn read(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, req: Request) -> Result<Json<Value>, ApiError> {
    let account = authenticate(&sb, &req)?;
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|id| sb.read_world(|w| w.tags.get(&id).filter(|t| t.account == account).cloned()));
    found
        .map(|t| Json(render(&t)))
        .ok_or_else(|| ApiError::spring(StatusCode::NOT_FOUND, "", format!("/v1/tags/{id}")))
}

/// The filter of `POST /v1/tags/list`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagFilter {
    partial: Option<Partial>,
    tag_ids: Option<Vec<Id>>,
}

async fn list(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<Value>, ApiError> {
    let account = authenticate(&sb, &req)?;
    let body: ListBody<TagFilter> = shared::read_body(req, Service::Sei).await?;
    let (page, page_size) = body.page();
    let prefix = body
        .filter
        .partial
        .and_then(|p| p.name)
        .map(|n| n.to_lowercase())
        .unwrap_or_default();
    let ids: Option<Vec<String>> = body.filter.tag_ids.as_deref().map(texts);
    let matching: Vec<StoredTag> = sb.read_world(|w| {
        w.tags
            .values()
            .filter(|t| t.account == account && t.name.starts_with(&prefix))
            .filter(|t| ids.as_ref().is_none_or(|ids| ids.contains(&t.id.to_string())))
            .cloned()
            .collect()
    });
    Ok(Json(shared::sei_page(&matching, page, page_size, render)))
}

#[derive(Debug, Deserialize)]
struct NewTag {
    name: String,
}

async fn create(State(sb): State<Arc<Sandbox>>, req: Request) -> Result<Json<Value>, ApiError> {
    let account = authenticate(&sb, &req)?;
    let body: NewTag = shared::read_body(req, Service::Sei).await?;
    let name = body.name.trim().to_lowercase();
    if name.is_empty() {
        return Err(ApiError::SeiInternal);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let created = sb.mutate(
        |w| {
            if w.tags.values().any(|t| t.account == account && t.name == name) {
                return Err(ApiError::spring(
                    StatusCode::BAD_REQUEST,
                    "Tag name already exists at this level.",
                    "/v1/tags",
                ));
            }
            let id = w.tags.keys().max().map_or(1, |m| m + 1);
            w.tags.insert(
                id,
                StoredTag {
                    id,
                    account: account.clone(),
                    name: name.clone(),
                    created_at: now,
                },
            );
            Ok(id)
        },
        |_| ApiError::SeiInternal,
    )?;
    Ok(Json(json!({"id": created.to_string()})))
}
