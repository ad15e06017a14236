//! Which HealthImaging reads the proxy serves, and the exact upstream call
//! for each: built only from the parameters that operation takes, so a
//! token or any unknown parameter never reaches HealthImaging.
//!
//! Shapes (AWS HealthImaging API reference, 2023-07-19). Every image-set
//! operation is served by the runtime host, `runtime-medical-imaging.<region>`
//! (botocore's model: `hostPrefix "runtime-"`); the control host
//! `medical-imaging.<region>` serves data store and import job operations,
//! which the proxy does not pass on.
//! - GetImageFrame: POST /datastore/{ds}/imageSet/{is}/getImageFrame, body {"imageFrameId"}
//! - GetImageSetMetadata: POST .../getImageSetMetadata?version=N, no body
//! - GetImageSet: POST .../getImageSet?version=N, no body
//! - ListImageSetVersions: POST .../listImageSetVersions?maxResults&nextToken, no body
//! - SearchImageSets: POST /datastore/{ds}/searchImageSets?maxResults&nextToken, body {"searchCriteria"}

use bytes::Bytes;
use http::Method;
use serde_json::{Map, Value};

use crate::config::CacheLifetimes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    GetImageFrame,
    GetImageSetMetadata,
    GetImageSet,
    ListImageSetVersions,
    SearchImageSets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Runtime,
    Control,
}

/// The signed POST the proxy sends for one client request.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamCall {
    pub operation: Operation,
    pub host: Host,
    /// Path and query, already encoded.
    pub path_and_query: String,
    pub body: Bytes,
    /// `Cache-Control` for a successful answer.
    pub cache_control: String,
}

/// Why a request gets no upstream call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not an operation the proxy allows (403).
    NotAllowed,
    /// An allowed operation with bad parameters (400), and which.
    BadRequest(String),
}

/// Largest request body accepted for a POST passthrough.
pub const MAX_BODY: usize = 64 * 1024;

fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::BadRequest(message.into())
}

/// Maps a client request to the upstream call, or refuses it.
pub fn plan(
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    cache: &CacheLifetimes,
) -> Result<UpstreamCall, Refusal> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = *method == Method::GET || *method == Method::HEAD;
    let post = *method == Method::POST;
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let immutable = |age: u64| format!("public, max-age={age}, immutable");
    match segments.as_slice() {
        ["datastore", ds, "imageSet", is, op] if get || post => {
            if !is_id(ds) || !is_id(is) {
                return Err(bad(
                    "datastore and image set ids are 32 lower-case letters or digits",
                ));
            }
            let base = format!("/datastore/{ds}/imageSet/{is}/{op}");
            match (*op, get) {
                ("getImageFrame", _) => {
                    let frame = if get {
                        param("imageFrameId").map(str::to_string)
                    } else {
                        json_object(body)?
                            .get("imageFrameId")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    };
                    let frame = frame.ok_or_else(|| bad("imageFrameId is required"))?;
                    if !is_id(&frame) {
                        return Err(bad("imageFrameId is 32 lower-case letters or digits"));
                    }
                    Ok(UpstreamCall {
                        operation: Operation::GetImageFrame,
                        host: Host::Runtime,
                        path_and_query: base,
                        body: Bytes::from(serde_json::json!({ "imageFrameId": frame }).to_string()),
                        cache_control: immutable(cache.frame),
                    })
                }
                ("getImageSetMetadata" | "getImageSet", _) => {
                    let version = param("version");
                    if version.is_some_and(|v| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit())) {
                        return Err(bad("version is a number"));
                    }
                    let operation = if *op == "getImageSet" {
                        Operation::GetImageSet
                    } else {
                        Operation::GetImageSetMetadata
                    };
                    Ok(UpstreamCall {
                        operation,
                        host: Host::Runtime,
                        path_and_query: match version {
                            Some(v) => format!("{base}?version={v}"),
                            None => base,
                        },
                        body: Bytes::new(),
                        cache_control: match version {
                            Some(_) => immutable(cache.versioned),
                            None => format!("public, max-age={}", cache.latest),
                        },
                    })
                }
                ("listImageSetVersions", false) => Ok(UpstreamCall {
                    operation: Operation::ListImageSetVersions,
                    host: Host::Runtime,
                    path_and_query: with_paging(base, param("maxResults"), param("nextToken"))?,
                    body: Bytes::new(),
                    cache_control: "no-store".into(),
                }),
                _ => Err(Refusal::NotAllowed),
            }
        }
        ["datastore", ds, "searchImageSets"] if post => {
            if !is_id(ds) {
                return Err(bad("the datastore id is 32 lower-case letters or digits"));
            }
            let mut kept = Map::new();
            if let Some(criteria) = json_object(body)?.remove("searchCriteria") {
                kept.insert("searchCriteria".into(), criteria);
            }
            Ok(UpstreamCall {
                operation: Operation::SearchImageSets,
                host: Host::Runtime,
                path_and_query: with_paging(
                    format!("/datastore/{ds}/searchImageSets"),
                    param("maxResults"),
                    param("nextToken"),
                )?,
                body: Bytes::from(Value::Object(kept).to_string()),
                cache_control: "no-store".into(),
            })
        }
        _ => Err(Refusal::NotAllowed),
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad("the request body must be a JSON object")),
    }
}

fn with_paging(base: String, max_results: Option<&str>, next_token: Option<&str>) -> Result<String, Refusal> {
    let mut params = Vec::new();
    if let Some(n) = max_results {
        if !n.parse::<u32>().is_ok_and(|n| (1..=50).contains(&n)) {
            return Err(bad("maxResults is a number from 1 to 50"));
        }
        params.push(format!("maxResults={n}"));
    }
    if let Some(t) = next_token {
        if t.is_empty() || t.len() > 8192 || !t.is_ascii() {
            return Err(bad("nextToken is 1 to 8192 ASCII characters"));
        }
        params.push(format!("nextToken={}", encode(t)));
    }
    Ok(if params.is_empty() {
        base
    } else {
        format!("{base}?{}", params.join("&"))
    })
}

/// Percent-encodes a query value the way SigV4 canonicalises it.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DS: &str = "0123456789abcdef0123456789abcdef";
    const IS: &str = "fedcba9876543210fedcba9876543210";
    const FRAME: &str = "aaaabbbbccccddddeeeeffff00001111";
    const CACHE: CacheLifetimes = CacheLifetimes {
        frame: 31_536_000,
        versioned: 31_536_000,
        latest: 60,
    };

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_frame_get_becomes_the_signed_post_body_and_drops_other_parameters() {
        let path = format!("/datastore/{DS}/imageSet/{IS}/getImageFrame");
        let call = plan(
            &Method::GET,
            &path,
            &q(&[("imageFrameId", FRAME), ("token", "secret.jwt.x")]),
            b"",
            &CACHE,
        )
        .unwrap();
        assert_eq!(call.operation, Operation::GetImageFrame);
        assert_eq!(call.host, Host::Runtime);
        assert_eq!(call.path_and_query, path);
        assert_eq!(call.body, format!("{{\"imageFrameId\":\"{FRAME}\"}}"));
        assert_eq!(call.cache_control, "public, max-age=31536000, immutable");
    }

    #[test]
    fn metadata_and_image_set_carry_only_the_version() {
        let path = format!("/datastore/{DS}/imageSet/{IS}/getImageSetMetadata");
        let latest = plan(&Method::GET, &path, &q(&[("foo", "bar")]), b"", &CACHE).unwrap();
        assert_eq!(latest.path_and_query, path);
        assert_eq!(latest.cache_control, "public, max-age=60");
        assert!(latest.body.is_empty());
        let versioned = plan(&Method::GET, &path, &q(&[("version", "3")]), b"", &CACHE).unwrap();
        assert_eq!(versioned.path_and_query, format!("{path}?version=3"));
        assert!(versioned.cache_control.ends_with("immutable"));
        let set = plan(
            &Method::GET,
            &path.replace("getImageSetMetadata", "getImageSet"),
            &[],
            b"",
            &CACHE,
        )
        .unwrap();
        assert_eq!((set.operation, set.host), (Operation::GetImageSet, Host::Runtime));
        assert_eq!(
            plan(&Method::GET, &path, &q(&[("version", "1 OR 1")]), b"", &CACHE),
            Err(bad("version is a number"))
        );
    }

    #[test]
    fn posts_are_rebuilt_from_known_fields() {
        let path = format!("/datastore/{DS}/imageSet/{IS}/getImageFrame");
        let body = format!("{{\"imageFrameId\":\"{FRAME}\",\"extra\":1}}");
        let call = plan(&Method::POST, &path, &[], body.as_bytes(), &CACHE).unwrap();
        assert_eq!(call.body, format!("{{\"imageFrameId\":\"{FRAME}\"}}"));
        let search = plan(
            &Method::POST,
            &format!("/datastore/{DS}/searchImageSets"),
            &q(&[("maxResults", "10"), ("nextToken", "a b/c")]),
            br#"{"searchCriteria":{"filters":[]},"evil":true}"#,
            &CACHE,
        )
        .unwrap();
        assert_eq!(search.body, r#"{"searchCriteria":{"filters":[]}}"#);
        assert_eq!(
            search.path_and_query,
            format!("/datastore/{DS}/searchImageSets?maxResults=10&nextToken=a%20b%2Fc")
        );
        let versions = plan(
            &Method::POST,
            &format!("/datastore/{DS}/imageSet/{IS}/listImageSetVersions"),
            &[],
            b"",
            &CACHE,
        );
        assert_eq!(versions.unwrap().operation, Operation::ListImageSetVersions);
    }

    #[test]
    fn everything_else_is_refused() {
        for (method, path) in [
            (
                Method::POST,
                format!("/datastore/{DS}/imageSet/{IS}/deleteImageSet"),
            ),
            (
                Method::POST,
                format!("/datastore/{DS}/imageSet/{IS}/updateImageSetMetadata"),
            ),
            (
                Method::POST,
                format!("/datastore/{DS}/imageSet/{IS}/copyImageSet"),
            ),
            (Method::DELETE, format!("/datastore/{DS}")),
            (Method::GET, format!("/datastore/{DS}/searchImageSets")),
            (
                Method::GET,
                format!("/datastore/{DS}/imageSet/{IS}/listImageSetVersions"),
            ),
            (
                Method::PUT,
                format!("/datastore/{DS}/imageSet/{IS}/getImageFrame"),
            ),
            (Method::GET, "/".to_string()),
        ] {
            assert_eq!(
                plan(&method, &path, &[], b"", &CACHE),
                Err(Refusal::NotAllowed),
                "{method} {path}"
            );
        }
        let traversal = format!("/datastore/..%2F..%2Fx/imageSet/{IS}/getImageFrame");
        assert!(matches!(
            plan(&Method::GET, &traversal, &[], b"", &CACHE),
            Err(Refusal::BadRequest(_))
        ));
    }
}
