//! What happens after a failed attempt: pure decisions, tested with tables (DESIGN §4).

use chrono::{DateTime, Duration, Utc};

use crate::platforms::PublishError;
use crate::store::Finish;

/// Retry delays start at one second and double, up to five minutes.
const FIRST_DELAY_MS: i64 = 1_000;
const MAX_DELAY_MS: i64 = 5 * 60 * 1_000;

/// The exponential backoff before attempt `attempt + 1` (attempt counts from 1), with
/// ±20 % jitter from `jitter` in [0, 1) so retries of many targets spread out.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let base = (FIRST_DELAY_MS << exponent).min(MAX_DELAY_MS) as f64;
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
    retry_window: Duration,
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
                "{message}; the network may have published it and offers no way to retry safely"
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
            let at = now + backoff(attempt, jitter).max(asked);
            if at > first_attempt + retry_window {
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

#[cfg(test)]
mod tests {
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

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let cases = [
            (1, 0.5, 1_000),
            (2, 0.5, 2_000),
            (3, 0.5, 4_000),
            (1, 0.0, 800),
            (1, 0.999_999, 1_199),
            (12, 0.5, 300_000),
            (40, 0.5, 300_000),
        ];
        for (attempt, jitter, ms) in cases {
            assert_eq!(
                backoff(attempt, jitter).num_milliseconds(),
                ms,
                "{attempt} {jitter}"
            );
        }
    }

    #[test]
    fn errors_end_targets_by_class() {
        let t0 = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let window = Duration::minutes(30);
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
                &error, idempotent, attempt, t0, t0, window, 0.5,
            ));
            assert_eq!(got, expected, "{error:?} idempotent={idempotent}");
        }
        // Late in the window, even a short backoff crosses it.
        let late = t0 + Duration::minutes(29) + Duration::seconds(59);
        let finish = after_error(&retryable(false, None), true, 9, t0, late, window, 0.5);
        assert!(
            matches!(finish, Finish::Failed { ref error } if error.contains("gave up after 9")),
            "{finish:?}"
        );
    }
}
