//! What the two fake AI servers ([`FakeAnthropic`](super::FakeAnthropic) and
//! [`FakeOpenAi`](super::FakeOpenAi)) share: the replies a test queues for the fake model,
//! the requests as received, the model's context window, and the playing of a streamed
//! answer as server-sent events, with short pauses so that the client sees the events arrive
//! one by one, and with an abrupt end when the stream is cut.
//!
//! Token counts are estimates, the same for both networks: a quarter of the characters,
//! rounded up ([`estimate_tokens`]). A text is streamed in pieces of [`DELTA_CHARS`]
//! characters ([`split_into_deltas`]), so a test can tell which part of a cut answer the
//! client saw.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use serde_json::Value;
use tokio::time::Sleep;

/// What a fake model answers when the test queued nothing.
pub const DEFAULT_ANSWER: &str = "This is the fake model's answer.";

/// The length of one streamed delta, in characters (the last one may be shorter).
pub const DELTA_CHARS: usize = 12;

/// The wait after each event of a stream, long enough for the server to flush the event
/// on its own before writing the next one.
const PAUSE: Duration = Duration::from_millis(3);

/// What the fake model does for one request, queued by the test in order.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A normal answer. Streamed, the text arrives in deltas of [`DELTA_CHARS`] characters
    /// and the stream ends properly (Anthropic: stop_reason `end_turn` then `message_stop`;
    /// OpenAI: a chunk with finish_reason `stop`, then `data: [DONE]`).
    Text(String),
    /// The answer stops at the token limit (Anthropic stop_reason `max_tokens`; OpenAI
    /// finish_reason `length`).
    MaxTokens(String),
    /// The network's "overloaded" answer before any stream: Anthropic 529
    /// `overloaded_error`; OpenAI-compatible 503 `server_error`.
    Overloaded,
    /// 429 with the network's rate-limit error body and `retry-after: <secs>`, and the
    /// network's rate-limit headers saying no request is left.
    RateLimited { retry_after_secs: u64 },
    /// HTTP 200 and a stream that starts normally, sends the first `deltas` deltas of
    /// `text`, then an in-stream error (Anthropic `event: error` with `overloaded_error`;
    /// OpenAI `data: {"error":{..,"type":"server_error"}}`), then the body ends. Asked
    /// without streaming, the network's overloaded (Anthropic) or server error (OpenAI)
    /// answer.
    StreamError { text: String, deltas: usize },
    /// HTTP 200 and a stream that sends the first `deltas` deltas of `text`, then the
    /// connection closes in the middle of the chunked body: no end of the stream, no end of
    /// the body. Asked without streaming, the connection closes without an answer.
    Cut { text: String, deltas: usize },
    /// `status` (500 when it is not a valid HTTP status) and the network's error body with
    /// this error type and message.
    Error {
        status: u16,
        kind: String,
        message: String,
    },
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct AiRequest {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Value::Null` if not JSON).
    pub body: Value,
}

impl AiRequest {
    /// Reads a request as it arrived.
    pub(crate) fn read(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> AiRequest {
        AiRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            headers: headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All text the client sent: the system prompt(s) and every message's content, joined
    /// with "\n". Content may be a string or an array of `{"type":"text","text":..}` blocks;
    /// blocks without text (images, tool calls) add nothing.
    pub fn prompt_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(system) = self.body.get("system") {
            parts.extend(content_texts(system));
        }
        if let Some(Value::Array(messages)) = self.body.get("messages") {
            for message in messages {
                if let Some(content) = message.get("content") {
                    parts.extend(content_texts(content));
                }
            }
        }
        parts.join("\n")
    }

    /// The prompt's size in tokens, as both fakes estimate it.
    pub fn prompt_tokens(&self) -> usize {
        estimate_tokens(&self.prompt_text())
    }

    /// The body asks for a streamed answer (`"stream": true`).
    pub(crate) fn wants_stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }
}

/// The texts of one content value: a string, or the `text` of each block of an array.
fn content_texts(content: &Value) -> Vec<String> {
    match content {
        Value::String(text) => vec![text.clone()],
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|block| match block {
                Value::String(text) => Some(text.clone()),
                _ => block
                    .get("text")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The fakes' estimate of a text's size in tokens: a quarter of its characters, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// `text` as the fakes stream it: pieces of [`DELTA_CHARS`] characters, in order; none for
/// an empty text.
pub fn split_into_deltas(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(DELTA_CHARS)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// The first `count` of [`split_into_deltas`]: what a stream that breaks off sends.
pub(crate) fn first_deltas(text: &str, count: usize) -> Vec<String> {
    split_into_deltas(text).into_iter().take(count).collect()
}

/// What a fake model server knows: the models it serves, their context window, the replies
/// the test queued, and every request received.
pub(crate) struct Script {
    models: Vec<String>,
    context_tokens: usize,
    replies: VecDeque<Reply>,
    requests: Vec<AiRequest>,
    issued_ids: u64,
}

/// A script as the test and the server thread share it.
pub(crate) type SharedScript = Arc<Mutex<Script>>;

impl Script {
    /// A script serving `model` with a context window of `context_tokens`.
    pub(crate) fn shared(model: &str, context_tokens: usize) -> SharedScript {
        Arc::new(Mutex::new(Script {
            models: vec![model.to_string()],
            context_tokens,
            replies: VecDeque::new(),
            requests: Vec::new(),
            issued_ids: 0,
        }))
    }

    pub(crate) fn set_models(&mut self, models: &[&str]) {
        self.models = models.iter().map(|m| m.to_string()).collect();
    }

    pub(crate) fn models(&self) -> &[String] {
        &self.models
    }

    pub(crate) fn serves(&self, model: &str) -> bool {
        self.models.iter().any(|m| m == model)
    }

    pub(crate) fn set_context_tokens(&mut self, tokens: usize) {
        self.context_tokens = tokens;
    }

    pub(crate) fn context_tokens(&self) -> usize {
        self.context_tokens
    }

    pub(crate) fn push(&mut self, reply: Reply) {
        self.replies.push_back(reply);
    }

    /// The next queued reply, or the default answer when none is queued.
    pub(crate) fn next_reply(&mut self) -> Reply {
        self.replies
            .pop_front()
            .unwrap_or_else(|| Reply::Text(DEFAULT_ANSWER.to_string()))
    }

    pub(crate) fn record(&mut self, request: AiRequest) {
        self.requests.push(request);
    }

    pub(crate) fn requests(&self) -> Vec<AiRequest> {
        self.requests.clone()
    }

    /// A number for the next id the fake hands out (request ids, message ids); never the
    /// same twice on one fake.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.issued_ids += 1;
        self.issued_ids
    }
}

/// One server-sent event with an event name: `event: NAME\ndata: JSON\n\n`.
pub(crate) fn named_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// One server-sent event with data only: `data: DATA\n\n`.
pub(crate) fn data_event(data: &str) -> String {
    format!("data: {data}\n\n")
}

/// A streamed answer: its server-sent events in order, and whether the connection is cut
/// after them instead of the body ending.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StreamedAnswer {
    pub(crate) events: Vec<String>,
    pub(crate) cut: bool,
}

impl IntoResponse for StreamedAnswer {
    /// HTTP 200 `text/event-stream` with a chunked body that writes the events one by one.
    fn into_response(self) -> Response {
        let playback = Playback {
            events: self.events.into(),
            cut: self.cut,
            pause: None,
        };
        let mut response = Response::new(Body::from_stream(playback));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        *response.status_mut() = StatusCode::OK;
        response
    }
}

/// Plays a streamed answer as a response body: an event, a pause, the next event, and at
/// the end either the end of the body or an error, on which the server abandons the body
/// and closes the connection without the chunked body's last chunk.
struct Playback {
    events: VecDeque<String>,
    cut: bool,
    pause: Option<Pin<Box<Sleep>>>,
}

impl Stream for Playback {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let playback = self.get_mut();
        if let Some(pause) = playback.pause.as_mut() {
            ready!(pause.as_mut().poll(cx));
            playback.pause = None;
        }
        if let Some(event) = playback.events.pop_front() {
            // Every event, the last one too, is followed by a pause: the server flushes
            // what it has while the body waits, so even a cut comes after the client saw
            // everything before it.
            playback.pause = Some(Box::pin(tokio::time::sleep(PAUSE)));
            return Poll::Ready(Some(Ok(Bytes::from(event))));
        }
        if playback.cut {
            playback.cut = false;
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the fake model's stream is cut",
            ))));
        }
        Poll::Ready(None)
    }
}

/// What a client read of one answer to the end of the connection, for the fakes' tests of
/// streams: unlike `raw_http`, it keeps a chunked body that never ended.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    /// The head, header names as sent.
    pub(crate) head: String,
    /// The body, de-chunked as far as it came.
    pub(crate) body: String,
    /// The chunked body ended with its last (empty) chunk.
    pub(crate) complete: bool,
}

#[cfg(test)]
impl RawAnswer {
    /// The names of the body's server-sent events, in order (`data`-only events count as
    /// their data, e.g. `[DONE]`, or as `data` when it is JSON).
    pub(crate) fn event_names(&self) -> Vec<String> {
        self.body
            .split("\n\n")
            .filter(|event| !event.trim().is_empty())
            .map(|event| {
                let field = |name: &str| {
                    event
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .map(|v| v.trim().to_string())
                };
                match (field("event:"), field("data:")) {
                    (Some(name), _) => name,
                    (None, Some(data)) if data.starts_with('{') => "data".to_string(),
                    (None, Some(data)) => data,
                    (None, None) => String::new(),
                }
            })
            .collect()
    }

    /// The JSON data of every event, in order; `Value::Null` where the data is not JSON.
    pub(crate) fn event_data(&self) -> Vec<Value> {
        self.body
            .split("\n\n")
            .filter(|event| !event.trim().is_empty())
            .map(|event| {
                event
                    .lines()
                    .find_map(|line| line.strip_prefix("data:"))
                    .and_then(|data| serde_json::from_str(data.trim()).ok())
                    .unwrap_or(Value::Null)
            })
            .collect()
    }
}

/// POSTs `body` as JSON on a fresh connection and reads until the server closes it,
/// keeping what came before a reset.
#[cfg(test)]
pub(crate) fn post_raw(
    base_url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> RawAnswer {
    use std::io::{Read, Write};

    let host = base_url.trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    let mut stream = std::net::TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("cannot connect to {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("cannot set a read timeout: {e}"));
    let body = body.to_string();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("cannot send the request: {e}"));
    let mut raw = Vec::new();
    // A reset after the data is part of what is tested; the bytes read before it stay.
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {raw:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let (body, complete) = if chunked {
        dechunk_partial(rest)
    } else {
        (rest.to_string(), true)
    };
    RawAnswer {
        status,
        head: head.to_string(),
        body,
        complete,
    }
}

/// A chunked body's data as far as it came, and whether its last chunk came.
#[cfg(test)]
fn dechunk_partial(mut data: &str) -> (String, bool) {
    let mut out = String::new();
    loop {
        let Some((size_line, rest)) = data.split_once("\r\n") else {
            return (out, false);
        };
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            return (out, false);
        };
        if size == 0 {
            return (out, true);
        }
        match rest.get(..size) {
            Some(chunk) => out.push_str(chunk),
            None => {
                out.push_str(rest);
                return (out, false);
            }
        }
        data = rest.get(size + 2..).unwrap_or("");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn texts_split_into_deltas_of_twelve_characters() {
        let cases: [(&str, &[&str]); 4] = [
            ("", &[]),
            ("Short", &["Short"]),
            (
                "Hello, world! How are you?",
                &["Hello, world", "! How are yo", "u?"],
            ),
            ("ééééééééééééé", &["éééééééééééé", "é"]),
        ];
        for (text, deltas) in cases {
            assert_eq!(split_into_deltas(text), deltas, "{text:?}");
        }
    }

    #[test]
    fn tokens_are_a_quarter_of_the_characters_rounded_up() {
        let cases = [("", 0), ("abc", 1), ("abcd", 1), ("abcde", 2), ("éééé", 1)];
        for (text, tokens) in cases {
            assert_eq!(estimate_tokens(text), tokens, "{text:?}");
        }
    }

    #[test]
    fn the_prompt_is_the_system_prompt_and_every_message() {
        let request = |body: Value| AiRequest {
            method: "POST".into(),
            path: "/v1/messages".into(),
            headers: Vec::new(),
            body,
        };
        let anthropic = request(json!({
            "system": [{"type": "text", "text": "You write posts."}],
            "messages": [
                {"role": "user", "content": "Write one."},
                {"role": "assistant", "content": [{"type": "text", "text": "Here:"}]},
                {"role": "user", "content": [
                    {"type": "image", "source": {}},
                    {"type": "text", "text": "Shorter."}
                ]}
            ]
        }));
        assert_eq!(
            anthropic.prompt_text(),
            "You write posts.\nWrite one.\nHere:\nShorter."
        );
        let openai = request(json!({
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": null}
            ]
        }));
        assert_eq!(openai.prompt_text(), "Be brief.\nHi");
        assert_eq!(openai.prompt_tokens(), 3);
        assert_eq!(request(Value::Null).prompt_text(), "");
    }

    #[test]
    fn an_empty_queue_answers_the_default_text() {
        let script = Script::shared("m", 10);
        let mut script = super::super::lock(&script);
        script.push(Reply::Overloaded);
        assert!(matches!(script.next_reply(), Reply::Overloaded));
        assert!(matches!(script.next_reply(), Reply::Text(text) if text == DEFAULT_ANSWER));
        assert_ne!(script.next_id(), script.next_id());
    }
}
