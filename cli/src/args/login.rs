//! The arguments of `postctl login` and `postctl logout`.

use clap::Args;

pub const LOGIN_HELP: &str = "\
Examples:
  postctl login https://posts.example.org --user alice
  printf '%s\\n' \"$PASSWORD\" | postctl login https://posts.example.org --user alice --password-stdin
  printf '%s\\n%s\\n' \"$PASSWORD\" 492039 | postctl login https://posts.example.org --user alice --password-stdin
  postctl login https://posts.example.org --user alice --workspace team

Signs in to a postctl-server (see its README section) with your password and, when the
server asks, the current code of your authenticator app. The session token is kept in
the OS keyring (or the 0600 secrets file where there is none), never in the database,
and this database is linked to the workspace: `postctl sync` then pushes its posts there
and pulls the other devices' changes. With --password-stdin the first line of standard
input is the password and the next line the TOTP code, if one is asked for.";

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's address, e.g. https://posts.example.org
    pub url: String,
    /// Your user name on the server [asked for on a terminal]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The workspace to link this database to [default: your only one, or the one named after you]
    #[arg(long, value_name = "NAME")]
    pub workspace: Option<String>,
    /// Read the password (and then the TOTP code, when asked) from standard input, one a line
    #[arg(long)]
    pub password_stdin: bool,
}
