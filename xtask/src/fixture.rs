//! What the benchmarks share: the accounts and the posts they import, and civil dates
//! computed without a date library (Howard Hinnant's days-from-civil algorithms).

use std::io::Write as _;
use std::path::Path;

/// How many Mastodon accounts the benchmarks spread posts over (`acc0` ... `acc9`).
pub const ACCOUNTS: usize = 10;

/// Adds the benchmark accounts through `postctl` (which runs one postctl command). Their
/// token is read from `BENCH_TOKEN` at publish time, which no list or calendar needs.
pub fn add_accounts(postctl: impl Fn(&[&str]) -> Result<(), String>) -> Result<(), String> {
    for i in 0..ACCOUNTS {
        let name = format!("acc{i}");
        let instance = format!("https://m{i}.example.org");
        postctl(&[
            "accounts",
            "add",
            "mastodon",
            "--name",
            &name,
            "--instance",
            &instance,
            "--token-env",
            "BENCH_TOKEN",
        ])?;
    }
    Ok(())
}

/// Writes an import CSV of `posts` posts to `path`, 37 minutes apart from `first_minute`
/// minutes after 2026-12-01 00:00 (Europe/Berlin wall clock), on every account in turn.
/// Row by row: the benchmark's own peak memory is carried into each process it measures
/// (see `bench_rss`), so it never holds the whole file.
pub fn write_posts_csv(path: &Path, posts: usize, first_minute: i64) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let write = |out: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        writeln!(out, "text,to,at,tz,labels")?;
        for i in 0..posts {
            let at = wall_clock(first_minute + i as i64 * 37);
            writeln!(
                out,
                "\"Post {i}: shipping the launch notes, part {i}, with a link https://example.com/{i}\",acc{},{at},Europe/Berlin,bench",
                i % ACCOUNTS
            )?;
        }
        out.flush()
    };
    write(&mut out).map_err(|e| format!("{}: {e}", path.display()))
}

/// "YYYY-MM-DD HH:MM", `minutes` after 2026-12-01 00:00. 02:xx becomes 04:xx: on DST days
/// that hour can be a gap or an overlap in Europe/Berlin.
pub fn wall_clock(minutes: i64) -> String {
    let total = days_from_civil(2026, 12, 1) * 1440 + minutes;
    let (days, minute) = (total.div_euclid(1440), total.rem_euclid(1440));
    let (y, m, d) = civil_from_days(days);
    let hour = minute / 60;
    let hour = if hour == 2 { 4 } else { hour };
    format!("{y:04}-{m:02}-{d:02} {hour:02}:{:02}", minute % 60)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The civil date (year, month, day) `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_and_skip_two_oclock() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 12, 1), (2027, 3, 28)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(wall_clock(0), "2026-12-01 00:00");
        assert_eq!(wall_clock(31 * 1440 + 9 * 60 + 5), "2027-01-01 09:05");
        assert_eq!(wall_clock(2 * 60 + 30), "2026-12-01 04:30");
    }
}
