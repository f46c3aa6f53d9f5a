//! Templates: a default body plus optional per-network variants, rendered with minijinja.
//!
//! Undefined variables are strict: a template that prints, tests or loops over a variable
//! that was not given fails with an error naming it and saying how to give it. Variables
//! come from three layers, later wins:
//!
//! 1. the environment, as `env.NAME` (never as plain names, so `PATH` or `USER` cannot
//!    stand in for a forgotten variable). Variables whose names look like secrets
//!    (`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*KEY`...) are left out, so a template can
//!    never print a credential;
//! 2. a JSON object (`--vars-file vars.json`), merged deeply (objects into objects);
//! 3. `--var NAME=VALUE` (values are strings; `a.b=v` sets `b` inside the object `a`).
//!
//! So `--var env.REF=main` overrides the environment variable `REF` for one run, and
//! `--var version=1.2` overrides `"version"` in the vars file.

use std::collections::BTreeMap;
use std::str::FromStr;

use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::network::Network;

/// The name of the built-in release announcement template.
pub const RELEASE_TEMPLATE_NAME: &str = "release";

/// The built-in release announcement: "NAME VERSION is out 🎉", the summary, the link.
/// `version` and `summary` are required; `name` (the project) and `link` may be missing or
/// empty. Variables: see [`crate::content::changelog::Release::variables`].
pub const RELEASE_TEMPLATE: &str = "\
{% if name is defined and name %}{{ name }} {% endif %}{{ version }} is out 🎉
{%- if summary %}

{{ summary }}
{%- endif %}
{%- if link is defined and link %}

{{ link }}
{%- endif %}";

/// Template names: what `postctl template add NAME` accepts.
const MAX_NAME_LEN: usize = 64;

/// A template: a default body, and bodies for particular networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    pub name: String,
    /// Used for every network without a variant of its own.
    pub body: String,
    /// Per-network bodies, keyed by network name (`bluesky`, `x`, `mastodon`...).
    pub variants: BTreeMap<String, String>,
    /// Built into postctl rather than stored; a stored template of the same name wins.
    pub builtin: bool,
}

/// A template rendered for one network (or for none: the default body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedTemplate {
    pub template: String,
    /// The network whose variant was used; `None` when the default body was.
    pub variant: Option<String>,
    pub text: String,
}

/// Why a template could not be stored or rendered. Every one is the user's to fix (exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "{name:?} is not a valid template name: use 1 to 64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit"
    )]
    BadName { name: String },
    #[error(
        "{given:?} is not a network; variants are per network: x, mastodon, bluesky, telegram, discord, slack, matrix, ..."
    )]
    BadNetwork { given: String },
    #[error(
        "template {template:?}{}, line {line}: {detail}; fix the template and add it again (`postctl template add {template} --force ...`)",
        variant_label(variant.as_deref())
    )]
    Syntax {
        template: String,
        variant: Option<String>,
        line: usize,
        detail: String,
    },
    #[error("{}", missing_message(template, names))]
    Missing {
        template: String,
        /// The variables not given: `version`, `release.date`, `env.GITHUB_REF_NAME`.
        names: Vec<String>,
    },
    #[error("template {template:?}, line {line}: {detail}")]
    Render {
        template: String,
        line: usize,
        detail: String,
    },
    #[error(
        "--var {given:?} is not NAME=VALUE; write e.g. --var version=1.2.0 (names are letters, digits and _, dots for nested values)"
    )]
    BadVar { given: String },
    #[error("{source_name}: {detail}")]
    BadVarsFile { source_name: String, detail: String },
}

fn variant_label(variant: Option<&str>) -> String {
    variant
        .map(|v| format!(" (the {v} variant)"))
        .unwrap_or_default()
}

/// "template "x" uses `version`, which was not given: give it with --var version=VALUE ..."
fn missing_message(template: &str, names: &[String]) -> String {
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut hints = Vec::new();
    let plain: Vec<&String> = names.iter().filter(|n| !n.starts_with("env.")).collect();
    if let Some(first) = plain.first() {
        hints.push(format!(
            "give {} with --var {first}=VALUE{}, or in a JSON object with --vars-file FILE",
            if plain.len() == 1 { "it" } else { "each" },
            if plain.len() == 1 {
                ""
            } else {
                " (one --var per variable)"
            }
        ));
    }
    for name in names.iter().filter_map(|n| n.strip_prefix("env.")) {
        let var = name.split('.').next().unwrap_or(name);
        if looks_secret(var) {
            hints.push(format!(
                "env.{var} looks like a secret, and environment variables that do are never given to templates; pass the value with --var env.{var}=VALUE if you really mean to print it"
            ));
        } else {
            hints.push(format!(
                "set the environment variable {var}, or pass --var env.{var}=VALUE"
            ));
        }
    }
    let uses = if names.len() == 1 {
        format!("uses {list}, which was not given")
    } else {
        format!("uses variables that were not given: {list}")
    };
    format!("template {template:?} {uses}; {}", hints.join("; "))
}

/// Whether an environment variable's name says it holds a credential; those are never
/// exposed to templates.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: [&str; 8] = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "CREDENTIAL",
        "PRIVATE",
        "_KEY",
    ];
    WORDS.iter().any(|w| upper.contains(w)) || upper.ends_with("KEY")
}

/// Checks a template name (see [`TemplateError::BadName`]).
pub fn validate_name(name: &str) -> Result<(), TemplateError> {
    let valid = (1..=MAX_NAME_LEN).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(TemplateError::BadName { name: name.into() })
    }
}

/// The network name a variant is stored under (`bsky` -> `bluesky`).
pub fn variant_key(network: &str) -> Result<String, TemplateError> {
    Network::from_str(network)
        .map(|n| n.name().to_string())
        .map_err(|_| TemplateError::BadNetwork {
            given: network.into(),
        })
}

impl Template {
    /// A checked template: a valid name, variants keyed by known networks, and bodies that
    /// compile (so a typo is reported when the template is added, not when a release ships).
    pub fn new(
        name: &str,
        body: &str,
        variants: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Template, TemplateError> {
        validate_name(name)?;
        check(name, None, body)?;
        let mut checked = BTreeMap::new();
        for (network, source) in variants {
            let key = variant_key(&network)?;
            check(name, Some(&key), &source)?;
            checked.insert(key, source);
        }
        Ok(Template {
            name: name.into(),
            body: body.into(),
            variants: checked,
            builtin: false,
        })
    }

    /// The source used for `network`: its variant if it has one, else the default body;
    /// with the network name when a variant was chosen.
    pub fn source_for(&self, network: Option<Network>) -> (&str, Option<&str>) {
        network
            .and_then(|n| self.variants.get_key_value(n.name()))
            .map_or((self.body.as_str(), None), |(key, source)| {
                (source.as_str(), Some(key.as_str()))
            })
    }

    /// Renders the body for `network` (see [`Template::source_for`]) with `vars`.
    pub fn render(
        &self,
        network: Option<Network>,
        vars: &Variables,
    ) -> Result<RenderedTemplate, TemplateError> {
        let (source, variant) = self.source_for(network);
        Ok(RenderedTemplate {
            template: self.name.clone(),
            variant: variant.map(String::from),
            text: render(&self.name, source, vars)?,
        })
    }
}

/// The templates built into postctl: `release`.
pub fn builtins() -> Vec<Template> {
    vec![Template {
        name: RELEASE_TEMPLATE_NAME.into(),
        body: RELEASE_TEMPLATE.into(),
        variants: BTreeMap::new(),
        builtin: true,
    }]
}

/// The built-in template called `name`, if there is one.
pub fn builtin(name: &str) -> Option<Template> {
    builtins().into_iter().find(|t| t.name == name)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_debug(true);
    env
}

/// Checks that `source` compiles.
pub fn check(name: &str, variant: Option<&str>, source: &str) -> Result<(), TemplateError> {
    let env = environment();
    env.template_from_named_str(name, source)
        .map(|_| ())
        .map_err(|e| TemplateError::Syntax {
            template: name.into(),
            variant: variant.map(String::from),
            line: e.line().unwrap_or(1),
            detail: syntax_detail(&e),
        })
}

/// Renders `source` (a template called `name`) with `vars`, strictly: a variable that is
/// used but not given is a [`TemplateError::Missing`] naming every such variable on the path
/// the template takes (a variable only tested with `is defined` is optional, and not named).
/// Trailing whitespace is removed.
pub fn render(name: &str, source: &str, vars: &Variables) -> Result<String, TemplateError> {
    let env = environment();
    let template =
        env.template_from_named_str(name, source)
            .map_err(|e| TemplateError::Syntax {
                template: name.into(),
                variant: None,
                line: e.line().unwrap_or(1),
                detail: syntax_detail(&e),
            })?;
    let attempt = |vars: &Variables| {
        template.render(minijinja::Value::from(minijinja::value::Serde(
            &vars.values,
        )))
    };
    let first = match attempt(vars) {
        Ok(text) => return Ok(text.trim_end().to_string()),
        Err(e) if e.kind() == ErrorKind::UndefinedError => e,
        Err(e) => return Err(render_error(name, &e)),
    };
    // Name every missing variable, not only the first: give each one found an empty value
    // and render again, until rendering gets through or an error names nothing new.
    let mut names: Vec<String> = Vec::new();
    let mut probe = vars.clone();
    let mut error = first;
    for _ in 0..MAX_MISSING {
        let Some(expr) = error.detail().and_then(undefined_expression) else {
            break;
        };
        if names.contains(&expr) {
            break;
        }
        let keys: Vec<&str> = expr.split('.').collect();
        if !keys.iter().all(|k| is_identifier(k)) {
            names.push(expr);
            break;
        }
        probe.insert_path(&keys, Value::String(String::new()));
        names.push(expr);
        match attempt(&probe) {
            Err(e) if e.kind() == ErrorKind::UndefinedError => error = e,
            _ => break,
        }
    }
    if names.is_empty() {
        return Err(render_error(name, &error));
    }
    Err(TemplateError::Missing {
        template: name.into(),
        names,
    })
}

/// How many missing variables one error names at most.
const MAX_MISSING: usize = 32;

/// minijinja's detail ("unexpected end of input"), or the whole message when it has none.
fn syntax_detail(e: &minijinja::Error) -> String {
    e.detail()
        .map_or_else(|| e.kind().to_string(), String::from)
}

fn render_error(name: &str, e: &minijinja::Error) -> TemplateError {
    TemplateError::Render {
        template: name.into(),
        line: e.line().unwrap_or(1),
        detail: e.to_string(),
    }
}

/// `version` out of minijinja's "... (`version` is undefined)".
fn undefined_expression(detail: &str) -> Option<String> {
    let start = detail.find('`')? + 1;
    let end = start + detail[start..].find('`')?;
    detail[end..]
        .starts_with("` is undefined")
        .then(|| detail[start..end].to_string())
}

/// The values a template is rendered with: a JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variables {
    values: Map<String, Value>,
}

impl Variables {
    /// The three layers of the module docs: the environment (`env.NAME`, secrets left out),
    /// then `file` (a JSON object), then the `NAME=VALUE` assignments.
    pub fn layered(
        assignments: &[String],
        file: Option<(&str, Value)>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Variables, TemplateError> {
        let mut vars = Variables::from_environment(environment);
        if let Some((source_name, json)) = file {
            vars.merge_json(source_name, json)?;
        }
        for assignment in assignments {
            vars.assign(assignment)?;
        }
        Ok(vars)
    }

    /// `env.NAME` for each environment variable whose name does not look like a secret.
    pub fn from_environment(environment: impl IntoIterator<Item = (String, String)>) -> Variables {
        let env: Map<String, Value> = environment
            .into_iter()
            .filter(|(name, _)| !looks_secret(name))
            .map(|(name, value)| (name, Value::String(value)))
            .collect();
        let mut values = Map::new();
        values.insert("env".into(), Value::Object(env));
        Variables { values }
    }

    /// Merges a JSON object over the variables (objects into objects, anything else
    /// replaces). `source_name` names the file in errors.
    pub fn merge_json(&mut self, source_name: &str, json: Value) -> Result<(), TemplateError> {
        let Value::Object(object) = json else {
            return Err(TemplateError::BadVarsFile {
                source_name: source_name.into(),
                detail: "the variables file must hold a JSON object, e.g. {\"version\": \"1.2.0\"}"
                    .into(),
            });
        };
        merge(&mut self.values, object);
        Ok(())
    }

    /// Applies one `NAME=VALUE` (`a.b=VALUE` sets `b` inside the object `a`).
    pub fn assign(&mut self, assignment: &str) -> Result<(), TemplateError> {
        let bad = || TemplateError::BadVar {
            given: assignment.into(),
        };
        let (path, value) = assignment.split_once('=').ok_or_else(bad)?;
        let keys: Vec<&str> = path.trim().split('.').collect();
        if !keys.iter().all(|k| is_identifier(k)) {
            return Err(bad());
        }
        self.insert_path(&keys, Value::String(value.to_string()));
        Ok(())
    }

    /// Sets one variable (a top-level name) to any JSON value.
    pub fn insert(&mut self, name: &str, value: Value) {
        self.values.insert(name.into(), value);
    }

    /// These variables over `defaults`: a default is used only where no variable of its
    /// name is given (objects are merged key by key).
    pub fn with_defaults(self, defaults: Map<String, Value>) -> Variables {
        let mut values = defaults;
        merge(&mut values, self.values);
        Variables { values }
    }

    /// The variables as a JSON object, for `--json` output and tests.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.values
    }

    fn insert_path(&mut self, keys: &[&str], value: Value) {
        let Some((last, parents)) = keys.split_last() else {
            return;
        };
        let mut object = &mut self.values;
        for key in parents {
            let slot = object
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(inner) = slot else {
                return;
            };
            object = inner;
        }
        object.insert(last.to_string(), value);
    }
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => merge(existing, incoming),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
