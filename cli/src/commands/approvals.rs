//! `postctl approvals`, `postctl approve ID [--comment TEXT]`, `postctl reject ID --comment
//! TEXT`: what waits for approval on the linked server workspace, and an approver's
//! decision on it, through the signed-in session.

use chrono::{DateTime, Utc};
use postctl_core::sync::client::{Awaiting, Verdict};
use serde_json::json;

use crate::args::{ApproveArgs, RejectArgs};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json, stdout_color, table, when};
use crate::server::{self, error};

pub fn list(ctx: &mut Context) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let waiting = runtime
        .block_on(linked.client.approvals(&linked.token))
        .map_err(error)?;
    if ctx.json {
        return print_json(&waiting);
    }
    if waiting.is_empty() {
        note(format!(
            "Nothing waits for approval in workspace {} on {}.",
            linked.link.workspace, linked.link.server
        ));
        return Ok(());
    }
    let tz = ctx.zone(None)?;
    let rows: Vec<Vec<String>> = waiting
        .iter()
        .map(|post| {
            vec![
                short(&post.id),
                post.author.clone().unwrap_or_else(|| "-".into()),
                when(due(post), tz),
                post.targets
                    .iter()
                    .map(|t| t.account.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                first_line(post, 48),
            ]
        })
        .collect();
    print(&table(
        &["ID", "AUTHOR", "DUE", "ACCOUNTS", "POST"],
        &rows,
        stdout_color(),
    ))?;
    note(format!(
        "{} waiting in workspace {}: approve with `postctl approve ID`, send back with `postctl reject ID --comment TEXT`",
        waiting.len(),
        linked.link.workspace
    ));
    Ok(())
}

pub fn approve(ctx: &mut Context, args: &ApproveArgs) -> CliResult {
    decide(ctx, &args.id, Verdict::Approve, args.comment.as_deref())
}

pub fn reject(ctx: &mut Context, args: &RejectArgs) -> CliResult {
    if args.comment.trim().is_empty() {
        return Err(CliError::usage(
            "--comment is empty: say what the author should change",
        ));
    }
    decide(ctx, &args.id, Verdict::Reject, Some(&args.comment))
}

fn decide(ctx: &mut Context, id: &str, verdict: Verdict, comment: Option<&str>) -> CliResult {
    let linked = server::linked(ctx)?;
    let runtime = crate::engine::runtime()?;
    let waiting = runtime
        .block_on(linked.client.approvals(&linked.token))
        .map_err(error)?;
    let id = resolve(&waiting, id)?;
    let decided = runtime
        .block_on(linked.client.decide(&linked.token, &id, verdict, comment))
        .map_err(error)?;
    if ctx.json {
        return print_json(&json!({
            "post_id": decided.post_id,
            "decision": decided.decision,
            "by": decided.by,
            "comment": decided.comment,
            "targets": decided
                .targets
                .iter()
                .map(|(account, state)| json!({ "account": account, "state": state }))
                .collect::<Vec<_>>(),
        }));
    }
    let states = decided
        .targets
        .iter()
        .map(|(account, state)| format!("{account}: {state}"))
        .collect::<Vec<_>>()
        .join(", ");
    match verdict {
        Verdict::Approve if decided.targets.iter().all(|(_, s)| s == "missed") => note(format!(
            "Approved post {}, but its time passed more than the late limit ago: it is missed, not published ({states}). Its author can schedule it again.",
            short(&decided.post_id)
        )),
        Verdict::Approve => note(format!(
            "Approved post {}: it goes out at its time ({states}).",
            short(&decided.post_id)
        )),
        Verdict::Reject => note(format!(
            "Rejected post {}: it is a draft again ({states}); its author sees your comment in its history.",
            short(&decided.post_id)
        )),
    }
    Ok(())
}

/// The full id of the waiting post `given` names (its id or an unambiguous start of it).
/// An id that names no waiting post is passed on as it is: the server says why.
fn resolve(waiting: &[Awaiting], given: &str) -> CliResult<String> {
    let given = given.trim();
    if given.is_empty() {
        return Err(CliError::usage(
            "give the post's id, as `postctl approvals` shows it",
        ));
    }
    let matches: Vec<&Awaiting> = waiting.iter().filter(|p| p.id.starts_with(given)).collect();
    match matches.as_slice() {
        [one] => Ok(one.id.clone()),
        [] if given.len() >= 36 => Ok(given.to_string()),
        [] => Err(CliError::usage(format!(
            "no post waiting for approval has an id starting with {given:?}; list them with `postctl approvals`"
        ))),
        many => Err(CliError::usage(format!(
            "{given:?} starts the ids of {} waiting posts ({}); give more of the id",
            many.len(),
            many.iter()
                .map(|p| short(&p.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn due(post: &Awaiting) -> Option<DateTime<Utc>> {
    post.scheduled_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A post id as lists show it: enough of a UUIDv7 to tell posts apart.
fn short(id: &str) -> String {
    id.chars().take(13).collect()
}

fn first_line(post: &Awaiting, width: usize) -> String {
    let line = post
        .title
        .as_deref()
        .unwrap_or_else(|| post.body.lines().next().unwrap_or(""));
    if line.chars().count() > width {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}
