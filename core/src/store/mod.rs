//! The local SQLite store: every SQL statement of postctl lives under this module.
//!
//! One file, WAL mode and a busy timeout, so the CLI, the TUI and the daemon can share it.
//! Every write runs in one transaction and appends to the oplog in the same transaction,
//! so a failed command leaves the database as it was.

mod accounts;
mod analytics;
mod circuits;
mod ids;
mod limits;
mod oplog;
mod posts;
mod publish;
mod report;
mod schema;
mod sign_in;
mod slots;
mod snapshot;
mod states;
mod sync;
mod templates;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction};

use crate::clock::Clock;
use crate::error::{Error, Result};

pub use accounts::Group;
pub use analytics::{
    AccountFigures, MetricAccountState, MetricCandidate, MetricStanding, Reading, TargetMetrics,
};
pub use ids::{new_id, new_post_id, short_ids};
pub use oplog::Operation;
pub use posts::{
    ImportWrite, ListFilter, NewMedia, NewPost, NewTarget, Outcome, PostChange, Presence,
    ScheduleChange,
};
pub use publish::{
    Attempt, AttemptRecord, Claim, Claimed, HeldAccount, Missed, Resolved, TargetStatus,
};
pub use report::{AccountCollection, ExportKind, ExportRow, PeriodPost};
pub use slots::Slots;
pub use sync::{Applied, Conflict, HeldPost, Pending, ServerTargetState, Settled, SyncLink};
pub use templates::{StoredTemplate, TemplateChange};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open postctl database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: String,
    /// What "now" is for every write (the oplog's times, claims, leases).
    clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// The file and its directory are created private (0600 / 0700). A database written by a
    /// newer postctl is refused, a file that is not a database is reported as such, and a
    /// database locked past the busy timeout is reported as locked.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fs::create_private_dir(dir)?;
        }
        crate::fs::touch_private(path)?;
        // Some lock waits bypass SQLite's busy handler: two processes creating one database
        // at once, or switching it to WAL. Retry those until the busy timeout is spent.
        let started = std::time::Instant::now();
        loop {
            match Store::open_once(path) {
                Err(Error::Locked { .. }) if started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                result => return result,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_error(path, e))?;
        // Applying a page of synced operations cycles through some 20 statements; the
        // default cache (16) would prepare some of them again for every operation.
        conn.set_prepared_statement_cache_capacity(64);
        plan_once(&conn).map_err(|e| sql_error(path, e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            device: String::new(),
            clock: Clock::system(),
        };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| store.error(e))?;
        // Refuse what is not ours before writing anything, even the journal mode.
        store.check_schema()?;
        store.configure()?;
        store.migrate()?;
        store.device = store.device_id()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The clock this store's writes read "now" from: the system's unless
    /// [`Store::set_clock`] gave another. The publish engine takes its clock from here.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Makes every later write, claim and lease of this store read `clock`
    /// (`POSTCTL_NOW`).
    ///
    /// A clock started at a given moment starts again in every process, so a command that
    /// ran longer than the next one has taken would have written a time that the next one
    /// has not reached yet (a target `resolve` made due "now" would not be due for the
    /// `run-due` after it). Such a clock is therefore moved on to the last change this
    /// database recorded, so time never runs backwards from one command to the next.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = match clock.is_system() {
            true => clock,
            false => match self.last_change() {
                Some(at) => clock.not_before(at),
                None => clock,
            },
        };
    }

    /// When the last change to this database was recorded (the change log's last entry).
    fn last_change(&self) -> Option<DateTime<Utc>> {
        let at_ms: Option<i64> = self
            .conn
            .query_row(
                "SELECT at_ms FROM oplog ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .ok();
        at_ms.and_then(DateTime::from_timestamp_millis)
    }

    /// A database newer than this binary, or another program's SQLite file, is refused.
    fn check_schema(&self) -> Result<()> {
        let known = schema::MIGRATIONS.len() as i64;
        // One statement, so both come from one snapshot while another process migrates.
        let (version, tables): (i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version),
                        (SELECT count(*) FROM sqlite_master)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| self.error(e))?;
        if version > known {
            return Err(Error::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        if version == 0 && tables > 0 {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                detail: "it is an SQLite database of another program".into(),
            });
        }
        Ok(())
    }

    fn configure(&self) -> Result<()> {
        // journal_mode returns a row; the others do not.
        self.conn
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(|e| self.error(e))?;
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| self.error(e))
    }

    fn migrate(&mut self) -> Result<()> {
        let known = schema::MIGRATIONS.len() as i64;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        if version == known {
            return Ok(());
        }
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&path, e))?;
        // Another process may have migrated while we waited for the write lock.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| sql_error(&path, e))?;
        if version > known {
            return Err(Error::TooNew {
                path,
                found: version,
                known,
            });
        }
        for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(|e| sql_error(&path, e))?;
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .map_err(|e| sql_error(&path, e))?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('device', ?1)",
            [new_id()],
        )
        .map_err(|e| sql_error(&path, e))?;
        tx.commit().map_err(|e| sql_error(&path, e))?;
        // SQLite reuses freed space but never shrinks the file by itself.
        let freed = schema::MIGRATIONS[version as usize..]
            .iter()
            .any(|sql| sql.contains(schema::VACUUM_AFTER));
        if version > 0 && freed {
            self.vacuum();
        }
        Ok(())
    }

    /// Rewrites the file without its free space, after a migration that dropped much of
    /// it. Best effort: a database busy with another process stays as large as it was, and
    /// works the same.
    fn vacuum(&self) {
        // In WAL mode the rewritten file goes through the log: the checkpoint truncates it.
        if self.conn.execute_batch("VACUUM").is_ok() {
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    fn device_id(&self) -> Result<String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'device'", [], |row| {
                row.get(0)
            })
            .map_err(|e| self.error(e))
    }

    /// Runs `f` in one IMMEDIATE transaction (the write lock is taken up front, so two
    /// writers queue on the busy timeout instead of failing on upgrade) and commits it.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&path, e))?;
        let wrapped = Tx {
            tx,
            path: &path,
            device: &self.device,
            now: self.clock.now(),
        };
        let value = f(&wrapped)?;
        wrapped.tx.commit().map_err(|e| sql_error(&path, e))?;
        Ok(value)
    }

    /// [`Store::write`], synced to disk before it returns: for records whose loss would
    /// make postctl repeat something on a network. (WAL with `synchronous = NORMAL`, the
    /// rest of the time, keeps the database consistent but may lose the last commits on
    /// power loss.)
    pub(crate) fn write_durable<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.conn
            .execute_batch("PRAGMA synchronous = FULL")
            .map_err(|e| self.error(e))?;
        let written = self.write(f);
        let restored = self
            .conn
            .execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(|e| self.error(e));
        let value = written?;
        restored?;
        Ok(value)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn error(&self, e: rusqlite::Error) -> Error {
        sql_error(&self.path, e)
    }
}

/// A write transaction with what every write needs: the path for errors, the device id and
/// one `now` for the oplog.
pub(crate) struct Tx<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
    device: &'a str,
    now: DateTime<Utc>,
}

impl Tx<'_> {
    pub(crate) fn error(&self, e: rusqlite::Error) -> Error {
        sql_error(self.path, e)
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

/// Makes SQLite plan each statement once, for any values bound to it.
///
/// SQLite plans some statements for the values bound to them (a LEFT JOIN's terms are
/// compared with the bound values) and then parses and plans them again whenever new
/// values are bound: a cached statement run in a loop, or on every request of the server,
/// was prepared anew each time (the server's `GET /api/v1/posts/{id}` spent most of its
/// time there). The query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`)
/// keeps the first plan. postctl binds no value a plan could use (no `LIKE` on an indexed
/// column, no `ANALYZE` statistics). The server's connections are set the same way.
pub fn plan_once(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map(|_| ())
}

/// Maps SQLite's errors onto the ones a user can act on.
fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path,
            detail: e.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Locked {
            path,
            seconds: BUSY_TIMEOUT.as_secs(),
        },
        _ => Error::Sql { path, source: e },
    }
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}
