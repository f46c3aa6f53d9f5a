//! Strategies for fuzzing how adapters read error answers (proptest): bodies in the shape
//! of the networks' error JSON with any numbers and texts in it, or any bytes, and
//! rate-limit headers with any values.

use proptest::prelude::*;
use serde_json::{Value, json};

/// Bodies a server might answer with: the network's JSON with any numbers and
/// texts in it, or any bytes.
pub(crate) fn body() -> impl Strategy<Value = Vec<u8>> {
    let number = prop_oneof![
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        "[ -~]{0,20}".prop_map(Value::from),
    ];
    prop_oneof![
        (number, "[ -~]{0,60}", any::<u16>()).prop_map(|(n, text, code)| {
            serde_json::to_vec(&json!({
                "ok": false,
                "error_code": code,
                "description": text,
                "message": text,
                "code": code,
                "retry_after": n,
                "parameters": {"retry_after": n},
            }))
            .unwrap_or_default()
        }),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

pub(crate) fn headers() -> impl Strategy<Value = reqwest::header::HeaderMap> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "retry-after",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
                "x-ratelimit-reset-after",
            ]),
            prop_oneof![
                Just("inf".to_string()),
                Just("1e19".to_string()),
                Just("0".to_string()),
                any::<f64>().prop_map(|f| f.to_string()),
                "[ -~]{0,20}",
            ],
        ),
        0..4,
    )
    .prop_map(|pairs| {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
                map.insert(name, value);
            }
        }
        map
    })
}
