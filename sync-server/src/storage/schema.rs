//! The server's schema, as numbered, append-only migrations: migration N is
//! `MIGRATIONS[N - 1]`. A shipped migration is never edited; a change is a new one at the
//! end. The statements are plain SQL that SQLite and PostgreSQL read alike (TEXT ids,
//! BIGINT milliseconds, BOOLEAN), so both databases hold the same tables.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: users, workspaces, members, API keys, the setup token, posts, idempotency keys.
    "CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        admin BOOLEAN NOT NULL,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE members (
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        user_id TEXT NOT NULL REFERENCES users (id),
        role TEXT NOT NULL,
        PRIMARY KEY (workspace_id, user_id)
    );
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        name TEXT,
        mode TEXT NOT NULL,
        prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        expires_ms BIGINT,
        created_ms BIGINT NOT NULL,
        revoked_ms BIGINT
    );
    CREATE TABLE setup_tokens (
        hash TEXT PRIMARY KEY,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE posts (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        author_id TEXT NOT NULL REFERENCES users (id),
        title TEXT,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        scheduled_ms BIGINT,
        zone TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        deleted_ms BIGINT
    );
    CREATE INDEX posts_by_workspace ON posts (workspace_id, id);
    CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER,
        body TEXT,
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (scope, key)
    );",
    // 2: sign-in (sessions, TOTP, recovery codes, lockout), deleted users, and keys'
    // rotation, rate limits and IP allowlists.
    "ALTER TABLE users ADD COLUMN deleted_ms BIGINT;
    ALTER TABLE users ADD COLUMN totp_secret TEXT;
    ALTER TABLE users ADD COLUMN totp_pending TEXT;
    ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
    ALTER TABLE api_keys ADD COLUMN rate_per_minute BIGINT;
    ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
    ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
    CREATE TABLE recovery_codes (
        user_id TEXT NOT NULL REFERENCES users (id),
        hash TEXT NOT NULL,
        used_ms BIGINT,
        PRIMARY KEY (user_id, hash)
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        hash TEXT NOT NULL UNIQUE,
        created_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL,
        revoked_ms BIGINT
    );
    CREATE TABLE login_failures (
        subject TEXT PRIMARY KEY,
        failures BIGINT NOT NULL,
        last_ms BIGINT NOT NULL
    );",
    // 3: outbound webhooks: endpoints (sealed secrets, the old one kept through a
    // rotation), their deliveries (claimed with a lease) and each delivery's attempts.
    "CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        url TEXT NOT NULL,
        description TEXT,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        old_secret TEXT,
        old_secret_until_ms BIGINT,
        created_by TEXT NOT NULL REFERENCES users (id),
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        disabled_ms BIGINT,
        disabled_reason TEXT,
        failed_in_a_row BIGINT NOT NULL
    );
    CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, id);
    CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL REFERENCES webhooks (id),
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until_ms BIGINT,
        created_ms BIGINT NOT NULL,
        finished_ms BIGINT,
        redelivery_of TEXT
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);
    CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
    CREATE TABLE webhook_attempts (
        delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
        number BIGINT NOT NULL,
        started_ms BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL,
        status BIGINT,
        answer TEXT,
        error TEXT,
        PRIMARY KEY (delivery_id, number)
    );",
    // 4: accounts (credentials sealed), targets (post × account) with their leases and
    // published parts, the attempt log, and the waits networks ask accounts to keep.
    "CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        name TEXT NOT NULL,
        network TEXT NOT NULL,
        base_url TEXT,
        handle TEXT,
        settings TEXT NOT NULL,
        credentials TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        deleted_ms BIGINT,
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE targets (
        id TEXT PRIMARY KEY,
        post_id TEXT NOT NULL REFERENCES posts (id),
        account_id TEXT NOT NULL REFERENCES accounts (id),
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        state TEXT NOT NULL,
        due_ms BIGINT,
        next_attempt_ms BIGINT,
        attempt_count BIGINT NOT NULL,
        lease_owner TEXT,
        lease_expires_ms BIGINT,
        parts TEXT NOT NULL,
        planned_parts BIGINT,
        in_flight BIGINT,
        in_flight_ms BIGINT,
        last_error TEXT,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        UNIQUE (post_id, account_id)
    );
    CREATE INDEX targets_due ON targets (state, due_ms);
    CREATE INDEX targets_retry ON targets (state, next_attempt_ms);
    CREATE INDEX targets_lease ON targets (lease_owner);
    CREATE INDEX targets_calendar ON targets (workspace_id, due_ms);
    CREATE TABLE attempts (
        id TEXT PRIMARY KEY,
        target_id TEXT NOT NULL REFERENCES targets (id),
        part BIGINT NOT NULL,
        started_ms BIGINT NOT NULL,
        ended_ms BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        http_status BIGINT,
        error TEXT
    );
    CREATE INDEX attempts_by_target ON attempts (target_id, started_ms);
    CREATE TABLE account_waits (
        account_id TEXT PRIMARY KEY REFERENCES accounts (id),
        until_ms BIGINT NOT NULL,
        reason TEXT NOT NULL
    );",
    // 5: rate limits shared by every process of one database: a key's bucket as the time
    // it will be full again (GCRA's theoretical arrival time), in microseconds.
    "CREATE TABLE rate_limits (
        id TEXT PRIMARY KEY,
        tat_us BIGINT NOT NULL,
        allowed BOOLEAN NOT NULL
    );",
    // 6: sync (issue 13). Each workspace's linear chain of versions (`seq` 1, 2, 3… is the
    // position in the chain; one version per position, which is the compare-and-set), and
    // who last wrote each post field applied from them (last writer wins by time, then
    // device), so versions apply to `posts` in any order with one result.
    "CREATE TABLE sync_versions (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        seq BIGINT NOT NULL,
        parent_id TEXT,
        device TEXT NOT NULL,
        author_id TEXT NOT NULL REFERENCES users (id),
        created_ms BIGINT NOT NULL,
        payload TEXT NOT NULL,
        UNIQUE (workspace_id, seq)
    );
    CREATE TABLE post_field_stamps (
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        post_id TEXT NOT NULL,
        field TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        device TEXT NOT NULL,
        PRIMARY KEY (workspace_id, post_id, field)
    );",
    // 7: templates and voices per workspace, and triggers (events from outside that make
    // posts: a GitHub release webhook, a generic JSON call) with the one row per event
    // they turned into a post, so a redelivered event makes no second post.
    "CREATE TABLE templates (
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        variants TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (workspace_id, name)
    );
    CREATE TABLE voices (
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (workspace_id, name)
    );
    CREATE TABLE triggers (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        kind TEXT NOT NULL,
        template TEXT NOT NULL,
        accounts TEXT NOT NULL,
        secret TEXT,
        prereleases BOOLEAN NOT NULL,
        description TEXT,
        created_by TEXT NOT NULL REFERENCES users (id),
        created_ms BIGINT NOT NULL
    );
    CREATE INDEX triggers_by_workspace ON triggers (workspace_id, id);
    CREATE TABLE trigger_firings (
        trigger_id TEXT NOT NULL REFERENCES triggers (id),
        dedupe_key TEXT NOT NULL,
        post_id TEXT NOT NULL REFERENCES posts (id),
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (trigger_id, dedupe_key)
    );",
    // 8: approvals (issue 14). Whether a workspace's posts need approval, its named
    // approvers (besides owners and admins), and every decision on a post: approved,
    // rejected (with the comment) or missed (no one decided before its time; no user).
    "CREATE TABLE approval_settings (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
        require_approval BOOLEAN NOT NULL,
        updated_ms BIGINT NOT NULL
    );
    CREATE TABLE approvers (
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        user_id TEXT NOT NULL REFERENCES users (id),
        PRIMARY KEY (workspace_id, user_id)
    );
    CREATE TABLE approval_decisions (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        post_id TEXT NOT NULL REFERENCES posts (id),
        user_id TEXT REFERENCES users (id),
        decision TEXT NOT NULL,
        comment TEXT,
        created_ms BIGINT NOT NULL
    );
    CREATE INDEX approval_decisions_by_post ON approval_decisions (post_id, created_ms);",
    // 9: the publish engine on the server (`publisher::ledger`): when a target was first
    // tried (its retry window) and what its adapter noted on the way to the part in
    // flight; accounts held until they sign in again, their token-refresh lock and what
    // their server said about its limits; circuits (a network down for everyone) shared by
    // every process, with the one probe each hands out.
    "ALTER TABLE targets ADD COLUMN first_attempt_ms BIGINT;
    ALTER TABLE targets ADD COLUMN in_flight_stage TEXT;
    CREATE INDEX targets_updated ON targets (updated_ms);
    ALTER TABLE accounts ADD COLUMN needs_sign_in TEXT;
    ALTER TABLE accounts ADD COLUMN sign_in_holder TEXT;
    ALTER TABLE accounts ADD COLUMN sign_in_until_ms BIGINT;
    ALTER TABLE accounts ADD COLUMN server_limits TEXT;
    ALTER TABLE accounts ADD COLUMN server_limits_ms BIGINT;
    CREATE TABLE circuits (
        network TEXT NOT NULL,
        base_url TEXT NOT NULL,
        failures TEXT NOT NULL,
        opened_ms BIGINT,
        probes BIGINT NOT NULL,
        next_probe_ms BIGINT,
        last_error TEXT,
        probe_target TEXT,
        probe_until_ms BIGINT,
        PRIMARY KEY (network, base_url)
    );",
    // 10: notifications. Every event also enters `notification_events` (in the transaction
    // that records it), where the notifier routes it to members' inboxes and channels;
    // `notification_sends` are the messages to channels, claimed with a lease and retried.
    "CREATE TABLE notification_events (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        routed_ms BIGINT,
        lease_owner TEXT,
        lease_until_ms BIGINT
    );
    CREATE INDEX notification_events_unrouted ON notification_events (routed_ms, created_ms);
    CREATE INDEX notification_events_by_workspace ON notification_events (workspace_id, created_ms);
    CREATE TABLE inbox (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        event_type TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        read_ms BIGINT
    );
    CREATE INDEX inbox_by_user ON inbox (user_id, workspace_id, id);
    CREATE TABLE notification_channels (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        kind TEXT NOT NULL,
        address TEXT NOT NULL,
        secret TEXT,
        created_ms BIGINT NOT NULL
    );
    CREATE INDEX notification_channels_by_user ON notification_channels (user_id, id);
    CREATE TABLE notification_preferences (
        user_id TEXT NOT NULL REFERENCES users (id),
        event_type TEXT NOT NULL,
        channels TEXT NOT NULL,
        PRIMARY KEY (user_id, event_type)
    );
    CREATE TABLE notification_digests (
        user_id TEXT PRIMARY KEY REFERENCES users (id),
        at_minute BIGINT NOT NULL,
        zone TEXT NOT NULL,
        next_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until_ms BIGINT
    );
    CREATE INDEX notification_digests_due ON notification_digests (next_ms);
    CREATE TABLE notification_sends (
        id TEXT PRIMARY KEY,
        channel_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users (id),
        event_type TEXT NOT NULL,
        subject TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_ms BIGINT NOT NULL,
        last_error TEXT,
        lease_owner TEXT,
        lease_until_ms BIGINT,
        created_ms BIGINT NOT NULL,
        finished_ms BIGINT
    );
    CREATE INDEX notification_sends_due ON notification_sends (state, next_attempt_ms);",
    // 11: sync's firm rule (issue 13): the value each field's winning write carried (the
    // operation's JSON), so a device whose edit to a post that started publishing is
    // refused learns the post's values as the server has them.
    "ALTER TABLE post_field_stamps ADD COLUMN value TEXT;",
    // 12: media files by SHA-256 (issue 13): which workspace holds which file (the bytes are
    // in DATA/media, one copy for every workspace).
    "CREATE TABLE media (
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        sha256 TEXT NOT NULL,
        size BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (workspace_id, sha256)
    );",
    // 13: the workspace's model for `POST /api/v1/generate` (issue 12): core's `[ai]`
    // settings, with the provider's API key sealed for the workspace's id.
    "CREATE TABLE workspace_ai (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        base_url TEXT,
        api_key TEXT,
        max_tokens BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    );",
    // 14: RSS and Atom feeds (issue 14): what each poll learned (the validators for a
    // conditional GET, the last error), the poll's lease, and one row per key of every item
    // seen (its id, its link), unique per feed, so an item makes one post whatever polls it.
    "CREATE TABLE feeds (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        url TEXT NOT NULL,
        template TEXT NOT NULL,
        accounts TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        last_error TEXT,
        polled_ms BIGINT,
        next_poll_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until_ms BIGINT,
        created_by TEXT NOT NULL REFERENCES users (id),
        created_ms BIGINT NOT NULL
    );
    CREATE INDEX feeds_by_workspace ON feeds (workspace_id, id);
    CREATE INDEX feeds_due ON feeds (next_poll_ms);
    CREATE TABLE feed_items (
        feed_id TEXT NOT NULL REFERENCES feeds (id),
        item_key TEXT NOT NULL,
        post_id TEXT REFERENCES posts (id),
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (feed_id, item_key)
    );",
    // 15: analytics on the server (issue 12): when each published target's counters are
    // read next (core's `analytics::schedule`; `next_ms` NULL: never again), the lease of
    // the process reading them, and the readings themselves (counters as JSON).
    "CREATE TABLE metric_schedule (
        target_id TEXT PRIMARY KEY REFERENCES targets (id),
        published_ms BIGINT NOT NULL,
        last_read_ms BIGINT,
        next_ms BIGINT,
        lease_owner TEXT,
        lease_until_ms BIGINT
    );
    CREATE INDEX metric_schedule_next ON metric_schedule (next_ms);
    CREATE TABLE metric_readings (
        target_id TEXT NOT NULL REFERENCES targets (id),
        read_ms BIGINT NOT NULL,
        counters TEXT NOT NULL,
        PRIMARY KEY (target_id, read_ms)
    );",
    // 16: account figures on the server (issue 12): each account's followers (members…)
    // read daily, with the lease of the process reading them, as metric_schedule does for
    // posts (`next_ms` NULL: the network gives none, never asked again).
    "CREATE TABLE account_metric_schedule (
        account_id TEXT PRIMARY KEY REFERENCES accounts (id),
        last_read_ms BIGINT,
        next_ms BIGINT,
        lease_owner TEXT,
        lease_until_ms BIGINT
    );
    CREATE TABLE account_readings (
        account_id TEXT NOT NULL REFERENCES accounts (id),
        read_ms BIGINT NOT NULL,
        counters TEXT NOT NULL,
        PRIMARY KEY (account_id, read_ms)
    );",
    // 17: a retried push is recognised (issue 13): the id a device gives a batch of
    // operations (derived from them), unique in a workspace, so the same batch pushed
    // again after a sync was cut off is answered with the version it already made.
    "ALTER TABLE sync_versions ADD COLUMN batch_id TEXT;
    CREATE UNIQUE INDEX sync_versions_batch ON sync_versions (workspace_id, batch_id)
        WHERE batch_id IS NOT NULL;",
    // 18: the posting queue (issue 14): an account's weekly slots in an IANA zone, as
    // core's `parse_weekly_rules` reads them ("mon-fri 09:00,13:00; sat 11:00"), and
    // whether a feed or a trigger puts its posts at the next free slot instead of now.
    // A queued post locks its accounts' rows while it picks the slot (see `storage::queue`).
    "CREATE TABLE queue_slots (
        account_id TEXT PRIMARY KEY REFERENCES accounts (id),
        workspace_id TEXT NOT NULL REFERENCES workspaces (id),
        rules TEXT NOT NULL,
        tz TEXT NOT NULL,
        updated_ms BIGINT NOT NULL
    );
    ALTER TABLE feeds ADD COLUMN queue BOOLEAN NOT NULL DEFAULT FALSE;
    ALTER TABLE triggers ADD COLUMN queue BOOLEAN NOT NULL DEFAULT FALSE;",
];

/// The schema version this binary writes.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}
