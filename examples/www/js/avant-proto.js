// avant-proto.js — just enough protobuf for the WebSocket page's protobuf mode: an ES module, no
// library, no build step.
//
//   import { encodeEchoRequest, decodeEchoAnswer } from "/js/avant-proto.js";
//   socket.send(encodeEchoRequest("hello"));          // one binary message: one ProtoPackage
//   const { cmd, testContext } = decodeEchoAnswer(new Uint8Array(event.data));
//
// The messages are proto/avant.proto's ProtoPackage { ProtoCmd cmd = 1; bytes protocol = 2; } and
// the echo example's ProtoCSReqExample / ProtoCSResExample { bytes testContext = 1; }, written by
// hand from protobuf's wire format: each field is a tag (field number << 3 | wire type) as a
// varint, then a varint (wire type 0) or a varint length and that many bytes (wire type 2). The
// page needs four messages of two shapes; a general protobuf library would be most of the page's
// weight, and this file shows the whole format in a hundred lines. Like every proto3 encoder it
// writes no field that holds its default value (0, empty bytes), so the echo example's request has
// no `08 00` and is byte for byte the original's (docs/original-avant.md). Decoding skips fields it
// does not know, as protobuf requires, and refuses truncated or malformed input with an Error.

export const PROTO_CMD_CS_REQ_EXAMPLE = 0;
export const PROTO_CMD_CS_RES_EXAMPLE = 1;
export const COMMAND_NAMES = { 0: "PROTO_CMD_CS_REQ_EXAMPLE", 1: "PROTO_CMD_CS_RES_EXAMPLE" };

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

// Bytes are collected as parts and joined once: no copy per field.
class Writer {
  constructor() {
    this.parts = [];
    this.size = 0;
  }

  // An unsigned varint: 7 bits per byte, least significant first, the top bit set on every byte
  // but the last. A BigInt, so that every 64-bit value (a negative int32 is 10 bytes) is exact.
  varint(value) {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Uint8Array.from(bytes));
    this.size += bytes.length;
    return this;
  }

  // A field of wire type 2: tag, length, bytes.
  bytes(field, data) {
    this.varint((field << 3) | LEN).varint(data.length);
    this.parts.push(data);
    this.size += data.length;
    return this;
  }

  finish() {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }

  done() {
    return this.at >= this.bytes.length;
  }

  varint() {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.done()) throw new Error("truncated varint");
      const byte = this.bytes[this.at++];
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, value);
    }
    throw new Error("a varint longer than 10 bytes");
  }

  take(length) {
    if (length > BigInt(this.bytes.length - this.at)) throw new Error("truncated field");
    const out = this.bytes.subarray(this.at, this.at + Number(length));
    this.at += out.length;
    return out;
  }

  // Calls visit(field, wireType, value) for each field: value is a BigInt for a varint, the bytes
  // for a length-delimited field; fixed-size fields are skipped (none of these messages has one).
  fields(visit) {
    while (!this.done()) {
      const tag = this.varint();
      const field = Number(tag >> 3n);
      const type = Number(tag & 7n);
      if (field === 0) throw new Error("field number 0");
      if (type === VARINT) visit(field, type, this.varint());
      else if (type === LEN) visit(field, type, this.take(this.varint()));
      else if (type === I64) this.take(8n);
      else if (type === I32) this.take(4n);
      else throw new Error(`wire type ${type} (groups are not proto3)`);
    }
  }
}

function asBytes(data) {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

// ProtoPackage { cmd, protocol } -> bytes.
export function encodePackage({ cmd = 0, protocol = new Uint8Array(0) }) {
  const w = new Writer();
  if (cmd !== 0) w.varint((1 << 3) | VARINT).varint(cmd);
  const inner = asBytes(protocol);
  if (inner.length > 0) w.bytes(2, inner);
  return w.finish();
}

// bytes -> { cmd, protocol }. A field seen twice: the last one counts, as protobuf says.
export function decodePackage(data) {
  const out = { cmd: 0, protocol: new Uint8Array(0) };
  new Reader(asBytes(data)).fields((field, type, value) => {
    if (field === 1 && type === VARINT) out.cmd = Number(BigInt.asIntN(32, value));
    else if (field === 2 && type === LEN) out.protocol = value;
  });
  return out;
}

// ProtoCSReqExample and ProtoCSResExample have the same shape: { bytes testContext = 1; }.
export function encodeTestContext(testContext) {
  const bytes = asBytes(testContext);
  return bytes.length > 0 ? new Writer().bytes(1, bytes).finish() : new Uint8Array(0);
}

export function decodeTestContext(data) {
  let testContext = new Uint8Array(0);
  new Reader(asBytes(data)).fields((field, type, value) => {
    if (field === 1 && type === LEN) testContext = value;
  });
  return testContext;
}

// The echo example's request: ProtoPackage { cmd = PROTO_CMD_CS_REQ_EXAMPLE, protocol =
// ProtoCSReqExample { testContext } }, a string (sent as UTF-8) or bytes.
export function encodeEchoRequest(testContext) {
  return encodePackage({ cmd: PROTO_CMD_CS_REQ_EXAMPLE, protocol: encodeTestContext(testContext) });
}

// A package whose inner message has a testContext (the echo's answer, or its request echoed
// back by an endpoint that does not dispatch packages): { cmd, testContext }.
export function decodeEchoAnswer(data) {
  const { cmd, protocol } = decodePackage(data);
  return { cmd, testContext: decodeTestContext(protocol) };
}
