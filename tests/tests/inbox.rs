//! `postctl inbox` against a real `postctl-server`: the server's notifications for the
//! signed-in user, listed (all or unread, as a table or JSON) and marked read, one or all.
//! Notifications come from a real event: a post scheduled through the API, which the
//! user chose to hear of in the app.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::server::{PASSWORD, Server, token};
use serde_json::json;

#[test]
fn the_inbox_lists_the_servers_notifications_and_marks_them_read() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let env = Env::new();
    // Not linked yet: says how to sign in.
    let unlinked = env.fails(&["inbox"], 2);
    assert!(
        unlinked.stderr.contains("postctl login"),
        "{}",
        unlinked.stderr
    );
    env.ok_full(
        &["login", &server.base, "--user", "alice", "--password-stdin"],
        Some(PASSWORD),
        &[],
    );
    let session = token(&env);
    let empty = env.ok(&["inbox"]);
    assert!(
        empty.stderr.contains("No notifications."),
        "{}",
        empty.stderr
    );

    // alice chooses to hear of scheduled posts in the app, then schedules three.
    let (status, prefs) = server.send(
        "PUT",
        "/api/v1/notifications/preferences",
        &session,
        &json!({"events": {"post.scheduled": ["inapp"]}}).to_string(),
    );
    assert_eq!(status, 200, "{prefs}");
    for title in ["First", "Second", "Third"] {
        let (status, post) = server.send(
            "POST",
            "/api/v1/posts",
            &session,
            &json!({"body": format!("{title} post"), "title": title, "at": "2031-01-01T09:00:00Z"})
                .to_string(),
        );
        assert_eq!(status, 201, "{post}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let items = loop {
        let items = env.json(&["inbox", "--json"]);
        if items.as_array().map(Vec::len) == Some(3) {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "the notifications did not come: {items}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let items = items.as_array().expect("a list").clone();
    assert_eq!(items[0]["event_type"], "post.scheduled");
    assert_eq!(items[0]["title"], "[alice] Scheduled: “Third”");
    assert!(items.iter().all(|i| i["read"] == false));

    let table = env.ok(&["inbox"]);
    assert!(
        table.stdout.contains("[alice] Scheduled: “First”"),
        "{}",
        table.stdout
    );
    assert_eq!(
        table.stdout.matches("post.scheduled").count(),
        3,
        "{}",
        table.stdout
    );
    assert!(table.stderr.contains("3 unread"), "{}", table.stderr);

    let first = items[2]["id"].as_str().expect("id").to_string();
    let read = env.ok(&["inbox", "read", &first]);
    assert!(
        read.stderr.contains(&format!("Marked {first} read.")),
        "{}",
        read.stderr
    );
    let again = env.ok(&["inbox", "read", &first]);
    assert!(
        again.stderr.contains("was read already"),
        "{}",
        again.stderr
    );
    let unread = env.json(&["inbox", "--unread", "--json"]);
    assert_eq!(unread.as_array().map(Vec::len), Some(2), "{unread}");
    assert!(
        unread
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["id"] != first.as_str())
    );

    let missing = env.fails(
        &["inbox", "read", "0190f0e0-0000-7000-8000-00000000dead"],
        2,
    );
    assert!(
        missing.stderr.contains("no notification"),
        "{}",
        missing.stderr
    );
    let both = env.fails(&["inbox", "read", &first, "--all"], 2);
    assert!(both.stderr.contains("--all"), "{}", both.stderr);

    let all = env.json(&["inbox", "read", "--all", "--json"]);
    assert_eq!(all["marked"], 2);
    let none = env.ok(&["inbox", "--unread"]);
    assert!(
        none.stderr.contains("No unread notifications."),
        "{}",
        none.stderr
    );
    let limited = env.json(&["inbox", "--limit", "1", "--json"]);
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
}
