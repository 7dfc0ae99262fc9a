// node_client_e2e.mjs — the Node.js client (clients/node/avant-client.mjs) against the assembled
// server, over TCP, TLS and WebSocket.
//
//   node node_client_e2e.mjs <avant binary> <source folder>
//
// protobufjs and ws are npm packages, project-local (the repository's node_modules, found from the
// client's folder as from any file of the repository). Checked: the client's FrameDecoder on byte
// arrays (many frames in one chunk, one frame cut at every point, the limit refused on the head
// alone, 2^63, a failed decoder stays failed); the echo example's request is the original's 20
// bytes; then against `avant` with STREAM_TASK over TCP, STREAM_TASK with use_ssl = 1 (a
// certificate made by scripts/example-cert.sh) and WEBSOCKET_TASK: a few echoes, one of them a
// testContext with a NUL and all 256 byte values, one of 10000 bytes, and 100 pipelined at once,
// answered byte for byte and in order, each also seen as a 'package' event; a package over the
// server's limit of 10240 bytes closes the connection and rejects the pending request; so does a
// request that times out; SIGTERM stops the server with status 0. Every wait has a deadline.
import path from "node:path";
import { check, exampleCertificate, fail, startAvant, within } from "../support/avant_process.mjs";

const [binary, source] = process.argv.slice(2);
if (!binary || !source) {
  console.log("usage: node node_client_e2e.mjs <avant binary> <source folder>");
  process.exit(2);
}
const client = await import(path.join(source, "clients", "node", "avant-client.mjs"));
const { connect, encodeFrame, FrameDecoder, FrameError, loadSchema, MAX_FRAME } = client;
const config = path.join(source, "examples", "main.ini");
const STREAM = new RegExp(String.raw`^avant: serving the protobuf stream \(the echo example\) ` +
  String.raw`on (tcp|tls)://127\.0\.0\.1:(\d+)/`);
const WEBSOCKET = new RegExp(String.raw`^avant: serving WebSocket \(ProtoPackages: the echo ` +
  String.raw`example\) on (wss?)://127\.0\.0\.1:(\d+)/`);

// docs/original-avant.md, "The echo example, byte by byte".
const REQUEST = Buffer.from("000000000000000c120a0a086161616161616161", "hex");

function decoderChecks(schema) {
  const frames = [Buffer.from("0801", "hex"), Buffer.alloc(0), Buffer.alloc(300, 7), REQUEST];
  const stream = Buffer.concat(frames.map(encodeFrame));

  const all = new FrameDecoder().push(stream);
  check(all.length === frames.length && all.every((b, i) => b.equals(frames[i])),
    "four frames in one chunk do not come out as four frames");
  for (let cut = 0; cut <= stream.length; ++cut) {
    const d = new FrameDecoder();
    const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    check(out.length === frames.length && out.every((b, i) => b.equals(frames[i])),
      `the frames cut at byte ${cut} come out differently`);
  }
  const dribbled = new FrameDecoder();
  const one = [];
  for (const byte of stream) one.push(...dribbled.push(Buffer.from([byte])));
  check(one.length === frames.length, "the frames a byte at a time");

  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(MAX_FRAME));
  check(new FrameDecoder().push(Buffer.concat([head, Buffer.alloc(MAX_FRAME)])).length === 1,
    "a frame of exactly the limit is refused");
  for (const length of [BigInt(MAX_FRAME) + 1n, 1n << 63n, (1n << 64n) - 1n]) {
    head.writeBigUInt64BE(length);
    const d = new FrameDecoder();
    let refused = null;
    try {
      d.push(head);  // the head alone: refused before any of the body arrives
    } catch (error) {
      refused = error;
    }
    check(refused instanceof FrameError, `a head announcing ${length} bytes is not refused`);
    let again = null;
    try {
      d.push(encodeFrame(Buffer.from("0801", "hex")));
    } catch (error) {
      again = error;
    }
    check(again === refused, "a failed decoder takes frames again");
  }

  const { Package, type } = schema;
  const inner = type("ProtoCSReqExample").encode({ testContext: Buffer.from("aaaaaaaa") }).finish();
  const request = encodeFrame(Package.encode({ cmd: 0, protocol: inner }).finish());
  check(request.equals(REQUEST), `the echo example's request is ${request.toString("hex")}`);
}

// Every byte value, NUL first and in the middle.
const ALL_BYTES = Buffer.concat([Buffer.from("nul\0here|"), Buffer.from([...Array(256).keys()])]);
const MESSAGES = [Buffer.from("hello-avant"), Buffer.alloc(0), ALL_BYTES, Buffer.from("ünïcødé ✓"),
  Buffer.alloc(10000, "x")];

async function echoes(url, options) {
  const c = await within(connect(url, options), `connect to ${url}`);
  const seen = [];
  c.on("package", (p) => seen.push(p));
  for (const m of MESSAGES) {
    const answer = await within(c.echo(m), `the echo of ${m.length} bytes over ${url}`);
    check(answer.equals(m), `over ${url} ${m.length} bytes came back as ${answer.length}: ` +
      `${answer.subarray(0, 32).toString("hex")}...`);
  }
  check(seen.length === MESSAGES.length && seen.every((p) => p.cmd === 1),
    `over ${url} the 'package' events were ${JSON.stringify(seen.map((p) => p.cmd))}`);
  // 100 requests before any answer: answered in order, each with its own bytes.
  const sent = Array.from({ length: 100 },
    (_, i) => Buffer.from(`pipelined ${i}\0${"#".repeat(i)}`));
  const answers = await within(Promise.all(sent.map((m) => c.echo(m))), `100 echoes over ${url}`);
  check(answers.every((a, i) => a.equals(sent[i])), `over ${url} the 100 pipelined echoes differ`);
  await within(c.close(), `closing ${url}`);
  check(c.closed, `${url} is not closed after close()`);
}

// A package over the limit: the server closes the connection, the pending echo is rejected.
async function overTheLimit(url, options) {
  const c = await within(connect(url, options), `connect to ${url}`);
  const closed = new Promise((resolve) => c.once("close", resolve));
  let rejected = null;
  try {
    await within(c.echo(Buffer.alloc(MAX_FRAME, "z")), `the oversized echo over ${url}`);
  } catch (error) {
    rejected = error;
  }
  check(rejected !== null && !/nothing within/.test(rejected.message),
    `over ${url} a package over ${MAX_FRAME} bytes was ` +
    `${rejected ? rejected.message : "answered"}`);
  await within(closed, `the close of ${url} after a package over the limit`);
  const after = await within(c.echo("after the close").then(() => null, (error) => error),
    `a request after the close of ${url}`);
  check(after !== null, `${url} takes requests after its close`);
}

// A request nobody answers (command 8 has no handler: avant drops it): after the timeout the
// request is rejected and the connection closed, since a late answer would be taken for the next
// request's.
async function unanswered(url, options) {
  const c = await within(connect(url, options), `connect to ${url}`);
  const closed = new Promise((resolve) => c.once("close", resolve));
  const error = await within(c.request("PROTO_CMD_LUA_TEST", "ProtoLuaTest", { num: 1 },
    { answer: "PROTO_CMD_LUA_TEST", answerType: "ProtoLuaTest", timeout: 300 })
    .then(() => null, (e) => e), `the unanswered request over ${url}`);
  check(error !== null && /no answer|closed/.test(error.message),
    `over ${url} an unanswered request ended with ${error ? error.message : "an answer"}`);
  await within(closed, `the close of ${url} after a timeout`);
}

async function stopped(avant) {
  const code = await avant.stop();
  check(code === 0, `avant exited with status ${code} after SIGTERM`);
}

async function main() {
  decoderChecks(await loadSchema(path.join(source, "proto", "avant.proto")));

  const plain = await startAvant(binary, config, STREAM, ["server.task_type=STREAM_TASK"]);
  check(plain.match[1] === "tcp", `banner ${plain.banner}`);
  const tcp = `tcp://127.0.0.1:${plain.port}/`;
  await echoes(tcp);
  await overTheLimit(tcp);
  await within((async () => {
    while (!plain.stderr.includes("is over the limit of 10240")) {
      await new Promise((resolve) => plain.process.stderr.once("data", resolve));
    }
  })(), "the refusal in avant's log");
  await echoes(tcp);  // another connection is still served
  await unanswered(tcp);
  await stopped(plain);

  const { cert: ca, key } = exampleCertificate();
  const tlsSets = ["server.use_ssl=1", `server.crt.pem=${ca}`, `server.key.pem=${key}`];
  const secure = await startAvant(binary, config, STREAM, ["server.task_type=STREAM_TASK",
    ...tlsSets]);
  check(secure.match[1] === "tls", `banner ${secure.banner}`);
  await echoes(`tls://127.0.0.1:${secure.port}/`, { ca });
  await echoes(`tls://localhost:${secure.port}/`, { ca });
  await overTheLimit(`tls://127.0.0.1:${secure.port}/`, { ca });
  await stopped(secure);

  // WebSocket's own limit is [websocket] max_message_bytes: set to the stream's, so that the
  // same package is over it.
  const wsSets = ["server.task_type=WEBSOCKET_TASK", `websocket.max_message_bytes=${MAX_FRAME}`];
  const ws = await startAvant(binary, config, WEBSOCKET, wsSets);
  check(ws.match[1] === "ws", `banner ${ws.banner}`);
  await echoes(`ws://127.0.0.1:${ws.port}/`);
  await echoes(`ws://127.0.0.1:${ws.port}/any/path`);
  await overTheLimit(`ws://127.0.0.1:${ws.port}/`);
  await unanswered(`ws://127.0.0.1:${ws.port}/`);
  await stopped(ws);

  const wss = await startAvant(binary, config, WEBSOCKET, [...wsSets, ...tlsSets]);
  check(wss.match[1] === "wss", `banner ${wss.banner}`);
  await echoes(`wss://localhost:${wss.port}/`, { ca });
  await stopped(wss);
  console.log("ok: the Node.js client's frames, and its echoes over tcp, tls, ws and wss, " +
    "byte for byte; a package over the limit closes the connection");
}

const watchdog = setTimeout(() => fail("the whole test took longer than 100 s"), 100000);
main().then(() => clearTimeout(watchdog), (error) => fail(error.stack ?? String(error)));
