//! The help overlay, written from the key map: the keys in force, overrides included.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::block;
use super::theme::{Theme, network_code, network_letter};
use crate::app::State;
use crate::keys::Context;

/// The help's contexts: those in force first, then the others.
fn order(state: &State) -> Vec<Context> {
    let behind = match (&state.compose, &state.detail) {
        (Some(_), _) => vec![Context::Compose],
        (None, Some(_)) => vec![Context::Detail],
        _ => vec![match state.view {
            crate::app::state::View::Calendar => Context::Calendar,
            crate::app::state::View::Queue => Context::Queue,
            crate::app::state::View::Accounts => Context::Accounts,
            crate::app::state::View::Activity => Context::Activity,
            crate::app::state::View::Analytics => Context::Analytics,
            crate::app::state::View::Approvals => Context::Approvals,
            crate::app::state::View::Inbox => Context::Inbox,
        }],
    };
    let mut all = behind;
    for context in [
        Context::Global,
        Context::Always,
        Context::Calendar,
        Context::Queue,
        Context::Detail,
        Context::Compose,
        Context::Accounts,
        Context::Activity,
        Context::Analytics,
        Context::Approvals,
        Context::Inbox,
        Context::Prompt,
        Context::Help,
    ] {
        if !all.contains(&context) {
            all.push(context);
        }
    }
    all
}

/// Where a key's help starts: after "  KEYS          NAME             ".
const HELP_COLUMN: usize = 2 + 14 + 17;

/// `text` in lines of at most `width` characters, broken between words (a word longer
/// than a line gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The width inside the help's border.
fn inner_width(state: &State) -> usize {
    usize::from(
        crate::app::geometry::screen(state.width, state.height)
            .main
            .width
            .saturating_sub(2),
    )
}

fn lines(state: &State, theme: Theme) -> Vec<Line<'static>> {
    let room = inner_width(state).saturating_sub(HELP_COLUMN).max(20);
    let mut lines = vec![
        Line::styled(
            "Keys can be changed in config.toml under [tui.keys], e.g. move = \"M\".",
            theme.dim(),
        ),
        Line::raw(""),
    ];
    for context in order(state) {
        let rows = state.keys.help(context);
        if rows.is_empty() {
            continue;
        }
        lines.push(Line::styled(context.title().to_string(), theme.title()));
        for row in rows {
            // Long help goes on under itself rather than off the edge.
            let mut help = wrap(row.help, room).into_iter();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<14}", row.keys), theme.key()),
                Span::styled(format!("{:<17}", row.name), theme.dim()),
                Span::raw(help.next().unwrap_or_default()),
            ]));
            for more in help {
                lines.push(Line::raw(format!("{}{more}", " ".repeat(HELP_COLUMN))));
            }
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled("Networks in calendar cells", theme.title()));
    for chunk in postctl_core::network::Network::ALL.chunks(4) {
        let text: Vec<String> = chunk
            .iter()
            .map(|n| {
                format!(
                    "{:<2} {} {:<10}",
                    network_code(*n),
                    network_letter(*n),
                    n.display_name()
                )
            })
            .collect();
        lines.push(Line::raw(format!("  {}", text.join("  "))));
    }
    lines
}

/// How many lines the help has (for scrolling).
pub fn line_count(state: &State) -> usize {
    lines(state, Theme::new(false)).len()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, scroll: usize, theme: Theme) {
    let all = lines(state, theme);
    let outer = block("Help · Esc closes · ↑↓ scroll", theme);
    let inner = outer.inner(area);
    let rows = usize::from(inner.height);
    let scroll = scroll.min(all.len().saturating_sub(rows));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(all.into_iter().skip(scroll).take(rows).collect::<Vec<_>>()).block(outer),
        area,
    );
}
