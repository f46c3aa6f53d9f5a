use chrono_tz::Tz;

use super::{BERLIN, NEW_YORK, NOW, local, utc};
use crate::time::{Disambiguation, ParseContext, TimeError, parse_when};

fn cx(now: &str, tz: Tz, disambiguation: Disambiguation) -> ParseContext {
    ParseContext {
        now: utc(now),
        tz,
        disambiguation,
    }
}

#[test]
fn accepted_forms_in_berlin() {
    let cx = cx(NOW, BERLIN, Disambiguation::Reject);
    // Now is Thu 2026-11-26 13:00 CET.
    let cases = [
        // RFC 3339: the offset wins, the zone is not used.
        ("2026-12-01T09:00:00+01:00", "2026-12-01T08:00:00Z"),
        ("2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z"),
        ("2026-12-01t08:00:00z", "2026-12-01T08:00:00Z"),
        ("2026-12-01T09:00+01:00", "2026-12-01T08:00:00Z"),
        ("2026-10-25T02:30:00+01:00", "2026-10-25T01:30:00Z"),
        // Date and time, wall clock in Berlin (CET in December, CEST in July).
        ("2026-12-01 09:00", "2026-12-01T08:00:00Z"),
        ("2026-12-01T09:00", "2026-12-01T08:00:00Z"),
        ("2026-12-01 9am", "2026-12-01T08:00:00Z"),
        ("2026-12-01 9:30pm", "2026-12-01T20:30:00Z"),
        ("2026-12-01 09:00:30", "2026-12-01T08:00:30Z"),
        ("  2026-12-01   09:00 ", "2026-12-01T08:00:00Z"),
        ("2026-07-01 09:00", "2026-07-01T07:00:00Z"),
        // A time alone: today if still ahead, else tomorrow.
        ("09:00", "2026-11-27T08:00:00Z"),
        ("9:00", "2026-11-27T08:00:00Z"),
        ("9am", "2026-11-27T08:00:00Z"),
        ("9 am", "2026-11-27T08:00:00Z"),
        ("9 AM", "2026-11-27T08:00:00Z"),
        ("21:15", "2026-11-26T20:15:00Z"),
        ("13:30", "2026-11-26T12:30:00Z"),
        ("13:00", "2026-11-27T12:00:00Z"),
        ("12pm", "2026-11-27T11:00:00Z"),
        ("noon", "2026-11-27T11:00:00Z"),
        ("12am", "2026-11-26T23:00:00Z"),
        ("midnight", "2026-11-26T23:00:00Z"),
        // Today and tomorrow; "today" in the past is returned, the caller refuses it.
        ("today 17:30", "2026-11-26T16:30:00Z"),
        ("today 09:00", "2026-11-26T08:00:00Z"),
        ("tomorrow 9am", "2026-11-27T08:00:00Z"),
        ("tomorrow 09:00", "2026-11-27T08:00:00Z"),
        ("Tomorrow at 9am", "2026-11-27T08:00:00Z"),
        // Days: the first such day whose time is still ahead.
        ("mon 10:00", "2026-11-30T09:00:00Z"),
        ("tue 09:00", "2026-12-01T08:00:00Z"),
        ("monday 10am", "2026-11-30T09:00:00Z"),
        ("fri 10:00", "2026-11-27T09:00:00Z"),
        ("sun 10:00", "2026-11-29T09:00:00Z"),
        ("wed 10:00", "2026-12-02T09:00:00Z"),
        ("thu 14:00", "2026-11-26T13:00:00Z"),
        ("thu 10:00", "2026-12-03T09:00:00Z"),
        ("thursday 1pm", "2026-12-03T12:00:00Z"),
        // "next X": the first X strictly after today.
        ("next fri 10:00", "2026-11-27T09:00:00Z"),
        ("next thu 14:00", "2026-12-03T13:00:00Z"),
        ("next monday 9am", "2026-11-30T08:00:00Z"),
        // Relative: instant arithmetic.
        ("now", "2026-11-26T12:00:00Z"),
        ("NOW", "2026-11-26T12:00:00Z"),
        ("in 2h", "2026-11-26T14:00:00Z"),
        ("in 90m", "2026-11-26T13:30:00Z"),
        ("in 90 min", "2026-11-26T13:30:00Z"),
        ("in 1d", "2026-11-27T12:00:00Z"),
        ("in 2 hours", "2026-11-26T14:00:00Z"),
        ("in 30 minutes", "2026-11-26T12:30:00Z"),
        ("in 1 day", "2026-11-27T12:00:00Z"),
        ("in 1w", "2026-12-03T12:00:00Z"),
        ("in 1h30m", "2026-11-26T13:30:00Z"),
        ("in 1h 30m", "2026-11-26T13:30:00Z"),
        ("in 45s", "2026-11-26T12:00:45Z"),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_when(input, &cx), Ok(utc(expected)), "input {input:?}");
    }
}

#[test]
fn accepted_forms_in_new_york() {
    let cx = cx(NOW, NEW_YORK, Disambiguation::Reject);
    // Now is Thu 2026-11-26 07:00 EST.
    let cases = [
        ("09:00", "2026-11-26T14:00:00Z"),
        ("06:00", "2026-11-27T11:00:00Z"),
        ("2026-12-01 09:00", "2026-12-01T14:00:00Z"),
        ("2026-07-01 09:00", "2026-07-01T13:00:00Z"),
        ("tomorrow 9am", "2026-11-27T14:00:00Z"),
        ("mon 10:00", "2026-11-30T15:00:00Z"),
        ("thu 08:00", "2026-11-26T13:00:00Z"),
        ("in 2h", "2026-11-26T14:00:00Z"),
        ("2026-12-01T09:00:00+01:00", "2026-12-01T08:00:00Z"),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_when(input, &cx), Ok(utc(expected)), "input {input:?}");
    }
}

#[test]
fn relative_times_ignore_dst_but_wall_clock_times_follow_it() {
    // Sat 2026-10-24 14:00 CEST; the clocks go back during the night.
    let cx = cx("2026-10-24T12:00:00Z", BERLIN, Disambiguation::Reject);
    let cases = [
        ("in 1d", "2026-10-25T12:00:00Z"),
        ("in 24h", "2026-10-25T12:00:00Z"),
        ("tomorrow 14:00", "2026-10-25T13:00:00Z"),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_when(input, &cx), Ok(utc(expected)), "input {input:?}");
    }
}

#[test]
fn dst_gaps_and_overlaps_are_reported_or_resolved() {
    let berlin_gap = TimeError::Nonexistent {
        local: local("2026-03-29 02:30"),
        zone: BERLIN,
        gap_start: local("2026-03-29 02:00"),
        gap_end: local("2026-03-29 03:00"),
        last_before: local("2026-03-29 01:59"),
        first_after: local("2026-03-29 03:00"),
    };
    let new_york_gap = TimeError::Nonexistent {
        local: local("2026-03-08 02:30"),
        zone: NEW_YORK,
        gap_start: local("2026-03-08 02:00"),
        gap_end: local("2026-03-08 03:00"),
        last_before: local("2026-03-08 01:59"),
        first_after: local("2026-03-08 03:00"),
    };
    let berlin_overlap = TimeError::Ambiguous {
        local: local("2026-10-25 02:30"),
        zone: BERLIN,
        earlier: utc("2026-10-25T00:30:00Z"),
        later: utc("2026-10-25T01:30:00Z"),
    };
    let new_york_overlap = TimeError::Ambiguous {
        local: local("2026-11-01 01:30"),
        zone: NEW_YORK,
        earlier: utc("2026-11-01T05:30:00Z"),
        later: utc("2026-11-01T06:30:00Z"),
    };
    use Disambiguation::{Earlier, Later, Reject};
    let cases = [
        (
            NOW,
            BERLIN,
            Reject,
            "2026-03-29 02:30",
            Err(berlin_gap.clone()),
        ),
        (
            NOW,
            BERLIN,
            Earlier,
            "2026-03-29 02:30",
            Err(berlin_gap.clone()),
        ),
        (
            NOW,
            BERLIN,
            Reject,
            "2026-03-29 03:00",
            Ok(utc("2026-03-29T01:00:00Z")),
        ),
        (
            NOW,
            BERLIN,
            Reject,
            "2026-03-29 01:59",
            Ok(utc("2026-03-29T00:59:00Z")),
        ),
        (
            NOW,
            BERLIN,
            Reject,
            "2026-10-25 02:30",
            Err(berlin_overlap.clone()),
        ),
        (
            NOW,
            BERLIN,
            Earlier,
            "2026-10-25 02:30",
            Ok(utc("2026-10-25T00:30:00Z")),
        ),
        (
            NOW,
            BERLIN,
            Later,
            "2026-10-25 02:30",
            Ok(utc("2026-10-25T01:30:00Z")),
        ),
        (NOW, NEW_YORK, Reject, "2026-03-08 02:30", Err(new_york_gap)),
        (
            NOW,
            NEW_YORK,
            Reject,
            "2026-11-01 01:30",
            Err(new_york_overlap),
        ),
        (
            NOW,
            NEW_YORK,
            Earlier,
            "2026-11-01 01:30",
            Ok(utc("2026-11-01T05:30:00Z")),
        ),
        (
            NOW,
            NEW_YORK,
            Later,
            "2026-11-01 01:30",
            Ok(utc("2026-11-01T06:30:00Z")),
        ),
        // The day forms reach the same checks (now: Sat 2026-03-28 13:00 CET).
        (
            "2026-03-28T12:00:00Z",
            BERLIN,
            Reject,
            "tomorrow 02:30",
            Err(berlin_gap.clone()),
        ),
        (
            "2026-03-28T12:00:00Z",
            BERLIN,
            Reject,
            "sun 02:30",
            Err(berlin_gap.clone()),
        ),
        (
            "2026-03-28T12:00:00Z",
            BERLIN,
            Reject,
            "02:30",
            Err(berlin_gap),
        ),
        (
            "2026-10-24T12:00:00Z",
            BERLIN,
            Reject,
            "tomorrow 2:30am",
            Err(berlin_overlap),
        ),
        (
            "2026-10-24T12:00:00Z",
            BERLIN,
            Later,
            "sun 02:30",
            Ok(utc("2026-10-25T01:30:00Z")),
        ),
    ];
    for (now, tz, disambiguation, input, expected) in cases {
        let cx = cx(now, tz, disambiguation);
        assert_eq!(parse_when(input, &cx), expected, "input {input:?} in {tz}");
    }
}

#[test]
fn unreadable_input_says_what_to_write() {
    let cx = cx(NOW, BERLIN, Disambiguation::Reject);
    let unparseable = |s: &str| TimeError::Unparseable {
        input: s.to_string(),
    };
    let missing = |input: &str, example: &str| TimeError::MissingTime {
        input: input.to_string(),
        example: example.to_string(),
    };
    let bad_time = |piece: &str, input: &str| TimeError::BadTime {
        piece: piece.to_string(),
        input: input.to_string(),
    };
    let cases = [
        ("", unparseable("")),
        ("hello", unparseable("hello")),
        ("tonight", unparseable("tonight")),
        ("9", unparseable("9")),
        ("9:5", unparseable("9:5")),
        ("in", unparseable("in")),
        ("in h", unparseable("in h")),
        ("in 2 fortnights", unparseable("in 2 fortnights")),
        ("next 10:00", unparseable("next 10:00")),
        (" 2026-12-01 ", missing("2026-12-01", "2026-12-01 09:00")),
        ("tomorrow", missing("tomorrow", "tomorrow 09:00")),
        ("mon", missing("mon", "mon 09:00")),
        ("next Friday", missing("next Friday", "next fri 09:00")),
        ("25:00", bad_time("25:00", "25:00")),
        ("13pm", bad_time("13pm", "13pm")),
        ("2026-12-01 25:00", bad_time("25:00", "2026-12-01 25:00")),
        ("tomorrow 9", bad_time("9", "tomorrow 9")),
        ("fri lunch", bad_time("lunch", "fri lunch")),
        (
            "2026-02-30 09:00",
            TimeError::BadDate {
                input: "2026-02-30 09:00".to_string(),
            },
        ),
        (
            "in 99999999999w",
            TimeError::TooFar {
                input: "in 99999999999w".to_string(),
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_when(input, &cx), Err(expected), "input {input:?}");
    }
}

#[test]
fn error_messages_name_the_fix() {
    let cases: [(&str, Disambiguation, Tz, &[&str]); 5] = [
        (
            "2026-03-29 02:30",
            Disambiguation::Reject,
            BERLIN,
            &[
                "2026-03-29 02:30 does not exist in Europe/Berlin",
                "clocks go from 02:00 to 03:00",
                "2026-03-29 01:59",
                "\"2026-03-29 03:00\"",
            ],
        ),
        (
            "2026-10-25 02:30",
            Disambiguation::Reject,
            BERLIN,
            &[
                "2026-10-25 02:30 happens twice in Europe/Berlin",
                "02:30 CEST (+02:00, 00:30 UTC)",
                "02:30 CET (+01:00, 01:30 UTC)",
                "--earlier",
                "--later",
                "2026-10-25T02:30:00+02:00",
            ],
        ),
        (
            "2026-11-01 01:30",
            Disambiguation::Reject,
            NEW_YORK,
            &[
                "01:30 EDT (-04:00, 05:30 UTC)",
                "01:30 EST (-05:00, 06:30 UTC)",
                "--earlier or --later",
            ],
        ),
        (
            "whenever",
            Disambiguation::Reject,
            BERLIN,
            &[
                "\"whenever\"",
                "2026-12-01 09:00",
                "tomorrow 9am",
                "mon 10:00",
                "in 2h",
                "RFC 3339",
            ],
        ),
        (
            "2026-12-01",
            Disambiguation::Reject,
            BERLIN,
            &["add one, e.g. \"2026-12-01 09:00\""],
        ),
    ];
    for (input, disambiguation, tz, wanted) in cases {
        let message = match parse_when(input, &cx(NOW, tz, disambiguation)) {
            Ok(t) => panic!("{input:?} parsed as {t}, expected an error"),
            Err(e) => e.to_string(),
        };
        for piece in wanted {
            assert!(
                message.contains(piece),
                "{input:?}: {message:?} lacks {piece:?}"
            );
        }
    }
}

#[test]
fn messages_name_what_is_wrong_once() {
    let cx = cx(NOW, BERLIN, Disambiguation::Reject);
    let cases = [
        ("25:00", "\"25:00\" is not a time of day"),
        (
            "2026-12-01 25:00",
            "\"25:00\" in \"2026-12-01 25:00\" is not a time of day",
        ),
        (
            "2027-02-30 09:00",
            "2027-02-30 is not a date: February 2027 has 28 days",
        ),
        (
            "2028-02-30 09:00",
            "2028-02-30 is not a date: February 2028 has 29 days",
        ),
        (
            "2026-13-01 09:00",
            "2026-13-01 is not a date: there is no month 13",
        ),
    ];
    for (input, expected) in cases {
        let message = parse_when(input, &cx).expect_err(input).to_string();
        assert!(message.starts_with(expected), "{input}: {message}");
    }
}
