//! Every view drawn into ratatui's TestBackend at 80x24 and 120x40 from fixed data and a
//! fixed clock, compared with the committed snapshots (src/views/snapshots/).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
use ratatui::style::Color;

use super::draw;
use crate::app::effect::Event;
use crate::app::fixtures::{self, BROKEN};
use crate::app::state::State;
use crate::app::{Settings, update};
use crate::keys::{Key, KeyMap};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn terminal(state: &State) -> Terminal<TestBackend> {
    let mut terminal =
        Terminal::new(TestBackend::new(state.width, state.height)).expect("a test terminal");
    terminal.draw(|frame| draw(frame, state)).expect("draw");
    terminal
}

fn press(state: &mut State, keys: &[&str]) {
    for key in keys {
        let key = Key::parse(key).unwrap_or_else(|e| panic!("{e}"));
        update(state, Event::Key(KeyEvent::new(key.code, key.mods)));
    }
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        let code = ratatui::crossterm::event::KeyCode::Char(c);
        update(state, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

/// Snapshots `prepare`d state at both sizes as `name_80x24` and `name_120x40`.
fn snapshot(name: &str, prepare: impl Fn(&mut State)) {
    for (width, height) in SIZES {
        let mut state = fixtures::state(width, height);
        prepare(&mut state);
        let terminal = terminal(&state);
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn calendar_month() {
    snapshot("calendar_month", |state| press(state, &["right"]));
}

#[test]
fn calendar_week() {
    snapshot("calendar_week", |state| {
        press(state, &["w", "right", "tab"])
    });
}

#[test]
fn calendar_day_open() {
    snapshot("calendar_day", |state| {
        press(state, &["right", "enter", "down"])
    });
}

#[test]
fn calendar_moving_a_post() {
    snapshot("calendar_moving", |state| {
        press(state, &["right", "m", "right", "right"])
    });
}

#[test]
fn queue_upcoming_with_a_selection() {
    snapshot("queue_upcoming", |state| {
        press(state, &["2", "space", "down"])
    });
}

#[test]
fn queue_failed() {
    snapshot("queue_failed", |state| press(state, &["2", "tab", "tab"]));
}

#[test]
fn queue_filter_prompt() {
    snapshot("queue_filter", |state| {
        press(state, &["2", "/"]);
        type_text(state, "rel @masto");
    });
}

fn compose(state: &mut State, text: &str) {
    press(state, &["n"]);
    update(state, Event::Capabilities(fixtures::capabilities()));
    type_text(state, text);
    press(
        state,
        &["tab", "space", "right", "space", "right", "space", "tab"],
    );
    type_text(state, "tomorrow 9am");
    press(state, &["tab"]);
    type_text(state, "release, launch");
}

#[test]
fn compose_new_post() {
    snapshot("compose", |state| {
        compose(
            state,
            "Shipped v1.2 🎉 with the new calendar view https://example.com/v1.2",
        );
    });
}

#[test]
fn compose_over_the_limit_shows_the_thread() {
    snapshot("compose_thread", |state| {
        compose(state, &"A sentence that makes the post long. ".repeat(10));
    });
}

#[test]
fn post_detail() {
    snapshot("detail", |state| {
        crate::app::act(state, crate::keys::Action::ShowQueue);
        press(state, &["tab", "tab", "enter"]);
        update(
            state,
            Event::TargetsLoaded {
                post_id: BROKEN.into(),
                targets: fixtures::target_statuses(),
            },
        );
        press(state, &["down"]);
    });
}

#[test]
fn accounts_with_health() {
    snapshot("accounts", |state| {
        press(state, &["3"]);
        for verification in fixtures::health() {
            update(state, Event::Verified(verification));
        }
        press(state, &["down"]);
    });
}

#[test]
fn activity() {
    snapshot("activity", |state| press(state, &["4"]));
}

fn waiting() -> Vec<postctl_core::sync::client::Awaiting> {
    use postctl_core::sync::client::{Awaiting, AwaitingTarget};
    let target = |account: &str| AwaitingTarget {
        account: account.into(),
        network: "mastodon".into(),
        state: "awaiting_approval".into(),
    };
    vec![
        Awaiting {
            id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            title: None,
            body: "Launch day: version 2 is out\nwith notes".into(),
            scheduled_at: Some("2026-11-21T08:00:00.000Z".into()),
            zone: "Europe/Berlin".into(),
            author: Some("eddie".into()),
            targets: vec![target("masto"), target("bsky")],
        },
        Awaiting {
            id: "0193a1b2-d000-7e5f-8a9b-0c1d2e3f4a5c".into(),
            title: Some("Webinar".into()),
            body: "Join us".into(),
            scheduled_at: Some("2026-11-23T15:30:00.000Z".into()),
            zone: "Europe/Berlin".into(),
            author: Some("eddie".into()),
            targets: vec![target("masto")],
        },
    ]
}

#[test]
fn approvals_waiting() {
    snapshot("approvals_waiting", |state| {
        press(state, &["6"]);
        update(state, Event::ApprovalsLoaded(Ok(waiting())));
        press(state, &["down"]);
    });
}

#[test]
fn approvals_not_linked() {
    snapshot("approvals_not_linked", |state| {
        press(state, &["6"]);
        update(
            state,
            Event::ApprovalsLoaded(Err(
                "this database is not linked to a server: sign in with `postctl login URL` first"
                    .into(),
            )),
        );
    });
}

#[test]
fn inbox_unread_first() {
    use postctl_core::sync::client::InboxItem;
    let item = |id: &str, title: &str, read: bool| InboxItem {
        id: id.into(),
        event_type: "post.failed".into(),
        title: title.into(),
        body: format!("{title}\nWhy: HTTP 500\nWorkspace: acme"),
        created_at: "2026-11-20T09:30:00Z".into(),
        read,
        read_at: None,
    };
    snapshot("inbox_unread_first", |state| {
        press(state, &["7"]);
        update(
            state,
            Event::InboxLoaded(Ok(vec![
                item("3", "[acme] Failed on masto: “Read already”", true),
                item("2", "[acme] Failed on masto: “Launch day”", false),
                item(
                    "1",
                    "[acme] Webhook endpoint disabled: https://hooks.example.org (w1)",
                    false,
                ),
            ])),
        );
        press(state, &["down"]);
    });
}

#[test]
fn help_overlay() {
    snapshot("help", |state| press(state, &["?"]));
}

#[test]
fn a_fresh_install_explains_itself() {
    for (width, height) in SIZES {
        let mut state = State::new(Settings {
            now: fixtures::at(fixtures::NOW),
            tz: fixtures::TZ,
            week_start: chrono::Weekday::Mon,
            color: true,
            keys: KeyMap::default(),
            default_to: vec![],
            width,
            height,
        });
        let loading = terminal(&state);
        insta::assert_snapshot!(format!("loading_{width}x{height}"), loading.backend());
        update(&mut state, Event::Loaded(Box::default()));
        let empty = terminal(&state);
        insta::assert_snapshot!(format!("empty_{width}x{height}"), empty.backend());
    }
}

/// A named way to get to a screen.
type Screen = (&'static str, Box<dyn Fn(&mut State)>);

/// Every screen the snapshots cover, for the tests below.
fn screens() -> Vec<Screen> {
    vec![
        ("month", Box::new(|s: &mut State| press(s, &["right"]))),
        ("week", Box::new(|s: &mut State| press(s, &["w"]))),
        (
            "day",
            Box::new(|s: &mut State| press(s, &["right", "enter"])),
        ),
        ("queue", Box::new(|s: &mut State| press(s, &["2"]))),
        (
            "compose",
            Box::new(|s: &mut State| compose(s, &"long text ".repeat(40))),
        ),
        (
            "detail",
            Box::new(|s: &mut State| press(s, &["right", "enter", "enter"])),
        ),
        ("accounts", Box::new(|s: &mut State| press(s, &["3"]))),
        ("activity", Box::new(|s: &mut State| press(s, &["4"]))),
        ("help", Box::new(|s: &mut State| press(s, &["?"]))),
    ]
}

#[test]
fn no_color_leaves_every_cell_uncoloured() {
    for (name, prepare) in screens() {
        let mut state = fixtures::state(120, 40);
        state.color = false;
        prepare(&mut state);
        let terminal = terminal(&state);
        for cell in terminal.backend().buffer().content() {
            assert!(
                cell.fg == Color::Reset && cell.bg == Color::Reset,
                "{name}: {:?} is coloured ({:?} on {:?})",
                cell.symbol(),
                cell.fg,
                cell.bg
            );
        }
    }
}

#[test]
fn a_counter_past_the_limit_is_red() {
    let mut state = fixtures::state(120, 40);
    compose(
        &mut state,
        &"A sentence that makes the post long. ".repeat(10),
    );
    let terminal = terminal(&state);
    let buffer = terminal.backend().buffer();
    let row = (0..buffer.area.height)
        .find(|&y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.contains("Bluesky") && line.contains("/300")
        })
        .expect("the Bluesky counter is shown");
    let red = (0..buffer.area.width).any(|x| {
        let cell = &buffer[(x, row)];
        cell.symbol() == "/" && cell.fg == Color::Red
    });
    assert!(red, "the over-limit counter should be red");
    // Mastodon's 500 holds the same text: not red.
    let row = (0..buffer.area.height)
        .find(|&y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.contains("Mastodon") && line.contains("/500")
        })
        .expect("the Mastodon counter is shown");
    assert!((0..buffer.area.width).all(|x| buffer[(x, row)].fg != Color::Red));
}

#[test]
fn tiny_and_odd_sizes_draw_without_panicking() {
    for (width, height) in [
        (0, 0),
        (1, 1),
        (10, 3),
        (20, 8),
        (40, 12),
        (79, 23),
        (200, 60),
    ] {
        for (name, prepare) in screens() {
            let mut state = fixtures::state(width, height);
            prepare(&mut state);
            let mut terminal =
                Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
            terminal
                .draw(|frame| draw(frame, &state))
                .unwrap_or_else(|e| panic!("{name} at {width}x{height}: {e}"));
        }
    }
}

#[test]
fn a_resize_redraws_at_the_new_size() {
    let mut state = fixtures::state(80, 24);
    press(&mut state, &["right"]);
    update(
        &mut state,
        Event::Resize {
            width: 120,
            height: 40,
        },
    );
    let resized = terminal(&state);
    let mut fresh = fixtures::state(120, 40);
    press(&mut fresh, &["right"]);
    assert_eq!(
        resized.backend().buffer(),
        terminal(&fresh).backend().buffer()
    );
}

#[test]
fn a_long_queue_list_says_it_shows_the_first_posts_of_how_many() {
    let mut state = fixtures::state(120, 40);
    let around = crate::app::data::Window::around(state.calendar.cursor, state.tz);
    update(
        &mut state,
        Event::Loaded(Box::new(fixtures::sliced(around, 2, 100_000))),
    );
    press(&mut state, &["2"]);
    let screen = format!("{}", terminal(&state).backend());
    assert!(screen.contains("Upcoming 100000"), "{screen}");
    assert!(screen.contains("first 2 of 100000"), "{screen}");
}
