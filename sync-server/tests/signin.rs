//! Signing in and keeping keys safe, end to end: a real `postctl-server` process on
//! SQLite and on PostgreSQL, called over HTTP. Password sign-in and sessions, TOTP and
//! recovery codes, lockouts per user and per address, key rotation, rate limits, IP
//! allowlists and user deletion. The server runs with one-second lockouts so the tests
//! can wait for one to end.

mod common;

use std::time::Duration;

use common::server::Server;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "a long password";

struct Api {
    server: Server,
    http: reqwest::Client,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Answer {
            status,
            headers,
            json,
        }
    }

    async fn sign_in(&self, body: Value) -> Answer {
        self.call(Method::POST, "/api/v1/session", None, Some(body))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }
}

fn assert_problem(a: &Answer, status: StatusCode, kind: &str) {
    assert_eq!(a.status, status, "{}", a.json);
    assert_eq!(
        a.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{}",
        a.json
    );
    assert_eq!(
        a.json["type"],
        format!("urn:postctl:problem:{kind}"),
        "{}",
        a.json
    );
    assert!(
        a.json["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        a.json
    );
}

fn detail(a: &Answer) -> String {
    a.json["detail"].as_str().unwrap_or_default().to_string()
}

/// The secret in an otpauth:// URI.
fn uri_secret(uri: &str) -> Vec<u8> {
    let b32 = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("a secret in the URI");
    totp_rs::Secret::try_from_base32(b32)
        .expect("base32")
        .as_bytes()
        .to_vec()
}

fn code_at(secret: &[u8], offset_s: i64) -> String {
    let now = chrono::Utc::now().timestamp() + offset_s;
    postctl_server::auth::totp::code_at(secret, now as u64).expect("code")
}

async fn run_all(server: Server) {
    let api = Api {
        server,
        http: postctl_core::tls::client_builder()
            .build()
            .expect("an HTTP client"),
    };
    eprintln!("scenario: sessions");
    passwords_give_sessions(&api).await;
    eprintln!("scenario: totp");
    totp_and_recovery_codes(&api).await;
    eprintln!("scenario: totp cli");
    totp_from_the_command_line(&api).await;
    eprintln!("scenario: rotation");
    rotated_keys_overlap_then_stop(&api).await;
    eprintln!("scenario: rate limits");
    rate_limits_refuse_then_recover(&api).await;
    eprintln!("scenario: allowlists");
    allowlists_refuse_other_addresses(&api).await;
    eprintln!("scenario: deletion");
    deleted_users_stop_at_once(&api).await;
    eprintln!("scenario: secrets");
    secrets_stay_out_of_logs_and_the_database(&api).await;
    // Last: it locks the test's own address.
    eprintln!("scenario: lockout");
    failures_lock_users_then_addresses(&api).await;
}

#[tokio::test]
async fn sign_in_over_http_on_sqlite() {
    run_all(Server::start_with(
        None,
        &[("POSTCTL_SERVER_LOCKOUT_SECONDS", "1")],
    ))
    .await;
}

#[tokio::test]
async fn sign_in_over_http_on_postgres() {
    let Some(pg) = common::pg::Postgres::start("sign_in_over_http_on_postgres") else {
        return;
    };
    let server = Server::start_with(
        Some(pg.database()),
        &[("POSTCTL_SERVER_LOCKOUT_SECONDS", "1")],
    );
    run_all(server).await;
    drop(pg);
}

async fn passwords_give_sessions(api: &Api) {
    let key = api.server.user_with_key("sam", None, "posts:read");
    let wrong = api
        .sign_in(json!({ "name": "sam", "password": "not the password" }))
        .await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "invalid-credentials");
    let unknown = api
        .sign_in(json!({ "name": "nobody", "password": PASSWORD }))
        .await;
    assert_problem(&unknown, StatusCode::UNAUTHORIZED, "invalid-credentials");
    assert_eq!(
        detail(&unknown),
        detail(&wrong),
        "an unknown name looks like a wrong password"
    );
    let signed = api
        .sign_in(json!({ "name": "sam", "password": PASSWORD }))
        .await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.json);
    let token = signed.json["token"].as_str().expect("a token").to_string();
    assert!(token.starts_with("pss_") && token.len() == 44, "{token}");
    assert_eq!(signed.json["workspace"]["name"], "sam");
    assert_eq!(signed.json["role"], "owner");
    let me = api.get("/api/v1/me", &token).await;
    assert_eq!(
        (me.status, me.json["user"]["name"].clone()),
        (StatusCode::OK, json!("sam"))
    );
    // A session may do what the role allows: here, write posts (the key cannot).
    let post = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&token),
            Some(json!({ "body": "hi" })),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.json);
    assert!(
        post.header("ratelimit-limit").is_some(),
        "sessions are rate-limited too"
    );
    let with_key = api
        .call(Method::DELETE, "/api/v1/session", Some(&key), None)
        .await;
    assert_problem(&with_key, StatusCode::BAD_REQUEST, "invalid-request");
    let out = api
        .call(Method::DELETE, "/api/v1/session", Some(&token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = api.get("/api/v1/me", &token).await;
    assert_problem(&after, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(detail(&after).contains("signed out"), "{}", after.json);
    // A new password ends every session.
    let again = api
        .sign_in(json!({ "name": "sam", "password": PASSWORD }))
        .await;
    let token = again.json["token"].as_str().expect("token").to_string();
    api.server.ok(
        &["user", "passwd", "sam", "--password-stdin"],
        "another long password\n",
    );
    assert_problem(
        &api.get("/api/v1/me", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let old = api
        .sign_in(json!({ "name": "sam", "password": PASSWORD }))
        .await;
    assert_problem(&old, StatusCode::UNAUTHORIZED, "invalid-credentials");
    let new = api
        .sign_in(json!({ "name": "sam", "password": "another long password" }))
        .await;
    assert_eq!(new.status, StatusCode::CREATED, "{}", new.json);
    let short = api
        .server
        .cli(&["user", "passwd", "sam", "--password-stdin"], "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("shorter than 8"));
}

async fn totp_and_recovery_codes(api: &Api) {
    api.server.ok(
        &["user", "add", "tia", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    let reader = api.server.key("tia", "tia", "posts:read", &[]);
    let signed = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD }))
        .await;
    let session = signed.json["token"].as_str().expect("token").to_string();
    // Changing one's sign-in needs a session, or a key with `admin`.
    let narrow = api
        .call(Method::POST, "/api/v1/me/totp", Some(&reader), None)
        .await;
    assert_problem(&narrow, StatusCode::FORBIDDEN, "insufficient-scope");
    let enrol = api
        .call(Method::POST, "/api/v1/me/totp", Some(&session), None)
        .await;
    assert_eq!(enrol.status, StatusCode::CREATED, "{}", enrol.json);
    let uri = enrol.json["otpauth_uri"].as_str().expect("uri").to_string();
    assert!(
        uri.starts_with("otpauth://totp/postctl-server:tia?"),
        "{uri}"
    );
    let secret = uri_secret(&uri);
    // Until confirmed, the password alone still signs in.
    let before = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD }))
        .await;
    assert_eq!(before.status, StatusCode::CREATED, "{}", before.json);
    let confirm = |code: String| {
        api.call(
            Method::POST,
            "/api/v1/me/totp/confirm",
            Some(&session),
            Some(json!({ "code": code })),
        )
    };
    let bad = confirm("000000".into()).await;
    let bad = if bad.status == StatusCode::OK {
        panic!("000000 confirmed")
    } else {
        bad
    };
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let confirmed = confirm(code_at(&secret, 0)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.json);
    let codes: Vec<String> = confirmed.json["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    let twice = confirm(code_at(&secret, 0)).await;
    assert_problem(&twice, StatusCode::CONFLICT, "conflict");
    // Now the password alone is not enough.
    let password_only = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD }))
        .await;
    assert_problem(&password_only, StatusCode::UNAUTHORIZED, "totp-required");
    let wrong_code = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD, "code": "123456x" }))
        .await;
    assert_problem(&wrong_code, StatusCode::UNAUTHORIZED, "invalid-credentials");
    // The code used to confirm was used: replaying it fails; the next one works.
    let replay = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD, "code": code_at(&secret, 0) }))
        .await;
    assert_problem(&replay, StatusCode::UNAUTHORIZED, "invalid-credentials");
    assert!(detail(&replay).contains("used already"), "{}", replay.json);
    let next = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD, "code": code_at(&secret, 30) }))
        .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.json);
    let wrong_password = api
        .sign_in(
            json!({ "name": "tia", "password": "nope nope nope", "code": code_at(&secret, 30) }),
        )
        .await;
    assert_problem(
        &wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
    );
    // A recovery code works once, typed loosely.
    let loose = codes[0].to_uppercase().replace('-', " ");
    let recovered = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD, "recovery_code": loose }))
        .await;
    assert_eq!(recovered.status, StatusCode::CREATED, "{}", recovered.json);
    assert_eq!(recovered.json["recovery_codes_left"], 9);
    let reused = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD, "recovery_code": codes[0] }))
        .await;
    assert_problem(&reused, StatusCode::UNAUTHORIZED, "invalid-credentials");
    let other = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD, "recovery_code": codes[1] }))
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.json);
    // Turning it off: the password alone signs in again.
    let off = api
        .call(Method::DELETE, "/api/v1/me/totp", Some(&session), None)
        .await;
    assert_eq!(off.status, StatusCode::NO_CONTENT);
    let plain = api
        .sign_in(json!({ "name": "tia", "password": PASSWORD }))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.json);
}

async fn totp_from_the_command_line(api: &Api) {
    api.server.ok(
        &["user", "add", "cleo", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    let none = api
        .server
        .cli(&["user", "totp", "confirm", "cleo", "123456"], "");
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no TOTP enrolment"));
    let enrolled: Value = serde_json::from_str(
        &api.server
            .ok(&["user", "totp", "enrol", "cleo", "--json"], ""),
    )
    .expect("json");
    let secret = uri_secret(enrolled["otpauth_uri"].as_str().expect("uri"));
    let wrong = api
        .server
        .cli(&["user", "totp", "confirm", "cleo", "000000"], "");
    if code_at(&secret, 0) != "000000" {
        assert!(!wrong.status.success());
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not match"));
    }
    let confirmed: Value = serde_json::from_str(&api.server.ok(
        &[
            "user",
            "totp",
            "confirm",
            "cleo",
            &code_at(&secret, 0),
            "--json",
        ],
        "",
    ))
    .expect("json");
    assert_eq!(
        confirmed["recovery_codes"].as_array().map(Vec::len),
        Some(10)
    );
    let password_only = api
        .sign_in(json!({ "name": "cleo", "password": PASSWORD }))
        .await;
    assert_problem(&password_only, StatusCode::UNAUTHORIZED, "totp-required");
    api.server.ok(&["user", "totp", "disable", "cleo"], "");
    let plain = api
        .sign_in(json!({ "name": "cleo", "password": PASSWORD }))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.json);
}

async fn rotated_keys_overlap_then_stop(api: &Api) {
    let old = api.server.user_with_key("rota", None, "posts:read,admin");
    let listed: Value = serde_json::from_str(
        &api.server
            .ok(&["key", "list", "--user", "rota", "--json"], ""),
    )
    .expect("json");
    let id = listed[0]["id"].as_str().expect("id").to_string();
    let rotated: Value = serde_json::from_str(
        &api.server
            .ok(&["key", "rotate", &id, "--grace", "2s", "--json"], ""),
    )
    .expect("json");
    let new = rotated["key"].as_str().expect("the new key").to_string();
    assert!(new.starts_with("sk_live_") && new != old);
    // Both work during the grace period.
    assert_eq!(api.get("/api/v1/posts", &old).await.status, StatusCode::OK);
    assert_eq!(api.get("/api/v1/posts", &new).await.status, StatusCode::OK);
    let listed = api
        .server
        .ok(&["key", "list", "--user", "rota", "--json"], "");
    assert!(listed.contains("\"status\":\"rotated\""), "{listed}");
    assert!(!listed.contains(&new[8..]), "a listing shows a key");
    let again = api.server.cli(&["key", "rotate", &id], "");
    assert!(!again.status.success(), "a key rotates once");
    assert!(String::from_utf8_lossy(&again.stderr).contains("rotated already"));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let stopped = api.get("/api/v1/posts", &old).await;
    assert_problem(&stopped, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(detail(&stopped).contains("rotated"), "{}", stopped.json);
    assert_eq!(api.get("/api/v1/posts", &new).await.status, StatusCode::OK);
    // Through the API: a day's grace by default; never by a key with fewer scopes.
    let new_id = rotated["id"].as_str().expect("id");
    let narrow = api
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&new),
            Some(json!({ "scopes": ["posts:read"] })),
        )
        .await;
    let narrow = narrow.json["key"].as_str().expect("key").to_string();
    let widen = api
        .call(
            Method::POST,
            &format!("/api/v1/keys/{new_id}/rotate"),
            Some(&narrow),
            None,
        )
        .await;
    assert_problem(&widen, StatusCode::FORBIDDEN, "insufficient-scope");
    let by_api = api
        .call(
            Method::POST,
            &format!("/api/v1/keys/{new_id}/rotate"),
            Some(&new),
            None,
        )
        .await;
    assert_eq!(by_api.status, StatusCode::CREATED, "{}", by_api.json);
    let until = chrono::DateTime::parse_from_rfc3339(
        by_api.json["old_key_expires_at"].as_str().expect("until"),
    )
    .expect("time");
    let hours = until
        .signed_duration_since(chrono::Utc::now())
        .num_minutes();
    assert!(
        (23 * 60..=24 * 60).contains(&hours),
        "{hours} minutes of grace"
    );
    let newest = by_api.json["key"].as_str().expect("key");
    assert_eq!(
        api.get("/api/v1/posts", newest).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.get("/api/v1/posts", &new).await.status,
        StatusCode::OK,
        "in its grace period"
    );
    let twice = api
        .call(
            Method::POST,
            &format!("/api/v1/keys/{new_id}/rotate"),
            Some(&new),
            None,
        )
        .await;
    assert_problem(&twice, StatusCode::CONFLICT, "conflict");
}

async fn rate_limits_refuse_then_recover(api: &Api) {
    let limited = api.server.user_with_key("rl", None, "posts:read");
    let limited = {
        let _ = limited;
        api.server
            .key("rl", "rl", "posts:read", &["--rate-limit", "30"])
    };
    let other = api.server.key("rl", "rl", "posts:read", &[]);
    for i in 0..30u32 {
        let a = api.get("/api/v1/posts", &limited).await;
        assert_eq!(a.status, StatusCode::OK, "request {i}: {}", a.json);
        assert_eq!(a.header("ratelimit-limit").as_deref(), Some("30"));
        assert_eq!(
            a.header("ratelimit-remaining"),
            Some((29 - i).to_string()),
            "request {i}"
        );
    }
    let refused = api.get("/api/v1/posts", &limited).await;
    assert_problem(&refused, StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    assert_eq!(refused.header("ratelimit-remaining").as_deref(), Some("0"));
    let wait: u64 = refused
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    // Another key of the same user has its own bucket.
    assert_eq!(
        api.get("/api/v1/posts", &other).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
    let recovered = api.get("/api/v1/posts", &limited).await;
    assert_eq!(recovered.status, StatusCode::OK, "{}", recovered.json);
    let zero = api.server.cli(
        &[
            "key",
            "create",
            "--user",
            "rl",
            "--scope",
            "posts:read",
            "--rate-limit",
            "0",
        ],
        "",
    );
    assert!(!zero.status.success());
}

async fn allowlists_refuse_other_addresses(api: &Api) {
    let key = api
        .server
        .user_with_key("ally", None, "posts:read,posts:write");
    let elsewhere = api.server.key(
        "ally",
        "ally",
        "posts:read",
        &["--allow-ip", "10.0.0.0/8,192.0.2.7"],
    );
    let refused = api.get("/api/v1/posts", &elsewhere).await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "address-not-allowed");
    assert!(detail(&refused).contains("127.0.0.1"), "{}", refused.json);
    assert!(
        detail(&refused).contains("10.0.0.0/8, 192.0.2.7/32"),
        "{}",
        refused.json
    );
    let here = api
        .server
        .key("ally", "ally", "posts:read", &["--allow-ip", "127.0.0.0/8"]);
    assert_eq!(api.get("/api/v1/posts", &here).await.status, StatusCode::OK);
    let bad = api.server.cli(
        &[
            "key",
            "create",
            "--user",
            "ally",
            "--scope",
            "posts:read",
            "--allow-ip",
            "10.0.0.300/8",
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an IP network"));
    let made = api
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&key),
            Some(json!({ "scopes": ["posts:read"], "allowed_ips": ["198.51.100.0/24"], "rate_per_minute": 5 })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(made.json["allowed_ips"], json!(["198.51.100.0/24"]));
    assert_eq!(made.json["rate_per_minute"], 5);
    let secret = made.json["key"].as_str().expect("key");
    assert_problem(
        &api.get("/api/v1/posts", secret).await,
        StatusCode::FORBIDDEN,
        "address-not-allowed",
    );
    let nonsense = api
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&key),
            Some(json!({ "scopes": ["posts:read"], "allowed_ips": ["anywhere"] })),
        )
        .await;
    assert_problem(&nonsense, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
}

async fn deleted_users_stop_at_once(api: &Api) {
    api.server.ok(
        &["user", "add", "boss", "--password-stdin", "--admin"],
        &format!("{PASSWORD}\n"),
    );
    let boss = api
        .server
        .key("boss", "boss", "posts:read,posts:write,admin", &[]);
    let gone_key =
        api.server
            .user_with_key("gone", Some(("boss", "editor")), "posts:read,posts:write");
    let session = api
        .sign_in(json!({ "name": "gone", "password": PASSWORD }))
        .await
        .json["token"]
        .as_str()
        .expect("token")
        .to_string();
    let post = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&gone_key),
            Some(json!({ "body": "by gone" })),
        )
        .await;
    let post_id = post.json["id"].as_str().expect("id").to_string();
    let gone_id = post.json["author_id"].as_str().expect("author").to_string();
    // Only a server administrator deletes users.
    let editor = api
        .server
        .user_with_key("ed", Some(("boss", "admin")), "posts:read,admin");
    let not_admin = api
        .call(Method::DELETE, "/api/v1/users/gone", Some(&editor), None)
        .await;
    assert_problem(&not_admin, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        api.get("/api/v1/posts", &gone_key).await.status,
        StatusCode::OK
    );
    let deleted = api
        .call(Method::DELETE, "/api/v1/users/gone", Some(&boss), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    assert_problem(
        &api.get("/api/v1/posts", &gone_key).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_problem(
        &api.get("/api/v1/me", &session).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let sign_in = api
        .sign_in(json!({ "name": "gone", "password": PASSWORD }))
        .await;
    assert_problem(&sign_in, StatusCode::UNAUTHORIZED, "invalid-credentials");
    let kept = api.get(&format!("/api/v1/posts/{post_id}"), &boss).await;
    assert_eq!(
        (kept.status, kept.json["author_id"].clone()),
        (StatusCode::OK, json!(gone_id))
    );
    let members = api.get("/api/v1/members", &boss).await.json.to_string();
    assert!(!members.contains("\"gone\""), "{members}");
    let again = api
        .call(Method::DELETE, "/api/v1/users/gone", Some(&boss), None)
        .await;
    assert_problem(&again, StatusCode::NOT_FOUND, "not-found");
    let listed = api.server.ok(&["key", "list", "--json"], "");
    assert!(
        !listed.contains(&gone_id),
        "the deleted user's keys are gone"
    );
    // The only owner of a workspace with other members is not deleted.
    let last = api
        .call(Method::DELETE, "/api/v1/users/boss", Some(&boss), None)
        .await;
    let last_owner_kept = api.get("/api/v1/me", &boss).await;
    if last.status == StatusCode::NO_CONTENT {
        panic!("the last owner was deleted");
    }
    assert_problem(&last, StatusCode::CONFLICT, "conflict");
    assert_eq!(last_owner_kept.status, StatusCode::OK);
    // From the command line too.
    let cli_key = api.server.user_with_key("byecli", None, "posts:read");
    assert_eq!(
        api.get("/api/v1/posts", &cli_key).await.status,
        StatusCode::OK
    );
    api.server.ok(&["user", "delete", "byecli"], "");
    assert_problem(
        &api.get("/api/v1/posts", &cli_key).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let missing = api.server.cli(&["user", "delete", "byecli"], "");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user"));
}

async fn secrets_stay_out_of_logs_and_the_database(api: &Api) {
    let password = "correct horse battery staple";
    api.server.ok(
        &["user", "add", "hush", "--password-stdin"],
        &format!("{password}\n"),
    );
    let signed = api
        .sign_in(json!({ "name": "hush", "password": password }))
        .await;
    let token = signed.json["token"].as_str().expect("token").to_string();
    let enrolled = api
        .call(Method::POST, "/api/v1/me/totp", Some(&token), None)
        .await;
    let b32 = enrolled.json["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let secret = uri_secret(enrolled.json["otpauth_uri"].as_str().expect("uri"));
    let confirmed = api
        .call(
            Method::POST,
            "/api/v1/me/totp/confirm",
            Some(&token),
            Some(json!({ "code": code_at(&secret, 0) })),
        )
        .await;
    let codes: Vec<String> = confirmed.json["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    // A key made with an Idempotency-Key: a replay says it was made, without the key.
    let make_key = || {
        api.http
            .post(format!("{}/api/v1/keys", api.server.base))
            .bearer_auth(&token)
            .header("idempotency-key", "hush-key-1")
            .json(&json!({ "scopes": ["posts:read"] }))
            .send()
    };
    let first: Value = make_key()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let made_key = first["key"].as_str().expect("the key").to_string();
    let replayed = make_key().await.expect("answer");
    assert_eq!(replayed.status(), StatusCode::CREATED);
    assert_eq!(
        replayed
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let replayed: Value = replayed.json().await.expect("json");
    assert_eq!(
        (replayed["id"].clone(), replayed["key"].clone()),
        (first["id"].clone(), json!("(shown once)"))
    );
    let wrong = api
        .sign_in(json!({ "name": "hush", "password": "wrong password!" }))
        .await;
    assert!(!wrong.json.to_string().contains(password));
    let log = api.server.log();
    for s in [password, token.as_str(), b32.as_str(), codes[0].as_str()] {
        assert!(!log.contains(s), "a secret in the server's log");
    }
    if api.server.database_url.is_none() {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(api.server.data.path()).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n != "secret.key") {
                bytes.extend(std::fs::read(path).expect("read"));
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("hush"), "the search reads the database files");
        for s in [
            password,
            &made_key[8..],
            &token[4..],
            b32.as_str(),
            &codes[0],
            &codes[0].replace('-', ""),
        ] {
            assert!(!text.contains(s), "a secret in the database files");
        }
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
            "the raw TOTP secret in the database files"
        );
    }
}

async fn failures_lock_users_then_addresses(api: &Api) {
    api.server.ok(
        &["user", "add", "lou", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    let wrong = json!({ "name": "lou", "password": "wrong password" });
    for i in 1..5 {
        let a = api.sign_in(wrong.clone()).await;
        assert_problem(&a, StatusCode::UNAUTHORIZED, "invalid-credentials");
        assert!(a.header("retry-after").is_none(), "failure {i}");
    }
    let fifth = api.sign_in(wrong.clone()).await;
    assert_problem(&fifth, StatusCode::TOO_MANY_REQUESTS, "login-locked");
    // The right password is refused during the lock, which says when to retry.
    let right = json!({ "name": "lou", "password": PASSWORD });
    let locked = api.sign_in(right.clone()).await;
    assert_problem(&locked, StatusCode::TOO_MANY_REQUESTS, "login-locked");
    assert_eq!(locked.header("retry-after").as_deref(), Some("1"));
    assert!(
        detail(&locked).contains("try again in 1 s"),
        "{}",
        locked.json
    );
    // Other users are not locked.
    api.server.ok(
        &["user", "add", "lea", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    let lea = api
        .sign_in(json!({ "name": "lea", "password": PASSWORD }))
        .await;
    assert_eq!(lea.status, StatusCode::CREATED, "{}", lea.json);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let after = api.sign_in(right.clone()).await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.json);
    // Failures across many names lock the address.
    let mut tries = 0;
    let address_locked = loop {
        tries += 1;
        assert!(tries <= 20, "the address was never locked");
        let a = api
            .sign_in(json!({ "name": format!("guess{tries}"), "password": "guess guess" }))
            .await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            break a;
        }
        assert_problem(&a, StatusCode::UNAUTHORIZED, "invalid-credentials");
    };
    assert_problem(
        &address_locked,
        StatusCode::TOO_MANY_REQUESTS,
        "login-locked",
    );
    assert!(
        detail(&address_locked).contains("address"),
        "{}",
        address_locked.json
    );
    let refused = api
        .sign_in(json!({ "name": "lea", "password": PASSWORD }))
        .await;
    assert_problem(&refused, StatusCode::TOO_MANY_REQUESTS, "login-locked");
    assert!(refused.header("retry-after").is_some());
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let lea = api
        .sign_in(json!({ "name": "lea", "password": PASSWORD }))
        .await;
    assert_eq!(lea.status, StatusCode::CREATED, "{}", lea.json);
}
