//! Signing in to a network with OAuth 2.0: the authorization code grant with PKCE (S256),
//! and refreshing the tokens it gives.
//!
//! What differs between networks is data, [`SignIn`], on the network's
//! [`Platform`](crate::platforms::Platform): the authorize and token endpoints, the
//! scopes, how a client secret is sent, and how long a token lives when the answer does
//! not say. The protocol's work (PKCE, the authorize URL, the code and refresh grants,
//! reading token answers and OAuth error bodies) is the `oauth2` crate's; its requests go
//! through postctl's own HTTP client ([`exchange`]), so timeouts, proxies and TLS are the
//! same as for publishing.
//!
//! The flow, as `postctl accounts add` runs it: [`Client::authorize`] gives the URL for
//! the browser and keeps the state and the PKCE verifier; the network redirects the
//! browser to a [`Loopback`] listener (or the user pastes the address the browser ended
//! on); [`Authorization::code_from`] checks its `state`, and [`Client::exchange`] trades
//! the code for [`Tokens`], which go to the secret store whole. Refreshing is
//! [`Client::refresh`]; `crate::signin::refresh` runs it under the store's lock so that
//! two processes never spend the same refresh token.

mod exchange;
mod loopback;
mod tokens;

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    TokenResponse, TokenUrl,
};

use crate::network::Network;
use crate::platforms::Http;
use crate::secrets::Secret;

pub use loopback::{DEFAULT_REDIRECT_PORT, Loopback, redirect_uri};
pub use tokens::Tokens;

/// How a network signs users in with OAuth 2.0: plain data, one per network that has it.
#[derive(Debug)]
pub struct SignIn {
    /// Where the browser goes to approve postctl, e.g. `https://x.com/i/oauth2/authorize`.
    pub authorize_url: &'static str,
    /// Where codes and refresh tokens are traded for tokens.
    pub token_url: &'static str,
    /// The scopes postctl asks for: what publishing needs, and the one that brings a
    /// refresh token where the network has one (X: `offline.access`).
    pub scopes: &'static [&'static str],
    /// How a confidential client (one with a client secret) proves itself at the token
    /// endpoint. A public client sends only its `client_id`, in the form.
    pub client_auth: ClientAuth,
    /// How long an access token lives when a token answer has no `expires_in`; `None`:
    /// until the network refuses it.
    pub lifetime_unsaid: Option<Duration>,
    /// Where the user registers the app and its redirect URI, for messages and help.
    pub portal: &'static str,
}

/// Where a client secret goes in token requests (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic authentication (X).
    Basic,
    /// `client_id` and `client_secret` in the form.
    Form,
}

/// Why signing in or refreshing failed. No message holds a token, a code, a verifier or
/// a client secret.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("{what} {url:?} is not a usable address ({reason}): check --base-url")]
    BadEndpoint {
        what: &'static str,
        url: String,
        reason: String,
    },
    #[error(
        "the sign-in was not approved ({error}{description}): run the command again and approve postctl in the browser"
    )]
    Denied { error: String, description: String },
    #[error(
        "{0}: paste the whole address the browser ended on after approving, starting with http://127.0.0.1"
    )]
    NotARedirect(String),
    #[error(
        "the answer does not belong to this sign-in (its state differs): run the command again and use the newest sign-in link only"
    )]
    StateMismatch,
    #[error("cannot listen on {address} for the sign-in ({reason})")]
    Listen { address: String, reason: String },
    #[error(
        "no answer from the browser within {} minutes: run the command again, or add --paste to paste the address the browser ends on",
        .0.as_secs() / 60
    )]
    Timeout(Duration),
    #[error("{network} refused {what} ({error}{description}): {advice}")]
    Refused {
        network: &'static str,
        what: &'static str,
        error: String,
        description: String,
        advice: String,
    },
    #[error("{network} could not be reached while {what} ({reason}); try again later")]
    Unreachable {
        network: &'static str,
        what: &'static str,
        reason: String,
    },
    #[error(
        "{network} answered {what} with something that is not a token answer; check --base-url, and try again later"
    )]
    Unreadable {
        network: &'static str,
        what: &'static str,
    },
}

impl SignInError {
    /// Whether the network refused the grant itself (a revoked or spent refresh token, a
    /// client it no longer knows), so only signing in again helps; otherwise trying again
    /// later may.
    pub fn needs_sign_in(&self) -> bool {
        !matches!(self, SignInError::Unreachable { .. })
    }
}

/// One network's OAuth client for one app (`client_id`), at the network's endpoints or,
/// for an account whose API is elsewhere (a test server), at the same paths there.
#[derive(Debug)]
pub struct Client {
    network: Network,
    sign_in: &'static SignIn,
    client_id: String,
    authorize_url: AuthUrl,
    token_url: TokenUrl,
}

/// A started sign-in: the URL to open, and what checks and completes the answer.
#[derive(Debug)]
pub struct Authorization {
    /// The address to open in the browser.
    pub url: String,
    redirect_uri: RedirectUrl,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

impl Client {
    /// The client for `network` (which must have a [`SignIn`]). `api_base` is the
    /// account's API address when it is not the network's own: the sign-in endpoints are
    /// then taken at their usual paths on it.
    pub fn new(
        network: Network,
        sign_in: &'static SignIn,
        client_id: &str,
        api_base: Option<&str>,
    ) -> Result<Client, SignInError> {
        let api_base = api_base.filter(|base| Some(*base) != network.default_base_url());
        let authorize = endpoint(sign_in.authorize_url, api_base, "the authorize endpoint")?;
        let token = endpoint(sign_in.token_url, api_base, "the token endpoint")?;
        Ok(Client {
            network,
            sign_in,
            client_id: client_id.trim().to_string(),
            authorize_url: AuthUrl::from_url(authorize),
            token_url: TokenUrl::from_url(token),
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn oauth(&self, client_secret: Option<&Secret>) -> OAuthClient {
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(self.authorize_url.clone())
            .set_token_uri(self.token_url.clone())
            .set_auth_type(match self.sign_in.client_auth {
                ClientAuth::Basic => AuthType::BasicAuth,
                ClientAuth::Form => AuthType::RequestBody,
            });
        match client_secret {
            Some(secret) => {
                client.set_client_secret(ClientSecret::new(secret.expose().to_string()))
            }
            None => client,
        }
    }

    /// Starts a sign-in whose answer comes back to `redirect_uri`: a fresh `state` and
    /// PKCE verifier, and the authorize URL carrying the state, the S256 challenge and
    /// the scopes.
    pub fn authorize(&self, redirect_uri: &str) -> Result<Authorization, SignInError> {
        let redirect =
            RedirectUrl::new(redirect_uri.to_string()).map_err(|e| SignInError::BadEndpoint {
                what: "the redirect URI",
                url: redirect_uri.to_string(),
                reason: e.to_string(),
            })?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth(None)
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(std::borrow::Cow::Borrowed(&redirect))
            .add_scopes(
                self.sign_in
                    .scopes
                    .iter()
                    .map(|s| Scope::new((*s).to_string())),
            )
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.to_string(),
            redirect_uri: redirect,
            state,
            verifier,
        })
    }

    /// Trades the code of an approved sign-in for tokens, proving with the PKCE verifier
    /// that this is the client that started it.
    pub async fn exchange(
        &self,
        http: &Http,
        authorization: Authorization,
        code: Code,
        client_secret: Option<Secret>,
    ) -> Result<Tokens, SignInError> {
        let what = "the sign-in code";
        let answer = self
            .oauth(client_secret.as_ref())
            .exchange_code(AuthorizationCode::new(code.0))
            .set_redirect_uri(std::borrow::Cow::Borrowed(&authorization.redirect_uri))
            .set_pkce_verifier(authorization.verifier)
            .request_async(&exchange::Sender(http.clone()))
            .await
            .map_err(|e| self.failure(e, what))?;
        self.tokens(&answer, None, client_secret, what)
    }

    /// New tokens for `tokens`' refresh token. Networks that rotate refresh tokens (X
    /// may) make the old one useless the moment this succeeds: store the answer before
    /// anything else.
    ///
    /// The future is boxed as `Send` here, where the compiler can see that it is: the
    /// engine awaits it on spawned tasks, where it cannot.
    pub fn refresh<'a>(
        &'a self,
        http: &'a Http,
        tokens: &'a Tokens,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Tokens, SignInError>> + Send + 'a>>
    {
        Box::pin(self.refresh_now(http, tokens))
    }

    async fn refresh_now(&self, http: &Http, tokens: &Tokens) -> Result<Tokens, SignInError> {
        let what = "the refresh token";
        let Some(refresh) = &tokens.refresh else {
            return Err(SignInError::Refused {
                network: self.network.display_name(),
                what,
                error: "no refresh token was given at sign-in".into(),
                description: String::new(),
                advice: self.sign_in_again_advice(),
            });
        };
        let client_secret = tokens
            .client_secret
            .as_ref()
            .map(|s| Secret::new(s.expose().to_string()));
        let answer = self
            .oauth(client_secret.as_ref())
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
            .request_async(&exchange::Sender(http.clone()))
            .await
            .map_err(|e| self.failure(e, what))?;
        let kept = Secret::new(refresh.expose().to_string());
        self.tokens(&answer, Some(kept), client_secret, what)
    }

    fn tokens(
        &self,
        answer: &oauth2::basic::BasicTokenResponse,
        old_refresh: Option<Secret>,
        client_secret: Option<Secret>,
        what: &'static str,
    ) -> Result<Tokens, SignInError> {
        let access = answer.access_token().secret();
        if access.is_empty() {
            return Err(SignInError::Unreadable {
                network: self.network.display_name(),
                what,
            });
        }
        let lifetime = answer.expires_in().or(self.sign_in.lifetime_unsaid);
        Ok(Tokens {
            access: Secret::new(access.clone()),
            // A network that does not rotate answers a refresh without a new one: the
            // old one stays good.
            refresh: answer
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone()))
                .or(old_refresh),
            expires_at: lifetime
                .and_then(|l| chrono::Duration::from_std(l).ok())
                .map(|l| chrono::Utc::now() + l),
            scope: answer.scopes().map(|scopes| {
                scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            client_secret,
        })
    }

    fn sign_in_again_advice(&self) -> String {
        format!(
            "sign in again with `postctl accounts reauth NAME` ({} client {})",
            self.network.display_name(),
            self.client_id
        )
    }

    fn failure(
        &self,
        error: oauth2::RequestTokenError<exchange::Failure, oauth2::basic::BasicErrorResponse>,
        what: &'static str,
    ) -> SignInError {
        let network = self.network.display_name();
        match error {
            oauth2::RequestTokenError::ServerResponse(answer) => {
                let code = answer.error().as_ref().to_string();
                let advice = match answer.error() {
                    oauth2::basic::BasicErrorResponseType::InvalidClient
                    | oauth2::basic::BasicErrorResponseType::UnauthorizedClient => format!(
                        "check the client id {} (and its secret, for a confidential client) on {}",
                        self.client_id, self.sign_in.portal
                    ),
                    _ => self.sign_in_again_advice(),
                };
                SignInError::Refused {
                    network,
                    what,
                    error: code,
                    description: described(answer.error_description().map(String::as_str)),
                    advice,
                }
            }
            oauth2::RequestTokenError::Request(exchange::Failure::Unreachable(reason)) => {
                SignInError::Unreachable {
                    network,
                    what,
                    reason,
                }
            }
            oauth2::RequestTokenError::Request(exchange::Failure::Refused(status)) => {
                SignInError::Refused {
                    network,
                    what,
                    error: format!("HTTP {status}"),
                    description: String::new(),
                    advice: self.sign_in_again_advice(),
                }
            }
            oauth2::RequestTokenError::Parse(..) | oauth2::RequestTokenError::Other(_) => {
                SignInError::Unreadable { network, what }
            }
        }
    }
}

/// The code an approved sign-in brought back. Not printable.
pub struct Code(String);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(***)")
    }
}

impl Authorization {
    /// The code in the address the network redirected the browser to, once its `state`
    /// is this sign-in's. An `error` there (the user declined) is reported as such.
    pub fn code_from(&self, redirected_to: &str) -> Result<Code, SignInError> {
        let url = oauth2::url::Url::parse(redirected_to.trim())
            .map_err(|e| SignInError::NotARedirect(format!("not an address ({e})")))?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        if let Some(error) = param("error") {
            return Err(SignInError::Denied {
                error,
                description: described(param("error_description").as_deref()),
            });
        }
        // The state is checked before the code is looked at: an answer to another
        // sign-in (a forged link) is refused whatever it carries.
        match param("state") {
            Some(state) if state == *self.state.secret() => {}
            Some(_) => return Err(SignInError::StateMismatch),
            None => {
                return Err(SignInError::NotARedirect(
                    "the address has no state parameter".into(),
                ));
            }
        }
        match param("code").filter(|code| !code.is_empty()) {
            Some(code) => Ok(Code(code)),
            None => Err(SignInError::NotARedirect(
                "the address has no code parameter".into(),
            )),
        }
    }

    pub fn redirect_uri(&self) -> &str {
        self.redirect_uri.as_str()
    }
}

/// `": description"`, or nothing.
fn described(description: Option<&str>) -> String {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!(": {}", d.chars().take(300).collect::<String>()),
        None => String::new(),
    }
}

/// `default` itself, or its path (and query) on `base` for an API that is elsewhere.
fn endpoint(
    default: &str,
    base: Option<&str>,
    what: &'static str,
) -> Result<oauth2::url::Url, SignInError> {
    let bad = |url: &str, reason: String| SignInError::BadEndpoint {
        what,
        url: url.to_string(),
        reason,
    };
    let default_url = oauth2::url::Url::parse(default).map_err(|e| bad(default, e.to_string()))?;
    let Some(base) = base else {
        return Ok(default_url);
    };
    let mut url = oauth2::url::Url::parse(base.trim_end_matches('/'))
        .map_err(|e| bad(base, e.to_string()))?;
    let path = format!("{}{}", url.path().trim_end_matches('/'), default_url.path());
    url.set_path(&path);
    url.set_query(default_url.query());
    Ok(url)
}

#[cfg(test)]
mod tests;
