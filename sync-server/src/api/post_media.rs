//! A post's media through the API: `POST /api/v1/posts` and `PATCH /api/v1/posts/{id}`
//! take `media`, a list of `{"sha256", "alt"}` naming files already uploaded to the
//! workspace's media store (`PUT /api/v1/media/{sha256}`, `api/media.rs`). Each file is
//! described from its stored bytes (type, size, an image's dimensions: core's
//! `media::describe_stored`), never from the caller, and checked against the limits of each
//! network the post goes to (core's capabilities) before anything is stored.
//!
//! The list is kept as sync keeps a device's: the post's `media` field in
//! `post_field_stamps` (a JSON array of core's `MediaRef`), so a device catching up sees the
//! API's files and the publisher's claim reads them from one place.

use postctl_core::model::MediaRef;
use postctl_core::platforms;
use postctl_core::sync::{Field, Operation, ScheduleValue, is_sha256};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::problem::Problem;
use crate::storage::{self, Account, ApiField, Post, PostState, StampedField, core_account};

/// The device name the API stamps its writes with.
pub const API_DEVICE: &str = "api";

/// A file a post attaches, as the API takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaIn {
    /// The file's SHA-256 (64 lowercase hex digits), as it was uploaded.
    sha256: String,
    /// The text describing it for people who cannot see it.
    #[serde(default)]
    alt: Option<String>,
}

/// The most files one post may attach (what one sync operation carries).
const MEDIA_MAX: usize = 32;
/// The longest alt text, in characters.
const ALT_MAX: usize = 1500;

/// The files `wanted` names, described from the workspace's media store, in order: 422
/// `media-not-uploaded` naming those it lacks, 422 `invalid-field` for a bad hash or a file
/// postctl cannot attach.
pub async fn resolve(
    state: &AppState,
    workspace_id: &str,
    wanted: &[MediaIn],
) -> Result<Vec<MediaRef>, Problem> {
    if wanted.len() > MEDIA_MAX {
        return Err(Problem::invalid_field(format!(
            "`media` names {} files; a post attaches at most {MEDIA_MAX}",
            wanted.len()
        )));
    }
    for (i, m) in wanted.iter().enumerate() {
        if !is_sha256(&m.sha256) {
            return Err(Problem::invalid_field(format!(
                "`media[{i}].sha256` {:?} is not a SHA-256: write the file's hash as 64 \
                 lowercase hex digits",
                m.sha256
            )));
        }
        if m.alt.as_ref().is_some_and(|a| a.chars().count() > ALT_MAX) {
            return Err(Problem::invalid_field(format!(
                "`media[{i}].alt` is longer than {ALT_MAX} characters"
            )));
        }
        if wanted[..i].iter().any(|o| o.sha256 == m.sha256) {
            return Err(Problem::invalid_field(format!(
                "`media[{i}]` attaches {} a second time; attach each file once",
                m.sha256
            )));
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let hashes: Vec<String> = wanted.iter().map(|m| m.sha256.clone()).collect();
    let known = state.storage.known_media(workspace_id, &hashes).await?;
    let missing: Vec<String> = hashes
        .iter()
        .filter(|h| !known.contains(h))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Problem::media_not_uploaded(&missing));
    }
    let mut located = Vec::with_capacity(wanted.len());
    for m in wanted {
        let path = state.media.local_copy(&m.sha256).await.map_err(|e| {
            tracing::error!("media store ({}): {e}", state.media.describe());
            Problem::unavailable(
                "the server's media store cannot be reached just now; try again in a moment",
            )
        })?;
        located.push((m.clone(), path));
    }
    let described = tokio::task::spawn_blocking(move || {
        located
            .into_iter()
            .map(|(m, path)| {
                let Some(path) = path else {
                    return Err(Err(m.sha256));
                };
                postctl_core::media::describe_stored(&path, &m.sha256, m.alt)
                    .map_err(|reason| Ok(format!("media file {}: {reason}", m.sha256)))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| {
        tracing::error!("describing media files stopped: {e}");
        Problem::internal()
    })?;
    match described {
        Ok(media) => Ok(media),
        Err(Ok(reason)) => Err(Problem::invalid_field(reason)),
        // Recorded for the workspace but gone from the media dir: uploading it again
        // brings it back.
        Err(Err(sha256)) => {
            tracing::warn!(
                "media file {sha256} is recorded but missing from {}",
                state.media.describe()
            );
            Err(Problem::media_not_uploaded(&[sha256]))
        }
    }
}

/// Why `media` cannot go to `account`, by core's rules for its network: how many files a
/// post takes there (none where postctl cannot send media yet), the networks that fetch
/// files from a URL (without the server's media bucket), and images over its size limit that
/// postctl cannot shrink (only PNG, JPEG and WebP are). `None` when they fit, or when core
/// cannot publish to the network at all (the publisher says so for text too).
pub fn unfit(account: &Account, media: &[MediaRef], host: bool) -> Option<String> {
    if media.is_empty() {
        return None;
    }
    let core = core_account(account)?;
    let caps = platforms::capabilities(&core, None).ok()?;
    let network = core.network.display_name();
    let name = &account.name;
    if let Some(refusal) = platforms::media_refusal(core.network, media.len(), host) {
        // Core names the device's setting; the server's is `[media]`.
        let refusal = match platforms::media_refusal(core.network, media.len(), true) {
            None => format!(
                "{network} fetches images from a public URL, and {}",
                crate::media_store::NO_BUCKET
            ),
            Some(_) => refusal,
        };
        return Some(format!("account {name:?} ({network}): {refusal}"));
    }
    if caps.max_media == 0 {
        return Some(format!(
            "account {name:?} ({network}): postctl cannot send media to {network} yet; leave \
             `media` out for this account"
        ));
    }
    if media.len() > caps.max_media {
        return Some(format!(
            "account {name:?} ({network}): {} media files attached; {network} takes at most {} \
             per post",
            media.len(),
            caps.max_media
        ));
    }
    let shrinkable = ["image/png", "image/jpeg", "image/webp"];
    media
        .iter()
        .find(|m| {
            m.mime.starts_with("image/")
                && m.size > caps.max_image_bytes
                && !shrinkable.contains(&m.mime.as_str())
        })
        .map(|m| {
            format!(
                "account {name:?} ({network}): media file {} is a {} of {:.1} MB, over the {:.1} \
                 MB {network} takes, and postctl only shrinks PNG, JPEG and WebP images: upload \
                 a smaller file",
                m.sha256,
                m.mime,
                m.size as f64 / 1e6,
                caps.max_image_bytes as f64 / 1e6
            )
        })
}

/// Checks `media` against every account of `accounts` (`host`: the server has a media
/// bucket to give URLs from): the first refusal as 422.
pub fn check_fit(accounts: &[Account], media: &[MediaRef], host: bool) -> Result<(), Problem> {
    match accounts.iter().find_map(|a| unfit(a, media, host)) {
        Some(reason) => Err(Problem::invalid_field(format!("`media`: {reason}"))),
        None => Ok(()),
    }
}

/// The post's media list as its stamped `media` field holds it (none when it has none).
pub fn media_of(fields: &[StampedField]) -> Vec<MediaRef> {
    let field = fields.iter().find(|f| f.field == Field::Media.as_str());
    storage::media_list(field.map(|f| f.value.as_str()))
}

/// The media list as the API shows it.
pub fn view(media: &[MediaRef]) -> Value {
    serde_json::to_value(media).unwrap_or(Value::Array(Vec::new()))
}

/// A stamped write of `field` with `value`, checked as a device's operation is (core's
/// `Operation::edit`), so every replica takes it.
fn field(post: &Post, field: Field, value: Value, now_ms: i64) -> Result<ApiField, Problem> {
    let op = Operation {
        post: post.id.clone(),
        field,
        value,
        at_ms: now_ms,
        device: API_DEVICE.to_string(),
    };
    op.edit().map_err(Problem::invalid_field)?;
    Ok(ApiField {
        field: field.as_str(),
        value: op.value.to_string(),
        at_ms: now_ms,
        device: op.device,
    })
}

/// What the API changed in a post, for [`stamps`].
#[derive(Debug, Default)]
pub struct Written<'a> {
    pub body: bool,
    pub title: bool,
    pub schedule: bool,
    /// The names of the accounts it goes to, when they changed.
    pub targets: Option<Vec<String>>,
    pub media: Option<&'a [MediaRef]>,
    /// Whether the post is deleted, when that was written: `Some(false)` for a new post
    /// (as a device's new post carries it), `Some(true)` for a deletion.
    pub deleted: Option<bool>,
}

/// The stamped fields for what the API wrote to `post` at `now_ms`: the fields it changed.
pub fn stamps(post: &Post, written: &Written<'_>, now_ms: i64) -> Result<Vec<ApiField>, Problem> {
    let mut fields = Vec::new();
    if written.body {
        fields.push(field(
            post,
            Field::Body,
            Value::String(post.body.clone()),
            now_ms,
        )?);
    }
    if written.title {
        let title = post.title.clone().map_or(Value::Null, Value::String);
        fields.push(field(post, Field::Title, title, now_ms)?);
    }
    if written.schedule {
        let schedule = ScheduleValue {
            kind: match post.state {
                PostState::Scheduled => "at",
                PostState::Draft => "none",
            }
            .to_string(),
            rule: None,
            due_ms: post
                .scheduled_ms
                .filter(|_| post.state == PostState::Scheduled),
            zone: post.zone.clone(),
        };
        let value = serde_json::to_value(schedule).map_err(|e| {
            tracing::error!("a schedule did not serialise: {e}");
            Problem::internal()
        })?;
        fields.push(field(post, Field::Schedule, value, now_ms)?);
    }
    if let Some(names) = &written.targets {
        let value = Value::Array(names.iter().cloned().map(Value::String).collect());
        fields.push(field(post, Field::Targets, value, now_ms)?);
    }
    if let Some(media) = written.media {
        fields.push(field(post, Field::Media, view(media), now_ms)?);
    }
    if let Some(deleted) = written.deleted {
        fields.push(field(post, Field::Deleted, Value::Bool(deleted), now_ms)?);
    }
    Ok(fields)
}
