//! Rescheduling as pure functions: a post moved by whole days keeps its wall-clock time,
//! and every change comes with the change that takes it back.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use postctl_core::model::{Post, Schedule, TargetState};
use postctl_core::store::{PostChange, ScheduleChange};
use postctl_core::time::{Disambiguation, resolve_local};

use super::data::Data;
use super::effect::{Step, Write};

/// Whether the store will move this target (it skips the ones already out or unknown).
fn movable(state: TargetState) -> bool {
    !matches!(
        state,
        TargetState::Publishing | TargetState::Published | TargetState::Uncertain
    )
}

/// `when` moved by `days` local days in `tz`, at the same wall-clock time. A time that
/// falls in a DST gap or overlap on the new day is an error that says so.
pub fn shift_days(when: DateTime<Utc>, days: i64, tz: Tz) -> Result<DateTime<Utc>, String> {
    let local = when.with_timezone(&tz).naive_local() + Duration::days(days);
    resolve_local(local, tz, Disambiguation::Reject).map_err(|e| e.to_string())
}

/// The write that moves `post` by `days` days, with its inverse.
pub fn move_by_days(post: &Post, days: i64, data: &Data, tz: Tz) -> Result<Step, String> {
    let short = data.short_id(&post.id);
    let due = match (&post.schedule, post.due) {
        (Schedule::Every { .. }, _) => {
            return Err(format!(
                "post {short} repeats on a weekly rule; change the rule with `postctl reschedule {short} --every ...`"
            ));
        }
        (Schedule::None, _) | (_, None) => {
            return Err(format!(
                "post {short} is a draft; schedule it first (s in the queue, or Ctrl-t in compose)"
            ));
        }
        (_, Some(due)) => due,
    };
    let mut forward = HashMap::new();
    let mut back = HashMap::new();
    for target in post.targets.iter().filter(|t| movable(t.state)) {
        let (Some(account_id), Some(target_due)) = (data.account_id(&target.account), target.due)
        else {
            continue;
        };
        forward.insert(account_id.to_string(), shift_days(target_due, days, tz)?);
        back.insert(account_id.to_string(), target_due);
    }
    if forward.is_empty() {
        return Err(format!(
            "post {short} has nothing left to move: every target is publishing, published or uncertain"
        ));
    }
    let new_due = shift_days(due, days, tz)?;
    let change = |due, per_account| ScheduleChange {
        schedule: post.schedule.clone(),
        due,
        tz: post.tz.clone(),
        per_account,
    };
    Ok(Step {
        write: Write::Update {
            post_id: post.id.clone(),
            change: PostChange::default(),
            schedule: Some(change(new_due, forward)),
        },
        undo: vec![Write::Update {
            post_id: post.id.clone(),
            change: PostChange::default(),
            schedule: Some(change(due, back)),
        }],
    })
}

/// The write that schedules `post` at `due` (written in `tz`), with its inverse when the
/// post was already scheduled (a draft cannot be made a draft again).
pub fn schedule_at(post: &Post, due: DateTime<Utc>, tz: Tz, data: &Data) -> Step {
    let undo = match (&post.schedule, post.due) {
        (Schedule::At | Schedule::Queue, Some(old)) => {
            let back: HashMap<String, DateTime<Utc>> = post
                .targets
                .iter()
                .filter(|t| movable(t.state))
                .filter_map(|t| Some((data.account_id(&t.account)?.to_string(), t.due?)))
                .collect();
            vec![Write::Update {
                post_id: post.id.clone(),
                change: PostChange::default(),
                schedule: Some(ScheduleChange {
                    schedule: post.schedule.clone(),
                    due: old,
                    tz: post.tz.clone(),
                    per_account: back,
                }),
            }]
        }
        _ => Vec::new(),
    };
    Step {
        write: Write::Update {
            post_id: post.id.clone(),
            change: PostChange::default(),
            schedule: Some(ScheduleChange {
                schedule: Schedule::At,
                due,
                tz: tz.name().to_string(),
                per_account: HashMap::new(),
            }),
        },
        undo,
    }
}

/// The write that cancels `post`, with its inverse: the cancelled targets scheduled
/// again at their times. A draft's cancel cannot be undone (it would come back scheduled).
pub fn cancel(post: &Post, data: &Data) -> Step {
    let back: HashMap<String, DateTime<Utc>> = post
        .targets
        .iter()
        .filter(|t| matches!(t.state, TargetState::Scheduled | TargetState::WaitingRetry))
        .filter_map(|t| Some((data.account_id(&t.account)?.to_string(), t.due?)))
        .collect();
    let undo = match (post.due, back.is_empty(), &post.schedule) {
        (Some(due), false, schedule) if *schedule != Schedule::None => vec![Write::Update {
            post_id: post.id.clone(),
            change: PostChange::default(),
            schedule: Some(ScheduleChange {
                schedule: schedule.clone(),
                due,
                tz: post.tz.clone(),
                per_account: back,
            }),
        }],
        _ => Vec::new(),
    };
    Step {
        write: Write::Cancel(post.id.clone()),
        undo,
    }
}
