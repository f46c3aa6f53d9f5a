//! TOTP (RFC 6238) as authenticator apps use it: SHA-1, 6 digits, 30-second steps, one
//! step of clock drift either way, through the totp-rs crate (which compares codes in
//! constant time). A code is accepted once: the storage remembers the last step used.
//! Recovery codes are 16 random letters and digits, shown once, stored as SHA-256.

use totp_rs::{Algorithm, Totp};

use super::sha256_hex;

/// The issuer authenticator apps show next to the account.
pub const ISSUER: &str = "postctl-server";
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;
/// Recovery codes made when TOTP is confirmed.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8], account: &str) -> anyhow::Result<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("could not make a TOTP: {e}"))
}

/// A new random secret.
pub fn new_secret() -> anyhow::Result<Vec<u8>> {
    let mut secret = vec![0u8; SECRET_LEN];
    getrandom::fill(&mut secret)
        .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
    Ok(secret)
}

/// The `otpauth://totp/…` URI an authenticator app reads (as a QR code or pasted).
pub fn uri(secret: &[u8], account: &str) -> anyhow::Result<String> {
    totp(secret, account)?
        .to_url()
        .map_err(|e| anyhow::anyhow!("could not make the otpauth URI: {e}"))
}

/// The secret in base32, for apps where it is typed in.
pub fn secret_base32(secret: &[u8]) -> anyhow::Result<String> {
    Ok(totp(secret, "x")?.secret().to_base32())
}

/// The time step `code` is valid for at `now_s` (unix seconds), if it is valid.
pub fn check(secret: &[u8], code: &str, now_s: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret, "x").ok()?;
    totp.check(&code, now_s)
}

/// The code for `now_s` (tests and `user totp` use it to show what an app would show).
pub fn code_at(secret: &[u8], now_s: u64) -> anyhow::Result<String> {
    Ok(totp(secret, "x")?.generate(now_s).to_string())
}

/// A recovery code as typed: lowercase, without dashes and spaces.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What the database stores for a recovery code.
pub fn recovery_hash(code: &str) -> String {
    sha256_hex(normalize_recovery(code).as_bytes())
}

/// New recovery codes (`abcd-efgh-jkmn-pqrs`, 82 bits each) and their hashes.
pub fn new_recovery_codes() -> anyhow::Result<Vec<(String, String)>> {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let mut raw = String::new();
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf)
            .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
        // 252 = 7 × 36: rejecting the bytes above keeps every character equally likely.
        for b in buf.iter().filter(|b| **b < 252).take(16) {
            raw.push(ALPHABET[usize::from(b % 36)] as char);
        }
        if raw.len() < 16 {
            continue;
        }
        let code = format!(
            "{}-{}-{}-{}",
            &raw[..4],
            &raw[4..8],
            &raw[8..12],
            &raw[12..]
        );
        let hash = recovery_hash(&code);
        codes.push((code, hash));
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, last six digits.
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(code_at(secret, time).expect("code"), code, "at {time}");
        }
    }

    #[test]
    fn codes_are_valid_one_step_either_way_only() {
        let secret = new_secret().expect("secret");
        let now = 1_800_000_000;
        let code = code_at(&secret, now).expect("code");
        assert_eq!(check(&secret, &code, now), Some(now / 30));
        assert!(check(&secret, &code, now + 30).is_some());
        assert!(check(&secret, &code, now + 90).is_none());
        assert!(check(&secret, "000000x", now).is_none());
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(check(&secret, &spaced, now).is_some());
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_and_holds_the_secret() {
        let secret = new_secret().expect("secret");
        let uri = uri(&secret, "alice").expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/postctl-server:alice?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", secret_base32(&secret).expect("b32"))));
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes().expect("codes");
        assert_eq!(codes.len(), RECOVERY_CODES);
        let (code, hash) = &codes[0];
        assert_eq!(code.len(), 19);
        assert_eq!(&recovery_hash(&code.to_uppercase().replace('-', " ")), hash);
        assert_ne!(codes[0].0, codes[1].0);
    }
}
