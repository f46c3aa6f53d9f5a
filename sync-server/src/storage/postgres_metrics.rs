//! Analytics on PostgreSQL ([`Storage::claim_metrics`](super::Storage::claim_metrics) and
//! its neighbours): due targets are locked `FOR UPDATE SKIP LOCKED`, so concurrent
//! claimers pass each other by, and the conditional upsert takes each one once.

use super::postgres::Cached;
use super::postgres::{PgStorage, db_error};
use super::sql::{
    ACCOUNT_METRICS_DUE, ACCOUNT_READINGS, ADD_ACCOUNT_READING, ADD_READING,
    FINISH_ACCOUNT_METRICS, FINISH_METRICS, POST_READINGS, TAKE_ACCOUNT_METRICS, TAKE_METRICS,
    metrics_due_sql, pg,
};
use super::{
    AccountMetricClaim, AccountMetricDone, AccountReading, MetricClaim, MetricDone, MetricReading,
    Result,
};

impl PgStorage {
    pub(super) async fn claim_metrics_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MetricClaim>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let rows = tx
            .rows(
                &pg(&format!(
                    "{} FOR UPDATE OF t SKIP LOCKED",
                    metrics_due_sql()
                )),
                &[&now_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let take = tx.prepare(&pg(TAKE_METRICS)).await.map_err(db_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            let claim = MetricClaim {
                target_id: r.get(0),
                account_id: r.get(1),
                post_id: r.get(2),
                parts: r.get(3),
                published_ms: r.get(4),
                last_read_ms: r.get(5),
            };
            let taken = tx
                .execute(
                    &take,
                    &[
                        &claim.target_id,
                        &claim.published_ms,
                        &now_ms,
                        &owner,
                        &lease_until_ms,
                    ],
                )
                .await
                .map_err(db_error)?;
            if taken == 1 {
                claimed.push(claim);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(claimed)
    }

    pub(super) async fn finish_metrics_now(&self, owner: &str, done: &MetricDone) -> Result<bool> {
        self.finish_reading(
            (FINISH_METRICS, ADD_READING),
            &done.target_id,
            owner,
            done.reading.as_ref(),
            done.next_ms,
        )
        .await
    }

    /// Ends `owner`'s lease on a target's or an account's reading (`sql`: the finish and
    /// the reading's insert), keeping `reading` if any, in one transaction; false when the
    /// lease is no longer `owner`'s.
    async fn finish_reading(
        &self,
        sql: (&str, &str),
        id: &str,
        owner: &str,
        reading: Option<&(i64, String)>,
        next_ms: Option<i64>,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let read_ms = reading.map(|(at, _)| *at);
        let n = tx
            .exec(&pg(sql.0), &[&id, &owner, &read_ms, &next_ms])
            .await
            .map_err(db_error)?;
        if n != 1 {
            return Ok(false);
        }
        if let Some((at, counters)) = reading {
            tx.exec(&pg(sql.1), &[&id, at, counters])
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    pub(super) async fn post_readings_now(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<MetricReading>> {
        let client = self.client().await?;
        let rows = client
            .rows(&pg(POST_READINGS), &[&workspace_id, &post_id])
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| MetricReading {
                target_id: r.get(0),
                read_ms: r.get(1),
                counters: r.get(2),
            })
            .collect())
    }

    pub(super) async fn claim_account_metrics_now(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<AccountMetricClaim>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let rows = tx
            .rows(
                &pg(&format!(
                    "{ACCOUNT_METRICS_DUE} FOR UPDATE OF a SKIP LOCKED"
                )),
                &[&now_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let take = tx
            .prepare(&pg(TAKE_ACCOUNT_METRICS))
            .await
            .map_err(db_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            let claim = AccountMetricClaim {
                account_id: r.get(0),
                last_read_ms: r.get(1),
            };
            let taken = tx
                .execute(
                    &take,
                    &[&claim.account_id, &now_ms, &owner, &lease_until_ms],
                )
                .await
                .map_err(db_error)?;
            if taken == 1 {
                claimed.push(claim);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(claimed)
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
            done.reading.as_ref(),
            done.next_ms,
        )
        .await
    }

    pub(super) async fn account_readings_now(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Vec<AccountReading>> {
        let client = self.client().await?;
        let rows = client
            .rows(&pg(ACCOUNT_READINGS), &[&workspace_id, &account_id])
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| AccountReading {
                read_ms: r.get(0),
                counters: r.get(1),
            })
            .collect())
    }
}
