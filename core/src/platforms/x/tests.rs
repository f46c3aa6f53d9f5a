use super::*;

#[test]
fn a_text_is_compared_as_x_shows_it() {
    let cases = [
        (
            "Shipped https://example.com/a?b=1",
            "Shipped https://t.co/abc",
            true,
        ),
        ("Café", "Cafe\u{301}", true),
        ("two  spaces", "two spaces", true),
        ("one", "two", false),
        ("see https://a.example", "see", false),
    ];
    for (ours, theirs, same) in cases {
        assert_eq!(
            comparable(ours) == comparable(theirs),
            same,
            "{ours} / {theirs}"
        );
    }
}

#[test]
fn only_digits_go_into_a_path() {
    assert!(post_id("1800000000000000001").is_ok());
    for bad in ["", "12/../34", "1?x=1", "abc"] {
        assert!(post_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_cap_that_is_used_up_says_when_it_resets() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let headers = |pairs: &[(&str, String)]| {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                reqwest::header::HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    };
    let capped = headers(&[
        ("x-user-limit-24hour-remaining", "5".into()),
        ("x-user-limit-24hour-reset", (now + 100).to_string()),
        ("x-app-limit-24hour-remaining", "0".into()),
        ("x-app-limit-24hour-reset", (now + 3600).to_string()),
    ]);
    let wait = cap_reset(&capped).expect("a reset");
    assert!((3590..=3600).contains(&wait.as_secs()), "{wait:?}");
    assert_eq!(cap_reset(&headers(&[])), None);
}

#[test]
fn a_post_is_counted_deleted_or_asked_again_as_x_answers() {
    let answer = json!({
        "data": [{"id": "1", "text": "a", "public_metrics": {
            "like_count": 2, "retweet_count": 1, "reply_count": 0, "quote_count": 0,
            "bookmark_count": 3, "impression_count": 40
        }}],
        "errors": [
            {"value": "2", "resource_id": "2", "title": "Not Found Error",
             "type": "https://api.twitter.com/2/problems/resource-not-found"},
            {"value": "3", "resource_id": "3", "title": "Authorization Error",
             "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}
        ]
    });
    let counted: crate::platforms::Counters = [
        ("likes", 2),
        ("reposts", 1),
        ("replies", 0),
        ("quotes", 0),
        ("bookmarks", 3),
        ("views", 40),
    ]
    .into_iter()
    .map(|(n, c)| (n.to_string(), c))
    .collect();
    assert_eq!(reading(&answer, "1"), PostReading::Counted(counted));
    assert_eq!(reading(&answer, "2"), PostReading::Deleted);
    // Neither counted nor reported gone (a protected or suspended account): asked again.
    assert_eq!(reading(&answer, "3"), PostReading::Pending);
    assert_eq!(reading(&answer, "4"), PostReading::Pending);
    assert_eq!(reading(&json!({}), "1"), PostReading::Pending);
}
