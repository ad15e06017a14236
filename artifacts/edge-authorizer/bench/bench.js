// Benchmark (not a test): bundle size, cold module init, warm verification.
//   npm run bench            (in artifacts/edge-authorizer)
"use strict";

const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");

const s = require("../test/support.js");

const BUNDLE = path.join(__dirname, "..", "dist", "index.js");

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function coldInit(runs) {
  // A fresh process per run: the time to load the bundle and build the
  // handler from config.json, as a Lambda cold start does.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ahi-bench-"));
  fs.copyFileSync(BUNDLE, path.join(dir, "index.js"));
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(s.cognitoConfig("https://127.0.0.1:9/jwks.json")));
  const script = `
    const t0 = process.hrtime.bigint();
    const m = require(${JSON.stringify(path.join(dir, "index.js"))});
    m.createHandler(m.loadConfig(${JSON.stringify(dir)}));
    console.log(Number(process.hrtime.bigint() - t0) / 1e6);`;
  const times = [];
  for (let i = 0; i < runs; i += 1) times.push(Number(execFileSync(process.execPath, ["-e", script]).toString()));
  fs.rmSync(dir, { recursive: true, force: true });
  return times.sort((a, b) => a - b);
}

async function warmVerify(count) {
  const key = s.keyPair("bench");
  const jwks = await s.jwksServer([key]);
  const { createHandler } = require(BUNDLE);
  const handler = createHandler(s.cognitoConfig(jwks.url));
  const token = s.sign(key, s.accessClaims());
  const event = () => s.viewerRequest({ headers: { Authorization: `Bearer ${token}` } });
  for (let i = 0; i < 200; i += 1) await handler(event()); // warm-up, JWKS cached
  const times = [];
  for (let i = 0; i < count; i += 1) {
    const e = event();
    const t0 = process.hrtime.bigint();
    const result = await handler(e);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (result.status) throw new Error("a valid token was refused during the benchmark");
  }
  await jwks.close();
  return { times: times.sort((a, b) => a - b), fetches: jwks.hits };
}

(async () => {
  const bundle = fs.readFileSync(BUNDLE);
  console.log(`bundle: ${bundle.length} bytes, ${zlib.gzipSync(bundle, { level: 9 }).length} bytes gzipped`);
  const cold = coldInit(20);
  console.log(`cold init (require + createHandler, 20 fresh processes): median ${percentile(cold, 50).toFixed(2)} ms, max ${cold.at(-1).toFixed(2)} ms`);
  const warm = await warmVerify(5000);
  console.log(
    `warm verification (5000 valid tokens, cached JWKS, ${warm.fetches} JWKS fetch): ` +
      `median ${(percentile(warm.times, 50) * 1000).toFixed(0)} us, p99 ${(percentile(warm.times, 99) * 1000).toFixed(0)} us`,
  );
})();
