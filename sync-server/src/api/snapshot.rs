//! `GET /api/v1/sync/snapshot`: the workspace's current state, a page of posts at a time,
//! for a device that is new or far behind ("sync-server/" in docs/ARCHITECTURE.md, issue
//! 13). Each post comes as the operations that wrote its fields' current values, with
//! their own stamps, after one that creates it; `version` is the latest version when the
//! first page was read (`Storage::snapshot_page`): a device applies every page as a
//! version, then pulls the versions after that one, and holds what replaying the whole
//! chain gives (last writer wins field by field, so a value it already has changes
//! nothing).

use axum::Json;
use axum::extract::State;
use postctl_core::sync::{Field, Operation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::access::Caller;
use super::extract::Query;
use super::problem::Problem;
use crate::storage::SnapshotPost;

const PAGE_DEFAULT: u32 = 500;
const PAGE_MAX: u32 = 2000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The last post of the previous page; absent for the first.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

/// A post's fields as operations: its creation (stamped as its earliest field), then
/// each field's current value with the stamp it was written with.
fn operations(post: SnapshotPost) -> Vec<Operation> {
    let mut fields: Vec<Operation> = post
        .fields
        .into_iter()
        .filter_map(|f| {
            let field = Field::parse(&f.field).filter(|f| *f != Field::Created)?;
            Some(Operation {
                post: post.id.clone(),
                field,
                value: serde_json::from_str(&f.value).ok()?,
                at_ms: f.at_ms,
                device: f.device,
            })
        })
        .collect();
    let Some(first) = fields.iter().map(Operation::stamp).min() else {
        return Vec::new();
    };
    fields.insert(
        0,
        Operation {
            post: post.id,
            field: Field::Created,
            value: json!({ "created_ms": post.created_ms }),
            at_ms: first.at_ms,
            device: first.device,
        },
    );
    fields
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Snapshot>,
) -> Result<Json<Value>, Problem> {
    let limit = query.limit.unwrap_or(PAGE_DEFAULT);
    if limit == 0 || limit > PAGE_MAX {
        return Err(Problem::invalid_field(format!(
            "`limit` must be 1 to {PAGE_MAX}"
        )));
    }
    let after = query.after.as_deref().filter(|s| !s.is_empty());
    let page = state
        .storage
        .snapshot_page(&caller.workspace_id, after, limit)
        .await?;
    if page.partial {
        return Err(Problem::conflict(
            "this workspace holds values written before the server kept them, which a \
             snapshot cannot give: pull the versions instead (GET /api/v1/sync/versions)",
        ));
    }
    let next = (page.posts.len() == limit as usize)
        .then(|| page.posts.last().map(|p| p.id.clone()))
        .flatten();
    let operations: Vec<Operation> = page.posts.into_iter().flat_map(operations).collect();
    Ok(Json(json!({
        "version": page.latest,
        "operations": operations,
        "next": next,
    })))
}
