//! What the post-writing commands share: reading text and files, attaching media, resolving
//! `--to`, turning `--at`/`--every` into a schedule, each account's limits and how an
//! account is shown, templates and their variables, the brand voice to use, and telling the
//! user what a change skipped.

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::content::template::{Template, Variables, builtin};
use postctl_core::content::voice::{self, Voice};
use postctl_core::fs::{MAX_TEXT_BYTES, describe_limit, read_text_up_to};
use postctl_core::model::{Account, MediaRef, Schedule};
use postctl_core::network::Network;
use postctl_core::platforms::Capabilities;
use postctl_core::publish::preview;
use postctl_core::secrets::SecretRef;
use postctl_core::store::StoredTemplate;
use postctl_core::store::{NewPost, NewTarget, Outcome};
use postctl_core::time::{WeeklyRule, ensure_not_past, parse_when};
use serde_json::Value;

use crate::args::{ContentArgs, WhenArgs};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::note;

/// The text argument; `-` reads stdin (up to [`MAX_TEXT_BYTES`]).
pub fn read_text(text: &str) -> CliResult<String> {
    if text != "-" {
        return Ok(text.to_string());
    }
    let buffer = read_text_up_to(std::io::stdin().lock(), MAX_TEXT_BYTES)
        .map_err(|e| CliError::usage(format!("cannot read the text from stdin: {e}")))?
        .ok_or_else(|| {
            CliError::usage(format!(
                "standard input holds more than {}, the most postctl reads as a text; pipe in only the post (or the changelog, template or brief)",
                describe_limit(MAX_TEXT_BYTES)
            ))
        })?;
    Ok(buffer.trim_end().to_string())
}

/// The text of the file at `path` (up to [`MAX_TEXT_BYTES`]); `flag` names where the path
/// came from, for the message when it cannot be read.
pub fn read_text_file(path: &Path, flag: &str) -> CliResult<String> {
    let file = std::fs::File::open(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read {}: {e}; check the path given to {flag}",
            path.display()
        ))
    })?;
    read_text_up_to(file, MAX_TEXT_BYTES)
        .map_err(|e| {
            CliError::usage(format!(
                "cannot read {}: {e}; check the path given to {flag}",
                path.display()
            ))
        })?
        .ok_or_else(|| {
            CliError::usage(format!(
                "{} is larger than {}, the most postctl reads as a text: give {flag} a smaller file (a post, a changelog, a template or a brief)",
                path.display(),
                describe_limit(MAX_TEXT_BYTES)
            ))
        })
}

/// Copies the `--media` files into the data dir, pairing each with its `--alt`.
pub fn import_media(
    ctx: &Context,
    files: &[std::path::PathBuf],
    alts: &[String],
) -> CliResult<Vec<MediaRef>> {
    if alts.len() > files.len() {
        return Err(CliError::usage(format!(
            "{} --alt given for {} --media; give one --alt per media file, in the same order",
            alts.len(),
            files.len()
        )));
    }
    let media_dir = ctx.paths.media_dir();
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let alt = alts.get(i).filter(|a| !a.trim().is_empty()).cloned();
            postctl_core::media::import(file, alt, &media_dir).map_err(Into::into)
        })
        .collect()
}

/// `--to`, or the config's `default_to` when none is given.
pub fn destinations(ctx: &mut Context, content: &ContentArgs) -> CliResult<Vec<Account>> {
    let names: Vec<String> = if content.to.is_empty() {
        ctx.config.default_to.clone()
    } else {
        content
            .to
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    };
    Ok(ctx.store()?.resolve_destinations(&names)?)
}

/// A resolved `--at` or `--every`.
pub struct When {
    pub schedule: Schedule,
    pub due: DateTime<Utc>,
    pub tz: Tz,
}

pub fn resolve_when(ctx: &Context, when: &WhenArgs) -> CliResult<When> {
    let cx = ctx.parse_context(when)?;
    if let Some(rule) = &when.every {
        let rule: WeeklyRule = rule.parse()?;
        let due = rule.next_after(cx.now, cx.tz).ok_or_else(|| {
            CliError::usage(format!(
                "the rule {rule} has no occurrence; give it days and times, e.g. \"mon,wed 09:00\""
            ))
        })?;
        return Ok(When {
            schedule: Schedule::Every {
                rule: rule.to_string(),
            },
            due,
            tz: cx.tz,
        });
    }
    let text = when
        .at
        .as_deref()
        .ok_or_else(|| CliError::usage("say when: --at WHEN or --every RULE"))?;
    let due = parse_when(text, &cx)?;
    if !when.allow_past {
        ensure_not_past(due, cx.now, cx.tz)?;
    }
    Ok(When {
        schedule: Schedule::At,
        due,
        tz: cx.tz,
    })
}

/// Tells the user which targets a change could not touch, and why.
pub fn report_skipped(outcome: &Outcome) {
    for (account, state) in &outcome.skipped {
        note(format!(
            "left {account} as it is: that target is already {state}"
        ));
    }
}

/// A new post from the content flags: media copied in, text, title and labels as given.
pub fn new_post(
    ctx: &Context,
    body: String,
    content: ContentArgs,
    tz: &str,
    schedule: Schedule,
    targets: Vec<NewTarget>,
) -> CliResult<NewPost> {
    let media = import_media(ctx, &content.media, &content.alt)?;
    Ok(NewPost {
        body,
        title: content.title,
        labels: content.labels,
        media,
        tz: tz.to_string(),
        schedule,
        thread: Default::default(),
        targets,
    })
}

/// What each of `accounts` can take, known offline: with what their servers said about
/// their limits where a database exists (CI accounts alone create none).
pub fn capabilities(
    ctx: &mut Context,
    accounts: &[Account],
) -> CliResult<Vec<Result<Capabilities, String>>> {
    let store = if ctx.paths.db_file.exists() {
        Some(&*ctx.store()?)
    } else {
        None
    };
    Ok(preview::capabilities(store, accounts))
}

/// A file's text, or a usage error naming the file.
pub fn read_file(path: &Path) -> CliResult<String> {
    if path.as_os_str() == "-" {
        return read_text("-");
    }
    read_text_file(path, "--file/--from")
}

/// The variables of `--var`, `--vars-file` and the environment (see `help template render`).
pub fn variables(assignments: &[String], vars_file: Option<&Path>) -> CliResult<Variables> {
    let file = match vars_file {
        Some(path) => {
            let text = read_file(path)?;
            let json: Value = serde_json::from_str(&text).map_err(|e| {
                CliError::usage(format!(
                    "{} is not valid JSON ({e}); --vars-file takes a JSON object such as {{\"version\": \"1.2.0\"}}",
                    path.display()
                ))
            })?;
            Some((path.display().to_string(), json))
        }
        None => None,
    };
    // Variables that are not valid Unicode cannot be template text; they are left out.
    let environment = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let file = file
        .as_ref()
        .map(|(name, json)| (name.as_str(), json.clone()));
    Ok(Variables::layered(assignments, file, environment)?)
}

/// `--voice NAME`, else the only voice in config.toml, else none.
pub fn choose_voice(ctx: &Context, name: Option<&str>) -> CliResult<Option<(String, Voice)>> {
    if let Some(name) = name {
        let voice = voice::find(&ctx.config, name)?;
        return Ok(Some((name.to_string(), voice.clone())));
    }
    let voices = &ctx.config.voices;
    match voices.len() {
        0 => Ok(None),
        1 => Ok(voices
            .iter()
            .next()
            .map(|(name, voice)| (name.clone(), voice.clone()))),
        _ => Err(CliError::usage(format!(
            "there are several voices ({}); pick one with --voice NAME",
            voices.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The stored template `name`, else the built-in one.
pub fn find(ctx: &mut Context, name: &str) -> CliResult<(Template, Option<StoredTemplate>)> {
    let stored = ctx.store()?.find_template(name)?;
    match stored {
        Some(stored) => Ok((stored.template.clone(), Some(stored))),
        None => match builtin(name) {
            Some(template) => Ok((template, None)),
            None => Err(postctl_core::Error::NotFound {
                what: "template",
                name: name.into(),
                hint: "see `postctl template list`, or add it with `postctl template add NAME --file FILE`".into(),
            }
            .into()),
        },
    }
}

/// `--for NETWORK` as a network, or a usage error listing them.
pub fn parse_network(given: &str) -> CliResult<Network> {
    given.parse::<Network>().map_err(|_| {
        CliError::usage(format!(
            "--for {given:?} is not a network; use one of {}",
            Network::ALL
                .iter()
                .map(|n| n.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

pub fn account_json(ctx: &Context, account: &postctl_core::model::Account) -> serde_json::Value {
    let location = account
        .secret_ref
        .parse::<SecretRef>()
        .map(|r| r.location(&ctx.paths.data_dir))
        .unwrap_or_else(|_| "unknown".into());
    serde_json::json!({
        "name": account.name,
        "network": account.network,
        "base_url": account.base_url,
        "handle": account.handle,
        "settings": account.settings,
        "secret": location,
        "created": account.created,
    })
}
