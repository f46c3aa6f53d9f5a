//! Showing posts: the listing that `list`, `draft list` and `search` print (streamed, a page
//! at a time), one post in full, what a command that created or scheduled a post tells the
//! user (and its warning for networks that cannot publish yet), the table of templates
//! that `template list` and `search` print, and the calendar's posts day by day (`calendar`
//! and the MCP server).

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use postctl_core::content::template::Template;
use postctl_core::exchange::JsonArray;
use postctl_core::model::{Account, Post, Schedule, Target, TargetState};
use postctl_core::platforms::can_publish;
use postctl_core::store::short_ids;
use postctl_core::store::{ListFilter, ServerTargetState, Store};
use postctl_core::time::{Disambiguation, WeeklyRule, resolve_local};
use serde::Serialize;

use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{
    excerpt, note, paint, print, print_json, state_color, stdout_color, table, visible_width, when,
};

/// Rows of a table measured together: the first this many set the column widths of a long
/// listing, which is printed as it is read.
const MEASURED_ROWS: usize = 1000;

/// Prints the posts matching `filter`, at most `limit` of them: a table, or a JSON array
/// with `--json`. Rows are printed as they are read. When the limit cut the listing, a
/// line on stderr says how many more there are.
pub fn print_posts(
    ctx: &mut Context,
    filter: &ListFilter,
    tz: Option<&str>,
    limit: Option<usize>,
) -> CliResult {
    let tz = ctx.zone(tz)?;
    let json = ctx.json;
    let store = ctx.store()?;
    let linked = store.is_linked()?;
    let color = stdout_color();
    let mut shown = 0;
    let streamed = if json {
        let mut array = JsonArray::new(BufWriter::new(std::io::stdout().lock()));
        let listed = store.each_post(filter, limit, |post| {
            shown += 1;
            if !linked {
                return array.push(&post).map_err(stdout_error);
            }
            let (post, server_targets) = with_server_states(store, post, false)?;
            array
                .push(&LinkedPost {
                    post: &post,
                    published_by: "server",
                    server_targets,
                })
                .map_err(stdout_error)
        });
        listed.and_then(|()| array.finish().map(drop).map_err(stdout_error))
    } else {
        let mut table = TableStream::new(
            &["ID", "STATE", "WHEN", "TO", "TEXT"],
            BufWriter::new(std::io::stdout().lock()),
            color,
        );
        let listed = store.each_post(filter, limit, |post| {
            shown += 1;
            let short = store.short_id(&post.id)?;
            if !linked {
                return table
                    .push(post_row(&post, &short, tz, color))
                    .map_err(stdout_error);
            }
            let (post, server_targets) = with_server_states(store, post, true)?;
            let mut row = post_row(&post, &short, tz, color);
            if !server_targets.is_empty() {
                row[1] = format!("{} {}", row[1], paint("(server)", "2", color));
            }
            table.push(row).map_err(stdout_error)
        });
        listed.and_then(|()| table.finish().map(drop).map_err(stdout_error))
    };
    match streamed {
        Err(postctl_core::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            return Ok(());
        }
        other => other?,
    }
    if shown == 0 && !json {
        note(match filter {
            ListFilter::Drafts => "no drafts; write one with `postctl draft new \"...\"`",
            ListFilter::Upcoming => {
                "nothing scheduled; schedule with `postctl schedule ID --at WHEN`"
            }
            ListFilter::Failed => "no failed posts",
            ListFilter::Search(_) => "no post matches",
            _ => "no posts yet; write one with `postctl draft new \"...\"`",
        });
    }
    note_more(store, filter, limit, shown)
}

/// A post of a linked database as `list --json` shows it: its targets as the server's
/// publisher last reported them, and those reports.
#[derive(Serialize)]
struct LinkedPost<'a> {
    #[serde(flatten)]
    post: &'a Post,
    published_by: &'static str,
    server_targets: Vec<ServerTargetState>,
}

/// A linked database's post with the server's states in place of this device's (which
/// never publishes it: its targets stay as they were made), and the server's reports.
/// Targets the server has not reported on keep their state here. With `all`, the server's
/// targets on accounts this device does not have (they do not travel) are added, without
/// an id here, so a table row shows every account the server publishes to.
fn with_server_states(
    store: &Store,
    mut post: Post,
    all: bool,
) -> postctl_core::Result<(Post, Vec<ServerTargetState>)> {
    let on_server = store.server_targets(&post.id)?;
    for reported in &on_server {
        let Ok(state) = reported.state.parse::<TargetState>() else {
            continue;
        };
        match post
            .targets
            .iter_mut()
            .find(|t| t.account == reported.account)
        {
            Some(target) => {
                target.state = state;
                target.last_error = reported.last_error.clone();
            }
            None if all => {
                let Ok(network) = reported.network.parse() else {
                    continue;
                };
                post.targets.push(Target {
                    id: String::new(),
                    account: reported.account.clone(),
                    network,
                    state,
                    due: reported.due,
                    last_error: reported.last_error.clone(),
                });
            }
            None => {}
        }
    }
    Ok((post, on_server))
}

/// Under a listing cut at `limit`: how many more posts match, and how to see them.
pub fn note_more(
    store: &Store,
    filter: &ListFilter,
    limit: Option<usize>,
    shown: usize,
) -> CliResult {
    if limit != Some(shown) {
        return Ok(());
    }
    let more = store.count_posts(filter)?.saturating_sub(shown);
    if more > 0 {
        note(format!(
            "{more} more {}; show them with --all, or more with --limit N",
            if more == 1 { "post" } else { "posts" }
        ));
    }
    Ok(())
}

/// A failed write to stdout, as an error the listing stops on.
pub fn stdout_error(source: std::io::Error) -> postctl_core::Error {
    postctl_core::Error::Io {
        path: "stdout".into(),
        source,
    }
}

/// A table printed as its rows come: the first [`MEASURED_ROWS`] set the column widths
/// (all of a page), later rows keep them (a wider cell pushes only its own row).
pub struct TableStream<'a, W: Write> {
    header: &'a [&'a str],
    out: W,
    color: bool,
    pending: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl<'a, W: Write> TableStream<'a, W> {
    pub fn new(header: &'a [&'a str], out: W, color: bool) -> Self {
        TableStream {
            header,
            out,
            color,
            pending: Vec::new(),
            widths: None,
        }
    }

    pub fn push(&mut self, row: Vec<String>) -> std::io::Result<()> {
        match &self.widths {
            Some(widths) => {
                let line = aligned(&row, widths);
                self.out.write_all(line.as_bytes())
            }
            None => {
                self.pending.push(row);
                if self.pending.len() >= MEASURED_ROWS {
                    self.measure()?;
                }
                Ok(())
            }
        }
    }

    /// Prints what is left and flushes; the writer back. A table without rows prints
    /// nothing.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.widths.is_none() && !self.pending.is_empty() {
            self.measure()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// Prints the header and the rows read so far, as [`table`] would, and keeps their
    /// column widths for the rest.
    fn measure(&mut self) -> std::io::Result<()> {
        let rows = std::mem::take(&mut self.pending);
        let printed = table(self.header, &rows, self.color);
        let header: Vec<String> = self
            .header
            .iter()
            .map(|h| paint(h, "1", self.color))
            .collect();
        let mut widths = vec![0; self.header.len()];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(visible_width(cell));
            }
        }
        self.widths = Some(widths);
        self.out.write_all(printed.as_bytes())
    }
}

/// One row with each cell but the last padded to its column's width and two spaces.
fn aligned(row: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    for (i, cell) in row.iter().enumerate() {
        line.push_str(cell);
        if i + 1 < row.len() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(visible_width(cell))
                + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    line.push('\n');
    line
}

/// A post's row in a listing: short id, state, when, accounts, the start of its text.
pub fn post_row(post: &Post, short_id: &str, tz: Tz, color: bool) -> Vec<String> {
    let state = post
        .summary_state()
        .map(|s| paint(s.as_str(), state_color(s), color))
        .unwrap_or_else(|| paint("draft", "2", color));
    let mut due = when(post.due, tz);
    if let Schedule::Every { rule } = &post.schedule {
        due = format!("{due} (every {rule})");
    }
    let to: Vec<&str> = post.targets.iter().map(|t| t.account.as_str()).collect();
    vec![
        short_id.to_string(),
        state,
        due,
        if to.is_empty() {
            "-".into()
        } else {
            to.join(",")
        },
        excerpt(post, 50),
    ]
}

/// Prints one post in full.
pub fn show(ctx: &mut Context, typed: &str) -> CliResult {
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let store = ctx.store()?;
    let id = store.resolve_post_id(typed)?;
    let post = store.post(&id)?;
    if json {
        return print_json(&post);
    }
    let color = stdout_color();
    let mut out = format!("{} {}\n", paint("post", "1", color), post.id);
    let state = post
        .summary_state()
        .map(|s| paint(s.as_str(), state_color(s), color))
        .unwrap_or_else(|| "draft".into());
    out += &format!("state:   {state}\n");
    match &post.schedule {
        Schedule::None => out += "when:    not scheduled (a draft)\n",
        Schedule::Every { rule } => {
            // A recurring post with no target left to publish has no next time.
            let pending = post.targets.iter().any(|t| {
                matches!(
                    t.state,
                    TargetState::Scheduled | TargetState::WaitingRetry | TargetState::Publishing
                )
            });
            let next = if pending {
                format!("next {}", when(post.due, tz))
            } else {
                match post.summary_state() {
                    Some(state) => format!("no next time: {state}"),
                    None => "no next time".to_string(),
                }
            };
            out += &format!("when:    every {rule} ({}), {next}\n", post.tz)
        }
        Schedule::At | Schedule::Queue => {
            out += &format!("when:    {} (written in {})\n", when(post.due, tz), post.tz)
        }
    }
    if let Some(title) = &post.title {
        out += &format!("title:   {title}\n");
    }
    if !post.labels.is_empty() {
        out += &format!("labels:  {}\n", post.labels.join(", "));
    }
    for media in &post.media {
        let size = match (media.width, media.height) {
            (Some(w), Some(h)) => format!(", {w}x{h}"),
            _ => String::new(),
        };
        out += &format!(
            "media:   {} ({}{size}, {} bytes){}\n",
            media.file_name,
            media.mime,
            media.size,
            media
                .alt
                .as_ref()
                .map(|a| format!(" alt: {a:?}"))
                .unwrap_or_else(|| " (no alt text)".into())
        );
    }
    if post.targets.is_empty() {
        out += "targets: none yet (add with --to)\n";
    } else {
        out += "targets:\n";
        for target in &post.targets {
            out += &format!(
                "  {:<12} {:<10} {:<14} {}\n",
                target.account,
                target.network.to_string(),
                paint(target.state.as_str(), state_color(target.state), color),
                when(target.due, tz)
            );
            if let Some(error) = &target.last_error {
                out += &format!("    last error: {error}\n");
            }
        }
    }
    out += "\n";
    out += &post.body;
    out += "\n";
    print(&out)
}

/// After a post is created: its id on stdout (for scripts), or the post as JSON.
pub fn report_created(ctx: &mut Context, id: &str, scheduled: bool) -> CliResult {
    if ctx.json {
        let post = ctx.store()?.post(id)?;
        return print_json(&post);
    }
    note(if scheduled {
        "scheduled post:"
    } else {
        "saved draft:"
    });
    print(&format!("{id}\n"))
}

/// After a post got a time: where and when, for the user; the id on stdout. With `--tz`
/// (`written_in`), the time is shown in that zone too.
pub fn report_scheduled(ctx: &mut Context, id: &str, written_in: Option<&str>) -> CliResult {
    let tz = ctx.zone(None)?;
    let written = written_in.map(|name| ctx.zone(Some(name))).transpose()?;
    let post = ctx.store()?.post(id)?;
    if ctx.json {
        return print_json(&post);
    }
    let to: Vec<&str> = post
        .targets
        .iter()
        .filter(|t| t.state == postctl_core::model::TargetState::Scheduled)
        .map(|t| t.account.as_str())
        .collect();
    let rule = match &post.schedule {
        Schedule::Every { rule } => format!(" (every {rule})"),
        _ => String::new(),
    };
    let also = match written {
        Some(zone) if zone != tz => format!(" ({} in {})", when(post.due, zone), zone.name()),
        _ => String::new(),
    };
    note(format!(
        "scheduled for {}{also}{rule} on {}",
        when(post.due, tz),
        to.join(", ")
    ));
    print(&format!("{id}\n"))
}

/// Scheduling for a network postctl cannot publish to yet is allowed (the post waits for
/// its adapter), but never silently.
pub fn warn_not_publishable(accounts: &[Account]) {
    for account in accounts {
        if !can_publish(account.network) {
            note(format!(
                "warning: {}: {}",
                account.name,
                postctl_core::platforms::not_publishable(account.network)
            ));
        }
    }
}

/// Rows for a table of templates: name, variants, first line.
pub fn template_rows(templates: &[&Template], color: bool) -> Vec<Vec<String>> {
    templates
        .iter()
        .map(|t| {
            let name = if t.builtin {
                format!("{} {}", t.name, paint("(built in)", "2", color))
            } else {
                t.name.clone()
            };
            let variants = variant_list(t);
            vec![
                name,
                if variants.is_empty() {
                    "-".into()
                } else {
                    variants
                },
                first_line(&t.body, 50),
            ]
        })
        .collect()
}

pub fn variant_list(template: &Template) -> String {
    template
        .variants
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first non-blank line, cut to `width` characters.
pub fn first_line(text: &str, width: usize) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(width).collect();
    if line.chars().count() > width {
        out.pop();
        out.push('…');
    }
    out
}

/// One post at one moment of the calendar (a recurring post appears once per occurrence).
#[derive(Debug, Serialize)]
pub struct Entry {
    pub id: String,
    /// The shortest unique prefix of the id, as lists show it.
    #[serde(skip)]
    pub short_id: String,
    pub at: DateTime<Utc>,
    /// The time of day in the calendar's zone, "09:00".
    pub local: String,
    pub state: Option<TargetState>,
    pub to: Vec<String>,
    pub text: String,
    pub recurring: bool,
}

/// The scheduled posts from `from` to `to` (both included), day by day, in `tz`: the
/// shape of `calendar --json`.
#[derive(Debug, Serialize)]
pub struct Calendar {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: String,
    pub days: Vec<Day>,
}

/// A day with posts on it.
#[derive(Debug, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub posts: Vec<Entry>,
}

/// The first instant of a local day (midnight, or the end of a gap at midnight).
fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..4)
        .find_map(|h| {
            resolve_local(midnight + Duration::hours(h), tz, Disambiguation::Earlier).ok()
        })
        .unwrap_or_else(|| midnight.and_utc())
}

/// The calendar from `first` to `last` (both included) in `tz`.
pub fn calendar(
    ctx: &mut Context,
    first: NaiveDate,
    last: NaiveDate,
    tz: Tz,
) -> CliResult<Calendar> {
    if last < first {
        return Err(CliError::usage(format!(
            "the calendar's end ({last}) is before its start ({first}); give the earlier date first"
        )));
    }
    let from = start_of_day(first, tz);
    let to = start_of_day(last + Duration::days(1), tz);
    let store = ctx.store()?;
    let mut posts = store.posts(&ListFilter::Due { from, to })?;
    posts.extend(store.posts(&ListFilter::Recurring)?);
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let short = short_ids(store, &ids)?;
    let mut days: BTreeMap<NaiveDate, Vec<Entry>> = BTreeMap::new();
    for mut entry in entries(&posts, from, to, tz) {
        if let Some(short) = short.get(&entry.id) {
            entry.short_id = short.clone();
        }
        days.entry(entry.at.with_timezone(&tz).date_naive())
            .or_default()
            .push(entry);
    }
    Ok(Calendar {
        from: first,
        to: last,
        tz: tz.name().to_string(),
        days: days
            .into_iter()
            .map(|(date, posts)| Day { date, posts })
            .collect(),
    })
}

fn entries(posts: &[Post], from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Vec<Entry> {
    let mut entries = Vec::new();
    for post in posts {
        let entry = |at: DateTime<Utc>, recurring| Entry {
            id: post.id.clone(),
            short_id: post.id.clone(),
            at,
            local: at.with_timezone(&tz).format("%H:%M").to_string(),
            state: post.summary_state(),
            to: post.targets.iter().map(|t| t.account.clone()).collect(),
            text: excerpt(post, 50),
            recurring,
        };
        match (&post.schedule, post.due) {
            (Schedule::Every { rule }, Some(next)) => {
                let post_tz: Tz = post.tz.parse().unwrap_or(tz);
                if let Ok(rule) = rule.parse::<WeeklyRule>() {
                    let start = from.max(next);
                    if start < to {
                        entries.extend(
                            rule.occurrences(start, to, post_tz)
                                .into_iter()
                                .map(|at| entry(at, true)),
                        );
                    }
                }
            }
            (_, Some(due)) => entries.push(entry(due, false)),
            (_, None) => {}
        }
    }
    entries.sort_by_key(|e| e.at);
    entries
}
