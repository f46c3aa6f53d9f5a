use super::content::report_skipped;
use crate::args::CancelArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print_json};
use postctl_core::model::TargetState;

pub fn run(ctx: &mut Context, args: &CancelArgs) -> CliResult {
    let json = ctx.json;
    let store = ctx.store()?;
    // Resolve every id first, so a typo cancels nothing.
    let ids = args
        .ids
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
    let mut results = Vec::new();
    for id in &ids {
        let outcome = store.cancel_post(id)?;
        report_skipped(&outcome);
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
        results.push(serde_json::json!({
            "id": id,
            "cancelled": outcome.changed,
            "skipped": outcome.skipped.iter().map(|(a, s)| serde_json::json!({"account": a, "state": s})).collect::<Vec<_>>(),
        }));
    }
    if json {
        return print_json(&results);
    }
    Ok(())
}
