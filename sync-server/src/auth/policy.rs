//! The access policy of `/api/v1`, in one table: for each route, the action it performs;
//! for each action, the least role a member needs and the scope a key needs. The API's
//! authorization layer reads this table for every request, so no handler checks access
//! itself, and a route missing from the table is refused.
//!
//! Resources of another workspace are not found (404), never forbidden: a key cannot even
//! learn that they exist. Handlers read and write only the caller's workspace.

use crate::storage::{Role, Scope};

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read who the key belongs to.
    Whoami,
    ReadPosts,
    /// Read the counters collected for a post's published targets.
    ReadAnalytics,
    WritePosts,
    /// Schedule, retry and resolve a post's targets.
    Publish,
    ReadAccounts,
    /// Add and delete network accounts (with their credentials), and check them with
    /// their networks (a refused one is held until it signs in again).
    WriteAccounts,
    /// Delete a post's published parts from the networks.
    Unpublish,
    /// Ask the workspace's model for drafts (it spends the workspace's model budget).
    Generate,
    /// Read and set the workspace's model and its key.
    ManageAi,
    ReadMembers,
    ManageMembers,
    /// List, create, rotate and revoke the caller's own keys (never with more scopes than
    /// the calling key has: `api/keys.rs`).
    OwnKeys,
    /// End the calling session.
    SignOut,
    /// Change the caller's own sign-in (TOTP): a session, or a key with `admin`.
    OwnAccount,
    /// Delete users: server administrators only.
    ManageUsers,
    /// List the caller's workspaces, and move a session to another of them.
    OwnWorkspaces,
    /// Pull the workspace's sync versions, or its snapshot.
    PullVersions,
    /// Push a sync version (it writes posts).
    PushVersions,
    /// Read the workspace's media files, and ask which it lacks.
    ReadMedia,
    /// Upload a media file to the workspace.
    WriteMedia,
    /// Make, read, change and delete the workspace's webhook endpoints and deliveries.
    ManageWebhooks,
    /// Read and render the workspace's templates and voices.
    ReadContent,
    /// Store and delete the workspace's templates and voices.
    WriteContent,
    /// Make, list and delete the workspace's triggers (their secrets are shown once) and
    /// feeds.
    ManageTriggers,
    /// Call a generic trigger: it makes a post.
    FireTrigger,
    /// List the posts awaiting approval.
    ReadApprovals,
    /// Approve or reject a post awaiting approval: owners, admins and the workspace's
    /// named approvers ([`Action::approvers_may`]).
    Approve,
    /// Read and change whether posts need approval, and who the named approvers are.
    ManageApprovals,
    /// Read the caller's own inbox and mark it read; manage their own notification
    /// channels and preferences.
    OwnNotifications,
}

impl Action {
    /// The least role that may perform the action.
    pub fn least_role(self) -> Role {
        match self {
            Action::Whoami
            | Action::ReadPosts
            | Action::ReadAnalytics
            | Action::ReadAccounts
            | Action::ReadMembers
            | Action::OwnKeys
            | Action::SignOut
            | Action::OwnAccount
            | Action::ManageUsers
            | Action::OwnWorkspaces
            | Action::PullVersions
            | Action::ReadContent
            | Action::ReadApprovals
            | Action::OwnNotifications
            | Action::ReadMedia => Role::Viewer,
            Action::WritePosts
            | Action::Publish
            | Action::WriteAccounts
            | Action::PushVersions
            | Action::WriteContent
            | Action::FireTrigger
            | Action::Unpublish
            | Action::Generate
            | Action::WriteMedia => Role::Editor,
            Action::ManageMembers
            | Action::ManageWebhooks
            | Action::ManageTriggers
            | Action::Approve
            | Action::ManageAi
            | Action::ManageApprovals => Role::Admin,
        }
    }

    /// The scope a key needs for the action, if any.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Action::Whoami
            | Action::ReadMembers
            | Action::OwnKeys
            | Action::SignOut
            | Action::OwnWorkspaces
            | Action::OwnNotifications => None,
            Action::ReadPosts
            | Action::PullVersions
            | Action::ReadContent
            | Action::ReadApprovals
            | Action::ReadMedia => Some(Scope::PostsRead),
            Action::WritePosts
            | Action::PushVersions
            | Action::WriteContent
            | Action::FireTrigger
            | Action::Generate
            | Action::WriteMedia => Some(Scope::PostsWrite),
            Action::Publish | Action::Approve | Action::Unpublish => Some(Scope::Publish),
            Action::ReadAccounts => Some(Scope::AccountsRead),
            Action::WriteAccounts => Some(Scope::AccountsWrite),
            Action::ManageMembers
            | Action::OwnAccount
            | Action::ManageUsers
            | Action::ManageTriggers
            | Action::ManageAi
            | Action::ManageApprovals => Some(Scope::Admin),
            Action::ManageWebhooks => Some(Scope::WebhooksWrite),
            Action::ReadAnalytics => Some(Scope::AnalyticsRead),
        }
    }

    /// Whether only a server administrator (`user add --admin`) may perform the action,
    /// whatever their role in the workspace.
    pub fn server_admin_only(self) -> bool {
        matches!(self, Action::ManageUsers)
    }

    /// Whether the workspace's named approvers may perform the action whatever their
    /// role (they count as admins for it).
    pub fn approvers_may(self) -> bool {
        matches!(self, Action::Approve)
    }
}

/// The role a member acts with for `action`: a named approver counts as an admin for the
/// actions approvers may perform, their own role otherwise.
pub fn acting_role(action: Action, role: Role, approver: bool) -> Role {
    if approver && action.approvers_may() {
        role.max(Role::Admin)
    } else {
        role
    }
}

/// Every authenticated route: method, path as routed, action.
pub const ROUTES: &[(&str, &str, Action)] = &[
    ("GET", "/api/v1/me", Action::Whoami),
    ("GET", "/api/v1/posts", Action::ReadPosts),
    ("POST", "/api/v1/posts", Action::WritePosts),
    ("GET", "/api/v1/posts/{id}", Action::ReadPosts),
    ("PATCH", "/api/v1/posts/{id}", Action::WritePosts),
    ("DELETE", "/api/v1/posts/{id}", Action::WritePosts),
    ("POST", "/api/v1/posts/{id}/schedule", Action::Publish),
    ("POST", "/api/v1/posts/{id}/cancel", Action::WritePosts),
    ("POST", "/api/v1/posts/{id}/retry", Action::Publish),
    ("POST", "/api/v1/posts/{id}/resolve", Action::Publish),
    ("GET", "/api/v1/posts/{id}/attempts", Action::ReadPosts),
    ("GET", "/api/v1/posts/{id}/metrics", Action::ReadAnalytics),
    ("POST", "/api/v1/posts/{id}/unpublish", Action::Unpublish),
    ("GET", "/api/v1/calendar", Action::ReadPosts),
    ("GET", "/api/v1/accounts", Action::ReadAccounts),
    ("POST", "/api/v1/accounts", Action::WriteAccounts),
    ("GET", "/api/v1/accounts/{id}", Action::ReadAccounts),
    ("DELETE", "/api/v1/accounts/{id}", Action::WriteAccounts),
    ("POST", "/api/v1/accounts/{id}/check", Action::WriteAccounts),
    ("GET", "/api/v1/accounts/{id}/queue", Action::ReadAccounts),
    ("PUT", "/api/v1/accounts/{id}/queue", Action::WriteAccounts),
    (
        "DELETE",
        "/api/v1/accounts/{id}/queue",
        Action::WriteAccounts,
    ),
    ("GET", "/api/v1/queue", Action::ReadAccounts),
    (
        "GET",
        "/api/v1/accounts/{id}/metrics",
        Action::ReadAnalytics,
    ),
    ("GET", "/api/v1/ai", Action::ManageAi),
    ("PUT", "/api/v1/ai", Action::ManageAi),
    ("POST", "/api/v1/generate", Action::Generate),
    ("GET", "/api/v1/members", Action::ReadMembers),
    ("PUT", "/api/v1/members/{name}", Action::ManageMembers),
    ("GET", "/api/v1/keys", Action::OwnKeys),
    ("POST", "/api/v1/keys", Action::OwnKeys),
    ("DELETE", "/api/v1/keys/{id}", Action::OwnKeys),
    ("POST", "/api/v1/keys/{id}/rotate", Action::OwnKeys),
    ("DELETE", "/api/v1/session", Action::SignOut),
    ("POST", "/api/v1/me/totp", Action::OwnAccount),
    ("POST", "/api/v1/me/totp/confirm", Action::OwnAccount),
    ("DELETE", "/api/v1/me/totp", Action::OwnAccount),
    ("GET", "/api/v1/workspaces", Action::OwnWorkspaces),
    ("POST", "/api/v1/session/workspace", Action::OwnWorkspaces),
    ("GET", "/api/v1/sync/versions", Action::PullVersions),
    ("GET", "/api/v1/sync/snapshot", Action::PullVersions),
    ("POST", "/api/v1/sync/versions", Action::PushVersions),
    ("GET", "/api/v1/media", Action::ReadMedia),
    ("GET", "/api/v1/media/{sha256}", Action::ReadMedia),
    ("PUT", "/api/v1/media/{sha256}", Action::WriteMedia),
    ("DELETE", "/api/v1/users/{name}", Action::ManageUsers),
    ("GET", "/api/v1/webhooks", Action::ManageWebhooks),
    ("POST", "/api/v1/webhooks", Action::ManageWebhooks),
    ("GET", "/api/v1/webhooks/{id}", Action::ManageWebhooks),
    ("PATCH", "/api/v1/webhooks/{id}", Action::ManageWebhooks),
    ("DELETE", "/api/v1/webhooks/{id}", Action::ManageWebhooks),
    (
        "POST",
        "/api/v1/webhooks/{id}/rotate-secret",
        Action::ManageWebhooks,
    ),
    ("POST", "/api/v1/webhooks/{id}/ping", Action::ManageWebhooks),
    (
        "GET",
        "/api/v1/webhooks/{id}/deliveries",
        Action::ManageWebhooks,
    ),
    (
        "POST",
        "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
        Action::ManageWebhooks,
    ),
    (
        "POST",
        "/api/v1/deliveries/{delivery}/redeliver",
        Action::ManageWebhooks,
    ),
    ("GET", "/api/v1/templates", Action::ReadContent),
    ("GET", "/api/v1/templates/{name}", Action::ReadContent),
    ("PUT", "/api/v1/templates/{name}", Action::WriteContent),
    ("DELETE", "/api/v1/templates/{name}", Action::WriteContent),
    (
        "POST",
        "/api/v1/templates/{name}/render",
        Action::ReadContent,
    ),
    ("GET", "/api/v1/voices", Action::ReadContent),
    ("GET", "/api/v1/voices/{name}", Action::ReadContent),
    ("PUT", "/api/v1/voices/{name}", Action::WriteContent),
    ("DELETE", "/api/v1/voices/{name}", Action::WriteContent),
    ("GET", "/api/v1/triggers", Action::ManageTriggers),
    ("POST", "/api/v1/triggers", Action::ManageTriggers),
    ("GET", "/api/v1/triggers/{id}", Action::ManageTriggers),
    ("DELETE", "/api/v1/triggers/{id}", Action::ManageTriggers),
    ("GET", "/api/v1/feeds", Action::ManageTriggers),
    ("POST", "/api/v1/feeds", Action::ManageTriggers),
    ("DELETE", "/api/v1/feeds/{id}", Action::ManageTriggers),
    ("POST", "/api/v1/triggers/{id}", Action::FireTrigger),
    ("GET", "/api/v1/approvals", Action::ReadApprovals),
    ("GET", "/api/v1/approvals/settings", Action::ManageApprovals),
    ("PUT", "/api/v1/approvals/settings", Action::ManageApprovals),
    ("POST", "/api/v1/posts/{id}/approve", Action::Approve),
    ("POST", "/api/v1/posts/{id}/reject", Action::Approve),
    ("GET", "/api/v1/posts/{id}/approvals", Action::ReadPosts),
    ("GET", "/api/v1/inbox", Action::OwnNotifications),
    ("POST", "/api/v1/inbox/read-all", Action::OwnNotifications),
    ("POST", "/api/v1/inbox/{id}/read", Action::OwnNotifications),
    (
        "GET",
        "/api/v1/notifications/channels",
        Action::OwnNotifications,
    ),
    (
        "POST",
        "/api/v1/notifications/channels",
        Action::OwnNotifications,
    ),
    (
        "DELETE",
        "/api/v1/notifications/channels/{id}",
        Action::OwnNotifications,
    ),
    (
        "GET",
        "/api/v1/notifications/preferences",
        Action::OwnNotifications,
    ),
    (
        "PUT",
        "/api/v1/notifications/preferences",
        Action::OwnNotifications,
    ),
];

/// The action of a route, or `None` if the route is not in [`ROUTES`].
pub fn action(method: &str, path: &str) -> Option<Action> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, a)| *a)
}

/// Why a caller may not perform an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The key lacks the scope.
    Scope(Scope),
    /// The member's role is below the action's least role.
    Role(Role),
}

/// Decides whether a member with `role`, calling with a key of `scopes`, may perform `action`.
pub fn decide(action: Action, role: Role, scopes: &[Scope]) -> Result<(), Denied> {
    if let Some(scope) = action.scope()
        && !scopes.contains(&scope)
    {
        return Err(Denied::Scope(scope));
    }
    if role < action.least_role() {
        return Err(Denied::Role(action.least_role()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_decide_together() {
        let all = Scope::ALL;
        let cases = [
            (Action::ReadPosts, Role::Viewer, &all[..], Ok(())),
            (
                Action::WritePosts,
                Role::Viewer,
                &all[..],
                Err(Denied::Role(Role::Editor)),
            ),
            (Action::WritePosts, Role::Editor, &all[..], Ok(())),
            (
                Action::WritePosts,
                Role::Owner,
                &[Scope::PostsRead][..],
                Err(Denied::Scope(Scope::PostsWrite)),
            ),
            (
                Action::ManageMembers,
                Role::Editor,
                &all[..],
                Err(Denied::Role(Role::Admin)),
            ),
            (Action::ManageMembers, Role::Admin, &all[..], Ok(())),
            (
                Action::ManageWebhooks,
                Role::Editor,
                &all[..],
                Err(Denied::Role(Role::Admin)),
            ),
            (
                Action::ManageWebhooks,
                Role::Owner,
                &[Scope::Admin, Scope::PostsWrite][..],
                Err(Denied::Scope(Scope::WebhooksWrite)),
            ),
            (Action::ManageWebhooks, Role::Admin, &all[..], Ok(())),
            (Action::Whoami, Role::Viewer, &[][..], Ok(())),
            (
                Action::Publish,
                Role::Viewer,
                &all[..],
                Err(Denied::Role(Role::Editor)),
            ),
            (
                Action::Publish,
                Role::Editor,
                &[Scope::PostsWrite][..],
                Err(Denied::Scope(Scope::Publish)),
            ),
            (
                Action::ReadAccounts,
                Role::Viewer,
                &[Scope::AccountsRead][..],
                Ok(()),
            ),
            (
                Action::WriteAccounts,
                Role::Viewer,
                &all[..],
                Err(Denied::Role(Role::Editor)),
            ),
        ];
        for (action, role, scopes, expected) in cases {
            assert_eq!(
                decide(action, role, scopes),
                expected,
                "{action:?} as {role:?}"
            );
        }
    }

    #[test]
    fn named_approvers_approve_whatever_their_role() {
        let all = Scope::ALL;
        let cases = [
            // (role, named approver, action) -> allowed
            (Role::Editor, false, Action::Approve, false),
            (Role::Editor, true, Action::Approve, true),
            (Role::Viewer, true, Action::Approve, true),
            (Role::Admin, false, Action::Approve, true),
            (Role::Owner, false, Action::Approve, true),
            // Being an approver gives nothing else.
            (Role::Editor, true, Action::ManageApprovals, false),
            (Role::Viewer, true, Action::WritePosts, false),
            (Role::Viewer, false, Action::ReadApprovals, true),
        ];
        for (role, approver, action, allowed) in cases {
            assert_eq!(
                decide(action, acting_role(action, role, approver), &all).is_ok(),
                allowed,
                "{action:?} as {role:?}, approver {approver}"
            );
        }
        assert_eq!(
            decide(Action::Approve, Role::Owner, &[Scope::PostsWrite]),
            Err(Denied::Scope(Scope::Publish))
        );
    }

    #[test]
    fn unknown_routes_have_no_action() {
        assert_eq!(action("GET", "/api/v1/posts"), Some(Action::ReadPosts));
        assert_eq!(action("PUT", "/api/v1/posts"), None);
    }
}
