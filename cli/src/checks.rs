//! How a text fits before it goes out: what each account would receive of it (`check`,
//! `post`'s refusal of what cannot go out) and what lint finds against the brand voice
//! and each account's length. The verbs and the MCP server's tools print what these return.

use postctl_core::content::lint::{Destination, Report, lint};
use postctl_core::model::ThreadMode;
use postctl_core::publish::preview::{self, Preview, preview};

use crate::content::{capabilities, choose_voice};
use crate::context::Context;
use crate::env_accounts;
use crate::exit::{CliError, CliResult};

/// What each of the accounts and groups `to` would receive of `body`, counted and split
/// the network's way; known offline.
pub fn previews(
    ctx: &mut Context,
    body: &str,
    to: &[String],
    thread: ThreadMode,
) -> CliResult<Vec<Preview>> {
    let accounts = env_accounts::resolve_for_reading(ctx, to)?;
    Ok(accounts
        .iter()
        .zip(capabilities(ctx, &accounts)?)
        .map(|(a, caps)| preview(a, caps, body, thread))
        .collect())
}

/// The one rule for a text that cannot go out as asked (too long where no thread is
/// allowed, a network postctl cannot publish to yet): `check`, `check --json`,
/// `post --dry-run` and `post` all exit 2, and `post` stores nothing.
pub fn refuse_if_any_cannot(previews: &[Preview], publishing: bool) -> CliResult {
    let refused: Vec<&Preview> = previews.iter().filter(|p| p.error.is_some()).collect();
    if refused.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = refused.iter().map(|p| p.account.as_str()).collect();
    let mut message = format!("{} cannot take this text as it is", names.join(", "));
    if publishing {
        // `post` has printed nothing yet: say why here.
        for p in &refused {
            if let Some(error) = &p.error {
                message += &format!("\n  {}: {error}", p.account);
            }
        }
        message += "\nnothing was sent or stored; fix the text or --to, and run it again";
    } else {
        message += " (see above)";
    }
    Err(CliError::usage(message))
}

/// Refuses, before anything is stored, a post that cannot go to one of `accounts` because
/// of its media, known offline: Instagram needs an image, and a media host to give it
/// from (`[media.host]`). Exit 2, naming the setting to add. A database linked to a server
/// is published by the server, whose own bucket gives the images (`[media]` in its
/// server.toml; it says so when it has none), so no local host is asked for there.
pub fn refuse_media(
    ctx: &mut Context,
    accounts: &[postctl_core::model::Account],
    media: usize,
) -> CliResult {
    // Asked only when it matters, and never of a database that does not exist (CI mode
    // creates none).
    let host = ctx.config.media.host.is_some()
        || (accounts.iter().any(|a| {
            postctl_core::platforms::media_refusal(a.network, media, false).is_some()
                && postctl_core::platforms::media_refusal(a.network, media, true).is_none()
        }) && ctx.paths.db_file.exists()
            && ctx.store()?.is_linked()?);
    let refused: Vec<String> = accounts
        .iter()
        .filter_map(|a| {
            postctl_core::platforms::media_refusal(a.network, media, host)
                .map(|why| format!("  {}: {why}", a.name))
        })
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "this post cannot go out as it is; nothing was sent or stored\n{}",
        refused.join("\n")
    )))
}

/// What to lint: a stored post, or a text.
pub enum Draft {
    Post(String),
    Text(String),
}

/// The message for a report with error-level findings; `None` when it passed.
pub fn failure(report: &Report) -> Option<String> {
    if report.passed() {
        return None;
    }
    Some(format!(
        "{} found; fix the draft{}",
        plural(report.errors, "error"),
        report
            .voice
            .as_ref()
            .map(|v| format!(", or change the voice with `postctl voice set {v} ...`"))
            .unwrap_or_default()
    ))
}

/// Lints `draft` against the voice (`voice`, else the only one configured) and the length
/// of each destination (`to`, else the post's accounts, else `default_to`).
pub fn lint_draft(
    ctx: &mut Context,
    draft: Draft,
    voice: Option<&str>,
    to: &[String],
) -> CliResult<(Report, Vec<Destination>)> {
    let (text, post_destinations) = match draft {
        Draft::Text(text) => (text, None),
        Draft::Post(id) => {
            let store = ctx.store()?;
            let id = store.resolve_post_id(&id)?;
            let post = store.post(&id)?;
            let destinations = post
                .targets
                .iter()
                .map(|t| {
                    // A removed account counts with its network's defaults.
                    let capabilities = store.account(&t.account).ok().and_then(|account| {
                        preview::capabilities(Some(store), std::slice::from_ref(&account))
                            .pop()
                            .and_then(Result::ok)
                    });
                    Destination {
                        account: t.account.clone(),
                        network: t.network,
                        capabilities,
                    }
                })
                .collect::<Vec<_>>();
            (post.body, Some(destinations))
        }
    };
    let voice = choose_voice(ctx, voice)?;
    let destinations = lint_destinations(ctx, to, post_destinations)?;
    let report = lint(
        &text,
        voice.as_ref().map(|(name, v)| (name.as_str(), v)),
        &destinations,
    );
    Ok((report, destinations))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `--to`, else the post's accounts, else the config's `default_to`.
fn lint_destinations(
    ctx: &mut Context,
    to: &[String],
    post: Option<Vec<Destination>>,
) -> CliResult<Vec<Destination>> {
    let names: Vec<String> = to
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let names = match (names.is_empty(), post) {
        (false, _) => names,
        (true, Some(post)) if !post.is_empty() => return Ok(post),
        (true, _) => ctx.config.default_to.clone(),
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let accounts = crate::env_accounts::resolve_for_reading(ctx, &names)?;
    let capabilities = crate::content::capabilities(ctx, &accounts)?;
    Ok(accounts
        .into_iter()
        .zip(capabilities)
        .map(|(a, caps)| Destination {
            account: a.name,
            network: a.network,
            capabilities: caps.ok(),
        })
        .collect())
}
