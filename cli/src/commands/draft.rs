use postctl_core::model::Schedule;
use postctl_core::store::{ListFilter, NewTarget, PostChange, ScheduleChange};

use super::content::{
    When, destinations, import_media, new_post, read_text, report_skipped, resolve_when,
};
use super::list;
use crate::args::{ContentArgs, DraftCommand, DraftEditArgs, DraftNewArgs, IdArg, WhenArgs};
use crate::context::Context;
use crate::editor::{DraftDoc, edit};
use crate::exit::{CliError, CliResult};
use crate::output::{note, print_json};

pub fn run(ctx: &mut Context, command: DraftCommand) -> CliResult {
    match command {
        DraftCommand::New(args) => new(ctx, args),
        DraftCommand::List => list::print_posts(ctx, &ListFilter::Drafts, None, None),
        DraftCommand::Show(args) => list::show(ctx, &args.id),
        DraftCommand::Edit(args) => edit_draft(ctx, args),
        DraftCommand::Rm(args) => remove(ctx, &args),
    }
}

/// Content from the editor overrides the flags it covers.
fn from_editor(initial: DraftDoc) -> CliResult<(DraftDoc, ContentArgs)> {
    let text = edit(&initial.render())?;
    let doc = DraftDoc::parse(&text).map_err(CliError::usage)?;
    if doc.body.trim().is_empty() && doc.media.is_empty() {
        return Err(CliError::usage("the draft is empty; nothing was saved"));
    }
    let content = ContentArgs {
        to: doc.to.clone(),
        media: doc.media.clone(),
        alt: doc.alt.clone(),
        title: doc.title.clone(),
        labels: doc.labels.clone(),
    };
    Ok((doc, content))
}

fn new(ctx: &mut Context, args: DraftNewArgs) -> CliResult {
    let (body, content, at) = if args.edit {
        let initial = DraftDoc {
            to: args.content.to.clone(),
            title: args.content.title.clone(),
            labels: args.content.labels.clone(),
            media: args.content.media.clone(),
            alt: args.content.alt.clone(),
            ..DraftDoc::default()
        };
        let (doc, content) = from_editor(initial)?;
        (doc.body, content, doc.at)
    } else {
        let text = read_text(args.text.as_deref().unwrap_or("-"))?;
        (text, args.content, None)
    };
    if body.trim().is_empty() && content.media.is_empty() {
        return Err(CliError::usage(
            "the text is empty; give the post's text, or attach --media",
        ));
    }
    let accounts = destinations(ctx, &content)?;
    let tz = ctx.zone(None)?;
    let due = match &at {
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
    list::report_created(ctx, &id, due.is_some())
}

fn edit_draft(ctx: &mut Context, args: DraftEditArgs) -> CliResult {
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let post = store.post(&id)?;
    let flags_given = args.text.is_some()
        || !args.content.to.is_empty()
        || !args.content.media.is_empty()
        || args.content.title.is_some()
        || !args.content.labels.is_empty();
    let (body, content, at) = if flags_given {
        let body = args.text.as_deref().map(read_text).transpose()?;
        (body, args.content, None)
    } else {
        let initial = DraftDoc {
            to: post.targets.iter().map(|t| t.account.clone()).collect(),
            at: None,
            media: vec![],
            alt: vec![],
            title: post.title.clone(),
            labels: post.labels.clone(),
            body: post.body.clone(),
        };
        let (doc, content) = from_editor(initial)?;
        (Some(doc.body), content, doc.at)
    };
    // In the editor every destination is shown, so an empty `to:` removes them all.
    let accounts = if flags_given && content.to.is_empty() {
        None
    } else {
        let accounts = ctx.store()?.resolve_destinations(&content.to)?;
        Some(accounts.into_iter().map(|a| a.id).collect())
    };
    let media = if content.media.is_empty() {
        None
    } else {
        Some(import_media(ctx, &content.media, &content.alt)?)
    };
    let change = PostChange {
        body,
        title: content.title.map(Some),
        labels: (!content.labels.is_empty()).then_some(content.labels),
        media,
        accounts,
    };
    let schedule = match &at {
        Some(text) => {
            let when = front_matter_time(ctx, text)?;
            Some(ScheduleChange {
                schedule: when.schedule,
                due: when.due,
                tz: when.tz.name().to_string(),
                per_account: Default::default(),
            })
        }
        None => None,
    };
    let outcome = ctx.store()?.update_post(&id, &change, schedule.as_ref())?;
    report_skipped(&outcome);
    if ctx.json {
        let post = ctx.store()?.post(&id)?;
        return print_json(&post);
    }
    note(format!("updated post {id}"));
    Ok(())
}

fn remove(ctx: &mut Context, args: &IdArg) -> CliResult {
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let outcome = store.delete_post(&id)?;
    report_skipped(&outcome);
    if ctx.json {
        return print_json(&serde_json::json!({"removed": id, "cancelled": outcome.changed}));
    }
    note(format!("removed post {id}"));
    Ok(())
}

/// The `at:` of a draft's front matter, read like `--at`.
fn front_matter_time(ctx: &Context, text: &str) -> CliResult<When> {
    resolve_when(
        ctx,
        &WhenArgs {
            at: Some(text.to_string()),
            ..WhenArgs::default()
        },
    )
}
