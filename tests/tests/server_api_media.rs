//! A post made through the API carries media (issue 12, "The API"): a picture uploaded to
//! the server's media store (`PUT /api/v1/media/{sha256}`) and named by the post is
//! published by the server's own publisher to a fake Mastodon with the picture's bytes, and
//! a device that syncs the workspace sees the post with the picture (the same `media` field
//! a device's post travels in) and fetches the file. A file never uploaded is refused with
//! 422 `media-not-uploaded` and nothing is stored.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::server::{Server, device, token};
use postctl_tests::fakes::FakeServer;
use postctl_tests::fakes::mastodon::FakeMastodon;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `PUT /api/v1/media/{sha256}` with the file's bytes, as the README's curl does: the
/// status.
fn upload(server: &Server, session: &str, bytes: &[u8]) -> u16 {
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect to the server");
    write!(
        stream,
        "PUT /api/v1/media/{} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {session}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        sha256_hex(bytes),
        bytes.len()
    )
    .expect("send");
    stream.write_all(bytes).expect("send the file");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status")
}

fn ok(server: &Server, method: &str, path: &str, session: &str, body: Value) -> Value {
    let (status, answer) = server.send(method, path, session, &body.to_string());
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_api_post_with_a_picture_is_published_and_synced_with_it() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("ada", &["--admin"]);
    let laptop = device(&server, "ada");
    let session = token(&laptop);
    ok(
        &server,
        "POST",
        "/api/v1/accounts",
        &session,
        json!({
            "name": "masto",
            "network": "mastodon",
            "base_url": mastodon.base_url(),
            "credentials": {"token": FakeMastodon::TOKEN},
        }),
    );
    let sha = sha256_hex(PNG);
    let soon = || (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let post = |at: String| {
        json!({
            "body": "A dot, seen from far away",
            "accounts": ["masto"],
            "at": at,
            "media": [{"sha256": sha, "alt": "A single dot"}],
        })
    };

    // Not uploaded yet: refused, saying how to upload it, and nothing is stored.
    let (status, problem) =
        server.send("POST", "/api/v1/posts", &session, &post(soon()).to_string());
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "urn:postctl:problem:media-not-uploaded");
    assert_eq!(problem["missing"], json!([sha]));
    let (_, listed) = server.get("/api/v1/posts", &session);
    assert_eq!(listed["items"], json!([]), "{listed}");

    assert_eq!(upload(&server, &session, PNG), 201);
    let created = ok(&server, "POST", "/api/v1/posts", &session, post(soon()));
    let id = created["id"].as_str().expect("a post id").to_string();
    assert_eq!(created["media"][0]["mime"], "image/png", "{created}");

    // The server publishes it with the picture: its bytes, its alt text.
    wait_for(Duration::from_secs(30), "the fake to hold the post", || {
        !mastodon.posts().is_empty()
    });
    let published = mastodon.posts();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].text, "A dot, seen from far away");
    assert_eq!(published[0].media.len(), 1, "{:?}", published[0]);
    assert_eq!(published[0].media[0].mime, "image/png");
    assert_eq!(published[0].media[0].alt.as_deref(), Some("A single dot"));
    assert!(
        mastodon.media_bytes() == vec![PNG.to_vec()],
        "the fake received other bytes than the picture's"
    );

    // A device joining the workspace sees the post with the picture, and fetches the file.
    let phone = device(&server, "ada");
    phone.ok(&["sync"]);
    let attached: Vec<(String, Option<String>, String, i64)> = {
        let db = phone.db();
        let mut stmt = db
            .prepare(
                "SELECT m.sha256, pm.alt, m.mime, m.width FROM post_media pm
                 JOIN media m ON m.sha256 = pm.sha256 WHERE pm.post_id = ?1 ORDER BY pm.position",
            )
            .expect("prepare");
        stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        attached,
        vec![(
            sha.clone(),
            Some("A single dot".to_string()),
            "image/png".to_string(),
            1
        )]
    );
    let body: String = phone
        .db()
        .query_row("SELECT body FROM posts WHERE id = ?1", [&id], |r| r.get(0))
        .expect("the post on the phone");
    assert_eq!(body, "A dot, seen from far away");
    let file = phone.data_dir().join("media").join(format!("{sha}.png"));
    assert_eq!(
        std::fs::read(&file).ok().as_deref(),
        Some(PNG),
        "{} holds the picture",
        file.display()
    );
}
