use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::DateTime;
use serde_json::json;

use super::*;
use crate::network::Network;
use crate::platforms::test_server::{Reply, Request, TestServer, class_by_wait, multipart_parts};
use crate::text::Rendered;

const TOKEN: &str = "masto-token-s3cr3t";

fn account(base_url: &str) -> Account {
    Account {
        id: "a1".into(),
        name: "masto".into(),
        network: Network::Mastodon,
        base_url: Some(format!("{base_url}/")),
        handle: None,
        settings: json!({}),
        secret_ref: "env:MASTO".into(),
        created: DateTime::UNIX_EPOCH,
    }
}

fn adapter(server: &TestServer) -> Mastodon {
    let http = Http::new(Duration::from_secs(5)).expect("client");
    let mut adapter =
        Mastodon::new(&account(&server.url()), Secret::new(TOKEN.into()), http).expect("adapter");
    adapter.media_poll = Duration::from_millis(5);
    adapter.media_wait = Duration::from_millis(200);
    adapter
}

fn part(text: &str) -> Part {
    Part {
        index: 0,
        rendered: Rendered {
            text: text.into(),
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

fn status_reply(id: &str) -> Reply {
    Reply::json(
        200,
        json!({ "id": id, "url": format!("https://masto.test/@me/{id}"), "content": "<p>x</p>" }),
    )
}

fn assert_no_token(error: &PublishError) {
    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert!(!format!("{error:?}").contains(TOKEN), "{error:?}");
}

#[tokio::test]
async fn a_post_carries_the_idempotency_key_the_token_and_the_reply() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        "/api/v1/statuses" => status_reply("110000000000000002"),
        _ => Reply::json(404, json!({"error": "Record not found"})),
    })
    .await;
    let mut second = part("second part");
    second.index = 1;
    second.idempotency_key = "target-1:1".into();
    second.reply_to = Some(Published {
        id: "110000000000000001".into(),
        url: None,
        extra: Value::Null,
    });

    let published = adapter(&server).publish(&second).await.expect("published");

    assert_eq!(published.id, "110000000000000002");
    assert_eq!(
        published.url.as_deref(),
        Some("https://masto.test/@me/110000000000000002")
    );
    assert_eq!(published.extra, Value::Null);
    let sent = server.requests_to("/api/v1/statuses");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].header("idempotency-key"), Some("target-1:1"));
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let body = sent[0].json();
    assert_eq!(body["status"], "second part");
    assert_eq!(body["in_reply_to_id"], "110000000000000001");
    assert!(body.get("media_ids").is_none(), "{body}");
}

#[tokio::test]
async fn media_is_uploaded_with_alt_text_and_awaited_before_the_status() {
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&polls);
    let server = TestServer::start(move |r: &Request| match r.path_only() {
        "/api/v2/media" => Reply::json(202, json!({"id": "777", "url": null})),
        "/api/v1/media/777" => {
            if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                Reply::json(206, json!({"id": "777", "url": null}))
            } else {
                Reply::json(200, json!({"id": "777", "url": "https://masto.test/m.png"}))
            }
        }
        "/api/v1/statuses" => status_reply("5"),
        _ => Reply::json(404, json!({"error": "Record not found"})),
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chart.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really a png").expect("write");
    let mut with_image = part("with a chart");
    with_image.media = vec![MediaFile {
        path,
        file_name: "chart.png".into(),
        mime: "image/png".into(),
        size: 24,
        width: Some(10),
        height: Some(10),
        alt: Some("weekly downloads".into()),
    }];

    adapter(&server)
        .publish(&with_image)
        .await
        .expect("published");

    let routes: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path_only().to_string())
        .collect();
    assert_eq!(
        routes,
        [
            "/api/v2/media",
            "/api/v1/media/777",
            "/api/v1/media/777",
            "/api/v1/media/777",
            "/api/v1/statuses"
        ]
    );
    let upload = &server.requests_to("/api/v2/media")[0];
    let parts = multipart_parts(upload);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0].name, "file");
    assert_eq!(parts[0].file_name.as_deref(), Some("chart.png"));
    assert_eq!(parts[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(parts[0].data, b"\x89PNG\r\n\x1a\nnot really a png");
    assert_eq!(parts[1].name, "description");
    assert_eq!(parts[1].text(), "weekly downloads");
    assert_eq!(
        server.requests_to("/api/v1/statuses")[0].json()["media_ids"],
        json!(["777"])
    );
}

#[tokio::test]
async fn media_still_processing_after_the_wait_is_retried_later_without_posting() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        "/api/v2/media" => Reply::json(202, json!({"id": "8", "url": null})),
        "/api/v1/media/8" => Reply::json(206, json!({"id": "8", "url": null})),
        _ => status_reply("1"),
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v.mp4");
    std::fs::write(&path, b"....ftypisom").expect("write");
    let mut with_video = part("video");
    with_video.media = vec![MediaFile {
        path,
        file_name: "v.mp4".into(),
        mime: "video/mp4".into(),
        size: 12,
        width: None,
        height: None,
        alt: None,
    }];

    let error = adapter(&server)
        .publish(&with_video)
        .await
        .expect_err("still processing");

    assert!(
        matches!(
            error,
            PublishError::Retryable {
                maybe_sent: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("still processing v.mp4"),
        "{error}"
    );
    assert!(server.requests_to("/api/v1/statuses").is_empty());
    let parts = multipart_parts(&server.requests_to("/api/v2/media")[0]);
    assert!(parts.iter().all(|p| p.name != "description"), "{parts:?}");
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
            reply: Reply::json(401, json!({"error": "The access token is invalid"})),
            want: "auth",
            says: "postctl accounts add mastodon --name masto",
        },
        Case {
            reply: Reply::json(
                403,
                json!({"error": "This action is outside the authorized scopes"}),
            ),
            want: "auth",
            says: "write:statuses",
        },
        Case {
            reply: Reply::json(
                422,
                json!({"error": "Validation failed: Text can't be blank"}),
            ),
            want: "permanent",
            says: "Text can't be blank",
        },
        Case {
            reply: Reply::json(404, json!({"error": "Record not found"})),
            want: "permanent",
            says: "404",
        },
        Case {
            reply: Reply::json(429, json!({"error": "Too many requests"}))
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", "2999-01-01T00:00:00.000Z"),
            want: "retry-later",
            says: "rate limit",
        },
        Case {
            reply: Reply::json(503, json!({"error": "unavailable"})),
            want: "retry-maybe-sent",
            says: "same idempotency key",
        },
        Case {
            reply: Reply {
                status: 502,
                ..Reply::html("<html>bad gateway</html>")
            },
            want: "retry-maybe-sent",
            says: "502",
        },
    ];
    for case in cases {
        let reply = case.reply.clone();
        let server = TestServer::start(move |_: &Request| reply.clone()).await;
        let error = adapter(&server)
            .publish(&part("hello"))
            .await
            .expect_err("an error answer");
        let got = class_by_wait(&error);
        assert_eq!(got, case.want, "{} -> {error:?}", case.reply.status);
        assert_eq!(error.status(), Some(case.reply.status));
        assert!(error.to_string().contains(case.says), "{error}");
        assert!(!error.to_string().contains("<html>"), "{error}");
        assert_no_token(&error);
        if matches!(case.reply.status, 401 | 403) {
            // The account was added with --token-env MASTO: the hint adds it that way.
            let again = format!(
                "`postctl accounts rm masto && postctl accounts add mastodon --name masto --instance {}/ --token-env MASTO`",
                server.url()
            );
            assert!(error.to_string().contains(&again), "{error}");
            assert!(!error.to_string().contains("--token-stdin"), "{error}");
        }
    }
}

#[tokio::test]
async fn a_connection_dropped_after_sending_may_have_posted() {
    let server = TestServer::start(|_: &Request| Reply::hang_up()).await;
    let error = adapter(&server)
        .publish(&part("hello"))
        .await
        .expect_err("no answer");
    assert!(
        matches!(
            error,
            PublishError::Retryable {
                maybe_sent: true,
                status: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        server.requests_to("/api/v1/statuses")[0].header("idempotency-key"),
        Some("target-1:0")
    );
}

#[tokio::test]
async fn prepare_reads_the_instance_limits_and_keeps_defaults_on_404() {
    let server = TestServer::start(|_: &Request| {
        Reply::json(
            200,
            json!({"configuration": {
                "statuses": {"max_characters": 5000, "max_media_attachments": 6},
                "media_attachments": {"image_size_limit": 10485760}
            }}),
        )
    })
    .await;
    let mut masto = adapter(&server);
    masto.prepare().await.expect("limits");
    let caps = masto.capabilities();
    assert_eq!(caps.limit.max, 5000);
    assert_eq!(caps.limit.counting, Counting::Mastodon);
    assert_eq!(caps.format, Format::Plain);
    assert_eq!(caps.max_media, 6);
    assert_eq!(caps.max_image_bytes, 10_485_760);
    assert!(caps.threads && caps.idempotent());

    let old = TestServer::start(|_: &Request| Reply::json(404, json!({"error": "nope"}))).await;
    let mut masto = adapter(&old);
    masto.prepare().await.expect("defaults");
    let caps = masto.capabilities();
    assert_eq!(
        (caps.limit.max, caps.max_media, caps.max_image_bytes),
        (500, 4, 16 * 1024 * 1024)
    );

    let down = TestServer::start(|_: &Request| Reply::json(500, json!({}))).await;
    let error = adapter(&down).prepare().await.expect_err("server error");
    assert!(matches!(error, PublishError::Retryable { .. }), "{error:?}");
}

#[tokio::test]
async fn verify_names_the_account_with_its_instance() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        "/api/v1/accounts/verify_credentials" => {
            Reply::json(200, json!({"id": "1", "username": "me", "acct": "me"}))
        }
        _ => Reply::json(404, json!({})),
    })
    .await;
    let verified = adapter(&server).verify().await.expect("verified");
    assert_eq!(verified.identity, "@me@127.0.0.1");
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    let rejected = TestServer::start(|_: &Request| {
        Reply::json(401, json!({"error": "The access token is invalid"}))
    })
    .await;
    let error = adapter(&rejected).verify().await.expect_err("rejected");
    assert!(matches!(error, PublishError::Auth { .. }), "{error:?}");
    assert_no_token(&error);
}

#[tokio::test]
async fn delete_removes_the_status_and_a_missing_one_counts_as_deleted() {
    let server = TestServer::start(|r: &Request| match (r.method.as_str(), r.path_only()) {
        ("DELETE", "/api/v1/statuses/42") => status_reply("42"),
        _ => Reply::json(404, json!({"error": "Record not found"})),
    })
    .await;
    let masto = adapter(&server);
    let published = |id: &str| Published {
        id: id.into(),
        url: None,
        extra: Value::Null,
    };
    masto.delete(&published("42")).await.expect("deleted");
    masto.delete(&published("43")).await.expect("already gone");
    let error = masto
        .delete(&published("../accounts/1"))
        .await
        .expect_err("not an id");
    assert!(matches!(error, PublishError::Permanent { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_account_without_an_instance_is_refused_with_the_fix() {
    let mut no_instance = account("x");
    no_instance.base_url = None;
    let http = Http::new(Duration::from_secs(1)).expect("client");
    let error = Mastodon::new(&no_instance, Secret::new(TOKEN.into()), http)
        .err()
        .expect("refused");
    assert!(error.to_string().contains("--instance"), "{error}");
}

#[test]
fn identities_name_the_instance_once() {
    let cases = [
        ("me", "https://fosstodon.org", "@me@fosstodon.org"),
        (
            "me@other.social",
            "https://fosstodon.org",
            "@me@other.social",
        ),
        ("me", "http://127.0.0.1:8080", "@me@127.0.0.1"),
    ];
    for (acct, base, want) in cases {
        assert_eq!(identity(acct, base), want, "{acct} on {base}");
    }
}

#[tokio::test]
async fn only_the_instances_own_404_marks_a_status_deleted() {
    let server = TestServer::start(|r: &Request| match r.path_only() {
        "/api/v1/statuses/1" => Reply::json(
            200,
            json!({"id": "1", "favourites_count": 4, "reblogs_count": 2, "replies_count": 1}),
        ),
        "/api/v1/statuses/2" => Reply::json(404, json!({"error": "Record not found"})),
        _ => Reply::text(404, "<h1>404 Not Found</h1>"),
    })
    .await;
    let masto = adapter(&server);
    let status = |id: &str| Published {
        id: id.into(),
        url: None,
        extra: serde_json::Value::Null,
    };
    let read = masto
        .post_metrics(&[status("1"), status("2")])
        .await
        .expect("read");
    let counted: crate::platforms::Counters = [("likes", 4), ("reposts", 2), ("replies", 1)]
        .into_iter()
        .map(|(n, c)| (n.to_string(), c))
        .collect();
    // No quotes_count from this server: no quotes, rather than 0.
    assert_eq!(
        read,
        Metrics::Read(vec![PostReading::Counted(counted), PostReading::Deleted])
    );
    let proxied = masto.post_metrics(&[status("3")]).await;
    assert!(proxied.is_err(), "{proxied:?}");
}
