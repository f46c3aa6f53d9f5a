//! The server's media store (issues 12 and 13): with `[media]` configured, the files
//! devices upload by SHA-256 go to an S3-compatible bucket (`FakeS3`, which checks every
//! presigned request's SigV4 signature), so a second process sharing the PostgreSQL
//! database publishes a post whose picture was uploaded to the first; Instagram gets its
//! images from the same bucket; without a bucket, Instagram on the server says to
//! configure one.

mod common;
#[path = "../../sync-server/tests/common/pg.rs"]
mod pg;

use std::time::Duration;

use common::Env;
use common::server::{Server, device, sha256_hex, token};
use common::wait_for;
use postctl_tests::fakes::mastodon::FakeMastodon;
use postctl_tests::fakes::{FakeInstagram, FakeS3};
use serde_json::Value;

/// 32 bytes, base64: every process of one database seals with one key.
const KEY: &str = "cG9zdGN0bC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=";

/// The settings that point a server at the fake bucket, its secret key in the environment.
fn bucket_env(s3: &FakeS3) -> Vec<(&'static str, String)> {
    vec![
        ("POSTCTL_SERVER_MEDIA_ENDPOINT", s3.base_url()),
        ("POSTCTL_SERVER_MEDIA_BUCKET", FakeS3::BUCKET.to_string()),
        ("POSTCTL_SERVER_MEDIA_REGION", FakeS3::REGION.to_string()),
        (
            "POSTCTL_SERVER_MEDIA_ACCESS_KEY_ID",
            FakeS3::ACCESS_KEY.to_string(),
        ),
        (
            "POSTCTL_SERVER_MEDIA_SECRET_KEY",
            FakeS3::SECRET_KEY.to_string(),
        ),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A command on the real clock, as the server's.
fn live(env: &Env, args: &[&str]) -> common::Run {
    let now = chrono::Utc::now().to_rfc3339();
    env.ok_full(args, None, &[("POSTCTL_NOW", now.as_str())])
}

/// Schedules `text` with the test picture to `to`, `seconds` ahead; the post's id.
fn schedule_with_picture(env: &Env, text: &str, to: &str, seconds: i64) -> String {
    let png = env.file("shot.png", common::PNG_3X2);
    let at = (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339();
    let out = live(
        env,
        &[
            "--json",
            "schedule",
            text,
            "--to",
            to,
            "--at",
            &at,
            "--media",
            png.to_str().expect("utf-8 path"),
            "--alt",
            "a red square",
        ],
    )
    .json();
    out["post_id"]
        .as_str()
        .or_else(|| out["id"].as_str())
        .unwrap_or_else(|| panic!("a post id in {out}"))
        .to_string()
}

/// The server's targets of a post: (account, state, error).
fn targets(server: &Server, session: &str, id: &str) -> Vec<(String, String, String)> {
    let (status, post) = server.get(&format!("/api/v1/posts/{id}"), session);
    assert_eq!(status, 200, "{post}");
    post["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("targets in {post}"))
        .iter()
        .map(|t| {
            let text = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (text("account"), text("state"), text("last_error"))
        })
        .collect()
}

/// GET `path` with a bearer token: the status and the body's bytes.
fn fetch(server: &Server, path: &str, token: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the server");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, answer[end + 4..].to_vec())
}

/// Files in `dir` (none when it does not exist).
fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Two `serve` processes on one PostgreSQL database and one bucket: a device uploads the
/// picture to process A (an API-only node), and process B, which never received it,
/// fetches it from the bucket into its cache and publishes the post with it.
#[test]
fn media_uploaded_to_one_process_is_published_by_another_from_the_bucket() {
    let Some(pg) = pg::Postgres::start(
        "media_uploaded_to_one_process_is_published_by_another_from_the_bucket",
    ) else {
        return;
    };
    let url = pg.database();
    let s3 = FakeS3::start();
    let mastodon = FakeMastodon::start();
    let mut shared = bucket_env(&s3);
    shared.push(("POSTCTL_SERVER_DATABASE_URL", url));
    shared.push(("POSTCTL_SERVER_KEY", KEY.to_string()));
    let mut api_only = shared.clone();
    api_only.push(("POSTCTL_SERVER_PUBLISH", "false".to_string()));
    let a = Server::start_with(&borrowed(&api_only));
    let b = Server::start_with(&borrowed(&shared));
    a.add_user("alice", &[]);

    let laptop = device(&a, "alice");
    laptop.add_mastodon_on("masto", &mastodon);
    laptop.ok(&["accounts", "push", "masto"]);
    let id = schedule_with_picture(&laptop, "Published by the other process", "masto", 2);
    live(&laptop, &["sync"]);

    let sha = sha256_hex(common::PNG_3X2);
    assert_eq!(
        s3.objects(),
        vec![format!("postctl-server/media/{sha}")],
        "the upload went to the bucket"
    );
    assert!(
        files_in(&a.data_dir().join("media")).is_empty(),
        "A kept the file in its own data dir"
    );
    wait_for(
        Duration::from_secs(30),
        "process B did not publish the post",
        || !mastodon.posts().is_empty(),
    );
    let sent = &mastodon.posts()[0];
    assert!(
        sent.text.contains("Published by the other process"),
        "{sent:?}"
    );
    assert_eq!(
        sent.media.len(),
        1,
        "published without its picture: {sent:?}"
    );
    assert_eq!(sent.media[0].size, common::PNG_3X2.len(), "{sent:?}");
    assert_eq!(sent.media[0].alt.as_deref(), Some("a red square"));
    // B read it from the bucket into its cache (A never publishes: publish = false).
    assert_eq!(
        files_in(&b.data_dir().join("media-cache")),
        vec![format!("{sha}.png")]
    );
    let session = token(&laptop);
    wait_for(
        Duration::from_secs(30),
        "the target did not settle as published",
        || targets(&a, &session, &id)[0].1 == "published",
    );
    // The device's "do you have it" and the fetch of another device ask the bucket.
    let (status, answer) = a.get(&format!("/api/v1/media?missing={sha}"), &session);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["missing"], Value::Array(vec![]), "{answer}");
    assert!(
        s3.log()
            .iter()
            .any(|r| r.method == "HEAD" && r.key.ends_with(&sha) && r.status == 200),
        "{:?}",
        s3.log()
    );
    let desk = device(&b, "alice");
    live(&desk, &["sync"]);
    let (status, bytes) = fetch(&b, &format!("/api/v1/media/{sha}"), &token(&desk));
    assert_eq!(status, 200);
    assert_eq!(
        bytes,
        common::PNG_3X2,
        "another device fetches the file from the bucket"
    );
    assert!(
        s3.log()
            .iter()
            .all(|r| r.status < 400 || (r.method == "HEAD" && r.status == 404)),
        "a request the bucket refused: {:?}",
        s3.log()
    );
}

/// A file the database records for the workspace but the store lacks (uploaded before
/// the bucket was configured) is asked for again, and fetching it says it is not there.
#[test]
fn the_missing_check_asks_the_bucket_not_only_the_database() {
    let s3 = FakeS3::start();
    let mut server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    let mastodon = FakeMastodon::start();
    laptop.add_mastodon_on("masto", &mastodon);
    laptop.ok(&["accounts", "push", "masto"]);
    schedule_with_picture(&laptop, "Later", "masto", 3600);
    live(&laptop, &["sync"]);
    let sha = sha256_hex(common::PNG_3X2);
    assert_eq!(
        files_in(&server.data_dir().join("media")),
        vec![format!("{sha}.png")],
        "without [media], files stay in the data dir"
    );
    let session = token(&laptop);
    let (_, answer) = server.get(&format!("/api/v1/media?missing={sha}"), &session);
    assert_eq!(answer["missing"], Value::Array(vec![]), "{answer}");

    server.stop();
    let with_bucket = server.another(&borrowed(&bucket_env(&s3)));
    let (status, answer) = with_bucket.get(&format!("/api/v1/media?missing={sha}"), &session);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["missing"], serde_json::json!([sha]), "{answer}");
    let (status, answer) = with_bucket.get(&format!("/api/v1/media/{sha}"), &session);
    assert_eq!(status, 404, "{answer}");
    assert!(s3.objects().is_empty());
}

/// Instagram from the server: the image goes to the bucket under its own prefix, the
/// fake Instagram fetches it from the presigned URL, and the object is removed after.
#[test]
fn instagram_on_the_server_gets_its_images_from_the_bucket() {
    let s3 = FakeS3::start();
    let instagram = FakeInstagram::start();
    let server = Server::start_with(&borrowed(&bucket_env(&s3)));
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    common::networks::add_instagram(&laptop, &instagram);
    laptop.ok(&["accounts", "push", "insta"]);
    let id = schedule_with_picture(&laptop, "A chart", "insta", 2);
    live(&laptop, &["sync"]);
    let session = token(&laptop);
    wait_for(
        Duration::from_secs(30),
        "the server did not publish to Instagram",
        || !instagram.media().is_empty(),
    );
    let published = &instagram.media()[0];
    assert!(published.caption.contains("A chart"), "{published:?}");
    assert_eq!(published.images.len(), 1, "{published:?}");
    assert_eq!(published.images[0].0, common::PNG_3X2);
    wait_for(
        Duration::from_secs(30),
        "the target did not settle as published",
        || targets(&server, &session, &id)[0].1 == "published",
    );
    let log = s3.log();
    assert!(
        log.iter()
            .any(|r| r.method == "PUT" && r.key.starts_with("postctl-server/public/")),
        "{log:?}"
    );
    let sha = sha256_hex(common::PNG_3X2);
    assert_eq!(
        s3.objects(),
        vec![format!("postctl-server/media/{sha}")],
        "the public copy is removed once published; the upload stays"
    );
}

/// Without a bucket, Instagram on the server cannot publish images: the account check
/// warns, and the attempt fails saying to configure `[media]`.
#[test]
fn instagram_on_a_server_without_a_bucket_says_to_configure_media() {
    let instagram = FakeInstagram::start();
    let server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    common::networks::add_instagram(&laptop, &instagram);
    laptop.ok(&["accounts", "push", "insta"]);
    let session = token(&laptop);
    let (status, accounts) = server.get("/api/v1/accounts", &session);
    assert_eq!(status, 200, "{accounts}");
    let account = accounts["items"]
        .as_array()
        .or_else(|| accounts.as_array())
        .and_then(|a| a.iter().find(|a| a["name"] == "insta"))
        .unwrap_or_else(|| panic!("insta in {accounts}"))
        .clone();
    let (status, check) = server.send(
        "POST",
        &format!(
            "/api/v1/accounts/{}/check",
            account["id"].as_str().unwrap_or_default()
        ),
        &session,
        "",
    );
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["ok"], true, "{check}");
    let warning = check["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("[media]"), "{check}");
    assert!(warning.contains("Instagram"), "{check}");

    let id = schedule_with_picture(&laptop, "A chart", "insta", 1);
    live(&laptop, &["sync"]);
    wait_for(Duration::from_secs(30), "the attempt did not fail", || {
        targets(&server, &session, &id)[0].1 == "failed"
    });
    let error = &targets(&server, &session, &id)[0].2;
    assert!(error.contains("no media bucket"), "{error}");
    assert!(error.contains("[media]"), "{error}");
    assert!(!error.contains("postctl media host set"), "{error}");
    assert!(instagram.media().is_empty());
}
