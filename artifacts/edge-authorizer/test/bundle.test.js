"use strict";

// The committed bundle (dist/index.js), run the way Lambda runs it: from a
// directory that holds it and config.json, through the exported `handler`.

const assert = require("node:assert/strict");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { after, before, test } = require("node:test");

const s = require("./support.js");

const key = s.keyPair("bundle-key");
let jwks;
let dir;

before(async () => {
  jwks = await s.jwksServer([key]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ahi-authorizer-"));
  fs.copyFileSync(path.join(__dirname, "..", "dist", "index.js"), path.join(dir, "index.js"));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  return jwks.close();
});

// The scope every shipped config.json holds, and a frame inside it.
const DS = "a".repeat(32);
const SCOPE = { datastores: [DS], operations: ["GetImageFrame"] };
const FRAME = `/datastore/${DS}/imageSet/${"1".repeat(32)}/getImageFrame`;
const FRAME_ID = "f".repeat(32);

test("the bundle verifies tokens with the config.json beside it", async () => {
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(s.cognitoConfig(jwks.url, { healthimaging: SCOPE })));
  const { handler } = require(path.join(dir, "index.js"));
  const token = s.sign(key, s.accessClaims());
  const querystring = `imageFrameId=${FRAME_ID}`;
  const passed = await handler(s.viewerRequest({ uri: FRAME, querystring, headers: { Authorization: `Bearer ${token}` } }));
  assert.equal(passed.method, "GET");
  const { result } = await s.captureLogs(() => handler(s.viewerRequest({ uri: FRAME, querystring })));
  assert.equal(result.status, "401");
});

test("the bundle strips a token parameter in any spelling", async () => {
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(s.cognitoConfig(jwks.url, { healthimaging: SCOPE })));
  const { handler } = require(path.join(dir, "index.js"));
  const token = s.sign(key, s.accessClaims());
  const querystring = `%74oken=${token}&Token=${token}&t%6Fken=${token}&imageFrameId=${FRAME_ID}`;
  const passed = await handler(s.viewerRequest({ uri: FRAME, headers: { Authorization: `Bearer ${token}` }, querystring }));
  assert.equal(passed.querystring, `imageFrameId=${FRAME_ID}`);
});

// Fail closed: without the scope the bundle would pass every data store.
test("a config.json without the HealthImaging scope denies every request", async () => {
  const token = s.sign(key, s.accessClaims());
  for (const healthimaging of [undefined, null, {}, { datastores: [], operations: ["GetImageFrame"] }, { datastores: [DS] }]) {
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), "ahi-authorizer-"));
    fs.copyFileSync(path.join(dir, "index.js"), path.join(bare, "index.js"));
    fs.writeFileSync(path.join(bare, "config.json"), JSON.stringify(s.cognitoConfig(jwks.url, { healthimaging })));
    const { handler } = require(path.join(bare, "index.js"));
    const { result, lines } = await s.captureLogs(() =>
      handler(s.viewerRequest({ uri: FRAME, querystring: `imageFrameId=${FRAME_ID}`, headers: { Authorization: `Bearer ${token}` } })),
    );
    assert.equal(result.status, "401", JSON.stringify(healthimaging));
    assert.ok(lines.join().includes("the scope (datastores and operations) is missing"), lines.join());
    fs.rmSync(bare, { recursive: true, force: true });
  }
});

test("without a readable config.json the bundle denies instead of throwing", async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "ahi-authorizer-"));
  fs.copyFileSync(path.join(dir, "index.js"), path.join(empty, "index.js"));
  const { handler } = require(path.join(empty, "index.js"));
  const { result, lines } = await s.captureLogs(() => handler(s.viewerRequest()));
  assert.equal(result.status, "401");
  assert.ok(lines.join().includes("config.json"), lines.join());
  fs.rmSync(empty, { recursive: true, force: true });
});

test("the bundle holds the HealthImaging scope from its config.json", async () => {
  const scoped = fs.mkdtempSync(path.join(os.tmpdir(), "ahi-authorizer-"));
  fs.copyFileSync(path.join(dir, "index.js"), path.join(scoped, "index.js"));
  const a = "a".repeat(32);
  const healthimaging = { datastores: [a], operations: ["GetImageFrame"] };
  fs.writeFileSync(path.join(scoped, "config.json"), JSON.stringify(s.cognitoConfig(jwks.url, { healthimaging })));
  const { handler } = require(path.join(scoped, "index.js"));
  const token = s.sign(key, s.accessClaims());
  const request = (ds, querystring) =>
    s.viewerRequest({
      uri: `/datastore/${ds}/imageSet/${"1".repeat(32)}/getImageFrame`,
      querystring,
      headers: { Authorization: `Bearer ${token}` },
    });
  const passed = await handler(request(a, `imageFrameId=%66${"f".repeat(31)}`));
  assert.equal(passed.querystring, `imageFrameId=${"f".repeat(32)}`);
  const { result } = await s.captureLogs(() => handler(request("b".repeat(32), `imageFrameId=${"f".repeat(32)}`)));
  assert.equal(result.status, "403");
  const probe = await s.captureLogs(() => handler(request(a, `imageFrame%49d=${"f".repeat(32)}&imageFrameId=${"e".repeat(32)}`)));
  assert.equal(probe.result.status, "400");
  fs.rmSync(scoped, { recursive: true, force: true });
});
