//! The Pages a Facebook user can post to, for `accounts add facebook`: `GET /me/accounts
//! ?fields=id,name,access_token,tasks` with the user's token gives each
//! Page with its Page access token, which is what the account keeps. A Page token made
//! from a long-lived user token does not expire (third-party figure).

use serde_json::Value;

use crate::platforms::{Http, PublishError};
use crate::secrets::Secret;

/// A Page the user can act on, with its token.
pub struct Page {
    pub id: String,
    pub name: String,
    /// The Page access token: goes to the secret store, never to output.
    pub token: Secret,
    /// Whether the user may post there (the task CREATE_CONTENT or MANAGE).
    pub can_post: bool,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("can_post", &self.can_post)
            .finish_non_exhaustive()
    }
}

/// What `GET /me/accounts` said.
pub enum Listed {
    Pages(Vec<Page>),
    /// The token is not a user's (a Page token gives Graph error 100 here): it may be the
    /// Page token itself.
    NotAUserToken,
}

/// The Pages of the user whose token is `user_token`, read from `base` (the Graph API's
/// address, or a test's).
pub async fn list(http: &Http, base: &str, user_token: &Secret) -> Result<Listed, PublishError> {
    let url = super::super::http::endpoint(base, &["me", "accounts"])?;
    let bearer = zeroize::Zeroizing::new(format!("Bearer {}", user_token.expose()));
    let request = http
        .client()
        .get(url)
        .query(&[("fields", "id,name,access_token,tasks"), ("limit", "100")])
        .header(reqwest::header::AUTHORIZATION, bearer.as_str());
    let answer = http.exchange("facebook-pages", request).await?;
    let body = answer.json().unwrap_or_default();
    if let Some(error) = body.get("error") {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let said = error
            .get("message")
            .and_then(Value::as_str)
            .map(super::super::http::excerpt)
            .unwrap_or_default()
            // Meta's messages do not echo the token, but nothing from outside is trusted to.
            .replace(user_token.expose(), "[token]");
        return match code {
            100 => Ok(Listed::NotAUserToken),
            190 => Err(PublishError::auth(format!(
                "Facebook rejected the token (error 190: {said}): get a new user token with the pages_manage_posts and pages_read_engagement permissions"
            ))),
            _ => Err(PublishError::permanent(format!(
                "Facebook would not list your Pages (error {code}: {said})"
            ))),
        };
    }
    if !answer.is_success() {
        return Err(super::super::http::classify(
            answer.status,
            format!(
                "Facebook answered HTTP {} listing your Pages",
                answer.status
            ),
            answer.retry_after(),
        ));
    }
    let pages = body
        .get("data")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|page| {
            let tasks: Vec<&str> = page
                .get("tasks")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Some(Page {
                id: page.get("id").and_then(Value::as_str)?.to_owned(),
                name: page
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                token: Secret::new(page.get("access_token").and_then(Value::as_str)?.to_owned()),
                // No tasks listed: let Facebook decide when posting.
                can_post: tasks.is_empty()
                    || tasks
                        .iter()
                        .any(|t| matches!(*t, "CREATE_CONTENT" | "MANAGE")),
            })
        })
        .collect();
    Ok(Listed::Pages(pages))
}
