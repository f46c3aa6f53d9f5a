//! The arguments of `postctl status`, `retry`, `resolve` and `unpublish`.

use clap::{ArgGroup, Args};

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    /// Publish it now instead of leaving it to the daemon or `postctl run-due`, waiting up
    /// to this many seconds for retries (rate limits, errors), as `post --wait` does
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
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
