//! The storage contract: one suite of cases, run against SQLite and against PostgreSQL.
//! Each case gets a fresh, migrated database.

mod common;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use postctl_server::storage::{
    self, ApiKey, IDEMPOTENCY_TTL_MS, IdempotencyBegin, KeyMode, LoginFailures, Post, PostQuery,
    PostState, Purge, Purged, Role, Scope, Session, Storage, StorageError, User, Workspace,
};

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
    keys_rotate_once_with_a_grace_period,
    rate_tokens_are_shared_by_every_handle,
    purge_deletes_only_what_ended_before_the_cutoffs,
);

async fn run_all(mut fresh: impl FnMut() -> Target) {
    for (name, case) in CASES {
        eprintln!("case {name}");
        case(fresh()).await;
    }
}

#[tokio::test]
async fn storage_contract_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    run_all(|| {
        n += 1;
        Target::Sqlite(dir.path().join(format!("db{n}.sqlite3")))
    })
    .await;
}

#[tokio::test]
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
    // Full again at 11 s (one request of a one-a-minute key at -49 s), and at 70 s.
    s.take_rate_token("full", 1, -49_000).await.expect("take");
    s.take_rate_token("busy", 1, 10_000).await.expect("take");
    let purge = Purge {
        sessions_ended_before_ms: 10_000,
        idempotency_before_ms: 10_000,
        login_failures_before_ms: 10_000,
        rate_limits_full_before_ms: 12_000,
    };
    assert_eq!(
        s.purge(&purge).await.expect("purge"),
        Purged {
            sessions: 2,
            idempotency_keys: 1,
            login_failures: 1,
            rate_limits: 1,
        }
    );
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
