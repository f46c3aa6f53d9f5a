//! The edge: carries effects out against the store, the file system and the worker
//! thread, and answers with events. Nothing here decides anything.

pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use postctl_core::model::{Post, Schedule, TargetState};
use postctl_core::secrets::SecretStore;
use postctl_core::store::{ListFilter, Operation, Store, short_ids};
use postctl_core::sync::background::Background;

use crate::app::analytics::{self, PostCurve, Summary};
use crate::app::data::{LIST_LOADED, ListIds, Slice, Totals, Window};
use crate::app::effect::{Effect, Event, Job, Loaded, Write, Written};
use crate::app::state::ACTIVITY_KEPT;
use crate::log::Log;
use worker::{EngineParts, Request, Worker};

pub struct Runtime {
    store: Store,
    media_dir: PathBuf,
    worker: Option<Worker>,
    parts: EngineParts,
    log: Log,
    data_version: i64,
    sync: Option<Syncing>,
}

/// The background sync's thread (`postctl_core::sync::background`): its news comes back
/// as [`Event::Sync`], and it stops when the runtime is dropped.
struct Syncing {
    events: Receiver<Event>,
    stop: Arc<AtomicBool>,
}

impl Drop for Syncing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Runtime {
    pub fn new(store: Store, parts: EngineParts, log: Log) -> Runtime {
        let data_version = store.data_version().unwrap_or(0);
        Runtime {
            store,
            media_dir: parts.data_dir.join("media"),
            worker: None,
            parts,
            log,
            data_version,
            sync: None,
        }
    }

    /// Starts syncing the database with its server in the background, when it is linked
    /// (it looks at the link every quarter second and sends nothing otherwise); changes
    /// pulled from other devices then show as any other process's do.
    pub fn start_sync(&mut self) {
        let backend = match SecretStore::backend_from_env() {
            Ok(backend) => backend,
            Err(e) => {
                self.log.error(format!("sync: secret store: {e}"));
                return;
            }
        };
        let background = Background::new(
            &self.parts.db_file,
            &self.parts.data_dir,
            SecretStore::new(&self.parts.data_dir, backend),
            self.parts.clock,
        );
        let (outbox, events) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let log = self.log.clone();
        let mut last = None;
        let spawned = background.spawn(Arc::clone(&stop), move |look| {
            if let Some(news) = &look.news {
                log.info(news);
            }
            if last.as_ref() != Some(&look.status) {
                last = Some(look.status.clone());
                let _ = outbox.send(Event::Sync(look.status));
            }
        });
        match spawned {
            Ok(_) => self.sync = Some(Syncing { events, stop }),
            Err(e) => self.log.error(format!("cannot start the sync thread: {e}")),
        }
    }

    /// Whether another process (the CLI, the daemon) committed since the last call.
    pub fn changed_elsewhere(&mut self) -> bool {
        match self.store.data_version() {
            Ok(version) if version != self.data_version => {
                self.data_version = version;
                true
            }
            Ok(_) => false,
            Err(e) => {
                self.log.error(format!("data_version: {e}"));
                false
            }
        }
    }

    /// Events the worker thread has sent back.
    pub fn worker_events(&self) -> Vec<Event> {
        let mut events = self.worker.as_ref().map(Worker::events).unwrap_or_default();
        if let Some(sync) = &self.sync {
            events.extend(sync.events.try_iter());
        }
        events
    }

    fn worker(&mut self) -> &Worker {
        let (parts, log) = (&self.parts, &self.log);
        self.worker
            .get_or_insert_with(|| Worker::start(parts.clone(), log.clone()))
    }

    /// Carries out `effect`; its result comes back as events (at once, or later through
    /// [`Runtime::worker_events`]). `ExternalEditor` belongs to the terminal loop.
    pub fn execute(&mut self, effect: Effect, now: DateTime<Utc>) -> Vec<Event> {
        match effect {
            Effect::Load {
                activity_after,
                window,
            } => vec![self.load(Some(activity_after), window, now)],
            Effect::LoadTargets(post_id) => match self.store.target_status(&post_id) {
                Ok(targets) => vec![Event::TargetsLoaded { post_id, targets }],
                Err(e) => vec![self.failed(e.to_string())],
            },
            Effect::LoadAnalytics { account, tz } => {
                vec![Event::AnalyticsLoaded(Box::new(
                    self.analytics(&account, tz, now),
                ))]
            }
            Effect::LoadCurve(post_id) => match self.curve(&post_id) {
                Ok(curve) => vec![Event::CurveLoaded(Box::new(curve))],
                Err(e) => vec![self.failed(e.to_string())],
            },
            Effect::Write(job) => vec![Event::Written(self.write(job))],
            Effect::ImportMedia(path) => {
                let result = postctl_core::media::import(&path, None, &self.media_dir)
                    .map_err(|e| e.to_string());
                vec![Event::MediaImported(result)]
            }
            Effect::LoadCapabilities(accounts) => {
                match self.worker().send(Request::Capabilities(accounts)) {
                    Ok(()) => Vec::new(),
                    Err(e) => vec![self.failed(e)],
                }
            }
            Effect::Verify(accounts) => match self.worker().send(Request::Verify(accounts)) {
                Ok(()) => Vec::new(),
                Err(e) => vec![self.failed(e)],
            },
            Effect::LoadApprovals => match self.worker().send(Request::Approvals) {
                Ok(()) => Vec::new(),
                Err(e) => vec![Event::ApprovalsLoaded(Err(e))],
            },
            Effect::LoadInbox => match self.worker().send(Request::Inbox) {
                Ok(()) => Vec::new(),
                Err(e) => vec![Event::InboxLoaded(Err(e))],
            },
            Effect::MarkRead(id) => match self.worker().send(Request::MarkRead(id)) {
                Ok(()) => Vec::new(),
                Err(e) => vec![Event::Marked(Err(e))],
            },
            Effect::Decide {
                post_id,
                verdict,
                comment,
            } => match self.worker().send(Request::Decide {
                post_id,
                verdict,
                comment,
            }) {
                Ok(()) => Vec::new(),
                Err(e) => vec![Event::Decided(Err(e))],
            },
            Effect::ExternalEditor(_) => Vec::new(),
        }
    }

    /// One account's analytics: its figures and daily curve, and its posts published in
    /// the last [`analytics::SPAN_DAYS`] days with their last counters, reduced to what
    /// the view draws. The display zone is the dashboard's.
    fn analytics(
        &self,
        name: &str,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> Result<Summary, String> {
        let started = Instant::now();
        let store = &self.store;
        let read = || -> postctl_core::Result<Summary> {
            let account = store.account(name)?;
            let figures = store.account_figures(&account.id)?;
            let daily = store.account_curve(&account.id)?;
            let targets =
                store.target_metrics(None, Some(&account.id), Some(analytics::span_start(now)))?;
            let mut summary = analytics::summarize(
                &account.name,
                account.network,
                figures,
                &daily,
                &targets,
                &|id: &str| id.to_string(),
                tz,
                now,
            );
            // Short ids for the posts drawn only, not every post of the span.
            let ids: Vec<String> = summary
                .chart
                .iter()
                .chain(&summary.top)
                .map(|p| p.post_id.clone())
                .collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let short = short_ids(store, &ids)?;
            for post in summary.chart.iter_mut().chain(summary.top.iter_mut()) {
                if let Some(id) = short.get(&post.post_id) {
                    post.short = id.clone();
                }
            }
            Ok(summary)
        };
        let summary = read().map_err(|e| e.to_string());
        self.log.info(format!(
            "analytics of {name} read in {} ms",
            started.elapsed().as_millis()
        ));
        summary
    }

    /// A post's counters on each account it was published to, and their curve.
    fn curve(&self, post_id: &str) -> postctl_core::Result<PostCurve> {
        let store = &self.store;
        let rows = store.target_metrics(Some(post_id), None, None)?;
        let mut curves = Vec::with_capacity(rows.len());
        for row in rows {
            let readings = store.target_curve(&row.target_id)?;
            curves.push((row, readings));
        }
        let short = short_ids(store, &[post_id])?
            .remove(post_id)
            .unwrap_or_else(|| post_id.to_string());
        Ok(analytics::post_curve(post_id, short, curves))
    }

    fn failed(&self, message: String) -> Event {
        self.log.error(&message);
        Event::Failed(message)
    }

    /// What the dashboard shows (see [`Slice`]): the posts of the calendar's `window` and
    /// the recurring ones, the first posts of each queue list and the lists' lengths, the
    /// accounts and their counts, the short ids of those posts, and the newest oplog
    /// entries after `activity_after` (not read when `None`) with the posts they name.
    pub fn load(
        &mut self,
        activity_after: Option<i64>,
        window: Window,
        now: DateTime<Utc>,
    ) -> Event {
        let started = Instant::now();
        let read = || -> postctl_core::Result<Loaded> {
            let store = &self.store;
            let mut posts = Posts::default();
            let calendar = ListFilter::Due {
                from: window.start,
                to: window.end,
            };
            posts.read(store, &calendar, None)?;
            posts.read(store, &ListFilter::Recurring, None)?;
            let upcoming = ListFilter::Upcoming;
            let failed = ListFilter::WithTargetIn(vec![TargetState::Failed, TargetState::Missed]);
            let uncertain = ListFilter::WithTargetIn(vec![TargetState::Uncertain]);
            let lists = ListIds {
                upcoming: posts.read(store, &upcoming, Some(LIST_LOADED))?,
                drafts: posts.read_drafts(store)?,
                failed: posts.read(store, &failed, Some(LIST_LOADED))?,
                uncertain: posts.read(store, &uncertain, Some(LIST_LOADED))?,
            };
            let total = |filter: &ListFilter, read: &[String]| -> postctl_core::Result<usize> {
                match read.len() {
                    n if n < LIST_LOADED => Ok(n),
                    _ => store.count_posts(filter),
                }
            };
            let totals = Totals {
                upcoming: total(&upcoming, &lists.upcoming)?,
                drafts: total(&ListFilter::Drafts, &lists.drafts)?,
                failed: total(&failed, &lists.failed)?,
                uncertain: total(&uncertain, &lists.uncertain)?,
            };
            let operations = match activity_after {
                Some(after) => {
                    let operations = store.latest_operations(after, ACTIVITY_KEPT)?;
                    posts.read_named(store, &operations)?;
                    Some(operations)
                }
                None => None,
            };
            let accounts = store.accounts()?;
            let needing = store.accounts_needing_sign_in()?;
            let signed_out = accounts
                .iter()
                .filter_map(|a| needing.get(&a.id).map(|why| (a.name.clone(), why.clone())))
                .collect();
            let per_account = store.target_counts()?;
            let posts = posts.list;
            let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
            let short = short_ids(store, &ids)?;
            Ok(Loaded {
                posts,
                accounts,
                signed_out,
                short,
                operations,
                slice: Some(Slice {
                    window,
                    lists,
                    totals,
                    per_account,
                }),
                at: now,
            })
        };
        let result = read();
        // Our own writes do not move data_version; note where it is now.
        if let Ok(version) = self.store.data_version() {
            self.data_version = version;
        }
        match result {
            Ok(loaded) => {
                self.log.info(format!(
                    "loaded {} posts, {} operations in {:.1} ms",
                    loaded.posts.len(),
                    loaded.operations.as_ref().map_or(0, Vec::len),
                    started.elapsed().as_secs_f64() * 1000.0
                ));
                Event::Loaded(Box::new(loaded))
            }
            Err(e) => self.failed(format!("cannot read the database: {e}")),
        }
    }

    /// The newest oplog entries after `after` on their own, with the posts they name.
    pub fn activity(&mut self, after: i64) -> Event {
        let started = Instant::now();
        let read = || -> postctl_core::Result<Event> {
            let operations = self.store.latest_operations(after, ACTIVITY_KEPT)?;
            let mut posts = Posts::default();
            posts.read_named(&self.store, &operations)?;
            let ids: Vec<&str> = posts.list.iter().map(|p| p.id.as_str()).collect();
            let short = short_ids(&self.store, &ids)?;
            Ok(Event::Activity {
                operations,
                posts: posts.list,
                short,
            })
        };
        match read() {
            Ok(event) => {
                if let Event::Activity { operations, .. } = &event {
                    self.log.info(format!(
                        "read {} operations in {:.1} ms",
                        operations.len(),
                        started.elapsed().as_secs_f64() * 1000.0
                    ));
                }
                event
            }
            Err(e) => self.failed(format!("cannot read the activity log: {e}")),
        }
    }

    fn write(&mut self, job: Job) -> Written {
        let mut written = Written {
            done: job.done,
            undo_label: job.undo_label,
            close_compose: job.close_compose,
            notes: job.notes,
            ..Written::default()
        };
        let mut undo = Vec::new();
        for step in job.steps {
            self.log.info(format!("write {:?}", describe(&step.write)));
            match self.apply(&step.write, &mut written) {
                Ok(()) => undo.splice(0..0, step.undo),
                Err(e) => {
                    self.log.error(format!("write failed: {e}"));
                    written.error = Some(e);
                    break;
                }
            };
        }
        written.undo = undo;
        written
    }

    fn apply(&mut self, write: &Write, written: &mut Written) -> Result<(), String> {
        let store = &mut self.store;
        let outcome = match write {
            Write::Create(post) => {
                let id = store.create_post(post).map_err(|e| e.to_string())?;
                written.created.push(id);
                return Ok(());
            }
            Write::Update {
                post_id,
                change,
                schedule,
            } => store.update_post(post_id, change, schedule.as_ref()),
            Write::Cancel(post_id) => store.cancel_post(post_id),
            Write::Delete(post_id) => store.delete_post(post_id),
            Write::Retry(post_id) => {
                let names = store.retry_post(post_id).map_err(|e| e.to_string())?;
                if names.is_empty() {
                    written.notes.push("nothing to retry".into());
                }
                return Ok(());
            }
            Write::Resolve {
                post_id,
                account,
                published_url,
            } => {
                store
                    .resolve_uncertain(post_id, account.as_deref(), published_url.as_deref())
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
        }
        .map_err(|e| e.to_string())?;
        for (account, state) in outcome.skipped {
            written
                .notes
                .push(format!("left {account} as it is ({state})"));
        }
        Ok(())
    }
}

/// A write for the log, without the post's text.
fn describe(write: &Write) -> String {
    match write {
        Write::Create(post) => format!("create post ({} targets)", post.targets.len()),
        Write::Update {
            post_id, schedule, ..
        } => format!(
            "update {post_id}{}",
            schedule
                .as_ref()
                .map(|s| format!(" due {}", s.due))
                .unwrap_or_default()
        ),
        Write::Cancel(id) => format!("cancel {id}"),
        Write::Delete(id) => format!("delete {id}"),
        Write::Retry(id) => format!("retry {id}"),
        Write::Resolve {
            post_id, account, ..
        } => format!("resolve {post_id} {account:?}"),
    }
}

/// The posts of one load, each once, whichever reads found them.
#[derive(Default)]
struct Posts {
    list: Vec<Post>,
    seen: HashSet<String>,
}

impl Posts {
    /// Reads the posts of `filter` (at most `limit`); their ids, in order.
    fn read(
        &mut self,
        store: &Store,
        filter: &ListFilter,
        limit: Option<usize>,
    ) -> postctl_core::Result<Vec<String>> {
        let mut ids = Vec::new();
        store.each_post(filter, limit, |post| {
            ids.push(post.id.clone());
            self.keep(post);
            Ok(())
        })?;
        Ok(ids)
    }

    /// The drafts tab: posts not scheduled, but not those whose every target was cancelled.
    fn read_drafts(&mut self, store: &Store) -> postctl_core::Result<Vec<String>> {
        let mut ids = Vec::new();
        store.each_post(&ListFilter::Drafts, Some(LIST_LOADED), |post| {
            if post.schedule == Schedule::None
                && post.summary_state() != Some(TargetState::Cancelled)
            {
                ids.push(post.id.clone());
            }
            self.keep(post);
            Ok(())
        })?;
        Ok(ids)
    }

    /// Reads the posts `operations` name (a post's, or a target's post) that are not here.
    fn read_named(&mut self, store: &Store, operations: &[Operation]) -> postctl_core::Result<()> {
        let mut post_ids: Vec<String> = Vec::new();
        let mut target_ids: Vec<String> = Vec::new();
        for op in operations {
            match op.entity.as_str() {
                "post" if !self.seen.contains(&op.entity_id) => post_ids.push(op.entity_id.clone()),
                "target" => target_ids.push(op.entity_id.clone()),
                _ => {}
            }
        }
        target_ids.sort_unstable();
        target_ids.dedup();
        post_ids.extend(
            store
                .post_ids_of_targets(&target_ids)?
                .into_iter()
                .filter(|id| !self.seen.contains(id)),
        );
        post_ids.sort_unstable();
        post_ids.dedup();
        if !post_ids.is_empty() {
            self.read(store, &ListFilter::Ids(post_ids), None)?;
        }
        Ok(())
    }

    fn keep(&mut self, post: Post) {
        if self.seen.insert(post.id.clone()) {
            self.list.push(post);
        }
    }
}
