//! axum's JSON and query extractors, with their rejections turned into problems.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::Problem;

/// A JSON request body.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::unsupported_media_type(
                "send the body as JSON with `Content-Type: application/json`",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(Problem::invalid_field(e.body_text())),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(Problem::invalid(e.body_text())),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Problem::too_large(e.body_text()))
            }
            Err(e) => Err(Problem::invalid(e.body_text())),
        }
    }
}

/// Query parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| Problem::invalid(e.body_text()))
    }
}

/// The client's address: the connection's peer, or behind a trusted proxy the address
/// it forwarded for (`auth::forwarded`; `observe::layer` works it out once per request).
/// `None` when the server was started without connection info.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl Peer {
    /// The client's address of a request that passed `observe::layer`, else the peer's.
    pub fn of(extensions: &axum::http::Extensions) -> Peer {
        extensions.get::<Peer>().copied().unwrap_or_else(|| {
            Peer(
                extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| crate::auth::forwarded::canonical(c.0.ip())),
            )
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer::of(&parts.extensions))
    }
}
