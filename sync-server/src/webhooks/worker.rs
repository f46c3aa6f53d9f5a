//! The delivery worker every `serve` process runs: claim due deliveries with a lease
//! (so several processes on one PostgreSQL send each attempt once), send them signed, and
//! record each attempt and what follows it (delivered, retry at, failed), disabling
//! endpoints that keep failing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::address::{CheckedResolver, check_literal};
use super::signing::{SigningKey, signature_header};
use super::{Policy, after_failure};
use crate::auth::Guard;
use crate::auth::sealed::ServerKey;
use crate::storage::{Attempt, AttemptEnd, Delivery, Finished, Storage, Webhook};

/// Attempts one process has in flight at most.
const BATCH: u32 = 16;
/// How often the worker looks for due deliveries when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);
/// The most of a receiver's answer kept with an attempt, in bytes.
pub const ANSWER_EXCERPT: usize = 1024;

/// What the worker needs; shared with the API, which wakes it after recording deliveries.
pub struct Outbox {
    pub storage: Arc<dyn Storage>,
    pub policy: Policy,
    wake: Notify,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("policy", &self.policy)
            .finish()
    }
}

impl Outbox {
    pub fn new(storage: Arc<dyn Storage>, policy: Policy) -> Outbox {
        Outbox {
            storage,
            policy,
            wake: Notify::new(),
        }
    }

    /// Tells this process's worker that deliveries may be due now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The HTTP client webhooks go through: the checked resolver, no redirects followed, no
/// proxy (it would resolve the host itself), the attempt's time limit.
pub fn client(policy: &Policy) -> anyhow::Result<reqwest::Client> {
    postctl_core::tls::client_builder()
        .dns_resolver(Arc::new(CheckedResolver {
            allow_private: policy.allow_private,
        }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_millis(policy.timeout_ms))
        .user_agent(concat!("postctl-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| anyhow::anyhow!("could not make the webhook HTTP client: {e}"))
}

/// Sends deliveries through `client` (made by [`client`]) until the task is dropped.
pub async fn run(outbox: Arc<Outbox>, guard: Arc<Guard>, client: reqwest::Client) {
    let owner = uuid::Uuid::now_v7().to_string();
    // A lease outlasts an attempt, so it passes to another process only when this one
    // stopped or hung.
    let lease_ms = outbox.policy.timeout_ms as i64 + 30_000;
    // Attempts in flight: a slow receiver holds one place, not the others' turns.
    let mut sending = tokio::task::JoinSet::new();
    loop {
        while sending.try_join_next().is_some() {}
        let room = BATCH.saturating_sub(sending.len() as u32);
        let mut claimed_all = false;
        if room > 0 {
            let now = crate::api::now_ms();
            let claimed = match outbox
                .storage
                .claim_deliveries(&owner, now, lease_ms, room)
                .await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!("could not claim webhook deliveries: {e}");
                    Vec::new()
                }
            };
            claimed_all = claimed.len() == room as usize;
            for (delivery, webhook) in claimed {
                let (outbox, guard, client, owner) =
                    (outbox.clone(), guard.clone(), client.clone(), owner.clone());
                sending.spawn(async move {
                    deliver(
                        &outbox,
                        &guard.server_key,
                        &client,
                        &owner,
                        delivery,
                        webhook,
                    )
                    .await;
                });
            }
        }
        if claimed_all {
            // More may be due: claim again once there is room.
            if sending.len() as u32 >= BATCH {
                sending.join_next().await;
            }
            continue;
        }
        tokio::select! {
            _ = outbox.wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
        }
    }
}

/// One attempt at a claimed delivery, recorded.
async fn deliver(
    outbox: &Outbox,
    key: &ServerKey,
    client: &reqwest::Client,
    owner: &str,
    delivery: Delivery,
    webhook: Webhook,
) {
    let started_ms = crate::api::now_ms();
    let started = Instant::now();
    let answer = send(outbox, key, client, &delivery, &webhook, started_ms).await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let now = crate::api::now_ms();
    let (attempt, end) = judge(
        &outbox.policy,
        &delivery,
        answer,
        started_ms,
        duration_ms,
        now,
    );
    match outbox
        .storage
        .finish_attempt(&delivery.id, owner, &attempt, &end, now)
        .await
    {
        Ok(Finished::Recorded { disabled: true }) => {
            let reason = match &end {
                AttemptEnd::GaveUp { reason, .. } | AttemptEnd::Gone { reason } => reason.as_str(),
                _ => "",
            };
            // The owner is told through the log and the endpoint's `disabled_at` and
            // `disabled_reason`; they enable it again with PATCH.
            tracing::warn!(
                webhook_id = %webhook.id,
                workspace_id = %webhook.workspace_id,
                // The origin only: a receiver's URL may carry a token in its path or query.
                origin = %reqwest::Url::parse(&webhook.url)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default(),
                "webhook endpoint disabled: {reason}"
            );
        }
        Ok(Finished::Recorded { disabled: false }) => {}
        Ok(Finished::LeaseLost) => tracing::warn!(
            delivery_id = %delivery.id,
            "a webhook attempt took longer than its lease; another process has the delivery"
        ),
        Err(e) => tracing::warn!(
            delivery_id = %delivery.id,
            "could not record a webhook attempt: {e}"
        ),
    }
}

/// What came back from one attempt.
#[derive(Debug)]
enum Answer {
    /// The receiver answered with this status and the start of this body.
    Status(u16, String),
    /// No answer: why.
    Error(String),
}

async fn send(
    outbox: &Outbox,
    key: &ServerKey,
    client: &reqwest::Client,
    delivery: &Delivery,
    webhook: &Webhook,
    now_ms: i64,
) -> Answer {
    let url = match reqwest::Url::parse(&webhook.url) {
        Ok(url) => url,
        Err(e) => return Answer::Error(format!("the endpoint's URL is not valid: {e}")),
    };
    if let Err(refused) = check_literal(&url, outbox.policy.allow_private) {
        return Answer::Error(refused);
    }
    let Some(current) = open(key, webhook, &webhook.secret) else {
        return Answer::Error(
            "the endpoint's secret does not open with this server's key: every process needs \
             the same POSTCTL_SERVER_KEY"
                .into(),
        );
    };
    let old = match (&webhook.old_secret, webhook.old_secret_until_ms) {
        (Some(sealed), Some(until)) if until > now_ms => open(key, webhook, sealed),
        _ => None,
    };
    let timestamp = now_ms.div_euclid(1000);
    let signature = signature_header(
        &current,
        old.as_ref(),
        &delivery.id,
        timestamp,
        delivery.payload.as_bytes(),
    );
    let result = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await;
    let mut response = match result {
        Ok(response) => response,
        Err(e) => return Answer::Error(transport_error(e)),
    };
    let status = response.status().as_u16();
    let mut excerpt = Vec::new();
    while excerpt.len() < ANSWER_EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
            // An answer cut short still has its status.
            Ok(None) | Err(_) => break,
        }
    }
    Answer::Status(status, excerpt_text(&excerpt))
}

fn open(key: &ServerKey, webhook: &Webhook, sealed: &str) -> Option<SigningKey> {
    key.open(&webhook.id, sealed)
        .ok()
        .map(SigningKey::from_bytes)
}

/// The first [`ANSWER_EXCERPT`] bytes as text, cut at a character boundary.
fn excerpt_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(ANSWER_EXCERPT)]);
    let mut end = text.len().min(ANSWER_EXCERPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// What went wrong sending, without the endpoint's URL: receivers often carry a token in
/// it, and this text is kept with the attempt and shown through the API.
pub(crate) fn transport_error(e: reqwest::Error) -> String {
    error_chain(&e.without_url())
}

/// An error with its causes: reqwest's own message rarely says what failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The attempt as recorded and what follows it (a pure decision).
fn judge(
    policy: &Policy,
    delivery: &Delivery,
    answer: Answer,
    started_ms: i64,
    duration_ms: i64,
    now_ms: i64,
) -> (Attempt, AttemptEnd) {
    let number = delivery.attempt_count.saturating_add(1);
    let (status, text, error) = match answer {
        Answer::Status(status, text) => (Some(status), Some(text), None),
        Answer::Error(error) => (None, None, Some(error)),
    };
    let end = match (status, &error) {
        (Some(s), _) if (200..300).contains(&s) => AttemptEnd::Delivered,
        (Some(410), _) => AttemptEnd::Gone {
            reason: "the receiver answered 410 Gone: it no longer wants these events".into(),
        },
        (Some(s), _) => after_failure(
            policy,
            number,
            delivery.created_ms,
            now_ms,
            &format!("HTTP {s}"),
        ),
        (None, Some(e)) => after_failure(policy, number, delivery.created_ms, now_ms, e),
        (None, None) => after_failure(policy, number, delivery.created_ms, now_ms, "no answer"),
    };
    let attempt = Attempt {
        number,
        started_ms,
        duration_ms,
        status,
        answer: text,
        error,
    };
    (attempt, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::DeliveryState;

    fn delivery(attempts: u32) -> Delivery {
        Delivery {
            id: "d".into(),
            webhook_id: "w".into(),
            workspace_id: "ws".into(),
            event_type: "ping".into(),
            payload: "{}".into(),
            state: DeliveryState::Pending,
            next_attempt_ms: 0,
            created_ms: 0,
            finished_ms: None,
            redelivery_of: None,
            attempt_count: attempts,
            // As claimed: without the attempts themselves.
            attempts: Vec::new(),
        }
    }

    #[test]
    fn answers_decide_what_follows() {
        let policy = Policy::default();
        let cases: Vec<(Answer, AttemptEnd)> = vec![
            (Answer::Status(200, "ok".into()), AttemptEnd::Delivered),
            (Answer::Status(204, String::new()), AttemptEnd::Delivered),
            (
                Answer::Status(500, "boom".into()),
                AttemptEnd::RetryAt(1_000 + 10_000),
            ),
            (
                Answer::Status(301, String::new()),
                AttemptEnd::RetryAt(1_000 + 10_000),
            ),
            (
                Answer::Error("timed out".into()),
                AttemptEnd::RetryAt(1_000 + 10_000),
            ),
        ];
        for (answer, expected) in cases {
            let label = format!("{answer:?}");
            let (attempt, end) = judge(&policy, &delivery(0), answer, 900, 100, 1_000);
            assert_eq!(end, expected, "{label}");
            assert_eq!(attempt.number, 1);
        }
        let (attempt, end) = judge(
            &policy,
            &delivery(2),
            Answer::Status(410, "gone".into()),
            0,
            5,
            1,
        );
        assert!(matches!(end, AttemptEnd::Gone { .. }), "{end:?}");
        assert_eq!(attempt.answer.as_deref(), Some("gone"));
        // The fourth attempt waits eight times the first retry's wait.
        let (attempt, end) = judge(
            &policy,
            &delivery(3),
            Answer::Status(502, String::new()),
            0,
            5,
            1_000,
        );
        assert_eq!(
            (attempt.number, end),
            (4, AttemptEnd::RetryAt(1_000 + 80_000))
        );
    }

    #[test]
    fn excerpts_are_cut_on_a_character() {
        let long = "é".repeat(ANSWER_EXCERPT);
        let cut = excerpt_text(long.as_bytes());
        assert!(cut.len() <= ANSWER_EXCERPT && cut.chars().all(|c| c == 'é'));
        assert_eq!(excerpt_text(b"short"), "short");
    }

    #[tokio::test]
    async fn a_failed_send_never_quotes_the_endpoints_url() {
        let token = "hook-token-3f9a";
        let e = postctl_core::tls::client_builder()
            .no_proxy()
            .build()
            .expect("a client")
            .post(format!("http://127.0.0.1:1/in/{token}?key={token}"))
            .send()
            .await
            .expect_err("nothing listens on port 1");
        assert!(e.to_string().contains(token), "reqwest quotes the URL: {e}");
        let said = transport_error(e);
        assert!(!said.contains(token), "{said}");
        assert!(!said.is_empty());
    }
}
