//! Outbound webhooks end to end: real `postctl-server` processes send to receivers that
//! run in the test on 127.0.0.1, and the receivers check every signature with their own
//! implementation of the Standard Webhooks scheme (the `hmac` crate, not the server's
//! ring), the timestamp's freshness, and that each `webhook-id` arrives once.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::server::Server;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

const ALLOW_PRIVATE: (&str, &str) = ("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true");
const ALL_SCOPES: &str = "posts:read,posts:write,admin,webhooks:write";

// ---------------------------------------------------------------------------------------
// The receiver

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    at: Instant,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the receiver answers, in turn; 200 when the script is empty.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answers 200 after this long (longer than the server's timeout: no answer).
    Slow(Duration),
}

#[derive(Default)]
struct ReceiverState {
    seen: Vec<Received>,
    script: VecDeque<Reply>,
    /// Answer every request after the script with this status.
    always: Option<u16>,
    delay: Duration,
}

struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = state.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let state = shared.clone();
                    async move {
                        let header = |name: &str| {
                            headers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string()
                        };
                        let (reply, delay) = {
                            let mut s = state.lock().expect("receiver state");
                            s.seen.push(Received {
                                id: header("webhook-id"),
                                timestamp: header("webhook-timestamp"),
                                signature: header("webhook-signature"),
                                body: body.to_vec(),
                                at: Instant::now(),
                            });
                            let reply = s
                                .script
                                .pop_front()
                                .unwrap_or(Reply::Status(s.always.unwrap_or(200)));
                            (reply, s.delay)
                        };
                        tokio::time::sleep(delay).await;
                        let status = match reply {
                            Reply::Status(status) => status,
                            Reply::Slow(wait) => {
                                tokio::time::sleep(wait).await;
                                200
                            }
                        };
                        (
                            axum::http::StatusCode::from_u16(status).expect("a status"),
                            format!("receiver says {status}"),
                        )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, state, task }
    }

    fn seen(&self) -> Vec<Received> {
        self.state.lock().expect("receiver state").seen.clone()
    }

    fn script(&self, replies: &[Reply]) {
        self.state
            .lock()
            .expect("receiver state")
            .script
            .extend(replies.iter().copied());
    }

    fn always(&self, status: u16) {
        self.state.lock().expect("receiver state").always = Some(status);
    }

    /// Waits until the receiver got `n` requests, and returns them.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {n}, within {within:?}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The independent verifier

/// Verifies a delivery as a receiver following Standard Webhooks would: the signed
/// content is `id.timestamp.body`, the key is the base64 after `whsec_`, the header holds
/// space-separated `v1,<base64>` signatures of which one must match, and a timestamp
/// more than five minutes from now is refused (a replay).
fn verify(secret: &str, r: &Received) -> Result<(), String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").ok_or("not a whsec_ secret")?)
        .map_err(|e| format!("secret: {e}"))?;
    let timestamp: i64 = r.timestamp.parse().map_err(|_| "no timestamp")?;
    let now = chrono::Utc::now().timestamp();
    if (now - timestamp).abs() > 300 {
        return Err(format!("timestamp {timestamp} is too far from now ({now})"));
    }
    if r.id.is_empty() {
        return Err("no webhook-id".into());
    }
    for signature in r.signature.split(' ') {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            continue;
        };
        let Ok(given) = STANDARD.decode(encoded) else {
            continue;
        };
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("any key length");
        mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
        mac.update(&r.body);
        if mac.verify_slice(&given).is_ok() {
            return Ok(());
        }
    }
    Err(format!("no signature in {:?} matches", r.signature))
}

// ---------------------------------------------------------------------------------------
// The API

struct Api {
    server: Server,
    http: reqwest::Client,
}

impl Api {
    fn new(server: Server) -> Api {
        Api {
            server,
            http: postctl_core::tls::client_builder()
                .no_proxy()
                .build()
                .expect("an HTTP client"),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, path, key, body, &[]).await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base))
            .bearer_auth(key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
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

    async fn create(&self, key: &str, url: &str, events: &[&str]) -> (String, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/webhooks",
                key,
                Some(json!({ "url": url, "events": events })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().expect("an id").to_string(),
            body["secret"].as_str().expect("a secret").to_string(),
        )
    }

    async fn ping(&self, key: &str, id: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/v1/webhooks/{id}/ping"),
                key,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["id"].as_str().expect("a delivery id").to_string()
    }

    async fn deliveries(&self, key: &str, id: &str) -> Vec<Value> {
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/api/v1/webhooks/{id}/deliveries"),
                key,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().expect("items").clone()
    }

    /// Waits until the delivery is no longer pending, and returns it.
    async fn finished(&self, key: &str, webhook: &str, delivery: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .deliveries(key, webhook)
                .await
                .into_iter()
                .find(|d| d["id"] == delivery)
                .expect("the delivery is listed");
            if found["state"] != "pending" {
                return found;
            }
            assert!(Instant::now() < deadline, "still pending: {found}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn webhook(&self, key: &str, id: &str) -> Value {
        let (status, body) = self
            .call(Method::GET, &format!("/api/v1/webhooks/{id}"), key, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

fn problem_type(body: &Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Scenarios

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_managed_by_admins_with_the_scope_and_secrets_are_shown_once() {
    let api = Api::new(Server::start_with(None, &[ALLOW_PRIVATE]));
    let receiver = Receiver::start().await;
    let owner = api.server.user_with_key("ana", None, ALL_SCOPES);
    let editor = api
        .server
        .user_with_key("ed", Some(("ana", "editor")), ALL_SCOPES);
    let unscoped = api
        .server
        .key("ana", "ana", "posts:read,posts:write,admin", &[]);
    let stranger = api.server.user_with_key("bo", None, ALL_SCOPES);

    let body = json!({ "url": receiver.url, "events": ["post.published", "post.failed"] });
    let (status, refused) = api
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &editor,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an editor: {refused}");
    let (status, refused) = api
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &unscoped,
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no webhooks:write: {refused}"
    );
    assert!(
        problem_type(&refused).ends_with("insufficient-scope"),
        "{refused}"
    );

    let idempotent = [("Idempotency-Key", "hook-1")];
    let (status, created) = api
        .call_with(
            Method::POST,
            "/api/v1/webhooks",
            &owner,
            Some(body.clone()),
            &idempotent,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // A replay answers the same endpoint, without the secret.
    let (status, replayed) = api
        .call_with(
            Method::POST,
            "/api/v1/webhooks",
            &owner,
            Some(body),
            &idempotent,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replayed}");
    assert_eq!(replayed["id"], created["id"]);
    assert_eq!(replayed["secret"], "(shown once)");
    let id = created["id"].as_str().expect("id").to_string();
    let secret = created["secret"].as_str().expect("secret").to_string();
    let key_bytes = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64");
    assert!(key_bytes.len() >= 24, "{} bytes", key_bytes.len());
    assert_eq!(created["events"], json!(["post.published", "post.failed"]));
    assert_eq!(created["enabled"], true);

    let shown = api.webhook(&owner, &id).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    assert!(!shown.to_string().contains(&secret[6..]), "{shown}");
    let (_, list) = api
        .call(Method::GET, "/api/v1/webhooks", &owner, None)
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert!(!list.to_string().contains(&secret[6..]));
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            &stranger,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another workspace's endpoint"
    );
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            &editor,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an editor reads no endpoints"
    );

    for (bad, says) in [
        (
            json!({ "url": receiver.url, "events": ["post.exploded"] }),
            "post.exploded",
        ),
        (json!({ "url": receiver.url, "events": [] }), "empty"),
        (
            json!({ "url": "ftp://example.com/x", "events": ["ping"] }),
            "scheme",
        ),
        (
            json!({ "url": "https://u:p@example.com/", "events": ["ping"] }),
            "password",
        ),
    ] {
        let (status, problem) = api
            .call(Method::POST, "/api/v1/webhooks", &owner, Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| d.contains(says)),
            "{bad}: {problem}"
        );
    }

    let (status, changed) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            &owner,
            Some(json!({ "events": ["post.scheduled"], "description": "CI", "enabled": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["events"], json!(["post.scheduled"]));
    assert_eq!(changed["description"], "CI");
    assert_eq!(changed["enabled"], false);
    let (status, refused) = api
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/ping"),
            &owner,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a disabled endpoint: {refused}"
    );
    let (_, enabled) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            &owner,
            Some(json!({ "enabled": true })),
        )
        .await;
    assert_eq!(enabled["enabled"], true, "{enabled}");
    api.ping(&owner, &id).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    verify(&secret, &got[0]).expect("signed with the secret shown at creation");

    // The secret is sealed in the database and never logged.
    let database = std::fs::read(api.server.data.path().join("server.sqlite3")).expect("db");
    let database = String::from_utf8_lossy(&database);
    assert!(
        !database.contains(&secret[6..]),
        "the secret is in the database"
    );
    assert!(
        !api.server.log().contains(&secret[6..]),
        "the secret is in the log"
    );

    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api
        .call(Method::GET, &format!("/api/v1/webhooks/{id}"), &owner, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_at_creation_and_again_at_send_time() {
    let receiver = Receiver::start().await;
    let mut allowing = Api::new(Server::start_with(None, &[ALLOW_PRIVATE]));
    let owner = allowing.server.user_with_key("ana", None, ALL_SCOPES);
    let (by_address, _) = allowing.create(&owner, &receiver.url, &["ping"]).await;
    let by_name_url = receiver.url.replace("127.0.0.1", "localhost");
    let (by_name, _) = allowing.create(&owner, &by_name_url, &["ping"]).await;
    allowing.server.stop();
    let data = std::mem::replace(&mut allowing.server.data, tempfile::tempdir().expect("dir"));
    // The same database, without the setting.
    let api = Api::new(Server::start_in(data, None, &[], &[]));
    let localhost = receiver.url.replace("127.0.0.1", "localhost");
    for url in [
        &receiver.url,
        &localhost,
        &"http://[::1]:9/hook".to_string(),
    ] {
        let (status, problem) = api
            .call(
                Method::POST,
                "/api/v1/webhooks",
                &owner,
                Some(json!({ "url": url, "events": ["ping"] })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("loopback") && detail.contains("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS"),
            "{url}: {detail}"
        );
    }
    // The endpoints made while it was allowed are checked again when sending: an
    // address as it is, a name after it resolves.
    for id in [&by_address, &by_name] {
        let delivery = api.ping(&owner, id).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let attempt = loop {
            let listed = api.deliveries(&owner, id).await;
            let found = listed.iter().find(|d| d["id"] == delivery).expect("listed");
            if let Some(attempt) = found["attempts"].get(0) {
                break attempt.clone();
            }
            assert!(Instant::now() < deadline, "no attempt: {found}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(attempt["status"].is_null(), "{attempt}");
        assert!(
            attempt["error"]
                .as_str()
                .is_some_and(|e| e.contains("loopback")),
            "{attempt}"
        );
    }
    assert!(receiver.seen().is_empty(), "the receiver was reached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_subscribers_signed_the_standard_way_through_a_rotation() {
    let api = Api::new(Server::start_with(None, &[ALLOW_PRIVATE]));
    let scheduled = Receiver::start().await;
    let published = Receiver::start().await;
    let owner = api.server.user_with_key("ana", None, ALL_SCOPES);
    let (id, secret) = api
        .create(&owner, &scheduled.url, &["post.scheduled"])
        .await;
    let (other, _) = api
        .create(&owner, &published.url, &["post.published"])
        .await;

    let delivery = api.ping(&owner, &id).await;
    let got = scheduled.wait_for(1, Duration::from_secs(20)).await;
    verify(&secret, &got[0]).expect("a valid signature");
    assert_eq!(got[0].id, delivery, "webhook-id is the delivery's id");
    let ping = got[0].json();
    assert_eq!(ping["type"], "ping");
    assert_eq!(ping["data"]["webhook_id"], id.as_str());
    // The verifier is not blind: another body, another key or an old timestamp fail.
    let mut tampered = got[0].clone();
    tampered.body.push(b' ');
    assert!(verify(&secret, &tampered).is_err());
    let (_, other_secret) = api.create(&owner, &published.url, &["post.missed"]).await;
    assert!(verify(&other_secret, &got[0]).is_err());
    let mut replayed = got[0].clone();
    replayed.timestamp = (chrono::Utc::now().timestamp() - 600).to_string();
    assert!(
        verify(&secret, &replayed)
            .expect_err("a replay")
            .contains("too far")
    );

    // A draft is no event; a scheduled post is one, for its subscribers only.
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/posts",
            &owner,
            Some(json!({ "body": "draft" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, post) = api
        .call(
            Method::POST,
            "/api/v1/posts",
            &owner,
            Some(json!({ "body": "Launch day", "at": "in 2 hours" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let got = scheduled.wait_for(2, Duration::from_secs(20)).await;
    verify(&secret, &got[1]).expect("a valid signature");
    let event = got[1].json();
    assert_eq!(event["type"], "post.scheduled", "{event}");
    assert_eq!(event["data"]["post"]["id"], post["id"]);
    assert_eq!(event["data"]["post"]["scheduled_at"], post["scheduled_at"]);
    assert!(
        api.deliveries(&owner, &other).await.is_empty(),
        "not subscribed"
    );
    assert!(published.seen().is_empty());

    let listed = api.deliveries(&owner, &id).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let first = &listed[0];
    assert_eq!(first["event_type"], "post.scheduled");
    assert_eq!(first["state"], "delivered", "{first}");
    assert_eq!(first["attempts"][0]["status"], 200);
    assert_eq!(first["attempts"][0]["answer"], "receiver says 200");
    assert!(first["attempts"][0]["duration_ms"].as_i64().is_some());

    // A rotation: the new secret is shown once, and for a day each delivery carries
    // signatures under both.
    let (status, rotated) = api
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"]
        .as_str()
        .expect("a new secret")
        .to_string();
    assert_ne!(new_secret, secret);
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );
    api.ping(&owner, &id).await;
    let got = scheduled.wait_for(3, Duration::from_secs(20)).await;
    let during = &got[2];
    let signatures: Vec<&str> = during.signature.split(' ').collect();
    assert_eq!(signatures.len(), 2, "{}", during.signature);
    verify(&new_secret, during).expect("the new secret verifies");
    verify(&secret, during).expect("the old secret still verifies");
    let only = |signature: &str| Received {
        signature: signature.to_string(),
        ..during.clone()
    };
    verify(&new_secret, &only(signatures[0])).expect("the new secret signs first");
    verify(&secret, &only(signatures[1])).expect("then the old one");
    assert!(!api.server.log().contains(&new_secret[6..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receivers_are_retried_with_backoff_then_endpoints_are_disabled() {
    let api = Api::new(Server::start_with(
        None,
        &[
            ALLOW_PRIVATE,
            ("POSTCTL_SERVER_WEBHOOK_TIMEOUT_SECONDS", "1"),
            ("POSTCTL_SERVER_WEBHOOK_FIRST_RETRY_SECONDS", "1"),
            // 3.6 seconds of retries.
            ("POSTCTL_SERVER_WEBHOOK_RETRY_HOURS", "0.001"),
            ("POSTCTL_SERVER_WEBHOOK_DISABLE_AFTER", "2"),
        ],
    ));
    let owner = api.server.user_with_key("ana", None, ALL_SCOPES);

    // A 500, then no answer in time, then a 200: three attempts, one webhook-id.
    let flaky = Receiver::start().await;
    flaky.script(&[
        Reply::Status(500),
        Reply::Slow(Duration::from_secs(2)),
        Reply::Status(200),
    ]);
    let (id, secret) = api.create(&owner, &flaky.url, &["ping"]).await;
    let delivery = api.ping(&owner, &id).await;
    let done = api
        .finished(&owner, &id, &delivery, Duration::from_secs(30))
        .await;
    assert_eq!(done["state"], "delivered", "{done}");
    let attempts = done["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 3, "{done}");
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[0]["answer"], "receiver says 500");
    assert!(attempts[1]["status"].is_null(), "{}", attempts[1]);
    assert!(
        attempts[1]["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{}",
        attempts[1]
    );
    assert!(
        attempts[1]["duration_ms"]
            .as_i64()
            .is_some_and(|ms| ms >= 900)
    );
    assert_eq!(attempts[2]["status"], 200);
    let seen = flaky.wait_for(3, Duration::from_secs(5)).await;
    assert!(
        seen.iter().all(|r| r.id == delivery),
        "one webhook-id for every attempt"
    );
    for r in &seen {
        verify(&secret, r).expect("every attempt is signed");
    }
    // Exponential: a second, then two (after the timed-out attempt's second).
    let gap1 = seen[1].at - seen[0].at;
    let gap2 = seen[2].at - seen[1].at;
    assert!(gap1 >= Duration::from_millis(900), "{gap1:?}");
    assert!(gap2 >= Duration::from_millis(2_900), "{gap2:?}");

    // Redelivery makes a new delivery of the same event.
    let (status, again) = api
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_ne!(again["id"], delivery.as_str());
    assert_eq!(again["redelivery_of"], delivery.as_str());
    let seen = flaky.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(seen[3].id, again["id"].as_str().expect("id"));
    assert_eq!(seen[3].body, seen[0].body, "the same event");
    verify(&secret, &seen[3]).expect("signed");
    // The same, by the delivery's id alone (what `postctl webhooks redeliver` calls).
    let (status, by_id) = api
        .call(
            Method::POST,
            &format!("/api/v1/deliveries/{delivery}/redeliver"),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{by_id}");
    assert_eq!(by_id["redelivery_of"], delivery.as_str());
    assert_eq!(by_id["webhook_id"], id.as_str());
    let seen = flaky.wait_for(5, Duration::from_secs(20)).await;
    assert_eq!(seen[4].id, by_id["id"].as_str().expect("id"));
    assert_eq!(seen[4].body, seen[0].body, "the same event");
    let (status, unknown) = api
        .call(
            Method::POST,
            "/api/v1/deliveries/0193a1b2-0000-7000-8000-000000000000/redeliver",
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");

    // A receiver that says 410 Gone: no retry, and the endpoint is disabled at once.
    let gone = Receiver::start().await;
    gone.always(410);
    let (gone_id, _) = api.create(&owner, &gone.url, &["ping"]).await;
    let delivery = api.ping(&owner, &gone_id).await;
    let done = api
        .finished(&owner, &gone_id, &delivery, Duration::from_secs(20))
        .await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["attempts"].as_array().map(Vec::len), Some(1));
    let endpoint = api.webhook(&owner, &gone_id).await;
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("410")),
        "{endpoint}"
    );

    // A receiver that always fails: each delivery is retried through the window and
    // given up; the second failed delivery in a row disables the endpoint.
    let down = Receiver::start().await;
    down.always(503);
    let (down_id, _) = api.create(&owner, &down.url, &["ping"]).await;
    let first = api.ping(&owner, &down_id).await;
    let done = api
        .finished(&owner, &down_id, &first, Duration::from_secs(30))
        .await;
    assert_eq!(done["state"], "failed", "{done}");
    let attempts = done["attempts"].as_array().expect("attempts").len();
    assert!(attempts >= 3, "retried: {done}");
    assert_eq!(api.webhook(&owner, &down_id).await["enabled"], true);
    let second = api.ping(&owner, &down_id).await;
    api.finished(&owner, &down_id, &second, Duration::from_secs(30))
        .await;
    let endpoint = api.webhook(&owner, &down_id).await;
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert_eq!(endpoint["failed_in_a_row"], 2, "{endpoint}");
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("HTTP 503")),
        "{endpoint}"
    );
    assert!(
        api.server.log().contains("webhook endpoint disabled"),
        "the owner is told in the log: {}",
        api.server.log()
    );
    let (_, enabled) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/webhooks/{down_id}"),
            &owner,
            Some(json!({ "enabled": true })),
        )
        .await;
    assert_eq!(enabled["enabled"], true, "{enabled}");
    assert_eq!(enabled["failed_in_a_row"], 0, "{enabled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_postgres_deliver_each_event_once() {
    let Some(pg) =
        common::pg::Postgres::start("two_processes_on_one_postgres_deliver_each_event_once")
    else {
        return;
    };
    let url = pg.database();
    let shared_key = (
        "POSTCTL_SERVER_KEY",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    );
    let one = Api::new(Server::start_with(
        Some(url.clone()),
        &[ALLOW_PRIVATE, shared_key],
    ));
    let two = Api::new(Server::start_with(Some(url), &[ALLOW_PRIVATE, shared_key]));
    let receiver = Receiver::start().await;
    // A slow receiver keeps deliveries in flight while the other process claims.
    receiver.state.lock().expect("state").delay = Duration::from_millis(40);
    let owner = one.server.user_with_key("ana", None, ALL_SCOPES);
    let (id, secret) = one
        .create(&owner, &receiver.url, &["ping", "post.scheduled"])
        .await;
    const EVENTS: usize = 60;
    let started = Instant::now();
    for n in 0..EVENTS {
        let api = if n % 2 == 0 { &one } else { &two };
        if n % 3 == 0 {
            let (status, body) = api
                .call(
                    Method::POST,
                    "/api/v1/posts",
                    &owner,
                    Some(json!({ "body": format!("post {n}"), "at": "in 3 hours" })),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        } else {
            api.ping(&owner, &id).await;
        }
    }
    let seen = receiver.wait_for(EVENTS, Duration::from_secs(60)).await;
    // A measurement for the record, not a limit.
    eprintln!(
        "{EVENTS} events recorded through both processes and delivered to a receiver \
         answering in 40 ms: {:?}",
        started.elapsed()
    );
    // Let any second sending of a delivery arrive.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen_after = receiver.seen();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &seen_after {
        *counts.entry(r.id.as_str()).or_default() += 1;
        verify(&secret, r).expect("signed under the shared server key's secret");
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(counts.len(), EVENTS, "{} requests", seen.len());
    let listed = two.deliveries(&owner, &id).await;
    assert_eq!(listed.len(), 50, "a page of 50");
    assert!(listed.iter().all(|d| d["state"] == "delivered"
        && d["attempts"].as_array().map(Vec::len) == Some(1)));
    drop(one);
    drop(two);
    drop(pg);
}

/// An endpoint whose receiver answers 410 is disabled, and the disabling reaches its
/// owners' and admins' inboxes (not an editor's) and the endpoints subscribed to
/// `webhook.disabled`, signed like every event.
async fn a_disabled_endpoint_is_told_to_the_owners(database_url: Option<String>) {
    let api = Api::new(Server::start_with(database_url, &[ALLOW_PRIVATE]));
    let owner = api.server.user_with_key("ana", None, ALL_SCOPES);
    let admin = api
        .server
        .user_with_key("bo", Some(("ana", "admin")), ALL_SCOPES);
    let editor = api
        .server
        .user_with_key("cy", Some(("ana", "editor")), "posts:read");
    let watcher = Receiver::start().await;
    let (_, watcher_secret) = api
        .create(&owner, &watcher.url, &["webhook.disabled"])
        .await;
    let gone = Receiver::start().await;
    gone.always(410);
    // A path with a token in it, as many receivers' URLs have: never repeated.
    let url = format!("{}?token=s3cr3t-in-the-url", gone.url);
    let (gone_id, _) = api.create(&admin, &url, &["ping"]).await;
    let delivery = api.ping(&owner, &gone_id).await;
    let done = api
        .finished(&owner, &gone_id, &delivery, Duration::from_secs(20))
        .await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(api.webhook(&owner, &gone_id).await["enabled"], false);

    let told = watcher.wait_for(1, Duration::from_secs(20)).await;
    verify(&watcher_secret, &told[0]).expect("signed");
    let body = told[0].json();
    assert_eq!(body["type"], "webhook.disabled", "{body}");
    assert_eq!(body["data"]["webhook"]["id"], gone_id.as_str(), "{body}");
    assert!(
        body["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("410")),
        "{body}"
    );

    let inbox = |key: String| {
        let api = &api;
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let (status, page) = api.call(Method::GET, "/api/v1/inbox", &key, None).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                let items = page["items"].as_array().expect("items").clone();
                if !items.is_empty() || Instant::now() >= deadline {
                    return items;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    for key in [owner.clone(), admin.clone()] {
        let items = inbox(key).await;
        assert_eq!(items.len(), 1, "{items:?}");
        let item = &items[0];
        assert_eq!(item["event_type"], "webhook.disabled", "{item}");
        let title = item["title"].as_str().expect("a title");
        assert!(
            title.contains("Webhook endpoint disabled") && title.contains(&gone_id),
            "{title}"
        );
        assert!(
            item["body"].as_str().is_some_and(|b| b.contains("410")),
            "{item}"
        );
        assert!(!item.to_string().contains("s3cr3t"), "{item}");
    }
    // The notifier has long routed the event: an editor is not told.
    let (_, page) = api.call(Method::GET, "/api/v1/inbox", &editor, None).await;
    assert_eq!(page["items"], json!([]), "{page}");
    assert!(!api.server.log().contains("s3cr3t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_endpoint_is_told_to_the_owners_on_sqlite() {
    a_disabled_endpoint_is_told_to_the_owners(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_endpoint_is_told_to_the_owners_on_postgres() {
    let Some(pg) =
        common::pg::Postgres::start("a_disabled_endpoint_is_told_to_the_owners_on_postgres")
    else {
        return;
    };
    a_disabled_endpoint_is_told_to_the_owners(Some(pg.database())).await;
}
