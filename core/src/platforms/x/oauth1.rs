//! OAuth 1.0a user context for X (`POST /2/tweets`, `DELETE
//! /2/tweets/{id}` and the media upload endpoints take `OAuth2UserToken` or
//! `UserToken`): the four keys of an app and its user, given at `accounts add x --oauth1`
//! as one line, and every request signed with HMAC-SHA1 by the `oauth1-request` crate
//! over its method, its address without the query, and the query's parameters (X's JSON
//! and multipart bodies are not part of the signature, RFC 5849 §3.4.1.3).

use std::fmt;

use oauth1_request::{HMAC_SHA1, ParameterList, Token};
use zeroize::Zeroizing;

use crate::platforms::PublishError;
use crate::secrets::Secret;

/// The keys, in the order `accounts add x --oauth1` reads them.
pub const ORDER: &str =
    "consumer key (API key), consumer secret (API key secret), access token, access token secret";

/// An app's and its user's OAuth 1.0a keys. Not printable.
pub struct Keys {
    consumer_key: Zeroizing<String>,
    consumer_secret: Zeroizing<String>,
    token: Zeroizing<String>,
    token_secret: Zeroizing<String>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// The four keys in `secret`, separated by white space; `None` unless there are
    /// exactly four.
    pub fn parse(secret: &Secret) -> Option<Keys> {
        let mut words = secret.expose().split_whitespace();
        let mut next = || words.next().map(|w| Zeroizing::new(w.to_string()));
        let keys = Keys {
            consumer_key: next()?,
            consumer_secret: next()?,
            token: next()?,
            token_secret: next()?,
        };
        next().is_none().then_some(keys)
    }

    /// Adds the `Authorization: OAuth …` header that signs `request`.
    pub fn sign(&self, request: &mut reqwest::Request) -> Result<(), PublishError> {
        let mut address = request.url().clone();
        let query: Vec<(String, String)> = address
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        address.set_query(None);
        address.set_fragment(None);
        let token = Token::from_parts(
            self.consumer_key.as_str(),
            self.consumer_secret.as_str(),
            self.token.as_str(),
            self.token_secret.as_str(),
        );
        let header = Zeroizing::new(oauth1_request::authorize(
            request.method().as_str(),
            address.as_str(),
            &ParameterList::new(query),
            &token,
            HMAC_SHA1,
        ));
        let value = reqwest::header::HeaderValue::from_str(&header).map_err(|_| {
            PublishError::permanent(
                "the OAuth 1.0a keys make an unusable Authorization header: add the account again with the keys as X shows them",
            )
        })?;
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_four_keys_are_keys() {
        for (text, ok) in [
            ("ck cs at ats", true),
            ("ck\tcs  at ats", true),
            ("ck cs at", false),
            ("ck cs at ats extra", false),
            ("", false),
        ] {
            let keys = Keys::parse(&Secret::new(text.into()));
            assert_eq!(keys.is_some(), ok, "{text:?}");
        }
        // Secrets long enough that a random nonce or signature never holds them by chance.
        let keys = Keys::parse(&Secret::new(
            "ck consumer-secret-never-sent at token-secret-never-sent".into(),
        ))
        .expect("keys");
        assert_eq!(format!("{keys:?}"), "Keys(***)");
    }

    #[test]
    fn a_request_is_signed_with_hmac_sha1_over_its_query() {
        // Secrets long enough that a random nonce or signature never holds them by chance.
        let keys = Keys::parse(&Secret::new(
            "ck consumer-secret-never-sent at token-secret-never-sent".into(),
        ))
        .expect("keys");
        let client = crate::tls::client_builder().build().expect("a client");
        let mut request = client
            .get("https://api.x.com/2/media/upload?command=STATUS&media_id=7")
            .build()
            .expect("a request");
        keys.sign(&mut request).expect("signed");
        let header = request.headers()[reqwest::header::AUTHORIZATION]
            .to_str()
            .expect("text")
            .to_string();
        for part in [
            "OAuth ",
            "oauth_consumer_key=\"ck\"",
            "oauth_token=\"at\"",
            "oauth_signature_method=\"HMAC-SHA1\"",
            "oauth_signature=",
            "oauth_nonce=",
            "oauth_timestamp=",
        ] {
            assert!(header.contains(part), "{part} in {header}");
        }
        assert!(
            !header.contains("consumer-secret") && !header.contains("token-secret"),
            "{header}"
        );
        // The query stays on the request.
        assert_eq!(request.url().query(), Some("command=STATUS&media_id=7"));
    }
}
