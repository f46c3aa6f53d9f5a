//! The Telegram Bot API: `/bot<token>/<method>` with parameters in the
//! query, a form, JSON or multipart; getMe, getChat, sendMessage, sendPhoto,
//! sendMediaGroup and deleteMessage; `{"ok":false,"error_code","description"}` errors,
//! `parameters.retry_after` on 429 and `parameters.migrate_to_chat_id` for upgraded groups.
//!
//! Updates: people react in a channel ([`FakeTelegram::react`])
//! and, when the bot is an administrator there and has asked for `message_reaction_count`
//! in `allowed_updates` (off by default, as on Telegram), a `MessageReactionCountUpdated`
//! with the message's whole set is queued. `getUpdates` gives the queue from `offset`,
//! forgets what lies before it (asking from an offset confirms earlier updates), keeps the
//! `allowed_updates` it was given for later calls, and is refused with 409 while a
//! webhook is set (`setWebhook`, `deleteWebhook`, `getWebhookInfo`). `getChatMember` says
//! whether the bot is an administrator.
//!
//! Lengths are counted in code points of the text after parse_mode parsing (see
//! `markup`), with surrounding whitespace trimmed as Telegram does.
//!
//! Messages the Bot API documents only loosely, chosen here: a photo over 10 MB gets
//! "Bad Request: file is too big"; an album of fewer than 2 items gets "Bad Request: media
//! group must include 2-10 items" and of more than 10 "Bad Request: too many messages to
//! send as an album".

mod markup;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::any;
use serde_json::{Map, Value, json};

use self::markup::ParseMode;
use super::chaos::ErrorStyle;
use super::quota::{QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire::{self, Part};
use super::{ReceivedMedia, ReceivedPost, Running, lock};

/// A chat the bot can post in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelegramChat {
    pub id: i64,
    /// Without the `@`.
    pub username: Option<String>,
    /// "channel", "supergroup", "group" or "private".
    pub kind: String,
    pub title: String,
}

/// The bot and the chats it can reach.
#[derive(Clone, Debug)]
pub struct TelegramConfig {
    /// The one valid bot token.
    pub token: String,
    pub bot_username: String,
    pub chats: Vec<TelegramChat>,
    /// Groups upgraded to supergroups: old id → new id.
    pub migrated: HashMap<i64, i64>,
    /// Photo upload limit, bytes (10 MB on the cloud Bot API).
    pub max_photo_bytes: usize,
    /// Chats the bot is an administrator of.
    pub admin_of: Vec<i64>,
}

impl Default for TelegramConfig {
    /// Token [`FakeTelegram::TOKEN`]; a public channel [`FakeTelegram::CHANNEL`]
    /// (`@postctl_test`) and a private chat 4242.
    fn default() -> TelegramConfig {
        TelegramConfig {
            token: FakeTelegram::TOKEN.into(),
            bot_username: "postctl_test_bot".into(),
            chats: vec![
                TelegramChat {
                    id: FakeTelegram::CHANNEL,
                    username: Some("postctl_test".into()),
                    kind: "channel".into(),
                    title: "postctl test channel".into(),
                },
                TelegramChat {
                    id: 4242,
                    username: None,
                    kind: "private".into(),
                    title: "Me".into(),
                },
            ],
            migrated: HashMap::new(),
            max_photo_bytes: 10 * 1024 * 1024,
            admin_of: vec![FakeTelegram::CHANNEL],
        }
    }
}

/// A fake Bot API server; stops when dropped.
pub struct FakeTelegram {
    running: Running,
    shared: Arc<Mutex<BotApi>>,
}

impl FakeTelegram {
    pub const TOKEN: &'static str = "123456:TEST-token_abc";
    pub const CHANNEL: i64 = -1_001_234_567_890;

    pub fn start() -> FakeTelegram {
        FakeTelegram::start_with(TelegramConfig::default())
    }

    pub fn start_with(config: TelegramConfig) -> FakeTelegram {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(BotApi {
            config,
            messages: Vec::new(),
            files: HashMap::new(),
            next_group: 0,
            hour: 0,
            updates: Vec::new(),
            next_update_id: 700_000_000,
            allowed_updates: None,
            webhook: None,
            reactions: HashMap::new(),
        }));
        let router = Router::new()
            .route("/{bot}/{method}", any(call_method))
            .fallback(|| async { failure(StatusCode::NOT_FOUND, "Not Found") })
            .with_state(shared.clone());
        let running = Running::start("telegram", port, router, Arc::new(TelegramErrors));
        FakeTelegram { running, shared }
    }

    /// Moves the Bot API's clock to `hour`: every chat gains a subscriber an hour
    /// ([`super::growth::followers`]).
    pub fn set_hour(&self, hour: u64) {
        lock(&self.shared).hour = hour;
    }

    pub fn configure(&self, change: impl FnOnce(&mut TelegramConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Enforces `limit` per bot token (Telegram: about 30 messages per second).
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// People set the reactions of `message_id` in the channel [`FakeTelegram::CHANNEL`]
    /// to `counts` (emoji, total): an update is queued when the bot may see it.
    pub fn react(&self, message_id: i64, counts: &[(&str, u64)]) {
        let mut api = lock(&self.shared);
        let counts: Vec<(String, u64)> = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(emoji, n)| (emoji.to_string(), *n))
            .collect();
        api.reactions
            .insert((FakeTelegram::CHANNEL, message_id), counts.clone());
        let listening = api
            .allowed_updates
            .as_ref()
            .is_some_and(|allowed| allowed.iter().any(|a| a == "message_reaction_count"));
        if !listening || !api.config.admin_of.contains(&FakeTelegram::CHANNEL) {
            return;
        }
        let chat = api
            .config
            .chats
            .iter()
            .find(|c| c.id == FakeTelegram::CHANNEL)
            .map(chat_json)
            .unwrap_or_else(|| json!({"id": FakeTelegram::CHANNEL, "type": "channel"}));
        let update_id = api.next_update_id;
        api.next_update_id += 1;
        // Telegram orders the set by count, most first.
        let mut ordered = counts;
        ordered.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let reactions: Vec<Value> = ordered
            .iter()
            .map(|(emoji, n)| json!({"type": {"type": "emoji", "emoji": emoji}, "total_count": n}))
            .collect();
        api.updates.push(json!({
            "update_id": update_id,
            "message_reaction_count": {
                "chat": chat,
                "message_id": message_id,
                "date": wire::unix_millis() / 1000,
                "reactions": reactions,
            },
        }));
    }

    /// A webhook set by another program (as `setWebhook` would).
    pub fn set_webhook(&self, url: &str) {
        lock(&self.shared).webhook = Some(url.to_string());
    }

    /// The webhook set, if any.
    pub fn webhook(&self) -> Option<String> {
        lock(&self.shared).webhook.clone()
    }

    /// Updates queued and not yet confirmed.
    pub fn pending_updates(&self) -> usize {
        lock(&self.shared).updates.len()
    }

    /// Every message sent, in order (an album is one message per item).
    pub fn posts(&self) -> Vec<ReceivedPost> {
        lock(&self.shared)
            .messages
            .iter()
            .map(|m| ReceivedPost {
                id: m.message_id.to_string(),
                channel: m.chat_id.to_string(),
                text: m.text.clone(),
                formatted: (m.parse_mode != ParseMode::Plain).then(|| m.source.clone()),
                reply_to: m.reply_to.map(|id| id.to_string()),
                media: m.media.clone(),
                idempotency_key: None,
                auth: Some(m.token.clone()),
                deleted: m.deleted,
                url: m.link.clone(),
                raw: m.raw.clone(),
            })
            .collect()
    }
}

fake_server!(FakeTelegram);

struct BotApi {
    config: TelegramConfig,
    messages: Vec<Message>,
    /// Uploaded files by file_id, so a later request can send them again by id.
    files: HashMap<String, ReceivedMedia>,
    next_group: u64,
    /// The clock subscribers grow by ([`FakeTelegram::set_hour`]).
    hour: u64,
    /// Updates not yet confirmed, oldest first.
    updates: Vec<Value>,
    next_update_id: i64,
    /// What the bot last asked for; `None`: Telegram's default, which leaves out
    /// `message_reaction_count`.
    allowed_updates: Option<Vec<String>>,
    webhook: Option<String>,
    /// Each message's reactions now: (chat, message) -> (emoji, total).
    reactions: HashMap<(i64, i64), Vec<(String, u64)>>,
}

struct Message {
    chat_id: i64,
    message_id: i64,
    date: u64,
    /// The text or caption after parsing.
    text: String,
    /// The text or caption as sent.
    source: String,
    parse_mode: ParseMode,
    is_caption: bool,
    reply_to: Option<i64>,
    media: Vec<ReceivedMedia>,
    media_group_id: Option<String>,
    deleted: bool,
    token: String,
    link: Option<String>,
    raw: Value,
}

fn failure(status: StatusCode, description: &str) -> Response {
    wire::json(
        status,
        json!({"ok": false, "error_code": status.as_u16(), "description": description}),
    )
}

fn bad_request(description: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        &format!("Bad Request: {description}"),
    )
}

fn result(value: Value) -> Response {
    wire::json(StatusCode::OK, json!({"ok": true, "result": value}))
}

/// Parameters from the query string and the body, and the files of a multipart body.
struct Request {
    params: Map<String, Value>,
    parts: Vec<Part>,
    token: String,
}

impl Request {
    fn str(&self, key: &str) -> Option<String> {
        wire::param_str(&self.params, key).filter(|s| !s.is_empty())
    }

    /// A parameter that is JSON: an object or array in a JSON body, serialized JSON text in
    /// a query or form.
    fn json(&self, key: &str) -> Result<Option<Value>, Response> {
        match self.params.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Ok(None),
            Some(Value::String(text)) => serde_json::from_str(text)
                .map(Some)
                .map_err(|_| bad_request(&format!("can't parse {key} JSON object"))),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    fn file_part(&self, name: &str) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name == name && p.file_name.is_some())
    }
}

async fn call_method(
    State(shared): State<Arc<Mutex<BotApi>>>,
    Path((bot, method)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = bot.strip_prefix("bot") else {
        return failure(StatusCode::NOT_FOUND, "Not Found");
    };
    if token != lock(&shared).config.token {
        return failure(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let mut params: Map<String, Value> =
        wire::pairs_to_object(wire::form_pairs(query.unwrap_or_default().as_bytes()));
    let mut parts = Vec::new();
    if wire::media_type(&headers) == "multipart/form-data" {
        match wire::multipart(&headers, body).await {
            Ok(found) => parts = found,
            Err(e) => return bad_request(&format!("can't parse multipart: {}", e.message())),
        }
        for part in parts.iter().filter(|p| p.file_name.is_none()) {
            params.insert(part.name.clone(), Value::String(part.text()));
        }
    } else {
        match wire::body_params(&headers, &body) {
            Ok(found) => params.extend(found),
            Err(e) => return bad_request(&format!("can't parse request: {}", e.message())),
        }
    }
    let request = Request {
        params,
        parts,
        token: token.to_string(),
    };
    let mut api = lock(&shared);
    // Method names are case-insensitive in the Bot API.
    let answer = match method.to_ascii_lowercase().as_str() {
        "getme" => Ok(result(api.me())),
        "getchat" => api.chat(&request).map(|chat| result(chat_json(chat))),
        "getchatmembercount" => {
            let members = super::growth::followers(api.hour);
            api.chat(&request).map(|_| result(json!(members)))
        }
        "sendmessage" => api.send_message(&request),
        "sendphoto" => api.send_photo(&request),
        "sendmediagroup" => api.send_media_group(&request),
        "deletemessage" => api.delete_message(&request),
        "getupdates" => api.get_updates(&request),
        "getchatmember" => api.chat_member(&request),
        "setwebhook" => {
            api.webhook = request.str("url");
            Ok(result(json!(true)))
        }
        "deletewebhook" => {
            api.webhook = None;
            Ok(result(json!(true)))
        }
        "getwebhookinfo" => Ok(result(json!({
            "url": api.webhook.clone().unwrap_or_default(),
            "has_custom_certificate": false,
            "pending_update_count": api.updates.len(),
        }))),
        _ => Err(failure(StatusCode::NOT_FOUND, "Not Found")),
    };
    answer.unwrap_or_else(|error| error)
}

fn chat_json(chat: &TelegramChat) -> Value {
    let mut value = json!({"id": chat.id, "type": chat.kind});
    if chat.kind == "private" {
        value["first_name"] = json!(chat.title);
    } else {
        value["title"] = json!(chat.title);
    }
    if let Some(username) = &chat.username {
        value["username"] = json!(username);
    }
    value
}

/// `@name`, a number, or a number as text.
fn chat_key(value: &Value) -> Option<ChatKey> {
    match value {
        Value::Number(n) => n.as_i64().map(ChatKey::Id),
        Value::String(s) if s.starts_with('@') => {
            Some(ChatKey::Username(s[1..].to_ascii_lowercase()))
        }
        Value::String(s) => s.trim().parse().ok().map(ChatKey::Id),
        _ => None,
    }
}

enum ChatKey {
    Id(i64),
    Username(String),
}

impl BotApi {
    fn me(&self) -> Value {
        let id: i64 = self
            .config
            .token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(1);
        json!({
            "id": id,
            "is_bot": true,
            "first_name": "postctl test bot",
            "username": self.config.bot_username,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
        })
    }

    fn find_chat(&self, value: &Value) -> Result<&TelegramChat, Response> {
        let key = chat_key(value).ok_or_else(|| bad_request("chat not found"))?;
        if let ChatKey::Id(id) = key
            && let Some(new_id) = self.config.migrated.get(&id)
        {
            return Err(wire::json(
                StatusCode::BAD_REQUEST,
                json!({
                    "ok": false,
                    "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": new_id},
                }),
            ));
        }
        self.config
            .chats
            .iter()
            .find(|chat| match &key {
                ChatKey::Id(id) => chat.id == *id,
                ChatKey::Username(name) => chat
                    .username
                    .as_ref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(name)),
            })
            .ok_or_else(|| bad_request("chat not found"))
    }

    fn chat(&self, request: &Request) -> Result<&TelegramChat, Response> {
        match request.params.get("chat_id") {
            None => Err(bad_request("chat_id is empty")),
            Some(Value::String(s)) if s.is_empty() => Err(bad_request("chat_id is empty")),
            Some(value) => self.find_chat(value),
        }
    }

    /// The message to reply to, from `reply_parameters` or the older
    /// `reply_to_message_id`; None when there is none or it is gone and the request allows
    /// sending without it.
    fn reply_target(&self, request: &Request, chat_id: i64) -> Result<Option<i64>, Response> {
        let (message_id, allow_without, reply_chat) = match request.json("reply_parameters")? {
            Some(parameters) => (
                parameters.get("message_id").and_then(as_i64),
                parameters["allow_sending_without_reply"]
                    .as_bool()
                    .unwrap_or(false),
                parameters.get("chat_id").cloned(),
            ),
            None => (
                request.params.get("reply_to_message_id").and_then(as_i64),
                wire::param_bool(&request.params, "allow_sending_without_reply").unwrap_or(false),
                None,
            ),
        };
        let Some(message_id) = message_id else {
            return Ok(None);
        };
        let reply_chat = match reply_chat {
            Some(value) => self.find_chat(&value)?.id,
            None => chat_id,
        };
        let exists = self
            .messages
            .iter()
            .any(|m| m.chat_id == reply_chat && m.message_id == message_id && !m.deleted);
        match (exists, allow_without) {
            (true, _) => Ok(Some(message_id)),
            (false, true) => Ok(None),
            (false, false) => Err(bad_request("message to be replied not found")),
        }
    }

    /// The text of `key` after parsing in the request's parse mode (`mode_key`), with
    /// Telegram's limit `max`.
    fn parsed(
        &self,
        request: &Request,
        key: &str,
        mode_key: &str,
        max: usize,
        too_long: &str,
    ) -> Result<(String, String, ParseMode), Response> {
        let source = request.str(key).unwrap_or_default();
        let mode = ParseMode::from_param(request.str(mode_key).as_deref())
            .map_err(|()| bad_request("unsupported parse_mode"))?;
        let text = markup::plain_text(mode, &source)
            .map_err(|e| bad_request(&format!("can't parse entities: {e}")))?;
        let text = text.trim().to_string();
        if text.chars().count() > max {
            return Err(bad_request(too_long));
        }
        Ok((text, source, mode))
    }

    fn next_message_id(&self, chat_id: i64) -> i64 {
        self.messages
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .map(|m| m.message_id)
            .max()
            .unwrap_or(0)
            + 1
    }

    fn message_json(&self, message: &Message) -> Value {
        let chat = self
            .config
            .chats
            .iter()
            .find(|c| c.id == message.chat_id)
            .map_or_else(|| json!({"id": message.chat_id}), chat_json);
        let mut value = json!({
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat,
        });
        if chat["type"] == "channel" {
            value["sender_chat"] = chat.clone();
        } else {
            value["from"] = self.me();
        }
        let text_key = if message.is_caption {
            "caption"
        } else {
            "text"
        };
        if !message.text.is_empty() || !message.is_caption {
            value[text_key] = json!(message.text);
        }
        if let Some(reply_to) = message.reply_to
            && let Some(parent) = self
                .messages
                .iter()
                .find(|m| m.chat_id == message.chat_id && m.message_id == reply_to)
        {
            value["reply_to_message"] = json!({
                "message_id": parent.message_id,
                "date": parent.date,
                "chat": value["chat"].clone(),
            });
        }
        if let Some(group) = &message.media_group_id {
            value["media_group_id"] = json!(group);
        }
        if let Some(photo) = message.media.first() {
            value["photo"] = json!([{
                "file_id": photo.id,
                "file_unique_id": photo.id.chars().rev().take(16).collect::<String>(),
                "width": 1280,
                "height": 720,
                "file_size": photo.size,
            }]);
        }
        value
    }

    fn store(&mut self, message: Message) -> Value {
        let json = self.message_json(&message);
        self.messages.push(message);
        json
    }

    /// A new message of one media item under `caption` (text, source and parse mode, as
    /// [`BotApi::parsed`] reads them), replying to `reply_to`.
    fn captioned_message(
        &self,
        request: &Request,
        chat: &TelegramChat,
        media: ReceivedMedia,
        (text, source, parse_mode): (String, String, ParseMode),
        reply_to: Option<i64>,
    ) -> Message {
        let mut message = self.new_message(request, chat);
        message.text = text;
        message.source = source;
        message.parse_mode = parse_mode;
        message.is_caption = true;
        message.reply_to = reply_to;
        message.media = vec![media];
        message
    }

    fn new_message(&self, request: &Request, chat: &TelegramChat) -> Message {
        let message_id = self.next_message_id(chat.id);
        Message {
            chat_id: chat.id,
            message_id,
            date: wire::unix_millis() / 1000,
            text: String::new(),
            source: String::new(),
            parse_mode: ParseMode::Plain,
            is_caption: false,
            reply_to: None,
            media: Vec::new(),
            media_group_id: None,
            deleted: false,
            token: request.token.clone(),
            link: chat
                .username
                .as_ref()
                .map(|u| format!("https://t.me/{u}/{message_id}"))
                .or_else(|| {
                    let private = chat.id.to_string();
                    private
                        .strip_prefix("-100")
                        .map(|id| format!("https://t.me/c/{id}/{message_id}"))
                }),
            raw: Value::Object(request.params.clone()),
        }
    }

    fn send_message(&mut self, request: &Request) -> Result<Response, Response> {
        let chat = self.chat(request)?.clone();
        if request.str("text").is_none() {
            return Err(bad_request("message text is empty"));
        }
        let (text, source, mode) =
            self.parsed(request, "text", "parse_mode", 4096, "message is too long")?;
        if text.is_empty() {
            return Err(bad_request("message text is empty"));
        }
        let reply_to = self.reply_target(request, chat.id)?;
        let mut message = self.new_message(request, &chat);
        message.text = text;
        message.source = source;
        message.parse_mode = mode;
        message.reply_to = reply_to;
        Ok(result(self.store(message)))
    }

    /// A file given as an upload (a part named `field`, or `attach://<part>`), a file_id
    /// sent before, or an HTTP URL for Telegram to fetch.
    fn input_file(
        &mut self,
        request: &Request,
        field: &str,
        value: Option<&str>,
        max_bytes: usize,
    ) -> Result<ReceivedMedia, Response> {
        let part = match value {
            Some(reference) if reference.starts_with("attach://") => Some(
                request
                    .file_part(&reference["attach://".len()..])
                    .ok_or_else(|| bad_request("can't parse InputMedia: media not found"))?,
            ),
            Some(_) => None,
            None => request.file_part(field),
        };
        if let Some(part) = part {
            if part.data.is_empty() {
                return Err(bad_request("file must be non-empty"));
            }
            if part.data.len() > max_bytes {
                return Err(bad_request("file is too big"));
            }
            let file_id = format!("AgAC{}", &wire::base64url(&wire::sha256(&part.data))[..40]);
            let media = ReceivedMedia {
                id: file_id.clone(),
                mime: wire::sniff_media_type(&part.data)
                    .map(str::to_string)
                    .or_else(|| part.content_type.clone())
                    .unwrap_or_else(|| "application/octet-stream".into()),
                size: part.data.len(),
                alt: None,
                file_name: part.file_name.clone(),
            };
            self.files.insert(file_id, media.clone());
            return Ok(media);
        }
        match value {
            None => Err(bad_request(&format!("there is no {field} in the request"))),
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(ReceivedMedia {
                    id: format!(
                        "AgAC{}",
                        &wire::base64url(&wire::sha256(url.as_bytes()))[..40]
                    ),
                    mime: "image/jpeg".into(),
                    size: 0,
                    alt: None,
                    file_name: Some(url.to_string()),
                })
            }
            Some(file_id) => self
                .files
                .get(file_id)
                .cloned()
                .ok_or_else(|| bad_request("wrong file identifier/HTTP URL specified")),
        }
    }

    fn send_photo(&mut self, request: &Request) -> Result<Response, Response> {
        let chat = self.chat(request)?.clone();
        let max = self.config.max_photo_bytes;
        let photo = self.input_file(request, "photo", request.str("photo").as_deref(), max)?;
        let caption = self.parsed(
            request,
            "caption",
            "parse_mode",
            1024,
            "message caption is too long",
        )?;
        let reply_to = self.reply_target(request, chat.id)?;
        let message = self.captioned_message(request, &chat, photo, caption, reply_to);
        Ok(result(self.store(message)))
    }

    fn send_media_group(&mut self, request: &Request) -> Result<Response, Response> {
        let chat = self.chat(request)?.clone();
        let Some(media) = request.json("media")? else {
            return Err(bad_request("parameter \"media\" is required"));
        };
        let Some(items) = media.as_array() else {
            return Err(bad_request("can't parse media JSON object"));
        };
        if items.len() < 2 {
            return Err(bad_request("media group must include 2-10 items"));
        }
        if items.len() > 10 {
            return Err(bad_request("too many messages to send as an album"));
        }
        let reply_to = self.reply_target(request, chat.id)?;
        let max = self.config.max_photo_bytes;
        // Everything is checked before the first message exists: an album is all or nothing.
        let mut prepared = Vec::new();
        for item in items {
            let kind = item["type"].as_str().unwrap_or_default();
            if !["photo", "video", "document", "audio"].contains(&kind) {
                return Err(bad_request(
                    "can't parse InputMedia: unsupported media type",
                ));
            }
            let file = self.input_file(request, "media", item["media"].as_str(), max)?;
            let mut item_params = Map::new();
            for key in ["caption", "parse_mode"] {
                if let Some(value) = item.get(key) {
                    item_params.insert(key.to_string(), value.clone());
                }
            }
            let item_request = Request {
                params: item_params,
                parts: Vec::new(),
                token: request.token.clone(),
            };
            let caption = self.parsed(
                &item_request,
                "caption",
                "parse_mode",
                1024,
                "message caption is too long",
            )?;
            prepared.push((file, caption));
        }
        self.next_group += 1;
        let group = format!("{}", 13_000_000_000_000_000u64 + self.next_group);
        let mut answers = Vec::new();
        for (file, caption) in prepared {
            let mut message = self.captioned_message(request, &chat, file, caption, reply_to);
            message.media_group_id = Some(group.clone());
            answers.push(self.store(message));
        }
        Ok(result(Value::Array(answers)))
    }

    fn delete_message(&mut self, request: &Request) -> Result<Response, Response> {
        let chat_id = self.chat(request)?.id;
        let Some(message_id) = request.params.get("message_id").and_then(as_i64) else {
            return Err(bad_request("message identifier is not specified"));
        };
        match self
            .messages
            .iter_mut()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id && !m.deleted)
        {
            Some(message) => {
                message.deleted = true;
                Ok(result(json!(true)))
            }
            None => Err(bad_request("message to delete not found")),
        }
    }
}

impl BotApi {
    /// `getUpdates {offset, limit, timeout, allowed_updates}`.
    fn get_updates(&mut self, request: &Request) -> Result<Response, Response> {
        if self.webhook.is_some() {
            return Err(failure(
                StatusCode::CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        let number = |key: &str| -> Result<Option<i64>, Response> {
            match request.params.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => as_i64(value)
                    .map(Some)
                    .ok_or_else(|| bad_request(&format!("invalid {key} specified"))),
            }
        };
        let offset = number("offset")?.unwrap_or(0);
        let limit = number("limit")?.unwrap_or(100).clamp(1, 100) as usize;
        if let Some(allowed) = request.json("allowed_updates")? {
            let allowed: Vec<String> = allowed
                .as_array()
                .ok_or_else(|| bad_request("can't parse allowed updates"))?
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            // An empty list means "everything but the opt-in kinds", as no list does.
            self.allowed_updates = (!allowed.is_empty()).then_some(allowed);
        }
        let id = |u: &Value| u["update_id"].as_i64().unwrap_or(0);
        if offset > 0 {
            self.updates.retain(|u| id(u) >= offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            let drop = self.updates.len().saturating_sub(keep);
            self.updates.drain(..drop);
        }
        let page: Vec<Value> = self.updates.iter().take(limit).cloned().collect();
        Ok(result(Value::Array(page)))
    }

    /// `getChatMember {chat_id, user_id}`, for the bot itself.
    fn chat_member(&self, request: &Request) -> Result<Response, Response> {
        let chat = self.chat(request)?;
        let user = request.params.get("user_id").and_then(as_i64);
        if user != self.me()["id"].as_i64() {
            return Err(bad_request("user not found"));
        }
        let status = if self.config.admin_of.contains(&chat.id) {
            "administrator"
        } else {
            "member"
        };
        let mut member = json!({"user": self.me(), "status": status});
        if status == "administrator" {
            member["can_be_edited"] = json!(false);
            member["can_manage_chat"] = json!(true);
            member["can_post_messages"] = json!(true);
        }
        Ok(result(member))
    }
}

fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The Bot API's words: `ok:false` bodies, and `parameters.retry_after` (whole seconds,
/// no header) on 429.
struct TelegramErrors;

impl ErrorStyle for TelegramErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        failure(
            status,
            status.canonical_reason().unwrap_or("Internal Server Error"),
        )
    }

    fn rate_limited(&self, _path: &str, quota: &QuotaState) -> Response {
        let seconds = quota.retry_after_secs();
        wire::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "ok": false,
                "error_code": 429,
                "description": format!("Too Many Requests: retry after {seconds}"),
                "parameters": {"retry_after": seconds},
            }),
        )
    }
}

#[cfg(test)]
mod tests;
