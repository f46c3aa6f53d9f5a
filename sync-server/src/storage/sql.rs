//! SQL text both storages share (written with SQLite's `?N` parameters; [`pg`] turns them
//! into PostgreSQL's `$N`), and the values the publisher's statements bind.

use super::{Finish, PublishAttempt, SealedKind, Takeover, TargetState};

/// `targets` columns in the order `target_row` reads them (prefix `t.`).
pub(crate) const TARGET_COLUMNS: &str = "t.id, t.post_id, t.account_id, t.workspace_id, t.state, \
     t.due_ms, t.next_attempt_ms, t.attempt_count, t.lease_owner, t.lease_expires_ms, t.parts, \
     t.planned_parts, t.in_flight, t.in_flight_ms, t.last_error, t.created_ms, t.updated_ms";
/// The same columns, unprefixed, for INSERT.
pub(crate) const TARGET_INSERT: &str = "id, post_id, account_id, workspace_id, state, due_ms, \
     next_attempt_ms, attempt_count, lease_owner, lease_expires_ms, parts, planned_parts, \
     in_flight, in_flight_ms, last_error, created_ms, updated_ms";
pub(crate) const TARGET_WIDTH: usize = 17;
/// `accounts` columns in the order `account_row` reads them (prefix `a.`).
pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.workspace_id, a.name, a.network, a.base_url, \
     a.handle, a.settings, a.credentials, a.created_ms";
pub(crate) const ACCOUNT_INSERT: &str =
    "id, workspace_id, name, network, base_url, handle, settings, credentials, created_ms";
pub(crate) const ACCOUNT_WIDTH: usize = 9;
/// `posts` columns for a join (prefix `p.`), in the order the post readers read them.
pub(crate) const POST_JOIN_COLUMNS: &str = "p.id, p.workspace_id, p.author_id, p.title, p.body, \
     p.state, p.scheduled_ms, p.zone, p.created_ms, p.updated_ms";

/// SQLite's `?N` parameters as PostgreSQL's `$N`. The shared statements hold no other `?`.
pub(crate) fn pg(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A target `t` due at `now` (a parameter): waiting and its time has come, or held by a
/// publisher whose lease ran out.
pub(crate) fn due_sql(now: &str) -> String {
    format!(
        "((t.state IN {waiting} AND coalesce(t.next_attempt_ms, t.due_ms) <= {now})
          OR (t.state = '{publishing}' AND t.lease_expires_ms < {now}))",
        waiting = TargetState::sql(TargetState::WAITING),
        publishing = TargetState::Publishing.as_str(),
    )
}

/// The account of target `t` is not waiting out a rate limit at `now`.
pub(crate) fn account_ready_sql(now: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM account_waits w
                     WHERE w.account_id = t.account_id AND w.until_ms > {now})"
    )
}

/// The earliest time a waiting target is due or a lease runs out.
pub(crate) fn next_due_sql() -> String {
    format!(
        "SELECT min(x) FROM (
            SELECT min(coalesce(next_attempt_ms, due_ms)) AS x FROM targets
            WHERE state IN {waiting}
            UNION ALL
            SELECT min(lease_expires_ms) AS x FROM targets WHERE state = '{publishing}') m",
        waiting = TargetState::sql(TargetState::WAITING),
        publishing = TargetState::Publishing.as_str(),
    )
}

/// Every sealed value, by kind: `SELECT owner, value`.
pub(crate) const SEALED_SELECTS: &[(SealedKind, &str)] = &[
    (
        SealedKind::AccountCredentials,
        "SELECT id, credentials FROM accounts WHERE credentials <> '' ORDER BY id",
    ),
    (
        SealedKind::TotpSecret,
        "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id",
    ),
    (
        SealedKind::TotpPending,
        "SELECT id, totp_pending FROM users WHERE totp_pending IS NOT NULL ORDER BY id",
    ),
    (
        SealedKind::WebhookSecret,
        "SELECT id, secret FROM webhooks ORDER BY id",
    ),
    (
        SealedKind::WebhookOldSecret,
        "SELECT id, old_secret FROM webhooks WHERE old_secret IS NOT NULL ORDER BY id",
    ),
    (
        SealedKind::TriggerSecret,
        "SELECT id, secret FROM triggers WHERE secret IS NOT NULL ORDER BY id",
    ),
    (
        SealedKind::ChannelSecret,
        "SELECT id, secret FROM notification_channels WHERE secret IS NOT NULL ORDER BY id",
    ),
];

/// Replaces one sealed value (`?1` owner, `?2` old value, `?3` new value) if unchanged.
pub(crate) fn sealed_update(kind: SealedKind) -> &'static str {
    match kind {
        SealedKind::AccountCredentials => {
            "UPDATE accounts SET credentials = ?3 WHERE id = ?1 AND credentials = ?2"
        }
        SealedKind::TotpSecret => {
            "UPDATE users SET totp_secret = ?3 WHERE id = ?1 AND totp_secret = ?2"
        }
        SealedKind::TotpPending => {
            "UPDATE users SET totp_pending = ?3 WHERE id = ?1 AND totp_pending = ?2"
        }
        SealedKind::WebhookSecret => {
            "UPDATE webhooks SET secret = ?3 WHERE id = ?1 AND secret = ?2"
        }
        SealedKind::WebhookOldSecret => {
            "UPDATE webhooks SET old_secret = ?3 WHERE id = ?1 AND old_secret = ?2"
        }
        SealedKind::TriggerSecret => {
            "UPDATE triggers SET secret = ?3 WHERE id = ?1 AND secret = ?2"
        }
        SealedKind::ChannelSecret => {
            "UPDATE notification_channels SET secret = ?3 WHERE id = ?1 AND secret = ?2"
        }
    }
}

/// The attempt a claimer logs for a publisher that stopped while `part` was on its way.
pub(crate) fn interrupted_attempt(
    target_id: &str,
    part: u32,
    since_ms: i64,
    now_ms: i64,
    fate: Takeover,
) -> PublishAttempt {
    let then = match fate {
        Takeover::Resend => "it is sent again under the same idempotency key",
        Takeover::Uncertain => {
            "the network cannot be asked again safely: say what became of it with resolve"
        }
    };
    PublishAttempt {
        target_id: target_id.to_string(),
        part,
        started_ms: since_ms,
        ended_ms: now_ms,
        outcome: "interrupted".into(),
        http_status: None,
        error: Some(format!(
            "the publisher stopped (crash or kill) while part {} was on its way and its lease \
             ran out; the network's answer is unknown: {then}",
            part + 1
        )),
    }
}

/// What `finish_target` writes for a [`Finish`].
pub(crate) struct FinishColumns {
    /// The new state; `None` for a release (back to what it waited as).
    pub state: Option<&'static str>,
    pub error: Option<String>,
    pub next_attempt_ms: Option<i64>,
    /// Attempts to add to the count.
    pub count: i64,
    /// The part in flight is settled (cleared): published, failed for good, or to be
    /// retried after the network answered (the attempt has an HTTP status). A retry after
    /// no answer (a timeout) keeps it noted: the part may be on the network.
    pub settled: bool,
}

impl FinishColumns {
    pub fn of(finish: &Finish, attempt: Option<&PublishAttempt>) -> FinishColumns {
        let (next_attempt_ms, count) = match finish {
            Finish::Retry {
                at, count_attempt, ..
            } => (Some(at.timestamp_millis()), i64::from(*count_attempt)),
            Finish::Release => (None, 0),
            _ => (None, 1),
        };
        FinishColumns {
            state: match finish {
                Finish::Release => None,
                other => Some(other.state(false).as_str()),
            },
            error: finish.error().map(str::to_string),
            next_attempt_ms,
            count,
            settled: match finish {
                Finish::Published | Finish::Failed { .. } => true,
                Finish::Retry { .. } => attempt.is_some_and(|a| a.http_status.is_some()),
                Finish::Uncertain { .. } | Finish::Release => false,
            },
        }
    }
}

/// The parts JSON with the confirmed `part` at index `index` (later ones dropped).
pub(crate) fn add_part(parts: &str, index: u32, part: serde_json::Value) -> String {
    let mut list: Vec<serde_json::Value> = serde_json::from_str(parts).unwrap_or_default();
    list.truncate(index as usize);
    list.push(part);
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}
