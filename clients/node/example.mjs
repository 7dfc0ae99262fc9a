// example.mjs — the echo example against an Avant server, with the Node.js client.
//
//   node clients/node/example.mjs [--transport tcp|tls|ws|wss|udp] [--ca FILE] [--timeout MS]
//                                 HOST PORT [TEXT...]
//
// Sends each TEXT (default: hello-avant) as the testContext of a ProtoCSReqExample and prints the
// answer's testContext with its round-trip time. tcp and tls are for task_type = STREAM_TASK, ws
// and wss for WEBSOCKET_TASK, udp for the UDP listener (server.other_udp_svr_port); --ca names
// the PEM file the server's certificate is checked against (for the example certificate:
// examples/tls/example-cert.pem). --timeout is the wait for each answer (10000 ms; over udp 1000
// ms). UDP may lose a request or its answer: after a timeout the example asks once more, from a
// new socket (the late answer to the first one goes to the old socket's port, never taken for the
// second one's). Exits 1 when an answer differs from what was sent or does not come, or the
// connection fails.
import { parseArgs } from "node:util";
import { connect, DatagramError, TimeoutError } from "./avant-client.mjs";

const usage = "usage: node example.mjs [--transport tcp|tls|ws|wss|udp] [--ca FILE] " +
  "[--timeout MS] HOST PORT [TEXT...]";
let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: { transport: { type: "string", default: "tcp" }, ca: { type: "string" },
      timeout: { type: "string" } },
  });
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const [host, port, ...texts] = args.positionals;
const { transport, ca } = args.values;
if (!host || !/^\d+$/.test(port ?? "") ||
    !["tcp", "tls", "ws", "wss", "udp"].includes(transport) ||
    !/^\d*$/.test(args.values.timeout ?? "") || args.values.timeout === "0") {
  console.error(usage);
  process.exit(2);
}
const udp = transport === "udp";
const timeout = Number(args.values.timeout ?? (udp ? 1000 : 10000));
if (texts.length === 0) texts.push("hello-avant");

// An IPv6 address goes in brackets in a URL.
const url = `${transport}://${host.includes(":") ? `[${host}]` : host}:${port}/`;

async function open() {
  const c = await connect(url, { ca, timeout });
  // Over UDP a datagram that is not a package is reported, and the client goes on.
  c.on("error", (error) => {
    if (error instanceof DatagramError) console.error(`example: ${url}: ${error.message}`);
  });
  return c;
}

let client;
try {
  client = await open();
  for (const text of texts) {
    const started = process.hrtime.bigint();
    let answer;
    try {
      answer = await client.echo(text);
    } catch (error) {
      if (!udp || !(error instanceof TimeoutError)) throw error;
      // The timeout closed the client: once more from a new one.
      console.error(`example: ${url}: ${error.message}; once more`);
      client = await open();
      answer = await client.echo(text);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const shown = JSON.stringify(answer.toString());
    console.log(`${shown} (${answer.length} bytes) in ${ms.toFixed(2)} ms`);
    if (!answer.equals(Buffer.from(text))) {
      console.error(`example: the answer is not the ${JSON.stringify(text)} that was sent`);
      process.exitCode = 1;
    }
  }
  await client.close();
} catch (error) {
  console.error(`example: ${url}: ${error.message}`);
  process.exit(1);
}
