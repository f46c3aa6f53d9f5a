//! `postctl lint ID | --file F [--voice NAME] [--to ACCOUNTS]`: a draft against a brand voice
//! and each network's length. Exit 1 when an error-level finding exists, 0 with warnings only.

use postctl_core::content::lint::{Destination, Finding, Level, Report, lint};
use postctl_core::publish::preview;

use crate::args::LintArgs;
use crate::content::choose_voice;
use crate::content::read_file;
use crate::context::Context;
use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::{note, paint, print, print_json, stdout_color, table};

pub fn run(ctx: &mut Context, args: &LintArgs) -> CliResult {
    let (text, post_destinations) = match (&args.id, &args.file) {
        (_, Some(path)) => (read_file(path)?, None),
        (Some(id), None) => {
            let store = ctx.store()?;
            let id = store.resolve_post_id(id)?;
            let post = store.post(&id)?;
            let destinations = post
                .targets
                .iter()
                .map(|t| {
                    // A removed account counts with its network's defaults.
                    let capabilities = store.account(&t.account).ok().and_then(|account| {
                        preview::capabilities(Some(store), std::slice::from_ref(&account))
                            .pop()
                            .and_then(Result::ok)
                    });
                    Destination {
                        account: t.account.clone(),
                        network: t.network,
                        capabilities,
                    }
                })
                .collect::<Vec<_>>();
            (post.body, Some(destinations))
        }
        (None, None) => {
            return Err(CliError::usage(
                "say what to lint: a post id, or --file FILE",
            ));
        }
    };
    let voice = choose_voice(ctx, args.voice.as_deref())?;
    if voice.is_none() && !ctx.json {
        note(
            "no voice to check against (add one with `postctl voice set NAME ...`); checking lengths only",
        );
    }
    let destinations = destinations(ctx, &args.to, post_destinations)?;
    let report = lint(
        &text,
        voice.as_ref().map(|(name, v)| (name.as_str(), v)),
        &destinations,
    );
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
    if report.passed() {
        if !ctx.json {
            note(match report.warnings {
                0 => "no problems found".to_string(),
                1 => "1 warning, no errors".to_string(),
                n => format!("{n} warnings, no errors"),
            });
        }
        return Ok(());
    }
    Err(CliError {
        message: format!(
            "{} found; fix the draft{}",
            plural(report.errors, "error"),
            report
                .voice
                .as_ref()
                .map(|v| format!(", or change the voice with `postctl voice set {v} ...`"))
                .unwrap_or_default()
        ),
        code: ExitCode::Error,
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `--to`, else the post's accounts, else the config's `default_to`.
fn destinations(
    ctx: &mut Context,
    to: &[String],
    post: Option<Vec<Destination>>,
) -> CliResult<Vec<Destination>> {
    let names: Vec<String> = to
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let names = match (names.is_empty(), post) {
        (false, _) => names,
        (true, Some(post)) if !post.is_empty() => return Ok(post),
        (true, _) => ctx.config.default_to.clone(),
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let accounts = crate::env_accounts::resolve_for_reading(ctx, &names)?;
    let capabilities = crate::content::capabilities(ctx, &accounts)?;
    Ok(accounts
        .into_iter()
        .zip(capabilities)
        .map(|(a, caps)| Destination {
            account: a.name,
            network: a.network,
            capabilities: caps.ok(),
        })
        .collect())
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
