//! A Mastodon instance: instance limits, credential check, statuses with
//! `Idempotency-Key` replay, the v2 media upload with its 202/206/200 processing dance,
//! delete, and `X-RateLimit-*` headers on every answer.
//!
//! Length is counted as Mastodon's StatusLengthValidator does: grapheme clusters of
//! `spoiler_text` + `status`, every http(s) URL as `characters_reserved_per_url` (23),
//! and a mention `@user@domain` as `@user`. The URL and mention scanners are simplified
//! versions of Mastodon's regular expressions (see `counting`).

mod counting;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use self::counting::countable_length;
use super::chaos::ErrorStyle;
use super::growth::{
    LIKES_PER_HOUR, QUOTES_PER_HOUR, REPLIES_PER_HOUR, REPOSTS_PER_HOUR, followers, grown,
};
use super::quota::{QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire::{self, BodyError};
use super::{ReceivedMedia, ReceivedPost, Running, lock};

/// What the instance allows and who may use it.
#[derive(Clone, Debug)]
pub struct MastodonConfig {
    /// Valid access tokens and the username each belongs to.
    pub tokens: HashMap<String, String>,
    /// `configuration.statuses.max_characters`.
    pub max_characters: usize,
    /// `configuration.statuses.max_media_attachments`.
    pub max_media_attachments: usize,
    /// `configuration.statuses.characters_reserved_per_url`.
    pub characters_reserved_per_url: usize,
    /// `configuration.media_attachments.image_size_limit`, bytes.
    pub image_size_limit: usize,
    /// `configuration.media_attachments.video_size_limit`, bytes.
    pub video_size_limit: usize,
    /// `configuration.media_attachments.supported_mime_types`.
    pub supported_mime_types: Vec<String>,
    /// 0: `POST /api/v2/media` answers 200 with the URL. n > 0: it answers 202, then
    /// `GET /api/v1/media/:id` answers 206 n times and 200 after; the media can be attached
    /// only once a 200 was seen.
    pub media_processing_polls: u32,
    /// How long an `Idempotency-Key` is remembered (Mastodon: 1 hour).
    pub idempotency_window: Duration,
    /// Whether statuses carry `quotes_count` (newer servers only).
    pub quotes_count: bool,
}

impl Default for MastodonConfig {
    /// Mastodon's defaults; one token, [`FakeMastodon::TOKEN`], for the user `me`.
    fn default() -> MastodonConfig {
        MastodonConfig {
            tokens: HashMap::from([(FakeMastodon::TOKEN.to_string(), "me".to_string())]),
            max_characters: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
            image_size_limit: 16_777_216,
            video_size_limit: 103_809_024,
            supported_mime_types: [
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/heic",
                "image/heif",
                "image/webp",
                "image/avif",
                "video/webm",
                "video/mp4",
                "video/quicktime",
                "video/ogg",
                "audio/wave",
                "audio/wav",
                "audio/x-wav",
                "audio/mpeg",
                "audio/mp3",
                "audio/ogg",
                "audio/flac",
            ]
            .into_iter()
            .map(str::to_string)
            .collect(),
            media_processing_polls: 0,
            idempotency_window: Duration::from_secs(3600),
            quotes_count: true,
        }
    }
}

/// A fake Mastodon instance; stops when dropped.
pub struct FakeMastodon {
    running: Running,
    shared: Arc<Mutex<Instance>>,
}

impl FakeMastodon {
    /// The token the default configuration accepts (user `me`).
    pub const TOKEN: &'static str = "masto-token";

    /// Starts an instance with [`MastodonConfig::default`].
    pub fn start() -> FakeMastodon {
        FakeMastodon::start_with(MastodonConfig::default())
    }

    pub fn start_with(config: MastodonConfig) -> FakeMastodon {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Instance {
            base_url: port.base_url(),
            config,
            statuses: Vec::new(),
            media: Vec::new(),
            idempotency: HashMap::new(),
            last_id: 0,
            hour: 0,
            reads: HashMap::new(),
        }));
        let router = Router::new()
            .route("/api/v2/instance", get(instance))
            .route(
                "/api/v1/accounts/verify_credentials",
                get(verify_credentials),
            )
            .route("/api/v1/statuses", post(create_status))
            .route(
                "/api/v1/statuses/{id}",
                get(show_status).delete(delete_status),
            )
            .route("/api/v2/media", post(upload_media))
            .route("/api/v1/media/{id}", get(show_media))
            .fallback(not_found)
            .with_state(shared.clone());
        let running = Running::start("mastodon", port, router, Arc::new(MastodonErrors));
        FakeMastodon { running, shared }
    }

    /// Changes the configuration (tokens, limits, media processing) from now on.
    pub fn configure(&self, change: impl FnOnce(&mut MastodonConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Accepts `token` for `username`.
    pub fn add_token(&self, token: &str, username: &str) {
        self.configure(|c| {
            c.tokens.insert(token.to_string(), username.to_string());
        });
    }

    /// Revokes `token`: from now on it gets 401.
    pub fn revoke_token(&self, token: &str) {
        self.configure(|c| {
            c.tokens.remove(token);
        });
    }

    /// Moves the instance's clock to `hour`: statuses gain favourites, boosts, replies and
    /// quotes by their age in hours, the account followers (see [`super::growth`]).
    pub fn set_hour(&self, hour: u64) {
        lock(&self.shared).hour = hour;
    }

    /// Makes people take to a status `times` as much as to others: its favourites, boosts,
    /// replies and quotes grow `times` as fast (1 for every status unless told).
    pub fn set_appeal(&self, id: &str, times: u64) {
        let mut instance = lock(&self.shared);
        if let Some(status) = instance.statuses.iter_mut().find(|s| s.id == id) {
            status.appeal = times;
        }
    }

    /// Deletes a status as its author would on the instance: it answers 404 from then on.
    pub fn delete_on_network(&self, id: &str) {
        let mut instance = lock(&self.shared);
        if let Some(status) = instance.statuses.iter_mut().find(|s| s.id == id) {
            status.deleted = true;
        }
    }

    /// Enforces `limit` per account (Mastodon's default is 300 per 5 minutes).
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// How many times each status was read (`GET /api/v1/statuses/{id}`, where a
    /// client reads its counters), by status id.
    pub fn status_reads(&self) -> HashMap<String, u64> {
        lock(&self.shared).reads.clone()
    }

    /// Every status created, in order, deleted ones included (`deleted` set).
    pub fn posts(&self) -> Vec<ReceivedPost> {
        let instance = lock(&self.shared);
        instance
            .statuses
            .iter()
            .map(|s| ReceivedPost {
                id: s.id.clone(),
                channel: s.username.clone(),
                text: s.text.clone(),
                formatted: None,
                reply_to: s.in_reply_to_id.clone(),
                media: s
                    .media_ids
                    .iter()
                    .filter_map(|id| instance.media.iter().find(|m| &m.id == id))
                    .map(Media::received)
                    .collect(),
                idempotency_key: s.idempotency_key.clone(),
                auth: Some(s.auth.clone()),
                deleted: s.deleted,
                url: Some(instance.status_url(s)),
                raw: s.raw.clone(),
            })
            .collect()
    }

    /// The bytes of every media upload, in order, attached or not.
    pub fn media_bytes(&self) -> Vec<Vec<u8>> {
        lock(&self.shared)
            .media
            .iter()
            .map(|m| m.data.clone())
            .collect()
    }

    /// Every media upload, attached or not.
    pub fn media(&self) -> Vec<ReceivedMedia> {
        lock(&self.shared)
            .media
            .iter()
            .map(Media::received)
            .collect()
    }
}

fake_server!(FakeMastodon);

struct Instance {
    base_url: String,
    config: MastodonConfig,
    statuses: Vec<Status>,
    media: Vec<Media>,
    /// (username, key) → (status id, first seen).
    idempotency: HashMap<(String, String), (String, Instant)>,
    last_id: u64,
    /// The clock engagement grows by ([`FakeMastodon::set_hour`]).
    hour: u64,
    /// How many times each status was read (`GET /api/v1/statuses/{id}`), by id.
    reads: HashMap<String, u64>,
}

struct Status {
    id: String,
    username: String,
    text: String,
    spoiler_text: String,
    visibility: String,
    sensitive: bool,
    language: Option<String>,
    in_reply_to_id: Option<String>,
    media_ids: Vec<String>,
    created_at: SystemTime,
    /// The instance's hour (see [`FakeMastodon::set_hour`]) when it was posted.
    born_hour: u64,
    /// How many times as fast as others its counters grow ([`FakeMastodon::set_appeal`]).
    appeal: u64,
    deleted: bool,
    idempotency_key: Option<String>,
    auth: String,
    raw: Value,
}

struct Media {
    id: String,
    username: String,
    mime: String,
    size: usize,
    description: Option<String>,
    file_name: Option<String>,
    dimensions: Option<(u64, u64)>,
    /// The uploaded file's bytes.
    data: Vec<u8>,
    /// 206 answers still to give before processing is done.
    polls_left: u32,
    /// A 200 was answered for it, so a client may attach it.
    ready: bool,
    attached: bool,
}

impl Media {
    fn received(&self) -> ReceivedMedia {
        ReceivedMedia {
            id: self.id.clone(),
            mime: self.mime.clone(),
            size: self.size,
            alt: self.description.clone(),
            file_name: self.file_name.clone(),
        }
    }

    fn kind(&self) -> &'static str {
        match self.mime.split('/').next() {
            Some("image") if self.mime == "image/gif" => "gifv",
            Some("image") => "image",
            Some("video") => "video",
            Some("audio") => "audio",
            _ => "unknown",
        }
    }
}

impl Instance {
    /// Mastodon ids are snowflakes: milliseconds shifted left 16 bits plus a sequence, as
    /// strings. Strictly increasing here even within one millisecond.
    fn next_id(&mut self) -> String {
        let candidate = wire::unix_millis() << 16;
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id.to_string()
    }

    fn status_url(&self, status: &Status) -> String {
        format!("{}/@{}/{}", self.base_url, status.username, status.id)
    }

    fn account_json(&self, username: &str) -> Value {
        let statuses_count = self
            .statuses
            .iter()
            .filter(|s| s.username == username && !s.deleted)
            .count();
        json!({
            "id": account_id(username),
            "username": username,
            "acct": username,
            "display_name": username,
            "locked": false,
            "bot": false,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": format!("{}/@{username}", self.base_url),
            "avatar": format!("{}/avatars/original/missing.png", self.base_url),
            "followers_count": followers(self.hour),
            "following_count": 7,
            "statuses_count": statuses_count,
        })
    }

    fn media_json(&self, media: &Media) -> Value {
        let url = media.ready.then(|| {
            format!(
                "{}/system/media_attachments/files/{}/original/{}",
                self.base_url,
                media.id,
                media.file_name.as_deref().unwrap_or("file")
            )
        });
        let meta = match media.dimensions {
            Some((w, h)) => {
                json!({"original": {"width": w, "height": h, "size": format!("{w}x{h}")}})
            }
            None => json!({}),
        };
        json!({
            "id": media.id,
            "type": media.kind(),
            "url": url,
            "preview_url": url,
            "remote_url": null,
            "text_url": null,
            "meta": meta,
            "description": media.description,
            "blurhash": null,
        })
    }

    fn status_json(&self, status: &Status, with_source: bool) -> Value {
        // Engagement grows with the status's age, `appeal` times as fast.
        let age = self.hour.saturating_sub(status.born_hour) * status.appeal;
        let in_reply_to_account_id = status.in_reply_to_id.as_ref().and_then(|id| {
            self.statuses
                .iter()
                .find(|s| &s.id == id)
                .map(|s| account_id(&s.username))
        });
        let media: Vec<Value> = status
            .media_ids
            .iter()
            .filter_map(|id| self.media.iter().find(|m| &m.id == id))
            .map(|m| self.media_json(m))
            .collect();
        let mut value = json!({
            "id": status.id,
            "created_at": wire::iso8601(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": in_reply_to_account_id,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": format!("{}/users/{}/statuses/{}", self.base_url, status.username, status.id),
            "url": self.status_url(status),
            "replies_count": grown(REPLIES_PER_HOUR, age),
            "reblogs_count": grown(REPOSTS_PER_HOUR, age),
            "favourites_count": grown(LIKES_PER_HOUR, age),
            "content": html_paragraph(&status.text),
            "reblog": null,
            "account": self.account_json(&status.username),
            "media_attachments": media,
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": null,
            "poll": null,
        });
        if with_source && let Value::Object(object) = &mut value {
            object.insert("text".into(), Value::String(status.text.clone()));
        }
        if self.config.quotes_count
            && let Value::Object(object) = &mut value
        {
            object.insert("quotes_count".into(), json!(grown(QUOTES_PER_HOUR, age)));
        }
        value
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<(String, String), Response> {
        let header = wire::authorization(headers);
        let username = wire::auth_token(headers, "Bearer")
            .and_then(|token| self.config.tokens.get(&token).cloned());
        match (username, header) {
            (Some(username), Some(header)) => Ok((username, header)),
            _ => Err(error(
                StatusCode::UNAUTHORIZED,
                "The access token is invalid",
            )),
        }
    }
}

/// Account ids are stable per username, like the database ids they stand for.
fn account_id(username: &str) -> String {
    let hash = wire::sha256(username.as_bytes());
    (u64::from_be_bytes([0, 0, hash[0], hash[1], hash[2], hash[3], hash[4], hash[5]])
        % 1_000_000_000)
        .to_string()
}

fn error(status: StatusCode, message: &str) -> Response {
    wire::json(status, json!({ "error": message }))
}

fn html_paragraph(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "<br />");
    format!("<p>{escaped}</p>")
}

type Shared = State<Arc<Mutex<Instance>>>;

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Record not found")
}

async fn instance(State(shared): Shared) -> Response {
    let instance = lock(&shared);
    let c = &instance.config;
    let domain = instance.base_url.trim_start_matches("http://").to_string();
    wire::json(
        StatusCode::OK,
        json!({
            "domain": domain,
            "title": "Fake Mastodon",
            "version": "4.3.0",
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "An instance for postctl's tests",
            "configuration": {
                "urls": { "streaming": format!("ws://{domain}") },
                "accounts": { "max_featured_tags": 10, "max_pinned_statuses": 5 },
                "statuses": {
                    "max_characters": c.max_characters,
                    "max_media_attachments": c.max_media_attachments,
                    "characters_reserved_per_url": c.characters_reserved_per_url,
                },
                "media_attachments": {
                    "supported_mime_types": c.supported_mime_types,
                    "description_limit": 1500,
                    "image_size_limit": c.image_size_limit,
                    "image_matrix_limit": 8_294_400,
                    "video_size_limit": c.video_size_limit,
                    "video_frame_rate_limit": 120,
                    "video_matrix_limit": 8_294_400,
                },
                "polls": {
                    "max_options": 4,
                    "max_characters_per_option": 50,
                    "min_expiration": 300,
                    "max_expiration": 2_629_746,
                },
            },
            "registrations": { "enabled": false, "approval_required": false },
        }),
    )
}

async fn verify_credentials(State(shared): Shared, headers: HeaderMap) -> Response {
    let instance = lock(&shared);
    match instance.authenticate(&headers) {
        Ok((username, _)) => wire::json(StatusCode::OK, instance.account_json(&username)),
        Err(response) => response,
    }
}

/// Reads form, JSON or multipart parameters, as Rails does for every endpoint.
async fn params(headers: &HeaderMap, body: Bytes) -> Result<Map<String, Value>, Response> {
    let bad = |e: BodyError| {
        error(
            StatusCode::BAD_REQUEST,
            &format!(
                "Error occurred while parsing request parameters: {}",
                e.message()
            ),
        )
    };
    if wire::media_type(headers) == "multipart/form-data" {
        let parts = wire::multipart(headers, body).await.map_err(bad)?;
        let pairs = parts.iter().map(|p| (p.name.clone(), p.text())).collect();
        return Ok(wire::pairs_to_object(pairs));
    }
    wire::body_params(headers, &body).map_err(bad)
}

async fn create_status(State(shared): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let params = match params(&headers, body).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    let mut instance = lock(&shared);
    let (username, auth) = match instance.authenticate(&headers) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let idempotency_key = wire::header_str(&headers, "idempotency-key").map(str::to_string);
    if let Some(key) = &idempotency_key {
        let window = instance.config.idempotency_window;
        let slot = (username.clone(), key.clone());
        let earlier = instance
            .idempotency
            .get(&slot)
            .filter(|(_, seen)| seen.elapsed() < window)
            .map(|(id, _)| id.clone());
        if let Some(id) = earlier {
            // A replay answers with the status the key first created, whatever this body
            // says, and creates nothing.
            return match instance.statuses.iter().find(|s| s.id == id && !s.deleted) {
                Some(status) => wire::json(StatusCode::OK, instance.status_json(status, false)),
                None => error(StatusCode::NOT_FOUND, "Record not found"),
            };
        }
    }
    let text = wire::param_str(&params, "status").unwrap_or_default();
    let spoiler_text = wire::param_str(&params, "spoiler_text").unwrap_or_default();
    if params.contains_key("scheduled_at") {
        // Scheduled statuses are a different entity (ScheduledStatus) that postctl never
        // asks for; refusing is better than publishing now.
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: scheduled_at is not supported by this fake instance",
        );
    }
    let visibility = wire::param_str(&params, "visibility").unwrap_or_else(|| "public".into());
    if !["public", "unlisted", "private", "direct"].contains(&visibility.as_str()) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Visibility is not included in the list",
        );
    }
    let media_ids: Vec<String> = match params.get("media_ids") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    if media_ids.len() > instance.config.max_media_attachments {
        let max = instance.config.max_media_attachments;
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Cannot attach more than {max} files"),
        );
    }
    let missing: Vec<&str> = media_ids
        .iter()
        .filter(|id| {
            !instance
                .media
                .iter()
                .any(|m| &&m.id == id && m.username == username && !m.attached)
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "Media {} not found or already attached to another post",
                missing.join(", ")
            ),
        );
    }
    if media_ids
        .iter()
        .any(|id| instance.media.iter().any(|m| &m.id == id && !m.ready))
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Cannot attach files that have not finished processing. Try again in a moment!",
        );
    }
    let in_reply_to_id = wire::param_str(&params, "in_reply_to_id").filter(|id| !id.is_empty());
    if let Some(parent) = &in_reply_to_id
        && !instance
            .statuses
            .iter()
            .any(|s| &s.id == parent && !s.deleted)
    {
        return error(
            StatusCode::NOT_FOUND,
            "The post you are trying to reply to does not appear to exist.",
        );
    }
    if text.trim().is_empty() && media_ids.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Text can't be blank",
        );
    }
    let max = instance.config.max_characters;
    if countable_length(
        &text,
        &spoiler_text,
        instance.config.characters_reserved_per_url,
    ) > max
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Validation failed: Text character limit of {max} exceeded"),
        );
    }
    let id = instance.next_id();
    for media in instance.media.iter_mut() {
        if media_ids.contains(&media.id) {
            media.attached = true;
        }
    }
    let status = Status {
        id: id.clone(),
        username: username.clone(),
        text,
        sensitive: wire::param_bool(&params, "sensitive").unwrap_or(false),
        spoiler_text,
        visibility,
        language: wire::param_str(&params, "language"),
        in_reply_to_id,
        media_ids,
        created_at: SystemTime::now(),
        born_hour: instance.hour,
        appeal: 1,
        deleted: false,
        idempotency_key: idempotency_key.clone(),
        auth,
        raw: Value::Object(params),
    };
    let answer = instance.status_json(&status, false);
    instance.statuses.push(status);
    if let Some(key) = idempotency_key {
        instance
            .idempotency
            .insert((username, key), (id, Instant::now()));
    }
    wire::json(StatusCode::OK, answer)
}

async fn show_status(State(shared): Shared, Path(id): Path<String>) -> Response {
    let mut instance = lock(&shared);
    *instance.reads.entry(id.clone()).or_insert(0) += 1;
    match instance.statuses.iter().find(|s| s.id == id && !s.deleted) {
        Some(status) => wire::json(StatusCode::OK, instance.status_json(status, false)),
        None => error(StatusCode::NOT_FOUND, "Record not found"),
    }
}

async fn delete_status(
    State(shared): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut instance = lock(&shared);
    let (username, _) = match instance.authenticate(&headers) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(index) = instance
        .statuses
        .iter()
        .position(|s| s.id == id && s.username == username && !s.deleted)
    else {
        return error(StatusCode::NOT_FOUND, "Record not found");
    };
    instance.statuses[index].deleted = true;
    // The answer carries the source text, for delete-and-redraft.
    wire::json(
        StatusCode::OK,
        instance.status_json(&instance.statuses[index], true),
    )
}

async fn upload_media(State(shared): Shared, headers: HeaderMap, body: Bytes) -> Response {
    {
        let instance = lock(&shared);
        if let Err(response) = instance.authenticate(&headers) {
            return response;
        }
    }
    let parts = if wire::media_type(&headers) == "multipart/form-data" {
        match wire::multipart(&headers, body).await {
            Ok(parts) => parts,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "Error occurred while parsing request parameters: {}",
                        e.message()
                    ),
                );
            }
        }
    } else {
        Vec::new()
    };
    let Some(file) = parts
        .iter()
        .find(|p| p.name == "file" && !p.data.is_empty())
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: File can't be blank",
        );
    };
    let description = parts
        .iter()
        .find(|p| p.name == "description")
        .map(|p| p.text())
        .filter(|d| !d.is_empty());
    // Mastodon trusts the file's bytes, not the declared type.
    let mime = wire::sniff_media_type(&file.data)
        .map(str::to_string)
        .or_else(|| file.content_type.clone())
        .unwrap_or_default();
    let mut instance = lock(&shared);
    let (username, _) = match instance.authenticate(&headers) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let config = &instance.config;
    if !config.supported_mime_types.contains(&mime) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: File content type is invalid",
        );
    }
    let limit = if mime.starts_with("image/") {
        config.image_size_limit
    } else {
        config.video_size_limit
    };
    if file.data.len() > limit {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "Validation failed: File file size must be less than {} MB",
                limit / (1024 * 1024)
            ),
        );
    }
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1500)
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Description is too long (maximum is 1500 characters)",
        );
    }
    let polls = config.media_processing_polls;
    let id = instance.next_id();
    let media = Media {
        id,
        username,
        size: file.data.len(),
        dimensions: wire::image_size(&file.data),
        data: file.data.to_vec(),
        mime,
        description,
        file_name: file.file_name.clone(),
        polls_left: polls,
        ready: polls == 0,
        attached: false,
    };
    let answer = instance.media_json(&media);
    instance.media.push(media);
    let status = if polls == 0 {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    wire::json(status, answer)
}

async fn show_media(State(shared): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let mut instance = lock(&shared);
    let (username, _) = match instance.authenticate(&headers) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(index) = instance
        .media
        .iter()
        .position(|m| m.id == id && m.username == username)
    else {
        return error(StatusCode::NOT_FOUND, "Record not found");
    };
    let media = &mut instance.media[index];
    let status = if media.polls_left > 0 {
        media.polls_left -= 1;
        StatusCode::PARTIAL_CONTENT
    } else {
        media.ready = true;
        StatusCode::OK
    };
    wire::json(status, instance.media_json(&instance.media[index]))
}

/// Mastodon's words for failures: `{"error": ...}` and `X-RateLimit-*` headers whose
/// reset is an ISO 8601 timestamp.
struct MastodonErrors;

impl ErrorStyle for MastodonErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        error(status, status.canonical_reason().unwrap_or("Server error"))
    }

    fn rate_limited(&self, path: &str, quota: &QuotaState) -> Response {
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        self.quota_headers(path, quota, response.headers_mut());
        response
    }

    fn quota_headers(&self, _path: &str, quota: &QuotaState, headers: &mut HeaderMap) {
        let pairs = [
            ("x-ratelimit-limit", quota.limit.to_string()),
            ("x-ratelimit-remaining", quota.remaining.to_string()),
            ("x-ratelimit-reset", wire::iso8601(quota.reset_at)),
        ];
        wire::add_missing_headers(headers, pairs);
    }
}

#[cfg(test)]
mod tests;
