//! Sync in the background, as `postctl daemon` and the dashboard run it (issue 13): every
//! [`EVERY`] while the server answers, at once after a local change (another connection's
//! commit that added to the oplog), and after a failure only when its backoff has passed
//! (doubling from [`BACKOFF_FIRST`] to [`BACKOFF_CAP`]). A database that is not linked, or
//! whose session was signed out, is only looked at: nothing is sent.
//!
//! [`Schedule`] (when to sync) and [`Status::label`] (what the status bar and the log say)
//! are pure; [`Background`] carries them out against the database file and the server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::client::{Client, SyncError};
use crate::secrets::{Secret, SecretRef, SecretStore};
use crate::store::Store;

/// How often a device that is in sync asks the server for news.
pub const EVERY: Duration = Duration::from_secs(2);
/// The wait after the first failure in a row; each next one doubles it, up to the cap.
pub const BACKOFF_FIRST: Duration = Duration::from_secs(1);
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// How often the database is looked at for local changes (one pragma).
pub const WATCH: Duration = Duration::from_millis(250);

/// The wait after `failures` failed syncs in a row.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_FIRST
        .saturating_mul(1 << doublings)
        .min(BACKOFF_CAP)
}

/// When the next sync is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    next: Instant,
    failures: u32,
}

impl Schedule {
    /// A schedule whose first sync is due at `now`.
    pub fn new(now: Instant) -> Schedule {
        Schedule {
            next: now,
            failures: 0,
        }
    }

    /// Whether to sync at `now`, given whether a local change was seen since the last
    /// sync. A local change goes at once, unless the server is being waited out.
    pub fn due(&self, now: Instant, local_change: bool) -> bool {
        now >= self.next || (local_change && self.failures == 0)
    }

    pub fn succeeded(&mut self, now: Instant) {
        self.failures = 0;
        self.next = now + EVERY;
    }

    /// Records a failure; returns the wait before the next try.
    pub fn failed(&mut self, now: Instant) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let wait = backoff(self.failures);
        self.next = now + wait;
        wait
    }

    /// Failed syncs in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// Where a database stands with its server, for the status bar and the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Whether the database is linked to a server (`postctl login`).
    pub linked: bool,
    /// Whether it has a session to sync with (not `postctl logout`).
    pub signed_in: bool,
    pub last_sync: Option<DateTime<Utc>>,
    /// Posts with local changes not pushed yet.
    pub pending: usize,
    /// Since when the server has not answered (unreachable, or failing with 5xx).
    pub offline_since: Option<DateTime<Utc>>,
    /// Conflicts recorded (`postctl sync status` lists them).
    pub conflicts: usize,
    /// Why the last sync failed, when the server answered but refused it.
    pub error: Option<String>,
}

impl Status {
    /// One short line: "synced 14:02:11", "pending 3", "offline since 14:00:05 · pending
    /// 1", "signed out", with " · N conflicts" when there are; empty when not linked.
    pub fn label(&self, tz: Tz) -> String {
        if !self.linked {
            return String::new();
        }
        let time = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
        let mut parts = Vec::new();
        if !self.signed_in {
            parts.push("signed out".to_string());
        } else if let Some(since) = self.offline_since {
            parts.push(format!("offline since {}", time(since)));
        } else if self.error.is_some() {
            parts.push("sync failed".to_string());
        }
        if self.pending > 0 {
            parts.push(format!("pending {}", self.pending));
        } else if parts.is_empty() {
            parts.push(match self.last_sync {
                Some(at) => format!("synced {}", time(at)),
                None => "not synced yet".to_string(),
            });
        }
        match self.conflicts {
            0 => {}
            1 => parts.push("1 conflict".into()),
            n => parts.push(format!("{n} conflicts")),
        }
        parts.join(" · ")
    }
}

/// What one look at the database did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Look {
    pub status: Status,
    /// A line for the log when something happened worth saying (a sync that moved
    /// something, going offline, coming back, a refusal).
    pub news: Option<String>,
}

/// A database synced in the background: its own connection to the database file, the
/// secret store the session token is in, and the media dir.
pub struct Background {
    db_file: PathBuf,
    media_dir: PathBuf,
    secrets: SecretStore,
    clock: crate::Clock,
    store: Option<Store>,
    session: Option<(SecretRef, String, Client, Secret)>,
    schedule: Schedule,
    /// The oplog's last entry at the last sync: a greater one is a change to push.
    seen_seq: i64,
    status: Status,
}

impl Background {
    pub fn new(
        db_file: &Path,
        data_dir: &Path,
        secrets: SecretStore,
        clock: crate::Clock,
    ) -> Background {
        Background {
            db_file: db_file.to_path_buf(),
            media_dir: data_dir.join("media"),
            secrets,
            clock,
            store: None,
            session: None,
            schedule: Schedule::new(Instant::now()),
            seen_seq: -1,
            status: Status::default(),
        }
    }

    /// Looks at the database and syncs when due (see [`Schedule`]).
    pub async fn look(&mut self, now: Instant) -> Look {
        match self.try_look(now).await {
            Ok(look) => look,
            Err(e) => {
                // The database itself could not be read: try again after a backoff.
                let wait = self.schedule.failed(now);
                self.store = None;
                self.status.error = Some(e.to_string());
                Look {
                    status: self.status.clone(),
                    news: Some(format!(
                        "sync: cannot read the database: {e}; trying again in {}s",
                        wait.as_secs()
                    )),
                }
            }
        }
    }

    async fn try_look(&mut self, now: Instant) -> crate::Result<Look> {
        let mut store = match self.store.take() {
            Some(store) => store,
            None => {
                let mut store = Store::open(&self.db_file)?;
                store.set_clock(self.clock);
                store
            }
        };
        let look = self.look_with(&mut store, now).await;
        self.store = Some(store);
        look
    }

    async fn look_with(&mut self, store: &mut Store, now: Instant) -> crate::Result<Look> {
        let link = store.sync_link()?;
        let Some(link) = link else {
            self.status = Status::default();
            return Ok(self.quiet());
        };
        self.status.linked = true;
        self.status.signed_in = link.secret.is_some();
        self.status.last_sync = link.last_sync;
        let last_seq = store.last_oplog_seq()?;
        let changed = last_seq != self.seen_seq;
        if changed {
            self.status.pending = store.pending_operations()?.posts;
            self.status.conflicts = store.sync_conflict_count()?;
        }
        let Some(reference) = link.secret.clone() else {
            self.session = None;
            self.seen_seq = last_seq;
            return Ok(self.quiet());
        };
        if !self.schedule.due(now, changed && self.seen_seq >= 0) {
            self.seen_seq = last_seq;
            return Ok(self.quiet());
        }
        let fresh =
            !matches!(&self.session, Some((r, s, _, _)) if *r == reference && *s == link.server);
        if fresh {
            let token = match self.secrets.get(&reference) {
                Ok(token) => token,
                Err(e) => {
                    let wait = self.schedule.failed(now);
                    return Ok(self.failed(
                        format!(
                            "sync: cannot read the session from the secret store: {e}; trying again in {}s",
                            wait.as_secs()
                        ),
                        e.to_string(),
                    ));
                }
            };
            let client = match Client::new(&link.server) {
                Ok(client) => client,
                Err(e) => {
                    self.schedule.failed(now);
                    return Ok(self.failed(format!("sync: {e}"), e.to_string()));
                }
            };
            self.session = Some((reference, link.server.clone(), client, token));
        }
        let Some((_, _, client, token)) = &self.session else {
            return Ok(self.quiet());
        };
        let result = super::run::sync(store, client, token, &self.media_dir).await;
        // What the sync itself wrote is not a local change.
        self.seen_seq = store.last_oplog_seq()?;
        self.status.pending = store.pending_operations()?.posts;
        self.status.conflicts = store.sync_conflict_count()?;
        match result {
            Ok(synced) => {
                self.schedule.succeeded(now);
                self.status.last_sync = store.sync_link()?.and_then(|l| l.last_sync);
                let back = self.status.offline_since.take().is_some();
                self.status.error = None;
                let moved = synced.pushed + synced.pulled + synced.conflicts + synced.held > 0;
                let news = (moved || back).then(|| {
                    format!(
                        "sync: {}{} pushed, {} pulled{}{}",
                        if back {
                            "the server answers again; "
                        } else {
                            ""
                        },
                        synced.pushed,
                        synced.pulled,
                        match synced.conflicts {
                            0 => String::new(),
                            n => format!(", {n} conflict(s): see `postctl sync status`"),
                        },
                        match synced.held {
                            0 => String::new(),
                            n => format!(", {n} post(s) held: see `postctl sync status`"),
                        },
                    )
                });
                Ok(Look {
                    status: self.status.clone(),
                    news,
                })
            }
            Err(e) => {
                let wait = self.schedule.failed(now);
                let offline = matches!(
                    &e,
                    crate::Error::Sync(SyncError::Unreachable { .. } | SyncError::Server { .. })
                );
                let first = self.schedule.failures() == 1;
                if offline {
                    let since = *self
                        .status
                        .offline_since
                        .get_or_insert_with(|| self.clock.now());
                    self.status.error = None;
                    // Once when it goes away, then at the cap, not at every try.
                    let say =
                        first || wait == BACKOFF_CAP && self.schedule.failures().is_multiple_of(10);
                    return Ok(Look {
                        status: self.status.clone(),
                        news: say.then(|| {
                            format!(
                                "sync: offline since {}: {e}; trying again with backoff (up to {}s)",
                                since.format("%H:%M:%S UTC"),
                                BACKOFF_CAP.as_secs()
                            )
                        }),
                    });
                }
                if matches!(&e, crate::Error::Sync(s) if s.is_auth()) {
                    self.session = None;
                }
                let message = e.to_string();
                let said = self.status.error.as_deref() == Some(message.as_str());
                self.status.offline_since = None;
                self.status.error = Some(message.clone());
                Ok(Look {
                    status: self.status.clone(),
                    news: (!said).then(|| {
                        format!(
                            "sync: {message} (trying again in {}s, then up to every {}s)",
                            wait.as_secs(),
                            BACKOFF_CAP.as_secs()
                        )
                    }),
                })
            }
        }
    }

    fn quiet(&self) -> Look {
        Look {
            status: self.status.clone(),
            news: None,
        }
    }

    fn failed(&mut self, news: String, error: String) -> Look {
        self.status.error = Some(error);
        Look {
            status: self.status.clone(),
            news: Some(news),
        }
    }

    /// Looks every [`WATCH`] until `stop`, handing each look to `each` (the daemon logs
    /// the news, the dashboard shows the status).
    pub async fn run(mut self, stop: &AtomicBool, mut each: impl FnMut(Look)) {
        while !stop.load(Ordering::SeqCst) {
            let look = self.look(Instant::now()).await;
            each(look);
            tokio::time::sleep(WATCH).await;
        }
    }

    /// [`Background::run`] on a thread of its own with its own runtime (the database
    /// connection is not shared across threads), until `stop`.
    pub fn spawn(
        self,
        stop: Arc<AtomicBool>,
        each: impl FnMut(Look) + Send + 'static,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("postctl-sync".into())
            .spawn(move || runtime.block_on(self.run(&stop, each)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cases = [(1, 1), (2, 2), (3, 4), (4, 8), (6, 32), (7, 60), (50, 60)];
        for (failures, secs) in cases {
            assert_eq!(backoff(failures), Duration::from_secs(secs), "{failures}");
        }
    }

    #[test]
    fn a_local_change_goes_at_once_unless_the_server_is_waited_out() {
        let start = Instant::now();
        let mut schedule = Schedule::new(start);
        assert!(schedule.due(start, false), "the first sync is at once");
        schedule.succeeded(start);
        let soon = start + Duration::from_millis(300);
        assert!(!schedule.due(soon, false), "in sync: wait for the interval");
        assert!(schedule.due(soon, true), "a local change goes at once");
        assert!(schedule.due(start + EVERY, false), "then every EVERY");
        // Unreachable: a local change waits for the backoff too.
        assert_eq!(schedule.failed(soon), Duration::from_secs(1));
        assert_eq!(schedule.failed(soon), Duration::from_secs(2));
        let later = soon + Duration::from_millis(1500);
        assert!(!schedule.due(later, true));
        assert!(schedule.due(soon + Duration::from_secs(2), false));
        schedule.succeeded(later);
        assert_eq!(schedule.failures(), 0);
    }

    #[test]
    fn the_label_says_synced_pending_offline_and_conflicts() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("a time");
        let linked = Status {
            linked: true,
            signed_in: true,
            ..Status::default()
        };
        let cases = [
            (Status::default(), ""),
            (linked.clone(), "not synced yet"),
            (
                Status {
                    last_sync: Some(at("2026-11-20T10:00:05Z")),
                    ..linked.clone()
                },
                "synced 11:00:05",
            ),
            (
                Status {
                    last_sync: Some(at("2026-11-20T10:00:05Z")),
                    pending: 3,
                    ..linked.clone()
                },
                "pending 3",
            ),
            (
                Status {
                    offline_since: Some(at("2026-11-20T10:01:00Z")),
                    pending: 1,
                    conflicts: 2,
                    ..linked.clone()
                },
                "offline since 11:01:00 · pending 1 · 2 conflicts",
            ),
            (
                Status {
                    last_sync: Some(at("2026-11-20T10:00:05Z")),
                    conflicts: 1,
                    ..linked.clone()
                },
                "synced 11:00:05 · 1 conflict",
            ),
            (
                Status {
                    signed_in: false,
                    ..linked.clone()
                },
                "signed out",
            ),
            (
                Status {
                    error: Some("refused".into()),
                    ..linked.clone()
                },
                "sync failed",
            ),
        ];
        for (status, expected) in cases {
            assert_eq!(
                status.label(chrono_tz::Europe::Berlin),
                expected,
                "{status:?}"
            );
        }
    }
}
