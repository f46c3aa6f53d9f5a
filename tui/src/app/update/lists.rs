//! The simple screens: accounts (verify now), activity (scroll), the help overlay.

use crate::app::effect::Effect;
use crate::app::geometry::screen;
use crate::app::state::{ACTIVITY_KEPT, State};
use crate::keys::Action;

fn page(state: &State) -> usize {
    usize::from(
        screen(state.width, state.height)
            .main
            .height
            .saturating_sub(3),
    )
    .max(1)
}

pub fn accounts(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let last = state.data.accounts.len().saturating_sub(1);
    let cursor = &mut state.accounts.cursor;
    match action {
        Action::Up => *cursor = cursor.saturating_sub(1),
        Action::Down => *cursor = (*cursor + 1).min(last),
        Action::PageUp => *cursor = 0,
        Action::PageDown => *cursor = last,
        Action::Verify | Action::VerifyAll => {
            let accounts: Vec<_> = if action == Action::Verify {
                state
                    .data
                    .accounts
                    .get(*cursor)
                    .cloned()
                    .into_iter()
                    .collect()
            } else {
                state.data.accounts.clone()
            };
            if accounts.is_empty() {
                state.info("no accounts yet: add one with `postctl accounts add`");
                return Some(Vec::new());
            }
            for account in &accounts {
                state.accounts.checking.insert(account.name.clone());
            }
            state.info(format!("checking {}...", names(&accounts)));
            return Some(vec![Effect::Verify(accounts)]);
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn names(accounts: &[postctl_core::model::Account]) -> String {
    accounts
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn activity(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let last = state
        .activity
        .lines
        .len()
        .saturating_sub(1)
        .min(ACTIVITY_KEPT);
    let page = page(state);
    let scroll = &mut state.activity.scroll;
    match action {
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll = (*scroll + 1).min(last),
        Action::PageUp => *scroll = scroll.saturating_sub(page),
        Action::PageDown => *scroll = (*scroll + page).min(last),
        _ => return None,
    }
    Some(Vec::new())
}

pub fn help(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let page = page(state);
    let last = crate::views::help_line_count(state).saturating_sub(page);
    let scroll = state.help.as_mut()?;
    match action {
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll = (*scroll + 1).min(last),
        Action::PageUp => *scroll = scroll.saturating_sub(page),
        Action::PageDown => *scroll = (*scroll + page).min(last),
        Action::Back | Action::Help => state.help = None,
        _ => return None,
    }
    Some(Vec::new())
}
