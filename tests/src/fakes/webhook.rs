//! A generic webhook receiver: takes JSON POSTs at any path, records their headers and
//! bodies, and answers with a status the test chooses.
//!
//! Signatures follow Standard Webhooks (<https://www.standardwebhooks.com>): headers
//! `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (space-separated
//! `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), under a secret shown as
//! `whsec_<base64>` whose decoded bytes are the key. [`ReceivedWebhook::verify`] checks them
//! the way that standard's libraries do, refusing timestamps more than five minutes off;
//! a receiver started with [`FakeWebhook::verifying`] answers 401 to any delivery that fails
//! the check. The older `X-Postctl-Signature: sha256=<hex>` (HMAC-SHA256 of the body) is
//! checked with [`ReceivedWebhook::legacy_signature_valid`].

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::chaos::ErrorStyle;
use super::quota::QuotaState;
use super::server::BoundPort;
use super::{FakeServer, Running, lock, wire};

/// The header postctl signed webhook bodies in before Standard Webhooks.
pub const SIGNATURE_HEADER: &str = "x-postctl-signature";

/// How far a delivery's timestamp may be from the receiver's clock, either way: the
/// standard libraries' tolerance.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a delivery's signature was refused, in the standard libraries' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The secret is not `whsec_<base64>` (or bare base64).
    BadSecret,
    MissingHeaders,
    /// `webhook-timestamp` is not an integer.
    InvalidHeaders,
    TooOld,
    TooNew,
    NoMatchingSignature,
}

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
    /// What a verifying receiver made of the signature; None when it does not verify.
    pub verified: Option<Result<(), SignatureError>>,
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

    /// Checks the Standard Webhooks signature under `secret` (`whsec_<base64>`) against the
    /// clock now.
    pub fn verify(&self, secret: &str) -> Result<(), SignatureError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        self.verify_at(secret, now)
    }

    /// [`ReceivedWebhook::verify`] at `now` (unix seconds), as the libraries do it: the
    /// secret's `whsec_` prefix is dropped and the rest base64-decoded; the three headers
    /// must be there; the timestamp within [`TOLERANCE_SECS`]; and one of the signatures
    /// with version `v1` must equal the expected one (compared in constant time).
    pub fn verify_at(&self, secret: &str, now: i64) -> Result<(), SignatureError> {
        let key = BASE64
            .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
            .map_err(|_| SignatureError::BadSecret)?;
        let (Some(id), Some(timestamp), Some(signatures)) = (
            self.header("webhook-id"),
            self.header("webhook-timestamp"),
            self.header("webhook-signature"),
        ) else {
            return Err(SignatureError::MissingHeaders);
        };
        let timestamp: i64 = timestamp
            .parse()
            .map_err(|_| SignatureError::InvalidHeaders)?;
        if now - timestamp > TOLERANCE_SECS {
            return Err(SignatureError::TooOld);
        }
        if timestamp - now > TOLERANCE_SECS {
            return Err(SignatureError::TooNew);
        }
        let expected = standard_signature(&key, id, timestamp, &self.body);
        let matches = signatures
            .split(' ')
            .filter_map(|versioned| versioned.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .any(|(_, signature)| constant_time_eq(signature.as_bytes(), expected.as_bytes()));
        if matches {
            Ok(())
        } else {
            Err(SignatureError::NoMatchingSignature)
        }
    }

    /// The older `X-Postctl-Signature` header is `sha256=` and the hex HMAC-SHA256 of the
    /// raw body under `secret`.
    pub fn legacy_signature_valid(&self, secret: &[u8]) -> bool {
        self.header(SIGNATURE_HEADER)
            .is_some_and(|value| value == format!("sha256={}", hmac_sha256_hex(secret, &self.body)))
    }
}

/// The base64 signature (without `v1,`) of a message under `key`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac(key);
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// A new Standard Webhooks secret for tests: `whsec_` and 32 bytes in base64.
pub fn standard_secret(seed: &str) -> String {
    format!("whsec_{}", BASE64.encode(wire::sha256(seed.as_bytes())))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so creating it cannot fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|e| panic!("HMAC refused a key: {e}"))
}

/// HMAC-SHA256 of `body` under `secret`, lowercase hex.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac(secret);
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
    /// The secret deliveries must be signed with, when the receiver verifies.
    secret: Option<String>,
}

impl FakeWebhook {
    /// A receiver that answers 200 with an empty body, whatever the signature.
    pub fn start() -> FakeWebhook {
        FakeWebhook::start_with(None)
    }

    /// A receiver that checks every delivery's Standard Webhooks signature under `secret`
    /// (`whsec_<base64>`) and answers 401 to one that fails (a wrong key, a missing header,
    /// a timestamp more than five minutes off).
    pub fn verifying(secret: &str) -> FakeWebhook {
        FakeWebhook::start_with(Some(secret.to_string()))
    }

    fn start_with(secret: Option<String>) -> FakeWebhook {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Receiver {
            status: StatusCode::OK,
            answer: String::new(),
            headers: Vec::new(),
            deliveries: Vec::new(),
            secret,
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
    let mut delivery = ReceivedWebhook {
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
        verified: None,
    };
    let verified = receiver.secret.as_deref().map(|s| delivery.verify(s));
    delivery.verified = verified;
    receiver.deliveries.push(delivery);
    if let Some(Err(why)) = verified {
        return (
            StatusCode::UNAUTHORIZED,
            format!("signature not accepted: {why:?}"),
        )
            .into_response();
    }
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

    /// A delivery as a sender following the standard would make it.
    fn signed(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> ReceivedWebhook {
        let key = BASE64
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap_or_else(|e| panic!("{e}"));
        ReceivedWebhook {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![
                ("webhook-id".into(), id.into()),
                ("webhook-timestamp".into(), timestamp.to_string()),
                (
                    "webhook-signature".into(),
                    format!("v1,{}", standard_signature(&key, id, timestamp, body)),
                ),
            ],
            body: body.to_vec(),
            json: None,
            verified: None,
        }
    }

    #[test]
    fn signatures_match_the_standard_libraries_test_vector() {
        // libraries/go/webhook_test.go (TestWebhookSign) in standard-webhooks/standard-webhooks.
        let key = BASE64
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            standard_signature(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn verification_follows_the_standard_libraries() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let now = 1_800_000_000;
        let good = signed(secret, "msg_1", now, b"{}");
        let with = |name: &str, value: Option<&str>| {
            let mut delivery = good.clone();
            delivery.headers.retain(|(n, _)| n != name);
            if let Some(value) = value {
                delivery.headers.push((name.into(), value.into()));
            }
            delivery
        };
        let other_sig = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
        let valid_sig = good
            .header("webhook-signature")
            .unwrap_or_default()
            .to_string();
        let several = format!("{other_sig} v2,{} {valid_sig}", &valid_sig[3..]);
        let cases: Vec<(&str, ReceivedWebhook, i64, Result<(), SignatureError>)> = vec![
            ("valid", good.clone(), now, Ok(())),
            ("bare base64 secret", good.clone(), now, Ok(())),
            (
                "no id",
                with("webhook-id", None),
                now,
                Err(SignatureError::MissingHeaders),
            ),
            (
                "no timestamp",
                with("webhook-timestamp", None),
                now,
                Err(SignatureError::MissingHeaders),
            ),
            (
                "no signature",
                with("webhook-signature", None),
                now,
                Err(SignatureError::MissingHeaders),
            ),
            (
                "bad timestamp",
                with("webhook-timestamp", Some("soon")),
                now,
                Err(SignatureError::InvalidHeaders),
            ),
            (
                "wrong signature",
                with("webhook-signature", Some(other_sig)),
                now,
                Err(SignatureError::NoMatchingSignature),
            ),
            (
                "one of several",
                with("webhook-signature", Some(several.as_str())),
                now,
                Ok(()),
            ),
            (
                "another id",
                with("webhook-id", Some("msg_2")),
                now,
                Err(SignatureError::NoMatchingSignature),
            ),
            ("5 minutes old", good.clone(), now + TOLERANCE_SECS, Ok(())),
            (
                "stale",
                good.clone(),
                now + TOLERANCE_SECS + 1,
                Err(SignatureError::TooOld),
            ),
            (
                "from the future",
                good.clone(),
                now - TOLERANCE_SECS - 1,
                Err(SignatureError::TooNew),
            ),
        ];
        for (name, delivery, at, want) in cases {
            let secret = if name == "bare base64 secret" {
                secret.trim_start_matches("whsec_")
            } else {
                secret
            };
            assert_eq!(delivery.verify_at(secret, at), want, "{name}");
        }
        assert_eq!(
            good.verify_at("whsec_not base64", now),
            Err(SignatureError::BadSecret)
        );
        let wrong_key = standard_secret("another key");
        assert_eq!(
            good.verify_at(&wrong_key, now),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn a_verifying_receiver_refuses_bad_and_stale_deliveries() {
        let secret = standard_secret("receiver");
        let fake = FakeWebhook::verifying(&secret);
        let body = br#"{"event":"target.failed"}"#;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let send = |delivery: &ReceivedWebhook| {
            let headers: Vec<(&str, &str)> = delivery
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .chain([("Content-Type", "application/json")])
                .collect();
            call(&fake.base_url(), "POST", "/hooks/postctl", &headers, body).status
        };
        assert_eq!(send(&signed(&secret, "msg_1", now, body)), 200);
        assert_eq!(send(&signed(&secret, "msg_2", now - 3600, body)), 401);
        assert_eq!(
            send(&signed(&standard_secret("other"), "msg_3", now, body)),
            401
        );
        let verdicts: Vec<_> = fake.deliveries().iter().map(|d| d.verified).collect();
        assert_eq!(
            verdicts,
            [
                Some(Ok(())),
                Some(Err(SignatureError::TooOld)),
                Some(Err(SignatureError::NoMatchingSignature))
            ]
        );
    }

    #[test]
    fn deliveries_are_recorded_and_legacy_signatures_checked() {
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
        assert!(delivery.legacy_signature_valid(b"s3cret"));
        assert!(!delivery.legacy_signature_valid(b"other"));
        assert_eq!(delivery.verified, None, "this receiver does not verify");

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
