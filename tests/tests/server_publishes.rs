//! The laptop can be closed while the server publishes (issue 13): where a post goes
//! travels up as its `targets` field, the server makes its own targets on the pushed
//! accounts of those names and publishes on time to a fake Mastodon, and a linked
//! database never publishes itself.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::server::{Server, device, token};
use postctl_tests::fakes::mastodon::FakeMastodon;
use serde_json::Value;

/// A command on the real clock, as the server's (the tests' clock starts at
/// `POSTCTL_NOW`, and every command starts it again: a later edit needs a later time).
fn live(env: &Env, args: &[&str]) -> common::Run {
    let now = chrono::Utc::now().to_rfc3339();
    env.ok_full(args, None, &[("POSTCTL_NOW", now.as_str())])
}

/// Schedules a new post `seconds` ahead to `to`; its id.
fn schedule(env: &Env, text: &str, to: &str, seconds: i64) -> String {
    let at = (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339();
    let out = live(env, &["--json", "schedule", text, "--to", to, "--at", &at]).json();
    out["post_id"]
        .as_str()
        .or_else(|| out["id"].as_str())
        .unwrap_or_else(|| panic!("a post id in {out}"))
        .to_string()
}

/// A device's `status` of a post the server published to masto: the URL it shows (JSON),
/// and the text.
fn published_on(env: &Env, id: &str) -> (String, String) {
    let shown = live(env, &["--json", "status", id]).json();
    assert_eq!(shown["published_by"], "server", "{shown}");
    let target = &shown["server_targets"][0];
    assert_eq!(target["account"], "masto", "{shown}");
    assert_eq!(target["state"], "published", "{shown}");
    assert_eq!(target["attempts"], 1, "{shown}");
    let url = target["url"]
        .as_str()
        .filter(|u| u.starts_with("http"))
        .unwrap_or_else(|| panic!("the network's URL in {shown}"))
        .to_string();
    (url, live(env, &["status", id]).stdout)
}

/// The server's view of a post's targets: (account, state).
fn server_targets(server: &Server, session: &str, id: &str) -> Vec<(String, String)> {
    let (status, post) = server.get(&format!("/api/v1/posts/{id}"), session);
    assert_eq!(status, 200, "{post}");
    post["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("targets in {post}"))
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap_or_default().to_string(),
                t["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_post_scheduled_on_a_laptop_that_is_then_closed_is_published_by_the_server_once() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    laptop.add_mastodon_on("masto", &mastodon);
    laptop.ok(&["accounts", "push", "masto"]);

    let id = schedule(&laptop, "Published while the laptop sleeps", "masto", 3);
    live(&laptop, &["sync"]);
    // The laptop is closed now: only the server runs.
    let session = token(&laptop);
    assert_eq!(
        server_targets(&server, &session, &id),
        vec![("masto".to_string(), "scheduled".to_string())]
    );
    let started = Instant::now();
    while mastodon.posts().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not publish the synced post"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let published_after = started.elapsed();
    assert!(
        published_after > Duration::from_millis(1500),
        "published {published_after:?} after the sync: before its time"
    );
    assert!(
        mastodon.posts()[0]
            .text
            .contains("Published while the laptop sleeps")
    );
    let settled = Instant::now();
    while server_targets(&server, &session, &id)[0].1 != "published" {
        assert!(settled.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }

    // Another device signs in and syncs: the server's result comes down with the post.
    let desk = device(&server, "alice");
    live(&desk, &["sync"]);
    let (url, on_desk) = published_on(&desk, &id);
    assert!(on_desk.contains("published by the server"), "{on_desk}");
    assert!(on_desk.contains(&url), "{on_desk}");

    // The laptop opens again: its own engine never publishes a post of a linked
    // database, so the fake still has exactly one status; a sync shows the result.
    live(&laptop, &["run-due"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(mastodon.posts().len(), 1, "published twice");
    live(&laptop, &["sync"]);
    let (on_laptop, shown) = published_on(&laptop, &id);
    assert_eq!(on_laptop, url);
    assert!(shown.contains("published by the server"), "{shown}");
}

#[test]
fn a_post_to_an_account_the_server_lacks_waits_for_the_push_and_sync_status_says_so() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    laptop.add_mastodon_on("masto", &mastodon);

    let id = schedule(&laptop, "Waits for its account", "masto", 3600);
    let synced = live(&laptop, &["sync"]);
    let hint = "account masto is not on the server, which cannot publish to it: run `postctl accounts push masto`";
    assert!(synced.stderr.contains(hint), "{}", synced.stderr);
    let status = laptop.ok(&["sync", "status"]).stdout;
    assert!(status.contains(hint), "{status}");
    let json: Value = laptop.json(&["sync", "status"]);
    assert_eq!(json["missing_accounts"][0]["name"], "masto", "{json}");
    assert_eq!(json["missing_accounts"][0]["posts"], 1, "{json}");
    let session = token(&laptop);
    assert!(server_targets(&server, &session, &id).is_empty());

    // Pushing the account makes the waiting target on the server, at the post's time.
    laptop.ok(&["accounts", "push", "masto"]);
    assert_eq!(
        server_targets(&server, &session, &id),
        vec![("masto".to_string(), "scheduled".to_string())]
    );
    live(&laptop, &["sync"]);
    let json: Value = laptop.json(&["sync", "status"]);
    assert_eq!(json["missing_accounts"], Value::Array(vec![]), "{json}");

    // Cancelling on the device cancels the server's target at the next sync.
    live(&laptop, &["cancel", &id]);
    live(&laptop, &["sync"]);
    assert_eq!(
        server_targets(&server, &session, &id),
        vec![("masto".to_string(), "cancelled".to_string())]
    );
    assert!(mastodon.posts().is_empty());
}

/// A synced post's pictures go out with it: the device uploads the file by hash, and the
/// server publishes the post with it (and its alt text), not just the text.
#[test]
fn the_server_publishes_a_synced_posts_media() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    laptop.add_mastodon_on("masto", &mastodon);
    laptop.ok(&["accounts", "push", "masto"]);
    let png = laptop.file("shot.png", common::PNG_3X2);
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let scheduled = live(
        &laptop,
        &[
            "--json",
            "schedule",
            "With a picture",
            "--to",
            "masto",
            "--at",
            &at,
            "--media",
            png.to_str().expect("utf-8 path"),
            "--alt",
            "a red square",
        ],
    )
    .json();
    assert!(scheduled.is_object(), "{scheduled}");
    live(&laptop, &["sync"]);
    let started = Instant::now();
    while mastodon.posts().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not publish the synced post"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = &mastodon.posts()[0];
    assert!(sent.text.contains("With a picture"), "{sent:?}");
    assert_eq!(
        sent.media.len(),
        1,
        "published without its picture: {sent:?}"
    );
    assert_eq!(sent.media[0].mime, "image/png", "{sent:?}");
    assert_eq!(sent.media[0].alt.as_deref(), Some("a red square"));
}

/// The README's "Use a server" walkthrough, step by step: one server, two devices of the
/// same user, a post scheduled on the laptop, edited on the desk, and published by the
/// server with the edited text while neither device runs; both show the result once
/// they sync again.
#[test]
fn the_use_a_server_walkthrough_a_post_scheduled_on_one_device_edited_on_another_published_while_both_are_offline()
 {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("alice", &[]);

    // Both devices sign in. The laptop adds the account, sends it to the server,
    // schedules the post and syncs.
    let laptop = device(&server, "alice");
    let desk = device(&server, "alice");
    laptop.add_mastodon_on("masto", &mastodon);
    laptop.ok(&["accounts", "push", "masto"]);
    let id = schedule(&laptop, "Launch day, first draft", "masto", 8);
    live(&laptop, &["sync"]);

    // The desk syncs, edits the text, syncs.
    live(&desk, &["sync"]);
    let on_desk = live(&desk, &["--json", "list", "--all"]).json();
    assert_eq!(on_desk[0]["id"], id, "{on_desk}");
    // The desk has no account of its own: the row shows the server's target.
    let listing = live(&desk, &["list", "--all"]).stdout;
    let row = listing
        .lines()
        .find(|l| l.contains("Launch day, first draft"))
        .unwrap_or_else(|| panic!("the laptop's post on the desk: {listing}"));
    assert!(
        row.contains("scheduled (server)") && row.contains("masto"),
        "{listing}"
    );
    live(
        &desk,
        &["draft", "edit", &id, "Launch day! Edited on the desk"],
    );
    live(&desk, &["sync"]);
    let edited_at = Instant::now();
    assert!(mastodon.posts().is_empty(), "published before the edit");

    // Both devices are off now: only the server runs, and publishes the edited text once.
    while mastodon.posts().is_empty() {
        assert!(
            edited_at.elapsed() < Duration::from_secs(40),
            "the server did not publish the post"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let sent = mastodon.posts();
    assert_eq!(sent.len(), 1, "published more than once");
    assert!(
        sent[0].text.contains("Launch day! Edited on the desk"),
        "not the edited text: {}",
        sent[0].text
    );

    // Both come back and sync: each shows the post published by the server, with its URL.
    let session = token(&laptop);
    let settled = Instant::now();
    while server_targets(&server, &session, &id)[0].1 != "published" {
        assert!(settled.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }
    live(&laptop, &["sync"]);
    live(&desk, &["sync"]);
    let (url, shown) = published_on(&laptop, &id);
    assert!(shown.contains(&url), "{shown}");
    let (on_desk, shown) = published_on(&desk, &id);
    assert_eq!(on_desk, url);
    assert!(shown.contains(&url), "{shown}");
    for env in [&laptop, &desk] {
        let listing = live(env, &["list", "--all"]).stdout;
        assert!(listing.contains("published (server)"), "{listing}");
        let json = live(env, &["--json", "list", "--all"]).json();
        assert_eq!(json[0]["server_targets"][0]["url"], url.as_str(), "{json}");
        assert_eq!(json[0]["body"], "Launch day! Edited on the desk", "{json}");
    }
}
