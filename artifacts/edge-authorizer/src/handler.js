// Lambda@Edge viewer-request authorizer for ahi-edge.
//
// Lambda@Edge has no environment variables, so configuration comes from
// config.json beside this file in the zip, written by `ahi-edge package`.
// The handler is async and returns exactly once; it never throws to the
// runtime: every failure becomes a 401 with CORS headers.

"use strict";

const fs = require("fs");
const path = require("path");
const { CognitoJwtVerifier, JwtRsaVerifier } = require("aws-jwt-verify");
const { SimpleJwksCache, assertIsJwks } = require("aws-jwt-verify/jwk");
const { SimpleFetcher } = require("aws-jwt-verify/https");
const { decomposeUnverifiedJwt } = require("aws-jwt-verify/jwt");
const { safeJsonParse } = require("aws-jwt-verify/safe-json-parse");
const { checkHealthImaging } = require("./scope");

// A JWT longer than this is refused before any parsing (CloudFront allows
// 20 KB of headers; real access tokens are 1-2 KB).
const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^\s*bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i;
const PREFLIGHT_MAX_AGE = "86400";
// Clock skew allowed between the issuer and the edge, in seconds.
const SKEW_SECONDS = 5;
// RSA keys shorter than this are refused, whatever the JWKS publishes.
const MIN_RSA_BITS = 2048;

function loadConfig(dir) {
  const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  requireScope(config.healthimaging);
  return config;
}

// The HealthImaging scope is what keeps viewers to the profile's data stores
// and operations. A config.json without it (hand-made, or damaged) must not
// mean "every data store": the deployed handler refuses to start, and so
// denies every request.
function requireScope(scope) {
  const names = (v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x.length > 0);
  if (!scope || typeof scope !== "object" || !names(scope.datastores) || !names(scope.operations)) {
    throw new Error("healthimaging: the scope (datastores and operations) is missing; write config.json with `ahi-edge package`");
  }
}

// JWKS fetches go to config.jwksUri. For Cognito that is the pool's own
// JWKS URL (the library would derive the same); the setting lets a test or a
// JWKS mirror serve the keys instead.
// The keys of every JWKS fetched, by kid, so the key a token was verified
// with can be checked after the library accepted it (its size).
function jwksCacheFor(jwksUri) {
  const fetcher = new SimpleFetcher({ defaultRequestOptions: { responseTimeout: 1500 } });
  const keys = new Map();
  const jwksParser = (bytes) => {
    const jwks = safeJsonParse(new TextDecoder("utf8", { fatal: true, ignoreBOM: true }).decode(bytes));
    assertIsJwks(jwks);
    for (const jwk of jwks.keys) if (jwk.kid) keys.set(jwk.kid, jwk);
    return jwks;
  };
  return { cache: new SimpleJwksCache({ fetcher: { fetch: () => fetcher.fetch(jwksUri) }, jwksParser }), keys };
}

// The verifier, and the JWKS cache it fills (to read the key it used).
function createVerifier(config) {
  const { cache, keys } = jwksCacheFor(config.jwksUri);
  return { verifier: verifierFor(config, cache), keys };
}

function verifierFor(config, jwksCache) {
  const common = { graceSeconds: SKEW_SECONDS, includeRawJwtInErrors: false };
  if (config.mode === "cognito_jwt") {
    return CognitoJwtVerifier.create(
      {
        userPoolId: config.userPoolId,
        tokenUse: config.tokenUse || "access",
        clientId: config.clientIds && config.clientIds.length ? config.clientIds : null,
        ...common,
      },
      { jwksCache },
    );
  }
  if (config.mode === "oidc") {
    return JwtRsaVerifier.create(
      { issuer: config.issuer, jwksUri: config.jwksUri, audience: config.audiences, ...common },
      { jwksCache },
    );
  }
  throw new Error(`config.json: unsupported mode ${JSON.stringify(config.mode)}`);
}

function header(name, value) {
  return [{ key: name, value }];
}

function allowedOrigin(config, request) {
  const origins = config.corsAllowOrigins || ["*"];
  if (origins.includes("*")) return "*";
  const origin = request.headers.origin && request.headers.origin[0] && request.headers.origin[0].value;
  return origin && origins.includes(origin) ? origin : null;
}

function corsHeaders(config, request) {
  const origin = allowedOrigin(config, request);
  if (!origin) return {};
  const headers = { "access-control-allow-origin": header("Access-Control-Allow-Origin", origin) };
  if (origin !== "*") headers.vary = header("Vary", "Origin");
  return headers;
}

function preflight(config, request) {
  return {
    status: "204",
    statusDescription: "No Content",
    headers: {
      ...corsHeaders(config, request),
      "access-control-allow-methods": header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"),
      "access-control-allow-headers": header("Access-Control-Allow-Headers", "authorization, content-type"),
      "access-control-max-age": header("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
    },
  };
}

// A HealthImaging request the scope refuses (400 or 403). The body is
// generic: which data stores exist is nothing a viewer learns here.
function refuse(config, request, status) {
  const forbidden = status === "403";
  return {
    status,
    statusDescription: forbidden ? "Forbidden" : "Bad Request",
    headers: {
      ...corsHeaders(config, request),
      "content-type": header("Content-Type", "application/json"),
      "cache-control": header("Cache-Control", "no-store"),
    },
    body: forbidden ? '{"message":"Forbidden"}' : '{"message":"Bad Request"}',
  };
}

function deny(config, request, missing) {
  return {
    status: "401",
    statusDescription: "Unauthorized",
    headers: {
      ...corsHeaders(config, request),
      "www-authenticate": header("WWW-Authenticate", missing ? "Bearer" : 'Bearer error="invalid_token"'),
      "content-type": header("Content-Type", "application/json"),
      "cache-control": header("Cache-Control", "no-store"),
    },
    body: '{"message":"Unauthorized"}',
  };
}

// The token from `Authorization: Bearer <jwt>`; anything else is malformed.
function headerToken(request) {
  const values = request.headers.authorization;
  if (!values || values.length === 0) return { missing: true };
  if (values.length > 1) return { reason: "more than one Authorization header" };
  const value = values[0].value || "";
  if (value.length > MAX_TOKEN_LENGTH + 16) return { reason: "Authorization header too long" };
  const match = BEARER.exec(value);
  return match ? { token: match[1] } : { reason: "Authorization header is not 'Bearer <jwt>'" };
}

// Every token query parameter leaves the URL, whatever else the request
// carries, so a token reaches neither the origin's URL nor the cache key.
// A parameter is a token parameter when its name, read the way any origin
// might read it, is `token`: percent-decoded (leniently, and again until it
// no longer changes, so an origin that decodes twice or drops bad bytes
// finds none either), `+` as a space, NFKC-normalised, trimmed and
// lower-cased. `%74oken=`, `Token=`, `TOKEN=`, `t%6Fken=`, `%2574oken=` and
// a bare `token` are all taken. Returns the tokens taken, in order.
function takeQueryTokens(request) {
  const params = (request.querystring || "").split("&").filter((p) => p !== "");
  const taken = params.filter(isTokenParam);
  if (taken.length === 0) return [];
  request.querystring = params.filter((p) => !isTokenParam(p)).join("&");
  return taken.map((p) => {
    const eq = p.indexOf("=");
    if (eq < 0) return "";
    try {
      return decodeURIComponent(p.slice(eq + 1));
    } catch {
      return "";
    }
  });
}

// Decoding rounds for a parameter name: more than any real multiple
// encoding, bounded so a crafted name cannot make the edge spin.
const MAX_NAME_DECODES = 8;
const PERCENT_ESCAPE = /%([0-9A-Fa-f]{2})/g;

// Percent-decodes leniently: a valid %XX becomes its byte, anything else
// stays as it is, and bytes that are not UTF-8 become U+FFFD.
function lenientDecode(text) {
  const chunks = [];
  let last = 0;
  for (const match of text.matchAll(PERCENT_ESCAPE)) {
    chunks.push(Buffer.from(text.slice(last, match.index), "utf8"), Buffer.from([parseInt(match[1], 16)]));
    last = match.index + 3;
  }
  chunks.push(Buffer.from(text.slice(last), "utf8"));
  return Buffer.concat(chunks).toString("utf8");
}

function isTokenParam(param) {
  const eq = param.indexOf("=");
  let name = (eq < 0 ? param : param.slice(0, eq)).replace(/\+/g, " ");
  for (let round = 0; round < MAX_NAME_DECODES; round += 1) {
    const decoded = lenientDecode(name);
    if (decoded === name) break;
    name = decoded;
  }
  const folded = name.normalize("NFKC").trim().toLowerCase();
  return folded === "token" || folded.replace(/\uFFFD/g, "") === "token";
}

// Which token the request presents: the Authorization header's, or with
// query tokens enabled the query's (moved into the header). Two tokens that
// disagree are refused: the header and the query, or two query tokens.
function presentedToken(config, request) {
  const queryTokens = takeQueryTokens(request);
  const found = headerToken(request);
  if (!config.queryToken || queryTokens.length === 0) return found;
  if (new Set(queryTokens).size > 1) return { reason: "the query carries tokens that disagree" };
  if (found.token !== undefined && found.token !== queryTokens[0]) {
    return { reason: "the Authorization header and the query token disagree" };
  }
  if (found.missing) {
    request.headers.authorization = header("Authorization", `Bearer ${queryTokens[0]}`);
    return headerToken(request);
  }
  return found;
}

// After verification, what the library does not hold to the letter
// (RFC 7519): a token without `exp` would never expire; `iat`/`nbf` in the
// future beyond the clock skew; an RSA key too short to trust.
function unacceptable(payload, jwk) {
  if (typeof payload.exp !== "number") return "the token has no exp claim";
  const now = Date.now() / 1000;
  for (const claim of ["iat", "nbf"]) {
    if (typeof payload[claim] === "number" && payload[claim] > now + SKEW_SECONDS) {
      return `the token's ${claim} is in the future`;
    }
  }
  const bits = jwk && jwk.n ? Buffer.from(jwk.n, "base64url").toString("hex").replace(/^(00)+/, "").length * 4 : 0;
  if (bits < MIN_RSA_BITS) return `the signing key has ${bits} bits; at least ${MIN_RSA_BITS} are required`;
  return null;
}

// Before verification (RFC 7515 4.1.11): a `crit` header names extensions
// this authorizer does not understand, so the token is refused.
function critical(token) {
  try {
    return decomposeUnverifiedJwt(token).header.crit !== undefined;
  } catch {
    return false; // malformed: the verifier says why
  }
}

// Error text from the verifier, with any part of the token cut out.
function reason(error, token) {
  let text = `${error && error.name}: ${error && error.message}`;
  for (const part of [token, ...String(token || "").split(".")]) {
    if (part && part.length >= 8) text = text.split(part).join("[token]");
  }
  return text;
}

function log(event, fields) {
  console.log(JSON.stringify({ authorizer: event, ...fields }));
}

function createHandler(config) {
  const { verifier, keys } = createVerifier(config);
  return async function handler(event) {
    let request;
    try {
      request = event.Records[0].cf.request;
      request.headers = request.headers || {};
      if (request.method === "OPTIONS") return preflight(config, request);

      const found = presentedToken(config, request);
      if (found.missing) {
        log("deny", { reason: "no Authorization header", uri: request.uri });
        return deny(config, request, true);
      }
      if (!found.token) {
        log("deny", { reason: found.reason, uri: request.uri });
        return deny(config, request, false);
      }
      if (found.token.length > MAX_TOKEN_LENGTH) {
        log("deny", { reason: "token too long", uri: request.uri });
        return deny(config, request, false);
      }
      if (critical(found.token)) {
        log("deny", { reason: "the JWS header names critical extensions (crit), which are not understood", uri: request.uri });
        return deny(config, request, false);
      }
      let payload;
      try {
        payload = await verifier.verify(found.token);
      } catch (error) {
        log("deny", { reason: reason(error, found.token), uri: request.uri });
        return deny(config, request, false);
      }
      const jwk = keys.get(decomposeUnverifiedJwt(found.token).header.kid);
      const unaccepted = unacceptable(payload, jwk);
      if (unaccepted) {
        log("deny", { reason: unaccepted, uri: request.uri });
        return deny(config, request, false);
      }
      // Before the cache, on hits too: the data store, the operation, the
      // viewer's claim, and the one canonical query.
      const refused = checkHealthImaging(config.healthimaging, request, payload);
      if (refused) {
        log("refuse", { status: refused.status, reason: refused.reason, uri: request.uri });
        return refuse(config, request, refused.status);
      }
      // Shared cache (the default): the token has done its job here, so it
      // reaches neither the cache key nor the origin. Per-viewer mode
      // (forwardCredentials) passes it on for the proxy's own check.
      if (!config.forwardCredentials) delete request.headers.authorization;
      return request;
    } catch (error) {
      // A malformed event or a bug: deny, never allow, never throw.
      log("error", { reason: String(error && error.name) });
      return deny(config, request || { headers: {} }, false);
    }
  };
}

module.exports = { createHandler, loadConfig };

// In the deployed bundle, config.json sits beside index.js.
let deployed;
module.exports.handler = async (event) => {
  if (!deployed) {
    try {
      deployed = createHandler(loadConfig(__dirname));
    } catch (error) {
      log("error", { reason: `config.json: ${error.message}` });
      return deny({ corsAllowOrigins: [] }, { headers: {} }, false);
    }
  }
  return deployed(event);
};
