//! Tests of the fake over real HTTP.

use super::super::raw_http::{PNG, call, multipart, post_json};
use super::super::{ChaosConfig, Failure};
use super::*;

const BOT: (&str, &str) = ("Authorization", "Bot discord-bot-token");

fn webhook_path(query: &str) -> String {
    format!(
        "/api/webhooks/{}/{}{query}",
        FakeDiscord::WEBHOOK_ID,
        FakeDiscord::WEBHOOK_TOKEN
    )
}

fn messages_path() -> String {
    format!("/api/v10/channels/{}/messages", FakeDiscord::CHANNEL)
}

#[test]
fn webhooks_answer_the_message_only_with_wait() {
    let fake = FakeDiscord::start();
    let waited = post_json(
        &fake.base_url(),
        &webhook_path("?wait=true"),
        &[],
        &json!({"content": "hello"}),
    );
    assert_eq!(waited.status, 200, "{}", waited.text());
    assert_eq!(waited.json()["content"], "hello");
    assert_eq!(waited.json()["webhook_id"], FakeDiscord::WEBHOOK_ID);
    let silent = post_json(
        &fake.base_url(),
        &webhook_path(""),
        &[],
        &json!({"content": "quiet"}),
    );
    assert_eq!(silent.status, 204);
    assert!(silent.body.is_empty());
    assert_eq!(fake.posts().len(), 2);

    let unknown = post_json(
        &fake.base_url(),
        "/api/webhooks/1/x?wait=true",
        &[],
        &json!({"content": "x"}),
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json(),
        json!({"message": "Unknown Webhook", "code": 10015})
    );
    let info = call(&fake.base_url(), "GET", &webhook_path(""), &[], b"");
    assert_eq!(info.json()["channel_id"], FakeDiscord::CHANNEL);
    let empty = post_json(
        &fake.base_url(),
        &webhook_path("?wait=true"),
        &[],
        &json!({"content": " "}),
    );
    assert_eq!(empty.json()["code"], 50006);
}

#[test]
fn an_enforced_nonce_replays_the_message() {
    let fake = FakeDiscord::start();
    let body = json!({"content": "once", "nonce": "post1-part0", "enforce_nonce": true});
    let first = post_json(&fake.base_url(), &messages_path(), &[BOT], &body);
    let second = post_json(&fake.base_url(), &messages_path(), &[BOT], &body);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(fake.posts().len(), 1);
    assert_eq!(
        fake.posts()[0].idempotency_key.as_deref(),
        Some("post1-part0")
    );
    assert_eq!(
        fake.posts()[0].auth.as_deref(),
        Some("Bot discord-bot-token")
    );

    let unenforced = json!({"content": "twice", "nonce": "n2"});
    post_json(&fake.base_url(), &messages_path(), &[BOT], &unenforced);
    post_json(&fake.base_url(), &messages_path(), &[BOT], &unenforced);
    assert_eq!(
        fake.posts().len(),
        3,
        "without enforce_nonce the nonce is only echoed"
    );

    let parent = first.json()["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    let reply = post_json(
        &fake.base_url(),
        &messages_path(),
        &[BOT],
        &json!({"content": "re", "message_reference": {"message_id": parent}}),
    );
    assert_eq!(
        reply.json()["message_reference"]["message_id"],
        parent.as_str()
    );
    let dangling = post_json(
        &fake.base_url(),
        &messages_path(),
        &[BOT],
        &json!({"content": "re", "message_reference": {"message_id": "1"}}),
    );
    assert_eq!(
        dangling.json()["errors"]["message_reference"]["_errors"][0]["code"],
        "REPLIES_UNKNOWN_MESSAGE"
    );

    let me = call(&fake.base_url(), "GET", "/api/v10/users/@me", &[BOT], b"");
    assert_eq!(me.json()["bot"], true);
    let stranger = call(
        &fake.base_url(),
        "GET",
        "/api/v10/users/@me",
        &[("Authorization", "Bot nope")],
        b"",
    );
    assert_eq!(stranger.status, 401);
    let path = format!("{}/{parent}", messages_path());
    assert_eq!(
        call(&fake.base_url(), "DELETE", &path, &[BOT], b"").status,
        204
    );
    assert_eq!(
        call(&fake.base_url(), "DELETE", &path, &[BOT], b"").status,
        404
    );
}

#[test]
fn content_is_counted_in_code_points() {
    let fake = FakeDiscord::start();
    let fits = post_json(
        &fake.base_url(),
        &messages_path(),
        &[BOT],
        &json!({"content": "👍".repeat(2000)}),
    );
    assert_eq!(fits.status, 200);
    let long = post_json(
        &fake.base_url(),
        &messages_path(),
        &[BOT],
        &json!({"content": "a".repeat(2001)}),
    );
    assert_eq!(long.status, 400);
    assert_eq!(long.json()["code"], 50035);
    assert_eq!(
        long.json()["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    assert!(
        fits.header("X-RateLimit-Bucket").is_some()
            && fits.header("X-RateLimit-Remaining").is_some()
    );
}

#[test]
fn multipart_attachments_carry_their_description() {
    let fake = FakeDiscord::start();
    let payload = json!({"content": "chart", "attachments": [{"id": 0, "description": "weekly downloads", "filename": "chart.png"}]}).to_string();
    let (content_type, body) = multipart(&[
        (
            "payload_json",
            None,
            Some("application/json"),
            payload.as_bytes(),
        ),
        ("files[0]", Some("chart.png"), Some("image/png"), PNG),
    ]);
    let sent = call(
        &fake.base_url(),
        "POST",
        &webhook_path("?wait=true"),
        &[("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(
        sent.json()["attachments"][0]["description"],
        "weekly downloads"
    );
    let media = &fake.posts()[0].media;
    assert_eq!(media[0].alt.as_deref(), Some("weekly downloads"));
    assert_eq!(media[0].size, PNG.len());
}

#[test]
fn rate_limits_speak_discord() {
    let fake = FakeDiscord::start();
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 5));
    let limited = post_json(
        &fake.base_url(),
        &messages_path(),
        &[BOT],
        &json!({"content": "x"}),
    );
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["retry_after"], 1.0);
    assert_eq!(limited.json()["global"], false);
    assert_eq!(limited.header("Retry-After"), Some("1"));
    assert_eq!(limited.header("X-RateLimit-Remaining"), Some("0"));
    assert_eq!(limited.header("X-RateLimit-Reset-After"), Some("1.000"));
    assert!(limited.header("X-RateLimit-Bucket").is_some());
    assert_eq!(limited.header("X-RateLimit-Scope"), Some("user"));

    fake.chaos().off();
    fake.set_rate_limit(RateLimit::new(1, Duration::from_secs(30)));
    assert_eq!(
        post_json(
            &fake.base_url(),
            &messages_path(),
            &[BOT],
            &json!({"content": "a"})
        )
        .status,
        200
    );
    let real = post_json(
        &fake.base_url(),
        &messages_path(),
        &[BOT],
        &json!({"content": "b"}),
    );
    assert_eq!(real.status, 429);
    assert!(real.json()["retry_after"].as_f64().is_some_and(|s| s > 1.0));
    assert_eq!(fake.posts().len(), 1);
}
