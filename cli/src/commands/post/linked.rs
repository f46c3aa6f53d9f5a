//! `postctl post` on a database linked to a server (issue 13): the server publishes the
//! workspace's posts, so the post is stored here due now, pushed by a sync, and its result
//! is pulled until every target has finished on the server (bounded by `--wait`).
//!
//! What the server lacks is refused before anything is stored: an account it has no
//! credentials for could never be published to. A server that cannot be reached leaves
//! the post queued here: the next sync (the daemon's, or `postctl sync`) sends it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use postctl_core::model::{Account, TargetState, ThreadMode};
use postctl_core::publish::Outcome;
use postctl_core::store::{ServerTargetState, Store};
use postctl_core::sync::client::SyncError;

use super::{PostResult, batches_and_previews, dry_run, store_posts};
use crate::args::PostArgs;
use crate::checks::refuse_if_any_cannot;
use crate::context::Context;
use crate::engine::{exit_for, print_outcomes, runtime};
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, print_json};
use crate::server::{self, Linked};

/// How often the result is pulled while waiting for the server.
const PULL_EVERY: Duration = Duration::from_millis(500);

pub fn run(ctx: &mut Context, args: PostArgs, thread: ThreadMode) -> CliResult {
    let linked = server::linked(ctx)?;
    let names = if args.content.to.is_empty() {
        ctx.config.default_to.clone()
    } else {
        args.content.to.clone()
    };
    let names: Vec<String> = names
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(CliError::usage(
            "say where to publish: --to ACCOUNT[,GROUP...] (see `postctl accounts list`)",
        ));
    }
    let accounts = ctx.store()?.resolve_destinations(&names)?;
    let runtime = runtime()?;
    refuse_missing_on_server(ctx.store()?, &linked, &runtime, &accounts)?;
    let store = ctx.store()?;
    let (batches, previews) = batches_and_previews(store, &args, &accounts, thread)?;
    crate::checks::refuse_media(ctx, &accounts, args.content.media.len())?;
    if args.dry_run {
        return dry_run(ctx, &args, &previews);
    }
    refuse_if_any_cannot(&previews, true)?;
    let mut store = ctx.take_store()?;
    let post_ids = store_posts(ctx, &mut store, &args, &batches, thread)?;
    let first = post_ids.first().cloned().unwrap_or_default();
    let media_dir = ctx.paths.media_dir();
    let sync = |store: &mut Store| {
        runtime.block_on(postctl_core::sync::run::sync(
            store,
            &linked.client,
            &linked.token,
            &media_dir,
        ))
    };
    let address = &linked.link.server;

    // The push. Until it went through, the post waits here for the next sync.
    let queued = |why: String| CliError {
        message: format!(
            "{why}; the post is stored here and waits to be sent: the next sync sends it (the daemon's background sync, or run `postctl sync`), then the server publishes it (see `postctl status {first}`)"
        ),
        code: ExitCode::Partial,
    };
    match sync(&mut store) {
        Ok(_) => {
            let held = store.held_posts()?;
            if let Some(h) = held.iter().find(|h| post_ids.contains(&h.post_id)) {
                print_result(ctx, &store, &post_ids, &accounts)?;
                return Err(queued(format!(
                    "the file {} could not be uploaded to {address} ({})",
                    h.file_name, h.reason
                )));
            }
        }
        Err(postctl_core::Error::Sync(e @ SyncError::Unreachable { .. })) => {
            print_result(ctx, &store, &post_ids, &accounts)?;
            return Err(queued(format!("the server cannot be reached: {e}")));
        }
        Err(postctl_core::Error::Sync(e)) => {
            let mut error = server::error(e);
            error.message = format!(
                "{}; post {first} is stored here and `postctl sync` sends it once that is fixed",
                error.message
            );
            return Err(error);
        }
        Err(e) => return Err(e.into()),
    }
    if args.wait == 0 {
        note(format!(
            "sent to the server {address}, which publishes it now; see `postctl status {first}` after a sync"
        ));
        return print_result(ctx, &store, &post_ids, &accounts);
    }

    // The wait: pull until every target has finished on the server.
    let deadline = Instant::now() + Duration::from_secs(args.wait.min(86_400));
    let mut said: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut offline = None;
    loop {
        let known = server_states(&store, &post_ids)?;
        for (post, t) in &known {
            let key = (post.clone(), t.account.clone(), t.state.clone());
            if !finished(&t.state) && said.insert(key) {
                let error = t
                    .last_error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                note(format!("{}: {} on the server{error}", t.account, t.state));
            }
        }
        let done = post_ids.iter().all(|post| {
            accounts.iter().all(|a| {
                known
                    .iter()
                    .any(|(p, t)| p == post && t.account == a.name && finished(&t.state))
            })
        });
        if done || Instant::now() >= deadline {
            let outcomes = outcomes(&store, &post_ids, &accounts)?;
            print_outcomes_or_json(ctx, &post_ids, &outcomes)?;
            if done {
                return exit_for(&outcomes, &first);
            }
            let why = match &offline {
                Some(e) => format!(" (the server stopped answering: {e})"),
                None => String::new(),
            };
            return Err(CliError {
                message: format!(
                    "the server {address} has not finished publishing post {first} within {}s{why}; it still has it and goes on: see `postctl status {first}` after `postctl sync`",
                    args.wait
                ),
                code: ExitCode::Partial,
            });
        }
        std::thread::sleep(PULL_EVERY.min(deadline.saturating_duration_since(Instant::now())));
        match sync(&mut store) {
            Ok(_) => offline = None,
            Err(postctl_core::Error::Sync(e @ SyncError::Unreachable { .. })) => {
                offline = Some(e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Refuses accounts the server has no credentials for: it could never publish to them.
/// The server is asked; when it cannot be reached, its list from the last sync is used
/// (a database that never synced has none: the post is queued, and `sync` names them).
fn refuse_missing_on_server(
    store: &Store,
    linked: &Linked,
    runtime: &tokio::runtime::Runtime,
    accounts: &[Account],
) -> CliResult {
    let on_server: Vec<String> = match runtime.block_on(linked.client.accounts(&linked.token)) {
        Ok(list) => list.into_iter().map(|a| a.name).collect(),
        Err(SyncError::Unreachable { .. }) if linked.link.last_sync.is_some() => {
            store.server_account_names()?
        }
        Err(SyncError::Unreachable { .. }) => return Ok(()),
        Err(e) => return Err(server::error(e)),
    };
    let missing: Vec<&str> = accounts
        .iter()
        .map(|a| a.name.as_str())
        .filter(|name| !on_server.iter().any(|s| s == name))
        .collect();
    let message = match missing.as_slice() {
        [] => return Ok(()),
        [name] => format!(
            "account {name} is not on the server {}, which publishes this workspace's posts: send its credentials with `postctl accounts push {name}`, then post again; nothing was stored",
            linked.link.server
        ),
        names => format!(
            "accounts {} are not on the server {}, which publishes this workspace's posts: send their credentials with `postctl accounts push NAME` for each, then post again; nothing was stored",
            names.join(", "),
            linked.link.server
        ),
    };
    Err(CliError::usage(message))
}

/// Whether the server is done with a target (it will not change on its own).
fn finished(state: &str) -> bool {
    matches!(
        state.parse::<TargetState>(),
        Ok(TargetState::Published
            | TargetState::Failed
            | TargetState::Uncertain
            | TargetState::Cancelled
            | TargetState::Missed)
    )
}

/// The server's targets of the posts as last pulled, with their post.
fn server_states(
    store: &Store,
    post_ids: &[String],
) -> CliResult<Vec<(String, ServerTargetState)>> {
    let mut all = Vec::new();
    for post in post_ids {
        for t in store.server_targets(post)? {
            all.push((post.clone(), t));
        }
    }
    Ok(all)
}

/// Each target as the local `post` reports it, from the server's state (or this
/// device's `scheduled` one while the server has not reported it), in `--to` order.
fn outcomes(store: &Store, post_ids: &[String], accounts: &[Account]) -> CliResult<Vec<Outcome>> {
    let mut out = Vec::new();
    for post in post_ids {
        let on_server = store.server_targets(post)?;
        for local in store.target_status(post)? {
            let server = on_server.iter().find(|t| t.account == local.account);
            let state = server
                .and_then(|t| t.state.parse::<TargetState>().ok())
                .unwrap_or(local.state);
            out.push(Outcome {
                post_id: post.clone(),
                target_id: local.target_id,
                account: local.account,
                network: local.network,
                state,
                urls: server.and_then(|t| t.url.clone()).into_iter().collect(),
                error: server.and_then(|t| t.last_error.clone()),
                next_attempt: None,
                auth: false,
                notes: Vec::new(),
            });
        }
    }
    out.sort_by_key(|o| accounts.iter().position(|a| a.name == o.account));
    Ok(out)
}

fn print_outcomes_or_json(ctx: &Context, post_ids: &[String], outcomes: &[Outcome]) -> CliResult {
    if ctx.json {
        return print_json(&PostResult {
            post_id: post_ids.first().map(String::as_str).unwrap_or_default(),
            post_ids,
            targets: outcomes,
        });
    }
    print_outcomes(outcomes)
}

/// The posts' targets as known now (not yet finished): printed as the local `post` does.
fn print_result(
    ctx: &Context,
    store: &Store,
    post_ids: &[String],
    accounts: &[Account],
) -> CliResult {
    let outcomes = outcomes(store, post_ids, accounts)?;
    print_outcomes_or_json(ctx, post_ids, &outcomes)
}
