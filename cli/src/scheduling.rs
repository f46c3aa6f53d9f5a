//! Writing the plan: new drafts, a time for a post (once or weekly), a new time, cancelling.
//! The verbs (`draft new`, `schedule`, `reschedule`, `cancel`) and the MCP server's tools
//! run these and report what they return: what changed, and what was left as it was.

use postctl_core::model::{Account, Schedule, TargetState};
use postctl_core::platforms::can_publish;
use postctl_core::store::{NewTarget, Outcome, PostChange, ScheduleChange};

use crate::args::{ContentArgs, WhenArgs};
use crate::content::{When, destinations, import_media, new_post, resolve_when};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::note;

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
pub enum Subject {
    Post(String),
    Text(String),
}

/// What scheduling (or rescheduling) changed.
#[derive(Debug, serde::Serialize)]
pub struct Scheduled {
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
pub struct Skipped {
    pub account: String,
    pub state: TargetState,
}

impl Scheduled {
    /// Tells the user on stderr what was skipped, revived, or cannot be published yet.
    pub fn note(&self) {
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

/// Gives a post a time (an existing post, whose content flags change it too), or creates
/// a scheduled post from text.
pub fn schedule(
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
    crate::checks::refuse_media(ctx, &accounts, content.media.len())?;
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

/// Gives the scheduled post `typed` (an id or a prefix) a new time.
pub fn reschedule_post(ctx: &mut Context, typed: &str, when: &WhenArgs) -> CliResult<Scheduled> {
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

/// What cancelling post `id` changed, as `cancel --json` prints it.
pub fn cancelled_json(id: &str, outcome: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "cancelled": outcome.changed,
        "skipped": outcome.skipped.iter().map(|(a, s)| serde_json::json!({"account": a, "state": s})).collect::<Vec<_>>(),
    })
}

/// Cancels the posts `typed` (ids or prefixes): all of them, or, when one is unknown or
/// has nothing to cancel, none. Returns each post's id and what changed.
pub fn cancel_posts(ctx: &mut Context, typed: &[String]) -> CliResult<Vec<(String, Outcome)>> {
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

/// Saves a new post from its text and content flags: a draft, or, with `at` (a draft's
/// `at:` front matter), scheduled then. Returns its id and whether it was scheduled.
pub fn save_draft(
    ctx: &mut Context,
    body: String,
    content: ContentArgs,
    at: Option<&str>,
) -> CliResult<(String, bool)> {
    if body.trim().is_empty() && content.media.is_empty() {
        return Err(CliError::usage(
            "the text is empty; give the post's text, or attach --media",
        ));
    }
    let accounts = destinations(ctx, &content)?;
    let tz = ctx.zone(None)?;
    let due = match at {
        Some(text) => {
            if accounts.is_empty() {
                return Err(CliError::usage(
                    "the draft has `at:` but no `to:`; say which accounts to publish to",
                ));
            }
            Some(front_matter_time(ctx, text)?.due)
        }
        None => None,
    };
    let targets = accounts
        .iter()
        .map(|a| NewTarget {
            account_id: a.id.clone(),
            due,
        })
        .collect();
    let schedule = if due.is_some() {
        Schedule::At
    } else {
        Schedule::None
    };
    let post = new_post(ctx, body, content, tz.name(), schedule, targets)?;
    let id = ctx.store()?.create_post(&post)?;
    Ok((id, due.is_some()))
}

/// The `at:` of a draft's front matter, read like `--at`.
pub fn front_matter_time(ctx: &Context, text: &str) -> CliResult<When> {
    resolve_when(
        ctx,
        &WhenArgs {
            at: Some(text.to_string()),
            ..WhenArgs::default()
        },
    )
}
