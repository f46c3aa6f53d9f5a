//! Compose and edit: typing into the fields, and saving as a draft or scheduled.

use postctl_core::model::{MediaRef, Schedule};
use postctl_core::store::{NewPost, NewTarget, PostChange, ScheduleChange};
use postctl_core::time::ensure_not_past;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::prompt;
use crate::app::compose::{Compose, Field};
use crate::app::effect::{Effect, Job, Step, Write};
use crate::app::input::Edited;
use crate::app::moves;
use crate::app::state::{PromptFor, State};
use crate::keys::Action;

pub fn open_new(state: &mut State) -> Vec<Effect> {
    let compose = Compose::new_post(&state.data.accounts, &state.default_to);
    open(state, compose)
}

pub fn open_edit(state: &mut State, post_id: &str) -> Vec<Effect> {
    let Some(post) = state.data.post(post_id) else {
        return Vec::new();
    };
    let compose = Compose::edit(post, &state.data.accounts, state.tz);
    open(state, compose)
}

fn open(state: &mut State, compose: Compose) -> Vec<Effect> {
    state.compose = Some(compose);
    refresh(state);
    let missing = state
        .data
        .accounts
        .iter()
        .any(|a| !state.capabilities.contains_key(&a.name));
    if missing && !state.capabilities_requested {
        state.capabilities_requested = true;
        return vec![Effect::LoadCapabilities(state.data.accounts.clone())];
    }
    Vec::new()
}

/// Recomputes the counters, the preview and the parsed time.
pub fn refresh(state: &mut State) {
    if let Some(compose) = state.compose.as_mut() {
        compose.refresh(&state.capabilities, state.now, state.tz);
    }
}

pub fn act(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(compose) = state.compose.as_mut() else {
        return Vec::new();
    };
    if action != Action::Dismiss {
        compose.discard_armed = false;
    }
    let step_field = |compose: &mut Compose, step: usize| {
        let fields = Field::ALL;
        let at = fields.iter().position(|f| *f == compose.focus).unwrap_or(0);
        compose.focus = fields[(at + step) % fields.len()];
    };
    match action {
        Action::SaveDraft => return save(state, false),
        Action::SchedulePost => return save(state, true),
        Action::ExternalEditor => return vec![Effect::ExternalEditor(compose.body.text())],
        Action::NextField => step_field(compose, 1),
        Action::PrevField => step_field(compose, Field::ALL.len() - 1),
        Action::NextPreview => {
            compose.preview_index += 1;
            refresh(state);
        }
        Action::AttachMedia => {
            prompt::open(state, PromptFor::AttachMedia, "Attach the file at:", "");
        }
        Action::Dismiss => {
            if compose.dirty && !compose.discard_armed {
                compose.discard_armed = true;
                let (esc, save) = (
                    state.keys.key_of(Action::Dismiss),
                    state.keys.key_of(Action::SaveDraft),
                );
                state.info(format!(
                    "unsaved changes: {esc} again discards them, {save} saves"
                ));
            } else {
                state.compose = None;
            }
        }
        _ => {}
    }
    Vec::new()
}

pub fn typed(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(compose) = state.compose.as_mut() else {
        return Vec::new();
    };
    compose.discard_armed = false;
    let (code, mods) = (key.code, key.modifiers);
    let edited = match compose.focus {
        Field::Body => compose.body.key(code, mods),
        Field::When => compose.when.key(code, mods),
        Field::Labels => compose.labels.key(code, mods),
        Field::To => to_key(compose, code),
        Field::Media => media_key(compose, code, mods),
    };
    if edited == Edited::Changed {
        compose.dirty = true;
        refresh(state);
    }
    Vec::new()
}

fn to_key(compose: &mut Compose, code: KeyCode) -> Edited {
    let last = compose.to.len().saturating_sub(1);
    match code {
        KeyCode::Left | KeyCode::Up => {
            compose.to_cursor = compose.to_cursor.saturating_sub(1);
            Edited::Moved
        }
        KeyCode::Right | KeyCode::Down => {
            compose.to_cursor = (compose.to_cursor + 1).min(last);
            Edited::Moved
        }
        KeyCode::Char(' ') | KeyCode::Enter => match compose.to.get_mut(compose.to_cursor) {
            Some(choice) => {
                choice.checked = !choice.checked;
                Edited::Changed
            }
            None => Edited::Ignored,
        },
        _ => Edited::Ignored,
    }
}

/// In the media field: ↑↓ choose a file, typing writes its alt text, Delete removes it.
fn media_key(compose: &mut Compose, code: KeyCode, mods: KeyModifiers) -> Edited {
    let last = compose.media.len().saturating_sub(1);
    let Some(media) = compose.media.get_mut(compose.media_cursor) else {
        return Edited::Ignored;
    };
    match code {
        KeyCode::Up => {
            compose.media_cursor = compose.media_cursor.saturating_sub(1);
            Edited::Moved
        }
        KeyCode::Down => {
            compose.media_cursor = (compose.media_cursor + 1).min(last);
            Edited::Moved
        }
        KeyCode::Delete => {
            compose.media.remove(compose.media_cursor);
            compose.media_cursor = compose
                .media_cursor
                .min(compose.media.len().saturating_sub(1));
            Edited::Changed
        }
        KeyCode::Backspace => {
            let mut alt = media.alt.take().unwrap_or_default();
            alt.pop();
            media.alt = Some(alt).filter(|a| !a.is_empty());
            Edited::Changed
        }
        KeyCode::Char(c) if !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
            media.alt.get_or_insert_with(String::new).push(c);
            Edited::Changed
        }
        _ => Edited::Ignored,
    }
}

pub fn media_imported(state: &mut State, result: Result<MediaRef, String>) -> Vec<Effect> {
    match (result, state.compose.as_mut()) {
        (Ok(media), Some(compose)) => {
            let name = media.file_name.clone();
            compose.media.push(media);
            compose.media_cursor = compose.media.len() - 1;
            compose.focus = Field::Media;
            compose.dirty = true;
            state.info(format!(
                "attached {name}; type its alt text (what it shows) in Media"
            ));
        }
        (Err(e), _) => state.error(e),
        (Ok(_), None) => {}
    }
    Vec::new()
}

pub fn editor_closed(state: &mut State, result: Result<String, String>) -> Vec<Effect> {
    match (result, state.compose.as_mut()) {
        (Ok(text), Some(compose)) => {
            let text = text.trim_end().to_string();
            if text != compose.body.text() {
                compose.body = crate::app::input::TextArea::new(&text);
                compose.dirty = true;
            }
            refresh(state);
        }
        (Err(e), _) => state.error(e),
        (Ok(_), None) => {}
    }
    Vec::new()
}

/// Saves the post being composed: a new draft or post, or the changes to one; scheduled
/// at the time in When if `schedule`.
fn save(state: &mut State, schedule: bool) -> Vec<Effect> {
    let Some(compose) = state.compose.as_ref() else {
        return Vec::new();
    };
    let body = compose.body.text().trim_end().to_string();
    if body.trim().is_empty() && compose.media.is_empty() {
        state.error("the text is empty; write the post first");
        return Vec::new();
    }
    let mut account_ids = Vec::new();
    let mut gone = None;
    for choice in compose.checked() {
        match state.data.account_id(&choice.name) {
            Some(id) => account_ids.push(id.to_string()),
            None => gone = Some(choice.name.clone()),
        }
    }
    if let Some(name) = gone {
        state.error(format!("account {name} no longer exists; untick it in To"));
        return Vec::new();
    }
    let due = if schedule {
        if account_ids.is_empty() {
            state.error("say where to publish: tick accounts in To (Tab to it, Space ticks)");
            return Vec::new();
        }
        match &compose.parsed_when {
            None => {
                state.error("say when in the When field, e.g. tomorrow 09:00, fri 10:00 or in 2h");
                return Vec::new();
            }
            Some(Err(e)) => {
                state.error(e.clone());
                return Vec::new();
            }
            Some(Ok(due)) => {
                if let Err(e) = ensure_not_past(*due, state.now, state.tz) {
                    state.error(e.to_string());
                    return Vec::new();
                }
                Some(*due)
            }
        }
    } else {
        None
    };
    let when = due
        .map(|d| postctl_core::time::format_local(d, state.tz))
        .unwrap_or_default();
    let labels = compose.label_list();
    let media = compose.media.clone();
    let job = match (&compose.post_id, &compose.original) {
        (Some(post_id), Some(original)) => {
            let short = state.data.short_id(post_id).to_string();
            let mut undo = vec![Write::Update {
                post_id: post_id.clone(),
                change: PostChange {
                    body: Some(original.body.clone()),
                    title: None,
                    labels: Some(original.labels.clone()),
                    media: Some(original.media.clone()),
                    accounts: None,
                },
                schedule: None,
            }];
            if let Some(due) = due {
                undo.extend(moves::schedule_at(original, due, state.tz, &state.data).undo);
            }
            Job {
                steps: vec![Step {
                    write: Write::Update {
                        post_id: post_id.clone(),
                        change: PostChange {
                            body: Some(body),
                            title: None,
                            labels: Some(labels),
                            media: Some(media),
                            accounts: Some(account_ids),
                        },
                        schedule: due.map(|due| ScheduleChange {
                            schedule: Schedule::At,
                            due,
                            tz: state.tz.name().to_string(),
                            per_account: Default::default(),
                        }),
                    },
                    undo,
                }],
                done: match due {
                    Some(_) => format!("scheduled {short} for {when}"),
                    None => format!("saved {short}"),
                },
                undo_label: format!("edit of {short}"),
                close_compose: true,
                notes: Vec::new(),
            }
        }
        _ => Job {
            steps: vec![Step {
                write: Write::Create(Box::new(NewPost {
                    body,
                    title: None,
                    labels,
                    media,
                    tz: state.tz.name().to_string(),
                    schedule: if due.is_some() {
                        Schedule::At
                    } else {
                        Schedule::None
                    },
                    thread: Default::default(),
                    targets: account_ids
                        .into_iter()
                        .map(|account_id| NewTarget { account_id, due })
                        .collect(),
                })),
                undo: Vec::new(),
            }],
            done: match due {
                Some(_) => format!("scheduled a new post for {when}"),
                None => "saved a new draft".to_string(),
            },
            undo_label: "new post".into(),
            close_compose: true,
            notes: Vec::new(),
        },
    };
    vec![Effect::Write(job)]
}
