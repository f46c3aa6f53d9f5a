use crate::args::CancelArgs;
use crate::content::report_skipped;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print_json};
use postctl_core::model::TargetState;
use postctl_core::store::Outcome;

pub fn run(ctx: &mut Context, args: &CancelArgs) -> CliResult {
    let json = ctx.json;
    let cancelled = cancel_posts(ctx, &args.ids)?;
    let mut results = Vec::new();
    for (id, outcome) in &cancelled {
        report_skipped(outcome);
        if !json {
            note(format!(
                "cancelled post {id} on {}",
                if outcome.changed.is_empty() {
                    "no account (nothing was pending)".to_string()
                } else {
                    outcome.changed.join(", ")
                }
            ));
        }
        results.push(cancelled_json(id, outcome));
    }
    if json {
        return print_json(&results);
    }
    Ok(())
}

/// What cancelling post `id` changed, as `cancel --json` prints it.
pub(crate) fn cancelled_json(id: &str, outcome: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "cancelled": outcome.changed,
        "skipped": outcome.skipped.iter().map(|(a, s)| serde_json::json!({"account": a, "state": s})).collect::<Vec<_>>(),
    })
}

/// Cancels the posts `typed` (ids or prefixes): all of them, or, when one is unknown or
/// has nothing to cancel, none. Returns each post's id and what changed.
pub(crate) fn cancel_posts(
    ctx: &mut Context,
    typed: &[String],
) -> CliResult<Vec<(String, Outcome)>> {
    let store = ctx.store()?;
    // Resolve every id first, so a typo cancels nothing.
    let ids = typed
        .iter()
        .map(|typed| store.resolve_post_id(typed))
        .collect::<Result<Vec<_>, _>>()?;
    // A post with nothing left to cancel is an error, checked for all before any changes.
    for id in &ids {
        let post = store.post(id)?;
        if post.targets.iter().any(|t| t.state.is_editable()) {
            continue;
        }
        let states: Vec<String> = post
            .targets
            .iter()
            .map(|t| format!("{} {}", t.account, t.state))
            .collect();
        let why = if states.is_empty() {
            "it has no accounts (a draft); remove it with `postctl draft rm ID`".to_string()
        } else if post
            .targets
            .iter()
            .all(|t| t.state == TargetState::Cancelled)
        {
            "it is already cancelled".to_string()
        } else {
            format!(
                "none of its targets is still to publish ({}); to delete what was published, use `postctl unpublish ID`",
                states.join(", ")
            )
        };
        return Err(CliError::usage(format!(
            "post {id} has nothing to cancel: {why}{}",
            if ids.len() > 1 {
                "; nothing was cancelled"
            } else {
                ""
            }
        )));
    }
    let mut cancelled = Vec::new();
    for id in ids {
        let outcome = store.cancel_post(&id)?;
        cancelled.push((id, outcome));
    }
    Ok(cancelled)
}
