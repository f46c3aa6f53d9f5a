//! What flows in and out of [`update`](super::update): events (keys, the clock, results of
//! effects) and effects (database reads and writes, $EDITOR, credential checks) as data.
//! The runtime at the edge carries effects out and answers with events.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use postctl_core::model::{Account, MediaRef, Post};
use postctl_core::platforms::Capabilities;
use postctl_core::store::{NewPost, Operation, PostChange, ScheduleChange, TargetStatus};
use postctl_core::sync::client::{Awaiting, Decided, InboxItem, Verdict};

use super::analytics::{PostCurve, Summary};
use super::data::{Slice, Window};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved on.
    Tick(DateTime<Utc>),
    /// A fresh read of the database, with the oplog entries since the last one.
    Loaded(Box<Loaded>),
    /// Oplog entries read on their own (the backlog, after the first frame), with the posts
    /// they name and those posts' short ids.
    Activity {
        operations: Vec<Operation>,
        posts: Vec<Post>,
        short: HashMap<String, String>,
    },
    TargetsLoaded {
        post_id: String,
        targets: Vec<TargetStatus>,
    },
    /// The analytics view's account, reduced for drawing (see [`super::analytics`]).
    AnalyticsLoaded(Box<Result<Summary, String>>),
    /// A post's counters curve on each account.
    CurveLoaded(Box<PostCurve>),
    /// What each account's network takes (by account name), for compose's counters.
    Capabilities(HashMap<String, Result<Capabilities, String>>),
    /// The result of checking one account's credentials.
    Verified(Verification),
    /// A write job finished (possibly part-way, with an error).
    Written(Written),
    MediaImported(Result<MediaRef, String>),
    /// The text back from $EDITOR.
    EditorClosed(Result<String, String>),
    /// The posts awaiting approval on the linked server, or why they could not be read.
    ApprovalsLoaded(Result<Vec<Awaiting>, String>),
    /// What an approval or a rejection did, or why the server refused it.
    Decided(Result<Decided, String>),
    /// The signed-in user's notifications on the linked server (newest first), or why
    /// they could not be read.
    InboxLoaded(Result<Vec<InboxItem>, String>),
    /// How many notifications a marking made read, or why the server refused it.
    Marked(Result<u64, String>),
    /// The inbox view has been shown a while: time to read the server's inbox again.
    InboxDue,
    /// Where the database stands with its server, from the background sync.
    Sync(postctl_core::sync::background::Status),
    /// An effect failed before doing anything.
    Failed(String),
}

/// One read of the database.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub posts: Vec<Post>,
    pub accounts: Vec<Account>,
    pub short: HashMap<String, String>,
    /// `None` when the oplog was not read (the first frame does without it).
    pub operations: Option<Vec<Operation>>,
    /// What was read, when not every post was; `posts` then holds the slice's posts.
    pub slice: Option<Slice>,
    /// When the read happened (the live clock, for the activity log).
    pub at: DateTime<Utc>,
    /// Accounts that need signing in again, by name, and why (their posts are held).
    pub signed_out: HashMap<String, String>,
}

/// A credential check's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub account: String,
    pub at: DateTime<Utc>,
    /// The identity the network reported, or why the check failed.
    pub result: Result<String, VerifyFailure>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifyFailure {
    pub message: String,
    /// The credentials were rejected: the user must add the account again.
    pub auth: bool,
    /// The network said to wait this long (a rate limit).
    pub retry_after_secs: Option<u64>,
}

/// What a write job did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub done: String,
    /// Ids of posts the job created.
    pub created: Vec<String>,
    /// What else the user should know: targets a change left alone, posts it refused.
    pub notes: Vec<String>,
    /// The inverse of the steps that succeeded, in the order to run them.
    pub undo: Vec<Write>,
    pub undo_label: String,
    pub error: Option<String>,
    /// Close compose after success.
    pub close_compose: bool,
}

/// Something for the runtime to do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Read the posts the dashboard shows (the calendar's `window`, the queue's lists),
    /// the accounts, and the oplog after `activity_after`.
    Load {
        activity_after: i64,
        window: Window,
    },
    LoadTargets(String),
    /// Read one account's analytics, its best times in the display zone.
    LoadAnalytics {
        account: String,
        tz: chrono_tz::Tz,
    },
    /// Read a post's counters and their curve.
    LoadCurve(String),
    LoadCapabilities(Vec<Account>),
    Write(Job),
    ImportMedia(PathBuf),
    /// Suspend the dashboard and edit `text` in $VISUAL or $EDITOR.
    ExternalEditor(String),
    Verify(Vec<Account>),
    /// Read the posts awaiting approval on the linked server.
    LoadApprovals,
    /// Read the signed-in user's notifications on the linked server.
    LoadInbox,
    /// Mark one notification read (`Some(id)`), or all of them.
    MarkRead(Option<String>),
    /// Approve or reject a post awaiting approval on the linked server.
    Decide {
        post_id: String,
        verdict: Verdict,
        comment: Option<String>,
    },
}

/// Writes run one after another, each in its own transaction; the first failure stops
/// the job. Each step carries its inverse, collected for undo as the steps succeed.
#[derive(Debug, Clone, Default)]
pub struct Job {
    pub steps: Vec<Step>,
    /// "moved 0193a1b2 to Sun 22 Nov"
    pub done: String,
    /// "move of 0193a1b2"
    pub undo_label: String,
    pub close_compose: bool,
    /// Passed on to [`Written::notes`].
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub write: Write,
    pub undo: Vec<Write>,
}

/// One database write, in the store's terms.
#[derive(Debug, Clone)]
pub enum Write {
    Create(Box<NewPost>),
    Update {
        post_id: String,
        change: PostChange,
        schedule: Option<ScheduleChange>,
    },
    Cancel(String),
    Delete(String),
    Retry(String),
    Resolve {
        post_id: String,
        account: Option<String>,
        published_url: Option<String>,
    },
}
