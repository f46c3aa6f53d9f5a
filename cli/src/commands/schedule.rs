use postctl_core::model::{Schedule, TargetState};
use postctl_core::store::{NewTarget, PostChange, ScheduleChange};

use crate::args::{ContentArgs, RescheduleArgs, ScheduleArgs};
use crate::content::{
    When, destinations, import_media, new_post, read_text, report_skipped, resolve_when,
};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::note;
use crate::posts;
use crate::posts::warn_not_publishable;

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
        let cancelled = cancelled_targets(ctx, &id)?;
        let outcome = ctx
            .store()?
            .update_post(&id, &change, Some(&schedule_change(&when)))?;
        report_skipped(&outcome);
        report_revived(&cancelled, &outcome);
        let names = target_names(ctx, &id)?;
        let accounts = ctx.store()?.resolve_destinations(&names)?;
        warn_not_publishable(&accounts);
        return posts::report_scheduled(ctx, &id, args.when.tz.as_deref());
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
    warn_not_publishable(&accounts);
    posts::report_scheduled(ctx, &id, args.when.tz.as_deref())
}

pub fn reschedule(ctx: &mut Context, args: &RescheduleArgs) -> CliResult {
    let when = resolve_when(ctx, &args.when)?;
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let post = store.post(&id)?;
    if post.schedule == Schedule::None {
        return Err(CliError::usage(format!(
            "post {id} is a draft, not scheduled; schedule it with `postctl schedule {} --at WHEN`",
            args.id
        )));
    }
    let cancelled = cancelled_targets(ctx, &id)?;
    let movable = post.targets.iter().any(|t| {
        !matches!(
            t.state,
            TargetState::Cancelled
                | TargetState::Publishing
                | TargetState::Published
                | TargetState::Uncertain
        )
    });
    if !cancelled.is_empty() && !movable {
        // Moving a post must not quietly bring back what the user cancelled.
        return Err(CliError::usage(format!(
            "post {id} is cancelled on {}; reschedule moves a post and does not bring cancelled targets back: to publish it again, schedule it with `postctl schedule {} --at WHEN`",
            cancelled.join(", "),
            args.id
        )));
    }
    let store = ctx.store()?;
    let outcome = store.update_post(&id, &PostChange::default(), Some(&schedule_change(&when)))?;
    report_skipped(&outcome);
    report_revived(&cancelled, &outcome);
    posts::report_scheduled(ctx, &id, args.when.tz.as_deref())
}

/// Says which cancelled targets a new time brought back.
fn report_revived(cancelled: &[String], outcome: &postctl_core::store::Outcome) {
    let revived: Vec<&str> = cancelled
        .iter()
        .filter(|name| outcome.changed.contains(name))
        .map(String::as_str)
        .collect();
    if !revived.is_empty() {
        note(format!(
            "{} had been cancelled and will publish again",
            revived.join(", ")
        ));
    }
}

/// The accounts on which post `id` is cancelled.
fn cancelled_targets(ctx: &mut Context, id: &str) -> CliResult<Vec<String>> {
    Ok(ctx
        .store()?
        .post(id)?
        .targets
        .into_iter()
        .filter(|t| t.state == TargetState::Cancelled)
        .map(|t| t.account)
        .collect())
}

/// The accounts post `id` goes to.
fn target_names(ctx: &mut Context, id: &str) -> CliResult<Vec<String>> {
    Ok(ctx
        .store()?
        .post(id)?
        .targets
        .into_iter()
        .map(|t| t.account)
        .collect())
}
