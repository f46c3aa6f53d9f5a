//! What networks said about published posts and accounts (issue 11): raw readings, daily
//! roll-ups, and where collection stands. Local facts about the networks, never in the
//! oplog (like `server_limits`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::states::PUBLISHED;
use super::{Store, from_ms, to_ms};
use crate::analytics::insights::{AccountHistory, Audience, PostEngagement};
use crate::error::{Error, Result};
use crate::platforms::{Counters, PostReading, Published, PushedReactions};

/// A published post on one account whose counters may be read.
#[derive(Debug, Clone)]
pub struct MetricCandidate {
    pub target_id: String,
    pub post_id: String,
    pub account_id: String,
    /// The post's first part, as the network answered it.
    pub first_part: Published,
    pub published: DateTime<Utc>,
    /// When its counters were last read.
    pub last_read: Option<DateTime<Utc>>,
}

/// Where collection stands for one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricAccountState {
    /// When the account's own figures were last read.
    pub account_last_read: Option<DateTime<Utc>>,
    /// Post counters the network gave this account before (reactions left out).
    pub seen: Vec<String>,
    /// Counters the network stopped giving; warned about once.
    pub dropped: Vec<String>,
}

/// One post's counters on one account, for `stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetMetrics {
    pub target_id: String,
    pub post_id: String,
    /// The post's title, else the start of its text.
    pub title: String,
    pub account: String,
    pub network: crate::network::Network,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
    /// The last counters read; `None` when never read (or the network gives none).
    pub counters: Option<Counters>,
    pub last_read: Option<DateTime<Utc>>,
    /// When the network said the post was gone.
    pub deleted: Option<DateTime<Utc>>,
    /// Why the network gives no post counters for this account, when it does not.
    pub not_provided: Option<String>,
}

/// An account's figures as last read: the counters, when, and why the network gives
/// none (when it does not).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountFigures {
    pub counters: Option<Counters>,
    pub last_read: Option<DateTime<Utc>>,
    pub not_provided: Option<String>,
}

/// Where collection stands for one account, as `stats` and `insights` say it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MetricStanding {
    /// When its posts' counters were last read (or found not provided).
    pub posts_last_read: Option<DateTime<Utc>>,
    /// Why the network gives no post counters for it, when it does not.
    pub posts_not_provided: Option<String>,
    /// When its own figures (followers, members) were last read.
    pub account_last_read: Option<DateTime<Utc>>,
    /// Why the network gives no account figures for it, when it does not.
    pub account_not_provided: Option<String>,
    /// Counters the network stopped giving.
    pub dropped: Vec<String>,
}

/// One point of a post's curve: when, and the counters then.
pub type Reading = (DateTime<Utc>, Counters);

fn counters_json(counters: &Counters) -> String {
    serde_json::to_string(counters).unwrap_or_else(|_| "{}".into())
}

pub(super) fn read_counters(text: &str) -> Counters {
    serde_json::from_str(text).unwrap_or_default()
}

fn read_names(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Store {
    /// The published posts (first parts) of live accounts whose counters may be read: not
    /// marked deleted on the network, of a post not deleted here, published at or after
    /// `since`, on `account_id` when given. Which of them are due is the schedule's call.
    pub fn metric_candidates(
        &self,
        account_id: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MetricCandidate>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT t.id, t.post_id, t.account_id, t.parts, t.updated_ms, m.last_ms
                 FROM targets t
                 JOIN accounts a ON a.id = t.account_id AND a.deleted_ms IS NULL
                 JOIN posts p ON p.id = t.post_id AND p.deleted_ms IS NULL
                 LEFT JOIN metric_targets m ON m.target_id = t.id
                 WHERE t.state = '{PUBLISHED}' AND t.parts != '[]' AND m.deleted_ms IS NULL
                   AND (?1 IS NULL OR t.account_id = ?1) AND t.updated_ms >= ?2
                 ORDER BY t.account_id, t.updated_ms"
            ))
            .map_err(|e| self.error(e))?;
        let since = since.map_or(i64::MIN, to_ms);
        let rows = stmt
            .query_map(params![account_id, since], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.error(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(target_id, post_id, account_id, parts, published, last)| {
                // A record that cannot be read names no post to ask about; `status` shows it.
                let parts: Vec<Published> = serde_json::from_str(&parts).ok()?;
                let first_part = parts.into_iter().next()?;
                Some(MetricCandidate {
                    target_id,
                    post_id,
                    account_id,
                    first_part,
                    published: from_ms(published),
                    last_read: last.map(from_ms),
                })
            })
            .collect())
    }

    /// Where collection stands for `account_id` (all empty when it never ran).
    pub fn metric_account_state(&self, account_id: &str) -> Result<MetricAccountState> {
        let row: Option<(Option<i64>, String, String)> = self
            .conn()
            .query_row(
                "SELECT account_last_ms, seen, dropped FROM metric_accounts WHERE account_id = ?1",
                [account_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(row
            .map(|(last, seen, dropped)| MetricAccountState {
                account_last_read: last.map(from_ms),
                seen: read_names(&seen),
                dropped: read_names(&dropped),
            })
            .unwrap_or_default())
    }

    /// Records one collection of an account's posts at `at` (`day` is that moment's date
    /// in the user's zone), in one transaction: a raw reading per counted post, the day's
    /// roll-up replaced by it, the post's last reading; a post the network says is gone is
    /// marked deleted (and not asked again); a pending one is left as it was. `seen` and `dropped` are the account's post
    /// counters after this collection.
    pub fn record_post_readings(
        &mut self,
        account_id: &str,
        at: DateTime<Utc>,
        day: &str,
        readings: &[(String, PostReading)],
        seen: &[String],
        dropped: &[String],
    ) -> Result<()> {
        let at_ms = to_ms(at);
        self.write(|tx| {
            for (target_id, reading) in readings {
                match reading {
                    PostReading::Counted(counters) => {
                        let json = counters_json(counters);
                        tx.execute(
                            "INSERT OR REPLACE INTO metric_snapshots (target_id, at_ms, counters)
                             VALUES (?1, ?2, ?3)",
                            params![target_id, at_ms, json],
                        )
                        .map_err(|e| tx.error(e))?;
                        tx.execute(
                            "INSERT INTO metric_daily (target_id, day, at_ms, counters)
                             VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (target_id, day) DO UPDATE
                                SET at_ms = excluded.at_ms, counters = excluded.counters
                                WHERE excluded.at_ms >= metric_daily.at_ms",
                            params![target_id, day, at_ms, json],
                        )
                        .map_err(|e| tx.error(e))?;
                        tx.execute(
                            "INSERT INTO metric_targets (target_id, account_id, last_ms, counters)
                             VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (target_id) DO UPDATE
                                SET last_ms = excluded.last_ms, counters = excluded.counters",
                            params![target_id, account_id, at_ms, json],
                        )
                        .map_err(|e| tx.error(e))?;
                    }
                    // Nothing to keep: asked again on the next run.
                    PostReading::Pending => {}
                    PostReading::Deleted => {
                        tx.execute(
                            "INSERT INTO metric_targets (target_id, account_id, last_ms, deleted_ms)
                             VALUES (?1, ?2, ?3, ?3)
                             ON CONFLICT (target_id) DO UPDATE
                                SET last_ms = excluded.last_ms, deleted_ms = excluded.deleted_ms",
                            params![target_id, account_id, at_ms],
                        )
                        .map_err(|e| tx.error(e))?;
                    }
                }
            }
            let seen = serde_json::to_string(seen).unwrap_or_else(|_| "[]".into());
            let dropped = serde_json::to_string(dropped).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "INSERT INTO metric_accounts (account_id, posts_last_ms, posts_missing, seen, dropped)
                 VALUES (?1, ?2, NULL, ?3, ?4)
                 ON CONFLICT (account_id) DO UPDATE
                    SET posts_last_ms = excluded.posts_last_ms, posts_missing = NULL,
                        seen = excluded.seen, dropped = excluded.dropped",
                params![account_id, at_ms, seen, dropped],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// Records that the network gives no post counters for `account_id`, and why.
    pub fn record_posts_not_provided(
        &mut self,
        account_id: &str,
        at: DateTime<Utc>,
        why: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO metric_accounts (account_id, posts_last_ms, posts_missing)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id) DO UPDATE
                    SET posts_last_ms = excluded.posts_last_ms, posts_missing = excluded.posts_missing",
                params![account_id, to_ms(at), why],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// Records the account's own figures read at `at` (`Ok`), or why the network gives
    /// none (`Err`): the day's roll-up is replaced by the latest reading.
    pub fn record_account_reading(
        &mut self,
        account_id: &str,
        at: DateTime<Utc>,
        day: &str,
        reading: std::result::Result<&Counters, &str>,
    ) -> Result<()> {
        let at_ms = to_ms(at);
        self.write(|tx| {
            match reading {
                Ok(counters) => {
                    let json = counters_json(counters);
                    tx.execute(
                        "INSERT INTO account_daily (account_id, day, at_ms, counters)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (account_id, day) DO UPDATE
                            SET at_ms = excluded.at_ms, counters = excluded.counters
                            WHERE excluded.at_ms >= account_daily.at_ms",
                        params![account_id, day, at_ms, json],
                    )
                    .map_err(|e| tx.error(e))?;
                    tx.execute(
                        "INSERT INTO metric_accounts (account_id, account_last_ms, counters)
                         VALUES (?1, ?2, ?3)
                         ON CONFLICT (account_id) DO UPDATE
                            SET account_last_ms = excluded.account_last_ms,
                                counters = excluded.counters, account_missing = NULL",
                        params![account_id, at_ms, json],
                    )
                    .map_err(|e| tx.error(e))?;
                }
                Err(why) => {
                    tx.execute(
                        "INSERT INTO metric_accounts (account_id, account_last_ms, account_missing)
                         VALUES (?1, ?2, ?3)
                         ON CONFLICT (account_id) DO UPDATE
                            SET account_last_ms = excluded.account_last_ms,
                                account_missing = excluded.account_missing",
                        params![account_id, at_ms, why],
                    )
                    .map_err(|e| tx.error(e))?;
                }
            }
            Ok(())
        })
    }

    /// Removes raw readings taken before `before` (the daily roll-ups stay); returns how
    /// many went.
    pub fn prune_snapshots(&mut self, before: DateTime<Utc>) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM metric_snapshots WHERE at_ms < ?1",
                [to_ms(before)],
            )
            .map_err(|e| tx.error(e))
        })
    }

    /// The counters of published posts, newest first: of `post_id` only when given, else
    /// of posts published at or after `since` on `account_id` (when given). Posts never
    /// read are included, with no counters.
    pub fn target_metrics(
        &self,
        post_id: Option<&str>,
        account_id: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<TargetMetrics>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT t.id, t.post_id, coalesce(nullif(p.title, ''), p.body), a.name, a.network,
                        t.parts, t.updated_ms, m.counters, m.last_ms, m.deleted_ms, ma.posts_missing
                 FROM targets t
                 JOIN accounts a ON a.id = t.account_id
                 JOIN posts p ON p.id = t.post_id
                 LEFT JOIN metric_targets m ON m.target_id = t.id
                 LEFT JOIN metric_accounts ma ON ma.account_id = t.account_id
                 WHERE t.parts != '[]'
                   AND (t.state = '{PUBLISHED}' OR m.target_id IS NOT NULL)
                   AND (?1 IS NULL OR t.post_id = ?1)
                   AND (?2 IS NULL OR t.account_id = ?2)
                   AND t.updated_ms >= ?3
                 ORDER BY t.updated_ms DESC, t.position"
            ))
            .map_err(|e| self.error(e))?;
        let since = since.map_or(i64::MIN, to_ms);
        let rows = stmt
            .query_map(params![post_id, account_id, since], |row| {
                Ok((
                    (
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                    ),
                    (
                        row.get::<_, String>(5)?,
                        row.get::<_, i64>(6)?,
                        row.get::<_, Option<String>>(7)?,
                        row.get::<_, Option<i64>>(8)?,
                        row.get::<_, Option<i64>>(9)?,
                        row.get::<_, Option<String>>(10)?,
                    ),
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.error(e))?;
        rows.into_iter()
            .map(
                |(
                    (target_id, post_id, title, account, network),
                    (parts, published, counters, last, deleted, missing),
                )| {
                    let network = network.parse().map_err(|_| {
                        Error::Internal(format!("account {account} has an unknown network"))
                    })?;
                    let url = serde_json::from_str::<Vec<Published>>(&parts)
                        .ok()
                        .and_then(|parts| parts.into_iter().next())
                        .and_then(|p| p.url);
                    Ok(TargetMetrics {
                        target_id,
                        post_id,
                        title: title.lines().next().unwrap_or_default().to_string(),
                        account,
                        network,
                        url,
                        published: from_ms(published),
                        counters: counters.as_deref().map(read_counters),
                        last_read: last.map(from_ms),
                        deleted: deleted.map(from_ms),
                        not_provided: missing,
                    })
                },
            )
            .collect()
    }

    /// A target's readings, oldest first: the daily roll-ups of days before the oldest raw
    /// reading kept, then every raw reading.
    pub fn target_curve(&self, target_id: &str) -> Result<Vec<Reading>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT at_ms, counters FROM metric_daily
                 WHERE target_id = ?1
                   AND at_ms < coalesce((SELECT min(at_ms) FROM metric_snapshots WHERE target_id = ?1), 9223372036854775807)
                 UNION ALL
                 SELECT at_ms, counters FROM metric_snapshots WHERE target_id = ?1
                 ORDER BY 1",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([target_id], |row| {
            Ok((
                from_ms(row.get(0)?),
                read_counters(&row.get::<_, String>(1)?),
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// An account's figures: the last read, when, or why the network gives none.
    pub fn account_figures(&self, account_id: &str) -> Result<Option<AccountFigures>> {
        self.conn()
            .query_row(
                "SELECT counters, account_last_ms, account_missing FROM metric_accounts WHERE account_id = ?1",
                [account_id],
                |row| {
                    Ok(AccountFigures {
                        counters: row.get::<_, Option<String>>(0)?.as_deref().map(read_counters),
                        last_read: row.get::<_, Option<i64>>(1)?.map(from_ms),
                        not_provided: row.get::<_, Option<String>>(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Where collection stands for an account, as people are told it: when its posts and
    /// its own figures were last read, why the network gives none of either, and the
    /// counters it stopped giving. All empty when collection never ran for it.
    pub fn metric_standing(&self, account_id: &str) -> Result<MetricStanding> {
        self.conn()
            .query_row(
                "SELECT posts_last_ms, posts_missing, account_last_ms, account_missing, dropped
                 FROM metric_accounts WHERE account_id = ?1",
                [account_id],
                |row| {
                    Ok(MetricStanding {
                        posts_last_read: row.get::<_, Option<i64>>(0)?.map(from_ms),
                        posts_not_provided: row.get(1)?,
                        account_last_read: row.get::<_, Option<i64>>(2)?.map(from_ms),
                        account_not_provided: row.get(3)?,
                        dropped: read_names(&row.get::<_, String>(4)?),
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.error(e))
    }

    /// An account's daily figures, oldest first.
    pub fn account_curve(&self, account_id: &str) -> Result<Vec<Reading>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT at_ms, counters FROM account_daily WHERE account_id = ?1 ORDER BY day",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([account_id], |row| {
            Ok((
                from_ms(row.get(0)?),
                read_counters(&row.get::<_, String>(1)?),
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// The next update to read from `source` and since when it is read (see
    /// [`crate::platforms::UpdateInbox`]); `None` before the first read.
    pub fn update_position(&self, source: &str) -> Result<Option<(i64, DateTime<Utc>)>> {
        self.conn()
            .query_row(
                "SELECT next_offset, since_ms FROM update_sources WHERE source = ?1",
                [source],
                |row| Ok((row.get(0)?, from_ms(row.get(1)?))),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Keeps pushed reaction counts and moves `source` on to `next_offset`, in one
    /// transaction. A message's counts are replaced only by counts as new or newer; the
    /// first call for a source dates its reading from the store's "now".
    pub fn keep_updates(
        &mut self,
        source: &str,
        next_offset: i64,
        reactions: &[PushedReactions],
    ) -> Result<()> {
        let now = to_ms(self.clock().now());
        self.write(|tx| {
            for pushed in reactions {
                tx.execute(
                    "INSERT INTO pushed_reactions (chat, message_id, date_ms, counters)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (chat, message_id) DO UPDATE
                        SET date_ms = excluded.date_ms, counters = excluded.counters
                        WHERE excluded.date_ms >= pushed_reactions.date_ms",
                    params![
                        pushed.chat,
                        pushed.message_id,
                        to_ms(pushed.date),
                        counters_json(&pushed.counters)
                    ],
                )
                .map_err(|e| tx.error(e))?;
            }
            tx.execute(
                "INSERT INTO update_sources (source, next_offset, since_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE
                    SET next_offset = max(update_sources.next_offset, excluded.next_offset)",
                params![source, next_offset, now],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// The latest pushed reaction counts of each `(chat, message_id)`, in order.
    pub fn pushed_reactions(&self, messages: &[(String, i64)]) -> Result<Vec<Option<Counters>>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT counters FROM pushed_reactions WHERE chat = ?1 AND message_id = ?2",
            )
            .map_err(|e| self.error(e))?;
        messages
            .iter()
            .map(|(chat, id)| {
                stmt.query_row(params![chat, id], |row| row.get::<_, String>(0))
                    .optional()
                    .map(|found| found.as_deref().map(read_counters))
                    .map_err(|e| self.error(e))
            })
            .collect()
    }

    /// What insights read about live accounts (`account_id` only, when given; every live
    /// account otherwise, by name, with or without readings): each read post published at
    /// or after `from` with its latest counters, oldest first, and the account's daily
    /// followers or members, all of them (growth reads the day before a period). Two
    /// queries whatever the number of posts: the posts through `metric_targets` (by its
    /// account index when one account is asked for) and the daily figures through
    /// `account_daily`'s key. A read view: no transaction, no oplog.
    pub fn account_histories(
        &self,
        account_id: Option<&str>,
        from: DateTime<Utc>,
    ) -> Result<Vec<AccountHistory>> {
        let only = if account_id.is_some() {
            "m.account_id = ?1"
        } else {
            "?1 IS NULL"
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT m.account_id, t.id, t.post_id,
                        substr(coalesce(nullif(p.title, ''), p.body), 1, 200),
                        t.parts, t.updated_ms, m.counters, m.last_ms
                 FROM metric_targets m
                 JOIN targets t ON t.id = m.target_id
                 JOIN posts p ON p.id = t.post_id
                 WHERE {only} AND m.counters IS NOT NULL AND m.last_ms IS NOT NULL
                   AND t.parts != '[]' AND t.updated_ms >= ?2
                 ORDER BY t.updated_ms, t.id"
            ))
            .map_err(|e| self.error(e))?;
        type PostRow = (String, String, String, String, String, i64, String, i64);
        let posts: Vec<PostRow> = stmt
            .query_map(params![account_id, to_ms(from)], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        let only = if account_id.is_some() {
            "account_id = ?1"
        } else {
            "?1 IS NULL"
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT account_id, at_ms, counters FROM account_daily WHERE {only}
                 ORDER BY account_id, day"
            ))
            .map_err(|e| self.error(e))?;
        let daily: Vec<(String, i64, String)> = stmt
            .query_map(params![account_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        let accounts: Vec<crate::model::Account> = self
            .accounts()?
            .into_iter()
            .filter(|a| account_id.is_none_or(|id| id == a.id))
            .collect();
        let index: std::collections::HashMap<&str, usize> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let mut histories: Vec<AccountHistory> = accounts
            .iter()
            .map(|a| AccountHistory {
                account: a.name.clone(),
                network: a.network,
                posts: Vec::new(),
                audience: Audience::from_readings(&[]),
            })
            .collect();
        for (account, target_id, post_id, title, parts, published, counters, last) in posts {
            // A removed account's posts are left out (its name can no longer be asked for).
            let Some(&i) = index.get(account.as_str()) else {
                continue;
            };
            let counters = read_counters(&counters);
            let url = serde_json::from_str::<Vec<Published>>(&parts)
                .ok()
                .and_then(|parts| parts.into_iter().next())
                .and_then(|p| p.url);
            let history = &mut histories[i];
            history.posts.push(PostEngagement {
                target_id,
                post_id,
                account: history.account.clone(),
                network: history.network,
                title: title.lines().next().unwrap_or_default().to_string(),
                url,
                published: from_ms(published),
                engagement: crate::analytics::engagement(&counters),
                counters,
                last_read: from_ms(last),
            });
        }
        let mut readings: Vec<Vec<Reading>> = vec![Vec::new(); histories.len()];
        for (account, at, counters) in daily {
            if let Some(&i) = index.get(account.as_str()) {
                readings[i].push((from_ms(at), read_counters(&counters)));
            }
        }
        for (history, readings) in histories.iter_mut().zip(readings) {
            history.audience = Audience::from_readings(&readings);
        }
        Ok(histories)
    }

    /// How many raw readings and daily roll-ups are kept (posts, accounts).
    pub fn metric_rows(&self) -> Result<(i64, i64, i64)> {
        self.conn()
            .query_row(
                "SELECT (SELECT count(*) FROM metric_snapshots), (SELECT count(*) FROM metric_daily),
                        (SELECT count(*) FROM account_daily)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::Schedule;
    use crate::network::{AccountSettings, Network};
    use crate::store::{NewPost, NewTarget};

    fn counters(likes: u64) -> Counters {
        [("likes".to_string(), likes)].into_iter().collect()
    }

    /// A store with one post published to one Mastodon account at `published`.
    fn published(published: DateTime<Utc>) -> (tempfile::TempDir, Store, String, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("p.db")).expect("open");
        let settings = AccountSettings {
            base_url: Some("https://example.org".into()),
            handle: None,
            settings: serde_json::json!({}),
        };
        let account = store
            .add_account("masto", Network::Mastodon, &settings, "env:A")
            .expect("account");
        let post = store
            .create_post(&NewPost {
                body: "Hello".into(),
                title: None,
                labels: vec![],
                media: vec![],
                tz: "Europe/Berlin".into(),
                schedule: Schedule::None,
                thread: Default::default(),
                targets: vec![NewTarget {
                    account_id: account.id.clone(),
                    due: None,
                }],
            })
            .expect("post");
        store
            .conn()
            .execute(
                &format!(
                    "UPDATE targets SET state = '{PUBLISHED}', updated_ms = ?1,
                        parts = '[{{\"id\":\"109\",\"url\":\"https://example.org/@me/109\"}}]'"
                ),
                [to_ms(published)],
            )
            .expect("published");
        (dir, store, account.id, post)
    }

    #[test]
    fn the_days_rollup_keeps_the_latest_reading_and_outlives_the_raw_ones() {
        let at = |h: u32, m: u32| {
            Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0)
                .single()
                .expect("time")
        };
        let (_dir, mut store, account, post) = published(at(8, 0));
        let candidates = store.metric_candidates(Some(&account), None).expect("read");
        assert_eq!(candidates.len(), 1);
        assert_eq!(candidates[0].first_part.id, "109");
        assert_eq!(candidates[0].published, at(8, 0));
        let target = candidates[0].target_id.clone();
        let record = |store: &mut Store, when, likes| {
            let readings = [(target.clone(), PostReading::Counted(counters(likes)))];
            store
                .record_post_readings(&account, when, "2026-12-01", &readings, &[], &[])
                .expect("record");
        };
        record(&mut store, at(10, 0), 5);
        record(&mut store, at(11, 0), 9);
        // A reading that arrives late (an older time) does not replace the day's latest.
        record(&mut store, at(9, 0), 2);
        let daily: String = store
            .conn()
            .query_row("SELECT counters FROM metric_daily", [], |r| r.get(0))
            .expect("daily");
        assert_eq!(read_counters(&daily), counters(9));
        let shown = store
            .target_metrics(Some(&post), None, None)
            .expect("shown");
        assert_eq!(
            shown[0].counters,
            Some(counters(2)),
            "the last one recorded"
        );
        assert_eq!(shown[0].url.as_deref(), Some("https://example.org/@me/109"));
        // Raw readings before 10:30 go; the roll-up stays and starts the curve.
        assert_eq!(store.prune_snapshots(at(10, 30)).expect("prune"), 2);
        let curve: Vec<DateTime<Utc>> = store
            .target_curve(&target)
            .expect("curve")
            .into_iter()
            .map(|(when, _)| when)
            .collect();
        assert_eq!(curve, [at(11, 0)]);
        assert_eq!(store.metric_rows().expect("rows"), (1, 1, 0));
        // Deleted on the network: no longer a candidate.
        let gone = [(target.clone(), PostReading::Deleted)];
        store
            .record_post_readings(&account, at(12, 0), "2026-12-01", &gone, &[], &[])
            .expect("record");
        assert!(
            store
                .metric_candidates(None, None)
                .expect("read")
                .is_empty()
        );
    }

    #[test]
    fn account_histories_bring_each_accounts_read_posts_and_audience() {
        let at = |d: u32, h: u32| {
            Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0)
                .single()
                .expect("time")
        };
        let (_dir, mut store, account, post) = published(at(1, 8));
        let target = store.metric_candidates(None, None).expect("read")[0]
            .target_id
            .clone();
        // Never read: no history of it yet.
        let histories = store.account_histories(None, at(1, 0)).expect("histories");
        assert_eq!(histories.len(), 1);
        assert!(histories[0].posts.is_empty());
        let readings = [(target, PostReading::Counted(counters(4)))];
        store
            .record_post_readings(&account, at(2, 8), "2026-12-02", &readings, &[], &[])
            .expect("record");
        let followers = |n| -> Counters { [("followers".to_string(), n)].into_iter().collect() };
        for (day, n) in [(1, 10), (2, 12)] {
            store
                .record_account_reading(
                    &account,
                    at(day, 9),
                    &format!("2026-12-{day:02}"),
                    Ok(&followers(n)),
                )
                .expect("figures");
        }
        let histories = store
            .account_histories(Some(&account), at(1, 0))
            .expect("histories");
        assert_eq!(histories.len(), 1);
        let history = &histories[0];
        assert_eq!(history.account, "masto");
        assert_eq!(history.posts.len(), 1);
        assert_eq!(history.posts[0].post_id, post);
        assert_eq!(history.posts[0].engagement, 4);
        assert_eq!(history.posts[0].published, at(1, 8));
        assert_eq!(history.posts[0].last_read, at(2, 8));
        assert_eq!(
            history.posts[0].url.as_deref(),
            Some("https://example.org/@me/109")
        );
        assert_eq!(history.audience.counter, "followers");
        assert_eq!(history.audience.points, [(at(1, 9), 10), (at(2, 9), 12)]);
        // Published before `from`: left out; the audience stays whole.
        let later = store.account_histories(None, at(1, 9)).expect("histories");
        assert!(later[0].posts.is_empty());
        assert_eq!(later[0].audience.points.len(), 2);
    }
}
