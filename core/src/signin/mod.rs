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
mod meta;
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
pub use meta::{LONG_LIVED, RENEW_AHEAD};
pub use tokens::Tokens;

/// How a network signs users in with OAuth 2.0: plain data, one per network that has it.
#[derive(Debug)]
pub struct SignIn {
    /// Where the browser goes to approve postctl, e.g. `https://x.com/i/oauth2/authorize`.
    pub authorize_url: &'static str,
    /// Where codes (and, for [`Dialect::Standard`] and [`Dialect::VkId`], refresh
    /// tokens) are traded for tokens.
    pub token_url: &'static str,
    /// The scopes postctl asks for: what publishing needs, and the one that brings a
    /// refresh token where the network has one (X: `offline.access`).
    pub scopes: &'static [&'static str],
    /// How the scopes are joined in the authorize URL: `" "` (RFC 6749), `","` (Meta).
    pub scope_separator: &'static str,
    /// Whether the authorize URL carries a PKCE S256 challenge and the code exchange its
    /// verifier (X, VK ID: yes; Meta's logins do not document it).
    pub pkce: bool,
    /// How a confidential client (one with a client secret) proves itself at the token
    /// endpoint. A public client sends only its `client_id`, in the form.
    pub client_auth: ClientAuth,
    /// How long an access token lives when a token answer has no `expires_in`; `None`:
    /// until the network refuses it.
    pub lifetime_unsaid: Option<Duration>,
    /// A token with less than this left is renewed before an adapter gets it: longer than
    /// an adapter is kept (10 minutes) for short-lived tokens, days for Meta's 60-day ones.
    pub refresh_ahead: Duration,
    /// What differs from plain RFC 6749 in the exchange and the refresh.
    pub dialect: Dialect,
    /// Where the user registers the app and its redirect URI, for messages and help.
    pub portal: &'static str,
    /// Where on [`SignIn::portal`] the redirect URI is registered, for the message that
    /// names it.
    pub redirect_setting: &'static str,
}

/// How a network's sign-in departs from the plain authorization code grant.
#[derive(Debug)]
pub enum Dialect {
    /// RFC 6749 (with PKCE where [`SignIn::pkce`]): the code grant, then `refresh_token`
    /// grants, the refresh token rotated where the network rotates it (X).
    Standard,
    /// VK ID (OAuth 2.1): the redirect brings a `device_id` besides the code; it goes
    /// with the code exchange and with every refresh, and those requests carry a `state`.
    /// Refresh tokens rotate.
    VkId,
    /// Meta (Instagram Login, Threads, Facebook Login): the code is traded for a
    /// short-lived token (client secret in the form), which is exchanged at once for a
    /// long-lived one; that one is renewed with itself, not with a refresh token.
    LongLived(LongLived),
}

/// Meta's long-lived tokens: where the short-lived one is exchanged and where the
/// long-lived one is renewed (both `GET`, the token in the query as Meta documents).
#[derive(Debug)]
pub struct LongLived {
    /// `GET …?grant_type={exchange_grant}&client_secret&{token_param}=short-lived`.
    pub exchange_url: &'static str,
    /// `ig_exchange_token` (Instagram), `th_exchange_token` (Threads), `fb_exchange_token`.
    pub exchange_grant: &'static str,
    /// The parameter carrying the short-lived token: `access_token`, or
    /// `fb_exchange_token` for Facebook (which also wants the `client_id`).
    pub token_param: &'static str,
    /// `GET …?grant_type={refresh_grant}&access_token=long-lived`; `None` where the
    /// network has no renewal (Facebook: sign in again).
    pub refresh_url: Option<&'static str>,
    /// `ig_refresh_token`, `th_refresh_token`.
    pub refresh_grant: &'static str,
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
    #[error(
        "{network} signs in only with the app's secret: add --client-secret-stdin and give it the app secret from {portal}"
    )]
    SecretNeeded {
        network: &'static str,
        portal: &'static str,
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
    /// Meta's exchange and renewal endpoints, at the same place as the others.
    long_lived: Option<LongLivedUrls>,
}

#[derive(Debug)]
struct LongLivedUrls {
    how: &'static LongLived,
    exchange: oauth2::url::Url,
    refresh: Option<oauth2::url::Url>,
}

/// A started sign-in: the URL to open, and what checks and completes the answer.
#[derive(Debug)]
pub struct Authorization {
    /// The address to open in the browser.
    pub url: String,
    redirect_uri: RedirectUrl,
    state: CsrfToken,
    /// `None` where the network takes no PKCE.
    verifier: Option<PkceCodeVerifier>,
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
        let long_lived = match &sign_in.dialect {
            Dialect::LongLived(how) => Some(LongLivedUrls {
                how,
                exchange: endpoint(how.exchange_url, api_base, "the token exchange endpoint")?,
                refresh: how
                    .refresh_url
                    .map(|url| endpoint(url, api_base, "the token refresh endpoint"))
                    .transpose()?,
            }),
            Dialect::Standard | Dialect::VkId => None,
        };
        Ok(Client {
            network,
            sign_in,
            client_id: client_id.trim().to_string(),
            authorize_url: AuthUrl::from_url(authorize),
            token_url: TokenUrl::from_url(token),
            long_lived,
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

    /// Starts a sign-in whose answer comes back to `redirect_uri`: a fresh `state` (and
    /// PKCE verifier, where the network takes PKCE), and the authorize URL carrying the
    /// state, the S256 challenge and the scopes.
    pub fn authorize(&self, redirect_uri: &str) -> Result<Authorization, SignInError> {
        let redirect =
            RedirectUrl::new(redirect_uri.to_string()).map_err(|e| SignInError::BadEndpoint {
                what: "the redirect URI",
                url: redirect_uri.to_string(),
                reason: e.to_string(),
            })?;
        let client = self.oauth(None);
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(std::borrow::Cow::Borrowed(&redirect));
        request = if self.sign_in.scope_separator == " " {
            request.add_scopes(
                self.sign_in
                    .scopes
                    .iter()
                    .map(|s| Scope::new((*s).to_string())),
            )
        } else {
            request.add_scope(Scope::new(
                self.sign_in.scopes.join(self.sign_in.scope_separator),
            ))
        };
        let verifier = if self.sign_in.pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            Some(verifier)
        } else {
            None
        };
        let (url, state) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            redirect_uri: redirect,
            state,
            verifier,
        })
    }

    /// Trades the code of an approved sign-in for tokens, proving with the PKCE verifier
    /// that this is the client that started it. Meta's short-lived token is exchanged
    /// for a long-lived one before this returns.
    pub async fn exchange(
        &self,
        http: &Http,
        authorization: Authorization,
        code: Code,
        client_secret: Option<Secret>,
    ) -> Result<Tokens, SignInError> {
        let what = "the sign-in code";
        if let Some(long_lived) = &self.long_lived {
            let secret = client_secret.ok_or_else(|| self.secret_needed())?;
            return meta::sign_in(self, long_lived, http, &authorization, code, secret).await;
        }
        let client = self.oauth(client_secret.as_ref());
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.code))
            .set_redirect_uri(std::borrow::Cow::Borrowed(&authorization.redirect_uri));
        if let Some(verifier) = authorization.verifier {
            request = request.set_pkce_verifier(verifier);
        }
        if matches!(self.sign_in.dialect, Dialect::VkId) {
            let device_id = code.device_id.clone().ok_or_else(|| {
                SignInError::NotARedirect("the address has no device_id parameter".into())
            })?;
            request = request
                .add_extra_param("device_id", device_id)
                .add_extra_param("state", authorization.state.secret().clone());
        }
        let answer = request
            .request_async(&exchange::Sender(http.clone()))
            .await
            .map_err(|e| self.failure(e, what))?;
        let mut tokens = self.tokens(&answer, None, client_secret, what)?;
        tokens.device_id = code.device_id;
        Ok(tokens)
    }

    /// New tokens for `tokens`: a refresh token spent, or Meta's long-lived token
    /// renewed. Networks that rotate refresh tokens (X may, VK ID does) make the old one
    /// useless the moment this succeeds: store the answer before anything else.
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
        if let Some(long_lived) = &self.long_lived {
            return meta::renew(self, long_lived, http, tokens).await;
        }
        let what = "the refresh token";
        let Some(refresh) = &tokens.refresh else {
            return Err(self.refused(what, "no refresh token was given at sign-in"));
        };
        let client_secret = tokens
            .client_secret
            .as_ref()
            .map(|s| Secret::new(s.expose().to_string()));
        let client = self.oauth(client_secret.as_ref());
        let refresh_token = RefreshToken::new(refresh.expose().to_string());
        let mut request = client.exchange_refresh_token(&refresh_token);
        if matches!(self.sign_in.dialect, Dialect::VkId) {
            let Some(device_id) = &tokens.device_id else {
                return Err(self.refused(what, "the sign-in kept no device_id"));
            };
            request = request
                .add_extra_param("device_id", device_id.clone())
                .add_extra_param("state", CsrfToken::new_random().secret().clone());
        }
        let answer = request
            .request_async(&exchange::Sender(http.clone()))
            .await
            .map_err(|e| self.failure(e, what))?;
        let kept = Secret::new(refresh.expose().to_string());
        let mut new = self.tokens(&answer, Some(kept), client_secret, what)?;
        new.device_id = tokens.device_id.clone();
        Ok(new)
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
            expires_at: expiry(lifetime),
            scope: answer.scopes().map(|scopes| {
                scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            client_secret,
            device_id: None,
            user_id: None,
        })
    }

    fn sign_in_again_advice(&self) -> String {
        format!(
            "sign in again with `postctl accounts reauth NAME` ({} client {})",
            self.network.display_name(),
            self.client_id
        )
    }

    /// The network refused `what` for a reason postctl states itself.
    fn refused(&self, what: &'static str, error: &str) -> SignInError {
        SignInError::Refused {
            network: self.network.display_name(),
            what,
            error: error.to_string(),
            description: String::new(),
            advice: self.sign_in_again_advice(),
        }
    }

    fn secret_needed(&self) -> SignInError {
        SignInError::SecretNeeded {
            network: self.network.display_name(),
            portal: self.sign_in.portal,
        }
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
                    | oauth2::basic::BasicErrorResponseType::UnauthorizedClient => {
                        self.client_advice()
                    }
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

    fn client_advice(&self) -> String {
        format!(
            "check the client id {} (and its secret, for a confidential client) on {}",
            self.client_id, self.sign_in.portal
        )
    }
}

/// When a token living `lifetime` from now expires.
fn expiry(lifetime: Option<Duration>) -> Option<chrono::DateTime<chrono::Utc>> {
    lifetime
        .and_then(|l| chrono::Duration::from_std(l).ok())
        .map(|l| chrono::Utc::now() + l)
}

/// The code an approved sign-in brought back (and VK ID's `device_id` beside it). Not
/// printable.
pub struct Code {
    code: String,
    device_id: Option<String>,
}

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
            Some(code) => Ok(Code {
                code,
                device_id: param("device_id").filter(|d| !d.is_empty()),
            }),
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
