use std::io::{BufWriter, Write};

use postctl_core::exchange::{CsvExport, IcsExport, IcsSpan, JsonExport};
use postctl_core::store::ListFilter;

use crate::args::{ExportArgs, ExportFormat};
use crate::context::Context;
use crate::exit::CliResult;
use crate::posts::stdout_error;

/// Writes every post as it is read: memory stays flat however many posts there are.
pub fn run(ctx: &mut Context, args: &ExportArgs) -> CliResult {
    let now = ctx.now;
    let store = ctx.store()?;
    let out = BufWriter::new(std::io::stdout().lock());
    let all = ListFilter::All;
    let written = match args.format {
        ExportFormat::Json => {
            let mut export = JsonExport::new(out);
            store
                .each_post(&all, None, |post| export.post(&post).map_err(stdout_error))
                .and_then(|()| export.finish().map(drop).map_err(stdout_error))
        }
        ExportFormat::Csv => {
            let mut export = CsvExport::new(out);
            store
                .each_post(&all, None, |post| export.post(&post).map_err(stdout_error))
                .and_then(|()| export.finish().map(drop).map_err(stdout_error))
        }
        ExportFormat::Ics => {
            // The zone descriptions come first and must cover every event: a first pass
            // finds the zones and years.
            let mut span = IcsSpan::default();
            store.each_post(&all, None, |post| {
                span.add(&post);
                Ok(())
            })?;
            IcsExport::new(out, &span, now)
                .map_err(stdout_error)
                .and_then(|mut export| {
                    store.each_post(&all, None, |post| export.post(&post).map_err(stdout_error))?;
                    export.finish().map_err(stdout_error)
                })
                .and_then(|mut out| out.flush().map_err(stdout_error))
        }
    };
    match written {
        Err(postctl_core::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(())
        }
        other => Ok(other?),
    }
}
