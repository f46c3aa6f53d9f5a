//! The analytics view: ←/→ choose the account, ↑/↓ a top post, Enter opens its counters
//! curve, Esc closes it.

use crate::app::effect::Effect;
use crate::app::state::State;
use crate::keys::Action;

/// Shows the view and reads the chosen account's analytics.
pub fn show(state: &mut State) -> Vec<Effect> {
    state.analytics.opened = None;
    load(state)
}

/// Reads the chosen account's analytics again (nothing without accounts).
pub fn load(state: &mut State) -> Vec<Effect> {
    let count = state.data.accounts.len();
    state.analytics.account = state.analytics.account.min(count.saturating_sub(1));
    match state.data.accounts.get(state.analytics.account) {
        Some(account) => vec![Effect::LoadAnalytics {
            account: account.name.clone(),
            tz: state.tz,
        }],
        None => {
            state.analytics.summary = None;
            Vec::new()
        }
    }
}

pub fn act(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let count = state.data.accounts.len();
    let top = match &state.analytics.summary {
        Some(Ok(summary)) => summary.top.len(),
        _ => 0,
    };
    let analytics = &mut state.analytics;
    let effects = match action {
        Action::Back if analytics.opened.is_some() => {
            analytics.opened = None;
            Vec::new()
        }
        Action::Left | Action::Right if count > 0 => {
            analytics.account = if action == Action::Left {
                (analytics.account + count - 1) % count
            } else {
                (analytics.account + 1) % count
            };
            analytics.cursor = 0;
            analytics.opened = None;
            analytics.summary = None;
            load(state)
        }
        Action::Up => {
            analytics.cursor = analytics.cursor.saturating_sub(1);
            Vec::new()
        }
        Action::Down => {
            analytics.cursor = (analytics.cursor + 1).min(top.saturating_sub(1));
            Vec::new()
        }
        Action::Open => match &analytics.summary {
            Some(Ok(summary)) => match summary.top.get(analytics.cursor) {
                Some(post) => vec![Effect::LoadCurve(post.post_id.clone())],
                None => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => return None,
    };
    Some(effects)
}
