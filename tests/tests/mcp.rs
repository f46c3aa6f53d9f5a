//! End to end: `postctl mcp` as an assistant's client runs it. The client here writes
//! JSON-RPC 2.0 lines to the process's stdin and reads its stdout itself (no MCP library),
//! so the wire format is checked independently of the SDK the server is built on; results
//! are checked against the database through the CLI (`postctl list --json`, `status`...).

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use common::networks::{Fake, Net};
use common::terminal::Terminal;
use common::{Env, utc_ms};
use serde_json::{Value, json};

/// How long an answer may take on a busy machine before the test gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// The tools offered without `--allow-publish`.
const TOOLS: [&str; 15] = [
    "calendar",
    "cancel",
    "check",
    "create_draft",
    "get_post",
    "insights",
    "lint",
    "list_accounts",
    "list_posts",
    "post_status",
    "render_template",
    "reschedule",
    "schedule",
    "search",
    "stats",
];

/// A running `postctl mcp` and the lines it wrote.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Result<Value, String>>,
    stderr: std::thread::JoinHandle<String>,
    /// Messages read while waiting for another.
    early: Vec<Value>,
    next_id: i64,
}

impl Client {
    /// Starts `postctl mcp ARGS` in `env`, without initializing.
    fn start(env: &Env, args: &[&str]) -> Client {
        let mut all = vec!["mcp"];
        all.extend_from_slice(args);
        let mut child = env
            .command(&all, &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start postctl mcp");
        let stdout = child.stdout.take().expect("stdout pipe");
        let stderr = child.stderr.take().expect("stderr pipe");
        let (send, lines) = channel();
        // Every line on stdout must be a JSON-RPC 2.0 message: anything else is reported.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let message = match serde_json::from_str::<Value>(&line) {
                    Ok(value) if value["jsonrpc"] == "2.0" => Ok(value),
                    _ => Err(line),
                };
                if send.send(message).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                text += &line;
                text.push('\n');
            }
            text
        });
        Client {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            early: Vec::new(),
            next_id: 0,
        }
    }

    /// Starts the server and goes through `initialize` and `notifications/initialized`.
    fn connect(env: &Env, args: &[&str]) -> Client {
        let mut client = Client::start(env, args);
        let answer = client.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "postctl-tests", "version": "1"},
            }),
        );
        assert_eq!(
            answer["result"]["protocolVersion"], "2025-11-25",
            "{answer}"
        );
        client.notify("notifications/initialized", json!({}));
        client
    }

    /// Writes one line to the server's stdin as it is.
    fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .expect("write to postctl mcp");
    }

    fn notify(&mut self, method: &str, params: Value) {
        let line = json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string();
        self.send_raw(&line);
    }

    /// Sends a request and returns the whole answer (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let line =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.send_raw(&line);
        self.answer(&json!(id))
    }

    /// The next message answering `id` (a number, a string, or null).
    fn answer(&mut self, id: &Value) -> Value {
        if let Some(at) = self.early.iter().position(|m| &m["id"] == id) {
            return self.early.remove(at);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(Ok(message)) if &message["id"] == id => return message,
                Ok(Ok(message)) => self.early.push(message),
                Ok(Err(line)) => panic!("postctl mcp wrote a line that is not JSON-RPC: {line:?}"),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no answer to id {id} within {PATIENCE:?}; read so far: {:?}",
                        self.early
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().expect("wait for postctl mcp");
                    panic!("postctl mcp ended ({status}) without answering id {id}")
                }
            }
        }
    }

    /// Calls a tool and returns its result: `structuredContent` when it succeeded, and the
    /// whole result (with `isError`) when it failed as a tool.
    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let answer = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        assert!(
            answer.get("error").is_none(),
            "{tool}: a protocol error: {answer}"
        );
        answer["result"].clone()
    }

    /// Calls a tool that must succeed; returns its structured result.
    fn ok(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments.clone());
        assert_ne!(
            result["isError"], true,
            "{tool} {arguments} failed: {result}"
        );
        // The structured result is also given as text, for clients that read only that.
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<Value>(text).ok().as_ref(),
            Some(&result["structuredContent"]),
            "{tool}: the text content is not the structured content"
        );
        result["structuredContent"].clone()
    }

    /// Calls a tool that must fail as a tool; returns its message.
    fn tool_error(&mut self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], true,
            "{tool} {arguments} should have failed: {result}"
        );
        result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Sends a request that must be refused as a protocol error; returns the error.
    fn protocol_error(&mut self, method: &str, params: Value) -> Value {
        let answer = self.request(method, params.clone());
        assert!(
            answer.get("result").is_none(),
            "{method} {params} should have been refused: {answer}"
        );
        answer["error"].clone()
    }

    /// Whether the server still answers.
    fn assert_serving(&mut self) {
        let pong = self.request("ping", json!({}));
        assert_eq!(pong["result"], json!({}), "{pong}");
    }

    /// Closes stdin; the server must end by itself, successfully, without a panic.
    /// Returns what it wrote on stderr.
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for postctl mcp") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("postctl mcp did not end when its stdin was closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Nothing but JSON-RPC may have been written after the last answer either.
        while let Ok(message) = self.lines.recv_timeout(Duration::from_millis(200)) {
            if let Err(line) = message {
                panic!("postctl mcp wrote a line that is not JSON-RPC: {line:?}");
            }
        }
        let stderr = self.stderr.join().expect("read stderr");
        assert!(
            !stderr.contains("panicked"),
            "postctl mcp panicked:\n{stderr}"
        );
        assert!(status.success(), "postctl mcp exited {status}:\n{stderr}");
        stderr
    }
}

/// The names in a `tools/list` answer, sorted.
fn tool_names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["result"]["tools"]
        .as_array()
        .expect("a tools array")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The strings of a JSON array, sorted.
fn sorted(array: &Value) -> Vec<String> {
    let mut items: Vec<String> = array
        .as_array()
        .into_iter()
        .flatten()
        .map(text_of)
        .collect();
    items.sort();
    items
}

/// The posts `postctl list --json` shows.
fn listed(env: &Env) -> Vec<Value> {
    env.json(&["list", "--all"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn initialize_negotiates_the_protocol_version() {
    let env = Env::with_accounts();
    // A revision the server speaks is echoed; one it does not know (newer, or made up) is
    // answered with the newest it speaks over `initialize`, for the client to decide.
    for (asked, agreed) in [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2024-11-05", "2024-11-05"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let mut client = Client::start(&env, &[]);
        let answer = client.request(
            "initialize",
            json!({
                "protocolVersion": asked,
                "capabilities": {},
                "clientInfo": {"name": "postctl-tests", "version": "1"},
            }),
        );
        let result = &answer["result"];
        assert_eq!(result["protocolVersion"], agreed, "asked {asked}: {answer}");
        assert_eq!(result["serverInfo"]["name"], "postctl", "{answer}");
        for capability in ["tools", "resources", "prompts"] {
            assert!(
                result["capabilities"][capability].is_object(),
                "{capability} not offered: {answer}"
            );
        }
        client.notify("notifications/initialized", json!({}));
        client.assert_serving();
        client.finish();
    }
}

/// The 2026-07-28 revision has no `initialize`: a client discovers the revisions, then each
/// request names its own in `_meta`.
#[test]
fn the_current_revision_is_served_without_initialize() {
    let env = Env::with_accounts();
    let mut client = Client::start(&env, &[]);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "postctl-tests", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let discovered = client.request("server/discover", json!({"_meta": meta}));
    let versions = discovered["result"]["supportedVersions"].clone();
    for version in ["2025-11-25", "2026-07-28"] {
        assert!(
            versions
                .as_array()
                .is_some_and(|v| v.contains(&json!(version))),
            "{version} not offered: {discovered}"
        );
    }
    let accounts = client.request(
        "tools/call",
        json!({"name": "list_accounts", "arguments": {}, "_meta": meta}),
    );
    let names: Vec<String> = accounts["result"]["structuredContent"]["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| text_of(&a["name"]))
        .collect();
    assert_eq!(names, ["bsky", "masto"], "{accounts}");
    client.finish();
}

#[test]
fn a_client_that_starts_wrongly_can_still_initialize() {
    let env = Env::with_accounts();
    let mut client = Client::start(&env, &[]);
    // A notification before `initialize`, then a request without one: neither ends the server.
    client.notify("notifications/initialized", json!({}));
    let early = client.request("tools/list", json!({}));
    assert!(early.get("error").is_some(), "{early}");
    let answer = client.request(
        "initialize",
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "postctl-tests", "version": "1"},
        }),
    );
    assert_eq!(
        answer["result"]["protocolVersion"], "2025-11-25",
        "{answer}"
    );
    client.notify("notifications/initialized", json!({}));
    let list = client.request("tools/list", json!({}));
    assert_eq!(tool_names(&list), TOOLS, "{list}");
    client.finish();
}

#[test]
fn tools_list_offers_the_verbs_with_schemas_and_publishing_only_when_allowed() {
    let env = Env::with_accounts();
    let mut client = Client::connect(&env, &[]);
    let list = client.request("tools/list", json!({}));
    assert_eq!(tool_names(&list), TOOLS, "{list}");
    for tool in list["result"]["tools"].as_array().into_iter().flatten() {
        let name = &tool["name"];
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}: {tool}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}: {tool}");
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name} has no description: {tool}"
        );
    }
    let schedule = list["result"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == "schedule")
        .cloned()
        .unwrap_or_default();
    for field in ["id", "text", "at", "every", "tz", "to", "media", "alt"] {
        assert!(
            schedule["inputSchema"]["properties"][field].is_object(),
            "schedule takes no {field}: {schedule}"
        );
    }
    // Publishing now is not there: calling it is calling an unknown tool.
    let refused = client.protocol_error(
        "tools/call",
        json!({"name": "publish_now", "arguments": {"text": "hi", "to": ["masto"]}}),
    );
    assert_eq!(refused["code"], -32602, "{refused}");
    client.finish();

    let mut client = Client::connect(&env, &["--allow-publish"]);
    let list = client.request("tools/list", json!({}));
    let mut expected: Vec<&str> = TOOLS.to_vec();
    expected.extend(["publish_now", "unpublish"]);
    expected.sort();
    assert_eq!(tool_names(&list), expected, "{list}");
    client.finish();
}

#[test]
fn each_tool_does_what_its_verb_does_and_says_what_it_changed() {
    let env = Env::with_accounts();
    let mut client = Client::connect(&env, &[]);

    let accounts = client.ok("list_accounts", json!({}));
    let names: Vec<String> = accounts["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| text_of(&a["name"]))
        .collect();
    assert_eq!(names, ["bsky", "masto"], "{accounts}");
    let shown = accounts.to_string();
    assert!(
        !shown.contains("masto-token") && !shown.contains("bsky-app-password"),
        "a secret was shown: {shown}"
    );

    // create_draft: a draft in the database, as the CLI shows it.
    let photo = env.file("photo.png", common::PNG_3X2);
    let created = client.ok(
        "create_draft",
        json!({
            "text": "Our **v2** is almost here",
            "to": ["masto", "bsky"],
            "media": [photo],
            "alt": ["the v2 logo"],
            "title": "v2 teaser",
            "labels": ["launch"],
        }),
    );
    let draft = text_of(&created["post_id"]);
    assert!(
        text_of(&created["changed"]).contains(&format!("created draft {draft} for masto, bsky")),
        "{created}"
    );
    let shown = env.json(&["draft", "show", &draft]);
    assert_eq!(shown["body"], "Our **v2** is almost here", "{shown}");
    assert_eq!(shown["media"][0]["alt"], "the v2 logo", "{shown}");
    assert_eq!(shown["title"], "v2 teaser", "{shown}");
    assert_eq!(env.target_states(&draft), ["draft", "draft"]);

    // get_post: the same post, by a prefix of its id.
    let got = client.ok("get_post", json!({"id": &draft[..8]}));
    assert_eq!(got["post"]["id"], draft.as_str(), "{got}");
    assert_eq!(
        got["post"], shown,
        "get_post differs from `draft show --json`"
    );

    // check: per account, counted the network's way.
    let checked = client.ok(
        "check",
        json!({"text": "Our v2 is almost here", "to": ["masto", "bsky"]}),
    );
    assert_eq!(checked["ok"], true, "{checked}");
    let lengths: Vec<(String, u64)> = checked["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (text_of(&a["account"]), a["length"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(
        lengths,
        [("masto".to_string(), 21), ("bsky".to_string(), 21)],
        "{checked}"
    );

    // schedule: the draft gets a time, read in the zone given.
    let scheduled = client.ok(
        "schedule",
        json!({"id": draft, "at": "2026-11-24 09:00", "tz": "America/New_York"}),
    );
    assert_eq!(
        sorted(&scheduled["scheduled_on"]),
        ["bsky", "masto"],
        "{scheduled}"
    );
    assert!(
        text_of(&scheduled["changed"]).starts_with(&format!("scheduled post {draft} for ")),
        "{scheduled}"
    );
    assert_eq!(
        env.due_ms(&draft),
        [Some(utc_ms("2026-11-24T14:00:00Z")); 2]
    );
    assert_eq!(env.target_states(&draft), ["scheduled", "scheduled"]);

    // schedule with text: a new scheduled post.
    let fresh = client.ok(
        "schedule",
        json!({"text": "Launch day", "to": ["masto"], "at": "tomorrow 10:00"}),
    );
    let fresh_id = text_of(&fresh["post_id"]);
    assert_eq!(
        env.due_ms(&fresh_id),
        [Some(utc_ms("2026-11-21T09:00:00Z"))]
    );

    // reschedule: a new time for every target.
    let moved = client.ok("reschedule", json!({"id": fresh_id, "at": "sat 12:00"}));
    assert!(
        text_of(&moved["changed"]).starts_with(&format!(
            "rescheduled post {fresh_id} for Sat 2026-11-21 12:00"
        )),
        "{moved}"
    );
    assert_eq!(
        env.due_ms(&fresh_id),
        [Some(utc_ms("2026-11-21T11:00:00Z"))]
    );

    // list_posts: what `postctl list --json` lists.
    let upcoming = client.ok("list_posts", json!({"filter": "upcoming"}));
    let cli = env.json(&["list", "--upcoming"]);
    assert_eq!(
        upcoming["posts"], cli,
        "list_posts differs from `list --json`"
    );
    assert_eq!(upcoming["more"], 0);
    let one = client.ok("list_posts", json!({"limit": 1}));
    assert_eq!(one["posts"].as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one["more"], 1, "{one}");

    // post_status: each target's state.
    let status = client.ok("post_status", json!({"id": draft}));
    assert_eq!(status["post_id"], draft.as_str());
    assert_eq!(
        json!(status["targets"]),
        env.json(&["status", &draft])["targets"],
        "post_status differs from `status --json`"
    );

    // calendar: the scheduled posts on their days.
    let calendar = client.ok(
        "calendar",
        json!({"from": "2026-11-20", "to": "2026-11-30"}),
    );
    let days: Vec<String> = calendar["days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| text_of(&d["date"]))
        .collect();
    assert_eq!(days, ["2026-11-21", "2026-11-24"], "{calendar}");
    assert_eq!(calendar["days"][1]["posts"][0]["id"], draft.as_str());
    assert_eq!(
        calendar["days"][1]["posts"][0]["local"], "15:00",
        "{calendar}"
    );

    // search: posts and templates by their words.
    let found = client.ok("search", json!({"query": "day"}));
    let ids: Vec<String> = found["posts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| text_of(&p["id"]))
        .collect();
    assert_eq!(ids, std::slice::from_ref(&fresh_id), "{found}");

    // render_template: the built-in release announcement.
    let rendered = client.ok(
        "render_template",
        json!({"name": "release", "vars": {"name": "postctl", "version": "2.0.0", "summary": "Threads everywhere."}}),
    );
    assert_eq!(
        rendered["text"], "postctl 2.0.0 is out 🎉\n\nThreads everywhere.",
        "{rendered}"
    );
    assert_eq!(rendered["variant"], Value::Null);

    // lint: lengths against each account.
    let long = "word ".repeat(120);
    let linted = client.ok("lint", json!({"text": long, "to": ["bsky"]}));
    assert_eq!(linted["passed"], true, "{linted}");
    assert_eq!(
        linted["report"]["lengths"][0]["account"], "bsky",
        "{linted}"
    );
    assert_eq!(linted["report"]["lengths"][0]["fits"], false, "{linted}");

    // cancel: every pending target of the post.
    let cancelled = client.ok("cancel", json!({"ids": [draft]}));
    assert_eq!(
        text_of(&cancelled["changed"]),
        format!("cancelled post {draft} on masto, bsky"),
        "{cancelled}"
    );
    assert_eq!(env.target_states(&draft), ["cancelled", "cancelled"]);
    client.finish();
}

#[test]
fn failing_tools_say_what_the_cli_says_and_change_nothing() {
    let env = Env::with_accounts();
    let draft = env.ok(&["draft", "new", "A draft", "--to", "masto"]).id();
    let gone = env.schedule("Gone", "masto", "tue 09:00");
    env.ok(&["cancel", &gone]);
    let mut client = Client::connect(&env, &[]);
    let before = env.dump();

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "get_post",
            json!({"id": "ffffffff"}),
            "no post has an id starting with \"ffffffff\"",
        ),
        ("create_draft", json!({"text": "  "}), "the text is empty"),
        (
            "create_draft",
            json!({"text": "hi", "to": ["nobody"]}),
            "nobody",
        ),
        (
            "create_draft",
            json!({"text": "hi", "to": ["masto"], "media": ["/no/such.png"]}),
            "/no/such.png",
        ),
        ("check", json!({"text": "hi", "to": ["nobody"]}), "nobody"),
        ("schedule", json!({"id": draft}), "say when"),
        ("schedule", json!({"id": draft, "at": "someday"}), "someday"),
        (
            "schedule",
            json!({"id": draft, "at": "2026-11-01 09:00"}),
            "past",
        ),
        (
            "schedule",
            json!({"id": draft, "at": "tue 09:00", "tz": "Mars/Base"}),
            "Mars/Base",
        ),
        (
            "schedule",
            json!({"id": draft, "text": "both", "at": "tue 09:00"}),
            "not both",
        ),
        (
            "schedule",
            json!({"text": "hi", "at": "tue 09:00", "to": ["nobody"]}),
            "nobody",
        ),
        (
            "reschedule",
            json!({"id": draft, "at": "tue 09:00"}),
            "is a draft, not scheduled",
        ),
        ("cancel", json!({"ids": [gone]}), "it is already cancelled"),
        (
            "cancel",
            json!({"ids": [draft, "ffffffff"]}),
            "no post has an id",
        ),
        ("cancel", json!({"ids": ["ffffffff"]}), "no post has an id"),
        (
            "post_status",
            json!({"id": "ffffffff"}),
            "no post has an id",
        ),
        (
            "calendar",
            json!({"from": "next week"}),
            "takes a date like 2026-12-07",
        ),
        (
            "calendar",
            json!({"from": "2026-12-10", "to": "2026-12-01"}),
            "before its start",
        ),
        ("search", json!({"query": " "}), "give words to search for"),
        ("render_template", json!({"name": "nope"}), "nope"),
        (
            "render_template",
            json!({"name": "release", "vars": {"summary": "x"}}),
            "version",
        ),
        (
            "render_template",
            json!({"name": "release", "network": "myspace"}),
            "not a network",
        ),
        ("lint", json!({}), "not both"),
        ("lint", json!({"id": "ffffffff"}), "no post has an id"),
    ];
    for (tool, arguments, expected) in cases {
        let message = client.tool_error(tool, arguments.clone());
        assert!(
            message.contains(expected),
            "{tool} {arguments}: expected {expected:?} in {message:?}"
        );
    }
    // The same message as the CLI gives for the same mistake.
    let cli = env.fails(&["reschedule", &draft, "--at", "tue 09:00"], 2);
    let tool = client.tool_error("reschedule", json!({"id": draft, "at": "tue 09:00"}));
    assert!(
        cli.stderr.contains(&tool),
        "CLI: {} / tool: {tool}",
        cli.stderr
    );

    client.assert_serving();
    client.finish();
    assert_eq!(env.dump(), before, "a failed tool changed the database");
}

#[test]
fn bad_messages_get_protocol_errors_and_the_server_keeps_serving() {
    let env = Env::with_accounts();
    let mut client = Client::connect(&env, &[]);

    // Not JSON: a parse error, with a null id.
    client.send_raw("{\"jsonrpc\": \"2.0\", \"id\": 77, \"method\": ");
    let parse = client.answer(&Value::Null);
    assert_eq!(parse["error"]["code"], -32700, "{parse}");
    client.assert_serving();

    // JSON that is not JSON-RPC, and a batch: invalid requests.
    client.send_raw("{\"hello\": \"world\"}");
    let invalid = client.answer(&Value::Null);
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    client.send_raw("[{\"jsonrpc\": \"2.0\", \"id\": 78, \"method\": \"ping\"}]");
    let batch = client.answer(&Value::Null);
    assert_eq!(batch["error"]["code"], -32600, "{batch}");
    client.send_raw("{\"jsonrpc\": \"1.0\", \"id\": 79, \"method\": \"ping\"}");
    let old = client.answer(&json!(79));
    assert_eq!(old["error"]["code"], -32600, "{old}");
    client.assert_serving();

    // An unknown method, an unknown tool, a tools/call without its shape.
    let unknown = client.protocol_error("posts/explode", json!({}));
    assert_eq!(unknown["code"], -32601, "{unknown}");
    let no_tool = client.protocol_error("tools/call", json!({"name": "explode", "arguments": {}}));
    assert_eq!(no_tool["code"], -32602, "{no_tool}");
    let shapeless =
        client.protocol_error("tools/call", json!({"name": "list_posts", "arguments": 5}));
    assert_eq!(shapeless["code"], -32602, "{shapeless}");
    let nameless = client.protocol_error("tools/call", json!({}));
    assert_eq!(nameless["code"], -32602, "{nameless}");
    client.assert_serving();

    // Arguments of the wrong type, or unknown: refused before anything runs, as a tool
    // error the model can correct (the MCP rule for input validation).
    for (tool, arguments, expected) in [
        ("list_posts", json!({"limit": "ten"}), "invalid type"),
        (
            "list_posts",
            json!({"filter": "someday"}),
            "unknown variant",
        ),
        (
            "schedule",
            json!({"text": "hi", "to": "masto", "at": "tue 09:00"}),
            "invalid type",
        ),
        ("cancel", json!({"ids": "abc"}), "invalid type"),
        ("get_post", json!({}), "missing field `id`"),
        (
            "create_draft",
            json!({"text": "hi", "colour": "red"}),
            "unknown field `colour`",
        ),
    ] {
        let message = client.tool_error(tool, arguments.clone());
        assert!(
            message.contains(expected),
            "{tool} {arguments}: expected {expected:?} in {message:?}"
        );
    }

    // A text larger than postctl takes (1 MiB): a tool error naming the limit.
    let big = "a".repeat(1024 * 1024 + 1);
    let message = client.tool_error("create_draft", json!({"text": big, "to": ["masto"]}));
    assert!(message.contains("1 MiB"), "{message}");
    // A message larger than the server reads (4 MiB): an invalid request, then it goes on.
    let huge = json!({"jsonrpc": "2.0", "id": 80, "method": "tools/call",
        "params": {"name": "create_draft", "arguments": {"text": "b".repeat(5 * 1024 * 1024)}}});
    client.send_raw(&huge.to_string());
    let oversized = client.answer(&Value::Null);
    assert_eq!(oversized["error"]["code"], -32600, "{oversized}");
    assert!(
        text_of(&oversized["error"]["message"]).contains("4 MiB"),
        "{oversized}"
    );
    client.assert_serving();

    let stderr = client.finish();
    assert!(listed(&env).is_empty(), "a refused message created a post");
    assert!(!stderr.contains("masto-token"), "{stderr}");
}

#[test]
fn resources_give_the_coming_weeks_and_each_accounts_limits() {
    let env = Env::with_accounts();
    let soon = env.schedule("Soon", "masto", "2026-11-25 09:00");
    let later = env.schedule("Too late", "masto", "2027-01-20 09:00");
    let mut client = Client::connect(&env, &[]);
    let list = client.request("resources/list", json!({}));
    let uris: Vec<String> = list["result"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| text_of(&r["uri"]))
        .collect();
    assert_eq!(
        uris,
        [
            "postctl://calendar",
            "postctl://accounts/bsky/limits",
            "postctl://accounts/masto/limits"
        ],
        "{list}"
    );

    let read = |client: &mut Client, uri: &str| -> Value {
        let answer = client.request("resources/read", json!({"uri": uri}));
        let contents = &answer["result"]["contents"][0];
        assert_eq!(contents["uri"], uri, "{answer}");
        assert_eq!(contents["mimeType"], "application/json", "{answer}");
        serde_json::from_str(contents["text"].as_str().unwrap_or_default()).expect("JSON")
    };
    let calendar = read(&mut client, "postctl://calendar");
    assert_eq!(calendar["from"], "2026-11-20", "{calendar}");
    assert_eq!(calendar["to"], "2026-12-17", "{calendar}");
    let ids: Vec<String> = calendar["days"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["posts"].as_array().cloned().unwrap_or_default())
        .map(|p| text_of(&p["id"]))
        .collect();
    assert_eq!(ids, [soon], "{calendar}");
    assert!(!ids.contains(&later));

    let masto = read(&mut client, "postctl://accounts/masto/limits");
    assert_eq!(masto["max_length"], 500, "{masto}");
    assert_eq!(masto["threads"], true, "{masto}");
    let bsky = read(&mut client, "postctl://accounts/bsky/limits");
    assert_eq!(bsky["max_length"], 300, "{bsky}");
    assert_eq!(bsky["network"], "bluesky", "{bsky}");

    for uri in [
        "postctl://accounts/nobody/limits",
        "postctl://nothing",
        "https://example.org",
    ] {
        let error = client.protocol_error("resources/read", json!({"uri": uri}));
        assert_eq!(error["code"], -32002, "{uri}: {error}");
    }
    client.finish();
}

#[test]
fn prompts_announce_a_release_and_plan_next_week() {
    let env = Env::with_accounts();
    env.file(
        "CHANGELOG.md",
        "# Changelog\n\n## [2.0.0] - 2026-11-19\n\n- Threads on every network\n- A dashboard\n\n## [1.0.0] - 2026-01-01\n\n- First release\n",
    );
    let booked = env.schedule("Already booked", "bsky", "2026-11-24 11:00");
    let mut client = Client::connect(&env, &[]);
    let list = client.request("prompts/list", json!({}));
    let names: Vec<String> = list["result"]["prompts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| text_of(&p["name"]))
        .collect();
    assert_eq!(names, ["announce_release", "plan_week"], "{list}");

    let announce = client.request(
        "prompts/get",
        json!({"name": "announce_release", "arguments": {"to": "masto,bsky"}}),
    );
    let message = &announce["result"]["messages"][0];
    assert_eq!(message["role"], "user", "{announce}");
    let text = text_of(&message["content"]["text"]);
    for expected in [
        "2.0.0",
        "- Threads on every network",
        "masto (Mastodon): at most 500",
        "bsky (Bluesky): at most 300",
        "check",
        "create_draft",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert!(!text.contains("First release"), "{text}");

    let older = client.request(
        "prompts/get",
        json!({"name": "announce_release", "arguments": {"version": "1.0.0"}}),
    );
    assert!(
        text_of(&older["result"]["messages"][0]["content"]["text"]).contains("First release"),
        "{older}"
    );

    let plan = client.request(
        "prompts/get",
        json!({"name": "plan_week", "arguments": {"topic": "the v2 launch"}}),
    );
    let text = text_of(&plan["result"]["messages"][0]["content"]["text"]);
    for expected in [
        "2026-11-23",
        "2026-11-29",
        "the v2 launch",
        "Already booked",
        &booked,
        "Europe/Berlin",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }

    let unknown = client.protocol_error("prompts/get", json!({"name": "write_a_novel"}));
    assert_eq!(unknown["code"], -32602, "{unknown}");
    let missing = client.protocol_error(
        "prompts/get",
        json!({"name": "announce_release", "arguments": {"changelog": "NOPE.md"}}),
    );
    assert!(
        text_of(&missing["message"]).contains("NOPE.md"),
        "{missing}"
    );
    let no_version = client.protocol_error(
        "prompts/get",
        json!({"name": "announce_release", "arguments": {"version": "9.9.9"}}),
    );
    assert!(
        text_of(&no_version["message"]).contains("9.9.9"),
        "{no_version}"
    );
    client.assert_serving();
    client.finish();
}

/// The issue's "done means": "draft three posts about our v2 release for Mastodon and
/// Bluesky, check they fit, and schedule them next Tuesday to Thursday at 9am Berlin time",
/// as an assistant would do it, and the user sees them in `postctl list`.
#[test]
fn an_assistant_drafts_checks_and_schedules_three_posts_the_user_then_lists() {
    // POSTCTL_NOW is Friday 2026-11-20: next Tuesday to Thursday are the 24th to the 26th.
    // The user's zone is New York here, so "Berlin time" has to come from `tz`.
    let env = Env::new_with(&[("POSTCTL_TZ", "America/New_York")]);
    env.add_mastodon("masto", "masto-token");
    env.add_bluesky("bsky", "bsky-app-password");
    let mut client = Client::connect(&env, &[]);

    let accounts = client.ok("list_accounts", json!({}));
    let to: Vec<String> = accounts["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["network"] == "mastodon" || a["network"] == "bluesky")
        .map(|a| text_of(&a["name"]))
        .collect();
    assert_eq!(to.len(), 2, "{accounts}");

    let texts = [
        "postctl **v2** is out: threads on every network. https://example.org/v2",
        "What's new in v2? A dashboard that shows your week at a glance.",
        "v2 tip: `postctl mcp` lets your assistant draft and schedule for you.",
    ];
    let mut drafts = Vec::new();
    for text in texts {
        let created = client.ok("create_draft", json!({"text": text, "to": to}));
        drafts.push(text_of(&created["post_id"]));
        let checked = client.ok("check", json!({"text": text, "to": to, "thread": "never"}));
        assert_eq!(checked["ok"], true, "{checked}");
        assert!(
            checked["accounts"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|a| a["fits"] == true),
            "{checked}"
        );
    }
    for (id, day) in drafts.iter().zip(["tue", "wed", "thu"]) {
        let scheduled = client.ok(
            "schedule",
            json!({"id": id, "at": format!("{day} 09:00"), "tz": "Europe/Berlin"}),
        );
        assert_eq!(
            sorted(&scheduled["scheduled_on"]),
            ["bsky", "masto"],
            "{scheduled}"
        );
    }
    client.finish();

    let upcoming = env.json(&["list", "--upcoming"]);
    let posts = upcoming.as_array().cloned().unwrap_or_default();
    assert_eq!(posts.len(), 3, "{upcoming}");
    let expected = [
        "2026-11-24T08:00:00Z",
        "2026-11-25T08:00:00Z",
        "2026-11-26T08:00:00Z",
    ];
    for ((post, id), (due, text)) in posts.iter().zip(&drafts).zip(expected.iter().zip(texts)) {
        assert_eq!(post["id"], id.as_str(), "{upcoming}");
        assert_eq!(post["body"], text, "{upcoming}");
        assert_eq!(post["due"], *due, "{upcoming}");
        assert_eq!(post["tz"], "Europe/Berlin", "{upcoming}");
        let mut targets: Vec<(String, String)> = post["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| (text_of(&t["account"]), text_of(&t["state"])))
            .collect();
        targets.sort();
        assert_eq!(
            targets,
            [
                ("bsky".to_string(), "scheduled".to_string()),
                ("masto".to_string(), "scheduled".to_string())
            ],
            "{upcoming}"
        );
    }
    // The dashboard's calendar reads the same posts: the week shows all three.
    let week = env.json(&["calendar", "--week", "2026-11-23", "--tz", "Europe/Berlin"]);
    let days: Vec<(String, String)> = week["days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| (text_of(&d["date"]), text_of(&d["posts"][0]["local"])))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-24".to_string(), "09:00".to_string()),
            ("2026-11-25".to_string(), "09:00".to_string()),
            ("2026-11-26".to_string(), "09:00".to_string())
        ],
        "{week}"
    );
    // And the user sees them in the dashboard, in a real terminal.
    let term = Terminal::start(&env, 140, 40);
    term.wait_for(&["November 2026"], Duration::from_secs(15));
    term.keys(&["2"]);
    term.wait_for(
        &["is out: threads", "What's new in v2", "v2 tip"],
        Duration::from_secs(10),
    );
    term.keys(&["q"]);
}

#[test]
fn with_allow_publish_it_publishes_now_and_unpublishes() {
    let fake = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&fake]);
    let mut client = Client::connect(&env, &["--allow-publish"]);
    let published = client.ok(
        "publish_now",
        json!({"text": "Shipped v2 🎉", "to": [Net::Mastodon.account()]}),
    );
    let post_id = text_of(&published["post_id"]);
    assert_eq!(published["targets"][0]["state"], "published", "{published}");
    assert!(
        text_of(&published["changed"]).contains("published on masto"),
        "{published}"
    );
    assert_eq!(fake.live_posts().len(), 1, "the fake received nothing");
    assert_eq!(env.target_states(&post_id), ["published"]);

    // Too long where no thread is allowed: refused before anything is sent or stored.
    let posts_before = listed(&env).len();
    let message = client.tool_error(
        "publish_now",
        json!({"text": "word ".repeat(200), "to": ["masto"], "thread": "never"}),
    );
    assert!(message.contains("cannot take this text"), "{message}");
    assert_eq!(listed(&env).len(), posts_before);
    assert_eq!(fake.live_posts().len(), 1);

    let unpublished = client.ok("unpublish", json!({"id": post_id}));
    assert!(
        text_of(&unpublished["changed"]).contains("deleted 1 part(s)"),
        "{unpublished}"
    );
    assert!(fake.live_posts().is_empty(), "still on the network");
    let again = client.tool_error("unpublish", json!({"id": post_id}));
    assert!(again.contains("has nothing published"), "{again}");
    client.finish();
}

/// The counters `metric_targets` holds for a post on an account, as the last collection
/// stored them.
fn stored_counters(env: &Env, post_id: &str, account: &str) -> Value {
    let text: String = env
        .db()
        .query_row(
            "SELECT m.counters FROM metric_targets m JOIN targets t ON t.id = m.target_id
             JOIN accounts a ON a.id = t.account_id WHERE t.post_id = ?1 AND a.name = ?2",
            [post_id, account],
            |row| row.get(0),
        )
        .expect("counters stored");
    serde_json::from_str(&text).expect("counters JSON")
}

#[test]
fn stats_and_insights_answer_from_the_database_and_fail_as_tools() {
    let masto = Fake::start(Net::Mastodon);
    let env = Env::with_fakes([&masto]);
    let mut posts = Vec::new();
    for (hour, text) in ["Older post", "Newer post"].iter().enumerate() {
        masto.mastodon().set_hour(hour as u64);
        let run = env.run(&["--json", "post", text, "--to", "masto"]);
        assert_eq!(run.code, 0, "{}", run.all_output());
        posts.push(text_of(&run.json()["post_id"]));
    }
    masto.mastodon().set_hour(5);
    let collected = env.run(&["stats", "collect"]);
    assert_eq!(collected.code, 0, "{}", collected.all_output());

    let mut client = Client::connect(&env, &[]);
    // One post: its counters as stored, and its curve.
    let one = client.ok("stats", json!({"id": &posts[0][..8]}));
    assert_eq!(one["post_id"], posts[0], "{one}");
    let target = &one["targets"][0];
    assert_eq!(target["account"], "masto");
    let stored = stored_counters(&env, &posts[0], "masto");
    assert_eq!(target["counters"], stored, "{one}");
    assert_eq!(target["counters"]["likes"], 15, "5 hours of 3 likes: {one}");
    assert_eq!(target["curve"].as_array().map(Vec::len), Some(1), "{one}");
    assert!(one.get("posts").is_none(), "{one}");
    // The recent posts: most likes first, with the account's followers.
    let recent = client.ok(
        "stats",
        json!({"account": "masto", "sort": "likes", "limit": 1}),
    );
    let rows = recent["posts"].as_array().expect("posts");
    assert_eq!(rows.len(), 1, "{recent}");
    assert_eq!(
        rows[0]["post_id"], posts[0],
        "the older has more likes: {recent}"
    );
    assert_eq!(
        rows[0]["engagement"],
        stored
            .as_object()
            .map(|c| {
                ["likes", "reposts", "replies", "quotes"]
                    .iter()
                    .filter_map(|n| c.get(*n).and_then(Value::as_u64))
                    .sum::<u64>()
            })
            .unwrap_or_default()
    );
    assert_eq!(
        recent["accounts"][0]["figures"]["followers"], 47,
        "{recent}"
    );
    // The same as the command prints.
    let cli = env.json(&[
        "stats",
        "--account",
        "masto",
        "--sort",
        "likes",
        "--limit",
        "1",
    ]);
    assert_eq!(cli["posts"], recent["posts"]);

    // Insights: two posts are not enough to say when to post.
    let insights = client.ok("insights", json!({"account": "masto", "since": "7d"}));
    let account = &insights["accounts"][0];
    assert_eq!(account["account"], "masto", "{insights}");
    assert_eq!(account["posts"], 2, "{insights}");
    assert!(
        text_of(&account["best_times"]["statement"]).starts_with("not enough data yet"),
        "{insights}"
    );
    assert_eq!(account["top_posts"][0]["post_id"], posts[0], "{insights}");
    assert_eq!(account["top_posts"][0]["counters"], stored);
    assert_eq!(
        account["best_times"]["grid"]["cells"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    assert!(
        account["collection"]["posts_last_read"].is_string(),
        "{insights}"
    );
    let period_days = {
        let from: chrono::DateTime<chrono::Utc> =
            text_of(&insights["period"]["from"]).parse().expect("from");
        let to: chrono::DateTime<chrono::Utc> =
            text_of(&insights["period"]["to"]).parse().expect("to");
        (to - from).num_days()
    };
    assert_eq!(period_days, 7);

    // Errors are tool errors with the command's words, and the server goes on.
    for (tool, arguments, expected) in [
        ("stats", json!({"id": "ffffffff"}), "ffffffff"),
        (
            "stats",
            json!({"id": &posts[0], "account": "masto"}),
            "give either `id`",
        ),
        ("stats", json!({"since": "3x"}), "not a span"),
        ("stats", json!({"account": "nope"}), "nope"),
        ("stats", json!({"sort": "loudest"}), "unknown variant"),
        ("insights", json!({"account": "nope"}), "nope"),
        ("insights", json!({"since": "400d"}), "a year at most"),
        ("insights", json!({"top": "five"}), "invalid type"),
    ] {
        let message = client.tool_error(tool, arguments.clone());
        assert!(
            message.contains(expected),
            "{tool} {arguments}: expected {expected:?} in {message:?}"
        );
    }
    client.assert_serving();
    client.finish();
}

#[test]
fn print_config_gives_the_settings_that_start_this_server() {
    let env = Env::new();
    let run = env.ok(&["mcp", "--print-config"]);
    let config: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    let server = &config["mcpServers"]["postctl"];
    assert_eq!(server["args"], json!(["mcp"]), "{config}");
    let command = text_of(&server["command"]);
    assert_eq!(
        std::fs::canonicalize(&command).ok(),
        std::fs::canonicalize(common::postctl_bin()).ok(),
        "{config}"
    );
    assert_eq!(
        server["env"]["POSTCTL_DB"],
        env.db_path().display().to_string(),
        "{config}"
    );
    assert!(
        run.stderr.contains("claude_desktop_config.json"),
        "{}",
        run.stderr
    );
    let publishing = env.ok(&["mcp", "--print-config", "--allow-publish"]);
    let config: Value = serde_json::from_str(&publishing.stdout).expect("JSON on stdout");
    assert_eq!(
        config["mcpServers"]["postctl"]["args"],
        json!(["mcp", "--allow-publish"])
    );
}

/// A linked database's posts are published by its server, never here: `publish_now` says
/// so and stores nothing, instead of waiting for a publisher that never comes.
#[test]
fn publish_now_on_a_linked_database_says_the_server_publishes() {
    let server = common::server::Server::start();
    server.add_user("alice", &[]);
    let env = common::server::device(&server, "alice");
    env.ok_full(
        &[
            "accounts",
            "add",
            "mastodon",
            "--name",
            "masto",
            "--instance",
            "https://social.example.test",
            "--token-stdin",
        ],
        Some(b"a-token\n"),
        &[],
    );
    let mut client = Client::connect(&env, &["--allow-publish"]);
    let message = client.tool_error("publish_now", json!({"text": "hi", "to": ["masto"]}));
    assert!(message.contains("linked to a server"), "{message}");
    assert!(listed(&env).is_empty(), "a post was stored");
}
