//! Drawing: every view is a function of the state and nothing else.

mod accounts;
mod activity;
mod analytics;
mod approvals;
mod calendar;
mod compose;
mod detail;
mod help;
mod inbox;
mod queue;
pub mod theme;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::State;
use crate::app::geometry::screen;
use crate::app::state::View;
use theme::Theme;

pub use help::line_count as help_line_count;

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    let areas = screen(area.width, area.height);
    let theme = Theme::new(state.color);
    top_bar(frame, areas.top, state, theme);
    if !state.loaded {
        frame.render_widget(Paragraph::new("Loading…").style(theme.dim()), areas.main);
    } else if let Some(compose) = &state.compose {
        compose::draw(frame, areas.main, state, compose, theme);
    } else if let Some(detail) = &state.detail {
        detail::draw(frame, areas.main, state, detail, theme);
    } else {
        match state.view {
            View::Calendar => calendar::draw(frame, areas.main, state, theme),
            View::Queue => queue::draw(frame, areas.main, state, theme),
            View::Accounts => accounts::draw(frame, areas.main, state, theme),
            View::Activity => activity::draw(frame, areas.main, state, theme),
            View::Analytics => analytics::draw(frame, areas.main, state, theme),
            View::Approvals => approvals::draw(frame, areas.main, state, theme),
            View::Inbox => inbox::draw(frame, areas.main, state, theme),
        }
    }
    if let Some(scroll) = state.help {
        help::draw(frame, areas.main, state, scroll, theme);
    }
    bottom_bar(frame, areas.bottom, state, theme);
}

fn top_bar(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let mut spans = vec![Span::styled(" postctl ", theme.title())];
    let tab = |i: usize, title: &str| format!(" {} {title} ", i + 1);
    // Too narrow for every title (80 columns): the tabs not shown are cut to three letters.
    let full: usize = View::ALL
        .iter()
        .enumerate()
        .map(|(i, view)| tab(i, view.title()).chars().count())
        .sum();
    let compact = 9 + full + " Compose ".len() + 6 > usize::from(area.width);
    for (i, view) in View::ALL.iter().enumerate() {
        let shown = *view == state.view && state.compose.is_none() && state.detail.is_none();
        let title = match compact && !shown {
            true => view.title().get(..3).unwrap_or(view.title()),
            false => view.title(),
        };
        let style = if shown {
            theme.selected()
        } else {
            Style::new()
        };
        spans.push(Span::styled(tab(i, title), style));
    }
    if state.compose.is_some() {
        spans.push(Span::styled(" Compose ", theme.selected()));
    } else if state.detail.is_some() {
        spans.push(Span::styled(" Post ", theme.selected()));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    let mut clock = format!("{} ", short_time(state.now, state));
    if used + clock.chars().count() > usize::from(area.width) {
        clock = format!("{} ", state.now.with_timezone(&state.tz).format("%H:%M"));
    }
    // The sync state, when linked to a server, before the clock (cut to the room left).
    let sync = state.sync.as_ref().map(|s| {
        let room = usize::from(area.width).saturating_sub(used + clock.chars().count() + 2);
        let style = if s.offline_since.is_some() || s.error.is_some() || s.conflicts > 0 {
            theme.error()
        } else {
            theme.dim()
        };
        Span::styled(format!("{}  ", fit(&s.label(state.tz), room)), style)
    });
    let used = used + sync.as_ref().map_or(0, Span::width);
    let room = usize::from(area.width).saturating_sub(used + clock.chars().count());
    spans.push(Span::raw(" ".repeat(room)));
    spans.extend(sync);
    spans.push(Span::styled(clock, theme.dim()));
    frame.render_widget(Line::from(spans), area);
}

fn bottom_bar(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    if let Some(prompt) = &state.prompt {
        let label = format!("{} ", prompt.label);
        let line = Line::from(vec![
            Span::styled(label.clone(), theme.key()),
            Span::raw(prompt.input.text.clone()),
        ]);
        frame.render_widget(Clear, area);
        frame.render_widget(line, area);
        let before: String = prompt
            .input
            .text
            .chars()
            .take(prompt.input.cursor)
            .collect();
        let x = area.x + (Span::raw(label).width() + Span::raw(before).width()) as u16;
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        return;
    }
    if let Some(status) = &state.status {
        let style = if status.error {
            theme.error()
        } else {
            Style::new()
        };
        frame.render_widget(Line::styled(format!(" {}", status.text), style), area);
        return;
    }
    let mut spans = vec![Span::raw(" ")];
    for (key, label) in state.keys.hints(state.contexts()) {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    frame.render_widget(Line::from(spans), area);
}

/// "Fri 20 Nov 11:00 CET"
pub fn short_time(when: DateTime<Utc>, state: &State) -> String {
    use chrono_tz::OffsetName;
    let local = when.with_timezone(&state.tz);
    let zone = local
        .offset()
        .abbreviation()
        .unwrap_or(state.tz.name())
        .to_string();
    format!("{} {zone}", local.format("%a %-d %b %H:%M"))
}

/// `text` cut to `width` columns (counting characters), with "…" when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

/// A bordered block with a title.
pub fn block(title: impl Into<String>, theme: Theme) -> Block<'static> {
    Block::bordered().title(Span::styled(format!(" {} ", title.into()), theme.title()))
}
