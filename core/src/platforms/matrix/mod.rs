//! Matrix (client-server API v3), with the account's access token as a Bearer token.
//!
//! A part becomes one `m.image` (or `m.video`, `m.file`) event per media file, uploaded
//! first to the homeserver's media repository, then one `m.text` event with the plain
//! `body` and the HTML `formatted_body`. Events are sent with
//! `PUT /rooms/{room}/send/m.room.message/{txnId}`, and the homeserver answers a repeated
//! transaction id with the event it already made: the part's idempotency key is the text
//! event's txnId and, with a suffix, each media event's, so a retried part never posts
//! twice. (Repeated uploads only leave an unused file on the server.)
//!
//! In a thread every event of a part replies (`m.in_reply_to`) to the text event of the
//! previous part, which is the event the part is known by. A room alias (`#a:b`) is
//! resolved to its room id once per adapter.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::http::{Answer, endpoint, excerpt, read_media};
use super::metrics::reaction;
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Http, Idempotency, MediaFile, Metrics, Part,
    Platform, PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::network::Network;
use crate::secrets::Secret;
use crate::text::{Counting, Format, TextLimit};

/// The whole event must stay under 65,536 bytes of canonical JSON, signatures included.
/// The body and the HTML are counted in bytes as written; the event adds their JSON
/// escapes (a newline or a quote is two bytes), the content's keys, and the room, sender,
/// ids, hashes and signatures the homeserver puts around it: 60,000 leaves room for those.
const TEXT_LIMIT_BYTES: usize = 60_000;
const MAX_MEDIA: usize = 10;
/// Synapse's default `max_upload_size`; each server says its own in `/media/config`.
const MAX_UPLOAD_BYTES: u64 = 50_000_000;

/// What Matrix takes.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: TEXT_LIMIT_BYTES,
        counting: Counting::Utf8Bytes,
    },
    format: Format::MatrixHtml,
    max_media: MAX_MEDIA,
    max_image_bytes: MAX_UPLOAD_BYTES,
    threads: true,
    // Transaction ids: a repeat within the access token's life is the same event.
    idempotency: Idempotency::Always,
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: None,
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| boxed(Matrix::new(account, secret, tools.http))),
};

pub struct Matrix {
    /// The commands that set the account up again, for credential errors.
    again: String,
    account: String,
    base: String,
    token: Secret,
    /// The room as the account was added: `!id:server` or `#alias:server`.
    room: String,
    room_id: OnceCell<String>,
    http: Http,
}

impl Matrix {
    pub fn new(account: &Account, secret: Secret, http: Http) -> Result<Self, PublishError> {
        let broken = || {
            PublishError::permanent(format!(
                "the Matrix account {:?} is missing its homeserver or room; add it again, e.g. {}",
                account.name,
                Network::Matrix.example_add_command()
            ))
        };
        let base = account.base_url.clone().ok_or_else(broken)?;
        endpoint(&base, &[])?;
        let room = account
            .settings
            .get("room")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .ok_or_else(broken)?
            .to_owned();
        Ok(Matrix {
            again: crate::network::add_again_command(account),
            account: account.name.clone(),
            base,
            token: secret,
            room,
            room_id: OnceCell::new(),
            http,
        })
    }
}

impl Adapter for Matrix {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    /// `whoami` names the account; the room is resolved too, so a mistyped alias shows
    /// up here rather than at the first post.
    async fn verify(&self) -> Result<Verified, PublishError> {
        let url = self.client_api(&["account", "whoami"])?;
        let answer = self.send(self.http.client().get(url)).await?;
        let me = self.ok_json(&answer)?;
        let user = me
            .get("user_id")
            .and_then(Value::as_str)
            .unwrap_or("(unknown user)")
            .to_owned();
        self.room_id().await?;
        Ok(Verified { identity: user })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        if part.media.len() > MAX_MEDIA {
            return Err(PublishError::permanent(format!(
                "postctl sends at most {MAX_MEDIA} files per Matrix post; this part has {}",
                part.media.len()
            )));
        }
        let room_id = self.room_id().await?;
        let relates_to = part
            .reply_to
            .as_ref()
            .map(|previous| json!({ "m.in_reply_to": { "event_id": previous.id } }));
        let mut event_ids = Vec::new();
        for (i, file) in part.media.iter().enumerate() {
            let uri = self.upload(file).await?;
            let mut content = media_event(file, &uri);
            if let Some(relates_to) = &relates_to {
                content["m.relates_to"] = relates_to.clone();
            }
            let txn = format!("{}.media{i}", part.idempotency_key);
            event_ids.push(self.send_event(&room_id, &txn, &content).await?);
        }
        let text = &part.rendered;
        if !text.text.trim().is_empty() || part.media.is_empty() {
            let mut content = json!({ "msgtype": "m.text", "body": text.text });
            if let Some(html) = &text.html {
                content["format"] = json!("org.matrix.custom.html");
                content["formatted_body"] = json!(html);
            }
            if let Some(relates_to) = &relates_to {
                content["m.relates_to"] = relates_to.clone();
            }
            event_ids.push(
                self.send_event(&room_id, &part.idempotency_key, &content)
                    .await?,
            );
        }
        // The text event when there is one (it is last), else the last media event.
        let main = event_ids.last().cloned().unwrap_or_default();
        let mut extra = json!({ "room_id": room_id });
        if event_ids.len() > 1 {
            extra["event_ids"] = json!(event_ids);
        }
        Ok(Published {
            url: Some(format!(
                "https://matrix.to/#/{}/{}",
                uri_component(&self.room),
                uri_component(&main)
            )),
            id: main,
            extra,
        })
    }

    /// Redacts every event of the part (idempotent too: the txnId is derived from the
    /// event). An event that is already gone counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let room_id = match published.extra.get("room_id").and_then(Value::as_str) {
            Some(room_id) => room_id.to_owned(),
            None => self.room_id().await?,
        };
        let mut events: Vec<String> = published
            .extra
            .get("event_ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if events.is_empty() {
            events.push(published.id.clone());
        }
        for event in events {
            let txn = format!("postctl-redact-{event}");
            let url = self.client_api(&["rooms", &room_id, "redact", &event, &txn])?;
            let answer = self
                .send(self.http.client().put(url).json(&json!({})))
                .await?;
            if !answer.is_success() && errcode(&answer).as_deref() != Some("M_NOT_FOUND") {
                return Err(self.error(&answer));
            }
        }
        Ok(())
    }
    /// The `m.annotation` relations of each part's text event (`/_matrix/client/v1/.../
    /// relations`), counted by key (the emoji), following `next_batch`; M_NOT_FOUND means
    /// the event is gone. No views: Matrix has none.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let room_id = match post.extra.get("room_id").and_then(Value::as_str) {
                Some(room_id) => room_id.to_owned(),
                None => self.room_id().await?,
            };
            let base = [
                "_matrix",
                "client",
                "v1",
                "rooms",
                &room_id,
                "relations",
                &post.id,
                "m.annotation",
            ];
            let mut counters = Counters::new();
            let mut from: Option<String> = None;
            let mut deleted = false;
            for _ in 0..RELATION_PAGES {
                let mut url = endpoint(&self.base, &base)?;
                url.query_pairs_mut().append_pair("limit", "100");
                if let Some(from) = &from {
                    url.query_pairs_mut().append_pair("from", from);
                }
                let answer = self.send(self.http.client().get(url)).await?;
                if answer.status == 404 && errcode(&answer).as_deref() == Some("M_NOT_FOUND") {
                    deleted = true;
                    break;
                }
                let page = self.ok_json(&answer)?;
                for event in page["chunk"].as_array().into_iter().flatten() {
                    if let Some(key) = event["content"]["m.relates_to"]["key"].as_str() {
                        *counters.entry(reaction(key)).or_default() += 1;
                    }
                }
                from = page["next_batch"].as_str().map(str::to_owned);
                if from.is_none() {
                    break;
                }
            }
            readings.push(if deleted {
                PostReading::Deleted
            } else {
                PostReading::Counted(counters)
            });
        }
        Ok(Metrics::Read(readings))
    }

    /// `joined_members` of the room: how many are in it.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let room_id = self.room_id().await?;
        let url = self.client_api(&["rooms", &room_id, "joined_members"])?;
        let answer = self.send(self.http.client().get(url)).await?;
        let members = self.ok_json(&answer)?;
        let mut counters = Counters::new();
        if let Some(joined) = members["joined"].as_object() {
            counters.insert("members".into(), joined.len() as u64);
        }
        Ok(Metrics::Read(counters))
    }
}

/// Pages of reactions read per event at most (100 each): beyond that the count stops.
const RELATION_PAGES: usize = 20;

impl Matrix {
    /// The room id, resolving an alias with the room directory the first time.
    async fn room_id(&self) -> Result<String, PublishError> {
        self.room_id
            .get_or_try_init(|| async {
                if !self.room.starts_with('#') {
                    return Ok(self.room.clone());
                }
                let url = self.client_api(&["directory", "room", &self.room])?;
                let answer = self.send(self.http.client().get(url)).await?;
                let found = self.ok_json(&answer)?;
                found
                    .get("room_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        PublishError::permanent(format!(
                            "the homeserver did not resolve the room alias {}",
                            self.room
                        ))
                    })
            })
            .await
            .cloned()
    }

    async fn upload(&self, file: &MediaFile) -> Result<String, PublishError> {
        let bytes = read_media(file).await?;
        let mut url = endpoint(&self.base, &["_matrix", "media", "v3", "upload"])?;
        url.query_pairs_mut()
            .append_pair("filename", &file.file_name);
        let request = self
            .http
            .client()
            .post(url)
            .header(CONTENT_TYPE, &file.mime)
            .body(bytes);
        let answer = self.send(request).await?;
        let uploaded = self.ok_json(&answer)?;
        uploaded
            .get("content_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                PublishError::maybe_sent(
                    format!(
                        "the homeserver answered the upload of {} without a content URI",
                        file.file_name
                    ),
                    Some(answer.status),
                )
            })
    }

    async fn send_event(
        &self,
        room_id: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, PublishError> {
        let url = self.client_api(&["rooms", room_id, "send", "m.room.message", txn])?;
        let answer = self.send(self.http.client().put(url).json(content)).await?;
        let sent = self.ok_json(&answer)?;
        sent.get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                PublishError::maybe_sent(
                    "the homeserver answered without the event id; will retry (the transaction id makes that safe)",
                    Some(answer.status),
                )
            })
    }

    fn client_api(&self, segments: &[&str]) -> Result<reqwest::Url, PublishError> {
        let mut all = vec!["_matrix", "client", "v3"];
        all.extend_from_slice(segments);
        endpoint(&self.base, &all)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, PublishError> {
        let request = request.bearer_auth(self.token.expose());
        self.http.exchange(&self.account, request).await
    }

    fn ok_json(&self, answer: &Answer) -> Result<Value, PublishError> {
        if !answer.is_success() {
            return Err(self.error(answer));
        }
        answer.json().ok_or_else(|| {
            PublishError::maybe_sent(
                format!(
                    "the homeserver answered HTTP {} with a body that is not JSON",
                    answer.status
                ),
                Some(answer.status),
            )
        })
    }

    fn error(&self, answer: &Answer) -> PublishError {
        let status = answer.status;
        let body = answer.json().unwrap_or(Value::Null);
        let code = body.get("errcode").and_then(Value::as_str).unwrap_or("");
        let said = match body.get("error").and_then(Value::as_str) {
            Some(error) if !code.is_empty() => format!("{code}: {}", excerpt(error)),
            Some(error) => excerpt(error),
            None if !code.is_empty() => code.to_owned(),
            None => format!("HTTP {status}"),
        };
        let room = &self.room;
        let permanent = |message: String| PublishError::Permanent {
            message,
            status: Some(status),
        };
        match (status, code) {
            (429, _) | (_, "M_LIMIT_EXCEEDED") => PublishError::Retryable {
                message: format!(
                    "the homeserver is rate limiting this account ({said}); will retry"
                ),
                retry_after: answer.retry_after().or_else(|| {
                    body.get("retry_after_ms")
                        .and_then(Value::as_u64)
                        .map(std::time::Duration::from_millis)
                }),
                maybe_sent: false,
                status: Some(status),
            },
            (401, _) | (_, "M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN") => PublishError::Auth {
                message: format!(
                    "the homeserver rejected the access token ({said}); log in again, then add the account with the new token: `{again}`",
                    again = self.again
                ),
                status: Some(status),
            },
            (403, _) => permanent(format!(
                "the account may not post in {room} ({said}); join the room with it, and check it has the power level to send messages"
            )),
            (404, _) => permanent(format!(
                "the room {room} or the event was not found ({said}); check the room, and add the account again with the right --room"
            )),
            (413, _) | (_, "M_TOO_LARGE") => permanent(format!(
                "the homeserver refused it as too large ({said}); use smaller files or a shorter post"
            )),
            (500..=599, _) => PublishError::Retryable {
                message: format!("the homeserver had a server error ({said}); will retry"),
                retry_after: answer.retry_after(),
                maybe_sent: true,
                status: Some(status),
            },
            _ => permanent(format!("the homeserver refused the request ({said})")),
        }
    }
}

fn errcode(answer: &Answer) -> Option<String> {
    Some(answer.json()?.get("errcode")?.as_str()?.to_owned())
}

/// An `m.image` / `m.video` / `m.file` event for an uploaded file. `body` is the alt
/// text, which clients show to screen readers, or the file name.
fn media_event(file: &MediaFile, uri: &str) -> Value {
    let msgtype = if file.mime.starts_with("image/") {
        "m.image"
    } else if file.mime.starts_with("video/") {
        "m.video"
    } else {
        "m.file"
    };
    let mut info = json!({ "mimetype": file.mime, "size": file.size });
    if let Some(w) = file.width {
        info["w"] = json!(w);
    }
    if let Some(h) = file.height {
        info["h"] = json!(h);
    }
    json!({
        "msgtype": msgtype,
        "body": file.alt.clone().unwrap_or_else(|| file.file_name.clone()),
        "filename": file.file_name,
        "url": uri,
        "info": info,
    })
}

/// Percent-encodes an identifier for a matrix.to link, as the spec's examples do
/// (`#a:b` is `%23a%3Ab`, `$e` is `%24e`).
fn uri_component(s: &str) -> String {
    let mut out = String::new();
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'!') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_server::{Reply, Request, TestServer};
    use super::*;
    use crate::text::Rendered;

    const TOKEN: &str = "syt_matrix_secret_token";

    fn adapter(base: &str, room: &str) -> Matrix {
        let account = Account {
            id: "a1".into(),
            name: "matrix".into(),
            network: Network::Matrix,
            base_url: Some(base.into()),
            handle: None,
            settings: json!({ "room": room }),
            secret_ref: "env:MX".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        };
        let http = Http::new(std::time::Duration::from_secs(5)).expect("client");
        Matrix::new(&account, Secret::new(TOKEN.into()), http).expect("adapter")
    }

    fn part(key: &str, reply_to: Option<&str>, media: Vec<MediaFile>) -> Part {
        Part {
            index: 0,
            rendered: Rendered {
                text: "Shipped v1.2".into(),
                html: Some("<strong>Shipped</strong> v1.2".into()),
                facets: vec![],
            },
            media,
            idempotency_key: key.into(),
            stage: Default::default(),
            reply_to: reply_to.map(|id| Published {
                id: id.into(),
                url: None,
                extra: Value::Null,
            }),
            root: None,
        }
    }

    /// A homeserver that resolves `#announce:example.org`, stores uploads and answers a
    /// repeated transaction id with the same event, as the spec says.
    fn homeserver() -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
        let sent = std::sync::Mutex::new(Vec::<String>::new());
        move |request: &Request| {
            let path = request.path_only();
            if path == "/_matrix/client/v3/directory/room/%23announce:example.org" {
                return Reply::json(200, json!({"room_id": "!room1:example.org", "servers": []}));
            }
            if path == "/_matrix/media/v3/upload" {
                return Reply::json(200, json!({"content_uri": "mxc://example.org/abc"}));
            }
            if path == "/_matrix/client/v3/account/whoami" {
                return Reply::json(200, json!({"user_id": "@bot:example.org"}));
            }
            if let Some(txn) = path
                .strip_prefix("/_matrix/client/v3/rooms/!room1:example.org/send/m.room.message/")
            {
                let mut sent = sent.lock().expect("lock");
                let n = match sent.iter().position(|t| t == txn) {
                    Some(n) => n,
                    None => {
                        sent.push(txn.to_owned());
                        sent.len() - 1
                    }
                };
                return Reply::json(200, json!({"event_id": format!("$ev{n}")}));
            }
            if path.contains("/redact/") {
                return Reply::json(200, json!({"event_id": "$redaction"}));
            }
            Reply::json(
                404,
                json!({"errcode": "M_UNRECOGNIZED", "error": "no such endpoint"}),
            )
        }
    }

    #[tokio::test]
    async fn text_event_with_html_reply_and_transaction_id() {
        let server = TestServer::start(homeserver()).await;
        let mx = adapter(&server.url(), "#announce:example.org");
        let published = mx
            .publish(&part("target-1:1", Some("$previous"), vec![]))
            .await
            .expect("published");
        assert_eq!(published.id, "$ev0");
        assert_eq!(
            published.url.as_deref(),
            Some("https://matrix.to/#/%23announce%3Aexample.org/%24ev0")
        );
        assert_eq!(published.extra, json!({"room_id": "!room1:example.org"}));

        let requests = server.requests();
        assert_eq!(requests.len(), 2, "alias lookup, then the event");
        let send = &requests[1];
        assert_eq!(send.method, "PUT");
        assert_eq!(
            send.path,
            "/_matrix/client/v3/rooms/!room1:example.org/send/m.room.message/target-1:1"
        );
        assert_eq!(
            send.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            send.json(),
            json!({
                "msgtype": "m.text",
                "body": "Shipped v1.2",
                "format": "org.matrix.custom.html",
                "formatted_body": "<strong>Shipped</strong> v1.2",
                "m.relates_to": {"m.in_reply_to": {"event_id": "$previous"}},
            })
        );

        // A retried part reuses its transaction id: same event, alias not looked up again.
        let again = mx
            .publish(&part("target-1:1", Some("$previous"), vec![]))
            .await
            .expect("published again");
        assert_eq!(again.id, "$ev0");
        assert_eq!(server.requests().len(), 3);
    }

    #[tokio::test]
    async fn images_are_uploaded_and_sent_before_the_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chart.png");
        std::fs::write(&path, b"png bytes").expect("write");
        let media = vec![MediaFile {
            path,
            file_name: "chart.png".into(),
            mime: "image/png".into(),
            size: 9,
            width: Some(640),
            height: Some(480),
            alt: Some("weekly downloads".into()),
        }];
        let server = TestServer::start(homeserver()).await;
        let published = adapter(&server.url(), "!room1:example.org")
            .publish(&part("t2:0", None, media))
            .await
            .expect("published");
        assert_eq!(published.id, "$ev1", "the part is known by its text event");
        assert_eq!(published.extra["event_ids"], json!(["$ev0", "$ev1"]));

        let requests = server.requests();
        assert_eq!(
            requests[0].path,
            "/_matrix/media/v3/upload?filename=chart.png"
        );
        assert_eq!(requests[0].header("content-type"), Some("image/png"));
        assert_eq!(requests[0].body, b"png bytes");
        assert!(
            requests[1]
                .path
                .ends_with("/send/m.room.message/t2:0.media0")
        );
        assert_eq!(
            requests[1].json(),
            json!({
                "msgtype": "m.image",
                "body": "weekly downloads",
                "filename": "chart.png",
                "url": "mxc://example.org/abc",
                "info": {"mimetype": "image/png", "size": 9, "w": 640, "h": 480},
            })
        );
        assert!(requests[2].path.ends_with("/send/m.room.message/t2:0"));
    }

    #[tokio::test]
    async fn errors_are_classified_and_never_show_the_token() {
        let cases = [
            (
                Reply::json(
                    401,
                    json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token", "soft_logout": false}),
                ),
                "auth",
                "log in again",
            ),
            (
                Reply::json(
                    403,
                    json!({"errcode": "M_FORBIDDEN", "error": "User not in room"}),
                ),
                "permanent",
                "join the room",
            ),
            (
                Reply::json(
                    429,
                    json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2500}),
                ),
                "retry 2500ms",
                "rate limiting",
            ),
            (
                Reply::json(429, json!({"errcode": "M_LIMIT_EXCEEDED"})).header("retry-after", "4"),
                "retry 4000ms",
                "rate limiting",
            ),
            (
                Reply::text(502, "bad gateway"),
                "retry maybe sent",
                "server error",
            ),
            (Reply::hang_up(), "retry maybe sent", ""),
        ];
        for (reply, want, says) in cases {
            let server = TestServer::sequence(vec![reply]).await;
            let err = adapter(&server.url(), "!room1:example.org")
                .publish(&part("k", None, vec![]))
                .await
                .expect_err("an error");
            let got = crate::platforms::test_server::class(&err);
            assert_eq!(got, want, "{err}");
            assert!(err.to_string().contains(says), "{err}");
            assert!(!format!("{err} {err:?}").contains(TOKEN), "{err:?}");
        }
    }

    #[tokio::test]
    async fn an_unknown_alias_is_permanent() {
        let server = TestServer::sequence(vec![Reply::json(
            404,
            json!({"errcode": "M_NOT_FOUND", "error": "Room alias not found"}),
        )])
        .await;
        let err = adapter(&server.url(), "#nope:example.org")
            .publish(&part("k", None, vec![]))
            .await
            .expect_err("an error");
        assert!(matches!(err, PublishError::Permanent { .. }), "{err}");
        assert!(err.to_string().contains("#nope:example.org"), "{err}");
    }

    #[tokio::test]
    async fn verify_and_delete() {
        let server = TestServer::start(homeserver()).await;
        let mx = adapter(&server.url(), "#announce:example.org");
        assert_eq!(
            mx.verify().await.expect("verified").identity,
            "@bot:example.org"
        );
        let published = Published {
            id: "$ev1".into(),
            url: None,
            extra: json!({"room_id": "!room1:example.org", "event_ids": ["$ev0", "$ev1"]}),
        };
        mx.delete(&published).await.expect("deleted");
        let redactions: Vec<String> = server
            .requests()
            .iter()
            .filter(|r| r.path.contains("/redact/"))
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(
            redactions,
            [
                "/_matrix/client/v3/rooms/!room1:example.org/redact/$ev0/postctl-redact-$ev0",
                "/_matrix/client/v3/rooms/!room1:example.org/redact/$ev1/postctl-redact-$ev1",
            ]
        );
    }

    fn relations(request: &Request) -> Reply {
        let path = request.path.as_str();
        let reaction = |key: &str| {
            json!({"type": "m.reaction", "content": {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": "$ev1", "key": key}}})
        };
        if path
            .starts_with("/_matrix/client/v1/rooms/!room1:example.org/relations/$ev1/m.annotation")
        {
            if path.contains("from=page2") {
                Reply::json(200, json!({"chunk": [reaction("👍")]}))
            } else {
                Reply::json(
                    200,
                    json!({"chunk": [reaction("👍"), reaction("🚀")], "next_batch": "page2"}),
                )
            }
        } else if path.starts_with("/_matrix/client/v3/rooms/!room1:example.org/joined_members") {
            Reply::json(
                200,
                json!({"joined": {"@a:example.org": {}, "@b:example.org": {}, "@bot:example.org": {}}}),
            )
        } else {
            Reply::json(
                404,
                json!({"errcode": "M_NOT_FOUND", "error": "Event not found"}),
            )
        }
    }

    #[tokio::test]
    async fn reactions_are_counted_by_key_across_pages_and_members_by_who_joined() {
        let server = TestServer::start(relations).await;
        let mx = adapter(&server.url(), "!room1:example.org");
        let event = |id: &str| Published {
            id: id.into(),
            url: None,
            extra: json!({"room_id": "!room1:example.org"}),
        };
        let read = mx
            .post_metrics(&[event("$ev1"), event("$gone")])
            .await
            .expect("read");
        let counters: Counters = [("reaction:👍", 2), ("reaction:🚀", 1)]
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        assert_eq!(
            read,
            Metrics::Read(vec![PostReading::Counted(counters), PostReading::Deleted])
        );
        assert_eq!(
            mx.account_metrics().await.expect("members"),
            Metrics::Read([("members".to_string(), 3)].into_iter().collect())
        );
    }
}
