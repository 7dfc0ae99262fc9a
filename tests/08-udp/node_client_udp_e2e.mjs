// node_client_udp_e2e.mjs — the Node.js client (clients/node/avant-client.mjs) over UDP, against
// peers of the test's own and against the assembled server's UDP listener.
//
//   node node_client_udp_e2e.mjs <avant binary> <source folder>
//
// protobufjs is an npm package, project-local (as for chapter 07's test); dgram is Node's own.
// Checked, first against a dgram socket of the test's own on 127.0.0.1: a package goes as one
// datagram with no length (the echo example's request is `12 0a 0a 08` and eight `a`s), an empty
// package as `12 00`; a datagram from another socket to the client's port is never seen (the
// socket is connected); a datagram that is not a ProtoPackage is an 'error' event (a
// DatagramError) and the client goes on to take the answer that follows; a package over the
// largest datagram is refused before it is sent, and the client goes on; a request nobody answers
// is rejected with a TimeoutError and closes the client; example.mjs --transport udp asks once
// more from another port after a timeout. Then against `avant` on make run's configuration
// (examples/main.ini, every port ephemeral): echoes byte for byte (a testContext with a NUL and
// all 256 byte values, one of 10000 bytes, an empty one), each also a 'package' event, 50
// pipelined and two clients at once each given their own answers; the safe stop naming another app
// answered and nothing stopped; example.mjs --transport udp; the server still runs, and SIGTERM
// stops it with status 0; a client's request after that is rejected (ECONNREFUSED) and the client
// closed. Every wait has a deadline.
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import path from "node:path";
import { check, fail, startAvant, within } from "../support/avant_process.mjs";

const [binary, source] = process.argv.slice(2);
if (!binary || !source) {
  console.log("usage: node node_client_udp_e2e.mjs <avant binary> <source folder>");
  process.exit(2);
}
const client = await import(path.join(source, "clients", "node", "avant-client.mjs"));
const { connect, DatagramError, loadSchema, MAX_DATAGRAM, TimeoutError } = client;
const example = path.join(source, "clients", "node", "example.mjs");
const config = path.join(source, "examples", "main.ini");
const SITE = /^avant: serving .* on (http):\/\/127\.0\.0\.1:(\d+)\//;
const DEADLINE = 15000;

// chapter 08: the echo example's request datagram, and its answer.
const REQUEST = Buffer.from("120a0a086161616161616161", "hex");
const ANSWER = Buffer.from("0801120a0a086161616161616161", "hex");

// Every byte value, NUL first and in the middle.
const ALL_BYTES = Buffer.concat([Buffer.from("nul\0here|"), Buffer.from([...Array(256).keys()])]);
const MESSAGES = [Buffer.from("hello-avant"), Buffer.alloc(0), ALL_BYTES, Buffer.from("ünïcødé ✓"),
  Buffer.alloc(10000, "x")];

// A UDP socket of the test's own on 127.0.0.1: `answer(datagram, from)` for each datagram.
async function peer(answer = () => {}) {
  const socket = dgram.createSocket("udp4");
  const received = [];
  socket.on("message", (datagram, from) => {
    received.push({ datagram, port: from.port });
    answer(datagram, from);
  });
  await within(new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", resolve);
  }), "binding a UDP socket");
  return { socket, received, port: socket.address().port,
    url: `udp://127.0.0.1:${socket.address().port}/`,
    close: () => new Promise((resolve) => socket.close(resolve)) };
}

// Sends `datagram` from `socket` to `to`; resolves once sent (on loopback: once queued at the
// receiver, or dropped by its kernel).
function sendTo(socket, datagram, to) {
  return within(new Promise((resolve, reject) => {
    socket.send(datagram, to.port, to.address, (error) => (error ? reject(error) : resolve()));
  }), `a datagram to ${to.address}:${to.port}`);
}

async function againstPeers(schema) {
  const { Package, type } = schema;
  const resExample = (testContext) => Package.encode({ cmd: 1,
    protocol: type("ProtoCSResExample").encode({ testContext }).finish() }).finish();
  const testContextOf = (datagram) =>
    Buffer.from(type("ProtoCSReqExample").decode(Package.decode(datagram).protocol).testContext);

  // The echo server: before each answer, a stranger's package to the client's port and a
  // datagram that is not a package from the server's.
  const stranger = await peer();
  const server = await peer((datagram, from) => {
    (async () => {
      await sendTo(stranger.socket, resExample(Buffer.from("from a stranger")), from);
      await sendTo(server.socket, Buffer.from([0xff, 0xff, 0xff]), from);
      await sendTo(server.socket, resExample(testContextOf(datagram)), from);
    })().catch((error) => fail(`the test's echo server: ${error.message}`));
  });
  const c = await within(connect(server.url), `connect to ${server.url}`);
  const errors = [];
  const seen = [];
  c.on("error", (error) => errors.push(error));
  c.on("package", (p) => seen.push(p));
  for (const m of [Buffer.from("aaaaaaaa"), Buffer.alloc(0), ALL_BYTES]) {
    const answer = await within(c.echo(m), `the echo of ${m.length} bytes from the test's server`);
    check(answer.equals(m), `the test's server: ${m.length} bytes came back as ${answer.length}`);
  }
  check(server.received[0].datagram.equals(REQUEST),
    `the echo example's request went as ${server.received[0].datagram.toString("hex")}`);
  check(server.received[1].datagram.equals(Buffer.from("1200", "hex")),
    `the empty package went as ${server.received[1].datagram.toString("hex")}`);
  check(seen.length === 3 && seen.every((p) => p.cmd === 1),
    `the 'package' events were ${JSON.stringify(seen.map((p) => p.cmd))}: a stranger's seen?`);
  check(errors.length === 3 && errors.every((e) => e instanceof DatagramError),
    `the datagrams that are not packages were reported as ${errors.map(String)}`);
  check(!c.closed, `the client closed: ${c.closed}`);

  // Over the largest datagram: refused before anything is sent, and the client goes on.
  const before = server.received.length;
  const refused = await within(c.echo(Buffer.alloc(MAX_DATAGRAM)).then(() => null, (e) => e),
    "a package over the largest datagram");
  check(refused !== null && /largest datagram/.test(refused.message) && !c.closed,
    `a package over ${MAX_DATAGRAM} bytes: ${refused}, closed: ${c.closed}`);
  check(server.received.length === before, "a package over the largest datagram was sent");
  check((await within(c.echo("after"), "an echo after the refusal")).equals(Buffer.from("after")),
    "the echo after the refusal");
  await within(c.close(), "closing the client");
  await stranger.close();
  await server.close();

  // Nobody answers: a TimeoutError, and the client is closed (a late answer would be taken for
  // the next request's).
  const silent = await peer();
  const quiet = await within(connect(silent.url), `connect to ${silent.url}`);
  const closed = new Promise((resolve) => quiet.once("close", resolve));
  const late = await within(quiet.echo("x", { timeout: 300 }).then(() => null, (e) => e),
    "the unanswered echo");
  check(late instanceof TimeoutError, `an unanswered echo ended with ${late}`);
  await within(closed, "the close after a timeout");
  check(quiet.closed, "the client is open after a timeout");

  // The example asks once more after a timeout, from a new socket (another port), then gives up.
  const run = await exampleRun(["--transport", "udp", "--timeout", "300", "127.0.0.1",
    String(silent.port), "lost"]);
  check(run.code === 1 && /once more/.test(run.stderr),
    `the example against a silent peer: status ${run.code}, ${JSON.stringify(run.stderr)}`);
  const asked = silent.received.slice(1);  // the first was the unanswered echo's
  check(asked.length === 2 && asked[0].port !== asked[1].port,
    `the example asked ${asked.length} times, from ports ${asked.map((a) => a.port)}`);
  await silent.close();
}

function exampleRun(args) {
  return within(new Promise((resolve) => {
    execFile(process.execPath, [example, ...args], { timeout: DEADLINE },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  }), `node example.mjs ${args.join(" ")}`);
}

async function echoes(url) {
  const c = await within(connect(url), `connect to ${url}`);
  const seen = [];
  c.on("package", (p) => seen.push(p));
  for (const m of MESSAGES) {
    const answer = await within(c.echo(m), `the echo of ${m.length} bytes over ${url}`);
    check(answer.equals(m), `over ${url} ${m.length} bytes came back as ${answer.length}: ` +
      `${answer.subarray(0, 32).toString("hex")}...`);
  }
  check(seen.length === MESSAGES.length && seen.every((p) => p.cmd === 1),
    `over ${url} the 'package' events were ${JSON.stringify(seen.map((p) => p.cmd))}`);
  // 50 requests before any answer: on loopback none is lost and they come back in order.
  const sent = Array.from({ length: 50 },
    (_, i) => Buffer.from(`pipelined ${i}\0${"#".repeat(i)}`));
  const answers = await within(Promise.all(sent.map((m) => c.echo(m))), `50 echoes over ${url}`);
  check(answers.every((a, i) => a.equals(sent[i])), `over ${url} the 50 pipelined echoes differ`);
  await within(c.close(), `closing ${url}`);
  check(c.closed, `${url} is not closed after close()`);
}

// Two clients at once: each socket has a port of its own, and gets its own answers only.
async function twoAtOnce(url) {
  const [a, b] = await within(Promise.all([connect(url), connect(url)]), `two clients of ${url}`);
  const round = (c, name) => Promise.all(Array.from({ length: 20 },
    (_, i) => c.echo(`${name} ${i}`).then((answer) => answer.toString() === `${name} ${i}`)));
  const [oks, others] = await within(Promise.all([round(a, "a"), round(b, "b")]),
    "two clients' echoes");
  check(oks.every(Boolean) && others.every(Boolean), "two clients' answers were mixed up");
  await within(Promise.all([a.close(), b.close()]), "closing two clients");
}

async function main() {
  await againstPeers(await loadSchema(path.join(source, "proto", "avant.proto")));

  const avant = await startAvant(binary, config, SITE);
  const port = await avant.udpPort();
  const url = `udp://127.0.0.1:${port}/`;

  // The echo example's bytes, as the server sees them.
  const raw = await peer();
  const answered = new Promise((resolve) => raw.socket.once("message", resolve));
  await sendTo(raw.socket, REQUEST, { address: "127.0.0.1", port });
  const answer = await within(answered, "the answer to the echo example's datagram");
  check(answer.equals(ANSWER), `the echo example's answer was ${answer.toString("hex")}`);
  await raw.close();

  await echoes(url);
  await twoAtOnce(url);

  // The safe stop, naming another app: answered with this one's app_id, and nothing stops.
  const c = await within(connect(url), `connect to ${url}`);
  const res = await within(c.request("PROTO_CMD_UDP_SAFESTOP_REQ", "ProtoUDPSafeStopReq",
    { appId: Buffer.from("9.9.9.9") },
    { answer: "PROTO_CMD_UDP_SAFESTOP_RES", answerType: "ProtoUDPSafeStopRes" }),
  "the safe stop for another app");
  check(Buffer.from(res.appId).toString() === "0.0.0.1",
    `the safe stop was answered with ${JSON.stringify(Buffer.from(res.appId).toString())}`);

  const run = await exampleRun(["--transport", "udp", "127.0.0.1", String(port), "hello",
    "a second one", ""]);
  check(run.code === 0, `example.mjs --transport udp: status ${run.code}, ${run.stderr}`);
  const lines = run.stdout.trim().split("\n");
  check(lines.length === 3 && lines[0].startsWith('"hello" (5 bytes) in ') &&
    lines[1].startsWith('"a second one" (12 bytes) in ') && lines[2].startsWith('"" (0 bytes) in '),
  `example.mjs --transport udp printed ${JSON.stringify(run.stdout)}`);

  check(avant.exit === undefined, `avant exited with ${avant.exit}`);
  check((await within(c.echo(ALL_BYTES), "the last echo")).equals(ALL_BYTES), "the last echo");
  const code = await avant.stop();
  check(code === 0, `avant exited with status ${code} after SIGTERM`);

  // No server any more: the port is unreachable, which the connected socket hears as
  // ECONNREFUSED; the request is rejected and the client closed, before any timeout.
  const closed = new Promise((resolve) => c.once("close", resolve));
  const after = await within(c.echo("after the stop", { timeout: DEADLINE - 1000 })
    .then(() => null, (e) => e), "an echo after the stop");
  check(after !== null && after.code === "ECONNREFUSED" && !(after instanceof TimeoutError),
    `an echo after the stop ended with ${after}`);
  await within(closed, "the client's close after the stop");
  console.log("ok: the Node.js client over UDP: datagrams without a length, strangers and " +
    "garbage skipped, timeouts; its echoes against avant byte for byte; example.mjs over udp");
}

const watchdog = setTimeout(() => fail("the whole test took longer than 100 s"), 100000);
main().then(() => clearTimeout(watchdog), (error) => fail(error.stack ?? String(error)));
