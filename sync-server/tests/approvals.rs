//! Approvals over HTTP: a real `postctl-server` process (SQLite and PostgreSQL), a team of
//! an owner, an editor, a viewer and a named approver (an editor by role), each with a key
//! made by the server's own commands. What waits, who may decide, the history, the events
//! (read back as webhook deliveries), edits sending a post back, and the sweep that misses
//! a post whose time came before anyone approved it.

mod common;

use std::time::Duration;

use common::server::Server;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SCOPES: &str =
    "posts:read,posts:write,publish,accounts:read,accounts:write,admin,webhooks:write";
const TOKEN: &str = "tok-5d2e7a9c1b3f4e6a8c0d2f4b6a8c0e1f";

struct Api {
    server: Server,
    http: reqwest::Client,
}

impl Api {
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

    async fn ok(&self, method: Method, path: &str, key: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method.clone(), path, key, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {json}");
        json
    }
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

fn states(post: &Value) -> Vec<String> {
    post["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["state"].as_str().expect("state").to_string())
        .collect()
}

fn in_a_day() -> String {
    (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()
}

async fn run(server: Server) {
    let api = Api {
        server,
        http: postctl_core::tls::client_builder().build().expect("client"),
    };
    let owner = api.server.user_with_key("olive", None, SCOPES);
    let editor = api
        .server
        .user_with_key("eddie", Some(("olive", "editor")), SCOPES);
    let viewer = api
        .server
        .user_with_key("vera", Some(("olive", "viewer")), SCOPES);
    let approver = api
        .server
        .user_with_key("april", Some(("olive", "editor")), SCOPES);
    api.ok(
        Method::POST,
        "/api/v1/accounts",
        &owner,
        Some(json!({
            "name": "masto", "network": "mastodon", "base_url": "https://social.example.test",
            "credentials": { "token": TOKEN },
        })),
    )
    .await;
    // Every event of the workspace lands in an endpoint's deliveries, where the test reads
    // it (nothing listens at the address: the deliveries are recorded all the same).
    let hook = api
        .ok(
            Method::POST,
            "/api/v1/webhooks",
            &owner,
            Some(json!({
                "url": "http://127.0.0.1:9/in",
                "events": ["approval.requested", "approval.decided", "post.missed", "post.scheduled"],
            })),
        )
        .await;
    let hook = hook["id"].as_str().expect("hook id").to_string();

    // Settings: owners and admins only; members named, others refused.
    let (status, problem) = api
        .call(Method::GET, "/api/v1/approvals/settings", &editor, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, problem) = api
        .call(
            Method::PUT,
            "/api/v1/approvals/settings",
            &owner,
            Some(json!({ "require_approval": true, "approvers": ["nobody"] })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let settings = api
        .ok(
            Method::PUT,
            "/api/v1/approvals/settings",
            &owner,
            Some(json!({ "require_approval": true, "approvers": ["april"] })),
        )
        .await;
    assert_eq!(settings["require_approval"], true);
    assert_eq!(settings["approvers"][0]["name"], "april");
    assert_eq!(
        api.ok(Method::GET, "/api/v1/approvals/settings", &owner, None)
            .await,
        settings
    );

    // The editor schedules: the post waits, its time kept, and no post.scheduled yet.
    let at = in_a_day();
    let post = api
        .ok(
            Method::POST,
            "/api/v1/posts",
            &editor,
            Some(json!({ "body": "Launch day", "accounts": ["masto"], "at": at })),
        )
        .await;
    let id = post["id"].as_str().expect("id").to_string();
    assert_eq!(states(&post), vec!["awaiting_approval"]);
    assert!(post["targets"][0]["due_at"].is_string());
    // The owner's own posts go straight out.
    let own = api
        .ok(
            Method::POST,
            "/api/v1/posts",
            &owner,
            Some(json!({ "body": "Owner's", "accounts": ["masto"], "at": at })),
        )
        .await;
    assert_eq!(states(&own), vec!["scheduled"]);

    // What waits: everyone in the workspace may look.
    let waiting = api
        .ok(Method::GET, "/api/v1/approvals", &viewer, None)
        .await;
    let ids: Vec<&str> = waiting["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    assert_eq!(waiting["items"][0]["author"], "eddie");
    assert_eq!(waiting["next_cursor"], Value::Null);

    // Who may decide: the viewer and the editor may not; the 403 names what is needed.
    for key in [&viewer, &editor] {
        let (status, problem) = api
            .call(
                Method::POST,
                &format!("/api/v1/posts/{id}/approve"),
                key,
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let detail = problem["detail"].as_str().expect("detail");
        assert!(
            detail.contains("admin") && detail.contains("approver"),
            "{detail}"
        );
    }
    // A rejection needs a comment.
    let (status, problem) = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{id}/reject"),
            &approver,
            Some(json!({ "comment": "  " })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let rejected = api
        .ok(
            Method::POST,
            &format!("/api/v1/posts/{id}/reject"),
            &approver,
            Some(json!({ "comment": "Add the link to the notes" })),
        )
        .await;
    assert_eq!(states(&rejected), vec!["draft"]);
    assert_eq!(rejected["state"], "draft");
    assert_eq!(rejected["decision"]["by"], "april");
    // Nothing waits now: approving it is a 409.
    let (status, problem) = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            &owner,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    // Scheduled again through its own route; approved by the approver.
    let again = api
        .ok(
            Method::POST,
            &format!("/api/v1/posts/{id}/schedule"),
            &editor,
            Some(json!({ "at": at })),
        )
        .await;
    assert_eq!(states(&again), vec!["awaiting_approval"]);
    let approved = api
        .ok(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            &approver,
            Some(json!({ "comment": "Good to go" })),
        )
        .await;
    assert_eq!(states(&approved), vec!["scheduled"]);
    assert_eq!(
        approved["targets"][0]["due_at"],
        again["targets"][0]["due_at"]
    );

    // The editor changes its text: back to approval. The owner's edit of their own is not.
    let edited = api
        .ok(
            Method::PATCH,
            &format!("/api/v1/posts/{id}"),
            &editor,
            Some(json!({ "body": "Launch day!" })),
        )
        .await;
    assert_eq!(states(&edited), vec!["awaiting_approval"]);
    let own_id = own["id"].as_str().expect("id");
    let own_edited = api
        .ok(
            Method::PATCH,
            &format!("/api/v1/posts/{own_id}"),
            &owner,
            Some(json!({ "body": "Owner's!" })),
        )
        .await;
    assert_eq!(states(&own_edited), vec!["scheduled"]);
    // The owner approves.
    let approved = api
        .ok(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            &owner,
            Some(json!({})),
        )
        .await;
    assert_eq!(states(&approved), vec!["scheduled"]);

    // The history: who, when, what, the comment.
    let history = api
        .ok(
            Method::GET,
            &format!("/api/v1/posts/{id}/approvals"),
            &viewer,
            None,
        )
        .await;
    let rows: Vec<(String, String, Value)> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| {
            assert!(d["at"].is_string(), "{d}");
            (
                d["decision"].as_str().expect("decision").to_string(),
                d["by"].as_str().expect("by").to_string(),
                d["comment"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "rejected".into(),
                "april".into(),
                json!("Add the link to the notes")
            ),
            ("approved".into(), "april".into(), json!("Good to go")),
            ("approved".into(), "olive".into(), Value::Null),
        ]
    );

    // A post whose time comes before anyone approves it is missed, not published.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let late = api
        .ok(
            Method::POST,
            "/api/v1/posts",
            &editor,
            Some(json!({ "body": "Too late", "accounts": ["masto"], "at": soon })),
        )
        .await;
    let late_id = late["id"].as_str().expect("id").to_string();
    assert_eq!(states(&late), vec!["awaiting_approval"]);
    let mut seen = Vec::new();
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        seen = states(
            &api.ok(
                Method::GET,
                &format!("/api/v1/posts/{late_id}"),
                &viewer,
                None,
            )
            .await,
        );
        if seen == ["missed"] {
            break;
        }
    }
    assert_eq!(seen, vec!["missed"], "the sweep marks it missed");
    let history = api
        .ok(
            Method::GET,
            &format!("/api/v1/posts/{late_id}/approvals"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(history["items"][0]["decision"], "missed");
    assert_eq!(history["items"][0]["by"], Value::Null);
    // The editor cannot simply retry it past approval.
    let (status, problem) = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{late_id}/retry"),
            &editor,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, problem) = api
        .call(
            Method::POST,
            &format!("/api/v1/posts/{late_id}/approve"),
            &owner,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    // The events, as the webhook endpoint's deliveries (newest first).
    let deliveries = api
        .ok(
            Method::GET,
            &format!("/api/v1/webhooks/{hook}/deliveries?limit=100"),
            &owner,
            None,
        )
        .await;
    let mut events: Vec<(String, String)> = deliveries["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| {
            let data = &d["payload"]["data"];
            (
                d["event_type"].as_str().expect("type").to_string(),
                data["post"]["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    events.reverse();
    let of = |kind: &str, post: &str| (kind.to_string(), post.to_string());
    assert_eq!(
        events,
        vec![
            of("approval.requested", &id),
            of("post.scheduled", own_id),
            of("approval.decided", &id),
            of("approval.requested", &id),
            of("approval.decided", &id),
            of("post.scheduled", &id),
            of("approval.requested", &id),
            of("approval.decided", &id),
            of("post.scheduled", &id),
            of("approval.requested", &late_id),
            of("post.missed", &late_id),
        ]
    );
    let missed = deliveries["items"][0]["payload"]["data"].clone();
    assert_eq!(missed["reason"], "not_approved");
    assert_eq!(missed["author"], "eddie");
    assert_eq!(missed["approvers"], json!(["april", "olive"]));
    let decided = deliveries["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["event_type"] == "approval.decided")
        .expect("a decision");
    assert_eq!(decided["payload"]["data"]["decision"]["by"], "olive");

    // New media on an approved post sends it back too: a picture added, then taken off.
    let sha = postctl_server::auth::sha256_hex(PNG);
    let uploaded = api
        .http
        .put(format!("{}/api/v1/media/{sha}", api.server.base))
        .bearer_auth(&editor)
        .header("content-type", "application/octet-stream")
        .body(PNG.to_vec())
        .send()
        .await
        .expect("the server answers");
    assert!(uploaded.status().is_success(), "{}", uploaded.status());
    let pictured = api
        .ok(
            Method::POST,
            "/api/v1/posts",
            &editor,
            Some(json!({ "body": "With a picture", "accounts": ["masto"], "at": at })),
        )
        .await;
    let pictured_id = pictured["id"].as_str().expect("id").to_string();
    for media in [json!([{ "sha256": sha, "alt": "a dot" }]), json!([])] {
        let approved = api
            .ok(
                Method::POST,
                &format!("/api/v1/posts/{pictured_id}/approve"),
                &owner,
                Some(json!({})),
            )
            .await;
        assert_eq!(states(&approved), vec!["scheduled"]);
        let edited = api
            .ok(
                Method::PATCH,
                &format!("/api/v1/posts/{pictured_id}"),
                &editor,
                Some(json!({ "media": media })),
            )
            .await;
        assert_eq!(
            edited["media"].as_array().map(Vec::len),
            media.as_array().map(Vec::len)
        );
        assert_eq!(states(&edited), vec!["awaiting_approval"], "{edited}");
    }
    // The same list again is no change: it stays approved.
    api.ok(
        Method::POST,
        &format!("/api/v1/posts/{pictured_id}/approve"),
        &owner,
        Some(json!({})),
    )
    .await;
    let same = api
        .ok(
            Method::PATCH,
            &format!("/api/v1/posts/{pictured_id}"),
            &editor,
            Some(json!({ "media": [] })),
        )
        .await;
    assert_eq!(states(&same), vec!["scheduled"], "{same}");

    // Without approval required, the editor's posts are scheduled at once.
    api.ok(
        Method::PUT,
        "/api/v1/approvals/settings",
        &owner,
        Some(json!({ "require_approval": false })),
    )
    .await;
    let free = api
        .ok(
            Method::POST,
            "/api/v1/posts",
            &editor,
            Some(json!({ "body": "No gate", "accounts": ["masto"], "at": at })),
        )
        .await;
    assert_eq!(states(&free), vec!["scheduled"]);

    // Who changed a post is the user of the version that carries it to the devices: the
    // owner's edit of the editor's post is the owner's, the approver's rejection (the post
    // a draft again, its `schedule` stamped) the approver's.
    api.ok(
        Method::PATCH,
        &format!("/api/v1/posts/{id}"),
        &owner,
        Some(json!({ "body": "Launch day, said the owner" })),
    )
    .await;
    let storage = postctl_server::storage::open(
        api.server.database_url.as_deref(),
        &api.server
            .data
            .path()
            .join(postctl_server::config::DATABASE_FILE),
    )
    .await
    .expect("the server's storage");
    let user_id = |name: &'static str| {
        let storage = storage.clone();
        async move {
            storage
                .user_by_name(name)
                .await
                .expect("read")
                .expect("a user")
                .id
        }
    };
    let (olive, april) = (user_id("olive").await, user_id("april").await);
    let (workspace, _) = storage
        .workspaces_of(&olive)
        .await
        .expect("workspaces")
        .into_iter()
        .next()
        .expect("olive's workspace");
    let chain = storage
        .versions_after(&workspace.id, None, 1_000)
        .await
        .expect("versions")
        .expect("the chain");
    let carried = |v: &postctl_server::storage::SyncVersion| -> Vec<(String, String, Value)> {
        let ops: Vec<Value> = serde_json::from_str(&v.payload).expect("operations");
        ops.iter()
            .map(|o| {
                (
                    o["post"].as_str().expect("post").to_string(),
                    o["field"].as_str().expect("field").to_string(),
                    o["value"].clone(),
                )
            })
            .collect()
    };
    let last = chain.last().expect("a version");
    assert_eq!((last.device.as_str(), &last.author_id), ("api", &olive));
    assert_eq!(
        carried(last),
        vec![(
            id.clone(),
            "body".to_string(),
            json!("Launch day, said the owner")
        )]
    );
    let rejection = chain
        .iter()
        .find(|v| v.author_id == april)
        .expect("the approver's version");
    let ops = carried(rejection);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(
        (ops[0].0.as_str(), ops[0].1.as_str()),
        (id.as_str(), "schedule")
    );
    assert_eq!(ops[0].2["kind"], "none", "{ops:?}");
}

#[tokio::test]
async fn approvals_over_http_on_sqlite() {
    run(Server::start_with(
        None,
        &[("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true")],
    ))
    .await;
}

#[tokio::test]
async fn approvals_over_http_on_postgres() {
    let Some(pg) = common::pg::Postgres::start("approvals_over_http_on_postgres") else {
        return;
    };
    run(Server::start_with(
        Some(pg.database()),
        &[("POSTCTL_SERVER_ALLOW_PRIVATE_WEBHOOKS", "true")],
    ))
    .await;
    drop(pg);
}
