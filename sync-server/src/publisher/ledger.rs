//! The publish engine's storage on the server: [`ServerLedger`] implements core's
//! [`Ledger`] over the server's [`Storage`] (SQLite or PostgreSQL), mapping the server's
//! rows to core's types. It passes core's contract suite on both databases
//! (`sync-server/tests/ledger.rs`).
//!
//! Accounts are per workspace on the server (names are unique only in a workspace), so
//! the ledger names an account by its **id**: [`Ledger::account`] takes an id,
//! [`HeldAccount::account`] and [`Missed::account`] are ids. Core's `Account::name` is the
//! workspace's name for it, for messages.
//!
//! Publishing outcomes become webhook events in the same transaction as the change:
//! `post.published`, `post.failed` and `post.uncertain` with [`Ledger::finish_target`],
//! `account.needs_reauth` with [`Ledger::mark_needs_sign_in`]. `post.missed` (found by
//! [`Ledger::claim_due`]) is recorded right after the claim that marked it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postctl_core::Clock;
use postctl_core::error::{Error, Result};
use postctl_core::model::{Account, Finish, ThreadMode};
use postctl_core::network::Network;
use postctl_core::platforms::{Counters, PushedReactions, ServerLimits, UpdateInbox};
use postctl_core::publish::circuit::{Circuit, CircuitEvent, CircuitRule, CircuitState, Outage};
use postctl_core::publish::{Ledger, PublishedTarget};
use postctl_core::store::{AttemptRecord, Claim, Claimed, HeldAccount, Missed};
use serde_json::{Value, json};

use crate::storage::{self, Event, Storage, StorageError};
use crate::webhooks::{self, EventType};

/// What the ledger remembers of a target it handed out, for the event its outcome emits.
#[derive(Debug, Clone)]
struct Handed {
    workspace_id: String,
    post_id: String,
    account_id: String,
    account_name: String,
    network: String,
    /// The links of the parts published so far.
    urls: Vec<String>,
    due_ms: Option<i64>,
}

/// Core's [`Ledger`] on the server's [`Storage`].
pub struct ServerLedger {
    storage: Arc<dyn Storage>,
    clock: Clock,
    inbox: Arc<MemoryInbox>,
    handed: Mutex<HashMap<String, Handed>>,
    /// The sealed credentials of the accounts handed out, by account id, for the engine's
    /// `SecretSource` (which cannot wait for the database).
    sealed: Mutex<HashMap<String, String>>,
    /// Called with each finished target's network, outcome and due time (`/metrics`).
    observer: Option<super::Observer>,
}

impl std::fmt::Debug for ServerLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerLedger").finish_non_exhaustive()
    }
}

impl ServerLedger {
    pub fn new(storage: Arc<dyn Storage>) -> ServerLedger {
        ServerLedger {
            storage,
            clock: Clock::system(),
            inbox: Arc::default(),
            handed: Mutex::default(),
            sealed: Mutex::default(),
            observer: None,
        }
    }

    /// Tells `observer` the network, outcome (`published`, `retry`, `failed`,
    /// `uncertain`, `released`) and due time (ms) of every target the engine finishes.
    pub fn with_observer(mut self, observer: super::Observer) -> ServerLedger {
        self.observer = Some(observer);
        self
    }

    /// The server's storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The sealed credentials of an account this ledger handed out.
    pub fn sealed_credentials(&self, account_id: &str) -> Option<String> {
        self.sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account_id)
            .cloned()
    }

    /// Keeps an account's sealed credentials (new tokens written back).
    pub fn remember_sealed(&self, account_id: &str, sealed: &str) {
        self.sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account_id.to_string(), sealed.to_string());
    }

    /// Core's account, its sealed credentials kept for the `SecretSource`.
    fn core(&self, account: &storage::Account) -> Result<Account> {
        self.remember_sealed(&account.id, &account.credentials);
        core_account(account)
    }

    fn handed(&self) -> std::sync::MutexGuard<'_, HashMap<String, Handed>> {
        self.handed.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn account_row(&self, id: &str) -> Result<storage::Account> {
        self.storage
            .account_by_id(id)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::NotFound {
                what: "account with the id",
                name: id.to_string(),
                hint: "server accounts are named by id; see GET /api/v1/accounts".into(),
            })
    }

    /// The event of a finished target, if its outcome is one.
    fn finish_event(&self, target_id: &str, finish: &Finish) -> Option<Event> {
        let kind = match finish {
            Finish::Published => EventType::PostPublished,
            Finish::Failed { .. } => EventType::PostFailed,
            Finish::Uncertain { .. } => EventType::PostUncertain,
            Finish::Retry { .. } | Finish::Release => return None,
        };
        let handed = self.handed().get(target_id).cloned()?;
        let mut data = target_data(target_id, &handed);
        if let Some(error) = finish.error() {
            data["error"] = json!(error);
        }
        Some(webhooks::event(&handed.workspace_id, kind, data))
    }
}

fn target_data(target_id: &str, handed: &Handed) -> Value {
    json!({
        "post_id": handed.post_id,
        "target_id": target_id,
        "account": {
            "id": handed.account_id,
            "name": handed.account_name,
            "network": handed.network,
        },
        "urls": handed.urls,
    })
}

fn db(e: StorageError) -> Error {
    Error::Internal(e.to_string())
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn lost_lease(target_id: &str) -> Error {
    Error::Internal(format!(
        "target {target_id} is no longer held by this publisher (its lease expired and another publisher took it)"
    ))
}

/// Core's account from the server's: the workspace's name, the network's settings. The
/// secret is the account's sealed credentials (the engine's `SecretSource` opens them);
/// `secret_ref` names them by a digest, so new credentials make a new adapter.
pub fn core_account(account: &storage::Account) -> Result<Account> {
    let network: Network = account.network.parse().map_err(|e| {
        Error::Internal(format!(
            "account {} is on a network this server does not know ({e})",
            account.id
        ))
    })?;
    Ok(Account {
        id: account.id.clone(),
        name: account.name.clone(),
        network,
        base_url: account.base_url.clone(),
        handle: account.handle.clone(),
        settings: serde_json::from_str(&account.settings).unwrap_or_else(|_| json!({})),
        secret_ref: format!(
            "server:{}",
            &crate::auth::sha256_hex(account.credentials.as_bytes())[..16]
        ),
        created: at(account.created_ms),
    })
}

fn parts_of(parts: &str) -> std::result::Result<Vec<Value>, String> {
    serde_json::from_str(parts).map_err(|e| {
        format!(
            "the record of the parts already published cannot be read ({e}), so nothing is sent that could repeat them; check the post on the network, then resolve it"
        )
    })
}

fn urls_of(parts: &[Value]) -> Vec<String> {
    parts
        .iter()
        .filter_map(|p| p["url"].as_str().map(str::to_string))
        .collect()
}

fn attempt_row(target_id: &str, attempt: &AttemptRecord) -> storage::PublishAttempt {
    storage::PublishAttempt {
        target_id: target_id.to_string(),
        part: u32::try_from(attempt.part).unwrap_or(u32::MAX),
        started_ms: ms(attempt.started),
        ended_ms: ms(attempt.ended),
        outcome: attempt.outcome.to_string(),
        http_status: attempt.http_status,
        error: attempt.error.clone(),
        in_doubt: attempt.in_doubt,
    }
}

fn outcome_name(finish: &Finish) -> &'static str {
    match finish {
        Finish::Published => "published",
        Finish::Retry { .. } => "retry",
        Finish::Failed { .. } => "failed",
        Finish::Uncertain { .. } => "uncertain",
        Finish::Release => "released",
    }
}

#[async_trait]
impl Ledger for ServerLedger {
    fn clock(&self) -> Clock {
        self.clock
    }

    fn update_inbox(&self) -> Arc<dyn UpdateInbox> {
        self.inbox.clone()
    }

    async fn claim_due(&self, claim: &Claim<'_>) -> Result<(Vec<Claimed>, Vec<Missed>)> {
        let request = storage::Claim {
            owner: claim.owner.to_string(),
            now_ms: ms(claim.now),
            lease_until_ms: ms(claim.lease_until),
            limit: u32::try_from(claim.limit).unwrap_or(u32::MAX),
            per_account: u32::try_from(claim.per_account).unwrap_or(u32::MAX),
            missed_before_ms: Some(ms(claim.now - claim.late_limit)),
            only_post: claim.only_post.map(str::to_string),
            skip_accounts: claim.skip_accounts.to_vec(),
            engine_decides: true,
        };
        let outcome = self.storage.claim_due(&request).await.map_err(db)?;
        let mut missed = Vec::with_capacity(outcome.missed.len());
        for m in &outcome.missed {
            let account = self
                .storage
                .account_by_id(&m.account_id)
                .await
                .ok()
                .flatten();
            let data = json!({
                "post_id": m.post_id,
                "target_id": m.target_id,
                "account": {
                    "id": m.account_id,
                    "name": account.as_ref().map(|a| a.name.clone()),
                    "network": account.as_ref().map(|a| a.network.clone()),
                },
                "due_at": at(m.due_ms).to_rfc3339(),
            });
            // The target is missed whatever becomes of its event.
            if let Err(e) = webhooks::emit(
                self.storage.as_ref(),
                &m.workspace_id,
                EventType::PostMissed,
                data,
            )
            .await
            {
                tracing::warn!(
                    "could not record the post.missed event of {}: {e}",
                    m.target_id
                );
            }
            missed.push(Missed {
                target_id: m.target_id.clone(),
                post_id: m.post_id.clone(),
                account: m.account_id.clone(),
                due: at(m.due_ms),
            });
        }
        let mut claimed = Vec::with_capacity(outcome.claimed.len());
        for c in outcome.claimed {
            let account = self.core(&c.account)?;
            // Devices and the API put each file in the media store before the value
            // that uses it.
            let media = storage::media_list(c.media.as_deref());
            let parts = parts_of(&c.target.parts);
            self.handed().insert(
                c.target.id.clone(),
                Handed {
                    workspace_id: c.target.workspace_id.clone(),
                    post_id: c.post.id.clone(),
                    account_id: c.account.id.clone(),
                    account_name: c.account.name.clone(),
                    network: c.account.network.clone(),
                    urls: parts.as_deref().map(urls_of).unwrap_or_default(),
                    due_ms: c.target.due_ms,
                },
            );
            claimed.push(Claimed {
                target_id: c.target.id.clone(),
                post_id: c.post.id.clone(),
                account,
                body: c.post.body.clone(),
                media,
                thread: ThreadMode::default(),
                parts,
                attempt_count: c.target.attempt_count,
                first_attempt: c.first_attempt_ms.map(at),
                due: c.target.due_ms.map(at).unwrap_or(claim.now),
                interrupted_part: c.target.in_flight.map(|p| p as usize),
                interrupted_since: c.target.in_flight_ms.map(at),
                interrupted_stage: c
                    .stage
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok()),
                probe: c.probe,
            });
        }
        Ok((claimed, missed))
    }

    async fn renew_lease(
        &self,
        target_id: &str,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.storage
            .renew_lease(target_id, owner, ms(until))
            .await
            .map_err(db)
    }

    async fn begin_part(
        &self,
        target_id: &str,
        owner: &str,
        part: usize,
        planned: usize,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.storage
            .begin_part(
                target_id,
                owner,
                u32::try_from(part).unwrap_or(u32::MAX),
                u32::try_from(planned).unwrap_or(u32::MAX),
                ms(lease_until),
                ms(self.clock.now()),
            )
            .await
            .map_err(db)
    }

    async fn note_stage(&self, target_id: &str, owner: &str, stage: &Value) -> Result<bool> {
        self.storage
            .note_stage(target_id, owner, &stage.to_string())
            .await
            .map_err(db)
    }

    async fn record_part(
        &self,
        target_id: &str,
        owner: &str,
        published: &Value,
        attempt: &AttemptRecord,
    ) -> Result<()> {
        let recorded = self
            .storage
            .record_part(
                target_id,
                owner,
                published,
                &attempt_row(target_id, attempt),
            )
            .await
            .map_err(db)?;
        if !recorded {
            return Err(lost_lease(target_id));
        }
        if let Some(handed) = self.handed().get_mut(target_id) {
            handed.urls.truncate(attempt.part);
            if let Some(url) = published["url"].as_str() {
                handed.urls.push(url.to_string());
            }
        }
        Ok(())
    }

    async fn finish_target(
        &self,
        target_id: &str,
        owner: &str,
        finish: &Finish,
        attempt: Option<&AttemptRecord>,
    ) -> Result<()> {
        let events: Vec<Event> = self.finish_event(target_id, finish).into_iter().collect();
        let attempt = attempt.map(|a| attempt_row(target_id, a));
        let done = self
            .storage
            .finish_target(
                target_id,
                owner,
                finish,
                attempt.as_ref(),
                ms(self.clock.now()),
                &events,
            )
            .await
            .map_err(db)?;
        if !done {
            return Err(lost_lease(target_id));
        }
        let handed = self.handed().remove(target_id);
        if let (Some(observer), Some(handed)) = (&self.observer, handed) {
            observer(&handed.network, outcome_name(finish), handed.due_ms);
        }
        Ok(())
    }

    async fn release_all(&self, owner: &str) -> Result<usize> {
        let released = self
            .storage
            .release_claims(owner, ms(self.clock.now()))
            .await
            .map_err(db)?;
        Ok(usize::try_from(released).unwrap_or(usize::MAX))
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self.storage.next_due().await.map_err(db)?.map(at))
    }

    async fn next_due_after(
        &self,
        after: DateTime<Utc>,
        skip_accounts: &[String],
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .storage
            .next_due_after(ms(after), skip_accounts)
            .await
            .map_err(db)?
            .map(at))
    }

    async fn hold_account(
        &self,
        account_id: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<()> {
        self.storage
            .hold_account(account_id, ms(until), reason)
            .await
            .map_err(db)
    }

    async fn account_wait(
        &self,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, String)>> {
        Ok(self
            .storage
            .account_wait(account_id, ms(now))
            .await
            .map_err(db)?
            .map(|(until, reason)| (at(until), reason)))
    }

    async fn held_accounts(&self, now: DateTime<Utc>) -> Result<Vec<HeldAccount>> {
        Ok(self
            .storage
            .held_accounts(ms(now))
            .await
            .map_err(db)?
            .into_iter()
            .map(|h| HeldAccount {
                account: h.account_id,
                until: at(h.until_ms),
                reason: h.reason,
                next: at(h.next_ms),
                targets: h.targets,
            })
            .collect())
    }

    async fn data_version(&self) -> Result<i64> {
        self.storage.data_version().await.map_err(db)
    }

    async fn server_limits(
        &self,
        account: &Account,
    ) -> Result<Option<(ServerLimits, DateTime<Utc>)>> {
        let Some((limits, read_ms)) = self.storage.server_limits(&account.id).await.map_err(db)?
        else {
            return Ok(None);
        };
        // Limits written by another version that this one cannot read are read again.
        Ok(serde_json::from_str(&limits)
            .ok()
            .map(|limits| (limits, at(read_ms))))
    }

    async fn save_server_limits(
        &self,
        account: &Account,
        limits: &ServerLimits,
        read_at: DateTime<Utc>,
    ) -> Result<()> {
        let json = serde_json::to_string(limits).map_err(|e| Error::Internal(e.to_string()))?;
        self.storage
            .save_server_limits(&account.id, &json, ms(read_at))
            .await
            .map_err(db)
    }

    async fn published_targets(&self, post_id: &str) -> Result<Vec<PublishedTarget>> {
        let rows = self.storage.published_targets(post_id).await.map_err(db)?;
        let mut targets = Vec::with_capacity(rows.len());
        for (target_id, account, parts) in rows {
            targets.push((
                target_id,
                self.core(&account)?,
                parts_of(&parts).map_err(Error::Internal)?,
            ));
        }
        Ok(targets)
    }

    async fn mark_unpublished(&self, target_id: &str) -> Result<()> {
        self.storage
            .mark_unpublished(target_id, ms(self.clock.now()))
            .await
            .map_err(db)
    }

    /// The account whose **id** is `name` (server accounts are named by id: see the
    /// module's documentation).
    async fn account(&self, name: &str) -> Result<Account> {
        self.core(&self.account_row(name).await?)
    }

    async fn take_sign_in_lock(
        &self,
        account_id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.storage
            .take_sign_in_lock(account_id, holder, ms(now), ms(until))
            .await
            .map_err(db)
    }

    async fn release_sign_in_lock(&self, account_id: &str, holder: &str) -> Result<()> {
        self.storage
            .release_sign_in_lock(account_id, holder)
            .await
            .map_err(db)
    }

    async fn mark_needs_sign_in(&self, account_id: &str, why: &str) -> Result<bool> {
        let account = self.account_row(account_id).await?;
        let event = webhooks::event(
            &account.workspace_id,
            EventType::AccountNeedsReauth,
            json!({
                "account": {"id": account.id, "name": account.name, "network": account.network},
                "reason": why,
            }),
        );
        self.storage
            .mark_needs_sign_in(account_id, why, &[event])
            .await
            .map_err(db)
    }

    async fn accounts_needing_sign_in(&self) -> Result<HashMap<String, String>> {
        Ok(self
            .storage
            .accounts_needing_sign_in()
            .await
            .map_err(db)?
            .into_iter()
            .collect())
    }

    async fn note_outage(
        &self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)> {
        self.storage
            .note_outage(circuit, outage, error, rule)
            .await
            .map_err(db)
    }

    async fn note_answer(
        &self,
        circuit: &Circuit,
        at: DateTime<Utc>,
    ) -> Result<Option<CircuitEvent>> {
        self.storage.note_answer(circuit, ms(at)).await.map_err(db)
    }

    async fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>> {
        self.storage.circuit(circuit).await.map_err(db)
    }
}

/// Where adapters keep what networks push as updates (Telegram's reaction counts), in this
/// process's memory: the server publishes, and reading counters is not its job yet, so
/// nothing needs them after a restart.
#[derive(Debug, Default)]
pub struct MemoryInbox {
    positions: Mutex<HashMap<String, (i64, DateTime<Utc>)>>,
    reactions: Mutex<HashMap<(String, i64), Counters>>,
}

impl UpdateInbox for MemoryInbox {
    fn position(&self, source: &str) -> std::result::Result<Option<(i64, DateTime<Utc>)>, String> {
        Ok(self
            .positions
            .lock()
            .map_err(|e| e.to_string())?
            .get(source)
            .copied())
    }

    fn keep(
        &self,
        source: &str,
        next_offset: i64,
        reactions: &[PushedReactions],
    ) -> std::result::Result<(), String> {
        self.positions
            .lock()
            .map_err(|e| e.to_string())?
            .insert(source.to_string(), (next_offset, Utc::now()));
        let mut kept = self.reactions.lock().map_err(|e| e.to_string())?;
        for r in reactions {
            kept.insert((r.chat.clone(), r.message_id), r.counters.clone());
        }
        Ok(())
    }

    fn reactions(
        &self,
        messages: &[(String, i64)],
    ) -> std::result::Result<Vec<Option<Counters>>, String> {
        let kept = self.reactions.lock().map_err(|e| e.to_string())?;
        Ok(messages.iter().map(|m| kept.get(m).cloned()).collect())
    }
}
