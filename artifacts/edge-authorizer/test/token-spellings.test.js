"use strict";

// A token query parameter in any spelling an origin might decode to `token`
// is taken off the forwarded query string, and counts as a presented token:
// one that disagrees with the header, or two that disagree, are a 401.

const assert = require("node:assert/strict");
const { after, before, describe, test } = require("node:test");

const { createHandler } = require("../src/handler.js");
const s = require("./support.js");

const key = s.keyPair("spelling-key");
let jwks;

before(async () => {
  jwks = await s.jwksServer([key]);
});
after(() => jwks.close());

// Each name decodes (percent-decoding, `+` as space, NFKC, case folding) to
// `token` in some origin's reading.
const SPELLINGS = [
  "token",
  "Token",
  "TOKEN",
  "tOkEn",
  "%74oken",
  "t%6Fken",
  "t%6fken",
  "%54%4F%4B%45%4E",
  "%2574oken", // encoded twice
  "%252574oken", // three times
  "+token", // a leading space in form decoding
  "token%20",
  "%EF%BD%94oken", // fullwidth t, NFKC t
  "to%E2%84%AAen", // KELVIN SIGN, NFKC K
  "tok%FFen", // an origin that drops bytes that are not UTF-8
];

// Names close to `token` that are other parameters and must stay.
const NOT_TOKENS = ["nextToken", "tokens", "tok+en", "to%20ken", "token_use", "xtoken", "tok%00en"];

function handlerWith(overrides) {
  return createHandler(s.cognitoConfig(jwks.url, overrides));
}

function params(querystring) {
  return querystring.split("&").filter((p) => p !== "");
}

// Everything a 401 says and logs, checked free of every part of each token.
function assertNoToken(result, lines, tokens) {
  const said = JSON.stringify(result) + lines.join("\n");
  for (const token of tokens) {
    for (const part of [token, ...token.split(".").filter((p) => p.length >= 8)]) {
      assert.ok(!said.includes(part), `the answer and the log hold no part of the token: ${said}`);
    }
  }
}

describe("token parameters in any spelling", () => {
  for (const name of SPELLINGS) {
    test(`off: ${name}= is stripped from a request the header authorizes`, async () => {
      const token = s.sign(key, s.accessClaims());
      const other = s.sign(key, s.accessClaims({ sub: "someone-else" }));
      const result = await handlerWith({})(
        s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: `imageFrameId=f1&${name}=${other}&x=2` }),
      );
      assert.equal(result.method, "GET", JSON.stringify(result));
      assert.deepEqual(params(result.querystring), ["imageFrameId=f1", "x=2"]);
      assert.ok(!JSON.stringify(result).includes(other.split(".")[1]), "the query token goes no further than the edge");
    });

    test(`on: ${name}= alone is moved into Authorization and stripped`, async () => {
      const token = s.sign(key, s.accessClaims());
      const result = await handlerWith({ queryToken: true, forwardCredentials: true })(
        s.viewerRequest({ querystring: `${name}=${token}&imageFrameId=f1` }),
      );
      assert.equal(result.method, "GET", JSON.stringify(result));
      assert.equal(result.querystring, "imageFrameId=f1");
      assert.equal(result.headers.authorization[0].value, `Bearer ${token}`);
    });

    test(`on: ${name}= disagreeing with the header is a 401 that holds neither token`, async () => {
      const token = s.sign(key, s.accessClaims());
      const other = s.sign(key, s.accessClaims({ sub: "someone-else" }));
      const { result, lines } = await s.captureLogs(() =>
        handlerWith({ queryToken: true })(
          s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: `${name}=${other}` }),
        ),
      );
      assert.equal(result.status, "401", JSON.stringify(result));
      assert.ok(lines.some((l) => l.includes("disagree")), lines.join("\n"));
      assertNoToken(result, lines, [token, other]);
    });

    test(`on: token= and ${name}= with different values are a 401 that holds neither token`, async () => {
      const token = s.sign(key, s.accessClaims());
      const other = s.sign(key, s.accessClaims({ sub: "someone-else" }));
      const { result, lines } = await s.captureLogs(() =>
        handlerWith({ queryToken: true })(s.viewerRequest({ querystring: `token=${token}&${name}=${other}` })),
      );
      assert.equal(result.status, "401", JSON.stringify(result));
      assert.ok(lines.some((l) => l.includes("disagree")), lines.join("\n"));
      assertNoToken(result, lines, [token, other]);
    });
  }

  test("on: the same token under several spellings passes, every copy stripped", async () => {
    const token = s.sign(key, s.accessClaims());
    const query = [...SPELLINGS.map((n) => `${n}=${token}`), "imageFrameId=f1"].join("&");
    const result = await handlerWith({ queryToken: true })(
      s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: query }),
    );
    assert.equal(result.method, "GET", JSON.stringify(result));
    assert.equal(result.querystring, "imageFrameId=f1");
  });

  test("on: a bare token parameter (no value) next to a header token disagrees", async () => {
    const token = s.sign(key, s.accessClaims());
    const { result, lines } = await s.captureLogs(() =>
      handlerWith({ queryToken: true })(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: "Token" })),
    );
    assert.equal(result.status, "401");
    assertNoToken(result, lines, [token]);
  });

  test("names that only resemble token are other parameters and stay", async () => {
    const token = s.sign(key, s.accessClaims());
    const query = NOT_TOKENS.map((n, i) => `${n}=v${i}`).join("&");
    const result = await handlerWith({ queryToken: true })(
      s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: query }),
    );
    assert.equal(result.method, "GET", JSON.stringify(result));
    assert.equal(result.querystring, query);
  });

  test("a name encoded more times than the decoder's bound is left alone, not looped on", async () => {
    let name = "token";
    for (let i = 0; i < 40; i += 1) name = encodeURIComponent(name.replace(/^t/, "%74"));
    const token = s.sign(key, s.accessClaims());
    const result = await handlerWith({})(
      s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring: `${name}=1` }),
    );
    assert.equal(result.method, "GET");
    assert.equal(result.querystring, `${name}=1`, "kept: no origin decodes a name 40 times");
  });
});
