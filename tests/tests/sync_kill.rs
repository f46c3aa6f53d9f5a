//! Sync cut off by a SIGKILL (issue 13), with real processes: a device pushes thousands
//! of posts (many versions), and the server, or the device's `postctl sync`, is killed
//! once the first versions are in. After a restart `postctl sync` completes, the server
//! holds every post once with its text, and a new device gets exactly those posts.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use common::server::{Server, device};

const POSTS: usize = 3_000;

/// A device holding `POSTS` drafts, imported in one go.
fn loaded_device(server: &Server) -> (Env, BTreeSet<String>) {
    let env = device(server, "alice");
    let bodies: BTreeSet<String> = (0..POSTS).map(|i| format!("Post number {i}")).collect();
    let rows: Vec<serde_json::Value> = bodies
        .iter()
        .map(|b| serde_json::json!({ "text": b }))
        .collect();
    let file = env.file("posts.json", serde_json::to_vec(&rows).expect("json"));
    env.ok(&["import", file.to_str().expect("a path")]);
    (env, bodies)
}

fn server_db(server: &Server) -> rusqlite::Connection {
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir().join("server.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the server's database");
    db.busy_timeout(Duration::from_secs(5)).expect("timeout");
    db
}

/// Each operation the server's versions hold (post, field, time, device), and how many
/// versions hold it: a batch pushed again after the cut must not be stored twice.
fn operations_stored(server: &Server) -> BTreeMap<(String, String, i64, String), usize> {
    let db = server_db(server);
    let mut stmt = db
        .prepare("SELECT payload FROM sync_versions ORDER BY seq")
        .expect("prepare");
    let payloads: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .expect("versions");
    let mut seen = BTreeMap::new();
    for payload in payloads {
        let ops: Vec<serde_json::Value> = serde_json::from_str(&payload).expect("a payload");
        for op in ops {
            let key = (
                op["post"].as_str().expect("post").to_string(),
                op["field"].as_str().expect("field").to_string(),
                op["at_ms"].as_i64().expect("at_ms"),
                op["device"].as_str().expect("device").to_string(),
            );
            *seen.entry(key).or_insert(0) += 1;
        }
    }
    seen
}

/// The server's versions, and its live posts' bodies (each once, or the test fails).
fn on_server(server: &Server) -> (i64, BTreeSet<String>) {
    let db = server_db(server);
    let versions: i64 = db
        .query_row("SELECT count(*) FROM sync_versions", [], |r| r.get(0))
        .unwrap_or(0);
    let mut stmt = db
        .prepare("SELECT body FROM posts WHERE deleted_ms IS NULL")
        .expect("prepare");
    let list: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .expect("posts");
    let bodies: BTreeSet<String> = list.iter().cloned().collect();
    assert_eq!(bodies.len(), list.len(), "a post is on the server twice");
    (versions, bodies)
}

/// Starts `postctl sync` and waits until the server has stored two versions of it: the
/// device has had the answer to the first (and marked what it may) when it is cut off.
fn sync_under_way(env: &Env, server: &Server) -> Child {
    let child = env
        .command(&["sync"], &[])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postctl sync starts");
    let start = Instant::now();
    while on_server(server).0 < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no version reached the server"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

/// After the cut: the device syncs to the end, the server holds each post once, and a
/// new device gets exactly those posts.
fn check_nothing_lost_or_doubled(server: &Server, env: &Env, bodies: &BTreeSet<String>) {
    let synced = env.json(&["sync"]);
    assert!(synced["version"].is_string(), "{synced}");
    let status = env.json(&["sync", "status"]);
    assert_eq!(status["pending"]["operations"], 0, "{status}");
    let (_, on_server) = on_server(server);
    assert_eq!(&on_server, bodies, "the server holds every post once");
    let stored = operations_stored(server);
    // Each post's creation and its seven fields.
    assert_eq!(
        stored.len(),
        POSTS * 8,
        "every operation reached the server"
    );
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} operations are stored in more than one version, e.g. {:?}",
        twice.len(),
        twice.first()
    );
    let newcomer = device(server, "alice");
    let pulled = newcomer.json(&["sync"]);
    assert_eq!(pulled["pushed"], 0, "{pulled}");
    assert!(
        pulled["snapshot_pages"].as_u64().unwrap_or(0) > 1,
        "a new device catches up from a snapshot of several pages: {pulled}"
    );
    // Every post applied once: one post row each, its creation received once, each of
    // its fields written once.
    let db = rusqlite::Connection::open(newcomer.db_path()).expect("the new device's db");
    let most: i64 = db
        .query_row(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM oplog
             WHERE entity = 'post' GROUP BY entity_id, field)",
            [],
            |r| r.get(0),
        )
        .expect("oplog");
    assert_eq!(most, 1, "a post's field was applied more than once");
    let received: i64 = db
        .query_row(
            "SELECT count(*) FROM oplog WHERE entity = 'post' AND field = 'received'",
            [],
            |r| r.get(0),
        )
        .expect("oplog");
    assert_eq!(received as usize, POSTS, "each post received once");
    let list = newcomer.json(&["list", "--all"]);
    let list: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["body"].as_str().expect("a body").to_string())
        .collect();
    assert_eq!(list.len(), POSTS, "each post once on a new device");
    assert_eq!(&list.into_iter().collect::<BTreeSet<_>>(), bodies);
}

#[test]
fn the_server_killed_in_the_middle_of_a_push_loses_and_doubles_nothing() {
    let mut server = Server::start();
    server.add_user("alice", &[]);
    let (a, bodies) = loaded_device(&server);
    let mut sync = sync_under_way(&a, &server);
    server.stop(); // SIGKILL
    let (versions, _) = on_server(&server);
    let status = sync.wait().expect("postctl sync ends");
    assert!(
        !status.success(),
        "the sync was cut off after {versions} version(s)"
    );
    let (_, partial) = on_server(&server);
    assert!(
        partial.len() < POSTS,
        "killed in the middle: {}",
        partial.len()
    );
    server.restart();
    check_nothing_lost_or_doubled(&server, &a, &bodies);
}

#[test]
fn a_device_killed_during_a_sync_loses_and_doubles_nothing() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let (a, bodies) = loaded_device(&server);
    let mut sync = sync_under_way(&a, &server);
    let _ = sync.kill(); // SIGKILL
    let _ = sync.wait();
    let (_, partial) = on_server(&server);
    assert!(
        partial.len() < POSTS,
        "killed in the middle: {}",
        partial.len()
    );
    check_nothing_lost_or_doubled(&server, &a, &bodies);
}
