//! A fake of GitHub's release downloads, for the Action's installer: files published under a
//! tag are served at `/download/<tag>/<file>`, and `/latest/download/<file>` serves the newest
//! tag's. As on GitHub, both answer 302 with a redirect to the file's storage (here
//! `/assets/<tag>/<file>`), and a file that does not exist is a 404 `Not Found`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::lock;
use super::server::{BoundPort, RunningServer};

/// A fake release host; stops when dropped.
pub struct FakeReleases {
    server: RunningServer,
    shared: Arc<Mutex<Host>>,
}

#[derive(Default)]
struct Host {
    /// (tag, file name) to contents.
    files: BTreeMap<(String, String), Vec<u8>>,
    latest: Option<String>,
    /// Paths asked for, in order.
    requests: Vec<String>,
}

impl FakeReleases {
    pub fn start() -> FakeReleases {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Host::default()));
        let router = Router::new()
            .route("/download/{tag}/{file}", get(download))
            .route("/latest/download/{file}", get(latest))
            .route("/assets/{tag}/{file}", get(asset))
            .with_state(shared.clone());
        FakeReleases {
            server: port.serve("releases", router),
            shared,
        }
    }

    /// The base to download from, like `https://github.com/OWNER/REPO/releases`.
    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// Publishes `file` under release `tag`, which becomes the latest release.
    pub fn publish(&self, tag: &str, file: &str, contents: Vec<u8>) {
        let mut host = lock(&self.shared);
        host.files
            .insert((tag.to_string(), file.to_string()), contents);
        host.latest = Some(tag.to_string());
    }

    /// Every path asked for, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared).requests.clone()
    }
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)], "").into_response()
}

async fn download(
    State(shared): State<Arc<Mutex<Host>>>,
    Path((tag, file)): Path<(String, String)>,
) -> Response {
    let mut host = lock(&shared);
    host.requests.push(format!("/download/{tag}/{file}"));
    if host.files.contains_key(&(tag.clone(), file.clone())) {
        redirect(format!("/assets/{tag}/{file}"))
    } else {
        (StatusCode::NOT_FOUND, "Not Found").into_response()
    }
}

async fn latest(State(shared): State<Arc<Mutex<Host>>>, Path(file): Path<String>) -> Response {
    let mut host = lock(&shared);
    host.requests.push(format!("/latest/download/{file}"));
    match host.latest.clone() {
        Some(tag) => redirect(format!("/download/{tag}/{file}")),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn asset(
    State(shared): State<Arc<Mutex<Host>>>,
    Path((tag, file)): Path<(String, String)>,
) -> Response {
    let mut host = lock(&shared);
    host.requests.push(format!("/assets/{tag}/{file}"));
    match host.files.get(&(tag, file)) {
        Some(contents) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            contents.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}
