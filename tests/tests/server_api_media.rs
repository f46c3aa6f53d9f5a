//! A post made through the API carries media (issue 12, "The API"): a picture uploaded to
//! the server's media store (`PUT /api/v1/media/{sha256}`) and named by the post is
//! published by the server's own publisher to a fake Mastodon with the picture's bytes, and
//! a device that syncs the workspace sees the post with the picture (the same `media` field
//! a device's post travels in) and fetches the file. A file never uploaded is refused with
//! 422 `media-not-uploaded` and nothing is stored.

mod common;

use std::time::Duration;

use common::server::{PNG, Server, device, sha256_hex, token};
use common::wait_for;
use postctl_tests::fakes::FakeServer;
use postctl_tests::fakes::mastodon::FakeMastodon;
use serde_json::json;

#[test]
fn an_api_post_with_a_picture_is_published_and_synced_with_it() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("ada", &["--admin"]);
    let laptop = device(&server, "ada");
    let session = token(&laptop);
    server.ok(
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

    assert_eq!(server.upload(&session, PNG), 201);
    let created = server.ok("POST", "/api/v1/posts", &session, post(soon()));
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
