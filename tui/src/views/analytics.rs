//! Analytics: one account at a time (←/→): what its network reported and when, followers
//! or members over time, engagement per post, the best-time heat map, the top posts, and
//! the counters curve of a top post opened with Enter.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Chart, Clear, Dataset, GraphType, Paragraph, Wrap,
};

use super::theme::Theme;
use super::{block, fit, short_time};
use crate::app::State;
use crate::app::analytics::{PostCurve, Summary, TargetCurve};
use crate::keys::Action;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/// The heat map's shades, lowest to highest mean engagement; an hour without posts is `·`.
const SHADES: [char; 4] = ['░', '▒', '▓', '█'];

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let Some(account) = state.data.accounts.get(state.analytics.account) else {
        frame.render_widget(
            Paragraph::new(
                "No data yet: there is no account. Add one with `postctl accounts add`, publish, then `postctl stats collect`.",
            )
            .style(theme.dim())
            .wrap(Wrap { trim: false }),
            area,
        );
        return;
    };
    let summary = match &state.analytics.summary {
        None => {
            frame.render_widget(
                Paragraph::new(format!("Reading the analytics of {}…", account.name))
                    .style(theme.dim()),
                area,
            );
            return;
        }
        Some(Err(e)) => {
            frame.render_widget(Paragraph::new(e.as_str()).style(theme.error()), area);
            return;
        }
        Some(Ok(summary)) => summary,
    };
    let [head, charts, lower] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Percentage(45),
        Constraint::Min(11),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(header(summary, state, theme)).wrap(Wrap { trim: false }),
        head,
    );
    let nothing = summary.counted == 0
        && summary.audience_curve.is_empty()
        && summary
            .figures
            .as_ref()
            .is_none_or(|f| f.not_provided.is_none() && f.counters.is_none());
    if nothing && summary.posts_not_provided.is_none() {
        let text = format!(
            "No data yet for {}: nothing has been collected. Run `postctl stats collect` (or keep `postctl daemon` running), and the counters {} reports appear here.",
            summary.account,
            summary.network.display_name()
        );
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.dim())
                .wrap(Wrap { trim: false }),
            Rect {
                height: area.height.saturating_sub(head.height),
                ..charts
            },
        );
        return;
    }
    let [audience_area, engagement_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    audience_chart(frame, audience_area, summary, state, theme);
    engagement_chart(frame, engagement_area, summary, theme);
    let [heat_area, top_area] =
        Layout::horizontal([Constraint::Length(58), Constraint::Min(20)]).areas(lower);
    heat_map(frame, heat_area, summary, theme);
    top_posts(frame, top_area, summary, state, theme);
    if let Some(curve) = &state.analytics.opened {
        let popup = centered(area, 90, 70);
        frame.render_widget(Clear, popup);
        let title = format!("Post {}: {}", curve.short, fit(&curve.title, 40));
        frame.render_widget(
            Paragraph::new(curve_lines(
                curve,
                state,
                theme,
                popup.width.saturating_sub(4),
            ))
            .block(block(title, theme))
            .wrap(Wrap { trim: false }),
            popup,
        );
    }
}

fn header(summary: &Summary, state: &State, theme: Theme) -> Vec<Line<'static>> {
    let network = summary.network.display_name();
    let keys = format!(
        "{}/{} account · {}/{} post · {} curve",
        state.keys.key_of(Action::Left),
        state.keys.key_of(Action::Right),
        state.keys.key_of(Action::Up),
        state.keys.key_of(Action::Down),
        state.keys.key_of(Action::Open),
    );
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(" {} ({}) ", summary.account, summary.network.name()),
            theme.title(),
        ),
        Span::styled(format!(" {keys}"), theme.dim()),
    ])];
    let reported = match (&summary.posts_not_provided, summary.reported.is_empty()) {
        (Some(why), _) => format!(" Posts: {network} provides no counters: {why}"),
        (None, true) => format!(" Posts: {network} has reported no counters yet"),
        (None, false) => format!(
            " Posts: {network} reported {} for {} of {} posts of the last 90 days",
            summary.reported.join(", "),
            summary.counted,
            summary.published
        ),
    };
    lines.push(Line::raw(reported));
    let collected = match summary.last_collected {
        Some(at) => format!("posts last collected {}", short_time(at, state)),
        None => "posts never collected".to_string(),
    };
    let account = match &summary.figures {
        Some(f) => match (&f.not_provided, f.last_read) {
            (Some(why), _) => format!("account figures not provided: {why}"),
            (None, Some(at)) => format!("account figures read {}", short_time(at, state)),
            (None, None) => "account figures never read".to_string(),
        },
        None => "account figures never read".to_string(),
    };
    lines.push(Line::raw(format!(" {collected} · {account}")));
    if let Some(never) = summary.never {
        lines.push(Line::styled(
            format!(" {network} never gives: {never}"),
            theme.dim(),
        ));
    }
    lines
}

fn day(at: DateTime<Utc>, state: &State) -> String {
    at.with_timezone(&state.tz).format("%-d %b").to_string()
}

fn audience_chart(frame: &mut Frame, area: Rect, summary: &Summary, state: &State, theme: Theme) {
    let current = summary
        .figures
        .as_ref()
        .and_then(|f| f.counters.as_ref())
        .and_then(|c| c.get(summary.audience).copied());
    let title = match current {
        Some(n) => format!("{} {n}, daily", capitalized(summary.audience)),
        None => format!("{}, daily", capitalized(summary.audience)),
    };
    let curve = &summary.audience_curve;
    if curve.is_empty() {
        let why = summary
            .figures
            .as_ref()
            .and_then(|f| f.not_provided.clone())
            .unwrap_or_else(|| "no data yet".to_string());
        frame.render_widget(
            Paragraph::new(why)
                .style(theme.dim())
                .wrap(Wrap { trim: false })
                .block(block(title, theme)),
            area,
        );
        return;
    }
    let points: Vec<(f64, f64)> = curve
        .iter()
        .enumerate()
        .map(|(i, (_, n))| (i as f64, *n as f64))
        .collect();
    let low = curve.iter().map(|(_, n)| *n).min().unwrap_or(0);
    let high = curve.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let (first, last) = (curve[0].0, curve[curve.len() - 1].0);
    let chart = Chart::new(vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.key())
            .data(&points),
    ])
    .block(block(title, theme))
    .x_axis(
        Axis::default()
            .bounds([0.0, (points.len().max(2) - 1) as f64])
            .labels([day(first, state), day(last, state)]),
    )
    .y_axis(
        Axis::default()
            .bounds([low as f64, high.max(low + 1) as f64])
            .labels([low.to_string(), high.to_string()]),
    );
    frame.render_widget(chart, area);
}

fn engagement_chart(frame: &mut Frame, area: Rect, summary: &Summary, theme: Theme) {
    let title = "Engagement per post, newest right";
    if summary.chart.is_empty() {
        let why = summary
            .posts_not_provided
            .clone()
            .unwrap_or_else(|| "no data yet".to_string());
        frame.render_widget(
            Paragraph::new(why)
                .style(theme.dim())
                .wrap(Wrap { trim: false })
                .block(block(title, theme)),
            area,
        );
        return;
    }
    let bars: Vec<Bar> = summary
        .chart
        .iter()
        .map(|p| Bar::default().value(p.engagement).style(theme.key()))
        .collect();
    let chart = BarChart::default()
        .block(block(title, theme))
        .bar_width(3)
        .bar_gap(1)
        .data(BarGroup::default().bars(&bars));
    frame.render_widget(chart, area);
}

/// Weekday rows, hour columns (the insights' grid): each hour a shade of its mean
/// engagement against the best hour's, `·` where nothing was posted; then the best slots
/// as `postctl insights` judges them, or why there are none yet.
fn heat_map(frame: &mut Frame, area: Rect, summary: &Summary, theme: Theme) {
    let grid = &summary.best.grid;
    let top = grid.highest().unwrap_or(0.0);
    let mut lines = vec![Line::styled(
        "     0     6     12    18    ".to_string(),
        theme.dim(),
    )];
    for (d, hours) in grid.cells.iter().enumerate() {
        let mut row = format!(" {} ", WEEKDAYS[d]);
        for cell in hours {
            row.push(match cell.value {
                None => '·',
                Some(_) if top <= 0.0 => SHADES[0],
                Some(value) => {
                    let step = (value / top * (SHADES.len() - 1) as f64).round() as usize;
                    SHADES[step.min(SHADES.len() - 1)]
                }
            });
        }
        lines.push(Line::raw(row));
    }
    let suggested = summary.best.suggestions(2);
    lines.push(Line::raw(
        match (&summary.best.not_enough, suggested.as_slice()) {
            (Some(why), _) => format!(" best: not enough data yet ({why})"),
            (None, []) => " best: no hour stands out yet".to_string(),
            (None, slots) => format!(
                " best: {}",
                slots
                    .iter()
                    .map(|s| format!("{} (mean {:.0} over {} posts)", s.label(), s.value, s.posts))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    ));
    lines.push(Line::styled(
        format!(
            " · no posts  ░ low  █ high; {} posts older than 48 h",
            summary.best.posts
        ),
        theme.dim(),
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(
                "Best times (weekday × hour, engagement per post)",
                theme,
            )),
        area,
    );
}

fn top_posts(frame: &mut Frame, area: Rect, summary: &Summary, state: &State, theme: Theme) {
    let width = usize::from(area.width.saturating_sub(2));
    let lines: Vec<Line> = if summary.top.is_empty() {
        vec![Line::styled(" no data yet", theme.dim())]
    } else {
        summary
            .top
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let text = fit(
                    &format!(
                        " {:<12} {:>6}  {}  {}",
                        p.short,
                        p.engagement,
                        day(p.published, state),
                        p.title
                    ),
                    width,
                );
                if i == state.analytics.cursor {
                    Line::styled(text, theme.selected())
                } else {
                    Line::raw(text)
                }
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block("Top posts (engagement)", theme)),
        area,
    );
}

/// A post's counters on each account, with the curve of its engagement and what the
/// network does not give; shared with the post detail.
pub fn curve_lines(
    curve: &PostCurve,
    state: &State,
    theme: Theme,
    width: u16,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if curve.targets.is_empty() {
        lines.push(Line::styled(
            "Not published anywhere yet, so no network has counters for it.",
            theme.dim(),
        ));
    }
    for t in &curve.targets {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", t.account), theme.title()),
            Span::raw(format!("({}) ", t.network.name())),
            Span::styled(standing(t, state), Style::new()),
        ]));
        let values: Vec<u64> = t.points.iter().map(|(_, v)| *v).collect();
        if values.len() > 1 {
            let spark = postctl_core::analytics::sparkline(
                &values,
                usize::from(width.saturating_sub(30)).max(8),
            );
            lines.push(Line::raw(format!(
                "  curve {spark}  {} readings, {} to {}",
                values.len(),
                day(t.points[0].0, state),
                day(t.points[values.len() - 1].0, state)
            )));
        }
        if let Some(never) = t.never {
            lines.push(Line::styled(format!("  never given: {never}"), theme.dim()));
        }
    }
    lines
}

fn standing(t: &TargetCurve, state: &State) -> String {
    if let Some(why) = &t.not_provided {
        return format!("not provided: {why}");
    }
    let mut text = match &t.counters {
        None => "not read yet (run `postctl stats collect`)".to_string(),
        Some(c) if c.is_empty() => "engagement 0: none counted yet".to_string(),
        Some(c) => format!(
            "engagement {}: {}",
            postctl_core::analytics::engagement(c),
            c.iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect::<Vec<_>>()
                .join("  ")
        ),
    };
    if let Some(at) = t.last_read {
        text += &format!(" · read {}", short_time(at, state));
    }
    if let Some(at) = t.deleted {
        text += &format!(" · deleted on the network {}", short_time(at, state));
    }
    text
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn centered(area: Rect, percent_x: u16, percent_y: u16) -> Rect {
    let width = area.width * percent_x / 100;
    let height = area.height * percent_y / 100;
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
