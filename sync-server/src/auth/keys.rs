//! API keys: `sk_live_` or `sk_test_` followed by 40 random base62 characters (238 bits).
//!
//! A key is shown once, when it is made. The database keeps its SHA-256 and its first
//! 12 characters. A fast hash is enough for a secret this long (nobody can guess 238 bits
//! from its hash), and a slow one (bcrypt, argon2) on every request would spend tens of
//! milliseconds of CPU per call, far beyond the API's latency budget.

use super::{random_base62, sha256_hex};
use crate::storage::KeyMode;

/// Random characters after the mode prefix.
pub const RANDOM_LEN: usize = 40;
/// Characters kept to recognise a key: `sk_live_` and four more.
pub const PREFIX_LEN: usize = 12;

/// A freshly made key: the secret to show once, and what is stored.
#[derive(Debug)]
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

fn mode_prefix(mode: KeyMode) -> &'static str {
    match mode {
        KeyMode::Live => "sk_live_",
        KeyMode::Test => "sk_test_",
    }
}

/// Makes a new random key.
pub fn generate(mode: KeyMode) -> anyhow::Result<NewKey> {
    let secret = format!("{}{}", mode_prefix(mode), random_base62(RANDOM_LEN)?);
    Ok(NewKey {
        prefix: secret[..PREFIX_LEN].to_string(),
        hash: hash(&secret),
        secret,
    })
}

/// What the database stores for a key.
pub fn hash(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// Whether a string has the shape of a key (it may still be unknown or revoked).
pub fn well_formed(secret: &str) -> bool {
    let rest = secret
        .strip_prefix("sk_live_")
        .or_else(|| secret.strip_prefix("sk_test_"));
    rest.is_some_and(|r| r.len() == RANDOM_LEN && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// How a key shows in lists: `sk_live_abc1…`.
pub fn display(prefix: &str) -> String {
    format!("{prefix}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_their_mode_prefix_and_enough_randomness() {
        let live = generate(KeyMode::Live).expect("key");
        assert!(live.secret.starts_with("sk_live_"));
        assert_eq!(live.secret.len(), 8 + RANDOM_LEN);
        assert!(well_formed(&live.secret));
        assert_eq!(live.prefix, live.secret[..12]);
        assert_eq!(live.hash, hash(&live.secret));
        assert!(!live.hash.contains(&live.secret[8..]));
        let test = generate(KeyMode::Test).expect("key");
        assert!(test.secret.starts_with("sk_test_"));
        assert_ne!(live.secret[8..], test.secret[8..]);
    }

    #[test]
    fn malformed_keys_are_recognised() {
        assert!(!well_formed("sk_live_short"));
        assert!(!well_formed(&format!("sk_prod_{}", "a".repeat(RANDOM_LEN))));
        assert!(!well_formed(&format!(
            "sk_live_{}!",
            "a".repeat(RANDOM_LEN - 1)
        )));
        assert!(well_formed(&format!("sk_test_{}", "a".repeat(RANDOM_LEN))));
    }
}
