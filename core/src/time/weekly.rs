//! Weekly rules: "mon,wed 09:00" for recurring posts, "mon-fri 09:00,13:00" for queue slots.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::TimeError;
use super::clock::{clock_text, normalize, parse_clock, parse_weekday};
use super::zone::find_gap;

/// A weekly pattern of wall-clock times: some days of the week, and one or more times
/// on each of them.
///
/// Written as a day spec then comma-separated times: "mon,wed 09:00",
/// "mon-fri 09:00,13:00,17:30", "daily 9am", "weekends 10:00", "fri-mon 18:00" (ranges
/// wrap around Sunday). [`fmt::Display`] gives the canonical form, which parses back to
/// the same rule.
///
/// Occurrences keep their wall-clock time across DST changes: 09:00 in Europe/Berlin is
/// 08:00 UTC in winter and 07:00 UTC in summer. On the day clocks jump forward, a time
/// inside the skipped hour moves forward by the length of the jump (02:30 becomes 03:30,
/// the instant 02:30 would have been without the change). On the day clocks go back, a
/// time that happens twice occurs once, at the earlier instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyRule {
    /// Indexed by days from Monday.
    days: [bool; 7],
    /// Sorted, without duplicates, never empty.
    times: Vec<NaiveTime>,
}

impl WeeklyRule {
    /// The rule's days, Monday first.
    pub fn days(&self) -> Vec<Weekday> {
        WEEK.iter().copied().filter(|d| self.has(*d)).collect()
    }

    /// The rule's times of day, sorted, without duplicates.
    pub fn times(&self) -> &[NaiveTime] {
        &self.times
    }

    fn has(&self, day: Weekday) -> bool {
        self.days[day.num_days_from_monday() as usize]
    }

    /// The first occurrence strictly after `after`, evaluated as wall-clock time in `tz`
    /// (see the type's doc for DST days). `None` only at the end of chrono's date range.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let first_day = after.with_timezone(&tz).date_naive();
        // The day before too: a time in a gap at midnight moves into the next day.
        // Eight days ahead always hold the next occurrence, since the rule has a day.
        (0..=9)
            .filter_map(|n| first_day.pred_opt()?.checked_add_days(Days::new(n)))
            .flat_map(|date| self.on_date(date, tz))
            .filter(|t| *t > after)
            .min()
    }

    /// All occurrences in `[from, to)`, in order, each once. The work is linear in the
    /// number of days between the bounds.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tz: Tz,
    ) -> Vec<DateTime<Utc>> {
        if from >= to {
            return Vec::new();
        }
        let last_day = to.with_timezone(&tz).date_naive();
        let first_day = from.with_timezone(&tz).date_naive();
        let mut found: Vec<DateTime<Utc>> = first_day
            .pred_opt()
            .unwrap_or(first_day)
            .iter_days()
            .take_while(|date| *date <= last_day)
            .flat_map(|date| self.on_date(date, tz))
            .filter(|t| from <= *t && *t < to)
            .collect();
        found.sort();
        // A gap can move 02:30 onto a 03:30 the rule also has.
        found.dedup();
        found
    }

    /// This rule's instants on one local date (none if the rule skips that weekday).
    fn on_date(&self, date: NaiveDate, tz: Tz) -> Vec<DateTime<Utc>> {
        if !self.has(date.weekday()) {
            return Vec::new();
        }
        self.times
            .iter()
            .filter_map(|time| occurrence(date, *time, tz))
            .collect()
    }
}

/// The instant of a wall-clock time under the rule's DST policy (see [`WeeklyRule`]).
fn occurrence(date: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let local = date.and_time(time);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => {
            // As far past the change as the wall time is past the start of the gap.
            let gap = find_gap(local, tz)?;
            gap.transition.checked_add_signed(local - gap.start)
        }
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

impl FromStr for WeeklyRule {
    type Err = TimeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let rule = input.trim().to_string();
        // "mon - fri 9 am, 1 pm" reads as "mon-fri 9 am,1 pm".
        let s = normalize(input)
            .replace(" ,", ",")
            .replace(", ", ",")
            .replace(" -", "-")
            .replace("- ", "-");
        if s.is_empty() {
            return Err(TimeError::EmptyRule);
        }
        let Some((day_spec, time_spec)) = s.split_once(' ') else {
            parse_days(&s, &rule)?;
            return Err(TimeError::MissingTime {
                example: format!("{s} 09:00"),
                input: rule,
            });
        };
        let days = parse_days(day_spec, &rule)?;
        let mut times = time_spec
            .split(',')
            .map(|piece| {
                parse_clock(piece).map_err(|_| TimeError::BadTime {
                    piece: piece.trim().to_string(),
                    input: rule.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        times.sort();
        times.dedup();
        Ok(WeeklyRule { days, times })
    }
}

/// "mon", "mon,wed", "mon-fri", "fri-mon" (wraps), "daily", "weekdays", "weekends",
/// and mixes such as "mon,wed-fri".
fn parse_days(spec: &str, rule: &str) -> Result<[bool; 7], TimeError> {
    let mut days = [false; 7];
    for item in spec.split(',') {
        let unknown = || TimeError::UnknownDay {
            piece: item.to_string(),
            rule: rule.to_string(),
        };
        let (first, last) = match item {
            "daily" => (Weekday::Mon, Weekday::Sun),
            "weekdays" => (Weekday::Mon, Weekday::Fri),
            "weekends" => (Weekday::Sat, Weekday::Sun),
            _ => match item.split_once('-') {
                Some((a, b)) => (
                    parse_weekday(a).ok_or_else(unknown)?,
                    parse_weekday(b).ok_or_else(unknown)?,
                ),
                None => {
                    let day = parse_weekday(item).ok_or_else(unknown)?;
                    (day, day)
                }
            },
        };
        let mut day = first;
        loop {
            days[day.num_days_from_monday() as usize] = true;
            if day == last {
                break;
            }
            day = day.succ();
        }
    }
    Ok(days)
}

impl fmt::Display for WeeklyRule {
    /// "daily 09:00", "mon-fri 09:00,13:00", "mon,wed 09:00": runs of three or more
    /// days become ranges, Monday first; seconds appear only when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = if self.days.iter().all(|d| *d) {
            "daily".to_string()
        } else {
            day_runs(&self.days).join(",")
        };
        let times: Vec<String> = self.times.iter().map(|t| clock_text(*t)).collect();
        write!(f, "{days} {}", times.join(","))
    }
}

fn day_runs(days: &[bool; 7]) -> Vec<String> {
    let name = |i: usize| WEEK[i].to_string().to_lowercase();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 7 {
        if !days[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < 7 && days[i] {
            i += 1;
        }
        match i - start {
            1 => parts.push(name(start)),
            2 => parts.extend([name(start), name(start + 1)]),
            _ => parts.push(format!("{}-{}", name(start), name(i - 1))),
        }
    }
    parts
}

/// Several rules joined with ";" ("mon-fri 09:00,13:00; sat 10:00"), as an account's
/// queue slots are written. Empty pieces (a trailing ";") are ignored; no rule at all
/// is [`TimeError::EmptyRule`].
pub fn parse_weekly_rules(s: &str) -> Result<Vec<WeeklyRule>, TimeError> {
    let rules = s
        .split(';')
        .filter(|piece| !piece.trim().is_empty())
        .map(str::parse)
        .collect::<Result<Vec<WeeklyRule>, _>>()?;
    if rules.is_empty() {
        return Err(TimeError::EmptyRule);
    }
    Ok(rules)
}
