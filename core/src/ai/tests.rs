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
