//! [`Storage`] on PostgreSQL (tokio-postgres with a deadpool pool), for several
//! `postctl-server` processes sharing one database.
//!
//! Each method is one statement or one transaction. Migrations run in a transaction
//! holding a transaction-level advisory lock, so processes starting together migrate
//! once: the others wait on the lock, then find the schema current.

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

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
    next_due_after_sql, next_due_sql, not_claimed_elsewhere_sql, only_post_sql, pg,
    probe_target_sql, probe_time, probe_times_sql, sealed_update,
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

/// The advisory lock migrations hold ("postctl" in ASCII).
const MIGRATION_LOCK: i64 = 0x0070_6f73_7463_746c;
const POOL_SIZE: usize = 16;

#[derive(Clone)]
pub struct PgStorage {
    pool: Pool,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStorage")
    }
}

pub(super) fn db_error(e: tokio_postgres::Error) -> StorageError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        let what = e
            .as_db_error()
            .and_then(|d| d.constraint())
            .unwrap_or("the record")
            .to_string();
        return StorageError::Conflict(what);
    }
    match e.as_db_error() {
        Some(db) => StorageError::Database(db.message().to_string()),
        None => StorageError::Database(e.to_string()),
    }
}

/// Statements by their text, each prepared once on each connection and kept there
/// (deadpool's statement cache): `rows`, `row`, `maybe_row` and `exec` are `query`,
/// `query_one`, `query_opt` and `execute` on the cached statement.
///
/// A statement sent as text is parsed and planned by PostgreSQL on every call (and takes
/// one more round trip to describe it): preparing each once halved PostgreSQL's CPU in the
/// publisher's drain (`cargo xtask bench drain`). Every statement here is built from
/// constants, so the cache holds a bounded set; values are always bound, never written
/// into the text.
#[async_trait]
pub(super) trait Cached: deadpool_postgres::GenericClient {
    async fn rows(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query(&statement, params).await
    }

    async fn row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Row, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query_one(&statement, params).await
    }

    async fn maybe_row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Option<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query_opt(&statement, params).await
    }

    async fn exec(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.execute(&statement, params).await
    }
}

impl<C: deadpool_postgres::GenericClient> Cached for C {}

fn pool_error(e: deadpool_postgres::PoolError) -> StorageError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_error(e),
        other => StorageError::Database(other.to_string()),
    }
}

impl PgStorage {
    /// Connects to `url` (`postgres://user:password@host:port/db`) and migrates.
    pub async fn open(url: &str) -> Result<PgStorage> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StorageError::Database(format!(
                "the database URL is not a PostgreSQL URL ({e}): write it as \
                 postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StorageError::Database(e.to_string()))?;
        let storage = PgStorage { pool };
        storage.migrate().await?;
        Ok(storage)
    }

    pub(super) async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(pool_error)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db_error)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .await
            .map_err(db_error)?;
        let found: i64 = match tx
            .maybe_row("SELECT version FROM schema_version", &[])
            .await
            .map_err(db_error)?
        {
            Some(row) => row.get(0),
            None => {
                tx.exec("INSERT INTO schema_version (version) VALUES (0)", &[])
                    .await
                    .map_err(db_error)?;
                0
            }
        };
        if found > latest() {
            return Err(StorageError::NewerSchema {
                found,
                known: latest(),
            });
        }
        for sql in &MIGRATIONS[found as usize..] {
            tx.batch_execute(sql).await.map_err(db_error)?;
        }
        tx.exec("UPDATE schema_version SET version = $1", &[&latest()])
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }
}

fn user_row(r: &Row) -> User {
    User {
        id: r.get(0),
        name: r.get(1),
        password_hash: r.get(2),
        admin: r.get(3),
        created_ms: r.get(4),
        deleted_ms: r.get(5),
        totp_secret: r.get(6),
        totp_pending: r.get(7),
        totp_last_step: r.get(8),
    }
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
/// The same columns of `posts p`, for joins, and how many there are.
const POST_COLUMNS_P: &str = "p.id, p.workspace_id, p.author_id, p.title, p.body, p.state, \
     p.scheduled_ms, p.zone, p.created_ms, p.updated_ms";
const POST_COLUMN_COUNT: usize = 10;

fn key_row(r: &Row) -> ApiKey {
    let mode: String = r.get(4);
    let scopes: String = r.get(7);
    ApiKey {
        id: r.get(0),
        user_id: r.get(1),
        workspace_id: r.get(2),
        name: r.get(3),
        mode: KeyMode::parse(&mode).unwrap_or(KeyMode::Test),
        prefix: r.get(5),
        hash: r.get(6),
        scopes: Scope::split(&scopes),
        expires_ms: r.get(8),
        created_ms: r.get(9),
        revoked_ms: r.get(10),
        rate_per_minute: r
            .get::<_, Option<i64>>(11)
            .and_then(|n| u32::try_from(n).ok()),
        allowed_ips: r
            .get::<_, Option<String>>(12)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        replaced_by: r.get(13),
    }
}

fn session_row(r: &Row) -> Session {
    Session {
        id: r.get(0),
        user_id: r.get(1),
        workspace_id: r.get(2),
        hash: r.get(3),
        created_ms: r.get(4),
        expires_ms: r.get(5),
        revoked_ms: r.get(6),
    }
}

fn failures_row(r: &Row) -> LoginFailures {
    LoginFailures {
        failures: r.get::<_, i64>(0) as u32,
        last_ms: r.get(1),
    }
}

async fn insert_key(c: &impl deadpool_postgres::GenericClient, k: &ApiKey) -> Result<()> {
    let ips = (!k.allowed_ips.is_empty()).then(|| k.allowed_ips.join(" "));
    c.exec(
        "INSERT INTO api_keys (id, user_id, workspace_id, name, mode, prefix, hash, scopes,
         expires_ms, created_ms, revoked_ms, rate_per_minute, allowed_ips, replaced_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &k.id,
            &k.user_id,
            &k.workspace_id,
            &k.name,
            &k.mode.as_str(),
            &k.prefix,
            &k.hash,
            &Scope::join(&k.scopes),
            &k.expires_ms,
            &k.created_ms,
            &k.revoked_ms,
            &k.rate_per_minute.map(i64::from),
            &ips,
            &k.replaced_by,
        ],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

pub(super) fn post_row(r: &Row) -> Post {
    let state: String = r.get(5);
    Post {
        id: r.get(0),
        workspace_id: r.get(1),
        author_id: r.get(2),
        title: r.get(3),
        body: r.get(4),
        state: PostState::parse(&state).unwrap_or(PostState::Draft),
        scheduled_ms: r.get(6),
        zone: r.get(7),
        created_ms: r.get(8),
        updated_ms: r.get(9),
    }
}

fn workspace_row(r: &Row) -> Workspace {
    Workspace {
        id: r.get(0),
        name: r.get(1),
        created_ms: r.get(2),
    }
}

const WEBHOOK_COLUMNS: &str = "id, workspace_id, url, description, events, secret, old_secret, \
     old_secret_until_ms, created_by, created_ms, updated_ms, disabled_ms, disabled_reason, \
     failed_in_a_row";
const DELIVERY_COLUMNS: &str = "id, webhook_id, workspace_id, event_type, payload, state, \
     next_attempt_ms, created_ms, finished_ms, redelivery_of, attempts";

fn webhook_row(r: &Row) -> Webhook {
    let events: String = r.get(4);
    Webhook {
        id: r.get(0),
        workspace_id: r.get(1),
        url: r.get(2),
        description: r.get(3),
        events: events.split_whitespace().map(str::to_string).collect(),
        secret: r.get(5),
        old_secret: r.get(6),
        old_secret_until_ms: r.get(7),
        created_by: r.get(8),
        created_ms: r.get(9),
        updated_ms: r.get(10),
        disabled_ms: r.get(11),
        disabled_reason: r.get(12),
        failed_in_a_row: u32::try_from(r.get::<_, i64>(13)).unwrap_or(u32::MAX),
    }
}

fn delivery_row(r: &Row) -> Delivery {
    let state: String = r.get(5);
    Delivery {
        id: r.get(0),
        webhook_id: r.get(1),
        workspace_id: r.get(2),
        event_type: r.get(3),
        payload: r.get(4),
        state: DeliveryState::parse(&state).unwrap_or(DeliveryState::Failed),
        next_attempt_ms: r.get(6),
        created_ms: r.get(7),
        finished_ms: r.get(8),
        redelivery_of: r.get(9),
        attempt_count: u32::try_from(r.get::<_, i64>(10)).unwrap_or(u32::MAX),
        attempts: Vec::new(),
    }
}

async fn insert_delivery(c: &impl deadpool_postgres::GenericClient, d: &Delivery) -> Result<()> {
    c.exec(
        &format!(
            "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ),
        &[
            &d.id,
            &d.webhook_id,
            &d.workspace_id,
            &d.event_type,
            &d.payload,
            &d.state.as_str(),
            &d.next_attempt_ms,
            &d.created_ms,
            &d.finished_ms,
            &d.redelivery_of,
            &i64::from(d.attempt_count),
        ],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

/// Inserts a delivery of `event` for each endpoint that receives it; returns how many.
pub(super) async fn record_event(
    c: &impl deadpool_postgres::GenericClient,
    event: &Event,
) -> Result<u32> {
    let rows = c
        .rows(
            &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 ORDER BY id"),
            &[&event.workspace_id],
        )
        .await
        .map_err(db_error)?;
    let mut n = 0;
    for webhook in rows
        .iter()
        .map(webhook_row)
        .filter(|w| super::receives(w, &event.event_type))
    {
        insert_delivery(c, &super::delivery_for(&webhook, event)).await?;
        n += 1;
    }
    super::postgres_notify::queue_for_notifier(c, event).await?;
    Ok(n)
}

async fn with_attempts(
    c: &impl deadpool_postgres::GenericClient,
    mut d: Delivery,
) -> Result<Delivery> {
    let rows = c
        .rows(
            "SELECT number, started_ms, duration_ms, status, answer, error FROM webhook_attempts
             WHERE delivery_id = $1 ORDER BY number",
            &[&d.id],
        )
        .await
        .map_err(db_error)?;
    d.attempts = rows
        .iter()
        .map(|r| Attempt {
            number: u32::try_from(r.get::<_, i64>(0)).unwrap_or(u32::MAX),
            started_ms: r.get(1),
            duration_ms: r.get(2),
            status: r
                .get::<_, Option<i64>>(3)
                .and_then(|s| u16::try_from(s).ok()),
            answer: r.get(4),
            error: r.get(5),
        })
        .collect();
    Ok(d)
}

#[async_trait]
impl Storage for PgStorage {
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
        let status = self.pool.status();
        super::PoolStatus {
            size: status.size,
            idle: status.available,
            max_size: status.max_size,
            waiting: status.waiting,
        }
    }

    async fn ready(&self) -> Result<()> {
        let client = self.client().await?;
        let row = client
            .row("SELECT version FROM schema_version", &[])
            .await
            .map_err(db_error)?;
        let version: i64 = row.get(0);
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
        let client = self.client().await?;
        let row = client
            .row("SELECT count(*) FROM users WHERE deleted_ms IS NULL", &[])
            .await
            .map_err(db_error)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn create_user(&self, u: &User) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                "INSERT INTO users (id, name, password_hash, admin, created_ms, totp_secret, totp_pending,
                 totp_last_step) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &u.id,
                    &u.name,
                    &u.password_hash,
                    &u.admin,
                    &u.created_ms,
                    &u.totp_secret,
                    &u.totp_pending,
                    &u.totp_last_step,
                ],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1 AND deleted_ms IS NULL"),
                &[&name],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn create_workspace(&self, w: &Workspace, owner_id: &str) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "INSERT INTO workspaces (id, name, created_ms) VALUES ($1, $2, $3)",
            &[&w.id, &w.name, &w.created_ms],
        )
        .await
        .map_err(db_error)?;
        tx.exec(
            "INSERT INTO members (workspace_id, user_id, role) VALUES ($1, $2, $3)",
            &[&w.id, &owner_id, &Role::Owner.as_str()],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT id, name, created_ms FROM workspaces WHERE name = $1",
                &[&name],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(workspace_row))
    }

    async fn workspace_by_id(&self, id: &str) -> Result<Option<Workspace>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT id, name, created_ms FROM workspaces WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(workspace_row))
    }

    async fn set_member(&self, workspace_id: &str, user_id: &str, role: Role) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                "INSERT INTO members (workspace_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
                &[&workspace_id, &user_id, &role.as_str()],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn members(&self, workspace_id: &str) -> Result<Vec<Member>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT u.id, u.name, m.role FROM members m JOIN users u ON u.id = m.user_id
                 WHERE m.workspace_id = $1 ORDER BY u.name",
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| Member {
                user_id: r.get(0),
                user_name: r.get(1),
                role: Role::parse(r.get(2)).unwrap_or(Role::Viewer),
            })
            .collect())
    }

    async fn member_role(&self, workspace_id: &str, user_id: &str) -> Result<Option<Role>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2",
                &[&workspace_id, &user_id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.and_then(|r| Role::parse(r.get(0))))
    }

    async fn workspaces_of(&self, user_id: &str) -> Result<Vec<(Workspace, Role)>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT w.id, w.name, w.created_ms, m.role FROM members m
                 JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 ORDER BY w.name",
                &[&user_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    workspace_row(r),
                    Role::parse(r.get(3)).unwrap_or(Role::Viewer),
                )
            })
            .collect())
    }

    async fn replace_setup_token(&self, hash: &str, now_ms: i64) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec("DELETE FROM setup_tokens", &[])
            .await
            .map_err(db_error)?;
        tx.exec(
            "INSERT INTO setup_tokens (hash, created_ms) VALUES ($1, $2)",
            &[&hash, &now_ms],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn take_setup_token(&self, hash: &str) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec("DELETE FROM setup_tokens WHERE hash = $1", &[&hash])
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn create_key(&self, k: &ApiKey) -> Result<()> {
        let client = self.client().await?;
        insert_key(&client, k).await
    }

    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.hash = $1"),
                &[&hash],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(key_row))
    }

    async fn key_and_role(&self, hash: &str) -> Result<Option<(ApiKey, Option<Role>)>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!(
                    "SELECT {KEY_COLUMNS}, m.role FROM api_keys k
                 LEFT JOIN members m ON m.workspace_id = k.workspace_id AND m.user_id = k.user_id
                 WHERE k.hash = $1"
                ),
                &[&hash],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| {
            let role: Option<&str> = r.get(14);
            (key_row(&r), role.and_then(Role::parse))
        }))
    }

    async fn keys(&self, user_id: Option<&str>) -> Result<Vec<KeyListing>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {KEY_COLUMNS}, u.name, w.name FROM api_keys k
                     JOIN users u ON u.id = k.user_id JOIN workspaces w ON w.id = k.workspace_id
                     WHERE $1::text IS NULL OR k.user_id = $1 ORDER BY k.id"
                ),
                &[&user_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| KeyListing {
                key: key_row(r),
                user_name: r.get(14),
                workspace_name: r.get(15),
            })
            .collect())
    }

    async fn revoke_key(&self, id: &str, now_ms: i64) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE api_keys SET revoked_ms = coalesce(revoked_ms, $2) WHERE id = $1",
                &[&id, &now_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn create_post_and_emit(&self, p: &Post, events: &[Event]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        insert_post(&tx, p).await?;
        for event in events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn post(&self, workspace_id: &str, id: &str) -> Result<Option<Post>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!(
                    "SELECT {POST_COLUMNS} FROM posts
                 WHERE workspace_id = $1 AND id = $2 AND deleted_ms IS NULL"
                ),
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(post_row))
    }

    async fn post_with_targets(&self, workspace_id: &str, id: &str) -> Result<Option<PostRead>> {
        let client = self.client().await?;
        // One statement, so one snapshot and one round trip: the post's row joined with
        // each target (or with none: the LEFT JOIN keeps a post without targets), and its
        // media field on every row.
        let rows = client
            .rows(
                &format!(
                    "SELECT {POST_COLUMNS_P}, {TARGET_COLUMNS}, a.name, a.network,
                        ({}) FROM posts p
                 LEFT JOIN targets t ON t.workspace_id = p.workspace_id AND t.post_id = p.id
                 LEFT JOIN accounts a ON a.id = t.account_id
                 WHERE p.workspace_id = $1 AND p.id = $2 AND p.deleted_ms IS NULL
                 ORDER BY a.name",
                    pg(super::sql::POST_MEDIA)
                ),
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let targets = rows
            .iter()
            .filter(|r| r.get::<_, Option<&str>>(POST_COLUMN_COUNT).is_some())
            .map(|r| target_view(r, POST_COLUMN_COUNT))
            .collect();
        Ok(Some(PostRead {
            post: post_row(first),
            targets,
            media: first.get::<_, Option<String>>(first.len() - 1),
        }))
    }

    async fn posts(&self, q: &PostQuery) -> Result<Vec<Post>> {
        let client = self.client().await?;
        let limit = i64::from(q.limit);
        let rows = client
            .rows(
                &format!(
                    "SELECT {POST_COLUMNS} FROM posts
                     WHERE workspace_id = $1 AND deleted_ms IS NULL
                       AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR id < $3)
                     ORDER BY id DESC LIMIT $4"
                ),
                &[
                    &q.workspace_id,
                    &q.state.map(PostState::as_str),
                    &q.before_id,
                    &limit,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(post_row).collect())
    }

    async fn save_post_and_emit(&self, p: &Post, events: &[Event]) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let saved = write_post(&tx, p).await?;
        if saved {
            for event in events {
                record_event(&tx, event).await?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(saved)
    }

    async fn delete_post(&self, workspace_id: &str, id: &str, now_ms: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = soft_delete(&tx, workspace_id, id, now_ms).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn delete_post_stamped(
        &self,
        post: &Post,
        now_ms: i64,
        fields: &[ApiField],
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = soft_delete(&tx, &post.workspace_id, &post.id, now_ms).await?;
        if n == 1 {
            stamp_api_fields(&tx, post, fields, false).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now_ms: i64,
    ) -> Result<IdempotencyBegin> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "DELETE FROM idempotency_keys WHERE created_ms < $1",
            &[&(now_ms - IDEMPOTENCY_TTL_MS)],
        )
        .await
        .map_err(db_error)?;
        // A concurrent insert of the same key waits on the primary key until the first
        // commits, then inserts nothing and reads the first one's row below.
        let inserted = tx
            .exec(
                "INSERT INTO idempotency_keys (scope, key, request_hash, created_ms)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING",
                &[&scope, &key, &request_hash, &now_ms],
            )
            .await
            .map_err(db_error)?;
        let outcome = if inserted == 1 {
            IdempotencyBegin::Started
        } else {
            let row = tx
                .row(
                    "SELECT request_hash, status, body FROM idempotency_keys
                     WHERE scope = $1 AND key = $2",
                    &[&scope, &key],
                )
                .await
                .map_err(db_error)?;
            let stored: String = row.get(0);
            let status: Option<i32> = row.get(1);
            let body: Option<String> = row.get(2);
            match status {
                _ if stored != request_hash => IdempotencyBegin::Mismatch,
                Some(status) => IdempotencyBegin::Replay {
                    status: status as u16,
                    body: body.unwrap_or_default(),
                },
                None => IdempotencyBegin::InProgress,
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(outcome)
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                "UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2",
                &[&scope, &key, &i32::from(status), &body],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn idempotency_release(&self, scope: &str, key: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL",
                &[&scope, &key],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn delete_user(&self, id: &str, now_ms: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE users SET name = $2, password_hash = '', admin = false, deleted_ms = $3,
                 totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
                 WHERE id = $1 AND deleted_ms IS NULL",
                &[&id, &format!("deleted-{id}"), &now_ms],
            )
            .await
            .map_err(db_error)?;
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
                tx.exec(&format!("DELETE FROM {table} WHERE user_id = $1"), &[&id])
                    .await
                    .map_err(db_error)?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn set_password(&self, id: &str, hash: &str, now_ms: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE users SET password_hash = $2 WHERE id = $1 AND deleted_ms IS NULL",
                &[&id, &hash],
            )
            .await
            .map_err(db_error)?;
        tx.exec(
            "UPDATE sessions SET revoked_ms = $2 WHERE user_id = $1 AND revoked_ms IS NULL",
            &[&id, &now_ms],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn begin_totp(&self, user_id: &str, sealed: &str) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE users SET totp_pending = $2 WHERE id = $1 AND deleted_ms IS NULL",
                &[&user_id, &sealed],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn confirm_totp(
        &self,
        user_id: &str,
        pending: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL,
                 totp_last_step = $3 WHERE id = $1 AND totp_pending = $2 AND deleted_ms IS NULL",
                &[&user_id, &pending, &step],
            )
            .await
            .map_err(db_error)?;
        if n == 1 {
            tx.exec("DELETE FROM recovery_codes WHERE user_id = $1", &[&user_id])
                .await
                .map_err(db_error)?;
            for hash in recovery_hashes {
                tx.exec(
                    "INSERT INTO recovery_codes (user_id, hash) VALUES ($1, $2)",
                    &[&user_id, hash],
                )
                .await
                .map_err(db_error)?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn disable_totp(&self, user_id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
                 WHERE id = $1 AND deleted_ms IS NULL",
                &[&user_id],
            )
            .await
            .map_err(db_error)?;
        tx.exec("DELETE FROM recovery_codes WHERE user_id = $1", &[&user_id])
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_secret IS NOT NULL
                 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                &[&user_id, &step],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn use_recovery_code(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE recovery_codes SET used_ms = $3
                 WHERE user_id = $1 AND hash = $2 AND used_ms IS NULL",
                &[&user_id, &hash, &now_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn recovery_codes_left(&self, user_id: &str) -> Result<u32> {
        let client = self.client().await?;
        let row = client
            .row(
                "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_ms IS NULL",
                &[&user_id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.get::<_, i64>(0) as u32)
    }

    async fn login_failures(&self, subject: &str) -> Result<Option<LoginFailures>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT failures, last_ms FROM login_failures WHERE subject = $1",
                &[&subject],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(failures_row))
    }

    async fn record_login_failure(
        &self,
        subject: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<LoginFailures> {
        let client = self.client().await?;
        let row = client
            .row(
                "INSERT INTO login_failures (subject, failures, last_ms) VALUES ($1, 1, $2)
                 ON CONFLICT (subject) DO UPDATE SET
                   failures = CASE WHEN login_failures.last_ms < $2 - $3 THEN 1
                                   ELSE login_failures.failures + 1 END,
                   last_ms = $2
                 RETURNING failures, last_ms",
                &[&subject, &now_ms, &window_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(failures_row(&row))
    }

    async fn clear_login_failures(&self, subject: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .exec("DELETE FROM login_failures WHERE subject = $1", &[&subject])
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[
                    &s.id,
                    &s.user_id,
                    &s.workspace_id,
                    &s.hash,
                    &s.created_ms,
                    &s.expires_ms,
                    &s.revoked_ms,
                ],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<Session>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE hash = $1"),
                &[&hash],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(session_row))
    }

    async fn session_and_role(&self, hash: &str) -> Result<Option<(Session, Option<Role>)>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT s.id, s.user_id, s.workspace_id, s.hash, s.created_ms, s.expires_ms,
                        s.revoked_ms, m.role
                 FROM sessions s
                 LEFT JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.user_id
                 WHERE s.hash = $1",
                &[&hash],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| {
            let role: Option<&str> = r.get(7);
            (session_row(&r), role.and_then(Role::parse))
        }))
    }

    async fn revoke_session(&self, id: &str, now_ms: i64) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE sessions SET revoked_ms = coalesce(revoked_ms, $2) WHERE id = $1",
                &[&id, &now_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn rotate_key(&self, old_id: &str, new: &ApiKey, old_until_ms: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE api_keys SET replaced_by = $2,
                 expires_ms = CASE WHEN expires_ms IS NOT NULL AND expires_ms < $3
                                   THEN expires_ms ELSE $3 END
                 WHERE id = $1 AND revoked_ms IS NULL AND replaced_by IS NULL",
                &[&old_id, &new.id, &old_until_ms],
            )
            .await
            .map_err(db_error)?;
        if n == 1 {
            insert_key(&tx, new).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn create_webhook(&self, w: &Webhook) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                &format!(
                    "INSERT INTO webhooks ({WEBHOOK_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ),
                &[
                    &w.id,
                    &w.workspace_id,
                    &w.url,
                    &w.description,
                    &w.events.join(" "),
                    &w.secret,
                    &w.old_secret,
                    &w.old_secret_until_ms,
                    &w.created_by,
                    &w.created_ms,
                    &w.updated_ms,
                    &w.disabled_ms,
                    &w.disabled_reason,
                    &i64::from(w.failed_in_a_row),
                ],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn webhooks(&self, workspace_id: &str) -> Result<Vec<Webhook>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 ORDER BY id"
                ),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(webhook_row).collect())
    }

    async fn webhook(&self, workspace_id: &str, id: &str) -> Result<Option<Webhook>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2"
                ),
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(webhook_row))
    }

    async fn save_webhook(&self, w: &Webhook) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE webhooks SET url = $3, description = $4, events = $5, updated_ms = $6,
                 disabled_ms = $7, disabled_reason = $8, failed_in_a_row = $9
                 WHERE workspace_id = $1 AND id = $2",
                &[
                    &w.workspace_id,
                    &w.id,
                    &w.url,
                    &w.description,
                    &w.events.join(" "),
                    &w.updated_ms,
                    &w.disabled_ms,
                    &w.disabled_reason,
                    &i64::from(w.failed_in_a_row),
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_new: &str,
        old_until_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE webhooks SET old_secret = secret, old_secret_until_ms = $4, secret = $3,
                 updated_ms = $5
                 WHERE workspace_id = $1 AND id = $2",
                &[&workspace_id, &id, &sealed_new, &old_until_ms, &now_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn delete_webhook(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "DELETE FROM webhook_attempts WHERE delivery_id IN
             (SELECT d.id FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id
              WHERE h.workspace_id = $1 AND h.id = $2)",
            &[&workspace_id, &id],
        )
        .await
        .map_err(db_error)?;
        tx.exec(
            "DELETE FROM webhook_deliveries WHERE webhook_id IN
             (SELECT id FROM webhooks WHERE workspace_id = $1 AND id = $2)",
            &[&workspace_id, &id],
        )
        .await
        .map_err(db_error)?;
        let n = tx
            .exec(
                "DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2",
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn emit_event(&self, event: &Event) -> Result<u32> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = record_event(&tx, event).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<()> {
        let client = self.client().await?;
        insert_delivery(&client, delivery).await
    }

    async fn deliveries(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        before_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                     WHERE workspace_id = $1 AND webhook_id = $2
                       AND ($3::TEXT IS NULL OR id < $3)
                     ORDER BY id DESC LIMIT $4"
                ),
                &[&workspace_id, &webhook_id, &before_id, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            found.push(with_attempts(&client, delivery_row(row)).await?);
        }
        Ok(found)
    }

    async fn delivery(&self, workspace_id: &str, id: &str) -> Result<Option<Delivery>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                     WHERE workspace_id = $1 AND id = $2"
                ),
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        match row {
            Some(row) => Ok(Some(with_attempts(&client, delivery_row(&row)).await?)),
            None => Ok(None),
        }
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Delivery, Webhook)>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        // SKIP LOCKED: a delivery another process is claiming right now is passed over,
        // not waited for, and its lease then keeps it out of later claims.
        let rows = tx
            .rows(
                &format!(
                    "UPDATE webhook_deliveries SET lease_owner = $1, lease_until_ms = $2 + $3
                     WHERE id IN (
                       SELECT d.id FROM webhook_deliveries d
                       JOIN webhooks h ON h.id = d.webhook_id
                       WHERE d.state = 'pending' AND d.next_attempt_ms <= $2
                         AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= $2)
                         AND h.disabled_ms IS NULL
                       ORDER BY d.next_attempt_ms, d.id LIMIT $4
                       FOR UPDATE OF d SKIP LOCKED)
                     RETURNING {DELIVERY_COLUMNS}"
                ),
                &[&owner, &now_ms, &lease_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let delivery = delivery_row(row);
            let webhook = tx
                .row(
                    &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"),
                    &[&delivery.webhook_id],
                )
                .await
                .map_err(db_error)?;
            claimed.push((delivery, webhook_row(&webhook)));
        }
        tx.commit().await.map_err(db_error)?;
        claimed.sort_by(|a, b| (a.0.next_attempt_ms, &a.0.id).cmp(&(b.0.next_attempt_ms, &b.0.id)));
        Ok(claimed)
    }

    async fn finish_attempt(
        &self,
        delivery_id: &str,
        owner: &str,
        a: &Attempt,
        end: &AttemptEnd,
        now_ms: i64,
    ) -> Result<Finished> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let (state, next, finished) = match end {
            AttemptEnd::Delivered => (DeliveryState::Delivered, None, Some(now_ms)),
            AttemptEnd::RetryAt(at) => (DeliveryState::Pending, Some(*at), None),
            AttemptEnd::GaveUp { .. } | AttemptEnd::Gone { .. } => {
                (DeliveryState::Failed, None, Some(now_ms))
            }
        };
        let row = tx
            .maybe_row(
                "UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1,
                 next_attempt_ms = coalesce($4, next_attempt_ms), finished_ms = $5,
                 lease_owner = NULL, lease_until_ms = NULL
                 WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
                 RETURNING attempts, webhook_id",
                &[&delivery_id, &owner, &state.as_str(), &next, &finished],
            )
            .await
            .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(Finished::LeaseLost);
        };
        let number: i64 = row.get(0);
        let webhook_id: String = row.get(1);
        tx.exec(
            "INSERT INTO webhook_attempts (delivery_id, number, started_ms, duration_ms,
             status, answer, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &delivery_id,
                &number,
                &a.started_ms,
                &a.duration_ms,
                &a.status.map(i64::from),
                &a.answer,
                &a.error,
            ],
        )
        .await
        .map_err(db_error)?;
        // FOR UPDATE: two processes finishing deliveries of one endpoint count its
        // failures one after the other.
        let webhook = tx
            .row(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 FOR UPDATE"),
                &[&webhook_id],
            )
            .await
            .map_err(db_error)?;
        let webhook = webhook_row(&webhook);
        let (failed, disable) = super::after_attempt(webhook.failed_in_a_row, end);
        let disabled = disable.is_some() && webhook.disabled_ms.is_none();
        tx.exec(
            "UPDATE webhooks SET failed_in_a_row = $2,
             disabled_ms = CASE WHEN $3 THEN $4 ELSE disabled_ms END,
             disabled_reason = CASE WHEN $3 THEN $5 ELSE disabled_reason END
             WHERE id = $1",
            &[
                &webhook.id,
                &i64::from(failed),
                &disabled,
                &now_ms,
                &disable,
            ],
        )
        .await
        .map_err(db_error)?;
        if disabled {
            // The owners are told in the same transaction (the notifier routes it).
            let told = Webhook {
                failed_in_a_row: failed,
                ..webhook
            };
            let reason = disable.as_deref().unwrap_or_default();
            record_event(&tx, &crate::webhooks::disabled_event(&told, reason, now_ms)).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Finished::Recorded { disabled })
    }
    async fn create_account(&self, a: &Account) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
                &pg(&format!(
                    "INSERT INTO accounts ({ACCOUNT_INSERT}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                )),
                &[
                    &a.id,
                    &a.workspace_id,
                    &a.name,
                    &a.network,
                    &a.base_url,
                    &a.handle,
                    &a.settings,
                    &a.credentials,
                    &a.created_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        super::postgres_sync::adopt_account(&tx, &a.workspace_id, &a.id, &a.name, a.created_ms)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn accounts(&self, workspace_id: &str) -> Result<Vec<Account>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts a
                     WHERE a.workspace_id = $1 AND a.deleted_ms IS NULL ORDER BY a.name"
                ),
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| account_row(r, 0)).collect())
    }

    async fn account(&self, workspace_id: &str, id: &str) -> Result<Option<Account>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts a
                     WHERE a.workspace_id = $1 AND a.id = $2 AND a.deleted_ms IS NULL"
                ),
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(|r| account_row(r, 0)))
    }

    async fn delete_account(
        &self,
        workspace_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<AccountDeletion> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        // The row lock keeps a concurrent post from targeting it meanwhile.
        let found = tx
            .maybe_row(
                "SELECT id FROM accounts WHERE workspace_id = $1 AND id = $2 AND deleted_ms IS NULL
                 FOR UPDATE",
                &[&workspace_id, &id],
            )
            .await
            .map_err(db_error)?;
        if found.is_none() {
            return Ok(AccountDeletion::NotFound);
        }
        let pending: i64 = tx
            .row(
                &format!(
                    "SELECT count(*) FROM targets WHERE account_id = $1 AND state IN {}",
                    TargetState::sql(TargetState::PENDING)
                ),
                &[&id],
            )
            .await
            .map_err(db_error)?
            .get(0);
        if pending > 0 {
            return Ok(AccountDeletion::Pending(pending as u32));
        }
        tx.exec(
            "UPDATE accounts SET name = $2, credentials = '', deleted_ms = $3 WHERE id = $1",
            &[&id, &format!("deleted-{id}"), &now_ms],
        )
        .await
        .map_err(db_error)?;
        tx.exec("DELETE FROM account_waits WHERE account_id = $1", &[&id])
            .await
            .map_err(db_error)?;
        // A notification channel through the account (Slack, Discord, Matrix) goes with
        // it, with what it had still to send.
        tx.exec(
            &format!(
                "DELETE FROM notification_sends WHERE state = 'pending' AND channel_id IN
                   (SELECT id FROM notification_channels WHERE kind IN {ACCOUNT_CHANNEL_KINDS} AND address = $1)"
            ),
            &[&id],
        )
        .await
        .map_err(db_error)?;
        tx.exec(
            &format!(
                "DELETE FROM notification_channels WHERE kind IN {ACCOUNT_CHANNEL_KINDS} AND address = $1"
            ),
            &[&id],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(AccountDeletion::Deleted)
    }

    async fn sealed_values(&self) -> Result<Vec<SealedValue>> {
        let client = self.client().await?;
        let mut out = Vec::new();
        for (kind, sql) in SEALED_SELECTS {
            for row in client.rows(sql, &[]).await.map_err(db_error)? {
                out.push(SealedValue {
                    kind: *kind,
                    owner: row.get(0),
                    value: row.get(1),
                });
            }
        }
        Ok(out)
    }

    async fn reseal(&self, changes: &[(SealedValue, String)]) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        for (old, new) in changes {
            let n = tx
                .exec(&pg(sealed_update(old.kind)), &[&old.owner, &old.value, new])
                .await
                .map_err(db_error)?;
            if n != 1 {
                return Ok(false);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn create_post_stamped(
        &self,
        post: &Post,
        targets: &[Target],
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        insert_post(&tx, post).await?;
        for t in targets {
            insert_target(&tx, t, false).await?;
        }
        stamp_api_fields(&tx, post, fields, true).await?;
        for event in events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn update_post_stamped(
        &self,
        p: &Post,
        accounts: Option<&[Target]>,
        change: Option<&TargetChange>,
        must_move: bool,
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<Option<TargetsChanged>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let Some(outcome) = change_post(&tx, p, accounts, change).await? else {
            return Ok(None);
        };
        if must_move && change.is_some() && outcome.changed.is_empty() {
            return Ok(Some(outcome));
        }
        stamp_api_fields(&tx, p, fields, false).await?;
        for event in events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Some(outcome))
    }

    async fn ai_settings(&self, workspace_id: &str) -> Result<Option<super::AiSettings>> {
        let client = self.client().await?;
        Ok(client
            .maybe_row(&pg(super::sql::AI_SETTINGS), &[&workspace_id])
            .await
            .map_err(db_error)?
            .map(|r| super::AiSettings {
                workspace_id: r.get(0),
                provider: r.get(1),
                model: r.get(2),
                base_url: r.get(3),
                api_key: r.get(4),
                max_tokens: r.get(5),
                updated_ms: r.get(6),
            }))
    }

    async fn set_ai_settings(&self, settings: &super::AiSettings) -> Result<()> {
        let a = settings;
        self.client()
            .await?
            .exec(
                &pg(super::sql::SET_AI_SETTINGS),
                &[
                    &a.workspace_id,
                    &a.provider,
                    &a.model,
                    &a.base_url,
                    &a.api_key,
                    &a.max_tokens,
                    &a.updated_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn approval_settings(&self, workspace_id: &str) -> Result<ApprovalSettings> {
        let client = self.client().await?;
        let require: Option<bool> = client
            .maybe_row(
                "SELECT require_approval FROM approval_settings WHERE workspace_id = $1",
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?
            .map(|r| r.get(0));
        let rows = client
            .rows(
                "SELECT u.id, u.name, m.role FROM approvers x
                 JOIN members m ON m.workspace_id = x.workspace_id AND m.user_id = x.user_id
                 JOIN users u ON u.id = x.user_id
                 WHERE x.workspace_id = $1 ORDER BY u.name",
                &[&workspace_id],
            )
            .await
            .map_err(db_error)?;
        Ok(ApprovalSettings {
            require_approval: require.unwrap_or(false),
            approvers: rows
                .iter()
                .map(|r| Member {
                    user_id: r.get(0),
                    user_name: r.get(1),
                    role: Role::parse(r.get(2)).unwrap_or(Role::Viewer),
                })
                .collect(),
        })
    }

    async fn set_approval_settings(
        &self,
        workspace_id: &str,
        require_approval: bool,
        approver_ids: &[String],
        now_ms: i64,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.exec(
            "INSERT INTO approval_settings (workspace_id, require_approval, updated_ms)
             VALUES ($1, $2, $3)
             ON CONFLICT (workspace_id) DO UPDATE
             SET require_approval = excluded.require_approval, updated_ms = excluded.updated_ms",
            &[&workspace_id, &require_approval, &now_ms],
        )
        .await
        .map_err(db_error)?;
        tx.exec(
            "DELETE FROM approvers WHERE workspace_id = $1",
            &[&workspace_id],
        )
        .await
        .map_err(db_error)?;
        for id in approver_ids {
            tx.exec(
                "INSERT INTO approvers (workspace_id, user_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&workspace_id, id],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn decide_approval(
        &self,
        post: &Post,
        change: &TargetChange,
        decision: &ApprovalDecision,
        events: &[Event],
        fields: &[ApiField],
    ) -> Result<Option<TargetsChanged>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        // The post's row first: two approvers deciding at once take turns.
        tx.exec("SELECT 1 FROM posts WHERE id = $1 FOR UPDATE", &[&post.id])
            .await
            .map_err(db_error)?;
        let Some(outcome) = change_post(&tx, post, None, Some(change)).await? else {
            return Ok(None);
        };
        if outcome.changed.is_empty() {
            return Ok(Some(outcome));
        }
        insert_decision(&tx, decision).await?;
        stamp_api_fields(&tx, post, fields, false).await?;
        for event in events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Some(outcome))
    }

    async fn approval_history(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<ApprovalDecision>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT d.id, d.workspace_id, d.post_id, d.user_id, u.name, d.decision,
                        d.comment, d.created_ms
                 FROM approval_decisions d LEFT JOIN users u ON u.id = d.user_id
                 WHERE d.workspace_id = $1 AND d.post_id = $2
                 ORDER BY d.created_ms, d.id",
                &[&workspace_id, &post_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| ApprovalDecision {
                id: r.get(0),
                workspace_id: r.get(1),
                post_id: r.get(2),
                user_id: r.get(3),
                user_name: r.get(4),
                decision: Decision::parse(r.get(5)).unwrap_or(Decision::Missed),
                comment: r.get(6),
                created_ms: r.get(7),
            })
            .collect())
    }

    async fn posts_awaiting_approval(
        &self,
        workspace_id: &str,
        before_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Post>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {POST_COLUMNS} FROM posts p
                     WHERE p.workspace_id = $1 AND p.deleted_ms IS NULL
                       AND ($2::TEXT IS NULL OR p.id < $2)
                       AND EXISTS (SELECT 1 FROM targets t WHERE t.post_id = p.id
                                   AND t.state = '{}')
                     ORDER BY p.id DESC LIMIT $3",
                    TargetState::AwaitingApproval.as_str()
                ),
                &[&workspace_id, &before_id, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(post_row).collect())
    }

    async fn miss_unapproved(&self, now_ms: i64, events_of: EventsOf) -> Result<Vec<Unapproved>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        // Another process sweeping now skips the rows this one locked.
        let due = tx
            .rows(
                &pg(&format!(
                    "{} FOR UPDATE OF t SKIP LOCKED",
                    unapproved_due_sql()
                )),
                &[&now_ms],
            )
            .await
            .map_err(db_error)?;
        let mut missed: Vec<Unapproved> = Vec::new();
        for row in &due {
            let (target_id, post_id): (String, String) = (row.get(0), row.get(1));
            let account: String = tx
                .row(
                    "UPDATE targets t SET state = 'missed', last_error = $2, updated_ms = $3
                     FROM accounts a WHERE t.id = $1 AND a.id = t.account_id RETURNING a.name",
                    &[&target_id, &NOT_APPROVED, &now_ms],
                )
                .await
                .map_err(db_error)?
                .get(0);
            if let Some(last) = missed.last_mut().filter(|u| u.post.id == post_id) {
                last.accounts.push(account);
                continue;
            }
            let r = tx
                .row(
                    &format!(
                        "SELECT {POST_JOIN_COLUMNS}, u.name FROM posts p
                         JOIN users u ON u.id = p.author_id WHERE p.id = $1"
                    ),
                    &[&post_id],
                )
                .await
                .map_err(db_error)?;
            let (post, author_name) = (post_row_at(&r, 0), r.get::<_, String>(10));
            let approvers = tx
                .rows(
                    "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id
                     WHERE m.workspace_id = $1 AND (m.role IN ('owner', 'admin')
                       OR EXISTS (SELECT 1 FROM approvers x WHERE
                                  x.workspace_id = m.workspace_id AND x.user_id = m.user_id))
                     ORDER BY u.name",
                    &[&post.workspace_id],
                )
                .await
                .map_err(db_error)?
                .iter()
                .map(|r| r.get(0))
                .collect();
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
            )
            .await?;
            for event in events_of(unapproved, now_ms) {
                record_event(&tx, &event).await?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(missed)
    }

    async fn targets(&self, workspace_id: &str, post_id: &str) -> Result<Vec<TargetView>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {TARGET_COLUMNS}, a.name, a.network FROM targets t
                     JOIN accounts a ON a.id = t.account_id
                     WHERE t.workspace_id = $1 AND t.post_id = $2 ORDER BY a.name"
                ),
                &[&workspace_id, &post_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| target_view(r, 0)).collect())
    }

    async fn targets_changed(
        &self,
        workspace_id: &str,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<TargetView>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {TARGET_COLUMNS}, a.name, a.network FROM targets t
                     JOIN accounts a ON a.id = t.account_id
                     WHERE t.workspace_id = $1 AND t.updated_ms > $2
                     ORDER BY t.updated_ms, t.id LIMIT $3"
                ),
                &[&workspace_id, &since_ms, &i64::from(limit)],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| target_view(r, 0)).collect())
    }

    async fn attempts(
        &self,
        workspace_id: &str,
        post_id: &str,
    ) -> Result<Vec<(String, PublishAttempt)>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT a.name, x.target_id, x.part, x.started_ms, x.ended_ms, x.outcome,
                        x.http_status, x.error
                 FROM attempts x JOIN targets t ON t.id = x.target_id
                 JOIN accounts a ON a.id = t.account_id
                 WHERE t.workspace_id = $1 AND t.post_id = $2
                 ORDER BY x.started_ms, x.id",
                &[&workspace_id, &post_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    PublishAttempt {
                        target_id: r.get(1),
                        part: r.get::<_, i64>(2) as u32,
                        started_ms: r.get(3),
                        ended_ms: r.get(4),
                        outcome: r.get(5),
                        http_status: r.get::<_, Option<i64>>(6).map(|s| s as u16),
                        error: r.get(7),
                        in_doubt: false,
                    },
                )
            })
            .collect())
    }

    async fn calendar(
        &self,
        workspace_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CalendarEntry>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {TARGET_COLUMNS}, a.name, a.network, p.title FROM targets t
                     JOIN accounts a ON a.id = t.account_id JOIN posts p ON p.id = t.post_id
                     WHERE t.workspace_id = $1 AND t.due_ms >= $2 AND t.due_ms < $3
                       AND t.state IN {} AND p.deleted_ms IS NULL
                     ORDER BY t.due_ms, t.id",
                    TargetState::sql(TargetState::SCHEDULED_ONCE)
                ),
                &[&workspace_id, &from_ms, &to_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| CalendarEntry {
                target: target_view(r, 0),
                post_title: r.get(TARGET_WIDTH + 2),
            })
            .collect())
    }

    async fn claim_due(&self, claim: &Claim) -> Result<ClaimOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let now = claim.now_ms;
        let mut outcome = ClaimOutcome::default();
        if let Some(before) = claim.missed_before_ms {
            let rows = tx
                .rows(&pg(&mark_missed_sql()), &[&now, &before, &claim.only_post])
                .await
                .map_err(db_error)?;
            outcome.missed = rows
                .iter()
                .map(|r| MissedTarget {
                    target_id: r.get(0),
                    post_id: r.get(1),
                    workspace_id: r.get(2),
                    account_id: r.get(3),
                    due_ms: r.get(4),
                })
                .collect();
        }
        // The accounts with due targets, locked first: of two claims racing each other,
        // one takes an account and the other skips it, or finds the first one's leases
        // (the statement after this one sees what was committed meanwhile). Without it,
        // two claims at once could each take some of one account's targets and send them
        // at the same time, out of their order.
        let accounts: Vec<String> = tx
            .rows(
                &pg(&format!(
                    "SELECT a.id FROM accounts a WHERE a.id IN (
                         SELECT t.account_id FROM targets t
                         WHERE {due} AND {ready} AND {only_post} AND {skip} AND {elsewhere})
                     ORDER BY a.id FOR NO KEY UPDATE SKIP LOCKED",
                    due = due_sql("?1"),
                    ready = account_ready_sql("?1"),
                    only_post = only_post_sql("?2"),
                    skip = SKIP_3,
                    elsewhere = not_claimed_elsewhere_sql("?1", "?4"),
                )),
                &[&now, &claim.only_post, &claim.skip_accounts, &claim.owner],
            )
            .await
            .map_err(db_error)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // SKIP LOCKED: what another claimer is locking is left to it, not waited for; the
        // conditional UPDATE in `take` is what guarantees a target is claimed once.
        let ids = match accounts.is_empty() {
            true => Vec::new(),
            false => tx
                .rows(
                    &pg(&format!(
                        "SELECT t.id, t.state = '{publishing}' FROM targets t
                         WHERE {due} AND t.id IN (
                             SELECT id FROM (
                                 SELECT t.id, row_number() OVER (PARTITION BY t.account_id
                                     ORDER BY t.due_ms, t.id) AS nth
                                 FROM targets t WHERE {due} AND {ready} AND {only_post}
                                   AND t.account_id = ANY(?5) AND {elsewhere}) x
                             WHERE nth <= ?3)
                         ORDER BY coalesce(t.next_attempt_ms, t.due_ms), t.id LIMIT ?2
                         FOR UPDATE OF t SKIP LOCKED",
                        publishing = TargetState::Publishing.as_str(),
                        due = due_sql("?1"),
                        ready = account_ready_sql("?1"),
                        only_post = only_post_sql("?4"),
                        elsewhere = not_claimed_elsewhere_sql("?1", "?6"),
                    )),
                    &[
                        &now,
                        &i64::from(claim.limit),
                        &i64::from(claim.per_account),
                        &claim.only_post,
                        &accounts,
                        &claim.owner,
                    ],
                )
                .await
                .map_err(db_error)?,
        };
        // Targets no claimer held before are taken together; one taken over from a claimer
        // whose lease ran out may have a part of unknown fate, and is taken on its own.
        let mut fresh = Vec::with_capacity(ids.len());
        for row in ids {
            let id: String = row.get(0);
            match row.get(1) {
                true => {
                    take(&tx, claim, &id, true, &mut outcome).await?;
                }
                false => fresh.push(id),
            }
        }
        take_fresh(&tx, claim, &fresh, &mut outcome).await?;
        // One probe per open circuit whose time has come (its targets were left out); a
        // circuit another claimer is probing right now is skipped.
        let ready = tx
            .rows(
                &pg(&format!("{PROBE_READY} FOR UPDATE SKIP LOCKED")),
                &[&now],
            )
            .await
            .map_err(db_error)?;
        for row in ready {
            let (network, base_url): (String, String) = (row.get(0), row.get(1));
            let probe = tx
                .maybe_row(
                    &pg(&format!(
                        "{} FOR UPDATE OF t SKIP LOCKED",
                        probe_target_sql(SKIP_3)
                    )),
                    &[
                        &now,
                        &claim.only_post,
                        &claim.skip_accounts,
                        &network,
                        &base_url,
                    ],
                )
                .await
                .map_err(db_error)?;
            let Some(probe) = probe else {
                continue;
            };
            let id: String = probe.get(0);
            if take(&tx, claim, &id, probe.get(1), &mut outcome).await? {
                tx.exec(
                    "UPDATE circuits SET probe_target = $3, probe_until_ms = $4
                     WHERE network = $1 AND base_url = $2",
                    &[&network, &base_url, &id, &claim.lease_until_ms],
                )
                .await
                .map_err(db_error)?;
                if let Some(last) = outcome.claimed.last_mut() {
                    last.probe = true;
                }
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcome)
    }

    async fn renew_lease(&self, target_id: &str, owner: &str, until_ms: i64) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                &format!(
                    "UPDATE targets SET lease_expires_ms = $3
                     WHERE id = $1 AND lease_owner = $2 AND state = '{}'",
                    TargetState::Publishing.as_str()
                ),
                &[&target_id, &owner, &until_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
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
        let client = self.client().await?;
        let n = client
            .exec(
                &format!(
                    "UPDATE targets SET
                        in_flight_ms = CASE WHEN in_flight = $3 AND in_flight_ms IS NOT NULL
                            THEN in_flight_ms ELSE $6 END,
                        in_flight = $3, planned_parts = $4, lease_expires_ms = $5
                     WHERE id = $1 AND lease_owner = $2 AND state = '{}'",
                    TargetState::Publishing.as_str()
                ),
                &[
                    &target_id,
                    &owner,
                    &i64::from(part),
                    &i64::from(planned),
                    &lease_until_ms,
                    &now_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn record_part(
        &self,
        target_id: &str,
        owner: &str,
        published: &serde_json::Value,
        attempt: &PublishAttempt,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let parts = tx
            .maybe_row(
                &format!(
                    "SELECT parts FROM targets
                     WHERE id = $1 AND lease_owner = $2 AND state = '{}' FOR UPDATE",
                    TargetState::Publishing.as_str()
                ),
                &[&target_id, &owner],
            )
            .await
            .map_err(db_error)?;
        let Some(parts) = parts else {
            return Ok(false);
        };
        let parts = add_part(&parts.get::<_, String>(0), attempt.part, published.clone());
        tx.exec(
            "UPDATE targets SET parts = $3, in_flight = NULL, in_flight_ms = NULL,
             in_flight_stage = NULL, updated_ms = $4 WHERE id = $1 AND lease_owner = $2",
            &[&target_id, &owner, &parts, &attempt.ended_ms],
        )
        .await
        .map_err(db_error)?;
        insert_publish_attempt(&tx, attempt).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
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
        let f = FinishColumns::of(finish, attempt);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                &pg(&format!(
                    "UPDATE targets SET
                        state = CASE WHEN CAST(?3 AS TEXT) IS NOT NULL THEN CAST(?3 AS TEXT)
                                     WHEN attempt_count > 0 THEN '{waiting_retry}'
                                     ELSE '{scheduled}' END,
                        last_error = CASE WHEN CAST(?3 AS TEXT) IS NULL THEN last_error
                                          ELSE CAST(?4 AS TEXT) END,
                        next_attempt_ms = ?5, attempt_count = attempt_count + ?6,
                        lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ?7,
                        in_flight = CASE WHEN ?8 THEN NULL ELSE in_flight END,
                        in_flight_ms = CASE WHEN ?8 THEN NULL ELSE in_flight_ms END,
                        in_flight_stage = CASE WHEN ?8 THEN NULL ELSE in_flight_stage END
                     WHERE id = ?1 AND lease_owner = ?2 AND state = '{publishing}'",
                    waiting_retry = TargetState::WaitingRetry.as_str(),
                    scheduled = TargetState::Scheduled.as_str(),
                    publishing = TargetState::Publishing.as_str(),
                )),
                &[
                    &target_id,
                    &owner,
                    &f.state,
                    &f.error,
                    &f.next_attempt_ms,
                    &f.count,
                    &now_ms,
                    &f.settled,
                ],
            )
            .await
            .map_err(db_error)?;
        if n == 0 {
            return Ok(false);
        }
        if let Some(attempt) = attempt {
            insert_publish_attempt(&tx, attempt).await?;
        }
        tx.exec(
            "UPDATE circuits SET probe_target = NULL, probe_until_ms = NULL
             WHERE probe_target = $1",
            &[&target_id],
        )
        .await
        .map_err(db_error)?;
        for event in events {
            record_event(&tx, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn release_claims(&self, owner: &str, now_ms: i64) -> Result<u64> {
        let client = self.client().await?;
        client
            .exec(
                &format!(
                    "UPDATE targets SET
                        state = CASE WHEN attempt_count > 0 THEN '{waiting_retry}'
                                     ELSE '{scheduled}' END,
                        lease_owner = NULL, lease_expires_ms = NULL, updated_ms = $2
                     WHERE lease_owner = $1 AND state = '{publishing}' AND in_flight IS NULL",
                    waiting_retry = TargetState::WaitingRetry.as_str(),
                    scheduled = TargetState::Scheduled.as_str(),
                    publishing = TargetState::Publishing.as_str(),
                ),
                &[&owner, &now_ms],
            )
            .await
            .map_err(db_error)
    }

    async fn hold_account(&self, account_id: &str, until_ms: i64, reason: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                "INSERT INTO account_waits (account_id, until_ms, reason) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id) DO UPDATE SET until_ms = excluded.until_ms,
                   reason = excluded.reason WHERE account_waits.until_ms < excluded.until_ms",
                &[&account_id, &until_ms, &reason],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn account_wait(&self, account_id: &str, now_ms: i64) -> Result<Option<(i64, String)>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT until_ms, reason FROM account_waits WHERE account_id = $1 AND until_ms > $2",
                &[&account_id, &now_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn next_due(&self) -> Result<Option<i64>> {
        let client = self.client().await?;
        let row = client.row(&next_due_sql(), &[]).await.map_err(db_error)?;
        let due: Option<i64> = row.get(0);
        Ok(due
            .into_iter()
            .chain(probe_times(&client, i64::MIN).await?)
            .min())
    }

    async fn next_due_after(&self, after_ms: i64, skip_accounts: &[String]) -> Result<Option<i64>> {
        let client = self.client().await?;
        let skip = skip_accounts.to_vec();
        let row = client
            .row(&pg(&next_due_after_sql(SKIP_2)), &[&after_ms, &skip])
            .await
            .map_err(db_error)?;
        let due: Option<i64> = row.get(0);
        Ok(due
            .into_iter()
            .chain(probe_times(&client, after_ms).await?)
            .min())
    }

    async fn note_stage(&self, target_id: &str, owner: &str, stage: &str) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                &format!(
                    "UPDATE targets SET in_flight_stage = $3
                     WHERE id = $1 AND lease_owner = $2 AND state = '{}'
                       AND in_flight IS NOT NULL",
                    TargetState::Publishing.as_str()
                ),
                &[&target_id, &owner, &stage],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn held_accounts(&self, now_ms: i64) -> Result<Vec<HeldAccount>> {
        let client = self.client().await?;
        let rows = client
            .rows(&pg(&held_accounts_sql()), &[&now_ms])
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| HeldAccount {
                account_id: r.get(0),
                until_ms: r.get(1),
                reason: r.get(2),
                next_ms: r.get(3),
                targets: r.get::<_, i64>(4) as u32,
            })
            .collect())
    }

    async fn data_version(&self) -> Result<i64> {
        let client = self.client().await?;
        let row = client.row(DATA_VERSION, &[]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<Account>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1"),
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| account_row(&r, 0)))
    }

    async fn replace_credentials(&self, account_id: &str, sealed: &str) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                "UPDATE accounts SET credentials = $2 WHERE id = $1 AND deleted_ms IS NULL",
                &[&account_id, &sealed],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn server_limits(&self, account_id: &str) -> Result<Option<(String, i64)>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                "SELECT server_limits, server_limits_ms FROM accounts
                 WHERE id = $1 AND server_limits IS NOT NULL AND server_limits_ms IS NOT NULL",
                &[&account_id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn save_server_limits(&self, account_id: &str, limits: &str, read_ms: i64) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(
                "UPDATE accounts SET server_limits = $2, server_limits_ms = $3 WHERE id = $1",
                &[&account_id, &limits, &read_ms],
            )
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn published_targets(&self, post_id: &str) -> Result<Vec<(String, Account, String)>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT t.id, t.parts, {ACCOUNT_COLUMNS} FROM targets t
                     JOIN accounts a ON a.id = t.account_id
                     WHERE t.post_id = $1 AND t.parts <> '[]' AND t.state NOT IN ('{}', '{}')
                     ORDER BY t.id",
                    TargetState::Publishing.as_str(),
                    TargetState::Cancelled.as_str()
                ),
                &[&post_id],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), account_row(r, 2), r.get(1)))
            .collect())
    }

    async fn mark_unpublished(&self, target_id: &str, now_ms: i64) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(&pg(&mark_unpublished_sql()), &[&target_id, &now_ms])
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn take_sign_in_lock(
        &self,
        account_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .exec(
                &pg(TAKE_SIGN_IN_LOCK),
                &[&account_id, &holder, &now_ms, &until_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(n == 1)
    }

    async fn release_sign_in_lock(&self, account_id: &str, holder: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .exec(&pg(RELEASE_SIGN_IN_LOCK), &[&account_id, &holder])
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn mark_needs_sign_in(
        &self,
        account_id: &str,
        why: &str,
        events: &[Event],
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let n = tx
            .exec(
                "UPDATE accounts SET needs_sign_in = $2 WHERE id = $1 AND needs_sign_in IS NULL",
                &[&account_id, &why],
            )
            .await
            .map_err(db_error)?;
        if n == 1 {
            for event in events {
                record_event(&tx, event).await?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn signed_in_again(&self, account_id: &str, now_ms: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let cleared = tx
            .exec(&pg(super::sql::SIGNED_IN_AGAIN), &[&account_id])
            .await
            .map_err(db_error)?
            > 0;
        if cleared {
            tx.exec(
                &pg(&super::sql::touch_waiting_sql()),
                &[&account_id, &now_ms],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(cleared)
    }

    async fn accounts_needing_sign_in(&self) -> Result<Vec<(String, String)>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT id, needs_sign_in FROM accounts WHERE needs_sign_in IS NOT NULL",
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn note_outage(
        &self,
        circuit: &Circuit,
        outage: Outage,
        error: &str,
        rule: &CircuitRule,
    ) -> Result<(CircuitState, Option<CircuitEvent>)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        // A row to lock: failures noted at once by several processes wait for each other.
        tx.exec(
            "INSERT INTO circuits (network, base_url, failures, probes) VALUES ($1, $2, '[]', 0)
             ON CONFLICT (network, base_url) DO NOTHING",
            &[&circuit.network.name(), &circuit.base_url],
        )
        .await
        .map_err(db_error)?;
        let current = tx
            .maybe_row(
                &format!(
                    "SELECT {CIRCUIT_COLUMNS} FROM circuits
                     WHERE network = $1 AND base_url = $2 FOR UPDATE"
                ),
                &[&circuit.network.name(), &circuit.base_url],
            )
            .await
            .map_err(db_error)?
            .and_then(|r| circuit_state(circuit_raw(&r)))
            .unwrap_or_else(|| CircuitState::closed(circuit.clone()));
        let (state, event) = after_outage(current, outage, error, rule);
        let v = circuit_values(&state);
        tx.exec(
            &pg(CIRCUIT_UPSERT),
            &[&v.0, &v.1, &v.2, &v.3, &v.4, &v.5, &v.6],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok((state, event))
    }

    async fn note_answer(&self, circuit: &Circuit, at_ms: i64) -> Result<Option<CircuitEvent>> {
        if self.circuit(circuit).await?.is_none() {
            return Ok(None);
        }
        let client = self.client().await?;
        let removed = client
            .maybe_row(
                &format!(
                    "DELETE FROM circuits WHERE network = $1 AND base_url = $2
                     RETURNING {CIRCUIT_COLUMNS}"
                ),
                &[&circuit.network.name(), &circuit.base_url],
            )
            .await
            .map_err(db_error)?
            .and_then(|r| circuit_state(circuit_raw(&r)));
        let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
        Ok(removed.and_then(|state| after_answer(&state, at)))
    }

    async fn circuit(&self, circuit: &Circuit) -> Result<Option<CircuitState>> {
        let client = self.client().await?;
        let row = client
            .maybe_row(
                &format!(
                    "SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE network = $1 AND base_url = $2"
                ),
                &[&circuit.network.name(), &circuit.base_url],
            )
            .await
            .map_err(db_error)?;
        Ok(row.and_then(|r| circuit_state(circuit_raw(&r))))
    }

    async fn open_circuits(&self) -> Result<Vec<CircuitState>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {CIRCUIT_COLUMNS} FROM circuits WHERE opened_ms IS NOT NULL
                     ORDER BY opened_ms, network, base_url"
                ),
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .filter_map(|r| circuit_state(circuit_raw(r)))
            .collect())
    }

    async fn target_counts(&self) -> Result<Vec<(TargetState, u64)>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "SELECT state, count(*) FROM targets GROUP BY state ORDER BY state",
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                let state: String = r.get(0);
                (state_of(&state), r.get::<_, i64>(1) as u64)
            })
            .collect())
    }

    async fn take_rate_token(&self, id: &str, per_minute: u32, now_ms: i64) -> Result<RateTaken> {
        let now_us = now_ms.saturating_mul(1000);
        let interval_us = RATE_WINDOW_US / i64::from(per_minute.max(1));
        let client = self.client().await?;
        // Once per connection: this runs on every request of a key.
        let row = client
            .row(
                "INSERT INTO rate_limits AS r (id, tat_us, allowed) VALUES ($1, $2::BIGINT + $3::BIGINT, TRUE)
                 ON CONFLICT (id) DO UPDATE SET
                   allowed = GREATEST(r.tat_us, $2) + $3 - $2 <= $4::BIGINT,
                   tat_us = CASE WHEN GREATEST(r.tat_us, $2) + $3 - $2 <= $4::BIGINT
                                 THEN GREATEST(r.tat_us, $2) + $3
                                 ELSE r.tat_us END
                 RETURNING allowed, tat_us", &[&id, &now_us, &interval_us, &RATE_WINDOW_US])
            .await
            .map_err(db_error)?;
        Ok(RateTaken {
            allowed: row.get(0),
            full_at_us: row.get(1),
        })
    }

    async fn purge(&self, purge: &Purge) -> Result<Purged> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let sessions = tx
            .exec(
                "DELETE FROM sessions WHERE expires_ms < $1 OR revoked_ms < $1",
                &[&purge.sessions_ended_before_ms],
            )
            .await
            .map_err(db_error)?;
        let idempotency_keys = tx
            .exec(
                "DELETE FROM idempotency_keys WHERE created_ms < $1",
                &[&purge.idempotency_before_ms],
            )
            .await
            .map_err(db_error)?;
        let login_failures = tx
            .exec(
                "DELETE FROM login_failures WHERE last_ms < $1",
                &[&purge.login_failures_before_ms],
            )
            .await
            .map_err(db_error)?;
        let rate_limits = tx
            .exec(
                "DELETE FROM rate_limits WHERE tat_us < $1",
                &[&purge.rate_limits_full_before_ms.saturating_mul(1000)],
            )
            .await
            .map_err(db_error)?;
        let webhook_attempts = tx
            .exec(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (
                   SELECT id FROM webhook_deliveries
                   WHERE state <> 'pending' AND finished_ms < $1)",
                &[&purge.deliveries_finished_before_ms],
            )
            .await
            .map_err(db_error)?;
        let webhook_deliveries = tx
            .exec(
                "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_ms < $1",
                &[&purge.deliveries_finished_before_ms],
            )
            .await
            .map_err(db_error)?;
        let attempts = tx
            .exec(
                &format!(
                    "DELETE FROM attempts WHERE ended_ms < $1 AND target_id IN (
                       SELECT id FROM targets WHERE state NOT IN {})",
                    TargetState::sql(ATTEMPTS_KEPT)
                ),
                &[&purge.attempts_ended_before_ms],
            )
            .await
            .map_err(db_error)?;
        let mut notifications = [0u64; 3];
        for (n, sql) in notifications
            .iter_mut()
            .zip(super::notifications::sql::PURGE)
        {
            *n = tx
                .exec(&super::sql::pg(sql), &[&purge.notifications_before_ms])
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Purged {
            notification_events: notifications[0],
            notification_sends: notifications[1],
            inbox_items: notifications[2],
            sessions,
            idempotency_keys,
            login_failures,
            rate_limits,
            webhook_deliveries,
            webhook_attempts,
            attempts,
        })
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

pub(super) async fn insert_post(c: &impl deadpool_postgres::GenericClient, p: &Post) -> Result<()> {
    c.exec(
        &format!(
            "INSERT INTO posts ({POST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &[
            &p.id,
            &p.workspace_id,
            &p.author_id,
            &p.title,
            &p.body,
            &p.state.as_str(),
            &p.scheduled_ms,
            &p.zone,
            &p.created_ms,
            &p.updated_ms,
        ],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

/// Writes a post's editable columns; false if it is not there (or deleted).
async fn write_post(c: &impl deadpool_postgres::GenericClient, p: &Post) -> Result<bool> {
    let n = c
        .exec(
            "UPDATE posts SET title = $3, body = $4, state = $5, scheduled_ms = $6, zone = $7,
             updated_ms = $8
             WHERE workspace_id = $1 AND id = $2 AND deleted_ms IS NULL",
            &[
                &p.workspace_id,
                &p.id,
                &p.title,
                &p.body,
                &p.state.as_str(),
                &p.scheduled_ms,
                &p.zone,
                &p.updated_ms,
            ],
        )
        .await
        .map_err(db_error)?;
    Ok(n == 1)
}

/// Inserts a target; with `keep_existing`, nothing happens if the post has one on that
/// account already.
pub(super) async fn insert_target(
    c: &impl deadpool_postgres::GenericClient,
    t: &Target,
    keep_existing: bool,
) -> Result<()> {
    let placeholders = (1..=17)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let tail = if keep_existing {
        " ON CONFLICT (post_id, account_id) DO NOTHING"
    } else {
        ""
    };
    c.exec(
        &format!("INSERT INTO targets ({TARGET_INSERT}) VALUES ({placeholders}){tail}"),
        &[
            &t.id,
            &t.post_id,
            &t.account_id,
            &t.workspace_id,
            &t.state.as_str(),
            &t.due_ms,
            &t.next_attempt_ms,
            &i64::from(t.attempt_count),
            &t.lease_owner,
            &t.lease_expires_ms,
            &t.parts,
            &t.planned_parts.map(i64::from),
            &t.in_flight.map(i64::from),
            &t.in_flight_ms,
            &t.last_error,
            &t.created_ms,
            &t.updated_ms,
        ],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

/// A post's targets: (id, account id, state), locked for the transaction.
pub(super) async fn post_targets(
    c: &impl deadpool_postgres::GenericClient,
    post_id: &str,
) -> Result<Vec<(String, String, TargetState)>> {
    let rows = c
        .rows(
            "SELECT id, account_id, state FROM targets WHERE post_id = $1 ORDER BY id FOR UPDATE",
            &[&post_id],
        )
        .await
        .map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), state_of(&r.get::<_, String>(2))))
        .collect())
}

/// Writes the post and applies `accounts` and `change` to its targets (see
/// `Storage::update_post`); `None` if there is no such post. The caller commits.
pub(super) async fn change_post(
    tx: &impl deadpool_postgres::GenericClient,
    p: &Post,
    accounts: Option<&[Target]>,
    change: Option<&TargetChange>,
) -> Result<Option<TargetsChanged>> {
    if !write_post(tx, p).await? {
        return Ok(None);
    }
    let now = p.updated_ms;
    if let Some(accounts) = accounts {
        let wanted: Vec<&str> = accounts.iter().map(|t| t.account_id.as_str()).collect();
        for (id, account_id, state) in post_targets(tx, &p.id).await? {
            let listed = wanted.contains(&account_id.as_str());
            if !listed && state.is_editable() {
                set_state(tx, &id, TargetState::Cancelled, now).await?;
            }
        }
        for t in accounts {
            insert_target(tx, t, true).await?;
        }
    }
    let mut outcome = TargetsChanged::default();
    if let Some(change) = change {
        for (id, account_id, state) in post_targets(tx, &p.id).await? {
            let name: String = tx
                .row("SELECT name FROM accounts WHERE id = $1", &[&account_id])
                .await
                .map_err(db_error)?
                .get(0);
            if let TargetChange::Resolve {
                account_id: Some(only),
                ..
            } = change
                && *only != account_id
            {
                continue;
            }
            if !change_allows(change, state) {
                outcome.skipped.push((name, state));
                continue;
            }
            apply_change(tx, &id, change, now).await?;
            outcome.changed.push(name);
        }
    }
    Ok(Some(outcome))
}

async fn insert_decision(
    c: &impl deadpool_postgres::GenericClient,
    d: &ApprovalDecision,
) -> Result<()> {
    c.exec(
        "INSERT INTO approval_decisions (id, workspace_id, post_id, user_id, decision, comment,
         created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &d.id,
            &d.workspace_id,
            &d.post_id,
            &d.user_id,
            &d.decision.as_str(),
            &d.comment,
            &d.created_ms,
        ],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

fn state_of(stored: &str) -> TargetState {
    stored.parse().unwrap_or(TargetState::Failed)
}

async fn set_state(
    c: &impl deadpool_postgres::GenericClient,
    id: &str,
    state: TargetState,
    now_ms: i64,
) -> Result<()> {
    c.exec(
        "UPDATE targets SET state = $2, updated_ms = $3 WHERE id = $1",
        &[&id, &state.as_str(), &now_ms],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

/// Applies a change the target's state allows (the caller checked).
async fn apply_change(
    c: &impl deadpool_postgres::GenericClient,
    id: &str,
    change: &TargetChange,
    now_ms: i64,
) -> Result<()> {
    match change {
        TargetChange::Resolve { published_url, .. } => {
            let r = c
                .row(
                    "SELECT parts, in_flight, planned_parts FROM targets WHERE id = $1",
                    &[&id],
                )
                .await
                .map_err(db_error)?;
            let (parts, state) = resolve_parts(
                &r.get::<_, String>(0),
                r.get::<_, Option<i64>>(1).map(|n| n as u32),
                r.get::<_, Option<i64>>(2).map(|n| n as u32),
                published_url.as_deref(),
            );
            c.exec(
                "UPDATE targets SET state = $2, parts = $3,
                 due_ms = CASE WHEN $2 = 'published' THEN due_ms ELSE $4 END,
                 next_attempt_ms = NULL, attempt_count = 0, first_attempt_ms = NULL,
                 in_flight_stage = NULL, in_flight = NULL,
                 in_flight_ms = NULL, last_error = NULL, updated_ms = $4 WHERE id = $1",
                &[&id, &state.as_str(), &parts, &now_ms],
            )
            .await
        }
        TargetChange::Retry { .. } => {
            c.exec(
                "UPDATE targets SET state = $2, due_ms = $3, next_attempt_ms = NULL,
                 attempt_count = 0, first_attempt_ms = NULL, last_error = NULL,
                 updated_ms = $3 WHERE id = $1",
                &[&id, &change.to_state().as_str(), &change.due_ms()],
            )
            .await
        }
        TargetChange::Schedule { due_ms } => {
            c.exec(
                &pg(SCHEDULE_TARGET),
                &[
                    &id,
                    &change.to_state().as_str(),
                    due_ms,
                    &now_ms,
                    &TargetState::AwaitingApproval.as_str(),
                ],
            )
            .await
        }
        TargetChange::Approve { late_before_ms } => {
            c.exec(&pg(APPROVE_TARGET), &[&id, late_before_ms, &now_ms])
                .await
        }
        _ => {
            c.exec(
                "UPDATE targets SET state = $2, due_ms = coalesce($3, due_ms),
                 next_attempt_ms = NULL, first_attempt_ms = NULL, updated_ms = $4 WHERE id = $1",
                &[&id, &change.to_state().as_str(), &change.due_ms(), &now_ms],
            )
            .await
        }
    }
    .map_err(db_error)
    .map(drop)
}

async fn insert_publish_attempt(
    c: &impl deadpool_postgres::GenericClient,
    a: &PublishAttempt,
) -> Result<()> {
    c.exec(
        "INSERT INTO attempts (id, target_id, part, started_ms, ended_ms, outcome, http_status,
         error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &uuid::Uuid::now_v7().to_string(),
            &a.target_id,
            &i64::from(a.part),
            &a.started_ms,
            &a.ended_ms,
            &a.outcome,
            &a.http_status.map(i64::from),
            &a.error,
        ],
    )
    .await
    .map_err(db_error)
    .map(drop)
}

fn target_row(r: &Row, at: usize) -> Target {
    Target {
        id: r.get(at),
        post_id: r.get(at + 1),
        account_id: r.get(at + 2),
        workspace_id: r.get(at + 3),
        state: state_of(&r.get::<_, String>(at + 4)),
        due_ms: r.get(at + 5),
        next_attempt_ms: r.get(at + 6),
        attempt_count: r.get::<_, i64>(at + 7) as u32,
        lease_owner: r.get(at + 8),
        lease_expires_ms: r.get(at + 9),
        parts: r.get(at + 10),
        planned_parts: r.get::<_, Option<i64>>(at + 11).map(|n| n as u32),
        in_flight: r.get::<_, Option<i64>>(at + 12).map(|n| n as u32),
        in_flight_ms: r.get(at + 13),
        last_error: r.get(at + 14),
        created_ms: r.get(at + 15),
        updated_ms: r.get(at + 16),
    }
}

fn target_view(r: &Row, at: usize) -> TargetView {
    TargetView {
        target: target_row(r, at),
        account_name: r.get(at + TARGET_WIDTH),
        network: r.get(at + TARGET_WIDTH + 1),
    }
}

fn account_row(r: &Row, at: usize) -> Account {
    Account {
        id: r.get(at),
        workspace_id: r.get(at + 1),
        name: r.get(at + 2),
        network: r.get(at + 3),
        base_url: r.get(at + 4),
        handle: r.get(at + 5),
        settings: r.get(at + 6),
        credentials: r.get(at + 7),
        created_ms: r.get(at + 8),
    }
}

fn post_row_at(r: &Row, at: usize) -> Post {
    let state: String = r.get(at + 5);
    Post {
        id: r.get(at),
        workspace_id: r.get(at + 1),
        author_id: r.get(at + 2),
        title: r.get(at + 3),
        body: r.get(at + 4),
        state: PostState::parse(&state).unwrap_or(PostState::Draft),
        scheduled_ms: r.get(at + 6),
        zone: r.get(at + 7),
        created_ms: r.get(at + 8),
        updated_ms: r.get(at + 9),
    }
}

/// The accounts to leave out, a text array in `?5` / `?3` / `?2`.
const SKIP_3: &str = "NOT (t.account_id = ANY(CAST(?3 AS TEXT[])))";
const SKIP_2: &str = "NOT (t.account_id = ANY(CAST(?2 AS TEXT[])))";

/// Soft-deletes post `id` of workspace `w` (how many posts it deleted) and cancels what
/// has not started publishing; a claimed target finishes.
async fn soft_delete(
    tx: &deadpool_postgres::Transaction<'_>,
    w: &str,
    id: &str,
    now_ms: i64,
) -> Result<u64> {
    let n = tx
        .exec(
            "UPDATE posts SET deleted_ms = $3
             WHERE workspace_id = $1 AND id = $2 AND deleted_ms IS NULL",
            &[&w, &id, &now_ms],
        )
        .await
        .map_err(db_error)?;
    tx.exec(
        &format!(
            "UPDATE targets SET state = '{}', updated_ms = $2
             WHERE post_id = $1 AND state IN {}",
            TargetState::Cancelled.as_str(),
            TargetState::sql(TargetState::EDITABLE)
        ),
        &[&id, &now_ms],
    )
    .await
    .map_err(db_error)?;
    Ok(n)
}

/// Stamps the fields the server wrote to post `p` ([`ApiField`]: through the API, or a
/// feed's or trigger's new post) and appends the version that carries them to the
/// workspace's sync chain (with a `created` operation first when the write `created` the
/// post; its device and user those of the first field), so devices pull the write as any
/// device's.
pub(super) async fn stamp_api_fields(
    tx: &deadpool_postgres::Transaction<'_>,
    p: &Post,
    fields: &[ApiField],
    created: bool,
) -> Result<()> {
    if fields.is_empty() {
        return Ok(());
    }
    let stmt = tx.prepare_cached(&pg(API_STAMP)).await.map_err(db_error)?;
    let mut stamps = Vec::with_capacity(fields.len());
    for f in fields {
        let row = tx
            .query_one(
                &stmt,
                &[
                    &p.workspace_id,
                    &p.id,
                    &f.field,
                    &f.at_ms,
                    &f.device,
                    &f.value,
                ],
            )
            .await
            .map_err(db_error)?;
        stamps.push(row.get::<_, i64>(0));
    }
    let payload = super::sql::api_payload(p, created, fields, &stamps);
    let append = tx
        .prepare_cached(&pg(super::sql::API_VERSION))
        .await
        .map_err(db_error)?;
    let at_ms = p.updated_ms.max(p.created_ms);
    // A push racing this write takes the chain's next position under the same unique
    // (workspace, seq) compare: whichever inserts second waits for the first, and then
    // either is refused as stale (the push: its device pulls and pushes again) or finds
    // the position taken (here: read the head again and append after it).
    for _ in 0..1000 {
        let id = uuid::Uuid::now_v7().to_string();
        let added = tx
            .query_opt(
                &append,
                &[
                    &id,
                    &p.workspace_id,
                    &fields[0].device,
                    &fields[0].by,
                    &at_ms,
                    &payload,
                ],
            )
            .await
            .map_err(db_error)?;
        if added.is_some() {
            return Ok(());
        }
    }
    Err(StorageError::Database(
        "the sync chain kept moving while an API write was appended to it".into(),
    ))
}

/// Claims target `id` for the claimer if it is still due (conditional, so a concurrent
/// claim cannot double up): true when it did. A target whose publisher stopped mid-send
/// becomes `uncertain` instead where its network cannot be asked again safely
/// ([`takeover`]).
async fn take(
    tx: &deadpool_postgres::Transaction<'_>,
    claim: &Claim,
    id: &str,
    taken_over: bool,
    outcome: &mut ClaimOutcome,
) -> Result<bool> {
    let now = claim.now_ms;
    let r = tx
        .row(&claimed_select("WHERE t.id = $1"), &[&id])
        .await
        .map_err(db_error)?;
    let mut claimed = claimed_row(&r, taken_over);
    let interrupted = claimed
        .target
        .in_flight
        .zip(claimed.target.in_flight_ms)
        .filter(|_| taken_over);
    if let Some((part, since)) = interrupted {
        let fate = match claim.engine_decides {
            true => None,
            false => Some(takeover(&claimed.account, since, now)),
        };
        let attempt = interrupted_attempt(id, part, since, now, fate);
        if fate == Some(Takeover::Uncertain) {
            let n = tx
                .exec(
                    &pg(&format!(
                        "UPDATE targets AS t SET state = '{uncertain}', lease_owner = NULL,
                         lease_expires_ms = NULL, last_error = ?2, updated_ms = ?1
                         WHERE t.id = ?3 AND {due}",
                        uncertain = TargetState::Uncertain.as_str(),
                        due = due_sql("?1"),
                    )),
                    &[&now, &attempt.error, &id],
                )
                .await
                .map_err(db_error)?;
            if n == 1 {
                insert_publish_attempt(tx, &attempt).await?;
                outcome.uncertain.push(id.to_string());
            }
            return Ok(false);
        }
        insert_publish_attempt(tx, &attempt).await?;
    }
    let n = tx
        .exec(
            &pg(&format!(
                "UPDATE targets AS t SET state = '{publishing}', lease_owner = ?2,
                 lease_expires_ms = ?3, updated_ms = ?1,
                 first_attempt_ms = coalesce(t.first_attempt_ms, ?1)
                 WHERE t.id = ?4 AND {due}",
                publishing = TargetState::Publishing.as_str(),
                due = due_sql("?1"),
            )),
            &[&now, &claim.owner, &claim.lease_until_ms, &id],
        )
        .await
        .map_err(db_error)?;
    if n == 1 {
        let target = &mut claimed.target;
        target.state = TargetState::Publishing;
        target.lease_owner = Some(claim.owner.clone());
        target.lease_expires_ms = Some(claim.lease_until_ms);
        target.updated_ms = now;
        claimed.first_attempt_ms = Some(claimed.first_attempt_ms.unwrap_or(now));
        outcome.claimed.push(claimed);
    }
    Ok(n == 1)
}

/// Takes the due targets `ids` that no claimer held before (so none has a part of
/// unknown fate) in two statements whatever their number: the conditional UPDATE, which
/// guarantees each is claimed once, then one read of what it took. One statement each
/// made a claim of 1,000 targets 2,000 round trips long, with nothing sent meanwhile.
async fn take_fresh(
    tx: &deadpool_postgres::Transaction<'_>,
    claim: &Claim,
    ids: &[String],
    outcome: &mut ClaimOutcome,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let taken: Vec<String> = tx
        .rows(
            &pg(&format!(
                "UPDATE targets AS t SET state = '{publishing}', lease_owner = ?2,
                 lease_expires_ms = ?3, updated_ms = ?1,
                 first_attempt_ms = coalesce(t.first_attempt_ms, ?1)
                 WHERE t.id = ANY(?4) AND {due} RETURNING t.id",
                publishing = TargetState::Publishing.as_str(),
                due = due_sql("?1"),
            )),
            &[&claim.now_ms, &claim.owner, &claim.lease_until_ms, &ids],
        )
        .await
        .map_err(db_error)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let rows = tx
        .rows(
            &claimed_select("WHERE t.id = ANY($1) ORDER BY t.due_ms, t.id"),
            &[&taken],
        )
        .await
        .map_err(db_error)?;
    outcome
        .claimed
        .extend(rows.iter().map(|r| claimed_row(r, false)));
    Ok(())
}

/// A claimed target with its account, post, retry window's start, noted stage and media
/// ([`claimed_row`] reads a row of it), `filter` its WHERE clause and what follows.
fn claimed_select(filter: &str) -> String {
    format!(
        "SELECT {TARGET_COLUMNS}, {ACCOUNT_COLUMNS}, {POST_JOIN_COLUMNS},
                t.first_attempt_ms, t.in_flight_stage, m.value
         FROM targets t JOIN accounts a ON a.id = t.account_id
         JOIN posts p ON p.id = t.post_id {MEDIA_JOIN} {filter}"
    )
}

fn claimed_row(r: &Row, taken_over: bool) -> Claimed {
    let at = TARGET_WIDTH + ACCOUNT_WIDTH + POST_JOIN_WIDTH;
    Claimed {
        target: target_row(r, 0),
        account: account_row(r, TARGET_WIDTH),
        post: post_row_at(r, TARGET_WIDTH + ACCOUNT_WIDTH),
        taken_over,
        first_attempt_ms: r.get(at),
        stage: r.get(at + 1),
        media: r.get(at + 2),
        probe: false,
    }
}

/// When each open circuit may next be probed, after `after_ms`.
async fn probe_times(c: &impl deadpool_postgres::GenericClient, after_ms: i64) -> Result<Vec<i64>> {
    let rows = c.rows(&probe_times_sql(), &[]).await.map_err(db_error)?;
    Ok(rows
        .iter()
        .filter_map(|r| probe_time(r.get(0), r.get(1), r.get(2), r.get(3)))
        .filter(|t| *t > after_ms)
        .collect())
}

fn circuit_raw(r: &Row) -> CircuitRaw {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
    )
}
