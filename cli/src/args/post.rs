//! The arguments of `postctl post` and `postctl check`.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::ContentArgs;

pub(super) const POST_HELP: &str = "\
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
  (other fields: _HANDLE, _CHANNEL, _ROOM, _BASE_URL, _OWNER_ID, _USER_ID, _PAGE_ID)
  postctl post --file RELEASE.md --to masto,tg --json

On a database linked to a server (`postctl login`), the server publishes: `post` sends the
post with a sync and waits up to --wait seconds for the server's result (--wait 0: return
once the server has it). An account the server lacks is refused (`postctl accounts push
NAME` first); when the server cannot be reached the post waits here for the next sync
(`postctl sync`, or the daemon's background sync), exit 3.
  postctl accounts push masto && postctl post \"Shipped v1.2\" --to masto
  postctl post \"Shipped v1.2\" --to masto --wait 0 && postctl status 01a2

Exit codes: 0 every target published; 3 some did not (see the JSON or the messages);
4 credentials missing or rejected; 1 error.";

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
    /// to the daemon or `postctl run-due`. On a linked database: for the server's result
    /// (0: return once the server has the post)
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
    /// An image the post will carry (repeatable): networks that need one (Instagram) are
    /// checked for it; the file is not read
    #[arg(long, value_name = "FILE")]
    pub media: Vec<PathBuf>,
}
