//! The server's posting queue, in the words of the local one (`postctl queue`): each
//! account has weekly slots in an IANA zone ("mon-fri 09:00,13:00" in Europe/Berlin),
//! parsed and walked by core (`time::parse_weekly_rules`, `queue::next_free_slot`), and
//! a queued post takes the next slot that no live post holds.
//!
//! Slots belong to the account, as locally: an account is one audience on one network, and
//! its best times are its own (`postctl queue slots suggest` reads them per account).
//!
//! A feed or trigger with `queue` makes one post for all its accounts, at one time: the
//! first account's next slot (its rules, its zone) that none of the post's accounts holds
//! already. Only the first account needs slots. The slot is picked in the transaction that
//! stores the post, with the accounts' rows locked on PostgreSQL (`FOR NO KEY UPDATE`, in
//! id order, so two processes queueing for one account wait for each other; SQLite's
//! IMMEDIATE transaction is the lock there), so two posts never get one slot.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use postctl_core::queue::{HORIZON_WEEKS, next_free_slot};
use postctl_core::time::{parse_weekly_rules, parse_zone};
use serde::Serialize;

use super::{ApiField, Event, Post, StorageError, Target, TargetState};

/// An account's weekly queue slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueSlots {
    pub account_id: String,
    pub workspace_id: String,
    /// Core's weekly rules in their canonical form, joined by "; ".
    pub rules: String,
    /// The IANA zone the slot times are in.
    pub tz: String,
    pub updated_ms: i64,
}

/// The events of a post once its time is decided (they carry the time).
pub type PostEvents = Arc<dyn Fn(&Post) -> Vec<Event> + Send + Sync>;

/// The stamped fields of a post the server stores, made of the post as it is stored, so a
/// queued post's stamped schedule is the slot its transaction chose: the API's
/// (`api::posts::stamps_of`) and a feed's or a trigger's ([`Made::stamps`](super::Made::stamps)).
pub type PostStamps = Arc<dyn Fn(&Post) -> Result<Vec<ApiField>, StorageError> + Send + Sync>;

/// A post that takes the next free queue slot after `now_ms`, with the events it makes
/// there.
#[derive(Clone)]
pub struct Queued {
    pub now_ms: i64,
    pub events: PostEvents,
}

impl fmt::Debug for Queued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queued")
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

/// The target states that hold their due time on an account's queue: core's
/// `HOLD_SLOT` (going out, or gone out) and, on the server, awaiting approval (the post
/// keeps its time while an approver looks at it).
pub const HOLD_SLOT: &[TargetState] = &[
    TargetState::Scheduled,
    TargetState::WaitingRetry,
    TargetState::Publishing,
    TargetState::Published,
    TargetState::AwaitingApproval,
];

/// The SQL both storages read an account's held times with (`?1` workspace, `?2`
/// account, `?3` from, `?4` a post whose own times do not count: the one being queued,
/// which may move within its own slot; `""` for none).
pub(super) fn taken_sql() -> String {
    format!(
        "SELECT DISTINCT due_ms FROM targets
         WHERE workspace_id = ?1 AND account_id = ?2 AND due_ms >= ?3 AND post_id <> ?4
           AND state IN {}",
        TargetState::sql(HOLD_SLOT)
    )
}

pub(super) const SLOT_COLUMNS: &str = "account_id, workspace_id, rules, tz, updated_ms";

/// What to tell someone whose account has no slots.
pub fn no_slots_message(account: &str) -> String {
    format!(
        "account {account} has no queue slots; set them first with \
         `postctl queue slots set {account} \"mon-fri 09:00,13:00\"` \
         (or PUT /api/v1/accounts/{{id}}/queue)"
    )
}

/// The slot a queued post takes: `first`'s next slot after `now_ms` that is not in
/// `taken` (the times the post's accounts hold). `first_name` names the account in
/// the error when it has no slots, or none free within core's horizon.
pub fn pick(
    first: Option<&QueueSlots>,
    first_name: &str,
    taken: &[i64],
    now_ms: i64,
) -> Result<i64, StorageError> {
    let Some(slots) = first else {
        return Err(StorageError::NoQueueSlot(no_slots_message(first_name)));
    };
    // Stored slots were parsed when set; a failure here is a damaged row.
    let rules = parse_weekly_rules(&slots.rules)
        .map_err(|e| StorageError::Database(format!("stored queue slots: {e}")))?;
    let tz = parse_zone(&slots.tz)
        .map_err(|e| StorageError::Database(format!("stored queue zone: {e}")))?;
    let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let taken: Vec<DateTime<Utc>> = taken.iter().map(|ms| at(*ms)).collect();
    next_free_slot(&rules, tz, at(now_ms), &taken)
        .map(|slot| slot.timestamp_millis())
        .ok_or_else(|| {
            StorageError::NoQueueSlot(format!(
                "account {first_name} has no free queue slot in the next {HORIZON_WEEKS} weeks; \
                 add slots with `postctl queue slots set {first_name} ...`"
            ))
        })
}

/// A queued post as it is stored: the post and its targets at their slot, with its events.
pub(super) type Placed = (Post, Vec<Target>, Vec<Event>);

/// `post` and `targets` due at `due_ms` (drafts stay drafts), the post's time written in
/// the queue's `zone`, with `queued`'s events.
pub(super) fn place(
    post: &Post,
    targets: &[Target],
    due_ms: i64,
    zone: &str,
    queued: &Queued,
) -> Placed {
    let mut post = post.clone();
    post.scheduled_ms = Some(due_ms);
    post.zone = zone.to_string();
    let targets = targets
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if t.due_ms.is_some() {
                t.due_ms = Some(due_ms);
            }
            t
        })
        .collect();
    let events = (queued.events)(&post);
    (post, targets, events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(rules: &str) -> QueueSlots {
        QueueSlots {
            account_id: "a".into(),
            workspace_id: "w".into(),
            rules: rules.into(),
            tz: "Europe/Berlin".into(),
            updated_ms: 0,
        }
    }

    #[test]
    fn the_first_accounts_next_slot_not_held() {
        // Thursday 2026-11-26 12:00 UTC = 13:00 in Berlin.
        let now = 1_795_694_400_000;
        let fri_9 = 1_795_766_400_000; // 2026-11-27 08:00 UTC
        let fri_13 = fri_9 + 4 * 3_600_000;
        let s = slots("mon-fri 09:00,13:00");
        assert_eq!(pick(Some(&s), "masto", &[], now).expect("a slot"), fri_9);
        assert_eq!(
            pick(Some(&s), "masto", &[fri_9], now).expect("a slot"),
            fri_13
        );
        let none = pick(None, "masto", &[], now)
            .expect_err("no slots")
            .to_string();
        assert!(none.contains("postctl queue slots set masto"), "{none}");
    }
}
