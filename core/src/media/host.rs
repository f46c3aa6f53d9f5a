//! Public media URLs: networks that fetch a post's media themselves (Instagram) need each
//! file at a URL they can reach. A [`MediaHost`] puts the file there, hands out a URL that
//! works for an hour, and removes the file once the post is confirmed.
//!
//! The one host so far is an S3-compatible bucket ([`S3Host`], `[media.host]` in
//! config.toml, its secret key in the secret store under [`SECRET_NAME`]). Requests are
//! signed with `rusty-s3` (AWS Signature V4, sans-IO: it only builds presigned URLs) and
//! sent with postctl's own HTTP client, so no AWS SDK is compiled in. The sync server can
//! become a second implementation of the same trait.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::platforms::{Http, MediaFile, PublishError};
use crate::secrets::Secret;

/// How long a URL given to a network stays valid.
pub const URL_VALID_FOR: Duration = Duration::from_secs(60 * 60);
/// How long the signature of postctl's own upload and delete requests is valid.
const REQUEST_VALID_FOR: Duration = Duration::from_secs(5 * 60);
/// The secret store entry `postctl media host set --secret-stdin` writes.
pub const SECRET_NAME: &str = "media/host";

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a network fetches a post's media from.
pub trait MediaHost: Send + Sync {
    /// Stores `file` under `key` (a name unique to the part and the file).
    fn put<'a>(
        &'a self,
        key: &'a str,
        file: &'a MediaFile,
    ) -> BoxFuture<'a, Result<(), PublishError>>;
    /// A URL the network can GET the object from, valid for [`URL_VALID_FOR`].
    fn url(&self, key: &str) -> String;
    /// Removes the object; one already gone counts as removed.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), PublishError>>;
}

/// Where an engine gets the media files of a post that are not in its media dir yet: the
/// server's media store, for a process that never received the upload itself.
pub trait MediaSource: Send + Sync {
    /// Puts the file `media` at `path` (where the engine reads it), its bytes checked
    /// against its SHA-256; a retryable error when the store cannot be reached.
    fn fetch<'a>(
        &'a self,
        media: &'a crate::model::MediaRef,
        path: &'a std::path::Path,
    ) -> BoxFuture<'a, Result<(), PublishError>>;
}

/// `[media.host]` in config.toml: an S3-compatible bucket (AWS S3, Cloudflare R2,
/// Backblaze B2, MinIO, Garage...). The secret access key is never here, only where it is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The S3 endpoint, e.g. `https://s3.eu-central-1.amazonaws.com` or
    /// `https://<account>.r2.cloudflarestorage.com`.
    pub endpoint: String,
    pub bucket: String,
    /// The bucket's region (`auto` for R2).
    pub region: String,
    pub access_key_id: String,
    /// Where the secret access key is: `keyring:media/host`, `file:media/host` or
    /// `env:VAR` (`postctl media host set --secret-stdin|--secret-env` writes it).
    pub secret: String,
    /// Object names start with this (default `postctl/`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

fn default_prefix() -> String {
    "postctl/".into()
}

/// `[media]` in config.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    pub host: Option<HostConfig>,
}

/// The line to add when no host is configured, for refusals.
pub const SETUP_HINT: &str = "postctl media host set --endpoint https://s3.REGION.amazonaws.com --bucket BUCKET --region REGION --access-key-id KEY_ID --secret-stdin < secret.txt";

/// Why there is no host, with the line that sets one up.
pub fn not_configured() -> String {
    format!("no media host is set up ([media.host] in config.toml); add one with `{SETUP_HINT}`")
}

/// An S3-compatible bucket, reached with path-style URLs (`{endpoint}/{bucket}/{key}`),
/// which every S3-compatible server accepts.
pub struct S3Host {
    bucket: rusty_s3::Bucket,
    credentials: rusty_s3::Credentials,
    prefix: String,
    http: Http,
    /// What to check when the bucket refuses a request (where its settings are).
    hint: String,
}

impl std::fmt::Debug for S3Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Host")
            .field("bucket", &self.bucket.name())
            .field("url", &self.bucket.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl S3Host {
    pub fn new(config: &HostConfig, secret: &Secret, http: Http) -> Result<S3Host, String> {
        let endpoint: reqwest::Url = config.endpoint.parse().map_err(|e| {
            format!(
                "[media.host] endpoint {:?} is not a URL ({e}); use e.g. https://s3.eu-central-1.amazonaws.com",
                config.endpoint
            )
        })?;
        let bucket = rusty_s3::Bucket::new(
            endpoint,
            rusty_s3::UrlStyle::Path,
            config.bucket.clone(),
            config.region.clone(),
        )
        .map_err(|e| {
            format!(
                "[media.host] cannot use bucket {:?} at {:?}: {e}",
                config.bucket, config.endpoint
            )
        })?;
        Ok(S3Host {
            bucket,
            credentials: rusty_s3::Credentials::new(
                config.access_key_id.clone(),
                secret.expose().to_owned(),
            ),
            prefix: config.prefix.clone(),
            http,
            hint: "check [media.host] and the secret key with `postctl media host show`".into(),
        })
    }

    /// The same host, naming `hint` (where its settings are) when the bucket refuses a
    /// request: the server's bucket is set in server.toml, not config.toml.
    pub fn with_hint(mut self, hint: &str) -> S3Host {
        self.hint = hint.to_owned();
        self
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        self.bucket.name()
    }

    /// Stores `bytes` under `key` with `content_type`; `name` names the file in errors.
    pub async fn put_bytes(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        name: &str,
    ) -> Result<(), PublishError> {
        use rusty_s3::S3Action;
        let object = self.object(key);
        let mut action = self.bucket.put_object(Some(&self.credentials), &object);
        action
            .headers_mut()
            .insert("content-type", content_type.to_owned());
        let url = action.sign(REQUEST_VALID_FOR);
        let request = self
            .http
            .client()
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes);
        let answer = self
            .http
            .exchange("media host", request)
            .await
            .map_err(|e| self.failed(&format!("did not take {name}"), e))?;
        if answer.is_success() {
            return Ok(());
        }
        let error = crate::platforms::http::classify(
            answer.status,
            format!("HTTP {}{}", answer.status, answer.excerpt()),
            answer.retry_after(),
        );
        Err(self.failed(&format!("refused {name} ({})", self.hint), error))
    }

    /// The bytes of the object `key`, `None` when the bucket has no such object; an object
    /// larger than `limit` bytes is an error.
    pub async fn get(&self, key: &str, limit: usize) -> Result<Option<Vec<u8>>, PublishError> {
        use rusty_s3::S3Action;
        let object = self.object(key);
        let url = self
            .bucket
            .get_object(Some(&self.credentials), &object)
            .sign(REQUEST_VALID_FOR);
        let mut response = self
            .http
            .send("media host", self.http.client().get(url))
            .await
            .map_err(|e| self.failed("could not be reached to read a file", e))?;
        let status = response.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let retry_after = crate::platforms::http::retry_after(
                response.headers(),
                std::time::SystemTime::now(),
            );
            let error =
                crate::platforms::http::classify(status, format!("HTTP {status}"), retry_after);
            return Err(self.failed(&format!("did not give a file ({})", self.hint), error));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            self.failed(
                "broke off while giving a file",
                crate::platforms::http::transport_error(e),
            )
        })? {
            if bytes.len() + chunk.len() > limit {
                return Err(self.failed(
                    "gave a file",
                    PublishError::permanent(format!("larger than {limit} bytes")),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    /// Whether the bucket holds the object `key` (a `HEAD` request).
    pub async fn exists(&self, key: &str) -> Result<bool, PublishError> {
        use rusty_s3::S3Action;
        let object = self.object(key);
        let url = self
            .bucket
            .head_object(Some(&self.credentials), &object)
            .sign(REQUEST_VALID_FOR);
        let answer = self
            .http
            .exchange("media host", self.http.client().head(url))
            .await
            .map_err(|e| self.failed("could not be reached to look for a file", e))?;
        match answer.status {
            200..=299 => Ok(true),
            404 => Ok(false),
            status => Err(self.failed(
                &format!("did not say whether it has a file ({})", self.hint),
                crate::platforms::http::classify(
                    status,
                    format!("HTTP {status}"),
                    answer.retry_after(),
                ),
            )),
        }
    }

    fn object(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn failed(&self, what: &str, error: PublishError) -> PublishError {
        // Nothing was posted: the network has not been asked anything yet.
        let message = format!(
            "the media host (bucket {}) {what}: {error}",
            self.bucket.name()
        );
        match error {
            PublishError::Retryable {
                retry_after,
                status,
                ..
            } => PublishError::Retryable {
                message,
                retry_after,
                maybe_sent: false,
                status,
            },
            PublishError::Auth { status, .. }
            | PublishError::Permanent { status, .. }
            | PublishError::NeedsPerson { status, .. } => {
                PublishError::Permanent { message, status }
            }
        }
    }
}

impl MediaHost for S3Host {
    fn put<'a>(
        &'a self,
        key: &'a str,
        file: &'a MediaFile,
    ) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async move {
            let bytes = crate::platforms::http::read_media(file).await?;
            self.put_bytes(key, bytes, &file.mime, &file.file_name)
                .await
        })
    }

    fn url(&self, key: &str) -> String {
        use rusty_s3::S3Action;
        let object = self.object(key);
        self.bucket
            .get_object(Some(&self.credentials), &object)
            .sign(URL_VALID_FOR)
            .to_string()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async move {
            use rusty_s3::S3Action;
            let object = self.object(key);
            let url = self
                .bucket
                .delete_object(Some(&self.credentials), &object)
                .sign(REQUEST_VALID_FOR);
            let answer = self
                .http
                .exchange("media host", self.http.client().delete(url))
                .await
                .map_err(|e| self.failed("could not be reached to remove a file", e))?;
            if answer.is_success() || answer.status == 404 {
                return Ok(());
            }
            Err(self.failed(
                "did not remove a file",
                PublishError::permanent(format!("HTTP {}{}", answer.status, answer.excerpt())),
            ))
        })
    }
}

/// `text` (a config.toml) with `[media.host]` set to `host`; the rest of the file, comments
/// included, is kept.
pub fn set_in_toml(text: &str, host: &HostConfig) -> std::result::Result<String, String> {
    use toml_edit::{DocumentMut, Item, Table, value};
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string().trim().replace('\n', " "))?;
    if doc.get("media").is_none() {
        let mut media = Table::new();
        media.set_implicit(true);
        if !text.trim().is_empty() {
            media.decor_mut().set_prefix("\n");
        }
        doc.insert("media", Item::Table(media));
    }
    let Some(media) = doc.get_mut("media").and_then(Item::as_table_mut) else {
        return Err("`media` must be a table ([media])".into());
    };
    let mut table = Table::new();
    table.insert("endpoint", value(&host.endpoint));
    table.insert("bucket", value(&host.bucket));
    table.insert("region", value(&host.region));
    table.insert("access_key_id", value(&host.access_key_id));
    table.insert("secret", value(&host.secret));
    table.insert("prefix", value(&host.prefix));
    media.insert("host", Item::Table(table));
    Ok(doc.to_string())
}

/// Sets `[media.host]` in the config file at `path` (created if missing).
pub fn write_config(path: &std::path::Path, host: &HostConfig) -> crate::error::Result<()> {
    crate::config::edit_file(
        path,
        |text| {
            set_in_toml(text, host).map_err(|detail| crate::error::Error::Config {
                path: path.to_path_buf(),
                detail,
            })
        },
        |_| Ok(()),
    )
}

impl HostConfig {
    /// A host as `postctl media host set` is given it, checked: an http(s) endpoint, and
    /// no field empty.
    pub fn new(
        endpoint: &str,
        bucket: &str,
        region: &str,
        access_key_id: &str,
        secret: String,
    ) -> std::result::Result<HostConfig, String> {
        let url: reqwest::Url = endpoint.trim().parse().map_err(|_| {
            format!("--endpoint takes the bucket service's URL, e.g. https://s3.eu-central-1.amazonaws.com; got {endpoint:?}")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "--endpoint takes an http(s) URL, e.g. https://s3.eu-central-1.amazonaws.com; got {endpoint:?}"
            ));
        }
        for (flag, given) in [
            ("--bucket", bucket),
            ("--region", region),
            ("--access-key-id", access_key_id),
        ] {
            if given.trim().is_empty() || given.chars().any(char::is_control) {
                return Err(format!("{flag} must not be empty"));
            }
        }
        Ok(HostConfig {
            endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
            bucket: bucket.trim().to_owned(),
            region: region.trim().to_owned(),
            access_key_id: access_key_id.trim().to_owned(),
            secret,
            prefix: default_prefix(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_goes_into_media_host_keeping_the_rest() {
        let text = "# mine\ntimezone = \"UTC\"\n";
        let host = HostConfig::new(
            "https://s3.example.org/",
            "pics",
            "eu-1",
            "AKID",
            "keyring:media/host".into(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let updated = set_in_toml(text, &host).unwrap_or_else(|e| panic!("{e}"));
        assert!(updated.starts_with(text), "{updated}");
        let config: crate::config::Config =
            toml::from_str(&updated).unwrap_or_else(|e| panic!("{e}: {updated}"));
        assert_eq!(config.media.host, Some(host));
        assert!(HostConfig::new("s3.example.org", "b", "r", "k", String::new()).is_err());
        assert!(HostConfig::new("https://s3.example.org", " ", "r", "k", String::new()).is_err());
    }

    #[test]
    fn a_presigned_url_is_signed_for_an_hour_without_the_secret() {
        let host = HostConfig::new(
            "http://127.0.0.1:9/",
            "pics",
            "us-east-1",
            "AKID",
            String::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let http = Http::new(Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
        let s3 = S3Host::new(&host, &Secret::new("sekrit-key".into()), http)
            .unwrap_or_else(|e| panic!("{e}"));
        let url = s3.url("t1-0-0-a.jpg");
        assert!(
            url.starts_with("http://127.0.0.1:9/pics/postctl/t1-0-0-a.jpg?"),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Expires=3600",
            "X-Amz-Signature=",
            "AKID",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert!(!url.contains("sekrit"), "{url}");
    }
}
