//! `postctl lint ID | --file F [--voice NAME] [--to ACCOUNTS]`: a draft against a brand voice
//! and each network's length. Exit 1 when an error-level finding exists, 0 with warnings only.

use postctl_core::content::lint::{Finding, Level, Report};

use crate::args::LintArgs;
use crate::checks::{Draft, failure, lint_draft};
use crate::content::read_file;
use crate::context::Context;
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, paint, print, print_json, stdout_color, table};

pub fn run(ctx: &mut Context, args: &LintArgs) -> CliResult {
    let draft = match (&args.id, &args.file) {
        (_, Some(path)) => Draft::Text(read_file(path)?),
        (Some(id), None) => Draft::Post(id.clone()),
        (None, None) => {
            return Err(CliError::usage(
                "say what to lint: a post id, or --file FILE",
            ));
        }
    };
    let (report, destinations) = lint_draft(ctx, draft, args.voice.as_deref(), &args.to)?;
    if report.voice.is_none() && !ctx.json {
        note(
            "no voice to check against (add one with `postctl voice set NAME ...`); checking lengths only",
        );
    }
    if ctx.json {
        print_json(&report)?;
    } else {
        print_report(&report)?;
        if destinations.is_empty() {
            note("lengths not checked: give --to ACCOUNTS (or set default_to in config.toml)");
        }
    }
    for destination in &destinations {
        if !postctl_core::platforms::can_publish(destination.network) {
            note(format!(
                "warning: {}: {}",
                destination.account,
                postctl_core::platforms::not_publishable(destination.network)
            ));
        }
    }
    for account in &report.unchecked {
        note(format!(
            "length not checked for {account}: postctl knows no default limit for its network"
        ));
    }
    match failure(&report) {
        None => {
            if !ctx.json {
                note(match report.warnings {
                    0 => "no problems found".to_string(),
                    1 => "1 warning, no errors".to_string(),
                    n => format!("{n} warnings, no errors"),
                });
            }
            Ok(())
        }
        Some(message) => Err(CliError {
            message,
            code: ExitCode::Error,
        }),
    }
}

fn print_report(report: &Report) -> CliResult {
    let color = stdout_color();
    let mut out = String::new();
    for finding in &report.findings {
        out += &finding_line(finding, color);
        out += "\n";
    }
    if !report.lengths.is_empty() {
        if !out.is_empty() {
            out += "\n";
        }
        let rows: Vec<Vec<String>> = report
            .lengths
            .iter()
            .map(|l| {
                let verdict = if l.fits {
                    paint("fits", "32", color)
                } else {
                    paint(
                        &format!("over by {}", l.length - l.max.min(l.length)),
                        "33",
                        color,
                    )
                };
                vec![
                    l.account.clone(),
                    l.network.display_name().to_string(),
                    format!("{}/{} {}", l.length, l.max, l.unit),
                    verdict,
                ]
            })
            .collect();
        out += &table(&["ACCOUNT", "NETWORK", "LENGTH", ""], &rows, color);
    }
    print(&out)
}

/// "error   2:7  "synergy": the brand voice avoids this word; reword it"
fn finding_line(finding: &Finding, color: bool) -> String {
    let level = match finding.level {
        Level::Error => paint("error  ", "1;31", color),
        Level::Warning => paint("warning", "1;33", color),
    };
    let place = match (finding.line, finding.column) {
        (Some(line), Some(column)) => format!("{line}:{column}  "),
        _ => String::new(),
    };
    format!("{level} {place}{}", finding.message)
}
