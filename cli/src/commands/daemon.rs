//! `postctl run-due` (publish what is due, then exit) and `postctl daemon` (keep doing so,
//! and keep a linked database in sync with its server: `postctl_core::sync::background`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::analytics::Collect;
use postctl_core::model::TargetState;
use postctl_core::publish::{Engine, Report};
use postctl_core::secrets::SecretRef;
use postctl_core::store::HeldAccount;
use postctl_core::sync::background::Background;
use postctl_core::time::format_moment;

use crate::args::{DaemonArgs, RunDueArgs};
use crate::context::Context;
use crate::engine::{daemon_runtime, engine, merge, notify, print_outcomes, publish_and_wait};
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, print, print_json};

/// How often the daemon looks for changes other processes made to the database: cheap
/// (one pragma), and bounds how late a newly scheduled post is noticed.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

pub fn run_due(ctx: &mut Context, args: &RunDueArgs) -> CliResult {
    let tz = ctx.zone(None)?;
    let store = ctx.take_store()?;
    let engine = engine(ctx, store)?;
    let wait = chrono::Duration::seconds(args.wait.min(86_400) as i64);
    let until = engine.clock().now() + wait;
    let runtime = daemon_runtime()?;
    let mut report = Report::default();
    let mut told: HashSet<(String, DateTime<Utc>)> = HashSet::new();
    let mut last_wake = None;
    // Targets waiting out an account's rate limit are not due, so a round claims nothing
    // of theirs: wait for the limit when it ends within --wait, then publish them.
    let held = loop {
        let round = publish_and_wait(&engine, &runtime, None, until, tz)?;
        merge(&mut report, round);
        let now = engine.clock().now();
        let held = engine.with_store(|s| s.held_accounts(now))?;
        // Networks down for everyone are probed when their time comes: wait for that too.
        // (A probe time already past was this round's to take; if it took none, another
        // publisher's probe is on its way, or nothing waits for that network.)
        let down = engine.with_store(|s| s.open_circuits())?;
        let probes = down
            .iter()
            .filter_map(|c| c.next_probe)
            .filter(|at| *at > now);
        let wake = held
            .iter()
            .map(|h| h.next)
            .chain(probes)
            .filter(|at| *at <= until)
            .min();
        let Some(wake) = wake.filter(|at| last_wake != Some(*at)) else {
            break held;
        };
        last_wake = Some(wake);
        for h in held.iter().filter(|h| h.next <= until) {
            if told.insert((h.account.clone(), h.until)) {
                note(held_line(h, tz));
            }
        }
        for c in down
            .iter()
            .filter(|c| c.next_probe.is_some_and(|at| at > now && at <= until))
        {
            if let Some(at) = c.next_probe
                && told.insert((c.circuit.describe(), at))
            {
                note(format!(
                    "{} is down for everyone: waiting until {} to try it again",
                    c.circuit.describe(),
                    format_moment(at, tz)
                ));
            }
        }
        std::thread::sleep((wake - now).to_std().unwrap_or_default());
    };
    for h in &held {
        if !told.contains(&(h.account.clone(), h.until)) {
            note(format!(
                "{} (later than --wait {}s allows)",
                held_line(h, tz),
                args.wait
            ));
        }
    }
    runtime.block_on(notify(&engine, &ctx.config.notify, &report, tz));
    report_round(ctx.json, &report, &held, args.quiet, tz)?;
    exit_for_round(&report, &held, tz)
}

/// "masto: waits until 2026-11-20 11:00:42 CET as the network asked (...); 2 posts wait
/// for it".
fn held_line(held: &HeldAccount, tz: Tz) -> String {
    format!(
        "{}: waits until {} as the network asked ({}); {} wait{} for it",
        held.account,
        format_moment(held.until, tz),
        held.reason,
        if held.targets == 1 {
            "1 post".to_string()
        } else {
            format!("{} posts", held.targets)
        },
        if held.targets == 1 { "s" } else { "" }
    )
}

/// 3 when any target was not published: failed, uncertain, missed, or still waiting to
/// retry (later than --wait, or behind an account's rate limit), as `help exit-codes`
/// says.
fn exit_for_round(report: &Report, held: &[HeldAccount], tz: Tz) -> CliResult {
    let mut waiting: Vec<String> = report
        .outcomes
        .iter()
        .filter(|o| o.state == TargetState::WaitingRetry)
        .map(|o| match o.next_attempt {
            Some(at) => format!("{} at {}", o.account, format_moment(at, tz)),
            None => o.account.clone(),
        })
        .collect();
    let retrying: HashSet<&str> = report
        .outcomes
        .iter()
        .filter(|o| o.state == TargetState::WaitingRetry)
        .map(|o| o.account.as_str())
        .collect();
    for h in held
        .iter()
        .filter(|h| !retrying.contains(h.account.as_str()))
    {
        waiting.push(format!("{} at {}", h.account, format_moment(h.next, tz)));
    }
    let trouble = report
        .outcomes
        .iter()
        .any(|o| matches!(o.state, TargetState::Failed | TargetState::Uncertain))
        || !report.missed.is_empty();
    let message = match (trouble, waiting.is_empty()) {
        (false, true) => return Ok(()),
        (true, true) => "not everything due was published; see `postctl list --failed`".to_string(),
        (trouble, false) => format!(
            "{}left waiting to retry: {}; the daemon or a later `postctl run-due` publishes {}",
            if trouble {
                "not everything due was published (see `postctl list --failed`), and some are "
            } else {
                "not everything due was published yet: "
            },
            waiting.join(", "),
            if waiting.len() == 1 { "it" } else { "them" }
        ),
    };
    Err(CliError {
        message,
        code: ExitCode::Partial,
    })
}

fn report_round(
    json: bool,
    report: &Report,
    held: &[HeldAccount],
    quiet: bool,
    tz: Tz,
) -> CliResult {
    if json {
        let mut value = serde_json::to_value(report)
            .map_err(|e| CliError::failure(format!("cannot write the report as JSON: {e}")))?;
        if !held.is_empty() {
            value["held"] = serde_json::to_value(held)
                .map_err(|e| CliError::failure(format!("cannot write the report as JSON: {e}")))?;
        }
        return print_json(&value);
    }
    for event in &report.circuits {
        note(postctl_core::publish::circuit_news(event, tz));
    }
    if report.outcomes.is_empty() && report.missed.is_empty() {
        if !held.is_empty() {
            return Ok(());
        }
        if !quiet {
            note("nothing was due");
        }
        return Ok(());
    }
    print_outcomes(&report.outcomes)?;
    let mut out = String::new();
    for missed in &report.missed {
        out += &format!(
            "missed  {}  was due {}; publish it now with `postctl retry {}`\n",
            missed.account,
            format_moment(missed.due, tz),
            missed.post_id
        );
    }
    print(&out)
}

pub fn daemon(ctx: &mut Context, args: &DaemonArgs) -> CliResult {
    if args.print_unit {
        return print(&unit(ctx)?);
    }
    let tz = ctx.zone(None)?;
    let store = ctx.take_store()?;
    let engine = engine(ctx, store)?;
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = daemon_runtime()?;
    note(format!(
        "postctl daemon: publishing from {} (Ctrl-C or SIGTERM to stop)",
        ctx.paths.db_file.display()
    ));
    let json = ctx.json;
    let keep_snapshots_days = ctx.config.analytics.keep_snapshots_days;
    // A linked database syncs with its server on a connection of its own (an unlinked
    // one is only looked at).
    let background = Background::new(
        &ctx.paths.db_file,
        &ctx.paths.data_dir,
        ctx.secrets()?,
        ctx.clock,
    );
    let syncing = background
        .spawn(Arc::clone(&stop), |look| {
            if let Some(news) = look.news {
                note(format!("postctl daemon: {news}"));
            }
        })
        .map_err(|e| CliError::failure(format!("cannot start the sync thread: {e}")))?;
    runtime.block_on(async {
        // Counters are read on a task of their own: publishing never waits for them.
        tokio::spawn(collect_in_background(
            Arc::clone(&engine),
            Arc::clone(&stop),
            tz,
            keep_snapshots_days,
        ));
        let signals = Arc::clone(&stop);
        let stopping = Arc::clone(&engine);
        tokio::spawn(async move {
            wait_for_signal().await;
            signals.store(true, Ordering::SeqCst);
            // Publishing in progress ends after the request on the way; the rest is
            // given back below.
            stopping.stop();
        });
        serve(&engine, &stop, json, &ctx.config.notify, tz).await
    })?;
    let _ = syncing.join();
    let released = runtime.block_on(engine.release())?;
    note(format!(
        "postctl daemon: stopped ({released} target(s) handed back)"
    ));
    Ok(())
}

/// Publishes what is due, then sleeps until the next due time or until another process
/// changes the database, until `stop`.
async fn serve(
    engine: &Arc<Engine>,
    stop: &AtomicBool,
    json: bool,
    notify_to: &[String],
    tz: Tz,
) -> CliResult {
    let mut version = engine.with_store(|s| s.data_version())?;
    while !stop.load(Ordering::SeqCst) {
        let report = engine.drain(None, chrono::Duration::zero()).await?;
        if !report.outcomes.is_empty()
            || !report.missed.is_empty()
            || !report.signed_out.is_empty()
            || !report.circuits.is_empty()
        {
            notify(engine, notify_to, &report, tz).await;
            report_round(json, &report, &[], true, tz)?;
        }
        let next = engine.with_store(|s| s.next_due())?;
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let now = engine.clock().now();
            if next.is_some_and(|at| at <= now) {
                break;
            }
            let current = engine.with_store(|s| s.data_version())?;
            if current != version {
                version = current;
                break;
            }
            let until_due = next
                .map(|at| (at - now).to_std().unwrap_or_default())
                .unwrap_or(WATCH_INTERVAL);
            tokio::time::sleep(until_due.min(WATCH_INTERVAL)).await;
        }
    }
    Ok(())
}

/// How often the daemon looks for counters that are due (`postctl stats collect`): the
/// schedule reads a post hourly at most, so a few minutes late is nothing.
const COLLECT_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// `postctl stats collect` every [`COLLECT_EVERY`] until `stop`, by the real clock, saying
/// on stderr what could not be read.
async fn collect_in_background(
    engine: Arc<Engine>,
    stop: Arc<AtomicBool>,
    tz: Tz,
    keep_snapshots_days: u32,
) {
    while !stop.load(Ordering::SeqCst) {
        let plan = Collect {
            account: None,
            since: None,
            now: Utc::now(),
            zone: tz,
            keep_snapshots_days,
        };
        match engine.collect_metrics(&plan).await {
            Ok(collected) => {
                for c in &collected {
                    for warning in &c.warnings {
                        note(format!("postctl daemon: stats: warning: {warning}"));
                    }
                    if let Some(error) = &c.error {
                        note(format!("postctl daemon: stats: {}: {error}", c.account));
                    }
                }
            }
            Err(e) => note(format!("postctl daemon: stats: {e}")),
        }
        let slept = std::time::Instant::now();
        while slept.elapsed() < COLLECT_EVERY && !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(WATCH_INTERVAL).await;
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn unit(ctx: &mut Context) -> CliResult<String> {
    let binary = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "postctl".into());
    // Accounts added with --token-env read their secret from a variable at publish time;
    // systemd does not pass the login shell's variables on, so the unit must carry them.
    let mut from_env: Vec<(String, String)> = Vec::new();
    if ctx.paths.db_file.exists() {
        for account in ctx.store()?.accounts()? {
            if let Ok(SecretRef::Env { var }) = account.secret_ref.parse::<SecretRef>() {
                from_env.push((var, account.name));
            }
        }
    }
    let environment = if from_env.is_empty() {
        String::new()
    } else {
        let file = ctx
            .paths
            .config_file
            .parent()
            .map(|dir| dir.join("postctl.env"))
            .unwrap_or_else(|| "postctl.env".into());
        let mut lines = String::from(
            "# These accounts read their secret from an environment variable (--token-env),\n\
             # which systemd does not take from your shell. Put each in the file below, one\n\
             # VAR=value a line (chmod 600); the unit will not start without it:\n",
        );
        for (var, account) in &from_env {
            lines += &format!("#   {var}  (account {account})\n");
        }
        lines += &format!("EnvironmentFile={}\n", file.display());
        lines
    };
    Ok(format!(
        "# A systemd --user unit for the postctl daemon.
# Install: postctl daemon --print-unit > ~/.config/systemd/user/postctl.service
#          systemctl --user daemon-reload && systemctl --user enable --now postctl
[Unit]
Description=postctl: publish scheduled posts
After=network-online.target

[Service]
ExecStart={binary} --db {db} daemon
Restart=on-failure
RestartSec=10
Environment=POSTCTL_DATA_DIR={data}
{environment}
[Install]
WantedBy=default.target
",
        db = ctx.paths.db_file.display(),
        data = ctx.paths.data_dir.display()
    ))
}
