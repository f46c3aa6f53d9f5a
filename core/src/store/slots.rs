//! Queue slots: each account's weekly posting times (Buffer's queue).

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;

/// An account's queue: weekly rules (as the user wrote them, canonicalised) in a zone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Slots {
    pub account: String,
    pub rules: String,
    pub tz: String,
}

impl Store {
    /// Sets (replaces) an account's queue slots.
    pub fn set_slots(&mut self, account: &str, rules: &str, tz: &str) -> Result<Slots> {
        self.write(|tx| {
            let account = tx.account(account)?;
            tx.execute(
                "INSERT INTO slots (account_id, rules, tz, updated_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id) DO UPDATE SET rules = ?2, tz = ?3, updated_ms = ?4",
                params![account.id, rules, tz, super::to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.record(
                "slots",
                &account.id,
                "rules",
                &serde_json::json!({"rules": rules, "tz": tz}),
            )?;
            Ok(Slots {
                account: account.name,
                rules: rules.into(),
                tz: tz.into(),
            })
        })
    }

    /// Removes an account's queue slots; returns whether it had any.
    pub fn clear_slots(&mut self, account: &str) -> Result<bool> {
        self.write(|tx| {
            let account = tx.account(account)?;
            let removed = tx
                .execute("DELETE FROM slots WHERE account_id = ?1", [&account.id])
                .map_err(|e| tx.error(e))?;
            tx.record("slots", &account.id, "rules", &serde_json::Value::Null)?;
            Ok(removed > 0)
        })
    }

    /// The queue slots of one account, if it has any.
    pub fn slots(&self, account: &str) -> Result<Option<Slots>> {
        let account = self.account(account)?;
        self.conn()
            .query_row(
                "SELECT rules, tz FROM slots WHERE account_id = ?1",
                [&account.id],
                |row| {
                    Ok(Slots {
                        account: account.name.clone(),
                        rules: row.get(0)?,
                        tz: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Every account's queue slots, by account name.
    pub fn all_slots(&self) -> Result<Vec<Slots>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT a.name, s.rules, s.tz FROM slots s JOIN accounts a ON a.id = s.account_id
                 WHERE a.deleted_ms IS NULL ORDER BY a.name",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |row| {
            Ok(Slots {
                account: row.get(0)?,
                rules: row.get(1)?,
                tz: row.get(2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }
}
