//! The HTTP client of a postctl server's sync API: sign-in (`/api/v1/session`), the
//! caller's workspaces, moving a session to another workspace, the version chain
//! (`/api/v1/sync/versions`), approvals (`/api/v1/approvals`, a post's `approve` and
//! `reject`) and the caller's notification inbox (`/api/v1/inbox`); and of the workspace's
//! integrations: outbound webhooks (`/api/v1/webhooks`, their deliveries) and triggers
//! (`/api/v1/triggers`), answered as the server's JSON (its OpenAPI document describes
//! each). Errors say what to do; none ever holds the session token.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Operation, Version};
use crate::secrets::Secret;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "cannot reach the server at {server} ({detail}); check the address and that postctl-server is running there, then try again (nothing was changed)"
    )]
    Unreachable { server: String, detail: String },
    /// The name, password or code was refused, or sign-in is locked.
    #[error("the server refused the sign-in: {0}")]
    SignInRefused(String),
    /// The stored session no longer works.
    #[error(
        "the server no longer accepts this device's session ({0}); sign in again with `postctl login URL`"
    )]
    SessionRefused(String),
    /// The request was refused for what it asked (a workspace not yours, a role too low).
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("the server failed ({status}): {detail}; try again later")]
    Server { status: u16, detail: String },
    #[error("the server at {server} did not answer as a postctl server does ({detail})")]
    Protocol { server: String, detail: String },
    /// Other devices kept adding versions while this one tried to push.
    #[error(
        "other devices kept pushing to {server} while this one tried {attempts} times; run `postctl sync` again"
    )]
    Busy { server: String, attempts: usize },
}

impl SyncError {
    /// Whether the error means the user must sign in (exit code 4).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            SyncError::SignInRefused(_) | SyncError::SessionRefused(_)
        )
    }

    /// Whether the user asked for something the server refuses (exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, SyncError::Refused(_))
    }
}

/// A new session from a sign-in.
pub struct Session {
    pub token: Secret,
    pub user: String,
    pub workspace_id: String,
    pub workspace: String,
    pub role: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

/// What a sign-in with a password gave.
#[derive(Debug)]
pub enum SignIn {
    Session(Session),
    /// The user has TOTP on: send the password again with a code.
    CodeNeeded,
}

/// A workspace the caller is a member of.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct WorkspaceInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The workspace the calling session acts in.
    #[serde(default)]
    pub current: bool,
}

/// What a push gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    /// The server took the push: `version` is the version added (`None` when every
    /// operation was refused), and `rejected` the posts whose operations it left out.
    /// `duplicate`: the server had this batch already (a push retried after a sync was
    /// cut off) and added nothing; `version` is the one the batch made then.
    Added {
        version: Option<String>,
        rejected: Vec<Rejected>,
        duplicate: bool,
    },
    /// The parent was not the latest version: pull the newer ones first.
    Stale { latest: Option<String> },
}

/// A post whose operations the server refused because it has started publishing it: the
/// post's fields and targets as the server has them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Rejected {
    pub post: String,
    pub reason: String,
    #[serde(default)]
    pub fields: Vec<ServerField>,
    #[serde(default)]
    pub targets: Vec<ServerTarget>,
}

/// A post field as the server holds it, with the stamp of the write that won.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerField {
    pub field: String,
    pub value: Value,
    pub at_ms: i64,
    pub device: String,
}

/// One of a post's targets on the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ServerTarget {
    pub account: String,
    pub network: String,
    pub state: String,
}

/// A page of a workspace's snapshot: the version it is at least as new as, posts as the
/// operations that wrote their current values, and where the next page starts.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotPage {
    pub version: Option<String>,
    pub operations: Vec<super::Operation>,
    pub next: Option<String>,
}

/// A page of versions after a given one.
#[derive(Debug, Clone, Deserialize)]
pub struct Page {
    pub versions: Vec<Version>,
    /// Whether more versions follow this page.
    pub more: bool,
    /// The workspace's accounts as the server has them now (older servers leave it out).
    #[serde(default)]
    pub accounts: Option<Vec<ServerAccount>>,
    /// What the server's publisher did since `targets_since` (the last page only).
    #[serde(default)]
    pub targets: Vec<PublishedTarget>,
    /// The newest target change this page covers: the next pull's `targets_since`.
    #[serde(default)]
    pub targets_until: Option<i64>,
}

/// A target of a synced post as the server's publisher has it (it only flows down).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PublishedTarget {
    pub post: String,
    pub account: String,
    pub network: String,
    pub state: String,
    #[serde(default)]
    pub due_ms: Option<i64>,
    /// The network's URL of the published post.
    #[serde(default)]
    pub url: Option<String>,
    pub attempt_count: u32,
    #[serde(default)]
    pub last_error: Option<String>,
    pub updated_ms: i64,
}

/// An account of the linked workspace, as a page of versions names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ServerAccount {
    pub name: String,
    pub network: String,
}

/// A post awaiting approval in the linked workspace, as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Awaiting {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    pub body: String,
    /// When it is due (RFC 3339).
    #[serde(default)]
    pub scheduled_at: Option<String>,
    pub zone: String,
    /// Who wrote it, by name.
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub targets: Vec<AwaitingTarget>,
}

/// One of a waiting post's destinations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AwaitingTarget {
    pub account: String,
    pub network: String,
    pub state: String,
}

/// What an approval or a rejection did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub post_id: String,
    /// `approved` or `rejected`.
    pub decision: String,
    pub by: Option<String>,
    pub comment: Option<String>,
    /// Each target's account and state after it (`scheduled`, `missed`, `draft`).
    pub targets: Vec<(String, String)>,
}

/// An approver's decision on a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

/// A notification in the caller's inbox (`/api/v1/inbox`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct InboxItem {
    pub id: String,
    /// The event type (`post.failed`, …) or `digest`.
    pub event_type: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub read: bool,
    #[serde(default)]
    pub read_at: Option<String>,
}

/// A page of the inbox, newest first.
#[derive(Debug, Clone, Deserialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// Where a client's requests spent their time (see [`Client::spent`]): what `postctl
/// sync --json` reports as its `timings`, and `cargo xtask bench sync` profiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// Requests answered.
    pub requests: u32,
    /// From sending a request to the last byte of its answer.
    pub http: Duration,
    /// Reading answers' JSON.
    pub json: Duration,
}

impl Spent {
    /// What was spent since `earlier`, a reading of the same client.
    pub fn since(self, earlier: Spent) -> Spent {
        Spent {
            requests: self.requests.saturating_sub(earlier.requests),
            http: self.http.saturating_sub(earlier.http),
            json: self.json.saturating_sub(earlier.json),
        }
    }
}

/// The id of a batch of operations as a push names it: derived from the device and the
/// operations (SHA-256, 32 hex digits), so pushing the same batch again (a sync cut off
/// before it marked the batch pushed) gives the same id, and the server answers with the
/// version the batch made instead of adding it twice. A batch with anything changed is
/// another batch.
pub fn batch_id(device: &str, operations: &[Operation]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(device.as_bytes());
    hash.update(b"\n");
    hash.update(serde_json::to_vec(operations).unwrap_or_default());
    let mut id = crate::media::hex(&hash.finalize());
    id.truncate(32);
    id
}

/// A client of one server.
pub struct Client {
    base: String,
    http: reqwest::Client,
    spent: std::sync::Mutex<Spent>,
}

#[derive(Deserialize)]
struct ProblemBody {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    latest: Option<String>,
}

impl Client {
    /// A client of the server at `base` (`https://posts.example.org`).
    pub fn new(base: &str) -> Result<Client, SyncError> {
        let base = base.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| SyncError::Unreachable {
            server: base.clone(),
            detail: format!("not an address: {e}; write it as https://host[:port]"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SyncError::Unreachable {
                server: base,
                detail: "the address must start with https:// (or http:// on your own machine)"
                    .into(),
            });
        }
        let http = crate::tls::client_builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SyncError::Unreachable {
                server: base.clone(),
                detail: e.to_string(),
            })?;
        Ok(Client {
            base,
            http,
            spent: std::sync::Mutex::new(Spent::default()),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The time this client's requests took so far.
    pub fn spent(&self) -> Spent {
        self.spent.lock().map(|s| *s).unwrap_or_default()
    }

    fn count(&self, http: Duration, json: Duration) {
        if let Ok(mut spent) = self.spent.lock() {
            spent.requests += 1;
            spent.http += http;
            spent.json += json;
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> SyncError {
        // reqwest's text names the URL, never a header: the token does not leak here.
        let detail = if e.is_timeout() {
            "no answer in time".to_string()
        } else if e.is_connect() {
            "connection refused or no route".to_string()
        } else {
            e.to_string()
        };
        SyncError::Unreachable {
            server: self.base.clone(),
            detail,
        }
    }

    fn protocol(&self, detail: impl Into<String>) -> SyncError {
        SyncError::Protocol {
            server: self.base.clone(),
            detail: detail.into(),
        }
    }

    /// Sends `request`: the status and the answer's text, timed.
    async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<(u16, String), SyncError> {
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| self.unreachable(e))?;
        self.count(started.elapsed(), Duration::ZERO);
        Ok((status, text))
    }

    /// Sends `request` and reads a successful (`ok`) answer straight into `T`, without
    /// an intermediate `Value` (pages of versions and snapshots are large); `what` names
    /// it in a protocol error.
    async fn send_typed<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        ok: u16,
        what: &str,
    ) -> Result<T, SyncError> {
        let (status, text) = self.fetch(request).await?;
        if status != ok {
            return Err(self.failed(status, self.problem(status, &text)?));
        }
        let started = std::time::Instant::now();
        let value = serde_json::from_str(&text).map_err(|e| self.protocol(format!("{what}: {e}")));
        self.count_json(started.elapsed());
        value
    }

    fn count_json(&self, json: Duration) {
        if let Ok(mut spent) = self.spent.lock() {
            spent.json += json;
        }
    }

    /// The problem body of a failed answer (empty when it has none).
    fn problem(&self, status: u16, text: &str) -> Result<ProblemBody, SyncError> {
        let empty = ProblemBody {
            kind: String::new(),
            detail: String::new(),
            latest: None,
        };
        if text.trim().is_empty() {
            return Ok(empty);
        }
        let value: Value = serde_json::from_str(text).map_err(|_| {
            self.protocol(format!(
                "answer {status} is not JSON; is this the right address?"
            ))
        })?;
        Ok(serde_json::from_value(value).unwrap_or(empty))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Value, ProblemBody), SyncError> {
        let (status, text) = self.fetch(request).await?;
        let started = std::time::Instant::now();
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                self.protocol(format!(
                    "answer {status} is not JSON; is this the right address?"
                ))
            })?
        };
        let problem = if status >= 400 {
            serde_json::from_value(value.clone()).unwrap_or(ProblemBody {
                kind: String::new(),
                detail: String::new(),
                latest: None,
            })
        } else {
            ProblemBody {
                kind: String::new(),
                detail: String::new(),
                latest: None,
            }
        };
        self.count_json(started.elapsed());
        Ok((status, value, problem))
    }

    /// The error for an answer that is not a success, on a request made with a session.
    fn failed(&self, status: u16, problem: ProblemBody) -> SyncError {
        let detail = if problem.detail.is_empty() {
            format!("status {status}")
        } else {
            problem.detail
        };
        match status {
            401 => SyncError::SessionRefused(detail),
            404 if problem.kind.is_empty() => self.protocol(format!(
                "404 without a problem body; is {} a postctl server?",
                self.base
            )),
            400..=499 => SyncError::Refused(detail),
            _ => SyncError::Server { status, detail },
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in with a password and, when the server asks, a TOTP code.
    pub async fn sign_in(
        &self,
        name: &str,
        password: &Secret,
        code: Option<&str>,
        workspace: Option<&str>,
    ) -> Result<SignIn, SyncError> {
        let mut body = json!({ "name": name, "password": password.expose() });
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        if let Some(workspace) = workspace {
            body["workspace"] = json!(workspace);
        }
        let (status, value, problem) = self
            .send(self.http.post(self.url("/api/v1/session")).json(&body))
            .await?;
        if status == 201 {
            let text = |pointer: &str| {
                value
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| self.protocol(format!("the sign-in answer lacks {pointer}")))
            };
            return Ok(SignIn::Session(Session {
                token: Secret::new(text("/token")?),
                user: text("/user/name")?,
                workspace_id: text("/workspace/id")?,
                workspace: text("/workspace/name")?,
                role: text("/role")?,
            }));
        }
        if problem.kind.ends_with(":totp-required") {
            return Ok(SignIn::CodeNeeded);
        }
        let detail = if problem.detail.is_empty() {
            format!("status {status}")
        } else {
            problem.detail
        };
        Err(match status {
            401 | 429 => SyncError::SignInRefused(detail),
            404 if problem.kind.is_empty() => self.protocol(format!(
                "no sign-in at {}/api/v1/session; is this a postctl server?",
                self.base
            )),
            400..=499 => SyncError::Refused(detail),
            _ => SyncError::Server { status, detail },
        })
    }

    /// Ends the session on the server.
    pub async fn sign_out(&self, token: &Secret) -> Result<(), SyncError> {
        let (status, _, problem) = self
            .send(
                self.http
                    .delete(self.url("/api/v1/session"))
                    .bearer_auth(token.expose()),
            )
            .await?;
        match status {
            204 | 200 => Ok(()),
            _ => Err(self.failed(status, problem)),
        }
    }

    /// The workspaces the session's user is a member of.
    pub async fn workspaces(&self, token: &Secret) -> Result<Vec<WorkspaceInfo>, SyncError> {
        let (status, value, problem) = self
            .send(
                self.http
                    .get(self.url("/api/v1/workspaces"))
                    .bearer_auth(token.expose()),
            )
            .await?;
        if status != 200 {
            return Err(self.failed(status, problem));
        }
        serde_json::from_value(value.get("workspaces").cloned().unwrap_or(Value::Null))
            .map_err(|e| self.protocol(format!("the workspace list: {e}")))
    }

    /// Moves to another of the user's workspaces: the server ends this session and gives
    /// one in `workspace`.
    pub async fn switch_workspace(
        &self,
        token: &Secret,
        workspace: &str,
    ) -> Result<Session, SyncError> {
        let (status, value, problem) = self
            .send(
                self.http
                    .post(self.url("/api/v1/session/workspace"))
                    .bearer_auth(token.expose())
                    .json(&json!({ "workspace": workspace })),
            )
            .await?;
        if status != 201 {
            return Err(self.failed(status, problem));
        }
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| self.protocol(format!("the answer lacks {pointer}")))
        };
        Ok(Session {
            token: Secret::new(text("/token")?),
            user: text("/user/name")?,
            workspace_id: text("/workspace/id")?,
            workspace: text("/workspace/name")?,
            role: text("/role")?,
        })
    }

    /// Pushes `operations` as a version after `parent` (compare-and-set).
    pub async fn push(
        &self,
        token: &Secret,
        parent: Option<&str>,
        device: &str,
        operations: &[Operation],
    ) -> Result<Pushed, SyncError> {
        let body = json!({
            "parent": parent,
            "device": device,
            "batch": batch_id(device, operations),
            "operations": operations,
        });
        let (status, value, problem) = self
            .send(
                self.http
                    .post(self.url("/api/v1/sync/versions"))
                    .bearer_auth(token.expose())
                    .json(&body),
            )
            .await?;
        match status {
            200 | 201 => {
                let version = value.get("id").and_then(Value::as_str).map(str::to_string);
                if status == 201 && version.is_none() {
                    return Err(self.protocol("the new version's id is missing"));
                }
                let rejected = match value.get("rejected") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(list) => serde_json::from_value(list.clone())
                        .map_err(|e| self.protocol(format!("the refused posts: {e}")))?,
                };
                let duplicate = value.get("duplicate").and_then(Value::as_bool) == Some(true);
                Ok(Pushed::Added {
                    version,
                    rejected,
                    duplicate,
                })
            }
            409 if problem.kind.ends_with(":version-conflict") => Ok(Pushed::Stale {
                latest: problem.latest,
            }),
            _ => Err(self.failed(status, problem)),
        }
    }

    /// Every post awaiting approval in the session's workspace, newest first (all pages).
    pub async fn approvals(&self, token: &Secret) -> Result<Vec<Awaiting>, SyncError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self
                .http
                .get(self.url("/api/v1/approvals"))
                .bearer_auth(token.expose())
                .query(&[("limit", "200")]);
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor.as_str())]);
            }
            let (status, value, problem) = self.send(request).await?;
            if status != 200 {
                return Err(self.failed(status, problem));
            }
            let items: Vec<Awaiting> =
                serde_json::from_value(value.get("items").cloned().unwrap_or(Value::Null))
                    .map_err(|e| self.protocol(format!("the approvals list: {e}")))?;
            all.extend(items);
            match value.get("next_cursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_string()),
                None => return Ok(all),
            }
        }
    }

    /// Approves or rejects (a comment is then required by the server) post `id`.
    pub async fn decide(
        &self,
        token: &Secret,
        id: &str,
        verdict: Verdict,
        comment: Option<&str>,
    ) -> Result<Decided, SyncError> {
        let route = match verdict {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        };
        let mut body = json!({});
        if let Some(comment) = comment {
            body["comment"] = json!(comment);
        }
        let (status, value, problem) = self
            .send(
                self.http
                    .post(self.url(&format!("/api/v1/posts/{id}/{route}")))
                    .bearer_auth(token.expose())
                    .json(&body),
            )
            .await?;
        if status != 200 {
            return Err(self.failed(status, problem));
        }
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(Decided {
            post_id: text("/id").ok_or_else(|| self.protocol("the answer lacks the post's id"))?,
            decision: text("/decision/decision")
                .ok_or_else(|| self.protocol("the answer lacks the decision"))?,
            by: text("/decision/by"),
            comment: text("/decision/comment"),
            targets: value
                .get("targets")
                .and_then(Value::as_array)
                .map(|targets| {
                    targets
                        .iter()
                        .map(|t| {
                            let field = |k: &str| {
                                t.get(k).and_then(Value::as_str).unwrap_or("").to_string()
                            };
                            (field("account"), field("state"))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// Which of `sha256s` the workspace lacks.
    pub async fn missing_media(
        &self,
        token: &Secret,
        sha256s: &[String],
    ) -> Result<Vec<String>, SyncError> {
        let mut missing = Vec::new();
        for chunk in sha256s.chunks(500) {
            let (status, value, problem) = self
                .send(
                    self.http
                        .get(self.url("/api/v1/media"))
                        .bearer_auth(token.expose())
                        .query(&[("missing", chunk.join(","))]),
                )
                .await?;
            if status != 200 {
                return Err(self.failed(status, problem));
            }
            let list: Vec<String> =
                serde_json::from_value(value.get("missing").cloned().unwrap_or(Value::Null))
                    .map_err(|e| self.protocol(format!("the missing media: {e}")))?;
            missing.extend(list);
        }
        Ok(missing)
    }

    /// Uploads a media file under its SHA-256.
    pub async fn put_media(
        &self,
        token: &Secret,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), SyncError> {
        let (status, _, problem) = self
            .send(
                self.http
                    .put(self.url(&format!("/api/v1/media/{sha256}")))
                    .bearer_auth(token.expose())
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(bytes),
            )
            .await?;
        match status {
            200 | 201 => Ok(()),
            _ => Err(self.failed(status, problem)),
        }
    }

    /// A media file of the workspace; `None` when the workspace does not have it (yet).
    pub async fn get_media(
        &self,
        token: &Secret,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        let response = self
            .http
            .get(self.url(&format!("/api/v1/media/{sha256}")))
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        if status == 200 {
            let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
            return Ok(Some(bytes.to_vec()));
        }
        let text = response.text().await.map_err(|e| self.unreachable(e))?;
        let problem: ProblemBody = serde_json::from_str(&text).unwrap_or(ProblemBody {
            kind: String::new(),
            detail: String::new(),
            latest: None,
        });
        match status {
            404 if !problem.kind.is_empty() => Ok(None),
            _ => Err(self.failed(status, problem)),
        }
    }

    /// A page of the workspace's snapshot (`GET /api/v1/sync/snapshot`): its posts after
    /// `after`, as operations; see [`super::snapshot`].
    pub async fn snapshot(
        &self,
        token: &Secret,
        after: Option<&str>,
    ) -> Result<SnapshotPage, SyncError> {
        let mut request = self
            .http
            .get(self.url("/api/v1/sync/snapshot"))
            .bearer_auth(token.expose());
        if let Some(after) = after {
            request = request.query(&[("after", after)]);
        }
        self.send_typed(request, 200, "a page of the snapshot")
            .await
    }

    /// The versions after `since` (from the first when `None`), one page.
    pub async fn pull(
        &self,
        token: &Secret,
        since: Option<&str>,
        targets_since: i64,
    ) -> Result<Page, SyncError> {
        let mut request = self
            .http
            .get(self.url("/api/v1/sync/versions"))
            .bearer_auth(token.expose())
            .query(&[("targets_since", targets_since.to_string())]);
        if let Some(since) = since {
            request = request.query(&[("since", since)]);
        }
        self.send_typed(request, 200, "a page of versions").await
    }

    /// The URL of `segments` under the server, each segment percent-encoded (ids come from
    /// the command line).
    fn url_of(&self, segments: &[&str]) -> Result<reqwest::Url, SyncError> {
        let mut url = reqwest::Url::parse(&self.base).map_err(|e| self.protocol(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| self.protocol("the server address cannot hold a path"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// One call with the session: `ok` is the status that means success; its JSON body.
    async fn call(
        &self,
        method: reqwest::Method,
        segments: &[&str],
        token: &Secret,
        body: Option<Value>,
        ok: u16,
    ) -> Result<Value, SyncError> {
        let mut request = self
            .http
            .request(method, self.url_of(segments)?)
            .bearer_auth(token.expose());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, value, problem) = self.send(request).await?;
        if status != ok {
            return Err(self.failed(status, problem));
        }
        Ok(value)
    }

    fn items(&self, value: Value) -> Result<Vec<Value>, SyncError> {
        match value.get("items") {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Err(self.protocol("the answer lacks its `items`")),
        }
    }

    /// `GET /api/v1/{collection}`: its `items`.
    async fn list(&self, token: &Secret, collection: &str) -> Result<Vec<Value>, SyncError> {
        let value = self
            .call(
                reqwest::Method::GET,
                &["api", "v1", collection],
                token,
                None,
                200,
            )
            .await?;
        self.items(value)
    }

    /// `POST /api/v1/{collection}` with `body`, answered 201: what was made.
    async fn create(
        &self,
        token: &Secret,
        collection: &str,
        body: Value,
    ) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::POST,
            &["api", "v1", collection],
            token,
            Some(body),
            201,
        )
        .await
    }

    /// `DELETE /api/v1/{collection}/{id}`, answered 204.
    async fn remove(&self, token: &Secret, collection: &str, id: &str) -> Result<(), SyncError> {
        self.call(
            reqwest::Method::DELETE,
            &["api", "v1", collection, id],
            token,
            None,
            204,
        )
        .await
        .map(drop)
    }

    /// A page of the session's inbox in its workspace: `unread` only, after `cursor`.
    pub async fn inbox(
        &self,
        token: &Secret,
        unread: bool,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<InboxPage, SyncError> {
        let mut query = vec![("limit", limit.to_string())];
        if unread {
            query.push(("unread", "true".into()));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_string()));
        }
        let (status, value, problem) = self
            .send(
                self.http
                    .get(self.url("/api/v1/inbox"))
                    .query(&query)
                    .bearer_auth(token.expose()),
            )
            .await?;
        if status != 200 {
            return Err(self.failed(status, problem));
        }
        serde_json::from_value(value).map_err(|e| self.protocol(format!("the inbox: {e}")))
    }

    /// Marks one inbox item read (`Some(id)`) or all of them; returns how many were unread.
    pub async fn mark_read(&self, token: &Secret, id: Option<&str>) -> Result<u64, SyncError> {
        let segments: Vec<&str> = match id {
            Some(id) => vec!["api", "v1", "inbox", id, "read"],
            None => vec!["api", "v1", "inbox", "read-all"],
        };
        let value = self
            .call(reqwest::Method::POST, &segments, token, None, 200)
            .await?;
        value
            .get("marked")
            .and_then(Value::as_u64)
            .ok_or_else(|| self.protocol("the answer has no `marked` count"))
    }

    /// The session user's notification channels (never their tokens).
    pub async fn notification_channels(&self, token: &Secret) -> Result<Vec<Value>, SyncError> {
        let value = self
            .call(
                reqwest::Method::GET,
                &["api", "v1", "notifications", "channels"],
                token,
                None,
                200,
            )
            .await?;
        self.items(value)
    }

    /// Adds a channel (`{"kind", "address", "token"?}`) for the session's user; the
    /// answer says whether a token is set, never the token.
    pub async fn add_notification_channel(
        &self,
        token: &Secret,
        body: &Value,
    ) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::POST,
            &["api", "v1", "notifications", "channels"],
            token,
            Some(body.clone()),
            201,
        )
        .await
    }

    pub async fn remove_notification_channel(
        &self,
        token: &Secret,
        id: &str,
    ) -> Result<(), SyncError> {
        self.call(
            reqwest::Method::DELETE,
            &["api", "v1", "notifications", "channels", id],
            token,
            None,
            204,
        )
        .await
        .map(drop)
    }

    /// The session user's preferences: per event type the channels it reaches and
    /// whether that is the default, the channel names, and the digest.
    pub async fn notification_preferences(&self, token: &Secret) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::GET,
            &["api", "v1", "notifications", "preferences"],
            token,
            None,
            200,
        )
        .await
    }

    /// Replaces the session user's preferences (`{"events": {TYPE: [CHANNEL…]},
    /// "digest": {"at", "zone"}|null}`); the preferences as saved.
    pub async fn set_notification_preferences(
        &self,
        token: &Secret,
        body: &Value,
    ) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::PUT,
            &["api", "v1", "notifications", "preferences"],
            token,
            Some(body.clone()),
            200,
        )
        .await
    }

    /// The workspace's webhook endpoints (never their secrets).
    pub async fn webhooks(&self, token: &Secret) -> Result<Vec<Value>, SyncError> {
        self.list(token, "webhooks").await
    }

    /// Adds an endpoint for `events`; the answer holds its `whsec_` secret, shown once.
    pub async fn add_webhook(
        &self,
        token: &Secret,
        url: &str,
        events: &[String],
        description: Option<&str>,
    ) -> Result<Value, SyncError> {
        let body = json!({ "url": url, "events": events, "description": description });
        self.create(token, "webhooks", body).await
    }

    /// The workspace's accounts as the server has them now (`GET /api/v1/accounts`): name
    /// and network, never credentials.
    pub async fn accounts(&self, token: &Secret) -> Result<Vec<ServerAccount>, SyncError> {
        self.list(token, "accounts")
            .await?
            .into_iter()
            .map(|item| {
                serde_json::from_value(item)
                    .map_err(|e| self.protocol(format!("an account of the workspace: {e}")))
            })
            .collect()
    }

    /// Adds an account to the session's workspace (`POST /api/v1/accounts`): `body` as the
    /// API takes it, credentials included; the answer never holds them.
    pub async fn add_account(&self, token: &Secret, body: &Value) -> Result<Value, SyncError> {
        self.create(token, "accounts", body.clone()).await
    }

    pub async fn remove_webhook(&self, token: &Secret, id: &str) -> Result<(), SyncError> {
        self.remove(token, "webhooks", id).await
    }

    /// Enables an endpoint (its failures forgotten) or disables it; the endpoint as it is
    /// now.
    pub async fn set_webhook_enabled(
        &self,
        token: &Secret,
        id: &str,
        enabled: bool,
    ) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::PATCH,
            &["api", "v1", "webhooks", id],
            token,
            Some(json!({ "enabled": enabled })),
            200,
        )
        .await
    }

    /// Queues a `ping` event for the endpoint; the pending delivery.
    pub async fn ping_webhook(&self, token: &Secret, id: &str) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::POST,
            &["api", "v1", "webhooks", id, "ping"],
            token,
            None,
            202,
        )
        .await
    }

    /// The endpoint's deliveries, newest first, with their attempts (one page of `limit`).
    pub async fn webhook_deliveries(
        &self,
        token: &Secret,
        id: &str,
        limit: u32,
    ) -> Result<Vec<Value>, SyncError> {
        let mut url = self.url_of(&["api", "v1", "webhooks", id, "deliveries"])?;
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        let (status, value, problem) = self
            .send(self.http.get(url).bearer_auth(token.expose()))
            .await?;
        if status != 200 {
            return Err(self.failed(status, problem));
        }
        self.items(value)
    }

    /// Sends a delivery's event again, as a new delivery; the new delivery.
    pub async fn redeliver(&self, token: &Secret, delivery: &str) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::POST,
            &["api", "v1", "deliveries", delivery, "redeliver"],
            token,
            None,
            202,
        )
        .await
    }

    /// The workspace's triggers (never their secrets).
    pub async fn triggers(&self, token: &Secret) -> Result<Vec<Value>, SyncError> {
        self.list(token, "triggers").await
    }

    /// Makes a trigger (`{"kind", "template", "accounts", "prereleases", "queue"}`); a GitHub
    /// trigger's answer holds its secret, shown once.
    pub async fn add_trigger(&self, token: &Secret, body: Value) -> Result<Value, SyncError> {
        self.create(token, "triggers", body).await
    }

    pub async fn remove_trigger(&self, token: &Secret, id: &str) -> Result<(), SyncError> {
        self.remove(token, "triggers", id).await
    }

    /// The workspace's RSS and Atom feeds.
    pub async fn feeds(&self, token: &Secret) -> Result<Vec<Value>, SyncError> {
        self.list(token, "feeds").await
    }

    /// Watches a feed (`{"url", "template", "accounts", "queue"}`).
    pub async fn add_feed(&self, token: &Secret, body: Value) -> Result<Value, SyncError> {
        self.create(token, "feeds", body).await
    }

    pub async fn remove_feed(&self, token: &Secret, id: &str) -> Result<(), SyncError> {
        self.remove(token, "feeds", id).await
    }

    /// The queue slots of the workspace's accounts that have some, each with its next free
    /// times (`{"account", "rules", "tz", "next_free"}`).
    pub async fn queue_slots(&self, token: &Secret) -> Result<Vec<Value>, SyncError> {
        self.list(token, "queue").await
    }

    /// Sets a server account's weekly queue slots (`account`: its name or id); the slots
    /// as the server keeps them.
    pub async fn set_queue_slots(
        &self,
        token: &Secret,
        account: &str,
        rules: &str,
        tz: &str,
    ) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::PUT,
            &["api", "v1", "accounts", account, "queue"],
            token,
            Some(serde_json::json!({ "rules": rules, "tz": tz })),
            200,
        )
        .await
    }

    /// Schedules a post the server has (pushed by a sync) at the next free slot of its
    /// first account's queue, decided by the server as it writes the post (`POST
    /// /api/v1/posts/{id}/schedule` with `"queue": true`); the post with its targets.
    pub async fn schedule_queued(&self, token: &Secret, post_id: &str) -> Result<Value, SyncError> {
        self.call(
            reqwest::Method::POST,
            &["api", "v1", "posts", post_id, "schedule"],
            token,
            Some(serde_json::json!({ "queue": true })),
            200,
        )
        .await
    }

    /// Removes a server account's queue slots; false if it had none.
    pub async fn clear_queue_slots(
        &self,
        token: &Secret,
        account: &str,
    ) -> Result<bool, SyncError> {
        let request = self
            .http
            .request(
                reqwest::Method::DELETE,
                self.url_of(&["api", "v1", "accounts", account, "queue"])?,
            )
            .bearer_auth(token.expose());
        let (status, _, problem) = self.send(request).await?;
        match status {
            204 => Ok(true),
            // The account exists (the caller listed it) and has no slots.
            404 => Ok(false),
            _ => Err(self.failed(status, problem)),
        }
    }
}
