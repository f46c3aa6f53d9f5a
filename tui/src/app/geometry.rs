//! Where things are on the screen, as pure functions of the state: the views draw into
//! these rectangles and `update` maps mouse positions back through the same ones.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use ratatui::layout::Rect;

use super::state::{CalendarMode, CalendarState};

/// The top bar, the view, and the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub top: Rect,
    pub main: Rect,
    pub bottom: Rect,
}

pub fn screen(width: u16, height: u16) -> Screen {
    let full = Rect::new(0, 0, width, height);
    let top = Rect {
        height: full.height.min(1),
        ..full
    };
    let bottom = Rect {
        y: full.height.saturating_sub(1),
        height: full.height.saturating_sub(1).min(1),
        ..full
    };
    let main = Rect {
        y: 1,
        height: full.height.saturating_sub(2),
        ..full
    };
    Screen { top, main, bottom }
}

/// Width of the selected day's panel when it sits on the right.
const SIDE_PANEL: u16 = 38;
/// Screens at least this wide put the day panel on the right, narrower ones below.
const SIDE_PANEL_FROM: u16 = 110;
/// Height of the day panel below the grid.
const BOTTOM_PANEL: u16 = 7;

/// The calendar's parts.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarLayout {
    /// "November 2026" and the zone.
    pub title: Rect,
    /// Weekday names (month view only).
    pub header: Option<Rect>,
    /// Each day shown, with its cell.
    pub cells: Vec<(NaiveDate, Rect)>,
    /// The cursor day's posts, listed (the whole view when the day is open).
    pub panel: Option<Rect>,
    /// Lines per post in a cell: 1 in the month, 2 in the week (time, then text).
    pub lines_per_entry: u16,
}

/// The first day of the month of `day`.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The first day of `day`'s week.
pub fn week_start_of(day: NaiveDate, week_start: Weekday) -> NaiveDate {
    day.week(week_start).first_day()
}

pub fn calendar_layout(
    main: Rect,
    calendar: &CalendarState,
    week_start: Weekday,
) -> CalendarLayout {
    if calendar.day_open {
        return CalendarLayout {
            title: Rect { height: 0, ..main },
            header: None,
            cells: Vec::new(),
            panel: Some(main),
            lines_per_entry: 1,
        };
    }
    let (grid, panel) = if main.width >= SIDE_PANEL_FROM {
        let grid = Rect {
            width: main.width - SIDE_PANEL,
            ..main
        };
        let panel = Rect {
            x: main.x + grid.width,
            width: SIDE_PANEL,
            ..main
        };
        (grid, Some(panel))
    } else if main.height >= 16 {
        let grid = Rect {
            height: main.height - BOTTOM_PANEL,
            ..main
        };
        let panel = Rect {
            y: main.y + grid.height,
            height: BOTTOM_PANEL,
            ..main
        };
        (grid, Some(panel))
    } else {
        (main, None)
    };
    let title = Rect { height: 1, ..grid };
    let (first, weeks, header) = match calendar.mode {
        CalendarMode::Month => {
            let start = month_start(calendar.cursor);
            let first = week_start_of(start, week_start);
            let next_month = (start + Duration::days(31)).with_day(1).unwrap_or(start);
            let days = (next_month - first).num_days();
            let weeks = ((days + 6) / 7).max(1) as u16;
            (
                first,
                weeks,
                Some(Rect {
                    y: grid.y + 1,
                    height: 1,
                    ..grid
                }),
            )
        }
        CalendarMode::Week => (week_start_of(calendar.cursor, week_start), 1, None),
    };
    let top = grid.y + 1 + u16::from(header.is_some());
    let rows = Rect {
        y: top,
        height: grid.height.saturating_sub(top - grid.y),
        ..grid
    };
    let col_width = rows.width / 7;
    let row_height = rows.height / weeks;
    let mut cells = Vec::with_capacity(usize::from(weeks) * 7);
    for week in 0..weeks {
        for col in 0..7u16 {
            let date = first + Duration::days(i64::from(week * 7 + col));
            let last_col = col == 6;
            let last_row = week + 1 == weeks;
            let cell = Rect {
                x: rows.x + col * col_width,
                y: rows.y + week * row_height,
                width: if last_col {
                    rows.width - 6 * col_width
                } else {
                    col_width
                },
                height: if last_row {
                    rows.height - (weeks - 1) * row_height
                } else {
                    row_height
                },
            };
            cells.push((date, cell));
        }
    }
    CalendarLayout {
        title,
        header,
        cells,
        panel,
        lines_per_entry: match calendar.mode {
            CalendarMode::Month => 1,
            CalendarMode::Week => 2,
        },
    }
}

/// The first entry shown in a cell (or the panel) of `visible` lines' worth of entries,
/// so that the selected one is on screen.
pub fn first_visible(selected: usize, visible: usize) -> usize {
    selected
        .checked_div(visible)
        .map_or(0, |page| page * visible)
}

/// How many entries fit in a day cell.
pub fn entries_in_cell(cell: Rect, lines_per_entry: u16) -> usize {
    usize::from(cell.height.saturating_sub(1) / lines_per_entry.max(1))
}

/// What a click at (`x`, `y`) hit in the calendar: a day and possibly one of its entries.
pub fn hit(
    layout: &CalendarLayout,
    calendar: &CalendarState,
    x: u16,
    y: u16,
) -> Option<(NaiveDate, Option<usize>)> {
    let inside = |r: &Rect| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
    if let Some(panel) = layout.panel.filter(inside) {
        // The panel has a border and lists the cursor day's entries one per line.
        let rows = usize::from(panel.height.saturating_sub(2));
        let line = y.checked_sub(panel.y + 1).map(usize::from)?;
        if line >= rows {
            return None;
        }
        let first = first_visible(calendar.selected, rows);
        return Some((calendar.cursor, Some(first + line)));
    }
    let (date, cell) = layout.cells.iter().find(|(_, r)| inside(r))?;
    let line = y - cell.y;
    if line == 0 {
        return Some((*date, None));
    }
    let visible = entries_in_cell(*cell, layout.lines_per_entry);
    let first = if *date == calendar.cursor {
        first_visible(calendar.selected, visible)
    } else {
        0
    };
    Some((
        *date,
        Some(first + usize::from((line - 1) / layout.lines_per_entry)),
    ))
}
