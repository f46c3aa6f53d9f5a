//! Meta's Graph API, shared by Instagram, Facebook Pages and Threads: one account's
//! requests with its token as `Authorization: Bearer` (never in a URL), the Graph error
//! object (`{error: {message, type, code, error_subcode, is_transient, fbtrace_id}}`)
//! classified in one place, and insights read as counters. The container → publish flow
//! that Instagram and Threads share is in [`containers`].
//!
//! Classification, for every Meta network: code 190 is a token to renew (`Auth`); codes
//! 4, 17, 32, 613, 80001 and 80002 are throttling (third-party figures), waited out for
//! `X-Business-Use-Case-Usage`'s `estimated_time_to_regain_access`; `is_transient` (and
//! Instagram's documented subcodes 2207001 and 2207003) is worth retrying, and on the
//! request that posts it may have posted; everything else is refused for good. The usage
//! headers themselves (`X-Business-Use-Case-Usage`, `X-App-Usage`, `X-Page-Usage`) feed
//! the same pacing as every network's rate-limit headers, in [`super::http::rate_state`].

pub(super) mod containers;

use std::time::Duration;

use serde_json::Value;
use zeroize::Zeroizing;

use super::http::{Answer, api_base, endpoint, excerpt, not_posted};
use super::{Counters, Http, PostReading, PublishError};
use crate::model::Account;
use crate::network::Network;
use crate::secrets::Secret;

/// The wait when a throttling error gives no `estimated_time_to_regain_access`.
const THROTTLE_WAIT: Duration = Duration::from_secs(60);

/// What a call is for, which decides what an unclear failure means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Call {
    /// Reads and container steps: nothing is posted by them.
    Prepare,
    /// The request that posts: a failure without an answer may have posted.
    Publish,
    /// Reading counters: nothing is posted.
    Read,
}

/// A Graph API error object, before it is classified.
pub(super) struct GraphError {
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    pub transient: bool,
    /// From `X-Business-Use-Case-Usage`: `estimated_time_to_regain_access` (minutes).
    pub regain: Option<Duration>,
    pub status: u16,
}

/// One account's Graph API: where, as whom, and what to tell its user.
pub(super) struct Graph {
    pub network: Network,
    /// The account's name in postctl.
    pub name: String,
    pub base: String,
    token: Secret,
    pub http: Http,
    /// The account as stored, for the `accounts add` command that renews its token.
    stored: Account,
    /// What a new token is called on this network, for the message when it is refused
    /// ("long-lived token", "Page access token").
    token_kind: &'static str,
}

impl Graph {
    pub fn new(
        account: &Account,
        token: Secret,
        http: Http,
        token_kind: &'static str,
    ) -> Result<Graph, PublishError> {
        Ok(Graph {
            network: account.network,
            name: account.name.clone(),
            base: api_base(account)?,
            token,
            http,
            stored: account.clone(),
            token_kind,
        })
    }

    /// The Graph API of `account`, whose secret is the token set a sign-in keeps
    /// (its access token is used) or a token given by hand (used as it is).
    pub fn for_account(
        account: &Account,
        secret: Secret,
        http: Http,
        token_kind: &'static str,
    ) -> Result<Graph, PublishError> {
        let token = match crate::signin::Tokens::from_secret(&secret) {
            Some(tokens) => tokens.access,
            None => secret,
        };
        Graph::new(account, token, http, token_kind)
    }

    /// The network's name for messages.
    pub fn says(&self) -> &'static str {
        self.network.display_name()
    }

    pub async fn get(
        &self,
        path: &[&str],
        query: &[(&str, &str)],
        call: Call,
    ) -> Result<Value, PublishError> {
        let url = endpoint(&self.base, path)?;
        let request = self.http.client().get(url).query(query);
        self.send(request, call).await
    }

    pub async fn post(
        &self,
        path: &[&str],
        form: &[(&str, &str)],
        call: Call,
    ) -> Result<Value, PublishError> {
        let url = endpoint(&self.base, path)?;
        let request = self.http.client().post(url).form(form);
        self.send(request, call).await
    }

    pub async fn delete(&self, path: &[&str]) -> Result<Result<Value, GraphError>, PublishError> {
        let url = endpoint(&self.base, path)?;
        let request = self.http.client().delete(url);
        self.answer(request, Call::Prepare).await
    }

    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        call: Call,
    ) -> Result<Value, PublishError> {
        match self.answer(request, call).await? {
            Ok(body) => Ok(body),
            Err(error) => Err(self.classify(error, call)),
        }
    }

    /// The answer's body, or the Graph API error object it carried (left to the caller).
    pub async fn answer(
        &self,
        request: reqwest::RequestBuilder,
        call: Call,
    ) -> Result<Result<Value, GraphError>, PublishError> {
        let token = Zeroizing::new(format!("Bearer {}", self.token.expose()));
        let request = request.header(reqwest::header::AUTHORIZATION, token.as_str());
        let answer = match self.http.exchange(&self.name, request).await {
            Ok(answer) => answer,
            Err(e) if call == Call::Publish => return Err(e),
            Err(e) => return Err(not_posted(e)),
        };
        if let Some(error) = graph_error(&answer) {
            return Ok(Err(error));
        }
        if !answer.is_success() {
            let error = super::http::classify(
                answer.status,
                format!(
                    "{} answered HTTP {}{}",
                    self.says(),
                    answer.status,
                    answer.excerpt()
                ),
                answer.retry_after(),
            );
            return Err(if call == Call::Publish {
                error
            } else {
                not_posted(error)
            });
        }
        answer
            .json()
            .map(Ok)
            .ok_or_else(|| self.unexpected("a request", call))
    }

    /// An answer without the id it should carry.
    pub fn unexpected(&self, what: &str, call: Call) -> PublishError {
        let message = format!(
            "{} answered {what} without the id it should return",
            self.says()
        );
        match call {
            Call::Publish => PublishError::maybe_sent(message, None),
            Call::Prepare | Call::Read => not_posted(PublishError::maybe_sent(message, None)),
        }
    }

    pub fn classify(&self, error: GraphError, call: Call) -> PublishError {
        let GraphError {
            code,
            subcode,
            message,
            transient,
            regain,
            status,
        } = error;
        let network = self.says();
        let said = match subcode {
            Some(sub) => format!("{network} error {code}/{sub}: {message}"),
            None => format!("{network} error {code}: {message}"),
        };
        let name = &self.name;
        let status = Some(status);
        let retry =
            |message: String, wait: Option<Duration>, maybe_sent: bool| PublishError::Retryable {
                message,
                retry_after: wait,
                maybe_sent,
                status,
            };
        match (code, subcode) {
            (190, _) => PublishError::Auth {
                message: format!(
                    "{network} rejected the access token of account {name} ({said}): it expired or was revoked; get a new {}, then `{}`",
                    self.token_kind,
                    crate::network::add_again_command(&self.stored)
                ),
                status,
            },
            // Meta answered with an error: the request was read and refused.
            (4 | 17 | 32 | 613 | 80001 | 80002, _) => retry(
                format!("{network} is rate limiting account {name} ({said})"),
                Some(regain.unwrap_or(THROTTLE_WAIT)),
                false,
            ),
            (_, Some(2207020 | 2207032 | 2207053)) => retry(
                format!("{network} dropped the container ({said}); a new one is made on retry"),
                None,
                false,
            ),
            (_, Some(2207004)) => PublishError::Permanent {
                message: format!(
                    "{network} refused an image as too large ({said}): use images under 8 MB"
                ),
                status,
            },
            // A passing error on the request that posts may still have posted.
            _ if transient || matches!(subcode, Some(2207001 | 2207003)) => retry(
                format!("{network} had a passing problem ({said})"),
                None,
                call == Call::Publish,
            ),
            _ if call == Call::Read => PublishError::Permanent {
                message: format!("{network} refused to give the counters ({said})"),
                status,
            },
            _ => PublishError::Permanent {
                message: format!("{network} refused the post ({said})"),
                status,
            },
        }
    }
}

/// The id of the user whose token `token` is, `GET {base}/me?fields=id` (Instagram's and
/// Threads' `/me`), for a sign-in whose answer did not name the user.
pub async fn signed_in_user(
    http: &Http,
    network: Network,
    base: &str,
    token: &Secret,
) -> Result<String, PublishError> {
    let url = endpoint(base, &["me"])?;
    let bearer = Zeroizing::new(format!("Bearer {}", token.expose()));
    let request = http
        .client()
        .get(url)
        .query(&[("fields", "id")])
        .header(reqwest::header::AUTHORIZATION, bearer.as_str());
    let answer = http.exchange(network.name(), request).await?;
    let said = network.display_name();
    if let Some(error) = graph_error(&answer) {
        // Meta's messages do not echo the token, but nothing from outside is trusted to.
        let message = error.message.replace(token.expose(), "[token]");
        return Err(super::http::classify(
            answer.status,
            format!(
                "{said} would not say who signed in (error {}: {message})",
                error.code
            ),
            answer.retry_after(),
        ));
    }
    answer
        .json()
        .as_ref()
        .and_then(id_of)
        .filter(|_| answer.is_success())
        .ok_or_else(|| {
            PublishError::permanent(format!(
                "{said} answered /me without an id (HTTP {}); give the user id with --user-id",
                answer.status
            ))
        })
}

/// The Graph API error object of an answer, with the usage header's advice.
pub(super) fn graph_error(answer: &Answer) -> Option<GraphError> {
    let body = answer.json()?;
    let error = body.get("error")?;
    let code = error.get("code").and_then(Value::as_i64)?;
    Some(GraphError {
        code,
        subcode: error.get("error_subcode").and_then(Value::as_i64),
        message: error
            .get("message")
            .and_then(Value::as_str)
            .map(excerpt)
            .unwrap_or_default(),
        transient: error
            .get("is_transient")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        regain: regain_access(&answer.headers),
        status: answer.status,
    })
}

/// `estimated_time_to_regain_access` (minutes) of `X-Business-Use-Case-Usage`, a JSON
/// object keyed by business id whose values are lists of usages; the longest wait wins.
pub(crate) fn regain_access(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let usage: Value = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str(v).ok())?;
    usage
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|u| {
            u.get("estimated_time_to_regain_access")
                .and_then(Value::as_u64)
        })
        .max()
        .filter(|&minutes| minutes > 0)
        .map(|minutes| Duration::from_secs(minutes * 60).min(super::http::MAX_WAIT))
}

/// The highest percentage of its allowance an account has used, by Meta's usage headers:
/// `X-App-Usage` and `X-Page-Usage` (`{call_count, total_cputime, total_time}`) and each
/// usage of `X-Business-Use-Case-Usage`. `None` when no such header came.
pub(crate) fn usage_percent(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let json = |name: &str| -> Option<Value> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| serde_json::from_str(v).ok())
    };
    let highest = |usage: &Value| -> Option<u64> {
        ["call_count", "total_cputime", "total_time"]
            .iter()
            .filter_map(|field| usage.get(*field).and_then(Value::as_u64))
            .max()
    };
    let mut found = None;
    for name in ["x-app-usage", "x-page-usage"] {
        if let Some(usage) = json(name) {
            found = found.max(highest(&usage).or(Some(0)));
        }
    }
    if let Some(usage) = json("x-business-use-case-usage")
        && let Some(by_business) = usage.as_object()
    {
        for usage in by_business.values().filter_map(Value::as_array).flatten() {
            found = found.max(highest(usage).or(Some(0)));
        }
    }
    found
}

/// The id of a Graph object (`{"id": "…"}`; a number in some answers).
/// What Instagram's and Threads' adapters hold alike: the account's Graph API, the user
/// it posts as (`user_id`, where `accounts add` put it from `--user-id` or the sign-in),
/// and the media host the network fetches images from.
pub(super) struct GraphUser {
    pub graph: Graph,
    pub user_id: String,
    pub host: Result<std::sync::Arc<dyn crate::media::host::MediaHost>, String>,
}

impl GraphUser {
    /// The account's user, with its token (`token_kind` names it in messages).
    pub fn open(
        account: &Account,
        secret: Secret,
        tools: super::Tools,
        token_kind: &'static str,
    ) -> Result<GraphUser, PublishError> {
        Ok(GraphUser {
            user_id: account_id(account, "user_id", "user id")?,
            graph: Graph::for_account(account, secret, tools.http, token_kind)?,
            host: tools.media_host,
        })
    }

    /// `GET /{user-id}?fields=id,username`: who the token posts as.
    pub async fn verify(&self) -> Result<super::Verified, PublishError> {
        let me = self
            .graph
            .get(
                &[self.user_id.as_str()],
                &[("fields", "id,username")],
                Call::Prepare,
            )
            .await?;
        let username = me.get("username").and_then(Value::as_str).unwrap_or("?");
        Ok(super::Verified {
            identity: format!("@{username} ({} user {})", self.graph.says(), self.user_id),
        })
    }
}

/// The id an account's adapter posts as, from its settings (`user_id`, `page_id`), where
/// `accounts add` put it; `what` names it in the error for an account without one.
pub(super) fn account_id(account: &Account, key: &str, what: &str) -> Result<String, PublishError> {
    account
        .settings
        .get(key)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            PublishError::permanent(format!(
                "the {} account {:?} has no {what}; add it again, e.g. {}",
                account.network.display_name(),
                account.name,
                account.network.example_add_command()
            ))
        })
}

pub(super) fn id_of(value: &Value) -> Option<String> {
    match value.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The counters of an insights answer (`{data: [{name, values: [{value}]} | {name,
/// total_value: {value}}]}`): each metric of `names` (Meta's name, postctl's) by its
/// lifetime value. No metric at all (Meta's empty set) is pending, not zeros.
pub(super) fn insights_reading(body: &Value, names: &[(&str, &str)]) -> PostReading {
    let found = insights_counters(body, names);
    if found.is_empty() {
        PostReading::Pending
    } else {
        PostReading::Counted(found)
    }
}

/// [`insights_reading`]'s counters.
pub(super) fn insights_counters(body: &Value, names: &[(&str, &str)]) -> Counters {
    let data = body["data"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    data.iter()
        .filter_map(|item| {
            let (_, name) = names
                .iter()
                .find(|(metric, _)| item["name"].as_str() == Some(metric))?;
            let value = item["values"][0]["value"]
                .as_u64()
                .or_else(|| item["total_value"]["value"].as_u64())?;
            Some(((*name).to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn the_usage_headers_give_the_highest_percentage_used() {
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Headers, Option<u64>)] = &[
            (&[], None),
            (
                &[(
                    "x-app-usage",
                    r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
                )],
                Some(28),
            ),
            (
                &[
                    ("x-app-usage", r#"{"call_count":5}"#),
                    (
                        "x-business-use-case-usage",
                        r#"{"1234":[{"type":"pages","call_count":100,"total_cputime":4,"total_time":9,"estimated_time_to_regain_access":3}]}"#,
                    ),
                ],
                Some(100),
            ),
            (&[("x-page-usage", "not json")], None),
        ];
        for (pairs, expected) in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in *pairs {
                headers.insert(*name, HeaderValue::from_static(value));
            }
            assert_eq!(usage_percent(&headers), *expected, "{pairs:?}");
        }
    }
}
