//! ntfy (<https://docs.ntfy.sh/publish/>): publishing is a `POST` (or `PUT`) of the
//! message text to `/<topic>`, with the title, priority and tags in the `Title` (`X-Title`,
//! `t`), `Priority` (`X-Priority`, `p`, 1–5 or min/low/default/high/max) and `Tags`
//! (`X-Tags`, `ta`, comma-separated) headers; non-ASCII header text comes as RFC 2047
//! encoded words. A protected topic wants `Authorization: Bearer <token>` and answers 401
//! `{"code":40101,"http":401,"error":"unauthorized"}` (403 `{"code":40301,…}` for a token
//! without access). A published message is answered 200 with the message as JSON:
//! `{"id","time","expires","event":"message","topic","message","title"?,"priority"?,"tags"?}`.
//!
//! Failures can be scripted: the next publishes answered with a status (ntfy's error body).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::lock;
use super::server::{BoundPort, RunningServer};

/// One message as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NtfyMessage {
    pub topic: String,
    pub title: Option<String>,
    /// 1–5 (3 when not given).
    pub priority: u8,
    pub tags: Vec<String>,
    pub message: String,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Topics {
    token: Option<String>,
    messages: Vec<NtfyMessage>,
    script: VecDeque<u16>,
    requests: usize,
}

/// A fake ntfy server; stops when dropped.
pub struct FakeNtfy {
    server: RunningServer,
    state: Arc<Mutex<Topics>>,
}

impl FakeNtfy {
    /// A server whose topics are open to anyone.
    pub fn start() -> FakeNtfy {
        FakeNtfy::start_with(None)
    }

    /// A server whose topics want this access token.
    pub fn protected(token: &str) -> FakeNtfy {
        FakeNtfy::start_with(Some(token.to_string()))
    }

    fn start_with(token: Option<String>) -> FakeNtfy {
        let state = Arc::new(Mutex::new(Topics {
            token,
            ..Topics::default()
        }));
        let router = Router::new()
            .route("/{topic}", post(publish).put(publish))
            .with_state(state.clone());
        let server = BoundPort::bind().serve("ntfy", router);
        FakeNtfy { server, state }
    }

    /// The URL of `topic` on this server.
    pub fn topic_url(&self, topic: &str) -> String {
        format!("{}/{topic}", self.server.base_url())
    }

    /// The messages published so far, in order.
    pub fn messages(&self) -> Vec<NtfyMessage> {
        lock(&self.state).messages.clone()
    }

    /// Every publish request, answered or refused.
    pub fn requests(&self) -> usize {
        lock(&self.state).requests
    }

    /// Answers the next publishes with these statuses, in turn.
    pub fn script(&self, statuses: &[u16]) {
        lock(&self.state).script.extend(statuses.iter().copied());
    }
}

fn header(headers: &HeaderMap, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        headers
            .get(*n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    })
}

/// RFC 2047 `=?UTF-8?B?…?=` as ntfy reads it; other text as is.
fn decode_header(text: &str) -> String {
    let inner = text
        .strip_prefix("=?UTF-8?B?")
        .or_else(|| text.strip_prefix("=?utf-8?b?"))
        .and_then(|t| t.strip_suffix("?="));
    match inner.and_then(|b| STANDARD.decode(b).ok()) {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => text.to_string(),
    }
}

fn error(status: StatusCode, code: u32, text: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "http": status.as_u16(), "error": text})),
    )
        .into_response()
}

async fn publish(
    State(state): State<Arc<Mutex<Topics>>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = lock(&state);
    s.requests += 1;
    let authorization = header(&headers, &["authorization"]);
    if let Some(token) = &s.token {
        match authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
        {
            None => return error(StatusCode::UNAUTHORIZED, 40101, "unauthorized"),
            Some(given) if given != token => {
                return error(StatusCode::FORBIDDEN, 40301, "forbidden");
            }
            Some(_) => {}
        }
    }
    if let Some(status) = s.script.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error(status, u32::from(status.as_u16()) * 100, "scripted failure");
    }
    let priority = match header(&headers, &["x-priority", "priority", "p"]).as_deref() {
        None => 3,
        Some("1" | "min") => 1,
        Some("2" | "low") => 2,
        Some("3" | "default") => 3,
        Some("4" | "high") => 4,
        Some("5" | "max" | "urgent") => 5,
        Some(_) => {
            return error(StatusCode::BAD_REQUEST, 40007, "invalid priority");
        }
    };
    let message = NtfyMessage {
        topic: topic.clone(),
        title: header(&headers, &["x-title", "title", "t"]).map(|t| decode_header(&t)),
        priority,
        tags: header(&headers, &["x-tags", "tags", "ta"])
            .map(|t| t.split(',').map(|x| x.trim().to_string()).collect())
            .unwrap_or_default(),
        message: String::from_utf8_lossy(&body).into_owned(),
        authorization,
    };
    s.messages.push(message.clone());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let id = format!("m{:010}", s.messages.len());
    axum::Json(json!({
        "id": id,
        "time": now,
        "expires": now + 43_200,
        "event": "message",
        "topic": topic,
        "message": message.message,
        "title": message.title,
        "priority": message.priority,
        "tags": message.tags,
    }))
    .into_response()
}
