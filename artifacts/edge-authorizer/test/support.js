// Test support: keys, signed tokens, a TLS JWKS server on loopback, and
// CloudFront viewer-request events in the shape AWS documents.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const https = require("https");
const path = require("path");

const POOL = "us-east-1_TestPool1";
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const CLIENT = "client-a";

function b64url(data) {
  return Buffer.from(typeof data === "string" ? data : JSON.stringify(data)).toString("base64url");
}

function keyPair(kid, alg = "RS256", modulusLength = 2048) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg, use: "sig" };
  return { kid, alg, publicKey, privateKey, jwk };
}

const HASH = { RS256: "sha256", RS384: "sha384", RS512: "sha512" };

function sign(key, payload, headerOverrides = {}) {
  const header = { alg: key.alg, kid: key.kid, typ: "JWT", ...headerOverrides };
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = crypto.sign(HASH[key.alg], Buffer.from(input), key.privateKey).toString("base64url");
  return `${input}.${signature}`;
}

function accessClaims(overrides = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: "b1f6f1a2-0000-4000-8000-000000000001",
    iss: ISSUER,
    client_id: CLIENT,
    token_use: "access",
    scope: "openid",
    auth_time: now - 10,
    iat: now - 10,
    exp: now + 3600,
    jti: crypto.randomUUID(),
    ...overrides,
  };
}

// A JWKS over HTTPS on 127.0.0.1 (aws-jwt-verify fetches over https only);
// the test script trusts the fixture certificate via NODE_EXTRA_CA_CERTS.
async function jwksServer(keys) {
  const fixtures = path.join(__dirname, "fixtures");
  const state = { keys: [...keys], hits: 0 };
  const server = https.createServer(
    { key: fs.readFileSync(path.join(fixtures, "loopback-key.pem")), cert: fs.readFileSync(path.join(fixtures, "loopback-cert.pem")) },
    (req, res) => {
      state.hits += 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
    },
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `https://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  // Node 20's global agent keeps connections alive: close them too, or
  // `close` waits on a socket the verifier still holds.
  state.close = () =>
    new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  return state;
}

function cognitoConfig(jwksUri, overrides = {}) {
  return {
    mode: "cognito_jwt",
    userPoolId: POOL,
    jwksUri,
    clientIds: [CLIENT],
    tokenUse: "access",
    corsAllowOrigins: ["*"],
    queryToken: false,
    ...overrides,
  };
}

function viewerRequest({ method = "GET", headers = {}, querystring = "", uri } = {}) {
  const cfHeaders = { host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }] };
  for (const [name, value] of Object.entries(headers)) {
    const values = Array.isArray(value) ? value : [value];
    cfHeaders[name.toLowerCase()] = values.map((v) => ({ key: name, value: v }));
  }
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "viewer-request",
            requestId: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
          },
          request: {
            clientIp: "203.0.113.178",
            headers: cfHeaders,
            method,
            querystring,
            uri: uri || "/datastore/ds1/imageSet/is1/getImageFrame",
          },
        },
      },
    ],
  };
}

// Captures console.log lines during `fn`, to prove no token is logged.
async function captureLogs(fn) {
  const lines = [];
  const original = console.log;
  console.log = (...args) => lines.push(args.join(" "));
  try {
    return { result: await fn(), lines };
  } finally {
    console.log = original;
  }
}

module.exports = { POOL, ISSUER, CLIENT, b64url, keyPair, sign, accessClaims, jwksServer, cognitoConfig, viewerRequest, captureLogs };
