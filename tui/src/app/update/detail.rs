//! Post detail: per-target state and attempt log; retry, cancel, resolve `uncertain`.

use postctl_core::model::TargetState;

use super::{compose, prompt};
use crate::app::effect::{Effect, Job, Step, Write};
use crate::app::moves;
use crate::app::state::{DetailState, PromptFor, State};
use crate::keys::Action;

/// Opens `post_id` in detail and asks for its targets.
pub fn open(state: &mut State, post_id: &str) -> Vec<Effect> {
    state.detail = Some(DetailState {
        post_id: post_id.to_string(),
        targets: None,
        cursor: 0,
        curve: None,
    });
    vec![
        Effect::LoadTargets(post_id.to_string()),
        Effect::LoadCurve(post_id.to_string()),
    ]
}

fn one(write: Write, done: String) -> Vec<Effect> {
    vec![Effect::Write(Job {
        steps: vec![Step {
            write,
            undo: Vec::new(),
        }],
        done,
        ..Job::default()
    })]
}

pub fn act(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    if action == Action::Back {
        state.detail = None;
        return Some(Vec::new());
    }
    let detail = state.detail.as_ref()?;
    let post_id = detail.post_id.clone();
    let post = state.data.post(&post_id).cloned()?;
    let short = state.data.short_id(&post_id).to_string();
    let count = detail.targets.as_ref().map_or(0, Vec::len);
    let selected = detail
        .targets
        .as_ref()
        .and_then(|t| t.get(detail.cursor))
        .map(|t| (t.account.clone(), t.state));
    let effects = match action {
        Action::Up => {
            if let Some(detail) = state.detail.as_mut() {
                detail.cursor = detail.cursor.saturating_sub(1);
            }
            Vec::new()
        }
        Action::Down => {
            if let Some(detail) = state.detail.as_mut() {
                detail.cursor = (detail.cursor + 1).min(count.saturating_sub(1));
            }
            Vec::new()
        }
        Action::Retry => {
            let retryable = post.targets.iter().any(|t| {
                matches!(
                    t.state,
                    TargetState::Failed | TargetState::Missed | TargetState::WaitingRetry
                )
            });
            if retryable {
                one(Write::Retry(post_id), format!("{short} is due again now"))
            } else {
                state.info(format!(
                    "{short} has no failed, missed or waiting target to retry"
                ));
                Vec::new()
            }
        }
        Action::Cancel => vec![Effect::Write(Job {
            steps: vec![moves::cancel(&post, &state.data)],
            done: format!("cancelled {short}"),
            undo_label: format!("cancel of {short}"),
            ..Job::default()
        })],
        Action::ResolvePublished | Action::ResolveNotPublished => match selected {
            Some((account, TargetState::Uncertain)) => {
                if action == Action::ResolvePublished {
                    let label = format!("{account}: the URL it was published at:");
                    prompt::open(
                        state,
                        PromptFor::ResolvePublished { post_id, account },
                        &label,
                        "",
                    );
                    Vec::new()
                } else {
                    one(
                        Write::Resolve {
                            post_id,
                            account: Some(account.clone()),
                            published_url: None,
                        },
                        format!("{account}: not published, so it is due again now"),
                    )
                }
            }
            Some((account, other)) => {
                state.info(format!(
                    "only an uncertain target needs resolving; {account} is {other}"
                ));
                Vec::new()
            }
            None => Vec::new(),
        },
        Action::Later | Action::Earlier => {
            let days = if action == Action::Later { 1 } else { -1 };
            match moves::move_by_days(&post, days, &state.data, state.tz) {
                Ok(step) => vec![Effect::Write(Job {
                    steps: vec![step],
                    done: format!(
                        "moved {short} a day {}",
                        if days > 0 { "later" } else { "earlier" }
                    ),
                    undo_label: format!("move of {short}"),
                    ..Job::default()
                })],
                Err(e) => {
                    state.error(e);
                    Vec::new()
                }
            }
        }
        Action::Schedule => {
            prompt::open(
                state,
                PromptFor::ScheduleAt(vec![post_id]),
                &format!("Schedule {short} at:"),
                "",
            );
            Vec::new()
        }
        Action::Edit => compose::open_edit(state, &post_id),
        _ => return None,
    };
    Some(effects)
}
