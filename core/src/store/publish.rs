//! What the publish engine reads and writes: claiming due targets under a lease, recording
//! each part as the network confirms it, finishing a target, and the attempt log.
//!
//! Consistency contract: a target is only ever changed by the owner of its unexpired lease
//! (every statement below has `lease_owner = ?owner` in its WHERE clause), and claiming is
//! a conditional UPDATE inside an IMMEDIATE transaction, so two publishers on one database
//! (the daemon and `postctl run-due`) never take the same target.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::states::{
    CANCELLED, MISSED, PENDING, PUBLISHED, PUBLISHING, RELEASED, RETRYABLE, SCHEDULED, UNCERTAIN,
    WAITING, WAITING_RETRY,
};
use super::{Store, Tx, from_ms, to_ms};
use crate::error::{Error, Result};
use crate::model::{Account, Finish, MediaRef, Schedule, TargetState, ThreadMode};

/// A target this publisher now holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub target_id: String,
    pub post_id: String,
    pub account: Account,
    pub body: String,
    pub media: Vec<MediaRef>,
    pub thread: ThreadMode,
    /// The parts already published, in order, as the adapter returned them (JSON); or why
    /// the stored record of them cannot be read (then nothing may be sent: part 1 would go
    /// out again).
    pub parts: std::result::Result<Vec<serde_json::Value>, String>,
    pub attempt_count: u32,
    pub first_attempt: Option<DateTime<Utc>>,
    pub due: DateTime<Utc>,
    /// The part whose fate is unknown: it was on its way when a publisher stopped (crash,
    /// kill, power loss), or the network's answer left it open and it waits to be sent
    /// again under the same idempotency key.
    pub interrupted_part: Option<usize>,
    /// When that part was first sent: a network honours a repeated request only for so
    /// long.
    pub interrupted_since: Option<DateTime<Utc>>,
    /// What the adapter noted on the way to that part before the request that posts it
    /// ([`Store::note_stage`]), for it to check instead of starting over.
    pub interrupted_stage: Option<serde_json::Value>,
    /// Claimed as the probe of an open circuit (its network taken as down): the one
    /// target that tests whether the network answers again.
    pub probe: bool,
}

/// What [`Store::claim_due`] claims, and for whom.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The publisher; it alone may change the claimed targets until the lease ends.
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    /// Scheduled targets due longer ago than this are `missed`, not claimed.
    pub late_limit: Duration,
    /// At most this many targets...
    pub limit: usize,
    /// ...and at most this many of one account, so that the leases of targets waiting
    /// behind an account's earlier ones do not run out before their turn.
    pub per_account: usize,
    /// Only this post's targets (`postctl post`), missed ones included.
    pub only_post: Option<&'a str>,
    /// Leave the targets of these accounts (ids) alone: the publisher is busy with them.
    pub skip_accounts: &'a [String],
}

/// An account that waits out a rate limit the network asked for, with targets waiting for
/// it (see [`Store::held_accounts`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldAccount {
    pub account: String,
    /// Until when the network asked it to wait.
    pub until: DateTime<Utc>,
    /// The network's reason, as recorded.
    pub reason: String,
    /// When its first waiting target can go: not before `until`.
    pub next: DateTime<Utc>,
    /// How many of its targets wait.
    pub targets: u32,
}

/// A scheduled target that was due too long ago to publish late.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missed {
    pub target_id: String,
    pub post_id: String,
    pub account: String,
    pub due: DateTime<Utc>,
}

/// How a publish attempt of a part ended, for the attempt log.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub part: usize,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// "published", "retry", "uncertain", "failed", "interrupted".
    pub outcome: &'static str,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// The part may have reached the network and was not confirmed: it stays noted as in
    /// flight, so that it is never sent again without the network's idempotency.
    pub in_doubt: bool,
}

/// What `postctl resolve` did to one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub account: String,
    /// The part (from 0) the user resolved.
    pub part: usize,
    /// How many parts are still to be sent (0: the target is published).
    pub to_send: usize,
}

/// One attempt, as `postctl status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub part: usize,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub outcome: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// One target in full, for `postctl status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetStatus {
    pub target_id: String,
    pub account: String,
    pub network: String,
    pub state: TargetState,
    pub due: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub attempt_count: u32,
    pub parts: Vec<serde_json::Value>,
    pub last_error: Option<String>,
    pub attempts: Vec<Attempt>,
    /// While `publishing`: when the publisher's claim runs out. A publisher that stopped
    /// (crash, kill) is taken over then.
    pub claim_expires: Option<DateTime<Utc>>,
    /// The part (from 0) on its way, or whose fate is unknown.
    pub part_in_flight: Option<usize>,
    /// Until when the network asked the account to wait (its rate limit), if later than
    /// now.
    pub account_waits_until: Option<DateTime<Utc>>,
}

/// Due now (`?1`): waiting and its time has come, or held by a publisher whose lease ran
/// out.
static DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "((state IN {waiting} AND coalesce(next_attempt_ms, due_ms) <= ?1)
          OR (state = '{PUBLISHING}' AND lease_expires_ms < ?1))",
        waiting = *WAITING,
    )
});

/// Up to `?3` due targets (`?1` is now), at most `?5` per account, of post `?2` if given,
/// not of the accounts in the JSON array `?4`; with whether each is taken over from a
/// publisher whose lease ran out. An account's targets are taken in the order they were
/// due, so a post that waited (for a retry, a rate limit) never goes out after a newer one.
/// Accounts whose posts are held until the user signs in again (migration 8): neither
/// claimed nor marked missed.
/// Accounts on an open circuit (migration 13: their network is taken as down) too: only
/// the circuit's probe takes their targets.
const HELD_ACCOUNTS: &str = "SELECT id FROM accounts WHERE needs_sign_in IS NOT NULL
    UNION SELECT a.id FROM accounts a JOIN circuits c
        ON c.network = a.network AND c.base_url = coalesce(a.base_url, '')
    WHERE c.opened_ms IS NOT NULL";

/// When each open circuit may next be probed (a column `t`): its next probe time, or the
/// end of the running probe's lease, and not before a target on it is due.
static PROBE_DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT max(CASE WHEN c.probe_target IS NOT NULL
                    THEN max(c.next_probe_ms, coalesce(c.probe_until_ms, 0))
                    ELSE c.next_probe_ms END,
                (SELECT min(coalesce(t.next_attempt_ms, t.due_ms)) FROM targets t
                 JOIN accounts a ON a.id = t.account_id
                 WHERE t.state IN {waiting} AND a.needs_sign_in IS NULL
                   AND a.network = c.network AND coalesce(a.base_url, '') = c.base_url)) AS t
         FROM circuits c WHERE c.opened_ms IS NOT NULL",
        waiting = *WAITING,
    )
});

/// Open circuits (`network`, `base_url`) whose probe may go at `?1`: its time has come and
/// no probe holds an unexpired lease.
const PROBE_READY: &str = "SELECT network, base_url FROM circuits
    WHERE opened_ms IS NOT NULL AND next_probe_ms <= ?1
      AND (probe_target IS NULL OR probe_until_ms < ?1)
    ORDER BY opened_ms";

/// The probe of circuit (`?4` network, `?5` base URL) at `?1`: its earliest due target
/// (the first of its account), of post `?2` if given, not of the accounts in `?3`.
static PROBE_TARGET: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT targets.id, targets.state = '{PUBLISHING}' FROM targets
         JOIN accounts a ON a.id = targets.account_id
         WHERE {due} AND (?2 IS NULL OR targets.post_id = ?2)
           AND targets.account_id NOT IN (SELECT value FROM json_each(?3))
           AND a.needs_sign_in IS NULL
           AND a.network = ?4 AND coalesce(a.base_url, '') = ?5
         ORDER BY targets.due_ms, targets.position, targets.id LIMIT 1",
        due = *DUE,
    )
});

fn claim_sql() -> String {
    format!(
        "SELECT id, taken_over FROM (
            SELECT id, coalesce(next_attempt_ms, due_ms) AS at,
                   state = '{PUBLISHING}' AS taken_over,
                   row_number() OVER (PARTITION BY account_id
                       ORDER BY due_ms, position, id) AS nth
            FROM targets WHERE {due} AND (?2 IS NULL OR post_id = ?2)
            AND account_id NOT IN (SELECT value FROM json_each(?4))
            AND account_id NOT IN ({held}))
         WHERE nth <= ?5 ORDER BY at LIMIT ?3",
        due = *DUE,
        held = HELD_ACCOUNTS
    )
}

/// The earliest time a target becomes due or its lease runs out. Both terms are read from
/// indexes (migration 4): `coalesce(next_attempt_ms, due_ms)` must stay written this way.
static NEXT_DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT min(t) FROM (
            SELECT min(coalesce(next_attempt_ms, due_ms)) AS t FROM targets
            WHERE state IN {waiting} AND account_id NOT IN ({HELD_ACCOUNTS})
            UNION ALL
            SELECT min(lease_expires_ms) FROM targets WHERE state = '{PUBLISHING}'
            UNION ALL
            SELECT t FROM ({probe}))",
        waiting = *WAITING,
        probe = *PROBE_DUE,
    )
});

impl Store {
    /// Marks scheduled targets due before `now - late_limit` as `missed`, then claims up to
    /// `limit` due targets (oldest first) for `owner` until `lease_until` (see [`Claim`]).
    /// Targets whose lease expired (their publisher died) are claimed again.
    pub fn claim_due(&mut self, claim: &Claim<'_>) -> Result<(Vec<Claimed>, Vec<Missed>)> {
        let Claim {
            owner,
            now,
            lease_until,
            late_limit,
            limit,
            per_account,
            only_post,
            skip_accounts,
        } = *claim;
        let skip = serde_json::to_string(skip_accounts).unwrap_or_else(|_| "[]".into());
        self.write(|tx| {
            if tx.is_linked()? {
                // A database linked to a server: the server publishes its posts (and
                // decides what was missed), never this device.
                return Ok((Vec::new(), Vec::new()));
            }
            let missed = tx.mark_missed(now, late_limit, only_post)?;
            let ids: Vec<(String, bool)> = {
                let mut stmt = tx.prepare_cached(&claim_sql()).map_err(|e| tx.error(e))?;
                let params = params![
                    to_ms(now),
                    only_post,
                    limit as i64,
                    skip,
                    per_account as i64
                ];
                stmt.query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(|e| tx.error(e))?
            };
            let mut claimed = Vec::with_capacity(ids.len());
            for (id, taken_over) in ids {
                if let Some(target) = tx.take(&id, taken_over, owner, now, lease_until)? {
                    claimed.push(target);
                }
            }
            // One probe per open circuit whose time has come (its targets were left out).
            let ready: Vec<(String, String)> = tx
                .prepare_cached(PROBE_READY)
                .and_then(|mut stmt| {
                    stmt.query_map([to_ms(now)], |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect()
                })
                .map_err(|e| tx.error(e))?;
            for (network, base_url) in ready {
                let probe: Option<(String, bool)> = tx
                    .prepare_cached(&PROBE_TARGET)
                    .and_then(|mut stmt| {
                        stmt.query_row(
                            params![to_ms(now), only_post, skip, network, base_url],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .optional()
                    })
                    .map_err(|e| tx.error(e))?;
                let Some((id, taken_over)) = probe else {
                    continue;
                };
                if let Some(mut target) = tx.take(&id, taken_over, owner, now, lease_until)? {
                    tx.execute(
                        "UPDATE circuits SET probe_target = ?3, probe_until_ms = ?4
                         WHERE network = ?1 AND base_url = ?2",
                        params![network, base_url, id, to_ms(lease_until)],
                    )
                    .map_err(|e| tx.error(e))?;
                    target.probe = true;
                    claimed.push(target);
                }
            }
            Ok((claimed, missed))
        })
    }

    /// Renews the lease and notes that `part` of `planned` parts is about to be sent, and
    /// since when (the first send of this part, when it is sent again). False when the
    /// lease was lost (another publisher took the target over): the caller must stop.
    pub fn begin_part(
        &mut self,
        target_id: &str,
        owner: &str,
        part: usize,
        planned: usize,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            let changed = tx
                .execute(
                    &format!(
                        "UPDATE targets SET
                            in_flight_stage = CASE WHEN in_flight = ?3 THEN in_flight_stage END,
                            in_flight_ms = CASE WHEN in_flight = ?3 AND in_flight_ms IS NOT NULL
                                THEN in_flight_ms ELSE ?6 END,
                            in_flight = ?3, lease_expires_ms = ?4, planned_parts = ?5
                         WHERE id = ?1 AND lease_owner = ?2 AND state = '{PUBLISHING}'"
                    ),
                    params![
                        target_id,
                        owner,
                        part as i64,
                        to_ms(lease_until),
                        planned as i64,
                        to_ms(tx.now)
                    ],
                )
                .map_err(|e| tx.error(e))?;
            Ok(changed == 1)
        })
    }

    /// Notes, durably, what the adapter sent on the way to the part in flight (Instagram's
    /// container id) before it sends the request that posts it. False when the lease was
    /// lost: the adapter must not post.
    pub fn note_stage(
        &mut self,
        target_id: &str,
        owner: &str,
        stage: &serde_json::Value,
    ) -> Result<bool> {
        let json = serde_json::to_string(stage).map_err(|e| Error::Internal(e.to_string()))?;
        self.write_durable(|tx| {
            let changed = tx
                .execute(
                    &format!(
                        "UPDATE targets SET in_flight_stage = ?3
                         WHERE id = ?1 AND lease_owner = ?2 AND state = '{PUBLISHING}'
                           AND in_flight IS NOT NULL"
                    ),
                    params![target_id, owner, json],
                )
                .map_err(|e| tx.error(e))?;
            Ok(changed == 1)
        })
    }

    /// Extends the lease of a target whose part is still on its way (a slow upload must
    /// not let another publisher take it over). False when the lease was lost.
    pub fn renew_lease(
        &mut self,
        target_id: &str,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            let changed = tx
                .execute(
                    &format!(
                        "UPDATE targets SET lease_expires_ms = ?3
                         WHERE id = ?1 AND lease_owner = ?2 AND state = '{PUBLISHING}'"
                    ),
                    params![target_id, owner, to_ms(lease_until)],
                )
                .map_err(|e| tx.error(e))?;
            Ok(changed == 1)
        })
    }

    /// Records a part the network confirmed, with its attempt, as soon as it is known.
    ///
    /// Durable: the transaction is synced to disk before this returns (`synchronous =
    /// FULL`), so a power cut right after cannot lose a part the network holds, which
    /// would be sent again.
    pub fn record_part(
        &mut self,
        target_id: &str,
        owner: &str,
        published: &serde_json::Value,
        attempt: &AttemptRecord,
    ) -> Result<()> {
        self.write_durable(|tx| {
            let parts: String = tx
                .query_row(
                    "SELECT parts FROM targets WHERE id = ?1 AND lease_owner = ?2",
                    params![target_id, owner],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| tx.error(e))?
                .ok_or_else(|| lost_lease(target_id))?;
            let mut parts = read_parts(&parts).map_err(Error::Internal)?;
            parts.truncate(attempt.part);
            parts.push(published.clone());
            let json = serde_json::to_string(&parts).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "UPDATE targets SET parts = ?3, in_flight = NULL, in_flight_ms = NULL, in_flight_stage = NULL, updated_ms = ?4
                 WHERE id = ?1 AND lease_owner = ?2",
                params![target_id, owner, json, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.insert_attempt(target_id, attempt)?;
            tx.record(
                "target",
                target_id,
                "part",
                &serde_json::json!({"index": attempt.part, "published": published}),
            )
        })
    }

    /// Ends this round for a held target and gives up the lease. A recurring post whose
    /// targets are all done gets its next occurrence created in the same transaction.
    ///
    /// The part in flight stays noted unless the target is published or `attempt` settled
    /// it (the network answered, and not in doubt): a part whose fate is unknown is never
    /// forgotten, whatever the target does next.
    pub fn finish_target(
        &mut self,
        target_id: &str,
        owner: &str,
        finish: &Finish,
        attempt: Option<&AttemptRecord>,
    ) -> Result<()> {
        self.write(|tx| {
            let now = to_ms(tx.now);
            let (next, count) = match finish {
                Finish::Retry {
                    at, count_attempt, ..
                } => (Some(to_ms(*at)), i64::from(*count_attempt)),
                Finish::Release => (None, 0),
                _ => (None, 1),
            };
            let error = finish.error();
            let settled = *finish == Finish::Published || attempt.is_some_and(|a| !a.in_doubt);
            let changed = if *finish == Finish::Release {
                // Back to what it was waiting as; a crash-interrupted part stays noted.
                tx.execute(
                    &format!(
                        "UPDATE targets SET state = {released},
                            lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ?3
                         WHERE id = ?1 AND lease_owner = ?2 AND state = '{PUBLISHING}'",
                        released = *RELEASED
                    ),
                    params![target_id, owner, now],
                )
            } else {
                tx.execute(
                    &format!(
                        "UPDATE targets SET state = ?3, last_error = ?4, next_attempt_ms = ?5,
                            attempt_count = attempt_count + ?6, lease_owner = NULL,
                            lease_expires_ms = NULL, updated_ms = ?7,
                            in_flight = CASE WHEN ?8 THEN NULL ELSE in_flight END,
                            in_flight_ms = CASE WHEN ?8 THEN NULL ELSE in_flight_ms END,
                            in_flight_stage = CASE WHEN ?8 THEN NULL ELSE in_flight_stage END
                         WHERE id = ?1 AND lease_owner = ?2 AND state = '{PUBLISHING}'"
                    ),
                    params![
                        target_id,
                        owner,
                        finish.state(false).as_str(),
                        error,
                        next,
                        count,
                        now,
                        settled
                    ],
                )
            }
            .map_err(|e| tx.error(e))?;
            if changed == 0 {
                return Err(lost_lease(target_id));
            }
            if let Some(attempt) = attempt {
                tx.insert_attempt(target_id, attempt)?;
            }
            // A probe that ended frees its circuit's probe slot.
            tx.execute(
                "UPDATE circuits SET probe_target = NULL, probe_until_ms = NULL
                 WHERE probe_target = ?1",
                [target_id],
            )
            .map_err(|e| tx.error(e))?;
            let state = match finish {
                Finish::Release => "release",
                other => other.state(false).as_str(),
            };
            tx.record(
                "target",
                target_id,
                "state",
                &serde_json::json!({"state": state, "error": error, "next_attempt_ms": next}),
            )?;
            tx.roll_recurring(target_id)
        })
    }

    /// Gives back every target `owner` holds that has no part in flight (shutdown).
    pub fn release_all(&mut self, owner: &str) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE targets SET state = {released},
                        lease_owner = NULL, lease_expires_ms = NULL
                     WHERE lease_owner = ?1 AND state = '{PUBLISHING}' AND in_flight IS NULL",
                    released = *RELEASED
                ),
                [owner],
            )
            .map_err(|e| tx.error(e))
        })
    }

    /// The earliest time a target becomes due (for the daemon's sleep), if any.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        if self.is_linked()? {
            return Ok(None);
        }
        self.conn()
            .query_row(&NEXT_DUE, [], |row| row.get::<_, Option<i64>>(0))
            .map(|ms| ms.map(from_ms))
            .map_err(|e| self.error(e))
    }

    /// The earliest time after `after` that a target not of `skip_accounts` (ids) becomes
    /// due or its lease runs out: when a publisher busy with those accounts should look
    /// again.
    pub fn next_due_after(
        &self,
        after: DateTime<Utc>,
        skip_accounts: &[String],
    ) -> Result<Option<DateTime<Utc>>> {
        if self.is_linked()? {
            return Ok(None);
        }
        let skip = serde_json::to_string(skip_accounts).unwrap_or_else(|_| "[]".into());
        self.conn()
            .prepare_cached(&format!(
                "SELECT min(t) FROM (
                    SELECT min(coalesce(next_attempt_ms, due_ms)) AS t FROM targets
                    WHERE state IN {waiting}
                      AND coalesce(next_attempt_ms, due_ms) > ?1
                      AND account_id NOT IN (SELECT value FROM json_each(?2))
                      AND account_id NOT IN ({HELD_ACCOUNTS})
                    UNION ALL
                    SELECT min(lease_expires_ms) FROM targets
                    WHERE state = '{PUBLISHING}' AND lease_expires_ms > ?1
                      AND account_id NOT IN (SELECT value FROM json_each(?2))
                    UNION ALL
                    SELECT t FROM ({probe}) WHERE t > ?1)",
                waiting = *WAITING,
                probe = *PROBE_DUE,
            ))
            .and_then(|mut stmt| {
                stmt.query_row(params![to_ms(after), skip], |row| {
                    row.get::<_, Option<i64>>(0)
                })
            })
            .map(|ms| ms.map(from_ms))
            .map_err(|e| self.error(e))
    }

    /// Records that the network asked an account to wait until `until` (its rate limit),
    /// for every publisher: the daemon, `run-due` and `post` all read it before sending.
    /// A wait already recorded that ends later is kept.
    pub fn hold_account(
        &mut self,
        account_id: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO account_waits (account_id, until_ms, reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id) DO UPDATE SET until_ms = excluded.until_ms,
                    reason = excluded.reason
                 WHERE excluded.until_ms > account_waits.until_ms",
                params![account_id, to_ms(until), reason],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// Until when an account must wait (if later than `now`), and the network's reason.
    pub fn account_wait(
        &self,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, String)>> {
        self.conn()
            .prepare_cached(
                "SELECT until_ms, reason FROM account_waits WHERE account_id = ?1 AND until_ms > ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![account_id, to_ms(now)], |row| {
                    Ok((from_ms(row.get(0)?), row.get(1)?))
                })
                .optional()
            })
            .map_err(|e| self.error(e))
    }

    /// The accounts the network asked to wait past `now` (their stored rate-limit wait)
    /// that have targets waiting to retry: nothing of theirs is due, and nothing will be
    /// until the wait is over. Soonest first.
    pub fn held_accounts(&self, now: DateTime<Utc>) -> Result<Vec<HeldAccount>> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT a.name, w.until_ms, w.reason, min(max(t.next_attempt_ms, w.until_ms)),
                        count(*)
                 FROM account_waits w
                 JOIN accounts a ON a.id = w.account_id
                 JOIN targets t ON t.account_id = w.account_id
                 WHERE w.until_ms > ?1 AND t.state = '{WAITING_RETRY}'
                   AND t.next_attempt_ms IS NOT NULL
                 GROUP BY w.account_id
                 ORDER BY 4, a.name"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([to_ms(now)], |row| {
                    Ok(HeldAccount {
                        account: row.get(0)?,
                        until: from_ms(row.get(1)?),
                        reason: row.get(2)?,
                        next: from_ms(row.get(3)?),
                        targets: row.get(4)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.error(e))
    }

    /// A counter that changes whenever another connection commits (the daemon's wake-up).
    pub fn data_version(&self) -> Result<i64> {
        self.conn()
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(|e| self.error(e))
    }

    /// Every target of a post with its parts and attempt log.
    pub fn target_status(&self, post_id: &str) -> Result<Vec<TargetStatus>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT t.id, a.name, a.network, t.state, t.due_ms, t.next_attempt_ms,
                        t.attempt_count, t.parts, t.last_error, t.lease_expires_ms, t.in_flight,
                        (SELECT w.until_ms FROM account_waits w
                         WHERE w.account_id = t.account_id AND w.until_ms > ?2)
                 FROM targets t JOIN accounts a ON a.id = t.account_id
                 WHERE t.post_id = ?1 ORDER BY t.position",
            )
            .map_err(|e| self.error(e))?;
        let mut targets: Vec<TargetStatus> = stmt
            .query_map(params![post_id, to_ms(self.clock().now())], |row| {
                let state: String = row.get(3)?;
                let parts: String = row.get(7)?;
                Ok(TargetStatus {
                    target_id: row.get(0)?,
                    account: row.get(1)?,
                    network: row.get(2)?,
                    state: state.parse().unwrap_or(TargetState::Failed),
                    due: row.get::<_, Option<i64>>(4)?.map(from_ms),
                    next_attempt: row.get::<_, Option<i64>>(5)?.map(from_ms),
                    attempt_count: row.get(6)?,
                    parts: serde_json::from_str(&parts).unwrap_or_default(),
                    last_error: row.get(8)?,
                    attempts: vec![],
                    claim_expires: row.get::<_, Option<i64>>(9)?.map(from_ms),
                    part_in_flight: row
                        .get::<_, Option<i64>>(10)?
                        .and_then(|p| usize::try_from(p).ok()),
                    account_waits_until: row.get::<_, Option<i64>>(11)?.map(from_ms),
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT part, started_ms, ended_ms, outcome, http_status, error
                 FROM attempts WHERE target_id = ?1 ORDER BY seq",
            )
            .map_err(|e| self.error(e))?;
        for target in &mut targets {
            target.attempts = stmt
                .query_map([&target.target_id], |row| {
                    Ok(Attempt {
                        part: row.get::<_, i64>(0)? as usize,
                        started: from_ms(row.get(1)?),
                        ended: from_ms(row.get(2)?),
                        outcome: row.get(3)?,
                        http_status: row.get(4)?,
                        error: row.get(5)?,
                    })
                })
                .and_then(|rows| rows.collect())
                .map_err(|e| self.error(e))?;
        }
        Ok(targets)
    }

    /// The targets of a post that have parts on their networks (published, or a thread cut
    /// short), for `postctl unpublish`.
    pub fn published_targets(
        &self,
        post_id: &str,
    ) -> Result<Vec<(String, Account, Vec<serde_json::Value>)>> {
        let rows: Vec<(String, String, String)> = {
            let mut stmt = self
                .conn()
                .prepare_cached(&format!(
                    "SELECT id, account_id, parts FROM targets
                     WHERE post_id = ?1 AND parts != '[]'
                       AND state NOT IN ('{PUBLISHING}', '{CANCELLED}')
                     ORDER BY position"
                ))
                .map_err(|e| self.error(e))?;
            stmt.query_map([post_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.error(e))?
        };
        let mut targets = Vec::with_capacity(rows.len());
        for (target_id, account_id, parts) in rows {
            let account = self.account_by_id(&account_id)?;
            targets.push((
                target_id,
                account,
                read_parts(&parts).map_err(Error::Internal)?,
            ));
        }
        Ok(targets)
    }

    /// Records that a target's parts were deleted from its network: it is withdrawn
    /// (`cancelled`), its parts kept as history, with a note saying so.
    pub fn mark_unpublished(&mut self, target_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE targets SET state = '{CANCELLED}', updated_ms = ?2,
                        last_error = 'deleted from the network with postctl unpublish'
                     WHERE id = ?1 AND state != '{PUBLISHING}'"
                ),
                params![target_id, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.record(
                "target",
                target_id,
                "state",
                &serde_json::json!({"state": CANCELLED, "unpublished": true}),
            )
        })
    }

    /// `postctl retry`: failed, missed and waiting targets of a post are due again now,
    /// with a fresh retry window. Returns the accounts retried.
    pub fn retry_post(&mut self, post_id: &str) -> Result<Vec<String>> {
        self.write(|tx| {
            let names = tx.names_in_states(post_id, TargetState::RETRYABLE)?;
            tx.execute(
                &format!(
                    "UPDATE targets SET state = '{SCHEDULED}', due_ms = ?2, next_attempt_ms = NULL,
                        attempt_count = 0, first_attempt_ms = NULL, updated_ms = ?2
                     WHERE post_id = ?1 AND state IN {retryable}",
                    retryable = *RETRYABLE
                ),
                params![post_id, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.record("post", post_id, "retry", &names)?;
            Ok(names)
        })
    }

    /// `postctl resolve`: the user says what became of the part of an `uncertain` target
    /// whose fate was unknown. Published (with the URL they found): that part is recorded,
    /// and a thread with parts still to send is due again now to continue after it; else
    /// the target is done. Not published: the target is due again now from that part on.
    pub fn resolve_uncertain(
        &mut self,
        post_id: &str,
        account: Option<&str>,
        published_url: Option<&str>,
    ) -> Result<Vec<Resolved>> {
        self.write(|tx| {
            let mut names = tx.names_in_states(post_id, &[TargetState::Uncertain])?;
            if let Some(account) = account {
                names.retain(|n| n == account);
            }
            if names.is_empty() {
                return Err(Error::Invalid(format!(
                    "post {post_id} has no uncertain target{}; see `postctl status {post_id}`",
                    account.map(|a| format!(" on {a}")).unwrap_or_default()
                )));
            }
            let mut resolved = Vec::with_capacity(names.len());
            for name in names {
                let account = tx.account(&name)?;
                let (parts, in_flight, planned): (String, Option<i64>, Option<i64>) = tx
                    .query_row(
                        "SELECT parts, in_flight, planned_parts FROM targets
                         WHERE post_id = ?1 AND account_id = ?2",
                        params![post_id, account.id],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .map_err(|e| tx.error(e))?;
                // An unreadable record is replaced by what the user says.
                let mut parts = read_parts(&parts).unwrap_or_default();
                let part = in_flight
                    .and_then(|p| usize::try_from(p).ok())
                    .unwrap_or(parts.len())
                    .min(parts.len());
                parts.truncate(part);
                let planned = planned.and_then(|n| usize::try_from(n).ok());
                let to_send = match published_url {
                    Some(url) => {
                        parts.push(serde_json::json!({
                            "id": id_from_url(url),
                            "url": url,
                            "extra": {"resolved_by_user": true}
                        }));
                        planned.map_or(0, |n| n.saturating_sub(parts.len()))
                    }
                    None => planned.map_or(1, |n| n.saturating_sub(parts.len()).max(1)),
                };
                let json = serde_json::to_string(&parts).map_err(|e| Error::Internal(e.to_string()))?;
                let state = if to_send == 0 { PUBLISHED } else { SCHEDULED };
                tx.execute(
                    &format!(
                        "UPDATE targets SET state = ?3, parts = ?4, due_ms = CASE WHEN ?3 = '{SCHEDULED}' THEN ?5 ELSE due_ms END,
                            next_attempt_ms = NULL, attempt_count = 0, first_attempt_ms = NULL,
                            in_flight = NULL, in_flight_ms = NULL, in_flight_stage = NULL, last_error = NULL, updated_ms = ?5
                         WHERE post_id = ?1 AND account_id = ?2 AND state = '{UNCERTAIN}'"
                    ),
                    params![post_id, account.id, state, json, to_ms(tx.now)],
                )
                .map_err(|e| tx.error(e))?;
                resolved.push(Resolved {
                    account: name,
                    part,
                    to_send,
                });
            }
            tx.record(
                "post",
                post_id,
                "resolve",
                &serde_json::json!({
                    "accounts": resolved.iter().map(|r| &r.account).collect::<Vec<_>>(),
                    "published": published_url
                }),
            )?;
            Ok(resolved)
        })
    }
}

/// A post's id on its network read from its URL, as far as it can be: the last segment of
/// the path, or of the fragment (matrix.to links). The next part of a resolved thread
/// replies to it.
fn id_from_url(url: &str) -> String {
    let without_query = url.split(['?']).next().unwrap_or(url);
    without_query
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|id| !id.is_empty() && !id.contains(':'))
        .unwrap_or(url)
        .to_string()
}

/// The stored record of a target's published parts, or why it cannot be read.
fn read_parts(json: &str) -> std::result::Result<Vec<serde_json::Value>, String> {
    serde_json::from_str(json).map_err(|e| {
        format!(
            "the record of the parts already published cannot be read ({e}), so postctl sends nothing that could repeat them; check the post on the network, then record what you find with `postctl resolve POST --published URL` or `--not-published`"
        )
    })
}

fn lost_lease(target_id: &str) -> Error {
    Error::Internal(format!(
        "target {target_id} is no longer held by this publisher (its lease expired and another publisher took it)"
    ))
}

impl Tx<'_> {
    /// Claims target `id` for `owner` until `lease_until` if it is still due at `now`
    /// (conditional, so a concurrent claim cannot double up), logging the attempt that a
    /// publisher whose lease ran out (`taken_over`) could not log.
    fn take(
        &self,
        id: &str,
        taken_over: bool,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Claimed>> {
        let tx = self;
        // Conditional: only if still due, so a concurrent claim cannot double up.
        let taken = tx
            .prepare_cached(&format!(
                "UPDATE targets SET state = '{PUBLISHING}', lease_owner = ?2,
                        lease_expires_ms = ?3, updated_ms = ?1,
                        first_attempt_ms = coalesce(first_attempt_ms, ?1)
                     WHERE id = ?4 AND {due}
                     RETURNING in_flight, in_flight_ms, in_flight_stage",
                due = *DUE
            ))
            .and_then(|mut stmt| {
                stmt.query_row(params![to_ms(now), owner, to_ms(lease_until), id], |row| {
                    Ok((
                        row.get::<_, Option<i64>>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, Option<String>>(2)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| tx.error(e))?;
        if let Some((in_flight, since, stage)) = taken {
            tx.record(
                "target",
                id,
                "state",
                &serde_json::json!({"state": PUBLISHING, "owner": owner}),
            )?;
            if let (true, Some(part)) = (taken_over, in_flight) {
                // The publisher that held it stopped mid-send: the attempt it
                // could not log is logged here.
                tx.insert_attempt(
                        id,
                        &AttemptRecord {
                            part: usize::try_from(part).unwrap_or_default(),
                            started: since.map_or(now, from_ms),
                            ended: now,
                            outcome: "interrupted",
                            http_status: None,
                            error: Some(
                                "postctl stopped (crash, kill or power loss) while this part was on its way; the network's answer is unknown".into(),
                            ),
                            in_doubt: true,
                        },
                    )?;
            }
            let mut target = tx.claimed(id, in_flight, since)?;
            target.interrupted_stage = stage.and_then(|s| serde_json::from_str(&s).ok());
            return Ok(Some(target));
        }
        Ok(None)
    }

    fn mark_missed(
        &self,
        now: DateTime<Utc>,
        late_limit: Duration,
        only_post: Option<&str>,
    ) -> Result<Vec<Missed>> {
        let cutoff = to_ms(now - late_limit);
        let mut stmt = self
            .prepare_cached(&format!(
                "UPDATE targets SET state = '{MISSED}', updated_ms = ?1,
                    last_error = 'not published in time: postctl was not running when it was due'
                 WHERE state = '{SCHEDULED}' AND due_ms < ?2 AND (?3 IS NULL OR post_id = ?3)
                   AND account_id NOT IN ({HELD_ACCOUNTS})
                 RETURNING id, post_id, account_id, due_ms"
            ))
            .map_err(|e| self.error(e))?;
        let rows: Vec<(String, String, String, i64)> = stmt
            .query_map(params![to_ms(now), cutoff, only_post], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        let mut missed = Vec::with_capacity(rows.len());
        for (target_id, post_id, account_id, due) in rows {
            let account: String = self
                .query_row(
                    "SELECT name FROM accounts WHERE id = ?1",
                    [&account_id],
                    |row| row.get(0),
                )
                .map_err(|e| self.error(e))?;
            self.record(
                "target",
                &target_id,
                "state",
                &serde_json::json!({"state": MISSED}),
            )?;
            missed.push(Missed {
                target_id,
                post_id,
                account,
                due: from_ms(due),
            });
        }
        Ok(missed)
    }

    fn claimed(
        &self,
        target_id: &str,
        in_flight: Option<i64>,
        since: Option<i64>,
    ) -> Result<Claimed> {
        let (post_id, account_id, parts, attempt_count, first, due, body, thread): (
            String,
            String,
            String,
            u32,
            Option<i64>,
            Option<i64>,
            String,
            String,
        ) = self
            .query_row(
                "SELECT t.post_id, t.account_id, t.parts, t.attempt_count, t.first_attempt_ms,
                        t.due_ms, p.body, p.thread
                 FROM targets t JOIN posts p ON p.id = t.post_id WHERE t.id = ?1",
                [target_id],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                    ))
                },
            )
            .map_err(|e| self.error(e))?;
        let account = self.account_by_id(&account_id)?;
        Ok(Claimed {
            target_id: target_id.to_string(),
            media: self.media_of(&post_id)?,
            post_id,
            account,
            body,
            thread: thread.parse().unwrap_or_default(),
            parts: read_parts(&parts),
            attempt_count,
            first_attempt: first.map(from_ms),
            due: due.map(from_ms).unwrap_or(self.now),
            interrupted_part: in_flight.and_then(|p| usize::try_from(p).ok()),
            interrupted_since: since.map(from_ms),
            interrupted_stage: None,
            probe: false,
        })
    }

    fn insert_attempt(&self, target_id: &str, attempt: &AttemptRecord) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO attempts (target_id, part, started_ms, ended_ms, outcome, http_status, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                target_id,
                attempt.part as i64,
                to_ms(attempt.started),
                to_ms(attempt.ended),
                attempt.outcome,
                attempt.http_status,
                attempt.error
            ])
        })
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    fn names_in_states(&self, post_id: &str, states: &[TargetState]) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut stmt = self
            .prepare_cached(
                "SELECT a.name, t.state FROM targets t JOIN accounts a ON a.id = t.account_id
                 WHERE t.post_id = ?1 ORDER BY t.position",
            )
            .map_err(|e| self.error(e))?;
        let rows: Vec<(String, String)> = stmt
            .query_map([post_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        for (name, state) in rows {
            if state.parse().is_ok_and(|state| states.contains(&state)) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// When every target of a recurring post has finished this occurrence, the next
    /// occurrence becomes a new post (so each occurrence keeps its own history).
    fn roll_recurring(&self, target_id: &str) -> Result<()> {
        let (post_id, schedule, rule, due, tz): (
            String,
            String,
            Option<String>,
            Option<i64>,
            String,
        ) = self
            .query_row(
                "SELECT p.id, p.schedule, p.rule, p.due_ms, p.tz FROM posts p
                 JOIN targets t ON t.post_id = p.id WHERE t.id = ?1",
                [target_id],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )
            .map_err(|e| self.error(e))?;
        let (Some(rule), Some(due)) = (rule.filter(|_| schedule == "every"), due) else {
            return Ok(());
        };
        let pending: i64 = self
            .query_row(
                &format!(
                    "SELECT count(*) FROM targets WHERE post_id = ?1 AND state IN {pending}",
                    pending = *PENDING
                ),
                [&post_id],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))?;
        if pending > 0 {
            return Ok(());
        }
        let (Ok(parsed), Ok(zone)) = (
            rule.parse::<crate::time::WeeklyRule>(),
            tz.parse::<chrono_tz::Tz>(),
        ) else {
            return Ok(());
        };
        let after = from_ms(due).max(self.now);
        let Some(next) = parsed.next_after(after, zone) else {
            return Ok(());
        };
        let post = self.post_for_copy(&post_id)?;
        let accounts: Vec<String> = {
            let mut stmt = self
                .prepare_cached(&format!(
                    "SELECT account_id FROM targets WHERE post_id = ?1 AND state != '{CANCELLED}'
                     ORDER BY position"
                ))
                .map_err(|e| self.error(e))?;
            stmt.query_map([&post_id], |row| row.get(0))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.error(e))?
        };
        // This occurrence is now history; the series continues in the new post.
        self.execute(
            "UPDATE posts SET schedule = 'at', rule = NULL WHERE id = ?1",
            [&post_id],
        )
        .map_err(|e| self.error(e))?;
        let next_post = super::NewPost {
            schedule: Schedule::Every { rule },
            targets: accounts
                .into_iter()
                .map(|account_id| super::NewTarget {
                    account_id,
                    due: Some(next),
                })
                .collect(),
            ..post
        };
        self.insert_post(&next_post)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::TimeZone;

    use super::*;
    use crate::model::Schedule;
    use crate::network::{AccountSettings, Network};
    use crate::store::{NewPost, NewTarget};

    /// The publisher's queries read targets through indexes, never a scan of the table:
    /// at 100,000 targets a scan took 12 ms each time the daemon woke.
    #[test]
    fn the_publisher_queries_use_indexes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("p.db")).expect("open");
        for sql in [claim_sql(), NEXT_DUE.clone()] {
            let plan: Vec<String> = store
                .conn()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .and_then(|mut stmt| {
                    let nulls = std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count());
                    stmt.query_map(rusqlite::params_from_iter(nulls), |row| {
                        row.get::<_, String>(3)
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .expect("plan");
            let plan = plan.join("\n");
            assert!(plan.contains("targets_by_state_next"), "{sql}\n{plan}");
            assert!(!plan.contains("SCAN targets"), "{sql}\n{plan}");
        }
    }

    fn account(store: &mut Store, name: &str) -> Account {
        let settings = AccountSettings {
            base_url: Some("https://example.org".into()),
            handle: None,
            settings: serde_json::json!({}),
        };
        store
            .add_account(name, Network::Mastodon, &settings, "env:TOKEN")
            .expect("account")
    }

    fn due_post(store: &mut Store, account: &Account, due: DateTime<Utc>, i: usize) -> String {
        store
            .create_post(&NewPost {
                body: format!("Post {i}"),
                title: None,
                labels: vec![],
                media: vec![],
                tz: "UTC".into(),
                schedule: Schedule::At,
                thread: Default::default(),
                targets: vec![NewTarget {
                    account_id: account.id.clone(),
                    due: Some(due),
                }],
            })
            .expect("post")
    }

    fn claim<'a>(owner: &'a str, now: DateTime<Utc>, skip: &'a [String]) -> Claim<'a> {
        Claim {
            owner,
            now,
            lease_until: now + Duration::seconds(2),
            late_limit: Duration::days(3650),
            limit: 7,
            per_account: 5,
            only_post: None,
            skip_accounts: skip,
        }
    }

    /// Two publishers, each with its own connection and thread, drain one database file:
    /// every target is claimed exactly once.
    #[test]
    fn two_publishers_never_claim_the_same_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.db");
        let mut store = Store::open(&path).expect("open");
        let masto = account(&mut store, "masto");
        let now = Utc::now();
        for i in 0..120 {
            due_post(&mut store, &masto, now - Duration::seconds(1), i);
        }
        let publishers: Vec<_> = ["daemon", "run-due"]
            .into_iter()
            .map(|owner| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut store = Store::open(&path).expect("open");
                    let mut mine = Vec::new();
                    for _ in 0..1_000 {
                        let (claimed, _) = store
                            .claim_due(&claim(owner, Utc::now(), &[]))
                            .expect("claim");
                        if claimed.is_empty() {
                            break;
                        }
                        for target in claimed {
                            store
                                .finish_target(&target.target_id, owner, &Finish::Published, None)
                                .expect("finish what this publisher holds");
                            mine.push(target.target_id);
                        }
                    }
                    mine
                })
            })
            .collect();
        let claimed: Vec<String> = publishers
            .into_iter()
            .flat_map(|p| p.join().expect("publisher thread"))
            .collect();
        let distinct: HashSet<&String> = claimed.iter().collect();
        assert_eq!(claimed.len(), 120, "every target claimed once");
        assert_eq!(distinct.len(), 120, "no target claimed twice");
    }

    /// One claim takes at most `per_account` targets of an account, oldest first, so a
    /// backlog on one account leaves room for the others.
    #[test]
    fn a_claim_takes_a_share_of_each_account() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let backlog = account(&mut store, "backlog");
        let other = account(&mut store, "other");
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        for i in 0..8 {
            due_post(
                &mut store,
                &backlog,
                t0 - Duration::minutes(10 - i),
                i as usize,
            );
        }
        due_post(&mut store, &other, t0, 100);
        due_post(&mut store, &other, t0, 101);
        let (claimed, _) = store.claim_due(&claim("a", t0, &[])).expect("claim");
        let bodies: Vec<(&str, &str)> = claimed
            .iter()
            .map(|c| (c.account.name.as_str(), c.body.as_str()))
            .collect();
        assert_eq!(
            bodies,
            [
                ("backlog", "Post 0"),
                ("backlog", "Post 1"),
                ("backlog", "Post 2"),
                ("backlog", "Post 3"),
                ("backlog", "Post 4"),
                ("other", "Post 100"),
                ("other", "Post 101"),
            ]
        );
        assert_eq!(
            store
                .next_due_after(t0 - Duration::hours(1), &[])
                .expect("next"),
            Some(t0 - Duration::minutes(5)),
            "the oldest target left is next"
        );
        assert_eq!(
            store
                .next_due_after(t0 - Duration::hours(1), std::slice::from_ref(&backlog.id))
                .expect("next"),
            Some(t0 + Duration::seconds(2)),
            "without the busy account, the next event is a lease running out"
        );
    }

    /// A busy account's targets wait; a lease that ran out is taken over, with the part
    /// that was on its way when the holder stopped.
    #[test]
    fn busy_accounts_wait_and_expired_leases_are_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let busy = account(&mut store, "busy");
        let idle = account(&mut store, "idle");
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        due_post(&mut store, &busy, t0, 1);
        due_post(&mut store, &idle, t0, 2);

        let skip = [busy.id.clone()];
        let (claimed, _) = store.claim_due(&claim("a", t0, &skip)).expect("claim");
        let names: Vec<&str> = claimed.iter().map(|c| c.account.name.as_str()).collect();
        assert_eq!(names, ["idle"]);

        let (claimed, _) = store.claim_due(&claim("a", t0, &[])).expect("claim");
        assert_eq!(claimed.len(), 1);
        let held = &claimed[0];
        assert!(
            store
                .begin_part(&held.target_id, "a", 0, 1, t0 + Duration::seconds(2))
                .expect("begin")
        );
        // Held, then its holder dies with part 0 on its way.
        let (early, _) = store
            .claim_due(&claim("b", t0 + Duration::seconds(1), &[]))
            .expect("claim");
        assert!(early.is_empty(), "the lease still holds");
        let (late, _) = store
            .claim_due(&claim("b", t0 + Duration::seconds(3), &[]))
            .expect("claim");
        // Both leases ran out; only the one with a part on its way says so.
        let mut taken: Vec<(&str, Option<usize>)> = late
            .iter()
            .map(|c| (c.account.name.as_str(), c.interrupted_part))
            .collect();
        taken.sort();
        assert_eq!(taken, [("busy", Some(0)), ("idle", None)]);
        // The first holder can no longer change it.
        assert!(
            !store
                .begin_part(&held.target_id, "a", 0, 1, t0 + Duration::seconds(9))
                .expect("begin")
        );
        assert!(
            store
                .finish_target(&held.target_id, "a", &Finish::Published, None)
                .is_err()
        );
    }

    /// An account's targets are claimed in the order they were due: a post that waited
    /// for a retry goes before a newer one whose time has come too.
    #[test]
    fn an_account_takes_its_targets_in_the_order_they_were_due() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let masto = account(&mut store, "masto");
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let older = due_post(&mut store, &masto, t0 - Duration::minutes(10), 1);
        due_post(&mut store, &masto, t0 - Duration::minutes(5), 2);
        let (claimed, _) = store
            .claim_due(&Claim {
                per_account: 1,
                ..claim("a", t0 - Duration::minutes(9), &[])
            })
            .expect("claim");
        let retry_at = t0 - Duration::seconds(1);
        store
            .finish_target(
                &claimed[0].target_id,
                "a",
                &Finish::Retry {
                    at: retry_at,
                    error: "429".into(),
                    count_attempt: true,
                },
                None,
            )
            .expect("retry later");
        let (claimed, _) = store
            .claim_due(&Claim {
                per_account: 1,
                ..claim("a", t0, &[])
            })
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].post_id, older, "the older post goes first");
    }

    /// A part whose fate is unknown stays noted whatever the target does next, until an
    /// answer settles it.
    #[test]
    fn a_part_in_doubt_is_never_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let masto = account(&mut store, "masto");
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        due_post(&mut store, &masto, t0, 1);
        let take = |store: &mut Store, at: DateTime<Utc>| {
            let (claimed, _) = store.claim_due(&claim("a", at, &[])).expect("claim");
            claimed.into_iter().next().expect("claimed")
        };
        let held = take(&mut store, t0);
        assert!(
            store
                .begin_part(&held.target_id, "a", 0, 1, t0 + Duration::seconds(2))
                .expect("begin")
        );
        // The account could not be made ready after that: no answer about the part.
        store
            .finish_target(
                &held.target_id,
                "a",
                &Finish::Failed {
                    error: "locked keyring".into(),
                },
                None,
            )
            .expect("fail");
        store.retry_post(&held.post_id).expect("retry");
        let again = take(&mut store, Utc::now());
        assert_eq!(again.interrupted_part, Some(0));
        assert!(again.interrupted_since.is_some());
        // An answer that settles it (the network refused the part) clears it.
        let refused = AttemptRecord {
            part: 0,
            started: t0,
            ended: t0,
            outcome: "failed",
            http_status: Some(422),
            error: Some("refused".into()),
            in_doubt: false,
        };
        store
            .finish_target(
                &again.target_id,
                "a",
                &Finish::Failed {
                    error: "refused".into(),
                },
                Some(&refused),
            )
            .expect("fail");
        store.retry_post(&held.post_id).expect("retry");
        let settled = take(&mut store, Utc::now());
        assert_eq!(settled.interrupted_part, None);
    }

    /// The record of a confirmed part is written with `synchronous = FULL`; the rest of
    /// the time the connection stays on NORMAL.
    #[test]
    fn a_confirmed_part_is_synced_to_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let level = |conn: &rusqlite::Connection| -> i64 {
            conn.query_row("PRAGMA synchronous", [], |row| row.get(0))
                .expect("pragma")
        };
        let inside = store.write_durable(|tx| Ok(level(tx))).expect("write");
        assert_eq!(inside, 2, "FULL while the part is recorded");
        assert_eq!(level(store.conn()), 1, "NORMAL otherwise");
    }

    #[test]
    fn an_account_wait_is_kept_until_it_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let masto = account(&mut store, "masto");
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let later = t0 + Duration::minutes(5);
        store.hold_account(&masto.id, later, "429").expect("hold");
        // A shorter wait heard later does not shorten it.
        store
            .hold_account(&masto.id, t0 + Duration::minutes(1), "remaining 0")
            .expect("hold");
        assert_eq!(
            store.account_wait(&masto.id, t0).expect("wait"),
            Some((later, "429".to_string()))
        );
        assert_eq!(store.account_wait(&masto.id, later).expect("wait"), None);
    }

    #[test]
    fn a_url_gives_the_post_id_it_ends_with() {
        let cases = [
            ("https://t.me/c/123/45", "45"),
            ("https://fosstodon.org/@me/110/", "110"),
            ("https://matrix.to/#/!room:x.org/$event?via=x.org", "$event"),
            ("https://x.example", "x.example"),
        ];
        for (url, id) in cases {
            assert_eq!(super::id_from_url(url), id, "{url}");
        }
    }
}
