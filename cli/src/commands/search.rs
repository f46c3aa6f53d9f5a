use postctl_core::store::ListFilter;

use super::list;
use crate::args::SearchArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};

pub fn run(ctx: &mut Context, args: &SearchArgs) -> CliResult {
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        return Err(CliError::usage(
            "give words to search for, e.g. `postctl search launch`",
        ));
    }
    list::print_posts(ctx, &ListFilter::Search(query), None)
}
