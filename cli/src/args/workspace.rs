//! The arguments of `postctl workspace`.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// The server workspaces you are a member of, and the one this database syncs with
    #[command(after_help = "Examples:\n  postctl workspace list\n  postctl workspace list --json")]
    List,
    /// Link this database to another of your workspaces on the server
    #[command(after_help = "\
Examples:
  postctl workspace use team
  postctl workspace use alice

Before its first sync a database may move to any of your workspaces; the next `postctl
sync` pushes its posts there. A database that has synced holds its workspace's posts and
stays with it: give another workspace a database of its own
(`postctl --db team.db login URL --user NAME --workspace team`).")]
    Use(WorkspaceUseArgs),
}

#[derive(Debug, Args)]
pub struct WorkspaceUseArgs {
    /// The workspace's name, as `postctl workspace list` shows it
    pub name: String,
}
