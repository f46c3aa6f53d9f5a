//! The publish engine (DESIGN §4): claims due targets under a lease, publishes them part by
//! part through the adapters, records every confirmed part at once, and decides retries,
//! failures and `uncertain` outcomes in one place ([`decide`]).
//!
//! Targets on different accounts publish in parallel; one account's targets go one after
//! another, waiting when the network's rate-limit headers say the window is used up.

pub mod decide;
pub mod plan;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Account, TargetState};
use crate::platforms::{
    Adapter, Capabilities, Http, MediaFile, Part, PublishError, Published, SessionStore,
};
use crate::secrets::{Secret, SecretRef, SecretStore};
use crate::store::{AttemptRecord, Claimed, Finish, Missed, Store};
use crate::text::render;

/// The engine's knobs, from config.toml `[publish]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// How long after its first attempt a target may still be retried.
    pub retry_window: Duration,
    /// A scheduled target due longer ago than this is `missed`, not published late.
    pub late_limit: Duration,
    /// How long a claim holds without news (renewed before every part).
    pub lease: Duration,
    /// One HTTP request's time limit.
    pub request_timeout: std::time::Duration,
    /// Targets claimed per round.
    pub batch: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            retry_window: Duration::minutes(30),
            late_limit: Duration::hours(6),
            lease: Duration::minutes(2),
            request_timeout: std::time::Duration::from_secs(30),
            batch: 1_000,
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
}

/// The result of publishing what was due.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    pub missed: Vec<Missed>,
}

/// Keeps adapters' sessions (Bluesky's tokens) in the secret store, never the database.
struct Sessions(Arc<SecretStore>);

fn session_key(account: &str) -> String {
    format!("{account}--session")
}

impl SessionStore for Sessions {
    fn load(&self, account: &str) -> Option<Secret> {
        let account = session_key(account);
        [
            SecretRef::File {
                account: account.clone(),
            },
            SecretRef::Keyring { account },
        ]
        .iter()
        .find_map(|r| self.0.get(r).ok())
    }

    fn save(&self, account: &str, session: &Secret) {
        // A session that cannot be kept is created again next time; nothing to report.
        let _ = self.0.put(&session_key(account), session);
    }
}

/// Supplies an account's secret; the CLI reads the secret store or the environment.
pub type SecretSource = Arc<dyn Fn(&Account) -> Result<Secret> + Send + Sync>;

pub struct Engine {
    store: Arc<Mutex<Store>>,
    owner: String,
    http: Http,
    sessions: Arc<dyn SessionStore>,
    secret_of: SecretSource,
    media_dir: PathBuf,
    policy: Policy,
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
        let http = Http::new(policy.request_timeout).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Engine {
            store: Arc::new(Mutex::new(store)),
            owner: crate::store::new_id(),
            http,
            sessions: Arc::new(Sessions(secrets)),
            secret_of,
            media_dir,
            policy,
        })
    }

    /// Runs `f` on the store. The lock is never held across an await.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| Error::Invalid("the database handle was poisoned by a crash".into()))?;
        f(&mut store)
    }

    /// Claims and publishes everything due now (or only `only_post`'s targets), in rounds,
    /// until nothing more is due. Retries that come due within `wait_for_retries` are
    /// waited for; later ones stay `waiting_retry` for the next run.
    pub async fn drain(
        self: &Arc<Self>,
        only_post: Option<&str>,
        wait_for_retries: Duration,
    ) -> Result<Report> {
        let started = Utc::now();
        let mut report = Report::default();
        let mut latest: HashMap<String, usize> = HashMap::new();
        loop {
            let round = self.round(only_post).await?;
            let claimed_nothing = round.outcomes.is_empty() && round.missed.is_empty();
            report.missed.extend(round.missed);
            for outcome in round.outcomes {
                // A target retried in this run keeps only its latest outcome.
                match latest.get(&outcome.target_id) {
                    Some(&i) => report.outcomes[i] = outcome,
                    None => {
                        latest.insert(outcome.target_id.clone(), report.outcomes.len());
                        report.outcomes.push(outcome);
                    }
                }
            }
            let next = report
                .outcomes
                .iter()
                .filter(|o| o.state == TargetState::WaitingRetry)
                .filter_map(|o| o.next_attempt)
                .min();
            match next {
                Some(at) if at <= started + wait_for_retries => {
                    let wait = (at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    // `post` is done with its own targets; `run-due` goes on while more
                    // came due during this round.
                    let more_due = only_post.is_none()
                        && !claimed_nothing
                        && self
                            .with_store(|s| s.next_due())?
                            .is_some_and(|at| at <= Utc::now());
                    if !more_due {
                        return Ok(report);
                    }
                }
            }
        }
    }

    /// One round: claim what is due, publish each account's targets in parallel.
    pub async fn round(self: &Arc<Self>, only_post: Option<&str>) -> Result<Report> {
        let now = Utc::now();
        let lease_until = now + self.policy.lease;
        let (claimed, missed) = self.with_store(|store| {
            store.claim_due(
                &self.owner,
                now,
                lease_until,
                self.policy.late_limit,
                self.policy.batch,
                only_post,
            )
        })?;
        let mut by_account: HashMap<String, Vec<Claimed>> = HashMap::new();
        for target in claimed {
            by_account
                .entry(target.account.id.clone())
                .or_default()
                .push(target);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (_, targets) in by_account {
            let engine = Arc::clone(self);
            tasks.spawn(async move { engine.publish_account(targets).await });
        }
        let mut report = Report {
            outcomes: Vec::new(),
            missed,
        };
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(outcomes) => report.outcomes.extend(outcomes),
                Err(e) => return Err(Error::Invalid(format!("a publishing task failed: {e}"))),
            }
        }
        Ok(report)
    }

    /// Gives back every held target that has nothing in flight (shutdown).
    pub fn release(&self) -> Result<usize> {
        self.with_store(|store| store.release_all(&self.owner))
    }

    async fn publish_account(&self, targets: Vec<Claimed>) -> Vec<Outcome> {
        let Some(account) = targets.first().map(|t| t.account.clone()) else {
            return vec![];
        };
        let adapter = match self.adapter(&account).await {
            Ok(adapter) => adapter,
            Err(error) => {
                let mut outcomes = Vec::with_capacity(targets.len());
                for target in targets {
                    let finish = self.after_error(&error, true, &target);
                    outcomes.push(self.finish(&target, finish, Vec::new(), None, error.is_auth()));
                }
                return outcomes;
            }
        };
        let caps = adapter.capabilities();
        let mut outcomes = Vec::with_capacity(targets.len());
        for target in targets {
            outcomes.push(self.publish_target(&adapter, &caps, target).await);
        }
        outcomes
    }

    /// Sends `text` to an account as a plain message: how failures reach the user (config
    /// `notify`), through the same adapters as posts.
    pub async fn notify(&self, account_name: &str, text: &str) -> Result<(), String> {
        let account = self
            .with_store(|s| s.account(account_name))
            .map_err(|e| e.to_string())?;
        let adapter = self.adapter(&account).await.map_err(|e| e.to_string())?;
        let caps = adapter.capabilities();
        let part = Part {
            index: 0,
            rendered: render(text, caps.format),
            media: Vec::new(),
            idempotency_key: crate::store::new_id(),
            reply_to: None,
            root: None,
        };
        adapter
            .publish(&part)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Checks an account's credentials against its network.
    pub async fn verify(
        &self,
        account: &Account,
    ) -> Result<crate::platforms::Verified, PublishError> {
        self.adapter(account).await?.verify().await
    }

    async fn adapter(&self, account: &Account) -> Result<Adapter, PublishError> {
        let secret = (self.secret_of)(account).map_err(|e| PublishError::Auth {
            message: e.to_string(),
            status: None,
        })?;
        let mut adapter = Adapter::new(
            account,
            secret,
            self.http.clone(),
            Arc::clone(&self.sessions),
        )?;
        adapter.prepare().await?;
        Ok(adapter)
    }

    async fn publish_target(
        &self,
        adapter: &Adapter,
        caps: &Capabilities,
        target: Claimed,
    ) -> Outcome {
        let mut done: Vec<Published> = target
            .parts
            .iter()
            .filter_map(|p| serde_json::from_value(p.clone()).ok())
            .collect();
        if let Some(part) = target.interrupted_part.filter(|_| !caps.idempotent) {
            let error = format!(
                "postctl stopped while sending part {} to {}, and {} has no way to retry safely; check the account, then run `postctl resolve {} --published URL` or `--not-published`",
                part + 1,
                target.account.name,
                target.account.network.display_name(),
                target.post_id
            );
            return self.finish(&target, Finish::Uncertain { error }, done, None, false);
        }
        let sources = match plan::parts(&target.body, caps, target.thread) {
            Ok(sources) => sources,
            Err(error) => return self.finish(&target, Finish::Failed { error }, done, None, false),
        };
        let media = match self.media_files(&target, caps) {
            Ok(media) => media,
            Err(error) => return self.finish(&target, Finish::Failed { error }, done, None, false),
        };
        for (index, source) in sources.iter().enumerate().skip(done.len()) {
            let wait = self
                .http
                .wait_before(&target.account.name, SystemTime::now());
            if wait > std::time::Duration::from_secs(2) {
                let at = Utc::now() + Duration::from_std(wait).unwrap_or_default();
                let finish = Finish::Retry {
                    at,
                    error: format!("{}'s rate limit is used up until {at}", target.account.name),
                    count_attempt: false,
                };
                return self.finish(&target, finish, done, None, false);
            }
            tokio::time::sleep(wait).await;
            let lease_until = Utc::now() + self.policy.lease;
            match self
                .with_store(|s| s.begin_part(&target.target_id, &self.owner, index, lease_until))
            {
                Ok(true) => {}
                _ => return self.lost(&target, done),
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
                reply_to: done.last().cloned(),
                root: done.first().cloned(),
            };
            let started = Utc::now();
            match adapter.publish(&part).await {
                Ok(published) => {
                    let record = AttemptRecord {
                        part: index,
                        started,
                        ended: Utc::now(),
                        outcome: "published",
                        http_status: None,
                        error: None,
                    };
                    let json = serde_json::to_value(&published).unwrap_or_default();
                    if self
                        .with_store(|s| {
                            s.record_part(&target.target_id, &self.owner, &json, &record)
                        })
                        .is_err()
                    {
                        return self.lost(&target, done);
                    }
                    done.push(published);
                }
                Err(error) => {
                    let finish = self.after_error(&error, caps.idempotent, &target);
                    let record = AttemptRecord {
                        part: index,
                        started,
                        ended: Utc::now(),
                        outcome: outcome_name(&finish),
                        http_status: error.status(),
                        error: Some(error.to_string()),
                    };
                    return self.finish(&target, finish, done, Some(record), error.is_auth());
                }
            }
        }
        self.finish(&target, Finish::Published, done, None, false)
    }

    fn after_error(&self, error: &PublishError, idempotent: bool, target: &Claimed) -> Finish {
        let now = Utc::now();
        decide::after_error(
            error,
            idempotent,
            target.attempt_count + 1,
            target.first_attempt.unwrap_or(now),
            now,
            self.policy.retry_window,
            jitter(&target.target_id),
        )
    }

    fn media_files(&self, target: &Claimed, caps: &Capabilities) -> Result<Vec<MediaFile>, String> {
        if target.media.is_empty() {
            return Ok(Vec::new());
        }
        if target.media.len() > caps.max_media {
            return Err(format!(
                "{} media attached; {} takes {} per post",
                target.media.len(),
                target.account.network.display_name(),
                caps.max_media
            ));
        }
        target
            .media
            .iter()
            .map(|m| {
                let path = crate::media::stored_path(&self.media_dir, m);
                if !path.exists() {
                    return Err(format!(
                        "the media file {} is gone from {}; attach it again with `postctl draft edit {} --media FILE`",
                        m.file_name,
                        self.media_dir.display(),
                        target.post_id
                    ));
                }
                if m.mime.starts_with("image/") && m.size > caps.max_image_bytes {
                    return Err(format!(
                        "{} is {:.1} MB; {} takes images up to {:.1} MB: attach a smaller one",
                        m.file_name,
                        m.size as f64 / 1e6,
                        target.account.network.display_name(),
                        caps.max_image_bytes as f64 / 1e6
                    ));
                }
                Ok(MediaFile {
                    path,
                    file_name: m.file_name.clone(),
                    mime: m.mime.clone(),
                    size: m.size,
                    width: m.width,
                    height: m.height,
                    alt: m.alt.clone(),
                })
            })
            .collect()
    }

    fn finish(
        &self,
        target: &Claimed,
        finish: Finish,
        done: Vec<Published>,
        attempt: Option<AttemptRecord>,
        auth: bool,
    ) -> Outcome {
        let (state, error, next_attempt) = match &finish {
            Finish::Published => (TargetState::Published, None, None),
            Finish::Retry { at, error, .. } => {
                (TargetState::WaitingRetry, Some(error.clone()), Some(*at))
            }
            Finish::Failed { error } => (TargetState::Failed, Some(error.clone()), None),
            Finish::Uncertain { error } => (TargetState::Uncertain, Some(error.clone()), None),
            Finish::Release => (TargetState::Scheduled, None, None),
        };
        let recorded = self.with_store(|s| {
            s.finish_target(&target.target_id, &self.owner, &finish, attempt.as_ref())
        });
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
        }
    }
}

/// The message that tells the user what needs them after a round: failed, uncertain and
/// missed targets, each with the command that shows more. `None` when all is well.
pub fn notification(report: &Report) -> Option<String> {
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
            m.account, m.due, m.post_id
        ));
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "postctl: {} post(s) need your attention\n{}",
        lines.len(),
        lines.join("\n")
    ))
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

/// A jitter in [0, 1) that differs between targets and between runs.
fn jitter(seed: &str) -> f64 {
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
        }
    }

    #[test]
    fn only_what_needs_the_user_is_notified() {
        let quiet = Report {
            outcomes: vec![
                outcome(TargetState::Published, None),
                outcome(TargetState::WaitingRetry, Some("429")),
            ],
            missed: vec![],
        };
        assert_eq!(notification(&quiet), None);
        let loud = Report {
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
