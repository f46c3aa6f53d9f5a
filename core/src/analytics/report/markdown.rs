//! The report as Markdown: a summary table, then per account its audience, the period
//! against the previous one, top posts and every post, then what each network does not
//! provide and when it was last read.

use std::fmt::Write;

use chrono_tz::Tz;

use super::{
    AccountReport, PostReport, Report, Totals, capitalised, counter_order, counters_text, day,
    describe_period, minute, percent, signed,
};
use crate::analytics::sparkline;

/// A table cell's text: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|")
}

fn engagement_text(totals: &Totals, why: Option<&str>) -> String {
    match (totals.engagement, why) {
        (Some(n), _) => n.to_string(),
        (None, Some(_)) => "not provided".into(),
        (None, None) if totals.posts == 0 => "no posts".into(),
        (None, None) => "not read yet".into(),
    }
}

pub(super) fn render(report: &Report, tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Social media report: {}\n",
        describe_period(report.period, tz)
    );
    let _ = writeln!(
        out,
        "Compared with the period before ({}). Times in {}; made {}.\n",
        describe_period(report.previous_period, tz),
        report.zone,
        minute(report.generated, tz)
    );
    if report.accounts.is_empty() {
        out.push_str("No account yet: add one with `postctl accounts add`.\n");
        return out;
    }
    out.push_str("## Summary\n\n");
    out.push_str("| Account | Network | Posts | Engagement | Previous period | Change | Audience | Audience change |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for a in &report.accounts {
        let why = a.collection.posts_not_provided.as_deref();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&a.account),
            a.network.display_name(),
            a.totals.posts,
            engagement_text(&a.totals, why),
            engagement_text(&a.previous_totals, why),
            percent(a.totals.engagement, a.previous_totals.engagement)
                .unwrap_or_else(|| "-".into()),
            audience_text(a),
            match a.audience.change {
                Some(_) => signed(a.audience.change),
                None => "-".into(),
            },
        );
    }
    for a in &report.accounts {
        account(&mut out, a, tz);
    }
    out.push_str("\n## Networks\n\n");
    for n in &report.networks {
        let _ = write!(
            out,
            "- **{}** ({}): ",
            n.network.display_name(),
            n.accounts.join(", ")
        );
        let mut said = Vec::new();
        if let Some(never) = n.never_given {
            said.push(format!("never gives {never}"));
        }
        for why in &n.not_provided {
            said.push(format!("not provided: {why}"));
        }
        said.push(match n.last_collected {
            Some(at) => format!("last collected {}", minute(at, tz)),
            None => "never collected (run `postctl stats collect`)".into(),
        });
        let _ = writeln!(out, "{}.", said.join("; "));
    }
    out
}

fn audience_text(a: &AccountReport) -> String {
    match (&a.audience.not_provided, a.audience.end, a.audience.counter) {
        (Some(_), _, _) => "not provided".into(),
        (None, Some(n), Some(counter)) => format!("{n} {counter}"),
        _ => "not read yet".into(),
    }
}

fn account(out: &mut String, a: &AccountReport, tz: Tz) {
    let _ = writeln!(
        out,
        "\n## {} ({})\n",
        cell(&a.account),
        a.network.display_name()
    );
    match (&a.audience.not_provided, a.audience.counter) {
        (Some(why), _) => {
            let _ = writeln!(out, "Audience: not provided ({why}).\n");
        }
        (None, Some(counter)) => {
            let values: Vec<u64> = a.audience.points.iter().map(|(_, n)| *n).collect();
            let _ = writeln!(
                out,
                "**{}**: {} at the end of the period, {} in it (previous period: {}). Daily: {}\n",
                capitalised(counter),
                a.audience
                    .end
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "not read in the period".into()),
                signed(a.audience.change),
                signed(a.audience.previous_change),
                if values.is_empty() {
                    "no reading".into()
                } else {
                    format!("`{}`", sparkline(&values, 31))
                }
            );
        }
        (None, None) => out.push_str("Audience: not read yet (run `postctl stats collect`).\n\n"),
    }
    if let Some(why) = &a.collection.posts_not_provided {
        let _ = writeln!(
            out,
            "Posts: {} published; their counters are not provided: {why}.",
            a.totals.posts
        );
        posts_list(out, &a.posts, tz);
        return;
    }
    // The period against the previous one, counter by counter.
    out.push_str("| | This period | Previous period | Change |\n|---|---:|---:|---:|\n");
    let row = |out: &mut String, name: &str, now: Option<u64>, before: Option<u64>| {
        let shown = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            shown(now),
            shown(before),
            percent(now, before).unwrap_or_else(|| "-".into())
        );
    };
    row(
        out,
        "Posts",
        Some(a.totals.posts as u64),
        Some(a.previous_totals.posts as u64),
    );
    row(
        out,
        "Engagement",
        a.totals.engagement,
        a.previous_totals.engagement,
    );
    let names = counter_order(
        a.totals
            .counters
            .keys()
            .chain(a.previous_totals.counters.keys()),
    );
    for name in names {
        row(
            out,
            &capitalised(name),
            a.totals.counters.get(name).copied(),
            a.previous_totals.counters.get(name).copied(),
        );
    }
    if !a.collection.dropped.is_empty() {
        let _ = writeln!(
            out,
            "\nNo longer given by the network: {}.",
            a.collection.dropped.join(", ")
        );
    }
    if !a.top_posts.is_empty() {
        out.push_str("\n### Top posts\n\n");
        for (i, p) in a.top_posts.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} — engagement {} ({}), published {}{}",
                i + 1,
                cell(&p.title),
                p.engagement.unwrap_or_default(),
                counters_text(p.counters.as_ref()),
                minute(p.published, tz),
                p.url
                    .as_deref()
                    .map(|u| format!(" — <{u}>"))
                    .unwrap_or_default()
            );
        }
    }
    posts_list(out, &a.posts, tz);
}

fn posts_list(out: &mut String, posts: &[PostReport], tz: Tz) {
    if posts.is_empty() {
        out.push_str("\nNo post was published in this period.\n");
        return;
    }
    let names = counter_order(
        posts
            .iter()
            .filter_map(|p| p.counters.as_ref())
            .flat_map(|c| c.keys()),
    );
    out.push_str("\n### Posts published in the period\n\n| Published | Post | Engagement |");
    for name in &names {
        let _ = write!(out, " {} |", capitalised(name));
    }
    out.push_str(" Link |\n|---|---|---:|");
    for _ in &names {
        out.push_str("---:|");
    }
    out.push_str("---|\n");
    for p in posts {
        let engagement = match (&p.counters, p.deleted) {
            (Some(_), _) => p.engagement.unwrap_or_default().to_string(),
            (None, Some(_)) => "deleted".into(),
            (None, None) => "-".into(),
        };
        let _ = write!(
            out,
            "| {} | {}{} | {engagement} |",
            minute(p.published, tz),
            cell(&p.title),
            match p.deleted {
                Some(at) => format!(" (deleted on the network {})", day(at, tz)),
                None => String::new(),
            }
        );
        for name in &names {
            let value = p
                .counters
                .as_ref()
                .map(|c| {
                    c.get(*name)
                        .map(u64::to_string)
                        .unwrap_or_else(|| "n/a".into())
                })
                .unwrap_or_else(|| "-".into());
            let _ = write!(out, " {value} |");
        }
        let _ = writeln!(
            out,
            " {} |",
            p.url
                .as_deref()
                .map(|u| format!("<{u}>"))
                .unwrap_or_default()
        );
    }
    out.push_str(
        "\n`-`: not read yet; `n/a`: the network does not give this counter for the post.\n",
    );
}
