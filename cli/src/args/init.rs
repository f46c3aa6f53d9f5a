//! The arguments of `postctl init`.

use clap::Args;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Your time zone (IANA name, e.g. Europe/Berlin) [default: the system's]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
}
