//! `/api/v1/posts`: create, get, list (newest first, cursor pagination), patch, delete.
//!
//! Schedule times are read with postctl-core's time module, as the CLI reads `--at`:
//! `"at": "tomorrow 9am"` with `"zone": "Europe/Berlin"`, or an RFC 3339 instant.
//! `"queue": true` instead of `at` puts the post at the next free slot of its first
//! account's queue (`storage::queue`), picked in the transaction that stores it, in the
//! queue's zone.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use postctl_core::model::MediaRef;
use postctl_core::time::{self, Disambiguation, ParseContext, TimeError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::approvals::{approval_needed, approved_waiting, caller_name};
use super::extract::{Body, Query};
use super::paging;
use super::post_media::{self, MediaIn, Written};
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::approvals::requested;
use crate::storage::stamps::{API_DEVICE, Writer};
use crate::storage::{
    self, Account, Event, Post, PostEvents, PostQuery, PostStamps, PostState, Queued, Target,
    TargetChange, TargetState, TargetView,
};
use crate::webhooks::{self, EventType};

/// Longest post body, in bytes.
const BODY_MAX: usize = 64 * 1024;
const TITLE_MAX: usize = 300;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    body: String,
    #[serde(default)]
    title: Option<String>,
    /// When to publish; absent for a draft.
    #[serde(default)]
    at: Option<String>,
    /// The IANA zone `at` is written in (default UTC).
    #[serde(default)]
    zone: Option<String>,
    /// Publish at the next free slot of the first account's queue (instead of `at`).
    #[serde(default)]
    queue: bool,
    /// The accounts (ids or names) to publish to: one target each.
    #[serde(default)]
    accounts: Vec<String>,
    /// Files uploaded to the media store (`PUT /api/v1/media/{sha256}`), in order.
    #[serde(default)]
    media: Vec<MediaIn>,
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostChanges {
    #[serde(default)]
    body: Option<String>,
    #[serde(default, deserialize_with = "some")]
    title: Option<Option<String>>,
    /// A new time, or `null` to make the post a draft again.
    #[serde(default, deserialize_with = "some")]
    at: Option<Option<String>>,
    #[serde(default)]
    zone: Option<String>,
    /// The accounts (ids or names) to publish to, replacing the list: new ones get a
    /// target; targets of accounts left out are cancelled if they have not started.
    #[serde(default)]
    accounts: Option<Vec<String>>,
    /// The files, replacing the list (`[]` removes them all).
    #[serde(default)]
    media: Option<Vec<MediaIn>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

pub(crate) fn rfc3339(ms: i64) -> Value {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

/// A post as the API shows it.
pub fn view(post: &Post) -> Value {
    json!({
        "id": post.id,
        "title": post.title,
        "body": post.body,
        "state": post.state,
        "scheduled_at": post.scheduled_ms.map(rfc3339),
        "zone": post.zone,
        "author_id": post.author_id,
        "created_at": rfc3339(post.created_ms),
        "updated_at": rfc3339(post.updated_ms),
    })
}

/// A post with its targets, as the API shows it.
pub fn view_with_targets(post: &Post, targets: &[TargetView]) -> Value {
    let mut value = view(post);
    value["targets"] = Value::Array(targets.iter().map(target_view).collect());
    value
}

/// A post with its targets and its media, as `GET /api/v1/posts/{id}` shows it.
fn view_full(post: &Post, targets: &[TargetView], media: &[MediaRef]) -> Value {
    let mut value = view_with_targets(post, targets);
    value["media"] = post_media::view(media);
    value
}

/// A target as the API shows it.
pub fn target_view(t: &TargetView) -> Value {
    json!({
        "id": t.target.id,
        "account": t.account_name,
        "account_id": t.target.account_id,
        "network": t.network,
        "state": t.target.state.as_str(),
        "due_at": t.target.due_ms.map(rfc3339),
        "next_attempt_at": t.target.next_attempt_ms.map(rfc3339),
        "attempt_count": t.target.attempt_count,
        "parts": serde_json::from_str::<Value>(&t.target.parts).unwrap_or(Value::Null),
        "last_error": t.target.last_error,
    })
}

/// The workspace's accounts named by `refs` (ids or names), each once, in order.
pub(crate) async fn find_accounts(
    state: &AppState,
    workspace_id: &str,
    refs: &[String],
) -> Result<Vec<Account>, Problem> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let all = state.storage.accounts(workspace_id).await?;
    let mut found: Vec<Account> = Vec::new();
    for wanted in refs {
        let account = all
            .iter()
            .find(|a| a.id == *wanted || a.name == *wanted)
            .ok_or_else(|| {
                Problem::invalid_field(format!(
                    "`accounts`: this workspace has no account {wanted:?}; list them with \
                     GET /api/v1/accounts, or add it with POST /api/v1/accounts"
                ))
            })?;
        if !found.iter().any(|a| a.id == account.id) {
            found.push(account.clone());
        }
    }
    Ok(found)
}

pub(crate) fn zone(name: Option<&str>) -> Result<Tz, Problem> {
    match name {
        None => Ok(Tz::UTC),
        Some(name) => {
            time::parse_zone(name).map_err(|e| Problem::invalid_field(format!("`zone`: {e}")))
        }
    }
}

/// Reads `at` in `tz` as the CLI reads `--at`, refusing times in the past.
pub(crate) fn schedule(at: &str, tz: Tz, now: DateTime<Utc>) -> Result<i64, Problem> {
    let cx = ParseContext {
        now,
        tz,
        disambiguation: Disambiguation::Reject,
    };
    let when =
        time::parse_when(at, &cx).map_err(|e| Problem::invalid_field(format!("`at`: {e}")))?;
    time::ensure_not_past(when, now, tz).map_err(|e| match e {
        TimeError::Past { .. } => Problem::invalid_field(format!(
            "`at` is {}, which is in the past (now is {}); send a later time, or leave `at` \
             out to keep the post as a draft",
            time::format_moment(when, tz),
            time::format_moment(now, tz)
        )),
        other => Problem::invalid_field(format!("`at`: {other}")),
    })?;
    Ok(when.timestamp_millis())
}

pub(crate) fn check_text(body: &str, title: Option<&str>) -> Result<(), Problem> {
    if body.trim().is_empty() {
        return Err(Problem::invalid_field(
            "`body` is empty; write the post's text",
        ));
    }
    if body.len() > BODY_MAX {
        return Err(Problem::invalid_field(format!(
            "`body` is {} bytes; the limit is {BODY_MAX}",
            body.len()
        )));
    }
    if title.is_some_and(|t| t.chars().count() > TITLE_MAX) {
        return Err(Problem::invalid_field(format!(
            "`title` is longer than {TITLE_MAX} characters"
        )));
    }
    Ok(())
}

/// The `post.scheduled` webhook event of a post that is scheduled, recorded with the post.
pub(crate) fn scheduled_event(post: &Post) -> Vec<crate::storage::Event> {
    match post.state {
        PostState::Scheduled => vec![webhooks::event(
            &post.workspace_id,
            EventType::PostScheduled,
            json!({ "post": view(post) }),
        )],
        PostState::Draft => Vec::new(),
    }
}

/// A new target of a scheduled post by someone whose posts need approval waits for it.
fn awaiting(mut target: Target, needs_approval: bool) -> Target {
    if needs_approval && target.state == TargetState::Scheduled {
        target.state = TargetState::AwaitingApproval;
    }
    target
}

/// 422 unless at most one of `at` and `queue` was sent.
pub(crate) fn at_or_queue(at: bool, queue: bool) -> Result<(), Problem> {
    if at && queue {
        return Err(Problem::invalid_field(
            "send either `at` (a time) or `\"queue\": true` (the next free queue slot), not both",
        ));
    }
    Ok(())
}

/// The events of a post once its time is decided: `approval.requested` when `approvers`
/// must approve it (`author` asked), `post.scheduled` otherwise.
pub(crate) fn events_of(approvers: Option<Vec<String>>, author: String) -> PostEvents {
    Arc::new(move |post: &Post| -> Vec<Event> {
        match &approvers {
            Some(approvers) => vec![requested(post, &author, approvers)],
            None => scheduled_event(post),
        }
    })
}

/// What the API stamps of a post whose time the queue decides.
pub(crate) enum QueuedStamps {
    /// A new post, whole (with the accounts' names and the files), stamped at its creation.
    New {
        targets: Vec<String>,
        media: Vec<MediaRef>,
    },
    /// Its schedule, stamped at its update.
    Schedule,
    /// Nothing (a post made before the API stamped, never touched since).
    Nothing,
}

/// The stamps of what user `by` wrote through the API, made of the post once the queue
/// decided its time.
pub(crate) fn stamps_of(what: QueuedStamps, by: &str) -> PostStamps {
    let by = by.to_string();
    Arc::new(move |post: &Post| {
        let (written, at_ms) = match &what {
            QueuedStamps::New { targets, media } => (
                Written {
                    body: true,
                    title: true,
                    schedule: true,
                    targets: Some(targets.clone()),
                    media: Some(media.as_slice()),
                    deleted: Some(false),
                },
                post.created_ms,
            ),
            QueuedStamps::Schedule => (
                Written {
                    schedule: true,
                    ..Written::default()
                },
                post.updated_ms,
            ),
            QueuedStamps::Nothing => return Ok(Vec::new()),
        };
        let writer = Writer {
            device: API_DEVICE,
            user: &by,
        };
        storage::stamps::stamps(post, &written, at_ms, writer)
            .map_err(|e| storage::stamps::refused(&e))
    })
}

pub(crate) fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("there is no post {id} in this workspace"))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewPost>,
) -> Result<Response, Problem> {
    check_text(&new.body, new.title.as_deref())?;
    at_or_queue(new.at.is_some(), new.queue)?;
    let tz = zone(new.zone.as_deref())?;
    let accounts = find_accounts(&state, &caller.workspace_id, &new.accounts).await?;
    if new.queue && accounts.is_empty() {
        return Err(Problem::invalid_field(
            "`queue` needs `accounts`: the post takes the next free slot of the first \
             account's queue",
        ));
    }
    let media = post_media::resolve(&state, &caller.workspace_id, &new.media).await?;
    post_media::check_fit(&accounts, &media, state.media.host().is_ok())?;
    let now = Utc::now();
    // A queued post's time is decided as it is stored; until then it is now.
    let scheduled_ms = match new.at.as_deref() {
        Some(at) => Some(schedule(at, tz, now)?),
        None => new.queue.then(|| now.timestamp_millis()),
    };
    let post = Post {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: caller.workspace_id.clone(),
        author_id: caller.user_id.clone(),
        title: new.title,
        body: new.body,
        state: if scheduled_ms.is_some() {
            PostState::Scheduled
        } else {
            PostState::Draft
        },
        scheduled_ms,
        zone: tz.name().to_string(),
        created_ms: now.timestamp_millis(),
        updated_ms: now.timestamp_millis(),
    };
    let approvers = match post.state {
        PostState::Scheduled => approval_needed(&state, &caller).await?,
        PostState::Draft => None,
    };
    let events = match &approvers {
        Some(approvers) => vec![requested(
            &post,
            &caller_name(&state, &caller).await?,
            approvers,
        )],
        None => scheduled_event(&post),
    };
    let targets: Vec<Target> = accounts
        .iter()
        .map(|a| {
            awaiting(
                Target::new(&post, &a.id, post.created_ms),
                approvers.is_some(),
            )
        })
        .collect();
    // Stamped as sync stamps a device's new post, so a device catching up sees it whole.
    let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
    let post = if new.queue {
        let author = match &approvers {
            Some(_) => caller_name(&state, &caller).await?,
            None => String::new(),
        };
        let queued = Queued {
            now_ms: post.created_ms,
            events: events_of(approvers, author),
        };
        let stamps = stamps_of(
            QueuedStamps::New {
                targets: names,
                media: media.clone(),
            },
            &caller.user_id,
        );
        state
            .storage
            .create_queued_post(&post, &targets, &queued, &stamps)
            .await?
    } else {
        let written = Written {
            body: true,
            title: true,
            schedule: true,
            targets: Some(names),
            media: Some(&media),
            deleted: Some(false),
        };
        let fields = post_media::stamps(&post, &written, post.created_ms, &caller.user_id)?;
        state
            .storage
            .create_post_stamped(&post, &targets, &events, &fields)
            .await?;
        post
    };
    if !events.is_empty() {
        state.outbox.wake();
    }
    let views = state.storage.targets(&post.workspace_id, &post.id).await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/posts/{}", post.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((
        StatusCode::CREATED,
        headers,
        Json(view_full(&post, &views, &media)),
    )
        .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let read = state
        .storage
        .post_with_targets(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let media = storage::media_list(read.media.as_deref());
    Ok(Json(view_full(&read.post, &read.targets, &media)))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, Problem> {
    let limit = paging::limit(params.limit)?;
    let state_filter = params
        .state
        .as_deref()
        .map(|s| {
            PostState::parse(s).ok_or_else(|| {
                Problem::invalid(format!(
                    "`state` {s:?} is not a state; use draft or scheduled"
                ))
            })
        })
        .transpose()?;
    paging::check_cursor(params.cursor.as_deref())?;
    let posts = state
        .storage
        .posts(&PostQuery {
            workspace_id: caller.workspace_id,
            state: state_filter,
            before_id: params.cursor,
            limit: limit + 1,
        })
        .await?;
    Ok(Json(paging::page(posts, limit, |p| p.id.as_str(), view)))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(changes): Body<PostChanges>,
) -> Result<Json<Value>, Problem> {
    let mut post = state
        .storage
        .post(&caller.workspace_id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let fields = state.storage.post_fields(&caller.workspace_id, &id).await?;
    let media_before = post_media::media_of(&fields);
    let media = match &changes.media {
        Some(wanted) => post_media::resolve(&state, &caller.workspace_id, wanted).await?,
        None => media_before.clone(),
    };
    let (body_before, title_before) = (post.body.clone(), post.title.clone());
    let (body_written, title_written) = (changes.body.is_some(), changes.title.is_some());
    if let Some(body) = changes.body {
        post.body = body;
    }
    if let Some(title) = changes.title {
        post.title = title;
    }
    let media_changed = media != media_before;
    let content_changed = media_changed || body_before != post.body || title_before != post.title;
    let approvers = approval_needed(&state, &caller).await?;
    check_text(&post.body, post.title.as_deref())?;
    let tz = match changes.zone.as_deref() {
        Some(name) => zone(Some(name))?,
        None => zone(Some(&post.zone))?,
    };
    let schedule_moved = changes.at.is_some() || changes.zone.is_some() || post.zone != tz.name();
    post.zone = tz.name().to_string();
    let now = Utc::now();
    let rescheduled = matches!(changes.at, Some(Some(_)));
    let change = match changes.at {
        None => None,
        Some(None) => {
            post.state = PostState::Draft;
            post.scheduled_ms = None;
            Some(TargetChange::Unschedule)
        }
        Some(Some(at)) => {
            let due_ms = schedule(&at, tz, now)?;
            post.scheduled_ms = Some(due_ms);
            post.state = PostState::Scheduled;
            Some(match approvers {
                Some(_) => TargetChange::AwaitApproval { due_ms },
                None => TargetChange::Schedule { due_ms },
            })
        }
    };
    // New content in a post already approved (waiting for its time) needs approval again.
    let mut reapprove = false;
    let change = match change {
        None if approvers.is_some() && content_changed => {
            let targets = state.storage.targets(&caller.workspace_id, &id).await?;
            let states: Vec<_> = targets.iter().map(|t| t.target.state).collect();
            reapprove = approved_waiting(&states);
            reapprove.then_some(TargetChange::Reapprove)
        }
        other => other,
    };
    post.updated_ms = now.timestamp_millis().max(post.updated_ms);
    let named = match &changes.accounts {
        Some(refs) => Some(find_accounts(&state, &caller.workspace_id, refs).await?),
        None => None,
    };
    // The accounts the post goes to after the change take its files.
    if media_changed || named.is_some() {
        let goes_to = match &named {
            Some(named) => named.clone(),
            None => live_accounts(&state, &caller.workspace_id, &id).await?,
        };
        post_media::check_fit(&goes_to, &media, state.media.host().is_ok())?;
    }
    let stamp_all = fields.is_empty();
    let targets_names = match (&named, stamp_all) {
        (Some(named), _) => Some(named.iter().map(|a| a.name.clone()).collect()),
        (None, true) => Some(
            live_accounts(&state, &caller.workspace_id, &id)
                .await?
                .into_iter()
                .map(|a| a.name)
                .collect(),
        ),
        (None, false) => None,
    };
    let targets = named.as_ref().map(|named| {
        named
            .iter()
            .map(|a| {
                awaiting(
                    Target::new(&post, &a.id, post.updated_ms),
                    approvers.is_some() && post.state == PostState::Scheduled,
                )
            })
            .collect::<Vec<_>>()
    });
    // Scheduling or moving the time is a `post.scheduled` event; other edits are not.
    let events = match &approvers {
        Some(approvers) if rescheduled || reapprove => vec![requested(
            &post,
            &caller_name(&state, &caller).await?,
            approvers,
        )],
        _ if rescheduled => scheduled_event(&post),
        _ => Vec::new(),
    };
    // The fields it wrote are stamped as a device's edits are, changed or not: a write of
    // the value the server holds is still the latest write of that field, and left
    // unstamped it would lose to a device's older edit still on its way, with no conflict
    // recorded anywhere. A post the API made before it stamped its writes gets every
    // field, so a device catching up sees it whole.
    let written = Written {
        body: stamp_all || body_written,
        title: stamp_all || title_written,
        schedule: stamp_all || schedule_moved,
        targets: targets_names,
        media: (stamp_all || changes.media.is_some()).then_some(media.as_slice()),
        deleted: stamp_all.then_some(false),
    };
    let stamped = post_media::stamps(&post, &written, post.updated_ms, &caller.user_id)?;
    if state
        .storage
        .update_post_stamped(
            &post,
            targets.as_deref(),
            change.as_ref(),
            false,
            &events,
            &stamped,
        )
        .await?
        .is_none()
    {
        return Err(not_found(&id));
    }
    if !events.is_empty() {
        state.outbox.wake();
    }
    let views = state.storage.targets(&caller.workspace_id, &id).await?;
    Ok(Json(view_full(&post, &views, &media)))
}

/// The accounts of the post's targets that still go out (not cancelled).
async fn live_accounts(
    state: &AppState,
    workspace_id: &str,
    post_id: &str,
) -> Result<Vec<Account>, Problem> {
    let targets = state.storage.targets(workspace_id, post_id).await?;
    let accounts = state.storage.accounts(workspace_id).await?;
    Ok(accounts
        .into_iter()
        .filter(|a| {
            targets
                .iter()
                .any(|t| t.target.account_id == a.id && t.target.state != TargetState::Cancelled)
        })
        .collect())
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let Some(mut post) = state.storage.post(&caller.workspace_id, &id).await? else {
        return Err(not_found(&id));
    };
    let now = now_ms();
    post.updated_ms = now.max(post.updated_ms);
    // A post whose fields are stamped (synced, or made through the API) is deleted as a
    // device deletes one: its `deleted` field stamped and carried to the devices.
    let stamped = if state
        .storage
        .post_fields(&caller.workspace_id, &id)
        .await?
        .is_empty()
    {
        Vec::new()
    } else {
        let written = Written {
            deleted: Some(true),
            ..Written::default()
        };
        post_media::stamps(&post, &written, post.updated_ms, &caller.user_id)?
    };
    if state
        .storage
        .delete_post_stamped(&post, now, &stamped)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
