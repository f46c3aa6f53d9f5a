//! `/api/v1/inbox`: the caller's in-app notifications in the caller's workspace, newest
//! first (paged, `?unread=true` for the unread only), and marking them read, one or all.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Query;
use super::keys::time_text;
use super::paging;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::{InboxItem, InboxQuery};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
    /// Only the items not read yet.
    #[serde(default)]
    unread: Option<bool>,
}

fn view(i: &InboxItem) -> Value {
    json!({
        "id": i.id,
        "event_type": i.event_type,
        "title": i.title,
        "body": i.body,
        "created_at": time_text(i.created_ms),
        "read": i.read_ms.is_some(),
        "read_at": i.read_ms.map(time_text),
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, Problem> {
    let limit = paging::limit(params.limit)?;
    paging::check_cursor(params.cursor.as_deref())?;
    let found = state
        .storage
        .inbox(&InboxQuery {
            user_id: caller.user_id,
            workspace_id: caller.workspace_id,
            unread_only: params.unread.unwrap_or(false),
            before_id: params.cursor,
            limit: limit + 1,
        })
        .await?;
    Ok(Json(paging::page(found, limit, |i| &i.id, view)))
}

/// Marks one item read (an item read before keeps its time).
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    if !state
        .storage
        .inbox_item_exists(&caller.user_id, &caller.workspace_id, &id)
        .await?
    {
        return Err(Problem::not_found(format!(
            "there is no notification {id} in your inbox in this workspace"
        )));
    }
    let marked = state
        .storage
        .mark_inbox_read(&caller.user_id, &caller.workspace_id, Some(&id), now_ms())
        .await?;
    Ok(Json(json!({ "id": id, "read": true, "marked": marked })))
}

/// Marks every unread item read; says how many.
pub async fn read_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, Problem> {
    let marked = state
        .storage
        .mark_inbox_read(&caller.user_id, &caller.workspace_id, None, now_ms())
        .await?;
    Ok(Json(json!({ "marked": marked })))
}
