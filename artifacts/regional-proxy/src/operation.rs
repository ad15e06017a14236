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

use crate::canonical::{self, Param};
use crate::config::{CacheLifetimes, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    GetImageFrame,
    GetImageSetMetadata,
    GetImageSet,
    ListImageSetVersions,
    SearchImageSets,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::GetImageFrame,
        Operation::GetImageSetMetadata,
        Operation::GetImageSet,
        Operation::ListImageSetVersions,
        Operation::SearchImageSets,
    ];

    /// AWS's action name (`medical-imaging:<name>`), as OPERATIONS lists it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::GetImageFrame => "GetImageFrame",
            Operation::GetImageSetMetadata => "GetImageSetMetadata",
            Operation::GetImageSet => "GetImageSet",
            Operation::ListImageSetVersions => "ListImageSetVersions",
            Operation::SearchImageSets => "SearchImageSets",
        }
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The query parameters the operation takes, in their canonical order.
    fn params(self) -> &'static [Param] {
        match self {
            Operation::GetImageFrame => &[Param::ImageFrameId],
            Operation::GetImageSetMetadata | Operation::GetImageSet => &[Param::Version],
            Operation::ListImageSetVersions | Operation::SearchImageSets => {
                &[Param::MaxResults, Param::NextToken]
            }
        }
    }
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
    /// A data store or an operation this deployment does not serve (403).
    OutOfScope,
    /// An allowed operation with bad or non-canonical parameters (400), and which.
    BadRequest(String),
}

/// Largest request body accepted for a POST passthrough.
pub const MAX_BODY: usize = 64 * 1024;

pub(crate) fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::BadRequest(message.into())
}

/// The operation a path names, its data store and image set (if any), and
/// the one method that reaches it: every read but search is a GET (HEAD
/// too), search a POST (its criteria are a body). One request, one form.
fn route<'p>(segments: &[&'p str]) -> Option<(Operation, &'p str, Option<&'p str>)> {
    match segments {
        ["datastore", ds, "imageSet", is, op] => {
            let operation = match *op {
                "getImageFrame" => Operation::GetImageFrame,
                "getImageSetMetadata" => Operation::GetImageSetMetadata,
                "getImageSet" => Operation::GetImageSet,
                "listImageSetVersions" => Operation::ListImageSetVersions,
                _ => return None,
            };
            Some((operation, ds, Some(is)))
        }
        ["datastore", ds, "searchImageSets"] => Some((Operation::SearchImageSets, ds, None)),
        _ => None,
    }
}

/// Maps a client request to the upstream call, or refuses it. `raw_query`
/// is the query exactly as it arrived (not decoded): anything but the
/// canonical form the edge writes is refused, never interpreted.
pub fn plan(
    method: &Method,
    path: &str,
    raw_query: &str,
    body: &[u8],
    cache: &CacheLifetimes,
    scope: &Scope,
) -> Result<UpstreamCall, Refusal> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (operation, ds, image_set) = route(&segments).ok_or(Refusal::NotAllowed)?;
    let read = *method == Method::GET || *method == Method::HEAD;
    let method_fits = match operation {
        Operation::SearchImageSets => *method == Method::POST,
        _ => read,
    };
    if !method_fits {
        return Err(Refusal::NotAllowed);
    }
    if !is_id(ds) || !image_set.is_none_or(is_id) {
        return Err(bad(
            "datastore and image set ids are 32 lower-case letters or digits",
        ));
    }
    // Before anything is read from the query: a data store or operation
    // outside this deployment is refused whatever else the request holds.
    if !scope.datastores.iter().any(|d| d == ds) || !scope.operations.contains(&operation) {
        return Err(Refusal::OutOfScope);
    }
    let query = canonical::parse(raw_query, operation.params()).map_err(Refusal::BadRequest)?;
    let immutable = |age: u64| format!("public, max-age={age}, immutable");
    let base = match image_set {
        Some(is) => format!("/datastore/{ds}/imageSet/{is}/{}", segments[4]),
        None => format!("/datastore/{ds}/searchImageSets"),
    };
    match operation {
        Operation::GetImageFrame => {
            let frame = query
                .get(Param::ImageFrameId)
                .ok_or_else(|| bad("imageFrameId is required"))?;
            Ok(UpstreamCall {
                operation,
                host: Host::Runtime,
                path_and_query: base,
                body: Bytes::from(serde_json::json!({ "imageFrameId": frame }).to_string()),
                cache_control: immutable(cache.frame),
            })
        }
        Operation::GetImageSetMetadata | Operation::GetImageSet => {
            let version = query.get(Param::Version);
            Ok(UpstreamCall {
                operation,
                host: Host::Runtime,
                path_and_query: query.append_to(base),
                body: Bytes::new(),
                cache_control: match version {
                    Some(_) => immutable(cache.versioned),
                    None => format!("public, max-age={}", cache.latest),
                },
            })
        }
        Operation::ListImageSetVersions => Ok(UpstreamCall {
            operation,
            host: Host::Runtime,
            path_and_query: query.append_to(base),
            body: Bytes::new(),
            cache_control: "no-store".into(),
        }),
        Operation::SearchImageSets => {
            let mut kept = Map::new();
            if let Some(criteria) = json_object(body)?.remove("searchCriteria") {
                kept.insert("searchCriteria".into(), criteria);
            }
            Ok(UpstreamCall {
                operation,
                host: Host::Runtime,
                path_and_query: query.append_to(base),
                body: Bytes::from(Value::Object(kept).to_string()),
                cache_control: "no-store".into(),
            })
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const DS: &str = "0123456789abcdef0123456789abcdef";
    const OTHER_DS: &str = "99999999999999999999999999999999";
    const IS: &str = "fedcba9876543210fedcba9876543210";
    const FRAME: &str = "aaaabbbbccccddddeeeeffff00001111";
    const CACHE: CacheLifetimes = CacheLifetimes {
        frame: 31_536_000,
        versioned: 31_536_000,
        latest: 60,
    };

    fn every_operation() -> Scope {
        Scope {
            datastores: vec![DS.into()],
            operations: Operation::ALL.to_vec(),
        }
    }

    fn viewing() -> Scope {
        Scope {
            datastores: vec![DS.into()],
            operations: vec![
                Operation::GetImageFrame,
                Operation::GetImageSetMetadata,
                Operation::GetImageSet,
            ],
        }
    }

    fn run(method: Method, path: &str, query: &str, body: &[u8]) -> Result<UpstreamCall, Refusal> {
        plan(&method, path, query, body, &CACHE, &every_operation())
    }

    #[test]
    fn a_frame_get_becomes_the_signed_post_body() {
        let path = format!("/datastore/{DS}/imageSet/{IS}/getImageFrame");
        let call = run(Method::GET, &path, &format!("imageFrameId={FRAME}"), b"").unwrap();
        assert_eq!(call.operation, Operation::GetImageFrame);
        assert_eq!(call.host, Host::Runtime);
        assert_eq!(call.path_and_query, path);
        assert_eq!(call.body, format!("{{\"imageFrameId\":\"{FRAME}\"}}"));
        assert_eq!(call.cache_control, "public, max-age=31536000, immutable");
        assert_eq!(
            run(Method::GET, &path, "", b""),
            Err(bad("imageFrameId is required"))
        );
    }

    #[test]
    fn metadata_and_image_set_carry_only_the_version() {
        let path = format!("/datastore/{DS}/imageSet/{IS}/getImageSetMetadata");
        let latest = run(Method::GET, &path, "", b"").unwrap();
        assert_eq!(latest.path_and_query, path);
        assert_eq!(latest.cache_control, "public, max-age=60");
        assert!(latest.body.is_empty());
        let versioned = run(Method::GET, &path, "version=3", b"").unwrap();
        assert_eq!(versioned.path_and_query, format!("{path}?version=3"));
        assert!(versioned.cache_control.ends_with("immutable"));
        let set = run(
            Method::GET,
            &path.replace("getImageSetMetadata", "getImageSet"),
            "",
            b"",
        )
        .unwrap();
        assert_eq!((set.operation, set.host), (Operation::GetImageSet, Host::Runtime));
        for probe in [
            "version=1%20OR%201",
            "versio%6E=1",
            "foo=bar",
            "version=1&version=2",
        ] {
            assert!(
                matches!(run(Method::GET, &path, probe, b""), Err(Refusal::BadRequest(_))),
                "{probe}"
            );
        }
    }

    #[test]
    fn search_is_rebuilt_from_known_fields_and_listings_are_gets() {
        let search = run(
            Method::POST,
            &format!("/datastore/{DS}/searchImageSets"),
            "maxResults=10&nextToken=a%20b%2Fc",
            br#"{"searchCriteria":{"filters":[]},"evil":true}"#,
        )
        .unwrap();
        assert_eq!(search.body, r#"{"searchCriteria":{"filters":[]}}"#);
        assert_eq!(
            search.path_and_query,
            format!("/datastore/{DS}/searchImageSets?maxResults=10&nextToken=a%20b%2Fc")
        );
        let versions = format!("/datastore/{DS}/imageSet/{IS}/listImageSetVersions");
        let listed = run(Method::GET, &versions, "maxResults=5", b"").unwrap();
        assert_eq!(listed.operation, Operation::ListImageSetVersions);
        assert_eq!(listed.path_and_query, format!("{versions}?maxResults=5"));
    }

    /// One request, one form: a read is a GET (or HEAD), search a POST.
    #[test]
    fn the_other_method_of_an_operation_is_refused() {
        let base = format!("/datastore/{DS}/imageSet/{IS}");
        let body = format!("{{\"imageFrameId\":\"{FRAME}\"}}");
        for (method, path) in [
            (Method::POST, format!("{base}/getImageFrame")),
            (Method::POST, format!("{base}/getImageSetMetadata")),
            (Method::POST, format!("{base}/getImageSet")),
            (Method::POST, format!("{base}/listImageSetVersions")),
            (Method::GET, format!("/datastore/{DS}/searchImageSets")),
            (Method::PUT, format!("{base}/getImageFrame")),
        ] {
            assert_eq!(
                run(method.clone(), &path, "", body.as_bytes()),
                Err(Refusal::NotAllowed),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn a_data_store_or_operation_outside_the_scope_is_refused_before_the_query() {
        let frame = |ds: &str| format!("/datastore/{ds}/imageSet/{IS}/getImageFrame");
        // Even with a malformed query: the scope is judged first.
        assert_eq!(
            plan(&Method::GET, &frame(OTHER_DS), "x=%zz", b"", &CACHE, &viewing()),
            Err(Refusal::OutOfScope)
        );
        assert!(
            plan(
                &Method::GET,
                &frame(DS),
                &format!("imageFrameId={FRAME}"),
                b"",
                &CACHE,
                &viewing()
            )
            .is_ok()
        );
        for (method, path) in [
            (Method::POST, format!("/datastore/{DS}/searchImageSets")),
            (
                Method::GET,
                format!("/datastore/{DS}/imageSet/{IS}/listImageSetVersions"),
            ),
        ] {
            assert_eq!(
                plan(&method, &path, "", b"", &CACHE, &viewing()),
                Err(Refusal::OutOfScope),
                "{path}"
            );
        }
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
            (Method::GET, "/".to_string()),
        ] {
            assert_eq!(
                run(method.clone(), &path, "", b""),
                Err(Refusal::NotAllowed),
                "{method} {path}"
            );
        }
        let traversal = format!("/datastore/..%2F..%2Fx/imageSet/{IS}/getImageFrame");
        assert!(matches!(
            run(Method::GET, &traversal, "", b""),
            Err(Refusal::BadRequest(_))
        ));
    }
}
