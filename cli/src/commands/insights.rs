//! `postctl insights`: what each account's history says (best times, top posts, growth,
//! outliers, the trend), read from the store; `crate::analytics` does the reading.

use chrono_tz::Tz;
use postctl_core::analytics::insights::{
    BestTimes, Growth, MIN_POSTS_FOR_OUTLIERS, OUTLIER_SCORE, Outlier, PostEngagement, Trend,
    TrendDirection,
};
use postctl_core::store::short_ids;

use crate::analytics::{AccountReport, insights, span};
use crate::args::InsightsArgs;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, paint, print, print_json, stdout_color, when};

pub fn run(ctx: &mut Context, args: &InsightsArgs) -> CliResult {
    let span = span("--since", args.since.as_deref())?;
    let report = insights(ctx, args.account.as_deref(), span, args.top as usize)?;
    if ctx.json {
        return print_json(&report.json());
    }
    let tz = ctx.zone(None)?;
    if report.accounts.is_empty() {
        note("no account yet; add one with `postctl accounts add`");
        return Ok(());
    }
    let color = stdout_color();
    let mut out = String::new();
    let store = ctx.store()?;
    for (i, account) in report.accounts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let ids: Vec<&str> = account
            .insights
            .top_posts
            .iter()
            .chain(outlier_posts(account))
            .map(|p| p.post_id.as_str())
            .collect();
        let short = short_ids(store, &ids)?;
        let short = |id: &str| short.get(id).cloned().unwrap_or_else(|| id.to_string());
        out += &account_text(account, tz, color, &short);
    }
    print(&out)?;
    note(
        "posts count once 48 hours old; `postctl insights --help` says how slots and outliers are judged",
    );
    Ok(())
}

fn outlier_posts(account: &AccountReport) -> impl Iterator<Item = &PostEngagement> {
    let outliers = &account.insights.outliers;
    outliers
        .above
        .iter()
        .chain(&outliers.below)
        .map(|o| &o.post)
}

/// "1,234".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A mean: two decimals below 10, one above.
fn number(value: f64) -> String {
    if value.abs() < 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

fn account_text(
    account: &AccountReport,
    tz: Tz,
    color: bool,
    short: &dyn Fn(&str) -> String,
) -> String {
    let insights = &account.insights;
    let period = insights.period;
    let mut out = format!(
        "{} ({})  {} to {}\n",
        paint(&insights.account, "1", color),
        insights.network.display_name(),
        when(Some(period.from), tz),
        when(Some(period.to), tz)
    );
    let collection = &account.collection;
    let nothing_read = insights.posts == 0
        && insights.best_times.posts == 0
        && insights.growth.is_none()
        && collection.posts_last_read.is_none()
        && collection.account_last_read.is_none();
    if nothing_read
        && account
            .never_given
            .is_some_and(|n| n.starts_with("anything"))
    {
        out += &format!(
            "  {} gives nothing to read: {}\n",
            insights.network.display_name(),
            account.never_given.unwrap_or_default()
        );
        return out;
    }
    if nothing_read {
        out += "  nothing collected yet: run `postctl stats collect` (cron: every hour)\n";
        return out;
    }
    out += &format!(
        "  posts:       {} published with counters in the period\n",
        insights.posts
    );
    if collection.posts_not_provided.is_none() {
        out += &format!("  trend:       {}\n", trend_text(&insights.trend));
    }
    match &insights.growth {
        Some(growth) => {
            out += &format!(
                "  {:<12} {}\n",
                format!("{}:", growth.counter),
                growth_text(growth, tz)
            )
        }
        None => match &collection.account_not_provided {
            Some(why) => out += &format!("  audience:    not provided: {why}\n"),
            None => out += "  audience:    not read yet\n",
        },
    }
    if let Some(why) = &collection.posts_not_provided {
        out += &format!("  counters:    not provided: {why}\n");
    } else {
        out += &best_times_text(&insights.best_times, &insights.measure, &account.zone);
        out += &top_text(&insights.top_posts, tz, short);
        out += &outliers_text(account, short);
    }
    out += &format!(
        "  read:        posts {}, {} {}\n",
        when(collection.posts_last_read, tz),
        insights
            .growth
            .as_ref()
            .map(|g| g.counter)
            .unwrap_or("audience"),
        when(collection.account_last_read, tz)
    );
    if !collection.dropped.is_empty() {
        out += &format!(
            "  stopped:     the network stopped giving {}\n",
            collection.dropped.join(", ")
        );
    }
    if let Some(never) = account.never_given {
        out += &format!("  never given: {never}\n");
    }
    out
}

fn trend_text(trend: &Trend) -> String {
    let days = (trend.current.period.to - trend.current.period.from).num_days();
    let before = match days {
        0 => "the period before".to_string(),
        1 => "the day before".to_string(),
        n => format!("the {n} days before"),
    };
    let now = trend.current.per_post.map(number);
    let then = trend.previous.per_post.map(number);
    match (trend.direction, now, then, trend.change_percent) {
        (TrendDirection::Unknown, None, _, _) => format!(
            "no post old enough to compare in this period ({} published)",
            trend.current.posts
        ),
        (TrendDirection::Unknown, Some(now), _, _) => {
            format!("engagement per post {now}; no post to compare with in {before}")
        }
        (direction, Some(now), Some(then), change) => {
            let word = match direction {
                TrendDirection::Up => "up",
                TrendDirection::Down => "down",
                TrendDirection::Flat | TrendDirection::Unknown => "flat",
            };
            let change = change
                .map(|c| format!(" {:.0}%", c.abs()))
                .unwrap_or_default();
            format!(
                "engagement per post {now}, {word}{change} from {then} in {before} ({} and {} posts compared)",
                trend.current.compared, trend.previous.compared
            )
        }
        _ => "not known".into(),
    }
}

fn growth_text(growth: &Growth, tz: Tz) -> String {
    let percent = growth
        .percent
        .map(|p| format!(", {p:+.1}%"))
        .unwrap_or_default();
    format!(
        "{} -> {} ({:+}{percent}) from {} to {}",
        thousands(growth.start),
        thousands(growth.end),
        growth.change,
        when(Some(growth.start_at), tz),
        when(Some(growth.end_at), tz)
    )
}

fn best_times_text(times: &BestTimes, measure: &str, zone: &str) -> String {
    let mut out = format!(
        "  best times:  {} over the last year\n               values: {measure}, times in {zone}\n",
        times.statement()
    );
    if times.not_enough.is_some() {
        return out;
    }
    for slot in times.slots.iter().take(5) {
        let lift = slot
            .lift
            .map(|l| format!(", {l:.1}x the other posts"))
            .unwrap_or_default();
        out += &format!(
            "               {}  {}  ({} posts{lift})  {}\n",
            slot.label(),
            number(slot.value),
            slot.posts,
            slot.certainty.says()
        );
    }
    if times.slots.len() > 5 {
        out += &format!(
            "               and {} more slots with 3+ posts (--json has them all)\n",
            times.slots.len() - 5
        );
    }
    out
}

fn top_text(top: &[PostEngagement], tz: Tz, short: &dyn Fn(&str) -> String) -> String {
    if top.is_empty() {
        return "  top posts:   none in the period\n".into();
    }
    let ids: Vec<String> = top.iter().map(|p| short(&p.post_id)).collect();
    let id_width = ids.iter().map(|id| id.chars().count()).max().unwrap_or(0);
    let count_width = top
        .iter()
        .map(|p| p.engagement.to_string().len())
        .max()
        .unwrap_or(0);
    let mut out = "  top posts:   (engagement, published, text)\n".to_string();
    for (post, id) in top.iter().zip(&ids) {
        out += &format!(
            "    {id:<id_width$}  {:>count_width$}  {}  {}\n",
            post.engagement,
            when(Some(post.published), tz),
            post.title.chars().take(40).collect::<String>()
        );
    }
    out
}

fn outliers_text(account: &AccountReport, short: &dyn Fn(&str) -> String) -> String {
    let outliers = &account.insights.outliers;
    if let Some(why) = &outliers.not_enough {
        return format!("  outliers:    not enough data yet: {why}\n");
    }
    let median = outliers.median.map(number).unwrap_or_default();
    if outliers.above.is_empty() && outliers.below.is_empty() {
        return format!(
            "  outliers:    none ({} posts compared, median engagement {median})\n",
            outliers.posts
        );
    }
    let list = |list: &[Outlier]| -> String {
        list.iter()
            .map(|o| format!("{} ({})", short(&o.post.post_id), o.post.engagement))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "  outliers:    median engagement {median} over {} posts; far is a robust z-score beyond {OUTLIER_SCORE} (from {MIN_POSTS_FOR_OUTLIERS} posts)\n",
        outliers.posts
    );
    if !outliers.above.is_empty() {
        out += &format!("    far above: {}\n", list(&outliers.above));
    }
    if !outliers.below.is_empty() {
        out += &format!("    far below: {}\n", list(&outliers.below));
    }
    out
}
