//! An S3-compatible object store with path-style URLs (`/{bucket}/{key}`): `PUT`, `GET`,
//! `HEAD` and `DELETE` of objects, each authorised by a presigned URL (AWS Signature Version 4 in
//! the query: `X-Amz-Algorithm=AWS4-HMAC-SHA256`, `X-Amz-Credential=KEY/DATE/REGION/s3/
//! aws4_request`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`).
//!
//! The signature is recomputed from the one secret key the fake knows, as AWS documents
//! it for query-string authentication (canonical request with `UNSIGNED-PAYLOAD`, string
//! to sign, the HMAC-SHA256 key chain), and a URL past `X-Amz-Date + X-Amz-Expires` is
//! refused: 403 with S3's XML error (`SignatureDoesNotMatch`, `AccessDenied`,
//! `AuthorizationQueryParametersError`), 404 `NoSuchKey` for an object not there.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::server::{BoundPort, RunningServer};
use super::{lock, wire};

pub struct FakeS3 {
    server: RunningServer,
    shared: Arc<Mutex<Store>>,
}

/// One request the store answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Request {
    pub method: String,
    pub key: String,
    pub status: u16,
    /// `X-Amz-Expires` of the URL, in seconds.
    pub expires: Option<u64>,
}

struct Store {
    bucket: String,
    region: String,
    access_key: String,
    secret_key: String,
    objects: BTreeMap<String, (String, Vec<u8>)>,
    log: Vec<S3Request>,
}

impl FakeS3 {
    pub const BUCKET: &'static str = "postctl-media";
    pub const REGION: &'static str = "eu-test-1";
    pub const ACCESS_KEY: &'static str = "AKIAFAKEPOSTCTL";
    pub const SECRET_KEY: &'static str = "fake/secret+KEY0123456789abcdefghijklmno";

    pub fn start() -> FakeS3 {
        let port = BoundPort::bind();
        let shared = Arc::new(Mutex::new(Store {
            bucket: Self::BUCKET.into(),
            region: Self::REGION.into(),
            access_key: Self::ACCESS_KEY.into(),
            secret_key: Self::SECRET_KEY.into(),
            objects: BTreeMap::new(),
            log: Vec::new(),
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        FakeS3 {
            server: port.serve("s3", router),
            shared,
        }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// The keys of the objects held now.
    pub fn objects(&self) -> Vec<String> {
        lock(&self.shared).objects.keys().cloned().collect()
    }

    /// Every request, in order.
    pub fn log(&self) -> Vec<S3Request> {
        lock(&self.shared).log.clone()
    }
}

fn xml_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [("content-type", "application/xml")], body).into_response()
}

async fn handle(State(shared): State<Arc<Mutex<Store>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let mut store = lock(&shared);
    let key = path
        .strip_prefix(&format!("/{}/", store.bucket))
        .map(str::to_owned);
    let expires = wire::query_map(Some(&query))
        .get("X-Amz-Expires")
        .and_then(|e| e.parse().ok());
    let answer = match key {
        None => xml_error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        ),
        Some(key) => match store.authorise(&parts.method, &path, &query, &parts.headers) {
            Err(refusal) => refusal,
            Ok(()) => store.act(&parts.method, &key, &parts.headers, body.to_vec()),
        },
    };
    let key = path
        .rsplit_once(&format!("{}/", store.bucket))
        .map_or(path.clone(), |(_, k)| k.to_owned());
    store.log.push(S3Request {
        method: parts.method.to_string(),
        key,
        status: answer.status().as_u16(),
        expires,
    });
    answer
}

impl Store {
    fn act(&mut self, method: &Method, key: &str, headers: &HeaderMap, body: Vec<u8>) -> Response {
        match *method {
            Method::PUT => {
                let mime = wire::header_str(headers, "content-type")
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                self.objects.insert(key.to_owned(), (mime, body));
                (StatusCode::OK, [("etag", "\"fake\"")]).into_response()
            }
            Method::GET => match self.objects.get(key) {
                Some((mime, data)) => (
                    StatusCode::OK,
                    [("content-type", mime.clone())],
                    data.clone(),
                )
                    .into_response(),
                None => xml_error(
                    StatusCode::NOT_FOUND,
                    "NoSuchKey",
                    "The specified key does not exist.",
                ),
            },
            // S3 answers HEAD with the object's headers and no body; 404 without one.
            Method::HEAD => match self.objects.get(key) {
                Some((mime, data)) => (
                    StatusCode::OK,
                    [
                        ("content-type", mime.clone()),
                        ("content-length", data.len().to_string()),
                    ],
                )
                    .into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            },
            Method::DELETE => {
                self.objects.remove(key);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => xml_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ),
        }
    }

    /// Checks a presigned URL's SigV4 signature and expiry.
    fn authorise(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> Result<(), Response> {
        let denied = |code: &str, message: &str| xml_error(StatusCode::FORBIDDEN, code, message);
        let pairs = wire::form_pairs(query.as_bytes());
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let (
            Some(algorithm),
            Some(credential),
            Some(date),
            Some(expires),
            Some(signed),
            Some(signature),
        ) = (
            get("X-Amz-Algorithm"),
            get("X-Amz-Credential"),
            get("X-Amz-Date"),
            get("X-Amz-Expires"),
            get("X-Amz-SignedHeaders"),
            get("X-Amz-Signature"),
        )
        else {
            return Err(denied(
                "AccessDenied",
                "Query-string authentication requires the X-Amz-* parameters",
            ));
        };
        if algorithm != "AWS4-HMAC-SHA256" {
            return Err(denied(
                "AuthorizationQueryParametersError",
                "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
            ));
        }
        let scope: Vec<&str> = credential.split('/').collect();
        if scope.len() != 5 || scope[0] != self.access_key {
            return Err(denied(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ));
        }
        if scope[2] != self.region
            || scope[3] != "s3"
            || scope[4] != "aws4_request"
            || !date.starts_with(scope[1])
        {
            return Err(denied(
                "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter",
            ));
        }
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(denied(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ));
        }
        let signed_at = chrono::NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
            .map_err(|_| {
                denied(
                    "AuthorizationQueryParametersError",
                    "X-Amz-Date must be in the ISO8601 Long Format",
                )
            })?
            .and_utc();
        let expires: i64 = expires
            .parse()
            .ok()
            .filter(|&e| (1..=604_800).contains(&e))
            .ok_or_else(|| {
                denied(
                    "AuthorizationQueryParametersError",
                    "X-Amz-Expires must be between 1 and 604800 seconds",
                )
            })?;
        if chrono::Utc::now() > signed_at + chrono::Duration::seconds(expires) {
            return Err(denied("AccessDenied", "Request has expired"));
        }
        // The canonical request, as AWS documents it for presigned URLs.
        let mut query: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "X-Amz-Signature")
            .map(|(k, v)| (uri_encode(k), uri_encode(v)))
            .collect();
        query.sort();
        let query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut canonical_headers = String::new();
        for name in signed.split(';') {
            let value = wire::header_str(headers, name).unwrap_or("").trim();
            canonical_headers += &format!("{name}:{value}\n");
        }
        let canonical =
            format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\nUNSIGNED-PAYLOAD");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{}/{}/s3/aws4_request\n{}",
            scope[1],
            self.region,
            wire::hex(&wire::sha256(canonical.as_bytes()))
        );
        let mut key = hmac(
            format!("AWS4{}", self.secret_key).as_bytes(),
            scope[1].as_bytes(),
        );
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        if wire::hex(&hmac(&key, to_sign.as_bytes())) != signature {
            return Err(denied(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            ));
        }
        Ok(())
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// AWS's URI encoding: every byte but the unreserved characters as %XX (upper case).
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
