//! Long listings: `list` and `search` show a page (50 posts) and say how many more there
//! are, `--limit N` and `--all` show more, and what they print is the listing as it always
//! was, in order, aligned, with the shortest unique ids.

mod common;

use std::fmt::Write as _;

use common::{Env, ids};
use serde_json::Value;

/// `scheduled` posts due a day apart from 2026-12-01, then `drafts` drafts, imported from
/// one CSV file.
fn many_posts(env: &Env, scheduled: usize, drafts: usize) {
    let mut csv = String::from("text,to,at\n");
    for i in 0..scheduled {
        let day = 1 + i % 28;
        let month = 12 + i / 28;
        let (year, month) = (2026 + (month - 1) / 12, (month - 1) % 12 + 1);
        let _ = writeln!(
            csv,
            "Launch note {i},masto,{year}-{month:02}-{day:02} {:02}:00",
            9 + i % 8
        );
    }
    for i in 0..drafts {
        let _ = writeln!(csv, "Draft idea {i},,");
    }
    let file = env.file("posts.csv", csv);
    env.ok(&["import", file.to_str().expect("utf-8 path")]);
}

/// The rows of a table on stdout (without its header).
fn rows(stdout: &str) -> Vec<&str> {
    stdout.lines().skip(1).collect()
}

#[test]
fn list_shows_a_page_and_says_how_many_more_there_are() {
    let env = Env::with_accounts();
    many_posts(&env, 55, 7);

    let page = env.ok(&["list"]);
    assert_eq!(rows(&page.stdout).len(), 50, "{}", page.stdout);
    assert!(page.stdout.starts_with("ID"), "{}", page.stdout);
    assert!(
        page.stderr.contains("12 more posts") && page.stderr.contains("--all"),
        "{}",
        page.stderr
    );

    let upcoming = env.ok(&["list", "--upcoming", "--limit", "5"]);
    assert_eq!(rows(&upcoming.stdout).len(), 5, "{}", upcoming.stdout);
    assert!(
        upcoming.stderr.contains("50 more posts"),
        "{}",
        upcoming.stderr
    );

    let all = env.ok(&["list", "--all"]);
    assert_eq!(rows(&all.stdout).len(), 62, "{}", all.stdout);
    assert!(!all.stderr.contains("more"), "{}", all.stderr);

    // Exactly a page: nothing more to say.
    let drafts = env.ok(&["list", "--drafts", "--limit", "7"]);
    assert_eq!(rows(&drafts.stdout).len(), 7);
    assert!(!drafts.stderr.contains("more"), "{}", drafts.stderr);

    let json = env.ok(&["--json", "list"]);
    assert_eq!(ids(&json.json()).len(), 50);
    assert!(json.stderr.contains("12 more posts"), "{}", json.stderr);
    assert_eq!(ids(&env.json(&["list", "--all"])).len(), 62);

    let bad = env.fails(&["list", "--limit", "0"], 2);
    assert!(bad.stderr.contains("--limit"), "{}", bad.stderr);
    env.fails(&["list", "--limit", "3", "--all"], 2);
}

#[test]
fn the_whole_listing_is_in_order_aligned_and_the_same_in_pages() {
    let env = Env::with_accounts();
    many_posts(&env, 40, 3);
    let all = env.json(&["list", "--all"]);
    let posts = all.as_array().expect("array");
    // Scheduled posts soonest first, then the drafts.
    let due: Vec<&str> = posts
        .iter()
        .take_while(|p| !p["due"].is_null())
        .map(|p| p["due"].as_str().expect("due"))
        .collect();
    assert_eq!(due.len(), 40);
    assert!(due.windows(2).all(|w| w[0] <= w[1]), "{due:?}");
    assert!(posts[40..].iter().all(|p| p["due"].is_null()));

    // Pages are the start of the whole listing.
    let first = env.json(&["list", "--limit", "10"]);
    assert_eq!(ids(&first), ids(&all)[..10]);

    // Every column starts at the same place on every row.
    let table = env.ok(&["list", "--all"]).stdout;
    let header = table.lines().next().expect("header");
    let starts: Vec<usize> = ["STATE", "WHEN", "TO", "TEXT"]
        .iter()
        .map(|h| header.find(h).expect("column"))
        .collect();
    for row in table.lines().skip(1) {
        for &start in &starts {
            let before = &row[..start];
            assert!(
                before.ends_with("  ") && !row[start..].starts_with(' '),
                "misaligned at {start}:\n{header}\n{row}"
            );
        }
    }
}

#[test]
fn search_counts_what_is_left_after_removals_and_edits() {
    let env = Env::with_accounts();
    many_posts(&env, 60, 0);
    let listed = env.json(&["search", "launch", "--all"]);
    let found = ids(&listed);
    assert_eq!(found.len(), 60);
    // Three removed, one edited away from the word, one edited back to it.
    for id in &found[..3] {
        env.ok(&["draft", "rm", id, "--yes"]);
    }
    env.ok(&["draft", "edit", &found[3], "A note about the weather"]);
    env.ok(&["draft", "edit", &found[4], "Another launch, rewritten"]);

    let page = env.ok(&["search", "launch"]);
    assert_eq!(rows(&page.stdout).len(), 50, "{}", page.stdout);
    assert!(page.stderr.contains("6 more posts"), "{}", page.stderr);
    let every = ids(&env.json(&["search", "launch", "--all"]));
    assert_eq!(every.len(), 56);
    assert!(every.iter().all(|id| !found[..4].contains(id)), "{every:?}");
    assert!(every.contains(&found[4]));
    // A page that leaves exactly one.
    let page = env.ok(&["search", "launch", "--limit", "55"]);
    assert!(page.stderr.contains("1 more post;"), "{}", page.stderr);
    assert!(env.ok(&["search", "weather"]).stdout.contains("weather"));
    let gone = env.ok(&["search", "launch", "note", "0"]);
    assert!(gone.stdout.trim().is_empty(), "{}", gone.stdout);
}

#[test]
fn search_pages_its_posts_and_shows_unique_short_ids() {
    let env = Env::with_accounts();
    many_posts(&env, 60, 0);
    let found = env.ok(&["search", "launch"]);
    assert_eq!(rows(&found.stdout).len(), 50, "{}", found.stdout);
    assert!(found.stderr.contains("10 more posts"), "{}", found.stderr);
    let every = env.ok(&["search", "launch", "--all"]);
    assert_eq!(rows(&every.stdout).len(), 60);

    // One hit: its short id is what `list` shows, and names it.
    let one = env.ok(&["search", "note", "17"]);
    let row = rows(&one.stdout);
    assert_eq!(row.len(), 1, "{}", one.stdout);
    let short = row[0].split_whitespace().next().expect("id");
    assert!(short.len() >= 8, "{short}");
    let listed = env.ok(&["list", "--all"]).stdout;
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(short) && l.contains("Launch note 17")),
        "{listed}"
    );
    let shown = env.json(&["draft", "show", short]);
    assert_eq!(shown["body"], "Launch note 17");
    let json: Value = env.json(&["search", "note", "17"]);
    assert_eq!(json.as_array().expect("array").len(), 1);
    assert_eq!(json[0]["kind"], "post");
}
