//! OAuth 1.0a request signatures (RFC 5849 §3.4, HMAC-SHA1), recomputed the way X's
//! servers check them (X accepts OAuth 1.0a user context on posting and
//! media endpoints): the signature base string is the method, the base URI (scheme, host
//! with a non-default port, path) and the normalised parameters (the query's and the
//! `Authorization: OAuth` header's, `oauth_signature` left out; a form body's too, which
//! X's JSON and multipart endpoints never have), each percent-encoded as RFC 3986's
//! unreserved set allows; the key is the consumer secret and the token secret, encoded,
//! joined by `&`.

use std::collections::HashMap;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The four keys of an app and a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuth1Keys {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
}

/// Why a signed request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NotOAuth,
    Malformed,
    UnknownKeys,
    WrongMethod,
    StaleTimestamp,
    ReusedNonce,
    BadSignature,
}

/// Checks `authorization` (an `OAuth …` header) on `method` `base_uri` with `query`
/// (raw, undecoded) against `keys`; `now` in Unix seconds. Returns the nonce used.
pub fn verify(
    keys: &OAuth1Keys,
    authorization: &str,
    method: &str,
    base_uri: &str,
    query: Option<&str>,
    now: u64,
) -> Result<String, Refusal> {
    let header = authorization
        .strip_prefix("OAuth ")
        .ok_or(Refusal::NotOAuth)?;
    let mut oauth: HashMap<String, String> = HashMap::new();
    for item in header.split(',') {
        let (name, value) = item.trim().split_once('=').ok_or(Refusal::Malformed)?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(Refusal::Malformed)?;
        oauth.insert(decode(name), decode(value));
    }
    let get = |name: &str| oauth.get(name).cloned().unwrap_or_default();
    if get("oauth_consumer_key") != keys.consumer_key || get("oauth_token") != keys.access_token {
        return Err(Refusal::UnknownKeys);
    }
    if get("oauth_signature_method") != "HMAC-SHA1"
        || oauth.get("oauth_version").is_some_and(|v| v != "1.0")
    {
        return Err(Refusal::WrongMethod);
    }
    let stamp: u64 = get("oauth_timestamp")
        .parse()
        .map_err(|_| Refusal::Malformed)?;
    if stamp.abs_diff(now) > 300 {
        return Err(Refusal::StaleTimestamp);
    }
    let nonce = get("oauth_nonce");
    if nonce.is_empty() {
        return Err(Refusal::Malformed);
    }
    let mut params: Vec<(String, String)> = oauth
        .iter()
        .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.push((encode(&decode_form(k)), encode(&decode_form(v))));
    }
    params.sort();
    let normalised = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalised)
    );
    let key = format!(
        "{}&{}",
        encode(&keys.consumer_secret),
        encode(&keys.access_token_secret)
    );
    let mut mac =
        <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes()).map_err(|_| Refusal::Malformed)?;
    mac.update(base.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if expected != get("oauth_signature") {
        return Err(Refusal::BadSignature);
    }
    Ok(nonce)
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decoding.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query component's decoding (`+` is a space).
fn decode_form(text: &str) -> String {
    decode(&text.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 §3.4.1.1's example keys, signed as the RFC's §1.2 walkthrough does.
    #[test]
    fn the_rfc_example_signature_verifies() {
        let keys = OAuth1Keys {
            consumer_key: "dpf43f3p2l4k3l03".into(),
            consumer_secret: "kd94hf93k423kf44".into(),
            access_token: "nnch734d00sl2jdk".into(),
            access_token_secret: "pfkkdhi9sl3r4s00".into(),
        };
        let header = r#"OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1191242096", oauth_nonce="kllo9940pd9333jh", oauth_version="1.0", oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D""#;
        let got = verify(
            &keys,
            header,
            "GET",
            "http://photos.example.net/photos",
            Some("file=vacation.jpg&size=original"),
            1_191_242_096,
        );
        assert_eq!(got, Ok("kllo9940pd9333jh".to_string()));
        let tampered = verify(
            &keys,
            header,
            "GET",
            "http://photos.example.net/photos",
            Some("file=vacation.jpg&size=large"),
            1_191_242_096,
        );
        assert_eq!(tampered, Err(Refusal::BadSignature));
    }
}
