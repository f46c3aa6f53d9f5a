use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use chrono_tz::Tz;

use crate::args::CalendarArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{paint, print, print_json, state_color, stdout_color};
use crate::posts::{Entry, calendar};

pub fn run(ctx: &mut Context, args: &CalendarArgs) -> CliResult {
    let tz = ctx.zone(args.tz.as_deref())?;
    let today = ctx.now.with_timezone(&tz).date_naive();
    let week_start = match ctx.config.week_starts_on.as_deref() {
        Some("sun" | "sunday") => Weekday::Sun,
        _ => Weekday::Mon,
    };
    let (first, last, week) = match (&args.week, &args.month) {
        (Some(date), _) => {
            let day = if date.is_empty() {
                today
            } else {
                NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                    CliError::usage(format!("--week takes a date like 2026-12-07; got {date:?}"))
                })?
            };
            let start = day.week(week_start).first_day();
            (start, start + Duration::days(6), true)
        }
        (None, Some(month)) => {
            let first =
                NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
                    CliError::usage(format!("--month takes a month like 2026-12; got {month:?}"))
                })?;
            (first, last_of_month(first), false)
        }
        (None, None) => {
            let first = today.with_day(1).unwrap_or(today);
            (first, last_of_month(first), false)
        }
    };
    let calendar = calendar(ctx, first, last, tz)?;
    if ctx.json {
        return print_json(&calendar);
    }
    let days: BTreeMap<NaiveDate, &Vec<Entry>> =
        calendar.days.iter().map(|d| (d.date, &d.posts)).collect();
    let entries: Vec<&Entry> = calendar.days.iter().flat_map(|d| &d.posts).collect();
    let color = stdout_color();
    let mut out = String::new();
    if !week {
        out += &month_grid(first, last, week_start, today, &days, color, tz);
        out += "\n";
    } else {
        out += &format!(
            "{}\n\n",
            paint(
                &format!("Week of {} ({})", first.format("%a %Y-%m-%d"), tz.name()),
                "1",
                color
            )
        );
    }
    // Columns as wide as their widest cell, so rows with several accounts line up.
    let to_width = entries
        .iter()
        .map(|e| e.to.join(",").chars().count())
        .max()
        .unwrap_or(0);
    let state_width = entries
        .iter()
        .map(|e| e.state.map_or(0, |s| s.as_str().len()))
        .max()
        .unwrap_or(0);
    let mut day = first;
    while day <= last {
        let list = days.get(&day);
        if week || list.is_some() {
            let heading = day.format("%a %d %b").to_string();
            out += &format!(
                "{}\n",
                paint(&heading, if day == today { "1;4" } else { "1" }, color)
            );
            for entry in list.into_iter().copied().flatten() {
                let state = entry
                    .state
                    .map(|s| {
                        let padded = format!("{:<state_width$}", s.as_str());
                        paint(&padded, state_color(s), color)
                    })
                    .unwrap_or_else(|| " ".repeat(state_width));
                out += &format!(
                    "  {}  {:<to_width$}  {}  {}{}  [{}]\n",
                    &entry.local,
                    entry.to.join(","),
                    state,
                    entry.text,
                    if entry.recurring { " ↻" } else { "" },
                    entry.short_id
                );
            }
            if week && list.is_none() {
                out += "  -\n";
            }
        }
        day += Duration::days(1);
    }
    print(&out)
}

fn last_of_month(first: NaiveDate) -> NaiveDate {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.map(|n| n - Duration::days(1)).unwrap_or(first)
}

fn month_grid(
    first: NaiveDate,
    last: NaiveDate,
    week_start: Weekday,
    today: NaiveDate,
    days: &BTreeMap<NaiveDate, &Vec<Entry>>,
    color: bool,
    tz: Tz,
) -> String {
    let title = format!("{} ({})", first.format("%B %Y"), tz.name());
    let mut out = format!("{}\n", paint(&title, "1", color));
    let mut weekday = week_start;
    for _ in 0..7 {
        out += &format!("{:<7}", &format!("{weekday:?}")[..3]);
        weekday = weekday.succ();
    }
    out = out.trim_end().to_string() + "\n";
    let offset = first.weekday().days_since(week_start) as usize;
    let mut line = "       ".repeat(offset);
    let mut day = first;
    while day <= last {
        let count = days.get(&day).map_or(0, |posts| posts.len());
        let mut cell = format!("{:>2}", day.day());
        if count > 0 {
            cell += &format!(" •{count}");
        }
        let width = cell.chars().count();
        let cell = if day == today {
            paint(&cell, "1;4", color)
        } else if count > 0 {
            paint(&cell, "36", color)
        } else {
            cell
        };
        line += &cell;
        line += &" ".repeat(7usize.saturating_sub(width));
        if day.weekday().succ() == week_start {
            out += line.trim_end();
            out += "\n";
            line.clear();
        }
        day += Duration::days(1);
    }
    if !line.trim().is_empty() {
        out += line.trim_end();
        out += "\n";
    }
    out
}
