// What a HealthImaging request may reach, and the one form it reaches it in.
//
// Runs on every viewer request before the cache (hits included), after the
// token is verified: a data store outside the profile's list, an operation
// it does not enable, or one the token's claim does not grant is a 403; the
// query is rewritten to its canonical form (the operation's parameters
// only, each once, in a fixed order, values in one encoding) or refused
// with 400. The cache key and the proxy then see only that form, so two
// requests for different bytes can never share a cache entry.
//
// The proxy (artifacts/regional-proxy/src/canonical.rs) accepts exactly
// the form written here and refuses anything else.

"use strict";

const ID = /^[a-z0-9]{32}$/;
const NUMBER = /^(0|[1-9][0-9]*)$/;
// HealthImaging's bound on nextToken (API reference: \p{ASCII}{0,8192}).
const MAX_NEXT_TOKEN = 8192;

// By the path's last segment: the operation's action name, the method that
// reaches it (one request, one form), and its parameters in canonical order.
const OPERATIONS = {
  getImageFrame: { name: "GetImageFrame", post: false, params: ["imageFrameId"], required: ["imageFrameId"] },
  getImageSetMetadata: { name: "GetImageSetMetadata", post: false, params: ["version"], required: [] },
  getImageSet: { name: "GetImageSet", post: false, params: ["version"], required: [] },
  listImageSetVersions: { name: "ListImageSetVersions", post: false, params: ["maxResults", "nextToken"], required: [] },
  searchImageSets: { name: "SearchImageSets", post: true, params: ["maxResults", "nextToken"], required: [] },
};

const VALUES = {
  imageFrameId: (v) => ID.test(v),
  version: (v) => v.length <= 10 && NUMBER.test(v),
  maxResults: (v) => NUMBER.test(v) && Number(v) >= 1 && Number(v) <= 50,
  // eslint-disable-next-line no-control-regex
  nextToken: (v) => v.length >= 1 && v.length <= MAX_NEXT_TOKEN && /^[\x00-\x7f]*$/.test(v),
};

// Whether a request is one for HealthImaging at all: its path begins with
// /datastore/ exactly. Any other spelling reaches no operation the proxy
// serves (it reads the raw path), so it is refused there without a read.
function isHealthImaging(uri) {
  return typeof uri === "string" && uri.startsWith("/datastore/");
}

// The operation, data store and image set a path names, or null.
function parsePath(uri) {
  const s = uri.split("/");
  if (s.length === 6 && s[0] === "" && s[1] === "datastore" && s[3] === "imageSet") {
    const op = Object.prototype.hasOwnProperty.call(OPERATIONS, s[5]) ? s[5] : null;
    if (!op || OPERATIONS[op].post) return null;
    return { op, datastore: s[2], imageSet: s[4] };
  }
  if (s.length === 4 && s[0] === "" && s[1] === "datastore" && s[3] === "searchImageSets") {
    return { op: "searchImageSets", datastore: s[2], imageSet: null };
  }
  return null;
}

// Strict percent-decoding of a value: null for a malformed escape or bytes
// that are not UTF-8.
function decodeValue(raw) {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

// SigV4's encoding: unreserved characters stay, every other byte is %XX.
function encodeValue(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

// The data stores a verified token's claim grants: each value of the claim
// (an array of strings, or one string of space-separated values, as OAuth
// scopes are) that begins with the prefix grants the id after it.
function grantedDatastores(scope, claims) {
  const raw = claims ? claims[scope.datastoreClaim] : undefined;
  const values = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(" ") : [];
  const prefix = scope.datastoreClaimPrefix || "";
  const granted = [];
  for (const value of values) {
    if (typeof value === "string" && value.startsWith(prefix) && ID.test(value.slice(prefix.length))) {
      granted.push(value.slice(prefix.length));
    }
  }
  return granted;
}

// The canonical query for `op`, or { error } saying why there is none.
function canonicalQuery(op, querystring) {
  const spec = OPERATIONS[op];
  const found = {};
  for (const pair of (querystring || "").split("&")) {
    if (pair === "") continue; // `a=1&&b=2`: nothing there to read
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (/[%+]/.test(name)) return { error: "an encoded query parameter name" };
    if (!spec.params.includes(name)) {
      const variant = spec.params.some((p) => p.toLowerCase() === name.toLowerCase());
      return { error: variant ? "a query parameter name in another case" : "a query parameter the operation does not take" };
    }
    if (Object.prototype.hasOwnProperty.call(found, name)) return { error: "a query parameter given twice" };
    if (eq < 0) return { error: "a query parameter without a value" };
    const raw = pair.slice(eq + 1);
    // A literal `+` is a space to some readers and a plus to others.
    if (raw.includes("+")) return { error: "a literal '+' in a value (send %2B or %20)" };
    const value = decodeValue(raw);
    if (value === null || !VALUES[name](value)) return { error: `a ${name} that is not valid` };
    found[name] = value;
  }
  for (const name of spec.required) {
    if (!Object.prototype.hasOwnProperty.call(found, name)) return { error: `no ${name}` };
  }
  const parts = spec.params.filter((p) => Object.prototype.hasOwnProperty.call(found, p));
  return { querystring: parts.map((p) => `${p}=${encodeValue(found[p])}`).join("&") };
}

// The verdict for a request: null when it is not a HealthImaging request or
// passes (its querystring then rewritten in place), else
// { status: "400" | "403", reason } for the log (never the request's text).
function checkHealthImaging(scope, request, claims) {
  if (!scope || !isHealthImaging(request.uri)) return null;
  const target = parsePath(request.uri);
  if (!target) return { status: "403", reason: "not an operation the edge serves" };
  const spec = OPERATIONS[target.op];
  const read = request.method === "GET" || request.method === "HEAD";
  if (spec.post ? request.method !== "POST" : !read) {
    return { status: "403", reason: `${spec.name} is not read with ${request.method}` };
  }
  if (!ID.test(target.datastore) || (target.imageSet !== null && !ID.test(target.imageSet))) {
    return { status: "400", reason: "a data store or image set id that is not 32 lower-case letters or digits" };
  }
  if (!scope.datastores.includes(target.datastore)) {
    return { status: "403", reason: "a data store the profile does not list" };
  }
  if (!scope.operations.includes(spec.name)) {
    return { status: "403", reason: `${spec.name} is not enabled` };
  }
  if (scope.datastoreClaim && !grantedDatastores(scope, claims).includes(target.datastore)) {
    return { status: "403", reason: `the token's ${scope.datastoreClaim} claim does not grant this data store` };
  }
  const canonical = canonicalQuery(target.op, request.querystring);
  if (canonical.error) return { status: "400", reason: `the query holds ${canonical.error}` };
  request.querystring = canonical.querystring;
  return null;
}

module.exports = { checkHealthImaging, canonicalQuery, grantedDatastores, encodeValue, OPERATIONS };
