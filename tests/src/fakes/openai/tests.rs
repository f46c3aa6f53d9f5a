//! Tests of the fake over real HTTP.

use super::super::llm::{DEFAULT_ANSWER, post_raw};
use super::super::raw_http::{call, post_json};
use super::*;

/// The server's root: raw_http takes `http://host:port`, the base URL ends in `/v1`.
fn root(fake: &FakeOpenAi) -> String {
    fake.base_url().trim_end_matches("/v1").to_string()
}

fn ask(stream: bool) -> Value {
    json!({
        "model": FakeOpenAi::MODEL,
        "messages": [
            {"role": "system", "content": "You write social media posts."},
            {"role": "user", "content": "Announce the release."}
        ],
        "stream": stream,
    })
}

#[test]
fn a_streamed_text_arrives_as_chunks_then_usage_then_done() {
    let fake = FakeOpenAi::start();
    assert!(fake.base_url().ends_with("/v1"));
    let text = "postctl 1.0 is out: schedule posts to every network from one terminal.";
    fake.push(Reply::Text(text.into()));
    let mut request = ask(true);
    request["stream_options"] = json!({"include_usage": true});
    let answer = post_raw(&fake.base_url(), "/v1/chat/completions", &[], &request);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer
            .head
            .to_ascii_lowercase()
            .contains("content-type: text/event-stream")
    );
    assert!(answer.complete);

    let deltas = split_into_deltas(text).len();
    assert!(deltas > 1);
    let mut expected = vec!["data"; deltas + 3];
    expected.push("[DONE]");
    assert_eq!(answer.event_names(), expected);

    let data = answer.event_data();
    let chunks = &data[..data.len() - 1];
    for chunk in chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], chunks[0]["id"]);
        assert_eq!(chunk["model"], FakeOpenAi::MODEL);
        assert!(chunk["created"].is_u64());
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let streamed: String = chunks[1..=deltas]
        .iter()
        .map(|c| {
            assert_eq!(c["choices"][0]["finish_reason"], Value::Null);
            assert_eq!(c["usage"], Value::Null);
            c["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(streamed, text);
    let finish = &chunks[deltas + 1]["choices"][0];
    assert_eq!(finish["delta"], json!({}));
    assert_eq!(finish["finish_reason"], "stop");
    let usage = &chunks[deltas + 2];
    assert_eq!(usage["choices"], json!([]));
    let prompt = "You write social media posts.\nAnnounce the release.";
    assert_eq!(
        usage["usage"],
        json!({
            "prompt_tokens": estimate_tokens(prompt),
            "completion_tokens": estimate_tokens(text),
            "total_tokens": estimate_tokens(prompt) + estimate_tokens(text),
        })
    );
}

#[test]
fn without_include_usage_a_stream_has_no_usage() {
    let fake = FakeOpenAi::start();
    fake.push(Reply::MaxTokens("Cut short by".into()));
    let answer = post_raw(&fake.base_url(), "/v1/chat/completions", &[], &ask(true));
    assert_eq!(answer.event_names(), ["data", "data", "data", "[DONE]"]);
    let data = answer.event_data();
    assert!(data[..3].iter().all(|c| c.get("usage").is_none()));
    assert_eq!(data[2]["choices"][0]["finish_reason"], "length");
}

#[test]
fn keys_models_and_context_are_checked() {
    let fake = FakeOpenAi::with_key("sk-fake-secret-5678");
    let base = root(&fake);
    let path = "/v1/chat/completions";

    let no_key = post_json(&base, path, &[], &ask(false));
    assert_eq!(no_key.status, 401);
    assert_eq!(no_key.json()["error"]["type"], "invalid_request_error");
    let wrong = post_json(
        &base,
        path,
        &[("Authorization", "Bearer sk-wrong-key-1234")],
        &ask(false),
    );
    assert_eq!(wrong.status, 401);
    let error = &wrong.json()["error"];
    assert_eq!(error["code"], "invalid_api_key");
    assert_eq!(error["param"], Value::Null);
    assert!(
        error["message"].as_str().is_some_and(
            |m| m.starts_with("Incorrect API key provided: sk-") && !m.contains("wrong")
        )
    );

    let auth = [("Authorization", "Bearer sk-fake-secret-5678")];
    let fine = post_json(&base, path, &auth, &ask(false));
    assert_eq!(fine.status, 200, "{}", fine.text());
    assert!(fine.header("x-request-id").is_some());
    let models = call(&base, "GET", "/v1/models", &auth, b"");
    assert_eq!(
        models.json()["data"][0],
        json!({"id": FakeOpenAi::MODEL, "object": "model", "created": MODELS_CREATED, "owned_by": "library"})
    );
    assert_eq!(call(&base, "GET", "/v1/models", &[], b"").status, 401);

    let mut other = ask(false);
    other["model"] = json!("gpt-nope");
    let unknown = post_json(&base, path, &auth, &other);
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json(),
        json!({"error": {
            "message": "The model `gpt-nope` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": null,
            "code": "model_not_found",
        }})
    );

    fake.set_context_tokens(10);
    let long = post_json(&base, path, &auth, &ask(false));
    assert_eq!(long.status, 400);
    assert_eq!(
        long.json(),
        json!({"error": {
            "message": "This model's maximum context length is 10 tokens. However, your \
                        messages resulted in 13 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }})
    );

    let mut no_messages = ask(false);
    no_messages.as_object_mut().map(|o| o.remove("messages"));
    let missing = post_json(&base, path, &auth, &no_messages);
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json()["error"]["code"],
        "missing_required_parameter"
    );

    assert_eq!(fake.requests().len(), 8);
    assert_eq!(
        fake.requests()[1].header("authorization"),
        Some("Bearer sk-wrong-key-1234")
    );
}

#[test]
fn a_cut_stream_has_no_done_and_no_end_of_body() {
    let fake = FakeOpenAi::start();
    let text = "A long announcement that will never arrive whole.";
    fake.push(Reply::Cut {
        text: text.into(),
        deltas: 3,
    });
    let answer = post_raw(&fake.base_url(), "/v1/chat/completions", &[], &ask(true));
    assert_eq!(answer.status, 200);
    assert!(
        !answer.complete,
        "the chunked body must not end: {answer:?}"
    );
    assert_eq!(answer.event_names(), ["data"; 4]);
    let seen: String = answer.event_data()[1..]
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(seen, split_into_deltas(text)[..3].concat());
}

#[test]
fn replies_are_used_in_order_then_the_default_answer() {
    let fake = FakeOpenAi::start();
    fake.push(Reply::Overloaded);
    fake.push(Reply::RateLimited {
        retry_after_secs: 3,
    });
    fake.push(Reply::StreamError {
        text: "Half of this is said.".into(),
        deltas: 1,
    });
    fake.push(Reply::Text("Non-streamed.".into()));
    let base = root(&fake);
    let path = "/v1/chat/completions";

    let overloaded = post_json(&base, path, &[], &ask(false));
    assert_eq!(overloaded.status, 503);
    assert_eq!(overloaded.json()["error"]["type"], "server_error");

    let limited = post_json(&base, path, &[], &ask(false));
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("3"));
    assert_eq!(limited.json()["error"]["code"], "rate_limit_exceeded");

    let broken = post_raw(&fake.base_url(), path, &[], &ask(true));
    assert_eq!(broken.status, 200);
    assert!(broken.complete);
    assert_eq!(broken.event_names(), ["data"; 3]);
    assert_eq!(
        broken.event_data()[2]["error"]["type"],
        "server_error",
        "{}",
        broken.body
    );

    let whole = post_json(&base, path, &[], &ask(false)).json();
    assert_eq!(whole["object"], "chat.completion");
    assert_eq!(
        whole["choices"][0]["message"],
        json!({"role": "assistant", "content": "Non-streamed."})
    );
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
    assert_eq!(whole["usage"]["completion_tokens"], 4);

    let default = post_json(&base, path, &[], &ask(false)).json();
    assert_eq!(default["choices"][0]["message"]["content"], DEFAULT_ANSWER);
}
