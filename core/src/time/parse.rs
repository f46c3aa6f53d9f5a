//! `parse_when`: what a user types after `--at`, turned into an instant.

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday,
};

use super::clock::{ClockError, normalize, parse_clock, parse_weekday};
use super::{ParseContext, TimeError, resolve_local};

/// Parses a user's time expression into an instant, relative to `cx.now` in `cx.tz`.
/// Case and surrounding whitespace do not matter.
///
/// - RFC 3339 with an offset or Z ("2026-12-01T09:00:00+01:00"): the zone is not used.
/// - A date and a time: "2026-12-01 09:00", "2026-12-01T09:00", "2026-12-01 9:30pm".
/// - A time alone ("09:00", "9am", "noon"): today if still ahead, otherwise tomorrow.
/// - "today 17:30", "tomorrow 9am".
/// - A day ("mon 10:00", "friday 9am"): the first such day whose time is still ahead,
///   which is today if today is that day and the time has not passed.
///   "next fri 10:00" is the first Friday after today, whatever the time.
/// - "now" and relative times ("in 2h", "in 90 min", "in 1h30m", "in 1w"): plain
///   instant arithmetic, so "in 1d" is always 24 hours, across DST changes too.
///
/// Wall-clock results go through [`resolve_local`] with `cx.disambiguation`, so a time
/// skipped or repeated by DST is an error. Past times are not refused here (see
/// [`super::ensure_not_past`]).
pub fn parse_when(input: &str, cx: &ParseContext) -> Result<DateTime<Utc>, TimeError> {
    let s = normalize(input);
    let unparseable = || TimeError::Unparseable {
        input: input.trim().to_string(),
    };
    if s == "now" {
        return Ok(cx.now);
    }
    if let Some(rest) = s.strip_prefix("in ") {
        return parse_relative(rest, input, cx);
    }
    if let Some(instant) = parse_with_offset(&s) {
        return Ok(instant);
    }
    if let Some((date, rest)) = split_date(&s) {
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| TimeError::BadDate {
            input: input.trim().to_string(),
        })?;
        let time = required_time(rest, input, &format!("{date} 09:00"))?;
        return wall_clock(date, time, cx);
    }

    let today = cx.now.with_timezone(&cx.tz).date_naive();
    let (first, rest) = s.split_once(' ').unwrap_or((s.as_str(), ""));
    match first {
        "today" | "tomorrow" => {
            let time = required_time(rest, input, &format!("{first} 09:00"))?;
            let date = if first == "today" {
                Some(today)
            } else {
                today.succ_opt()
            };
            wall_clock(date.ok_or_else(|| too_far(input))?, time, cx)
        }
        "next" => {
            let (day, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            let day = parse_weekday(day).ok_or_else(unparseable)?;
            let time = required_time(rest, input, &format!("next {} 09:00", short(day)))?;
            // The first such day strictly after today, even if today is that day.
            let date = (1..=7)
                .filter_map(|n| today.checked_add_days(Days::new(n)))
                .find(|d| d.weekday() == day)
                .ok_or_else(|| too_far(input))?;
            wall_clock(date, time, cx)
        }
        _ => {
            if let Some(day) = parse_weekday(first) {
                let time = required_time(rest, input, &format!("{} 09:00", short(day)))?;
                let dates = (0..=7)
                    .filter_map(|n| today.checked_add_days(Days::new(n)))
                    .filter(|d| d.weekday() == day);
                return first_ahead(dates, time, input, cx);
            }
            match parse_clock(&s) {
                Ok(time) => {
                    let dates = [Some(today), today.succ_opt()].into_iter().flatten();
                    first_ahead(dates, time, input, cx)
                }
                Err(ClockError::OutOfRange) => Err(TimeError::BadTime {
                    piece: input.trim().to_string(),
                    input: input.trim().to_string(),
                }),
                Err(ClockError::NotATime) => Err(unparseable()),
            }
        }
    }
}

fn short(day: Weekday) -> String {
    day.to_string().to_lowercase()
}

fn too_far(input: &str) -> TimeError {
    TimeError::TooFar {
        input: input.trim().to_string(),
    }
}

/// The time after a date or a day word; "at" is allowed in between ("tomorrow at 9am").
fn required_time(rest: &str, input: &str, example: &str) -> Result<NaiveTime, TimeError> {
    let rest = rest.strip_prefix("at ").unwrap_or(rest).trim();
    if rest.is_empty() {
        return Err(TimeError::MissingTime {
            input: input.trim().to_string(),
            example: example.to_string(),
        });
    }
    parse_clock(rest).map_err(|_| TimeError::BadTime {
        piece: rest.to_string(),
        input: input.trim().to_string(),
    })
}

fn wall_clock(
    date: NaiveDate,
    time: NaiveTime,
    cx: &ParseContext,
) -> Result<DateTime<Utc>, TimeError> {
    resolve_local(date.and_time(time), cx.tz, cx.disambiguation)
}

/// The first of `dates` on which `time` is still ahead of `cx.now`; the last date is
/// taken whatever it gives. A DST error on a date whose wall-clock time is still ahead
/// is the user's answer; on one already behind, the date is skipped like any past one.
fn first_ahead(
    dates: impl Iterator<Item = NaiveDate>,
    time: NaiveTime,
    input: &str,
    cx: &ParseContext,
) -> Result<DateTime<Utc>, TimeError> {
    let local_now = cx.now.with_timezone(&cx.tz).naive_local();
    let mut dates = dates.peekable();
    while let Some(date) = dates.next() {
        let local = date.and_time(time);
        let resolved = resolve_local(local, cx.tz, cx.disambiguation);
        let is_last = dates.peek().is_none();
        match resolved {
            Ok(t) if t > cx.now || is_last => return Ok(t),
            Err(e) if local > local_now || is_last => return Err(e),
            _ => {}
        }
    }
    Err(too_far(input))
}

/// "YYYY-MM-DD" at the start, followed by nothing, a space or "t". Returns the date
/// text and what follows the separator.
fn split_date(s: &str) -> Option<(&str, &str)> {
    let bytes = s.as_bytes();
    let shaped = bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    let (date, rest) = s.split_at(10);
    match rest.as_bytes().first() {
        None => Some((date, "")),
        Some(b' ' | b't') => Some((date, &rest[1..])),
        Some(_) => None,
    }
}

/// RFC 3339 ("2026-12-01T09:00:00+01:00", "...Z"), and the same without seconds,
/// which people write as often.
fn parse_with_offset(s: &str) -> Option<DateTime<Utc>> {
    let upper = s.to_ascii_uppercase();
    if let Ok(t) = DateTime::parse_from_rfc3339(&upper) {
        return Some(t.with_timezone(&Utc));
    }
    let with_offset = ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"];
    if let Some(t) = with_offset
        .iter()
        .find_map(|f| DateTime::parse_from_str(&upper, f).ok())
    {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%MZ"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&upper, f).ok())
        .map(|t| t.and_utc())
}

/// "2h", "90m", "90 min", "1h30m", "2 hours", "1w" (whitespace already collapsed).
fn parse_relative(rest: &str, input: &str, cx: &ParseContext) -> Result<DateTime<Utc>, TimeError> {
    let unparseable = || TimeError::Unparseable {
        input: input.trim().to_string(),
    };
    let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
    let mut remaining = compact.as_str();
    let mut total = TimeDelta::zero();
    if remaining.is_empty() {
        return Err(unparseable());
    }
    while !remaining.is_empty() {
        let digits = remaining.bytes().take_while(u8::is_ascii_digit).count();
        let letters = remaining[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if digits == 0 || letters == 0 {
            return Err(unparseable());
        }
        let (number, unit) = (&remaining[..digits], &remaining[digits..digits + letters]);
        let seconds_per_unit: i64 = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "wk" | "wks" | "week" | "weeks" => 604_800,
            _ => return Err(unparseable()),
        };
        let amount = number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(seconds_per_unit))
            .and_then(TimeDelta::try_seconds)
            .and_then(|d| total.checked_add(&d))
            .ok_or_else(|| too_far(input))?;
        total = amount;
        remaining = &remaining[digits + letters..];
    }
    cx.now
        .checked_add_signed(total)
        .ok_or_else(|| too_far(input))
}
