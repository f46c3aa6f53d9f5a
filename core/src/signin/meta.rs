//! Meta's long-lived tokens (Instagram Login, Threads, Facebook Login): the code is traded
//! for a short-lived token at the token endpoint (a form `POST` with the client secret in
//! it), which is exchanged at once for a long-lived one (`GET
//! …?grant_type=ig_exchange_token&client_secret&access_token`, 60 days); that one is
//! renewed with itself (`GET …?grant_type=ig_refresh_token&access_token`), for another 60
//! days from the renewal, once it is a day old. There is no refresh token. Facebook Login
//! has no renewal: its `fb_exchange_token` token is refused renewal here, which marks the
//! account as needing sign-in a week before it ends. The code's answer names the user
//! (`user_id`, Instagram's and Threads'), which the account keeps as its user id.
//!
//! These steps are not RFC 6749 (no `token_type` in the code's answer, which Instagram
//! may also wrap in `{"data": [...]}`; Graph error objects rather than OAuth errors), so
//! they are sent here with our [`Http`] rather than through the `oauth2` crate. The
//! client secret and the tokens travel in the query as Meta documents; no message
//! repeats an address (transport errors keep only its origin).

use std::time::Duration;

use serde_json::Value;

use super::{Authorization, Client, Code, LongLivedUrls, SignInError, Tokens, described, expiry};
use crate::platforms::Http;
use crate::platforms::http::{Answer, read_answer, transport_error};
use crate::secrets::Secret;

/// A long-lived token's lifetime when the answer does not say (60
/// days).
pub const LONG_LIVED: Duration = Duration::from_secs(60 * 24 * 60 * 60);

/// A long-lived token with less than this left is renewed (Meta renews only tokens at
/// least a day old, which one with a week left always is), or, where the network has no
/// renewal (Facebook), the account is marked as needing sign-in.
pub const RENEW_AHEAD: Duration = Duration::from_secs(7 * 24 * 60 * 60);

impl super::SignIn {
    /// One of Meta's logins: the scopes joined with commas, no PKCE (Meta does not
    /// document it), the client secret in the form, 60-day tokens renewed (or, without a
    /// renewal, signed in again) when less than [`RENEW_AHEAD`] is left, and the app
    /// registered on Meta's developer site.
    pub const fn meta(
        authorize_url: &'static str,
        token_url: &'static str,
        scopes: &'static [&'static str],
        long_lived: super::LongLived,
        redirect_setting: &'static str,
    ) -> super::SignIn {
        super::SignIn {
            authorize_url,
            token_url,
            scopes,
            scope_separator: ",",
            pkce: false,
            client_auth: super::ClientAuth::Form,
            lifetime_unsaid: Some(LONG_LIVED),
            refresh_ahead: RENEW_AHEAD,
            dialect: super::Dialect::LongLived(long_lived),
            portal: "https://developers.facebook.com/apps",
            redirect_setting,
        }
    }
}

/// The code traded for a short-lived token, exchanged for a long-lived one.
pub(super) async fn sign_in(
    client: &Client,
    urls: &LongLivedUrls,
    http: &Http,
    authorization: &Authorization,
    code: Code,
    secret: Secret,
) -> Result<Tokens, SignInError> {
    let what = "the sign-in code";
    let form = [
        ("client_id", client.client_id.as_str()),
        ("client_secret", secret.expose()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", authorization.redirect_uri.as_str()),
        ("code", code.code.as_str()),
    ];
    let request = http
        .client()
        .post(client.token_url.url().clone())
        .form(&form);
    let answer = send(client, request, what).await?;
    let short = access_token(&answer)
        .map(|(token, _)| Secret::new(token))
        .ok_or_else(|| unreadable(client, what))?;
    let user_id = user_id(&answer);
    let what = "the short-lived token";
    let mut query = vec![
        ("grant_type", urls.how.exchange_grant),
        ("client_secret", secret.expose()),
        (urls.how.token_param, short.expose()),
    ];
    if urls.how.token_param != "access_token" {
        query.push(("client_id", client.client_id.as_str()));
    }
    let request = http.client().get(urls.exchange.clone()).query(&query);
    let answer = send(client, request, what).await?;
    let (long, lifetime) = access_token(&answer).ok_or_else(|| unreadable(client, what))?;
    Ok(Tokens {
        access: Secret::new(long),
        refresh: None,
        expires_at: expiry(Some(lifetime.unwrap_or(LONG_LIVED))),
        scope: None,
        client_secret: Some(secret),
        device_id: None,
        user_id,
    })
}

/// A new long-lived token for the one in `tokens`.
pub(super) async fn renew(
    client: &Client,
    urls: &LongLivedUrls,
    http: &Http,
    tokens: &Tokens,
) -> Result<Tokens, SignInError> {
    let what = "the long-lived token's renewal";
    let Some(url) = &urls.refresh else {
        // Facebook Login: no renewal, so the sign-in is made again before it ends.
        let ends = tokens
            .expires_at
            .map(|at| format!(", and it ends on {}", at.format("%Y-%m-%d")))
            .unwrap_or_default();
        return Err(client.refused(
            what,
            &format!(
                "{} does not renew a sign-in{ends}",
                client.network.display_name()
            ),
        ));
    };
    let query = [
        ("grant_type", urls.how.refresh_grant),
        ("access_token", tokens.access.expose()),
    ];
    let request = http.client().get(url.clone()).query(&query);
    let answer = send(client, request, what).await?;
    let (access, lifetime) = access_token(&answer).ok_or_else(|| unreadable(client, what))?;
    Ok(Tokens {
        access: Secret::new(access),
        refresh: None,
        expires_at: expiry(Some(lifetime.unwrap_or(LONG_LIVED))),
        scope: tokens.scope.clone(),
        client_secret: tokens
            .client_secret
            .as_ref()
            .map(|s| Secret::new(s.expose().to_string())),
        device_id: None,
        user_id: None,
    })
}

/// Sends a request; a success's JSON body, or the failure classified: unreachable (no
/// answer, 429, 5xx, a Graph error marked `is_transient`) or refused.
async fn send(
    client: &Client,
    request: reqwest::RequestBuilder,
    what: &'static str,
) -> Result<Value, SignInError> {
    let network = client.network.display_name();
    let unreachable = |reason: String| SignInError::Unreachable {
        network,
        what,
        reason,
    };
    let response = request
        .send()
        .await
        .map_err(|e| unreachable(transport_error(e).to_string()))?;
    let answer: Answer = read_answer(response)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let body = answer.json().unwrap_or_default();
    if answer.is_success() {
        return Ok(body);
    }
    // A Graph error object, or Instagram's older flat one.
    let error = &body["error"];
    let message = error["message"]
        .as_str()
        .or_else(|| body["error_message"].as_str())
        .or_else(|| body["error_description"].as_str());
    let kind = error["type"]
        .as_str()
        .or_else(|| body["error_type"].as_str())
        .or_else(|| error.as_str());
    let code = error["code"].as_i64().or_else(|| body["code"].as_i64());
    if answer.status == 429 || answer.status >= 500 || error["is_transient"] == true {
        return Err(unreachable(format!(
            "HTTP {}{}",
            answer.status,
            described(message)
        )));
    }
    let error = match (kind, code) {
        (Some(kind), Some(code)) => format!("{kind} {code}"),
        (Some(kind), None) => kind.to_string(),
        (None, Some(code)) => format!("code {code}"),
        (None, None) => format!("HTTP {}", answer.status),
    };
    Err(SignInError::Refused {
        network,
        what,
        error,
        description: described(message),
        advice: if what == "the sign-in code" {
            format!(
                "{}, and that the redirect URI is registered",
                client.client_advice()
            )
        } else {
            client.sign_in_again_advice()
        },
    })
}

/// The access token of a token answer, flat or in `data[0]`, and its `expires_in`.
fn access_token(answer: &Value) -> Option<(String, Option<Duration>)> {
    let flat = if answer["access_token"].is_string() {
        answer
    } else {
        &answer["data"][0]
    };
    let token = flat["access_token"].as_str().filter(|t| !t.is_empty())?;
    let lifetime = flat["expires_in"].as_u64().map(Duration::from_secs);
    Some((token.to_string(), lifetime))
}

/// The user id a code's answer names (flat or in `data[0]`; Threads gives a number,
/// Instagram a string).
fn user_id(answer: &Value) -> Option<String> {
    let flat = if answer["access_token"].is_string() {
        answer
    } else {
        &answer["data"][0]
    };
    match &flat["user_id"] {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn unreadable(client: &Client, what: &'static str) -> SignInError {
    SignInError::Unreadable {
        network: client.network.display_name(),
        what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_is_read_flat_or_wrapped_in_data() {
        let cases = [
            (
                serde_json::json!({"access_token": "a", "token_type": "bearer", "expires_in": 5183944}),
                Some(("a".to_string(), Some(Duration::from_secs(5_183_944)))),
            ),
            (
                serde_json::json!({"data": [{"access_token": "b", "user_id": "1", "permissions": "x"}]}),
                Some(("b".to_string(), None)),
            ),
            (serde_json::json!({"access_token": ""}), None),
            (serde_json::json!({"error": {"message": "no"}}), None),
        ];
        for (answer, expected) in cases {
            assert_eq!(access_token(&answer), expected, "{answer}");
        }
    }

    #[test]
    fn the_user_id_is_read_as_a_string_or_a_number() {
        let cases = [
            (
                serde_json::json!({"access_token": "a", "user_id": 26012345678901234_u64}),
                Some("26012345678901234"),
            ),
            (
                serde_json::json!({"data": [{"access_token": "b", "user_id": "17841400000000001"}]}),
                Some("17841400000000001"),
            ),
            (
                serde_json::json!({"access_token": "c", "user_id": ""}),
                None,
            ),
            (serde_json::json!({"access_token": "d"}), None),
        ];
        for (answer, expected) in cases {
            assert_eq!(user_id(&answer).as_deref(), expected, "{answer}");
        }
    }
}
