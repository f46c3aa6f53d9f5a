//! Building the publish engine for `post`, `run-due` and `daemon`, and running it.

use std::sync::Arc;

use postctl_core::publish::{Engine, SecretSource};
use postctl_core::secrets::SecretRef;
use postctl_core::store::Store;

use crate::context::Context;
use crate::exit::{CliError, CliResult};

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
    let secrets = Arc::new(ctx.secrets()?);
    let lookup = Arc::clone(&secrets);
    let secret_of: SecretSource = Arc::new(move |account| {
        let reference: SecretRef = account.secret_ref.parse()?;
        Ok(lookup.get(&reference)?)
    });
    let engine = Engine::new(
        store,
        secrets,
        secret_of,
        ctx.paths.media_dir(),
        ctx.config.policy(),
    )?;
    Ok(engine)
}

/// A runtime for one command: two worker threads are plenty for network waits.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))
}
