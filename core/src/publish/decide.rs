//! What happens after a failed attempt: pure decisions, tested with tables (DESIGN §4).

use chrono::{DateTime, Duration, Utc};

use crate::model::Finish;
use crate::platforms::PublishError;

/// Retry delays start at one second and double, up to [`RetryLimits::max_delay`].
const FIRST_DELAY_MS: i64 = 1_000;

/// How long and how patiently a failing target is retried (config `[publish]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryLimits {
    /// No retry later than this after the first attempt.
    pub window: Duration,
    /// The longest wait between two attempts, unless the network asks for a longer one.
    pub max_delay: Duration,
}

/// The exponential backoff before attempt `attempt + 1` (attempt counts from 1), at most
/// `max_delay`, with ±20 % jitter from `jitter` in [0, 1) so retries of many targets
/// spread out.
pub fn backoff(attempt: u32, jitter: f64, max_delay: Duration) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let base = (FIRST_DELAY_MS << exponent).min(max_delay.num_milliseconds().max(1)) as f64;
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::milliseconds((base * factor) as i64)
}

/// How a target ends after `error` on its `attempt`-th attempt.
///
/// - Auth and permanent errors fail the target (the user must act).
/// - A retryable error that may have been acted on, on a network without idempotency,
///   makes the target `uncertain`: retrying could post twice, so the user decides.
/// - Otherwise it is retried after the longer of the backoff and what the network asked
///   for (Retry-After, reset headers), unless that falls outside the retry window that
///   began at `first_attempt`: then it fails, saying how often it was tried.
pub fn after_error(
    error: &PublishError,
    idempotent: bool,
    attempt: u32,
    first_attempt: DateTime<Utc>,
    now: DateTime<Utc>,
    limits: RetryLimits,
    jitter: f64,
) -> Finish {
    match error {
        PublishError::Auth { message, .. } => Finish::Failed {
            error: format!("credentials rejected: {message}"),
        },
        PublishError::Permanent { message, .. } => Finish::Failed {
            error: message.clone(),
        },
        PublishError::Retryable {
            message,
            maybe_sent: true,
            ..
        } if !idempotent => Finish::Uncertain {
            error: format!(
                "{}; the network may have published it and offers no way to retry safely, so postctl will not retry it",
                without_retry_promise(message)
            ),
        },
        PublishError::Retryable {
            message,
            retry_after,
            ..
        } => {
            let asked = retry_after
                .and_then(|d| Duration::from_std(d).ok())
                .unwrap_or_else(Duration::zero);
            let at = now + backoff(attempt, jitter, limits.max_delay).max(asked);
            if at > first_attempt + limits.window {
                Finish::Failed {
                    error: format!(
                        "gave up after {attempt} attempt(s) over {} min: {message}",
                        (now - first_attempt).num_minutes()
                    ),
                }
            } else {
                Finish::Retry {
                    at,
                    error: message.clone(),
                    count_attempt: true,
                }
            }
        }
    }
}

/// How a target ends when its account could not be made ready to publish (reading the
/// instance's limits, logging in) for the `failures`-th time in a row. Nothing of the post
/// was sent, so this is [`after_error`] on a network that may be retried; the wait grows
/// with the account's failures, and the target's own attempts are not counted (none was
/// made).
pub fn after_account_error(
    error: &PublishError,
    failures: u32,
    first_attempt: DateTime<Utc>,
    now: DateTime<Utc>,
    limits: RetryLimits,
    jitter: f64,
) -> Finish {
    match after_error(error, true, failures, first_attempt, now, limits, jitter) {
        Finish::Retry { at, error, .. } => Finish::Retry {
            at,
            error,
            count_attempt: false,
        },
        other => other,
    }
}

/// An adapter's message without its "will retry" ending, for outcomes that will not be
/// retried.
fn without_retry_promise(message: &str) -> &str {
    ["; will retry", "; it will be retried", ", will retry"]
        .iter()
        .filter_map(|ending| message.find(ending))
        .min()
        .map_or(message, |at| &message[..at])
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_promises_are_cut_from_uncertain_messages() {
        let cases = [
            (
                "Discord had a server error (500); will retry",
                "Discord had a server error (500)",
            ),
            (
                "x failed (503) while posting; it will be retried",
                "x failed (503) while posting",
            ),
            ("timed out", "timed out"),
        ];
        for (message, expected) in cases {
            assert_eq!(super::without_retry_promise(message), expected);
        }
    }

    use super::*;
    use chrono::TimeZone;

    fn retryable(maybe_sent: bool, retry_after_s: Option<u64>) -> PublishError {
        PublishError::Retryable {
            message: "503".into(),
            retry_after: retry_after_s.map(std::time::Duration::from_secs),
            maybe_sent,
            status: Some(503),
        }
    }

    const LIMITS: RetryLimits = RetryLimits {
        window: Duration::minutes(30),
        max_delay: Duration::minutes(5),
    };

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let five_min = Duration::minutes(5);
        let cases = [
            (1, 0.5, five_min, 1_000),
            (2, 0.5, five_min, 2_000),
            (3, 0.5, five_min, 4_000),
            (1, 0.0, five_min, 800),
            (1, 0.999_999, five_min, 1_199),
            (12, 0.5, five_min, 300_000),
            (40, 0.5, five_min, 300_000),
            (3, 0.5, Duration::seconds(2), 2_000),
            (1, 0.5, Duration::zero(), 1),
        ];
        for (attempt, jitter, max, ms) in cases {
            assert_eq!(
                backoff(attempt, jitter, max).num_milliseconds(),
                ms,
                "{attempt} {jitter} {max}"
            );
        }
    }

    #[test]
    fn errors_end_targets_by_class() {
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let kind = |finish: Finish| match finish {
            Finish::Published => "published".to_string(),
            Finish::Retry { at, .. } => format!("retry+{}s", (at - t0).num_seconds()),
            Finish::Failed { .. } => "failed".into(),
            Finish::Uncertain { .. } => "uncertain".into(),
            Finish::Release => "release".into(),
        };
        let cases = [
            (PublishError::auth("401"), true, 1, "failed"),
            (PublishError::permanent("422"), true, 1, "failed"),
            (retryable(false, None), false, 1, "retry+1s"),
            (retryable(false, Some(7)), false, 1, "retry+7s"),
            (retryable(true, None), true, 2, "retry+2s"),
            (retryable(true, None), false, 1, "uncertain"),
            (retryable(false, Some(3600)), true, 1, "failed"),
        ];
        for (error, idempotent, attempt, expected) in cases {
            let got = kind(after_error(
                &error, idempotent, attempt, t0, t0, LIMITS, 0.5,
            ));
            assert_eq!(got, expected, "{error:?} idempotent={idempotent}");
        }
        // An account that cannot be prepared: never uncertain (nothing was sent), the wait
        // follows the account's failures, and the target's attempts are not counted.
        let account_cases = [
            (retryable(true, None), 1, "retry+1s"),
            (retryable(true, None), 3, "retry+4s"),
            (retryable(false, Some(7)), 1, "retry+7s"),
            (PublishError::auth("401"), 1, "failed"),
        ];
        for (error, failures, expected) in account_cases {
            let finish = after_account_error(&error, failures, t0, t0, LIMITS, 0.5);
            if let Finish::Retry { count_attempt, .. } = &finish {
                assert!(!count_attempt, "{error:?}");
            }
            assert_eq!(kind(finish), expected, "{error:?} failures={failures}");
        }
        // Late in the window, even a short backoff crosses it.
        let late = t0 + Duration::minutes(29) + Duration::seconds(59);
        let finish = after_error(&retryable(false, None), true, 9, t0, late, LIMITS, 0.5);
        assert!(
            matches!(finish, Finish::Failed { ref error } if error.contains("gave up after 9")),
            "{finish:?}"
        );
    }
}
