//! iCalendar (RFC 5545) export: one event per scheduled post, recurring posts as weekly RRULEs,
//! every zone described by a VTIMEZONE so calendar apps place the events at the right instants.

use std::collections::BTreeSet;
use std::fmt::Write;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use crate::model::{Post, Schedule, TargetState};
use crate::time::WeeklyRule;

/// How far past the last event the zone descriptions go, for recurring events.
const ZONE_YEARS_AHEAD: i32 = 10;

/// Renders the scheduled posts among `posts` as a calendar. `now` stamps the events.
pub fn to_ics(posts: &[Post], now: DateTime<Utc>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//postctl//postctl//EN".into(),
        "CALSCALE:GREGORIAN".into(),
    ];
    let mut events = Vec::new();
    let mut zones: BTreeSet<String> = BTreeSet::new();
    let mut years = (i32::MAX, i32::MIN);
    for post in posts {
        let Some(due) = post.due else { continue };
        let live = post
            .targets
            .iter()
            .any(|t| !matches!(t.state, TargetState::Draft | TargetState::Cancelled));
        if !live {
            continue;
        }
        let tz: Tz = post.tz.parse().unwrap_or(Tz::UTC);
        if tz != Tz::UTC {
            zones.insert(post.tz.clone());
        }
        years = (years.0.min(due.year()), years.1.max(due.year()));
        match &post.schedule {
            Schedule::Every { rule } => match rule.parse::<WeeklyRule>() {
                Ok(rule) => {
                    for time in rule.times() {
                        let first = rule
                            .occurrences(due, due + Duration::days(8), tz)
                            .into_iter()
                            .find(|o| o.with_timezone(&tz).time() == *time)
                            .unwrap_or(due);
                        let uid = format!("{}-{}", post.id, time.format("%H%M"));
                        let rrule = format!(
                            "FREQ=WEEKLY;BYDAY={}",
                            rule.days()
                                .iter()
                                .map(|d| ics_day(*d))
                                .collect::<Vec<_>>()
                                .join(",")
                        );
                        events.push(event(post, &uid, first, tz, Some(&rrule), now));
                    }
                }
                Err(_) => events.push(event(post, &post.id, due, tz, None, now)),
            },
            _ => events.push(event(post, &post.id, due, tz, None, now)),
        }
    }
    for zone in &zones {
        if let Ok(tz) = zone.parse::<Tz>() {
            lines.extend(vtimezone(tz, years.0 - 1, years.1 + ZONE_YEARS_AHEAD));
        }
    }
    lines.extend(events.into_iter().flatten());
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        out.push_str(&fold(&line));
    }
    out
}

fn event(
    post: &Post,
    uid: &str,
    start: DateTime<Utc>,
    tz: Tz,
    rrule: Option<&str>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let summary: String = post.title.clone().unwrap_or_else(|| {
        post.body
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(70)
            .collect()
    });
    let to: Vec<&str> = post.targets.iter().map(|t| t.account.as_str()).collect();
    let mut lines = vec![
        "BEGIN:VEVENT".into(),
        format!("UID:{uid}@postctl"),
        format!("DTSTAMP:{}", utc_stamp(now)),
        // A local time that happens twice (DST overlap) would read as the first: use UTC.
        if tz == Tz::UTC || (rrule.is_none() && is_ambiguous(start, tz)) {
            format!("DTSTART:{}", utc_stamp(start))
        } else {
            format!(
                "DTSTART;TZID={}:{}",
                tz.name(),
                start.with_timezone(&tz).format("%Y%m%dT%H%M%S")
            )
        },
        "DURATION:PT15M".into(),
    ];
    if let Some(rrule) = rrule {
        lines.push(format!("RRULE:{rrule}"));
    }
    lines.push(format!("SUMMARY:{}", escape(&summary)));
    lines.push(format!(
        "DESCRIPTION:{}",
        escape(&format!("{}\n\nTo: {}", post.body, to.join(", ")))
    ));
    if !post.labels.is_empty() {
        lines.push(format!(
            "CATEGORIES:{}",
            post.labels
                .iter()
                .map(|l| escape(l))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    lines.push("END:VEVENT".into());
    lines
}

fn is_ambiguous(when: DateTime<Utc>, tz: Tz) -> bool {
    let local = when.with_timezone(&tz).naive_local();
    matches!(
        tz.from_local_datetime(&local),
        chrono::LocalResult::Ambiguous(_, _)
    )
}

/// A VTIMEZONE with every offset change of `tz` from `from_year` to `to_year`, found from
/// the zone database itself.
fn vtimezone(tz: Tz, from_year: i32, to_year: i32) -> Vec<String> {
    let mut lines = vec!["BEGIN:VTIMEZONE".into(), format!("TZID:{}", tz.name())];
    let start = Utc
        .with_ymd_and_hms(from_year, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let end = Utc
        .with_ymd_and_hms(to_year, 12, 31, 0, 0, 0)
        .single()
        .unwrap_or(start);
    let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc());
    let mut observances = 0;
    let mut day = start;
    while day < end {
        let next = day + Duration::days(1);
        if offset_at(day).fix() != offset_at(next).fix() {
            // Narrow the change down to the second.
            let (mut lo, mut hi) = (day, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid).fix() == offset_at(lo).fix() {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let before = offset_at(lo);
            let after = offset_at(hi);
            let local_start: NaiveDateTime = hi.naive_utc() + before.fix();
            lines.extend(observance(
                &after,
                before.fix().local_minus_utc(),
                local_start,
            ));
            observances += 1;
        }
        day = next;
    }
    if observances == 0 {
        let offset = offset_at(start);
        let local = start.naive_utc() + offset.fix();
        lines.extend(observance(&offset, offset.fix().local_minus_utc(), local));
    }
    lines.push("END:VTIMEZONE".into());
    lines
}

fn observance(
    offset: &<Tz as TimeZone>::Offset,
    from_seconds: i32,
    local_start: NaiveDateTime,
) -> Vec<String> {
    let kind = if offset.dst_offset().is_zero() {
        "STANDARD"
    } else {
        "DAYLIGHT"
    };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}", local_start.format("%Y%m%dT%H%M%S")),
        format!("TZOFFSETFROM:{}", utc_offset(from_seconds)),
        format!("TZOFFSETTO:{}", utc_offset(offset.fix().local_minus_utc())),
    ];
    if let Some(name) = offset.abbreviation() {
        lines.push(format!("TZNAME:{}", escape(name)));
    }
    lines.push(format!("END:{kind}"));
    lines
}

fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let mut out = format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60);
    if !s.is_multiple_of(60) {
        let _ = write!(out, "{:02}", s % 60);
    }
    out
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn ics_day(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// TEXT escaping (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets without splitting a UTF-8 character, ending with CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_lines_within_75_octets_and_characters_whole() {
        let line = format!("DESCRIPTION:{}", "é".repeat(100));
        let folded = fold(&line);
        for part in folded.split("\r\n").filter(|p| !p.is_empty()) {
            assert!(part.len() <= 75, "{} octets", part.len());
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn berlin_zone_has_its_2026_changes() {
        let lines = vtimezone(chrono_tz::Europe::Berlin, 2026, 2026).join("\n");
        assert!(
            lines.contains(
                "DTSTART:20260329T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nTZNAME:CEST"
            ),
            "{lines}"
        );
        assert!(
            lines.contains(
                "DTSTART:20261025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nTZNAME:CET"
            ),
            "{lines}"
        );
        let tokyo = vtimezone(chrono_tz::Asia::Tokyo, 2026, 2026).join("\n");
        assert!(
            tokyo.contains("TZOFFSETFROM:+0900\nTZOFFSETTO:+0900"),
            "{tokyo}"
        );
    }
}
