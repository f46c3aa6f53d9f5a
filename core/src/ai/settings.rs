//! `[ai]` in config.toml, and `postctl ai set` writing it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Table, value};

use super::Provider;
use crate::error::{Error, Result};

/// `[ai]` in config.toml.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AiConfig {
    pub provider: Provider,
    /// The model's name as the provider knows it.
    pub model: Option<String>,
    /// The API's base URL; `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` override it.
    pub base_url: Option<String>,
    /// Where the key is: `keyring:ai/anthropic`, `file:ai/anthropic` or `env:VAR`
    /// (`postctl ai set --key-stdin` writes it). The provider's own variable
    /// (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`) wins when it is set.
    pub key: Option<String>,
    /// The longest answer, in tokens.
    pub max_tokens: u32,
    /// How often an overloaded, rate-limited or unreachable request is tried again.
    pub max_retries: u32,
    /// How long the stream may stay silent before the request is given up.
    pub timeout_seconds: u32,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            provider: Provider::Anthropic,
            model: None,
            base_url: None,
            key: None,
            max_tokens: 2048,
            max_retries: 3,
            timeout_seconds: 60,
        }
    }
}

/// What `postctl ai set` changes; `None` keeps a setting, `Some("")` for a text clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AiChange {
    pub provider: Option<Provider>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    /// A secret reference (`keyring:ai/anthropic`, `env:VAR`), or "" to forget it.
    pub key: Option<String>,
    pub max_tokens: Option<u32>,
}

/// `text` (a config.toml) with `change` applied to its `[ai]` table; the rest of the file,
/// comments included, is kept.
pub fn set_in_toml(text: &str, change: &AiChange) -> std::result::Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string().trim().replace('\n', " "))?;
    if doc.get("ai").is_none() {
        // Comments after the last table belong to the end of the file, not to that table:
        // the new table goes after them (else they would end up inside it).
        let trailing = doc.trailing().as_str().unwrap_or("").trim_end().to_string();
        let mut table = Table::new();
        if !trailing.trim().is_empty() {
            table.decor_mut().set_prefix(format!("{trailing}\n\n"));
            doc.set_trailing("");
        } else if !text.trim().is_empty() {
            table.decor_mut().set_prefix("\n");
        }
        doc.insert("ai", Item::Table(table));
    }
    let Some(table) = doc.get_mut("ai").and_then(Item::as_table_like_mut) else {
        return Err("`ai` must be a table ([ai])".into());
    };
    let mut text_field = |key: &str, new: &Option<String>| match new.as_deref().map(str::trim) {
        None => {}
        Some("") => {
            table.remove(key);
        }
        Some(v) => {
            table.insert(key, value(v));
        }
    };
    text_field("provider", &change.provider.map(|p| p.as_str().to_string()));
    text_field("model", &change.model);
    text_field("base_url", &change.base_url);
    text_field("key", &change.key);
    if let Some(max) = change.max_tokens {
        table.insert("max_tokens", value(i64::from(max)));
    }
    Ok(doc.to_string())
}

/// Applies `change` to `[ai]` in the config file at `path` (created if missing).
pub fn write_settings(path: &Path, change: &AiChange) -> Result<()> {
    crate::config::edit_file(
        path,
        |text| {
            set_in_toml(text, change).map_err(|detail| Error::Config {
                path: path.to_path_buf(),
                detail,
            })
        },
        |_| Ok(()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_the_rest_of_the_file_and_clears_with_empty_text() {
        let text =
            "# mine\ntimezone = \"UTC\"\n\n[ai]\nmodel = \"old\"  # why\nbase_url = \"http://x\"\n";
        let change = AiChange {
            provider: Some(Provider::Openai),
            model: Some("llama3.2".into()),
            base_url: Some(String::new()),
            max_tokens: Some(512),
            ..AiChange::default()
        };
        let updated = set_in_toml(text, &change).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            updated.starts_with("# mine\ntimezone = \"UTC\"\n"),
            "{updated}"
        );
        let config: crate::config::Config =
            toml::from_str(&updated).unwrap_or_else(|e| panic!("{e}: {updated}"));
        assert_eq!(config.ai.provider, Provider::Openai);
        assert_eq!(config.ai.model.as_deref(), Some("llama3.2"));
        assert_eq!(config.ai.base_url, None);
        assert_eq!(config.ai.max_tokens, 512);
    }

    #[test]
    fn a_new_table_goes_at_the_end() {
        let updated = set_in_toml(
            "timezone = \"UTC\"\n",
            &AiChange {
                model: Some("claude-x".into()),
                ..AiChange::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            updated,
            "timezone = \"UTC\"\n\n[ai]\nmodel = \"claude-x\"\n"
        );
        let commented = "[publish]\n# retry_window_minutes = 30\n\n# [tui.keys]\n# quit = \"q\"\n";
        let updated = set_in_toml(
            commented,
            &AiChange {
                model: Some("claude-x".into()),
                ..AiChange::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            updated,
            format!("{commented}\n[ai]\nmodel = \"claude-x\"\n"),
            "after the trailing comments"
        );
    }
}
