//! Errors as `application/problem+json` (RFC 9457). Each kind of error has a stable
//! `type` URI (`urn:postctl:problem:<name>`) that clients can match on; `title` is fixed
//! per type and `detail` says what happened and what to do.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::storage::StorageError;

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// The name in the type URI.
    pub name: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Headers the answer carries besides the content type (`Retry-After`, `RateLimit-*`).
    pub headers: Vec<(&'static str, String)>,
    /// Members of the body besides the standard ones (RFC 9457 extension members).
    pub members: Vec<(&'static str, serde_json::Value)>,
}

pub const CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    fn new(
        status: StatusCode,
        name: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            name,
            title,
            detail: detail.into(),
            headers: Vec::new(),
            members: Vec::new(),
        }
    }

    /// Adds a header to the answer.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn invalid_credentials(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "The name, password or code is wrong",
            detail,
        )
    }
    pub fn totp_required() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "totp-required",
            "A TOTP code is required",
            "this user signs in with a second factor: send the current code from the \
             authenticator app as `code`, or an unused recovery code as `recovery_code`",
        )
    }
    /// Sign-in refused until `retry_after_s` from now, after repeated failures.
    pub fn login_locked(detail: impl Into<String>, retry_after_s: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "login-locked",
            "Sign-in is locked after repeated failures",
            detail,
        )
        .with_header("retry-after", retry_after_s.to_string())
    }
    /// The key's rate limit is spent; the caller adds the `RateLimit` headers.
    pub fn rate_limited(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests for this API key",
            detail,
        )
    }
    pub fn address_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "address-not-allowed",
            "The API key may not be used from this address",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Your role does not allow this",
            detail,
        )
    }
    pub fn insufficient_scope(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "The API key lacks a scope",
            detail,
        )
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this resource does not accept that method",
        )
    }
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "The request is not valid",
            detail,
        )
    }
    pub fn invalid_field(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "A field has a value that cannot be used",
            detail,
        )
    }
    /// A queued post (`queue: true`) with no slot to take: the account has no queue slots
    /// (or none free within the horizon); the detail says how to set them.
    pub fn no_queue_slots(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-queue-slots",
            "The account has no free queue slot",
            detail,
        )
    }
    /// A template that does not compile or render: `template` names it and `line` is the
    /// line of the template the error is on (`missing` lists variables not given).
    pub fn template(e: &postctl_core::content::template::TemplateError) -> Self {
        use postctl_core::content::template::TemplateError;
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "template-error",
            "The template does not compile or render",
            e.to_string(),
        );
        match e {
            TemplateError::Syntax { template, line, .. }
            | TemplateError::Render { template, line, .. } => {
                problem.members.push(("template", json!(template)));
                problem.members.push(("line", json!(line)));
            }
            TemplateError::Missing { template, names } => {
                problem.members.push(("template", json!(template)));
                problem.members.push(("missing", json!(names)));
            }
            _ => {}
        }
        problem
    }
    /// A webhook from outside (GitHub) whose signature is missing or wrong.
    pub fn bad_signature(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "The request's signature is missing or wrong",
            detail,
        )
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }
    /// A change the targets' states do not allow ("Target states" in docs/ARCHITECTURE.md):
    /// nothing was changed.
    pub fn illegal_transition(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "illegal-transition",
            "No target of the post is in a state this change applies to",
            detail,
        )
    }
    /// The workspace has no model settings for `generate` (`PUT /api/v1/ai`).
    pub fn ai_not_configured(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "ai-not-configured",
            "The workspace has no model",
            detail,
        )
    }
    /// The model provider refused or failed the request (its key, its limits, its
    /// servers): the message says which and never quotes the key.
    pub fn model_error(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "model-error",
            "The model could not answer",
            detail,
        )
    }
    /// A sync push whose parent is not the latest version; `latest` names it.
    pub fn version_conflict(latest: Option<&str>) -> Self {
        let mut problem = Self::new(
            StatusCode::CONFLICT,
            "version-conflict",
            "The parent version is not the latest",
            match latest {
                Some(id) => format!(
                    "the workspace's latest version is {id}: pull the versions after your \
                     parent (GET /api/v1/sync/versions?since=PARENT), apply them, and push again \
                     with `parent` set to {id}"
                ),
                None => "the workspace has no versions yet: push with `parent` null".into(),
            },
        );
        problem.members.push(("latest", json!(latest)));
        problem
    }
    pub fn idempotency_key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "The Idempotency-Key was used for another request",
            "this Idempotency-Key was sent before with a different method, path or body; \
             use a new key for a new request",
        )
    }
    pub fn idempotency_in_progress() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency-in-progress",
            "A request with this Idempotency-Key is still running",
            "wait for the first request with this Idempotency-Key to finish, then retry",
        )
    }
    /// A post names media files the workspace's media store lacks (`missing`): upload each
    /// with `PUT /api/v1/media/{sha256}` first.
    pub fn media_not_uploaded(missing: &[String]) -> Self {
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "media-not-uploaded",
            "A media file is not uploaded",
            format!(
                "this workspace has no media file {}: upload each file first with PUT \
                 /api/v1/media/{{sha256}} (the body is the file's bytes), then send the post \
                 again",
                missing.join(", ")
            ),
        );
        problem.members.push(("missing", json!(missing)));
        problem
    }
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The body is too large",
            detail,
        )
    }
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The body must be JSON",
            detail,
        )
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Not ready",
            detail,
        )
    }
    pub fn timeout(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long",
            detail,
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "the server could not complete the request; it was logged, and retrying may work",
        )
    }

    /// The stable type URI.
    pub fn type_uri(&self) -> String {
        format!("urn:postctl:problem:{}", self.name)
    }
}

impl From<StorageError> for Problem {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict(what) => Problem::conflict(format!("{what} already exists")),
            StorageError::NoQueueSlot(why) => Problem::no_queue_slots(why),
            other => {
                // The database's message goes to the log, not to the caller.
                tracing::error!("storage error: {other}");
                Problem::internal()
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": self.type_uri(),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        for (name, value) in &self.members {
            body[*name] = value.clone();
        }
        let mut response = (self.status, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(*name, value);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
