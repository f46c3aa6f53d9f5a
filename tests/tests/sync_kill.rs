//! Sync cut off by a SIGKILL (issue 13), with real processes: a device pushes thousands
//! of posts (many versions), and the server, or the device's `postctl sync`, is killed
//! once the first versions are in. After a restart `postctl sync` completes, the server
//! holds every post once with its text, and a new device gets exactly those posts.

mod common;

use std::collections::BTreeSet;
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

/// The server's versions, and its live posts' bodies (each once, or the test fails).
fn on_server(server: &Server) -> (i64, BTreeSet<String>) {
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir().join("server.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the server's database");
    db.busy_timeout(Duration::from_secs(5)).expect("timeout");
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

/// Starts `postctl sync` and waits until the server has stored a version of it.
fn sync_under_way(env: &Env, server: &Server) -> Child {
    let child = env
        .command(&["sync"], &[])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postctl sync starts");
    let start = Instant::now();
    while on_server(server).0 == 0 {
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
    let newcomer = device(server, "alice");
    let pulled = newcomer.json(&["sync"]);
    assert_eq!(pulled["pushed"], 0, "{pulled}");
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
