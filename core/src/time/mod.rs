//! Time for postctl: reading what users type ("tomorrow 9am", "in 2h", "mon 10:00"),
//! IANA zones, resolving wall-clock times across DST changes, and weekly rules for
//! recurring posts and queue slots.
//!
//! Everything here is a pure function of its inputs: "now" is always passed in, so
//! callers (and tests) decide the clock. Instants are `DateTime<Utc>`; wall-clock
//! times only exist together with a zone, and every wall-clock time a user types goes
//! through [`resolve_local`], so a time skipped or repeated by DST is reported rather
//! than silently moved.

mod clock;
mod error;
mod parse;
mod weekly;
mod zone;

#[cfg(test)]
mod tests;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

pub use error::TimeError;
pub use parse::parse_when;
pub use weekly::{WeeklyRule, parse_weekly_rules};
pub use zone::{parse_zone, resolve_local};

/// How to resolve a local time that happens twice (DST overlap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Disambiguation {
    /// Refuse with [`TimeError::Ambiguous`], which names both instants.
    #[default]
    Reject,
    /// The first of the two instants (still on summer time).
    Earlier,
    /// The second of the two instants (after the clocks went back).
    Later,
}

/// What [`parse_when`] needs besides the text: the current instant, the zone the
/// user writes wall-clock times in, and what to do with a repeated wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub disambiguation: Disambiguation,
}

/// How far in the past a time may be before [`ensure_not_past`] refuses it: a time
/// typed as "now" or "09:00" at 09:00 is a minute old by the time it is stored.
const PAST_SLACK: TimeDelta = TimeDelta::seconds(60);

/// Refuses `when` if it is more than 60 seconds before `now`. The message shows the
/// time in `tz` and tells the user to pass `--allow-past` to keep it anyway.
pub fn ensure_not_past(when: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Result<(), TimeError> {
    if when + PAST_SLACK < now {
        Err(TimeError::Past {
            when,
            now,
            zone: tz,
        })
    } else {
        Ok(())
    }
}

/// Formats an instant for humans in a zone: "Tue 2026-12-01 09:00 CET".
pub fn format_local(when: DateTime<Utc>, tz: Tz) -> String {
    use chrono::{Datelike, Timelike};
    use chrono_tz::OffsetName;
    // Written out rather than through a strftime pattern: lists format thousands of these.
    let local = when.with_timezone(&tz);
    let zone = local.offset().abbreviation().unwrap_or(tz.name());
    format!(
        "{:?} {:04}-{:02}-{:02} {:02}:{:02} {zone}",
        local.weekday(),
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// Formats an instant for messages, to the second and never finer: "2026-12-01 09:00:42 CET".
/// Messages say when a retry comes or a limit ends; sub-second digits and UTC only confuse.
pub fn format_moment(when: DateTime<Utc>, tz: Tz) -> String {
    use chrono_tz::OffsetName;
    let local = when.with_timezone(&tz);
    let zone = local.offset().abbreviation().unwrap_or(tz.name());
    format!("{} {zone}", local.format("%Y-%m-%d %H:%M:%S"))
}
