//! The arguments of `postctl group`.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create or replace a group with these accounts
    #[command(
        after_help = "Examples:\n  postctl group set release masto bsky tg\n  postctl schedule \"v1.2 is out\" --to release --at \"mon 09:00\""
    )]
    Set(GroupSetArgs),
    /// List groups and their accounts
    List,
    /// Remove a group (its accounts stay)
    Rm(GroupRmArgs),
}

#[derive(Debug, Args)]
pub struct GroupSetArgs {
    /// The group's name
    pub name: String,
    /// Its accounts, in order
    #[arg(required = true)]
    pub accounts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GroupRmArgs {
    pub name: String,
}
