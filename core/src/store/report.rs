//! What a report over a period reads (`analytics::report`), and the streamed exports of the
//! raw readings and the daily roll-ups (`postctl stats export`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::analytics::read_counters;
use super::states::PUBLISHED;
use super::{Store, from_ms, to_ms};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::platforms::{Counters, Published};

/// A post published on one account in a period, with its counters as they stood at the
/// end of the period (the last reading before it).
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodPost {
    pub target_id: String,
    pub post_id: String,
    /// The post's title, else the first line of its text.
    pub title: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
    /// The last counters read before the end of the period; `None` when none was.
    pub counters: Option<Counters>,
    /// When those counters were read.
    pub read: Option<DateTime<Utc>>,
    /// When the network said the post was gone.
    pub deleted: Option<DateTime<Utc>>,
}

/// Where collection stands for one account: when its posts and its own figures were last
/// read, what the network does not provide, and the counters it stopped giving.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountCollection {
    pub posts_last_read: Option<DateTime<Utc>>,
    pub posts_not_provided: Option<String>,
    pub account_last_read: Option<DateTime<Utc>>,
    pub account_not_provided: Option<String>,
    pub dropped: Vec<String>,
}

/// One row of an export: a reading of a post's counters (`post_id` set) or of an
/// account's figures (`post_id` `None`); `day` is set for daily roll-ups.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub at: DateTime<Utc>,
    pub day: Option<String>,
    pub account: String,
    pub network: Network,
    pub post_id: Option<String>,
    pub counters: Counters,
}

/// An export row as SQLite gives it: time, day, account, network, post, counters.
type RawExportRow = (i64, Option<String>, String, String, Option<String>, String);

/// Which readings `postctl stats export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Every raw reading of a post's counters still kept.
    Snapshots,
    /// Each post's last reading of each day.
    PostDays,
    /// Each account's last reading of its figures each day.
    AccountDays,
}

impl Store {
    /// The posts published on `account_id` at or after `from` and before `to`, oldest
    /// first, each with its last reading before `to` (from the daily roll-ups, which keep
    /// the last reading of every day forever, so a past period reads the same however long
    /// ago it was). As `target_metrics`, a post is one published target with a part on the
    /// network.
    pub fn period_posts(
        &self,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PeriodPost>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT t.id, t.post_id, coalesce(nullif(p.title, ''), p.body), t.parts, t.updated_ms,
                        d.at_ms, d.counters, m.deleted_ms
                 FROM targets t
                 JOIN posts p ON p.id = t.post_id
                 LEFT JOIN metric_targets m ON m.target_id = t.id
                 LEFT JOIN metric_daily d ON d.target_id = t.id AND d.day = (
                     SELECT max(day) FROM metric_daily WHERE target_id = t.id AND at_ms < ?3)
                 WHERE t.account_id = ?1 AND t.parts != '[]'
                   AND (t.state = '{PUBLISHED}' OR m.target_id IS NOT NULL)
                   AND t.updated_ms >= ?2 AND t.updated_ms < ?3
                 ORDER BY t.updated_ms, t.position"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![account_id, to_ms(from), to_ms(to)], |row| {
            let parts: String = row.get(3)?;
            let title: String = row.get(2)?;
            Ok(PeriodPost {
                target_id: row.get(0)?,
                post_id: row.get(1)?,
                title: title.lines().next().unwrap_or_default().to_string(),
                url: serde_json::from_str::<Vec<Published>>(&parts)
                    .ok()
                    .and_then(|parts| parts.into_iter().next())
                    .and_then(|p| p.url),
                published: from_ms(row.get(4)?),
                read: row.get::<_, Option<i64>>(5)?.map(from_ms),
                counters: row
                    .get::<_, Option<String>>(6)?
                    .as_deref()
                    .map(read_counters),
                deleted: row
                    .get::<_, Option<i64>>(7)?
                    .map(from_ms)
                    .filter(|gone| *gone < to),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// An account's daily figures read at or after `from` and before `to`, oldest first,
    /// preceded by the last one read before `from` when there is one (what the period
    /// started from).
    pub fn account_days(
        &self,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Option<super::Reading>, Vec<super::Reading>)> {
        let reading = |row: &rusqlite::Row| -> rusqlite::Result<super::Reading> {
            Ok((
                from_ms(row.get(0)?),
                read_counters(&row.get::<_, String>(1)?),
            ))
        };
        let before = self
            .conn()
            .prepare_cached(
                "SELECT at_ms, counters FROM account_daily
                 WHERE account_id = ?1 AND at_ms < ?2 ORDER BY day DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![account_id, to_ms(from)], reading)
                    .optional()
            })
            .map_err(|e| self.error(e))?;
        let within = self
            .conn()
            .prepare_cached(
                "SELECT at_ms, counters FROM account_daily
                 WHERE account_id = ?1 AND at_ms >= ?2 AND at_ms < ?3 ORDER BY day",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![account_id, to_ms(from), to_ms(to)], reading)?
                    .collect()
            })
            .map_err(|e| self.error(e))?;
        Ok((before, within))
    }

    /// Where collection stands for `account_id` (all empty when it never ran).
    pub fn account_collection(&self, account_id: &str) -> Result<AccountCollection> {
        self.conn()
            .query_row(
                "SELECT posts_last_ms, posts_missing, account_last_ms, account_missing, dropped
                 FROM metric_accounts WHERE account_id = ?1",
                [account_id],
                |row| {
                    Ok(AccountCollection {
                        posts_last_read: row.get::<_, Option<i64>>(0)?.map(from_ms),
                        posts_not_provided: row.get(1)?,
                        account_last_read: row.get::<_, Option<i64>>(2)?.map(from_ms),
                        account_not_provided: row.get(3)?,
                        dropped: serde_json::from_str(&row.get::<_, String>(4)?)
                            .unwrap_or_default(),
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.error(e))
    }

    /// Hands `each` the readings of `kind`, on `account_id` when given, oldest first, one
    /// row at a time as SQLite reads them: memory stays flat however long the history.
    /// An error from `each` stops the reading and is returned.
    pub fn each_export_row(
        &self,
        kind: ExportKind,
        account_id: Option<&str>,
        mut each: impl FnMut(ExportRow) -> Result<()>,
    ) -> Result<()> {
        let sql = match kind {
            ExportKind::Snapshots => {
                "SELECT s.at_ms, NULL, a.name, a.network, t.post_id, s.counters
                 FROM metric_snapshots s
                 JOIN targets t ON t.id = s.target_id
                 JOIN accounts a ON a.id = t.account_id
                 WHERE ?1 IS NULL OR t.account_id = ?1
                 ORDER BY s.at_ms, a.name, t.post_id"
            }
            ExportKind::PostDays => {
                "SELECT d.at_ms, d.day, a.name, a.network, t.post_id, d.counters
                 FROM metric_daily d
                 JOIN targets t ON t.id = d.target_id
                 JOIN accounts a ON a.id = t.account_id
                 WHERE ?1 IS NULL OR t.account_id = ?1
                 ORDER BY d.day, a.name, t.post_id"
            }
            ExportKind::AccountDays => {
                "SELECT d.at_ms, d.day, a.name, a.network, NULL, d.counters
                 FROM account_daily d
                 JOIN accounts a ON a.id = d.account_id
                 WHERE ?1 IS NULL OR d.account_id = ?1
                 ORDER BY d.day, a.name"
            }
        };
        let mut stmt = self.conn().prepare(sql).map_err(|e| self.error(e))?;
        let mut rows = stmt.query([account_id]).map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let read = || -> rusqlite::Result<RawExportRow> {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            };
            let (at, day, account, network, post_id, counters) =
                read().map_err(|e| self.error(e))?;
            let network = network.parse().map_err(|_| {
                Error::Internal(format!("account {account} has an unknown network"))
            })?;
            each(ExportRow {
                at: from_ms(at),
                day,
                account,
                network,
                post_id,
                counters: read_counters(&counters),
            })?;
        }
        Ok(())
    }
}
