//! iCalendar (RFC 5545) export: one event per scheduled post, recurring posts as weekly RRULEs,
//! every zone described by a VTIMEZONE so calendar apps place the events at the right instants.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use crate::model::{Post, Schedule, TargetState};
use crate::text::{Format, render};
use crate::time::WeeklyRule;

/// How far past the last event the zone descriptions go, for recurring events.
const ZONE_YEARS_AHEAD: i32 = 10;

/// Renders the scheduled posts among `posts` as a calendar. `now` stamps the events.
pub fn to_ics(posts: &[Post], now: DateTime<Utc>) -> String {
    let mut span = IcsSpan::default();
    for post in posts {
        span.add(post);
    }
    let mut export = IcsExport::new(Vec::new(), &span, now);
    // Writing to memory cannot fail.
    let _ = export.as_mut().map(|export| {
        for post in posts {
            let _ = export.post(post);
        }
    });
    let bytes = export.and_then(IcsExport::finish).unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// What the calendar's zone descriptions must cover, gathered in a first pass over the
/// posts: the zones of the events and the years they fall in.
#[derive(Debug, Clone)]
pub struct IcsSpan {
    zones: BTreeSet<String>,
    years: (i32, i32),
}

impl Default for IcsSpan {
    fn default() -> Self {
        IcsSpan {
            zones: BTreeSet::new(),
            years: (i32::MAX, i32::MIN),
        }
    }
}

impl IcsSpan {
    /// Takes `post` into account if it is an event of the calendar.
    pub fn add(&mut self, post: &Post) {
        let Some(due) = event_start(post) else { return };
        let tz: Tz = post.tz.parse().unwrap_or(Tz::UTC);
        if tz != Tz::UTC && !self.zones.contains(&post.tz) {
            self.zones.insert(post.tz.clone());
        }
        self.years = (self.years.0.min(due.year()), self.years.1.max(due.year()));
    }
}

/// Writes `postctl export --format ics` one post at a time: the calendar's header and zone
/// descriptions (from an [`IcsSpan`] of the same posts) first, then each post's events.
pub struct IcsExport<W: Write> {
    out: W,
    now: DateTime<Utc>,
}

impl<W: Write> IcsExport<W> {
    pub fn new(mut out: W, span: &IcsSpan, now: DateTime<Utc>) -> io::Result<Self> {
        let mut lines: Vec<String> = vec![
            "BEGIN:VCALENDAR".into(),
            "VERSION:2.0".into(),
            "PRODID:-//postctl//postctl//EN".into(),
            "CALSCALE:GREGORIAN".into(),
        ];
        for zone in &span.zones {
            if let Ok(tz) = zone.parse::<Tz>() {
                lines.extend(vtimezone(
                    tz,
                    span.years.0 - 1,
                    span.years.1 + ZONE_YEARS_AHEAD,
                ));
            }
        }
        write_lines(&mut out, &lines)?;
        Ok(IcsExport { out, now })
    }

    /// The events of `post`: none for a draft or a cancelled post, one per weekly time
    /// for a recurring one.
    pub fn post(&mut self, post: &Post) -> io::Result<()> {
        let Some(due) = event_start(post) else {
            return Ok(());
        };
        let now = self.now;
        let tz: Tz = post.tz.parse().unwrap_or(Tz::UTC);
        let mut events = Vec::new();
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
                        events.extend(event(post, &uid, first, tz, Some(&rrule), now));
                    }
                }
                Err(_) => events.extend(event(post, &post.id, due, tz, None, now)),
            },
            _ => events.extend(event(post, &post.id, due, tz, None, now)),
        }
        write_lines(&mut self.out, &events)
    }

    /// Closes the calendar; the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        write_lines(&mut self.out, &["END:VCALENDAR".to_string()])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// When a post's event starts, if it is one: a due time and a target that is going out
/// or went out (not only drafts or cancelled ones).
fn event_start(post: &Post) -> Option<DateTime<Utc>> {
    let live = post
        .targets
        .iter()
        .any(|t| !matches!(t.state, TargetState::Draft | TargetState::Cancelled));
    post.due.filter(|_| live)
}

fn write_lines(out: &mut impl Write, lines: &[String]) -> io::Result<()> {
    for line in lines {
        out.write_all(fold(line).as_bytes())?;
    }
    Ok(())
}

/// How many characters of a post's text an event's title shows.
const SUMMARY_CHARS: usize = 70;

/// An event's title: the post's title, or the first line of its text, as plain text (the
/// Markdown rendered, as on a network without formatting), cut at a word boundary with an
/// ellipsis when long.
fn summary(post: &Post) -> String {
    let source = post.title.as_deref().unwrap_or(&post.body);
    let plain = render(source, Format::Plain).text;
    let line = plain
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    cut_at_word(line, SUMMARY_CHARS)
}

/// `text` whole if it has at most `max` characters; else its longest start of whole words
/// that fits with "…" after it (a single long word is cut inside).
fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let room = max.saturating_sub(1);
    let end = text.char_indices().nth(room).map_or(text.len(), |(i, _)| i);
    let head = &text[..end];
    let next_is_space = text[end..].starts_with(char::is_whitespace);
    let words = if next_is_space {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(space) if space > 0 => &head[..space],
            _ => head,
        }
    };
    let words = words.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c));
    format!("{words}…")
}

fn event(
    post: &Post,
    uid: &str,
    start: DateTime<Utc>,
    tz: Tz,
    rrule: Option<&str>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let summary = summary(post);
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
    fn summaries_are_plain_text_cut_at_a_word_with_an_ellipsis() {
        let cases = [
            ("Short", "Short"),
            (
                "**Bold** and [a link](https://example.com)",
                "Bold and a link (https://example.com)",
            ),
            ("# Heading\n\nBody", "Heading"),
            (
                "Shipping the launch notes today with every detail of the release and more words after",
                "Shipping the launch notes today with every detail of the release and…",
            ),
            (&"x".repeat(80), &format!("{}…", "x".repeat(69))),
            (
                "Seventy characters exactly, no cut needed here at all, none, none, ok.",
                "Seventy characters exactly, no cut needed here at all, none, none, ok.",
            ),
            (
                "One two three four five six seven eight nine ten eleven twelve, thirteen",
                "One two three four five six seven eight nine ten eleven twelve…",
            ),
        ];
        for (body, expected) in cases {
            let post = Post {
                id: "0190".into(),
                body: body.to_string(),
                title: None,
                labels: vec![],
                media: vec![],
                schedule: Schedule::At,
                due: None,
                tz: "UTC".into(),
                created: DateTime::UNIX_EPOCH,
                updated: DateTime::UNIX_EPOCH,
                targets: vec![],
            };
            let got = summary(&post);
            assert_eq!(got, expected, "{body}");
            assert!(got.chars().count() <= SUMMARY_CHARS, "{got}");
        }
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
