//! Accounts and their health: the last credential check, what is waiting and failing on
//! each, and what the network said about its limits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

use super::theme::Theme;
use super::{block, fit, short_time};
use crate::app::State;
use crate::app::effect::Verification;
use crate::keys::Action;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let accounts = &state.data.accounts;
    if accounts.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "No accounts yet. Add one from the shell, e.g.\n  postctl accounts add mastodon --name masto --instance https://fosstodon.org --token-stdin < token.txt",
            )
            .style(theme.dim())
            .wrap(Wrap { trim: false })
            .block(block("Accounts", theme)),
            area,
        );
        return;
    }
    let list_height = u16::try_from(accounts.len())
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let [list_area, detail_area] = Layout::vertical([
        Constraint::Length(list_height.min(area.height.saturating_sub(6))),
        Constraint::Min(6),
    ])
    .areas(area);
    let rows: Vec<Row> = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let (pending, failed) = state
                .data
                .per_account
                .get(&account.name)
                .copied()
                .unwrap_or_default();
            let (check, style) = check_cell(state, &account.name, theme);
            let row = Row::new(vec![
                Line::from(account.name.clone()),
                Line::from(account.network.display_name()),
                Line::from(fit(
                    account
                        .handle
                        .as_deref()
                        .or(account.base_url.as_deref())
                        .unwrap_or(""),
                    30,
                )),
                Line::from(pending.to_string()),
                Line::styled(
                    failed.to_string(),
                    if failed > 0 {
                        theme.error()
                    } else {
                        theme.dim()
                    },
                ),
                Line::styled(check, style),
            ]);
            if i == state.accounts.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(10),
            Constraint::Fill(2),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new([
            "NAME",
            "NETWORK",
            "HANDLE OR ADDRESS",
            "QUEUED",
            "FAILED",
            "CHECK",
        ])
        .style(theme.dim()),
    )
    .block(block("Accounts", theme));
    frame.render_widget(table, list_area);

    let Some(account) = accounts.get(state.accounts.cursor) else {
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(account.name.clone(), theme.title()),
        Span::raw(format!(
            " on {}{}",
            account.network.display_name(),
            account
                .base_url
                .as_deref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default()
        )),
    ])];
    if !postctl_core::platforms::can_publish(account.network) {
        lines.push(Line::styled(
            format!(
                "postctl cannot publish to {} yet; posts to it wait.",
                account.network.display_name()
            ),
            theme.dim(),
        ));
    }
    if let Some(why) = state.data.signed_out.get(&account.name) {
        lines.push(Line::styled(
            format!(
                "Needs signing in again; its posts are held until then. Run `postctl accounts reauth {}` in a shell.",
                account.name
            ),
            theme.error(),
        ));
        lines.push(Line::styled(format!("Why: {why}"), theme.dim()));
    }
    match state.accounts.health.get(&account.name) {
        _ if state.accounts.checking.contains(&account.name) => {
            lines.push(Line::styled("Checking the credentials…", theme.dim()));
        }
        None => lines.push(Line::styled(
            format!(
                "Not checked since the dashboard started; {} checks it now, {} checks all.",
                state.keys.key_of(Action::Verify),
                state.keys.key_of(Action::VerifyAll)
            ),
            theme.dim(),
        )),
        Some(Verification {
            at,
            result: Ok(identity),
            ..
        }) => {
            lines.push(Line::styled(
                format!("Credentials work: {identity}"),
                theme.ok(),
            ));
            lines.push(Line::raw(format!(
                "Checked {}. Rate limit: not reached.",
                short_time(*at, state)
            )));
        }
        Some(Verification {
            at,
            result: Err(failure),
            ..
        }) => {
            lines.push(Line::styled(failure.message.clone(), theme.error()));
            let mut what = format!("Checked {}.", short_time(*at, state));
            if let Some(secs) = failure.retry_after_secs {
                what += &format!(" Rate limited: the network asks to wait {secs} s.");
            }
            if failure.auth {
                what += " The credentials were refused or have expired: add the account again with new ones.";
            }
            lines.push(Line::raw(what));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block("Health", theme)),
        detail_area,
    );
}

fn check_cell(state: &State, name: &str, theme: Theme) -> (String, ratatui::style::Style) {
    if state.data.signed_out.contains_key(name) {
        return ("needs sign-in".into(), theme.error());
    }
    if state.accounts.checking.contains(name) {
        return ("checking…".into(), theme.dim());
    }
    match state.accounts.health.get(name) {
        None => ("not checked".into(), theme.dim()),
        Some(v) => match &v.result {
            Ok(_) => (
                format!("ok {}", v.at.with_timezone(&state.tz).format("%H:%M")),
                theme.ok(),
            ),
            Err(f) if f.auth => ("refused".into(), theme.error()),
            Err(f) if f.retry_after_secs.is_some() => ("rate limited".into(), theme.error()),
            Err(_) => ("failed".into(), theme.error()),
        },
    }
}
