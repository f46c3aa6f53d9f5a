//! An account's OAuth tokens, and their form in the secret store: one JSON object inside
//! the account's [`Secret`], so the access token, the refresh token (rotated by the
//! network on each refresh) and the client secret are written together and never apart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::secrets::Secret;

/// The marker that tells a stored token set from a token pasted by hand (`--token-stdin`).
const FORMAT: &str = "oauth2";

/// What a sign-in or a refresh gave, and what refreshing needs. Cannot be cloned or
/// printed with its secrets: `Debug` shows `Secret(***)`.
#[derive(Debug)]
pub struct Tokens {
    pub access: Secret,
    /// `None` where the network gave none (X without `offline.access`): the account
    /// needs signing in again when the access token expires.
    pub refresh: Option<Secret>,
    /// When the access token stops working; `None` when the network did not say.
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes granted, as the network listed them.
    pub scope: Option<String>,
    /// A confidential client's secret, kept with the tokens for refreshing.
    pub client_secret: Option<Secret>,
    /// VK ID: the device the sign-in was made for, sent with every refresh.
    pub device_id: Option<String>,
    /// The network's id of the user who signed in, where the sign-in's answer says it
    /// (Meta's code answer: the Instagram or Threads user id). Not kept in the secret
    /// store: the account's settings hold it.
    pub user_id: Option<String>,
}

/// The stored shape. Token strings pass through here on their way into [`Secret`]s.
#[derive(Serialize, Deserialize)]
struct Stored {
    format: String,
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
}

impl Tokens {
    /// The token set in `secret`, or `None` when the secret is something else (a plain
    /// access token given with `--token-stdin`).
    pub fn from_secret(secret: &Secret) -> Option<Tokens> {
        let stored: Stored = serde_json::from_str(secret.expose()).ok()?;
        if stored.format != FORMAT || stored.access_token.is_empty() {
            return None;
        }
        Some(Tokens {
            access: Secret::new(stored.access_token),
            refresh: stored
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expires_at: stored
                .expires_at_ms
                .and_then(DateTime::<Utc>::from_timestamp_millis),
            scope: stored.scope,
            client_secret: stored
                .client_secret
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            device_id: stored.device_id,
            user_id: None,
        })
    }

    /// The token set as the secret store keeps it.
    pub fn to_secret(&self) -> Secret {
        let stored = Stored {
            format: FORMAT.to_string(),
            access_token: self.access.expose().to_string(),
            refresh_token: self.refresh.as_ref().map(|s| s.expose().to_string()),
            expires_at_ms: self.expires_at.map(|at| at.timestamp_millis()),
            scope: self.scope.clone(),
            client_secret: self.client_secret.as_ref().map(|s| s.expose().to_string()),
            device_id: self.device_id.clone(),
        };
        let text = zeroize::Zeroizing::new(serde_json::to_string(&stored).unwrap_or_default());
        let Stored {
            access_token,
            refresh_token,
            client_secret,
            ..
        } = stored;
        // The copies made for the JSON are zeroed as they go.
        drop(zeroize::Zeroizing::new(access_token));
        drop(refresh_token.map(zeroize::Zeroizing::new));
        drop(client_secret.map(zeroize::Zeroizing::new));
        Secret::new(text.as_str().to_string())
    }

    /// Whether the access token is still good at `now` with `margin` to spare; a token
    /// whose lifetime was never said is taken as good (the network refuses it if not).
    pub fn fresh(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.expires_at.is_none_or(|at| at - margin > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_set_survives_the_secret_store_and_never_prints() {
        let tokens = Tokens {
            access: Secret::new("acc-1".into()),
            refresh: Some(Secret::new("ref-1".into())),
            expires_at: DateTime::<Utc>::from_timestamp_millis(1_800_000_000_000),
            scope: Some("tweet.write offline.access".into()),
            client_secret: Some(Secret::new("cs".into())),
            device_id: Some("dev-1".into()),
            user_id: None,
        };
        let stored = tokens.to_secret();
        let back = Tokens::from_secret(&stored).expect("a token set");
        assert_eq!(back.access.expose(), "acc-1");
        assert_eq!(back.refresh.as_ref().map(Secret::expose), Some("ref-1"));
        assert_eq!(back.expires_at, tokens.expires_at);
        assert_eq!(back.client_secret.as_ref().map(Secret::expose), Some("cs"));
        assert_eq!(back.device_id.as_deref(), Some("dev-1"));
        let shown = format!("{back:?} {stored:?}");
        assert!(
            !shown.contains("acc-1") && !shown.contains("ref-1"),
            "{shown}"
        );
    }

    #[test]
    fn a_plain_token_is_not_a_token_set() {
        for text in [
            "AAAAplain-token",
            "{}",
            r#"{"format":"oauth2","access_token":""}"#,
            r#"{"format":"other","access_token":"a"}"#,
        ] {
            assert!(
                Tokens::from_secret(&Secret::new(text.into())).is_none(),
                "{text}"
            );
        }
    }

    #[test]
    fn freshness_leaves_a_margin() {
        let now = DateTime::<Utc>::from_timestamp_millis(1_000_000_000_000).expect("time");
        let at = |minutes| Tokens {
            access: Secret::new("a".into()),
            refresh: None,
            expires_at: Some(now + chrono::Duration::minutes(minutes)),
            scope: None,
            client_secret: None,
            device_id: None,
            user_id: None,
        };
        let margin = chrono::Duration::minutes(15);
        assert!(at(16).fresh(now, margin));
        assert!(!at(15).fresh(now, margin));
        assert!(!at(-1).fresh(now, margin));
    }
}
