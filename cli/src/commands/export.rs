use postctl_core::exchange::{to_csv, to_ics, to_json};
use postctl_core::store::ListFilter;

use crate::args::{ExportArgs, ExportFormat};
use crate::context::Context;
use crate::exit::CliResult;
use crate::output::print;

pub fn run(ctx: &mut Context, args: &ExportArgs) -> CliResult {
    let now = ctx.now;
    let posts = ctx.store()?.posts(&ListFilter::All)?;
    print(&match args.format {
        ExportFormat::Json => to_json(&posts),
        ExportFormat::Csv => to_csv(&posts),
        ExportFormat::Ics => to_ics(&posts, now),
    })
}
