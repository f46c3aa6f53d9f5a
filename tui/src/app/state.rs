//! Everything the dashboard knows, in one value. Views read it; only `update` changes it.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use postctl_core::platforms::Capabilities;
use postctl_core::store::TargetStatus;
use postctl_core::sync::client::{Awaiting, InboxItem};

use super::analytics::AnalyticsState;
use super::compose::Compose;
use super::data::Data;
use super::effect::{Verification, Write};
use super::input::LineInput;
use crate::keys::{Context, KeyMap};

/// The main views, one key each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Calendar,
    Queue,
    Accounts,
    Activity,
    Analytics,
    Approvals,
    Inbox,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Calendar,
        View::Queue,
        View::Accounts,
        View::Activity,
        View::Analytics,
        View::Approvals,
        View::Inbox,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Calendar => "Calendar",
            View::Queue => "Queue",
            View::Accounts => "Accounts",
            View::Activity => "Activity",
            View::Analytics => "Analytics",
            View::Approvals => "Approvals",
            View::Inbox => "Inbox",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMode {
    Month,
    Week,
}

/// The calendar: a cursor on a day, a selected post of that day, and a post being moved.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarState {
    pub mode: CalendarMode,
    /// Enter opened the cursor's day as a list.
    pub day_open: bool,
    pub cursor: NaiveDate,
    /// Index into the cursor day's entries.
    pub selected: usize,
    /// A post picked up with the move key or the mouse, dropped on the cursor's day.
    pub moving: Option<Moving>,
    /// A post to select again after the next load (it was just moved).
    pub follow: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Moving {
    pub post_id: String,
    /// The day it was picked up from.
    pub from: NaiveDate,
    /// Picked up with the mouse: dropped where the button is released.
    pub by_mouse: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueTab {
    Upcoming,
    Drafts,
    Failed,
    Uncertain,
}

impl QueueTab {
    pub const ALL: [QueueTab; 4] = [
        QueueTab::Upcoming,
        QueueTab::Drafts,
        QueueTab::Failed,
        QueueTab::Uncertain,
    ];

    pub fn title(self) -> &'static str {
        match self {
            QueueTab::Upcoming => "Upcoming",
            QueueTab::Drafts => "Drafts",
            QueueTab::Failed => "Failed",
            QueueTab::Uncertain => "Uncertain",
        }
    }
}

/// The queue: one of four lists, filtered, with a cursor and a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueState {
    pub tab: QueueTab,
    pub filter: String,
    /// The list after the filter, as positions in `data.posts` (derived in `update`).
    pub rows: Vec<usize>,
    pub cursor: usize,
    /// Selected post ids (kept across reloads).
    pub selected: BTreeSet<String>,
}

/// A post opened for detail.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    pub post_id: String,
    /// Loaded on open and after every change; `None` until then.
    pub targets: Option<Vec<TargetStatus>>,
    /// The selected target, whose attempt log is shown.
    pub cursor: usize,
    /// The post's counters on each network and their curve, once read.
    pub curve: Option<super::analytics::PostCurve>,
}

/// The last credential check of each account, by account name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountsState {
    pub cursor: usize,
    pub health: HashMap<String, Verification>,
    pub checking: BTreeSet<String>,
}

/// One line of the activity log.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityLine {
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    pub kind: ActivityKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Published,
    Failed,
    Edited,
    Other,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityState {
    /// Newest first, at most [`ACTIVITY_KEPT`].
    pub lines: VecDeque<ActivityLine>,
    pub last_seq: i64,
    /// Lines scrolled down from the newest.
    pub scroll: usize,
}

/// The posts awaiting approval on the linked server, as last read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApprovalsState {
    /// `None` until the first read; the error says why there is no list (not linked,
    /// signed out, server unreachable).
    pub items: Option<Result<Vec<Awaiting>, String>>,
    pub cursor: usize,
    /// A read or a decision is on its way.
    pub busy: bool,
}

/// The signed-in user's notifications on the linked server, as last read: unread first,
/// then newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxState {
    /// `None` until the first read; the error says why there is no list.
    pub items: Option<Result<Vec<InboxItem>, String>>,
    pub cursor: usize,
    /// A read or a marking is on its way.
    pub busy: bool,
}

/// How many activity lines are kept in memory.
pub const ACTIVITY_KEPT: usize = 1_000;

/// A one-line question at the bottom of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub purpose: PromptFor,
    pub label: String,
    pub input: LineInput,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromptFor {
    /// When to schedule these posts.
    ScheduleAt(Vec<String>),
    /// The URL an uncertain target was published at.
    ResolvePublished { post_id: String, account: String },
    /// A media file to attach in compose.
    AttachMedia,
    /// The queue filter, applied as it is typed.
    Filter,
    /// Why this post (awaiting approval on the server) is rejected.
    RejectComment(String),
}

/// The message line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// A change that can be taken back.
#[derive(Debug, Clone)]
pub struct Undo {
    pub label: String,
    pub writes: Vec<Write>,
}

/// How much undo history is kept.
pub const UNDO_KEPT: usize = 50;

/// The whole dashboard.
#[derive(Debug, Clone)]
pub struct State {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub week_start: Weekday,
    pub color: bool,
    pub keys: KeyMap,
    /// Accounts a new post goes to unless unticked (config `default_to`, resolved).
    pub default_to: Vec<String>,
    pub width: u16,
    pub height: u16,
    pub data: Data,
    /// The first load has arrived.
    pub loaded: bool,
    pub view: View,
    pub calendar: CalendarState,
    pub queue: QueueState,
    pub detail: Option<DetailState>,
    pub compose: Option<Compose>,
    pub accounts: AccountsState,
    pub activity: ActivityState,
    pub analytics: AnalyticsState,
    pub approvals: ApprovalsState,
    pub inbox: InboxState,
    /// The help overlay, with its scroll offset.
    pub help: Option<usize>,
    pub prompt: Option<Prompt>,
    pub status: Option<Status>,
    pub undo: Vec<Undo>,
    /// By account name; loaded when compose first opens.
    pub capabilities: HashMap<String, Result<Capabilities, String>>,
    pub capabilities_requested: bool,
    /// The background sync's last word, when the database is linked to a server.
    pub sync: Option<postctl_core::sync::background::Status>,
    pub quit: bool,
}

/// What a new dashboard starts from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub week_start: Weekday,
    pub color: bool,
    pub keys: KeyMap,
    pub default_to: Vec<String>,
    pub width: u16,
    pub height: u16,
}

impl State {
    pub fn new(settings: Settings) -> State {
        let today = settings.now.with_timezone(&settings.tz).date_naive();
        State {
            now: settings.now,
            tz: settings.tz,
            week_start: settings.week_start,
            color: settings.color,
            keys: settings.keys,
            default_to: settings.default_to,
            width: settings.width,
            height: settings.height,
            data: Data::default(),
            loaded: false,
            view: View::Calendar,
            calendar: CalendarState {
                mode: CalendarMode::Month,
                day_open: false,
                cursor: today,
                selected: 0,
                moving: None,
                follow: None,
            },
            queue: QueueState {
                tab: QueueTab::Upcoming,
                filter: String::new(),
                rows: Vec::new(),
                cursor: 0,
                selected: BTreeSet::new(),
            },
            detail: None,
            compose: None,
            accounts: AccountsState::default(),
            activity: ActivityState::default(),
            analytics: AnalyticsState::default(),
            approvals: ApprovalsState::default(),
            inbox: InboxState::default(),
            help: None,
            prompt: None,
            status: None,
            undo: Vec::new(),
            capabilities: HashMap::new(),
            capabilities_requested: false,
            sync: None,
            quit: false,
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }

    /// Where keys go now, most specific first.
    pub fn contexts(&self) -> &'static [Context] {
        if self.prompt.is_some() {
            &[Context::Always, Context::Prompt]
        } else if self.help.is_some() {
            &[Context::Always, Context::Help, Context::Global]
        } else if self.compose.is_some() {
            &[Context::Always, Context::Compose]
        } else if self.detail.is_some() {
            &[Context::Always, Context::Detail, Context::Global]
        } else {
            match self.view {
                View::Calendar => &[Context::Always, Context::Calendar, Context::Global],
                View::Queue => &[Context::Always, Context::Queue, Context::Global],
                View::Accounts => &[Context::Always, Context::Accounts, Context::Global],
                View::Activity => &[Context::Always, Context::Activity, Context::Global],
                View::Analytics => &[Context::Always, Context::Analytics, Context::Global],
                View::Approvals => &[Context::Always, Context::Approvals, Context::Global],
                View::Inbox => &[Context::Always, Context::Inbox, Context::Global],
            }
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: false,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: true,
        });
    }
}
