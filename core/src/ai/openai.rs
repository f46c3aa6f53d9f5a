//! OpenAI-compatible chat completions, as OpenAI, Ollama, llama.cpp's server and vLLM serve
//! them: `POST {base}/chat/completions` (the base URL ends in `/v1`), an optional bearer
//! key, streamed as unnamed server-sent events of `chat.completion.chunk` objects (text in
//! `choices[0].delta.content`, the end in `finish_reason`) closed by `data: [DONE]`.
//! Errors are `{"error":{"message","type","code"}}` (vLLM: the same fields at the top
//! level): 401 invalid_api_key, 404 model_not_found, 400 context_length_exceeded
//! (llama.cpp: exceed_context_size_error), 429, 503 when overloaded.

use serde_json::{Value, json};

use super::sse::Frame;
use super::{AiError, Model, Prompt, Step, Stop};

pub(super) const NAME: &str = "the OpenAI-compatible server";
pub(super) const KEY_ENV: &str = "OPENAI_API_KEY";
pub(super) const BASE_URL_ENV: &str = "OPENAI_BASE_URL";
pub(super) const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The request; `completion_tokens` names the limit `max_completion_tokens`, which OpenAI's
/// newer models require (the servers people run locally know only `max_tokens`).
pub(super) fn request(
    model: &Model,
    prompt: &Prompt,
    completion_tokens: bool,
) -> reqwest::RequestBuilder {
    let limit = if completion_tokens {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    let body = json!({
        "model": model.name,
        limit: model.max_tokens,
        "messages": [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ],
        "stream": true,
    });
    let mut request = model
        .http
        .post(format!("{}/chat/completions", model.base_url))
        .header("accept", "text/event-stream")
        .json(&body);
    if let Some(key) = &model.key {
        request = request.bearer_auth(key.expose());
    }
    request
}

/// Whether an error answer asks for `max_completion_tokens` instead of `max_tokens`
/// (OpenAI's reasoning and GPT-5 models: 400 `unsupported_parameter` on `max_tokens`).
pub(super) fn wants_completion_tokens(status: u16, body: &str) -> bool {
    status == 400
        && serde_json::from_str::<Value>(body).is_ok_and(|v| {
            v["error"]["param"] == "max_tokens"
                || v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("max_completion_tokens"))
        })
}

/// The error an answer with `status` and `body` means.
pub(super) fn status_error(status: u16, body: &str, model: &str) -> AiError {
    let fields = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| error_of(&v));
    let fields = fields.unwrap_or_else(|| ErrorFields {
        kind: String::new(),
        code: String::new(),
        message: format!(
            "not an error body, is the base URL right (it usually ends in /v1)? {}",
            super::excerpt(body)
        ),
    });
    classify(status, fields, model)
}

struct ErrorFields {
    kind: String,
    code: String,
    message: String,
}

/// `{"error":{...}}`, `{"error":"text"}` (Ollama's own API) or the fields at the top
/// level (vLLM).
fn error_of(value: &Value) -> Option<ErrorFields> {
    let text = |v: &Value, key: &str| match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let error = match value.get("error") {
        Some(Value::String(message)) => {
            return Some(ErrorFields {
                kind: String::new(),
                code: String::new(),
                message: message.clone(),
            });
        }
        Some(error @ Value::Object(_)) => error,
        _ if value.get("message").is_some() && value.get("choices").is_none() => value,
        _ => return None,
    };
    Some(ErrorFields {
        kind: text(error, "type"),
        code: text(error, "code"),
        message: text(error, "message"),
    })
}

fn classify(status: u16, fields: ErrorFields, model: &str) -> AiError {
    let ErrorFields {
        kind,
        code,
        message,
    } = fields;
    let lower = message.to_ascii_lowercase();
    let shown = match (kind.is_empty(), code.is_empty()) {
        (false, false) if kind != code => format!("{kind}/{code}: {message}"),
        (false, _) => format!("{kind}: {message}"),
        (true, false) => format!("{code}: {message}"),
        (true, true) => message.clone(),
    };
    let context = code == "context_length_exceeded"
        || kind == "exceed_context_size_error"
        || lower.contains("context length")
        || lower.contains("context size")
        || lower.contains("context window");
    if status == 401 || code == "invalid_api_key" {
        AiError::KeyRejected {
            provider: NAME,
            env: KEY_ENV,
            status,
            message: shown,
        }
    } else if code == "model_not_found"
        || (status == 404 && lower.contains("model"))
        || (status == 400 && lower.contains("model") && lower.contains("not found"))
    {
        AiError::ModelNotFound {
            provider: NAME,
            model: model.to_string(),
            message: shown,
        }
    } else if context || status == 413 {
        AiError::ContextTooLong {
            model: model.to_string(),
            message: shown,
        }
    } else if status == 429 {
        AiError::RateLimited {
            provider: NAME,
            message: shown,
            attempts: 1,
        }
    } else if status == 503 || status == 529 || lower.contains("overloaded") {
        AiError::Overloaded {
            provider: NAME,
            message: shown,
            attempts: 1,
        }
    } else {
        AiError::Api {
            provider: NAME,
            status,
            kind: if kind.is_empty() { code } else { kind },
            message,
        }
    }
}

/// Reads the chunks of one streamed completion.
#[derive(Debug, Default)]
pub(super) struct Stream {
    stop: Option<Stop>,
}

impl Stream {
    pub(super) fn frame(&mut self, frame: &Frame, model: &str) -> Result<Step, AiError> {
        if frame.data.trim() == "[DONE]" {
            return Ok(Step::End(self.stop.clone().unwrap_or(Stop::Complete)));
        }
        let value: Value = serde_json::from_str(&frame.data).map_err(|e| AiError::Protocol {
            provider: NAME,
            detail: format!("a chunk that is not JSON ({e})"),
        })?;
        if value.get("error").is_some() {
            let fields = error_of(&value).unwrap_or(ErrorFields {
                kind: "server_error".into(),
                code: String::new(),
                message: super::excerpt(&frame.data).to_string(),
            });
            // A server error after the 200: like a 500, or like the overload it names.
            return Err(classify(500, fields, model));
        }
        let Some(choice) = value["choices"].get(0) else {
            // The usage chunk has no choices.
            return Ok(Step::Nothing);
        };
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.stop = Some(match reason {
                "length" => Stop::MaxTokens,
                "content_filter" => Stop::Refused("content_filter".into()),
                _ => Stop::Complete,
            });
        }
        match choice["delta"]["content"].as_str() {
            Some(text) if !text.is_empty() => Ok(Step::Text(text.to_string())),
            _ => Ok(Step::Nothing),
        }
    }

    /// The stream ended without `[DONE]`: complete if a finish reason came (some servers
    /// close right after it), else cut.
    pub(super) fn end_without_done(&self) -> Option<Stop> {
        self.stop.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(data: &str) -> Frame {
        Frame {
            event: None,
            data: data.into(),
        }
    }

    fn chunk(delta: &str, finish: &str) -> Frame {
        data(&format!(
            r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        ))
    }

    #[test]
    fn chunks_give_text_then_the_finish_at_done() {
        let mut stream = Stream::default();
        let frames = [
            chunk(r#"{"role":"assistant","content":""}"#, "null"),
            chunk(r#"{"content":"Hel"}"#, "null"),
            chunk(r#"{"content":"lo"}"#, "null"),
            chunk("{}", r#""length""#),
            data(
                r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
            ),
            data("[DONE]"),
        ];
        let steps: Vec<Step> = frames
            .iter()
            .map(|f| stream.frame(f, "m"))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            steps,
            vec![
                Step::Nothing,
                Step::Text("Hel".into()),
                Step::Text("lo".into()),
                Step::Nothing,
                Step::Nothing,
                Step::End(Stop::MaxTokens)
            ]
        );
    }

    #[test]
    fn an_error_chunk_midway() {
        let mut stream = Stream::default();
        let error = stream
            .frame(
                &data(r#"{"error":{"message":"The server is overloaded","type":"server_error"}}"#),
                "m",
            )
            .err();
        assert!(
            matches!(error, Some(AiError::Overloaded { .. })),
            "{error:?}"
        );
    }

    #[test]
    fn status_errors_of_the_servers() {
        let cases: [(u16, &str, &str); 8] = [
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided: sk-***","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                "KeyRejected",
            ),
            (
                404,
                r#"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
                "ModelNotFound",
            ),
            (
                404,
                r#"{"error":{"message":"model \"llama9\" not found, try pulling it first","type":"api_error","param":null,"code":null}}"#,
                "ModelNotFound",
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
                "ContextTooLong",
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#,
                "ContextTooLong",
            ),
            (
                400,
                r#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}"#,
                "ContextTooLong",
            ),
            (
                429,
                r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
                "RateLimited",
            ),
            (
                503,
                r#"{"error":{"message":"The server is overloaded or not ready yet.","type":"server_error","param":null,"code":null}}"#,
                "Overloaded",
            ),
        ];
        for (status, body, expected) in cases {
            let name = format!("{:?}", status_error(status, body, "m"));
            assert!(name.starts_with(expected), "{status} {body}: {name}");
        }
    }
}
