//! The container → publish flow of Instagram and Threads, written
//! once. Meta fetches media from a public URL, so each file first goes to the media host
//! ([`crate::media::host`]), which hands out a URL valid for an hour. Then:
//! 1. a container (`POST /{user-id}/media` or `/threads`) → `{id}`, made by the network's
//!    [`Containers::create`] (a carousel is one child container per image, then a parent);
//! 2. `GET /{container-id}?fields=…` until its status is `FINISHED`;
//! 3. the container id is noted with the part in flight ([`super::super::Stage`]), durably;
//! 4. `POST /{user-id}/{publish edge} {creation_id}` → `{id}`, the post; its link is
//!    `GET /{id}?fields=permalink`; the files leave the media host.
//!
//! No request carries an idempotency key, but the noted container makes a retry safe
//! ([`super::super::Idempotency::Checked`]): an attempt that finds a noted container asks
//! its status first. `PUBLISHED`: the post exists, found among the account's recent posts
//! by its text ([`Containers::find_published`]), and never published again. `FINISHED`
//! (or still `IN_PROGRESS`): the publish did not take, so the same container is published.
//! `EXPIRED` or `ERROR`: a new container (the old one cannot be published). A crash before
//! the note can leave only an unpublished container, which Meta drops after a day.
//!
//! The status field is `status_code` on Instagram and `status` on Threads (unconfirmed in
//! Meta's documentation): both are read, whichever the answer has.

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use super::super::{MediaFile, Part, PublishError, Published};
use super::{Call, Graph, id_of};
use crate::media::host::MediaHost;

/// How long a container may stay `IN_PROGRESS` before the attempt gives up (and the next
/// attempt checks the same container again).
const PROCESSING_LIMIT: Duration = Duration::from_secs(60);

/// What a network that posts through containers says about its own steps.
pub(in crate::platforms) trait Containers: Send + Sync {
    /// The account's Graph API.
    fn graph(&self) -> &Graph;
    /// The user id whose edges are posted to.
    fn user_id(&self) -> &str;
    /// The edge that publishes a container: `media_publish`, `threads_publish`.
    const PUBLISH_EDGE: &'static str;
    /// The container fields asked for its status.
    const STATUS_FIELDS: &'static str;

    /// Refuses to start a post the account's publishing quota cannot take.
    fn check_quota(&self, part: &Part) -> impl Future<Output = Result<(), PublishError>> + Send;

    /// The container for `part`, its files already on the media host at `urls`.
    fn create(
        &self,
        part: &Part,
        urls: &[String],
    ) -> impl Future<Output = Result<String, PublishError>> + Send;

    /// The post a published container became, found among the account's recent posts.
    fn find_published(
        &self,
        part: &Part,
    ) -> impl Future<Output = Result<Published, PublishError>> + Send;
}

/// Publishes `part` through containers, checking a container an earlier attempt noted
/// instead of making a second one. `host` is needed when the part has media.
pub(in crate::platforms) async fn publish<C: Containers>(
    network: &C,
    part: &Part,
    host: Option<&dyn MediaHost>,
) -> Result<Published, PublishError> {
    if let Some(stage) = &part.stage.earlier
        && let Some(container) = stage.get("container").and_then(Value::as_str)
    {
        let objects = objects_in(stage);
        match status(network, container).await?.as_str() {
            "PUBLISHED" => {
                let published = network.find_published(part).await?;
                clean_up(host, &objects).await;
                return Ok(published);
            }
            "FINISHED" | "IN_PROGRESS" => {
                return finish(network, host, part, container, &objects).await;
            }
            // EXPIRED or ERROR: it can never be published; a new one is made below.
            _ => clean_up(host, &objects).await,
        }
    }
    network.check_quota(part).await?;
    let mut objects = Vec::with_capacity(part.media.len());
    let mut urls = Vec::with_capacity(part.media.len());
    if !part.media.is_empty() {
        let Some(host) = host else {
            return Err(PublishError::permanent(format!(
                "{} fetches media from a public URL, and {}",
                network.graph().says(),
                crate::media::host::not_configured()
            )));
        };
        for (i, file) in part.media.iter().enumerate() {
            let key = object_key(&part.idempotency_key, i, &file.file_name);
            if let Err(e) = host.put(&key, file).await {
                clean_up(Some(host), &objects).await;
                return Err(e);
            }
            urls.push(host.url(&key));
            objects.push(key);
        }
    }
    let container = match network.create(part, &urls).await {
        Ok(container) => container,
        Err(e) => {
            clean_up(host, &objects).await;
            return Err(super::super::http::not_posted(e));
        }
    };
    finish(network, host, part, &container, &objects).await
}

/// Makes one container on `edge` of the user (`media`, `threads`).
pub(in crate::platforms) async fn container<C: Containers>(
    network: &C,
    edge: &str,
    form: &[(&str, &str)],
) -> Result<String, PublishError> {
    let graph = network.graph();
    let answer = graph
        .post(&[network.user_id(), edge], form, Call::Prepare)
        .await?;
    id_of(&answer).ok_or_else(|| graph.unexpected("the container", Call::Prepare))
}

/// Waits for `container` to be ready, notes it, publishes it, and removes the files from
/// the host once the network holds the post.
async fn finish<C: Containers>(
    network: &C,
    host: Option<&dyn MediaHost>,
    part: &Part,
    container: &str,
    objects: &[String],
) -> Result<Published, PublishError> {
    wait_until_finished(network, container).await?;
    part.stage
        .note(&json!({"container": container, "objects": objects}))
        .await?;
    let graph = network.graph();
    let answer = graph
        .post(
            &[network.user_id(), C::PUBLISH_EDGE],
            &[("creation_id", container)],
            Call::Publish,
        )
        .await?;
    let id = id_of(&answer).ok_or_else(|| graph.unexpected(C::PUBLISH_EDGE, Call::Publish))?;
    let url = permalink(graph, &id).await;
    clean_up(host, objects).await;
    Ok(Published {
        id,
        url,
        extra: json!({"container": container}),
    })
}

/// A post's link: `GET /{id}?fields=permalink` (the field is unconfirmed; none is fine).
pub(in crate::platforms) async fn permalink(graph: &Graph, id: &str) -> Option<String> {
    let answer = graph
        .get(&[id], &[("fields", "permalink")], Call::Prepare)
        .await
        .ok()?;
    answer
        .get("permalink")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A container's status, from `status` (Threads) or `status_code` (Instagram).
async fn status<C: Containers>(network: &C, container: &str) -> Result<String, PublishError> {
    let answer = network
        .graph()
        .get(&[container], &[("fields", C::STATUS_FIELDS)], Call::Prepare)
        .await?;
    Ok(answer
        .get("status")
        .or_else(|| answer.get("status_code"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned())
}

/// Polls `container` until it is `FINISHED`, backing off up to five seconds.
pub(in crate::platforms) async fn wait_until_finished<C: Containers>(
    network: &C,
    container: &str,
) -> Result<(), PublishError> {
    let says = network.graph().says();
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match status(network, container).await?.as_str() {
            "FINISHED" => return Ok(()),
            "PUBLISHED" => {
                return Err(PublishError::maybe_sent(
                    format!("{says} says container {container} is already published"),
                    None,
                ));
            }
            "ERROR" => {
                return Err(PublishError::permanent(format!(
                    "{says} could not process the media of container {container} (status ERROR): use JPEG images under 8 MB whose URL {says} can fetch"
                )));
            }
            "EXPIRED" => {
                return Err(PublishError::Retryable {
                    message: format!(
                        "{says}'s container {container} expired before it was published; a new one is made on retry"
                    ),
                    retry_after: None,
                    maybe_sent: false,
                    status: None,
                });
            }
            _ if started.elapsed() >= PROCESSING_LIMIT => {
                return Err(PublishError::Retryable {
                    message: format!("{says} is still processing container {container}"),
                    retry_after: Some(Duration::from_secs(30)),
                    maybe_sent: false,
                    status: None,
                });
            }
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Reads a publishing quota answer (`{data: [{quota_usage, config: {quota_total,
/// quota_duration}}]}`, with `usage` and `config` naming the fields): an error when it is
/// used up, worth trying again in an hour (the window moves).
pub(in crate::platforms) fn quota_used_up(
    graph: &Graph,
    answer: &Value,
    usage: &str,
    config: &str,
    what: &str,
) -> Result<(), PublishError> {
    let Some(limit) = answer.get("data").and_then(|d| d.get(0)) else {
        return Ok(());
    };
    let used = limit.get(usage).and_then(Value::as_u64);
    let total = limit
        .get(config)
        .and_then(|c| c.get("quota_total"))
        .and_then(Value::as_u64);
    let hours = limit
        .get(config)
        .and_then(|c| c.get("quota_duration"))
        .and_then(Value::as_u64)
        .map_or(24, |seconds| seconds / 3600);
    match (used, total) {
        (Some(used), Some(total)) if used >= total => Err(PublishError::Retryable {
            message: format!(
                "{} account {} used its publishing quota: {used} of {total} {what} in {hours} h; postctl tries again in an hour",
                graph.says(),
                graph.name
            ),
            retry_after: Some(QUOTA_WAIT),
            maybe_sent: false,
            status: None,
        }),
        _ => Ok(()),
    }
}

/// The wait when the publishing quota is used up: the window moves, so look again then.
const QUOTA_WAIT: Duration = Duration::from_secs(60 * 60);

/// Among `posts` (a `data` list of `{id, <text field>, permalink}`, newest first), the
/// newest whose text is `text`.
pub(in crate::platforms) fn newest_with_text(
    posts: &Value,
    field: &str,
    text: &str,
) -> Option<Published> {
    let found = posts
        .get("data")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get(field).and_then(Value::as_str).unwrap_or("").trim() == text.trim())?;
    Some(Published {
        id: id_of(found)?,
        url: found
            .get("permalink")
            .and_then(Value::as_str)
            .map(str::to_owned),
        extra: Value::Null,
    })
}

/// Removes the files from the media host; one that stays is the bucket's to expire.
async fn clean_up(host: Option<&dyn MediaHost>, objects: &[String]) {
    let Some(host) = host else {
        return;
    };
    for object in objects {
        let _ = host.delete(object).await;
    }
}

fn objects_in(stage: &Value) -> Vec<String> {
    stage
        .get("objects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The media host's name for one file of a part: unique to the part and the file.
fn object_key(part_key: &str, index: usize, file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{part_key}-{index}-{safe}")
}

/// A file's alt text, when it has one.
pub(in crate::platforms) fn alt_of(file: &MediaFile) -> Option<&str> {
    file.alt.as_deref().filter(|a| !a.trim().is_empty())
}
