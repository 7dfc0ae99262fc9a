// avant-client.mjs — a Node.js client for Avant's ProtoPackages over TCP, TLS, WebSocket, UDP.
//
//   import { connect } from "./avant-client.mjs";
//   const client = await connect("tcp://127.0.0.1:20023");  // or tls://, ws://, wss://, udp://
//   client.on("package", ({ cmd, protocol }) => { ... });   // every package that arrives
//   const bytes = await client.echo("hello");               // the echo example
//   await client.close();
//
// An ES module. The schema is proto/avant.proto, parsed at run time by protobufjs (npm, pinned by
// the repository's package-lock.json): nothing is generated, so the client always speaks the
// schema the server was built from. On TCP and TLS each package is a frame, an 8-byte big-endian
// length and then the package (docs/original-avant.md, "Frames on the wire"); on WebSocket one
// binary message is one package. A frame or message over `maxFrame` (10240 bytes, the server's
// default limit) closes the connection: a peer's length is untrusted, and is refused on the head
// alone, before any of its body is kept. On UDP one datagram is one package, with no length and
// no connection (chapter 08): the socket is connected to the server's address, so the kernel
// hands it the server's datagrams only; a datagram that is not a package is reported and
// skipped, and nothing is delivered for sure or in order.
import dgram from "node:dgram";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import WebSocket from "ws";

export const MAX_FRAME = 10240;
// The largest UDP payload over IPv4 (65535 less the IP and UDP heads): a package must fit in one.
export const MAX_DATAGRAM = 65507;
const HEAD = 8;
const DEFAULT_PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "proto",
  "avant.proto");

// The schema, loaded once per file. keepCase keeps the field names of the .proto file
// (`testContext`, `inner_array`) instead of protobufjs's camelCase spelling of them.
const schemas = new Map();
export function loadSchema(protoPath = DEFAULT_PROTO) {
  const file = path.resolve(protoPath);
  if (!schemas.has(file)) {
    schemas.set(file, new protobuf.Root().load(file, { keepCase: true }).then((root) => ({
      root,
      Package: root.lookupType("avant.ProtoPackage"),
      commands: root.lookupEnum("avant.ProtoCmd").values,
      type: (name) => root.lookupType(name.includes(".") ? name : `avant.${name}`),
    })));
  }
  return schemas.get(file);
}

export class FrameError extends Error {}
// A request that had no answer in time; the client is closed by then.
export class TimeoutError extends Error {}
// A datagram that is not a ProtoPackage: reported by an 'error' event, and the client goes on.
export class DatagramError extends Error {}

// The stream framing, sans IO: bytes in, package bodies out, however the bytes were cut.
export class FrameDecoder {
  constructor(maxBody = MAX_FRAME) {
    this.maxBody = BigInt(maxBody);
    this.pending = Buffer.alloc(0);  // the start of a frame that has not arrived whole
    this.error = null;
  }

  // The bodies of the frames completed by `chunk`, in order. Throws a FrameError when a head
  // announces more than maxBody; a failed decoder stays failed (its connection is to be closed).
  push(chunk) {
    if (this.error) throw this.error;
    // Only an incomplete frame is kept between chunks, at most HEAD + maxBody bytes, so joining
    // it to the next chunk copies a bounded amount; a chunk with whole frames is not copied.
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const bodies = [];
    let at = 0;
    while (data.length - at >= HEAD) {
      // A 64-bit length: read as a BigInt, so that 2^63 is a number over the limit, not a
      // rounded double or a negative one.
      const length = data.readBigUInt64BE(at);
      if (length > this.maxBody) {
        this.error = new FrameError(`a frame of ${length} bytes is over the limit of ` +
          `${this.maxBody}`);
        this.pending = Buffer.alloc(0);
        throw this.error;
      }
      const end = at + HEAD + Number(length);
      if (end > data.length) break;
      bodies.push(data.subarray(at + HEAD, end));
      at = end;
    }
    // Copied, not a view: a view would keep the whole chunk alive for a few bytes of it.
    this.pending = Buffer.from(data.subarray(at));
    return bodies;
  }
}

// One frame: the body's length, big-endian on 8 bytes, then the body.
export function encodeFrame(body) {
  const frame = Buffer.allocUnsafe(HEAD + body.length);
  frame.writeBigUInt64BE(BigInt(body.length), 0);
  frame.set(body, HEAD);
  return frame;
}

// A connection to an Avant server. Events: 'package' ({ cmd, protocol }: the command's number and
// the inner message's bytes) for every package, 'close' (error or null) once, 'error' only when
// someone listens to it (a failure also closes, and rejects what is pending; over UDP, a
// DatagramError for a datagram that is not a package closes nothing).
export class AvantClient extends EventEmitter {
  constructor(schema, transport, options) {
    super();
    this.schema = schema;
    this.transport = transport;
    this.timeout = options.timeout ?? 10000;
    this.waiting = [];  // requests waiting for an answer, oldest first
    this.closed = null;  // the reason, once closed
    transport.onPackage = (body) => this.#receive(body);
    transport.onClose = (error) => this.#closed(error);
  }

  // A command by number or by its name in ProtoCmd ("PROTO_CMD_CS_REQ_EXAMPLE").
  command(cmd) {
    if (typeof cmd === "number") return cmd;
    const number = this.schema.commands[cmd];
    if (number === undefined) throw new Error(`no command ${cmd} in ProtoCmd`);
    return number;
  }

  // Sends one package: the message `object` of type `messageType` ("ProtoCSReqExample"), under
  // command `cmd`. Throws when the object does not fit the type or the connection is closed.
  send(cmd, messageType, object) {
    if (this.closed) throw this.closed;
    const type = this.schema.type(messageType);
    const problem = type.verify(object);
    if (problem) throw new Error(`${messageType}: ${problem}`);
    const protocol = type.encode(type.fromObject(object)).finish();
    const { Package } = this.schema;
    this.transport.send(Package.encode(Package.create({ cmd: this.command(cmd), protocol }))
      .finish());
  }

  // Sends a package and resolves with the decoded message of the next package of command
  // `answer`, of type `answerType`. The protocol carries no request id: answers are matched to
  // requests in the order they were sent, which holds for a server that answers each
  // connection's packages in order, as Avant does. Rejects when the connection closes first. A
  // timeout closes the connection (and so rejects every pending request): without request ids, an
  // answer that came late could not be told from the answer to the next request. Over UDP too: a
  // new client has a port of its own, where the late answer never arrives.
  request(cmd, messageType, object, { answer, answerType, timeout = this.timeout }) {
    return new Promise((resolve, reject) => {
      const waiter = { cmd: this.command(answer), type: this.schema.type(answerType), resolve,
        reject };
      waiter.timer = setTimeout(() => {
        this.transport.destroy(new TimeoutError(`no answer ${answer} within ${timeout} ms`), 1000);
      }, timeout);
      this.waiting.push(waiter);
      try {
        this.send(cmd, messageType, object);
      } catch (error) {
        clearTimeout(waiter.timer);
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(error);
      }
    });
  }

  // The echo example: resolves with the answer's testContext, a Buffer (bytes: any of the 256
  // values, NUL included). `text` is a string (sent as UTF-8) or bytes.
  async echo(text, options = {}) {
    const answer = await this.request("PROTO_CMD_CS_REQ_EXAMPLE", "ProtoCSReqExample",
      { testContext: Buffer.from(text) },
      { answer: "PROTO_CMD_CS_RES_EXAMPLE", answerType: "ProtoCSResExample", ...options });
    return Buffer.from(answer.testContext);
  }

  // Closes the connection; resolves once it is closed.
  close() {
    if (this.closed) return Promise.resolve();
    const done = new Promise((resolve) => this.once("close", () => resolve()));
    this.transport.close();
    return done;
  }

  #receive(body) {
    let pkg;
    try {
      pkg = this.schema.Package.decode(body);
    } catch (error) {
      if (this.transport.datagrams) {
        // One datagram lost, not a stream out of step: the next datagram is a package again.
        if (this.listenerCount("error") > 0) {
          this.emit("error", new DatagramError(`a datagram of ${body.length} bytes is not a ` +
            `ProtoPackage: ${error.message}`));
        }
        return;
      }
      this.transport.destroy(new Error(`not a ProtoPackage: ${error.message}`));
      return;
    }
    const received = { cmd: pkg.cmd, protocol: Buffer.from(pkg.protocol ?? []) };
    const at = this.waiting.findIndex((w) => w.cmd === received.cmd);
    if (at >= 0) {
      const [waiter] = this.waiting.splice(at, 1);
      clearTimeout(waiter.timer);
      try {
        waiter.resolve(waiter.type.decode(received.protocol));
      } catch (error) {
        waiter.reject(error);
      }
    }
    this.emit("package", received);
  }

  #closed(error) {
    if (this.closed) return;
    this.closed = error ?? new Error("connection closed");
    for (const waiter of this.waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.closed);
    }
    if (error && this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("close", error ?? null);
  }
}

// TCP or TLS: packages as frames.
class StreamTransport {
  constructor(socket, maxFrame) {
    this.socket = socket;
    this.decoder = new FrameDecoder(maxFrame);
    socket.on("data", (chunk) => {
      let bodies;
      try {
        bodies = this.decoder.push(chunk);
      } catch (error) {
        socket.destroy(error);
        return;
      }
      for (const body of bodies) {
        if (socket.destroyed) return;
        this.onPackage(body);
      }
    });
    let failure = null;
    socket.on("error", (error) => { failure = error; });
    socket.on("close", () => this.onClose(failure));
  }

  send(body) { this.socket.write(encodeFrame(body)); }
  close() { this.socket.end(); }
  destroy(error) { this.socket.destroy(error); }  // reported by 'close' with this error
}

// WebSocket: one binary message is one package.
class WebSocketTransport {
  constructor(socket) {
    this.socket = socket;
    socket.on("message", (data, isBinary) => {
      // Text is not a package (Avant echoes it): it is not handed on as one.
      if (isBinary) this.onPackage(data);
    });
    this.failure = null;
    socket.on("error", (error) => { this.failure ??= error; });
    socket.on("close", (code, reason) => {
      this.onClose(this.failure ?? (code === 1000 || code === 1005 ? null
        : new Error(`closed with ${code}${reason.length ? ` (${reason})` : ""}`)));
    });
  }

  send(body) { this.socket.send(body, { binary: true }); }
  close() { this.socket.close(1000); }
  // 1007 by default: the message was not a package (invalid payload data), as the server says it
  // too; 1000 when the client gives up waiting.
  destroy(error, code = 1007) {
    this.failure ??= error;
    this.socket.close(code, error.message.slice(0, 120));
  }
}

const EMPTY_PACKAGE = Buffer.from([0x12, 0x00]);  // field 2 (protocol), 0 bytes long

// UDP: one datagram is one package; no frames, no connection. The socket is connected to the
// server's address: the kernel filters out datagrams from anyone else, and an ICMP "port
// unreachable" comes back as ECONNREFUSED, which closes the client (no server is there).
class DatagramTransport {
  constructor(socket) {
    this.socket = socket;
    this.datagrams = true;
    this.closing = false;
    this.failure = null;
    socket.on("message", (datagram) => this.onPackage(datagram));
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.onClose(this.failure));
  }

  // A package that does not fit in a datagram is refused here, before anything is sent. A package
  // whose encoding is empty (command 0 with nothing in it: the echo of an empty testContext) goes
  // as `12 00`, the same package with its empty protocol written out: a datagram of zero bytes is
  // dropped by the server, as by many.
  send(body) {
    if (body.length === 0) body = EMPTY_PACKAGE;
    if (body.length > MAX_DATAGRAM) {
      throw new Error(`a package of ${body.length} bytes is over the largest datagram, ` +
        `${MAX_DATAGRAM}`);
    }
    this.socket.send(body, (error) => { if (error) this.destroy(error); });
  }

  close() {
    if (this.closing) return;
    this.closing = true;
    this.socket.close();
  }

  destroy(error) {
    this.failure ??= error;
    this.close();
  }
}

function opened(emitter, event, timeout, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what}: not connected within ${timeout} ms`));
      if (emitter.terminate) emitter.terminate();
      else if (emitter.destroy) emitter.destroy();
      else emitter.close();  // a dgram socket
    }, timeout);
    emitter.once(event, () => { clearTimeout(timer); resolve(); });
    emitter.once("error", (error) => { clearTimeout(timer); reject(error); });
  });
}

// Connects to `url`: tcp://host:port, tls://host:port, ws://host:port/path, wss://... or
// udp://host:port. Options: ca (a PEM file the server's certificate is checked against, for
// tls:// and wss://), servername (the name checked, when not the URL's host), maxFrame
// (MAX_FRAME; not for udp://, whose limit is MAX_DATAGRAM), timeout (ms, for the connect and each
// request; 10000), proto (the .proto file; proto/avant.proto).
export async function connect(url, options = {}) {
  const target = new URL(url);
  const schema = await loadSchema(options.proto);
  const maxFrame = options.maxFrame ?? MAX_FRAME;
  const timeout = options.timeout ?? 10000;
  const ca = options.ca ? fs.readFileSync(options.ca) : undefined;
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(target.port);
  let transport;
  switch (target.protocol) {
    case "tcp:": {
      const socket = net.connect({ host, port });
      await opened(socket, "connect", timeout, url);
      socket.setNoDelay(true);
      transport = new StreamTransport(socket, maxFrame);
      break;
    }
    case "tls:": {
      const socket = tls.connect({ host, port, ca, servername: options.servername ??
        (net.isIP(host) ? undefined : host) });
      await opened(socket, "secureConnect", timeout, url);
      socket.setNoDelay(true);
      transport = new StreamTransport(socket, maxFrame);
      break;
    }
    case "ws:":
    case "wss:": {
      const socket = new WebSocket(url, { ca, servername: options.servername, maxPayload: maxFrame,
        perMessageDeflate: false });
      await opened(socket, "open", timeout, url);
      transport = new WebSocketTransport(socket);
      break;
    }
    case "udp:": {
      // "Connected" is local only: the address is set, nothing is sent. A name is looked up for
      // IPv4 unless it is an IPv6 address.
      const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
      socket.connect(port, host);
      try {
        await opened(socket, "connect", timeout, url);
      } catch (error) {
        try {
          socket.close();  // a failed lookup leaves it open
        } catch {
          // closed by the timeout already
        }
        throw error;
      }
      transport = new DatagramTransport(socket);
      break;
    }
    default:
      throw new Error(`${url}: not tcp://, tls://, ws://, wss:// or udp://`);
  }
  return new AvantClient(schema, transport, { timeout });
}
