//! Analytics on the server: every `serve` process that publishes also reads its
//! published posts' counters, when core's [`schedule`] says they are due (hourly for a
//! post's first 48 hours, then daily to 30 days, weekly to 90, then never), through core's
//! metric readers ([`Engine::read_post_metrics`]: the account's adapter, paced by the
//! account's rate-limit wait as publishing is).
//!
//! Who reads which target is decided by [`Storage::claim_metrics`]: a lease per target
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's write lock), so two processes never
//! read one target at once, and a process that dies leaves its targets to the next claim
//! after the lease. Each reading is kept (`metric_readings`) with the time of the next
//! ([`Storage::finish_metrics`]); `GET /api/v1/posts/{id}/metrics` shows them.
//!
//! Each account's figures (followers, members…) are read the same way, daily
//! ([`Storage::claim_account_metrics`]), and `GET /api/v1/accounts/{id}/metrics` shows
//! them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use postctl_core::analytics::schedule;
use postctl_core::platforms::metrics::BATCH;
use postctl_core::platforms::{Metrics, PostReading, Published};
use postctl_core::publish::Engine;

use crate::storage::{AccountMetricDone, MetricClaim, MetricDone, Storage};

/// How often a process looks for counters that came due.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a claimed target is the claimer's: enough for a batch of slow answers.
const LEASE: Duration = Duration::minutes(2);
/// At most this many targets claimed at once (one batch of the readers): a process takes
/// more only after reading these, so the others share a large backlog.
const CLAIM: u32 = BATCH as u32;
/// A target the network has no counters for yet, or whose reading failed, is asked
/// again after this.
const AGAIN_AFTER: Duration = Duration::minutes(5);

/// What one collection did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Targets claimed.
    pub claimed: usize,
    /// Targets whose counters were read and kept.
    pub counted: usize,
    /// Targets not read this time (pending, gone, not provided, failed).
    pub not_read: usize,
    /// Accounts claimed for their figures (followers, members…).
    pub accounts_claimed: usize,
    /// Accounts whose figures were read and kept.
    pub accounts_counted: usize,
}

fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// When a target read (or not) at `now` is read next: core's schedule after a reading,
/// a little later when nothing came back, never once it is past the schedule's end.
fn next_after(claim: &MetricClaim, read: bool, now: DateTime<Utc>) -> Option<i64> {
    let published = at(claim.published_ms);
    let next = if read {
        schedule::post_next(published, now)
    } else {
        schedule::interval(now - published).map(|_| now + AGAIN_AFTER)
    };
    next.map(ms)
}

/// Claims what is due at `now` for `owner`, reads it account by account in batches, and
/// records each reading (or the time to try again). An account's failure leaves its
/// targets for a later run; nothing here stops on one network's answer.
pub async fn collect_once(
    storage: &Arc<dyn Storage>,
    engine: &Engine,
    owner: &str,
    now: DateTime<Utc>,
) -> crate::storage::Result<Tally> {
    let claims = storage
        .claim_metrics(owner, ms(now), ms(now + LEASE), CLAIM)
        .await?;
    let mut tally = Tally {
        claimed: claims.len(),
        ..Tally::default()
    };
    let mut by_account: BTreeMap<String, Vec<(MetricClaim, Published)>> = BTreeMap::new();
    for claim in claims {
        let first = serde_json::from_str::<Vec<Published>>(&claim.parts)
            .ok()
            .and_then(|parts| parts.into_iter().next());
        let due = schedule::post_due(at(claim.published_ms), claim.last_read_ms.map(at), now);
        match first {
            Some(first) if due => by_account
                .entry(claim.account_id.clone())
                .or_default()
                .push((claim, first)),
            // Nothing published to read, or past the schedule's end: never again.
            _ => {
                let next = match first {
                    Some(_) => claim
                        .last_read_ms
                        .and_then(|last| schedule::post_next(at(claim.published_ms), at(last)))
                        .map(ms),
                    None => None,
                };
                finish(storage, owner, &claim, None, next).await?;
                tally.not_read += 1;
            }
        }
    }
    for (account_id, claims) in by_account {
        let account = engine.ledger().account(&account_id).await;
        for batch in claims.chunks(BATCH) {
            let parts: Vec<Published> = batch.iter().map(|(_, p)| p.clone()).collect();
            let answer = match &account {
                Ok(account) => engine.read_post_metrics(account, &parts).await,
                Err(e) => Err(e.to_string()),
            };
            match answer {
                Ok(Metrics::Read(readings)) if readings.len() == batch.len() => {
                    for ((claim, _), reading) in batch.iter().zip(readings) {
                        let (kept, next) = match reading {
                            PostReading::Counted(counters) => {
                                let counters = serde_json::to_string(&counters)
                                    .unwrap_or_else(|_| "{}".into());
                                (Some((ms(now), counters)), next_after(claim, true, now))
                            }
                            // Gone from the network: never asked again.
                            PostReading::Deleted => (None, None),
                            PostReading::Pending => (None, next_after(claim, false, now)),
                        };
                        if kept.is_some() {
                            tally.counted += 1;
                        } else {
                            tally.not_read += 1;
                        }
                        finish(storage, owner, claim, kept, next).await?;
                    }
                }
                Ok(Metrics::NotProvided(why)) => {
                    tracing::info!(account = %account_id, "no post counters: {why}");
                    for (claim, _) in batch {
                        finish(storage, owner, claim, None, None).await?;
                        tally.not_read += 1;
                    }
                }
                Ok(Metrics::Read(readings)) => {
                    tracing::warn!(
                        account = %account_id,
                        "the network answered {} readings for {} posts; asked again later",
                        readings.len(),
                        batch.len()
                    );
                    again(storage, owner, batch, now, &mut tally).await?;
                }
                Err(e) => {
                    tracing::warn!(account = %account_id, "reading post counters failed: {e}");
                    again(storage, owner, batch, now, &mut tally).await?;
                }
            }
        }
    }
    collect_accounts(storage, engine, owner, now, &mut tally).await?;
    Ok(tally)
}

/// Reads the figures of the accounts due at `now` (daily, core's
/// [`schedule::ACCOUNT_EVERY`]): kept with the next time, a failure asked again in a few
/// minutes, a network that gives none never asked again.
async fn collect_accounts(
    storage: &Arc<dyn Storage>,
    engine: &Engine,
    owner: &str,
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> crate::storage::Result<()> {
    let claims = storage
        .claim_account_metrics(owner, ms(now), ms(now + LEASE), CLAIM)
        .await?;
    tally.accounts_claimed = claims.len();
    for claim in claims {
        let read = match engine.ledger().account(&claim.account_id).await {
            Ok(account) => engine.read_account_metrics(&account).await,
            Err(e) => Err(e.to_string()),
        };
        let (reading, next) = match read {
            Ok(Metrics::Read(counters)) => {
                tally.accounts_counted += 1;
                let counters = serde_json::to_string(&counters).unwrap_or_else(|_| "{}".into());
                (
                    Some((ms(now), counters)),
                    Some(ms(now + schedule::ACCOUNT_EVERY)),
                )
            }
            Ok(Metrics::NotProvided(why)) => {
                tracing::info!(account = %claim.account_id, "no account figures: {why}");
                (None, None)
            }
            Err(e) => {
                tracing::warn!(account = %claim.account_id, "reading account figures failed: {e}");
                (None, Some(ms(now + AGAIN_AFTER)))
            }
        };
        let done = AccountMetricDone {
            account_id: claim.account_id.clone(),
            reading,
            next_ms: next,
        };
        if !storage.finish_account_metrics(owner, &done).await? {
            tracing::warn!(account = %claim.account_id, "figures came after their lease ran out; not kept");
        }
    }
    Ok(())
}

async fn finish(
    storage: &Arc<dyn Storage>,
    owner: &str,
    claim: &MetricClaim,
    reading: Option<(i64, String)>,
    next_ms: Option<i64>,
) -> crate::storage::Result<()> {
    let done = MetricDone {
        target_id: claim.target_id.clone(),
        reading,
        next_ms,
    };
    if !storage.finish_metrics(owner, &done).await? {
        tracing::warn!(target = %claim.target_id, "a reading came after its lease ran out; not kept");
    }
    Ok(())
}

async fn again(
    storage: &Arc<dyn Storage>,
    owner: &str,
    batch: &[(MetricClaim, Published)],
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> crate::storage::Result<()> {
    for (claim, _) in batch {
        finish(storage, owner, claim, None, next_after(claim, false, now)).await?;
        tally.not_read += 1;
    }
    Ok(())
}

/// Told each collection's [`Tally`] (for `/metrics`).
pub type TallyObserver = Arc<dyn Fn(&Tally) + Send + Sync>;

/// The loop `serve` runs beside the publisher: a collection every second by the engine's
/// clock, until `stop`.
pub async fn run(
    storage: Arc<dyn Storage>,
    engine: Arc<Engine>,
    owner: String,
    observer: TallyObserver,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let now = engine.clock().now();
        let more = match collect_once(&storage, &engine, &owner, now).await {
            Ok(tally) if tally.claimed + tally.accounts_claimed > 0 => {
                observer(&tally);
                tracing::info!(
                    claimed = tally.claimed,
                    counted = tally.counted,
                    accounts = tally.accounts_counted,
                    "read the counters of {} published post(s) and the figures of {} account(s)",
                    tally.counted,
                    tally.accounts_counted
                );
                tally.claimed == CLAIM as usize || tally.accounts_claimed == CLAIM as usize
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!("collecting counters stopped for a moment: {e}");
                false
            }
        };
        // A full claim may have left more due: take it at once.
        if !more {
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }
}
