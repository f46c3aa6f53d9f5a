//! The feed poller every `serve` process runs: claim due feeds with a lease (so of several
//! processes one polls a feed at a time), fetch each with a conditional GET
//! (`If-None-Match`, `If-Modified-Since`; a 304 changes nothing), and make one post per
//! new item through the feed's template. The item's keys are claimed with the post in one
//! transaction, so an item makes one post even when two processes read it. What goes
//! wrong (unreachable, an HTTP error, not a feed, a template error) becomes the feed's
//! `last_error`; nothing here stops the loop.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use postctl_core::content::template::{Template, Variables, builtin};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

use super::{Document, keys, parse, variables};
use crate::storage::stamps::FEED_DEVICE;
use crate::storage::{Feed, Made, Polled, Post, PostState, Queued, StorageError, Target};
use crate::webhooks::address::check_literal;
use crate::webhooks::worker::{Outbox, transport_error};

/// Feeds one process polls at once.
const BATCH: u32 = 8;
/// How often the poller looks for due feeds.
const TICK: Duration = Duration::from_secs(1);
/// The largest feed document read, in bytes.
pub const BODY_MAX: usize = 5 * 1024 * 1024;
/// The longest error kept with a feed, in characters.
const ERROR_MAX: usize = 500;

/// How feeds are polled (`feed_poll_seconds`; the webhooks' address rule and time limit).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Between two polls of one feed.
    pub interval_ms: i64,
    /// One fetch's time limit (the client's).
    pub timeout_ms: u64,
    /// Whether feed URLs may reach loopback, private and link-local addresses
    /// (`allow_private_webhooks`).
    pub allow_private: bool,
}

/// Polls due feeds through `client` (the webhooks' client: checked resolver, no
/// redirects) until the task is dropped.
pub async fn run(outbox: Arc<Outbox>, policy: Policy, client: reqwest::Client) {
    let owner = uuid::Uuid::now_v7().to_string();
    // A lease outlasts a fetch and its posts, so it passes to another process only when
    // this one stopped or hung.
    let lease_ms = policy.timeout_ms as i64 + 60_000;
    loop {
        let now = crate::api::now_ms();
        match outbox
            .storage
            .claim_feeds(&owner, now, lease_ms, BATCH)
            .await
        {
            Ok(feeds) => {
                let mut polls = tokio::task::JoinSet::new();
                for feed in feeds {
                    let (outbox, client, owner) = (outbox.clone(), client.clone(), owner.clone());
                    polls.spawn(async move {
                        let polled = poll(&outbox, &client, policy, &feed).await;
                        if let Some(error) = &polled.last_error {
                            // The feed's id, not its URL: a private feed's URL carries its token
                            // (GitHub's `?token=`), as a webhook's does.
                            tracing::warn!(feed = %feed.id, "feed poll: {error}");
                        }
                        if let Err(e) = outbox.storage.finish_poll(&feed.id, &owner, &polled).await
                        {
                            tracing::warn!(feed = %feed.id, "could not record a feed poll: {e}");
                        }
                    });
                }
                while polls.join_next().await.is_some() {}
            }
            Err(e) => tracing::warn!("could not claim feeds: {e}"),
        }
        tokio::time::sleep(TICK).await;
    }
}

/// One poll of a claimed feed: what to record.
pub async fn poll(
    outbox: &Outbox,
    client: &reqwest::Client,
    policy: Policy,
    feed: &Feed,
) -> Polled {
    let started = crate::api::now_ms();
    let failed = |error: String| Polled {
        etag: feed.etag.clone(),
        last_modified: feed.last_modified.clone(),
        last_error: Some(shorten(&error)),
        polled_ms: None,
        next_poll_ms: started + policy.interval_ms,
    };
    let (etag, last_modified, body) = match fetch(client, policy, feed).await {
        Ok(Fetched::NotModified) => {
            return Polled {
                etag: feed.etag.clone(),
                last_modified: feed.last_modified.clone(),
                last_error: None,
                polled_ms: Some(started),
                next_poll_ms: started + policy.interval_ms,
            };
        }
        Ok(Fetched::Body {
            etag,
            last_modified,
            body,
        }) => (etag, last_modified, body),
        Err(error) => return failed(error),
    };
    let doc = match parse(&body) {
        Ok(doc) => doc,
        Err(e) => return failed(format!("the answer is not an RSS or Atom feed: {e}")),
    };
    let item_keys = keys(&doc);
    let storage = &outbox.storage;
    let mut error = None;
    if feed.polled_ms.is_none() {
        // The first read: what is there already is history, not news.
        let all: Vec<String> = item_keys.into_iter().flatten().collect();
        if let Err(e) = storage.see_feed_items(&feed.id, &all, started).await {
            return failed(format!("could not record the feed's items: {e}"));
        }
    } else if let Err(e) = post_new_items(outbox, feed, &doc, &item_keys).await {
        error = Some(e);
    }
    Polled {
        etag,
        last_modified,
        last_error: error.map(|e| shorten(&e)),
        polled_ms: Some(started),
        next_poll_ms: started + policy.interval_ms,
    }
}

enum Fetched {
    NotModified,
    Body {
        etag: Option<String>,
        last_modified: Option<String>,
        body: String,
    },
}

async fn fetch(client: &reqwest::Client, policy: Policy, feed: &Feed) -> Result<Fetched, String> {
    let url = reqwest::Url::parse(&feed.url).map_err(|e| format!("the URL is wrong: {e}"))?;
    check_literal(&url, policy.allow_private)?;
    let mut request = client.get(url).header(
        reqwest::header::ACCEPT,
        "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    );
    if let Some(etag) = &feed.etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(modified) = &feed.last_modified {
        request = request.header(IF_MODIFIED_SINCE, modified);
    }
    let mut answer = request
        .send()
        .await
        .map_err(|e| format!("could not fetch the feed: {}", transport_error(e)))?;
    let status = answer.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if status.is_redirection() {
        let to = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("elsewhere");
        return Err(format!(
            "the feed answered HTTP {status}, moved to {to}: add the feed again with that URL"
        ));
    }
    if !status.is_success() {
        return Err(format!("the feed answered HTTP {status}"));
    }
    let header = |name| {
        answer
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| format!("the feed's answer broke off: {}", transport_error(e)))?
    {
        if body.len() + chunk.len() > BODY_MAX {
            return Err(format!(
                "the feed is larger than {} MiB",
                BODY_MAX / 1024 / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let body = String::from_utf8(body).map_err(|_| "the feed is not UTF-8 text".to_string())?;
    Ok(Fetched::Body {
        etag,
        last_modified,
        body,
    })
}

/// Posts the items not seen before, oldest first (feeds list the newest first). An item
/// whose template fails is left unseen, so it posts once the template is fixed.
async fn post_new_items(
    outbox: &Outbox,
    feed: &Feed,
    doc: &Document,
    item_keys: &[Vec<String>],
) -> Result<(), String> {
    let storage = &outbox.storage;
    let ws = &feed.workspace_id;
    let template = match storage.template(ws, &feed.template).await {
        Ok(Some(t)) => Template::new(&t.name, &t.body, t.variants).map_err(|e| e.to_string())?,
        Ok(None) => builtin(&feed.template).ok_or_else(|| {
            format!(
                "the template {:?} is gone; add it again (PUT /api/v1/templates/{})",
                feed.template, feed.template
            )
        })?,
        Err(e) => return Err(format!("could not read the template: {e}")),
    };
    let existing = storage
        .accounts(ws)
        .await
        .map_err(|e| format!("could not read the accounts: {e}"))?;
    // In the feed's order: a queued post takes the first account's queue.
    let (accounts, names): (Vec<String>, Vec<String>) = feed
        .accounts
        .iter()
        .filter_map(|id| existing.iter().find(|a| &a.id == id))
        .map(|a| (a.id.clone(), a.name.clone()))
        .unzip();
    // Stamped and carried to the devices as a version, by the feed's owner.
    let stamping = Made {
        device: FEED_DEVICE,
        user: feed.created_by.clone(),
        targets: names,
    };
    let stamps = stamping.clone().stamps();
    if accounts.is_empty() {
        return Err(
            "none of the feed's accounts is left; add the feed again with accounts this \
             workspace has"
                .into(),
        );
    }
    let mut made = 0;
    let mut error = None;
    for (item, keys) in doc.items.iter().zip(item_keys).rev() {
        let mut vars = Variables::default();
        let rendered = vars
            .merge_json(
                "the item",
                serde_json::Value::Object(variables(doc, item, &feed.url)),
            )
            .and_then(|()| template.render(None, &vars));
        let text = match rendered {
            Ok(r) if !r.text.trim().is_empty() => r.text,
            Ok(_) => {
                error = Some(format!(
                    "the template made an empty post for {:?}",
                    item.title
                ));
                continue;
            }
            Err(e) => {
                error = Some(format!("item {:?}: {e}", item.title));
                continue;
            }
        };
        let now = Utc::now().timestamp_millis();
        let post = Post {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: ws.clone(),
            author_id: feed.created_by.clone(),
            title: None,
            body: text,
            state: PostState::Scheduled,
            scheduled_ms: Some(now),
            zone: "UTC".into(),
            created_ms: now,
            updated_ms: now,
        };
        if let Err(e) = stamping.fields(&post) {
            error = Some(format!("item {:?} cannot be synced: {e}", item.title));
            continue;
        }
        let targets: Vec<Target> = accounts
            .iter()
            .map(|a| Target::new(&post, a, now))
            .collect();
        let shaped = crate::approvals::made_post(
            storage.as_ref(),
            &post,
            targets,
            &[feed.created_by.as_str()],
        )
        .await;
        let (targets, events_of) = match shaped {
            Ok(shaped) => shaped,
            Err(e) => {
                error = Some(format!("could not read the approval settings: {e}"));
                break;
            }
        };
        let queued = feed.queue.then(|| Queued {
            now_ms: now,
            events: events_of.clone(),
        });
        match storage
            .post_feed_item(
                &feed.id,
                keys,
                &post,
                &targets,
                &events_of(&post),
                queued.as_ref(),
                &stamps,
            )
            .await
        {
            Ok(true) => made += 1,
            Ok(false) => {}
            Err(StorageError::NoQueueSlot(why)) => {
                // Left unseen: it posts once the account has a free slot.
                error = Some(why);
                break;
            }
            Err(e) => {
                error = Some(format!(
                    "could not store the post for {:?}: {e}",
                    item.title
                ))
            }
        }
    }
    if made > 0 {
        tracing::info!(feed = %feed.id, "{made} new feed item(s) posted");
        outbox.wake();
    }
    error.map_or(Ok(()), Err)
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= ERROR_MAX {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(ERROR_MAX - 1).collect();
    cut.push('…');
    cut
}
