//! Posts, their media and their targets.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::{Store, Tx, from_ms, new_id, new_post_id, states, to_ms};
use crate::error::{Error, Result};
use crate::model::{MediaRef, Post, Schedule, Target, TargetState, ThreadMode};

/// How many new posts make an import a bulk load, packed afterwards
/// ([`Store::import_posts`]).
pub(super) const BULK_IMPORT: usize = 10_000;

/// One destination of a new post: an account id and, when scheduled, its due time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTarget {
    pub account_id: String,
    pub due: Option<DateTime<Utc>>,
}

/// A post to create. Targets with a due time start `scheduled`, the others `draft`.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub body: String,
    pub title: Option<String>,
    pub labels: Vec<String>,
    pub media: Vec<MediaRef>,
    pub tz: String,
    pub schedule: Schedule,
    pub thread: ThreadMode,
    pub targets: Vec<NewTarget>,
}

/// Media to attach: the same shape as what is stored.
pub type NewMedia = MediaRef;

/// Changes to a post's content; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PostChange {
    pub body: Option<String>,
    pub title: Option<Option<String>>,
    pub labels: Option<Vec<String>>,
    pub media: Option<Vec<MediaRef>>,
    /// The complete new set of destination account ids.
    pub accounts: Option<Vec<String>>,
}

/// A new time for a post: every target that can still move gets `due` (or its own time from
/// `per_account`, as the queue assigns).
#[derive(Debug, Clone)]
pub struct ScheduleChange {
    pub schedule: Schedule,
    pub due: DateTime<Utc>,
    pub tz: String,
    pub per_account: HashMap<String, DateTime<Utc>>,
}

/// What a change did to each target, so the user can be told about the ones it could not touch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub post_id: String,
    pub changed: Vec<String>,
    /// Targets left alone, with the state that protected them (e.g. already `published`).
    pub skipped: Vec<(String, TargetState)>,
}

/// One write of an import (see [`Store::import_posts`]).
#[derive(Debug, Clone)]
pub enum ImportWrite<'a> {
    /// A new post; with `id`, under that id (one it had in the database it came from).
    Create {
        id: Option<&'a str>,
        post: &'a NewPost,
    },
    /// An existing post's new content and, optionally, its new time.
    Update {
        id: &'a str,
        change: &'a PostChange,
        schedule: Option<&'a ScheduleChange>,
    },
}

/// Whether a post id is in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Absent,
    Live,
    /// Removed with `draft rm`: the row stays for the history of its targets.
    Removed,
}

/// Which posts a listing shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ListFilter {
    /// Every live post.
    All,
    /// Posts with a target still to publish, by due time.
    Upcoming,
    /// Posts not scheduled.
    Drafts,
    /// Posts with a target `failed`, `uncertain` or `missed`.
    Failed,
    /// Posts due once (not recurring) in `[from, to)`, whatever became of them.
    Due {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Recurring posts still to publish (a calendar expands their occurrences).
    Recurring,
    /// Full-text search over title, text and labels.
    Search(String),
    /// Posts with a target in one of these states.
    WithTargetIn(Vec<TargetState>),
    /// These posts (by full id), if they are live.
    Ids(Vec<String>),
}

impl ListFilter {
    /// The WHERE clause over posts `p`. Where most posts match, target conditions are
    /// correlated EXISTS lookups, so SQLite walks `posts_by_due` in order instead of sorting
    /// (measured 2x faster than IN on 10,000 posts); where few match (failed), IN on the
    /// state index is cheaper.
    fn sql(&self) -> (String, Vec<Value>) {
        let live = "p.deleted_ms IS NULL";
        match self {
            ListFilter::All => (live.into(), vec![]),
            // `pending` counts the post's targets in [`TargetState::PENDING`] (kept by
            // triggers): the upcoming posts are the `posts_upcoming` index.
            // A linked database's posts are published by the server: one the server
            // reports no longer on its way (published, failed…) is not upcoming, whatever
            // its targets here say (this device never publishes it).
            ListFilter::Upcoming => (
                format!(
                    "{live} AND p.pending > 0 AND (NOT EXISTS (SELECT 1 FROM server_targets s WHERE s.post_id = p.id) OR EXISTS (SELECT 1 FROM server_targets s WHERE s.post_id = p.id AND s.state IN {on_its_way}))",
                    on_its_way = *states::SERVER_ON_ITS_WAY
                ),
                vec![],
            ),
            ListFilter::Drafts => (format!("{live} AND p.schedule = 'none'"), vec![]),
            ListFilter::Failed => (
                format!(
                    "{live} AND (p.id IN (SELECT post_id FROM targets WHERE state IN {needs_user}) OR p.id IN (SELECT post_id FROM server_targets WHERE state IN {needs_user}))",
                    needs_user = *states::NEEDS_USER
                ),
                vec![],
            ),
            ListFilter::Due { from, to } => (
                format!(
                    "{live} AND p.schedule != 'every' AND p.due_ms >= ?1 AND p.due_ms < ?2 AND EXISTS (SELECT 1 FROM targets x WHERE x.post_id = p.id AND x.state IN {scheduled_once})",
                    scheduled_once = *states::SCHEDULED_ONCE
                ),
                vec![Value::Integer(to_ms(*from)), Value::Integer(to_ms(*to))],
            ),
            ListFilter::Recurring => (
                format!("{live} AND p.schedule = 'every' AND p.pending > 0"),
                vec![],
            ),
            ListFilter::WithTargetIn(states) => {
                // State names are ours (TargetState::as_str), never user input.
                let states = states
                    .iter()
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    format!(
                        "{live} AND p.id IN (SELECT post_id FROM targets WHERE state IN ({states}))"
                    ),
                    vec![],
                )
            }
            ListFilter::Ids(ids) => (
                format!("{live} AND p.id IN (SELECT value FROM json_each(?1))"),
                vec![Value::Text(
                    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()),
                )],
            ),
            // `+p.seq`: walk the posts in listing order and check each against the matches,
            // rather than fetch every match and sort them. A page of a search that matches
            // 100,000 posts took 230 ms the other way; one that matches one post walks the
            // index in a few milliseconds either way.
            ListFilter::Search(query) => (
                format!(
                    "{live} AND +p.seq IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?1)"
                ),
                vec![Value::Text(fts_query(query))],
            ),
        }
    }
}

/// Turns what a user typed into an FTS5 query that cannot be a syntax error: every word is
/// quoted (so `-`, `:` and quotes are literal) and matched as a prefix; all must match.
pub(super) fn fts_query(typed: &str) -> String {
    typed
        .split_whitespace()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    /// Creates one post with its media and targets; returns its id.
    pub fn create_post(&mut self, post: &NewPost) -> Result<String> {
        self.write(|tx| tx.insert_post(post))
            .map(|mut ids| ids.remove(0))
    }

    /// Creates many posts in one transaction: all or none (import).
    pub fn create_posts(&mut self, posts: &[NewPost]) -> Result<Vec<String>> {
        self.write(|tx| {
            let mut ids = Vec::with_capacity(posts.len());
            for post in posts {
                ids.extend(tx.insert_post(post)?);
            }
            Ok(ids)
        })
    }

    /// Writes an import in one transaction: all or none. New posts keep the id they were
    /// exported with, when they have one; existing posts get their changes. Returns the
    /// id of each write, in order.
    ///
    /// A bulk load (at least [`BULK_IMPORT`] new posts, and at least as many as the
    /// database held) is followed by a `VACUUM`: rows inserted in no index's order leave
    /// the index pages half full, and rewriting the file packs them (100,000 imported
    /// posts: 121.6 MB before, 116.1 MB after, in 0.7 s).
    pub fn import_posts(&mut self, writes: &[ImportWrite<'_>]) -> Result<Vec<String>> {
        let creates = writes
            .iter()
            .filter(|w| matches!(w, ImportWrite::Create { .. }))
            .count();
        let bulk = creates >= BULK_IMPORT && creates >= self.post_count()?;
        let ids = self.import_writes(writes)?;
        if bulk {
            self.vacuum();
        }
        Ok(ids)
    }

    fn post_count(&self) -> Result<usize> {
        self.conn()
            .query_row("SELECT count(*) FROM posts", [], |row| row.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.error(e))
    }

    fn import_writes(&mut self, writes: &[ImportWrite<'_>]) -> Result<Vec<String>> {
        self.write(|tx| {
            let mut ids = Vec::with_capacity(writes.len());
            for write in writes {
                match write {
                    ImportWrite::Create { id, post } => {
                        ids.push(tx.insert_post_as(post, *id)?);
                    }
                    ImportWrite::Update {
                        id,
                        change,
                        schedule,
                    } => {
                        tx.edit(id, change)?;
                        if let Some(schedule) = schedule {
                            tx.schedule(id, schedule)?;
                        }
                        ids.push(id.to_string());
                    }
                }
            }
            Ok(ids)
        })
    }

    /// Whether a post with exactly this id exists, live or removed.
    pub fn post_presence(&self, id: &str) -> Result<Presence> {
        self.conn()
            .prepare_cached("SELECT deleted_ms IS NULL FROM posts WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([id], |row| row.get::<_, bool>(0)).optional())
            .map(|found| match found {
                None => Presence::Absent,
                Some(true) => Presence::Live,
                Some(false) => Presence::Removed,
            })
            .map_err(|e| self.error(e))
    }

    /// Moves the targets of post `id` on `account_ids` to a new post whose text is `body`
    /// (the rest copied: title, labels, media, zone, thread mode, schedule and due time),
    /// in one transaction, and returns the new post's id. Only targets not yet on their way
    /// (draft or scheduled) can move; the original keeps the others. Accounts the post does
    /// not go to become new targets of the new post; with none at all it is a draft.
    pub fn split_post(&mut self, id: &str, account_ids: &[String], body: &str) -> Result<String> {
        self.write(|tx| {
            let (schedule, due_ms) = tx.require_post(id)?;
            let existing = tx.targets(id)?;
            for account_id in account_ids {
                match existing.iter().find(|(_, a, _, _)| a == account_id) {
                    Some((_, _, _, TargetState::Draft | TargetState::Scheduled)) => {}
                    Some((_, _, name, state)) => {
                        return Err(Error::Invalid(format!(
                            "the post's target {name} is {state}, so its text can no longer change; write a new post with `postctl draft new`"
                        )));
                    }
                    // Not on the post: the new post gets it as a fresh target.
                    None => {}
                }
            }
            let (schedule, due) = match schedule {
                _ if account_ids.is_empty() => (Schedule::None, None),
                Schedule::None => (Schedule::None, None),
                other => (other, due_ms.map(from_ms)),
            };
            let mut copy = tx.post_for_copy(id)?;
            copy.body = body.to_string();
            copy.schedule = schedule;
            copy.targets = account_ids
                .iter()
                .map(|account_id| NewTarget {
                    account_id: account_id.clone(),
                    due,
                })
                .collect();
            let new_id = tx.insert_post(&copy)?.remove(0);
            let remaining = existing
                .iter()
                .map(|(_, account_id, _, _)| account_id.clone())
                .filter(|a| !account_ids.contains(a))
                .collect();
            tx.edit(
                id,
                &PostChange {
                    accounts: Some(remaining),
                    ..PostChange::default()
                },
            )?;
            Ok(new_id)
        })
    }

    /// Applies a content change and, optionally, a new schedule to a post, in one transaction.
    pub fn update_post(
        &mut self,
        id: &str,
        change: &PostChange,
        schedule: Option<&ScheduleChange>,
    ) -> Result<Outcome> {
        self.write(|tx| {
            let mut outcome = tx.edit(id, change)?;
            if let Some(schedule) = schedule {
                outcome = tx.schedule(id, schedule)?;
            }
            Ok(outcome)
        })
    }

    /// Cancels every target that has not started publishing.
    pub fn cancel_post(&mut self, id: &str) -> Result<Outcome> {
        self.write(|tx| {
            let outcome = tx.cancel(id)?;
            if !outcome.changed.is_empty() {
                // Where the post goes changed: a synced database tells its server.
                tx.log_targets(id)?;
            }
            Ok(outcome)
        })
    }

    /// Removes a post from postctl: its pending targets are cancelled and it disappears from
    /// lists. What was already published stays published.
    pub fn delete_post(&mut self, id: &str) -> Result<Outcome> {
        self.write(|tx| {
            let outcome = tx.cancel(id)?;
            tx.execute(
                "UPDATE posts SET deleted_ms = ?2, updated_ms = ?2 WHERE id = ?1",
                params![id, to_ms(tx.now)],
            )
            .map_err(|e| tx.error(e))?;
            tx.record("post", id, "deleted", &true)?;
            Ok(outcome)
        })
    }

    /// One live post with its targets and media.
    pub fn post(&self, id: &str) -> Result<Post> {
        let mut found = None;
        self.each(
            "p.id = ?1 AND p.deleted_ms IS NULL",
            &[Value::Text(id.into())],
            Some(1),
            |post| {
                found = Some(post);
                Ok(())
            },
        )?;
        found.ok_or_else(|| Error::NoSuchPost { prefix: id.into() })
    }

    /// Posts matching `filter`, scheduled ones by due time, drafts by creation.
    ///
    /// Holds every matching post in memory: for listings that can be long, use
    /// [`Store::each_post`].
    pub fn posts(&self, filter: &ListFilter) -> Result<Vec<Post>> {
        let mut posts = Vec::new();
        self.each_post(filter, None, |post| {
            posts.push(post);
            Ok(())
        })?;
        Ok(posts)
    }

    /// Calls `each` with the posts matching `filter` in the order of [`Store::posts`], at
    /// most `limit` of them. Posts are read one at a time, so memory does not grow with
    /// the number of posts, and reading stops at the limit. An error from `each` stops the
    /// listing and is returned.
    pub fn each_post(
        &self,
        filter: &ListFilter,
        limit: Option<usize>,
        each: impl FnMut(Post) -> Result<()>,
    ) -> Result<()> {
        let (sql, values) = filter.sql();
        self.each(&sql, &values, limit, each)
    }

    /// How many posts match `filter` (for "N more" under a page of a listing).
    pub fn count_posts(&self, filter: &ListFilter) -> Result<usize> {
        let (sql, values) = match filter {
            // The index holds live posts only (migration 9): counted there alone, without
            // reading a row of posts.
            ListFilter::Search(query) => (
                "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?1".to_string(),
                vec![Value::Text(fts_query(query))],
            ),
            _ => {
                let (sql, values) = filter.sql();
                (format!("SELECT count(*) FROM posts p WHERE {sql}"), values)
            }
        };
        self.conn()
            .query_row(&sql, params_from_iter(&values), |row| row.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.error(e))
    }

    /// Per account name: how many targets are still to publish (scheduled, waiting to
    /// retry, publishing) and how many went wrong (failed, missed, uncertain). Accounts
    /// with neither are absent. Counted on the `targets_by_state_account` index alone.
    pub fn target_counts(&self) -> Result<HashMap<String, (usize, usize)>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT a.name,
                            sum(CASE WHEN c.state IN {pending} THEN c.n ELSE 0 END),
                            sum(CASE WHEN c.state IN {needs_user} THEN c.n ELSE 0 END)
                     FROM (SELECT state, account_id, count(*) AS n FROM targets
                           WHERE state IN {pending} OR state IN {needs_user}
                           GROUP BY state, account_id) c
                     JOIN accounts a ON a.id = c.account_id
                     GROUP BY c.account_id",
                pending = *states::PENDING,
                needs_user = *states::NEEDS_USER
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                (
                    row.get::<_, i64>(1)? as usize,
                    row.get::<_, i64>(2)? as usize,
                ),
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    /// The posts of these targets (by target id), for naming them in the activity log.
    pub fn post_ids_of_targets(&self, target_ids: &[String]) -> Result<Vec<String>> {
        let ids = serde_json::to_string(target_ids).unwrap_or_else(|_| "[]".into());
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT DISTINCT post_id FROM targets WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([ids], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// Due times already taken on an account from `from` on (the queue skips them).
    pub fn taken_times(&self, account_id: &str, from: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT due_ms FROM targets WHERE account_id = ?1 AND due_ms >= ?2
                 AND state IN {hold_slot}",
                hold_slot = *states::HOLD_SLOT
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map(params![account_id, to_ms(from)], |row| row.get::<_, i64>(0))
            .and_then(|rows| rows.map(|r| r.map(from_ms)).collect())
            .map_err(|e| self.error(e))
    }

    /// Streams the posts matching `filter` with their targets: posts joined to their
    /// targets, one row per target, read in two passes so each can walk an index in order
    /// instead of sorting: first the posts with a due time (by `posts_by_due`), then the
    /// drafts by creation. Rows of one post are adjacent because they share the sort key.
    ///
    /// The media of the matching posts are read first, driven from `post_media` (small next
    /// to the posts: most posts have none), and attached as each post is finished.
    fn each(
        &self,
        filter: &str,
        values: &[Value],
        limit: Option<usize>,
        mut each: impl FnMut(Post) -> Result<()>,
    ) -> Result<()> {
        if limit == Some(0) {
            return Ok(());
        }
        let conn = self.conn();
        // A handful of accounts: a map beats joining every target row to its account.
        let accounts: HashMap<String, (String, String)> = conn
            .prepare_cached("SELECT id, name, network FROM accounts")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?
                    .collect()
            })
            .map_err(|e| self.error(e))?;
        let mut media = self.media_of_posts(filter, values)?;
        let mut emitted = 0;
        for pass in LISTING_PASSES {
            let mut stmt = conn
                .prepare(&listing_sql(filter, pass))
                .map_err(|e| self.error(e))?;
            let mut rows = stmt
                .query(params_from_iter(values))
                .map_err(|e| self.error(e))?;
            // The post being read, with its targets' positions as read.
            let mut current: Option<(Post, Vec<i64>)> = None;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let same = current.as_ref().is_some_and(|(post, _)| {
                    row.get_ref(0)
                        .ok()
                        .and_then(|v| v.as_str().ok())
                        .is_some_and(|id| id == post.id)
                });
                if !same {
                    if let Some((post, positions)) = current.take() {
                        each(finish(post, positions, &mut media))?;
                        emitted += 1;
                        if limit.is_some_and(|limit| emitted >= limit) {
                            return Ok(());
                        }
                    }
                    let post = read_post(row).map_err(|e| self.error(e))?;
                    current = Some((post, Vec::with_capacity(2)));
                }
                if let Some((post, positions)) = current.as_mut()
                    && let Some((position, target)) =
                        read_target(row, &accounts).map_err(|e| self.error(e))?
                {
                    positions.push(position);
                    post.targets.push(target);
                }
            }
            if let Some((post, positions)) = current.take() {
                each(finish(post, positions, &mut media))?;
                emitted += 1;
                if limit.is_some_and(|limit| emitted >= limit) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The media of the posts matching `filter`, by post id, in order.
    fn media_of_posts(
        &self,
        filter: &str,
        values: &[Value],
    ) -> Result<HashMap<String, Vec<MediaRef>>> {
        // Driven from post_media: `IN (SELECT p.id ...)` made SQLite evaluate the filter over
        // every post again to build the list.
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT pm.post_id, m.sha256, m.file_name, m.mime, m.size, m.width, m.height, pm.alt
                 FROM post_media pm
                 JOIN posts p ON p.id = pm.post_id
                 JOIN media m ON m.sha256 = pm.sha256
                 WHERE {filter}
                 ORDER BY pm.post_id, pm.position"
            ))
            .map_err(|e| self.error(e))?;
        let mut rows = stmt
            .query(params_from_iter(values))
            .map_err(|e| self.error(e))?;
        let mut media: HashMap<String, Vec<MediaRef>> = HashMap::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let read = || -> rusqlite::Result<(String, MediaRef)> {
                Ok((row.get(0)?, media_ref(row, 1)?))
            };
            let (post_id, one) = read().map_err(|e| self.error(e))?;
            media.entry(post_id).or_default().push(one);
        }
        Ok(media)
    }
}

/// A listing reads the posts with a due time in that order (walking `posts_by_due` or
/// `posts_by_schedule_due`, no sort), then the drafts by creation.
const LISTING_PASSES: [&str; 2] = [
    "p.due_ms IS NOT NULL ORDER BY p.due_ms, p.seq",
    "p.due_ms IS NULL ORDER BY p.seq",
];

/// One pass of a listing: the posts matching `filter` joined to their targets.
fn listing_sql(filter: &str, pass: &str) -> String {
    format!(
        "SELECT p.id, p.body, p.title, p.labels, p.schedule, p.rule, p.due_ms, p.tz,
                p.created_ms, p.updated_ms,
                t.id, t.account_id, t.state, t.due_ms, t.last_error, t.position
         FROM posts p
         LEFT JOIN targets t ON t.post_id = p.id
         WHERE {filter} AND {pass}"
    )
}

/// The post columns of a listing row (columns 0 to 9), without targets or media.
fn read_post(row: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    let labels: String = row.get(3)?;
    Ok(Post {
        id: row.get(0)?,
        body: row.get(1)?,
        title: row.get(2)?,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        media: vec![],
        schedule: schedule_of(row.get_ref(4)?.as_str()?, row.get(5)?),
        due: row.get::<_, Option<i64>>(6)?.map(from_ms),
        tz: row.get(7)?,
        created: from_ms(row.get(8)?),
        updated: from_ms(row.get(9)?),
        // Most posts go to one or two accounts.
        targets: Vec::with_capacity(2),
    })
}

/// The target columns of a listing row (columns 10 to 15), if the post has a target.
fn read_target(
    row: &rusqlite::Row<'_>,
    accounts: &HashMap<String, (String, String)>,
) -> rusqlite::Result<Option<PositionedTarget>> {
    let Some(target_id) = row.get::<_, Option<String>>(10)? else {
        return Ok(None);
    };
    let account_id = row.get_ref(11)?.as_str()?;
    let (account, network) = accounts
        .get(account_id)
        .ok_or_else(|| bad_column(11, account_id))?;
    let state = row.get_ref(12)?.as_str()?;
    Ok(Some((
        row.get::<_, i64>(15)?,
        Target {
            id: target_id,
            account: account.clone(),
            network: network.parse().map_err(|_| bad_column(11, network))?,
            state: state.parse().map_err(|_| bad_column(12, state))?,
            due: row.get::<_, Option<i64>>(13)?.map(from_ms),
            last_error: row.get(14)?,
        },
    )))
}

/// A post read in full: its targets in the order the user named the accounts, its media.
fn finish(mut post: Post, positions: Vec<i64>, media: &mut HashMap<String, Vec<MediaRef>>) -> Post {
    sort_by_position(&mut post, &positions);
    if let Some(found) = media.remove(&post.id) {
        post.media = found;
    }
    post
}

/// A target as read, with its position among the post's targets.
type PositionedTarget = (i64, Target);

/// Puts a post's targets in the order the user named the accounts; `positions` holds each
/// target's position as read.
fn sort_by_position(post: &mut Post, positions: &[i64]) {
    if positions.windows(2).any(|w| w[0] > w[1]) {
        let mut order: Vec<PositionedTarget> = positions
            .iter()
            .copied()
            .zip(post.targets.drain(..))
            .collect();
        order.sort_by_key(|(position, _)| *position);
        post.targets = order.into_iter().map(|(_, t)| t).collect();
    }
}

fn bad_column(column: usize, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unexpected value {value:?}").into(),
    )
}

/// A media reference from the columns `m.sha256, m.file_name, m.mime, m.size, m.width,
/// m.height, pm.alt`, starting at column `first`.
fn media_ref(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<MediaRef> {
    Ok(MediaRef {
        sha256: row.get(first)?,
        file_name: row.get(first + 1)?,
        mime: row.get(first + 2)?,
        size: row.get::<_, i64>(first + 3)? as u64,
        width: row.get(first + 4)?,
        height: row.get(first + 5)?,
        alt: row.get(first + 6)?,
    })
}

/// The schedule the `schedule` and `rule` columns hold; [`schedule_columns`] writes them.
fn schedule_of(kind: &str, rule: Option<String>) -> Schedule {
    match (kind, rule) {
        ("at", _) => Schedule::At,
        ("queue", _) => Schedule::Queue,
        ("every", Some(rule)) => Schedule::Every { rule },
        _ => Schedule::None,
    }
}

fn schedule_columns(schedule: &Schedule) -> (&'static str, Option<&str>) {
    match schedule {
        Schedule::None => ("none", None),
        Schedule::At => ("at", None),
        Schedule::Every { rule } => ("every", Some(rule.as_str())),
        Schedule::Queue => ("queue", None),
    }
}

impl Tx<'_> {
    pub(super) fn insert_post(&self, post: &NewPost) -> Result<Vec<String>> {
        self.insert_post_as(post, None).map(|id| vec![id])
    }

    /// Inserts `post` under `id`, or a new id.
    fn insert_post_as(&self, post: &NewPost, id: Option<&str>) -> Result<String> {
        let id = id.map_or_else(new_post_id, str::to_string);
        let now = to_ms(self.now);
        let due = post.targets.iter().filter_map(|t| t.due).min();
        let (kind, rule) = schedule_columns(&post.schedule);
        let labels = serde_json::to_string(&post.labels).unwrap_or_else(|_| "[]".into());
        self.prepare_cached(
            "INSERT INTO posts (id, body, title, labels, schedule, rule, due_ms, tz, thread, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?9, ?9)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                id,
                post.body,
                post.title,
                labels,
                kind,
                rule,
                due.map(to_ms),
                post.tz,
                now,
                post.thread.as_str()
            ])
        })
        .map_err(|e| self.error(e))?;
        self.set_media(&id, &post.media)?;
        for (position, target) in post.targets.iter().enumerate() {
            // The post's own "created" entry lists its accounts: no entry per target.
            self.insert_target(&id, &target.account_id, position, target.due, false)?;
        }
        // Where it goes, as the `targets` field syncs it (the "created" entry stamps it).
        let names = self.names_here(&id)?;
        self.set_target_names(&id, &names)?;
        // What the posts row holds (text, title, labels, media) is not copied: the log was
        // half of the database at 100,000 posts. It says how the post is scheduled and where
        // it goes.
        self.record(
            "post",
            &id,
            "created",
            &serde_json::json!({
                "chars": post.body.chars().count(), "tz": post.tz,
                "schedule": kind, "rule": rule, "due_ms": due.map(to_ms),
                "accounts": post.targets.iter().map(|t| &t.account_id).collect::<Vec<_>>(),
            }),
        )?;
        Ok(id)
    }

    /// Inserts a target; `logged` records it in the oplog (a target added to an existing
    /// post; a new post's targets are in its own entry).
    pub(super) fn insert_target(
        &self,
        post_id: &str,
        account_id: &str,
        position: usize,
        due: Option<DateTime<Utc>>,
        logged: bool,
    ) -> Result<()> {
        let id = new_id();
        let state = if due.is_some() {
            TargetState::Scheduled
        } else {
            TargetState::Draft
        };
        self.prepare_cached(
            "INSERT INTO targets (id, post_id, account_id, position, state, due_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                id,
                post_id,
                account_id,
                position as i64,
                state.as_str(),
                due.map(to_ms),
                to_ms(self.now)
            ])
        })
        .map_err(|e| self.error(e))?;
        if !logged {
            return Ok(());
        }
        self.record(
            "target",
            &id,
            "created",
            &serde_json::json!({"post": post_id, "account": account_id, "state": state, "due_ms": due.map(to_ms)}),
        )
    }

    /// A post's media, in order.
    pub(super) fn media_of(&self, post_id: &str) -> Result<Vec<MediaRef>> {
        let mut stmt = self
            .prepare_cached(
                "SELECT m.sha256, m.file_name, m.mime, m.size, m.width, m.height, pm.alt
                 FROM post_media pm JOIN media m ON m.sha256 = pm.sha256
                 WHERE pm.post_id = ?1 ORDER BY pm.position",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([post_id], |row| media_ref(row, 0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// A post's content as a new post to create (its schedule and targets left empty).
    pub(super) fn post_for_copy(&self, post_id: &str) -> Result<NewPost> {
        let (body, title, labels, tz, thread): (String, Option<String>, String, String, String) =
            self.query_row(
                "SELECT body, title, labels, tz, thread FROM posts WHERE id = ?1",
                [post_id],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )
            .map_err(|e| self.error(e))?;
        Ok(NewPost {
            body,
            title,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            media: self.media_of(post_id)?,
            tz,
            schedule: Schedule::None,
            thread: thread.parse().unwrap_or_default(),
            targets: vec![],
        })
    }

    pub(super) fn set_media(&self, post_id: &str, media: &[MediaRef]) -> Result<()> {
        self.prepare_cached("DELETE FROM post_media WHERE post_id = ?1")
            .and_then(|mut stmt| stmt.execute([post_id]))
            .map_err(|e| self.error(e))?;
        for (position, m) in media.iter().enumerate() {
            self.prepare_cached(
                "INSERT INTO media (sha256, file_name, mime, size, width, height, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (sha256) DO NOTHING",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    m.sha256,
                    m.file_name,
                    m.mime,
                    m.size as i64,
                    m.width,
                    m.height,
                    to_ms(self.now)
                ])
            })
            .map_err(|e| self.error(e))?;
            self.prepare_cached(
                "INSERT INTO post_media (post_id, position, sha256, alt) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![post_id, position as i64, m.sha256, m.alt]))
            .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    pub(super) fn targets(
        &self,
        post_id: &str,
    ) -> Result<Vec<(String, String, String, TargetState)>> {
        let mut stmt = self
            .prepare_cached(
                "SELECT t.id, t.account_id, a.name, t.state FROM targets t
                 JOIN accounts a ON a.id = t.account_id WHERE t.post_id = ?1 ORDER BY t.position",
            )
            .map_err(|e| self.error(e))?;
        stmt.query_map([post_id], |row| {
            let state: String = row.get(3)?;
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                state.parse().map_err(|_| bad_column(3, &state))?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.error(e))
    }

    fn require_post(&self, id: &str) -> Result<(Schedule, Option<i64>)> {
        self.query_row(
            "SELECT schedule, rule, due_ms FROM posts WHERE id = ?1 AND deleted_ms IS NULL",
            [id],
            |row| {
                let schedule = schedule_of(row.get_ref(0)?.as_str()?, row.get(1)?);
                Ok((schedule, row.get(2)?))
            },
        )
        .optional()
        .map_err(|e| self.error(e))?
        .ok_or_else(|| Error::NoSuchPost { prefix: id.into() })
    }

    /// Sets one content column of a post (`column` is one of ours, never user input) and
    /// logs the change.
    fn set_post_column(
        &self,
        id: &str,
        column: &'static str,
        value: &dyn rusqlite::ToSql,
        logged: &impl serde::Serialize,
    ) -> Result<()> {
        self.execute(
            &format!("UPDATE posts SET {column} = ?2, updated_ms = ?3 WHERE id = ?1"),
            params![id, value, to_ms(self.now)],
        )
        .map_err(|e| self.error(e))?;
        self.record("post", id, column, logged)
    }

    fn edit(&self, id: &str, change: &PostChange) -> Result<Outcome> {
        let (schedule, due_ms) = self.require_post(id)?;
        let now = to_ms(self.now);
        let mut outcome = Outcome {
            post_id: id.into(),
            ..Outcome::default()
        };
        if let Some(body) = &change.body {
            // The text is in the posts row; the log says it changed, not what it says.
            let logged = serde_json::json!({"chars": body.chars().count()});
            self.set_post_column(id, "body", body, &logged)?;
        }
        if let Some(title) = &change.title {
            let logged = title
                .as_ref()
                .map(|title| serde_json::json!({"chars": title.chars().count()}));
            self.set_post_column(id, "title", title, &logged)?;
        }
        if let Some(labels) = &change.labels {
            let json = serde_json::to_string(labels).unwrap_or_else(|_| "[]".into());
            self.set_post_column(id, "labels", &json, labels)?;
        }
        if let Some(media) = &change.media {
            self.set_media(id, media)?;
            self.record(
                "post",
                id,
                "media",
                &media
                    .iter()
                    .map(|m| (&m.sha256, &m.alt))
                    .collect::<Vec<_>>(),
            )?;
        }
        if let Some(accounts) = &change.accounts {
            let existing = self.targets(id)?;
            // Removed destinations: drafts vanish, pending ones are cancelled, history stays.
            for (target_id, account_id, name, state) in &existing {
                if accounts.contains(account_id) {
                    continue;
                }
                match state {
                    TargetState::Draft | TargetState::Cancelled => {
                        self.execute("DELETE FROM targets WHERE id = ?1", [target_id])
                            .map_err(|e| self.error(e))?;
                        self.record("target", target_id, "deleted", &true)?;
                        outcome.changed.push(name.clone());
                    }
                    TargetState::Scheduled | TargetState::WaitingRetry => {
                        self.set_target_state(target_id, TargetState::Cancelled, None)?;
                        outcome.changed.push(name.clone());
                    }
                    other => outcome.skipped.push((name.clone(), *other)),
                }
            }
            let due = match schedule {
                Schedule::None => None,
                _ => due_ms.map(from_ms),
            };
            let mut position = existing.len();
            for account_id in accounts {
                if existing.iter().any(|(_, a, _, _)| a == account_id) {
                    continue;
                }
                self.insert_target(id, account_id, position, due, true)?;
                position += 1;
            }
            self.execute(
                "UPDATE posts SET updated_ms = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(|e| self.error(e))?;
            // The accounts given are the whole list: names another device's sync left
            // here go too.
            self.log_targets(id)?;
        }
        Ok(outcome)
    }

    fn schedule(&self, id: &str, change: &ScheduleChange) -> Result<Outcome> {
        self.require_post(id)?;
        let targets = self.targets(id)?;
        if targets.is_empty() {
            return Err(Error::Invalid(format!(
                "post {id} has no accounts to publish to; give them with --to ACCOUNT[,GROUP...]"
            )));
        }
        let mut outcome = Outcome {
            post_id: id.into(),
            ..Outcome::default()
        };
        let mut earliest: Option<DateTime<Utc>> = None;
        let revived = targets
            .iter()
            .any(|(_, _, _, state)| *state == TargetState::Cancelled);
        for (target_id, account_id, name, state) in targets {
            let reschedulable = !matches!(
                state,
                TargetState::Publishing | TargetState::Published | TargetState::Uncertain
            );
            if !reschedulable {
                outcome.skipped.push((name, state));
                continue;
            }
            let due = change
                .per_account
                .get(&account_id)
                .copied()
                .unwrap_or(change.due);
            earliest = Some(earliest.map_or(due, |e| e.min(due)));
            self.set_target_state(&target_id, TargetState::Scheduled, Some(due))?;
            outcome.changed.push(name);
        }
        let Some(due) = earliest else {
            return Err(Error::Invalid(format!(
                "nothing to schedule: every target of post {id} has already started or finished publishing (see `postctl list`)"
            )));
        };
        let (kind, rule) = schedule_columns(&change.schedule);
        self.execute(
            "UPDATE posts SET schedule = ?2, rule = ?3, due_ms = ?4, tz = ?5, updated_ms = ?6 WHERE id = ?1",
            params![id, kind, rule, to_ms(due), change.tz, to_ms(self.now)],
        )
        .map_err(|e| self.error(e))?;
        self.record(
            "post",
            id,
            "schedule",
            &serde_json::json!({"schedule": kind, "rule": rule, "due_ms": to_ms(due), "tz": change.tz}),
        )?;
        if revived {
            // Cancelled targets are scheduled again: where the post goes changed.
            self.log_targets(id)?;
        }
        Ok(outcome)
    }

    pub(super) fn cancel(&self, id: &str) -> Result<Outcome> {
        self.require_post(id)?;
        let mut outcome = Outcome {
            post_id: id.into(),
            ..Outcome::default()
        };
        for (target_id, _, name, state) in self.targets(id)? {
            if state.is_editable() {
                self.set_target_state(&target_id, TargetState::Cancelled, None)?;
                outcome.changed.push(name);
            } else if state != TargetState::Cancelled {
                outcome.skipped.push((name, state));
            }
        }
        Ok(outcome)
    }

    pub(super) fn set_target_state(
        &self,
        target_id: &str,
        state: TargetState,
        due: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.prepare_cached(
            "UPDATE targets SET state = ?2, due_ms = coalesce(?3, due_ms), updated_ms = ?4 WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                target_id,
                state.as_str(),
                due.map(to_ms),
                to_ms(self.now)
            ])
        })
        .map_err(|e| self.error(e))?;
        self.record(
            "target",
            target_id,
            "state",
            &serde_json::json!({"state": state, "due_ms": due.map(to_ms)}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a calendar and the listings read walks an index: at 100,000 posts, a scan of
    /// the posts table for the recurring ones made every calendar take 60 ms.
    #[test]
    fn listings_walk_indexes_instead_of_scanning_posts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("p.db")).expect("open");
        let now = Utc::now();
        let filters = [
            ListFilter::Recurring,
            ListFilter::Due {
                from: now,
                to: now + chrono::Duration::days(31),
            },
            ListFilter::Upcoming,
            ListFilter::Drafts,
        ];
        for filter in filters {
            let (sql, values) = filter.sql();
            for pass in LISTING_PASSES {
                let query = listing_sql(&sql, pass);
                let plan: Vec<String> = store
                    .conn()
                    .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
                    .and_then(|mut stmt| {
                        stmt.query_map(params_from_iter(&values), |row| row.get::<_, String>(3))?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .expect("plan");
                let shown = plan.join("\n");
                // A scan of the whole table, or a sort of what it found.
                assert!(
                    !plan.iter().any(|l| l == "SCAN p"),
                    "{filter:?} {pass}\n{shown}"
                );
                assert!(!shown.contains("TEMP B-TREE"), "{filter:?} {pass}\n{shown}");
                if matches!(filter, ListFilter::Recurring | ListFilter::Due { .. }) {
                    assert!(
                        shown.contains("SEARCH p USING"),
                        "{filter:?} {pass}\n{shown}"
                    );
                }
                if filter == ListFilter::Recurring {
                    assert!(shown.contains("posts_by_schedule_due"), "{pass}\n{shown}");
                }
                if filter == ListFilter::Upcoming && pass.starts_with("p.due_ms IS NOT NULL") {
                    assert!(shown.contains("posts_upcoming"), "{pass}\n{shown}");
                }
            }
        }
        // "How many more" under a page of upcoming posts counts an index, not the posts.
        let (sql, _) = ListFilter::Upcoming.sql();
        let plan: String = store
            .conn()
            .query_row(
                &format!("EXPLAIN QUERY PLAN SELECT count(*) FROM posts p WHERE {sql}"),
                [],
                |row| row.get(3),
            )
            .expect("plan");
        assert!(plan.contains("USING INDEX posts_upcoming"), "{plan}");
    }

    #[test]
    fn fts_query_quotes_every_word() {
        let cases = [
            ("launch", "\"launch\"*"),
            ("launch day", "\"launch\"* \"day\"*"),
            ("say \"hi\"", "\"say\"* \"\"\"hi\"\"\"*"),
            ("v1.2-beta", "\"v1.2-beta\"*"),
            ("", ""),
        ];
        for (typed, expected) in cases {
            assert_eq!(fts_query(typed), expected, "{typed}");
        }
    }
}
