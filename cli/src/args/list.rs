//! The arguments of `postctl list`.

use clap::{ArgGroup, Args};

use super::PageArgs;

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
