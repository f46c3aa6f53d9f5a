//! Tests of the fake over real HTTP.

use super::super::raw_http::{call, post_json};
use super::super::{ChaosConfig, Failure};
use super::*;

const BEARER: (&str, &str) = ("Authorization", "Bearer xoxb-fake-bot-token");

#[test]
fn webhooks_answer_in_plain_words() {
    let fake = FakeSlack::start();
    let path = format!("/services/{}", FakeSlack::WEBHOOK_PATH);
    let ok = post_json(&fake.base_url(), &path, &[], &json!({"text": "shipped"}));
    assert_eq!((ok.status, ok.text().as_str()), (200, "ok"));
    let unknown = post_json(
        &fake.base_url(),
        "/services/T1/B1/x",
        &[],
        &json!({"text": "x"}),
    );
    assert_eq!(
        (unknown.status, unknown.text().as_str()),
        (404, "no_service")
    );
    let wrong_secret = post_json(
        &fake.base_url(),
        "/services/T0FAKE001/B0HOOK001/wrong",
        &[],
        &json!({"text": "x"}),
    );
    assert_eq!(
        (wrong_secret.status, wrong_secret.text().as_str()),
        (403, "invalid_token")
    );
    let garbage = call(
        &fake.base_url(),
        "POST",
        &path,
        &[("Content-Type", "application/json")],
        b"{oops",
    );
    assert_eq!(
        (garbage.status, garbage.text().as_str()),
        (400, "invalid_payload")
    );
    let empty = post_json(&fake.base_url(), &path, &[], &json!({"text": ""}));
    assert_eq!((empty.status, empty.text().as_str()), (400, "no_text"));
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "shipped");
    assert_eq!(posts[0].channel, FakeSlack::CHANNEL);
}

#[test]
fn web_api_errors_come_with_http_200() {
    let fake = FakeSlack::start();
    let auth = call(&fake.base_url(), "POST", "/api/auth.test", &[BEARER], b"");
    assert_eq!(auth.json()["ok"], true);
    let bad = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[("Authorization", "Bearer xoxb-nope")],
        &json!({"channel": "C0GENERAL1", "text": "x"}),
    );
    assert_eq!(bad.status, 200);
    assert_eq!(bad.json(), json!({"ok": false, "error": "invalid_auth"}));
    let none = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[],
        &json!({"channel": "C0GENERAL1", "text": "x"}),
    );
    assert_eq!(none.json()["error"], "not_authed");
    let lost = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[BEARER],
        &json!({"channel": "C0NOPE", "text": "x"}),
    );
    assert_eq!(lost.json()["error"], "channel_not_found");
    let long = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[BEARER],
        &json!({"channel": "#general", "text": "a".repeat(40_001)}),
    );
    assert_eq!(long.json()["error"], "msg_too_long");
    let archived = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[BEARER],
        &json!({"channel": "C0ARCHIVED", "text": "x"}),
    );
    assert_eq!(archived.json()["error"], "is_archived");
    assert!(fake.posts().is_empty());
}

#[test]
fn threads_by_thread_ts_and_delete() {
    let fake = FakeSlack::start();
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let parent = call(
        &fake.base_url(),
        "POST",
        "/api/chat.postMessage",
        &[BEARER, form],
        b"channel=C0GENERAL1&text=part+one",
    );
    assert_eq!(parent.json()["ok"], true, "{}", parent.text());
    let ts = parent.json()["ts"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    assert_eq!(ts.split('.').nth(1).map(str::len), Some(6));
    let child = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[BEARER],
        &json!({"channel": "C0GENERAL1", "text": "part two", "thread_ts": ts}),
    );
    assert_eq!(child.json()["message"]["thread_ts"], ts.as_str());
    let orphan = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[BEARER],
        &json!({"channel": "C0GENERAL1", "text": "x", "thread_ts": "1.000001"}),
    );
    assert_eq!(orphan.json()["error"], "thread_not_found");
    assert_eq!(fake.posts()[1].reply_to.as_deref(), Some(ts.as_str()));

    let deleted = post_json(
        &fake.base_url(),
        "/api/chat.delete",
        &[BEARER],
        &json!({"channel": "C0GENERAL1", "ts": ts}),
    );
    assert_eq!(deleted.json()["ok"], true);
    let again = post_json(
        &fake.base_url(),
        "/api/chat.delete",
        &[BEARER],
        &json!({"channel": "C0GENERAL1", "ts": ts}),
    );
    assert_eq!(again.json()["error"], "message_not_found");
    assert!(fake.posts()[0].deleted);
}

#[test]
fn rate_limits_send_retry_after() {
    let fake = FakeSlack::start();
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 11));
    let api = post_json(
        &fake.base_url(),
        "/api/chat.postMessage",
        &[BEARER],
        &json!({"channel": "C0GENERAL1", "text": "x"}),
    );
    assert_eq!(api.status, 429);
    assert_eq!(api.header("Retry-After"), Some("1"));
    assert_eq!(api.json()["error"], "ratelimited");
    let hook = post_json(
        &fake.base_url(),
        &format!("/services/{}", FakeSlack::WEBHOOK_PATH),
        &[],
        &json!({"text": "x"}),
    );
    assert_eq!((hook.status, hook.text().as_str()), (429, "rate_limited"));
    assert_eq!(fake.chaos().counts().rate_limited, 2);
}
