//! Discord, through an incoming webhook or a bot.
//!
//! - Webhook mode: the secret is the webhook URL (it carries the webhook's token). Posts
//!   go to `POST {url}?wait=true`; without `wait=true` Discord answers 204 and failures
//!   are silent. Webhooks have no replies and no nonce: no threads, no idempotency.
//! - Bot mode: the secret is the bot token, the channel comes from the account's
//!   settings, and posts go to `POST {base}/channels/{channel}/messages` with a `nonce` and
//!   `enforce_nonce: true`, so a retried request returns the message the first one made.
//!   Parts of a thread reply to each other with `message_reference`.
//!
//! Every message is sent with `allowed_mentions: {parse: []}`: a release note that says
//! @everyone must not ping the whole server. Media go as `multipart/form-data`
//! (`payload_json` plus `files[n]`, with each file's alt text as its `description`).

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::multipart::Form;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::http::{Answer, endpoint, excerpt, media_part};
use super::metrics::reaction;
use super::mode::Mode;
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Http, Idempotency, Metrics, Part, Platform,
    PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::media::hex;
use crate::model::Account;
use crate::secrets::Secret;
use crate::text::{Counting, Format, TextLimit};

/// What Discord asks bots to send (`DiscordBot ($url, $versionNumber)`); Cloudflare may
/// block requests without it (error 40333).
const USER_AGENT: &str = "DiscordBot (https://github.com/postctl/postctl, 0.1)";
const MAX_FILES: usize = 10;
/// 10 MiB per file without server boosts.
const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Discord's nonce is an integer or a string of at most 25 characters.
const NONCE_MAX: usize = 25;

/// What a Discord webhook takes: 2,000 code points, 10 files
/// of 10 MiB. A bot can also thread (replies) and retry safely (its nonce).
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: 2000,
        counting: Counting::CodePoints,
    },
    format: Format::DiscordMarkdown,
    max_media: MAX_FILES,
    max_image_bytes: MAX_FILE_BYTES,
    threads: false,
    idempotency: Idempotency::None,
};
const BOT: Capabilities = Capabilities {
    threads: true,
    // `nonce` + `enforce_nonce` covers "the last few minutes": take the least.
    idempotency: Idempotency::Within(chrono::TimeDelta::minutes(2)),
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
    open: Some(|account, secret, tools| boxed(Discord::new(account, secret, tools.http))),
};

pub struct Discord {
    account: String,
    /// The commands that set the account up again, for credential errors.
    again: String,
    mode: Mode,
    http: Http,
    /// The server the channel belongs to (`@me` for a DM), for message links; looked up
    /// once, after the first message goes out.
    guild: OnceCell<String>,
}

impl Discord {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        Ok(Discord {
            account: account.name.clone(),
            again: crate::network::add_again_command(account),
            mode: Mode::from_account(account, secret, "Server Settings > Integrations > Webhooks")?,
            http,
            guild: OnceCell::new(),
        })
    }
}

impl Adapter for Discord {
    fn capabilities(&self) -> Capabilities {
        if self.mode.is_bot() { BOT } else { DEFAULTS }
    }

    /// Webhook: `GET {url}` names the webhook. Bot: `GET /users/@me` names the bot.
    async fn verify(&self) -> Result<Verified, PublishError> {
        let (url, name_field) = match &self.mode {
            Mode::Webhook { url } => (endpoint(url.expose(), &[])?, "name"),
            Mode::Bot { base, .. } => (endpoint(base, &["users", "@me"])?, "username"),
        };
        let answer = self.send(self.http.client().get(url)).await?;
        let info = self.ok_json(&answer)?;
        let name = info
            .get(name_field)
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        let identity = if self.mode.is_bot() {
            format!("bot @{name}")
        } else {
            format!("webhook {name:?}")
        };
        Ok(Verified { identity })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if part.media.len() > MAX_FILES {
            return Err(PublishError::permanent(format!(
                "Discord takes at most {MAX_FILES} files per message; this part has {}",
                part.media.len()
            )));
        }
        let mut payload = json!({
            "content": part.rendered.text,
            "allowed_mentions": { "parse": [] },
        });
        let url = match &self.mode {
            Mode::Webhook { url } => {
                let mut url = endpoint(url.expose(), &[])?;
                url.query_pairs_mut().append_pair("wait", "true");
                url
            }
            Mode::Bot { base, channel, .. } => {
                payload["nonce"] = json!(nonce(&part.idempotency_key));
                payload["enforce_nonce"] = json!(true);
                if let Some(previous) = &part.reply_to {
                    // A deleted earlier part must not stop the rest of the thread.
                    payload["message_reference"] =
                        json!({ "message_id": previous.id, "fail_if_not_exists": false });
                }
                endpoint(base, &["channels", channel, "messages"])?
            }
        };
        let request = self.http.client().post(url);
        let request = if part.media.is_empty() {
            request.json(&payload)
        } else {
            let mut form = Form::new();
            let mut attachments = Vec::new();
            for (i, file) in part.media.iter().enumerate() {
                let mut attachment = json!({ "id": i, "filename": file.file_name });
                if let Some(alt) = &file.alt {
                    attachment["description"] = json!(alt);
                }
                attachments.push(attachment);
                form = form.part(format!("files[{i}]"), media_part(file).await?);
            }
            payload["attachments"] = Value::Array(attachments);
            request.multipart(form.text("payload_json", payload.to_string()))
        };
        let answer = self.send(request).await?;
        let message = self.ok_json(&answer)?;
        let (Some(id), Some(channel_id)) = (
            message.get("id").and_then(Value::as_str),
            message.get("channel_id").and_then(Value::as_str),
        ) else {
            return Err(PublishError::maybe_sent(
                "Discord answered without the message it created; check the channel before retrying",
                Some(answer.status),
            ));
        };
        let guild = match message.get("guild_id").and_then(Value::as_str) {
            Some(guild) => Some(guild.to_owned()),
            None => self.guild().await,
        };
        Ok(Published {
            id: id.to_owned(),
            url: guild.map(|g| format!("https://discord.com/channels/{g}/{channel_id}/{id}")),
            extra: json!({ "channel_id": channel_id }),
        })
    }

    /// Deletes the message; one that is already gone counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let url = match &self.mode {
            Mode::Webhook { url } => endpoint(url.expose(), &["messages", &published.id])?,
            Mode::Bot { base, channel, .. } => {
                let channel = published
                    .extra
                    .get("channel_id")
                    .and_then(Value::as_str)
                    .unwrap_or(channel);
                endpoint(base, &["channels", channel, "messages", &published.id])?
            }
        };
        let answer = self.send(self.http.client().delete(url)).await?;
        if answer.is_success() || code(&answer.json().unwrap_or_default()) == Some(10008) {
            return Ok(());
        }
        Err(self.error(&answer))
    }
    /// Bot: `GET /channels/{channel}/messages/{id}` per message, its `reactions` counted
    /// by emoji; Unknown Message (10008) means it was deleted. A webhook cannot read
    /// messages back here. No views: Discord has none.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let Mode::Bot { base, channel, .. } = &self.mode else {
            return Ok(Metrics::NotProvided(WEBHOOK_READS_NOTHING));
        };
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let channel = post
                .extra
                .get("channel_id")
                .and_then(Value::as_str)
                .unwrap_or(channel);
            let url = endpoint(base, &["channels", channel, "messages", &post.id])?;
            let answer = self.send(self.http.client().get(url)).await?;
            if answer.status == 404 && code(&answer.json().unwrap_or_default()) == Some(10008) {
                readings.push(PostReading::Deleted);
                continue;
            }
            let message = self.ok_json(&answer)?;
            readings.push(PostReading::Counted(reactions(&message)));
        }
        Ok(Metrics::Read(readings))
    }

    /// Bot: the channel's server, then `GET /guilds/{id}?with_counts=true` for its
    /// `approximate_member_count`. A DM channel has no server to count.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let Mode::Bot { base, .. } = &self.mode else {
            return Ok(Metrics::NotProvided(WEBHOOK_READS_NOTHING));
        };
        let guild = match self.guild().await {
            Some(guild) if guild != "@me" => guild,
            Some(_) => {
                return Ok(Metrics::NotProvided(
                    "the bot posts to a direct message, which has no server to count members of",
                ));
            }
            None => {
                return Err(PublishError::Retryable {
                    message: "Discord did not say which server the channel belongs to; it will be asked again".into(),
                    retry_after: None,
                    maybe_sent: false,
                    status: None,
                });
            }
        };
        let mut url = endpoint(base, &["guilds", &guild])?;
        url.query_pairs_mut().append_pair("with_counts", "true");
        let answer = self.send(self.http.client().get(url)).await?;
        let server = self.ok_json(&answer)?;
        let mut counters = Counters::new();
        if let Some(members) = server
            .get("approximate_member_count")
            .and_then(Value::as_u64)
        {
            counters.insert("members".into(), members);
        }
        Ok(Metrics::Read(counters))
    }
}

const WEBHOOK_READS_NOTHING: &str = "a Discord webhook cannot read messages or the server back; add the account as a bot (`--mode bot`) to collect reactions and members";

/// A message's reactions by emoji: a custom emoji by its name, a Unicode one as itself.
fn reactions(message: &Value) -> Counters {
    message
        .get("reactions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let name = r.get("emoji")?.get("name")?.as_str()?;
            Some((reaction(name), r.get("count")?.as_u64()?))
        })
        .collect()
}

impl Discord {
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, PublishError> {
        let request = request.header(reqwest::header::USER_AGENT, USER_AGENT);
        let request = match &self.mode {
            Mode::Bot { token, .. } => {
                let name = &self.account;
                let again = &self.again;
                // Sensitive: left out of Debug output and of HTTP/2 header compression.
                let mut value = HeaderValue::try_from(format!("Bot {}", token.expose()))
                    .map_err(|_| {
                        PublishError::auth(format!(
                            "the bot token of the Discord account {name} has characters no token has; copy it again from the Developer Portal (Bot > Reset Token) and add the account: `{again}`"
                        ))
                    })?;
                value.set_sensitive(true);
                request.header(AUTHORIZATION, value)
            }
            Mode::Webhook { .. } => request,
        };
        self.http.exchange(&self.account, request).await
    }

    fn ok_json(&self, answer: &Answer) -> Result<Value, PublishError> {
        if !answer.is_success() {
            return Err(self.error(answer));
        }
        answer.json().ok_or_else(|| {
            PublishError::maybe_sent(
                format!(
                    "Discord answered HTTP {} with a body that is not JSON; check the channel before retrying",
                    answer.status
                ),
                Some(answer.status),
            )
        })
    }

    /// The server of the channel, for links: from the webhook, or from the channel
    /// (`@me` when it is a DM). `None` when the lookup fails; it is tried again next time.
    async fn guild(&self) -> Option<String> {
        let found = self
            .guild
            .get_or_try_init(|| async {
                let url = match &self.mode {
                    Mode::Webhook { url } => endpoint(url.expose(), &[])?,
                    Mode::Bot { base, channel, .. } => endpoint(base, &["channels", channel])?,
                };
                let answer = self.send(self.http.client().get(url)).await?;
                let info = self.ok_json(&answer)?;
                Ok::<_, PublishError>(
                    info.get("guild_id")
                        .and_then(Value::as_str)
                        .unwrap_or("@me")
                        .to_owned(),
                )
            })
            .await;
        found.ok().cloned()
    }

    fn error(&self, answer: &Answer) -> PublishError {
        let status = answer.status;
        let body = answer.json().unwrap_or_default();
        let code = code(&body);
        let said = match body.get("message").and_then(Value::as_str) {
            Some(message) => {
                let details = field_errors(&body);
                let code = code.map(|c| format!(", code {c}")).unwrap_or_default();
                if details.is_empty() {
                    format!("{}{code}", excerpt(message))
                } else {
                    format!("{}{code}: {}", excerpt(message), excerpt(&details))
                }
            }
            None => format!("HTTP {status}{}", answer.excerpt()),
        };
        let webhook = !self.mode.is_bot();
        let again = format!("`{}`", self.again);
        let permanent = |message: String| PublishError::Permanent {
            message,
            status: Some(status),
        };
        match status {
            429 => PublishError::Retryable {
                message: format!("Discord is rate limiting this account ({said})"),
                retry_after: asked_wait(&body).or_else(|| answer.retry_after()),
                maybe_sent: false,
                status: Some(status),
            },
            401 if webhook => PublishError::Auth {
                message: format!(
                    "Discord rejected the webhook's token ({said}); create a webhook again and add it: {again}"
                ),
                status: Some(status),
            },
            401 => PublishError::Auth {
                message: format!(
                    "Discord rejected the bot token ({said}); copy it again from the Developer Portal (Bot > Reset Token) and add the account: {again}"
                ),
                status: Some(status),
            },
            403 => permanent(format!(
                "Discord does not let this account post there ({said}); give the bot Send Messages (and Read Message History, for threads) in the channel"
            )),
            404 if webhook || code == Some(10015) => permanent(format!(
                "the webhook was deleted; add it again: create a new one (Server Settings > Integrations > Webhooks), then {again} ({said})"
            )),
            404 if code == Some(10003) => permanent(format!(
                "the channel was not found ({said}); check the channel id, then add the account again: {again}"
            )),
            500..=599 => PublishError::Retryable {
                message: format!("Discord had a server error ({said})"),
                retry_after: answer.retry_after(),
                maybe_sent: true,
                status: Some(status),
            },
            _ => permanent(format!("Discord refused the message ({said})")),
        }
    }
}

/// The wait a Discord 429 body asks for (`retry_after`, seconds with decimals), at most
/// [`super::http::MAX_WAIT`].
fn asked_wait(body: &Value) -> Option<std::time::Duration> {
    body.get("retry_after")
        .and_then(Value::as_f64)
        .and_then(super::http::wait_from_seconds)
}

/// Discord's JSON error code, when the error body has one.
fn code(body: &Value) -> Option<u64> {
    body.get("code")?.as_u64()
}

/// `content: Must be 2000 or fewer in length.` from an invalid-form-body error's
/// `errors` tree (`{"content": {"_errors": [{"code", "message"}]}}`).
fn field_errors(body: &Value) -> String {
    fn walk(path: &str, value: &Value, out: &mut Vec<String>) {
        let Some(object) = value.as_object() else {
            return;
        };
        for (key, child) in object {
            if key == "_errors" {
                for error in child.as_array().into_iter().flatten() {
                    if let Some(message) = error.get("message").and_then(Value::as_str) {
                        out.push(format!("{path}: {message}"));
                    }
                }
            } else {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&path, child, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(errors) = body.get("errors") {
        walk("", errors, &mut out);
    }
    out.join("; ")
}

/// The nonce for a part: its idempotency key when that fits in 25 characters, else the
/// first 25 hex digits of its SHA-256. Cutting a longer key would be wrong: keys of one
/// thread share their target-id prefix, and equal nonces make Discord return the first
/// part's message for the second.
fn nonce(key: &str) -> String {
    if key.chars().count() <= NONCE_MAX {
        return key.to_owned();
    }
    let mut digest = hex(&Sha256::digest(key.as_bytes()));
    digest.truncate(NONCE_MAX);
    digest
}

#[cfg(test)]
mod tests {
    use super::super::MediaFile;
    use super::super::test_server::{Reply, Request, TestServer, multipart_parts};
    use super::*;
    use crate::network::Network;
    use crate::text::Rendered;

    const BOT_TOKEN: &str = "MTIzNDU2.bot-secret-token";
    const HOOK_TOKEN: &str = "hook-secret-token_ABC";

    fn account(settings: Value, base_url: Option<String>) -> Account {
        Account {
            id: "a1".into(),
            name: "dc".into(),
            network: Network::Discord,
            base_url,
            handle: None,
            settings,
            secret_ref: "env:DC".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn http() -> Http {
        Http::new(std::time::Duration::from_secs(5)).expect("client")
    }

    fn bot(base: &str) -> Discord {
        let account = account(
            json!({"mode": "bot", "channel": "555"}),
            Some(format!("{base}/api/v10")),
        );
        Discord::new(&account, Secret::new(BOT_TOKEN.into()), http()).expect("adapter")
    }

    fn webhook(base: &str) -> Discord {
        let account = account(json!({"mode": "webhook"}), None);
        let url = format!("{base}/api/webhooks/123/{HOOK_TOKEN}");
        Discord::new(&account, Secret::new(url), http()).expect("adapter")
    }

    fn part(key: &str, reply_to: Option<&str>, media: Vec<MediaFile>) -> Part {
        Part {
            index: 0,
            rendered: Rendered {
                text: "**Shipped** v1.2 @everyone".into(),
                html: None,
                facets: vec![],
            },
            media,
            idempotency_key: key.into(),
            stage: Default::default(),
            reply_to: reply_to.map(|id| Published {
                id: id.into(),
                url: None,
                extra: json!({"channel_id": "555"}),
            }),
            root: None,
        }
    }

    fn discord_fake(request: &Request) -> Reply {
        match (request.method.as_str(), request.path_only()) {
            ("POST", _) => Reply::json(200, json!({"id": "900", "channel_id": "555"})),
            ("GET", "/api/v10/channels/555") => {
                Reply::json(200, json!({"id": "555", "guild_id": "777"}))
            }
            ("GET", "/api/v10/users/@me") => {
                Reply::json(200, json!({"id": "1", "username": "postctl"}))
            }
            ("GET", path) if path.starts_with("/api/webhooks/") => Reply::json(
                200,
                json!({"id": "123", "name": "Releases", "guild_id": "778"}),
            ),
            ("DELETE", _) => Reply::text(204, ""),
            _ => Reply::json(404, json!({"message": "404: Not Found", "code": 0})),
        }
    }

    #[tokio::test]
    async fn bot_posts_with_nonce_reply_and_auth() {
        let server = TestServer::start(discord_fake).await;
        let key = "0190f3b2-7c4a-7d2e-8f3a-1234567890ab:1";
        let published = bot(&server.url())
            .publish(&part(key, Some("899"), vec![]))
            .await
            .expect("published");
        assert_eq!(published.id, "900");
        assert_eq!(
            published.url.as_deref(),
            Some("https://discord.com/channels/777/555/900")
        );
        assert_eq!(published.extra, json!({"channel_id": "555"}));

        let requests = server.requests();
        let post = &requests[0];
        assert_eq!(post.path, "/api/v10/channels/555/messages");
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bot {BOT_TOKEN}").as_str())
        );
        assert_eq!(post.header("user-agent"), Some(USER_AGENT));
        let body = post.json();
        assert_eq!(body["content"], json!("**Shipped** v1.2 @everyone"));
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));
        assert_eq!(body["enforce_nonce"], json!(true));
        assert_eq!(body["nonce"], json!(nonce(key)));
        assert_eq!(
            body["message_reference"],
            json!({"message_id": "899", "fail_if_not_exists": false})
        );
        // The guild is looked up once, then remembered.
        assert_eq!(requests[1].path, "/api/v10/channels/555");
        let adapter = bot(&server.url());
        adapter
            .publish(&part("k:0", None, vec![]))
            .await
            .expect("first");
        adapter
            .publish(&part("k:1", None, vec![]))
            .await
            .expect("second");
        let gets = server
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .count();
        assert_eq!(gets, 2, "one lookup per adapter");
    }

    #[test]
    fn nonces_are_short_and_distinct_per_part() {
        let a = nonce("0190f3b2-7c4a-7d2e-8f3a-1234567890ab:0");
        let b = nonce("0190f3b2-7c4a-7d2e-8f3a-1234567890ab:1");
        assert_eq!(a.len(), NONCE_MAX);
        assert_ne!(a, b);
        assert_eq!(a, nonce("0190f3b2-7c4a-7d2e-8f3a-1234567890ab:0"));
        assert_eq!(nonce("short-key:3"), "short-key:3");
    }

    #[tokio::test]
    async fn webhook_always_waits_and_sends_no_nonce() {
        let server = TestServer::start(discord_fake).await;
        let published = webhook(&server.url())
            .publish(&part("k:0", None, vec![]))
            .await
            .expect("published");
        assert_eq!(
            published.url.as_deref(),
            Some("https://discord.com/channels/778/555/900")
        );
        let post = &server.requests()[0];
        assert_eq!(
            post.path,
            format!("/api/webhooks/123/{HOOK_TOKEN}?wait=true")
        );
        assert_eq!(post.header("authorization"), None);
        let body = post.json();
        assert!(body.get("nonce").is_none() && body.get("message_reference").is_none());
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    }

    #[tokio::test]
    async fn files_go_as_multipart_with_alt_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chart.png");
        std::fs::write(&path, b"png bytes").expect("write");
        let media = vec![MediaFile {
            path,
            file_name: "chart.png".into(),
            mime: "image/png".into(),
            size: 9,
            width: None,
            height: None,
            alt: Some("weekly downloads".into()),
        }];
        let server = TestServer::start(discord_fake).await;
        webhook(&server.url())
            .publish(&part("k:0", None, media))
            .await
            .expect("published");
        let parts = multipart_parts(&server.requests()[0]);
        let payload: Value = serde_json::from_str(
            &parts
                .iter()
                .find(|p| p.name == "payload_json")
                .expect("payload_json")
                .text(),
        )
        .expect("JSON");
        assert_eq!(
            payload["attachments"],
            json!([{"id": 0, "filename": "chart.png", "description": "weekly downloads"}])
        );
        let file = parts
            .iter()
            .find(|p| p.name == "files[0]")
            .expect("file part");
        assert_eq!(file.file_name.as_deref(), Some("chart.png"));
        assert_eq!(file.data, b"png bytes");
    }

    #[tokio::test]
    async fn errors_are_classified_and_never_show_the_secret() {
        let too_long = json!({
            "message": "Invalid Form Body", "code": 50035,
            "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}},
        });
        let cases = [
            (
                Reply::json(
                    429,
                    json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
                ),
                "retry 1500ms",
                "rate limiting",
            ),
            (
                Reply::json(429, json!({"message": "slow down"})).header("retry-after", "4"),
                "retry 4000ms",
                "rate limiting",
            ),
            (
                Reply::json(400, too_long),
                "permanent",
                "content: Must be 2000 or fewer in length.",
            ),
            (
                Reply::json(401, json!({"message": "401: Unauthorized", "code": 0})),
                "auth",
                "bot token",
            ),
            (
                Reply::json(
                    403,
                    json!({"message": "Missing Permissions", "code": 50013}),
                ),
                "permanent",
                "Send Messages",
            ),
            (
                Reply::json(404, json!({"message": "Unknown Channel", "code": 10003})),
                "permanent",
                "channel was not found",
            ),
            (
                Reply::json(404, json!({"message": "Unknown Webhook", "code": 10015})),
                "permanent",
                "the webhook was deleted; add it again",
            ),
            (
                Reply::text(502, "bad gateway"),
                "retry maybe sent",
                "server error",
            ),
            (Reply::hang_up(), "retry maybe sent", ""),
        ];
        for (reply, want, says) in cases {
            let server = TestServer::sequence(vec![reply]).await;
            for adapter in [bot(&server.url()), webhook(&server.url())] {
                let err = adapter
                    .publish(&part("k:0", None, vec![]))
                    .await
                    .expect_err("an error");
                let got = crate::platforms::test_server::class(&err);
                assert_eq!(got, want, "{err}");
                let text = format!("{err} {err:?}");
                assert!(!text.contains("secret-token"), "{text}");
                if adapter.mode.is_bot() {
                    assert!(err.to_string().contains(says), "{err}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_bot_token_that_cannot_be_a_header_is_refused_before_sending() {
        let server = TestServer::start(discord_fake).await;
        let account = account(
            json!({"mode": "bot", "channel": "555"}),
            Some(format!("{}/api/v10", server.url())),
        );
        let token = Secret::new(format!("{BOT_TOKEN}\n"));
        let adapter = Discord::new(&account, token, http()).expect("adapter");
        let err = adapter
            .publish(&part("k:0", None, vec![]))
            .await
            .expect_err("refused");
        assert!(matches!(err, PublishError::Auth { .. }), "{err:?}");
        assert!(err.to_string().contains("Reset Token"), "{err}");
        assert!(
            !format!("{err} {err:?}").contains("secret-token"),
            "{err:?}"
        );
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn a_webhook_answering_404_was_deleted() {
        let server = TestServer::sequence(vec![Reply::json(
            404,
            json!({"message": "Unknown Webhook"}),
        )])
        .await;
        let err = webhook(&server.url())
            .publish(&part("k:0", None, vec![]))
            .await
            .expect_err("an error");
        assert!(
            err.to_string()
                .contains("the webhook was deleted; add it again"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn verify_and_delete() {
        let server = TestServer::start(discord_fake).await;
        let verified = bot(&server.url()).verify().await.expect("bot");
        assert_eq!(verified.identity, "bot @postctl");
        let verified = webhook(&server.url()).verify().await.expect("webhook");
        assert_eq!(verified.identity, "webhook \"Releases\"");

        let published = Published {
            id: "900".into(),
            url: None,
            extra: json!({"channel_id": "556"}),
        };
        bot(&server.url())
            .delete(&published)
            .await
            .expect("bot delete");
        webhook(&server.url())
            .delete(&published)
            .await
            .expect("webhook delete");
        let deletes: Vec<String> = server
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(
            deletes,
            [
                "/api/v10/channels/556/messages/900".to_owned(),
                format!("/api/webhooks/123/{HOOK_TOKEN}/messages/900"),
            ]
        );
    }

    /// Any answer, however odd: the error is classified without a panic, asks for a
    /// bounded wait, and never shows the token.
    mod fuzz {
        use super::*;
        use crate::platforms::fuzz_answers::{body, headers};
        use proptest::prelude::*;

        #[test]
        fn any_error_answer_is_read_safely() {
            let discord = bot("http://127.0.0.1:9");
            proptest!(|(status in 100u16..600, body in body(), headers in headers())| {
                let answer = Answer { status, headers, body };
                let error = discord.error(&answer);
                if let PublishError::Retryable { retry_after: Some(wait), .. } = &error {
                    prop_assert!(*wait <= crate::platforms::http::MAX_WAIT);
                }
                prop_assert!(!error.to_string().contains(BOT_TOKEN));
            });
        }
    }

    fn metrics_fake(request: &Request) -> Reply {
        match request.path.as_str() {
            "/api/v10/channels/555/messages/900" => Reply::json(
                200,
                json!({"id": "900", "reactions": [
                    {"count": 3, "me": false, "emoji": {"id": null, "name": "🎉"}},
                    {"count": 1, "me": false, "emoji": {"id": "42", "name": "party_parrot"}}
                ]}),
            ),
            "/api/v10/channels/555/messages/901" => Reply::json(200, json!({"id": "901"})),
            "/api/v10/channels/555" => Reply::json(200, json!({"id": "555", "guild_id": "777"})),
            "/api/v10/guilds/777?with_counts=true" => {
                Reply::json(200, json!({"id": "777", "approximate_member_count": 1234}))
            }
            _ => Reply::json(404, json!({"message": "Unknown Message", "code": 10008})),
        }
    }

    fn message(id: &str) -> Published {
        Published {
            id: id.into(),
            url: None,
            extra: json!({"channel_id": "555"}),
        }
    }

    #[tokio::test]
    async fn a_bot_reads_reactions_by_emoji_and_the_servers_members() {
        let server = TestServer::start(metrics_fake).await;
        let dc = bot(&server.url());
        let read = dc
            .post_metrics(&[message("900"), message("901"), message("902")])
            .await
            .expect("read");
        let counted = |pairs: &[(&str, u64)]| {
            PostReading::Counted(pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect())
        };
        assert_eq!(
            read,
            Metrics::Read(vec![
                counted(&[("reaction:🎉", 3), ("reaction:party_parrot", 1)]),
                counted(&[]),
                PostReading::Deleted,
            ])
        );
        let members = dc.account_metrics().await.expect("members");
        assert_eq!(
            members,
            Metrics::Read([("members".to_string(), 1234)].into_iter().collect())
        );
        assert!(
            server
                .requests()
                .iter()
                .all(|r| r.header("authorization") == Some(&format!("Bot {BOT_TOKEN}")[..])),
            "every request carries the bot token"
        );
    }

    #[tokio::test]
    async fn a_webhook_says_it_reads_nothing_without_asking() {
        let server = TestServer::start(metrics_fake).await;
        let dc = webhook(&server.url());
        let read = dc.post_metrics(&[message("900")]).await.expect("answer");
        assert!(matches!(read, Metrics::NotProvided(why) if why.contains("bot")));
        let members = dc.account_metrics().await.expect("answer");
        assert!(matches!(members, Metrics::NotProvided(_)));
        assert!(server.requests().is_empty());
    }
}
