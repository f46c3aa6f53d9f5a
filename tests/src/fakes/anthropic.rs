//! Anthropic's Messages API: `POST /v1/messages` with `x-api-key` and `anthropic-version`,
//! answered with a whole message or, with `"stream": true`, with the server-sent events
//! `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
//! `content_block_stop`, `message_delta` and `message_stop`. Also `GET /v1/models`.
//!
//! Errors are `{"type":"error","error":{"type":..,"message":..},"request_id":"req_.."}` with
//! the same id in the `request-id` header, which every answer carries. A request is checked
//! in this order: the key (401 `authentication_error`), the `anthropic-version` header (400),
//! the body's `model`, `max_tokens` and `messages` (400, naming the field), the model (404
//! `not_found_error`), the prompt's size against the context window (400 "prompt is too
//! long"). Only a request that passes takes the next queued [`Reply`].
//!
//! Choices where the documentation is silent: the accepted versions are `2023-06-01` and
//! `2023-01-01`; the rate limit is 50 requests a minute, as the headers of a 429 say; a
//! stream's first `usage` counts one output token, as the documented example does.

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::llm::{
    AiRequest, Reply, Script, SharedScript, StreamedAnswer, estimate_tokens, first_deltas,
    named_event, split_into_deltas,
};
use super::server::{BoundPort, Connection, RunningServer};
use super::{lock, wire};

/// The API versions the fake accepts in `anthropic-version`.
const VERSIONS: [&str; 2] = ["2023-06-01", "2023-01-01"];

/// The requests a minute the fake's rate-limit headers announce.
const REQUESTS_PER_MINUTE: u64 = 50;

/// A fake Anthropic API; stops when dropped.
pub struct FakeAnthropic {
    server: RunningServer,
    script: SharedScript,
}

impl FakeAnthropic {
    /// The API key the fake accepts in `x-api-key`.
    pub const KEY: &'static str = "sk-ant-fake-0123456789";
    /// The model the fake serves unless [`FakeAnthropic::set_models`] says otherwise.
    pub const MODEL: &'static str = "claude-fake-1";
    /// The context window unless [`FakeAnthropic::set_context_tokens`] says otherwise.
    pub const CONTEXT_TOKENS: usize = 200_000;

    /// Starts the fake on 127.0.0.1, serving [`FakeAnthropic::MODEL`].
    pub fn start() -> FakeAnthropic {
        let port = BoundPort::bind();
        let script = Script::shared(Self::MODEL, Self::CONTEXT_TOKENS);
        let router = Router::new().fallback(serve).with_state(script.clone());
        FakeAnthropic {
            server: port.serve("anthropic", router),
            script,
        }
    }

    /// What to give as `ANTHROPIC_BASE_URL`: `http://127.0.0.1:PORT`, without `/v1` (the
    /// client appends `/v1/messages`).
    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// Serves exactly these models from now on.
    pub fn set_models(&self, models: &[&str]) {
        lock(&self.script).set_models(models);
    }

    /// The context window in tokens. A request whose prompt is larger (estimated as
    /// [`AiRequest::prompt_tokens`]) gets 400 `invalid_request_error` "prompt is too long:
    /// N tokens > M maximum".
    pub fn set_context_tokens(&self, tokens: usize) {
        lock(&self.script).set_context_tokens(tokens);
    }

    /// Queues a reply; replies are used in order by the requests that pass the checks, and
    /// when none is left the answer is [`DEFAULT_ANSWER`](super::llm::DEFAULT_ANSWER).
    pub fn push(&self, reply: Reply) {
        lock(&self.script).push(reply);
    }

    /// Every request received, valid or not, in arrival order.
    pub fn requests(&self) -> Vec<AiRequest> {
        lock(&self.script).requests()
    }
}

/// A request that passed the checks, as far as its answer needs it.
struct Accepted {
    model: String,
    stream: bool,
    input_tokens: usize,
}

/// An error answer in Anthropic's words.
#[derive(Debug, PartialEq)]
struct ApiError {
    status: StatusCode,
    kind: String,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind: kind.to_string(),
            message: message.into(),
        }
    }

    fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    fn overloaded() -> ApiError {
        // 529 is Anthropic's own status; it is valid for the http crate (100..=999).
        let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        ApiError::new(status, "overloaded_error", "Overloaded")
    }

    fn body(&self, request_id: &str) -> Value {
        json!({
            "type": "error",
            "error": {"type": self.kind, "message": self.message},
            "request_id": request_id,
        })
    }

    fn into_response(self, request_id: &str) -> Response {
        wire::json(self.status, self.body(request_id))
    }
}

/// Every request: recorded, then routed; every answer carries a `request-id`.
async fn serve(
    State(script): State<SharedScript>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = AiRequest::read(&method, &uri, &headers, &body);
    let mut shared = lock(&script);
    shared.record(request.clone());
    let request_id = format!("req_011CFake{:012}", shared.next_id());
    let response = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/messages") => match accept(&request, &shared) {
            Ok(accepted) => {
                let reply = shared.next_reply();
                let message_id = format!("msg_01Fake{:014}", shared.next_id());
                drop(shared);
                answer(reply, &accepted, &message_id, &request_id, &connection)
            }
            Err(error) => error.into_response(&request_id),
        },
        ("GET", "/v1/models") => match check_headers(&request) {
            Ok(()) => wire::json(StatusCode::OK, model_list(shared.models())),
            Err(error) => error.into_response(&request_id),
        },
        _ => ApiError::new(StatusCode::NOT_FOUND, "not_found_error", "Not Found")
            .into_response(&request_id),
    };
    with_request_id(response, &request_id)
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    wire::set_headers(
        response.headers_mut(),
        [("request-id", request_id.to_string())],
    );
    response
}

/// The key and the version header.
fn check_headers(request: &AiRequest) -> Result<(), ApiError> {
    if request.header("x-api-key") != Some(FakeAnthropic::KEY) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        ));
    }
    match request.header("anthropic-version") {
        None => Err(ApiError::invalid_request(
            "anthropic-version: header is required",
        )),
        Some(version) if !VERSIONS.contains(&version) => Err(ApiError::invalid_request(format!(
            "anthropic-version: \"{version}\" is not a valid version"
        ))),
        Some(_) => Ok(()),
    }
}

/// The checks of `POST /v1/messages`, in the API's order.
fn accept(request: &AiRequest, script: &Script) -> Result<Accepted, ApiError> {
    check_headers(request)?;
    let body = request.body.as_object().ok_or_else(|| {
        ApiError::invalid_request("The request body is not valid JSON: expected an object")
    })?;
    let model = match body.get("model") {
        None => return Err(missing("model")),
        Some(model) => model
            .as_str()
            .ok_or_else(|| wrong_type("model", "string"))?,
    };
    match body.get("max_tokens") {
        None => return Err(missing("max_tokens")),
        Some(max) if max.as_u64().is_none_or(|m| m == 0) => {
            return Err(wrong_type("max_tokens", "integer greater than 0"));
        }
        Some(_) => {}
    }
    match body.get("messages") {
        None => return Err(missing("messages")),
        Some(Value::Array(messages)) if messages.is_empty() => {
            return Err(ApiError::invalid_request(
                "messages: at least one message is required",
            ));
        }
        Some(Value::Array(_)) => {}
        Some(_) => return Err(wrong_type("messages", "list")),
    }
    if !script.serves(model) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("model: {model}"),
        ));
    }
    let input_tokens = request.prompt_tokens();
    if input_tokens > script.context_tokens() {
        return Err(ApiError::invalid_request(format!(
            "prompt is too long: {input_tokens} tokens > {} maximum",
            script.context_tokens()
        )));
    }
    Ok(Accepted {
        model: model.to_string(),
        stream: request.wants_stream(),
        input_tokens,
    })
}

fn missing(field: &str) -> ApiError {
    ApiError::invalid_request(format!("{field}: Field required"))
}

fn wrong_type(field: &str, kind: &str) -> ApiError {
    ApiError::invalid_request(format!("{field}: Input should be a valid {kind}"))
}

/// The reply played as the API would.
fn answer(
    reply: Reply,
    accepted: &Accepted,
    message_id: &str,
    request_id: &str,
    connection: &Connection,
) -> Response {
    let head = MessageHead {
        id: message_id.to_string(),
        model: accepted.model.clone(),
        input_tokens: accepted.input_tokens,
    };
    match reply {
        Reply::Text(text) if accepted.stream => {
            message_stream(&head, &split_into_deltas(&text), Ending::Stop("end_turn"))
                .into_response()
        }
        Reply::Text(text) => wire::json(StatusCode::OK, message(&head, &text, "end_turn")),
        Reply::MaxTokens(text) if accepted.stream => {
            message_stream(&head, &split_into_deltas(&text), Ending::Stop("max_tokens"))
                .into_response()
        }
        Reply::MaxTokens(text) => wire::json(StatusCode::OK, message(&head, &text, "max_tokens")),
        Reply::StreamError { text, deltas: n } if accepted.stream => {
            message_stream(&head, &first_deltas(&text, n), Ending::Error).into_response()
        }
        Reply::Cut { text, deltas: n } if accepted.stream => {
            message_stream(&head, &first_deltas(&text, n), Ending::Cut).into_response()
        }
        Reply::Cut { .. } => {
            connection.drop_without_answer();
            ApiError::overloaded().into_response(request_id)
        }
        Reply::Overloaded | Reply::StreamError { .. } => {
            ApiError::overloaded().into_response(request_id)
        }
        Reply::RateLimited { retry_after_secs } => rate_limited(retry_after_secs, request_id),
        Reply::Error {
            status,
            kind,
            message,
        } => ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            kind,
            message,
        }
        .into_response(request_id),
    }
}

/// 429 `rate_limit_error` with `retry-after` and the rate-limit headers of a spent minute.
fn rate_limited(retry_after_secs: u64, request_id: &str) -> Response {
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        "Number of requests has exceeded your per-minute rate limit \
         (https://docs.anthropic.com/en/api/rate-limits); see the response headers for \
         current usage. Please try again later.",
    );
    let mut response = error.into_response(request_id);
    let reset = wire::iso8601(SystemTime::now() + Duration::from_secs(retry_after_secs));
    let headers = [
        ("retry-after", retry_after_secs.to_string()),
        (
            "anthropic-ratelimit-requests-limit",
            REQUESTS_PER_MINUTE.to_string(),
        ),
        ("anthropic-ratelimit-requests-remaining", "0".to_string()),
        ("anthropic-ratelimit-requests-reset", reset),
    ];
    wire::set_headers(response.headers_mut(), headers);
    response
}

/// What every form of one message names: its id, the model, the prompt's size.
struct MessageHead {
    id: String,
    model: String,
    input_tokens: usize,
}

/// How a streamed message ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Properly, with this stop reason.
    Stop(&'static str),
    /// With an `error` event (`overloaded_error`) and the end of the body.
    Error,
    /// Nowhere: the connection closes after the last delta.
    Cut,
}

/// A whole message, as a request without `stream` gets it.
fn message(head: &MessageHead, text: &str, stop_reason: &str) -> Value {
    json!({
        "id": head.id,
        "type": "message",
        "role": "assistant",
        "model": head.model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": head.input_tokens, "output_tokens": estimate_tokens(text)},
    })
}

/// The events of a streamed message of one text block made of `deltas`.
fn message_stream(head: &MessageHead, deltas: &[String], ending: Ending) -> StreamedAnswer {
    let mut events = vec![
        named_event(
            "message_start",
            &json!({
                "type": "message_start",
                "message": {
                    "id": head.id,
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": head.model,
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": {"input_tokens": head.input_tokens, "output_tokens": 1},
                },
            }),
        ),
        named_event(
            "content_block_start",
            &json!({
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }),
        ),
        named_event("ping", &json!({"type": "ping"})),
    ];
    for delta in deltas {
        events.push(named_event(
            "content_block_delta",
            &json!({
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": delta},
            }),
        ));
    }
    match ending {
        Ending::Stop(stop_reason) => {
            let output_tokens = estimate_tokens(&deltas.concat());
            events.push(named_event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": 0}),
            ));
            events.push(named_event(
                "message_delta",
                &json!({
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                    "usage": {"output_tokens": output_tokens},
                }),
            ));
            events.push(named_event(
                "message_stop",
                &json!({"type": "message_stop"}),
            ));
        }
        Ending::Error => events.push(named_event(
            "error",
            &json!({
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
            }),
        )),
        Ending::Cut => {}
    }
    StreamedAnswer {
        events,
        cut: matches!(ending, Ending::Cut),
    }
}

/// `GET /v1/models`: the served models, in the order the test gave them.
fn model_list(models: &[String]) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|id| {
            json!({
                "type": "model",
                "id": id,
                "display_name": id,
                "created_at": "2025-01-01T00:00:00Z",
            })
        })
        .collect();
    json!({
        "data": data,
        "has_more": false,
        "first_id": models.first(),
        "last_id": models.last(),
    })
}

#[cfg(test)]
mod tests;
