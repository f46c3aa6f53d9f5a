//! The server's edge, end to end against real `postctl-server` processes: the client's
//! address behind trusted proxies, rate limits shared by processes on one PostgreSQL, the
//! body limit, the request timeout and CORS.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::server::Server;
use postctl_server::config;
use reqwest::StatusCode;
use serde_json::Value;

fn http() -> reqwest::Client {
    postctl_core::tls::client_builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `GET path` with a key and extra headers: status, headers and the JSON body.
async fn get(
    base: &str,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = http().get(format!("{base}{path}")).bearer_auth(key);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // The test connects from 127.0.0.1: here that peer is a trusted proxy.
    let trusted = Server::start_with(
        None,
        &[
            (config::ENV_TRUSTED_PROXIES, "10.0.0.0/8, 127.0.0.1"),
            (config::ENV_LOG_FORMAT, "json"),
        ],
    );
    trusted.ok(
        &["user", "add", "pat", "--password-stdin"],
        "a long password\n",
    );
    let from_office = trusted.key(
        "pat",
        "pat",
        "posts:read",
        &["--allow-ip", "198.51.100.0/24"],
    );
    let (status, _, body) = get(
        &trusted.base,
        "/api/v1/posts",
        &from_office,
        &[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-request-id", "proxied-1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Forwarded (RFC 7239) is read too; a hop outside the allowlist is refused by name.
    let (status, _, body) = get(
        &trusted.base,
        "/api/v1/posts",
        &from_office,
        &[("forwarded", "for=198.51.100.7, for=\"[2001:db8::1]:443\"")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("2001:db8::1"),
        "{body}"
    );
    // The log line of the request names the forwarded client.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = trusted.log();
        let line = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["span"]["id"] == "proxied-1" && l["message"] == "answered");
        if let Some(line) = line {
            assert_eq!(line["span"]["client"], "198.51.100.7", "{line}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no log line: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Here 127.0.0.1 is not a trusted proxy: its forwarding headers are spoofable, ignored.
    let untrusted = Server::start_with(None, &[(config::ENV_TRUSTED_PROXIES, "10.0.0.0/8")]);
    untrusted.ok(
        &["user", "add", "pat", "--password-stdin"],
        "a long password\n",
    );
    let from_office = untrusted.key(
        "pat",
        "pat",
        "posts:read",
        &["--allow-ip", "198.51.100.0/24"],
    );
    for header in ["x-forwarded-for", "forwarded"] {
        let value = if header == "forwarded" {
            "for=198.51.100.7"
        } else {
            "198.51.100.7"
        };
        let (status, _, body) = get(
            &untrusted.base,
            "/api/v1/posts",
            &from_office,
            &[(header, value)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{header}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("this request came from 127.0.0.1"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_keys_rate_limit_holds_across_processes_on_postgres() {
    let Some(pg) =
        common::pg::Postgres::start("a_keys_rate_limit_holds_across_processes_on_postgres")
    else {
        return;
    };
    let database = pg.database();
    let one = Server::start(Some(database.clone()));
    let two = Server::start(Some(database));
    one.ok(
        &["user", "add", "ron", "--password-stdin"],
        "a long password\n",
    );
    // Ten a minute: one token back every six seconds, longer than the test's requests take.
    let key = one.key("ron", "ron", "posts:read", &["--rate-limit", "10"]);
    let mut requests = Vec::new();
    for i in 0..30 {
        let base = if i % 2 == 0 {
            one.base.clone()
        } else {
            two.base.clone()
        };
        let key = key.clone();
        requests.push(tokio::spawn(async move {
            get(&base, "/api/v1/posts", &key, &[]).await
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for request in requests {
        let (status, headers, body) = request.await.expect("request");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert_eq!(body["type"], "urn:postctl:problem:rate-limited", "{body}");
                let retry: u64 = headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .expect("Retry-After");
                assert!((1..=6).contains(&retry), "{retry}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(
        (ok, limited),
        (10, 20),
        "the limit is for both processes together"
    );
    drop((one, two));
    drop(pg);
}

/// Sends raw HTTP and returns what came back until the server closed or 10 s passed.
fn raw_exchange(base: &str, request: &[u8], then_wait: bool) -> String {
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    if !then_wait {
        stream.shutdown(std::net::Shutdown::Write).ok();
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn bodies_over_the_limit_and_slow_requests_are_refused() {
    let server = Server::start_with(
        None,
        &[
            (config::ENV_BODY_LIMIT_KB, "1"),
            (config::ENV_REQUEST_TIMEOUT_SECONDS, "1"),
        ],
    );
    let post = |body: String| {
        http()
            .post(format!("{}/api/v1/setup", server.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let small = format!(
        r#"{{"token": "pst_{}", "name": "a", "password": "x"}}"#,
        "x".repeat(32)
    );
    let answer = post(small).await.expect("answer");
    assert_ne!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let big = format!(
        r#"{{"token": "{}", "name": "a", "password": "x"}}"#,
        "x".repeat(1100)
    );
    let answer = post(big).await.expect("answer");
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = answer.json().await.expect("problem");
    assert_eq!(
        body["type"], "urn:postctl:problem:payload-too-large",
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("1024 bytes"),
        "{body}"
    );
    // A client that announces 100 bytes and sends 10 is cut off after a second.
    let base = server.base.clone();
    let started = std::time::Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        raw_exchange(
            &base,
            b"POST /api/v1/setup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"token\":",
            true,
        )
    })
    .await
    .expect("exchange");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("urn:postctl:problem:timeout"), "{answer}");
    assert!(answer.contains("request_timeout_seconds"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

async fn preflight(base: &str, origin: &str) -> reqwest::header::HeaderMap {
    http()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/posts"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .expect("answer")
        .headers()
        .clone()
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_set() {
    let closed = Server::start(None);
    let headers = preflight(&closed.base, "https://app.example.com").await;
    assert!(
        headers.get("access-control-allow-origin").is_none(),
        "{headers:?}"
    );
    let open = Server::start_with(
        None,
        &[(
            config::ENV_CORS_ORIGINS,
            "https://app.example.com,http://localhost:5173",
        )],
    );
    let headers = preflight(&open.base, "https://app.example.com").await;
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example.com"),
        "{headers:?}"
    );
    let allowed = headers
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("idempotency-key"),
        "{allowed}"
    );
    let other = preflight(&open.base, "https://evil.example").await;
    assert!(
        other.get("access-control-allow-origin").is_none(),
        "{other:?}"
    );
    // A simple request carries the header and exposes the rate-limit headers.
    let answer = http()
        .get(format!("{}/healthz", open.base))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .expect("answer");
    let headers = answer.headers();
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("http://localhost:5173")
    );
    assert!(
        headers
            .get("access-control-expose-headers")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("ratelimit-remaining"),
        "{headers:?}"
    );
    // A setting that is not an origin stops the start with what to write.
    let bad = closed.cli(&["serve", "--cors-origins", "app.example.com/"], "");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("scheme://host"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
