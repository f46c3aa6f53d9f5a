//! Tests of the fake over real HTTP.

use super::super::raw_http::{PNG, call, multipart, post_json};
use super::super::{ChaosConfig, Failure, FakeServer};
use super::*;

fn path(method: &str) -> String {
    format!("/bot{}/{method}", FakeTelegram::TOKEN)
}

#[test]
fn tokens_and_chats_are_checked() {
    let fake = FakeTelegram::start();
    let me = call(&fake.base_url(), "GET", &path("getMe"), &[], b"");
    assert_eq!(me.json()["result"]["id"], 123456);
    let wrong = call(&fake.base_url(), "GET", "/bot1:nope/getMe", &[], b"");
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    let lost = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": 99, "text": "x"}),
    );
    assert_eq!(lost.status, 400);
    assert_eq!(lost.json()["description"], "Bad Request: chat not found");
    fake.configure(|c| {
        c.migrated.insert(-42, FakeTelegram::CHANNEL);
    });
    let moved = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": -42, "text": "x"}),
    );
    assert_eq!(
        moved.json()["parameters"]["migrate_to_chat_id"],
        FakeTelegram::CHANNEL
    );
}

#[test]
fn html_is_parsed_before_counting() {
    let fake = FakeTelegram::start();
    let fits = format!("<b>{}</b>", "&amp;".repeat(4096));
    let sent = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": "@postctl_test", "text": fits, "parse_mode": "HTML"}),
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(sent.json()["result"]["message_id"], 1);
    assert_eq!(sent.json()["result"]["chat"]["username"], "postctl_test");

    let long = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": FakeTelegram::CHANNEL, "text": "é".repeat(4097)}),
    );
    assert_eq!(
        long.json()["description"],
        "Bad Request: message is too long"
    );
    let broken = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": FakeTelegram::CHANNEL, "text": "1 < 2", "parse_mode": "HTML"}),
    );
    assert_eq!(broken.status, 400);
    assert_eq!(
        broken.json()["description"],
        "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 2"
    );
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "&".repeat(4096));
    assert_eq!(posts[0].url.as_deref(), Some("https://t.me/postctl_test/1"));
    assert_eq!(posts[0].auth.as_deref(), Some(FakeTelegram::TOKEN));
}

#[test]
fn replies_by_reply_parameters_or_the_legacy_field() {
    let fake = FakeTelegram::start();
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let first = call(
        &fake.base_url(),
        "POST",
        &path("sendMessage"),
        &[form],
        b"chat_id=4242&text=one",
    );
    assert_eq!(first.status, 200, "{}", first.text());
    let body = "chat_id=4242&text=two&reply_parameters=%7B%22message_id%22%3A1%7D";
    let second = call(
        &fake.base_url(),
        "POST",
        &path("sendMessage"),
        &[form],
        body.as_bytes(),
    );
    assert_eq!(second.json()["result"]["reply_to_message"]["message_id"], 1);
    let legacy = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": 4242, "text": "three", "reply_to_message_id": 2}),
    );
    assert_eq!(legacy.status, 200);
    let missing = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": 4242, "text": "x", "reply_parameters": {"message_id": 99}}),
    );
    assert_eq!(
        missing.json()["description"],
        "Bad Request: message to be replied not found"
    );
    let replies: Vec<Option<String>> = fake.posts().into_iter().map(|p| p.reply_to).collect();
    assert_eq!(replies, [None, Some("1".into()), Some("2".into())]);

    let deleted = post_json(
        &fake.base_url(),
        &path("deleteMessage"),
        &[],
        &json!({"chat_id": 4242, "message_id": 3}),
    );
    assert_eq!(deleted.json(), json!({"ok": true, "result": true}));
    let again = post_json(
        &fake.base_url(),
        &path("deleteMessage"),
        &[],
        &json!({"chat_id": 4242, "message_id": 3}),
    );
    assert_eq!(
        again.json()["description"],
        "Bad Request: message to delete not found"
    );
}

#[test]
fn photos_and_albums() {
    let fake = FakeTelegram::start();
    let (content_type, body) = multipart(&[
        ("chat_id", None, None, b"4242"),
        ("caption", None, None, b"<i>chart</i>"),
        ("parse_mode", None, None, b"HTML"),
        ("photo", Some("chart.png"), Some("image/png"), PNG),
    ]);
    let photo = call(
        &fake.base_url(),
        "POST",
        &path("sendPhoto"),
        &[("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(photo.status, 200, "{}", photo.text());
    assert_eq!(photo.json()["result"]["caption"], "chart");
    let file_id = photo.json()["result"]["photo"][0]["file_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();

    let long_caption = post_json(
        &fake.base_url(),
        &path("sendPhoto"),
        &[],
        &json!({"chat_id": 4242, "photo": file_id, "caption": "x".repeat(1025)}),
    );
    assert_eq!(
        long_caption.json()["description"],
        "Bad Request: message caption is too long"
    );

    let media = json!([{"type": "photo", "media": "attach://a", "caption": "first"}, {"type": "photo", "media": file_id}]).to_string();
    let (content_type, body) = multipart(&[
        ("chat_id", None, None, b"4242"),
        ("media", None, None, media.as_bytes()),
        ("a", Some("a.png"), Some("image/png"), PNG),
    ]);
    let album = call(
        &fake.base_url(),
        "POST",
        &path("sendMediaGroup"),
        &[("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(album.status, 200, "{}", album.text());
    let messages = album.json()["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["media_group_id"], messages[1]["media_group_id"]);
    let single = post_json(
        &fake.base_url(),
        &path("sendMediaGroup"),
        &[],
        &json!({"chat_id": 4242, "media": [{"type": "photo", "media": file_id}]}),
    );
    assert_eq!(single.status, 400);
    let posts = fake.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0].media[0].mime, "image/png");
    assert_eq!(posts[0].formatted.as_deref(), Some("<i>chart</i>"));
}

#[test]
fn rate_limits_carry_retry_after() {
    let fake = FakeTelegram::start();
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 9));
    let limited = post_json(
        &fake.base_url(),
        &path("sendMessage"),
        &[],
        &json!({"chat_id": 4242, "text": "x"}),
    );
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.json(),
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    );
    assert!(fake.posts().is_empty());
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::ServerError], 9));
    let down = post_json(&fake.base_url(), &path("getMe"), &[], &json!({}));
    assert_eq!(down.status, 503);
    assert_eq!(down.json()["ok"], false);
    assert_eq!(fake.chaos().counts().injected(), 2);
}
