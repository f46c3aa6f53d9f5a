//! Tests of the fake over real HTTP.

use super::super::raw_http::{PNG, Reply, call, post_json};
use super::super::{ChaosConfig, Failure, FakeServer};
use super::*;

fn login(fake: &FakeBluesky) -> String {
    let reply = post_json(
        &fake.base_url(),
        "/xrpc/com.atproto.server.createSession",
        &[],
        &json!({"identifier": FakeBluesky::HANDLE, "password": FakeBluesky::PASSWORD}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    format!(
        "Bearer {}",
        reply.json()["accessJwt"].as_str().unwrap_or_default()
    )
}

fn create(fake: &FakeBluesky, auth: &str, rkey: Option<&str>, record: Value) -> Reply {
    let mut input = json!({"repo": FakeBluesky::DID, "collection": POST, "record": record});
    if let Some(rkey) = rkey {
        input["rkey"] = json!(rkey);
    }
    post_json(
        &fake.base_url(),
        "/xrpc/com.atproto.repo.createRecord",
        &[("Authorization", auth)],
        &input,
    )
}

fn post(text: &str) -> Value {
    json!({"$type": POST, "text": text, "createdAt": "2026-11-20T10:00:00.000Z"})
}

#[test]
fn tids_are_valid_and_increasing() {
    let fake = FakeBluesky::start();
    let mut pds = lock(&fake.shared);
    let a = pds.next_tid();
    let b = pds.next_tid();
    assert!(is_tid(&a) && is_tid(&b), "{a} {b}");
    assert!(a < b);
    assert!(!is_tid("3jzfcijpj2z2aa"));
    assert!(!is_tid("zzzzzzzzzzzzz"), "the top bit must be 0");
}

#[test]
fn sessions_are_counted_and_wrong_passwords_refused() {
    let fake = FakeBluesky::start();
    let auth = login(&fake);
    assert_eq!(fake.session_creates(), 1);
    let wrong = post_json(
        &fake.base_url(),
        "/xrpc/com.atproto.server.createSession",
        &[],
        &json!({"identifier": FakeBluesky::HANDLE, "password": "nope"}),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"], "AuthenticationRequired");
    assert_eq!(fake.session_creates(), 2);

    let session = call(
        &fake.base_url(),
        "GET",
        "/xrpc/com.atproto.server.getSession",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(session.json()["did"], FakeBluesky::DID);
    assert!(session.header("RateLimit-Policy").is_some());
    assert!(session.header("RateLimit-Reset").is_some());

    fake.configure(|c| c.session_limit = RateLimit::new(2, Duration::from_secs(300)));
    let _ = login(&fake);
    let _ = login(&fake);
    let limited = post_json(
        &fake.base_url(),
        "/xrpc/com.atproto.server.createSession",
        &[],
        &json!({"identifier": FakeBluesky::HANDLE, "password": FakeBluesky::PASSWORD}),
    );
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"], "RateLimitExceeded");
    assert_eq!(limited.header("RateLimit-Remaining"), Some("0"));
}

#[test]
fn expired_tokens_need_a_refresh() {
    let fake = FakeBluesky::start();
    let login_reply = post_json(
        &fake.base_url(),
        "/xrpc/com.atproto.server.createSession",
        &[],
        &json!({"identifier": FakeBluesky::DID, "password": FakeBluesky::PASSWORD}),
    );
    let refresh = format!(
        "Bearer {}",
        login_reply.json()["refreshJwt"]
            .as_str()
            .unwrap_or_default()
    );
    let access = format!(
        "Bearer {}",
        login_reply.json()["accessJwt"].as_str().unwrap_or_default()
    );
    fake.expire_access_tokens();
    let expired = create(&fake, &access, None, post("hi"));
    assert_eq!(expired.status, 400);
    assert_eq!(expired.json()["error"], "ExpiredToken");
    let refreshed = call(
        &fake.base_url(),
        "POST",
        "/xrpc/com.atproto.server.refreshSession",
        &[("Authorization", &refresh)],
        b"",
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.text());
    let access = format!(
        "Bearer {}",
        refreshed.json()["accessJwt"].as_str().unwrap_or_default()
    );
    assert_eq!(create(&fake, &access, None, post("hi")).status, 200);
    assert_eq!(fake.session_refreshes(), 1);
    assert_eq!(fake.session_creates(), 1);
}

#[test]
fn a_repeated_rkey_never_duplicates_and_get_record_finds_it() {
    let fake = FakeBluesky::start();
    let auth = login(&fake);
    let rkey = "3kabcdefghij2";
    let first = create(&fake, &auth, Some(rkey), post("once"));
    assert_eq!(first.status, 200, "{}", first.text());
    let uri = format!("at://{}/{POST}/{rkey}", FakeBluesky::DID);
    assert_eq!(first.json()["uri"], uri);
    assert!(
        first.json()["cid"]
            .as_str()
            .is_some_and(|c| c.starts_with("bafyrei"))
    );

    let again = create(&fake, &auth, Some(rkey), post("once"));
    assert_eq!(again.status, 500);
    assert_eq!(again.json()["error"], "InternalServerError");
    fake.configure(|c| c.duplicate_rkey = DuplicateRkey::InvalidRequest);
    let again = create(&fake, &auth, Some(rkey), post("once"));
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "InvalidRequest");
    assert_eq!(fake.posts().len(), 1);
    assert_eq!(fake.posts()[0].idempotency_key.as_deref(), Some(rkey));

    let path = format!(
        "/xrpc/com.atproto.repo.getRecord?repo={}&collection={POST}&rkey={rkey}",
        FakeBluesky::HANDLE
    );
    let found = call(&fake.base_url(), "GET", &path, &[], b"");
    assert_eq!(found.status, 200);
    assert_eq!(found.json()["value"]["text"], "once");

    let bad_key = create(&fake, &auth, Some("not-a-tid"), post("x"));
    assert_eq!(bad_key.json()["error"], "InvalidRequest");

    let delete = json!({"repo": FakeBluesky::DID, "collection": POST, "rkey": rkey});
    for _ in 0..2 {
        let deleted = post_json(
            &fake.base_url(),
            "/xrpc/com.atproto.repo.deleteRecord",
            &[("Authorization", &auth)],
            &delete,
        );
        assert_eq!(deleted.status, 200, "deleting twice is a no-op success");
    }
    let gone = call(&fake.base_url(), "GET", &path, &[], b"");
    assert_eq!(gone.status, 400);
    assert_eq!(gone.json()["error"], "RecordNotFound");
    assert!(fake.posts()[0].deleted);
}

#[test]
fn the_lexicon_is_checked() {
    let fake = FakeBluesky::start();
    let auth = login(&fake);
    let long = create(&fake, &auth, None, post(&"👍🏽".repeat(301)));
    assert_eq!(long.status, 400);
    assert_eq!(long.json()["error"], "InvalidRequest");
    assert_eq!(
        long.json()["message"],
        "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    );
    assert_eq!(
        create(&fake, &auth, None, post(&"a".repeat(300))).status,
        200
    );
    let mut no_cid = post("reply");
    no_cid["reply"] =
        json!({"root": {"uri": "at://x/y/z", "cid": "bafy"}, "parent": {"uri": "at://x/y/z"}});
    assert_eq!(create(&fake, &auth, None, no_cid).status, 400);
    let wrong_type =
        json!({"$type": "app.bsky.feed.like", "text": "x", "createdAt": "2026-11-20T10:00:00Z"});
    assert_eq!(create(&fake, &auth, None, wrong_type).status, 400);
}

#[test]
fn blobs_embed_with_alt_text_and_threads_are_recorded() {
    let fake = FakeBluesky::start();
    let auth = login(&fake);
    let uploaded = call(
        &fake.base_url(),
        "POST",
        "/xrpc/com.atproto.repo.uploadBlob",
        &[("Authorization", &auth), ("Content-Type", "image/png")],
        PNG,
    );
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let blob = uploaded.json()["blob"].clone();
    assert_eq!(blob["size"], PNG.len());
    let mut record = post("chart");
    record["embed"] = json!({"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "weekly downloads"}]});
    let root = create(&fake, &auth, None, record);
    assert_eq!(root.status, 200, "{}", root.text());
    let strong_ref = json!({"uri": root.json()["uri"], "cid": root.json()["cid"]});
    let mut reply = post("part two");
    reply["reply"] = json!({"root": strong_ref, "parent": strong_ref});
    assert_eq!(create(&fake, &auth, None, reply).status, 200);

    let posts = fake.posts();
    assert_eq!(posts[0].media[0].alt.as_deref(), Some("weekly downloads"));
    assert_eq!(posts[0].media[0].mime, "image/png");
    assert_eq!(posts[1].reply_to.as_deref(), root.json()["uri"].as_str());

    let mut unknown = post("x");
    unknown["embed"] = json!({"$type": "app.bsky.embed.images", "images": [{"image": {"$type": "blob", "ref": {"$link": "bafkreinope"}, "mimeType": "image/png", "size": 1}, "alt": ""}]});
    assert_eq!(
        create(&fake, &auth, None, unknown).json()["error"],
        "BlobNotFound"
    );

    let handle = call(
        &fake.base_url(),
        "GET",
        "/xrpc/com.atproto.identity.resolveHandle?handle=alice.example.org",
        &[],
        b"",
    );
    assert_eq!(handle.json()["did"], "did:plc:alicealicealicealice2345");
}

#[test]
fn chaos_answers_in_xrpc_words() {
    let fake = FakeBluesky::start();
    fake.chaos()
        .set(ChaosConfig::failing(1.0, &[Failure::RateLimited], 3));
    let limited = call(
        &fake.base_url(),
        "GET",
        "/xrpc/com.atproto.identity.resolveHandle?handle=me.bsky.social",
        &[],
        b"",
    );
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"], "RateLimitExceeded");
    assert_eq!(limited.header("RateLimit-Remaining"), Some("0"));
    let reset: u64 = limited
        .header("RateLimit-Reset")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    assert!(reset >= wire::unix_millis() / 1000 && reset <= wire::unix_millis() / 1000 + 2);
    assert_eq!(fake.chaos().counts().rate_limited, 1);
}
