//! `postctl post` (publish now) and `postctl check` (how a text fits each network).

use std::io::IsTerminal;
use std::sync::Arc;

use postctl_core::model::{Account, Schedule, TargetState, ThreadMode};
use postctl_core::platforms::{Adapter, Capabilities, Http, NoSessions};
use postctl_core::publish::{Outcome, plan};
use postctl_core::secrets::SecretRef;
use postctl_core::store::{NewTarget, Store};
use postctl_core::text::{fit, render};
use serde::Serialize;

use super::content::{import_media, new_post, read_text, read_text_file};
use super::engine::{ci_engine, engine, runtime};
use crate::args::{CheckArgs, PostArgs, ThreadArg};
use crate::context::Context;
use crate::env_accounts::{env_accounts, is_env_account};
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, paint, print, print_json, state_color, stdout_color};

fn thread_mode(arg: ThreadArg) -> ThreadMode {
    match arg {
        ThreadArg::Auto => ThreadMode::Auto,
        ThreadArg::Never => ThreadMode::Never,
        ThreadArg::Numbered => ThreadMode::Numbered,
    }
}

fn body(text: Option<&str>, file: Option<&std::path::Path>) -> CliResult<String> {
    let body = match (text, file) {
        (_, Some(path)) => read_text_file(path, "--file")?,
        (Some(text), None) => read_text(text)?,
        (None, None) => return Err(CliError::usage("give the text, or --file FILE")),
    };
    if body.trim().is_empty() {
        return Err(CliError::usage("the text is empty; nothing to publish"));
    }
    Ok(body.trim().to_string())
}

/// The accounts for `--to`: the database's accounts and groups, then accounts defined in
/// the environment (added to the store being used so the engine can hold their targets).
fn destinations(store: &mut Store, names: &[String]) -> CliResult<Vec<Account>> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let from_env = env_accounts(&vars)?;
    let mut resolved = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let known = store.resolve_destinations(&[name.to_string()]);
        match (known, from_env.iter().find(|a| a.name == name)) {
            (Ok(accounts), _) => resolved.extend(accounts),
            (Err(_), Some(env)) => {
                let reference = SecretRef::env(&env.token_var)?;
                resolved.push(store.add_account(
                    &env.name,
                    env.network,
                    &env.settings,
                    &reference.to_string(),
                )?);
            }
            (Err(e), None) => return Err(e.into()),
        }
    }
    if resolved.is_empty() {
        return Err(CliError::usage(
            "say where to publish: --to ACCOUNT[,GROUP...] (see `postctl accounts list`)",
        ));
    }
    Ok(resolved)
}

/// The database to publish from: the user's, or (in CI, with only environment accounts and
/// no database yet) a temporary one that goes away with the command.
fn publishing_store(ctx: &mut Context) -> CliResult<(Store, Option<tempfile::TempDir>)> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    if ctx.paths.db_file.exists() || env_accounts(&vars)?.is_empty() {
        return Ok((ctx.take_store()?, None));
    }
    let dir = tempfile::tempdir()
        .map_err(|e| CliError::failure(format!("cannot create a temporary database: {e}")))?;
    let store = Store::open(&dir.path().join("postctl.db"))?;
    Ok((store, Some(dir)))
}

/// What one network would receive, for `--dry-run` and `check`.
#[derive(Debug, Serialize)]
struct Preview {
    account: String,
    network: String,
    length: usize,
    max: usize,
    fits: bool,
    parts: Vec<PreviewPart>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct PreviewPart {
    text: String,
    html: Option<String>,
    length: usize,
}

/// What each of `accounts` can take, known without asking its network (the adapter's
/// defaults and the account's settings), in order, with one HTTP client for them all.
pub(super) fn offline_capabilities(
    ctx: &Context,
    accounts: &[Account],
) -> Vec<Result<Capabilities, String>> {
    let shared = ctx
        .secrets()
        .map_err(|e| e.to_string())
        .and_then(|secrets| {
            Http::new(std::time::Duration::from_secs(5))
                .map(|http| (secrets, http))
                .map_err(|e| e.to_string())
        });
    accounts
        .iter()
        .map(|account| {
            let (secrets, http) = shared.as_ref().map_err(Clone::clone)?;
            let reference: SecretRef = account
                .secret_ref
                .parse()
                .map_err(|e: postctl_core::secrets::SecretError| e.to_string())?;
            let secret = secrets.get(&reference).map_err(|e| e.to_string())?;
            Adapter::new(account, secret, http.clone(), Arc::new(NoSessions))
                .map(|a| a.capabilities())
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// How `body` goes out on `account`, whose capabilities are `caps`.
fn preview(
    account: &Account,
    caps: Result<Capabilities, String>,
    body: &str,
    thread: ThreadMode,
) -> Preview {
    let mut preview = Preview {
        account: account.name.clone(),
        network: account.network.to_string(),
        length: 0,
        max: 0,
        fits: false,
        parts: vec![],
        error: None,
    };
    let caps = match caps {
        Ok(caps) => caps,
        Err(e) => {
            preview.error = Some(e);
            return preview;
        }
    };
    let whole = fit(body, caps.limit, caps.format);
    preview.length = whole.length;
    preview.max = whole.max;
    preview.fits = whole.fits;
    match plan::parts(body, &caps, thread) {
        Ok(parts) => {
            preview.parts = parts
                .iter()
                .map(|part| {
                    let rendered = render(part, caps.format);
                    PreviewPart {
                        length: fit(part, caps.limit, caps.format).length,
                        text: rendered.text,
                        html: rendered.html,
                    }
                })
                .collect()
        }
        Err(e) => preview.error = Some(e),
    }
    preview
}

fn print_previews(previews: &[Preview], show_text: bool) -> CliResult {
    let color = stdout_color();
    let mut out = String::new();
    for p in previews {
        let verdict = match (&p.error, p.fits) {
            (Some(_), _) => paint("cannot", "31", color),
            (None, true) => paint("fits", "32", color),
            (None, false) => paint(&format!("{} parts", p.parts.len()), "33", color),
        };
        out += &format!(
            "{} ({}): {}/{} {verdict}\n",
            p.account, p.network, p.length, p.max
        );
        if let Some(error) = &p.error {
            out += &format!("  {error}\n");
        }
        for (i, part) in p.parts.iter().enumerate() {
            if p.parts.len() > 1 || show_text {
                out += &format!("  part {} ({} of {}):\n", i + 1, part.length, p.max);
            }
            if show_text {
                for line in part.text.lines() {
                    out += &format!("    {line}\n");
                }
            }
        }
    }
    print(&out)
}

pub fn check(ctx: &mut Context, args: &CheckArgs) -> CliResult {
    let body = body(args.text.as_deref(), args.file.as_deref())?;
    let store = ctx.store()?;
    let accounts = store.resolve_destinations(&args.to)?;
    let previews: Vec<Preview> = accounts
        .iter()
        .zip(offline_capabilities(ctx, &accounts))
        .map(|(a, caps)| preview(a, caps, &body, thread_mode(args.thread)))
        .collect();
    if ctx.json {
        return print_json(&previews);
    }
    print_previews(&previews, false)?;
    if previews.iter().any(|p| p.error.is_some()) {
        return Err(CliError {
            message: "some networks cannot take this text as it is (see above)".into(),
            code: ExitCode::Error,
        });
    }
    Ok(())
}

/// What to publish: one text for a set of accounts. A release announcement fitted per
/// network gives one batch per distinct text.
struct Batch {
    body: String,
    accounts: Vec<Account>,
}

/// The release announcement for each account, grouped by identical text.
fn release_batches(
    ctx: &Context,
    store: &Store,
    args: &PostArgs,
    path: &std::path::Path,
    accounts: Vec<Account>,
) -> CliResult<Vec<Batch>> {
    use postctl_core::content::{changelog, release};
    let text = read_text_file(path, "--release")?;
    let notes = if text.trim_start().starts_with('{') {
        changelog::from_github_event(&text)
    } else {
        changelog::section(&text, args.release_version.as_deref())
    }
    .map_err(|e| CliError::from(postctl_core::Error::from(e)))?;
    let template = store.template_or_builtin("release")?;
    let mut vars = super::template::variables(&args.vars, None)?;
    if let Some(name) = release::project_from_env(|k| std::env::var(k).ok())
        .filter(|_| !vars.as_json().contains_key("name"))
    {
        vars.insert("name", serde_json::Value::String(name));
    }
    let mut batches: Vec<Batch> = Vec::new();
    let capabilities = offline_capabilities(ctx, &accounts);
    for (account, caps) in accounts.into_iter().zip(capabilities) {
        let body = if args.thread.is_some() {
            // A thread was asked for: the whole notes, split by the publisher.
            template
                .render(Some(account.network), &notes.variables(vars.clone()))
                .map(|r| r.text)
        } else {
            let caps = caps.map_err(CliError::usage)?;
            release::announcement(&notes, &template, account.network, &caps, vars.clone())
        }
        .map_err(|e| CliError::from(postctl_core::Error::from(e)))?;
        match batches.iter_mut().find(|b| b.body == body) {
            Some(batch) => batch.accounts.push(account),
            None => batches.push(Batch {
                body,
                accounts: vec![account],
            }),
        }
    }
    Ok(batches)
}

#[derive(Debug, Serialize)]
struct PostResult<'a> {
    /// The first post; a release fitted per network can make one post per distinct text.
    post_id: &'a str,
    post_ids: &'a [String],
    targets: &'a [Outcome],
}

pub fn run(ctx: &mut Context, args: PostArgs) -> CliResult {
    let thread = thread_mode(args.thread.unwrap_or(ThreadArg::Auto));
    let (mut store, temporary) = publishing_store(ctx)?;
    let names = if args.content.to.is_empty() {
        ctx.config.default_to.clone()
    } else {
        args.content.to.clone()
    };
    let accounts = destinations(&mut store, &names)?;
    let batches = match &args.release {
        Some(path) => release_batches(ctx, &store, &args, path, accounts.clone())?,
        None => vec![Batch {
            body: body(args.text.as_deref(), args.file.as_deref())?,
            accounts: accounts.clone(),
        }],
    };
    if args.dry_run {
        import_media(ctx, &args.content.media, &args.content.alt)?;
        let previews: Vec<Preview> = batches
            .iter()
            .flat_map(|b| {
                b.accounts
                    .iter()
                    .zip(offline_capabilities(ctx, &b.accounts))
                    .map(|(a, caps)| preview(a, caps, &b.body, thread))
            })
            .collect();
        if ctx.json {
            return print_json(&previews);
        }
        note("dry run: nothing was sent");
        return print_previews(&previews, true);
    }
    let now = chrono::Utc::now();
    let tz = ctx.zone(None)?;
    let mut post_ids = Vec::with_capacity(batches.len());
    for batch in &batches {
        let targets = batch
            .accounts
            .iter()
            .map(|a| NewTarget {
                account_id: a.id.clone(),
                due: Some(now),
            })
            .collect();
        let mut post = new_post(
            ctx,
            batch.body.clone(),
            args.content.clone(),
            tz.name(),
            Schedule::At,
            targets,
        )?;
        post.thread = thread;
        post_ids.push(store.create_post(&post)?);
    }
    let engine = if temporary.is_some() || accounts.iter().any(is_env_account) {
        ci_engine(ctx, store)?
    } else {
        engine(ctx, store)?
    };
    let spinner = (std::io::stderr().is_terminal() && accounts.len() > 1 && !ctx.json).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("publishing to {} accounts", accounts.len()));
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        bar
    });
    // Retries due within --wait are waited for; later ones are left to the daemon or
    // `run-due` (the retry window still bounds them all).
    let wait = chrono::Duration::seconds(args.wait.min(86_400) as i64);
    let runtime = runtime()?;
    let mut report = postctl_core::publish::Report::default();
    for post_id in &post_ids {
        match runtime.block_on(engine.drain(Some(post_id), wait)) {
            Ok(round) => {
                report.outcomes.extend(round.outcomes);
                report.missed.extend(round.missed);
            }
            Err(e) => {
                if let Some(bar) = &spinner {
                    bar.finish_and_clear();
                }
                return Err(e.into());
            }
        }
    }
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    // Targets finish in whatever order their networks answer; print them in --to order.
    report
        .outcomes
        .sort_by_key(|o| accounts.iter().position(|a| a.name == o.account));
    runtime.block_on(super::daemon::notify(&engine, &ctx.config.notify, &report));
    let first = post_ids.first().cloned().unwrap_or_default();
    if ctx.json {
        print_json(&PostResult {
            post_id: &first,
            post_ids: &post_ids,
            targets: &report.outcomes,
        })?;
    } else {
        print_outcomes(&report.outcomes)?;
    }
    exit_for(&report.outcomes, &first)
}

pub fn print_outcomes(outcomes: &[Outcome]) -> CliResult {
    let color = stdout_color();
    let mut out = String::new();
    for o in outcomes {
        for n in &o.notes {
            note(format!("note: {n}"));
        }
        let state = paint(o.state.as_str(), state_color(o.state), color);
        let detail = match (&o.error, o.urls.first()) {
            (Some(error), _) => error.clone(),
            (None, Some(url)) => url.clone(),
            (None, None) => String::new(),
        };
        out += &format!("{state}  {}  {detail}\n", o.account);
    }
    print(&out)
}

/// 0 when every target was published, 4 when credentials failed, 3 otherwise.
pub fn exit_for(outcomes: &[Outcome], post_id: &str) -> CliResult {
    if outcomes.iter().all(|o| o.state == TargetState::Published) {
        return Ok(());
    }
    if outcomes.iter().any(|o| o.auth) {
        return Err(CliError {
            message: "credentials were missing or rejected (see above); fix them with `postctl accounts add ...`, then `postctl retry ".to_string() + post_id + "`",
            code: ExitCode::Auth,
        });
    }
    Err(CliError {
        message: format!("not every target was published; see `postctl status {post_id}`"),
        code: ExitCode::Partial,
    })
}
