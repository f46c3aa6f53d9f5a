//! `postctl post` (publish now) and `postctl check` (how a text fits each network).

use std::io::IsTerminal;

use postctl_core::content::release::{self, Batch};
use postctl_core::model::{Account, Schedule, TargetState, ThreadMode};
use postctl_core::publish::Outcome;
use postctl_core::publish::preview::{self, Preview, preview};
use postctl_core::secrets::SecretRef;
use postctl_core::store::{NewTarget, Store};
use serde::Serialize;

use crate::args::{CheckArgs, PostArgs, ThreadArg};
use crate::checks::{previews, refuse_if_any_cannot};
use crate::content::{import_media, new_post, read_text, read_text_file};
use crate::context::Context;
use crate::engine::{
    ci_engine, engine, exit_for, notify, print_outcomes, publish_and_wait_saying, runtime,
};
use crate::env_accounts::{self, is_env_account};
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, paint, print, print_json, stdout_color};

mod linked;

pub(super) fn thread_mode(arg: ThreadArg) -> ThreadMode {
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
    let from_env = env_accounts::from_process()?;
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
    if ctx.paths.db_file.exists() || env_accounts::from_process()?.is_empty() {
        return Ok((ctx.take_store()?, None));
    }
    let dir = tempfile::tempdir()
        .map_err(|e| CliError::failure(format!("cannot create a temporary database: {e}")))?;
    let mut store = Store::open(&dir.path().join("postctl.db"))?;
    store.set_clock(ctx.clock);
    Ok((store, Some(dir)))
}

fn print_previews(previews: &[Preview], show_text: bool) -> CliResult {
    let color = stdout_color();
    let mut out = String::new();
    for p in previews {
        let verdict = match (&p.error, p.fits) {
            (Some(_), _) if !p.publishable => paint("not publishable yet", "31", color),
            (Some(_), _) => paint("cannot", "31", color),
            (None, true) => paint("fits", "32", color),
            (None, false) => paint(&format!("{} parts", p.parts.len()), "33", color),
        };
        if p.publishable {
            out += &format!(
                "{} ({}): {}/{} {verdict}\n",
                p.account, p.network, p.length, p.max
            );
        } else {
            out += &format!("{} ({}): {verdict}\n", p.account, p.network);
        }
        if let Some(error) = &p.error {
            out += &format!("  {error}\n");
        }
        for (i, part) in p.parts.iter().enumerate() {
            if show_text {
                out += &format!("  part {} ({} of {}):\n", i + 1, part.length, p.max);
                for line in part.text.lines() {
                    out += &format!("    {line}\n");
                }
            } else if p.parts.len() > 1 {
                out += &format!(
                    "  part {} ({} of {}): {}\n",
                    i + 1,
                    part.length,
                    p.max,
                    part_start(&part.text)
                );
            }
        }
    }
    print(&out)
}

/// The first words of a part, so a listing of parts shows where each one starts.
fn part_start(text: &str) -> String {
    const WIDTH: usize = 50;
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= WIDTH {
        return line;
    }
    let mut out: String = line.chars().take(WIDTH - 1).collect();
    out.push('…');
    out
}

pub fn check(ctx: &mut Context, args: &CheckArgs) -> CliResult {
    let body = body(args.text.as_deref(), args.file.as_deref())?;
    let previews = previews(ctx, &body, &args.to, thread_mode(args.thread))?;
    let accounts = crate::env_accounts::resolve_for_reading(ctx, &args.to)?;
    crate::checks::refuse_media(ctx, &accounts, args.media.len())?;
    if ctx.json {
        print_json(&previews)?;
    } else {
        print_previews(&previews, false)?;
    }
    refuse_if_any_cannot(&previews, false)
}

/// The release announcement for each account, grouped by identical text, from the
/// changelog or GitHub event at `path`.
fn release_batches(
    store: &Store,
    args: &PostArgs,
    path: &std::path::Path,
    accounts: Vec<Account>,
) -> CliResult<Vec<Batch>> {
    use postctl_core::content::changelog;
    let text = read_text_file(path, "--release")?;
    let notes = if text.trim_start().starts_with('{') {
        changelog::from_github_event(&text)
    } else {
        changelog::section(&text, args.release_version.as_deref())
    }
    .map_err(|e| CliError::from(postctl_core::Error::from(e)))?;
    let template = store.template_or_builtin("release")?;
    let mut vars = crate::content::variables(&args.vars, None)?;
    if let Some(name) = release::project_from_env(|k| std::env::var(k).ok())
        .filter(|_| !vars.as_json().contains_key("name"))
    {
        vars.insert("name", serde_json::Value::String(name));
    }
    let capabilities = preview::capabilities(Some(store), &accounts);
    Ok(release::batches(
        &notes,
        &template,
        &vars,
        accounts,
        capabilities,
        args.thread.is_some(),
    )?)
}

/// The text for each group of accounts (one, or one per distinct release text), and how
/// it fits each account: known offline and cheap, so what cannot go out is refused before
/// anything is stored.
pub(super) fn batches_and_previews(
    store: &Store,
    args: &PostArgs,
    accounts: &[Account],
    thread: ThreadMode,
) -> CliResult<(Vec<Batch>, Vec<Preview>)> {
    let batches = match &args.release {
        Some(path) => release_batches(store, args, path, accounts.to_vec())?,
        None => vec![Batch {
            body: body(args.text.as_deref(), args.file.as_deref())?,
            accounts: accounts.to_vec(),
        }],
    };
    let previews: Vec<Preview> = batches
        .iter()
        .flat_map(|b| {
            b.accounts
                .iter()
                .zip(preview::capabilities(Some(store), &b.accounts))
                .map(|(a, caps)| preview(a, caps, &b.body, thread))
        })
        .collect();
    Ok((batches, previews))
}

/// `--dry-run`: what each network would receive; nothing is sent or stored.
pub(super) fn dry_run(ctx: &Context, args: &PostArgs, previews: &[Preview]) -> CliResult {
    import_media(ctx, &args.content.media, &args.content.alt)?;
    if ctx.json {
        print_json(&previews)?;
    } else {
        note("dry run: nothing was sent");
        print_previews(previews, true)?;
    }
    refuse_if_any_cannot(previews, false)
}

/// Stores each batch as a post due now on its accounts; their ids.
pub(super) fn store_posts(
    ctx: &Context,
    store: &mut Store,
    args: &PostArgs,
    batches: &[Batch],
    thread: ThreadMode,
) -> CliResult<Vec<String>> {
    let now = ctx.clock.now();
    let tz = ctx.zone(None)?;
    let mut post_ids = Vec::with_capacity(batches.len());
    for batch in batches {
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
    Ok(post_ids)
}

#[derive(Debug, Serialize)]
pub(super) struct PostResult<'a> {
    /// The first post; a release fitted per network can make one post per distinct text.
    pub post_id: &'a str,
    pub post_ids: &'a [String],
    pub targets: &'a [Outcome],
}

pub fn run(ctx: &mut Context, args: PostArgs) -> CliResult {
    let thread = thread_mode(args.thread.unwrap_or(ThreadArg::Auto));
    // The server publishes a linked database's posts: the post goes to it.
    if ctx.paths.db_file.exists() && ctx.store()?.is_linked()? {
        return linked::run(ctx, args, thread);
    }
    let (mut store, temporary) = publishing_store(ctx)?;
    let names = if args.content.to.is_empty() {
        ctx.config.default_to.clone()
    } else {
        args.content.to.clone()
    };
    let accounts = destinations(&mut store, &names)?;
    let (batches, previews) = batches_and_previews(&store, &args, &accounts, thread)?;
    crate::checks::refuse_media(ctx, &accounts, args.content.media.len())?;
    if args.dry_run {
        return dry_run(ctx, &args, &previews);
    }
    refuse_if_any_cannot(&previews, true)?;
    let post_ids = store_posts(ctx, &mut store, &args, &batches, thread)?;
    let tz = ctx.zone(None)?;
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
    // `run-due` (the retry window still bounds them all). In CI the temporary database
    // goes away with the command: nothing could publish them later, so every retry within
    // the retry window is waited for.
    let ci = temporary.is_some();
    let mut wait = chrono::Duration::seconds(args.wait.min(86_400) as i64);
    if ci {
        wait = wait.max(ctx.config.policy().retry_window);
    }
    let runtime = runtime()?;
    // Lines go above the spinner, where it would otherwise draw over them.
    let say = |line: String| match &spinner {
        Some(bar) => bar.println(line),
        None => note(line),
    };
    let published = publish_and_wait_saying(
        &engine,
        &runtime,
        Some(&post_ids),
        ctx.clock.now() + wait,
        tz,
        &say,
    );
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let mut report = published?;
    // Targets finish in whatever order their networks answer; print them in --to order.
    report
        .outcomes
        .sort_by_key(|o| accounts.iter().position(|a| a.name == o.account));
    if ci {
        for outcome in &mut report.outcomes {
            outcome.error = outcome.error.take().map(|e| without_local_advice(&e));
        }
    } else {
        runtime.block_on(notify(&engine, &ctx.config.notify, &report, tz));
    }
    // Targets on a network that is down for everyone were not tried: they wait for it.
    let down = engine.with_store(|s| s.open_circuits())?;
    let mut waiting_for_network = Vec::new();
    for account in &accounts {
        if report.outcomes.iter().any(|o| o.account == account.name) {
            continue;
        }
        let circuit = postctl_core::publish::circuit::Circuit::of(account);
        if let Some(state) = down.iter().find(|s| s.circuit == circuit) {
            let line = crate::engine::network_down_line(state, tz);
            note(format!("{}: {line}", account.name));
            waiting_for_network.push(account.name.clone());
        }
    }
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
    if ci {
        exit_for_ci(&report.outcomes)?;
    } else {
        exit_for(&report.outcomes, &first)?;
    }
    if waiting_for_network.is_empty() {
        return Ok(());
    }
    Err(CliError {
        message: format!(
            "not every target was published: {} wait(s) for a network that is down for everyone; the daemon or `postctl run-due` sends them when it answers (see `postctl status {first}`)",
            waiting_for_network.join(", ")
        ),
        code: ExitCode::Partial,
    })
}

/// An outcome's message without advice that needs the database a CI run throws away
/// ("then run `postctl resolve …`", "see `postctl status …`").
fn without_local_advice(error: &str) -> String {
    match error.find("`postctl ") {
        Some(at) => {
            let before = &error[..at];
            let cut = [before.rfind("; "), before.rfind(": ")]
                .into_iter()
                .flatten()
                .max();
            match cut {
                Some(cut) => error[..cut].to_string(),
                None => error.to_string(),
            }
        }
        None => error.to_string(),
    }
}

/// The exit for a CI run: the same codes, with advice that works there.
fn exit_for_ci(outcomes: &[Outcome]) -> CliResult {
    if outcomes.iter().all(|o| o.state == TargetState::Published) {
        return Ok(());
    }
    if outcomes.iter().any(|o| o.auth) {
        return Err(CliError {
            message: "credentials were missing or rejected (see above); fix the POSTCTL_ACCOUNT_<NAME>_TOKEN variables, then run the job again for the accounts that failed".into(),
            code: ExitCode::Auth,
        });
    }
    let uncertain: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.state == TargetState::Uncertain)
        .map(|o| o.account.as_str())
        .collect();
    let mut message =
        "not every target was published (see above); nothing is kept between CI runs".to_string();
    if !uncertain.is_empty() {
        message += &format!(
            ": look at {} by hand before running the job again, the post may have gone out",
            uncertain.join(", ")
        );
    } else {
        message += ": run the job again for the accounts that failed";
    }
    Err(CliError {
        message,
        code: ExitCode::Partial,
    })
}
