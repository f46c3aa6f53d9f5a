use postctl_core::model::Schedule;
use postctl_core::store::{NewTarget, PostChange, ScheduleChange};

use crate::args::{ContentArgs, RescheduleArgs, ScheduleArgs};
use crate::content::{
    When, destinations, import_media, new_post, read_text, report_skipped, resolve_when,
};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::posts;

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

fn schedule_change(when: &When) -> ScheduleChange {
    ScheduleChange {
        schedule: when.schedule.clone(),
        due: when.due,
        tz: when.tz.name().to_string(),
        per_account: Default::default(),
    }
}

fn content_change(ctx: &mut Context, content: &ContentArgs) -> CliResult<PostChange> {
    let accounts = if content.to.is_empty() {
        None
    } else {
        Some(
            destinations(ctx, content)?
                .into_iter()
                .map(|a| a.id)
                .collect(),
        )
    };
    let media = if content.media.is_empty() {
        None
    } else {
        Some(import_media(ctx, &content.media, &content.alt)?)
    };
    Ok(PostChange {
        body: None,
        title: content.title.clone().map(Some),
        labels: (!content.labels.is_empty()).then(|| content.labels.clone()),
        media,
        accounts,
    })
}

pub fn run(ctx: &mut Context, args: ScheduleArgs) -> CliResult {
    let when = resolve_when(ctx, &args.when)?;
    if let Some(id) = existing_post(ctx, &args.post)? {
        let change = content_change(ctx, &args.content)?;
        let outcome = ctx
            .store()?
            .update_post(&id, &change, Some(&schedule_change(&when)))?;
        report_skipped(&outcome);
        return posts::report_scheduled(ctx, &id);
    }
    let body = read_text(&args.post)?;
    if body.trim().is_empty() {
        return Err(CliError::usage(
            "the text is empty; give the post's text, or a post id to schedule",
        ));
    }
    let accounts = destinations(ctx, &args.content)?;
    if accounts.is_empty() {
        return Err(CliError::usage(
            "say where to publish: --to ACCOUNT[,GROUP...] (see `postctl accounts list`)",
        ));
    }
    let targets = accounts
        .iter()
        .map(|a| NewTarget {
            account_id: a.id.clone(),
            due: Some(when.due),
        })
        .collect();
    let post = new_post(
        ctx,
        body,
        args.content,
        when.tz.name(),
        when.schedule.clone(),
        targets,
    )?;
    let id = ctx.store()?.create_post(&post)?;
    posts::report_scheduled(ctx, &id)
}

pub fn reschedule(ctx: &mut Context, args: &RescheduleArgs) -> CliResult {
    let when = resolve_when(ctx, &args.when)?;
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    if store.post(&id)?.schedule == Schedule::None {
        return Err(CliError::usage(format!(
            "post {id} is a draft, not scheduled; schedule it with `postctl schedule {} --at WHEN`",
            args.id
        )));
    }
    let outcome = store.update_post(&id, &PostChange::default(), Some(&schedule_change(&when)))?;
    report_skipped(&outcome);
    posts::report_scheduled(ctx, &id)
}
