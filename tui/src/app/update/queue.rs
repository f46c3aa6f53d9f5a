//! The queue's keys: four lists, a filter, a selection, and actions on several posts.

use postctl_core::model::Post;

use super::{compose, detail, prompt};
use crate::app::effect::{Effect, Job, Step, Write};
use crate::app::geometry::screen;
use crate::app::moves;
use crate::app::state::{PromptFor, QueueTab, State};
use crate::keys::Action;

/// Rows of the queue list on screen (the view has a tab line, a header and a border).
pub fn page(state: &State) -> usize {
    usize::from(
        screen(state.width, state.height)
            .main
            .height
            .saturating_sub(4),
    )
    .max(1)
}

/// Recomputes the rows shown from the tab and the filter, keeping the cursor in range
/// and the selection to posts that still exist.
pub fn refresh_rows(state: &mut State) {
    let lists = &state.data.lists;
    let base = match state.queue.tab {
        QueueTab::Upcoming => &lists.upcoming,
        QueueTab::Drafts => &lists.drafts,
        QueueTab::Failed => &lists.failed,
        QueueTab::Uncertain => &lists.uncertain,
    };
    let filter = Filter::parse(&state.queue.filter);
    state.queue.rows = base
        .iter()
        .copied()
        .filter(|&i| filter.matches(&state.data.posts[i]))
        .collect();
    state.queue.cursor = state
        .queue
        .cursor
        .min(state.queue.rows.len().saturating_sub(1));
    let data = &state.data;
    state.queue.selected.retain(|id| data.post(id).is_some());
}

/// The posts an action applies to: the selection, else the row under the cursor.
fn targets(state: &State) -> Vec<Post> {
    if state.queue.selected.is_empty() {
        state
            .queue
            .rows
            .get(state.queue.cursor)
            .map(|&i| vec![state.data.posts[i].clone()])
            .unwrap_or_default()
    } else {
        state
            .queue
            .selected
            .iter()
            .filter_map(|id| state.data.post(id).cloned())
            .collect()
    }
}

fn switch_tab(state: &mut State, step: usize) {
    let tabs = QueueTab::ALL;
    let at = tabs.iter().position(|t| *t == state.queue.tab).unwrap_or(0);
    state.queue.tab = tabs[(at + step) % tabs.len()];
    state.queue.cursor = 0;
    state.queue.selected.clear();
    refresh_rows(state);
}

pub fn act(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let len = state.queue.rows.len();
    let last = len.saturating_sub(1);
    let cursor = state.queue.cursor;
    match action {
        Action::Up => state.queue.cursor = cursor.saturating_sub(1),
        Action::Down => state.queue.cursor = (cursor + 1).min(last),
        Action::PageUp => state.queue.cursor = cursor.saturating_sub(page(state)),
        Action::PageDown => state.queue.cursor = (cursor + page(state)).min(last),
        Action::Right | Action::NextTab => switch_tab(state, 1),
        Action::Left | Action::PrevTab => switch_tab(state, QueueTab::ALL.len() - 1),
        Action::Filter => {
            let filter = state.queue.filter.clone();
            prompt::open(
                state,
                PromptFor::Filter,
                "Filter (text, @account, #label):",
                &filter,
            );
        }
        Action::Select => {
            if let Some(&i) = state.queue.rows.get(cursor) {
                let id = state.data.posts[i].id.clone();
                if !state.queue.selected.remove(&id) {
                    state.queue.selected.insert(id);
                }
                state.queue.cursor = (cursor + 1).min(last);
            }
        }
        Action::SelectAll => {
            let all: Vec<String> = state
                .queue
                .rows
                .iter()
                .map(|&i| state.data.posts[i].id.clone())
                .collect();
            if all.iter().all(|id| state.queue.selected.contains(id)) {
                state.queue.selected.clear();
            } else {
                state.queue.selected.extend(all);
            }
        }
        Action::Back if !state.queue.selected.is_empty() => state.queue.selected.clear(),
        Action::Back if !state.queue.filter.is_empty() => {
            state.queue.filter.clear();
            refresh_rows(state);
        }
        Action::Open => {
            if let Some(&i) = state.queue.rows.get(cursor) {
                let id = state.data.posts[i].id.clone();
                return Some(detail::open(state, &id));
            }
        }
        Action::Edit => {
            if let Some(&i) = state.queue.rows.get(cursor) {
                let id = state.data.posts[i].id.clone();
                return Some(compose::open_edit(state, &id));
            }
        }
        Action::Cancel => {
            let posts = targets(state);
            let steps = posts
                .iter()
                .map(|p| moves::cancel(p, &state.data))
                .collect();
            return Some(job(state, steps, "cancelled", "cancel"));
        }
        Action::Retry => {
            let steps = targets(state)
                .iter()
                .map(|p| Step {
                    write: Write::Retry(p.id.clone()),
                    undo: Vec::new(),
                })
                .collect();
            return Some(job(state, steps, "retrying", "retry"));
        }
        Action::Later | Action::Earlier => {
            let days = if action == Action::Later { 1 } else { -1 };
            let mut steps = Vec::new();
            let mut refused = Vec::new();
            for post in targets(state) {
                match moves::move_by_days(&post, days, &state.data, state.tz) {
                    Ok(step) => steps.push(step),
                    Err(e) => refused.push(e),
                }
            }
            if steps.is_empty() {
                if let Some(reason) = refused.first() {
                    state.error(reason.clone());
                }
                return Some(Vec::new());
            }
            let verb = if days > 0 {
                "moved a day later"
            } else {
                "moved a day earlier"
            };
            let mut effects = job(state, steps, verb, "move");
            if let Some(Effect::Write(job)) = effects.first_mut() {
                job.notes = refused;
            }
            return Some(effects);
        }
        Action::Schedule => {
            let ids: Vec<String> = targets(state).into_iter().map(|p| p.id).collect();
            if ids.is_empty() {
                return Some(Vec::new());
            }
            let label = format!(
                "Schedule {} at (e.g. tomorrow 09:00, fri 10:00, in 2h):",
                count(ids.len())
            );
            prompt::open(state, PromptFor::ScheduleAt(ids), &label, "");
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 post".into()
    } else {
        format!("{n} posts")
    }
}

/// One write job over several posts; the selection is cleared once it is sent.
fn job(state: &mut State, steps: Vec<Step>, verb: &str, undo: &str) -> Vec<Effect> {
    if steps.is_empty() {
        state.info("no post here; the list is empty");
        return Vec::new();
    }
    let n = steps.len();
    state.queue.selected.clear();
    vec![Effect::Write(Job {
        steps,
        done: format!("{verb} {}", count(n)),
        undo_label: format!("{undo} of {}", count(n)),
        close_compose: false,
        notes: Vec::new(),
    })]
}

/// The queue filter: words match the text fuzzily (their letters in order), `@name`
/// an account, `#label` a label. Every word must match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    text: Vec<Vec<char>>,
    accounts: Vec<Vec<char>>,
    labels: Vec<Vec<char>>,
}

impl Filter {
    pub fn parse(typed: &str) -> Filter {
        let mut filter = Filter::default();
        for word in typed.split_whitespace() {
            let lower = |s: &str| {
                s.chars()
                    .flat_map(char::to_lowercase)
                    .collect::<Vec<char>>()
            };
            if let Some(name) = word.strip_prefix('@').filter(|n| !n.is_empty()) {
                filter.accounts.push(lower(name));
            } else if let Some(label) = word.strip_prefix('#').filter(|l| !l.is_empty()) {
                filter.labels.push(lower(label));
            } else {
                filter.text.push(lower(word));
            }
        }
        filter
    }

    pub fn matches(&self, post: &Post) -> bool {
        self.accounts
            .iter()
            .all(|a| post.targets.iter().any(|t| subsequence(a, &t.account)))
            && self
                .labels
                .iter()
                .all(|l| post.labels.iter().any(|label| subsequence(l, label)))
            && self.text.iter().all(|w| {
                subsequence(w, &post.body)
                    || post
                        .title
                        .as_deref()
                        .is_some_and(|title| subsequence(w, title))
            })
    }
}

/// Whether the letters of `needle` (lowercase) appear in `haystack` in order.
pub fn subsequence(needle: &[char], haystack: &str) -> bool {
    let mut wanted = needle.iter().peekable();
    for c in haystack.chars().flat_map(char::to_lowercase) {
        match wanted.peek() {
            Some(&&w) if w == c => {
                wanted.next();
            }
            Some(_) => {}
            None => return true,
        }
    }
    wanted.peek().is_none()
}
