//! Lockout after failed sign-ins, per user name and per client address: after
//! `threshold` failures in a row, sign-in is refused for `first_lock`, doubling with each
//! further failure up to `longest_lock`. Failures older than `window` are forgotten. The
//! storage counts failures atomically; this module only decides, from the count.

use crate::storage::LoginFailures;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub threshold: u32,
    pub first_lock_ms: i64,
    pub longest_lock_ms: i64,
    /// A failure older than this starts the count again.
    pub window_ms: i64,
}

/// A failure older than this is forgotten.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Failures of one user name before it is locked.
pub const USER_THRESHOLD: u32 = 5;
/// Failures from one address (across names) before it is locked.
pub const ADDRESS_THRESHOLD: u32 = 20;

impl Policy {
    /// The policy for user names, with the first lock `first_lock_s` seconds long.
    pub fn user(first_lock_s: u64) -> Policy {
        Policy::new(USER_THRESHOLD, first_lock_s)
    }

    /// The policy for client addresses.
    pub fn address(first_lock_s: u64) -> Policy {
        Policy::new(ADDRESS_THRESHOLD, first_lock_s)
    }

    fn new(threshold: u32, first_lock_s: u64) -> Policy {
        let first = i64::try_from(first_lock_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        Policy {
            threshold,
            first_lock_ms: first,
            longest_lock_ms: first.saturating_mul(64),
            window_ms: WINDOW_MS,
        }
    }

    /// Until when sign-in is locked after `failures`, if it is locked at `now_ms`.
    pub fn locked_until(&self, failures: LoginFailures, now_ms: i64) -> Option<i64> {
        if failures.failures < self.threshold || failures.last_ms < now_ms - self.window_ms {
            return None;
        }
        let doublings = (failures.failures - self.threshold).min(20);
        let lock = self
            .first_lock_ms
            .saturating_mul(1i64 << doublings)
            .min(self.longest_lock_ms);
        let until = failures.last_ms.saturating_add(lock);
        (until > now_ms).then_some(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_threshold_and_double() {
        let policy = Policy::user(30);
        let at = |failures, last_ms| LoginFailures { failures, last_ms };
        let now = 1_000_000_000;
        let cases = [
            (at(4, now), None),
            (at(5, now), Some(now + 30_000)),
            (at(6, now), Some(now + 60_000)),
            (at(7, now), Some(now + 120_000)),
            (at(30, now), Some(now + 30_000 * 64)),
            (at(5, now - 30_000), None),
            (at(5, now - 29_000), Some(now + 1_000)),
            (at(50, now - 25 * 3_600_000), None),
        ];
        for (failures, expected) in cases {
            assert_eq!(policy.locked_until(failures, now), expected, "{failures:?}");
        }
        assert_eq!(
            Policy::address(30).locked_until(at(19, now), now),
            None,
            "an address has more tries"
        );
    }
}
