//! Approvals: `GET /api/v1/approvals` (the posts awaiting approval), the workspace's rule
//! (`GET`/`PUT /api/v1/approvals/settings`: whether editors' posts need approval, and the
//! named approvers), and the decisions on a post (`POST /api/v1/posts/{id}/approve`,
//! `…/reject` with a comment, and its history at `GET …/approvals`).
//!
//! Who may decide is the access layer's business (`auth::policy`, `Action::Approve`:
//! owners, admins and named approvers). An approved post's targets are scheduled at their
//! own time, or missed when it passed more than the publisher's late limit ago; a rejected
//! one's are drafts again. Each decision is kept with who, when and the comment.

use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::{Body, Query};
use super::paging;
use super::post_media::{self, Written};
use super::posts::{not_found, view_with_targets};
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::approvals::{decided, decision_view, late_limit_ms};
use crate::storage::{
    ApprovalDecision, ApprovalSettings, Decision, Member, Post, PostState, TargetChange,
    TargetState,
};

/// Longest comment on a decision, in characters.
const COMMENT_MAX: usize = 2000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    require_approval: bool,
    /// Names of members who may approve besides owners and admins (replaces the list).
    #[serde(default)]
    approvers: Vec<String>,
}

fn settings_view(settings: &ApprovalSettings) -> Value {
    json!({
        "require_approval": settings.require_approval,
        "approvers": settings
            .approvers
            .iter()
            .map(|m| json!({ "user_id": m.user_id, "name": m.user_name, "role": m.role }))
            .collect::<Vec<_>>(),
    })
}

/// The names of everyone who may approve in a workspace: owners, admins, named approvers.
pub(crate) fn approver_names(members: &[Member], settings: &ApprovalSettings) -> Vec<String> {
    members
        .iter()
        .filter(|m| settings.may_approve(&m.user_id, m.role))
        .map(|m| m.user_name.clone())
        .collect()
}

pub async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, Problem> {
    let settings = state
        .storage
        .approval_settings(&caller.workspace_id)
        .await?;
    Ok(Json(settings_view(&settings)))
}

pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<SettingsBody>,
) -> Result<Json<Value>, Problem> {
    let members = state.storage.members(&caller.workspace_id).await?;
    let mut ids: Vec<String> = Vec::new();
    for name in &body.approvers {
        let member = members
            .iter()
            .find(|m| m.user_name == *name)
            .ok_or_else(|| {
                Problem::invalid_field(format!(
                    "`approvers`: {name:?} is not a member of this workspace; add them first \
                 (PUT /api/v1/members/{{name}})"
                ))
            })?;
        if !ids.contains(&member.user_id) {
            ids.push(member.user_id.clone());
        }
    }
    state
        .storage
        .set_approval_settings(&caller.workspace_id, body.require_approval, &ids, now_ms())
        .await?;
    let settings = state
        .storage
        .approval_settings(&caller.workspace_id)
        .await?;
    Ok(Json(settings_view(&settings)))
}

/// The posts awaiting approval, newest first, each with its targets and author.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, Problem> {
    let limit = paging::limit(params.limit)?;
    paging::check_cursor(params.cursor.as_deref())?;
    let posts = state
        .storage
        .posts_awaiting_approval(&caller.workspace_id, params.cursor.as_deref(), limit + 1)
        .await?;
    let members = state.storage.members(&caller.workspace_id).await?;
    let mut items: Vec<(String, Value)> = Vec::with_capacity(posts.len());
    for post in posts {
        let targets = state
            .storage
            .targets(&caller.workspace_id, &post.id)
            .await?;
        let mut item = view_with_targets(&post, &targets);
        item["author"] = json!(
            members
                .iter()
                .find(|m| m.user_id == post.author_id)
                .map(|m| m.user_name.as_str())
        );
        items.push((post.id, item));
    }
    Ok(Json(paging::page(
        items,
        limit,
        |(id, _)| id.as_str(),
        |(_, v)| v.clone(),
    )))
}

/// A post's approval decisions, oldest first.
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    state
        .storage
        .post(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let decisions = state
        .storage
        .approval_history(&caller.workspace_id, &id)
        .await?;
    Ok(Json(json!({
        "items": decisions.iter().map(decision_view).collect::<Vec<_>>(),
    })))
}

fn comment(body: DecisionBody, required: bool) -> Result<Option<String>, Problem> {
    let comment = body
        .comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if required && comment.is_none() {
        return Err(Problem::invalid_field(
            "`comment` is required to reject: say what the author should change",
        ));
    }
    if comment
        .as_deref()
        .is_some_and(|c| c.chars().count() > COMMENT_MAX)
    {
        return Err(Problem::invalid_field(format!(
            "`comment` is longer than {COMMENT_MAX} characters"
        )));
    }
    Ok(comment)
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    decision: Decision,
    comment: Option<String>,
) -> Result<Json<Value>, Problem> {
    let mut post: Post = state
        .storage
        .post(&caller.workspace_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let now = Utc::now().timestamp_millis();
    post.updated_ms = now.max(post.updated_ms);
    let change = match decision {
        Decision::Approved => TargetChange::Approve {
            late_before_ms: now - late_limit_ms(),
        },
        _ => {
            post.state = PostState::Draft;
            post.scheduled_ms = None;
            TargetChange::Reject
        }
    };
    let user_name = state
        .storage
        .user_by_id(&caller.user_id)
        .await?
        .map(|u| u.name);
    let record = ApprovalDecision {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: caller.workspace_id.clone(),
        post_id: post.id.clone(),
        user_id: Some(caller.user_id.clone()),
        user_name,
        decision,
        comment,
        created_ms: now,
    };
    let mut events = vec![decided(&post, &record)];
    if decision == Decision::Approved {
        let late = post
            .scheduled_ms
            .is_some_and(|due| due < now - late_limit_ms());
        if !late {
            events.extend(super::posts::scheduled_event(&post));
        }
    }
    // A rejection makes the post a draft: a post whose fields are stamped (synced, made
    // through the API, by a feed or a trigger) has its `schedule` stamped, so the devices
    // see it unscheduled too.
    let stamped = if decision != Decision::Approved
        && !state
            .storage
            .post_fields(&caller.workspace_id, id)
            .await?
            .is_empty()
    {
        let written = Written {
            schedule: true,
            ..Written::default()
        };
        post_media::stamps(&post, &written, post.updated_ms, &caller.user_id)?
    } else {
        Vec::new()
    };
    let outcome = state
        .storage
        .decide_approval(&post, &change, &record, &events, &stamped)
        .await?
        .ok_or_else(|| not_found(id))?;
    if outcome.changed.is_empty() {
        let states: Vec<String> = outcome
            .skipped
            .iter()
            .map(|(account, state)| format!("{account} is {state}"))
            .collect();
        return Err(Problem::illegal_transition(format!(
            "post {id} is not awaiting approval ({}); list what waits with GET \
             /api/v1/approvals",
            if states.is_empty() {
                "it has no targets".to_string()
            } else {
                states.join(", ")
            }
        )));
    }
    state.outbox.wake();
    let targets = state.storage.targets(&caller.workspace_id, id).await?;
    let mut answer = view_with_targets(&post, &targets);
    answer["decision"] = decision_view(&record);
    answer["changed"] = json!(outcome.changed);
    Ok(Json(answer))
}

pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<Value>, Problem> {
    let comment = comment(body, false)?;
    decide(&state, &caller, &id, Decision::Approved, comment).await
}

pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<Value>, Problem> {
    let comment = comment(body, true)?;
    decide(&state, &caller, &id, Decision::Rejected, comment).await
}

/// Whether what `caller` schedules waits for approval, and if so who may approve it.
pub(crate) async fn approval_needed(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<Vec<String>>, Problem> {
    let settings = state
        .storage
        .approval_settings(&caller.workspace_id)
        .await?;
    if !settings.needs_approval(&caller.user_id, caller.role) {
        return Ok(None);
    }
    let members = state.storage.members(&caller.workspace_id).await?;
    Ok(Some(approver_names(&members, &settings)))
}

/// The caller's name, for events.
pub(crate) async fn caller_name(state: &AppState, caller: &Caller) -> Result<String, Problem> {
    Ok(state
        .storage
        .user_by_id(&caller.user_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default())
}

/// Whether any of the states is one an edit of the content sends back for approval.
pub(crate) fn approved_waiting(states: &[TargetState]) -> bool {
    states.iter().any(|s| TargetState::WAITING.contains(s))
}
