//! The arguments of `postctl stats` and `postctl stats collect`.

use clap::{Args, Subcommand, ValueEnum};

pub const STATS_HELP: &str = "\
Examples:
  postctl stats collect                 # read what is due now (cron: every hour)
  postctl stats collect --account masto --since 7d
  postctl stats                         # recent posts, most engagement first
  postctl stats --account masto --since 7d --sort likes
  postctl stats 0193a1b2                # one post: counters per network and their curve
  postctl stats --json
  postctl stats export snapshots --format csv -o readings.csv

`stats collect` reads each published post's counters hourly for its first 48 hours, then
daily to 30 days, then weekly to 90 days, and each account's followers or members daily;
a run reads only what is due, so running it every hour is enough. Each reading is kept
`[analytics] keep_snapshots_days` (90), the last of each day forever.

What each network gives: X likes, reposts, replies, quotes, bookmarks, views (impressions)
and followers; Mastodon likes, reposts, replies, quotes and followers; Bluesky likes,
reposts, replies, quotes, bookmarks and followers; VK likes, reposts, replies (comments),
views and the community's members or the person's followers; Discord (bot) and Slack (bot)
reactions by emoji and members; Matrix reactions by emoji and room members; Telegram the
subscriber count and reactions by emoji, read from the bot's updates when it is an admin
of the channel (the Bot API has no views, likes, reposts or replies; a bot whose updates go
to a webhook says so, and the webhook is left alone). Views count
toward no engagement. Webhooks, Discord webhooks and Slack incoming webhooks report
nothing.";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatsArgs {
    #[command(subcommand)]
    pub command: Option<StatsCommand>,
    /// A post's id (or an unambiguous prefix): its counters on each network and their curve
    pub id: Option<String>,
    /// Only posts published to this account
    #[arg(long, value_name = "NAME", conflicts_with = "id")]
    pub account: Option<String>,
    /// Only posts published within this span: 90m, 48h, 7d, 2w [default: 30d]
    #[arg(long, value_name = "SPAN", conflicts_with = "id")]
    pub since: Option<String>,
    /// The order of the table
    #[arg(long, value_enum, default_value_t = StatsSort::Engagement, conflicts_with = "id")]
    pub sort: StatsSort,
    /// Show at most N posts
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "id")]
    pub limit: u32,
}

/// How `postctl stats` orders posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsSort {
    /// Likes, reposts, replies, quotes and reactions together, most first
    Engagement,
    /// Newest first
    Recent,
    /// Most likes first
    Likes,
    /// Most reposts first
    Reposts,
    /// Most replies first
    Replies,
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Read the counters that are due now from each network, once (for cron and CI)
    #[command(
        after_help = "Examples:\n  postctl stats collect\n  postctl stats collect --account masto --since 7d\n  0 * * * * postctl stats collect --quiet   # a crontab line\n\nIt exits 1 when an account could not be read (credentials, network errors); what\nwas read is kept. A rate limit ends that account's run; the rest is read next time."
    )]
    Collect(CollectArgs),
    /// Write the raw readings or the daily roll-ups as CSV or JSON, streamed
    #[command(after_help = STATS_EXPORT_HELP)]
    Export(StatsExportArgs),
}

pub const STATS_EXPORT_HELP: &str = "\
Examples:
  postctl stats export snapshots --format csv -o readings.csv
  postctl stats export daily --account masto --format json > daily.json
  postctl stats export accounts --format csv           # followers and members per day

snapshots: every raw reading of a post's counters still kept (`[analytics]
keep_snapshots_days`, 90 by default); daily: each post's last reading of each day (kept
forever); accounts: each account's last reading of its followers or members each day.

CSV has one line per reading and counter (at, day, account, network, post_id, counter,
value): a counter the network does not give has no line, never a zero, and a pivot table
makes any wide view. JSON is one array of readings, each with its counters as an object.
Rows are written as they are read, oldest first, so memory stays flat however long the
history; -o writes the file whole or not at all.";

/// What `postctl stats export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsExportWhat {
    /// Every raw reading of a post's counters still kept
    Snapshots,
    /// Each post's last reading of each day
    Daily,
    /// Each account's followers or members, one reading a day
    Accounts,
}

/// The formats of `postctl stats export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct StatsExportArgs {
    /// Which readings
    #[arg(value_enum)]
    pub what: StatsExportWhat,
    /// The format [default: csv, or json with --json]
    #[arg(long, value_enum)]
    pub format: Option<StatsExportFormat>,
    /// Only this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Write to FILE (whole or not at all) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Only this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Only posts published within this span: 90m, 48h, 7d, 2w [default: up to 90 days]
    #[arg(long, value_name = "SPAN")]
    pub since: Option<String>,
    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,
}
