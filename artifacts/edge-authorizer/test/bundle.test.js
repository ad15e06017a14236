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

test("the bundle verifies tokens with the config.json beside it", async () => {
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(s.cognitoConfig(jwks.url)));
  const { handler } = require(path.join(dir, "index.js"));
  const token = s.sign(key, s.accessClaims());
  const passed = await handler(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } }));
  assert.equal(passed.method, "GET");
  const { result } = await s.captureLogs(() => handler(s.viewerRequest()));
  assert.equal(result.status, "401");
});

test("the bundle strips a token parameter in any spelling", async () => {
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(s.cognitoConfig(jwks.url)));
  const { handler } = require(path.join(dir, "index.js"));
  const token = s.sign(key, s.accessClaims());
  const querystring = `%74oken=${token}&Token=${token}&t%6Fken=${token}&imageFrameId=f1`;
  const passed = await handler(s.viewerRequest({ headers: { Authorization: `Bearer ${token}` }, querystring }));
  assert.equal(passed.querystring, "imageFrameId=f1");
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
