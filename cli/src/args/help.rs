//! The arguments of `postctl help`.

use clap::Args;

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// A topic (exit-codes, times) or a command (e.g. `accounts add`)
    pub topic: Vec<String>,
}
