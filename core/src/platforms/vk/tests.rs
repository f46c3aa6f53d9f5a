use serde_json::{Value, json};

use super::*;
use crate::platforms::test_server::{Reply, Request, TestServer, class, multipart_parts};
use crate::text::Rendered;

const TOKEN: &str = "vk1.a.secret-vk-token";

fn adapter(base: &str, settings: Value) -> Vk {
    let account = Account {
        id: "a1".into(),
        name: "vk".into(),
        network: Network::Vk,
        base_url: Some(base.into()),
        handle: None,
        settings,
        secret_ref: "env:VK".into(),
        created: chrono::DateTime::UNIX_EPOCH,
    };
    let http = Http::new(std::time::Duration::from_secs(5)).expect("client");
    Vk::new(&account, Secret::new(TOKEN.into()), http).expect("adapter")
}

fn part(text: &str, media: Vec<MediaFile>, root: Option<&str>) -> Part {
    let root = root.map(|id| Published {
        id: id.into(),
        url: None,
        extra: json!({ "owner_id": -77 }),
    });
    Part {
        index: usize::from(root.is_some()),
        rendered: Rendered {
            text: text.into(),
            html: None,
            facets: vec![],
        },
        media,
        idempotency_key: "t1-0".into(),
        stage: Default::default(),
        reply_to: root.clone(),
        root,
    }
}

/// The form fields of a request, as the API reads them.
fn form(request: &Request) -> Vec<(String, String)> {
    let query = format!("http://form/?{}", request.body_text());
    reqwest::Url::parse(&query)
        .expect("a form body")
        .query_pairs()
        .into_owned()
        .collect()
}

fn field(request: &Request, name: &str) -> Option<String> {
    form(request)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn response(value: Value) -> Reply {
    Reply::json(200, json!({ "response": value }))
}

fn vk_error(code: i64, message: &str) -> Reply {
    Reply::json(
        200,
        json!({"error": {"error_code": code, "error_msg": message, "request_params": []}}),
    )
}

#[tokio::test]
async fn a_post_goes_to_the_wall_as_the_community_with_its_guid_and_link() {
    let server = TestServer::start(|_: &Request| response(json!({"post_id": 15}))).await;
    let vk = adapter(&server.url(), json!({"owner_id": -77, "from_group": true}));
    let published = vk
        .publish(&part(
            "Release 1.2 is out: https://example.org/notes and more",
            vec![],
            None,
        ))
        .await
        .expect("published");
    assert_eq!(published.id, "15");
    assert_eq!(published.url.as_deref(), Some("https://vk.com/wall-77_15"));

    let request = &server.requests()[0];
    assert_eq!(request.path, "/method/wall.post");
    assert_eq!(field(request, "owner_id").as_deref(), Some("-77"));
    assert_eq!(field(request, "from_group").as_deref(), Some("1"));
    assert_eq!(field(request, "guid").as_deref(), Some("postctl-t1-0"));
    assert_eq!(field(request, "v").as_deref(), Some(API_VERSION));
    assert_eq!(field(request, "access_token").as_deref(), Some(TOKEN));
    assert_eq!(
        field(request, "attachments").as_deref(),
        Some("https://example.org/notes")
    );
    assert!(!request.path.contains(TOKEN), "the token stays out of URLs");
}

#[tokio::test]
async fn a_user_wall_posts_without_from_group_and_follow_ups_are_comments() {
    let server = TestServer::start(|_: &Request| response(json!({"comment_id": 3}))).await;
    let vk = adapter(&server.url(), json!({"owner_id": 42}));
    let published = vk
        .publish(&part(
            "the rest, see https://example.org",
            vec![],
            Some("15"),
        ))
        .await
        .expect("published");
    assert_eq!(published.id, "3");
    assert_eq!(
        published.url.as_deref(),
        Some("https://vk.com/wall42_15?reply=3")
    );
    let request = &server.requests()[0];
    assert_eq!(request.path, "/method/wall.createComment");
    assert_eq!(field(request, "post_id").as_deref(), Some("15"));
    assert_eq!(field(request, "from_group"), None);
    assert_eq!(field(request, "attachments"), None);
}

#[tokio::test]
async fn a_photo_goes_through_the_upload_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chart.png");
    std::fs::write(&path, b"png bytes").expect("write");
    let file = MediaFile {
        path,
        file_name: "chart.png".into(),
        mime: "image/png".into(),
        size: 9,
        width: Some(1),
        height: Some(1),
        alt: Some("a chart".into()),
    };
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = base.clone();
    let server = TestServer::start(move |request: &Request| match request.path.as_str() {
        "/method/photos.getWallUploadServer" => {
            let base = seen.lock().expect("lock").clone();
            response(json!({"upload_url": format!("{base}/upload?act=do_add"), "album_id": -14, "user_id": 42}))
        }
        "/upload?act=do_add" => Reply::json(
            200,
            json!({"server": 123, "photo": "[{\"photo\":\"x\"}]", "hash": "abc"}),
        ),
        "/method/photos.saveWallPhoto" => response(json!([{"id": 9, "owner_id": -77}])),
        _ => response(json!({"post_id": 16})),
    })
    .await;
    *base.lock().expect("lock") = server.url();
    let vk = adapter(&server.url(), json!({"owner_id": -77}));
    vk.publish(&part("see", vec![file], None))
        .await
        .expect("published");
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/method/photos.getWallUploadServer",
            "/upload?act=do_add",
            "/method/photos.saveWallPhoto",
            "/method/wall.post",
        ]
    );
    assert_eq!(field(&requests[0], "group_id").as_deref(), Some("77"));
    let upload = multipart_parts(&requests[1]);
    assert_eq!(upload[0].name, "photo");
    assert_eq!(upload[0].text(), "png bytes");
    assert!(!String::from_utf8_lossy(&requests[1].body).contains(TOKEN));
    assert_eq!(field(&requests[2], "hash").as_deref(), Some("abc"));
    assert_eq!(field(&requests[2], "server").as_deref(), Some("123"));
    assert_eq!(field(&requests[2], "caption").as_deref(), Some("a chart"));
    assert_eq!(
        field(&requests[3], "attachments").as_deref(),
        Some("photo-77_9")
    );
}

#[tokio::test]
async fn errors_come_with_http_200_and_are_classified() {
    let cases = [
        (vk_error(6, "Too many requests per second"), "retry 1000ms"),
        (vk_error(9, "Flood control"), "retry 900000ms"),
        (vk_error(29, "Rate limit reached"), "retry 86400000ms"),
        (vk_error(10, "Internal server error"), "retry maybe sent"),
        (vk_error(1, "Unknown error occurred"), "retry maybe sent"),
        (vk_error(5, "User authorization failed"), "auth"),
        (vk_error(14, "Captcha needed"), "needs person"),
        (vk_error(17, "Validation required"), "needs person"),
        (vk_error(15, "Access denied"), "permanent"),
        (
            vk_error(
                100,
                "One of the parameters specified was missing or invalid",
            ),
            "permanent",
        ),
        (vk_error(214, "Access to adding post denied"), "permanent"),
        (vk_error(222, "Hyperlinks are forbidden"), "permanent"),
        (vk_error(999, "Something new"), "permanent"),
        (Reply::text(502, "bad gateway"), "retry maybe sent"),
        (
            Reply::json(200, json!({"response": {}})),
            "retry maybe sent",
        ),
        (Reply::hang_up(), "retry maybe sent"),
    ];
    for (reply, want) in cases {
        let server = TestServer::sequence(vec![reply]).await;
        let err = adapter(&server.url(), json!({"owner_id": -77}))
            .publish(&part("hi", vec![], None))
            .await
            .expect_err("an error");
        assert_eq!(class(&err), want, "{err}");
        assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
    }
}

#[tokio::test]
async fn captcha_and_validation_say_what_to_do() {
    for (code, says) in [(14, "solve the captcha"), (17, "sign in at vk.com")] {
        let server = TestServer::sequence(vec![vk_error(code, "needed")]).await;
        let err = adapter(&server.url(), json!({"owner_id": -77}))
            .publish(&part("hi", vec![], None))
            .await
            .expect_err("an error");
        assert!(err.to_string().contains(says), "{err}");
        assert!(err.to_string().contains("postctl retry"), "{err}");
        // A person must act on vk.com; the token is fine.
        assert!(matches!(err, PublishError::NeedsPerson { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn delete_removes_posts_and_comments_and_a_gone_one_counts_as_deleted() {
    let server = TestServer::sequence(vec![
        response(json!(1)),
        vk_error(
            100,
            "One of the parameters specified was missing or invalid",
        ),
        vk_error(15, "Access denied"),
    ])
    .await;
    let vk = adapter(&server.url(), json!({"owner_id": -77}));
    let comment = Published {
        id: "3".into(),
        url: None,
        extra: json!({"owner_id": -77, "comment_on": "15"}),
    };
    let post = Published {
        id: "15".into(),
        url: None,
        extra: json!({"owner_id": -77}),
    };
    vk.delete(&comment).await.expect("deleted");
    vk.delete(&post).await.expect("already gone");
    let err = vk.delete(&post).await.expect_err("refused");
    assert_eq!(class(&err), "permanent");
    let requests = server.requests();
    assert_eq!(requests[0].path, "/method/wall.deleteComment");
    assert_eq!(field(&requests[0], "comment_id").as_deref(), Some("3"));
    assert_eq!(requests[1].path, "/method/wall.delete");
    assert_eq!(field(&requests[1], "post_id").as_deref(), Some("15"));
}

#[tokio::test]
async fn verify_names_the_community_or_the_person() {
    let server = TestServer::start(|request: &Request| {
        if request.path.ends_with("groups.getById") {
            response(json!({"groups": [{"id": 77, "name": "Release notes", "screen_name": "relnotes"}], "profiles": []}))
        } else {
            response(json!([{"id": 42, "first_name": "Anna", "last_name": "K"}]))
        }
    })
    .await;
    let group = adapter(&server.url(), json!({"owner_id": -77}));
    assert_eq!(
        group.verify().await.expect("verified").identity,
        "community Release notes (vk.com/relnotes)"
    );
    let user = adapter(&server.url(), json!({"owner_id": 42}));
    assert_eq!(
        user.verify().await.expect("verified").identity,
        "Anna K (vk.com/id42)"
    );
}

#[tokio::test]
async fn videos_are_refused_before_anything_is_sent() {
    let server = TestServer::start(|_: &Request| response(json!({"post_id": 1}))).await;
    let file = MediaFile {
        path: "/nonexistent/clip.mp4".into(),
        file_name: "clip.mp4".into(),
        mime: "video/mp4".into(),
        size: 1,
        width: None,
        height: None,
        alt: None,
    };
    let err = adapter(&server.url(), json!({"owner_id": -77}))
        .publish(&part("x", vec![file], None))
        .await
        .expect_err("refused");
    assert_eq!(class(&err), "permanent");
    assert!(server.requests().is_empty());
}

#[test]
fn an_id_recorded_from_a_link_names_the_post_and_its_wall() {
    assert_eq!(numeric_id("15").ok(), Some(15));
    assert_eq!(numeric_id("wall-77_15").ok(), Some(15));
    assert_eq!(wall_of("wall-77_15"), Some(-77));
    assert_eq!(wall_of("15"), None);
    assert!(numeric_id("club77").is_err());
}
