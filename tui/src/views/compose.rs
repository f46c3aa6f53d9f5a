//! Compose: the editor and its fields on the left; each target's length, counted its
//! network's way (red past the limit), and what the previewed network receives on the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthChar;

use super::block;
use super::theme::Theme;
use crate::app::State;
use crate::app::compose::{Compose, Field, Measure};
use crate::keys::Action;

/// Width of the field labels ("Labels ").
const LABEL: u16 = 7;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, compose: &Compose, theme: Theme) {
    let right_width = if area.width >= 100 {
        area.width * 2 / 5
    } else {
        34
    };
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_width)]).areas(area);
    let [text_area, to_area, when_area, labels_area, media_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(left);
    let title = match &compose.post_id {
        Some(id) => format!("Editing {}", state.data.short_id(id)),
        None => "New post".to_string(),
    };
    let focused = |field| compose.focus == field;
    let text_block = block(title, theme).border_style(if focused(Field::Body) {
        theme.focus()
    } else {
        Style::new()
    });
    let inner = text_block.inner(text_area);
    frame.render_widget(text_block, text_area);
    editor(frame, inner, compose, focused(Field::Body));

    field(
        frame,
        to_area,
        Field::To,
        compose,
        theme,
        to_line(compose, theme),
    );
    field(
        frame,
        when_area,
        Field::When,
        compose,
        theme,
        when_line(compose, state, theme),
    );
    field(
        frame,
        labels_area,
        Field::Labels,
        compose,
        theme,
        Line::raw(compose.labels.text.clone()),
    );
    field(
        frame,
        media_area,
        Field::Media,
        compose,
        theme,
        media_line(compose, state, theme),
    );
    for (field, input, area) in [
        (Field::When, &compose.when, when_area),
        (Field::Labels, &compose.labels, labels_area),
    ] {
        if focused(field) {
            let before: String = input.text.chars().take(input.cursor).collect();
            let x = area.x + LABEL + width(&before) as u16;
            frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        }
    }

    let counter_rows = u16::try_from(compose.counters.len().max(1)).unwrap_or(u16::MAX);
    let [counters_area, preview_area] = Layout::vertical([
        Constraint::Length(counter_rows.saturating_add(2).min(right.height / 2)),
        Constraint::Fill(1),
    ])
    .areas(right);
    counters(frame, counters_area, compose, theme);
    preview(frame, preview_area, state, compose, theme);
}

fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

fn field(
    frame: &mut Frame,
    area: Rect,
    field: Field,
    compose: &Compose,
    theme: Theme,
    content: Line,
) {
    let label_style = if compose.focus == field {
        theme.focus().patch(theme.selected())
    } else {
        theme.title()
    };
    let mut spans = vec![
        Span::styled(
            format!("{:<width$}", field.title(), width = usize::from(LABEL) - 1),
            label_style,
        ),
        Span::raw(" "),
    ];
    spans.extend(content.spans);
    frame.render_widget(Line::from(spans), area);
}

/// Where a line wraps at `cols` columns: character ranges, cut after the last space that
/// fits (or inside a word longer than the line).
fn wrap(line: &str, cols: usize) -> Vec<(usize, usize)> {
    let chars: Vec<(char, usize)> = line.chars().map(|c| (c, c.width().unwrap_or(0))).collect();
    let mut segments = Vec::new();
    let (mut start, mut used, mut space) = (0, 0, None);
    let mut i = 0;
    while i < chars.len() {
        let (c, w) = chars[i];
        if used + w > cols && i > start {
            let end = match space {
                // A space that does not fit hangs at the end of its line.
                _ if c == ' ' => i + 1,
                Some(after) if after > start => after,
                _ => i,
            };
            segments.push((start, end));
            start = end;
            i = i.max(start);
            used = chars[start..i].iter().map(|(_, w)| w).sum();
            space = None;
            continue;
        }
        used += w;
        if c == ' ' {
            space = Some(i + 1);
        }
        i += 1;
    }
    segments.push((start, chars.len()));
    segments
}

/// The text, word-wrapped at the area's width, scrolled so the cursor shows.
fn editor(frame: &mut Frame, area: Rect, compose: &Compose, focused: bool) {
    let cols = usize::from(area.width.max(1));
    let mut lines: Vec<String> = Vec::new();
    let mut cursor = (0usize, 0usize);
    for (row, text) in compose.body.lines.iter().enumerate() {
        let chars: Vec<char> = text.chars().collect();
        let segments = wrap(text, cols);
        for (k, &(from, to)) in segments.iter().enumerate() {
            let last = k + 1 == segments.len();
            let col = compose.body.col;
            if row == compose.body.row && col >= from && (col < to || (last && col == to)) {
                let x: usize = chars[from..col]
                    .iter()
                    .map(|c| c.width().unwrap_or(0))
                    .sum();
                cursor = if x >= cols {
                    (lines.len() + 1, 0)
                } else {
                    (lines.len(), x)
                };
            }
            lines.push(chars[from..to].iter().collect());
        }
    }
    let rows = usize::from(area.height.max(1));
    let offset = cursor.0.saturating_sub(rows - 1);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(offset)
        .take(rows)
        .map(Line::raw)
        .collect();
    frame.render_widget(Paragraph::new(shown), area);
    if focused {
        let (row, col) = cursor;
        frame.set_cursor_position((area.x + col as u16, area.y + (row - offset) as u16));
    }
}

fn to_line(compose: &Compose, theme: Theme) -> Line<'static> {
    if compose.to.is_empty() {
        return Line::styled(
            "no accounts yet: add one with `postctl accounts add`",
            theme.dim(),
        );
    }
    let mut spans = Vec::new();
    for (i, choice) in compose.to.iter().enumerate() {
        let mark = if choice.checked { "[x]" } else { "[ ]" };
        let style = if compose.focus == Field::To && i == compose.to_cursor {
            theme.selected()
        } else if choice.checked {
            theme.title()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!("{mark} {}", choice.name), style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn when_line(compose: &Compose, state: &State, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(compose.when.text.clone())];
    match &compose.parsed_when {
        None if compose.when.text.is_empty() => spans.push(Span::styled(
            "e.g. tomorrow 09:00, fri 10:00, in 2h (empty: a draft)",
            theme.dim(),
        )),
        None => {}
        Some(Ok(due)) => spans.push(Span::styled(
            format!("  → {}", super::short_time(*due, state)),
            theme.ok(),
        )),
        Some(Err(e)) => spans.push(Span::styled(format!("  {e}"), theme.error())),
    }
    Line::from(spans)
}

fn media_line(compose: &Compose, state: &State, theme: Theme) -> Line<'static> {
    match compose.media.get(compose.media_cursor) {
        None => Line::styled(
            format!(
                "none; {} attaches a file",
                state.keys.key_of(Action::AttachMedia)
            ),
            theme.dim(),
        ),
        Some(media) => {
            let alt = match &media.alt {
                Some(alt) => Span::raw(alt.clone()),
                None => Span::styled("(type the alt text)", theme.dim()),
            };
            Line::from(vec![
                Span::raw(format!(
                    "{}/{} {}: ",
                    compose.media_cursor + 1,
                    compose.media.len(),
                    media.file_name
                )),
                alt,
            ])
        }
    }
}

fn counters(frame: &mut Frame, area: Rect, compose: &Compose, theme: Theme) {
    let lines: Vec<Line> = if compose.counters.is_empty() {
        vec![Line::styled("Tick accounts in To to count.", theme.dim())]
    } else {
        compose
            .counters
            .iter()
            .map(|c| {
                let (text, style) = match &c.measure {
                    Measure::Pending => ("…".to_string(), theme.dim()),
                    Measure::Unavailable(_) => ("?".to_string(), theme.dim()),
                    Measure::Measured {
                        length,
                        max,
                        fits: true,
                    } => (format!("{length}/{max}"), theme.ok()),
                    Measure::Measured {
                        length,
                        max,
                        fits: false,
                    } => (format!("{length}/{max}!"), theme.error()),
                };
                Line::from(vec![
                    Span::raw(format!(
                        "{:<12}{:<10}",
                        super::fit(&c.account, 11),
                        c.network.display_name()
                    )),
                    Span::styled(text, style),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block("Length", theme)), area);
}

fn preview(frame: &mut Frame, area: Rect, state: &State, compose: &Compose, theme: Theme) {
    let Some(preview) = &compose.preview else {
        frame.render_widget(
            Paragraph::new("The preview shows what each network receives.")
                .style(theme.dim())
                .wrap(Wrap { trim: true })
                .block(block("Preview", theme)),
            area,
        );
        return;
    };
    let mut lines = Vec::new();
    let parts = match &preview.parts {
        Ok(parts) => parts.len(),
        Err(e) => {
            lines.push(Line::styled(e.clone(), theme.error()));
            0
        }
    };
    if let Ok(parts) = &preview.parts {
        for (i, (text, length)) in parts.iter().enumerate() {
            if parts.len() > 1 {
                lines.push(Line::styled(
                    format!("── {}/{} · {length}", i + 1, parts.len()),
                    theme.dim(),
                ));
            }
            lines.extend(text.lines().map(|l| Line::raw(l.to_string())));
        }
    }
    let title = format!(
        "{} · {} · {}",
        preview.account,
        if parts == 1 {
            "1 part".to_string()
        } else {
            format!("{parts} parts")
        },
        state.keys.key_of(Action::NextPreview)
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(title, theme)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn lines_wrap_after_spaces_and_inside_long_words() {
        type Case<'a> = (&'a str, usize, &'a [(usize, usize)]);
        let cases: &[Case<'_>] = &[
            ("", 10, &[(0, 0)]),
            ("short", 10, &[(0, 5)]),
            ("hello big world", 10, &[(0, 10), (10, 15)]),
            ("hello world", 5, &[(0, 6), (6, 11)]),
            ("abcdefghij", 4, &[(0, 4), (4, 8), (8, 10)]),
            ("🎉🎉🎉", 4, &[(0, 2), (2, 3)]),
        ];
        for (line, cols, expected) in cases {
            assert_eq!(wrap(line, *cols), *expected, "{line:?} at {cols}");
        }
    }
}
