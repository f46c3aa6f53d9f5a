//! `postctl tui`: the dashboard, over the same database as every other command.

use std::io::IsTerminal;

use chrono::Weekday;

use crate::args::TuiArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};

pub fn run(ctx: &mut Context, args: &TuiArgs) -> CliResult {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(CliError::usage(
            "postctl tui needs a terminal on stdin and stdout; in scripts use the commands instead (`postctl list`, `postctl calendar`)",
        ));
    }
    let tz = ctx.zone(args.tz.as_deref())?;
    let week_start = match ctx.config.week_starts_on.as_deref() {
        Some("sun" | "sunday") => Weekday::Sun,
        _ => Weekday::Mon,
    };
    let default_to = ctx.config.default_to.clone();
    let default_to = if default_to.is_empty() {
        Vec::new()
    } else {
        ctx.store()?
            .resolve_destinations(&default_to)?
            .into_iter()
            .map(|account| account.name)
            .collect()
    };
    let pinned_now = std::env::var("POSTCTL_NOW")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|_| ctx.now);
    let options = postctl_tui::Options {
        db_file: ctx.paths.db_file.clone(),
        data_dir: ctx.paths.data_dir.clone(),
        tz,
        week_start,
        pinned_now,
        store_clock: ctx.clock,
        keys: ctx.config.tui.keys.clone(),
        default_to,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        mouse: !args.no_mouse,
        policy: ctx.config.policy(),
    };
    postctl_tui::run(options).map_err(|e| match e {
        postctl_tui::Error::Store(e) => e.into(),
        other => CliError::failure(other.to_string()),
    })
}
