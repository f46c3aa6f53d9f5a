//! The server's posting queue (issue 14) through `postctl` on a linked database and a real
//! `postctl-server`: `postctl queue slots set` puts a server account's slots on the
//! server, a feed added with `--queue` posts three new items at three consecutive free
//! slots (skipping one a post made by hand holds), a GitHub release through a trigger
//! with `--queue` takes the next one, and `--queue` without slots is refused (exit 2 on
//! the CLI, 422 `no-queue-slots` on the API) storing nothing.
//!
//! The slots are a few hours after the real now, in UTC, so the test never waits for one.

mod common;

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::Env;
use common::server::{MAKER_SETTINGS, Server, device, github_signature, token};
use common::wait_for;
use postctl_tests::fakes::{FakeFeed, FakeMastodon, FakeServer, FeedEntry};
use serde_json::{Value, json};

/// A server with alice, her linked device, accounts `masto` and `fosstodon`, a template `blog`.
fn setup() -> (Server, Env, String) {
    let server = Server::start_with(MAKER_SETTINGS);
    server.add_user("alice", &[]);
    let env = device(&server, "alice");
    let session = token(&env);
    for (name, base) in [
        ("masto", "https://social.example.test"),
        ("fosstodon", "https://fosstodon.example.test"),
    ] {
        server.add_mastodon(&session, name, base, "a-token");
    }
    server.put_template(&session, "blog", "New: {{ title }}\n\n{{ link }}");
    (server, env, session)
}

/// Four slots an hour apart, from two hours after now (whole minutes, UTC): the rule
/// and the instants.
fn slots_from_now() -> (String, Vec<DateTime<Utc>>) {
    let base = Utc::now()
        .duration_trunc(TimeDelta::minutes(1))
        .expect("a minute");
    let at: Vec<DateTime<Utc>> = (2..=5).map(|h| base + TimeDelta::hours(h)).collect();
    let times: Vec<String> = at.iter().map(|t| t.format("%H:%M").to_string()).collect();
    (format!("daily {}", times.join(",")), at)
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a time: {value}"))
}

/// The workspace's posts, oldest first.
fn posts(server: &Server, session: &str) -> Vec<Value> {
    let (status, page) = server.get("/api/v1/posts?limit=100", session);
    assert_eq!(status, 200, "{page}");
    let mut items = page["items"].as_array().expect("items").clone();
    items.reverse();
    items
}

#[test]
fn queued_feed_items_and_releases_take_consecutive_free_slots() {
    let (server, env, session) = setup();
    let feed = FakeFeed::start();
    let old = FeedEntry::new("post-0", "Old", "https://blog.example.test/0");
    feed.set_rss(std::slice::from_ref(&old));

    // No slots yet: the feed is refused, saying what to run; nothing is stored.
    let url = feed.url();
    let add = |extra: &[&str]| -> Vec<String> {
        ["feeds", "add", &url, "--to", "masto", "--template", "blog"]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect()
    };
    let refused = env.fails(&strs(&add(&["--queue"])), 2);
    assert!(
        refused
            .stderr
            .contains("set them first with `postctl queue slots set masto"),
        "{}",
        refused.stderr
    );
    assert_eq!(env.json(&["feeds", "list", "--json"]), json!([]));

    // A rule core cannot read: the local words, exit 2, nothing on the server.
    let bad = env.fails(&["queue", "slots", "set", "masto", "mon-fri 25:00"], 2);
    assert!(bad.stderr.contains("25:00"), "{}", bad.stderr);
    let (status, problem) = server.send(
        "PUT",
        "/api/v1/accounts/masto/queue",
        &session,
        &json!({ "rules": "mon-fri 25:00", "tz": "UTC" }).to_string(),
    );
    assert_eq!(status, 422, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    let said = bad.stderr.trim().trim_start_matches("error: ");
    assert!(detail.contains(said), "{detail} / {said}");
    assert_eq!(server.get("/api/v1/queue", &session).1["items"], json!([]));

    // Slots on the server through the local command.
    let (rules, slot) = slots_from_now();
    let set = env.ok(&["queue", "slots", "set", "masto", &rules, "--tz", "UTC"]);
    assert!(set.stderr.contains("on the server"), "{}", set.stderr);
    let (status, on_server) = server.get("/api/v1/accounts/masto/queue", &session);
    assert_eq!(status, 200, "{on_server}");
    assert_eq!(
        (on_server["rules"].as_str(), on_server["tz"].as_str()),
        (Some(rules.as_str()), Some("UTC"))
    );
    assert_eq!(time(&on_server["next_free"][0]), slot[0]);

    // A post made by hand holds the first slot.
    let (status, held) = server.send(
        "POST",
        "/api/v1/posts",
        &session,
        &json!({
            "body": "By hand", "accounts": ["masto"],
            "at": slot[0].to_rfc3339(),
        })
        .to_string(),
    );
    assert_eq!(status, 201, "{held}");
    let listed = env.json(&["queue", "slots", "list", "--json"]);
    assert_eq!(listed[0]["where"], "server", "{listed}");
    assert_eq!(time(&listed[0]["next_free"][0]), slot[1], "{listed}");

    // The feed with --queue: three new items, oldest first, at the next three free slots.
    let made = env.json(&strs(&add(&["--queue", "--json"])));
    assert_eq!(made["queue"], true, "{made}");
    wait_for(Duration::from_secs(30), "the first poll", || {
        !env.json(&["feeds", "list", "--json"])[0]["last_polled_at"].is_null()
    });
    let items: Vec<FeedEntry> = (1..=3)
        .map(|n| {
            FeedEntry::new(
                &format!("post-{n}"),
                &format!("Item {n}"),
                &format!("https://blog.example.test/{n}"),
            )
        })
        .collect();
    let mut document: Vec<FeedEntry> = items.iter().rev().cloned().collect();
    document.push(old.clone());
    feed.set_rss(&document);
    wait_for(Duration::from_secs(30), "three posts", || {
        posts(&server, &session).len() == 4
    });
    let all = posts(&server, &session);
    for (n, at) in slot.iter().enumerate().skip(1) {
        let title = format!("New: Item {n}\n");
        let post = all
            .iter()
            .find(|p| p["body"].as_str().is_some_and(|b| b.starts_with(&title)))
            .unwrap_or_else(|| panic!("{title}: {all:#?}"));
        assert_eq!(time(&post["scheduled_at"]), *at, "{title}: {post}");
    }
    assert_eq!(
        env.json(&["feeds", "list", "--json"])[0]["last_error"],
        Value::Null
    );

    // A GitHub release through a trigger with --queue for masto and fosstodon: masto's four
    // slots today are held, so tomorrow's first.
    let trigger = env.json(&[
        "triggers",
        "add",
        "github",
        "--template",
        "release",
        "--to",
        "masto,fosstodon",
        "--queue",
        "--json",
    ]);
    assert_eq!(trigger["queue"], true, "{trigger}");
    let release = json!({
        "action": "published",
        "release": {
            "id": 99_001, "tag_name": "v2.0.0", "name": "v2.0.0", "draft": false,
            "prerelease": false, "body": "Big.",
            "html_url": "https://github.com/octo/hello/releases/tag/v2.0.0",
        },
        "repository": { "name": "hello", "full_name": "octo/hello",
                        "html_url": "https://github.com/octo/hello" },
    })
    .to_string();
    let path = format!(
        "/api/v1/triggers/github/{}",
        trigger["id"].as_str().expect("id")
    );
    let secret = trigger["secret"].as_str().expect("secret");
    let signature = github_signature(secret, &release);
    let headers = [
        ("X-GitHub-Event", "release"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    let (status, post) = server.request("POST", &path, &headers, &release);
    assert_eq!(status, 201, "{post}");
    let tomorrow = slot[0] + TimeDelta::days(1);
    assert_eq!(time(&post["scheduled_at"]), tomorrow, "{post}");
    for target in post["targets"].as_array().expect("targets") {
        assert_eq!(time(&target["due_at"]), tomorrow, "{target}");
    }

    // With fosstodon first, which has no slots: refused on the CLI; and a queued trigger
    // whose account lost its slots answers 422 and stores nothing.
    let refused = env.fails(
        &[
            "triggers",
            "add",
            "generic",
            "--template",
            "blog",
            "--to",
            "fosstodon",
            "--queue",
        ],
        2,
    );
    assert!(
        refused.stderr.contains("postctl queue slots set fosstodon"),
        "{}",
        refused.stderr
    );
    let generic = env.json(&[
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
    env.ok(&["queue", "slots", "clear", "masto"]);
    let (status, problem) = server.send(
        "POST",
        &format!("/api/v1/triggers/{}", generic["id"].as_str().expect("id")),
        &session,
        &json!({ "title": "Hi", "link": "https://x.test" }).to_string(),
    );
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "urn:postctl:problem:no-queue-slots");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("postctl queue slots set masto")),
        "{problem}"
    );
    assert_eq!(posts(&server, &session).len(), 5, "nothing stored");
}

/// A command on the real clock, as the server's.
fn live(env: &Env, args: &[&str]) -> common::Run {
    let now = Utc::now().to_rfc3339();
    env.run_full(args, None, &[("POSTCTL_NOW", now.as_str())])
}

/// `postctl queue add` on a linked database, for an account of the server's workspace:
/// the server's queue decides, not this database's. The slots here differ from the
/// server's, and the server holds a slot this device never saw (a trigger's post, which
/// reaches devices only through a snapshot): the post lands at the server's next free
/// slot, shown here after the command's sync, and a second one at the slot after. No
/// slots on the server: refused, nothing stored here or there.
#[test]
fn queue_add_on_a_linked_database_takes_the_servers_next_free_slot() {
    let mastodon = FakeMastodon::start();
    let mut server = Server::start_with(MAKER_SETTINGS);
    server.add_user("alice", &[]);
    let env = device(&server, "alice");
    let session = token(&env);
    env.ok_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "masto",
            "--instance",
            &mastodon.base_url(),
            "--token-stdin",
        ],
        Some(format!("{}\n", FakeMastodon::TOKEN).as_bytes()),
        &[],
    );
    env.ok(&["accounts", "push", "masto"]);

    // No slots on the server: refused before anything is stored, saying what to run.
    let refused = env.fails(&["queue", "add", "Too early", "--to", "masto"], 2);
    assert!(
        refused
            .stderr
            .contains("postctl queue slots set masto \"mon-fri 09:00,13:00\""),
        "{}",
        refused.stderr
    );
    assert!(posts(&server, &session).is_empty());

    // Slots set here and on the server; then the server's are changed behind this
    // database's back, so the two queues disagree.
    env.ok(&[
        "queue",
        "slots",
        "set",
        "masto",
        "daily 00:00",
        "--tz",
        "UTC",
    ]);
    let (rules, slot) = slots_from_now();
    let (status, set) = server.send(
        "PUT",
        "/api/v1/accounts/masto/queue",
        &session,
        &json!({ "rules": rules, "tz": "UTC" }).to_string(),
    );
    assert_eq!(status, 200, "{set}");
    // A generic trigger's queued post takes the server's first slot.
    server.put_template(&session, "blog", "New: {{ title }}\n\n{{ link }}");
    let trigger = env.json(&[
        "triggers",
        "add",
        "generic",
        "--template",
        "blog",
        "--to",
        "masto",
        "--queue",
    ]);
    let (status, fired) = server.send(
        "POST",
        &format!("/api/v1/triggers/{}", trigger["id"].as_str().expect("id")),
        &session,
        &json!({ "title": "Fired", "link": "https://x.test" }).to_string(),
    );
    assert_eq!(status, 201, "{fired}");
    assert_eq!(time(&fired["scheduled_at"]), slot[0], "{fired}");

    for (n, text) in ["Tip one", "Tip two"].iter().enumerate() {
        let run = live(&env, &["--json", "queue", "add", text, "--to", "masto"]);
        assert_eq!(run.code, 0, "{}", run.all_output());
        let shown = run.json();
        let id = shown["id"].as_str().expect("the post's id").to_string();
        let want = slot[n + 1];
        // Here, after the command's own sync: the server's time.
        assert_eq!(time(&shown["due"]), want, "{shown}");
        // On the server: the same post, at that slot, its target due then.
        let (status, on_server) = server.get(&format!("/api/v1/posts/{id}"), &session);
        assert_eq!(status, 200, "{on_server}");
        assert_eq!(on_server["body"], *text);
        assert_eq!(time(&on_server["scheduled_at"]), want, "{on_server}");
        assert_eq!(on_server["targets"][0]["state"], "scheduled");
        assert_eq!(time(&on_server["targets"][0]["due_at"]), want);
    }

    // The server down: an account it does not have keeps this database's queue; for one
    // it has, the command fails and stores nothing.
    env.ok_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "mine",
            "--instance",
            &mastodon.base_url(),
            "--token-stdin",
        ],
        Some(format!("{}\n", FakeMastodon::TOKEN).as_bytes()),
        &[],
    );
    env.ok(&[
        "queue",
        "slots",
        "set",
        "mine",
        "daily 12:00",
        "--tz",
        "UTC",
    ]);
    server.stop();
    let offline = live(&env, &["--json", "queue", "add", "Offline", "--to", "mine"]);
    assert_eq!(offline.code, 0, "{}", offline.all_output());
    let due = time(&offline.json()["due"]);
    assert_eq!(
        due.format("%H:%M").to_string(),
        "12:00",
        "{}",
        offline.stdout
    );
    let count = || env.json(&["list", "--all"]).as_array().map(Vec::len);
    let before = count();
    let refused = live(&env, &["queue", "add", "Needs the server", "--to", "masto"]);
    assert_ne!(refused.code, 0, "{}", refused.all_output());
    assert_eq!(count(), before, "nothing stored");
}
