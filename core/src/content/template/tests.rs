use serde_json::json;

use super::*;

fn vars(assignments: &[&str]) -> Variables {
    let assignments: Vec<String> = assignments.iter().map(|a| a.to_string()).collect();
    Variables::layered(&assignments, None, Vec::new()).expect("variables")
}

#[test]
fn renders_with_variables_and_trims_the_end() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "v{{ version }} is out\n",
            &["version=1.2.0"],
            "v1.2.0 is out",
        ),
        ("{{ a }} and {{ b }}", &["a=x", "b=y"], "x and y"),
        (
            "{{ project.name | upper }}",
            &["project.name=postctl"],
            "POSTCTL",
        ),
        (
            "{% if beta is defined %}beta{% else %}stable{% endif %}",
            &[],
            "stable",
        ),
        ("{{ tag | default('none') }}", &[], "none"),
        ("{% for w in ['a', 'b'] %}{{ w }}{% endfor %}", &[], "ab"),
        ("=={{ x }}==", &["x=a=b"], "==a=b=="),
        ("{{ x }}", &["x="], ""),
    ];
    for (source, assignments, expected) in cases {
        let got = render("t", source, &vars(assignments));
        assert_eq!(got.as_deref(), Ok(*expected), "{source}");
    }
}

#[test]
fn a_missing_variable_is_an_error_that_names_it_and_how_to_give_it() {
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        // source, given, names reported, message parts
        (
            "{{ version }} is out",
            &[],
            &["version"],
            &["`version`", "--var version=VALUE", "--vars-file"],
        ),
        (
            "{{ name }} {{ version }}",
            &["name=x"],
            &["version"],
            &["uses `version`, which was not given"],
        ),
        (
            "{{ name }} {{ version }}",
            &[],
            &["name", "version"],
            &["`name`, `version`", "one --var per variable"],
        ),
        (
            "{{ release.date }}",
            &["release.version=1"],
            &["release.date"],
            &["`release.date`"],
        ),
        (
            "{% if draft %}x{% endif %}",
            &[],
            &["draft"],
            &["--var draft=VALUE"],
        ),
        (
            "{% for item in items %}{{ item }}{% endfor %}",
            &[],
            &["items"],
            &["`items`"],
        ),
        (
            "ref {{ env.GITHUB_REF_NAME }}",
            &[],
            &["env.GITHUB_REF_NAME"],
            &["set the environment variable GITHUB_REF_NAME"],
        ),
    ];
    for (source, given, names, parts) in cases {
        let err = render("note", source, &vars(given)).expect_err(source);
        match &err {
            TemplateError::Missing {
                template,
                names: got,
            } => {
                assert_eq!(template, "note");
                assert_eq!(got, names, "{source}");
            }
            other => panic!("{source}: expected Missing, got {other:?}"),
        }
        let message = err.to_string();
        for part in *parts {
            assert!(message.contains(part), "{source}: {message}");
        }
    }
}

#[test]
fn environment_variables_are_env_dot_name_and_secrets_are_never_exposed() {
    let environment = vec![
        ("GITHUB_REF_NAME".to_string(), "v1.2.0".to_string()),
        ("GITHUB_TOKEN".to_string(), "ghp_secret".to_string()),
        (
            "POSTCTL_ACCOUNT_MASTO_TOKEN".to_string(),
            "t0ken".to_string(),
        ),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "aws".to_string()),
        ("DEPLOY_KEY".to_string(), "key".to_string()),
        ("GIT_AUTHOR_NAME".to_string(), "Ann".to_string()),
    ];
    let vars = Variables::layered(&[], None, environment).expect("variables");
    assert_eq!(
        render(
            "t",
            "{{ env.GITHUB_REF_NAME }} by {{ env.GIT_AUTHOR_NAME }}",
            &vars
        )
        .as_deref(),
        Ok("v1.2.0 by Ann")
    );
    // Plain names never come from the environment.
    assert!(matches!(
        render("t", "{{ GITHUB_REF_NAME }}", &vars),
        Err(TemplateError::Missing { .. })
    ));
    for secret in [
        "GITHUB_TOKEN",
        "POSTCTL_ACCOUNT_MASTO_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DEPLOY_KEY",
    ] {
        let source = format!("{{{{ env.{secret} }}}}");
        let err = render("t", &source, &vars).expect_err(secret);
        let message = err.to_string();
        assert!(message.contains("looks like a secret"), "{message}");
        assert!(!message.contains("ghp_secret") && !message.contains("t0ken"));
        // Not even iterating the whole environment shows it.
        let all = render(
            "t",
            "{% for k, v in env|items %}{{ k }}={{ v }};{% endfor %}",
            &vars,
        )
        .expect("render all");
        assert!(!all.contains(secret), "{all}");
        assert!(all.contains("GITHUB_REF_NAME=v1.2.0"), "{all}");
    }
}

#[test]
fn layers_later_wins_var_over_file_over_environment() {
    let environment = vec![
        ("REF".to_string(), "from-env".to_string()),
        ("OTHER".to_string(), "env-other".to_string()),
    ];
    let file = json!({
        "version": "file-version",
        "name": "file-name",
        "env": {"REF": "from-file"},
        "release": {"date": "2026-11-20", "version": "file"}
    });
    let assignments = vec![
        "version=var-version".to_string(),
        "release.version=var".to_string(),
    ];
    let vars =
        Variables::layered(&assignments, Some(("vars.json", file)), environment).expect("vars");
    let got = render(
        "t",
        "{{ version }} {{ name }} {{ env.REF }} {{ env.OTHER }} {{ release.version }} {{ release.date }}",
        &vars,
    );
    assert_eq!(
        got.as_deref(),
        Ok("var-version file-name from-file env-other var 2026-11-20")
    );
    let over_env = Variables::layered(
        &["env.REF=from-var".to_string()],
        None,
        vec![("REF".to_string(), "from-env".to_string())],
    )
    .expect("vars");
    assert_eq!(
        render("t", "{{ env.REF }}", &over_env).as_deref(),
        Ok("from-var")
    );
}

#[test]
fn bad_assignments_and_vars_files_are_refused() {
    for given in ["version", "=x", "1abc=x", "a..b=x", "a-b=x", "a.=x", " =x"] {
        let err = Variables::layered(&[given.to_string()], None, Vec::new()).expect_err(given);
        assert_eq!(
            err,
            TemplateError::BadVar {
                given: given.into()
            }
        );
        assert!(err.to_string().contains("--var version=1.2.0"), "{err}");
    }
    for json in [json!([1, 2]), json!("text"), json!(3)] {
        let err = Variables::layered(&[], Some(("vars.json", json.clone())), Vec::new())
            .expect_err("not an object");
        assert!(err.to_string().starts_with("vars.json: "), "{err}");
        assert!(err.to_string().contains("JSON object"), "{err}");
    }
}

#[test]
fn syntax_errors_are_reported_when_the_template_is_made() {
    let err = Template::new("t", "line one\n{{ version ", []).expect_err("unclosed");
    match &err {
        TemplateError::Syntax { line, variant, .. } => {
            assert_eq!(*line, 2);
            assert_eq!(*variant, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("postctl template add t --force"),
        "{err}"
    );
    let err = Template::new(
        "t",
        "fine",
        [("bluesky".to_string(), "{% if %}".to_string())],
    )
    .expect_err("bad variant");
    assert!(err.to_string().contains("the bluesky variant"), "{err}");
}

#[test]
fn names_and_networks_are_checked() {
    for good in ["release", "a", "v1.2-notes", "weekly_tip"] {
        assert_eq!(validate_name(good), Ok(()), "{good}");
    }
    for bad in ["", "Release", "-x", "has space", "ü", &"x".repeat(65)] {
        assert!(validate_name(bad).is_err(), "{bad}");
    }
    let err = Template::new("t", "x", [("myspace".to_string(), "y".to_string())])
        .expect_err("unknown network");
    assert_eq!(
        err,
        TemplateError::BadNetwork {
            given: "myspace".into()
        }
    );
}

#[test]
fn each_network_gets_its_variant_or_the_default_body() {
    let template = Template::new(
        "launch",
        "{{ what }} is live: {{ url }}",
        [
            ("bsky".to_string(), "{{ what }} 🦋 {{ url }}".to_string()),
            ("twitter".to_string(), "{{ what }}! {{ url }}".to_string()),
        ],
    )
    .expect("template");
    assert_eq!(
        template.variants.keys().collect::<Vec<_>>(),
        ["bluesky", "x"],
        "variant keys are canonical network names"
    );
    let vars = vars(&["what=postctl 1.2", "url=https://example.com"]);
    let cases = [
        (None, None, "postctl 1.2 is live: https://example.com"),
        (
            Some(Network::Mastodon),
            None,
            "postctl 1.2 is live: https://example.com",
        ),
        (
            Some(Network::Bluesky),
            Some("bluesky"),
            "postctl 1.2 🦋 https://example.com",
        ),
        (
            Some(Network::X),
            Some("x"),
            "postctl 1.2! https://example.com",
        ),
    ];
    for (network, variant, text) in cases {
        let rendered = template.render(network, &vars).expect("render");
        assert_eq!(rendered.variant.as_deref(), variant, "{network:?}");
        assert_eq!(rendered.text, text, "{network:?}");
    }
}

#[test]
fn the_builtin_release_template_renders_with_and_without_name_and_link() {
    let template = builtin(RELEASE_TEMPLATE_NAME).expect("built in");
    assert!(template.builtin);
    let mut full = Variables::default();
    full.insert("name", json!("postctl"));
    full.insert("version", json!("1.2.0"));
    full.insert("summary", json!("- Templates\n- Lint"));
    full.insert("link", json!("https://github.com/o/r/releases/tag/v1.2.0"));
    assert_eq!(
        template.render(None, &full).expect("render").text,
        "postctl 1.2.0 is out 🎉\n\n- Templates\n- Lint\n\nhttps://github.com/o/r/releases/tag/v1.2.0"
    );
    let mut bare = full.clone();
    bare.insert("name", json!(null));
    bare.insert("link", json!(""));
    assert_eq!(
        template.render(None, &bare).expect("render").text,
        "1.2.0 is out 🎉\n\n- Templates\n- Lint"
    );
    let mut minimal = Variables::default();
    minimal.insert("version", json!("1.2.0"));
    minimal.insert("summary", json!(""));
    assert_eq!(
        template.render(None, &minimal).expect("render").text,
        "1.2.0 is out 🎉",
        "name and link may be missing, the summary empty"
    );
    minimal.insert("link", json!("https://x.y"));
    assert_eq!(
        template.render(None, &minimal).expect("render").text,
        "1.2.0 is out 🎉\n\nhttps://x.y"
    );
    let err = template
        .render(None, &Variables::default())
        .expect_err("version and summary are required");
    assert_eq!(
        err,
        TemplateError::Missing {
            template: "release".into(),
            names: vec!["version".into(), "summary".into()],
        }
    );
    assert!(builtin("nope").is_none());
}
