//! The arguments of `postctl insights`.

use clap::Args;

pub const INSIGHTS_HELP: &str = "\
Examples:
  postctl insights                      # every account, the last 30 days
  postctl insights --account masto --since 7d
  postctl insights --period 90d --json

Per account: the best weekday-and-hour slots to post (from the last year of its own
history, in the zone of its queue slots, else yours), its top posts, the growth of its
followers or members, the posts far above or below its median, and the trend against the
previous period of equal length. It reads what `postctl stats collect` stored; it asks no
network.

How it decides:
  - A post is compared with others once it is 48 hours old; younger ones still grow.
  - Slots are judged by engagement per 100 followers at the time of posting (engagement
    per post where the audience is unknown or zero). A weekday-and-hour needs 3 posts, and
    any needs 10 compared posts of the account; until then it says \"not enough data yet\".
    A post far above the median counts only as far as the outlier threshold below, so
    one viral post does not make its hour the best.
  - How sure: a slot whose mean is 2 standard errors (Welch's) above the mean of the
    account's other posts is \"fairly sure\", 1 is \"a hint\", less \"no clear difference\".
  - Far above or below the median: a modified z-score (median and median absolute
    deviation, Iglewicz and Hoaglin) beyond 3.5, from 5 compared posts.
  - The trend compares the mean engagement per compared post with the previous period.

`postctl queue slots suggest ACCOUNT` turns the best slots into queue slots.";

#[derive(Debug, Args)]
pub struct InsightsArgs {
    /// Only this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// The period: this span before now, compared with the span before it: 90m, 48h, 7d,
    /// 2w, at most a year [default: 30d]
    #[arg(long, visible_alias = "period", value_name = "SPAN")]
    pub since: Option<String>,
    /// How many top posts to show per account
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub top: u32,
}
