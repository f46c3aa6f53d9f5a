//! The arguments of `postctl search`.

use clap::Args;

use super::PageArgs;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (all must match; each also matches as a prefix)
    #[arg(required = true)]
    pub query: Vec<String>,
    #[command(flatten)]
    pub page: PageArgs,
}
