//! The API end to end: a real `postctl-server` process, on SQLite and on PostgreSQL, called
//! over HTTP. Users and keys are made with the same binary's commands, as an admin would.
//! One server per database; each scenario makes its own users and workspaces.

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

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.send(method, path, key, body, &[]).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
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

    async fn raw(
        &self,
        method: Method,
        path: &str,
        key: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base))
            .bearer_auth(key)
            .body(body.to_string());
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let json =
            serde_json::from_str(&response.text().await.expect("body")).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    async fn new_post(&self, key: &str, body: &str) -> String {
        let a = self
            .call(
                Method::POST,
                "/api/v1/posts",
                Some(key),
                Some(json!({ "body": body })),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
        a.json["id"].as_str().expect("id").to_string()
    }
}

/// Asserts an RFC 9457 problem with a stable type.
fn assert_problem(a: &Answer, status: StatusCode, kind: &str) {
    assert_eq!(a.status, status, "{}", a.json);
    assert_eq!(
        a.headers.get("content-type").and_then(|v| v.to_str().ok()),
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
    assert_eq!(a.json["status"], status.as_u16());
    assert!(
        a.json["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{}",
        a.json
    );
    assert!(
        a.json["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{}",
        a.json
    );
}

async fn run_all(server: Server) {
    let api = Api {
        server,
        http: postctl_core::tls::client_builder()
            .build()
            .expect("an HTTP client"),
    };
    // First: the setup token only works while there are no users.
    eprintln!("scenario: setup");
    setup_token_makes_the_first_admin(&api).await;
    eprintln!("scenario: health");
    health_and_readiness(&api).await;
    eprintln!("scenario: auth");
    authentication_failures(&api).await;
    eprintln!("scenario: roles");
    every_role_against_every_route(&api).await;
    eprintln!("scenario: workspaces");
    another_workspace_is_not_found(&api).await;
    eprintln!("scenario: scopes");
    scopes_limit_keys(&api).await;
    eprintln!("scenario: expiry");
    expired_keys_stop_working(&api).await;
    eprintln!("scenario: idempotency");
    idempotency_keys(&api).await;
    eprintln!("scenario: problems");
    bad_requests_are_problems(&api).await;
    eprintln!("scenario: posts");
    posts_are_scheduled_patched_and_deleted(&api).await;
    eprintln!("scenario: pagination");
    pagination(&api).await;
    eprintln!("scenario: keys");
    keys_of_ones_own(&api).await;
    eprintln!("scenario: sync");
    sync_versions_chain_and_apply_to_posts(&api).await;
    eprintln!("scenario: media");
    media_by_sha256_stays_in_its_workspace(&api).await;
    eprintln!("scenario: post media");
    posts_attach_uploaded_media(&api).await;
    eprintln!("scenario: secrets");
    secrets_stay_out_of_logs_and_the_database(&api).await;
    eprintln!("scenario: accounts");
    accounts_keep_their_credentials_to_themselves(&api).await;
    eprintln!("scenario: targets");
    targets_follow_their_state_machine(&api).await;
    eprintln!("scenario: templates");
    templates_and_voices_are_checked(&api).await;
    eprintln!("scenario: github trigger");
    a_github_release_becomes_one_post(&api).await;
    eprintln!("scenario: generic trigger");
    a_generic_trigger_posts_once_per_key(&api).await;
    eprintln!("scenario: trigger approvals");
    trigger_posts_wait_for_approval_as_their_makers_would(&api).await;
    eprintln!("scenario: queued posts");
    posts_take_the_next_free_queue_slot(&api).await;
}

/// The scenarios play the publisher themselves (through the storage), so the server's
/// own publisher is off: it would race them for the targets they make due.
const NOT_PUBLISHING: &[(&str, &str)] = &[("POSTCTL_SERVER_PUBLISH", "false")];

#[tokio::test]
async fn api_over_http_on_sqlite() {
    run_all(Server::start_with(None, NOT_PUBLISHING)).await;
}

#[tokio::test]
async fn api_over_http_on_postgres() {
    let Some(pg) = common::pg::Postgres::start("api_over_http_on_postgres") else {
        return;
    };
    let server = Server::start_with(Some(pg.database()), NOT_PUBLISHING);
    run_all(server).await;
    drop(pg);
}

async fn setup_token_makes_the_first_admin(api: &Api) {
    let token = api
        .server
        .setup_token()
        .expect("a setup token on first start");
    let body = |token: &str| json!({ "token": token, "name": "root", "password": PASSWORD });
    let wrong = api
        .call(Method::POST, "/api/v1/setup", None, Some(body("pst_wrong")))
        .await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "unauthorized");
    let short = api
        .call(
            Method::POST,
            "/api/v1/setup",
            None,
            Some(json!({ "token": token, "name": "root", "password": "short" })),
        )
        .await;
    assert_problem(&short, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let done = api
        .call(Method::POST, "/api/v1/setup", None, Some(body(&token)))
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.json);
    let key = done.json["api_key"]["key"]
        .as_str()
        .expect("a key")
        .to_string();
    assert!(key.starts_with("sk_live_") && key.len() >= 8 + 32, "{key}");
    let again = api
        .call(Method::POST, "/api/v1/setup", None, Some(body(&token)))
        .await;
    assert_problem(&again, StatusCode::UNAUTHORIZED, "unauthorized");
    let me = api.call(Method::GET, "/api/v1/me", Some(&key), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    assert_eq!(me.json["user"]["name"], "root");
    assert_eq!(me.json["workspace"]["name"], "root");
    assert_eq!(me.json["role"], "owner");
}

async fn health_and_readiness(api: &Api) {
    let alive = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (alive.status, alive.json["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (ready.status, ready.json["status"].clone()),
        (StatusCode::OK, json!("ready"))
    );
    let unknown = api
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "not-found");
}

async fn authentication_failures(api: &Api) {
    let key = api.server.user_with_key("authy", None, "posts:read");
    let none = api.call(Method::GET, "/api/v1/posts", None, None).await;
    assert_problem(&none, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        none.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let malformed = api
        .call(Method::GET, "/api/v1/posts", Some("sk_live_short"), None)
        .await;
    assert_problem(&malformed, StatusCode::UNAUTHORIZED, "unauthorized");
    let unknown = format!("sk_live_{}", "A".repeat(40));
    let unknown = api
        .call(Method::GET, "/api/v1/posts", Some(&unknown), None)
        .await;
    assert_problem(&unknown, StatusCode::UNAUTHORIZED, "unauthorized");
    let basic = api
        .send(
            Method::GET,
            "/api/v1/posts",
            None,
            None,
            &[("authorization", &format!("Basic {key}"))],
        )
        .await;
    assert_problem(&basic, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&key), None)
            .await
            .status,
        StatusCode::OK
    );
    let listed = api
        .server
        .ok(&["key", "list", "--user", "authy", "--json"], "");
    let listed: Value = serde_json::from_str(&listed).expect("json");
    let id = listed[0]["id"].as_str().expect("id").to_string();
    assert_eq!(listed[0]["prefix"], key[..12]);
    assert!(
        !listed.to_string().contains(&key),
        "a listing shows the key itself"
    );
    api.server.ok(&["key", "revoke", &id[..id.len() - 4]], "");
    let revoked = api
        .call(Method::GET, "/api/v1/posts", Some(&key), None)
        .await;
    assert_problem(&revoked, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        revoked.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("revoked")),
        "{}",
        revoked.json
    );
    let listed = api
        .server
        .ok(&["key", "list", "--user", "authy", "--json"], "");
    assert!(listed.contains("\"status\":\"revoked\""), "{listed}");
}

/// The role × route table: every role, on every route, allowed or 403.
async fn every_role_against_every_route(api: &Api) {
    let all = ALL_SCOPES;
    let owner = api.server.user_with_key("rowner", None, all);
    let mut keys = vec![("owner", owner.clone())];
    for role in ["admin", "editor", "viewer"] {
        let key = api
            .server
            .user_with_key(&format!("r{role}"), Some(("rowner", role)), all);
        keys.push((role, key));
    }
    api.server.ok(
        &["user", "add", "rspare", "--password-stdin"],
        "a long password\n",
    );
    let rank = |role: &str| {
        ["viewer", "editor", "admin", "owner"]
            .iter()
            .position(|r| *r == role)
    };
    // (method, path with {post}, body, least role, status when allowed)
    let routes: Vec<(Method, &str, Option<Value>, &str, StatusCode)> = vec![
        (Method::GET, "/api/v1/me", None, "viewer", StatusCode::OK),
        (Method::GET, "/api/v1/posts", None, "viewer", StatusCode::OK),
        (
            Method::GET,
            "/api/v1/posts/{post}",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/posts",
            Some(json!({ "body": "hi" })),
            "editor",
            StatusCode::CREATED,
        ),
        (
            Method::PATCH,
            "/api/v1/posts/{post}",
            Some(json!({ "title": "t" })),
            "editor",
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            "/api/v1/posts/{post}",
            None,
            "editor",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::GET,
            "/api/v1/members",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::PUT,
            "/api/v1/members/rspare",
            Some(json!({ "role": "viewer" })),
            "admin",
            StatusCode::OK,
        ),
        // A post without accounts has no target to move: allowed, then 409.
        (
            Method::POST,
            "/api/v1/posts/{post}/schedule",
            Some(json!({ "at": "in 2h" })),
            "editor",
            StatusCode::CONFLICT,
        ),
        (
            Method::POST,
            "/api/v1/posts/{post}/cancel",
            None,
            "editor",
            StatusCode::CONFLICT,
        ),
        (
            Method::POST,
            "/api/v1/posts/{post}/retry",
            None,
            "editor",
            StatusCode::CONFLICT,
        ),
        (
            Method::POST,
            "/api/v1/posts/{post}/resolve",
            Some(json!({ "not_published": true })),
            "editor",
            StatusCode::CONFLICT,
        ),
        // Nothing of a new post is published: allowed, then 409.
        (
            Method::POST,
            "/api/v1/posts/{post}/unpublish",
            None,
            "editor",
            StatusCode::CONFLICT,
        ),
        (
            Method::POST,
            "/api/v1/accounts/0193a1b2-0000-7000-8000-000000000000/check",
            None,
            "editor",
            StatusCode::NOT_FOUND,
        ),
        // No model yet: allowed, then 409 (before PUT /api/v1/ai below sets one).
        (
            Method::POST,
            "/api/v1/generate",
            Some(json!({ "brief": "hi" })),
            "editor",
            StatusCode::CONFLICT,
        ),
        (
            Method::GET,
            "/api/v1/ai",
            None,
            "admin",
            StatusCode::CONFLICT,
        ),
        (
            Method::PUT,
            "/api/v1/ai",
            Some(json!({ "provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9" })),
            "admin",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/posts/{post}/attempts",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/calendar?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/accounts",
            None,
            "viewer",
            StatusCode::OK,
        ),
        // Allowed, then refused for its body (no network, no credentials).
        (
            Method::POST,
            "/api/v1/accounts",
            Some(json!({ "name": "x" })),
            "editor",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::GET,
            "/api/v1/accounts/0193a1b2-0000-7000-8000-000000000000",
            None,
            "viewer",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/api/v1/accounts/0193a1b2-0000-7000-8000-000000000000",
            None,
            "editor",
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/api/v1/keys", None, "viewer", StatusCode::OK),
        (
            Method::GET,
            "/api/v1/workspaces",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/sync/versions",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/keys",
            Some(json!({ "scopes": ["posts:read"] })),
            "viewer",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/api/v1/keys/{own key}",
            None,
            "viewer",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::GET,
            "/api/v1/templates",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/templates/release",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::PUT,
            "/api/v1/templates/t-{role}",
            Some(json!({ "body": "{{ version }} is out" })),
            "editor",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/api/v1/templates/none",
            None,
            "editor",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/api/v1/templates/release/render",
            Some(json!({ "vars": { "version": "1.0", "summary": "" } })),
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/voices",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/voices/none",
            None,
            "viewer",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PUT,
            "/api/v1/voices/v-{role}",
            Some(json!({ "tone": "plain" })),
            "editor",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/api/v1/voices/none",
            None,
            "editor",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/api/v1/triggers",
            None,
            "admin",
            StatusCode::OK,
        ),
        // Allowed, then refused for its body (no accounts).
        (
            Method::POST,
            "/api/v1/triggers",
            Some(json!({ "kind": "generic", "template": "release", "accounts": [] })),
            "admin",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::GET,
            "/api/v1/triggers/0193a1b2-0000-7000-8000-000000000000",
            None,
            "admin",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/api/v1/triggers/0193a1b2-0000-7000-8000-000000000000",
            None,
            "admin",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/api/v1/triggers/0193a1b2-0000-7000-8000-000000000000",
            Some(json!({ "version": "1.0" })),
            "editor",
            StatusCode::NOT_FOUND,
        ),
    ];
    let mut checked = 0;
    for (method, path, body, least, allowed_status) in &routes {
        for (role, key) in &keys {
            let post = api.new_post(&owner, "for the table").await;
            let mut path = path.replace("{post}", &post).replace("{role}", role);
            if path.contains("{own key}") {
                let user = if *role == "owner" {
                    "rowner".to_string()
                } else {
                    format!("r{role}")
                };
                let made = api.server.ok(
                    &[
                        "key",
                        "create",
                        "--user",
                        &user,
                        "--workspace",
                        "rowner",
                        "--scope",
                        "posts:read",
                        "--json",
                    ],
                    "",
                );
                let made: Value = serde_json::from_str(&made).expect("json");
                path = path.replace("{own key}", made["id"].as_str().expect("id"));
            }
            let a = api
                .call(method.clone(), &path, Some(key), body.clone())
                .await;
            if rank(role) >= rank(least) {
                assert_eq!(
                    a.status, *allowed_status,
                    "{role} {method} {path}: {}",
                    a.json
                );
            } else {
                assert_problem(&a, StatusCode::FORBIDDEN, "forbidden");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 168, "the role × route table");
    let members = api
        .call(Method::GET, "/api/v1/members", Some(&owner), None)
        .await;
    let names: Vec<_> = members.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert!(names.contains(&json!("rspare")), "{names:?}");
    // An admin cannot make an owner; the last owner cannot step down.
    let admin_key = &keys[1].1;
    let promote = api
        .call(
            Method::PUT,
            "/api/v1/members/rspare",
            Some(admin_key),
            Some(json!({ "role": "owner" })),
        )
        .await;
    assert_problem(&promote, StatusCode::FORBIDDEN, "forbidden");
    let last = api
        .call(
            Method::PUT,
            "/api/v1/members/rowner",
            Some(&owner),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_problem(&last, StatusCode::CONFLICT, "conflict");
    // A demotion takes effect on the next request.
    let demote = api
        .call(
            Method::PUT,
            "/api/v1/members/reditor",
            Some(&owner),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK, "{}", demote.json);
    let editor_key = &keys[2].1;
    let now_viewer = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(editor_key),
            Some(json!({ "body": "x" })),
        )
        .await;
    assert_problem(&now_viewer, StatusCode::FORBIDDEN, "forbidden");
}

async fn another_workspace_is_not_found(api: &Api) {
    let alice = api
        .server
        .user_with_key("walice", None, "posts:read,posts:write");
    let mallory = api
        .server
        .user_with_key("wmallory", None, "posts:read,posts:write");
    let post = api.new_post(&alice, "alice's").await;
    let path = format!("/api/v1/posts/{post}");
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({ "body": "mallory was here" }))),
        (Method::DELETE, None),
    ] {
        let a = api.call(method.clone(), &path, Some(&mallory), body).await;
        assert_problem(&a, StatusCode::NOT_FOUND, "not-found");
    }
    let listed = api
        .call(Method::GET, "/api/v1/posts", Some(&mallory), None)
        .await;
    assert_eq!(listed.json["items"], json!([]));
    let still = api.call(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(
        (still.status, still.json["body"].clone()),
        (StatusCode::OK, json!("alice's"))
    );
}

async fn scopes_limit_keys(api: &Api) {
    let reader = api.server.user_with_key("sreader", None, "posts:read");
    let writer = api.server.key("sreader", "sreader", "posts:write", &[]);
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&reader), None)
            .await
            .status,
        StatusCode::OK
    );
    let denied = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&reader),
            Some(json!({ "body": "x" })),
        )
        .await;
    assert_problem(&denied, StatusCode::FORBIDDEN, "insufficient-scope");
    assert!(
        denied.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("posts:write"))
    );
    let post = api.new_post(&writer, "by the writer").await;
    let read = api
        .call(
            Method::GET,
            &format!("/api/v1/posts/{post}"),
            Some(&writer),
            None,
        )
        .await;
    assert_problem(&read, StatusCode::FORBIDDEN, "insufficient-scope");
    let members = api
        .call(
            Method::PUT,
            "/api/v1/members/sreader",
            Some(&writer),
            Some(json!({ "role": "owner" })),
        )
        .await;
    assert_problem(&members, StatusCode::FORBIDDEN, "insufficient-scope");
    let bad = api.server.cli(
        &[
            "key",
            "create",
            "--user",
            "sreader",
            "--scope",
            "posts:everything",
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a scope"));
}

async fn expired_keys_stop_working(api: &Api) {
    let key = api.server.user_with_key("expiring", None, "posts:read");
    let short = api.server.key(
        "expiring",
        "expiring",
        "posts:read",
        &["--expires", "in 2s", "--test"],
    );
    assert!(short.starts_with("sk_test_"), "{short}");
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&short), None)
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let expired = api
        .call(Method::GET, "/api/v1/posts", Some(&short), None)
        .await;
    assert_problem(&expired, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        expired.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expired")),
        "{}",
        expired.json
    );
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&key), None)
            .await
            .status,
        StatusCode::OK
    );
    let past = api.server.cli(
        &[
            "key",
            "create",
            "--user",
            "expiring",
            "--scope",
            "posts:read",
            "--expires",
            "2001-01-01 00:00",
        ],
        "",
    );
    assert!(!past.status.success(), "a key that expired already");
}

async fn idempotency_keys(api: &Api) {
    let key = api
        .server
        .user_with_key("idem", None, "posts:read,posts:write");
    let other = api
        .server
        .user_with_key("idem2", None, "posts:read,posts:write");
    let body = json!({ "body": "only once" });
    let send = |key: &str, body: Value, idem: &str| {
        let key = key.to_string();
        let idem = idem.to_string();
        async move {
            api.send(
                Method::POST,
                "/api/v1/posts",
                Some(&key),
                Some(body),
                &[("idempotency-key", &idem)],
            )
            .await
        }
    };
    let first = send(&key, body.clone(), "retry-1").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = send(&key, body.clone(), "retry-1").await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.json, first.json, "the same answer");
    assert_eq!(
        second
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let listed = api
        .call(Method::GET, "/api/v1/posts", Some(&key), None)
        .await;
    assert_eq!(
        listed.json["items"].as_array().map(Vec::len),
        Some(1),
        "one post, not two"
    );
    let changed = send(&key, json!({ "body": "something else" }), "retry-1").await;
    assert_problem(
        &changed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    );
    // Another user's key with the same Idempotency-Key is another request.
    let theirs = send(&other, body.clone(), "retry-1").await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.json["id"], first.json["id"]);
    // A refused request is answered the same way again.
    let refused = send(&key, json!({ "body": "" }), "retry-2").await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let refused_again = send(&key, json!({ "body": "" }), "retry-2").await;
    assert_problem(
        &refused_again,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    );
    // Without the header, each POST is a new post.
    api.new_post(&key, "a").await;
    api.new_post(&key, "a").await;
    let listed = api
        .call(Method::GET, "/api/v1/posts", Some(&key), None)
        .await;
    assert_eq!(listed.json["items"].as_array().map(Vec::len), Some(3));
}

async fn bad_requests_are_problems(api: &Api) {
    let key = api
        .server
        .user_with_key("probs", None, "posts:read,posts:write");
    let posts = "/api/v1/posts";
    let syntax = api
        .raw(
            Method::POST,
            posts,
            &key,
            Some("application/json"),
            "{\"body\": ",
        )
        .await;
    assert_problem(&syntax, StatusCode::BAD_REQUEST, "invalid-request");
    let no_type = api
        .raw(Method::POST, posts, &key, None, "{\"body\": \"x\"}")
        .await;
    assert_problem(
        &no_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    let cases = [
        (json!({}), "body"),
        (json!({ "body": "x", "colour": "red" }), "colour"),
        (json!({ "body": "   " }), "empty"),
        (json!({ "body": "x", "at": "someday" }), "someday"),
        (
            json!({ "body": "x", "at": "tomorrow 9am", "zone": "Mars/Olympus" }),
            "Mars/Olympus",
        ),
        (json!({ "body": "x", "at": "2001-01-01T00:00:00Z" }), "past"),
        (
            json!({ "body": "x", "at": "2030-03-31 02:30", "zone": "Europe/Berlin" }),
            "02:30",
        ),
    ];
    for (body, mentions) in cases {
        let a = api
            .call(Method::POST, posts, Some(&key), Some(body.clone()))
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert!(
            a.json["detail"]
                .as_str()
                .is_some_and(|d| d.contains(mentions)),
            "{body}: {}",
            a.json
        );
    }
    let listed = api.call(Method::GET, posts, Some(&key), None).await;
    assert_eq!(listed.json["items"], json!([]), "nothing was stored");
    // A body over the limit is refused from its Content-Length, before it is read. (Sent
    // by hand: a client still writing a large body may see the connection close first.)
    let head = too_large_answer(api, &key).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(
        head.contains("application/problem+json")
            && head.contains("urn:postctl:problem:payload-too-large"),
        "{head}"
    );
    let method = api.call(Method::PUT, posts, Some(&key), None).await;
    assert_problem(
        &method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    );
    let missing = api
        .call(
            Method::GET,
            "/api/v1/posts/01900000-0000-7000-8000-000000000000",
            Some(&key),
            None,
        )
        .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "not-found");
}

async fn too_large_answer(api: &Api, key: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = api.server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!(
        "POST /api/v1/posts HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn posts_are_scheduled_patched_and_deleted(api: &Api) {
    let key = api
        .server
        .user_with_key("poster", None, "posts:read,posts:write");
    let created = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(json!({ "body": "Release **2.0**", "title": "2.0", "at": "2030-07-01 09:00", "zone": "Europe/Berlin" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_str().expect("id").to_string();
    let location = created
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(location, Some(format!("/api/v1/posts/{id}")));
    assert_eq!(created.json["state"], "scheduled");
    assert_eq!(
        created.json["scheduled_at"], "2030-07-01T07:00:00.000Z",
        "09:00 in Berlin in summer"
    );
    assert_eq!(created.json["zone"], "Europe/Berlin");
    let path = format!("/api/v1/posts/{id}");
    let got = api.call(Method::GET, &path, Some(&key), None).await;
    assert_eq!(got.json, created.json);
    let moved = api
        .call(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "at": "2030-12-01 09:00" })),
        )
        .await;
    assert_eq!(
        moved.json["scheduled_at"], "2030-12-01T08:00:00.000Z",
        "the post's zone, in winter"
    );
    let relative = api
        .call(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "at": "in 2h" })),
        )
        .await;
    let at =
        chrono::DateTime::parse_from_rfc3339(relative.json["scheduled_at"].as_str().expect("at"))
            .expect("time");
    let from_now = at.signed_duration_since(chrono::Utc::now()).num_minutes();
    assert!(
        (115..=120).contains(&from_now),
        "in 2h is {from_now} minutes away"
    );
    let draft = api
        .call(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "at": null, "title": null, "body": "later" })),
        )
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.json);
    assert_eq!(
        (
            draft.json["state"].clone(),
            draft.json["scheduled_at"].clone(),
            draft.json["title"].clone(),
            draft.json["body"].clone()
        ),
        (json!("draft"), Value::Null, Value::Null, json!("later"))
    );
    let refused = api
        .call(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "body": "" })),
        )
        .await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(
        api.call(Method::GET, &path, Some(&key), None).await.json["body"],
        "later",
        "unchanged"
    );
    assert_eq!(
        api.call(Method::DELETE, &path, Some(&key), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &api.call(Method::GET, &path, Some(&key), None).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_problem(
        &api.call(Method::DELETE, &path, Some(&key), None).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
}

async fn pagination(api: &Api) {
    let key = api
        .server
        .user_with_key("pager", None, "posts:read,posts:write");
    let mut made = Vec::new();
    for i in 0..7 {
        let body = if i % 3 == 0 {
            json!({ "body": format!("post {i}"), "at": "in 1d" })
        } else {
            json!({ "body": format!("post {i}") })
        };
        let a = api
            .call(Method::POST, "/api/v1/posts", Some(&key), Some(body))
            .await;
        made.push(a.json["id"].as_str().expect("id").to_string());
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/posts?limit=3&cursor={c}"),
            None => "/api/v1/posts?limit=3".to_string(),
        };
        let page = api.call(Method::GET, &path, Some(&key), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        pages += 1;
        seen.extend(
            page.json["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|p| p["id"].as_str().expect("id").to_string()),
        );
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made, "every post once, newest first");
    let scheduled = api
        .call(
            Method::GET,
            "/api/v1/posts?state=scheduled",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(scheduled.json["items"].as_array().map(Vec::len), Some(3));
    for bad in [
        "limit=0",
        "limit=1000",
        "cursor=abc",
        "state=published",
        "colour=red",
    ] {
        let a = api
            .call(
                Method::GET,
                &format!("/api/v1/posts?{bad}"),
                Some(&key),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::BAD_REQUEST, "invalid-request");
    }
}

async fn keys_of_ones_own(api: &Api) {
    let key = api
        .server
        .user_with_key("keyed", None, "posts:read,posts:write");
    let stranger = api.server.user_with_key("stranger", None, "posts:read");
    let made = api
        .call(Method::POST, "/api/v1/keys", Some(&key), Some(json!({ "scopes": ["posts:read"], "name": "ci", "expires": "in 30d", "test": true })))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let secret = made.json["key"]
        .as_str()
        .expect("the key, once")
        .to_string();
    assert!(secret.starts_with("sk_test_"), "{secret}");
    assert_eq!(made.json["scopes"], json!(["posts:read"]));
    assert!(made.json["expires_at"].is_string());
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&secret), None)
            .await
            .status,
        StatusCode::OK
    );
    let listed = api
        .call(Method::GET, "/api/v1/keys", Some(&key), None)
        .await;
    let items = listed.json["items"].as_array().expect("items").clone();
    assert_eq!(
        items.len(),
        2,
        "the user's two keys, not the stranger's: {items:?}"
    );
    assert!(
        !listed.json.to_string().contains(&secret[8..]),
        "a listing shows a key"
    );
    assert!(items.iter().any(|k| k["prefix"] == secret[..12]));
    // No more than the calling key may do, and only real scopes and future expiries.
    let wider = api
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&secret),
            Some(json!({ "scopes": ["posts:write"] })),
        )
        .await;
    assert_problem(&wider, StatusCode::FORBIDDEN, "insufficient-scope");
    let unknown = api
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&key),
            Some(json!({ "scopes": ["everything"] })),
        )
        .await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let past = api
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&key),
            Some(json!({ "scopes": ["posts:read"], "expires": "2001-01-01 00:00" })),
        )
        .await;
    assert_problem(&past, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    // Another user's key is not found; one's own is revoked at once.
    let id = made.json["id"].as_str().expect("id");
    let theirs = api
        .call(
            Method::DELETE,
            &format!("/api/v1/keys/{id}"),
            Some(&stranger),
            None,
        )
        .await;
    assert_problem(&theirs, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&secret), None)
            .await
            .status,
        StatusCode::OK
    );
    let revoked = api
        .call(
            Method::DELETE,
            &format!("/api/v1/keys/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = api
        .call(Method::GET, "/api/v1/posts", Some(&secret), None)
        .await;
    assert_problem(&after, StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn secrets_stay_out_of_logs_and_the_database(api: &Api) {
    let password = "correct horse battery staple";
    api.server.ok(
        &["user", "add", "secretive", "--password-stdin"],
        &format!("{password}\n"),
    );
    let key = api.server.key("secretive", "secretive", "posts:read", &[]);
    assert_eq!(
        api.call(Method::GET, "/api/v1/posts", Some(&key), None)
            .await
            .status,
        StatusCode::OK
    );
    let log = api.server.log();
    assert!(
        !log.contains(&key) && !log.contains(password),
        "a secret in the server's log"
    );
    if api.server.database_url.is_none() {
        let mut bytes = Vec::new();
        // The database's files (the media dir beside them holds uploaded files only).
        for entry in std::fs::read_dir(api.server.data.path()).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                bytes.extend(std::fs::read(path).expect("read"));
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("secretive"),
            "the search reads the database files"
        );
        assert!(
            !text.contains(&key[8..]) && !text.contains(password),
            "a secret in the database files"
        );
    }
}

const ALL_SCOPES: &str = "posts:read,posts:write,publish,accounts:read,accounts:write,admin";
/// What a test account's credentials hold: the test looks for it everywhere.
const TOKEN: &str = "tok-7c1e0f9a2b4d4e6f8a0b1c2d3e4f5a6b";

async fn add_account(api: &Api, key: &str, name: &str, network: &str) -> Value {
    let body = match network {
        "telegram" => json!({
            "name": name, "network": "telegram", "settings": { "chat": "@newsroom" },
            "credentials": { "token": format!("123456:{TOKEN}") },
        }),
        _ => json!({
            "name": name, "network": network, "base_url": "https://social.example.test",
            "credentials": { "token": TOKEN },
        }),
    };
    let a = api
        .call(Method::POST, "/api/v1/accounts", Some(key), Some(body))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    a.json
}

/// The server's storage, opened by the test beside the running server (WAL on SQLite,
/// another pool on PostgreSQL), to play the publisher the server does not run yet.
async fn storage_of(api: &Api) -> std::sync::Arc<dyn postctl_server::storage::Storage> {
    postctl_server::storage::open(
        api.server.database_url.as_deref(),
        &api.server
            .data
            .path()
            .join(postctl_server::config::DATABASE_FILE),
    )
    .await
    .expect("the server's database")
}

async fn accounts_keep_their_credentials_to_themselves(api: &Api) {
    let key = api.server.user_with_key("acc", None, ALL_SCOPES);
    let mut answers = Vec::new();
    let made = add_account(api, &key, "masto", "mastodon").await;
    assert_eq!(made["credentials"], "set");
    assert_eq!(made["network"], "mastodon");
    assert_eq!(made["base_url"], "https://social.example.test");
    answers.push(made.to_string());
    let id = made["id"].as_str().expect("id").to_string();
    let again = api
        .call(
            Method::POST,
            "/api/v1/accounts",
            Some(&key),
            Some(json!({ "name": "masto", "network": "bluesky",
                         "settings": { "handle": "me.bsky.social" },
                         "credentials": { "token": "abcd-efgh-ijkl-mnop" } })),
        )
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "conflict");
    // Checked as `postctl accounts add` checks: the network's settings and the token.
    for (body, says) in [
        (
            json!({ "name": "x", "network": "myspace", "credentials": { "token": "t" } }),
            "network",
        ),
        (
            json!({ "name": "x", "network": "mastodon", "base_url": "https://m.test", "credentials": {} }),
            "token",
        ),
        (
            json!({ "name": "Bad Name", "network": "mastodon", "base_url": "https://m.test", "credentials": { "token": "t" } }),
            "name",
        ),
        (
            json!({ "name": "x", "network": "telegram", "credentials": { "token": "123:abc" } }),
            "chat",
        ),
        (
            json!({ "name": "x", "network": "mastodon", "settings": { "colour": "red" }, "credentials": { "token": "t" } }),
            "colour",
        ),
        // A secret in the wrong place is not quoted back.
        (
            json!({ "name": "x", "network": "mastodon", "base_url": "https://m.test", "credentials": TOKEN }),
            "object",
        ),
        (
            json!({ "name": "x", "network": "mastodon", "base_url": "https://m.test", "credentials": { "token": [TOKEN] } }),
            "string",
        ),
    ] {
        let a = api
            .call(Method::POST, "/api/v1/accounts", Some(&key), Some(body))
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert!(
            a.json["detail"].as_str().unwrap_or_default().contains(says),
            "{}",
            a.json
        );
        answers.push(a.json.to_string());
    }
    let list = api
        .call(Method::GET, "/api/v1/accounts", Some(&key), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        list.json
    );
    answers.push(list.json.to_string());
    let one = api
        .call(
            Method::GET,
            &format!("/api/v1/accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(one.json["name"], "masto");
    answers.push(one.json.to_string());
    // Another workspace's key does not find it; a viewer reads but cannot add.
    let other = api.server.user_with_key("accother", None, ALL_SCOPES);
    let a = api
        .call(
            Method::GET,
            &format!("/api/v1/accounts/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "not-found");
    let viewer = api
        .server
        .user_with_key("accviewer", Some(("acc", "viewer")), ALL_SCOPES);
    let a = api
        .call(Method::GET, "/api/v1/accounts", Some(&viewer), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = api
        .call(
            Method::POST,
            "/api/v1/accounts",
            Some(&viewer),
            Some(json!({ "name": "v", "network": "mastodon", "base_url": "https://m.test", "credentials": { "token": "t" } })),
        )
        .await;
    assert_problem(&a, StatusCode::FORBIDDEN, "forbidden");
    let reader = api.server.key("acc", "acc", "posts:read", &[]);
    let a = api
        .call(Method::GET, "/api/v1/accounts", Some(&reader), None)
        .await;
    assert_problem(&a, StatusCode::FORBIDDEN, "insufficient-scope");
    // Sealed at rest: the token is in no answer, no log line, no database file, and the
    // stored value opens only with the server key, for this account.
    let storage = storage_of(api).await;
    let sealed = storage.sealed_values().await.expect("sealed");
    let mine = sealed
        .iter()
        .find(|v| v.owner == id)
        .expect("the credentials");
    assert!(mine.value.starts_with("v1.") && !mine.value.contains(TOKEN));
    for answer in &answers {
        assert!(!answer.contains(TOKEN), "the token in an answer: {answer}");
    }
    assert!(!api.server.log().contains(TOKEN), "the token in the log");
    if api.server.database_url.is_none() {
        let mut bytes = Vec::new();
        // The database's files (the media dir beside them holds uploaded files only).
        for entry in std::fs::read_dir(api.server.data.path()).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                bytes.extend(std::fs::read(path).expect("read"));
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("social.example.test"),
            "the search reads the database"
        );
        assert!(!text.contains(TOKEN), "the token in the database files");
    }
    let gone = api
        .call(
            Method::DELETE,
            &format!("/api/v1/accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let a = api
        .call(
            Method::GET,
            &format!("/api/v1/accounts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "not-found");
    assert!(
        storage
            .sealed_values()
            .await
            .expect("sealed")
            .iter()
            .all(|v| v.owner != id),
        "a deleted account's credentials stay"
    );
}

fn target_states(post: &Value) -> Vec<(String, String)> {
    post["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap_or_default().to_string(),
                t["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pair(account: &str, state: &str) -> (String, String) {
    (account.to_string(), state.to_string())
}

async fn targets_follow_their_state_machine(api: &Api) {
    use postctl_server::storage::{Claim, Finish};
    let key = api.server.user_with_key("tgt", None, ALL_SCOPES);
    let masto = add_account(api, &key, "masto", "mastodon").await;
    add_account(api, &key, "tg", "telegram").await;
    let made = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(json!({ "body": "hello", "accounts": ["masto", "tg"] })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(
        target_states(&made.json),
        vec![pair("masto", "draft"), pair("tg", "draft")]
    );
    let id = made.json["id"].as_str().expect("id").to_string();
    let path = |what: &str| format!("/api/v1/posts/{id}/{what}");
    // Nothing has failed: retry moves nothing, and says why.
    let a = api
        .call(Method::POST, &path("retry"), Some(&key), None)
        .await;
    assert_problem(&a, StatusCode::CONFLICT, "illegal-transition");
    assert!(
        a.json["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("masto is draft"),
        "{}",
        a.json
    );
    // Schedule in the CLI's time language, in a zone; retried with its idempotency key.
    let body = json!({ "at": "tomorrow 9am", "zone": "Europe/Berlin" });
    let headers = [("idempotency-key", "schedule-1")];
    let first = api
        .send(
            Method::POST,
            &path("schedule"),
            Some(&key),
            Some(body.clone()),
            &headers,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(
        target_states(&first.json),
        vec![pair("masto", "scheduled"), pair("tg", "scheduled")]
    );
    assert_eq!(first.json["zone"], "Europe/Berlin");
    assert!(
        first.json["scheduled_at"]
            .as_str()
            .unwrap_or_default()
            .ends_with(":00:00.000Z")
    );
    let replay = api
        .send(
            Method::POST,
            &path("schedule"),
            Some(&key),
            Some(body),
            &headers,
        )
        .await;
    assert_eq!(replay.json, first.json);
    assert!(replay.headers.contains_key("idempotent-replayed"));
    let a = api
        .call(
            Method::POST,
            &path("schedule"),
            Some(&key),
            Some(json!({ "at": "yesterday" })),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    // The calendar shows both targets on their day; a range without them is empty.
    let due = first.json["scheduled_at"]
        .as_str()
        .expect("time")
        .to_string();
    let day = chrono::DateTime::parse_from_rfc3339(&due).expect("time");
    let from = (day - chrono::Duration::hours(1)).to_rfc3339();
    let to = (day + chrono::Duration::hours(1)).to_rfc3339();
    let cal = api
        .call(
            Method::GET,
            &format!("/api/v1/calendar?from={}&to={}", enc(&from), enc(&to)),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(cal.status, StatusCode::OK, "{}", cal.json);
    assert_eq!(
        cal.json["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        cal.json
    );
    assert_eq!(cal.json["items"][0]["post_id"], id.as_str());
    let empty = api
        .call(
            Method::GET,
            &format!(
                "/api/v1/calendar?from={}&to={}",
                enc(&to),
                enc(&(day + chrono::Duration::days(1)).to_rfc3339())
            ),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(empty.json["items"], json!([]));
    let bad = api
        .call(
            Method::GET,
            "/api/v1/calendar?from=monday&to=tuesday",
            Some(&key),
            None,
        )
        .await;
    assert_problem(&bad, StatusCode::BAD_REQUEST, "invalid-request");
    // A key without `publish` may not schedule; a viewer may read the attempts.
    let writer = api.server.key("tgt", "tgt", "posts:read,posts:write", &[]);
    let a = api
        .call(
            Method::POST,
            &path("schedule"),
            Some(&writer),
            Some(json!({ "at": "in 2h" })),
        )
        .await;
    assert_problem(&a, StatusCode::FORBIDDEN, "insufficient-scope");
    // The publisher (played here through the storage) fails on masto and is left unsure
    // on tg.
    let storage = storage_of(api).await;
    let later = day.timestamp_millis() + 1_000;
    let got = storage
        .claim_due(&Claim::new("test-publisher", later, later + 60_000, 10, 10))
        .await
        .expect("claim");
    assert_eq!(got.claimed.len(), 2);
    for c in &got.claimed {
        let finish = if c.account.id == masto["id"].as_str().unwrap_or_default() {
            Finish::Failed {
                error: "422: the text is too long".into(),
            }
        } else {
            Finish::Uncertain {
                error: "timed out".into(),
            }
        };
        assert!(
            storage
                .begin_part(&c.target.id, "test-publisher", 0, 1, later + 60_000, later)
                .await
                .expect("begin")
        );
        let attempt = postctl_server::storage::PublishAttempt {
            target_id: c.target.id.clone(),
            part: 0,
            started_ms: later,
            ended_ms: later + 5,
            outcome: finish.outcome().to_string(),
            http_status: None,
            error: finish.error().map(str::to_string),
            in_doubt: true,
        };
        assert!(
            storage
                .finish_target(
                    &c.target.id,
                    "test-publisher",
                    &finish,
                    Some(&attempt),
                    later + 5,
                    &[]
                )
                .await
                .expect("finish")
        );
    }
    let log = api
        .call(Method::GET, &path("attempts"), Some(&key), None)
        .await;
    assert_eq!(log.status, StatusCode::OK);
    let outcomes: Vec<_> = log.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| (a["account"].clone(), a["outcome"].clone()))
        .collect();
    assert_eq!(outcomes.len(), 2, "{}", log.json);
    assert!(
        outcomes.contains(&(json!("masto"), json!("failed"))),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&(json!("tg"), json!("uncertain"))),
        "{outcomes:?}"
    );
    // Cancel moves nothing now: failed and uncertain are not cancelled.
    let a = api
        .call(Method::POST, &path("cancel"), Some(&key), None)
        .await;
    assert_problem(&a, StatusCode::CONFLICT, "illegal-transition");
    // Retry: the failed one is due again now; the uncertain one waits for a person.
    let retried = api
        .call(Method::POST, &path("retry"), Some(&key), None)
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.json);
    assert_eq!(retried.json["changed"], json!(["masto"]));
    assert_eq!(
        target_states(&retried.json),
        vec![pair("masto", "scheduled"), pair("tg", "uncertain")]
    );
    // Resolve needs one of its two answers.
    let a = api
        .call(Method::POST, &path("resolve"), Some(&key), Some(json!({})))
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let a = api
        .call(
            Method::POST,
            &path("resolve"),
            Some(&key),
            Some(json!({ "not_published": true, "account": "masto" })),
        )
        .await;
    assert_problem(&a, StatusCode::CONFLICT, "illegal-transition");
    let resolved = api
        .call(
            Method::POST,
            &path("resolve"),
            Some(&key),
            Some(json!({ "published": "https://t.me/news/42", "account": "tg" })),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.json);
    let tg = &resolved.json["targets"][1];
    assert_eq!(tg["state"], "published");
    assert_eq!(tg["parts"][0]["url"], "https://t.me/news/42");
    // Cancel the one still scheduled; the account left out of a patch is cancelled too.
    let cancelled = api
        .call(Method::POST, &path("cancel"), Some(&key), None)
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.json);
    assert_eq!(
        target_states(&cancelled.json),
        vec![pair("masto", "cancelled"), pair("tg", "published")]
    );
    assert_eq!(cancelled.json["state"], "draft");
    let a = api
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{id}"),
            Some(&key),
            Some(json!({ "accounts": ["nosuch"] })),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    // Another workspace's post is not found.
    let other = api.server.user_with_key("tgtother", None, ALL_SCOPES);
    let a = api
        .call(Method::POST, &path("retry"), Some(&other), None)
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "not-found");
    let a = api
        .call(Method::GET, &path("attempts"), Some(&other), None)
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "not-found");
}

/// A query value, percent-encoded.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn op(post: &str, field: &str, value: Value, at_ms: i64, device: &str) -> Value {
    json!({ "post": post, "field": field, "value": value, "at_ms": at_ms, "device": device })
}

/// PUT or GET a media file with raw bytes: the status and the body.
async fn media(
    api: &Api,
    method: Method,
    sha256: &str,
    key: &str,
    body: &[u8],
) -> (StatusCode, Vec<u8>) {
    let mut request = api
        .http
        .request(method, format!("{}/api/v1/media/{sha256}", api.server.base))
        .bearer_auth(key);
    if !body.is_empty() {
        request = request
            .header("content-type", "application/octet-stream")
            .body(body.to_vec());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    (status, response.bytes().await.expect("a body").to_vec())
}

async fn media_by_sha256_stays_in_its_workspace(api: &Api) {
    let all = "posts:read,posts:write";
    let editor = api.server.user_with_key("mediaowner", None, all);
    let viewer = api
        .server
        .user_with_key("mediaviewer", Some(("mediaowner", "viewer")), all);
    let stranger = api.server.user_with_key("mediastranger", None, all);
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let sha = postctl_server::auth::sha256_hex(&bytes);
    let other = "0".repeat(64);
    // Asked first, the workspace lacks it; a viewer may ask, not upload.
    let asked = api
        .call(
            Method::GET,
            &format!("/api/v1/media?missing={sha},{other}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.json);
    assert_eq!(asked.json["missing"], json!([sha, other]));
    // (Small bodies where the server answers before reading: it may close the connection.)
    let (status, _) = media(api, Method::PUT, &sha, &viewer, b"x").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A body that is not the address's hash is refused, and nothing is stored.
    let mut damaged = bytes.clone();
    damaged[7] ^= 1;
    let (status, body) = media(api, Method::PUT, &sha, &editor, &damaged).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(String::from_utf8_lossy(&body).contains("SHA-256"));
    let (status, _) = media(api, Method::GET, &sha, &editor, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = media(api, Method::PUT, "not-a-hash", &editor, b"x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Stored once: the second upload changes nothing.
    let (status, body) = media(api, Method::PUT, &sha, &editor, &bytes).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _) = media(api, Method::PUT, &sha, &editor, &bytes).await;
    assert_eq!(status, StatusCode::OK);
    let asked = api
        .call(
            Method::GET,
            &format!("/api/v1/media?missing={sha},{other}"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(asked.json["missing"], json!([other]));
    // Any member reads it back, byte for byte; another workspace does not find it.
    let (status, body) = media(api, Method::GET, &sha, &viewer, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes, "the file read back differs");
    let (status, _) = media(api, Method::GET, &sha, &stranger, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let asked = api
        .call(
            Method::GET,
            &format!("/api/v1/media?missing={sha}"),
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(asked.json["missing"], json!([sha]));
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Posts attach files uploaded to the media store, described from the stored bytes and
/// checked against each account's network; a file not uploaded is a 422 that says to
/// upload it, with nothing stored.
async fn posts_attach_uploaded_media(api: &Api) {
    let key = api.server.user_with_key(
        "pictures",
        None,
        "posts:read,posts:write,publish,accounts:read,accounts:write",
    );
    add_account(api, &key, "masto", "mastodon").await;
    // Five different PNGs (a byte after the end), and a file that is no picture.
    let files: Vec<Vec<u8>> = (0..5u8).map(|i| [PNG, &[i]].concat()).collect();
    let shas: Vec<String> = files
        .iter()
        .map(|f| postctl_server::auth::sha256_hex(f))
        .collect();
    let picture = |i: usize| json!({ "sha256": shas[i], "alt": format!("dot {i}") });
    let create =
        |media: Value| json!({ "body": "With pictures", "accounts": ["masto"], "media": media });

    // Not uploaded: 422 naming the file and the route to upload it; nothing stored.
    let before = posts_of(api, &key).await.len();
    let a = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(create(json!([picture(0)]))),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "media-not-uploaded");
    assert_eq!(a.json["missing"], json!([shas[0]]), "{}", a.json);
    let detail = a.json["detail"].as_str().expect("detail");
    assert!(detail.contains("PUT /api/v1/media/"), "{detail}");
    assert_eq!(posts_of(api, &key).await.len(), before);

    for (file, sha) in files.iter().zip(&shas) {
        let (status, _) = media(api, Method::PUT, sha, &key, file).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // The type, size and dimensions come from the stored file; the caller cannot say them.
    let a = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(create(json!([{ "sha256": shas[0], "mime": "video/mp4" }]))),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let a = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(create(json!([picture(0)]))),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    let id = a.json["id"].as_str().expect("id").to_string();
    let expected = json!([{
        "sha256": shas[0], "file_name": format!("{}.png", shas[0]), "mime": "image/png",
        "size": PNG.len() + 1, "width": 1, "height": 1, "alt": "dot 0",
    }]);
    assert_eq!(a.json["media"], expected, "{}", a.json);
    let shown = api
        .call(
            Method::GET,
            &format!("/api/v1/posts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(shown.json["media"], expected, "{}", shown.json);

    // Mastodon takes four files a post: five are refused, on create and on edit.
    let five: Vec<Value> = (0..5).map(picture).collect();
    let a = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(create(json!(five))),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let detail = a.json["detail"].as_str().expect("detail");
    assert!(
        detail.contains("masto") && detail.contains("at most 4"),
        "{detail}"
    );
    let a = api
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{id}"),
            Some(&key),
            Some(json!({ "media": five })),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(posts_of(api, &key).await.len(), before + 1);
    // Four fit; a missing one in an edit changes nothing.
    let four: Vec<Value> = (1..5).map(picture).collect();
    let a = api
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{id}"),
            Some(&key),
            Some(json!({ "media": four })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["media"].as_array().map(Vec::len), Some(4));
    assert_eq!(a.json["media"][0]["sha256"], json!(shas[1]));
    let gone = "e".repeat(64);
    let a = api
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{id}"),
            Some(&key),
            Some(json!({ "body": "changed", "media": [{ "sha256": gone }] })),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "media-not-uploaded");
    let shown = api
        .call(
            Method::GET,
            &format!("/api/v1/posts/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(shown.json["body"], "With pictures");
    assert_eq!(shown.json["media"].as_array().map(Vec::len), Some(4));

    // The post's fields are stamped as a device's are: the workspace's snapshot (what a
    // joining device catches up from) holds it whole, and the schedule route keeps its time.
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let a = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{id}/schedule"),
            Some(&key),
            Some(json!({ "at": at })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let snapshot = api
        .call(Method::GET, "/api/v1/sync/snapshot", Some(&key), None)
        .await;
    assert_eq!(snapshot.status, StatusCode::OK, "{}", snapshot.json);
    let fields: std::collections::HashMap<String, Value> = snapshot.json["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter(|op| op["post"] == json!(id))
        .map(|op| {
            (
                op["field"].as_str().expect("field").to_string(),
                op["value"].clone(),
            )
        })
        .collect();
    assert_eq!(fields["body"], "With pictures", "{fields:?}");
    assert_eq!(fields["targets"], json!(["masto"]), "{fields:?}");
    assert_eq!(fields["schedule"]["kind"], "at", "{fields:?}");
    assert_eq!(fields["media"], shown.json["media"], "{fields:?}");
    assert_eq!(fields["media"].as_array().map(Vec::len), Some(4));
    // Cancelled, it is a draft there too (and no later scenario's publisher claims it).
    let a = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{id}/cancel"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let snapshot = api
        .call(Method::GET, "/api/v1/sync/snapshot", Some(&key), None)
        .await;
    let schedule = snapshot.json["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|op| op["post"] == json!(id) && op["field"] == "schedule")
        .map(|op| op["value"]["kind"].clone());
    assert_eq!(schedule, Some(json!("none")), "{}", snapshot.json);

    // A file postctl cannot attach is refused by what its bytes are.
    let text = b"just some notes, not a picture".to_vec();
    let text_sha = postctl_server::auth::sha256_hex(&text);
    let (status, _) = media(api, Method::PUT, &text_sha, &key, &text).await;
    assert_eq!(status, StatusCode::CREATED);
    let a = api
        .call(
            Method::POST,
            "/api/v1/posts",
            Some(&key),
            Some(create(json!([{ "sha256": text_sha }]))),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert!(
        a.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not a type postctl can attach")),
        "{}",
        a.json
    );
}

async fn sync_versions_chain_and_apply_to_posts(api: &Api) {
    let all = "posts:read,posts:write,admin";
    let key = api.server.user_with_key("syncer", None, all);
    let viewer = api
        .server
        .user_with_key("syncviewer", Some(("syncer", "viewer")), all);
    let stranger = api.server.user_with_key("syncstranger", None, all);
    let push = |parent: Option<&str>, device: &str, ops: Vec<Value>| json!({ "parent": parent, "device": device, "operations": ops });
    let post = "01a24c58-0000-8000-8000-00000000beef";
    let created = vec![
        op(
            post,
            "created",
            json!({ "created_ms": 1_000 }),
            1_000,
            "dev-a",
        ),
        op(post, "body", json!("from a device"), 1_000, "dev-a"),
        op(post, "title", json!("synced"), 1_000, "dev-a"),
        op(post, "labels", json!(["news"]), 1_000, "dev-a"),
        op(
            post,
            "schedule",
            json!({ "kind": "at", "due_ms": 4_102_444_800_000_i64, "zone": "Europe/Berlin" }),
            1_000,
            "dev-a",
        ),
    ];
    let path = "/api/v1/sync/versions";
    let first = api
        .call(
            Method::POST,
            path,
            Some(&key),
            Some(push(None, "dev-a", created.clone())),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert_eq!(first.json["seq"], 1);
    let v1 = first.json["id"].as_str().expect("id").to_string();
    // The server applied it to its posts.
    let shown = api
        .call(
            Method::GET,
            &format!("/api/v1/posts/{post}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.json);
    assert_eq!(shown.json["body"], "from a device");
    assert_eq!(shown.json["title"], "synced");
    assert_eq!(shown.json["state"], "scheduled");
    assert_eq!(shown.json["zone"], "Europe/Berlin");
    // A stale parent: 409 naming the latest, nothing stored.
    let stale = api
        .call(
            Method::POST,
            path,
            Some(&key),
            Some(push(
                None,
                "dev-b",
                vec![op(post, "body", json!("lost?"), 5_000, "dev-b")],
            )),
        )
        .await;
    assert_problem(&stale, StatusCode::CONFLICT, "version-conflict");
    assert_eq!(stale.json["latest"], v1.as_str());
    // Bad operations are refused whole.
    let bad_bodies = [
        push(Some(&v1), "dev-b", vec![]),
        push(
            Some(&v1),
            "dev-b",
            vec![op(post, "body", json!(7), 5_000, "dev-b")],
        ),
        push(
            Some(&v1),
            "dev-b",
            vec![op(post, "body", json!("x"), 5_000, "dev-a")],
        ),
        push(
            Some(&v1),
            "dev-b",
            vec![op(post, "colour", json!("x"), 5_000, "dev-b")],
        ),
    ];
    for body in bad_bodies {
        let a = api
            .call(Method::POST, path, Some(&key), Some(body.clone()))
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    }
    // An older write loses to the newer one already applied; a newer one wins.
    let second = api
        .call(
            Method::POST,
            path,
            Some(&key),
            Some(push(
                Some(&v1),
                "dev-b",
                vec![
                    op(post, "body", json!("older"), 500, "dev-b"),
                    op(post, "title", json!("newer title"), 2_000, "dev-b"),
                ],
            )),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.json);
    let v2 = second.json["id"].as_str().expect("id").to_string();
    let shown = api
        .call(
            Method::GET,
            &format!("/api/v1/posts/{post}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (&shown.json["body"], &shown.json["title"]),
        (&json!("from a device"), &json!("newer title"))
    );
    // Pull: pages, oldest first, from a version or from the start.
    let page = api
        .call(Method::GET, &format!("{path}?limit=1"), Some(&viewer), None)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.json);
    assert_eq!(page.json["versions"][0]["id"], v1.as_str());
    assert_eq!(page.json["versions"][0]["operations"], json!(created));
    assert_eq!(page.json["more"], true);
    assert_eq!(page.json["latest"], v2.as_str());
    let rest = api
        .call(
            Method::GET,
            &format!("{path}?since={v1}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(rest.json["versions"][0]["parent"], v1.as_str());
    assert_eq!(rest.json["versions"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest.json["more"], false);
    let unknown = api
        .call(Method::GET, &format!("{path}?since=nope"), Some(&key), None)
        .await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "not-found");
    // Another workspace does not see this chain; a viewer cannot push.
    let foreign = api
        .call(
            Method::GET,
            &format!("{path}?since={v1}"),
            Some(&stranger),
            None,
        )
        .await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not-found");
    let mine = api.call(Method::GET, path, Some(&stranger), None).await;
    assert_eq!(mine.json["versions"], json!([]));
    let refused = api
        .call(
            Method::POST,
            path,
            Some(&viewer),
            Some(push(
                Some(&v2),
                "dev-v",
                vec![op(post, "body", json!("v"), 9_000, "dev-v")],
            )),
        )
        .await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");
    // The caller's workspaces.
    let listed = api
        .call(Method::GET, "/api/v1/workspaces", Some(&viewer), None)
        .await;
    assert_eq!(
        listed.json["workspaces"],
        json!([{ "id": listed.json["workspaces"][0]["id"], "name": "syncer", "role": "viewer", "current": true }])
    );
}

async fn templates_and_voices_are_checked(api: &Api) {
    let editor = api.server.user_with_key("tpl", None, ALL_SCOPES);
    let made = api
        .call(
            Method::PUT,
            "/api/v1/templates/launch",
            Some(&editor),
            Some(json!({
                "body": "{{ name }} {{ version }} ships",
                "variants": { "bsky": "{{ version }} 🦋" },
            })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(made.json["variants"]["bluesky"], "{{ version }} 🦋");
    let replaced = api
        .call(
            Method::PUT,
            "/api/v1/templates/launch",
            Some(&editor),
            Some(json!({ "body": "{{ name }} {{ version }} is out" })),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.json);
    // A template that does not compile is refused, with its line.
    let broken = api
        .call(
            Method::PUT,
            "/api/v1/templates/broken",
            Some(&editor),
            Some(json!({ "body": "fine\n{% if version %}no end" })),
        )
        .await;
    assert_problem(&broken, StatusCode::UNPROCESSABLE_ENTITY, "template-error");
    assert_eq!(broken.json["line"], 2, "{}", broken.json);
    assert_eq!(broken.json["template"], "broken");
    let rendered = api
        .call(
            Method::POST,
            "/api/v1/templates/launch/render",
            Some(&editor),
            Some(json!({ "vars": { "name": "postctl", "version": "2.0" } })),
        )
        .await;
    assert_eq!(rendered.status, StatusCode::OK, "{}", rendered.json);
    assert_eq!(rendered.json["text"], "postctl 2.0 is out");
    let missing = api
        .call(
            Method::POST,
            "/api/v1/templates/launch/render",
            Some(&editor),
            Some(json!({ "vars": { "name": "postctl" } })),
        )
        .await;
    assert_problem(&missing, StatusCode::UNPROCESSABLE_ENTITY, "template-error");
    assert_eq!(
        missing.json["missing"],
        json!(["version"]),
        "{}",
        missing.json
    );
    let list = api
        .call(Method::GET, "/api/v1/templates", Some(&editor), None)
        .await;
    let names: Vec<&str> = list.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["launch", "release"], "{}", list.json);
    // Another workspace does not see them.
    let other = api.server.user_with_key("tpl2", None, ALL_SCOPES);
    let hidden = api
        .call(Method::GET, "/api/v1/templates/launch", Some(&other), None)
        .await;
    assert_problem(&hidden, StatusCode::NOT_FOUND, "not-found");

    let voice = api
        .call(
            Method::PUT,
            "/api/v1/voices/brand",
            Some(&editor),
            Some(json!({
                "tone": "plain", "avoid": ["synergy"], "hashtags": ["rust"],
                "hashtag_policy": "required", "emoji": "max:1",
            })),
        )
        .await;
    assert_eq!(voice.status, StatusCode::CREATED, "{}", voice.json);
    assert_eq!(voice.json["voice"]["hashtags"], json!(["#rust"]));
    let bad = api
        .call(
            Method::PUT,
            "/api/v1/voices/brand",
            Some(&editor),
            Some(json!({ "hashtag_policy": "required" })),
        )
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let kept = api
        .call(Method::GET, "/api/v1/voices/brand", Some(&editor), None)
        .await;
    assert_eq!(kept.json["voice"]["tone"], "plain", "{}", kept.json);
    let gone = api
        .call(Method::DELETE, "/api/v1/voices/brand", Some(&editor), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let list = api
        .call(Method::GET, "/api/v1/voices", Some(&editor), None)
        .await;
    assert_eq!(list.json["items"], json!([]));
}

/// A `release` webhook as GitHub sends it (trimmed of the users' and repository's long
/// lists of API URLs, which the server does not read).
fn github_release(
    action: &str,
    release_id: u64,
    tag: &str,
    draft: bool,
    prerelease: bool,
) -> String {
    json!({
        "action": action,
        "release": {
            "url": format!("https://api.github.com/repos/octo-org/hello-world/releases/{release_id}"),
            "assets_url": format!("https://api.github.com/repos/octo-org/hello-world/releases/{release_id}/assets"),
            "html_url": format!("https://github.com/octo-org/hello-world/releases/tag/{tag}"),
            "id": release_id,
            "author": { "login": "octocat", "id": 1, "type": "User", "site_admin": false },
            "node_id": "RE_kwDOAbCdEf4Ab12C",
            "tag_name": tag,
            "target_commitish": "main",
            "name": format!("Hello World {tag}"),
            "draft": draft,
            "prerelease": prerelease,
            "created_at": "2026-12-06T10:00:00Z",
            "published_at": "2026-12-06T10:05:00Z",
            "assets": [],
            "tarball_url": format!("https://api.github.com/repos/octo-org/hello-world/tarball/{tag}"),
            "zipball_url": format!("https://api.github.com/repos/octo-org/hello-world/zipball/{tag}"),
            "body": "## What's Changed\r\n* Faster sync by @octocat"
        },
        "repository": {
            "id": 1296269,
            "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": "hello-world",
            "full_name": "octo-org/hello-world",
            "private": false,
            "owner": { "login": "octo-org", "id": 2, "type": "Organization" },
            "html_url": "https://github.com/octo-org/hello-world",
            "default_branch": "main"
        },
        "organization": { "login": "octo-org", "id": 2 },
        "sender": { "login": "octocat", "id": 1, "type": "User" }
    })
    .to_string()
}

/// `sha256=` and the hex HMAC-SHA256 of `body`, made with the `hmac` crate as GitHub would.
fn github_signature(secret: &str, body: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body.as_bytes());
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Api {
    async fn github(&self, path: &str, event: &str, signature: Option<&str>, body: &str) -> Answer {
        let mut request = self
            .http
            .post(format!("{}{path}", self.server.base))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
            .header("user-agent", "GitHub-Hookshot/0a1b2c3")
            .body(body.to_string());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let json =
            serde_json::from_str(&response.text().await.expect("body")).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }
}

async fn posts_of(api: &Api, key: &str) -> Vec<Value> {
    let a = api
        .call(Method::GET, "/api/v1/posts?limit=100", Some(key), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    a.json["items"].as_array().expect("items").clone()
}

async fn a_github_release_becomes_one_post(api: &Api) {
    let owner = api.server.user_with_key("gh", None, ALL_SCOPES);
    add_account(api, &owner, "masto", "mastodon").await;
    let template = api
        .call(
            Method::PUT,
            "/api/v1/templates/announce",
            Some(&owner),
            Some(json!({
                "body": "{{ repository.full_name }} {{ release.tag }}: {{ release.name }}\n{{ release.url }}",
            })),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.json);
    let made = api
        .call(
            Method::POST,
            "/api/v1/triggers",
            Some(&owner),
            Some(json!({ "kind": "github", "template": "announce", "accounts": ["masto"] })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let secret = made.json["secret"]
        .as_str()
        .expect("the secret, once")
        .to_string();
    let path = made.json["path"].as_str().expect("path").to_string();
    let id = made.json["id"].as_str().expect("id").to_string();
    assert_eq!(path, format!("/api/v1/triggers/github/{id}"));
    // Never shown again, nor stored in clear.
    let listed = api
        .call(Method::GET, "/api/v1/triggers", Some(&owner), None)
        .await;
    assert!(
        !listed.json.to_string().contains(&secret),
        "{}",
        listed.json
    );
    assert_eq!(listed.json["items"][0]["accounts"], json!(["masto"]));
    let stored = storage_of(api).await.trigger(&id).await.expect("read");
    let sealed = stored.expect("stored").secret.expect("sealed");
    assert!(!sealed.contains(&secret));

    let ping = r#"{"zen":"Design for failure.","hook_id":109948940,"hook":{"type":"Repository","id":109948940,"events":["release"],"active":true}}"#;
    let a = api
        .github(&path, "ping", Some(&github_signature(&secret, ping)), ping)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);

    let release = github_release("published", 131_072_001, "v1.4.0", false, false);
    // A wrong signature, a signature of another body, and none: 401, no post.
    let wrong = api
        .github(
            &path,
            "release",
            Some(&github_signature("not the secret", &release)),
            &release,
        )
        .await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "bad-signature");
    let other_body = api
        .github(
            &path,
            "release",
            Some(&github_signature(
                &secret,
                &release.replace("v1.4.0", "v9.9.9"),
            )),
            &release,
        )
        .await;
    assert_problem(&other_body, StatusCode::UNAUTHORIZED, "bad-signature");
    let unsigned = api.github(&path, "release", None, &release).await;
    assert_problem(&unsigned, StatusCode::UNAUTHORIZED, "bad-signature");
    assert!(posts_of(api, &owner).await.is_empty());

    let signature = github_signature(&secret, &release);
    let first = api
        .github(&path, "release", Some(&signature), &release)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert_eq!(
        first.json["body"],
        "octo-org/hello-world v1.4.0: Hello World v1.4.0\nhttps://github.com/octo-org/hello-world/releases/tag/v1.4.0"
    );
    assert_eq!(first.json["state"], "scheduled");
    assert_eq!(
        target_states(&first.json),
        [pair("masto", "scheduled")],
        "{}",
        first.json
    );
    let post_id = first.json["id"].as_str().expect("id").to_string();
    // GitHub redelivers: the same release makes no second post.
    let again = api
        .github(&path, "release", Some(&signature), &release)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["duplicate"], true);
    assert_eq!(again.json["id"], post_id);
    // The same release edited and published again is still the same release id.
    let edited = release.replace("Faster sync", "Faster sync, and more");
    let a = api
        .github(
            &path,
            "release",
            Some(&github_signature(&secret, &edited)),
            &edited,
        )
        .await;
    assert_eq!(a.json["duplicate"], true, "{}", a.json);
    // Drafts, prereleases (not asked for) and other actions make nothing.
    for (action, draft, pre) in [
        ("published", true, false),
        ("published", false, true),
        ("created", false, false),
        ("deleted", false, false),
    ] {
        let body = github_release(action, 131_072_002, "v1.5.0-rc.1", draft, pre);
        let a = api
            .github(
                &path,
                "release",
                Some(&github_signature(&secret, &body)),
                &body,
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{action} {draft} {pre}: {}",
            a.json
        );
        assert_eq!(a.json["ignored"], true, "{}", a.json);
    }
    let push = r#"{"ref":"refs/heads/main"}"#;
    let a = api
        .github(&path, "push", Some(&github_signature(&secret, push)), push)
        .await;
    assert_eq!(a.json["ignored"], true, "{}", a.json);
    let posts = posts_of(api, &owner).await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["id"], post_id);
    // A prerelease trigger announces prereleases.
    let pre = api
        .call(
            Method::POST,
            "/api/v1/triggers",
            Some(&owner),
            Some(json!({
                "kind": "github", "template": "release", "accounts": ["masto"],
                "prereleases": true,
            })),
        )
        .await;
    assert_eq!(pre.status, StatusCode::CREATED, "{}", pre.json);
    let pre_secret = pre.json["secret"].as_str().expect("secret");
    let body = github_release("published", 131_072_003, "v2.0.0-rc.1", false, true);
    let a = api
        .github(
            pre.json["path"].as_str().expect("path"),
            "release",
            Some(&github_signature(pre_secret, &body)),
            &body,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    // The built-in release template: "NAME VERSION is out 🎉", the title, the link.
    assert_eq!(
        a.json["body"],
        "hello-world v2.0.0-rc.1 is out 🎉\n\nHello World v2.0.0-rc.1\n\nhttps://github.com/octo-org/hello-world/releases/tag/v2.0.0-rc.1"
    );
    // The other trigger's secret does not open this one.
    let a = api
        .github(
            &path,
            "release",
            Some(&github_signature(pre_secret, &release)),
            &release,
        )
        .await;
    assert_problem(&a, StatusCode::UNAUTHORIZED, "bad-signature");
    // Deleted: the URL is gone, the posts stay.
    let gone = api
        .call(
            Method::DELETE,
            &format!("/api/v1/triggers/{id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let a = api
        .github(&path, "release", Some(&signature), &release)
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(posts_of(api, &owner).await.len(), 2);
}

async fn a_generic_trigger_posts_once_per_key(api: &Api) {
    let owner = api.server.user_with_key("gen", None, ALL_SCOPES);
    add_account(api, &owner, "masto", "mastodon").await;
    api.call(
        Method::PUT,
        "/api/v1/templates/deploy",
        Some(&owner),
        Some(json!({ "body": "Deployed {{ service }} {{ version }}" })),
    )
    .await;
    let made = api
        .call(
            Method::POST,
            "/api/v1/triggers",
            Some(&owner),
            Some(json!({ "kind": "generic", "template": "deploy", "accounts": ["masto"] })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert!(made.json.get("secret").is_none(), "{}", made.json);
    let path = made.json["path"].as_str().expect("path").to_string();
    let writer = api.server.key("gen", "gen", "posts:write", &[]);
    let reader = api.server.key("gen", "gen", "posts:read", &[]);
    let body = json!({ "service": "api", "version": "7", "dedupe_key": "deploy-7" });
    let first = api
        .call(Method::POST, &path, Some(&writer), Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert_eq!(first.json["body"], "Deployed api 7");
    let again = api
        .call(Method::POST, &path, Some(&writer), Some(body))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["duplicate"], true);
    assert_eq!(again.json["id"], first.json["id"]);
    // Another key is another event.
    let next = api
        .call(
            Method::POST,
            &path,
            Some(&writer),
            Some(json!({ "service": "api", "version": "8", "dedupe_key": "deploy-8" })),
        )
        .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.json);
    assert_ne!(next.json["id"], first.json["id"]);
    // Without a dedupe key, Idempotency-Key makes a retry safe.
    let plain = json!({ "service": "web", "version": "8" });
    let retried = [
        api.send(
            Method::POST,
            &path,
            Some(&writer),
            Some(plain.clone()),
            &[("idempotency-key", "d-8")],
        )
        .await,
        api.send(
            Method::POST,
            &path,
            Some(&writer),
            Some(plain),
            &[("idempotency-key", "d-8")],
        )
        .await,
    ];
    assert_eq!(
        retried[0].status,
        StatusCode::CREATED,
        "{}",
        retried[0].json
    );
    assert_eq!(retried[1].json["id"], retried[0].json["id"]);
    // A render error is the template's, with what is missing; nothing is made.
    let missing = api
        .call(
            Method::POST,
            &path,
            Some(&writer),
            Some(json!({ "service": "x" })),
        )
        .await;
    assert_problem(&missing, StatusCode::UNPROCESSABLE_ENTITY, "template-error");
    assert_eq!(missing.json["missing"], json!(["version"]));
    let refused = api
        .call(
            Method::POST,
            &path,
            Some(&reader),
            Some(json!({ "service": "x", "version": "1" })),
        )
        .await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "insufficient-scope");
    assert_eq!(posts_of(api, &owner).await.len(), 3);
}

/// The states of a post's targets, as `GET /api/v1/posts/{id}` shows them.
async fn post_states(api: &Api, key: &str, id: &Value) -> Vec<String> {
    let id = id.as_str().expect("an id");
    let post = api
        .call(Method::GET, &format!("/api/v1/posts/{id}"), Some(key), None)
        .await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.json);
    target_states(&post.json)
        .into_iter()
        .map(|(_, state)| state)
        .collect()
}

async fn trigger_posts_wait_for_approval_as_their_makers_would(api: &Api) {
    let owner = api.server.user_with_key("tapp", None, ALL_SCOPES);
    let admin = api
        .server
        .user_with_key("tappadmin", Some(("tapp", "admin")), ALL_SCOPES);
    let editor = api
        .server
        .user_with_key("tappeditor", Some(("tapp", "editor")), ALL_SCOPES);
    add_account(api, &owner, "masto", "mastodon").await;
    api.call(
        Method::PUT,
        "/api/v1/templates/deploy",
        Some(&owner),
        Some(json!({ "body": "Deployed {{ version }}" })),
    )
    .await;
    let set = api
        .call(
            Method::PUT,
            "/api/v1/approvals/settings",
            Some(&owner),
            Some(json!({ "require_approval": true })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    let made = api
        .call(
            Method::POST,
            "/api/v1/triggers",
            Some(&admin),
            Some(json!({ "kind": "generic", "template": "deploy", "accounts": ["masto"] })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let path = made.json["path"].as_str().expect("path").to_string();
    let fire = async |key: &str, version: &str| {
        let fired = api
            .call(
                Method::POST,
                &path,
                Some(key),
                Some(json!({ "version": version })),
            )
            .await;
        assert_eq!(fired.status, StatusCode::CREATED, "{}", fired.json);
        fired.json["id"].clone()
    };
    // The admin's trigger fired by the owner: scheduled now.
    let by_owner = fire(&owner, "1").await;
    assert_eq!(post_states(api, &owner, &by_owner).await, ["scheduled"]);
    // Fired with an editor's key: it waits, authored by the trigger's admin.
    let by_editor = fire(&editor, "2").await;
    assert_eq!(
        post_states(api, &owner, &by_editor).await,
        ["awaiting_approval"]
    );
    let waiting = api
        .call(Method::GET, "/api/v1/approvals", Some(&owner), None)
        .await;
    let items = waiting.json["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", waiting.json);
    assert_eq!(items[0]["id"], by_editor);
    assert_eq!(items[0]["author"], "tappadmin");
    // The trigger's maker is an editor now: whoever fires it, its posts wait.
    let demoted = api
        .call(
            Method::PUT,
            "/api/v1/members/tappadmin",
            Some(&owner),
            Some(json!({ "role": "editor" })),
        )
        .await;
    assert!(demoted.status.is_success(), "{}", demoted.json);
    let after = fire(&owner, "3").await;
    assert_eq!(
        post_states(api, &owner, &after).await,
        ["awaiting_approval"]
    );
    // Approved, it is scheduled.
    let approved = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{}/approve", after.as_str().expect("id")),
            Some(&owner),
            Some(json!({})),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    assert_eq!(post_states(api, &owner, &after).await, ["scheduled"]);
}

/// `"queue": true` on `POST /api/v1/posts` and `POST /api/v1/posts/{id}/schedule`: the
/// post takes the next free slot of its first account's queue, decided as it is stored,
/// with the stamped time (the snapshot's `schedule`) the one chosen; two queued posts get
/// two slots, and on PostgreSQL twelve at once through two server processes get twelve.
/// `at` with `queue` and `queue` without slots are 422, storing nothing; an editor's
/// queued post waits for approval at its slot.
async fn posts_take_the_next_free_queue_slot(api: &Api) {
    let owner = api.server.user_with_key("qowner", None, ALL_SCOPES);
    let editor = api
        .server
        .user_with_key("qeditor", Some(("qowner", "editor")), ALL_SCOPES);
    add_account(api, &owner, "masto", "mastodon").await;
    let create = async |key: &str, body: Value| {
        api.call(Method::POST, "/api/v1/posts", Some(key), Some(body))
            .await
    };
    let both = create(
        &owner,
        json!({ "body": "both", "accounts": ["masto"], "queue": true, "at": "in 2h" }),
    )
    .await;
    assert_problem(&both, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let no_accounts = create(&owner, json!({ "body": "nowhere", "queue": true })).await;
    assert_problem(
        &no_accounts,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    );
    let no_slots = create(
        &owner,
        json!({ "body": "no slots", "accounts": ["masto"], "queue": true }),
    )
    .await;
    assert_problem(
        &no_slots,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no-queue-slots",
    );
    assert!(
        no_slots.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("postctl queue slots set masto")),
        "{}",
        no_slots.json
    );
    assert_eq!(posts_of(api, &owner).await, Vec::<Value>::new());

    // Every hour on the hour, in UTC.
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}:00")).collect();
    let set = api
        .call(
            Method::PUT,
            "/api/v1/accounts/masto/queue",
            Some(&owner),
            Some(json!({ "rules": format!("daily {}", hours.join(",")), "tz": "UTC" })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    let queued = json!({ "body": "queued", "accounts": ["masto"], "queue": true });
    let first = create(&owner, queued.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    let second = create(&owner, queued.clone()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.json);
    let slot = |a: &Answer| a.json["scheduled_at"].as_str().expect("a time").to_string();
    assert_ne!(slot(&first), slot(&second), "two queued posts, two slots");
    for a in [&first, &second] {
        assert_eq!(a.json["state"], "scheduled", "{}", a.json);
        assert_eq!(a.json["targets"][0]["due_at"], a.json["scheduled_at"]);
        assert_eq!(a.json["targets"][0]["state"], "scheduled");
        let at = chrono::DateTime::parse_from_rfc3339(&slot(a)).expect("RFC 3339");
        assert_eq!(at.timestamp() % 3600, 0, "on the hour: {}", slot(a));
    }
    // The stamped time (what devices sync) is the slot.
    let snapshot = api
        .call(Method::GET, "/api/v1/sync/snapshot", Some(&owner), None)
        .await;
    assert_eq!(snapshot.status, StatusCode::OK, "{}", snapshot.json);
    for a in [&first, &second] {
        let schedule = snapshot.json["operations"]
            .as_array()
            .expect("operations")
            .iter()
            .find(|op| op["post"] == a.json["id"] && op["field"] == "schedule")
            .unwrap_or_else(|| panic!("no stamped schedule: {}", snapshot.json));
        let due = schedule["value"]["due_ms"].as_i64().expect("due_ms");
        let at = chrono::DateTime::parse_from_rfc3339(&slot(a)).expect("RFC 3339");
        assert_eq!(due, at.timestamp_millis(), "{schedule}");
        assert_eq!(schedule["value"]["kind"], "at");
    }

    // A draft scheduled by the queue: the next slot after both; `at` with `queue`, or
    // neither, is refused.
    let draft = create(&owner, json!({ "body": "a draft", "accounts": ["masto"] })).await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.json);
    let id = draft.json["id"].as_str().expect("id").to_string();
    let schedule = async |body: Value| {
        api.call(
            Method::POST,
            &format!("/api/v1/posts/{id}/schedule"),
            Some(&owner),
            Some(body),
        )
        .await
    };
    let refused = schedule(json!({ "at": "in 2h", "queue": true })).await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let neither = schedule(json!({})).await;
    assert_problem(&neither, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let scheduled = schedule(json!({ "queue": true })).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.json);
    assert_eq!(scheduled.json["changed"], json!(["masto"]));
    let third = slot(&scheduled);
    assert!(
        third > slot(&first) && third > slot(&second),
        "{third} after both"
    );
    assert_eq!(scheduled.json["targets"][0]["due_at"], json!(third));

    // An editor's queued post waits for approval, at its slot.
    let set = api
        .call(
            Method::PUT,
            "/api/v1/approvals/settings",
            Some(&owner),
            Some(json!({ "require_approval": true })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    let waiting = create(&editor, queued.clone()).await;
    assert_eq!(waiting.status, StatusCode::CREATED, "{}", waiting.json);
    assert_eq!(waiting.json["targets"][0]["state"], "awaiting_approval");
    assert!(slot(&waiting) > third, "{}", waiting.json);
    let set = api
        .call(
            Method::PUT,
            "/api/v1/approvals/settings",
            Some(&owner),
            Some(json!({ "require_approval": false })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);

    // On PostgreSQL: twelve at once, through this server and a second process on the same
    // database, never share a slot.
    let Some(database) = api.server.database_url.clone() else {
        return;
    };
    let other = Server::start_with(Some(database), NOT_PUBLISHING);
    let bases = [api.server.base.clone(), other.base.clone()];
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..12 {
        let url = format!("{}/api/v1/posts", bases[n % 2]);
        let request = api.http.post(url).bearer_auth(&owner).json(&json!({
            "body": format!("at once {n}"), "accounts": ["masto"], "queue": true,
        }));
        calls.spawn(async move {
            let response = request.send().await.expect("the server answers");
            assert_eq!(response.status(), StatusCode::CREATED);
            let made: Value = response.json().await.expect("JSON");
            made["scheduled_at"].as_str().expect("a time").to_string()
        });
    }
    let mut slots: Vec<String> = calls.join_all().await;
    slots.extend([slot(&first), slot(&second), third, slot(&waiting)]);
    let all = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), all, "a slot given twice: {slots:?}");
}
