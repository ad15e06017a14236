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
const { SimpleJwksCache } = require("aws-jwt-verify/jwk");
const { SimpleFetcher } = require("aws-jwt-verify/https");

// A JWT longer than this is refused before any parsing (CloudFront allows
// 20 KB of headers; real access tokens are 1-2 KB).
const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^\s*bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i;
const PREFLIGHT_MAX_AGE = "86400";

function loadConfig(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
}

// JWKS fetches go to config.jwksUri. For Cognito that is the pool's own
// JWKS URL (the library would derive the same); the setting lets a test or a
// JWKS mirror serve the keys instead.
function jwksCacheFor(jwksUri) {
  const fetcher = new SimpleFetcher({ defaultRequestOptions: { responseTimeout: 1500 } });
  return new SimpleJwksCache({ fetcher: { fetch: () => fetcher.fetch(jwksUri) } });
}

function createVerifier(config) {
  const common = { graceSeconds: 5, includeRawJwtInErrors: false };
  const jwksCache = jwksCacheFor(config.jwksUri);
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

// With query tokens enabled, `?token=<jwt>` is moved into the Authorization
// header and removed from the URL, so it reaches neither the origin's URL
// nor the cache key.
function takeQueryToken(request) {
  const params = (request.querystring || "").split("&").filter((p) => p !== "");
  const kept = params.filter((p) => !p.startsWith("token="));
  const taken = params.find((p) => p.startsWith("token="));
  if (taken === undefined) return null;
  request.querystring = kept.join("&");
  let token;
  try {
    token = decodeURIComponent(taken.slice("token=".length));
  } catch {
    token = "";
  }
  request.headers.authorization = header("Authorization", `Bearer ${token}`);
  return token;
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
  const verifier = createVerifier(config);
  return async function handler(event) {
    let request;
    try {
      request = event.Records[0].cf.request;
      request.headers = request.headers || {};
      if (request.method === "OPTIONS") return preflight(config, request);

      let found = headerToken(request);
      if (found.missing && config.queryToken) {
        const token = takeQueryToken(request);
        if (token !== null) found = headerToken(request);
      }
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
      try {
        await verifier.verify(found.token);
      } catch (error) {
        log("deny", { reason: reason(error, found.token), uri: request.uri });
        return deny(config, request, false);
      }
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
