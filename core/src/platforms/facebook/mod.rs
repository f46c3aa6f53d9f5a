//! Facebook Pages, through the Graph API
//! (`graph.facebook.com`) and a Page access token: `accounts add facebook` signs in with
//! Facebook Login ([`SIGN_IN`]) or reads a user token, lists the user's Pages with it
//! (`GET /me/accounts`, [`pages`]) and keeps the chosen Page's token as the account's
//! secret (after a sign-in, in the token set, with the user token's end). The token travels as `Authorization: Bearer`,
//! never in a URL.
//!
//! - Text: `POST /{page-id}/feed {message, link}` → `{id: "{page-id}_{post-id}"}`; the
//!   text's first link goes as `link` too, so the post gets its preview card.
//! - One photo: `POST /{page-id}/photos` (multipart `source`, `message`) → `{id, post_id}`.
//! - Several photos: each `POST /{page-id}/photos {source, published: false}` → `{id}`,
//!   then `POST /{page-id}/feed {message, attached_media[i]: {"media_fbid": id}}`.
//! - Link: `GET /{post-id}?fields=permalink_url`. Delete: `DELETE /{post-id}`.
//!
//! No threads (a Page's text limit is large), and no idempotency key: after an answer
//! that leaves the outcome unknown, the adapter looks for a post with the same message
//! among the Page's latest (`GET /{page-id}/feed`) before reporting it as maybe sent,
//! which the engine then makes `uncertain` ([`Idempotency::None`]).
//!
//! Metrics: `GET /{post-id}?fields=reactions.summary(total_count).limit(0),
//! comments.summary(total_count).limit(0),shares` per post (reactions as `likes`,
//! comments as `replies`, `shares`; Facebook leaves `shares` out when nobody shared, so
//! it is 0 beside a reactions summary); the Page's `followers_count`.
//!
//! Unconfirmed facts and what this adapter assumes: the text limit
//! (63,206 characters, counted in code points), ten photos per post of at most 10 MB, the
//! multi-photo `attached_media` flow, `alt_text_custom` on photos, `permalink_url`, the
//! delete answer (`{success: true}`), the post fields for metrics, the Page's
//! `followers_count`, code 190 for a token to renew, and the throttling codes; errors are
//! the Graph API's, classified in [`super::graph`].

pub mod pages;

use serde_json::{Value, json};

use super::graph::{Call, Graph, account_id, id_of};
use super::http::{endpoint, media_part, not_posted};
use super::{
    AccountMetrics, Adapter, Capabilities, Counters, Idempotency, MediaFile, Metrics, Part,
    Platform, PostMetrics, PostReading, PublishError, Published, Verified, boxed,
};
use crate::model::Account;
use crate::secrets::Secret;
use crate::signin::{LongLived, SignIn};
use crate::text::{Counting, Format, TextLimit};

/// The commonly cited limit of a Page post (unconfirmed).
pub(crate) const TEXT_LIMIT: usize = 63_206;
/// Photos per post (unconfirmed).
const MAX_MEDIA: usize = 10;
/// Photo size (unconfirmed).
const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// How many of the Page's latest posts are searched for one whose answer was lost.
const RECENT: &str = "25";

/// What a Facebook Page takes: plain text (links become preview cards), photos, no
/// threads, no idempotency.
const DEFAULTS: Capabilities = Capabilities {
    limit: TextLimit {
        max: TEXT_LIMIT,
        counting: Counting::CodePoints,
    },
    format: Format::Plain,
    max_media: MAX_MEDIA,
    max_image_bytes: MAX_IMAGE_BYTES,
    threads: false,
    idempotency: Idempotency::None,
};

/// Facebook Login: the authorization code (the client secret in the
/// form) traded for a short-lived user token, exchanged at once with `fb_exchange_token`
/// for a long-lived one (about 60 days), with which `accounts add` lists the user's Pages
/// (`GET /me/accounts`) and keeps the chosen Page's token, with the user token's end as
/// its own. Facebook has no renewal (no `refresh_url`): a week before the end the
/// account shows as needing sign-in (`postctl accounts reauth`), its posts held rather
/// than sent with a token about to stop. `pages_show_list` is what lists the Pages.
const SIGN_IN: SignIn = SignIn::meta(
    "https://www.facebook.com/dialog/oauth",
    "https://graph.facebook.com/oauth/access_token",
    &[
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
    ],
    LongLived {
        exchange_url: "https://graph.facebook.com/oauth/access_token",
        exchange_grant: "fb_exchange_token",
        token_param: "fb_exchange_token",
        refresh_url: None,
        refresh_grant: "",
    },
    "Facebook Login, Settings, Valid OAuth Redirect URIs",
);

pub(super) const PLATFORM: Platform = Platform {
    defaults: DEFAULTS,
    capabilities: |_| DEFAULTS,
    sign_in: Some(&SIGN_IN),
    open: Some(|account, secret, tools| boxed(Facebook::new(account, secret, tools))),
};

pub struct Facebook {
    graph: Graph,
    page_id: String,
}

impl Facebook {
    pub fn new(
        account: &Account,
        secret: Secret,
        tools: super::Tools,
    ) -> Result<Self, PublishError> {
        let page_id = account_id(account, "page_id", "Page id")?;
        Ok(Facebook {
            graph: Graph::for_account(account, secret, tools.http, "Page access token")?,
            page_id,
        })
    }
}

impl Adapter for Facebook {
    fn capabilities(&self) -> Capabilities {
        DEFAULTS
    }

    async fn verify(&self) -> Result<Verified, PublishError> {
        let page = self
            .graph
            .get(
                &[self.page_id.as_str()],
                &[("fields", "id,name")],
                Call::Prepare,
            )
            .await?;
        let name = page.get("name").and_then(Value::as_str).unwrap_or("?");
        Ok(Verified {
            identity: format!("{name} (Facebook Page {})", self.page_id),
        })
    }

    async fn publish(&self, part: &Part) -> Result<Published, PublishError> {
        check_media(&part.media)?;
        let message = part.rendered.text.as_str();
        let posted = match part.media.as_slice() {
            [] => self.post_text(message).await,
            [photo] => self.post_photo(photo, message).await,
            photos => self.post_photos(photos, message).await,
        };
        let id = match posted {
            Ok(id) => id,
            Err(
                error @ PublishError::Retryable {
                    maybe_sent: true, ..
                },
            ) => {
                return self.find_or(message, error).await;
            }
            Err(error) => return Err(error),
        };
        let url = self.permalink(&id).await;
        Ok(Published {
            id,
            url,
            extra: Value::Null,
        })
    }

    /// `DELETE /{post-id}`; a post already gone counts as deleted.
    async fn delete(&self, published: &Published) -> Result<(), PublishError> {
        match self.graph.delete(&[published.id.as_str()]).await? {
            Ok(_) => Ok(()),
            Err(error)
                if error.code == 100 && (error.subcode == Some(33) || error.status == 404) =>
            {
                Ok(())
            }
            Err(error) => Err(self.graph.classify(error, Call::Prepare)),
        }
    }

    /// One `GET /{post-id}?fields=reactions.summary…,comments.summary…,shares` per post.
    async fn post_metrics(&self, posts: &[Published]) -> Result<PostMetrics, PublishError> {
        let mut readings = Vec::with_capacity(posts.len());
        for post in posts {
            let url = endpoint(&self.graph.base, &[post.id.as_str()])?;
            let request = self.graph.http.client().get(url).query(&[(
                "fields",
                "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares",
            )]);
            readings.push(match self.graph.answer(request, Call::Read).await? {
                Ok(body) => post_reading(&body),
                Err(error)
                    if error.code == 100 && (error.subcode == Some(33) || error.status == 404) =>
                {
                    PostReading::Deleted
                }
                Err(error) => return Err(self.graph.classify(error, Call::Read)),
            });
        }
        Ok(Metrics::Read(readings))
    }

    /// `GET /{page-id}?fields=followers_count`.
    async fn account_metrics(&self) -> Result<AccountMetrics, PublishError> {
        let page = self
            .graph
            .get(
                &[self.page_id.as_str()],
                &[("fields", "followers_count")],
                Call::Read,
            )
            .await?;
        Ok(Metrics::Read(super::metrics::counters(
            &page,
            &[("followers_count", "followers")],
        )))
    }
}

impl Facebook {
    /// `POST /{page-id}/feed {message, link}` → the post's id.
    async fn post_text(&self, message: &str) -> Result<String, PublishError> {
        let mut form = vec![("message", message)];
        if let Some(link) = first_link(message) {
            form.push(("link", link));
        }
        let answer = self
            .graph
            .post(&[self.page_id.as_str(), "feed"], &form, Call::Publish)
            .await?;
        id_of(&answer).ok_or_else(|| self.graph.unexpected("the post", Call::Publish))
    }

    /// One photo with the message: `POST /{page-id}/photos` → its `post_id`.
    async fn post_photo(&self, photo: &MediaFile, message: &str) -> Result<String, PublishError> {
        let answer = self.upload(photo, Some(message), true).await?;
        answer
            .get("post_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| id_of(&answer).map(|id| format!("{}_{id}", self.page_id)))
            .ok_or_else(|| self.graph.unexpected("the photo", Call::Publish))
    }

    /// Photos uploaded unpublished, then one post attaching them all.
    async fn post_photos(
        &self,
        photos: &[MediaFile],
        message: &str,
    ) -> Result<String, PublishError> {
        let mut ids = Vec::with_capacity(photos.len());
        for photo in photos {
            let answer = self.upload(photo, None, false).await.map_err(not_posted)?;
            ids.push(
                id_of(&answer).ok_or_else(|| self.graph.unexpected("a photo", Call::Prepare))?,
            );
        }
        let attached: Vec<(String, String)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    format!("attached_media[{i}]"),
                    json!({ "media_fbid": id }).to_string(),
                )
            })
            .collect();
        let mut form = vec![("message", message)];
        form.extend(attached.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let answer = self
            .graph
            .post(&[self.page_id.as_str(), "feed"], &form, Call::Publish)
            .await?;
        id_of(&answer).ok_or_else(|| self.graph.unexpected("the post", Call::Publish))
    }

    /// `POST /{page-id}/photos` with the file as `source`; published with `message`, or
    /// held unpublished for a post that attaches it.
    async fn upload(
        &self,
        photo: &MediaFile,
        message: Option<&str>,
        published: bool,
    ) -> Result<Value, PublishError> {
        let mut form = reqwest::multipart::Form::new()
            .part("source", media_part(photo).await?)
            .text("published", published.to_string());
        if let Some(message) = message {
            form = form.text("message", message.to_owned());
        }
        if let Some(alt) = photo.alt.as_deref().filter(|a| !a.trim().is_empty()) {
            form = form.text("alt_text_custom", alt.to_owned());
        }
        let url = endpoint(&self.graph.base, &[self.page_id.as_str(), "photos"])?;
        let request = self.graph.http.client().post(url).multipart(form);
        let call = if published {
            Call::Publish
        } else {
            Call::Prepare
        };
        self.graph.send(request, call).await
    }

    /// The post among the Page's latest, else `error` saying it may have been sent.
    async fn find_or(&self, message: &str, error: PublishError) -> Result<Published, PublishError> {
        let why = match self.find(message).await {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => "and it is not among the Page's latest posts".to_string(),
            Err(lookup) => format!("and the Page's latest posts could not be read ({lookup})"),
        };
        Err(PublishError::Retryable {
            message: format!("{error}, {why}"),
            retry_after: None,
            maybe_sent: true,
            status: error.status(),
        })
    }

    /// `GET /{page-id}/feed`: the newest post with this message.
    async fn find(&self, message: &str) -> Result<Option<Published>, PublishError> {
        let answer = self
            .graph
            .get(
                &[self.page_id.as_str(), "feed"],
                &[
                    ("fields", "id,message,permalink_url,created_time"),
                    ("limit", RECENT),
                ],
                Call::Prepare,
            )
            .await?;
        let found = answer
            .get("data")
            .and_then(Value::as_array)
            .and_then(|posts| {
                posts.iter().find(|p| {
                    p.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim()
                        == message.trim()
                })
            });
        Ok(found.and_then(|post| {
            Some(Published {
                id: id_of(post)?,
                url: post
                    .get("permalink_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                extra: Value::Null,
            })
        }))
    }

    /// `GET /{post-id}?fields=permalink_url`; none is fine.
    async fn permalink(&self, id: &str) -> Option<String> {
        let answer = self
            .graph
            .get(&[id], &[("fields", "permalink_url")], Call::Prepare)
            .await
            .ok()?;
        answer
            .get("permalink_url")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// A post's counters: reactions as likes, comments as replies, and shares (0 when
/// Facebook leaves the field out beside a reactions summary).
fn post_reading(body: &Value) -> PostReading {
    let mut counters = Counters::new();
    let total = |field: &str| body[field]["summary"]["total_count"].as_u64();
    if let Some(likes) = total("reactions") {
        counters.insert("likes".into(), likes);
        counters.insert(
            "shares".into(),
            body["shares"]["count"].as_u64().unwrap_or(0),
        );
    }
    if let Some(replies) = total("comments") {
        counters.insert("replies".into(), replies);
    }
    if counters.is_empty() {
        PostReading::Pending
    } else {
        PostReading::Counted(counters)
    }
}

/// The first http(s) link of a text, for the post's preview card.
fn first_link(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|word| word.starts_with("https://") || word.starts_with("http://"))
        .map(|word| word.trim_end_matches(['.', ',', ')', '!', '?', ';', ':']))
}

/// Refuses, before anything is uploaded, what a Page post cannot take through postctl.
fn check_media(media: &[MediaFile]) -> Result<(), PublishError> {
    if media.len() > MAX_MEDIA {
        return Err(PublishError::permanent(format!(
            "postctl posts at most {MAX_MEDIA} photos to a Facebook Page at once; this post has {}",
            media.len()
        )));
    }
    if let Some(file) = media.iter().find(|m| !m.mime.starts_with("image/")) {
        return Err(PublishError::permanent(format!(
            "postctl posts photos to Facebook Pages, and {} is {}: attach images",
            file.file_name, file.mime
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_link_makes_the_card() {
        let cases = [
            ("no link here", None),
            (
                "Read https://example.org/notes. Then http://b.example",
                Some("https://example.org/notes"),
            ),
            ("(see https://x.example/a)", Some("https://x.example/a")),
        ];
        for (text, expected) in cases {
            assert_eq!(first_link(text), expected, "{text}");
        }
    }

    #[test]
    fn reactions_comments_and_shares_become_counters() {
        let body = json!({
            "reactions": {"data": [], "summary": {"total_count": 7}},
            "comments": {"data": [], "summary": {"total_count": 2}},
        });
        let expected: Counters = [
            ("likes".to_string(), 7),
            ("replies".to_string(), 2),
            ("shares".to_string(), 0),
        ]
        .into_iter()
        .collect();
        assert_eq!(post_reading(&body), PostReading::Counted(expected));
        assert_eq!(post_reading(&json!({"id": "1_2"})), PostReading::Pending);
    }
}
