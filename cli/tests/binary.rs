//! The built `postctl` binary itself. Having an integration test here also makes
//! `cargo test --workspace` build the binary, which the end-to-end tests in tests/ run.

use std::process::Command;

fn postctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_postctl"))
        .args(args)
        .env_clear()
        .output()
        .expect("run the postctl binary")
}

#[test]
fn version_and_exit_codes_need_no_config_or_database() {
    let version = postctl(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("postctl {}", env!("CARGO_PKG_VERSION"))
    );
    let help = postctl(&["help", "exit-codes"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for code in [
        "0  success",
        "2  usage",
        "3  not published",
        "4  authentication",
    ] {
        assert!(text.contains(code), "{text}");
    }
}

#[test]
fn no_arguments_without_a_terminal_prints_help_and_exits_2() {
    let bare = postctl(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("Usage: postctl"));
}
