//! Approvals: a workspace may require that posts scheduled by its editors wait
//! (`awaiting_approval`, their time kept) until an owner, an admin or a named approver
//! approves them (`api/approvals.rs`). Here: the events approvals emit, and the sweep each
//! `serve` runs, which marks a post still awaiting approval when its time comes as missed
//! (it is not published) and emits `post.missed` naming its author and its approvers.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::posts::{rfc3339, view};
use crate::storage::{
    ApprovalDecision, ApprovalSettings, Event, Member, Post, PostEvents, Result, Storage, Target,
    TargetState, Unapproved,
};
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

/// Whether a post made without a person at the keyboard (by a trigger or a feed) waits
/// for approval: when the workspace requires it and any of `makers` (the trigger's or
/// feed's owner, who is the post's author, and whoever fired a generic trigger) is not a
/// member who may approve. An owner who left the workspace counts as one who may not.
pub fn made_post_waits(settings: &ApprovalSettings, members: &[Member], makers: &[&str]) -> bool {
    settings.require_approval
        && makers.iter().any(|maker| {
            members
                .iter()
                .find(|m| m.user_id == *maker)
                .is_none_or(|m| settings.needs_approval(&m.user_id, m.role))
        })
}

/// How a trigger or a feed makes `post` (scheduled) on `targets`: as they are, with
/// `post.scheduled`; or, when it waits for approval ([`made_post_waits`]), with its
/// targets awaiting approval and `approval.requested` naming the author and the approvers.
/// The events are a function of the post, as a queued post's time is decided when it is
/// stored (`storage::Queued`).
pub async fn made_post(
    storage: &dyn Storage,
    post: &Post,
    targets: Vec<Target>,
    makers: &[&str],
) -> Result<(Vec<Target>, PostEvents)> {
    let scheduled: PostEvents = Arc::new(|post: &Post| crate::api::posts::scheduled_event(post));
    let settings = storage.approval_settings(&post.workspace_id).await?;
    if !settings.require_approval {
        return Ok((targets, scheduled));
    }
    let members = storage.members(&post.workspace_id).await?;
    if !made_post_waits(&settings, &members, makers) {
        return Ok((targets, scheduled));
    }
    let author = members
        .iter()
        .find(|m| m.user_id == post.author_id)
        .map(|m| m.user_name.clone())
        .unwrap_or_default();
    let approvers = crate::api::approvals::approver_names(&members, &settings);
    let targets = targets
        .into_iter()
        .map(|mut t| {
            if t.state == TargetState::Scheduled {
                t.state = TargetState::AwaitingApproval;
            }
            t
        })
        .collect();
    let events: PostEvents =
        Arc::new(move |post: &Post| vec![requested(post, &author, &approvers)]);
    Ok((targets, events))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Role;

    fn member(id: &str, role: Role) -> Member {
        Member {
            user_id: id.into(),
            user_name: id.into(),
            role,
        }
    }

    #[test]
    fn made_posts_wait_unless_every_maker_may_approve() {
        let members = [
            member("owner", Role::Owner),
            member("admin", Role::Admin),
            member("editor", Role::Editor),
            member("approver", Role::Editor),
        ];
        let mut settings = ApprovalSettings {
            require_approval: true,
            approvers: vec![members[3].clone()],
        };
        let cases: &[(&[&str], bool)] = &[
            (&["owner"], false),
            (&["admin"], false),
            (&["approver"], false),
            (&["editor"], true),
            (&["owner", "editor"], true),
            (&["owner", "admin"], false),
            (&["gone"], true),
        ];
        for (makers, waits) in cases {
            assert_eq!(
                made_post_waits(&settings, &members, makers),
                *waits,
                "{makers:?}"
            );
        }
        settings.require_approval = false;
        assert!(!made_post_waits(&settings, &members, &["editor", "gone"]));
    }
}
