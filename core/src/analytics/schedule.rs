//! When a post's and an account's counters are read again: often while engagement is
//! fresh, then less and less (issue 11). A pure function of the post's age and the last
//! reading, tested with a table of cases.

use chrono::{DateTime, Duration, Utc};

/// Hourly while a post is younger than this.
pub const HOURLY_UNTIL: Duration = Duration::hours(48);
/// Then daily until this age.
pub const DAILY_UNTIL: Duration = Duration::days(30);
/// Then weekly until this age; older posts are not read again.
pub const WEEKLY_UNTIL: Duration = Duration::days(90);
/// Account figures (followers, members) are read daily.
pub const ACCOUNT_EVERY: Duration = Duration::days(1);

/// How often a post of age `age` is read; `None` once it is past [`WEEKLY_UNTIL`].
pub fn interval(age: Duration) -> Option<Duration> {
    // A post "from the future" (clocks of two machines) is as fresh as can be.
    if age < HOURLY_UNTIL {
        Some(Duration::hours(1))
    } else if age < DAILY_UNTIL {
        Some(Duration::days(1))
    } else if age < WEEKLY_UNTIL {
        Some(Duration::weeks(1))
    } else {
        None
    }
}

/// A run that comes a little early still counts: cron's "every hour" starts a few seconds
/// either side, and a reading taken at 10:00:05 must not make 11:00:00 wait an hour more.
/// At most five minutes, so hourly runs keep a daily reading at its hour instead of
/// moving it earlier day after day.
fn slack(every: Duration) -> Duration {
    (every / 12).min(Duration::minutes(5))
}

/// Whether a post published at `published` and last read at `last` is read at `now`.
/// Never read: always (while it is younger than [`WEEKLY_UNTIL`]). Read before: once its
/// interval (for its age now) has passed since then, less a few minutes for a run that
/// comes early.
pub fn post_due(published: DateTime<Utc>, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let Some(every) = interval(now - published) else {
        return false;
    };
    match last {
        None => true,
        Some(last) => now - last >= every - slack(every),
    }
}

/// When the post is read next after a reading at `last`; `None` when never again.
pub fn post_next(published: DateTime<Utc>, last: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let every = interval(last - published)?;
    let next = last + every;
    interval(next - published).map(|_| next)
}

/// Whether the account's figures, last read at `last`, are read at `now`.
pub fn account_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match last {
        None => true,
        Some(last) => now - last >= ACCOUNT_EVERY - slack(ACCOUNT_EVERY),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("valid")
            + Duration::hours(hours)
    }

    #[test]
    fn a_post_is_read_hourly_then_daily_then_weekly_then_never() {
        // (hours since published at `last`, hours since published now, due?)
        let cases: &[(Option<i64>, i64, bool)] = &[
            (None, 0, true),
            (None, 24 * 89, true),
            (None, 24 * 90, false),
            (Some(0), 1, true),
            (Some(0), 0, false),
            // Five minutes early still counts for an hourly reading.
            (Some(10), 11, true),
            (Some(47), 48, false),
            (Some(47), 71, true),
            (Some(48), 71, false),
            (Some(48), 72, true),
            (Some(24 * 29), 24 * 30, false),
            (Some(24 * 28), 24 * 29, true),
            (Some(24 * 30), 24 * 36, false),
            (Some(24 * 30), 24 * 37, true),
            (Some(24 * 30), 24 * 37 - 1, false),
            (Some(24 * 84), 24 * 90, false),
            (Some(24 * 89), 24 * 200, false),
        ];
        for &(last, now, due) in cases {
            assert_eq!(
                post_due(at(0), last.map(at), at(now)),
                due,
                "last {last:?} h, now {now} h"
            );
        }
    }

    #[test]
    fn a_run_a_few_minutes_early_still_reads_the_hourly_post() {
        let published = at(0);
        let last = at(5);
        let early = at(6) - Duration::minutes(4);
        assert!(post_due(published, Some(last), early));
        assert!(!post_due(
            published,
            Some(last),
            at(5) + Duration::minutes(40)
        ));
    }

    #[test]
    fn the_next_reading_follows_the_age_at_the_last() {
        let cases: &[(i64, Option<i64>)] = &[
            (0, Some(1)),
            (47, Some(48)),
            (48, Some(72)),
            (24 * 29, Some(24 * 30)),
            (24 * 30, Some(24 * 37)),
            (24 * 85, None),
        ];
        for &(last, next) in cases {
            assert_eq!(post_next(at(0), at(last)), next.map(at), "last {last} h");
        }
    }

    #[test]
    fn account_figures_are_read_daily() {
        let cases: &[(Option<i64>, i64, bool)] = &[
            (None, 0, true),
            (Some(0), 12, false),
            (Some(0), 23, false),
            (Some(0), 24, true),
        ];
        for &(last, now, due) in cases {
            assert_eq!(account_due(last.map(at), at(now)), due, "{last:?} {now}");
        }
    }
}
