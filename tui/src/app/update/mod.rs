//! `update(state, event) -> effects`: every decision of the dashboard, as a pure function.
//! Keys become actions through the key map; each screen's actions live in its own module.

mod analytics;
mod approvals;
mod calendar;
mod compose;
mod detail;
mod inbox;
mod lists;
mod prompt;
mod queue;

#[cfg(test)]
mod tests;

use postctl_core::store::Operation;
use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseEventKind};

use super::activity::describe;
use super::data::{Data, Window};
use super::effect::{Effect, Event, Job, Loaded, Step, Verification, Write, Written};
use super::state::{ACTIVITY_KEPT, State, UNDO_KEPT, Undo, View};
use crate::keys::{Action, Key};

/// Applies `event` to `state` and returns what the runtime must do.
pub fn update(state: &mut State, event: Event) -> Vec<Effect> {
    let mut effects = handle(state, event);
    // The calendar's cursor left the days that were read: read the ones around it.
    let wanted = Window::around(state.calendar.cursor, state.tz);
    let loading = effects.iter().any(|e| matches!(e, Effect::Load { .. }));
    if state.data.lacks(&wanted) && !loading {
        effects.push(load(state));
    }
    effects
}

fn handle(state: &mut State, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) => on_key(state, key),
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => act(state, Action::Up),
            MouseEventKind::ScrollDown => act(state, Action::Down),
            _ if state.view == View::Calendar && state.is_bare() => calendar::mouse(state, mouse),
            _ => Vec::new(),
        },
        Event::Resize { width, height } => {
            state.width = width;
            state.height = height;
            Vec::new()
        }
        Event::Tick(now) => {
            state.now = now;
            // "in 2h" in compose means two hours from now, whenever now is.
            compose::refresh(state);
            Vec::new()
        }
        Event::Loaded(loaded) => on_loaded(state, *loaded),
        Event::Activity {
            operations,
            posts,
            short,
        } => {
            state.data.remember(posts, short);
            on_activity(state, &operations);
            Vec::new()
        }
        Event::TargetsLoaded { post_id, targets } => {
            if let Some(detail) = state.detail.as_mut().filter(|d| d.post_id == post_id) {
                detail.cursor = detail.cursor.min(targets.len().saturating_sub(1));
                detail.targets = Some(targets);
            }
            Vec::new()
        }
        Event::AnalyticsLoaded(summary) => {
            let summary = *summary;
            let wanted = state
                .data
                .accounts
                .get(state.analytics.account)
                .map(|a| a.name.as_str());
            // An answer for an account the user has moved on from is dropped.
            let current = match &summary {
                Ok(s) => wanted == Some(s.account.as_str()),
                Err(_) => true,
            };
            if current {
                if let Ok(s) = &summary {
                    state.analytics.cursor =
                        state.analytics.cursor.min(s.top.len().saturating_sub(1));
                }
                state.analytics.summary = Some(summary);
            }
            Vec::new()
        }
        Event::CurveLoaded(curve) => {
            let curve = *curve;
            match state.detail.as_mut() {
                Some(detail) if detail.post_id == curve.post_id => detail.curve = Some(curve),
                _ if state.view == View::Analytics && state.compose.is_none() => {
                    state.analytics.opened = Some(curve);
                }
                _ => {}
            }
            Vec::new()
        }
        Event::Capabilities(capabilities) => {
            state.capabilities = capabilities;
            state.capabilities_requested = false;
            compose::refresh(state);
            Vec::new()
        }
        Event::Verified(verification) => on_verified(state, verification),
        Event::Written(written) => on_written(state, written),
        Event::MediaImported(result) => compose::media_imported(state, result),
        Event::EditorClosed(result) => compose::editor_closed(state, result),
        Event::ApprovalsLoaded(items) => approvals::loaded(state, items),
        Event::Decided(result) => approvals::decided(state, result),
        Event::InboxLoaded(items) => inbox::loaded(state, items),
        Event::Marked(result) => inbox::marked(state, result),
        Event::InboxDue => inbox::refresh(state),
        Event::Sync(status) => {
            state.sync = status.linked.then_some(status);
            Vec::new()
        }
        Event::Failed(message) => {
            state.error(message);
            Vec::new()
        }
    }
}

impl State {
    /// No overlay, compose or detail is open over the view.
    pub fn is_bare(&self) -> bool {
        self.prompt.is_none()
            && self.help.is_none()
            && self.compose.is_none()
            && self.detail.is_none()
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    state.status = None;
    match state.keys.action(state.contexts(), Key::from_event(&key)) {
        Some(action) => act(state, action),
        None if state.prompt.is_some() => prompt::typed(state, key),
        None if state.compose.is_some() => compose::typed(state, key),
        None => Vec::new(),
    }
}

/// Does `action` on whatever is in front.
pub fn act(state: &mut State, action: Action) -> Vec<Effect> {
    if action == Action::ForceQuit {
        state.quit = true;
        return Vec::new();
    }
    if state.prompt.is_some() {
        return prompt::act(state, action);
    }
    if state.help.is_some() {
        return lists::help(state, action).unwrap_or_else(|| global(state, action));
    }
    if state.compose.is_some() {
        return compose::act(state, action);
    }
    if state.detail.is_some() {
        return detail::act(state, action).unwrap_or_else(|| global(state, action));
    }
    let handled = match state.view {
        View::Calendar => calendar::act(state, action),
        View::Queue => queue::act(state, action),
        View::Accounts => lists::accounts(state, action),
        View::Activity => lists::activity(state, action),
        View::Analytics => analytics::act(state, action),
        View::Approvals => approvals::act(state, action),
        View::Inbox => inbox::act(state, action),
    };
    handled.unwrap_or_else(|| global(state, action))
}

/// What every screen that is not taking text does.
fn global(state: &mut State, action: Action) -> Vec<Effect> {
    let show = |state: &mut State, view| {
        state.detail = None;
        state.help = None;
        state.view = view;
        Vec::new()
    };
    match action {
        Action::Quit => {
            state.quit = true;
            Vec::new()
        }
        Action::Help => {
            state.help = match state.help {
                Some(_) => None,
                None => Some(0),
            };
            Vec::new()
        }
        Action::ShowCalendar => show(state, View::Calendar),
        Action::ShowQueue => show(state, View::Queue),
        Action::ShowAccounts => show(state, View::Accounts),
        Action::ShowActivity => show(state, View::Activity),
        Action::ShowAnalytics => {
            show(state, View::Analytics);
            analytics::show(state)
        }
        Action::ShowApprovals => {
            show(state, View::Approvals);
            approvals::show(state)
        }
        Action::ShowInbox => {
            show(state, View::Inbox);
            inbox::show(state)
        }
        Action::NewPost => compose::open_new(state),
        Action::Undo => undo(state),
        Action::Reload => vec![load(state)],
        _ => Vec::new(),
    }
}

fn undo(state: &mut State) -> Vec<Effect> {
    let Some(undo) = state.undo.pop() else {
        state.info("nothing to undo");
        return Vec::new();
    };
    vec![Effect::Write(Job {
        steps: undo
            .writes
            .into_iter()
            .map(|write| Step {
                write,
                undo: Vec::new(),
            })
            .collect(),
        done: format!("undid the {}", undo.label),
        undo_label: String::new(),
        close_compose: false,
        notes: Vec::new(),
    })]
}

/// A read of what the dashboard shows around the calendar's cursor, with the oplog since
/// the last read.
pub fn load(state: &State) -> Effect {
    Effect::Load {
        activity_after: state.activity.last_seq,
        window: Window::around(state.calendar.cursor, state.tz),
    }
}

fn on_loaded(state: &mut State, loaded: Loaded) -> Vec<Effect> {
    state.data = match loaded.slice {
        Some(slice) => Data::sliced(loaded.posts, loaded.accounts, loaded.short, state.tz, slice),
        None => Data::new(loaded.posts, loaded.accounts, loaded.short, state.tz),
    };
    state.data.signed_out = loaded.signed_out;
    state.loaded = true;
    if let Some(operations) = &loaded.operations {
        on_activity(state, operations);
    }
    queue::refresh_rows(state);
    calendar::after_load(state);
    state.accounts.cursor = state
        .accounts
        .cursor
        .min(state.data.accounts.len().saturating_sub(1));
    let mut effects = match &state.detail {
        Some(detail) if state.data.post(&detail.post_id).is_none() => {
            state.detail = None;
            state.info("the post was removed");
            Vec::new()
        }
        Some(detail) => vec![
            Effect::LoadTargets(detail.post_id.clone()),
            Effect::LoadCurve(detail.post_id.clone()),
        ],
        None => Vec::new(),
    };
    if state.view == View::Analytics {
        effects.extend(analytics::load(state));
    }
    effects
}

/// Appends what the oplog says, newest first, each line with the time of its change.
fn on_activity(state: &mut State, operations: &[Operation]) {
    let fresh = operations.len().min(ACTIVITY_KEPT);
    let mut added = 0;
    for op in &operations[operations.len() - fresh..] {
        if let Some(line) = describe(op, &state.data, state.tz) {
            state.activity.lines.push_front(line);
            added += 1;
        }
    }
    if let Some(last) = operations.last() {
        state.activity.last_seq = last.seq;
    }
    state.activity.lines.truncate(ACTIVITY_KEPT);
    if state.activity.scroll > 0 {
        state.activity.scroll = (state.activity.scroll + added).min(ACTIVITY_KEPT);
    }
}

fn on_verified(state: &mut State, verification: Verification) -> Vec<Effect> {
    state.accounts.checking.remove(&verification.account);
    match &verification.result {
        Ok(identity) => state.info(format!(
            "{}: credentials work ({identity})",
            verification.account
        )),
        Err(failure) => state.error(format!("{}: {}", verification.account, failure.message)),
    }
    state
        .accounts
        .health
        .insert(verification.account.clone(), verification);
    Vec::new()
}

fn on_written(state: &mut State, written: Written) -> Vec<Effect> {
    let mut undo = written.undo;
    undo.extend(written.created.iter().map(|id| Write::Delete(id.clone())));
    let undoable = !undo.is_empty();
    if undoable {
        state.undo.push(Undo {
            label: written.undo_label,
            writes: undo,
        });
        if state.undo.len() > UNDO_KEPT {
            state.undo.remove(0);
        }
    }
    match written.error {
        Some(error) => state.error(error),
        None => {
            let mut text = written.done;
            for note in &written.notes {
                text += "; ";
                text += note;
            }
            if undoable {
                text += &format!(" ({} undoes)", state.keys.key_of(Action::Undo));
            }
            state.info(text);
            if written.close_compose {
                state.compose = None;
            }
        }
    }
    vec![load(state)]
}
