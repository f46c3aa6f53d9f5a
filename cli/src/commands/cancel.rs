use crate::args::CancelArgs;
use crate::content::report_skipped;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print_json};
use crate::scheduling::{cancel_posts, cancelled_json};

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
