//! A post's targets (one per account): `schedule`, `cancel`, `retry`, `resolve` and the
//! attempt log, under `/api/v1/posts/{id}/…`.
//!
//! Each change moves only the targets whose state allows it ("Target states" in
//! docs/ARCHITECTURE.md, decided by `storage::change_allows`); one that moves none changes
//! nothing and answers 409 `illegal-transition`, naming each target's state.

use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::access::Caller;
use super::approvals::{approval_needed, caller_name};
use super::extract::Body;
use super::post_media::{self, Written};
use super::posts::{
    find_accounts, not_found, rfc3339, schedule as read_time, scheduled_event, view_with_targets,
    zone,
};
use super::problem::Problem;
use crate::approvals::requested;
use crate::storage::{NOT_APPROVED_ERROR, Post, PostState, TargetChange, TargetsChanged};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// RFC 3339, or the CLI's time language ("tomorrow 9am", "in 2h", "mon 10:00").
    at: String,
    /// The IANA zone `at` is read in (default: the post's zone).
    #[serde(default)]
    zone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// It was published: the link found on the network.
    #[serde(default)]
    published: Option<String>,
    /// It was not published: publish it again now (from the part in doubt on).
    #[serde(default)]
    not_published: bool,
    /// Only the target on this account (id or name).
    #[serde(default)]
    account: Option<String>,
}

async fn the_post(state: &AppState, caller: &Caller, id: &str) -> Result<Post, Problem> {
    state
        .storage
        .post(&caller.workspace_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Applies `change`, answering the post with its targets, or 409 if no target moved.
async fn apply(
    state: &AppState,
    caller: &Caller,
    mut post: Post,
    change: TargetChange,
    what: &str,
) -> Result<Json<Value>, Problem> {
    post.updated_ms = Utc::now().timestamp_millis().max(post.updated_ms);
    // Scheduling is a `post.scheduled` event (or `approval.requested`), recorded with the
    // change.
    let events = match &change {
        TargetChange::Schedule { .. } => scheduled_event(&post),
        TargetChange::AwaitApproval { .. } => {
            let approvers = approval_needed(state, caller).await?.unwrap_or_default();
            vec![requested(
                &post,
                &caller_name(state, caller).await?,
                &approvers,
            )]
        }
        _ => Vec::new(),
    };
    // A post whose fields are stamped (synced, or made through the API) keeps its stamped
    // time true, so a device catching up from the snapshot sees it scheduled or not.
    let moves_time = matches!(
        change,
        TargetChange::Schedule { .. } | TargetChange::AwaitApproval { .. } | TargetChange::Cancel
    );
    let stamped = if moves_time
        && !state
            .storage
            .post_fields(&caller.workspace_id, &post.id)
            .await?
            .is_empty()
    {
        let written = Written {
            schedule: true,
            ..Written::default()
        };
        post_media::stamps(&post, &written, post.updated_ms)?
    } else {
        Vec::new()
    };
    let outcome = state
        .storage
        .update_post_stamped(&post, None, Some(&change), true, &events, &stamped)
        .await?
        .ok_or_else(|| not_found(&post.id))?;
    if outcome.changed.is_empty() {
        return Err(refused(&post.id, what, &change, &outcome));
    }
    if !events.is_empty() {
        state.outbox.wake();
    }
    let targets = state
        .storage
        .targets(&caller.workspace_id, &post.id)
        .await?;
    let mut answer = view_with_targets(&post, &targets);
    answer["changed"] = json!(outcome.changed);
    answer["skipped"] = json!(
        outcome
            .skipped
            .iter()
            .map(|(account, state)| json!({ "account": account, "state": state.as_str() }))
            .collect::<Vec<_>>()
    );
    Ok(Json(answer))
}

fn refused(post_id: &str, what: &str, change: &TargetChange, outcome: &TargetsChanged) -> Problem {
    let allowed: Vec<&str> = change.from_states().iter().map(|s| s.as_str()).collect();
    if outcome.skipped.is_empty() {
        return Problem::illegal_transition(format!(
            "post {post_id} has no targets to {what}: give it accounts first (PATCH \
             /api/v1/posts/{post_id} with `accounts`)"
        ));
    }
    let states: Vec<String> = outcome
        .skipped
        .iter()
        .map(|(account, state)| format!("{account} is {state}"))
        .collect();
    Problem::illegal_transition(format!(
        "nothing to {what} in post {post_id}: {}; {what} applies to targets that are {}",
        states.join(", "),
        allowed.join(" or ")
    ))
}

pub async fn schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ScheduleBody>,
) -> Result<Json<Value>, Problem> {
    let mut post = the_post(&state, &caller, &id).await?;
    let tz = zone(Some(body.zone.as_deref().unwrap_or(&post.zone)))?;
    let due_ms = read_time(&body.at, tz, Utc::now())?;
    post.state = PostState::Scheduled;
    post.scheduled_ms = Some(due_ms);
    post.zone = tz.name().to_string();
    let change = if approval_needed(&state, &caller).await?.is_some() {
        TargetChange::AwaitApproval { due_ms }
    } else {
        TargetChange::Schedule { due_ms }
    };
    apply(&state, &caller, post, change, "schedule").await
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let mut post = the_post(&state, &caller, &id).await?;
    post.state = PostState::Draft;
    post.scheduled_ms = None;
    apply(&state, &caller, post, TargetChange::Cancel, "cancel").await
}

pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let post = the_post(&state, &caller, &id).await?;
    if approval_needed(&state, &caller).await?.is_some() {
        let targets = state.storage.targets(&caller.workspace_id, &id).await?;
        if targets
            .iter()
            .any(|t| t.target.last_error.as_deref() == Some(NOT_APPROVED_ERROR))
        {
            return Err(Problem::illegal_transition(format!(
                "post {id} was missed because no one approved it in time; schedule it again \
                 (POST /api/v1/posts/{id}/schedule) and it waits for approval again"
            )));
        }
    }
    let now_ms = Utc::now().timestamp_millis();
    apply(
        &state,
        &caller,
        post,
        TargetChange::Retry { now_ms },
        "retry",
    )
    .await
}

pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ResolveBody>,
) -> Result<Json<Value>, Problem> {
    let published_url = match (body.published, body.not_published) {
        (Some(url), false) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Problem::invalid_field(
                    "`published` must be the post's link on the network (https://…)",
                ));
            }
            Some(url)
        }
        (None, true) => None,
        _ => {
            return Err(Problem::invalid_field(
                "send either `published` (the link you found: it was published) or \
                 `\"not_published\": true` (publish it again now)",
            ));
        }
    };
    let post = the_post(&state, &caller, &id).await?;
    let account_id = match body.account {
        Some(name) => Some(
            find_accounts(&state, &caller.workspace_id, &[name])
                .await?
                .remove(0)
                .id,
        ),
        None => None,
    };
    let now_ms = Utc::now().timestamp_millis();
    let change = TargetChange::Resolve {
        published_url,
        account_id,
        now_ms,
    };
    apply(&state, &caller, post, change, "resolve").await
}

pub async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    the_post(&state, &caller, &id).await?;
    let attempts = state.storage.attempts(&caller.workspace_id, &id).await?;
    Ok(Json(json!({
        "items": attempts
            .iter()
            .map(|(account, a)| json!({
                "account": account,
                "target_id": a.target_id,
                "part": a.part,
                "started_at": rfc3339(a.started_ms),
                "ended_at": rfc3339(a.ended_ms),
                "outcome": a.outcome,
                "http_status": a.http_status,
                "error": a.error,
            }))
            .collect::<Vec<_>>(),
    })))
}

/// The counters collected for each of the post's targets: the latest reading and every
/// reading over time, oldest first (`crate::analytics` reads them on core's schedule).
pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let targets = state
        .storage
        .post_with_targets(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?
        .targets;
    let readings = state
        .storage
        .post_readings(&caller.workspace_id, &id)
        .await?;
    let items: Vec<Value> = targets
        .iter()
        .map(|view| {
            let over_time: Vec<Value> = readings
                .iter()
                .filter(|r| r.target_id == view.target.id)
                .map(|r| {
                    json!({
                        "read_at": rfc3339(r.read_ms),
                        // Stored by the collector from core's counters; an unreadable
                        // row shows as no counters rather than failing the answer.
                        "counters": serde_json::from_str::<Value>(&r.counters)
                            .unwrap_or_else(|_| json!({})),
                    })
                })
                .collect();
            json!({
                "target_id": view.target.id,
                "account_id": view.target.account_id,
                "account": view.account_name,
                "network": view.network,
                "state": view.target.state.as_str(),
                "latest": over_time.last().cloned(),
                "readings": over_time,
            })
        })
        .collect();
    Ok(Json(json!({ "post_id": id, "items": items })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnpublishBody {
    /// Only the target on this account (id or name).
    #[serde(default)]
    account: Option<String>,
}

/// `POST /api/v1/posts/{id}/unpublish`: deletes the post's published parts from their
/// networks through the adapters (core's `Engine::unpublish`, as `postctl unpublish`
/// does), last part first; each target whose parts are all gone becomes `cancelled`.
/// The body is optional: `{"account": "ID or name"}` deletes from that account only.
/// Answers the post with its targets and, per account, the parts deleted or why it
/// stopped (`"complete": false` when any stopped); 409 when nothing is published.
pub async fn unpublish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Problem> {
    let body: UnpublishBody = if body.iter().all(u8::is_ascii_whitespace) {
        UnpublishBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::invalid_field(e.to_string()))?
    };
    let post = the_post(&state, &caller, &id).await?;
    let account = match body.account {
        Some(name) => Some(
            find_accounts(&state, &caller.workspace_id, &[name])
                .await?
                .remove(0),
        ),
        None => None,
    };
    let published = state.storage.published_targets(&post.id).await?;
    let any = published
        .iter()
        .any(|(_, a, _)| account.as_ref().is_none_or(|wanted| wanted.id == a.id));
    if !any {
        return Err(Problem::illegal_transition(format!(
            "post {id} has nothing published{} to delete; see GET /api/v1/posts/{id}",
            account
                .as_ref()
                .map(|a| format!(" on {}", a.name))
                .unwrap_or_default()
        )));
    }
    let results = state
        .networks
        .unpublish(&post.id, account.as_ref().map(|a| a.name.as_str()))
        .await
        .map_err(|e| {
            tracing::error!(post = %post.id, "unpublish failed: {e}");
            Problem::internal()
        })?;
    for (name, result) in &results {
        match result {
            Ok(parts) => {
                tracing::info!(post = %post.id, account = %name, "unpublished {parts} part(s)")
            }
            Err(why) => {
                tracing::warn!(post = %post.id, account = %name, "could not unpublish: {why}")
            }
        }
    }
    let targets = state
        .storage
        .targets(&caller.workspace_id, &post.id)
        .await?;
    let mut answer = view_with_targets(&post, &targets);
    answer["complete"] = json!(results.iter().all(|(_, r)| r.is_ok()));
    answer["unpublished"] = json!(
        results
            .iter()
            .map(|(account, result)| match result {
                Ok(parts) => json!({"account": account, "deleted_parts": parts}),
                Err(error) => json!({"account": account, "error": error}),
            })
            .collect::<Vec<_>>()
    );
    Ok(Json(answer))
}
