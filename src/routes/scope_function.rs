//! The HealthImaging scope where no authorizer runs (`[auth] mode =
//! "none"`): the same rules as the Lambda@Edge authorizer's
//! (artifacts/edge-authorizer/src/scope.js), as a CloudFront Function on
//! the HealthImaging behaviour's viewer-request (a behaviour carries one
//! kind of viewer-request code, never both). Before the cache, on hits too:
//! a data store outside the profile's list or an operation it does not
//! enable is a 403; the query is rewritten to its one canonical form or
//! refused with 400.
//!
//! CloudFront hands a function the query as an object, one key per name
//! with `multiValue` for a repeated one; the emulator models names and
//! values decoded. The function decodes nothing and reads each value as
//! given: an id or a number is valid only in its one plain spelling, so a
//! frame is reached by one query whichever way CloudFront presents it, and
//! a repeated, encoded or case-variant name is refused either way.
//! Values reach the code only as [`js_string`] literals, and are validated
//! ids and fixed operation names before that.

use serde::Serialize;

use super::transform::js_string;

/// What a HealthImaging route passes on (the profile's `[healthimaging]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EdgeScope {
    pub datastores: Vec<String>,
    /// AWS action names (`GetImageFrame`...).
    pub operations: Vec<String>,
}

impl EdgeScope {
    pub fn describe(&self) -> String {
        format!(
            "HealthImaging scope: {} data store(s), {}",
            self.datastores.len(),
            self.operations.join(", ")
        )
    }

    /// The statements a generated handler runs first (ES5 only): `scope`
    /// returns a response for a refused request, else rewrites
    /// `request.querystring` and returns null.
    pub fn code(&self) -> String {
        let list = |items: &[String]| items.iter().map(|s| js_string(s)).collect::<Vec<_>>().join(", ");
        format!(
            "var DATASTORES = [{datastores}];\n\
             var OPERATIONS = [{operations}];\n{RULES}",
            datastores = list(&self.datastores),
            operations = list(&self.operations),
        )
    }
}

/// The fixed part of the scope code: no profile value appears in it.
const RULES: &str = r#"var ID = /^[a-z0-9]{32}$/;
var NUMBER = /^(0|[1-9][0-9]*)$/;
var OPS = {
  getImageFrame: { name: "GetImageFrame", post: false, params: ["imageFrameId"], required: "imageFrameId" },
  getImageSetMetadata: { name: "GetImageSetMetadata", post: false, params: ["version"], required: null },
  getImageSet: { name: "GetImageSet", post: false, params: ["version"], required: null },
  listImageSetVersions: { name: "ListImageSetVersions", post: false, params: ["maxResults", "nextToken"], required: null },
  searchImageSets: { name: "SearchImageSets", post: true, params: ["maxResults", "nextToken"], required: null }
};
function valid(name, v) {
  if (typeof v !== "string") return false;
  if (name === "imageFrameId") return ID.test(v);
  if (name === "version") return v.length <= 10 && NUMBER.test(v);
  if (name === "maxResults") return NUMBER.test(v) && Number(v) >= 1 && Number(v) <= 50;
  if (v.length < 1 || v.length > 8192) return false;
  for (var i = 0; i < v.length; i++) if (v.charCodeAt(i) > 127) return false;
  return true;
}
function refuse(status) {
  var forbidden = status === 403;
  return {
    statusCode: status,
    statusDescription: forbidden ? "Forbidden" : "Bad Request",
    headers: { "content-type": { value: "application/json" }, "cache-control": { value: "no-store" } },
    body: { encoding: "text", data: forbidden ? "{\"message\":\"Forbidden\"}" : "{\"message\":\"Bad Request\"}" }
  };
}
function scope(request) {
  var uri = request.uri;
  if (uri.indexOf("/datastore/") !== 0) return null;
  var s = uri.split("/");
  var op = null, ds = null, set = null;
  if (s.length === 6 && s[3] === "imageSet" && OPS.hasOwnProperty(s[5]) && !OPS[s[5]].post) {
    op = s[5]; ds = s[2]; set = s[4];
  } else if (s.length === 4 && s[3] === "searchImageSets") {
    op = "searchImageSets"; ds = s[2];
  }
  if (op === null) return refuse(403);
  var spec = OPS[op];
  var read = request.method === "GET" || request.method === "HEAD";
  if (spec.post ? request.method !== "POST" : !read) return refuse(403);
  if (!ID.test(ds) || (set !== null && !ID.test(set))) return refuse(400);
  if (DATASTORES.indexOf(ds) === -1 || OPERATIONS.indexOf(spec.name) === -1) return refuse(403);
  var q = request.querystring || {};
  var out = {};
  var names = Object.keys(q);
  for (var i = 0; i < names.length; i++) {
    var name = names[i];
    var entry = q[name];
    if (spec.params.indexOf(name) === -1) return refuse(400);
    if (entry.multiValue && entry.multiValue.length > 1) return refuse(400);
    if (!valid(name, entry.value)) return refuse(400);
    out[name] = { value: entry.value };
  }
  if (spec.required !== null && !out.hasOwnProperty(spec.required)) return refuse(400);
  var canonical = {};
  for (var j = 0; j < spec.params.length; j++) {
    if (out.hasOwnProperty(spec.params[j])) canonical[spec.params[j]] = out[spec.params[j]];
  }
  request.querystring = canonical;
  return null;
}
"#;
