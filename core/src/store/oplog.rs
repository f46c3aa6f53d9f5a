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
        self.prepare_cached(
            "INSERT INTO oplog (at_ms, device, entity, entity_id, field, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                to_ms(self.now),
                self.device,
                entity,
                id,
                field,
                value
            ])
        })
        .map_err(|e| self.error(e))?;
        Ok(())
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
