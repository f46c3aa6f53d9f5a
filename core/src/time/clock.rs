//! The small pieces shared by `parse_when` and weekly rules: times of day and day names.

use chrono::{NaiveTime, Timelike, Weekday};

/// Why a piece of text is not a time of day. The difference matters to `parse_when`:
/// "25:00" is a time with a mistake in it, "hello" is not a time at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClockError {
    /// Not shaped like a time ("hello", "9", "9.30").
    NotATime,
    /// Shaped like a time but not on a clock ("25:00", "13pm", "9:75").
    OutOfRange,
}

/// Reads a time of day: "09:00", "9:00", "21:15", "09:00:30", "9am", "9 am", "9:30pm",
/// "12am" (midnight), "12pm" (noon), "noon", "midnight". Expects lowercase input.
/// A bare hour without am/pm ("9") is refused: it could mean 09:00 or 21:00.
pub(crate) fn parse_clock(s: &str) -> Result<NaiveTime, ClockError> {
    let s = s.trim();
    match s {
        "noon" => return NaiveTime::from_hms_opt(12, 0, 0).ok_or(ClockError::OutOfRange),
        "midnight" => return Ok(NaiveTime::MIN),
        _ => {}
    }
    let (body, meridiem) = if let Some(body) = s.strip_suffix("am") {
        (body.trim_end(), Some(false))
    } else if let Some(body) = s.strip_suffix("pm") {
        (body.trim_end(), Some(true))
    } else {
        (s, None)
    };

    let parts: Vec<&str> = body.split(':').collect();
    let well_formed = !parts.is_empty()
        && parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].len() <= 2
        && parts[1..].iter().all(|p| p.len() == 2)
        && (meridiem.is_some() || parts.len() >= 2);
    if !well_formed {
        return Err(ClockError::NotATime);
    }
    // Every part is one or two ASCII digits, so these parses cannot fail.
    let number = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (hour, minute, second) = (number(0), number(1), number(2));

    let hour = match meridiem {
        None => hour,
        Some(_) if !(1..=12).contains(&hour) => return Err(ClockError::OutOfRange),
        // 12am is midnight and 12pm is noon, hence the modulo.
        Some(pm) => hour % 12 + if pm { 12 } else { 0 },
    };
    NaiveTime::from_hms_opt(hour, minute, second).ok_or(ClockError::OutOfRange)
}

/// Reads a day name: "mon", "monday", and the common "tues", "thur", "thurs".
pub(crate) fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// Lowercases, trims and collapses runs of whitespace to one space, so the parsers
/// only ever see one spelling of "spacing".
pub(crate) fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// "09:00", or "09:00:30" when the seconds are set: how times are shown everywhere,
/// and a form [`parse_clock`] reads back.
pub(crate) fn clock_text(t: NaiveTime) -> String {
    if t.second() == 0 {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}
