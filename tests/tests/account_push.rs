//! `postctl accounts push NAME` against a real `postctl-server`: a local account and its
//! secret reach the linked workspace (the only way credentials travel), the server then
//! publishes for it to a fake Mastodon, and the secret shows nowhere it should not.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::server::{Server, device, token};
use postctl_tests::fakes::FakeServer;
use postctl_tests::fakes::mastodon::FakeMastodon;
use postctl_tests::fakes::x::FakeX;
use serde_json::{Value, json};

#[test]
fn a_pushed_account_is_published_for_by_the_server_and_its_secret_stays_hidden() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    laptop.add_mastodon_on("masto", &mastodon);

    let pushed = laptop.json(&["accounts", "push", "masto"]);
    assert_eq!(pushed["name"], "masto", "{pushed}");
    assert_eq!(pushed["network"], "mastodon", "{pushed}");
    assert_eq!(pushed["credentials"], "set", "{pushed}");
    let again = laptop.run(&["accounts", "push", "masto"]);
    assert_ne!(again.code, 0, "a second push of one name is refused");
    assert!(again.stderr.contains("masto already"), "{}", again.stderr);

    let session = token(&laptop);
    let (status, accounts) = server.get("/api/v1/accounts", &session);
    assert_eq!(status, 200, "{accounts}");
    let items = accounts["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{accounts}");
    assert_eq!(
        items[0]["base_url"],
        json!(mastodon.base_url()),
        "{accounts}"
    );

    // The server publishes for it: the fake receives the post with the pushed token.
    let (status, post) = server.send(
        "POST",
        "/api/v1/posts",
        &session,
        &json!({"body": "Sent by the server for a pushed account", "accounts": ["masto"]})
            .to_string(),
    );
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_str().expect("an id");
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let (status, scheduled) = server.send(
        "POST",
        &format!("/api/v1/posts/{id}/schedule"),
        &session,
        &json!({ "at": soon }).to_string(),
    );
    assert_eq!(status, 200, "{scheduled}");
    let started = Instant::now();
    while mastodon.posts().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not publish for the pushed account"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        mastodon.posts()[0]
            .text
            .contains("Sent by the server for a pushed account")
    );

    // The secret is in neither database nor any answer.
    for file in [laptop.db_path(), server.data_dir().join("server.sqlite3")] {
        let bytes = std::fs::read(&file).expect("a database file");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(FakeMastodon::TOKEN),
            "the token is in {}",
            file.display()
        );
    }
    assert!(!pushed.to_string().contains(FakeMastodon::TOKEN));
    assert!(!accounts.to_string().contains(FakeMastodon::TOKEN));
}

#[test]
fn accounts_that_cannot_go_are_refused_and_nothing_is_sent() {
    let mastodon = FakeMastodon::start();
    let server = Server::start();
    server.add_user("alice", &[]);

    // Not linked: say how to link, exit 2.
    let alone = Env::new();
    alone.add_mastodon_on("masto", &mastodon);
    let run = alone.fails(&["accounts", "push", "masto"], 2);
    assert!(run.stderr.contains("postctl login"), "{}", run.stderr);

    let laptop = device(&server, "alice");
    let run = laptop.fails(&["accounts", "push", "nosuch"], 2);
    assert!(run.stderr.contains("nosuch"), "{}", run.stderr);

    // OAuth 1.0a keys: the server's accounts API takes a token, not these.
    laptop.ok_full(
        &[
            "accounts",
            "add",
            "x",
            "--name",
            "me-x",
            "--oauth1",
            "--token-stdin",
        ],
        Some(b"xck-consumer-key xcs-consumer-secret 123-xat-access-token xats-token-secret\n"),
        &[],
    );
    let run = laptop.fails(&["accounts", "push", "me-x"], 2);
    assert!(
        run.stderr.contains("cannot be pushed") || run.stderr.contains("does not take"),
        "{}",
        run.stderr
    );
    assert!(
        !run.all_output().contains("xcs-consumer-secret"),
        "{}",
        run.all_output()
    );

    let (status, accounts) = server.get("/api/v1/accounts", &token(&laptop));
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(accounts["items"], Value::Array(vec![]), "{accounts}");
}

/// An account that signed in through the browser (X's OAuth 2.0) goes with its client id
/// and token set; the server renews the token that is about to expire and publishes.
#[test]
fn a_browser_signed_in_account_is_pushed_and_the_server_renews_its_tokens() {
    let server = Server::start();
    server.add_user("alice", &[]);
    let laptop = device(&server, "alice");
    let (fake, _) = common::x::signed_in_account(&laptop);
    let tokens = common::x::stored_tokens(&laptop, "me-x");
    let run = laptop.run(&["accounts", "push", "me-x"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stderr.contains("renews me-x's tokens"),
        "{}",
        run.stderr
    );
    let session = token(&laptop);
    let (status, accounts) = server.get("/api/v1/accounts", &session);
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(
        accounts["items"][0]["settings"]["client_id"],
        json!(FakeX::CLIENT_ID),
        "{accounts}"
    );
    let (status, post) = server.send(
        "POST",
        "/api/v1/posts",
        &session,
        &json!({
            "body": "Published by the server with renewed tokens",
            "accounts": ["me-x"],
            "at": chrono::Utc::now().to_rfc3339(),
        })
        .to_string(),
    );
    assert_eq!(status, 201, "{post}");
    let started = Instant::now();
    while fake.posts().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not publish for the pushed X account"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The access token was a minute from expiry: the server renewed it first.
    assert!(
        fake.token_requests()
            .iter()
            .any(|(grant, granted)| grant == "refresh_token" && *granted),
        "no refresh: {:?}",
        fake.token_requests()
    );
    let bytes = std::fs::read(server.data_dir().join("server.sqlite3")).expect("the database");
    for secret in [&tokens["access_token"], &tokens["refresh_token"]] {
        let secret = secret.as_str().expect("a token");
        assert!(!String::from_utf8_lossy(&bytes).contains(secret));
        assert!(!run.all_output().contains(secret));
    }
}
