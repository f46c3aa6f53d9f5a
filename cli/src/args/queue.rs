//! The arguments of `postctl queue`.

use clap::{Args, Subcommand};

use super::ContentArgs;

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Posting slots of accounts
    #[command(subcommand)]
    Slots(SlotsCommand),
    /// Add a post at the next free slot of each account
    #[command(
        after_help = "Examples:\n  postctl queue slots set masto \"mon-fri 09:00,13:00,17:30\"\n  postctl queue add \"Tip of the day\" --to masto"
    )]
    Add(QueueAddArgs),
}

#[derive(Debug, Subcommand)]
pub enum SlotsCommand {
    /// Set an account's weekly slots (rules separated by ;)
    #[command(
        after_help = "Examples:\n  postctl queue slots set masto \"mon-fri 09:00,13:00,17:30\"\n  postctl queue slots set masto \"mon-fri 09:00; sat 11:00\" --tz Europe/Berlin"
    )]
    Set(SlotsSetArgs),
    /// List accounts' slots and their next free times
    List,
    /// Remove an account's slots
    Clear(SlotsClearArgs),
}

#[derive(Debug, Args)]
pub struct SlotsSetArgs {
    /// The account's name
    pub account: String,
    /// Weekly rules: "mon-fri 09:00,13:00,17:30"; several separated by ;
    pub rules: String,
    /// The zone the slot times are in [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Debug, Args)]
pub struct SlotsClearArgs {
    pub account: String,
}

#[derive(Debug, Args)]
pub struct QueueAddArgs {
    /// The text; - reads it from stdin
    pub text: String,
    #[command(flatten)]
    pub content: ContentArgs,
}
