//! What happens after a failed attempt: pure decisions, tested with tables ("Target states"
//! in docs/ARCHITECTURE.md).
//!
//! Adapters say what the network answered; the words about what postctl does next ("will
//! retry", "will not retry it") are written here only, from the decision itself, so a
//! message never promises what the decision does not do.

use chrono::{DateTime, Duration, Utc};

use crate::model::Finish;
use crate::network::Network;
use crate::platforms::Idempotency;
use crate::platforms::PublishError;
use crate::platforms::http::MAX_WAIT;

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

/// A wait a network asked for, as a time span: never more than [`MAX_WAIT`], whatever the
/// header said.
fn asked_wait(asked: Option<std::time::Duration>) -> Duration {
    asked
        .map(|d| d.min(MAX_WAIT))
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or_else(Duration::zero)
}

/// How a target ends after `error` on its `attempt`-th attempt. `resend_safe_until` is
/// until when the network would recognise this part sent again as the same request
/// (its idempotency, see [`Idempotency::safe_until`]); `None` when it never would.
///
/// - Auth and permanent errors fail the target (the user must act).
/// - A retryable error that may have been acted on makes the target `uncertain` unless
///   the retry falls inside the network's idempotency: retrying could post twice, so the
///   user decides.
/// - Otherwise it is retried after the longer of the backoff and what the network asked
///   for (Retry-After, reset headers; at most [`MAX_WAIT`]), unless that falls outside
///   the retry window that began at `first_attempt`: then it fails, saying how often it
///   was tried.
pub fn after_error(
    error: &PublishError,
    resend_safe_until: Option<DateTime<Utc>>,
    attempt: u32,
    first_attempt: DateTime<Utc>,
    now: DateTime<Utc>,
    limits: RetryLimits,
    jitter: f64,
) -> Finish {
    match error {
        PublishError::Auth { message, .. } => Finish::Failed {
            error: format!("credentials rejected: {}", without_retry_promise(message)),
        },
        PublishError::Permanent { message, .. } => Finish::Failed {
            error: without_retry_promise(message).to_string(),
        },
        // The network says what a person must do on its site; the message says it.
        PublishError::NeedsPerson { message, .. } => Finish::Failed {
            error: without_retry_promise(message).to_string(),
        },
        PublishError::Retryable {
            message,
            retry_after,
            maybe_sent,
            ..
        } => {
            let said = without_retry_promise(message);
            let asked = asked_wait(*retry_after);
            let at = now.checked_add_signed(backoff(attempt, jitter, limits.max_delay).max(asked));
            let in_window = at.filter(|at| *at <= first_attempt + limits.window);
            match (in_window, *maybe_sent) {
                (Some(at), true) if resend_safe_until.is_none_or(|safe| at > safe) => {
                    Finish::Uncertain {
                        error: match resend_safe_until {
                            None => format!(
                                "{said}; the network may have published it and offers no way to retry safely, so postctl will not retry it"
                            ),
                            Some(_) => format!(
                                "{said}; the network may have published it, and a retry would come after the network stops recognising a repeat, so postctl will not retry it"
                            ),
                        },
                    }
                }
                (None, true) if resend_safe_until.is_none() => Finish::Uncertain {
                    error: format!(
                        "{said}; the network may have published it and offers no way to retry safely, so postctl will not retry it"
                    ),
                },
                (Some(at), _) => Finish::Retry {
                    at,
                    error: format!("{said}; will retry"),
                    count_attempt: true,
                },
                (None, _) => {
                    let waited = (now - first_attempt).num_minutes();
                    let asked_more = if asked > Duration::zero() {
                        format!(
                            ", and the network asks to wait {} s more, past the {} min retry window",
                            asked.num_seconds(),
                            limits.window.num_minutes()
                        )
                    } else {
                        String::new()
                    };
                    let unknown = if *maybe_sent {
                        " (the last attempt may have been published: check before retrying)"
                    } else {
                        ""
                    };
                    Finish::Failed {
                        error: format!(
                            "gave up after {attempt} attempt(s) over {waited} min{asked_more}: {said}{unknown}"
                        ),
                    }
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
    let nothing_sent = Some(DateTime::<Utc>::MAX_UTC);
    match after_error(
        error,
        nothing_sent,
        failures,
        first_attempt,
        now,
        limits,
        jitter,
    ) {
        Finish::Retry { at, error, .. } => Finish::Retry {
            at,
            error,
            count_attempt: false,
        },
        other => other,
    }
}

/// How a target ends when its account must wait until `until` before sending anything
/// (the network's rate limit, `reason` in its words): tried again then, behind the
/// account's older targets; or failed, when `until` is past the retry window that began
/// at `first_attempt`. Times are written in `zone`.
pub fn after_wait(
    until: DateTime<Utc>,
    reason: &str,
    first_attempt: DateTime<Utc>,
    limits: RetryLimits,
    zone: chrono_tz::Tz,
) -> Finish {
    let reason = without_retry_promise(reason);
    if until > first_attempt + limits.window {
        Finish::Failed {
            error: format!(
                "the network asks this account to wait until {}, past the {} min retry window, so postctl gave up: {reason}",
                crate::time::format_moment(until, zone),
                limits.window.num_minutes()
            ),
        }
    } else {
        Finish::Retry {
            at: until,
            error: format!(
                "waiting until {} as the network asked: {reason}",
                crate::time::format_moment(until, zone)
            ),
            count_attempt: false,
        }
    }
}

/// Whether a part whose fate is unknown (interrupted at `since`, or answered in a way
/// that left it open) may be sent again at `now`: only while the network recognises the
/// repeat. Else why not, for the user.
pub fn resend(
    network: Network,
    idempotency: Idempotency,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    // Without a record of when it was sent, the part counts as sent long ago.
    let safe = since.and_then(|since| idempotency.safe_until(since));
    match (idempotency, safe) {
        (_, Some(safe)) if now <= safe => Ok(()),
        (Idempotency::None, _) => Err(idempotency.describe(network)),
        _ => Err(format!(
            "{}, and it was sent {} min ago",
            idempotency.describe(network),
            since.map_or(0, |since| (now - since).num_minutes())
        )),
    }
}

/// An adapter's message without a "will retry" ending, which only the decision may say.
fn without_retry_promise(message: &str) -> &str {
    [
        "; will retry",
        "; it will be retried",
        ", will retry",
        "; rate limited, will retry",
    ]
    .iter()
    .filter_map(|ending| message.find(ending))
    .min()
    .map_or(message, |at| &message[..at])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_promises_are_cut_from_adapter_messages() {
        let cases = [
            (
                "Discord had a server error (500); will retry",
                "Discord had a server error (500)",
            ),
            (
                "x failed (503) while posting; it will be retried",
                "x failed (503) while posting",
            ),
            ("slack said no; rate limited, will retry", "slack said no"),
            ("timed out", "timed out"),
        ];
        for (message, expected) in cases {
            assert_eq!(super::without_retry_promise(message), expected);
        }
    }

    #[test]
    fn only_rejected_credentials_are_called_so() {
        let cases = [
            (
                PublishError::auth("token revoked"),
                "credentials rejected: token revoked",
            ),
            (
                PublishError::NeedsPerson {
                    message: "VK wants a captcha solved: solve it on vk.com".into(),
                    status: None,
                },
                "VK wants a captcha solved: solve it on vk.com",
            ),
            (PublishError::permanent("too long"), "too long"),
        ];
        for (error, said) in cases {
            let finish = after_error(&error, None, 1, t0(), t0(), LIMITS, 0.5);
            assert_eq!(finish.error(), Some(said), "{error:?}");
            assert_eq!(kind(&finish), "failed");
        }
    }

    fn retryable(maybe_sent: bool, retry_after_s: Option<u64>) -> PublishError {
        PublishError::Retryable {
            message: "503; will retry".into(),
            retry_after: retry_after_s.map(std::time::Duration::from_secs),
            maybe_sent,
            status: Some(503),
        }
    }

    const LIMITS: RetryLimits = RetryLimits {
        window: Duration::minutes(30),
        max_delay: Duration::minutes(5),
    };

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap()
    }

    fn kind(finish: &Finish) -> String {
        match finish {
            Finish::Published => "published".to_string(),
            Finish::Retry { at, .. } => format!("retry+{}s", (*at - t0()).num_seconds()),
            Finish::Failed { .. } => "failed".into(),
            Finish::Uncertain { .. } => "uncertain".into(),
            Finish::Release => "release".into(),
        }
    }

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
        let always = Some(DateTime::<Utc>::MAX_UTC);
        let soon = Some(t0() + Duration::seconds(5));
        let cases = [
            (PublishError::auth("401"), always, 1, "failed"),
            (PublishError::permanent("422"), always, 1, "failed"),
            (retryable(false, None), None, 1, "retry+1s"),
            (retryable(false, Some(7)), None, 1, "retry+7s"),
            (retryable(true, None), always, 2, "retry+2s"),
            (retryable(true, None), None, 1, "uncertain"),
            // Idempotent, but the retry would come after the network forgets the key.
            (retryable(true, Some(60)), soon, 1, "uncertain"),
            (retryable(true, Some(3)), soon, 1, "retry+3s"),
            (retryable(false, Some(3600)), always, 1, "failed"),
            // Headers that say "forever" are a day at most, then past the window.
            (retryable(false, Some(u64::MAX)), always, 1, "failed"),
        ];
        for (error, safe, attempt, expected) in cases {
            let finish = after_error(&error, safe, attempt, t0(), t0(), LIMITS, 0.5);
            assert_eq!(kind(&finish), expected, "{error:?} safe={safe:?}");
            // One truthful message: only a retry says it will retry.
            let says_retry = finish.error().is_some_and(|e| e.contains("will retry"));
            assert_eq!(
                says_retry,
                matches!(finish, Finish::Retry { .. }),
                "{finish:?}"
            );
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
            let finish = after_account_error(&error, failures, t0(), t0(), LIMITS, 0.5);
            if let Finish::Retry { count_attempt, .. } = &finish {
                assert!(!count_attempt, "{error:?}");
            }
            assert_eq!(kind(&finish), expected, "{error:?} failures={failures}");
        }
        // Late in the window, even a short backoff crosses it.
        let late = t0() + Duration::minutes(29) + Duration::seconds(59);
        let finish = after_error(&retryable(false, None), None, 9, t0(), late, LIMITS, 0.5);
        assert!(
            matches!(finish, Finish::Failed { ref error } if error.contains("gave up after 9")),
            "{finish:?}"
        );
    }

    #[test]
    fn an_account_wait_is_kept_or_fails_past_the_window() {
        let cases = [
            (Duration::seconds(300), "retry+300s"),
            (Duration::minutes(30), "retry+1800s"),
            (Duration::minutes(31), "failed"),
            (Duration::days(365 * 300), "failed"),
        ];
        for (wait, expected) in cases {
            let finish = after_wait(
                t0() + wait,
                "HTTP 429; will retry",
                t0(),
                LIMITS,
                chrono_tz::Tz::UTC,
            );
            assert_eq!(kind(&finish), expected, "{wait}");
            assert!(
                !finish.error().unwrap_or_default().contains("will retry"),
                "{finish:?}"
            );
        }
    }

    #[test]
    fn an_interrupted_part_is_sent_again_only_inside_the_window() {
        let masto = Idempotency::Within(Duration::minutes(55));
        let discord = Idempotency::Within(Duration::minutes(2));
        let bluesky = Idempotency::Always;
        let telegram = Idempotency::None;
        let ago = |minutes| Some(t0() - Duration::minutes(minutes));
        let cases = [
            (Network::Mastodon, masto, ago(10), true),
            (Network::Mastodon, masto, ago(61), false),
            (Network::Mastodon, masto, None, false),
            (Network::Discord, discord, ago(1), true),
            (Network::Discord, discord, ago(10), false),
            (Network::Bluesky, bluesky, ago(60 * 24 * 30), true),
            (Network::Telegram, telegram, ago(0), false),
        ];
        for (network, idempotency, since, expected) in cases {
            let got = resend(network, idempotency, since, t0());
            assert_eq!(got.is_ok(), expected, "{network:?} {since:?}: {got:?}");
        }
    }
}
