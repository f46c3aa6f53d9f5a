//! Work that talks to the networks, the linked server or the secret store runs on its own
//! thread, so the dashboard keeps drawing: credential checks, each account's limits, and
//! the approvals and the inbox of the linked server (through the session `postctl login`
//! stored).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use postctl_core::model::Account;
use postctl_core::platforms::{Capabilities, PublishError};
use postctl_core::publish::{Engine, Policy, preview};
use postctl_core::secrets::{Secret, SecretStore};
use postctl_core::store::Store;
use postctl_core::sync::client::{Client, Verdict};

use crate::app::effect::{Event, Verification, VerifyFailure};
use crate::log::Log;

/// What the worker can be asked.
#[derive(Debug)]
pub enum Request {
    Verify(Vec<Account>),
    Capabilities(Vec<Account>),
    /// The posts awaiting approval on the linked server.
    Approvals,
    /// The signed-in user's notifications on the linked server.
    Inbox,
    /// Mark one of them read (`Some(id)`), or all.
    MarkRead(Option<String>),
    /// Approve or reject one of them.
    Decide {
        post_id: String,
        verdict: Verdict,
        comment: Option<String>,
    },
}

/// How many notifications the inbox view reads (the newest).
const INBOX_READ: u32 = 200;

/// What the worker needs to build the publish engine (for verify) and the adapters.
#[derive(Debug, Clone)]
pub struct EngineParts {
    pub db_file: PathBuf,
    pub data_dir: PathBuf,
    pub policy: Policy,
    /// The clock the engine's store reads.
    pub clock: postctl_core::Clock,
}

/// The thread and its two channels.
#[derive(Debug)]
pub struct Worker {
    requests: Sender<Request>,
    events: Receiver<Event>,
}

impl Worker {
    pub fn start(parts: EngineParts, log: Log) -> Worker {
        let (requests, inbox) = channel::<Request>();
        let (outbox, events) = channel::<Event>();
        let thread_log = log.clone();
        let spawned = std::thread::Builder::new()
            .name("postctl-tui-worker".into())
            .spawn(move || run(&parts, &thread_log, &inbox, &outbox));
        if let Err(e) = spawned {
            // Without the thread, requests fail when sent, and say so.
            log.error(format!("cannot start the worker thread: {e}"));
        }
        Worker { requests, events }
    }

    pub fn send(&self, request: Request) -> Result<(), String> {
        self.requests
            .send(request)
            .map_err(|_| "the background worker stopped; see the log file".to_string())
    }

    /// What has come back since the last call, without waiting.
    pub fn events(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }
}

fn run(parts: &EngineParts, log: &Log, inbox: &Receiver<Request>, outbox: &Sender<Event>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            log.error(format!("cannot start the async runtime: {e}"));
            let _ = outbox.send(Event::Failed(format!(
                "cannot start the async runtime: {e}"
            )));
            return;
        }
    };
    let mut engine: Option<Arc<Engine>> = None;
    for request in inbox {
        match request {
            Request::Approvals => {
                let result = linked(parts).and_then(|(client, token)| {
                    runtime
                        .block_on(client.approvals(&token))
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = &result {
                    log.error(format!("approvals: {e}"));
                }
                let _ = outbox.send(Event::ApprovalsLoaded(result));
            }
            Request::Inbox => {
                let result = linked(parts).and_then(|(client, token)| {
                    runtime
                        .block_on(client.inbox(&token, false, None, INBOX_READ))
                        .map(|page| page.items)
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = &result {
                    log.error(format!("inbox: {e}"));
                }
                let _ = outbox.send(Event::InboxLoaded(result));
            }
            Request::MarkRead(id) => {
                let result = linked(parts).and_then(|(client, token)| {
                    runtime
                        .block_on(client.mark_read(&token, id.as_deref()))
                        .map_err(|e| e.to_string())
                });
                log.info(format!(
                    "marked {:?} read: {result:?}",
                    id.as_deref().unwrap_or("all")
                ));
                let _ = outbox.send(Event::Marked(result));
            }
            Request::Decide {
                post_id,
                verdict,
                comment,
            } => {
                let result = linked(parts).and_then(|(client, token)| {
                    runtime
                        .block_on(client.decide(&token, &post_id, verdict, comment.as_deref()))
                        .map_err(|e| e.to_string())
                });
                log.info(format!(
                    "{verdict:?} {post_id}: {:?}",
                    result.as_ref().map(|d| &d.targets)
                ));
                let _ = outbox.send(Event::Decided(result));
            }
            Request::Capabilities(accounts) => {
                let found = capabilities(&accounts, &parts.db_file);
                let _ = outbox.send(Event::Capabilities(found));
            }
            Request::Verify(accounts) => {
                if engine.is_none() {
                    match build_engine(parts) {
                        Ok(built) => engine = Some(built),
                        Err(e) => {
                            log.error(format!("engine: {e}"));
                            let _ = outbox.send(Event::Failed(e));
                            continue;
                        }
                    }
                }
                let Some(engine) = &engine else { continue };
                for account in accounts {
                    let result = runtime.block_on(engine.verify(&account));
                    let result = result.map(|v| v.identity).map_err(failure);
                    log.info(format!("verified {}: {result:?}", account.name));
                    let _ = outbox.send(Event::Verified(Verification {
                        account: account.name.clone(),
                        at: chrono::Utc::now(),
                        result,
                    }));
                }
            }
        }
    }
}

fn failure(error: PublishError) -> VerifyFailure {
    VerifyFailure {
        message: error.to_string(),
        auth: matches!(error, PublishError::Auth { .. }),
        retry_after_secs: match &error {
            PublishError::Retryable {
                retry_after,
                status,
                ..
            } => retry_after
                .map(|d| d.as_secs())
                .or((*status == Some(429)).then_some(0)),
            _ => None,
        },
    }
}

/// Each account's limits, known without a secret or a request: its network's, refined by
/// what its server said when postctl last asked.
fn capabilities(
    accounts: &[Account],
    db_file: &Path,
) -> HashMap<String, Result<Capabilities, String>> {
    let found = match Store::open(db_file) {
        Ok(store) => preview::capabilities(Some(&store), accounts),
        Err(e) => accounts.iter().map(|_| Err(e.to_string())).collect(),
    };
    accounts
        .iter()
        .map(|account| account.name.clone())
        .zip(found)
        .collect()
}

/// The client of the server this database is linked to, with the session token from the
/// secret store (as the CLI's `postctl approvals` reads them).
fn linked(parts: &EngineParts) -> Result<(Client, Secret), String> {
    let store = Store::open(&parts.db_file).map_err(|e| e.to_string())?;
    let link = store
        .sync_link()
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            "this database is not linked to a server: sign in with `postctl login URL` first"
                .to_string()
        })?;
    let reference = link.secret.clone().ok_or_else(|| {
        format!(
            "signed out of {}: sign in again with `postctl login {} --user {}`",
            link.server, link.server, link.user
        )
    })?;
    let backend = SecretStore::backend_from_env().map_err(|e| format!("secret store: {e}"))?;
    let token = SecretStore::new(&parts.data_dir, backend)
        .get(&reference)
        .map_err(|e| e.to_string())?;
    let client = Client::new(&link.server).map_err(|e| e.to_string())?;
    Ok((client, token))
}

/// The engine, for credential checks: built at the first one, so that a secret store that
/// cannot be opened does not keep the dashboard from counting lengths.
fn build_engine(parts: &EngineParts) -> Result<Arc<Engine>, String> {
    let backend = SecretStore::backend_from_env().map_err(|e| format!("secret store: {e}"))?;
    let secrets = Arc::new(SecretStore::new(&parts.data_dir, backend));
    let mut store = Store::open(&parts.db_file).map_err(|e| e.to_string())?;
    store.set_clock(parts.clock);
    let engine =
        Engine::with_secret_store(store, secrets, parts.data_dir.join("media"), parts.policy)
            .map_err(|e| e.to_string())?;
    Ok(Arc::new(engine))
}
