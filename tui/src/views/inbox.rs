//! Inbox: the signed-in user's notifications on the linked server, unread first (marked
//! with a dot), each with when and what; the selected one's text below the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::block;
use super::fit;
use super::theme::Theme;
use crate::app::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let inbox = &state.inbox;
    let title = match &inbox.items {
        Some(Ok(items)) => format!(
            "Inbox · {} unread",
            items.iter().filter(|i| !i.read).count()
        ),
        _ => "Inbox".to_string(),
    };
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let items = match &inbox.items {
        None => {
            frame.render_widget(
                Paragraph::new("Asking the server…").style(theme.dim()),
                inner,
            );
            return;
        }
        Some(Err(message)) => {
            frame.render_widget(Paragraph::new(message.clone()).style(theme.error()), inner);
            return;
        }
        Some(Ok(items)) => items,
    };
    if items.is_empty() {
        frame.render_widget(
            Paragraph::new("No notifications.").style(theme.dim()),
            inner,
        );
        return;
    }
    let [list, text] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas::<2>(inner);
    let width = usize::from(list.width);
    let height = usize::from(list.height);
    let skip = inbox.cursor.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(skip)
        .take(height)
        .map(|(i, item)| {
            let when: String = item.created_at.replace('T', " ").chars().take(16).collect();
            let head = format!(
                " {} {:<16} {:<20} ",
                if item.read { " " } else { "•" },
                when,
                fit(&item.event_type, 20),
            );
            let room = width.saturating_sub(head.chars().count());
            let title = Span::raw(fit(&item.title, room));
            let line = Line::from(vec![Span::raw(head), title]);
            let line = if item.read {
                line.style(theme.dim())
            } else {
                line
            };
            if i == inbox.cursor {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(item) = items.get(inbox.cursor) {
        frame.render_widget(
            Paragraph::new(item.body.clone())
                .style(theme.dim())
                .wrap(Wrap { trim: false }),
            text,
        );
    }
}
