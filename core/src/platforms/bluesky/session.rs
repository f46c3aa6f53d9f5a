//! A Bluesky session (the tokens createSession and refreshSession hand out), and its form
//! in the secret store: JSON with the PDS's own field names, inside a [`Secret`].

use serde::{Deserialize, Serialize};

use crate::secrets::Secret;

/// Tokens and the identity they belong to. The tokens never leave as text except in
/// an Authorization header and the secret store; `Debug` shows `Secret(***)` for them.
#[derive(Debug)]
pub(super) struct Session {
    pub access: Secret,
    pub refresh: Secret,
    pub did: String,
    pub handle: String,
}

/// The fields of createSession's and refreshSession's answers that we keep; the same
/// shape is what the secret store holds.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
    handle: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOut<'a> {
    access_jwt: &'a str,
    refresh_jwt: &'a str,
    did: &'a str,
    handle: &'a str,
}

impl Session {
    /// Reads an answer of createSession or refreshSession, or a stored session.
    pub fn from_json(bytes: &[u8]) -> Option<Session> {
        let wire: Wire = serde_json::from_slice(bytes).ok()?;
        if wire.access_jwt.is_empty() || wire.refresh_jwt.is_empty() || wire.did.is_empty() {
            return None;
        }
        // The token Strings move into Secrets as they are, so their bytes are zeroed on drop.
        Some(Session {
            access: Secret::new(wire.access_jwt),
            refresh: Secret::new(wire.refresh_jwt),
            did: wire.did,
            handle: wire.handle,
        })
    }

    /// The session as the secret store keeps it.
    pub fn to_secret(&self) -> Secret {
        let out = WireOut {
            access_jwt: self.access.expose(),
            refresh_jwt: self.refresh.expose(),
            did: &self.did,
            handle: &self.handle,
        };
        Secret::new(serde_json::to_string(&out).unwrap_or_default())
    }

    /// Whether this session was made for the account's `identifier` (a handle or a DID),
    /// so a stored session is not used after the account was added again for someone else.
    pub fn belongs_to(&self, identifier: &str) -> bool {
        let identifier = identifier.trim_start_matches('@');
        if identifier.starts_with("did:") {
            self.did == identifier
        } else {
            self.handle.eq_ignore_ascii_case(identifier)
        }
    }

    /// The name for profile links: the handle, or the DID when the handle is not valid.
    pub fn profile(&self) -> &str {
        if self.handle.is_empty() || self.handle == "handle.invalid" {
            &self.did
        } else {
            &self.handle
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_the_secret_store_and_never_prints_its_tokens() {
        let answer = br#"{"accessJwt":"acc.jwt.x","refreshJwt":"ref.jwt.y","did":"did:plc:abc","handle":"me.bsky.social","active":true}"#;
        let session = Session::from_json(answer).expect("a session");
        let stored = session.to_secret();
        let back = Session::from_json(stored.expose().as_bytes()).expect("read back");
        assert_eq!(back.access.expose(), "acc.jwt.x");
        assert_eq!(back.refresh.expose(), "ref.jwt.y");
        assert_eq!(back.did, "did:plc:abc");
        assert_eq!(back.handle, "me.bsky.social");
        let shown = format!("{back:?} {stored:?}");
        assert!(!shown.contains("jwt"), "{shown}");
    }

    #[test]
    fn incomplete_answers_are_not_sessions() {
        let cases: [&[u8]; 4] = [
            b"",
            b"{}",
            br#"{"accessJwt":"","refreshJwt":"r","did":"did:plc:a","handle":"h"}"#,
            br#"{"error":"AuthenticationRequired","message":"Invalid identifier or password"}"#,
        ];
        for case in cases {
            assert!(Session::from_json(case).is_none());
        }
    }

    #[test]
    fn a_stored_session_is_used_only_for_its_own_account() {
        let session = Session::from_json(
            br#"{"accessJwt":"a","refreshJwt":"r","did":"did:plc:abc","handle":"Me.bsky.social"}"#,
        )
        .expect("a session");
        let cases = [
            ("me.bsky.social", true),
            ("@me.bsky.social", true),
            ("did:plc:abc", true),
            ("other.bsky.social", false),
            ("did:plc:other", false),
        ];
        for (identifier, want) in cases {
            assert_eq!(session.belongs_to(identifier), want, "{identifier}");
        }
    }
}
