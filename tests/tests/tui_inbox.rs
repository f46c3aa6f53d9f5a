//! The dashboard's inbox in a real terminal: the linked server's notifications for the
//! signed-in user, unread first, marked read with a key, and read again by the worker
//! while the view is shown, so a new notification appears without a key pressed.

mod common;

use std::time::Duration;

use common::server::{Server, device, token};
use common::terminal::Terminal;
use serde_json::json;

fn schedule(server: &Server, session: &str, title: &str) {
    let (status, post) = server.send(
        "POST",
        "/api/v1/posts",
        session,
        &json!({"body": format!("{title} post"), "title": title, "at": "2031-01-01T09:00:00Z"})
            .to_string(),
    );
    assert_eq!(status, 201, "{post}");
}

/// Waits until the server has routed `n` notifications to the device's user.
fn inbox_has(env: &common::Env, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let items = env.json(&["inbox"]);
        let items = items.as_array().expect("a list").clone();
        if items.len() >= n {
            return items;
        }
        assert!(std::time::Instant::now() < deadline, "{items:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_inbox_view_lists_unread_first_marks_read_and_refreshes() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let alice = device(&server, "alice");
    let session = token(&alice);
    let (status, prefs) = server.send(
        "PUT",
        "/api/v1/notifications/preferences",
        &session,
        &json!({"events": {"post.scheduled": ["inapp"]}}).to_string(),
    );
    assert_eq!(status, 200, "{prefs}");
    schedule(&server, &session, "Alpha");
    schedule(&server, &session, "Bravo");
    // The newer one is read already: the older, unread, comes first.
    let items = inbox_has(&alice, 2);
    let bravo = items[0]["id"].as_str().expect("an id").to_string();
    alice.ok(&["inbox", "read", &bravo]);

    let mut term = Terminal::start(&alice, 140, 30);
    let long = Duration::from_secs(20);
    term.wait_for(&["1 Calendar", "7 Inbox"], long);
    term.keys(&["7"]);
    let screen = term.wait_for(
        &[
            "Inbox · 1 unread",
            "Scheduled: “Alpha”",
            "Scheduled: “Bravo”",
        ],
        long,
    );
    let alpha_at = screen.find("“Alpha”").expect("Alpha");
    let bravo_at = screen.find("“Bravo”").expect("Bravo");
    assert!(alpha_at < bravo_at, "unread first:\n{screen}");

    term.keys(&["m"]);
    term.wait_for(&["marked 1 read", "Inbox · 0 unread"], long);
    let unread = alice.json(&["inbox", "--unread"]);
    assert_eq!(unread, json!([]), "marked on the server");

    // A new notification arrives while the view is shown: the worker reads it again.
    schedule(&server, &session, "Charlie");
    term.wait_for(
        &["Inbox · 1 unread", "Scheduled: “Charlie”"],
        Duration::from_secs(40),
    );

    term.keys(&["M"]);
    term.wait_for(&["marked 1 read", "Inbox · 0 unread"], long);
    term.keys(&["q"]);
    assert_eq!(term.wait_for_exit(Duration::from_secs(5)), 0);
}
