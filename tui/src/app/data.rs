//! What the dashboard shows, as loaded from the store, with the indexes the views need
//! (posts by local day, the queue's lists, targets by id). Built once per load, so a
//! redraw never walks every post.
//!
//! The dashboard reads only what it can show ([`Slice`]): the calendar's month and a week
//! either side, the recurring posts, the first [`LIST_LOADED`] posts of each queue list
//! with the lists' lengths, and the posts the activity log names. At 100,000 posts,
//! reading them all made the first frame take half a second and 220 MB.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use postctl_core::model::{Account, Post, Schedule, TargetState};
use postctl_core::time::{Disambiguation, WeeklyRule, resolve_local};

/// How many posts of each queue list the dashboard reads; the list's tab says how many
/// there are in all.
pub const LIST_LOADED: usize = 500;

/// The local days the calendar was read for, `from` to `to` (exclusive), and those days'
/// bounds as instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// The days the calendar can show while its cursor is on `cursor`: the cursor's month
    /// and a week either side (the week view and the month's first and last weeks).
    pub fn around(cursor: NaiveDate, tz: Tz) -> Window {
        let first = cursor.with_day(1).unwrap_or(cursor);
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        let (from, to) = (first - Duration::days(7), next + Duration::days(7));
        Window {
            from,
            to,
            start: start_of_day(from, tz),
            end: start_of_day(to, tz),
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        (self.from..self.to).contains(&day)
    }
}

/// What one load read besides the posts, when it did not read every post.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub window: Window,
    /// The ids of the first posts of each queue list, in order.
    pub lists: ListIds,
    /// How many posts each queue list has in all.
    pub totals: Totals,
    /// Per account name: targets still to publish, and targets failed, missed or uncertain.
    pub per_account: HashMap<String, (usize, usize)>,
}

/// The queue's four lists as post ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListIds {
    pub upcoming: Vec<String>,
    pub drafts: Vec<String>,
    pub failed: Vec<String>,
    pub uncertain: Vec<String>,
}

/// The length of each queue list, loaded or not.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub upcoming: usize,
    pub drafts: usize,
    pub failed: usize,
    pub uncertain: usize,
}

/// Posts and accounts from one load.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub posts: Vec<Post>,
    pub accounts: Vec<Account>,
    /// The short form of each post id (the shortest unique prefix, at least 8).
    pub short: HashMap<String, String>,
    by_id: HashMap<String, usize>,
    /// Posts due once, by local day in the display zone, each day in time order.
    by_day: BTreeMap<NaiveDate, Vec<usize>>,
    /// Recurring posts still to publish (expanded per day on demand).
    recurring: Vec<(usize, WeeklyRule, Tz)>,
    /// Target id to (post, target) positions, for the activity log.
    targets: HashMap<String, (usize, usize)>,
    pub lists: Lists,
    /// Per account name: targets still to publish, and targets failed, missed or uncertain.
    pub per_account: HashMap<String, (usize, usize)>,
    /// Accounts that need signing in again, by name, and why (their posts are held).
    pub signed_out: HashMap<String, String>,
    /// The length of each queue list (more than `lists` holds when only a page was read).
    pub totals: Totals,
    /// The days the calendar holds posts for; `None` when every post was read.
    pub window: Option<Window>,
}

/// The queue's four lists, as positions in `posts`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lists {
    pub upcoming: Vec<usize>,
    pub drafts: Vec<usize>,
    pub failed: Vec<usize>,
    pub uncertain: Vec<usize>,
}

/// One post at one moment of the calendar: a recurring post appears once per occurrence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub post: usize,
    pub at: DateTime<Utc>,
    pub recurring: bool,
}

impl Data {
    /// Indexes `posts` (as `Store::posts(&ListFilter::All)` returns them) for display in `tz`.
    pub fn new(
        posts: Vec<Post>,
        accounts: Vec<Account>,
        short: HashMap<String, String>,
        tz: Tz,
    ) -> Data {
        let mut data = Data {
            posts,
            accounts,
            short,
            ..Data::default()
        };
        for (i, post) in data.posts.iter().enumerate() {
            data.by_id.insert(post.id.clone(), i);
            for (j, target) in post.targets.iter().enumerate() {
                data.targets.insert(target.id.clone(), (i, j));
                let pending = matches!(
                    target.state,
                    TargetState::Scheduled | TargetState::WaitingRetry | TargetState::Publishing
                );
                let failed = matches!(
                    target.state,
                    TargetState::Failed | TargetState::Missed | TargetState::Uncertain
                );
                if pending || failed {
                    let counts = data.per_account.entry(target.account.clone()).or_default();
                    counts.0 += usize::from(pending);
                    counts.1 += usize::from(failed);
                }
            }
            let has =
                |states: &[TargetState]| post.targets.iter().any(|t| states.contains(&t.state));
            if has(&[
                TargetState::Scheduled,
                TargetState::WaitingRetry,
                TargetState::Publishing,
            ]) {
                data.lists.upcoming.push(i);
            }
            if post.schedule == Schedule::None
                && post.summary_state() != Some(TargetState::Cancelled)
            {
                data.lists.drafts.push(i);
            }
            if has(&[TargetState::Failed, TargetState::Missed]) {
                data.lists.failed.push(i);
            }
            if has(&[TargetState::Uncertain]) {
                data.lists.uncertain.push(i);
            }
            match (&post.schedule, post.due) {
                (_, None) => {}
                (Schedule::Every { rule }, Some(_)) => {
                    let pending = has(&[
                        TargetState::Scheduled,
                        TargetState::WaitingRetry,
                        TargetState::Publishing,
                    ]);
                    if let (true, Ok(rule)) = (pending, rule.parse::<WeeklyRule>()) {
                        let post_tz = post.tz.parse().unwrap_or(tz);
                        data.recurring.push((i, rule, post_tz));
                    }
                }
                (_, Some(due)) => {
                    if shown_in_calendar(post) {
                        let day = due.with_timezone(&tz).date_naive();
                        data.by_day.entry(day).or_default().push(i);
                    }
                }
            }
        }
        // Posts arrive by due time, so each day is already in order.
        data.totals = Totals {
            upcoming: data.lists.upcoming.len(),
            drafts: data.lists.drafts.len(),
            failed: data.lists.failed.len(),
            uncertain: data.lists.uncertain.len(),
        };
        data
    }

    /// Indexes what a load read for `slice` (`posts` holds each post once: the window's,
    /// the recurring ones, the lists' and the activity log's) for display in `tz`.
    pub fn sliced(
        posts: Vec<Post>,
        accounts: Vec<Account>,
        short: HashMap<String, String>,
        tz: Tz,
        slice: Slice,
    ) -> Data {
        let mut data = Data {
            posts,
            accounts,
            short,
            per_account: slice.per_account,
            totals: slice.totals,
            window: Some(slice.window),
            ..Data::default()
        };
        for (i, post) in data.posts.iter().enumerate() {
            data.by_id.insert(post.id.clone(), i);
            for (j, target) in post.targets.iter().enumerate() {
                data.targets.insert(target.id.clone(), (i, j));
            }
            match (&post.schedule, post.due) {
                (_, None) => {}
                (Schedule::Every { rule }, Some(_)) => {
                    let pending = post.targets.iter().any(|t| {
                        matches!(
                            t.state,
                            TargetState::Scheduled
                                | TargetState::WaitingRetry
                                | TargetState::Publishing
                        )
                    });
                    if let (true, Ok(rule)) = (pending, rule.parse::<WeeklyRule>()) {
                        let post_tz = post.tz.parse().unwrap_or(tz);
                        data.recurring.push((i, rule, post_tz));
                    }
                }
                (_, Some(due)) => {
                    let day = due.with_timezone(&tz).date_naive();
                    // Outside the window, a day holds only the posts read for other
                    // reasons: leave it out rather than show it half.
                    if slice.window.contains(day) && shown_in_calendar(post) {
                        data.by_day.entry(day).or_default().push(i);
                    }
                }
            }
        }
        for posts in data.by_day.values_mut() {
            posts.sort_by_key(|&i| data.posts[i].due);
        }
        let positions = |ids: &[String]| -> Vec<usize> {
            ids.iter()
                .filter_map(|id| data.by_id.get(id).copied())
                .collect()
        };
        data.lists = Lists {
            upcoming: positions(&slice.lists.upcoming),
            drafts: positions(&slice.lists.drafts),
            failed: positions(&slice.lists.failed),
            uncertain: positions(&slice.lists.uncertain),
        };
        data
    }

    /// Whether the calendar, to show the days of `wanted`, needs another read: it holds
    /// only the days of another window. (A load of every post has every day.)
    pub fn lacks(&self, wanted: &Window) -> bool {
        self.window.is_some_and(|window| window != *wanted)
    }

    /// Adds posts read for the activity log (those it names that are not here yet).
    pub fn remember(&mut self, posts: Vec<Post>, short: HashMap<String, String>) {
        for post in posts {
            if self.by_id.contains_key(&post.id) {
                continue;
            }
            let i = self.posts.len();
            self.by_id.insert(post.id.clone(), i);
            for (j, target) in post.targets.iter().enumerate() {
                self.targets.insert(target.id.clone(), (i, j));
            }
            self.posts.push(post);
        }
        self.short.extend(short);
    }

    pub fn post(&self, id: &str) -> Option<&Post> {
        self.by_id.get(id).map(|&i| &self.posts[i])
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn short_id<'a>(&'a self, id: &'a str) -> &'a str {
        self.short
            .get(id)
            .map(String::as_str)
            .unwrap_or_else(|| id.get(..8).unwrap_or(id))
    }

    /// The post and account of a target, for describing the oplog.
    pub fn target(&self, target_id: &str) -> Option<(&Post, &str)> {
        let &(p, t) = self.targets.get(target_id)?;
        let post = &self.posts[p];
        Some((post, post.targets[t].account.as_str()))
    }

    /// The account id of an account name.
    pub fn account_id(&self, name: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id.as_str())
    }

    /// The posts of local `day` in time order, recurring ones expanded to their
    /// occurrences that day.
    pub fn entries_on(&self, day: NaiveDate, tz: Tz) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self
            .by_day
            .get(&day)
            .map(|posts| {
                posts
                    .iter()
                    .filter_map(|&post| {
                        Some(Entry {
                            post,
                            at: self.posts[post].due?,
                            recurring: false,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !self.recurring.is_empty() {
            let from = start_of_day(day, tz);
            let to = start_of_day(day + Duration::days(1), tz);
            for (post, rule, post_tz) in &self.recurring {
                let Some(next) = self.posts[*post].due else {
                    continue;
                };
                let start = from.max(next);
                if start < to {
                    entries.extend(rule.occurrences(start, to, *post_tz).into_iter().map(|at| {
                        Entry {
                            post: *post,
                            at,
                            recurring: true,
                        }
                    }));
                }
            }
            entries.sort_by_key(|e| e.at);
        }
        entries
    }
}

/// A calendar shows what is or was going out: not drafts, not posts whose every target
/// was cancelled.
fn shown_in_calendar(post: &Post) -> bool {
    !matches!(
        post.summary_state(),
        None | Some(TargetState::Draft) | Some(TargetState::Cancelled)
    )
}

/// The first instant of a local day (midnight, or the end of a gap at midnight).
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    (0..4)
        .find_map(|h| {
            resolve_local(midnight + Duration::hours(h), tz, Disambiguation::Earlier).ok()
        })
        .unwrap_or_else(|| midnight.and_utc())
}
