use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::DateTime;

use super::*;
use crate::network::Network;
use crate::platforms::test_server::{Reply, Request, TestServer, class_by_wait};
use crate::text::Facet;

const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const DID: &str = "did:plc:me123";

/// A session store in memory, counting saves.
#[derive(Default)]
struct MemorySessions {
    saved: Mutex<HashMap<String, String>>,
    saves: AtomicUsize,
}

impl SessionStore for MemorySessions {
    fn load(&self, account: &str) -> Option<Secret> {
        let saved = self.saved.lock().expect("sessions");
        saved.get(account).map(|s| Secret::new(s.clone()))
    }

    fn save(&self, account: &str, session: &Secret) {
        self.saves.fetch_add(1, Ordering::SeqCst);
        let mut saved = self.saved.lock().expect("sessions");
        saved.insert(account.to_string(), session.expose().to_string());
    }
}

impl MemorySessions {
    fn with(access: &str, refresh: &str) -> Arc<MemorySessions> {
        let store = MemorySessions::default();
        store.saved.lock().expect("sessions").insert(
            "bsky".into(),
            json!({"accessJwt": access, "refreshJwt": refresh, "did": DID, "handle": "me.test"})
                .to_string(),
        );
        Arc::new(store)
    }

    fn access_token(&self) -> Option<String> {
        let saved = self.saved.lock().expect("sessions");
        let session: Value = serde_json::from_str(saved.get("bsky")?).ok()?;
        session["accessJwt"].as_str().map(str::to_string)
    }
}

fn account(pds: &str) -> Account {
    Account {
        id: "a2".into(),
        name: "bsky".into(),
        network: Network::Bluesky,
        base_url: Some(pds.to_string()),
        handle: Some("me.test".into()),
        settings: json!({}),
        secret_ref: "env:BSKY".into(),
        created: DateTime::UNIX_EPOCH,
    }
}

fn adapter(server: &TestServer, sessions: Arc<MemorySessions>) -> Bluesky {
    let http = Http::new(Duration::from_secs(5)).expect("client");
    let mut adapter = Bluesky::new(
        &account(&server.url()),
        Secret::new(APP_PASSWORD.into()),
        http,
        sessions,
    )
    .expect("adapter");
    // The test pages are on loopback, which posts' cards may not reach.
    adapter.cards = card::Fetcher::new(Duration::from_secs(1), true);
    adapter
}

fn part(text: &str, facets: Vec<Facet>) -> Part {
    Part {
        index: 0,
        rendered: Rendered {
            text: text.into(),
            html: None,
            facets,
        },
        media: vec![],
        idempotency_key: "target-9:0".into(),
        stage: Default::default(),
        reply_to: None,
        root: None,
    }
}

fn facet(text: &str, covered: &str, feature: FacetFeature) -> Facet {
    let byte_start = text.find(covered).expect("covered text");
    Facet {
        byte_start,
        byte_end: byte_start + covered.len(),
        feature,
    }
}

fn xrpc_error(status: u16, error: &str, message: &str) -> Reply {
    Reply::json(status, json!({ "error": error, "message": message }))
}

fn session_answer(n: usize) -> Reply {
    Reply::json(
        200,
        json!({
            "accessJwt": format!("access-{n}"),
            "refreshJwt": format!("refresh-{n}"),
            "did": DID,
            "handle": "me.test",
            "active": true,
        }),
    )
}

/// A PDS that answers every method the adapter uses the way the reference PDS does.
fn pds(r: &Request) -> Reply {
    let query = |key: &str| {
        r.path
            .split_once('?')
            .and_then(|(_, q)| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            })
            .unwrap_or_default()
            .to_string()
    };
    match r.path_only() {
        "/xrpc/com.atproto.server.createSession" => {
            if r.json()["password"] == APP_PASSWORD && r.json()["identifier"] == "me.test" {
                session_answer(1)
            } else {
                xrpc_error(
                    401,
                    "AuthenticationRequired",
                    "Invalid identifier or password",
                )
            }
        }
        "/xrpc/com.atproto.server.refreshSession" => session_answer(2),
        "/xrpc/com.atproto.identity.resolveHandle" => match query("handle").as_str() {
            "friend.test" => Reply::json(200, json!({ "did": "did:plc:friend" })),
            _ => xrpc_error(400, "InvalidRequest", "Unable to resolve handle"),
        },
        "/xrpc/com.atproto.repo.uploadBlob" => Reply::json(
            200,
            json!({ "blob": {
                "$type": "blob",
                "ref": { "$link": format!("bafkblob{}", r.body.len()) },
                "mimeType": r.header("content-type").unwrap_or_default(),
                "size": r.body.len(),
            }}),
        ),
        "/xrpc/com.atproto.repo.createRecord" => {
            let rkey = r.json()["rkey"].as_str().unwrap_or_default().to_string();
            Reply::json(
                200,
                json!({
                    "uri": format!("at://{DID}/app.bsky.feed.post/{rkey}"),
                    "cid": format!("bafycid-{rkey}"),
                    "validationStatus": "valid",
                }),
            )
        }
        "/xrpc/com.atproto.repo.getRecord" => {
            xrpc_error(400, "RecordNotFound", "Could not locate record")
        }
        "/xrpc/com.atproto.server.getSession" => {
            Reply::json(200, json!({ "handle": "me.test", "did": DID }))
        }
        "/xrpc/com.atproto.repo.deleteRecord" => Reply::json(200, json!({})),
        _ => Reply::json(404, json!({ "error": "MethodNotImplemented" })),
    }
}

fn assert_no_secret(error: &PublishError) {
    let shown = format!("{error} {error:?}");
    for secret in [APP_PASSWORD, "access-", "refresh-"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn a_post_is_a_record_under_our_rkey_with_facets_and_reply_refs() {
    let server = TestServer::start(pds).await;
    let sessions = Arc::new(MemorySessions::default());
    let text = "Hi @friend.test and @ghost.test, see https://nowhere.invalid/x #rust";
    let mut reply = part(
        text,
        vec![
            facet(
                text,
                "@friend.test",
                FacetFeature::Mention {
                    handle: "friend.test".into(),
                },
            ),
            facet(
                text,
                "@ghost.test",
                FacetFeature::Mention {
                    handle: "ghost.test".into(),
                },
            ),
            facet(
                text,
                "https://nowhere.invalid/x",
                FacetFeature::Link {
                    uri: format!("{}/missing", server.url()),
                },
            ),
            facet(text, "#rust", FacetFeature::Tag { tag: "rust".into() }),
        ],
    );
    reply.index = 2;
    reply.root = Some(Published {
        id: format!("at://{DID}/app.bsky.feed.post/3root"),
        url: None,
        extra: json!({ "cid": "bafyroot" }),
    });
    reply.reply_to = Some(Published {
        id: format!("at://{DID}/app.bsky.feed.post/3parent"),
        url: None,
        extra: json!({ "cid": "bafyparent" }),
    });

    let published = adapter(&server, sessions)
        .publish(&reply)
        .await
        .expect("published");

    let rkey = tid::from_key("target-9:0");
    assert_eq!(
        published.id,
        format!("at://{DID}/app.bsky.feed.post/{rkey}")
    );
    assert_eq!(
        published.url.as_deref(),
        Some(format!("https://bsky.app/profile/me.test/post/{rkey}").as_str())
    );
    assert_eq!(published.extra, json!({ "cid": format!("bafycid-{rkey}") }));

    let create = &server.requests_to("/xrpc/com.atproto.repo.createRecord")[0];
    assert_eq!(create.header("authorization"), Some("Bearer access-1"));
    let body = create.json();
    assert_eq!(body["repo"], DID);
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(body["rkey"], rkey.as_str());
    let record = &body["record"];
    assert_eq!(record["$type"], "app.bsky.feed.post");
    assert_eq!(record["text"], text);
    let created = record["createdAt"].as_str().unwrap_or_default();
    assert!(created.ends_with('Z'), "{created}");
    assert!(DateTime::parse_from_rfc3339(created).is_ok(), "{created}");
    assert_eq!(
        record["reply"],
        json!({
            "root": { "uri": format!("at://{DID}/app.bsky.feed.post/3root"), "cid": "bafyroot" },
            "parent": { "uri": format!("at://{DID}/app.bsky.feed.post/3parent"), "cid": "bafyparent" },
        })
    );
    let byte_range = |covered: &str| {
        let start = text.find(covered).unwrap_or_default();
        json!({ "byteStart": start, "byteEnd": start + covered.len() })
    };
    assert_eq!(
        record["facets"],
        json!([
            {
                "index": byte_range("@friend.test"),
                "features": [{ "$type": "app.bsky.richtext.facet#mention", "did": "did:plc:friend" }],
            },
            {
                "index": byte_range("https://nowhere.invalid/x"),
                "features": [{ "$type": "app.bsky.richtext.facet#link", "uri": format!("{}/missing", server.url()) }],
            },
            {
                "index": byte_range("#rust"),
                "features": [{ "$type": "app.bsky.richtext.facet#tag", "tag": "rust" }],
            },
        ]),
        "the unresolvable @ghost.test stays plain text"
    );
    // The link's page answered 404: no card, and the post went out anyway.
    assert!(record.get("embed").is_none(), "{record}");
}

#[tokio::test]
async fn the_session_is_created_once_and_reused_across_posts_and_runs() {
    let server = TestServer::start(pds).await;
    let sessions = Arc::new(MemorySessions::default());

    let mut first_run = adapter(&server, Arc::clone(&sessions));
    first_run.prepare().await.expect("logged in");
    first_run
        .publish(&part("one", vec![]))
        .await
        .expect("first");
    let mut second = part("two", vec![]);
    second.idempotency_key = "target-10:0".into();
    first_run.publish(&second).await.expect("second");

    let mut next_run = adapter(&server, Arc::clone(&sessions));
    next_run.prepare().await.expect("stored session");
    next_run.verify().await.expect("verified");

    assert_eq!(
        server
            .requests_to("/xrpc/com.atproto.server.createSession")
            .len(),
        1
    );
    assert_eq!(sessions.saves.load(Ordering::SeqCst), 1);
    assert_eq!(sessions.access_token().as_deref(), Some("access-1"));
    let login = &server.requests_to("/xrpc/com.atproto.server.createSession")[0];
    assert_eq!(
        login.json(),
        json!({ "identifier": "me.test", "password": APP_PASSWORD })
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_request_repeated() {
    let server = TestServer::start(|r: &Request| {
        let stale = r.header("authorization") == Some("Bearer access-old");
        match r.path_only() {
            "/xrpc/com.atproto.repo.createRecord" if stale => {
                xrpc_error(400, "ExpiredToken", "Token has expired")
            }
            "/xrpc/com.atproto.server.refreshSession" => {
                if r.header("authorization") == Some("Bearer refresh-old") {
                    session_answer(2)
                } else {
                    xrpc_error(400, "InvalidToken", "wrong token")
                }
            }
            _ => pds(r),
        }
    })
    .await;
    let sessions = MemorySessions::with("access-old", "refresh-old");

    let published = adapter(&server, Arc::clone(&sessions))
        .publish(&part("after a break", vec![]))
        .await
        .expect("published");

    assert!(published.id.starts_with("at://"));
    assert!(
        server
            .requests_to("/xrpc/com.atproto.server.createSession")
            .is_empty()
    );
    assert_eq!(
        server
            .requests_to("/xrpc/com.atproto.server.refreshSession")
            .len(),
        1
    );
    let creates = server.requests_to("/xrpc/com.atproto.repo.createRecord");
    assert_eq!(creates.len(), 2);
    assert_eq!(creates[1].header("authorization"), Some("Bearer access-2"));
    assert_eq!(creates[0].json()["rkey"], creates[1].json()["rkey"]);
    assert_eq!(sessions.access_token().as_deref(), Some("access-2"));
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_one_new_login() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        "/xrpc/com.atproto.repo.createRecord"
            if r.header("authorization") == Some("Bearer access-old") =>
        {
            xrpc_error(401, "InvalidToken", "Token could not be verified")
        }
        "/xrpc/com.atproto.server.refreshSession" => {
            xrpc_error(400, "ExpiredToken", "Token has expired")
        }
        _ => pds(r),
    })
    .await;
    let sessions = MemorySessions::with("access-old", "refresh-old");

    adapter(&server, Arc::clone(&sessions))
        .publish(&part("hello again", vec![]))
        .await
        .expect("published");

    assert_eq!(
        server
            .requests_to("/xrpc/com.atproto.server.refreshSession")
            .len(),
        1
    );
    assert_eq!(
        server
            .requests_to("/xrpc/com.atproto.server.createSession")
            .len(),
        1
    );
    assert_eq!(sessions.access_token().as_deref(), Some("access-1"));
}

#[tokio::test]
async fn a_wrong_app_password_is_an_auth_error_that_says_what_to_do() {
    let server = TestServer::start(pds).await;
    let http = Http::new(Duration::from_secs(5)).expect("client");
    let mut bsky = Bluesky::new(
        &account(&server.url()),
        Secret::new("wrong-password".into()),
        http,
        Arc::new(MemorySessions::default()),
    )
    .expect("adapter");

    let error = bsky.prepare().await.expect_err("rejected");

    assert!(
        matches!(
            error,
            PublishError::Auth {
                status: Some(401),
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("postctl accounts add bluesky --name bsky"),
        "{message}"
    );
    assert!(
        message.contains("Invalid identifier or password"),
        "{message}"
    );
    assert!(!message.contains("wrong-password"), "{message}");
}

#[tokio::test]
async fn a_retry_of_a_post_that_went_out_returns_the_existing_record() {
    // The reference PDS has no dedicated error for a taken rkey; both shapes are handled.
    for taken in [
        xrpc_error(500, "InternalServerError", "Internal Server Error"),
        xrpc_error(400, "InvalidRequest", "Record already exists"),
    ] {
        let server = TestServer::start(move |r: &Request| match r.path_only() {
            "/xrpc/com.atproto.repo.createRecord" => taken.clone(),
            "/xrpc/com.atproto.repo.getRecord" => Reply::json(
                200,
                json!({
                    "uri": format!("at://{DID}/app.bsky.feed.post/{}", tid::from_key("target-9:0")),
                    "cid": "bafyexisting",
                    "value": { "text": "retried" },
                }),
            ),
            _ => pds(r),
        })
        .await;

        let published = adapter(&server, Arc::new(MemorySessions::default()))
            .publish(&part("retried", vec![]))
            .await
            .expect("the existing record");

        assert_eq!(published.extra, json!({ "cid": "bafyexisting" }));
        let lookup = &server.requests_to("/xrpc/com.atproto.repo.getRecord")[0];
        let rkey = tid::from_key("target-9:0");
        assert!(
            lookup.path.contains(&format!("rkey={rkey}")),
            "{}",
            lookup.path
        );
        assert!(
            lookup.path.contains("collection=app.bsky.feed.post"),
            "{}",
            lookup.path
        );
    }
}

#[tokio::test]
async fn a_refused_create_whose_record_cannot_be_checked_is_retried_not_failed() {
    for (lookup, retryable) in [
        (xrpc_error(502, "UpstreamFailure", "upstream failed"), true),
        (
            xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded"),
            true,
        ),
        (
            xrpc_error(400, "RecordNotFound", "Could not locate record"),
            false,
        ),
    ] {
        let server = TestServer::start(move |r: &Request| match r.path_only() {
            "/xrpc/com.atproto.repo.createRecord" => {
                xrpc_error(400, "InvalidRequest", "Record already exists")
            }
            "/xrpc/com.atproto.repo.getRecord" => lookup.clone(),
            _ => pds(r),
        })
        .await;

        let error = adapter(&server, Arc::new(MemorySessions::default()))
            .publish(&part("retried", vec![]))
            .await
            .expect_err("not confirmed");

        assert_eq!(
            matches!(error, PublishError::Retryable { .. }),
            retryable,
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn error_answers_are_classified_with_what_to_do() {
    struct Case {
        reply: Reply,
        want: &'static str,
        says: &'static str,
    }
    let cases = [
        Case {
            reply: xrpc_error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: text too long",
            ),
            want: "permanent",
            says: "text too long",
        },
        Case {
            reply: xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
                .header("RateLimit-Limit", "5000")
                .header("RateLimit-Remaining", "0")
                .header("RateLimit-Reset", "32503680000"),
            want: "retry-later",
            says: "rate limit",
        },
        Case {
            reply: xrpc_error(502, "UpstreamFailure", "upstream failed"),
            want: "retry-maybe-sent",
            says: "same record key",
        },
        Case {
            reply: xrpc_error(401, "AuthRequired", "Authentication Required"),
            want: "auth",
            says: "postctl accounts add bluesky --name bsky",
        },
    ];
    for case in cases {
        let reply = case.reply.clone();
        let server = TestServer::start(move |r: &Request| match r.path_only() {
            "/xrpc/com.atproto.repo.createRecord" => reply.clone(),
            _ => pds(r),
        })
        .await;
        let error = adapter(&server, Arc::new(MemorySessions::default()))
            .publish(&part("hello", vec![]))
            .await
            .expect_err("an error answer");
        let got = class_by_wait(&error);
        assert_eq!(got, case.want, "{} -> {error:?}", case.reply.status);
        assert_eq!(error.status(), Some(case.reply.status));
        assert!(error.to_string().contains(case.says), "{error}");
        assert_no_secret(&error);
    }
}

#[tokio::test]
async fn images_are_uploaded_as_blobs_with_alt_text_and_aspect_ratio() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        // With images there is no link card, so the page is never asked for.
        "/page" => Reply::html("<meta property=\"og:title\" content=\"no\">"),
        _ => pds(r),
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let image = |name: &str, bytes: &[u8], alt: Option<&str>, size: Option<(u32, u32)>| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        MediaFile {
            path,
            file_name: name.into(),
            mime: "image/png".into(),
            size: bytes.len() as u64,
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
            alt: alt.map(str::to_string),
        }
    };
    let text = format!("chart {}/page", server.url());
    let link = format!("{}/page", server.url());
    let mut with_images = part(
        &text,
        vec![facet(
            &text,
            &link,
            FacetFeature::Link { uri: link.clone() },
        )],
    );
    with_images.media = vec![
        image(
            "a.png",
            b"\x89PNG first",
            Some("weekly downloads"),
            Some((1200, 800)),
        ),
        image("b.png", b"\x89PNG second!", None, None),
    ];

    adapter(&server, Arc::new(MemorySessions::default()))
        .publish(&with_images)
        .await
        .expect("published");

    let uploads = server.requests_to("/xrpc/com.atproto.repo.uploadBlob");
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].body, b"\x89PNG first");
    assert_eq!(uploads[0].header("content-type"), Some("image/png"));
    assert_eq!(uploads[0].header("authorization"), Some("Bearer access-1"));
    let record = &server.requests_to("/xrpc/com.atproto.repo.createRecord")[0].json()["record"];
    let embed = &record["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.images");
    assert_eq!(embed["images"][0]["alt"], "weekly downloads");
    assert_eq!(
        embed["images"][0]["aspectRatio"],
        json!({ "width": 1200, "height": 800 })
    );
    assert_eq!(embed["images"][0]["image"]["ref"]["$link"], "bafkblob10");
    assert_eq!(embed["images"][1]["alt"], "");
    assert!(embed["images"][1].get("aspectRatio").is_none());
    assert!(server.requests_to("/page").is_empty());
}

#[tokio::test]
async fn a_link_gets_a_card_from_the_pages_open_graph_tags() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        "/release" => Reply::html(
            r#"<html><head><title>x</title>
            <meta property="og:title" content="postctl v1.2">
            <meta property="og:description" content="Threads &amp; link cards">
            <meta property="og:image" content="/card.png"></head><body>…</body></html>"#,
        ),
        "/card.png" => Reply {
            status: 200,
            headers: vec![("content-type".into(), "image/png".into())],
            body: b"\x89PNG card".to_vec(),
            hang_up: false,
        },
        _ => pds(r),
    })
    .await;
    let link = format!("{}/release", server.url());
    let text = format!("Shipped {link}");

    adapter(&server, Arc::new(MemorySessions::default()))
        .publish(&part(
            &text,
            vec![facet(
                &text,
                &link,
                FacetFeature::Link { uri: link.clone() },
            )],
        ))
        .await
        .expect("published");

    let record = &server.requests_to("/xrpc/com.atproto.repo.createRecord")[0].json()["record"];
    let external = &record["embed"]["external"];
    assert_eq!(record["embed"]["$type"], "app.bsky.embed.external");
    assert_eq!(external["uri"], link.as_str());
    assert_eq!(external["title"], "postctl v1.2");
    assert_eq!(external["description"], "Threads & link cards");
    assert_eq!(external["thumb"]["mimeType"], "image/png");
    let uploads = server.requests_to("/xrpc/com.atproto.repo.uploadBlob");
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].body, b"\x89PNG card");
}

/// A post's link can point anywhere; without the tests' opt-in, a card is never fetched
/// from loopback or the local network, whether the link names it by IP, by a name that
/// resolves there, or through a redirect from a public-looking page.
#[tokio::test]
async fn a_card_is_never_fetched_from_a_private_address() {
    let inside = TestServer::start(|_: &Request| {
        Reply::html(r#"<meta property="og:title" content="internal admin page">"#)
    })
    .await;
    let port = inside
        .url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let server = TestServer::start(pds).await;
    let links = [
        inside.url(),
        format!("http://localhost:{port}/admin"),
        format!("http://[::ffff:127.0.0.1]:{port}/admin"),
    ];
    for link in links {
        let mut bsky = adapter(&server, Arc::new(MemorySessions::default()));
        bsky.cards = card::Fetcher::new(Duration::from_secs(1), false);
        let text = format!("See {link}");
        bsky.publish(&part(
            &text,
            vec![facet(
                &text,
                &link,
                FacetFeature::Link { uri: link.clone() },
            )],
        ))
        .await
        .expect("published without a card");
    }
    assert!(inside.requests().is_empty(), "{:?}", inside.requests());
    for request in server.requests_to("/xrpc/com.atproto.repo.createRecord") {
        assert!(request.json()["record"].get("embed").is_none());
    }
    // A redirect from a public page (here a name pinned to the test server, as if it
    // resolved publicly) to a private one is not followed either.
    for target in [
        format!("http://127.0.0.1:{port}/admin"),
        format!("http://localhost:{port}/admin"),
    ] {
        let redirect =
            TestServer::start(move |_: &Request| Reply::text(302, "").header("location", &target))
                .await;
        let address = redirect
            .url()
            .trim_start_matches("http://")
            .parse()
            .expect("an address");
        let fetcher = card::Fetcher::pinned(Duration::from_secs(1), "public.example", address);
        let page = format!("http://public.example:{}/", address.port());
        assert!(fetcher.page(&page).await.is_none());
        assert_eq!(redirect.requests().len(), 1, "the public page was asked");
    }
    assert!(inside.requests().is_empty(), "{:?}", inside.requests());
}

#[tokio::test]
async fn delete_names_the_record_from_its_uri_and_verify_names_the_handle() {
    let server = TestServer::start(pds).await;
    let bsky = adapter(&server, Arc::new(MemorySessions::default()));

    bsky.delete(&Published {
        id: format!("at://{DID}/app.bsky.feed.post/3kabc"),
        url: None,
        extra: json!({ "cid": "bafy" }),
    })
    .await
    .expect("deleted");
    let error = bsky
        .delete(&Published {
            id: "https://bsky.app/profile/me.test/post/3kabc".into(),
            url: None,
            extra: Value::Null,
        })
        .await
        .expect_err("not an at:// uri");
    assert!(matches!(error, PublishError::Permanent { .. }), "{error:?}");
    let verified = bsky.verify().await.expect("verified");

    let delete = &server.requests_to("/xrpc/com.atproto.repo.deleteRecord")[0];
    assert_eq!(
        delete.json(),
        json!({ "repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kabc" })
    );
    assert_eq!(verified.identity, "@me.test");
}

#[test]
fn a_reply_needs_the_cids_of_root_and_parent() {
    let mut second = part("two", vec![]);
    second.reply_to = Some(Published {
        id: format!("at://{DID}/app.bsky.feed.post/3first"),
        url: None,
        extra: json!({ "cid": "bafyfirst" }),
    });
    let refs = reply_refs(&second).expect("refs").expect("a reply");
    assert_eq!(
        refs["root"], refs["parent"],
        "the second part's root is the first part"
    );

    second.reply_to = Some(Published {
        id: format!("at://{DID}/app.bsky.feed.post/3first"),
        url: None,
        extra: Value::Null,
    });
    let error = reply_refs(&second).expect_err("no cid");
    assert!(matches!(error, PublishError::Permanent { .. }), "{error:?}");
    assert!(reply_refs(&part("one", vec![])).expect("refs").is_none());
}

#[test]
fn capabilities_follow_platforms_md() {
    let http = Http::new(Duration::from_secs(1)).expect("client");
    let bsky = Bluesky::new(
        &account("https://bsky.social/"),
        Secret::new(APP_PASSWORD.into()),
        http,
        Arc::new(MemorySessions::default()),
    )
    .expect("adapter");
    let caps = bsky.capabilities();
    assert_eq!(
        caps.limit,
        TextLimit {
            max: 300,
            counting: Counting::Graphemes
        }
    );
    assert_eq!(caps.format, Format::Bluesky);
    assert_eq!((caps.max_media, caps.max_image_bytes), (4, 2_000_000));
    assert!(caps.threads && caps.idempotent());
    assert_eq!(bsky.pds, "https://bsky.social");
}
