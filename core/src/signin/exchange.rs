//! The `oauth2` crate's requests, sent through postctl's own HTTP client.
//!
//! The crate brings its own client for reqwest 0.12 only; postctl uses 0.13 (one TLS
//! set-up, its timeouts, its proxies), so this bridge hands the crate's `http::Request`
//! to our client and its answer back. Failures that say nothing about the grant are
//! decided here, before the crate reads the body: no answer at all, a 429 and a 5xx are
//! "try again later"; any other non-OAuth refusal is the endpoint refusing.

use crate::platforms::Http;
use crate::platforms::http::read_answer;

/// Why a token request got no OAuth answer. Carries no part of the request.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Unreachable(String),
    #[error("HTTP {0}")]
    Refused(u16),
}

/// The `oauth2` crate's HTTP client: our [`Http`]. A named type rather than a closure, so
/// the futures that use it are `Send` for every lifetime (the engine runs refreshes on
/// spawned tasks).
pub(super) struct Sender(pub Http);

type SendFuture<'c> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, Failure>> + Send + 'c>,
>;

impl<'c> oauth2::AsyncHttpClient<'c> for Sender {
    type Error = Failure;
    type Future = SendFuture<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

async fn send(http: &Http, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, Failure> {
    let request = reqwest::Request::try_from(request)
        .map_err(|e| Failure::Unreachable(format!("the request could not be built: {e}")))?;
    let response = http.client().execute(request).await.map_err(|e| {
        Failure::Unreachable(crate::platforms::http::transport_error(e).to_string())
    })?;
    let answer = read_answer(response)
        .await
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    match answer.status {
        429 | 500..=599 => {
            return Err(Failure::Unreachable(format!(
                "the token endpoint answered {}",
                answer.status
            )));
        }
        // OAuth errors are JSON (RFC 6749 §5.2); anything else from a token endpoint is a
        // refusal without a reason (a proxy's page, a 404 at a wrong address).
        400..=499 if !is_json(&answer.headers) => return Err(Failure::Refused(answer.status)),
        _ => {}
    }
    let mut builder = oauth2::http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(answer.body)
        .map_err(|e| Failure::Unreachable(format!("the answer could not be read: {e}")))
}

fn is_json(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"))
}
