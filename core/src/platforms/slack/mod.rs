//! Slack, through an incoming webhook or a bot (Web API `chat.postMessage`).
//!
//! - Webhook mode: the secret is the webhook URL, which is bound to one channel. `POST
//!   {url}` with `{"text"}` answers `ok` as plain text, and errors are short text bodies
//!   with a 4xx status. No `ts` comes back, so webhook posts cannot be threaded under,
//!   verified without posting, or deleted.
//! - Bot mode: the secret is an `xoxb-` token, sent as a Bearer token, and the channel
//!   comes from the account's settings. Errors mostly arrive as HTTP 200 with
//!   `{"ok": false, "error": "..."}`. Parts of a thread go under the first part with
//!   `thread_ts`.
//!
//! Neither mode has idempotency. Files need Slack's external upload flow
//! (`files.getUploadURLExternal`, upload, `files.completeUploadExternal`), which postctl
//! does not do yet: a part with media is refused rather than posted without them.

use serde_json::{Value, json};

use super::http::{Answer, endpoint, excerpt};
use super::metrics::reaction;
use super::mode::Mode;
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Http, Idempotency, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::secrets::Secret;
use crate::text::{Counting, Format, TextLimit};

/// Slack truncates `text` above 40,000 characters but recommends at most 4,000, and long
/// messages are hard to read in a channel: 4,000 it is, and longer posts become threads
/// (bot mode) or are refused with a clear count (webhook mode).
const TEXT_LIMIT: usize = 4000;

/// What a Slack incoming webhook takes: 4,000 characters and no
/// uploads. A bot can also thread (replies in the message's thread).
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: TEXT_LIMIT,
        counting: Counting::CodePoints,
    },
    format: Format::SlackMrkdwn,
    max_media: 0,
    max_image_bytes: 0,
    threads: false,
    idempotency: Idempotency::None,
};
const BOT: Capabilities = Capabilities {
    threads: true,
    ..DEFAULTS
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: None,
    capabilities: |account| {
        if Mode::names_bot(account) {
            BOT
        } else {
            DEFAULTS
        }
    },
    open: Some(|account, secret, tools| boxed(Slack::new(account, secret, tools.http))),
};

pub struct Slack {
    account: String,
    /// The commands that set the account up again, for credential errors.
    again: String,
    mode: Mode,
    http: Http,
}

impl Slack {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        Ok(Slack {
            account: account.name.clone(),
            again: crate::network::add_again_command(account),
            mode: Mode::from_account(account, secret, "your Slack app's Incoming Webhooks page")?,
            http,
        })
    }
}

impl Adapter for Slack {
    fn capabilities(&self) -> Capabilities {
        if self.mode.is_bot() { BOT } else { DEFAULTS }
    }

    /// Bot: `auth.test`. A webhook cannot be checked without posting to it.
    async fn verify(&self) -> Result<Verified, PublishError> {
        match &self.mode {
            Mode::Webhook { .. } => Ok(Verified {
                identity: "incoming webhook (not verifiable without posting)".into(),
            }),
            Mode::Bot { .. } => {
                let reply = self.call("auth.test", json!({})).await?;
                let user = reply.get("user").and_then(Value::as_str).unwrap_or("?");
                let identity = match reply.get("team").and_then(Value::as_str) {
                    Some(team) => format!("bot @{user} in {team}"),
                    None => format!("bot @{user}"),
                };
                Ok(Verified { identity })
            }
        }
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if !part.media.is_empty() {
            return Err(PublishError::permanent(
                "Slack media are not supported yet: postctl cannot upload files to Slack, and will not post this without them; remove --media for Slack targets, or post the image yourself",
            ));
        }
        match &self.mode {
            Mode::Webhook { url } => {
                let url = endpoint(url.expose(), &[])?;
                let request = self
                    .http
                    .client()
                    .post(url)
                    .json(&json!({ "text": part.rendered.text }));
                let answer = self.http.exchange(&self.account, request).await?;
                if !answer.is_success() {
                    return Err(self.webhook_error(&answer));
                }
                // No ts comes back: the part is known by its idempotency key.
                Ok(Published {
                    id: part.idempotency_key.clone(),
                    url: None,
                    extra: Value::Null,
                })
            }
            Mode::Bot { channel, .. } => {
                let mut body = json!({ "channel": channel, "text": part.rendered.text });
                // Slack threads are one level deep: every reply goes under the first part.
                if let Some(root) = part.root.as_ref().or(part.reply_to.as_ref()) {
                    body["thread_ts"] = json!(root.id);
                }
                let reply = self.call("chat.postMessage", body).await?;
                let (Some(ts), Some(channel)) = (
                    reply.get("ts").and_then(Value::as_str),
                    reply.get("channel").and_then(Value::as_str),
                ) else {
                    return Err(PublishError::maybe_sent(
                        "Slack answered chat.postMessage without the message's ts; check the channel before retrying",
                        None,
                    ));
                };
                let url = self.permalink(channel, ts).await;
                Ok(Published {
                    id: ts.to_owned(),
                    url,
                    extra: json!({ "channel": channel }),
                })
            }
        }
    }

    /// Bot: `chat.delete`; a message that is already gone counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let Mode::Bot { channel, .. } = &self.mode else {
            return Err(PublishError::permanent(
                "incoming webhooks cannot delete messages; delete it in Slack (hover the message, More actions, Delete message)",
            ));
        };
        let channel = published
            .extra
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or(channel);
        let body = json!({ "channel": channel, "ts": published.id });
        match self.call("chat.delete", body).await {
            Err(PublishError::Permanent { message, .. })
                if message.contains("message_not_found") =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }
    /// Bot: `reactions.get` per message: reactions by name, and the thread's `reply_count`
    /// where Slack gives it. `message_not_found` means it was deleted. An incoming webhook
    /// cannot read anything back. No views: Slack has none.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let Mode::Bot { channel, .. } = &self.mode else {
            return Ok(Metrics::NotProvided(WEBHOOK_READS_NOTHING));
        };
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let channel = post
                .extra
                .get("channel")
                .and_then(Value::as_str)
                .unwrap_or(channel);
            let query = [("channel", channel), ("timestamp", post.id.as_str())];
            let reply = match self.read("reactions.get", &query).await {
                Err(PublishError::Permanent { message, .. })
                    if message.contains("message_not_found") =>
                {
                    readings.push(PostReading::Deleted);
                    continue;
                }
                other => other?,
            };
            let message = reply.get("message").cloned().unwrap_or_default();
            let mut counters: Counters = message
                .get("reactions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    let name = r.get("name")?.as_str()?;
                    Some((reaction(name), r.get("count")?.as_u64()?))
                })
                .collect();
            if let Some(replies) = message.get("reply_count").and_then(Value::as_u64) {
                counters.insert("replies".into(), replies);
            }
            readings.push(PostReading::Counted(counters));
        }
        Ok(Metrics::Read(readings))
    }

    /// Bot: `conversations.info` with `include_num_members`: the channel's members.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let Mode::Bot { channel, .. } = &self.mode else {
            return Ok(Metrics::NotProvided(WEBHOOK_READS_NOTHING));
        };
        let query = [
            ("channel", channel.as_str()),
            ("include_num_members", "true"),
        ];
        let reply = self.read("conversations.info", &query).await?;
        let mut counters = Counters::new();
        if let Some(members) = reply["channel"]["num_members"].as_u64() {
            counters.insert("members".into(), members);
        }
        Ok(Metrics::Read(counters))
    }
}

const WEBHOOK_READS_NOTHING: &str = "a Slack incoming webhook cannot read messages or the channel back; add the account with a bot token to collect reactions and members";

impl Slack {
    /// Bot: the message's link from `chat.getPermalink` (a GET with query parameters, as
    /// Slack's SDKs call it). `None` when Slack gives none: the message is out already, so
    /// a missing link must not make the part fail or be retried.
    async fn permalink(&self, channel: &str, ts: &str) -> Option<String> {
        let Mode::Bot { base, token, .. } = &self.mode else {
            return None;
        };
        let request = self
            .http
            .client()
            .get(endpoint(base, &["chat.getPermalink"]).ok()?)
            .query(&[("channel", channel), ("message_ts", ts)])
            .bearer_auth(token.expose());
        let answer = self.http.exchange(&self.account, request).await.ok()?;
        let reply = answer.json()?;
        if reply.get("ok") != Some(&Value::Bool(true)) {
            return None;
        }
        reply
            .get("permalink")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Calls a Web API method with the bot token; `Ok` holds a reply with `ok: true`.
    async fn call(&self, method: &str, body: Value) -> Result<Value, PublishError> {
        let Mode::Bot { base, token, .. } = &self.mode else {
            return Err(PublishError::permanent(
                "this Slack account posts through a webhook, which has no Web API",
            ));
        };
        let request = self
            .http
            .client()
            .post(endpoint(base, &[method])?)
            .bearer_auth(token.expose())
            .json(&body);
        self.answered(method, request).await
    }

    /// Calls a reading Web API method with its arguments in the query, as Slack's SDKs
    /// call them (reading methods do not all take JSON bodies).
    async fn read(&self, method: &str, query: &[(&str, &str)]) -> Result<Value, PublishError> {
        let Mode::Bot { base, token, .. } = &self.mode else {
            return Err(PublishError::permanent(
                "this Slack account posts through a webhook, which has no Web API",
            ));
        };
        let request = self
            .http
            .client()
            .get(endpoint(base, &[method])?)
            .query(query)
            .bearer_auth(token.expose());
        self.answered(method, request).await
    }

    /// Sends a Web API request; `Ok` holds a reply with `ok: true`.
    async fn answered(
        &self,
        method: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, PublishError> {
        let answer = self.http.exchange(&self.account, request).await?;
        let reply = answer.json();
        match reply {
            Some(reply) if reply.get("ok") == Some(&Value::Bool(true)) => Ok(reply),
            Some(reply) if answer.is_success() => Err(self.api_error(&answer, &reply)),
            _ if answer.is_success() => Err(PublishError::maybe_sent(
                format!(
                    "Slack answered {method} with a body that is not JSON; check the channel before retrying"
                ),
                Some(answer.status),
            )),
            reply => Err(self.http_error(&answer, reply.as_ref())),
        }
    }

    /// `{"ok": false, "error": "..."}` on HTTP 200.
    fn api_error(&self, answer: &Answer, reply: &Value) -> PublishError {
        let error = reply
            .get("error")
            .and_then(Value::as_str)
            .map(excerpt)
            .unwrap_or_else(|| "unknown_error".into());
        let channel = match &self.mode {
            Mode::Bot { channel, .. } => channel.as_str(),
            Mode::Webhook { .. } => "",
        };
        let status = Some(answer.status);
        match error.as_str() {
            "invalid_auth" | "not_authed" | "token_revoked" | "token_expired"
            | "account_inactive" => PublishError::Auth {
                message: format!(
                    "Slack rejected the bot token ({error}); copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page and add the account again: `{again}`",
                    again = self.again
                ),
                status,
            },
            "ratelimited" => PublishError::Retryable {
                message: "Slack is rate limiting this app (ratelimited); will retry".into(),
                retry_after: answer.retry_after(),
                maybe_sent: false,
                status,
            },
            _ => PublishError::Permanent {
                message: format!(
                    "Slack refused the message ({error}){}",
                    hint(&error, channel)
                ),
                status,
            },
        }
    }

    fn http_error(&self, answer: &Answer, reply: Option<&Value>) -> PublishError {
        let said = reply
            .and_then(|r| r.get("error"))
            .and_then(Value::as_str)
            .map(|e| format!(": {}", excerpt(e)))
            .unwrap_or_else(|| answer.excerpt());
        classify_status(
            answer,
            format!("Slack answered HTTP {}{said}", answer.status),
        )
    }

    /// A webhook's errors are text bodies (`invalid_payload`, `no_service`, ...).
    fn webhook_error(&self, answer: &Answer) -> PublishError {
        let status = answer.status;
        let said = answer.excerpt();
        match status {
            // The webhook was removed or revoked, or the channel is gone.
            403 | 404 | 410 => PublishError::Auth {
                message: format!(
                    "Slack no longer accepts this incoming webhook (HTTP {status}{said}); create a new one and add it again: `{again}`",
                    again = self.again
                ),
                status: Some(status),
            },
            _ => classify_status(answer, format!("Slack answered HTTP {status}{said}")),
        }
    }
}

/// 429 and 5xx are retried (after Retry-After); other statuses are permanent.
fn classify_status(answer: &Answer, message: String) -> PublishError {
    match answer.status {
        429 => PublishError::Retryable {
            message: format!("{message}; rate limited, will retry"),
            retry_after: answer.retry_after(),
            maybe_sent: false,
            status: Some(429),
        },
        500..=599 => PublishError::Retryable {
            message: format!("{message}; will retry"),
            retry_after: answer.retry_after(),
            maybe_sent: true,
            status: Some(answer.status),
        },
        401 => PublishError::Auth {
            message: format!("{message}; add the account again with a valid token"),
            status: Some(401),
        },
        status => PublishError::Permanent {
            message,
            status: Some(status),
        },
    }
}

/// What to do about the usual `chat.postMessage` errors.
fn hint(error: &str, channel: &str) -> String {
    match error {
        "channel_not_found" => format!(
            "; check the channel {channel:?} (use its id, like C0123ABC, for private channels)"
        ),
        "not_in_channel" => format!("; invite the bot to {channel} with /invite @your-bot"),
        "is_archived" => format!("; the channel {channel} is archived"),
        "missing_scope" => "; give the app the chat:write scope and reinstall it".into(),
        "msg_too_long" => "; shorten the post or let it become a thread".into(),
        "no_text" => "; the post is empty".into(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::MediaFile;
    use super::super::test_server::{Reply, Request, TestServer};
    use super::*;
    use crate::network::Network;
    use crate::text::Rendered;

    const BOT_TOKEN: &str = "xoxb-1-2-bot-secret-token";
    const HOOK_SECRET: &str = "hookSecretPart0123";

    fn account(settings: Value, base_url: Option<String>) -> Account {
        Account {
            id: "a1".into(),
            name: "team".into(),
            network: Network::Slack,
            base_url,
            handle: None,
            settings,
            secret_ref: "env:SLACK".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn http() -> Http {
        Http::new(std::time::Duration::from_secs(5)).expect("client")
    }

    fn bot(base: &str) -> Slack {
        let account = account(
            json!({"mode": "bot", "channel": "C0123ABCD"}),
            Some(format!("{base}/api")),
        );
        Slack::new(&account, Secret::new(BOT_TOKEN.into()), http()).expect("adapter")
    }

    fn webhook(base: &str) -> Slack {
        let url = format!("{base}/services/T000/B000/{HOOK_SECRET}");
        Slack::new(
            &account(json!({"mode": "webhook"}), None),
            Secret::new(url),
            http(),
        )
        .expect("adapter")
    }

    fn published(id: &str) -> Published {
        Published {
            id: id.into(),
            url: None,
            extra: json!({"channel": "C0123ABCD"}),
        }
    }

    fn part(root: Option<&str>, reply_to: Option<&str>) -> Part {
        Part {
            index: usize::from(reply_to.is_some()),
            rendered: Rendered {
                text: "*Shipped* v1.2 &lt;3".into(),
                html: None,
                facets: vec![],
            },
            media: vec![],
            idempotency_key: "t1:0".into(),
            stage: Default::default(),
            reply_to: reply_to.map(published),
            root: root.map(published),
        }
    }

    #[tokio::test]
    async fn bot_posts_into_the_thread_of_the_first_part() {
        let server = TestServer::start(|request: &Request| {
            if request.path_only() == "/api/chat.getPermalink" {
                return Reply::json(
                    200,
                    json!({"ok": true, "channel": "C0123ABCD", "permalink": "https://team.slack.com/archives/C0123ABCD/p1712345678000200"}),
                );
            }
            Reply::json(
                200,
                json!({"ok": true, "channel": "C0123ABCD", "ts": "1712345678.000200"}),
            )
        })
        .await;
        let published = bot(&server.url())
            .publish(&part(Some("1712345678.000100"), Some("1712345678.000150")))
            .await
            .expect("published");
        assert_eq!(published.id, "1712345678.000200");
        assert_eq!(
            published.url.as_deref(),
            Some("https://team.slack.com/archives/C0123ABCD/p1712345678000200")
        );
        assert_eq!(published.extra, json!({"channel": "C0123ABCD"}));
        let link = &server.requests()[1];
        assert_eq!(link.method, "GET");
        assert_eq!(
            link.path,
            "/api/chat.getPermalink?channel=C0123ABCD&message_ts=1712345678.000200"
        );
        assert_eq!(
            link.header("authorization"),
            Some(format!("Bearer {BOT_TOKEN}").as_str())
        );
        let request = &server.requests()[0];
        assert_eq!(request.path, "/api/chat.postMessage");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {BOT_TOKEN}").as_str())
        );
        assert_eq!(
            request.json(),
            json!({"channel": "C0123ABCD", "text": "*Shipped* v1.2 &lt;3", "thread_ts": "1712345678.000100"})
        );
    }

    #[tokio::test]
    async fn webhook_posts_text_and_knows_the_part_by_its_key() {
        let server = TestServer::start(|_: &Request| Reply::text(200, "ok")).await;
        let published = webhook(&server.url())
            .publish(&part(None, None))
            .await
            .expect("published");
        assert_eq!(published.id, "t1:0");
        let request = &server.requests()[0];
        assert_eq!(request.path, format!("/services/T000/B000/{HOOK_SECRET}"));
        assert_eq!(request.json(), json!({"text": "*Shipped* v1.2 &lt;3"}));
        assert_eq!(request.header("authorization"), None);
    }

    #[tokio::test]
    async fn media_are_refused_not_dropped() {
        let server = TestServer::start(|_: &Request| Reply::text(200, "ok")).await;
        let mut with_media = part(None, None);
        with_media.media.push(MediaFile {
            path: "/tmp/x.png".into(),
            file_name: "x.png".into(),
            mime: "image/png".into(),
            size: 1,
            width: None,
            height: None,
            alt: None,
        });
        let err = webhook(&server.url())
            .publish(&with_media)
            .await
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("Slack media are not supported yet"),
            "{err}"
        );
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn bot_errors_on_http_200_are_classified() {
        let failure = |error: &str| Reply::json(200, json!({"ok": false, "error": error}));
        let cases = [
            (failure("invalid_auth"), "auth", "Bot User OAuth Token"),
            (failure("token_revoked"), "auth", "token_revoked"),
            (failure("account_inactive"), "auth", "account_inactive"),
            (failure("not_authed"), "auth", "not_authed"),
            (failure("ratelimited"), "retry 0ms", "ratelimited"),
            (failure("not_in_channel"), "permanent", "/invite"),
            (
                failure("channel_not_found"),
                "permanent",
                "channel_not_found",
            ),
            (
                Reply::json(429, json!({"ok": false, "error": "ratelimited"}))
                    .header("retry-after", "30"),
                "retry 30000ms",
                "rate limited",
            ),
            (Reply::text(503, "upstream"), "retry maybe sent", "503"),
            (Reply::text(200, "<html>"), "retry maybe sent", "not JSON"),
        ];
        for (reply, want, says) in cases {
            let server = TestServer::sequence(vec![reply]).await;
            let err = bot(&server.url())
                .publish(&part(None, None))
                .await
                .expect_err("an error");
            assert_eq!(crate::platforms::test_server::class(&err), want, "{err}");
            assert!(err.to_string().contains(says), "{err}");
            assert!(!format!("{err} {err:?}").contains("secret"), "{err:?}");
        }
    }

    #[tokio::test]
    async fn webhook_errors_are_text_bodies() {
        let cases = [
            (
                Reply::text(400, "invalid_payload"),
                "permanent",
                "invalid_payload",
            ),
            (Reply::text(404, "no_service"), "auth", "create a new one"),
            (
                Reply::text(410, "channel_is_archived"),
                "auth",
                "channel_is_archived",
            ),
            (
                Reply::text(429, "").header("retry-after", "2"),
                "retry 2000ms",
                "rate limited",
            ),
            (Reply::text(500, ""), "retry maybe sent", "500"),
            (Reply::hang_up(), "retry maybe sent", ""),
        ];
        for (reply, want, says) in cases {
            let server = TestServer::sequence(vec![reply]).await;
            let err = webhook(&server.url())
                .publish(&part(None, None))
                .await
                .expect_err("an error");
            assert_eq!(crate::platforms::test_server::class(&err), want, "{err}");
            assert!(err.to_string().contains(says), "{err}");
            assert!(!format!("{err} {err:?}").contains(HOOK_SECRET), "{err:?}");
        }
    }

    #[tokio::test]
    async fn verify_and_delete() {
        let server = TestServer::start(|request: &Request| match request.path.as_str() {
            "/api/auth.test" => Reply::json(
                200,
                json!({"ok": true, "user": "postctl", "team": "Acme", "user_id": "U1"}),
            ),
            "/api/chat.delete" => {
                Reply::json(200, json!({"ok": false, "error": "message_not_found"}))
            }
            _ => Reply::text(404, ""),
        })
        .await;
        let verified = bot(&server.url()).verify().await.expect("verified");
        assert_eq!(verified.identity, "bot @postctl in Acme");
        bot(&server.url())
            .delete(&published("1712345678.000100"))
            .await
            .expect("already gone counts as deleted");
        assert_eq!(
            server.requests()[1].json(),
            json!({"channel": "C0123ABCD", "ts": "1712345678.000100"})
        );

        let hook = webhook(&server.url());
        let verified = hook.verify().await.expect("verified");
        assert_eq!(
            verified.identity,
            "incoming webhook (not verifiable without posting)"
        );
        let err = hook.delete(&published("x")).await.expect_err("refused");
        assert!(
            err.to_string()
                .contains("incoming webhooks cannot delete messages")
        );
        assert_eq!(server.requests().len(), 2, "the webhook made no request");
    }

    fn metrics_fake(request: &Request) -> Reply {
        let path = request.path.as_str();
        if path.starts_with("/api/reactions.get?channel=C0123ABCD&timestamp=1700000000.000100") {
            Reply::json(
                200,
                json!({"ok": true, "type": "message", "message": {
                    "ts": "1700000000.000100", "reply_count": 2,
                    "reactions": [{"name": "tada", "count": 4, "users": []},
                                  {"name": "eyes", "count": 1, "users": []}]}}),
            )
        } else if path.starts_with("/api/reactions.get") {
            Reply::json(200, json!({"ok": false, "error": "message_not_found"}))
        } else if path
            .starts_with("/api/conversations.info?channel=C0123ABCD&include_num_members=true")
        {
            Reply::json(
                200,
                json!({"ok": true, "channel": {"id": "C0123ABCD", "num_members": 57}}),
            )
        } else {
            Reply::json(200, json!({"ok": false, "error": "unknown_method"}))
        }
    }

    #[tokio::test]
    async fn a_bot_reads_reactions_replies_and_members() {
        let server = TestServer::start(metrics_fake).await;
        let slack = bot(&server.url());
        let posts = [
            Published {
                id: "1700000000.000100".into(),
                url: None,
                extra: json!({"channel": "C0123ABCD"}),
            },
            Published {
                id: "1700000000.000200".into(),
                url: None,
                extra: json!({"channel": "C0123ABCD"}),
            },
        ];
        let read = slack.post_metrics(&posts).await.expect("read");
        let counters: Counters = [("reaction:tada", 4), ("reaction:eyes", 1), ("replies", 2)]
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        assert_eq!(
            read,
            Metrics::Read(vec![PostReading::Counted(counters), PostReading::Deleted])
        );
        let members = slack.account_metrics().await.expect("members");
        assert_eq!(
            members,
            Metrics::Read([("members".to_string(), 57)].into_iter().collect())
        );
        assert!(server.requests().iter().all(|r| r.method == "GET"));
    }

    #[tokio::test]
    async fn an_incoming_webhook_says_it_reads_nothing() {
        let server = TestServer::start(metrics_fake).await;
        let slack = webhook(&server.url());
        let read = slack.post_metrics(&[]).await.expect("answer");
        assert!(matches!(read, Metrics::NotProvided(why) if why.contains("bot token")));
        assert!(matches!(
            slack.account_metrics().await.expect("answer"),
            Metrics::NotProvided(_)
        ));
        assert!(server.requests().is_empty());
    }
}
