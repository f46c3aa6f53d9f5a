//! The report as one self-contained HTML page: inline CSS, the charts as inline SVG, no
//! script, and no address of anything (no image, font, style sheet or link to load or
//! follow), so it opens the same from a mail attachment, offline, and leaks nothing about
//! who opens it. Links to the posts are in the Markdown, CSV and JSON reports.

use std::fmt::Write;

use chrono_tz::Tz;

use super::{
    AccountReport, PostReport, Report, Totals, capitalised, charts, counter_order, counters_text,
    describe_period, minute, percent, signed,
};
use crate::error::Result;

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222;
  max-width: 820px; margin: 24px auto; padding: 0 16px; line-height: 1.45; background: #fff; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: 4px; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
.muted { color: #666; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 6px; text-align: left; }
th { background: #f6f8fa; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.8em 0; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #555; }
.up { color: #2e7d32; } .down { color: #c62828; }
";

/// Text for HTML: `<`, `>`, `&` and quotes escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn number(value: Option<u64>, missing: &str) -> String {
    value
        .map(|n| n.to_string())
        .unwrap_or_else(|| missing.into())
}

/// A change coloured by its direction.
fn change(text: Option<String>) -> String {
    match text {
        Some(t) if t.starts_with('+') => format!("<span class=\"up\">{}</span>", esc(&t)),
        Some(t) if t.starts_with('-') => format!("<span class=\"down\">{}</span>", esc(&t)),
        Some(t) => esc(&t),
        None => "-".into(),
    }
}

fn engagement_text(totals: &Totals, why: Option<&str>) -> String {
    match (totals.engagement, why) {
        (Some(n), _) => n.to_string(),
        (None, Some(_)) => "not provided".into(),
        (None, None) if totals.posts == 0 => "no posts".into(),
        (None, None) => "not read yet".into(),
    }
}

pub(super) fn render(report: &Report, tz: Tz) -> Result<String> {
    let mut out = String::new();
    let title = format!(
        "Social media report: {}",
        describe_period(report.period, tz)
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">Compared with the period before ({}). Times in {}; made {}.</p>",
        esc(&describe_period(report.previous_period, tz)),
        esc(&report.zone),
        esc(&minute(report.generated, tz))
    );
    if report.accounts.is_empty() {
        out.push_str("<p>No account yet: add one with <code>postctl accounts add</code>.</p>\n");
    } else {
        summary(&mut out, report);
        for a in &report.accounts {
            account(&mut out, report, a, tz)?;
        }
        networks(&mut out, report, tz);
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn summary(out: &mut String, report: &Report) {
    out.push_str(
        "<h2>Summary</h2>\n<table>\n<tr><th>Account</th><th>Network</th><th class=\"n\">Posts</th>\
         <th class=\"n\">Engagement</th><th class=\"n\">Previous period</th><th class=\"n\">Change</th>\
         <th class=\"n\">Audience</th><th class=\"n\">Audience change</th></tr>\n",
    );
    for a in &report.accounts {
        let why = a.collection.posts_not_provided.as_deref();
        let audience = match (&a.audience.not_provided, a.audience.end, a.audience.counter) {
            (Some(_), _, _) => "not provided".to_string(),
            (None, Some(n), Some(counter)) => format!("{n} {counter}"),
            _ => "not read yet".to_string(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&a.account),
            esc(a.network.display_name()),
            a.totals.posts,
            engagement_text(&a.totals, why),
            engagement_text(&a.previous_totals, why),
            change(percent(a.totals.engagement, a.previous_totals.engagement)),
            esc(&audience),
            change(a.audience.change.map(|c| signed(Some(c)))),
        );
    }
    out.push_str("</table>\n");
}

fn account(out: &mut String, report: &Report, a: &AccountReport, tz: Tz) -> Result<()> {
    let _ = writeln!(
        out,
        "<section class=\"account\">\n<h2>{} <span class=\"muted\">({})</span></h2>",
        esc(&a.account),
        esc(a.network.display_name())
    );
    match (&a.audience.not_provided, a.audience.counter) {
        (Some(why), _) => {
            let _ = writeln!(out, "<p>Audience: not provided ({}).</p>", esc(why));
        }
        (None, Some(counter)) => {
            let _ = writeln!(
                out,
                "<h3>{} over the period</h3>\n<p>{} at the end of the period, {} in it (previous period: {}).</p>",
                esc(&capitalised(counter)),
                number(a.audience.end, "not read in the period"),
                change(Some(signed(a.audience.change))),
                change(Some(signed(a.audience.previous_change))),
            );
            if !a.audience.points.is_empty() {
                let svg = charts::audience(
                    &a.audience.points,
                    report.period.from,
                    report.period.to,
                    counter,
                    tz,
                )?;
                let _ = writeln!(
                    out,
                    "<figure data-chart=\"followers\">{svg}<figcaption>{} per day, as last read each day.</figcaption></figure>",
                    esc(&capitalised(counter))
                );
            }
        }
        (None, None) => out
            .push_str("<p>Audience: not read yet (run <code>postctl stats collect</code>).</p>\n"),
    }
    if let Some(why) = &a.collection.posts_not_provided {
        let _ = writeln!(
            out,
            "<p>Posts: {} published; their counters are not provided: {}.</p>",
            a.totals.posts,
            esc(why)
        );
        posts_table(out, &a.posts, tz);
        out.push_str("</section>\n");
        return Ok(());
    }
    out.push_str(
        "<h3>This period against the previous one</h3>\n<table>\n<tr><th></th><th class=\"n\">This period</th>\
         <th class=\"n\">Previous period</th><th class=\"n\">Change</th></tr>\n",
    );
    let row = |out: &mut String, name: &str, now: Option<u64>, before: Option<u64>| {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(name),
            number(now, "-"),
            number(before, "-"),
            change(percent(now, before)),
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
    for name in counter_order(
        a.totals
            .counters
            .keys()
            .chain(a.previous_totals.counters.keys()),
    ) {
        row(
            out,
            &capitalised(name),
            a.totals.counters.get(name).copied(),
            a.previous_totals.counters.get(name).copied(),
        );
    }
    out.push_str("</table>\n");
    if !a.collection.dropped.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"muted\">No longer given by the network: {}.</p>",
            esc(&a.collection.dropped.join(", "))
        );
    }
    if !a.top_posts.is_empty() {
        out.push_str("<h3>Top posts</h3>\n<ol>\n");
        for p in &a.top_posts {
            let _ = writeln!(
                out,
                "<li>{} — engagement <b>{}</b> <span class=\"muted\">({}; published {})</span></li>",
                esc(&p.title),
                number(p.engagement, "-"),
                esc(&counters_text(p.counters.as_ref())),
                esc(&minute(p.published, tz)),
            );
        }
        out.push_str("</ol>\n");
    }
    if a.posts.iter().any(|p| p.engagement.is_some()) {
        let svg = charts::engagement(&a.posts)?;
        let _ = writeln!(
            out,
            "<h3>Engagement per post</h3>\n<figure data-chart=\"engagement\">{svg}<figcaption>Each post published in the period, numbered as in the table below; a post not read yet has no bar.</figcaption></figure>"
        );
    }
    if a.best_times.highest().is_some() {
        let svg = charts::heat_map(&a.best_times)?;
        let _ = writeln!(
            out,
            "<h3>Best times to post</h3>\n<figure data-chart=\"best-times\">{svg}<figcaption>Mean {} of the posts published in each hour of the week ({}), over the year before the period ended (posts at least two days old); darker is better, grey is no post.</figcaption></figure>",
            esc(&a
                .best_times
                .measure
                .describe(a.audience.counter.unwrap_or("followers"))),
            esc(&a.best_times.zone)
        );
    }
    posts_table(out, &a.posts, tz);
    out.push_str("</section>\n");
    Ok(())
}

fn posts_table(out: &mut String, posts: &[PostReport], tz: Tz) {
    if posts.is_empty() {
        out.push_str("<p>No post was published in this period.</p>\n");
        return;
    }
    let names = counter_order(
        posts
            .iter()
            .filter_map(|p| p.counters.as_ref())
            .flat_map(|c| c.keys()),
    );
    out.push_str("<h3>Posts published in the period</h3>\n<table>\n<tr><th class=\"n\">#</th><th>Published</th><th>Post</th><th class=\"n\">Engagement</th>");
    for name in &names {
        let _ = write!(out, "<th class=\"n\">{}</th>", esc(&capitalised(name)));
    }
    out.push_str("</tr>\n");
    for (i, p) in posts.iter().enumerate() {
        let engagement = match (&p.counters, p.deleted) {
            (Some(_), _) => number(p.engagement, "-"),
            (None, Some(_)) => "deleted".into(),
            (None, None) => "-".into(),
        };
        let deleted = match p.deleted {
            Some(at) => format!(
                " <span class=\"muted\">(deleted on the network {})</span>",
                esc(&minute(at, tz))
            ),
            None => String::new(),
        };
        let _ = write!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}{deleted}</td><td class=\"n\">{engagement}</td>",
            i + 1,
            esc(&minute(p.published, tz)),
            esc(&p.title),
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
            let _ = write!(out, "<td class=\"n\">{value}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<p class=\"muted\">-: not read yet; n/a: the network does not give this counter for the post.</p>\n");
}

fn networks(out: &mut String, report: &Report, tz: Tz) {
    out.push_str("<h2>Networks</h2>\n<ul>\n");
    for n in &report.networks {
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
        let _ = writeln!(
            out,
            "<li><b>{}</b> ({}): {}.</li>",
            esc(n.network.display_name()),
            esc(&n.accounts.join(", ")),
            esc(&said.join("; "))
        );
    }
    out.push_str("</ul>\n");
}
