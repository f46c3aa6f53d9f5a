use super::*;

const SIGN_IN: SignIn = SignIn {
    authorize_url: "https://x.com/i/oauth2/authorize",
    token_url: "https://api.x.com/2/oauth2/token",
    scopes: &["tweet.write", "offline.access"],
    scope_separator: " ",
    pkce: true,
    client_auth: ClientAuth::Basic,
    lifetime_unsaid: None,
    refresh_ahead: Duration::from_secs(15 * 60),
    dialect: Dialect::Standard,
    portal: "https://developer.x.com",
    redirect_setting: "User authentication settings",
};

fn client(base: Option<&str>) -> Client {
    Client::new(Network::X, &SIGN_IN, " cid ", base).unwrap_or_else(|e| panic!("{e}"))
}

fn query(url: &str) -> Vec<(String, String)> {
    oauth2::url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{e}"))
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn the_endpoints_follow_an_api_that_is_elsewhere() {
    let cases = [
        (
            None,
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
        ),
        // The network's own API address is the network's own endpoints.
        (
            Some("https://api.x.com"),
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
        ),
        (
            Some("http://127.0.0.1:4000/"),
            "http://127.0.0.1:4000/i/oauth2/authorize",
            "http://127.0.0.1:4000/2/oauth2/token",
        ),
        (
            Some("http://127.0.0.1:4000/x"),
            "http://127.0.0.1:4000/x/i/oauth2/authorize",
            "http://127.0.0.1:4000/x/2/oauth2/token",
        ),
    ];
    for (base, authorize, token) in cases {
        let client = client(base);
        assert_eq!(client.authorize_url.as_str(), authorize, "{base:?}");
        assert_eq!(client.token_url.as_str(), token, "{base:?}");
    }
    assert_eq!(client(None).client_id(), "cid");
}

#[test]
fn the_authorize_url_carries_pkce_s256_the_state_and_the_scopes() {
    let authorization = client(None)
        .authorize("http://127.0.0.1:8750/callback")
        .unwrap_or_else(|e| panic!("{e}"));
    let params = query(&authorization.url);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("response_type"), Some("code"));
    assert_eq!(get("client_id"), Some("cid"));
    assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:8750/callback"));
    assert_eq!(get("scope"), Some("tweet.write offline.access"));
    assert_eq!(get("code_challenge_method"), Some("S256"));
    assert_eq!(get("state"), Some(authorization.state.secret().as_str()));
    // The challenge is SHA-256 of the verifier, base64url without padding.
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(
        authorization
            .verifier
            .as_ref()
            .expect("a verifier")
            .secret()
            .as_bytes(),
    );
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    assert_eq!(get("code_challenge"), Some(expected.as_str()));
    let again = client(None)
        .authorize("http://127.0.0.1:8750/callback")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(again.state.secret(), authorization.state.secret());
}

#[test]
fn only_this_sign_ins_answer_gives_a_code() {
    let authorization = client(None)
        .authorize("http://127.0.0.1:8750/callback")
        .unwrap_or_else(|e| panic!("{e}"));
    let state = authorization.state.secret().clone();
    let at = |query: &str| format!("http://127.0.0.1:8750/callback?{query}");
    let code = authorization
        .code_from(&at(&format!("state={state}&code=abc")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code.code, "abc");
    assert_eq!(format!("{code:?}"), "Code(***)");
    let refusals = [
        (at("state=other&code=abc"), "state differs"),
        (at("code=abc"), "no state"),
        (at(&format!("state={state}")), "no code"),
        (
            at("error=access_denied&error_description=The+user+said+no&state=x"),
            "not approved (access_denied: The user said no)",
        ),
        ("not a url".to_string(), "not an address"),
    ];
    for (answer, said) in refusals {
        let error = authorization
            .code_from(&answer)
            .expect_err("refused")
            .to_string();
        assert!(error.contains(said), "{answer}: {error}");
        assert!(!error.contains("abc"), "{error}");
    }
}
