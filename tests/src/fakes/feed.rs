//! A web server holding one RSS 2.0 or Atom 1.0 feed, as blogs and GitHub serve them: `GET
//! /feed.xml` answers the document with `ETag` and `Last-Modified`, and a conditional GET
//! whose `If-None-Match` names the current ETag (or, without one, whose
//! `If-Modified-Since` is the current `Last-Modified`) is answered `304 Not Modified` with
//! no body (RFC 9110 §13.1). Changing the document changes both validators. The test
//! counts requests, conditional ones and 304s.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::lock;
use super::server::{BoundPort, RunningServer};

/// One item of a feed the test writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedEntry {
    /// RSS `guid` / Atom `id`; none leaves it out.
    pub id: Option<String>,
    pub title: String,
    pub link: String,
    pub summary: String,
}

impl FeedEntry {
    pub fn new(id: &str, title: &str, link: &str) -> FeedEntry {
        FeedEntry {
            id: Some(id.into()),
            title: title.into(),
            link: link.into(),
            summary: format!("<p>About {title}</p>"),
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An RSS 2.0 document of `entries`, newest first as feeds list them.
pub fn rss(title: &str, entries: &[FeedEntry]) -> String {
    let items: String = entries
        .iter()
        .map(|e| {
            let guid =
                e.id.as_ref()
                    .map(|id| format!("<guid isPermaLink=\"false\">{}</guid>", escape(id)))
                    .unwrap_or_default();
            format!(
                "<item><title>{}</title><link>{}</link>{guid}<description>{}</description>\
                 <pubDate>Sun, 06 Dec 2026 10:00:00 GMT</pubDate></item>\n",
                escape(&e.title),
                escape(&e.link),
                escape(&e.summary)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>{}</title><link>https://blog.example.test/</link>\
         <description>A blog</description>\n{items}</channel></rss>\n",
        escape(title)
    )
}

/// An Atom 1.0 document of `entries`.
pub fn atom(title: &str, entries: &[FeedEntry]) -> String {
    let items: String = entries
        .iter()
        .map(|e| {
            format!(
                "<entry><id>{}</id><title>{}</title><link rel=\"alternate\" href=\"{}\"/>\
                 <updated>2026-12-06T10:00:00Z</updated><summary type=\"html\">{}</summary>\
                 <author><name>Mona</name></author></entry>\n",
                escape(e.id.as_deref().unwrap_or_default()),
                escape(&e.title),
                escape(&e.link),
                escape(&e.summary)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>{}</title><id>urn:example:feed</id><updated>2026-12-06T10:00:00Z</updated>\
         <link rel=\"self\" href=\"https://example.test/feed.atom\"/>\
         <link href=\"https://example.test/\"/>\n{items}</feed>\n",
        escape(title)
    )
}

#[derive(Default)]
struct Served {
    body: String,
    content_type: String,
    version: u64,
    requests: usize,
    conditional: usize,
    not_modified: usize,
}

impl Served {
    fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }

    /// A date per version, as `Last-Modified` writes it (IMF-fixdate).
    fn last_modified(&self) -> String {
        format!(
            "Sun, 06 Dec 2026 {:02}:{:02}:00 GMT",
            (self.version / 60) % 24,
            self.version % 60
        )
    }
}

/// A fake feed server; stops when dropped.
pub struct FakeFeed {
    server: RunningServer,
    state: Arc<Mutex<Served>>,
}

impl FakeFeed {
    pub fn start() -> FakeFeed {
        let state = Arc::new(Mutex::new(Served {
            body: rss("Empty", &[]),
            content_type: "application/rss+xml; charset=utf-8".into(),
            ..Served::default()
        }));
        let router = Router::new()
            .route("/feed.xml", get(serve))
            .with_state(state.clone());
        let server = BoundPort::bind().serve("feed", router);
        FakeFeed { server, state }
    }

    /// The feed's URL.
    pub fn url(&self) -> String {
        format!("{}/feed.xml", self.server.base_url())
    }

    /// Serves `body` from now on (new validators).
    pub fn set(&self, body: &str, content_type: &str) {
        let mut s = lock(&self.state);
        s.body = body.to_string();
        s.content_type = content_type.to_string();
        s.version += 1;
    }

    pub fn set_rss(&self, entries: &[FeedEntry]) {
        self.set(
            &rss("Octo blog", entries),
            "application/rss+xml; charset=utf-8",
        );
    }

    pub fn set_atom(&self, entries: &[FeedEntry]) {
        self.set(&atom("Octo releases", entries), "application/atom+xml");
    }

    /// Every GET so far.
    pub fn requests(&self) -> usize {
        lock(&self.state).requests
    }

    /// GETs that carried `If-None-Match` or `If-Modified-Since`.
    pub fn conditional(&self) -> usize {
        lock(&self.state).conditional
    }

    /// GETs answered 304.
    pub fn not_modified(&self) -> usize {
        lock(&self.state).not_modified
    }
}

async fn serve(State(state): State<Arc<Mutex<Served>>>, headers: HeaderMap) -> Response {
    let mut s = lock(&state);
    s.requests += 1;
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let if_none_match = text(header::IF_NONE_MATCH);
    let if_modified_since = text(header::IF_MODIFIED_SINCE);
    if if_none_match.is_some() || if_modified_since.is_some() {
        s.conditional += 1;
    }
    // If-None-Match wins over If-Modified-Since when both are sent.
    let unchanged = match (&if_none_match, &if_modified_since) {
        (Some(tags), _) => tags
            .split(',')
            .any(|t| t.trim() == s.etag() || t.trim() == "*"),
        (None, Some(since)) => *since == s.last_modified(),
        (None, None) => false,
    };
    let (etag, modified) = (s.etag(), s.last_modified());
    if unchanged {
        s.not_modified += 1;
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::LAST_MODIFIED, modified)],
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, s.content_type.clone()),
            (header::ETAG, etag),
            (header::LAST_MODIFIED, modified),
        ],
        s.body.clone(),
    )
        .into_response()
}
