use postctl_core::exchange::{plan_import, read_rows};
use postctl_core::time::{Disambiguation, ParseContext};

use crate::args::ImportArgs;
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::{note, print_json};

pub fn run(ctx: &mut Context, args: &ImportArgs) -> CliResult {
    let rows = read_rows(&args.file)?;
    let cx = ParseContext {
        now: ctx.now,
        tz: ctx.zone(args.tz.as_deref())?,
        disambiguation: Disambiguation::Reject,
    };
    let base_dir = args
        .file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let media_dir = ctx.paths.media_dir();
    let store = ctx.store()?;
    let posts = plan_import(store, &rows, &cx, args.allow_past, &base_dir, &media_dir)?;
    let scheduled = posts
        .iter()
        .filter(|p| p.targets.iter().any(|t| t.due.is_some()))
        .count();
    if args.dry_run {
        if ctx.json {
            return print_json(
                &serde_json::json!({"checked": posts.len(), "scheduled": scheduled, "imported": 0}),
            );
        }
        note(format!(
            "{}: {} rows are valid ({scheduled} scheduled); nothing imported (--dry-run)",
            args.file.display(),
            posts.len()
        ));
        return Ok(());
    }
    let ids = store.create_posts(&posts)?;
    if ctx.json {
        return print_json(
            &serde_json::json!({"imported": ids.len(), "scheduled": scheduled, "ids": ids}),
        );
    }
    note(format!(
        "imported {} posts ({scheduled} scheduled, {} drafts) from {}",
        ids.len(),
        ids.len() - scheduled,
        args.file.display()
    ));
    Ok(())
}
