//! Standard Webhooks secrets and signatures.
//!
//! A secret is `whsec_` and the base64 of 32 random bytes; the bytes are the HMAC-SHA256
//! key. Each delivery carries `webhook-id` (the delivery's id, the same on every attempt),
//! `webhook-timestamp` (unix seconds of the attempt) and `webhook-signature`: `v1,` and
//! the base64 HMAC of `"{id}.{timestamp}.{body}"`, and during a rotation a second such
//! signature under the old secret, separated by a space.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// How a secret is shown to users.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret (the standard asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// A signing key as bytes. Not `Clone`; its `Debug` shows nothing; zeroed when dropped.
pub struct SigningKey(zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> anyhow::Result<SigningKey> {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
        Ok(SigningKey(zeroize::Zeroizing::new(bytes)))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> SigningKey {
        SigningKey(zeroize::Zeroizing::new(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as the receiver configures it: `whsec_<base64>`.
    pub fn reveal(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(self.bytes()))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.bytes());
        let mut context = hmac::Context::with_key(&key);
        context.update(format!("{id}.{timestamp}.").as_bytes());
        context.update(body);
        format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
    }
}

/// The `webhook-signature` header: the current key's signature, then the old key's
/// while a rotation lasts.
pub fn signature_header(
    current: &SigningKey,
    old: Option<&SigningKey>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let mut header = current.sign(id, timestamp, body);
    if let Some(old) = old {
        header.push(' ');
        header.push_str(&old.sign(id, timestamp, body));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks libraries.
    #[test]
    fn signatures_match_the_standard_test_vector() {
        let key = SigningKey::from_bytes(
            STANDARD
                .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .expect("base64"),
        );
        assert_eq!(
            key.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_random_and_shown_with_the_prefix() {
        let a = SigningKey::generate().expect("key");
        let b = SigningKey::generate().expect("key");
        assert_ne!(a.bytes(), b.bytes());
        let shown = a.reveal();
        let decoded = STANDARD
            .decode(shown.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(decoded, a.bytes());
        assert_eq!(decoded.len(), SECRET_BYTES);
        assert_eq!(format!("{a:?}"), "SigningKey(…)");
    }

    #[test]
    fn a_rotation_signs_twice_new_key_first() {
        let new = SigningKey::from_bytes(vec![1; 32]);
        let old = SigningKey::from_bytes(vec![2; 32]);
        let header = signature_header(&new, Some(&old), "id", 5, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, [new.sign("id", 5, b"{}"), old.sign("id", 5, b"{}")]);
        assert_eq!(signature_header(&new, None, "id", 5, b"{}"), parts[0]);
    }
}
