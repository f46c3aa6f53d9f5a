//! `/api/v1/media`: the workspace's media files, addressed by their SHA-256 (issue 13). A
//! device uploads each file a post uses once (`PUT /api/v1/media/{sha256}`), after asking
//! which ones the workspace lacks (`GET /api/v1/media?missing=SHA,SHA…`); another device
//! fetches a file when it first needs it (`GET /api/v1/media/{sha256}`).
//!
//! Files live in the media store (`media_store.rs`: `DATA/media/<sha256>.<extension>`, or
//! the S3-compatible bucket of `[media]`), one copy whatever the number of workspaces
//! holding it; the `media` table says which workspaces hold which file, so a workspace
//! reads only files uploaded to it, and a file counts as held only when the store has it
//! too. The body is checked against the address's hash before anything is stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::extract::Query;
use super::problem::Problem;
use super::{AppState, now_ms};
use crate::auth::sha256_hex;

pub use crate::media_store::MEDIA_MAX_BYTES;
/// The most hashes one `missing` question may name.
const MISSING_MAX: usize = 1000;
/// How many "is it there" questions go to the store at once.
const STORE_CHECKS_AT_ONCE: usize = 16;

fn checked(sha256: &str) -> Result<&str, Problem> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(sha256)
    } else {
        Err(Problem::invalid_field(format!(
            "{sha256:?} is not a SHA-256: write the file's hash as 64 lowercase hex digits"
        )))
    }
}

/// Moves files stored by an earlier server (`<media>/<first two hex digits>/<sha256>`) to
/// where core looks for them (`<media>/<sha256>.<extension>`); run at start. Returns how
/// many moved.
pub fn adopt_old_layout(media_dir: &std::path::Path) -> std::io::Result<usize> {
    let Ok(entries) = std::fs::read_dir(media_dir) else {
        return Ok(0);
    };
    let mut moved = 0;
    for entry in entries {
        let dir = entry?.path();
        let old = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        if !old || !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir)? {
            let path = file?.path();
            let Some(sha256) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if checked(sha256).is_err() {
                continue;
            }
            let mut head = [0u8; 64];
            let n = std::io::Read::read(&mut std::fs::File::open(&path)?, &mut head)?;
            let name = postctl_core::media::stored_name(sha256, &head[..n]);
            std::fs::rename(&path, media_dir.join(name))?;
            moved += 1;
        }
        // Left only when something else is in it.
        let _ = std::fs::remove_dir(&dir);
    }
    Ok(moved)
}

/// Stores a file under its hash: 201 when the workspace did not have it, 200 when it did.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let sha256 = checked(&sha256)?.to_string();
    let bytes: Bytes = axum::body::to_bytes(body, MEDIA_MAX_BYTES)
        .await
        .map_err(|_| {
            Problem::too_large(format!(
                "a media file may be at most {MEDIA_MAX_BYTES} bytes; this one is larger (or \
                 its upload broke off)"
            ))
        })?;
    if bytes.is_empty() {
        return Err(Problem::invalid_field(
            "the body is empty: send the file's bytes",
        ));
    }
    let actual = sha256_hex(&bytes);
    if actual != sha256 {
        return Err(Problem::invalid_field(format!(
            "the body's SHA-256 is {actual}, not {sha256}: the file changed or broke off on \
             the way; upload it again"
        )));
    }
    let size = bytes.len();
    state
        .media
        .put(&sha256, bytes.to_vec())
        .await
        .map_err(|e| store_failed(&state, &e))?;
    let new = state
        .storage
        .add_media(&caller.workspace_id, &sha256, size as i64, now_ms())
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "sha256": sha256, "size": size }))))
}

/// The store could not take or give a file: logged for the operator, 503 for the device
/// (which tries again at its next sync).
fn store_failed(state: &AppState, error: &str) -> Problem {
    tracing::error!("media store ({}): {error}", state.media.describe());
    Problem::unavailable(
        "the server's media store cannot be reached just now; try again in a moment (the \
         server's log says why)",
    )
}

/// A file of the workspace.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
) -> Result<Response, Problem> {
    let sha256 = checked(&sha256)?.to_string();
    let known = state
        .storage
        .known_media(&caller.workspace_id, std::slice::from_ref(&sha256))
        .await?;
    let not_found = || {
        Problem::not_found(format!(
            "this workspace has no media file {sha256}; the device that has it uploads it when \
             it syncs"
        ))
    };
    if known.is_empty() {
        return Err(not_found());
    }
    let Some(bytes) = state
        .media
        .get(&sha256)
        .await
        .map_err(|e| store_failed(&state, &e))?
    else {
        tracing::warn!(
            "media file {sha256} is recorded but missing from {}",
            state.media.describe()
        );
        return Err(not_found());
    };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Missing {
    /// Comma-separated hashes.
    missing: String,
}

/// Which of the named files the workspace lacks.
pub async fn missing(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Missing>,
) -> Result<Json<Value>, Problem> {
    let asked: Vec<String> = query
        .missing
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| checked(s).map(str::to_string))
        .collect::<Result<_, _>>()?;
    if asked.len() > MISSING_MAX {
        return Err(Problem::invalid_field(format!(
            "`missing` names {} files; ask about at most {MISSING_MAX} at a time",
            asked.len()
        )));
    }
    let known = state
        .storage
        .known_media(&caller.workspace_id, &asked)
        .await?;
    // A file recorded for the workspace but not in the store (a bucket configured after
    // it was uploaded, a directory emptied) is asked for again.
    let mut held: Vec<String> = Vec::new();
    let recorded: Vec<String> = asked
        .iter()
        .filter(|s| known.contains(s))
        .cloned()
        .collect();
    for chunk in recorded.chunks(STORE_CHECKS_AT_ONCE) {
        let mut checks = tokio::task::JoinSet::new();
        for sha256 in chunk {
            let store = std::sync::Arc::clone(&state.media);
            let sha256 = sha256.clone();
            checks.spawn(async move { store.has(&sha256).await.map(|has| has.then_some(sha256)) });
        }
        while let Some(checked) = checks.join_next().await {
            let checked = checked.map_err(|e| store_failed(&state, &e.to_string()))?;
            if let Some(sha256) = checked.map_err(|e| store_failed(&state, &e))? {
                held.push(sha256);
            }
        }
    }
    let missing: Vec<&String> = asked.iter().filter(|s| !held.contains(s)).collect();
    Ok(Json(json!({ "missing": missing })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];

    #[test]
    fn files_of_the_old_layout_move_where_core_finds_them() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let png = "ab".to_string() + &"0".repeat(62);
        let other = "cd".to_string() + &"1".repeat(62);
        for (sha, bytes) in [(&png, PNG), (&other, b"not a known kind".as_slice())] {
            std::fs::create_dir_all(dir.path().join(&sha[..2])).expect("dir");
            std::fs::write(dir.path().join(&sha[..2]).join(sha), bytes).expect("file");
        }
        assert_eq!(adopt_old_layout(dir.path()).expect("moved"), 2);
        assert_eq!(
            postctl_core::media::find_stored(dir.path(), &png),
            Some(dir.path().join(format!("{png}.png")))
        );
        assert_eq!(
            postctl_core::media::find_stored(dir.path(), &other),
            Some(dir.path().join(format!("{other}.bin")))
        );
        assert!(!dir.path().join("ab").exists(), "the old dir is left");
        assert_eq!(adopt_old_layout(dir.path()).expect("again"), 0);
    }
}
