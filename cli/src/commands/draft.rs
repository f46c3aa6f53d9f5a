use postctl_core::model::{MediaRef, Schedule, TargetState};
use postctl_core::store::{ListFilter, PostChange, ScheduleChange};

use crate::args::{ContentArgs, DraftCommand, DraftEditArgs, DraftNewArgs, DraftRmArgs};
use crate::content::{import_media, read_text, report_skipped};
use crate::context::Context;
use crate::editor::{DraftDoc, edit};
use crate::exit::{CliError, CliResult};
use crate::output::{note, print_json};
use crate::posts;
use crate::scheduling::{front_matter_time, save_draft};

pub fn run(ctx: &mut Context, command: DraftCommand) -> CliResult {
    match command {
        DraftCommand::New(args) => new(ctx, args),
        DraftCommand::List => posts::print_posts(ctx, &ListFilter::Drafts, None, None),
        DraftCommand::Show(args) => posts::show(ctx, &args.id),
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
        let Some(text) = args.text.as_deref() else {
            return Err(CliError::usage(
                "give the draft's text: as an argument, - to read it from stdin, or -e to write it in $EDITOR",
            ));
        };
        (read_text(text)?, args.content, None)
    };
    let (id, scheduled) = save_draft(ctx, body, content, at.as_deref())?;
    posts::report_created(ctx, &id, scheduled)
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
    let mut media_unchanged = false;
    let (body, content, at) = if flags_given {
        let body = args.text.as_deref().map(read_text).transpose()?;
        (body, args.content, None)
    } else {
        let media_dir = ctx.paths.media_dir();
        let tz = ctx.zone(None)?;
        // The post's time as `at:` reads it back (in the zone times are read in); a
        // recurring post keeps its rule, changed with `postctl reschedule --every`.
        let at = match post.schedule {
            Schedule::At | Schedule::Queue => post
                .due
                .map(|due| due.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()),
            Schedule::None | Schedule::Every { .. } => None,
        };
        let initial = DraftDoc {
            to: post.targets.iter().map(|t| t.account.clone()).collect(),
            at: at.clone(),
            media: post
                .media
                .iter()
                .map(|m| postctl_core::media::stored_path(&media_dir, m))
                .collect(),
            alt: {
                let mut alt: Vec<String> = post
                    .media
                    .iter()
                    .map(|m| m.alt.clone().unwrap_or_default())
                    .collect();
                while alt.last().is_some_and(String::is_empty) {
                    alt.pop();
                }
                alt
            },
            title: post.title.clone(),
            labels: post.labels.clone(),
            body: post.body.clone(),
        };
        let (doc, content) = from_editor(initial.clone())?;
        if at.is_some() && doc.at.is_none() {
            return Err(CliError::usage(format!(
                "`at:` was emptied, but a scheduled post is not unscheduled that way: cancel it with `postctl cancel {}`; nothing was saved",
                args.id
            )));
        }
        media_unchanged = doc.media == initial.media && doc.alt == initial.alt;
        let at = doc.at.clone().filter(|new| Some(new) != at.as_ref());
        (Some(doc.body), content, at)
    };
    // In the editor every destination is shown, so an empty `to:` removes them all.
    let accounts = if flags_given && content.to.is_empty() {
        None
    } else {
        let accounts = ctx.store()?.resolve_destinations(&content.to)?;
        Some(accounts.into_iter().map(|a| a.id).collect())
    };
    // In the editor every media file is shown, so an empty `media:` removes them all.
    let media = if media_unchanged || (flags_given && content.media.is_empty()) {
        None
    } else {
        Some(edited_media(
            ctx,
            &post.media,
            &content.media,
            &content.alt,
        )?)
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

fn remove(ctx: &mut Context, args: &DraftRmArgs) -> CliResult {
    let store = ctx.store()?;
    let id = store.resolve_post_id(&args.id)?;
    let post = store.post(&id)?;
    let pending: Vec<&str> = post
        .targets
        .iter()
        .filter(|t| {
            matches!(
                t.state,
                TargetState::Scheduled | TargetState::WaitingRetry | TargetState::Publishing
            )
        })
        .map(|t| t.account.as_str())
        .collect();
    if !pending.is_empty() && !args.yes {
        let question = format!(
            "post {id} is scheduled on {}; remove it (it will not be published)?",
            pending.join(", ")
        );
        if !confirm(&question)? {
            note("nothing removed");
            return Ok(());
        }
    }
    let store = ctx.store()?;
    let outcome = store.delete_post(&id)?;
    report_skipped(&outcome);
    if ctx.json {
        return print_json(&serde_json::json!({"removed": id, "cancelled": outcome.changed}));
    }
    note(format!("removed post {id}"));
    Ok(())
}

/// The media of an edited post: files already attached (listed by their stored path) keep
/// their name and take the alt text given now; others are imported.
fn edited_media(
    ctx: &Context,
    attached: &[MediaRef],
    files: &[std::path::PathBuf],
    alts: &[String],
) -> CliResult<Vec<MediaRef>> {
    let media_dir = ctx.paths.media_dir();
    // Importing an attached file again only checks it: the store keeps one copy per content.
    let mut media = import_media(ctx, files, alts)?;
    for (i, file) in files.iter().enumerate() {
        if let Some(existing) = attached
            .iter()
            .find(|m| postctl_core::media::stored_path(&media_dir, m) == *file)
        {
            let mut kept = existing.clone();
            kept.alt = alts.get(i).filter(|a| !a.trim().is_empty()).cloned();
            media[i] = kept;
        }
    }
    Ok(media)
}

/// Asks `question` on the terminal; without one, refuses and names `--yes`.
fn confirm(question: &str) -> CliResult<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "{question} Pass --yes to confirm (stdin is not a terminal, so postctl does not ask)"
        )));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
