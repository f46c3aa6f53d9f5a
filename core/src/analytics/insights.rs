//! Insights (issue 11): what an account's own history says. The best weekday-and-hour
//! slots to post, its top posts, the growth of its followers, the posts that did far better
//! or worse than usual, and the trend against the previous period of equal length.
//!
//! Pure functions over plain data, tested with tables of cases. The store fills the input
//! ([`crate::store::Store::account_histories`]: one query for the posts, one for the
//! accounts' daily figures); `postctl insights`, `postctl queue slots suggest`, the MCP
//! `insights` tool, the report and the dashboard read the answers.
//!
//! What is compared, and how sure an answer is:
//! - A post's **engagement** is its latest reading ([`super::engagement`]). Only posts
//!   published at least [`SETTLED_AFTER`] ago are compared (slots, outliers, trend): a
//!   younger post is still growing, and would look worse than it will be.
//! - The **measure** of a post is its engagement rate (engagement per 100 followers or
//!   members at the time it was published, [`Measure::Rate`]) when the account's audience
//!   is known and above zero for every compared post, else its engagement
//!   ([`Measure::Engagement`]): a rate over zero followers means nothing.
//! - **Best times**: posts are grouped by weekday and hour in the account's zone
//!   ([`SlotGrid`]). A slot is judged only with [`MIN_POSTS_PER_SLOT`] posts, and any slot
//!   only once the account has [`MIN_POSTS_FOR_TIMES`] compared posts; before that the
//!   answer is "not enough data yet", never a guess. How sure a slot is comes from how far
//!   its mean is above the mean of the account's other posts, in standard errors of that
//!   difference (Welch's: each group's variance over its number of posts):
//!   [`SURE_SCORE`] or more is "fairly sure", [`HINT_SCORE`] or more "a hint", less "no
//!   clear difference". Values beyond the outlier threshold
//!   below are first held at it ([`capped`]), so one viral post neither makes its hour
//!   the best nor hides every other difference.
//! - **Outliers** use the modified z-score of Iglewicz and Hoaglin: 0.6745 × (x − median)
//!   / MAD (the median absolute deviation), beyond [`OUTLIER_SCORE`] (3.5). It is robust:
//!   one viral post does not move the median or the MAD as it would move a mean and a
//!   standard deviation. When more than half the posts share the median (MAD = 0), the mean
//!   absolute deviation × 1.2533 stands in for it; when every post has the same engagement,
//!   none is an outlier. Judged from [`MIN_POSTS_FOR_OUTLIERS`] posts.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

use crate::network::Network;
use crate::platforms::Counters;

/// A post is compared with others once it is this old: engagement comes mostly in the
/// first two days (the collection schedule reads hourly until then).
pub const SETTLED_AFTER: Duration = Duration::hours(48);
/// Best times are looked for in this much history before now, whatever the period.
pub const SLOT_HISTORY: Duration = Duration::days(365);
/// An account needs this many compared posts before any slot is judged.
pub const MIN_POSTS_FOR_TIMES: usize = 10;
/// A weekday-and-hour slot needs this many compared posts to be judged.
pub const MIN_POSTS_PER_SLOT: usize = 3;
/// A slot this many standard errors above the account's other posts is "fairly sure"
/// (about 97.5% one-sided, were engagement normal).
pub const SURE_SCORE: f64 = 2.0;
/// A slot this many standard errors above the other posts is "a hint".
pub const HINT_SCORE: f64 = 1.0;
/// Outliers are judged from this many compared posts.
pub const MIN_POSTS_FOR_OUTLIERS: usize = 5;
/// A post whose modified z-score is beyond this is far above or below the median
/// (Iglewicz and Hoaglin's threshold).
pub const OUTLIER_SCORE: f64 = 3.5;
/// A change of the mean engagement per post smaller than this (in percent) is "flat".
pub const FLAT_PERCENT: f64 = 5.0;

/// A span of time, `from` included, `to` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// The `span` that ends at `now`.
    pub fn ending(now: DateTime<Utc>, span: Duration) -> Period {
        Period {
            from: super::since(now, span),
            to: now,
        }
    }

    /// The period of equal length just before this one.
    pub fn previous(&self) -> Period {
        Period {
            from: super::since(self.from, self.to - self.from),
            to: self.from,
        }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// One published post on one account as insights read it: its latest counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostEngagement {
    #[serde(skip)]
    pub target_id: String,
    pub post_id: String,
    pub account: String,
    pub network: Network,
    /// The post's title, else the first line of its text.
    pub title: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
    pub counters: Counters,
    /// [`super::engagement`] of `counters`.
    pub engagement: u64,
    pub last_read: DateTime<Utc>,
}

/// An account's audience over time: followers (or members, for a chat or a room), one
/// point a day, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Audience {
    /// "followers" or "members".
    pub counter: &'static str,
    pub points: Vec<(DateTime<Utc>, u64)>,
}

impl Audience {
    /// The audience from an account's daily figures: followers where the network counts
    /// them, else members; days without that counter are left out.
    pub fn from_readings(readings: &[crate::store::Reading]) -> Audience {
        let counter = if readings.iter().any(|(_, c)| c.contains_key("followers")) {
            "followers"
        } else {
            "members"
        };
        let mut points: Vec<(DateTime<Utc>, u64)> = readings
            .iter()
            .filter_map(|(at, c)| c.get(counter).map(|n| (*at, *n)))
            .collect();
        points.sort_by_key(|(at, _)| *at);
        Audience { counter, points }
    }

    /// The audience when a post went out: the last reading at or before `at`, else the
    /// first one after (collection may have started after the post).
    pub fn at(&self, at: DateTime<Utc>) -> Option<u64> {
        let after = self.points.partition_point(|(when, _)| *when <= at);
        if after > 0 {
            Some(self.points[after - 1].1)
        } else {
            self.points.first().map(|(_, n)| *n)
        }
    }
}

/// What a slot's value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Engagement per 100 followers (or members) at the time of posting, in percent.
    Rate,
    /// Engagement per post (the audience is unknown or zero).
    Engagement,
}

impl Measure {
    /// "engagement per 100 followers", "engagement per post".
    pub fn describe(self, audience: &str) -> String {
        match self {
            Measure::Rate => format!("engagement per 100 {audience}"),
            Measure::Engagement => "engagement per post".into(),
        }
    }
}

/// A compared post: when it went out, and its measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub published: DateTime<Utc>,
    pub value: f64,
}

/// The posts compared (published at least [`SETTLED_AFTER`] before `now`), as samples of
/// one measure: the rate when every one of them has an audience above zero, else the
/// engagement.
pub fn samples(
    posts: &[&PostEngagement],
    audience: &Audience,
    now: DateTime<Utc>,
) -> (Measure, Vec<Sample>) {
    let settled: Vec<&PostEngagement> = posts
        .iter()
        .copied()
        .filter(|p| is_settled(p, now))
        .collect();
    let audiences: Vec<Option<u64>> = settled.iter().map(|p| audience.at(p.published)).collect();
    let rate = !settled.is_empty() && audiences.iter().all(|a| a.is_some_and(|n| n > 0));
    let measure = if rate {
        Measure::Rate
    } else {
        Measure::Engagement
    };
    let samples = settled
        .iter()
        .zip(audiences)
        .map(|(p, audience)| Sample {
            published: p.published,
            value: match (measure, audience) {
                (Measure::Rate, Some(n)) => p.engagement as f64 * 100.0 / n as f64,
                _ => p.engagement as f64,
            },
        })
        .collect();
    (measure, samples)
}

/// Whether a post is old enough to be compared.
pub fn is_settled(post: &PostEngagement, now: DateTime<Utc>) -> bool {
    post.published <= now - SETTLED_AFTER
}

/// One weekday-and-hour cell: the mean measure of the posts published then, and how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SlotCell {
    /// The mean; `None` when no post went out in this slot.
    pub value: Option<f64>,
    pub posts: usize,
}

/// A week of hours (7 × 24 cells, Monday 00:00 first) in one zone: what the best-time heat
/// maps of the report and the dashboard draw, and what best times are read from.
///
/// Serialized as `{"zone": "Europe/Berlin", "measure": "rate", "cells": [[cell; 24]; 7]}`,
/// `cells[0][9]` being Monday 09:00–09:59, each cell `{"value": 1.5 | null, "posts": 3}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotGrid {
    /// The zone whose weekdays and hours these are (an IANA name).
    pub zone: String,
    pub measure: Measure,
    pub cells: [[SlotCell; 24]; 7],
}

impl SlotGrid {
    /// The grid of `samples` in `tz`: each cell the mean of the samples published in its
    /// hour of its weekday there.
    pub fn from_samples(samples: &[Sample], tz: Tz, measure: Measure) -> SlotGrid {
        let mut sums = [[(0.0_f64, 0_usize); 24]; 7];
        for sample in samples {
            let local = sample.published.with_timezone(&tz);
            let cell =
                &mut sums[local.weekday().num_days_from_monday() as usize][local.hour() as usize];
            cell.0 += sample.value;
            cell.1 += 1;
        }
        let cells = sums.map(|day| {
            day.map(|(sum, posts)| SlotCell {
                value: (posts > 0).then(|| sum / posts as f64),
                posts,
            })
        });
        SlotGrid {
            zone: tz.name().to_string(),
            measure,
            cells,
        }
    }

    /// The cell of `day` at `hour` (0–23; a later hour reads as empty).
    pub fn cell(&self, day: Weekday, hour: u32) -> SlotCell {
        self.cells[day.num_days_from_monday() as usize]
            .get(hour as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The highest mean of any cell (the top of a heat map's scale).
    pub fn highest(&self) -> Option<f64> {
        self.cells
            .iter()
            .flatten()
            .filter_map(|c| c.value)
            .max_by(f64::total_cmp)
    }

    /// How many posts the grid holds.
    pub fn posts(&self) -> usize {
        self.cells.iter().flatten().map(|c| c.posts).sum()
    }
}

/// How sure a slot's lead is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Within one standard error of the account's other posts, or below them.
    NoClearDifference,
    /// [`HINT_SCORE`] to [`SURE_SCORE`] standard errors above them.
    Hint,
    /// [`SURE_SCORE`] standard errors or more above them.
    FairlySure,
}

impl Certainty {
    fn of(score: f64) -> Certainty {
        if score >= SURE_SCORE {
            Certainty::FairlySure
        } else if score >= HINT_SCORE {
            Certainty::Hint
        } else {
            Certainty::NoClearDifference
        }
    }

    /// In words, for people.
    pub fn says(self) -> &'static str {
        match self {
            Certainty::FairlySure => "fairly sure",
            Certainty::Hint => "a hint, not yet sure",
            Certainty::NoClearDifference => "no clear difference",
        }
    }
}

/// A judged weekday-and-hour slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestSlot {
    #[serde(serialize_with = "weekday_name")]
    pub weekday: Weekday,
    /// The hour in the grid's zone, 0–23.
    pub hour: u32,
    /// The mean measure of the slot's posts.
    pub value: f64,
    pub posts: usize,
    /// The slot's mean over the mean of the account's other posts (1.5: half as much
    /// again); `None` when that is zero or there are no other posts.
    pub lift: Option<f64>,
    /// Standard errors (Welch's) above the mean of the other posts (below: negative),
    /// within ±[`MOST_SCORE`].
    pub score: f64,
    pub certainty: Certainty,
}

impl BestSlot {
    /// "Tue 09:00".
    pub fn label(&self) -> String {
        format!("{} {:02}:00", self.weekday, self.hour)
    }
}

fn weekday_name<S: Serializer>(day: &Weekday, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&day.to_string().to_lowercase())
}

/// The best times of an account, or why there are none yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestTimes {
    pub grid: SlotGrid,
    /// How many posts were compared.
    pub posts: usize,
    /// The account's mean measure over those posts.
    pub baseline: Option<f64>,
    /// Every slot with [`MIN_POSTS_PER_SLOT`] posts, best first (ties: more posts, then
    /// earlier in the week); empty when there is not enough data.
    pub slots: Vec<BestSlot>,
    /// Why no slot is judged yet: "not enough data yet", with what is missing.
    pub not_enough: Option<String>,
}

impl BestTimes {
    /// The slots worth posting at: above the account's other posts and at least a hint, best
    /// first, at most `count`.
    pub fn suggestions(&self, count: usize) -> Vec<&BestSlot> {
        self.slots
            .iter()
            .filter(|s| s.certainty >= Certainty::Hint && s.lift.is_some_and(|l| l > 1.0))
            .take(count)
            .collect()
    }

    /// One plain sentence on how sure the answer is.
    pub fn statement(&self) -> String {
        if let Some(why) = &self.not_enough {
            return format!("not enough data yet: {why}");
        }
        let sure = self
            .slots
            .iter()
            .filter(|s| s.certainty == Certainty::FairlySure)
            .count();
        let hints = self
            .slots
            .iter()
            .filter(|s| s.certainty == Certainty::Hint)
            .count();
        let judged = self.slots.len();
        match (sure, hints) {
            (0, 0) => format!(
                "no slot does clearly better than the others yet ({judged} slots with {MIN_POSTS_PER_SLOT}+ posts, from {} posts)",
                self.posts
            ),
            (0, h) => format!(
                "{h} slot{} look{} better, but not surely yet (from {} posts); post more at varied times",
                plural(h),
                if h == 1 { "s" } else { "" },
                self.posts
            ),
            (s, _) => format!(
                "fairly sure of {s} slot{} (from {} posts)",
                plural(s),
                self.posts
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample standard deviation (n − 1); zero for fewer than two values.
fn deviation(values: &[f64]) -> f64 {
    let Some(m) = mean(values) else { return 0.0 };
    if values.len() < 2 {
        return 0.0;
    }
    let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    (squares / (values.len() - 1) as f64).sqrt()
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// The median of `values` and the robust standard deviation around it: the median
/// absolute deviation over 0.6745, or, when that is zero, the mean absolute deviation ×
/// 1.2533. `None` for no values, or when all are equal.
fn robust_spread(values: &[f64]) -> Option<(f64, f64)> {
    let middle = median(values)?;
    let distances: Vec<f64> = values.iter().map(|v| (v - middle).abs()).collect();
    let mad = median(&distances).unwrap_or(0.0);
    let scale = if mad > 0.0 {
        mad / 0.6745
    } else {
        1.253314 * mean(&distances).unwrap_or(0.0)
    };
    (scale > 0.0).then_some((middle, scale))
}

/// `samples` with each value held within [`OUTLIER_SCORE`] robust standard deviations of
/// the median: a viral post counts as much as the most a usual post could, so one post
/// neither makes its hour the best nor hides every other difference.
pub fn capped(samples: &[Sample]) -> Vec<Sample> {
    let values: Vec<f64> = samples.iter().map(|s| s.value).collect();
    let Some((middle, scale)) = robust_spread(&values) else {
        return samples.to_vec();
    };
    let (low, high) = (
        middle - OUTLIER_SCORE * scale,
        middle + OUTLIER_SCORE * scale,
    );
    samples
        .iter()
        .map(|s| Sample {
            published: s.published,
            value: s.value.clamp(low, high),
        })
        .collect()
}

/// The highest score said: beyond it, the difference is as sure as can be.
pub const MOST_SCORE: f64 = 99.0;

/// How many standard errors a difference is, within ±[`MOST_SCORE`]; a difference
/// without any spread (every post alike in the slot, and every other post alike) is as
/// sure as can be, unless there is none.
fn welch_score(difference: f64, error: f64) -> f64 {
    let score = if error > 1e-9 {
        difference / error
    } else if difference.abs() > 1e-9 {
        MOST_SCORE.copysign(difference)
    } else {
        0.0
    };
    score.clamp(-MOST_SCORE, MOST_SCORE)
}

/// The best weekday-and-hour slots of `samples` in `tz` (see the module's documentation
/// for the rules), or "not enough data yet". Values far from the median are capped first
/// ([`capped`]); the grid holds the capped values.
pub fn best_times(samples: &[Sample], tz: Tz, measure: Measure) -> BestTimes {
    let samples = &capped(samples)[..];
    let grid = SlotGrid::from_samples(samples, tz, measure);
    let values: Vec<f64> = samples.iter().map(|s| s.value).collect();
    let baseline = mean(&values);
    let mut times = BestTimes {
        grid,
        posts: samples.len(),
        baseline,
        slots: Vec::new(),
        not_enough: None,
    };
    if samples.len() < MIN_POSTS_FOR_TIMES {
        times.not_enough = Some(format!(
            "{} post{} old enough to compare; best times need {MIN_POSTS_FOR_TIMES}, with {MIN_POSTS_PER_SLOT} in the same weekday and hour",
            samples.len(),
            plural(samples.len())
        ));
        return times;
    }
    let mut by_slot: Vec<Vec<f64>> = vec![Vec::new(); 7 * 24];
    for sample in samples {
        let local = sample.published.with_timezone(&tz);
        by_slot[local.weekday().num_days_from_monday() as usize * 24 + local.hour() as usize]
            .push(sample.value);
    }
    let total: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|v| v * v).sum();
    let mut slots: Vec<BestSlot> = Vec::new();
    for (index, these) in by_slot.iter().enumerate() {
        if these.len() < MIN_POSTS_PER_SLOT {
            continue;
        }
        let n = these.len() as f64;
        let value = these.iter().sum::<f64>() / n;
        // The account's other posts, from the totals: one pass over the samples.
        let others = values.len() - these.len();
        let others_mean = (others > 0).then(|| (total - value * n) / others as f64);
        let score = match others_mean {
            Some(others_mean) => {
                let others_squares = squares - these.iter().map(|v| v * v).sum::<f64>();
                let others_variance = if others > 1 {
                    ((others_squares - others as f64 * others_mean * others_mean)
                        / (others - 1) as f64)
                        .max(0.0)
                } else {
                    0.0
                };
                let spread = deviation(these);
                let error = (spread * spread / n + others_variance / others as f64).sqrt();
                welch_score(value - others_mean, error)
            }
            None => 0.0,
        };
        slots.push(BestSlot {
            weekday: Weekday::try_from((index / 24) as u8).unwrap_or(Weekday::Mon),
            hour: (index % 24) as u32,
            value,
            posts: these.len(),
            lift: others_mean.filter(|m| *m > 0.0).map(|m| value / m),
            score,
            certainty: Certainty::of(score),
        });
    }
    if slots.is_empty() {
        let most = times
            .grid
            .cells
            .iter()
            .flatten()
            .map(|c| c.posts)
            .max()
            .unwrap_or(0);
        times.not_enough = Some(format!(
            "no weekday and hour has {MIN_POSTS_PER_SLOT} posts yet (the most in one is {most}, of {} posts); post at the same times more often",
            samples.len()
        ));
        return times;
    }
    slots.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then(b.posts.cmp(&a.posts))
            .then(
                a.weekday
                    .num_days_from_monday()
                    .cmp(&b.weekday.num_days_from_monday()),
            )
            .then(a.hour.cmp(&b.hour))
    });
    times.slots = slots;
    times
}

/// Queue rules for `slots` ("mon,thu 09:00; tue 13:00"): one rule per hour with its
/// days, earliest hour first, each slot's hour on the hour. Empty for no slots. Read by
/// [`crate::time::parse_weekly_rules`].
pub fn slot_rules(slots: &[&BestSlot]) -> String {
    let mut hours: Vec<u32> = slots.iter().map(|s| s.hour).collect();
    hours.sort_unstable();
    hours.dedup();
    hours
        .into_iter()
        .map(|hour| {
            let mut days: Vec<Weekday> = slots
                .iter()
                .filter(|s| s.hour == hour)
                .map(|s| s.weekday)
                .collect();
            days.sort_by_key(|d| d.num_days_from_monday());
            days.dedup();
            let days: Vec<String> = days.iter().map(|d| d.to_string().to_lowercase()).collect();
            format!("{} {hour:02}:00", days.join(","))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `count` posts of `period` with the most engagement; ties: the newer first.
pub fn top_posts(posts: &[&PostEngagement], period: Period, count: usize) -> Vec<PostEngagement> {
    let mut top: Vec<&PostEngagement> = posts
        .iter()
        .copied()
        .filter(|p| period.contains(p.published))
        .collect();
    top.sort_by(|a, b| {
        b.engagement
            .cmp(&a.engagement)
            .then(b.published.cmp(&a.published))
            .then(a.target_id.cmp(&b.target_id))
    });
    top.into_iter().take(count).cloned().collect()
}

/// How an account's audience changed over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    /// "followers" or "members".
    pub counter: &'static str,
    /// The reading the change starts from: the last at or before the period's start, else
    /// the first within it.
    pub start_at: DateTime<Utc>,
    pub start: u64,
    /// The last reading within the period.
    pub end_at: DateTime<Utc>,
    pub end: u64,
    pub change: i64,
    /// The change in percent of `start`; `None` when `start` is zero.
    pub percent: Option<f64>,
}

/// The growth of `audience` over `period`; `None` without a reading in it (or before it).
pub fn growth(audience: &Audience, period: Period) -> Option<Growth> {
    let within_end = audience.points.partition_point(|(at, _)| *at < period.to);
    let &(end_at, end) = audience.points[..within_end].last()?;
    let before = audience
        .points
        .partition_point(|(at, _)| *at <= period.from);
    let &(start_at, start) = if before > 0 {
        &audience.points[before - 1]
    } else {
        audience.points.first()?
    };
    let change = end as i64 - start as i64;
    Some(Growth {
        counter: audience.counter,
        start_at,
        start,
        end_at,
        end,
        change,
        percent: (start > 0).then(|| change as f64 * 100.0 / start as f64),
    })
}

/// Far above or far below the median.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Above,
    Below,
}

/// A post far from the account's median.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    pub post: PostEngagement,
    /// Its modified z-score: beyond ±[`OUTLIER_SCORE`].
    pub score: f64,
    pub direction: Direction,
}

/// The posts far from the account's median engagement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outliers {
    /// The median engagement of the posts compared.
    pub median: Option<f64>,
    /// How many posts were compared.
    pub posts: usize,
    /// Highest score first.
    pub above: Vec<Outlier>,
    /// Lowest score first.
    pub below: Vec<Outlier>,
    /// Why none are judged: too few posts.
    pub not_enough: Option<String>,
}

/// The posts far above or below the median engagement of `posts` (see the module's
/// documentation for the threshold).
pub fn outliers(posts: &[&PostEngagement]) -> Outliers {
    let values: Vec<f64> = posts.iter().map(|p| p.engagement as f64).collect();
    let middle = median(&values);
    let mut found = Outliers {
        median: middle,
        posts: posts.len(),
        above: Vec::new(),
        below: Vec::new(),
        not_enough: None,
    };
    if posts.len() < MIN_POSTS_FOR_OUTLIERS {
        found.not_enough = Some(format!(
            "{} post{} old enough to compare; outliers need {MIN_POSTS_FOR_OUTLIERS}",
            posts.len(),
            plural(posts.len())
        ));
        return found;
    }
    let Some((middle, scale)) = robust_spread(&values) else {
        return found;
    };
    for (post, value) in posts.iter().zip(&values) {
        let score = (value - middle) / scale;
        if score.abs() > OUTLIER_SCORE {
            let outlier = Outlier {
                post: (*post).clone(),
                score,
                direction: if score > 0.0 {
                    Direction::Above
                } else {
                    Direction::Below
                },
            };
            if score > 0.0 {
                found.above.push(outlier);
            } else {
                found.below.push(outlier);
            }
        }
    }
    let by_score = |a: &Outlier, b: &Outlier| {
        a.score
            .total_cmp(&b.score)
            .then(b.post.published.cmp(&a.post.published))
    };
    found.above.sort_by(|a, b| by_score(b, a));
    found.below.sort_by(by_score);
    found
}

/// One period's posts, for the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodSummary {
    pub period: Period,
    /// Posts published in the period.
    pub posts: usize,
    /// Of those, the ones old enough to compare.
    pub compared: usize,
    /// The engagement of the compared posts, together.
    pub engagement: u64,
    /// The mean engagement of a compared post.
    pub per_post: Option<f64>,
}

/// Which way engagement went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Up,
    Down,
    /// Within [`FLAT_PERCENT`].
    Flat,
    /// A period without compared posts, or a previous period with none.
    Unknown,
}

/// The period against the one before it, of equal length: the mean engagement per post.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub current: PeriodSummary,
    pub previous: PeriodSummary,
    /// The change of the mean engagement per post, in percent of the previous period's.
    pub change_percent: Option<f64>,
    pub direction: TrendDirection,
}

fn summary(posts: &[&PostEngagement], period: Period, now: DateTime<Utc>) -> PeriodSummary {
    let within: Vec<&PostEngagement> = posts
        .iter()
        .copied()
        .filter(|p| period.contains(p.published))
        .collect();
    let compared: Vec<u64> = within
        .iter()
        .filter(|p| is_settled(p, now))
        .map(|p| p.engagement)
        .collect();
    let engagement: u64 = compared.iter().sum();
    PeriodSummary {
        period,
        posts: within.len(),
        compared: compared.len(),
        engagement,
        per_post: (!compared.is_empty()).then(|| engagement as f64 / compared.len() as f64),
    }
}

/// The trend of `period` against the period of equal length before it.
pub fn trend(posts: &[&PostEngagement], period: Period, now: DateTime<Utc>) -> Trend {
    let current = summary(posts, period, now);
    let previous = summary(posts, period.previous(), now);
    let (change_percent, direction) = match (current.per_post, previous.per_post) {
        (Some(now), Some(before)) if before > 0.0 => {
            let change = (now - before) * 100.0 / before;
            let direction = if change.abs() < FLAT_PERCENT {
                TrendDirection::Flat
            } else if change > 0.0 {
                TrendDirection::Up
            } else {
                TrendDirection::Down
            };
            (Some(change), direction)
        }
        (Some(0.0), Some(_)) => (Some(0.0), TrendDirection::Flat),
        (Some(_), Some(_)) => (None, TrendDirection::Up),
        _ => (None, TrendDirection::Unknown),
    };
    Trend {
        current,
        previous,
        change_percent,
        direction,
    }
}

/// What the store holds about one account, for insights.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountHistory {
    pub account: String,
    pub network: Network,
    /// Its read posts (latest counters), oldest first.
    pub posts: Vec<PostEngagement>,
    pub audience: Audience,
}

/// Everything insights say about one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountInsights {
    pub account: String,
    pub network: Network,
    pub period: Period,
    /// Posts with counters published in the period.
    pub posts: usize,
    /// From the [`SLOT_HISTORY`] before now, not only the period.
    pub best_times: BestTimes,
    /// What the best times' values measure, in words.
    pub measure: String,
    pub top_posts: Vec<PostEngagement>,
    pub growth: Option<Growth>,
    /// Of the period's compared posts.
    pub outliers: Outliers,
    pub trend: Trend,
}

/// Insights for one account over `period` (which ends at `now`, usually), its best times
/// in `tz`, and its `top` posts.
pub fn account_insights(
    history: &AccountHistory,
    period: Period,
    now: DateTime<Utc>,
    tz: Tz,
    top: usize,
) -> AccountInsights {
    let all: Vec<&PostEngagement> = history.posts.iter().collect();
    let slot_history = Period::ending(now, SLOT_HISTORY);
    let for_slots: Vec<&PostEngagement> = all
        .iter()
        .copied()
        .filter(|p| slot_history.contains(p.published))
        .collect();
    let (measure, samples) = samples(&for_slots, &history.audience, now);
    let in_period: Vec<&PostEngagement> = all
        .iter()
        .copied()
        .filter(|p| period.contains(p.published))
        .collect();
    let compared: Vec<&PostEngagement> = in_period
        .iter()
        .copied()
        .filter(|p| is_settled(p, now))
        .collect();
    AccountInsights {
        account: history.account.clone(),
        network: history.network,
        period,
        posts: in_period.len(),
        best_times: best_times(&samples, tz, measure),
        measure: measure.describe(history.audience.counter),
        top_posts: top_posts(&in_period, period, top),
        growth: growth(&history.audience, period),
        outliers: outliers(&compared),
        trend: trend(&all, period, now),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    /// Monday 2026-11-02 00:00 UTC, plus `days` and `hours`.
    fn at(days: i64, hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0)
            .single()
            .expect("time")
            + Duration::days(days)
            + Duration::hours(hours)
    }

    fn post(id: &str, published: DateTime<Utc>, engagement: u64) -> PostEngagement {
        PostEngagement {
            target_id: id.into(),
            post_id: id.into(),
            account: "masto".into(),
            network: Network::Mastodon,
            title: id.into(),
            url: None,
            published,
            counters: [("likes".to_string(), engagement)].into_iter().collect(),
            engagement,
            last_read: published,
        }
    }

    fn sample(published: DateTime<Utc>, value: f64) -> Sample {
        Sample { published, value }
    }

    fn audience(points: &[(DateTime<Utc>, u64)]) -> Audience {
        Audience {
            counter: "followers",
            points: points.to_vec(),
        }
    }

    #[test]
    fn the_grid_groups_posts_by_weekday_and_hour_in_the_zone() {
        // Monday 23:30 UTC is Tuesday 00:30 in Berlin (UTC+1 in November).
        let samples = [
            sample(at(0, 23) + Duration::minutes(30), 4.0),
            sample(at(7, 23) + Duration::minutes(10), 2.0),
            sample(at(0, 8), 1.0),
        ];
        let grid = SlotGrid::from_samples(&samples, BERLIN, Measure::Engagement);
        assert_eq!(
            grid.cell(Weekday::Tue, 0),
            SlotCell {
                value: Some(3.0),
                posts: 2
            }
        );
        assert_eq!(
            grid.cell(Weekday::Mon, 9),
            SlotCell {
                value: Some(1.0),
                posts: 1
            }
        );
        assert_eq!(grid.cell(Weekday::Mon, 23), SlotCell::default());
        assert_eq!(grid.cell(Weekday::Mon, 24), SlotCell::default());
        assert_eq!(grid.posts(), 3);
        assert_eq!(grid.highest(), Some(3.0));
        assert_eq!(grid.zone, "Europe/Berlin");
        let utc = SlotGrid::from_samples(&samples, chrono_tz::UTC, Measure::Engagement);
        assert_eq!(utc.cell(Weekday::Mon, 23).posts, 2);
        let json = serde_json::to_value(&grid).expect("json");
        assert_eq!(json["cells"].as_array().map(Vec::len), Some(7));
        assert_eq!(json["cells"][1][0]["posts"], 2);
        assert_eq!(json["cells"][1][1]["value"], serde_json::Value::Null);
    }

    /// `n` posts a week apart at `day` (from Monday) and `hour` UTC, each worth `value`.
    fn weekly(n: usize, day: i64, hour: i64, value: f64) -> Vec<Sample> {
        (0..n as i64)
            .map(|w| sample(at(day + 7 * w, hour), value))
            .collect()
    }

    #[test]
    fn best_times_say_not_enough_data_rather_than_guess() {
        struct Case {
            name: &'static str,
            samples: Vec<Sample>,
            not_enough: bool,
            /// (label, certainty) of the judged slots, best first.
            slots: Vec<(&'static str, Certainty)>,
            suggested: Vec<&'static str>,
        }
        let noisy = |n: usize, day: i64, hour: i64, values: &[f64]| -> Vec<Sample> {
            (0..n)
                .map(|i| sample(at(day + 7 * i as i64, hour), values[i % values.len()]))
                .collect()
        };
        let cases = vec![
            Case {
                name: "no posts",
                samples: vec![],
                not_enough: true,
                slots: vec![],
                suggested: vec![],
            },
            Case {
                name: "one post",
                samples: weekly(1, 0, 8, 5.0),
                not_enough: true,
                slots: vec![],
                suggested: vec![],
            },
            Case {
                name: "nine posts in one slot: one short of the account minimum",
                samples: weekly(9, 0, 8, 5.0),
                not_enough: true,
                slots: vec![],
                suggested: vec![],
            },
            Case {
                name: "ten posts, no two at the same hour",
                samples: (0..10).map(|i| sample(at(0, i), 1.0)).collect(),
                not_enough: true,
                slots: vec![],
                suggested: vec![],
            },
            Case {
                name: "all the same: ties, and nothing better",
                samples: [weekly(5, 0, 8, 2.0), weekly(5, 1, 12, 2.0)].concat(),
                not_enough: false,
                // Equal values and posts: earlier in the week first.
                slots: vec![
                    ("Mon 09:00", Certainty::NoClearDifference),
                    ("Tue 13:00", Certainty::NoClearDifference),
                ],
                suggested: vec![],
            },
            Case {
                name: "a clear winner",
                samples: [
                    noisy(6, 1, 8, &[9.0, 11.0]),
                    noisy(6, 3, 16, &[1.0, 3.0]),
                    noisy(4, 5, 10, &[2.0, 4.0]),
                ]
                .concat(),
                not_enough: false,
                slots: vec![
                    ("Tue 09:00", Certainty::FairlySure),
                    ("Sat 11:00", Certainty::NoClearDifference),
                    ("Thu 17:00", Certainty::NoClearDifference),
                ],
                suggested: vec!["Tue 09:00"],
            },
            Case {
                name: "a slot below the minimum is not judged, however good",
                samples: [
                    weekly(2, 0, 8, 100.0),
                    noisy(4, 1, 8, &[4.0, 6.0]),
                    noisy(4, 2, 8, &[4.0, 6.0]),
                ]
                .concat(),
                not_enough: false,
                slots: vec![
                    ("Tue 09:00", Certainty::NoClearDifference),
                    ("Wed 09:00", Certainty::NoClearDifference),
                ],
                suggested: vec![],
            },
            Case {
                name: "a small lead over few posts is no clear difference; ties: more posts first",
                samples: [
                    noisy(3, 0, 8, &[7.0, 5.0, 6.0]),
                    noisy(3, 1, 8, &[2.0, 8.0, 5.0]),
                    noisy(4, 2, 8, &[1.0, 9.0, 3.0, 7.0]),
                ]
                .concat(),
                not_enough: false,
                slots: vec![
                    ("Mon 09:00", Certainty::NoClearDifference),
                    ("Wed 09:00", Certainty::NoClearDifference),
                    ("Tue 09:00", Certainty::NoClearDifference),
                ],
                suggested: vec![],
            },
            Case {
                name: "a viral post counts up to the outlier threshold only",
                samples: [
                    noisy(6, 1, 8, &[9.0, 11.0]),
                    noisy(6, 3, 16, &[1.0, 3.0]),
                    vec![sample(at(5, 10), 10_000.0)],
                    noisy(2, 12, 10, &[2.0]),
                ]
                .concat(),
                not_enough: false,
                // Saturday 11:00 holds the viral post and two usual ones.
                slots: vec![
                    ("Tue 09:00", Certainty::FairlySure),
                    ("Sat 11:00", Certainty::NoClearDifference),
                    ("Thu 17:00", Certainty::NoClearDifference),
                ],
                suggested: vec!["Tue 09:00"],
            },
            Case {
                name: "ties in value: more posts first",
                samples: [
                    noisy(3, 0, 8, &[10.0]),
                    noisy(4, 4, 8, &[10.0]),
                    noisy(5, 2, 8, &[1.0]),
                ]
                .concat(),
                not_enough: false,
                slots: vec![
                    ("Fri 09:00", Certainty::FairlySure),
                    ("Mon 09:00", Certainty::FairlySure),
                    ("Wed 09:00", Certainty::NoClearDifference),
                ],
                suggested: vec!["Fri 09:00", "Mon 09:00"],
            },
        ];
        for case in cases {
            let times = best_times(&case.samples, BERLIN, Measure::Engagement);
            assert_eq!(times.not_enough.is_some(), case.not_enough, "{}", case.name);
            assert_eq!(times.posts, case.samples.len(), "{}", case.name);
            if case.not_enough {
                assert!(
                    times.statement().starts_with("not enough data yet"),
                    "{}: {}",
                    case.name,
                    times.statement()
                );
            }
            let got: Vec<(String, Certainty)> = times
                .slots
                .iter()
                .map(|s| (s.label(), s.certainty))
                .collect();
            let expected: Vec<(String, Certainty)> = case
                .slots
                .iter()
                .map(|(l, c)| (l.to_string(), *c))
                .collect();
            assert_eq!(got, expected, "{}", case.name);
            let suggested: Vec<String> = times.suggestions(5).iter().map(|s| s.label()).collect();
            assert_eq!(suggested, case.suggested, "{}", case.name);
        }
    }

    #[test]
    fn a_slots_certainty_grows_with_its_lead_and_its_posts() {
        // About the same lead (6 and 8 against 3 and 7 elsewhere), more posts: surer.
        let with = |n: usize| {
            let mut samples: Vec<Sample> = (0..n)
                .map(|i| sample(at(7 * i as i64, 8), if i % 2 == 0 { 6.0 } else { 8.0 }))
                .collect();
            samples.extend(
                (0..12).map(|i| sample(at(1 + 7 * i, 8), if i % 2 == 0 { 3.0 } else { 7.0 })),
            );
            let times = best_times(&samples, chrono_tz::UTC, Measure::Engagement);
            times
                .slots
                .iter()
                .find(|s| s.weekday == Weekday::Mon)
                .map(|s| s.certainty)
        };
        // No spread at all, in the slot or out of it: as sure as can be.
        let flat = best_times(
            &[weekly(3, 0, 8, 5.0), weekly(7, 1, 8, 1.0)].concat(),
            chrono_tz::UTC,
            Measure::Engagement,
        );
        assert_eq!(flat.slots[0].score, MOST_SCORE);
        assert_eq!(flat.slots[0].lift, Some(5.0));
        assert_eq!(flat.slots[1].score, -MOST_SCORE);
        assert_eq!(flat.suggestions(3).len(), 1);
        assert_eq!(with(2), None, "below the minimum");
        assert_eq!(with(3), Some(Certainty::Hint));
        assert_eq!(with(12), Some(Certainty::FairlySure));
        let times = best_times(
            &[weekly(6, 0, 8, 0.0), weekly(6, 1, 8, 0.0)].concat(),
            chrono_tz::UTC,
            Measure::Engagement,
        );
        assert_eq!(times.baseline, Some(0.0));
        assert!(times.slots.iter().all(|s| s.lift.is_none()), "zero mean");
        assert!(times.suggestions(3).is_empty());
        assert!(
            times.statement().starts_with("no slot does clearly better"),
            "{}",
            times.statement()
        );
    }

    #[test]
    fn slot_rules_group_days_by_hour() {
        let slot = |weekday, hour| BestSlot {
            weekday,
            hour,
            value: 1.0,
            posts: 3,
            lift: Some(2.0),
            score: 3.0,
            certainty: Certainty::FairlySure,
        };
        let cases: Vec<(Vec<BestSlot>, &str)> = vec![
            (vec![], ""),
            (vec![slot(Weekday::Tue, 9)], "tue 09:00"),
            (
                vec![
                    slot(Weekday::Thu, 9),
                    slot(Weekday::Tue, 13),
                    slot(Weekday::Mon, 9),
                ],
                "mon,thu 09:00; tue 13:00",
            ),
            (
                vec![slot(Weekday::Sun, 21), slot(Weekday::Sun, 7)],
                "sun 07:00; sun 21:00",
            ),
        ];
        for (slots, expected) in cases {
            let refs: Vec<&BestSlot> = slots.iter().collect();
            let rules = slot_rules(&refs);
            assert_eq!(rules, expected);
            if !rules.is_empty() {
                crate::time::parse_weekly_rules(&rules).expect("queue rules");
            }
        }
    }

    #[test]
    fn the_measure_is_a_rate_only_when_every_audience_is_known_and_above_zero() {
        let now = at(30, 0);
        let posts = [post("a", at(10, 9), 10), post("b", at(20, 9), 30)];
        let refs: Vec<&PostEngagement> = posts.iter().collect();
        // (audience, measure, values)
        let cases: Vec<(Audience, Measure, Vec<f64>)> = vec![
            (
                audience(&[(at(5, 0), 200), (at(15, 0), 1000)]),
                Measure::Rate,
                vec![5.0, 3.0],
            ),
            // A reading taken as the post went out counts for it.
            (
                audience(&[(at(5, 0), 200), (at(10, 9), 250)]),
                Measure::Rate,
                vec![4.0, 12.0],
            ),
            // Collection started after the posts: the first reading stands in.
            (audience(&[(at(25, 0), 500)]), Measure::Rate, vec![2.0, 6.0]),
            (audience(&[]), Measure::Engagement, vec![10.0, 30.0]),
            // Zero followers: no rate.
            (
                audience(&[(at(5, 0), 0), (at(15, 0), 100)]),
                Measure::Engagement,
                vec![10.0, 30.0],
            ),
        ];
        for (audience, measure, values) in cases {
            let (got, samples) = samples(&refs, &audience, now);
            assert_eq!(got, measure, "{audience:?}");
            let got: Vec<f64> = samples.iter().map(|s| s.value).collect();
            assert_eq!(got, values, "{audience:?}");
        }
        // A post younger than two days is not compared.
        let young = [post("c", now - Duration::hours(47), 99)];
        let refs: Vec<&PostEngagement> = young.iter().collect();
        assert!(samples(&refs, &audience(&[]), now).1.is_empty());
    }

    #[test]
    fn top_posts_are_the_periods_most_engaged_newer_first_on_ties() {
        let period = Period {
            from: at(0, 0),
            to: at(10, 0),
        };
        let posts = [
            post("old", at(-1, 0), 100),
            post("a", at(1, 0), 5),
            post("b", at(2, 0), 9),
            post("c", at(3, 0), 5),
            post("later", at(10, 0), 100),
        ];
        let refs: Vec<&PostEngagement> = posts.iter().collect();
        let ids = |n| -> Vec<String> {
            top_posts(&refs, period, n)
                .into_iter()
                .map(|p| p.post_id)
                .collect()
        };
        assert_eq!(ids(10), ["b", "c", "a"]);
        assert_eq!(ids(1), ["b"]);
        assert!(ids(0).is_empty());
        assert!(top_posts(&[], period, 3).is_empty());
    }

    #[test]
    fn growth_runs_from_the_reading_before_the_period_to_the_last_in_it() {
        let period = Period {
            from: at(10, 0),
            to: at(20, 0),
        };
        // (points, (start, end, change, percent))
        type Expected = Option<(u64, u64, i64, Option<f64>)>;
        type Case = (Vec<(DateTime<Utc>, u64)>, Expected);
        let cases: Vec<Case> = vec![
            (vec![], None),
            // Only after the period: nothing to say about it.
            (vec![(at(21, 0), 50)], None),
            (
                vec![
                    (at(5, 0), 90),
                    (at(10, 0), 100),
                    (at(15, 0), 110),
                    (at(25, 0), 200),
                ],
                Some((100, 110, 10, Some(10.0))),
            ),
            // Collection started within the period.
            (
                vec![(at(12, 0), 40), (at(19, 0), 30)],
                Some((40, 30, -10, Some(-25.0))),
            ),
            // One reading: no change.
            (vec![(at(12, 0), 40)], Some((40, 40, 0, Some(0.0)))),
            // Zero followers at the start: no percentage.
            (vec![(at(1, 0), 0), (at(12, 0), 7)], Some((0, 7, 7, None))),
        ];
        for (points, expected) in cases {
            let got =
                growth(&audience(&points), period).map(|g| (g.start, g.end, g.change, g.percent));
            assert_eq!(got, expected, "{points:?}");
        }
    }

    #[test]
    fn outliers_are_far_from_the_median_by_a_robust_score() {
        // (engagements, above, below, not enough posts)
        type Case = (Vec<u64>, Vec<u64>, Vec<u64>, bool);
        let cases: Vec<Case> = vec![
            (vec![], vec![], vec![], true),
            (vec![1, 100, 1, 1], vec![], vec![], true),
            (vec![10, 12, 11, 9, 10, 13, 95], vec![95], vec![], false),
            (vec![50, 52, 48, 51, 49, 50, 2], vec![], vec![2], false),
            // 15 is four MADs above: 2.7 robust deviations, not far enough.
            (vec![10, 12, 11, 9, 10, 13, 15], vec![], vec![], false),
            // More than half at the median (MAD 0): the mean deviation stands in.
            (vec![0, 0, 0, 0, 0, 0, 1, 40], vec![40], vec![], false),
            // All equal: none.
            (vec![7, 7, 7, 7, 7], vec![], vec![], false),
            // Two viral posts, both above.
            (
                vec![5, 6, 5, 4, 6, 5, 5, 60, 80],
                vec![80, 60],
                vec![],
                false,
            ),
        ];
        for (engagements, above, below, not_enough) in cases {
            let posts: Vec<PostEngagement> = engagements
                .iter()
                .enumerate()
                .map(|(i, e)| post(&format!("p{i}"), at(i as i64, 0), *e))
                .collect();
            let refs: Vec<&PostEngagement> = posts.iter().collect();
            let found = outliers(&refs);
            let values =
                |list: &[Outlier]| -> Vec<u64> { list.iter().map(|o| o.post.engagement).collect() };
            assert_eq!(values(&found.above), above, "{engagements:?}");
            assert_eq!(values(&found.below), below, "{engagements:?}");
            assert_eq!(found.not_enough.is_some(), not_enough, "{engagements:?}");
            assert!(found.above.iter().all(|o| o.score > OUTLIER_SCORE));
            assert!(found.below.iter().all(|o| o.score < -OUTLIER_SCORE));
        }
    }

    #[test]
    fn the_trend_compares_the_mean_per_post_with_the_previous_period() {
        let now = at(20, 0);
        let period = Period::ending(now, Duration::days(10));
        assert_eq!(
            period.previous(),
            Period {
                from: at(0, 0),
                to: at(10, 0)
            }
        );
        // (previous engagements, current engagements, change, direction)
        type Case = (Vec<u64>, Vec<u64>, Option<f64>, TrendDirection);
        let cases: Vec<Case> = vec![
            (vec![], vec![], None, TrendDirection::Unknown),
            (vec![10], vec![], None, TrendDirection::Unknown),
            (vec![], vec![10], None, TrendDirection::Unknown),
            (vec![10, 20], vec![30], Some(100.0), TrendDirection::Up),
            (
                vec![10, 20],
                vec![10],
                Some(-100.0 / 3.0),
                TrendDirection::Down,
            ),
            (vec![100], vec![104], Some(4.0), TrendDirection::Flat),
            (vec![0, 0], vec![0], Some(0.0), TrendDirection::Flat),
            (vec![0], vec![3], None, TrendDirection::Up),
        ];
        for (before, current, change, direction) in cases {
            let mut posts: Vec<PostEngagement> = before
                .iter()
                .enumerate()
                .map(|(i, e)| post(&format!("b{i}"), at(1 + i as i64, 0), *e))
                .collect();
            posts.extend(
                current
                    .iter()
                    .enumerate()
                    .map(|(i, e)| post(&format!("c{i}"), at(11 + i as i64, 0), *e)),
            );
            // Too young to compare: counted, not compared.
            posts.push(post("young", now - Duration::hours(1), 1000));
            let refs: Vec<&PostEngagement> = posts.iter().collect();
            let got = trend(&refs, period, now);
            assert_eq!(got.direction, direction, "{before:?} {current:?}");
            match (got.change_percent, change) {
                (Some(g), Some(e)) => assert!((g - e).abs() < 1e-9, "{g} {e}"),
                (g, e) => assert_eq!(g, e, "{before:?} {current:?}"),
            }
            assert_eq!(got.current.posts, current.len() + 1);
            assert_eq!(got.current.compared, current.len());
            assert_eq!(got.previous.posts, before.len());
        }
    }

    #[test]
    fn an_accounts_insights_bring_the_answers_together() {
        let now = at(70, 0);
        let mut posts: Vec<PostEngagement> = (0..12)
            .map(|w| post(&format!("tue{w}"), at(1 + 7 * w, 8), 20 + (w as u64 % 2)))
            .collect();
        posts.extend((0..12).map(|w| post(&format!("fri{w}"), at(4 + 7 * w, 15), 5)));
        posts.retain(|p| p.published < now);
        posts.sort_by_key(|p| p.published);
        let history = AccountHistory {
            account: "masto".into(),
            network: Network::Mastodon,
            posts,
            audience: audience(&[(at(0, 0), 100), (at(40, 0), 120), (at(69, 0), 150)]),
        };
        let period = Period::ending(now, Duration::days(30));
        let insights = account_insights(&history, period, now, chrono_tz::UTC, 3);
        assert_eq!(insights.measure, "engagement per 100 followers");
        assert_eq!(insights.best_times.grid.measure, Measure::Rate);
        let best = insights.best_times.suggestions(1);
        assert_eq!(
            best.iter().map(|s| s.label()).collect::<Vec<_>>(),
            ["Tue 08:00"]
        );
        assert_eq!(insights.top_posts.len(), 3);
        assert!(
            insights
                .top_posts
                .iter()
                .all(|p| p.post_id.starts_with("tue"))
        );
        let growth = insights.growth.clone().expect("growth");
        assert_eq!((growth.start, growth.end), (120, 150));
        assert_eq!(insights.posts, 8);
        assert_eq!(insights.trend.current.posts, 8);
        let json = serde_json::to_value(&insights).expect("json");
        assert_eq!(json["best_times"]["slots"][0]["weekday"], "tue");
        assert_eq!(json["network"], "mastodon");
    }
}
