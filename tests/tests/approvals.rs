//! Approvals from the CLI (issue 14): a real `postctl-server` and a team of signed-in
//! devices (real `postctl` data dirs): an owner, an editor, a viewer and a named approver.
//! The editor's scheduled posts wait; `postctl approvals` lists them, `postctl approve` and
//! `postctl reject` decide through the device's session, and who may not decide is told
//! which role it takes.

mod common;

use std::time::Duration;

use common::server::{Server, device, token};
use common::{Env, wait_for};
use postctl_tests::fakes::mastodon::FakeMastodon;
use serde_json::{Value, json};

/// A team on one server: the owner's workspace `olive` requires approval, with `april`
/// (an editor) as named approver, and has a Mastodon account `masto`.
fn team() -> (Server, Env, Env, Env, Env) {
    let server = Server::start();
    server.add_user("olive", &[]);
    server.add_user("eddie", &["--workspace", "olive", "--role", "editor"]);
    server.add_user("vera", &["--workspace", "olive", "--role", "viewer"]);
    server.add_user("april", &["--workspace", "olive", "--role", "editor"]);
    let owner = device(&server, "olive");
    let editor = device(&server, "eddie");
    let viewer = device(&server, "vera");
    let approver = device(&server, "april");
    let (status, set) = server.send(
        "PUT",
        "/api/v1/approvals/settings",
        &token(&owner),
        r#"{"require_approval": true, "approvers": ["april"]}"#,
    );
    assert_eq!(status, 200, "{set}");
    let account = json!({
        "name": "masto", "network": "mastodon", "base_url": "https://social.example.test",
        "credentials": { "token": "tok-0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
    });
    let (status, made) = server.send(
        "POST",
        "/api/v1/accounts",
        &token(&owner),
        &account.to_string(),
    );
    assert_eq!(status, 201, "{made}");
    (server, owner, editor, viewer, approver)
}

/// The editor schedules a post for tomorrow on the server; its id.
fn scheduled_by(server: &Server, author: &Env, body: &str) -> String {
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (status, post) = server.send(
        "POST",
        "/api/v1/posts",
        &token(author),
        &json!({ "body": body, "accounts": ["masto"], "at": at }).to_string(),
    );
    assert_eq!(status, 201, "{post}");
    post["id"].as_str().expect("id").to_string()
}

fn server_states(server: &Server, who: &Env, id: &str) -> Vec<String> {
    let (status, post) = server.send("GET", &format!("/api/v1/posts/{id}"), &token(who), "");
    assert_eq!(status, 200, "{post}");
    post["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["state"].as_str().expect("state").to_string())
        .collect()
}

#[test]
fn a_team_runs_posts_through_approval_from_the_cli() {
    let (server, owner, editor, viewer, approver) = team();
    let launch = scheduled_by(&server, &editor, "Launch day: version 2 is out");
    assert_eq!(
        server_states(&server, &owner, &launch),
        ["awaiting_approval"]
    );

    // Everyone may see what waits.
    let listed = viewer.json(&["approvals", "--json"]);
    let items = listed.as_array().expect("a list");
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["id"], launch.as_str());
    assert_eq!(items[0]["author"], "eddie");
    assert_eq!(items[0]["targets"][0]["account"], "masto");
    let table = viewer.ok(&["approvals"]);
    assert!(
        table.stdout.contains(&launch[..13])
            && table.stdout.contains("eddie")
            && table.stdout.contains("Launch day"),
        "{}",
        table.stdout
    );

    // The editor and the viewer may not decide: the refusal names the role it takes.
    for who in [&editor, &viewer] {
        let run = who.fails(&["approve", &launch[..13]], 2);
        assert!(
            run.stderr.contains("`admin`") && run.stderr.contains("approver"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        server_states(&server, &owner, &launch),
        ["awaiting_approval"]
    );

    // A rejection needs a comment.
    let run = approver.fails(&["reject", &launch[..13]], 2);
    assert!(run.stderr.contains("--comment"), "{}", run.stderr);
    let run = approver.fails(&["reject", &launch[..13], "--comment", " "], 2);
    assert!(run.stderr.contains("--comment"), "{}", run.stderr);
    // The named approver rejects, by a start of the id.
    let run = approver.ok(&[
        "reject",
        &launch[..13],
        "--comment",
        "Link the release notes",
    ]);
    assert!(run.stderr.contains("Rejected"), "{}", run.stderr);
    assert_eq!(server_states(&server, &owner, &launch), ["draft"]);
    let none = owner.ok(&["approvals"]);
    assert!(none.stderr.contains("Nothing waits"), "{}", none.stderr);
    let run = owner.fails(&["approve", &launch[..13]], 2);
    assert!(run.stderr.contains("no post waiting"), "{}", run.stderr);

    // Scheduled again (it waits again); the owner approves it, with JSON out.
    let (status, again) = server.send(
        "POST",
        &format!("/api/v1/posts/{launch}/schedule"),
        &token(&editor),
        r#"{"at": "in 2 days"}"#,
    );
    assert_eq!(status, 200, "{again}");
    let second = scheduled_by(&server, &editor, "Second post");
    let decided = owner.json(&["approve", &launch, "--comment", "Ship it", "--json"]);
    assert_eq!(decided["decision"], "approved");
    assert_eq!(decided["by"], "olive");
    assert_eq!(decided["comment"], "Ship it");
    assert_eq!(
        decided["targets"],
        json!([{ "account": "masto", "state": "scheduled" }])
    );
    assert_eq!(server_states(&server, &owner, &launch), ["scheduled"]);
    let left = viewer.json(&["approvals", "--json"]);
    let left: Vec<&Value> = left.as_array().expect("a list").iter().collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], second.as_str());

    // The history the server keeps: who, what, the comment.
    let (status, history) = server.send(
        "GET",
        &format!("/api/v1/posts/{launch}/approvals"),
        &token(&viewer),
        "",
    );
    assert_eq!(status, 200, "{history}");
    let rows: Vec<(String, String, String)> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap_or_default().into(),
                d["by"].as_str().unwrap_or_default().into(),
                d["comment"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "rejected".into(),
                "april".into(),
                "Link the release notes".into()
            ),
            ("approved".into(), "olive".into(), "Ship it".into()),
        ]
    );
}

#[test]
fn approvals_need_a_linked_signed_in_database() {
    let env = Env::new();
    for args in [
        &["approvals"][..],
        &["approve", "0193"][..],
        &["reject", "0193", "--comment", "no"][..],
    ] {
        let run = env.fails(args, 2);
        assert!(
            run.stderr.contains("not linked") && run.stderr.contains("postctl login"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // Signed out: the link stays, the session does not.
    let (server, owner, ..) = team();
    owner.ok(&["logout"]);
    let run = owner.fails(&["approvals"], 4);
    assert!(run.stderr.contains("postctl login"), "{}", run.stderr);
    drop(server);
}

#[test]
fn the_dashboard_lists_approves_and_rejects_through_the_server() {
    use common::terminal::Terminal;
    use std::time::Duration;
    let (server, owner, editor, ..) = team();
    let first = scheduled_by(&server, &editor, "First for the dashboard");
    let second = scheduled_by(&server, &editor, "Second for the dashboard");
    let long = Duration::from_secs(15);
    let quick = Duration::from_secs(8);

    // The editor sees what waits, and the server's refusal when trying to approve.
    let mut term = Terminal::start(&editor, 120, 30);
    term.wait_for(&["1 Calendar", "6 Approvals"], long);
    term.keys(&["6"]);
    term.wait_for(
        &["Approvals · 2 waiting", "First for the dashboard", "eddie"],
        quick,
    );
    term.keys(&["a"]);
    term.wait_for(&["`admin`", "approver"], quick);
    term.keys(&["q"]);
    term.wait_for_exit(quick);
    assert_eq!(
        server_states(&server, &owner, &second),
        ["awaiting_approval"]
    );

    // The owner approves the newest, then rejects the other with a comment.
    let mut term = Terminal::start(&owner, 120, 30);
    term.wait_for(&["1 Calendar"], long);
    term.keys(&["6"]);
    term.wait_for(
        &["Approvals · 2 waiting", "Second for the dashboard"],
        quick,
    );
    term.keys(&["a"]);
    term.wait_for(&["approved", "Approvals · 1 waiting"], quick);
    assert_eq!(server_states(&server, &owner, &second), ["scheduled"]);
    term.keys(&["x"]);
    term.wait_for(&["Why (the author sees it):"], quick);
    term.text("Needs a picture");
    term.keys(&["Enter"]);
    term.wait_for(&["rejected", "Nothing waits for approval."], quick);
    term.keys(&["q"]);
    term.wait_for_exit(quick);
    assert_eq!(server_states(&server, &owner, &first), ["draft"]);
    let (status, history) = server.send(
        "GET",
        &format!("/api/v1/posts/{first}/approvals"),
        &token(&owner),
        "",
    );
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["items"][0]["decision"], "rejected");
    assert_eq!(history["items"][0]["by"], "olive");
    assert_eq!(history["items"][0]["comment"], "Needs a picture");

    // A database linked to no server says how to link it.
    let alone = Env::new();
    let mut term = Terminal::start(&alone, 120, 30);
    term.wait_for(&["1 Calendar"], long);
    term.keys(&["6"]);
    term.wait_for(&["not linked to a server", "postctl login"], quick);
    term.keys(&["q"]);
    term.wait_for_exit(quick);
}

/// A command on the real clock, as the server's.
fn live(env: &Env, args: &[&str]) -> common::Run {
    let now = chrono::Utc::now().to_rfc3339();
    env.ok_full(args, None, &[("POSTCTL_NOW", now.as_str())])
}

/// Schedules a new local post `seconds` ahead to `to`; its id.
fn schedule_locally(env: &Env, text: &str, to: &str, seconds: i64) -> String {
    let at = (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339();
    let out = live(env, &["--json", "schedule", text, "--to", to, "--at", &at]).json();
    out["post_id"]
        .as_str()
        .or_else(|| out["id"].as_str())
        .unwrap_or_else(|| panic!("a post id in {out}"))
        .to_string()
}

/// An owner with a Mastodon account pushed to the server, in a workspace that requires
/// approval, and an editor whose device has an account of the same name.
fn synced_team(mastodon: &FakeMastodon) -> (Server, Env, Env) {
    let server = Server::start();
    server.add_user("olive", &[]);
    server.add_user("eddie", &["--workspace", "olive", "--role", "editor"]);
    let owner = device(&server, "olive");
    let editor = device(&server, "eddie");
    owner.add_mastodon_on("masto", mastodon);
    owner.ok(&["accounts", "push", "masto"]);
    let (status, set) = server.send(
        "PUT",
        "/api/v1/approvals/settings",
        &token(&owner),
        r#"{"require_approval": true}"#,
    );
    assert_eq!(status, 200, "{set}");
    editor.add_mastodon_on("masto", mastodon);
    (server, owner, editor)
}

#[test]
fn an_editors_synced_posts_wait_for_approval_and_only_approved_ones_are_published() {
    let mastodon = FakeMastodon::start();
    let (server, owner, editor) = synced_team(&mastodon);
    let approved = schedule_locally(&editor, "Approved in time", "masto", 10);
    let unapproved = schedule_locally(&editor, "Nobody approved this", "masto", 3);
    live(&editor, &["sync"]);
    for id in [&approved, &unapproved] {
        assert_eq!(server_states(&server, &owner, id), ["awaiting_approval"]);
    }
    // The owner is asked (the notifier routes `approval.requested` to the inbox).
    wait_for(
        Duration::from_secs(20),
        "the approval requests in the owner's inbox",
        || {
            let (status, inbox) = server.get("/api/v1/inbox", &token(&owner));
            assert_eq!(status, 200, "{inbox}");
            inbox["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|i| i["event_type"] == "approval.requested")
                .count()
                == 2
        },
    );
    let listed = owner.json(&["approvals", "--json"]);
    assert_eq!(listed.as_array().expect("a list").len(), 2, "{listed}");
    assert!(
        listed
            .as_array()
            .expect("a list")
            .iter()
            .all(|p| p["author"] == "eddie")
    );

    // The editor's device learns it from a pull: `status` and `list` say so.
    live(&editor, &["sync"]);
    let shown = live(&editor, &["--json", "status", &approved]).json();
    assert_eq!(
        shown["server_targets"][0]["state"], "awaiting_approval",
        "{shown}"
    );
    let text = live(&editor, &["status", &approved]).stdout;
    assert!(text.contains("awaiting approval"), "{text}");
    let listing = live(&editor, &["list"]).stdout;
    assert_eq!(listing.matches("awaiting approval").count(), 2, "{listing}");

    // The owner approves one; the server publishes it on time, and never the other,
    // whose time comes first: it is missed.
    owner.ok(&["approve", &approved]);
    assert_eq!(server_states(&server, &owner, &approved), ["scheduled"]);
    wait_for(
        Duration::from_secs(30),
        "the approved post on the fake",
        || {
            mastodon
                .posts()
                .iter()
                .any(|p| p.text.contains("Approved in time"))
        },
    );
    wait_for(
        Duration::from_secs(20),
        "the unapproved post missed",
        || server_states(&server, &owner, &unapproved) == ["missed"],
    );
    assert_eq!(mastodon.posts().len(), 1, "published without approval");
    live(&editor, &["sync"]);
    let listing = live(&editor, &["list"]).stdout;
    assert!(!listing.contains("awaiting approval"), "{listing}");
}

#[test]
fn a_synced_edit_of_an_approved_post_sends_it_back_for_approval() {
    let mastodon = FakeMastodon::start();
    let (server, owner, editor) = synced_team(&mastodon);
    let id = schedule_locally(&editor, "Release notes", "masto", 86_400);
    live(&editor, &["sync"]);
    assert_eq!(server_states(&server, &owner, &id), ["awaiting_approval"]);
    owner.ok(&["approve", &id, "--comment", "Good"]);
    assert_eq!(server_states(&server, &owner, &id), ["scheduled"]);

    // The text changes: back to waiting.
    live(
        &editor,
        &["draft", "edit", &id, "Release notes, with the link"],
    );
    live(&editor, &["sync"]);
    assert_eq!(server_states(&server, &owner, &id), ["awaiting_approval"]);
    owner.ok(&["approve", &id, "--comment", "Better"]);
    assert_eq!(server_states(&server, &owner, &id), ["scheduled"]);

    // The time changes: back again.
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    live(&editor, &["schedule", &id, "--at", &later]);
    live(&editor, &["sync"]);
    assert_eq!(server_states(&server, &owner, &id), ["awaiting_approval"]);
    let (_, post) = server.get(&format!("/api/v1/posts/{id}"), &token(&owner));
    assert_eq!(post["body"], "Release notes, with the link", "{post}");

    // Each decision is kept, and the owner's own sync of the post asks nothing.
    owner.ok(&["approve", &id]);
    let (status, history) = server.get(&format!("/api/v1/posts/{id}/approvals"), &token(&owner));
    assert_eq!(status, 200, "{history}");
    let comments: Vec<&str> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| {
            assert_eq!(d["decision"], "approved");
            assert_eq!(d["by"], "olive");
            d["comment"].as_str().unwrap_or("")
        })
        .collect();
    assert_eq!(comments, ["Good", "Better", ""]);
    live(&owner, &["sync"]);
    live(&owner, &["draft", "edit", &id, "Release notes, final"]);
    live(&owner, &["sync"]);
    assert_eq!(server_states(&server, &owner, &id), ["scheduled"]);
}
