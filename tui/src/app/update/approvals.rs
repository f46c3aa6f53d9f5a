//! The approvals view: the posts waiting for approval on the linked server, approved with
//! one key or rejected with a comment typed at the prompt. The server decides who may:
//! its refusal is shown as it says it.

use postctl_core::sync::client::{Decided, Verdict};

use super::prompt;
use crate::app::effect::Effect;
use crate::app::state::{PromptFor, State};
use crate::keys::Action;

/// Shows the view and reads what waits.
pub fn show(state: &mut State) -> Vec<Effect> {
    state.approvals.busy = true;
    vec![Effect::LoadApprovals]
}

pub fn act(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let count = match &state.approvals.items {
        Some(Ok(items)) => items.len(),
        _ => 0,
    };
    let last = count.saturating_sub(1);
    let cursor = &mut state.approvals.cursor;
    match action {
        Action::Up => *cursor = cursor.saturating_sub(1),
        Action::Down => *cursor = (*cursor + 1).min(last),
        Action::PageUp => *cursor = 0,
        Action::PageDown => *cursor = last,
        Action::Reload => return Some(show(state)),
        Action::Approve | Action::Reject => {
            let Some(post_id) = selected(state) else {
                state.info("nothing waits for approval here");
                return Some(Vec::new());
            };
            if state.approvals.busy {
                state.info("the server has not answered yet");
                return Some(Vec::new());
            }
            if action == Action::Reject {
                prompt::open(
                    state,
                    PromptFor::RejectComment(post_id),
                    "Why (the author sees it):",
                    "",
                );
                return Some(Vec::new());
            }
            return Some(decide(state, post_id, Verdict::Approve, None));
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// The selected waiting post's id.
fn selected(state: &State) -> Option<String> {
    match &state.approvals.items {
        Some(Ok(items)) => items.get(state.approvals.cursor).map(|p| p.id.clone()),
        _ => None,
    }
}

/// Asks the server to approve or reject `post_id`.
pub fn decide(
    state: &mut State,
    post_id: String,
    verdict: Verdict,
    comment: Option<String>,
) -> Vec<Effect> {
    state.approvals.busy = true;
    state.info(match verdict {
        Verdict::Approve => "approving…",
        Verdict::Reject => "rejecting…",
    });
    vec![Effect::Decide {
        post_id,
        verdict,
        comment,
    }]
}

pub fn loaded(
    state: &mut State,
    items: Result<Vec<postctl_core::sync::client::Awaiting>, String>,
) -> Vec<Effect> {
    state.approvals.busy = false;
    if let Ok(items) = &items {
        state.approvals.cursor = state.approvals.cursor.min(items.len().saturating_sub(1));
    }
    state.approvals.items = Some(items);
    Vec::new()
}

pub fn decided(state: &mut State, result: Result<Decided, String>) -> Vec<Effect> {
    state.approvals.busy = false;
    match result {
        Ok(decided) => {
            let short: String = decided.post_id.chars().take(13).collect();
            let states: Vec<String> = decided
                .targets
                .iter()
                .map(|(account, s)| format!("{account} {s}"))
                .collect();
            state.info(format!(
                "{} {short} ({})",
                decided.decision,
                states.join(", ")
            ));
            show(state)
        }
        Err(message) => {
            state.error(message);
            Vec::new()
        }
    }
}
