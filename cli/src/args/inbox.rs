//! The arguments of `postctl inbox`.

use clap::{Args, Subcommand};

pub const INBOX_HELP: &str = "\
Examples:
  postctl inbox
  postctl inbox --unread
  postctl inbox --unread --json
  postctl inbox read 0191c2de-7a40-7c1e-9d7e-3f0a8c2b5e11
  postctl inbox read --all

The inbox holds the server's notifications for you in the workspace this database is
linked to (`postctl login`): failed, missed and uncertain posts, accounts that need
signing in again, approvals waiting for you, and what else you chose in your
notification preferences on the server. Newest first; unread ones are marked *.";

#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(subcommand)]
    pub command: Option<InboxCommand>,
    /// Only the notifications not read yet
    #[arg(long)]
    pub unread: bool,
    /// How many to show, newest first (1 to 200)
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Mark a notification read, or all of them
    #[command(
        after_help = "Examples:\n  postctl inbox read 0191c2de-7a40-7c1e-9d7e-3f0a8c2b5e11\n  postctl inbox read --all"
    )]
    Read(InboxReadArgs),
}

#[derive(Debug, Args)]
pub struct InboxReadArgs {
    /// The notification's id, as `postctl inbox` shows it
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<String>,
    /// Every unread notification
    #[arg(long)]
    pub all: bool,
}
