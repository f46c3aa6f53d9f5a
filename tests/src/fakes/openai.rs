//! An OpenAI-compatible chat-completions server, as OpenAI, Ollama, the llama.cpp server and
//! vLLM serve it: `POST /v1/chat/completions` answered with a `chat.completion` object or,
//! with `"stream": true`, with `data: {chunk}` events of `chat.completion.chunk` objects
//! ending in `data: [DONE]`; and `GET /v1/models`.
//!
//! Errors are `{"error":{"message","type","param","code"}}`, as OpenAI words them. A request
//! is checked in this order: the key, when the fake has one (401 `invalid_api_key`); the
//! body's `model` and `messages` (400); the model (404 `model_not_found`); the prompt's size
//! against the context window (400 `context_length_exceeded`). Only a request that passes
//! takes the next queued [`Reply`]. Every answer carries an `x-request-id`.
//!
//! A stream starts with a delta `{"role":"assistant","content":""}`, then one chunk per
//! content delta, then a chunk with an empty delta and the finish reason; with
//! `"stream_options":{"include_usage":true}`, every chunk has `"usage": null` and a last
//! chunk with no choices carries the usage.
//!
//! Choices where the servers differ or say nothing: a missing key is refused with OpenAI's
//! "You didn't provide an API key" (code null), a wrong one with "Incorrect API key
//! provided" (code `invalid_api_key`); the rate limit announces 60 requests a minute; an
//! in-stream error is followed by no `[DONE]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::llm::{
    AiRequest, Reply, Script, SharedScript, StreamedAnswer, data_event, estimate_tokens,
    first_deltas, split_into_deltas,
};
use super::server::{BoundPort, Connection, RunningServer};
use super::{lock, wire};

/// The requests a minute the fake's rate-limit headers announce.
const REQUESTS_PER_MINUTE: u64 = 60;

/// When the fake's models were created, in Unix seconds, as `GET /v1/models` says.
const MODELS_CREATED: u64 = 1_735_689_600;

/// A fake OpenAI-compatible server; stops when dropped.
pub struct FakeOpenAi {
    server: RunningServer,
    script: SharedScript,
    completion_tokens_only: Arc<AtomicBool>,
}

/// What the handler knows besides the script: the key it requires, if any.
#[derive(Clone)]
struct Server {
    key: Option<Arc<str>>,
    script: SharedScript,
    /// Refuse `max_tokens`, as OpenAI's reasoning and GPT-5 models do.
    completion_tokens_only: Arc<AtomicBool>,
}

impl FakeOpenAi {
    /// The model the fake serves unless [`FakeOpenAi::set_models`] says otherwise.
    pub const MODEL: &'static str = "llama-fake:8b";
    /// The context window unless [`FakeOpenAi::set_context_tokens`] says otherwise.
    pub const CONTEXT_TOKENS: usize = 8192;

    /// A server that requires no key, like a local Ollama.
    pub fn start() -> FakeOpenAi {
        FakeOpenAi::serve(None)
    }

    /// A server that requires `Authorization: Bearer KEY`.
    pub fn with_key(key: &str) -> FakeOpenAi {
        FakeOpenAi::serve(Some(key.into()))
    }

    fn serve(key: Option<Arc<str>>) -> FakeOpenAi {
        let port = BoundPort::bind();
        let script = Script::shared(Self::MODEL, Self::CONTEXT_TOKENS);
        let completion_tokens_only = Arc::new(AtomicBool::new(false));
        let server = Server {
            key,
            script: script.clone(),
            completion_tokens_only: completion_tokens_only.clone(),
        };
        let router = Router::new().fallback(serve).with_state(server);
        FakeOpenAi {
            server: port.serve("openai", router),
            script,
            completion_tokens_only,
        }
    }

    /// From now on, answer a request with `max_tokens` as OpenAI answers for its reasoning
    /// and GPT-5 models: 400 `unsupported_parameter`, use `max_completion_tokens` instead.
    pub fn refuse_max_tokens(&self) {
        self.completion_tokens_only.store(true, Ordering::SeqCst);
    }

    /// What users give as the base URL: `http://127.0.0.1:PORT/v1` (the client appends
    /// `/chat/completions`).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.base_url())
    }

    /// Serves exactly these models from now on.
    pub fn set_models(&self, models: &[&str]) {
        lock(&self.script).set_models(models);
    }

    /// The context window in tokens. A request whose prompt is larger (estimated as
    /// [`AiRequest::prompt_tokens`]) gets 400 `context_length_exceeded`.
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
    include_usage: bool,
    prompt_tokens: usize,
}

/// An error answer in OpenAI's words.
#[derive(Debug, PartialEq)]
struct ApiError {
    status: StatusCode,
    kind: String,
    message: String,
    param: Option<String>,
    code: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind: kind.to_string(),
            message: message.into(),
            param: None,
            code: None,
        }
    }

    fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    fn with_param(mut self, param: &str) -> ApiError {
        self.param = Some(param.to_string());
        self
    }

    fn with_code(mut self, code: &str) -> ApiError {
        self.code = Some(code.to_string());
        self
    }

    fn overloaded() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "The server is overloaded or not ready yet.",
        )
    }

    fn server_error() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
        )
    }

    fn body(&self) -> Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        wire::json(self.status, self.body())
    }
}

/// Every request: recorded, then routed; every answer carries an `x-request-id`.
async fn serve(
    State(server): State<Server>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = AiRequest::read(&method, &uri, &headers, &body);
    let mut script = lock(&server.script);
    script.record(request.clone());
    let request_id = format!("req_fake{:024}", script.next_id());
    let key = server.key.as_deref();
    let response = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/chat/completions") => match accept(
            &request,
            &script,
            key,
            server.completion_tokens_only.load(Ordering::SeqCst),
        ) {
            Ok(accepted) => {
                let reply = script.next_reply();
                let completion_id = format!("chatcmpl-fake{:012}", script.next_id());
                drop(script);
                answer(reply, &accepted, &completion_id, &connection)
            }
            Err(error) => error.into_response(),
        },
        ("GET", "/v1/models") => match check_key(&request, key) {
            Ok(()) => wire::json(StatusCode::OK, model_list(script.models())),
            Err(error) => error.into_response(),
        },
        (method, path) => {
            ApiError::invalid_request(format!("Invalid URL ({method} {path})")).into_response()
        }
    };
    with_request_id(response, &request_id)
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    wire::set_headers(
        response.headers_mut(),
        [("x-request-id", request_id.to_string())],
    );
    response
}

/// `Authorization: Bearer KEY`, when the server has a key.
fn check_key(request: &AiRequest, key: Option<&str>) -> Result<(), ApiError> {
    let Some(key) = key else {
        return Ok(());
    };
    let given = request
        .header("authorization")
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match given {
        Some(token) if token == key => Ok(()),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "You didn't provide an API key. You need to provide your API key in an \
             Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )),
        Some(token) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            format!(
                "Incorrect API key provided: {}. You can find your API key at \
                 https://platform.openai.com/account/api-keys.",
                masked(token)
            ),
        )
        .with_code("invalid_api_key")),
    }
}

/// A key as OpenAI echoes it: the first three and the last four characters.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// The checks of `POST /v1/chat/completions`, in order.
fn accept(
    request: &AiRequest,
    script: &Script,
    key: Option<&str>,
    completion_tokens_only: bool,
) -> Result<Accepted, ApiError> {
    check_key(request, key)?;
    if completion_tokens_only && request.body.get("max_tokens").is_some() {
        return Err(ApiError::invalid_request(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        )
        .with_param("max_tokens")
        .with_code("unsupported_parameter"));
    }
    let body = request.body.as_object().ok_or_else(|| {
        ApiError::invalid_request(
            "We could not parse the JSON body of your request. The API expects a JSON \
             payload, but what was sent was not valid JSON.",
        )
    })?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_request("you must provide a model parameter"))?;
    match body.get("messages") {
        None => {
            return Err(
                ApiError::invalid_request("Missing required parameter: 'messages'.")
                    .with_param("messages")
                    .with_code("missing_required_parameter"),
            );
        }
        Some(Value::Array(_)) => {}
        Some(other) => {
            return Err(ApiError::invalid_request(format!(
                "Invalid type for 'messages': expected an array, but got {} instead.",
                json_type(other)
            ))
            .with_param("messages")
            .with_code("invalid_type"));
        }
    }
    if !script.serves(model) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
        .with_code("model_not_found"));
    }
    let prompt_tokens = request.prompt_tokens();
    if prompt_tokens > script.context_tokens() {
        return Err(ApiError::invalid_request(format!(
            "This model's maximum context length is {} tokens. However, your messages \
             resulted in {prompt_tokens} tokens. Please reduce the length of the messages.",
            script.context_tokens()
        ))
        .with_param("messages")
        .with_code("context_length_exceeded"));
    }
    let include_usage = body
        .get("stream_options")
        .and_then(|options| options.get("include_usage"))
        .and_then(Value::as_bool)
        == Some(true);
    Ok(Accepted {
        model: model.to_string(),
        stream: request.wants_stream(),
        include_usage,
        prompt_tokens,
    })
}

/// How OpenAI names a JSON value's type in its errors.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The reply played as the server would.
fn answer(
    reply: Reply,
    accepted: &Accepted,
    completion_id: &str,
    connection: &Connection,
) -> Response {
    let head = CompletionHead {
        id: completion_id.to_string(),
        created: unix_secs(),
        model: accepted.model.clone(),
        prompt_tokens: accepted.prompt_tokens,
        include_usage: accepted.include_usage,
    };
    match reply {
        Reply::Text(text) if accepted.stream => {
            chunk_stream(&head, &split_into_deltas(&text), Ending::Finish("stop")).into_response()
        }
        Reply::Text(text) => wire::json(StatusCode::OK, completion(&head, &text, "stop")),
        Reply::MaxTokens(text) if accepted.stream => {
            chunk_stream(&head, &split_into_deltas(&text), Ending::Finish("length")).into_response()
        }
        Reply::MaxTokens(text) => wire::json(StatusCode::OK, completion(&head, &text, "length")),
        Reply::StreamError { text, deltas: n } if accepted.stream => {
            chunk_stream(&head, &first_deltas(&text, n), Ending::Error).into_response()
        }
        Reply::StreamError { .. } => ApiError::server_error().into_response(),
        Reply::Cut { text, deltas: n } if accepted.stream => {
            chunk_stream(&head, &first_deltas(&text, n), Ending::Cut).into_response()
        }
        Reply::Cut { .. } => {
            connection.drop_without_answer();
            ApiError::server_error().into_response()
        }
        Reply::Overloaded => ApiError::overloaded().into_response(),
        Reply::RateLimited { retry_after_secs } => rate_limited(&head.model, retry_after_secs),
        Reply::Error {
            status,
            kind,
            message,
        } => ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &kind,
            message,
        )
        .into_response(),
    }
}

/// 429 `rate_limit_exceeded` with `retry-after` and the rate-limit headers of a spent
/// minute.
fn rate_limited(model: &str, retry_after_secs: u64) -> Response {
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "requests",
        format!(
            "Rate limit reached for {model} on requests per min (RPM): Limit \
             {REQUESTS_PER_MINUTE}, Used {REQUESTS_PER_MINUTE}, Requested 1. Please try again \
             in {retry_after_secs}s."
        ),
    )
    .with_code("rate_limit_exceeded");
    let mut response = error.into_response();
    let headers = [
        ("retry-after", retry_after_secs.to_string()),
        (
            "x-ratelimit-limit-requests",
            REQUESTS_PER_MINUTE.to_string(),
        ),
        ("x-ratelimit-remaining-requests", "0".to_string()),
        ("x-ratelimit-reset-requests", format!("{retry_after_secs}s")),
    ];
    wire::set_headers(response.headers_mut(), headers);
    response
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What every chunk and the whole completion name.
struct CompletionHead {
    id: String,
    created: u64,
    model: String,
    prompt_tokens: usize,
    include_usage: bool,
}

/// How a stream of chunks ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Properly, with this finish reason, the usage if asked, and `[DONE]`.
    Finish(&'static str),
    /// With an error event and the end of the body.
    Error,
    /// Nowhere: the connection closes after the last delta.
    Cut,
}

fn usage(prompt_tokens: usize, completion_tokens: usize) -> Value {
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    })
}

/// A whole `chat.completion`, as a request without `stream` gets it.
fn completion(head: &CompletionHead, text: &str, finish_reason: &str) -> Value {
    json!({
        "id": head.id,
        "object": "chat.completion",
        "created": head.created,
        "model": head.model,
        "system_fingerprint": "fp_fake",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": usage(head.prompt_tokens, estimate_tokens(text)),
    })
}

/// One `chat.completion.chunk` with these choices.
fn chunk(head: &CompletionHead, choices: Value) -> Value {
    let mut chunk = Map::new();
    chunk.insert("id".into(), json!(head.id));
    chunk.insert("object".into(), json!("chat.completion.chunk"));
    chunk.insert("created".into(), json!(head.created));
    chunk.insert("model".into(), json!(head.model));
    chunk.insert("system_fingerprint".into(), json!("fp_fake"));
    chunk.insert("choices".into(), choices);
    if head.include_usage {
        chunk.insert("usage".into(), Value::Null);
    }
    Value::Object(chunk)
}

/// A chunk whose one choice carries `delta` and `finish_reason`.
fn delta_chunk(head: &CompletionHead, delta: Value, finish_reason: Option<&str>) -> String {
    let choice = json!([{
        "index": 0,
        "delta": delta,
        "logprobs": null,
        "finish_reason": finish_reason,
    }]);
    data_event(&chunk(head, choice).to_string())
}

/// The events of a streamed completion made of `deltas`.
fn chunk_stream(head: &CompletionHead, deltas: &[String], ending: Ending) -> StreamedAnswer {
    let mut events = vec![delta_chunk(
        head,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    for delta in deltas {
        events.push(delta_chunk(head, json!({"content": delta}), None));
    }
    match ending {
        Ending::Finish(finish_reason) => {
            events.push(delta_chunk(head, json!({}), Some(finish_reason)));
            if head.include_usage {
                let mut last = chunk(head, json!([]));
                last["usage"] = usage(head.prompt_tokens, estimate_tokens(&deltas.concat()));
                events.push(data_event(&last.to_string()));
            }
            events.push(data_event("[DONE]"));
        }
        Ending::Error => {
            let error = ApiError::server_error().body();
            events.push(data_event(&error.to_string()));
        }
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
                "id": id,
                "object": "model",
                "created": MODELS_CREATED,
                "owned_by": "library",
            })
        })
        .collect();
    json!({"object": "list", "data": data})
}

#[cfg(test)]
mod tests;
