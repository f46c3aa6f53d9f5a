//! Accounts and groups of accounts.

use rusqlite::{OptionalExtension, Row, params};

use super::{Store, Tx, from_ms, new_id, states, to_ms};
use crate::error::{Error, Result};
use crate::model::Account;
use crate::network::{AccountSettings, Network};

const ACCOUNT_COLUMNS: &str =
    "id, name, network, base_url, handle, settings, secret_ref, created_ms";

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    let network: String = row.get(2)?;
    let settings: String = row.get(5)?;
    Ok(Account {
        id: row.get(0)?,
        name: row.get(1)?,
        network: network.parse().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown network {network:?}").into(),
            )
        })?,
        base_url: row.get(3)?,
        handle: row.get(4)?,
        settings: serde_json::from_str(&settings).unwrap_or(serde_json::Value::Null),
        secret_ref: row.get(6)?,
        created: from_ms(row.get(7)?),
    })
}

/// What a front end resolved `--to` into: accounts, in the order the user named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub members: Vec<String>,
}

impl Store {
    /// Adds an account. The name must be free among live accounts and groups.
    pub fn add_account(
        &mut self,
        name: &str,
        network: Network,
        settings: &AccountSettings,
        secret_ref: &str,
    ) -> Result<Account> {
        let id = new_id();
        self.write(|tx| {
            if tx.group_exists(name)? {
                return Err(Error::Invalid(format!(
                    "{name:?} is already a group name; groups and accounts share one namespace so `--to` is never ambiguous, pick another --name"
                )));
            }
            let inserted = tx.execute(
                "INSERT INTO accounts (id, name, network, base_url, handle, settings, secret_ref, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    name,
                    network.name(),
                    settings.base_url,
                    settings.handle,
                    settings.settings.to_string(),
                    secret_ref,
                    to_ms(tx.now)
                ],
            );
            match inserted {
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    return Err(Error::DuplicateAccount(name.to_string()));
                }
                other => other.map_err(|e| tx.error(e))?,
            };
            tx.record("account", &id, "created", &serde_json::json!({
                "name": name, "network": network.name(), "base_url": settings.base_url,
                "handle": settings.handle, "settings": settings.settings,
            }))?;
            tx.account(name)
        })
    }

    /// Live accounts, by name.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE deleted_ms IS NULL ORDER BY name"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([], account_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// The live account called `name`.
    pub fn account(&self, name: &str) -> Result<Account> {
        find_account(self.conn(), name)
            .map_err(|e| self.error(e))?
            .ok_or_else(|| unknown_account(name))
    }

    /// Refuses, without changing anything, what `remove_account` would refuse.
    pub fn check_account_removable(&self, name: &str, cancel_scheduled: bool) -> Result<()> {
        let account = self.account(name)?;
        let pending = pending_targets(self.conn(), &account.id).map_err(|e| self.error(e))?;
        refuse_pending(name, pending, cancel_scheduled)
    }

    /// Removes an account. Its scheduled targets are cancelled when `cancel_scheduled`;
    /// otherwise an account with scheduled targets is refused. Returns how many were cancelled.
    pub fn remove_account(&mut self, name: &str, cancel_scheduled: bool) -> Result<usize> {
        self.write(|tx| {
            let account = tx.account(name)?;
            let pending = pending_targets(tx, &account.id).map_err(|e| tx.error(e))?;
            refuse_pending(name, pending, cancel_scheduled)?;
            let cancelled = tx
                .execute(
                    &format!(
                        "UPDATE targets SET state = '{cancelled}', updated_ms = ?2
                         WHERE account_id = ?1 AND state IN {editable}",
                        cancelled = states::CANCELLED,
                        editable = *states::EDITABLE
                    ),
                    params![account.id, to_ms(tx.now)],
                )
                .map_err(|e| tx.error(e))?;
            tx.execute(
                "DELETE FROM group_members WHERE account_id = ?1",
                [&account.id],
            )
            .map_err(|e| tx.error(e))?;
            tx.execute("DELETE FROM slots WHERE account_id = ?1", [&account.id])
                .map_err(|e| tx.error(e))?;
            tx.execute(
                "UPDATE accounts SET deleted_ms = ?2 WHERE id = ?1",
                params![account.id, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.record("account", &account.id, "deleted", &true)?;
            Ok(cancelled)
        })
    }

    /// Creates or replaces a group with exactly `members`, in that order.
    pub fn set_group(&mut self, name: &str, members: &[String]) -> Result<Group> {
        crate::network::validate_account_name(name)?;
        self.write(|tx| {
            if find_account(tx, name).map_err(|e| tx.error(e))?.is_some() {
                return Err(Error::GroupNameTaken(name.to_string()));
            }
            let mut ids = Vec::new();
            for member in members {
                let account = tx.account(member)?;
                if !ids.contains(&account.id) {
                    ids.push(account.id);
                }
            }
            tx.execute(
                "INSERT INTO groups (name, created_ms) VALUES (?1, ?2)
                 ON CONFLICT (name) DO NOTHING",
                params![name, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.execute("DELETE FROM group_members WHERE group_name = ?1", [name])
                .map_err(|e| tx.error(e))?;
            for (position, id) in ids.iter().enumerate() {
                tx.execute(
                    "INSERT INTO group_members (group_name, account_id, position) VALUES (?1, ?2, ?3)",
                    params![name, id, position as i64],
                )
                .map_err(|e| tx.error(e))?;
            }
            tx.record("group", name, "members", &members)?;
            tx.group(name)
        })
    }

    pub fn groups(&self) -> Result<Vec<Group>> {
        let names: Vec<String> = {
            let mut stmt = self
                .conn()
                .prepare_cached("SELECT name FROM groups ORDER BY name")
                .map_err(|e| self.error(e))?;
            stmt.query_map([], |row| row.get(0))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.error(e))?
        };
        names
            .iter()
            .map(|name| group_members(self.conn(), name).map_err(|e| self.error(e)))
            .map(|members| members.map(|(name, members)| Group { name, members }))
            .collect()
    }

    pub fn remove_group(&mut self, name: &str) -> Result<()> {
        self.write(|tx| {
            let removed = tx
                .execute("DELETE FROM groups WHERE name = ?1", [name])
                .map_err(|e| tx.error(e))?;
            if removed == 0 {
                return Err(unknown_group(name));
            }
            tx.record("group", name, "deleted", &true)
        })
    }

    /// Expands the names given to `--to` (accounts and groups) into accounts, first mention
    /// first, each once.
    pub fn resolve_destinations(&self, names: &[String]) -> Result<Vec<Account>> {
        let mut accounts: Vec<Account> = Vec::new();
        let mut push = |account: Account| {
            if !accounts.iter().any(|a| a.id == account.id) {
                accounts.push(account);
            }
        };
        for name in names {
            if let Some(account) = find_account(self.conn(), name).map_err(|e| self.error(e))? {
                push(account);
                continue;
            }
            let (_, members) = group_members(self.conn(), name).map_err(|e| self.error(e))?;
            let is_group: bool = self
                .conn()
                .query_row(
                    "SELECT count(*) FROM groups WHERE name = ?1",
                    [name],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(|e| self.error(e))?
                > 0;
            if !is_group {
                return Err(Error::NotFound {
                    what: "account or group",
                    name: name.clone(),
                    hint: "see `postctl accounts list` and `postctl group list`, or add one with `postctl accounts add`".into(),
                });
            }
            for member in members {
                push(self.account(&member)?);
            }
        }
        Ok(accounts)
    }
}

impl Store {
    /// An account by id, removed or not (targets keep pointing at removed accounts).
    pub fn account_by_id(&self, id: &str) -> Result<Account> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([id], account_from_row))
            .map_err(|e| self.error(e))
    }
}

impl Tx<'_> {
    /// An account by id, removed or not (targets keep pointing at removed accounts).
    pub(crate) fn account_by_id(&self, id: &str) -> Result<Account> {
        self.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
        ))
        .and_then(|mut stmt| stmt.query_row([id], account_from_row))
        .map_err(|e| self.error(e))
    }

    pub(crate) fn account(&self, name: &str) -> Result<Account> {
        find_account(self, name)
            .map_err(|e| self.error(e))?
            .ok_or_else(|| unknown_account(name))
    }

    fn group_exists(&self, name: &str) -> Result<bool> {
        self.query_row(
            "SELECT count(*) FROM groups WHERE name = ?1",
            [name],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(|e| self.error(e))
    }

    fn group(&self, name: &str) -> Result<Group> {
        let (name, members) = group_members(self, name).map_err(|e| self.error(e))?;
        Ok(Group { name, members })
    }
}

fn pending_targets(conn: &rusqlite::Connection, account_id: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        &format!(
            "SELECT count(*) FROM targets WHERE account_id = ?1 AND state IN {pending}",
            pending = *states::PENDING
        ),
        [account_id],
        |row| row.get(0),
    )
}

fn refuse_pending(name: &str, pending: i64, cancel_scheduled: bool) -> Result<()> {
    if pending > 0 && !cancel_scheduled {
        return Err(Error::Invalid(format!(
            "account {name:?} has {pending} scheduled post(s); cancel them first, or run `postctl accounts rm {name} --cancel-scheduled`"
        )));
    }
    Ok(())
}

fn find_account(conn: &rusqlite::Connection, name: &str) -> rusqlite::Result<Option<Account>> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = ?1 AND deleted_ms IS NULL"
    ))?
    .query_row([name], account_from_row)
    .optional()
}

fn group_members(
    conn: &rusqlite::Connection,
    name: &str,
) -> rusqlite::Result<(String, Vec<String>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.name FROM group_members m JOIN accounts a ON a.id = m.account_id
         WHERE m.group_name = ?1 AND a.deleted_ms IS NULL ORDER BY m.position",
    )?;
    let members = stmt
        .query_map([name], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok((name.to_string(), members))
}

fn unknown_account(name: &str) -> Error {
    Error::NotFound {
        what: "account",
        name: name.to_string(),
        hint: "see `postctl accounts list`, or add it with `postctl accounts add`".into(),
    }
}

fn unknown_group(name: &str) -> Error {
    Error::NotFound {
        what: "group",
        name: name.to_string(),
        hint: "see `postctl group list`".into(),
    }
}
