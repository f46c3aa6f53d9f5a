//! The arguments of `postctl report`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

pub const REPORT_HELP: &str = "\
Examples:
  postctl report                                  # the last 30 days, as Markdown
  postctl report --period 7d --format html -o week.html
  postctl report --from 2026-11-01 --to 2026-11-30 --account masto --format md -o november.md
  postctl report --period 90d --format csv > posts.csv
  postctl report --format json | jq '.accounts[].totals'

Per account: followers (or members) over the period, the posts published in it with
their engagement, the top posts, and the totals against the period of equal length
before; per network, what it does not provide and when it was last collected (run
`postctl stats collect` first, or keep `postctl daemon` running). A post's counters are
the last ones read before the period ended, so a past period reads the same whenever the
report is made. A counter a network does not give is left out, never shown as zero.

Formats: md (Markdown, to paste or send), html (one self-contained page with charts of
followers, engagement per post and the best hours to post: no script and no address of
anything, so it opens offline and from a mail attachment), csv (one row per post, one
column per counter), json (everything, for scripts). -o writes the file whole or not at
all. Dates are days in your zone (config `timezone`), both included.

The raw readings and daily roll-ups behind it: `postctl stats export`.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    /// Markdown
    Md,
    /// One self-contained HTML page with charts
    Html,
    /// One row per post, one column per counter
    Csv,
    /// Everything, for scripts
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The span before now to report on: 7d, 2w, 30d, 48h [default: 30d]
    #[arg(long, value_name = "SPAN", conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// The first day to report on (YYYY-MM-DD, in your zone), with --to
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<String>,
    /// The last day to report on, included (YYYY-MM-DD), with --from
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<String>,
    /// Only this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// The format [default: md, or json with --json]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormatArg>,
    /// Write to FILE (whole or not at all) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
