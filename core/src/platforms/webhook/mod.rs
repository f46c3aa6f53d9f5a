//! A generic outgoing webhook: each part is POSTed as JSON to the account's base URL,
//! signed the Standard Webhooks way (<https://www.standardwebhooks.com>), so receivers can
//! check it with that standard's libraries and refuse replays.
//!
//! The request:
//!
//! ```text
//! POST <base_url>
//! Content-Type: application/json
//! webhook-id: msg_<the part's idempotency key>     the same on every retry of the part
//! webhook-timestamp: <unix seconds when sent>
//! webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">
//! X-Postctl-Idempotency-Key: <the part's idempotency key>
//!
//! {"post": {"text": "...", "html": "...", "media": [{"file_name", "mime", "alt", "size"}]},
//!  "part": 0, "reply_to": "<id the receiver gave the previous part>", "idempotency_key": "..."}
//! ```
//!
//! The account's secret is a Standard Webhooks secret, `whsec_<base64>`, whose decoded
//! bytes are the HMAC key. A secret in another form (accounts added before postctl followed
//! the standard) still works: its text is the HMAC key of `webhook-signature`, and the
//! request also carries the older `X-Postctl-Signature: sha256=<hex HMAC-SHA256 of the
//! body>`, so receivers written for it keep working unchanged.
//!
//! `html` and `reply_to` are left out when there is none. Media are described, not
//! uploaded: the receiver gets their names, types, sizes and alt texts, never the bytes.
//! The adapter still declares up to `MAX_DESCRIBED_MEDIA` per part (not 0), because the
//! engine refuses a post with more media than `max_media`, and a post with an image should
//! reach a webhook as its text plus the image's description. A 2xx answer
//! may be JSON with an `id` (string or number) and a `url`; without an `id` the part is
//! known by its idempotency key. Receivers should deduplicate on `webhook-id`: postctl may
//! send a part twice after a timeout, since it cannot know what the receiver did.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::http::{self, Answer, endpoint, host_of};
use super::{
    AccountMetrics, Adapter, Capabilities, Http, Idempotency, Metrics, Part, Platform, PostMetrics,
    PublishError, Published, Verified, boxed,
};
use crate::media::hex;

const NOTHING_TO_ASK: &str = "a webhook only receives posts; it reports no counters";
use crate::model::Account;
use crate::secrets::Secret;
use crate::text::{Counting, Format, TextLimit};

/// Media described per part; the same bound as the chat networks' albums.
const MAX_DESCRIBED_MEDIA: usize = 10;

/// What a webhook receiver takes: postctl's own JSON, so its own generous limits.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: 100_000,
        counting: Counting::CodePoints,
    },
    format: Format::Plain,
    // Media are described in the JSON, never uploaded (see the module docs).
    max_media: MAX_DESCRIBED_MEDIA,
    // Nothing is uploaded, so no file is too large.
    max_image_bytes: u64::MAX,
    threads: true,
    idempotency: Idempotency::None,
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: None,
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| boxed(Webhook::new(account, secret, tools.http))),
};

/// The prefix of a Standard Webhooks secret; the rest is the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// The HMAC key a webhook account's secret stands for.
pub(crate) enum SigningKey {
    /// `whsec_<base64>`: the decoded bytes.
    Standard(Zeroizing<Vec<u8>>),
    /// Any other text, from before postctl followed the standard: the text's bytes, and
    /// the older `X-Postctl-Signature` header is sent too.
    Legacy(Zeroizing<Vec<u8>>),
}

impl SigningKey {
    /// The key `secret` stands for; the error says what is wrong without repeating it.
    pub(crate) fn parse(secret: &str) -> Result<SigningKey, &'static str> {
        let secret = secret.trim();
        match secret.strip_prefix(SECRET_PREFIX) {
            Some(encoded) => match BASE64.decode(encoded) {
                Ok(key) if !key.is_empty() => Ok(SigningKey::Standard(Zeroizing::new(key))),
                _ => Err(
                    "a secret starting with whsec_ must go on in base64 (A-Z, a-z, 0-9, +, / and = padding), as receivers' Standard Webhooks libraries show it; copy it again from the receiver",
                ),
            },
            None if secret.is_empty() => Err("the signing key is empty"),
            None => Ok(SigningKey::Legacy(Zeroizing::new(
                secret.as_bytes().to_vec(),
            ))),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            SigningKey::Standard(key) | SigningKey::Legacy(key) => key,
        }
    }
}

/// The `webhook-signature` value for a message: `v1,` and the base64 HMAC-SHA256 of
/// `"{id}.{timestamp}.{body}"` under `key`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut signed = Vec::with_capacity(id.len() + body.len() + 24);
    signed.extend_from_slice(format!("{id}.{timestamp}.").as_bytes());
    signed.extend_from_slice(body);
    format!("v1,{}", BASE64.encode(hmac_sha256(key, &signed)))
}

/// The `webhook-id` of a part: the same on every retry, so the receiver can deduplicate.
fn message_id(part: &Part) -> String {
    format!("msg_{}", part.idempotency_key)
}

pub struct Webhook {
    account: String,
    /// The commands that set the account up again, for credential errors.
    again: String,
    url: reqwest::Url,
    key: SigningKey,
    http: Http,
}

impl Webhook {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        let base = account.base_url.as_deref().ok_or_else(|| {
            PublishError::permanent(format!(
                "the webhook account {:?} has no address; add it again with --base-url, e.g. {}",
                account.name,
                crate::network::Network::Webhook.example_add_command()
            ))
        })?;
        let key = SigningKey::parse(secret.expose()).map_err(|rule| {
            PublishError::auth(format!(
                "the signing key of the webhook account {:?} is not usable ({rule}); add the account again with `postctl accounts rm {0}`, then {}",
                account.name,
                crate::network::Network::Webhook.example_add_command()
            ))
        })?;
        Ok(Webhook {
            account: account.name.clone(),
            again: crate::network::add_again_command(account),
            url: endpoint(base, &[])?,
            key,
            http,
        })
    }
}

impl Adapter for Webhook {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    /// Nothing to call without posting: the identity is where the posts go.
    async fn verify(&self) -> Result<Verified, PublishError> {
        Ok(Verified {
            identity: format!("webhook to {}", host_of(&self.url)),
        })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        let body = serde_json::to_vec(&payload(part))
            .map_err(|e| PublishError::permanent(format!("cannot encode the post as JSON: {e}")))?;
        let id = message_id(part);
        // Signed when sent, so a retry carries a fresh timestamp (receivers refuse old
        // ones) under the same id.
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut request = self
            .http
            .client()
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                "webhook-signature",
                standard_signature(self.key.bytes(), &id, timestamp, &body),
            )
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("X-Postctl-Idempotency-Key", &part.idempotency_key);
        if let SigningKey::Legacy(key) = &self.key {
            let legacy = format!("sha256={}", hex(&hmac_sha256(key, &body)));
            request = request.header("X-Postctl-Signature", legacy);
        }
        let request = request.body(body);
        let answer = self.http.exchange(&self.account, request).await?;
        if !answer.is_success() {
            return Err(self.error(&answer));
        }
        let reply = answer.json().unwrap_or(Value::Null);
        let id = match reply.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => part.idempotency_key.clone(),
        };
        Ok(Published {
            id,
            url: reply.get("url").and_then(Value::as_str).map(str::to_owned),
            extra: Value::Null,
        })
    }

    async fn delete(&self, _published: &Published) -> Result<(), PublishError> {
        Err(PublishError::permanent(
            "a webhook cannot delete: postctl only sends posts to it; remove the post on the receiving side",
        ))
    }

    /// A webhook only receives: there is nothing to ask.
    async fn post_metrics(&self, _posts: &[Published]) -> Result<PostMetrics, PublishError> {
        Ok(Metrics::NotProvided(NOTHING_TO_ASK))
    }

    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        Ok(Metrics::NotProvided(NOTHING_TO_ASK))
    }
}

impl Webhook {
    fn error(&self, answer: &Answer) -> PublishError {
        let host = host_of(&self.url);
        let status = answer.status;
        let said = answer.excerpt();
        match status {
            401 | 403 => PublishError::Auth {
                message: format!(
                    "the webhook at {host} refused the request (HTTP {status}{said}); check that the receiver expects this signing key, and add the account again with the right one: `{}`",
                    self.again
                ),
                status: Some(status),
            },
            408 | 425 | 429 | 500..=599 => http::classify(
                status,
                format!("the webhook at {host} answered HTTP {status}{said}; will retry"),
                answer.retry_after(),
            ),
            _ => PublishError::Permanent {
                message: format!(
                    "the webhook at {host} rejected the post (HTTP {status}{said}); fix the receiver or the post, then `postctl retry`"
                ),
                status: Some(status),
            },
        }
    }
}

fn payload(part: &Part) -> Value {
    let media: Vec<Value> = part
        .media
        .iter()
        .map(|m| {
            json!({
                "file_name": m.file_name,
                "mime": m.mime,
                "alt": m.alt,
                "size": m.size,
            })
        })
        .collect();
    let mut post = json!({ "text": part.rendered.text, "media": media });
    if let Some(html) = &part.rendered.html {
        post["html"] = json!(html);
    }
    let mut body = json!({
        "post": post,
        "part": part.index,
        "idempotency_key": part.idempotency_key,
    });
    if let Some(previous) = &part.reply_to {
        body["reply_to"] = json!(previous.id);
    }
    body
}

/// HMAC-SHA256 (RFC 2104 over SHA-256: 64-byte blocks, a longer key hashed first).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner_pad = Zeroizing::new([0x36u8; BLOCK]);
    let mut outer_pad = Zeroizing::new([0x5cu8; BLOCK]);
    for i in 0..BLOCK {
        inner_pad[i] ^= block[i];
        outer_pad[i] ^= block[i];
    }
    let inner = Sha256::new()
        .chain_update(inner_pad.as_slice())
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(outer_pad.as_slice())
        .chain_update(inner)
        .finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_server::{Reply, Request, TestServer};
    use super::*;
    use crate::network::Network;
    use crate::platforms::MediaFile;
    use crate::text::Rendered;
    use std::time::Duration;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1, 2, 4 and 6 of RFC 4231 (6 has a 131-byte key, hashed first).
        let cases: [(Vec<u8>, Vec<u8>, &str); 4] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                vec![0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hex(&hmac_sha256(&key, &data)), want);
        }
    }

    /// A key from before the standard (not `whsec_`), as older accounts hold.
    const KEY: &str = "whsec-signing-key-0123456789";
    /// The Standard Webhooks libraries' test secret.
    const STANDARD_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn signatures_match_the_standard_libraries_test_vector() {
        // libraries/go/webhook_test.go, TestWebhookSign, in standard-webhooks/standard-webhooks.
        let Ok(SigningKey::Standard(key)) = SigningKey::parse(STANDARD_KEY) else {
            panic!("a whsec_ secret is a standard key");
        };
        assert_eq!(
            standard_signature(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_parse_as_standard_or_legacy_keys() {
        let cases = [
            (STANDARD_KEY, Ok("standard")),
            ("  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", Ok("standard")),
            ("hook-signing-key-7f3a", Ok("legacy")),
            ("whsec-not-the-prefix", Ok("legacy")),
            ("whsec_not base64!", Err("must go on in base64")),
            ("whsec_", Err("must go on in base64")),
            ("   ", Err("empty")),
        ];
        for (secret, want) in cases {
            let got = SigningKey::parse(secret).map(|key| match key {
                SigningKey::Standard(_) => "standard",
                SigningKey::Legacy(_) => "legacy",
            });
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{secret:?}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{secret:?}: {got}"),
                (got, want) => panic!("{secret:?}: {:?} != {want:?}", got.err()),
            }
        }
    }

    fn adapter(base: &str) -> Webhook {
        adapter_with(base, KEY)
    }

    fn adapter_with(base: &str, key: &str) -> Webhook {
        let account = Account {
            id: "a1".into(),
            name: "hook".into(),
            network: Network::Webhook,
            base_url: Some(format!("{base}/hooks/postctl")),
            handle: None,
            settings: json!({}),
            secret_ref: "env:HOOK".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        };
        let http = Http::new(Duration::from_secs(5)).expect("client");
        Webhook::new(&account, Secret::new(key.into()), http).expect("adapter")
    }

    fn part(index: usize, reply_to: Option<&str>) -> Part {
        Part {
            index,
            rendered: Rendered {
                text: "Shipped v1.2".into(),
                html: None,
                facets: vec![],
            },
            media: vec![MediaFile {
                path: "/nonexistent/chart.png".into(),
                file_name: "chart.png".into(),
                mime: "image/png".into(),
                size: 1234,
                width: Some(10),
                height: Some(20),
                alt: Some("weekly downloads".into()),
            }],
            idempotency_key: format!("target-1:{index}"),
            stage: Default::default(),
            reply_to: reply_to.map(|id| Published {
                id: id.into(),
                url: None,
                extra: Value::Null,
            }),
            root: None,
        }
    }

    #[tokio::test]
    async fn posts_signed_json_and_reads_the_answer() {
        let server = TestServer::start(|_: &Request| {
            Reply::json(201, json!({"id": 77, "url": "https://example.com/p/77"}))
        })
        .await;
        let hook = adapter(&server.url());
        let published = hook.publish(&part(1, Some("76"))).await.expect("published");
        assert_eq!(published.id, "77");
        assert_eq!(published.url.as_deref(), Some("https://example.com/p/77"));

        let requests = server.requests();
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/postctl");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.header("x-postctl-idempotency-key"),
            Some("target-1:1")
        );
        // A key from before the standard keeps the older header, and signs the standard
        // one with its text.
        let want = format!(
            "sha256={}",
            hex(&hmac_sha256(KEY.as_bytes(), &request.body))
        );
        assert_eq!(request.header("x-postctl-signature"), Some(want.as_str()));
        assert_eq!(request.header("webhook-id"), Some("msg_target-1:1"));
        let timestamp: u64 = request
            .header("webhook-timestamp")
            .and_then(|t| t.parse().ok())
            .expect("a numeric webhook-timestamp");
        let want = standard_signature(KEY.as_bytes(), "msg_target-1:1", timestamp, &request.body);
        assert_eq!(request.header("webhook-signature"), Some(want.as_str()));
        assert_eq!(
            request.json(),
            json!({
                "post": {
                    "text": "Shipped v1.2",
                    "media": [{"file_name": "chart.png", "mime": "image/png", "alt": "weekly downloads", "size": 1234}],
                },
                "part": 1,
                "reply_to": "76",
                "idempotency_key": "target-1:1",
            })
        );
        assert!(!request.body_text().contains(KEY));
    }

    #[tokio::test]
    async fn a_standard_secret_signs_the_standard_way_with_one_id_across_retries() {
        let server =
            TestServer::sequence(vec![Reply::text(503, "busy"), Reply::text(200, "ok")]).await;
        let hook = adapter_with(&server.url(), STANDARD_KEY);
        let part = part(0, None);
        hook.publish(&part).await.expect_err("503 first");
        hook.publish(&part).await.expect("then 200");
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let Ok(SigningKey::Standard(key)) = SigningKey::parse(STANDARD_KEY) else {
            panic!("a standard key");
        };
        for request in &requests {
            assert_eq!(request.header("webhook-id"), Some("msg_target-1:0"));
            let timestamp: u64 = request
                .header("webhook-timestamp")
                .and_then(|t| t.parse().ok())
                .expect("a numeric webhook-timestamp");
            let want = standard_signature(&key, "msg_target-1:0", timestamp, &request.body);
            assert_eq!(request.header("webhook-signature"), Some(want.as_str()));
            assert_eq!(request.header("x-postctl-signature"), None);
            assert!(!request.body_text().contains("MfKQ9r8G"));
        }
    }

    #[test]
    fn an_unusable_secret_is_refused_without_being_shown() {
        let account = Account {
            id: "a1".into(),
            name: "hook".into(),
            network: Network::Webhook,
            base_url: Some("https://example.com/hook".into()),
            handle: None,
            settings: json!({}),
            secret_ref: "env:HOOK".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        };
        let http = Http::new(Duration::from_secs(5)).expect("client");
        let err = Webhook::new(&account, Secret::new("whsec_%%secret%%".into()), http)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("base64") && !err.contains("%%secret%%"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn without_an_id_the_part_is_known_by_its_key() {
        let server = TestServer::start(|_: &Request| Reply::text(200, "ok")).await;
        let published = adapter(&server.url())
            .publish(&part(0, None))
            .await
            .expect("published");
        assert_eq!(published.id, "target-1:0");
        assert_eq!(published.url, None);
        let body = server.requests()[0].json();
        assert!(body.get("reply_to").is_none() && body["post"].get("html").is_none());
    }

    #[tokio::test]
    async fn errors_are_classified() {
        let cases = [
            (Reply::text(401, "bad signature"), "auth"),
            (Reply::text(403, ""), "auth"),
            (Reply::text(400, "missing field"), "permanent"),
            (Reply::text(404, ""), "permanent"),
            (
                Reply::text(429, "").header("retry-after", "3"),
                "retry 3000ms",
            ),
            (Reply::text(503, "down"), "retry maybe sent"),
            (Reply::hang_up(), "retry maybe sent"),
        ];
        for (reply, want) in cases {
            let server = TestServer::sequence(vec![reply]).await;
            let err = adapter(&server.url())
                .publish(&part(0, None))
                .await
                .expect_err("an error");
            let got = crate::platforms::test_server::class(&err);
            assert_eq!(got, want, "{err}");
            assert!(!err.to_string().contains(KEY), "{err}");
            assert!(!format!("{err:?}").contains(KEY), "{err:?}");
        }
    }

    #[tokio::test]
    async fn verify_names_the_host_and_delete_is_refused() {
        let hook = adapter("https://hooks.example.com");
        let verified = hook.verify().await.expect("verified");
        assert_eq!(verified.identity, "webhook to hooks.example.com");
        let published = Published {
            id: "1".into(),
            url: None,
            extra: Value::Null,
        };
        let err = hook.delete(&published).await.expect_err("refused");
        assert!(err.to_string().contains("a webhook cannot delete"));
    }
}
