//! The inbox view: the signed-in user's notifications on the linked server, unread first,
//! marked read one at a time or all at once. It is read through the worker when shown,
//! on ctrl-l, after a marking, and again while it is on screen (the terminal loop sends
//! [`Event::InboxDue`](crate::app::effect::Event::InboxDue) every ten seconds).

use postctl_core::sync::client::InboxItem;

use crate::app::effect::Effect;
use crate::app::state::{State, View};
use crate::keys::Action;

/// Shows the view and reads the inbox.
pub fn show(state: &mut State) -> Vec<Effect> {
    state.inbox.busy = true;
    vec![Effect::LoadInbox]
}

/// Reads again while the view is shown and nothing is on its way.
pub fn refresh(state: &mut State) -> Vec<Effect> {
    if state.view == View::Inbox && !state.inbox.busy {
        show(state)
    } else {
        Vec::new()
    }
}

pub fn act(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let count = match &state.inbox.items {
        Some(Ok(items)) => items.len(),
        _ => 0,
    };
    let last = count.saturating_sub(1);
    let cursor = &mut state.inbox.cursor;
    match action {
        Action::Up => *cursor = cursor.saturating_sub(1),
        Action::Down => *cursor = (*cursor + 1).min(last),
        Action::Reload => return Some(show(state)),
        Action::MarkRead | Action::MarkAllRead => {
            if state.inbox.busy {
                state.info("the server has not answered yet");
                return Some(Vec::new());
            }
            let id = if action == Action::MarkRead {
                match selected(state) {
                    Some(item) if item.read => {
                        state.info("already read");
                        return Some(Vec::new());
                    }
                    Some(item) => Some(item.id.clone()),
                    None => {
                        state.info("no notification here");
                        return Some(Vec::new());
                    }
                }
            } else {
                None
            };
            state.inbox.busy = true;
            return Some(vec![Effect::MarkRead(id)]);
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn selected(state: &State) -> Option<&InboxItem> {
    match &state.inbox.items {
        Some(Ok(items)) => items.get(state.inbox.cursor),
        _ => None,
    }
}

/// Unread first, each part newest first as the server sent them.
pub fn ordered(mut items: Vec<InboxItem>) -> Vec<InboxItem> {
    items.sort_by_key(|item| item.read);
    items
}

pub fn loaded(state: &mut State, items: Result<Vec<InboxItem>, String>) -> Vec<Effect> {
    state.inbox.busy = false;
    let items = items.map(ordered);
    if let Ok(items) = &items {
        state.inbox.cursor = state.inbox.cursor.min(items.len().saturating_sub(1));
    }
    state.inbox.items = Some(items);
    Vec::new()
}

pub fn marked(state: &mut State, result: Result<u64, String>) -> Vec<Effect> {
    state.inbox.busy = false;
    match result {
        Ok(n) => {
            state.info(format!("marked {n} read"));
            show(state)
        }
        Err(message) => {
            state.error(message);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, read: bool) -> InboxItem {
        InboxItem {
            id: id.into(),
            event_type: "post.failed".into(),
            title: id.into(),
            body: String::new(),
            created_at: "2031-01-01T09:00:00Z".into(),
            read,
            read_at: None,
        }
    }

    #[test]
    fn unread_come_first_and_keep_their_order() {
        let got = ordered(vec![
            item("c", true),
            item("b", false),
            item("a", true),
            item("z", false),
        ]);
        let ids: Vec<&str> = got.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["b", "z", "c", "a"]);
    }
}
