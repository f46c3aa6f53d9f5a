//! The arguments of `postctl queue`.

use clap::{Args, Subcommand};

use super::ContentArgs;

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Posting slots of accounts
    #[command(subcommand)]
    Slots(SlotsCommand),
    /// Add a post at the next free slot of each account
    #[command(after_help = ADD_HELP)]
    Add(QueueAddArgs),
}

#[derive(Debug, Subcommand)]
pub enum SlotsCommand {
    /// Set an account's weekly slots (rules separated by ;)
    #[command(after_help = SET_HELP)]
    Set(SlotsSetArgs),
    /// List accounts' slots and their next free times
    #[command(
        after_help = "Examples:\n  postctl queue slots list\n  postctl queue slots list --json\n\nOn a linked database the server's accounts show the server's slots and next free\ntimes (which count the posts its feeds and triggers made); the others, this database's."
    )]
    List,
    /// Remove an account's slots
    #[command(
        after_help = "Examples:\n  postctl queue slots clear masto\n\nOn a linked database, a server account's slots are removed on the server and here.\nPosts already queued keep their times."
    )]
    Clear(SlotsClearArgs),
    /// Propose slots from the account's best times (`postctl insights`); --apply sets them
    #[command(after_help = SUGGEST_HELP)]
    Suggest(SlotsSuggestArgs),
}

pub const ADD_HELP: &str = "\
Examples:
  postctl queue slots set masto \"mon-fri 09:00,13:00,17:30\"
  postctl queue add \"Tip of the day\" --to masto

Here each account's post takes that account's next free slot of this database's queue.
On a database linked to a server (`postctl login`) whose workspace has the first --to
account, the server's queue decides instead: the post is sent to the server (as
`postctl post` sends one) and the server schedules it at the first account's next free
slot that none of the post's accounts holds, as it stores it, so its feeds, triggers and
other devices never take the same slot. One time for all the accounts; the first needs
slots on the server (`postctl queue slots set`), else nothing is stored. While the server
cannot be reached, an account it did not have at the last sync keeps this database's
queue; for one it has, the command fails and stores nothing.";

pub const SET_HELP: &str = "\
Examples:
  postctl queue slots set masto \"mon-fri 09:00,13:00,17:30\"
  postctl queue slots set masto \"mon-fri 09:00; sat 11:00\" --tz Europe/Berlin

On a database linked to a server (`postctl login`), an account the server's workspace
has gets the slots on the server too: its feeds and triggers made with --queue
(`postctl feeds add URL --to masto --template blog --queue`) post at the server's next
free slot of the account, and so does `postctl queue add` for it. When the account is
also this database's, the slots are kept here as well.";

pub const SUGGEST_HELP: &str = "\
Examples:
  postctl queue slots suggest masto              # propose, change nothing
  postctl queue slots suggest masto --count 5
  postctl queue slots suggest masto --apply      # replace masto's slots with them

The slots are the weekday-and-hour slots where the account's own posts of the last year
did best (engagement per 100 followers, or per post where the audience is unknown),
among those `postctl insights` judges at least \"a hint\" better than its usual: each
needs 3 posts at that weekday and hour, and the account 10 posts at least 48 hours old.
Without that it says \"not enough data yet\" and changes nothing. Times are on the hour,
in the zone of the account's current slots, else yours. --apply replaces the account's
slots and says which times were added and removed; posts already in the queue keep their
times. On a linked database, --apply on an account of the server's workspace replaces its
slots on the server (and here, when this database has the account too), as `postctl queue
slots set` does, and says where. The best times are read from this database's analytics,
as `postctl stats` and `postctl insights` read them.";

#[derive(Debug, Args)]
pub struct SlotsSuggestArgs {
    /// The account's name
    pub account: String,
    /// Propose at most N slots a week
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub count: u32,
    /// Set the proposed slots as the account's queue slots (replacing its current ones)
    #[arg(long)]
    pub apply: bool,
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
