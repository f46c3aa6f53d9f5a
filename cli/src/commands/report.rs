//! `postctl report`: a period's followers, posts and engagement, per account, against the
//! period before, as Markdown, HTML, CSV or JSON, to stdout or a file.

use chrono::{Duration, NaiveDate};
use postctl_core::analytics::parse_span;
use postctl_core::analytics::report::{self, Period, ReportFormat, ReportRequest};

use crate::args::{ReportArgs, ReportFormatArg};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, write_out};

/// The period without --period or --from/--to.
const DEFAULT_PERIOD: Duration = Duration::days(30);

fn date(flag: &str, text: &str) -> CliResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::usage(format!(
            "{flag} {text:?} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-01"
        ))
    })
}

pub fn run(ctx: &mut Context, args: &ReportArgs) -> CliResult {
    let tz = ctx.zone(None)?;
    let period = match (&args.period, &args.from, &args.to) {
        (_, Some(from), Some(to)) => report::days(date("--from", from)?, date("--to", to)?, tz)?,
        (Some(span), _, _) => Period::ending(
            ctx.now,
            parse_span(span).ok_or_else(|| {
                CliError::usage(format!(
                    "--period {span:?} is not a span; write a number and a unit: 7d, 2w, 30d or 48h"
                ))
            })?,
        ),
        _ => Period::ending(ctx.now, DEFAULT_PERIOD),
    };
    let format = match (args.format, ctx.json) {
        (Some(ReportFormatArg::Md), _) | (None, false) => ReportFormat::Markdown,
        (Some(ReportFormatArg::Html), _) => ReportFormat::Html,
        (Some(ReportFormatArg::Csv), _) => ReportFormat::Csv,
        (Some(ReportFormatArg::Json), _) | (None, true) => ReportFormat::Json,
    };
    let request = ReportRequest {
        period,
        account: args.account.clone(),
        zone: tz,
        now: ctx.now,
    };
    let report = report::gather(ctx.store()?, &request)?;
    write_out(args.output.as_deref(), |out| {
        report::render(&report, format, out)
    })?;
    if let Some(path) = &args.output {
        note(format!("report written to {}", path.display()));
    }
    Ok(())
}
