//! `postctl sync` and `postctl sync status` (issue 13; the protocol is `postctl_core::sync`).
//!
//! A sync pulls the versions the server has after the last one applied here (a page at a
//! time, each page applied in one transaction), then pushes the local changes as one
//! version after it. When another device pushed meanwhile, the server answers that the
//! parent is stale: pull again, apply, push again.

use postctl_core::sync::Operation;
use postctl_core::sync::client::Pushed;
use serde_json::json;

use crate::args::{SyncArgs, SyncCommand};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json};
use crate::server::{self, error};

/// How many times a push may find another device's version in its way before giving up.
const ATTEMPTS: usize = 20;
/// A version's size, kept well under the server's 1 MiB body limit.
const VERSION_BYTES: usize = 512 * 1024;
const VERSION_OPERATIONS: usize = 2_000;

pub fn run(ctx: &mut Context, args: &SyncArgs) -> CliResult {
    match args.command {
        Some(SyncCommand::Status) => status(ctx),
        None => sync(ctx),
    }
}

#[derive(Default)]
struct Totals {
    pushed: usize,
    pulled: usize,
    conflicts: usize,
    versions_pushed: usize,
}

/// Splits operations into versions small enough for the server.
fn batches(operations: &[Operation]) -> Vec<&[Operation]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, op) in operations.iter().enumerate() {
        let size = op.value.to_string().len() + op.post.len() + 100;
        if i > start && (bytes + size > VERSION_BYTES || i - start >= VERSION_OPERATIONS) {
            out.push(&operations[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < operations.len() {
        out.push(&operations[start..]);
    }
    out
}

fn sync(ctx: &mut Context) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let mut totals = Totals::default();
    let mut attempts = 0;
    'sync: loop {
        attempts += 1;
        // Pull what other devices pushed since the last version applied here.
        loop {
            let since = ctx.store()?.sync_link()?.and_then(|l| l.last_version);
            let page = runtime
                .block_on(linked.client.pull(&linked.token, since.as_deref()))
                .map_err(error)?;
            let applied = ctx.store()?.apply_versions(&page.versions)?;
            totals.pulled += applied.changed;
            totals.conflicts += applied.conflicts;
            if !page.more {
                break;
            }
        }
        let pending = ctx.store()?.pending_operations()?;
        if pending.operations.is_empty() {
            ctx.store()?.mark_synced(pending.through_seq)?;
            break;
        }
        let device = ctx.store()?.device().to_string();
        let batches = batches(&pending.operations);
        let last = batches.len() - 1;
        for (i, batch) in batches.into_iter().enumerate() {
            let parent = ctx.store()?.sync_link()?.and_then(|l| l.last_version);
            let pushed = runtime
                .block_on(
                    linked
                        .client
                        .push(&linked.token, parent.as_deref(), &device, batch),
                )
                .map_err(error)?;
            match pushed {
                Pushed::Added(version) => {
                    // The oplog is marked pushed with the last batch only: a sync cut off
                    // between batches pushes them all again, which changes nothing.
                    let through = if i == last { pending.through_seq } else { 0 };
                    ctx.store()?.mark_pushed(&version, through)?;
                    totals.pushed += batch.len();
                    totals.versions_pushed += 1;
                }
                Pushed::Stale { .. } if attempts < ATTEMPTS => continue 'sync,
                Pushed::Stale { .. } => {
                    return Err(CliError::failure(format!(
                        "other devices kept pushing to {} while this one tried {ATTEMPTS} times; run `postctl sync` again",
                        linked.link.server
                    )));
                }
            }
        }
        break;
    }
    let link = ctx.store()?.sync_link()?;
    let version = link.as_ref().and_then(|l| l.last_version.clone());
    if ctx.json {
        return print_json(&json!({
            "server": linked.link.server,
            "workspace": linked.link.workspace,
            "pushed": totals.pushed,
            "pulled": totals.pulled,
            "conflicts": totals.conflicts,
            "version": version,
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

/// How many conflicts `sync status` lists.
const CONFLICTS_SHOWN: usize = 20;

fn status(ctx: &mut Context) -> CliResult {
    let link = server::link(ctx)?;
    let store = ctx.store()?;
    let pending = store.pending_operations()?;
    let conflicts = store.sync_conflicts(CONFLICTS_SHOWN)?;
    let conflict_count = store.sync_conflict_count()?;
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
    out.push_str(&format!("Conflicts:  {conflict_count}\n"));
    for c in &conflicts {
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

/// A device id's first characters, enough to tell devices apart.
fn short(device: &str) -> &str {
    device.get(..8).unwrap_or(device)
}
