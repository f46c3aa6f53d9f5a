//! The arguments of `postctl lint`.

use clap::{ArgGroup, Args};
use std::path::PathBuf;

pub(super) const LINT_HELP: &str = "\
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
