//! One collection: for each account, the posts the schedule says are due, read in
//! batches through the account's adapter, and the account's own figures once a day.
//! Accounts are read in parallel; one account's batches one after another, waiting out
//! its rate limit the way publishing does (the same per-account wait, kept in the store).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::task::JoinSet;

use super::{Collected, follow_names, schedule};
use crate::error::Result;
use crate::model::Account;
use crate::platforms::metrics::{BATCH, Counters};
use crate::platforms::{self, Metrics, PostReading, PublishError, Published};
use crate::publish::Engine;
use crate::store::MetricCandidate;

/// What to collect, and when "now" is.
#[derive(Debug, Clone)]
pub struct Collect {
    /// Only this account (by name).
    pub account: Option<String>,
    /// Only posts published within this span before `now`.
    pub since: Option<Duration>,
    /// The collection's time: what the schedule goes by and what the readings are dated.
    pub now: DateTime<Utc>,
    /// The zone whose dates the daily roll-ups are kept by.
    pub zone: Tz,
    /// Raw readings older than this many days are removed (roll-ups stay).
    pub keep_snapshots_days: u32,
}

/// A wait longer than this ends the account's collection for this run instead of sleeping.
const LONGEST_PAUSE: std::time::Duration = std::time::Duration::from_secs(2);

impl Engine {
    /// Collects what is due for every account that publishes (or `plan.account`), then
    /// removes raw readings past the retention. One [`Collected`] per account, in the
    /// order of the accounts; an account's failure stops that account only.
    pub async fn collect_metrics(self: &Arc<Self>, plan: &Collect) -> Result<Vec<Collected>> {
        let accounts: Vec<Account> = match &plan.account {
            Some(name) => vec![self.with_store(|s| s.account(name))?],
            None => self.with_store(|s| s.accounts())?,
        };
        let mut tasks = JoinSet::new();
        for (index, account) in accounts.into_iter().enumerate() {
            if !platforms::can_publish(account.network) {
                continue;
            }
            let engine = Arc::clone(self);
            let plan = plan.clone();
            tasks.spawn(async move { (index, engine.collect_account(&account, &plan).await) });
        }
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, collected)) => done.push((index, collected?)),
                Err(e) => {
                    return Err(crate::error::Error::Internal(format!(
                        "collecting an account's counters stopped unexpectedly: {e}"
                    )));
                }
            }
        }
        done.sort_by_key(|(index, _)| *index);
        let keep = Duration::days(i64::from(plan.keep_snapshots_days));
        let before = super::since(plan.now, keep);
        self.with_store(|s| s.prune_snapshots(before))?;
        Ok(done.into_iter().map(|(_, collected)| collected).collect())
    }

    async fn collect_account(&self, account: &Account, plan: &Collect) -> Result<Collected> {
        let mut collected = Collected::new(&account.name, account.network);
        let since = plan.since.map(|span| super::since(plan.now, span));
        let candidates = self.with_store(|s| s.metric_candidates(Some(&account.id), since))?;
        let (due, later): (Vec<MetricCandidate>, Vec<MetricCandidate>) = candidates
            .into_iter()
            .partition(|c| schedule::post_due(c.published, c.last_read, plan.now));
        collected.posts_not_due = later.len();
        let state = self.with_store(|s| s.metric_account_state(&account.id))?;
        let account_due = schedule::account_due(state.account_last_read, plan.now);
        if due.is_empty() && !account_due {
            return Ok(collected);
        }
        let adapter = match self.adapter(account).await {
            Ok(adapter) => adapter,
            Err(e) => {
                collected.error = Some(e.to_string());
                return Ok(collected);
            }
        };
        let day = plan.now.with_timezone(&plan.zone).date_naive().to_string();
        let (mut seen, mut dropped) = (state.seen, state.dropped);
        for batch in due.chunks(BATCH) {
            if let Some(stop) = self.pace(account).await {
                collected.error = Some(stop);
                return Ok(collected);
            }
            let parts: Vec<Published> = batch.iter().map(|c| c.first_part.clone()).collect();
            collected.posts_asked += batch.len();
            let readings = match adapter.post_metrics(&parts).await {
                Ok(Metrics::Read(readings)) if readings.len() == batch.len() => readings,
                Ok(Metrics::Read(readings)) => {
                    collected.error = Some(format!(
                        "the {} adapter answered {} readings for {} posts; nothing of this batch was kept",
                        account.network.display_name(),
                        readings.len(),
                        batch.len()
                    ));
                    return Ok(collected);
                }
                Ok(Metrics::NotProvided(why)) => {
                    collected.posts_asked = 0;
                    collected.posts_not_provided = Some(why.to_string());
                    self.with_store(|s| s.record_posts_not_provided(&account.id, plan.now, why))?;
                    break;
                }
                Err(e) => {
                    self.hold_if_asked(account, &e).await;
                    collected.error = Some(e.to_string());
                    return Ok(collected);
                }
            };
            let names = follow_names(&seen, &dropped, &readings);
            for name in &names.newly_dropped {
                collected.warnings.push(format!(
                    "{} no longer gives `{name}` for the posts of {}; it is left out from now on (earlier readings keep it)",
                    account.network.display_name(),
                    account.name
                ));
            }
            (seen, dropped) = (names.seen, names.dropped);
            let readings: Vec<(String, PostReading)> = batch
                .iter()
                .map(|c| c.target_id.clone())
                .zip(readings)
                .collect();
            for (_, reading) in &readings {
                match reading {
                    PostReading::Counted(_) => collected.posts_counted += 1,
                    PostReading::Deleted => collected.posts_deleted += 1,
                    PostReading::Pending => collected.posts_pending += 1,
                }
            }
            self.with_store(|s| {
                s.record_post_readings(&account.id, plan.now, &day, &readings, &seen, &dropped)
            })?;
        }
        if account_due {
            if let Some(stop) = self.pace(account).await {
                collected.error = Some(stop);
                return Ok(collected);
            }
            match adapter.account_metrics().await {
                Ok(Metrics::Read(counters)) => {
                    self.with_store(|s| {
                        s.record_account_reading(&account.id, plan.now, &day, Ok(&counters))
                    })?;
                    collected.account_figures = Some(counters);
                }
                Ok(Metrics::NotProvided(why)) => {
                    self.with_store(|s| {
                        s.record_account_reading(&account.id, plan.now, &day, Err(why))
                    })?;
                    collected.account_not_provided = Some(why.to_string());
                }
                Err(e) => {
                    self.hold_if_asked(account, &e).await;
                    collected.error = Some(e.to_string());
                }
            }
        }
        Ok(collected)
    }

    /// Waits out a short rate-limit wait of the account; a longer one ends its collection
    /// for this run (the reason is returned), so collecting never sits on a limit that
    /// publishing needs too.
    async fn pace(&self, account: &Account) -> Option<String> {
        let (until, reason) = self.account_wait(account).await?;
        let wait = (until - Utc::now()).to_std().unwrap_or_default();
        if wait > LONGEST_PAUSE {
            return Some(format!(
                "{reason}: the rest is read on a later run, after {}",
                until.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        tokio::time::sleep(wait).await;
        None
    }

    /// Reads the counters of some of an account's published posts (the first part of
    /// each, at most [`BATCH`]), paced like [`Engine::collect_metrics`]: a short rate-limit
    /// wait is waited out, a long one is the error, and a 429's wait is kept for
    /// publishing too. For a caller that decides itself which posts are due (the server,
    /// which claims them with [`schedule`] across processes).
    pub async fn read_post_metrics(
        &self,
        account: &Account,
        parts: &[Published],
    ) -> std::result::Result<Metrics<Vec<PostReading>>, String> {
        if let Some(stop) = self.pace(account).await {
            return Err(stop);
        }
        let adapter = self.adapter(account).await.map_err(|e| e.to_string())?;
        match adapter.post_metrics(parts).await {
            Ok(metrics) => Ok(metrics),
            Err(e) => {
                self.hold_if_asked(account, &e).await;
                Err(e.to_string())
            }
        }
    }

    /// Reads the account's figures (followers, members…), paced as
    /// [`Engine::read_post_metrics`] is. For the server, which claims accounts itself.
    pub async fn read_account_metrics(
        &self,
        account: &Account,
    ) -> std::result::Result<Metrics<Counters>, String> {
        if let Some(stop) = self.pace(account).await {
            return Err(stop);
        }
        let adapter = self.adapter(account).await.map_err(|e| e.to_string())?;
        match adapter.account_metrics().await {
            Ok(metrics) => Ok(metrics),
            Err(e) => {
                self.hold_if_asked(account, &e).await;
                Err(e.to_string())
            }
        }
    }

    /// Keeps the wait a network asked for (a 429's), for publishing and later runs alike.
    async fn hold_if_asked(&self, account: &Account, error: &PublishError) {
        if let PublishError::Retryable {
            retry_after: Some(wait),
            message,
            ..
        } = error
            && let Ok(wait) = Duration::from_std(*wait)
        {
            // A wait that cannot be stored is asked for again by the network next time.
            let _ = self
                .ledger()
                .hold_account(&account.id, Utc::now() + wait, message)
                .await;
        }
    }
}
