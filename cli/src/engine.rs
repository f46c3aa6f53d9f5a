//! The publish engine for `post`, `run-due`, `daemon`, `retry`, `accounts check` and
//! `unpublish`: building it, running it, and telling the user what a round did.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use postctl_core::model::TargetState;
use postctl_core::publish::circuit::{Circuit, CircuitState};
use postctl_core::publish::{Engine, Outcome, Report};
use postctl_core::store::Store;
use postctl_core::time::format_moment;

use crate::context::Context;
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, paint, print, state_color, stdout_color};

/// The engine over `store`, reading secrets from the secret store or the environment.
pub fn engine(ctx: &Context, store: Store) -> CliResult<Arc<Engine>> {
    Ok(Arc::new(build(ctx, store)?))
}

/// [`engine`] for CI mode (accounts from `POSTCTL_ACCOUNT_*`): sessions stay in memory,
/// so nothing is written to the data directory.
pub fn ci_engine(ctx: &Context, store: Store) -> CliResult<Arc<Engine>> {
    Ok(Arc::new(build(ctx, store)?.with_sessions_in_memory()))
}

fn build(ctx: &Context, store: Store) -> CliResult<Engine> {
    let mut policy = ctx.config.policy();
    policy.zone = ctx.zone(None)?;
    let secrets = Arc::new(ctx.secrets()?);
    let host = match &ctx.config.media.host {
        None => Err(postctl_core::media::host::not_configured()),
        Some(host) => host
            .secret
            .parse::<postctl_core::secrets::SecretRef>()
            .and_then(|r| secrets.get(&r))
            .map(|secret| (host, secret))
            .map_err(|e| format!("the media host's secret key cannot be read ({e}); set it again with `postctl media host set ... --secret-stdin`")),
    };
    Ok(
        Engine::with_secret_store(store, secrets, ctx.paths.media_dir(), policy)?
            .with_media_host(host),
    )
}

/// The open circuits (networks down for everyone) that `accounts` publish through, each
/// with the names of those accounts.
pub fn networks_down(
    store: &Store,
    accounts: &[postctl_core::model::Account],
) -> CliResult<Vec<(CircuitState, Vec<String>)>> {
    let mut down: Vec<(CircuitState, Vec<String>)> = store
        .open_circuits()?
        .into_iter()
        .map(|state| (state, Vec::new()))
        .collect();
    for account in accounts {
        let circuit = Circuit::of(account);
        if let Some((_, names)) = down.iter_mut().find(|(s, _)| s.circuit == circuit) {
            names.push(account.name.clone());
        }
    }
    down.retain(|(_, names)| !names.is_empty());
    Ok(down)
}

/// "Mastodon at https://x is down for everyone since ..., next probe at ...".
pub fn network_down_line(state: &CircuitState, tz: Tz) -> String {
    let since = state
        .opened
        .map(|at| format_moment(at, tz))
        .unwrap_or_default();
    let probe = state
        .next_probe
        .map(|at| format!("; next probe at {}", format_moment(at, tz)))
        .unwrap_or_default();
    let last = state
        .last_error
        .as_deref()
        .map(|e| format!(" (last: {e})"))
        .unwrap_or_default();
    format!(
        "{} is down for everyone since {since}{last}{probe}; its posts wait without spending retries",
        state.circuit.describe()
    )
}

/// The JSON of a network that is down, for `--json` output.
pub fn network_down_json(state: &CircuitState, accounts: &[String]) -> serde_json::Value {
    serde_json::json!({
        "network": state.circuit.network,
        "base_url": state.circuit.base_url,
        "down_since": state.opened,
        "next_probe": state.next_probe,
        "failed_probes": state.probes,
        "last_error": state.last_error,
        "accounts": accounts,
    })
}

/// A runtime for one command: its few requests interleave on the command's own thread,
/// which spares starting worker threads (`post` runs in about 7 ms of CPU in all).
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(runtime_error)
}

/// A runtime for `daemon` and `run-due`, which publish for many accounts at once: two
/// worker threads, so one account's database write never stalls another's request.
pub fn daemon_runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(runtime_error)
}

fn runtime_error(e: std::io::Error) -> CliError {
    CliError::failure(format!("cannot start the async runtime: {e}"))
}

/// Publishes what is due (or only `posts`), then waits for the retries that come due by
/// `until` and publishes them too, saying on stderr what it waits for and until when.
/// Returns each target's latest outcome.
pub fn publish_and_wait(
    engine: &Arc<Engine>,
    runtime: &tokio::runtime::Runtime,
    posts: Option<&[String]>,
    until: DateTime<Utc>,
    tz: Tz,
) -> CliResult<Report> {
    publish_and_wait_saying(engine, runtime, posts, until, tz, &|line| note(line))
}

/// [`publish_and_wait`], telling the user through `say` (above a progress spinner, say).
pub fn publish_and_wait_saying(
    engine: &Arc<Engine>,
    runtime: &tokio::runtime::Runtime,
    posts: Option<&[String]>,
    until: DateTime<Utc>,
    tz: Tz,
    say: &dyn Fn(String),
) -> CliResult<Report> {
    let mut report = Report::default();
    let mut told: HashSet<(String, DateTime<Utc>)> = HashSet::new();
    let mut last_wake: Option<DateTime<Utc>> = None;
    loop {
        let rounds = match posts {
            None => vec![runtime.block_on(engine.drain(None, chrono::Duration::zero()))?],
            Some(ids) => ids
                .iter()
                .map(|id| runtime.block_on(engine.drain(Some(id), chrono::Duration::zero())))
                .collect::<Result<Vec<_>, _>>()?,
        };
        for round in rounds {
            merge(&mut report, round);
        }
        let waiting: Vec<&Outcome> = report
            .outcomes
            .iter()
            .filter(|o| o.state == TargetState::WaitingRetry)
            .filter(|o| o.next_attempt.is_some_and(|at| at <= until))
            .collect();
        let Some(wake) = waiting.iter().filter_map(|o| o.next_attempt).min() else {
            break;
        };
        // A retry that came due and was not taken belongs to another publisher now.
        if last_wake == Some(wake) {
            break;
        }
        last_wake = Some(wake);
        for o in &waiting {
            let Some(at) = o.next_attempt else { continue };
            if told.insert((o.target_id.clone(), at)) {
                say(waiting_line(o, at, tz));
            }
        }
        let nap = (wake - engine.clock().now()).to_std().unwrap_or_default();
        std::thread::sleep(nap);
    }
    Ok(report)
}

/// "masto: waiting until 2026-11-20 11:00:42 CET to retry (Mastodon answered 503)".
fn waiting_line(outcome: &Outcome, at: DateTime<Utc>, tz: Tz) -> String {
    let why = outcome
        .error
        .as_deref()
        .map(|e| format!(" ({})", without_retry_ending(e)))
        .unwrap_or_default();
    format!(
        "{}: waiting until {} to retry{why}",
        outcome.account,
        format_moment(at, tz)
    )
}

/// An adapter's message without its "will retry" ending: the line says it already.
fn without_retry_ending(error: &str) -> &str {
    ["; will retry", "; it will be retried", ", will retry"]
        .iter()
        .find_map(|ending| error.strip_suffix(ending))
        .unwrap_or(error)
}

/// Adds `round` to `report`, keeping each target's latest outcome in its first place.
pub fn merge(report: &mut Report, round: Report) {
    let mut index: HashMap<String, usize> = report
        .outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| (o.target_id.clone(), i))
        .collect();
    for outcome in round.outcomes {
        match index.get(&outcome.target_id) {
            Some(&i) => report.outcomes[i] = outcome,
            None => {
                index.insert(outcome.target_id.clone(), report.outcomes.len());
                report.outcomes.push(outcome);
            }
        }
    }
    report.missed.extend(round.missed);
    report.circuits.extend(round.circuits);
}

/// One line per target: its state, its account, and its link or what went wrong.
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

/// Tells the configured `notify` accounts what needs the user; a notification that cannot
/// be sent is reported on stderr and changes nothing else.
pub async fn notify(engine: &Engine, accounts: &[String], report: &Report, tz: Tz) {
    let Some(text) = postctl_core::publish::notification_in(report, tz) else {
        return;
    };
    for account in accounts {
        if let Err(e) = engine.notify(account, &text).await {
            note(format!("could not notify {account}: {e}"));
        }
    }
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
