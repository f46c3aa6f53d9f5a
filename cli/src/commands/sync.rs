//! `postctl sync` and `postctl sync status` (issue 13; the protocol is `postctl_core::sync`).
//!
//! The sync itself is `postctl_core::sync::run`: pull, apply, push, and settle the posts
//! the server refused because it had started publishing them.

use serde_json::json;

use crate::args::{SyncArgs, SyncCommand};
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print, print_json};
use crate::server::{self, error};

pub fn run(ctx: &mut Context, args: &SyncArgs) -> CliResult {
    match args.command {
        Some(SyncCommand::Status) => status(ctx),
        None => sync(ctx),
    }
}

fn sync(ctx: &mut Context) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let media_dir = ctx.paths.media_dir();
    let store = ctx.store()?;
    let totals = runtime
        .block_on(postctl_core::sync::run::sync(
            store,
            &linked.client,
            &linked.token,
            &media_dir,
        ))
        .map_err(|e| match e {
            postctl_core::Error::Sync(e) => error(e),
            other => other.into(),
        })?;
    let link = ctx.store()?.sync_link()?;
    let version = link.as_ref().and_then(|l| l.last_version.clone());
    if ctx.json {
        return print_json(&json!({
            "server": linked.link.server,
            "workspace": linked.link.workspace,
            "pushed": totals.pushed,
            "pulled": totals.pulled,
            "conflicts": totals.conflicts,
            "refused": totals.refused,
            "drafts": totals.drafts,
            "held": totals.held,
            "media": {
                "uploaded": totals.media_uploaded,
                "fetched": totals.media_fetched,
                "unavailable": totals.media_unavailable,
            },
            "version": version,
            "snapshot_pages": totals.snapshot_pages,
            "timings": timings(&totals.timings),
        }));
    }
    note(format!(
        "Synced with workspace {} on {}: {} change{} pushed, {} pulled.",
        linked.link.workspace,
        linked.link.server,
        totals.pushed,
        if totals.pushed == 1 { "" } else { "s" },
        totals.pulled
    ));
    if totals.held > 0 {
        note(format!(
            "{} post{} kept from syncing: a file {} uses could not be uploaded; see `postctl sync status`.",
            totals.held,
            if totals.held == 1 { " was" } else { "s were" },
            if totals.held == 1 { "it" } else { "they" },
        ));
    }
    if totals.refused > 0 {
        note(format!(
            "The server has started publishing {} post{} edited here: {} kept as new draft{} ({}); see `postctl sync status`.",
            totals.refused,
            if totals.refused == 1 { "" } else { "s" },
            if totals.drafts.len() == 1 {
                "the edit is"
            } else {
                "the edits are"
            },
            if totals.drafts.len() == 1 { "" } else { "s" },
            totals.drafts.join(", ")
        ));
    }
    for (name, _) in ctx.store()?.accounts_missing_on_server()? {
        note(format!("{}.", missing_line(&name)));
    }
    if totals.conflicts > 0 {
        note(format!(
            "{} conflicting edit{} kept aside: see `postctl sync status`.",
            totals.conflicts,
            if totals.conflicts == 1 {
                " was"
            } else {
                "s were"
            }
        ));
    }
    Ok(())
}

/// Where the sync spent its time, in milliseconds: the requests to the server (how many,
/// their round trips, reading their JSON), applying what was pulled, reading and marking
/// what was pushed, and the whole.
fn timings(t: &postctl_core::sync::run::Timings) -> serde_json::Value {
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    json!({
        "requests": t.client.requests,
        "http_ms": ms(t.client.http),
        "json_ms": ms(t.client.json),
        "apply_ms": ms(t.apply),
        "push_local_ms": ms(t.push_local),
        "total_ms": ms(t.total),
    })
}

/// How many conflicts `sync status` lists.
const CONFLICTS_SHOWN: usize = 20;

fn status(ctx: &mut Context) -> CliResult {
    let link = server::link(ctx)?;
    let store = ctx.store()?;
    let pending = store.pending_operations()?;
    let conflicts = store.sync_conflicts(CONFLICTS_SHOWN)?;
    let conflict_count = store.sync_conflict_count()?;
    let held = store.held_posts()?;
    // Which accounts the server lacks is known from the last sync's answer.
    let missing = if link.last_sync.is_some() {
        store.accounts_missing_on_server()?
    } else {
        Vec::new()
    };
    let tz = ctx.zone(None)?;
    let at = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    };
    if ctx.json {
        return print_json(&json!({
            "server": link.server,
            "user": link.user,
            "workspace": link.workspace,
            "signed_in": link.secret.is_some(),
            "pending": { "operations": pending.operations.len(), "posts": pending.posts },
            "last_sync": link.last_sync,
            "last_version": link.last_version,
            "conflicts": conflict_count,
            "recent_conflicts": conflicts,
            "held": held,
            "missing_accounts": missing.iter().map(|(name, posts)| json!({
                "name": name,
                "posts": posts,
                "message": missing_line(name),
            })).collect::<Vec<_>>(),
        }));
    }
    let mut out = String::new();
    out.push_str(&format!(
        "Server:     {}{}\n",
        link.server,
        if link.secret.is_some() {
            String::new()
        } else {
            " (signed out: `postctl login` again)".into()
        }
    ));
    out.push_str(&format!(
        "Workspace:  {} (as {})\n",
        link.workspace, link.user
    ));
    out.push_str(&format!(
        "Last sync:  {}\n",
        link.last_sync.map_or_else(|| "never".into(), at)
    ));
    out.push_str(&format!(
        "Pending:    {} change{} to {} post{}\n",
        pending.operations.len(),
        if pending.operations.len() == 1 {
            ""
        } else {
            "s"
        },
        pending.posts,
        if pending.posts == 1 { "" } else { "s" }
    ));
    for h in &held {
        out.push_str(&format!(
            "Held:       post {} is not synced: file {} ({}) could not be uploaded: {}\n",
            h.post_id, h.file_name, h.sha256, h.reason
        ));
    }
    for (name, posts) in &missing {
        out.push_str(&format!(
            "Accounts:   {} ({posts} post{} go{} to it)\n",
            missing_line(name),
            if *posts == 1 { "" } else { "s" },
            if *posts == 1 { "es" } else { "" },
        ));
    }
    out.push_str(&format!("Conflicts:  {conflict_count}\n"));
    for c in &conflicts {
        if let Some(reason) = &c.reason {
            out.push_str(&format!(
                "  post {} {}: not applied: {reason}; this device's edit (written {}) is kept{}\n",
                c.post_id,
                c.field,
                at(c.lost_at),
                c.draft
                    .as_ref()
                    .map_or_else(|| " here only".into(), |d| format!(" as draft {d}"))
            ));
            continue;
        }
        let (kept, lost) = match c.kept.as_str() {
            "local" => ("this device's", "the server's"),
            _ => ("the server's", "this device's"),
        };
        out.push_str(&format!(
            "  post {} {}: kept {kept} value (written {} on {}); {lost} was {} (written {} on {})\n",
            c.post_id,
            c.field,
            at(c.won_at),
            short(&c.won_device),
            c.lost_value,
            at(c.lost_at),
            short(&c.lost_device)
        ));
    }
    if conflict_count > conflicts.len() {
        out.push_str(&format!(
            "  … and {} older (`postctl sync status --json` lists the latest {CONFLICTS_SHOWN})\n",
            conflict_count - conflicts.len()
        ));
    }
    print(&out)
}

/// What to do about an account posts go to that the server does not have.
fn missing_line(name: &str) -> String {
    format!(
        "account {name} is not on the server, which cannot publish to it: run `postctl accounts push {name}`"
    )
}

/// A device id's first characters, enough to tell devices apart.
fn short(device: &str) -> &str {
    device.get(..8).unwrap_or(device)
}
