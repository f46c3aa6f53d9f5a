//! Tests of the fake over real HTTP.

use super::super::llm::{DEFAULT_ANSWER, post_raw};
use super::super::raw_http::{call, post_json, request};
use super::*;

const AUTH: [(&str, &str); 2] = [
    ("x-api-key", FakeAnthropic::KEY),
    ("anthropic-version", "2023-06-01"),
];

fn ask(stream: bool) -> Value {
    json!({
        "model": FakeAnthropic::MODEL,
        "max_tokens": 300,
        "system": "You write social media posts.",
        "messages": [{"role": "user", "content": "Announce the release."}],
        "stream": stream,
    })
}

#[test]
fn a_streamed_text_arrives_in_the_documented_event_sequence() {
    let fake = FakeAnthropic::start();
    let text = "postctl 1.0 is out: schedule posts to every network from one terminal.";
    fake.push(Reply::Text(text.into()));
    let answer = post_raw(&fake.base_url(), "/v1/messages", &AUTH, &ask(true));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let head = answer.head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("request-id: req_"), "{head}");
    assert!(answer.complete, "the body must end properly");

    let deltas = split_into_deltas(text).len();
    assert!(deltas > 1);
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", deltas));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(answer.event_names(), expected);

    let data = answer.event_data();
    let names = answer.event_names();
    for (name, data) in names.iter().zip(&data) {
        assert_eq!(
            &data["type"],
            name.as_str(),
            "each event's data names its type"
        );
    }
    let start = &data[0]["message"];
    assert!(
        start["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("msg_"))
    );
    assert_eq!(start["role"], "assistant");
    assert_eq!(start["model"], FakeAnthropic::MODEL);
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    let prompt = "You write social media posts.\nAnnounce the release.";
    assert_eq!(start["usage"]["input_tokens"], estimate_tokens(prompt));
    assert_eq!(
        data[1]["content_block"],
        json!({"type": "text", "text": ""})
    );
    let streamed: String = data
        .iter()
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| {
            assert_eq!(d["delta"]["type"], "text_delta");
            d["delta"]["text"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(streamed, text);
    let end = &data[data.len() - 2];
    assert_eq!(
        end["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(end["usage"]["output_tokens"], estimate_tokens(text));
}

#[test]
fn requests_are_checked_in_order_and_all_recorded() {
    let fake = FakeAnthropic::start();
    fake.push(Reply::Overloaded);
    let base = fake.base_url();

    let no_key = post_json(&base, "/v1/messages", &[], &ask(false));
    assert_eq!(no_key.status, 401);
    let body = no_key.json();
    assert_eq!(
        body["error"],
        json!({"type": "authentication_error", "message": "invalid x-api-key"})
    );
    assert_eq!(body["type"], "error");
    assert_eq!(no_key.header("request-id"), body["request_id"].as_str());

    let wrong_key = post_json(
        &base,
        "/v1/messages",
        &[("x-api-key", "sk-ant-other"), AUTH[1]],
        &ask(false),
    );
    assert_eq!(wrong_key.status, 401);

    let no_version = post_json(&base, "/v1/messages", &AUTH[..1], &ask(false));
    assert_eq!(no_version.status, 400);
    assert_eq!(
        no_version.json()["error"]["message"],
        "anthropic-version: header is required"
    );

    let mut no_max = ask(false);
    no_max.as_object_mut().map(|o| o.remove("max_tokens"));
    let no_max = post_json(&base, "/v1/messages", &AUTH, &no_max);
    assert_eq!(no_max.status, 400);
    assert_eq!(
        no_max.json()["error"],
        json!({"type": "invalid_request_error", "message": "max_tokens: Field required"})
    );

    let not_json = call(&base, "POST", "/v1/messages", &AUTH, b"model=x");
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.json()["error"]["type"], "invalid_request_error");

    let mut other_model = ask(false);
    other_model["model"] = json!("claude-nope");
    let unknown = post_json(&base, "/v1/messages", &AUTH, &other_model);
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["error"],
        json!({"type": "not_found_error", "message": "model: claude-nope"})
    );

    fake.set_context_tokens(5);
    let long = post_json(&base, "/v1/messages", &AUTH, &ask(false));
    assert_eq!(long.status, 400);
    assert_eq!(
        long.json()["error"]["message"],
        "prompt is too long: 13 tokens > 5 maximum"
    );
    fake.set_context_tokens(FakeAnthropic::CONTEXT_TOKENS);

    // None of the refused requests took the queued reply.
    let overloaded = post_json(&base, "/v1/messages", &AUTH, &ask(false));
    assert_eq!(overloaded.status, 529);
    assert_eq!(overloaded.json()["error"]["type"], "overloaded_error");

    let requests = fake.requests();
    assert_eq!(requests.len(), 8);
    assert_eq!(requests[1].header("X-Api-Key"), Some("sk-ant-other"));
    assert_eq!(requests[4].body, Value::Null);
    assert_eq!(requests[5].body["model"], "claude-nope");
    assert!(requests.iter().all(|r| r.path == "/v1/messages"));
}

#[test]
fn a_cut_stream_ends_without_message_stop_or_the_end_of_the_body() {
    let fake = FakeAnthropic::start();
    let text = "A long announcement that will never arrive whole.";
    fake.push(Reply::Cut {
        text: text.into(),
        deltas: 2,
    });
    let answer = post_raw(&fake.base_url(), "/v1/messages", &AUTH, &ask(true));
    assert_eq!(answer.status, 200);
    assert!(
        !answer.complete,
        "the chunked body must not end: {answer:?}"
    );
    assert_eq!(
        answer.event_names(),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta"
        ]
    );
    let seen: String = answer.event_data()[3..]
        .iter()
        .filter_map(|d| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(seen, split_into_deltas(text)[..2].concat());
}

#[test]
fn a_stream_error_is_an_error_event_after_some_deltas() {
    let fake = FakeAnthropic::start();
    fake.push(Reply::StreamError {
        text: "Half of this is said before the model gives up.".into(),
        deltas: 1,
    });
    let answer = post_raw(&fake.base_url(), "/v1/messages", &AUTH, &ask(true));
    assert_eq!(answer.status, 200);
    assert!(answer.complete);
    let names = answer.event_names();
    assert_eq!(names.last().map(String::as_str), Some("error"));
    assert!(!names.iter().any(|n| n == "message_stop"));
    assert_eq!(
        answer.event_data().last().cloned(),
        Some(
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        )
    );
}

#[test]
fn replies_are_used_in_order_then_the_default_answer() {
    let fake = FakeAnthropic::start();
    fake.push(Reply::Text("First post.".into()));
    fake.push(Reply::MaxTokens("Second po".into()));
    fake.push(Reply::RateLimited {
        retry_after_secs: 7,
    });
    fake.push(Reply::Error {
        status: 403,
        kind: "permission_error".into(),
        message: "Your API key does not have permission to use the specified resource.".into(),
    });
    fake.push(Reply::Cut {
        text: "Never sent.".into(),
        deltas: 1,
    });
    let base = fake.base_url();
    let send = || post_json(&base, "/v1/messages", &AUTH, &ask(false));

    let first = send().json();
    assert_eq!(
        first["content"],
        json!([{"type": "text", "text": "First post."}])
    );
    assert_eq!(first["stop_reason"], "end_turn");
    assert_eq!(first["type"], "message");

    let second = send().json();
    assert_eq!(second["content"][0]["text"], "Second po");
    assert_eq!(second["stop_reason"], "max_tokens");
    assert_ne!(first["id"], second["id"]);

    let limited = send();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert_eq!(
        limited.header("anthropic-ratelimit-requests-remaining"),
        Some("0")
    );
    assert_eq!(limited.json()["error"]["type"], "rate_limit_error");

    let denied = send();
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json()["error"]["type"], "permission_error");

    let dropped = request(
        &base,
        "POST",
        "/v1/messages",
        &[AUTH[0], AUTH[1], ("Content-Type", "application/json")],
        ask(false).to_string().as_bytes(),
        Duration::from_secs(10),
    );
    assert!(
        dropped.is_err(),
        "a cut without streaming is no answer: {dropped:?}"
    );

    assert_eq!(send().json()["content"][0]["text"], DEFAULT_ANSWER);
}

#[test]
fn models_are_listed_and_can_change() {
    let fake = FakeAnthropic::start();
    fake.set_models(&["claude-a", "claude-b"]);
    let list = call(&fake.base_url(), "GET", "/v1/models", &AUTH, b"");
    assert_eq!(list.status, 200);
    let body = list.json();
    let ids: Vec<&str> = body["data"]
        .as_array()
        .map(|models| models.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["claude-a", "claude-b"]);
    let old = post_json(&fake.base_url(), "/v1/messages", &AUTH, &ask(false));
    assert_eq!(old.status, 404);
    let lost = call(&fake.base_url(), "POST", "/v1/v1/messages", &AUTH, b"{}");
    assert_eq!(lost.status, 404);
    assert_eq!(fake.requests()[2].path, "/v1/v1/messages");
}
