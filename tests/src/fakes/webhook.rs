//! A generic webhook receiver: takes JSON POSTs at any path, records their headers and
//! bodies, and answers with a status the test chooses. Signatures
//! (`X-Postctl-Signature: sha256=<hex>`, HMAC-SHA256 of the raw body) are checked with
//! [`ReceivedWebhook::signature_valid`].

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::chaos::ErrorStyle;
use super::quota::QuotaState;
use super::server::BoundPort;
use super::{FakeServer, Running, lock, wire};

/// The header postctl signs webhook bodies in.
pub const SIGNATURE_HEADER: &str = "x-postctl-signature";

/// One delivery as received.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedWebhook {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body parsed; None when it is not JSON (and the receiver answered 400).
    pub json: Option<Value>,
}

impl ReceivedWebhook {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `X-Postctl-Signature` header is `sha256=` and the hex HMAC-SHA256 of the raw body
    /// under `secret`.
    pub fn signature_valid(&self, secret: &[u8]) -> bool {
        self.header(SIGNATURE_HEADER)
            .is_some_and(|value| value == format!("sha256={}", hmac_sha256_hex(secret, &self.body)))
    }
}

/// HMAC-SHA256 of `body` under `secret`, lowercase hex.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length, so creating it cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|e| panic!("HMAC refused a key: {e}"));
    mac.update(body);
    wire::hex(&mac.finalize().into_bytes())
}

/// A fake webhook endpoint; stops when dropped.
pub struct FakeWebhook {
    running: Running,
    shared: Arc<Mutex<Receiver>>,
}

struct Receiver {
    status: StatusCode,
    answer: String,
    /// Headers added to every answer (a receiver behind a proxy may send any).
    headers: Vec<(String, String)>,
    deliveries: Vec<ReceivedWebhook>,
}

impl FakeWebhook {
    /// A receiver that answers 200 with an empty body.
    pub fn start() -> FakeWebhook {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Receiver {
            status: StatusCode::OK,
            answer: String::new(),
            headers: Vec::new(),
            deliveries: Vec::new(),
        }));
        let router = Router::new().fallback(receive).with_state(shared.clone());
        let running = Running::start("webhook", port, router, Arc::new(PlainErrors));
        FakeWebhook { running, shared }
    }

    /// The URL of `path` on this receiver, e.g. `url("/hooks/postctl")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// Answers every later delivery with `status` and `body`. A status that is not a valid
    /// HTTP status is ignored.
    pub fn respond_with(&self, status: u16, body: &str) {
        let mut receiver = lock(&self.shared);
        if let Ok(status) = StatusCode::from_u16(status) {
            receiver.status = status;
        }
        receiver.answer = body.to_string();
    }

    /// Like [`FakeWebhook::respond_with`], with these headers on every answer: whatever
    /// a receiver or the proxy in front of it may send (`Retry-After: inf`).
    pub fn respond_with_headers(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        self.respond_with(status, body);
        lock(&self.shared).headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> Vec<ReceivedWebhook> {
        lock(&self.shared).deliveries.clone()
    }
}

fake_server!(FakeWebhook);

async fn receive(
    State(shared): State<Arc<Mutex<Receiver>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = serde_json::from_slice::<Value>(&body).ok();
    let mut receiver = lock(&shared);
    receiver.deliveries.push(ReceivedWebhook {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        json: json.clone(),
    });
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "POST only").into_response();
    }
    if json.is_none() {
        return (StatusCode::BAD_REQUEST, "the body is not JSON").into_response();
    }
    let mut response = (receiver.status, receiver.answer.clone()).into_response();
    for (name, value) in &receiver.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// A generic server's words: the status with a short text, `Retry-After` on 429.
struct PlainErrors;

impl ErrorStyle for PlainErrors {
    fn server_error(&self, _path: &str, status: StatusCode) -> Response {
        (status, status.canonical_reason().unwrap_or("error")).into_response()
    }

    fn rate_limited(&self, _path: &str, quota: &QuotaState) -> Response {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        wire::set_headers(
            response.headers_mut(),
            [("retry-after", quota.retry_after_secs().to_string())],
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw_http::call;
    use super::super::{ChaosConfig, Failure};
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn deliveries_are_recorded_and_signatures_checked() {
        let fake = FakeWebhook::start();
        let body = br#"{"event":"target.failed","post":"p1"}"#;
        let signature = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
        let reply = call(
            &fake.base_url(),
            "POST",
            "/hooks/postctl?x=1",
            &[
                ("Content-Type", "application/json"),
                ("X-Postctl-Signature", &signature),
            ],
            body,
        );
        assert_eq!(reply.status, 200);
        let delivery = &fake.deliveries()[0];
        assert_eq!(delivery.path, "/hooks/postctl?x=1");
        assert_eq!(
            delivery.json.as_ref().map(|j| j["event"].clone()),
            Some("target.failed".into())
        );
        assert!(delivery.signature_valid(b"s3cret"));
        assert!(!delivery.signature_valid(b"other"));

        fake.respond_with(410, "gone");
        let gone = call(
            &fake.base_url(),
            "POST",
            "/x",
            &[("Content-Type", "application/json")],
            b"{}",
        );
        assert_eq!((gone.status, gone.text().as_str()), (410, "gone"));
        let not_json = call(&fake.base_url(), "POST", "/x", &[], b"hello");
        assert_eq!(not_json.status, 400);
        assert_eq!(fake.deliveries().len(), 3);
    }

    #[test]
    fn chaos_applies_to_webhooks_too() {
        let fake = FakeWebhook::start();
        fake.chaos()
            .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 4));
        let limited = call(&fake.base_url(), "POST", "/x", &[], b"{}");
        assert_eq!(limited.status, 429);
        assert_eq!(limited.header("Retry-After"), Some("1"));
        assert!(fake.deliveries().is_empty());
    }
}
