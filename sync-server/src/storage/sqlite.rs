//! [`Storage`] on one SQLite file (rusqlite, WAL mode), for a server on one machine.
//!
//! One connection behind a mutex, used from tokio's blocking pool: SQLite allows one
//! writer at a time anyway, and each method is one transaction, so each is atomic. WAL
//! mode and a busy timeout let `postctl-server user add` and `key create` write while
//! the server runs.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};

use super::schema::{MIGRATIONS, latest};
use super::{
    ApiKey, Attempt, AttemptEnd, Delivery, DeliveryState, Event, Finished, IDEMPOTENCY_TTL_MS,
    IdempotencyBegin, KeyListing, KeyMode, LoginFailures, Member, Post, PostQuery, PostState,
    Purge, Purged, RATE_WINDOW_US, RateTaken, Result, Role, Scope, Session, Storage, StorageError,
    User, Webhook, Workspace,
};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
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
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(db_error)?;
        migrate(&mut conn)?;
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T, F>(&self, f: F) -> Result<T>
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
const SESSION_COLUMNS: &str = "id, user_id, workspace_id, hash, created_ms, expires_ms, revoked_ms";
const POST_COLUMNS: &str =
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

fn post_row(r: &Row) -> rusqlite::Result<Post> {
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
fn record_event(c: &rusqlite::Connection, event: &Event) -> rusqlite::Result<u32> {
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
    fn pool_status(&self) -> super::PoolStatus {
        // One connection; it is idle when its mutex is free.
        let idle = usize::from(self.conn.try_lock().is_ok());
        super::PoolStatus {
            size: 1,
            idle,
            max_size: 1,
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
        self.call(move |c| {
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
        self.call(move |c| {
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
            .call(move |c| {
                c.query_row(
                    "SELECT role FROM members WHERE workspace_id = ?1 AND user_id = ?2",
                    [w, u],
                    |r| r.get(0),
                )
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
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.hash = ?1"),
                [hash],
                key_row,
            )
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
            tx.execute(
                &format!("INSERT INTO posts ({POST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
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
            )?;
            for event in &events {
                record_event(&tx, event)?;
            }
            tx.commit()
        })
        .await
    }

    async fn post(&self, workspace_id: &str, id: &str) -> Result<Option<Post>> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT {POST_COLUMNS} FROM posts
                     WHERE workspace_id = ?1 AND id = ?2 AND deleted_ms IS NULL"
                ),
                [w, id],
                post_row,
            )
            .optional()
        })
        .await
    }

    async fn posts(&self, query: &PostQuery) -> Result<Vec<Post>> {
        let q = query.clone();
        self.call(move |c| {
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
            let n = tx.execute(
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

    async fn delete_post(&self, workspace_id: &str, id: &str, now_ms: i64) -> Result<bool> {
        let (w, id) = (workspace_id.to_string(), id.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE posts SET deleted_ms = ?3
                 WHERE workspace_id = ?1 AND id = ?2 AND deleted_ms IS NULL",
                params![w, id, now_ms],
            )
        })
        .await
        .map(|n| n == 1)
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
                for table in ["recovery_codes", "api_keys", "sessions", "members"] {
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
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE hash = ?1"),
                [hash],
                session_row,
            )
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
            tx.commit()?;
            Ok(Finished::Recorded { disabled })
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
            tx.commit()?;
            Ok(Purged {
                sessions: sessions as u64,
                idempotency_keys: idempotency_keys as u64,
                login_failures: login_failures as u64,
                rate_limits: rate_limits as u64,
                webhook_deliveries: webhook_deliveries as u64,
                webhook_attempts: webhook_attempts as u64,
            })
        })
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
