//! Notifications end to end: a real `postctl-server` process routes events to its users'
//! inboxes and channels, and the channels' receivers are the tests crate's fakes: an SMTP
//! server that reads back each mail's headers and parts, ntfy, and the Telegram Bot API.
//! Events without an emitter in the server yet are recorded the way the server records
//! them (`webhooks::emit` on the server's own database), from the test process.
//!
//! The digest runs with a fixed clock: the notifier's steps are functions of the time.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::server::Server;
use postctl_server::auth::sealed::ServerKey;
use postctl_server::notify::worker::{Notifier, digests_due, route_due};
use postctl_server::storage::{
    self, DigestSchedule, Event, InboxQuery, NotificationSettings, Role, SendState, Storage, User,
    Workspace,
};
use postctl_server::webhooks::{self, EventType};
use postctl_tests::fakes::{FakeNtfy, FakeSmtp, FakeTelegram, SmtpReply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SMTP_USER: &str = "postctl-relay";
const SMTP_PASSWORD: &str = "relay-password-8c1e";
const NTFY_TOKEN: &str = "tk_ntfy_secret_4f2a9";
const TOPIC: &str = "postctl-alerts";

struct Setup {
    server: Server,
    http: reqwest::Client,
    smtp: FakeSmtp,
    ntfy: FakeNtfy,
    telegram: FakeTelegram,
    /// alice owns the workspace "alice"; bob is an editor there, carol a viewer.
    alice: String,
    bob: String,
    carol: String,
}

impl Setup {
    fn start() -> Setup {
        let smtp = FakeSmtp::with_credentials(SMTP_USER, SMTP_PASSWORD);
        let ntfy = FakeNtfy::protected(NTFY_TOKEN);
        let telegram = FakeTelegram::start();
        let port = smtp.port().to_string();
        let host = smtp.host();
        let telegram_base = postctl_tests::fakes::FakeServer::base_url(&telegram);
        let server = Server::start_with(
            None,
            &[
                ("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true"),
                ("POSTCTL_SERVER_SMTP_HOST", &host),
                ("POSTCTL_SERVER_SMTP_PORT", &port),
                ("POSTCTL_SERVER_SMTP_USER", SMTP_USER),
                ("POSTCTL_SERVER_SMTP_PASSWORD", SMTP_PASSWORD),
                ("POSTCTL_SERVER_SMTP_FROM", "postctl <notify@postctl.test>"),
                ("POSTCTL_SERVER_SMTP_STARTTLS", "false"),
                ("POSTCTL_SERVER_TELEGRAM_API_URL", &telegram_base),
                ("POSTCTL_SERVER_NOTIFY_FIRST_RETRY_SECONDS", "1"),
            ],
        );
        let alice = server.user_with_key("alice", None, "posts:read,posts:write");
        let bob = server.user_with_key("bob", Some(("alice", "editor")), "posts:read,posts:write");
        let carol = server.user_with_key("carol", Some(("alice", "viewer")), "posts:read");
        Setup {
            server,
            http: postctl_core::tls::client_builder()
                .no_proxy()
                .build()
                .expect("an HTTP client"),
            smtp,
            ntfy,
            telegram,
            alice,
            bob,
            carol,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, json)
    }

    async fn me(&self, key: &str) -> Value {
        let (status, me) = self.call(Method::GET, "/api/v1/me", key, None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        me
    }

    /// Adds a channel for the key's user; returns its id.
    async fn channel(&self, key: &str, body: Value) -> String {
        let (status, made) = self
            .call(
                Method::POST,
                "/api/v1/notifications/channels",
                key,
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().expect("an id").to_string()
    }

    /// bob's three channels: email, ntfy with its token, Telegram with the bot's token.
    async fn bobs_channels(&self) {
        self.channel(
            &self.bob,
            json!({"kind": "email", "address": "bob@example.org"}),
        )
        .await;
        self.channel(
            &self.bob,
            json!({"kind": "ntfy", "address": self.ntfy.topic_url(TOPIC), "token": NTFY_TOKEN}),
        )
        .await;
        self.channel(
            &self.bob,
            json!({"kind": "telegram", "address": "4242", "token": FakeTelegram::TOKEN}),
        )
        .await;
    }

    /// The server's own database, opened beside the running server.
    async fn storage(&self) -> Arc<dyn Storage> {
        storage::open(None, &self.server.data.path().join("server.sqlite3"))
            .await
            .expect("the server's database")
    }

    /// Records an event in the workspace as the server does for its webhooks.
    async fn emit(&self, workspace_id: &str, kind: EventType, data: Value) {
        webhooks::emit(self.storage().await.as_ref(), workspace_id, kind, data)
            .await
            .expect("emit");
    }

    async fn inbox(&self, key: &str, query: &str) -> Vec<Value> {
        let (status, page) = self
            .call(Method::GET, &format!("/api/v1/inbox{query}"), key, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().expect("items").clone()
    }
}

/// Waits until `check` holds, or fails with `what`.
async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn failed_post(author: &str) -> Value {
    json!({
        "post": {"id": "0190f0e0-0000-7000-8000-000000000001", "title": "Launch <day>",
                 "body": "We launch today", "author_id": author},
        "target": {"account": "mastodon-main"},
        "error": "HTTP 500 from the network",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_reaches_email_ntfy_telegram_and_the_inboxes_once() {
    let t = Setup::start();
    t.bobs_channels().await;
    // Tokens are write-only.
    let (_, listed) = t
        .call(Method::GET, "/api/v1/notifications/channels", &t.bob, None)
        .await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{listed}");
    assert!(!listed.to_string().contains(NTFY_TOKEN), "{listed}");
    assert!(
        !listed.to_string().contains(FakeTelegram::TOKEN),
        "{listed}"
    );
    assert_eq!(items[1]["token_set"], true);
    // alice sees none of bob's channels.
    let (_, hers) = t
        .call(
            Method::GET,
            "/api/v1/notifications/channels",
            &t.alice,
            None,
        )
        .await;
    assert_eq!(hers["items"], json!([]));

    let me = t.me(&t.bob).await;
    let (workspace, bob_id) = (
        me["workspace"]["id"].as_str().expect("ws").to_string(),
        me["user"]["id"].as_str().expect("id").to_string(),
    );
    t.emit(&workspace, EventType::PostFailed, failed_post(&bob_id))
        .await;

    eventually(
        "the mail, the push and the Telegram message",
        Duration::from_secs(20),
        || {
            !t.smtp.mails().is_empty()
                && !t.ntfy.messages().is_empty()
                && !t.telegram.posts().is_empty()
        },
    )
    .await;
    let mail = &t.smtp.mails()[0];
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    assert_eq!(mail.mail_from, "notify@postctl.test");
    assert_eq!(mail.rcpt_to, ["bob@example.org"]);
    assert_eq!(mail.header("From"), Some("postctl <notify@postctl.test>"));
    assert_eq!(mail.header("To"), Some("bob@example.org"));
    assert_eq!(
        mail.header("Subject"),
        Some("[alice] Failed on mastodon-main: “Launch <day>”")
    );
    assert!(
        mail.header("Content-Type")
            .is_some_and(|c| c.starts_with("multipart/alternative")),
        "{:?}",
        mail.headers
    );
    let text = mail.text.as_deref().expect("a text part");
    assert!(text.contains("Why: HTTP 500 from the network"), "{text}");
    assert!(text.contains("Workspace: alice"), "{text}");
    let html = mail.html.as_deref().expect("an HTML part");
    assert!(html.contains("Launch &lt;day&gt;"), "{html}");
    assert!(
        html.contains("<li>Why: HTTP 500 from the network</li>"),
        "{html}"
    );

    let push = &t.ntfy.messages()[0];
    assert_eq!(push.topic, TOPIC);
    assert_eq!(
        push.authorization.as_deref(),
        Some(&*format!("Bearer {NTFY_TOKEN}"))
    );
    assert_eq!(
        push.title.as_deref(),
        Some("[alice] Failed on mastodon-main: “Launch <day>”")
    );
    assert_eq!(push.priority, 4);
    assert!(push.message.contains("Why: HTTP 500"), "{}", push.message);

    let telegram = &t.telegram.posts()[0];
    assert_eq!(telegram.channel, "4242");
    assert!(
        telegram.text.starts_with("[alice] Failed on mastodon-main"),
        "{}",
        telegram.text
    );
    assert!(telegram.text.contains("Why: HTTP 500"), "{}", telegram.text);

    // The author and the owner are told in the app; the viewer is not.
    eventually("the inbox items", Duration::from_secs(10), || true).await;
    let bobs = t.inbox(&t.bob, "").await;
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(bobs[0]["event_type"], "post.failed");
    assert_eq!(bobs[0]["read"], false);
    assert_eq!(t.inbox(&t.alice, "").await.len(), 1);
    assert!(t.inbox(&t.carol, "").await.is_empty());

    // Once each, however long the notifier keeps running.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(t.smtp.data_commands(), 1);
    assert_eq!(t.ntfy.requests(), 1);
    assert_eq!(t.telegram.posts().len(), 1);

    // No secret in the log or the database.
    let log = t.server.log();
    let database = std::fs::read(t.server.data.path().join("server.sqlite3")).expect("db");
    let database = String::from_utf8_lossy(&database);
    for secret in [NTFY_TOKEN, FakeTelegram::TOKEN, SMTP_PASSWORD] {
        assert!(!log.contains(secret), "the log holds a secret: {log}");
        assert!(!database.contains(secret), "the database holds {secret}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_channels_are_retried_with_backoff_and_given_up_when_hopeless() {
    let t = Setup::start();
    t.bobs_channels().await;
    // A second Telegram channel, to a chat the bot cannot reach: refused for good.
    t.channel(
        &t.bob,
        json!({"kind": "telegram", "address": "-1009999999999", "token": FakeTelegram::TOKEN}),
    )
    .await;
    t.ntfy.script(&[503, 502]);
    t.smtp.script(&[SmtpReply::Temporary]);
    let me = t.me(&t.bob).await;
    let (workspace, bob_id) = (
        me["workspace"]["id"].as_str().expect("ws").to_string(),
        me["user"]["id"].as_str().expect("id").to_string(),
    );
    let started = Instant::now();
    t.emit(&workspace, EventType::PostMissed, failed_post(&bob_id))
        .await;
    // 1 s, then 2 s: the third ntfy attempt arrives about 3 s after the first.
    eventually("the retried push and mail", Duration::from_secs(30), || {
        !t.ntfy.messages().is_empty() && !t.smtp.mails().is_empty()
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(t.ntfy.requests(), 3);
    assert_eq!(t.smtp.data_commands(), 2);
    let storage = t.storage().await;
    let mut sends = Vec::new();
    eventually("every message finished", Duration::from_secs(10), || {
        sends = futures_block(storage.notification_sends(&bob_id, 10)).expect("sends");
        sends.iter().all(|s| s.state != SendState::Pending)
    })
    .await;
    let mut by_state: Vec<(SendState, u32)> = sends.iter().map(|s| (s.state, s.attempts)).collect();
    by_state.sort_by_key(|(s, a)| (s.as_str(), *a));
    assert_eq!(
        by_state,
        [
            (SendState::Failed, 1),
            (SendState::Sent, 1),
            (SendState::Sent, 2),
            (SendState::Sent, 3),
        ]
    );
    let refused = sends
        .iter()
        .find(|s| s.state == SendState::Failed)
        .expect("refused");
    assert!(
        refused
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("chat not found")),
        "{refused:?}"
    );
    assert!(
        !refused
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains(FakeTelegram::TOKEN)
    );
    let log = t.server.log();
    assert!(log.contains("a notification was given up"), "{log}");
    assert!(log.contains("retrying"), "{log}");
    assert!(
        !log.contains(FakeTelegram::TOKEN) && !log.contains(NTFY_TOKEN),
        "{log}"
    );
}

/// Blocks on a storage future from inside a synchronous check.
fn futures_block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_choose_the_channels_of_each_event_type() {
    let t = Setup::start();
    t.bobs_channels().await;
    let (status, defaults) = t
        .call(
            Method::GET,
            "/api/v1/notifications/preferences",
            &t.bob,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(
        defaults["events"]["post.failed"],
        json!({"channels": ["inapp", "email", "ntfy", "telegram", "slack", "discord", "matrix"],
               "default": true})
    );
    assert_eq!(
        defaults["events"]["webhook.disabled"]["default"], true,
        "{defaults}"
    );
    assert_eq!(
        defaults["events"]["post.published"],
        json!({"channels": [], "default": true})
    );
    assert_eq!(defaults["digest"], Value::Null);

    // Refused whole, changing nothing.
    for (bad, says) in [
        (
            json!({"events": {"post.failed": ["pager"]}}),
            "not a channel name",
        ),
        (json!({"events": {"ping": ["inapp"]}}), "not an event type"),
        (
            json!({"events": {"post.failed": "email"}}),
            "must be a list",
        ),
        (json!({"digest": {"at": "25:00", "zone": "UTC"}}), "HH:MM"),
        (
            json!({"digest": {"at": "08:00", "zone": "Mars/Olympus"}}),
            "IANA",
        ),
    ] {
        let (status, problem) = t
            .call(
                Method::PUT,
                "/api/v1/notifications/preferences",
                &t.bob,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| d.contains(says)),
            "{problem}"
        );
    }
    let (_, unchanged) = t
        .call(
            Method::GET,
            "/api/v1/notifications/preferences",
            &t.bob,
            None,
        )
        .await;
    assert_eq!(unchanged, defaults);

    let (status, chosen) = t
        .call(
            Method::PUT,
            "/api/v1/notifications/preferences",
            &t.bob,
            Some(json!({
                "events": {"post.failed": ["ntfy"], "post.published": ["inapp", "email"]},
                "digest": {"at": "08:30", "zone": "Europe/Berlin"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    assert_eq!(
        chosen["events"]["post.failed"],
        json!({"channels": ["ntfy"], "default": false})
    );
    assert_eq!(chosen["digest"]["at"], "08:30");
    assert_eq!(chosen["digest"]["zone"], "Europe/Berlin");
    assert!(chosen["digest"]["next_at"].is_string(), "{chosen}");

    let me = t.me(&t.bob).await;
    let (workspace, bob_id) = (
        me["workspace"]["id"].as_str().expect("ws").to_string(),
        me["user"]["id"].as_str().expect("id").to_string(),
    );
    t.emit(&workspace, EventType::PostFailed, failed_post(&bob_id))
        .await;
    t.emit(
        &workspace,
        EventType::PostPublished,
        json!({"post": {"id": "0190f0e0-0000-7000-8000-000000000002", "title": "Hello", "author_id": bob_id}}),
    )
    .await;
    eventually("the push and the mail", Duration::from_secs(20), || {
        !t.ntfy.messages().is_empty() && !t.smtp.mails().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let pushes = t.ntfy.messages();
    assert_eq!(pushes.len(), 1);
    assert!(
        pushes[0]
            .title
            .as_deref()
            .is_some_and(|t| t.contains("Failed"))
    );
    let mails = t.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].header("Subject"),
        Some("[alice] Published: “Hello”")
    );
    assert!(
        t.telegram.posts().is_empty(),
        "Telegram was chosen for neither"
    );
    let inbox = t.inbox(&t.bob, "").await;
    assert_eq!(
        inbox
            .iter()
            .map(|i| i["event_type"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["post.published"]
    );
    // The owner kept the defaults: the failure reached her inbox, the publication did not.
    let hers = t.inbox(&t.alice, "").await;
    assert_eq!(hers.len(), 1);
    assert_eq!(hers[0]["event_type"], "post.failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_pages_and_is_marked_read_over_http() {
    let t = Setup::start();
    let me = t.me(&t.bob).await;
    let (workspace, bob_id) = (
        me["workspace"]["id"].as_str().expect("ws").to_string(),
        me["user"]["id"].as_str().expect("id").to_string(),
    );
    for _ in 0..3 {
        t.emit(&workspace, EventType::PostUncertain, failed_post(&bob_id))
            .await;
    }
    let mut all = Vec::new();
    for _ in 0..200 {
        all = t.inbox(&t.bob, "").await;
        if all.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(all.len(), 3);
    let (_, first) = t
        .call(Method::GET, "/api/v1/inbox?limit=2", &t.bob, None)
        .await;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, second) = t
        .call(
            Method::GET,
            &format!("/api/v1/inbox?limit=2&cursor={cursor}"),
            &t.bob,
            None,
        )
        .await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["next_cursor"], Value::Null);

    let id = all[1]["id"].as_str().expect("id").to_string();
    let (status, read) = t
        .call(
            Method::POST,
            &format!("/api/v1/inbox/{id}/read"),
            &t.bob,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["marked"], 1);
    let unread = t.inbox(&t.bob, "?unread=true").await;
    assert_eq!(unread.len(), 2);
    assert!(unread.iter().all(|i| i["id"] != id.as_str()));
    // Another user's notification is not found for them.
    let (status, problem) = t
        .call(
            Method::POST,
            &format!("/api/v1/inbox/{id}/read"),
            &t.carol,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, done) = t
        .call(Method::POST, "/api/v1/inbox/read-all", &t.bob, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["marked"], 2);
    assert!(t.inbox(&t.bob, "?unread=true").await.is_empty());
    let (status, problem) = t
        .call(Method::GET, "/api/v1/inbox?cursor=nope", &t.bob, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_checked_when_they_are_made() {
    let t = Setup::start();
    for (bad, says) in [
        (json!({"kind": "pager", "address": "x"}), "not a channel"),
        (
            json!({"kind": "email", "address": "not an address"}),
            "not an email address",
        ),
        (
            json!({"kind": "ntfy", "address": "ftp://ntfy.example/t"}),
            "scheme",
        ),
        (
            json!({"kind": "telegram", "address": "4242"}),
            "bot's token",
        ),
        (
            json!({"kind": "telegram", "address": "chat one", "token": FakeTelegram::TOKEN}),
            "chat id",
        ),
    ] {
        let (status, problem) = t
            .call(
                Method::POST,
                "/api/v1/notifications/channels",
                &t.bob,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| d.contains(says)),
            "{problem}"
        );
        assert!(
            !problem.to_string().contains(FakeTelegram::TOKEN),
            "{problem}"
        );
    }
    let (_, listed) = t
        .call(Method::GET, "/api/v1/notifications/channels", &t.bob, None)
        .await;
    assert_eq!(listed["items"], json!([]));
    let id = t
        .channel(
            &t.bob,
            json!({"kind": "email", "address": "bob@example.org"}),
        )
        .await;
    let (status, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/notifications/channels/{id}"),
            &t.carol,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not carol's");
    let (status, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/notifications/channels/{id}"),
            &t.bob,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_channels_need_the_servers_smtp_relay() {
    let server = Server::start(None);
    let key = server.user_with_key("dana", None, "posts:read");
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/api/v1/notifications/channels", server.base))
        .bearer_auth(&key)
        .json(&json!({"kind": "email", "address": "dana@example.org"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.expect("JSON");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("smtp_host")),
        "{problem}"
    );
}

// ---------------------------------------------------------------------------------------
// The digest, with a fixed clock

fn user(name: &str) -> User {
    User::new(
        uuid::Uuid::now_v7().to_string(),
        name.into(),
        "$argon2id$not-checked-here".into(),
        false,
        1_000,
    )
}

/// 2026-06-01 06:00 UTC, 08:00 in Berlin.
const DIGEST_AT: i64 = 1_780_293_600_000;
const HOUR: i64 = 3_600_000;

fn event_at(workspace: &str, kind: &str, at: i64, data: Value) -> Event {
    Event {
        workspace_id: workspace.into(),
        event_type: kind.into(),
        payload: json!({"type": kind, "timestamp": "", "data": data}).to_string(),
        created_ms: at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_tells_the_day_at_the_time_chosen_in_the_users_zone() {
    let dir = tempfile::tempdir().expect("a dir");
    let storage = storage::open(None, &dir.path().join("server.sqlite3"))
        .await
        .expect("storage");
    let alice = user("alice");
    let bob = user("bob");
    let ws = Workspace {
        id: uuid::Uuid::now_v7().to_string(),
        name: "acme".into(),
        created_ms: 1_000,
    };
    storage.create_user(&alice).await.expect("user");
    storage.create_user(&bob).await.expect("user");
    storage
        .create_workspace(&ws, &alice.id)
        .await
        .expect("workspace");
    storage
        .set_member(&ws.id, &bob.id, Role::Editor)
        .await
        .expect("member");
    let post =
        |id: &str, title: &str| json!({"post": {"id": id, "title": title, "author_id": bob.id}});
    for e in [
        event_at(
            &ws.id,
            "post.published",
            DIGEST_AT - 30 * HOUR,
            post("p0", "Two days ago"),
        ),
        event_at(
            &ws.id,
            "post.published",
            DIGEST_AT - 20 * HOUR,
            post("p1", "Launch"),
        ),
        event_at(
            &ws.id,
            "post.published",
            DIGEST_AT - 2 * HOUR,
            post("p2", "Follow-up"),
        ),
        event_at(
            &ws.id,
            "post.failed",
            DIGEST_AT - HOUR,
            json!({"post": {"id": "p3", "title": "Thread", "author_id": bob.id}, "error": "HTTP 500"}),
        ),
        event_at(
            &ws.id,
            "approval.requested",
            DIGEST_AT - 40 * HOUR,
            post("p4", "Pricing"),
        ),
        event_at(
            &ws.id,
            "approval.requested",
            DIGEST_AT - 3 * HOUR,
            post("p5", "Approved later"),
        ),
        event_at(
            &ws.id,
            "approval.decided",
            DIGEST_AT - 2 * HOUR,
            post("p5", "Approved later"),
        ),
        event_at(
            &ws.id,
            "analytics.report_ready",
            DIGEST_AT - HOUR,
            json!({"top_post": {"title": "Launch", "engagement": 87}}),
        ),
        event_at(
            &ws.id,
            "post.published",
            DIGEST_AT + HOUR,
            post("p6", "Tomorrow's"),
        ),
    ] {
        storage.emit_event(&e).await.expect("emit");
    }
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().expect("zone");
    let schedule = DigestSchedule {
        user_id: alice.id.clone(),
        at_minute: 8 * 60,
        zone: zone.name().into(),
        next_ms: DIGEST_AT,
    };
    storage
        .save_notification_settings(
            &alice.id,
            &NotificationSettings {
                preferences: Vec::new(),
                digest: Some(schedule),
            },
        )
        .await
        .expect("settings");
    let key = Arc::new(ServerKey::from_bytes(&[7; 32]).expect("a key"));
    let notifier = Notifier::new(storage.clone(), Default::default(), key);

    assert_eq!(
        digests_due(&notifier, "t", DIGEST_AT - 1)
            .await
            .expect("digests"),
        0,
        "not yet"
    );
    // Made late (the server was down for 3 hours): the same day's content.
    assert_eq!(
        digests_due(&notifier, "t", DIGEST_AT + 3 * HOUR)
            .await
            .expect("digests"),
        1
    );
    let inbox = storage
        .inbox(&InboxQuery {
            user_id: alice.id.clone(),
            workspace_id: ws.id.clone(),
            unread_only: true,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("inbox");
    let digest: Vec<_> = inbox.iter().filter(|i| i.event_type == "digest").collect();
    assert_eq!(digest.len(), 1, "{inbox:?}");
    assert_eq!(digest[0].title, "postctl digest for alice, 2026-06-01");
    assert_eq!(
        digest[0].body,
        "postctl digest for alice, 2026-06-01\n\nacme:\n  Published: 2\n    - Launch\n    - Follow-up\n  \
         Failed: 1\n    - Thread: failed (HTTP 500)\n  Waiting for approval: 1\n    - Pricing\n  \
         Top post: Launch (87 interactions)"
    );
    // The next one is tomorrow at 08:00 in Berlin, and not made twice.
    let settings = storage
        .notification_settings(&alice.id)
        .await
        .expect("settings");
    assert_eq!(
        settings.digest.map(|d| d.next_ms),
        Some(DIGEST_AT + 24 * HOUR)
    );
    assert_eq!(
        digests_due(&notifier, "t", DIGEST_AT + 4 * HOUR)
            .await
            .expect("digests"),
        0
    );

    // The events themselves were routed too: the failure reached alice (owner) and bob.
    assert!(route_due(&notifier, "t", DIGEST_AT).await.expect("route") > 0);
    while route_due(&notifier, "t", DIGEST_AT).await.expect("route") > 0 {}
    let bobs = storage
        .inbox(&InboxQuery {
            user_id: bob.id.clone(),
            workspace_id: ws.id.clone(),
            unread_only: false,
            before_id: None,
            limit: 20,
        })
        .await
        .expect("inbox");
    let kinds: Vec<&str> = bobs.iter().map(|i| i.event_type.as_str()).collect();
    assert_eq!(kinds, ["post.failed"], "bob chose nothing: failures only");
}

/// Slack, Discord and Matrix channels post through the workspace's own accounts of those
/// networks, on the fakes that speak their wire formats: a failure reaches each account
/// once however many members chose it, a Matrix 429 is retried after its wait, a
/// viewer may not choose an account, and an account of another network or workspace is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_reach_slack_discord_and_matrix_through_the_workspaces_accounts() {
    use postctl_tests::fakes::{
        ChaosConfig, Failure, FakeDiscord, FakeMatrix, FakeServer, FakeSlack,
    };
    let t = Setup::start();
    let slack = FakeSlack::start();
    let discord = FakeDiscord::start();
    let matrix = FakeMatrix::start();
    let admin = t
        .server
        .key("alice", "alice", "accounts:write,accounts:read", &[]);
    for account in [
        json!({"name": "slbot", "network": "slack", "base_url": format!("{}/api", slack.base_url()),
               "settings": {"channel": FakeSlack::CHANNEL},
               "credentials": {"token": FakeSlack::BOT_TOKEN}}),
        json!({"name": "dchook", "network": "discord",
               "credentials": {"token": discord.webhook_url()}}),
        json!({"name": "mx", "network": "matrix", "base_url": matrix.base_url(),
               "settings": {"room": FakeMatrix::ROOM},
               "credentials": {"token": FakeMatrix::TOKEN}}),
    ] {
        let (status, made) = t
            .call(Method::POST, "/api/v1/accounts", &admin, Some(account))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
    }
    // bob (an editor) and alice (the owner) both choose the Slack account; bob the others.
    for (kind, account) in [("slack", "slbot"), ("discord", "dchook"), ("matrix", "mx")] {
        t.channel(&t.bob, json!({"kind": kind, "address": account}))
            .await;
    }
    t.channel(&t.alice, json!({"kind": "slack", "address": "slbot"}))
        .await;
    for (key, body, status) in [
        // A viewer does not post through the workspace's accounts.
        (
            &t.carol,
            json!({"kind": "slack", "address": "slbot"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &t.bob,
            json!({"kind": "slack", "address": "mx"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.bob,
            json!({"kind": "matrix", "address": "nowhere"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.bob,
            json!({"kind": "matrix", "address": "mx", "token": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, problem) = t
            .call(
                Method::POST,
                "/api/v1/notifications/channels",
                key,
                Some(body.clone()),
            )
            .await;
        assert_eq!(got, status, "{body}: {problem}");
    }
    // The homeserver asks to wait at first: the notice is retried after its wait.
    matrix.chaos().set(ChaosConfig {
        writes_only: true,
        ..ChaosConfig::failing(1.0, &[Failure::RateLimited], 7)
    });

    let workspace = t.me(&t.alice).await["workspace"]["id"]
        .as_str()
        .expect("a workspace id")
        .to_string();
    let bob_id = t.me(&t.bob).await["user"]["id"]
        .as_str()
        .expect("bob's id")
        .to_string();
    t.emit(&workspace, EventType::PostFailed, failed_post(&bob_id))
        .await;

    eventually(
        "the Slack and Discord notices",
        Duration::from_secs(20),
        || !slack.posts().is_empty() && !discord.posts().is_empty(),
    )
    .await;
    eventually(
        "a rate-limited Matrix answer",
        Duration::from_secs(20),
        || matrix.chaos().counts().rate_limited >= 1,
    )
    .await;
    assert!(matrix.posts().is_empty());
    matrix.chaos().off();
    eventually("the Matrix notice", Duration::from_secs(20), || {
        !matrix.posts().is_empty()
    })
    .await;
    // Settle: nothing more arrives.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (slacked, discorded, matrixed) = (slack.posts(), discord.posts(), matrix.posts());
    assert_eq!(slacked.len(), 1, "once per account: {slacked:?}");
    assert_eq!(discorded.len(), 1, "{discorded:?}");
    assert_eq!(matrixed.len(), 1, "{matrixed:?}");
    assert_eq!(slacked[0].channel, FakeSlack::CHANNEL);
    assert_eq!(matrixed[0].channel, FakeMatrix::ROOM);
    for text in [&slacked[0].text, &discorded[0].text, &matrixed[0].text] {
        assert!(text.contains("Failed on mastodon-main"), "{text}");
        assert!(text.contains("HTTP 500 from the network"), "{text}");
    }
    let log = t.server.log();
    assert!(
        log.contains("a notification could not be sent, retrying"),
        "the retry is logged: {log}"
    );
    assert!(!log.contains(FakeMatrix::TOKEN) && !log.contains(FakeDiscord::WEBHOOK_TOKEN));
}
