//! What the engine needs from storage, in one small trait: [`Ledger`].
//!
//! The engine runs on core's rusqlite [`Store`] on a laptop, and on the server's own storage
//! (SQLite or PostgreSQL) behind `postctl-server`. Both implement this trait and run the one
//! contract suite in [`contract`] (`ledger_contract` below runs it on the `Store`), so the
//! same engine publishes the same way everywhere.
//!
//! # The contract every implementation keeps
//!
//! - **Each method is atomic**: it happens in one transaction or not at all, and a failure
//!   leaves the storage as it was.
//! - **A lease** is `(owner, until)` on a target in `publishing`. Only the owner of an
//!   unexpired lease changes a claimed target: every method that takes `owner` changes
//!   nothing (and says so: `false`, or an error for [`Ledger::record_part`] and
//!   [`Ledger::finish_target`]) when the caller no longer holds the lease.
//! - **A second claimer** never gets a target someone else holds under an unexpired lease:
//!   of two [`Ledger::claim_due`] calls at the same moment, each due target goes to exactly
//!   one. A target whose lease ran out (its publisher died) is due again, and the next
//!   claimer takes it over, with the part that was in flight marked in doubt
//!   ([`Claimed::interrupted_part`]).
//! - **Durability**: a confirmed part ([`Ledger::record_part`]) and a noted stage
//!   ([`Ledger::note_stage`]) are on disk before the method returns; a part the network
//!   holds is never forgotten and so never sent twice.
//! - **Circuits** ([`super::circuit`]) are shared by every process on the storage: a target
//!   on an open circuit is not claimed, except the one probe that
//!   [`Ledger::claim_due`] hands out at a time (marked [`Claimed::probe`]) once the
//!   circuit's next probe time has come.
//! - Times are the caller's (`now`, `until`): the engine's clock decides, the storage
//!   records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::circuit::{Circuit, CircuitEvent, CircuitRule, CircuitState, Outage};
use crate::clock::Clock;
use crate::error::Result;
use crate::model::{Account, Finish};
use crate::platforms::{Counters, PushedReactions, ServerLimits, UpdateInbox};
use crate::store::Store;
pub use crate::store::{AttemptRecord, Claim, Claimed, HeldAccount, Missed};

/// A target with parts on its network: its id, its account, and each published part as
/// the adapter returned it (for [`crate::platforms::Adapter::delete`]).
pub type PublishedTarget = (String, Account, Vec<serde_json::Value>);

/// The engine's storage. See the module's documentation for the contract all methods
/// share; each method's own contract is in its comment.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// The clock the storage's own writes read, which the engine adopts.
    fn clock(&self) -> Clock;

    /// Where adapters keep what networks push as updates (Telegram's reaction counts).
    fn update_inbox(&self) -> Arc<dyn UpdateInbox>;

    /// Marks scheduled targets due before `now - late_limit` as missed, then claims up to
    /// `limit` due targets (at most `per_account` of one account, oldest first within an
    /// account) for `claim.owner` until `claim.lease_until`, in one transaction. Targets of
    /// accounts that need signing in again or sit on an open circuit are neither claimed
    /// nor marked missed, except one probe per open circuit whose next probe time has come
    /// and whose probe slot is free (or its holder's lease ran out): its earliest due
    /// target, marked `probe`.
    async fn claim_due(&self, claim: &Claim<'_>) -> Result<(Vec<Claimed>, Vec<Missed>)>;

    /// Extends the lease of a held target. False when the lease was lost.
    async fn renew_lease(&self, target_id: &str, owner: &str, until: DateTime<Utc>)
    -> Result<bool>;

    /// Renews the lease and notes that `part` of `planned` is about to be sent (and since
    /// when: the first send of that part). False when the lease was lost: send nothing.
    async fn begin_part(
        &self,
        target_id: &str,
        owner: &str,
        part: usize,
        planned: usize,
        lease_until: DateTime<Utc>,
    ) -> Result<bool>;

    /// Notes durably what the adapter sent on the way to the part in flight (a container
    /// id). False when the lease was lost: the adapter must not post.
    async fn note_stage(
        &self,
        target_id: &str,
        owner: &str,
        stage: &serde_json::Value,
    ) -> Result<bool>;

    /// Records durably a part the network confirmed, with its attempt; the part in flight
    /// is settled. An error when the lease was lost.
    async fn record_part(
        &self,
        target_id: &str,
        owner: &str,
        published: &serde_json::Value,
        attempt: &AttemptRecord,
    ) -> Result<()>;

    /// Ends the round for a held target as `finish` says, logs `attempt`, gives up the
    /// lease (and the circuit's probe slot if the target held it), and rolls a recurring
    /// post on when all its targets are done. A part in flight stays noted unless the
    /// target is published or the attempt settled it. An error when the lease was lost.
    async fn finish_target(
        &self,
        target_id: &str,
        owner: &str,
        finish: &Finish,
        attempt: Option<&AttemptRecord>,
    ) -> Result<()>;

    /// Gives back every target `owner` holds that has nothing in flight (shutdown).
    async fn release_all(&self, owner: &str) -> Result<usize>;

    /// The earliest time a target becomes due, a lease runs out, or an open circuit may be
    /// probed.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>>;

    /// Like [`Ledger::next_due`], after `after` and leaving out the accounts (ids) in
    /// `skip_accounts`.
    async fn next_due_after(
        &self,
        after: DateTime<Utc>,
        skip_accounts: &[String],
    ) -> Result<Option<DateTime<Utc>>>;

    /// Records that the network asked an account to wait until `until`; a recorded wait
    /// that ends later is kept.
    async fn hold_account(
        &self,
        account_id: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<()>;

    /// Until when an account must wait (if later than `now`), and why.
    async fn account_wait(
        &self,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, String)>>;

    /// Accounts waiting out a rate limit past `now` with targets waiting behind it.
    async fn held_accounts(&self, now: DateTime<Utc>) -> Result<Vec<HeldAccount>>;

    /// A number that changes whenever another process commits a change the engine should
    /// look at (new or edited targets): the engine polls it to wake up.
    async fn data_version(&self) -> Result<i64>;

    /// What the account's server last said about its limits, and when.
    async fn server_limits(
        &self,
        account: &Account,
    ) -> Result<Option<(ServerLimits, DateTime<Utc>)>>;

    /// Keeps what the account's server said about its limits at `read_at`.
    async fn save_server_limits(
        &self,
        account: &Account,
        limits: &ServerLimits,
        read_at: DateTime<Utc>,
    ) -> Result<()>;

    /// The targets of a post with parts on their networks, for unpublishing.
    async fn published_targets(&self, post_id: &str) -> Result<Vec<PublishedTarget>>;

    /// Records that a target's parts were deleted from its network (it is withdrawn).
    async fn mark_unpublished(&self, target_id: &str) -> Result<()>;

    /// The account called `name`, with its adapter settings.
    async fn account(&self, name: &str) -> Result<Account>;

    /// Takes the account's token-refresh lock for `holder` until `until`, unless another
    /// holder's lock is good at `now`. Of many asking at once, exactly one gets it.
    async fn take_sign_in_lock(
        &self,
        account_id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool>;

    /// Gives the lock back, if `holder` still has it.
    async fn release_sign_in_lock(&self, account_id: &str, holder: &str) -> Result<()>;

    /// Holds the account's posts until it signs in again; true when this is news.
    async fn mark_needs_sign_in(&self, account_id: &str, why: &str) -> Result<bool>;

    /// Why each account that needs signing in again does, by account id.
    async fn accounts_needing_sign_in(&self) -> Result<HashMap<String, String>>;

    /// Records an outage failure on `circuit` (see [`super::circuit::after_outage`]) in one
    /// transaction, so that failures noted by several processes at once all count. Returns
    /// the circuit's state after it, and the event if this failure opened it.
    async fn note_outage(
        &self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)>;

    /// The network at `circuit` answered at `at`: its failures are forgotten and an open
    /// circuit closes (the event says so; of several processes closing it, one gets it).
    async fn note_answer(
        &self,
        circuit: &Circuit,
        at: DateTime<Utc>,
    ) -> Result<Option<CircuitEvent>>;

    /// The circuit's state, when it has recent failures or is open.
    async fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>>;
}

/// Core's [`Store`] as a [`Ledger`], behind a mutex. Each call locks the store, runs its
/// SQLite statements and unlocks before it returns (SQLite calls are short and bounded by
/// the busy timeout), so the lock is never held across an await.
#[derive(Clone)]
pub struct StoreLedger {
    store: Arc<Mutex<Store>>,
    clock: Clock,
}

impl StoreLedger {
    pub fn new(store: Store) -> StoreLedger {
        let clock = store.clock();
        StoreLedger {
            store: Arc::new(Mutex::new(store)),
            clock,
        }
    }

    /// The store, shared: for the front ends' own reads and writes beside the engine's.
    pub fn shared(&self) -> Arc<Mutex<Store>> {
        Arc::clone(&self.store)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        // A panic elsewhere while the lock was held leaves the connection usable: SQLite
        // rolled back the transaction it was in.
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut store)
    }
}

#[async_trait]
impl Ledger for StoreLedger {
    fn clock(&self) -> Clock {
        self.clock
    }

    fn update_inbox(&self) -> Arc<dyn UpdateInbox> {
        Arc::new(StoreInbox(Arc::clone(&self.store)))
    }

    async fn claim_due(&self, claim: &Claim<'_>) -> Result<(Vec<Claimed>, Vec<Missed>)> {
        self.with(|s| s.claim_due(claim))
    }

    async fn renew_lease(
        &self,
        target_id: &str,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.with(|s| s.renew_lease(target_id, owner, until))
    }

    async fn begin_part(
        &self,
        target_id: &str,
        owner: &str,
        part: usize,
        planned: usize,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.with(|s| s.begin_part(target_id, owner, part, planned, lease_until))
    }

    async fn note_stage(
        &self,
        target_id: &str,
        owner: &str,
        stage: &serde_json::Value,
    ) -> Result<bool> {
        self.with(|s| s.note_stage(target_id, owner, stage))
    }

    async fn record_part(
        &self,
        target_id: &str,
        owner: &str,
        published: &serde_json::Value,
        attempt: &AttemptRecord,
    ) -> Result<()> {
        self.with(|s| s.record_part(target_id, owner, published, attempt))
    }

    async fn finish_target(
        &self,
        target_id: &str,
        owner: &str,
        finish: &Finish,
        attempt: Option<&AttemptRecord>,
    ) -> Result<()> {
        self.with(|s| s.finish_target(target_id, owner, finish, attempt))
    }

    async fn release_all(&self, owner: &str) -> Result<usize> {
        self.with(|s| s.release_all(owner))
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        self.with(|s| s.next_due())
    }

    async fn next_due_after(
        &self,
        after: DateTime<Utc>,
        skip_accounts: &[String],
    ) -> Result<Option<DateTime<Utc>>> {
        self.with(|s| s.next_due_after(after, skip_accounts))
    }

    async fn hold_account(
        &self,
        account_id: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<()> {
        self.with(|s| s.hold_account(account_id, until, reason))
    }

    async fn account_wait(
        &self,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, String)>> {
        self.with(|s| s.account_wait(account_id, now))
    }

    async fn held_accounts(&self, now: DateTime<Utc>) -> Result<Vec<HeldAccount>> {
        self.with(|s| s.held_accounts(now))
    }

    async fn data_version(&self) -> Result<i64> {
        self.with(|s| s.data_version())
    }

    async fn server_limits(
        &self,
        account: &Account,
    ) -> Result<Option<(ServerLimits, DateTime<Utc>)>> {
        self.with(|s| s.server_limits(account))
    }

    async fn save_server_limits(
        &self,
        account: &Account,
        limits: &ServerLimits,
        read_at: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|s| s.save_server_limits(account, limits, read_at))
    }

    async fn published_targets(&self, post_id: &str) -> Result<Vec<PublishedTarget>> {
        self.with(|s| s.published_targets(post_id))
    }

    async fn mark_unpublished(&self, target_id: &str) -> Result<()> {
        self.with(|s| s.mark_unpublished(target_id))
    }

    async fn account(&self, name: &str) -> Result<Account> {
        self.with(|s| s.account(name))
    }

    async fn take_sign_in_lock(
        &self,
        account_id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.with(|s| s.take_sign_in_lock(account_id, holder, now, until))
    }

    async fn release_sign_in_lock(&self, account_id: &str, holder: &str) -> Result<()> {
        self.with(|s| s.release_sign_in_lock(account_id, holder))
    }

    async fn mark_needs_sign_in(&self, account_id: &str, why: &str) -> Result<bool> {
        self.with(|s| s.mark_needs_sign_in(account_id, why))
    }

    async fn accounts_needing_sign_in(&self) -> Result<HashMap<String, String>> {
        self.with(|s| s.accounts_needing_sign_in())
    }

    async fn note_outage(
        &self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)> {
        self.with(|s| s.note_outage(circuit, outage, error, rule))
    }

    async fn note_answer(
        &self,
        circuit: &Circuit,
        at: DateTime<Utc>,
    ) -> Result<Option<CircuitEvent>> {
        self.with(|s| s.note_answer(circuit, at))
    }

    async fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>> {
        self.with(|s| s.circuit(circuit))
    }
}

/// The store as the adapters' [`UpdateInbox`].
struct StoreInbox(Arc<Mutex<Store>>);

impl StoreInbox {
    fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> std::result::Result<T, String> {
        let mut store = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut store).map_err(|e| e.to_string())
    }
}

impl UpdateInbox for StoreInbox {
    fn position(&self, source: &str) -> std::result::Result<Option<(i64, DateTime<Utc>)>, String> {
        self.with(|s| s.update_position(source))
    }

    fn keep(
        &self,
        source: &str,
        next_offset: i64,
        reactions: &[PushedReactions],
    ) -> std::result::Result<(), String> {
        self.with(|s| s.keep_updates(source, next_offset, reactions))
    }

    fn reactions(
        &self,
        messages: &[(String, i64)],
    ) -> std::result::Result<Vec<Option<Counters>>, String> {
        self.with(|s| s.pushed_reactions(messages))
    }
}
