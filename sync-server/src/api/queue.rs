//! The posting queue (`storage::queue`): an account's weekly slots, set and read as
//! `postctl queue slots` does locally.
//!
//! - `GET /api/v1/queue`: every account of the workspace that has slots, with its next
//!   free times.
//! - `GET`, `PUT` (`{"rules": "mon-fri 09:00,13:00", "tz": "Europe/Berlin"}`) and
//!   `DELETE /api/v1/accounts/{id}/queue` (the account's id or name).
//!
//! Rules are core's weekly rules (`time::parse_weekly_rules`, several joined by `;`),
//! stored in their canonical form; a rule or zone core refuses is 422 with core's words.
//! Feeds and triggers made with `queue: true` post at the next free slot.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use postctl_core::queue::free_slots;
use postctl_core::time::{parse_weekly_rules, parse_zone};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Body;
use super::keys::time_text;
use super::posts::rfc3339;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::storage::queue::no_slots_message;
use crate::storage::{Account, QueueSlots};

/// How many next free times an answer shows.
const NEXT_SHOWN: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSlots {
    /// Weekly rules: "mon-fri 09:00,13:00,17:30"; several separated by `;`.
    rules: String,
    /// The IANA zone the times are in.
    tz: String,
}

/// An account of the workspace by id or name, or 404.
async fn find(state: &AppState, workspace_id: &str, id: &str) -> Result<Account, Problem> {
    state
        .storage
        .accounts(workspace_id)
        .await?
        .into_iter()
        .find(|a| a.id == id || a.name == id)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "there is no account {id} in this workspace; list them with GET /api/v1/accounts"
            ))
        })
}

/// Slots as the API shows them, with their next free times after `now_ms`.
async fn view(
    state: &AppState,
    account: &Account,
    slots: &QueueSlots,
    now_ms: i64,
) -> Result<Value, Problem> {
    let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let taken: Vec<DateTime<Utc>> = state
        .storage
        .taken_slots(
            &account.workspace_id,
            std::slice::from_ref(&account.id),
            now_ms,
        )
        .await?
        .into_iter()
        .map(at)
        .collect();
    let next: Vec<Value> = match (parse_weekly_rules(&slots.rules), parse_zone(&slots.tz)) {
        (Ok(rules), Ok(tz)) => free_slots(&rules, tz, at(now_ms), &taken)
            .into_iter()
            .take(NEXT_SHOWN)
            .map(|t| rfc3339(t.timestamp_millis()))
            .collect(),
        _ => Vec::new(),
    };
    Ok(json!({
        "account": account.name,
        "account_id": account.id,
        "rules": slots.rules,
        "tz": slots.tz,
        "next_free": next,
        "updated_at": time_text(slots.updated_ms),
    }))
}

/// 422 `no-queue-slots` unless `account` has slots: a feed or trigger with `queue` needs
/// them on its first account.
pub(crate) async fn require_slots(
    state: &AppState,
    workspace_id: &str,
    account: &Account,
) -> Result<(), Problem> {
    match state.storage.queue_slots(workspace_id, &account.id).await? {
        Some(_) => Ok(()),
        None => Err(Problem::no_queue_slots(no_slots_message(&account.name))),
    }
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, Problem> {
    let now = now_ms();
    let accounts = state.storage.accounts(&caller.workspace_id).await?;
    let mut items = Vec::new();
    for slots in state.storage.all_queue_slots(&caller.workspace_id).await? {
        if let Some(account) = accounts.iter().find(|a| a.id == slots.account_id) {
            items.push(view(&state, account, &slots, now).await?);
        }
    }
    Ok(Json(json!({ "items": items })))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let account = find(&state, &caller.workspace_id, &id).await?;
    let slots = state
        .storage
        .queue_slots(&caller.workspace_id, &account.id)
        .await?
        .ok_or_else(|| Problem::not_found(no_slots_message(&account.name)))?;
    Ok(Json(view(&state, &account, &slots, now_ms()).await?))
}

pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(new): Body<NewSlots>,
) -> Result<Json<Value>, Problem> {
    let account = find(&state, &caller.workspace_id, &id).await?;
    let rules = parse_weekly_rules(&new.rules)
        .map_err(|e| Problem::invalid_field(format!("`rules`: {e}")))?;
    let tz = parse_zone(new.tz.trim()).map_err(|e| Problem::invalid_field(format!("`tz`: {e}")))?;
    let canonical = rules
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let now = now_ms();
    let slots = QueueSlots {
        account_id: account.id.clone(),
        workspace_id: caller.workspace_id.clone(),
        rules: canonical,
        tz: tz.name().to_string(),
        updated_ms: now,
    };
    if !state.storage.set_queue_slots(&slots).await? {
        return Err(Problem::not_found(format!(
            "there is no account {id} in this workspace"
        )));
    }
    Ok(Json(view(&state, &account, &slots, now).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let account = find(&state, &caller.workspace_id, &id).await?;
    if state
        .storage
        .clear_queue_slots(&caller.workspace_id, &account.id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(no_slots_message(&account.name)))
    }
}
