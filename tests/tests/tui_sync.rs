//! The dashboard of a database linked to a server (issue 13), in a real terminal: it syncs
//! in the background, its top bar says where it stands (synced, pending, offline), and a
//! post written on another device shows up without a key pressed.

mod common;

use std::time::Duration;

use common::server::{Server, device};
use common::terminal::Terminal;

#[test]
fn the_status_bar_shows_pending_then_synced_and_other_devices_posts_arrive() {
    let mut server = Server::start();
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let b = device(&server, "alice");
    let mut term = Terminal::start(&a, 160, 30);
    let long = Duration::from_secs(20);
    term.wait_for(&["November 2026", "synced "], long);

    // The server goes away; a draft written from the shell is pending, and the bar says
    // since when the server has not answered.
    server.stop();
    a.ok(&["draft", "new", "Written while the server was away"]);
    let screen = term.wait_for(&["offline since", "pending 1"], long);
    assert!(!screen.contains("synced "), "{screen}");

    // Back: the backoff finds the server, the draft goes, the bar says synced.
    server.restart();
    let screen = term.wait_for(&["synced "], long);
    assert!(!screen.contains("pending"), "{screen}");
    assert!(!screen.contains("offline"), "{screen}");
    let status = a.json(&["sync", "status"]);
    assert_eq!(status["pending"]["operations"], 0, "{status}");

    // Another device's post is pulled by the dashboard's sync and shown, live.
    b.ok(&["sync"]);
    b.ok(&["draft", "new", "Written on the other device"]);
    b.ok(&["sync"]);
    term.keys(&["2", "Tab"]);
    term.wait_for(
        &[
            "Written on the other device",
            "Written while the server was away",
        ],
        long,
    );

    term.keys(&["q"]);
    assert_eq!(term.wait_for_exit(Duration::from_secs(5)), 0);
}
