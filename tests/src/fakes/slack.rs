//! Slack: incoming webhooks (`POST /services/T…/B…/…` → 200 `ok`, or
//! an error word with a 4xx) and the Web API (`POST /api/<method>` with a Bearer token or a
//! `token` parameter, JSON or form): auth.test, chat.postMessage with `thread_ts`,
//! chat.delete and chat.getPermalink. Web API errors are HTTP 200 `{"ok":false,"error"}`;
//! rate limits are 429 with `Retry-After`.
//!
//! Choices where Slack's documentation is silent (unconfirmed):
//! text over 40,000 characters is refused with `msg_too_long` rather than truncated; a
//! `thread_ts` that names no message in the channel gets `thread_not_found`; the 429 body is
//! `{"ok":false,"error":"ratelimited"}` on the Web API and `rate_limited` on webhooks; webhook
//! errors are `no_service` (404), `invalid_token` (403), `invalid_payload` (400),
//! `no_text` (400) and `channel_is_archived` (410).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Map, Value, json};

use super::chaos::ErrorStyle;
use super::quota::{QuotaState, RateLimit};
use super::server::BoundPort;
use super::wire;
use super::{FakeServer, ReceivedPost, Running, lock};

/// The longest text chat.postMessage takes, in characters.
const MAX_TEXT: usize = 40_000;

/// A channel of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackChannel {
    pub id: String,
    pub name: String,
    pub archived: bool,
    /// The bot was added to it (else `not_in_channel`).
    pub member: bool,
}

/// An incoming webhook: `{base}/services/{path}`, bound to one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackWebhook {
    /// `T…/B…/secret`.
    pub path: String,
    pub channel_id: String,
}

#[derive(Clone, Debug)]
pub struct SlackConfig {
    pub bot_token: String,
    pub team_id: String,
    pub team: String,
    pub bot_user_id: String,
    pub bot_id: String,
    pub channels: Vec<SlackChannel>,
    pub webhooks: Vec<SlackWebhook>,
}

impl Default for SlackConfig {
    fn default() -> SlackConfig {
        SlackConfig {
            bot_token: FakeSlack::BOT_TOKEN.into(),
            team_id: "T0FAKE001".into(),
            team: "postctl-test".into(),
            bot_user_id: "U0FAKEBOT".into(),
            bot_id: "B0FAKEBOT".into(),
            channels: vec![
                SlackChannel {
                    id: FakeSlack::CHANNEL.into(),
                    name: "general".into(),
                    archived: false,
                    member: true,
                },
                SlackChannel {
                    id: "C0ARCHIVED".into(),
                    name: "old".into(),
                    archived: true,
                    member: true,
                },
            ],
            webhooks: vec![SlackWebhook {
                path: FakeSlack::WEBHOOK_PATH.into(),
                channel_id: FakeSlack::CHANNEL.into(),
            }],
        }
    }
}

/// A fake Slack workspace; stops when dropped.
pub struct FakeSlack {
    running: Running,
    shared: Arc<Mutex<Workspace>>,
}

impl FakeSlack {
    pub const BOT_TOKEN: &'static str = "xoxb-fake-bot-token";
    pub const CHANNEL: &'static str = "C0GENERAL1";
    pub const WEBHOOK_PATH: &'static str = "T0FAKE001/B0HOOK001/fakesecretfakesecret";

    pub fn start() -> FakeSlack {
        FakeSlack::start_with(SlackConfig::default())
    }

    pub fn start_with(config: SlackConfig) -> FakeSlack {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Workspace {
            config,
            messages: Vec::new(),
            last_ts: 0,
        }));
        let router = Router::new()
            .route("/services/{team}/{bot}/{secret}", post(webhook))
            .route("/api/{method}", any(web_api))
            .fallback(|| async { (StatusCode::NOT_FOUND, "no_service").into_response() })
            .with_state(shared.clone());
        let running = Running::start("slack", port, router, Arc::new(SlackErrors));
        FakeSlack { running, shared }
    }

    /// The default incoming webhook's URL.
    pub fn webhook_url(&self) -> String {
        format!("{}/services/{}", self.base_url(), FakeSlack::WEBHOOK_PATH)
    }

    pub fn configure(&self, change: impl FnOnce(&mut SlackConfig)) {
        change(&mut lock(&self.shared).config);
    }

    /// Enforces `limit` per token or webhook (Slack: about 1 message per second per channel).
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.running.set_rate_limit(limit);
    }

    /// Every message posted, in order; webhook posts have an empty `id` (Slack returns no ts
    /// to webhooks, though the fake stores one).
    pub fn posts(&self) -> Vec<ReceivedPost> {
        let workspace = lock(&self.shared);
        workspace
            .messages
            .iter()
            .map(|m| ReceivedPost {
                id: if m.via_webhook {
                    String::new()
                } else {
                    m.ts.clone()
                },
                channel: m.channel.clone(),
                text: m.text.clone(),
                formatted: None,
                reply_to: m.thread_ts.clone(),
                media: Vec::new(),
                idempotency_key: None,
                auth: Some(m.auth.clone()),
                deleted: m.deleted,
                url: Some(workspace.permalink(&m.channel, &m.ts)),
                raw: m.raw.clone(),
            })
            .collect()
    }
}

fake_server!(FakeSlack);

struct Workspace {
    config: SlackConfig,
    messages: Vec<Message>,
    /// Microseconds of the last ts handed out.
    last_ts: u64,
}

struct Message {
    channel: String,
    ts: String,
    text: String,
    thread_ts: Option<String>,
    via_webhook: bool,
    deleted: bool,
    auth: String,
    raw: Value,
}

fn api_error(error: &str) -> Response {
    // Slack answers most errors with HTTP 200.
    wire::json(StatusCode::OK, json!({"ok": false, "error": error}))
}

fn webhook_error(status: StatusCode, word: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html")], word).into_response()
}

impl Workspace {
    /// A message ts: Unix seconds, a dot, six digits; unique and increasing.
    fn next_ts(&mut self) -> String {
        let now = wire::unix_millis() * 1000;
        self.last_ts = now.max(self.last_ts + 1);
        format!(
            "{}.{:06}",
            self.last_ts / 1_000_000,
            self.last_ts % 1_000_000
        )
    }

    fn permalink(&self, channel: &str, ts: &str) -> String {
        format!(
            "https://{}.slack.com/archives/{channel}/p{}",
            self.config.team,
            ts.replace('.', "")
        )
    }

    fn channel(&self, name_or_id: &str) -> Option<&SlackChannel> {
        let name = name_or_id.trim_start_matches('#');
        self.config
            .channels
            .iter()
            .find(|c| c.id == name_or_id || c.name == name)
    }

    /// The credential of a Web API call: Bearer header, else a `token` parameter.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        params: &Map<String, Value>,
    ) -> Result<String, Response> {
        let (token, auth) = match wire::auth_token(headers, "Bearer") {
            Some(token) => (token, wire::authorization(headers).unwrap_or_default()),
            None => match wire::param_str(params, "token") {
                Some(token) => (token.clone(), format!("token={token}")),
                None => return Err(api_error("not_authed")),
            },
        };
        if token == self.config.bot_token {
            Ok(auth)
        } else {
            Err(api_error("invalid_auth"))
        }
    }

    fn post_message(&mut self, params: Map<String, Value>, auth: String) -> Response {
        let Some(channel_param) = wire::param_str(&params, "channel") else {
            return api_error("channel_not_found");
        };
        let Some(channel) = self.channel(&channel_param).cloned() else {
            return api_error("channel_not_found");
        };
        if channel.archived {
            return api_error("is_archived");
        }
        if !channel.member {
            return api_error("not_in_channel");
        }
        let text = wire::param_str(&params, "text").unwrap_or_default();
        let has_blocks = params
            .get("blocks")
            .is_some_and(|b| !b.is_null() && b != "");
        let has_attachments = params
            .get("attachments")
            .is_some_and(|a| !a.is_null() && a != "");
        if text.trim().is_empty() && !has_blocks && !has_attachments {
            return api_error("no_text");
        }
        if text.chars().count() > MAX_TEXT {
            return api_error("msg_too_long");
        }
        let thread_ts = wire::param_str(&params, "thread_ts").filter(|t| !t.is_empty());
        if let Some(parent) = &thread_ts
            && !self
                .messages
                .iter()
                .any(|m| &m.ts == parent && m.channel == channel.id && !m.deleted)
        {
            return api_error("thread_not_found");
        }
        let ts = self.next_ts();
        let mut message = json!({
            "type": "message", "subtype": "bot_message", "text": text, "ts": ts,
            "user": self.config.bot_user_id, "bot_id": self.config.bot_id,
            "team": self.config.team_id,
        });
        if let Some(parent) = &thread_ts {
            message["thread_ts"] = json!(parent);
        }
        self.messages.push(Message {
            channel: channel.id.clone(),
            ts: ts.clone(),
            text,
            thread_ts,
            via_webhook: false,
            deleted: false,
            auth,
            raw: Value::Object(params),
        });
        wire::json(
            StatusCode::OK,
            json!({"ok": true, "channel": channel.id, "ts": ts, "message": message}),
        )
    }

    fn delete(&mut self, params: &Map<String, Value>) -> Response {
        let channel = wire::param_str(params, "channel").unwrap_or_default();
        let Some(channel) = self.channel(&channel).map(|c| c.id.clone()) else {
            return api_error("channel_not_found");
        };
        let ts = wire::param_str(params, "ts").unwrap_or_default();
        match self
            .messages
            .iter_mut()
            .find(|m| m.channel == channel && m.ts == ts && !m.deleted)
        {
            Some(message) => {
                message.deleted = true;
                wire::json(
                    StatusCode::OK,
                    json!({"ok": true, "channel": channel, "ts": ts}),
                )
            }
            None => api_error("message_not_found"),
        }
    }
}

async fn web_api(
    State(shared): State<Arc<Mutex<Workspace>>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = wire::pairs_to_object(wire::form_pairs(query.unwrap_or_default().as_bytes()));
    match wire::body_params(&headers, &body) {
        Ok(found) => params.extend(found),
        Err(_) => return api_error("invalid_json"),
    }
    let mut workspace = lock(&shared);
    let auth = match workspace.authenticate(&headers, &params) {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    match method.as_str() {
        "auth.test" => {
            let c = &workspace.config;
            wire::json(
                StatusCode::OK,
                json!({
                    "ok": true, "url": format!("https://{}.slack.com/", c.team), "team": c.team,
                    "user": "postctl", "team_id": c.team_id, "user_id": c.bot_user_id,
                    "bot_id": c.bot_id, "is_enterprise_install": false,
                }),
            )
        }
        "chat.postMessage" => workspace.post_message(params, auth),
        "chat.delete" => workspace.delete(&params),
        "chat.getPermalink" => {
            let channel = wire::param_str(&params, "channel").unwrap_or_default();
            let ts = wire::param_str(&params, "message_ts").unwrap_or_default();
            let found = workspace
                .messages
                .iter()
                .any(|m| (m.channel == channel) && m.ts == ts && !m.deleted);
            if found {
                let permalink = workspace.permalink(&channel, &ts);
                wire::json(
                    StatusCode::OK,
                    json!({"ok": true, "channel": channel, "permalink": permalink}),
                )
            } else {
                api_error("message_not_found")
            }
        }
        _ => api_error("unknown_method"),
    }
}

async fn webhook(
    State(shared): State<Arc<Mutex<Workspace>>>,
    Path((team, bot, secret)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut workspace = lock(&shared);
    let path = format!("{team}/{bot}/{secret}");
    let prefix = format!("{team}/{bot}/");
    let Some(hook) = workspace
        .config
        .webhooks
        .iter()
        .find(|h| h.path == path)
        .cloned()
    else {
        let same_hook = workspace
            .config
            .webhooks
            .iter()
            .any(|h| h.path.starts_with(&prefix));
        return if same_hook {
            webhook_error(StatusCode::FORBIDDEN, "invalid_token")
        } else {
            webhook_error(StatusCode::NOT_FOUND, "no_service")
        };
    };
    // JSON, or a form whose `payload` field holds the JSON.
    let payload = if wire::media_type(&headers) == "application/x-www-form-urlencoded" {
        wire::form_pairs(&body)
            .into_iter()
            .find(|(k, _)| k == "payload")
            .and_then(|(_, v)| serde_json::from_str::<Value>(&v).ok())
    } else {
        serde_json::from_slice::<Value>(&body).ok()
    };
    let Some(Value::Object(payload)) = payload else {
        return webhook_error(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    let Some(channel) = workspace.channel(&hook.channel_id).cloned() else {
        return webhook_error(StatusCode::NOT_FOUND, "channel_not_found");
    };
    if channel.archived {
        return webhook_error(StatusCode::GONE, "channel_is_archived");
    }
    let text = wire::param_str(&payload, "text").unwrap_or_default();
    if text.trim().is_empty()
        && !payload.contains_key("blocks")
        && !payload.contains_key("attachments")
    {
        return webhook_error(StatusCode::BAD_REQUEST, "no_text");
    }
    if text.chars().count() > MAX_TEXT {
        return webhook_error(StatusCode::BAD_REQUEST, "msg_too_long");
    }
    let ts = workspace.next_ts();
    workspace.messages.push(Message {
        channel: channel.id,
        ts,
        text,
        thread_ts: None,
        via_webhook: true,
        deleted: false,
        auth: secret,
        raw: Value::Object(payload),
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "ok").into_response()
}

/// Slack's words: JSON `ok:false` on the Web API, plain words on webhooks, and
/// `Retry-After` in whole seconds on 429.
struct SlackErrors;

impl ErrorStyle for SlackErrors {
    fn server_error(&self, path: &str, status: StatusCode) -> Response {
        if path.starts_with("/services/") {
            webhook_error(status, "internal_error")
        } else {
            wire::json(status, json!({"ok": false, "error": "internal_error"}))
        }
    }

    fn rate_limited(&self, path: &str, quota: &QuotaState) -> Response {
        let mut response = if path.starts_with("/services/") {
            webhook_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        } else {
            wire::json(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error": "ratelimited"}),
            )
        };
        wire::set_headers(
            response.headers_mut(),
            [("retry-after", quota.retry_after_secs().to_string())],
        );
        response
    }
}

#[cfg(test)]
mod tests;
