//! End-to-end tests of the content commands through the `postctl` binary: templates (add,
//! list, show, render, rm, variables and their precedence, missing variables), search over
//! templates, brand voices in config.toml, and lint's findings and exit codes.

mod common;

use common::Env;
use serde_json::Value;

/// Adds the `launch` template: a default body and a Bluesky variant, from files.
fn add_launch(env: &Env) {
    let body = env.file(
        "launch.md",
        "{{ name }} {{ version }} is live: {{ link }}\n",
    );
    let bsky = env.file("launch-bsky.md", "🦋 {{ name }} {{ version }}\n");
    env.ok(&[
        "template",
        "add",
        "launch",
        "--file",
        &body.display().to_string(),
        "--for",
        "bsky",
        "--file",
        &bsky.display().to_string(),
    ]);
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {list}"))
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn templates_add_list_show_render_and_remove() {
    let env = Env::new();
    add_launch(&env);

    let list = env.json(&["template", "list"]);
    assert_eq!(names(&list), ["launch", "release"], "{list}");
    assert_eq!(list[1]["builtin"], true, "the built-in release template");
    let text = env.ok(&["template", "list"]).stdout;
    assert!(
        text.contains("launch") && text.contains("bluesky"),
        "{text}"
    );
    assert!(text.contains("release (built in)"), "{text}");

    let shown = env.json(&["template", "show", "launch"]);
    assert_eq!(
        shown["body"],
        "{{ name }} {{ version }} is live: {{ link }}\n"
    );
    assert_eq!(
        shown["variants"]["bluesky"],
        "🦋 {{ name }} {{ version }}\n"
    );
    let text = env.ok(&["template", "show", "launch"]).stdout;
    assert!(text.contains("bluesky:\n🦋 {{ name }}"), "{text}");

    let vars = [
        "--var",
        "name=postctl",
        "--var",
        "version=1.2.0",
        "--var",
        "link=https://example.com/v1.2.0",
    ];
    let render = |extra: &[&str]| {
        let mut args = vec!["template", "render", "launch"];
        args.extend_from_slice(&vars);
        args.extend_from_slice(extra);
        env.ok(&args)
    };
    assert_eq!(
        render(&[]).stdout,
        "postctl 1.2.0 is live: https://example.com/v1.2.0\n"
    );
    assert_eq!(render(&["--for", "bluesky"]).stdout, "🦋 postctl 1.2.0\n");
    let masto = render(&["--for", "mastodon"]);
    assert_eq!(
        masto.stdout,
        "postctl 1.2.0 is live: https://example.com/v1.2.0\n"
    );
    assert!(
        masto.stderr.contains("no mastodon variant"),
        "{}",
        masto.stderr
    );
    let json = render(&["--for", "bsky", "--json"]).json();
    assert_eq!(json["text"], "🦋 postctl 1.2.0");
    assert_eq!(json["variant"], "bluesky");
    assert_eq!(json["network"], "bluesky");

    // Changing needs --force; a variant alone can be added then.
    let x = env.file("launch-x.md", "{{ name }} {{ version }}!");
    let run = env.fails(
        &[
            "template",
            "add",
            "launch",
            "--for",
            "x",
            "--file",
            &x.display().to_string(),
        ],
        2,
    );
    assert!(run.stderr.contains("add --force"), "{}", run.stderr);
    env.ok(&[
        "template",
        "add",
        "launch",
        "--force",
        "--for",
        "x",
        "--file",
        &x.display().to_string(),
    ]);
    let shown = env.json(&["template", "show", "launch"]);
    assert_eq!(
        shown["variants"].as_object().map(|v| v.len()),
        Some(2),
        "{shown}"
    );

    env.ok(&["template", "rm", "launch", "--for", "bluesky"]);
    assert_eq!(
        render(&["--for", "bluesky"]).stdout,
        "postctl 1.2.0 is live: https://example.com/v1.2.0\n"
    );
    env.ok(&["template", "rm", "launch"]);
    assert_eq!(names(&env.json(&["template", "list"])), ["release"]);
    let run = env.fails(&["template", "show", "launch"], 2);
    assert!(
        run.stderr.contains("postctl template list"),
        "{}",
        run.stderr
    );
    env.fails(&["template", "rm", "launch"], 2);
    let run = env.fails(&["template", "rm", "release"], 2);
    assert!(run.stderr.contains("built-in"), "{}", run.stderr);

    // Every change is in the oplog.
    assert_eq!(
        env.count("SELECT count(*) FROM oplog WHERE entity = 'template'"),
        4
    );
}

#[test]
fn a_missing_variable_exits_2_naming_it_and_how_to_give_it() {
    let env = Env::new();
    add_launch(&env);
    let run = env.fails(
        &["template", "render", "launch", "--var", "name=postctl"],
        2,
    );
    assert!(
        run.stderr.contains("`version`") && run.stderr.contains("`link`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--var version=VALUE"), "{}", run.stderr);
    assert!(run.stderr.contains("--vars-file"), "{}", run.stderr);

    let run = env.fails(&["template", "render", "release", "--var", "summary=x"], 2);
    assert!(run.stderr.contains("`version`"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("`name`"),
        "name is optional: {}",
        run.stderr
    );

    for (args, part) in [
        (
            &["template", "render", "launch", "--var", "version"][..],
            "is not NAME=VALUE",
        ),
        (
            &["template", "render", "launch", "--for", "myspace"][..],
            "is not a network",
        ),
        (
            &["template", "render", "nope"][..],
            "no template named \"nope\"",
        ),
        (
            &[
                "template",
                "render",
                "launch",
                "--vars-file",
                "missing.json",
            ][..],
            "cannot read",
        ),
    ] {
        let run = env.fails(args, 2);
        assert!(run.stderr.contains(part), "{args:?}: {}", run.stderr);
    }
    env.file("bad.json", "[1, 2]");
    let run = env.fails(
        &["template", "render", "launch", "--vars-file", "bad.json"],
        2,
    );
    assert!(run.stderr.contains("JSON object"), "{}", run.stderr);
    env.file("broken.json", "{\"version\": ");
    let run = env.fails(
        &["template", "render", "launch", "--vars-file", "broken.json"],
        2,
    );
    assert!(run.stderr.contains("not valid JSON"), "{}", run.stderr);
}

#[test]
fn variables_come_from_var_then_the_vars_file_then_the_environment() {
    let env = Env::new();
    env.ok(&[
        "template",
        "add",
        "ci",
        "{{ version }} {{ channel }} {{ env.REF_NAME }} {{ env.RUNNER }}",
    ]);
    env.file(
        "vars.json",
        r#"{"version": "from-file", "channel": "from-file", "env": {"REF_NAME": "from-file"}}"#,
    );
    let environment = [("REF_NAME", "from-env"), ("RUNNER", "linux")];
    let run = env.ok_full(
        &["template", "render", "ci", "--vars-file", "vars.json"],
        None,
        &environment,
    );
    assert_eq!(run.stdout, "from-file from-file from-file linux\n");
    let run = env.ok_full(
        &[
            "template",
            "render",
            "ci",
            "--vars-file",
            "vars.json",
            "--var",
            "version=from-var",
            "--var",
            "env.REF_NAME=from-var",
        ],
        None,
        &environment,
    );
    assert_eq!(run.stdout, "from-var from-file from-var linux\n");

    // Environment variables that look like secrets are never given to templates.
    env.ok(&["template", "add", "leak", "token: {{ env.GITHUB_TOKEN }}"]);
    let run = env.fails_full(
        &["template", "render", "leak"],
        None,
        &[("GITHUB_TOKEN", "ghp_very_secret")],
        2,
    );
    assert!(run.stderr.contains("looks like a secret"), "{}", run.stderr);
    assert!(!run.all_output().contains("ghp_very_secret"));
}

#[test]
fn bad_templates_are_refused_and_nothing_is_stored() {
    let env = Env::new();
    let run = env.fails(&["template", "add", "broken", "line one\n{% if x %}"], 2);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    let run = env.fails(&["template", "add", "Bad Name", "x"], 2);
    assert!(
        run.stderr.contains("not a valid template name"),
        "{}",
        run.stderr
    );
    let body = env.file("b.md", "x");
    let body = body.display().to_string();
    for (args, part) in [
        (
            vec!["template", "add", "t", "--file", &body, "--for", "bsky"],
            "--for bsky needs a --file",
        ),
        (
            vec!["template", "add", "t", "--file", &body, "--file", &body],
            "two --file",
        ),
        (
            vec!["template", "add", "t", "text", "--file", &body],
            "give the default body once",
        ),
        (
            vec![
                "template", "add", "t", "--file", &body, "--for", "myspace", "--file", &body,
            ],
            "not a network",
        ),
        (
            vec!["template", "add", "t", "--file", "nope.md"],
            "cannot read nope.md",
        ),
        (vec!["template", "add", "t"], "give the template's body"),
    ] {
        let run = env.fails(&args, 2);
        assert!(run.stderr.contains(part), "{args:?}: {}", run.stderr);
    }
    assert_eq!(env.count("SELECT count(*) FROM templates"), 0);

    // The body from stdin and from $EDITOR.
    env.ok_full(
        &["template", "add", "piped", "-"],
        Some(b"From {{ where }}\n"),
        &[],
    );
    let editor = env.script("editor.sh", "printf 'Edited {{ x }}' > \"$1\"\n");
    env.ok_full(
        &["template", "add", "edited", "-e"],
        None,
        &[("EDITOR", &editor.display().to_string())],
    );
    let list = env.json(&["template", "list"]);
    assert_eq!(names(&list), ["edited", "piped", "release"]);
    assert_eq!(
        env.json(&["template", "show", "edited"])["body"],
        "Edited {{ x }}"
    );
}

#[test]
fn search_finds_posts_and_templates() {
    let env = Env::new();
    let post = env.ok(&["draft", "new", "Launch day is here"]).id();
    add_launch(&env);
    env.ok(&["template", "add", "weekly", "Tip of the week"]);
    let found = env.json(&["search", "live"]);
    let items = found.as_array().expect("array");
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["kind"], "template");
    assert_eq!(items[0]["name"], "launch");

    let found = env.json(&["search", "launch"]);
    let kinds: Vec<(&str, &str)> = found
        .as_array()
        .expect("array")
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap_or(""),
                i["id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 2, "{found}");
    assert_eq!(kinds[0], ("post", post.as_str()));
    assert_eq!(kinds[1].0, "template");

    // A variant's network is searched too; a removed template is not.
    assert_eq!(names(&env.json(&["search", "bluesky"])), ["launch"]);
    let text = env.ok(&["search", "launch"]).stdout;
    assert!(
        text.contains("Launch day") && text.contains("TEMPLATE"),
        "{text}"
    );
    env.ok(&["template", "rm", "launch"]);
    let found = env.json(&["search", "live"]);
    assert_eq!(found, Value::Array(vec![]));
    let run = env.ok(&["search", "live"]);
    assert!(
        run.stderr.contains("no post or template matches"),
        "{}",
        run.stderr
    );
    assert_eq!(
        names(&env.json(&["search", "week"])),
        ["weekly"],
        "a prefix of a word in a template"
    );
}

#[test]
fn voices_are_kept_in_config_toml_with_its_comments() {
    let env = Env::new();
    let before = std::fs::read_to_string(env.config_path()).expect("config written by init");
    env.ok(&[
        "voice",
        "set",
        "brand",
        "--tone",
        "friendly, plain",
        "--avoid",
        "synergy",
        "--avoid",
        "circle back",
        "--hashtags",
        "#rust cli",
        "--hashtag-policy",
        "required",
        "--emoji",
        "max:1",
        "--language",
        "en",
    ]);
    let after = std::fs::read_to_string(env.config_path()).expect("config");
    assert!(
        after.starts_with(before.trim_end()),
        "the config's text and comments are kept:\n{after}"
    );
    assert!(after.contains("\n[voices.brand]\n"), "{after}");

    let shown = env.json(&["voice", "show", "brand"]);
    assert_eq!(shown["voice"]["tone"], "friendly, plain");
    assert_eq!(
        shown["voice"]["hashtags"],
        serde_json::json!(["#rust", "#cli"])
    );
    assert_eq!(shown["voice"]["emoji"], "max:1");
    assert_eq!(shown["voice"]["hashtag_policy"], "required");

    // Options not given keep their values.
    env.ok(&["voice", "set", "brand", "--audience", "developers"]);
    let shown = env.json(&["voice", "show", "brand"]);
    assert_eq!(shown["voice"]["audience"], "developers");
    assert_eq!(shown["voice"]["tone"], "friendly, plain");
    let text = env.ok(&["voice", "list"]).stdout;
    assert!(
        text.contains("brand") && text.contains("#rust #cli"),
        "{text}"
    );

    for (args, part) in [
        (
            &["voice", "set", "brand", "--emoji", "lots"][..],
            "--emoji \"lots\"",
        ),
        (&["voice", "set", "brand"][..], "nothing to set"),
        (
            &["voice", "set", "Brand", "--tone", "x"][..],
            "not a valid voice name",
        ),
        (
            &["voice", "set", "other", "--hashtag-policy", "required"][..],
            "needs the hashtags",
        ),
        (&["voice", "show", "other"][..], "the voices are brand"),
        (&["voice", "rm", "other"][..], "no voice named \"other\""),
    ] {
        let run = env.fails(args, 2);
        assert!(run.stderr.contains(part), "{args:?}: {}", run.stderr);
    }
    let unchanged = std::fs::read_to_string(env.config_path()).expect("config");
    env.ok(&["voice", "rm", "brand"]);
    let removed = std::fs::read_to_string(env.config_path()).expect("config");
    assert!(!removed.contains("\n[voices.brand]"), "{removed}");
    assert_eq!(removed, before, "the file is as `init` wrote it again");
    assert_ne!(unchanged, removed);
    assert_eq!(env.json(&["voice", "list"]), Value::Array(vec![]));
}

#[test]
fn lint_exit_codes_and_findings() {
    let env = Env::with_accounts();
    env.ok(&[
        "voice",
        "set",
        "brand",
        "--avoid",
        "synergy",
        "--hashtags",
        "#rust",
        "--hashtag-policy",
        "required",
        "--emoji",
        "none",
    ]);
    env.file("clean.md", "Shipped the release #rust\n");
    env.file("bad.md", "Pure synergy 🎉\nno tags here\n");
    let long = format!("{} #rust", "word ".repeat(70).trim_end());
    env.file("long.md", &long);

    let run = env.ok(&["lint", "--file", "clean.md", "--to", "masto,bsky"]);
    assert!(run.stderr.contains("no problems found"), "{}", run.stderr);
    assert!(
        run.stdout.contains("masto") && run.stdout.contains("fits"),
        "{}",
        run.stdout
    );

    // A thread on Bluesky is a warning: exit 0.
    let run = env.run(&["--json", "lint", "--file", "long.md", "--to", "masto,bsky"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 1);
    assert_eq!(report["findings"][0]["rule"], "length");
    assert_eq!(report["findings"][0]["account"], "bsky");
    assert_eq!(report["lengths"][1]["parts"], 2);

    // Voice errors: exit 1, the findings on stdout with their place.
    let run = env.run(&["lint", "--file", "bad.md"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1:6  \"synergy\""), "{}", run.stdout);
    assert!(run.stdout.contains("1:14  🎉"), "{}", run.stdout);
    assert!(run.stdout.contains("#rust is missing"), "{}", run.stdout);
    assert!(
        run.stderr.contains("error: 3 errors found"),
        "{}",
        run.stderr
    );
    let report = env.run(&["--json", "lint", "--file", "bad.md"]).json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(rules, ["avoid", "hashtag-required", "emoji"]);

    // A post by id: its own accounts are checked.
    let post = env
        .ok(&["draft", "new", "Synergy for everyone #rust", "--to", "bsky"])
        .id();
    let run = env.run(&["--json", "lint", &post[..8]]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["voice"], "brand");
    assert_eq!(report["lengths"][0]["account"], "bsky");

    // Usage errors: exit 2.
    env.fails(&["lint", "--file", "bad.md", "--voice", "nope"], 2);
    env.fails(&["lint", "--file", "missing.md"], 2);
    env.fails(&["lint", "--file", "clean.md", "--to", "nobody"], 2);
    env.fails(&["lint", "ffffffff"], 2);
    env.fails(&["lint"], 2);

    // Two voices: say which.
    env.ok(&["voice", "set", "blog", "--tone", "long-form"]);
    let run = env.fails(&["lint", "--file", "clean.md"], 2);
    assert!(run.stderr.contains("--voice NAME"), "{}", run.stderr);
    env.ok(&["lint", "--file", "bad.md", "--voice", "blog"]);
}

/// Texts from files and stdin are read up to 1 MiB: a wrong path (`/dev/zero`, a disk
/// image) is refused with the limit named instead of filling memory.
#[test]
fn texts_larger_than_the_limit_are_refused_with_the_limit_named() {
    let env = Env::with_accounts();
    let big = "word ".repeat(300_000);
    let file = env.file("big.md", &big);
    let file = file.to_string_lossy().into_owned();
    let runs = [
        env.fails(&["post", "--file", &file, "--to", "masto", "--dry-run"], 2),
        env.fails_full(
            &["post", "-", "--to", "masto", "--dry-run"],
            Some(big.as_bytes()),
            &[],
            2,
        ),
        env.fails(&["post", "--file", "/dev/zero", "--to", "masto"], 2),
        env.fails(&["lint", "--file", "/dev/zero", "--to", "masto"], 2),
        env.fails(&["template", "add", "huge", "--file", &file], 2),
    ];
    for run in runs {
        assert!(
            run.stderr.contains("1 MiB"),
            "{:?}: {}",
            run.args,
            run.stderr
        );
    }
    assert_eq!(env.count("SELECT count(*) FROM posts"), 0);
    let config = env.file("huge.toml", "# a comment\n".repeat(100_000));
    let config = config.to_string_lossy().into_owned();
    let run = env.run_full(&["list"], None, &[("POSTCTL_CONFIG", config.as_str())]);
    assert_ne!(run.code, 0, "{}", run.all_output());
    assert!(run.stderr.contains("1 MiB"), "{}", run.stderr);
}
