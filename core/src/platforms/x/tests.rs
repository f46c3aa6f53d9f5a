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
