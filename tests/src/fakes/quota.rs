//! Fixed-window request quotas: what the networks' rate-limit headers describe, and what
//! they enforce with a 429.
//!
//! The fakes default to generous quotas so that tests and benchmarks are not throttled by
//! accident; a test of the client's rate limiter sets the network's real numbers with the
//! fake's `set_rate_limit`.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

/// `limit` requests per `window`, per key (an account, a token, a route).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub window: Duration,
}

impl RateLimit {
    pub fn new(limit: u32, window: Duration) -> RateLimit {
        RateLimit { limit, window }
    }

    /// The default of every fake: 100,000 requests per 5 minutes, out of reach of tests.
    pub fn generous() -> RateLimit {
        RateLimit::new(100_000, Duration::from_secs(300))
    }
}

/// The state of one key's window after a request was counted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuotaState {
    pub limit: u32,
    pub remaining: u32,
    /// When the window resets.
    pub reset_at: SystemTime,
    /// How long until then.
    pub reset_after: Duration,
    /// This request went over the limit.
    pub exceeded: bool,
    pub window: Duration,
}

impl QuotaState {
    /// Whole seconds until the window resets, rounded up and at least 1: what a
    /// `Retry-After` header or a seconds field says.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        self.reset_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// Fixed windows per key.
pub(crate) struct Quota {
    limit: RateLimit,
    windows: HashMap<String, (Instant, u32)>,
}

impl Quota {
    pub(crate) fn new(limit: RateLimit) -> Quota {
        Quota {
            limit,
            windows: HashMap::new(),
        }
    }

    /// Replaces the limit and forgets the windows counted so far.
    pub(crate) fn set_limit(&mut self, limit: RateLimit) {
        self.limit = limit;
        self.windows.clear();
    }

    /// The state a 429 that chaos injects describes: nothing left for `retry_after`.
    pub(crate) fn exhausted(&self, retry_after: Duration) -> QuotaState {
        QuotaState {
            limit: self.limit.limit,
            remaining: 0,
            reset_at: SystemTime::now() + retry_after,
            reset_after: retry_after,
            exceeded: true,
            window: self.limit.window,
        }
    }

    /// Counts one request for `key`.
    pub(crate) fn hit(&mut self, key: &str) -> QuotaState {
        let now = Instant::now();
        let limit = self.limit;
        let window = self.windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(window.0) >= limit.window {
            *window = (now, 0);
        }
        let exceeded = window.1 >= limit.limit;
        if !exceeded {
            window.1 += 1;
        }
        let reset_after = limit.window.saturating_sub(now.duration_since(window.0));
        QuotaState {
            limit: limit.limit,
            remaining: limit.limit.saturating_sub(window.1),
            reset_at: SystemTime::now() + reset_after,
            reset_after,
            exceeded,
            window: limit.window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_down_then_refuses_then_resets() {
        let mut quota = Quota::new(RateLimit::new(2, Duration::from_millis(50)));
        let first = quota.hit("a");
        assert_eq!((first.remaining, first.exceeded), (1, false));
        assert_eq!(quota.hit("a").remaining, 0);
        assert!(quota.hit("a").exceeded);
        assert!(!quota.hit("b").exceeded, "keys have their own windows");
        std::thread::sleep(Duration::from_millis(60));
        assert!(!quota.hit("a").exceeded);
    }
}
