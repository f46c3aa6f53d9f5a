//! Core's publish-engine contract (`postctl_core::publish::contract`) on the server's
//! storage through `ServerLedger`: the same cases core's own store passes, on SQLite and on
//! PostgreSQL, each on a fresh database.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postctl_core::model::TargetState;
use postctl_core::network::Network;
use postctl_core::publish::Ledger;
use postctl_core::publish::contract::{Fixture, run_all};
use postctl_server::publisher::ledger::ServerLedger;
use postctl_server::storage::{self, Account, Post, PostState, Storage, Target, User, Workspace};

#[derive(Clone, Debug)]
enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

async fn open(db: &Database) -> Arc<dyn Storage> {
    match db {
        Database::Sqlite(path) => storage::open(None, path).await,
        Database::Postgres(url) => storage::open(Some(url), std::path::Path::new("unused")).await,
    }
    .expect("open the storage")
}

struct ServerFixture {
    storage: Arc<dyn Storage>,
    /// A second handle on the same database, as another process has.
    second: Arc<dyn Storage>,
    ledger: Arc<ServerLedger>,
    workspace: Workspace,
    user: User,
    /// Each target's post, for reading the target back.
    posts: Mutex<HashMap<String, String>>,
}

impl ServerFixture {
    async fn new(db: Database) -> ServerFixture {
        let storage = open(&db).await;
        let second = open(&db).await;
        let user = User::new(
            uuid::Uuid::now_v7().to_string(),
            "owner".into(),
            "$argon2id$not-checked-here".into(),
            false,
            1_000,
        );
        storage.create_user(&user).await.expect("user");
        let workspace = Workspace {
            id: uuid::Uuid::now_v7().to_string(),
            name: "contract".into(),
            created_ms: 1_000,
        };
        storage
            .create_workspace(&workspace, &user.id)
            .await
            .expect("workspace");
        ServerFixture {
            ledger: Arc::new(ServerLedger::new(storage.clone())),
            storage,
            second,
            workspace,
            user,
            posts: Mutex::default(),
        }
    }
}

#[async_trait]
impl Fixture for ServerFixture {
    fn ledger(&self) -> Arc<dyn Ledger> {
        self.ledger.clone()
    }

    fn another(&self) -> Arc<dyn Ledger> {
        Arc::new(ServerLedger::new(self.second.clone()))
    }

    async fn add_account(&self, name: &str, network: Network, base_url: Option<&str>) -> String {
        let account = Account {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: self.workspace.id.clone(),
            name: name.into(),
            network: network.name().to_string(),
            base_url: base_url.map(str::to_string),
            handle: None,
            settings: "{}".into(),
            credentials: "sealed elsewhere".into(),
            created_ms: 1_000,
        };
        self.storage
            .create_account(&account)
            .await
            .expect("account");
        account.id
    }

    async fn add_target(&self, account_id: &str, due: DateTime<Utc>) -> String {
        let now = Utc::now().timestamp_millis();
        let post = Post {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: self.workspace.id.clone(),
            author_id: self.user.id.clone(),
            title: None,
            body: "Contract".into(),
            state: PostState::Scheduled,
            scheduled_ms: Some(due.timestamp_millis()),
            zone: "UTC".into(),
            created_ms: now,
            updated_ms: now,
        };
        let target = Target::new(&post, account_id, now);
        self.storage
            .create_post_with_targets(&post, std::slice::from_ref(&target), &[])
            .await
            .expect("post");
        self.posts
            .lock()
            .expect("lock")
            .insert(target.id.clone(), post.id);
        target.id
    }

    async fn target(&self, target_id: &str) -> (TargetState, u32) {
        let post = self.posts.lock().expect("lock")[target_id].clone();
        let targets = self
            .storage
            .targets(&self.workspace.id, &post)
            .await
            .expect("targets");
        let view = targets
            .into_iter()
            .find(|t| t.target.id == target_id)
            .expect("the target");
        (view.target.state, view.target.attempt_count)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = std::sync::atomic::AtomicU32::new(0);
    run_all(|| {
        let path = dir.path().join(format!(
            "db{}.sqlite3",
            n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        async move { Box::new(ServerFixture::new(Database::Sqlite(path)).await) as Box<dyn Fixture> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_contract_holds_on_postgres() {
    let Some(pg) = common::pg::Postgres::start("the_engine_contract_holds_on_postgres") else {
        return;
    };
    run_all(|| {
        let url = pg.database();
        async move { Box::new(ServerFixture::new(Database::Postgres(url)).await) as Box<dyn Fixture> }
    })
    .await;
}
