//! Approvals: the posts of the linked server workspace waiting for an approver, with who
//! wrote them, when they are due and where they go.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use super::{block, fit, short_time};
use crate::app::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let approvals = &state.approvals;
    let title = match &approvals.items {
        Some(Ok(items)) => format!("Approvals · {} waiting", items.len()),
        _ => "Approvals".to_string(),
    };
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let items = match &approvals.items {
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
            Paragraph::new("Nothing waits for approval.").style(theme.dim()),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    let skip = approvals.cursor.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(skip)
        .take(height)
        .map(|(i, post)| {
            let due = post
                .scheduled_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| short_time(t.with_timezone(&Utc), state))
                .unwrap_or_else(|| "-".into());
            let accounts: Vec<&str> = post.targets.iter().map(|t| t.account.as_str()).collect();
            let text = post
                .title
                .clone()
                .unwrap_or_else(|| post.body.lines().next().unwrap_or("").to_string());
            let head = format!(
                " {:<13} {:<10} {:<22} {:<14} ",
                post.id.chars().take(13).collect::<String>(),
                fit(post.author.as_deref().unwrap_or("-"), 10),
                due,
                fit(&accounts.join(","), 14),
            );
            let room = width.saturating_sub(head.chars().count());
            let line = Line::from(vec![Span::raw(head), Span::raw(fit(&text, room))]);
            if i == approvals.cursor {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
