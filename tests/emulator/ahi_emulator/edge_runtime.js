// The local edge's function runtime: one long-lived node process that runs
// CloudFront Functions (cloudfront-js-2.0) and Lambda@Edge handlers for the
// emulator. JSON lines in on stdin, JSON lines out on stdout:
//   {"id":1,"kind":"cff","code":"...","event":{...}}
//   {"id":2,"kind":"lambda","dir":"/tmp/x","handler":"index.handler","event":{...}}
// answered by {"id":1,"ok":true,"result":...,"logs":[...]} or
// {"id":1,"ok":false,"error":"...","logs":[...]}.
//
// Nothing here may reach the internet: every outgoing connection is checked.
// Loopback is allowed; a host under amazonaws.com is answered by the emulator
// (argv[2]) over plain HTTP with its Host header kept, so a Cognito JWKS
// fetch reaches the emulator's Cognito; anything else fails at once.
"use strict";

const http = require("http");
const https = require("https");
const net = require("net");
const path = require("path");
const readline = require("readline");
const vm = require("vm");

const EMULATOR = new URL(process.argv[2]);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function refused(host) {
  const error = new Error(`the local edge reaches no host outside this machine: ${host}`);
  error.code = "ECONNREFUSED";
  return error;
}

function failingRequest(host) {
  const request = new http.ClientRequest({ host: "127.0.0.1", port: 9, createConnection: () => {
    const socket = new net.Socket();
    process.nextTick(() => socket.destroy(refused(host)));
    return socket;
  } });
  return request;
}

function guard(module) {
  const original = module.request;
  module.request = function (...args) {
    const [first] = args;
    const target = typeof first === "string" || first instanceof URL ? new URL(first) : null;
    const options = (target ? args[1] : first) || {};
    const callback = args.find((a) => typeof a === "function");
    const host = target ? target.hostname : options.hostname || options.host || "localhost";
    if (LOOPBACK.has(host)) return original.apply(module, args);
    if (host.endsWith(".amazonaws.com")) {
      return http.request({
        host: EMULATOR.hostname, port: EMULATOR.port, path: target ? target.pathname + target.search : options.path || "/",
        method: (typeof options === "object" && options.method) || "GET",
        headers: { ...((typeof options === "object" && options.headers) || {}), host },
      }, callback);
    }
    return failingRequest(host);
  };
  module.get = function (...args) {
    const request = module.request(...args);
    request.end();
    return request;
  };
}
guard(https);
guard(http);
const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  if (!LOOPBACK.has(url.hostname)) throw refused(url.hostname);
  return originalFetch(input, init);
};

// ---- CloudFront Functions -------------------------------------------------

const compiled = new Map();

function cloudFrontFunction(code, logs) {
  let script = compiled.get(code);
  if (!script) {
    script = new vm.Script(`${code}\n;typeof handler === "function" ? handler : undefined`, { filename: "function.js" });
    compiled.set(code, script);
  }
  const sandbox = {
    console: { log: (...a) => logs.push(a.map(String).join(" ")) },
    require: (name) => {
      if (name === "crypto") return require("crypto");
      if (name === "querystring") return require("querystring");
      throw new Error(`module ${name} is not available in the local edge's cloudfront-js-2.0`);
    },
    Buffer, TextEncoder, TextDecoder, Date, Math, JSON, parseInt, parseFloat, encodeURIComponent, decodeURIComponent,
    encodeURI, decodeURI, escape, unescape, String, Number, Boolean, Array, Object, RegExp, Error, Promise,
  };
  const fn = script.runInNewContext(sandbox, { timeout: 1000 });
  if (typeof fn !== "function") throw new Error("The function code defines no handler function");
  return fn;
}

// ---- Lambda@Edge ------------------------------------------------------------

const handlers = new Map();

function lambdaHandler(dir, handler) {
  const key = `${dir}:${handler}`;
  if (!handlers.has(key)) {
    const [file, name] = handler.split(".");
    const module = require(path.join(dir, file));
    if (typeof module[name] !== "function") throw new Error(`Handler ${handler} is not a function`);
    handlers.set(key, module[name]);
  }
  return handlers.get(key);
}

async function run(message) {
  const logs = [];
  if (message.kind === "cff") {
    const fn = cloudFrontFunction(message.code, logs);
    return { result: await fn(message.event), logs };
  }
  const fn = lambdaHandler(message.dir, message.handler);
  const original = console.log;
  console.log = (...a) => logs.push(a.map(String).join(" "));
  try {
    const context = { functionName: message.functionName || "edge", awsRequestId: String(message.id) };
    return { result: await fn(message.event, context), logs };
  } finally {
    console.log = original;
  }
}

const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  run(message).then(
    ({ result, logs }) => process.stdout.write(JSON.stringify({ id: message.id, ok: true, result: result ?? null, logs }) + "\n"),
    (error) => process.stdout.write(JSON.stringify({ id: message.id, ok: false, error: String(error && error.message || error), logs: [] }) + "\n"),
  );
});
input.on("close", () => process.exit(0));
