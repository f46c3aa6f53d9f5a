//! The target state machine as SQL. [`TargetState`] defines the states and their named
//! sets once; statements read them from here, so no statement spells a state name.

use std::sync::LazyLock;

use crate::model::TargetState;

pub(crate) const DRAFT: &str = TargetState::Draft.as_str();
pub(crate) const SCHEDULED: &str = TargetState::Scheduled.as_str();
pub(crate) const PUBLISHING: &str = TargetState::Publishing.as_str();
pub(crate) const WAITING_RETRY: &str = TargetState::WaitingRetry.as_str();
pub(crate) const PUBLISHED: &str = TargetState::Published.as_str();
pub(crate) const UNCERTAIN: &str = TargetState::Uncertain.as_str();
pub(crate) const CANCELLED: &str = TargetState::Cancelled.as_str();
pub(crate) const MISSED: &str = TargetState::Missed.as_str();

/// `('scheduled', 'waiting_retry')`: see [`TargetState::WAITING`].
pub(crate) static WAITING: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::WAITING));
/// See [`TargetState::PENDING`].
pub(crate) static PENDING: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::PENDING));
/// See [`TargetState::EDITABLE`].
pub(crate) static EDITABLE: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::EDITABLE));
/// What a linked database's server reports of a target still on its way: pending, or held
/// for an approver.
pub(crate) static SERVER_ON_ITS_WAY: LazyLock<String> = LazyLock::new(|| {
    let mut states = TargetState::PENDING.to_vec();
    states.push(TargetState::AwaitingApproval);
    TargetState::sql(&states)
});

/// See [`TargetState::NEEDS_USER`].
pub(crate) static NEEDS_USER: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::NEEDS_USER));
/// See [`TargetState::RETRYABLE`].
pub(crate) static RETRYABLE: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::RETRYABLE));
/// See [`TargetState::HOLD_SLOT`].
pub(crate) static HOLD_SLOT: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::HOLD_SLOT));
/// See [`TargetState::SCHEDULED_ONCE`].
pub(crate) static SCHEDULED_ONCE: LazyLock<String> =
    LazyLock::new(|| TargetState::sql(TargetState::SCHEDULED_ONCE));

/// What a target held by a publisher goes back to when it is given back untouched (the
/// SQL form of [`crate::model::Finish::state`] for `Release`).
pub(crate) static RELEASED: LazyLock<String> = LazyLock::new(|| {
    format!("CASE WHEN attempt_count > 0 THEN '{WAITING_RETRY}' ELSE '{SCHEDULED}' END")
});

#[cfg(test)]
mod tests {
    use crate::model::TargetState;

    #[test]
    fn sets_read_as_sql_lists() {
        assert_eq!(&*super::WAITING, "('scheduled', 'waiting_retry')");
    }

    /// The store's statements read state names from here: none spells one in quotes
    /// (the migrations, which never change, and the tests may).
    #[test]
    fn no_statement_spells_a_state_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut spelled = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("core/src/store") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !name.ends_with(".rs") || ["schema.rs", "states.rs", "tests.rs"].contains(&name) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                for state in TargetState::ALL {
                    if line.contains(&format!("'{}'", state.as_str())) {
                        spelled.push(format!("{name}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            spelled.is_empty(),
            "state names in statements: {spelled:#?}"
        );
    }
}
