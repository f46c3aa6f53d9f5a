//! Anthropic's Messages API: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version`, streamed as server-sent events: `message_start`,
//! `content_block_start`, `ping`, `content_block_delta` (text deltas), `content_block_stop`,
//! `message_delta` (the stop reason), `message_stop`; or an `error` event midway.
//! Errors are `{"type":"error","error":{"type","message"}}` with 401 authentication_error,
//! 404 not_found_error (the model), 400 invalid_request_error ("prompt is too long"),
//! 413 request_too_large, 429 rate_limit_error, 500 api_error and 529 overloaded_error.

use serde_json::{Value, json};

use super::sse::Frame;
use super::{AiError, Model, Prompt, Step, Stop};

pub(super) const NAME: &str = "Anthropic";
pub(super) const KEY_ENV: &str = "ANTHROPIC_API_KEY";
pub(super) const BASE_URL_ENV: &str = "ANTHROPIC_BASE_URL";
pub(super) const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
const VERSION: &str = "2023-06-01";

pub(super) fn request(model: &Model, prompt: &Prompt) -> reqwest::RequestBuilder {
    let body = json!({
        "model": model.name,
        "max_tokens": model.max_tokens,
        "system": prompt.system,
        "messages": [{"role": "user", "content": prompt.user}],
        "stream": true,
    });
    let mut request = model
        .http
        .post(format!("{}/v1/messages", model.base_url))
        .header("anthropic-version", VERSION)
        .header("accept", "text/event-stream")
        .json(&body);
    if let Some(key) = &model.key {
        request = request.header("x-api-key", key.expose());
    }
    request
}

/// The error an answer with `status` and `body` means.
pub(super) fn status_error(status: u16, body: &str, model: &str) -> AiError {
    let (kind, message) = error_fields(body).unwrap_or_else(|| {
        (
            String::new(),
            format!(
                "not the API's error shape, is the base URL right? {}",
                super::excerpt(body)
            ),
        )
    });
    classify(status, &kind, message, model)
}

fn error_fields(body: &str) -> Option<(String, String)> {
    let value: Value = serde_json::from_str(body).ok()?;
    error_of(&value)
}

fn error_of(value: &Value) -> Option<(String, String)> {
    let error = value.get("error")?;
    let kind = error.get("type")?.as_str()?.to_string();
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Some((kind, message))
}

fn classify(status: u16, kind: &str, message: String, model: &str) -> AiError {
    let shown = if kind.is_empty() {
        message.clone()
    } else {
        format!("{kind}: {message}")
    };
    match (status, kind) {
        (401 | 403, _) | (_, "authentication_error" | "permission_error") => AiError::KeyRejected {
            provider: NAME,
            env: KEY_ENV,
            status,
            message: shown,
        },
        (_, "overloaded_error") | (529, _) => AiError::Overloaded {
            provider: NAME,
            message: shown,
            attempts: 1,
        },
        (_, "rate_limit_error") | (429, _) => AiError::RateLimited {
            provider: NAME,
            message: shown,
            attempts: 1,
        },
        (404, "not_found_error") => AiError::ModelNotFound {
            provider: NAME,
            model: model.to_string(),
            message: shown,
        },
        (413, _) | (_, "request_too_large") => AiError::ContextTooLong {
            model: model.to_string(),
            message: shown,
        },
        (400, "invalid_request_error") if message.contains("too long") => AiError::ContextTooLong {
            model: model.to_string(),
            message: shown,
        },
        _ => AiError::Api {
            provider: NAME,
            status,
            kind: kind.to_string(),
            message,
        },
    }
}

/// Reads the events of one streamed message.
#[derive(Debug, Default)]
pub(super) struct Stream {
    stop: Option<String>,
}

impl Stream {
    pub(super) fn frame(&mut self, frame: &Frame, model: &str) -> Result<Step, AiError> {
        let value: Value = serde_json::from_str(&frame.data).map_err(|e| AiError::Protocol {
            provider: NAME,
            detail: format!("an event that is not JSON ({e})"),
        })?;
        // The `type` inside the data names the event too; the `event:` line is optional
        // for a parser, the data is not.
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(frame.event.as_deref())
            .unwrap_or("");
        match kind {
            "content_block_delta" => {
                let delta = &value["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        Ok(Step::Text(delta["text"].as_str().unwrap_or("").to_string()))
                    }
                    // Thinking and tool-input deltas are not the post.
                    _ => Ok(Step::Nothing),
                }
            }
            "message_delta" => {
                if let Some(stop) = value["delta"]["stop_reason"].as_str() {
                    self.stop = Some(stop.to_string());
                }
                Ok(Step::Nothing)
            }
            "message_stop" => Ok(Step::End(match self.stop.as_deref() {
                Some("max_tokens") => Stop::MaxTokens,
                Some("refusal") => Stop::Refused("refusal".into()),
                _ => Stop::Complete,
            })),
            "error" => {
                let (kind, message) = error_of(&value).unwrap_or_else(|| {
                    ("api_error".into(), super::excerpt(&frame.data).to_string())
                });
                // An error after the 200 carries no status; the class is in its type.
                let status = match kind.as_str() {
                    "overloaded_error" => 529,
                    "rate_limit_error" => 429,
                    "invalid_request_error" => 400,
                    _ => 500,
                };
                Err(classify(status, &kind, message, model))
            }
            // message_start, content_block_start/stop, ping, and event types added later.
            _ => Ok(Step::Nothing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(event: &str, data: &str) -> Frame {
        Frame {
            event: Some(event.into()),
            data: data.into(),
        }
    }

    #[test]
    fn a_streamed_message_gives_its_text_and_stop() {
        let mut stream = Stream::default();
        let events = [
            frame(
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#,
            ),
            frame(
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            frame("ping", r#"{"type": "ping"}"#),
            frame(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
            ),
            frame(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"#,
            ),
            frame(
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            frame(
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":2}}"#,
            ),
            frame("message_stop", r#"{"type":"message_stop"}"#),
        ];
        let steps: Vec<Step> = events
            .iter()
            .map(|f| stream.frame(f, "m"))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{e}"));
        let text: String = steps
            .iter()
            .filter_map(|s| match s {
                Step::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Hello");
        assert_eq!(steps.last(), Some(&Step::End(Stop::MaxTokens)));
    }

    #[test]
    fn an_error_event_midway_is_classified_by_its_type() {
        let mut stream = Stream::default();
        let overloaded = frame(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        let error = stream.frame(&overloaded, "m").err();
        assert!(
            matches!(error, Some(AiError::Overloaded { .. })),
            "{error:?}"
        );
        assert!(error.is_some_and(|e| e.retryable()));
    }

    #[test]
    fn status_errors() {
        let body = |kind: &str, message: &str| {
            format!(
                r#"{{"type":"error","error":{{"type":"{kind}","message":"{message}"}},"request_id":"req_1"}}"#
            )
        };
        let cases: [(u16, String, &str); 8] = [
            (
                401,
                body("authentication_error", "invalid x-api-key"),
                "KeyRejected",
            ),
            (
                404,
                body("not_found_error", "model: claude-x"),
                "ModelNotFound",
            ),
            (
                400,
                body(
                    "invalid_request_error",
                    "prompt is too long: 208310 tokens > 200000 maximum",
                ),
                "ContextTooLong",
            ),
            (
                400,
                body("invalid_request_error", "max_tokens: must be positive"),
                "Api",
            ),
            (
                413,
                body("request_too_large", "Request exceeds the maximum size"),
                "ContextTooLong",
            ),
            (
                429,
                body(
                    "rate_limit_error",
                    "Number of requests has exceeded your rate limit",
                ),
                "RateLimited",
            ),
            (529, body("overloaded_error", "Overloaded"), "Overloaded"),
            (404, "<html>Not Found</html>".into(), "Api"),
        ];
        for (status, body, expected) in cases {
            let error = status_error(status, &body, "claude-x");
            let name = format!("{error:?}");
            assert!(name.starts_with(expected), "{status} {body}: {name}");
        }
    }
}
