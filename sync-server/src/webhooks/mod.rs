//! Outbound webhooks: a workspace's endpoints receive its events as JSON POSTs signed the
//! Standard Webhooks way (<https://www.standardwebhooks.com>).
//!
//! An event becomes one delivery per subscribed, enabled endpoint, recorded in the storage
//! (in the same transaction as the change that caused it, where the storage method takes
//! events: `Storage::create_post_and_emit`). The [`worker`] in every `serve` process
//! claims due deliveries with a lease, sends them, and records each attempt; failures are
//! retried with exponential backoff for [`Policy::retry_window_ms`] (a day by default),
//! and an endpoint whose deliveries keep failing is disabled. [`address`] keeps deliveries
//! away from loopback, private and link-local addresses; [`signing`] makes the secrets and
//! the signatures.

pub mod address;
pub mod signing;
pub mod worker;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::storage::{AttemptEnd, Event, Result, Storage, Webhook};

/// The kinds of event an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PostScheduled,
    PostPublished,
    PostFailed,
    PostUncertain,
    PostMissed,
    ApprovalRequested,
    ApprovalDecided,
    AccountNeedsReauth,
    AnalyticsReportReady,
    /// An endpoint was disabled because its deliveries kept failing (or its receiver
    /// answered 410). The endpoint itself no longer receives anything; the workspace's
    /// other endpoints may subscribe to it, and its owners and admins are notified.
    WebhookDisabled,
    /// A test delivery (`POST /api/v1/webhooks/{id}/ping`); every endpoint receives it.
    Ping,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::PostScheduled,
        EventType::PostPublished,
        EventType::PostFailed,
        EventType::PostUncertain,
        EventType::PostMissed,
        EventType::ApprovalRequested,
        EventType::ApprovalDecided,
        EventType::AccountNeedsReauth,
        EventType::AnalyticsReportReady,
        EventType::WebhookDisabled,
        EventType::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PostScheduled => "post.scheduled",
            EventType::PostPublished => "post.published",
            EventType::PostFailed => "post.failed",
            EventType::PostUncertain => "post.uncertain",
            EventType::PostMissed => "post.missed",
            EventType::ApprovalRequested => "approval.requested",
            EventType::ApprovalDecided => "approval.decided",
            EventType::AccountNeedsReauth => "account.needs_reauth",
            EventType::AnalyticsReportReady => "analytics.report_ready",
            EventType::WebhookDisabled => "webhook.disabled",
            EventType::Ping => "ping",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// An event of `kind` in a workspace, happening now, with `data` as the body's `data`.
/// The body is the Standard Webhooks shape: `{"type", "timestamp", "data"}`.
pub fn event(workspace_id: &str, kind: EventType, data: Value) -> Event {
    let now = Utc::now();
    let body = json!({
        "type": kind.as_str(),
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    });
    Event {
        workspace_id: workspace_id.to_string(),
        event_type: kind.as_str().to_string(),
        payload: body.to_string(),
        created_ms: now.timestamp_millis(),
    }
}

/// Emits an event for a workspace: records a delivery to each enabled endpoint subscribed
/// to `kind`, in one transaction, and returns how many. The server's code calls this (or
/// passes [`event`] to a storage method that records it with its change).
pub async fn emit(
    storage: &dyn Storage,
    workspace_id: &str,
    kind: EventType,
    data: Value,
) -> Result<u32> {
    storage.emit_event(&event(workspace_id, kind, data)).await
}

/// The `webhook.disabled` event for an endpoint the storage disables at `now_ms` for
/// `reason`, recorded in the transaction that disables it. It names the endpoint by id
/// and origin only: a receiver's URL may carry a token in its path or query.
pub fn disabled_event(webhook: &Webhook, reason: &str, now_ms: i64) -> Event {
    let origin = reqwest::Url::parse(&webhook.url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let mut event = event(
        &webhook.workspace_id,
        EventType::WebhookDisabled,
        json!({
            "webhook": {
                "id": webhook.id,
                "origin": origin,
                "description": webhook.description,
                "events": webhook.events,
                "created_by": webhook.created_by,
            },
            "reason": reason,
            "failed_in_a_row": webhook.failed_in_a_row,
        }),
    );
    event.created_ms = now_ms;
    event
}

/// How deliveries are sent and retried, from the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Whether URLs may reach loopback, private and link-local addresses
    /// (`allow_private_webhooks`).
    pub allow_private: bool,
    /// How long one attempt may take, connection and answer.
    pub timeout_ms: u64,
    /// The wait before the first retry; each next one waits twice as long, up to an hour.
    pub first_retry_ms: u64,
    /// How long a delivery is retried, from when it was recorded.
    pub retry_window_ms: u64,
    /// Deliveries that end failed in a row before the endpoint is disabled.
    pub disable_after: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow_private: false,
            timeout_ms: 15_000,
            first_retry_ms: 10_000,
            retry_window_ms: 24 * 3_600_000,
            disable_after: 5,
        }
    }
}

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY_MS: u64 = 3_600_000;

/// What follows a failed attempt: the `attempts`-th (1 for the first) of a delivery
/// recorded at `created_ms`, failed at `now_ms` with `why`. Retried with exponential
/// backoff until the retry window has passed, so the last attempt is at least the window
/// after the first; then given up.
pub fn after_failure(
    policy: &Policy,
    attempts: u32,
    created_ms: i64,
    now_ms: i64,
    why: &str,
) -> AttemptEnd {
    if now_ms.saturating_sub(created_ms) >= policy.retry_window_ms as i64 {
        return AttemptEnd::GaveUp {
            disable_after: policy.disable_after,
            reason: format!(
                "{} deliveries in a row failed after {} of retries; the last answer: {why}",
                policy.disable_after,
                human_duration(policy.retry_window_ms)
            ),
        };
    }
    let doublings = attempts.saturating_sub(1).min(32);
    let delay = policy
        .first_retry_ms
        .saturating_mul(1u64 << doublings)
        .min(MAX_RETRY_DELAY_MS);
    AttemptEnd::RetryAt(now_ms.saturating_add(delay as i64))
}

fn human_duration(ms: u64) -> String {
    if ms >= 3_600_000 && ms.is_multiple_of(3_600_000) {
        format!("{} h", ms / 3_600_000)
    } else {
        format!("{} s", ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_back() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("post.Scheduled"), None);
    }

    #[test]
    fn failures_back_off_exponentially_for_the_whole_window() {
        let policy = Policy::default();
        let s = 1000;
        let cases = [
            (1, 0, AttemptEnd::RetryAt(10 * s)),
            (2, 10 * s, AttemptEnd::RetryAt(30 * s)),
            (3, 100 * s, AttemptEnd::RetryAt(140 * s)),
            // Capped at an hour.
            (12, 5_000 * s, AttemptEnd::RetryAt(5_000 * s + 3_600 * s)),
            // Still inside the day.
            (30, 86_399 * s, AttemptEnd::RetryAt(86_399 * s + 3_600 * s)),
        ];
        for (attempts, now, expected) in cases {
            assert_eq!(
                after_failure(&policy, attempts, 0, now, "500"),
                expected,
                "attempt {attempts}"
            );
        }
        match after_failure(&policy, 31, 0, 86_400 * s, "HTTP 500") {
            AttemptEnd::GaveUp {
                disable_after,
                reason,
            } => {
                assert_eq!(disable_after, 5);
                assert!(
                    reason.contains("24 h") && reason.contains("HTTP 500"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_event_body_is_the_standard_shape() {
        let e = event("ws", EventType::Ping, json!({ "webhook_id": "w" }));
        let body: Value = serde_json::from_str(&e.payload).expect("JSON");
        assert_eq!(body["type"], "ping");
        assert_eq!(body["data"]["webhook_id"], "w");
        assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(e.event_type, "ping");
    }
}
