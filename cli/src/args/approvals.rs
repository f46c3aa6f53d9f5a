//! The arguments of `postctl approvals`, `postctl approve` and `postctl reject`.

use clap::Args;

pub const APPROVALS_HELP: &str = "\
Examples:
  postctl approvals
  postctl approvals --json

Lists the posts of the linked server workspace that wait for approval: posts its editors
scheduled while the workspace requires approval. Owners, admins and the workspace's named
approvers approve them with `postctl approve ID` or send them back with `postctl reject ID
--comment TEXT`. A post still waiting when its time comes is not published (it becomes
missed). Needs `postctl login` first.";

pub const APPROVE_HELP: &str = "\
Examples:
  postctl approve 0193a1b2
  postctl approve 0193a1b2 --comment \"Good to go\"

The post goes out at its own time. If that time passed more than the publisher's late limit
(6 hours) ago, it is missed instead of published late. ID is the id `postctl approvals`
shows, or an unambiguous start of it. Owners, admins and named approvers only.";

pub const REJECT_HELP: &str = "\
Examples:
  postctl reject 0193a1b2 --comment \"Add the link to the release notes\"

The post becomes a draft again; the comment, kept in its history, tells its author what to
change. Owners, admins and named approvers only.";

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The post's id, or an unambiguous start of it, as `postctl approvals` shows it
    pub id: String,
    /// A note kept with the decision in the post's history
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The post's id, or an unambiguous start of it, as `postctl approvals` shows it
    pub id: String,
    /// What the author should change (required)
    #[arg(long, value_name = "TEXT", required = true)]
    pub comment: String,
}
