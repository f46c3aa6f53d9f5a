//! `postctl run-due` (publish what is due, then exit) and `postctl daemon` (keep doing so).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use postctl_core::model::TargetState;
use postctl_core::publish::{Engine, Report};

use crate::args::{DaemonArgs, RunDueArgs};
use crate::context::Context;
use crate::engine::{engine, notify, print_outcomes, runtime};
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, print, print_json};

/// How often the daemon looks for changes other processes made to the database: cheap
/// (one pragma), and bounds how late a newly scheduled post is noticed.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

pub fn run_due(ctx: &mut Context, args: &RunDueArgs) -> CliResult {
    let store = ctx.take_store()?;
    let engine = engine(ctx, store)?;
    let wait = chrono::Duration::seconds(args.wait.min(86_400) as i64);
    let runtime = runtime()?;
    let report = runtime.block_on(engine.drain(None, wait))?;
    runtime.block_on(notify(&engine, &ctx.config.notify, &report));
    report_round(ctx.json, &report, args.quiet)?;
    let trouble = report
        .outcomes
        .iter()
        .any(|o| matches!(o.state, TargetState::Failed | TargetState::Uncertain))
        || !report.missed.is_empty();
    if trouble {
        return Err(CliError {
            message: "not everything due was published; see `postctl list --failed`".into(),
            code: ExitCode::Partial,
        });
    }
    Ok(())
}

fn report_round(json: bool, report: &Report, quiet: bool) -> CliResult {
    if json {
        return print_json(report);
    }
    if report.outcomes.is_empty() && report.missed.is_empty() {
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
            missed.account, missed.due, missed.post_id
        );
    }
    print(&out)
}

pub fn daemon(ctx: &mut Context, args: &DaemonArgs) -> CliResult {
    if args.print_unit {
        return print(&unit(ctx));
    }
    let store = ctx.take_store()?;
    let engine = engine(ctx, store)?;
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = runtime()?;
    note(format!(
        "postctl daemon: publishing from {} (Ctrl-C or SIGTERM to stop)",
        ctx.paths.db_file.display()
    ));
    let json = ctx.json;
    runtime.block_on(async {
        let signals = Arc::clone(&stop);
        let stopping = Arc::clone(&engine);
        tokio::spawn(async move {
            wait_for_signal().await;
            signals.store(true, Ordering::SeqCst);
            // Publishing in progress ends after the request on the way; the rest is
            // given back below.
            stopping.stop();
        });
        serve(&engine, &stop, json, &ctx.config.notify).await
    })?;
    let released = engine.release()?;
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
) -> CliResult {
    let mut version = engine.with_store(|s| s.data_version())?;
    while !stop.load(Ordering::SeqCst) {
        let report = engine.drain(None, chrono::Duration::zero()).await?;
        if !report.outcomes.is_empty() || !report.missed.is_empty() {
            notify(engine, notify_to, &report).await;
            report_round(json, &report, true)?;
        }
        let next = engine.with_store(|s| s.next_due())?;
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let now = Utc::now();
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

fn unit(ctx: &Context) -> String {
    let binary = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "postctl".into());
    format!(
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

[Install]
WantedBy=default.target
",
        db = ctx.paths.db_file.display(),
        data = ctx.paths.data_dir.display()
    )
}
