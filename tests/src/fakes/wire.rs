//! Reading requests and writing answers the way the networks' servers do: JSON,
//! urlencoded forms (with Rails' `key[]` arrays), multipart bodies, bearer tokens, and the
//! timestamps, ids and hashes that go into answers.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Sets each header to its value, replacing what is there; a value that is not valid
/// header text is left out.
pub(crate) fn set_headers(
    headers: &mut HeaderMap,
    pairs: impl IntoIterator<Item = (&'static str, String)>,
) {
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// Adds each header that is not there yet, so that a handler's own, tighter limit (e.g.
/// Bluesky's createSession) keeps its headers; a value that is not valid header text is
/// left out.
pub(crate) fn add_missing_headers(
    headers: &mut HeaderMap,
    pairs: impl IntoIterator<Item = (&'static str, String)>,
) {
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.entry(name).or_insert(value);
        }
    }
}

/// The media type of the request body, lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    header_str(headers, header::CONTENT_TYPE.as_str())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A header's value when it is present and valid text.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The whole `Authorization` header.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<String> {
    header_str(headers, header::AUTHORIZATION.as_str()).map(str::to_string)
}

/// The token of `Authorization: <scheme> <token>`, the scheme compared without case.
pub(crate) fn auth_token(headers: &HeaderMap, scheme: &str) -> Option<String> {
    let value = header_str(headers, header::AUTHORIZATION.as_str())?;
    let (given, token) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| token.trim().to_string())
}

/// Decodes an `application/x-www-form-urlencoded` body or query string into pairs.
pub(crate) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// Pairs as a JSON object, the way Rails reads them: `key[]` collects into an array under
/// `key`, repeated plain keys keep the last value.
pub(crate) fn pairs_to_object(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut object = Map::new();
    for (key, value) in pairs {
        if let Some(name) = key.strip_suffix("[]") {
            let slot = object
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = slot {
                items.push(Value::String(value));
            } else {
                *slot = Value::Array(vec![Value::String(value)]);
            }
        } else {
            object.insert(key, Value::String(value));
        }
    }
    object
}

/// Why a body could not be read as parameters.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body claims JSON but is not a JSON object.
    NotJson(String),
    /// A multipart body that does not parse.
    BadMultipart(String),
}

impl BodyError {
    pub(crate) fn message(&self) -> &str {
        match self {
            BodyError::NotJson(m) | BodyError::BadMultipart(m) => m,
        }
    }
}

/// The parameters of a form, JSON or empty body as one JSON object. Multipart bodies are
/// read with [`multipart`] by the endpoints that accept files.
pub(crate) fn body_params(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, BodyError> {
    let media_type = media_type(headers);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if media_type == "application/json" || media_type.ends_with("+json") {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err(BodyError::NotJson("the body is not a JSON object".into())),
            Err(e) => Err(BodyError::NotJson(e.to_string())),
        };
    }
    if media_type == "application/x-www-form-urlencoded" || media_type.is_empty() {
        return Ok(pairs_to_object(form_pairs(body)));
    }
    Err(BodyError::NotJson(format!(
        "unsupported content type {media_type:?}"
    )))
}

/// One part of a multipart body.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

impl Part {
    /// The part as text, for the non-file fields.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Every part of a `multipart/form-data` body, in order.
pub(crate) async fn multipart(headers: &HeaderMap, body: Bytes) -> Result<Vec<Part>, BodyError> {
    let content_type = header_str(headers, header::CONTENT_TYPE.as_str()).unwrap_or_default();
    let request = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .map_err(|e| BodyError::BadMultipart(e.to_string()))?;
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| BodyError::BadMultipart(e.body_text()))?;
    let mut parts = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(BodyError::BadMultipart(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let data = field
            .bytes()
            .await
            .map_err(|e| BodyError::BadMultipart(e.body_text()))?;
        parts.push(Part {
            name,
            file_name,
            content_type,
            data,
        });
    }
    Ok(parts)
}

/// The query string of a request as a map (last value wins).
pub(crate) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    form_pairs(query.unwrap_or_default().as_bytes())
        .into_iter()
        .collect()
}

/// A string parameter; numbers and booleans are accepted as their text, as the networks'
/// form handlers do.
pub(crate) fn param_str(params: &Map<String, Value>, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean parameter: JSON true/false, or the form words "true"/"1".
pub(crate) fn param_bool(params: &Map<String, Value>, key: &str) -> Option<bool> {
    match params.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(matches!(s.as_str(), "true" | "1" | "True" | "on")),
        Value::Number(n) => Some(n.as_i64() == Some(1)),
        _ => None,
    }
}

/// Milliseconds since the Unix epoch now.
pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Seconds since the Unix epoch of `time`, with fractions.
pub(crate) fn unix_secs_f64(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `time` as RFC 3339 UTC with milliseconds, e.g. 2026-11-20T10:00:00.000Z.
pub(crate) fn iso8601(time: SystemTime) -> String {
    let time: chrono::DateTime<chrono::Utc> = time.into();
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpadded base64url (RFC 4648 §5), as in JWTs and Matrix event ids.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = chunk.len() + 1;
        for i in 0..sextets {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// Unpadded lowercase base32 (RFC 4648), as in atproto CIDs.
pub(crate) fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// The media type that the first bytes of a file show, for the formats the networks
/// accept; None for anything else.
pub(crate) fn sniff_media_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else if data.len() >= 12 && &data[4..8] == b"ftyp" {
        if &data[8..12] == b"avif" {
            Some("image/avif")
        } else {
            Some("video/mp4")
        }
    } else {
        None
    }
}

/// Width and height of an image, when its header can be read.
pub(crate) fn image_size(data: &[u8]) -> Option<(u64, u64)> {
    imagesize::blob_size(data)
        .ok()
        .map(|size| (size.width as u64, size.height as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        assert_eq!(base32_lower(b"f"), "my");
        assert_eq!(base32_lower(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn rails_style_arrays_collect() {
        let object = pairs_to_object(form_pairs(
            b"status=hi+there&media_ids[]=1&media_ids%5B%5D=2&visibility=public",
        ));
        assert_eq!(object["status"], "hi there");
        assert_eq!(object["media_ids"], serde_json::json!(["1", "2"]));
    }

    #[test]
    fn iso8601_is_utc_with_millis() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(iso8601(t), "2023-11-14T22:13:20.123Z");
    }
}
