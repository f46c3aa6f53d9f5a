//! The one clock postctl reads "now" from: the system's, or one that starts at a given
//! moment (`POSTCTL_NOW`) and runs forward at real speed from there.
//!
//! Every command of one run reads the same clock, so what `list` calls due, `schedule`
//! reads "tomorrow 9am" against, and the engine claims and publishes all agree. Because it
//! keeps running, waits (a retry, a network's rate limit) and leases work as they do on
//! the system clock. Each process starts its own: two processes given the same
//! `POSTCTL_NOW` both begin at it, whenever they start, and the store then moves it on to
//! the last change the database recorded (`Store::set_clock`), so time does not run
//! backwards from one command to the next.

use chrono::{DateTime, Duration, Utc};

/// Now, as postctl sees it. Cheap to copy; read it with [`Clock::now`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    /// How far this clock is ahead of the system's (negative: behind).
    offset: Duration,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads `start` now and runs forward at real speed.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            offset: start - Utc::now(),
        }
    }

    /// The current time on this clock.
    pub fn now(&self) -> DateTime<Utc> {
        let real = Utc::now();
        real.checked_add_signed(self.offset).unwrap_or(real)
    }

    /// This clock, moved on so that it reads `at` now if it reads less (and left as it is
    /// otherwise); it keeps running at real speed from there.
    pub fn not_before(self, at: DateTime<Utc>) -> Clock {
        let now = self.now();
        match at > now {
            true => Clock {
                offset: self.offset + (at - now),
            },
            false => self,
        }
    }

    /// Whether this is the system's clock.
    pub fn is_system(&self) -> bool {
        self.offset.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_started_at_a_moment_reads_it_and_then_runs_at_real_speed() {
        let start = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .expect("a time")
            .with_timezone(&Utc);
        let clock = Clock::starting_at(start);
        let first = clock.now();
        assert!((first - start).abs() < Duration::seconds(1), "{first}");
        std::thread::sleep(std::time::Duration::from_millis(30));
        let later = clock.now();
        assert!(
            later - first >= Duration::milliseconds(30),
            "{first} {later}"
        );
        assert!(later - first < Duration::seconds(5), "{first} {later}");
        // Moved on to a later moment, it reads that moment and runs on; never moved back.
        let ahead = start + Duration::minutes(5);
        let moved = clock.not_before(ahead);
        assert!(
            (moved.now() - ahead).abs() < Duration::seconds(1),
            "{}",
            moved.now()
        );
        assert_eq!(clock.not_before(start - Duration::minutes(5)), clock);
        let system = Clock::system();
        assert!(system.is_system());
        assert!((system.now() - Utc::now()).abs() < Duration::seconds(1));
    }
}
