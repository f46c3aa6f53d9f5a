//! A tiny HTTP/1.1 responder for the adapters' unit tests.
//!
//! It binds 127.0.0.1 on a free port, answers each request with what a handler returns,
//! and remembers every request it read, so a test can assert on the wire format (path,
//! headers, body) as well as on what the adapter made of the answer. One request per
//! connection (`Connection: close`), bodies framed by `Content-Length` or chunked, which is
//! what reqwest sends. The end-to-end fakes in `tests/` are a separate, fuller thing.
//!
//! ```ignore
//! let server = TestServer::start(|request: &Request| match request.path.as_str() {
//!     "/ping" => Reply::json(200, json!({"ok": true})),
//!     _ => Reply::text(404, "no such route"),
//! });
//! // ... point the adapter at server.url() ...
//! assert_eq!(server.requests()[0].method, "POST");
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target: path and query, as sent (still percent-encoded).
    pub path: String,
    /// Header names lowercased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    /// The body parsed as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Close the connection after reading the request, without answering: what a server
    /// that crashed mid-request looks like to the client.
    pub hang_up: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            hang_up: false,
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
            hang_up: false,
        }
    }

    /// A 200 with an HTML page.
    pub fn html(body: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            hang_up: false,
        }
    }

    /// No answer at all: the connection is closed once the request has been read.
    pub fn hang_up() -> Reply {
        Reply {
            status: 0,
            headers: vec![],
            body: vec![],
            hang_up: true,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running responder; it stops when dropped.
pub struct TestServer {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serves every request with `handler`. Must be called inside a tokio runtime.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port for the test server");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    serve(stream, &*handler, &seen).await;
                });
            }
        });
        TestServer {
            addr,
            requests,
            task,
        }
    }

    /// Answers the n-th request with the n-th reply; past the end, with the last one.
    pub async fn sequence(replies: Vec<Reply>) -> TestServer {
        assert!(!replies.is_empty(), "a sequence needs at least one reply");
        let next = AtomicUsize::new(0);
        TestServer::start(move |_| {
            let n = next.fetch_add(1, Ordering::SeqCst);
            replies[n.min(replies.len() - 1)].clone()
        })
        .await
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request read so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The requests read so far whose path (without the query) is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path_only() == path)
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) {
    let Some(request) = read_request(&stream).await else {
        return;
    };
    let reply = handler(&request);
    if let Ok(mut seen) = seen.lock() {
        seen.push(request);
    }
    if reply.hang_up {
        return;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&reply.body);
    write_all(&stream, &bytes).await;
}

async fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let head_end = loop {
        if let Some(at) = find(&data, b"\r\n\r\n") {
            break at;
        }
        if !read_more(stream, &mut data).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let mut rest = data[head_end + 4..].to_vec();
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(stream, &mut rest).await?
    } else {
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while rest.len() < length {
            if !read_more(stream, &mut rest).await {
                return None;
            }
        }
        rest.truncate(length);
        rest
    };
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn read_chunked(stream: &TcpStream, data: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = loop {
            if let Some(end) = find(&data[at..], b"\r\n") {
                break at + end;
            }
            if !read_more(stream, data).await {
                return None;
            }
        };
        let size_text = String::from_utf8_lossy(&data[at..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        let chunk_start = line_end + 2;
        while data.len() < chunk_start + size + 2 {
            if !read_more(stream, data).await {
                return None;
            }
        }
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&data[chunk_start..chunk_start + size]);
        at = chunk_start + size + 2;
    }
}

/// Reads what is available into `data`; false at end of stream or on an error.
async fn read_more(stream: &TcpStream, data: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if stream.readable().await.is_err() {
            return false;
        }
        match stream.try_read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                data.extend_from_slice(&buf[..n]);
                return true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return false,
        }
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        if stream.writable().await.is_err() {
            return;
        }
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Parses a `multipart/form-data` body into (name, file name, content type, bytes) per
/// part, so tests can check what an upload carried.
pub fn multipart_parts(request: &Request) -> Vec<MultipartPart> {
    let Some(boundary) = request
        .header("content-type")
        .and_then(|v| v.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_owned())
    else {
        return vec![];
    };
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut parts = Vec::new();
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&body[from..], delimiter.as_bytes()) {
        starts.push(from + at);
        from += at + delimiter.len();
    }
    for pair in starts.windows(2) {
        let section = &body[pair[0] + delimiter.len()..pair[1]];
        let section = section.strip_prefix(b"\r\n").unwrap_or(section);
        let section = section.strip_suffix(b"\r\n").unwrap_or(section);
        let Some(head_end) = find(section, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&section[..head_end]).into_owned();
        let mut part = MultipartPart {
            name: String::new(),
            file_name: None,
            content_type: None,
            data: section[head_end + 4..].to_vec(),
        };
        for line in head.split("\r\n") {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in value.split(';').map(str::trim) {
                        if let Some(v) = param.strip_prefix("name=") {
                            part.name = v.trim_matches('"').to_owned();
                        } else if let Some(v) = param.strip_prefix("filename=") {
                            part.file_name = Some(v.trim_matches('"').to_owned());
                        }
                    }
                }
                "content-type" => part.content_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(part);
    }
    parts
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct MultipartPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl MultipartPart {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// An error's class as the adapters' case tables name it: "auth", "permanent",
/// "retry maybe sent", or "retry <ms>ms" with the wait the network asked for.
pub fn class(err: &super::PublishError) -> String {
    use super::PublishError;
    match err {
        PublishError::Auth { .. } => "auth".to_owned(),
        PublishError::Permanent { .. } => "permanent".to_owned(),
        PublishError::NeedsPerson { .. } => "needs person".to_owned(),
        PublishError::Retryable {
            maybe_sent: true, ..
        } => "retry maybe sent".to_owned(),
        PublishError::Retryable { retry_after, .. } => {
            format!("retry {}ms", retry_after.map_or(0, |d| d.as_millis()))
        }
    }
}

/// An error's class where the wait is only known to be long (a rate-limit window that
/// resets at a fixed time): "auth", "permanent", "retry-maybe-sent", "retry-later" (told
/// to wait over an hour), or "retry".
pub fn class_by_wait(err: &super::PublishError) -> &'static str {
    use super::PublishError;
    match err {
        PublishError::Auth { .. } => "auth",
        PublishError::Permanent { .. } => "permanent",
        PublishError::NeedsPerson { .. } => "needs-person",
        PublishError::Retryable {
            retry_after: Some(wait),
            maybe_sent: false,
            ..
        } if *wait > std::time::Duration::from_secs(3600) => "retry-later",
        PublishError::Retryable {
            maybe_sent: true, ..
        } => "retry-maybe-sent",
        PublishError::Retryable { .. } => "retry",
    }
}

/// An [`super::UpdateInbox`] in memory, for adapters' tests.
#[derive(Default)]
pub struct MemoryInbox {
    positions: Mutex<std::collections::HashMap<String, i64>>,
    reactions: Mutex<std::collections::HashMap<(String, i64), super::Counters>>,
}

/// The inbox of adapters that never read updates.
pub type NoUpdates = MemoryInbox;

impl super::UpdateInbox for MemoryInbox {
    fn position(
        &self,
        source: &str,
    ) -> Result<Option<(i64, chrono::DateTime<chrono::Utc>)>, String> {
        let positions = self.positions.lock().map_err(|e| e.to_string())?;
        Ok(positions
            .get(source)
            .map(|&offset| (offset, chrono::DateTime::UNIX_EPOCH)))
    }

    fn keep(
        &self,
        source: &str,
        next_offset: i64,
        reactions: &[super::PushedReactions],
    ) -> Result<(), String> {
        let mut kept = self.reactions.lock().map_err(|e| e.to_string())?;
        for pushed in reactions {
            kept.insert(
                (pushed.chat.clone(), pushed.message_id),
                pushed.counters.clone(),
            );
        }
        let mut positions = self.positions.lock().map_err(|e| e.to_string())?;
        let at = positions.entry(source.to_string()).or_default();
        *at = (*at).max(next_offset);
        Ok(())
    }

    fn reactions(
        &self,
        messages: &[(String, i64)],
    ) -> Result<Vec<Option<super::Counters>>, String> {
        let kept = self.reactions.lock().map_err(|e| e.to_string())?;
        Ok(messages.iter().map(|m| kept.get(m).cloned()).collect())
    }
}
