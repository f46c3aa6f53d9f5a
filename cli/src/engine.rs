//! The publish engine for `post`, `run-due`, `daemon`, `accounts check` and `unpublish`:
//! building it, a runtime to run it on, and telling the user what a round did.

use std::sync::Arc;

use postctl_core::publish::{Engine, Outcome, Report};
use postctl_core::store::Store;

use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, paint, print, state_color, stdout_color};

/// The engine over `store`, reading secrets from the secret store or the environment.
pub fn engine(ctx: &Context, store: Store) -> CliResult<Arc<Engine>> {
    let engine = Engine::with_secret_store(
        store,
        Arc::new(ctx.secrets()?),
        ctx.paths.media_dir(),
        ctx.config.policy(),
    )?;
    Ok(Arc::new(engine))
}

/// A runtime for one command: two worker threads are plenty for network waits.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))
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
pub async fn notify(engine: &Engine, accounts: &[String], report: &Report) {
    let Some(text) = postctl_core::publish::notification(report) else {
        return;
    };
    for account in accounts {
        if let Err(e) = engine.notify(account, &text).await {
            note(format!("could not notify {account}: {e}"));
        }
    }
}
