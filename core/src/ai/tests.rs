use std::collections::HashMap;

use super::*;
use crate::secrets::Backend;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn config(provider: Provider, model: Option<&str>) -> AiConfig {
    AiConfig {
        provider,
        model: model.map(str::to_string),
        ..AiConfig::default()
    }
}

fn store(dir: &std::path::Path) -> SecretStore {
    SecretStore::new(dir, Backend::File)
}

#[test]
fn anthropic_needs_a_model_and_a_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secrets = store(dir.path());
    let no_model = Model::resolve(
        &config(Provider::Anthropic, None),
        None,
        &secrets,
        &env(&[]),
    );
    assert!(
        matches!(no_model, Err(AiError::NoModel { .. })),
        "{no_model:?}"
    );
    let no_key = Model::resolve(
        &config(Provider::Anthropic, Some("m")),
        None,
        &secrets,
        &env(&[]),
    );
    assert!(matches!(no_key, Err(AiError::NoKey { .. })), "{no_key:?}");
    let flag = Model::resolve(
        &config(Provider::Anthropic, None),
        Some("from-flag"),
        &secrets,
        &env(&[("ANTHROPIC_API_KEY", "sk-1")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flag.name, "from-flag");
    assert_eq!(flag.base_url, "https://api.anthropic.com");
    assert!(
        !format!("{flag:?}").contains("sk-1"),
        "the key is not in Debug"
    );
}

#[test]
fn the_base_url_comes_from_the_environment_then_the_config() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secrets = store(dir.path());
    let mut cfg = config(Provider::Anthropic, Some("m"));
    cfg.base_url = Some("https://proxy.example/".into());
    let key = ("ANTHROPIC_API_KEY", "k");
    let from_config =
        Model::resolve(&cfg, None, &secrets, &env(&[key])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_config.base_url, "https://proxy.example");
    let from_env = Model::resolve(
        &cfg,
        None,
        &secrets,
        &env(&[key, ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_env.base_url, "http://127.0.0.1:9");
    cfg.base_url = Some("localhost:11434".into());
    let bad = Model::resolve(&cfg, None, &secrets, &env(&[key]));
    assert!(matches!(bad, Err(AiError::Config(_))), "{bad:?}");
}

#[test]
fn an_openai_compatible_server_may_need_no_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secrets = store(dir.path());
    let mut cfg = config(Provider::Openai, Some("llama3.2"));
    cfg.base_url = Some("http://localhost:11434/v1".into());
    let model = Model::resolve(&cfg, None, &secrets, &env(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert!(model.key.is_none());
    assert_eq!(model.base_url, "http://localhost:11434/v1");
}

#[test]
fn a_stored_key_is_read_through_its_reference() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secrets = store(dir.path());
    let (reference, _) = secrets
        .put("ai/anthropic", &Secret::new("sk-stored".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = config(Provider::Anthropic, Some("m"));
    cfg.key = Some(reference.to_string());
    let model = Model::resolve(&cfg, None, &secrets, &env(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.key.as_ref().map(Secret::expose), Some("sk-stored"));
    // The provider's own variable wins, as the layering of settings says.
    let model = Model::resolve(
        &cfg,
        None,
        &secrets,
        &env(&[("ANTHROPIC_API_KEY", "sk-env")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.key.as_ref().map(Secret::expose), Some("sk-env"));
    let described = describe(&cfg, &env(&[]), dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(described.key_from.starts_with("file "), "{described:?}");
    cfg.key = Some("nonsense".into());
    let bad = Model::resolve(&cfg, None, &secrets, &env(&[]));
    assert!(matches!(bad, Err(AiError::Config(_))), "{bad:?}");
}

#[test]
fn retry_after_reads_milliseconds_then_seconds() {
    let mut headers = reqwest::header::HeaderMap::new();
    assert_eq!(retry_after(&headers), None);
    headers.insert(
        "retry-after",
        reqwest::header::HeaderValue::from_static("3"),
    );
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    headers.insert(
        "retry-after-ms",
        reqwest::header::HeaderValue::from_static("250"),
    );
    assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
}

#[test]
fn providers_parse_by_their_common_names() {
    for (typed, provider) in [
        ("anthropic", Provider::Anthropic),
        ("Claude", Provider::Anthropic),
        ("openai", Provider::Openai),
        ("ollama", Provider::Openai),
        ("vllm", Provider::Openai),
    ] {
        assert_eq!(typed.parse::<Provider>().ok(), Some(provider), "{typed}");
    }
    assert!("gemini".parse::<Provider>().is_err());
}

#[tokio::test]
async fn an_error_body_that_echoes_the_key_does_not_reach_the_message() {
    use crate::platforms::test_server::{Reply, TestServer};
    let server = TestServer::start(|request| {
        let key = request.header("x-api-key").unwrap_or_default().to_string();
        Reply::json(
            401,
            serde_json::json!({"type": "error", "error": {"type": "authentication_error", "message": format!("invalid x-api-key {key}")}}),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = config(Provider::Anthropic, Some("m"));
    cfg.max_retries = 0;
    let model = Model::resolve(
        &cfg,
        None,
        &store(dir.path()),
        &env(&[
            ("ANTHROPIC_API_KEY", "sk-ant-echoed-9"),
            ("ANTHROPIC_BASE_URL", &server.url()),
        ]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let prompt = Prompt {
        system: "s".into(),
        user: "u".into(),
    };
    let error = model
        .complete(&prompt, &mut |_| {})
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("rejected the API key"), "{error}");
    assert!(error.contains("invalid x-api-key ***"), "{error}");
    assert!(!error.contains("sk-ant-echoed-9"), "{error}");
}

#[test]
fn a_raw_key_in_the_config_is_refused_without_being_shown() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secrets = store(dir.path());
    let raw_keys = [
        "sk-ant-api03-AbCdEfGhIjKlMnOp",
        "keyring:sk ant api03 AbCdEfGhIjKlMnOp",
        "env:sk-proj-AbCdEfGhIjKlMnOp",
    ];
    for raw in raw_keys {
        let mut cfg = config(Provider::Anthropic, Some("m"));
        cfg.key = Some(raw.into());
        let resolved = Model::resolve(&cfg, None, &secrets, &env(&[]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let described = describe(&cfg, &env(&[]), dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        for message in [resolved, described] {
            assert!(message.contains("[ai] key"), "{message}");
            assert!(message.contains("env:<VAR>"), "{message}");
            assert!(!message.contains("AbCdEfGhIjKlMnOp"), "{message}");
        }
    }
}

/// A server that answers one request with `status`, `content_type` and a body of `total`
/// bytes of `fill` (no line ends), and reports how many body bytes it got to write
/// before the client stopped reading and went away.
async fn flooding_server(
    status: u16,
    content_type: &'static str,
    total: usize,
) -> (String, tokio::task::JoinHandle<usize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let written = tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return 0;
        };
        // The request: headers, then a small JSON body; enough to have it all.
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        while !String::from_utf8_lossy(&request).contains("\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return 0,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {total}\r\nconnection: close\r\n\r\n"
        );
        if socket.write_all(head.as_bytes()).await.is_err() {
            return 0;
        }
        let block = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            let n = block.len().min(total - sent);
            if socket.write_all(&block[..n]).await.is_err() {
                break;
            }
            sent += n;
        }
        sent
    });
    (url, written)
}

fn flooded_model(url: &str, dir: &std::path::Path) -> Model {
    let mut cfg = config(Provider::Anthropic, Some("m"));
    cfg.max_retries = 0;
    Model::resolve(
        &cfg,
        None,
        &store(dir),
        &env(&[("ANTHROPIC_API_KEY", "sk-1"), ("ANTHROPIC_BASE_URL", url)]),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

const FLOOD: usize = 48 * 1024 * 1024;

#[tokio::test]
async fn a_huge_error_body_is_not_read_whole() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (url, written) = flooding_server(500, "text/plain", FLOOD).await;
    let model = flooded_model(&url, dir.path());
    let prompt = Prompt {
        system: "s".into(),
        user: "u".into(),
    };
    let error = model.complete(&prompt, &mut |_| {}).await.err();
    assert!(
        matches!(error, Some(AiError::Api { status: 500, .. })),
        "{error:?}"
    );
    drop(model);
    let sent = written.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(sent < FLOOD, "the whole {FLOOD}-byte error body was read");
}

#[tokio::test]
async fn a_stream_that_never_ends_an_event_is_cut_at_the_limit() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (url, written) = flooding_server(200, "text/event-stream", FLOOD).await;
    let model = flooded_model(&url, dir.path());
    let prompt = Prompt {
        system: "s".into(),
        user: "u".into(),
    };
    let error = model.complete(&prompt, &mut |_| {}).await.err();
    let message = error.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        matches!(error, Some(AiError::Protocol { .. })) && message.contains("8 MiB"),
        "{error:?}"
    );
    drop(model);
    let sent = written.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(sent < FLOOD, "the whole {FLOOD}-byte stream was read");
}

#[tokio::test]
async fn a_redirect_to_another_server_never_gets_the_key() {
    use crate::platforms::test_server::{Reply, TestServer};
    let elsewhere = TestServer::start(|_| Reply::text(200, "ok")).await;
    let target = elsewhere.url();
    let server = TestServer::start(move |request| {
        Reply::text(307, "moved").header("location", &format!("{target}{}", request.path))
    })
    .await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for provider in [Provider::Anthropic, Provider::Openai] {
        let mut cfg = config(provider, Some("m"));
        cfg.max_retries = 0;
        let (key_var, url_var) = (provider.key_env(), provider.base_url_env());
        let model = Model::resolve(
            &cfg,
            None,
            &store(dir.path()),
            &env(&[(key_var, "sk-redirected-key"), (url_var, &server.url())]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let prompt = Prompt {
            system: "s".into(),
            user: "u".into(),
        };
        let error = model.complete(&prompt, &mut |_| {}).await;
        assert!(error.is_err(), "{provider:?}: {error:?}");
    }
    assert_eq!(server.requests().len(), 2);
    let received: Vec<String> = elsewhere
        .requests()
        .iter()
        .map(|r| format!("{} {:?}", r.path, r.headers))
        .collect();
    assert!(
        received.is_empty(),
        "the other server received {received:?}"
    );
}
