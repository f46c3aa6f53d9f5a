//! One-line questions: when to schedule, the URL of an uncertain post, a media path, and
//! the queue filter (applied as it is typed).

use postctl_core::time::{Disambiguation, ParseContext, ensure_not_past, parse_when};
use ratatui::crossterm::event::KeyEvent;

use super::queue;
use crate::app::effect::{Effect, Job, Step, Write};
use crate::app::input::{Edited, LineInput};
use crate::app::moves;
use crate::app::state::{Prompt, PromptFor, State};
use crate::keys::Action;

pub fn open(state: &mut State, purpose: PromptFor, label: &str, text: &str) {
    state.prompt = Some(Prompt {
        purpose,
        label: label.to_string(),
        input: LineInput::new(text),
    });
}

pub fn typed(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(prompt) = state.prompt.as_mut() else {
        return Vec::new();
    };
    if prompt.input.key(key.code, key.modifiers) == Edited::Changed
        && prompt.purpose == PromptFor::Filter
    {
        state.queue.filter = prompt.input.text.clone();
        state.queue.cursor = 0;
        queue::refresh_rows(state);
    }
    Vec::new()
}

pub fn act(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Dismiss => {
            if let Some(prompt) = state.prompt.take()
                && prompt.purpose == PromptFor::Filter
            {
                state.queue.filter.clear();
                queue::refresh_rows(state);
            }
            Vec::new()
        }
        Action::Confirm => confirm(state),
        _ => Vec::new(),
    }
}

fn confirm(state: &mut State) -> Vec<Effect> {
    let Some(prompt) = state.prompt.clone() else {
        return Vec::new();
    };
    let text = prompt.input.text.trim().to_string();
    match prompt.purpose {
        PromptFor::Filter => {
            state.prompt = None;
            Vec::new()
        }
        PromptFor::RejectComment(post_id) => {
            if text.is_empty() {
                state.error("say what the author should change (Esc to keep it waiting)");
                return Vec::new();
            }
            state.prompt = None;
            super::approvals::decide(
                state,
                post_id,
                postctl_core::sync::client::Verdict::Reject,
                Some(text),
            )
        }
        PromptFor::AttachMedia => {
            state.prompt = None;
            if text.is_empty() {
                return Vec::new();
            }
            vec![Effect::ImportMedia(text.into())]
        }
        PromptFor::ResolvePublished { post_id, account } => {
            if !(text.starts_with("https://") || text.starts_with("http://")) {
                state.error("give the post's address, starting with https://");
                return Vec::new();
            }
            state.prompt = None;
            vec![Effect::Write(Job {
                steps: vec![Step {
                    write: Write::Resolve {
                        post_id,
                        account: Some(account.clone()),
                        published_url: Some(text),
                    },
                    undo: Vec::new(),
                }],
                done: format!("{account}: marked published"),
                ..Job::default()
            })]
        }
        PromptFor::ScheduleAt(ids) => {
            let cx = ParseContext {
                now: state.now,
                tz: state.tz,
                disambiguation: Disambiguation::Reject,
            };
            let due = match parse_when(&text, &cx)
                .and_then(|due| ensure_not_past(due, state.now, state.tz).map(|()| due))
            {
                Ok(due) => due,
                Err(e) => {
                    state.error(e.to_string());
                    return Vec::new();
                }
            };
            state.prompt = None;
            let steps: Vec<Step> = ids
                .iter()
                .filter_map(|id| state.data.post(id))
                .map(|post| moves::schedule_at(post, due, state.tz, &state.data))
                .collect();
            let n = steps.len();
            state.queue.selected.clear();
            vec![Effect::Write(Job {
                steps,
                done: format!(
                    "scheduled {} for {}",
                    if n == 1 {
                        "1 post".to_string()
                    } else {
                        format!("{n} posts")
                    },
                    postctl_core::time::format_local(due, state.tz)
                ),
                undo_label: "schedule".into(),
                ..Job::default()
            })]
        }
    }
}
