"use strict";

// The HealthImaging scope at the edge: data store and operation refusals,
// the canonical query table, and per-viewer claim scoping, through the
// handler with real signed tokens and a JWKS server.

const assert = require("node:assert/strict");
const { after, before, describe, test } = require("node:test");

const { createHandler } = require("../src/handler.js");
const { canonicalQuery } = require("../src/scope.js");
const s = require("./support.js");

const A = "a".repeat(32);
const B = "b".repeat(32);
const C = "c".repeat(32);
const SET = "1".repeat(32);
const FRAME_A = "f".repeat(32);
const FRAME_B = "e".repeat(32);
const VIEWING = ["GetImageFrame", "GetImageSetMetadata", "GetImageSet"];

const key = s.keyPair("key-scope");
let jwks;

before(async () => {
  jwks = await s.jwksServer([key]);
});
after(() => jwks.close());

function handlerWith(healthimaging, overrides = {}) {
  return createHandler(s.cognitoConfig(jwks.url, { healthimaging, ...overrides }));
}

const viewing = { datastores: [A, B], operations: VIEWING };

function frame(datastore, querystring = `imageFrameId=${FRAME_A}`) {
  return { uri: `/datastore/${datastore}/imageSet/${SET}/getImageFrame`, querystring };
}

async function send(h, { method = "GET", uri, querystring = "", claims = {} }) {
  const token = s.sign(key, s.accessClaims(claims));
  const event = s.viewerRequest({ method, uri, querystring, headers: { Authorization: `Bearer ${token}` } });
  const { result, lines } = await s.captureLogs(() => h(event));
  return { result, lines, token };
}

function assertRefused(result, status) {
  assert.equal(result.status, status, JSON.stringify(result));
  assert.equal(result.headers["cache-control"][0].value, "no-store");
  assert.equal(result.headers["access-control-allow-origin"][0].value, "*");
  assert.equal(result.body, status === "403" ? '{"message":"Forbidden"}' : '{"message":"Bad Request"}');
}

describe("data stores and operations", () => {
  test("a listed data store passes, its query already canonical", async () => {
    const { result } = await send(handlerWith(viewing), frame(A));
    assert.equal(result.uri, frame(A).uri);
    assert.equal(result.querystring, `imageFrameId=${FRAME_A}`);
    assert.equal(result.headers.authorization, undefined);
  });

  test("a data store the profile does not list is 403, whatever the query", async () => {
    const h = handlerWith(viewing);
    for (const querystring of [`imageFrameId=${FRAME_A}`, "", "x=%zz"]) {
      const { result, lines, token } = await send(h, frame(C, querystring));
      assertRefused(result, "403");
      assert.ok(lines.some((l) => l.includes("a data store the profile does not list")), lines.join("\n"));
      assert.ok(!lines.join("\n").includes(token.split(".")[2]), "the log never holds the token");
    }
  });

  test("an operation the profile does not enable is 403; mutations are never operations", async () => {
    const h = handlerWith(viewing);
    const cases = [
      { method: "POST", uri: `/datastore/${A}/searchImageSets` },
      { method: "GET", uri: `/datastore/${A}/imageSet/${SET}/listImageSetVersions` },
      { method: "POST", uri: `/datastore/${A}/imageSet/${SET}/deleteImageSet` },
      { method: "POST", uri: `/datastore/${A}/imageSet/${SET}/updateImageSetMetadata` },
      { method: "POST", uri: `/datastore/${A}/imageSet/${SET}/copyImageSet` },
      { method: "GET", uri: `/datastore/${A}` },
      { method: "GET", uri: `/datastore/${A}/imageSet/${SET}/getImageFrame/` },
    ];
    for (const request of cases) {
      const { result } = await send(h, request);
      assertRefused(result, "403");
    }
  });

  test("enabled search passes as a POST with canonical paging; reads are GET only", async () => {
    const h = handlerWith({ datastores: [A], operations: [...VIEWING, "SearchImageSets", "ListImageSetVersions"] });
    const search = await send(h, { method: "POST", uri: `/datastore/${A}/searchImageSets`, querystring: "nextToken=a%2Fb&maxResults=5" });
    assert.equal(search.result.querystring, "maxResults=5&nextToken=a%2Fb");
    assertRefused((await send(h, { method: "GET", uri: `/datastore/${A}/searchImageSets` })).result, "403");
    assertRefused((await send(h, { method: "POST", ...frame(A) })).result, "403");
    const versions = await send(h, { uri: `/datastore/${A}/imageSet/${SET}/listImageSetVersions`, querystring: "maxResults=50" });
    assert.equal(versions.result.querystring, "maxResults=50");
  });

  test("ids that are not 32 lower-case letters or digits are 400", async () => {
    const h = handlerWith(viewing);
    for (const uri of [
      `/datastore/${A.toUpperCase()}/imageSet/${SET}/getImageFrame`,
      `/datastore/${A}/imageSet/${SET}x/getImageFrame`,
      `/datastore/%61${A.slice(1)}/imageSet/${SET}/getImageFrame`,
    ]) {
      assertRefused((await send(h, { uri, querystring: `imageFrameId=${FRAME_A}` })).result, "400");
    }
  });

  test("requests outside /datastore/ are not HealthImaging's and pass untouched", async () => {
    const { result } = await send(handlerWith(viewing), { uri: "/viewer/index.html", querystring: "a=1&A=2" });
    assert.equal(result.querystring, "a=1&A=2");
  });
});

describe("one canonical query", () => {
  // [operation, query as sent, canonical form or null for a 400]
  const table = [
    ["getImageFrame", `imageFrameId=${FRAME_A}`, `imageFrameId=${FRAME_A}`],
    ["getImageFrame", `imageFrameId=%66${FRAME_A.slice(1)}`, `imageFrameId=${FRAME_A}`],
    ["getImageFrame", `&&imageFrameId=${FRAME_A}&`, `imageFrameId=${FRAME_A}`],
    ["getImageFrame", `imageFrame%49d=${FRAME_A}&imageFrameId=${FRAME_B}`, null],
    ["getImageFrame", `imageFrameId=${FRAME_B}&imageFrame%49d=${FRAME_A}`, null],
    ["getImageFrame", `imageFrameId=${FRAME_A}&imageFrameId=${FRAME_B}`, null],
    ["getImageFrame", `imageFrameId=${FRAME_A}&imageFrameId=${FRAME_A}`, null],
    ["getImageFrame", `ImageFrameId=${FRAME_A}`, null],
    ["getImageFrame", `IMAGEFRAMEID=${FRAME_A}`, null],
    ["getImageFrame", `imageFrameId=${FRAME_A}&debug=1`, null],
    ["getImageFrame", `imageFrameId=${FRAME_A}&version=1`, null],
    ["getImageFrame", `imageFrameId+=${FRAME_A}`, null],
    ["getImageFrame", `imageFrameId=${FRAME_A.toUpperCase()}`, null],
    ["getImageFrame", `imageFrameId=${FRAME_A}+`, null],
    ["getImageFrame", `imageFrameId=%zz`, null],
    ["getImageFrame", "imageFrameId", null],
    ["getImageFrame", "", null],
    ["getImageSetMetadata", "", ""],
    ["getImageSetMetadata", "version=1", "version=1"],
    ["getImageSetMetadata", "version=%31", "version=1"],
    ["getImageSetMetadata", "versio%6E=1", null],
    ["getImageSetMetadata", "Version=1", null],
    ["getImageSetMetadata", "version=01", null],
    ["getImageSetMetadata", "version=1&version=2", null],
    ["getImageSetMetadata", "version=-1", null],
    ["getImageSetMetadata", "version=12345678901", null],
    ["getImageSet", "version=7", "version=7"],
    ["listImageSetVersions", "nextToken=abc&maxResults=5", "maxResults=5&nextToken=abc"],
    ["listImageSetVersions", "nextToken=a%2fb%7E", "nextToken=a%2Fb~"],
    ["listImageSetVersions", "nextToken=a b", "nextToken=a%20b"],
    ["listImageSetVersions", "nextToken=a%2Bb", "nextToken=a%2Bb"],
    ["listImageSetVersions", "nextToken=a+b", null],
    ["listImageSetVersions", "nextToken=%C3%A9", null],
    ["listImageSetVersions", "nextToken=", null],
    ["listImageSetVersions", `nextToken=${"x".repeat(8193)}`, null],
    ["listImageSetVersions", "maxResults=0", null],
    ["listImageSetVersions", "maxResults=51", null],
    ["listImageSetVersions", "maxResults=05", null],
    ["listImageSetVersions", "maxresults=5", null],
  ];
  for (const [op, query, canonical] of table) {
    test(`${op}?${query.slice(0, 80)} -> ${canonical === null ? "400" : canonical || "(none)"}`, () => {
      const out = canonicalQuery(op, query);
      if (canonical === null) assert.ok(out.error, JSON.stringify(out));
      else assert.deepEqual(out, { querystring: canonical });
    });
  }

  test("the canonical form is a fixed point (rewriting it again changes nothing)", () => {
    for (const [op, query, canonical] of table) {
      if (canonical !== null) assert.deepEqual(canonicalQuery(op, canonical), { querystring: canonical }, query);
    }
  });

  test("through the handler: a poisoning probe is 400 and a disguised frame id is rewritten", async () => {
    const h = handlerWith(viewing);
    const probe = await send(h, frame(A, `imageFrame%49d=${FRAME_A}&imageFrameId=${FRAME_B}`));
    assertRefused(probe.result, "400");
    const disguised = await send(h, frame(A, `imageFrameId=%66${FRAME_A.slice(1)}`));
    assert.equal(disguised.result.querystring, `imageFrameId=${FRAME_A}`);
  });

  test("token parameters in any spelling are taken out before the query is judged", async () => {
    const h = handlerWith(viewing);
    const { result } = await send(h, frame(A, `imageFrameId=${FRAME_A}&%74oken=x.y.z&Token=x.y.z`));
    assert.equal(result.querystring, `imageFrameId=${FRAME_A}`);
  });
});

describe("per-viewer scoping from a token claim", () => {
  const scoped = { ...viewing, datastoreClaim: "cognito:groups", datastoreClaimPrefix: "ahi-datastore-" };

  test("a Cognito group ahi-datastore-<id> grants that data store and no other", async () => {
    const h = handlerWith(scoped, { tokenUse: "access" });
    const claims = { "cognito:groups": [`ahi-datastore-${A}`, "radiologists"] };
    const granted = await send(h, { ...frame(A), claims });
    assert.equal(granted.result.uri, frame(A).uri);
    const other = await send(h, { ...frame(B), claims });
    assertRefused(other.result, "403");
    assert.ok(other.lines.some((l) => l.includes("claim does not grant")), other.lines.join("\n"));
  });

  test("no claim, a claim of another shape, or a near-miss value grants nothing", async () => {
    const h = handlerWith(scoped);
    for (const claims of [
      {},
      { "cognito:groups": [] },
      { "cognito:groups": { [A]: true } },
      { "cognito:groups": [`AHI-DATASTORE-${A}`] },
      { "cognito:groups": [`ahi-datastore-${A}x`] },
      { "cognito:groups": [`x-ahi-datastore-${A}`] },
      { "cognito:groups": [A] },
    ]) {
      assertRefused((await send(h, { ...frame(A), claims })).result, "403");
    }
  });

  test("a claim can be a space-separated string, as OAuth scopes are", async () => {
    const h = handlerWith({ ...viewing, datastoreClaim: "scope", datastoreClaimPrefix: "ds:" });
    const { result } = await send(h, { ...frame(B), claims: { scope: `openid ds:${B}` } });
    assert.equal(result.uri, frame(B).uri);
    assertRefused((await send(h, { ...frame(A), claims: { scope: `openid ds:${B}` } })).result, "403");
  });

  test("the claim narrows the profile's list, never widens it", async () => {
    const h = handlerWith(scoped);
    const claims = { "cognito:groups": [`ahi-datastore-${C}`] };
    assertRefused((await send(h, { ...frame(C), claims })).result, "403");
  });
});
