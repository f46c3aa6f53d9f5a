use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::SecretError;
use super::file::FILE_NAME;

/// Where a secret is kept. This, never the secret, is what the database stores, as the
/// string `keyring:<account>`, `env:<VAR>` or `file:<account>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The OS keyring, service `postctl`, user `account`.
    Keyring { account: String },
    /// An environment variable, read each time the secret is needed (CI, containers).
    Env { var: String },
    /// The `account` entry of `secrets.toml` in the data directory (mode 0600).
    File { account: String },
}

impl SecretRef {
    /// A reference to the environment variable `var`, checked the way [`FromStr`] checks
    /// it, so what the database stores always parses back.
    pub fn env(var: &str) -> Result<Self, SecretError> {
        format!("env:{var}").parse()
    }

    /// Where the secret is, for `postctl accounts list`: "OS keyring", "env $TG_TOKEN",
    /// "file ~/.local/share/postctl/secrets.toml".
    pub fn location(&self, data_dir: &Path) -> String {
        match self {
            SecretRef::Keyring { .. } => "OS keyring".to_owned(),
            SecretRef::Env { var } => format!("env ${var}"),
            SecretRef::File { .. } => {
                let home = std::env::var_os("HOME").map(PathBuf::from);
                format!("file {}", tilde(&data_dir.join(FILE_NAME), home.as_deref()))
            }
        }
    }
}

/// The env var postctl suggests for an account: `POSTCTL_<ACCOUNT>_TOKEN`, with the
/// account name uppercased and '-' turned into '_' (env var names cannot hold '-').
pub fn default_env_var(account: &str) -> String {
    let name: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("POSTCTL_{name}_TOKEN")
}

/// `path` with the home directory shown as `~`, as users write it.
fn tilde(path: &Path, home: Option<&Path>) -> String {
    match home
        .filter(|h| !h.as_os_str().is_empty())
        .and_then(|h| path.strip_prefix(h).ok())
    {
        Some(rest) => Path::new("~").join(rest).display().to_string(),
        None => path.display().to_string(),
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Keyring { account } => write!(f, "keyring:{account}"),
            SecretRef::Env { var } => write!(f, "env:{var}"),
            SecretRef::File { account } => write!(f, "file:{account}"),
        }
    }
}

impl FromStr for SecretRef {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |problem| SecretError::InvalidRef { problem };
        let (kind, value) = s
            .split_once(':')
            .ok_or_else(|| invalid("no kind before ':'"))?;
        match kind {
            "keyring" | "file" => {
                if !is_account_key(value) {
                    return Err(invalid("the account part is empty or has spaces"));
                }
                let account = value.to_owned();
                Ok(if kind == "keyring" {
                    SecretRef::Keyring { account }
                } else {
                    SecretRef::File { account }
                })
            }
            "env" if is_env_var_name(value) => Ok(SecretRef::Env {
                var: value.to_owned(),
            }),
            "env" => Err(invalid(
                "env var names are letters, digits and '_', not starting with a digit",
            )),
            _ => Err(invalid("unknown kind")),
        }
    }
}

/// `given` when it is an environment variable's name, for a flag that takes one
/// (`--token-env`, `--key-env`); the error never repeats `given`, which is often the
/// secret itself pasted by mistake. Names are held to the usual capitals, digits and '_':
/// a mixed-case token that happens to be letters and digits would otherwise be taken for
/// a name and stored in the database as `env:<token>`.
pub fn env_var_name(
    flag: &'static str,
    example: &'static str,
    given: &str,
) -> Result<SecretRef, SecretError> {
    let given = given.trim();
    let conventional = given
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !conventional || !is_env_var_name(given) {
        return Err(SecretError::NotAVarName { flag, example });
    }
    SecretRef::env(given)
}

/// What may name a stored secret: an account name, or any printable word without
/// spaces (so future per-account secrets such as `name/refresh` fit too).
pub(super) fn is_account_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

pub(super) fn is_env_var_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let cases = [
            (
                SecretRef::Keyring {
                    account: "work".into(),
                },
                "keyring:work",
            ),
            (
                SecretRef::Env {
                    var: "TG_BOT_TOKEN".into(),
                },
                "env:TG_BOT_TOKEN",
            ),
            (SecretRef::Env { var: "_x1".into() }, "env:_x1"),
            (
                SecretRef::File {
                    account: "my-page_2".into(),
                },
                "file:my-page_2",
            ),
            (
                SecretRef::File {
                    account: "a:b".into(),
                },
                "file:a:b",
            ),
        ];
        for (reference, text) in cases {
            assert_eq!(reference.to_string(), text);
            assert_eq!(text.parse::<SecretRef>().ok(), Some(reference), "{text}");
        }
    }

    #[test]
    fn env_constructor_checks_the_name() {
        let cases = [
            ("TG_BOT_TOKEN", true),
            ("_X", true),
            ("1ABC", false),
            ("MY-VAR", false),
            ("", false),
            ("A:B", false),
        ];
        for (var, ok) in cases {
            let got = SecretRef::env(var);
            assert_eq!(got.is_ok(), ok, "{var:?}");
            if let Ok(reference) = got {
                assert_eq!(
                    reference,
                    SecretRef::Env {
                        var: var.to_owned()
                    }
                );
            }
        }
    }

    #[test]
    fn parse_rejects() {
        let cases = [
            ("", "no kind"),
            ("work", "no kind"),
            ("keyring:", "account part"),
            ("file:has space", "account part"),
            ("env:", "env var names"),
            ("env:1ABC", "env var names"),
            ("env:MY-VAR", "env var names"),
            ("vault:work", "unknown kind"),
            ("Keyring:work", "unknown kind"),
        ];
        for (text, want) in cases {
            let message = text
                .parse::<SecretRef>()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(want), "{text:?}: {message:?}");
            assert!(
                message.contains("keyring:<account>, env:<VAR> or file:<account>"),
                "{message}"
            );
        }
    }

    #[test]
    fn errors_never_repeat_what_was_given() {
        let secrets = [
            "xoxb-1234-5678-abcdefghijklmnop",
            "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "sk-ant-api03-very-secret",
            "keyring:has a space-secret",
            "env:1secretvalue",
            "AbCdEf0123456789xYz",
        ];
        for secret in secrets {
            let as_ref = secret.parse::<SecretRef>().err().map(|e| e.to_string());
            let as_var = env_var_name("--token-env", "TG_BOT_TOKEN", secret)
                .err()
                .map(|e| e.to_string());
            for message in [as_ref, as_var] {
                let message = message.unwrap_or_else(|| panic!("{secret:?} was accepted"));
                assert!(!message.contains(secret), "{message}");
                let tail = secret.split_once(':').map_or(secret, |(_, t)| t);
                assert!(!message.contains(tail), "{message}");
            }
        }
        let message = env_var_name("--key-env", "CLAUDE_KEY", "sk-ant-api03-x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message
                .contains("--key-env takes the NAME of an environment variable, like CLAUDE_KEY"),
            "{message}"
        );
        assert_eq!(
            env_var_name("--token-env", "TG_BOT_TOKEN", " MY_TOKEN ").ok(),
            Some(SecretRef::Env {
                var: "MY_TOKEN".into()
            })
        );
    }

    #[test]
    fn locations() {
        let data = Path::new("/home/ann/.local/share/postctl");
        let cases = [
            (
                SecretRef::Keyring {
                    account: "w".into(),
                },
                "OS keyring",
            ),
            (
                SecretRef::Env {
                    var: "TG_BOT_TOKEN".into(),
                },
                "env $TG_BOT_TOKEN",
            ),
        ];
        for (reference, want) in cases {
            assert_eq!(reference.location(data), want);
        }
        let file = SecretRef::File {
            account: "w".into(),
        }
        .location(data);
        assert!(
            file.starts_with("file ") && file.ends_with("postctl/secrets.toml"),
            "{file}"
        );
    }

    #[test]
    fn tilde_shortens_home_only() {
        let path = Path::new("/home/ann/.local/share/postctl/secrets.toml");
        let cases = [
            (Some("/home/ann"), "~/.local/share/postctl/secrets.toml"),
            (
                Some("/home/an"),
                "/home/ann/.local/share/postctl/secrets.toml",
            ),
            (Some(""), "/home/ann/.local/share/postctl/secrets.toml"),
            (None, "/home/ann/.local/share/postctl/secrets.toml"),
        ];
        for (home, want) in cases {
            assert_eq!(tilde(path, home.map(Path::new)), want, "{home:?}");
        }
    }

    #[test]
    fn default_env_vars() {
        let cases = [
            ("work", "POSTCTL_WORK_TOKEN"),
            ("work-mastodon", "POSTCTL_WORK_MASTODON_TOKEN"),
            ("0day_news", "POSTCTL_0DAY_NEWS_TOKEN"),
        ];
        for (account, want) in cases {
            assert_eq!(default_env_var(account), want);
            assert!(is_env_var_name(want));
        }
    }
}
