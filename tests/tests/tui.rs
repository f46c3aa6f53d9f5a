//! The dashboard in a real terminal: the `postctl` binary run in a pseudo-terminal, driven
//! by writing keys to it and read through a VT100 screen parser, as a terminal shows it. It
//! writes a draft, schedules it, finds it in the calendar, moves it to the next day, and the
//! new time is in the database. A post scheduled from the CLI meanwhile shows up without a
//! restart.

#[macro_use]
mod common;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::networks::{Fake, Net};
use common::terminal::Terminal;
use common::{Env, utc_ms};
use postctl_tests::fakes::growth::{
    LIKES_PER_HOUR, QUOTES_PER_HOUR, REPLIES_PER_HOUR, REPOSTS_PER_HOUR, followers,
};

fn due_of(env: &Env, body: &str) -> (i64, Vec<i64>) {
    let conn = env.db();
    let (id, due): (String, i64) = conn
        .query_row(
            "SELECT id, due_ms FROM posts WHERE body = ?1 AND deleted_ms IS NULL",
            [body],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("the post {body:?} is not in the database: {e}"));
    let targets = env
        .due_ms(&id)
        .into_iter()
        .map(|d| d.unwrap_or(-1))
        .collect();
    (due, targets)
}

#[test]
fn write_schedule_see_and_move_a_post_in_the_real_terminal() {
    let env = Env::with_accounts();
    let mut term = Terminal::start(&env, 100, 30);
    let long = Duration::from_secs(15);
    let quick = Duration::from_secs(5);
    term.wait_for(&["November 2026", "1 Calendar"], long);

    // A draft to masto (accounts are listed by name: bsky, masto).
    term.keys(&["n"]);
    term.wait_for(&["New post", "[ ] masto"], quick);
    term.text("Launch notes from a terminal");
    term.keys(&["Tab", "Right", "Space"]);
    term.wait_for(&["[x] masto", "Mastodon"], quick);
    term.keys(&["C-s"]);
    term.wait_for(&["saved a new draft"], quick);
    let drafts = env.json(&["list", "--drafts"]);
    assert_eq!(drafts.as_array().map(Vec::len), Some(1), "{drafts}");

    // Scheduled from the queue's drafts, at a time typed as the CLI takes it.
    term.keys(&["2", "Tab"]);
    term.wait_for(&["Drafts", "Launch notes from a terminal"], quick);
    term.keys(&["s"]);
    term.wait_for(&["Schedule 1 post at"], quick);
    term.text("tomorrow 09:00");
    term.keys(&["Enter"]);
    term.wait_for(&["scheduled 1 post for Sat 2026-11-21 09:00 CET"], quick);
    assert_eq!(
        due_of(&env, "Launch notes from a terminal"),
        (
            utc_ms("2026-11-21T08:00:00Z"),
            vec![utc_ms("2026-11-21T08:00:00Z")]
        )
    );

    // In the calendar on Saturday the 21st.
    term.keys(&["1", "t", "Right"]);
    let screen = term.wait_for(
        &["Sat 21 Nov · 1 post", "Launch notes from a terminal"],
        quick,
    );
    assert!(screen.contains("09:00"), "{screen}");

    // Picked up, moved a day on, dropped.
    term.keys(&["m", "Right"]);
    term.wait_for(&["moving", "→ Sun 22 Nov"], quick);
    term.keys(&["Enter"]);
    term.wait_for(&["moved", "Sun 22 Nov · 1 post"], quick);
    assert_eq!(
        due_of(&env, "Launch notes from a terminal"),
        (
            utc_ms("2026-11-22T08:00:00Z"),
            vec![utc_ms("2026-11-22T08:00:00Z")]
        ),
        "the move is in the database, still 09:00 in Berlin"
    );

    // The CLI schedules a post on the same day: the dashboard shows it within a second.
    env.schedule("Posted from the shell", "bsky", "2026-11-22 12:00");
    term.wait_for(
        &["Sun 22 Nov · 2 posts", "Posted from the shell"],
        Duration::from_secs(2),
    );

    // Undo puts the moved post back on the 21st.
    term.keys(&["u"]);
    term.wait_for(&["undid the move"], quick);
    assert_eq!(
        due_of(&env, "Launch notes from a terminal").0,
        utc_ms("2026-11-21T08:00:00Z")
    );

    term.keys(&["q"]);
    assert_eq!(term.wait_for_exit(quick), 0);
    assert!(!term.alternate_screen(), "the terminal is given back");
    let log = std::fs::read_to_string(env.data_dir().join("tui.log")).unwrap_or_default();
    assert!(
        log.contains("first frame"),
        "the dashboard logs to its file:\n{log}"
    );
    assert!(!Path::new(&env.root().join("tui.log")).exists());
}

#[test]
fn ctrl_c_quits_from_compose_and_bare_postctl_without_a_terminal_prints_help() {
    let env = Env::with_accounts();
    let mut term = Terminal::start(&env, 80, 24);
    term.wait_for(&["November 2026"], Duration::from_secs(15));
    term.keys(&["n"]);
    term.wait_for(&["New post"], Duration::from_secs(5));
    term.text("q is text here");
    term.keys(&["C-c"]);
    term.wait_for_exit(Duration::from_secs(5));
    // The terminal is given back: the alternate screen is gone.
    assert!(!term.alternate_screen(), "the terminal is given back");
    let screen = term.screen();
    assert!(!screen.contains("New post"), "{screen}");
    // Nothing was saved.
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0);

    // Without a terminal, `postctl` alone still prints the help and exits 2, and
    // `postctl tui` says it needs one.
    let bare = env.run(&[]);
    assert_eq!(bare.code, 2, "{}", bare.all_output());
    assert!(bare.all_output().contains("Usage"), "{}", bare.all_output());
    let tui = env.run(&["tui"]);
    assert_eq!(tui.code, 2, "{}", tui.all_output());
    assert!(tui.stderr.contains("needs a terminal"), "{}", tui.stderr);
}

#[test]
fn an_account_needing_sign_in_is_marked_and_its_held_posts_say_why() {
    let env = Env::new();
    let (fake, _) = common::x::signed_in_account(&env);
    fake.revoke();
    let run = env.run(&["--json", "post", "Held while signed out", "--to", "me-x"]);
    assert_ne!(run.code, 0, "{}", run.all_output());
    let post = run.json()["post_id"]
        .as_str()
        .expect("a post id")
        .to_string();
    assert_eq!(env.target_states(&post), ["waiting_retry"]);
    let quick = Duration::from_secs(10);
    let term = Terminal::start(&env, 120, 40);
    term.wait_for(&["November 2026"], Duration::from_secs(15));
    // Where accounts are shown.
    term.keys(&["3"]);
    let screen = term.wait_for(&["needs sign-in", "postctl accounts reauth me-x"], quick);
    assert!(screen.contains("posts are held"), "{screen}");
    // The held post says why.
    term.keys(&["2"]);
    term.wait_for(&["Held while signed out"], quick);
    term.keys(&["Enter"]);
    term.wait_for(&["held: me-x needs signing in again"], quick);
    term.keys(&["q"]);
}

/// Publishes three posts to the fake Mastodon and collects their counters at hours 0, 26
/// and 50 after they went out (the fake's engagement grows by the hour); the moment they
/// went out.
fn seed_history(env: &Env, masto: &Fake) -> DateTime<Utc> {
    for text in ["First light", "Second wind", "Third time lucky"] {
        let run = env.run(&["post", text, "--to", "masto"]);
        assert_eq!(run.code, 0, "{}", run.all_output());
    }
    let rows = env.json(&["stats", "--since", "1d"]);
    let start = rows["posts"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["published"].as_str()?.parse::<DateTime<Utc>>().ok())
        .max()
        .expect("published posts")
        + chrono::Duration::minutes(1);
    for hour in [0, 26, 50] {
        masto.mastodon().set_hour(hour);
        let now = (start + chrono::Duration::hours(hour as i64)).to_rfc3339();
        let run = env.run_full(&["stats", "collect"], None, &[("POSTCTL_NOW", &now)]);
        assert_eq!(run.code, 0, "{}", run.all_output());
    }
    start
}

#[test]
fn the_analytics_view_shows_the_accounts_figures_best_times_and_a_posts_curve() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let start = seed_history(&env, &masto);
    let now = (start + chrono::Duration::hours(72)).to_rfc3339();
    let mut term = Terminal::start_with(&env, 140, 46, &[("POSTCTL_NOW", &now)]);
    let long = Duration::from_secs(15);
    let quick = Duration::from_secs(5);
    term.wait_for(&["1 Calendar", "5 Analytics"], long);
    term.keys(&["5"]);
    let per_post = (LIKES_PER_HOUR + REPOSTS_PER_HOUR + REPLIES_PER_HOUR + QUOTES_PER_HOUR) * 50;
    let screen = term.wait_for(
        &[
            "masto (mastodon)",
            "Mastodon reported likes, quotes, replies, reposts for 3 of 3 posts",
            &format!("Followers {}", followers(50)),
            "Mastodon never gives: views",
            "Best times (weekday × hour, engagement per post)",
            "Top posts (engagement)",
        ],
        quick,
    );
    // The top posts carry their engagement as of the last collection.
    for title in ["First light", "Second wind", "Third time lucky"] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(title) && l.contains(&format!(" {per_post}  "))),
            "{title} with engagement {per_post}:\n{screen}"
        );
    }
    // The heat map: the weekday and hour the posts went out hold the best shade, and the
    // rest of the week is empty; three posts are too few to judge best times.
    let local = start.with_timezone(&chrono_tz::Europe::Berlin);
    let weekday = local.format("%a").to_string();
    let row = screen
        .lines()
        .find(|l| l.contains(&format!(" {weekday} ")) && l.contains('·'))
        .unwrap_or_else(|| panic!("no heat map row for {weekday}:\n{screen}"));
    let cells: String = row
        .split(&format!(" {weekday} "))
        .nth(1)
        .expect("cells")
        .chars()
        .take(24)
        .collect();
    let hour = local
        .format("%H")
        .to_string()
        .parse::<usize>()
        .expect("hour");
    assert_eq!(cells.chars().nth(hour), Some('█'), "{row}");
    assert_eq!(cells.chars().filter(|c| *c == '█').count(), 1, "{row}");
    assert!(
        screen.contains("best: not enough data yet (3 posts old enough to"),
        "{screen}"
    );

    // Enter opens the selected top post's counters curve.
    term.keys(&["Enter"]);
    term.wait_for(
        &[
            "Post ",
            &format!("engagement {per_post}: likes {}", 3 * 50),
            "readings",
            "never given: views",
        ],
        quick,
    );
    term.keys(&["Escape", "q"]);
    assert_eq!(term.wait_for_exit(quick), 0);
}

#[test]
fn the_analytics_view_says_no_data_yet_on_an_empty_database() {
    let env = Env::new();
    let mut term = Terminal::start(&env, 120, 40);
    term.wait_for(&["5 Analytics"], Duration::from_secs(15));
    term.keys(&["5"]);
    term.wait_for(
        &["No data yet: there is no account"],
        Duration::from_secs(5),
    );
    term.keys(&["q"]);
    assert_eq!(term.wait_for_exit(Duration::from_secs(5)), 0);

    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let run = env.run(&["post", "Not collected yet", "--to", "masto"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let mut term = Terminal::start(&env, 120, 40);
    term.wait_for(&["5 Analytics"], Duration::from_secs(15));
    term.keys(&["5"]);
    let screen = term.wait_for(
        &[
            "masto (mastodon)",
            "No data yet for masto: nothing has been collected",
        ],
        Duration::from_secs(5),
    );
    assert!(
        !screen.contains("Followers 0"),
        "never a fake zero:\n{screen}"
    );
    term.keys(&["q"]);
    assert_eq!(term.wait_for_exit(Duration::from_secs(5)), 0);
}
