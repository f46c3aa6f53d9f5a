//! The calendar: a month or week grid with each day's posts (the start of each one's text
//! after its time where the cell is wide enough, or time and networks above the text where
//! it is tall enough; a colour per state), and the cursor day's posts beside or below it.

use chrono::{Datelike, NaiveDate};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::{Theme, network_code, network_letter, state_name};
use super::{block, fit};
use crate::app::State;
use crate::app::activity::excerpt;
use crate::app::data::Entry;
use crate::app::geometry::{
    CalendarLayout, calendar_layout, entries_in_cell, first_visible, month_start, week_start_of,
};
use crate::app::state::CalendarMode;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let layout = calendar_layout(area, &state.calendar, state.week_start);
    let entries = state.data.entries_on(state.calendar.cursor, state.tz);
    if !state.calendar.day_open {
        title(frame, &layout, state, theme);
        if let Some(header) = layout.header {
            weekdays(frame, header, &layout, theme);
        }
        for (day, cell) in &layout.cells {
            day_cell(frame, *cell, *day, &layout, state, theme);
        }
    }
    if let Some(panel) = layout.panel {
        day_panel(frame, panel, state, &entries, theme);
    }
}

fn title(frame: &mut Frame, layout: &CalendarLayout, state: &State, theme: Theme) {
    let cursor = state.calendar.cursor;
    let name = match state.calendar.mode {
        CalendarMode::Month => month_start(cursor).format("%B %Y").to_string(),
        CalendarMode::Week => format!(
            "Week of {}",
            week_start_of(cursor, state.week_start).format("%a %-d %b %Y")
        ),
    };
    let mut spans = vec![
        Span::styled(format!(" {name}"), theme.title()),
        Span::styled(format!("  {}", state.tz.name()), theme.dim()),
    ];
    if let Some(moving) = &state.calendar.moving {
        spans.push(Span::styled(
            format!(
                "  moving {} → {}",
                state.data.short_id(&moving.post_id),
                cursor.format("%a %-d %b")
            ),
            theme.moving(),
        ));
    }
    frame.render_widget(Line::from(spans), layout.title);
}

fn weekdays(frame: &mut Frame, header: Rect, layout: &CalendarLayout, theme: Theme) {
    let mut spans = Vec::new();
    for (day, cell) in layout.cells.iter().take(7) {
        let name = day.format("%a").to_string();
        spans.push(Span::styled(
            format!(
                "{:<width$}",
                format!(" {name}"),
                width = usize::from(cell.width)
            ),
            theme.dim(),
        ));
    }
    frame.render_widget(Line::from(spans), header);
}

/// " 09:00 ma bs": the local time and each target's network, in one-letter codes
/// ("09:00 MB") when the cell is too narrow for two.
fn entry_line(entry: &Entry, state: &State, width: usize) -> String {
    let post = &state.data.posts[entry.post];
    let time = entry.at.with_timezone(&state.tz).format("%H:%M");
    let mark = if entry.recurring { "↻" } else { " " };
    let mut networks: Vec<_> = post.targets.iter().map(|t| t.network).collect();
    networks.dedup();
    let long: Vec<&str> = networks.iter().map(|n| network_code(*n)).collect();
    let line = format!(" {time}{mark}{}", long.join(" "));
    if line.chars().count() <= width {
        return line;
    }
    let short: String = networks.iter().map(|n| network_letter(*n)).collect();
    fit(&format!(" {time}{mark}{short}"), width)
}

/// The narrowest cell that still shows the time before the text.
const TIME_AND_TEXT: usize = 16;

/// " 09:00 Shipped v1.2…", as calendars show a title: the start of what the post says,
/// after its time when the cell has room for both.
fn titled_line(entry: &Entry, state: &State, width: usize) -> String {
    let post = &state.data.posts[entry.post];
    let text = post.title.as_deref().unwrap_or(&post.body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mark = if entry.recurring { "↻" } else { " " };
    let line = if width >= TIME_AND_TEXT {
        let time = entry.at.with_timezone(&state.tz).format("%H:%M");
        format!(" {time}{mark}{text}")
    } else {
        format!("{mark}{text}")
    };
    fit(&line, width)
}

fn day_cell(
    frame: &mut Frame,
    cell: Rect,
    day: NaiveDate,
    layout: &CalendarLayout,
    state: &State,
    theme: Theme,
) {
    let is_cursor = day == state.calendar.cursor;
    let entries = state.data.entries_on(day, state.tz);
    let visible = entries_in_cell(cell, layout.lines_per_entry);
    let first = if is_cursor {
        first_visible(state.calendar.selected, visible)
    } else {
        0
    };
    let hidden = entries.len().saturating_sub(visible);
    let width = usize::from(cell.width);
    let in_month = state.calendar.mode == CalendarMode::Week
        || month_start(day) == month_start(state.calendar.cursor);
    let label = match state.calendar.mode {
        CalendarMode::Month => format!("{:>3}", day.day()),
        CalendarMode::Week => format!(" {}", day.format("%a %-d")),
    };
    let more = if hidden > 0 {
        format!("+{hidden}")
    } else {
        String::new()
    };
    let pad = width.saturating_sub(label.chars().count() + more.chars().count() + 1);
    let mut day_style = if day == state.today() {
        theme.today()
    } else if in_month {
        theme.title()
    } else {
        theme.dim()
    };
    if is_cursor {
        day_style = day_style.patch(theme.selected());
    }
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{label}{}", " ".repeat(pad)), day_style),
        Span::styled(format!("{more} "), theme.dim()),
    ])];
    let ghost = state
        .calendar
        .moving
        .as_ref()
        .filter(|m| is_cursor && m.from != day)
        .and_then(|m| state.data.post(&m.post_id));
    if let Some(post) = ghost {
        let time = post
            .due
            .map(|d| d.with_timezone(&state.tz).format("%H:%M").to_string())
            .unwrap_or_default();
        lines.push(Line::styled(
            fit(&format!(" →{time} here"), width),
            theme.moving(),
        ));
    }
    for (i, entry) in entries.iter().enumerate().skip(first).take(visible) {
        let post = &state.data.posts[entry.post];
        let mut style = theme.state(post.summary_state());
        if is_cursor && i == state.calendar.selected {
            style = style.patch(theme.selected());
        }
        if !in_month {
            style = style.patch(theme.dim());
        }
        let line = if layout.lines_per_entry > 1 {
            entry_line(entry, state, width)
        } else {
            titled_line(entry, state, width)
        };
        lines.push(Line::styled(line, style));
        if layout.lines_per_entry > 1 {
            let text = excerpt(
                post.title.as_deref().unwrap_or(&post.body),
                width.saturating_sub(1),
            );
            lines.push(Line::styled(format!(" {text}"), theme.dim()));
        }
    }
    frame.render_widget(Paragraph::new(lines), cell);
}

/// The cursor day's posts, one per line: time, state, accounts, text.
fn day_panel(frame: &mut Frame, area: Rect, state: &State, entries: &[Entry], theme: Theme) {
    let day = state.calendar.cursor;
    let count = match entries.len() {
        0 => "no posts".to_string(),
        1 => "1 post".to_string(),
        n => format!("{n} posts"),
    };
    let name = if state.calendar.day_open {
        day.format("%A %-d %B %Y").to_string()
    } else {
        day.format("%a %-d %b").to_string()
    };
    let outer = block(format!("{name} · {count}"), theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let rows = usize::from(inner.height);
    let width = usize::from(inner.width);
    if entries.is_empty() {
        let hint = if state.data.accounts.is_empty() {
            "No accounts yet: add one from the shell with `postctl accounts add` (see `postctl accounts add --help`); it shows up here at once.".to_string()
        } else {
            format!(
                "Nothing on this day. {} writes a post; {} moves one here.",
                state.keys.key_of(crate::keys::Action::NewPost),
                state.keys.key_of(crate::keys::Action::MovePost)
            )
        };
        frame.render_widget(
            Paragraph::new(hint)
                .style(theme.dim())
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let first = first_visible(state.calendar.selected, rows);
    let lines: Vec<Line> = entries
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, entry)| {
            let post = &state.data.posts[entry.post];
            let summary = post.summary_state();
            let accounts: Vec<&str> = post.targets.iter().map(|t| t.account.as_str()).collect();
            let time = entry
                .at
                .with_timezone(&state.tz)
                .format("%H:%M")
                .to_string();
            let recurring = if entry.recurring { "↻" } else { " " };
            let mut spans = vec![
                Span::raw(format!("{time}{recurring}")),
                Span::styled(format!("{:<10}", state_name(summary)), theme.state(summary)),
                Span::raw(format!("{} ", accounts.join(","))),
            ];
            let used: usize = spans.iter().map(Span::width).sum();
            let id = if state.calendar.day_open {
                format!(" {}", state.data.short_id(&post.id))
            } else {
                String::new()
            };
            let room = width.saturating_sub(used + id.chars().count());
            spans.push(Span::raw(format!(
                "{:<room$}",
                excerpt(post.title.as_deref().unwrap_or(&post.body), room)
            )));
            spans.push(Span::styled(id, theme.dim()));
            let line = Line::from(spans);
            if i == state.calendar.selected {
                line.style(theme.selected())
            } else {
                line.style(Style::new())
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
