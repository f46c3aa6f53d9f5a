use chrono_tz::Tz;
use postctl_core::model::{Post, Schedule, TargetState};
use postctl_core::store::{ListFilter, short_ids};

use crate::args::ListArgs;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{
    excerpt, note, paint, print, print_json, state_color, stdout_color, table, when,
};

pub fn run(ctx: &mut Context, args: &ListArgs) -> CliResult {
    let filter = if args.upcoming {
        ListFilter::Upcoming
    } else if args.drafts {
        ListFilter::Drafts
    } else if args.failed {
        ListFilter::Failed
    } else {
        ListFilter::All
    };
    print_posts(ctx, &filter, args.tz.as_deref())
}

/// Prints the posts matching `filter`: a table, or a JSON array with `--json`.
pub fn print_posts(ctx: &mut Context, filter: &ListFilter, tz: Option<&str>) -> CliResult {
    let tz = ctx.zone(tz)?;
    let json = ctx.json;
    let store = ctx.store()?;
    let posts = store.posts(filter)?;
    if json {
        return print_json(&posts);
    }
    if posts.is_empty() {
        note(match filter {
            ListFilter::Drafts => "no drafts; write one with `postctl draft new \"...\"`",
            ListFilter::Upcoming => {
                "nothing scheduled; schedule with `postctl schedule ID --at WHEN`"
            }
            ListFilter::Failed => "no failed posts",
            ListFilter::Search(_) => "no post matches",
            _ => "no posts yet; write one with `postctl draft new \"...\"`",
        });
        return Ok(());
    }
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let short = short_ids(store, &ids)?;
    print(&posts_table(&posts, &short, tz, stdout_color()))
}

pub fn posts_table(
    posts: &[Post],
    short: &std::collections::HashMap<String, String>,
    tz: Tz,
    color: bool,
) -> String {
    let rows: Vec<Vec<String>> = posts
        .iter()
        .map(|post| {
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
                short
                    .get(&post.id)
                    .cloned()
                    .unwrap_or_else(|| post.id.clone()),
                state,
                due,
                if to.is_empty() {
                    "-".into()
                } else {
                    to.join(",")
                },
                excerpt(post, 50),
            ]
        })
        .collect();
    table(&["ID", "STATE", "WHEN", "TO", "TEXT"], &rows, color)
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
