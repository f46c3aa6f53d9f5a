//! `/api/v1/feeds`: RSS and Atom feeds the workspace watches (`crate::feeds`). Each item
//! that appears after the first poll becomes a post through the feed's template, due now
//! (or, with `queue`, at the next free slot of the first account's queue: `api::queue`),
//! for the feed's accounts, once. Admins and owners make, list and delete feeds; a feed's
//! `last_error` says why its last poll failed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Body;
use super::keys::time_text;
use super::problem::Problem;
use super::{AppState, now_ms, templates};
use crate::storage::Feed;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFeed {
    url: String,
    template: String,
    /// The accounts (ids or names) the posts go to.
    accounts: Vec<String>,
    /// Whether each new item's post takes the next free slot of the first account's queue
    /// instead of going out now.
    #[serde(default)]
    queue: bool,
}

/// A feed as the API shows it.
fn view(f: &Feed, account_names: &[(String, String)]) -> Value {
    let accounts: Vec<&str> = f
        .accounts
        .iter()
        .map(|id| {
            account_names
                .iter()
                .find(|(aid, _)| aid == id)
                .map_or(id.as_str(), |(_, name)| name.as_str())
        })
        .collect();
    json!({
        "id": f.id,
        "url": f.url,
        "template": f.template,
        "queue": f.queue,
        "accounts": accounts,
        "last_polled_at": f.polled_ms.map(time_text),
        "next_poll_at": time_text(f.next_poll_ms),
        "last_error": f.last_error,
        "created_at": time_text(f.created_ms),
    })
}

async fn account_names(
    state: &AppState,
    workspace_id: &str,
) -> Result<Vec<(String, String)>, Problem> {
    Ok(state
        .storage
        .accounts(workspace_id)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewFeed>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let url = crate::webhooks::address::check_url(&new.url, state.outbox.policy.allow_private)
        .await
        .map_err(|e| Problem::invalid_field(format!("`url`: {e}")))?;
    if templates::find(&state, &caller.workspace_id, &new.template)
        .await?
        .is_none()
    {
        return Err(Problem::invalid_field(format!(
            "`template`: this workspace has no template {:?}; add it with PUT \
             /api/v1/templates/{{name}} (e.g. `{{{{ title }}}}\\n\\n{{{{ link }}}}`)",
            new.template
        )));
    }
    if new.accounts.is_empty() {
        return Err(Problem::invalid_field(
            "`accounts` is empty; name the accounts the posts go to",
        ));
    }
    let accounts = super::posts::find_accounts(&state, &caller.workspace_id, &new.accounts).await?;
    if new.queue {
        super::queue::require_slots(&state, &caller.workspace_id, &accounts[0]).await?;
    }
    let now = now_ms();
    let feed = Feed {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: caller.workspace_id.clone(),
        url: url.to_string(),
        template: new.template,
        accounts: accounts.iter().map(|a| a.id.clone()).collect(),
        etag: None,
        last_modified: None,
        last_error: None,
        polled_ms: None,
        // The first poll, at once, records what the feed holds already.
        next_poll_ms: now,
        queue: new.queue,
        created_by: caller.user_id,
        created_ms: now,
    };
    state.storage.create_feed(&feed).await?;
    let names: Vec<(String, String)> = accounts.into_iter().map(|a| (a.id, a.name)).collect();
    Ok((StatusCode::CREATED, Json(view(&feed, &names))))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let feeds = state.storage.feeds(&caller.workspace_id).await?;
    let names = account_names(&state, &caller.workspace_id).await?;
    Ok(Json(json!({
        "items": feeds.iter().map(|f| view(f, &names)).collect::<Vec<_>>()
    })))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state.storage.delete_feed(&caller.workspace_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "there is no feed {id} in this workspace; list them with GET /api/v1/feeds"
        )))
    }
}
