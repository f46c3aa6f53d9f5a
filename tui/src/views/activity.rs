//! Activity: the oplog as it happens (publishes, failures, edits), newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::block;
use super::theme::Theme;
use crate::app::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let activity = &state.activity;
    let title = if activity.scroll == 0 {
        "Activity · live".to_string()
    } else {
        format!("Activity · {} newer above", activity.scroll)
    };
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if activity.lines.is_empty() {
        frame.render_widget(
            Paragraph::new("Nothing has happened yet.").style(theme.dim()),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = activity
        .lines
        .iter()
        .skip(activity.scroll)
        .take(usize::from(inner.height))
        .map(|line| {
            let when = line.at.with_timezone(&state.tz).format("%m-%d %H:%M");
            Line::from(vec![
                Span::styled(format!("{when} "), theme.dim()),
                Span::styled(line.text.clone(), theme.activity(line.kind)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
