//! The command line: every command, flag and help text, as clap definitions.
//! `cargo xtask docs` renders the man pages and shell completions from these.
//!
//! This module holds the top-level command and the argument groups several commands share
//! (content, when, paging, a post's id); each command's own arguments live in the module
//! named like the command's module in `commands/`.

mod accounts;
mod ai;
mod approvals;
mod calendar;
mod cancel;
mod completions;
mod daemon;
mod draft;
mod export;
mod feeds;
mod generate;
mod group;
mod help;
mod import;
mod inbox;
mod init;
mod insights;
mod lint;
mod list;
mod login;
mod mcp;
mod media;
mod notifications;
mod post;
mod queue;
mod report;
mod schedule;
mod search;
mod stats;
mod status;
mod sync;
mod template;
mod triggers;
mod tui;
mod voice;
mod webhooks;
mod workspace;

pub use accounts::*;
pub use ai::*;
pub use approvals::*;
pub use calendar::*;
pub use cancel::*;
pub use completions::*;
pub use daemon::*;
pub use draft::*;
pub use export::*;
pub use feeds::*;
pub use generate::*;
pub use group::*;
pub use help::*;
pub use import::*;
pub use inbox::*;
pub use init::*;
pub use insights::*;
pub use lint::*;
pub use list::*;
pub use login::*;
pub use mcp::*;
pub use media::*;
pub use notifications::*;
pub use post::*;
pub use queue::*;
pub use report::*;
pub use schedule::*;
pub use search::*;
pub use stats::*;
pub use status::*;
pub use sync::*;
pub use template::*;
pub use triggers::*;
pub use tui::*;
pub use voice::*;
pub use webhooks::*;
pub use workspace::*;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Schedule and publish posts to Mastodon, Bluesky, Telegram, Discord and more, from the terminal";

const LONG_ABOUT: &str = "\
postctl drafts, schedules and publishes social media posts from the terminal. Posts, \
accounts and schedules live in a local SQLite database; secrets live in the OS keyring \
(or a 0600 file where there is none), never in the database.";

const EXAMPLES: &str = "\
Examples:
  postctl init --tz Europe/Berlin
  postctl accounts add mastodon --name masto --instance https://fosstodon.org --token-stdin < token.txt
  postctl draft new \"Hello world\" --to masto
  postctl schedule \"Shipped v1.2\" --to masto --at \"tomorrow 09:00\"
  postctl list --upcoming
  postctl calendar --month 2026-12

Run `postctl help exit-codes` for exit codes and `postctl help times` for the time formats.";

#[derive(Debug, Parser)]
#[command(
    name = "postctl",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    disable_help_subcommand = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// Print data as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented config file and create the database
    #[command(
        after_help = "Examples:\n  postctl init --tz Europe/Berlin\n  postctl init --force   # rewrite an existing config file"
    )]
    Init(InitArgs),
    /// Add, list, remove accounts on networks
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Name a set of accounts, to use with --to
    #[command(subcommand)]
    Group(GroupCommand),
    /// Write, list, show, edit and remove drafts
    #[command(subcommand)]
    Draft(DraftCommand),
    /// Schedule a draft, or new text, once or on a weekly rule
    #[command(after_help = "\
Examples:
  postctl schedule 0193a1b2 --at \"tomorrow 09:00\"
  postctl schedule 0193a1b2 --at \"fri 10:00\" --tz America/New_York
  postctl schedule \"Shipped v1.2\" --to release --at \"2026-12-01 09:00\"
  postctl schedule 0193a1b2 --every \"mon,wed 09:00\"

A first argument that is the id (or an unambiguous id prefix) of a post schedules that post;
anything else is the text of a new post.")]
    Schedule(ScheduleArgs),
    /// Give a scheduled post a new time
    #[command(
        after_help = "Examples:\n  postctl reschedule 0193a1b2 --at \"fri 10:00\"\n  postctl reschedule 0193a1b2 --every \"tue 08:30\""
    )]
    Reschedule(RescheduleArgs),
    /// Cancel posts: targets not yet publishing are cancelled
    #[command(
        after_help = "Examples:\n  postctl cancel 0193a1b2\n  postctl cancel 0193a1b2 0193a1c4"
    )]
    Cancel(CancelArgs),
    /// Posting slots per account, and adding posts to the next free slot
    #[command(subcommand)]
    Queue(QueueCommand),
    /// List posts, 50 at a time (--limit N, --all)
    #[command(
        after_help = "Examples:\n  postctl list --upcoming\n  postctl list --upcoming --limit 200\n  postctl list --all --json > posts.json\n  postctl list --drafts --json\n  postctl list --failed\n\nScheduled posts come first, soonest first, then drafts. A line on stderr says how many\nmore posts there are than the 50 shown."
    )]
    List(ListArgs),
    /// Show scheduled posts in a month or week calendar
    #[command(
        after_help = "Examples:\n  postctl calendar\n  postctl calendar --month 2026-12\n  postctl calendar --week\n  postctl calendar --week 2026-12-07"
    )]
    Calendar(CalendarArgs),
    /// Open the dashboard: calendar, queue, compose, post detail, accounts, activity
    #[command(after_help = tui::TUI_HELP)]
    Tui(TuiArgs),
    /// Write all posts as JSON, CSV or iCalendar to stdout
    #[command(
        after_help = "Examples:\n  postctl export --format json > posts.json\n  postctl export --format csv > posts.csv\n  postctl export --format ics > postctl.ics   # opens in calendar apps"
    )]
    Export(ExportArgs),
    /// Create posts from a CSV or JSON file: all rows or none
    #[command(after_help = "\
Examples:
  postctl import posts.csv
  postctl import posts.json --dry-run

CSV files have a header row; JSON files are an array of objects. Columns (keys):
  text    the post (required unless media is given)
  to      accounts or groups, separated by spaces
  at      when to publish (any form of `postctl help times`); empty for a draft
  tz      the zone `at` is read in (default: your zone)
  every   a weekly rule such as \"mon,wed 09:00\"
  title, labels (space separated), media (paths relative to the file), alt (one per media, separated by |)
  id      a post's id, as `postctl export` writes it: the post keeps it
The output of `postctl export --format csv|json` can be imported again: a post whose id is
already here is updated when the row differs and skipped when it does not (each is named on
stderr), never duplicated. Media named <sha256>.<ext>, as the CSV export writes them, are
found in the data dir's media folder.")]
    Import(ImportArgs),
    /// Publish now to accounts or groups, and report each target's link or error
    #[command(after_help = post::POST_HELP)]
    Post(PostArgs),
    /// Show how long a text is on each network, counted its way, and how it would split
    #[command(
        after_help = "Examples:\n  postctl check --file RELEASE.md --to release\n  postctl check \"Shipped v1.2 🎉\" --to masto,bsky --json"
    )]
    Check(CheckArgs),
    /// Publish everything that is due, then exit (for cron and CI)
    #[command(
        after_help = "Examples:\n  postctl run-due\n  */5 * * * * postctl run-due --quiet   # a crontab line\n\nWithin --wait it waits for retries, and for the end of a rate limit a network asked an\naccount to keep (a 429 in an earlier run), saying which account waits until when. It\nexits 3 when a target failed, was missed, is uncertain or is left waiting (see\n`postctl help exit-codes`). What is due goes by POSTCTL_NOW when it is set, as in every\ncommand: the clock starts there and runs on."
    )]
    RunDue(RunDueArgs),
    /// Keep publishing: sleep until the next post is due or the database changes
    #[command(
        after_help = "Examples:\n  postctl daemon\n  postctl daemon --print-unit > ~/.config/systemd/user/postctl.service\n  systemctl --user enable --now postctl\n\nBeside publishing, it reads the counters that are due every 5 minutes, as\n`postctl stats collect` does, on a task of its own that publishing never waits for.\n\nA database linked to a server (`postctl login`) is synced in the background: every\n2 seconds, at once after a change made here, and with a backoff (up to 60 s) while the\nserver cannot be reached, said in one line on stderr."
    )]
    Daemon(DaemonArgs),
    /// Each target of a post: state, links, and the log of attempts
    #[command(
        after_help = "Examples:\n  postctl status 0193a1b2\n  postctl status 0193a1b2 --json"
    )]
    Status(IdArg),
    /// Try a post's failed, missed or waiting targets again now
    #[command(
        after_help = "Examples:\n  postctl retry 0193a1b2            # due again now; the daemon or run-due sends it\n  postctl retry 0193a1b2 --wait 60  # send it now, waiting up to a minute for retries"
    )]
    Retry(RetryArgs),
    /// Say what became of an `uncertain` target: published (give its URL) or not
    #[command(
        after_help = "Examples:\n  postctl resolve 0193a1b2 --published https://fosstodon.org/@me/1130\n  postctl resolve 0193a1b2 --not-published   # it will be published again"
    )]
    Resolve(ResolveArgs),
    /// Counters from the networks (likes, reposts, replies, reactions, followers): collect and show
    #[command(after_help = stats::STATS_HELP)]
    Stats(StatsArgs),
    /// What an account's history says: best times to post, top posts, growth, outliers, trend
    #[command(after_help = insights::INSIGHTS_HELP)]
    Insights(InsightsArgs),
    /// A report to send: followers, posts and engagement over a period, against the one before (md, html, csv, json)
    #[command(after_help = report::REPORT_HELP)]
    Report(ReportArgs),
    /// Delete a published post from its networks (every part of a thread)
    #[command(
        after_help = "Examples:\n  postctl unpublish 0193a1b2 --yes\n  postctl unpublish 0193a1b2 --account masto --yes"
    )]
    Unpublish(UnpublishArgs),
    /// Full-text search over posts and templates (50 posts at a time: --limit N, --all)
    #[command(
        after_help = "Examples:\n  postctl search launch\n  postctl search \"release notes\" --json\n  postctl search launch --all"
    )]
    Search(SearchArgs),
    /// Templates with variables and per-network variants: add, list, show, render, remove
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Brand voices (tone, audience, words, hashtags, emoji, language) kept in config.toml
    #[command(subcommand)]
    Voice(VoiceCommand),
    /// Check a draft against a brand voice and each network's length
    #[command(after_help = lint::LINT_HELP)]
    Lint(LintArgs),
    /// Draft posts with a language model (Claude, or any OpenAI-compatible server), in a brand voice, fitted per network
    #[command(after_help = generate::GENERATE_HELP)]
    Generate(GenerateArgs),
    /// The language model `generate` asks: provider, model, base URL and key
    #[command(subcommand)]
    Ai(AiCommand),
    /// Where networks that fetch images from a URL (Instagram) get them
    #[command(subcommand)]
    Media(MediaCommand),
    /// Serve the Model Context Protocol on stdin/stdout, for AI assistants (Claude Desktop, Claude Code)
    #[command(after_help = mcp::MCP_HELP)]
    Mcp(McpArgs),
    /// Sign in to a postctl server and link this database to a workspace there
    #[command(after_help = login::LOGIN_HELP)]
    Login(LoginArgs),
    /// Sign out of the server: the session ends and its token leaves the secret store
    #[command(
        after_help = "Examples:\n  postctl logout\n\nThe link to the workspace stays: signing in to it again carries on where the\nlast sync stopped."
    )]
    Logout,
    /// The server workspaces you can sync with: list them, or link this database to one
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Push this database's changes to the linked server workspace and pull the others'
    #[command(after_help = sync::SYNC_HELP)]
    Sync(SyncArgs),
    /// The linked server workspace's outbound webhooks: add, list, remove, deliveries, ping
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Events from outside that make posts on the linked server: GitHub releases, JSON calls
    #[command(subcommand)]
    Triggers(TriggersCommand),
    /// RSS and Atom feeds the linked server watches, making a post per new item
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// The posts of the linked server workspace that wait for approval
    #[command(after_help = approvals::APPROVALS_HELP)]
    Approvals,
    /// Approve a post waiting for approval on the linked server: it goes out at its time
    #[command(after_help = approvals::APPROVE_HELP)]
    Approve(ApproveArgs),
    /// Reject a post waiting for approval on the linked server, saying why: it is a draft again
    #[command(after_help = approvals::REJECT_HELP)]
    Reject(RejectArgs),
    /// Your notifications from the linked server: list them, or mark them read
    #[command(after_help = inbox::INBOX_HELP, args_conflicts_with_subcommands = true)]
    Inbox(InboxArgs),
    /// Your notification channels and preferences on the linked server
    #[command(subcommand, after_help = notifications::NOTIFICATIONS_HELP)]
    Notifications(NotificationsCommand),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  postctl completions bash > ~/.local/share/bash-completion/completions/postctl\n  postctl completions zsh > ~/.zfunc/_postctl\n  postctl completions fish > ~/.config/fish/completions/postctl.fish"
    )]
    Completions(CompletionsArgs),
    /// Help on a command or a topic (exit-codes, times)
    #[command(
        after_help = "Examples:\n  postctl help exit-codes\n  postctl help times\n  postctl help schedule"
    )]
    Help(HelpArgs),
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
}

#[derive(Debug, Args, Default, Clone)]
pub struct ContentArgs {
    /// Accounts or groups, comma separated (repeatable)
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS")]
    pub to: Vec<String>,
    /// Attach an image or video (repeatable)
    #[arg(long, value_name = "FILE")]
    pub media: Vec<PathBuf>,
    /// Alt text for the media, in the same order (repeatable)
    #[arg(long, value_name = "TEXT")]
    pub alt: Vec<String>,
    /// A title, for your own lists
    #[arg(long)]
    pub title: Option<String>,
    /// A label (repeatable)
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
}

/// When: a time, or a weekly rule, and how to read it.
#[derive(Debug, Args, Default, Clone)]
pub struct WhenArgs {
    /// When to publish: "tomorrow 09:00", "fri 10:00", "2026-12-01 09:00", "in 2h", RFC 3339
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,
    /// Publish every week on a rule: "mon,wed 09:00", "mon-fri 09:00,17:30", "daily 08:00"
    #[arg(long, value_name = "RULE", conflicts_with = "at")]
    pub every: Option<String>,
    /// The zone WHEN is read in [default: config `timezone`, else the system's]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// In a daylight-saving overlap, take the first of the two times
    #[arg(long, conflicts_with = "later")]
    pub earlier: bool,
    /// In a daylight-saving overlap, take the second of the two times
    #[arg(long)]
    pub later: bool,
    /// Accept a time in the past
    #[arg(long)]
    pub allow_past: bool,
}

/// How many posts a listing shows unless told `--limit N` or `--all`.
pub const PAGE: usize = 50;

/// How much of a long listing to show.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// Show at most N posts [default: 50]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "all")]
    pub limit: Option<u32>,
    /// Show every post
    #[arg(long)]
    pub all: bool,
}

impl PageArgs {
    /// The most posts to show; `None` for all.
    pub fn limit(&self) -> Option<usize> {
        match (self.all, self.limit) {
            (true, _) => None,
            (false, Some(n)) => Some(n as usize),
            (false, None) => Some(PAGE),
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap checks its own rules (unique flags, valid groups) only when a command is
    /// built; this builds every subcommand, so a clash fails here and not at a user.
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
