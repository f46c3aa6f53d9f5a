//! What the dashboard shows, as loaded from the store, with the indexes the views need
//! (posts by local day, the queue's lists, targets by id). Built once per load, so a
//! redraw never walks every post.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use postctl_core::model::{Account, Post, Schedule, TargetState};
use postctl_core::time::{Disambiguation, WeeklyRule, resolve_local};

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
        data
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
