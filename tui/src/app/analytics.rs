//! The analytics view's data: one account's figures, followers over time, engagement per
//! post, the best times (the weekday × hour grid and its judged slots, from
//! `postctl_core::analytics::insights`, as `postctl insights` reads them) and top posts,
//! reduced from the store's readings by [`summarize`] (pure), and one post's counters
//! curve ([`PostCurve`]).
//!
//! Only what the view shows is read: one account at a time, its posts of the last
//! [`SPAN_DAYS`] days, and the curves of the one post opened.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use postctl_core::analytics::insights::{BestTimes, Measure, SETTLED_AFTER, Sample, best_times};
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
    /// Engagement per post by weekday and hour of publishing (posts at least
    /// [`SETTLED_AFTER`] old), and the slots judged best, or why none is yet.
    pub best: BestTimes,
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
/// posts of the span (the store's order: newest first); `short` gives each post's short id;
/// best times are read in `tz` from posts settled by `now`.
#[allow(clippy::too_many_arguments)]
pub fn summarize(
    account: &str,
    network: Network,
    figures: Option<AccountFigures>,
    daily: &[Reading],
    targets: &[TargetMetrics],
    short: &dyn Fn(&str) -> String,
    tz: Tz,
    now: DateTime<Utc>,
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
    let samples: Vec<Sample> = counted
        .iter()
        .filter(|(t, _)| t.published <= now - SETTLED_AFTER)
        .map(|(t, c)| Sample {
            published: t.published,
            value: engagement(c) as f64,
        })
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
        best: best_times(&samples, tz, Measure::Engagement),
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
pub fn post_curve(
    post_id: &str,
    short: String,
    rows: Vec<(TargetMetrics, Vec<Reading>)>,
) -> PostCurve {
    let title = rows
        .first()
        .map(|(t, _)| t.title.clone())
        .unwrap_or_default();
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

    fn counters(pairs: &[(&str, u64)]) -> Counters {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    fn target(post: &str, published: &str, read: Option<Counters>) -> TargetMetrics {
        TargetMetrics {
            target_id: format!("t-{post}"),
            post_id: post.into(),
            title: format!("post {post}"),
            account: "masto".into(),
            network: Network::Mastodon,
            url: None,
            published: at(published),
            last_read: read.as_ref().map(|_| at("2026-12-05T12:00:00Z")),
            counters: read,
            deleted: None,
            not_provided: None,
        }
    }

    #[test]
    fn a_summary_keeps_counted_posts_only_and_never_invents_a_zero() {
        let now = at("2026-12-06T12:00:00Z");
        let mut gone = target(
            "d",
            "2026-12-01T09:00:00Z",
            Some(counters(&[("likes", 99)])),
        );
        gone.deleted = Some(at("2026-12-02T00:00:00Z"));
        // Newest first, as the store gives them.
        let targets = vec![
            target("c", "2026-12-06T08:00:00Z", Some(counters(&[("likes", 1)]))),
            target("b", "2026-12-03T10:00:00Z", None),
            gone,
            target(
                "a",
                "2026-11-30T09:00:00Z",
                Some(counters(&[("likes", 5), ("views", 100)])),
            ),
        ];
        let daily = vec![
            (at("2026-12-04T23:00:00Z"), counters(&[("followers", 40)])),
            (at("2026-12-05T23:00:00Z"), counters(&[("followers", 44)])),
        ];
        let tz: Tz = "Europe/Berlin".parse().expect("zone");
        let short = |id: &str| format!("{id}-short");
        let s = summarize(
            "masto",
            Network::Mastodon,
            None,
            &daily,
            &targets,
            &short,
            tz,
            now,
        );
        assert_eq!(s.audience, "followers");
        assert_eq!(
            s.audience_curve.iter().map(|p| p.1).collect::<Vec<_>>(),
            [40, 44]
        );
        assert_eq!((s.published, s.counted), (4, 2));
        let ids = |posts: &[PostValue]| posts.iter().map(|p| p.post_id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&s.chart),
            ["a", "c"],
            "oldest first, deleted and unread left out"
        );
        assert_eq!(ids(&s.top), ["a", "c"]);
        assert_eq!(s.top[0].engagement, 5, "views are no engagement");
        assert_eq!(s.top[0].short, "a-short");
        assert_eq!(s.reported, ["likes", "views"]);
        assert_eq!(s.last_collected, Some(at("2026-12-05T12:00:00Z")));
        // Only the post older than 48 hours is in the grid: Monday 10:00 in Berlin.
        assert_eq!(s.best.posts, 1);
        let monday_ten = s.best.grid.cells[0][10];
        assert_eq!((monday_ten.value, monday_ten.posts), (Some(5.0), 1));
        assert!(
            s.best.not_enough.is_some(),
            "one post is not enough to judge"
        );

        let empty = summarize("tg", Network::Telegram, None, &[], &[], &short, tz, now);
        assert_eq!(empty.audience, "members");
        assert!(empty.chart.is_empty() && empty.top.is_empty());
        assert_eq!(empty.last_collected, None);
        assert!(empty.never.is_some_and(|n| n.contains("no view counter")));
    }
}
