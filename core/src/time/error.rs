//! The one error type of the time module. Every message says what to type instead.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::clock::clock_text;
use super::format_local;

/// Everything that can go wrong while reading or resolving a time.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    /// A zone name that is not in the IANA database.
    #[error(
        "unknown time zone {name:?}.{} postctl accepts IANA names like Europe/Berlin, America/New_York or UTC",
        did_you_mean(.suggestions)
    )]
    UnknownZone {
        name: String,
        /// Up to three close IANA names, closest first.
        suggestions: Vec<String>,
    },

    /// Input that matches none of the accepted forms.
    #[error("could not read {input:?} as a time.\n{}", ACCEPTED_FORMS)]
    Unparseable { input: String },

    /// A date or a day ("2026-12-01", "tomorrow", "mon") without a time of day.
    #[error("{input:?} has no time of day; add one, e.g. {example:?}")]
    MissingTime { input: String, example: String },

    /// Something shaped like a date that is not on the calendar ("2026-02-30").
    #[error("{}", bad_date(.input))]
    BadDate { input: String },

    /// A time of day that does not exist on a clock ("25:00", "13pm", "9:75").
    #[error(
        "{} is not a time of day; write 24-hour HH:MM (09:00, 17:30), \
         12-hour with am/pm (9am, 5:30pm), noon or midnight",
        bad_piece(.piece, .input)
    )]
    BadTime { piece: String, input: String },

    /// A relative time or date beyond what can be represented.
    #[error(
        "{input:?} is too far away to schedule; give a date within the next few thousand years"
    )]
    TooFar { input: String },

    /// A wall-clock time skipped by a DST change (clocks jump forward).
    #[error(
        "{} does not exist in {zone}: on that day clocks go {}. \
         The last valid minute before is {}, the first after is {}; use e.g. \"{}\"",
        wall(.local), jump(.gap_start, .gap_end), wall(.last_before), wall(.first_after),
        wall(.first_after)
    )]
    Nonexistent {
        local: NaiveDateTime,
        zone: Tz,
        /// First wall-clock time skipped (e.g. 02:00).
        gap_start: NaiveDateTime,
        /// Wall-clock time the clocks jump to (e.g. 03:00).
        gap_end: NaiveDateTime,
        /// Last whole minute that exists before the gap.
        last_before: NaiveDateTime,
        /// First whole minute that exists after the gap.
        first_after: NaiveDateTime,
    },

    /// A wall-clock time that happens twice (clocks go back) and no choice was made.
    #[error(
        "{} happens twice in {zone}: first at {}, then at {}. \
         Add --earlier or --later to pick one, or give an RFC 3339 time with the offset, e.g. \"{}\"",
        wall(.local), offset_label(.earlier, .zone), offset_label(.later, .zone),
        rfc3339_local(.earlier, .zone)
    )]
    Ambiguous {
        local: NaiveDateTime,
        zone: Tz,
        earlier: DateTime<Utc>,
        later: DateTime<Utc>,
    },

    /// A scheduled time that has already passed.
    #[error(
        "{} is in the past (it is now {}); give a later time, or pass --allow-past to keep it anyway",
        format_local(*.when, *.zone), format_local(*.now, *.zone)
    )]
    Past {
        when: DateTime<Utc>,
        now: DateTime<Utc>,
        zone: Tz,
    },

    /// A day in a weekly rule that is not a day ("mno" in "mno 09:00").
    #[error(
        "unknown day {piece:?} in {rule:?}; use mon..sun or full names, ranges like mon-fri, \
         or daily, weekdays, weekends, e.g. \"mon,wed 09:00\" or \"mon-fri 09:00,13:00\""
    )]
    UnknownDay { piece: String, rule: String },

    /// A weekly rule with nothing in it.
    #[error("the weekly rule is empty; write days then times, e.g. \"mon-fri 09:00,13:00\"")]
    EmptyRule,
}

/// Shown with every unreadable input, so the user never has to look the forms up.
const ACCEPTED_FORMS: &str = "Accepted forms (times are in --tz):
  2026-12-01 09:00, 2026-12-01 9am      a date and a time
  2026-12-01T09:00:00+01:00, ...Z       RFC 3339 with an offset
  09:00, 9am, 5:30pm, noon, midnight    the next time the clock shows it
  today 17:30, tomorrow 9am
  mon 10:00, friday 9am, next fri 10:00
  in 2h, in 90m, in 1d, in 1h30m, now";

/// `"25:00"`, or `"25:00" in "2026-12-01 25:00"` when the input has more than the piece.
fn bad_piece(piece: &str, input: &str) -> String {
    if piece == input {
        format!("{piece:?}")
    } else {
        format!("{piece:?} in {input:?}")
    }
}

/// Why a date is not on the calendar: a day the month does not have, a month that does not
/// exist, or a shape that is not YYYY-MM-DD.
fn bad_date(input: &str) -> String {
    let date = input.split_whitespace().next().unwrap_or(input);
    let numbers: Vec<u32> = date.split('-').filter_map(|n| n.parse().ok()).collect();
    let shaped = date.len() == 10 && numbers.len() == 3 && date.split('-').count() == 3;
    match numbers.as_slice() {
        [year, month, day] if shaped => {
            let Some(first) = chrono::NaiveDate::from_ymd_opt(*year as i32, *month, 1) else {
                return format!(
                    "{date} is not a date: there is no month {month}; months go from 01 to 12"
                );
            };
            let days = first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|next| next.pred_opt())
                .map_or(31, |last| chrono::Datelike::day(&last));
            format!(
                "{date} is not a date: {} has {days} days; check the day",
                first.format("%B %Y")
            )
        }
        _ => format!("{date:?} is not a date; write YYYY-MM-DD, e.g. \"2026-12-01 09:00\""),
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" Did you mean {}?", suggestions.join(", "))
    }
}

/// "2026-03-29 02:30", with seconds only when they are not zero.
pub(crate) fn wall(t: &NaiveDateTime) -> String {
    format!("{} {}", t.format("%Y-%m-%d"), clock(t))
}

fn clock(t: &NaiveDateTime) -> String {
    clock_text(t.time())
}

/// "02:30 CEST (+02:00, 00:30 UTC)": both instants share the wall time, so show what differs.
fn offset_label(when: &DateTime<Utc>, zone: &Tz) -> String {
    let local = when.with_timezone(zone);
    format!(
        "{} ({}, {} UTC)",
        local.format("%H:%M %Z"),
        local.format("%:z"),
        when.format("%H:%M")
    )
}

/// "from 02:00 to 03:00"; with dates when the jump crosses midnight (Pacific/Apia, 2011).
fn jump(start: &NaiveDateTime, end: &NaiveDateTime) -> String {
    if start.date() == end.date() {
        format!("from {} to {}", clock(start), clock(end))
    } else {
        format!("from {} to {}", wall(start), wall(end))
    }
}

fn rfc3339_local(when: &DateTime<Utc>, zone: &Tz) -> String {
    when.with_timezone(zone)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}
