//! Tests of the fake over real HTTP.

use super::super::raw_http::{PNG, call};
use super::super::{ChaosConfig, Failure, FakeServer};
use super::*;

const AUTH: (&str, &str) = ("Authorization", "Bearer syt_fake_matrix_token");

fn send_path(txn: &str) -> String {
    format!("/_matrix/client/v3/rooms/%21postctlroom%3Afake.matrix/send/m.room.message/{txn}")
}

fn put_json(
    fake: &FakeMatrix,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> super::super::raw_http::Reply {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    call(
        &fake.base_url(),
        "PUT",
        path,
        &all,
        body.to_string().as_bytes(),
    )
}

#[test]
fn a_transaction_id_replays_the_event() {
    let fake = FakeMatrix::start();
    let body = json!({"msgtype": "m.text", "body": "hello", "format": "org.matrix.custom.html", "formatted_body": "<b>hello</b>"});
    let first = put_json(&fake, &send_path("postctl-1-0"), &[AUTH], &body);
    let second = put_json(&fake, &send_path("postctl-1-0"), &[AUTH], &body);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["event_id"], second.json()["event_id"]);
    let event_id = first.json()["event_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    assert!(event_id.starts_with('$') && event_id.len() == 44);

    let reply = json!({"msgtype": "m.text", "body": "two", "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}});
    assert_eq!(
        put_json(&fake, &send_path("postctl-1-1"), &[AUTH], &reply).status,
        200
    );
    let posts = fake.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].formatted.as_deref(), Some("<b>hello</b>"));
    assert_eq!(posts[0].idempotency_key.as_deref(), Some("postctl-1-0"));
    assert_eq!(posts[0].channel, FakeMatrix::ROOM);
    assert_eq!(posts[1].reply_to.as_deref(), Some(event_id.as_str()));

    let redact = format!(
        "/_matrix/client/v3/rooms/%21postctlroom%3Afake.matrix/redact/{}/r1",
        event_id.replace('$', "%24")
    );
    let redacted = put_json(&fake, &redact, &[AUTH], &json!({"reason": "oops"}));
    assert_eq!(redacted.status, 200, "{}", redacted.text());
    assert_eq!(
        put_json(&fake, &redact, &[AUTH], &json!({})).json()["event_id"],
        redacted.json()["event_id"]
    );
    assert!(fake.posts()[0].deleted);
}

#[test]
fn tokens_rooms_and_bodies_are_checked() {
    let fake = FakeMatrix::start();
    let stranger = put_json(
        &fake,
        &send_path("t"),
        &[("Authorization", "Bearer nope")],
        &json!({"body": "x"}),
    );
    assert_eq!(stranger.status, 401);
    assert_eq!(stranger.json()["errcode"], "M_UNKNOWN_TOKEN");
    assert_eq!(
        put_json(&fake, &send_path("t"), &[], &json!({})).json()["errcode"],
        "M_MISSING_TOKEN"
    );
    let elsewhere = put_json(
        &fake,
        "/_matrix/client/v3/rooms/%21other%3Ax/send/m.room.message/t",
        &[AUTH],
        &json!({"body": "x"}),
    );
    assert_eq!(elsewhere.json()["errcode"], "M_FORBIDDEN");
    let garbage = call(&fake.base_url(), "PUT", &send_path("g"), &[AUTH], b"[1]");
    assert_eq!(garbage.json()["errcode"], "M_NOT_JSON");
    let huge = put_json(
        &fake,
        &send_path("h"),
        &[AUTH],
        &json!({"msgtype": "m.text", "body": "x".repeat(65_536)}),
    );
    assert_eq!(huge.status, 413);
    assert_eq!(huge.json()["errcode"], "M_TOO_LARGE");
    let me = call(
        &fake.base_url(),
        "GET",
        "/_matrix/client/v3/account/whoami",
        &[AUTH],
        b"",
    );
    assert_eq!(me.json()["user_id"], "@postctl:fake.matrix");
    let alias = call(
        &fake.base_url(),
        "GET",
        "/_matrix/client/v3/directory/room/%23postctl%3Afake.matrix",
        &[],
        b"",
    );
    assert_eq!(alias.json()["room_id"], FakeMatrix::ROOM);
    assert!(fake.posts().is_empty());
}

#[test]
fn uploads_give_mxc_uris_for_images() {
    let fake = FakeMatrix::start();
    let uploaded = call(
        &fake.base_url(),
        "POST",
        "/_matrix/media/v3/upload?filename=chart.png",
        &[AUTH, ("Content-Type", "image/png")],
        PNG,
    );
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let mxc = uploaded.json()["content_uri"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    assert!(mxc.starts_with("mxc://fake.matrix/"));
    let image = json!({"msgtype": "m.image", "body": "weekly downloads", "filename": "chart.png", "url": mxc, "info": {"mimetype": "image/png", "size": PNG.len()}});
    assert_eq!(
        put_json(&fake, &send_path("img"), &[AUTH], &image).status,
        200
    );
    let media = &fake.posts()[0].media;
    assert_eq!(media[0].id, mxc);
    assert_eq!(media[0].alt.as_deref(), Some("weekly downloads"));
    assert_eq!(media[0].size, PNG.len());
}

#[test]
fn rate_limits_name_the_wait_twice() {
    let fake = FakeMatrix::start();
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 2));
    let limited = put_json(&fake, &send_path("x"), &[AUTH], &json!({"body": "x"}));
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.json(),
        json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1000})
    );
    assert_eq!(limited.header("Retry-After"), Some("1"));
    assert!(fake.posts().is_empty());
}
