//! Where adapters keep sessions between runs (Bluesky's access and refresh tokens).
//!
//! [`StoredSessions`] keeps them in the secret store under `session/<account>`: account
//! names are `a-z`, `0-9`, `-` and `_`, so no account's own secret can share a session's
//! key. Sessions written before this key space (as `<account>--session`, which an account
//! named `x--session` could also use) are moved over when first read, and only when the
//! old entry is plainly a session (a JSON object with `accessJwt` and `refreshJwt`); any
//! other entry there is an account's secret and is left alone.
//!
//! [`MemorySessions`] keeps them for the life of one process, for CI mode
//! (`POSTCTL_ACCOUNT_*` accounts), which must leave nothing on disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::{Secret, SecretError, SecretRef, SecretStore};
use crate::platforms::SessionStore;

/// The secret-store key of `account`'s session. `/` never occurs in an account name.
pub fn session_key(account: &str) -> String {
    format!("session/{account}")
}

/// Where sessions were kept before [`session_key`]; read once to move them.
fn legacy_session_key(account: &str) -> String {
    format!("{account}--session")
}

/// Whether `text` is a session as adapters store them, not an account's secret.
fn is_stored_session(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|value| {
        value
            .get("accessJwt")
            .is_some_and(serde_json::Value::is_string)
            && value
                .get("refreshJwt")
                .is_some_and(serde_json::Value::is_string)
    })
}

/// The places a session key can be: the file and the keyring (whichever took it).
fn places(key: &str) -> [SecretRef; 2] {
    [
        SecretRef::File {
            account: key.to_owned(),
        },
        SecretRef::Keyring {
            account: key.to_owned(),
        },
    ]
}

impl SecretStore {
    /// Removes `account`'s stored session, wherever it is (`accounts rm`, and `accounts
    /// add` so that a new account never inherits an old one's session). The old key is
    /// removed only when it holds a session (see the module docs).
    pub fn remove_session(&self, account: &str) -> Result<(), SecretError> {
        for place in places(&session_key(account)) {
            match self.remove(&place) {
                // No keyring, or one postctl may not use: no session can be in it.
                Ok(())
                | Err(SecretError::KeyringDisabled { .. } | SecretError::NoKeyring { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for place in places(&legacy_session_key(account)) {
            if self
                .get(&place)
                .is_ok_and(|old| is_stored_session(old.expose()))
            {
                self.remove(&place)?;
            }
        }
        Ok(())
    }
}

/// Sessions in the secret store (the file or the keyring), never the database.
pub struct StoredSessions(Arc<SecretStore>);

impl StoredSessions {
    pub fn new(store: Arc<SecretStore>) -> Self {
        StoredSessions(store)
    }

    /// A session under the old key, moved to the new one.
    fn migrate(&self, account: &str) -> Option<Secret> {
        let old = places(&legacy_session_key(account))
            .into_iter()
            .find_map(|place| self.0.get(&place).ok().map(|secret| (place, secret)))?;
        let (place, session) = old;
        if !is_stored_session(session.expose()) {
            return None;
        }
        if self.0.put(&session_key(account), &session).is_ok() {
            // Best effort: a copy left under the old key is removed by `accounts rm`.
            let _ = self.0.remove(&place);
        }
        Some(session)
    }
}

impl SessionStore for StoredSessions {
    fn load(&self, account: &str) -> Option<Secret> {
        places(&session_key(account))
            .iter()
            .find_map(|place| self.0.get(place).ok())
            .or_else(|| self.migrate(account))
    }

    fn save(&self, account: &str, session: &Secret) {
        // A session that cannot be kept is created again next time; nothing to report.
        let _ = self.0.put(&session_key(account), session);
    }
}

/// Sessions kept in this process only.
#[derive(Default)]
pub struct MemorySessions(Mutex<HashMap<String, Zeroizing<String>>>);

impl SessionStore for MemorySessions {
    fn load(&self, account: &str) -> Option<Secret> {
        let sessions = self.0.lock().ok()?;
        sessions
            .get(account)
            .map(|session| Secret::new(session.as_str().to_owned()))
    }

    fn save(&self, account: &str, session: &Secret) {
        if let Ok(mut sessions) = self.0.lock() {
            sessions.insert(
                account.to_owned(),
                Zeroizing::new(session.expose().to_owned()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Backend;

    const SESSION: &str =
        r#"{"accessJwt":"acc-1","refreshJwt":"ref-1","did":"did:plc:me","handle":"me.test"}"#;

    fn store(dir: &std::path::Path) -> Arc<SecretStore> {
        Arc::new(SecretStore::new(dir, Backend::File))
    }

    fn file_secret(store: &SecretStore, key: &str) -> Option<String> {
        store
            .get(&SecretRef::File {
                account: key.to_owned(),
            })
            .ok()
            .map(|s| s.expose().to_owned())
    }

    #[test]
    fn a_session_never_takes_an_account_secret_key() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = store(dir.path());
        // `x--session` is a valid account name; its token must survive `x`'s logins.
        assert!(crate::network::is_valid_name("x--session"));
        store
            .put("x--session", &Secret::new("mastodon-token".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        let sessions = StoredSessions::new(Arc::clone(&store));
        sessions.save("x", &Secret::new(SESSION.into()));
        assert_eq!(
            file_secret(&store, "x--session").as_deref(),
            Some("mastodon-token")
        );
        assert_eq!(
            sessions.load("x").map(|s| s.expose().to_owned()).as_deref(),
            Some(SESSION)
        );
        assert!(!crate::network::is_valid_name(&session_key("x")));
    }

    #[test]
    fn an_old_session_is_moved_and_an_account_secret_is_not() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = store(dir.path());
        store
            .put("bsky--session", &Secret::new(SESSION.into()))
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .put("x--session", &Secret::new("mastodon-token".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        let sessions = StoredSessions::new(Arc::clone(&store));
        assert_eq!(
            sessions
                .load("bsky")
                .map(|s| s.expose().to_owned())
                .as_deref(),
            Some(SESSION)
        );
        assert_eq!(file_secret(&store, "bsky--session"), None, "moved");
        assert_eq!(
            file_secret(&store, "session/bsky").as_deref(),
            Some(SESSION)
        );
        assert!(sessions.load("x").is_none(), "a token is not a session");
        assert_eq!(
            file_secret(&store, "x--session").as_deref(),
            Some("mastodon-token")
        );
    }

    #[test]
    fn remove_session_takes_the_session_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = store(dir.path());
        let sessions = StoredSessions::new(Arc::clone(&store));
        sessions.save("bsky", &Secret::new(SESSION.into()));
        store
            .put("bsky", &Secret::new("app-password".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .put("x--session", &Secret::new("mastodon-token".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .put("y--session", &Secret::new(SESSION.into()))
            .unwrap_or_else(|e| panic!("{e}"));
        for account in ["bsky", "x", "y", "never-added"] {
            store
                .remove_session(account)
                .unwrap_or_else(|e| panic!("{account}: {e}"));
        }
        assert!(sessions.load("bsky").is_none());
        assert_eq!(file_secret(&store, "y--session"), None);
        assert_eq!(file_secret(&store, "bsky").as_deref(), Some("app-password"));
        assert_eq!(
            file_secret(&store, "x--session").as_deref(),
            Some("mastodon-token")
        );
    }
}
