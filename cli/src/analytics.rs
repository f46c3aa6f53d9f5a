//! What `stats`, `insights`, `queue slots suggest` and the MCP `stats` and `insights` tools
//! share: reading the analytics from the store and shaping them as the `--json` output
//! (which the MCP tools return as their structured result). The verbs print from these.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use postctl_core::analytics::insights::{AccountInsights, Period, SLOT_HISTORY, account_insights};
use postctl_core::analytics::{engagement, never_given, parse_span, schedule, since};
use postctl_core::store::{MetricStanding, Store, TargetMetrics};
use postctl_core::time::parse_zone;
use serde::Serialize;
use serde_json::{Value, json};

use crate::args::StatsSort;
use crate::context::Context;
use crate::exit::{CliError, CliResult};

/// How far back `stats` and `insights` look without `--since`.
pub const DEFAULT_SINCE: Duration = Duration::days(30);
/// The longest `--since` of `insights` (its previous period is as long again).
pub const LONGEST_SPAN: Duration = Duration::days(366);

/// A span typed by the user ("7d"), or a usage error saying how to write one.
pub fn span(flag: &str, text: Option<&str>) -> CliResult<Option<Duration>> {
    text.map(|text| {
        parse_span(text).ok_or_else(|| {
            CliError::usage(format!(
                "{flag} {text:?} is not a span; write a number and a unit: 90m, 48h, 7d or 2w"
            ))
        })
    })
    .transpose()
}

/// What a row's counters are, or why there are none.
pub fn standing(t: &TargetMetrics) -> &'static str {
    if t.deleted.is_some() {
        "deleted"
    } else if t.not_provided.is_some() {
        "not provided"
    } else if t.counters.is_some() {
        "read"
    } else {
        "not read yet"
    }
}

/// When a post's counters are read next; `None` when never again.
pub fn next_read(t: &TargetMetrics) -> Option<DateTime<Utc>> {
    if t.deleted.is_some() || t.not_provided.is_some() {
        return None;
    }
    match t.last_read {
        Some(last) => schedule::post_next(t.published, last),
        None => Some(t.published),
    }
}

/// One post on one account as `stats --json` shows it, with its curve when given.
pub fn target_json(t: &TargetMetrics, curve: Option<Vec<Value>>) -> Value {
    let mut value = json!({
        "post_id": t.post_id,
        "account": t.account,
        "network": t.network.name(),
        "url": t.url,
        "published": t.published,
        "standing": standing(t),
        "counters": t.counters,
        "engagement": t.counters.as_ref().map(engagement),
        "last_read": t.last_read,
        "next_read": next_read(t),
        "deleted": t.deleted,
        "not_provided": t.not_provided,
        "never_given": never_given(t.network),
    });
    if let Some(curve) = curve {
        value["curve"] = Value::Array(curve);
    }
    value
}

/// One post's counters per network with their curves: `stats ID --json`.
pub fn post_stats(store: &Store, typed: &str) -> CliResult<PostStats> {
    let id = store.resolve_post_id(typed)?;
    let targets = store.target_metrics(Some(&id), None, None)?;
    if targets.is_empty() {
        return Err(CliError::usage(format!(
            "post {id} was not published anywhere, so no network has counters for it; publish it first (`postctl post`, `postctl schedule`)"
        )));
    }
    let mut curves = Vec::with_capacity(targets.len());
    for t in &targets {
        curves.push(store.target_curve(&t.target_id)?);
    }
    Ok(PostStats {
        id,
        targets,
        curves,
    })
}

/// A post's counters and curves, as read.
pub struct PostStats {
    pub id: String,
    pub targets: Vec<TargetMetrics>,
    pub curves: Vec<Vec<postctl_core::store::Reading>>,
}

impl PostStats {
    pub fn json(&self) -> Value {
        let targets: Vec<Value> = self
            .targets
            .iter()
            .zip(&self.curves)
            .map(|(t, curve)| {
                let points = curve
                    .iter()
                    .map(|(at, counters)| {
                        json!({"at": at, "engagement": engagement(counters), "counters": counters})
                    })
                    .collect();
                target_json(t, Some(points))
            })
            .collect();
        json!({"post_id": self.id, "targets": targets})
    }
}

/// Each account's last figures, when read, why not, and their daily curve (`stats`).
pub fn account_rows(store: &Store, only: Option<&str>) -> CliResult<Vec<Value>> {
    let mut rows = Vec::new();
    for account in store.accounts()? {
        if only.is_some_and(|name| name != account.name) {
            continue;
        }
        let Some(figures) = store.account_figures(&account.id)? else {
            continue;
        };
        let curve: Vec<Value> = store
            .account_curve(&account.id)?
            .into_iter()
            .map(|(at, counters)| json!({"at": at, "counters": counters}))
            .collect();
        rows.push(json!({
            "account": account.name,
            "network": account.network.name(),
            "figures": figures.counters,
            "last_read": figures.last_read,
            "not_provided": figures.not_provided,
            "daily": curve,
        }));
    }
    Ok(rows)
}

/// The insights of one account, with what the user should know about its collection.
#[derive(Debug, Serialize)]
pub struct AccountReport {
    #[serde(flatten)]
    pub insights: AccountInsights,
    /// The zone best times are in: the account's queue zone, else the user's.
    pub zone: String,
    /// Where collection stands: when last read, what the network does not provide.
    pub collection: MetricStanding,
    /// What the network never gives.
    pub never_given: Option<&'static str>,
}

/// `insights --json`: the period, the one before it, and each account's insights.
#[derive(Debug, Serialize)]
pub struct InsightsReport {
    pub now: DateTime<Utc>,
    pub period: Period,
    pub previous: Period,
    pub accounts: Vec<AccountReport>,
}

impl InsightsReport {
    /// The JSON of `insights --json` and the MCP tool: the report, with each account's
    /// best times saying in words how sure they are.
    pub fn json(&self) -> Value {
        let mut value = crate::mcp::json_value(self);
        if let Some(accounts) = value["accounts"].as_array_mut() {
            for (account, report) in accounts.iter_mut().zip(&self.accounts) {
                let times = &report.insights.best_times;
                account["best_times"]["statement"] = json!(times.statement());
                if let Some(slots) = account["best_times"]["slots"].as_array_mut() {
                    for (slot, best) in slots.iter_mut().zip(&times.slots) {
                        slot["says"] = json!(best.certainty.says());
                        slot["label"] = json!(best.label());
                    }
                }
            }
        }
        value
    }
}

/// The zone an account's best times are read in: its queue's, else the user's.
pub fn account_zone(ctx: &mut Context, account: &str) -> CliResult<Tz> {
    let fallback = ctx.zone(None)?;
    Ok(match ctx.store()?.slots(account)? {
        Some(slots) => parse_zone(&slots.tz)?,
        None => fallback,
    })
}

/// Insights over the `span` before now (default 30 days), for one account or every live
/// one; their best times from the last year, and `top` top posts each.
pub fn insights(
    ctx: &mut Context,
    account: Option<&str>,
    span: Option<Duration>,
    top: usize,
) -> CliResult<InsightsReport> {
    let span = span.unwrap_or(DEFAULT_SINCE);
    if span > LONGEST_SPAN {
        return Err(CliError::usage(format!(
            "the period is longer than {} days; insights compare it with the one before it, so ask for a year at most (e.g. 52w)",
            LONGEST_SPAN.num_days()
        )));
    }
    // The store's clock: a pinned one is moved on to the database's last change, so a
    // post published by an earlier command is never "in the future".
    let now = ctx.store()?.clock().now().max(ctx.now);
    let period = Period::ending(now, span);
    let previous = period.previous();
    let account_id = match account {
        Some(name) => Some(ctx.store()?.account(name)?.id),
        None => None,
    };
    let from = since(now, SLOT_HISTORY).min(previous.from);
    let histories = ctx
        .store()?
        .account_histories(account_id.as_deref(), from)?;
    let mut accounts = Vec::with_capacity(histories.len());
    for history in histories {
        let tz = account_zone(ctx, &history.account)?;
        let id = ctx.store()?.account(&history.account)?.id;
        let collection = ctx.store()?.metric_standing(&id)?;
        accounts.push(AccountReport {
            insights: account_insights(&history, period, now, tz, top),
            zone: tz.name().to_string(),
            collection,
            never_given: never_given(history.network),
        });
    }
    Ok(InsightsReport {
        now,
        period,
        previous,
        accounts,
    })
}

fn sort_key(t: &TargetMetrics, sort: StatsSort) -> u64 {
    let counter = |name: &str| {
        t.counters
            .as_ref()
            .and_then(|c| c.get(name).copied())
            .unwrap_or(0)
    };
    match sort {
        StatsSort::Engagement => t.counters.as_ref().map(engagement).unwrap_or(0),
        StatsSort::Recent => 0,
        StatsSort::Likes => counter("likes"),
        StatsSort::Reposts => counter("reposts"),
        StatsSort::Replies => counter("replies"),
    }
}

/// The table of `stats` without an id: posts published within `span` before `now` (on
/// `account` when given) in the order asked, at most `limit`, and the accounts' figures.
pub struct RecentStats {
    pub span: Duration,
    pub rows: Vec<TargetMetrics>,
    pub accounts: Vec<Value>,
}

impl RecentStats {
    pub fn read(
        store: &Store,
        now: DateTime<Utc>,
        account: Option<&str>,
        span: Option<Duration>,
        sort: StatsSort,
        limit: usize,
    ) -> CliResult<RecentStats> {
        let span = span.unwrap_or(DEFAULT_SINCE);
        let account_id = match account {
            Some(name) => Some(store.account(name)?.id),
            None => None,
        };
        let mut rows = store.target_metrics(None, account_id.as_deref(), Some(since(now, span)))?;
        // Stable: among equals, the newer post (the store's order) stays first.
        rows.sort_by_key(|t| std::cmp::Reverse(sort_key(t, sort)));
        rows.truncate(limit);
        Ok(RecentStats {
            span,
            rows,
            accounts: account_rows(store, account)?,
        })
    }

    /// `stats --json`.
    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self.rows.iter().map(|t| target_json(t, None)).collect();
        json!({"posts": rows, "accounts": self.accounts})
    }
}
