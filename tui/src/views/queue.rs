//! The queue: upcoming, drafts, failed and uncertain posts, filtered, with a selection.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::theme::{Theme, state_name};
use super::{block, fit, short_time};
use crate::app::State;
use crate::app::activity::excerpt;
use crate::app::geometry::first_visible;
use crate::app::state::QueueTab;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let tabs_area = Rect { height: 1, ..area };
    let list_area = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    tabs(frame, tabs_area, state, theme);
    let queue = &state.queue;
    let title = match (queue.filter.is_empty(), queue.selected.len()) {
        (true, 0) => queue.tab.title().to_string(),
        (true, n) => format!("{} · {n} selected", queue.tab.title()),
        (false, 0) => format!("{} · filter: {}", queue.tab.title(), queue.filter),
        (false, n) => format!(
            "{} · filter: {} · {n} selected",
            queue.tab.title(),
            queue.filter
        ),
    };
    let (read, total) = match queue.tab {
        QueueTab::Upcoming => (state.data.lists.upcoming.len(), state.data.totals.upcoming),
        QueueTab::Drafts => (state.data.lists.drafts.len(), state.data.totals.drafts),
        QueueTab::Failed => (state.data.lists.failed.len(), state.data.totals.failed),
        QueueTab::Uncertain => (
            state.data.lists.uncertain.len(),
            state.data.totals.uncertain,
        ),
    };
    // Only a page of a long list is read: say so, and where the rest is.
    let title = if read < total {
        format!("{title} · first {read} of {total} (all: postctl list)")
    } else {
        title
    };
    let outer = block(title, theme);
    let inner = outer.inner(list_area);
    frame.render_widget(outer, list_area);
    if queue.rows.is_empty() {
        let empty = match (queue.filter.is_empty(), queue.tab) {
            (false, _) => "No post matches the filter. Esc clears it.",
            (true, QueueTab::Upcoming) => "Nothing scheduled. n writes a post.",
            (true, QueueTab::Drafts) => "No drafts.",
            (true, QueueTab::Failed) => "Nothing failed or missed.",
            (true, QueueTab::Uncertain) => "Nothing uncertain.",
        };
        frame.render_widget(Paragraph::new(empty).style(theme.dim()), inner);
        return;
    }
    let rows_shown = usize::from(inner.height.saturating_sub(1));
    let first = first_visible(queue.cursor, rows_shown);
    let wide = inner.width >= 100;
    let rows: Vec<Row> = queue
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_shown)
        .map(|(i, &index)| {
            let post = &state.data.posts[index];
            let summary = post.summary_state();
            let mark = if queue.selected.contains(&post.id) {
                "●"
            } else {
                " "
            };
            let when = match post.due {
                Some(due) => short_time(due, state),
                None => format!(
                    "created {}",
                    post.created.with_timezone(&state.tz).format("%-d %b")
                ),
            };
            let accounts: Vec<&str> = post.targets.iter().map(|t| t.account.as_str()).collect();
            let mut cells = vec![
                Line::from(mark),
                Line::from(when),
                Line::styled(state_name(summary), theme.state(summary)),
                Line::from(fit(&accounts.join(","), 14)),
                Line::from(excerpt(post.title.as_deref().unwrap_or(&post.body), 200)),
            ];
            if wide {
                cells.push(Line::styled(
                    state.data.short_id(&post.id).to_string(),
                    theme.dim(),
                ));
            }
            let row = Row::new(cells);
            if i == queue.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(20),
        Constraint::Length(10),
        Constraint::Length(14),
        Constraint::Fill(1),
    ];
    let mut header = vec!["", "WHEN", "STATE", "TO", "TEXT"];
    if wide {
        widths.push(Constraint::Length(10));
        header.push("ID");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1);
    frame.render_widget(table, inner);
}

fn tabs(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    // Every post of the list, also those past the page that was read.
    let totals = &state.data.totals;
    let mut spans = vec![Span::raw(" ")];
    for tab in QueueTab::ALL {
        let count = match tab {
            QueueTab::Upcoming => totals.upcoming,
            QueueTab::Drafts => totals.drafts,
            QueueTab::Failed => totals.failed,
            QueueTab::Uncertain => totals.uncertain,
        };
        let style = if tab == state.queue.tab {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        };
        spans.push(Span::styled(format!(" {} {count} ", tab.title()), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Line::from(spans), area);
}
