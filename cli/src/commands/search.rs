//! `postctl search`: full-text search over posts and templates.

use postctl_core::content::template::Template;
use postctl_core::store::{ListFilter, short_ids};
use serde_json::Value;

use super::template::template_rows;
use crate::args::SearchArgs;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, print, print_json, stdout_color, table};
use crate::posts::posts_table;

/// Posts first, then templates. With `--json`, one array: every item has `kind` ("post" or
/// "template") beside its own fields.
pub fn run(ctx: &mut Context, args: &SearchArgs) -> CliResult {
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        return Err(CliError::usage(
            "give words to search for, e.g. `postctl search launch`",
        ));
    }
    let tz = ctx.zone(None)?;
    let json = ctx.json;
    let store = ctx.store()?;
    let posts = store.posts(&ListFilter::Search(query.clone()))?;
    let templates = store.search_templates(&query)?;
    if json {
        let mut items = Vec::with_capacity(posts.len() + templates.len());
        for (kind, value) in posts
            .iter()
            .map(|p| ("post", serde_json::to_value(p)))
            .chain(
                templates
                    .iter()
                    .map(|t| ("template", serde_json::to_value(t))),
            )
        {
            let mut value =
                value.map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))?;
            if let Value::Object(object) = &mut value {
                object.insert("kind".into(), Value::String(kind.into()));
            }
            items.push(value);
        }
        return print_json(&items);
    }
    if posts.is_empty() && templates.is_empty() {
        note("no post or template matches");
        return Ok(());
    }
    let color = stdout_color();
    let mut out = String::new();
    if !posts.is_empty() {
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        let short = short_ids(store, &ids)?;
        out += &posts_table(&posts, &short, tz, color);
    }
    if !templates.is_empty() {
        if !out.is_empty() {
            out += "\n";
        }
        let found: Vec<&Template> = templates.iter().map(|t| &t.template).collect();
        out += &table(
            &["TEMPLATE", "VARIANTS", "TEXT"],
            &template_rows(&found, color),
            color,
        );
    }
    print(&out)
}
