//! Posts the server makes by itself reach devices that have synced already (issue 13,
//! "changes from other devices appear live"; issue 14's feeds and triggers): a feed item
//! and a trigger firing (queued or not) are stored with their fields stamped and one
//! version of the workspace's sync chain each (devices `feed` and `trigger`), so a device's
//! next `postctl sync` pulls them as any device's change, not from a snapshot.

mod common;

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::Env;
use common::server::{MAKER_SETTINGS, Server, device, token};
use common::wait_for;
use postctl_tests::fakes::{FakeFeed, FeedEntry};
use serde_json::{Value, json};

/// The workspace's posts on the server, newest first.
fn server_posts(server: &Server, session: &str) -> Vec<Value> {
    let (status, page) = server.get("/api/v1/posts?limit=100", session);
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").clone()
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

fn fire(server: &Server, session: &str, trigger: &Value, title: &str) -> Value {
    let (status, post) = server.send(
        "POST",
        &format!("/api/v1/triggers/{}", trigger["id"].as_str().expect("id")),
        session,
        &json!({ "title": title, "link": "https://deploy.example.test/7" }).to_string(),
    );
    assert_eq!(status, 201, "{post}");
    post
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a time: {value}"))
}

#[test]
fn feed_items_and_trigger_firings_reach_a_device_that_synced_already() {
    let server = Server::start_with(MAKER_SETTINGS);
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let session = token(&a);
    server.add_mastodon(
        &session,
        "masto",
        "https://social.example.test",
        "a-mastodon-token",
    );
    server.put_template(&session, "blog", "New: {{ title }}\n\n{{ link }}");

    // A has synced before the server makes anything: from now on it pulls versions.
    a.ok(&["draft", "new", "Written on A"]);
    a.ok(&["sync"]);

    // A feed item that appears after the feed's first read becomes a post on the server.
    let feed = FakeFeed::start();
    let old = FeedEntry::new("post-1", "Old news", "https://blog.example.test/1");
    feed.set_rss(std::slice::from_ref(&old));
    a.ok(&[
        "feeds",
        "add",
        &feed.url(),
        "--to",
        "masto",
        "--template",
        "blog",
    ]);
    wait_for(Duration::from_secs(30), "the feed's first read", || {
        !a.json(&["feeds", "list", "--json"])[0]["last_polled_at"].is_null()
    });
    let fresh = FeedEntry::new("post-2", "Fresh news", "https://blog.example.test/2");
    feed.set_rss(&[fresh, old]);
    let mut from_feed = None;
    wait_for(Duration::from_secs(30), "the feed item's post", || {
        from_feed = server_posts(&server, &session)
            .into_iter()
            .find(|p| p["body"] == "New: Fresh news\n\nhttps://blog.example.test/2");
        from_feed.is_some()
    });
    let from_feed = from_feed.expect("the feed's post");

    // A generic trigger fires; a queued one takes masto's next slot.
    let trigger = a.json(&[
        "triggers",
        "add",
        "generic",
        "--template",
        "blog",
        "--to",
        "masto",
        "--json",
    ]);
    let fired = fire(&server, &session, &trigger, "Deployed");
    let slot = Utc::now()
        .duration_trunc(TimeDelta::minutes(1))
        .expect("a minute")
        + TimeDelta::hours(3);
    let rule = format!("daily {}", slot.format("%H:%M"));
    a.ok(&["queue", "slots", "set", "masto", &rule, "--tz", "UTC"]);
    let queued_trigger = a.json(&[
        "triggers",
        "add",
        "generic",
        "--template",
        "blog",
        "--to",
        "masto",
        "--queue",
        "--json",
    ]);
    let queued = fire(&server, &session, &queued_trigger, "Deployed later");
    assert_eq!(time(&queued["scheduled_at"]), slot, "{queued}");

    for made in [&from_feed, &fired, &queued] {
        let id = made["id"].as_str().expect("id");
        assert!(listed(&a, id).is_none(), "not on A before it syncs");
    }
    // A's next sync pulls the three posts as versions: no snapshot, nothing pushed.
    let synced = a.json(&["sync"]);
    assert_eq!(synced["snapshot_pages"], 0, "{synced}");
    assert_eq!(synced["pushed"], 0, "{synced}");
    assert!(synced["pulled"].as_u64().unwrap_or(0) >= 3, "{synced}");
    for made in [&from_feed, &fired, &queued] {
        let id = made["id"].as_str().expect("id");
        let on_a = listed(&a, id).unwrap_or_else(|| panic!("{id} on A after a sync"));
        assert_eq!(on_a["body"], made["body"], "{on_a}");
    }
    let on_a = listed(&a, queued["id"].as_str().expect("id")).expect("the queued post");
    assert_eq!(
        time(&on_a["due"]),
        slot,
        "the slot the server picked: {on_a}"
    );
    let on_a = listed(&a, fired["id"].as_str().expect("id")).expect("the fired post");
    assert!(!on_a["due"].is_null(), "due now: {on_a}");

    // `postctl list` shows them with the rest.
    let list = a.ok(&["list", "--all"]).stdout;
    for text in ["New: Fresh news", "New: Deployed", "New: Deployed later"] {
        assert!(list.contains(text), "{text} in:\n{list}");
    }
}
