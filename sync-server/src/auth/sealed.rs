//! Secrets the server has to read back (a user's TOTP secret, an account's credentials),
//! sealed with ChaCha20-Poly1305 under the server key, so the database alone never gives
//! them away.
//!
//! The server key is 32 bytes: `POSTCTL_SERVER_KEY` (base64), or the file `secret.key` in
//! the data dir, created 0600 with random bytes on first use. Several processes sharing
//! one PostgreSQL database must share the key: set `POSTCTL_SERVER_KEY` for all of them.
//! Sealed text is `v1.` and base64 of a random 12-byte nonce followed by the ciphertext and
//! its tag; the owner's id (the user's, the account's) is the associated data, so a sealed
//! secret copied to another owner does not open.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// The environment variable that holds the server key.
pub const KEY_VAR: &str = "POSTCTL_SERVER_KEY";
/// The key file's name in the data dir.
pub const KEY_FILE: &str = "secret.key";
const VERSION: &str = "v1.";

/// The key that seals and opens secrets. Not `Clone`, and its `Debug` shows nothing.
pub struct ServerKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(…)")
    }
}

/// Reads a server key written as base64 of 32 bytes; `from` names where it came from.
pub fn decode_key(text: &str, from: &str) -> anyhow::Result<ServerKey> {
    let bytes = STANDARD
        .decode(text.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .with_context(|| {
            format!(
                "{from} is not a server key: it must be 32 bytes in base64 (make one with \
                 `head -c 32 /dev/urandom | base64`)"
            )
        })?;
    ServerKey::from_bytes(&bytes)
}

impl ServerKey {
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<ServerKey> {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map_err(|_| anyhow::anyhow!("a server key must be 32 bytes"))?;
        Ok(ServerKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// The key from `POSTCTL_SERVER_KEY`, else from `DATA/secret.key`, which is created
    /// (0600, random) when missing.
    pub fn load(data_dir: &Path) -> anyhow::Result<ServerKey> {
        if let Some(text) = std::env::var_os(KEY_VAR).filter(|v| !v.is_empty()) {
            let text = text
                .into_string()
                .map_err(|_| anyhow::anyhow!("{KEY_VAR} is not text"))?;
            return decode_key(&text, KEY_VAR);
        }
        let path = data_dir.join(KEY_FILE);
        postctl_core::fs::create_private_dir(data_dir)?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
        // create_new: of two processes starting at once, one writes and both read its key.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(STANDARD.encode(random).as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("could not write {}", path.display()))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("could not create {}", path.display()));
            }
        }
        for _ in 0..50 {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("could not read {}", path.display()))?;
            if !text.trim().is_empty() {
                return decode_key(&text, &path.display().to_string());
            }
            // Another process created the file and is writing it.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        bail!(
            "{} is empty; delete it to make a new key, or set {KEY_VAR}",
            path.display()
        )
    }

    /// Replaces `DATA/secret.key` with `text` (a key in base64): written 0600 beside it,
    /// synced, then renamed over it, so the file is always one whole key.
    pub fn replace_file(data_dir: &Path, text: &str) -> anyhow::Result<()> {
        let path = data_dir.join(KEY_FILE);
        let next = data_dir.join(format!("{KEY_FILE}.new"));
        let _ = std::fs::remove_file(&next);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&next)
            .with_context(|| format!("could not create {}", next.display()))?;
        file.write_all(text.trim().as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("could not write {}", next.display()))?;
        std::fs::rename(&next, &path)
            .with_context(|| format!("could not replace {}", path.display()))?;
        if let Ok(dir) = std::fs::File::open(data_dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Seals `plain` for `owner` (the associated data).
    pub fn seal(&self, owner: &str, plain: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut data,
            )
            .map_err(|_| anyhow::anyhow!("could not seal a secret"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{VERSION}{}", STANDARD.encode(out)))
    }

    /// Opens what [`seal`](Self::seal) made for `owner`. Fails for another key, another
    /// owner, or altered text.
    pub fn open(&self, owner: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let fail = || {
            anyhow::anyhow!(
                "a sealed secret does not open with this server key: was {KEY_VAR} or {KEY_FILE} changed?"
            )
        };
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(fail)?;
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut data)
            .map_err(|_| fail())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_owner() {
        let key = ServerKey::from_bytes(&[7; 32]).expect("key");
        let sealed = key.seal("user-1", b"JBSWY3DPEHPK3PXP").expect("seal");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(
            key.open("user-1", &sealed).expect("open"),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(key.open("user-2", &sealed).is_err(), "another owner");
        let other = ServerKey::from_bytes(&[8; 32]).expect("key");
        assert!(other.open("user-1", &sealed).is_err(), "another key");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open("user-1", &altered).is_err(), "altered");
        assert_ne!(
            sealed,
            key.seal("user-1", b"JBSWY3DPEHPK3PXP").expect("seal")
        );
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().expect("dir");
        let first = ServerKey::load(dir.path()).expect("key");
        let sealed = first.seal("u", b"x").expect("seal");
        let again = ServerKey::load(dir.path()).expect("key");
        assert_eq!(again.open("u", &sealed).expect("open"), b"x");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
