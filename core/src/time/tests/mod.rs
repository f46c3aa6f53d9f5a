//! Case tables for the time module. Expected instants are worked out by hand from the
//! zones' rules (Europe/Berlin: CET +01:00, CEST +02:00 from 2026-03-29 01:00Z to
//! 2026-10-25 01:00Z; America/New_York: EST -05:00, EDT -04:00 from 2026-03-08 07:00Z
//! to 2026-11-01 06:00Z), not copied from the code's output.

mod parse;
mod weekly;
mod zone;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

const BERLIN: Tz = chrono_tz::Europe::Berlin;
const NEW_YORK: Tz = chrono_tz::America::New_York;

/// A Thursday: 13:00 in Berlin (CET), 07:00 in New York (EST).
const NOW: &str = "2026-11-26T12:00:00Z";

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instants are valid RFC 3339")
        .with_timezone(&Utc)
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test wall times are valid")
}
