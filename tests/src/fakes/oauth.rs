//! The authorization-server half shared by the fakes of VK ID and Instagram Login
//!: an app registered with its client id, secret and redirect URIs;
//! an authorize endpoint that plays the user approving (or declining) and sends the
//! browser back with `code` and `state`; codes that work once, bound to their redirect
//! URI and PKCE challenge; access tokens with an expiry; refresh tokens that work once
//! (rotation). Each fake speaks its own network's wire format around this state.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::wire;

/// The app registered with the fake authorization server, and the user's answer.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    pub client_id: String,
    /// `Some` for a client that must prove itself with its secret.
    pub client_secret: Option<String>,
    /// Redirect URIs registered for the app; the authorize request must name one exactly.
    pub redirect_uris: Vec<String>,
    /// How long an access token works.
    pub access_lifetime: Duration,
    /// Whether the user approves the sign-in; if not, the browser is sent back with
    /// `error=access_denied`.
    pub approve: bool,
}

/// A code handed out by the authorize endpoint, waiting to be traded.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub redirect_uri: String,
    /// The PKCE S256 challenge, where the authorize request had one.
    pub challenge: Option<String>,
    pub scope: String,
    /// VK ID: the device the code was given to.
    pub device_id: Option<String>,
}

/// A token handed out: when it was issued and when it stops working.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Issued {
    pub at: SystemTime,
    pub until: SystemTime,
}

/// What the authorization server has handed out and seen.
#[derive(Debug)]
pub(crate) struct AuthServer {
    pub config: OAuthConfig,
    /// The prefix of every code and token, e.g. `vk`.
    prefix: &'static str,
    codes: HashMap<String, Grant>,
    pub access: HashMap<String, Issued>,
    /// Refresh token → (scope, device id).
    pub refresh: HashMap<String, (String, Option<String>)>,
    issued: u64,
    /// Token requests: (grant type, whether it was granted), in order.
    pub requests: Vec<(String, bool)>,
}

impl AuthServer {
    pub fn new(prefix: &'static str, config: OAuthConfig) -> AuthServer {
        AuthServer {
            config,
            prefix,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            issued: 0,
            requests: Vec::new(),
        }
    }

    /// The authorize endpoint: checks the client and the redirect URI (errors shown to
    /// the user, never redirected), then redirects with a code or an error. `pkce`: the
    /// request must carry an S256 challenge. `extra` is added to a successful redirect.
    pub fn authorize(
        &mut self,
        params: &HashMap<String, String>,
        pkce: bool,
        device_id: bool,
    ) -> Response {
        let get = |name: &str| params.get(name).cloned().unwrap_or_default();
        if get("client_id") != self.config.client_id {
            return page("Something went wrong: unknown client_id.");
        }
        let redirect_uri = get("redirect_uri");
        if !self.config.redirect_uris.contains(&redirect_uri) {
            return page("Something went wrong: the redirect_uri is not registered for this app.");
        }
        let state = get("state");
        let challenge = params.get("code_challenge").cloned();
        let refusal = if get("response_type") != "code" {
            Some("unsupported_response_type")
        } else if state.is_empty()
            || get("scope").is_empty()
            || (pkce
                && (challenge.as_deref().unwrap_or_default().is_empty()
                    || get("code_challenge_method") != "S256"))
        {
            Some("invalid_request")
        } else if !self.config.approve {
            Some("access_denied")
        } else {
            None
        };
        let mut location = with(&redirect_uri, &[("state", &state)]);
        match refusal {
            Some(error) => location = with(&location, &[("error", error)]),
            None => {
                let code = self.next("code");
                let device = device_id.then(|| self.next("device"));
                self.codes.insert(
                    code.clone(),
                    Grant {
                        redirect_uri,
                        challenge: challenge.filter(|_| pkce),
                        scope: get("scope"),
                        device_id: device.clone(),
                    },
                );
                location = with(&location, &[("code", &code)]);
                if let Some(device) = device {
                    location = with(&location, &[("device_id", &device), ("type", "code_v2")]);
                }
            }
        }
        (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
    }

    /// The grant of `code` if it is a code this server gave for `redirect_uri` and, with
    /// a challenge, `verifier` matches it. A code works once, whatever happens next.
    pub fn take_code(&mut self, code: &str, redirect_uri: &str, verifier: &str) -> Option<Grant> {
        let grant = self.codes.remove(code)?;
        if grant.redirect_uri != redirect_uri {
            return None;
        }
        if let Some(challenge) = &grant.challenge
            && (verifier.len() < 43
                || wire::base64url(&wire::sha256(verifier.as_bytes())) != *challenge)
        {
            return None;
        }
        Some(grant)
    }

    /// A new access token living `lifetime`.
    pub fn issue_access(&mut self, kind: &str, lifetime: Duration) -> String {
        let token = self.next(kind);
        let now = SystemTime::now();
        self.access.insert(
            token.clone(),
            Issued {
                at: now,
                until: now + lifetime,
            },
        );
        token
    }

    /// A new refresh token for `scope` (and the device it belongs to).
    pub fn issue_refresh(&mut self, scope: &str, device_id: Option<String>) -> String {
        let token = self.next("refresh");
        self.refresh
            .insert(token.clone(), (scope.to_string(), device_id));
        token
    }

    /// Whether `token` is an access token that works now.
    pub fn works(&self, token: &str) -> bool {
        self.access
            .get(token)
            .is_some_and(|issued| issued.until > SystemTime::now())
    }

    /// Every access token handed out so far stops working now.
    pub fn expire(&mut self) {
        let now = SystemTime::now();
        for issued in self.access.values_mut() {
            issued.until = now;
        }
    }

    /// The user revoked the app: every token stops working.
    pub fn revoke(&mut self) {
        self.refresh.clear();
        self.access.clear();
    }

    /// Every token handed out was issued `by` earlier and expires `by` earlier.
    pub fn age(&mut self, by: Duration) {
        for issued in self.access.values_mut() {
            issued.at -= by;
            issued.until -= by;
        }
    }

    fn next(&mut self, kind: &str) -> String {
        self.issued += 1;
        format!("{}-{kind}-{}", self.prefix, self.issued)
    }
}

/// `base` with `pairs` appended to its query.
fn with(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = base.to_string();
    for (key, value) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish();
        url.push_str(&encoded);
    }
    url
}

fn page(text: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!doctype html><p>{text}</p>"),
    )
        .into_response()
}
