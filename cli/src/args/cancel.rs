//! The arguments of `postctl cancel`.

use clap::Args;

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Post ids (or prefixes)
    #[arg(required = true)]
    pub ids: Vec<String>,
}
