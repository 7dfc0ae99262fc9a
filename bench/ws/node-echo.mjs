// node-echo.mjs — the reference WebSocket echo server of `bench/run ws`: Node's `ws` (npm, pinned
// in the repository's lock file), configured as its documentation advises for throughput: with
// `bufferutil` next to it (pinned too: native masking and unmasking, which ws picks up by itself),
// permessage-deflate off (a server's default, stated here) and no client tracking (the bench never
// broadcasts). One process, one thread, as avant-ws-echo with one loop.
//
//   node bench/ws/node-echo.mjs --listen 127.0.0.1:0 [--compress]
//
// --compress (for bench/run idle-memory --ws --compress): permessage-deflate agreed as avant
// agrees to it, without context takeover either way.
//   -> node-ws-echo: listening on ws://127.0.0.1:PORT
import { WebSocketServer } from 'ws';

let listen = '127.0.0.1:20083';
let compress = false;
for (let i = 2; i < process.argv.length; i += 1) {
  if (process.argv[i] === '--listen' && i + 1 < process.argv.length) {
    listen = process.argv[i + 1];
    i += 1;
  } else if (process.argv[i] === '--compress') {
    compress = true;
  } else {
    console.error('usage: node node-echo.mjs [--listen IP:PORT] [--compress]');
    process.exit(2);
  }
}
const colon = listen.lastIndexOf(':');
const server = new WebSocketServer({
  host: listen.slice(0, colon),
  port: Number(listen.slice(colon + 1)),
  perMessageDeflate: compress
    ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
    : false,
  clientTracking: false,
  maxPayload: 64 * 1024 * 1024,
});
server.on('listening', () => {
  const { address, port } = server.address();
  console.log(`node-ws-echo: listening on ws://${address}:${port}`);
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
