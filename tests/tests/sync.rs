//! Sync with a server (issue 13): two devices (two data dirs of the real `postctl`) and a
//! real `postctl-server` process on a free loopback port, its users made with its own
//! `user add` command.
//!
//! Each device's clock starts at `POSTCTL_NOW`; a test that needs one edit to be later
//! than another gives the edit its own `POSTCTL_NOW`.

mod common;

use std::time::Duration;

use common::Env;
use common::server::{PASSWORD, Server, device, token};
use hmac::{KeyInit, Mac};
use serde_json::Value;

/// A command run with its clock starting at `at` (RFC 3339).
fn at(env: &Env, when: &str, args: &[&str]) -> common::Run {
    env.ok_full(args, None, &[("POSTCTL_NOW", when)])
}

/// A device's live posts by id: (body, title, labels).
fn posts(env: &Env) -> std::collections::BTreeMap<String, (String, Value, Value)> {
    let list = env.json(&["list", "--all"]);
    list.as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id").to_string(),
                (
                    p["body"].as_str().expect("body").to_string(),
                    p["title"].clone(),
                    p["labels"].clone(),
                ),
            )
        })
        .collect()
}

/// The server's posts by id: body and title.
fn server_posts(
    server: &Server,
    token: &str,
) -> std::collections::BTreeMap<String, (String, Value)> {
    let (status, page) = server.get("/api/v1/posts?limit=200", token);
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id").to_string(),
                (
                    p["body"].as_str().expect("body").to_string(),
                    p["title"].clone(),
                ),
            )
        })
        .collect()
}

#[test]
fn posts_written_on_one_device_reach_the_other_and_the_server() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let first = a
        .ok(&[
            "draft",
            "new",
            "Launch notes",
            "--title",
            "launch",
            "--label",
            "news",
        ])
        .id();
    let second = a.ok(&["draft", "new", "Second thoughts"]).id();
    let gone = a.ok(&["draft", "new", "Never mind"]).id();
    a.ok(&["draft", "edit", &first, "Launch notes, edited"]);
    a.ok(&["draft", "rm", &gone]);
    let status = a.json(&["sync", "status"]);
    assert_eq!(status["pending"]["posts"], 3, "{status}");
    assert!(status["last_sync"].is_null());
    let synced = a.json(&["sync"]);
    assert!(synced["pushed"].as_u64().unwrap_or(0) > 0, "{synced}");
    let status = a.json(&["sync", "status"]);
    assert_eq!(status["pending"]["operations"], 0, "{status}");
    assert_eq!(status["workspace"], "alice");
    assert!(status["last_sync"].is_string(), "{status}");

    let b = device(&server, "alice");
    let pulled = b.json(&["sync"]);
    assert_eq!(pulled["pushed"], 0, "B had nothing of its own: {pulled}");
    let on_b = posts(&b);
    assert_eq!(on_b, posts(&a), "B holds what A wrote");
    assert_eq!(on_b.len(), 2, "the removed post stays removed: {on_b:?}");
    assert_eq!(
        on_b[&first],
        (
            "Launch notes, edited".to_string(),
            Value::from("launch"),
            serde_json::json!(["news"])
        )
    );
    assert!(on_b.contains_key(&second));
    // The server applied the versions to its own posts.
    let on_server = server_posts(&server, &token(&a));
    assert_eq!(
        on_server.keys().collect::<Vec<_>>(),
        on_b.keys().collect::<Vec<_>>()
    );
    assert_eq!(on_server[&first].0, "Launch notes, edited");

    // A scheduled post travels with its time; its destinations and their states (the
    // publisher's) stay on A: versions carry post fields only.
    a.ok_full(
        &[
            "accounts",
            "add",
            "webhook",
            "--name",
            "hook",
            "--base-url",
            "http://127.0.0.1:9/hook",
            "--token-stdin",
        ],
        Some(b"webhook-signing-key\n"),
        &[],
    );
    let due = a
        .ok(&[
            "schedule",
            "Due on Monday",
            "--to",
            "hook",
            "--at",
            "2026-11-23 09:00",
        ])
        .id();
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    let on_b = b.json(&["list", "--all"]);
    let due_on_b = on_b
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == due.as_str()))
        .expect("the scheduled post on B");
    assert_eq!(due_on_b["schedule"]["kind"], "at", "{due_on_b}");
    assert_eq!(due_on_b["due"], "2026-11-23T08:00:00Z");
    assert_eq!(due_on_b["tz"], "Europe/Berlin");
    assert_eq!(
        due_on_b["targets"],
        serde_json::json!([]),
        "B has no account named hook: the name is kept, no target made"
    );
    let (status, shown) = server.get(&format!("/api/v1/posts/{due}"), &token(&a));
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["state"], "scheduled");
    assert_eq!(shown["scheduled_at"], "2026-11-23T08:00:00.000Z");
    let (_, versions) = server.get("/api/v1/sync/versions?limit=1000", &token(&a));
    for version in versions["versions"].as_array().expect("versions") {
        for op in version["operations"].as_array().expect("operations") {
            let field = op["field"].as_str().unwrap_or_default();
            assert!(
                [
                    "created", "body", "title", "labels", "schedule", "deleted", "media", "targets"
                ]
                .contains(&field),
                "only post fields travel: {op}"
            );
            // Of the account only its name travels (as where a post goes).
            let without_targets = if field == "targets" {
                op["value"] == serde_json::json!(["hook"]) || op["value"] == serde_json::json!([])
            } else {
                !op.to_string().contains("hook")
            };
            assert!(without_targets, "nothing of the account but its name: {op}");
        }
    }

    // An edit on B comes back to A; a sync with nothing to do pushes nothing.
    b.ok(&[
        "draft",
        "edit",
        &second,
        "Second thoughts, from B",
        "--title",
        "B",
    ]);
    b.ok(&["sync"]);
    let again = a.json(&["sync"]);
    assert_eq!(again["pushed"], 0, "{again}");
    assert_eq!(posts(&a)[&second].0, "Second thoughts, from B");
    assert_eq!(
        a.json(&["sync"])["pulled"],
        0,
        "nothing new the second time"
    );

    // `workspace list` names the linked workspace.
    let workspaces = a.json(&["workspace", "list"]);
    assert_eq!(workspaces[0]["name"], "alice");
    assert_eq!(workspaces[0]["linked"], true);
}

#[test]
fn concurrent_edits_merge_field_by_field_and_the_last_writer_wins() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let b = device(&server, "alice");
    let post = a
        .ok(&["draft", "new", "Original text", "--title", "original"])
        .id();
    a.ok(&["sync"]);
    b.ok(&["sync"]);

    // Offline on both: A changes the text at 10:10; B changes the title at 10:12 and the
    // text at 10:20. Different fields merge; for the text, B's later edit wins, whichever
    // device syncs first.
    at(
        &a,
        "2026-11-20T10:10:00Z",
        &["draft", "edit", &post, "Text by A"],
    );
    at(
        &b,
        "2026-11-20T10:12:00Z",
        &["draft", "edit", &post, "--title", "title by B"],
    );
    at(
        &b,
        "2026-11-20T10:20:00Z",
        &["draft", "edit", &post, "Text by B"],
    );
    // And a field only A changed, later than everything B did: A's labels.
    at(
        &a,
        "2026-11-20T10:30:00Z",
        &["draft", "edit", &post, "--label", "from-a"],
    );
    a.ok(&["sync"]);
    let b_sync = b.json(&["sync"]);
    assert_eq!(
        b_sync["conflicts"], 1,
        "A's older text lost to B's: {b_sync}"
    );
    a.ok(&["sync"]);
    let expected = (
        "Text by B".to_string(),
        Value::from("title by B"),
        serde_json::json!(["from-a"]),
    );
    assert_eq!(posts(&a)[&post], expected, "A");
    assert_eq!(posts(&b)[&post], expected, "B");
    assert_eq!(server_posts(&server, &token(&a))[&post].0, "Text by B");
    // B says what it kept and what lost, with the losing text.
    let status = b.json(&["sync", "status"]);
    let conflict = &status["recent_conflicts"][0];
    assert_eq!(conflict["field"], "body", "{status}");
    assert_eq!(conflict["kept"], "local");
    assert_eq!(conflict["lost_value"], "Text by A");
    let text = b.ok(&["sync", "status"]).stdout;
    assert!(
        text.contains("Conflicts:  1") && text.contains("Text by A"),
        "{text}"
    );

    // The other way round: the device whose edit is later syncs last, and its change
    // replaces the one already on the server; the device whose older change was not yet
    // pushed keeps the loser as a conflict.
    at(
        &b,
        "2026-11-20T11:00:00Z",
        &["draft", "edit", &post, "Older text by B"],
    );
    at(
        &a,
        "2026-11-20T11:05:00Z",
        &["draft", "edit", &post, "Newer text by A"],
    );
    a.ok(&["sync"]);
    let b_sync = b.json(&["sync"]);
    assert_eq!(b_sync["conflicts"], 1, "{b_sync}");
    assert_eq!(
        b_sync["pushed"], 0,
        "B's only change lost: nothing to push: {b_sync}"
    );
    a.ok(&["sync"]);
    assert_eq!(posts(&a)[&post].0, "Newer text by A");
    assert_eq!(posts(&b)[&post].0, "Newer text by A");
    assert_eq!(
        server_posts(&server, &token(&b))[&post].0,
        "Newer text by A"
    );
    let status = b.json(&["sync", "status"]);
    assert_eq!(status["pending"]["operations"], 0, "{status}");
    assert_eq!(status["conflicts"], 2);
    assert_eq!(status["recent_conflicts"][0]["kept"], "server");
    assert_eq!(
        status["recent_conflicts"][0]["lost_value"],
        "Older text by B"
    );
}

/// The server starts publishing `post` (as its publisher does when a target is claimed):
/// a target in `state` on an account of the post's workspace, written into the server's
/// database.
fn server_starts_publishing(server: &Server, post: &str, state: &str) {
    let db = rusqlite::Connection::open(server.data_dir().join("server.sqlite3"))
        .expect("the server's database");
    db.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    let workspace: String = db
        .query_row(
            "SELECT workspace_id FROM posts WHERE id = ?1",
            [post],
            |r| r.get(0),
        )
        .expect("the post is on the server");
    db.execute(
        "INSERT INTO accounts (id, workspace_id, name, network, settings, credentials, created_ms)
         VALUES ('acct-news', ?1, 'news', 'mastodon', '{}', 'sealed', 0)
         ON CONFLICT (id) DO NOTHING",
        [&workspace],
    )
    .expect("an account");
    db.execute(
        "INSERT INTO targets (id, post_id, account_id, workspace_id, state, attempt_count, parts,
             created_ms, updated_ms)
         VALUES (?1, ?2, 'acct-news', ?3, ?4, 1, '[]', 0, 0)",
        rusqlite::params![format!("t-{post}"), post, workspace, state],
    )
    .expect("a target");
}

#[test]
fn an_edit_to_a_post_the_server_started_publishing_becomes_a_draft_and_a_conflict() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let b = device(&server, "alice");
    let post = a
        .ok(&["draft", "new", "Launch day", "--title", "launch"])
        .id();
    let other = a.ok(&["draft", "new", "Another post"]).id();
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    // While A is offline, the server publishes the post; A edits it, and another post.
    server_starts_publishing(&server, &post, "published");
    at(
        &a,
        "2026-11-20T10:10:00Z",
        &["draft", "edit", &post, "Launch day, with a typo fixed"],
    );
    at(
        &a,
        "2026-11-20T10:11:00Z",
        &["draft", "edit", &other, "Another post, edited"],
    );
    let synced = a.json(&["sync"]);
    assert_eq!(synced["refused"], 1, "{synced}");
    assert_eq!(synced["conflicts"], 1, "{synced}");
    let drafts = synced["drafts"].as_array().expect("drafts").clone();
    assert_eq!(drafts.len(), 1, "{synced}");
    let draft = drafts[0].as_str().expect("a draft id").to_string();
    // The post has the server's text again; the edit lives on as a new draft, which
    // reached the server and the other device; the edit to the other post went through.
    let on_a = posts(&a);
    assert_eq!(on_a[&post].0, "Launch day");
    assert_eq!(on_a[&draft].0, "Launch day, with a typo fixed");
    assert_eq!(on_a[&draft].1, Value::from("launch"));
    let on_server = server_posts(&server, &token(&a));
    assert_eq!(on_server[&post].0, "Launch day");
    assert_eq!(on_server[&draft].0, "Launch day, with a typo fixed");
    assert_eq!(on_server[&other].0, "Another post, edited");
    b.ok(&["sync"]);
    assert_eq!(posts(&b), posts(&a));
    // `sync status` says what happened and where the edit is, in text and JSON.
    let status = a.json(&["sync", "status"]);
    assert_eq!(status["pending"]["operations"], 0, "{status}");
    let conflict = &status["recent_conflicts"][0];
    assert_eq!(conflict["post_id"], post.as_str(), "{status}");
    assert_eq!(conflict["field"], "body");
    assert_eq!(conflict["kept"], "server");
    assert_eq!(conflict["lost_value"], "Launch day, with a typo fixed");
    assert_eq!(conflict["draft"], draft.as_str());
    assert!(
        conflict["reason"]
            .as_str()
            .is_some_and(|r| r.contains("started publishing") && r.contains("published")),
        "{status}"
    );
    let text = a.ok(&["sync", "status"]).stdout;
    assert!(
        text.contains("not applied: the server has started publishing")
            && text.contains(&format!("kept as draft {draft}")),
        "{text}"
    );
    // Nothing is left to push, and syncing again changes nothing.
    let again = a.json(&["sync"]);
    assert_eq!(
        (again["pushed"].as_u64(), again["refused"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );

    // A post that is publishing refuses a removal too: it stays, with no draft.
    server_starts_publishing(&server, &other, "publishing");
    at(
        &b,
        "2026-11-20T10:20:00Z",
        &["draft", "rm", &other, "--yes"],
    );
    let synced = b.json(&["sync"]);
    assert_eq!(
        (
            synced["refused"].as_u64(),
            synced["drafts"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0)),
        "{synced}"
    );
    assert!(
        posts(&b).contains_key(&other),
        "the removal was not applied"
    );
    let status = b.json(&["sync", "status"]);
    assert_eq!(
        status["recent_conflicts"][0]["field"], "deleted",
        "{status}"
    );
    assert_eq!(
        status["recent_conflicts"][0]["lost_value"], true,
        "{status}"
    );
}

#[test]
fn media_files_travel_once_by_hash_and_a_file_that_cannot_go_holds_its_post() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let b = device(&server, "alice");
    let png = a.file("shot.png", common::PNG_3X2);
    let png = png.to_str().expect("utf-8 path");
    let first = a
        .ok(&[
            "draft",
            "new",
            "With a picture",
            "--media",
            png,
            "--alt",
            "a red square",
        ])
        .id();
    let second = a
        .ok(&["draft", "new", "The same picture", "--media", png])
        .id();
    let synced = a.json(&["sync"]);
    assert_eq!(
        synced["media"]["uploaded"], 1,
        "one file, uploaded once: {synced}"
    );
    assert_eq!(synced["held"], 0, "{synced}");
    let sha = {
        let shown = a.json(&["draft", "show", &first]);
        shown["media"][0]["sha256"]
            .as_str()
            .expect("a hash")
            .to_string()
    };
    // The other device gets the posts with their media, and fetches the file once.
    let pulled = b.json(&["sync"]);
    assert_eq!(pulled["media"]["fetched"], 1, "{pulled}");
    let on_b = b.json(&["draft", "show", &first]);
    assert_eq!(on_b["media"][0]["sha256"], sha.as_str(), "{on_b}");
    assert_eq!(on_b["media"][0]["alt"], "a red square", "{on_b}");
    assert_eq!(
        b.json(&["draft", "show", &second])["media"][0]["sha256"],
        sha.as_str()
    );
    let fetched = std::fs::read(b.data_dir().join("media").join(format!("{sha}.png")))
        .expect("the file is in B's media dir");
    assert_eq!(fetched, common::PNG_3X2);
    let again = b.json(&["sync"]);
    assert_eq!(again["media"]["fetched"], 0, "fetched once: {again}");

    // A file this device lost before it was uploaded keeps its post from syncing, and
    // `sync status` says which file and why; the other changes go.
    let other = b.file("other.png", {
        let mut bytes = common::PNG_3X2.to_vec();
        bytes.extend_from_slice(b"trailing bytes make another file");
        bytes
    });
    let held = b
        .ok(&[
            "draft",
            "new",
            "Lost picture",
            "--media",
            other.to_str().expect("utf-8"),
        ])
        .id();
    let shown = b.json(&["draft", "show", &held]);
    let lost = shown["media"][0]["sha256"]
        .as_str()
        .expect("a hash")
        .to_string();
    std::fs::remove_file(b.data_dir().join("media").join(format!("{lost}.png")))
        .expect("the stored file");
    b.ok(&["draft", "edit", &first, "With a picture, edited on B"]);
    let synced = b.json(&["sync"]);
    assert_eq!(synced["held"], 1, "{synced}");
    let status = b.json(&["sync", "status"]);
    assert_eq!(status["held"][0]["post_id"], held.as_str(), "{status}");
    assert_eq!(status["held"][0]["sha256"], lost.as_str(), "{status}");
    assert!(
        status["held"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not readable")),
        "{status}"
    );
    assert!(
        status["pending"]["operations"].as_u64() > Some(0),
        "{status}"
    );
    let text = b.ok(&["sync", "status"]).stdout;
    assert!(
        text.contains(&format!("post {held} is not synced")) && text.contains("other.png"),
        "{text}"
    );
    let on_server = server_posts(&server, &token(&b));
    assert!(!on_server.contains_key(&held), "the held post stayed here");
    assert_eq!(on_server[&first].0, "With a picture, edited on B");
    // Attached again, it goes at the next sync.
    std::fs::write(
        b.data_dir().join("media").join(format!("{lost}.png")),
        std::fs::read(&other).expect("read"),
    )
    .expect("restore");
    let synced = b.json(&["sync"]);
    assert_eq!(
        (
            synced["held"].as_u64(),
            synced["media"]["uploaded"].as_u64()
        ),
        (Some(0), Some(1)),
        "{synced}"
    );
    assert!(server_posts(&server, &token(&b)).contains_key(&held));
    assert_eq!(b.json(&["sync", "status"])["pending"]["operations"], 0);
}

#[test]
fn offline_work_on_both_devices_is_all_there_after_syncing() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let a = device(&server, "alice");
    let b = device(&server, "alice");
    let shared = a.ok(&["draft", "new", "Shared"]).id();
    let doomed = a.ok(&["draft", "new", "To be removed"]).id();
    a.ok(&["sync"]);
    b.ok(&["sync"]);

    // Both offline: each writes new posts, edits the shared one, and B schedules a
    // post while A removes another.
    let mut from_a = Vec::new();
    let mut from_b = Vec::new();
    for i in 0..3 {
        from_a.push(
            at(
                &a,
                "2026-11-20T10:10:00Z",
                &["draft", "new", &format!("A {i}")],
            )
            .id(),
        );
        from_b.push(
            at(
                &b,
                "2026-11-20T10:11:00Z",
                &["draft", "new", &format!("B {i}")],
            )
            .id(),
        );
    }
    at(
        &a,
        "2026-11-20T10:12:00Z",
        &["draft", "edit", &shared, "--title", "A's title"],
    );
    at(
        &b,
        "2026-11-20T10:13:00Z",
        &["draft", "edit", &shared, "--label", "b-label"],
    );
    at(&a, "2026-11-20T10:14:00Z", &["draft", "rm", &doomed]);
    assert_eq!(b.json(&["sync", "status"])["pending"]["posts"], 4);

    b.ok(&["sync"]);
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    let on_a = posts(&a);
    assert_eq!(on_a, posts(&b), "both devices hold the same posts");
    for id in from_a.iter().chain(&from_b) {
        assert!(on_a.contains_key(id), "post {id} is missing: {on_a:?}");
    }
    assert!(!on_a.contains_key(&doomed), "the removal reached B");
    assert_eq!(
        on_a[&shared],
        (
            "Shared".to_string(),
            Value::from("A's title"),
            serde_json::json!(["b-label"])
        )
    );
    assert_eq!(
        server_posts(&server, &token(&a)).keys().collect::<Vec<_>>(),
        on_a.keys().collect::<Vec<_>>(),
        "the server holds them too"
    );
    for env in [&a, &b] {
        let status = env.json(&["sync", "status"]);
        assert_eq!(status["pending"]["operations"], 0, "{status}");
        assert_eq!(status["conflicts"], 0, "different fields do not conflict");
    }
}

/// An RFC 6238 code (SHA-1, 6 digits, 30 s steps) of a base32 secret at `step`.
fn totp(secret_base32: &str, step: u64) -> String {
    let mut bits = 0u64;
    let mut count = 0;
    let mut key = Vec::new();
    for c in secret_base32.trim_end_matches('=').chars() {
        let value = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            .find(c.to_ascii_uppercase())
            .expect("a base32 secret") as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            key.push((bits >> (count - 8)) as u8);
            count -= 8;
        }
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).expect("a key");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", number % 1_000_000)
}

fn step_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        / 30
}

#[test]
fn sign_in_and_server_failures_say_what_to_do_and_change_nothing() {
    let mut server = Server::start();
    server.add_user("alice", &[]);
    server.add_user("bob", &[]);
    let a = Env::new();
    let base = server.base.clone();
    let login = |user: &'static str| ["login", &base, "--user", user, "--password-stdin"];

    // Not linked yet.
    let run = a.fails(&["sync"], 2);
    assert!(run.stderr.contains("postctl login URL"), "{}", run.stderr);
    // A wrong password: exit 4, nothing stored anywhere.
    let alice = login("alice");
    let run = a.fails_full(&alice, Some(b"wrong password\n"), &[], 4);
    assert!(run.stderr.contains("password is wrong"), "{}", run.stderr);
    assert!(!a.secrets_path().exists(), "no session was stored");

    // TOTP: the password alone is not enough, a wrong code neither.
    let (ok, out) = server.cli(&["user", "totp", "enrol", "bob", "--json"], b"");
    assert!(ok, "{out}");
    let secret: Value = serde_json::from_str(out.lines().next().unwrap_or_default()).expect("json");
    let secret = secret["secret"].as_str().expect("secret").to_string();
    let step = step_now();
    let (ok, out) = server.cli(
        &["user", "totp", "confirm", "bob", &totp(&secret, step)],
        b"",
    );
    assert!(ok, "{out}");
    let bob = login("bob");
    let run = a.fails_full(&bob, Some(PASSWORD), &[], 4);
    assert!(run.stderr.contains("TOTP code"), "{}", run.stderr);
    let wrong = [PASSWORD, totp(&secret, step - 10).as_bytes(), b"\n"].concat();
    let run = a.fails_full(&bob, Some(&wrong), &[], 4);
    assert!(run.stderr.contains("code is wrong"), "{}", run.stderr);
    // The next step's code (one step of skew is allowed) signs in.
    let right = [PASSWORD, totp(&secret, step + 1).as_bytes(), b"\n"].concat();
    let run = a.ok_full(&[&["--json"][..], &bob].concat(), Some(&right), &[]);
    let answer = run.json();
    assert_eq!(answer["user"], "bob");
    assert_eq!(answer["workspace"], "bob");

    // The token is in the secret store only: not in the database, not in any output.
    let session = token(&a);
    a.ok(&["draft", "new", "Bob's post"]);
    let mut outputs = vec![run.stdout.clone(), run.stderr.clone()];
    for command in [&["sync"][..], &["sync", "status"], &["workspace", "list"]] {
        let run = a.ok(&[&["--json"], command].concat());
        outputs.push(run.stdout);
        outputs.push(run.stderr);
        let run = a.ok(command);
        outputs.push(run.stdout);
        outputs.push(run.stderr);
    }
    for output in &outputs {
        assert!(
            !output.contains(&session),
            "the token was printed: {output}"
        );
    }
    a.ok(&["list"]);
    for file in [a.db_path(), a.wal_path()] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes
                .windows(session.len())
                .any(|w| w == session.as_bytes()),
            "the token is in {}",
            file.display()
        );
    }

    // The server down: a clear error, exit 1, the database as it was.
    a.ok(&["draft", "new", "Written while the server is down"]);
    server.stop();
    let run = a.fails(&["sync"], 1);
    assert!(
        run.stderr.contains("cannot reach the server"),
        "{}",
        run.stderr
    );
    let run = a.fails_full(&alice, Some(PASSWORD), &[], 1);
    assert!(
        run.stderr.contains("cannot reach the server"),
        "{}",
        run.stderr
    );
    assert_eq!(a.json(&["sync", "status"])["pending"]["posts"], 1);

    // Signed out: sync says to sign in again, exit 4.
    a.ok(&["logout"]);
    assert!(
        !std::fs::read_to_string(a.secrets_path())
            .unwrap_or_default()
            .contains(&session),
        "logout removed the token"
    );
    let run = a.fails(&["sync"], 4);
    assert!(run.stderr.contains("postctl login"), "{}", run.stderr);
}

#[test]
fn a_device_moves_to_another_workspace_and_a_viewer_cannot_push() {
    let server = Server::start();
    server.add_user("alice", &[]);
    server.add_user("bob", &[]);
    server.add_user("vera", &["--workspace", "bob", "--role", "viewer"]);
    let bob = device(&server, "bob");
    let bobs = bob.ok(&["draft", "new", "In Bob's workspace"]).id();
    bob.ok(&["sync"]);
    let (status, added) = server.send(
        "PUT",
        "/api/v1/members/alice",
        &token(&bob),
        r#"{"role": "editor"}"#,
    );
    assert_eq!(status, 200, "{added}");

    // Alice signs in (to her own workspace, by default), writes before syncing, and
    // moves the database to Bob's workspace: the first sync pushes her post there.
    let alice = device(&server, "alice");
    let own = alice.ok(&["draft", "new", "Alice's own"]).id();
    let listed = alice.json(&["workspace", "list"]);
    let names: Vec<_> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|w| (w["name"].as_str().unwrap_or_default(), w["linked"] == true))
        .collect();
    assert_eq!(names, [("alice", true), ("bob", false)]);
    let run = alice.fails(&["workspace", "use", "nope"], 2);
    assert!(run.stderr.contains("not a member"), "{}", run.stderr);

    let old = token(&alice);
    alice.ok(&["workspace", "use", "bob"]);
    assert_ne!(token(&alice), old, "a new session for the other workspace");
    assert_eq!(
        server.get("/api/v1/posts", &old).0,
        401,
        "the old session ended"
    );
    alice.ok(&["sync"]);
    let here = posts(&alice);
    assert!(
        here.contains_key(&bobs) && here.contains_key(&own),
        "{here:?}"
    );
    let there = server_posts(&server, &token(&bob));
    assert!(there.contains_key(&own), "{there:?}");
    assert_eq!(alice.json(&["sync", "status"])["workspace"], "bob");
    // Having synced, the database stays with Bob's workspace.
    let run = alice.fails(&["workspace", "use", "alice"], 2);
    assert!(
        run.stderr.contains("a database of its own"),
        "{}",
        run.stderr
    );
    let run = alice.fails_full(
        &[
            "login",
            &server.base,
            "--user",
            "alice",
            "--workspace",
            "alice",
            "--password-stdin",
        ],
        Some(PASSWORD),
        &[],
        2,
    );
    assert!(
        run.stderr.contains("a database of its own"),
        "{}",
        run.stderr
    );

    // A viewer pulls but cannot push, and is told why; the change waits.
    let vera = device(&server, "vera");
    vera.ok(&["sync"]);
    assert!(posts(&vera).contains_key(&own));
    vera.ok(&["draft", "new", "A viewer's draft"]);
    let run = vera.fails(&["sync"], 2);
    assert!(run.stderr.contains("role `editor`"), "{}", run.stderr);
    assert_eq!(vera.json(&["sync", "status"])["pending"]["posts"], 1);
}
