//! SQL text both storages share (written with SQLite's `?N` parameters; [`pg`] turns them
//! into PostgreSQL's `$N`), and the values the publisher's statements bind.

use chrono::{DateTime, Utc};
use postctl_core::network::Network;

use super::{Circuit, CircuitState, Finish, PublishAttempt, SealedKind, Takeover, TargetState};

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
/// The notification channels that post through a workspace's account, whose address is
/// the account's id (`ChannelKind::through_account`).
pub(crate) const ACCOUNT_CHANNEL_KINDS: &str = "('slack', 'discord', 'matrix')";

pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.workspace_id, a.name, a.network, a.base_url, \
     a.handle, a.settings, a.credentials, a.created_ms";
pub(crate) const ACCOUNT_INSERT: &str =
    "id, workspace_id, name, network, base_url, handle, settings, credentials, created_ms";
pub(crate) const ACCOUNT_WIDTH: usize = 9;
/// `posts` columns for a join (prefix `p.`), in the order the post readers read them.
pub(crate) const POST_JOIN_WIDTH: usize = 10;
pub(crate) const POST_JOIN_COLUMNS: &str = "p.id, p.workspace_id, p.author_id, p.title, p.body, \
     p.state, p.scheduled_ms, p.zone, p.created_ms, p.updated_ms";

/// The post's `media` field (the value sync and the API stamp in `post_field_stamps`)
/// joined to a target `t` as `m.value`, so the claim hands out a target with its files and
/// publishing it needs no second read.
pub(crate) const MEDIA_JOIN: &str = "LEFT JOIN post_field_stamps m
     ON m.workspace_id = t.workspace_id AND m.post_id = t.post_id AND m.field = 'media'";

/// The post's `media` field (`?1` workspace, `?2` post), as [`MEDIA_JOIN`] joins it.
pub(crate) const POST_MEDIA: &str = "SELECT value FROM post_field_stamps
     WHERE workspace_id = ?1 AND post_id = ?2 AND field = 'media'";

/// A post field the API writes (`?1` workspace, `?2` post, `?3` field, `?4` time, `?5`
/// device, `?6` the value as JSON), stamped as sync stamps a device's write: a person's
/// edit through the API is the field's latest value, so its stamp is at least 1 ms after
/// the one it replaces (as a device's local edit is, `Tx::record` in core).
pub(crate) const API_STAMP: &str =
    "INSERT INTO post_field_stamps (workspace_id, post_id, field, at_ms, device, value)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (workspace_id, post_id, field) DO UPDATE
         SET at_ms = CASE WHEN excluded.at_ms > post_field_stamps.at_ms
                          THEN excluded.at_ms ELSE post_field_stamps.at_ms + 1 END,
             device = excluded.device, value = excluded.value
     RETURNING at_ms";

/// Appends the version that carries the API's write to a workspace's sync chain (`?1` id,
/// `?2` workspace, `?3` device, `?4` author, `?5` time, `?6` payload) after its latest
/// version, in one statement: parent and position are read together, and the position's
/// uniqueness is the compare the push path relies on too. Returns the position, or nothing
/// when a concurrent push took it first (PostgreSQL, read committed: read again and retry;
/// the next statement sees that version).
pub(crate) const API_VERSION: &str = "INSERT INTO sync_versions
         (id, workspace_id, parent_id, device, author_id, created_ms, payload, batch_id, seq)
     SELECT ?1, ?2,
            (SELECT v.id FROM sync_versions v WHERE v.workspace_id = ?2
             ORDER BY v.seq DESC LIMIT 1),
            ?3, ?4, ?5, ?6, NULL,
            COALESCE((SELECT MAX(v.seq) FROM sync_versions v WHERE v.workspace_id = ?2), 0) + 1
     WHERE true
     ON CONFLICT (workspace_id, seq) DO NOTHING
     RETURNING seq";

/// The payload of the version an API write appends: a `created` operation first when
/// `created` (a post made through the API), then each stamped field with the stamp it
/// got (`stamps`: the field's `post_field_stamps.at_ms` after the write), as a device's
/// push carries them.
pub(crate) fn api_payload(
    p: &super::Post,
    created: bool,
    fields: &[super::ApiField],
    stamps: &[i64],
) -> String {
    use postctl_core::sync::{Field, Operation};
    let mut ops = Vec::with_capacity(fields.len() + 1);
    if created {
        ops.push(Operation {
            post: p.id.clone(),
            field: Field::Created,
            value: serde_json::json!({ "created_ms": p.created_ms }),
            at_ms: p.created_ms,
            device: fields.first().map(|f| f.device.clone()).unwrap_or_default(),
        });
    }
    for (f, at_ms) in fields.iter().zip(stamps) {
        let Some(field) = Field::parse(f.field) else {
            continue;
        };
        ops.push(Operation {
            post: p.id.clone(),
            field,
            value: serde_json::from_str(&f.value).unwrap_or(serde_json::Value::Null),
            at_ms: *at_ms,
            device: f.device.clone(),
        });
    }
    serde_json::to_string(&ops).unwrap_or_else(|_| "[]".to_string())
}

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

/// The accounts whose targets are held (ids): those that need signing in again, and those
/// on an open circuit (their network is taken as down; only its probe takes their targets).
pub(crate) const HELD_ACCOUNTS: &str = "SELECT id FROM accounts WHERE needs_sign_in IS NOT NULL
    UNION SELECT a.id FROM accounts a JOIN circuits c
        ON c.network = a.network AND c.base_url = coalesce(a.base_url, '')
    WHERE c.opened_ms IS NOT NULL";

/// The account of target `t` is not waiting out a rate limit at `now`, and not held.
pub(crate) fn account_ready_sql(now: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM account_waits w
                     WHERE w.account_id = t.account_id AND w.until_ms > {now})
         AND t.account_id NOT IN ({HELD_ACCOUNTS})"
    )
}

/// The account of target `t` is not being published for by another claimer: no target of
/// it is held under a live lease by an owner other than `owner`. So with several processes
/// an account's targets still go out one after another, in their order; a claimer that
/// stopped frees the account when its lease runs out.
pub(crate) fn not_claimed_elsewhere_sql(now: &str, owner: &str) -> String {
    format!(
        "t.account_id NOT IN (SELECT o.account_id FROM targets o
             WHERE o.state = '{publishing}' AND o.lease_expires_ms >= {now}
               AND o.lease_owner <> {owner})",
        publishing = TargetState::Publishing.as_str(),
    )
}

/// Target `t` is of post `param` when that is not NULL.
pub(crate) fn only_post_sql(param: &str) -> String {
    format!("(CAST({param} AS TEXT) IS NULL OR t.post_id = {param})")
}

/// The earliest time a waiting target of an account not held is due or a lease runs out
/// (open circuits' probe times are added by [`probe_times_sql`]).
pub(crate) fn next_due_sql() -> String {
    format!(
        "SELECT min(x) FROM (
            SELECT min(coalesce(next_attempt_ms, due_ms)) AS x FROM targets
            WHERE state IN {waiting} AND account_id NOT IN ({HELD_ACCOUNTS})
            UNION ALL
            SELECT min(lease_expires_ms) AS x FROM targets WHERE state = '{publishing}') m",
        waiting = TargetState::sql(TargetState::WAITING),
        publishing = TargetState::Publishing.as_str(),
    )
}

/// [`next_due_sql`] after `?1`, leaving out the accounts `skip` (a condition on `t`).
pub(crate) fn next_due_after_sql(skip: &str) -> String {
    format!(
        "SELECT min(x) FROM (
            SELECT min(coalesce(t.next_attempt_ms, t.due_ms)) AS x FROM targets t
            WHERE t.state IN {waiting} AND coalesce(t.next_attempt_ms, t.due_ms) > ?1
              AND {skip} AND t.account_id NOT IN ({HELD_ACCOUNTS})
            UNION ALL
            SELECT min(t.lease_expires_ms) AS x FROM targets t
            WHERE t.state = '{publishing}' AND t.lease_expires_ms > ?1 AND {skip}) m",
        waiting = TargetState::sql(TargetState::WAITING),
        publishing = TargetState::Publishing.as_str(),
    )
}

/// Each open circuit's probe timing: next probe, running probe's target and lease end, and
/// the earliest due time of a waiting target on it (accounts not needing sign-in).
pub(crate) fn probe_times_sql() -> String {
    format!(
        "SELECT c.next_probe_ms, c.probe_target, c.probe_until_ms,
            (SELECT min(coalesce(t.next_attempt_ms, t.due_ms)) FROM targets t
             JOIN accounts a ON a.id = t.account_id
             WHERE t.state IN {waiting} AND a.needs_sign_in IS NULL
               AND a.network = c.network AND coalesce(a.base_url, '') = c.base_url)
         FROM circuits c WHERE c.opened_ms IS NOT NULL",
        waiting = TargetState::sql(TargetState::WAITING),
    )
}

/// When an open circuit may next be probed, from a [`probe_times_sql`] row: its next probe
/// time (or the running probe's lease end, if later), not before a target on it is due.
pub(crate) fn probe_time(
    next_probe: Option<i64>,
    probe_target: Option<String>,
    probe_until: Option<i64>,
    earliest: Option<i64>,
) -> Option<i64> {
    let earliest = earliest?;
    let next = next_probe?;
    let free = match probe_target {
        Some(_) => next.max(probe_until.unwrap_or(0)),
        None => next,
    };
    Some(free.max(earliest))
}

/// Marks scheduled targets due before `?2` missed (at `?1`), of post `?3` when given, not
/// of held accounts.
pub(crate) fn mark_missed_sql() -> String {
    format!(
        "UPDATE targets SET state = '{missed}', updated_ms = ?1,
            last_error = 'not published in time: the server was not publishing when it was due'
         WHERE state = '{scheduled}' AND due_ms < ?2
           AND (CAST(?3 AS TEXT) IS NULL OR post_id = ?3)
           AND account_id NOT IN ({HELD_ACCOUNTS})
         RETURNING id, post_id, workspace_id, account_id, due_ms",
        missed = TargetState::Missed.as_str(),
        scheduled = TargetState::Scheduled.as_str(),
    )
}

/// Open circuits whose probe may go at `?1`: its time has come and no probe holds an
/// unexpired lease.
pub(crate) const PROBE_READY: &str = "SELECT network, base_url FROM circuits
    WHERE opened_ms IS NOT NULL AND next_probe_ms <= ?1
      AND (probe_target IS NULL OR probe_until_ms < ?1)
    ORDER BY opened_ms";

/// The probe of the circuit (`?4` network, `?5` base URL) at `?1`: its earliest due target,
/// of post `?2` if given, not of the accounts `skip`.
pub(crate) fn probe_target_sql(skip: &str) -> String {
    format!(
        "SELECT t.id, t.state = '{publishing}' FROM targets t
         JOIN accounts a ON a.id = t.account_id
         WHERE {due} AND {only_post} AND {skip}
           AND a.needs_sign_in IS NULL
           AND a.network = ?4 AND coalesce(a.base_url, '') = ?5
         ORDER BY t.due_ms, t.id LIMIT 1",
        publishing = TargetState::Publishing.as_str(),
        due = due_sql("?1"),
        only_post = only_post_sql("?2"),
    )
}

/// `circuits` columns in the order [`circuit_state`] reads them.
pub(crate) const CIRCUIT_COLUMNS: &str =
    "network, base_url, failures, opened_ms, probes, next_probe_ms, last_error";

/// A circuits row as read.
pub(crate) type CircuitRaw = (
    String,
    String,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
);

/// A circuit's state from its row; `None` for a network this binary does not know.
pub(crate) fn circuit_state(raw: CircuitRaw) -> Option<CircuitState> {
    let (network, base_url, failures, opened, probes, next_probe, last_error) = raw;
    let network: Network = network.parse().ok()?;
    let from_ms = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    Some(CircuitState {
        circuit: Circuit { network, base_url },
        failures: serde_json::from_str(&failures).unwrap_or_default(),
        opened: opened.map(from_ms),
        probes: u32::try_from(probes).unwrap_or(u32::MAX),
        next_probe: next_probe.map(from_ms),
        last_error,
    })
}

/// Writes a circuit's state (`?1`..`?7` in [`CIRCUIT_COLUMNS`] order).
pub(crate) const CIRCUIT_UPSERT: &str = "INSERT INTO circuits (network, base_url, failures,
        opened_ms, probes, next_probe_ms, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (network, base_url) DO UPDATE SET failures = excluded.failures,
        opened_ms = excluded.opened_ms, probes = excluded.probes,
        next_probe_ms = excluded.next_probe_ms, last_error = excluded.last_error";

/// The values [`CIRCUIT_UPSERT`] binds for a state.
pub(crate) fn circuit_values(
    state: &CircuitState,
) -> (
    String,
    String,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
) {
    (
        state.circuit.network.name().to_string(),
        state.circuit.base_url.clone(),
        serde_json::to_string(&state.failures).unwrap_or_else(|_| "[]".into()),
        state.opened.map(|t| t.timestamp_millis()),
        i64::from(state.probes),
        state.next_probe.map(|t| t.timestamp_millis()),
        state.last_error.clone(),
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
    (
        SealedKind::AiKey,
        "SELECT workspace_id, api_key FROM workspace_ai WHERE api_key IS NOT NULL ORDER BY workspace_id",
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
        SealedKind::AiKey => {
            "UPDATE workspace_ai SET api_key = ?3 WHERE workspace_id = ?1 AND api_key = ?2"
        }
    }
}

/// The attempt a claimer logs for a publisher that stopped while `part` was on its way;
/// `fate` is what the storage decided, `None` when the publish engine decides.
pub(crate) fn interrupted_attempt(
    target_id: &str,
    part: u32,
    since_ms: i64,
    now_ms: i64,
    fate: Option<Takeover>,
) -> PublishAttempt {
    let then = match fate {
        Some(Takeover::Resend) => "it is sent again under the same idempotency key",
        Some(Takeover::Uncertain) => {
            "the network cannot be asked again safely: say what became of it with resolve"
        }
        None => "the publisher that took it over decides by the network's idempotency",
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
        in_doubt: true,
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
    /// retried after the network answered (the attempt is not in doubt). A retry after no
    /// answer (a timeout) keeps it noted: the part may be on the network.
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
                Finish::Retry { .. } => attempt.is_some_and(|a| !a.in_doubt),
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

/// A target gets a new time (`?1` id, `?2` the scheduled state, `?3` due, `?4` now); one
/// awaiting approval keeps awaiting (`?5`).
pub(crate) const SCHEDULE_TARGET: &str = "UPDATE targets SET
     state = CASE WHEN state = ?5 THEN state ELSE ?2 END, due_ms = ?3,
     next_attempt_ms = NULL, updated_ms = ?4 WHERE id = ?1";

/// An approved target (`?1` id) is scheduled at its time, or missed when that time is
/// before `?2` (more than the late limit ago); `?3` now.
pub(crate) const APPROVE_TARGET: &str = "UPDATE targets SET
     state = CASE WHEN due_ms < ?2 THEN 'missed' ELSE 'scheduled' END,
     last_error = CASE WHEN due_ms < ?2
         THEN 'approved more than the late limit after its time: not published' ELSE NULL END,
     next_attempt_ms = NULL, updated_ms = ?3 WHERE id = ?1";

/// The error a target missed for want of approval keeps.
pub(crate) const NOT_APPROVED: &str = "its time passed before it was approved: not published";

/// The ids and post ids of targets awaiting approval whose time came by `?1`.
pub(crate) fn unapproved_due_sql() -> String {
    format!(
        "SELECT t.id, t.post_id FROM targets t WHERE t.state = '{}' AND t.due_ms <= ?1
         ORDER BY t.post_id, t.id",
        TargetState::AwaitingApproval.as_str()
    )
}
/// Accounts waiting out a rate limit past `?1` with targets waiting to retry: account id,
/// until, reason, when the first can go, how many.
pub(crate) fn held_accounts_sql() -> String {
    format!(
        "SELECT w.account_id, w.until_ms, w.reason,
                min(CASE WHEN t.next_attempt_ms > w.until_ms THEN t.next_attempt_ms
                         ELSE w.until_ms END),
                count(*)
         FROM account_waits w JOIN targets t ON t.account_id = w.account_id
         WHERE w.until_ms > ?1 AND t.state = '{}' AND t.next_attempt_ms IS NOT NULL
         GROUP BY w.account_id, w.until_ms, w.reason
         ORDER BY 4, w.account_id",
        TargetState::WaitingRetry.as_str()
    )
}

/// The newest change to any target: new targets and every state change move it.
pub(crate) const DATA_VERSION: &str = "SELECT coalesce(max(updated_ms), 0) FROM targets";

/// Withdraws target `?1` at `?2` after its parts were deleted from the network.
pub(crate) fn mark_unpublished_sql() -> String {
    format!(
        "UPDATE targets SET state = '{}', updated_ms = ?2,
            last_error = 'deleted from the network (unpublished)'
         WHERE id = ?1 AND state <> '{}'",
        TargetState::Cancelled.as_str(),
        TargetState::Publishing.as_str()
    )
}

/// Takes account `?1`'s token-refresh lock for holder `?2` until `?4`, unless another
/// holder's lock is good at `?3`.
pub(crate) const TAKE_SIGN_IN_LOCK: &str = "UPDATE accounts SET sign_in_holder = ?2,
        sign_in_until_ms = ?4
     WHERE id = ?1 AND (sign_in_holder IS NULL OR sign_in_until_ms <= ?3
                        OR sign_in_holder = ?2)";

/// Gives account `?1`'s token-refresh lock back if holder `?2` has it.
pub(crate) const RELEASE_SIGN_IN_LOCK: &str = "UPDATE accounts SET sign_in_holder = NULL,
        sign_in_until_ms = NULL WHERE id = ?1 AND sign_in_holder = ?2";

/// A workspace's model settings (`?1` workspace … `?6` max tokens, `?7` time), replacing
/// what it had.
pub(crate) const SET_AI_SETTINGS: &str =
    "INSERT INTO workspace_ai (workspace_id, provider, model, base_url, api_key, max_tokens, updated_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (workspace_id) DO UPDATE
     SET provider = excluded.provider, model = excluded.model, base_url = excluded.base_url,
         api_key = excluded.api_key, max_tokens = excluded.max_tokens,
         updated_ms = excluded.updated_ms";

/// A workspace's model settings (`?1`), in [`AiSettings`](super::AiSettings)'s order.
pub(crate) const AI_SETTINGS: &str =
    "SELECT workspace_id, provider, model, base_url, api_key, max_tokens, updated_ms
     FROM workspace_ai WHERE workspace_id = ?1";

/// Account `?1` signed in again at `?2`: it is no longer held, and its waiting targets
/// count as changed, so sleeping publishers look again.
pub(crate) const SIGNED_IN_AGAIN: &str =
    "UPDATE accounts SET needs_sign_in = NULL WHERE id = ?1 AND needs_sign_in IS NOT NULL";

/// [`SIGNED_IN_AGAIN`]'s touch of the account's waiting targets.
pub(crate) fn touch_waiting_sql() -> String {
    format!(
        "UPDATE targets SET updated_ms = ?2 WHERE account_id = ?1 AND state IN {waiting}",
        waiting = TargetState::sql(TargetState::WAITING),
    )
}

/// Published targets whose counters are due at `?1` and not being read by anyone (never
/// read: no `metric_schedule` row yet), accounts needing sign-in left out, oldest due
/// first, at most `?2`: id, account, post, parts, published (ms), last read (ms).
pub(crate) fn metrics_due_sql() -> String {
    format!(
        "SELECT t.id, t.account_id, t.post_id, t.parts,
                coalesce(m.published_ms, t.updated_ms), m.last_read_ms
         FROM targets t LEFT JOIN metric_schedule m ON m.target_id = t.id
         WHERE t.state = '{published}'
           AND t.account_id NOT IN (SELECT id FROM accounts WHERE needs_sign_in IS NOT NULL)
           AND (m.target_id IS NULL
                OR (m.next_ms IS NOT NULL AND m.next_ms <= ?1
                    AND (m.lease_until_ms IS NULL OR m.lease_until_ms <= ?1)))
         ORDER BY coalesce(m.next_ms, 0), t.id LIMIT ?2",
        published = postctl_core::model::TargetState::Published.as_str()
    )
}

/// Takes target `?1`'s collection for `?4` until `?5` (published at `?2`, claimed at
/// `?3`) when it is still due and free: one row changed, or none when another took it.
pub(crate) const TAKE_METRICS: &str = "INSERT INTO metric_schedule
        (target_id, published_ms, last_read_ms, next_ms, lease_owner, lease_until_ms)
    VALUES (?1, ?2, NULL, ?3, ?4, ?5)
    ON CONFLICT (target_id) DO UPDATE SET lease_owner = ?4, lease_until_ms = ?5
    WHERE metric_schedule.next_ms IS NOT NULL AND metric_schedule.next_ms <= ?3
      AND (metric_schedule.lease_until_ms IS NULL OR metric_schedule.lease_until_ms <= ?3)";

/// Ends `?2`'s collection of target `?1`: read at `?3` (NULL: nothing read), next at
/// `?4` (NULL: never again).
pub(crate) const FINISH_METRICS: &str = "UPDATE metric_schedule SET
        last_read_ms = coalesce(?3, last_read_ms), next_ms = ?4,
        lease_owner = NULL, lease_until_ms = NULL
    WHERE target_id = ?1 AND lease_owner = ?2";

/// A reading: target `?1`, at `?2`, counters `?3`.
pub(crate) const ADD_READING: &str = "INSERT INTO metric_readings (target_id, read_ms, counters)
    VALUES (?1, ?2, ?3) ON CONFLICT (target_id, read_ms) DO NOTHING";

/// The readings of post `?2`'s targets in workspace `?1`, by target and time.
pub(crate) const POST_READINGS: &str = "SELECT t.id, r.read_ms, r.counters
    FROM targets t JOIN metric_readings r ON r.target_id = t.id
    WHERE t.workspace_id = ?1 AND t.post_id = ?2
    ORDER BY t.id, r.read_ms";

/// Accounts whose figures are due at `?1` (never read, or `next_ms` passed) and free,
/// at most `?2`: not deleted, not needing sign-in.
pub(crate) const ACCOUNT_METRICS_DUE: &str = "SELECT a.id, m.last_read_ms
    FROM accounts a LEFT JOIN account_metric_schedule m ON m.account_id = a.id
    WHERE a.deleted_ms IS NULL AND a.needs_sign_in IS NULL
      AND (m.account_id IS NULL
           OR (m.next_ms IS NOT NULL AND m.next_ms <= ?1
               AND (m.lease_until_ms IS NULL OR m.lease_until_ms <= ?1)))
    ORDER BY coalesce(m.next_ms, 0), a.id LIMIT ?2";

/// Takes account `?1`'s figures for `?3` until `?4` (claimed at `?2`) when still due and
/// free: one row changed, or none when another took it.
pub(crate) const TAKE_ACCOUNT_METRICS: &str = "INSERT INTO account_metric_schedule
        (account_id, last_read_ms, next_ms, lease_owner, lease_until_ms)
    VALUES (?1, NULL, ?2, ?3, ?4)
    ON CONFLICT (account_id) DO UPDATE SET lease_owner = ?3, lease_until_ms = ?4
    WHERE account_metric_schedule.next_ms IS NOT NULL
      AND account_metric_schedule.next_ms <= ?2
      AND (account_metric_schedule.lease_until_ms IS NULL
           OR account_metric_schedule.lease_until_ms <= ?2)";

/// Ends `?2`'s reading of account `?1`: read at `?3` (NULL: nothing read), next at `?4`
/// (NULL: never again).
pub(crate) const FINISH_ACCOUNT_METRICS: &str = "UPDATE account_metric_schedule SET
        last_read_ms = coalesce(?3, last_read_ms), next_ms = ?4,
        lease_owner = NULL, lease_until_ms = NULL
    WHERE account_id = ?1 AND lease_owner = ?2";

/// An account's reading: account `?1`, at `?2`, counters `?3`.
pub(crate) const ADD_ACCOUNT_READING: &str = "INSERT INTO account_readings
        (account_id, read_ms, counters)
    VALUES (?1, ?2, ?3) ON CONFLICT (account_id, read_ms) DO NOTHING";

/// The readings of account `?2` of workspace `?1`, oldest first.
pub(crate) const ACCOUNT_READINGS: &str = "SELECT r.read_ms, r.counters
    FROM accounts a JOIN account_readings r ON r.account_id = a.id
    WHERE a.workspace_id = ?1 AND a.id = ?2
    ORDER BY r.read_ms";
// ---- Targets a synced post's fields make (`PostWrite::Targets`, issue 13).

/// Moves a synced post's draft, scheduled and awaiting targets to its new time (`?2`,
/// null for a draft): `?1` post, `?3` now. A target awaiting approval keeps awaiting (only
/// an approver's decision schedules it); unscheduled, it is a draft.
pub(crate) const SCHEDULE_SYNCED_TARGETS: &str =
    "UPDATE targets SET state = CASE WHEN CAST(?2 AS BIGINT) IS NULL THEN 'draft'
         WHEN state = 'awaiting_approval' THEN 'awaiting_approval'
         ELSE 'scheduled' END, due_ms = CAST(?2 AS BIGINT), updated_ms = ?3
     WHERE post_id = ?1 AND state IN ('draft', 'scheduled', 'awaiting_approval')";

/// Cancels a removed synced post's targets that may still be (awaiting approval too):
/// `?1` post, `?2` now.
pub(crate) fn cancel_synced_targets() -> String {
    format!(
        "UPDATE targets SET state = 'cancelled', updated_ms = ?2
         WHERE post_id = ?1 AND (state IN {} OR state = 'awaiting_approval')",
        TargetState::sql(TargetState::EDITABLE)
    )
}

/// Cancels one target (`?1`) at `?2`.
pub(crate) const CANCEL_TARGET: &str =
    "UPDATE targets SET state = 'cancelled', updated_ms = ?2 WHERE id = ?1";

/// Schedules a cancelled target (`?1`) again: state `?2`, due `?3`, at `?4`.
pub(crate) const REVIVE_TARGET: &str =
    "UPDATE targets SET state = ?2, due_ms = ?3, next_attempt_ms = NULL, attempt_count = 0,
         first_attempt_ms = NULL, last_error = NULL, updated_ms = ?4
     WHERE id = ?1 AND state = 'cancelled'";

/// The live posts of workspace `?1` whose synced `targets` value may name an account
/// (`?2`, from [`like_json_string`]): post id, the value, the post's state and time.
pub(crate) const POSTS_NAMING_ACCOUNT: &str =
    "SELECT s.post_id, s.value, p.state, p.scheduled_ms FROM post_field_stamps s
     JOIN posts p ON p.id = s.post_id AND p.workspace_id = s.workspace_id
     WHERE s.workspace_id = ?1 AND s.field = 'targets' AND p.deleted_ms IS NULL
       AND s.value LIKE ?2";

/// A LIKE pattern matching a JSON text that holds `name` as a string (a superset: the
/// caller checks the parsed value).
pub(crate) fn like_json_string(name: &str) -> String {
    let quoted = serde_json::to_string(name).unwrap_or_default();
    format!("%{quoted}%")
}

/// The state and due time of a target made now for a post in `post_state` at
/// `scheduled_ms`: scheduled at the post's time, or a draft.
pub(crate) fn synced_target_time(
    post_state: &str,
    scheduled_ms: Option<i64>,
) -> (TargetState, Option<i64>) {
    match scheduled_ms {
        Some(due) if post_state == "scheduled" => (TargetState::Scheduled, Some(due)),
        _ => (TargetState::Draft, None),
    }
}
