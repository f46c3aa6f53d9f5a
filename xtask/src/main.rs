//! Project chores.
//!
//! - `cargo xtask docs` regenerates man/ and completions/ from the clap definitions;
//!   `cargo xtask docs --check` fails when the committed files are stale.
//! - `cargo xtask bench` builds postctl in release mode and measures it on 10,000 and on
//!   100,000 posts (time and peak memory), then publishing against the fake networks;
//!   `cargo xtask bench cli` only the former, `cargo xtask bench publish` only the latter
//!   (`cargo xtask bench post` only its `postctl post` runs, to each network's fake).
//! - `cargo xtask bench drain` measures 1 and 3 `postctl-server` processes on one
//!   PostgreSQL draining 1,000 due targets against a 20 ms fake Mastodon
//!   (`--accounts 10,200 --processes 1,3 --rounds 3` are the defaults).
//! - `cargo xtask bench sync` measures sync with a local `postctl-server`: pushing and a
//!   new device's first sync of 10,000 posts, a sync with nothing to do, and a change
//!   carried between two `postctl daemon`s.
//! - `cargo xtask bench analytics [--posts N]` collects from the fake networks and answers
//!   from a simulated year of history (10,000 posts unless told).
//! - `cargo xtask bench-tui` runs the dashboard on 10,000 and on 100,000 posts in a pseudo-terminal:
//!   first frame (time and memory), redraws, CPU while idle.

mod bench;
mod bench_analytics;
mod bench_drain;
mod bench_publish;
mod bench_rss;
mod bench_sync;
mod bench_tui;
mod docs;
mod fixture;

use std::process::ExitCode;

/// The sizes the benchmarks measure unless told `--posts N`.
const SIZES: [usize; 2] = [10_000, 100_000];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["docs"] => docs::write(&docs::repo_root()),
        ["docs", "--check"] => docs::check(&docs::repo_root()),
        ["bench-tui"] => bench_tui::run(&docs::repo_root(), &SIZES),
        ["bench-tui", "--posts", n] => match n.parse() {
            Ok(n) => bench_tui::run(&docs::repo_root(), &[n]),
            Err(_) => Err(format!("--posts takes a number, got {n:?}")),
        },
        ["bench"] => bench::run(&docs::repo_root(), &SIZES, bench::Parts::All),
        ["bench", "analytics"] => analytics(10_000),
        ["bench", "analytics", "--posts", n] => match n.parse() {
            Ok(n) => analytics(n),
            Err(_) => Err(format!("--posts takes a number, got {n:?}")),
        },
        ["bench", "drain"] => bench_drain::run(&docs::repo_root(), &bench_drain::Shape::default()),
        ["bench", "drain", rest @ ..] => bench_drain::Shape::parse(rest)
            .and_then(|shape| bench_drain::run(&docs::repo_root(), &shape)),
        ["bench", "sync"] => bench_sync::run(&docs::repo_root()),
        ["bench", "post"] => bench::run(&docs::repo_root(), &[], bench::Parts::Post),
        ["bench", "publish"] => bench::run(&docs::repo_root(), &[], bench::Parts::Publish),
        ["bench", "cli"] => bench::run(&docs::repo_root(), &SIZES, bench::Parts::Cli),
        ["bench", "cli", "--posts", n] => match n.parse() {
            Ok(n) => bench::run(&docs::repo_root(), &[n], bench::Parts::Cli),
            Err(_) => Err(format!("--posts takes a number, got {n:?}")),
        },
        ["bench", "--posts", n] => match n.parse() {
            Ok(n) => bench::run(&docs::repo_root(), &[n], bench::Parts::All),
            Err(_) => Err(format!("--posts takes a number, got {n:?}")),
        },
        _ => Err(
            "usage: cargo xtask docs [--check] | cargo xtask bench [cli] [--posts N] | cargo xtask bench publish|post|drain|sync | cargo xtask bench analytics [--posts N] | cargo xtask bench-tui [--posts N]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask bench analytics`: `posts` posts collected, and a year of them answered from.
fn analytics(posts: usize) -> Result<(), String> {
    let root = docs::repo_root();
    let postctl = bench::postctl_binary(&root)?;
    bench_analytics::run(&root, &postctl, posts)
}
