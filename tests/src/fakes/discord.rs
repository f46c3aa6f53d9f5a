//! Discord: webhooks (`POST /api/webhooks/{id}/{token}`, `?wait=true` for
//! the Message, 204 without it) and the bot API (`Authorization: Bot <token>`,
//! `POST /channels/{id}/messages` with `nonce` + `enforce_nonce` replay and
//! `message_reference` replies, `GET /channels/{id}` for the channel's server); JSON or multipart bodies (`payload_json`, `files[n]`,
//! `attachments[].description` as alt text); `{message, code}` errors; and
//! `X-RateLimit-*` headers on every answer, with `Retry-After` and a float `retry_after` on
//! 429.
//!
//! Paths are accepted with or without a version (`/api/v10/...`, `/api/v9/...`, `/api/...`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use super::chaos::ErrorStyle;
use super::quota::{QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire::{self, Part};
use super::{FakeServer, ReceivedMedia, ReceivedPost, Running, lock};

/// Milliseconds from the Unix epoch to Discord's epoch (2015-01-01).
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A webhook: its URL is `{base}/api/webhooks/{id}/{token}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordWebhook {
    pub id: String,
    pub token: String,
    pub channel_id: String,
    pub name: String,
}

/// The bot, the webhooks, and the channels they post in.
#[derive(Clone, Debug)]
pub struct DiscordConfig {
    pub bot_token: String,
    pub bot_user_id: String,
    pub guild_id: String,
    /// Channels the bot may post in.
    pub channels: Vec<String>,
    pub webhooks: Vec<DiscordWebhook>,
    /// How long a nonce is remembered for `enforce_nonce` ("a few minutes").
    pub nonce_window: Duration,
    /// Per-file limit (10 MiB without boosts) and whole-request limit (25 MiB).
    pub max_file_bytes: usize,
    pub max_request_bytes: usize,
}

impl Default for DiscordConfig {
    fn default() -> DiscordConfig {
        DiscordConfig {
            bot_token: FakeDiscord::BOT_TOKEN.into(),
            bot_user_id: "1100000000000000042".into(),
            guild_id: "1000000000000000001".into(),
            channels: vec![FakeDiscord::CHANNEL.into()],
            webhooks: vec![DiscordWebhook {
                id: FakeDiscord::WEBHOOK_ID.into(),
                token: FakeDiscord::WEBHOOK_TOKEN.into(),
                channel_id: FakeDiscord::CHANNEL.into(),
                name: "postctl".into(),
            }],
            nonce_window: Duration::from_secs(300),
            max_file_bytes: 10 * 1024 * 1024,
            max_request_bytes: 25 * 1024 * 1024,
        }
    }
}

/// A fake Discord API; stops when dropped.
pub struct FakeDiscord {
    running: Running,
    shared: Arc<Mutex<Discord>>,
}

impl FakeDiscord {
    pub const BOT_TOKEN: &'static str = "discord-bot-token";
    pub const CHANNEL: &'static str = "1200000000000000001";
    pub const WEBHOOK_ID: &'static str = "1300000000000000001";
    pub const WEBHOOK_TOKEN: &'static str = "webhook-token-abc";

    pub fn start() -> FakeDiscord {
        FakeDiscord::start_with(DiscordConfig::default())
    }

    pub fn start_with(config: DiscordConfig) -> FakeDiscord {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Discord {
            config,
            messages: Vec::new(),
            nonces: HashMap::new(),
            last_id: 0,
        }));
        let router = Router::new()
            .route("/api/{*rest}", any(api))
            .fallback(|| async { discord_error(StatusCode::NOT_FOUND, "404: Not Found", 0) })
            .with_state(shared.clone());
        let running = Running::start("discord", port, router, Arc::new(DiscordErrors));
        FakeDiscord { running, shared }
    }

    /// The default webhook's URL.
    pub fn webhook_url(&self) -> String {
        format!(
            "{}/api/webhooks/{}/{}",
            self.base_url(),
            FakeDiscord::WEBHOOK_ID,
            FakeDiscord::WEBHOOK_TOKEN
        )
    }

    pub fn configure(&self, change: impl FnOnce(&mut DiscordConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Enforces `limit` per route bucket (Discord: about 5 messages per 5 s per channel).
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// Every message created, in order.
    pub fn posts(&self) -> Vec<ReceivedPost> {
        lock(&self.shared)
            .messages
            .iter()
            .map(|m| ReceivedPost {
                id: m.id.clone(),
                channel: m.channel_id.clone(),
                text: m.content.clone(),
                formatted: None,
                reply_to: m.reply_to.clone(),
                media: m.attachments.clone(),
                idempotency_key: m.nonce.clone(),
                auth: Some(m.auth.clone()),
                deleted: m.deleted,
                url: None,
                raw: m.raw.clone(),
            })
            .collect()
    }
}

fake_server!(FakeDiscord);

struct Discord {
    config: DiscordConfig,
    messages: Vec<StoredMessage>,
    /// (author, nonce) → (message id, first seen).
    nonces: HashMap<(String, String), (String, Instant)>,
    last_id: u64,
}

struct StoredMessage {
    id: String,
    channel_id: String,
    content: String,
    author_id: String,
    webhook_id: Option<String>,
    nonce: Option<String>,
    reply_to: Option<String>,
    attachments: Vec<ReceivedMedia>,
    timestamp: String,
    deleted: bool,
    auth: String,
    raw: Value,
}

type Answer = Result<Response, Response>;

fn discord_error(status: StatusCode, message: &str, code: u32) -> Response {
    wire::json(status, json!({ "message": message, "code": code }))
}

/// 400 / 50035 with one field error, Discord's "Invalid Form Body".
fn invalid_form(field: &str, code: &str, message: &str) -> Response {
    wire::json(
        StatusCode::BAD_REQUEST,
        json!({
            "message": "Invalid Form Body",
            "code": 50035,
            "errors": { field: { "_errors": [{ "code": code, "message": message }] } },
        }),
    )
}

/// Who is posting: a bot (with its Authorization header) or a webhook (with its token).
enum Author {
    Bot { auth: String },
    Webhook(DiscordWebhook),
}

async fn api(
    State(shared): State<Arc<Mutex<Discord>>>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segments
        .first()
        .is_some_and(|s| s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()))
    {
        segments.remove(0);
    }
    let query = wire::query_map(query.as_deref());
    let payload = if method == Method::POST || method == Method::PATCH {
        match read_payload(&shared, &headers, body).await {
            Ok(payload) => Some(payload),
            Err(response) => return response,
        }
    } else {
        None
    };
    let mut discord = lock(&shared);
    let answer = match (method.as_str(), segments.as_slice()) {
        ("GET", ["users", "@me"]) => discord.bot(&headers).map(|_| discord.me()),
        // Get Channel: what a bot reads the channel's server from, for message links.
        ("GET", ["channels", channel]) => discord.bot(&headers).and_then(|_| {
            if !discord.config.channels.iter().any(|c| c == channel) {
                return Err(discord_error(
                    StatusCode::NOT_FOUND,
                    "Unknown Channel",
                    10003,
                ));
            }
            Ok(wire::json(
                StatusCode::OK,
                json!({
                    "id": channel, "type": 0, "guild_id": discord.config.guild_id,
                    "name": "general", "position": 0, "nsfw": false,
                }),
            ))
        }),
        ("POST", ["channels", channel, "messages"]) => discord.bot(&headers).and_then(|auth| {
            discord.create(
                Author::Bot { auth },
                channel,
                payload.unwrap_or_default(),
                true,
            )
        }),
        ("GET", ["channels", channel, "messages", id]) => discord
            .bot(&headers)
            .and_then(|_| discord.get_message(channel, id)),
        ("DELETE", ["channels", channel, "messages", id]) => discord
            .bot(&headers)
            .and_then(|_| discord.delete_message(channel, id)),
        ("GET", ["webhooks", id, token]) => discord.webhook(id, token).map(|hook| {
            let guild = discord.config.guild_id.clone();
            wire::json(
                StatusCode::OK,
                json!({
                    "id": hook.id, "type": 1, "name": hook.name, "avatar": null,
                    "channel_id": hook.channel_id, "guild_id": guild,
                    "application_id": null, "token": hook.token,
                }),
            )
        }),
        ("POST", ["webhooks", id, token]) => discord.webhook(id, token).and_then(|hook| {
            let wait = query.get("wait").is_some_and(|w| w == "true" || w == "1");
            let channel = hook.channel_id.clone();
            discord.create(
                Author::Webhook(hook),
                &channel,
                payload.unwrap_or_default(),
                wait,
            )
        }),
        ("GET" | "DELETE", ["webhooks", id, token, "messages", message]) => {
            discord.webhook(id, token).and_then(|hook| {
                if method == Method::GET {
                    discord.get_message(&hook.channel_id, message)
                } else {
                    discord.delete_message(&hook.channel_id, message)
                }
            })
        }
        _ => Err(discord_error(StatusCode::NOT_FOUND, "404: Not Found", 0)),
    };
    answer.unwrap_or_else(|error| error)
}

/// The message payload and its files, from JSON or multipart (`payload_json` or plain
/// fields, and `files[n]` parts).
#[derive(Default)]
struct Payload {
    json: Map<String, Value>,
    files: Vec<Part>,
}

async fn read_payload(
    shared: &Arc<Mutex<Discord>>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Payload, Response> {
    let (max_file, max_request) = {
        let discord = lock(shared);
        (
            discord.config.max_file_bytes,
            discord.config.max_request_bytes,
        )
    };
    let too_large = || {
        discord_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request entity too large",
            40005,
        )
    };
    if body.len() > max_request {
        return Err(too_large());
    }
    if wire::media_type(headers) != "multipart/form-data" {
        return wire::body_params(headers, &body)
            .map(|json| Payload {
                json,
                files: Vec::new(),
            })
            .map_err(|_| discord_error(StatusCode::BAD_REQUEST, "400: Bad Request", 50109));
    }
    let parts = wire::multipart(headers, body)
        .await
        .map_err(|_| discord_error(StatusCode::BAD_REQUEST, "400: Bad Request", 50109))?;
    let mut payload = Payload::default();
    for part in parts {
        if part.name == "payload_json" {
            match serde_json::from_slice::<Value>(&part.data) {
                Ok(Value::Object(json)) => payload.json.extend(json),
                _ => {
                    return Err(discord_error(
                        StatusCode::BAD_REQUEST,
                        "The request body contains invalid JSON.",
                        50109,
                    ));
                }
            }
        } else if part.file_name.is_some() {
            if part.data.len() > max_file {
                return Err(too_large());
            }
            payload.files.push(part);
        } else {
            payload
                .json
                .insert(part.name.clone(), Value::String(part.text()));
        }
    }
    Ok(payload)
}

impl Discord {
    /// A snowflake: milliseconds since Discord's epoch in the top bits, a counter below.
    fn next_id(&mut self) -> String {
        let candidate = wire::unix_millis().saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id.to_string()
    }

    fn bot(&self, headers: &HeaderMap) -> Result<String, Response> {
        let valid = wire::auth_token(headers, "Bot").is_some_and(|t| t == self.config.bot_token);
        match wire::authorization(headers) {
            Some(auth) if valid => Ok(auth),
            _ => Err(discord_error(
                StatusCode::UNAUTHORIZED,
                "401: Unauthorized",
                0,
            )),
        }
    }

    fn webhook(&self, id: &str, token: &str) -> Result<DiscordWebhook, Response> {
        let Some(hook) = self.config.webhooks.iter().find(|h| h.id == id) else {
            return Err(discord_error(
                StatusCode::NOT_FOUND,
                "Unknown Webhook",
                10015,
            ));
        };
        if hook.token != token {
            return Err(discord_error(
                StatusCode::UNAUTHORIZED,
                "Invalid Webhook Token",
                50027,
            ));
        }
        Ok(hook.clone())
    }

    fn me(&self) -> Response {
        wire::json(
            StatusCode::OK,
            json!({
                "id": self.config.bot_user_id, "username": "postctl-test", "discriminator": "0",
                "global_name": null, "avatar": null, "bot": true, "verified": true, "flags": 0,
            }),
        )
    }

    fn message_json(&self, message: &StoredMessage) -> Value {
        let author = match &message.webhook_id {
            Some(hook) => {
                let name = self
                    .config
                    .webhooks
                    .iter()
                    .find(|h| &h.id == hook)
                    .map_or("webhook", |h| h.name.as_str());
                json!({"id": hook, "username": name, "discriminator": "0000", "avatar": null, "bot": true})
            }
            None => {
                json!({"id": message.author_id, "username": "postctl-test", "discriminator": "0", "avatar": null, "bot": true})
            }
        };
        let attachments: Vec<Value> = message
            .attachments
            .iter()
            .map(|a| {
                let file_name = a.file_name.clone().unwrap_or_default();
                json!({
                    "id": a.id, "filename": file_name, "size": a.size, "content_type": a.mime,
                    "description": a.alt,
                    "url": format!("https://cdn.discordapp.com/attachments/{}/{}/{file_name}", message.channel_id, a.id),
                    "proxy_url": format!("https://media.discordapp.net/attachments/{}/{}/{file_name}", message.channel_id, a.id),
                })
            })
            .collect();
        let mut value = json!({
            "id": message.id,
            "type": if message.reply_to.is_some() { 19 } else { 0 },
            "channel_id": message.channel_id,
            "content": message.content,
            "author": author,
            "attachments": attachments,
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": false,
            "pinned": false,
            "tts": false,
            "timestamp": message.timestamp,
            "edited_timestamp": null,
            "flags": 0,
            "components": [],
        });
        if let Some(nonce) = &message.nonce {
            value["nonce"] = json!(nonce);
        }
        if let Some(hook) = &message.webhook_id {
            value["webhook_id"] = json!(hook);
        }
        if let Some(parent) = &message.reply_to {
            value["message_reference"] = json!({
                "type": 0, "message_id": parent, "channel_id": message.channel_id,
                "guild_id": self.config.guild_id,
            });
        }
        value
    }

    fn create(&mut self, author: Author, channel: &str, payload: Payload, wait: bool) -> Answer {
        if let Author::Bot { .. } = author
            && !self.config.channels.iter().any(|c| c == channel)
        {
            return Err(discord_error(
                StatusCode::NOT_FOUND,
                "Unknown Channel",
                10003,
            ));
        }
        let json = &payload.json;
        let content = wire::param_str(json, "content").unwrap_or_default();
        if content.chars().count() > 2000 {
            return Err(invalid_form(
                "content",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 2000 or fewer in length.",
            ));
        }
        let nonce = match json.get("nonce") {
            Some(Value::String(s)) if s.chars().count() > 25 => {
                return Err(invalid_form(
                    "nonce",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 25 or fewer in length.",
                ));
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        if payload.files.len() > 10 {
            return Err(discord_error(
                StatusCode::BAD_REQUEST,
                "Maximum number of attachments in a message reached (10)",
                30015,
            ));
        }
        let has_embeds = json
            .get("embeds")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty());
        let has_stickers = json
            .get("sticker_ids")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        if content.trim().is_empty()
            && payload.files.is_empty()
            && !has_embeds
            && !has_stickers
            && !json.contains_key("poll")
        {
            return Err(discord_error(
                StatusCode::BAD_REQUEST,
                "Cannot send an empty message",
                50006,
            ));
        }
        let (author_id, webhook_id, auth) = match &author {
            Author::Bot { auth } => (self.config.bot_user_id.clone(), None, auth.clone()),
            Author::Webhook(hook) => (hook.id.clone(), Some(hook.id.clone()), hook.token.clone()),
        };
        // Webhooks have no nonce deduplication; a bot's nonce is enforced only when asked.
        let enforce =
            webhook_id.is_none() && wire::param_bool(json, "enforce_nonce").unwrap_or(false);
        if enforce && let Some(nonce) = &nonce {
            let window = self.config.nonce_window;
            let earlier = self
                .nonces
                .get(&(author_id.clone(), nonce.clone()))
                .filter(|(_, seen)| seen.elapsed() < window)
                .map(|(id, _)| id.clone());
            if let Some(id) = earlier
                && let Some(message) = self.messages.iter().find(|m| m.id == id)
            {
                return Ok(wire::json(StatusCode::OK, self.message_json(message)));
            }
        }
        let reply_to = match (&author, json.get("message_reference")) {
            (Author::Bot { .. }, Some(reference)) if reference.is_object() => {
                let parent = reference.get("message_id").and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
                let exists = parent.as_ref().is_some_and(|p| {
                    self.messages
                        .iter()
                        .any(|m| &m.id == p && m.channel_id == channel && !m.deleted)
                });
                let must_exist = reference["fail_if_not_exists"].as_bool().unwrap_or(true);
                match (exists, must_exist) {
                    (true, _) => parent,
                    (false, false) => None,
                    (false, true) => {
                        return Err(invalid_form(
                            "message_reference",
                            "REPLIES_UNKNOWN_MESSAGE",
                            "Unknown message",
                        ));
                    }
                }
            }
            _ => None,
        };
        let attachments = self.attachments(json, &payload.files);
        let id = self.next_id();
        let message = StoredMessage {
            id: id.clone(),
            channel_id: channel.to_string(),
            content,
            author_id: author_id.clone(),
            webhook_id,
            nonce: nonce.clone(),
            reply_to,
            attachments,
            timestamp: wire::iso8601(std::time::SystemTime::now()),
            deleted: false,
            auth,
            raw: Value::Object(payload.json.clone()),
        };
        let answer = self.message_json(&message);
        self.messages.push(message);
        if enforce && let Some(nonce) = nonce {
            self.nonces.insert((author_id, nonce), (id, Instant::now()));
        }
        if wait {
            Ok(wire::json(StatusCode::OK, answer))
        } else {
            // Without wait=true a webhook answers 204 with no body: the id is lost.
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }

    /// Files matched to `attachments[]` metadata by index (`files[n]` ↔ `id: n`), the
    /// `description` being the alt text.
    fn attachments(&mut self, json: &Map<String, Value>, files: &[Part]) -> Vec<ReceivedMedia> {
        let metadata = json
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        files
            .iter()
            .enumerate()
            .map(|(index, file)| {
                let slot = file
                    .name
                    .strip_prefix("files[")
                    .and_then(|rest| rest.strip_suffix(']'))
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(index as u64);
                let meta = metadata.iter().find(|m| {
                    m["id"].as_u64() == Some(slot)
                        || m["id"].as_str() == Some(slot.to_string().as_str())
                });
                ReceivedMedia {
                    id: self.next_id(),
                    mime: wire::sniff_media_type(&file.data)
                        .map(str::to_string)
                        .or_else(|| file.content_type.clone())
                        .unwrap_or_else(|| "application/octet-stream".into()),
                    size: file.data.len(),
                    alt: meta
                        .and_then(|m| m["description"].as_str())
                        .map(str::to_string),
                    file_name: meta
                        .and_then(|m| m["filename"].as_str())
                        .map(str::to_string)
                        .or_else(|| file.file_name.clone()),
                }
            })
            .collect()
    }

    fn get_message(&self, channel: &str, id: &str) -> Answer {
        match self
            .messages
            .iter()
            .find(|m| m.id == id && m.channel_id == channel && !m.deleted)
        {
            Some(message) => Ok(wire::json(StatusCode::OK, self.message_json(message))),
            None => Err(discord_error(
                StatusCode::NOT_FOUND,
                "Unknown Message",
                10008,
            )),
        }
    }

    fn delete_message(&mut self, channel: &str, id: &str) -> Answer {
        match self
            .messages
            .iter_mut()
            .find(|m| m.id == id && m.channel_id == channel && !m.deleted)
        {
            Some(message) => {
                message.deleted = true;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            None => Err(discord_error(
                StatusCode::NOT_FOUND,
                "Unknown Message",
                10008,
            )),
        }
    }
}

/// Discord's words: `{message, code}`, `X-RateLimit-*` with decimal seconds, and on 429
/// `Retry-After` (whole seconds) plus a float `retry_after` in the body.
struct DiscordErrors;

impl DiscordErrors {
    fn bucket(path: &str) -> String {
        // One bucket per route: the path with its ids and tokens left out.
        let route: String = path
            .split('?')
            .next()
            .unwrap_or_default()
            .split('/')
            .filter(|s| !s.chars().any(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join("/");
        wire::hex(&wire::sha256(route.as_bytes())[..16])
    }
}

impl ErrorStyle for DiscordErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        let message = format!(
            "{}: {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Server Error")
        );
        discord_error(status, &message, 0)
    }

    fn rate_limited(&self, path: &str, quota: &QuotaState) -> Response {
        let retry_after = (quota.reset_after.as_secs_f64() * 1000.0).round() / 1000.0;
        let mut response = wire::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
        );
        let headers = response.headers_mut();
        wire::set_headers(
            headers,
            [
                ("retry-after", quota.retry_after_secs().to_string()),
                ("x-ratelimit-scope", "user".to_string()),
            ],
        );
        let mut state = *quota;
        state.remaining = 0;
        self.quota_headers(path, &state, headers);
        response
    }

    fn quota_headers(&self, path: &str, quota: &QuotaState, headers: &mut HeaderMap) {
        let pairs = [
            ("x-ratelimit-limit", quota.limit.to_string()),
            ("x-ratelimit-remaining", quota.remaining.to_string()),
            (
                "x-ratelimit-reset",
                format!("{:.3}", wire::unix_secs_f64(quota.reset_at)),
            ),
            (
                "x-ratelimit-reset-after",
                format!("{:.3}", quota.reset_after.as_secs_f64()),
            ),
            ("x-ratelimit-bucket", DiscordErrors::bucket(path)),
        ];
        wire::add_missing_headers(headers, pairs);
    }

    /// Discord counts per route and major parameter (channel or webhook).
    fn quota_key(&self, request: &axum::extract::Request) -> String {
        let path = request.uri().path();
        let major: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).take(4).collect();
        format!("{} {}", request.method(), major.join("/"))
    }
}

#[cfg(test)]
mod tests;
