//! `backup` and `restore` of the embedded SQLite database, and the lock `serve` holds on
//! its data dir so that `restore` cannot replace a database under a running server.
//!
//! Both copy with SQLite's online backup API: `backup` reads the live database in one
//! read transaction (WAL mode lets the server keep writing meanwhile), so the copy is the
//! database as it was at one moment; `restore` writes the copy into the database in one
//! write transaction, so it lands whole or not at all, WAL and all.
//!
//! The lock is `DATA/server.lock`, a small SQLite file in rollback-journal mode: each
//! `serve` keeps a read transaction open on it (a shared lock, released by the OS when the
//! process ends, however it ends), and `restore` asks for an exclusive lock without
//! waiting. SQLite's own file locking does the work, on every platform it runs on.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::config::Settings;
use crate::storage;

/// The lock file's name in the data dir.
pub const LOCK_FILE: &str = "server.lock";

/// The tables every postctl-server database has had since its first schema version.
const REQUIRED_TABLES: [&str; 7] = [
    "users",
    "workspaces",
    "members",
    "api_keys",
    "setup_tokens",
    "posts",
    "idempotency_keys",
];

const WAIT: Duration = Duration::from_secs(10);

/// Held by `serve` for as long as it runs: see the module's comment.
pub struct ServeLock {
    _conn: Connection,
}

impl std::fmt::Debug for ServeLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServeLock")
    }
}

fn open_lock(data_dir: &Path) -> anyhow::Result<Connection> {
    postctl_core::fs::create_private_dir(data_dir)
        .with_context(|| format!("could not create the data dir {}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    postctl_core::fs::touch_private(&path)
        .with_context(|| format!("could not create {}", path.display()))?;
    let conn =
        Connection::open(&path).with_context(|| format!("could not open {}", path.display()))?;
    Ok(conn)
}

/// Takes `serve`'s shared lock on the data dir, waiting a moment for a `restore` to end.
pub fn hold_serve_lock(data_dir: &Path) -> anyhow::Result<ServeLock> {
    let started = Instant::now();
    loop {
        let conn = open_lock(data_dir)?;
        match shared_lock(&conn) {
            Ok(()) => return Ok(ServeLock { _conn: conn }),
            Err(e) if is_busy(&e) && started.elapsed() < WAIT => {
                drop(conn);
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if is_busy(&e) => bail!(
                "a `postctl-server restore` is replacing the database in {}; start the server when it is done",
                data_dir.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("could not lock the data dir {}", data_dir.display())
                });
            }
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Opens a read transaction on the lock file and keeps it open: a shared lock.
fn shared_lock(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    // A table, so that the file has a page to read (a no-op once it exists).
    conn.execute_batch("CREATE TABLE IF NOT EXISTS serve_lock (note TEXT)")?;
    conn.execute_batch("BEGIN DEFERRED")?;
    conn.query_row("SELECT count(*) FROM serve_lock", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(())
}

/// Takes the exclusive lock `restore` (and `rotate-key`, named `command` in the message)
/// needs, refusing at once when a server holds it.
pub(crate) fn restore_lock(data_dir: &Path, command: &str) -> anyhow::Result<Connection> {
    let conn = open_lock(data_dir)?;
    let exclusive = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .and_then(|()| conn.execute_batch("BEGIN EXCLUSIVE"));
    match exclusive {
        Ok(()) => Ok(conn),
        Err(e) if is_busy(&e) => bail!(
            "a postctl-server is running on {}: stop it first (e.g. `systemctl stop postctl-server`), \
             then run {command} again",
            data_dir.display()
        ),
        Err(e) => Err(e).context("could not lock the data dir"),
    }
}

/// Copies all of `source` into `target` in one step of the online backup API.
fn copy(source: &Connection, target: &mut Connection) -> anyhow::Result<()> {
    let backup = Backup::new(source, target).context("could not start the copy")?;
    let started = Instant::now();
    loop {
        match backup.step(-1).context("the copy failed")? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked if started.elapsed() < WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => bail!("the database stayed locked for {} s", WAIT.as_secs()),
        }
    }
}

/// What a database holds, for messages.
#[derive(Debug)]
struct Summary {
    version: i64,
    users: i64,
    posts: i64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} posts, schema version {}",
            self.users, self.posts, self.version
        )
    }
}

/// Checks that `conn` is a whole postctl-server database this binary can serve.
fn inspect(conn: &Connection, name: &str) -> anyhow::Result<Summary> {
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => anyhow::anyhow!(
                "{name} is not a postctl-server backup: it is not an SQLite database"
            ),
            _ => anyhow::anyhow!("could not read {name}: {e}"),
        })?;
    if check != "ok" {
        bail!("{name} is damaged (SQLite's check says: {check}); use another backup");
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for table in REQUIRED_TABLES {
        let found: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if found == 0 || version == 0 {
            bail!(
                "{name} is not a postctl-server database (it has no `{table}` table); \
                 give a file made by `postctl-server backup`"
            );
        }
    }
    let known = storage::schema_version();
    if version > known {
        bail!(
            "{name} is at schema version {version}, newer than this postctl-server knows ({known}): \
             restore it with the newer postctl-server that made it"
        );
    }
    Ok(Summary {
        version,
        users: conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?,
        posts: conn.query_row(
            "SELECT count(*) FROM posts WHERE deleted_ms IS NULL",
            [],
            |r| r.get(0),
        )?,
    })
}

fn open_source(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("could not open {}", path.display()))?;
    conn.busy_timeout(WAIT)?;
    Ok(conn)
}

/// Writes a consistent copy of the database at `source` to `to` (through a private
/// temporary file beside it, renamed into place when complete and checked).
fn backup_file(source: &Path, to: &Path, force: bool) -> anyhow::Result<Summary> {
    let dir = match to.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".postctl-server-backup-")
        .tempfile_in(&dir)
        .with_context(|| format!("could not write in {}", dir.display()))?;
    let src = open_source(source)?;
    let mut dst = Connection::open(temp.path()).context("could not open the new copy")?;
    copy(&src, &mut dst)?;
    drop(src);
    // A backup is one self-contained file: no -wal beside it.
    dst.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    let summary = inspect(&dst, "the copy")?;
    drop(dst);
    temp.as_file()
        .sync_all()
        .context("could not flush the copy")?;
    let persisted = if force {
        temp.persist(to).map(|_| ())
    } else {
        temp.persist_noclobber(to).map(|_| ())
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} exists; choose another name, or pass --force to replace it",
                to.display()
            )
        } else {
            anyhow::anyhow!("could not write {}: {}", to.display(), e.error)
        }
    })?;
    Ok(summary)
}

fn postgres_refusal(verb: &str) -> anyhow::Error {
    let how = if verb == "backup" {
        "pg_dump --format=custom --file=postctl.dump \"$POSTCTL_SERVER_DATABASE_URL\""
    } else {
        "pg_restore --clean --if-exists --dbname=\"$POSTCTL_SERVER_DATABASE_URL\" postctl.dump"
    };
    anyhow::anyhow!(
        "`postctl-server {verb}` is for the embedded SQLite database, and this server uses PostgreSQL: \
         use PostgreSQL's tools, e.g. `{how}`, or point-in-time recovery (README, \"Run a server\")"
    )
}

/// `postctl-server backup --to FILE`.
pub async fn backup(settings: &Settings, to: &Path, force: bool) -> anyhow::Result<()> {
    if settings.database_url.is_some() {
        return Err(postgres_refusal("backup"));
    }
    let source = settings.sqlite_path();
    if !source.is_file() {
        bail!(
            "there is no database at {}; give the server's data dir with --data (or {})",
            source.display(),
            crate::config::ENV_DATA
        );
    }
    if to.is_dir() {
        bail!("{} is a directory; give a file name", to.display());
    }
    let to = to.to_path_buf();
    let (summary, to) = tokio::task::spawn_blocking(move || {
        backup_file(&source, &to, force).map(|summary| (summary, to))
    })
    .await
    .context("the backup stopped")??;
    eprintln!(
        "Backed up {} to {} ({summary}).\nRestore it with: postctl-server restore --from {}",
        settings.database(),
        to.display(),
        to.display()
    );
    Ok(())
}

/// `postctl-server restore --from FILE`.
pub async fn restore(settings: &Settings, from: &Path) -> anyhow::Result<()> {
    if settings.database_url.is_some() {
        return Err(postgres_refusal("restore"));
    }
    if !from.is_file() {
        bail!("there is no file {}", from.display());
    }
    let data_dir = settings.data_dir.clone();
    let target = settings.sqlite_path();
    let from = from.to_path_buf();
    let (summary, kept) =
        tokio::task::spawn_blocking(move || restore_blocking(&data_dir, &target, &from))
            .await
            .context("the restore stopped")??;
    eprintln!(
        "Restored {} ({summary}) into {}.",
        settings.database(),
        settings.data_dir.display()
    );
    if let Some(kept) = kept {
        eprintln!(
            "The database it replaced is kept at {}; delete it when you no longer need it.",
            kept.display()
        );
    }
    eprintln!("Start the server: postctl-server serve");
    Ok(())
}

fn restore_blocking(
    data_dir: &Path,
    target: &Path,
    from: &Path,
) -> anyhow::Result<(Summary, Option<PathBuf>)> {
    let name = from.display().to_string();
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("could not open {name}"))?;
    let summary = inspect(&src, &name)?;
    let _lock = restore_lock(data_dir, "restore")?;
    let kept = if target.is_file() && std::fs::metadata(target)?.len() > 0 {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = data_dir.join(format!(
            "{}.before-restore-{stamp}",
            crate::config::DATABASE_FILE
        ));
        backup_file(target, &kept, false)
            .context("could not keep a copy of the database being replaced; nothing was changed")?;
        Some(kept)
    } else {
        None
    };
    postctl_core::fs::touch_private(target)
        .with_context(|| format!("could not create {}", target.display()))?;
    let mut dst =
        Connection::open(target).with_context(|| format!("could not open {}", target.display()))?;
    dst.busy_timeout(WAIT)?;
    copy(&src, &mut dst)?;
    dst.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    inspect(&dst, "the restored database")?;
    Ok((summary, kept))
}
