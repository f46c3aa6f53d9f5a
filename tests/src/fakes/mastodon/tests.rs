//! Tests of the fake over real HTTP.

use super::super::FakeServer;
use super::super::raw_http::{PNG, call, multipart, post_json};
use super::*;

const AUTH: (&str, &str) = ("Authorization", "Bearer masto-token");

#[test]
fn instance_and_credentials() {
    let fake = FakeMastodon::start();
    fake.configure(|c| c.max_characters = 11);
    let reply = call(&fake.base_url(), "GET", "/api/v2/instance", &[], b"");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["configuration"]["statuses"]["max_characters"],
        11
    );
    assert!(reply.header("X-RateLimit-Remaining").is_some());

    let reply = call(
        &fake.base_url(),
        "GET",
        "/api/v1/accounts/verify_credentials",
        &[AUTH],
        b"",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["username"], "me");

    let reply = call(
        &fake.base_url(),
        "GET",
        "/api/v1/accounts/verify_credentials",
        &[("Authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.json(),
        json!({"error": "The access token is invalid"})
    );
}

#[test]
fn an_idempotency_key_replays_the_same_status() {
    let fake = FakeMastodon::start();
    let key = ("Idempotency-Key", "post-1-part-0");
    let body = b"status=Shipped+v1.2+%F0%9F%8E%89&visibility=public";
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let first = call(
        &fake.base_url(),
        "POST",
        "/api/v1/statuses",
        &[AUTH, key, form],
        body,
    );
    let second = call(
        &fake.base_url(),
        "POST",
        "/api/v1/statuses",
        &[AUTH, key, form],
        body,
    );
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(second.status, 200);
    assert_eq!(first.json()["id"], second.json()["id"]);
    let id = first.json()["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    assert_eq!(first.json()["url"], format!("{}/@me/{id}", fake.base_url()));
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "Shipped v1.2 🎉");
    assert_eq!(posts[0].idempotency_key.as_deref(), Some("post-1-part-0"));
    assert_eq!(posts[0].auth.as_deref(), Some("Bearer masto-token"));

    let other = post_json(
        &fake.base_url(),
        "/api/v1/statuses",
        &[AUTH, ("Idempotency-Key", "post-1-part-1")],
        &json!({"status": "part two", "in_reply_to_id": id}),
    );
    assert_eq!(other.status, 200);
    assert_eq!(fake.posts()[1].reply_to.as_deref(), Some(id.as_str()));
}

#[test]
fn validation_errors_use_mastodons_bodies() {
    let fake = FakeMastodon::start();
    let url = "https://example.com/".to_string() + &"a".repeat(300);
    let fits = format!("{} {url}", "x".repeat(500 - 24));
    let reply = post_json(
        &fake.base_url(),
        "/api/v1/statuses",
        &[AUTH],
        &json!({"status": fits}),
    );
    assert_eq!(reply.status, 200, "a URL counts 23: {}", reply.text());

    let reply = post_json(
        &fake.base_url(),
        "/api/v1/statuses",
        &[AUTH],
        &json!({"status": "é".repeat(501)}),
    );
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json(),
        json!({"error": "Validation failed: Text character limit of 500 exceeded"})
    );

    let reply = post_json(
        &fake.base_url(),
        "/api/v1/statuses",
        &[AUTH],
        &json!({"status": "x", "in_reply_to_id": "404"}),
    );
    assert_eq!(reply.status, 404);
    let reply = post_json(
        &fake.base_url(),
        "/api/v1/statuses",
        &[AUTH],
        &json!({"status": " "}),
    );
    assert_eq!(
        reply.json()["error"],
        "Validation failed: Text can't be blank"
    );
    let reply = call(
        &fake.base_url(),
        "POST",
        "/api/v1/statuses",
        &[AUTH, ("Content-Type", "application/json")],
        b"{not json",
    );
    assert_eq!(reply.status, 400);
    assert_eq!(fake.posts().len(), 1);
}

#[test]
fn media_is_processed_before_it_can_be_attached() {
    let fake = FakeMastodon::start();
    fake.configure(|c| c.media_processing_polls = 1);
    let (content_type, body) = multipart(&[
        ("file", Some("chart.png"), Some("image/png"), PNG),
        ("description", None, None, b"weekly downloads"),
    ]);
    let upload = call(
        &fake.base_url(),
        "POST",
        "/api/v2/media",
        &[AUTH, ("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(upload.status, 202, "{}", upload.text());
    assert_eq!(upload.json()["url"], Value::Null);
    let id = upload.json()["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();

    let attach = json!({"status": "chart", "media_ids": [id]});
    let early = post_json(&fake.base_url(), "/api/v1/statuses", &[AUTH], &attach);
    assert_eq!(early.status, 422);
    assert_eq!(
        early.json()["error"],
        "Cannot attach files that have not finished processing. Try again in a moment!"
    );

    let path = format!("/api/v1/media/{id}");
    assert_eq!(
        call(&fake.base_url(), "GET", &path, &[AUTH], b"").status,
        206
    );
    let done = call(&fake.base_url(), "GET", &path, &[AUTH], b"");
    assert_eq!(done.status, 200);
    assert!(done.json()["url"].is_string());
    assert_eq!(done.json()["meta"]["original"]["width"], 3);

    let posted = post_json(&fake.base_url(), "/api/v1/statuses", &[AUTH], &attach);
    assert_eq!(posted.status, 200, "{}", posted.text());
    assert_eq!(
        posted.json()["media_attachments"][0]["description"],
        "weekly downloads"
    );
    let media = &fake.posts()[0].media;
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].alt.as_deref(), Some("weekly downloads"));
    assert_eq!(media[0].mime, "image/png");

    let again = post_json(&fake.base_url(), "/api/v1/statuses", &[AUTH], &attach);
    assert_eq!(again.status, 422, "media attaches to one status only");
}

#[test]
fn delete_answers_with_the_source_and_rate_limits_are_enforced() {
    let fake = FakeMastodon::start();
    let posted = post_json(
        &fake.base_url(),
        "/api/v1/statuses",
        &[AUTH],
        &json!({"status": "bye"}),
    );
    let id = posted.json()["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    let path = format!("/api/v1/statuses/{id}");
    let deleted = call(&fake.base_url(), "DELETE", &path, &[AUTH], b"");
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["text"], "bye");
    assert!(fake.posts()[0].deleted);
    assert_eq!(
        call(&fake.base_url(), "DELETE", &path, &[AUTH], b"").status,
        404
    );

    fake.set_rate_limit(RateLimit::new(1, Duration::from_secs(60)));
    let ok = call(&fake.base_url(), "GET", "/api/v2/instance", &[AUTH], b"");
    assert_eq!(ok.header("X-RateLimit-Remaining"), Some("0"));
    let limited = call(&fake.base_url(), "GET", "/api/v2/instance", &[AUTH], b"");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json(), json!({"error": "Too many requests"}));
    assert!(
        limited
            .header("X-RateLimit-Reset")
            .is_some_and(|r| r.ends_with('Z'))
    );
}
