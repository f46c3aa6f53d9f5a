//! Keeping the database small: once a day (and shortly after start) `serve` deletes what
//! has outlived its use or the operator's `retention_days`: sessions that ended and
//! webhook deliveries (with their attempts) that were delivered or failed more than
//! `retention_days` ago, idempotency keys past their day, failed sign-ins the lockout has
//! forgotten, rate-limit buckets that are full again (a missing bucket is a full one), and
//! notifications done with (routed events, finished messages, read inbox items) after
//! `retention_days`, but never within the week a digest reads.
//! With several processes on one PostgreSQL each runs it; the deletes are idempotent.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::{IDEMPOTENCY_TTL_MS, Purge, Storage};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// How often the cleanup runs.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// The first cleanup waits this long after start, out of the way of the start itself.
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// What to delete at `now_ms`, keeping ended sessions `retention_days`.
pub fn cutoffs(now_ms: i64, retention_days: u32) -> Purge {
    let kept_from = now_ms - i64::from(retention_days) * DAY_MS;
    Purge {
        sessions_ended_before_ms: kept_from,
        deliveries_finished_before_ms: kept_from,
        attempts_ended_before_ms: kept_from,
        idempotency_before_ms: now_ms - IDEMPOTENCY_TTL_MS,
        login_failures_before_ms: now_ms - crate::auth::lockout::WINDOW_MS,
        rate_limits_full_before_ms: now_ms,
        // The digest reads the week before it.
        notifications_before_ms: kept_from.min(now_ms - 8 * DAY_MS),
    }
}

/// Runs the cleanup now, logging what went.
pub async fn run_once(storage: &dyn Storage, retention_days: u32) {
    let now = chrono::Utc::now().timestamp_millis();
    match storage.purge(&cutoffs(now, retention_days)).await {
        Ok(purged) => tracing::info!(
            sessions = purged.sessions,
            idempotency_keys = purged.idempotency_keys,
            login_failures = purged.login_failures,
            rate_limits = purged.rate_limits,
            webhook_deliveries = purged.webhook_deliveries,
            webhook_attempts = purged.webhook_attempts,
            notification_events = purged.notification_events,
            notification_sends = purged.notification_sends,
            inbox_items = purged.inbox_items,
            "retention: deleted old rows"
        ),
        Err(e) => tracing::warn!("retention: the cleanup failed, it runs again tomorrow: {e}"),
    }
}

/// The daily cleanup, for `serve` to spawn; it runs until the process ends.
pub async fn daily(storage: Arc<dyn Storage>, retention_days: u32) {
    tokio::time::sleep(FIRST_AFTER).await;
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        run_once(storage.as_ref(), retention_days).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_kept_the_setting_and_the_rest_their_lifetime() {
        let now = 100 * DAY_MS;
        let purge = cutoffs(now, 30);
        assert_eq!(purge.sessions_ended_before_ms, 70 * DAY_MS);
        assert_eq!(purge.deliveries_finished_before_ms, 70 * DAY_MS);
        assert_eq!(purge.idempotency_before_ms, 99 * DAY_MS);
        assert_eq!(purge.login_failures_before_ms, 99 * DAY_MS);
        assert_eq!(purge.rate_limits_full_before_ms, now);
        assert_eq!(cutoffs(now, 1).sessions_ended_before_ms, 99 * DAY_MS);
        assert_eq!(purge.notifications_before_ms, 70 * DAY_MS);
        assert_eq!(cutoffs(now, 1).notifications_before_ms, 92 * DAY_MS);
    }
}
