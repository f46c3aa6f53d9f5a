//! Analytics on SQLite ([`Storage::claim_metrics`](super::Storage::claim_metrics) and its
//! neighbours): the claim is one IMMEDIATE transaction on the one writing connection, so
//! SQLite's write lock makes two processes take turns.

use rusqlite::{TransactionBehavior, params};

use super::sql::{
    ACCOUNT_METRICS_DUE, ACCOUNT_READINGS, ADD_ACCOUNT_READING, ADD_READING,
    FINISH_ACCOUNT_METRICS, FINISH_METRICS, POST_READINGS, TAKE_ACCOUNT_METRICS, TAKE_METRICS,
    metrics_due_sql,
};
use super::sqlite::SqliteStorage;
use super::{
    AccountMetricClaim, AccountMetricDone, AccountReading, MetricClaim, MetricDone, MetricReading,
    Result,
};

impl SqliteStorage {
    /// Whether `due_sql` (parameters: now, limit) finds anything, on a reading connection:
    /// an idle collector then takes no write lock every second. The claim decides again
    /// under the lock.
    async fn any_due(&self, due_sql: String, now_ms: i64) -> Result<bool> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&due_sql)?;
            let mut rows = stmt.query(params![now_ms, 1])?;
            Ok(rows.next()?.is_some())
        })
        .await
    }

    pub(super) async fn claim_metrics_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MetricClaim>> {
        if !self.any_due(metrics_due_sql(), now_ms).await? {
            return Ok(Vec::new());
        }
        let owner = owner.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let due: Vec<MetricClaim> = {
                let mut stmt = tx.prepare_cached(&metrics_due_sql())?;
                let rows = stmt.query_map(params![now_ms, i64::from(limit)], |r| {
                    Ok(MetricClaim {
                        target_id: r.get(0)?,
                        account_id: r.get(1)?,
                        post_id: r.get(2)?,
                        parts: r.get(3)?,
                        published_ms: r.get(4)?,
                        last_read_ms: r.get(5)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut claimed = Vec::with_capacity(due.len());
            for claim in due {
                let taken = tx.prepare_cached(TAKE_METRICS)?.execute(params![
                    claim.target_id,
                    claim.published_ms,
                    now_ms,
                    owner,
                    lease_until_ms
                ])?;
                if taken == 1 {
                    claimed.push(claim);
                }
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    pub(super) async fn finish_metrics_now(&self, owner: &str, done: &MetricDone) -> Result<bool> {
        self.finish_reading(
            (FINISH_METRICS, ADD_READING),
            &done.target_id,
            owner,
            done.reading.clone(),
            done.next_ms,
        )
        .await
    }

    /// Ends `owner`'s lease on a target's or an account's reading (`sql`: the finish and
    /// the reading's insert), keeping `reading` if any, in one transaction; false when the
    /// lease is no longer `owner`'s.
    async fn finish_reading(
        &self,
        sql: (&'static str, &'static str),
        id: &str,
        owner: &str,
        reading: Option<(i64, String)>,
        next_ms: Option<i64>,
    ) -> Result<bool> {
        let (id, owner) = (id.to_string(), owner.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let read_ms = reading.as_ref().map(|(at, _)| *at);
            if tx.execute(sql.0, params![id, owner, read_ms, next_ms])? != 1 {
                return Ok(false);
            }
            if let Some((at, counters)) = &reading {
                tx.execute(sql.1, params![id, at, counters])?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    pub(super) async fn post_readings_now(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<MetricReading>> {
        let (workspace_id, post_id) = (workspace_id.to_string(), post_id.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(POST_READINGS)?;
            let rows = stmt.query_map(params![workspace_id, post_id], |r| {
                Ok(MetricReading {
                    target_id: r.get(0)?,
                    read_ms: r.get(1)?,
                    counters: r.get(2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn claim_account_metrics_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<AccountMetricClaim>> {
        if !self
            .any_due(ACCOUNT_METRICS_DUE.to_string(), now_ms)
            .await?
        {
            return Ok(Vec::new());
        }
        let owner = owner.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let due: Vec<AccountMetricClaim> = {
                let mut stmt = tx.prepare_cached(ACCOUNT_METRICS_DUE)?;
                let rows = stmt.query_map(params![now_ms, i64::from(limit)], |r| {
                    Ok(AccountMetricClaim {
                        account_id: r.get(0)?,
                        last_read_ms: r.get(1)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut claimed = Vec::with_capacity(due.len());
            for claim in due {
                let taken = tx.prepare_cached(TAKE_ACCOUNT_METRICS)?.execute(params![
                    claim.account_id,
                    now_ms,
                    owner,
                    lease_until_ms
                ])?;
                if taken == 1 {
                    claimed.push(claim);
                }
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    pub(super) async fn finish_account_metrics_now(
        &self,
        owner: &str,
        done: &AccountMetricDone,
    ) -> Result<bool> {
        self.finish_reading(
            (FINISH_ACCOUNT_METRICS, ADD_ACCOUNT_READING),
            &done.account_id,
            owner,
            done.reading.clone(),
            done.next_ms,
        )
        .await
    }

    pub(super) async fn account_readings_now(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Vec<AccountReading>> {
        let (workspace_id, account_id) = (workspace_id.to_string(), account_id.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(ACCOUNT_READINGS)?;
            let rows = stmt.query_map(params![workspace_id, account_id], |r| {
                Ok(AccountReading {
                    read_ms: r.get(0)?,
                    counters: r.get(1)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}
