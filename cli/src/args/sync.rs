//! The arguments of `postctl sync`.

use clap::{Args, Subcommand};

pub const SYNC_HELP: &str = "\
Examples:
  postctl sync
  postctl sync --json
  postctl sync status

Pushes the changes made here since the last sync (new posts, text, title, labels,
schedule, removal) to the server workspace linked with `postctl login`, and applies the
changes other devices pushed. Each field of a post keeps the last value written, by time
and then device; a change made here that loses to a newer one from elsewhere is kept as a
conflict, listed by `postctl sync status`. What publishing did here (target states,
published parts, attempts) and accounts stay on this device. With --json the answer
also says where the sync spent its time (`timings`: requests to the server, their round
trips, reading their JSON, applying what was pulled, the whole, in milliseconds).";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub command: Option<SyncCommand>,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// What waits to be pushed, when the last sync was, the server and workspace, and conflicts
    #[command(
        after_help = "Examples:\n  postctl sync status\n  postctl sync status --json\n\nIt reads only this database: it works offline."
    )]
    Status,
}
