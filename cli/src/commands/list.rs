//! `postctl list [--upcoming | --drafts | --failed] [--limit N | --all]`: the posts, a page
//! at a time.

use postctl_core::store::ListFilter;

use crate::args::ListArgs;
use crate::context::Context;
use crate::exit::CliResult;
use crate::posts::print_posts;

pub fn run(ctx: &mut Context, args: &ListArgs) -> CliResult {
    let filter = if args.upcoming {
        ListFilter::Upcoming
    } else if args.drafts {
        ListFilter::Drafts
    } else if args.failed {
        ListFilter::Failed
    } else {
        ListFilter::All
    };
    print_posts(ctx, &filter, args.tz.as_deref(), args.page.limit())
}
