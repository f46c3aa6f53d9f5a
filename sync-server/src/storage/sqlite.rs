//! [`Storage`] on one SQLite file (rusqlite, WAL mode), for a server on one machine.
//!
//! One writing connection behind a mutex, used from tokio's blocking pool: SQLite allows
//! one writer at a time anyway, and each method is one transaction, so each is atomic.
//! Beside it a few read-only connections answer the reads every request makes (its key,
//! its member's role, the post it asks for) in parallel, which WAL mode allows: a read
//! sees every transaction committed before it began, so a write is visible to the next
//! read. WAL mode and a busy timeout let `postctl-server user add` and `key create` write
//! while the server runs.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};

use super::schema::{MIGRATIONS, latest};
use super::sql::{
    ACCOUNT_CHANNEL_KINDS, API_STAMP, APPROVE_TARGET, MEDIA_JOIN, NOT_APPROVED, SCHEDULE_TARGET,
    unapproved_due_sql,
};
use super::sql::{
    ACCOUNT_COLUMNS, ACCOUNT_INSERT, ACCOUNT_WIDTH, CIRCUIT_COLUMNS, CIRCUIT_UPSERT, CircuitRaw,
    DATA_VERSION, FinishColumns, POST_JOIN_COLUMNS, POST_JOIN_WIDTH, PROBE_READY,
    RELEASE_SIGN_IN_LOCK, SEALED_SELECTS, TAKE_SIGN_IN_LOCK, TARGET_COLUMNS, TARGET_INSERT,
    TARGET_WIDTH, account_ready_sql, add_part, circuit_state, circuit_values, due_sql,
    held_accounts_sql, interrupted_attempt, mark_missed_sql, mark_unpublished_sql,
    next_due_after_sql, next_due_sql, not_claimed_elsewhere_sql, only_post_sql, probe_target_sql,
    probe_time, probe_times_sql, sealed_update,
};
use super::targets::resolve_parts;
use super::{
    ATTEMPTS_KEPT, Account, AccountDeletion, ApiField, ApiKey, Attempt, AttemptEnd, CalendarEntry,
    Claim, ClaimOutcome, Claimed, Delivery, DeliveryState, Event, Finish, Finished,
    IDEMPOTENCY_TTL_MS, IdempotencyBegin, KeyListing, KeyMode, LoginFailures, Member, Post,
    PostQuery, PostState, PublishAttempt, Purge, Purged, RATE_WINDOW_US, RateTaken, Result, Role,
    Scope, SealedValue, Session, Storage, StorageError, Takeover, Target, TargetChange,
    TargetState, TargetView, TargetsChanged, User, Webhook, Workspace, change_allows, takeover,
};
use super::{
    AccountMetricClaim, AccountMetricDone, AccountReading, MetricClaim, MetricDone, MetricReading,
};
use super::{ApprovalDecision, ApprovalSettings, Decision, EventsOf, Unapproved};
use super::{
    Channel, DigestSchedule, InboxItem, InboxQuery, NotificationEvent, NotificationSend,
    NotificationSettings, Routed, SendEnd,
};
use super::{Circuit, CircuitEvent, CircuitRule, CircuitState, HeldAccount, MissedTarget, Outage};
use super::{Fired, PostRead, SnapshotPage, StoredTemplate, StoredVoice, Trigger};
use postctl_core::publish::circuit::{after_answer, after_outage};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many read-only connections answer reads beside the writer: enough for two cores
/// and the blocking threads that wait on them.
const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<Readers>,
}

/// The read-only connections, taken in turn.
struct Readers {
    connections: Vec<Mutex<Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStorage")
    }
}

fn db_error(e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StorageError::Conflict(constraint_subject(&e)),
        _ => StorageError::Database(e.to_string()),
    }
}

/// "users.name" out of "UNIQUE constraint failed: users.name".
fn constraint_subject(e: &rusqlite::Error) -> String {
    let text = e.to_string();
    text.rsplit(": ")
        .next()
        .map(str::to_string)
        .unwrap_or_else(|| "the record".into())
}

/// What every connection of the server's is set to: wait out another's lock, keep each
/// statement prepared once, and plan it once (`postctl_core::store::plan_once`: without it
/// every read of the request path was parsed and planned again).
fn settle(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
    conn.set_prepared_statement_cache_capacity(128);
    postctl_core::store::plan_once(conn).map_err(db_error)
}

impl SqliteStorage {
    /// Opens (creating, 0600) the database file and migrates it.
    pub async fn open(path: &Path) -> Result<SqliteStorage> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(|e| StorageError::Database(e.to_string()))?
    }

    fn open_blocking(path: &Path) -> Result<SqliteStorage> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            postctl_core::fs::create_private_dir(dir)
                .map_err(|e| StorageError::Database(e.to_string()))?;
        }
        postctl_core::fs::touch_private(path).map_err(|e| StorageError::Database(e.to_string()))?;
        // Switching to WAL and creating the schema take locks that bypass the busy
        // handler when two processes open a new file at once: retry those.
        let started = Instant::now();
        loop {
            match Self::open_once(path) {
                Err(StorageError::Database(e))
                    if e.contains("locked") && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                result => return result,
            }
        }
    }

    fn open_once(path: &Path) -> Result<SqliteStorage> {
        let mut conn = Connection::open(path).map_err(db_error)?;
        settle(&conn)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(db_error)?;
        migrate(&mut conn)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open(path).map_err(db_error)?;
            settle(&reader)?;
            reader
                .execute_batch("PRAGMA query_only = ON; PRAGMA foreign_keys = ON;")
                .map_err(db_error)?;
            readers.push(Mutex::new(reader));
        }
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Readers {
                connections: readers,
                next: std::sync::atomic::AtomicUsize::new(0),
            }),
        })
    }

    pub(super) async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| StorageError::Database("the connection was poisoned".into()))?;
            f(&mut conn).map_err(db_error)
        })
        .await
        .map_err(|e| StorageError::Database(e.to_string()))?
    }

    /// Like [`SqliteStorage::read`] for a read bounded by a key (one row, or one post's
    /// targets), on the request path of every call: when a reader is free it runs right
    /// here, in a few tens of microseconds, which is less than handing it to the blocking
    /// pool and waking this task again costs (two thread switches). When all readers are
    /// busy it waits its turn in the pool like any read.
    pub(super) async fn read_by_key<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let f = {
            let free = self
                .readers
                .connections
                .iter()
                .find_map(|m| m.try_lock().ok());
            match free {
                Some(conn) => return f(&conn).map_err(db_error),
                None => f,
            }
        };
        self.read(f).await
    }

    /// Like [`SqliteStorage::call`] for a read (a connection that refuses writes): the
    /// first free reader, or the next in turn when all are busy.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let count = readers.connections.len();
            let start = readers
                .next
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let free = (0..count)
                .map(|i| &readers.connections[(start + i) % count])
                .find_map(|m| m.try_lock().ok());
            let conn = match free {
                Some(conn) => conn,
                None => readers.connections[start % count]
                    .lock()
                    .map_err(|_| StorageError::Database("a connection was poisoned".into()))?,
            };
            f(&conn).map_err(db_error)
        })
        .await
        .map_err(|e| StorageError::Database(e.to_string()))?
    }
}

impl SqliteStorage {
    /// [`call`](Self::call) with the commit synced to disk before it returns
    /// (`synchronous = FULL` for this call): what the network holds is never forgotten.
    async fn call_durable<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.call(move |c| {
            c.execute_batch("PRAGMA synchronous = FULL")?;
            let result = f(c);
            c.execute_batch("PRAGMA synchronous = NORMAL")?;
            result
        })
        .await
    }
}

/// Applies the missing migrations in one IMMEDIATE transaction: the write lock it takes
/// first is the migration lock, so a second process waits and then finds nothing to do.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_error)?;
    if found > latest() {
        return Err(StorageError::NewerSchema {
            found,
            known: latest(),
        });
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql).map_err(db_error)?;
    }
    tx.pragma_update(None, "user_version", latest())
        .map_err(db_error)?;
    tx.commit().map_err(db_error)
}

fn user_row(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        password_hash: r.get(2)?,
        admin: r.get(3)?,
        created_ms: r.get(4)?,
        deleted_ms: r.get(5)?,
        totp_secret: r.get(6)?,
        totp_pending: r.get(7)?,
        totp_last_step: r.get(8)?,
    })
}

const USER_COLUMNS: &str = "id, name, password_hash, admin, created_ms, deleted_ms, totp_secret, \
     totp_pending, totp_last_step";
const KEY_COLUMNS: &str = "k.id, k.user_id, k.workspace_id, k.name, k.mode, k.prefix, k.hash, \
     k.scopes, k.expires_ms, k.created_ms, k.revoked_ms, k.rate_per_minute, k.allowed_ips, \
     k.replaced_by";
pub(super) const SESSION_COLUMNS: &str =
    "id, user_id, workspace_id, hash, created_ms, expires_ms, revoked_ms";
pub(super) const POST_COLUMNS: &str =
    "id, workspace_id, author_id, title, body, state, scheduled_ms, zone, created_ms, updated_ms";

fn key_row(r: &Row) -> rusqlite::Result<ApiKey> {
    let mode: String = r.get(4)?;
    let scopes: String = r.get(7)?;
    Ok(ApiKey {
        id: r.get(0)?,
        user_id: r.get(1)?,
        workspace_id: r.get(2)?,
        name: r.get(3)?,
        mode: KeyMode::parse(&mode).unwrap_or(KeyMode::Test),
        prefix: r.get(5)?,
        hash: r.get(6)?,
        scopes: Scope::split(&scopes),
        expires_ms: r.get(8)?,
        created_ms: r.get(9)?,
        revoked_ms: r.get(10)?,
        rate_per_minute: r
            .get::<_, Option<i64>>(11)?
            .and_then(|n| u32::try_from(n).ok()),
        allowed_ips: r
            .get::<_, Option<String>>(12)?
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        replaced_by: r.get(13)?,
    })
}

fn session_row(r: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        user_id: r.get(1)?,
        workspace_id: r.get(2)?,
        hash: r.get(3)?,
        created_ms: r.get(4)?,
        expires_ms: r.get(5)?,
        revoked_ms: r.get(6)?,
    })
}

/// Allowed networks as stored: space-separated, or NULL for anywhere.
fn ips_text(ips: &[String]) -> Option<String> {
    (!ips.is_empty()).then(|| ips.join(" "))
}

fn insert_key(c: &rusqlite::Connection, k: &ApiKey) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO api_keys (id, user_id, workspace_id, name, mode, prefix, hash, scopes,
         expires_ms, created_ms, revoked_ms, rate_per_minute, allowed_ips, replaced_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            k.id,
            k.user_id,
            k.workspace_id,
            k.name,
            k.mode.as_str(),
            k.prefix,
            k.hash,
            Scope::join(&k.scopes),
            k.expires_ms,
            k.created_ms,
            k.revoked_ms,
            k.rate_per_minute.map(i64::from),
            ips_text(&k.allowed_ips),
            k.replaced_by
        ],
    )
    .map(drop)
}

pub(super) fn post_row(r: &Row) -> rusqlite::Result<Post> {
    let state: String = r.get(5)?;
    Ok(Post {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        author_id: r.get(2)?,
        title: r.get(3)?,
        body: r.get(4)?,
        state: PostState::parse(&state).unwrap_or(PostState::Draft),
        scheduled_ms: r.get(6)?,
        zone: r.get(7)?,
        created_ms: r.get(8)?,
        updated_ms: r.get(9)?,
    })
}

const WEBHOOK_COLUMNS: &str = "id, workspace_id, url, description, events, secret, old_secret, \
     old_secret_until_ms, created_by, created_ms, updated_ms, disabled_ms, disabled_reason, \
     failed_in_a_row";
const DELIVERY_COLUMNS: &str = "id, webhook_id, workspace_id, event_type, payload, state, \
     next_attempt_ms, created_ms, finished_ms, redelivery_of, attempts";

fn webhook_row(r: &Row) -> rusqlite::Result<Webhook> {
    let events: String = r.get(4)?;
    Ok(Webhook {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        url: r.get(2)?,
        description: r.get(3)?,
        events: events.split_whitespace().map(str::to_string).collect(),
        secret: r.get(5)?,
        old_secret: r.get(6)?,
        old_secret_until_ms: r.get(7)?,
        created_by: r.get(8)?,
        created_ms: r.get(9)?,
        updated_ms: r.get(10)?,
        disabled_ms: r.get(11)?,
        disabled_reason: r.get(12)?,
        failed_in_a_row: u32::try_from(r.get::<_, i64>(13)?).unwrap_or(u32::MAX),
    })
}

fn delivery_row(r: &Row) -> rusqlite::Result<Delivery> {
    let state: String = r.get(5)?;
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        workspace_id: r.get(2)?,
        event_type: r.get(3)?,
        payload: r.get(4)?,
        state: DeliveryState::parse(&state).unwrap_or(DeliveryState::Failed),
        next_attempt_ms: r.get(6)?,
        created_ms: r.get(7)?,
        finished_ms: r.get(8)?,
        redelivery_of: r.get(9)?,
        attempt_count: u32::try_from(r.get::<_, i64>(10)?).unwrap_or(u32::MAX),
        attempts: Vec::new(),
    })
}

fn attempt_row(r: &Row) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        number: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
        started_ms: r.get(1)?,
        duration_ms: r.get(2)?,
        status: r
            .get::<_, Option<i64>>(3)?
            .and_then(|s| u16::try_from(s).ok()),
        answer: r.get(4)?,
        error: r.get(5)?,
    })
}

fn insert_delivery(c: &rusqlite::Connection, d: &Delivery) -> rusqlite::Result<()> {
    c.execute(
        &format!(
            "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            d.id,
            d.webhook_id,
            d.workspace_id,
            d.event_type,
            d.payload,
            d.state.as_str(),
            d.next_attempt_ms,
            d.created_ms,
            d.finished_ms,
            d.redelivery_of,
            i64::from(d.attempt_count)
        ],
    )
    .map(drop)
}

/// Inserts a delivery of `event` for each endpoint that receives it; returns how many.
pub(super) fn record_event(c: &rusqlite::Connection, event: &Event) -> rusqlite::Result<u32> {
    let webhooks: Vec<Webhook> = {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = ?1 ORDER BY id"
        ))?;
        stmt.query_map([&event.workspace_id], webhook_row)?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut n = 0;
    for webhook in webhooks
        .iter()
        .filter(|w| super::receives(w, &event.event_type))
    {
        insert_delivery(c, &super::delivery_for(webhook, event))?;
        n += 1;
    }
    super::sqlite_notify::queue_for_notifier(c, event)?;
    Ok(n)
}

fn with_attempts(c: &rusqlite::Connection, mut d: Delivery) -> rusqlite::Result<Delivery> {
    let mut stmt = c.prepare_cached(
        "SELECT number, started_ms, duration_ms, status, answer, error FROM webhook_attempts
         WHERE delivery_id = ?1 ORDER BY number",
    )?;
    d.attempts = stmt
        .query_map([&d.id], attempt_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(d)
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn claim_metrics(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MetricClaim>> {
        self.claim_metrics_now(owner, now_ms, lease_until_ms, limit)
            .await
    }

    async fn finish_metrics(&self, owner: &str, done: &MetricDone) -> Result<bool> {
        self.finish_metrics_now(owner, done).await
    }

    async fn post_readings(&self, workspace_id: &str, post_id: &str) -> Result<Vec<MetricReading>> {
        self.post_readings_now(workspace_id, post_id).await
    }

    async fn claim_account_metrics(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<AccountMetricClaim>> {
        self.claim_account_metrics_now(owner, now_ms, lease_until_ms, limit)
            .await
    }

    async fn finish_account_metrics(&self, owner: &str, done: &AccountMetricDone) -> Result<bool> {
        self.finish_account_metrics_now(owner, done).await
    }

    async fn account_readings(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Vec<AccountReading>> {
        self.account_readings_now(workspace_id, account_id).await
    }

    fn pool_status(&self) -> super::PoolStatus {
        // The writer and the readers; each is idle when its mutex is free.
        let size = 1 + self.readers.connections.len();
        let idle = std::iter::once(&*self.conn)
            .chain(&self.readers.connections)
            .filter(|c| c.try_lock().is_ok())
            .count();
        super::PoolStatus {
            size,
            idle,
            max_size: size,
            waiting: 0,
        }
    }

    async fn ready(&self) -> Result<()> {
        let version: i64 = self
            .call(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .await?;
        if version == latest() {
            Ok(())
        } else {
            Err(StorageError::Database(format!(
                "schema version {version}, expected {}",
                latest()
            )))
        }
    }

    async fn count_users(&self) -> Result<u64> {
        self.call(|c| {
            c.query_row(
                "SELECT count(*) FROM users WHERE deleted_ms IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .map(|n| n as u64)
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        let u = user.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO users (id, name, password_hash, admin, created_ms, totp_secret, totp_pending,
                 totp_last_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    u.id,
                    u.name,
                    u.password_hash,
                    u.admin,
                    u.created_ms,
                    u.totp_secret,
                    u.totp_pending,
                    u.totp_last_step
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let name = name.to_string();
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1 AND deleted_ms IS NULL"),
                [name],
                user_row,
            )
            .optional()
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_string();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_row,
            )
            .optional()
        })
        .await
    }

    async fn create_workspace(&self, workspace: &Workspace, owner_id: &str) -> Result<()> {
        let w = workspace.clone();
        let owner = owner_id.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO workspaces (id, name, created_ms) VALUES (?1, ?2, ?3)",
                params![w.id, w.name, w.created_ms],
            )?;
            tx.execute(
                "INSERT INTO members (workspace_id, user_id, role) VALUES (?1, ?2, ?3)",
                params![w.id, owner, Role::Owner.as_str()],
            )?;
            tx.commit()
        })
        .await
    }

    async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let name = name.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT id, name, created_ms FROM workspaces WHERE name = ?1",
                [name],
                workspace_row,
            )
            .optional()
        })
        .await
    }

    async fn workspace_by_id(&self, id: &str) -> Result<Option<Workspace>> {
        let id = id.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT id, name, created_ms FROM workspaces WHERE id = ?1",
                [id],
                workspace_row,
            )
            .optional()
        })
        .await
    }

    async fn set_member(&self, workspace_id: &str, user_id: &str, role: Role) -> Result<()> {
        let (w, u) = (workspace_id.to_string(), user_id.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO members (workspace_id, user_id, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
                params![w, u, role.as_str()],
            )
            .map(drop)
        })
        .await
    }

    async fn members(&self, workspace_id: &str) -> Result<Vec<Member>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT u.id, u.name, m.role FROM members m JOIN users u ON u.id = m.user_id
                 WHERE m.workspace_id = ?1 ORDER BY u.name",
            )?;
            let rows = stmt.query_map([w], |r| {
                let role: String = r.get(2)?;
                Ok(Member {
                    user_id: r.get(0)?,
                    user_name: r.get(1)?,
                    role: Role::parse(&role).unwrap_or(Role::Viewer),
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn member_role(&self, workspace_id: &str, user_id: &str) -> Result<Option<Role>> {
        let (w, u) = (workspace_id.to_string(), user_id.to_string());
        let role: Option<String> = self
            .read(move |c| {
                c.prepare_cached(
                    "SELECT role FROM members WHERE workspace_id = ?1 AND user_id = ?2",
                )?
                .query_row([w, u], |r| r.get(0))
                .optional()
            })
            .await?;
        Ok(role.as_deref().and_then(Role::parse))
    }

    async fn workspaces_of(&self, user_id: &str) -> Result<Vec<(Workspace, Role)>> {
        let u = user_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT w.id, w.name, w.created_ms, m.role FROM members m
                 JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ?1 ORDER BY w.name",
            )?;
            let rows = stmt.query_map([u], |r| {
                let role: String = r.get(3)?;
                Ok((
                    workspace_row(r)?,
                    Role::parse(&role).unwrap_or(Role::Viewer),
                ))
            })?;
            rows.collect()
        })
        .await
    }

    async fn replace_setup_token(&self, hash: &str, now_ms: i64) -> Result<()> {
        let hash = hash.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM setup_tokens", [])?;
            tx.execute(
                "INSERT INTO setup_tokens (hash, created_ms) VALUES (?1, ?2)",
                params![hash, now_ms],
            )?;
            tx.commit()
        })
        .await
    }

    async fn take_setup_token(&self, hash: &str) -> Result<bool> {
        let hash = hash.to_string();
        self.call(move |c| c.execute("DELETE FROM setup_tokens WHERE hash = ?1", [hash]))
            .await
            .map(|n| n == 1)
    }

    async fn create_key(&self, key: &ApiKey) -> Result<()> {
        let k = key.clone();
        self.call(move |c| insert_key(c, &k)).await
    }

    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let hash = hash.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.hash = ?1"
            ))?
            .query_row([hash], key_row)
            .optional()
        })
        .await
    }

    async fn key_and_role(&self, hash: &str) -> Result<Option<(ApiKey, Option<Role>)>> {
        let hash = hash.to_string();
        self.read_by_key(move |c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS}, m.role FROM api_keys k
                 LEFT JOIN members m ON m.workspace_id = k.workspace_id AND m.user_id = k.user_id
                 WHERE k.hash = ?1"
            ))?
            .query_row([hash], |r| {
                let role: Option<String> = r.get(14)?;
                Ok((key_row(r)?, role.as_deref().and_then(Role::parse)))
            })
            .optional()
        })
        .await
    }

    async fn keys(&self, user_id: Option<&str>) -> Result<Vec<KeyListing>> {
        let user = user_id.map(str::to_string);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {KEY_COLUMNS}, u.name, w.name FROM api_keys k
                 JOIN users u ON u.id = k.user_id JOIN workspaces w ON w.id = k.workspace_id
                 WHERE ?1 IS NULL OR k.user_id = ?1 ORDER BY k.id"
            ))?;
            let rows = stmt.query_map([user], |r| {
                Ok(KeyListing {
                    key: key_row(r)?,
                    user_name: r.get(14)?,
                    workspace_name: r.get(15)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn revoke_key(&self, id: &str, now_ms: i64) -> Result<bool> {
        let id = id.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE api_keys SET revoked_ms = coalesce(revoked_ms, ?2) WHERE id = ?1",
                params![id, now_ms],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn create_post_and_emit(&self, post: &Post, events: &[Event]) -> Result<()> {
        let p = post.clone();
        let events = events.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_post(&tx, &p)?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()
        })
        .await
    }

    async fn post(&self, workspace_id: &str, id: &str) -> Result<Option<Post>> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {POST_COLUMNS} FROM posts
                 WHERE workspace_id = ?1 AND id = ?2 AND deleted_ms IS NULL"
            ))?
            .query_row([w, id], post_row)
            .optional()
        })
        .await
    }

    async fn post_with_targets(&self, workspace_id: &str, id: &str) -> Result<Option<PostRead>> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.read_by_key(move |c| {
            // One statement, so one snapshot without a transaction to begin and end: the
            // post's row joined with each target (or with none: the LEFT JOIN keeps a
            // post without targets), and its media field on every row.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {POST_JOIN_COLUMNS}, {TARGET_COLUMNS}, a.name, a.network,
                        ({POST_MEDIA}) FROM posts p
                 LEFT JOIN targets t ON t.workspace_id = p.workspace_id AND t.post_id = p.id
                 LEFT JOIN accounts a ON a.id = t.account_id
                 WHERE p.workspace_id = ?1 AND p.id = ?2 AND p.deleted_ms IS NULL
                 ORDER BY a.name",
                POST_MEDIA = super::sql::POST_MEDIA
            ))?;
            let mut rows = stmt.query([&w, &id])?;
            let mut read: Option<PostRead> = None;
            while let Some(r) = rows.next()? {
                let read = match &mut read {
                    Some(read) => read,
                    None => read.insert(PostRead {
                        post: post_row_at(r, 0)?,
                        targets: Vec::new(),
                        media: r.get(POST_JOIN_WIDTH + TARGET_WIDTH + 2)?,
                    }),
                };
                if r.get::<_, Option<String>>(POST_JOIN_WIDTH)?.is_some() {
                    read.targets.push(target_view(r, POST_JOIN_WIDTH)?);
                }
            }
            Ok(read)
        })
        .await
    }

    async fn posts(&self, query: &PostQuery) -> Result<Vec<Post>> {
        let q = query.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {POST_COLUMNS} FROM posts
                 WHERE workspace_id = ?1 AND deleted_ms IS NULL
                   AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR id < ?3)
                 ORDER BY id DESC LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                params![
                    q.workspace_id,
                    q.state.map(PostState::as_str),
                    q.before_id,
                    q.limit
                ],
                post_row,
            )?;
            rows.collect()
        })
        .await
    }

    async fn save_post_and_emit(&self, post: &Post, events: &[Event]) -> Result<bool> {
        let p = post.clone();
        let events = events.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let saved = write_post(&tx, &p)?;
            if saved {
                for event in &events {
                    record_event(&tx, event)?;
                }
            }
            tx.commit()?;
            Ok(saved)
        })
        .await
    }

    async fn delete_post(&self, workspace_id: &str, id: &str, now_ms: i64) -> Result<bool> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = soft_delete(&tx, &w, &id, now_ms)?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_post_stamped(
        &self,
        post: &Post,
        now_ms: i64,
        fields: &[ApiField],
    ) -> Result<bool> {
        let (p, fields) = (post.clone(), fields.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = soft_delete(&tx, &p.workspace_id, &p.id, now_ms)?;
            if n == 1 {
                stamp_api_fields(&tx, &p, &fields, false)?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now_ms: i64,
    ) -> Result<IdempotencyBegin> {
        let (scope, key, hash) = (scope.to_string(), key.to_string(), request_hash.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM idempotency_keys WHERE created_ms < ?1",
                [now_ms - IDEMPOTENCY_TTL_MS],
            )?;
            let found: Option<(String, Option<i64>, Option<String>)> = tx
                .query_row(
                    "SELECT request_hash, status, body FROM idempotency_keys
                     WHERE scope = ?1 AND key = ?2",
                    [&scope, &key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let outcome = match found {
                None => {
                    tx.execute(
                        "INSERT INTO idempotency_keys (scope, key, request_hash, created_ms)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![scope, key, hash, now_ms],
                    )?;
                    IdempotencyBegin::Started
                }
                Some((stored, _, _)) if stored != hash => IdempotencyBegin::Mismatch,
                Some((_, Some(status), body)) => IdempotencyBegin::Replay {
                    status: status as u16,
                    body: body.unwrap_or_default(),
                },
                Some((_, None, _)) => IdempotencyBegin::InProgress,
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<()> {
        let (scope, key, body) = (scope.to_string(), key.to_string(), body.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE idempotency_keys SET status = ?3, body = ?4 WHERE scope = ?1 AND key = ?2",
                params![scope, key, status as i64, body],
            )
            .map(drop)
        })
        .await
    }

    async fn idempotency_release(&self, scope: &str, key: &str) -> Result<()> {
        let (scope, key) = (scope.to_string(), key.to_string());
        self.call(move |c| {
            c.execute(
                "DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND status IS NULL",
                [scope, key],
            )
            .map(drop)
        })
        .await
    }

    async fn delete_user(&self, id: &str, now_ms: i64) -> Result<bool> {
        let id = id.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE users SET name = ?2, password_hash = '', admin = 0, deleted_ms = ?3,
                 totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
                 WHERE id = ?1 AND deleted_ms IS NULL",
                params![id, format!("deleted-{id}"), now_ms],
            )?;
            if n == 1 {
                for table in [
                    "recovery_codes",
                    "api_keys",
                    "sessions",
                    "members",
                    "notification_sends",
                    "notification_channels",
                    "notification_preferences",
                    "notification_digests",
                    "inbox",
                ] {
                    tx.execute(&format!("DELETE FROM {table} WHERE user_id = ?1"), [&id])?;
                }
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn set_password(&self, id: &str, hash: &str, now_ms: i64) -> Result<bool> {
        let (id, hash) = (id.to_string(), hash.to_string());
        self.call(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1 AND deleted_ms IS NULL",
                params![id, hash],
            )?;
            tx.execute(
                "UPDATE sessions SET revoked_ms = ?2 WHERE user_id = ?1 AND revoked_ms IS NULL",
                params![id, now_ms],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn begin_totp(&self, user_id: &str, sealed: &str) -> Result<bool> {
        let (id, sealed) = (user_id.to_string(), sealed.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE users SET totp_pending = ?2 WHERE id = ?1 AND deleted_ms IS NULL",
                params![id, sealed],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn confirm_totp(
        &self,
        user_id: &str,
        pending: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool> {
        let (id, pending) = (user_id.to_string(), pending.to_string());
        let hashes = recovery_hashes.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL,
                 totp_last_step = ?3 WHERE id = ?1 AND totp_pending = ?2 AND deleted_ms IS NULL",
                params![id, pending, step],
            )?;
            if n == 1 {
                tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&id])?;
                for hash in &hashes {
                    tx.execute(
                        "INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)",
                        params![id, hash],
                    )?;
                }
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn disable_totp(&self, user_id: &str) -> Result<bool> {
        let id = user_id.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
                 WHERE id = ?1 AND deleted_ms IS NULL",
                [&id],
            )?;
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&id])?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let id = user_id.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_secret IS NOT NULL
                 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                params![id, step],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn use_recovery_code(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<bool> {
        let (id, hash) = (user_id.to_string(), hash.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE recovery_codes SET used_ms = ?3
                 WHERE user_id = ?1 AND hash = ?2 AND used_ms IS NULL",
                params![id, hash, now_ms],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn recovery_codes_left(&self, user_id: &str) -> Result<u32> {
        let id = user_id.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND used_ms IS NULL",
                [id],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .map(|n| n as u32)
    }

    async fn login_failures(&self, subject: &str) -> Result<Option<LoginFailures>> {
        let subject = subject.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT failures, last_ms FROM login_failures WHERE subject = ?1",
                [subject],
                |r| {
                    Ok(LoginFailures {
                        failures: r.get::<_, i64>(0)? as u32,
                        last_ms: r.get(1)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn record_login_failure(
        &self,
        subject: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<LoginFailures> {
        let subject = subject.to_string();
        self.call(move |c| {
            c.query_row(
                "INSERT INTO login_failures (subject, failures, last_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT (subject) DO UPDATE SET
                   failures = CASE WHEN login_failures.last_ms < ?2 - ?3 THEN 1
                                   ELSE login_failures.failures + 1 END,
                   last_ms = ?2
                 RETURNING failures, last_ms",
                params![subject, now_ms, window_ms],
                |r| {
                    Ok(LoginFailures {
                        failures: r.get::<_, i64>(0)? as u32,
                        last_ms: r.get(1)?,
                    })
                },
            )
        })
        .await
    }

    async fn clear_login_failures(&self, subject: &str) -> Result<()> {
        let subject = subject.to_string();
        self.call(move |c| {
            c.execute("DELETE FROM login_failures WHERE subject = ?1", [subject])
                .map(drop)
        })
        .await
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        let s = session.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    s.id,
                    s.user_id,
                    s.workspace_id,
                    s.hash,
                    s.created_ms,
                    s.expires_ms,
                    s.revoked_ms
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<Session>> {
        let hash = hash.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE hash = ?1"
            ))?
            .query_row([hash], session_row)
            .optional()
        })
        .await
    }

    async fn session_and_role(&self, hash: &str) -> Result<Option<(Session, Option<Role>)>> {
        let hash = hash.to_string();
        self.read_by_key(move |c| {
            c.prepare_cached(
                "SELECT s.id, s.user_id, s.workspace_id, s.hash, s.created_ms, s.expires_ms,
                        s.revoked_ms, m.role
                 FROM sessions s
                 LEFT JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.user_id
                 WHERE s.hash = ?1",
            )?
            .query_row([hash], |r| {
                let role: Option<String> = r.get(7)?;
                Ok((session_row(r)?, role.as_deref().and_then(Role::parse)))
            })
            .optional()
        })
        .await
    }

    async fn revoke_session(&self, id: &str, now_ms: i64) -> Result<bool> {
        let id = id.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE sessions SET revoked_ms = coalesce(revoked_ms, ?2) WHERE id = ?1",
                params![id, now_ms],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn rotate_key(&self, old_id: &str, new: &ApiKey, old_until_ms: i64) -> Result<bool> {
        let (old, new) = (old_id.to_string(), new.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE api_keys SET replaced_by = ?2,
                 expires_ms = CASE WHEN expires_ms IS NOT NULL AND expires_ms < ?3
                                   THEN expires_ms ELSE ?3 END
                 WHERE id = ?1 AND revoked_ms IS NULL AND replaced_by IS NULL",
                params![old, new.id, old_until_ms],
            )?;
            if n == 1 {
                insert_key(&tx, &new)?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn create_webhook(&self, webhook: &Webhook) -> Result<()> {
        let w = webhook.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO webhooks ({WEBHOOK_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    w.id,
                    w.workspace_id,
                    w.url,
                    w.description,
                    w.events.join(" "),
                    w.secret,
                    w.old_secret,
                    w.old_secret_until_ms,
                    w.created_by,
                    w.created_ms,
                    w.updated_ms,
                    w.disabled_ms,
                    w.disabled_reason,
                    i64::from(w.failed_in_a_row)
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn webhooks(&self, workspace_id: &str) -> Result<Vec<Webhook>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = ?1 ORDER BY id"
            ))?;
            stmt.query_map([w], webhook_row)?.collect()
        })
        .await
    }

    async fn webhook(&self, workspace_id: &str, id: &str) -> Result<Option<Webhook>> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = ?1 AND id = ?2"
                ),
                [w, id],
                webhook_row,
            )
            .optional()
        })
        .await
    }

    async fn save_webhook(&self, webhook: &Webhook) -> Result<bool> {
        let w = webhook.clone();
        self.call(move |c| {
            c.execute(
                "UPDATE webhooks SET url = ?3, description = ?4, events = ?5, updated_ms = ?6,
                 disabled_ms = ?7, disabled_reason = ?8, failed_in_a_row = ?9
                 WHERE workspace_id = ?1 AND id = ?2",
                params![
                    w.workspace_id,
                    w.id,
                    w.url,
                    w.description,
                    w.events.join(" "),
                    w.updated_ms,
                    w.disabled_ms,
                    w.disabled_reason,
                    i64::from(w.failed_in_a_row)
                ],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_new: &str,
        old_until_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let (w, id, new) = (
            workspace_id.to_string(),
            id.to_string(),
            sealed_new.to_string(),
        );
        self.call(move |c| {
            c.execute(
                "UPDATE webhooks SET old_secret = secret, old_secret_until_ms = ?4, secret = ?3,
                 updated_ms = ?5
                 WHERE workspace_id = ?1 AND id = ?2",
                params![w, id, new, old_until_ms, now_ms],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn delete_webhook(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM webhook_attempts WHERE delivery_id IN
                 (SELECT d.id FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id
                  WHERE h.workspace_id = ?1 AND h.id = ?2)",
                [&w, &id],
            )?;
            tx.execute(
                "DELETE FROM webhook_deliveries WHERE webhook_id IN
                 (SELECT id FROM webhooks WHERE workspace_id = ?1 AND id = ?2)",
                [&w, &id],
            )?;
            let n = tx.execute(
                "DELETE FROM webhooks WHERE workspace_id = ?1 AND id = ?2",
                [&w, &id],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn emit_event(&self, event: &Event) -> Result<u32> {
        let event = event.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = record_event(&tx, &event)?;
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<()> {
        let d = delivery.clone();
        self.call(move |c| insert_delivery(c, &d)).await
    }

    async fn deliveries(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        before_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let (w, h, before) = (
            workspace_id.to_string(),
            webhook_id.to_string(),
            before_id.map(str::to_string),
        );
        self.call(move |c| {
            let found: Vec<Delivery> = {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                     WHERE workspace_id = ?1 AND webhook_id = ?2 AND (?3 IS NULL OR id < ?3)
                     ORDER BY id DESC LIMIT ?4"
                ))?;
                stmt.query_map(params![w, h, before, limit], delivery_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            found.into_iter().map(|d| with_attempts(c, d)).collect()
        })
        .await
    }

    async fn delivery(&self, workspace_id: &str, id: &str) -> Result<Option<Delivery>> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            let found = c
                .query_row(
                    &format!(
                        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                         WHERE workspace_id = ?1 AND id = ?2"
                    ),
                    [w, id],
                    delivery_row,
                )
                .optional()?;
            found.map(|d| with_attempts(c, d)).transpose()
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Delivery, Webhook)>> {
        let owner = owner.to_string();
        self.call(move |c| {
            // The IMMEDIATE transaction holds the write lock from the first statement,
            // so another process's claim waits and then sees these leases.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let due: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT d.id FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id
                     WHERE d.state = 'pending' AND d.next_attempt_ms <= ?1
                       AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= ?1)
                       AND h.disabled_ms IS NULL
                     ORDER BY d.next_attempt_ms, d.id LIMIT ?2",
                )?;
                stmt.query_map(params![now_ms, limit], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
            };
            let mut claimed = Vec::new();
            for id in due {
                let n = tx.execute(
                    "UPDATE webhook_deliveries SET lease_owner = ?2, lease_until_ms = ?3
                     WHERE id = ?1 AND state = 'pending'
                       AND (lease_until_ms IS NULL OR lease_until_ms <= ?4)",
                    params![id, owner, now_ms + lease_ms, now_ms],
                )?;
                if n == 1 {
                    let delivery = tx.query_row(
                        &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"),
                        [&id],
                        delivery_row,
                    )?;
                    let webhook = tx.query_row(
                        &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
                        [&delivery.webhook_id],
                        webhook_row,
                    )?;
                    claimed.push((delivery, webhook));
                }
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    async fn finish_attempt(
        &self,
        delivery_id: &str,
        owner: &str,
        attempt: &Attempt,
        end: &AttemptEnd,
        now_ms: i64,
    ) -> Result<Finished> {
        let (id, owner, a, end) = (
            delivery_id.to_string(),
            owner.to_string(),
            attempt.clone(),
            end.clone(),
        );
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (state, next, finished) = match end {
                AttemptEnd::Delivered => (DeliveryState::Delivered, None, Some(now_ms)),
                AttemptEnd::RetryAt(at) => (DeliveryState::Pending, Some(at), None),
                AttemptEnd::GaveUp { .. } | AttemptEnd::Gone { .. } => {
                    (DeliveryState::Failed, None, Some(now_ms))
                }
            };
            let n = tx.execute(
                "UPDATE webhook_deliveries SET state = ?3, attempts = attempts + 1,
                 next_attempt_ms = coalesce(?4, next_attempt_ms), finished_ms = ?5,
                 lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'",
                params![id, owner, state.as_str(), next, finished],
            )?;
            if n == 0 {
                return Ok(Finished::LeaseLost);
            }
            let number: i64 = tx.query_row(
                "SELECT attempts FROM webhook_deliveries WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, number, started_ms, duration_ms,
                 status, answer, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    number,
                    a.started_ms,
                    a.duration_ms,
                    a.status.map(i64::from),
                    a.answer,
                    a.error
                ],
            )?;
            let webhook = tx.query_row(
                &format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id =
                     (SELECT webhook_id FROM webhook_deliveries WHERE id = ?1)"
                ),
                [&id],
                webhook_row,
            )?;
            let (failed, disable) = super::after_attempt(webhook.failed_in_a_row, &end);
            let disabled = disable.is_some() && webhook.disabled_ms.is_none();
            tx.execute(
                "UPDATE webhooks SET failed_in_a_row = ?2,
                 disabled_ms = CASE WHEN ?3 THEN ?4 ELSE disabled_ms END,
                 disabled_reason = CASE WHEN ?3 THEN ?5 ELSE disabled_reason END
                 WHERE id = ?1",
                params![webhook.id, i64::from(failed), disabled, now_ms, disable],
            )?;
            if disabled {
                // The owners are told in the same transaction (the notifier routes it).
                let told = Webhook {
                    failed_in_a_row: failed,
                    ..webhook
                };
                let reason = disable.as_deref().unwrap_or_default();
                record_event(&tx, &crate::webhooks::disabled_event(&told, reason, now_ms))?;
            }
            tx.commit()?;
            Ok(Finished::Recorded { disabled })
        })
        .await
    }
    async fn create_account(&self, account: &Account) -> Result<()> {
        let a = account.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                &format!(
                    "INSERT INTO accounts ({ACCOUNT_INSERT}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    a.id,
                    a.workspace_id,
                    a.name,
                    a.network,
                    a.base_url,
                    a.handle,
                    a.settings,
                    a.credentials,
                    a.created_ms
                ],
            )?;
            super::sqlite_sync::adopt_account(&tx, &a.workspace_id, &a.id, &a.name, a.created_ms)?;
            tx.commit()
        })
        .await
    }

    async fn accounts(&self, workspace_id: &str) -> Result<Vec<Account>> {
        let w = workspace_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts a
                 WHERE a.workspace_id = ?1 AND a.deleted_ms IS NULL ORDER BY a.name"
            ))?;
            let rows = stmt.query_map([w], |r| account_row(r, 0))?;
            rows.collect()
        })
        .await
    }

    async fn account(&self, workspace_id: &str, id: &str) -> Result<Option<Account>> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts a
                     WHERE a.workspace_id = ?1 AND a.id = ?2 AND a.deleted_ms IS NULL"
                ),
                [w, id],
                |r| account_row(r, 0),
            )
            .optional()
        })
        .await
    }

    async fn take_rate_token(&self, id: &str, per_minute: u32, now_ms: i64) -> Result<RateTaken> {
        let id = id.to_string();
        let now_us = now_ms.saturating_mul(1000);
        let interval_us = RATE_WINDOW_US / i64::from(per_minute.max(1));
        self.call(move |c| {
            c.query_row(
                "INSERT INTO rate_limits (id, tat_us, allowed) VALUES (?1, ?2 + ?3, 1)
                 ON CONFLICT (id) DO UPDATE SET
                   allowed = max(rate_limits.tat_us, ?2) + ?3 - ?2 <= ?4,
                   tat_us = CASE WHEN max(rate_limits.tat_us, ?2) + ?3 - ?2 <= ?4
                                 THEN max(rate_limits.tat_us, ?2) + ?3
                                 ELSE rate_limits.tat_us END
                 RETURNING allowed, tat_us",
                params![id, now_us, interval_us, RATE_WINDOW_US],
                |r| {
                    Ok(RateTaken {
                        allowed: r.get(0)?,
                        full_at_us: r.get(1)?,
                    })
                },
            )
        })
        .await
    }

    async fn delete_account(
        &self,
        workspace_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<AccountDeletion> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: bool = tx.query_row(
                "SELECT count(*) FROM accounts
                 WHERE workspace_id = ?1 AND id = ?2 AND deleted_ms IS NULL",
                [&w, &id],
                |r| r.get::<_, i64>(0).map(|n| n == 1),
            )?;
            if !exists {
                return Ok(AccountDeletion::NotFound);
            }
            let pending: i64 = tx.query_row(
                &format!(
                    "SELECT count(*) FROM targets WHERE account_id = ?1 AND state IN {}",
                    TargetState::sql(TargetState::PENDING)
                ),
                [&id],
                |r| r.get(0),
            )?;
            if pending > 0 {
                return Ok(AccountDeletion::Pending(pending as u32));
            }
            tx.execute(
                "UPDATE accounts SET name = ?2, credentials = '', deleted_ms = ?3 WHERE id = ?1",
                params![id, format!("deleted-{id}"), now_ms],
            )?;
            tx.execute("DELETE FROM account_waits WHERE account_id = ?1", [&id])?;
            // A notification channel through the account (Slack, Discord, Matrix) goes
            // with it, with what it had still to send.
            tx.execute(
                &format!(
                    "DELETE FROM notification_sends WHERE state = 'pending' AND channel_id IN
                       (SELECT id FROM notification_channels WHERE kind IN {ACCOUNT_CHANNEL_KINDS} AND address = ?1)"
                ),
                [&id],
            )?;
            tx.execute(
                &format!(
                    "DELETE FROM notification_channels WHERE kind IN {ACCOUNT_CHANNEL_KINDS} AND address = ?1"
                ),
                [&id],
            )?;
            tx.commit()?;
            Ok(AccountDeletion::Deleted)
        })
        .await
    }

    async fn sealed_values(&self) -> Result<Vec<SealedValue>> {
        self.call(|c| {
            let mut out = Vec::new();
            for (kind, sql) in SEALED_SELECTS {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| {
                    Ok(SealedValue {
                        kind: *kind,
                        owner: r.get(0)?,
                        value: r.get(1)?,
                    })
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn reseal(&self, changes: &[(SealedValue, String)]) -> Result<bool> {
        let changes = changes.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (old, new) in &changes {
                let n = tx.execute(sealed_update(old.kind), params![old.owner, old.value, new])?;
                if n != 1 {
                    return Ok(false);
                }
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn create_post_stamped(
        &self,
        post: &Post,
        targets: &[Target],
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<()> {
        let (p, targets, events) = (post.clone(), targets.to_vec(), events.to_vec());
        let fields = fields.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_post(&tx, &p)?;
            for t in &targets {
                insert_target(&tx, t, false)?;
            }
            stamp_api_fields(&tx, &p, &fields, true)?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()
        })
        .await
    }

    async fn update_post_stamped(
        &self,
        post: &Post,
        accounts: Option<&[Target]>,
        change: Option<&TargetChange>,
        must_move: bool,
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<Option<TargetsChanged>> {
        let (p, accounts, change) = (post.clone(), accounts.map(<[_]>::to_vec), change.cloned());
        let (events, fields) = (events.to_vec(), fields.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(outcome) = change_post(&tx, &p, accounts.as_deref(), change.as_ref())? else {
                return Ok(None);
            };
            if must_move && change.is_some() && outcome.changed.is_empty() {
                return Ok(Some(outcome));
            }
            stamp_api_fields(&tx, &p, &fields, false)?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()?;
            Ok(Some(outcome))
        })
        .await
    }

    async fn ai_settings(&self, workspace_id: &str) -> Result<Option<super::AiSettings>> {
        let w = workspace_id.to_string();
        self.read(move |c| {
            c.query_row(super::sql::AI_SETTINGS, [&w], |r| {
                Ok(super::AiSettings {
                    workspace_id: r.get(0)?,
                    provider: r.get(1)?,
                    model: r.get(2)?,
                    base_url: r.get(3)?,
                    api_key: r.get(4)?,
                    max_tokens: r.get(5)?,
                    updated_ms: r.get(6)?,
                })
            })
            .optional()
        })
        .await
    }

    async fn set_ai_settings(&self, settings: &super::AiSettings) -> Result<()> {
        let a = settings.clone();
        self.call(move |c| {
            c.execute(
                super::sql::SET_AI_SETTINGS,
                params![
                    a.workspace_id,
                    a.provider,
                    a.model,
                    a.base_url,
                    a.api_key,
                    a.max_tokens,
                    a.updated_ms
                ],
            )
            .map(|_| ())
        })
        .await
    }

    async fn approval_settings(&self, workspace_id: &str) -> Result<ApprovalSettings> {
        let w = workspace_id.to_string();
        self.read(move |c| {
            let require: Option<bool> = c
                .query_row(
                    "SELECT require_approval FROM approval_settings WHERE workspace_id = ?1",
                    [&w],
                    |r| r.get(0),
                )
                .optional()?;
            let mut stmt = c.prepare_cached(
                "SELECT u.id, u.name, m.role FROM approvers x
                 JOIN members m ON m.workspace_id = x.workspace_id AND m.user_id = x.user_id
                 JOIN users u ON u.id = x.user_id
                 WHERE x.workspace_id = ?1 ORDER BY u.name",
            )?;
            let approvers = stmt
                .query_map([&w], |r| {
                    let role: String = r.get(2)?;
                    Ok(Member {
                        user_id: r.get(0)?,
                        user_name: r.get(1)?,
                        role: Role::parse(&role).unwrap_or(Role::Viewer),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ApprovalSettings {
                require_approval: require.unwrap_or(false),
                approvers,
            })
        })
        .await
    }

    async fn set_approval_settings(
        &self,
        workspace_id: &str,
        require_approval: bool,
        approver_ids: &[String],
        now_ms: i64,
    ) -> Result<()> {
        let (w, ids) = (workspace_id.to_string(), approver_ids.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO approval_settings (workspace_id, require_approval, updated_ms)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace_id) DO UPDATE
                 SET require_approval = excluded.require_approval,
                     updated_ms = excluded.updated_ms",
                params![w, require_approval, now_ms],
            )?;
            tx.execute("DELETE FROM approvers WHERE workspace_id = ?1", [&w])?;
            for id in &ids {
                tx.execute(
                    "INSERT INTO approvers (workspace_id, user_id) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                    params![w, id],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn decide_approval(
        &self,
        post: &Post,
        change: &TargetChange,
        decision: &ApprovalDecision,
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<Option<TargetsChanged>> {
        let (p, change, d) = (post.clone(), change.clone(), decision.clone());
        let (events, fields) = (events.to_vec(), fields.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(outcome) = change_post(&tx, &p, None, Some(&change))? else {
                return Ok(None);
            };
            if outcome.changed.is_empty() {
                return Ok(Some(outcome));
            }
            insert_decision(&tx, &d)?;
            stamp_api_fields(&tx, &p, &fields, false)?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()?;
            Ok(Some(outcome))
        })
        .await
    }

    async fn approval_history(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<ApprovalDecision>> {
        let (w, p) = (workspace_id.to_string(), post_id.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, d.workspace_id, d.post_id, d.user_id, u.name, d.decision,
                        d.comment, d.created_ms
                 FROM approval_decisions d LEFT JOIN users u ON u.id = d.user_id
                 WHERE d.workspace_id = ?1 AND d.post_id = ?2
                 ORDER BY d.created_ms, d.id",
            )?;
            let rows = stmt.query_map([w, p], |r| {
                let decision: String = r.get(5)?;
                Ok(ApprovalDecision {
                    id: r.get(0)?,
                    workspace_id: r.get(1)?,
                    post_id: r.get(2)?,
                    user_id: r.get(3)?,
                    user_name: r.get(4)?,
                    decision: Decision::parse(&decision).unwrap_or(Decision::Missed),
                    comment: r.get(6)?,
                    created_ms: r.get(7)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn posts_awaiting_approval(
        &self,
        workspace_id: &str,
        before_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Post>> {
        let (w, before) = (workspace_id.to_string(), before_id.map(str::to_string));
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {POST_COLUMNS} FROM posts p
                 WHERE p.workspace_id = ?1 AND p.deleted_ms IS NULL
                   AND (?2 IS NULL OR p.id < ?2)
                   AND EXISTS (SELECT 1 FROM targets t WHERE t.post_id = p.id
                               AND t.state = '{}')
                 ORDER BY p.id DESC LIMIT ?3",
                TargetState::AwaitingApproval.as_str()
            ))?;
            let rows = stmt.query_map(params![w, before, limit], post_row)?;
            rows.collect()
        })
        .await
    }

    async fn miss_unapproved(&self, now_ms: i64, events_of: EventsOf) -> Result<Vec<Unapproved>> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let due: Vec<(String, String)> = {
                let mut stmt = tx.prepare_cached(&unapproved_due_sql())?;
                let rows = stmt.query_map([now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut missed: Vec<Unapproved> = Vec::new();
            for (target_id, post_id) in &due {
                tx.execute(
                    "UPDATE targets SET state = 'missed', last_error = ?2, updated_ms = ?3
                     WHERE id = ?1",
                    params![target_id, NOT_APPROVED, now_ms],
                )?;
                let account: String = tx.query_row(
                    "SELECT a.name FROM targets t JOIN accounts a ON a.id = t.account_id
                     WHERE t.id = ?1",
                    [target_id],
                    |r| r.get(0),
                )?;
                if let Some(last) = missed.last_mut().filter(|u| u.post.id == *post_id) {
                    last.accounts.push(account);
                    continue;
                }
                let (post, author_name) = tx.query_row(
                    &format!(
                        "SELECT {POST_JOIN_COLUMNS}, u.name FROM posts p
                         JOIN users u ON u.id = p.author_id WHERE p.id = ?1"
                    ),
                    [post_id],
                    |r| Ok((post_row_at(r, 0)?, r.get::<_, String>(10)?)),
                )?;
                let approvers = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id
                         WHERE m.workspace_id = ?1 AND (m.role IN ('owner', 'admin')
                           OR EXISTS (SELECT 1 FROM approvers x WHERE
                                      x.workspace_id = m.workspace_id AND x.user_id = m.user_id))
                         ORDER BY u.name",
                    )?;
                    let rows = stmt.query_map([&post.workspace_id], |r| r.get(0))?;
                    rows.collect::<rusqlite::Result<Vec<String>>>()?
                };
                missed.push(Unapproved {
                    post,
                    author_name,
                    accounts: vec![account],
                    approvers,
                });
            }
            for unapproved in &missed {
                insert_decision(
                    &tx,
                    &ApprovalDecision {
                        id: uuid::Uuid::now_v7().to_string(),
                        workspace_id: unapproved.post.workspace_id.clone(),
                        post_id: unapproved.post.id.clone(),
                        user_id: None,
                        user_name: None,
                        decision: Decision::Missed,
                        comment: None,
                        created_ms: now_ms,
                    },
                )?;
                for event in events_of(unapproved, now_ms) {
                    record_event(&tx, &event)?;
                }
            }
            tx.commit()?;
            Ok(missed)
        })
        .await
    }

    async fn targets(&self, workspace_id: &str, post_id: &str) -> Result<Vec<TargetView>> {
        let (w, p) = (workspace_id.to_string(), post_id.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TARGET_COLUMNS}, a.name, a.network FROM targets t
                 JOIN accounts a ON a.id = t.account_id
                 WHERE t.workspace_id = ?1 AND t.post_id = ?2 ORDER BY a.name"
            ))?;
            let rows = stmt.query_map([w, p], |r| target_view(r, 0))?;
            rows.collect()
        })
        .await
    }

    async fn targets_changed(
        &self,
        workspace_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<TargetView>> {
        let w = workspace_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TARGET_COLUMNS}, a.name, a.network FROM targets t
                 JOIN accounts a ON a.id = t.account_id
                 WHERE t.workspace_id = ?1 AND t.updated_ms > ?2
                 ORDER BY t.updated_ms, t.id LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![w, since_ms, i64::from(limit)], |r| {
                target_view(r, 0)
            })?;
            rows.collect()
        })
        .await
    }

    async fn attempts(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<(String, PublishAttempt)>> {
        let (w, p) = (workspace_id.to_string(), post_id.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.name, x.target_id, x.part, x.started_ms, x.ended_ms, x.outcome,
                        x.http_status, x.error
                 FROM attempts x JOIN targets t ON t.id = x.target_id
                 JOIN accounts a ON a.id = t.account_id
                 WHERE t.workspace_id = ?1 AND t.post_id = ?2
                 ORDER BY x.started_ms, x.id",
            )?;
            let rows = stmt.query_map([w, p], |r| {
                Ok((
                    r.get(0)?,
                    PublishAttempt {
                        target_id: r.get(1)?,
                        part: r.get::<_, i64>(2)? as u32,
                        started_ms: r.get(3)?,
                        ended_ms: r.get(4)?,
                        outcome: r.get(5)?,
                        http_status: r.get::<_, Option<i64>>(6)?.map(|s| s as u16),
                        error: r.get(7)?,
                        in_doubt: false,
                    },
                ))
            })?;
            rows.collect()
        })
        .await
    }

    async fn calendar(
        &self,
        workspace_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CalendarEntry>> {
        let w = workspace_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TARGET_COLUMNS}, a.name, a.network, p.title FROM targets t
                 JOIN accounts a ON a.id = t.account_id JOIN posts p ON p.id = t.post_id
                 WHERE t.workspace_id = ?1 AND t.due_ms >= ?2 AND t.due_ms < ?3
                   AND t.state IN {} AND p.deleted_ms IS NULL
                 ORDER BY t.due_ms, t.id",
                TargetState::sql(TargetState::SCHEDULED_ONCE)
            ))?;
            let rows = stmt.query_map(params![w, from_ms, to_ms], |r| {
                Ok(CalendarEntry {
                    target: target_view(r, 0)?,
                    post_title: r.get(TARGET_WIDTH + 2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn claim_due(&self, claim: &Claim) -> Result<ClaimOutcome> {
        let claim = claim.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = claim.now_ms;
            let skip = serde_json::to_string(&claim.skip_accounts).unwrap_or_else(|_| "[]".into());
            let mut outcome = ClaimOutcome::default();
            if let Some(before) = claim.missed_before_ms {
                let mut stmt = tx.prepare_cached(&mark_missed_sql())?;
                let rows = stmt.query_map(params![now, before, claim.only_post], |r| {
                    Ok(MissedTarget {
                        target_id: r.get(0)?,
                        post_id: r.get(1)?,
                        workspace_id: r.get(2)?,
                        account_id: r.get(3)?,
                        due_ms: r.get(4)?,
                    })
                })?;
                outcome.missed = rows.collect::<rusqlite::Result<_>>()?;
            }
            let ids: Vec<(String, bool)> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT id, taken_over FROM (
                        SELECT t.id, coalesce(t.next_attempt_ms, t.due_ms) AS at,
                               t.state = '{publishing}' AS taken_over,
                               row_number() OVER (PARTITION BY t.account_id
                                   ORDER BY t.due_ms, t.id) AS nth
                        FROM targets t WHERE {due} AND {ready} AND {only_post}
                          AND {skip} AND {elsewhere})
                     WHERE nth <= ?3 ORDER BY at, id LIMIT ?2",
                    publishing = TargetState::Publishing.as_str(),
                    due = due_sql("?1"),
                    ready = account_ready_sql("?1"),
                    only_post = only_post_sql("?4"),
                    skip = SKIP_5,
                    elsewhere = not_claimed_elsewhere_sql("?1", "?6"),
                ))?;
                let rows = stmt.query_map(
                    params![
                        now,
                        claim.limit,
                        claim.per_account,
                        claim.only_post,
                        skip,
                        claim.owner
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (id, taken_over) in ids {
                take(&tx, &claim, &id, taken_over, &mut outcome)?;
            }
            // One probe per open circuit whose time has come (its targets were left out).
            let ready: Vec<(String, String)> = {
                let mut stmt = tx.prepare_cached(PROBE_READY)?;
                let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (network, base_url) in ready {
                let probe: Option<(String, bool)> = tx
                    .query_row(
                        &probe_target_sql(SKIP_3),
                        params![now, claim.only_post, skip, network, base_url],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((id, taken_over)) = probe else {
                    continue;
                };
                if take(&tx, &claim, &id, taken_over, &mut outcome)? {
                    tx.execute(
                        "UPDATE circuits SET probe_target = ?3, probe_until_ms = ?4
                         WHERE network = ?1 AND base_url = ?2",
                        params![network, base_url, id, claim.lease_until_ms],
                    )?;
                    if let Some(last) = outcome.claimed.last_mut() {
                        last.probe = true;
                    }
                }
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn renew_lease(&self, target_id: &str, owner: &str, until_ms: i64) -> Result<bool> {
        let (id, owner) = (target_id.to_string(), owner.to_string());
        self.call(move |c| {
            c.execute(
                &format!(
                    "UPDATE targets SET lease_expires_ms = ?3
                     WHERE id = ?1 AND lease_owner = ?2 AND state = '{}'",
                    TargetState::Publishing.as_str()
                ),
                params![id, owner, until_ms],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn begin_part(
        &self,
        target_id: &str,
        owner: &str,
        part: u32,
        planned: u32,
        lease_until_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let (id, owner) = (target_id.to_string(), owner.to_string());
        self.call(move |c| {
            c.execute(
                &format!(
                    "UPDATE targets SET
                        in_flight_ms = CASE WHEN in_flight = ?3 AND in_flight_ms IS NOT NULL
                            THEN in_flight_ms ELSE ?6 END,
                        in_flight = ?3, planned_parts = ?4, lease_expires_ms = ?5
                     WHERE id = ?1 AND lease_owner = ?2 AND state = '{}'",
                    TargetState::Publishing.as_str()
                ),
                params![id, owner, part, planned, lease_until_ms, now_ms],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn record_part(
        &self,
        target_id: &str,
        owner: &str,
        published: &serde_json::Value,
        attempt: &PublishAttempt,
    ) -> Result<bool> {
        let (id, owner, attempt) = (target_id.to_string(), owner.to_string(), attempt.clone());
        let part = published.clone();
        self.call_durable(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let parts: Option<String> = tx
                .query_row(
                    &format!(
                        "SELECT parts FROM targets
                         WHERE id = ?1 AND lease_owner = ?2 AND state = '{}'",
                        TargetState::Publishing.as_str()
                    ),
                    [&id, &owner],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(parts) = parts else {
                return Ok(false);
            };
            let parts = add_part(&parts, attempt.part, part);
            tx.execute(
                "UPDATE targets SET parts = ?3, in_flight = NULL, in_flight_ms = NULL,
                 in_flight_stage = NULL, updated_ms = ?4 WHERE id = ?1 AND lease_owner = ?2",
                params![id, owner, parts, attempt.ended_ms],
            )?;
            insert_publish_attempt(&tx, &attempt)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn finish_target(
        &self,
        target_id: &str,
        owner: &str,
        finish: &Finish,
        attempt: Option<&PublishAttempt>,
        now_ms: i64,
        events: &[Event],
    ) -> Result<bool> {
        let (id, owner, attempt) = (target_id.to_string(), owner.to_string(), attempt.cloned());
        let events = events.to_vec();
        let f = FinishColumns::of(finish, attempt.as_ref());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                &format!(
                    "UPDATE targets SET
                        state = CASE WHEN ?3 IS NOT NULL THEN ?3
                                     WHEN attempt_count > 0 THEN '{waiting_retry}'
                                     ELSE '{scheduled}' END,
                        last_error = CASE WHEN ?3 IS NULL THEN last_error ELSE ?4 END,
                        next_attempt_ms = ?5, attempt_count = attempt_count + ?6,
                        lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ?7,
                        in_flight = CASE WHEN ?8 THEN NULL ELSE in_flight END,
                        in_flight_ms = CASE WHEN ?8 THEN NULL ELSE in_flight_ms END,
                        in_flight_stage = CASE WHEN ?8 THEN NULL ELSE in_flight_stage END
                     WHERE id = ?1 AND lease_owner = ?2 AND state = '{publishing}'",
                    waiting_retry = TargetState::WaitingRetry.as_str(),
                    scheduled = TargetState::Scheduled.as_str(),
                    publishing = TargetState::Publishing.as_str(),
                ),
                params![
                    id,
                    owner,
                    f.state,
                    f.error,
                    f.next_attempt_ms,
                    f.count,
                    now_ms,
                    f.settled
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            if let Some(attempt) = &attempt {
                insert_publish_attempt(&tx, attempt)?;
            }
            tx.execute(
                "UPDATE circuits SET probe_target = NULL, probe_until_ms = NULL
                 WHERE probe_target = ?1",
                [&id],
            )?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn release_claims(&self, owner: &str, now_ms: i64) -> Result<u64> {
        let owner = owner.to_string();
        self.call(move |c| {
            c.execute(
                &format!(
                    "UPDATE targets SET
                        state = CASE WHEN attempt_count > 0 THEN '{waiting_retry}'
                                     ELSE '{scheduled}' END,
                        lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ?2
                     WHERE lease_owner = ?1 AND state = '{publishing}' AND in_flight IS NULL",
                    waiting_retry = TargetState::WaitingRetry.as_str(),
                    scheduled = TargetState::Scheduled.as_str(),
                    publishing = TargetState::Publishing.as_str(),
                ),
                params![owner, now_ms],
            )
        })
        .await
        .map(|n| n as u64)
    }

    async fn hold_account(&self, account_id: &str, until_ms: i64, reason: &str) -> Result<()> {
        let (id, reason) = (account_id.to_string(), reason.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO account_waits (account_id, until_ms, reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id) DO UPDATE SET until_ms = excluded.until_ms,
                   reason = excluded.reason WHERE account_waits.until_ms < excluded.until_ms",
                params![id, until_ms, reason],
            )
            .map(drop)
        })
        .await
    }

    async fn account_wait(&self, account_id: &str, now_ms: i64) -> Result<Option<(i64, String)>> {
        let id = account_id.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT until_ms, reason FROM account_waits WHERE account_id = ?1 AND until_ms > ?2",
                params![id, now_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await
    }

    async fn next_due(&self) -> Result<Option<i64>> {
        self.call(|c| {
            let due: Option<i64> = c.query_row(&next_due_sql(), [], |r| r.get(0))?;
            Ok(due.into_iter().chain(probe_times(c, i64::MIN)?).min())
        })
        .await
    }

    async fn next_due_after(&self, after_ms: i64, skip_accounts: &[String]) -> Result<Option<i64>> {
        let skip = serde_json::to_string(skip_accounts).unwrap_or_else(|_| "[]".into());
        self.call(move |c| {
            let due: Option<i64> =
                c.query_row(&next_due_after_sql(SKIP_2), params![after_ms, skip], |r| {
                    r.get(0)
                })?;
            Ok(due.into_iter().chain(probe_times(c, after_ms)?).min())
        })
        .await
    }

    async fn note_stage(&self, target_id: &str, owner: &str, stage: &str) -> Result<bool> {
        let (id, owner, stage) = (target_id.to_string(), owner.to_string(), stage.to_string());
        self.call_durable(move |c| {
            c.execute(
                &format!(
                    "UPDATE targets SET in_flight_stage = ?3
                     WHERE id = ?1 AND lease_owner = ?2 AND state = '{}'
                       AND in_flight IS NOT NULL",
                    TargetState::Publishing.as_str()
                ),
                params![id, owner, stage],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn held_accounts(&self, now_ms: i64) -> Result<Vec<HeldAccount>> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&held_accounts_sql())?;
            let rows = stmt.query_map([now_ms], |r| {
                Ok(HeldAccount {
                    account_id: r.get(0)?,
                    until_ms: r.get(1)?,
                    reason: r.get(2)?,
                    next_ms: r.get(3)?,
                    targets: r.get::<_, i64>(4)? as u32,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn data_version(&self) -> Result<i64> {
        self.call(|c| c.query_row(DATA_VERSION, [], |r| r.get(0)))
            .await
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<Account>> {
        let id = id.to_string();
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?1"),
                [&id],
                |r| account_row(r, 0),
            )
            .optional()
        })
        .await
    }

    async fn replace_credentials(&self, account_id: &str, sealed: &str) -> Result<bool> {
        let (id, sealed) = (account_id.to_string(), sealed.to_string());
        self.call_durable(move |c| {
            c.execute(
                "UPDATE accounts SET credentials = ?2 WHERE id = ?1 AND deleted_ms IS NULL",
                params![id, sealed],
            )
        })
        .await
        .map(|n| n == 1)
    }

    async fn server_limits(&self, account_id: &str) -> Result<Option<(String, i64)>> {
        let id = account_id.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT server_limits, server_limits_ms FROM accounts
                 WHERE id = ?1 AND server_limits IS NOT NULL AND server_limits_ms IS NOT NULL",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await
    }

    async fn save_server_limits(&self, account_id: &str, limits: &str, read_ms: i64) -> Result<()> {
        let (id, limits) = (account_id.to_string(), limits.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE accounts SET server_limits = ?2, server_limits_ms = ?3 WHERE id = ?1",
                params![id, limits, read_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn published_targets(&self, post_id: &str) -> Result<Vec<(String, Account, String)>> {
        let id = post_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT t.id, t.parts, {ACCOUNT_COLUMNS} FROM targets t
                 JOIN accounts a ON a.id = t.account_id
                 WHERE t.post_id = ?1 AND t.parts <> '[]' AND t.state NOT IN ('{}', '{}')
                 ORDER BY t.id",
                TargetState::Publishing.as_str(),
                TargetState::Cancelled.as_str()
            ))?;
            let rows = stmt.query_map([&id], |r| Ok((r.get(0)?, account_row(r, 2)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    async fn mark_unpublished(&self, target_id: &str, now_ms: i64) -> Result<()> {
        let id = target_id.to_string();
        self.call(move |c| {
            c.execute(&mark_unpublished_sql(), params![id, now_ms])
                .map(drop)
        })
        .await
    }

    async fn take_sign_in_lock(
        &self,
        account_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool> {
        let (id, holder) = (account_id.to_string(), holder.to_string());
        self.call(move |c| c.execute(TAKE_SIGN_IN_LOCK, params![id, holder, now_ms, until_ms]))
            .await
            .map(|n| n == 1)
    }

    async fn release_sign_in_lock(&self, account_id: &str, holder: &str) -> Result<()> {
        let (id, holder) = (account_id.to_string(), holder.to_string());
        self.call(move |c| {
            c.execute(RELEASE_SIGN_IN_LOCK, params![id, holder])
                .map(drop)
        })
        .await
    }

    async fn mark_needs_sign_in(
        &self,
        account_id: &str,
        why: &str,
        events: &[Event],
    ) -> Result<bool> {
        let (id, why, events) = (account_id.to_string(), why.to_string(), events.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE accounts SET needs_sign_in = ?2 WHERE id = ?1 AND needs_sign_in IS NULL",
                params![id, why],
            )?;
            if n == 1 {
                for event in &events {
                    record_event(&tx, event)?;
                }
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn signed_in_again(&self, account_id: &str, now_ms: i64) -> Result<bool> {
        let id = account_id.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let cleared = tx.execute(super::sql::SIGNED_IN_AGAIN, [&id])? > 0;
            if cleared {
                tx.execute(&super::sql::touch_waiting_sql(), params![id, now_ms])?;
            }
            tx.commit()?;
            Ok(cleared)
        })
        .await
    }

    async fn accounts_needing_sign_in(&self) -> Result<Vec<(String, String)>> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, needs_sign_in FROM accounts WHERE needs_sign_in IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    async fn note_outage(
        &self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)> {
        let (circuit, error, rule) = (circuit.clone(), error.to_string(), *rule);
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = read_circuit(&tx, &circuit)?
                .unwrap_or_else(|| CircuitState::closed(circuit.clone()));
            let (state, event) = after_outage(current, outage, &error, &rule);
            let v = circuit_values(&state);
            tx.execute(CIRCUIT_UPSERT, params![v.0, v.1, v.2, v.3, v.4, v.5, v.6])?;
            tx.commit()?;
            Ok((state, event))
        })
        .await
    }

    async fn note_answer(&self, circuit: &Circuit, at_ms: i64) -> Result<Option<CircuitEvent>> {
        let circuit = circuit.clone();
        self.call(move |c| {
            if read_circuit(c, &circuit)?.is_none() {
                return Ok(None);
            }
            let removed = c
                .query_row(
                    &format!(
                        "DELETE FROM circuits WHERE network = ?1 AND base_url = ?2
                         RETURNING {CIRCUIT_COLUMNS}"
                    ),
                    params![circuit.network.name(), circuit.base_url],
                    circuit_raw,
                )
                .optional()?
                .and_then(circuit_state);
            let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
            Ok(removed.and_then(|state| after_answer(&state, at)))
        })
        .await
    }

    async fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>> {
        let circuit = circuit.clone();
        self.call(move |c| read_circuit(c, &circuit)).await
    }

    async fn open_circuits(&self) -> Result<Vec<CircuitState>> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE opened_ms IS NOT NULL
                 ORDER BY opened_ms, network, base_url"
            ))?;
            let rows = stmt.query_map([], circuit_raw)?;
            Ok(rows
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .filter_map(circuit_state)
                .collect())
        })
        .await
    }

    async fn target_counts(&self) -> Result<Vec<(TargetState, u64)>> {
        self.call(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT state, count(*) FROM targets GROUP BY state ORDER BY state",
            )?;
            let rows = stmt.query_map([], |r| {
                let state: String = r.get(0)?;
                Ok((state_of(&state), r.get::<_, i64>(1)? as u64))
            })?;
            rows.collect()
        })
        .await
    }

    async fn purge(&self, purge: &Purge) -> Result<Purged> {
        let p = *purge;
        self.call(move |c| {
            let tx = c.transaction()?;
            let sessions = tx.execute(
                "DELETE FROM sessions WHERE expires_ms < ?1 OR revoked_ms < ?1",
                [p.sessions_ended_before_ms],
            )?;
            let idempotency_keys = tx.execute(
                "DELETE FROM idempotency_keys WHERE created_ms < ?1",
                [p.idempotency_before_ms],
            )?;
            let login_failures = tx.execute(
                "DELETE FROM login_failures WHERE last_ms < ?1",
                [p.login_failures_before_ms],
            )?;
            let rate_limits = tx.execute(
                "DELETE FROM rate_limits WHERE tat_us < ?1",
                [p.rate_limits_full_before_ms.saturating_mul(1000)],
            )?;
            let webhook_attempts = tx.execute(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (
                   SELECT id FROM webhook_deliveries
                   WHERE state <> 'pending' AND finished_ms < ?1)",
                [p.deliveries_finished_before_ms],
            )?;
            let webhook_deliveries = tx.execute(
                "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_ms < ?1",
                [p.deliveries_finished_before_ms],
            )?;
            let attempts = tx.execute(
                &format!(
                    "DELETE FROM attempts WHERE ended_ms < ?1 AND target_id IN (
                       SELECT id FROM targets WHERE state NOT IN {})",
                    TargetState::sql(ATTEMPTS_KEPT)
                ),
                [p.attempts_ended_before_ms],
            )?;
            let [events, sends, inbox] = super::notifications::sql::PURGE
                .map(|sql| tx.execute(sql, [p.notifications_before_ms]));
            let (events, sends, inbox) = (events?, sends?, inbox?);
            tx.commit()?;
            Ok(Purged {
                notification_events: events as u64,
                notification_sends: sends as u64,
                inbox_items: inbox as u64,
                sessions: sessions as u64,
                idempotency_keys: idempotency_keys as u64,
                login_failures: login_failures as u64,
                rate_limits: rate_limits as u64,
                webhook_deliveries: webhook_deliveries as u64,
                webhook_attempts: webhook_attempts as u64,
                attempts: attempts as u64,
            })
        })
        .await
    }

    async fn put_template(&self, template: &StoredTemplate) -> Result<bool> {
        self.put_template_now(template).await
    }
    async fn templates(&self, workspace_id: &str) -> Result<Vec<StoredTemplate>> {
        self.templates_now(workspace_id).await
    }
    async fn template(&self, workspace_id: &str, name: &str) -> Result<Option<StoredTemplate>> {
        self.template_now(workspace_id, name).await
    }
    async fn delete_template(&self, workspace_id: &str, name: &str) -> Result<bool> {
        self.delete_template_now(workspace_id, name).await
    }
    async fn put_voice(&self, voice: &StoredVoice) -> Result<bool> {
        self.put_voice_now(voice).await
    }
    async fn voices(&self, workspace_id: &str) -> Result<Vec<StoredVoice>> {
        self.voices_now(workspace_id).await
    }
    async fn voice(&self, workspace_id: &str, name: &str) -> Result<Option<StoredVoice>> {
        self.voice_now(workspace_id, name).await
    }
    async fn delete_voice(&self, workspace_id: &str, name: &str) -> Result<bool> {
        self.delete_voice_now(workspace_id, name).await
    }
    async fn create_trigger(&self, trigger: &Trigger) -> Result<()> {
        self.create_trigger_now(trigger).await
    }
    async fn triggers(&self, workspace_id: &str) -> Result<Vec<Trigger>> {
        self.triggers_now(workspace_id).await
    }
    async fn trigger(&self, id: &str) -> Result<Option<Trigger>> {
        self.trigger_now(id).await
    }
    async fn delete_trigger(&self, workspace_id: &str, id: &str) -> Result<bool> {
        self.delete_trigger_now(workspace_id, id).await
    }
    async fn fire_trigger(
        &self,
        trigger_id: &str,
        dedupe_key: &str,
        post: &Post,
        targets: &[Target],
        events: &[Event],
        queue: Option<&super::Queued>,
        stamps: &super::PostStamps,
    ) -> Result<Fired> {
        self.fire_trigger_now(trigger_id, dedupe_key, post, targets, events, queue, stamps)
            .await
    }
    async fn create_feed(&self, feed: &super::Feed) -> Result<()> {
        self.create_feed_now(feed).await
    }
    async fn feeds(&self, workspace_id: &str) -> Result<Vec<super::Feed>> {
        self.feeds_now(workspace_id).await
    }
    async fn delete_feed(&self, workspace_id: &str, id: &str) -> Result<bool> {
        self.delete_feed_now(workspace_id, id).await
    }
    async fn claim_feeds(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<super::Feed>> {
        self.claim_feeds_now(owner, now_ms, lease_ms, limit).await
    }
    async fn finish_poll(
        &self,
        feed_id: &str,
        owner: &str,
        polled: &super::Polled,
    ) -> Result<bool> {
        self.finish_poll_now(feed_id, owner, polled).await
    }
    async fn see_feed_items(&self, feed_id: &str, keys: &[String], now_ms: i64) -> Result<()> {
        self.see_feed_items_now(feed_id, keys, now_ms).await
    }
    async fn post_feed_item(
        &self,
        feed_id: &str,
        keys: &[String],
        post: &Post,
        targets: &[Target],
        events: &[Event],
        queue: Option<&super::Queued>,
        stamps: &super::PostStamps,
    ) -> Result<bool> {
        self.post_feed_item_now(feed_id, keys, post, targets, events, queue, stamps)
            .await
    }
    async fn set_queue_slots(&self, slots: &super::QueueSlots) -> Result<bool> {
        self.set_queue_slots_now(slots).await
    }
    async fn queue_slots(
        &self,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<Option<super::QueueSlots>> {
        self.queue_slots_now(workspace_id, account_id).await
    }
    async fn all_queue_slots(&self, workspace_id: &str) -> Result<Vec<super::QueueSlots>> {
        self.all_queue_slots_now(workspace_id).await
    }
    async fn clear_queue_slots(&self, workspace_id: &str, account_id: &str) -> Result<bool> {
        self.clear_queue_slots_now(workspace_id, account_id).await
    }
    async fn taken_slots(
        &self,
        workspace_id: &str,
        account_ids: &[String],
        from_ms: i64,
    ) -> Result<Vec<i64>> {
        self.taken_slots_now(workspace_id, account_ids, from_ms)
            .await
    }
    async fn create_queued_post(
        &self,
        post: &Post,
        targets: &[Target],
        queued: &super::Queued,
        stamps: &super::PostStamps,
    ) -> Result<Post> {
        self.create_queued_post_now(post, targets, queued, stamps)
            .await
    }
    async fn schedule_queued(
        &self,
        post: &Post,
        awaiting_approval: bool,
        queued: &super::Queued,
        stamps: &super::PostStamps,
    ) -> Result<Option<(Post, TargetsChanged)>> {
        self.schedule_queued_now(post, awaiting_approval, queued, stamps)
            .await
    }

    async fn add_version(
        &self,
        version: &super::SyncVersion,
        writes: &[super::FieldWrite],
    ) -> Result<super::AddVersion> {
        self.add_version_now(version, writes, None).await
    }

    async fn add_version_awaiting(
        &self,
        version: &super::SyncVersion,
        writes: &[super::FieldWrite],
        approval: &super::SyncApproval,
    ) -> Result<super::AddVersion> {
        self.add_version_now(version, writes, Some(approval)).await
    }

    async fn versions_after(
        &self,
        workspace_id: &str,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<super::SyncVersion>>> {
        self.versions_after_now(workspace_id, since, limit).await
    }

    async fn post_fields(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<super::StampedField>> {
        self.post_fields_now(workspace_id, post_id).await
    }

    async fn add_media(
        &self,
        workspace_id: &str,
        sha256: &str,
        size: i64,
        now_ms: i64,
    ) -> Result<bool> {
        self.add_media_now(workspace_id, sha256, size, now_ms).await
    }

    async fn known_media(&self, workspace_id: &str, sha256s: &[String]) -> Result<Vec<String>> {
        self.known_media_now(workspace_id, sha256s).await
    }

    async fn latest_version(&self, workspace_id: &str) -> Result<Option<String>> {
        self.latest_version_now(workspace_id).await
    }

    async fn snapshot_page(
        &self,
        workspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<SnapshotPage> {
        self.snapshot_page_now(workspace_id, after, limit).await
    }

    async fn move_session(&self, old_id: &str, new: &Session, now_ms: i64) -> Result<bool> {
        self.move_session_now(old_id, new, now_ms).await
    }

    // Notifications: `sqlite_notify.rs` / `postgres_notify.rs`.

    async fn claim_notification_events(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<NotificationEvent>> {
        self.claim_notification_events_now(owner, now_ms, lease_ms, limit)
            .await
    }

    async fn route_notification_event(
        &self,
        event_id: &str,
        owner: &str,
        routed: &Routed,
        now_ms: i64,
    ) -> Result<bool> {
        self.route_notification_event_now(event_id, owner, routed, now_ms)
            .await
    }

    async fn notification_events_between(
        &self,
        workspace_id: &str,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<NotificationEvent>> {
        self.notification_events_between_now(workspace_id, from_ms, until_ms)
            .await
    }

    async fn claim_notification_sends(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(NotificationSend, Channel)>> {
        self.claim_notification_sends_now(owner, now_ms, lease_ms, limit)
            .await
    }

    async fn finish_notification_send(
        &self,
        id: &str,
        owner: &str,
        end: &SendEnd,
        now_ms: i64,
    ) -> Result<bool> {
        self.finish_notification_send_now(id, owner, end, now_ms)
            .await
    }

    async fn notification_send(&self, id: &str) -> Result<Option<NotificationSend>> {
        self.notification_send_now(id).await
    }

    async fn notification_sends(&self, user_id: &str, limit: u32) -> Result<Vec<NotificationSend>> {
        self.notification_sends_now(user_id, limit).await
    }

    async fn inbox(&self, query: &InboxQuery) -> Result<Vec<InboxItem>> {
        self.inbox_now(query).await
    }

    async fn mark_inbox_read(
        &self,
        user_id: &str,
        workspace_id: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        self.mark_inbox_read_now(user_id, workspace_id, id, now_ms)
            .await
    }

    async fn inbox_item_exists(&self, user_id: &str, workspace_id: &str, id: &str) -> Result<bool> {
        self.inbox_item_exists_now(user_id, workspace_id, id).await
    }

    async fn create_channel(&self, channel: &Channel) -> Result<()> {
        self.create_channel_now(channel).await
    }

    async fn channels(&self, user_id: &str) -> Result<Vec<Channel>> {
        self.channels_now(user_id).await
    }

    async fn delete_channel(&self, user_id: &str, id: &str) -> Result<bool> {
        self.delete_channel_now(user_id, id).await
    }

    async fn notification_settings(&self, user_id: &str) -> Result<NotificationSettings> {
        self.notification_settings_now(user_id).await
    }

    async fn save_notification_settings(
        &self,
        user_id: &str,
        settings: &NotificationSettings,
    ) -> Result<()> {
        self.save_notification_settings_now(user_id, settings).await
    }

    async fn claim_digests(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DigestSchedule>> {
        self.claim_digests_now(owner, now_ms, lease_ms, limit).await
    }

    async fn finish_digest(
        &self,
        user_id: &str,
        owner: &str,
        due_ms: i64,
        next_ms: i64,
        routed: &Routed,
    ) -> Result<bool> {
        self.finish_digest_now(user_id, owner, due_ms, next_ms, routed)
            .await
    }
}

/// A `workspaces` row read as `SELECT id, name, created_ms`.
fn workspace_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        created_ms: r.get(2)?,
    })
}

pub(super) fn insert_post(c: &rusqlite::Connection, p: &Post) -> rusqlite::Result<()> {
    c.execute(
        &format!(
            "INSERT INTO posts ({POST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            p.id,
            p.workspace_id,
            p.author_id,
            p.title,
            p.body,
            p.state.as_str(),
            p.scheduled_ms,
            p.zone,
            p.created_ms,
            p.updated_ms
        ],
    )
    .map(drop)
}

/// Writes a post's editable columns; false if it is not there (or deleted).
fn write_post(c: &rusqlite::Connection, p: &Post) -> rusqlite::Result<bool> {
    c.execute(
        "UPDATE posts SET title = ?3, body = ?4, state = ?5, scheduled_ms = ?6, zone = ?7,
         updated_ms = ?8
         WHERE workspace_id = ?1 AND id = ?2 AND deleted_ms IS NULL",
        params![
            p.workspace_id,
            p.id,
            p.title,
            p.body,
            p.state.as_str(),
            p.scheduled_ms,
            p.zone,
            p.updated_ms
        ],
    )
    .map(|n| n == 1)
}

/// Inserts a target; with `keep_existing`, nothing happens if the post has one on that
/// account already.
pub(super) fn insert_target(
    c: &rusqlite::Connection,
    t: &Target,
    keep_existing: bool,
) -> rusqlite::Result<()> {
    let placeholders = (1..=17)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let tail = if keep_existing {
        " ON CONFLICT (post_id, account_id) DO NOTHING"
    } else {
        ""
    };
    c.execute(
        &format!("INSERT INTO targets ({TARGET_INSERT}) VALUES ({placeholders}){tail}"),
        params![
            t.id,
            t.post_id,
            t.account_id,
            t.workspace_id,
            t.state.as_str(),
            t.due_ms,
            t.next_attempt_ms,
            t.attempt_count,
            t.lease_owner,
            t.lease_expires_ms,
            t.parts,
            t.planned_parts,
            t.in_flight,
            t.in_flight_ms,
            t.last_error,
            t.created_ms,
            t.updated_ms
        ],
    )
    .map(drop)
}

/// A post's targets: (id, account id, state).
pub(super) fn post_targets(
    c: &rusqlite::Connection,
    post_id: &str,
) -> rusqlite::Result<Vec<(String, String, TargetState)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, account_id, state FROM targets WHERE post_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([post_id], |r| {
        let state: String = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, state_of(&state)))
    })?;
    rows.collect()
}

/// Writes the post and applies `accounts` and `change` to its targets (see
/// `Storage::update_post`); `None` if there is no such post. The caller commits.
pub(super) fn change_post(
    tx: &rusqlite::Connection,
    p: &Post,
    accounts: Option<&[Target]>,
    change: Option<&TargetChange>,
) -> rusqlite::Result<Option<TargetsChanged>> {
    if !write_post(tx, p)? {
        return Ok(None);
    }
    let now = p.updated_ms;
    if let Some(accounts) = accounts {
        let wanted: Vec<&str> = accounts.iter().map(|t| t.account_id.as_str()).collect();
        for (id, account_id, state) in post_targets(tx, &p.id)? {
            let listed = wanted.contains(&account_id.as_str());
            if !listed && state.is_editable() {
                set_state(tx, &id, TargetState::Cancelled, None, now)?;
            }
        }
        for t in accounts {
            insert_target(tx, t, true)?;
        }
    }
    let mut outcome = TargetsChanged::default();
    if let Some(change) = change {
        for (id, account_id, state) in post_targets(tx, &p.id)? {
            let name: String = tx.query_row(
                "SELECT name FROM accounts WHERE id = ?1",
                [&account_id],
                |r| r.get(0),
            )?;
            let chosen = match change {
                TargetChange::Resolve {
                    account_id: Some(only),
                    ..
                } => *only == account_id,
                _ => true,
            };
            if !chosen {
                continue;
            }
            if !change_allows(change, state) {
                outcome.skipped.push((name, state));
                continue;
            }
            apply_change(tx, &id, change, now)?;
            outcome.changed.push(name);
        }
    }
    Ok(Some(outcome))
}

fn insert_decision(c: &rusqlite::Connection, d: &ApprovalDecision) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO approval_decisions (id, workspace_id, post_id, user_id, decision, comment,
         created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            d.id,
            d.workspace_id,
            d.post_id,
            d.user_id,
            d.decision.as_str(),
            d.comment,
            d.created_ms
        ],
    )
    .map(drop)
}

fn state_of(stored: &str) -> TargetState {
    stored.parse().unwrap_or(TargetState::Failed)
}

fn set_state(
    c: &rusqlite::Connection,
    id: &str,
    state: TargetState,
    due_ms: Option<i64>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE targets SET state = ?2, due_ms = coalesce(?3, due_ms), updated_ms = ?4
         WHERE id = ?1",
        params![id, state.as_str(), due_ms, now_ms],
    )
    .map(drop)
}

/// Applies a change the target's state allows (the caller checked).
fn apply_change(
    c: &rusqlite::Connection,
    id: &str,
    change: &TargetChange,
    now_ms: i64,
) -> rusqlite::Result<()> {
    match change {
        TargetChange::Resolve { published_url, .. } => {
            let (parts, in_flight, planned): (String, Option<i64>, Option<i64>) = c.query_row(
                "SELECT parts, in_flight, planned_parts FROM targets WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let (parts, state) = resolve_parts(
                &parts,
                in_flight.map(|n| n as u32),
                planned.map(|n| n as u32),
                published_url.as_deref(),
            );
            c.execute(
                "UPDATE targets SET state = ?2, parts = ?3,
                 due_ms = CASE WHEN ?2 = 'published' THEN due_ms ELSE ?4 END,
                 next_attempt_ms = NULL, attempt_count = 0, first_attempt_ms = NULL,
                 in_flight = NULL, in_flight_ms = NULL, in_flight_stage = NULL,
                 last_error = NULL, updated_ms = ?4 WHERE id = ?1",
                params![id, state.as_str(), parts, now_ms],
            )
            .map(drop)
        }
        TargetChange::Retry { .. } => c
            .execute(
                "UPDATE targets SET state = ?2, due_ms = ?3, next_attempt_ms = NULL,
                 attempt_count = 0, first_attempt_ms = NULL, last_error = NULL,
                 updated_ms = ?3 WHERE id = ?1",
                params![id, change.to_state().as_str(), change.due_ms()],
            )
            .map(drop),
        TargetChange::Schedule { due_ms } => c
            .execute(
                SCHEDULE_TARGET,
                params![
                    id,
                    change.to_state().as_str(),
                    due_ms,
                    now_ms,
                    TargetState::AwaitingApproval.as_str()
                ],
            )
            .map(drop),
        TargetChange::Approve { late_before_ms } => c
            .execute(APPROVE_TARGET, params![id, late_before_ms, now_ms])
            .map(drop),
        _ => c
            .execute(
                "UPDATE targets SET state = ?2, due_ms = coalesce(?3, due_ms),
                 next_attempt_ms = NULL, first_attempt_ms = NULL, updated_ms = ?4 WHERE id = ?1",
                params![id, change.to_state().as_str(), change.due_ms(), now_ms],
            )
            .map(drop),
    }
}

fn insert_publish_attempt(c: &rusqlite::Connection, a: &PublishAttempt) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO attempts (id, target_id, part, started_ms, ended_ms, outcome, http_status,
         error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            uuid::Uuid::now_v7().to_string(),
            a.target_id,
            a.part,
            a.started_ms,
            a.ended_ms,
            a.outcome,
            a.http_status,
            a.error
        ],
    )
    .map(drop)
}

fn target_row(r: &Row, at: usize) -> rusqlite::Result<Target> {
    let state: String = r.get(at + 4)?;
    Ok(Target {
        id: r.get(at)?,
        post_id: r.get(at + 1)?,
        account_id: r.get(at + 2)?,
        workspace_id: r.get(at + 3)?,
        state: state_of(&state),
        due_ms: r.get(at + 5)?,
        next_attempt_ms: r.get(at + 6)?,
        attempt_count: r.get::<_, i64>(at + 7)? as u32,
        lease_owner: r.get(at + 8)?,
        lease_expires_ms: r.get(at + 9)?,
        parts: r.get(at + 10)?,
        planned_parts: r.get::<_, Option<i64>>(at + 11)?.map(|n| n as u32),
        in_flight: r.get::<_, Option<i64>>(at + 12)?.map(|n| n as u32),
        in_flight_ms: r.get(at + 13)?,
        last_error: r.get(at + 14)?,
        created_ms: r.get(at + 15)?,
        updated_ms: r.get(at + 16)?,
    })
}

fn target_view(r: &Row, at: usize) -> rusqlite::Result<TargetView> {
    Ok(TargetView {
        target: target_row(r, at)?,
        account_name: r.get(at + TARGET_WIDTH)?,
        network: r.get(at + TARGET_WIDTH + 1)?,
    })
}

fn account_row(r: &Row, at: usize) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(at)?,
        workspace_id: r.get(at + 1)?,
        name: r.get(at + 2)?,
        network: r.get(at + 3)?,
        base_url: r.get(at + 4)?,
        handle: r.get(at + 5)?,
        settings: r.get(at + 6)?,
        credentials: r.get(at + 7)?,
        created_ms: r.get(at + 8)?,
    })
}

fn post_row_at(r: &Row, at: usize) -> rusqlite::Result<Post> {
    let state: String = r.get(at + 5)?;
    Ok(Post {
        id: r.get(at)?,
        workspace_id: r.get(at + 1)?,
        author_id: r.get(at + 2)?,
        title: r.get(at + 3)?,
        body: r.get(at + 4)?,
        state: PostState::parse(&state).unwrap_or(PostState::Draft),
        scheduled_ms: r.get(at + 6)?,
        zone: r.get(at + 7)?,
        created_ms: r.get(at + 8)?,
        updated_ms: r.get(at + 9)?,
    })
}

/// Soft-deletes post `id` of workspace `w` (how many posts it deleted) and cancels what
/// has not started publishing; a claimed target finishes.
fn soft_delete(
    tx: &rusqlite::Transaction<'_>,
    w: &str,
    id: &str,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    let n = tx.execute(
        "UPDATE posts SET deleted_ms = ?3
         WHERE workspace_id = ?1 AND id = ?2 AND deleted_ms IS NULL",
        params![w, id, now_ms],
    )?;
    tx.execute(
        &format!(
            "UPDATE targets SET state = '{}', updated_ms = ?2
             WHERE post_id = ?1 AND state IN {}",
            TargetState::Cancelled.as_str(),
            TargetState::sql(TargetState::EDITABLE)
        ),
        params![id, now_ms],
    )?;
    Ok(n)
}

/// Stamps the fields the server wrote to post `p` ([`ApiField`]: through the API, or a
/// feed's or trigger's new post) and appends the version that carries them to the
/// workspace's sync chain (with a `created` operation first when the write `created` the
/// post; its device and user those of the first field), so devices pull the write as any
/// device's.
pub(super) fn stamp_api_fields(
    tx: &rusqlite::Transaction<'_>,
    p: &Post,
    fields: &[ApiField],
    created: bool,
) -> rusqlite::Result<()> {
    if fields.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(API_STAMP)?;
    let mut stamps = Vec::with_capacity(fields.len());
    for f in fields {
        stamps.push(stmt.query_row(
            params![p.workspace_id, p.id, f.field, f.at_ms, f.device, f.value],
            |r| r.get::<_, i64>(0),
        )?);
    }
    let payload = super::sql::api_payload(p, created, fields, &stamps);
    // The transaction is IMMEDIATE: no push can take the position meanwhile.
    tx.prepare_cached(super::sql::API_VERSION)?.query_row(
        params![
            uuid::Uuid::now_v7().to_string(),
            p.workspace_id,
            fields[0].device,
            fields[0].by,
            p.updated_ms.max(p.created_ms),
            payload
        ],
        |r| r.get::<_, i64>(0),
    )?;
    Ok(())
}

/// The accounts to leave out, a JSON array in `?5` / `?3` / `?2`.
const SKIP_5: &str = "t.account_id NOT IN (SELECT value FROM json_each(?5))";
const SKIP_3: &str = "t.account_id NOT IN (SELECT value FROM json_each(?3))";
const SKIP_2: &str = "t.account_id NOT IN (SELECT value FROM json_each(?2))";

/// Claims target `id` for the claimer if it is still due (conditional, so a concurrent
/// claim cannot double up): true when it did. A target whose publisher stopped mid-send
/// becomes `uncertain` instead where its network cannot be asked again safely
/// ([`takeover`]).
fn take(
    tx: &rusqlite::Transaction<'_>,
    claim: &Claim,
    id: &str,
    taken_over: bool,
    outcome: &mut ClaimOutcome,
) -> rusqlite::Result<bool> {
    let now = claim.now_ms;
    let (target, account, post, first, stage, media) = tx.query_row(
        &format!(
            "SELECT {TARGET_COLUMNS}, {ACCOUNT_COLUMNS}, {POST_JOIN_COLUMNS},
                    t.first_attempt_ms, t.in_flight_stage, m.value
             FROM targets t JOIN accounts a ON a.id = t.account_id
             JOIN posts p ON p.id = t.post_id {MEDIA_JOIN} WHERE t.id = ?1"
        ),
        [id],
        |r| {
            let at = TARGET_WIDTH + ACCOUNT_WIDTH + POST_JOIN_WIDTH;
            Ok((
                target_row(r, 0)?,
                account_row(r, TARGET_WIDTH)?,
                post_row_at(r, TARGET_WIDTH + ACCOUNT_WIDTH)?,
                r.get::<_, Option<i64>>(at)?,
                r.get::<_, Option<String>>(at + 1)?,
                r.get::<_, Option<String>>(at + 2)?,
            ))
        },
    )?;
    let interrupted = target
        .in_flight
        .zip(target.in_flight_ms)
        .filter(|_| taken_over);
    if let Some((part, since)) = interrupted {
        let fate = match claim.engine_decides {
            true => None,
            false => Some(takeover(&account, since, now)),
        };
        let attempt = interrupted_attempt(id, part, since, now, fate);
        if fate == Some(Takeover::Uncertain) {
            let n = tx.execute(
                &format!(
                    "UPDATE targets AS t SET state = '{uncertain}', lease_owner = NULL,
                     lease_expires_ms = NULL, last_error = ?2, updated_ms = ?3
                     WHERE id = ?4 AND {due}",
                    uncertain = TargetState::Uncertain.as_str(),
                    due = due_sql("?1"),
                ),
                params![now, attempt.error, now, id],
            )?;
            if n == 1 {
                insert_publish_attempt(tx, &attempt)?;
                outcome.uncertain.push(id.to_string());
            }
            return Ok(false);
        }
        insert_publish_attempt(tx, &attempt)?;
    }
    let n = tx.execute(
        &format!(
            "UPDATE targets AS t SET state = '{publishing}', lease_owner = ?2,
             lease_expires_ms = ?3, updated_ms = ?1,
             first_attempt_ms = coalesce(first_attempt_ms, ?1)
             WHERE id = ?4 AND {due}",
            publishing = TargetState::Publishing.as_str(),
            due = due_sql("?1"),
        ),
        params![now, claim.owner, claim.lease_until_ms, id],
    )?;
    if n == 1 {
        let mut target = target;
        target.state = TargetState::Publishing;
        target.lease_owner = Some(claim.owner.clone());
        target.lease_expires_ms = Some(claim.lease_until_ms);
        target.updated_ms = now;
        outcome.claimed.push(Claimed {
            target,
            account,
            post,
            taken_over,
            first_attempt_ms: Some(first.unwrap_or(now)),
            stage,
            media,
            probe: false,
        });
    }
    Ok(n == 1)
}

/// When each open circuit may next be probed, after `after_ms`.
fn probe_times(c: &rusqlite::Connection, after_ms: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(&probe_times_sql())?;
    let rows = stmt.query_map([], |r| {
        Ok(probe_time(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .filter(|t| *t > after_ms)
        .collect())
}

fn circuit_raw(r: &Row) -> rusqlite::Result<CircuitRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn read_circuit(
    c: &rusqlite::Connection,
    circuit: &Circuit,
) -> rusqlite::Result<Option<CircuitState>> {
    Ok(c.query_row(
        &format!("SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE network = ?1 AND base_url = ?2"),
        params![circuit.network.name(), circuit.base_url],
        circuit_raw,
    )
    .optional()?
    .and_then(circuit_state))
}

#[cfg(test)]
mod tests {
    use rusqlite::config::DbConfig;

    #[tokio::test]
    async fn every_connection_plans_its_statements_once() {
        let dir = tempfile::tempdir().expect("a dir");
        let storage = super::SqliteStorage::open(&dir.path().join("s.sqlite3"))
            .await
            .expect("opened");
        let writer = storage.conn.lock().expect("the writer");
        let mut connections = vec![&*writer];
        let readers: Vec<_> = storage
            .readers
            .connections
            .iter()
            .map(|c| c.lock().expect("a reader"))
            .collect();
        connections.extend(readers.iter().map(|r| &**r));
        assert_eq!(connections.len(), 1 + super::READERS);
        for conn in connections {
            assert!(
                conn.db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
                    .expect("read")
            );
        }
    }
}
