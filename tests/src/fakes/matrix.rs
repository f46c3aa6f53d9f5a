//! A Matrix homeserver: `PUT …/rooms/{roomId}/send/{type}/{txnId}` where
//! the same txnId from the same access token on the same path returns the first event_id
//! and creates nothing; redaction (also by txnId); `POST /_matrix/media/v3/upload` → mxc://;
//! whoami, versions, media config and alias lookup; `{errcode, error}` errors, 401
//! `M_UNKNOWN_TOKEN`, and 429 `M_LIMIT_EXCEEDED` with `retry_after_ms` and `Retry-After`.
//!
//! Like Synapse, the server does not check what a message's content says (msgtype, body,
//! reply targets); it checks the token, the room membership, JSON, and the 65,536-byte
//! event size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::chaos::ErrorStyle;
use super::quota::{QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire;
use super::{ReceivedMedia, ReceivedPost, Running, lock};

/// The biggest event a homeserver accepts, in bytes of JSON.
const MAX_EVENT_BYTES: usize = 65_536;

/// A room the user has joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixRoom {
    pub id: String,
    pub alias: Option<String>,
}

#[derive(Clone, Debug)]
pub struct MatrixConfig {
    pub server_name: String,
    /// Valid access tokens → (user id, device id).
    pub tokens: HashMap<String, (String, String)>,
    pub rooms: Vec<MatrixRoom>,
    /// `m.upload.size`.
    pub max_upload_bytes: usize,
}

impl Default for MatrixConfig {
    fn default() -> MatrixConfig {
        MatrixConfig {
            server_name: "fake.matrix".into(),
            tokens: HashMap::from([(
                FakeMatrix::TOKEN.to_string(),
                ("@postctl:fake.matrix".to_string(), "POSTCTLDEV".to_string()),
            )]),
            rooms: vec![MatrixRoom {
                id: FakeMatrix::ROOM.into(),
                alias: Some("#postctl:fake.matrix".into()),
            }],
            max_upload_bytes: 50_000_000,
        }
    }
}

/// A fake homeserver; stops when dropped.
pub struct FakeMatrix {
    running: Running,
    shared: Arc<Mutex<Homeserver>>,
}

impl FakeMatrix {
    pub const TOKEN: &'static str = "syt_fake_matrix_token";
    pub const ROOM: &'static str = "!postctlroom:fake.matrix";

    pub fn start() -> FakeMatrix {
        FakeMatrix::start_with(MatrixConfig::default())
    }

    pub fn start_with(config: MatrixConfig) -> FakeMatrix {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Homeserver {
            config,
            events: Vec::new(),
            transactions: HashMap::new(),
            media: HashMap::new(),
            serial: 0,
        }));
        let router = Router::new()
            .route("/_matrix/client/versions", get(versions))
            .route("/_matrix/client/v3/account/whoami", get(whoami))
            .route(
                "/_matrix/client/v3/rooms/{room}/send/{event_type}/{txn}",
                put(send),
            )
            .route(
                "/_matrix/client/v3/rooms/{room}/redact/{event}/{txn}",
                put(redact),
            )
            .route(
                "/_matrix/client/v3/rooms/{room}/event/{event}",
                get(get_event),
            )
            .route(
                "/_matrix/client/v3/directory/room/{alias}",
                get(resolve_alias),
            )
            .route("/_matrix/media/v3/upload", post(upload))
            .route("/_matrix/media/v3/config", get(media_config))
            .route("/_matrix/client/v1/media/config", get(media_config))
            .fallback(|| async {
                matrix_error(
                    StatusCode::NOT_FOUND,
                    "M_UNRECOGNIZED",
                    "Unrecognized request",
                )
            })
            .with_state(shared.clone());
        let running = Running::start("matrix", port, router, Arc::new(MatrixErrors));
        FakeMatrix { running, shared }
    }

    pub fn configure(&self, change: impl FnOnce(&mut MatrixConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Enforces `limit` per access token.
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// Every m.room.message event sent, in order (redacted ones have `deleted` set).
    pub fn posts(&self) -> Vec<ReceivedPost> {
        let server = lock(&self.shared);
        server
            .events
            .iter()
            .filter(|e| e.event_type == "m.room.message")
            .map(|e| {
                let content = &e.content;
                let media = content["url"]
                    .as_str()
                    .map(|mxc| {
                        let upload = server.media.get(mxc);
                        vec![ReceivedMedia {
                            id: mxc.to_string(),
                            mime: content["info"]["mimetype"]
                                .as_str()
                                .map(str::to_string)
                                .or_else(|| upload.map(|u| u.mime.clone()))
                                .unwrap_or_default(),
                            size: upload.map_or(0, |u| u.size),
                            // For m.image the body is the description when a filename is
                            // given separately, else the file name.
                            alt: content["body"].as_str().map(str::to_string),
                            file_name: content["filename"]
                                .as_str()
                                .map(str::to_string)
                                .or_else(|| upload.and_then(|u| u.file_name.clone())),
                        }]
                    })
                    .unwrap_or_default();
                ReceivedPost {
                    id: e.event_id.clone(),
                    channel: e.room.clone(),
                    text: content["body"].as_str().unwrap_or_default().to_string(),
                    formatted: content["formatted_body"].as_str().map(str::to_string),
                    reply_to: content["m.relates_to"]["m.in_reply_to"]["event_id"]
                        .as_str()
                        .map(str::to_string),
                    media,
                    idempotency_key: Some(e.txn_id.clone()),
                    auth: Some(e.auth.clone()),
                    deleted: e.redacted,
                    url: Some(format!("https://matrix.to/#/{}/{}", e.room, e.event_id)),
                    raw: content.clone(),
                }
            })
            .collect()
    }
}

fake_server!(FakeMatrix);

struct Homeserver {
    config: MatrixConfig,
    events: Vec<Event>,
    /// (access token, request path) → the event id the first request answered.
    transactions: HashMap<(String, String), String>,
    media: HashMap<String, Upload>,
    serial: u64,
}

struct Event {
    room: String,
    event_id: String,
    event_type: String,
    content: Value,
    txn_id: String,
    auth: String,
    redacted: bool,
}

struct Upload {
    mime: String,
    size: usize,
    file_name: Option<String>,
}

type Answer = Result<Response, Response>;

fn matrix_error(status: StatusCode, errcode: &str, error: &str) -> Response {
    wire::json(status, json!({"errcode": errcode, "error": error}))
}

/// The caller: (access token, user id, Authorization value as sent).
struct Caller {
    token: String,
    user_id: String,
    device_id: String,
    auth: String,
}

impl Homeserver {
    /// Bearer header, else the deprecated `access_token` query parameter.
    fn authenticate(&self, headers: &HeaderMap, query: Option<&str>) -> Result<Caller, Response> {
        let (token, auth) = match wire::auth_token(headers, "Bearer") {
            Some(token) => (token, wire::authorization(headers).unwrap_or_default()),
            None => match wire::query_map(query).remove("access_token") {
                Some(token) => (token.clone(), format!("access_token={token}")),
                None => {
                    return Err(matrix_error(
                        StatusCode::UNAUTHORIZED,
                        "M_MISSING_TOKEN",
                        "Missing access token",
                    ));
                }
            },
        };
        match self.config.tokens.get(&token) {
            Some((user_id, device_id)) => Ok(Caller {
                user_id: user_id.clone(),
                device_id: device_id.clone(),
                token,
                auth,
            }),
            None => Err(wire::json(
                StatusCode::UNAUTHORIZED,
                json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed.", "soft_logout": false}),
            )),
        }
    }

    fn joined(&self, caller: &Caller, room: &str) -> Result<(), Response> {
        if self.config.rooms.iter().any(|r| r.id == room) {
            Ok(())
        } else {
            Err(matrix_error(
                StatusCode::FORBIDDEN,
                "M_FORBIDDEN",
                &format!("User {} not in room {room}", caller.user_id),
            ))
        }
    }

    /// An event id in the room-version-4 shape: `$` and 43 url-safe base64 characters.
    fn next_event_id(&mut self, seed: &str) -> String {
        self.serial += 1;
        let digest =
            wire::sha256(format!("{}:{seed}:{}", self.serial, wire::unix_millis()).as_bytes());
        format!("${}", wire::base64url(&digest))
    }

    /// The event id a transaction already produced, if the same token sent this path.
    fn replay(&self, caller: &Caller, path: &str) -> Option<Response> {
        self.transactions
            .get(&(caller.token.clone(), path.to_string()))
            .map(|event_id| wire::json(StatusCode::OK, json!({"event_id": event_id})))
    }
}

type Shared = State<Arc<Mutex<Homeserver>>>;

async fn versions() -> Response {
    wire::json(
        StatusCode::OK,
        json!({"versions": ["r0.6.1", "v1.1", "v1.5", "v1.10", "v1.11"], "unstable_features": {}}),
    )
}

async fn whoami(State(shared): Shared, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let server = lock(&shared);
    match server.authenticate(&headers, query.as_deref()) {
        Ok(caller) => wire::json(
            StatusCode::OK,
            json!({"user_id": caller.user_id, "device_id": caller.device_id, "is_guest": false}),
        ),
        Err(response) => response,
    }
}

fn content_object(body: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(matrix_error(
            StatusCode::BAD_REQUEST,
            "M_NOT_JSON",
            "Content not JSON.",
        )),
    }
}

async fn send(
    State(shared): Shared,
    Path((room, event_type, txn)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut server = lock(&shared);
    let answer: Answer = (|| {
        let caller = server.authenticate(&headers, query.as_deref())?;
        let path = format!("send/{room}/{event_type}/{txn}");
        if let Some(replayed) = server.replay(&caller, &path) {
            return Ok(replayed);
        }
        server.joined(&caller, &room)?;
        let content = content_object(&body)?;
        // The event adds room, sender, ids and signatures to the content; 512 bytes covers
        // them closely enough for a limit that clients should stay well under anyway.
        if body.len() + 512 > MAX_EVENT_BYTES {
            return Err(matrix_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "M_TOO_LARGE",
                "event too large",
            ));
        }
        let event_id = server.next_event_id(&txn);
        server.events.push(Event {
            room: room.clone(),
            event_id: event_id.clone(),
            event_type,
            content,
            txn_id: txn,
            auth: caller.auth.clone(),
            redacted: false,
        });
        server
            .transactions
            .insert((caller.token, path), event_id.clone());
        Ok(wire::json(StatusCode::OK, json!({"event_id": event_id})))
    })();
    answer.unwrap_or_else(|error| error)
}

async fn redact(
    State(shared): Shared,
    Path((room, event, txn)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut server = lock(&shared);
    let answer: Answer = (|| {
        let caller = server.authenticate(&headers, query.as_deref())?;
        let path = format!("redact/{room}/{event}/{txn}");
        if let Some(replayed) = server.replay(&caller, &path) {
            return Ok(replayed);
        }
        server.joined(&caller, &room)?;
        if !body.iter().all(u8::is_ascii_whitespace) {
            content_object(&body)?;
        }
        let Some(target) = server
            .events
            .iter_mut()
            .find(|e| e.room == room && e.event_id == event)
        else {
            return Err(matrix_error(
                StatusCode::NOT_FOUND,
                "M_NOT_FOUND",
                "Event not found.",
            ));
        };
        target.redacted = true;
        let event_id = server.next_event_id(&txn);
        server
            .transactions
            .insert((caller.token, path), event_id.clone());
        Ok(wire::json(StatusCode::OK, json!({"event_id": event_id})))
    })();
    answer.unwrap_or_else(|error| error)
}

async fn get_event(
    State(shared): Shared,
    Path((room, event)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let server = lock(&shared);
    let answer: Answer = (|| {
        let caller = server.authenticate(&headers, query.as_deref())?;
        server.joined(&caller, &room)?;
        let found = server
            .events
            .iter()
            .find(|e| e.room == room && e.event_id == event)
            .ok_or_else(|| {
                matrix_error(StatusCode::NOT_FOUND, "M_NOT_FOUND", "Event not found.")
            })?;
        let content = if found.redacted {
            json!({})
        } else {
            found.content.clone()
        };
        Ok(wire::json(
            StatusCode::OK,
            json!({
                "event_id": found.event_id, "room_id": found.room, "type": found.event_type,
                "sender": caller.user_id, "content": content,
            }),
        ))
    })();
    answer.unwrap_or_else(|error| error)
}

async fn resolve_alias(State(shared): Shared, Path(alias): Path<String>) -> Response {
    let server = lock(&shared);
    match server
        .config
        .rooms
        .iter()
        .find(|r| r.alias.as_deref() == Some(alias.as_str()))
    {
        Some(room) => wire::json(
            StatusCode::OK,
            json!({"room_id": room.id, "servers": [server.config.server_name]}),
        ),
        None => matrix_error(
            StatusCode::NOT_FOUND,
            "M_NOT_FOUND",
            &format!("Room alias {alias} not found"),
        ),
    }
}

async fn upload(
    State(shared): Shared,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut server = lock(&shared);
    if let Err(response) = server.authenticate(&headers, query.as_deref()) {
        return response;
    }
    if body.len() > server.config.max_upload_bytes {
        return matrix_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "M_TOO_LARGE",
            &format!(
                "Cannot upload files larger than {} bytes",
                server.config.max_upload_bytes
            ),
        );
    }
    let mime = Some(wire::media_type(&headers))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    let file_name = wire::query_map(query.as_deref()).remove("filename");
    server.serial += 1;
    let media_id = wire::base64url(&wire::sha256(
        format!("{}{}", server.serial, body.len()).as_bytes(),
    ))[..24]
        .to_string();
    let content_uri = format!("mxc://{}/{media_id}", server.config.server_name);
    server.media.insert(
        content_uri.clone(),
        Upload {
            mime,
            size: body.len(),
            file_name,
        },
    );
    wire::json(StatusCode::OK, json!({"content_uri": content_uri}))
}

async fn media_config(
    State(shared): Shared,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let server = lock(&shared);
    match server.authenticate(&headers, query.as_deref()) {
        Ok(_) => wire::json(
            StatusCode::OK,
            json!({"m.upload.size": server.config.max_upload_bytes}),
        ),
        Err(response) => response,
    }
}

/// The spec's words: `{errcode, error}`, and on 429 `M_LIMIT_EXCEEDED` with the deprecated
/// `retry_after_ms` and the `Retry-After` header (whole seconds).
struct MatrixErrors;

impl ErrorStyle for MatrixErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        matrix_error(status, "M_UNKNOWN", "Internal server error")
    }

    fn rate_limited(&self, _path: &str, quota: &QuotaState) -> Response {
        let millis = u64::try_from(quota.reset_after.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut response = wire::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": millis}),
        );
        // Whole seconds of the same wait the body gives in milliseconds.
        let seconds = millis.div_ceil(1000);
        wire::set_headers(
            response.headers_mut(),
            [("retry-after", seconds.to_string())],
        );
        response
    }
}

#[cfg(test)]
mod tests;
