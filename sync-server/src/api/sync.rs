//! `/api/v1/sync/versions`: each workspace's linear chain of versions ("sync-server/" in
//! docs/ARCHITECTURE.md, issue 13).
//!
//! A device pushes its operations (`postctl_core::sync::Operation`) as one version with the
//! `parent` it last saw; the version is added only if that parent is still the latest
//! (else 409 `version-conflict` naming the latest: the device pulls, applies, and pushes
//! again). An added version is applied to the workspace's posts in the same transaction,
//! field by field, last writer wins by (time, device), so `GET /api/v1/posts` shows what
//! devices synced. Pulling pages through the versions after one the device has.
//!
//! The firm rule: what the publisher owns only flows down. Operations on a post the
//! server has started publishing (a target publishing, published or uncertain) are left
//! out of the version and answered in `rejected`, each with the post's fields and
//! targets as the server has them; the rest is stored. When nothing is left, no version
//! is added (200, `id` null).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use postctl_core::sync::{Edit, Operation, Version};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::approvals::{approval_needed, caller_name};
use super::extract::{Body, Query};
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::approvals::requested;
use crate::storage::{AddVersion, FieldWrite, PostState, PostWrite, SyncApproval, SyncVersion};

const PAGE_DEFAULT: u32 = 100;
const PAGE_MAX: u32 = 1000;
/// The most operations one version may carry.
const OPERATIONS_MAX: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Push {
    /// The latest version the device had; `null` when it had none.
    parent: Option<String>,
    /// The pushing device's id; every operation carries it.
    device: String,
    /// The id the device gives this batch of operations (it derives it from them), so a
    /// push retried after a sync was cut off is answered with the version it made
    /// instead of adding the same operations again. Optional: older devices send none.
    #[serde(default)]
    batch: Option<String>,
    operations: Vec<Operation>,
}

/// Whether `batch` is a batch id a device may give: 1 to 64 letters, digits and '-'.
fn batch_ok(batch: &str) -> bool {
    !batch.is_empty()
        && batch.len() <= 64
        && batch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// What a version writes to the posts table. Labels travel between devices in the
/// version but the server's posts have no labels yet: they are only stamped. `targets`
/// makes and cancels the post's targets on the workspace's accounts of those names.
fn writes(operations: &[Operation]) -> Result<Vec<FieldWrite>, Problem> {
    let mut writes = Vec::with_capacity(operations.len());
    for (index, op) in operations.iter().enumerate() {
        let edit = op
            .edit()
            .map_err(|e| Problem::invalid_field(format!("`operations[{index}]`: {e}")))?;
        let change = match edit {
            Edit::Created { created_ms } => PostWrite::Create { created_ms },
            Edit::Body(body) => PostWrite::Body(body),
            Edit::Title(title) => PostWrite::Title(title),
            Edit::Labels(_) => PostWrite::Labels,
            Edit::Media(_) => PostWrite::Media,
            Edit::Targets(names) => PostWrite::Targets(names),
            Edit::Schedule(schedule) => PostWrite::Schedule {
                state: if schedule.kind == "none" {
                    PostState::Draft
                } else {
                    PostState::Scheduled
                },
                scheduled_ms: schedule.due_ms.filter(|_| schedule.kind != "none"),
                zone: schedule.zone,
            },
            Edit::Deleted(deleted) => PostWrite::Deleted(deleted),
        };
        writes.push(FieldWrite {
            post_id: op.post.clone(),
            at_ms: op.at_ms,
            device: op.device.clone(),
            change,
            value: op.value.to_string(),
        });
    }
    Ok(writes)
}

/// What the server tells a device about a post whose edits it refused because publishing
/// started: the post's fields as the chain last wrote them (with their stamps) and its
/// targets' states, so the device takes the server's state and keeps its edit aside.
async fn refused_post(state: &AppState, workspace_id: &str, post: &str) -> Result<Value, Problem> {
    let fields = state.storage.post_fields(workspace_id, post).await?;
    let targets = state.storage.targets(workspace_id, post).await?;
    let fields: Vec<Value> = fields
        .into_iter()
        .filter_map(|f| {
            let value: Value = serde_json::from_str(&f.value).ok()?;
            Some(json!({
                "field": f.field,
                "value": value,
                "at_ms": f.at_ms,
                "device": f.device,
            }))
        })
        .collect();
    let states: Vec<&str> = targets.iter().map(|t| t.target.state.as_str()).collect();
    Ok(json!({
        "post": post,
        "reason": format!(
            "the server has started publishing this post ({}): what is publishing or published \
             is not edited",
            states.join(", ")
        ),
        "fields": fields,
        "targets": targets.iter().map(|t| json!({
            "account": t.account_name,
            "network": t.network,
            "state": t.target.state.as_str(),
        })).collect::<Vec<_>>(),
    }))
}

pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    Body(push): Body<Push>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    if push.device.is_empty() || push.device.len() > 64 {
        return Err(Problem::invalid_field(
            "`device` must be the pushing device's id (1 to 64 characters)",
        ));
    }
    if push.batch.as_deref().is_some_and(|b| !batch_ok(b)) {
        return Err(Problem::invalid_field(
            "`batch` must be 1 to 64 letters, digits and '-'",
        ));
    }
    if push.operations.is_empty() {
        return Err(Problem::invalid_field(
            "`operations` is empty: push only when there is something to push",
        ));
    }
    if push.operations.len() > OPERATIONS_MAX {
        return Err(Problem::invalid_field(format!(
            "`operations` holds {} operations; push at most {OPERATIONS_MAX} a version",
            push.operations.len()
        )));
    }
    if let Some(index) = push
        .operations
        .iter()
        .position(|op| op.device != push.device)
    {
        return Err(Problem::invalid_field(format!(
            "`operations[{index}]` names device {:?}, not the pushing device {:?}: a device \
             pushes its own operations only",
            push.operations[index].device, push.device
        )));
    }
    // Checked whole before anything is stored: a bad operation refuses the version.
    writes(&push.operations)?;
    let mut operations = push.operations;
    let mut refused: BTreeSet<String> = BTreeSet::new();
    // What an editor of a workspace that requires approval syncs waits for an approver,
    // as what they schedule through the API does.
    let approval = match approval_needed(&state, &caller).await? {
        Some(approvers) => Some(SyncApproval {
            author: caller_name(&state, &caller).await?,
            approvers,
            events_of: |post, author, approvers| vec![requested(post, author, approvers)],
        }),
        None => None,
    };
    // Each round either stores the version or leaves out more posts that started
    // publishing, so it ends.
    let (id, seq) = loop {
        if operations.is_empty() {
            break (None, None);
        }
        let writes = writes(&operations)?;
        let payload = serde_json::to_string(&operations).map_err(|e| {
            tracing::error!("could not write a version's payload: {e}");
            Problem::internal()
        })?;
        let version = SyncVersion {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: caller.workspace_id.clone(),
            parent_id: push.parent.clone(),
            device: push.device.clone(),
            author_id: caller.user_id.clone(),
            created_ms: now_ms(),
            payload,
            batch_id: push.batch.clone(),
        };
        let added = match &approval {
            Some(ask) => {
                state
                    .storage
                    .add_version_awaiting(&version, &writes, ask)
                    .await?
            }
            None => state.storage.add_version(&version, &writes).await?,
        };
        match added {
            AddVersion::Added { seq } => {
                if approval.is_some() {
                    state.outbox.wake();
                }
                break (Some(version.id), Some(seq));
            }
            AddVersion::Duplicate { id, seq } => {
                return retried(
                    &state,
                    &caller.workspace_id,
                    &push.parent,
                    &operations,
                    id,
                    seq,
                )
                .await;
            }
            AddVersion::Stale { latest } => {
                return Err(Problem::version_conflict(latest.as_deref()));
            }
            AddVersion::ForeignPost { post_id } => {
                return Err(Problem::conflict(format!(
                    "post {post_id} is in another workspace on this server, and a post lives in \
                     one workspace: this database synced with that workspace before (or holds a \
                     copy of its posts); sync it with that workspace, and give this one a \
                     database of its own"
                )));
            }
            AddVersion::Started { posts } => {
                refused.extend(posts);
                operations.retain(|op| !refused.contains(&op.post));
            }
        }
    };
    let mut rejected = Vec::with_capacity(refused.len());
    for post in &refused {
        rejected.push(refused_post(&state, &caller.workspace_id, post).await?);
    }
    let status = if id.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "id": id,
            "parent": push.parent,
            "seq": seq,
            "operations": operations.len(),
            "rejected": rejected,
        })),
    ))
}

/// The answer to a push of a batch the workspace already has (the device did not hear
/// the first answer, or its sync was cut off before marking it): that version, nothing
/// added, and the posts of the batch the server has started publishing, as refused (the
/// first push left them out of the version for that reason, and they stay started).
async fn retried(
    state: &AppState,
    workspace_id: &str,
    parent: &Option<String>,
    operations: &[Operation],
    id: String,
    seq: i64,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let posts: BTreeSet<&str> = operations
        .iter()
        .filter(|op| op.field != postctl_core::sync::Field::Created)
        .map(|op| op.post.as_str())
        .collect();
    let mut rejected = Vec::new();
    let mut refused = 0;
    for post in posts {
        let targets = state.storage.targets(workspace_id, post).await?;
        if targets
            .iter()
            .any(|t| crate::storage::STARTED.contains(&t.target.state))
        {
            refused += operations.iter().filter(|op| op.post == post).count();
            rejected.push(refused_post(state, workspace_id, post).await?);
        }
    }
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": id,
            "parent": parent,
            "seq": seq,
            "operations": operations.len() - refused,
            "rejected": rejected,
            "duplicate": true,
        })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pull {
    /// The last version the device has; absent to start from the first.
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    /// The newest target change the device has (`targets_until` of its last pull, UTC
    /// ms); the last page answers the targets changed after it.
    #[serde(default)]
    targets_since: Option<i64>,
}

/// The most target changes one pull answers; the rest come with the next.
const TARGETS_MAX: u32 = 1000;

/// What the publisher owns, as it flows down: a target's state, the network's URL of its
/// first part, its attempts and last error.
fn target_down(t: &crate::storage::TargetView) -> Value {
    let parts: Value = serde_json::from_str(&t.target.parts).unwrap_or(Value::Null);
    json!({
        "post": t.target.post_id,
        "account": t.account_name,
        "network": t.network,
        "state": t.target.state.as_str(),
        "due_ms": t.target.due_ms,
        "url": parts.get(0).and_then(|p| p.get("url")).cloned().unwrap_or(Value::Null),
        "attempt_count": t.target.attempt_count,
        "last_error": t.target.last_error,
        "updated_ms": t.target.updated_ms,
    })
}

pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    Query(pull): Query<Pull>,
) -> Result<Json<Value>, Problem> {
    let limit = pull.limit.unwrap_or(PAGE_DEFAULT);
    if limit == 0 || limit > PAGE_MAX {
        return Err(Problem::invalid_field(format!(
            "`limit` must be 1 to {PAGE_MAX}"
        )));
    }
    let since = pull.since.as_deref().filter(|s| !s.is_empty());
    let mut stored = state
        .storage
        .versions_after(&caller.workspace_id, since, limit + 1)
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "there is no version {:?} in this workspace; pull from the first version by \
                 leaving out `since`",
                since.unwrap_or_default()
            ))
        })?;
    let more = stored.len() > limit as usize;
    stored.truncate(limit as usize);
    let mut versions = Vec::with_capacity(stored.len());
    for v in stored {
        let operations: Vec<Operation> = serde_json::from_str(&v.payload).map_err(|e| {
            tracing::error!("version {} has a damaged payload: {e}", v.id);
            Problem::internal()
        })?;
        versions.push(Version {
            id: v.id,
            parent: v.parent_id,
            device: v.device,
            created_ms: v.created_ms,
            operations,
        });
    }
    let latest = state.storage.latest_version(&caller.workspace_id).await?;
    // The accounts posts can go to here, so a device can say which names it sends that
    // the server cannot publish to yet (credentials never: only names and networks).
    let accounts = state.storage.accounts(&caller.workspace_id).await?;
    // The last page carries what the publisher did since the device last heard.
    let since_ms = pull.targets_since.unwrap_or(0);
    let (targets, targets_until) = if more {
        (Vec::new(), since_ms)
    } else {
        let changed = state
            .storage
            .targets_changed(&caller.workspace_id, since_ms, TARGETS_MAX)
            .await?;
        let newest = changed.last().map_or(since_ms, |t| t.target.updated_ms);
        // A full page may stop inside one millisecond: the next pull reads it again.
        let until = if changed.len() == TARGETS_MAX as usize {
            (newest - 1).max(since_ms)
        } else {
            newest
        };
        (changed.iter().map(target_down).collect::<Vec<_>>(), until)
    };
    Ok(Json(json!({
        "versions": versions,
        "more": more,
        "latest": latest,
        "targets": targets,
        "targets_until": targets_until,
        "accounts": accounts.iter().map(|a| json!({
            "name": a.name,
            "network": a.network,
        })).collect::<Vec<_>>(),
    })))
}
