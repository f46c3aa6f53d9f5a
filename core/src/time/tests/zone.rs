use chrono_tz::Tz;

use super::{BERLIN, NEW_YORK, NOW, local, utc};
use crate::time::{
    Disambiguation, TimeError, ensure_not_past, format_local, format_moment, parse_zone,
    resolve_local,
};

#[test]
fn zone_names_are_read_in_any_case() {
    let cases = [
        ("Europe/Berlin", BERLIN),
        ("europe/berlin", BERLIN),
        (" America/New_York ", NEW_YORK),
        ("AMERICA/NEW_YORK", NEW_YORK),
        ("UTC", Tz::UTC),
        ("utc", Tz::UTC),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_zone(input), Ok(expected), "input {input:?}");
    }
}

#[test]
fn unknown_zones_get_close_suggestions() {
    // (input, the closest suggestion, or None when nothing is close)
    let cases = [
        ("Europe/Berln", Some("Europe/Berlin")),
        ("europe/berlim", Some("Europe/Berlin")),
        ("Berlin", Some("Europe/Berlin")),
        ("New York", Some("America/New_York")),
        ("America/NewYork", Some("America/New_York")),
        ("Mars/Olympus_Mons_Base", None),
        ("", None),
    ];
    for (input, closest) in cases {
        let Err(TimeError::UnknownZone { name, suggestions }) = parse_zone(input) else {
            panic!("{input:?} should be an unknown zone");
        };
        assert_eq!(name, input.trim());
        assert!(suggestions.len() <= 3, "{input:?}: {suggestions:?}");
        assert_eq!(
            suggestions.first().map(String::as_str),
            closest,
            "input {input:?}"
        );
    }
    let message = parse_zone("Europe/Berln")
        .map(|tz| tz.to_string())
        .unwrap_or_else(|e| e.to_string());
    for piece in [
        "\"Europe/Berln\"",
        "Did you mean Europe/Berlin?",
        "postctl accepts IANA names like Europe/Berlin",
    ] {
        assert!(message.contains(piece), "{message:?} lacks {piece:?}");
    }
}

#[test]
fn wall_clock_times_resolve_across_dst() {
    use Disambiguation::{Earlier, Later, Reject};
    let cases = [
        // Ordinary times, winter and summer.
        (
            "2026-12-01 09:00",
            BERLIN,
            Reject,
            Some("2026-12-01T08:00:00Z"),
        ),
        (
            "2026-07-01 09:00",
            BERLIN,
            Reject,
            Some("2026-07-01T07:00:00Z"),
        ),
        (
            "2026-12-01 09:00",
            NEW_YORK,
            Reject,
            Some("2026-12-01T14:00:00Z"),
        ),
        (
            "2026-07-01 09:00",
            NEW_YORK,
            Reject,
            Some("2026-07-01T13:00:00Z"),
        ),
        // Either side of the gaps.
        (
            "2026-03-29 01:59",
            BERLIN,
            Reject,
            Some("2026-03-29T00:59:00Z"),
        ),
        (
            "2026-03-29 03:00",
            BERLIN,
            Reject,
            Some("2026-03-29T01:00:00Z"),
        ),
        ("2026-03-29 02:00", BERLIN, Later, None),
        (
            "2026-03-08 01:59",
            NEW_YORK,
            Reject,
            Some("2026-03-08T06:59:00Z"),
        ),
        (
            "2026-03-08 03:00",
            NEW_YORK,
            Reject,
            Some("2026-03-08T07:00:00Z"),
        ),
        ("2026-03-08 02:59", NEW_YORK, Earlier, None),
        // Overlaps with a choice made.
        (
            "2026-10-25 02:00",
            BERLIN,
            Earlier,
            Some("2026-10-25T00:00:00Z"),
        ),
        (
            "2026-10-25 02:00",
            BERLIN,
            Later,
            Some("2026-10-25T01:00:00Z"),
        ),
        (
            "2026-10-25 02:59",
            BERLIN,
            Later,
            Some("2026-10-25T01:59:00Z"),
        ),
        (
            "2026-10-25 03:00",
            BERLIN,
            Reject,
            Some("2026-10-25T02:00:00Z"),
        ),
        (
            "2026-11-01 01:00",
            NEW_YORK,
            Earlier,
            Some("2026-11-01T05:00:00Z"),
        ),
        (
            "2026-11-01 01:00",
            NEW_YORK,
            Later,
            Some("2026-11-01T06:00:00Z"),
        ),
        (
            "2026-11-01 02:00",
            NEW_YORK,
            Reject,
            Some("2026-11-01T07:00:00Z"),
        ),
        ("2026-11-01 01:59", NEW_YORK, Reject, None),
    ];
    for (wall, tz, d, expected) in cases {
        let got = resolve_local(local(wall), tz, d);
        match expected {
            Some(expected) => assert_eq!(got, Ok(utc(expected)), "{wall} in {tz}"),
            None => assert!(
                got.is_err(),
                "{wall} in {tz} should be refused, got {got:?}"
            ),
        }
    }
}

#[test]
fn past_times_are_refused_after_a_minute_of_slack() {
    let now = utc(NOW);
    let cases = [
        ("2026-11-26T12:00:00Z", true),
        ("2026-11-26T11:59:00Z", true),
        ("2026-11-26T11:58:59Z", false),
        ("2026-11-25T12:00:00Z", false),
        ("2026-11-26T13:00:00Z", true),
    ];
    for (when, allowed) in cases {
        let expected = if allowed {
            Ok(())
        } else {
            Err(TimeError::Past {
                when: utc(when),
                now,
                zone: BERLIN,
            })
        };
        assert_eq!(ensure_not_past(utc(when), now, BERLIN), expected, "{when}");
    }
    let message = ensure_not_past(utc("2026-11-25T08:00:00Z"), now, BERLIN)
        .map(|()| String::new())
        .unwrap_or_else(|e| e.to_string());
    for piece in [
        "Wed 2026-11-25 09:00 CET is in the past",
        "Thu 2026-11-26 13:00 CET",
        "--allow-past",
    ] {
        assert!(message.contains(piece), "{message:?} lacks {piece:?}");
    }
}

#[test]
fn instants_are_shown_in_the_zone() {
    let cases = [
        ("2026-12-01T08:00:00Z", BERLIN, "Tue 2026-12-01 09:00 CET"),
        ("2026-07-01T07:00:00Z", BERLIN, "Wed 2026-07-01 09:00 CEST"),
        ("2026-12-01T14:00:00Z", NEW_YORK, "Tue 2026-12-01 09:00 EST"),
        ("2026-07-01T13:00:00Z", NEW_YORK, "Wed 2026-07-01 09:00 EDT"),
        ("2026-12-01T08:00:00Z", Tz::UTC, "Tue 2026-12-01 08:00 UTC"),
    ];
    for (when, tz, expected) in cases {
        assert_eq!(format_local(utc(when), tz), expected, "{when} in {tz}");
    }
}

#[test]
fn moments_in_messages_are_in_the_zone_to_the_second() {
    let odd = utc("2026-12-01T02:38:22Z") + chrono::Duration::nanoseconds(838);
    let cases = [
        (odd, BERLIN, "2026-12-01 03:38:22 CET"),
        (
            utc("2026-07-01T13:00:05Z"),
            NEW_YORK,
            "2026-07-01 09:00:05 EDT",
        ),
        (odd, Tz::UTC, "2026-12-01 02:38:22 UTC"),
    ];
    for (when, tz, expected) in cases {
        assert_eq!(format_moment(when, tz), expected, "{when} in {tz}");
    }
}
