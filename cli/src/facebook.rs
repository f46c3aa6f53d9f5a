//! `accounts add facebook`: the token given is a user's, so the Page is chosen from the
//! Pages that user can post to (`GET /me/accounts`), and that Page's own token is what the
//! account keeps. The user token is used for this one request and kept nowhere; a Page
//! token given directly with `--page-id` is kept as it is.

use std::time::Duration;

use postctl_core::network::{AccountFields, Network};
use postctl_core::platforms::facebook_pages::{Listed, list};
use postctl_core::platforms::{Http, PublishError};
use postctl_core::secrets::Secret;

use crate::exit::{CliError, CliResult, ExitCode};
use crate::output::note;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The Page token to keep for the account, given the token read from stdin; fills in
/// `fields.page_id` when the user has one Page and gave no `--page-id`. `base` is the
/// account's checked API address.
pub fn page_token(
    fields: &mut AccountFields,
    base: Option<&str>,
    given: Secret,
) -> CliResult<Secret> {
    let base = base
        .or_else(|| Network::Facebook.default_base_url())
        .unwrap_or_default();
    let http = Http::new(REQUEST_TIMEOUT).map_err(|e| CliError::failure(e.to_string()))?;
    let listed = crate::engine::runtime()?
        .block_on(list(&http, base.trim_end_matches('/'), &given))
        .map_err(|e| match e {
            PublishError::Auth { message, .. } => CliError {
                message,
                code: ExitCode::Auth,
            },
            other => CliError::failure(format!(
                "{other}; the account was not added (nothing was stored)"
            )),
        })?;
    let wanted = fields.page_id.as_deref().map(str::trim);
    let pages = match listed {
        Listed::NotAUserToken if wanted.is_some() => return Ok(given),
        Listed::NotAUserToken => {
            return Err(CliError::usage(
                "this token cannot list Pages, so it is not a Facebook user token: give a user token (with pages_manage_posts) to choose a Page from, or the Page access token itself with --page-id ID",
            ));
        }
        Listed::Pages(pages) => pages,
    };
    let listing = || {
        pages
            .iter()
            .map(|p| format!("  {}  {}", p.id, p.name))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let at = match (wanted, pages.len()) {
        (_, 0) => {
            return Err(CliError::usage(
                "this Facebook user has no Pages to post to (GET /me/accounts is empty): give the account a role on the Page, or sign in with the Page's admin, and grant pages_manage_posts",
            ));
        }
        (Some(id), _) => pages.iter().position(|p| p.id == id).ok_or_else(|| {
            CliError::usage(format!(
                "--page-id {id} is not among the Pages this user can post to:\n{}",
                listing()
            ))
        })?,
        (None, 1) => 0,
        (None, _) => {
            return Err(CliError::usage(format!(
                "this Facebook user has several Pages; choose one with --page-id ID:\n{}",
                listing()
            )));
        }
    };
    let page = pages.into_iter().nth(at).ok_or_else(|| {
        CliError::failure("the chosen Page went missing from the list; try again")
    })?;
    if !page.can_post {
        return Err(CliError::usage(format!(
            "this user cannot post to the Page {} ({}): it needs the CREATE_CONTENT or MANAGE task on it",
            page.name, page.id
        )));
    }
    note(format!(
        "posting to the Facebook Page {} ({}) with its Page token",
        page.name, page.id
    ));
    fields.page_id = Some(page.id);
    Ok(page.token)
}
