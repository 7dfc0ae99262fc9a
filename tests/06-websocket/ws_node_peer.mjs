// ws_node_peer.mjs — avant-ws-echo against Node's `ws` client (npm, project-local).
//
//   node ws_node_peer.mjs <avant-ws-echo binary>
//
// Two servers on ephemeral ports of 127.0.0.1 with two worker loops: one with --compress, one
// with TLS (a self-signed certificate made here with the openssl command). Checked on each: text
// and binary echo, a message sent in three fragments, 1 MiB messages, a ping answered with its
// payload, the close handshake with the client's code, 100 concurrent clients each echoing 20
// messages in order; with --compress, that `ws` negotiated permessage-deflate. Every wait has a
// deadline.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import WebSocket from "ws";

const DEADLINE = 10000;
const [binary] = process.argv.slice(2);
if (!binary) {
  console.log("usage: node ws_node_peer.mjs <avant-ws-echo binary>");
  process.exit(2);
}
const servers = [];

function fail(message) {
  console.log(`FAIL: ${message}`);
  for (const s of servers) {
    console.log(`--- standard error of ${s.argv.join(" ")} ---`);
    console.log(s.stderr.trim() || "(empty)");
    s.process.kill("SIGKILL");
  }
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

function within(promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${DEADLINE} ms`)), DEADLINE);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function start(...args) {
  const argv = [binary, "--listen", "127.0.0.1:0", "--workers", "2", ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const server = { argv, process: child, stderr: "" };
  servers.push(server);
  child.stderr.on("data", (chunk) => { server.stderr += chunk; });
  return within(new Promise((resolve) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const m = /^avant-ws-echo: listening on (wss?):\/\/127\.0\.0\.1:(\d+) /.exec(line);
      check(m !== null, `unexpected banner ${JSON.stringify(line)}`);
      lines.on("line", () => {});
      server.url = `${m[1]}://127.0.0.1:${m[2]}`;
      resolve(server);
    });
  }), "the banner");
}

function stop(server) {
  return within(new Promise((resolve) => {
    server.process.once("exit", (code) => {
      check(code === 0, `exit status ${code} after SIGTERM`);
      resolve();
    });
    server.process.kill("SIGTERM");
  }), "the stop");
}

function open(url, options = {}) {
  const ws = new WebSocket(url, { handshakeTimeout: DEADLINE, maxPayload: 4 << 20, ...options });
  const inbox = [];
  const waiting = [];
  ws.on("message", (data, isBinary) => {
    const item = { data, isBinary };
    const next = waiting.shift();
    if (next) next(item); else inbox.push(item);
  });
  ws.next = () => within(new Promise((resolve) => {
    const item = inbox.shift();
    if (item) resolve(item); else waiting.push(resolve);
  }), "a message");
  return within(new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  }), `opening ${url}`);
}

async function echoes(url, options) {
  const ws = await open(`${url}/chat`, options);
  ws.send("hello");
  let m = await ws.next();
  check(!m.isBinary && m.data.toString() === "hello", "a text echo");
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  ws.send(bytes);
  m = await ws.next();
  check(m.isBinary && Buffer.compare(m.data, bytes) === 0, "a binary echo");
  ws.send("frag", { fin: false });
  ws.send("ment", { fin: false });
  ws.send("ed", { fin: true });
  m = await ws.next();
  check(m.data.toString() === "fragmented", `fragments echoed as ${m.data.toString()}`);
  const big = "é".repeat(512 * 1024);
  ws.send(big);
  m = await ws.next();
  check(m.data.toString() === big, "a 1 MiB message");
  const pong = within(new Promise((resolve) => ws.once("pong", resolve)), "the pong");
  ws.ping("are you there");
  check((await pong).toString() === "are you there", "the pong carries the ping's payload");
  const closed = within(new Promise((resolve) => ws.once("close", (code) => resolve(code))),
    "the close");
  ws.close(4002, "done");
  check((await closed) === 4002, "the close handshake echoes the client's code");
}

async function many(url, options) {
  const one = async (index) => {
    const ws = await open(`${url}/`, options);
    for (let n = 0; n < 20; n += 1) {
      const text = `client ${index} message ${n}`;
      ws.send(text);
      const m = await ws.next();
      check(m.data.toString() === text, `client ${index}: echo ${n} was ${m.data.toString()}`);
    }
    ws.close();
  };
  await Promise.all(Array.from({ length: 100 }, (_, i) => one(i)));
}

async function main() {
  const deflate = await start("--compress");
  await echoes(deflate.url, { perMessageDeflate: true });
  const negotiated = await open(`${deflate.url}/`, { perMessageDeflate: true });
  check(negotiated.extensions.startsWith("permessage-deflate"),
    `permessage-deflate was not agreed: ${JSON.stringify(negotiated.extensions)}`);
  negotiated.send("x".repeat(10000));
  check((await negotiated.next()).data.toString() === "x".repeat(10000), "a compressed echo");
  negotiated.close();
  await many(deflate.url, { perMessageDeflate: true });
  await stop(deflate);

  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "avant-ws-node-"));
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt",
    "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
  { cwd: folder, encoding: "utf8", timeout: DEADLINE });
  check(made.status === 0, `openssl: ${made.stderr}`);
  const tls = await start("--tls-cert", path.join(folder, "cert.pem"), "--tls-key",
    path.join(folder, "key.pem"));
  check(tls.url.startsWith("wss://"), `a TLS server says ${tls.url}`);
  const ca = fs.readFileSync(path.join(folder, "cert.pem"));
  await echoes(tls.url, { ca, perMessageDeflate: false });
  await many(tls.url, { ca, perMessageDeflate: false });
  await stop(tls);
  fs.rmSync(folder, { recursive: true, force: true });
  console.log("ok: Node's ws over ws with permessage-deflate and over wss");
}

const watchdog = setTimeout(() => fail("the whole test took longer than 100 s"), 100000);
main().then(() => clearTimeout(watchdog), (error) => fail(error.stack ?? String(error)));
