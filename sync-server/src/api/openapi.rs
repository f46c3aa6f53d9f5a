//! `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 description. It is written by hand
//! next to this file (`openapi.json`) and kept true by `sync-server/tests/ops.rs`, which
//! checks that every route the server answers is in it with its methods, and that every
//! operation in it is a route the server answers.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
