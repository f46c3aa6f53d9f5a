//! The arguments of `postctl schedule` and `postctl reschedule`.

use clap::{ArgGroup, Args};

use super::{ContentArgs, WhenArgs};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("when").required(true).args(["at", "every"])))]
pub struct ScheduleArgs {
    /// A post id (or prefix) to schedule, or the text of a new post
    pub post: String,
    #[command(flatten)]
    pub when: WhenArgs,
    #[command(flatten)]
    pub content: ContentArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("when").required(true).args(["at", "every"])))]
pub struct RescheduleArgs {
    /// The post's id, or an unambiguous prefix of it
    pub id: String,
    #[command(flatten)]
    pub when: WhenArgs,
}
