//! The queue (Buffer's model): each account has weekly slots; a queued post takes the
//! account's next slot that no other post holds.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::time::WeeklyRule;

/// How far ahead the queue looks for a free slot.
pub const HORIZON_WEEKS: i64 = 12;

/// The first slot after `now` that is not in `taken`, looking `HORIZON_WEEKS` ahead.
pub fn next_free_slot(
    rules: &[WeeklyRule],
    tz: Tz,
    now: DateTime<Utc>,
    taken: &[DateTime<Utc>],
) -> Option<DateTime<Utc>> {
    free_slots(rules, tz, now, taken).into_iter().next()
}

/// Every free slot after `now` within the horizon, in order.
pub fn free_slots(
    rules: &[WeeklyRule],
    tz: Tz,
    now: DateTime<Utc>,
    taken: &[DateTime<Utc>],
) -> Vec<DateTime<Utc>> {
    let until = now + Duration::weeks(HORIZON_WEEKS);
    let mut slots: Vec<DateTime<Utc>> = rules
        .iter()
        .flat_map(|rule| rule.occurrences(now, until, tz))
        .filter(|slot| *slot > now && !taken.contains(slot))
        .collect();
    slots.sort();
    slots.dedup();
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_weekly_rules;
    use chrono::TimeZone;

    #[test]
    fn the_next_free_slot_skips_taken_ones() {
        let tz = chrono_tz::Europe::Berlin;
        let rules = parse_weekly_rules("mon-fri 09:00,13:00").expect("rules");
        // Thursday 2026-11-26 12:00 UTC = 13:00 Berlin: today's 13:00 is not after now.
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let fri_9 = Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap();
        let fri_13 = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let mon_9 = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        let cases = [
            (vec![], Some(fri_9)),
            (vec![fri_9], Some(fri_13)),
            (vec![fri_9, fri_13], Some(mon_9)),
        ];
        for (taken, expected) in cases {
            assert_eq!(
                next_free_slot(&rules, tz, now, &taken),
                expected,
                "{taken:?}"
            );
        }
        assert_eq!(next_free_slot(&[], tz, now, &[]), None);
    }
}
