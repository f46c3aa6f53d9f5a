//! Templates: a default body and per-network variants, searched with the posts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::posts::fts_query;
use super::{Store, Tx, from_ms, new_id, to_ms};
use crate::content::template::{Template, TemplateError, builtin, validate_name, variant_key};
use crate::error::{Error, Result};

/// A template as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTemplate {
    pub id: String,
    #[serde(flatten)]
    pub template: Template,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// What `postctl template add` asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateChange {
    pub name: String,
    /// The default body; required for a new template, optional when replacing.
    pub body: Option<String>,
    /// Variants to set, by network (any name or alias `Network` parses).
    pub variants: Vec<(String, String)>,
    /// Change a template that exists: its body if given, the variants given; the others stay.
    pub replace: bool,
}

impl From<TemplateError> for Error {
    fn from(e: TemplateError) -> Self {
        Error::Invalid(e.to_string())
    }
}

const COLUMNS: &str = "id, name, body, variants, created_ms, updated_ms";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTemplate> {
    let variants: String = row.get(3)?;
    Ok(StoredTemplate {
        id: row.get(0)?,
        template: Template {
            name: row.get(1)?,
            body: row.get(2)?,
            variants: serde_json::from_str::<BTreeMap<String, String>>(&variants)
                .unwrap_or_default(),
            builtin: false,
        },
        created: from_ms(row.get(4)?),
        updated: from_ms(row.get(5)?),
    })
}

fn unknown_template(name: &str) -> Error {
    Error::NotFound {
        what: "template",
        name: name.into(),
        hint: "see `postctl template list`, or add it with `postctl template add NAME --file FILE`"
            .into(),
    }
}

impl Store {
    /// Adds a template, or changes one with `change.replace`; returns it and whether it is new.
    ///
    /// The check for an existing template and the write happen in one transaction, so two
    /// concurrent adds of one name cannot both create it. Every body is compiled first: a
    /// template with a syntax error is never stored.
    pub fn save_template(&mut self, change: &TemplateChange) -> Result<(StoredTemplate, bool)> {
        validate_name(&change.name)?;
        self.write(|tx| {
            let existing = tx.live_template(&change.name)?;
            let (body, mut variants) = match &existing {
                Some(_) if !change.replace => {
                    return Err(Error::Invalid(format!(
                        "a template named {:?} already exists; add --force to change it, or remove it first with `postctl template rm {}`",
                        change.name, change.name
                    )));
                }
                Some(old) => (
                    change
                        .body
                        .clone()
                        .unwrap_or_else(|| old.template.body.clone()),
                    old.template.variants.clone(),
                ),
                None => match &change.body {
                    Some(body) => (body.clone(), BTreeMap::new()),
                    None => {
                        return Err(Error::Invalid(format!(
                            "template {:?} does not exist yet; give its default body first (TEXT, --file FILE or -e), then its variants",
                            change.name
                        )));
                    }
                },
            };
            for (network, source) in &change.variants {
                variants.insert(variant_key(network)?, source.clone());
            }
            let template = Template::new(&change.name, &body, variants)?;
            let variants_json =
                serde_json::to_string(&template.variants).unwrap_or_else(|_| "{}".into());
            let now = to_ms(tx.now);
            match existing {
                Some(old) => {
                    tx.execute(
                        "UPDATE templates SET body = ?2, variants = ?3, updated_ms = ?4 WHERE id = ?1",
                        params![old.id, template.body, variants_json, now],
                    )
                    .map_err(|e| tx.error(e))?;
                    if old.template.body != template.body {
                        tx.record("template", &old.id, "body", &template.body)?;
                    }
                    if old.template.variants != template.variants {
                        tx.record("template", &old.id, "variants", &template.variants)?;
                    }
                    Ok((
                        StoredTemplate {
                            id: old.id,
                            template,
                            created: old.created,
                            updated: from_ms(now),
                        },
                        false,
                    ))
                }
                None => {
                    let id = new_id();
                    tx.execute(
                        "INSERT INTO templates (id, name, body, variants, created_ms, updated_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                        params![id, template.name, template.body, variants_json, now],
                    )
                    .map_err(|e| tx.error(e))?;
                    tx.record(
                        "template",
                        &id,
                        "created",
                        &serde_json::json!({
                            "name": template.name, "body": template.body,
                            "variants": template.variants,
                        }),
                    )?;
                    Ok((
                        StoredTemplate {
                            id,
                            template,
                            created: from_ms(now),
                            updated: from_ms(now),
                        },
                        true,
                    ))
                }
            }
        })
    }

    /// The stored template `name`.
    pub fn template(&self, name: &str) -> Result<StoredTemplate> {
        self.find_template(name)?
            .ok_or_else(|| unknown_template(name))
    }

    /// The stored template `name`, if there is one.
    pub fn find_template(&self, name: &str) -> Result<Option<StoredTemplate>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM templates WHERE name = ?1 AND deleted_ms IS NULL"),
                [name],
                read_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The template to render as `name`: the stored one, else the built-in one of that name
    /// (`release`), else a not-found error.
    pub fn template_or_builtin(&self, name: &str) -> Result<Template> {
        match self.find_template(name)? {
            Some(stored) => Ok(stored.template),
            None => builtin(name).ok_or_else(|| unknown_template(name)),
        }
    }

    /// Every stored template, by name.
    pub fn templates(&self) -> Result<Vec<StoredTemplate>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM templates WHERE deleted_ms IS NULL ORDER BY name"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([], read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// Templates whose name, body or variants match every word of `query` (each also as a
    /// prefix; punctuation is literal), by name.
    pub fn search_templates(&self, query: &str) -> Result<Vec<StoredTemplate>> {
        let query = fts_query(query);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM templates WHERE deleted_ms IS NULL
                 AND seq IN (SELECT rowid FROM templates_fts WHERE templates_fts MATCH ?1)
                 ORDER BY name"
            ))
            .map_err(|e| self.error(e))?;
        stmt.query_map([query], read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    /// Removes the template `name`, or with `network` only that variant.
    pub fn remove_template(&mut self, name: &str, network: Option<&str>) -> Result<()> {
        self.write(|tx| {
            let Some(old) = tx.live_template(name)? else {
                return Err(unknown_template(name));
            };
            let now = to_ms(tx.now);
            match network {
                None => {
                    tx.execute(
                        "UPDATE templates SET deleted_ms = ?2, updated_ms = ?2 WHERE id = ?1",
                        params![old.id, now],
                    )
                    .map_err(|e| tx.error(e))?;
                    tx.record("template", &old.id, "deleted", &true)
                }
                Some(network) => {
                    let key = variant_key(network)?;
                    let mut variants = old.template.variants.clone();
                    if variants.remove(&key).is_none() {
                        let has = if variants.is_empty() {
                            "it has none".to_string()
                        } else {
                            format!(
                                "it has {}",
                                variants.keys().cloned().collect::<Vec<_>>().join(", ")
                            )
                        };
                        return Err(Error::Invalid(format!(
                            "template {name:?} has no {key} variant; {has} (see `postctl template show {name}`)"
                        )));
                    }
                    let json = serde_json::to_string(&variants).unwrap_or_else(|_| "{}".into());
                    tx.execute(
                        "UPDATE templates SET variants = ?2, updated_ms = ?3 WHERE id = ?1",
                        params![old.id, json, now],
                    )
                    .map_err(|e| tx.error(e))?;
                    tx.record("template", &old.id, "variants", &variants)
                }
            }
        })
    }
}

impl Tx<'_> {
    fn live_template(&self, name: &str) -> Result<Option<StoredTemplate>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM templates WHERE name = ?1 AND deleted_ms IS NULL"),
            [name],
            read_row,
        )
        .optional()
        .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        (dir, store)
    }

    fn change(
        name: &str,
        body: Option<&str>,
        variants: &[(&str, &str)],
        replace: bool,
    ) -> TemplateChange {
        TemplateChange {
            name: name.into(),
            body: body.map(String::from),
            variants: variants
                .iter()
                .map(|(n, b)| (n.to_string(), b.to_string()))
                .collect(),
            replace,
        }
    }

    #[test]
    fn add_change_remove_and_the_oplog() {
        let (_dir, mut store) = open();
        let before = store.operations_since(0).expect("ops").len();
        let (saved, created) = store
            .save_template(&change(
                "launch",
                Some("{{ what }} is live"),
                &[("bsky", "🦋 {{ what }}")],
                false,
            ))
            .expect("add");
        assert!(created);
        assert_eq!(
            saved.template.variants.keys().collect::<Vec<_>>(),
            ["bluesky"]
        );
        let err = store
            .save_template(&change("launch", Some("again"), &[], false))
            .expect_err("exists");
        assert!(err.to_string().contains("add --force"), "{err}");
        let (changed, created) = store
            .save_template(&change("launch", None, &[("x", "{{ what }}!")], true))
            .expect("replace");
        assert!(!created);
        assert_eq!(changed.id, saved.id);
        assert_eq!(
            changed.template.body, "{{ what }} is live",
            "the body stays"
        );
        assert_eq!(
            changed.template.variants.len(),
            2,
            "the bluesky variant stays"
        );
        assert_eq!(store.template("launch").expect("get"), changed);

        let err = store
            .save_template(&change("launch", Some("{% if %}"), &[], true))
            .expect_err("syntax");
        assert!(err.to_string().contains("line 1"), "{err}");
        assert_eq!(
            store.template("launch").expect("get").template.body,
            "{{ what }} is live"
        );
        let err = store
            .save_template(&change("other", None, &[("x", "y")], false))
            .expect_err("no body");
        assert!(err.to_string().contains("give its default body"), "{err}");

        store
            .remove_template("launch", Some("bluesky"))
            .expect("rm variant");
        assert_eq!(
            store
                .template("launch")
                .expect("get")
                .template
                .variants
                .keys()
                .collect::<Vec<_>>(),
            ["x"]
        );
        let err = store
            .remove_template("launch", Some("bluesky"))
            .expect_err("gone");
        assert!(err.to_string().contains("it has x"), "{err}");
        store.remove_template("launch", None).expect("rm");
        assert!(store.find_template("launch").expect("find").is_none());
        assert!(store.templates().expect("list").is_empty());
        let err = store.remove_template("launch", None).expect_err("gone");
        assert!(err.to_string().contains("postctl template list"), "{err}");
        // The name is free again, under a new id.
        let (again, created) = store
            .save_template(&change("launch", Some("new"), &[], false))
            .expect("re-add");
        assert!(created);
        assert_ne!(again.id, saved.id);

        let ops = store.operations_since(0).expect("ops");
        let fields: Vec<&str> = ops[before..]
            .iter()
            .filter(|o| o.entity == "template")
            .map(|o| o.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["created", "variants", "variants", "deleted", "created"]
        );
    }

    #[test]
    fn search_covers_names_bodies_and_variants_of_live_templates() {
        let (_dir, mut store) = open();
        store
            .save_template(&change(
                "release-notes",
                Some("{{ version }} shipped"),
                &[],
                false,
            ))
            .expect("add");
        store
            .save_template(&change(
                "weekly",
                Some("Tip of the week"),
                &[("bluesky", "Short\ntip with \"quotes\"")],
                false,
            ))
            .expect("add");
        store
            .save_template(&change("gone", Some("shipped and removed"), &[], false))
            .expect("add");
        store.remove_template("gone", None).expect("rm");
        let names = |store: &Store, query: &str| -> Vec<String> {
            store
                .search_templates(query)
                .expect("search")
                .into_iter()
                .map(|t| t.template.name)
                .collect()
        };
        assert_eq!(
            names(&store, "shipped"),
            ["release-notes"],
            "not the removed one"
        );
        assert_eq!(names(&store, "release"), ["release-notes"], "the name");
        assert_eq!(names(&store, "ship"), ["release-notes"], "a prefix");
        assert_eq!(
            names(&store, "tip"),
            ["weekly"],
            "a variant's text, on its own line"
        );
        assert_eq!(names(&store, "quotes"), ["weekly"]);
        assert_eq!(
            names(&store, "bluesky"),
            ["weekly"],
            "the network of a variant"
        );
        assert!(names(&store, "\"").is_empty());
        assert!(names(&store, "").is_empty());
        store
            .save_template(&change("weekly", Some("Rewritten"), &[], true))
            .expect("replace");
        assert_eq!(names(&store, "week"), ["weekly"]);
        assert_eq!(
            names(&store, "rewritten"),
            ["weekly"],
            "the index follows changes"
        );
        assert_eq!(
            names(&store, "of"),
            Vec::<String>::new(),
            "the old body is gone from the index"
        );
    }

    #[test]
    fn two_processes_adding_one_name_create_it_once() {
        let (dir, _store) = open();
        let path = dir.path().join("t.db");
        let results: Vec<Result<(StoredTemplate, bool)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let path = path.clone();
                    scope.spawn(move || {
                        let mut store = Store::open(&path)?;
                        store.save_template(&change(
                            "launch",
                            Some(&format!("body {i}")),
                            &[],
                            false,
                        ))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let created = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "{results:?}");
        for err in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(err.to_string().contains("already exists"), "{err}");
        }
        let store = Store::open(&path).expect("open");
        assert_eq!(store.templates().expect("list").len(), 1);
    }

    #[test]
    fn the_builtin_release_template_unless_one_is_stored() {
        let (_dir, mut store) = open();
        let builtin = store.template_or_builtin("release").expect("builtin");
        assert!(builtin.builtin);
        store
            .save_template(&change("release", Some("{{ version }}!"), &[], false))
            .expect("add");
        let stored = store.template_or_builtin("release").expect("stored");
        assert!(!stored.builtin);
        assert_eq!(stored.body, "{{ version }}!");
        assert!(store.template_or_builtin("nope").is_err());
    }
}
