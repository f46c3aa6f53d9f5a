//! Telegram, through the user's own bot (Bot API): `{base}/bot{token}/{method}`.
//!
//! The bot token is in every URL path, so no URL is ever put in a message here
//! (`http::transport_error` redacts paths in transport errors).
//!
//! A part becomes:
//! - text only: `sendMessage` with `parse_mode: "HTML"`;
//! - one file: `sendPhoto` / `sendVideo` / `sendAnimation` / `sendDocument` with the text as
//!   its caption;
//! - 2–10 photos or videos: `sendMediaGroup`, the caption on the first item.
//!
//! Captions take 1,024 characters where messages take 4,096. When the text is longer than
//! a caption can be, the text is sent first as a message, then the media as a reply to
//! it: a rejected text (the usual 400s: markup, length) then stops the part before
//! anything is posted, and readers see the words first. The part is known by the text
//! message (its id, its link, what the next part replies to); `extra.message_ids` lists
//! every message so `delete` removes them all. Should the media fail after the text went
//! out, the error says so, and a retryable failure is marked `maybe_sent` so the engine
//! never posts the text twice (Telegram has no idempotency).

use reqwest::multipart::Form;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::http::{Answer, api_base, endpoint, media_part};
use super::metrics::reaction;
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Http, Idempotency, MediaFile, Metrics, Part,
    Platform, PostMetrics, PostReading, PublishError, Published, PushedReactions, UpdateInbox,
    Verified, boxed,
};
use crate::model::Account;
use crate::network::Network;
use crate::secrets::Secret;
use crate::text::{Counting, Format, TextLimit, measure};

/// Bot API limits (code points of the text after HTML parsing).
const MESSAGE_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;
/// The cloud Bot API takes photos up to 10 MB.
const MAX_PHOTO_BYTES: u64 = 10_000_000;
const MAX_ALBUM: usize = 10;

/// What Telegram takes.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: MESSAGE_LIMIT,
        counting: Counting::CodePoints,
    },
    format: Format::TelegramHtml,
    max_media: MAX_ALBUM,
    max_image_bytes: MAX_PHOTO_BYTES,
    threads: true,
    idempotency: Idempotency::None,
};

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    sign_in: None,
    capabilities: |_| DEFAULTS,
    open: Some(|account, secret, tools| {
        boxed(Telegram::new(account, secret, tools.http, tools.inbox))
    }),
};

pub struct Telegram {
    account: String,
    base: String,
    token: Secret,
    /// `@channelname` or a numeric id, as the account was added.
    chat: String,
    http: Http,
    /// The account as stored, for hints that set it up again.
    stored: Account,
    /// Where the bot's updates (reaction counts) are kept between runs.
    inbox: std::sync::Arc<dyn UpdateInbox>,
}

/// One message as the Bot API returned it: what a link and a delete need.
struct Sent {
    message_id: i64,
    chat_id: Value,
    username: Option<String>,
}

impl Telegram {
    pub fn new(
        account: &Account,
        secret: Secret,
        http: Http,
        inbox: std::sync::Arc<dyn UpdateInbox>,
    ) -> Result<Self, PublishError> {
        let base = api_base(account)?;
        let chat = account
            .settings
            .get("chat")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                PublishError::permanent(format!(
                    "the Telegram account {:?} has no chat to post to; add it again with --chat, e.g. {}",
                    account.name,
                    Network::Telegram.example_add_command()
                ))
            })?
            .to_owned();
        Ok(Telegram {
            account: account.name.clone(),
            base,
            token: secret,
            chat,
            http,
            stored: account.clone(),
            inbox,
        })
    }
}

impl Adapter for Telegram {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    /// `getMe`: the bot's @username.
    async fn verify(&self) -> Result<Verified, PublishError> {
        let me = self.call("getMe", Body::Json(json!({}))).await?;
        let name = me
            .get("username")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("getMe"))?;
        Ok(Verified {
            identity: format!("@{name}"),
        })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        check_media(&part.media)?;
        let text = part.rendered.text.as_str();
        let reply_to = match &part.reply_to {
            Some(previous) => Some(message_id(&previous.id)?),
            None => None,
        };
        if part.media.is_empty() {
            let sent = self.send_text(text, reply_to).await?;
            return Ok(self.published(&sent, &[]));
        }
        if measure(&part.rendered, Format::TelegramHtml, Counting::CodePoints) <= CAPTION_LIMIT {
            let sent = self.send_media(&part.media, Some(text), reply_to).await?;
            let ids: Vec<i64> = sent.iter().map(|s| s.message_id).collect();
            return Ok(self.published(&sent[0], &ids));
        }
        let first = self.send_text(text, reply_to).await?;
        let media = self
            .send_media(&part.media, None, Some(first.message_id))
            .await
            .map_err(|e| partly_sent(e, first.message_id))?;
        let mut ids = vec![first.message_id];
        ids.extend(media.iter().map(|s| s.message_id));
        Ok(self.published(&first, &ids))
    }

    /// `deleteMessage` for every message of the part. A message that is already gone
    /// counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        let chat = published
            .extra
            .get("chat_id")
            .cloned()
            .unwrap_or_else(|| json!(self.chat));
        let mut ids: Vec<i64> = published
            .extra
            .get("message_ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            ids.push(message_id(&published.id)?);
        }
        for id in ids {
            let body = json!({ "chat_id": chat, "message_id": id });
            match self.call("deleteMessage", Body::Json(body)).await {
                Ok(_) => {}
                Err(PublishError::Permanent { message, .. })
                    if message.contains("message to delete not found") => {}
                Err(PublishError::Permanent { message, status }) => {
                    return Err(PublishError::Permanent {
                        message: format!(
                            "{message} (Telegram lets a bot delete its messages only within 48 hours; older ones must be deleted in the app)"
                        ),
                        status,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    /// The Bot API has no way to ask for a message's views or reactions:
    /// reaction counts come as `message_reaction_count` updates, sent to a bot that is an
    /// administrator of the channel and asks for them in `allowed_updates`. So: check the
    /// bot is an administrator (`getChatMember`), read the updates waiting since the last
    /// run (`getUpdates` from the offset kept in the store, each kept before it is
    /// confirmed by asking past it), then answer each post from the counts kept. A post
    /// no update has named has no reactions since postctl began listening.
    ///
    /// A bot with a webhook gets its updates there, and `getUpdates` is refused (409):
    /// postctl leaves another program's webhook alone and says so.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        if !self.is_admin().await? {
            return Ok(Metrics::NotProvided(NOT_ADMIN));
        }
        if let Some(why) = self.read_updates().await? {
            return Ok(Metrics::NotProvided(why));
        }
        let messages = posts
            .iter()
            .map(|p| {
                let chat = p
                    .extra
                    .get("chat_id")
                    .and_then(chat_id_text)
                    .unwrap_or_else(|| self.chat.clone());
                Ok((chat, message_id(&p.id)?))
            })
            .collect::<Result<Vec<_>, PublishError>>()?;
        let kept = self.inbox.reactions(&messages).map_err(kept_error)?;
        Ok(Metrics::Read(
            kept.into_iter()
                .map(|counters| PostReading::Counted(counters.unwrap_or_default()))
                .collect(),
        ))
    }

    /// `getChatMemberCount`: the channel's or group's subscribers.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let count = self
            .call(
                "getChatMemberCount",
                Body::Json(json!({ "chat_id": self.chat })),
            )
            .await?;
        let mut counters = Counters::new();
        if let Some(members) = count.as_u64() {
            counters.insert("members".into(), members);
        }
        Ok(Metrics::Read(counters))
    }
}

/// Why a bot that is no administrator of its chat gets no reaction counts.
const NOT_ADMIN: &str = "the Telegram Bot API has no view counter, and sends reaction counts only to a bot that is an administrator of the channel; make the bot an admin to have them counted";
/// Why a bot with a webhook gets no reaction counts from postctl.
const WEBHOOK_SET: &str = "the Telegram Bot API has no view counter, and this bot has a webhook set, so its updates (reaction counts among them) go to that webhook; postctl does not remove another program's webhook (`deleteWebhook` would let postctl read them)";
/// Updates one `getUpdates` returns at most (the Bot API's own limit), and pages read in
/// one run at most (the rest waits for the next run).
const UPDATES_PAGE: usize = 100;
const UPDATES_PAGES: usize = 20;

impl Telegram {
    /// Whether the bot is an administrator (or the creator) of its chat.
    async fn is_admin(&self) -> Result<bool, PublishError> {
        let body = json!({ "chat_id": self.chat, "user_id": self.bot_id()? });
        match self.call("getChatMember", Body::Json(body)).await {
            Ok(member) => Ok(matches!(
                member.get("status").and_then(Value::as_str),
                Some("administrator" | "creator")
            )),
            // Not in the chat at all.
            Err(PublishError::Permanent {
                status: Some(403), ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The bot's own id: the part of its token before the colon (what `getMe` answers as
    /// `id`; not secret).
    fn bot_id(&self) -> Result<i64, PublishError> {
        self.token
            .expose()
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| {
                PublishError::Auth {
                    message: format!(
                        "Telegram: the bot token does not start with the bot's number and a colon; copy the token from @BotFather and add the account again: `{}`",
                        crate::network::add_again_command(&self.stored)
                    ),
                    status: None,
                }
            })
    }

    /// Reads the bot's waiting updates into the inbox; `Some(why)` when Telegram will not
    /// give them to postctl.
    async fn read_updates(&self) -> Result<Option<&'static str>, PublishError> {
        let source = format!("telegram:{}", self.bot_id()?);
        let mut offset = self
            .inbox
            .position(&source)
            .map_err(kept_error)?
            .map_or(0, |(offset, _)| offset);
        for _ in 0..UPDATES_PAGES {
            let body = json!({
                "offset": offset,
                "limit": UPDATES_PAGE,
                "timeout": 0,
                "allowed_updates": ["message_reaction_count"],
            });
            let updates = match self.call("getUpdates", Body::Json(body)).await {
                Ok(updates) => updates,
                Err(PublishError::Permanent {
                    status: Some(409),
                    message,
                }) if message.contains("webhook") => return Ok(Some(WEBHOOK_SET)),
                Err(e) => return Err(e),
            };
            let updates = updates.as_array().ok_or_else(|| unexpected("getUpdates"))?;
            let Some(last) = updates
                .iter()
                .filter_map(|u| u.get("update_id").and_then(Value::as_i64))
                .max()
            else {
                // Nothing waiting, but the first read still marks when listening began.
                self.inbox.keep(&source, offset, &[]).map_err(kept_error)?;
                return Ok(None);
            };
            let reactions: Vec<PushedReactions> = updates
                .iter()
                .filter_map(|u| u.get("message_reaction_count"))
                .filter_map(reaction_counts)
                .collect();
            offset = offset.max(last + 1);
            self.inbox
                .keep(&source, offset, &reactions)
                .map_err(kept_error)?;
            if updates.len() < UPDATES_PAGE {
                break;
            }
        }
        Ok(None)
    }

    async fn send_text(&self, text: &str, reply_to: Option<i64>) -> Result<Sent, PublishError> {
        let mut body = json!({
            "chat_id": self.chat,
            "text": text,
            "parse_mode": "HTML",
        });
        if let Some(id) = reply_to {
            body["reply_parameters"] = reply_parameters(id);
        }
        let result = self.call("sendMessage", Body::Json(body)).await?;
        sent(&result).ok_or_else(|| unexpected("sendMessage"))
    }

    /// One file with `send<Kind>`, or an album with `sendMediaGroup`.
    async fn send_media(
        &self,
        media: &[MediaFile],
        caption: Option<&str>,
        reply_to: Option<i64>,
    ) -> Result<Vec<Sent>, PublishError> {
        let mut form = Form::new().text("chat_id", self.chat.clone());
        if let Some(id) = reply_to {
            form = form.text("reply_parameters", reply_parameters(id).to_string());
        }
        let caption = caption.filter(|c| !c.trim().is_empty());
        if let [file] = media {
            let (method, field) = single_method(&file.mime);
            form = form.part(field, media_part(file).await?);
            if let Some(caption) = caption {
                form = form
                    .text("caption", caption.to_owned())
                    .text("parse_mode", "HTML");
            }
            let result = self.call(method, Body::Form(form)).await?;
            return Ok(vec![sent(&result).ok_or_else(|| unexpected(method))?]);
        }
        let mut items = Vec::new();
        for (i, file) in media.iter().enumerate() {
            let name = format!("file{i}");
            let kind = if file.mime.starts_with("video/") {
                "video"
            } else {
                "photo"
            };
            let mut item = json!({ "type": kind, "media": format!("attach://{name}") });
            if let (0, Some(caption)) = (i, caption) {
                item["caption"] = json!(caption);
                item["parse_mode"] = json!("HTML");
            }
            items.push(item);
            form = form.part(name, media_part(file).await?);
        }
        form = form.text("media", Value::Array(items).to_string());
        let result = self.call("sendMediaGroup", Body::Form(form)).await?;
        let sent: Vec<Sent> = result
            .as_array()
            .map(|messages| messages.iter().filter_map(sent).collect())
            .unwrap_or_default();
        if sent.is_empty() {
            return Err(unexpected("sendMediaGroup"));
        }
        Ok(sent)
    }

    fn published(&self, main: &Sent, ids: &[i64]) -> Published {
        // A public channel added as @name has that link even when the answer leaves out
        // the chat's username (Bot API servers other than Telegram's own do).
        let username = main
            .username
            .clone()
            .or_else(|| self.chat.strip_prefix('@').map(str::to_owned));
        let url = match (&username, chat_id_text(&main.chat_id)) {
            (Some(username), _) => Some(format!("https://t.me/{username}/{}", main.message_id)),
            (None, Some(id)) => id
                .strip_prefix("-100")
                .map(|internal| format!("https://t.me/c/{internal}/{}", main.message_id)),
            (None, None) => None,
        };
        let mut extra = json!({ "chat_id": main.chat_id });
        if ids.len() > 1 {
            extra["message_ids"] = json!(ids);
        }
        Published {
            id: main.message_id.to_string(),
            url,
            extra,
        }
    }

    /// Calls `method` and returns its `result`, or the classified error.
    async fn call(&self, method: &str, body: Body) -> Result<Value, PublishError> {
        let bot = Zeroizing::new(format!("bot{}", self.token.expose()));
        let url = endpoint(&self.base, &[bot.as_str(), method])?;
        let request = self.http.client().post(url);
        let request = match body {
            Body::Json(value) => request.json(&value),
            Body::Form(form) => request.multipart(form),
        };
        let answer = self.http.exchange(&self.account, request).await?;
        let reply = answer.json();
        match reply {
            Some(reply) if reply.get("ok") == Some(&Value::Bool(true)) => reply
                .get("result")
                .cloned()
                .ok_or_else(|| unexpected(method)),
            _ if answer.is_success() => Err(unexpected(method)),
            reply => Err(self.error(&answer, reply.unwrap_or(Value::Null))),
        }
    }

    fn error(&self, answer: &Answer, reply: Value) -> PublishError {
        let status = reply
            .get("error_code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(answer.status);
        let description = reply
            .get("description")
            .and_then(Value::as_str)
            .map(super::http::excerpt)
            // A server that is not quite Telegram (a proxy, an emulator) may explain
            // itself in plain text: show what it said.
            .unwrap_or_else(|| format!("HTTP {}{}", answer.status, answer.excerpt()));
        let parameters = reply.get("parameters");
        match status {
            429 => PublishError::Retryable {
                message: format!("Telegram is rate limiting the bot ({description})"),
                retry_after: asked_wait(&reply).or_else(|| answer.retry_after()),
                maybe_sent: false,
                status: Some(status),
            },
            400 => match parameters.and_then(|p| p.get("migrate_to_chat_id")) {
                Some(new_chat) => PublishError::Permanent {
                    message: format!(
                        "the Telegram group became a supergroup with the new chat id {new_chat}; update the account: `{}`",
                        crate::network::add_again_with(
                            &self.stored,
                            &[("chat", &new_chat.to_string())]
                        )
                    ),
                    status: Some(status),
                },
                None => PublishError::Permanent {
                    message: format!("Telegram refused the message: {description}"),
                    status: Some(status),
                },
            },
            401 | 404 => PublishError::Auth {
                message: format!(
                    "Telegram: the bot token was rejected ({description}); copy the token from @BotFather and add the account again: `{}`",
                    crate::network::add_again_command(&self.stored)
                ),
                status: Some(status),
            },
            403 => PublishError::Permanent {
                message: format!(
                    "Telegram: the bot is not allowed to post in the chat {} ({description}); make it an admin of the channel with the right to post messages, or add it to the group",
                    self.chat
                ),
                status: Some(status),
            },
            500..=599 => PublishError::Retryable {
                message: format!("Telegram had a server error ({description})"),
                retry_after: answer.retry_after(),
                maybe_sent: true,
                status: Some(status),
            },
            _ => PublishError::Permanent {
                message: format!("Telegram refused the request: {description}"),
                status: Some(status),
            },
        }
    }
}

/// A `MessageReactionCountUpdated`: `{chat, message_id, date, reactions: [{type,
/// total_count}]}`, the message's whole set. Emoji reactions are named by their emoji,
/// custom emoji by their id, paid (star) reactions `paid`.
fn reaction_counts(update: &Value) -> Option<PushedReactions> {
    let chat = chat_id_text(update.get("chat")?.get("id")?)?;
    let message_id = update.get("message_id")?.as_i64()?;
    let date = update
        .get("date")
        .and_then(Value::as_i64)
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))?;
    let counters = update
        .get("reactions")?
        .as_array()?
        .iter()
        .filter_map(|r| {
            let kind = r.get("type")?;
            let name = match kind.get("type")?.as_str()? {
                "emoji" => kind.get("emoji")?.as_str()?.to_string(),
                "custom_emoji" => format!("custom:{}", kind.get("custom_emoji_id")?.as_str()?),
                "paid" => "paid".to_string(),
                _ => return None,
            };
            Some((reaction(&name), r.get("total_count")?.as_u64()?))
        })
        .collect();
    Some(PushedReactions {
        chat,
        message_id,
        date,
        counters,
    })
}

/// The store failed to keep or give what updates said.
fn kept_error(e: String) -> PublishError {
    PublishError::Retryable {
        message: format!("could not keep Telegram's updates in the database: {e}"),
        retry_after: None,
        maybe_sent: false,
        status: None,
    }
}

/// The wait a Telegram error asks for (`parameters.retry_after`, seconds), at most
/// [`super::http::MAX_WAIT`].
fn asked_wait(reply: &Value) -> Option<std::time::Duration> {
    reply
        .get("parameters")
        .and_then(|p| p.get("retry_after"))
        .and_then(Value::as_f64)
        .and_then(super::http::wait_from_seconds)
}

enum Body {
    Json(Value),
    Form(Form),
}

fn reply_parameters(message_id: i64) -> Value {
    // A part whose predecessor was deleted still goes out, as a plain message.
    json!({ "message_id": message_id, "allow_sending_without_reply": true })
}

fn sent(message: &Value) -> Option<Sent> {
    let chat = message.get("chat")?;
    Some(Sent {
        message_id: message.get("message_id")?.as_i64()?,
        chat_id: chat.get("id")?.clone(),
        username: chat
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn chat_id_text(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn message_id(id: &str) -> Result<i64, PublishError> {
    id.parse().map_err(|_| {
        PublishError::permanent(format!(
            "{id:?} is not a Telegram message id; the part it refers to was not published to Telegram"
        ))
    })
}

fn unexpected(method: &str) -> PublishError {
    // A 2xx without the message: it may well have been posted.
    PublishError::maybe_sent(
        format!(
            "Telegram answered {method} without the message it sent; check the chat before retrying"
        ),
        None,
    )
}

/// An error after the text already went out as `text_id`: said plainly, and never
/// retried blindly (that would post the text again).
fn partly_sent(mut error: PublishError, text_id: i64) -> PublishError {
    let (PublishError::Retryable { message, .. }
    | PublishError::Auth { message, .. }
    | PublishError::Permanent { message, .. }
    | PublishError::NeedsPerson { message, .. }) = &mut error;
    *message = format!("the text was posted (message {text_id}) but its media were not: {message}");
    if let PublishError::Retryable { maybe_sent, .. } = &mut error {
        *maybe_sent = true;
    }
    error
}

/// Refuses, before anything is sent, what Telegram would refuse halfway.
fn check_media(media: &[MediaFile]) -> Result<(), PublishError> {
    if media.len() > MAX_ALBUM {
        return Err(PublishError::permanent(format!(
            "Telegram takes at most {MAX_ALBUM} files per message; this part has {}",
            media.len()
        )));
    }
    if media.len() > 1 {
        let odd = media.iter().find(|m| {
            m.mime == "image/gif" || !(m.mime.starts_with("image/") || m.mime.starts_with("video/"))
        });
        if let Some(file) = odd {
            return Err(PublishError::permanent(format!(
                "Telegram albums hold photos and videos only; post {} ({}) on its own",
                file.file_name, file.mime
            )));
        }
    }
    Ok(())
}

/// The method and its file field for a single file.
fn single_method(mime: &str) -> (&'static str, &'static str) {
    match mime {
        "image/gif" => ("sendAnimation", "animation"),
        m if m.starts_with("image/") => ("sendPhoto", "photo"),
        m if m.starts_with("video/") => ("sendVideo", "video"),
        _ => ("sendDocument", "document"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_server::{Reply, Request, TestServer, multipart_parts};
    use super::*;
    use crate::text::Rendered;

    const TOKEN: &str = "123456:AAH-secret-bot-token_xyz";

    fn adapter(base: &str, chat: &str) -> Telegram {
        let account = Account {
            id: "a1".into(),
            name: "tg".into(),
            network: Network::Telegram,
            base_url: Some(base.into()),
            handle: None,
            settings: json!({ "chat": chat }),
            secret_ref: "env:TG".into(),
            created: chrono::DateTime::UNIX_EPOCH,
        };
        let http = Http::new(std::time::Duration::from_secs(5)).expect("client");
        Telegram::new(
            &account,
            Secret::new(TOKEN.into()),
            http,
            std::sync::Arc::new(super::super::test_server::MemoryInbox::default()),
        )
        .expect("adapter")
    }

    #[test]
    fn a_public_channel_gets_its_link_even_when_the_answer_has_no_username() {
        let cases = [
            (
                "@news",
                None,
                json!(-1001234567890_i64),
                Some("https://t.me/news/42"),
            ),
            (
                "@news",
                Some("renamed"),
                json!(-1001234567890_i64),
                Some("https://t.me/renamed/42"),
            ),
            (
                "-1001234567890",
                None,
                json!(-1001234567890_i64),
                Some("https://t.me/c/1234567890/42"),
            ),
            ("-4567", None, json!(-4567), None),
        ];
        for (chat, username, chat_id, url) in cases {
            let sent = Sent {
                message_id: 42,
                chat_id,
                username: username.map(String::from),
            };
            let published = adapter("http://127.0.0.1:1", chat).published(&sent, &[42]);
            assert_eq!(published.url.as_deref(), url, "{chat}");
        }
    }

    fn part(text: &str, media: Vec<MediaFile>, reply_to: Option<&str>) -> Part {
        Part {
            index: usize::from(reply_to.is_some()),
            rendered: Rendered {
                text: text.into(),
                html: None,
                facets: vec![],
            },
            media,
            idempotency_key: "t1:0".into(),
            stage: Default::default(),
            reply_to: reply_to.map(|id| Published {
                id: id.into(),
                url: None,
                extra: json!({ "chat_id": -1001234567890i64 }),
            }),
            root: None,
        }
    }

    fn message(id: i64, chat: Value) -> Reply {
        Reply::json(
            200,
            json!({ "ok": true, "result": { "message_id": id, "chat": chat, "date": 0 } }),
        )
    }

    /// Image files in a temporary directory, kept alive by the returned guard.
    fn images(names: &[&str]) -> (tempfile::TempDir, Vec<MediaFile>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = names
            .iter()
            .map(|name| {
                let path = dir.path().join(name);
                std::fs::write(&path, format!("bytes of {name}")).expect("write");
                MediaFile {
                    path,
                    file_name: (*name).into(),
                    mime: if name.ends_with(".mp4") {
                        "video/mp4".into()
                    } else {
                        "image/png".into()
                    },
                    size: 10,
                    width: Some(1),
                    height: Some(1),
                    alt: Some(format!("alt of {name}")),
                }
            })
            .collect();
        (dir, files)
    }

    #[test]
    fn reaction_count_updates_name_emoji_custom_emoji_and_paid_reactions() {
        let update = json!({
            "chat": {"id": -1001234, "type": "channel", "title": "c"},
            "message_id": 7,
            "date": 1_700_000_000,
            "reactions": [
                {"type": {"type": "emoji", "emoji": "👍"}, "total_count": 5},
                {"type": {"type": "custom_emoji", "custom_emoji_id": "5368"}, "total_count": 2},
                {"type": {"type": "paid"}, "total_count": 1},
                {"type": {"type": "something_new"}, "total_count": 9},
            ],
        });
        let pushed = reaction_counts(&update).expect("read");
        assert_eq!((pushed.chat.as_str(), pushed.message_id), ("-1001234", 7));
        let names: Vec<(&str, u64)> = pushed
            .counters
            .iter()
            .map(|(n, c)| (n.as_str(), *c))
            .collect();
        assert_eq!(
            names,
            [
                ("reaction:custom:5368", 2),
                ("reaction:paid", 1),
                ("reaction:👍", 5)
            ]
        );
        assert!(reaction_counts(&json!({"message_id": 7})).is_none());
    }

    #[tokio::test]
    async fn text_is_sent_as_html_and_replies_to_the_previous_part() {
        let server = TestServer::start(|_: &Request| {
            message(
                42,
                json!({"id": -1009876543210i64, "type": "channel", "username": "news"}),
            )
        })
        .await;
        let tg = adapter(&server.url(), "@news");
        let published = tg
            .publish(&part("<b>Shipped</b> v1.2", vec![], Some("41")))
            .await
            .expect("published");
        assert_eq!(published.id, "42");
        assert_eq!(published.url.as_deref(), Some("https://t.me/news/42"));
        assert_eq!(published.extra, json!({ "chat_id": -1009876543210i64 }));

        let request = &server.requests()[0];
        assert_eq!(request.path, format!("/bot{TOKEN}/sendMessage"));
        assert_eq!(
            request.json(),
            json!({
                "chat_id": "@news",
                "text": "<b>Shipped</b> v1.2",
                "parse_mode": "HTML",
                "reply_parameters": {"message_id": 41, "allow_sending_without_reply": true},
            })
        );
    }

    #[tokio::test]
    async fn links_follow_the_kind_of_chat() {
        let cases = [
            (
                json!({"id": -1001234567890i64, "type": "supergroup"}),
                Some("https://t.me/c/1234567890/7"),
            ),
            (json!({"id": -4567, "type": "group"}), None),
            (json!({"id": 99, "type": "private"}), None),
        ];
        for (chat, want) in cases {
            let reply = message(7, chat.clone());
            let server = TestServer::start(move |_: &Request| reply.clone()).await;
            let published = adapter(&server.url(), "-1001234567890")
                .publish(&part("hi", vec![], None))
                .await
                .expect("published");
            assert_eq!(published.url.as_deref(), want, "{chat}");
        }
    }

    #[tokio::test]
    async fn one_photo_carries_the_caption() {
        let (_dir, files) = images(&["chart.png"]);
        let server =
            TestServer::start(|_: &Request| message(5, json!({"id": -100777, "type": "channel"})))
                .await;
        let published = adapter(&server.url(), "-100777")
            .publish(&part("weekly <i>downloads</i>", files, None))
            .await
            .expect("published");
        assert_eq!(published.id, "5");
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].path, format!("/bot{TOKEN}/sendPhoto"));
        let parts = multipart_parts(&requests[0]);
        let field = |name: &str| parts.iter().find(|p| p.name == name).map(|p| p.text());
        assert_eq!(field("chat_id").as_deref(), Some("-100777"));
        assert_eq!(field("caption").as_deref(), Some("weekly <i>downloads</i>"));
        assert_eq!(field("parse_mode").as_deref(), Some("HTML"));
        let photo = parts
            .iter()
            .find(|p| p.name == "photo")
            .expect("photo part");
        assert_eq!(photo.file_name.as_deref(), Some("chart.png"));
        assert_eq!(photo.content_type.as_deref(), Some("image/png"));
        assert_eq!(photo.text(), "bytes of chart.png");
    }

    #[tokio::test]
    async fn a_text_too_long_for_a_caption_goes_first_and_the_media_reply_to_it() {
        let (_dir, files) = images(&["a.png", "b.mp4"]);
        let server = TestServer::start(|request: &Request| {
            let chat = json!({"id": -100777, "type": "channel"});
            if request.path.ends_with("/sendMessage") {
                message(10, chat)
            } else {
                Reply::json(
                    200,
                    json!({"ok": true, "result": [
                        {"message_id": 11, "chat": chat, "date": 0},
                        {"message_id": 12, "chat": chat, "date": 0},
                    ]}),
                )
            }
        })
        .await;
        // 1,100 visible characters, more with the markup.
        let text = format!("<b>{}</b>", "x".repeat(1100));
        let published = adapter(&server.url(), "-100777")
            .publish(&part(&text, files, None))
            .await
            .expect("published");
        assert_eq!(published.id, "10");
        assert_eq!(published.extra["message_ids"], json!([10, 11, 12]));

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert!(requests[0].path.ends_with("/sendMessage"));
        assert!(requests[1].path.ends_with("/sendMediaGroup"));
        let parts = multipart_parts(&requests[1]);
        let field = |name: &str| parts.iter().find(|p| p.name == name).map(|p| p.text());
        let media: Value =
            serde_json::from_str(&field("media").expect("media field")).expect("media JSON");
        assert_eq!(
            media,
            json!([
                {"type": "photo", "media": "attach://file0"},
                {"type": "video", "media": "attach://file1"},
            ])
        );
        let reply: Value =
            serde_json::from_str(&field("reply_parameters").expect("reply")).expect("reply JSON");
        assert_eq!(reply["message_id"], json!(10));
        assert!(
            parts
                .iter()
                .any(|p| p.name == "file1" && p.text() == "bytes of b.mp4")
        );
    }

    #[tokio::test]
    async fn an_album_has_its_caption_on_the_first_item() {
        let (_dir, files) = images(&["a.png", "b.png"]);
        let server = TestServer::start(|_: &Request| {
            let chat = json!({"id": -100777, "type": "channel"});
            Reply::json(
                200,
                json!({"ok": true, "result": [
                    {"message_id": 3, "chat": chat, "date": 0},
                    {"message_id": 4, "chat": chat, "date": 0},
                ]}),
            )
        })
        .await;
        let published = adapter(&server.url(), "-100777")
            .publish(&part("two charts", files, Some("2")))
            .await
            .expect("published");
        assert_eq!(published.id, "3");
        assert_eq!(published.extra["message_ids"], json!([3, 4]));
        let parts = multipart_parts(&server.requests()[0]);
        let media: Value = serde_json::from_str(
            &parts
                .iter()
                .find(|p| p.name == "media")
                .expect("media")
                .text(),
        )
        .expect("media JSON");
        assert_eq!(media[0]["caption"], json!("two charts"));
        assert_eq!(media[0]["parse_mode"], json!("HTML"));
        assert!(media[1].get("caption").is_none());
    }

    #[tokio::test]
    async fn a_gif_in_an_album_is_refused_before_anything_is_sent() {
        let (_dir, mut files) = images(&["a.png", "b.png"]);
        files[1].mime = "image/gif".into();
        let server = TestServer::start(|_: &Request| Reply::text(500, "")).await;
        let err = adapter(&server.url(), "@news")
            .publish(&part("x", files, None))
            .await
            .expect_err("refused");
        assert!(matches!(err, PublishError::Permanent { .. }), "{err}");
        assert!(server.requests().is_empty());
    }

    fn failure(code: u16, description: &str, parameters: Value) -> Reply {
        Reply::json(
            code,
            json!({"ok": false, "error_code": code, "description": description, "parameters": parameters}),
        )
    }

    #[tokio::test]
    async fn errors_are_classified_and_never_show_the_token() {
        let cases = [
            (
                failure(
                    429,
                    "Too Many Requests: retry after 7",
                    json!({"retry_after": 7}),
                ),
                "retry 7000ms",
                "rate limiting",
            ),
            (
                failure(400, "Bad Request: can't parse entities", Value::Null),
                "permanent",
                "can't parse entities",
            ),
            (
                failure(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    json!({"migrate_to_chat_id": -1001111111111i64}),
                ),
                "permanent",
                "--chat -1001111111111",
            ),
            (
                failure(401, "Unauthorized", Value::Null),
                "auth",
                "bot token was rejected",
            ),
            (failure(404, "Not Found", Value::Null), "auth", "@BotFather"),
            (
                failure(
                    403,
                    "Forbidden: bot is not a member of the channel chat",
                    Value::Null,
                ),
                "permanent",
                "make it an admin",
            ),
            (
                failure(502, "Bad Gateway", Value::Null),
                "retry maybe sent",
                "server error",
            ),
            (Reply::hang_up(), "retry maybe sent", ""),
            (
                Reply::json(200, json!({"ok": true})),
                "retry maybe sent",
                "check the chat",
            ),
        ];
        for (reply, want, says) in cases {
            let server = TestServer::sequence(vec![reply]).await;
            let err = adapter(&server.url(), "@news")
                .publish(&part("hi", vec![], None))
                .await
                .expect_err("an error");
            let got = crate::platforms::test_server::class(&err);
            assert_eq!(got, want, "{err}");
            assert!(err.to_string().contains(says), "{err}");
            assert!(!err.to_string().contains("secret-bot-token"), "{err}");
            assert!(!format!("{err:?}").contains("secret-bot-token"), "{err:?}");
        }
    }

    #[tokio::test]
    async fn media_failing_after_the_text_is_never_retried_blindly() {
        let (_dir, files) = images(&["a.png"]);
        let server = TestServer::start(|request: &Request| {
            if request.path.ends_with("/sendMessage") {
                message(10, json!({"id": -100777, "type": "channel"}))
            } else {
                failure(
                    429,
                    "Too Many Requests: retry after 3",
                    json!({"retry_after": 3}),
                )
            }
        })
        .await;
        let err = adapter(&server.url(), "-100777")
            .publish(&part(&"y".repeat(2000), files, None))
            .await
            .expect_err("an error");
        assert!(
            matches!(
                err,
                PublishError::Retryable {
                    maybe_sent: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("the text was posted (message 10)"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn verify_names_the_bot() {
        let server = TestServer::start(|_: &Request| {
            Reply::json(
                200,
                json!({"ok": true, "result": {"id": 1, "is_bot": true, "username": "postctl_bot"}}),
            )
        })
        .await;
        let verified = adapter(&server.url(), "@news")
            .verify()
            .await
            .expect("verified");
        assert_eq!(verified.identity, "@postctl_bot");
        assert_eq!(server.requests()[0].path, format!("/bot{TOKEN}/getMe"));
    }

    #[tokio::test]
    async fn delete_removes_every_message_of_the_part() {
        let server = TestServer::sequence(vec![
            Reply::json(200, json!({"ok": true, "result": true})),
            failure(400, "Bad Request: message to delete not found", Value::Null),
        ])
        .await;
        let published = Published {
            id: "10".into(),
            url: None,
            extra: json!({"chat_id": -100777, "message_ids": [10, 11]}),
        };
        adapter(&server.url(), "@news")
            .delete(&published)
            .await
            .expect("deleted");
        let bodies: Vec<Value> = server.requests().iter().map(Request::json).collect();
        assert_eq!(
            bodies,
            [
                json!({"chat_id": -100777, "message_id": 10}),
                json!({"chat_id": -100777, "message_id": 11}),
            ]
        );
    }

    #[tokio::test]
    async fn markup_does_not_count_toward_the_caption_limit() {
        let (_dir, files) = images(&["a.png"]);
        let server =
            TestServer::start(|_: &Request| message(5, json!({"id": -100777, "type": "channel"})))
                .await;
        // 1,024 visible characters, 1,031 with the tags: still one captioned photo.
        let text = format!("<b>{}</b>", "x".repeat(1024));
        adapter(&server.url(), "-100777")
            .publish(&part(&text, files, None))
            .await
            .expect("published");
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert!(requests[0].path.ends_with("/sendPhoto"));
    }

    /// Any answer, however odd: the error is classified without a panic, asks for a
    /// bounded wait, and never shows the token.
    mod fuzz {
        use super::*;
        use crate::platforms::fuzz_answers::{body, headers};
        use proptest::prelude::*;

        #[test]
        fn any_error_answer_is_read_safely() {
            let telegram = adapter("http://127.0.0.1:9", "@chan");
            proptest!(|(status in 100u16..600, body in body(), headers in headers())| {
                let answer = Answer { status, headers, body };
                let reply = answer.json().unwrap_or(Value::Null);
                let error = telegram.error(&answer, reply);
                if let PublishError::Retryable { retry_after: Some(wait), .. } = &error {
                    prop_assert!(*wait <= crate::platforms::http::MAX_WAIT);
                }
                prop_assert!(!error.to_string().contains(TOKEN));
            });
        }
    }
}
