use postctl_core::exchange::{Planned, plan_import, read_rows};
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
    let plan = plan_import(store, &rows, &cx, args.allow_past, &base_dir, &media_dir)?;
    let mut created = Vec::new();
    let mut updated = Vec::new();
    let mut skipped = Vec::new();
    let mut scheduled = 0;
    for planned in &plan {
        match planned {
            Planned::Create { post, .. } => {
                created.push(post);
                if post.targets.iter().any(|t| t.due.is_some()) {
                    scheduled += 1;
                }
            }
            Planned::Update { id, .. } => updated.push(id.as_str()),
            Planned::Skip { id, reason } => skipped.push((id.as_str(), reason.as_str())),
        }
    }
    let dry_run = args.dry_run;
    let written = if dry_run {
        Vec::new()
    } else {
        let writes: Vec<_> = plan.iter().filter_map(Planned::write).collect();
        store.import_posts(&writes)?
    };
    // One id per write, in the plan's order: the new posts' ids among them.
    let new_ids: Vec<&str> = plan
        .iter()
        .filter(|p| p.write().is_some())
        .zip(&written)
        .filter(|(p, _)| matches!(p, Planned::Create { .. }))
        .map(|(_, id)| id.as_str())
        .collect();
    if ctx.json {
        let skipped: Vec<_> = skipped
            .iter()
            .map(|(id, reason)| serde_json::json!({"id": id, "reason": reason}))
            .collect();
        let mut report = serde_json::json!({
            "imported": if dry_run { 0 } else { created.len() },
            "scheduled": scheduled,
            "updated": if dry_run { Vec::new() } else { updated.clone() },
            "skipped": skipped,
        });
        if dry_run {
            report["checked"] = plan.len().into();
        }
        if !dry_run {
            report["ids"] = new_ids.into();
        }
        return print_json(&report);
    }
    for id in &updated {
        note(format!(
            "{} post {id} (same id, other content or time)",
            if dry_run { "would update" } else { "updated" }
        ));
    }
    for (id, reason) in &skipped {
        note(format!("skipped post {id} (same id): {reason}"));
    }
    if dry_run {
        note(format!(
            "{}: {} rows are valid ({} new, {scheduled} of them scheduled; {} to update, {} to skip); nothing imported (--dry-run)",
            args.file.display(),
            plan.len(),
            created.len(),
            updated.len(),
            skipped.len()
        ));
        return Ok(());
    }
    note(format!(
        "imported {} posts ({scheduled} scheduled, {} drafts) from {}{}",
        created.len(),
        created.len() - scheduled,
        args.file.display(),
        match (updated.len(), skipped.len()) {
            (0, 0) => String::new(),
            (u, s) => format!("; updated {u}, skipped {s} already here (same id)"),
        }
    ));
    Ok(())
}
