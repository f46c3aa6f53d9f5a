//! Per-key rate limits: a token bucket per API key (or session) holding a minute's worth
//! of requests, refilled continuously. On SQLite (one process per data dir, which the
//! data-dir lock guarantees) the buckets live in the process ([`Limiter`]); on PostgreSQL,
//! where several processes share the database, each bucket is a row the database updates
//! in one statement (`Storage::take_rate_token`, GCRA: the bucket as the time it is full
//! again), so a key's limit holds for all processes together. [`verdict`] turns that row
//! into the same answer the in-process bucket gives.

use std::collections::HashMap;
use std::sync::Mutex;

/// A bucket's state: tokens left, and when it was last refilled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub updated_ms: i64,
}

/// What a request is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    /// Whole requests left after this one.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_s: u64,
    /// Seconds until the next request is allowed (0 when this one was).
    pub retry_after_s: u64,
}

/// Takes one token from a bucket of `per_minute` capacity, refilled at `per_minute`
/// tokens a minute, at `now_ms`. A new bucket starts full.
pub fn take(bucket: Option<Bucket>, per_minute: u32, now_ms: i64) -> (Bucket, Verdict) {
    let capacity = f64::from(per_minute.max(1));
    let per_ms = capacity / 60_000.0;
    let mut b = bucket.unwrap_or(Bucket {
        tokens: capacity,
        updated_ms: now_ms,
    });
    let elapsed = (now_ms - b.updated_ms).max(0) as f64;
    b.tokens = (b.tokens + elapsed * per_ms).min(capacity);
    b.updated_ms = now_ms;
    let allowed = b.tokens >= 1.0;
    if allowed {
        b.tokens -= 1.0;
    }
    let retry_after_s = if allowed {
        0
    } else {
        ((1.0 - b.tokens) / per_ms / 1000.0).ceil().max(1.0) as u64
    };
    let verdict = Verdict {
        allowed,
        limit: per_minute.max(1),
        remaining: b.tokens.floor() as u32,
        reset_s: ((capacity - b.tokens) / per_ms / 1000.0).ceil() as u64,
        retry_after_s,
    };
    (b, verdict)
}

/// The answer for a request the database counted: allowed or not, and the bucket full
/// again at `full_at_us`, at `now_ms`, with `per_minute` a minute.
pub fn verdict(allowed: bool, full_at_us: i64, per_minute: u32, now_ms: i64) -> Verdict {
    let per_minute = per_minute.max(1);
    let window = crate::storage::RATE_WINDOW_US;
    let interval = window / i64::from(per_minute);
    let ahead = (full_at_us - now_ms.saturating_mul(1000)).max(0);
    let seconds = |us: i64| (us.max(0) as u64).div_ceil(1_000_000);
    Verdict {
        allowed,
        limit: per_minute,
        remaining: u32::try_from(((window - ahead) / interval).max(0)).unwrap_or(0),
        reset_s: seconds(ahead),
        retry_after_s: if allowed {
            0
        } else {
            seconds(ahead + interval - window).max(1)
        },
    }
}

/// The buckets of every key this process has seen.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// Counts a request of `id` against `per_minute`.
    pub fn check(&self, id: &str, per_minute: u32, now_ms: i64) -> Verdict {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; do not turn it into refusals.
            return take(None, per_minute, now_ms).1;
        };
        let (bucket, verdict) = take(buckets.get(id).copied(), per_minute, now_ms);
        buckets.insert(id.to_string(), bucket);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_minutes_worth_then_refills() {
        let mut bucket = None;
        let t0 = 1_000_000;
        for i in 0..60 {
            let (b, v) = take(bucket, 60, t0);
            assert!(v.allowed, "request {i}");
            assert_eq!(v.remaining, 59 - i);
            bucket = Some(b);
        }
        let (b, refused) = take(bucket, 60, t0);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.retry_after_s), (0, 1));
        assert_eq!(refused.reset_s, 60);
        // One token a second comes back.
        let (b, later) = take(Some(b), 60, t0 + 1_000);
        assert!(later.allowed);
        let (_, again) = take(Some(b), 60, t0 + 1_500);
        assert!(!again.allowed);
        // A slow limit tells to wait longer.
        let (b, _) = take(None, 2, t0);
        let (b, _) = take(Some(b), 2, t0);
        let (_, slow) = take(Some(b), 2, t0);
        assert_eq!((slow.allowed, slow.retry_after_s), (false, 30));
    }

    #[test]
    fn the_databases_bucket_answers_like_the_process_one() {
        // Replays the database's statement in memory: the same verdicts as `take`.
        let t0 = 1_000_000i64;
        let per_minute = 60;
        let interval = crate::storage::RATE_WINDOW_US / per_minute as i64;
        let mut full_at: Option<i64> = None;
        let mut bucket = None;
        for (i, now) in [t0, t0, t0 + 10, t0 + 999, t0 + 1_000, t0 + 30_000]
            .into_iter()
            .chain(std::iter::repeat_n(t0 + 30_000, 40))
            .enumerate()
        {
            let now_us = now * 1000;
            let start = full_at.map_or(now_us, |f| f.max(now_us));
            let allowed = start + interval - now_us <= crate::storage::RATE_WINDOW_US;
            if allowed {
                full_at = Some(start + interval);
            }
            let from_db = verdict(allowed, full_at.unwrap_or(now_us), per_minute, now);
            let (b, in_process) = take(bucket, per_minute, now);
            bucket = Some(b);
            assert_eq!(from_db.allowed, in_process.allowed, "request {i}");
            // The process's float bucket may round a whole token down.
            assert!(
                from_db.remaining.abs_diff(in_process.remaining) <= 1,
                "request {i}: {from_db:?} {in_process:?}"
            );
            assert_eq!(
                from_db.retry_after_s, in_process.retry_after_s,
                "request {i}"
            );
        }
        let refused = verdict(false, (t0 + 60_500) * 1000, 60, t0);
        assert_eq!(
            (refused.remaining, refused.retry_after_s, refused.reset_s),
            (0, 2, 61)
        );
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = Limiter::default();
        assert!(limiter.check("a", 1, 0).allowed);
        assert!(!limiter.check("a", 1, 0).allowed);
        assert!(limiter.check("b", 1, 0).allowed);
    }
}
