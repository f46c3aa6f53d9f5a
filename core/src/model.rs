//! The domain types: posts, their targets on accounts, and the states a target moves through.
//! Plain data, no I/O.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::network::Network;

/// Where one post goes to one account, and how far it got ("Target states" in
/// docs/ARCHITECTURE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Draft,
    Scheduled,
    Publishing,
    WaitingRetry,
    Published,
    Failed,
    Uncertain,
    Cancelled,
    Missed,
    /// Scheduled by someone whose posts need approval (a server workspace's rule): it
    /// keeps its due time, and no publisher claims it until an approver approves it.
    AwaitingApproval,
}

impl TargetState {
    pub const ALL: [TargetState; 10] = [
        TargetState::Draft,
        TargetState::Scheduled,
        TargetState::Publishing,
        TargetState::WaitingRetry,
        TargetState::Published,
        TargetState::Failed,
        TargetState::Uncertain,
        TargetState::Cancelled,
        TargetState::Missed,
        TargetState::AwaitingApproval,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TargetState::Draft => "draft",
            TargetState::Scheduled => "scheduled",
            TargetState::Publishing => "publishing",
            TargetState::WaitingRetry => "waiting_retry",
            TargetState::Published => "published",
            TargetState::Failed => "failed",
            TargetState::Uncertain => "uncertain",
            TargetState::Cancelled => "cancelled",
            TargetState::Missed => "missed",
            TargetState::AwaitingApproval => "awaiting_approval",
        }
    }

    /// Whether the user may still change when and what this target publishes.
    /// A claimed (`publishing`) target finishes or fails on its own; finished ones are history.
    pub fn is_editable(self) -> bool {
        TargetState::EDITABLE.contains(&self)
    }

    // ---- The named sets of the state machine ("Target states" in docs/ARCHITECTURE.md).
    // SQL reads them through [`TargetState::sql`], so no state name is written twice.

    /// Waiting for their time (or their next try): a publisher claims them when due.
    pub const WAITING: &'static [TargetState] =
        &[TargetState::Scheduled, TargetState::WaitingRetry];
    /// Not finished: waiting, or held by a publisher now.
    pub const PENDING: &'static [TargetState] = &[
        TargetState::Scheduled,
        TargetState::WaitingRetry,
        TargetState::Publishing,
    ];
    /// The user may still change or cancel them.
    pub const EDITABLE: &'static [TargetState] = &[
        TargetState::Draft,
        TargetState::Scheduled,
        TargetState::WaitingRetry,
    ];
    /// Ended in a way that needs the user.
    pub const NEEDS_USER: &'static [TargetState] = &[
        TargetState::Failed,
        TargetState::Uncertain,
        TargetState::Missed,
    ];
    /// `postctl retry` makes them due again: nothing of them may be on the network
    /// unrecorded (an `uncertain` one needs `postctl resolve` instead).
    pub const RETRYABLE: &'static [TargetState] = &[
        TargetState::Failed,
        TargetState::Missed,
        TargetState::WaitingRetry,
    ];
    /// Hold their due time on the account's queue: going out, or gone out.
    pub const HOLD_SLOT: &'static [TargetState] = &[
        TargetState::Scheduled,
        TargetState::WaitingRetry,
        TargetState::Publishing,
        TargetState::Published,
    ];
    /// Were or are meant to go out at their time (the calendar shows them).
    pub const SCHEDULED_ONCE: &'static [TargetState] = &[
        TargetState::Scheduled,
        TargetState::WaitingRetry,
        TargetState::Publishing,
        TargetState::Published,
        TargetState::Failed,
        TargetState::Uncertain,
        TargetState::Missed,
    ];

    /// `states` as an SQL list, `('scheduled', 'waiting_retry')`, for `state IN ...`.
    pub fn sql(states: &[TargetState]) -> String {
        let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        format!("({})", names.join(", "))
    }
}

/// How a target held by a publisher ends this round: the transitions out of `publishing`.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Published,
    /// Try again at `at`; `count_attempt` is false when no attempt was made (a rate limit
    /// made us wait, or the account could not be made ready).
    Retry {
        at: DateTime<Utc>,
        error: String,
        count_attempt: bool,
    },
    Failed {
        error: String,
    },
    Uncertain {
        error: String,
    },
    /// Give it back untouched (shutting down): `scheduled`, or `waiting_retry` when it was
    /// tried before.
    Release,
}

impl Finish {
    /// The state the target is left in; `tried` says whether it had attempts before.
    pub fn state(&self, tried: bool) -> TargetState {
        match self {
            Finish::Published => TargetState::Published,
            Finish::Retry { .. } => TargetState::WaitingRetry,
            Finish::Failed { .. } => TargetState::Failed,
            Finish::Uncertain { .. } => TargetState::Uncertain,
            Finish::Release if tried => TargetState::WaitingRetry,
            Finish::Release => TargetState::Scheduled,
        }
    }

    /// What went wrong, for the target's last error.
    pub fn error(&self) -> Option<&str> {
        match self {
            Finish::Retry { error, .. }
            | Finish::Failed { error }
            | Finish::Uncertain { error } => Some(error),
            Finish::Published | Finish::Release => None,
        }
    }

    /// The name of the outcome in the attempt log.
    pub fn outcome(&self) -> &'static str {
        match self {
            Finish::Retry { .. } => "retry",
            Finish::Release => "released",
            other => other.state(false).as_str(),
        }
    }
}

impl fmt::Display for TargetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TargetState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown target state {s:?}"))
    }
}

/// How a post's time was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Not scheduled: a draft.
    None,
    /// Once, at an instant.
    At,
    /// Recurring on a weekly rule, in the post's zone; `due` is the next occurrence.
    Every { rule: String },
    /// The next free slot of the account's queue at the time it was added.
    Queue,
}

/// What to do with text longer than a network takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadMode {
    /// Split into a thread where the network has threads; fail where it has none.
    #[default]
    Auto,
    /// Never split: a text that does not fit fails with a report.
    Never,
    /// Split, numbering the parts "1/3".
    Numbered,
}

impl ThreadMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ThreadMode::Auto => "auto",
            ThreadMode::Never => "never",
            ThreadMode::Numbered => "numbered",
        }
    }
}

impl FromStr for ThreadMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ThreadMode::Auto),
            "never" | "no" | "off" => Ok(ThreadMode::Never),
            "numbered" => Ok(ThreadMode::Numbered),
            other => Err(format!(
                "--thread takes auto, never or numbered, not {other:?}"
            )),
        }
    }
}

/// A media file attached to a post, stored content-addressed under the data dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    pub sha256: String,
    pub file_name: String,
    pub mime: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: Option<String>,
}

/// A post as written once; it reaches networks through its targets.
#[derive(Debug, Clone, Serialize)]
pub struct Post {
    pub id: String,
    pub body: String,
    pub title: Option<String>,
    pub labels: Vec<String>,
    pub media: Vec<MediaRef>,
    pub schedule: Schedule,
    /// The (next) instant the post is due; `None` for a draft.
    pub due: Option<DateTime<Utc>>,
    /// The IANA zone the time was written in.
    pub tz: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub targets: Vec<Target>,
}

impl Post {
    /// The state the user sees for the whole post: the least advanced of its targets'
    /// states, so a post is only `published` when every target is.
    pub fn summary_state(&self) -> Option<TargetState> {
        const ORDER: [TargetState; 10] = [
            TargetState::Failed,
            TargetState::Uncertain,
            TargetState::Missed,
            TargetState::Publishing,
            TargetState::WaitingRetry,
            TargetState::AwaitingApproval,
            TargetState::Scheduled,
            TargetState::Draft,
            TargetState::Published,
            TargetState::Cancelled,
        ];
        ORDER
            .into_iter()
            .find(|state| self.targets.iter().any(|t| t.state == *state))
    }
}

/// One post on one account.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub id: String,
    pub account: String,
    pub network: Network,
    pub state: TargetState,
    pub due: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// An account as stored: the secret itself lives in the secret store, only its location here.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub network: Network,
    pub base_url: Option<String>,
    pub handle: Option<String>,
    pub settings: serde_json::Value,
    pub secret_ref: String,
    pub created: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_state_names_round_trip() {
        for state in TargetState::ALL {
            assert_eq!(state.as_str().parse::<TargetState>(), Ok(state));
        }
        assert!("done".parse::<TargetState>().is_err());
    }

    #[test]
    fn summary_state_is_the_least_advanced() {
        let target = |state| Target {
            id: String::new(),
            account: String::new(),
            network: Network::Mastodon,
            state,
            due: None,
            last_error: None,
        };
        let mut post = Post {
            id: String::new(),
            body: String::new(),
            title: None,
            labels: vec![],
            media: vec![],
            schedule: Schedule::At,
            due: None,
            tz: "UTC".into(),
            created: DateTime::UNIX_EPOCH,
            updated: DateTime::UNIX_EPOCH,
            targets: vec![],
        };
        assert_eq!(post.summary_state(), None);
        post.targets = vec![
            target(TargetState::Published),
            target(TargetState::Scheduled),
        ];
        assert_eq!(post.summary_state(), Some(TargetState::Scheduled));
        post.targets.push(target(TargetState::Failed));
        assert_eq!(post.summary_state(), Some(TargetState::Failed));
    }
}
