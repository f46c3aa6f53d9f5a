//! The arguments of `postctl calendar`.

use clap::Args;

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// A week: the one holding DATE (YYYY-MM-DD) [default: this week]
    #[arg(long, value_name = "DATE", num_args = 0..=1, default_missing_value = "", conflicts_with = "month")]
    pub week: Option<String>,
    /// A month (YYYY-MM) [default: this month]
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Show times in this zone [default: your zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}
