//! `postctl report`: what a social media manager sends about a period. [`gather`] reads
//! the store into a [`Report`] (plain data, also what `--format json` prints, and what the
//! benchmark and the MCP server can call); [`render`] writes it as Markdown, one
//! self-contained HTML file with charts ([`charts`]), or CSV. The streamed exports of the
//! raw readings and the daily roll-ups (`postctl stats export`) are in [`export`].
//!
//! What the numbers mean:
//! - A post belongs to the period it was published in; its counters are the last reading
//!   before the period ended (the daily roll-ups keep the last reading of every day
//!   forever), so a past period's report reads the same whenever it is made, and the
//!   previous period is measured the way its own report measured it.
//! - A counter the network does not give is absent, never zero; a network that gives no
//!   post counters (Telegram, webhooks) has no engagement, and the report says why.
//! - The audience (followers, or members of a chat or a room) changes from the last daily
//!   reading before the period (else the first in it) to the last one in it.

pub mod charts;
mod csv;
pub mod export;
mod html;
mod markdown;

use std::io::Write;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

pub use super::insights::Period;
use super::insights::{SLOT_HISTORY, SlotGrid, samples};
use super::{engagement, never_given};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::platforms::Counters;
use crate::store::{AccountCollection, PeriodPost, Reading, Store};

/// How many posts "top posts" lists per account.
pub const TOP_POSTS: usize = 5;

/// The days `first` to `last`, both included, in `tz`: from the start of `first` to the
/// start of the day after `last`. `last` before `first` is refused.
pub fn days(first: NaiveDate, last: NaiveDate, tz: Tz) -> Result<Period> {
    if last < first {
        return Err(Error::Invalid(format!(
            "--from {first} is after --to {last}; give the earlier day first"
        )));
    }
    let after = last
        .succ_opt()
        .ok_or_else(|| Error::Invalid(format!("--to {last} is too far in the future")))?;
    Ok(Period {
        from: start_of_day(first, tz),
        to: start_of_day(after, tz),
    })
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub period: Period,
    /// Only this account (its name); every account when `None`.
    pub account: Option<String>,
    /// The zone dates, weekdays and hours are shown in.
    pub zone: Tz,
    /// When the report is made.
    pub now: DateTime<Utc>,
}

/// A report over a period, per account, with the previous period of equal length beside.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated: DateTime<Utc>,
    /// The zone dates are shown in (an IANA name).
    pub zone: String,
    pub period: Period,
    pub previous_period: Period,
    pub accounts: Vec<AccountReport>,
    /// Per network of the accounts: what it never gives, and when it was last read.
    pub networks: Vec<NetworkReport>,
}

/// One account's part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct AccountReport {
    pub account: String,
    #[serde(serialize_with = "network_name")]
    pub network: Network,
    pub audience: AudienceReport,
    /// Posts published in the period, oldest first.
    pub posts: Vec<PostReport>,
    /// The period's posts with the most engagement, most first (at most [`TOP_POSTS`]).
    pub top_posts: Vec<PostReport>,
    pub totals: Totals,
    pub previous_totals: Totals,
    /// The account's posts by weekday and hour of publishing, as `postctl insights` reads
    /// them, over the [`SLOT_HISTORY`] before the period ended (the heat map).
    pub best_times: SlotGrid,
    /// Where collection stands, and what the network does not provide.
    pub collection: CollectionReport,
}

/// Followers (or members) over the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AudienceReport {
    /// "followers" or "members"; `None` when no figure was ever read in the period.
    pub counter: Option<&'static str>,
    /// One reading a day in the period, oldest first.
    pub points: Vec<(DateTime<Utc>, u64)>,
    /// The last reading in the period.
    pub end: Option<u64>,
    /// From the last reading before the period (else its first) to its last.
    pub change: Option<i64>,
    /// The same over the previous period.
    pub previous_change: Option<i64>,
    /// Why the network gives no account figures, when it does not.
    pub not_provided: Option<String>,
}

/// A post of the period, with its counters at the end of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostReport {
    pub post_id: String,
    pub title: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
    /// `None` when never read before the period ended, or when the network gives none.
    pub counters: Option<Counters>,
    /// [`super::engagement`] of the counters; `None` with them.
    pub engagement: Option<u64>,
    /// When the counters were read.
    pub read: Option<DateTime<Utc>>,
    /// When the network said the post was gone.
    pub deleted: Option<DateTime<Utc>>,
}

/// A period's sums over one account's posts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Posts published.
    pub posts: usize,
    /// Of those, posts with counters.
    pub counted: usize,
    /// Engagement of the counted posts; `None` when none was counted (never a fake zero).
    pub engagement: Option<u64>,
    /// Engagement per counted post.
    pub engagement_per_post: Option<f64>,
    /// Each counter summed over the counted posts that have it.
    pub counters: Counters,
}

/// Where collection stands for an account.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CollectionReport {
    pub posts_last_read: Option<DateTime<Utc>>,
    pub posts_not_provided: Option<String>,
    pub account_last_read: Option<DateTime<Utc>>,
    pub account_not_provided: Option<String>,
    /// Counters the network stopped giving.
    pub dropped: Vec<String>,
}

/// What one network of the report never gives, and when its accounts were last read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkReport {
    #[serde(serialize_with = "network_name")]
    pub network: Network,
    pub accounts: Vec<String>,
    /// What the network never gives about a post ([`super::never_given`]).
    pub never_given: Option<&'static str>,
    /// Why it gives no post counters or account figures for some account, when it does not.
    pub not_provided: Vec<String>,
    /// The last time any of its accounts was read.
    pub last_collected: Option<DateTime<Utc>>,
}

fn network_name<S: serde::Serializer>(
    network: &Network,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(network.name())
}

/// Reads the report for `request` from the store: every live account (or the one asked
/// for; an unknown name is an error) with its posts, audience and collection state.
pub fn gather(store: &Store, request: &ReportRequest) -> Result<Report> {
    let accounts = match &request.account {
        Some(name) => vec![store.account(name)?],
        None => store.accounts()?,
    };
    let period = request.period;
    let previous = period.previous();
    // The heat map's history: one read of every account's posts of the year before.
    let slot_history = Period {
        from: super::since(period.to, SLOT_HISTORY),
        to: period.to,
    };
    let only = request.account.as_ref().and_then(|_| accounts.first());
    let histories = store.account_histories(only.map(|a| a.id.as_str()), slot_history.from)?;
    let mut reports = Vec::with_capacity(accounts.len());
    for account in &accounts {
        let best_times = match histories.iter().find(|h| h.account == account.name) {
            Some(history) => {
                let posts: Vec<_> = history
                    .posts
                    .iter()
                    .filter(|p| slot_history.contains(p.published))
                    .collect();
                let (measure, samples) = samples(&posts, &history.audience, period.to);
                SlotGrid::from_samples(&samples, request.zone, measure)
            }
            None => SlotGrid::from_samples(&[], request.zone, super::insights::Measure::Engagement),
        };
        let posts: Vec<PostReport> = store
            .period_posts(&account.id, period.from, period.to)?
            .into_iter()
            .map(post_report)
            .collect();
        let earlier: Vec<PostReport> = store
            .period_posts(&account.id, previous.from, previous.to)?
            .into_iter()
            .map(post_report)
            .collect();
        let collection = collection_report(store.account_collection(&account.id)?);
        let (before, within) = store.account_days(&account.id, period.from, period.to)?;
        let (previous_before, previous_within) =
            store.account_days(&account.id, previous.from, previous.to)?;
        let mut audience = audience(before.as_ref(), &within);
        audience.previous_change =
            audience_change(audience.counter, previous_before.as_ref(), &previous_within);
        audience.not_provided = collection.account_not_provided.clone();
        reports.push(AccountReport {
            account: account.name.clone(),
            network: account.network,
            audience,
            top_posts: top_posts(&posts, TOP_POSTS),
            totals: totals(&posts),
            previous_totals: totals(&earlier),
            best_times,
            posts,
            collection,
        });
    }
    Ok(Report {
        generated: request.now,
        zone: request.zone.name().to_string(),
        period,
        previous_period: previous,
        networks: networks(&reports),
        accounts: reports,
    })
}

/// The first moment of `day` in `tz` (midnight, or the end of a gap that swallows it).
fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..=3)
        .find_map(|hour| {
            tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?)
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
}

fn post_report(post: PeriodPost) -> PostReport {
    PostReport {
        engagement: post.counters.as_ref().map(engagement),
        post_id: post.post_id,
        title: post.title,
        url: post.url,
        published: post.published,
        counters: post.counters,
        read: post.read,
        deleted: post.deleted,
    }
}

fn collection_report(c: AccountCollection) -> CollectionReport {
    CollectionReport {
        posts_last_read: c.posts_last_read,
        posts_not_provided: c.posts_not_provided,
        account_last_read: c.account_last_read,
        account_not_provided: c.account_not_provided,
        dropped: c.dropped,
    }
}

/// The counter an account's audience is read from: followers where the network counts
/// them, else members.
fn audience_counter<'a>(readings: impl IntoIterator<Item = &'a Reading>) -> Option<&'static str> {
    let mut members = false;
    for (_, counters) in readings {
        if counters.contains_key("followers") {
            return Some("followers");
        }
        members |= counters.contains_key("members");
    }
    members.then_some("members")
}

/// The audience over a period from the last daily reading before it and those within it.
pub fn audience(before: Option<&Reading>, within: &[Reading]) -> AudienceReport {
    let counter = audience_counter(before.into_iter().chain(within));
    let points: Vec<(DateTime<Utc>, u64)> = counter
        .map(|name| {
            within
                .iter()
                .filter_map(|(at, c)| c.get(name).map(|n| (*at, *n)))
                .collect()
        })
        .unwrap_or_default();
    AudienceReport {
        counter,
        end: points.last().map(|(_, n)| *n),
        change: audience_change(counter, before, within),
        points,
        ..AudienceReport::default()
    }
}

/// How much `counter` changed over a period: from the reading before it (else the first
/// in it) to the last in it; `None` without two readings to compare.
pub fn audience_change(
    counter: Option<&str>,
    before: Option<&Reading>,
    within: &[Reading],
) -> Option<i64> {
    let counter = counter?;
    let mut values = before
        .into_iter()
        .chain(within)
        .filter_map(|(_, c)| c.get(counter).copied());
    let first = values.next()?;
    let last = values.next_back()?;
    Some(last as i64 - first as i64)
}

/// The sums of a period's posts.
pub fn totals(posts: &[PostReport]) -> Totals {
    let mut totals = Totals {
        posts: posts.len(),
        ..Totals::default()
    };
    let mut engagement_sum = 0;
    for post in posts {
        let Some(counters) = &post.counters else {
            continue;
        };
        totals.counted += 1;
        engagement_sum += engagement(counters);
        for (name, n) in counters {
            *totals.counters.entry(name.clone()).or_default() += n;
        }
    }
    if totals.counted > 0 {
        totals.engagement = Some(engagement_sum);
        totals.engagement_per_post = Some(engagement_sum as f64 / totals.counted as f64);
    }
    totals
}

/// The `count` posts with the most engagement, most first; among equals the earlier post
/// first. Posts without counters are left out.
pub fn top_posts(posts: &[PostReport], count: usize) -> Vec<PostReport> {
    let mut counted: Vec<&PostReport> = posts.iter().filter(|p| p.engagement.is_some()).collect();
    counted.sort_by_key(|p| std::cmp::Reverse(p.engagement));
    counted.into_iter().take(count).cloned().collect()
}

/// One entry per network of the accounts, in the accounts' order.
fn networks(accounts: &[AccountReport]) -> Vec<NetworkReport> {
    let mut networks: Vec<NetworkReport> = Vec::new();
    for a in accounts {
        let index = match networks.iter().position(|n| n.network == a.network) {
            Some(index) => index,
            None => {
                networks.push(NetworkReport {
                    network: a.network,
                    accounts: Vec::new(),
                    never_given: never_given(a.network),
                    not_provided: Vec::new(),
                    last_collected: None,
                });
                networks.len() - 1
            }
        };
        let n = &mut networks[index];
        n.accounts.push(a.account.clone());
        for why in [
            &a.collection.posts_not_provided,
            &a.collection.account_not_provided,
        ]
        .into_iter()
        .flatten()
        {
            if !n.not_provided.contains(why) {
                n.not_provided.push(why.clone());
            }
        }
        n.last_collected = [
            n.last_collected,
            a.collection.posts_last_read,
            a.collection.account_last_read,
        ]
        .into_iter()
        .flatten()
        .max();
    }
    networks
}

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Html,
    Csv,
    Json,
}

/// Writes `report` to `out` in `format`, dates in the report's zone.
pub fn render(report: &Report, format: ReportFormat, out: &mut dyn Write) -> Result<()> {
    let tz: Tz = report.zone.parse().unwrap_or(chrono_tz::UTC);
    let io = |e: std::io::Error| crate::Error::io("the report", e);
    match format {
        ReportFormat::Markdown => out
            .write_all(markdown::render(report, tz).as_bytes())
            .map_err(io),
        ReportFormat::Html => out
            .write_all(html::render(report, tz)?.as_bytes())
            .map_err(io),
        ReportFormat::Csv => csv::render(report, tz, out),
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)
        }
    }
}

/// A top post's counters in one line (`likes 4, replies 1`), or what stands in for them:
/// "none counted yet" when the network was read and counted nothing (Telegram's reactions
/// before the first one), "no counters" when it was not read.
pub fn counters_text(counters: Option<&Counters>) -> String {
    match counters {
        None => "no counters".into(),
        Some(c) if c.is_empty() => "none counted yet".into(),
        Some(c) => counter_order(c.keys())
            .into_iter()
            .map(|name| format!("{name} {}", c[name]))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The counters in a stable order: the common ones first, then the rest by name.
pub fn counter_order<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    const FIRST: [&str; 10] = [
        "likes",
        "reposts",
        "replies",
        "quotes",
        "shares",
        "bookmarks",
        "views",
        "reach",
        "interactions",
        "followers",
    ];
    let mut names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    names.sort_by_key(|name| {
        (
            FIRST.iter().position(|f| f == name).unwrap_or(FIRST.len()),
            *name,
        )
    });
    names.dedup();
    names
}

/// A signed change as "+3", "-2", "0"; `None` as "not known".
fn signed(change: Option<i64>) -> String {
    match change {
        Some(n) if n > 0 => format!("+{n}"),
        Some(n) => n.to_string(),
        None => "not known".into(),
    }
}

/// "+12%" from `before` to `now`; `None` when either is unknown or `before` is zero.
fn percent(now: Option<u64>, before: Option<u64>) -> Option<String> {
    let (now, before) = (now?, before?);
    if before == 0 {
        return None;
    }
    let change = (now as f64 - before as f64) * 100.0 / before as f64;
    Some(format!(
        "{}{change:.0}%",
        if change > 0.0 { "+" } else { "" }
    ))
}

fn day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

fn minute(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The period as people say it: "2026-11-01 to 2026-11-30" (the last day included when
/// the period ends at midnight), else with times.
fn describe_period(period: Period, tz: Tz) -> String {
    let from = period.from.with_timezone(&tz);
    let to = period.to.with_timezone(&tz);
    let midnight = |t: &DateTime<Tz>| t.hour() == 0 && t.minute() == 0 && t.second() == 0;
    if midnight(&from) && midnight(&to) {
        let last = to - chrono::Duration::days(1);
        format!("{} to {}", from.format("%Y-%m-%d"), last.format("%Y-%m-%d"))
    } else {
        format!(
            "{} to {}",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M")
        )
    }
}

/// "followers" as "Followers".
fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
