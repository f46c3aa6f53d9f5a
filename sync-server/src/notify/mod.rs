//! Notifications: the events webhooks receive also reach people, in their in-app inbox and
//! through their own channels (email over SMTP, ntfy, Telegram, and Slack, Discord or
//! Matrix through one of the workspace's accounts), as each chose per event
//! type, and in a daily digest at a time they pick in their zone.
//!
//! Every event a storage records for webhooks is also kept in `notification_events` by the
//! same transaction. The [`worker`] of every `serve` process claims them with a lease,
//! decides who receives each ([`audience`]) and through what ([`channels_for`]), renders
//! the message ([`message`]) and writes the inbox items and the messages to send in one
//! transaction; then it sends the messages (claimed with a lease too, so several
//! processes send each once), retrying with backoff ([`after_failure`]). Nothing here is
//! on the publishing path: a channel that fails only delays its own messages.

pub mod channels;
pub mod digest;
pub mod worker;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::storage::{ChannelKind, Member, NotificationSettings, Role, SendEnd};
use crate::webhooks::EventType;

/// The in-app inbox, as a preference names it.
pub const INAPP: &str = "inapp";

/// The event types people can be told of (not `ping`, which only tests endpoints).
pub fn event_types() -> impl Iterator<Item = EventType> {
    EventType::ALL.into_iter().filter(|e| *e != EventType::Ping)
}

/// Whether an event type reaches the inbox and every channel when its receiver chose
/// nothing: failures, missed and uncertain posts, accounts that need signing in again,
/// approvals asked for, and webhook endpoints disabled.
pub fn on_by_default(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::PostFailed
            | EventType::PostMissed
            | EventType::PostUncertain
            | EventType::AccountNeedsReauth
            | EventType::ApprovalRequested
            | EventType::WebhookDisabled
    )
}

/// The names a preference may list: `inapp` and the channel kinds.
pub fn channel_names() -> Vec<&'static str> {
    std::iter::once(INAPP)
        .chain(ChannelKind::ALL.map(ChannelKind::as_str))
        .collect()
}

/// Where an event of `event_type` reaches a user with `settings`: the names of
/// [`channel_names`] (the user's choice for it, else everything or nothing by
/// [`on_by_default`]).
pub fn channels_for(settings: &NotificationSettings, event_type: &str) -> Vec<String> {
    if let Some((_, chosen)) = settings.preferences.iter().find(|(e, _)| e == event_type) {
        return chosen.clone();
    }
    match EventType::parse(event_type) {
        Some(kind) if on_by_default(kind) => {
            channel_names().into_iter().map(str::to_string).collect()
        }
        _ => Vec::new(),
    }
}

/// What an event's body says about who it concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The post's author, when the event is about a post.
    pub author_id: Option<String>,
    /// The users named as approvers, when the event asks for an approval.
    pub approvers: Vec<String>,
}

impl Subject {
    /// Reads `data` of an event body (`data.post.author_id`, `data.author_id` or the
    /// endpoint's `data.webhook.created_by`, `data.approvers`).
    pub fn of(payload: &Value) -> Subject {
        let data = &payload["data"];
        let author_id = data["post"]["author_id"]
            .as_str()
            .or_else(|| data["author_id"].as_str())
            .or_else(|| data["webhook"]["created_by"].as_str())
            .map(str::to_string);
        let approvers = data["approvers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Subject {
            author_id,
            approvers,
        }
    }
}

/// Who receives an event of `kind` in a workspace with `members`: user ids, without
/// repeats, in the members' order.
///
/// - a post's failures (failed, uncertain, missed): its author, and the owners and admins;
/// - a post published or scheduled, an approval decided: its author (the owners and
///   admins when the author is not known);
/// - an approval asked for: the named approvers, the owners and the admins, not the
///   author asking;
/// - an account that needs signing in again, an analytics report: owners and admins;
/// - a webhook endpoint disabled: whoever made it, and the owners and admins.
///
/// Only members receive anything: someone removed from the workspace hears no more of it.
pub fn audience(kind: EventType, subject: &Subject, members: &[Member]) -> Vec<String> {
    let managers = || {
        members
            .iter()
            .filter(|m| m.role >= Role::Admin)
            .map(|m| m.user_id.clone())
    };
    let author = subject
        .author_id
        .iter()
        .filter(|a| members.iter().any(|m| &m.user_id == *a))
        .cloned();
    let chosen: Vec<String> = match kind {
        EventType::PostFailed
        | EventType::PostUncertain
        | EventType::PostMissed
        | EventType::WebhookDisabled => author.chain(managers()).collect(),
        EventType::PostPublished | EventType::PostScheduled | EventType::ApprovalDecided => {
            let author: Vec<String> = author.collect();
            if author.is_empty() {
                managers().collect()
            } else {
                author
            }
        }
        EventType::ApprovalRequested => subject
            .approvers
            .iter()
            .filter(|a| members.iter().any(|m| &m.user_id == *a))
            .cloned()
            .chain(managers())
            .filter(|u| subject.author_id.as_ref() != Some(u))
            .collect(),
        EventType::AccountNeedsReauth | EventType::AnalyticsReportReady => managers().collect(),
        EventType::Ping => Vec::new(),
    };
    let mut seen = BTreeSet::new();
    chosen
        .into_iter()
        .filter(|u| seen.insert(u.clone()))
        .collect()
}

/// A notification as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// One line: the inbox item's title, the email's subject, the ntfy title.
    pub title: String,
    /// Plain text.
    pub text: String,
    /// The same as HTML (the email's HTML part).
    pub html: String,
}

/// Escapes text for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The first `max` characters of `text`, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The message for an event body in the workspace named `workspace`.
pub fn message(workspace: &str, payload: &Value) -> Message {
    let kind = payload["type"].as_str().unwrap_or("event");
    let data = &payload["data"];
    let post = &data["post"];
    let what = post["title"]
        .as_str()
        .filter(|t| !t.trim().is_empty())
        .map(|t| format!("“{}”", excerpt(t, 60)))
        .or_else(|| {
            post["body"]
                .as_str()
                .map(|b| format!("“{}”", excerpt(b, 60)))
        })
        .unwrap_or_else(|| "a post".into());
    let account = data["account"]["name"]
        .as_str()
        .or_else(|| data["target"]["account"].as_str())
        .or_else(|| data["account"].as_str());
    let on = account.map(|a| format!(" on {a}")).unwrap_or_default();
    let headline = match EventType::parse(kind) {
        Some(EventType::PostPublished) => format!("Published{on}: {what}"),
        Some(EventType::PostFailed) => format!("Failed{on}: {what}"),
        Some(EventType::PostUncertain) => format!("Unsure whether it was published{on}: {what}"),
        Some(EventType::PostMissed) => format!("Missed its time{on}: {what}"),
        Some(EventType::PostScheduled) => format!("Scheduled: {what}"),
        Some(EventType::ApprovalRequested) => format!("Waiting for your approval: {what}"),
        Some(EventType::ApprovalDecided) => {
            let decision = data["decision"].as_str().unwrap_or("decided");
            format!("Approval {decision}: {what}")
        }
        Some(EventType::AccountNeedsReauth) => format!(
            "Sign in again: the account {} needs it",
            account.unwrap_or("(unnamed)")
        ),
        Some(EventType::AnalyticsReportReady) => "Analytics report ready".to_string(),
        Some(EventType::WebhookDisabled) => {
            let hook = &data["webhook"];
            let origin = hook["origin"].as_str().filter(|o| !o.is_empty());
            format!(
                "Webhook endpoint disabled: {} ({})",
                origin.unwrap_or("(no origin)"),
                hook["id"].as_str().unwrap_or("?")
            )
        }
        Some(EventType::Ping) | None => format!("Event {kind}"),
    };
    let title = format!("[{workspace}] {headline}");
    let mut lines = vec![headline.clone()];
    for (label, value) in [
        ("Why", data["error"].as_str().or(data["reason"].as_str())),
        ("Comment", data["comment"].as_str()),
        ("Post", post["id"].as_str().or(data["post_id"].as_str())),
        (
            "Link",
            data["url"].as_str().or(data["target"]["url"].as_str()),
        ),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            lines.push(format!("{label}: {value}"));
        }
    }
    if let Some(id) = data["webhook"]["id"].as_str() {
        lines.push(format!(
            "Endpoint: {id}; it receives nothing until enabled again \
             (`postctl webhooks enable {id}`, or PATCH /api/v1/webhooks/{id} with \
             {{\"enabled\": true}})"
        ));
    }
    lines.push(format!("Workspace: {workspace}"));
    let text = lines.join("\n");
    let html = format!(
        "<html><body><h1>{}</h1><ul>{}</ul></body></html>",
        html_escape(&headline),
        lines[1..]
            .iter()
            .map(|l| format!("<li>{}</li>", html_escape(l)))
            .collect::<String>()
    );
    Message { title, text, html }
}

/// How messages to channels are sent and retried, from the settings.
#[derive(Clone, PartialEq)]
pub struct Settings {
    /// The SMTP relay email goes through; without one, email channels cannot be added.
    pub smtp: Option<Smtp>,
    /// The Bot API's base URL (`https://api.telegram.org`).
    pub telegram_api: String,
    /// The wait before the first retry; each next one waits twice as long, up to an hour.
    pub first_retry_ms: u64,
    /// How long a message is retried, from when it was made.
    pub retry_window_ms: u64,
    /// How long one attempt may take.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("notify::Settings")
            .field("smtp", &self.smtp)
            .field("telegram_api", &self.telegram_api)
            .field("first_retry_ms", &self.first_retry_ms)
            .field("retry_window_ms", &self.retry_window_ms)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            smtp: None,
            telegram_api: "https://api.telegram.org".into(),
            first_retry_ms: 30_000,
            retry_window_ms: 24 * 3_600_000,
            timeout_ms: 15_000,
        }
    }
}

/// The SMTP relay (`smtp_*` settings). The password comes from the environment or
/// server.toml only, never a flag, and is never shown.
#[derive(Clone, PartialEq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The `From:` address.
    pub from: String,
    /// Upgrade the connection with STARTTLS before AUTH (on by default; off only for a
    /// relay on the same machine or in tests).
    pub starttls: bool,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("from", &self.from)
            .field("starttls", &self.starttls)
            .finish()
    }
}

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY_MS: u64 = 3_600_000;

/// What follows a failed attempt: the `attempts`-th (1 for the first) of a message made at
/// `created_ms`, failed at `now_ms` with `why`: doubling waits from the first retry's,
/// until the retry window has passed, then given up.
pub fn after_failure(
    settings: &Settings,
    attempts: u32,
    created_ms: i64,
    now_ms: i64,
    why: &str,
) -> SendEnd {
    if now_ms.saturating_sub(created_ms) >= settings.retry_window_ms as i64 {
        return SendEnd::GaveUp(format!("gave up after {attempts} attempts: {why}"));
    }
    let doublings = attempts.saturating_sub(1).min(32);
    let delay = settings
        .first_retry_ms
        .saturating_mul(1u64 << doublings)
        .min(MAX_RETRY_DELAY_MS);
    SendEnd::RetryAt(now_ms.saturating_add(delay as i64), why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(user: &str, role: Role) -> Member {
        Member {
            user_id: user.into(),
            user_name: user.into(),
            role,
        }
    }

    fn team() -> Vec<Member> {
        vec![
            member("owner", Role::Owner),
            member("admin", Role::Admin),
            member("editor", Role::Editor),
            member("viewer", Role::Viewer),
        ]
    }

    #[test]
    fn each_event_reaches_the_people_it_concerns() {
        let by_editor = Subject {
            author_id: Some("editor".into()),
            approvers: Vec::new(),
        };
        let cases: Vec<(EventType, Subject, Vec<&str>)> = vec![
            (
                EventType::PostFailed,
                by_editor.clone(),
                vec!["editor", "owner", "admin"],
            ),
            (
                EventType::PostMissed,
                by_editor.clone(),
                vec!["editor", "owner", "admin"],
            ),
            (EventType::PostPublished, by_editor.clone(), vec!["editor"]),
            (
                EventType::PostPublished,
                Subject::default(),
                vec!["owner", "admin"],
            ),
            (
                EventType::ApprovalRequested,
                Subject {
                    author_id: Some("editor".into()),
                    approvers: vec!["viewer".into(), "stranger".into()],
                },
                vec!["viewer", "owner", "admin"],
            ),
            (
                EventType::ApprovalRequested,
                Subject {
                    author_id: Some("admin".into()),
                    approvers: Vec::new(),
                },
                vec!["owner"],
            ),
            (
                EventType::ApprovalDecided,
                by_editor.clone(),
                vec!["editor"],
            ),
            (
                EventType::AccountNeedsReauth,
                Subject::default(),
                vec!["owner", "admin"],
            ),
            (EventType::Ping, by_editor.clone(), vec![]),
            // Whoever made a disabled endpoint, then the owners and admins.
            (
                EventType::WebhookDisabled,
                Subject::of(&json!({"data": {"webhook": {"created_by": "admin"}}})),
                vec!["admin", "owner"],
            ),
            // An author who left the workspace is not told.
            (
                EventType::PostFailed,
                Subject {
                    author_id: Some("gone".into()),
                    approvers: Vec::new(),
                },
                vec!["owner", "admin"],
            ),
        ];
        for (kind, subject, expected) in cases {
            assert_eq!(
                audience(kind, &subject, &team()),
                expected,
                "{kind:?} {subject:?}"
            );
        }
    }

    #[test]
    fn preferences_override_the_defaults() {
        let none = NotificationSettings::default();
        assert_eq!(
            channels_for(&none, "post.failed"),
            [
                "inapp", "email", "ntfy", "telegram", "slack", "discord", "matrix"
            ]
        );
        assert_eq!(channels_for(&none, "account.needs_reauth").len(), 7);
        assert_eq!(channels_for(&none, "webhook.disabled").len(), 7);
        assert!(channels_for(&none, "post.published").is_empty());
        assert!(channels_for(&none, "ping").is_empty());
        let chosen = NotificationSettings {
            preferences: vec![
                ("post.failed".into(), vec!["ntfy".into()]),
                ("post.published".into(), vec!["inapp".into()]),
            ],
            digest: None,
        };
        assert_eq!(channels_for(&chosen, "post.failed"), ["ntfy"]);
        assert_eq!(channels_for(&chosen, "post.published"), ["inapp"]);
        assert_eq!(channels_for(&chosen, "post.missed").len(), 7);
    }

    #[test]
    fn subjects_are_read_from_the_event_body() {
        let body = json!({"type": "approval.requested", "data": {
            "post": {"id": "p1", "author_id": "u1"}, "approvers": ["u2", 3]}});
        assert_eq!(
            Subject::of(&body),
            Subject {
                author_id: Some("u1".into()),
                approvers: vec!["u2".into()]
            }
        );
        assert_eq!(Subject::of(&json!({})), Subject::default());
    }

    #[test]
    fn messages_say_what_happened_and_escape_html() {
        let body = json!({"type": "post.failed", "data": {
            "post": {"id": "p1", "title": "Launch <b>day</b>", "body": "x"},
            "target": {"account": "mastodon-main"},
            "error": "HTTP 500 & more"}});
        let m = message("acme", &body);
        assert_eq!(
            m.title,
            "[acme] Failed on mastodon-main: “Launch <b>day</b>”"
        );
        assert!(m.text.contains("Why: HTTP 500 & more"), "{}", m.text);
        assert!(m.text.contains("Post: p1"), "{}", m.text);
        assert!(
            m.html.contains("Launch &lt;b&gt;day&lt;/b&gt;") && m.html.contains("500 &amp; more"),
            "{}",
            m.html
        );
        assert!(!m.html.contains("<b>day"), "{}", m.html);

        let off = json!({"type": "webhook.disabled", "data": {
            "webhook": {"id": "w1", "origin": "https://hooks.example.org"},
            "reason": "410 Gone"}});
        let m = message("acme", &off);
        assert_eq!(
            m.title,
            "[acme] Webhook endpoint disabled: https://hooks.example.org (w1)"
        );
        assert!(m.text.contains("Why: 410 Gone"), "{}", m.text);
        assert!(m.text.contains("\"enabled\": true"), "{}", m.text);
    }

    #[test]
    fn failed_sends_back_off_then_give_up() {
        let s = Settings::default();
        assert_eq!(
            after_failure(&s, 1, 0, 1_000, "HTTP 500"),
            SendEnd::RetryAt(31_000, "HTTP 500".into())
        );
        assert_eq!(
            after_failure(&s, 3, 0, 1_000, "x"),
            SendEnd::RetryAt(121_000, "x".into())
        );
        assert_eq!(
            after_failure(&s, 20, 0, 1_000, "x"),
            SendEnd::RetryAt(1_000 + 3_600_000, "x".into())
        );
        assert!(matches!(
            after_failure(&s, 40, 0, 24 * 3_600_000, "x"),
            SendEnd::GaveUp(why) if why.contains("40 attempts")
        ));
    }
}
