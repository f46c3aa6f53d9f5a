//! Approvals: a workspace may require that posts scheduled by its editors wait
//! (`awaiting_approval`, their time kept) until an owner, an admin or a named approver
//! approves them (`api/approvals.rs`). Here: the events approvals emit, and the sweep each
//! `serve` runs, which marks a post still awaiting approval when its time comes as missed
//! (it is not published) and emits `post.missed` naming its author and its approvers.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::posts::{rfc3339, view};
use crate::storage::{ApprovalDecision, Event, Post, Storage, Unapproved};
use crate::webhooks::{self, EventType};

/// How often the sweep looks for posts whose time came before approval.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// How long after its time an approved post may still go out: later, it is missed (the
/// publisher's late limit, core's `publish::Policy`).
pub fn late_limit_ms() -> i64 {
    postctl_core::publish::Policy::default()
        .late_limit
        .num_milliseconds()
}

/// `approval.requested`: `author` scheduled `post`, which now waits for one of `approvers`.
pub fn requested(post: &Post, author: &str, approvers: &[String]) -> Event {
    webhooks::event(
        &post.workspace_id,
        EventType::ApprovalRequested,
        json!({ "post": view(post), "author": author, "approvers": approvers }),
    )
}

/// A decision as the API and the `approval.decided` event show it.
pub fn decision_view(d: &ApprovalDecision) -> Value {
    json!({
        "id": d.id,
        "decision": d.decision.as_str(),
        "by": d.user_name,
        "by_id": d.user_id,
        "comment": d.comment,
        "at": rfc3339(d.created_ms),
    })
}

/// `approval.decided`: an approver approved or rejected `post`.
pub fn decided(post: &Post, decision: &ApprovalDecision) -> Event {
    webhooks::event(
        &post.workspace_id,
        EventType::ApprovalDecided,
        json!({ "post": view(post), "decision": decision_view(decision) }),
    )
}

/// `post.missed` for a post whose time passed while it awaited approval: who wrote it and
/// who could have approved it, so both can be told.
pub fn missed_events(unapproved: &Unapproved, _now_ms: i64) -> Vec<Event> {
    vec![webhooks::event(
        &unapproved.post.workspace_id,
        EventType::PostMissed,
        json!({
            "post": view(&unapproved.post),
            "reason": "not_approved",
            "accounts": unapproved.accounts,
            "author": unapproved.author_name,
            "approvers": unapproved.approvers,
        }),
    )]
}

/// One sweep: posts awaiting approval whose time came are missed, with their events.
pub async fn sweep_once(storage: &dyn Storage, now_ms: i64) -> usize {
    match storage.miss_unapproved(now_ms, missed_events).await {
        Ok(missed) => {
            for u in &missed {
                tracing::info!(
                    post = %u.post.id,
                    workspace = %u.post.workspace_id,
                    "a post's time came before it was approved: marked missed, not published"
                );
            }
            missed.len()
        }
        Err(e) => {
            tracing::warn!("the approval sweep failed (it runs again shortly): {e}");
            0
        }
    }
}

/// The loop `serve` spawns; it wakes the webhook worker when the sweep recorded events.
pub async fn sweep(storage: Arc<dyn Storage>, outbox: Arc<crate::webhooks::worker::Outbox>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        let now_ms = chrono::Utc::now().timestamp_millis();
        if sweep_once(storage.as_ref(), now_ms).await > 0 {
            outbox.wake();
        }
    }
}
