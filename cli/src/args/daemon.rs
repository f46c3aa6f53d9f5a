//! The arguments of `postctl run-due` and `postctl daemon`.

use clap::Args;

#[derive(Debug, Args)]
pub struct RunDueArgs {
    /// Wait up to this many seconds for retries, and for rate limits (429s) that end [default: 120]
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
