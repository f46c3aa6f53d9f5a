//! The browser sign-in of `accounts add --client-id` and `accounts reauth`: the user
//! approves postctl on the network's site, the network sends the browser back to a
//! loopback listener (or the user pastes the address it ended on), and the code is traded
//! for tokens. The protocol is `postctl_core::signin`; this is the talking to the user.

use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use postctl_core::network::{AccountFields, Network};
use postctl_core::platforms::{Http, signed_in_user};
use postctl_core::secrets::{Secret, read_secret};
use postctl_core::signin::{Client, Dialect, Loopback, SignInError, Tokens, redirect_uri};

use crate::args::SignInArgs;
use crate::exit::{CliError, CliResult};
use crate::output::note;

/// How long the listener waits for the browser.
const BROWSER_WAIT: Duration = Duration::from_secs(10 * 60);

/// How long a token request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the sign-in for `client_id` on `network` and returns the tokens. `api_base` is the
/// account's API address when it is not the network's own.
pub fn sign_in(
    network: Network,
    api_base: Option<&str>,
    client_id: &str,
    client_secret: Option<Secret>,
    args: &SignInArgs,
) -> CliResult<Tokens> {
    let Some(how) = postctl_core::platforms::sign_in(network) else {
        return Err(CliError::usage(format!(
            "postctl cannot sign in to {} in the browser yet: add the account with a token instead, e.g. `{}`",
            network.display_name(),
            network.example_add_command()
        )));
    };
    if client_id.trim().is_empty() {
        return Err(CliError::usage(format!(
            "--client-id is empty: copy the client ID (app ID) of your app from {}",
            how.portal
        )));
    }
    if matches!(how.dialect, Dialect::LongLived(_)) && client_secret.is_none() {
        return Err(SignInError::SecretNeeded {
            network: network.display_name(),
            portal: how.portal,
        }
        .into());
    }
    let client = Client::new(network, how, client_id, api_base)?;
    let loopback = if args.paste {
        None
    } else {
        match Loopback::bind(args.redirect_port) {
            Ok(loopback) => Some(loopback),
            Err(e) => {
                note(format!(
                    "{e}; paste the address instead (or free the port, or pick another with --redirect-port and register it)"
                ));
                None
            }
        }
    };
    let redirect = loopback
        .as_ref()
        .map_or_else(|| redirect_uri(args.redirect_port), Loopback::redirect_uri);
    let authorization = client.authorize(&redirect)?;
    note(format!(
        "The app's redirect URI must be registered as {redirect} on {} ({}).",
        how.portal, how.redirect_setting
    ));
    let opened = !args.no_browser && open_browser(&authorization.url);
    if opened {
        note("Opened the sign-in page in your browser; if it did not appear, open this address:");
    } else {
        note(format!(
            "Open this address in a browser and approve postctl for {}:",
            network.display_name()
        ));
    }
    note(format!("  {}", authorization.url));
    let came_back = match loopback {
        Some(loopback) => {
            note(format!(
                "Waiting for the browser to come back to {redirect} ..."
            ));
            loopback.wait(BROWSER_WAIT)?
        }
        None => paste(&redirect)?,
    };
    let code = authorization.code_from(&came_back)?;
    let http = Http::new(REQUEST_TIMEOUT).map_err(|e| CliError::failure(e.to_string()))?;
    let runtime = crate::engine::runtime()?;
    let tokens = runtime.block_on(client.exchange(&http, authorization, code, client_secret))?;
    Ok(tokens)
}

/// What a sign-in leaves to find out before the account is complete: the user id
/// Instagram and Threads post as (the one given, else the sign-in's answer's, else
/// `GET /me`'s), and Facebook's Page, whose own token replaces the user's (the user token
/// goes nowhere else). `base` is the account's checked API address.
pub fn identify(
    network: Network,
    base: Option<&str>,
    fields: &mut AccountFields,
    mut tokens: Tokens,
) -> CliResult<Tokens> {
    let user_id = tokens.user_id.take();
    match network {
        Network::Instagram | Network::Threads if fields.user_id.is_none() => {
            let id = match user_id {
                Some(id) => id,
                None => {
                    let base = base
                        .or_else(|| network.default_base_url())
                        .unwrap_or_default();
                    let http =
                        Http::new(REQUEST_TIMEOUT).map_err(|e| CliError::failure(e.to_string()))?;
                    crate::engine::runtime()?
                        .block_on(signed_in_user(&http, network, base, &tokens.access))
                        .map_err(|e| {
                            CliError::failure(format!(
                                "{e}; the account was not added (nothing was stored)"
                            ))
                        })?
                }
            };
            fields.user_id = Some(id);
        }
        Network::Facebook => {
            let user = std::mem::replace(&mut tokens.access, Secret::new(String::new()));
            tokens.access = crate::facebook::page_token(fields, base, user)?;
        }
        _ => {}
    }
    Ok(tokens)
}

/// The client secret from stdin, when `--client-secret-stdin` asks for it.
pub fn client_secret(args: &SignInArgs) -> CliResult<Option<Secret>> {
    if !args.client_secret_stdin {
        return Ok(None);
    }
    if args.paste {
        return Err(CliError::usage(
            "--client-secret-stdin and --paste both read standard input: leave out --paste, and postctl listens for the browser on the redirect address instead",
        ));
    }
    if std::io::stdin().is_terminal() {
        return Err(CliError::usage(
            "--client-secret-stdin reads the client secret from a pipe or file, e.g. `--client-secret-stdin < secret.txt`",
        ));
    }
    Ok(Some(read_secret(std::io::stdin().lock())?))
}

/// Reads the address the browser ended on from stdin.
fn paste(redirect: &str) -> CliResult<String> {
    note(format!(
        "After approving, the browser goes to an address starting with {redirect} (the page may not load). Paste that whole address here and press Enter:"
    ));
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::failure(format!("cannot read the pasted address: {e}")))?;
    if line.trim().is_empty() {
        return Err(SignInError::NotARedirect("nothing was pasted".into()).into());
    }
    Ok(line)
}

/// Tries the desktop's way to open `url`; false when there is none.
fn open_browser(url: &str) -> bool {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        // Not `cmd /C start`: cmd would split the address at its `&`s.
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
