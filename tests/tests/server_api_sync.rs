//! Posts written through the API reach devices that have synced already (issue 13,
//! "changes from other devices appear live"; issue 12, "The API"): every API write of a
//! post's synced fields is a version of the workspace's sync chain (device `api`), so a
//! device's next pull applies it as any device's change. Device A syncs first, so what it
//! sees afterwards comes through versions, not a snapshot.

mod common;

use common::Env;
use common::server::{PNG, Server, device, sha256_hex, token};
use serde_json::{Value, json};

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

    assert_eq!(server.upload(&session, PNG), 201);
    let sha = sha256_hex(PNG);
    let created = server.ok(
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
    server.ok(
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
