//! OpenTelemetry traces: a `postctl-server` process exports its request spans over
//! OTLP/HTTP to a small collector the test runs, and they carry the route and request id,
//! follow the caller's `traceparent`, and never the bearer token.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::server::Server;
use postctl_server::config;

/// What the collector received: each export's content type and body.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// An OTLP/HTTP collector on a free port: it keeps every `POST /v1/traces`.
async fn collector() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                sink.lock().expect("lock").push((kind, body));
                (
                    StatusCode::OK,
                    [("content-type", "application/x-protobuf")],
                    Bytes::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), received)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn request_spans_reach_an_otlp_collector_without_secrets() {
    let (endpoint, received) = collector().await;
    let server = Server::start_with(
        None,
        &[
            (config::ENV_OTLP_ENDPOINT, endpoint.as_str()),
            // The SDK's own setting: export every 100 ms instead of every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let key = server.user_with_key("tia", None, "posts:read,posts:write");
    let http = postctl_core::tls::client_builder().build().expect("client");
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let answer = http
        .get(format!(
            "{}/api/v1/posts/0193a1b2-0000-7000-8000-000000000000",
            server.base
        ))
        .bearer_auth(&key)
        .header("x-request-id", "trace-me-1")
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (kind, body) = loop {
        let found = received
            .lock()
            .expect("lock")
            .iter()
            .find(|(_, body)| contains(body, b"trace-me-1"))
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no span arrived; the server said: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(kind, "application/x-protobuf");
    // Protobuf keeps strings as they are, so they can be looked for in the bytes.
    assert!(
        contains(&body, b"GET /api/v1/posts/{id}"),
        "the span's name"
    );
    assert!(contains(&body, b"/api/v1/posts/{id}"), "the route");
    assert!(contains(&body, b"postctl-server"), "the service name");
    let trace_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    assert!(contains(&body, &trace_bytes), "the caller's trace id");
    // No export ever carries the key, whole or in part.
    for (_, body) in received.lock().expect("lock").iter() {
        assert!(!contains(body, key.as_bytes()), "the key in a span");
        assert!(!contains(body, &key.as_bytes()[8..24]), "part of the key");
        assert!(!contains(body, b"Bearer"), "an authorization header");
    }
}
