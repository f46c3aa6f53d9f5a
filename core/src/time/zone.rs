//! Zones: reading IANA names and turning wall-clock times into instants.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

use super::{Disambiguation, TimeError};

/// Parses a zone name ("Europe/Berlin", "UTC"). Case does not matter ("europe/berlin").
/// An unknown name gets up to three close IANA names as suggestions, matched against
/// the whole name and its city part ("Berln" -> Europe/Berlin, "new york" -> America/New_York).
pub fn parse_zone(name: &str) -> Result<Tz, TimeError> {
    let trimmed = name.trim();
    if let Ok(tz) = trimmed.parse::<Tz>() {
        return Ok(tz);
    }
    if let Some(tz) = TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(trimmed))
    {
        return Ok(*tz);
    }
    Err(TimeError::UnknownZone {
        name: trimmed.to_string(),
        suggestions: close_zone_names(trimmed),
    })
}

fn close_zone_names(name: &str) -> Vec<String> {
    // People write "New York" for "New_York".
    let wanted = name.to_lowercase().replace(' ', "_");
    if wanted.is_empty() {
        return Vec::new();
    }
    // Allow roughly one typo per four characters, and always one.
    let limit = (wanted.chars().count() / 4).max(1);
    let mut scored: Vec<(usize, &'static str)> = TZ_VARIANTS
        .iter()
        .map(|tz| {
            let full = tz.name().to_lowercase();
            let city = full.rsplit('/').next().unwrap_or(&full);
            let distance = edit_distance(&wanted, &full).min(edit_distance(&wanted, city));
            (distance, tz.name())
        })
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Levenshtein distance over chars; zone names are short, so the O(n*m) table is fine.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Resolves a wall-clock time in a zone.
///
/// - A time that exists once is returned as is.
/// - A time skipped by a DST change is [`TimeError::Nonexistent`], which names the zone,
///   the jump ("clocks go from 02:00 to 03:00") and the valid minutes either side.
/// - A time that happens twice is [`TimeError::Ambiguous`] with [`Disambiguation::Reject`]
///   (naming both instants), or the earlier or later instant otherwise.
pub fn resolve_local(
    local: NaiveDateTime,
    tz: Tz,
    d: Disambiguation,
) -> Result<DateTime<Utc>, TimeError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => match d {
            Disambiguation::Earlier => Ok(earlier.with_timezone(&Utc)),
            Disambiguation::Later => Ok(later.with_timezone(&Utc)),
            Disambiguation::Reject => Err(TimeError::Ambiguous {
                local,
                zone: tz,
                earlier: earlier.with_timezone(&Utc),
                later: later.with_timezone(&Utc),
            }),
        },
        LocalResult::None => {
            let gap = find_gap(local, tz).ok_or_else(|| TimeError::TooFar {
                input: local.to_string(),
            })?;
            let one_second = TimeDelta::seconds(1);
            Err(TimeError::Nonexistent {
                local,
                zone: tz,
                gap_start: gap.start,
                gap_end: gap.end,
                last_before: floor_to_minute(gap.start - one_second),
                first_after: floor_to_minute(gap.end + TimeDelta::seconds(59)),
            })
        }
    }
}

/// A span of wall-clock time that a DST change skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap {
    /// First skipped wall-clock time (02:00 when clocks go from 02:00 to 03:00).
    pub start: NaiveDateTime,
    /// Wall-clock time the clocks jump to (03:00).
    pub end: NaiveDateTime,
    /// The instant of the change; its wall-clock time is `end`.
    pub transition: DateTime<Utc>,
}

/// Finds the gap that contains `local`, which must not exist in `tz`.
///
/// Searches the instants within 30 hours of `local` read as UTC (every real offset is
/// well within that) for the second at which the wall clock jumps past `local`.
/// `None` only at the very ends of chrono's range.
pub(crate) fn find_gap(local: NaiveDateTime, tz: Tz) -> Option<Gap> {
    let wall = |t: i64| -> Option<NaiveDateTime> {
        Some(
            DateTime::from_timestamp(t, 0)?
                .with_timezone(&tz)
                .naive_local(),
        )
    };
    let center = local.and_utc().timestamp();
    let (mut lo, mut hi) = (center - 30 * 3600, center + 30 * 3600);
    // Invariant: wall(lo) < local <= wall(hi); local never equals a wall time (it does not exist).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if wall(mid)? < local {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(Gap {
        start: wall(lo)? + TimeDelta::seconds(1),
        end: wall(hi)?,
        transition: DateTime::from_timestamp(hi, 0)?,
    })
}

fn floor_to_minute(t: NaiveDateTime) -> NaiveDateTime {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}
