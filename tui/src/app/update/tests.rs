//! `update` as a pure function: keys in, state and effects out, no terminal, no database.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use postctl_core::model::Schedule;
use ratatui::crossterm::event::{KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::update;
use crate::app::compose::{Field, Measure};
use crate::app::effect::{Effect, Event, Job, Loaded, Write, Written};
use crate::app::fixtures::{self, BROKEN, DRAFT, LAUNCH, UNSURE, WEEKLY, at};
use crate::app::geometry::{calendar_layout, screen};
use crate::app::moves::shift_days;
use crate::app::state::{CalendarMode, PromptFor, QueueTab, State, View};
use crate::keys::{Key, KeyMap};

fn press(state: &mut State, key: &str) -> Vec<Effect> {
    let key = Key::parse(key).unwrap_or_else(|e| panic!("{e}"));
    update(state, Event::Key(KeyEvent::new(key.code, key.mods)))
}

fn presses(state: &mut State, keys: &[&str]) -> Vec<Effect> {
    keys.iter().flat_map(|k| press(state, k)).collect()
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        let code = ratatui::crossterm::event::KeyCode::Char(c);
        let effects = update(state, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        assert!(effects.is_empty(), "typing {c:?} gave {effects:?}");
    }
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The only effect, which must be a write job.
fn the_job(effects: Vec<Effect>) -> Job {
    match effects.as_slice() {
        [Effect::Write(job)] => job.clone(),
        other => panic!("expected one write, got {other:?}"),
    }
}

fn status(state: &State) -> String {
    state
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

// Navigation

#[test]
fn calendar_cursor_moves_by_day_week_and_month() {
    let mut state = fixtures::state(80, 24);
    assert_eq!(state.calendar.cursor, day("2026-11-20"));
    let cases: &[(&str, &str)] = &[
        ("right", "2026-11-21"),
        ("l", "2026-11-22"),
        ("left", "2026-11-21"),
        ("down", "2026-11-28"),
        ("k", "2026-11-21"),
        ("]", "2026-12-21"),
        ("[", "2026-11-21"),
        ("pagedown", "2026-12-21"),
        ("t", "2026-11-20"),
    ];
    for (key, expected) in cases {
        assert!(press(&mut state, key).is_empty());
        assert_eq!(state.calendar.cursor, day(expected), "after {key}");
    }
    // In the week view the month keys move by a week.
    press(&mut state, "w");
    assert_eq!(state.calendar.mode, CalendarMode::Week);
    press(&mut state, "]");
    assert_eq!(state.calendar.cursor, day("2026-11-27"));
    press(&mut state, "w");
    assert_eq!(state.calendar.mode, CalendarMode::Month);
}

#[test]
fn month_keys_clamp_to_the_shorter_month() {
    let mut state = fixtures::state(80, 24);
    state.calendar.cursor = day("2027-01-31");
    press(&mut state, "]");
    assert_eq!(state.calendar.cursor, day("2027-02-28"));
}

#[test]
fn tab_selects_the_posts_of_the_day_and_enter_opens_the_day_then_the_post() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "right");
    assert_eq!(state.calendar.selected, 0);
    press(&mut state, "tab");
    press(&mut state, "tab");
    assert_eq!(state.calendar.selected, 2);
    press(&mut state, "tab");
    assert_eq!(state.calendar.selected, 0, "wraps around the three posts");
    press(&mut state, "backtab");
    assert_eq!(state.calendar.selected, 2);
    // Moving to another day starts at its first post.
    press(&mut state, "right");
    assert_eq!(state.calendar.selected, 0);
    press(&mut state, "left");
    press(&mut state, "enter");
    assert!(state.calendar.day_open);
    press(&mut state, "down");
    assert_eq!(state.calendar.selected, 1, "in an open day ↓ selects posts");
    press(&mut state, "up");
    let effects = press(&mut state, "enter");
    assert!(
        matches!(effects.as_slice(), [Effect::LoadTargets(id), Effect::LoadCurve(curve)] if id == LAUNCH && curve == LAUNCH)
    );
    assert_eq!(
        state.detail.as_ref().map(|d| d.post_id.as_str()),
        Some(LAUNCH)
    );
    press(&mut state, "esc");
    assert!(state.detail.is_none());
    press(&mut state, "esc");
    assert!(!state.calendar.day_open);
}

#[test]
fn number_keys_switch_views_and_help_toggles() {
    let mut state = fixtures::state(80, 24);
    for (key, view) in [
        ("2", View::Queue),
        ("3", View::Accounts),
        ("4", View::Activity),
        ("1", View::Calendar),
    ] {
        press(&mut state, key);
        assert_eq!(state.view, view, "{key}");
    }
    press(&mut state, "?");
    assert_eq!(state.help, Some(0));
    press(&mut state, "down");
    assert_eq!(state.help, Some(1));
    press(&mut state, "esc");
    assert_eq!(state.help, None);
    press(&mut state, "q");
    assert!(state.quit);
}

#[test]
fn queue_lists_filter_and_select() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "2");
    let ids = |state: &State| -> Vec<String> {
        state
            .queue
            .rows
            .iter()
            .map(|&i| state.data.posts[i].id.clone())
            .collect()
    };
    assert_eq!(
        state.queue.rows.len(),
        5,
        "upcoming: launch, lunch, evening, weekly, notes"
    );
    press(&mut state, "tab");
    assert_eq!(state.queue.tab, QueueTab::Drafts);
    assert_eq!(ids(&state), vec![DRAFT.to_string()]);
    press(&mut state, "tab");
    assert_eq!(ids(&state), vec![BROKEN.to_string()]);
    press(&mut state, "right");
    assert_eq!(ids(&state), vec![UNSURE.to_string()]);
    press(&mut state, "right");
    assert_eq!(state.queue.tab, QueueTab::Upcoming);

    // The filter: fuzzy text, @account, #label; applied as it is typed.
    press(&mut state, "/");
    type_text(&mut state, "rel");
    // r-e-l in order: "…calendar view https://example…", "Lunch & learn: thread splitting",
    // "Release notes"; not "Evening recap" or "Tip of the week".
    assert_eq!(state.queue.rows.len(), 3);
    type_text(&mut state, " @tg");
    assert_eq!(ids(&state), vec![fixtures::LUNCH.to_string()]);
    press(&mut state, "enter");
    assert!(state.prompt.is_none());
    assert_eq!(state.queue.filter, "rel @tg");
    press(&mut state, "esc");
    assert_eq!(state.queue.filter, "");
    press(&mut state, "/");
    type_text(&mut state, "#release");
    assert_eq!(ids(&state), vec![LAUNCH.to_string()]);
    press(&mut state, "esc");
    assert_eq!(state.queue.rows.len(), 5, "Esc in the filter clears it");

    // Select two, cancel both in one job.
    presses(&mut state, &["space", "space"]);
    assert_eq!(state.queue.selected.len(), 2);
    assert_eq!(state.queue.cursor, 2);
    let job = the_job(press(&mut state, "c"));
    assert_eq!(job.steps.len(), 2);
    assert!(matches!(&job.steps[0].write, Write::Cancel(id) if id == LAUNCH));
    assert!(state.queue.selected.is_empty());
    assert_eq!(job.done, "cancelled 2 posts");
    // a selects everything shown; again selects nothing.
    press(&mut state, "a");
    assert_eq!(state.queue.selected.len(), 5);
    press(&mut state, "a");
    assert!(state.queue.selected.is_empty());
}

#[test]
fn queue_schedules_a_draft_at_a_typed_time() {
    let mut state = fixtures::state(80, 24);
    presses(&mut state, &["2", "tab", "s"]);
    assert!(
        matches!(&state.prompt, Some(p) if p.purpose == PromptFor::ScheduleAt(vec![DRAFT.to_string()]))
    );
    type_text(&mut state, "yesterday");
    assert!(press(&mut state, "enter").is_empty());
    assert!(state.prompt.is_some(), "a bad time keeps the question open");
    assert!(state.status.as_ref().is_some_and(|s| s.error));
    press(&mut state, "ctrl-u");
    type_text(&mut state, "tomorrow 9am");
    let job = the_job(press(&mut state, "enter"));
    match &job.steps[0].write {
        Write::Update {
            post_id,
            schedule: Some(change),
            ..
        } => {
            assert_eq!(post_id, DRAFT);
            assert_eq!(change.due, at("2026-11-21T08:00:00Z"));
            assert_eq!(change.schedule, Schedule::At);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        job.steps[0].undo.is_empty(),
        "a draft cannot become a draft again"
    );
}

// Compose

#[test]
fn compose_counts_per_network_and_saves_a_draft() {
    let mut state = fixtures::state(80, 24);
    let effects = press(&mut state, "n");
    assert!(
        matches!(effects.as_slice(), [Effect::LoadCapabilities(accounts)] if accounts.len() == 3)
    );
    update(&mut state, Event::Capabilities(fixtures::capabilities()));
    type_text(&mut state, "Hello");
    press(&mut state, "enter");
    type_text(&mut state, "world");
    press(&mut state, "tab");
    assert_eq!(state.compose.as_ref().map(|c| c.focus), Some(Field::To));
    // Accounts are in name order: bsky, masto, tg.
    presses(&mut state, &["space", "right", "space", "right", "space"]);
    let compose = state.compose.as_ref().expect("compose is open");
    assert_eq!(compose.body.text(), "Hello\nworld");
    let measures: Vec<(&str, &Measure)> = compose
        .counters
        .iter()
        .map(|c| (c.account.as_str(), &c.measure))
        .collect();
    assert_eq!(measures.len(), 3);
    assert_eq!(measures[0].0, "bsky");
    assert_eq!(
        measures[0].1,
        &Measure::Measured {
            length: 11,
            max: 300,
            fits: true
        }
    );
    assert!(matches!(measures[2].1, Measure::Unavailable(e) if e.contains("no secret")));
    let job = the_job(press(&mut state, "ctrl-s"));
    match &job.steps[0].write {
        Write::Create(post) => {
            assert_eq!(post.body, "Hello\nworld");
            assert_eq!(post.schedule, Schedule::None);
            assert_eq!(post.targets.len(), 3);
            assert!(post.targets.iter().all(|t| t.due.is_none()));
            assert_eq!(post.targets[0].account_id, "acc-bsky");
        }
        other => panic!("{other:?}"),
    }
    assert!(job.close_compose);
    assert_eq!(job.done, "saved a new draft");
}

#[test]
fn compose_marks_text_over_a_limit_and_previews_the_thread() {
    let mut state = fixtures::state(120, 40);
    press(&mut state, "n");
    update(&mut state, Event::Capabilities(fixtures::capabilities()));
    let long = "This sentence is about forty characters. ".repeat(9);
    type_text(&mut state, long.trim());
    presses(&mut state, &["tab", "space"]);
    let compose = state.compose.as_ref().expect("compose");
    assert!(matches!(
        compose.counters[0].measure,
        Measure::Measured {
            fits: false,
            max: 300,
            ..
        }
    ));
    let preview = compose.preview.as_ref().expect("a preview of bsky");
    let parts = preview.parts.as_ref().expect("a thread");
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|(_, length)| *length <= 300), "{parts:?}");
}

#[test]
fn compose_schedules_with_the_time_field_and_refuses_what_it_cannot_do() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "n");
    // Nothing written yet.
    press(&mut state, "ctrl-t");
    assert!(status(&state).contains("empty"), "{}", status(&state));
    type_text(&mut state, "Launch day");
    assert!(press(&mut state, "ctrl-t").is_empty());
    assert!(status(&state).contains("say where"), "{}", status(&state));
    presses(&mut state, &["tab", "space", "tab"]);
    assert!(press(&mut state, "ctrl-t").is_empty());
    assert!(status(&state).contains("say when"), "{}", status(&state));
    type_text(&mut state, "tomorow 9am");
    assert!(matches!(
        state.compose.as_ref().and_then(|c| c.parsed_when.clone()),
        Some(Err(_))
    ));
    assert!(press(&mut state, "ctrl-t").is_empty());
    assert!(state.status.as_ref().is_some_and(|s| s.error));
    press(&mut state, "ctrl-u");
    type_text(&mut state, "2026-11-19 09:00");
    assert!(
        press(&mut state, "ctrl-t").is_empty(),
        "a past time is refused"
    );
    press(&mut state, "ctrl-u");
    type_text(&mut state, "fri 10:00");
    let job = the_job(press(&mut state, "ctrl-t"));
    match &job.steps[0].write {
        Write::Create(post) => {
            assert_eq!(post.schedule, Schedule::At);
            assert_eq!(post.targets[0].due, Some(at("2026-11-27T09:00:00Z")));
            assert_eq!(post.tz, "Europe/Berlin");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn compose_edits_an_existing_post_and_esc_asks_before_discarding() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "right");
    press(&mut state, "e");
    let compose = state.compose.as_ref().expect("editing");
    assert_eq!(compose.post_id.as_deref(), Some(LAUNCH));
    assert_eq!(compose.when.text, "2026-11-21 09:00");
    assert_eq!(compose.labels.text, "release");
    assert_eq!(compose.checked().count(), 2);
    type_text(&mut state, "!");
    press(&mut state, "esc");
    assert!(state.compose.is_some(), "the first Esc only warns");
    assert!(status(&state).contains("unsaved"));
    let job = the_job(press(&mut state, "ctrl-s"));
    match (&job.steps[0].write, &job.steps[0].undo[..]) {
        (
            Write::Update {
                change,
                schedule: None,
                ..
            },
            [Write::Update { change: undo, .. }],
        ) => {
            assert!(change.body.as_deref().is_some_and(|b| b.ends_with("v1.2!")));
            assert_eq!(
                undo.body.as_deref().map(|b| b.ends_with("v1.2")),
                Some(true)
            );
        }
        other => panic!("{other:?}"),
    }
    // Esc twice discards.
    presses(&mut state, &["esc", "esc"]);
    assert!(state.compose.is_none());
}

#[test]
fn typing_in_compose_is_text_not_commands_but_ctrl_c_quits() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "n");
    type_text(&mut state, "q1?u");
    assert!(!state.quit);
    assert_eq!(
        state.compose.as_ref().map(|c| c.body.text()),
        Some("q1?u".into())
    );
    press(&mut state, "ctrl-c");
    assert!(state.quit);
}

#[test]
fn the_external_editor_replaces_the_text() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "n");
    type_text(&mut state, "draft");
    let effects = press(&mut state, "ctrl-e");
    assert!(matches!(effects.as_slice(), [Effect::ExternalEditor(text)] if text == "draft"));
    update(
        &mut state,
        Event::EditorClosed(Ok("from the editor\n".into())),
    );
    assert_eq!(
        state.compose.as_ref().map(|c| c.body.text()),
        Some("from the editor".into())
    );
    update(&mut state, Event::EditorClosed(Err("no editor".into())));
    assert_eq!(status(&state), "no editor");
}

// Reschedule

#[test]
fn moving_a_post_with_keys_keeps_its_time_and_carries_its_undo() {
    let mut state = fixtures::state(80, 24);
    presses(&mut state, &["right", "m"]);
    assert_eq!(
        state.calendar.moving.as_ref().map(|m| m.post_id.as_str()),
        Some(LAUNCH)
    );
    presses(&mut state, &["right", "down"]);
    let job = the_job(press(&mut state, "enter"));
    assert!(state.calendar.moving.is_none());
    match (&job.steps[0].write, &job.steps[0].undo[..]) {
        (
            Write::Update {
                post_id,
                schedule: Some(forward),
                ..
            },
            [
                Write::Update {
                    schedule: Some(back),
                    ..
                },
            ],
        ) => {
            assert_eq!(post_id, LAUNCH);
            // Eight days later, still 09:00 in Berlin.
            assert_eq!(forward.due, at("2026-11-29T08:00:00Z"));
            assert_eq!(
                forward.per_account.get("acc-masto"),
                Some(&at("2026-11-29T08:00:00Z"))
            );
            assert_eq!(
                forward.per_account.get("acc-bsky"),
                Some(&at("2026-11-29T08:00:00Z"))
            );
            assert_eq!(back.due, at("2026-11-21T08:00:00Z"));
            assert_eq!(
                back.per_account.get("acc-masto"),
                Some(&at("2026-11-21T08:00:00Z"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state.calendar.follow.as_deref(), Some(LAUNCH));
}

#[test]
fn esc_puts_a_picked_up_post_back_and_the_same_day_writes_nothing() {
    let mut state = fixtures::state(80, 24);
    presses(&mut state, &["right", "m", "right"]);
    assert!(press(&mut state, "esc").is_empty());
    assert!(state.calendar.moving.is_none());
    presses(&mut state, &["left", "m"]);
    assert!(press(&mut state, "enter").is_empty());
}

#[test]
fn plus_and_minus_move_by_a_day_and_the_cursor_follows() {
    let mut state = fixtures::state(80, 24);
    presses(&mut state, &["right", "tab"]);
    let job = the_job(press(&mut state, "+"));
    match &job.steps[0].write {
        Write::Update {
            post_id,
            schedule: Some(change),
            ..
        } => {
            assert_eq!(post_id, fixtures::LUNCH);
            assert_eq!(change.due, at("2026-11-22T11:00:00Z"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state.calendar.cursor, day("2026-11-22"));
}

#[test]
fn recurring_posts_and_drafts_are_not_moved_by_days() {
    let mut state = fixtures::state(80, 24);
    state.calendar.cursor = day("2026-11-23");
    let entries = state.data.entries_on(state.calendar.cursor, state.tz);
    assert_eq!(state.data.posts[entries[0].post].id, WEEKLY);
    assert!(press(&mut state, "+").is_empty());
    assert!(status(&state).contains("weekly rule"), "{}", status(&state));
    presses(&mut state, &["2", "tab"]);
    assert!(press(&mut state, "+").is_empty());
    assert!(status(&state).contains("draft"), "{}", status(&state));
}

#[test]
fn moving_across_a_dst_change_keeps_the_wall_clock_time() {
    // 09:00 CEST on Saturday 24 October 2026 is 07:00 UTC; on Sunday it is 09:00 CET.
    assert_eq!(
        shift_days(at("2026-10-24T07:00:00Z"), 1, fixtures::TZ),
        Ok(at("2026-10-25T08:00:00Z"))
    );
    // 02:30 does not exist on 29 March 2026 in Berlin.
    let gap = shift_days(at("2026-03-28T01:30:00Z"), 1, fixtures::TZ);
    assert!(gap.is_err_and(|e| e.contains("02:30")));
}

#[test]
fn dragging_a_post_with_the_mouse_moves_it_to_the_day_released_on() {
    let mut state = fixtures::state(80, 24);
    let layout = calendar_layout(screen(80, 24).main, &state.calendar, state.week_start);
    let cell = |date: &str| {
        layout
            .cells
            .iter()
            .find(|(d, _)| *d == day(date))
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("{date} is not shown"))
    };
    let from = cell("2026-11-21");
    let to = cell("2026-11-24");
    let mouse = |kind, x, y| {
        Event::Mouse(MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    // The first post line of the 21st.
    update(
        &mut state,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            from.x + 1,
            from.y + 1,
        ),
    );
    assert_eq!(state.calendar.cursor, day("2026-11-21"));
    assert!(state.calendar.moving.is_some());
    update(
        &mut state,
        mouse(MouseEventKind::Drag(MouseButton::Left), to.x + 2, to.y + 1),
    );
    assert_eq!(state.calendar.cursor, day("2026-11-24"));
    let job = the_job(update(
        &mut state,
        mouse(MouseEventKind::Up(MouseButton::Left), to.x + 2, to.y + 1),
    ));
    match &job.steps[0].write {
        Write::Update {
            post_id,
            schedule: Some(change),
            ..
        } => {
            assert_eq!(post_id, LAUNCH);
            assert_eq!(change.due, at("2026-11-24T08:00:00Z"));
        }
        other => panic!("{other:?}"),
    }
    // A click without a drag only selects.
    let empty = cell("2026-11-26");
    update(
        &mut state,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            empty.x + 1,
            empty.y,
        ),
    );
    assert!(
        update(
            &mut state,
            mouse(MouseEventKind::Up(MouseButton::Left), empty.x + 1, empty.y)
        )
        .is_empty()
    );
    assert_eq!(state.calendar.cursor, day("2026-11-26"));
}

// Undo

#[test]
fn undo_runs_the_inverse_writes_once() {
    let mut state = fixtures::state(80, 24);
    presses(&mut state, &["right", "m", "right"]);
    let job = the_job(press(&mut state, "enter"));
    let undo_writes = job.steps[0].undo.clone();
    // The runtime reports success: the inverse becomes undoable.
    let effects = update(
        &mut state,
        Event::Written(Written {
            done: job.done.clone(),
            undo: undo_writes.clone(),
            undo_label: job.undo_label.clone(),
            ..Written::default()
        }),
    );
    assert!(matches!(effects.as_slice(), [Effect::Load { .. }]));
    assert!(status(&state).contains("u undoes"), "{}", status(&state));
    assert_eq!(state.undo.len(), 1);
    let undo = the_job(press(&mut state, "u"));
    assert_eq!(undo.steps.len(), 1);
    assert!(matches!(
        &undo.steps[0].write,
        Write::Update { schedule: Some(back), .. } if back.due == at("2026-11-21T08:00:00Z")
    ));
    assert!(undo.steps[0].undo.is_empty());
    assert_eq!(undo.done, format!("undid the move of {}", &LAUNCH[..8]));
    assert!(state.undo.is_empty());
    assert!(press(&mut state, "u").is_empty());
    assert_eq!(status(&state), "nothing to undo");
}

#[test]
fn undoing_a_new_post_deletes_it_and_a_failed_write_keeps_what_succeeded() {
    let mut state = fixtures::state(80, 24);
    update(
        &mut state,
        Event::Written(Written {
            done: "saved a new draft".into(),
            created: vec!["new-id".into()],
            undo_label: "new post".into(),
            close_compose: true,
            ..Written::default()
        }),
    );
    let undo = the_job(press(&mut state, "u"));
    assert!(matches!(&undo.steps[0].write, Write::Delete(id) if id == "new-id"));
    update(
        &mut state,
        Event::Written(Written {
            done: "cancelled 2 posts".into(),
            error: Some("database is locked".into()),
            undo: vec![Write::Cancel("x".into())],
            undo_label: "cancel".into(),
            ..Written::default()
        }),
    );
    assert_eq!(status(&state), "database is locked");
    assert!(state.status.as_ref().is_some_and(|s| s.error));
    assert_eq!(state.undo.len(), 1, "the half that was done can be undone");
}

#[test]
fn cancelling_a_scheduled_post_can_be_undone_to_its_times() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "right");
    let job = the_job(press(&mut state, "c"));
    match (&job.steps[0].write, &job.steps[0].undo[..]) {
        (
            Write::Cancel(id),
            [
                Write::Update {
                    schedule: Some(back),
                    ..
                },
            ],
        ) => {
            assert_eq!(id, LAUNCH);
            assert_eq!(back.per_account.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

// Detail, loading, activity, key overrides

#[test]
fn detail_resolves_an_uncertain_target_with_a_url() {
    let mut state = fixtures::state(80, 24);
    presses(&mut state, &["2", "left"]);
    press(&mut state, "enter");
    update(
        &mut state,
        Event::TargetsLoaded {
            post_id: UNSURE.into(),
            targets: vec![postctl_core::store::TargetStatus {
                state: postctl_core::model::TargetState::Uncertain,
                account: "tg".into(),
                ..fixtures::target_statuses()[1].clone()
            }],
        },
    );
    press(&mut state, "p");
    assert!(
        matches!(&state.prompt, Some(p) if matches!(&p.purpose, PromptFor::ResolvePublished { account, .. } if account == "tg"))
    );
    type_text(&mut state, "t.me/c/1");
    assert!(press(&mut state, "enter").is_empty());
    assert!(status(&state).contains("https://"));
    press(&mut state, "home");
    type_text(&mut state, "https://");
    let job = the_job(press(&mut state, "enter"));
    assert!(matches!(
        &job.steps[0].write,
        Write::Resolve { post_id, account: Some(a), published_url: Some(url) }
            if post_id == UNSURE && a == "tg" && url == "https://t.me/c/1"
    ));
    // N: not published, due again.
    let job = the_job(press(&mut state, "N"));
    assert!(matches!(
        &job.steps[0].write,
        Write::Resolve {
            published_url: None,
            ..
        }
    ));
}

#[test]
fn a_load_replaces_the_data_and_appends_the_activity_it_saw() {
    let mut state = fixtures::state(80, 24);
    let before = state.activity.lines.len();
    let mut loaded = fixtures::loaded();
    loaded.posts.retain(|p| p.id != fixtures::LUNCH);
    loaded.operations = Some(vec![postctl_core::store::Operation {
        seq: 8,
        at: at("2026-11-20T10:00:12Z"),
        entity: "post".into(),
        entity_id: fixtures::LUNCH.into(),
        field: "deleted".into(),
        value: Some("true".into()),
    }]);
    loaded.at = at("2026-11-20T10:00:30Z");
    update(&mut state, Event::Loaded(Box::new(loaded)));
    assert_eq!(state.activity.lines.len(), before + 1);
    let newest = &state.activity.lines[0];
    assert_eq!(newest.at, at("2026-11-20T10:00:12Z"), "when it happened");
    assert!(newest.text.starts_with("removed"), "{}", newest.text);
    assert_eq!(state.activity.last_seq, 8);
    assert_eq!(state.data.entries_on(day("2026-11-21"), state.tz).len(), 2);
    // An empty load appends nothing.
    update(
        &mut state,
        Event::Loaded(Box::new(Loaded {
            operations: Some(vec![]),
            ..fixtures::loaded()
        })),
    );
    assert_eq!(state.activity.lines.len(), before + 1);
}

#[test]
fn key_overrides_change_what_keys_do() {
    let mut state = fixtures::state(80, 24);
    let overrides: BTreeMap<String, String> = [("move".to_string(), "M".to_string())]
        .into_iter()
        .collect();
    state.keys = KeyMap::new(&overrides).0;
    press(&mut state, "right");
    press(&mut state, "m");
    assert!(state.calendar.moving.is_none());
    press(&mut state, "M");
    assert!(state.calendar.moving.is_some());
}

#[test]
fn accounts_verify_one_or_all() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, "3");
    press(&mut state, "down");
    let effects = press(&mut state, "v");
    assert!(
        matches!(effects.as_slice(), [Effect::Verify(a)] if a.len() == 1 && a[0].name == "masto")
    );
    assert!(state.accounts.checking.contains("masto"));
    update(&mut state, Event::Verified(fixtures::health()[0].clone()));
    assert!(state.accounts.checking.is_empty());
    assert!(status(&state).contains("@me@fosstodon.org"));
    let effects = press(&mut state, "V");
    assert!(matches!(effects.as_slice(), [Effect::Verify(a)] if a.len() == 3));
}

#[test]
fn activity_lines_carry_the_time_of_their_change() {
    let mut state = State::new(crate::app::Settings {
        now: at(fixtures::NOW),
        tz: fixtures::TZ,
        week_start: chrono::Weekday::Mon,
        color: false,
        keys: KeyMap::default(),
        default_to: vec![],
        width: 80,
        height: 24,
    });
    update(
        &mut state,
        Event::Loaded(Box::new(Loaded {
            operations: None,
            ..fixtures::loaded()
        })),
    );
    assert!(state.activity.lines.is_empty());
    update(
        &mut state,
        Event::Activity {
            operations: fixtures::operations(),
            posts: Vec::new(),
            short: Default::default(),
        },
    );
    assert!(!state.activity.lines.is_empty());
    for line in &state.activity.lines {
        let op = fixtures::operations()
            .into_iter()
            .find(|op| op.seq == line.seq)
            .expect("the line's operation");
        assert_eq!(line.at, op.at, "{}", line.text);
    }
    assert_eq!(state.activity.last_seq, 7);
    let later = postctl_core::store::Operation {
        seq: 8,
        at: at("2026-11-20T10:05:00Z"),
        entity: "post".into(),
        entity_id: LAUNCH.into(),
        field: "body".into(),
        value: Some("{\"chars\":8}".into()),
    };
    update(
        &mut state,
        Event::Activity {
            operations: vec![later],
            posts: Vec::new(),
            short: Default::default(),
        },
    );
    assert_eq!(state.activity.lines[0].at, at("2026-11-20T10:05:00Z"));
    assert!(
        state.activity.lines[0].text.contains("edited the body"),
        "{}",
        state.activity.lines[0].text
    );
}

// Loading only what is shown

#[test]
fn the_calendar_reads_again_when_its_cursor_leaves_the_month_read() {
    use crate::app::data::Window;
    let mut state = fixtures::state(120, 40);
    let around = Window::around(state.calendar.cursor, state.tz);
    assert_eq!(
        (around.from, around.to),
        (day("2026-10-25"), day("2026-12-08"))
    );
    let effects = update(
        &mut state,
        Event::Loaded(Box::new(fixtures::sliced(around, 9, 9))),
    );
    assert!(effects.is_empty(), "{effects:?}");
    // Within the month: nothing to read.
    assert!(presses(&mut state, &["right", "down"]).is_empty());
    // The next month: a read of the days around it.
    let effects = press(&mut state, "]");
    let next = Window::around(state.calendar.cursor, state.tz);
    assert_eq!(next.from, day("2026-11-24"));
    assert!(
        matches!(effects.as_slice(), [Effect::Load { window, .. }] if *window == next),
        "{effects:?}"
    );

    // With every post read (no window), moving never asks for a read.
    let mut everything = fixtures::state(120, 40);
    assert!(presses(&mut everything, &["]", "]", "["]).is_empty());
}

#[test]
fn a_calendar_day_outside_the_read_window_is_not_shown_half() {
    use crate::app::data::Window;
    let mut state = fixtures::state(120, 40);
    let narrow = Window {
        from: day("2026-11-18"),
        to: day("2026-11-22"),
        ..Window::around(day("2026-11-20"), fixtures::TZ)
    };
    update(
        &mut state,
        Event::Loaded(Box::new(fixtures::sliced(narrow, 9, 9))),
    );
    // NOTES (25 November) was read for the queue, but its day is outside the window.
    assert!(state.data.post(fixtures::NOTES).is_some());
    assert!(
        state
            .data
            .entries_on(day("2026-11-25"), state.tz)
            .is_empty()
    );
    assert_eq!(state.data.entries_on(day("2026-11-21"), state.tz).len(), 3);
}

#[test]
fn the_queue_says_how_many_posts_a_long_list_has() {
    use crate::app::data::Window;
    let mut state = fixtures::state(120, 40);
    let around = Window::around(state.calendar.cursor, state.tz);
    update(
        &mut state,
        Event::Loaded(Box::new(fixtures::sliced(around, 2, 100_000))),
    );
    press(&mut state, "2");
    assert_eq!(state.queue.tab, QueueTab::Upcoming);
    assert_eq!(state.queue.rows.len(), 2);
    assert_eq!(state.data.totals.upcoming, 100_000);
}

// Approvals

fn awaiting(id: &str) -> postctl_core::sync::client::Awaiting {
    postctl_core::sync::client::Awaiting {
        id: id.into(),
        title: None,
        body: "needs a yes".into(),
        scheduled_at: Some("2026-11-21T08:00:00Z".into()),
        zone: "UTC".into(),
        author: Some("eddie".into()),
        targets: Vec::new(),
    }
}

#[test]
fn approvals_approve_at_once_and_reject_with_a_comment() {
    use postctl_core::sync::client::{Decided, Verdict};
    let mut state = fixtures::state(80, 24);
    let effects = press(&mut state, "6");
    assert_eq!(state.view, View::Approvals);
    assert!(
        matches!(effects.as_slice(), [Effect::LoadApprovals]),
        "{effects:?}"
    );
    // Nothing read yet: nothing to decide on.
    update(
        &mut state,
        Event::ApprovalsLoaded(Ok(vec![awaiting("p1"), awaiting("p2")])),
    );
    assert!(!state.approvals.busy);
    press(&mut state, "down");
    let effects = press(&mut state, "a");
    match effects.as_slice() {
        [
            Effect::Decide {
                post_id,
                verdict: Verdict::Approve,
                comment: None,
            },
        ] => {
            assert_eq!(post_id, "p2")
        }
        other => panic!("expected an approval, got {other:?}"),
    }
    // While the server answers, another decision waits.
    assert!(press(&mut state, "x").is_empty());
    let effects = update(
        &mut state,
        Event::Decided(Ok(Decided {
            post_id: "p2".into(),
            decision: "approved".into(),
            by: Some("olive".into()),
            comment: None,
            targets: vec![("masto".into(), "scheduled".into())],
        })),
    );
    assert!(status(&state).contains("approved p2"), "{}", status(&state));
    assert!(
        matches!(effects.as_slice(), [Effect::LoadApprovals]),
        "{effects:?}"
    );
    update(&mut state, Event::ApprovalsLoaded(Ok(vec![awaiting("p1")])));
    assert_eq!(state.approvals.cursor, 0, "the cursor stays on the list");
    // Rejecting asks why; an empty answer is refused; the comment goes to the server.
    assert!(press(&mut state, "x").is_empty());
    assert!(matches!(&state.prompt, Some(p) if p.purpose == PromptFor::RejectComment("p1".into())));
    assert!(press(&mut state, "enter").is_empty());
    assert!(state.prompt.is_some(), "{}", status(&state));
    type_text(&mut state, "add the link");
    let effects = press(&mut state, "enter");
    match effects.as_slice() {
        [
            Effect::Decide {
                post_id,
                verdict: Verdict::Reject,
                comment: Some(c),
            },
        ] => {
            assert_eq!((post_id.as_str(), c.as_str()), ("p1", "add the link"))
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    // The server's refusal is shown as it says it.
    update(
        &mut state,
        Event::Decided(Err("the server refused: this needs the role `admin`".into())),
    );
    assert!(state.status.as_ref().is_some_and(|s| s.error));
    assert!(status(&state).contains("`admin`"));
}
