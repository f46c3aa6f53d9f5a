//! JSON-RPC lines over stdin and stdout, for rmcp's server.
//!
//! rmcp's own stdio transport drops a line that is not JSON, and one longer than its limit,
//! without an answer (so that two programs echoing garbage at each other do not loop). An
//! assistant's client that sent either would wait forever, so this transport answers them
//! as JSON-RPC 2.0 says: `-32700 Parse error` for a line that is not JSON, `-32600 Invalid
//! Request` for a batch, a message that is not JSON-RPC, or a line over
//! [`MAX_MESSAGE_BYTES`]; and it keeps reading. Everything else goes to rmcp as it came.
//!
//! Every line to stdout goes through one writer task, so an answer is never interleaved with
//! another, and a receive that rmcp cancels (it polls `receive` in a `select!`) loses
//! nothing: a partly read line stays in [`Reader`] for the next call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rmcp::RoleServer;
use rmcp::model::{ClientRequest, JsonRpcMessage, JsonRpcRequest};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::{StdioReader, Transport, stdio_pipes};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The longest message read: four times the largest text postctl takes
/// ([`postctl_core::fs::MAX_TEXT_BYTES`]), room for its JSON escaping.
pub const MAX_MESSAGE_BYTES: usize = 4 * postctl_core::fs::MAX_TEXT_BYTES as usize;

/// The requests MCP defines for a client to send.
const MCP_METHODS: [&str; 14] = [
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "tools/call",
    "tools/list",
];

/// The reading side, shared by every session run on one stdin (see [`Stdio::session`]).
pub struct Reader {
    input: BufReader<StdioReader>,
    /// The line read so far; kept here so a cancelled read resumes where it stopped.
    line: Vec<u8>,
    /// Skipping the rest of a line that was too long.
    discarding: bool,
}

/// What the next line was.
enum Line {
    Complete,
    TooLong,
    End,
}

impl Reader {
    /// Reads up to the next newline into `self.line`, never holding more than
    /// [`MAX_MESSAGE_BYTES`]. Cancel-safe: bytes are moved from the buffer to `self.line`
    /// in one step, with no await between.
    async fn next_line(&mut self) -> std::io::Result<Line> {
        loop {
            let available = self.input.fill_buf().await?;
            if available.is_empty() {
                return Ok(Line::End);
            }
            let newline = available.iter().position(|b| *b == b'\n');
            let take = newline.map_or(available.len(), |at| at + 1);
            if self.discarding {
                self.input.consume(take);
                if newline.is_some() {
                    self.discarding = false;
                }
                continue;
            }
            if self.line.len() + take > MAX_MESSAGE_BYTES + 2 {
                self.line.clear();
                self.input.consume(take);
                self.discarding = newline.is_none();
                return Ok(Line::TooLong);
            }
            self.line.extend_from_slice(&available[..take]);
            self.input.consume(take);
            if newline.is_some() {
                return Ok(Line::Complete);
            }
        }
    }
}

/// stdin and stdout of `postctl mcp`.
#[derive(Clone)]
pub struct Stdio {
    reader: Arc<tokio::sync::Mutex<Reader>>,
    writer: mpsc::UnboundedSender<String>,
    ended: Arc<AtomicBool>,
}

impl Stdio {
    /// Opens stdin and stdout (as non-blocking pipes where they are pipes) and starts the
    /// task that writes to stdout; it ends when every [`Stdio`] is dropped.
    pub fn open() -> (Stdio, tokio::task::JoinHandle<()>) {
        let (input, mut output) = stdio_pipes();
        let (writer, mut lines) = mpsc::unbounded_channel::<String>();
        let task = tokio::spawn(async move {
            while let Some(line) = lines.recv().await {
                let written = async {
                    output.write_all(line.as_bytes()).await?;
                    output.write_all(b"\n").await?;
                    output.flush().await
                };
                if let Err(e) = written.await {
                    eprintln!("postctl mcp: cannot write to stdout ({e}); stopping");
                    return;
                }
            }
        });
        let stdio = Stdio {
            reader: Arc::new(tokio::sync::Mutex::new(Reader {
                input: BufReader::new(input),
                line: Vec::new(),
                discarding: false,
            })),
            writer,
            ended: Arc::new(AtomicBool::new(false)),
        };
        (stdio, task)
    }

    /// Whether stdin has ended (the client went away).
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    fn write(&self, message: &Value) {
        // The writer task is gone only when stdout is: nothing can be answered then.
        let _ = self.writer.send(message.to_string());
    }

    /// Answers a message that cannot be served, with its id where it has a usable one.
    fn refuse(&self, id: Value, code: i64, message: String) {
        self.write(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message},
        }));
    }

    /// What the line in `reader` holds: a message for rmcp, or `None` when it was answered
    /// here (or is a notification nobody needs to hear about).
    fn parse(&self, line: &[u8]) -> Option<RxJsonRpcMessage<RoleServer>> {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let value: Value = match serde_json::from_slice(line) {
            Ok(value) => value,
            Err(e) => {
                self.refuse(
                    Value::Null,
                    -32700,
                    format!("Parse error: the line is not JSON ({e}); send one JSON-RPC 2.0 message per line"),
                );
                return None;
            }
        };
        if value.is_array() {
            self.refuse(
                Value::Null,
                -32600,
                "Invalid Request: batches are not part of MCP; send one message per line".into(),
            );
            return None;
        }
        let id = value
            .get("id")
            .filter(|id| id.is_string() || id.is_i64() || id.is_u64())
            .cloned();
        let is_notification = id.is_none() && value.get("method").is_some_and(Value::is_string);
        match serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value) {
            // rmcp reads a known method whose params do not fit its schema as a method of
            // its own, and would answer "method not found".
            Ok(JsonRpcMessage::Request(JsonRpcRequest {
                id,
                request: ClientRequest::CustomRequest(custom),
                ..
            })) if MCP_METHODS.contains(&custom.method.as_str()) => {
                self.refuse(
                    json!(id),
                    -32602,
                    format!(
                        "Invalid params: the params of `{}` do not have the shape MCP gives them{}",
                        custom.method,
                        if custom.method == "tools/call" {
                            " ({\"name\": TOOL, \"arguments\": {...}})"
                        } else {
                            ""
                        }
                    ),
                );
                None
            }
            Ok(message) => Some(message),
            // A notification is never answered, even a malformed one.
            Err(_) if is_notification => None,
            Err(e) => {
                self.refuse(
                    id.unwrap_or(Value::Null),
                    -32600,
                    format!("Invalid Request: not a JSON-RPC 2.0 message that MCP knows ({e})"),
                );
                None
            }
        }
    }
}

impl Transport<RoleServer> for Stdio {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = serde_json::to_string(&item)
            .map_err(std::io::Error::other)
            .and_then(|line| {
                self.writer.send(line).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed")
                })
            });
        std::future::ready(sent)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut reader = self.reader.lock().await;
        loop {
            match reader.next_line().await {
                Ok(Line::Complete) => {
                    let line = std::mem::take(&mut reader.line);
                    if let Some(message) = self.parse(&line) {
                        return Some(message);
                    }
                }
                Ok(Line::TooLong) => self.refuse(
                    Value::Null,
                    -32600,
                    format!(
                        "Invalid Request: the message is larger than {} MiB, the most postctl mcp reads; send a smaller one (a post's text is at most 1 MiB)",
                        MAX_MESSAGE_BYTES / (1024 * 1024)
                    ),
                ),
                Ok(Line::End) | Err(_) => {
                    self.ended.store(true, Ordering::SeqCst);
                    return None;
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
