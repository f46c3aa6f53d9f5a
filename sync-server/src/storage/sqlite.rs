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
    ApiKey, IDEMPOTENCY_TTL_MS, IdempotencyBegin, KeyListing, KeyMode, Member, Post, PostQuery,
    PostState, Result, Role, Scope, Storage, StorageError, User, Workspace,
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
    })
}

const USER_COLUMNS: &str = "id, name, password_hash, admin, created_ms";
const KEY_COLUMNS: &str = "k.id, k.user_id, k.workspace_id, k.name, k.mode, k.prefix, k.hash, \
     k.scopes, k.expires_ms, k.created_ms, k.revoked_ms";
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
    })
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
        self.call(|c| c.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|n| n as u64)
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        let u = user.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO users (id, name, password_hash, admin, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![u.id, u.name, u.password_hash, u.admin, u.created_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let name = name.to_string();
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
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
        self.call(move |c| {
            c.execute(
                "INSERT INTO api_keys (id, user_id, workspace_id, name, mode, prefix, hash, scopes,
                 expires_ms, created_ms, revoked_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
                    k.revoked_ms
                ],
            )
            .map(drop)
        })
        .await
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
                    user_name: r.get(11)?,
                    workspace_name: r.get(12)?,
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

    async fn create_post(&self, post: &Post) -> Result<()> {
        let p = post.clone();
        self.call(move |c| {
            c.execute(
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
            )
            .map(drop)
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

    async fn save_post(&self, post: &Post) -> Result<bool> {
        let p = post.clone();
        self.call(move |c| {
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
        })
        .await
        .map(|n| n == 1)
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
}

/// A `workspaces` row read as `SELECT id, name, created_ms`.
fn workspace_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        created_ms: r.get(2)?,
    })
}
