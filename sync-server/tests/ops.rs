//! Running the server: backup and restore while it takes writes, `/metrics` scraped, the
//! JSON log, the OpenAPI document against the routes the server really answers, the
//! systemd unit, and the Dockerfile and docker-compose.yml against the settings the
//! server reads (`postctl_server::config::ENV`, the one list of them).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::server::{Server, bin};
use postctl_server::config;
use reqwest::StatusCode;
use serde_json::{Value, json};

const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef";

fn http() -> reqwest::Client {
    postctl_core::tls::client_builder()
        .build()
        .expect("an HTTP client")
}

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(bin());
    command.args(args);
    for name in config::ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("postctl-server runs")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn create_post(http: &reqwest::Client, base: &str, key: &str, body: &str) -> StatusCode {
    http.post(format!("{base}/api/v1/posts"))
        .bearer_auth(key)
        .json(&json!({ "body": body }))
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Every post body of the key's workspace, following the pages.
async fn all_bodies(http: &reqwest::Client, base: &str, key: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/posts?limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let items = page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {page}"));
        for post in items {
            bodies.push(post["body"].as_str().expect("body").to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return bodies,
        }
    }
}

#[tokio::test]
async fn a_backup_made_while_the_server_writes_restores_into_a_fresh_data_dir() {
    // The writers send as fast as they can; this test is about backups, not rate limits.
    let server = Server::start_with(None, &[("POSTCTL_SERVER_RATE_LIMIT", "1000000")]);
    let key = server.user_with_key("alice", None, "posts:read,posts:write");
    let http = http();
    for i in 0..20 {
        assert_eq!(
            create_post(&http, &server.base, &key, &format!("before {i}")).await,
            StatusCode::CREATED
        );
    }
    // Writers keep creating posts while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (http, base, key, stop) =
            (http.clone(), server.base.clone(), key.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut made = 0;
            while !stop.load(Ordering::Relaxed) {
                if create_post(&http, &base, &key, &format!("during {w} {made}")).await
                    == StatusCode::CREATED
                {
                    made += 1;
                }
            }
            made
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("backup.sqlite3");
    let file_text = file.to_str().expect("utf-8");
    let data = server.data.path().to_str().expect("utf-8").to_string();
    let out = tokio::task::spawn_blocking({
        let (data, file_text) = (data.clone(), file_text.to_string());
        move || run(&["backup", "--data", &data, "--to", &file_text], &[])
    })
    .await
    .expect("backup ran");
    assert!(out.status.success(), "backup failed: {}", stderr(&out));
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut during = 0;
    for writer in writers {
        during += writer.await.expect("writer");
    }
    assert!(during > 0, "the writers wrote nothing while the backup ran");
    let live = all_bodies(&http, &server.base, &key).await;
    assert_eq!(live.len(), 20 + during);
    // The copy is private, self-contained (no -wal beside it) and says what it holds.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the backup is readable by others: {mode:o}"
        );
    }
    assert!(!dir.path().join("backup.sqlite3-wal").exists());
    let said = stderr(&out);
    let counted: usize = said
        .split(" posts")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no post count in {said:?}"));
    assert!(
        (20..=20 + during).contains(&counted),
        "{counted} posts in the backup"
    );

    // A second backup to the same name is refused without --force.
    let again = run(&["backup", "--data", &data, "--to", file_text], &[]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    // Restore into a fresh data dir and serve it: the same key works, and the posts are
    // those of one moment: all written before, some of those written during.
    let fresh = tempfile::tempdir().expect("tempdir");
    let fresh_dir = fresh.path().join("data");
    let fresh_text = fresh_dir.to_str().expect("utf-8");
    let out = run(&["restore", "--data", fresh_text, "--from", file_text], &[]);
    assert!(out.status.success(), "restore failed: {}", stderr(&out));
    let restored_dir = tempfile::TempDir::with_prefix("restored").expect("tempdir");
    std::fs::remove_dir(restored_dir.path()).expect("rmdir");
    std::fs::rename(&fresh_dir, restored_dir.path()).expect("move the data dir");
    let restored = Server::start_in(restored_dir, None, &[], &[]);
    let bodies = all_bodies(&http, &restored.base, &key).await;
    assert_eq!(bodies.len(), counted);
    for i in 0..20 {
        assert!(
            bodies.contains(&format!("before {i}")),
            "before {i} is missing"
        );
    }
    assert!(bodies.iter().all(|b| live.contains(b)));
    // The restored server takes writes.
    assert_eq!(
        create_post(&http, &restored.base, &key, "after").await,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn restore_refuses_a_running_server_and_files_that_are_not_backups() {
    let server = Server::start(None);
    let key = server.user_with_key("bob", None, "posts:read,posts:write");
    let http = http();
    assert_eq!(
        create_post(&http, &server.base, &key, "kept").await,
        StatusCode::CREATED
    );
    let data = server.data.path().to_str().expect("utf-8").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b.sqlite3");
    let file_text = file.to_str().expect("utf-8");
    let out = run(&["backup", "--data", &data, "--to", file_text], &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(&["restore", "--data", &data, "--from", file_text], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is running on"),
        "restore into a running server's dir: {}",
        stderr(&out)
    );

    let not_sqlite = dir.path().join("notes.txt");
    std::fs::write(&not_sqlite, "x".repeat(4096)).expect("write");
    let other_db = dir.path().join("other.sqlite3");
    rusqlite::Connection::open(&other_db)
        .and_then(|c| c.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;"))
        .expect("another database");
    let newer = dir.path().join("newer.sqlite3");
    std::fs::copy(&file, &newer).expect("copy");
    rusqlite::Connection::open(&newer)
        .and_then(|c| c.execute_batch("PRAGMA user_version = 999;"))
        .expect("newer");
    let empty = tempfile::tempdir().expect("tempdir");
    let empty_text = empty.path().to_str().expect("utf-8");
    for (path, expected) in [
        (&not_sqlite, "not an SQLite database"),
        (&other_db, "not a postctl-server database"),
        (&newer, "newer than this postctl-server"),
        (&dir.path().join("missing"), "there is no file"),
    ] {
        let out = run(
            &[
                "restore",
                "--data",
                empty_text,
                "--from",
                path.to_str().expect("utf-8"),
            ],
            &[],
        );
        assert!(!out.status.success(), "{path:?} was restored");
        assert!(
            stderr(&out).contains(expected),
            "{path:?}: {}",
            stderr(&out)
        );
        assert!(!empty.path().join(config::DATABASE_FILE).exists());
    }
    // The running server's data is untouched.
    assert_eq!(all_bodies(&http, &server.base, &key).await, vec!["kept"]);

    // PostgreSQL's backups are PostgreSQL's tools.
    let out = run(
        &["backup", "--to", file_text, "--data", empty_text],
        &[(
            config::ENV_DATABASE_URL,
            "postgres://u:hunter22@localhost/db",
        )],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("hunter22"));

    // Once the server is stopped, restore replaces the database and keeps the old one.
    assert_eq!(
        create_post(&http, &server.base, &key, "after the backup").await,
        StatusCode::CREATED
    );
    let mut server = server;
    server.stop();
    let out = run(&["restore", "--data", &data, "--from", file_text], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let posts = |path: &Path| -> i64 {
        rusqlite::Connection::open(path)
            .and_then(|c| c.query_row("SELECT count(*) FROM posts", [], |r| r.get(0)))
            .expect("count posts")
    };
    assert_eq!(posts(&server.data.path().join(config::DATABASE_FILE)), 1);
    let kept: Vec<_> = std::fs::read_dir(server.data.path())
        .expect("data dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(posts(&kept[0]), 2);
    assert!(
        stderr(&out).contains(".before-restore-"),
        "{}",
        stderr(&out)
    );
}

/// One sample of the OpenMetrics text: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Reads the exposition format strictly enough to fail on a malformed line.
fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no # EOF at the end");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let kind = rest.split(' ').next().unwrap_or_default();
            assert!(
                ["HELP", "TYPE", "UNIT"].contains(&kind),
                "a comment that is not HELP/TYPE/UNIT: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = BTreeMap::new();
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("bad label in {line}"));
                    labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
            None => (series.to_string(), BTreeMap::new()),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name: {line}"
        );
        samples.push((name, labels, value));
    }
    samples
}

fn sample(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

async fn scrape_and_check(server: &Server, key: &str) -> Vec<Sample> {
    let http = http();
    for _ in 0..3 {
        let status = http
            .get(format!("{}/api/v1/posts", server.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("list")
            .status();
        assert_eq!(status, StatusCode::OK);
    }
    let unauthorized = http
        .get(format!("{}/api/v1/posts/0193a1b2", server.base))
        .send()
        .await
        .expect("get");
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    let missing = http
        .get(format!("{}/no/such/{}", server.base, "x".repeat(40)))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let refused = http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("scrape");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let wrong = http
        .get(format!("{}/metrics", server.base))
        .bearer_auth("metrics-token-0123456789abcdeX")
        .send()
        .await
        .expect("scrape");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scrape = http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(scrape.status(), StatusCode::OK);
    let content_type = scrape
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = scrape.text().await.expect("text");
    assert!(!text.contains(key) && !text.contains(METRICS_TOKEN));
    let samples = parse_metrics(&text);
    let count = "postctl_server_http_request_duration_seconds_count";
    assert_eq!(
        sample(
            &samples,
            count,
            &[
                ("method", "GET"),
                ("route", "/api/v1/posts"),
                ("status", "200")
            ]
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &samples,
            count,
            &[("route", "/api/v1/posts/{id}"), ("status", "401")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &samples,
            count,
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert!(
        !text.contains("xxxxxxxx"),
        "a raw path became a label: {text}"
    );
    // The buckets add up: the +Inf bucket is the count.
    assert_eq!(
        sample(
            &samples,
            "postctl_server_http_request_duration_seconds_bucket",
            &[
                ("route", "/api/v1/posts"),
                ("status", "200"),
                ("le", "+Inf")
            ]
        ),
        Some(3.0)
    );
    assert!(sample(&samples, "postctl_server_http_requests_in_flight", &[]).is_some());
    samples
}

#[tokio::test]
async fn metrics_are_scraped_with_the_token_on_sqlite() {
    let server = Server::start_in(
        tempfile::tempdir().expect("tempdir"),
        None,
        &[],
        &[(config::ENV_METRICS_TOKEN, METRICS_TOKEN)],
    );
    let key = server.user_with_key("carol", None, "posts:read");
    let samples = scrape_and_check(&server, &key).await;
    assert_eq!(
        sample(&samples, "postctl_server_db_pool_max_connections", &[]),
        // The writer and four readers.
        Some(5.0)
    );
    assert!(!server.log().contains(METRICS_TOKEN));
}

#[tokio::test]
async fn metrics_are_scraped_with_the_token_on_postgres() {
    let Some(pg) = common::pg::Postgres::start("metrics_on_postgres") else {
        return;
    };
    let server = Server::start_in(
        tempfile::tempdir().expect("tempdir"),
        Some(pg.database()),
        &[],
        &[(config::ENV_METRICS_TOKEN, METRICS_TOKEN)],
    );
    let key = server.user_with_key("carol", None, "posts:read");
    let samples = scrape_and_check(&server, &key).await;
    let max = sample(&samples, "postctl_server_db_pool_max_connections", &[]).unwrap_or(0.0);
    let open = sample(&samples, "postctl_server_db_pool_connections", &[]).unwrap_or(-1.0);
    assert!(max > 1.0, "the pool's size: {max}");
    assert!(
        (1.0..=max).contains(&open),
        "{open} of {max} connections open"
    );
    drop(server);
    drop(pg);
}

#[tokio::test]
async fn a_short_metrics_token_is_refused() {
    let out = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "/nonexistent/x",
        ],
        &[(config::ENV_METRICS_TOKEN, "short")],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("16 characters"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("short\""));
}

#[tokio::test]
async fn json_logs_carry_each_requests_id() {
    let server = Server::start_in(
        tempfile::tempdir().expect("tempdir"),
        None,
        &["--log-format", "json"],
        &[],
    );
    let key = server.user_with_key("dave", None, "posts:read");
    let http = http();
    let answer = http
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&key)
        .header("x-request-id", "trace-42.a_b")
        .send()
        .await
        .expect("me");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-42.a_b")
    );
    let made = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz");
    let made_id = made
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(made_id.len(), 32, "{made_id}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let lines: Vec<Value> = loop {
        let log = server.log();
        let lines: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let done = lines
            .iter()
            .any(|l| l["span"]["id"] == made_id.as_str() && l["status"] == 200);
        if done || std::time::Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let me = lines
        .iter()
        .find(|l| l["span"]["id"] == "trace-42.a_b")
        .unwrap_or_else(|| panic!("no line for the request: {lines:?}"));
    assert_eq!(me["span"]["route"], "/api/v1/me");
    assert_eq!(me["span"]["method"], "GET");
    assert_eq!(me["status"], 200);
    assert_eq!(me["level"], "INFO");
    assert!(lines.iter().any(|l| l["span"]["id"] == made_id.as_str()));
    assert!(!server.log().contains(&key), "the key is in the log");
}

/// The paths of every `.route("…"` in the server's source.
fn routed_paths() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                for part in text.split(".route(").skip(1) {
                    let literal = part
                        .trim_start()
                        .strip_prefix('"')
                        .and_then(|rest| rest.split_once('"').map(|(path, _)| path.to_string()));
                    if let Some(route) = literal {
                        out.insert(route);
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

fn check_refs(value: &Value, doc: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("an outside $ref: {target}"));
                assert!(doc.pointer(pointer).is_some(), "{target} points at nothing");
            }
            map.values().for_each(|v| check_refs(v, doc));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(v, doc)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_has_every_route_the_server_answers_and_no_other() {
    let server = Server::start(None);
    let http = http();
    let doc: Value = http
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        doc["openapi"]
    );
    check_refs(&doc, &doc);
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut documented = BTreeSet::new();
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (name, operation) in item.as_object().expect("path item") {
            if methods.contains(&name.as_str()) {
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{name} {path} has no responses"
                );
                assert!(operation["operationId"].is_string(), "{name} {path}");
                documented.insert((name.to_uppercase(), path.clone()));
            }
        }
    }
    let source = routed_paths();
    assert!(
        source.len() >= 10,
        "the scan of the source found few routes: {source:?}"
    );
    // Probe every path the source routes or the document names, with every method: the
    // server's answer says whether it is a route (anything but its "no such route" 404 and
    // its 405).
    let candidates: BTreeSet<String> = source
        .iter()
        .cloned()
        .chain(paths.keys().cloned())
        .collect();
    let mut answered = BTreeSet::new();
    for path in &candidates {
        let concrete = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "0193a1b2-0000-7000-8000-000000000000"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in methods {
            let mut request = http.request(
                method.to_uppercase().parse().expect("method"),
                format!("{}{concrete}", server.base),
            );
            if method != "get" && method != "delete" {
                request = request.json(&json!({}));
            }
            let answer = request.send().await.expect("probe");
            let status = answer.status();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            let no_route = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND
                    && body["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("there is no such route")));
            if !no_route {
                answered.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let undocumented: Vec<_> = answered.difference(&documented).collect();
    let not_routed: Vec<_> = documented.difference(&answered).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    assert!(
        not_routed.is_empty(),
        "operations in openapi.json the server does not answer: {not_routed:?}"
    );
    for path in &source {
        assert!(
            paths.contains_key(path),
            "{path} is routed but not documented"
        );
    }
}

/// A systemd unit, read as systemd reads it: sections of `Key=Value` lines.
fn parse_unit(text: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut sections: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_string());
            sections.entry(name.to_string()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not Key=Value: {line}"));
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad key: {line}"
        );
        let section = current
            .clone()
            .unwrap_or_else(|| panic!("a setting before any section: {line}"));
        sections
            .entry(section)
            .or_default()
            .push((key.to_string(), value.to_string()));
    }
    sections
}

fn values<'a>(section: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    section
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn print_unit_prints_a_hardened_unit_with_the_servers_environment() {
    let secret = "postgres://postctl:hunter22@db/postctl";
    let out = run(
        &[
            "print-unit",
            "--exec",
            "/usr/local/bin/postctl-server",
            "--listen",
            "0.0.0.0:8787",
        ],
        &[(config::ENV_DATABASE_URL, secret)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!text.contains("hunter22"), "a secret in the unit");
    let unit = parse_unit(&text);
    assert_eq!(
        unit.keys().map(String::as_str).collect::<Vec<_>>(),
        ["Install", "Service", "Unit"]
    );
    let service = &unit["Service"];
    assert_eq!(
        values(service, "ExecStart"),
        ["/usr/local/bin/postctl-server serve"]
    );
    let env: BTreeMap<&str, &str> = values(service, "Environment")
        .into_iter()
        .map(|v| v.split_once('=').expect("NAME=VALUE"))
        .collect();
    for name in env.keys() {
        assert!(config::ENV.contains(name), "{name} is not a setting");
    }
    assert_eq!(env.get(config::ENV_LISTEN), Some(&"0.0.0.0:8787"));
    assert_eq!(env.get(config::ENV_DATA), Some(&"/var/lib/postctl-server"));
    assert_eq!(values(service, "StateDirectory"), ["postctl-server"]);
    assert_eq!(
        values(service, "EnvironmentFile"),
        ["-/etc/postctl-server.env"]
    );
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(values(service, key), [value], "{key}");
    }
    assert_eq!(values(&unit["Install"], "WantedBy"), ["multi-user.target"]);
    // A low port gets the one capability it needs; a named user replaces DynamicUser.
    let out = run(
        &["print-unit", "--listen", "0.0.0.0:80", "--user", "postctl"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let unit = parse_unit(&String::from_utf8(out.stdout).expect("utf-8"));
    let service = &unit["Service"];
    assert_eq!(
        values(service, "AmbientCapabilities"),
        ["CAP_NET_BIND_SERVICE"]
    );
    assert_eq!(values(service, "User"), ["postctl"]);
    assert!(values(service, "DynamicUser").is_empty());
    let exec = values(service, "ExecStart")[0];
    assert!(exec.starts_with('/') && exec.ends_with(" serve"), "{exec}");
    assert!(
        values(service, "Environment")
            .iter()
            .all(|e| !e.starts_with(config::ENV_TRUSTED_PROXIES))
    );
    // Behind a proxy on the same machine, the unit trusts it.
    let out = run(
        &["print-unit", "--trusted-proxies", "127.0.0.1, fd00::/8"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let unit = parse_unit(&String::from_utf8(out.stdout).expect("utf-8"));
    assert!(
        values(&unit["Service"], "Environment")
            .contains(&format!("{}=127.0.0.1/32,fd00::/8", config::ENV_TRUSTED_PROXIES).as_str()),
        "{:?}",
        values(&unit["Service"], "Environment")
    );
    // Bad input is refused with what to do.
    for (args, expected) in [
        (
            vec!["print-unit", "--trusted-proxies", "proxy.local"],
            "10.0.0.0/8",
        ),
        (vec!["print-unit", "--env-file", "relative.env"], "absolute"),
        (vec!["print-unit", "--user", "no way"], "system user"),
        (vec!["print-unit", "--listen", "nowhere"], "IP address"),
    ] {
        let out = run(&args, &[]);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// Every `POSTCTL_SERVER_*` name in `text`.
fn env_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("POSTCTL_SERVER_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        // `POSTCTL_SERVER_*` in prose names them all, not one.
        if !name.ends_with('_') {
            names.insert(name);
        }
    }
    names
}

#[test]
fn the_settings_list_is_what_the_help_the_dockerfile_and_the_compose_file_use() {
    let all: BTreeSet<String> = config::ENV.iter().map(|s| s.to_string()).collect();
    // The flags read exactly these, but for config::ENV_ONLY.
    let mut in_help = BTreeSet::new();
    for command in [&["serve", "--help"][..], &["backup", "--help"], &["--help"]] {
        let out = run(command, &[]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for part in text.split("[env: ").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| *c != ']' && *c != '=')
                .collect();
            in_help.insert(name);
        }
        in_help.extend(env_names(&text));
    }
    let mut expected = all.clone();
    assert!(in_help.is_subset(&all), "{in_help:?} vs {all:?}");
    expected.retain(|n| !config::ENV_ONLY.contains(&n.as_str()));
    assert!(
        expected.is_subset(&in_help),
        "settings missing from --help: {:?}",
        expected.difference(&in_help).collect::<Vec<_>>()
    );

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let compose_text =
        std::fs::read_to_string(root.join("docker-compose.yml")).expect("docker-compose.yml");
    let docs = yaml_rust2::YamlLoader::load_from_str(&compose_text).expect("valid YAML");
    let compose = &docs[0];
    let services = compose["services"].as_hash().expect("services");
    assert!(services.len() >= 2);
    let server = &compose["services"]["server"];
    assert!(!server.is_badvalue(), "no `server` service");
    let environment = server["environment"].as_hash().expect("server environment");
    let names: BTreeSet<String> = environment
        .keys()
        .map(|k| k.as_str().expect("a name").to_string())
        .collect();
    assert!(names.is_subset(&all), "{:?}", names.difference(&all));
    assert!(names.contains(config::ENV_DATABASE_URL));
    // The database URL names the compose file's PostgreSQL service.
    let url = server["environment"][config::ENV_DATABASE_URL]
        .as_str()
        .expect("a URL");
    let host = url
        .split('@')
        .nth(1)
        .and_then(|h| h.split([':', '/']).next())
        .expect("a host");
    let db = &compose["services"][host];
    assert!(
        db["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("postgres")),
        "{host} is not the PostgreSQL service"
    );
    assert_eq!(
        server["depends_on"][host]["condition"].as_str(),
        Some("service_healthy")
    );
    let listen_port = server["environment"][config::ENV_LISTEN]
        .as_str()
        .and_then(|l| l.rsplit(':').next())
        .expect("a listen address");
    let ports = server["ports"].as_vec().expect("ports");
    assert!(
        ports
            .iter()
            .filter_map(|p| p.as_str())
            .any(|p| p.ends_with(&format!(":{listen_port}"))),
        "no port maps to {listen_port}"
    );
    assert!(env_names(&compose_text).is_subset(&all));

    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert!(stages >= 2, "not a multi-stage build");
    let user = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("a USER");
    assert!(
        !user.starts_with("root") && !user.starts_with("0"),
        "runs as {user}"
    );
    let in_dockerfile = env_names(&dockerfile);
    assert!(
        in_dockerfile.is_subset(&all),
        "{:?}",
        in_dockerfile.difference(&all)
    );
    assert!(in_dockerfile.contains(config::ENV_DATA));
    assert!(dockerfile.contains(&format!("EXPOSE {listen_port}")));
}

/// `rotate-key`: refused while the server runs and for a malformed key; then every sealed
/// value (an account's credentials, a pending TOTP secret, a webhook's and a notification
/// channel's secrets) opens with the new key only,
/// and the key file holds the new key.
#[tokio::test]
async fn rotate_key_reseals_every_secret_under_the_new_key() {
    use postctl_server::auth::sealed::{KEY_FILE, ServerKey, decode_key};
    let mut server = Server::start(None);
    let key = server.user_with_key(
        "rk",
        None,
        "posts:read,posts:write,accounts:read,accounts:write,admin",
    );
    let token = "tok-rotate-0123456789abcdef";
    let made = http()
        .post(format!("{}/api/v1/accounts", server.base))
        .bearer_auth(&key)
        .json(&json!({ "name": "masto", "network": "mastodon",
                       "base_url": "https://social.example.test",
                       "credentials": { "token": token } }))
        .send()
        .await
        .expect("answer");
    assert_eq!(made.status(), StatusCode::CREATED);
    let account: Value = made.json().await.expect("json");
    let account_id = account["id"].as_str().expect("id").to_string();
    let enrol = server.cli(&["user", "totp", "enrol", "rk"], "");
    assert!(enrol.status.success(), "{}", stderr(&enrol));
    let dir = tempfile::tempdir().expect("tempdir");
    let new_text = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
    let new_file = dir.path().join("new.key");
    std::fs::write(&new_file, format!("{new_text}\n")).expect("write");
    let new_path = new_file.to_str().expect("utf-8");
    let key_path = server.data.path().join(KEY_FILE);
    let old_text = std::fs::read_to_string(&key_path).expect("the key file");

    let out = server.cli(&["rotate-key", "--new-key-file", new_path], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is running on"), "{}", stderr(&out));
    server.stop();

    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "too short").expect("write");
    let out = server.cli(
        &["rotate-key", "--new-key-file", bad.to_str().expect("utf-8")],
        "",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not a server key"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&key_path).expect("key"), old_text);

    // A webhook endpoint whose signing secret (and the one a rotation keeps) is sealed.
    let old = decode_key(&old_text, "old").expect("old key");
    let storage =
        postctl_server::storage::open(None, &server.data.path().join(config::DATABASE_FILE))
            .await
            .expect("database");
    let user = storage.user_by_name("rk").await.expect("user").expect("rk");
    let ws = storage
        .workspace_by_name("rk")
        .await
        .expect("ws")
        .expect("rk");
    let hook_id = uuid::Uuid::now_v7().to_string();
    storage
        .create_webhook(&postctl_server::storage::Webhook {
            id: hook_id.clone(),
            workspace_id: ws.id.clone(),
            url: "https://hooks.example.com/in".into(),
            description: None,
            events: vec!["post.scheduled".into()],
            secret: old.seal(&hook_id, b"whsec-now").expect("seal"),
            old_secret: Some(old.seal(&hook_id, b"whsec-before").expect("seal")),
            old_secret_until_ms: Some(i64::MAX),
            created_by: user.id.clone(),
            created_ms: 1,
            updated_ms: 1,
            disabled_ms: None,
            disabled_reason: None,
            failed_in_a_row: 0,
        })
        .await
        .expect("a webhook");
    // A notification channel whose bot token is sealed.
    let channel_id = uuid::Uuid::now_v7().to_string();
    storage
        .create_channel(&postctl_server::storage::Channel {
            id: channel_id.clone(),
            user_id: user.id.clone(),
            kind: postctl_server::storage::ChannelKind::Telegram,
            address: "4242".into(),
            secret: Some(old.seal(&channel_id, b"123:bot-token").expect("seal")),
            created_ms: 1,
        })
        .await
        .expect("a channel");
    // The workspace's model key (`generate`), sealed for the workspace.
    storage
        .set_ai_settings(&postctl_server::storage::AiSettings {
            workspace_id: ws.id.clone(),
            provider: "anthropic".into(),
            model: "claude-x".into(),
            base_url: None,
            api_key: Some(old.seal(&ws.id, b"sk-ant-model-key").expect("seal")),
            max_tokens: 100,
            updated_ms: 1,
        })
        .await
        .expect("model settings");
    drop(storage);

    // From standard input, as the help shows.
    let out = server.cli(&["rotate-key"], new_text);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "1 account(s), 1 TOTP secret(s), 2 webhook and trigger secret(s), 1 notification channel token(s) and 1 model key(s)"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&key_path).expect("key").trim(),
        new_text
    );
    let new = ServerKey::load(server.data.path()).expect("the key the server reads now");
    let storage =
        postctl_server::storage::open(None, &server.data.path().join(config::DATABASE_FILE))
            .await
            .expect("database");
    let sealed = storage.sealed_values().await.expect("sealed");
    assert_eq!(sealed.len(), 6, "{sealed:?}");
    for value in &sealed {
        assert!(
            old.open(&value.owner, &value.value).is_err(),
            "opens with the old key"
        );
        let plain = new
            .open(&value.owner, &value.value)
            .expect("opens with the new key");
        if value.owner == account_id {
            assert!(String::from_utf8_lossy(&plain).contains(token));
        }
        if value.owner == channel_id {
            assert_eq!(plain, b"123:bot-token");
        }
        if value.owner == ws.id {
            assert_eq!(plain, b"sk-ant-model-key");
        }
        if value.owner == hook_id {
            assert!(
                plain.starts_with(b"whsec-"),
                "a webhook secret opens to itself"
            );
        }
    }
    // Again with the same key file: it reseals what is there (under the same key).
    let out = server.cli(&["rotate-key", "--new-key-file", new_path], "");
    assert!(out.status.success(), "{}", stderr(&out));
}
