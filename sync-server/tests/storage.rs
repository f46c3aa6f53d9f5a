//! The storage contract: one suite of cases, run against SQLite and against PostgreSQL.
//! Each case gets a fresh, migrated database.

mod common;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use postctl_server::storage::{
    self, Account, AccountDeletion, AddVersion, ApiField, ApiKey, Attempt, AttemptEnd, Claim,
    Delivery, DeliveryState, Event, FieldWrite, Finish, Finished, IDEMPOTENCY_TTL_MS,
    IdempotencyBegin, KeyMode, LoginFailures, Post, PostQuery, PostState, PostWrite,
    PublishAttempt, Purge, Purged, Role, Scope, SealedKind, Session, SnapshotPage, Storage,
    StorageError, SyncVersion, TargetChange, TargetState, User, Webhook, Workspace,
};
use postctl_server::storage::{
    AccountMetricDone, AiSettings, ApprovalDecision, Decision, Unapproved,
};
use postctl_server::storage::{
    Channel, ChannelKind, DigestSchedule, InboxItem, InboxQuery, NotificationSend,
    NotificationSettings, Routed, SendEnd, SendState,
};
use postctl_server::storage::{Fired, StoredTemplate, StoredVoice, Trigger, TriggerKind};
use postctl_server::storage::{Made, PostEvents, PostStamps, QueueSlots, Queued};
use postctl_server::storage::{MetricClaim, MetricDone, SyncApproval};

/// Where a fresh database is: a SQLite file or a PostgreSQL URL.
#[derive(Clone, Debug)]
enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

async fn open(target: &Target) -> Result<Arc<dyn Storage>, StorageError> {
    match target {
        Target::Sqlite(path) => storage::open(None, path).await,
        Target::Postgres(url) => storage::open(Some(url), std::path::Path::new("unused")).await,
    }
}

type Case = fn(Target) -> Pin<Box<dyn Future<Output = ()>>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        const CASES: &[(&str, Case)] = &[$((stringify!($name), |t| Box::pin($name(t)))),*];
    };
}

cases!(
    users_are_unique_by_name,
    workspaces_have_an_owner_and_roles,
    keys_are_found_by_hash_and_revoked_once,
    reads_made_together_match_the_reads_apart,
    the_setup_token_is_taken_once,
    posts_stay_in_their_workspace,
    posts_page_newest_first,
    idempotency_keys_replay_refuse_and_expire,
    migrations_run_once_under_a_lock,
    a_newer_schema_is_refused,
    a_deleted_user_loses_personal_data_and_keeps_posts,
    passwords_change_and_end_sessions,
    totp_is_confirmed_once_and_steps_are_used_once,
    recovery_codes_work_once,
    login_failures_count_reset_and_clear,
    versions_chain_by_compare_and_set,
    api_writes_append_versions_to_the_chain,
    made_posts_append_versions_to_the_chain,
    a_batch_pushed_again_is_answered_with_its_version,
    versions_apply_last_writer_wins,
    versions_leave_posts_that_started_publishing_alone,
    versions_make_targets_on_the_accounts_they_name,
    synced_edits_by_an_editor_wait_for_approval,
    snapshots_page_the_current_state_after_the_latest_version,
    media_is_known_per_workspace,
    model_settings_are_per_workspace_and_resealed,
    sessions_move_once,
    keys_rotate_once_with_a_grace_period,
    accounts_stay_in_their_workspace_and_go_when_idle,
    targets_move_only_as_their_state_allows,
    claims_lease_record_parts_and_finish,
    claims_carry_the_posts_media_and_api_writes_are_stamped,
    expired_leases_are_taken_over_or_made_uncertain,
    sealed_values_are_replaced_together_or_not_at_all,
    the_calendar_and_the_next_due_time,
    two_claimers_never_claim_one_target_twice,
    an_account_held_by_one_claimer_is_left_to_it,
    rate_tokens_are_shared_by_every_handle,
    purge_deletes_only_what_ended_before_the_cutoffs,
    webhooks_stay_in_their_workspace_and_rotate_their_secret,
    events_become_one_delivery_per_subscribed_enabled_endpoint,
    deliveries_are_claimed_once_and_a_passed_lease_frees_them,
    attempts_are_recorded_and_failing_endpoints_disabled,
    templates_and_voices_stay_in_their_workspace,
    triggers_make_one_post_per_event,
    feeds_are_polled_by_one_claimer_and_post_each_item_once,
    approval_settings_name_the_members_who_approve,
    approvals_decide_are_recorded_and_never_claimed,
    unapproved_posts_are_missed_once_when_their_time_comes,
    the_publishers_bookkeeping_is_shared,
    a_held_account_is_freed_when_it_signs_in_again,
    events_wait_for_the_notifier_and_are_routed_once,
    inboxes_page_per_user_and_are_marked_read,
    channels_settings_and_messages,
    digests_are_claimed_when_due_and_moved_once,
    metrics_are_claimed_once_recorded_and_read_per_post,
    two_collectors_never_claim_one_target_twice,
    account_figures_are_claimed_once_and_kept_per_account,
    queued_posts_take_the_next_free_slot_once,
    api_queued_posts_are_stamped_at_their_slot,
);

/// Runs every case, or with `STORAGE_CASE` set only the cases whose names contain it.
async fn run_all(mut fresh: impl FnMut() -> Target) {
    let only = std::env::var("STORAGE_CASE").unwrap_or_default();
    for (name, case) in CASES
        .iter()
        .filter(|(name, _)| name.contains(only.as_str()))
    {
        eprintln!("case {name}");
        case(fresh()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_contract_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    run_all(|| {
        n += 1;
        Target::Sqlite(dir.path().join(format!("db{n}.sqlite3")))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_contract_on_postgres() {
    let Some(pg) = common::pg::Postgres::start("storage_contract_on_postgres") else {
        return;
    };
    run_all(|| Target::Postgres(pg.database())).await;
}

fn user(name: &str) -> User {
    User::new(
        uuid::Uuid::now_v7().to_string(),
        name.into(),
        "$argon2id$not-checked-here".into(),
        false,
        1_000,
    )
}

fn workspace(name: &str) -> Workspace {
    Workspace {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.into(),
        created_ms: 2_000,
    }
}

fn key(user: &User, ws: &Workspace, hash: &str) -> ApiKey {
    ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        workspace_id: ws.id.clone(),
        name: Some("ci".into()),
        mode: KeyMode::Test,
        prefix: "sk_test_abcd".into(),
        hash: hash.into(),
        scopes: vec![Scope::PostsRead, Scope::Admin],
        expires_ms: Some(9_000),
        created_ms: 3_000,
        revoked_ms: None,
        rate_per_minute: Some(30),
        allowed_ips: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()],
        replaced_by: None,
    }
}

fn post(ws: &Workspace, author: &User, body: &str) -> Post {
    Post {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        author_id: author.id.clone(),
        title: None,
        body: body.into(),
        state: PostState::Draft,
        scheduled_ms: None,
        zone: "UTC".into(),
        created_ms: 5_000,
        updated_ms: 5_000,
    }
}

/// A store with one user and their workspace.
async fn with_owner(target: &Target) -> (Arc<dyn Storage>, User, Workspace) {
    let s = open(target).await.expect("open");
    let u = user("alice");
    let w = workspace("alice");
    s.create_user(&u).await.expect("user");
    s.create_workspace(&w, &u.id).await.expect("workspace");
    (s, u, w)
}

async fn users_are_unique_by_name(target: Target) {
    let s = open(&target).await.expect("open");
    assert_eq!(s.count_users().await.expect("count"), 0);
    let alice = User {
        admin: true,
        ..user("alice")
    };
    s.create_user(&alice).await.expect("create");
    assert_eq!(
        s.user_by_name("alice").await.expect("read"),
        Some(alice.clone())
    );
    assert_eq!(
        s.user_by_id(&alice.id).await.expect("read"),
        Some(alice.clone())
    );
    assert_eq!(s.user_by_name("bob").await.expect("read"), None);
    let again = s.create_user(&user("alice")).await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    assert_eq!(s.count_users().await.expect("count"), 1);
}

async fn workspaces_have_an_owner_and_roles(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    assert_eq!(
        s.member_role(&ws.id, &alice.id).await.expect("role"),
        Some(Role::Owner)
    );
    assert_eq!(
        s.workspace_by_name("alice").await.expect("ws"),
        Some(ws.clone())
    );
    assert_eq!(
        s.workspace_by_id(&ws.id).await.expect("ws"),
        Some(ws.clone())
    );
    let bob = user("bob");
    s.create_user(&bob).await.expect("bob");
    assert_eq!(s.member_role(&ws.id, &bob.id).await.expect("role"), None);
    s.set_member(&ws.id, &bob.id, Role::Viewer)
        .await
        .expect("add");
    s.set_member(&ws.id, &bob.id, Role::Editor)
        .await
        .expect("change");
    let members = s.members(&ws.id).await.expect("members");
    let roles: Vec<_> = members
        .iter()
        .map(|m| (m.user_name.as_str(), m.role))
        .collect();
    assert_eq!(roles, [("alice", Role::Owner), ("bob", Role::Editor)]);
    let taken = s.create_workspace(&workspace("alice"), &bob.id).await;
    assert!(matches!(taken, Err(StorageError::Conflict(_))), "{taken:?}");
    // The failed workspace left no membership behind.
    assert_eq!(s.members(&ws.id).await.expect("members").len(), 2);
}

async fn keys_are_found_by_hash_and_revoked_once(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let k = key(&alice, &ws, "aa11");
    s.create_key(&k).await.expect("key");
    assert_eq!(s.key_by_hash("aa11").await.expect("find"), Some(k.clone()));
    assert_eq!(s.key_by_hash("aa12").await.expect("find"), None);
    let dup = s
        .create_key(&ApiKey {
            id: "other".into(),
            ..k.clone()
        })
        .await;
    assert!(
        matches!(dup, Err(StorageError::Conflict(_))),
        "same hash: {dup:?}"
    );
    let bob = user("bob");
    s.create_user(&bob).await.expect("bob");
    s.set_member(&ws.id, &bob.id, Role::Viewer)
        .await
        .expect("member");
    let kb = ApiKey {
        mode: KeyMode::Live,
        scopes: vec![Scope::PostsWrite],
        expires_ms: None,
        name: None,
        ..key(&bob, &ws, "bb22")
    };
    s.create_key(&kb).await.expect("key");
    let all = s.keys(None).await.expect("list");
    assert_eq!(
        all.iter().map(|l| l.key.id.clone()).collect::<Vec<_>>(),
        [k.id.clone(), kb.id.clone()]
    );
    assert_eq!(all[1].user_name, "bob");
    assert_eq!(all[1].workspace_name, "alice");
    assert_eq!(all[1].key, kb);
    assert_eq!(s.keys(Some(&bob.id)).await.expect("list").len(), 1);
    assert!(s.revoke_key(&k.id, 7_000).await.expect("revoke"));
    assert!(s.revoke_key(&k.id, 8_000).await.expect("revoke again"));
    assert_eq!(
        s.key_by_hash("aa11")
            .await
            .expect("find")
            .and_then(|k| k.revoked_ms),
        Some(7_000)
    );
    assert!(!s.revoke_key("no-such-key", 7_000).await.expect("revoke"));
}

async fn the_setup_token_is_taken_once(target: Target) {
    let s = open(&target).await.expect("open");
    assert!(!s.take_setup_token("t1").await.expect("take"));
    s.replace_setup_token("t1", 1).await.expect("set");
    s.replace_setup_token("t2", 2).await.expect("replace");
    assert!(!s.take_setup_token("t1").await.expect("take"), "replaced");
    assert!(!s.take_setup_token("t3").await.expect("take"), "wrong");
    assert!(s.take_setup_token("t2").await.expect("take"));
    assert!(!s.take_setup_token("t2").await.expect("take"), "used");
}

async fn posts_stay_in_their_workspace(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let mallory = user("mallory");
    let other = workspace("mallory");
    s.create_user(&mallory).await.expect("user");
    s.create_workspace(&other, &mallory.id).await.expect("ws");
    let p = Post {
        title: Some("Launch".into()),
        state: PostState::Scheduled,
        scheduled_ms: Some(10_000),
        zone: "Europe/Berlin".into(),
        ..post(&ws, &alice, "hello **world**")
    };
    s.create_post(&p).await.expect("create");
    assert_eq!(s.post(&ws.id, &p.id).await.expect("get"), Some(p.clone()));
    assert_eq!(s.post(&other.id, &p.id).await.expect("get"), None);
    let foreign = Post {
        workspace_id: other.id.clone(),
        body: "taken over".into(),
        ..p.clone()
    };
    assert!(
        !s.save_post(&foreign).await.expect("save"),
        "saved through another workspace"
    );
    assert!(
        !s.delete_post(&other.id, &p.id, 6_000)
            .await
            .expect("delete")
    );
    let changed = Post {
        title: None,
        body: "changed".into(),
        state: PostState::Draft,
        scheduled_ms: None,
        updated_ms: 6_000,
        ..p.clone()
    };
    assert!(s.save_post(&changed).await.expect("save"));
    assert_eq!(
        s.post(&ws.id, &p.id).await.expect("get"),
        Some(changed.clone())
    );
    assert!(s.delete_post(&ws.id, &p.id, 7_000).await.expect("delete"));
    assert_eq!(s.post(&ws.id, &p.id).await.expect("get"), None);
    assert!(
        !s.delete_post(&ws.id, &p.id, 8_000)
            .await
            .expect("delete again")
    );
    assert!(!s.save_post(&changed).await.expect("save deleted"));
}

async fn posts_page_newest_first(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut p = post(&ws, &alice, &format!("post {i}"));
        if i % 2 == 0 {
            p.state = PostState::Scheduled;
            p.scheduled_ms = Some(20_000 + i);
        }
        s.create_post(&p).await.expect("create");
        ids.push(p.id);
    }
    let deleted = ids.remove(1);
    s.delete_post(&ws.id, &deleted, 9).await.expect("delete");
    ids.reverse();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .posts(&PostQuery {
                workspace_id: ws.id.clone(),
                state: None,
                before_id: before.clone(),
                limit: 2,
            })
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        before = page.last().map(|p| p.id.clone());
        seen.extend(page.into_iter().map(|p| p.id));
    }
    assert_eq!(seen, ids);
    let scheduled = s
        .posts(&PostQuery {
            workspace_id: ws.id.clone(),
            state: Some(PostState::Scheduled),
            before_id: None,
            limit: 10,
        })
        .await
        .expect("filter");
    assert_eq!(scheduled.len(), 3);
    assert!(scheduled.iter().all(|p| p.state == PostState::Scheduled));
}

async fn idempotency_keys_replay_refuse_and_expire(target: Target) {
    let s = open(&target).await.expect("open");
    let begin = |scope: &'static str, hash: &'static str, now: i64| {
        let s = s.clone();
        async move {
            s.idempotency_begin(scope, "k1", hash, now)
                .await
                .expect("begin")
        }
    };
    assert_eq!(begin("a", "h1", 1_000).await, IdempotencyBegin::Started);
    assert_eq!(begin("a", "h1", 1_001).await, IdempotencyBegin::InProgress);
    assert_eq!(begin("a", "h2", 1_001).await, IdempotencyBegin::Mismatch);
    assert_eq!(
        begin("b", "h1", 1_001).await,
        IdempotencyBegin::Started,
        "scopes are apart"
    );
    s.idempotency_finish("a", "k1", 201, "{\"id\":1}")
        .await
        .expect("finish");
    s.idempotency_release("a", "k1")
        .await
        .expect("release of an answered key does nothing");
    assert_eq!(
        begin("a", "h1", 1_002).await,
        IdempotencyBegin::Replay {
            status: 201,
            body: "{\"id\":1}".into()
        }
    );
    s.idempotency_release("b", "k1").await.expect("release");
    assert_eq!(
        begin("b", "h9", 1_003).await,
        IdempotencyBegin::Started,
        "released"
    );
    assert_eq!(
        begin("a", "h2", 1_000 + IDEMPOTENCY_TTL_MS + 1).await,
        IdempotencyBegin::Started,
        "forgotten after a day"
    );
}

async fn migrations_run_once_under_a_lock(target: Target) {
    let opens = (0..4).map(|_| {
        let target = target.clone();
        tokio::spawn(async move { open(&target).await.map(|_| ()) })
    });
    for handle in opens.collect::<Vec<_>>() {
        handle.await.expect("task").expect("open while others open");
    }
    let s = open(&target).await.expect("reopen");
    s.ready().await.expect("ready");
    s.create_user(&user("after")).await.expect("usable");
}

async fn a_newer_schema_is_refused(target: Target) {
    open(&target).await.expect("create");
    match &target {
        Target::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.pragma_update(None, "user_version", 999).expect("bump");
        }
        Target::Postgres(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            client
                .execute("UPDATE schema_version SET version = 999", &[])
                .await
                .expect("bump");
        }
    }
    match open(&target).await {
        Err(StorageError::NewerSchema { found: 999, .. }) => {}
        other => panic!("expected NewerSchema, got {:?}", other.map(|_| ())),
    }
}

fn session(user: &User, ws: &Workspace, hash: &str) -> Session {
    Session {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        workspace_id: ws.id.clone(),
        hash: hash.into(),
        created_ms: 1_000,
        expires_ms: 100_000,
        revoked_ms: None,
    }
}

async fn a_deleted_user_loses_personal_data_and_keeps_posts(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let k = key(&alice, &ws, "aa11");
    s.create_key(&k).await.expect("key");
    let se = session(&alice, &ws, "ss11");
    s.create_session(&se).await.expect("session");
    assert!(s.begin_totp(&alice.id, "v1.sealed").await.expect("totp"));
    assert!(
        s.confirm_totp(&alice.id, "v1.sealed", 5, &["h1".into()])
            .await
            .expect("confirm")
    );
    let p = post(&ws, &alice, "mine");
    s.create_post(&p).await.expect("post");
    assert!(s.delete_user(&alice.id, 9_000).await.expect("delete"));
    assert!(
        !s.delete_user(&alice.id, 9_500).await.expect("again"),
        "deleted once"
    );
    assert_eq!(s.user_by_name("alice").await.expect("find"), None);
    let gone = s
        .user_by_id(&alice.id)
        .await
        .expect("find")
        .expect("the row stays");
    assert_eq!(gone.name, format!("deleted-{}", alice.id));
    assert_eq!(
        (
            gone.password_hash.as_str(),
            gone.totp_secret.clone(),
            gone.deleted_ms
        ),
        ("", None, Some(9_000))
    );
    assert_eq!(s.key_by_hash("aa11").await.expect("key"), None);
    assert_eq!(s.session_by_hash("ss11").await.expect("session"), None);
    assert_eq!(s.recovery_codes_left(&alice.id).await.expect("codes"), 0);
    assert_eq!(s.member_role(&ws.id, &alice.id).await.expect("role"), None);
    assert!(s.workspaces_of(&alice.id).await.expect("ws").is_empty());
    assert_eq!(s.count_users().await.expect("count"), 0);
    let kept = s
        .post(&ws.id, &p.id)
        .await
        .expect("post")
        .expect("the post stays");
    assert_eq!(kept.author_id, alice.id);
    // The name is free again.
    s.create_user(&user("alice")).await.expect("a new alice");
}

async fn passwords_change_and_end_sessions(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    s.create_session(&session(&alice, &ws, "ss1"))
        .await
        .expect("session");
    assert!(
        s.set_password(&alice.id, "$argon2id$new", 4_000)
            .await
            .expect("set")
    );
    let found = s.user_by_id(&alice.id).await.expect("find").expect("alice");
    assert_eq!(found.password_hash, "$argon2id$new");
    let ended = s
        .session_by_hash("ss1")
        .await
        .expect("find")
        .expect("session");
    assert_eq!(ended.revoked_ms, Some(4_000));
    assert!(!s.set_password("nobody", "$x", 4_000).await.expect("set"));
    let later = session(&alice, &ws, "ss2");
    s.create_session(&later).await.expect("session");
    assert_eq!(
        s.session_by_hash("ss2").await.expect("find"),
        Some(later.clone())
    );
    assert!(s.revoke_session(&later.id, 6_000).await.expect("revoke"));
    assert!(
        s.revoke_session(&later.id, 7_000)
            .await
            .expect("revoke again")
    );
    assert_eq!(
        s.session_by_hash("ss2")
            .await
            .expect("find")
            .and_then(|s| s.revoked_ms),
        Some(6_000),
        "the first revocation is kept"
    );
    let dup = s
        .create_session(&Session {
            id: "x".into(),
            ..later
        })
        .await;
    assert!(matches!(dup, Err(StorageError::Conflict(_))), "{dup:?}");
    assert_eq!(
        s.workspaces_of(&alice.id).await.expect("ws"),
        vec![(ws, Role::Owner)]
    );
}

async fn totp_is_confirmed_once_and_steps_are_used_once(target: Target) {
    let (s, alice, _) = with_owner(&target).await;
    assert!(
        !s.accept_totp_step(&alice.id, 1).await.expect("step"),
        "no TOTP yet"
    );
    assert!(s.begin_totp(&alice.id, "v1.first").await.expect("begin"));
    assert!(
        s.begin_totp(&alice.id, "v1.second")
            .await
            .expect("begin again")
    );
    assert!(
        !s.confirm_totp(&alice.id, "v1.first", 10, &[])
            .await
            .expect("confirm"),
        "a replaced enrolment does not confirm"
    );
    assert!(
        s.confirm_totp(&alice.id, "v1.second", 10, &["a".into(), "b".into()])
            .await
            .expect("confirm")
    );
    assert!(
        !s.confirm_totp(&alice.id, "v1.second", 11, &[])
            .await
            .expect("twice")
    );
    let u = s.user_by_id(&alice.id).await.expect("find").expect("alice");
    assert_eq!(
        (
            u.totp_secret.as_deref(),
            u.totp_pending.as_deref(),
            u.totp_last_step
        ),
        (Some("v1.second"), None, Some(10))
    );
    assert_eq!(s.recovery_codes_left(&alice.id).await.expect("codes"), 2);
    assert!(
        !s.accept_totp_step(&alice.id, 10).await.expect("step"),
        "used at confirmation"
    );
    assert!(s.accept_totp_step(&alice.id, 11).await.expect("step"));
    assert!(
        !s.accept_totp_step(&alice.id, 11).await.expect("step"),
        "a step once"
    );
    assert!(
        !s.accept_totp_step(&alice.id, 9).await.expect("step"),
        "never back"
    );
    assert!(s.disable_totp(&alice.id).await.expect("disable"));
    let u = s.user_by_id(&alice.id).await.expect("find").expect("alice");
    assert_eq!(u.totp_secret, None);
    assert_eq!(s.recovery_codes_left(&alice.id).await.expect("codes"), 0);
}

async fn recovery_codes_work_once(target: Target) {
    let (s, alice, _) = with_owner(&target).await;
    s.begin_totp(&alice.id, "v1.x").await.expect("begin");
    s.confirm_totp(&alice.id, "v1.x", 1, &["h1".into(), "h2".into()])
        .await
        .expect("confirm");
    assert!(
        s.use_recovery_code(&alice.id, "h1", 5_000)
            .await
            .expect("use")
    );
    assert!(
        !s.use_recovery_code(&alice.id, "h1", 6_000)
            .await
            .expect("use"),
        "once"
    );
    assert!(
        !s.use_recovery_code(&alice.id, "nope", 6_000)
            .await
            .expect("use")
    );
    let bob = user("bob");
    s.create_user(&bob).await.expect("bob");
    assert!(
        !s.use_recovery_code(&bob.id, "h2", 6_000)
            .await
            .expect("use"),
        "alice's code"
    );
    assert_eq!(s.recovery_codes_left(&alice.id).await.expect("left"), 1);
    // A new enrolment replaces the codes.
    s.begin_totp(&alice.id, "v1.y").await.expect("begin");
    s.confirm_totp(&alice.id, "v1.y", 2, &["h3".into()])
        .await
        .expect("confirm");
    assert!(
        !s.use_recovery_code(&alice.id, "h2", 7_000)
            .await
            .expect("use")
    );
    assert!(
        s.use_recovery_code(&alice.id, "h3", 7_000)
            .await
            .expect("use")
    );
}

async fn login_failures_count_reset_and_clear(target: Target) {
    let s = open(&target).await.expect("open");
    assert_eq!(s.login_failures("user:a").await.expect("read"), None);
    for (n, at) in [(1, 1_000), (2, 2_000), (3, 3_000)] {
        assert_eq!(
            s.record_login_failure("user:a", at, 10_000)
                .await
                .expect("record"),
            LoginFailures {
                failures: n,
                last_ms: at
            }
        );
    }
    assert_eq!(
        s.record_login_failure("user:a", 20_000, 10_000)
            .await
            .expect("record"),
        LoginFailures {
            failures: 1,
            last_ms: 20_000
        },
        "an old run of failures is forgotten"
    );
    s.record_login_failure("ip:127.0.0.1", 20_000, 10_000)
        .await
        .expect("record");
    s.clear_login_failures("user:a").await.expect("clear");
    assert_eq!(s.login_failures("user:a").await.expect("read"), None);
    assert!(
        s.login_failures("ip:127.0.0.1")
            .await
            .expect("read")
            .is_some()
    );
    // Concurrent failures are all counted.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.record_login_failure("user:b", 30_000, 10_000)
                .await
                .expect("record")
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(
        s.login_failures("user:b")
            .await
            .expect("read")
            .map(|f| f.failures),
        Some(8)
    );
}

async fn keys_rotate_once_with_a_grace_period(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let old = ApiKey {
        expires_ms: None,
        ..key(&alice, &ws, "old1")
    };
    s.create_key(&old).await.expect("key");
    let new = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        hash: "new1".into(),
        ..old.clone()
    };
    assert!(s.rotate_key(&old.id, &new, 50_000).await.expect("rotate"));
    let old_now = s.key_by_hash("old1").await.expect("find").expect("old");
    assert_eq!(
        (old_now.expires_ms, old_now.replaced_by.as_deref()),
        (Some(50_000), Some(new.id.as_str()))
    );
    assert_eq!(
        s.key_by_hash("new1").await.expect("find"),
        Some(new.clone())
    );
    assert_eq!(new.allowed_ips, ["10.0.0.0/8", "2001:db8::/32"]);
    assert_eq!(new.rate_per_minute, Some(30));
    let again = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        hash: "new2".into(),
        ..old.clone()
    };
    assert!(
        !s.rotate_key(&old.id, &again, 60_000).await.expect("rotate"),
        "rotated once"
    );
    assert_eq!(
        s.key_by_hash("new2").await.expect("find"),
        None,
        "nothing stored"
    );
    // An expiry sooner than the grace period is kept.
    let soon = ApiKey {
        expires_ms: Some(10_000),
        ..key(&alice, &ws, "soon")
    };
    s.create_key(&soon).await.expect("key");
    let succ = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        hash: "succ".into(),
        ..soon.clone()
    };
    assert!(s.rotate_key(&soon.id, &succ, 50_000).await.expect("rotate"));
    assert_eq!(
        s.key_by_hash("soon")
            .await
            .expect("find")
            .and_then(|k| k.expires_ms),
        Some(10_000)
    );
    // A revoked key does not rotate.
    assert!(s.revoke_key(&new.id, 1).await.expect("revoke"));
    let third = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        hash: "third".into(),
        ..new.clone()
    };
    assert!(!s.rotate_key(&new.id, &third, 60_000).await.expect("rotate"));
}

fn account(ws: &Workspace, name: &str, network: &str) -> Account {
    Account {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        name: name.into(),
        network: network.into(),
        base_url: Some("https://social.example.test".into()),
        handle: None,
        settings: match network {
            "telegram" => r#"{"chat":"@news"}"#.into(),
            _ => "{}".into(),
        },
        credentials: format!("v1.sealed-for-{name}"),
        created_ms: 4_000,
    }
}

/// A post of `ws` due at `due_ms` with one target on each account.
async fn due_post(
    s: &Arc<dyn Storage>,
    ws: &Workspace,
    author: &User,
    due_ms: i64,
    accounts: &[&Account],
) -> Post {
    let p = Post {
        state: PostState::Scheduled,
        scheduled_ms: Some(due_ms),
        ..post(ws, author, "due")
    };
    let targets: Vec<_> = accounts
        .iter()
        .map(|a| storage::Target::new(&p, &a.id, 5_000))
        .collect();
    s.create_post_with_targets(&p, &targets, &[])
        .await
        .expect("post with targets");
    p
}

fn publish_attempt(target_id: &str, part: u32, at: i64, outcome: &str) -> PublishAttempt {
    PublishAttempt {
        target_id: target_id.into(),
        part,
        started_ms: at,
        ended_ms: at + 10,
        outcome: outcome.into(),
        http_status: Some(200),
        error: None,
        in_doubt: false,
    }
}

fn claim(owner: &str, now_ms: i64, limit: u32) -> Claim {
    Claim::new(owner, now_ms, now_ms + 60_000, limit, limit)
}

async fn states(s: &Arc<dyn Storage>, ws: &Workspace, post: &Post) -> Vec<(String, TargetState)> {
    s.targets(&ws.id, &post.id)
        .await
        .expect("targets")
        .into_iter()
        .map(|t| (t.account_name, t.target.state))
        .collect()
}

async fn accounts_stay_in_their_workspace_and_go_when_idle(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let mallory = user("mallory");
    let other = workspace("mallory");
    s.create_user(&mallory).await.expect("user");
    s.create_workspace(&other, &mallory.id).await.expect("ws");
    let masto = account(&ws, "masto", "mastodon");
    s.create_account(&masto).await.expect("create");
    let again = s.create_account(&account(&ws, "masto", "bluesky")).await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    // Names are per workspace.
    s.create_account(&account(&other, "masto", "mastodon"))
        .await
        .expect("the same name elsewhere");
    assert_eq!(
        s.account(&ws.id, &masto.id).await.expect("get"),
        Some(masto.clone())
    );
    assert_eq!(s.account(&other.id, &masto.id).await.expect("get"), None);
    assert_eq!(s.accounts(&ws.id).await.expect("list"), vec![masto.clone()]);
    let p = due_post(&s, &ws, &alice, 10_000, &[&masto]).await;
    assert_eq!(
        s.delete_account(&other.id, &masto.id, 6_000)
            .await
            .expect("delete"),
        AccountDeletion::NotFound
    );
    assert_eq!(
        s.delete_account(&ws.id, &masto.id, 6_000)
            .await
            .expect("delete"),
        AccountDeletion::Pending(1)
    );
    let mut cancelled = p.clone();
    cancelled.updated_ms = 6_500;
    s.update_post(&cancelled, None, Some(&TargetChange::Cancel), true, &[])
        .await
        .expect("cancel")
        .expect("post");
    // A notification channel through the account goes with it; an email channel whose
    // address happens to read the same stays.
    let through = channel(&alice, ChannelKind::Slack, &masto.id, None);
    let email = channel(&alice, ChannelKind::Email, &masto.id, None);
    s.create_channel(&through).await.expect("slack channel");
    s.create_channel(&email).await.expect("email channel");
    assert_eq!(
        s.delete_account(&ws.id, &masto.id, 7_000)
            .await
            .expect("delete"),
        AccountDeletion::Deleted
    );
    assert_eq!(s.account(&ws.id, &masto.id).await.expect("get"), None);
    assert!(s.accounts(&ws.id).await.expect("list").is_empty());
    let left: Vec<String> = s
        .channels(&alice.id)
        .await
        .expect("channels")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(left, vec![email.id.clone()]);
    // Its credentials are gone from the database, and its name is free.
    assert!(
        s.sealed_values()
            .await
            .expect("sealed")
            .iter()
            .all(|v| v.owner != masto.id)
    );
    s.create_account(&account(&ws, "masto", "mastodon"))
        .await
        .expect("the name again");
    // Its targets stay as history.
    assert_eq!(
        states(&s, &ws, &p).await,
        vec![(format!("deleted-{}", masto.id), TargetState::Cancelled)]
    );
}

async fn targets_move_only_as_their_state_allows(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    let b = account(&ws, "b", "bluesky");
    let c = account(&ws, "c", "bluesky");
    for x in [&a, &b, &c] {
        s.create_account(x).await.expect("account");
    }
    let draft = post(&ws, &alice, "draft");
    let targets: Vec<_> = [&a, &b]
        .iter()
        .map(|x| storage::Target::new(&draft, &x.id, 5_000))
        .collect();
    s.create_post_with_targets(&draft, &targets, &[])
        .await
        .expect("create");
    assert_eq!(
        states(&s, &ws, &draft).await,
        vec![
            ("a".into(), TargetState::Draft),
            ("b".into(), TargetState::Draft)
        ]
    );
    // Scheduling moves the drafts.
    let scheduled = Post {
        state: PostState::Scheduled,
        scheduled_ms: Some(50_000),
        updated_ms: 6_000,
        ..draft.clone()
    };
    let changed = s
        .update_post(
            &scheduled,
            None,
            Some(&TargetChange::Schedule { due_ms: 50_000 }),
            true,
            &[],
        )
        .await
        .expect("schedule")
        .expect("post");
    assert_eq!(changed.changed, vec!["a".to_string(), "b".to_string()]);
    let views = s.targets(&ws.id, &draft.id).await.expect("targets");
    assert!(
        views.iter().all(|v| v.target.due_ms == Some(50_000)),
        "{views:?}"
    );
    // Retry moves only failed targets: here, none; nothing is written.
    let touched = Post {
        body: "not written".into(),
        updated_ms: 7_000,
        ..scheduled.clone()
    };
    let refused = s
        .update_post(
            &touched,
            None,
            Some(&TargetChange::Retry { now_ms: 7_000 }),
            true,
            &[],
        )
        .await
        .expect("retry")
        .expect("post");
    assert!(refused.changed.is_empty());
    assert_eq!(
        refused.skipped,
        vec![
            ("a".into(), TargetState::Scheduled),
            ("b".into(), TargetState::Scheduled)
        ]
    );
    assert_eq!(
        s.post(&ws.id, &draft.id)
            .await
            .expect("get")
            .expect("post")
            .body,
        "draft",
        "a refused change wrote the post"
    );
    // The accounts become b and c: a is cancelled, c gets a target as scheduled as the post.
    // (a's stays cancelled if it is listed again: cancelled is final.)
    let fresh = storage::Target::new(&scheduled, &c.id, 8_000);
    let again = storage::Target::new(&scheduled, &b.id, 8_000);
    s.update_post(&scheduled, Some(&[again, fresh]), None, false, &[])
        .await
        .expect("accounts")
        .expect("post");
    assert_eq!(
        states(&s, &ws, &draft).await,
        vec![
            ("a".into(), TargetState::Cancelled),
            ("b".into(), TargetState::Scheduled),
            ("c".into(), TargetState::Scheduled)
        ]
    );
    // Cancel, then cancel again: the second moves nothing.
    let cancel = s
        .update_post(&scheduled, None, Some(&TargetChange::Cancel), true, &[])
        .await
        .expect("cancel")
        .expect("post");
    assert_eq!(cancel.changed, vec!["b".to_string(), "c".to_string()]);
    let twice = s
        .update_post(&scheduled, None, Some(&TargetChange::Cancel), true, &[])
        .await
        .expect("cancel")
        .expect("post");
    assert!(twice.changed.is_empty(), "{twice:?}");
    // Another workspace's post is not there.
    let foreign = Post {
        workspace_id: "elsewhere".into(),
        ..scheduled.clone()
    };
    assert_eq!(
        s.update_post(&foreign, None, Some(&TargetChange::Cancel), true, &[])
            .await
            .expect("update"),
        None
    );
    // Deleting a post cancels what has not started.
    let other = due_post(&s, &ws, &alice, 90_000, &[&a]).await;
    assert!(
        s.delete_post(&ws.id, &other.id, 9_000)
            .await
            .expect("delete")
    );
    assert_eq!(
        states(&s, &ws, &other).await,
        vec![("a".into(), TargetState::Cancelled)]
    );
}

/// How a feed's or a trigger's post is stamped in the cases that do not look at it.
fn stamping(device: &'static str, by: &User) -> PostStamps {
    Made {
        device,
        user: by.id.clone(),
        targets: Vec::new(),
    }
    .stamps()
}

fn api_media(value: &str, at_ms: i64, by: &User) -> ApiField {
    ApiField {
        field: "media",
        value: value.into(),
        at_ms,
        device: "api".into(),
        by: by.id.clone(),
    }
}

/// The claim hands out each target with its post's `media` field (one read, no lookup per
/// target), and the API's writes are stamped in `post_field_stamps` as sync's are, each
/// after the stamp it replaces.
async fn claims_carry_the_posts_media_and_api_writes_are_stamped(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    let picture = serde_json::json!([{
        "sha256": "ab".repeat(32), "file_name": "dot.png", "mime": "image/png", "size": 68,
        "width": 1, "height": 1, "alt": "a dot"
    }])
    .to_string();
    let with = Post {
        state: PostState::Scheduled,
        scheduled_ms: Some(10_000),
        ..post(&ws, &alice, "with a picture")
    };
    s.create_post_stamped(
        &with,
        &[storage::Target::new(&with, &a.id, 5_000)],
        &[],
        &[api_media(&picture, 5_000, &alice)],
    )
    .await
    .expect("post with media");
    let without = due_post(&s, &ws, &alice, 10_000, &[&a]).await;
    let got = s.claim_due(&claim("p1", 15_000, 10)).await.expect("claim");
    let media: Vec<(String, Option<String>)> = got
        .claimed
        .iter()
        .map(|c| (c.post.id.clone(), c.media.clone()))
        .collect();
    assert_eq!(media.len(), 2, "{media:?}");
    assert!(media.contains(&(with.id.clone(), Some(picture.clone()))));
    assert!(media.contains(&(without.id.clone(), None)));

    s.release_claims("p1", 15_000).await.expect("release");
    // A device's newer stamp does not hide a later API edit: the API's is 1 ms after it.
    // (The API's post is the chain's first version.)
    let head = s.latest_version(&ws.id).await.expect("latest");
    let v1 = version(&ws, &alice, head.as_deref(), "zz");
    let synced = FieldWrite {
        value: "[]".into(),
        ..write(&without.id, 20_000, "zz", PostWrite::Media)
    };
    assert!(matches!(
        s.add_version(&v1, &[synced]).await.expect("add"),
        AddVersion::Added { seq: 2 }
    ));
    let edited = Post {
        updated_ms: 19_000,
        ..without.clone()
    };
    s.update_post_stamped(
        &edited,
        None,
        None,
        false,
        &[],
        &[api_media(&picture, 19_000, &alice)],
    )
    .await
    .expect("update")
    .expect("the post");
    let fields = s.post_fields(&ws.id, &without.id).await.expect("fields");
    let field = fields.iter().find(|f| f.field == "media").expect("media");
    assert_eq!(
        (field.value.as_str(), field.at_ms, field.device.as_str()),
        (picture.as_str(), 20_001, "api")
    );
    // A newer API edit keeps its own time.
    s.update_post_stamped(
        &edited,
        None,
        None,
        false,
        &[],
        &[api_media("[]", 30_000, &alice)],
    )
    .await
    .expect("update");
    let fields = s.post_fields(&ws.id, &without.id).await.expect("fields");
    let field = fields.iter().find(|f| f.field == "media").expect("media");
    assert_eq!((field.value.as_str(), field.at_ms), ("[]", 30_000));
    // No post, nothing stamped.
    let ghost = post(&ws, &alice, "never stored");
    assert!(
        s.update_post_stamped(
            &ghost,
            None,
            None,
            false,
            &[],
            &[api_media(&picture, 40_000, &alice)]
        )
        .await
        .expect("update")
        .is_none()
    );
    assert!(
        s.post_fields(&ws.id, &ghost.id)
            .await
            .expect("fields")
            .is_empty()
    );
}

async fn claims_lease_record_parts_and_finish(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    let early = due_post(&s, &ws, &alice, 10_000, &[&a]).await;
    let later = due_post(&s, &ws, &alice, 20_000, &[&a]).await;
    // Nothing is due before its time.
    assert!(
        s.claim_due(&claim("p1", 9_999, 10))
            .await
            .expect("claim")
            .claimed
            .is_empty()
    );
    let got = s.claim_due(&claim("p1", 15_000, 10)).await.expect("claim");
    assert_eq!(got.claimed.len(), 1);
    let held = &got.claimed[0];
    assert_eq!(held.post.id, early.id);
    assert_eq!(held.account.id, a.id);
    assert_eq!(held.target.state, TargetState::Publishing);
    assert!(!held.taken_over);
    let id = held.target.id.clone();
    // Held: no one else claims it, and only its owner changes it.
    assert!(
        s.claim_due(&claim("p2", 16_000, 10))
            .await
            .expect("claim")
            .claimed
            .is_empty()
    );
    assert!(!s.renew_lease(&id, "p2", 200_000).await.expect("renew"));
    assert!(s.renew_lease(&id, "p1", 200_000).await.expect("renew"));
    // Past the first lease, but within the renewed one: p2 gets nothing, not even the
    // later target, which waits for the account's earlier one (in order, from one
    // publisher at a time).
    let renewed = s.claim_due(&claim("p2", 100_000, 10)).await.expect("claim");
    assert!(renewed.claimed.is_empty());
    assert_eq!(s.release_claims("p2", 100_000).await.expect("release"), 0);
    assert!(
        !s.begin_part(&id, "p2", 0, 2, 200_000, 16_000)
            .await
            .expect("begin")
    );
    assert!(
        s.begin_part(&id, "p1", 0, 2, 200_000, 16_000)
            .await
            .expect("begin")
    );
    assert!(
        !s.record_part(
            &id,
            "p2",
            &serde_json::json!({"id": "r1", "url": "https://x.test/1"}),
            &publish_attempt(&id, 0, 16_000, "published")
        )
        .await
        .expect("record")
    );
    assert!(
        s.record_part(
            &id,
            "p1",
            &serde_json::json!({"id": "r1", "url": "https://x.test/1"}),
            &publish_attempt(&id, 0, 16_000, "published")
        )
        .await
        .expect("record")
    );
    assert!(
        s.begin_part(&id, "p1", 1, 2, 200_000, 17_000)
            .await
            .expect("begin")
    );
    assert!(
        s.record_part(
            &id,
            "p1",
            &serde_json::json!({"id": "r2", "url": null}),
            &publish_attempt(&id, 1, 17_000, "published")
        )
        .await
        .expect("record")
    );
    assert!(
        !s.finish_target(&id, "p2", &Finish::Published, None, 18_000, &[])
            .await
            .expect("finish")
    );
    assert!(
        s.finish_target(&id, "p1", &Finish::Published, None, 18_000, &[])
            .await
            .expect("finish")
    );
    let view = s
        .targets(&ws.id, &early.id)
        .await
        .expect("targets")
        .remove(0)
        .target;
    assert_eq!(view.state, TargetState::Published);
    assert_eq!((view.lease_owner, view.in_flight), (None, None));
    let parts: serde_json::Value = serde_json::from_str(&view.parts).expect("parts");
    assert_eq!(
        parts,
        serde_json::json!([{"id": "r1", "url": "https://x.test/1"}, {"id": "r2", "url": null}])
    );
    assert_eq!(view.attempt_count, 1);
    let log = s.attempts(&ws.id, &early.id).await.expect("attempts");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].0, "a");
    assert_eq!((log[0].1.part, log[1].1.part), (0, 1));
    // A retry waits for its time, then is due again.
    let second = s.claim_due(&claim("p1", 25_000, 10)).await.expect("claim");
    let id2 = second.claimed[0].target.id.clone();
    assert_eq!(second.claimed[0].post.id, later.id);
    let retry = Finish::Retry {
        at: chrono::DateTime::from_timestamp_millis(40_000).expect("time"),
        error: "503 from the network".into(),
        count_attempt: true,
    };
    let failed = PublishAttempt {
        http_status: Some(503),
        error: Some("503".into()),
        ..publish_attempt(&id2, 0, 25_000, "retry")
    };
    assert!(
        s.finish_target(&id2, "p1", &retry, Some(&failed), 26_000, &[])
            .await
            .expect("finish")
    );
    let waiting = s
        .targets(&ws.id, &later.id)
        .await
        .expect("targets")
        .remove(0)
        .target;
    assert_eq!(waiting.state, TargetState::WaitingRetry);
    assert_eq!(waiting.next_attempt_ms, Some(40_000));
    assert_eq!(waiting.last_error.as_deref(), Some("503 from the network"));
    assert!(
        s.claim_due(&claim("p1", 39_999, 10))
            .await
            .expect("claim")
            .claimed
            .is_empty()
    );
    let third = s.claim_due(&claim("p1", 40_000, 10)).await.expect("claim");
    assert_eq!(third.claimed.len(), 1);
    // Released at shutdown: back to waiting (it was tried), due again at once.
    assert_eq!(s.release_claims("p1", 41_000).await.expect("release"), 1);
    assert_eq!(
        s.targets(&ws.id, &later.id).await.expect("targets")[0]
            .target
            .state,
        TargetState::WaitingRetry
    );
    // An account told to wait is left alone until then.
    s.hold_account(&a.id, 60_000, "429").await.expect("hold");
    s.hold_account(&a.id, 50_000, "shorter")
        .await
        .expect("hold");
    assert_eq!(
        s.account_wait(&a.id, 41_000).await.expect("wait"),
        Some((60_000, "429".to_string()))
    );
    assert!(
        s.claim_due(&claim("p1", 59_000, 10))
            .await
            .expect("claim")
            .claimed
            .is_empty()
    );
    assert_eq!(s.account_wait(&a.id, 60_000).await.expect("wait"), None);
    let last = s.claim_due(&claim("p1", 60_001, 10)).await.expect("claim");
    assert_eq!(last.claimed.len(), 1);
    let id3 = last.claimed[0].target.id.clone();
    assert!(
        s.finish_target(
            &id3,
            "p1",
            &Finish::Failed {
                error: "refused".into()
            },
            None,
            61_000,
            &[]
        )
        .await
        .expect("finish")
    );
    assert_eq!(
        s.targets(&ws.id, &later.id).await.expect("targets")[0]
            .target
            .state,
        TargetState::Failed
    );
}

async fn expired_leases_are_taken_over_or_made_uncertain(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let masto = account(&ws, "masto", "mastodon");
    let tg = account(&ws, "tg", "telegram");
    let calm = account(&ws, "calm", "telegram");
    for x in [&masto, &tg, &calm] {
        s.create_account(x).await.expect("account");
    }
    let p = due_post(&s, &ws, &alice, 10_000, &[&masto, &tg, &calm]).await;
    let got = s
        .claim_due(&claim("dead", 10_000, 10))
        .await
        .expect("claim");
    assert_eq!(got.claimed.len(), 3);
    // The publisher sends to masto and tg, and dies; calm had not started.
    for c in &got.claimed {
        if c.account.name != "calm" {
            assert!(
                s.begin_part(&c.target.id, "dead", 0, 1, 70_000, 11_000)
                    .await
                    .expect("begin")
            );
        }
    }
    // Before the lease ends, nothing is taken over.
    let early = s
        .claim_due(&claim("next", 69_000, 10))
        .await
        .expect("claim");
    assert!(early.claimed.is_empty() && early.uncertain.is_empty());
    let later = s
        .claim_due(&claim("next", 71_000, 10))
        .await
        .expect("claim");
    let names: Vec<_> = later
        .claimed
        .iter()
        .map(|c| c.account.name.as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"masto") && names.contains(&"calm"),
        "{names:?}"
    );
    assert!(later.claimed.iter().all(|c| c.taken_over));
    let resent = later
        .claimed
        .iter()
        .find(|c| c.account.name == "masto")
        .expect("masto");
    assert_eq!(
        resent.target.in_flight,
        Some(0),
        "the part goes again under its key"
    );
    assert_eq!(resent.target.in_flight_ms, Some(11_000));
    assert_eq!(later.uncertain.len(), 1);
    assert_eq!(
        states(&s, &ws, &p).await,
        vec![
            ("calm".into(), TargetState::Publishing),
            ("masto".into(), TargetState::Publishing),
            ("tg".into(), TargetState::Uncertain)
        ]
    );
    // The dead publisher cannot finish what it lost.
    assert!(
        !s.finish_target(
            &resent.target.id,
            "dead",
            &Finish::Published,
            None,
            72_000,
            &[]
        )
        .await
        .expect("finish")
    );
    let log = s.attempts(&ws.id, &p.id).await.expect("attempts");
    let interrupted: Vec<_> = log
        .iter()
        .filter(|(_, a)| a.outcome == "interrupted")
        .collect();
    assert_eq!(interrupted.len(), 2, "{log:?}");
    // A person resolves the uncertain one: it was published.
    let now = Post {
        updated_ms: 80_000,
        ..p.clone()
    };
    let resolved = s
        .update_post(
            &now,
            None,
            Some(&TargetChange::Resolve {
                published_url: Some("https://t.me/news/42".into()),
                account_id: Some(tg.id.clone()),
                now_ms: 80_000,
            }),
            true,
            &[],
        )
        .await
        .expect("resolve")
        .expect("post");
    assert_eq!(resolved.changed, vec!["tg".to_string()]);
    let tg_target = s
        .targets(&ws.id, &p.id)
        .await
        .expect("targets")
        .into_iter()
        .find(|v| v.account_name == "tg")
        .expect("tg")
        .target;
    assert_eq!(tg_target.state, TargetState::Published);
    assert!(
        tg_target.parts.contains("https://t.me/news/42"),
        "{}",
        tg_target.parts
    );
}

async fn sealed_values_are_replaced_together_or_not_at_all(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    assert!(s.begin_totp(&alice.id, "v1.pending").await.expect("totp"));
    let values = s.sealed_values().await.expect("sealed");
    assert_eq!(values.len(), 2, "{values:?}");
    assert!(
        values
            .iter()
            .any(|v| v.kind == SealedKind::AccountCredentials
                && v.owner == a.id
                && v.value == a.credentials)
    );
    assert!(values.iter().any(|v| v.kind == SealedKind::TotpPending
        && v.owner == alice.id
        && v.value == "v1.pending"));
    // One value changed meanwhile: nothing is replaced.
    let mut stale = values.clone();
    stale[0].value = "v1.not-what-is-stored".into();
    let changes: Vec<_> = stale
        .iter()
        .map(|v| (v.clone(), format!("{}-new", v.value)))
        .collect();
    assert!(!s.reseal(&changes).await.expect("reseal"));
    assert_eq!(s.sealed_values().await.expect("sealed"), values);
    let changes: Vec<_> = values
        .iter()
        .map(|v| (v.clone(), format!("{}-new", v.value)))
        .collect();
    assert!(s.reseal(&changes).await.expect("reseal"));
    let after = s.sealed_values().await.expect("sealed");
    assert!(after.iter().all(|v| v.value.ends_with("-new")), "{after:?}");
    assert_eq!(
        s.account(&ws.id, &a.id)
            .await
            .expect("get")
            .expect("account")
            .credentials,
        format!("{}-new", a.credentials)
    );
}

async fn the_calendar_and_the_next_due_time(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    assert_eq!(s.next_due().await.expect("next"), None);
    let first = due_post(&s, &ws, &alice, 100_000, &[&a]).await;
    let second = due_post(&s, &ws, &alice, 200_000, &[&a]).await;
    let draft = post(&ws, &alice, "draft");
    s.create_post_with_targets(&draft, &[storage::Target::new(&draft, &a.id, 5_000)], &[])
        .await
        .expect("draft");
    assert_eq!(s.next_due().await.expect("next"), Some(100_000));
    let all = s.calendar(&ws.id, 0, 1_000_000).await.expect("calendar");
    let posts: Vec<_> = all
        .iter()
        .map(|e| e.target.target.post_id.clone())
        .collect();
    assert_eq!(
        posts,
        vec![first.id.clone(), second.id.clone()],
        "drafts are not on it"
    );
    let some = s
        .calendar(&ws.id, 150_000, 200_000)
        .await
        .expect("calendar");
    assert!(some.is_empty(), "the end is excluded: {some:?}");
    let some = s
        .calendar(&ws.id, 150_000, 200_001)
        .await
        .expect("calendar");
    assert_eq!(some.len(), 1);
    assert_eq!(some[0].target.account_name, "a");
    assert!(
        s.calendar("elsewhere", 0, 1_000_000)
            .await
            .expect("calendar")
            .is_empty()
    );
    // A held target's lease is the next time something may happen.
    let got = s.claim_due(&claim("p", 100_000, 1)).await.expect("claim");
    assert_eq!(got.claimed.len(), 1);
    assert_eq!(s.next_due().await.expect("next"), Some(160_000));
}

/// Two claimers on two connections (pools) over 500 due targets of 5 accounts, claiming
/// in small batches at once, until nothing is left: each target is claimed exactly once,
/// and an account's targets are never held by both at one time (claims racing each other
/// included), so each account's targets go out in their order.
async fn two_claimers_never_claim_one_target_twice(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let mut accounts = Vec::new();
    for i in 0..5 {
        let a = account(&ws, &format!("a{i}"), "bluesky");
        s.create_account(&a).await.expect("account");
        accounts.push(a);
    }
    for i in 0..100 {
        let refs: Vec<&Account> = accounts.iter().collect();
        due_post(&s, &ws, &alice, 10_000 + i, &refs).await;
    }
    let other = open(&target).await.expect("a second storage");
    // Who holds each account's claimed targets, and how many of them: a target leaves it
    // just before it is finished, so an account shows as held no longer than it is.
    let held: Arc<std::sync::Mutex<std::collections::HashMap<String, (&'static str, usize)>>> =
        Arc::default();
    // How many targets both have finished: a claim can come back empty while the other's
    // claim holds every account with due targets, so each goes on until all 500 are done.
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let claimer = |storage: Arc<dyn Storage>, owner: &'static str| {
        let (held, finished) = (Arc::clone(&held), Arc::clone(&finished));
        tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut empty = 0;
            loop {
                let got = storage
                    .claim_due(&Claim {
                        per_account: 4,
                        ..claim(owner, 500_000, 7)
                    })
                    .await
                    .expect("claim");
                if got.claimed.is_empty() {
                    empty += 1;
                    if finished.load(std::sync::atomic::Ordering::SeqCst) >= 500 || empty > 10_000 {
                        break mine;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    continue;
                }
                for c in &got.claimed {
                    let mut held = held.lock().expect("the holders");
                    let holder = held.entry(c.account.id.clone()).or_insert((owner, 0));
                    assert_eq!(
                        holder.0, owner,
                        "account {} was held by two claimers at once",
                        c.account.name
                    );
                    holder.1 += 1;
                }
                // Each claim is published before the next, as the engine does, which
                // frees its accounts for the other claimer.
                for c in got.claimed {
                    assert_eq!(c.target.lease_owner.as_deref(), Some(owner));
                    {
                        let mut held = held.lock().expect("the holders");
                        if let Some(holder) = held.get_mut(&c.account.id) {
                            holder.1 -= 1;
                            if holder.1 == 0 {
                                held.remove(&c.account.id);
                            }
                        }
                    }
                    assert!(
                        storage
                            .finish_target(
                                &c.target.id,
                                owner,
                                &Finish::Published,
                                None,
                                500_000,
                                &[]
                            )
                            .await
                            .expect("finish")
                    );
                    finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    mine.push(c.target.id);
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let (one, two) = tokio::join!(claimer(s.clone(), "one"), claimer(other, "two"));
    let (one, two) = (one.expect("claimer one"), two.expect("claimer two"));
    let mut all: Vec<_> = one.iter().chain(two.iter()).cloned().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a target was claimed twice");
    assert_eq!(total, 500, "every due target was claimed");
    eprintln!(
        "  claimer one took {}, claimer two took {}",
        one.len(),
        two.len()
    );
}

/// An account whose targets another claimer holds under a live lease is left to it, so its
/// targets go out one after another, in their order, whatever the number of processes;
/// once that lease runs out, another claimer takes the account over.
async fn an_account_held_by_one_claimer_is_left_to_it(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let x = account(&ws, "x", "bluesky");
    let y = account(&ws, "y", "bluesky");
    for a in [&x, &y] {
        s.create_account(a).await.expect("account");
    }
    for i in 0..6 {
        due_post(&s, &ws, &alice, 10_000 + i, &[&x]).await;
    }
    due_post(&s, &ws, &alice, 10_000, &[&y]).await;
    let three_of_each = |owner: &str, now_ms: i64| Claim {
        per_account: 3,
        ..claim(owner, now_ms, 10)
    };
    let one = s
        .claim_due(&three_of_each("one", 500_000))
        .await
        .expect("claim");
    assert_eq!(one.claimed.len(), 4, "x's first three and y's one");
    let two = s
        .claim_due(&three_of_each("two", 500_001))
        .await
        .expect("claim");
    let taken: Vec<_> = two.claimed.iter().map(|c| c.account.name.clone()).collect();
    assert!(
        taken.is_empty(),
        "two took targets of {taken:?}, which one is publishing for"
    );
    // One's leases end at 560,000: two takes x and y over, x's earliest first.
    let later = s
        .claim_due(&three_of_each("two", 560_001))
        .await
        .expect("claim");
    let mut dues: Vec<_> = later
        .claimed
        .iter()
        .filter(|c| c.account.id == x.id)
        .map(|c| c.target.due_ms)
        .collect();
    dues.sort();
    assert_eq!(dues, [Some(10_000), Some(10_001), Some(10_002)]);
    assert_eq!(later.claimed.len(), 4);
}

fn webhook(ws: &Workspace, author: &User, events: &[&str]) -> Webhook {
    Webhook {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        url: "https://hooks.example.com/in".into(),
        description: Some("CI".into()),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: "v1.sealed-secret".into(),
        old_secret: None,
        old_secret_until_ms: None,
        created_by: author.id.clone(),
        created_ms: 10_000,
        updated_ms: 10_000,
        disabled_ms: None,
        disabled_reason: None,
        failed_in_a_row: 0,
    }
}

fn event(ws: &Workspace, kind: &str, at: i64) -> Event {
    Event {
        workspace_id: ws.id.clone(),
        event_type: kind.into(),
        payload: format!("{{\"type\":\"{kind}\"}}"),
        created_ms: at,
    }
}

fn attempt(status: Option<u16>) -> Attempt {
    Attempt {
        number: 1,
        started_ms: 20_000,
        duration_ms: 15,
        status,
        answer: status.map(|s| format!("answer {s}")),
        error: status.is_none().then(|| "timed out".to_string()),
    }
}

async fn webhooks_stay_in_their_workspace_and_rotate_their_secret(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let hook = webhook(&ws, &alice, &["post.published", "post.failed"]);
    s.create_webhook(&hook).await.expect("create");
    assert!(matches!(
        s.create_webhook(&hook).await,
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(
        s.webhooks(&ws.id).await.expect("list"),
        std::slice::from_ref(&hook)
    );
    assert!(s.webhooks(&other.id).await.expect("list").is_empty());
    assert_eq!(s.webhook(&other.id, &hook.id).await.expect("get"), None);
    let changed = Webhook {
        url: "https://hooks.example.com/v2".into(),
        description: None,
        events: vec!["ping".into()],
        updated_ms: 11_000,
        disabled_ms: Some(11_000),
        disabled_reason: Some("by hand".into()),
        failed_in_a_row: 3,
        ..hook.clone()
    };
    assert!(s.save_webhook(&changed).await.expect("save"));
    assert_eq!(
        s.webhook(&ws.id, &hook.id).await.expect("get"),
        Some(changed.clone())
    );
    let elsewhere = Webhook {
        workspace_id: other.id.clone(),
        ..changed.clone()
    };
    assert!(
        !s.save_webhook(&elsewhere).await.expect("save"),
        "another workspace"
    );
    assert!(
        !s.rotate_webhook_secret(&other.id, &hook.id, "v1.new", 99_000, 12_000)
            .await
            .expect("rotate")
    );
    assert!(
        s.rotate_webhook_secret(&ws.id, &hook.id, "v1.new", 99_000, 12_000)
            .await
            .expect("rotate")
    );
    let rotated = s
        .webhook(&ws.id, &hook.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(rotated.secret, "v1.new");
    assert_eq!(rotated.old_secret.as_deref(), Some("v1.sealed-secret"));
    assert_eq!(rotated.old_secret_until_ms, Some(99_000));
    assert_eq!(rotated.updated_ms, 12_000);
    // Deleting takes the deliveries and their attempts along.
    let enabled = Webhook {
        disabled_ms: None,
        ..rotated
    };
    assert!(s.save_webhook(&enabled).await.expect("save"));
    assert_eq!(
        s.emit_event(&event(&ws, "ping", 20_000))
            .await
            .expect("emit"),
        1
    );
    let claimed = s
        .claim_deliveries("me", 20_000, 1_000, 10)
        .await
        .expect("claim");
    s.finish_attempt(
        &claimed[0].0.id,
        "me",
        &attempt(Some(200)),
        &AttemptEnd::Delivered,
        20_100,
    )
    .await
    .expect("finish");
    assert!(!s.delete_webhook(&other.id, &hook.id).await.expect("delete"));
    assert!(s.delete_webhook(&ws.id, &hook.id).await.expect("delete"));
    assert_eq!(s.webhook(&ws.id, &hook.id).await.expect("get"), None);
    assert_eq!(
        s.delivery(&ws.id, &claimed[0].0.id).await.expect("get"),
        None
    );
    assert!(
        !s.delete_webhook(&ws.id, &hook.id).await.expect("delete"),
        "once"
    );
}

async fn events_become_one_delivery_per_subscribed_enabled_endpoint(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let subscribed = webhook(&ws, &alice, &["post.scheduled", "post.failed"]);
    let disabled = Webhook {
        disabled_ms: Some(1),
        ..webhook(&ws, &alice, &["post.scheduled"])
    };
    let elsewhere = webhook(&ws, &alice, &["post.published"]);
    let other_ws = webhook(&other, &alice, &["post.scheduled"]);
    for hook in [&subscribed, &disabled, &elsewhere, &other_ws] {
        s.create_webhook(hook).await.expect("create");
    }
    let e = event(&ws, "post.scheduled", 30_000);
    assert_eq!(s.emit_event(&e).await.expect("emit"), 1);
    let listed = s
        .deliveries(&ws.id, &subscribed.id, None, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    let d = &listed[0];
    assert_eq!(
        (d.event_type.as_str(), d.payload.as_str(), d.state),
        ("post.scheduled", e.payload.as_str(), DeliveryState::Pending)
    );
    assert_eq!(
        (d.next_attempt_ms, d.created_ms, d.attempt_count),
        (30_000, 30_000, 0)
    );
    for hook in [&disabled, &elsewhere] {
        assert!(
            s.deliveries(&ws.id, &hook.id, None, 10)
                .await
                .expect("list")
                .is_empty()
        );
    }
    assert!(
        s.deliveries(&other.id, &other_ws.id, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        s.emit_event(&event(&ws, "ping", 30_000))
            .await
            .expect("emit"),
        0
    );

    // With a post, in its transaction: recorded when the post is, not otherwise.
    let p = post(&ws, &alice, "scheduled");
    s.create_post_and_emit(&p, &[event(&ws, "post.scheduled", 31_000)])
        .await
        .expect("create");
    let after = s
        .deliveries(&ws.id, &subscribed.id, None, 10)
        .await
        .expect("list");
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].created_ms, 31_000, "newest first");
    let again = s
        .create_post_and_emit(&p, &[event(&ws, "post.scheduled", 32_000)])
        .await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    assert_eq!(
        s.deliveries(&ws.id, &subscribed.id, None, 10)
            .await
            .expect("list")
            .len(),
        2,
        "a failed change records no event"
    );
    let missing = post(&ws, &alice, "never stored");
    assert!(
        !s.save_post_and_emit(&missing, &[event(&ws, "post.scheduled", 33_000)])
            .await
            .expect("save")
    );
    assert!(
        s.save_post_and_emit(&p, &[event(&ws, "post.failed", 34_000)])
            .await
            .expect("save")
    );
    let all = s
        .deliveries(&ws.id, &subscribed.id, None, 10)
        .await
        .expect("list");
    assert_eq!(
        all.iter()
            .map(|d| d.event_type.as_str())
            .collect::<Vec<_>>(),
        ["post.failed", "post.scheduled", "post.scheduled"]
    );
    let page = s
        .deliveries(&ws.id, &subscribed.id, Some(&all[0].id), 1)
        .await
        .expect("page");
    assert_eq!(page, [all[1].clone()]);
}

async fn deliveries_are_claimed_once_and_a_passed_lease_frees_them(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let hook = webhook(&ws, &alice, &["ping"]);
    let off = Webhook {
        disabled_ms: Some(1),
        ..webhook(&ws, &alice, &["ping"])
    };
    s.create_webhook(&hook).await.expect("create");
    s.create_webhook(&off).await.expect("create");
    for n in 0..20 {
        s.emit_event(&event(&ws, "ping", 40_000 + n))
            .await
            .expect("emit");
    }
    let later = Delivery {
        next_attempt_ms: 90_000,
        ..storage::delivery_for(&hook, &event(&ws, "ping", 40_000))
    };
    s.create_delivery(&later)
        .await
        .expect("a delivery due later");
    s.create_delivery(&storage::delivery_for(&off, &event(&ws, "ping", 40_000)))
        .await
        .expect("a delivery to a disabled endpoint");
    // Two processes claim at once: each delivery goes to one.
    let other = open(&target).await.expect("a second connection");
    let (a, b) = tokio::join!(
        s.claim_deliveries("one", 50_000, 10_000, 15),
        other.claim_deliveries("two", 50_000, 10_000, 15)
    );
    let (a, b) = (a.expect("claim"), b.expect("claim"));
    let mut ids: Vec<&str> = a.iter().chain(&b).map(|(d, _)| d.id.as_str()).collect();
    assert_eq!(ids.len(), 20, "one: {}, two: {}", a.len(), b.len());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "a delivery was claimed twice");
    assert!(
        a.iter()
            .chain(&b)
            .all(|(d, w)| d.webhook_id == hook.id && *w == hook)
    );
    assert!(!ids.contains(&later.id.as_str()), "not due yet");
    assert!(
        s.claim_deliveries("three", 55_000, 10_000, 50)
            .await
            .expect("claim")
            .is_empty()
    );

    // The lease passes: another process takes the delivery, and the first can no longer
    // record its attempt.
    let (first, _) = &a[0];
    let retaken = s
        .claim_deliveries("three", 60_000, 10_000, 50)
        .await
        .expect("claim");
    assert_eq!(retaken.len(), 20);
    assert_eq!(
        s.finish_attempt(
            &first.id,
            "one",
            &attempt(Some(200)),
            &AttemptEnd::Delivered,
            60_500
        )
        .await
        .expect("finish"),
        Finished::LeaseLost
    );
    assert_eq!(
        s.finish_attempt(
            &first.id,
            "three",
            &attempt(Some(200)),
            &AttemptEnd::Delivered,
            60_600
        )
        .await
        .expect("finish"),
        Finished::Recorded { disabled: false }
    );
    let done = s
        .delivery(&ws.id, &first.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(
        (done.state, done.finished_ms, done.attempt_count),
        (DeliveryState::Delivered, Some(60_600), 1)
    );
    assert_eq!(done.attempts, [attempt(Some(200))]);
    // A finished delivery is not claimed again, even after every lease.
    let rest = s
        .claim_deliveries("four", 200_000, 10_000, 50)
        .await
        .expect("claim");
    assert_eq!(rest.len(), 20, "19 leased ones and the one due at 90 s");
    assert!(rest.iter().all(|(d, _)| d.id != first.id));
    assert!(rest.iter().any(|(d, _)| d.id == later.id));
}

async fn attempts_are_recorded_and_failing_endpoints_disabled(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let hook = webhook(&ws, &alice, &["ping"]);
    s.create_webhook(&hook).await.expect("create");
    let claim = |now: i64| {
        let s = s.clone();
        async move {
            let mut claimed = s.claim_deliveries("w", now, 1_000, 1).await.expect("claim");
            claimed.pop().expect("a due delivery").0
        }
    };
    s.emit_event(&event(&ws, "ping", 1_000))
        .await
        .expect("emit");
    let d = claim(1_000).await;
    let end = AttemptEnd::RetryAt(5_000);
    assert_eq!(
        s.finish_attempt(&d.id, "w", &attempt(Some(500)), &end, 1_100)
            .await
            .expect("finish"),
        Finished::Recorded { disabled: false }
    );
    let pending = s
        .delivery(&ws.id, &d.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(
        (
            pending.state,
            pending.next_attempt_ms,
            pending.attempt_count
        ),
        (DeliveryState::Pending, 5_000, 1)
    );
    assert!(
        s.claim_deliveries("w", 4_999, 1_000, 5)
            .await
            .expect("claim")
            .is_empty(),
        "not due"
    );
    let d = claim(5_000).await;
    assert_eq!(d.attempt_count, 1);
    let gave_up = AttemptEnd::GaveUp {
        disable_after: 2,
        reason: "2 deliveries in a row failed".into(),
    };
    assert_eq!(
        s.finish_attempt(
            &d.id,
            "w",
            &Attempt {
                number: 2,
                ..attempt(None)
            },
            &gave_up,
            5_100
        )
        .await
        .expect("finish"),
        Finished::Recorded { disabled: false }
    );
    let failed = s
        .delivery(&ws.id, &d.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(
        (failed.state, failed.finished_ms),
        (DeliveryState::Failed, Some(5_100))
    );
    assert_eq!(
        failed
            .attempts
            .iter()
            .map(|a| (a.number, a.status, a.error.clone()))
            .collect::<Vec<_>>(),
        [(1, Some(500), None), (2, None, Some("timed out".into()))]
    );
    let now = s
        .webhook(&ws.id, &hook.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!((now.failed_in_a_row, now.disabled_ms), (1, None));
    // A success in between starts the count again.
    s.emit_event(&event(&ws, "ping", 6_000))
        .await
        .expect("emit");
    let d = claim(6_000).await;
    s.finish_attempt(
        &d.id,
        "w",
        &attempt(Some(204)),
        &AttemptEnd::Delivered,
        6_100,
    )
    .await
    .expect("finish");
    assert_eq!(
        s.webhook(&ws.id, &hook.id)
            .await
            .expect("get")
            .expect("there")
            .failed_in_a_row,
        0
    );
    for at in [7_000, 8_000] {
        s.emit_event(&event(&ws, "ping", at)).await.expect("emit");
        let d = claim(at).await;
        let finished = s
            .finish_attempt(&d.id, "w", &attempt(Some(503)), &gave_up, at + 100)
            .await
            .expect("finish");
        assert_eq!(
            finished,
            Finished::Recorded {
                disabled: at == 8_000
            },
            "at {at}"
        );
    }
    let off = s
        .webhook(&ws.id, &hook.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(
        (
            off.failed_in_a_row,
            off.disabled_ms,
            off.disabled_reason.as_deref()
        ),
        (2, Some(8_100), Some("2 deliveries in a row failed"))
    );
    // A disabled endpoint gets no new deliveries, and its pending ones wait.
    assert_eq!(
        s.emit_event(&event(&ws, "ping", 9_000))
            .await
            .expect("emit"),
        0
    );
    let waiting = storage::delivery_for(&hook, &event(&ws, "ping", 9_000));
    s.create_delivery(&waiting).await.expect("create");
    assert!(
        s.claim_deliveries("w", 9_000, 1_000, 5)
            .await
            .expect("claim")
            .is_empty()
    );
    // The disabling recorded `webhook.disabled` in its transaction, for the notifier.
    let told = s
        .notification_events_between(&ws.id, 0, 20_000)
        .await
        .expect("events");
    assert_eq!(
        told.iter()
            .map(|e| (e.event_type.as_str(), e.created_ms))
            .collect::<Vec<_>>(),
        [("webhook.disabled", 8_100)]
    );
    let body: serde_json::Value = serde_json::from_str(&told[0].payload).expect("JSON");
    assert_eq!(body["data"]["webhook"]["id"], hook.id.as_str(), "{body}");
    assert_eq!(body["data"]["webhook"]["created_by"], alice.id.as_str());
    assert_eq!(
        body["data"]["webhook"]["origin"],
        "https://hooks.example.com"
    );
    assert_eq!(body["data"]["reason"], "2 deliveries in a row failed");
    assert!(!told[0].payload.contains("/in"), "no path: {body}");
    // Another endpoint may subscribe to it.
    let watcher = webhook(&ws, &alice, &["webhook.disabled"]);
    s.create_webhook(&watcher).await.expect("create");
    // 410 Gone disables at once.
    let enabled = Webhook {
        disabled_ms: None,
        disabled_reason: None,
        failed_in_a_row: 0,
        ..off
    };
    assert!(s.save_webhook(&enabled).await.expect("save"));
    let d = claim(10_000).await;
    assert_eq!(d.id, waiting.id);
    let gone = AttemptEnd::Gone {
        reason: "410".into(),
    };
    assert_eq!(
        s.finish_attempt(&d.id, "w", &attempt(Some(410)), &gone, 10_100)
            .await
            .expect("finish"),
        Finished::Recorded { disabled: true }
    );
    let off = s
        .webhook(&ws.id, &hook.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(
        (off.disabled_ms, off.disabled_reason.as_deref()),
        (Some(10_100), Some("410"))
    );
    let watched = s
        .claim_deliveries("w", 20_000, 1_000, 5)
        .await
        .expect("claim");
    assert_eq!(
        watched
            .iter()
            .map(|(d, h)| (d.event_type.as_str(), h.id.as_str()))
            .collect::<Vec<_>>(),
        [("webhook.disabled", watcher.id.as_str())]
    );
    assert_eq!(
        s.notification_events_between(&ws.id, 10_000, 20_000)
            .await
            .expect("events")
            .len(),
        1
    );
}

async fn rate_tokens_are_shared_by_every_handle(target: Target) {
    // Two handles on one database stand for two processes.
    let a = open(&target).await.expect("open");
    let b = open(&target).await.expect("open again");
    let t0 = 1_000_000_000;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.take_rate_token("key-1", 6, t0).await.expect("take")
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        let taken = t.await.expect("task");
        if taken.allowed {
            allowed += 1;
        }
        assert!(taken.full_at_us <= (t0 + 60_000) * 1000, "{taken:?}");
    }
    assert_eq!(allowed, 6, "a minute's worth, across both handles");
    // Refusals took nothing: the bucket is full a minute after the start.
    let refused = a
        .take_rate_token("key-1", 6, t0 + 9_999)
        .await
        .expect("take");
    assert!(!refused.allowed);
    assert_eq!(refused.full_at_us, (t0 + 60_000) * 1000);
    // One token a ten seconds comes back.
    assert!(
        b.take_rate_token("key-1", 6, t0 + 10_000)
            .await
            .expect("take")
            .allowed
    );
    assert!(
        !a.take_rate_token("key-1", 6, t0 + 10_000)
            .await
            .expect("take")
            .allowed
    );
    // Another key has its own bucket.
    assert!(
        a.take_rate_token("key-2", 1, t0)
            .await
            .expect("take")
            .allowed
    );
    assert!(
        !b.take_rate_token("key-2", 1, t0)
            .await
            .expect("take")
            .allowed
    );
}

async fn purge_deletes_only_what_ended_before_the_cutoffs(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let expired = Session {
        expires_ms: 5_000,
        ..session(&alice, &ws, "old-expired")
    };
    let signed_out = Session {
        expires_ms: 900_000,
        revoked_ms: Some(6_000),
        ..session(&alice, &ws, "old-signed-out")
    };
    let recent = Session {
        expires_ms: 900_000,
        revoked_ms: Some(20_000),
        ..session(&alice, &ws, "recent-signed-out")
    };
    let live = Session {
        expires_ms: 900_000,
        ..session(&alice, &ws, "live")
    };
    for se in [&expired, &signed_out, &recent, &live] {
        s.create_session(se).await.expect("session");
    }
    for (key, at) in [("old", 1_000), ("new", 15_000)] {
        assert_eq!(
            s.idempotency_begin("scope", key, "h", at)
                .await
                .expect("begin"),
            IdempotencyBegin::Started
        );
    }
    s.record_login_failure("user:old", 2_000, 1_000_000)
        .await
        .expect("failure");
    s.record_login_failure("user:new", 12_000, 1_000_000)
        .await
        .expect("failure");
    // Webhook deliveries: one failed at 5.1 s (two attempts), one pending since 1 s.
    let hook = webhook(&ws, &alice, &["ping"]);
    s.create_webhook(&hook).await.expect("create");
    s.emit_event(&event(&ws, "ping", 1_000))
        .await
        .expect("emit");
    let d = s
        .claim_deliveries("w", 1_000, 1_000, 1)
        .await
        .expect("claim")[0]
        .0
        .clone();
    s.finish_attempt(
        &d.id,
        "w",
        &attempt(Some(500)),
        &AttemptEnd::RetryAt(5_000),
        1_100,
    )
    .await
    .expect("finish");
    let d = s
        .claim_deliveries("w", 5_000, 1_000, 1)
        .await
        .expect("claim")[0]
        .0
        .clone();
    let gave_up = AttemptEnd::Gone {
        reason: "410".into(),
    };
    s.finish_attempt(
        &d.id,
        "w",
        &Attempt {
            number: 2,
            ..attempt(Some(410))
        },
        &gave_up,
        5_100,
    )
    .await
    .expect("finish");
    let pending_hook = webhook(&ws, &alice, &["ping"]);
    s.create_webhook(&pending_hook).await.expect("create");
    s.emit_event(&event(&ws, "ping", 1_000))
        .await
        .expect("emit");
    // Full again at 11 s (one request of a one-a-minute key at -49 s), and at 70 s.
    s.take_rate_token("full", 1, -49_000).await.expect("take");
    s.take_rate_token("busy", 1, 10_000).await.expect("take");
    // Publish attempts, all ended at 2 s: one of a published target (it goes), one of an
    // uncertain target (the user resolves it from its attempts: it stays), and one of a
    // target waiting to retry (still going on: it stays).
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    let mut ids = Vec::new();
    for due in [1_000, 1_001, 1_002] {
        due_post(&s, &ws, &alice, due, &[&a]).await;
    }
    for _ in 0..3 {
        let got = s.claim_due(&claim("p", 1_500, 1)).await.expect("claim");
        ids.push(got.claimed[0].target.id.clone());
    }
    let ends = [
        Finish::Published,
        Finish::Uncertain {
            error: "timed out".into(),
        },
        Finish::Retry {
            at: chrono::DateTime::from_timestamp_millis(900_000).expect("time"),
            error: "503".into(),
            count_attempt: true,
        },
    ];
    for (id, end) in ids.iter().zip(&ends) {
        let tried = publish_attempt(id, 0, 1_990, "tried");
        assert!(
            s.finish_target(id, "p", end, Some(&tried), 2_000, &[])
                .await
                .expect("finish")
        );
    }
    let purge = Purge {
        sessions_ended_before_ms: 10_000,
        idempotency_before_ms: 10_000,
        login_failures_before_ms: 10_000,
        rate_limits_full_before_ms: 12_000,
        deliveries_finished_before_ms: 10_000,
        attempts_ended_before_ms: 10_000,
        notifications_before_ms: 10_000,
    };
    assert_eq!(
        s.purge(&purge).await.expect("purge"),
        Purged {
            sessions: 2,
            idempotency_keys: 1,
            login_failures: 1,
            rate_limits: 1,
            webhook_deliveries: 1,
            webhook_attempts: 2,
            attempts: 1,
            notification_events: 0,
            notification_sends: 0,
            inbox_items: 0,
        }
    );
    assert!(s.delivery(&ws.id, &d.id).await.expect("get").is_none());
    let left = s
        .deliveries(&ws.id, &pending_hook.id, None, 10)
        .await
        .expect("list");
    assert_eq!(left.len(), 1, "a pending delivery stays, however old");
    for (hash, kept) in [
        ("old-expired", false),
        ("old-signed-out", false),
        ("recent-signed-out", true),
        ("live", true),
    ] {
        assert_eq!(
            s.session_by_hash(hash).await.expect("read").is_some(),
            kept,
            "{hash}"
        );
    }
    assert_eq!(
        s.idempotency_begin("scope", "new", "h", 15_000)
            .await
            .expect("begin"),
        IdempotencyBegin::InProgress,
        "the recent key is kept"
    );
    assert!(s.login_failures("user:old").await.expect("read").is_none());
    assert!(s.login_failures("user:new").await.expect("read").is_some());
    // The purged bucket starts full; the kept one is still spent.
    assert!(
        s.take_rate_token("full", 1, 12_000)
            .await
            .expect("take")
            .allowed
    );
    assert!(
        !s.take_rate_token("busy", 1, 12_000)
            .await
            .expect("take")
            .allowed
    );
    // Nothing is left to delete a second time.
    assert_eq!(s.purge(&purge).await.expect("purge"), Purged::default());
}

fn version(ws: &Workspace, author: &User, parent: Option<&str>, device: &str) -> SyncVersion {
    SyncVersion {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        parent_id: parent.map(str::to_string),
        device: device.into(),
        author_id: author.id.clone(),
        created_ms: 7_000,
        payload: format!("[{device:?}]"),
        batch_id: None,
    }
}

fn write(post: &str, at_ms: i64, device: &str, change: PostWrite) -> FieldWrite {
    let value = match &change {
        PostWrite::Body(body) => serde_json::json!(body).to_string(),
        PostWrite::Title(title) => serde_json::json!(title).to_string(),
        PostWrite::Deleted(deleted) => serde_json::json!(deleted).to_string(),
        PostWrite::Targets(names) => serde_json::json!(names).to_string(),
        _ => "null".into(),
    };
    FieldWrite {
        post_id: post.into(),
        at_ms,
        device: device.into(),
        change,
        value,
    }
}

async fn snapshots_page_the_current_state_after_the_latest_version(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let empty = s.snapshot_page(&ws.id, None, 10).await.expect("snapshot");
    assert_eq!(empty, SnapshotPage::default());
    // Ids whose order differs between byte order and a language's collation.
    let ids = ["p-b", "p1", "pa", "pb-1"];
    let v1 = version(&ws, &alice, None, "a");
    let mut writes = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let at = 100 + i as i64;
        writes.push(write(id, at, "a", PostWrite::Create { created_ms: at }));
        writes.push(write(id, at, "a", PostWrite::Body(format!("body of {id}"))));
    }
    assert!(matches!(
        s.add_version(&v1, &writes).await.expect("add"),
        AddVersion::Added { .. }
    ));
    // A newer body wins and an older one loses, a first title is kept whatever its time,
    // and a post in another workspace stays out.
    let v2 = version(&ws, &alice, Some(&v1.id), "b");
    let writes = [
        write("p1", 500, "b", PostWrite::Body("newer".into())),
        write("p1", 50, "b", PostWrite::Title(Some("t".into()))),
        write("pa", 10, "b", PostWrite::Body("older".into())),
    ];
    s.add_version(&v2, &writes).await.expect("add");
    let elsewhere = version(&other, &alice, None, "c");
    s.add_version(
        &elsewhere,
        &[
            write("q1", 1, "c", PostWrite::Create { created_ms: 1 }),
            write("q1", 1, "c", PostWrite::Body("not ours".into())),
        ],
    )
    .await
    .expect("add");

    let first = s.snapshot_page(&ws.id, None, 3).await.expect("snapshot");
    assert_eq!(first.latest.as_deref(), Some(v2.id.as_str()));
    let names: Vec<&str> = first.posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(names, ["p-b", "p1", "pa"], "byte order, a page of 3");
    let p1 = &first.posts[1];
    assert_eq!(p1.created_ms, 101);
    let fields: Vec<(&str, &str, i64, &str)> = p1
        .fields
        .iter()
        .map(|f| {
            (
                f.field.as_str(),
                f.value.as_str(),
                f.at_ms,
                f.device.as_str(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [("body", "\"newer\"", 500, "b"), ("title", "\"t\"", 50, "b")]
    );
    assert_eq!(first.posts[2].fields[0].value, "\"body of pa\"");
    let rest = s
        .snapshot_page(&ws.id, Some("pa"), 3)
        .await
        .expect("snapshot");
    let names: Vec<&str> = rest.posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(names, ["pb-1"]);
    assert_eq!(rest.posts[0].fields.len(), 1);
    let theirs = s
        .snapshot_page(&other.id, None, 10)
        .await
        .expect("snapshot");
    assert_eq!(theirs.latest.as_deref(), Some(elsewhere.id.as_str()));
    assert_eq!(theirs.posts.len(), 1);
    assert_eq!(theirs.posts[0].id, "q1");
}

async fn media_is_known_per_workspace(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    assert!(s.add_media(&ws.id, &a, 10, 1_000).await.expect("add"));
    assert!(!s.add_media(&ws.id, &a, 10, 2_000).await.expect("again"));
    assert_eq!(
        s.known_media(&ws.id, &[b.clone(), a.clone()])
            .await
            .expect("known"),
        vec![a.clone()]
    );
    assert_eq!(
        s.known_media(&other.id, std::slice::from_ref(&a))
            .await
            .expect("known"),
        Vec::<String>::new()
    );
    assert!(s.add_media(&other.id, &a, 10, 3_000).await.expect("add"));
    assert_eq!(
        s.known_media(&other.id, std::slice::from_ref(&a))
            .await
            .expect("known"),
        vec![a]
    );
}

async fn model_settings_are_per_workspace_and_resealed(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    assert_eq!(s.ai_settings(&ws.id).await.expect("read"), None);
    let mut settings = AiSettings {
        workspace_id: ws.id.clone(),
        provider: "anthropic".into(),
        model: "claude-x".into(),
        base_url: None,
        api_key: Some("v1.sealed-key".into()),
        max_tokens: 2048,
        updated_ms: 1_000,
    };
    s.set_ai_settings(&settings).await.expect("set");
    assert_eq!(
        s.ai_settings(&ws.id).await.expect("read"),
        Some(settings.clone())
    );
    assert_eq!(s.ai_settings(&other.id).await.expect("read"), None);
    // Replaced whole, not merged.
    settings.provider = "openai".into();
    settings.base_url = Some("http://127.0.0.1:11434/v1".into());
    settings.max_tokens = 100;
    settings.updated_ms = 2_000;
    s.set_ai_settings(&settings).await.expect("set again");
    assert_eq!(
        s.ai_settings(&ws.id).await.expect("read"),
        Some(settings.clone())
    );
    // The key is a sealed value `rotate-key` reseals, owned by the workspace.
    let values = s.sealed_values().await.expect("sealed");
    let key = values
        .iter()
        .find(|v| v.kind == SealedKind::AiKey)
        .expect("the key is a sealed value");
    assert_eq!(
        (key.owner.as_str(), key.value.as_str()),
        (ws.id.as_str(), "v1.sealed-key")
    );
    assert!(
        s.reseal(&[(key.clone(), "v1.resealed".into())])
            .await
            .expect("reseal")
    );
    assert_eq!(
        s.ai_settings(&ws.id)
            .await
            .expect("read")
            .and_then(|a| a.api_key)
            .as_deref(),
        Some("v1.resealed")
    );
    // Without a key (a local server): nothing to reseal.
    settings.api_key = None;
    s.set_ai_settings(&settings).await.expect("set");
    assert!(
        !s.sealed_values()
            .await
            .expect("sealed")
            .iter()
            .any(|v| v.kind == SealedKind::AiKey)
    );
}

async fn versions_leave_posts_that_started_publishing_alone(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "news", "mastodon");
    s.create_account(&a).await.expect("account");
    let started = due_post(&s, &ws, &alice, 10_000, &[&a]).await;
    let v1 = version(&ws, &alice, None, "a");
    let writes = [
        write("p2", 100, "a", PostWrite::Create { created_ms: 100 }),
        write("p2", 100, "a", PostWrite::Body("draft".into())),
        write(&started.id, 100, "a", PostWrite::Body("before".into())),
    ];
    assert!(matches!(
        s.add_version(&v1, &writes).await.expect("add"),
        AddVersion::Added { .. }
    ));
    // A publisher claims the post: from now on its fields only flow down.
    let claimed = s.claim_due(&claim("p1", 11_000, 10)).await.expect("claim");
    assert_eq!(claimed.claimed.len(), 1);
    let v2 = version(&ws, &alice, Some(&v1.id), "b");
    let writes = [
        write("p2", 200, "b", PostWrite::Title(Some("t".into()))),
        write(&started.id, 200, "b", PostWrite::Body("edited".into())),
        write(&started.id, 200, "b", PostWrite::Deleted(true)),
    ];
    assert_eq!(
        s.add_version(&v2, &writes).await.expect("add"),
        AddVersion::Started {
            posts: vec![started.id.clone()]
        }
    );
    // Nothing of the refused version was stored: not even its writes to other posts.
    assert_eq!(
        s.latest_version(&ws.id).await.expect("latest"),
        Some(v1.id.clone())
    );
    let p2 = s.post(&ws.id, "p2").await.expect("post").expect("p2");
    assert_eq!(p2.title, None);
    let kept = s
        .post(&ws.id, &started.id)
        .await
        .expect("post")
        .expect("live");
    assert_eq!(kept.body, "before");
    // Creating a post (a device pushing it again) is not an edit; other posts apply.
    let v2 = version(&ws, &alice, Some(&v1.id), "b");
    let writes = [
        write("p2", 200, "b", PostWrite::Title(Some("t".into()))),
        write(&started.id, 300, "b", PostWrite::Create { created_ms: 1 }),
    ];
    assert!(matches!(
        s.add_version(&v2, &writes).await.expect("add"),
        AddVersion::Added { .. }
    ));
    // The values the chain last wrote, with their stamps, for a refused device.
    let fields = s.post_fields(&ws.id, &started.id).await.expect("fields");
    assert_eq!(
        fields,
        vec![storage::StampedField {
            field: "body".into(),
            value: "\"before\"".into(),
            at_ms: 100,
            device: "a".into(),
        }]
    );
    let fields = s.post_fields(&ws.id, "p2").await.expect("fields");
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["body", "title"]);
    assert_eq!(fields[1].value, "\"t\"");
    assert_eq!(s.post_fields(&ws.id, "nope").await.expect("fields"), vec![]);
}

async fn versions_make_targets_on_the_accounts_they_name(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let news = account(&ws, "news", "mastodon");
    s.create_account(&news).await.expect("account");
    let p1 = Post {
        id: "p1".into(),
        ..post(&ws, &alice, "")
    };
    let targets =
        |names: &[&str]| PostWrite::Targets(names.iter().map(|n| n.to_string()).collect());
    let mut parent: Option<String> = None;
    let mut push = async |writes: Vec<FieldWrite>| {
        let v = version(&ws, &alice, parent.as_deref(), "a");
        assert!(matches!(
            s.add_version(&v, &writes).await.expect("add"),
            AddVersion::Added { .. }
        ));
        parent = Some(v.id);
    };
    push(vec![
        write("p1", 100, "a", PostWrite::Create { created_ms: 100 }),
        write(
            "p1",
            100,
            "a",
            PostWrite::Schedule {
                state: PostState::Scheduled,
                scheduled_ms: Some(50_000),
                zone: "UTC".into(),
            },
        ),
        write("p1", 100, "a", targets(&["news", "later"])),
    ])
    .await;
    // A named account gets its target at the post's time; a name with no account waits.
    assert_eq!(
        states(&s, &ws, &p1).await,
        vec![("news".into(), TargetState::Scheduled)]
    );
    let shown = s.targets(&ws.id, "p1").await.expect("targets");
    assert_eq!(shown[0].target.due_ms, Some(50_000));
    // The account is added (pushed) later: the waiting post gets its target then.
    let later = account(&ws, "later", "mastodon");
    s.create_account(&later).await.expect("account");
    assert_eq!(
        states(&s, &ws, &p1).await,
        vec![
            ("later".into(), TargetState::Scheduled),
            ("news".into(), TargetState::Scheduled)
        ]
    );
    // An account left out is cancelled; an older value changes nothing.
    push(vec![write("p1", 200, "a", targets(&["later"]))]).await;
    push(vec![write("p1", 150, "a", targets(&[]))]).await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        vec![
            ("later".into(), TargetState::Scheduled),
            ("news".into(), TargetState::Cancelled)
        ]
    );
    // A new time moves the targets that may still move; named again, a cancelled target
    // comes back at the post's time.
    push(vec![write(
        "p1",
        300,
        "a",
        PostWrite::Schedule {
            state: PostState::Draft,
            scheduled_ms: None,
            zone: "UTC".into(),
        },
    )])
    .await;
    push(vec![write("p1", 400, "a", targets(&["news", "later"]))]).await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        vec![
            ("later".into(), TargetState::Draft),
            ("news".into(), TargetState::Draft)
        ]
    );
    // Removed: what may still be cancelled is.
    push(vec![write("p1", 500, "a", PostWrite::Deleted(true))]).await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        vec![
            ("later".into(), TargetState::Cancelled),
            ("news".into(), TargetState::Cancelled)
        ]
    );
    // What the publisher owns flows down by change time: both targets, oldest first.
    let changed = s.targets_changed(&ws.id, 0, 10).await.expect("changed");
    assert_eq!(changed.len(), 2);
    assert!(changed[0].target.updated_ms <= changed[1].target.updated_ms);
    let newest = changed[1].target.updated_ms;
    assert_eq!(
        s.targets_changed(&ws.id, newest, 10)
            .await
            .expect("changed")
            .len(),
        0
    );
    assert_eq!(
        s.targets_changed(&ws.id, 0, 1)
            .await
            .expect("changed")
            .len(),
        1
    );
    // Another workspace's account of the same name gets nothing.
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    s.create_account(&account(&other, "later", "mastodon"))
        .await
        .expect("account");
    assert_eq!(s.targets(&other.id, "p1").await.expect("targets").len(), 0);
    assert_eq!(
        s.targets_changed(&other.id, 0, 10)
            .await
            .expect("changed")
            .len(),
        0
    );
}

fn requested_event(post: &Post, author: &str, _approvers: &[String]) -> Vec<Event> {
    vec![Event {
        workspace_id: post.workspace_id.clone(),
        event_type: "approval.requested".into(),
        payload: format!("{{\"post\":\"{}\",\"author\":\"{author}\"}}", post.id),
        created_ms: post.updated_ms,
    }]
}

/// The posts `approval.requested` was recorded for, in order.
async fn requested_for(s: &Arc<dyn Storage>, ws: &Workspace) -> Vec<String> {
    s.notification_events_between(&ws.id, 0, i64::MAX)
        .await
        .expect("events")
        .iter()
        .filter(|e| e.event_type == "approval.requested")
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.payload).expect("json");
            v["post"].as_str().expect("post").to_string()
        })
        .collect()
}

async fn synced_edits_by_an_editor_wait_for_approval(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let news = account(&ws, "news", "mastodon");
    s.create_account(&news).await.expect("account");
    let ask = SyncApproval {
        author: "eddie".into(),
        approvers: vec!["alice".into()],
        events_of: requested_event,
    };
    let scheduled = |at: i64, due: Option<i64>| {
        write(
            "p1",
            at,
            "e",
            PostWrite::Schedule {
                state: if due.is_some() {
                    PostState::Scheduled
                } else {
                    PostState::Draft
                },
                scheduled_ms: due,
                zone: "UTC".into(),
            },
        )
    };
    let p1 = Post {
        id: "p1".into(),
        ..post(&ws, &alice, "")
    };
    let mut parent: Option<String> = None;
    let mut push = async |writes: Vec<FieldWrite>, approval: Option<&SyncApproval>| {
        let v = version(&ws, &alice, parent.as_deref(), "e");
        let added = match approval {
            Some(ask) => s.add_version_awaiting(&v, &writes, ask).await,
            None => s.add_version(&v, &writes).await,
        };
        assert!(matches!(added.expect("add"), AddVersion::Added { .. }));
        parent = Some(v.id);
    };
    // A draft synced by an editor waits for nothing.
    push(
        vec![
            write("p1", 100, "e", PostWrite::Create { created_ms: 100 }),
            write("p1", 100, "e", PostWrite::Body("hello".into())),
            write("p1", 100, "e", PostWrite::Targets(vec!["news".into()])),
        ],
        Some(&ask),
    )
    .await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        [("news".into(), TargetState::Draft)]
    );
    assert!(requested_for(&s, &ws).await.is_empty());
    // Scheduled: its target awaits approval at the post's time, and approval is asked.
    push(vec![scheduled(200, Some(50_000))], Some(&ask)).await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        [("news".into(), TargetState::AwaitingApproval)]
    );
    assert_eq!(
        s.targets(&ws.id, "p1").await.expect("targets")[0]
            .target
            .due_ms,
        Some(50_000)
    );
    assert_eq!(requested_for(&s, &ws).await, ["p1"]);
    // A text edit while it waits asks nothing more; a new time moves it and asks again.
    push(
        vec![write("p1", 300, "e", PostWrite::Body("hello!".into()))],
        Some(&ask),
    )
    .await;
    assert_eq!(requested_for(&s, &ws).await, ["p1"]);
    push(vec![scheduled(400, Some(60_000))], Some(&ask)).await;
    let shown = s.targets(&ws.id, "p1").await.expect("targets");
    assert_eq!(shown[0].target.state, TargetState::AwaitingApproval);
    assert_eq!(shown[0].target.due_ms, Some(60_000));
    assert_eq!(requested_for(&s, &ws).await, ["p1", "p1"]);
    // Approved, then edited by the editor (text, media, accounts): back to waiting, once
    // per version; a stale write (an older stamp) or a label changes nothing.
    let approve = |at: i64| {
        let p = Post {
            state: PostState::Scheduled,
            scheduled_ms: Some(60_000),
            updated_ms: at,
            ..p1.clone()
        };
        let s = s.clone();
        let d = decision(&ws, &p, &alice, Decision::Approved, at);
        async move {
            s.decide_approval(
                &p,
                &TargetChange::Approve { late_before_ms: 0 },
                &d,
                &[],
                &[],
            )
            .await
            .expect("decide")
            .expect("post");
        }
    };
    let edits: [Vec<FieldWrite>; 3] = [
        vec![write("p1", 500, "e", PostWrite::Body("edited".into()))],
        vec![write("p1", 600, "e", PostWrite::Media)],
        vec![write(
            "p1",
            700,
            "e",
            PostWrite::Targets(vec!["news".into(), "x".into()]),
        )],
    ];
    let mut asked = 2;
    for (n, edit) in edits.into_iter().enumerate() {
        approve(8_000 + n as i64).await;
        assert_eq!(
            states(&s, &ws, &p1).await,
            [("news".into(), TargetState::Scheduled)]
        );
        push(
            vec![write("p1", 250, "e", PostWrite::Body("stale".into()))],
            Some(&ask),
        )
        .await;
        push(
            vec![write("p1", 800 + n as i64, "e", PostWrite::Labels)],
            Some(&ask),
        )
        .await;
        assert_eq!(
            states(&s, &ws, &p1).await,
            [("news".into(), TargetState::Scheduled)]
        );
        push(edit, Some(&ask)).await;
        asked += 1;
        assert_eq!(
            states(&s, &ws, &p1).await,
            [("news".into(), TargetState::AwaitingApproval)],
            "edit {n}"
        );
        assert_eq!(requested_for(&s, &ws).await.len(), asked);
    }
    let history = s.approval_history(&ws.id, "p1").await.expect("history");
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|d| d.decision == Decision::Approved));
    // An owner's sync (no approval asked) keeps what waits waiting, at the new time;
    // unscheduled, it is a draft; removed, cancelled.
    push(vec![scheduled(900, Some(70_000))], None).await;
    let shown = s.targets(&ws.id, "p1").await.expect("targets");
    assert_eq!(shown[0].target.state, TargetState::AwaitingApproval);
    assert_eq!(shown[0].target.due_ms, Some(70_000));
    push(vec![scheduled(1_000, None)], None).await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        [("news".into(), TargetState::Draft)]
    );
    push(vec![scheduled(1_100, Some(70_000))], Some(&ask)).await;
    push(
        vec![write("p1", 1_200, "e", PostWrite::Deleted(true))],
        Some(&ask),
    )
    .await;
    assert_eq!(
        states(&s, &ws, &p1).await,
        [("news".into(), TargetState::Cancelled)]
    );
    // A post by an editor naming an account the server lacks: the account's target,
    // made when it is added, awaits approval; an owner's post's is scheduled.
    let eddie = user("eddie");
    s.create_user(&eddie).await.expect("user");
    s.set_member(&ws.id, &eddie.id, Role::Editor)
        .await
        .expect("member");
    s.set_approval_settings(&ws.id, true, &[], 9_000)
        .await
        .expect("settings");
    for (id, author) in [("p2", &eddie), ("p3", &alice)] {
        let v = SyncVersion {
            author_id: author.id.clone(),
            ..version(&ws, author, parent.as_deref(), "e")
        };
        let writes = vec![
            write(id, 100, "e", PostWrite::Create { created_ms: 100 }),
            write(
                id,
                100,
                "e",
                PostWrite::Schedule {
                    state: PostState::Scheduled,
                    scheduled_ms: Some(80_000),
                    zone: "UTC".into(),
                },
            ),
            write(
                id,
                100,
                "e",
                PostWrite::Targets(vec!["pushed later".into()]),
            ),
        ];
        assert!(matches!(
            s.add_version(&v, &writes).await.expect("add"),
            AddVersion::Added { .. }
        ));
        parent = Some(v.id);
    }
    s.create_account(&account(&ws, "pushed later", "mastodon"))
        .await
        .expect("account");
    for (id, state) in [
        ("p2", TargetState::AwaitingApproval),
        ("p3", TargetState::Scheduled),
    ] {
        let shown = s.targets(&ws.id, id).await.expect("targets");
        assert_eq!(shown.len(), 1, "{id}");
        assert_eq!(shown[0].target.state, state, "{id}");
    }
}

async fn versions_chain_by_compare_and_set(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    assert_eq!(s.latest_version(&ws.id).await.expect("latest"), None);
    let first = version(&ws, &alice, None, "d1");
    assert_eq!(
        s.add_version(&first, &[]).await.expect("add"),
        AddVersion::Added { seq: 1 }
    );
    // A second device that saw nothing is refused, told the latest, and nothing is stored.
    let stale = version(&ws, &alice, None, "d2");
    let created = write("p-stale", 1, "d2", PostWrite::Create { created_ms: 1 });
    assert_eq!(
        s.add_version(&stale, &[created]).await.expect("add"),
        AddVersion::Stale {
            latest: Some(first.id.clone())
        }
    );
    assert_eq!(s.post(&ws.id, "p-stale").await.expect("post"), None);
    let second = version(&ws, &alice, Some(&first.id), "d2");
    assert_eq!(
        s.add_version(&second, &[]).await.expect("add"),
        AddVersion::Added { seq: 2 }
    );
    assert_eq!(
        s.add_version(&version(&ws, &alice, Some(&first.id), "d1"), &[])
            .await
            .expect("add"),
        AddVersion::Stale {
            latest: Some(second.id.clone())
        },
        "a parent that is not the latest is refused"
    );
    // Concurrent pushes after one parent: exactly one is added.
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let s = s.clone();
            let v = version(&ws, &alice, Some(&second.id), &format!("r{i}"));
            tokio::spawn(async move { s.add_version(&v, &[]).await.expect("add") })
        })
        .collect();
    let mut added = 0;
    for racer in racers {
        if matches!(racer.await.expect("join"), AddVersion::Added { .. }) {
            added += 1;
        }
    }
    assert_eq!(added, 1, "one of the concurrent pushes wins");
    // Pages after a version, oldest first; an unknown or foreign version is None.
    let all = s
        .versions_after(&ws.id, None, 10)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], first);
    assert_eq!(all[1].id, second.id);
    assert_eq!(all[1].parent_id.as_deref(), Some(first.id.as_str()));
    let after = s
        .versions_after(&ws.id, Some(&first.id), 1)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(
        after.iter().map(|v| &v.id).collect::<Vec<_>>(),
        [&second.id]
    );
    assert_eq!(
        s.versions_after(&other.id, Some(&first.id), 10)
            .await
            .expect("pull"),
        None,
        "another workspace's version is unknown here"
    );
    assert_eq!(
        s.versions_after(&other.id, None, 10).await.expect("pull"),
        Some(vec![])
    );
    assert_eq!(
        s.latest_version(&ws.id).await.expect("latest"),
        all.last().map(|v| v.id.clone())
    );
}

/// An API write of a post's synced fields appends one version (device `api`, after the
/// chain's head) whose operations are the stamps it wrote, in the write's transaction; a
/// post made through the API starts with its `created` operation. Device pushes racing
/// API writes still form one chain: each version's parent is the one before it.
async fn api_writes_append_versions_to_the_chain(target: Target) {
    use postctl_core::sync::{Field, Operation};
    let (s, alice, ws) = with_owner(&target).await;
    let first = version(&ws, &alice, None, "d1");
    s.add_version(&first, &[]).await.expect("add");
    let made = post(&ws, &alice, "made through the API");
    let body = ApiField {
        field: "body",
        value: serde_json::json!(made.body).to_string(),
        at_ms: made.created_ms,
        device: "api".into(),
        by: alice.id.clone(),
    };
    s.create_post_stamped(
        &made,
        &[],
        &[],
        &[body, api_media("[]", made.created_ms, &alice)],
    )
    .await
    .expect("create");
    let after = s
        .versions_after(&ws.id, Some(&first.id), 10)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(after.len(), 1, "{after:?}");
    let v = &after[0];
    assert_eq!(
        (
            v.device.as_str(),
            v.parent_id.as_deref(),
            v.author_id.as_str()
        ),
        ("api", Some(first.id.as_str()), alice.id.as_str())
    );
    let ops: Vec<Operation> = serde_json::from_str(&v.payload).expect("operations");
    assert_eq!(ops[0].field, Field::Created);
    assert_eq!(ops[0].value["created_ms"], made.created_ms);
    let fields = s.post_fields(&ws.id, &made.id).await.expect("fields");
    let mut carried: Vec<(String, String, i64, String)> = ops[1..]
        .iter()
        .map(|o| {
            (
                o.field.as_str().to_string(),
                o.value.to_string(),
                o.at_ms,
                o.device.clone(),
            )
        })
        .collect();
    carried.sort();
    let stamped: Vec<(String, String, i64, String)> = fields
        .iter()
        .map(|f| (f.field.clone(), f.value.clone(), f.at_ms, f.device.clone()))
        .collect();
    assert_eq!(carried, stamped, "the version carries the stamps written");

    // An edit behind a device's newer stamp is carried with the stamp it got (1 ms after).
    let head = v.id.clone();
    let synced = FieldWrite {
        value: "[]".into(),
        ..write(&made.id, made.created_ms + 50_000, "zz", PostWrite::Media)
    };
    let pushed = version(&ws, &alice, Some(&head), "zz");
    s.add_version(&pushed, &[synced]).await.expect("push");
    s.update_post_stamped(
        &made,
        None,
        None,
        false,
        &[],
        &[api_media("[]", made.created_ms + 1, &alice)],
    )
    .await
    .expect("update")
    .expect("the post");
    let last = s
        .versions_after(&ws.id, Some(&pushed.id), 10)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(last.len(), 1, "an edit adds one version, no `created`");
    let ops: Vec<Operation> = serde_json::from_str(&last[0].payload).expect("operations");
    assert_eq!(
        ops.iter().map(|o| (o.field, o.at_ms)).collect::<Vec<_>>(),
        [(Field::Media, made.created_ms + 50_001)]
    );
    assert_eq!(last[0].parent_id.as_deref(), Some(pushed.id.as_str()));
    // A write that changes nothing synced adds nothing.
    let before = s.latest_version(&ws.id).await.expect("latest");
    s.update_post_stamped(&made, None, None, false, &[], &[])
        .await
        .expect("update");
    assert_eq!(s.latest_version(&ws.id).await.expect("latest"), before);

    // Deleting through the API carries `deleted`; deleting again adds nothing.
    let gone = post(&ws, &alice, "deleted through the API");
    s.create_post_stamped(&gone, &[], &[], &[api_media("[]", gone.created_ms, &alice)])
        .await
        .expect("create");
    let deleted = ApiField {
        field: "deleted",
        value: "true".into(),
        at_ms: gone.created_ms + 5,
        device: "api".into(),
        by: alice.id.clone(),
    };
    let head = s.latest_version(&ws.id).await.expect("latest");
    assert!(
        s.delete_post_stamped(&gone, gone.created_ms + 5, std::slice::from_ref(&deleted))
            .await
            .expect("delete")
    );
    let last = s
        .versions_after(&ws.id, head.as_deref(), 10)
        .await
        .expect("pull")
        .expect("known");
    let ops: Vec<Operation> = serde_json::from_str(&last[0].payload).expect("operations");
    assert_eq!(
        ops.iter()
            .map(|o| (o.field, o.value.clone()))
            .collect::<Vec<_>>(),
        [(Field::Deleted, serde_json::json!(true))]
    );
    let head = s.latest_version(&ws.id).await.expect("latest");
    assert!(
        !s.delete_post_stamped(&gone, gone.created_ms + 6, &[deleted])
            .await
            .expect("delete")
    );
    assert_eq!(s.latest_version(&ws.id).await.expect("latest"), head);

    // Devices pushing (pull and push again when stale) while the API writes: one chain.
    let mut racers = Vec::new();
    for i in 0..4 {
        let (s, ws, alice) = (s.clone(), ws.clone(), alice.clone());
        racers.push(tokio::spawn(async move {
            for _ in 0..5 {
                loop {
                    let head = s.latest_version(&ws.id).await.expect("latest");
                    let v = version(&ws, &alice, head.as_deref(), &format!("d{i}"));
                    if matches!(
                        s.add_version(&v, &[]).await.expect("add"),
                        AddVersion::Added { .. }
                    ) {
                        break;
                    }
                }
            }
        }));
    }
    for i in 0..4 {
        let (s, made, alice) = (s.clone(), made.clone(), alice.clone());
        racers.push(tokio::spawn(async move {
            for j in 0..5 {
                s.update_post_stamped(
                    &made,
                    None,
                    None,
                    false,
                    &[],
                    &[api_media("[]", 100_000 + i * 10 + j, &alice)],
                )
                .await
                .expect("update")
                .expect("the post");
            }
        }));
    }
    for racer in racers {
        racer.await.expect("join");
    }
    let chain = s
        .versions_after(&ws.id, None, 1000)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(
        chain.len(),
        6 + 20 + 20,
        "every push and API write is in the chain"
    );
    assert_eq!(chain[0].parent_id, None);
    for pair in chain.windows(2) {
        assert_eq!(pair[1].parent_id.as_deref(), Some(pair[0].id.as_str()));
    }
}

/// The one version appended after `head`: it follows `head`, and its operations.
async fn one_version_after(
    s: &Arc<dyn Storage>,
    ws: &Workspace,
    head: &str,
) -> (SyncVersion, Vec<postctl_core::sync::Operation>) {
    let after = s
        .versions_after(&ws.id, Some(head), 10)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(after.len(), 1, "one version: {after:?}");
    let v = after.into_iter().next().expect("a version");
    assert_eq!(v.parent_id.as_deref(), Some(head), "after the chain's head");
    let ops = serde_json::from_str(&v.payload).expect("operations");
    (v, ops)
}

/// Asserts that `ops` make post `p` (`created` first) and carry every field it has stamped,
/// with its stamp: what a device applies is the post as the server holds it.
async fn carries_the_post(
    s: &Arc<dyn Storage>,
    ws: &Workspace,
    p: &Post,
    ops: &[postctl_core::sync::Operation],
) {
    use postctl_core::sync::Field;
    assert_eq!(ops[0].field, Field::Created, "{ops:?}");
    assert_eq!(ops[0].value["created_ms"], p.created_ms);
    let mut carried: Vec<(String, String, i64, String)> = ops[1..]
        .iter()
        .map(|o| {
            assert_eq!(o.post, p.id);
            (
                o.field.as_str().to_string(),
                o.value.to_string(),
                o.at_ms,
                o.device.clone(),
            )
        })
        .collect();
    carried.sort();
    let stamped: Vec<(String, String, i64, String)> = s
        .post_fields(&ws.id, &p.id)
        .await
        .expect("fields")
        .iter()
        .map(|f| (f.field.clone(), f.value.clone(), f.at_ms, f.device.clone()))
        .collect();
    assert_eq!(carried, stamped, "the version carries the stamps written");
    let fields: Vec<&str> = stamped.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        fields,
        ["body", "deleted", "media", "schedule", "targets", "title"]
    );
}

/// Posts the server makes by itself reach the devices as the API's writes do: a trigger
/// firing and a feed item (queued or not, awaiting approval or not) store every field
/// stamped by their device (`trigger`, `feed`) and append one version in the same
/// transaction, with the maker as its user; a queued post's `schedule` carries the slot its
/// transaction picked, and an event or item seen before adds nothing. A rejection stamps
/// the post's `schedule` (a draft again) the same way, by the approver.
async fn made_posts_append_versions_to_the_chain(target: Target) {
    use postctl_core::sync::Field;
    let (s, alice, ws) = with_owner(&target).await;
    let bob = user("bob");
    s.create_user(&bob).await.expect("user");
    s.set_member(&ws.id, &bob.id, Role::Admin)
        .await
        .expect("member");
    let masto = account(&ws, "masto", "mastodon");
    s.create_account(&masto).await.expect("account");
    let first = version(&ws, &alice, None, "d1");
    s.add_version(&first, &[]).await.expect("add");
    let maker = |device: &'static str, user: &User| {
        Made {
            device,
            user: user.id.clone(),
            targets: vec!["masto".into()],
        }
        .stamps()
    };
    let due = |body: &str, state: TargetState| {
        let p = Post {
            state: PostState::Scheduled,
            scheduled_ms: Some(6_000),
            ..post(&ws, &alice, body)
        };
        let mut t = storage::Target::new(&p, &masto.id, 6_000);
        t.state = state;
        (p, [t])
    };

    // A generic trigger fired by bob (alice's trigger): device `trigger`, user bob.
    let trigger = Trigger {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        kind: TriggerKind::Generic,
        template: "release".into(),
        accounts: vec![masto.id.clone()],
        secret: None,
        prereleases: false,
        queue: false,
        description: None,
        created_by: alice.id.clone(),
        created_ms: 1_000,
    };
    s.create_trigger(&trigger).await.expect("trigger");
    let (fired, t) = due("v1.0 is out", TargetState::Scheduled);
    let made = maker("trigger", &bob);
    assert_eq!(
        s.fire_trigger(&trigger.id, "k1", &fired, &t, &[], None, &made)
            .await
            .expect("fire"),
        Fired::Made
    );
    let (v, ops) = one_version_after(&s, &ws, &first.id).await;
    assert_eq!(
        (v.device.as_str(), v.author_id.as_str()),
        ("trigger", bob.id.as_str())
    );
    carries_the_post(&s, &ws, &fired, &ops).await;
    let value = |field: Field| {
        ops.iter()
            .find(|o| o.field == field)
            .map(|o| o.value.clone())
            .expect("the field")
    };
    assert_eq!(value(Field::Body), serde_json::json!("v1.0 is out"));
    assert_eq!(value(Field::Targets), serde_json::json!(["masto"]));
    assert_eq!(value(Field::Schedule)["kind"], "at");
    assert_eq!(value(Field::Schedule)["due_ms"], 6_000);
    assert_eq!(value(Field::Deleted), serde_json::json!(false));
    // The same event again: no post, no version.
    let head = v.id;
    let (again, t) = due("v1.0 is out (again)", TargetState::Scheduled);
    assert!(matches!(
        s.fire_trigger(&trigger.id, "k1", &again, &t, &[], None, &made)
            .await
            .expect("fire"),
        Fired::Already { .. }
    ));
    assert_eq!(
        s.latest_version(&ws.id).await.expect("latest").as_deref(),
        Some(head.as_str())
    );

    // A feed item awaiting approval: device `feed`, user alice (the feed's owner).
    let feed = storage::Feed {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        url: "https://blog.example.test/feed.xml".into(),
        template: "blog".into(),
        accounts: vec![masto.id.clone()],
        etag: None,
        last_modified: None,
        last_error: None,
        polled_ms: Some(1_000),
        next_poll_ms: 1_000,
        queue: false,
        created_by: alice.id.clone(),
        created_ms: 1_000,
    };
    s.create_feed(&feed).await.expect("feed");
    let (item, t) = due("New: a post", TargetState::AwaitingApproval);
    let keys = vec!["id:1".to_string()];
    assert!(
        s.post_feed_item(
            &feed.id,
            &keys,
            &item,
            &t,
            &[],
            None,
            &maker("feed", &alice)
        )
        .await
        .expect("post")
    );
    let (v, ops) = one_version_after(&s, &ws, &head).await;
    assert_eq!(
        (v.device.as_str(), v.author_id.as_str()),
        ("feed", alice.id.as_str())
    );
    carries_the_post(&s, &ws, &item, &ops).await;
    assert_eq!(
        s.targets(&ws.id, &item.id).await.expect("targets")[0]
            .target
            .state,
        TargetState::AwaitingApproval
    );
    let head = v.id;
    let (seen, t) = due("New: a post (seen)", TargetState::Scheduled);
    assert!(
        !s.post_feed_item(
            &feed.id,
            &keys,
            &seen,
            &t,
            &[],
            None,
            &maker("feed", &alice)
        )
        .await
        .expect("post")
    );
    assert_eq!(
        s.latest_version(&ws.id).await.expect("latest").as_deref(),
        Some(head.as_str())
    );

    // Queued: the version carries the slot the transaction picked, not the time asked.
    // Thursday 2026-11-26 12:00 UTC; masto's next slot is Friday 09:00 in Berlin.
    let now = 1_795_694_400_000_i64;
    let fri_9 = 1_795_766_400_000_i64;
    assert!(
        s.set_queue_slots(&QueueSlots {
            account_id: masto.id.clone(),
            workspace_id: ws.id.clone(),
            rules: "mon-fri 09:00".into(),
            tz: "Europe/Berlin".into(),
            updated_ms: 1_000,
        })
        .await
        .expect("slots")
    );
    let queued = Queued {
        now_ms: now,
        events: Arc::new(|_: &Post| Vec::new()),
    };
    let asked = Post {
        scheduled_ms: Some(now),
        ..due("v2.0 is out", TargetState::Scheduled).0
    };
    let t = [storage::Target::new(&asked, &masto.id, now)];
    assert_eq!(
        s.fire_trigger(&trigger.id, "k2", &asked, &t, &[], Some(&queued), &made)
            .await
            .expect("fire"),
        Fired::Made
    );
    let stored = s
        .post(&ws.id, &asked.id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.scheduled_ms, Some(fri_9));
    let (v, ops) = one_version_after(&s, &ws, &head).await;
    carries_the_post(&s, &ws, &stored, &ops).await;
    let schedule = ops
        .iter()
        .find(|o| o.field == Field::Schedule)
        .map(|o| o.value.clone())
        .expect("schedule");
    assert_eq!(schedule["due_ms"], fri_9, "{schedule}");
    assert_eq!(schedule["zone"], "Europe/Berlin", "{schedule}");
    let (item, t) = due("New: queued", TargetState::Scheduled);
    let item = Post {
        scheduled_ms: Some(now),
        ..item
    };
    assert!(
        s.post_feed_item(
            &feed.id,
            &["id:2".to_string()],
            &item,
            &t,
            &[],
            Some(&queued),
            &maker("feed", &alice)
        )
        .await
        .expect("post")
    );
    let (_, ops) = one_version_after(&s, &ws, &v.id).await;
    let schedule = ops
        .iter()
        .find(|o| o.field == Field::Schedule)
        .map(|o| o.value.clone())
        .expect("schedule");
    let stored = s
        .post(&ws.id, &item.id)
        .await
        .expect("read")
        .expect("stored");
    assert_ne!(stored.scheduled_ms, Some(now), "queued");
    assert_eq!(schedule["due_ms"], serde_json::json!(stored.scheduled_ms));

    // Rejected by bob: its `schedule` (a draft now) travels as his version.
    let (waits, t) = due("Waits for approval", TargetState::AwaitingApproval);
    s.fire_trigger(&trigger.id, "k3", &waits, &t, &[], None, &made)
        .await
        .expect("fire");
    let head = s
        .latest_version(&ws.id)
        .await
        .expect("latest")
        .expect("a version");
    let rejected = Post {
        state: PostState::Draft,
        scheduled_ms: None,
        updated_ms: 9_000,
        ..waits
    };
    let unscheduled = ApiField {
        field: "schedule",
        value: r#"{"kind":"none","rule":null,"due_ms":null,"zone":"UTC"}"#.into(),
        at_ms: 9_000,
        device: "api".into(),
        by: bob.id.clone(),
    };
    s.decide_approval(
        &rejected,
        &TargetChange::Reject,
        &decision(&ws, &rejected, &bob, Decision::Rejected, 9_000),
        &[],
        &[unscheduled],
    )
    .await
    .expect("reject")
    .expect("post");
    let (v, ops) = one_version_after(&s, &ws, &head).await;
    assert_eq!(
        (v.device.as_str(), v.author_id.as_str()),
        ("api", bob.id.as_str())
    );
    assert_eq!(
        ops.iter().map(|o| (o.field, o.at_ms)).collect::<Vec<_>>(),
        [(Field::Schedule, 9_000)]
    );
    assert_eq!(ops[0].value["kind"], "none");
}

/// A push retried after its sync was cut off carries the batch id of the first: the
/// server answers with the version that batch made, whatever parent the retry names, and
/// stores nothing (once also between concurrent pushes of one batch). Ids are per
/// workspace, and pushes without one (older devices) are added as before.
async fn a_batch_pushed_again_is_answered_with_its_version(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let batched = |ws: &Workspace, parent: Option<&str>, batch: &str| SyncVersion {
        batch_id: Some(batch.into()),
        ..version(ws, &alice, parent, "d1")
    };
    let writes = [
        write("p1", 100, "d1", PostWrite::Create { created_ms: 100 }),
        write("p1", 100, "d1", PostWrite::Body("once".into())),
    ];
    let first = batched(&ws, None, "b1");
    assert_eq!(
        s.add_version(&first, &writes).await.expect("add"),
        AddVersion::Added { seq: 1 }
    );
    // Again after the first (the device heard nothing, pulled its own version, pushed
    // again), and again with the parent it had then.
    for parent in [Some(first.id.as_str()), None] {
        assert_eq!(
            s.add_version(&batched(&ws, parent, "b1"), &writes)
                .await
                .expect("add"),
            AddVersion::Duplicate {
                id: first.id.clone(),
                seq: 1
            },
            "parent {parent:?}"
        );
    }
    let all = s
        .versions_after(&ws.id, None, 10)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(all, vec![first.clone()], "the batch is stored once");
    // Another batch is a new version; the same batch id in another workspace is its own.
    let second = batched(&ws, Some(&first.id), "b2");
    assert_eq!(
        s.add_version(&second, &[]).await.expect("add"),
        AddVersion::Added { seq: 2 }
    );
    assert_eq!(
        s.add_version(&batched(&other, None, "b1"), &[])
            .await
            .expect("add"),
        AddVersion::Added { seq: 1 }
    );
    // Without batch ids nothing is recognised.
    let plain = version(&ws, &alice, Some(&second.id), "d1");
    assert_eq!(
        s.add_version(&plain, &[]).await.expect("add"),
        AddVersion::Added { seq: 3 }
    );
    let plain_again = version(&ws, &alice, Some(&plain.id), "d1");
    assert_eq!(
        s.add_version(&plain_again, &[]).await.expect("add"),
        AddVersion::Added { seq: 4 }
    );
    // Concurrent pushes of one batch after the latest: one adds it, none adds it twice.
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            let v = batched(&ws, Some(&plain_again.id), "b3");
            tokio::spawn(async move { s.add_version(&v, &[]).await.expect("add") })
        })
        .collect();
    let mut added = Vec::new();
    for racer in racers {
        if let AddVersion::Added { seq } = racer.await.expect("join") {
            added.push(seq);
        }
    }
    assert_eq!(
        added,
        vec![5],
        "one of the concurrent pushes adds the batch"
    );
    let all = s
        .versions_after(&ws.id, None, 10)
        .await
        .expect("pull")
        .expect("known");
    assert_eq!(all.len(), 5);
    assert_eq!(
        all.iter()
            .filter(|v| v.batch_id.as_deref() == Some("b3"))
            .count(),
        1
    );
    assert_eq!(
        s.post(&ws.id, "p1").await.expect("post").expect("p1").body,
        "once"
    );
}

async fn versions_apply_last_writer_wins(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let v1 = version(&ws, &alice, None, "a");
    let writes = [
        write("p1", 100, "a", PostWrite::Create { created_ms: 100 }),
        write("p1", 100, "a", PostWrite::Body("first".into())),
        write("p1", 100, "a", PostWrite::Title(Some("t".into()))),
        write(
            "p1",
            100,
            "a",
            PostWrite::Schedule {
                state: PostState::Scheduled,
                scheduled_ms: Some(9_000),
                zone: "Europe/Berlin".into(),
            },
        ),
    ];
    assert!(matches!(
        s.add_version(&v1, &writes).await.expect("add"),
        AddVersion::Added { .. }
    ));
    let p1 = s.post(&ws.id, "p1").await.expect("post").expect("created");
    assert_eq!(
        (
            p1.body.as_str(),
            p1.title.as_deref(),
            p1.state,
            p1.scheduled_ms
        ),
        ("first", Some("t"), PostState::Scheduled, Some(9_000))
    );
    assert_eq!(
        (p1.author_id.as_str(), p1.zone.as_str()),
        (alice.id.as_str(), "Europe/Berlin")
    );
    // An older write arriving later loses; a newer one wins; at the same time, the
    // greater device wins; another field is independent.
    let v2 = version(&ws, &alice, Some(&v1.id), "b");
    let writes = [
        write("p1", 50, "b", PostWrite::Body("older".into())),
        write(
            "p1",
            100,
            "b",
            PostWrite::Title(Some("b wins the tie".into())),
        ),
        write(
            "p1",
            100,
            "0",
            PostWrite::Title(Some("0 loses the tie".into())),
        ),
    ];
    s.add_version(&v2, &writes).await.expect("add");
    let p1 = s.post(&ws.id, "p1").await.expect("post").expect("live");
    assert_eq!(
        (p1.body.as_str(), p1.title.as_deref()),
        ("first", Some("b wins the tie"))
    );
    let v3 = version(&ws, &alice, Some(&v2.id), "b");
    let writes = [
        write("p1", 200, "b", PostWrite::Body("newer".into())),
        write("p1", 200, "b", PostWrite::Deleted(true)),
        // A post id of this workspace written as another workspace's does nothing there.
        write("p1", 300, "b", PostWrite::Create { created_ms: 1 }),
    ];
    s.add_version(&v3, &writes).await.expect("add");
    assert_eq!(s.post(&ws.id, "p1").await.expect("post"), None, "deleted");
    let v4 = version(&ws, &alice, Some(&v3.id), "a");
    s.add_version(&v4, &[write("p1", 150, "a", PostWrite::Deleted(false))])
        .await
        .expect("add");
    assert_eq!(
        s.post(&ws.id, "p1").await.expect("post"),
        None,
        "an older restore loses to the newer delete"
    );
    let v5 = version(&ws, &alice, Some(&v4.id), "a");
    s.add_version(&v5, &[write("p1", 250, "a", PostWrite::Deleted(false))])
        .await
        .expect("add");
    let p1 = s.post(&ws.id, "p1").await.expect("post").expect("restored");
    assert_eq!(p1.body, "newer");
    // Another workspace cannot take this workspace's post id: nothing is stored.
    let taken = version(&other, &alice, None, "c");
    let writes = [
        write("p-new", 900, "c", PostWrite::Create { created_ms: 1 }),
        write("p1", 900, "c", PostWrite::Create { created_ms: 1 }),
    ];
    assert_eq!(
        s.add_version(&taken, &writes).await.expect("add"),
        AddVersion::ForeignPost {
            post_id: "p1".into()
        }
    );
    assert_eq!(s.latest_version(&other.id).await.expect("latest"), None);
    assert_eq!(s.post(&other.id, "p-new").await.expect("post"), None);
    // Another workspace cannot write this workspace's post through its own chain.
    let o1 = version(&other, &alice, None, "c");
    s.add_version(
        &o1,
        &[write("p1", 900, "c", PostWrite::Body("hijack".into()))],
    )
    .await
    .expect("add");
    assert_eq!(
        s.post(&ws.id, "p1")
            .await
            .expect("post")
            .expect("live")
            .body,
        "newer"
    );
}

async fn sessions_move_once(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let other = workspace("other");
    s.create_workspace(&other, &alice.id).await.expect("ws");
    let old = session(&alice, &ws, "h-old");
    s.create_session(&old).await.expect("session");
    let new = session(&alice, &other, "h-new");
    assert!(s.move_session(&old.id, &new, 5_000).await.expect("move"));
    let ended = s
        .session_by_hash("h-old")
        .await
        .expect("find")
        .expect("old");
    assert_eq!(ended.revoked_ms, Some(5_000));
    let moved = s
        .session_by_hash("h-new")
        .await
        .expect("find")
        .expect("new");
    assert_eq!(moved.workspace_id, other.id);
    let again = session(&alice, &ws, "h-again");
    assert!(!s.move_session(&old.id, &again, 6_000).await.expect("move"));
    assert_eq!(s.session_by_hash("h-again").await.expect("find"), None);
}

fn stored_template(ws: &Workspace, name: &str, body: &str, at: i64) -> StoredTemplate {
    StoredTemplate {
        workspace_id: ws.id.clone(),
        name: name.into(),
        body: body.into(),
        variants: [("bluesky".to_string(), "{{ version }}".to_string())].into(),
        created_ms: at,
        updated_ms: at,
    }
}

async fn templates_and_voices_stay_in_their_workspace(target: Target) {
    let (s, bob, other) = {
        let (s, _, _) = with_owner(&target).await;
        let bob = user("bob");
        let other = workspace("bob");
        s.create_user(&bob).await.expect("user");
        s.create_workspace(&other, &bob.id)
            .await
            .expect("workspace");
        (s, bob, other)
    };
    let _ = bob;
    let ws = s
        .workspace_by_name("alice")
        .await
        .expect("read")
        .expect("alice's");
    assert!(
        s.put_template(&stored_template(
            &ws,
            "launch",
            "{{ version }} is out",
            1_000
        ))
        .await
        .expect("put")
    );
    assert!(
        s.put_template(&stored_template(&ws, "a-first", "x", 1_500))
            .await
            .expect("put")
    );
    // Replacing keeps when it was made.
    assert!(
        !s.put_template(&stored_template(
            &ws,
            "launch",
            "{{ version }} ships",
            2_000
        ))
        .await
        .expect("put")
    );
    let launch = s
        .template(&ws.id, "launch")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(launch.body, "{{ version }} ships");
    assert_eq!((launch.created_ms, launch.updated_ms), (1_000, 2_000));
    assert_eq!(launch.variants["bluesky"], "{{ version }}");
    let names: Vec<String> = s
        .templates(&ws.id)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a-first", "launch"]);
    assert!(s.templates(&other.id).await.expect("list").is_empty());
    assert_eq!(s.template(&other.id, "launch").await.expect("read"), None);
    assert!(
        !s.delete_template(&other.id, "launch")
            .await
            .expect("delete")
    );
    assert!(s.delete_template(&ws.id, "launch").await.expect("delete"));
    assert!(!s.delete_template(&ws.id, "launch").await.expect("delete"));

    let voice = |settings: &str, at: i64| StoredVoice {
        workspace_id: ws.id.clone(),
        name: "brand".into(),
        settings: settings.into(),
        created_ms: at,
        updated_ms: at,
    };
    assert!(
        s.put_voice(&voice(r#"{"tone":"plain"}"#, 1_000))
            .await
            .expect("put")
    );
    assert!(
        !s.put_voice(&voice(r#"{"tone":"warm"}"#, 3_000))
            .await
            .expect("put")
    );
    let stored = s
        .voice(&ws.id, "brand")
        .await
        .expect("read")
        .expect("voice");
    assert_eq!(stored.settings, r#"{"tone":"warm"}"#);
    assert_eq!((stored.created_ms, stored.updated_ms), (1_000, 3_000));
    assert_eq!(s.voices(&ws.id).await.expect("list").len(), 1);
    assert_eq!(s.voice(&other.id, "brand").await.expect("read"), None);
    assert!(s.delete_voice(&ws.id, "brand").await.expect("delete"));
    assert!(s.voices(&ws.id).await.expect("list").is_empty());
}

async fn triggers_make_one_post_per_event(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "masto", "mastodon");
    s.create_account(&a).await.expect("account");
    let hook = webhook(&ws, &alice, &["post.scheduled"]);
    s.create_webhook(&hook).await.expect("webhook");
    let trigger = Trigger {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        kind: TriggerKind::Github,
        template: "release".into(),
        accounts: vec![a.id.clone()],
        secret: Some("v1.sealed-trigger-secret".into()),
        prereleases: false,
        queue: false,
        description: Some("releases".into()),
        created_by: alice.id.clone(),
        created_ms: 1_000,
    };
    s.create_trigger(&trigger).await.expect("trigger");
    assert_eq!(
        s.trigger(&trigger.id).await.expect("read"),
        Some(trigger.clone())
    );
    assert_eq!(
        s.triggers(&ws.id).await.expect("list"),
        std::slice::from_ref(&trigger)
    );
    assert!(
        s.sealed_values()
            .await
            .expect("sealed")
            .iter()
            .any(|v| v.kind == SealedKind::TriggerSecret
                && v.owner == trigger.id
                && v.value == "v1.sealed-trigger-secret")
    );
    let due = |body: &str| {
        let p = Post {
            state: PostState::Scheduled,
            scheduled_ms: Some(6_000),
            ..post(&ws, &alice, body)
        };
        let t = storage::Target::new(&p, &a.id, 6_000);
        let e = event(&ws, "post.scheduled", 6_000);
        (p, t, e)
    };
    let (first, t1, e1) = due("v1.0 is out");
    assert_eq!(
        s.fire_trigger(
            &trigger.id,
            "github-release:1",
            &first,
            &[t1],
            &[e1],
            None,
            &stamping("trigger", &alice)
        )
        .await
        .expect("fire"),
        Fired::Made
    );
    // The same event again: nothing is written, and the first post is named.
    let (second, t2, e2) = due("v1.0 is out (again)");
    assert_eq!(
        s.fire_trigger(
            &trigger.id,
            "github-release:1",
            &second,
            &[t2],
            &[e2],
            None,
            &stamping("trigger", &alice)
        )
        .await
        .expect("fire"),
        Fired::Already {
            post_id: first.id.clone()
        }
    );
    assert!(s.post(&ws.id, &first.id).await.expect("read").is_some());
    assert_eq!(s.post(&ws.id, &second.id).await.expect("read"), None);
    assert_eq!(
        s.targets(&ws.id, &first.id).await.expect("targets")[0]
            .target
            .state,
        TargetState::Scheduled
    );
    let deliveries = s
        .deliveries(&ws.id, &hook.id, None, 10)
        .await
        .expect("deliveries");
    assert_eq!(
        deliveries.len(),
        1,
        "one post.scheduled, for the first post only"
    );

    // Two handles racing one new event: one post.
    let other = open(&target).await.expect("a second handle");
    let (p3, t3, e3) = due("v2.0");
    let (p4, t4, e4) = due("v2.0");
    let (t3, e3, t4, e4) = ([t3], [e3], [t4], [e4]);
    let made = stamping("trigger", &alice);
    let (r3, r4) = tokio::join!(
        s.fire_trigger(&trigger.id, "github-release:2", &p3, &t3, &e3, None, &made),
        other.fire_trigger(&trigger.id, "github-release:2", &p4, &t4, &e4, None, &made),
    );
    let results = [r3.expect("fire"), r4.expect("fire")];
    assert_eq!(
        results.iter().filter(|r| **r == Fired::Made).count(),
        1,
        "{results:?}"
    );
    let posts = s
        .posts(&PostQuery {
            workspace_id: ws.id.clone(),
            state: None,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("posts");
    assert_eq!(posts.len(), 2, "{posts:?}");

    // Deleted: its firings go, its posts stay; another workspace cannot delete it.
    let bob = user("bob");
    let theirs = workspace("bob");
    s.create_user(&bob).await.expect("user");
    s.create_workspace(&theirs, &bob.id)
        .await
        .expect("workspace");
    assert!(
        !s.delete_trigger(&theirs.id, &trigger.id)
            .await
            .expect("delete")
    );
    assert!(s.delete_trigger(&ws.id, &trigger.id).await.expect("delete"));
    assert_eq!(s.trigger(&trigger.id).await.expect("read"), None);
    assert!(s.post(&ws.id, &first.id).await.expect("read").is_some());
}

async fn feeds_are_polled_by_one_claimer_and_post_each_item_once(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "masto", "mastodon");
    s.create_account(&a).await.expect("account");
    let feed = storage::Feed {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        url: "https://blog.example.test/feed.xml".into(),
        template: "blog".into(),
        accounts: vec![a.id.clone()],
        etag: None,
        last_modified: None,
        last_error: None,
        polled_ms: None,
        next_poll_ms: 1_000,
        queue: false,
        created_by: alice.id.clone(),
        created_ms: 1_000,
    };
    s.create_feed(&feed).await.expect("feed");
    assert_eq!(
        s.feeds(&ws.id).await.expect("list"),
        std::slice::from_ref(&feed)
    );

    // Not due yet; then due: one of two handles claims it, and the lease holds it.
    let other = open(&target).await.expect("a second handle");
    assert!(
        s.claim_feeds("p1", 500, 10_000, 8)
            .await
            .expect("claim")
            .is_empty()
    );
    let (c1, c2) = tokio::join!(
        s.claim_feeds("p1", 2_000, 10_000, 8),
        other.claim_feeds("p2", 2_000, 10_000, 8)
    );
    let (c1, c2) = (c1.expect("claim"), c2.expect("claim"));
    assert_eq!(c1.len() + c2.len(), 1, "{c1:?} {c2:?}");
    let owner = if c1.is_empty() { "p2" } else { "p1" };
    assert!(
        s.claim_feeds("p3", 5_000, 10_000, 8)
            .await
            .expect("claim")
            .is_empty()
    );
    let polled = storage::Polled {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Sun, 06 Dec 2026 10:00:00 GMT".into()),
        last_error: None,
        polled_ms: Some(5_000),
        next_poll_ms: 65_000,
    };
    assert!(
        !s.finish_poll(&feed.id, "p3", &polled)
            .await
            .expect("finish")
    );
    assert!(
        s.finish_poll(&feed.id, owner, &polled)
            .await
            .expect("finish")
    );
    let stored = &s.feeds(&ws.id).await.expect("list")[0];
    assert_eq!(stored.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        (stored.polled_ms, stored.next_poll_ms),
        (Some(5_000), 65_000)
    );
    // A failed poll keeps the last good time and shows its error.
    assert_eq!(
        s.claim_feeds("p1", 65_000, 10_000, 8)
            .await
            .expect("claim")
            .len(),
        1
    );
    let failed = storage::Polled {
        last_error: Some("the feed answered HTTP 500".into()),
        polled_ms: None,
        next_poll_ms: 125_000,
        ..polled.clone()
    };
    assert!(
        s.finish_poll(&feed.id, "p1", &failed)
            .await
            .expect("finish")
    );
    let stored = &s.feeds(&ws.id).await.expect("list")[0];
    assert_eq!(
        stored.last_error.as_deref(),
        Some("the feed answered HTTP 500")
    );
    assert_eq!(stored.polled_ms, Some(5_000));
    // A lease that passed frees the feed.
    assert_eq!(
        s.claim_feeds("p1", 125_000, 1_000, 8)
            .await
            .expect("claim")
            .len(),
        1
    );
    assert_eq!(
        s.claim_feeds("p2", 126_000, 1_000, 8)
            .await
            .expect("claim")
            .len(),
        1
    );

    // Items seen at the first read make no post; a new one makes one, once, whichever
    // of its keys comes back.
    s.see_feed_items(
        &feed.id,
        &["id:1".into(), "link:https://b.test/1".into()],
        5_000,
    )
    .await
    .expect("seen");
    let due = |body: &str| {
        let p = Post {
            state: PostState::Scheduled,
            scheduled_ms: Some(6_000),
            ..post(&ws, &alice, body)
        };
        let t = storage::Target::new(&p, &a.id, 6_000);
        let e = event(&ws, "post.scheduled", 6_000);
        (p, t, e)
    };
    let (p, t, e) = due("old");
    let keys = |k: &[&str]| k.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    assert!(
        !s.post_feed_item(
            &feed.id,
            &keys(&["id:1b", "link:https://b.test/1"]),
            &p,
            &[t],
            &[e],
            None,
            &stamping("feed", &alice)
        )
        .await
        .expect("post")
    );
    assert_eq!(
        s.post(&ws.id, &p.id).await.expect("read"),
        None,
        "rolled back"
    );
    let (p2, t2, e2) = due("new");
    let (p3, t3, e3) = due("new");
    let two = keys(&["id:2", "link:https://b.test/2"]);
    let (t2, e2, t3, e3) = ([t2], [e2], [t3], [e3]);
    let stamped = stamping("feed", &alice);
    let (r2, r3) = tokio::join!(
        s.post_feed_item(&feed.id, &two, &p2, &t2, &e2, None, &stamped),
        other.post_feed_item(&feed.id, &two, &p3, &t3, &e3, None, &stamped)
    );
    let made = [r2.expect("post"), r3.expect("post")];
    assert_eq!(made.iter().filter(|m| **m).count(), 1, "{made:?}");
    let posts = s
        .posts(&PostQuery {
            workspace_id: ws.id.clone(),
            state: None,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("posts");
    assert_eq!(posts.len(), 1, "{posts:?}");

    // Deleted: its items go, its posts stay; another workspace cannot delete it.
    let bob = user("bob");
    let theirs = workspace("bob");
    s.create_user(&bob).await.expect("user");
    s.create_workspace(&theirs, &bob.id)
        .await
        .expect("workspace");
    assert!(!s.delete_feed(&theirs.id, &feed.id).await.expect("delete"));
    assert!(s.delete_feed(&ws.id, &feed.id).await.expect("delete"));
    assert!(s.feeds(&ws.id).await.expect("list").is_empty());
    assert_eq!(
        s.post(&ws.id, &posts[0].id)
            .await
            .expect("read")
            .map(|p| p.body),
        Some("new".into())
    );
}

fn decision(ws: &Workspace, post: &Post, by: &User, d: Decision, at: i64) -> ApprovalDecision {
    ApprovalDecision {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        post_id: post.id.clone(),
        user_id: Some(by.id.clone()),
        user_name: None,
        decision: d,
        comment: (d == Decision::Rejected).then(|| "fix the link".to_string()),
        created_ms: at,
    }
}

/// A post of `ws` by `author`, due at `due_ms`, awaiting approval on `accounts`.
async fn awaiting_post(
    s: &Arc<dyn Storage>,
    ws: &Workspace,
    author: &User,
    due_ms: i64,
    accounts: &[&Account],
) -> Post {
    let draft = post(ws, author, "needs approval");
    let targets: Vec<_> = accounts
        .iter()
        .map(|a| storage::Target::new(&draft, &a.id, 5_000))
        .collect();
    s.create_post_with_targets(&draft, &targets, &[])
        .await
        .expect("draft");
    let p = Post {
        state: PostState::Scheduled,
        scheduled_ms: Some(due_ms),
        updated_ms: 6_000,
        ..draft
    };
    let moved = s
        .update_post(
            &p,
            None,
            Some(&TargetChange::AwaitApproval { due_ms }),
            true,
            &[],
        )
        .await
        .expect("await approval")
        .expect("post");
    assert_eq!(moved.changed.len(), accounts.len());
    p
}

fn missed_event(u: &Unapproved, at: i64) -> Vec<Event> {
    vec![Event {
        workspace_id: u.post.workspace_id.clone(),
        event_type: "post.missed".into(),
        payload: format!("{{\"post\":\"{}\"}}", u.post.id),
        created_ms: at,
    }]
}

async fn approval_settings_name_the_members_who_approve(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let bob = user("bob");
    let carol = user("carol");
    for u in [&bob, &carol] {
        s.create_user(u).await.expect("user");
    }
    s.set_member(&ws.id, &bob.id, Role::Editor)
        .await
        .expect("bob");
    s.set_member(&ws.id, &carol.id, Role::Viewer)
        .await
        .expect("carol");
    let none = s.approval_settings(&ws.id).await.expect("settings");
    assert!(!none.require_approval && none.approvers.is_empty());
    assert!(!none.needs_approval(&bob.id, Role::Editor));
    s.set_approval_settings(&ws.id, true, std::slice::from_ref(&carol.id), 10_000)
        .await
        .expect("set");
    let set = s.approval_settings(&ws.id).await.expect("settings");
    assert!(set.require_approval);
    assert_eq!(
        set.approvers
            .iter()
            .map(|m| (m.user_name.as_str(), m.role))
            .collect::<Vec<_>>(),
        vec![("carol", Role::Viewer)]
    );
    assert!(set.needs_approval(&bob.id, Role::Editor));
    assert!(!set.needs_approval(&carol.id, Role::Viewer), "an approver");
    assert!(!set.needs_approval(&alice.id, Role::Owner), "an owner");
    assert!(set.may_approve(&carol.id, Role::Viewer));
    assert!(!set.may_approve(&bob.id, Role::Editor));
    // Replacing the list replaces it; another workspace is untouched.
    s.set_approval_settings(&ws.id, true, std::slice::from_ref(&bob.id), 11_000)
        .await
        .expect("replace");
    let replaced = s.approval_settings(&ws.id).await.expect("settings");
    assert_eq!(replaced.approvers.len(), 1);
    assert_eq!(replaced.approvers[0].user_id, bob.id);
    let other = workspace("other");
    s.create_workspace(&other, &bob.id).await.expect("other");
    assert!(
        !s.approval_settings(&other.id)
            .await
            .expect("other")
            .require_approval
    );
    // A deleted member is no approver any more.
    s.delete_user(&bob.id, 12_000).await.expect("delete bob");
    assert!(
        s.approval_settings(&ws.id)
            .await
            .expect("settings")
            .approvers
            .is_empty()
    );
}

async fn approvals_decide_are_recorded_and_never_claimed(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let bob = user("bob");
    s.create_user(&bob).await.expect("user");
    s.set_member(&ws.id, &bob.id, Role::Editor)
        .await
        .expect("bob");
    let a = account(&ws, "a", "bluesky");
    let b = account(&ws, "b", "bluesky");
    for x in [&a, &b] {
        s.create_account(x).await.expect("account");
    }
    let p = awaiting_post(&s, &ws, &bob, 100_000, &[&a, &b]).await;
    assert_eq!(
        states(&s, &ws, &p).await,
        vec![
            ("a".into(), TargetState::AwaitingApproval),
            ("b".into(), TargetState::AwaitingApproval)
        ]
    );
    // Its time came long ago: still, no publisher claims a post awaiting approval.
    let claimed = s
        .claim_due(&claim("pub", 1_000_000, 10))
        .await
        .expect("claim");
    assert!(claimed.claimed.is_empty(), "{claimed:?}");
    let listed = s
        .posts_awaiting_approval(&ws.id, None, 10)
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        vec![p.id.as_str()]
    );
    // A new time keeps it awaiting.
    let moved = Post {
        scheduled_ms: Some(120_000),
        updated_ms: 6_500,
        ..p.clone()
    };
    s.update_post(
        &moved,
        None,
        Some(&TargetChange::Schedule { due_ms: 120_000 }),
        true,
        &[],
    )
    .await
    .expect("move")
    .expect("post");
    let views = s.targets(&ws.id, &p.id).await.expect("targets");
    assert!(
        views
            .iter()
            .all(|v| v.target.state == TargetState::AwaitingApproval
                && v.target.due_ms == Some(120_000)),
        "{views:?}"
    );
    // Rejected: drafts again, with the comment in the history.
    let rejected = Post {
        state: PostState::Draft,
        scheduled_ms: None,
        updated_ms: 7_000,
        ..moved.clone()
    };
    let no = decision(&ws, &p, &alice, Decision::Rejected, 7_000);
    let outcome = s
        .decide_approval(&rejected, &TargetChange::Reject, &no, &[], &[])
        .await
        .expect("reject")
        .expect("post");
    assert_eq!(outcome.changed, vec!["a".to_string(), "b".to_string()]);
    assert!(
        states(&s, &ws, &p)
            .await
            .iter()
            .all(|(_, st)| *st == TargetState::Draft)
    );
    // Deciding again moves nothing and records nothing.
    let again = s
        .decide_approval(
            &rejected,
            &TargetChange::Reject,
            &decision(&ws, &p, &alice, Decision::Rejected, 7_500),
            &[],
            &[],
        )
        .await
        .expect("again")
        .expect("post");
    assert!(again.changed.is_empty());
    assert_eq!(again.skipped.len(), 2);
    // Sent again, then approved in time: scheduled at its own time.
    let resent = awaiting_again(&s, &rejected, 200_000).await;
    let yes = decision(&ws, &p, &alice, Decision::Approved, 8_000);
    s.decide_approval(
        &resent,
        &TargetChange::Approve {
            late_before_ms: 150_000,
        },
        &yes,
        &[],
        &[],
    )
    .await
    .expect("approve")
    .expect("post");
    let views = s.targets(&ws.id, &p.id).await.expect("targets");
    assert!(
        views
            .iter()
            .all(|v| v.target.state == TargetState::Scheduled && v.target.due_ms == Some(200_000)),
        "{views:?}"
    );
    // Its content changed: it needs approval again.
    let edited = Post {
        body: "changed".into(),
        updated_ms: 9_000,
        ..resent.clone()
    };
    s.update_post(&edited, None, Some(&TargetChange::Reapprove), false, &[])
        .await
        .expect("edit")
        .expect("post");
    assert!(
        states(&s, &ws, &p)
            .await
            .iter()
            .all(|(_, st)| *st == TargetState::AwaitingApproval)
    );
    // Approved after more than the late limit past its time: missed.
    let late = decision(&ws, &p, &bob, Decision::Approved, 9_500);
    s.decide_approval(
        &edited,
        &TargetChange::Approve {
            late_before_ms: 300_000,
        },
        &late,
        &[],
        &[],
    )
    .await
    .expect("late approve")
    .expect("post");
    let views = s.targets(&ws.id, &p.id).await.expect("targets");
    assert!(
        views
            .iter()
            .all(|v| v.target.state == TargetState::Missed && v.target.last_error.is_some()),
        "{views:?}"
    );
    // The history: who, when, what, the comment, oldest first.
    let history = s.approval_history(&ws.id, &p.id).await.expect("history");
    assert_eq!(
        history
            .iter()
            .map(|d| (
                d.decision,
                d.user_name.as_deref(),
                d.comment.as_deref(),
                d.created_ms
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                Decision::Rejected,
                Some("alice"),
                Some("fix the link"),
                7_000
            ),
            (Decision::Approved, Some("alice"), None, 8_000),
            (Decision::Approved, Some("bob"), None, 9_500),
        ]
    );
    let other = workspace("other");
    s.create_workspace(&other, &bob.id).await.expect("other");
    assert!(
        s.approval_history(&other.id, &p.id)
            .await
            .expect("other")
            .is_empty()
    );
    assert!(
        s.posts_awaiting_approval(&ws.id, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
}

async fn awaiting_again(s: &Arc<dyn Storage>, draft: &Post, due_ms: i64) -> Post {
    let p = Post {
        state: PostState::Scheduled,
        scheduled_ms: Some(due_ms),
        updated_ms: draft.updated_ms + 1,
        ..draft.clone()
    };
    s.update_post(
        &p,
        None,
        Some(&TargetChange::AwaitApproval { due_ms }),
        true,
        &[],
    )
    .await
    .expect("await again")
    .expect("post");
    p
}

async fn unapproved_posts_are_missed_once_when_their_time_comes(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let bob = user("bob");
    let carol = user("carol");
    for u in [&bob, &carol] {
        s.create_user(u).await.expect("user");
    }
    s.set_member(&ws.id, &bob.id, Role::Editor)
        .await
        .expect("bob");
    s.set_member(&ws.id, &carol.id, Role::Editor)
        .await
        .expect("carol");
    s.set_approval_settings(&ws.id, true, std::slice::from_ref(&carol.id), 5_000)
        .await
        .expect("settings");
    let hook = webhook(&ws, &alice, &["post.missed"]);
    s.create_webhook(&hook).await.expect("webhook");
    let a = account(&ws, "a", "bluesky");
    let b = account(&ws, "b", "bluesky");
    for x in [&a, &b] {
        s.create_account(x).await.expect("account");
    }
    let soon = awaiting_post(&s, &ws, &bob, 100_000, &[&a, &b]).await;
    let later = awaiting_post(&s, &ws, &bob, 900_000, &[&a]).await;
    assert!(
        s.miss_unapproved(99_999, missed_event)
            .await
            .expect("sweep")
            .is_empty()
    );
    let missed = s
        .miss_unapproved(100_000, missed_event)
        .await
        .expect("sweep");
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(missed[0].post.id, soon.id);
    assert_eq!(missed[0].author_name, "bob");
    assert_eq!(missed[0].accounts, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(
        missed[0].approvers,
        vec!["alice".to_string(), "carol".to_string()]
    );
    let views = s.targets(&ws.id, &soon.id).await.expect("targets");
    assert!(
        views.iter().all(|v| v.target.state == TargetState::Missed
            && v.target.last_error.as_deref() == Some(storage_not_approved())),
        "{views:?}"
    );
    assert_eq!(
        states(&s, &ws, &later).await,
        vec![("a".into(), TargetState::AwaitingApproval)]
    );
    let history = s.approval_history(&ws.id, &soon.id).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].decision, history[0].user_id.as_deref()),
        (Decision::Missed, None)
    );
    let deliveries = s
        .deliveries(&ws.id, &hook.id, None, 10)
        .await
        .expect("deliveries");
    assert_eq!(deliveries.len(), 1, "one post.missed");
    assert!(deliveries[0].payload.contains(&soon.id));
    // Once: a second sweep finds nothing more.
    assert!(
        s.miss_unapproved(200_000, missed_event)
            .await
            .expect("sweep")
            .is_empty()
    );
    // Two sweepers on two connections at once: each post missed once.
    let mut due = Vec::new();
    for i in 0..30 {
        due.push(awaiting_post(&s, &ws, &bob, 300_000 + i, &[&a]).await.id);
    }
    let other = open(&target).await.expect("a second storage");
    let sweeper = |storage: Arc<dyn Storage>| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            for _ in 0..5 {
                for u in storage
                    .miss_unapproved(400_000, missed_event)
                    .await
                    .expect("sweep")
                {
                    mine.push(u.post.id);
                }
                tokio::task::yield_now().await;
            }
            mine
        })
    };
    let (one, two) = tokio::join!(sweeper(s.clone()), sweeper(other));
    let mut all: Vec<String> = one
        .expect("one")
        .into_iter()
        .chain(two.expect("two"))
        .collect();
    all.sort();
    due.sort();
    assert_eq!(all, due, "every post missed exactly once");
    assert_eq!(
        s.deliveries(&ws.id, &hook.id, None, 100)
            .await
            .expect("deliveries")
            .len(),
        31
    );
}

/// An account whose check passes again is no longer held: its waiting target is claimed,
/// and the change wakes sleeping publishers (`data_version`).
async fn a_held_account_is_freed_when_it_signs_in_again(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    let post = due_post(&s, &ws, &alice, 50_000, &[&a]).await;
    assert!(!s.signed_in_again(&a.id, 55_000).await.expect("not held"));
    assert!(
        s.mark_needs_sign_in(&a.id, "refused", &[])
            .await
            .expect("mark")
    );
    assert!(
        s.claim_due(&claim("p", 60_000, 10))
            .await
            .expect("claim")
            .claimed
            .is_empty(),
        "a held account's target is not claimed"
    );
    let version = s.data_version().await.expect("version");
    assert!(s.signed_in_again(&a.id, 9_000_000).await.expect("freed"));
    assert!(!s.signed_in_again(&a.id, 9_000_001).await.expect("once"));
    assert!(s.accounts_needing_sign_in().await.expect("held").is_empty());
    assert_ne!(s.data_version().await.expect("version"), version);
    let got = s.claim_due(&claim("p", 60_000, 10)).await.expect("claim");
    assert_eq!(got.claimed.len(), 1);
    assert_eq!(got.claimed[0].post.id, post.id);
}

fn storage_not_approved() -> &'static str {
    "its time passed before it was approved: not published"
}

/// What the publish engine keeps beside its claims (migration 7): stages, the wake-up
/// version, missed targets, held and signed-out accounts (with the event recorded once),
/// the refresh lock, server limits, credentials, published targets, finish events, circuits
/// and the queue's counts.
async fn the_publishers_bookkeeping_is_shared(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    let b = account(&ws, "b", "mastodon");
    s.create_account(&a).await.expect("account");
    s.create_account(&b).await.expect("account");
    let hook = webhook(&ws, &alice, &["post.published", "account.needs_reauth"]);
    s.create_webhook(&hook).await.expect("webhook");
    let version = s.data_version().await.expect("version");
    let late = due_post(&s, &ws, &alice, 1_000, &[&a]).await;
    let now = due_post(&s, &ws, &alice, 50_000, &[&a]).await;
    let held = due_post(&s, &ws, &alice, 50_000, &[&b]).await;
    assert_ne!(
        s.data_version().await.expect("version"),
        version,
        "new targets move it"
    );
    // b needs signing in again: its target is held, and the event is recorded once.
    let reauth = event(&ws, "account.needs_reauth", 40_000);
    assert!(
        s.mark_needs_sign_in(&b.id, "refused", std::slice::from_ref(&reauth))
            .await
            .expect("mark")
    );
    assert!(
        !s.mark_needs_sign_in(&b.id, "again", std::slice::from_ref(&reauth))
            .await
            .expect("mark")
    );
    assert_eq!(
        s.accounts_needing_sign_in().await.expect("held"),
        vec![(b.id.clone(), "refused".to_string())]
    );
    let mut request = claim("p", 60_000, 10);
    request.missed_before_ms = Some(10_000);
    let got = s.claim_due(&request).await.expect("claim");
    assert_eq!(got.missed.len(), 1, "{:?}", got.missed);
    assert_eq!(got.missed[0].post_id, late.id);
    assert_eq!(got.claimed.len(), 1, "the held account's target stays");
    assert_eq!(got.claimed[0].post.id, now.id);
    assert_eq!(got.claimed[0].first_attempt_ms, Some(60_000));
    assert_eq!(
        states(&s, &ws, &held).await,
        vec![("b".into(), TargetState::Scheduled)]
    );
    let id = got.claimed[0].target.id.clone();
    // A stage is noted only for the holder of a part in flight.
    assert!(
        !s.note_stage(&id, "p", r#"{"container":"1"}"#)
            .await
            .expect("stage")
    );
    assert!(
        s.begin_part(&id, "p", 0, 1, 120_000, 60_000)
            .await
            .expect("begin")
    );
    assert!(
        !s.note_stage(&id, "other", r#"{"container":"1"}"#)
            .await
            .expect("stage")
    );
    assert!(
        s.note_stage(&id, "p", r#"{"container":"1"}"#)
            .await
            .expect("stage")
    );
    assert!(
        s.record_part(
            &id,
            "p",
            &serde_json::json!({"id": "9", "url": "https://social.example.test/@a/9"}),
            &publish_attempt(&id, 0, 60_000, "published")
        )
        .await
        .expect("record")
    );
    let published = event(&ws, "post.published", 61_000);
    assert!(
        s.finish_target(
            &id,
            "p",
            &Finish::Published,
            None,
            61_000,
            std::slice::from_ref(&published)
        )
        .await
        .expect("finish")
    );
    let mut kinds: Vec<String> = s
        .deliveries(&ws.id, &hook.id, None, 10)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| d.event_type)
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["account.needs_reauth", "post.published"]);
    let shown = s.published_targets(&now.id).await.expect("published");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].1.id, a.id);
    assert!(
        shown[0].2.contains("https://social.example.test/@a/9"),
        "{}",
        shown[0].2
    );
    s.mark_unpublished(&id, 70_000).await.expect("unpublish");
    assert!(
        s.published_targets(&now.id)
            .await
            .expect("published")
            .is_empty()
    );
    let mut counts = s.target_counts().await.expect("counts");
    counts.sort_by_key(|(state, _)| state.as_str());
    assert_eq!(
        counts,
        vec![
            (TargetState::Cancelled, 1),
            (TargetState::Missed, 1),
            (TargetState::Scheduled, 1)
        ]
    );
    // The refresh lock: one holder until it runs out or is given back.
    assert!(
        s.take_sign_in_lock(&a.id, "x", 1_000, 2_000)
            .await
            .expect("lock")
    );
    assert!(
        !s.take_sign_in_lock(&a.id, "y", 1_500, 3_000)
            .await
            .expect("lock")
    );
    s.release_sign_in_lock(&a.id, "y").await.expect("release");
    assert!(
        !s.take_sign_in_lock(&a.id, "y", 1_600, 3_000)
            .await
            .expect("lock")
    );
    assert!(
        s.take_sign_in_lock(&a.id, "y", 2_000, 3_000)
            .await
            .expect("lock")
    );
    // Limits and credentials.
    assert_eq!(s.server_limits(&a.id).await.expect("limits"), None);
    s.save_server_limits(&a.id, r#"{"max_characters":500}"#, 9_000)
        .await
        .expect("save");
    assert_eq!(
        s.server_limits(&a.id).await.expect("limits"),
        Some((r#"{"max_characters":500}"#.to_string(), 9_000))
    );
    assert!(
        s.replace_credentials(&a.id, "v1.new")
            .await
            .expect("replace")
    );
    assert_eq!(
        s.account_by_id(&a.id)
            .await
            .expect("account")
            .map(|x| x.credentials),
        Some("v1.new".to_string())
    );
    assert!(
        !s.replace_credentials("no-such-account", "v1.x")
            .await
            .expect("replace")
    );
    // Rate-limit waits with targets behind them.
    s.hold_account(&a.id, 200_000, "429").await.expect("hold");
    assert!(
        s.held_accounts(100_000).await.expect("held").is_empty(),
        "no target waits"
    );
    // Circuits: three failures from two accounts open one; it is listed until an answer.
    let circuit = storage::Circuit {
        network: postctl_core::network::Network::Mastodon,
        base_url: "https://social.example.test".into(),
    };
    let rule = storage::CircuitRule::default();
    for (i, acc) in [&a, &b, &a].into_iter().enumerate() {
        let outage = storage::Outage {
            at: chrono::DateTime::from_timestamp_millis(100_000 + i as i64).expect("time"),
            account_id: acc.id.clone(),
        };
        s.note_outage(&circuit, outage, "503", &rule)
            .await
            .expect("outage");
    }
    assert_eq!(s.open_circuits().await.expect("open").len(), 1);
    assert!(
        s.circuit(&circuit)
            .await
            .expect("circuit")
            .is_some_and(|c| c.is_open())
    );
    assert!(
        s.note_answer(&circuit, 200_000)
            .await
            .expect("answer")
            .is_some()
    );
    assert!(
        s.note_answer(&circuit, 200_001)
            .await
            .expect("answer")
            .is_none()
    );
    assert!(s.open_circuits().await.expect("open").is_empty());
}

// ---------------------------------------------------------------------------------------
// Notifications

fn inbox_item(user: &User, ws: &Workspace, title: &str, at: i64) -> InboxItem {
    InboxItem {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        workspace_id: ws.id.clone(),
        event_type: "post.failed".into(),
        title: title.into(),
        body: format!("{title}\nWhy: HTTP 500"),
        created_ms: at,
        read_ms: None,
    }
}

fn channel(user: &User, kind: ChannelKind, address: &str, secret: Option<&str>) -> Channel {
    Channel {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        kind,
        address: address.into(),
        secret: secret.map(str::to_string),
        created_ms: 1_000,
    }
}

fn message_to(channel: &Channel, at: i64) -> NotificationSend {
    NotificationSend {
        id: uuid::Uuid::now_v7().to_string(),
        channel_id: channel.id.clone(),
        user_id: channel.user_id.clone(),
        event_type: "post.failed".into(),
        subject: "[alice] Failed".into(),
        text: "Failed".into(),
        html: "<p>Failed</p>".into(),
        state: SendState::Pending,
        attempts: 0,
        next_attempt_ms: at,
        last_error: None,
        created_ms: at,
    }
}

async fn events_wait_for_the_notifier_and_are_routed_once(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    // With no webhook endpoint at all, events still reach the notifier; pings do not.
    assert_eq!(
        s.emit_event(&event(&ws, "post.failed", 1_000))
            .await
            .expect("emit"),
        0
    );
    s.emit_event(&event(&ws, "ping", 1_100))
        .await
        .expect("emit");
    let p = post(&ws, &alice, "with its event");
    s.create_post_and_emit(&p, &[event(&ws, "post.scheduled", 1_200)])
        .await
        .expect("post");
    let a = s
        .claim_notification_events("a", 10_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        a.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(),
        ["post.failed", "post.scheduled"]
    );
    assert_eq!(a[0].payload, "{\"type\":\"post.failed\"}");
    assert_eq!(a[0].workspace_id, ws.id);
    // Leased: nobody else gets them until the lease passes.
    assert!(
        s.claim_notification_events("b", 10_000, 60_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let b = s
        .claim_notification_events("b", 70_001, 60_000, 1)
        .await
        .expect("claim after the lease");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, a[0].id);
    // The first claimer lost it: routing writes nothing.
    let routed = Routed {
        inbox: vec![inbox_item(&alice, &ws, "Failed", 70_002)],
        sends: Vec::new(),
    };
    assert!(
        !s.route_notification_event(&a[0].id, "a", &routed, 70_002)
            .await
            .expect("route")
    );
    assert!(
        s.route_notification_event(&b[0].id, "b", &routed, 70_002)
            .await
            .expect("route")
    );
    assert!(
        !s.route_notification_event(&b[0].id, "b", &routed, 70_003)
            .await
            .expect("route twice"),
        "routed once"
    );
    let page = s
        .inbox(&InboxQuery {
            user_id: alice.id.clone(),
            workspace_id: ws.id.clone(),
            unread_only: false,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("inbox");
    assert_eq!(page, routed.inbox);
    // Routed events are not claimed again; the other one is, once "a"'s lease passed.
    let rest = s
        .claim_notification_events("c", 200_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event_type, "post.scheduled");
    // The digest's material: a workspace's events in a window, routed or not.
    let between = s
        .notification_events_between(&ws.id, 1_000, 1_200)
        .await
        .expect("between");
    assert_eq!(
        between
            .iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
        ["post.failed"]
    );
    let other = workspace("other");
    s.create_workspace(&other, &alice.id)
        .await
        .expect("workspace");
    assert!(
        s.notification_events_between(&other.id, 0, i64::MAX)
            .await
            .expect("between")
            .is_empty()
    );
}

async fn inboxes_page_per_user_and_are_marked_read(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let bob = user("bob");
    s.create_user(&bob).await.expect("user");
    s.set_member(&ws.id, &bob.id, Role::Editor)
        .await
        .expect("member");
    let other = workspace("other");
    s.create_workspace(&other, &alice.id)
        .await
        .expect("workspace");
    let items: Vec<InboxItem> = (0..5)
        .map(|i| inbox_item(&alice, &ws, &format!("n{i}"), 1_000 + i))
        .collect();
    let routed = Routed {
        inbox: items
            .iter()
            .cloned()
            .chain([
                inbox_item(&bob, &ws, "bob's", 2_000),
                inbox_item(&alice, &other, "elsewhere", 2_000),
            ])
            .collect(),
        sends: Vec::new(),
    };
    s.emit_event(&event(&ws, "post.failed", 1))
        .await
        .expect("emit");
    let e = s
        .claim_notification_events("a", 10, 1_000, 1)
        .await
        .expect("claim");
    assert!(
        s.route_notification_event(&e[0].id, "a", &routed, 20)
            .await
            .expect("route")
    );
    let query = |unread_only: bool, before_id: Option<String>, limit: u32| InboxQuery {
        user_id: alice.id.clone(),
        workspace_id: ws.id.clone(),
        unread_only,
        before_id,
        limit,
    };
    let first = s.inbox(&query(false, None, 3)).await.expect("page");
    assert_eq!(
        first.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(),
        ["n4", "n3", "n2"]
    );
    let second = s
        .inbox(&query(false, Some(first[2].id.clone()), 3))
        .await
        .expect("page");
    assert_eq!(
        second.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(),
        ["n1", "n0"]
    );
    assert_eq!(
        s.mark_inbox_read(&alice.id, &ws.id, Some(&items[1].id), 5_000)
            .await
            .expect("read"),
        1
    );
    // Read before: it keeps its time.
    assert_eq!(
        s.mark_inbox_read(&alice.id, &ws.id, Some(&items[1].id), 6_000)
            .await
            .expect("read"),
        0
    );
    // Another user's item is not theirs to mark.
    assert_eq!(
        s.mark_inbox_read(&bob.id, &ws.id, Some(&items[2].id), 6_000)
            .await
            .expect("read"),
        0
    );
    assert!(
        s.inbox_item_exists(&alice.id, &ws.id, &items[1].id)
            .await
            .expect("exists")
    );
    assert!(
        !s.inbox_item_exists(&bob.id, &ws.id, &items[1].id)
            .await
            .expect("exists")
    );
    let unread = s.inbox(&query(true, None, 10)).await.expect("unread");
    assert_eq!(unread.len(), 4);
    assert!(unread.iter().all(|i| i.id != items[1].id));
    let all = s.inbox(&query(false, None, 10)).await.expect("all");
    let read = all.iter().find(|i| i.id == items[1].id).expect("item");
    assert_eq!(read.read_ms, Some(5_000));
    assert_eq!(
        s.mark_inbox_read(&alice.id, &ws.id, None, 7_000)
            .await
            .expect("read all"),
        4
    );
    assert!(
        s.inbox(&query(true, None, 10))
            .await
            .expect("unread")
            .is_empty()
    );
    // The cleanup takes read items, routed events and finished messages only.
    let purge = Purge {
        sessions_ended_before_ms: 0,
        idempotency_before_ms: 0,
        login_failures_before_ms: 0,
        rate_limits_full_before_ms: 0,
        deliveries_finished_before_ms: 0,
        attempts_ended_before_ms: 0,
        notifications_before_ms: 6_000,
    };
    s.emit_event(&event(&ws, "post.missed", 2))
        .await
        .expect("emit");
    let purged = s.purge(&purge).await.expect("purge");
    assert_eq!(
        (
            purged.inbox_items,
            purged.notification_events,
            purged.notification_sends
        ),
        (1, 1, 0),
        "the item read at 5 000 and the routed event, not the unrouted one"
    );
    assert_eq!(
        s.inbox(&query(false, None, 10)).await.expect("all").len(),
        4
    );
    assert_eq!(
        s.claim_notification_events("z", 100, 1_000, 10)
            .await
            .expect("claim")
            .len(),
        1
    );
    // Bob's and the other workspace's stay unread.
    let bobs = s
        .inbox(&InboxQuery {
            user_id: bob.id.clone(),
            workspace_id: ws.id.clone(),
            unread_only: true,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("bob");
    assert_eq!(bobs.len(), 1);
    let elsewhere = s
        .inbox(&InboxQuery {
            user_id: alice.id.clone(),
            workspace_id: other.id.clone(),
            unread_only: true,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("other");
    assert_eq!(elsewhere.len(), 1);
}

async fn channels_settings_and_messages(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let bob = user("bob");
    s.create_user(&bob).await.expect("user");
    let mail = channel(&alice, ChannelKind::Email, "alice@example.org", None);
    let push = channel(
        &alice,
        ChannelKind::Ntfy,
        "https://ntfy.example/t",
        Some("v1.sealed-token"),
    );
    let bobs = channel(&bob, ChannelKind::Telegram, "4242", Some("v1.sealed-bot"));
    for c in [&mail, &push, &bobs] {
        s.create_channel(c).await.expect("channel");
    }
    assert_eq!(
        s.channels(&alice.id).await.expect("channels"),
        [mail.clone(), push.clone()]
    );
    let sealed = s.sealed_values().await.expect("sealed");
    assert!(sealed.iter().any(|v| v.kind == SealedKind::ChannelSecret
        && v.owner == push.id
        && v.value == "v1.sealed-token"));
    assert!(
        !s.delete_channel(&bob.id, &mail.id)
            .await
            .expect("not bob's")
    );

    // Preferences and the digest are replaced whole.
    assert_eq!(
        s.notification_settings(&alice.id).await.expect("settings"),
        NotificationSettings::default()
    );
    let chosen = NotificationSettings {
        preferences: vec![
            ("post.failed".into(), vec!["email".into(), "inapp".into()]),
            ("post.published".into(), Vec::new()),
        ],
        digest: Some(DigestSchedule {
            user_id: alice.id.clone(),
            at_minute: 8 * 60,
            zone: "Europe/Berlin".into(),
            next_ms: 50_000,
        }),
    };
    s.save_notification_settings(&alice.id, &chosen)
        .await
        .expect("save");
    assert_eq!(
        s.notification_settings(&alice.id).await.expect("settings"),
        chosen
    );
    let fewer = NotificationSettings {
        preferences: vec![("post.missed".into(), vec!["ntfy".into()])],
        digest: None,
    };
    s.save_notification_settings(&alice.id, &fewer)
        .await
        .expect("save");
    assert_eq!(
        s.notification_settings(&alice.id).await.expect("settings"),
        fewer
    );

    // Messages: claimed once while leased, finished only by the lease's owner.
    s.emit_event(&event(&ws, "post.failed", 1))
        .await
        .expect("emit");
    let e = s
        .claim_notification_events("r", 10, 1_000, 1)
        .await
        .expect("claim");
    let to_mail = message_to(&mail, 100);
    let to_push = message_to(&push, 100);
    let later = message_to(&push, 90_000);
    let routed = Routed {
        inbox: Vec::new(),
        sends: vec![to_mail.clone(), to_push.clone(), later.clone()],
    };
    assert!(
        s.route_notification_event(&e[0].id, "r", &routed, 100)
            .await
            .expect("route")
    );
    let a = s
        .claim_notification_sends("a", 1_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(a.len(), 2, "the later one is not due");
    assert_eq!(a[0].0, to_mail);
    assert_eq!(a[0].1, mail);
    assert!(
        s.claim_notification_sends("b", 1_000, 60_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        !s.finish_notification_send(&to_mail.id, "b", &SendEnd::Sent, 2_000)
            .await
            .expect("not b's")
    );
    assert!(
        s.finish_notification_send(&to_mail.id, "a", &SendEnd::Sent, 2_000)
            .await
            .expect("sent")
    );
    assert!(
        s.finish_notification_send(
            &to_push.id,
            "a",
            &SendEnd::RetryAt(30_000, "ntfy answered HTTP 502".into()),
            2_000
        )
        .await
        .expect("retry")
    );
    let sent = s
        .notification_send(&to_mail.id)
        .await
        .expect("get")
        .expect("send");
    assert_eq!((sent.state, sent.attempts), (SendState::Sent, 1));
    let retried = s
        .notification_send(&to_push.id)
        .await
        .expect("get")
        .expect("send");
    assert_eq!(
        (
            retried.state,
            retried.attempts,
            retried.next_attempt_ms,
            retried.last_error.as_deref()
        ),
        (
            SendState::Pending,
            1,
            30_000,
            Some("ntfy answered HTTP 502")
        )
    );
    assert!(
        s.claim_notification_sends("b", 29_999, 60_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "not before its retry time"
    );
    let again = s
        .claim_notification_sends("b", 30_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert!(
        s.finish_notification_send(&to_push.id, "b", &SendEnd::GaveUp("410".into()), 31_000)
            .await
            .expect("gave up")
    );
    let failed = s
        .notification_send(&to_push.id)
        .await
        .expect("get")
        .expect("send");
    assert_eq!((failed.state, failed.attempts), (SendState::Failed, 2));
    assert_eq!(
        s.notification_sends(&alice.id, 10)
            .await
            .expect("sends")
            .len(),
        3
    );
    // A deleted channel takes its pending messages with it.
    assert!(s.delete_channel(&alice.id, &push.id).await.expect("delete"));
    assert!(
        s.claim_notification_sends("c", 100_000, 60_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(s.notification_send(&later.id).await.expect("get"), None);
    assert_eq!(s.channels(&alice.id).await.expect("channels"), [mail]);
    // A deleted user's channels (personal data) go with them.
    assert!(s.delete_user(&alice.id, 200_000).await.expect("delete"));
    assert!(s.channels(&alice.id).await.expect("channels").is_empty());
    assert_eq!(
        s.notification_settings(&alice.id).await.expect("settings"),
        NotificationSettings::default()
    );
    assert_eq!(s.channels(&bob.id).await.expect("channels"), [bobs]);
}

async fn digests_are_claimed_when_due_and_moved_once(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let schedule = DigestSchedule {
        user_id: alice.id.clone(),
        at_minute: 7 * 60,
        zone: "UTC".into(),
        next_ms: 100_000,
    };
    s.save_notification_settings(
        &alice.id,
        &NotificationSettings {
            preferences: Vec::new(),
            digest: Some(schedule.clone()),
        },
    )
    .await
    .expect("save");
    assert!(
        s.claim_digests("a", 99_999, 60_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );
    assert_eq!(
        s.claim_digests("a", 100_000, 60_000, 10)
            .await
            .expect("claim"),
        std::slice::from_ref(&schedule)
    );
    assert!(
        s.claim_digests("b", 100_001, 60_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "leased"
    );
    let routed = Routed {
        inbox: vec![inbox_item(&alice, &ws, "digest", 100_000)],
        sends: Vec::new(),
    };
    assert!(
        !s.finish_digest(&alice.id, "b", 100_000, 200_000, &routed)
            .await
            .expect("not b's")
    );
    assert!(
        s.finish_digest(&alice.id, "a", 100_000, 200_000, &routed)
            .await
            .expect("finish")
    );
    assert!(
        !s.finish_digest(&alice.id, "a", 100_000, 300_000, &routed)
            .await
            .expect("twice"),
        "moved once"
    );
    let now = s.notification_settings(&alice.id).await.expect("settings");
    assert_eq!(now.digest.map(|d| d.next_ms), Some(200_000));
    assert!(
        s.claim_digests("b", 199_999, 60_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let inbox = s
        .inbox(&InboxQuery {
            user_id: alice.id.clone(),
            workspace_id: ws.id.clone(),
            unread_only: true,
            before_id: None,
            limit: 10,
        })
        .await
        .expect("inbox");
    assert_eq!(inbox, routed.inbox);
}

/// `key_and_role`, `session_and_role` and `post_with_targets` (one read each, for the
/// hottest routes) answer what the reads they replace answer apart.
async fn reads_made_together_match_the_reads_apart(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let k = key(&alice, &ws, "kk11");
    s.create_key(&k).await.expect("key");
    assert_eq!(
        s.key_and_role("kk11").await.expect("read"),
        Some((k.clone(), Some(Role::Owner)))
    );
    assert_eq!(s.key_and_role("kk12").await.expect("read"), None);
    let bob = user("bob");
    s.create_user(&bob).await.expect("bob");
    s.set_member(&ws.id, &bob.id, Role::Viewer)
        .await
        .expect("member");
    let kb = key(&bob, &ws, "kb22");
    s.create_key(&kb).await.expect("key");
    let sb = session(&bob, &ws, "sb22");
    s.create_session(&sb).await.expect("session");
    assert_eq!(
        s.key_and_role("kb22").await.expect("read"),
        Some((kb.clone(), Some(Role::Viewer)))
    );
    assert_eq!(
        s.session_and_role("sb22").await.expect("read"),
        Some((sb.clone(), Some(Role::Viewer)))
    );
    assert_eq!(s.session_and_role("sb23").await.expect("read"), None);
    // A member of another workspace only: the key is found, without a role here.
    let carol = user("carol");
    s.create_user(&carol).await.expect("carol");
    let theirs = workspace("carol");
    s.create_workspace(&theirs, &carol.id).await.expect("ws");
    let stray = key(&carol, &ws, "cc33");
    s.create_key(&stray).await.expect("key");
    assert_eq!(
        s.key_and_role("cc33").await.expect("read"),
        Some((stray, None))
    );
    assert_eq!(
        s.session_and_role("sb22")
            .await
            .expect("read")
            .map(|(_, r)| r),
        Some(s.member_role(&ws.id, &bob.id).await.expect("role"))
    );

    let a = account(&ws, "a", "mastodon");
    let b = account(&ws, "b", "bluesky");
    for x in [&b, &a] {
        s.create_account(x).await.expect("account");
    }
    let with = post(&ws, &alice, "two targets");
    let targets: Vec<_> = [&b, &a]
        .iter()
        .map(|x| storage::Target::new(&with, &x.id, 5_000))
        .collect();
    s.create_post_with_targets(&with, &targets, &[])
        .await
        .expect("create");
    let without = post(&ws, &alice, "no targets");
    s.create_post_stamped(
        &without,
        &[],
        &[],
        &[api_media(r#"[{"sha256":"ab"}]"#, 6_000, &alice)],
    )
    .await
    .expect("create");
    for p in [&with, &without] {
        let apart = (
            s.post(&ws.id, &p.id).await.expect("post").expect("there"),
            s.targets(&ws.id, &p.id).await.expect("targets"),
            s.post_fields(&ws.id, &p.id).await.expect("fields"),
        );
        let together = s
            .post_with_targets(&ws.id, &p.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(together.post, apart.0);
        assert_eq!(together.targets, apart.1, "the targets, by account name");
        let media = apart.2.into_iter().find(|f| f.field == "media");
        assert_eq!(together.media, media.map(|f| f.value), "the media field");
    }
    assert!(
        s.post_with_targets(&ws.id, &without.id)
            .await
            .expect("read")
            .and_then(|read| read.media)
            .is_some_and(|m| m.contains("ab")),
        "a post with media reads it"
    );
    let names: Vec<_> = s
        .post_with_targets(&ws.id, &with.id)
        .await
        .expect("read")
        .expect("there")
        .targets
        .into_iter()
        .map(|t| t.account_name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        s.post_with_targets(&theirs.id, &with.id)
            .await
            .expect("read"),
        None,
        "another workspace's post"
    );
    assert!(
        s.delete_post(&ws.id, &with.id, 9_000)
            .await
            .expect("delete")
    );
    assert_eq!(
        s.post_with_targets(&ws.id, &with.id).await.expect("read"),
        None,
        "a deleted post"
    );
}

/// Publishes every due target of `post` at `at_ms` as the one part `id-<n>`.
async fn publish_all(s: &Arc<dyn Storage>, at_ms: i64) -> Vec<String> {
    let got = s
        .claim_due(&claim("pub", at_ms, 1_000))
        .await
        .expect("claim");
    let mut ids = Vec::new();
    for (n, c) in got.claimed.iter().enumerate() {
        let id = c.target.id.clone();
        assert!(
            s.begin_part(&id, "pub", 0, 1, at_ms + 60_000, at_ms)
                .await
                .expect("begin")
        );
        assert!(
            s.record_part(
                &id,
                "pub",
                &serde_json::json!({"id": format!("id-{n}"), "url": null}),
                &publish_attempt(&id, 0, at_ms, "published")
            )
            .await
            .expect("record")
        );
        assert!(
            s.finish_target(&id, "pub", &Finish::Published, None, at_ms, &[])
                .await
                .expect("finish")
        );
        ids.push(id);
    }
    ids
}

fn reading(claim: &MetricClaim, at_ms: i64, likes: u64, next_ms: Option<i64>) -> MetricDone {
    MetricDone {
        target_id: claim.target_id.clone(),
        reading: Some((at_ms, format!(r#"{{"likes":{likes}}}"#))),
        next_ms,
    }
}

async fn metrics_are_claimed_once_recorded_and_read_per_post(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    s.create_account(&a).await.expect("account");
    let post = due_post(&s, &ws, &alice, 10_000, &[&a]).await;
    // Not published yet: nothing to read.
    assert!(
        s.claim_metrics("m1", 11_000, 71_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let published = publish_all(&s, 20_000).await;
    assert_eq!(published.len(), 1);
    let got = s
        .claim_metrics("m1", 100_000, 160_000, 10)
        .await
        .expect("claim");
    assert_eq!(got.len(), 1);
    let first = &got[0];
    assert_eq!(
        (
            first.target_id.as_str(),
            first.account_id.as_str(),
            first.post_id.as_str()
        ),
        (published[0].as_str(), a.id.as_str(), post.id.as_str())
    );
    assert_eq!(first.last_read_ms, None);
    assert!(first.parts.contains("id-0"), "{}", first.parts);
    // Held: nobody else claims it or finishes it.
    assert!(
        s.claim_metrics("m2", 100_001, 160_001, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        !s.finish_metrics("m2", &reading(first, 100_000, 9, None))
            .await
            .expect("finish")
    );
    assert!(
        s.finish_metrics("m1", &reading(first, 100_000, 3, Some(3_700_000)))
            .await
            .expect("finish")
    );
    // Freed, but not due again before its next time, whoever asks.
    assert!(
        s.claim_metrics("m2", 200_000, 260_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let again = s
        .claim_metrics("m2", 3_700_000, 3_760_000, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].last_read_ms, Some(100_000));
    assert_eq!(
        again[0].published_ms, first.published_ms,
        "published time is kept"
    );
    // A lease that runs out frees the target for another collector; the first one's
    // late answer is not kept.
    assert!(
        s.claim_metrics("m3", 3_760_000, 3_820_000, 10)
            .await
            .expect("claim")
            .len()
            == 1
    );
    assert!(
        !s.finish_metrics("m2", &reading(&again[0], 3_700_000, 99, None))
            .await
            .expect("finish")
    );
    assert!(
        s.finish_metrics("m3", &reading(&again[0], 3_760_000, 5, None))
            .await
            .expect("finish")
    );
    // Never again after a `None` next time.
    assert!(
        s.claim_metrics("m1", i64::MAX / 2, i64::MAX / 2, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let readings = s.post_readings(&ws.id, &post.id).await.expect("readings");
    let seen: Vec<(i64, &str)> = readings
        .iter()
        .map(|r| (r.read_ms, r.counters.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![(100_000, r#"{"likes":3}"#), (3_760_000, r#"{"likes":5}"#)]
    );
    assert!(readings.iter().all(|r| r.target_id == published[0]));
    // Another workspace does not see them.
    let mallory = user("mallory");
    let other = workspace("mallory");
    s.create_user(&mallory).await.expect("user");
    s.create_workspace(&other, &mallory.id).await.expect("ws");
    assert!(
        s.post_readings(&other.id, &post.id)
            .await
            .expect("readings")
            .is_empty()
    );
    // An account needing sign-in is left alone.
    let b = account(&ws, "b", "mastodon");
    s.create_account(&b).await.expect("account");
    due_post(&s, &ws, &alice, 30_000, &[&b]).await;
    publish_all(&s, 40_000).await;
    s.mark_needs_sign_in(&b.id, "token revoked", &[])
        .await
        .expect("mark");
    assert!(
        s.claim_metrics("m1", 50_000_000, 50_060_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn two_collectors_never_claim_one_target_twice(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let mut accounts = Vec::new();
    for i in 0..4 {
        let a = account(&ws, &format!("a{i}"), "mastodon");
        s.create_account(&a).await.expect("account");
        accounts.push(a);
    }
    for i in 0..30 {
        let refs: Vec<&Account> = accounts.iter().collect();
        due_post(&s, &ws, &alice, 10_000 + i, &refs).await;
    }
    let mut published = publish_all(&s, 20_000).await;
    assert_eq!(published.len(), 120);
    let other = open(&target).await.expect("a second storage");
    let collector = |storage: Arc<dyn Storage>, owner: &'static str| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = storage
                    .claim_metrics(owner, 500_000, 560_000, 7)
                    .await
                    .expect("claim");
                if got.is_empty() {
                    break mine;
                }
                mine.extend(got.into_iter().map(|c| c.target_id));
                tokio::task::yield_now().await;
            }
        })
    };
    let (one, two) = tokio::join!(collector(s.clone(), "one"), collector(other, "two"));
    let mut all: Vec<String> = one
        .expect("one")
        .into_iter()
        .chain(two.expect("two"))
        .collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a target was claimed twice");
    published.sort();
    assert_eq!(all, published, "every published target was claimed");
}

fn figures(
    account_id: &str,
    at_ms: i64,
    followers: u64,
    next_ms: Option<i64>,
) -> AccountMetricDone {
    AccountMetricDone {
        account_id: account_id.to_string(),
        reading: Some((at_ms, format!(r#"{{"followers":{followers}}}"#))),
        next_ms,
    }
}

async fn account_figures_are_claimed_once_and_kept_per_account(target: Target) {
    let (s, _alice, ws) = with_owner(&target).await;
    let a = account(&ws, "a", "mastodon");
    let b = account(&ws, "b", "mastodon");
    s.create_account(&a).await.expect("account");
    s.create_account(&b).await.expect("account");
    let got = s
        .claim_account_metrics("m1", 10_000, 70_000, 1)
        .await
        .expect("claim");
    assert_eq!(got.len(), 1, "at most the limit");
    let first = got[0].account_id.clone();
    assert_eq!(got[0].last_read_ms, None);
    // The other one is still there for another collector; the first is held.
    let other = s
        .claim_account_metrics("m2", 10_001, 70_001, 10)
        .await
        .expect("claim");
    assert_eq!(other.len(), 1);
    assert_ne!(other[0].account_id, first);
    assert!(
        !s.finish_account_metrics("m2", &figures(&first, 10_000, 9, None))
            .await
            .expect("finish"),
        "finished by one that does not hold it"
    );
    assert!(
        s.finish_account_metrics("m1", &figures(&first, 10_000, 40, Some(86_410_000)))
            .await
            .expect("finish")
    );
    // Nothing read: no reading, and never again (`None`).
    let none = AccountMetricDone {
        account_id: other[0].account_id.clone(),
        reading: None,
        next_ms: None,
    };
    assert!(s.finish_account_metrics("m2", &none).await.expect("finish"));
    assert!(
        s.claim_account_metrics("m1", 20_000_000, 20_060_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "due again before its time"
    );
    let again = s
        .claim_account_metrics("m1", 86_410_000, 86_470_000, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1, "the never-again one came back");
    assert_eq!(
        (again[0].account_id.as_str(), again[0].last_read_ms),
        (first.as_str(), Some(10_000))
    );
    assert!(
        s.finish_account_metrics("m1", &figures(&first, 86_410_000, 42, Some(172_810_000)))
            .await
            .expect("finish")
    );
    let seen: Vec<(i64, String)> = s
        .account_readings(&ws.id, &first)
        .await
        .expect("readings")
        .into_iter()
        .map(|r| (r.read_ms, r.counters))
        .collect();
    assert_eq!(
        seen,
        vec![
            (10_000, r#"{"followers":40}"#.to_string()),
            (86_410_000, r#"{"followers":42}"#.to_string())
        ]
    );
    // Another workspace does not see them.
    let mallory = user("mallory");
    let theirs = workspace("mallory");
    s.create_user(&mallory).await.expect("user");
    s.create_workspace(&theirs, &mallory.id).await.expect("ws");
    assert!(
        s.account_readings(&theirs.id, &first)
            .await
            .expect("readings")
            .is_empty()
    );
    // A deleted account, or one needing sign-in, is left alone.
    let c = account(&ws, "c", "mastodon");
    let d = account(&ws, "d", "mastodon");
    s.create_account(&c).await.expect("account");
    s.create_account(&d).await.expect("account");
    s.mark_needs_sign_in(&c.id, "token revoked", &[])
        .await
        .expect("mark");
    s.delete_account(&ws.id, &d.id, 200_000_000)
        .await
        .expect("delete");
    assert!(
        s.claim_account_metrics("m1", 200_000_000, 200_060_000, 10)
            .await
            .expect("claim")
            .iter()
            .all(|claim| claim.account_id == first),
        "a deleted account or one needing sign-in was claimed"
    );
}

/// `queue`: an account's slots, the times its live posts hold, and queued posts (a trigger's
/// and a feed's) that take the first account's next slot none of their accounts holds,
/// decided in the transaction that stores them, so two at once get two slots.
async fn queued_posts_take_the_next_free_slot_once(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let masto = account(&ws, "masto", "mastodon");
    let bsky = account(&ws, "bsky", "bluesky");
    s.create_account(&masto).await.expect("account");
    s.create_account(&bsky).await.expect("account");
    let hour = 3_600_000;
    // Thursday 2026-11-26 12:00 UTC, 13:00 in Berlin: today's 13:00 is not after now.
    let now = 1_795_694_400_000_i64;
    let fri_9 = 1_795_766_400_000_i64; // 09:00 Berlin
    let fri_13 = fri_9 + 4 * hour;
    let mon_9 = fri_9 + 72 * hour;
    let slots = |a: &Account, rules: &str| QueueSlots {
        account_id: a.id.clone(),
        workspace_id: ws.id.clone(),
        rules: rules.into(),
        tz: "Europe/Berlin".into(),
        updated_ms: 1_000,
    };
    // Another workspace's account is not this one's.
    let stranger = QueueSlots {
        workspace_id: "another-workspace".into(),
        ..slots(&masto, "daily 09:00")
    };
    assert!(!s.set_queue_slots(&stranger).await.expect("set"));
    assert!(
        s.set_queue_slots(&slots(&masto, "daily 10:00"))
            .await
            .expect("set")
    );
    assert!(
        s.set_queue_slots(&slots(&masto, "mon-fri 09:00,13:00"))
            .await
            .expect("replace")
    );
    assert_eq!(
        s.queue_slots(&ws.id, &masto.id).await.expect("read"),
        Some(slots(&masto, "mon-fri 09:00,13:00"))
    );
    assert_eq!(s.queue_slots(&ws.id, &bsky.id).await.expect("read"), None);
    assert_eq!(s.all_queue_slots(&ws.id).await.expect("all").len(), 1);

    // bsky holds Friday 09:00 with a post made by hand.
    let held = Post {
        state: PostState::Scheduled,
        scheduled_ms: Some(fri_9),
        ..post(&ws, &alice, "held by hand")
    };
    let held_target = storage::Target::new(&held, &bsky.id, now);
    s.create_post_with_targets(&held, &[held_target], &[])
        .await
        .expect("held");
    assert_eq!(
        s.taken_slots(&ws.id, std::slice::from_ref(&bsky.id), now)
            .await
            .expect("taken"),
        vec![fri_9]
    );

    let events: PostEvents = {
        let ws = ws.clone();
        Arc::new(move |p: &Post| vec![event(&ws, "post.scheduled", p.scheduled_ms.unwrap_or(0))])
    };
    let queued = Queued {
        now_ms: now,
        events: events.clone(),
    };
    let made = |body: &str, accounts: &[&Account]| {
        let p = Post {
            state: PostState::Scheduled,
            scheduled_ms: Some(now),
            ..post(&ws, &alice, body)
        };
        let t: Vec<storage::Target> = accounts
            .iter()
            .map(|a| storage::Target::new(&p, &a.id, now))
            .collect();
        (p, t)
    };
    let due_of = |p: &Post| {
        let s = s.clone();
        let (ws, id) = (ws.id.clone(), p.id.clone());
        async move {
            let post = s.post(&ws, &id).await.expect("read").expect("stored");
            let dues: Vec<Option<i64>> = s
                .targets(&ws, &id)
                .await
                .expect("targets")
                .iter()
                .map(|t| t.target.due_ms)
                .collect();
            (post.scheduled_ms, dues)
        }
    };

    // A trigger for masto and bsky: masto's slots, but Friday 09:00 is bsky's already.
    let trigger = Trigger {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        kind: TriggerKind::Generic,
        template: "release".into(),
        accounts: vec![masto.id.clone(), bsky.id.clone()],
        secret: None,
        prereleases: false,
        queue: true,
        description: None,
        created_by: alice.id.clone(),
        created_ms: 1_000,
    };
    s.create_trigger(&trigger).await.expect("trigger");
    assert_eq!(
        s.trigger(&trigger.id).await.expect("read").map(|t| t.queue),
        Some(true)
    );
    let (p1, t1) = made("v1", &[&masto, &bsky]);
    assert_eq!(
        s.fire_trigger(
            &trigger.id,
            "k1",
            &p1,
            &t1,
            &[],
            Some(&queued),
            &stamping("trigger", &alice)
        )
        .await
        .expect("fire"),
        Fired::Made
    );
    assert_eq!(due_of(&p1).await, (Some(fri_13), vec![Some(fri_13); 2]));
    let stored = s.post(&ws.id, &p1.id).await.expect("read").expect("post");
    assert_eq!(stored.zone, "Europe/Berlin", "the queue's zone");
    // The same event again is the first post, whatever the queue says.
    let (again, t_again) = made("v1 again", &[&masto, &bsky]);
    assert_eq!(
        s.fire_trigger(
            &trigger.id,
            "k1",
            &again,
            &t_again,
            &[],
            Some(&queued),
            &stamping("trigger", &alice)
        )
        .await
        .expect("fire"),
        Fired::Already {
            post_id: p1.id.clone()
        }
    );
    assert_eq!(
        s.taken_slots(&ws.id, &[masto.id.clone(), bsky.id.clone()], now)
            .await
            .expect("taken"),
        vec![fri_9, fri_13]
    );

    // Two feed items on two handles at once, for masto alone: Friday 09:00 (bsky's hold
    // is not masto's) and Monday 09:00, one each.
    let other = open(&target).await.expect("a second handle");
    let feed = storage::Feed {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: ws.id.clone(),
        url: "https://blog.example.test/feed.xml".into(),
        template: "blog".into(),
        accounts: vec![masto.id.clone()],
        etag: None,
        last_modified: None,
        last_error: None,
        polled_ms: Some(1_000),
        next_poll_ms: 1_000,
        queue: true,
        created_by: alice.id.clone(),
        created_ms: 1_000,
    };
    s.create_feed(&feed).await.expect("feed");
    let (p2, t2) = made("item 2", &[&masto]);
    let (p3, t3) = made("item 3", &[&masto]);
    let (k2, k3) = (vec!["id:2".to_string()], vec!["id:3".to_string()]);
    let stamped = stamping("feed", &alice);
    let (r2, r3) = tokio::join!(
        s.post_feed_item(&feed.id, &k2, &p2, &t2, &[], Some(&queued), &stamped),
        other.post_feed_item(&feed.id, &k3, &p3, &t3, &[], Some(&queued), &stamped),
    );
    assert!(r2.expect("post") && r3.expect("post"));
    let mut got = vec![due_of(&p2).await.0, due_of(&p3).await.0];
    got.sort();
    assert_eq!(got, vec![Some(fri_9), Some(mon_9)], "two slots, one each");
    // An item seen before is not posted, queue or not.
    let (p4, t4) = made("item 2 again", &[&masto]);
    assert!(
        !s.post_feed_item(
            &feed.id,
            &k2,
            &p4,
            &t4,
            &[],
            Some(&queued),
            &stamping("feed", &alice)
        )
        .await
        .expect("post")
    );

    // bsky first: it has no slots; nothing is stored, and the error says what to run.
    let (p5, t5) = made("v2", &[&bsky, &masto]);
    let refused = s
        .fire_trigger(
            &trigger.id,
            "k2",
            &p5,
            &t5,
            &[],
            Some(&queued),
            &stamping("trigger", &alice),
        )
        .await
        .expect_err("no slots");
    assert!(
        matches!(&refused, StorageError::NoQueueSlot(why)
            if why.contains("postctl queue slots set bsky")),
        "{refused:?}"
    );
    assert_eq!(s.post(&ws.id, &p5.id).await.expect("read"), None);
    let (p6, t6) = made("item 6", &[&bsky]);
    assert!(matches!(
        s.post_feed_item(
            &feed.id,
            &["id:6".to_string()],
            &p6,
            &t6,
            &[],
            Some(&queued),
            &stamping("feed", &alice)
        )
        .await,
        Err(StorageError::NoQueueSlot(_))
    ));
    assert_eq!(s.post(&ws.id, &p6.id).await.expect("read"), None);

    assert!(s.clear_queue_slots(&ws.id, &masto.id).await.expect("clear"));
    assert!(!s.clear_queue_slots(&ws.id, &masto.id).await.expect("clear"));
    assert_eq!(s.queue_slots(&ws.id, &masto.id).await.expect("read"), None);
}

/// `create_queued_post` and `schedule_queued`: the API's queued post takes its slot in the
/// transaction that stores it, and the stamps and events are of the post at that slot (the
/// stamped time is the one chosen); two at once on two handles get two slots; a post
/// scheduled again by the queue keeps its own slot; no slots write nothing.
async fn api_queued_posts_are_stamped_at_their_slot(target: Target) {
    let (s, alice, ws) = with_owner(&target).await;
    let masto = account(&ws, "masto", "mastodon");
    let bsky = account(&ws, "bsky", "bluesky");
    s.create_account(&masto).await.expect("account");
    s.create_account(&bsky).await.expect("account");
    let hour = 3_600_000;
    // Thursday 2026-11-26 12:00 UTC, 13:00 in Berlin.
    let now = 1_795_694_400_000_i64;
    let fri_9 = 1_795_766_400_000_i64;
    let fri_13 = fri_9 + 4 * hour;
    let mon_9 = fri_9 + 72 * hour;
    assert!(
        s.set_queue_slots(&QueueSlots {
            account_id: masto.id.clone(),
            workspace_id: ws.id.clone(),
            rules: "mon-fri 09:00,13:00".into(),
            tz: "Europe/Berlin".into(),
            updated_ms: 1_000,
        })
        .await
        .expect("set")
    );
    let events: PostEvents = {
        let ws = ws.clone();
        Arc::new(move |p: &Post| vec![event(&ws, "post.scheduled", p.scheduled_ms.unwrap_or(0))])
    };
    let queued = Queued {
        now_ms: now,
        events,
    };
    // The stamp carries the post's time as the storage decided it.
    let by = alice.id.clone();
    let stamps: PostStamps = Arc::new(move |p: &Post| {
        Ok(vec![ApiField {
            field: "schedule",
            value: serde_json::json!({ "due_ms": p.scheduled_ms, "zone": p.zone }).to_string(),
            at_ms: p.updated_ms,
            device: "api".into(),
            by: by.clone(),
        }])
    });
    let made = |body: &str, accounts: &[&Account]| {
        let p = Post {
            state: PostState::Scheduled,
            scheduled_ms: Some(now),
            created_ms: now,
            updated_ms: now,
            ..post(&ws, &alice, body)
        };
        let t: Vec<storage::Target> = accounts
            .iter()
            .map(|a| storage::Target::new(&p, &a.id, now))
            .collect();
        (p, t)
    };
    let stamped_due = |id: String| {
        let (s, ws) = (s.clone(), ws.id.clone());
        async move {
            let fields = s.post_fields(&ws, &id).await.expect("fields");
            let field = fields
                .iter()
                .find(|f| f.field == "schedule")
                .expect("a stamped schedule");
            let value: serde_json::Value = serde_json::from_str(&field.value).expect("json");
            value["due_ms"].as_i64()
        }
    };

    let other = open(&target).await.expect("a second handle");
    let (p1, t1) = made("one", &[&masto]);
    let (p2, t2) = made("two", &[&masto, &bsky]);
    let before = s.latest_version(&ws.id).await.expect("latest");
    let (r1, r2) = tokio::join!(
        s.create_queued_post(&p1, &t1, &queued, &stamps),
        other.create_queued_post(&p2, &t2, &queued, &stamps),
    );
    let (r1, r2) = (r1.expect("queued"), r2.expect("queued"));
    let mut got = vec![r1.scheduled_ms, r2.scheduled_ms];
    got.sort();
    assert_eq!(got, vec![Some(fri_9), Some(fri_13)], "two slots, one each");
    for placed in [&r1, &r2] {
        let stored = s
            .post(&ws.id, &placed.id)
            .await
            .expect("read")
            .expect("post");
        assert_eq!(stored.scheduled_ms, placed.scheduled_ms);
        assert_eq!(stored.zone, "Europe/Berlin", "the queue's zone");
        assert_eq!(stamped_due(placed.id.clone()).await, placed.scheduled_ms);
        let dues: Vec<Option<i64>> = s
            .targets(&ws.id, &placed.id)
            .await
            .expect("targets")
            .iter()
            .map(|t| t.target.due_ms)
            .collect();
        assert!(dues.iter().all(|d| *d == placed.scheduled_ms), "{dues:?}");
    }
    assert_ne!(
        s.latest_version(&ws.id).await.expect("latest"),
        before,
        "the stamps went into the sync chain"
    );

    // A draft with a target on masto, scheduled by the queue: Monday 09:00, then again:
    // its own slot is not held against it.
    let draft = post(&ws, &alice, "draft");
    s.create_post_with_targets(&draft, &[storage::Target::new(&draft, &masto.id, now)], &[])
        .await
        .expect("draft");
    let (placed, outcome) = s
        .schedule_queued(&draft, false, &queued, &stamps)
        .await
        .expect("schedule")
        .expect("the post");
    assert_eq!(placed.scheduled_ms, Some(mon_9));
    assert_eq!(placed.state, PostState::Scheduled);
    assert_eq!(outcome.changed, vec!["masto".to_string()]);
    assert_eq!(stamped_due(draft.id.clone()).await, Some(mon_9));
    assert_eq!(
        states(&s, &ws, &draft).await,
        vec![("masto".into(), TargetState::Scheduled)]
    );
    let (again, _) = s
        .schedule_queued(&placed, true, &queued, &stamps)
        .await
        .expect("schedule")
        .expect("the post");
    assert_eq!(
        again.scheduled_ms,
        Some(mon_9),
        "its own slot stays its own"
    );
    assert_eq!(
        states(&s, &ws, &draft).await,
        vec![("masto".into(), TargetState::AwaitingApproval)]
    );

    // A post without targets moves nothing and writes nothing; an unknown one is None.
    let bare = post(&ws, &alice, "no accounts");
    s.create_post_with_targets(&bare, &[], &[])
        .await
        .expect("bare");
    let (_, nothing) = s
        .schedule_queued(&bare, false, &queued, &stamps)
        .await
        .expect("schedule")
        .expect("the post");
    assert!(nothing.changed.is_empty() && nothing.skipped.is_empty());
    assert_eq!(
        s.post(&ws.id, &bare.id)
            .await
            .expect("read")
            .expect("post")
            .state,
        PostState::Draft
    );
    let unknown = post(&ws, &alice, "never stored");
    assert!(
        s.schedule_queued(&unknown, false, &queued, &stamps)
            .await
            .expect("schedule")
            .is_none()
    );

    // bsky first: it has no slots; nothing is stored.
    let (p3, t3) = made("three", &[&bsky, &masto]);
    let refused = s
        .create_queued_post(&p3, &t3, &queued, &stamps)
        .await
        .expect_err("no slots");
    assert!(
        matches!(&refused, StorageError::NoQueueSlot(why)
            if why.contains("postctl queue slots set bsky")),
        "{refused:?}"
    );
    assert_eq!(s.post(&ws.id, &p3.id).await.expect("read"), None);
    let bsky_draft = post(&ws, &alice, "bsky draft");
    s.create_post_with_targets(
        &bsky_draft,
        &[storage::Target::new(&bsky_draft, &bsky.id, now)],
        &[],
    )
    .await
    .expect("draft");
    assert!(matches!(
        s.schedule_queued(&bsky_draft, false, &queued, &stamps)
            .await,
        Err(StorageError::NoQueueSlot(_))
    ));
    assert_eq!(
        states(&s, &ws, &bsky_draft).await,
        vec![("bsky".into(), TargetState::Draft)]
    );
}
