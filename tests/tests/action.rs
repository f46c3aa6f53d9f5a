//! The GitHub Action: action.yml runs action/run.sh; these tests run that same script, as
//! the workflow would, against fake networks.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Env, postctl_bin};
use postctl_tests::fakes::{FakeMastodon, FakeReleases, FakeServer, FakeWebhook};
use serde_json::Value;

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2026-11-20\n### Added\n- Threads for long posts.\n- Media with alt text.\n\n## [1.1.0] - 2026-10-01\n### Fixed\n- Time zones.\n\n[1.2.0]: https://github.com/o/postctl/compare/v1.1.0...v1.2.0\n";

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    output_file: String,
}

/// Runs action/run.sh with the inputs a workflow would give it.
fn run_action(env: &Env, inputs: &[(&str, &str)]) -> Run {
    let changelog = env.file("CHANGELOG.md", CHANGELOG);
    let github_output = env.root().join("github_output");
    std::fs::write(&github_output, "").expect("GITHUB_OUTPUT");
    let mut command = Command::new("bash");
    command
        .arg(repo_file("action/run.sh"))
        .current_dir(env.root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("POSTCTL", postctl_bin())
        .env("GITHUB_OUTPUT", &github_output)
        .env("GITHUB_REPOSITORY", "o/postctl")
        .env("INPUT_CHANGELOG", &changelog);
    for (key, value) in env.vars() {
        command.env(key, value);
    }
    for (key, value) in inputs {
        command.env(key, value);
    }
    let output = command.output().expect("run action/run.sh");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output_file: std::fs::read_to_string(&github_output).unwrap_or_default(),
    }
}

fn ci_env(mastodon: &FakeMastodon, hook: &FakeWebhook) -> Env {
    Env::bare_with(&[
        (
            "POSTCTL_ACCOUNT_MASTO",
            &format!("mastodon:{}", mastodon.base_url()),
        ),
        ("POSTCTL_ACCOUNT_MASTO_TOKEN", FakeMastodon::TOKEN),
        (
            "POSTCTL_ACCOUNT_HOOK",
            &format!("webhook:{}", hook.url("/release")),
        ),
        ("POSTCTL_ACCOUNT_HOOK_TOKEN", "signing-key"),
    ])
}

#[test]
fn action_yml_runs_the_script_with_its_inputs() {
    let action = std::fs::read_to_string(repo_file("action.yml")).expect("action.yml");
    for needle in [
        "action/run.sh",
        "INPUT_TARGETS: ${{ inputs.targets }}",
        "INPUT_VERSION: ${{ inputs.version }}",
        "INPUT_DRY_RUN: ${{ inputs.dry-run }}",
        "INPUT_THREAD: ${{ inputs.thread }}",
        "value: ${{ steps.announce.outputs.result }}",
        "action/install.sh",
        "INPUT_INSTALL: ${{ inputs.install }}",
        "ACTION_REF: ${{ github.action_ref }}",
    ] {
        assert!(action.contains(needle), "action.yml lacks {needle:?}");
    }
}

#[test]
fn a_dry_run_shows_each_networks_announcement_and_sends_nothing() {
    let mastodon = FakeMastodon::start();
    let hook = FakeWebhook::start();
    let env = ci_env(&mastodon, &hook);
    let run = run_action(
        &env,
        &[
            ("INPUT_TARGETS", "masto,hook"),
            ("INPUT_DRY_RUN", "true"),
            ("INPUT_VERSION", "1.2.0"),
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let previews: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    let previews = previews.as_array().expect("an array");
    assert_eq!(previews.len(), 2);
    for preview in previews {
        let text = preview["parts"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("postctl 1.2.0"), "{text}");
        assert!(text.contains("Threads for long posts"), "{text}");
        assert!(
            !text.contains("Time zones"),
            "1.1.0's notes leaked in: {text}"
        );
    }
    assert!(
        run.output_file.starts_with("result<<POSTCTL_RESULT_EOF\n"),
        "{}",
        run.output_file
    );
    assert!(
        run.output_file.contains("\"network\": \"mastodon\""),
        "{}",
        run.output_file
    );
    assert!(mastodon.posts().is_empty(), "a dry run posted");
    assert!(hook.deliveries().is_empty(), "a dry run delivered");
}

#[test]
fn the_action_publishes_and_reports_each_url() {
    let mastodon = FakeMastodon::start();
    let hook = FakeWebhook::start();
    let env = ci_env(&mastodon, &hook);
    let run = run_action(&env, &[("INPUT_TARGETS", "masto,hook")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let result: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    let targets = result["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 2);
    assert!(
        targets.iter().all(|t| t["state"] == "published"),
        "{result}"
    );
    let posts = mastodon.posts();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0].text.contains("postctl 1.2.0 is out"),
        "{}",
        posts[0].text
    );
    assert_eq!(hook.deliveries().len(), 1);
    assert!(
        run.output_file.contains("\"state\": \"published\""),
        "{}",
        run.output_file
    );
}

#[test]
fn a_bad_thread_input_is_refused_before_anything_runs() {
    let mastodon = FakeMastodon::start();
    let hook = FakeWebhook::start();
    let env = ci_env(&mastodon, &hook);
    let run = run_action(
        &env,
        &[("INPUT_TARGETS", "masto"), ("INPUT_THREAD", "sideways")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("summary, auto, numbered or never"),
        "{}",
        run.stderr
    );
    assert!(mastodon.posts().is_empty());
}

/// A `${{ }}` expression inside a `run:` script is pasted into the shell before it runs, so
/// a quote in the release notes ends the string: the README's workflows pass every
/// expression through `env:` instead.
#[test]
fn readme_workflows_never_paste_expressions_into_scripts() {
    let readme = std::fs::read_to_string(repo_file("README.md")).expect("README.md");
    let mut in_yaml = false;
    // The column of the `run` key while inside its block scalar (`run: |`).
    let mut block_of: Option<usize> = None;
    let mut runs = 0;
    for (number, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_yaml = trimmed == "```yaml" || trimmed == "```yml";
            block_of = None;
            continue;
        }
        if !in_yaml || trimmed.is_empty() {
            continue;
        }
        let mut column = line.len() - trimmed.len();
        let key = match trimmed.strip_prefix("- ") {
            Some(rest) => {
                column += 2;
                rest
            }
            None => trimmed,
        };
        let script = match block_of {
            Some(run_column) if column > run_column => Some(trimmed),
            _ => {
                block_of = None;
                key.strip_prefix("run:").inspect(|script| {
                    runs += 1;
                    if script.trim_start().starts_with(['|', '>']) {
                        block_of = Some(column);
                    }
                })
            }
        };
        if let Some(script) = script {
            assert!(
                !script.contains("${{"),
                "README.md line {}: {line}",
                number + 1
            );
        }
    }
    assert!(runs > 0, "the README shows no workflow step with run:");
}

// ------------------------------------------------------------------ installing postctl

const LINUX_X64: &str = "x86_64-unknown-linux-gnu";

/// A release archive as the release workflow makes it: `postctl-<target>/postctl` (the real
/// binary) in a .tar.gz, and its `sha256sum` line.
fn release_archive(env: &Env, target: &str) -> (Vec<u8>, String) {
    let name = format!("postctl-{target}");
    let dir = env.root().join("build").join(&name);
    std::fs::create_dir_all(&dir).expect("archive dir");
    std::fs::copy(postctl_bin(), dir.join("postctl")).expect("copy postctl");
    let archive = env.root().join("build").join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(env.root().join("build"))
        .arg(&name)
        .status()
        .expect("run tar");
    assert!(status.success());
    let bytes = std::fs::read(&archive).expect("read archive");
    use sha2::Digest;
    let sum: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (bytes, format!("{sum}  {name}.tar.gz\n"))
}

struct Install {
    code: i32,
    stderr: String,
    /// Where the binary would be installed.
    binary: PathBuf,
    /// What a `cargo` on PATH was asked to do, one line per call.
    cargo_calls: String,
}

/// Runs action/install.sh as the workflow would, with a `cargo` on PATH that records what it
/// is asked and installs nothing (compiling postctl from source is not this test's subject).
fn run_install(env: &Env, releases: &FakeReleases, inputs: &[(&str, &str)]) -> Install {
    let root = env.root().join("installed");
    let shims = env.root().join("shims");
    std::fs::create_dir_all(&shims).expect("shims");
    let calls = env.root().join("cargo-calls");
    // The script's scratch space: it must be empty again when the script ends.
    let scratch = env.root().join("tmp");
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    env.file(
        "shims/cargo",
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", calls.display()),
    );
    let status = Command::new("chmod")
        .arg("+x")
        .arg(shims.join("cargo"))
        .status()
        .expect("chmod");
    assert!(status.success());
    let path = format!(
        "{}:{}",
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .arg(repo_file("action/install.sh"))
        .current_dir(env.root())
        .env_clear()
        .env("PATH", path)
        .env("POSTCTL_ROOT", &root)
        .env("POSTCTL_RELEASES", releases.base_url())
        .env("ACTION_PATH", repo_file(""))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("TMPDIR", &scratch);
    for (key, value) in inputs {
        command.env(key, value);
    }
    let output = command.output().expect("run action/install.sh");
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .expect("scratch dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(left.is_empty(), "install.sh left {left:?} behind");
    Install {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        binary: root.join("bin").join("postctl"),
        cargo_calls: std::fs::read_to_string(&calls).unwrap_or_default(),
    }
}

#[test]
fn the_installer_downloads_the_release_binary_for_the_runner_and_checks_its_sum() {
    let env = Env::bare_with(&[]);
    let releases = FakeReleases::start();
    let (archive, sum) = release_archive(&env, LINUX_X64);
    let file = format!("postctl-{LINUX_X64}.tar.gz");
    releases.publish("v9.9.9", &file, archive);
    releases.publish("v9.9.9", &format!("{file}.sha256"), sum.into_bytes());

    // The action used at a version tag downloads that release.
    let install = run_install(
        &env,
        &releases,
        &[("INPUT_INSTALL", "release"), ("ACTION_REF", "v9.9.9")],
    );
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(install.cargo_calls.is_empty(), "{}", install.cargo_calls);
    assert!(
        releases
            .requests()
            .contains(&format!("/download/v9.9.9/{file}")),
        "{:?}",
        releases.requests()
    );
    let version = Command::new(&install.binary)
        .arg("--version")
        .output()
        .expect("the installed postctl runs");
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("postctl "));

    // Used at a branch, it takes the latest release.
    std::fs::remove_file(&install.binary).expect("remove");
    let install = run_install(&env, &releases, &[("ACTION_REF", "main")]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(install.binary.exists());
    assert!(
        releases
            .requests()
            .contains(&format!("/latest/download/{file}")),
        "{:?}",
        releases.requests()
    );
}

#[test]
fn a_release_binary_whose_sum_does_not_match_is_not_installed() {
    let env = Env::bare_with(&[]);
    let releases = FakeReleases::start();
    let (archive, _) = release_archive(&env, LINUX_X64);
    let file = format!("postctl-{LINUX_X64}.tar.gz");
    releases.publish("v9.9.9", &file, archive);
    releases.publish(
        "v9.9.9",
        &format!("{file}.sha256"),
        format!("{}  {file}\n", "0".repeat(64)).into_bytes(),
    );
    let install = run_install(
        &env,
        &releases,
        &[("INPUT_INSTALL", "release"), ("ACTION_REF", "v9.9.9")],
    );
    assert_eq!(install.code, 1, "{}", install.stderr);
    assert!(install.stderr.contains("SHA-256"), "{}", install.stderr);
    assert!(
        !install.binary.exists(),
        "a binary that failed its check was installed"
    );
    assert!(install.cargo_calls.is_empty());

    // In auto mode the same failure falls back to compiling the action's own source.
    let install = run_install(&env, &releases, &[("ACTION_REF", "v9.9.9")]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(
        install.stderr.contains("compiling from source"),
        "{}",
        install.stderr
    );
    assert!(
        install.cargo_calls.starts_with("install --locked"),
        "{}",
        install.cargo_calls
    );
}

#[test]
fn a_runner_with_no_release_binary_compiles_from_source_and_bad_modes_are_refused() {
    let env = Env::bare_with(&[]);
    let releases = FakeReleases::start();
    let install = run_install(
        &env,
        &releases,
        &[("RUNNER_OS", "FreeBSD"), ("ACTION_REF", "v9.9.9")],
    );
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(install.stderr.contains("FreeBSD"), "{}", install.stderr);
    assert!(
        install.cargo_calls.contains("--path"),
        "{}",
        install.cargo_calls
    );
    assert!(
        releases.requests().is_empty(),
        "nothing fits, so nothing is downloaded"
    );

    let install = run_install(&env, &releases, &[("INPUT_INSTALL", "sometimes")]);
    assert_eq!(install.code, 2, "{}", install.stderr);
    assert!(
        install.stderr.contains("release, source or auto"),
        "{}",
        install.stderr
    );
}
