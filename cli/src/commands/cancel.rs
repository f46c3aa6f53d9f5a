use crate::args::CancelArgs;
use crate::content::report_skipped;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print_json};

pub fn run(ctx: &mut Context, args: &CancelArgs) -> CliResult {
    let json = ctx.json;
    let store = ctx.store()?;
    // Resolve every id first, so a typo cancels nothing.
    let ids = args
        .ids
        .iter()
        .map(|typed| store.resolve_post_id(typed))
        .collect::<Result<Vec<_>, _>>()?;
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
