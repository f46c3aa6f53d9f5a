//! The calendar's keys and mouse: moving the cursor by day, week and month, selecting a
//! post of the day, and moving posts to another day.

use chrono::{Duration, Months, NaiveDate};
use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::{compose, detail};
use crate::app::data::Entry;
use crate::app::effect::{Effect, Job};
use crate::app::geometry::{calendar_layout, hit, screen};
use crate::app::moves;
use crate::app::state::{CalendarMode, Moving, State};
use crate::keys::Action;

/// The cursor day's posts.
pub fn day_entries(state: &State) -> Vec<Entry> {
    state.data.entries_on(state.calendar.cursor, state.tz)
}

fn selected_post_id(state: &State) -> Option<String> {
    let entries = day_entries(state);
    let entry = entries.get(state.calendar.selected)?;
    Some(state.data.posts[entry.post].id.clone())
}

fn go_to(state: &mut State, day: NaiveDate) {
    if day != state.calendar.cursor {
        state.calendar.cursor = day;
        state.calendar.selected = 0;
    }
}

fn shift_month(day: NaiveDate, months: i32) -> NaiveDate {
    let moved = if months >= 0 {
        day.checked_add_months(Months::new(months.unsigned_abs()))
    } else {
        day.checked_sub_months(Months::new(months.unsigned_abs()))
    };
    moved.unwrap_or(day)
}

pub fn act(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let cursor = state.calendar.cursor;
    let day_open = state.calendar.day_open;
    let count = day_entries(state).len();
    match action {
        Action::Left => go_to(state, cursor - Duration::days(1)),
        Action::Right => go_to(state, cursor + Duration::days(1)),
        Action::Up if day_open && state.calendar.moving.is_none() => {
            state.calendar.selected = state.calendar.selected.saturating_sub(1);
        }
        Action::Down if day_open && state.calendar.moving.is_none() => {
            state.calendar.selected = (state.calendar.selected + 1).min(count.saturating_sub(1));
        }
        Action::Up => go_to(state, cursor - Duration::days(7)),
        Action::Down => go_to(state, cursor + Duration::days(7)),
        Action::PrevMonth | Action::NextMonth => {
            let forward = action == Action::NextMonth;
            let day = match state.calendar.mode {
                CalendarMode::Month => shift_month(cursor, if forward { 1 } else { -1 }),
                CalendarMode::Week => cursor + Duration::days(if forward { 7 } else { -7 }),
            };
            go_to(state, day);
        }
        Action::Today => go_to(state, state.today()),
        Action::ToggleWeek => {
            state.calendar.mode = match state.calendar.mode {
                CalendarMode::Month => CalendarMode::Week,
                CalendarMode::Week => CalendarMode::Month,
            };
            state.calendar.day_open = false;
        }
        Action::NextPost | Action::PrevPost => {
            if count > 0 {
                let step = if action == Action::NextPost {
                    1
                } else {
                    count - 1
                };
                state.calendar.selected = (state.calendar.selected + step) % count;
            }
        }
        Action::Open if state.calendar.moving.is_some() => return Some(drop_post(state)),
        Action::Open if day_open => {
            return Some(match selected_post_id(state) {
                Some(id) => detail::open(state, &id),
                None => Vec::new(),
            });
        }
        Action::Open => state.calendar.day_open = true,
        Action::Back if state.calendar.moving.is_some() => {
            state.calendar.moving = None;
            state.info("put back");
        }
        Action::Back => state.calendar.day_open = false,
        Action::MovePost if state.calendar.moving.is_some() => return Some(drop_post(state)),
        Action::MovePost => pick_up(state, false),
        Action::Later | Action::Earlier => {
            let days = if action == Action::Later { 1 } else { -1 };
            return Some(move_selected(state, days));
        }
        Action::Edit => {
            return Some(match selected_post_id(state) {
                Some(id) => compose::open_edit(state, &id),
                None => no_post(state),
            });
        }
        Action::Cancel => {
            return Some(
                match selected_post_id(state).and_then(|id| state.data.post(&id).cloned()) {
                    Some(post) => {
                        let short = state.data.short_id(&post.id).to_string();
                        vec![Effect::Write(Job {
                            steps: vec![moves::cancel(&post, &state.data)],
                            done: format!("cancelled {short}"),
                            undo_label: format!("cancel of {short}"),
                            close_compose: false,
                            notes: Vec::new(),
                        })]
                    }
                    None => no_post(state),
                },
            );
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn no_post(state: &mut State) -> Vec<Effect> {
    state.info(format!(
        "no post selected: pick a day that has posts ({} selects one)",
        state.keys.key_of(Action::NextPost)
    ));
    Vec::new()
}

fn pick_up(state: &mut State, by_mouse: bool) {
    let Some(post_id) = selected_post_id(state) else {
        no_post(state);
        return;
    };
    if !by_mouse {
        state.info(format!(
            "moving {}: choose the day with the arrows, {} drops it, {} puts it back",
            state.data.short_id(&post_id),
            state.keys.key_of(Action::Open),
            state.keys.key_of(Action::Back)
        ));
    }
    state.calendar.moving = Some(Moving {
        post_id,
        from: state.calendar.cursor,
        by_mouse,
    });
}

/// Drops the post being moved on the cursor's day.
fn drop_post(state: &mut State) -> Vec<Effect> {
    let Some(moving) = state.calendar.moving.take() else {
        return Vec::new();
    };
    let days = (state.calendar.cursor - moving.from).num_days();
    if days == 0 {
        if !moving.by_mouse {
            state.info("put back");
        }
        return Vec::new();
    }
    move_post(state, &moving.post_id, days)
}

fn move_selected(state: &mut State, days: i64) -> Vec<Effect> {
    match selected_post_id(state) {
        Some(id) => {
            let effects = move_post(state, &id, days);
            if !effects.is_empty() {
                go_to(state, state.calendar.cursor + Duration::days(days));
            }
            effects
        }
        None => no_post(state),
    }
}

/// The write that moves a post by `days`, selected again on its new day after the reload.
fn move_post(state: &mut State, post_id: &str, days: i64) -> Vec<Effect> {
    let Some(post) = state.data.post(post_id) else {
        return Vec::new();
    };
    match moves::move_by_days(post, days, &state.data, state.tz) {
        Ok(step) => {
            let short = state.data.short_id(post_id).to_string();
            let when = post
                .due
                .and_then(|due| moves::shift_days(due, days, state.tz).ok())
                .map(|due| postctl_core::time::format_local(due, state.tz))
                .unwrap_or_default();
            state.calendar.follow = Some(post_id.to_string());
            vec![Effect::Write(Job {
                steps: vec![step],
                done: format!("moved {short} to {when}"),
                undo_label: format!("move of {short}"),
                close_compose: false,
                notes: Vec::new(),
            })]
        }
        Err(e) => {
            state.error(e);
            Vec::new()
        }
    }
}

/// After a reload: keep the selection inside the day, on the post just moved if any.
pub fn after_load(state: &mut State) {
    let entries = day_entries(state);
    if let Some(id) = state.calendar.follow.take()
        && let Some(i) = entries
            .iter()
            .position(|e| state.data.posts[e.post].id == id)
    {
        state.calendar.selected = i;
    }
    state.calendar.selected = state.calendar.selected.min(entries.len().saturating_sub(1));
    if let Some(moving) = &state.calendar.moving
        && state.data.post(&moving.post_id).is_none()
    {
        state.calendar.moving = None;
    }
}

/// Clicks select a day or a post; dragging a post to another day moves it there.
pub fn mouse(state: &mut State, mouse: MouseEvent) -> Vec<crate::app::effect::Effect> {
    let layout = calendar_layout(
        screen(state.width, state.height).main,
        &state.calendar,
        state.week_start,
    );
    let target = hit(&layout, &state.calendar, mouse.column, mouse.row);
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            let Some((day, entry)) = target else {
                return Vec::new();
            };
            go_to(state, day);
            if let Some(i) = entry.filter(|i| *i < day_entries(state).len()) {
                state.calendar.selected = i;
                pick_up(state, true);
            }
            Vec::new()
        }
        MouseEventKind::Drag(MouseButton::Left) => {
            if let (Some(moving), Some((day, _))) = (&state.calendar.moving, target)
                && moving.by_mouse
            {
                state.calendar.cursor = day;
            }
            Vec::new()
        }
        MouseEventKind::Up(MouseButton::Left) => {
            if state.calendar.moving.as_ref().is_some_and(|m| m.by_mouse) {
                drop_post(state)
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}
