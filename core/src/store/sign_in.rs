//! What the store knows of OAuth accounts: which need signing in again, and who is
//! refreshing an account's tokens right now.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, states, to_ms};
use crate::error::Result;

impl Store {
    /// Takes the account's refresh lock for `holder` until `until`, unless another holder's
    /// lock is still good at `now`. True when `holder` has it.
    ///
    /// Consistency: one IMMEDIATE transaction (a conditional upsert), so of any number of
    /// processes asking at once exactly one gets a lock that is free or expired. The lease
    /// must outlast the refresh request; a holder that died frees it by expiring.
    pub fn take_sign_in_lock(
        &mut self,
        account_id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|tx| {
            let changed = tx
                .execute(
                    "INSERT INTO sign_in_locks (account_id, holder, until_ms) VALUES (?1, ?2, ?4)
                     ON CONFLICT (account_id) DO UPDATE SET holder = excluded.holder,
                         until_ms = excluded.until_ms
                     WHERE sign_in_locks.until_ms <= ?3 OR sign_in_locks.holder = excluded.holder",
                    params![account_id, holder, to_ms(now), to_ms(until)],
                )
                .map_err(|e| tx.error(e))?;
            Ok(changed == 1)
        })
    }

    /// Gives the lock back, if `holder` still has it.
    pub fn release_sign_in_lock(&mut self, account_id: &str, holder: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sign_in_locks WHERE account_id = ?1 AND holder = ?2",
                params![account_id, holder],
            )
            .map_err(|e| tx.error(e))?;
            Ok(())
        })
    }

    /// Notes that the account's tokens were refused and why: its posts are held (not
    /// claimed, not marked missed) until [`Store::signed_in_again`]. True when this is news
    /// (the account was signed in until now), for telling the user once.
    pub fn mark_needs_sign_in(&mut self, account_id: &str, why: &str) -> Result<bool> {
        self.write(|tx| {
            let changed = tx
                .execute(
                    "UPDATE accounts SET needs_sign_in = ?2
                     WHERE id = ?1 AND needs_sign_in IS NULL",
                    params![account_id, why],
                )
                .map_err(|e| tx.error(e))?;
            if changed == 1 {
                tx.record("account", account_id, "needs_sign_in", &why)?;
            }
            Ok(changed == 1)
        })
    }

    /// The account signed in again: its held posts go out, the overdue ones now (they
    /// waited for the user, not for postctl being off, so they are not `missed`).
    /// Returns how many targets were held.
    pub fn signed_in_again(&mut self, account_id: &str) -> Result<usize> {
        self.write(|tx| {
            let was_held = tx
                .execute(
                    "UPDATE accounts SET needs_sign_in = NULL
                     WHERE id = ?1 AND needs_sign_in IS NOT NULL",
                    [account_id],
                )
                .map_err(|e| tx.error(e))?;
            if was_held == 0 {
                return Ok(0);
            }
            let now = to_ms(tx.now);
            let overdue = tx
                .execute(
                    &format!(
                        "UPDATE targets SET due_ms = ?2, updated_ms = ?2
                         WHERE account_id = ?1 AND state = '{scheduled}' AND due_ms < ?2",
                        scheduled = states::SCHEDULED
                    ),
                    params![account_id, now],
                )
                .map_err(|e| tx.error(e))?;
            let retrying = tx
                .execute(
                    &format!(
                        "UPDATE targets SET next_attempt_ms = ?2, updated_ms = ?2
                         WHERE account_id = ?1 AND state = '{waiting}'",
                        waiting = states::WAITING_RETRY
                    ),
                    params![account_id, now],
                )
                .map_err(|e| tx.error(e))?;
            tx.record(
                "account",
                account_id,
                "needs_sign_in",
                &serde_json::Value::Null,
            )?;
            Ok(overdue + retrying)
        })
    }

    /// Why each account that needs signing in again does, by account id.
    pub fn accounts_needing_sign_in(&self) -> Result<HashMap<String, String>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, needs_sign_in FROM accounts
                 WHERE needs_sign_in IS NOT NULL AND deleted_ms IS NULL",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    fn store_at(path: &std::path::Path) -> Store {
        Store::open(path).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn of_processes_asking_at_once_exactly_one_gets_the_lock() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("postctl.db");
        drop(store_at(&path));
        let now = Utc::now();
        let until = now + chrono::Duration::seconds(60);
        let barrier = Arc::new(Barrier::new(8));
        let takers: Vec<_> = (0..8)
            .map(|n| {
                let path = path.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let mut store = store_at(&path);
                    barrier.wait();
                    store
                        .take_sign_in_lock("acc", &format!("holder-{n}"), now, until)
                        .unwrap_or_else(|e| panic!("{e}"))
                })
            })
            .collect();
        let won = takers
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| panic!("a taker panicked")))
            .filter(|&took| took)
            .count();
        assert_eq!(won, 1);
    }

    #[test]
    fn a_lock_is_free_again_when_released_or_expired() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut store = store_at(&dir.path().join("postctl.db"));
        let now = Utc::now();
        let minute = chrono::Duration::seconds(60);
        let take = |store: &mut Store, who: &str, at: DateTime<Utc>| {
            store
                .take_sign_in_lock("acc", who, at, at + minute)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert!(take(&mut store, "a", now));
        assert!(!take(&mut store, "b", now));
        assert!(take(&mut store, "a", now), "the holder may renew it");
        assert!(take(&mut store, "b", now + minute), "expired");
        store
            .release_sign_in_lock("acc", "a")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !take(&mut store, "c", now + minute),
            "only the holder releases"
        );
        store
            .release_sign_in_lock("acc", "b")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(take(&mut store, "c", now + minute));
    }
}
