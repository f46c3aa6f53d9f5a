//! The server's publisher: core's publish engine, the one the daemon runs, on the server's
//! storage through [`ledger::ServerLedger`]. Every `serve` process runs one (unless
//! `publish = false`), with a random owner id of its own; on PostgreSQL several processes
//! share the work through the ledger's leases (`FOR UPDATE SKIP LOCKED`), and a process
//! killed mid-send leaves its targets to whichever claims them after the lease, under the
//! engine's `uncertain` rules.
//!
//! The loop is the daemon's: publish what is due, then sleep until the next due time or
//! until another process changes a target, until shutdown, when the engine finishes the
//! request on its way and the claims with nothing in flight are handed back.
//!
//! Account secrets are the accounts' sealed credentials, opened in memory when an adapter
//! is made (never logged); OAuth tokens are refreshed under the ledger's sign-in lock and
//! written back sealed ([`SealedTokens`]).

pub mod ledger;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use postctl_core::error::Error;
use postctl_core::model::Account;
use postctl_core::publish::{Engine, Policy, SecretSource, TokenKeeper};
use postctl_core::secrets::{Backend, Secret, SecretStore};
use serde_json::Value;

use crate::auth::Guard;
use crate::media_store::MediaStore;
use crate::storage::Storage;
use ledger::ServerLedger;

/// How often a sleeping publisher looks for targets other processes added or changed.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// What a finished target tells `/metrics`: network, outcome, due time (ms).
pub type Observer = Arc<dyn Fn(&str, &str, Option<i64>) + Send + Sync>;

/// What a failed token refresh tells `/metrics`: network, reason (`refused`,
/// `unreachable`, `not_stored`).
pub type RefreshObserver = Arc<dyn Fn(&str, &'static str) + Send + Sync>;

/// A running publisher: stop it with [`Publisher::stop`], then wait for [`Publisher::join`].
pub struct Publisher {
    engine: Arc<Engine>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// The secret in an account's opened credentials: `{"token": "…"}`.
fn token_of(plain: &[u8]) -> Result<Secret, String> {
    let value: Value = serde_json::from_slice(plain)
        .map_err(|_| "the account's stored credentials cannot be read".to_string())?;
    value["token"]
        .as_str()
        .map(|t| Secret::new(t.to_string()))
        .ok_or_else(|| "the account's stored credentials have no token".to_string())
}

/// Reads and writes an account's tokens sealed in the server's database.
struct SealedTokens {
    ledger: Arc<ServerLedger>,
    /// Its server key seals and opens credentials.
    guard: Arc<Guard>,
    /// Told each failed refresh.
    failures: Option<RefreshObserver>,
}

#[async_trait]
impl TokenKeeper for SealedTokens {
    async fn read(&self, account: &Account) -> Result<Secret, String> {
        let row = self
            .ledger
            .storage()
            .account_by_id(&account.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("account {} was deleted", account.name))?;
        self.ledger.remember_sealed(&row.id, &row.credentials);
        let plain = self
            .guard
            .server_key
            .open(&row.id, &row.credentials)
            .map_err(|_| {
                "the account's credentials cannot be opened with this server's key".to_string()
            })?;
        token_of(&plain)
    }

    async fn replace(&self, account: &Account, secret: &Secret) -> Result<(), String> {
        let plain =
            zeroize::Zeroizing::new(serde_json::json!({ "token": secret.expose() }).to_string());
        let sealed = self
            .guard
            .server_key
            .seal(&account.id, plain.as_bytes())
            .map_err(|e| format!("could not seal the new tokens ({e})"))?;
        let replaced = self
            .ledger
            .storage()
            .replace_credentials(&account.id, &sealed)
            .await
            .map_err(|e| e.to_string())?;
        if !replaced {
            return Err(format!("account {} was deleted", account.name));
        }
        self.ledger.remember_sealed(&account.id, &sealed);
        Ok(())
    }

    async fn refresh_failed(&self, account: &Account, reason: &'static str) {
        tracing::warn!(account = %account.id, network = %account.network, "token refresh failed: {reason}");
        if let Some(failures) = &self.failures {
            failures(account.network.name(), reason);
        }
    }
}

/// Core's engine on the server's storage, with the server key of `guard` opening the
/// accounts' sealed credentials and sealing refreshed tokens: media files under
/// `data_dir/media` (no bucket), `observer` (if any) told each finished target's outcome and
/// `failures` (if any) each failed token refresh. The
/// publisher drains with one; the API's unpublish and account check use another (on an
/// API-only node too), which never claims anything.
pub fn engine(
    storage: Arc<dyn Storage>,
    guard: Arc<Guard>,
    data_dir: &std::path::Path,
    policy: Policy,
    observer: Option<Observer>,
    failures: Option<RefreshObserver>,
) -> anyhow::Result<Engine> {
    let media = Arc::new(MediaStore::Directory(data_dir.join("media")));
    engine_with_media(storage, guard, data_dir, &media, policy, observer, failures)
}

/// [`engine`] with the media files in `media`: the engine reads them from its directory
/// (or the bucket's cache, each file fetched from the bucket first), and networks that
/// fetch images from a URL (Instagram, Threads) get one of the bucket, or are told that
/// the server needs `[media]`.
pub fn engine_with_media(
    storage: Arc<dyn Storage>,
    guard: Arc<Guard>,
    data_dir: &std::path::Path,
    media: &Arc<MediaStore>,
    policy: Policy,
    observer: Option<Observer>,
    failures: Option<RefreshObserver>,
) -> anyhow::Result<Engine> {
    let mut ledger = ServerLedger::new(storage);
    if let Some(observer) = observer {
        ledger = ledger.with_observer(observer);
    }
    let ledger = Arc::new(ledger);
    let opener = Arc::clone(&ledger);
    let opening = Arc::clone(&guard);
    let secret_of: SecretSource = Arc::new(move |account: &Account| {
        let sealed = opener.sealed_credentials(&account.id).ok_or_else(|| {
            Error::Internal(format!(
                "no credentials are known for account {}",
                account.name
            ))
        })?;
        let plain = opening.server_key.open(&account.id, &sealed).map_err(|_| {
            Error::Internal(format!(
                "the credentials of account {} cannot be opened with this server's key \
                 (was POSTCTL_SERVER_KEY changed without `postctl-server rotate-key`?)",
                account.name
            ))
        })?;
        token_of(&plain).map_err(Error::Internal)
    });
    // The engine's secret store is never read: secrets come from the database, tokens
    // are written back there, and sessions stay in memory.
    let secrets = Arc::new(SecretStore::new(data_dir, Backend::File));
    let keeper = Arc::new(SealedTokens {
        ledger: Arc::clone(&ledger),
        guard,
        failures,
    });
    let mut engine = Engine::on_ledger(ledger, secrets, secret_of, media.engine_dir(), policy)?
        .with_sessions_in_memory()
        .with_token_keeper(keeper)
        .with_media_host_from(media.host());
    if let Some(source) = media.source() {
        engine = engine.with_media_source(source);
    }
    Ok(engine)
}

impl Publisher {
    /// Starts publishing from `storage`, with the server key of `guard`: media files in
    /// `media`, `observer` told each outcome, `failures` each failed refresh.
    pub fn start(
        storage: Arc<dyn Storage>,
        guard: Arc<Guard>,
        data_dir: &std::path::Path,
        media: &Arc<MediaStore>,
        policy: Policy,
        observer: Observer,
        failures: RefreshObserver,
    ) -> anyhow::Result<Publisher> {
        let engine = Arc::new(engine_with_media(
            storage,
            guard,
            data_dir,
            media,
            policy,
            Some(observer),
            Some(failures),
        )?);
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(Arc::clone(&engine), Arc::clone(&stop)));
        Ok(Publisher { engine, stop, task })
    }

    /// Asks the publisher to stop: it claims nothing more, and what it is sending ends
    /// after the request on its way.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.engine.stop();
    }

    /// Waits for the loop to end, then hands back every claim with nothing in flight.
    pub async fn join(self) -> usize {
        if let Err(e) = self.task.await {
            tracing::error!("the publisher stopped on an internal error: {e}");
        }
        match self.engine.release().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(
                    "could not hand back the publisher's claims ({e}); they are taken over when their leases run out"
                );
                0
            }
        }
    }
}

/// Publishes what is due, then sleeps until the next due time or a change, until `stop`.
async fn run(engine: Arc<Engine>, stop: Arc<AtomicBool>) {
    let ledger = Arc::clone(engine.ledger());
    while !stop.load(Ordering::SeqCst) {
        let version = ledger.data_version().await.unwrap_or_default();
        match engine.drain(None, chrono::Duration::zero()).await {
            Ok(report) => {
                for outcome in &report.outcomes {
                    tracing::info!(
                        post = %outcome.post_id,
                        target = %outcome.target_id,
                        account = %outcome.account,
                        network = %outcome.network,
                        state = %outcome.state,
                        "published to {}: {}",
                        outcome.network,
                        outcome.state
                    );
                }
                for missed in &report.missed {
                    tracing::warn!(post = %missed.post_id, target = %missed.target_id, "missed: due at {}", missed.due);
                }
                for (account, why) in &report.signed_out {
                    tracing::warn!(account = %account, "needs signing in again: {why}");
                }
                for event in &report.circuits {
                    tracing::warn!(
                        "{}",
                        postctl_core::publish::circuit_news(event, chrono_tz::Tz::UTC)
                    );
                }
            }
            Err(e) => {
                tracing::error!("publishing stopped for a moment: {e}");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
        let next = ledger.next_due().await.ok().flatten();
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let now = engine.clock().now();
            if next.is_some_and(|at| at <= now) {
                break;
            }
            if ledger
                .data_version()
                .await
                .is_ok_and(|current| current != version)
            {
                break;
            }
            let until_due = next
                .and_then(|at| (at - now).to_std().ok())
                .unwrap_or(WATCH_INTERVAL);
            tokio::time::sleep(until_due.min(WATCH_INTERVAL)).await;
        }
    }
}
