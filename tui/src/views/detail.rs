//! Post detail: the text, each target's state, links and errors, and the attempt log of
//! the selected target.

use postctl_core::model::{Schedule, TargetState};
use postctl_core::store::TargetStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

use super::theme::{Theme, state_name};
use super::{block, fit, short_time};
use crate::app::State;
use crate::app::state::DetailState;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, detail: &DetailState, theme: Theme) {
    let Some(post) = state.data.post(&detail.post_id) else {
        frame.render_widget(
            Paragraph::new("This post was removed.").style(theme.dim()),
            area,
        );
        return;
    };
    let summary = post.summary_state();
    let targets = detail.targets.as_deref().unwrap_or_default();
    let target_rows = u16::try_from(targets.len().max(1))
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let [head, text_area, targets_area, attempts_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(target_rows.min(area.height / 3 + 2)),
        Constraint::Min(4),
    ])
    .areas(area);

    let when = match (&post.schedule, post.due) {
        (Schedule::None, _) | (_, None) => "not scheduled".to_string(),
        (Schedule::Every { rule }, Some(due)) => {
            format!("every {rule}, next {}", short_time(due, state))
        }
        (Schedule::Queue, Some(due)) => format!("{} (queue slot)", short_time(due, state)),
        (Schedule::At, Some(due)) => short_time(due, state),
    };
    let mut first = vec![
        Span::styled(
            format!(" {} ", state.data.short_id(&post.id)),
            theme.title(),
        ),
        Span::styled(state_name(summary), theme.state(summary)),
        Span::raw(format!("  {when}")),
    ];
    if !post.labels.is_empty() {
        first.push(Span::styled(
            format!("  #{}", post.labels.join(" #")),
            theme.dim(),
        ));
    }
    let media = if post.media.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = post
            .media
            .iter()
            .map(|m| match &m.alt {
                Some(alt) => format!("{} ({alt})", m.file_name),
                None => format!("{} (no alt text)", m.file_name),
            })
            .collect();
        format!(" media: {}", names.join(", "))
    };
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::styled(media, theme.dim())]),
        head,
    );

    let text_block = block(post.title.clone().unwrap_or_else(|| "Text".into()), theme);
    frame.render_widget(
        Paragraph::new(post.body.as_str())
            .block(text_block)
            .wrap(Wrap { trim: false }),
        text_area,
    );

    let header = Row::new(["ACCOUNT", "STATE", "DUE", "TRIES", "LINK OR ERROR"]).style(theme.dim());
    let rows: Vec<Row> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let row = Row::new(vec![
                Line::from(fit(&format!("{} ({})", t.account, t.network), 22)),
                Line::styled(state_name(Some(t.state)), theme.state(Some(t.state))),
                Line::from(t.due.map(|d| short_time(d, state)).unwrap_or_default()),
                Line::from(t.attempt_count.to_string()),
                outcome(t, state, theme),
            ]);
            if i == detail.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let loading = detail.targets.is_none();
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(10),
            Constraint::Length(20),
            Constraint::Length(5),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .block(block(
        if loading {
            "Targets (loading…)"
        } else {
            "Targets"
        },
        theme,
    ));
    frame.render_widget(table, targets_area);

    let selected = targets.get(detail.cursor);
    let title = match selected {
        Some(t) => format!("Attempts on {}", t.account),
        None => "Attempts".to_string(),
    };
    let lines: Vec<Line> = match selected {
        None => vec![],
        Some(t) if t.attempts.is_empty() => vec![Line::styled("No attempts yet.", theme.dim())],
        Some(t) => t
            .attempts
            .iter()
            .rev()
            .map(|a| {
                let status = a
                    .http_status
                    .map(|s| format!(" HTTP {s}"))
                    .unwrap_or_default();
                let style = match a.outcome.as_str() {
                    "published" => theme.ok(),
                    "retry" => theme.state(Some(postctl_core::model::TargetState::WaitingRetry)),
                    _ => theme.error(),
                };
                Line::from(vec![
                    Span::raw(format!(
                        "{} part {} ",
                        a.started.with_timezone(&state.tz).format("%d %b %H:%M:%S"),
                        a.part + 1
                    )),
                    Span::styled(format!("{}{status}", a.outcome), style),
                    Span::raw(
                        a.error
                            .as_deref()
                            .map(|e| format!("  {e}"))
                            .unwrap_or_default(),
                    ),
                ])
            })
            .collect(),
    };
    let counters = detail
        .curve
        .as_ref()
        .map(|curve| super::analytics::curve_lines(curve, state, theme, attempts_area.width));
    let attempts_area = match counters {
        Some(counters) if !counters.is_empty() => {
            let height = u16::try_from(counters.len())
                .unwrap_or(u16::MAX)
                .saturating_add(2)
                .min(attempts_area.height / 2);
            let [counters_area, rest] =
                Layout::vertical([Constraint::Length(height), Constraint::Min(3)])
                    .areas(attempts_area);
            frame.render_widget(
                Paragraph::new(counters)
                    .block(block("Counters", theme))
                    .wrap(Wrap { trim: false }),
                counters_area,
            );
            rest
        }
        _ => attempts_area,
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(title, theme))
            .wrap(Wrap { trim: false }),
        attempts_area,
    );
}

/// The links of the parts published, or the last error, or when the next try is.
fn outcome(target: &TargetStatus, state: &State, theme: Theme) -> Line<'static> {
    let urls: Vec<&str> = target
        .parts
        .iter()
        .filter_map(|p| p.get("url").and_then(serde_json::Value::as_str))
        .collect();
    if !urls.is_empty() {
        return Line::styled(urls.join(" "), theme.ok());
    }
    if TargetState::WAITING.contains(&target.state)
        && state.data.signed_out.contains_key(&target.account)
    {
        return Line::styled(
            format!(
                "held: {0} needs signing in again (`postctl accounts reauth {0}`)",
                target.account
            ),
            theme.error(),
        );
    }
    if let Some(error) = &target.last_error {
        let next = target
            .next_attempt
            .map(|n| format!(" (next try {})", short_time(n, state)))
            .unwrap_or_default();
        return Line::styled(format!("{error}{next}"), theme.error());
    }
    Line::raw("")
}
