//! The `postctl` command line: clap definitions in [`args`], one module per command in
//! [`commands`], shared plumbing (context, output, exit codes) beside them.

mod analytics;
pub mod args;
mod checks;
mod commands;
mod content;
mod context;
mod editor;
mod engine;
mod env_accounts;
mod exit;
mod facebook;
mod mcp;
mod output;
mod posts;
mod scheduling;
mod server;
mod signin;

use std::io::IsTerminal;

use clap::{CommandFactory, Parser};

pub use exit::{EXIT_CODES_HELP, ExitCode};

/// The clap command tree, for docs and completions.
pub fn command() -> clap::Command {
    args::Cli::command()
}

/// Runs postctl with the process's arguments and returns the exit code.
pub fn main() -> std::process::ExitCode {
    // `postctl` alone on a terminal opens the dashboard; anywhere else it prints the help
    // and exits 2, as before.
    let bare = std::env::args_os().len() == 1
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal();
    let parsed = if bare {
        args::Cli::try_parse_from(["postctl", "tui"])
    } else {
        args::Cli::try_parse()
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    std::process::ExitCode::SUCCESS
                }
                _ => ExitCode::Usage.into(),
            };
        }
    };
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let color = output::stderr_color();
            eprintln!("{}", output::error_line(&error.to_string(), color));
            error.exit_code().into()
        }
    }
}
