use postctl_core::model::{Schedule, TargetState};
use postctl_core::store::{NewTarget, PostChange, ScheduleChange};

use postctl_core::store::Outcome;

use crate::args::{ContentArgs, RescheduleArgs, ScheduleArgs, WhenArgs};
use crate::content::{When, destinations, import_media, new_post, read_text, resolve_when};
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

/// What to schedule: a post that exists, or the text of a new one.
pub(crate) enum Subject {
    Post(String),
    Text(String),
}

/// What scheduling (or rescheduling) changed.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Scheduled {
    pub post_id: String,
    /// The accounts whose targets got the new time.
    pub changed: Vec<String>,
    /// Targets left as they were, with the state that kept them (already published...).
    pub skipped: Vec<Skipped>,
    /// Accounts that had been cancelled and will publish again.
    pub revived: Vec<String>,
    /// Accounts on networks postctl cannot publish to yet, with why.
    pub not_publishable: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct Skipped {
    pub account: String,
    pub state: TargetState,
}

impl Scheduled {
    /// Tells the user on stderr what was skipped, revived, or cannot be published yet.
    fn note(&self) {
        for skipped in &self.skipped {
            note(format!(
                "left {} as it is: that target is already {}",
                skipped.account, skipped.state
            ));
        }
        if !self.revived.is_empty() {
            note(format!(
                "{} had been cancelled and will publish again",
                self.revived.join(", ")
            ));
        }
        for warning in &self.not_publishable {
            note(format!("warning: {warning}"));
        }
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

/// Gives a post a time (an existing post, whose content flags change it too), or creates
/// a scheduled post from text.
pub(crate) fn schedule(
    ctx: &mut Context,
    subject: Subject,
    content: ContentArgs,
    when: &WhenArgs,
) -> CliResult<Scheduled> {
    let when = resolve_when(ctx, when)?;
    let body = match subject {
        Subject::Post(id) => {
            let change = content_change(ctx, &content)?;
            let cancelled = cancelled_targets(ctx, &id)?;
            let outcome = ctx
                .store()?
                .update_post(&id, &change, Some(&schedule_change(&when)))?;
            let names = target_names(ctx, &id)?;
            let accounts = ctx.store()?.resolve_destinations(&names)?;
            return Ok(scheduled(outcome, &cancelled, &accounts));
        }
        Subject::Text(body) => body,
    };
    if body.trim().is_empty() {
        return Err(CliError::usage(
            "the text is empty; give the post's text, or a post id to schedule",
        ));
    }
    let accounts = destinations(ctx, &content)?;
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
        content,
        when.tz.name(),
        when.schedule.clone(),
        targets,
    )?;
    let id = ctx.store()?.create_post(&post)?;
    let outcome = postctl_core::store::Outcome {
        post_id: id,
        changed: accounts.iter().map(|a| a.name.clone()).collect(),
        skipped: Vec::new(),
    };
    Ok(scheduled(outcome, &[], &accounts))
}

fn scheduled(outcome: Outcome, cancelled: &[String], accounts: &[Account]) -> Scheduled {
    Scheduled {
        revived: cancelled
            .iter()
            .filter(|name| outcome.changed.contains(name))
            .cloned()
            .collect(),
        not_publishable: accounts
            .iter()
            .filter(|a| !can_publish(a.network))
            .map(|a| {
                format!(
                    "{}: {}",
                    a.name,
                    postctl_core::platforms::not_publishable(a.network)
                )
            })
            .collect(),
        skipped: outcome
            .skipped
            .into_iter()
            .map(|(account, state)| Skipped { account, state })
            .collect(),
        changed: outcome.changed,
        post_id: outcome.post_id,
    }
}

pub fn reschedule(ctx: &mut Context, args: &RescheduleArgs) -> CliResult {
    let scheduled = reschedule_post(ctx, &args.id, &args.when)?;
    scheduled.note();
    posts::report_scheduled(ctx, &scheduled.post_id, args.when.tz.as_deref())
}

/// Gives the scheduled post `typed` (an id or a prefix) a new time.
pub(crate) fn reschedule_post(
    ctx: &mut Context,
    typed: &str,
    when: &WhenArgs,
) -> CliResult<Scheduled> {
    let when = resolve_when(ctx, when)?;
    let store = ctx.store()?;
    let id = store.resolve_post_id(typed)?;
    let post = store.post(&id)?;
    if post.schedule == Schedule::None {
        return Err(CliError::usage(format!(
            "post {id} is a draft, not scheduled; schedule it with `postctl schedule {typed} --at WHEN`"
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
            "post {id} is cancelled on {}; reschedule moves a post and does not bring cancelled targets back: to publish it again, schedule it with `postctl schedule {typed} --at WHEN`",
            cancelled.join(", "),
        )));
    }
    let store = ctx.store()?;
    let outcome = store.update_post(&id, &PostChange::default(), Some(&schedule_change(&when)))?;
    Ok(scheduled(outcome, &cancelled, &[]))
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
