//! The server's media store: where the files devices upload by SHA-256 are kept
//! (`api/media.rs`), and where the publisher reads them.
//!
//! Two kinds: the data dir's `media/` directory (the default, `<sha256>.<extension>` as core
//! keeps files), and an S3-compatible bucket (`[media]` in server.toml), which every
//! process sharing one PostgreSQL database reaches. The bucket is spoken to with core's
//! [`S3Host`] (requests presigned with rusty-s3, sent with core's HTTP client); objects
//! are `<prefix>media/<sha256>`. A publishing process fetches a post's files from the
//! bucket into `DATA/media-cache` before the engine reads them ([`MediaSource`]), each
//! checked against its hash and kept for the next post that uses it. Instagram and
//! Threads fetch images from a public URL: on the server that URL is a presigned one of
//! the same bucket, under `<prefix>public/` ([`MediaStore::host`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postctl_core::media::host::{BoxFuture, HostConfig, MediaHost, MediaSource, S3Host};
use postctl_core::model::MediaRef;
use postctl_core::platforms::{Http, PublishError};
use postctl_core::secrets::Secret;

use crate::auth::sha256_hex;
use crate::config::MediaBucket;

/// The largest media file the server takes (a short video).
pub const MEDIA_MAX_BYTES: usize = 100 * 1024 * 1024;
/// How long one request to the bucket may take (a file of [`MEDIA_MAX_BYTES`] included).
const BUCKET_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
/// What to check when the bucket refuses a request.
const HINT: &str = "check [media] in server.toml and POSTCTL_SERVER_MEDIA_SECRET_KEY";
/// Why a server without a bucket cannot publish media that networks fetch from a URL.
pub const NO_BUCKET: &str = "this server has no media bucket to give them a URL from: \
     configure an S3-compatible bucket in server.toml's [media] section (endpoint, bucket, \
     region, access_key_id; the secret key in POSTCTL_SERVER_MEDIA_SECRET_KEY or \
     secret_key_file), see the README's \"Run a server\"";

/// Where uploaded media files live.
pub enum MediaStore {
    /// `<dir>/<sha256>.<extension>`.
    Directory(PathBuf),
    Bucket(Box<Bucket>),
}

/// An S3-compatible bucket, with the local cache the publisher reads from.
pub struct Bucket {
    s3: S3Host,
    /// The bucket with the public prefix, for networks that fetch from a URL.
    host: Arc<dyn MediaHost>,
    cache: PathBuf,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn object(sha256: &str) -> String {
    format!("media/{sha256}")
}

impl MediaStore {
    /// The store the settings name: the bucket of `[media]`, else `DATA/media`.
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<MediaStore> {
        match &settings.media {
            None => Ok(MediaStore::Directory(settings.data_dir.join("media"))),
            Some(bucket) => Ok(MediaStore::Bucket(Box::new(Bucket::new(
                bucket,
                settings.data_dir.join("media-cache"),
            )?))),
        }
    }

    /// What the store is, for the log: never the secret key.
    pub fn describe(&self) -> String {
        match self {
            MediaStore::Directory(dir) => format!("the directory {}", dir.display()),
            MediaStore::Bucket(bucket) => format!("the S3 bucket {}", bucket.s3.bucket()),
        }
    }

    /// Where the publisher's engine reads media files: the directory, or the bucket's
    /// local cache.
    pub fn engine_dir(&self) -> PathBuf {
        match self {
            MediaStore::Directory(dir) => dir.clone(),
            MediaStore::Bucket(bucket) => bucket.cache.clone(),
        }
    }

    /// The bucket with the public prefix, for Instagram and Threads, or why there is none.
    pub fn host(&self) -> Result<Arc<dyn MediaHost>, String> {
        match self {
            MediaStore::Directory(_) => Err(NO_BUCKET.to_string()),
            MediaStore::Bucket(bucket) => Ok(Arc::clone(&bucket.host)),
        }
    }

    /// Where the engine fetches files missing from [`MediaStore::engine_dir`]: the
    /// bucket; `None` for the directory, which is that dir.
    pub fn source(self: &Arc<Self>) -> Option<Arc<dyn MediaSource>> {
        match self.as_ref() {
            MediaStore::Directory(_) => None,
            MediaStore::Bucket(_) => Some(Arc::clone(self) as Arc<dyn MediaSource>),
        }
    }

    /// Stores `bytes`, whose SHA-256 the caller checked is `sha256`; a file already there
    /// (same hash, so same bytes) is kept.
    pub async fn put(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), String> {
        match self {
            MediaStore::Directory(dir) => {
                let path = dir.join(postctl_core::media::stored_name(sha256, &bytes));
                tokio::task::spawn_blocking(move || write_once(&path, &bytes))
                    .await
                    .map_err(|e| format!("storing a media file stopped: {e}"))?
                    .map_err(|e| format!("could not store media file {sha256}: {e}"))
            }
            MediaStore::Bucket(bucket) => {
                if bucket
                    .s3
                    .exists(&object(sha256))
                    .await
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let mime = postctl_core::media::sniff(&bytes)
                    .map_or("application/octet-stream", |kind| kind.mime);
                bucket
                    .s3
                    .put_bytes(&object(sha256), bytes, mime, sha256)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The bytes of file `sha256`, `None` when the store has no such file.
    pub async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            MediaStore::Directory(dir) => {
                let dir = dir.clone();
                let sha256 = sha256.to_string();
                tokio::task::spawn_blocking(move || {
                    match postctl_core::media::find_stored(&dir, &sha256) {
                        Some(path) => match std::fs::read(path) {
                            Ok(bytes) => Ok(Some(bytes)),
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                            Err(e) => Err(format!("could not read media file {sha256}: {e}")),
                        },
                        None => Ok(None),
                    }
                })
                .await
                .map_err(|e| format!("reading a media file stopped: {e}"))?
            }
            MediaStore::Bucket(bucket) => bucket
                .s3
                .get(&object(sha256), MEDIA_MAX_BYTES)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// A local file with the bytes of `sha256`, to read them from (core's
    /// `media::describe_stored`): the directory's, or the bucket's cached copy (fetched,
    /// checked against its hash, and kept); `None` when the store has no such file.
    pub async fn local_copy(&self, sha256: &str) -> Result<Option<PathBuf>, String> {
        let dir = self.engine_dir();
        if let Some(path) = postctl_core::media::find_stored(&dir, sha256) {
            return Ok(Some(path));
        }
        let MediaStore::Bucket(_) = self else {
            return Ok(None);
        };
        let Some(bytes) = self.get(sha256).await? else {
            return Ok(None);
        };
        if sha256_hex(&bytes) != sha256 {
            return Err(format!(
                "the media bucket holds other bytes under {sha256}; delete the object there \
                 and upload the file again"
            ));
        }
        let path = dir.join(postctl_core::media::stored_name(sha256, &bytes));
        let written = path.clone();
        tokio::task::spawn_blocking(move || write_once(&written, &bytes))
            .await
            .map_err(|e| format!("caching a media file stopped: {e}"))?
            .map_err(|e| format!("could not keep media file {sha256} in the cache: {e}"))?;
        Ok(Some(path))
    }

    /// Whether the store holds file `sha256`.
    pub async fn has(&self, sha256: &str) -> Result<bool, String> {
        match self {
            MediaStore::Directory(dir) => {
                Ok(postctl_core::media::find_stored(dir, sha256).is_some())
            }
            MediaStore::Bucket(bucket) => bucket
                .s3
                .exists(&object(sha256))
                .await
                .map_err(|e| e.to_string()),
        }
    }
}

impl Bucket {
    fn new(config: &MediaBucket, cache: PathBuf) -> anyhow::Result<Bucket> {
        let http = |what: &str| {
            Http::new(BUCKET_TIMEOUT)
                .map_err(|e| anyhow::anyhow!("could not set up HTTP for the media {what}: {e}"))
        };
        let with_prefix = |prefix: String| HostConfig {
            endpoint: config.endpoint.clone(),
            bucket: config.bucket.clone(),
            region: config.region.clone(),
            access_key_id: config.access_key_id.clone(),
            // A reference for core's config file; the key itself is passed below.
            secret: String::new(),
            prefix,
        };
        let secret = || Secret::new(config.secret_key.expose().to_string());
        let s3 = S3Host::new(
            &with_prefix(config.prefix.clone()),
            &secret(),
            http("store")?,
        )
        .map_err(|e| anyhow::anyhow!(e.replace("[media.host]", "[media]")))?
        .with_hint(HINT);
        let host = S3Host::new(
            &with_prefix(format!("{}public/", config.prefix)),
            &secret(),
            http("host")?,
        )
        .map_err(|e| anyhow::anyhow!(e.replace("[media.host]", "[media]")))?
        .with_hint(HINT);
        Ok(Bucket {
            s3,
            host: Arc::new(host),
            cache,
        })
    }
}

impl MediaSource for MediaStore {
    fn fetch<'a>(
        &'a self,
        media: &'a MediaRef,
        path: &'a Path,
    ) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async move {
            let MediaStore::Bucket(bucket) = self else {
                return Ok(());
            };
            let bytes = bucket
                .s3
                .get(&object(&media.sha256), MEDIA_MAX_BYTES)
                .await?
                .ok_or_else(|| {
                    PublishError::permanent(format!(
                        "the media file {} ({}) is not in the server's media bucket {}: the \
                         device that has it uploads it when it syncs (`postctl sync`)",
                        media.file_name,
                        media.sha256,
                        bucket.s3.bucket()
                    ))
                })?;
            let actual = sha256_hex(&bytes);
            if actual != media.sha256 {
                return Err(PublishError::permanent(format!(
                    "the media bucket {} holds other bytes under {} (their SHA-256 is \
                     {actual}); delete the object there and sync the file again",
                    bucket.s3.bucket(),
                    media.sha256
                )));
            }
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || write_once(&path, &bytes))
                .await
                .map_err(|e| PublishError::permanent(format!("caching a media file stopped: {e}")))?
                .map_err(|e| {
                    PublishError::permanent(format!(
                        "could not keep the media file {} in the media cache: {e}",
                        media.file_name
                    ))
                })
        })
    }
}

/// Writes the file beside its place and renames it there, so a reader never sees half a
/// file; a file already there (same hash, so same bytes) is kept.
pub fn write_once(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(path);
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
