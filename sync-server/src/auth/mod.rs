//! Who is calling and what they may do: password hashes, API keys, and the access policy.

pub mod forwarded;
pub mod keys;
pub mod lockout;
pub mod policy;
pub mod ratelimit;
pub mod sealed;
pub mod totp;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// The argon2id PHC string of a password, with a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("could not hash the password: {e}"))
}

/// Whether `password` matches a PHC string made by [`hash_password`] (argon2 compares in
/// constant time). A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// What the sign-in and the access layer of a running server share.
#[derive(Debug)]
pub struct Guard {
    /// Seals and opens TOTP secrets.
    pub server_key: sealed::ServerKey,
    /// The in-process buckets, used when `shared_rate_limits` is false.
    pub limiter: ratelimit::Limiter,
    /// Count requests in the database (PostgreSQL: several processes share it).
    pub shared_rate_limits: bool,
    pub user_lockout: lockout::Policy,
    pub address_lockout: lockout::Policy,
    /// The rate limit of keys without their own, and of sessions.
    pub default_rate_per_minute: u32,
    /// The reverse proxies whose forwarding headers are believed (`forwarded`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Guard {
    /// The guard a server runs with: the server key (loaded or created) and the settings.
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<Guard> {
        Ok(Guard {
            server_key: sealed::ServerKey::load(&settings.data_dir)?,
            limiter: ratelimit::Limiter::default(),
            shared_rate_limits: settings.database_url.is_some(),
            user_lockout: lockout::Policy::user(settings.lockout_seconds),
            address_lockout: lockout::Policy::address(settings.lockout_seconds),
            default_rate_per_minute: settings.rate_limit,
            trusted_proxies: settings.trusted_proxies.clone(),
        })
    }
}

/// A session token's prefix: `pss_` and 40 base62 characters.
pub const SESSION_PREFIX: &str = "pss_";

/// A new session token and its SHA-256 (what is stored).
pub fn new_session_token() -> anyhow::Result<(String, String)> {
    let token = format!("{SESSION_PREFIX}{}", random_base62(keys::RANDOM_LEN)?);
    let hash = sha256_hex(token.as_bytes());
    Ok((token, hash))
}

/// Whether a string has the shape of a session token.
pub fn session_well_formed(token: &str) -> bool {
    token.strip_prefix(SESSION_PREFIX).is_some_and(|r| {
        r.len() == keys::RANDOM_LEN && r.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from base62 with the OS's random generator
/// (rejection sampling: bytes of 248 and above are thrown away, so no letter is favoured).
pub fn random_base62(len: usize) -> anyhow::Result<String> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf)
            .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
        for &b in &buf {
            if b < 248 && out.len() < len {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn base62_is_the_right_length_and_alphabet() {
        let s = random_base62(200).expect("random");
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(s, random_base62(200).expect("random"));
    }

    #[test]
    fn sha256_hex_matches_the_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
