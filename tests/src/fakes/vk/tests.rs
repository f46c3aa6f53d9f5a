//! Tests of the fake over real HTTP.

use super::super::raw_http::{PNG, Reply, call, multipart};
use super::super::{ChaosConfig, Failure, FakeServer};
use super::*;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// Calls `method` with `params`, the fake's token and `v`, as a form.
fn method(fake: &FakeVk, name: &str, params: &[(&str, &str)]) -> Reply {
    let mut body: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    body.push(format!("access_token={}", FakeVk::TOKEN));
    body.push("v=5.199".into());
    call(
        &fake.base_url(),
        "POST",
        &format!("/method/{name}"),
        &[FORM],
        body.join("&").as_bytes(),
    )
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const WALL: &str = "-123456";

#[test]
fn a_repeated_guid_answers_the_first_post_and_creates_nothing() {
    let fake = FakeVk::start();
    let params = [("owner_id", WALL), ("message", "hello"), ("guid", "g-1")];
    let first = method(&fake, "wall.post", &params);
    assert_eq!(first.status, 200);
    let id = first.json()["response"]["post_id"].clone();
    assert!(id.is_i64(), "{}", first.text());
    let again = method(&fake, "wall.post", &params);
    assert_eq!(again.json()["response"]["post_id"], id);
    let other = method(
        &fake,
        "wall.post",
        &[("owner_id", WALL), ("message", "hello"), ("guid", "g-2")],
    );
    assert_ne!(other.json()["response"]["post_id"], id);
    assert_eq!(fake.posts().len(), 2);

    let post_id = id.to_string();
    let comment = [
        ("owner_id", WALL),
        ("post_id", post_id.as_str()),
        ("message", "more"),
        ("guid", "c-1"),
    ];
    let c1 = method(&fake, "wall.createComment", &comment);
    let c2 = method(&fake, "wall.createComment", &comment);
    assert_eq!(
        c1.json()["response"]["comment_id"],
        c2.json()["response"]["comment_id"]
    );
    assert_eq!(fake.posts().len(), 3);
    assert_eq!(fake.posts()[2].reply_to.as_deref(), Some(post_id.as_str()));
}

#[test]
fn errors_come_with_http_200_and_an_error_object() {
    let fake = FakeVk::start();
    let no_v = call(
        &fake.base_url(),
        "POST",
        "/method/users.get",
        &[FORM],
        format!("access_token={}", FakeVk::TOKEN).as_bytes(),
    );
    assert_eq!(no_v.status, 200);
    assert_eq!(no_v.json()["error"]["error_code"], 8);
    let bad_token = call(
        &fake.base_url(),
        "POST",
        "/method/users.get",
        &[FORM],
        b"access_token=nope&v=5.199",
    );
    assert_eq!(bad_token.json()["error"]["error_code"], 5);
    assert!(
        !bad_token.text().contains("nope"),
        "the token is not echoed"
    );

    fake.fail_next("wall.post", 14);
    let captcha = method(&fake, "wall.post", &[("owner_id", WALL), ("message", "x")]);
    assert_eq!(captcha.status, 200);
    assert_eq!(captcha.json()["error"]["error_code"], 14);
    assert!(captcha.json()["error"]["captcha_sid"].is_string());
    assert!(fake.posts().is_empty());
    let then = method(&fake, "wall.post", &[("owner_id", WALL), ("message", "x")]);
    assert!(then.json()["response"]["post_id"].is_i64());

    let two_links = method(
        &fake,
        "wall.post",
        &[
            ("owner_id", WALL),
            ("message", "x"),
            ("attachments", "https://a.example,https://b.example"),
        ],
    );
    assert_eq!(two_links.json()["error"]["error_code"], 100);
    let too_long = "x".repeat(MAX_MESSAGE + 1);
    let long = method(
        &fake,
        "wall.post",
        &[("owner_id", WALL), ("message", too_long.as_str())],
    );
    assert_eq!(long.json()["error"]["error_code"], 100);
    let elsewhere = method(
        &fake,
        "wall.post",
        &[("owner_id", "-999"), ("message", "x")],
    );
    assert_eq!(elsewhere.json()["error"]["error_code"], 15);
}

#[test]
fn chaos_speaks_vk() {
    let fake = FakeVk::start();
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 1));
    let limited = method(&fake, "wall.post", &[("owner_id", WALL), ("message", "x")]);
    assert_eq!(
        (
            limited.status,
            limited.json()["error"]["error_code"].clone()
        ),
        (200, json!(6))
    );
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::ServerError], 1));
    let failed = method(&fake, "wall.post", &[("owner_id", WALL), ("message", "x")]);
    assert_eq!(failed.json()["error"]["error_code"], 10);
    assert!(fake.posts().is_empty());
}

#[test]
fn a_photo_goes_through_the_upload_server_and_is_attached() {
    let fake = FakeVk::start();
    let server = method(
        &fake,
        "photos.getWallUploadServer",
        &[("group_id", "123456")],
    );
    let upload_url = server.json()["response"]["upload_url"]
        .as_str()
        .expect("upload_url")
        .to_string();
    let path = upload_url
        .strip_prefix(&fake.base_url())
        .expect("on the fake")
        .to_string();
    let (content_type, body) = multipart(&[("photo", Some("chart.png"), Some("image/png"), PNG)]);
    let uploaded = call(
        &fake.base_url(),
        "POST",
        &path,
        &[("Content-Type", &content_type)],
        &body,
    )
    .json();
    let server_id = uploaded["server"].to_string();
    let saved = method(
        &fake,
        "photos.saveWallPhoto",
        &[
            ("group_id", "123456"),
            ("server", server_id.as_str()),
            ("photo", uploaded["photo"].as_str().expect("photo")),
            ("hash", uploaded["hash"].as_str().expect("hash")),
            ("caption", "a chart"),
        ],
    )
    .json();
    let photo = &saved["response"][0];
    let attachment = format!("photo{}_{}", photo["owner_id"], photo["id"]);
    let posted = method(
        &fake,
        "wall.post",
        &[("owner_id", WALL), ("attachments", attachment.as_str())],
    );
    assert!(
        posted.json()["response"]["post_id"].is_i64(),
        "{}",
        posted.text()
    );
    let media = &fake.posts()[0].media;
    assert_eq!(media.len(), 1);
    assert_eq!(
        (media[0].mime.as_str(), media[0].alt.as_deref()),
        ("image/png", Some("a chart"))
    );

    let replayed = method(
        &fake,
        "photos.saveWallPhoto",
        &[
            ("group_id", "123456"),
            ("server", server_id.as_str()),
            ("photo", uploaded["photo"].as_str().expect("photo")),
            ("hash", uploaded["hash"].as_str().expect("hash")),
        ],
    );
    assert_eq!(
        replayed.json()["error"]["error_code"],
        121,
        "an upload is saved once"
    );
    let unknown = method(
        &fake,
        "wall.post",
        &[("owner_id", WALL), ("attachments", "photo-123456_99999")],
    );
    assert_eq!(unknown.json()["error"]["error_code"], 100);
}

#[test]
fn deleting_a_post_takes_its_comments_and_a_second_delete_is_refused() {
    let fake = FakeVk::start();
    let post = method(&fake, "wall.post", &[("owner_id", WALL), ("message", "x")]).json()["response"]["post_id"].to_string();
    method(
        &fake,
        "wall.createComment",
        &[
            ("owner_id", WALL),
            ("post_id", post.as_str()),
            ("message", "y"),
        ],
    );
    let deleted = method(
        &fake,
        "wall.delete",
        &[("owner_id", WALL), ("post_id", post.as_str())],
    );
    assert_eq!(deleted.json()["response"], 1);
    assert!(fake.posts().iter().all(|p| p.deleted));
    let again = method(
        &fake,
        "wall.delete",
        &[("owner_id", WALL), ("post_id", post.as_str())],
    );
    assert_eq!(again.json()["error"]["error_code"], 100);
}
