//! Every network whose requests carry the secret (in the URL, a header or the body), against
//! servers that misbehave with it: one that echoes the whole request back in its error, as
//! some proxies, gateways and debug servers do (the adapter's error must come out with the
//! secret scrubbed), and one that redirects to another server (which must receive nothing).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::test_server::{Reply, Request, TestServer};
use super::*;
use crate::secrets::REDACTED;
use crate::text::Rendered;

/// The whole request, as an error that quotes it (path, credentials, body), in every field
/// the networks put their error text in, so each adapter shows it.
fn echo(status: u16) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |request: &Request| {
        let auth = request.header("authorization").unwrap_or_default();
        let said = format!(
            "cannot serve {} {} (auth {auth}) {}",
            request.method,
            request.path,
            request.body_text()
        );
        Reply::json(
            status,
            json!({
                "ok": false,
                "error_code": status,
                "errcode": "M_UNKNOWN",
                "code": 0,
                "error": said,
                "message": said,
                "description": said,
                "error_description": said,
                "detail": said,
            }),
        )
    }
}

fn account(network: Network, base_url: Option<String>, settings: Value) -> Account {
    Account {
        id: "a1".into(),
        name: "acct".into(),
        network,
        base_url,
        handle: Some("me.test".into()),
        settings,
        secret_ref: "env:X".into(),
        created: chrono::DateTime::UNIX_EPOCH,
    }
}

fn part() -> Part {
    Part {
        index: 0,
        rendered: Rendered {
            text: "Shipped v1.2".into(),
            html: None,
            facets: vec![],
        },
        media: vec![],
        idempotency_key: "target-1:0".into(),
        stage: Default::default(),
        reply_to: None,
        root: None,
    }
}

/// The account and secret of each network that sends its secret, pointed at `base`.
fn cases(base: &str) -> Vec<(&'static str, Account, String)> {
    let n = |network, settings| account(network, Some(base.to_owned()), settings);
    vec![
        (
            "mastodon",
            n(Network::Mastodon, json!({})),
            "masto-tok-7Qw9Zp2Lx".into(),
        ),
        (
            "bluesky",
            n(Network::Bluesky, json!({})),
            "abcd-efgh-ijkl-mnop".into(),
        ),
        (
            "telegram",
            n(Network::Telegram, json!({"chat": "@channel"})),
            "123456789:AAE-telegram-SeCrEt-value".into(),
        ),
        (
            "discord bot",
            n(Network::Discord, json!({"mode": "bot", "channel": "555"})),
            "discord-bot-SeCrEt-token".into(),
        ),
        (
            "discord webhook",
            account(Network::Discord, None, json!({"mode": "webhook"})),
            format!("{base}/api/webhooks/123456789012345678/hookSecretPart-XyZ"),
        ),
        (
            "slack bot",
            n(
                Network::Slack,
                json!({"mode": "bot", "channel": "C0123ABC"}),
            ),
            "xoxb-slack-SeCrEt-token".into(),
        ),
        (
            "slack webhook",
            account(Network::Slack, None, json!({"mode": "webhook"})),
            format!("{base}/services/T000/B000/fakesecretfakesecret"),
        ),
        (
            "matrix",
            n(Network::Matrix, json!({"room": "!room1:example.org"})),
            "syt_matrix_SeCrEt_4242".into(),
        ),
        (
            "x signed in",
            n(Network::X, json!({"client_id": "cid"})),
            r#"{"format":"oauth2","access_token":"x-acc-SeCrEt-token-1","refresh_token":"x-ref-SeCrEt-token-1"}"#.into(),
        ),
    ]
}

/// The parts of `secret` that must not be shown (a webhook URL's host may be).
fn secret_parts(secret: &str) -> Vec<String> {
    let mut parts = vec![secret.to_owned()];
    parts.extend(
        [
            "hookSecretPart-XyZ",
            "fakesecretfakesecret",
            "AAE-telegram-SeCrEt-value",
            "x-acc-SeCrEt-token-1",
            "x-ref-SeCrEt-token-1",
        ]
        .iter()
        .filter(|p| secret.contains(*p))
        .map(|p| p.to_string()),
    );
    parts
}

/// Keeps no session: each adapter here is used for a few requests and dropped.
struct NoSessions;

impl SessionStore for NoSessions {
    fn load(&self, _: &str) -> Option<Secret> {
        None
    }

    fn save(&self, _: &str, _: &Secret) {}
}

/// `account`'s adapter as the engine builds it, with `secret`.
fn adapter(account: &Account, secret: String, http: Http) -> Result<AccountAdapter, PublishError> {
    let tools = Tools {
        http,
        sessions: Arc::new(NoSessions),
        limits: None,
        media_host: Err(String::new()),
        redactor: crate::secrets::SharedRedactor::default(),
        inbox: Arc::new(super::test_server::NoUpdates::default()),
    };
    open(account, Secret::new(secret), tools)
}

#[tokio::test]
async fn errors_that_echo_the_request_never_carry_the_secret() {
    for status in [400, 401, 500] {
        let server = TestServer::start(echo(status)).await;
        for (name, account, secret) in cases(&server.url()) {
            let http = Http::new(Duration::from_secs(5)).expect("client");
            let mut adapter =
                adapter(&account, secret.clone(), http).unwrap_or_else(|e| panic!("{name}: {e}"));
            let errors = [
                adapter.prepare().await.err(),
                adapter.verify().await.err(),
                adapter.publish(&part()).await.err(),
            ];
            let messages: Vec<String> = errors.iter().flatten().map(|e| e.to_string()).collect();
            assert!(!messages.is_empty(), "{name} {status}: no error at all");
            for message in &messages {
                for piece in secret_parts(&secret) {
                    assert!(
                        !message.contains(&piece),
                        "{name} {status}: the secret is in {message:?}"
                    );
                }
            }
            // The echo reached the message (so the check above could have failed).
            assert!(
                messages.iter().any(|m| m.contains(REDACTED)),
                "{name} {status}: no echo was scrubbed: {messages:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_redirect_to_another_server_carries_nothing_there() {
    let elsewhere = TestServer::start(|_: &Request| Reply::text(200, "ok")).await;
    let target = elsewhere.url();
    for status in [301, 302, 307, 308] {
        let target = target.clone();
        let server = TestServer::start(move |request: &Request| {
            Reply::text(status, "moved").header("location", &format!("{target}{}", request.path))
        })
        .await;
        for (name, account, secret) in cases(&server.url()) {
            let http = Http::new(Duration::from_secs(5)).expect("client");
            let mut adapter =
                adapter(&account, secret, http).unwrap_or_else(|e| panic!("{name}: {e}"));
            let _ = adapter.prepare().await;
            let _ = adapter.verify().await;
            let published = adapter.publish(&part()).await;
            assert!(published.is_err(), "{name} {status}: {published:?}");
            assert!(
                !server.requests().is_empty(),
                "{name} {status}: nothing was sent at all"
            );
        }
    }
    let received: Vec<String> = elsewhere
        .requests()
        .iter()
        .map(|r| format!("{} {} {:?} {}", r.method, r.path, r.headers, r.body_text()))
        .collect();
    assert!(
        received.is_empty(),
        "the other server received {received:#?}"
    );
}

#[tokio::test]
async fn a_redirect_on_the_same_server_is_followed() {
    let server = TestServer::start(|request: &Request| match request.path.as_str() {
        "/old" => Reply::text(308, "moved").header("location", "/new"),
        _ => Reply::text(200, "here"),
    })
    .await;
    let http = Http::new(Duration::from_secs(5)).expect("client");
    let answer = http
        .exchange("acct", http.client().get(format!("{}/old", server.url())))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"here"[..]));
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/old", "/new"]);
}

/// Bluesky's session tokens are secrets too: a PDS (or a proxy before it) that echoes the
/// request's `Authorization: Bearer <accessJwt>` and a refresh token in its error shows
/// neither, in every error the account returns.
#[tokio::test]
async fn errors_that_echo_a_bluesky_session_never_carry_its_tokens() {
    const ACCESS: &str = "eyJhbGciOiJIUzI1NiJ9.access-SeCrEt-payload.c2lnbmF0dXJl";
    const REFRESH: &str = "eyJhbGciOiJIUzI1NiJ9.refresh-SeCrEt-payload.c2lnbmF0dXJl";
    let server = TestServer::start(|request: &Request| {
        if request.path.ends_with("com.atproto.server.createSession") {
            return Reply::json(
                200,
                json!({"accessJwt": ACCESS, "refreshJwt": REFRESH, "did": "did:plc:me", "handle": "me.test"}),
            );
        }
        let auth = request.header("authorization").unwrap_or_default();
        Reply::json(
            400,
            json!({"error": "InvalidRequest", "message": format!("cannot serve {} (auth {auth}, refresh {REFRESH})", request.path)}),
        )
    })
    .await;
    let account = account(Network::Bluesky, Some(server.url()), json!({}));
    let http = Http::new(Duration::from_secs(5)).expect("client");
    let mut adapter = adapter(&account, "abcd-efgh-ijkl-mnop".into(), http).expect("adapter");
    adapter.prepare().await.expect("a session");
    let errors = [
        adapter.verify().await.err(),
        adapter.publish(&part()).await.err(),
    ];
    let messages: Vec<String> = errors.iter().flatten().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    for message in &messages {
        for token in [ACCESS, REFRESH, "access-SeCrEt-payload"] {
            assert!(!message.contains(token), "a token is in {message:?}");
        }
        assert!(
            message.contains(REDACTED),
            "no echo was scrubbed: {message:?}"
        );
    }
}
