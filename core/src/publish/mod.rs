//! The publish engine ("Target states" in docs/ARCHITECTURE.md): claims due targets under a
//! lease, publishes them part by part through the adapters, records every confirmed part at
//! once, and decides retries, failures and `uncertain` outcomes in one place ([`decide`]).
//!
//! Targets on different accounts publish in parallel; one account's targets go one after
//! another, waiting when the network's rate-limit headers say the window is used up.

pub mod circuit;
pub mod contract;
pub mod decide;
mod ledger;
pub mod plan;
pub mod preview;
mod tokens;

pub use ledger::{Ledger, PublishedTarget, StoreLedger};
pub use tokens::TokenKeeper;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{Account, Finish, TargetState};
use crate::platforms::{
    AccountAdapter, Capabilities, Http, Idempotency, MediaFile, Part, PublishError, Published,
    SERVER_LIMITS_FOR, ServerLimits, SessionStore, Tools,
};
use crate::secrets::{
    MemorySessions, Secret, SecretRef, SecretStore, SharedRedactor, StoredSessions,
};
use crate::store::{AttemptRecord, Claim, Claimed, Missed, Store};
use crate::text::render;
use circuit::{Circuit, CircuitEvent, CircuitRule, Outage};

/// The engine's knobs, from config.toml `[publish]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// How long after its first attempt a target may still be retried.
    pub retry_window: Duration,
    /// The longest wait between two attempts, unless the network asks for longer.
    pub max_retry_delay: Duration,
    /// A scheduled target due longer ago than this is `missed`, not published late.
    pub late_limit: Duration,
    /// How long a claim holds without news (renewed before every part).
    pub lease: Duration,
    /// One HTTP request's time limit.
    pub request_timeout: std::time::Duration,
    /// Targets claimed at once...
    pub batch: usize,
    /// ...and at most this many of one account (the rest waits for the next claim).
    pub per_account: usize,
    /// The zone times in messages are written in (the user's).
    pub zone: chrono_tz::Tz,
    /// When a network is taken as down for everyone, and how often it is probed.
    pub circuit: CircuitRule,
}

impl Policy {
    pub fn retry_limits(&self) -> decide::RetryLimits {
        decide::RetryLimits {
            window: self.retry_window,
            max_delay: self.max_retry_delay,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            retry_window: Duration::minutes(30),
            max_retry_delay: Duration::minutes(5),
            late_limit: Duration::hours(6),
            lease: Duration::minutes(2),
            request_timeout: std::time::Duration::from_secs(30),
            batch: 1_000,
            per_account: 20,
            zone: chrono_tz::Tz::UTC,
            circuit: CircuitRule::default(),
        }
    }
}

/// What became of one target in a round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub post_id: String,
    pub target_id: String,
    pub account: String,
    pub network: String,
    pub state: TargetState,
    /// The links of the published parts, first part first.
    pub urls: Vec<String>,
    pub error: Option<String>,
    pub next_attempt: Option<DateTime<Utc>>,
    /// The credentials were rejected or missing (exit code 4).
    #[serde(skip)]
    pub auth: bool,
    /// What postctl changed to make the post fit (an image shrunk), for the user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The result of publishing what was due.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    pub missed: Vec<Missed>,
    /// Networks this round found down for everyone, or answering again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub circuits: Vec<CircuitEvent>,
    /// Accounts whose sign-in the network refused in this run (name, why): their posts
    /// are held until `postctl accounts reauth`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signed_out: Vec<(String, String)>,
}

/// How often a drain that is waiting on publishing accounts looks for changes other
/// processes made to the database (one cheap pragma).
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// What a drain has done so far.
#[derive(Debug, Default)]
struct Run {
    report: Report,
    /// Where each target's outcome is in the report: a target retried in this run keeps
    /// only its latest outcome.
    latest: HashMap<String, usize>,
    /// Accounts (by id) with a publishing task running.
    busy: HashSet<String>,
    /// The account (id) of each target claimed in this run.
    account_of: HashMap<String, String>,
}

impl Run {
    fn record(&mut self, outcomes: Vec<Outcome>) {
        for outcome in outcomes {
            match self.latest.get(&outcome.target_id) {
                Some(&i) => self.report.outcomes[i] = outcome,
                None => {
                    self.latest
                        .insert(outcome.target_id.clone(), self.report.outcomes.len());
                    self.report.outcomes.push(outcome);
                }
            }
        }
    }

    /// The earliest retry after `after` and no later than `until` of a target whose
    /// account is idle. (A retry due by `after`, the last claim, that was not claimed is
    /// held by another publisher: not ours to wait for.)
    fn next_retry(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.report
            .outcomes
            .iter()
            .filter(|o| o.state == TargetState::WaitingRetry)
            .filter(|o| {
                self.account_of
                    .get(&o.target_id)
                    .is_none_or(|account| !self.busy.contains(account))
            })
            .filter_map(|o| o.next_attempt)
            .filter(|at| *at > after && *at <= until)
            .min()
    }
}

/// Supplies an account's secret; the CLI reads the secret store or the environment.
pub type SecretSource = Arc<dyn Fn(&Account) -> Result<Secret> + Send + Sync>;

/// How long a prepared adapter (a Mastodon instance's limits, a Bluesky session) serves
/// later rounds before it is prepared again, so a long-running daemon still notices new
/// limits and replaced secrets.
const ADAPTER_REUSE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// An adapter that was prepared, kept for the rounds after the one that prepared it: each
/// round would otherwise ask every network for its limits or session again, and a failure
/// of that request would hold up every target of the account.
struct Prepared {
    /// What the adapter was built from; a changed account builds a new one.
    fingerprint: String,
    adapter: Arc<AccountAdapter>,
    at: Instant,
}

fn fingerprint(account: &Account) -> String {
    format!(
        "{}|{}|{:?}|{:?}|{}|{}",
        account.id,
        account.network,
        account.base_url,
        account.handle,
        account.settings,
        account.secret_ref
    )
}

pub struct Engine {
    /// Where the engine reads and records its work.
    ledger: Arc<dyn Ledger>,
    /// Core's store, when the ledger is one ([`Engine::with_store`]).
    local: Option<Arc<Mutex<Store>>>,
    owner: String,
    http: Http,
    sessions: Arc<dyn SessionStore>,
    /// Where refreshed OAuth tokens are written back.
    secrets: Arc<SecretStore>,
    secret_of: SecretSource,
    media_dir: PathBuf,
    policy: Policy,
    /// Prepared adapters by account id.
    adapters: Mutex<HashMap<String, Prepared>>,
    /// Failures in a row to prepare each account (by id), for its backoff.
    prepare_failures: Mutex<HashMap<String, u32>>,
    /// Set by [`Engine::stop`].
    stopping: AtomicBool,
    /// `[media.host]`, or why there is none.
    media_host: Result<Arc<dyn crate::media::host::MediaHost>, String>,
    /// Where media files missing from `media_dir` are fetched from before a post is sent
    /// (the server's bucket), if anywhere.
    media_source: Option<Arc<dyn crate::media::host::MediaSource>>,
    /// Where every "now" of the engine comes from: the store's clock, so claims, leases,
    /// waits and the times recorded agree with what the front end calls due.
    clock: Clock,
    /// Accounts this engine found signed out (name, why), for the next report.
    signed_out: Mutex<Vec<(String, String)>>,
    /// Circuits this engine opened or closed, for the next report.
    circuit_events: Mutex<Vec<CircuitEvent>>,
    /// Where refreshed tokens are read again and written back, when not the secret store
    /// (the server keeps them sealed in its database).
    keeper: Option<Arc<dyn TokenKeeper>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("owner", &self.owner)
            .finish()
    }
}

impl Engine {
    pub fn new(
        store: Store,
        secrets: Arc<SecretStore>,
        secret_of: SecretSource,
        media_dir: PathBuf,
        policy: Policy,
    ) -> Result<Engine> {
        let ledger = StoreLedger::new(store);
        let local = ledger.shared();
        let mut engine =
            Engine::on_ledger(Arc::new(ledger), secrets, secret_of, media_dir, policy)?;
        engine.local = Some(local);
        Ok(engine)
    }

    /// The engine on any [`Ledger`] (the server's storage), with its clock.
    /// [`Engine::with_store`] is not available on it.
    pub fn on_ledger(
        ledger: Arc<dyn Ledger>,
        secrets: Arc<SecretStore>,
        secret_of: SecretSource,
        media_dir: PathBuf,
        policy: Policy,
    ) -> Result<Engine> {
        let http = Http::new(policy.request_timeout).map_err(|e| Error::Internal(e.to_string()))?;
        let clock = ledger.clock();
        Ok(Engine {
            ledger,
            local: None,
            owner: crate::store::new_id(),
            http,
            sessions: Arc::new(StoredSessions::new(Arc::clone(&secrets))),
            secrets,
            secret_of,
            media_dir,
            policy,
            adapters: Mutex::default(),
            prepare_failures: Mutex::default(),
            stopping: AtomicBool::new(false),
            media_host: Err(crate::media::host::not_configured()),
            media_source: None,
            clock,
            signed_out: Mutex::default(),
            circuit_events: Mutex::default(),
            keeper: None,
        })
    }

    /// The engine the front ends use: each account's secret read from `secrets` by the
    /// reference the account stores (the secret store, or an environment variable).
    pub fn with_secret_store(
        store: Store,
        secrets: Arc<SecretStore>,
        media_dir: PathBuf,
        policy: Policy,
    ) -> Result<Engine> {
        let lookup = Arc::clone(&secrets);
        let secret_of: SecretSource = Arc::new(move |account| {
            let reference: SecretRef = account.secret_ref.parse()?;
            Ok(lookup.get(&reference)?)
        });
        Engine::new(store, secrets, secret_of, media_dir, policy)
    }

    /// Publishes media that networks fetch from a URL through the S3-compatible bucket of
    /// `[media.host]`, whose secret key is `secret`; `Err` says why there is none (its
    /// secret could not be read), for the posts that need it.
    pub fn with_media_host(
        mut self,
        host: std::result::Result<(&crate::media::host::HostConfig, Secret), String>,
    ) -> Engine {
        self.media_host = host.and_then(|(config, secret)| {
            crate::media::host::S3Host::new(config, &secret, self.http.clone())
                .map(|h| Arc::new(h) as Arc<dyn crate::media::host::MediaHost>)
        });
        self
    }

    /// Publishes media that networks fetch from a URL through `host`; `Err` says why there
    /// is none (the server's words, not config.toml's).
    pub fn with_media_host_from(
        mut self,
        host: std::result::Result<Arc<dyn crate::media::host::MediaHost>, String>,
    ) -> Engine {
        self.media_host = host;
        self
    }

    /// Fetches a post's media files missing from the media dir from `source` before the
    /// post is sent (a server process that never received the upload).
    pub fn with_media_source(mut self, source: Arc<dyn crate::media::host::MediaSource>) -> Engine {
        self.media_source = Some(source);
        self
    }

    /// Keeps adapters' sessions (Bluesky's tokens) in memory for this engine's life
    /// instead of the secret store: CI mode leaves nothing on disk.
    pub fn with_sessions_in_memory(mut self) -> Engine {
        self.sessions = Arc::new(MemorySessions::default());
        self
    }

    /// Reads and writes back OAuth tokens through `keeper` instead of the secret store
    /// when they are refreshed (under the ledger's sign-in lock, as always).
    pub fn with_token_keeper(mut self, keeper: Arc<dyn TokenKeeper>) -> Engine {
        self.keeper = Some(keeper);
        self
    }

    /// The engine's clock (the store's): what it calls now.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The engine's ledger.
    pub fn ledger(&self) -> &Arc<dyn Ledger> {
        &self.ledger
    }

    /// Runs `f` on core's store, for an engine built on one ([`Engine::new`]): the front
    /// ends' own reads and analytics collection. The lock is never held across an await.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let Some(store) = &self.local else {
            return Err(Error::Internal(
                "this publisher runs on a server's storage, not on a local database".into(),
            ));
        };
        // A panic elsewhere while the lock was held leaves the connection usable: SQLite
        // rolled back the transaction it was in.
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut store)
    }

    /// Claims and publishes everything due now (or only `only_post`'s targets) until
    /// nothing more is due. Retries that come due within `wait_for_retries` are waited for;
    /// later ones stay `waiting_retry` for the next run.
    ///
    /// Each account publishes its claimed targets one after another while the others go on
    /// in parallel: an account that is idle again takes what has come due for it at once,
    /// without waiting for a slow or rate-limited account to finish. Without `only_post`,
    /// targets that come due while others are publishing (or that another process
    /// schedules meanwhile) are taken as they come due.
    pub async fn drain(
        self: &Arc<Self>,
        only_post: Option<&str>,
        wait_for_retries: Duration,
    ) -> Result<Report> {
        let retry_until = self.clock.now() + wait_for_retries;
        let mut run = Run::default();
        let mut tasks: JoinSet<(String, Vec<Outcome>)> = JoinSet::new();
        loop {
            let pass = self.clock.now();
            if !self.stopping() {
                self.claim_and_start(only_post, &mut run, &mut tasks)
                    .await?;
            }
            let retry_at = run.next_retry(pass, retry_until);
            if tasks.is_empty() {
                // Everything due was claimed and is done: wait for a retry, or stop.
                match retry_at.filter(|_| !self.stopping()) {
                    Some(at) => {
                        tokio::time::sleep((at - self.clock.now()).to_std().unwrap_or_default())
                            .await;
                        continue;
                    }
                    None => {
                        let mut report = run.report;
                        report.signed_out = self.take_signed_out();
                        report.circuits = self.take_circuit_events();
                        return Ok(report);
                    }
                }
            }
            // What is due now and was not claimed waits for its busy account to finish;
            // look again when something else comes due.
            let due_at = match only_post {
                None => {
                    let busy: Vec<String> = run.busy.iter().cloned().collect();
                    self.ledger.next_due_after(pass, &busy).await?
                }
                Some(_) => None,
            };
            let wake_at = retry_at.into_iter().chain(due_at).min();
            let version = self.ledger.data_version().await?;
            loop {
                let now = self.clock.now();
                if wake_at.is_some_and(|at| at <= now) {
                    break;
                }
                let nap = wake_at
                    .and_then(|at| (at - now).to_std().ok())
                    .unwrap_or(WATCH_INTERVAL)
                    .min(WATCH_INTERVAL);
                tokio::select! {
                    joined = tasks.join_next() => {
                        if let Some(joined) = joined {
                            let (account_id, outcomes) = joined.map_err(|e| {
                                Error::Internal(format!("a publishing task failed: {e}"))
                            })?;
                            run.busy.remove(&account_id);
                            run.record(outcomes);
                        }
                        break;
                    }
                    () = tokio::time::sleep(nap) => {
                        let changed = only_post.is_none()
                            && self.ledger.data_version().await? != version;
                        if changed {
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Claims what is due on the accounts not publishing now, and starts one task per
    /// account.
    ///
    /// A failure in one account's work, even a panic, ends only that account's part of the
    /// round: its targets are failed with the reason (a part in flight stays noted), and
    /// the other accounts go on.
    async fn claim_and_start(
        self: &Arc<Self>,
        only_post: Option<&str>,
        run: &mut Run,
        tasks: &mut JoinSet<(String, Vec<Outcome>)>,
    ) -> Result<()> {
        let now = self.clock.now();
        let busy: Vec<String> = run.busy.iter().cloned().collect();
        let (claimed, missed) = self
            .ledger
            .claim_due(&Claim {
                owner: &self.owner,
                now,
                lease_until: now + self.policy.lease,
                late_limit: self.policy.late_limit,
                limit: self.policy.batch,
                per_account: self.policy.per_account,
                only_post,
                skip_accounts: &busy,
            })
            .await?;
        run.report.missed.extend(missed);
        let mut by_account: HashMap<String, Vec<Claimed>> = HashMap::new();
        for target in claimed {
            run.account_of
                .insert(target.target_id.clone(), target.account.id.clone());
            by_account
                .entry(target.account.id.clone())
                .or_default()
                .push(target);
        }
        for (account_id, mut targets) in by_account {
            // In the order they were due: a post that waited goes before newer ones.
            targets.sort_by(|a, b| (a.due, &a.target_id).cmp(&(b.due, &b.target_id)));
            run.busy.insert(account_id.clone());
            let engine = Arc::clone(self);
            tasks.spawn(async move {
                let outcomes = engine.publish_account_contained(targets).await;
                (account_id, outcomes)
            });
        }
        Ok(())
    }

    /// [`Engine::publish_account`] on its own task, so that a panic in it is caught here:
    /// the account's targets without an outcome are failed with the reason.
    async fn publish_account_contained(self: Arc<Self>, targets: Vec<Claimed>) -> Vec<Outcome> {
        let sink: Arc<Mutex<Vec<Outcome>>> = Arc::default();
        let held = targets.clone();
        let work = {
            let engine = Arc::clone(&self);
            let sink = Arc::clone(&sink);
            async move { engine.publish_account(targets, &sink).await }
        };
        let failure = contained(work).await.err();
        let mut outcomes = std::mem::take(&mut *sink.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(what) = failure {
            for target in &held {
                if outcomes.iter().any(|o| o.target_id == target.target_id) {
                    continue;
                }
                let error = format!(
                    "postctl stopped publishing to {} on an internal error ({what}); the other accounts went on. This is a bug: please report it, then run `postctl retry {}`",
                    target.account.name, target.post_id
                );
                outcomes.push(
                    self.finish(target, Finish::Failed { error }, Vec::new(), None, false)
                        .await,
                );
            }
        }
        outcomes
    }

    /// Asks a running [`Engine::drain`] to stop: it claims nothing more, each account
    /// finishes the target it is sending and gives the rest back, and `drain` returns.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Gives back every held target that has nothing in flight (shutdown).
    pub async fn release(&self) -> Result<usize> {
        self.ledger.release_all(&self.owner).await
    }

    async fn publish_account(&self, targets: Vec<Claimed>, sink: &Mutex<Vec<Outcome>>) {
        let push = |outcome: Outcome| sink.lock().unwrap_or_else(|p| p.into_inner()).push(outcome);
        let Some(account) = targets.first().map(|t| t.account.clone()) else {
            return;
        };
        let adapter = match self.prepared(&account).await {
            Ok(adapter) => adapter,
            Err(error) => {
                if let Some(why) = self.needs_sign_in(&account).await {
                    for target in targets {
                        push(self.held(&target, &why, &error).await);
                    }
                    return;
                }
                let open = self.after_answer_or_outage(&account, &error).await;
                let failures = self.prepare_failed(&account.id);
                for target in targets {
                    let outcome = match &open {
                        // The network is down for everyone: wait for it, retries unspent
                        // (a part of unknown fate is decided as always, below).
                        Some((state, _)) if target.interrupted_part.is_none() => {
                            self.wait_for_network(&target, state, &error).await
                        }
                        _ => self.account_not_ready(&target, &error, failures).await,
                    };
                    push(outcome);
                }
                return;
            }
        };
        let caps = adapter.capabilities();
        for target in targets {
            let outcome = if self.stopping() {
                self.finish(&target, Finish::Release, Vec::new(), None, false)
                    .await
            } else {
                self.publish_target(&adapter, &caps, target).await
            };
            push(outcome);
        }
    }

    /// The outcome of a target whose account could not be made ready (`error`, for the
    /// `failures`-th time in a row). Nothing was sent, and that is logged as an attempt.
    /// A part whose fate was unknown stays noted; on a network that can never take a
    /// repeat, the target is `uncertain` at once (a later `postctl retry` must not send it
    /// again).
    async fn account_not_ready(
        &self,
        target: &Claimed,
        error: &PublishError,
        failures: u32,
    ) -> Outcome {
        let now = self.clock.now();
        let network = target.account.network;
        let finish = match target.interrupted_part {
            // What the account's network and setup promise, known without the account
            // being ready.
            Some(part)
                if crate::platforms::capabilities(&target.account, None)
                    .map_or(Idempotency::None, |caps| caps.idempotency)
                    == Idempotency::None =>
            {
                Finish::Uncertain {
                    error: format!(
                        "postctl stopped while sending part {} to {}, and {}; then {} could not be made ready ({error}). Check the account, then run `postctl resolve {} --published URL` or `--not-published`",
                        part + 1,
                        target.account.name,
                        Idempotency::None.describe(network),
                        target.account.name,
                        target.post_id
                    ),
                }
            }
            _ => decide::after_account_error(
                error,
                failures,
                target.first_attempt.unwrap_or(now),
                now,
                self.policy.retry_limits(),
                jitter(&target.target_id),
            ),
        };
        let record = AttemptRecord {
            part: target
                .interrupted_part
                .unwrap_or_else(|| target.parts.as_ref().map_or(0, Vec::len)),
            started: now,
            ended: self.clock.now(),
            outcome: finish.outcome(),
            http_status: error.status(),
            error: finish
                .error()
                .map(|e| format!("{} could not be made ready: {e}", target.account.name)),
            in_doubt: target.interrupted_part.is_some(),
        };
        self.finish(target, finish, Vec::new(), Some(record), error.is_auth())
            .await
    }

    /// The outcome of a target whose account needs signing in again (`why`): held, not
    /// failed: it waits, unclaimed, until `postctl accounts reauth`. A part whose fate is
    /// unknown is decided as for any account that cannot be made ready.
    async fn held(&self, target: &Claimed, why: &str, error: &PublishError) -> Outcome {
        if target.interrupted_part.is_some() {
            return self.account_not_ready(target, error, 1).await;
        }
        let now = self.clock.now();
        let finish = Finish::Retry {
            at: now,
            error: format!("held until {} signs in again: {why}", target.account.name),
            count_attempt: false,
        };
        let record = unsent_attempt(target, &finish, error, now);
        self.finish(target, finish, Vec::new(), Some(record), true)
            .await
    }

    /// The account's adapter, prepared: the one an earlier round prepared while it is
    /// recent and the account unchanged, else a new one.
    async fn prepared(&self, account: &Account) -> Result<Arc<AccountAdapter>, PublishError> {
        let print = fingerprint(account);
        if let Ok(adapters) = self.adapters.lock()
            && let Some(kept) = adapters.get(&account.id)
            && kept.fingerprint == print
            && kept.at.elapsed() < ADAPTER_REUSE
        {
            return Ok(Arc::clone(&kept.adapter));
        }
        let adapter = Arc::new(self.adapter(account).await?);
        if let Ok(mut failures) = self.prepare_failures.lock() {
            failures.remove(&account.id);
        }
        if let Ok(mut adapters) = self.adapters.lock() {
            adapters.insert(
                account.id.clone(),
                Prepared {
                    fingerprint: print,
                    adapter: Arc::clone(&adapter),
                    at: Instant::now(),
                },
            );
        }
        Ok(adapter)
    }

    /// Notes what `error` says about the account's network: a timeout or 5xx counts
    /// towards its circuit; any other answer from it shows it is up. When the circuit is
    /// open after this: its state, and whether this failure opened it.
    async fn after_answer_or_outage(
        &self,
        account: &Account,
        error: &PublishError,
    ) -> Option<(circuit::CircuitState, bool)> {
        let circuit = Circuit::of(account);
        if !circuit::is_outage(error) {
            // Only an answer shows the network up (a missing secret asked nothing).
            if error.status().is_some() {
                self.network_answered(&circuit).await;
            }
            return None;
        }
        let outage = Outage {
            at: self.clock.now(),
            account_id: account.id.clone(),
        };
        // A circuit that cannot be written is no worse than no circuit: retries go on.
        let (state, event) = self
            .ledger
            .note_outage(&circuit, outage, &error.to_string(), &self.policy.circuit)
            .await
            .ok()?;
        let opened_now = event.is_some();
        if let Some(event) = event {
            self.tell(event);
        }
        state.is_open().then_some((state, opened_now))
    }

    /// The network at `circuit` answered: its failures are forgotten, and an open circuit
    /// closes.
    async fn network_answered(&self, circuit: &Circuit) {
        if let Ok(Some(event)) = self.ledger.note_answer(circuit, self.clock.now()).await {
            self.tell(event);
        }
    }

    fn tell(&self, event: CircuitEvent) {
        if let Ok(mut events) = self.circuit_events.lock() {
            events.push(event);
        }
    }

    /// The circuits opened or closed since the last call.
    fn take_circuit_events(&self) -> Vec<CircuitEvent> {
        self.circuit_events
            .lock()
            .map(|mut events| std::mem::take(&mut *events))
            .unwrap_or_default()
    }

    /// The wait of a target whose network is down for everyone (`state`, an open
    /// circuit): until the next probe, spending no retry.
    fn network_wait(&self, state: &circuit::CircuitState, error: &PublishError) -> Finish {
        let now = self.clock.now();
        let since = state.opened.unwrap_or(now);
        let at = state.next_probe.unwrap_or(now).max(now);
        Finish::Retry {
            at,
            error: format!(
                "{} is not answering for any account since {} ({error}); the post waits for it, its retries unspent",
                state.circuit.describe(),
                crate::time::format_moment(since, self.policy.zone)
            ),
            count_attempt: false,
        }
    }

    /// What a failed attempt becomes when the network's circuit is open after it: the
    /// failure that opened it counts as usual but waits for the first probe; a probe or a
    /// target caught in flight waits without spending a retry. `uncertain` stays: a part
    /// that may have gone out is never sent again without the network's idempotency.
    fn waiting_for_network(
        &self,
        finish: Finish,
        target: &Claimed,
        state: &circuit::CircuitState,
        opened_now: bool,
    ) -> Finish {
        let probe_at = state.next_probe.unwrap_or_else(|| self.clock.now());
        match finish {
            Finish::Uncertain { .. } => finish,
            Finish::Retry {
                at,
                error,
                count_attempt,
            } if opened_now && !target.probe => Finish::Retry {
                at: at.max(probe_at),
                error,
                count_attempt,
            },
            Finish::Failed { .. } if opened_now && !target.probe => finish,
            Finish::Retry { error, .. } | Finish::Failed { error } => {
                let mut wait = self.network_wait(state, &PublishError::permanent(error));
                if let Finish::Retry { at, .. } = &mut wait {
                    *at = probe_at.max(*at);
                }
                wait
            }
            other => other,
        }
    }

    /// [`Engine::network_wait`] for a target whose account could not be made ready
    /// because the network is down: nothing was sent, and the attempt is logged.
    async fn wait_for_network(
        &self,
        target: &Claimed,
        state: &circuit::CircuitState,
        error: &PublishError,
    ) -> Outcome {
        let now = self.clock.now();
        let finish = self.network_wait(state, error);
        let record = unsent_attempt(target, &finish, error, now);
        self.finish(target, finish, Vec::new(), Some(record), false)
            .await
    }

    /// Counts a failure to prepare the account; returns how many in a row.
    fn prepare_failed(&self, account_id: &str) -> u32 {
        let Ok(mut failures) = self.prepare_failures.lock() else {
            return 1;
        };
        let count = failures.entry(account_id.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// Drops the account's kept adapter (its credentials were refused): the next round
    /// reads the secret and prepares again.
    fn forget_adapter(&self, account_id: &str) {
        if let Ok(mut adapters) = self.adapters.lock() {
            adapters.remove(account_id);
        }
    }

    /// Sends `text` to an account as a plain message: how failures reach the user (config
    /// `notify`), through the same adapters as posts.
    pub async fn notify(&self, account_name: &str, text: &str) -> Result<(), String> {
        self.send_notice(account_name, text, &crate::store::new_id())
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends `text` to an account (named as the ledger names accounts) as a plain
    /// message, with `key` as the part's idempotency key (the same on every retry of one
    /// notice, so networks that deduplicate do), and says what the network answered: the
    /// server's notifier retries what is [`PublishError::Retryable`]. An account the
    /// ledger cannot read is retryable too (the database may be back next time).
    pub async fn send_notice(
        &self,
        account: &str,
        text: &str,
        key: &str,
    ) -> Result<(), PublishError> {
        let account = self
            .ledger
            .account(account)
            .await
            .map_err(|e| PublishError::Retryable {
                message: e.to_string(),
                retry_after: None,
                maybe_sent: false,
                status: None,
            })?;
        let adapter = self.adapter(&account).await?;
        let caps = adapter.capabilities();
        let part = Part {
            index: 0,
            rendered: render(text, caps.format),
            media: Vec::new(),
            idempotency_key: key.to_string(),
            stage: Default::default(),
            reply_to: None,
            root: None,
        };
        adapter.publish(&part).await.map(|_| ())
    }

    /// Deletes a post's published parts from their networks (last part first), target by
    /// target, and records each target whose parts are all gone as withdrawn. Returns, per
    /// account, how many parts were deleted or why it stopped.
    pub async fn unpublish(
        &self,
        post_id: &str,
        only_account: Option<&str>,
    ) -> Result<Vec<(String, std::result::Result<usize, String>)>> {
        let mut targets = self.ledger.published_targets(post_id).await?;
        if let Some(name) = only_account {
            targets.retain(|(_, account, _)| account.name == name);
        }
        let mut results = Vec::with_capacity(targets.len());
        for (target_id, account, parts) in targets {
            let deleted = async {
                let adapter = self.adapter(&account).await.map_err(|e| e.to_string())?;
                let mut count = 0;
                for part in parts.iter().rev() {
                    let published: Published = serde_json::from_value(part.clone())
                        .map_err(|e| format!("a stored part cannot be read ({e})"))?;
                    adapter.delete(&published).await.map_err(|e| {
                        format!("{e} (after deleting {count} of {} parts)", parts.len())
                    })?;
                    count += 1;
                }
                Ok(count)
            }
            .await;
            if deleted.is_ok() {
                self.ledger.mark_unpublished(&target_id).await?;
            }
            results.push((account.name, deleted));
        }
        Ok(results)
    }

    /// Checks an account's credentials against its network.
    pub async fn verify(
        &self,
        account: &Account,
    ) -> Result<crate::platforms::Verified, PublishError> {
        self.adapter(account).await?.verify().await
    }

    /// The account's adapter, ready to publish. The server's limits come from the cache
    /// while they are less than [`SERVER_LIMITS_FOR`] old; read again, they are saved.
    pub(crate) async fn adapter(&self, account: &Account) -> Result<AccountAdapter, PublishError> {
        let secret = (self.secret_of)(account).map_err(|e| PublishError::Auth {
            message: e.to_string(),
            status: None,
        })?;
        let secret = self.signed_in(account, secret).await?;
        let tools = Tools {
            http: self.http.clone(),
            sessions: Arc::clone(&self.sessions),
            limits: self.fresh_server_limits(account).await,
            media_host: self.media_host.clone(),
            redactor: SharedRedactor::default(),
            inbox: self.ledger.update_inbox(),
        };
        let mut adapter = crate::platforms::open(account, secret, tools)?;
        if let Some(read) = adapter.prepare().await? {
            // A cache that cannot be written is read again next time; nothing to report.
            let _ = self
                .ledger
                .save_server_limits(account, &read, self.clock.now())
                .await;
        }
        Ok(adapter)
    }

    async fn fresh_server_limits(&self, account: &Account) -> Option<ServerLimits> {
        let (limits, read_at) = self.ledger.server_limits(account).await.ok().flatten()?;
        // A read a little "in the future" is fresh too: each process started with
        // POSTCTL_NOW starts its clock there again, so an earlier run's read can lie
        // ahead of this one's clock (as it can after the system clock is set back).
        let age = self.clock.now() - read_at;
        (age.abs() < SERVER_LIMITS_FOR).then_some(limits)
    }

    async fn publish_target(
        &self,
        adapter: &AccountAdapter,
        caps: &Capabilities,
        target: Claimed,
    ) -> Outcome {
        let resolve_hint = format!(
            "check {}, then run `postctl resolve {} --published URL` or `--not-published`",
            target.account.name, target.post_id
        );
        let done: Result<Vec<Published>, String> = target.parts.clone().and_then(|parts| {
            parts
                .into_iter()
                .map(|p| {
                    serde_json::from_value(p).map_err(|e| {
                        format!("a recorded part cannot be read ({e}), so postctl sends nothing that could repeat it")
                    })
                })
                .collect()
        });
        let done = match done {
            Ok(done) => done,
            Err(error) => {
                let error = format!("{error}; {resolve_hint}");
                return self
                    .finish(
                        &target,
                        Finish::Uncertain { error },
                        Vec::new(),
                        None,
                        false,
                    )
                    .await;
            }
        };
        let idempotency = caps.idempotency;
        if let Some(part) = target.interrupted_part
            && let Err(why) = decide::resend(
                target.account.network,
                idempotency,
                target.interrupted_since,
                self.clock.now(),
            )
        {
            let error = format!(
                "postctl stopped while sending part {} to {} (or the network left its fate open), and {why}, so postctl will not send it again; {resolve_hint}",
                part + 1,
                target.account.name,
            );
            return self
                .finish(&target, Finish::Uncertain { error }, done, None, false)
                .await;
        }
        let sources = match plan::parts(&target.body, caps, target.thread) {
            Ok(sources) => sources,
            Err(error) => {
                return self
                    .finish(&target, Finish::Failed { error }, done, None, false)
                    .await;
            }
        };
        if let Err(error) = self.fetch_media(&target).await {
            let now = self.clock.now();
            let finish = decide::after_account_error(
                &error,
                1,
                target.first_attempt.unwrap_or(now),
                now,
                self.policy.retry_limits(),
                jitter(&target.target_id),
            );
            return self.finish(&target, finish, done, None, false).await;
        }
        let (media, notes) = match self.media_files(&target, caps) {
            Ok(fitted) => fitted,
            Err(error) => {
                return self
                    .finish(&target, Finish::Failed { error }, done, None, false)
                    .await;
            }
        };
        let mut outcome = self
            .send_parts(adapter, caps, idempotency, &target, &sources, media, done)
            .await;
        outcome.notes = notes;
        outcome
    }

    /// Until when the account must wait before its next request, and why: the longer of
    /// the wait recorded in the database (any publisher's 429) and what this process's
    /// last answers said about the rate-limit window.
    pub(crate) async fn account_wait(&self, account: &Account) -> Option<(DateTime<Utc>, String)> {
        let now = self.clock.now();
        let stored = self
            .ledger
            .account_wait(&account.id, now)
            .await
            .ok()
            .flatten();
        let window = self.http.wait_before(&account.name, SystemTime::now());
        let from_headers = Duration::from_std(window)
            .ok()
            .filter(|w| *w > Duration::zero())
            .and_then(|w| now.checked_add_signed(w))
            .map(|at| {
                (
                    at,
                    format!("{}'s rate-limit window is used up", account.name),
                )
            });
        match (stored, from_headers) {
            (Some(a), Some(b)) => Some(if a.0 >= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// Publishes the parts not yet done, recording each as the network confirms it.
    #[allow(clippy::too_many_arguments)]
    async fn send_parts(
        &self,
        adapter: &AccountAdapter,
        caps: &Capabilities,
        idempotency: Idempotency,
        target: &Claimed,
        sources: &[String],
        media: Vec<MediaFile>,
        mut done: Vec<Published>,
    ) -> Outcome {
        let account = &target.account;
        let circuit = Circuit::of(account);
        for (index, source) in sources.iter().enumerate().skip(done.len()) {
            // The network went down for everyone meanwhile: only the probe goes on; this
            // target goes back to wait, its retries unspent.
            if !target.probe
                && let Ok(Some(state)) = self.ledger.circuit(&circuit).await
                && state.is_open()
            {
                return self
                    .finish(target, Finish::Release, done, None, false)
                    .await;
            }
            if let Some((until, reason)) = self.account_wait(account).await {
                let wait = (until - self.clock.now()).to_std().unwrap_or_default();
                if wait > std::time::Duration::from_secs(2) {
                    let first = target.first_attempt.unwrap_or_else(|| self.clock.now());
                    let finish = match decide::after_wait(
                        until,
                        &reason,
                        first,
                        self.policy.retry_limits(),
                        self.policy.zone,
                    ) {
                        Finish::Failed { error } => Finish::Failed {
                            error: format!(
                                "{error}; publish it later with `postctl retry {}`",
                                target.post_id
                            ),
                        },
                        other => other,
                    };
                    return self.finish(target, finish, done, None, false).await;
                }
                tokio::time::sleep(wait).await;
            }
            let lease_until = self.clock.now() + self.policy.lease;
            match self
                .ledger
                .begin_part(
                    &target.target_id,
                    &self.owner,
                    index,
                    sources.len(),
                    lease_until,
                )
                .await
            {
                Ok(true) => {}
                _ => return self.lost(target, done),
            }
            let part = Part {
                index,
                rendered: render(source, caps.format),
                media: if index == 0 {
                    media.clone()
                } else {
                    Vec::new()
                },
                idempotency_key: format!("{}-{index}", target.target_id),
                stage: self.stage(target, index),
                reply_to: done.last().cloned(),
                root: done.first().cloned(),
            };
            let started = self.clock.now();
            // A part sent again keeps the time it was first sent: the network's memory of
            // its idempotency key started then.
            let first_sent = match (target.interrupted_part, target.interrupted_since) {
                (Some(part), Some(since)) if part == index => since,
                _ => started,
            };
            let result = self.publish_holding_lease(adapter, &part, target).await;
            self.remember_window(account).await;
            match result {
                Ok(published) => {
                    let record = AttemptRecord {
                        part: index,
                        started,
                        ended: self.clock.now(),
                        outcome: "published",
                        http_status: None,
                        error: None,
                        in_doubt: false,
                    };
                    let json = serde_json::to_value(&published).unwrap_or_default();
                    if self
                        .ledger
                        .record_part(&target.target_id, &self.owner, &json, &record)
                        .await
                        .is_err()
                    {
                        return self.lost(target, done);
                    }
                    self.network_answered(&circuit).await;
                    done.push(published);
                }
                Err(error) => {
                    if error.is_auth() {
                        self.forget_adapter(&account.id);
                    }
                    let safe_until = idempotency.safe_until(first_sent);
                    let mut finish = self.after_error(&error, safe_until, target);
                    if let Some((state, opened_now)) =
                        self.after_answer_or_outage(account, &error).await
                    {
                        finish = self.waiting_for_network(finish, target, &state, opened_now);
                    }
                    if let (
                        PublishError::Retryable {
                            retry_after: Some(_),
                            maybe_sent: false,
                            message,
                            ..
                        },
                        Finish::Retry { at, .. },
                    ) = (&error, &finish)
                    {
                        // The network asked the whole account to wait: every publisher
                        // holds back its other targets until then, in their order.
                        let _ = self.ledger.hold_account(&account.id, *at, message).await;
                    }
                    let record = AttemptRecord {
                        part: index,
                        started,
                        ended: self.clock.now(),
                        outcome: finish.outcome(),
                        http_status: error.status(),
                        error: finish.error().map(str::to_owned),
                        in_doubt: matches!(
                            error,
                            PublishError::Retryable {
                                maybe_sent: true,
                                ..
                            }
                        ),
                    };
                    return self
                        .finish(target, finish, done, Some(record), error.is_auth())
                        .await;
                }
            }
        }
        self.finish(target, Finish::Published, done, None, false)
            .await
    }

    /// Where the adapter notes the step it reached on `index` before the request that
    /// posts it, with what an interrupted attempt at that part noted.
    fn stage(&self, target: &Claimed, index: usize) -> crate::platforms::Stage {
        let earlier = target
            .interrupted_stage
            .clone()
            .filter(|_| target.interrupted_part == Some(index));
        let ledger = Arc::clone(&self.ledger);
        let (target_id, owner) = (target.target_id.clone(), self.owner.clone());
        crate::platforms::Stage::new(earlier, move |stage| {
            let (ledger, target_id, owner) =
                (Arc::clone(&ledger), target_id.clone(), owner.clone());
            async move {
                ledger
                    .note_stage(&target_id, &owner, &stage)
                    .await
                    .unwrap_or(false)
            }
        })
    }

    /// Sends one part, renewing the target's lease while the request is on its way (an
    /// upload of several media can outlast one lease).
    async fn publish_holding_lease(
        &self,
        adapter: &AccountAdapter,
        part: &Part,
        target: &Claimed,
    ) -> Result<Published, PublishError> {
        let every = (self.policy.lease / 3)
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_millis(100));
        let publish = adapter.publish(part);
        tokio::pin!(publish);
        loop {
            tokio::select! {
                result = &mut publish => return result,
                () = tokio::time::sleep(every) => {
                    let until = self.clock.now() + self.policy.lease;
                    // A lease lost meanwhile shows when the part is recorded.
                    let _ = self.ledger.renew_lease(&target.target_id, &self.owner, until).await;
                }
            }
        }
    }

    /// Keeps what the last answer's rate-limit headers said (the window is used up until
    /// its reset) in the database, for every publisher and the next run.
    async fn remember_window(&self, account: &Account) {
        let wait = self.http.wait_before(&account.name, SystemTime::now());
        if wait.is_zero() {
            return;
        }
        if let Some(until) = Duration::from_std(wait)
            .ok()
            .and_then(|w| self.clock.now().checked_add_signed(w))
        {
            let reason = format!("{}'s rate-limit window is used up", account.name);
            let _ = self.ledger.hold_account(&account.id, until, &reason).await;
        }
    }

    fn after_error(
        &self,
        error: &PublishError,
        resend_safe_until: Option<DateTime<Utc>>,
        target: &Claimed,
    ) -> Finish {
        let now = self.clock.now();
        let finish = decide::after_error(
            error,
            resend_safe_until,
            target.attempt_count + 1,
            target.first_attempt.unwrap_or(now),
            now,
            self.policy.retry_limits(),
            jitter(&target.target_id),
        );
        match finish {
            Finish::Uncertain { error } => Finish::Uncertain {
                error: format!(
                    "{error}: check {}, then run `postctl resolve {} --published URL` or `--not-published`",
                    target.account.name, target.post_id
                ),
            },
            other => other,
        }
    }

    /// Fetches the post's media files that are not in the media dir from the media
    /// source, when there is one.
    async fn fetch_media(&self, target: &Claimed) -> std::result::Result<(), PublishError> {
        let Some(source) = &self.media_source else {
            return Ok(());
        };
        for media in &target.media {
            let path = crate::media::stored_path(&self.media_dir, media);
            if !path.exists() {
                source.fetch(media, &path).await?;
            }
        }
        Ok(())
    }

    /// The post's media as files to upload, with a note for each image that had to be
    /// shrunk to fit the network; or why the media cannot go to this network.
    fn media_files(
        &self,
        target: &Claimed,
        caps: &Capabilities,
    ) -> Result<(Vec<MediaFile>, Vec<String>), String> {
        if target.media.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let network = target.account.network.display_name();
        if caps.max_media == 0 {
            return Err(format!(
                "postctl cannot send media to {network} yet; post without --media to {}, or attach the file there by hand",
                target.account.name
            ));
        }
        if target.media.len() > caps.max_media {
            return Err(format!(
                "{} media attached; {network} takes at most {} per post: attach fewer with --media",
                target.media.len(),
                caps.max_media
            ));
        }
        let mut notes = Vec::new();
        let mut files = Vec::with_capacity(target.media.len());
        for original in &target.media {
            let path = crate::media::stored_path(&self.media_dir, original);
            if !path.exists() {
                return Err(format!(
                    "the media file {} is gone from {}; attach it again with `postctl draft edit {} --media FILE`",
                    original.file_name,
                    self.media_dir.display(),
                    target.post_id
                ));
            }
            let mut m = original.clone();
            if m.mime.starts_with("image/") && m.size > caps.max_image_bytes {
                let (fitted, note) =
                    crate::media::fit_image(&m, caps.max_image_bytes, &self.media_dir)?;
                notes.push(format!("{}: {note}", target.account.name));
                m = fitted;
            }
            files.push(MediaFile {
                path: crate::media::stored_path(&self.media_dir, &m),
                file_name: m.file_name,
                mime: m.mime,
                size: m.size,
                width: m.width,
                height: m.height,
                alt: m.alt,
            });
        }
        Ok((files, notes))
    }

    async fn finish(
        &self,
        target: &Claimed,
        finish: Finish,
        done: Vec<Published>,
        attempt: Option<AttemptRecord>,
        auth: bool,
    ) -> Outcome {
        let state = finish.state(target.attempt_count > 0);
        let error = finish.error().map(str::to_owned);
        let next_attempt = match &finish {
            Finish::Retry { at, .. } => Some(*at),
            _ => None,
        };
        let recorded = self
            .ledger
            .finish_target(&target.target_id, &self.owner, &finish, attempt.as_ref())
            .await;
        let mut outcome = Outcome {
            post_id: target.post_id.clone(),
            target_id: target.target_id.clone(),
            account: target.account.name.clone(),
            network: target.account.network.to_string(),
            state,
            urls: done.iter().filter_map(|p| p.url.clone()).collect(),
            error,
            next_attempt,
            auth,
            notes: Vec::new(),
        };
        if let Err(e) = recorded {
            outcome.state = TargetState::Publishing;
            outcome.error = Some(e.to_string());
        }
        outcome
    }

    /// Another publisher took the target over: report it, change nothing.
    fn lost(&self, target: &Claimed, done: Vec<Published>) -> Outcome {
        Outcome {
            post_id: target.post_id.clone(),
            target_id: target.target_id.clone(),
            account: target.account.name.clone(),
            network: target.account.network.to_string(),
            state: TargetState::Publishing,
            urls: done.iter().filter_map(|p| p.url.clone()).collect(),
            error: Some("another publisher took this target over; see `postctl status`".into()),
            next_attempt: None,
            auth: false,
            notes: Vec::new(),
        }
    }
}

/// The log line of a round that sent nothing (the account or the network must wait):
/// at `now`, at the target's next part, saying why.
fn unsent_attempt(
    target: &Claimed,
    finish: &Finish,
    error: &PublishError,
    now: DateTime<Utc>,
) -> AttemptRecord {
    AttemptRecord {
        part: target.parts.as_ref().map_or(0, Vec::len),
        started: now,
        ended: now,
        outcome: finish.outcome(),
        http_status: error.status(),
        error: finish.error().map(str::to_owned),
        in_doubt: false,
    }
}

/// The message that tells the user what needs them after a round: failed, uncertain and
/// missed targets, each with the command that shows more. `None` when all is well.
pub fn notification(report: &Report) -> Option<String> {
    notification_in(report, chrono_tz::Tz::UTC)
}

/// [`notification`] with its times in `zone`, to the second.
pub fn notification_in(report: &Report, zone: chrono_tz::Tz) -> Option<String> {
    let mut lines = Vec::new();
    for o in &report.outcomes {
        if matches!(o.state, TargetState::Failed | TargetState::Uncertain) {
            lines.push(format!(
                "- {} on {}: {} (postctl status {})",
                o.state,
                o.account,
                o.error.as_deref().unwrap_or("no details"),
                o.post_id
            ));
        }
    }
    for m in &report.missed {
        lines.push(format!(
            "- missed on {}: was due {} (postctl retry {})",
            m.account,
            crate::time::format_moment(m.due, zone),
            m.post_id
        ));
    }
    let accounts: Vec<String> = report
        .signed_out
        .iter()
        .map(|(account, why)| format!("- {account} needs signing in again: {why}"))
        .collect();
    let networks: Vec<String> = report
        .circuits
        .iter()
        .map(|event| format!("- {}", circuit_news(event, zone)))
        .collect();
    let header = match (lines.len(), accounts.len(), networks.len()) {
        (0, 0, 0) => return None,
        (0, 0, n) => format!("postctl: {n} network(s) went down or came back"),
        (0, n, _) => format!("postctl: {n} account(s) need signing in again"),
        (n, _, _) => format!("postctl: {n} post(s) need your attention"),
    };
    lines.extend(accounts);
    lines.extend(networks);
    Some(format!("{header}\n{}", lines.join("\n")))
}

/// One line of news about a circuit, with times in `zone`.
pub fn circuit_news(event: &CircuitEvent, zone: chrono_tz::Tz) -> String {
    match event {
        CircuitEvent::Opened {
            circuit,
            since,
            next_probe,
            failures,
            accounts,
            error,
        } => format!(
            "{} is down for everyone since {} ({failures} failures from {accounts} accounts; last: {error}); its posts wait without spending retries, one probe at a time from {}",
            circuit.describe(),
            crate::time::format_moment(*since, zone),
            crate::time::format_moment(*next_probe, zone),
        ),
        CircuitEvent::Closed { circuit, since, at } => format!(
            "{} answers again at {} (down since {}); its posts go out in order",
            circuit.describe(),
            crate::time::format_moment(*at, zone),
            crate::time::format_moment(*since, zone),
        ),
    }
}

/// Runs `work` on its own task: a panic in it ends only that task, and comes back as
/// what the panic said.
async fn contained<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> std::result::Result<T, String> {
    tokio::spawn(work).await.map_err(|failure| {
        if !failure.is_panic() {
            return "it was cancelled".into();
        }
        let payload = failure.into_panic();
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .map_or_else(|| "a panic".into(), |text| format!("panic: {text}"))
    })
}

/// A jitter in [0, 1) that differs between targets and between runs.
pub(crate) fn jitter(seed: &str) -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(nanos);
    for byte in seed.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash % 10_000) as f64 / 10_000.0
}

impl PublishError {
    pub fn is_auth(&self) -> bool {
        matches!(self, PublishError::Auth { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(state: TargetState, error: Option<&str>) -> Outcome {
        Outcome {
            post_id: "p1".into(),
            target_id: "t1".into(),
            account: "masto".into(),
            network: "mastodon".into(),
            state,
            urls: vec![],
            error: error.map(String::from),
            next_attempt: None,
            auth: false,
            notes: Vec::new(),
        }
    }

    /// A panic in one account's work comes back as its text; the rest of the round (here:
    /// the other task) goes on.
    #[test]
    fn a_panic_is_contained_to_its_own_work() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (failed, fine) = runtime.block_on(async {
            let failed = contained(async {
                let wait: Option<u64> = None;
                panic!("no wait: {wait:?}")
            });
            let fine = contained(async { 7 });
            tokio::join!(failed, fine)
        });
        assert_eq!(failed, Err("panic: no wait: None".to_string()));
        assert_eq!(fine, Ok(7));
    }

    #[test]
    fn notifications_give_times_in_the_users_zone_to_the_second() {
        let report = Report {
            signed_out: Vec::new(),
            circuits: Vec::new(),
            outcomes: vec![],
            missed: vec![Missed {
                target_id: "t2".into(),
                post_id: "p2".into(),
                account: "tg".into(),
                due: DateTime::UNIX_EPOCH + Duration::milliseconds(1_765_000_000_123),
            }],
        };
        let text = notification_in(&report, chrono_tz::Europe::Berlin).expect("a message");
        assert!(text.contains("was due 2025-12-06 06:46:40 CET"), "{text}");
    }

    #[test]
    fn a_network_going_down_and_coming_back_is_notified() {
        let circuit = Circuit {
            network: crate::network::Network::Mastodon,
            base_url: "https://social.example".into(),
        };
        let at = |s: i64| DateTime::UNIX_EPOCH + Duration::seconds(1_765_000_000 + s);
        let report = Report {
            circuits: vec![
                CircuitEvent::Opened {
                    circuit: circuit.clone(),
                    since: at(0),
                    next_probe: at(30),
                    failures: 3,
                    accounts: 2,
                    error: "Mastodon answered 503".into(),
                },
                CircuitEvent::Closed {
                    circuit,
                    since: at(0),
                    at: at(90),
                },
            ],
            ..Report::default()
        };
        let text = notification(&report).expect("a message");
        assert!(text.starts_with("postctl: 2 network(s) went down or came back\n- Mastodon at https://social.example is down for everyone since 2025-12-06 05:46:40 UTC (3 failures from 2 accounts; last: Mastodon answered 503)"), "{text}");
        assert!(
            text.contains("one probe at a time from 2025-12-06 05:47:10 UTC"),
            "{text}"
        );
        assert!(text.contains("- Mastodon at https://social.example answers again at 2025-12-06 05:48:10 UTC (down since 2025-12-06 05:46:40 UTC)"), "{text}");
    }

    #[test]
    fn an_account_signed_out_is_notified() {
        let report = Report {
            signed_out: vec![(
                "me-x".into(),
                "X refused the refresh token; run `postctl accounts reauth me-x`".into(),
            )],
            circuits: Vec::new(),
            outcomes: vec![],
            missed: vec![],
        };
        let text = notification(&report).expect("a message");
        assert!(
            text.starts_with("postctl: 1 account(s) need signing in again\n- me-x needs signing in again: X refused"),
            "{text}"
        );
    }

    #[test]
    fn only_what_needs_the_user_is_notified() {
        let quiet = Report {
            signed_out: Vec::new(),
            circuits: Vec::new(),
            outcomes: vec![
                outcome(TargetState::Published, None),
                outcome(TargetState::WaitingRetry, Some("429")),
            ],
            missed: vec![],
        };
        assert_eq!(notification(&quiet), None);
        let loud = Report {
            signed_out: Vec::new(),
            circuits: Vec::new(),
            outcomes: vec![
                outcome(TargetState::Published, None),
                outcome(TargetState::Failed, Some("422 too long")),
                outcome(TargetState::Uncertain, Some("timed out")),
            ],
            missed: vec![Missed {
                target_id: "t2".into(),
                post_id: "p2".into(),
                account: "tg".into(),
                due: DateTime::UNIX_EPOCH,
            }],
        };
        let text = notification(&loud).expect("a message");
        assert!(
            text.starts_with("postctl: 3 post(s) need your attention"),
            "{text}"
        );
        assert!(
            text.contains("- failed on masto: 422 too long (postctl status p1)"),
            "{text}"
        );
        assert!(text.contains("- uncertain on masto: timed out"), "{text}");
        assert!(
            text.contains("- missed on tg:") && text.contains("postctl retry p2"),
            "{text}"
        );
    }
}
