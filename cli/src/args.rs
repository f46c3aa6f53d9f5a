//! The command line: every command, flag and help text, as clap definitions.
//! `cargo xtask docs` renders the man pages and shell completions from these.

use std::path::PathBuf;

use clap::{ArgGroup, ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};

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
    #[command(after_help = TUI_HELP)]
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
    #[command(after_help = POST_HELP)]
    Post(PostArgs),
    /// Show how long a text is on each network, counted its way, and how it would split
    #[command(
        after_help = "Examples:\n  postctl check --file RELEASE.md --to release\n  postctl check \"Shipped v1.2 🎉\" --to masto,bsky --json"
    )]
    Check(CheckArgs),
    /// Publish everything that is due, then exit (for cron and CI)
    #[command(
        after_help = "Examples:\n  postctl run-due\n  */5 * * * * postctl run-due --quiet   # a crontab line\n\nWhile it waits for a retry it says which account waits until when. It exits 3 when a\ntarget failed, was missed, is uncertain or is left waiting to retry (see\n`postctl help exit-codes`). What is due goes by the real clock, even with POSTCTL_NOW set."
    )]
    RunDue(RunDueArgs),
    /// Keep publishing: sleep until the next post is due or the database changes
    #[command(
        after_help = "Examples:\n  postctl daemon\n  postctl daemon --print-unit > ~/.config/systemd/user/postctl.service\n  systemctl --user enable --now postctl"
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
    #[command(after_help = LINT_HELP)]
    Lint(LintArgs),
    /// Draft posts with a language model (Claude, or any OpenAI-compatible server), in a brand voice, fitted per network
    #[command(after_help = GENERATE_HELP)]
    Generate(GenerateArgs),
    /// The language model `generate` asks: provider, model, base URL and key
    #[command(subcommand)]
    Ai(AiCommand),
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
pub struct InitArgs {
    /// Your time zone (IANA name, e.g. Europe/Berlin) [default: the system's]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
}

const POST_HELP: &str = "\
Examples:
  postctl post \"Shipped v1.2 🎉 https://example.com/v1.2\" --to masto,bsky,tg,dc
  postctl post --file RELEASE.md --to release --thread auto --media chart.png --alt \"weekly downloads\"
  postctl post --file RELEASE.md --to release --dry-run --json
  postctl post --release CHANGELOG.md --version 1.2.0 --to release
  postctl post --release \"$GITHUB_EVENT_PATH\" --to release --json

In CI, accounts can come from the environment, with no init and no database:
  POSTCTL_ACCOUNT_MASTO=mastodon:https://fosstodon.org   (network, then the base URL if any)
  POSTCTL_ACCOUNT_MASTO_TOKEN=...                         (the secret)
  POSTCTL_ACCOUNT_TG=telegram  POSTCTL_ACCOUNT_TG_CHAT=@mychannel  POSTCTL_ACCOUNT_TG_TOKEN=...
  (other fields: _HANDLE, _CHANNEL, _ROOM, _BASE_URL)
  postctl post --file RELEASE.md --to masto,tg --json

Exit codes: 0 every target published; 3 some did not (see the JSON or the messages);
4 credentials missing or rejected; 1 error.";

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Add an account; the secret goes to the OS keyring (or a 0600 file), never the database
    #[command(after_help = ACCOUNTS_ADD_HELP)]
    Add(Box<AccountAddArgs>),
    /// List accounts and where each secret lives (never the secret)
    List,
    /// Check accounts' credentials against their networks
    #[command(
        after_help = "Examples:\n  postctl accounts check\n  postctl accounts check masto --json"
    )]
    Check(AccountCheckArgs),
    /// Remove an account and its stored secret
    #[command(
        after_help = "Examples:\n  postctl accounts rm tg\n  postctl accounts rm tg --cancel-scheduled"
    )]
    Rm(AccountRmArgs),
}

const ACCOUNTS_ADD_HELP: &str = "\
What each network needs (the secret comes from --token-stdin or --token-env VAR):
  x          the OAuth 2.0 user access token
  mastodon   --instance URL; an access token
  bluesky    --handle me.bsky.social [--pds URL]; an app password
  telegram   --chat @channel|-100123 [--api-url URL]; the bot token
  discord    a webhook URL; or --channel ID with a bot token
  slack      a webhook URL; or --channel C0123 with a bot token (xoxb-)
  matrix     --homeserver URL --room !id:server|#alias:server; an access token
  vk         --owner-id ID (negative for a community); an access token
  instagram  --user-id ID; an access token
  facebook   --page-id ID; a Page access token
  linkedin   --author urn:li:person:ID|urn:li:organization:ID; an access token
  threads    --user-id ID; an access token
  reddit     --subreddit NAME; an access token
  nostr      --relay wss://... (repeatable); the secret key (nsec1... or hex)
  devto      an API key
  webhook    --base-url URL (where to POST); a signing key for the HMAC-SHA256 signature

Examples:
  postctl accounts add mastodon --name masto --instance https://fosstodon.org --token-stdin < token.txt
  postctl accounts add bluesky --name bsky --handle me.bsky.social --app-password-stdin < pw.txt
  postctl accounts add telegram --name tg --chat @mychannel --token-env TG_BOT_TOKEN
  postctl accounts add discord --name dc --webhook-url-stdin < hook.txt";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["token_stdin", "token_env"])))]
pub struct AccountAddArgs {
    /// The network: x, mastodon, bluesky, telegram, discord, slack, matrix, vk, instagram, facebook, linkedin, threads, reddit, nostr, devto, webhook
    pub network: String,
    /// Your name for the account, used with --to (lowercase letters, digits, - and _)
    #[arg(long)]
    pub name: String,
    /// The server's base URL (Mastodon instance, Bluesky PDS, Matrix homeserver, Telegram Bot API server...)
    #[arg(long, visible_aliases = ["instance", "pds", "homeserver", "api-url"], value_name = "URL")]
    pub base_url: Option<String>,
    /// Handle (Bluesky: me.bsky.social or a DID)
    #[arg(long)]
    pub handle: Option<String>,
    /// Telegram chat: @channelname or a numeric id such as -1001234567890
    #[arg(long, allow_hyphen_values = true)]
    pub chat: Option<String>,
    /// Discord or Slack channel, for bot tokens
    #[arg(long)]
    pub channel: Option<String>,
    /// Matrix room: !id:server or #alias:server
    #[arg(long)]
    pub room: Option<String>,
    /// VK wall owner id (negative for a community)
    #[arg(long, allow_hyphen_values = true)]
    pub owner_id: Option<String>,
    /// Instagram or Threads user id
    #[arg(long)]
    pub user_id: Option<String>,
    /// Facebook Page id
    #[arg(long)]
    pub page_id: Option<String>,
    /// LinkedIn author URN
    #[arg(long)]
    pub author: Option<String>,
    /// Subreddit to post to
    #[arg(long)]
    pub subreddit: Option<String>,
    /// Nostr relay URL (repeat for several)
    #[arg(long = "relay", value_name = "URL")]
    pub relays: Vec<String>,
    /// Read the secret (token, app password, webhook URL, key) from stdin
    #[arg(long, visible_aliases = ["app-password-stdin", "webhook-url-stdin", "key-stdin"])]
    pub token_stdin: bool,
    /// Keep only the name of an environment variable that holds the secret
    #[arg(long, visible_aliases = ["app-password-env", "webhook-url-env", "key-env"], value_name = "VAR")]
    pub token_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct AccountCheckArgs {
    /// Only this account [default: all]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct AccountRmArgs {
    /// The account's name
    pub name: String,
    /// Also cancel the account's scheduled posts (otherwise such an account is not removed)
    #[arg(long)]
    pub cancel_scheduled: bool,
}

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

#[derive(Debug, Subcommand)]
pub enum DraftCommand {
    /// Write a new draft: the text as an argument, from stdin (-), or in $EDITOR (-e)
    #[command(after_help = "\
Examples:
  postctl draft new \"Hello world\" --to masto,bsky
  postctl draft new \"New settings page\" --to masto --media shot.png --alt \"the new settings page\"
  postctl draft new -e
  echo \"From a pipe\" | postctl draft new - --to masto

In $EDITOR the draft is Markdown with a small front matter:
  ---
  to: masto, bsky
  at: tomorrow 09:00      (optional: schedules the draft)
  media: shot.png
  alt: the new settings page
  ---
  Hello world")]
    New(DraftNewArgs),
    /// List drafts
    List,
    /// Show one post in full
    Show(IdArg),
    /// Change a post's text, accounts, media, alt text or time; with no changes given,
    /// opens $EDITOR with all of them
    #[command(
        after_help = "Examples:\n  postctl draft edit 0193a1b2\n  postctl draft edit 0193a1b2 \"New text\" --to masto\n  postctl draft edit 0193a1b2 --media shot.png --alt \"the new settings page\""
    )]
    Edit(DraftEditArgs),
    /// Remove a post (pending targets are cancelled; what was published stays)
    #[command(
        after_help = "Examples:\n  postctl draft rm 0193a1b2\n  postctl draft rm 0193a1b2 --yes   # a scheduled post, without asking"
    )]
    Rm(DraftRmArgs),
}

#[derive(Debug, Args)]
pub struct DraftRmArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// Remove a post that is still scheduled without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// Publish it now instead of leaving it to the daemon or `postctl run-due`, waiting up
    /// to this many seconds for retries (rate limits, errors), as `post --wait` does
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
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

#[derive(Debug, Args)]
pub struct DraftNewArgs {
    /// The text; - reads it from stdin (or write it in $EDITOR with -e)
    pub text: Option<String>,
    /// Write the draft in $EDITOR
    #[arg(short = 'e', long, conflicts_with = "text")]
    pub edit: bool,
    #[command(flatten)]
    pub content: ContentArgs,
}

#[derive(Debug, Args)]
pub struct DraftEditArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// New text; - reads it from stdin
    pub text: Option<String>,
    #[command(flatten)]
    pub content: ContentArgs,
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

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("when").required(true).args(["at", "every"])))]
pub struct ScheduleArgs {
    /// A post id (or prefix) to schedule, or the text of a new post
    pub post: String,
    #[command(flatten)]
    pub when: WhenArgs,
    #[command(flatten)]
    pub content: ContentArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("when").required(true).args(["at", "every"])))]
pub struct RescheduleArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    #[command(flatten)]
    pub when: WhenArgs,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Post ids (or prefixes)
    #[arg(required = true)]
    pub ids: Vec<String>,
}

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

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("filter").args(["upcoming", "drafts", "failed"])))]
pub struct ListArgs {
    /// Only posts still to publish, soonest first
    #[arg(long)]
    pub upcoming: bool,
    /// Only drafts
    #[arg(long)]
    pub drafts: bool,
    /// Only posts with a failed, uncertain or missed target
    #[arg(long)]
    pub failed: bool,
    /// Show times in this zone [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
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

const TUI_HELP: &str = "\
Examples:
  postctl tui
  postctl                       # with no arguments, on a terminal
  postctl tui --tz America/New_York --no-mouse

Keys (? in the dashboard lists them all): 1-4 calendar, queue, accounts, activity;
arrows move; Enter opens; n writes a post; m picks up a post and moves it to another day
(or drag it with the mouse); + and - move a post by a day; u undoes; q quits.
Change them in config.toml:
  [tui.keys]
  move = \"M\"

Changes made by the CLI and the daemon show up within a second. The dashboard logs to
tui.log in the data dir.";

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Show and read times in this zone [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Leave the mouse to the terminal (selecting text) instead of clicking and dragging posts
    #[arg(long)]
    pub no_mouse: bool,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// A week: the one holding DATE (YYYY-MM-DD) [default: this week]
    #[arg(long, value_name = "DATE", num_args = 0..=1, default_missing_value = "", conflicts_with = "month")]
    pub week: Option<String>,
    /// A month (YYYY-MM) [default: this month]
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Show times in this zone [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
    Ics,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file format
    #[arg(long, value_enum)]
    pub format: ExportFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .csv or .json file
    pub file: PathBuf,
    /// Check every row and report, without importing
    #[arg(long)]
    pub dry_run: bool,
    /// The zone for rows without a tz column [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Accept rows whose time is in the past
    #[arg(long)]
    pub allow_past: bool,
}

/// What to do with text longer than a network takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThreadArg {
    /// Split into a thread where the network has threads
    Auto,
    /// Refuse text that does not fit
    Never,
    /// Split, numbering the parts "1/3"
    Numbered,
}

#[derive(Debug, Args)]
pub struct PostArgs {
    /// The text; - reads stdin
    #[arg(conflicts_with_all = ["file", "release"], required_unless_present_any = ["file", "release"])]
    pub text: Option<String>,
    /// Read the text (Markdown) from a file
    #[arg(long, value_name = "FILE", conflicts_with = "release")]
    pub file: Option<PathBuf>,
    /// Announce a release from a changelog (Keep a Changelog, conventional-changelog,
    /// cargo-release) or a GitHub release event file ($GITHUB_EVENT_PATH), through the
    /// `release` template (stored, or the built-in one), fitted to each network
    #[arg(long, value_name = "FILE")]
    pub release: Option<PathBuf>,
    /// The release to announce [default: the latest released section]
    #[arg(long = "version", value_name = "VERSION", requires = "release")]
    pub release_version: Option<String>,
    /// A template variable for --release (repeatable): --var name=postctl
    #[arg(long = "var", value_name = "NAME=VALUE", requires = "release")]
    pub vars: Vec<String>,
    #[command(flatten)]
    pub content: ContentArgs,
    /// Text longer than a network takes: split into a thread (auto, numbered) or refuse
    /// (never) [default: auto; with --release: the summary and a link where the notes do not fit]
    #[arg(long, value_enum)]
    pub thread: Option<ThreadArg>,
    /// Show exactly what each network would receive; send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Wait up to this many seconds for retries (rate limits, errors); later ones are left
    /// to the daemon or `postctl run-due`
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The text; - reads stdin
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    pub text: Option<String>,
    /// Read the text (Markdown) from a file
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Accounts or groups, comma separated
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS", required = true)]
    pub to: Vec<String>,
    /// How text that does not fit would be handled
    #[arg(long, value_enum, default_value = "auto")]
    pub thread: ThreadArg,
}

#[derive(Debug, Args)]
pub struct RunDueArgs {
    /// Wait up to this many seconds for retries that come due (rate limits, errors) [default: 120]
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub wait: u64,
    /// Print nothing when nothing was due
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Print a systemd --user unit that runs the daemon, and exit
    #[arg(long)]
    pub print_unit: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["published", "not_published"])))]
pub struct ResolveArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// It was published: the link you found (in a thread, of the part postctl was unsure
    /// of; the parts after it are then sent)
    #[arg(long, value_name = "URL")]
    pub published: Option<String>,
    /// It was not published: publish it again now (from that part on)
    #[arg(long)]
    pub not_published: bool,
    /// Only the target on this account [default: every uncertain target of the post]
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnpublishArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// Only from this account [default: every account it was published to]
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Do it without asking (required when stdin is not a terminal)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (all must match; each also matches as a prefix)
    #[arg(required = true)]
    pub query: Vec<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// A topic (exit-codes, times) or a command (e.g. `accounts add`)
    pub topic: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Add a template: its default body, and a variant per network with --for NETWORK --file FILE
    #[command(after_help = TEMPLATE_ADD_HELP)]
    Add(TemplateAddArgs),
    /// List templates (the built-in ones too)
    List,
    /// Show a template's body and variants
    Show(TemplateNameArg),
    /// Remove a template, or with --for only that network's variant
    #[command(
        after_help = "Examples:\n  postctl template rm launch\n  postctl template rm launch --for bluesky   # only the Bluesky variant"
    )]
    Rm(TemplateRmArgs),
    /// Render a template with variables, for one network or the default body
    #[command(after_help = TEMPLATE_RENDER_HELP)]
    Render(TemplateRenderArgs),
}

const TEMPLATE_ADD_HELP: &str = "\
Examples:
  postctl template add launch \"{{ name }} {{ version }} is out: {{ link }}\"
  postctl template add release --file release.md --for bluesky --file release-bsky.md --for x --file release-x.md
  postctl template add release --force --for mastodon --file release-masto.md   # add one variant
  postctl template add weekly -e

The default body is TEXT, --file FILE or -e ($EDITOR). Each --for NETWORK applies to the
--file right after it. Templates are minijinja (Jinja2): {{ var }}, {% if %}, {% for %},
filters such as {{ name | upper }}. Every body is checked when it is added.";

const TEMPLATE_RENDER_HELP: &str = "\
Examples:
  postctl template render launch --var name=postctl --var version=1.2.0 --var link=https://example.com
  postctl template render launch --vars-file vars.json --for bluesky --json
  postctl template render ci --var version=1.2.0      # {{ env.GITHUB_REF_NAME }} reads the environment

Variables, later wins: environment variables as env.NAME (never names that look like secrets:
*TOKEN*, *SECRET*, *PASSWORD*, *KEY...), then --vars-file (a JSON object), then --var NAME=VALUE
(a.b=VALUE sets b inside a). A variable the template uses but nobody gave is an error that
names it (exit 2).";

/// `template add`. The default body is TEXT, `--file` or `-e`; `--for NETWORK --file FILE`
/// pairs (in that order on the command line) add variants. clap gives the flags' positions,
/// so the pairing is done here rather than in the command.
#[derive(Debug, Clone, Default)]
pub struct TemplateAddArgs {
    pub name: String,
    pub text: Option<String>,
    pub edit: bool,
    /// The default body's file: a --file with no --for right before it.
    pub file: Option<PathBuf>,
    /// `(network, file)` for each `--for NETWORK --file FILE`.
    pub variants: Vec<(String, PathBuf)>,
    pub force: bool,
}

#[derive(Debug, Args)]
struct TemplateAddFlags {
    /// The template's name (lowercase letters, digits, -, _ and .)
    name: String,
    /// The default body; - reads stdin
    text: Option<String>,
    /// Write the default body in $EDITOR
    #[arg(short = 'e', long, conflicts_with = "text")]
    edit: bool,
    /// A file with the default body; right after --for NETWORK, that network's variant (repeatable)
    #[arg(long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The network whose variant the next --file holds: x, mastodon, bluesky, telegram, discord, slack, matrix, ... (repeatable)
    #[arg(long = "for", value_name = "NETWORK")]
    networks: Vec<String>,
    /// Change a template that exists: its body if one is given, and the variants given (the others stay)
    #[arg(long)]
    force: bool,
}

impl FromArgMatches for TemplateAddArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = TemplateAddFlags::from_arg_matches(matches)?;
        let positions = |id: &str| -> Vec<usize> {
            matches
                .indices_of(id)
                .map(Iterator::collect)
                .unwrap_or_default()
        };
        let mut events: Vec<(usize, Result<String, PathBuf>)> = positions("networks")
            .into_iter()
            .zip(flags.networks.iter().cloned().map(Ok))
            .chain(
                positions("files")
                    .into_iter()
                    .zip(flags.files.iter().cloned().map(Err)),
            )
            .collect();
        events.sort_by_key(|(index, _)| *index);
        let invalid =
            |message: String| clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, message);
        let mut pending: Option<String> = None;
        let mut file = None;
        let mut variants = Vec::new();
        for (_, event) in events {
            match (event, pending.take()) {
                (Ok(network), Some(previous)) => {
                    return Err(invalid(format!(
                        "--for {previous} needs a --file right after it (the {previous} variant's body), before --for {network}"
                    )));
                }
                (Ok(network), None) => pending = Some(network),
                (Err(path), Some(network)) => variants.push((network, path)),
                (Err(path), None) if file.is_none() => file = Some(path),
                (Err(path), None) => {
                    return Err(invalid(format!(
                        "two --file with no --for before the second ({}): the default body is one file; put --for NETWORK before each variant's --file",
                        path.display()
                    )));
                }
            }
        }
        if let Some(network) = pending {
            return Err(invalid(format!(
                "--for {network} needs a --file after it with the {network} variant's body"
            )));
        }
        if file.is_some() && (flags.text.is_some() || flags.edit) {
            return Err(invalid(
                "give the default body once: as TEXT, with --file FILE, or with -e".into(),
            ));
        }
        Ok(TemplateAddArgs {
            name: flags.name,
            text: flags.text,
            edit: flags.edit,
            file,
            variants,
            force: flags.force,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = TemplateAddArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for TemplateAddArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        TemplateAddFlags::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        TemplateAddFlags::augment_args_for_update(cmd)
    }
}

#[derive(Debug, Args)]
pub struct TemplateNameArg {
    /// The template's name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct TemplateRmArgs {
    /// The template's name
    pub name: String,
    /// Remove only this network's variant
    #[arg(long = "for", value_name = "NETWORK")]
    pub network: Option<String>,
}

#[derive(Debug, Args)]
pub struct TemplateRenderArgs {
    /// The template's name (stored, or built in: release)
    pub name: String,
    /// A variable (repeatable); a.b=VALUE sets b inside a
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A JSON object of variables
    #[arg(long, value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Render this network's variant (the default body when it has none)
    #[arg(long = "for", value_name = "NETWORK")]
    pub network: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum VoiceCommand {
    /// Create or change a voice; options not given keep their value
    #[command(after_help = VOICE_SET_HELP)]
    Set(VoiceSetArgs),
    /// List voices
    List,
    /// Show one voice
    Show(VoiceNameArg),
    /// Remove a voice from config.toml
    Rm(VoiceNameArg),
}

const VOICE_SET_HELP: &str = "\
Examples:
  postctl voice set brand --tone \"friendly, plain, no hype\" --audience \"developers who self-host\"
  postctl voice set brand --avoid synergy --avoid \"circle back\" --use ship --use release
  postctl voice set brand --hashtags \"#rust #cli\" --hashtag-policy required --emoji max:2 --language en
  postctl voice set brand --avoid \"\"     # clear a list

Voices are kept in config.toml as [voices.NAME]; the rest of the file, comments included, is
left as it is. A list option (--use, --avoid, --hashtags) replaces the whole list.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashtagPolicyArg {
    /// Every one of the voice's hashtags must be in a post
    Required,
    /// Hashtags are up to the writer
    Optional,
    /// No hashtags at all
    None,
}

#[derive(Debug, Args)]
pub struct VoiceSetArgs {
    /// The voice's name (lowercase letters, digits, - and _)
    pub name: String,
    /// How it sounds: "friendly, plain, no hype"
    #[arg(long)]
    pub tone: Option<String>,
    /// Who it speaks to
    #[arg(long)]
    pub audience: Option<String>,
    /// A word or phrase the voice prefers (repeatable)
    #[arg(long = "use", value_name = "WORD")]
    pub use_words: Vec<String>,
    /// A word or phrase the voice never uses; lint fails on it (repeatable)
    #[arg(long, value_name = "WORD")]
    pub avoid: Vec<String>,
    /// The voice's hashtags: "#a #b"
    #[arg(long, value_name = "TAGS")]
    pub hashtags: Option<String>,
    /// What a post must do with hashtags
    #[arg(long, value_enum, value_name = "POLICY")]
    pub hashtag_policy: Option<HashtagPolicyArg>,
    /// Emoji: allow, none, or max:N
    #[arg(long, value_name = "POLICY")]
    pub emoji: Option<String>,
    /// The language posts are written in (en, en-GB, pt-BR...)
    #[arg(long, value_name = "TAG")]
    pub language: Option<String>,
}

#[derive(Debug, Args)]
pub struct VoiceNameArg {
    /// The voice's name
    pub name: String,
}

const LINT_HELP: &str = "\
Examples:
  postctl lint 0193a1b2 --voice brand
  postctl lint --file RELEASE.md --voice brand --to masto,bsky
  postctl lint --file RELEASE.md --to release --json

Checks: words the voice avoids (error, with line and column), none of its preferred words
(warning), its hashtag policy and emoji policy (errors), and the length on each network of
--to (a warning when the text would become a thread, an error where the network cannot
thread). Lengths use each network's default limit (Mastodon 500, Bluesky 300, X 280,
Telegram 4096, Discord 2000, Slack 4000, Matrix 60000 bytes).

Exit codes: 0 no errors (warnings allowed); 1 an error was found; 2 usage (no such post,
voice or account, an unreadable file).";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("draft").required(true).args(["id", "file"])))]
pub struct LintArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: Option<String>,
    /// Lint the text (Markdown) of a file instead; - reads stdin
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The voice to check against [default: the only voice, when config.toml has exactly one]
    #[arg(long, value_name = "NAME")]
    pub voice: Option<String>,
    /// Accounts or groups whose lengths to check, comma separated [default: the post's accounts, else default_to]
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS")]
    pub to: Vec<String>,
}

const GENERATE_HELP: &str = "\
Examples:
  postctl generate \"announce the v2 release\" --from CHANGELOG.md --voice brand --to release --variants 3
  postctl generate \"a teaser for Friday's livestream\" --to masto,bsky
  postctl generate --rewrite 0193a1b2 --for bsky
  postctl generate --rewrite 0193a1b2 --for linkedin \"more formal\"
  postctl generate --hashtags 0193a1b2

The model's text streams to the terminal. Each variant is then saved as a draft (labelled
\"generated\"), fitted per network: a variant over a network's limit goes back to the model once
to be shortened; if it is still too long, the draft is saved and the overrun reported. Where
the networks need different texts, a variant becomes one draft per distinct text. Nothing is
saved when the model fails: no key, an unknown model, overload (retried with backoff), a
request too long, the network down, or a stream cut midway.

--rewrite replaces the draft's text when it goes only to that network; otherwise that
network's accounts move to a new draft with the rewritten text, keeping the schedule.
--hashtags prints suggestions and changes nothing.

The model is set with `postctl ai set` (or [ai] in config.toml); the key comes from
ANTHROPIC_API_KEY (OPENAI_API_KEY for openai) or the OS keyring, and ANTHROPIC_BASE_URL
(OPENAI_BASE_URL) overrides the base URL.";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").args(["rewrite", "hashtags"])))]
pub struct GenerateArgs {
    /// What to write ("announce the v2 release"); with --rewrite, an extra instruction
    pub brief: Option<String>,
    /// Material to draw on: a changelog (the section of --version, else the latest release), a GitHub release event (JSON), or any text file
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rewrite", "hashtags"])]
    pub from: Option<PathBuf>,
    /// The release to take from the --from changelog [default: the latest]
    #[arg(long = "version", value_name = "VERSION", requires = "from")]
    pub release_version: Option<String>,
    /// The brand voice to write in [default: the only voice, when config.toml has exactly one]
    #[arg(long, value_name = "NAME")]
    pub voice: Option<String>,
    /// Accounts or groups the drafts are for, comma separated [default: default_to]
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS", conflicts_with_all = ["rewrite", "hashtags"])]
    pub to: Vec<String>,
    /// How many variants to write, 1 to 10
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub variants: u8,
    /// Rewrite this post (id or unambiguous prefix) for the network given with --for
    #[arg(long, value_name = "ID", requires = "for_network")]
    pub rewrite: Option<String>,
    /// The network to rewrite for (bluesky, bsky, mastodon, x...), or an account or group
    #[arg(long = "for", value_name = "NETWORK", requires = "rewrite")]
    pub for_network: Option<String>,
    /// Suggest hashtags for this post (id or unambiguous prefix); changes nothing
    #[arg(long, value_name = "ID")]
    pub hashtags: Option<String>,
    /// How many hashtags to suggest
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=30), requires = "hashtags")]
    pub count: u8,
    /// The model to ask instead of the configured one
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AiCommand {
    /// Choose the provider, model, base URL, token limit and key; options not given keep their value
    #[command(after_help = AI_SET_HELP)]
    Set(AiSetArgs),
    /// Show the settings in force and where the key comes from (never the key)
    Show,
}

const AI_SET_HELP: &str = "\
Examples:
  postctl ai set --model claude-sonnet-4-5
  printf %s \"$KEY\" | postctl ai set --key-stdin
  postctl ai set --provider openai --base-url http://localhost:11434/v1 --model llama3.2
  postctl ai set --base-url \"\"        # back to the provider's own URL

Settings go to [ai] in config.toml, keeping the rest of the file. The key goes to the OS
keyring (else secrets.toml, mode 0600); only where it is is written to config.toml.
ANTHROPIC_API_KEY / OPENAI_API_KEY and ANTHROPIC_BASE_URL / OPENAI_BASE_URL win when set.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// Anthropic's Messages API (Claude)
    Anthropic,
    /// Any OpenAI-compatible chat-completions server: OpenAI, Ollama, llama.cpp, vLLM
    Openai,
}

#[derive(Debug, Args)]
pub struct AiSetArgs {
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// The model's name as the provider knows it
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The API's base URL (OpenAI-compatible servers: up to /v1); \"\" for the provider's own
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The longest answer, in tokens
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub max_tokens: Option<u32>,
    /// Read the API key from standard input and keep it in the OS keyring
    #[arg(long)]
    pub key_stdin: bool,
    /// Read the API key from this environment variable each time instead
    #[arg(long, value_name = "VAR", conflicts_with = "key_stdin")]
    pub key_env: Option<String>,
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
