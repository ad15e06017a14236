"use strict";

const assert = require("node:assert/strict");
const { after, before, describe, test } = require("node:test");

const { createHandler } = require("../src/handler.js");
const s = require("./support.js");

const key = s.keyPair("key-1");
let jwks;
let handler;

before(async () => {
  jwks = await s.jwksServer([key]);
  handler = createHandler(s.cognitoConfig(jwks.url));
});
after(() => jwks.close());

// Runs the handler and checks the rules every denial must follow.
async function expectDenied(event, token, { missing = false } = {}) {
  const { result, lines } = await s.captureLogs(() => handler(event));
  assert.equal(result.status, "401", JSON.stringify(result));
  assert.equal(result.headers["access-control-allow-origin"][0].value, "*", "401s carry CORS headers");
  assert.equal(result.headers["www-authenticate"][0].value, missing ? "Bearer" : 'Bearer error="invalid_token"');
  assert.equal(result.body, '{"message":"Unauthorized"}');
  if (token) {
    for (const part of [token, ...token.split(".").filter((p) => p.length >= 8)]) {
      assert.ok(!JSON.stringify(result).includes(part), "the answer never echoes the token");
      assert.ok(!lines.join("\n").includes(part), "the log never holds the token");
    }
  }
  assert.ok(lines.some((l) => l.includes('"deny"')), "the reason is logged");
  return { result, lines };
}

describe("valid tokens", () => {
  test("a valid access token passes with the request unchanged but for the credentials (shared cache)", async () => {
    const token = s.sign(key, s.accessClaims());
    const event = s.viewerRequest({ headers: { Authorization: `Bearer ${token}`, Accept: "*/*" }, querystring: "imageFrameId=f1" });
    const expected = JSON.parse(JSON.stringify(event.Records[0].cf.request));
    delete expected.headers.authorization;
    const result = await handler(event);
    assert.deepEqual(result, expected);
    assert.ok(!JSON.stringify(result).includes(token), "the token goes no further than the edge");
  });

  test("per-viewer mode (forwardCredentials) passes the request on unchanged, token included", async () => {
    const perViewer = createHandler(s.cognitoConfig(jwks.url, { forwardCredentials: true }));
    const token = s.sign(key, s.accessClaims());
    const event = s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: "imageFrameId=f1" });
    const before = JSON.stringify(event.Records[0].cf.request);
    assert.equal(JSON.stringify(await perViewer(event)), before);
  });

  test("shared cache with query tokens: neither the query token nor a header reaches the origin", async () => {
    const h = createHandler(s.cognitoConfig(jwks.url, { queryToken: true }));
    const token = s.sign(key, s.accessClaims());
    const result = await h(s.viewerRequest({ querystring: `imageFrameId=f1&token=${token}` }));
    assert.equal(result.querystring, "imageFrameId=f1");
    assert.equal(result.headers.authorization, undefined);
  });

  test("the scheme is case-insensitive and surrounding whitespace is tolerated", async () => {
    const token = s.sign(key, s.accessClaims());
    for (const value of [`bearer ${token}`, `BEARER ${token}`, `  Bearer   ${token}  `]) {
      const result = await handler(s.viewerRequest({ headers: { Authorization: value } }));
      assert.equal(result.method, "GET", value);
    }
  });

  test("the JWKS is fetched once and cached across requests", async () => {
    const fresh = await s.jwksServer([key]);
    const h = createHandler(s.cognitoConfig(fresh.url));
    for (let i = 0; i < 5; i += 1) {
      const result = await h(s.viewerRequest({ headers: { Authorization: `Bearer ${s.sign(key, s.accessClaims())}` } }));
      assert.equal(result.method, "GET");
    }
    assert.equal(fresh.hits, 1);
    await fresh.close();
  });

  test("a key added to the JWKS after the first fetch is picked up (unknown kid refetches)", async () => {
    const rotated = s.keyPair("key-2");
    const server = await s.jwksServer([key]);
    const h = createHandler(s.cognitoConfig(server.url));
    assert.equal((await h(s.viewerRequest({ headers: { Authorization: `Bearer ${s.sign(key, s.accessClaims())}` } }))).method, "GET");
    server.keys.push(rotated);
    const result = await h(s.viewerRequest({ headers: { Authorization: `Bearer ${s.sign(rotated, s.accessClaims())}` } }));
    assert.equal(result.method, "GET");
    assert.equal(server.hits, 2);
    await server.close();
  });
});

describe("invalid tokens are refused", () => {
  const cases = {
    expired: () => s.sign(key, s.accessClaims({ exp: Math.floor(Date.now() / 1000) - 60 })),
    "not yet valid": () => s.sign(key, s.accessClaims({ nbf: Math.floor(Date.now() / 1000) + 600 })),
    "wrong issuer": () => s.sign(key, s.accessClaims({ iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" })),
    "wrong client id": () => s.sign(key, s.accessClaims({ client_id: "client-b" })),
    "id token where access is required": () =>
      s.sign(key, s.accessClaims({ token_use: "id", aud: s.CLIENT, client_id: undefined })),
    "alg none": () => `${s.b64url({ alg: "none", typ: "JWT", kid: "key-1" })}.${s.b64url(s.accessClaims())}.`,
    "HS256 signed with the public key as secret": () => {
      const crypto = require("crypto");
      const input = `${s.b64url({ alg: "HS256", typ: "JWT", kid: "key-1" })}.${s.b64url(s.accessClaims())}`;
      const secret = key.publicKey.export({ type: "spki", format: "pem" });
      return `${input}.${crypto.createHmac("sha256", secret).update(input).digest("base64url")}`;
    },
    "tampered payload": () => {
      const [h, , sig] = s.sign(key, s.accessClaims()).split(".");
      return `${h}.${s.b64url(s.accessClaims({ sub: "admin" }))}.${sig}`;
    },
    "tampered signature": () => {
      const token = s.sign(key, s.accessClaims());
      const last = token.at(-2) === "A" ? "B" : "A";
      return token.slice(0, -2) + last + token.at(-1);
    },
    "unknown kid": () => s.sign(s.keyPair("key-unknown"), s.accessClaims()),
    "a 10 KB garbage token": () => `${"x".repeat(5000)}.${"y".repeat(5000)}.${"z".repeat(300)}`,
  };
  for (const [name, make] of Object.entries(cases)) {
    test(name, async () => {
      const token = make();
      await expectDenied(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } }), token);
    });
  }
});

describe("malformed Authorization headers are refused", () => {
  test("missing header", async () => {
    await expectDenied(s.viewerRequest(), null, { missing: true });
  });

  test("Bearer with no token", async () => {
    await expectDenied(s.viewerRequest({ headers: { Authorization: "Bearer " } }), null);
    await expectDenied(s.viewerRequest({ headers: { Authorization: "Bearer" } }), null);
  });

  test("another scheme", async () => {
    const token = s.sign(key, s.accessClaims());
    await expectDenied(s.viewerRequest({ headers: { Authorization: `Basic ${token}` } }), token);
  });

  test("two Authorization headers", async () => {
    const token = s.sign(key, s.accessClaims());
    await expectDenied(s.viewerRequest({ headers: { Authorization: [`Bearer ${token}`, `Bearer ${token}`] } }), token);
  });

  test('a header ending in ", "', async () => {
    const token = s.sign(key, s.accessClaims());
    await expectDenied(s.viewerRequest({ headers: { Authorization: `Bearer ${token}, ` } }), token);
  });

  test("a malformed event never throws", async () => {
    const { result } = await s.captureLogs(() => handler({ Records: [] }));
    assert.equal(result.status, "401");
  });
});

describe("JWKS unreachable", () => {
  test("denies, never allows", async () => {
    const server = await s.jwksServer([key]);
    const url = server.url;
    await server.close();
    const h = createHandler(s.cognitoConfig(url));
    const token = s.sign(key, s.accessClaims());
    const { result, lines } = await s.captureLogs(() => h(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } })));
    assert.equal(result.status, "401");
    assert.ok(lines.join("\n").includes("Failed to fetch"), lines.join("\n"));
  });
});

describe("CORS preflight", () => {
  for (const withToken of [false, true]) {
    test(`answered at the edge ${withToken ? "with" : "without"} a token`, async () => {
      const headers = { Origin: "https://viewer.example.com", "Access-Control-Request-Method": "GET" };
      if (withToken) headers.Authorization = "Bearer not-even-a-jwt";
      const result = await handler(s.viewerRequest({ method: "OPTIONS", headers }));
      assert.equal(result.status, "204");
      assert.equal(result.headers["access-control-allow-origin"][0].value, "*");
      assert.equal(result.headers["access-control-allow-methods"][0].value, "GET, HEAD, POST, OPTIONS");
      const allowed = result.headers["access-control-allow-headers"][0].value.split(",").map((h) => h.trim());
      assert.ok(allowed.includes("authorization") && allowed.includes("content-type"), allowed.join());
      assert.equal(result.headers["access-control-max-age"][0].value, "86400");
    });
  }

  test("a configured origin list echoes only listed origins", async () => {
    const h = createHandler(s.cognitoConfig(jwks.url, { corsAllowOrigins: ["https://viewer.example.com"] }));
    const ok = await h(s.viewerRequest({ method: "OPTIONS", headers: { Origin: "https://viewer.example.com" } }));
    assert.equal(ok.headers["access-control-allow-origin"][0].value, "https://viewer.example.com");
    assert.equal(ok.headers.vary[0].value, "Origin");
    const other = await h(s.viewerRequest({ method: "OPTIONS", headers: { Origin: "https://evil.example.com" } }));
    assert.equal(other.headers["access-control-allow-origin"], undefined);
  });
});

describe("query-string tokens", () => {
  test("off (default): a query token is not accepted", async () => {
    const token = s.sign(key, s.accessClaims());
    const { result } = await s.captureLogs(() => handler(s.viewerRequest({ querystring: `token=${token}` })));
    assert.equal(result.status, "401");
  });

  test("on, per-viewer: moved into Authorization and stripped from the query string", async () => {
    const h = createHandler(s.cognitoConfig(jwks.url, { queryToken: true, forwardCredentials: true }));
    const token = s.sign(key, s.accessClaims());
    const result = await h(s.viewerRequest({ querystring: `imageFrameId=f1&token=${token}&x=2` }));
    assert.equal(result.querystring, "imageFrameId=f1&x=2");
    assert.equal(result.headers.authorization[0].value, `Bearer ${token}`);
  });

  test("on: an invalid query token is refused and not echoed", async () => {
    const h = createHandler(s.cognitoConfig(jwks.url, { queryToken: true }));
    const token = s.sign(key, s.accessClaims({ exp: 1 }));
    const { result, lines } = await s.captureLogs(() => h(s.viewerRequest({ querystring: `token=${token}` })));
    assert.equal(result.status, "401");
    assert.ok(!JSON.stringify(result).includes(token) && !lines.join().includes(token.split(".")[1]));
  });
});

describe("tokens held to the letter", () => {
  test("a token without exp is refused (it would never expire)", async () => {
    const token = s.sign(key, s.accessClaims({ exp: undefined }));
    const { lines } = await expectDenied(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } }), token);
    assert.ok(lines.some((l) => l.includes("no exp claim")), lines.join("\n"));
  });

  test("a JWS header with crit is refused (RFC 7515 4.1.11)", async () => {
    const token = s.sign(key, s.accessClaims(), { crit: ["exp-ext"], "exp-ext": 1 });
    const { lines } = await expectDenied(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } }), token);
    assert.ok(lines.some((l) => l.includes("critical extensions")), lines.join("\n"));
  });

  test("iat beyond the clock skew in the future is refused", async () => {
    const year = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
    const token = s.sign(key, s.accessClaims({ iat: year, exp: year + 3600 }));
    const { lines } = await expectDenied(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } }), token);
    assert.ok(lines.some((l) => l.includes("iat is in the future")), lines.join("\n"));
  });

  test("an RSA key shorter than 2048 bits is refused even when the JWKS publishes it", async () => {
    const weak = s.keyPair("key-weak", "RS256", 1024);
    const server = await s.jwksServer([key, weak]);
    try {
      const h = createHandler(s.cognitoConfig(server.url));
      const token = s.sign(weak, s.accessClaims());
      const { result, lines } = await s.captureLogs(() => h(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } })));
      assert.equal(result.status, "401");
      assert.ok(lines.some((l) => l.includes("1024 bits; at least 2048")), lines.join("\n"));
      assert.ok(!lines.join().includes(token.split(".")[1]));
      const strong = await h(s.viewerRequest({ headers: { Authorization: `Bearer ${s.sign(key, s.accessClaims())}` } }));
      assert.equal(strong.method, "GET", "a 2048-bit key from the same JWKS passes");
    } finally {
      server.close();
    }
  });
});

describe("query tokens never travel on", () => {
  test("off: a token parameter is stripped from a request the header authorizes", async () => {
    const token = s.sign(key, s.accessClaims());
    const other = s.sign(key, s.accessClaims({ sub: "someone-else" }));
    const result = await handler(
      s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: `imageFrameId=f1&token=${other}` }),
    );
    assert.equal(result.method, "GET");
    assert.equal(result.querystring, "imageFrameId=f1");
  });

  test("on: a header and a query token that disagree are refused", async () => {
    const h = createHandler(s.cognitoConfig(jwks.url, { queryToken: true }));
    const token = s.sign(key, s.accessClaims());
    const other = s.sign(key, s.accessClaims({ sub: "someone-else" }));
    const { result, lines } = await s.captureLogs(() =>
      h(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: `token=${other}` })),
    );
    assert.equal(result.status, "401");
    assert.ok(lines.some((l) => l.includes("disagree")), lines.join("\n"));
    assert.ok(!lines.join().includes(other.split(".")[1]) && !JSON.stringify(result).includes(other));
  });

  test("on: two query tokens that disagree are refused; the same token twice passes, stripped", async () => {
    const h = createHandler(s.cognitoConfig(jwks.url, { queryToken: true }));
    const token = s.sign(key, s.accessClaims());
    const other = s.sign(key, s.accessClaims({ sub: "someone-else" }));
    const { result } = await s.captureLogs(() => h(s.viewerRequest({ querystring: `token=${token}&token=${other}` })));
    assert.equal(result.status, "401");
    const same = await h(
      s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: `x=1&token=${token}` }),
    );
    assert.equal(same.method, "GET");
    assert.equal(same.querystring, "x=1");
  });
});

describe("OIDC issuers", () => {
  for (const alg of ["RS256", "RS384", "RS512"]) {
    test(`${alg} tokens with an allowed audience pass, others are refused`, async () => {
      const oidcKey = s.keyPair(`oidc-${alg}`, alg);
      const server = await s.jwksServer([oidcKey]);
      const h = createHandler({ mode: "oidc", issuer: "https://login.example.com", jwksUri: server.url, audiences: ["ahi-viewer"], corsAllowOrigins: ["*"] });
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: "https://login.example.com", aud: "ahi-viewer", sub: "u1", iat: now, exp: now + 600 };
      const good = await h(s.viewerRequest({ headers: { Authorization: `Bearer ${s.sign(oidcKey, claims)}` } }));
      assert.equal(good.method, "GET");
      const wrongAudience = s.sign(oidcKey, { ...claims, aud: "someone-else" });
      const { result } = await s.captureLogs(() => h(s.viewerRequest({ headers: { Authorization: `Bearer ${wrongAudience}` } })));
      assert.equal(result.status, "401");
      await server.close();
    });
  }
});
