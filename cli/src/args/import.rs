//! The arguments of `postctl import`.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .csv or .json file
    pub file: PathBuf,
    /// Check every row and report, without importing
    #[arg(long)]
    pub dry_run: bool,
    /// The zone for rows without a tz column [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Accept rows whose time is in the past
    #[arg(long)]
    pub allow_past: bool,
}
