//! Keeping OAuth accounts signed in: before an adapter is built, an account whose access
//! token expires within its network's [`SignIn::refresh_ahead`] is refreshed (or, for
//! Meta's long-lived tokens, renewed), by whichever process needs it
//! (the daemon, `post`, the dashboard), under the store's per-account lock. The lock
//! holder reads the tokens again once it has the lock (another process may have just
//! refreshed them), spends the refresh token, and writes the answer back at once: a
//! network that rotates refresh tokens has made the old one useless by then.
//!
//! A refresh the network refuses marks the account as needing sign-in: its posts are held
//! until `postctl accounts reauth`. A refresh that could not reach the network is retried
//! later like any unreachable network.

use async_trait::async_trait;
use chrono::Utc;

use super::Engine;
use crate::model::Account;
use crate::platforms::PublishError;
use crate::secrets::{Secret, SecretRef};
use crate::signin::{Client, SignIn, Tokens};

/// Where an account's secret lives when it is not in the secret store (a server keeps it
/// sealed in its database): read again under the sign-in lock, and written back at once
/// when the network gives new tokens.
#[async_trait]
pub trait TokenKeeper: Send + Sync {
    /// The account's secret as stored now.
    async fn read(&self, account: &Account) -> Result<Secret, String>;
    /// Replaces the account's secret.
    async fn replace(&self, account: &Account, secret: &Secret) -> Result<(), String>;
    /// A refresh of the account's tokens failed: `refused` (the network refused the
    /// refresh token), `unreachable` (no answer; tried again later) or `not_stored` (new
    /// tokens that could not be written back). For the keeper's own counting.
    async fn refresh_failed(&self, _account: &Account, _reason: &'static str) {}
}

/// How long a refresh lock is held at most: more than a token request may take.
const LOCK_LEASE: chrono::Duration = chrono::Duration::seconds(90);

/// How long a process waits for another one's refresh before it gives up for this round.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(100);

/// How long before expiry the network's tokens are renewed ([`SignIn::refresh_ahead`]:
/// 15 minutes for tokens that live hours, longer than an adapter is kept; a week for
/// Meta's 60-day tokens).
fn margin(sign_in: &SignIn) -> chrono::Duration {
    chrono::Duration::from_std(sign_in.refresh_ahead).unwrap_or(chrono::Duration::minutes(15))
}

impl Engine {
    /// `secret` as the adapter should get it: for an OAuth account whose access token is
    /// about to expire, the refreshed token set.
    pub(super) async fn signed_in(
        &self,
        account: &Account,
        secret: Secret,
    ) -> Result<Secret, PublishError> {
        let Some(sign_in) = crate::platforms::sign_in(account.network) else {
            return Ok(secret);
        };
        let Some(tokens) = Tokens::from_secret(&secret) else {
            // A token given by hand (`--token-stdin`): used as it is.
            return Ok(secret);
        };
        if let Some(why) = self.needs_sign_in(account).await {
            return Err(PublishError::auth(why));
        }
        if tokens.fresh(Utc::now(), margin(sign_in)) {
            return Ok(secret);
        }
        let holder = crate::store::new_id();
        let started = std::time::Instant::now();
        loop {
            let now = Utc::now();
            let taken = self
                .ledger
                .take_sign_in_lock(&account.id, &holder, now, now + LOCK_LEASE)
                .await
                .map_err(|e| PublishError::permanent(e.to_string()))?;
            if taken {
                break;
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(PublishError::Retryable {
                    message: format!(
                        "another postctl has been refreshing the tokens of {} for over {} s; trying again later",
                        account.name,
                        LOCK_WAIT.as_secs()
                    ),
                    retry_after: None,
                    maybe_sent: false,
                    status: None,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let refreshed = self.refresh_holding_lock(account, sign_in).await;
        // An unreleased lock expires by itself; nothing more to do if this fails.
        let _ = self.ledger.release_sign_in_lock(&account.id, &holder).await;
        refreshed
    }

    async fn refresh_holding_lock(
        &self,
        account: &Account,
        sign_in: &'static SignIn,
    ) -> Result<Secret, PublishError> {
        let auth = |message: String| PublishError::auth(message);
        // Read again under the lock: another process may have refreshed meanwhile.
        let reference = match &self.keeper {
            Some(_) => None,
            None => Some(
                account
                    .secret_ref
                    .parse::<SecretRef>()
                    .map_err(|e: crate::secrets::SecretError| auth(e.to_string()))?,
            ),
        };
        let stored = match (&self.keeper, &reference) {
            (Some(keeper), _) => keeper.read(account).await.map_err(auth)?,
            (None, Some(reference)) => self
                .secrets
                .get(reference)
                .map_err(|e| auth(e.to_string()))?,
            (None, None) => return Err(auth("the account has no secret".into())),
        };
        let Some(tokens) = Tokens::from_secret(&stored) else {
            return Ok(stored);
        };
        if tokens.fresh(Utc::now(), margin(sign_in)) {
            return Ok(stored);
        }
        let client_id = account.settings["client_id"].as_str().unwrap_or_default();
        let client = Client::new(
            account.network,
            sign_in,
            client_id,
            account.base_url.as_deref(),
        )
        .map_err(|e| PublishError::permanent(e.to_string()))?;
        let refreshed = self
            .refresh_with(account, &client, &tokens, reference.as_ref())
            .await;
        if let (Err(reason), Some(keeper)) = (&refreshed, &self.keeper) {
            keeper.refresh_failed(account, reason.0).await;
        }
        refreshed.map_err(|(_, e)| e)
    }

    /// Spends the refresh token and writes the new tokens back; an error says why, with
    /// the failure's kind for [`TokenKeeper::refresh_failed`].
    async fn refresh_with(
        &self,
        account: &Account,
        client: &Client,
        tokens: &Tokens,
        reference: Option<&SecretRef>,
    ) -> Result<Secret, (&'static str, PublishError)> {
        match client.refresh(&self.http, tokens).await {
            Ok(new) => {
                let secret = new.to_secret();
                let kept = match (&self.keeper, reference) {
                    (Some(keeper), _) => keeper.replace(account, &secret).await,
                    (None, Some(reference)) => self
                        .secrets
                        .replace(reference, &secret)
                        .map_err(|e| e.to_string()),
                    (None, None) => Err("the account has no secret".into()),
                };
                if let Err(e) = kept {
                    let why = format!(
                        "{} gave new tokens for {} but they could not be stored ({e}); sign in again with `postctl accounts reauth {}`",
                        account.network.display_name(),
                        account.name,
                        account.name
                    );
                    return Err(("not_stored", self.sign_in_refused(account, why).await));
                }
                Ok(secret)
            }
            Err(e) if e.needs_sign_in() => {
                let why = format!(
                    "{e}; the account's posts are held until then (`postctl accounts reauth {}`)",
                    account.name
                );
                Err(("refused", self.sign_in_refused(account, why).await))
            }
            Err(e) => Err((
                "unreachable",
                PublishError::Retryable {
                    message: e.to_string(),
                    retry_after: None,
                    maybe_sent: false,
                    status: None,
                },
            )),
        }
    }

    /// Marks the account as needing sign-in and returns the error that says so.
    async fn sign_in_refused(&self, account: &Account, why: String) -> PublishError {
        // If the mark cannot be written, the next round tries the refresh again and fails
        // the same way: nothing is lost.
        if let Ok(true) = self.ledger.mark_needs_sign_in(&account.id, &why).await
            && let Ok(mut signed_out) = self.signed_out.lock()
        {
            signed_out.push((account.name.clone(), why.clone()));
        }
        PublishError::auth(why)
    }

    /// The accounts found signed out since the last call.
    pub(super) fn take_signed_out(&self) -> Vec<(String, String)> {
        self.signed_out
            .lock()
            .map(|mut found| std::mem::take(&mut *found))
            .unwrap_or_default()
    }

    /// Why the account needs signing in again, if it does.
    pub(super) async fn needs_sign_in(&self, account: &Account) -> Option<String> {
        self.ledger
            .accounts_needing_sign_in()
            .await
            .ok()
            .and_then(|mut held| held.remove(&account.id))
    }
}
