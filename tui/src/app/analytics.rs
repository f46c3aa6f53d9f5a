//! The analytics view's data: one account's figures, followers over time, engagement per
//! post, the best-time grid and top posts, reduced from the store's readings by
//! [`summarize`] (pure), and one post's counters curve ([`PostCurve`]).
//!
//! Only what the view shows is read: one account at a time, its posts of the last
//! [`SPAN_DAYS`] days, and the curves of the one post opened.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use chrono_tz::Tz;
use postctl_core::analytics::{engagement, never_given};
use postctl_core::network::Network;
use postctl_core::platforms::Counters;
use postctl_core::store::{AccountFigures, Reading, TargetMetrics};

/// How far back the view looks at an account's posts.
pub const SPAN_DAYS: i64 = 90;
/// Posts in the engagement chart (the newest).
pub const CHART_POSTS: usize = 24;
/// Top posts listed.
pub const TOP_POSTS: usize = 10;

/// Mean engagement per weekday (Monday first) and hour, in the display zone.
pub type Grid = [[Option<Slot>; 24]; 7];

/// The posts published in one weekday-and-hour slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub posts: u64,
    pub engagement: u64,
}

impl Slot {
    pub fn mean(self) -> u64 {
        self.engagement / self.posts.max(1)
    }
}

/// Adds each counted post's engagement to the slot it was published in (`tz`'s weekday
/// and hour). Posts never counted are left out: an empty slot is "no data", never zero.
pub fn best_time_grid(posts: &[(DateTime<Utc>, u64)], tz: Tz) -> Grid {
    let mut grid: Grid = [[None; 24]; 7];
    for (at, value) in posts {
        let local = at.with_timezone(&tz);
        let day = local.weekday().num_days_from_monday() as usize;
        let hour = local.hour() as usize;
        let slot = grid[day][hour].get_or_insert(Slot {
            posts: 0,
            engagement: 0,
        });
        slot.posts += 1;
        slot.engagement += value;
    }
    grid
}

/// The slot with the highest mean engagement (ties: the one with more posts, then the
/// earliest in the week).
pub fn best_slot(grid: &Grid) -> Option<(usize, usize, Slot)> {
    let mut best: Option<(usize, usize, Slot)> = None;
    for (day, hours) in grid.iter().enumerate() {
        for (hour, slot) in hours.iter().enumerate() {
            let Some(slot) = slot else { continue };
            let better = match best {
                None => true,
                Some((_, _, b)) => (slot.mean(), slot.posts) > (b.mean(), b.posts),
            };
            if better {
                best = Some((day, hour, *slot));
            }
        }
    }
    best
}

/// One post in the engagement chart or the top list.
#[derive(Debug, Clone, PartialEq)]
pub struct PostValue {
    pub post_id: String,
    pub short: String,
    pub title: String,
    pub published: DateTime<Utc>,
    pub engagement: u64,
}

/// What the analytics view shows for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub account: String,
    pub network: Network,
    /// "followers" or "members", whichever the network counts.
    pub audience: &'static str,
    /// The account's figures as last read, and why the network gives none.
    pub figures: Option<AccountFigures>,
    /// The audience, one point a day, oldest first.
    pub audience_curve: Vec<(DateTime<Utc>, u64)>,
    /// Counted posts, oldest first (at most [`CHART_POSTS`], the newest).
    pub chart: Vec<PostValue>,
    /// The most engaging counted posts, best first.
    pub top: Vec<PostValue>,
    pub grid: Grid,
    /// Posts published in the span, and how many of them have counters.
    pub published: usize,
    pub counted: usize,
    /// The counters the network reported for these posts.
    pub reported: Vec<String>,
    /// When posts were last read.
    pub last_collected: Option<DateTime<Utc>>,
    /// Why the network gives no post counters for the account, when it does not.
    pub posts_not_provided: Option<String>,
    /// What the network never gives.
    pub never: Option<&'static str>,
}

/// Reduces one account's readings to what the view draws. `targets` are its published
/// posts of the span (the store's order: newest first); `short` gives each post's short id.
#[allow(clippy::too_many_arguments)]
pub fn summarize(
    account: &str,
    network: Network,
    figures: Option<AccountFigures>,
    daily: &[Reading],
    targets: &[TargetMetrics],
    short: &dyn Fn(&str) -> String,
    tz: Tz,
) -> Summary {
    let audience = if daily.iter().any(|(_, c)| c.contains_key("followers"))
        || figures
            .as_ref()
            .and_then(|f| f.counters.as_ref())
            .is_some_and(|c| c.contains_key("followers"))
    {
        "followers"
    } else {
        "members"
    };
    let audience_curve = daily
        .iter()
        .filter_map(|(at, c)| c.get(audience).map(|n| (*at, *n)))
        .collect();
    let counted: Vec<(&TargetMetrics, &Counters)> = targets
        .iter()
        .filter(|t| t.deleted.is_none())
        .filter_map(|t| t.counters.as_ref().map(|c| (t, c)))
        .collect();
    let value = |(t, c): &(&TargetMetrics, &Counters)| PostValue {
        post_id: t.post_id.clone(),
        short: short(&t.post_id),
        title: t.title.clone(),
        published: t.published,
        engagement: engagement(c),
    };
    let mut chart: Vec<PostValue> = counted.iter().take(CHART_POSTS).map(value).collect();
    chart.reverse();
    let mut top: Vec<PostValue> = counted.iter().map(value).collect();
    // Stable: among equals the newer post stays first.
    top.sort_by_key(|p| std::cmp::Reverse(p.engagement));
    top.truncate(TOP_POSTS);
    let points: Vec<(DateTime<Utc>, u64)> = counted
        .iter()
        .map(|(t, c)| (t.published, engagement(c)))
        .collect();
    let mut reported: Vec<String> = counted
        .iter()
        .flat_map(|(_, c)| c.keys().cloned())
        .collect();
    reported.sort();
    reported.dedup();
    Summary {
        account: account.to_string(),
        network,
        audience,
        figures,
        audience_curve,
        chart,
        top,
        grid: best_time_grid(&points, tz),
        published: targets.len(),
        counted: counted.len(),
        reported,
        last_collected: targets.iter().filter_map(|t| t.last_read).max(),
        posts_not_provided: targets.iter().find_map(|t| t.not_provided.clone()),
        never: never_given(network),
    }
}

/// Where the view looks from: `now` less [`SPAN_DAYS`].
pub fn span_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(SPAN_DAYS)
}

/// One post's counters on one account and their curve.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCurve {
    pub account: String,
    pub network: Network,
    pub counters: Option<Counters>,
    pub last_read: Option<DateTime<Utc>>,
    pub deleted: Option<DateTime<Utc>>,
    pub not_provided: Option<String>,
    /// Engagement at each reading, oldest first.
    pub points: Vec<(DateTime<Utc>, u64)>,
    pub never: Option<&'static str>,
}

/// A post's counters curve on every account it went to.
#[derive(Debug, Clone, PartialEq)]
pub struct PostCurve {
    pub post_id: String,
    pub short: String,
    pub title: String,
    pub targets: Vec<TargetCurve>,
}

/// Builds a post's curve from the store's rows for it and each row's readings.
pub fn post_curve(post_id: &str, short: String, rows: Vec<(TargetMetrics, Vec<Reading>)>) -> PostCurve {
    let title = rows.first().map(|(t, _)| t.title.clone()).unwrap_or_default();
    PostCurve {
        post_id: post_id.to_string(),
        short,
        title,
        targets: rows
            .into_iter()
            .map(|(t, readings)| TargetCurve {
                never: never_given(t.network),
                account: t.account,
                network: t.network,
                counters: t.counters,
                last_read: t.last_read,
                deleted: t.deleted,
                not_provided: t.not_provided,
                points: readings
                    .iter()
                    .map(|(at, c)| (*at, engagement(c)))
                    .collect(),
            })
            .collect(),
    }
}

/// The analytics view: which account, the top-post cursor, what was loaded, and the post
/// opened from the top list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalyticsState {
    /// Index into the dashboard's accounts.
    pub account: usize,
    pub cursor: usize,
    /// `None` until loaded; an error is shown as it is.
    pub summary: Option<Result<Summary, String>>,
    pub opened: Option<PostCurve>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("time")
    }

    #[test]
    fn the_grid_averages_engagement_by_local_weekday_and_hour() {
        let tz: Tz = "Europe/Paris".parse().expect("zone");
        // Monday 2026-11-30 08:30 UTC is 09:30 in Paris.
        let posts = [
            (at("2026-11-30T08:30:00Z"), 10),
            (at("2026-11-30T08:59:00Z"), 20),
            (at("2026-12-06T22:10:00Z"), 4), // Sunday 23:10 in Paris
        ];
        let grid = best_time_grid(&posts, tz);
        assert_eq!(
            grid[0][9],
            Some(Slot {
                posts: 2,
                engagement: 30
            })
        );
        assert_eq!(grid[0][9].map(Slot::mean), Some(15));
        assert_eq!(grid[6][23].map(Slot::mean), Some(4));
        let filled = grid.iter().flatten().filter(|s| s.is_some()).count();
        assert_eq!(filled, 2, "an hour without posts stays empty, not zero");
        assert_eq!(best_slot(&grid).map(|(d, h, _)| (d, h)), Some((0, 9)));
        assert_eq!(best_slot(&best_time_grid(&[], tz)), None);
    }

    #[test]
    fn ties_go_to_the_slot_with_more_posts_then_the_earlier_one() {
        let tz: Tz = "UTC".parse().expect("zone");
        let posts = [
            (at("2026-12-01T10:00:00Z"), 6), // Tue 10
            (at("2026-11-30T12:00:00Z"), 6), // Mon 12
            (at("2026-12-02T09:00:00Z"), 6), // Wed 9, twice
            (at("2026-12-02T09:30:00Z"), 6),
        ];
        assert_eq!(
            best_slot(&best_time_grid(&posts, tz)).map(|(d, h, _)| (d, h)),
            Some((2, 9))
        );
        assert_eq!(
            best_slot(&best_time_grid(&posts[..2], tz)).map(|(d, h, _)| (d, h)),
            Some((0, 12))
        );
    }
}
