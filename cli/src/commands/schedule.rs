use crate::args::{RescheduleArgs, ScheduleArgs};
use crate::content::read_text;
use crate::context::Context;
use crate::exit::CliResult;
use crate::posts;
use crate::scheduling::{Subject, reschedule_post, schedule};

/// Whether the user typed an existing post's id (or prefix) rather than new text.
fn existing_post(ctx: &mut Context, typed: &str) -> CliResult<Option<String>> {
    let looks_like_id = typed.len() >= 4
        && typed.len() <= 36
        && typed.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if !looks_like_id {
        return Ok(None);
    }
    match ctx.store()?.resolve_post_id(typed) {
        Ok(id) => Ok(Some(id)),
        Err(postctl_core::Error::NoSuchPost { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub fn run(ctx: &mut Context, args: ScheduleArgs) -> CliResult {
    let subject = match existing_post(ctx, &args.post)? {
        Some(id) => Subject::Post(id),
        None => Subject::Text(read_text(&args.post)?),
    };
    let scheduled = schedule(ctx, subject, args.content, &args.when)?;
    scheduled.note();
    posts::report_scheduled(ctx, &scheduled.post_id, args.when.tz.as_deref())
}

pub fn reschedule(ctx: &mut Context, args: &RescheduleArgs) -> CliResult {
    let scheduled = reschedule_post(ctx, &args.id, &args.when)?;
    scheduled.note();
    posts::report_scheduled(ctx, &scheduled.post_id, args.when.tz.as_deref())
}
