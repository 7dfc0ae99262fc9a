// example.mjs — the echo example against an Avant server, with the Node.js client.
//
//   node clients/node/example.mjs [--transport tcp|tls|ws|wss] [--ca FILE] HOST PORT [TEXT...]
//
// Sends each TEXT (default: hello-avant) as the testContext of a ProtoCSReqExample and prints the
// answer's testContext with its round-trip time. tcp and tls are for task_type = STREAM_TASK, ws
// and wss for WEBSOCKET_TASK; --ca names the PEM file the server's certificate is checked
// against (for the example certificate: examples/tls/example-cert.pem). Exits 1 when an answer
// differs from what was sent or the connection fails.
import { parseArgs } from "node:util";
import { connect } from "./avant-client.mjs";

const usage =
  "usage: node example.mjs [--transport tcp|tls|ws|wss] [--ca FILE] HOST PORT [TEXT...]";
let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: { transport: { type: "string", default: "tcp" }, ca: { type: "string" } },
  });
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const [host, port, ...texts] = args.positionals;
const { transport, ca } = args.values;
if (!host || !/^\d+$/.test(port ?? "") || !["tcp", "tls", "ws", "wss"].includes(transport)) {
  console.error(usage);
  process.exit(2);
}
if (texts.length === 0) texts.push("hello-avant");

// An IPv6 address goes in brackets in a URL.
const url = `${transport}://${host.includes(":") ? `[${host}]` : host}:${port}/`;
let client;
try {
  client = await connect(url, { ca });
  for (const text of texts) {
    const started = process.hrtime.bigint();
    const answer = await client.echo(text);
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
