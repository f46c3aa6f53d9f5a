//! Sending one message to one channel: email through the SMTP relay (lettre: STARTTLS,
//! AUTH, a text and an HTML part), ntfy (a POST of the text to the topic URL, with the
//! title and the token in headers), Telegram (the Bot API's `sendMessage`), and Slack,
//! Discord and Matrix through the workspace's own account of that network: core's
//! adapter for the account posts the notice as it posts anything (Slack's
//! `chat.postMessage` or incoming webhook, Discord's webhook or bot message, Matrix's
//! `m.room.message` with the notice's id as the transaction id, so a retry is not a
//! second message), with the account's sealed credentials.
//!
//! Errors never quote a channel's token: Telegram's is in its URL path, so transport
//! errors are shown without the URL.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::{Value, json};

use postctl_core::platforms::PublishError;
use postctl_core::publish::Engine;

use super::{Settings, Smtp};
use crate::storage::{Channel, ChannelKind, NotificationSend};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Worth trying again (a timeout, 5xx, 429, a temporary SMTP answer); the receiver may
    /// say how long to wait.
    Retry {
        why: String,
        after_ms: Option<u64>,
    },
    /// Trying again would fail the same way (a refused token, an unknown chat, a
    /// permanent SMTP answer).
    Permanent(String),
}

/// The longest Telegram text, in code points.
const TELEGRAM_MAX: usize = 4096;

/// The longest notice posted through an account: Discord's 2,000 code points, with
/// room for the adapter's escaping.
const ACCOUNT_MAX: usize = 1800;

/// Sends `send` through `channel`; `token` is the channel's opened secret; `networks` is
/// the engine the account channels post through (`None`: this process has none).
pub async fn deliver(
    settings: &Settings,
    client: &reqwest::Client,
    networks: Option<&Engine>,
    channel: &Channel,
    token: Option<&str>,
    send: &NotificationSend,
) -> Outcome {
    match channel.kind {
        ChannelKind::Email => match &settings.smtp {
            Some(smtp) => email(smtp, settings.timeout_ms, &channel.address, send).await,
            None => Outcome::Permanent(
                "the server has no SMTP relay configured (smtp_host); ask its operator to set one"
                    .into(),
            ),
        },
        ChannelKind::Ntfy => ntfy(client, &channel.address, token, send).await,
        ChannelKind::Telegram => match token {
            Some(token) => {
                telegram(
                    client,
                    &settings.telegram_api,
                    token,
                    &channel.address,
                    send,
                )
                .await
            }
            None => Outcome::Permanent("the Telegram channel has no bot token".into()),
        },
        ChannelKind::Slack | ChannelKind::Discord | ChannelKind::Matrix => match networks {
            Some(engine) => through_account(engine, &channel.address, send).await,
            None => Outcome::Permanent(
                "this process does not post to networks; a Slack, Discord or Matrix channel \
                 needs the server's engine"
                    .into(),
            ),
        },
    }
}

/// The notice as an account posts it: the title, then the text's details (its first
/// line is the title's headline again), cut to [`ACCOUNT_MAX`].
pub fn account_text(send: &NotificationSend) -> String {
    let details = send.text.split_once('\n').map_or("", |(_, rest)| rest);
    let text = format!("{}\n{details}", send.subject);
    let text = text.trim_end().to_string();
    if text.chars().count() <= ACCOUNT_MAX {
        return text;
    }
    let mut cut: String = text.chars().take(ACCOUNT_MAX - 1).collect();
    cut.push('…');
    cut
}

/// Posts the notice through the account `account_id` with core's adapter for it. What
/// the network refuses for good (a revoked token, an unknown channel or room) is given
/// up; what it asks to retry (429, 5xx, a lost connection) is retried, after the wait it
/// named. The adapter's errors never quote the account's credentials.
async fn through_account(engine: &Engine, account_id: &str, send: &NotificationSend) -> Outcome {
    match engine
        .send_notice(account_id, &account_text(send), &send.id)
        .await
    {
        Ok(()) => Outcome::Sent,
        Err(PublishError::Retryable {
            message,
            retry_after,
            ..
        }) => Outcome::Retry {
            why: message,
            after_ms: retry_after.map(|d| d.as_millis() as u64),
        },
        Err(e) => Outcome::Permanent(e.to_string()),
    }
}

/// The mail for a message: `From` the relay's address, `To` the channel's, a text and an
/// HTML alternative.
pub fn mail(from: &str, to: &str, send: &NotificationSend) -> Result<lettre::Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("the server's smtp_from {from:?} is not an address: {e}"))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("the address {to:?} is not an email address: {e}"))?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(send.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            send.text.clone(),
            send.html.clone(),
        ))
        .map_err(|e| format!("could not build the email: {e}"))
}

async fn email(smtp: &Smtp, timeout_ms: u64, to: &str, send: &NotificationSend) -> Outcome {
    let message = match mail(&smtp.from, to, send) {
        Ok(m) => m,
        Err(why) => return Outcome::Permanent(why),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(Duration::from_millis(timeout_ms)));
    if smtp.starttls {
        match TlsParameters::new(smtp.host.clone()) {
            Ok(tls) => builder = builder.tls(Tls::Required(tls)),
            Err(e) => return Outcome::Permanent(format!("could not set up TLS for SMTP: {e}")),
        }
    }
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let transport = builder.build();
    match transport.send(message).await {
        Ok(_) => Outcome::Sent,
        Err(e) if e.is_permanent() => Outcome::Permanent(format!("the SMTP relay refused: {e}")),
        Err(e) => Outcome::Retry {
            why: format!("SMTP: {e}"),
            after_ms: None,
        },
    }
}

async fn ntfy(
    client: &reqwest::Client,
    topic_url: &str,
    token: Option<&str>,
    send: &NotificationSend,
) -> Outcome {
    let url = match reqwest::Url::parse(topic_url) {
        Ok(url) => url,
        Err(e) => return Outcome::Permanent(format!("the topic URL is not valid: {e}")),
    };
    // ntfy reads the title from a header, which must be plain ASCII-safe text; RFC 2047
    // encoded words are what it decodes for the rest.
    let mut request = client
        .post(url)
        .header("Title", header_text(&send.subject))
        .header("Tags", tag(&send.event_type))
        .header("Priority", priority(&send.event_type))
        .body(send.text.clone());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = retry_after_header(&response);
            match status {
                200..=299 => Outcome::Sent,
                429 | 500..=599 => Outcome::Retry {
                    why: format!("ntfy answered HTTP {status}"),
                    after_ms: retry_after,
                },
                _ => Outcome::Permanent(format!(
                    "ntfy answered HTTP {status} (check the topic URL and its token)"
                )),
            }
        }
        Err(e) => Outcome::Retry {
            why: format!("ntfy: {}", super::worker::error_text(e)),
            after_ms: None,
        },
    }
}

async fn telegram(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    chat_id: &str,
    send: &NotificationSend,
) -> Outcome {
    let url = format!("{}/bot{token}/sendMessage", api.trim_end_matches('/'));
    let chat: Value = chat_id
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(chat_id));
    let text: String = format!("{}\n\n{}", send.subject, send.text)
        .chars()
        .take(TELEGRAM_MAX)
        .collect();
    let body = json!({
        "chat_id": chat,
        "text": text,
        "link_preview_options": {"is_disabled": true},
    });
    let response = match client.post(url).json(&body).send().await {
        Ok(response) => response,
        Err(e) => {
            return Outcome::Retry {
                why: format!("Telegram: {}", super::worker::error_text(e)),
                after_ms: None,
            };
        }
    };
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if (200..300).contains(&status) && answer["ok"] == true {
        return Outcome::Sent;
    }
    let description = answer["description"]
        .as_str()
        .unwrap_or("no description")
        .to_string();
    match status {
        429 => Outcome::Retry {
            why: format!("Telegram: {description}"),
            after_ms: answer["parameters"]["retry_after"]
                .as_u64()
                .map(|s| s * 1000),
        },
        500..=599 => Outcome::Retry {
            why: format!("Telegram answered HTTP {status}: {description}"),
            after_ms: None,
        },
        _ => Outcome::Permanent(format!(
            "Telegram answered HTTP {status}: {description} (check the chat id and the bot's token)"
        )),
    }
}

fn retry_after_header(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s * 1000)
}

/// Header text: RFC 2047 base64 encoded words when it is not plain ASCII.
fn header_text(text: &str) -> String {
    use base64::Engine as _;
    if text.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        text.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
        )
    }
}

/// ntfy's emoji tag for an event type.
fn tag(event_type: &str) -> &'static str {
    match event_type {
        "post.published" => "white_check_mark",
        "post.failed" | "post.missed" => "x",
        "post.uncertain" => "warning",
        "account.needs_reauth" => "key",
        "approval.requested" | "approval.decided" => "raised_hand",
        _ => "bell",
    }
}

/// ntfy's priority (1–5) for an event type: failures high.
fn priority(event_type: &str) -> &'static str {
    match event_type {
        "post.failed" | "post.missed" | "post.uncertain" | "account.needs_reauth" => "4",
        _ => "3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SendState;

    fn send() -> NotificationSend {
        NotificationSend {
            id: "s".into(),
            channel_id: "c".into(),
            user_id: "u".into(),
            event_type: "post.failed".into(),
            subject: "[acme] Failed: “Launch”".into(),
            text: "Failed\nWhy: HTTP 500".into(),
            html: "<p>Failed</p>".into(),
            state: SendState::Pending,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: None,
            created_ms: 0,
        }
    }

    #[test]
    fn mail_has_both_parts_and_the_addresses() {
        let m = mail("postctl <bot@example.org>", "alice@example.org", &send()).expect("a mail");
        let raw = String::from_utf8(m.formatted()).expect("text");
        assert!(raw.contains("From: postctl <bot@example.org>"), "{raw}");
        assert!(raw.contains("To: alice@example.org"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(mail("nobody", "alice@example.org", &send()).is_err());
        assert!(mail("bot@example.org", "not an address", &send()).is_err());
    }

    #[test]
    fn account_notices_say_the_headline_once_and_fit_discord() {
        let text = account_text(&send());
        assert_eq!(text, "[acme] Failed: “Launch”\nWhy: HTTP 500");
        let long = NotificationSend {
            text: format!("Failed\n{}", "x".repeat(5_000)),
            ..send()
        };
        let cut = account_text(&long);
        assert_eq!(cut.chars().count(), ACCOUNT_MAX);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn header_text_is_ascii() {
        assert_eq!(header_text("plain"), "plain");
        let encoded = header_text("“quoted”");
        assert!(encoded.starts_with("=?UTF-8?B?") && encoded.is_ascii());
    }
}
