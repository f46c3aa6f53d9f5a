use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;

use super::{BERLIN, NEW_YORK, NOW, utc};
use crate::time::{TimeError, WeeklyRule, parse_weekly_rules};

fn rule(s: &str) -> WeeklyRule {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

#[test]
fn rules_print_in_canonical_form_and_parse_back() {
    let cases = [
        ("mon,wed 09:00", "mon,wed 09:00"),
        ("mon-fri 09:00,13:00,17:30", "mon-fri 09:00,13:00,17:30"),
        ("daily 9am", "daily 09:00"),
        ("weekdays 17:30,9am", "mon-fri 09:00,17:30"),
        ("weekends 10:00", "sat,sun 10:00"),
        ("sat-sun 10:00", "sat,sun 10:00"),
        ("fri-mon 18:00", "mon,fri-sun 18:00"),
        ("sun-sat 09:00", "daily 09:00"),
        ("thu-thu 08:00", "thu 08:00"),
        ("Monday 10am", "mon 10:00"),
        ("mon,wed-fri 09:00", "mon,wed-fri 09:00"),
        ("mon,tue,wed 08:00", "mon-wed 08:00"),
        ("  MON - FRI   9 am, 1 pm ", "mon-fri 09:00,13:00"),
        ("tue,mon,tue 13:00,09:00,9am", "mon,tue 09:00,13:00"),
        ("mon-sun noon,midnight", "daily 00:00,12:00"),
        ("mon 09:00:30", "mon 09:00:30"),
    ];
    for (input, canonical) in cases {
        let parsed = rule(input);
        assert_eq!(parsed.to_string(), canonical, "input {input:?}");
        assert_eq!(rule(canonical), parsed, "round trip of {input:?}");
    }
}

#[test]
fn rules_expose_days_and_sorted_times() {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid test time");
    let cases = [
        (
            "fri-mon 18:00",
            vec![Weekday::Mon, Weekday::Fri, Weekday::Sat, Weekday::Sun],
            vec![hm(18, 0)],
        ),
        (
            "wed,mon 17:30,9am",
            vec![Weekday::Mon, Weekday::Wed],
            vec![hm(9, 0), hm(17, 30)],
        ),
        (
            "weekends 12am",
            vec![Weekday::Sat, Weekday::Sun],
            vec![hm(0, 0)],
        ),
    ];
    for (input, days, times) in cases {
        let parsed = rule(input);
        assert_eq!(parsed.days(), days, "input {input:?}");
        assert_eq!(parsed.times(), times.as_slice(), "input {input:?}");
    }
}

#[test]
fn bad_rules_name_the_bad_piece() {
    let unknown_day = |piece: &str, rule: &str| TimeError::UnknownDay {
        piece: piece.to_string(),
        rule: rule.to_string(),
    };
    let bad_time = |piece: &str, input: &str| TimeError::BadTime {
        piece: piece.to_string(),
        input: input.to_string(),
    };
    let cases = [
        ("", TimeError::EmptyRule),
        ("   ", TimeError::EmptyRule),
        ("mno 09:00", unknown_day("mno", "mno 09:00")),
        ("mon-frx 09:00", unknown_day("mon-frx", "mon-frx 09:00")),
        ("mon,,wed 09:00", unknown_day("", "mon,,wed 09:00")),
        ("09:00", unknown_day("09:00", "09:00")),
        ("09:00 mon", unknown_day("09:00", "09:00 mon")),
        (
            "mon",
            TimeError::MissingTime {
                input: "mon".to_string(),
                example: "mon 09:00".to_string(),
            },
        ),
        ("mon 25:00", bad_time("25:00", "mon 25:00")),
        ("mon 09:00,", bad_time("", "mon 09:00,")),
        ("mon 9", bad_time("9", "mon 9")),
    ];
    for (input, expected) in cases {
        assert_eq!(
            input.parse::<WeeklyRule>(),
            Err(expected),
            "input {input:?}"
        );
    }
    let message = "mno 09:00"
        .parse::<WeeklyRule>()
        .map(|r| r.to_string())
        .unwrap_or_else(|e| e.to_string());
    for piece in ["\"mno\"", "\"mno 09:00\"", "e.g. \"mon,wed 09:00\""] {
        assert!(message.contains(piece), "{message:?} lacks {piece:?}");
    }
}

#[test]
fn several_rules_join_with_semicolons() {
    let cases = [
        (
            "mon-fri 09:00,13:00; sat 10:00",
            Ok(vec!["mon-fri 09:00,13:00", "sat 10:00"]),
        ),
        ("mon 09:00;", Ok(vec!["mon 09:00"])),
        (";", Err(TimeError::EmptyRule)),
        (
            "mon 09:00; xyz 10:00",
            Err(TimeError::UnknownDay {
                piece: "xyz".to_string(),
                rule: "xyz 10:00".to_string(),
            }),
        ),
    ];
    for (input, expected) in cases {
        let got = parse_weekly_rules(input)
            .map(|rules| rules.iter().map(ToString::to_string).collect::<Vec<_>>());
        let expected = expected.map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
        assert_eq!(got, expected, "input {input:?}");
    }
}

#[test]
fn occurrences_keep_wall_clock_time_across_dst() {
    let cases: [(&str, Tz, &str, &str, &[&str]); 9] = [
        // Berlin spring: 09:00 is 08:00Z before 2026-03-29, 07:00Z after.
        (
            "mon,wed 09:00",
            BERLIN,
            "2026-03-20T00:00:00Z",
            "2026-04-10T00:00:00Z",
            &[
                "2026-03-23T08:00:00Z",
                "2026-03-25T08:00:00Z",
                "2026-03-30T07:00:00Z",
                "2026-04-01T07:00:00Z",
                "2026-04-06T07:00:00Z",
                "2026-04-08T07:00:00Z",
            ],
        ),
        // Berlin autumn: back to 08:00Z after 2026-10-25.
        (
            "mon,wed 09:00",
            BERLIN,
            "2026-10-19T00:00:00Z",
            "2026-11-05T00:00:00Z",
            &[
                "2026-10-19T07:00:00Z",
                "2026-10-21T07:00:00Z",
                "2026-10-26T08:00:00Z",
                "2026-10-28T08:00:00Z",
                "2026-11-02T08:00:00Z",
                "2026-11-04T08:00:00Z",
            ],
        ),
        // New York spring: 14:00Z (EST) before 2026-03-08, 13:00Z (EDT) after.
        (
            "mon,wed 09:00",
            NEW_YORK,
            "2026-03-01T00:00:00Z",
            "2026-03-19T00:00:00Z",
            &[
                "2026-03-02T14:00:00Z",
                "2026-03-04T14:00:00Z",
                "2026-03-09T13:00:00Z",
                "2026-03-11T13:00:00Z",
                "2026-03-16T13:00:00Z",
                "2026-03-18T13:00:00Z",
            ],
        ),
        // New York autumn: back to 14:00Z after 2026-11-01.
        (
            "mon,wed 09:00",
            NEW_YORK,
            "2026-10-26T00:00:00Z",
            "2026-11-12T00:00:00Z",
            &[
                "2026-10-26T13:00:00Z",
                "2026-10-28T13:00:00Z",
                "2026-11-02T14:00:00Z",
                "2026-11-04T14:00:00Z",
                "2026-11-09T14:00:00Z",
                "2026-11-11T14:00:00Z",
            ],
        ),
        // Gap day: 02:30 does not exist on 2026-03-29 and moves to 03:30 CEST = 01:30Z.
        (
            "daily 02:30",
            BERLIN,
            "2026-03-28T00:00:00Z",
            "2026-03-31T00:00:00Z",
            &[
                "2026-03-28T01:30:00Z",
                "2026-03-29T01:30:00Z",
                "2026-03-30T00:30:00Z",
            ],
        ),
        // A moved 02:30 and a real 03:30 are one occurrence.
        (
            "sun 02:30,03:30",
            BERLIN,
            "2026-03-29T00:00:00Z",
            "2026-03-30T00:00:00Z",
            &["2026-03-29T01:30:00Z"],
        ),
        // Overlap day: 02:30 happens twice on 2026-10-25 and occurs once, at the earlier instant.
        (
            "daily 02:30",
            BERLIN,
            "2026-10-24T00:00:00Z",
            "2026-10-27T00:00:00Z",
            &[
                "2026-10-24T00:30:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
            ],
        ),
        (
            "daily 02:30",
            NEW_YORK,
            "2026-03-07T00:00:00Z",
            "2026-03-10T00:00:00Z",
            &[
                "2026-03-07T07:30:00Z",
                "2026-03-08T07:30:00Z",
                "2026-03-09T06:30:00Z",
            ],
        ),
        (
            "daily 01:30",
            NEW_YORK,
            "2026-10-31T00:00:00Z",
            "2026-11-03T00:00:00Z",
            &[
                "2026-10-31T05:30:00Z",
                "2026-11-01T05:30:00Z",
                "2026-11-02T06:30:00Z",
            ],
        ),
    ];
    for (input, tz, from, to, expected) in cases {
        let expected: Vec<_> = expected.iter().map(|s| utc(s)).collect();
        assert_eq!(
            rule(input).occurrences(utc(from), utc(to), tz),
            expected,
            "{input:?} in {tz} from {from}"
        );
    }
}

#[test]
fn occurrences_include_from_and_exclude_to() {
    // 09:00 CET is 08:00Z in December.
    let daily = rule("daily 09:00");
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "2026-12-01T08:00:00Z",
            "2026-12-03T08:00:00Z",
            &["2026-12-01T08:00:00Z", "2026-12-02T08:00:00Z"],
        ),
        (
            "2026-12-01T08:00:01Z",
            "2026-12-03T08:00:00Z",
            &["2026-12-02T08:00:00Z"],
        ),
        (
            "2026-12-01T08:00:00Z",
            "2026-12-03T08:00:01Z",
            &[
                "2026-12-01T08:00:00Z",
                "2026-12-02T08:00:00Z",
                "2026-12-03T08:00:00Z",
            ],
        ),
        ("2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z", &[]),
        ("2026-12-03T08:00:00Z", "2026-12-01T08:00:00Z", &[]),
    ];
    for (from, to, expected) in cases {
        let expected: Vec<_> = expected.iter().map(|s| utc(s)).collect();
        assert_eq!(
            daily.occurrences(utc(from), utc(to), BERLIN),
            expected,
            "[{from}, {to})"
        );
    }
}

#[test]
fn next_occurrence_is_strictly_after() {
    let cases = [
        // Now is Thu 2026-11-26 13:00 CET.
        ("mon,wed 09:00", BERLIN, NOW, "2026-11-30T08:00:00Z"),
        (
            "mon,wed 09:00",
            BERLIN,
            "2026-11-30T08:00:00Z",
            "2026-12-02T08:00:00Z",
        ),
        (
            "mon,wed 09:00",
            BERLIN,
            "2026-11-30T07:59:59Z",
            "2026-11-30T08:00:00Z",
        ),
        (
            "mon-fri 09:00,13:00,17:30",
            BERLIN,
            NOW,
            "2026-11-26T16:30:00Z",
        ),
        ("thu 09:00", BERLIN, NOW, "2026-12-03T08:00:00Z"),
        ("sat 10:00", NEW_YORK, NOW, "2026-11-28T15:00:00Z"),
        // Across the spring change: Sun 2026-03-01 10:00 EST -> Sun 2026-03-08 09:00 EDT.
        (
            "sun 09:00",
            NEW_YORK,
            "2026-03-01T15:00:00Z",
            "2026-03-08T13:00:00Z",
        ),
        // Gap day, and the overlap day's single occurrence.
        (
            "daily 02:30",
            BERLIN,
            "2026-03-28T12:00:00Z",
            "2026-03-29T01:30:00Z",
        ),
        (
            "daily 02:30",
            BERLIN,
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z",
        ),
        (
            "daily 02:30",
            BERLIN,
            "2026-10-24T12:00:00Z",
            "2026-10-25T00:30:00Z",
        ),
    ];
    for (input, tz, after, expected) in cases {
        assert_eq!(
            rule(input).next_after(utc(after), tz),
            Some(utc(expected)),
            "{input:?} after {after} in {tz}"
        );
    }
}
