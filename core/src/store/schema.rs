//! The database schema as numbered, append-only migrations.
//!
//! A shipped migration is never edited: a change is a new entry at the end. `PRAGMA
//! user_version` records how many have run; a database whose version is higher than
//! `MIGRATIONS.len()` was written by a newer postctl and is refused.

/// A migration holding this comment frees much of the file: opening a database that runs it
/// vacuums afterwards, so the file shrinks.
pub(super) const VACUUM_AFTER: &str = "-- vacuum after";

/// Migration `i` (1-based) brings the database from version `i - 1` to `i`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: accounts, groups, posts, targets, media, queue slots, the oplog and search.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE accounts (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        network     TEXT NOT NULL,
        base_url    TEXT,
        handle      TEXT,
        settings    TEXT NOT NULL DEFAULT '{}',
        secret_ref  TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        deleted_ms  INTEGER
    ) STRICT;
    -- Removed accounts stay for the history of their targets; their names are free again.
    CREATE UNIQUE INDEX accounts_live_name ON accounts(name) WHERE deleted_ms IS NULL;

    CREATE TABLE groups (
        name        TEXT PRIMARY KEY,
        created_ms  INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE group_members (
        group_name  TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        position    INTEGER NOT NULL,
        PRIMARY KEY (group_name, account_id)
    ) STRICT;

    -- `seq` gives full-text search a stable integer rowid; `id` (UUIDv7) is what users see.
    CREATE TABLE posts (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        body        TEXT NOT NULL,
        title       TEXT,
        labels      TEXT NOT NULL DEFAULT '[]',
        schedule    TEXT NOT NULL CHECK (schedule IN ('none', 'at', 'every', 'queue')),
        rule        TEXT,
        due_ms      INTEGER,
        tz          TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL,
        deleted_ms  INTEGER
    ) STRICT;

    CREATE TABLE media (
        sha256      TEXT PRIMARY KEY,
        file_name   TEXT NOT NULL,
        mime        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        width       INTEGER,
        height      INTEGER,
        created_ms  INTEGER NOT NULL
    ) STRICT;

    -- Alt text belongs to the use of an image in a post, not to the file.
    CREATE TABLE post_media (
        post_id     TEXT NOT NULL REFERENCES posts(id),
        position    INTEGER NOT NULL,
        sha256      TEXT NOT NULL REFERENCES media(sha256),
        alt         TEXT,
        PRIMARY KEY (post_id, position)
    ) STRICT;

    CREATE TABLE targets (
        id          TEXT PRIMARY KEY,
        post_id     TEXT NOT NULL REFERENCES posts(id),
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        position    INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'publishing',
                        'waiting_retry', 'published', 'failed', 'uncertain', 'cancelled', 'missed')),
        due_ms      INTEGER,
        last_error  TEXT,
        updated_ms  INTEGER NOT NULL,
        UNIQUE (post_id, account_id)
    ) STRICT;
    CREATE INDEX targets_by_state_due ON targets(state, due_ms);
    CREATE INDEX targets_by_account_due ON targets(account_id, due_ms);
    CREATE INDEX posts_by_due ON posts(due_ms) WHERE deleted_ms IS NULL;

    CREATE TABLE slots (
        account_id  TEXT PRIMARY KEY REFERENCES accounts(id),
        rules       TEXT NOT NULL,
        tz          TEXT NOT NULL,
        updated_ms  INTEGER NOT NULL
    ) STRICT;

    -- Every change, appended: the activity view, undo and later sync read it.
    CREATE TABLE oplog (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms       INTEGER NOT NULL,
        device      TEXT NOT NULL,
        entity      TEXT NOT NULL,
        entity_id   TEXT NOT NULL,
        field       TEXT NOT NULL,
        value       TEXT
    ) STRICT;
    CREATE INDEX oplog_by_entity ON oplog(entity, entity_id);

    CREATE VIRTUAL TABLE posts_fts USING fts5(
        title, body, labels, content = 'posts', content_rowid = 'seq'
    );
    CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts(rowid, title, body, labels)
        VALUES (new.seq, new.title, new.body, new.labels);
    END;
    CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, body, labels)
        VALUES ('delete', old.seq, old.title, old.body, old.labels);
    END;
    CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, body, labels ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, body, labels)
        VALUES ('delete', old.seq, old.title, old.body, old.labels);
        INSERT INTO posts_fts(rowid, title, body, labels)
        VALUES (new.seq, new.title, new.body, new.labels);
    END;
    "#,
    // 2: publishing. Leases so two publishers never take one target, the parts of a thread
    // as the network confirmed them, the part in flight (to tell a crash mid-request from
    // one between requests), retries, and the log of every attempt.
    r#"
    ALTER TABLE posts ADD COLUMN thread TEXT NOT NULL DEFAULT 'auto'
        CHECK (thread IN ('auto', 'never', 'numbered'));
    ALTER TABLE targets ADD COLUMN attempt_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE targets ADD COLUMN first_attempt_ms INTEGER;
    ALTER TABLE targets ADD COLUMN next_attempt_ms INTEGER;
    ALTER TABLE targets ADD COLUMN lease_owner TEXT;
    ALTER TABLE targets ADD COLUMN lease_expires_ms INTEGER;
    ALTER TABLE targets ADD COLUMN in_flight INTEGER;
    ALTER TABLE targets ADD COLUMN parts TEXT NOT NULL DEFAULT '[]';

    CREATE TABLE attempts (
        seq         INTEGER PRIMARY KEY,
        target_id   TEXT NOT NULL REFERENCES targets(id),
        part        INTEGER NOT NULL,
        started_ms  INTEGER NOT NULL,
        ended_ms    INTEGER NOT NULL,
        outcome     TEXT NOT NULL,
        http_status INTEGER,
        error       TEXT
    ) STRICT;
    CREATE INDEX attempts_by_target ON attempts(target_id);
    "#,
    // 3: templates: a default body and per-network variants (JSON, network name -> body).
    // Removed templates stay for the oplog; their names are free again. Their search table
    // holds its own copy of the text (not external content) so the variants are indexed as
    // text rather than as JSON with its escapes.
    r#"
    CREATE TABLE templates (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL,
        body        TEXT NOT NULL,
        variants    TEXT NOT NULL DEFAULT '{}',
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL,
        deleted_ms  INTEGER
    ) STRICT;
    CREATE UNIQUE INDEX templates_live_name ON templates(name) WHERE deleted_ms IS NULL;

    CREATE VIRTUAL TABLE templates_fts USING fts5(name, body, variants);
    CREATE TRIGGER templates_fts_insert AFTER INSERT ON templates BEGIN
        INSERT INTO templates_fts(rowid, name, body, variants)
        VALUES (new.seq, new.name, new.body,
                (SELECT group_concat(key || ' ' || value, char(10)) FROM json_each(new.variants)));
    END;
    CREATE TRIGGER templates_fts_delete AFTER DELETE ON templates BEGIN
        DELETE FROM templates_fts WHERE rowid = old.seq;
    END;
    CREATE TRIGGER templates_fts_update AFTER UPDATE OF name, body, variants ON templates BEGIN
        DELETE FROM templates_fts WHERE rowid = old.seq;
        INSERT INTO templates_fts(rowid, name, body, variants)
        VALUES (new.seq, new.name, new.body,
                (SELECT group_concat(key || ' ' || value, char(10)) FROM json_each(new.variants)));
    END;
    "#,
    // 4: the publisher's two questions, "what is due now?" and "when is the next?", answered
    // from indexes instead of a scan of every pending target (12 ms at 100,000 targets, each
    // time the daemon wakes; 0.1 ms with these).
    r#"
    CREATE INDEX targets_by_state_next ON targets(state, coalesce(next_attempt_ms, due_ms));
    CREATE INDEX targets_by_state_lease ON targets(state, lease_expires_ms);
    "#,
    // 5: what the publisher must not forget across a restart: when the part in flight was
    // first sent (a network honours a repeated request only for so long), how many parts
    // the target was planned as (resolving one part of a thread continues the rest), and
    // each account's rate-limit wait as the network asked for it.
    r#"
    ALTER TABLE targets ADD COLUMN in_flight_ms INTEGER;
    ALTER TABLE targets ADD COLUMN planned_parts INTEGER;
    CREATE TABLE account_waits (
        account_id  TEXT PRIMARY KEY REFERENCES accounts(id),
        until_ms    INTEGER NOT NULL,
        reason      TEXT NOT NULL
    );
    "#,
    // 6: what servers said about their own limits (a Mastodon instance's), by network and
    // address, so `check` and `lint` know them without a secret and `post` reads them at
    // most once a day. A cache: local, never in the oplog.
    r#"
    CREATE TABLE server_limits (
        network     TEXT NOT NULL,
        base_url    TEXT NOT NULL,
        limits      TEXT NOT NULL,
        read_ms     INTEGER NOT NULL,
        PRIMARY KEY (network, base_url)
    ) STRICT;
    "#,
    // 7: 100,000 posts. A calendar's recurring posts, and the drafts, found from an index
    // instead of a scan of every post (a month's calendar read all 100,000). The oplog was
    // half of a large database: it stops copying what the posts row holds (text, title,
    // labels, media: it records that they changed, and the text's length), a new post's
    // targets are in the post's own entry instead of one entry each, and the index by
    // entity, which no query used, goes. What it held is dropped here.
    //
    // Each post counts its targets still to publish (`pending`, kept by triggers), so the
    // upcoming posts are an index of their own: "how many more" under a page of
    // `list --upcoming` counted 100,000 correlated lookups before. Targets by state and
    // account answer the dashboard's per-account counts without reading the targets.
    // The triggers spell out TargetState::PENDING as it is now: a migration never changes
    // (a store test holds the listing to the set).
    r#"
    -- vacuum after: the oplog shrinks to a fraction; give the space back.
    CREATE INDEX posts_by_schedule_due ON posts(schedule, due_ms) WHERE deleted_ms IS NULL;
    CREATE INDEX targets_by_state_account ON targets(state, account_id);

    ALTER TABLE posts ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
    UPDATE posts SET pending = (
        SELECT count(*) FROM targets t
        WHERE t.post_id = posts.id AND t.state IN ('scheduled', 'waiting_retry', 'publishing'));
    CREATE TRIGGER targets_pending_insert AFTER INSERT ON targets
        WHEN new.state IN ('scheduled', 'waiting_retry', 'publishing') BEGIN
        UPDATE posts SET pending = pending + 1 WHERE id = new.post_id;
    END;
    CREATE TRIGGER targets_pending_delete AFTER DELETE ON targets
        WHEN old.state IN ('scheduled', 'waiting_retry', 'publishing') BEGIN
        UPDATE posts SET pending = pending - 1 WHERE id = old.post_id;
    END;
    CREATE TRIGGER targets_pending_update AFTER UPDATE OF state, post_id ON targets
        WHEN old.post_id != new.post_id
          OR (old.state IN ('scheduled', 'waiting_retry', 'publishing'))
             != (new.state IN ('scheduled', 'waiting_retry', 'publishing')) BEGIN
        UPDATE posts SET pending = pending - 1
            WHERE id = old.post_id AND old.state IN ('scheduled', 'waiting_retry', 'publishing');
        UPDATE posts SET pending = pending + 1
            WHERE id = new.post_id AND new.state IN ('scheduled', 'waiting_retry', 'publishing');
    END;
    CREATE INDEX posts_upcoming ON posts(due_ms) WHERE deleted_ms IS NULL AND pending > 0;
    DELETE FROM oplog
        WHERE entity = 'target' AND field = 'created' AND json_valid(value)
          AND EXISTS (SELECT 1 FROM oplog created
                      WHERE created.entity = 'post' AND created.field = 'created'
                        AND created.entity_id = json_extract(oplog.value, '$.post')
                        AND created.at_ms = oplog.at_ms);
    DROP INDEX oplog_by_entity;
    UPDATE oplog
        SET value = json_set(json_remove(value, '$.body', '$.title', '$.labels', '$.media'),
                             '$.chars', length(json_extract(value, '$.body')))
        WHERE entity = 'post' AND field = 'created' AND json_valid(value)
          AND json_type(value, '$.body') = 'text';
    UPDATE oplog SET value = json_object('chars', length(json_extract(value, '$')))
        WHERE entity = 'post' AND field IN ('body', 'title') AND json_valid(value)
          AND json_type(value) = 'text';
    "#,
    // 8: OAuth accounts (X): an account whose refresh was refused needs signing in again
    // (`needs_sign_in`: why, shown by `accounts list` and `check`; its posts are held, not
    // failed, until `accounts reauth`), and the lease one process holds while it refreshes
    // an account's tokens, so a rotated refresh token is spent by one process only. Locks
    // are keyed by account id without a reference: an expired one means nothing.
    r#"
    ALTER TABLE accounts ADD COLUMN needs_sign_in TEXT;
    CREATE TABLE sign_in_locks (
        account_id  TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        until_ms    INTEGER NOT NULL
    ) STRICT;
    "#,
    // 9: search indexes live posts only, so how many posts a search matches is counted in
    // the index alone (a search matching all of 100,000 posts counted them against the
    // posts table, for "N more" under its page). A removed post leaves the index when it is
    // removed; one edit trigger covers text and removal together, so an update that changes
    // both deletes and inserts each entry once.
    r#"
    DROP TRIGGER posts_fts_insert;
    DROP TRIGGER posts_fts_delete;
    DROP TRIGGER posts_fts_update;
    CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts WHEN new.deleted_ms IS NULL BEGIN
        INSERT INTO posts_fts(rowid, title, body, labels)
        VALUES (new.seq, new.title, new.body, new.labels);
    END;
    CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts WHEN old.deleted_ms IS NULL BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, body, labels)
        VALUES ('delete', old.seq, old.title, old.body, old.labels);
    END;
    CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, body, labels, deleted_ms ON posts
    BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, body, labels)
        SELECT 'delete', old.seq, old.title, old.body, old.labels WHERE old.deleted_ms IS NULL;
        INSERT INTO posts_fts(rowid, title, body, labels)
        SELECT new.seq, new.title, new.body, new.labels WHERE new.deleted_ms IS NULL;
    END;
    INSERT INTO posts_fts(posts_fts, rowid, title, body, labels)
        SELECT 'delete', seq, title, body, labels FROM posts WHERE deleted_ms IS NOT NULL;
    "#,
    // 10: what an adapter sent on the way to the part in flight, before the request that
    // posts it (Instagram's container id), so a retry after a crash or a lost answer checks
    // that instead of starting over. Cleared with `in_flight`.
    r#"
    ALTER TABLE targets ADD COLUMN in_flight_stage TEXT;
    "#,
    // 11: analytics (issue 11). What networks said about published posts and accounts: a
    // raw reading of a post's counters per collection (`metric_snapshots`, kept
    // `[analytics] keep_snapshots_days`), the day's last reading per post and per account
    // (`metric_daily`, `account_daily`, kept forever), and where collection stands per
    // target and per account (last read, deleted on the network, what the network does not
    // provide, counters it stopped giving). Counters are JSON objects, name -> count. Like
    // `server_limits`, readings are local facts about the networks, never in the oplog.
    r#"
    CREATE TABLE metric_snapshots (
        target_id   TEXT NOT NULL REFERENCES targets(id),
        at_ms       INTEGER NOT NULL,
        counters    TEXT NOT NULL,
        PRIMARY KEY (target_id, at_ms)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX metric_snapshots_by_time ON metric_snapshots(at_ms);

    CREATE TABLE metric_daily (
        target_id   TEXT NOT NULL REFERENCES targets(id),
        day         TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        counters    TEXT NOT NULL,
        PRIMARY KEY (target_id, day)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE metric_targets (
        target_id   TEXT PRIMARY KEY REFERENCES targets(id),
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        last_ms     INTEGER,
        counters    TEXT,
        deleted_ms  INTEGER
    ) STRICT;
    CREATE INDEX metric_targets_by_account ON metric_targets(account_id);

    CREATE TABLE account_daily (
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        day         TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        counters    TEXT NOT NULL,
        PRIMARY KEY (account_id, day)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE metric_accounts (
        account_id      TEXT PRIMARY KEY REFERENCES accounts(id),
        posts_last_ms   INTEGER,
        posts_missing   TEXT,
        account_last_ms INTEGER,
        counters        TEXT,
        account_missing TEXT,
        dropped         TEXT NOT NULL DEFAULT '[]',
        seen            TEXT NOT NULL DEFAULT '[]'
    ) STRICT;
    "#,
    // 12: counters a network pushes as updates instead of answering for (Telegram's
    // `message_reaction_count`): where each update source (a bot) stands, so every update
    // is read once, and the latest reaction counts of each message they carried. Local
    // facts about the networks, never in the oplog.
    r#"
    CREATE TABLE update_sources (
        source      TEXT PRIMARY KEY,
        next_offset INTEGER NOT NULL,
        since_ms    INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE pushed_reactions (
        chat        TEXT NOT NULL,
        message_id  INTEGER NOT NULL,
        date_ms     INTEGER NOT NULL,
        counters    TEXT NOT NULL,
        PRIMARY KEY (chat, message_id)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 13: sync with a server (issue 13). `sync_link` (one row) is where this database syncs:
    // the server, the user, the workspace, where the session token is in the secret store
    // (never the token), the last server version applied here, the last oplog entry pushed,
    // and when the last sync ended. `sync_conflicts` keeps each value that lost
    // last-writer-wins against a change made here not yet pushed, so no edit is lost
    // silently. The oplog is read by post and field to find who last wrote a field.
    r#"
    CREATE TABLE sync_link (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        server        TEXT NOT NULL,
        user_name     TEXT NOT NULL,
        workspace_id  TEXT NOT NULL,
        workspace     TEXT NOT NULL,
        secret_ref    TEXT,
        last_version  TEXT,
        pushed_seq    INTEGER NOT NULL DEFAULT 0,
        last_sync_ms  INTEGER
    ) STRICT;

    CREATE TABLE sync_conflicts (
        seq           INTEGER PRIMARY KEY,
        post_id       TEXT NOT NULL,
        field         TEXT NOT NULL,
        kept          TEXT NOT NULL CHECK (kept IN ('local', 'server')),
        lost_value    TEXT,
        lost_device   TEXT NOT NULL,
        lost_at_ms    INTEGER NOT NULL,
        won_device    TEXT NOT NULL,
        won_at_ms     INTEGER NOT NULL,
        recorded_ms   INTEGER NOT NULL
    ) STRICT;

    CREATE INDEX oplog_post_fields ON oplog(entity_id, field) WHERE entity = 'post';
    "#,
    // 14: circuits (issue 12): a network at one address that failed for several accounts
    // (timeouts, 5xx) within a short window, and whether it is taken as down (`opened_ms`)
    // with the probe that tests it. Shared by every process on the database; local facts
    // about the networks, never in the oplog. `base_url` is '' for a network's usual
    // address. `failures` is a JSON array of {at, account_id}.
    r#"
    CREATE TABLE circuits (
        network         TEXT NOT NULL,
        base_url        TEXT NOT NULL,
        failures        TEXT NOT NULL DEFAULT '[]',
        opened_ms       INTEGER,
        probes          INTEGER NOT NULL DEFAULT 0,
        next_probe_ms   INTEGER,
        probe_target    TEXT,
        probe_until_ms  INTEGER,
        last_error      TEXT,
        PRIMARY KEY (network, base_url)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 15: sync (issue 13). An edit the server refused because it had started publishing
    // the post is a conflict with a `reason` (what the server said) and the local draft
    // (`draft_id`) that keeps the edited text; `sync_held` lists the posts kept from
    // syncing because a file they use could not be uploaded, with the file and why.
    r#"
    ALTER TABLE sync_conflicts ADD COLUMN reason TEXT;
    ALTER TABLE sync_conflicts ADD COLUMN draft_id TEXT;
    CREATE TABLE sync_held (
        post_id    TEXT PRIMARY KEY,
        sha256     TEXT NOT NULL,
        file_name  TEXT NOT NULL,
        reason     TEXT NOT NULL,
        at_ms      INTEGER NOT NULL
    ) STRICT;
    "#,
    // 16: targets travel as a post field (issue 13). `posts.target_names` is that field's
    // value (a JSON array of account names) once a local change of the post's accounts or
    // a sync set it (NULL: read from the post's targets), so a removal that cancels
    // targets does not change it and names no account here has are kept;
    // `sync_server_accounts` is the workspace's account names as the last sync read them,
    // so `sync status` can name the accounts posts go to that the server lacks;
    // `server_targets` is what the server's publisher did with each synced post.
    r#"
    ALTER TABLE posts ADD COLUMN target_names TEXT;
    UPDATE posts SET target_names = (
        SELECT json_group_array(name) FROM (
            SELECT a.name AS name FROM targets t JOIN accounts a ON a.id = t.account_id
            WHERE t.post_id = posts.id AND t.state != 'cancelled' ORDER BY t.position, t.id));
    CREATE TABLE sync_server_accounts (
        name     TEXT PRIMARY KEY,
        network  TEXT NOT NULL
    ) STRICT;
    -- What the server's publisher did with a synced post, as pulls bring it down (it only
    -- flows down): each target's state, the network's URL, attempts and last error;
    -- `sync_link.targets_seen_ms` is the newest change pulled.
    CREATE TABLE server_targets (
        post_id     TEXT NOT NULL,
        account     TEXT NOT NULL,
        network     TEXT NOT NULL,
        state       TEXT NOT NULL,
        due_ms      INTEGER,
        url         TEXT,
        attempts    INTEGER NOT NULL,
        last_error  TEXT,
        updated_ms  INTEGER NOT NULL,
        PRIMARY KEY (post_id, account)
    ) STRICT;
    ALTER TABLE sync_link ADD COLUMN targets_seen_ms INTEGER NOT NULL DEFAULT 0;
    "#,
];
