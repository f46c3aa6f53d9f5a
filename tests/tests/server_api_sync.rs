//! Posts written through the API reach devices that have synced already (issue 13,
//! "changes from other devices appear live"; issue 12, "The API"): every API write of a
//! post's synced fields is a version of the workspace's sync chain (device `api`), so a
//! device's next pull applies it as any device's change. Device A syncs first, so what it
//! sees afterwards comes through versions, not a snapshot.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::Env;
use common::server::{Server, device, token};
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

/// `PUT /api/v1/media/{sha256}` with the file's bytes: the status.
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

/// The device's live post `id` as `postctl list --all --json` shows it.
fn listed(env: &Env, id: &str) -> Option<Value> {
    env.json(&["list", "--all"])
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["id"] == id)
        .cloned()
}

/// A sync that must pull from versions (not a snapshot) and push nothing of its own.
fn pull(env: &Env) -> Value {
    let synced = env.json(&["sync"]);
    assert_eq!(synced["pushed"], 0, "{synced}");
    synced
}

#[test]
fn api_writes_reach_a_device_that_synced_already() {
    let server = Server::start();
    server.add_user("ada", &[]);
    let a = device(&server, "ada");
    let session = token(&a);
    // A has synced before the API writes anything: from now on it pulls versions.
    a.ok(&["draft", "new", "Written on A"]);
    a.ok(&["sync"]);

    assert_eq!(upload(&server, &session, PNG), 201);
    let sha = sha256_hex(PNG);
    let created = ok(
        &server,
        "POST",
        "/api/v1/posts",
        &session,
        json!({
            "body": "Made through the API",
            "title": "api",
            "media": [{"sha256": sha, "alt": "A single dot"}],
        }),
    );
    let id = created["id"].as_str().expect("a post id").to_string();
    assert!(listed(&a, &id).is_none(), "not on A before it syncs");
    pull(&a);
    let on_a = listed(&a, &id).expect("the API's post on A after a sync");
    assert_eq!(on_a["body"], "Made through the API", "{on_a}");
    assert_eq!(on_a["title"], "api", "{on_a}");
    let shown = a.json(&["status", &id]);
    assert_eq!(shown["post_id"], id.as_str(), "{shown}");
    assert_eq!(shown["published_by"], "server", "{shown}");
    let attached: Vec<(String, Option<String>)> = {
        let db = a.db();
        let mut stmt = db
            .prepare("SELECT sha256, alt FROM post_media WHERE post_id = ?1 ORDER BY position")
            .expect("prepare");
        stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(attached, vec![(sha.clone(), Some("A single dot".into()))]);
    assert_eq!(
        std::fs::read(a.data_dir().join("media").join(format!("{sha}.png")))
            .ok()
            .as_deref(),
        Some(PNG),
        "A fetched the picture"
    );

    // An edit through the API reaches A.
    ok(
        &server,
        "PATCH",
        &format!("/api/v1/posts/{id}"),
        &session,
        json!({"body": "Edited through the API"}),
    );
    pull(&a);
    let on_a = listed(&a, &id).expect("the post on A");
    assert_eq!(on_a["body"], "Edited through the API", "{on_a}");

    // A's edit after it is later: it wins on the server as any device's edit does.
    a.ok(&["draft", "edit", &id, "Edited on A"]);
    let synced = a.json(&["sync"]);
    assert!(synced["pushed"].as_u64().unwrap_or(0) > 0, "{synced}");
    let (status, on_server) = server.get(&format!("/api/v1/posts/{id}"), &session);
    assert_eq!(status, 200, "{on_server}");
    assert_eq!(on_server["body"], "Edited on A", "{on_server}");
    pull(&a);
    assert_eq!(
        listed(&a, &id).expect("the post on A")["body"],
        "Edited on A"
    );

    // Deleted through the API: gone from A after its next sync.
    let (status, answer) = server.send("DELETE", &format!("/api/v1/posts/{id}"), &session, "");
    assert_eq!(status, 204, "{answer}");
    pull(&a);
    assert!(listed(&a, &id).is_none(), "deleted through the API");
}
