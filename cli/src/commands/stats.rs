//! `postctl stats collect` reads counters from the networks; `postctl stats [ID]` shows
//! them: one post per network with its curve, or a table of recent posts.

use chrono::{DateTime, Duration, Utc};
use postctl_core::analytics::report::export::{self, ExportFormat};
use postctl_core::analytics::{
    Collect, Collected, counts_reactions, engagement, never_given, sparkline,
};
use postctl_core::platforms::Counters;
use postctl_core::store::{ExportKind, TargetMetrics, short_ids};
use serde_json::Value;

use crate::analytics::{PostStats, RecentStats, next_read, post_stats, span, standing};
use crate::args::{
    CollectArgs, StatsArgs, StatsCommand, StatsExportArgs, StatsExportFormat, StatsExportWhat,
};
use crate::context::Context;
use crate::engine::{engine, runtime};
use crate::exit::{CliError, CliResult};
use crate::output::{note, paint, print, print_json, stdout_color, table, when, write_out};

/// The widest curve drawn.
const CURVE_WIDTH: usize = 48;

pub fn run(ctx: &mut Context, args: &StatsArgs) -> CliResult {
    match (&args.command, &args.id) {
        (Some(StatsCommand::Collect(collect_args)), _) => collect(ctx, collect_args),
        (Some(StatsCommand::Export(export_args)), _) => export(ctx, export_args),
        (None, Some(id)) => one_post(ctx, id),
        (None, None) => recent(ctx, args),
    }
}

/// `stats export`: the readings streamed from the store to stdout or a file.
fn export(ctx: &mut Context, args: &StatsExportArgs) -> CliResult {
    let kind = match args.what {
        StatsExportWhat::Snapshots => ExportKind::Snapshots,
        StatsExportWhat::Daily => ExportKind::PostDays,
        StatsExportWhat::Accounts => ExportKind::AccountDays,
    };
    let format = match (args.format, ctx.json) {
        (Some(StatsExportFormat::Csv), _) | (None, false) => ExportFormat::Csv,
        (Some(StatsExportFormat::Json), _) | (None, true) => ExportFormat::Json,
    };
    let store = ctx.store()?;
    let account_id = match &args.account {
        Some(name) => Some(store.account(name)?.id),
        None => None,
    };
    let mut written = 0;
    write_out(args.output.as_deref(), |out| {
        written = export::write(store, kind, account_id.as_deref(), format, out)?;
        Ok(())
    })?;
    if let Some(path) = &args.output {
        note(format!("{written} readings written to {}", path.display()));
    }
    Ok(())
}

fn collect(ctx: &mut Context, args: &CollectArgs) -> CliResult {
    let since = span("--since", args.since.as_deref())?;
    let zone = ctx.zone(None)?;
    if let Some(name) = &args.account {
        ctx.store()?.account(name)?;
    }
    let plan = Collect {
        account: args.account.clone(),
        since,
        now: ctx.now,
        zone,
        keep_snapshots_days: ctx.config.analytics.keep_snapshots_days,
    };
    let store = ctx.take_store()?;
    let engine = engine(ctx, store)?;
    let runtime = runtime()?;
    let collected = runtime.block_on(engine.collect_metrics(&plan))?;
    for c in &collected {
        for warning in &c.warnings {
            note(format!("warning: {warning}"));
        }
    }
    if ctx.json {
        print_json(&collected)?;
    } else if !args.quiet {
        for c in &collected {
            note(describe(c));
        }
        if collected.is_empty() {
            note("no account postctl publishes to: nothing to collect");
        }
    }
    let failed: Vec<&Collected> = collected.iter().filter(|c| c.error.is_some()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    for c in &failed {
        note(format!(
            "{}: {}",
            c.account,
            c.error.as_deref().unwrap_or_default()
        ));
    }
    Err(CliError::failure(format!(
        "{} of {} accounts could not be read in full; what was read is kept, and the rest is read on the next run",
        failed.len(),
        collected.len()
    )))
}

/// One line per account for `stats collect`.
fn describe(c: &Collected) -> String {
    let mut said = vec![format!("{} ({})", c.account, c.network)];
    if c.posts_not_provided.is_none() {
        said.push(format!("{} posts read", c.posts_counted));
    }
    if c.posts_deleted > 0 {
        said.push(format!("{} deleted on the network", c.posts_deleted));
    }
    if c.posts_pending > 0 {
        said.push(format!(
            "{} not counted by the network yet (asked again next run)",
            c.posts_pending
        ));
    }
    if c.posts_not_due > 0 {
        said.push(format!("{} not due yet", c.posts_not_due));
    }
    if let Some(why) = &c.posts_not_provided {
        said.push(format!("no post counters: {why}"));
    }
    if let Some(figures) = &c.account_figures {
        said.push(counters_text(figures));
    }
    if let Some(why) = &c.account_not_provided {
        said.push(format!("no account figures: {why}"));
    }
    let (head, rest) = said.split_at(1);
    if rest.is_empty() {
        return format!("{}: nothing was due", head[0]);
    }
    format!("{}: {}", head[0], rest.join("; "))
}

/// "likes 12  reposts 3  reaction:🎉 2", in a stable order: the common counters first.
fn counters_text(counters: &Counters) -> String {
    const FIRST: [&str; 10] = [
        "likes",
        "reposts",
        "replies",
        "quotes",
        "bookmarks",
        "views",
        "followers",
        "following",
        "members",
        "posts",
    ];
    let mut names: Vec<&String> = counters.keys().collect();
    names.sort_by_key(|name| {
        (
            FIRST.iter().position(|f| f == name).unwrap_or(FIRST.len()),
            name.as_str(),
        )
    });
    names
        .into_iter()
        .map(|name| format!("{name} {}", counters[name]))
        .collect::<Vec<_>>()
        .join("  ")
}

fn one_post(ctx: &mut Context, typed: &str) -> CliResult {
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let PostStats {
        id,
        targets,
        curves,
    } = match post_stats(ctx.store()?, typed)? {
        stats if json => return print_json(&stats.json()),
        stats => stats,
    };
    let color = stdout_color();
    let mut out = format!("{} {id}  {}\n", paint("post", "1", color), targets[0].title);
    for (t, curve) in targets.iter().zip(&curves) {
        out += &format!(
            "\n{} ({})  published {}\n",
            paint(&t.account, "1", color),
            t.network.name(),
            when(Some(t.published), tz)
        );
        if let Some(url) = &t.url {
            out += &format!("  link:       {url}\n");
        }
        match (&t.counters, t.deleted, &t.not_provided) {
            (_, _, Some(why)) => out += &format!("  counters:   not provided: {why}\n"),
            (Some(counters), _, _) if counters.is_empty() => {
                out += "  counters:   none counted yet\n";
                out += "  engagement: 0\n";
            }
            (Some(counters), _, _) => {
                out += &format!("  counters:   {}\n", counters_text(counters));
                out += &format!("  engagement: {}\n", engagement(counters));
            }
            (None, _, _) => out += "  counters:   not read yet (run `postctl stats collect`)\n",
        }
        if let Some(deleted) = t.deleted {
            out += &format!(
                "  deleted:    the network said it is gone at {}; it is not asked again\n",
                when(Some(deleted), tz)
            );
        }
        let values: Vec<u64> = curve.iter().map(|(_, c)| engagement(c)).collect();
        if values.len() > 1 {
            out += &format!(
                "  curve:      {}  ({} readings, {} to {})\n",
                sparkline(&values, CURVE_WIDTH),
                values.len(),
                when(curve.first().map(|(at, _)| *at), tz),
                when(curve.last().map(|(at, _)| *at), tz)
            );
        }
        if let Some(last) = t.last_read {
            out += &format!("  read:       {}", when(Some(last), tz));
            match next_read(t) {
                Some(next) => out += &format!(", next {}\n", when(Some(next), tz)),
                None if t.deleted.is_none() => out += ", not again (older than 90 days)\n",
                None => out += "\n",
            }
        }
        if let Some(never) = never_given(t.network) {
            out += &format!("  never given: {never}\n");
        }
    }
    print(&out)
}

fn recent(ctx: &mut Context, args: &StatsArgs) -> CliResult {
    let span = span("--since", args.since.as_deref())?;
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let now = ctx.now;
    let store = ctx.store()?;
    let recent = RecentStats::read(
        store,
        now,
        args.account.as_deref(),
        span,
        args.sort,
        args.limit as usize,
    )?;
    if json {
        return print_json(&recent.json());
    }
    let RecentStats {
        span,
        rows,
        accounts,
    } = recent;
    let color = stdout_color();
    let accounts_table = accounts_table(&accounts, tz, color);
    if rows.is_empty() {
        note(format!(
            "no post was published in the last {}; try a longer --since",
            describe_span(span)
        ));
        return print(&accounts_table);
    }
    let ids: Vec<&str> = rows.iter().map(|t| t.post_id.as_str()).collect();
    let short = short_ids(store, &ids)?;
    let cell = |t: &TargetMetrics, name: &str| match (&t.counters, standing(t)) {
        (Some(c), _) => c
            .get(name)
            .map(u64::to_string)
            .unwrap_or_else(|| "n/a".into()),
        (None, "not provided") => "n/a".into(),
        (None, _) => "-".into(),
    };
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|t| {
            let reactions: u64 = t
                .counters
                .iter()
                .flatten()
                .filter(|(name, _)| name.starts_with("reaction:"))
                .map(|(_, n)| *n)
                .sum();
            vec![
                short.get(&t.post_id).cloned().unwrap_or_default(),
                t.account.clone(),
                when(Some(t.published), tz),
                match (&t.counters, standing(t)) {
                    (Some(c), _) => engagement(c).to_string(),
                    (None, "not provided") => "n/a".into(),
                    (None, _) => "-".into(),
                },
                cell(t, "likes"),
                cell(t, "reposts"),
                cell(t, "replies"),
                match &t.counters {
                    Some(_) if reactions > 0 || counts_reactions(t.network) => {
                        reactions.to_string()
                    }
                    Some(_) => "n/a".into(),
                    None if standing(t) == "not provided" => "n/a".into(),
                    None => "-".into(),
                },
                match (standing(t), t.last_read) {
                    ("read", Some(last)) => when(Some(last), tz),
                    (standing, _) => standing.to_string(),
                },
                t.title.chars().take(40).collect(),
            ]
        })
        .collect();
    print(&table(
        &[
            "POST",
            "ACCOUNT",
            "PUBLISHED",
            "ENGAGEMENT",
            "LIKES",
            "REPOSTS",
            "REPLIES",
            "REACTIONS",
            "READ",
            "TEXT",
        ],
        &table_rows,
        color,
    ))?;
    if !accounts_table.is_empty() {
        print(&format!("\n{accounts_table}"))?;
    }
    let mut networks: Vec<_> = rows.iter().map(|t| t.network).collect();
    networks.sort_by_key(|n| n.name());
    networks.dedup();
    for network in networks {
        if let Some(never) = never_given(network) {
            note(format!("{}: never gives {never}", network.display_name()));
        }
    }
    let mut told: Vec<&str> = Vec::new();
    for t in &rows {
        if let Some(why) = &t.not_provided
            && !told.contains(&t.account.as_str())
        {
            told.push(&t.account);
            note(format!("{}: {why}", t.account));
        }
    }
    Ok(())
}

/// The accounts' figures under the posts: followers or members, and their daily curve.
fn accounts_table(accounts: &[Value], tz: chrono_tz::Tz, color: bool) -> String {
    if accounts.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            let figure = |name: &str| {
                a["figures"][name]
                    .as_u64()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "n/a".into())
            };
            let audience = if a["figures"]["followers"].is_u64() {
                "followers"
            } else {
                "members"
            };
            let daily: Vec<u64> = a["daily"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["counters"][audience].as_u64())
                .collect();
            let read = a["last_read"]
                .as_str()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok());
            vec![
                a["account"].as_str().unwrap_or_default().to_string(),
                figure("followers"),
                figure("members"),
                sparkline(&daily, 30),
                match (a["not_provided"].as_str(), read) {
                    (Some(why), _) => format!("not provided: {why}"),
                    (None, read) => when(read, tz),
                },
            ]
        })
        .collect();
    table(
        &["ACCOUNT", "FOLLOWERS", "MEMBERS", "DAILY", "READ"],
        &rows,
        color,
    )
}

fn describe_span(span: Duration) -> String {
    if span.num_days() > 0 && span.num_hours() % 24 == 0 {
        format!("{} days", span.num_days())
    } else if span.num_hours() > 0 {
        format!("{} hours", span.num_hours())
    } else {
        format!("{} minutes", span.num_minutes())
    }
}
