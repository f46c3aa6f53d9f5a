//! The approval decision on synced edits ([`Storage::add_version_awaiting`]): what both
//! storages share. A version pushed by someone whose posts need approval sends each post
//! it changes in a way an approver would look at (text, media, time, accounts) for
//! approval: the post's waiting targets (scheduled, or waiting to retry: new ones, and
//! those of a post approved before) await approval instead, in the version's transaction,
//! with one `approval.requested` event per post, as `PATCH /api/v1/posts/{id}` does.
//!
//! [`Storage::add_version_awaiting`]: super::Storage::add_version_awaiting

use postctl_core::model::TargetState;

use super::{Event, FieldWrite, Post, PostWrite};

/// Who pushed a version that needs approval, and who may approve it.
#[derive(Debug, Clone)]
pub struct SyncApproval {
    /// The pushing user's name, for the event.
    pub author: String,
    /// The workspace's owners, admins and named approvers, by name.
    pub approvers: Vec<String>,
    /// The events of a post sent for approval (`approval.requested`), given the post as
    /// the version left it, the author and the approvers.
    pub events_of: fn(&Post, &str, &[String]) -> Vec<Event>,
}

/// A post a version changed in a way that needs approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Touched {
    pub post_id: String,
    /// Its time was written: a post already awaiting approval is asked for again.
    pub schedule: bool,
}

/// Whether a write changes what an approver approved: the text, the media, the time or
/// where it goes (labels and deletion do not).
pub(super) fn needs_approval_again(change: &PostWrite) -> bool {
    match change {
        PostWrite::Title(_)
        | PostWrite::Body(_)
        | PostWrite::Media
        | PostWrite::Schedule { .. }
        | PostWrite::Targets(_) => true,
        PostWrite::Create { .. } | PostWrite::Labels | PostWrite::Deleted(_) => false,
    }
}

/// The posts `writes` touch in a way that needs approval, given which of them win over
/// the field's stamp (`newer`, one per write), in order of first touch.
pub(super) fn touched(writes: &[FieldWrite], newer: &[bool]) -> Vec<Touched> {
    let mut posts: Vec<Touched> = Vec::new();
    for (write, newer) in writes.iter().zip(newer) {
        if !newer || !needs_approval_again(&write.change) {
            continue;
        }
        let schedule = matches!(write.change, PostWrite::Schedule { .. });
        match posts.iter_mut().find(|t| t.post_id == write.post_id) {
            Some(t) => t.schedule |= schedule,
            None => posts.push(Touched {
                post_id: write.post_id.clone(),
                schedule,
            }),
        }
    }
    posts
}

/// Whether a touched post is asked for approval: some of its targets were waiting for
/// their time and now await approval, or its time moved while targets await.
pub(super) fn asks(t: &Touched, moved: u64, awaiting: i64) -> bool {
    moved > 0 || (t.schedule && awaiting > 0)
}

/// Whether a write's stamp wins over the field's (read before it is applied): `?1`
/// workspace, `?2` post, `?3` field, `?4` time, `?5` device.
pub(super) const STAMP_WINS: &str = "SELECT NOT EXISTS (SELECT 1 FROM post_field_stamps
     WHERE workspace_id = ?1 AND post_id = ?2 AND field = ?3
       AND (at_ms > ?4 OR (at_ms = ?4 AND device >= ?5)))";

/// The post's state and whether it is deleted: `?1` post.
pub(super) const POST_LIVE_SCHEDULED: &str =
    "SELECT state = 'scheduled' AND deleted_ms IS NULL FROM posts WHERE id = ?1";

/// The waiting targets of post `?1` await approval, at `?2`.
pub(super) fn await_waiting() -> String {
    format!(
        "UPDATE targets SET state = 'awaiting_approval', next_attempt_ms = NULL,
             first_attempt_ms = NULL, updated_ms = ?2
         WHERE post_id = ?1 AND state IN {}",
        TargetState::sql(TargetState::WAITING)
    )
}

/// Whether the author of post `?1` needs approval in its workspace (it requires approval,
/// and the author is not an owner, an admin or a named approver): a target an account
/// added later makes for the synced post awaits approval then.
pub(super) const AUTHOR_NEEDS_APPROVAL: &str = "SELECT EXISTS (SELECT 1 FROM posts p
     JOIN approval_settings s ON s.workspace_id = p.workspace_id
     WHERE p.id = ?1 AND s.require_approval
       AND NOT EXISTS (SELECT 1 FROM members m WHERE m.workspace_id = p.workspace_id
           AND m.user_id = p.author_id AND m.role IN ('owner', 'admin'))
       AND NOT EXISTS (SELECT 1 FROM approvers a WHERE a.workspace_id = p.workspace_id
           AND a.user_id = p.author_id))";

/// The state of a target an added account makes for a synced post: what the post's time
/// gives, awaiting approval instead of scheduled when its author needs approval.
pub(super) fn adopted_state(state: TargetState, author_needs_approval: bool) -> TargetState {
    match state {
        TargetState::Scheduled if author_needs_approval => TargetState::AwaitingApproval,
        other => other,
    }
}

/// How many targets of post `?1` await approval.
pub(super) const COUNT_AWAITING: &str =
    "SELECT count(*) FROM targets WHERE post_id = ?1 AND state = 'awaiting_approval'";

#[cfg(test)]
mod tests {
    use super::*;

    fn write(post: &str, change: PostWrite) -> FieldWrite {
        FieldWrite {
            post_id: post.into(),
            at_ms: 1,
            device: "d".into(),
            change,
            value: "null".into(),
        }
    }

    #[test]
    fn only_winning_content_time_and_account_writes_ask() {
        let writes = [
            write("a", PostWrite::Create { created_ms: 1 }),
            write("a", PostWrite::Labels),
            write("b", PostWrite::Body("x".into())),
            write("c", PostWrite::Title(None)),
            write("a", PostWrite::Media),
            write(
                "a",
                PostWrite::Schedule {
                    state: super::super::PostState::Scheduled,
                    scheduled_ms: Some(5),
                    zone: "UTC".into(),
                },
            ),
            write("d", PostWrite::Deleted(true)),
            write("e", PostWrite::Targets(vec!["m".into()])),
        ];
        let newer = [true, true, true, false, true, true, true, true];
        assert_eq!(
            touched(&writes, &newer),
            [
                Touched {
                    post_id: "b".into(),
                    schedule: false
                },
                Touched {
                    post_id: "a".into(),
                    schedule: true
                },
                Touched {
                    post_id: "e".into(),
                    schedule: false
                },
            ]
        );
    }

    #[test]
    fn a_post_is_asked_when_targets_moved_or_its_time_moved_while_waiting() {
        let text = Touched {
            post_id: "p".into(),
            schedule: false,
        };
        let time = Touched {
            post_id: "p".into(),
            schedule: true,
        };
        assert!(asks(&text, 1, 1));
        assert!(
            !asks(&text, 0, 1),
            "a text edit of a waiting post asks once"
        );
        assert!(asks(&time, 0, 1));
        assert!(!asks(&time, 0, 0), "a draft is not asked");
    }
}
