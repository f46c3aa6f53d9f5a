//! The append-only log of every change (the store in docs/ARCHITECTURE.md).

use rusqlite::params;
use serde::Serialize;

use super::{Tx, to_ms};
use crate::error::Result;

impl Tx<'_> {
    /// Appends one operation: `field` of `entity` `id` now has `value` (JSON; `null` for removal).
    pub(crate) fn record(
        &self,
        entity: &str,
        id: &str,
        field: &str,
        value: &impl Serialize,
    ) -> Result<()> {
        let value = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
        let at_ms = match entity {
            "post" => self.stamp_after_replaced(id, field)?,
            _ => to_ms(self.now),
        };
        self.prepare_cached(
            "INSERT INTO oplog (at_ms, device, entity, entity_id, field, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut stmt| stmt.execute(params![at_ms, self.device, entity, id, field, value]))
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// When a local edit of a post's synced `field` is stamped: now, or 1 ms after the
    /// stamp of the value it replaces when that is not earlier (a value pulled in the same
    /// millisecond from a device whose id sorts after ours, or from a clock ahead of
    /// ours). Stamped `now`, the edit would lose last-writer-wins by (time, device) to the
    /// value it replaced, and never be pushed.
    fn stamp_after_replaced(&self, post: &str, field: &str) -> Result<i64> {
        let now = to_ms(self.now);
        if !matches!(
            field,
            "body" | "title" | "labels" | "schedule" | "deleted" | "media"
        ) {
            return Ok(now);
        }
        let replaced: Option<i64> = self
            .prepare_cached(
                "SELECT max(at_ms) FROM oplog
                 WHERE entity = 'post' AND entity_id = ?1 AND field IN (?2, 'created')",
            )
            .and_then(|mut stmt| stmt.query_row(params![post, field], |row| row.get(0)))
            .map_err(|e| self.error(e))?;
        Ok(replaced.map_or(now, |at| now.max(at + 1)))
    }
}

/// One entry of the oplog, for the activity view and tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    pub seq: i64,
    /// When the change was made.
    pub at: chrono::DateTime<chrono::Utc>,
    pub entity: String,
    pub entity_id: String,
    pub field: String,
    pub value: Option<String>,
}

impl super::Store {
    /// The newest `limit` oplog entries after `after_seq`, oldest first: what a view of
    /// recent activity shows, without reading the whole log.
    pub fn latest_operations(&self, after_seq: i64, limit: usize) -> Result<Vec<Operation>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT * FROM (
                     SELECT seq, at_ms, entity, entity_id, field, value FROM oplog
                     WHERE seq > ?1 ORDER BY seq DESC LIMIT ?2
                 ) ORDER BY seq",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![after_seq, limit as i64], read_operation)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// The oplog's last entry (0 when empty): it grows with every change, so a greater one
    /// than before says something was written (background sync watches it).
    pub fn last_oplog_seq(&self) -> Result<i64> {
        self.conn()
            .query_row("SELECT coalesce(max(seq), 0) FROM oplog", [], |row| {
                row.get(0)
            })
            .map_err(|e| self.error(e))
    }

    /// The oplog entries after `after_seq`, oldest first.
    pub fn operations_since(&self, after_seq: i64) -> Result<Vec<Operation>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT seq, at_ms, entity, entity_id, field, value FROM oplog WHERE seq > ?1 ORDER BY seq",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([after_seq], read_operation)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}

/// An operation from the columns `seq, at_ms, entity, entity_id, field, value`.
fn read_operation(row: &rusqlite::Row<'_>) -> rusqlite::Result<Operation> {
    Ok(Operation {
        seq: row.get(0)?,
        at: super::from_ms(row.get(1)?),
        entity: row.get(2)?,
        entity_id: row.get(3)?,
        field: row.get(4)?,
        value: row.get(5)?,
    })
}
