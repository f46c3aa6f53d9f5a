//! The notifier every `serve` process runs: route new events to inboxes and channels,
//! make the digests that are due, and send the messages, each claimed with a lease so
//! several processes on one PostgreSQL do each once. Each step is a function of the
//! time, so tests drive it with a fixed clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use chrono_tz::Tz;
use serde_json::Value;

use super::channels::{self, Outcome};
use super::digest;
use super::{INAPP, Settings, Subject, after_failure, audience, channels_for, message};
use crate::auth::sealed::ServerKey;
use crate::storage::{
    Channel, InboxItem, NotificationEvent, NotificationSend, Result, Routed, SendEnd, SendState,
    Storage,
};
use crate::webhooks::EventType;
use postctl_core::publish::Engine;

/// Events, digests or messages one process takes at a time.
const BATCH: u32 = 16;
/// How often the notifier looks for work when it found none.
const POLL: Duration = Duration::from_secs(1);

/// What the notifier needs; the API holds it too, for the settings.
pub struct Notifier {
    pub storage: Arc<dyn Storage>,
    pub settings: Settings,
    /// The server key the channels' tokens are sealed with.
    pub key: Arc<ServerKey>,
    /// The engine Slack, Discord and Matrix channels post through (the API's, which never
    /// claims targets); without one, those messages are given up.
    pub networks: Option<Arc<Engine>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Notifier {
    pub fn new(storage: Arc<dyn Storage>, settings: Settings, key: Arc<ServerKey>) -> Notifier {
        Notifier {
            storage,
            settings,
            key,
            networks: None,
        }
    }

    /// The same, posting Slack, Discord and Matrix notices through `networks`.
    pub fn with_networks(mut self, networks: Arc<Engine>) -> Notifier {
        self.networks = Some(networks);
        self
    }

    fn lease_ms(&self) -> i64 {
        self.settings.timeout_ms as i64 + 30_000
    }
}

/// Runs until the task is dropped.
pub async fn run(notifier: Arc<Notifier>, client: reqwest::Client) {
    let owner = uuid::Uuid::now_v7().to_string();
    loop {
        let now = crate::api::now_ms();
        let mut busy = false;
        match route_due(&notifier, &owner, now).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!("could not route notifications: {e}"),
        }
        match digests_due(&notifier, &owner, now).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!("could not make the digests due: {e}"),
        }
        match send_due(&notifier, &client, &owner, crate::api::now_ms()).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!("could not send notifications: {e}"),
        }
        if busy {
            continue;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Routes the events waiting at `now_ms`; returns how many were claimed.
pub async fn route_due(notifier: &Notifier, owner: &str, now_ms: i64) -> Result<usize> {
    let events = notifier
        .storage
        .claim_notification_events(owner, now_ms, notifier.lease_ms(), BATCH)
        .await?;
    for event in &events {
        let routed = route(notifier, event, now_ms).await?;
        if !notifier
            .storage
            .route_notification_event(&event.id, owner, &routed, now_ms)
            .await?
        {
            tracing::warn!(
                event_id = %event.id,
                "routing a notification took longer than its lease; another process has it"
            );
        }
    }
    Ok(events.len())
}

/// What one event becomes: an inbox item and messages per receiver, as each chose.
pub async fn route(notifier: &Notifier, event: &NotificationEvent, now_ms: i64) -> Result<Routed> {
    let storage = notifier.storage.as_ref();
    let mut routed = Routed::default();
    let Some(kind) = EventType::parse(&event.event_type) else {
        return Ok(routed);
    };
    let body: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let mut subject = Subject::of(&body);
    if subject.author_id.is_none()
        && let Some(post_id) = body["data"]["post"]["id"]
            .as_str()
            .or(body["data"]["post_id"].as_str())
        && let Some(post) = storage.post(&event.workspace_id, post_id).await?
    {
        subject.author_id = Some(post.author_id);
    }
    let members = storage.members(&event.workspace_id).await?;
    let workspace = storage
        .workspace_by_id(&event.workspace_id)
        .await?
        .map(|w| w.name)
        .unwrap_or_else(|| event.workspace_id.clone());
    let text = message(&workspace, &body);
    let mut accounts_told = std::collections::BTreeSet::new();
    for user_id in audience(kind, &subject, &members) {
        let settings = storage.notification_settings(&user_id).await?;
        let chosen = channels_for(&settings, &event.event_type);
        if chosen.iter().any(|c| c == INAPP) {
            routed.inbox.push(InboxItem {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: user_id.clone(),
                workspace_id: event.workspace_id.clone(),
                event_type: event.event_type.clone(),
                title: text.title.clone(),
                body: text.text.clone(),
                created_ms: now_ms,
                read_ms: None,
            });
        }
        for channel in storage.channels(&user_id).await? {
            if channel.kind.through_account() {
                // A workspace's account carries only that workspace's notices, and each
                // once, however many of its members chose it.
                let ours = storage
                    .account(&event.workspace_id, &channel.address)
                    .await?
                    .is_some();
                if !ours || accounts_told.contains(&channel.address) {
                    continue;
                }
                if chosen.iter().any(|c| c == channel.kind.as_str()) {
                    accounts_told.insert(channel.address.clone());
                }
            }
            if chosen.iter().any(|c| c == channel.kind.as_str()) {
                routed.sends.push(new_send(
                    &channel,
                    &event.event_type,
                    &text.title,
                    &text.text,
                    &text.html,
                    now_ms,
                ));
            }
        }
    }
    Ok(routed)
}

fn new_send(
    channel: &Channel,
    event_type: &str,
    subject: &str,
    text: &str,
    html: &str,
    now_ms: i64,
) -> NotificationSend {
    NotificationSend {
        id: uuid::Uuid::now_v7().to_string(),
        channel_id: channel.id.clone(),
        user_id: channel.user_id.clone(),
        event_type: event_type.to_string(),
        subject: subject.to_string(),
        text: text.to_string(),
        html: html.to_string(),
        state: SendState::Pending,
        attempts: 0,
        next_attempt_ms: now_ms,
        last_error: None,
        created_ms: now_ms,
    }
}

/// Makes the digests due at `now_ms`; returns how many were claimed. A digest covers the
/// day before its scheduled time, so when it is made does not change what it says.
pub async fn digests_due(notifier: &Notifier, owner: &str, now_ms: i64) -> Result<usize> {
    let storage = notifier.storage.as_ref();
    let due = storage
        .claim_digests(owner, now_ms, notifier.lease_ms(), BATCH)
        .await?;
    for schedule in &due {
        let zone: Tz = schedule.zone.parse().unwrap_or(chrono_tz::UTC);
        let until = schedule.next_ms;
        let mut sections = Vec::new();
        let mut workspaces = Vec::new();
        let user = storage.user_by_id(&schedule.user_id).await?;
        let name = user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_else(|| schedule.user_id.clone());
        if user.is_some() {
            for (workspace, _) in storage.workspaces_of(&schedule.user_id).await? {
                let events = storage
                    .notification_events_between(
                        &workspace.id,
                        until - digest::APPROVAL_LOOKBACK_MS,
                        until,
                    )
                    .await?;
                let section = digest::section(&workspace.name, &events, until);
                if !section.is_empty() {
                    workspaces.push(workspace.id.clone());
                }
                sections.push(section);
            }
        }
        let date = zone
            .timestamp_millis_opt(until)
            .single()
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let mut routed = Routed::default();
        if let Some(text) = digest::message(&name, &date, &sections) {
            for workspace_id in workspaces {
                routed.inbox.push(InboxItem {
                    id: uuid::Uuid::now_v7().to_string(),
                    user_id: schedule.user_id.clone(),
                    workspace_id,
                    event_type: "digest".into(),
                    title: text.title.clone(),
                    body: text.text.clone(),
                    created_ms: now_ms,
                    read_ms: None,
                });
            }
            // Not through a workspace's account: the digest covers all the user's
            // workspaces, and the account's channel is read by one workspace's people.
            for channel in storage.channels(&schedule.user_id).await? {
                if channel.kind.through_account() {
                    continue;
                }
                routed.sends.push(new_send(
                    &channel,
                    "digest",
                    &text.title,
                    &text.text,
                    &text.html,
                    now_ms,
                ));
            }
        }
        let next = digest::next_after(schedule.at_minute, zone, until.max(now_ms));
        if !storage
            .finish_digest(&schedule.user_id, owner, until, next, &routed)
            .await?
        {
            tracing::warn!(
                user_id = %schedule.user_id,
                "a digest took longer than its lease; another process has it"
            );
        }
    }
    Ok(due.len())
}

/// Sends the messages due at `now_ms`, together; returns how many were claimed.
pub async fn send_due(
    notifier: &Arc<Notifier>,
    client: &reqwest::Client,
    owner: &str,
    now_ms: i64,
) -> Result<usize> {
    let claimed = notifier
        .storage
        .claim_notification_sends(owner, now_ms, notifier.lease_ms(), BATCH)
        .await?;
    let count = claimed.len();
    let mut sending = tokio::task::JoinSet::new();
    for (send, channel) in claimed {
        let (notifier, client, owner) = (notifier.clone(), client.clone(), owner.to_string());
        sending.spawn(async move { attempt(&notifier, &client, &owner, send, channel).await });
    }
    while sending.join_next().await.is_some() {}
    Ok(count)
}

/// One attempt at a claimed message, recorded; a failure is logged and retried later.
async fn attempt(
    notifier: &Notifier,
    client: &reqwest::Client,
    owner: &str,
    send: NotificationSend,
    channel: Channel,
) {
    let token = match &channel.secret {
        Some(sealed) => match notifier.key.open(&channel.id, sealed) {
            Ok(bytes) => String::from_utf8(bytes).ok(),
            Err(_) => None,
        },
        None => None,
    };
    let outcome = if channel.secret.is_some() && token.is_none() {
        Outcome::Permanent(
            "the channel's token does not open with this server's key: every process needs \
             the same POSTCTL_SERVER_KEY"
                .into(),
        )
    } else {
        channels::deliver(
            &notifier.settings,
            client,
            notifier.networks.as_deref(),
            &channel,
            token.as_deref(),
            &send,
        )
        .await
    };
    let now = crate::api::now_ms();
    let number = send.attempts.saturating_add(1);
    let end = judge(&notifier.settings, &send, outcome, now);
    match &end {
        SendEnd::Sent => {}
        SendEnd::RetryAt(at, why) => tracing::info!(
            send_id = %send.id,
            channel_id = %channel.id,
            channel = channel.kind.as_str(),
            attempt = number,
            retry_in_ms = at - now,
            "a notification could not be sent, retrying: {why}"
        ),
        SendEnd::GaveUp(why) => tracing::warn!(
            send_id = %send.id,
            channel_id = %channel.id,
            channel = channel.kind.as_str(),
            attempt = number,
            "a notification was given up: {why}"
        ),
    }
    match notifier
        .storage
        .finish_notification_send(&send.id, owner, &end, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            send_id = %send.id,
            "a notification took longer than its lease; another process has it"
        ),
        Err(e) => tracing::warn!(send_id = %send.id, "could not record a notification: {e}"),
    }
}

/// What follows an attempt (a pure decision).
pub fn judge(
    settings: &Settings,
    send: &NotificationSend,
    outcome: Outcome,
    now_ms: i64,
) -> SendEnd {
    let number = send.attempts.saturating_add(1);
    match outcome {
        Outcome::Sent => SendEnd::Sent,
        Outcome::Permanent(why) => SendEnd::GaveUp(why),
        Outcome::Retry { why, after_ms } => {
            match after_failure(settings, number, send.created_ms, now_ms, &why) {
                SendEnd::RetryAt(at, why) => {
                    let asked = after_ms.map(|ms| now_ms.saturating_add(ms as i64));
                    SendEnd::RetryAt(asked.map_or(at, |asked| asked.max(at)), why)
                }
                other => other,
            }
        }
    }
}

/// A transport error with its causes and without the URL (a Telegram URL holds the bot's
/// token; a ntfy URL may hold one in its query).
pub fn error_text(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn send(attempts: u32) -> NotificationSend {
        NotificationSend {
            id: "s".into(),
            channel_id: "c".into(),
            user_id: "u".into(),
            event_type: "post.failed".into(),
            subject: String::new(),
            text: String::new(),
            html: String::new(),
            state: SendState::Pending,
            attempts,
            next_attempt_ms: 0,
            last_error: None,
            created_ms: 0,
        }
    }

    #[test]
    fn outcomes_decide_what_follows() {
        let s = Settings::default();
        assert_eq!(judge(&s, &send(0), Outcome::Sent, 5), SendEnd::Sent);
        assert_eq!(
            judge(&s, &send(0), Outcome::Permanent("chat not found".into()), 5),
            SendEnd::GaveUp("chat not found".into())
        );
        assert_eq!(
            judge(
                &s,
                &send(0),
                Outcome::Retry {
                    why: "HTTP 502".into(),
                    after_ms: None
                },
                1_000
            ),
            SendEnd::RetryAt(31_000, "HTTP 502".into())
        );
        // The receiver's own wait wins when it is longer.
        assert_eq!(
            judge(
                &s,
                &send(0),
                Outcome::Retry {
                    why: "429".into(),
                    after_ms: Some(120_000)
                },
                1_000
            ),
            SendEnd::RetryAt(121_000, "429".into())
        );
    }
}
