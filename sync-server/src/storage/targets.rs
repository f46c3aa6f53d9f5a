//! The decisions about targets that both storages share: which states a change moves a
//! target from ("Target states" in docs/ARCHITECTURE.md, with core's state names), what a
//! resolved target becomes, and whether a target whose publisher stopped mid-send may be
//! sent again. Pure functions.

use postctl_core::model::TargetState;
use postctl_core::network::Network;

use super::Account;

/// A change a person asks for through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChange {
    /// Publish at `due_ms`: drafts and waiting targets are (re)scheduled.
    Schedule { due_ms: i64 },
    /// Back to a draft: the post has no time any more.
    Unschedule,
    /// Do not publish: drafts and waiting targets are cancelled.
    Cancel,
    /// Failed (and missed, and waiting) targets are due again at `now_ms`, with a fresh
    /// attempt count.
    Retry { now_ms: i64 },
    /// A person says what became of the part of an `uncertain` target: published, with
    /// the URL they found (a thread with parts still to send is due again at `now_ms`, to
    /// continue after it), or not published (due again at `now_ms` from that part on).
    /// Only the target on `account_id` when given.
    Resolve {
        published_url: Option<String>,
        account_id: Option<String>,
        now_ms: i64,
    },
    /// Scheduled at `due_ms` by someone whose posts need approval: the targets wait for an
    /// approver, keeping the time.
    AwaitApproval { due_ms: i64 },
    /// The content of an approved post changed: its waiting targets need approval again.
    Reapprove,
    /// An approver approved: the targets are scheduled at their own time, or missed when
    /// that time is before `late_before_ms` (more than the late limit ago).
    Approve { late_before_ms: i64 },
    /// An approver rejected: the targets are drafts again.
    Reject,
}

/// The states a new time needing approval moves: those before publishing, and missed
/// ones (scheduling a missed post again sends it for approval again).
const AWAITABLE: &[TargetState] = &[
    TargetState::Draft,
    TargetState::Scheduled,
    TargetState::WaitingRetry,
    TargetState::AwaitingApproval,
    TargetState::Missed,
];

/// The states a person may still change before publishing: core's `EDITABLE` and targets
/// awaiting approval.
const BEFORE_PUBLISHING: &[TargetState] = &[
    TargetState::Draft,
    TargetState::Scheduled,
    TargetState::WaitingRetry,
    TargetState::AwaitingApproval,
];

impl TargetChange {
    /// The states this change moves a target out of.
    pub fn from_states(&self) -> &'static [TargetState] {
        match self {
            TargetChange::Schedule { .. } | TargetChange::Unschedule | TargetChange::Cancel => {
                BEFORE_PUBLISHING
            }
            TargetChange::AwaitApproval { .. } => AWAITABLE,
            TargetChange::Retry { .. } => TargetState::RETRYABLE,
            TargetChange::Resolve { .. } => &[TargetState::Uncertain],
            TargetChange::Reapprove => TargetState::WAITING,
            TargetChange::Approve { .. } | TargetChange::Reject => &[TargetState::AwaitingApproval],
        }
    }

    /// The state a target moves to (a resolved one: see [`resolve_parts`]; an approved
    /// one may be missed instead; a target awaiting approval that gets a new time keeps
    /// awaiting).
    pub fn to_state(&self) -> TargetState {
        match self {
            TargetChange::Schedule { .. }
            | TargetChange::Retry { .. }
            | TargetChange::Approve { .. } => TargetState::Scheduled,
            TargetChange::Unschedule | TargetChange::Reject => TargetState::Draft,
            TargetChange::Cancel => TargetState::Cancelled,
            TargetChange::Resolve { .. } => TargetState::Published,
            TargetChange::AwaitApproval { .. } | TargetChange::Reapprove => {
                TargetState::AwaitingApproval
            }
        }
    }

    /// The due time a moved target gets (`None`: it keeps its own).
    pub fn due_ms(&self) -> Option<i64> {
        match self {
            TargetChange::Schedule { due_ms } | TargetChange::AwaitApproval { due_ms } => {
                Some(*due_ms)
            }
            TargetChange::Retry { now_ms } => Some(*now_ms),
            TargetChange::Resolve { now_ms, .. } => Some(*now_ms),
            TargetChange::Unschedule
            | TargetChange::Cancel
            | TargetChange::Reapprove
            | TargetChange::Approve { .. }
            | TargetChange::Reject => None,
        }
    }
}

/// Whether `change` moves a target in `state`.
pub fn change_allows(change: &TargetChange, state: TargetState) -> bool {
    change.from_states().contains(&state)
}

/// What a resolved uncertain target becomes: its parts (the part in doubt recorded with
/// the URL, or dropped to be sent again) and its state (`published` when nothing is left
/// to send, else `scheduled`).
pub fn resolve_parts(
    parts: &str,
    in_flight: Option<u32>,
    planned: Option<u32>,
    published_url: Option<&str>,
) -> (String, TargetState) {
    let mut list: Vec<serde_json::Value> = serde_json::from_str(parts).unwrap_or_default();
    let part = in_flight
        .map(|p| p as usize)
        .unwrap_or(list.len())
        .min(list.len());
    list.truncate(part);
    let planned = planned.map(|n| n as usize);
    let to_send = match published_url {
        Some(url) => {
            list.push(serde_json::json!({
                "id": id_from_url(url),
                "url": url,
                "resolved_by_user": true,
            }));
            planned.map_or(0, |n| n.saturating_sub(list.len()))
        }
        None => planned.map_or(1, |n| n.saturating_sub(list.len()).max(1)),
    };
    let state = if to_send == 0 {
        TargetState::Published
    } else {
        TargetState::Scheduled
    };
    (
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()),
        state,
    )
}

/// A post's id on its network as far as its URL tells: the last segment of the path, or
/// of the fragment (matrix.to links).
fn id_from_url(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    let tail = match without_query.split_once('#') {
        Some((_, fragment)) if !fragment.is_empty() => fragment,
        _ => without_query,
    };
    tail.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(tail)
        .to_string()
}

/// What happens to a target whose publisher's lease ran out while a part was on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// The network recognises the part sent again with the same key: claim it again.
    Resend,
    /// Sending again could post twice: it becomes `uncertain`, and a person decides.
    Uncertain,
}

/// "Target states" in docs/ARCHITECTURE.md's rule for a part in flight since `in_flight_ms`
/// on `account`'s network, at `now_ms`: sent again only within the window the network
/// honours an idempotency key (core's `Capabilities::idempotency`, which depends on the
/// account's settings, as for Discord bots and webhooks). A network postctl cannot publish
/// to gives `Uncertain`.
pub fn takeover(account: &Account, in_flight_ms: i64, now_ms: i64) -> Takeover {
    let Some(core_account) = core_account(account) else {
        return Takeover::Uncertain;
    };
    let Ok(capabilities) = postctl_core::platforms::capabilities(&core_account, None) else {
        return Takeover::Uncertain;
    };
    let since = chrono::DateTime::from_timestamp_millis(in_flight_ms).unwrap_or_default();
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    match capabilities.idempotency.safe_until(since) {
        Some(until) if now <= until => Takeover::Resend,
        _ => Takeover::Uncertain,
    }
}

/// A server account as core's, for core's rules about its network (no secret); `None` for
/// a network core does not know.
pub fn core_account(account: &Account) -> Option<postctl_core::model::Account> {
    let network = account.network.parse::<Network>().ok()?;
    Some(postctl_core::model::Account {
        id: account.id.clone(),
        name: account.name.clone(),
        network,
        base_url: account.base_url.clone(),
        handle: account.handle.clone(),
        settings: serde_json::from_str(&account.settings).unwrap_or_default(),
        secret_ref: String::new(),
        created: chrono::DateTime::from_timestamp_millis(account.created_ms).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(network: &str, settings: &str) -> Account {
        Account {
            id: "a".into(),
            workspace_id: "w".into(),
            name: "n".into(),
            network: network.into(),
            base_url: Some("https://example.test".into()),
            handle: Some("someone.example.test".into()),
            settings: settings.into(),
            credentials: String::new(),
            created_ms: 0,
        }
    }

    #[test]
    fn each_change_moves_only_the_states_design_allows() {
        use TargetState::*;
        let schedule = TargetChange::Schedule { due_ms: 1 };
        let retry = TargetChange::Retry { now_ms: 1 };
        let resolve = TargetChange::Resolve {
            published_url: None,
            account_id: None,
            now_ms: 1,
        };
        let await_approval = TargetChange::AwaitApproval { due_ms: 1 };
        let approve = TargetChange::Approve { late_before_ms: 1 };
        let before = &[Draft, Scheduled, WaitingRetry, AwaitingApproval];
        let cases: [(&TargetChange, &[TargetState]); 9] = [
            (&schedule, before),
            (&TargetChange::Unschedule, before),
            (&TargetChange::Cancel, before),
            (&retry, &[Failed, Missed, WaitingRetry]),
            (&resolve, &[Uncertain]),
            (
                &await_approval,
                &[Draft, Scheduled, WaitingRetry, AwaitingApproval, Missed],
            ),
            (&TargetChange::Reapprove, &[Scheduled, WaitingRetry]),
            (&approve, &[AwaitingApproval]),
            (&TargetChange::Reject, &[AwaitingApproval]),
        ];
        for (change, allowed) in cases {
            for state in TargetState::ALL {
                assert_eq!(
                    change_allows(change, state),
                    allowed.contains(&state),
                    "{change:?} from {state}"
                );
            }
            // Nobody but the publisher moves a target it holds.
            assert!(!change_allows(change, Publishing));
        }
    }

    #[test]
    fn a_resolved_target_is_published_or_due_again() {
        let one = r#"[{"id":"1","url":"https://x.test/1"}]"#;
        let cases = [
            // (parts, in flight, planned, url) -> (parts kept, state)
            (
                "[]",
                Some(0),
                Some(1),
                Some("https://x.test/p/9"),
                1,
                TargetState::Published,
            ),
            ("[]", Some(0), Some(1), None, 0, TargetState::Scheduled),
            (
                one,
                Some(1),
                Some(3),
                Some("https://x.test/2"),
                2,
                TargetState::Scheduled,
            ),
            (
                one,
                Some(1),
                Some(2),
                Some("https://x.test/2"),
                2,
                TargetState::Published,
            ),
            (one, Some(1), Some(2), None, 1, TargetState::Scheduled),
            (
                "[]",
                None,
                None,
                Some("https://x.test/3"),
                1,
                TargetState::Published,
            ),
        ];
        for (parts, in_flight, planned, url, kept, state) in cases {
            let (after, got) = resolve_parts(parts, in_flight, planned, url);
            let list: Vec<serde_json::Value> = serde_json::from_str(&after).expect("json");
            assert_eq!((list.len(), got), (kept, state), "{parts} {url:?}");
            if let Some(url) = url {
                assert_eq!(list.last().expect("part")["url"], url);
            }
        }
        assert_eq!(id_from_url("https://x.test/@me/1234?x=1"), "1234");
        assert_eq!(id_from_url("https://matrix.to/#/!room:x/$event"), "$event");
    }

    #[test]
    fn a_stopped_send_is_resent_only_within_the_networks_window() {
        let minute = 60_000;
        let cases = [
            // Mastodon keeps an Idempotency-Key for about an hour.
            (account("mastodon", "{}"), 10 * minute, Takeover::Resend),
            (
                account("mastodon", "{}"),
                24 * 60 * minute,
                Takeover::Uncertain,
            ),
            // Bluesky's record key is ours: always safe.
            (account("bluesky", "{}"), 24 * 60 * minute, Takeover::Resend),
            // Telegram has no key at all.
            (
                account("telegram", r#"{"chat":"@c"}"#),
                minute,
                Takeover::Uncertain,
            ),
            (
                account("no-such-network", "{}"),
                minute,
                Takeover::Uncertain,
            ),
        ];
        for (account, elapsed, expected) in cases {
            assert_eq!(
                takeover(&account, 1_000_000, 1_000_000 + elapsed),
                expected,
                "{} after {elapsed} ms",
                account.network
            );
        }
    }
}
