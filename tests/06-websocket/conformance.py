"""A WebSocket conformance set for avant-ws-echo, modelled on the Autobahn|Testsuite groups.

    /usr/bin/python3 conformance.py <avant-ws-echo binary>

Every case opens a fresh connection to avant-ws-echo (two worker loops, an ephemeral port of
127.0.0.1, 16 MiB messages, permessage-deflate on), writes frames built here byte by byte (some
broken on purpose, some cut into pieces or written slowly), and checks what comes back: the echoed
messages and pongs in order, then the server's close frame with the expected code, or none.

Groups and what they hold (docs/websocket.md, "Conformance"):
  1  framing: text and binary of every length form, whole and in small pieces
  2  pings and pongs: payloads up to 125 bytes, 126 refused, unsolicited pongs ignored, many pings
  3  reserved bits: RSV1..3 on data and control frames without an extension -> 1002
  4  opcodes: reserved data opcodes 3-7 and control opcodes 11-15 -> 1002
  5  fragmentation: fragmented control frames, continuations without a start, interleaved pings,
     a new message inside a fragmented one
  6  UTF-8: valid text in every fragmentation, invalid sequences (overlong, surrogates, past
     U+10FFFF, truncated) -> 1007, and failing fast in the first fragment
  7  closing: codes echoed, reasons up to 123 bytes, nothing after a close, invalid codes and a
     1-byte payload -> 1002, a reason that is not UTF-8 -> 1007
  9  limits: messages up to 16 MiB, fragmented in pieces of 64 B to 4 MiB, 1000 messages in flight
  12/13  permessage-deflate: messages compressed here and the server's compressed echoes inflated
     here, without context takeover (avant's default answer) and with it (--compress-takeover),
     whole and fragmented; RSV1 on a continuation -> 1002; malformed offers declined
Every wait has a deadline. Prints one line per group; exits 1 at the first case that fails.
"""
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import server_log  # noqa: E402  (tests/support)

DEADLINE = 10.0
BANNER = re.compile(r"avant-ws-echo: listening on ws://127\.0\.0\.1:(\d+) ")
TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0,
          mask: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = random.randbytes(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
        (int.from_bytes(payload, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")) \
        .to_bytes(n, "big")
    return head + key + masked


def close_frame(code=None, reason: bytes = b"") -> bytes:
    return frame(CLOSE, b"" if code is None else struct.pack("!H", code) + reason)


class Conn:
    def __init__(self, port: int, extensions: str = ""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.inflater = None
        request = ("GET /case HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
        if extensions:
            request += f"Sec-WebSocket-Extensions: {extensions}\r\n"
        self.sock.sendall((request + "\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            if not self.fill():  # EOF, a reset or the deadline: a server that died says why
                fail(f"no answer to the upgrade (the connection ended): {self.buffer[:200]!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        if not self.head.startswith("HTTP/1.1 101 "):
            fail(f"no 101: {self.head!r}")
        self.agreed = ""
        for line in self.head.split("\r\n"):
            if line.lower().startswith("sec-websocket-extensions:"):
                self.agreed = line.split(":", 1)[1].strip()

    def fill(self) -> bool:
        try:
            chunk = self.sock.recv(1 << 20)
        except (ConnectionResetError, socket.timeout):
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def send(self, data: bytes, pieces: int = 0, pause: float = 0.0) -> None:
        """Writes `data` whole, or in pieces of `pieces` bytes with `pause` between them."""
        try:
            if not pieces:
                self.sock.sendall(data)
                return
            for i in range(0, len(data), pieces):
                self.sock.sendall(data[i:i + pieces])
                if pause:
                    time.sleep(pause)  # the case is about slow writes, not a wait for the server
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close first; what it sent before is still checked

    def next(self):
        """(opcode, payload, rsv1) of the next server frame, or None when the connection ends."""
        while True:
            if len(self.buffer) >= 2:
                b0, b1 = self.buffer[0], self.buffer[1]
                if b1 & 0x80:
                    fail("the server sent a masked frame")
                n, at = b1 & 0x7F, 2
                if n == 126:
                    if len(self.buffer) < 4:
                        n = None
                    else:
                        n, at = struct.unpack("!H", self.buffer[2:4])[0], 4
                elif n == 127:
                    if len(self.buffer) < 10:
                        n = None
                    else:
                        n, at = struct.unpack("!Q", self.buffer[2:10])[0], 10
                if n is not None and len(self.buffer) >= at + n:
                    payload = self.buffer[at:at + n]
                    self.buffer = self.buffer[at + n:]
                    if not b0 & 0x80:
                        fail("the server fragmented a message")
                    return b0 & 0x0F, payload, bool(b0 & 0x40)
            if not self.fill():
                return None

    def closed_cleanly(self) -> bool:
        """After the close frames: the server ends TCP (EOF) within the deadline."""
        while self.fill():
            pass
        return True


class Deflate:
    """permessage-deflate as the server's answer agreed: each side keeps its LZ77 window from
    message to message unless the answer says *_no_context_takeover."""

    def __init__(self, agreed: str):
        if not agreed.startswith("permessage-deflate"):
            fail(f"permessage-deflate was not agreed: {agreed!r}")
        self.client_takeover = "client_no_context_takeover" not in agreed
        self.server_takeover = "server_no_context_takeover" not in agreed
        self.compressor = None
        self.decompressor = None

    def deflate(self, data: bytes) -> bytes:
        if self.compressor is None or not self.client_takeover:
            self.compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        return (self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]

    def inflate(self, data: bytes) -> bytes:
        if self.decompressor is None or not self.server_takeover:
            self.decompressor = zlib.decompressobj(-15)
        return self.decompressor.decompress(data + b"\x00\x00\xff\xff")


def run_case(port: int, name: str, send, expect, close, extensions: str = "") -> None:
    """`send(conn)` writes; `expect` is the list of (opcode, payload) the server must send first;
    `close` the code of its close frame (None: it must not close, and the client closes with
    1000 to end the case; "any": a close frame with any code). With `extensions` offered, the
    agreed permessage-deflate is conn.deflate."""
    conn = Conn(port, extensions)
    conn.deflate = Deflate(conn.agreed) if extensions else None
    inflate = conn.deflate.inflate if conn.deflate else None
    send(conn)
    for want_op, want_payload in expect:
        got = conn.next()
        if got is None:
            fail(f"{name}: the connection ended before {want_op}/{want_payload[:40]!r}")
        op, payload, rsv1 = got
        if rsv1:
            if inflate is None:
                fail(f"{name}: a compressed frame without permessage-deflate")
            payload = inflate(payload)
        if (op, payload) != (want_op, want_payload):
            fail(f"{name}: expected {want_op}/{want_payload[:60]!r}, got {op}/{payload[:60]!r}")
    if close is None:
        conn.send(close_frame(1000))
        close = 1000
    got = conn.next()
    if got is None or got[0] != CLOSE:
        fail(f"{name}: expected a close frame ({close}), got {got and (got[0], got[1][:40])}")
    code = struct.unpack("!H", got[1][:2])[0] if len(got[1]) >= 2 else 1005
    if close != "any" and code != close:
        fail(f"{name}: closed with {code}, expected {close}")
    conn.send(close_frame(code if code != 1005 else None))
    conn.closed_cleanly()
    conn.sock.close()


def group1(port: int) -> int:
    n = 0
    for op in (TEXT, BINARY):
        for size in (0, 125, 126, 127, 128, 65535, 65536):
            payload = (b"*" * size) if op == TEXT else bytes(random.randbytes(size))
            run_case(port, f"1.{op}.{size}", lambda c, p=payload, o=op: c.send(frame(o, p)),
                     [(op, payload)], None)
            n += 1
        payload = b"x" * 65536 if op == TEXT else random.randbytes(65536)
        run_case(port, f"1.{op}.chopped", lambda c, p=payload, o=op: c.send(frame(o, p), 997),
                 [(op, payload)], None)
        n += 1
    return n


def group2(port: int) -> int:
    cases = [
        ("2.1", lambda c: c.send(frame(PING)), [(PONG, b"")], None),
        ("2.2", lambda c: c.send(frame(PING, b"Hello, world!")), [(PONG, b"Hello, world!")], None),
        ("2.3", lambda c: c.send(frame(PING, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
         [(PONG, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")], None),
        ("2.4", lambda c: c.send(frame(PING, b"\xfe" * 125)), [(PONG, b"\xfe" * 125)], None),
        ("2.5", lambda c: c.send(frame(PING, b"\xfe" * 126)), [], 1002),
        ("2.6", lambda c: c.send(frame(PING, b"\xfe" * 125), 1, 0.001), [(PONG, b"\xfe" * 125)],
         None),
        ("2.7", lambda c: c.send(frame(PONG)), [], None),
        ("2.8", lambda c: c.send(frame(PONG, b"unsolicited")), [], None),
        ("2.9", lambda c: c.send(frame(PONG, b"unsolicited") + frame(PING, b"solicited")),
         [(PONG, b"solicited")], None),
        ("2.10", lambda c: c.send(b"".join(frame(PING, b"p%d" % i) for i in range(10))),
         [(PONG, b"p%d" % i) for i in range(10)], None),
        ("2.11", lambda c: c.send(b"".join(frame(PING, b"p%d" % i) for i in range(10)), 1),
         [(PONG, b"p%d" % i) for i in range(10)], None),
    ]
    for name, send, expect, close in cases:
        run_case(port, name, send, expect, close)
    return len(cases)


def group3(port: int) -> int:
    cases = [
        ("3.1", lambda c: c.send(frame(TEXT, b"Hello", rsv=1)), [], 1002),
        ("3.2", lambda c: c.send(frame(TEXT, b"Hello") + frame(TEXT, b"Hello", rsv=2) +
                                 frame(PING)), [(TEXT, b"Hello")], 1002),
        ("3.3", lambda c: c.send(frame(TEXT, b"Hello") + frame(TEXT, b"Hello", rsv=3) +
                                 frame(PING), 1), [(TEXT, b"Hello")], 1002),
        ("3.4", lambda c: c.send(frame(TEXT, b"Hello") + frame(TEXT, b"Hello", rsv=4) +
                                 frame(PING)), [(TEXT, b"Hello")], 1002),
        ("3.5", lambda c: c.send(frame(BINARY, b"\xff" * 8, rsv=5)), [], 1002),
        ("3.6", lambda c: c.send(frame(PING, b"Hello", rsv=6)), [], 1002),
        ("3.7", lambda c: c.send(frame(CLOSE, b"", rsv=7)), [], 1002),
    ]
    for name, send, expect, close in cases:
        run_case(port, name, send, expect, close)
    return len(cases)


def group4(port: int) -> int:
    n = 0
    for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        run_case(port, f"4.{op}", lambda c, o=op: c.send(frame(TEXT, b"Hello") + frame(o) +
                                                         frame(PING)),
                 [(TEXT, b"Hello")], 1002)
        n += 1
    return n


def group5(port: int) -> int:
    cases = [
        ("5.1", lambda c: c.send(frame(PING, b"frag", fin=False) + frame(CONT, b"ment")), [],
         1002),
        ("5.2", lambda c: c.send(frame(PONG, b"frag", fin=False) + frame(CONT, b"ment")), [],
         1002),
        ("5.3", lambda c: c.send(frame(TEXT, b"frag", fin=False) + frame(CONT, b"ment")),
         [(TEXT, b"fragment")], None),
        ("5.4", lambda c: c.send(frame(TEXT, b"frag", fin=False) + frame(CONT, b"ment"), 1),
         [(TEXT, b"fragment")], None),
        ("5.6", lambda c: c.send(frame(TEXT, b"frag", fin=False) + frame(PING, b"ping") +
                                 frame(CONT, b"ment")),
         [(PONG, b"ping"), (TEXT, b"fragment")], None),
        ("5.9", lambda c: c.send(frame(CONT, b"orphan") + frame(TEXT, b"Hello")), [], 1002),
        ("5.10", lambda c: c.send(frame(CONT, b"orphan", fin=False) + frame(TEXT, b"Hello")), [],
         1002),
        ("5.15", lambda c: c.send(frame(TEXT, b"frag", fin=False) + frame(TEXT, b"new")), [],
         1002),
        ("5.17", lambda c: c.send(frame(CONT, b"one", fin=False) + frame(CONT, b"two")), [],
         1002),
        ("5.19", lambda c: c.send(frame(TEXT, b"a", fin=False) + frame(CONT, b"b", fin=False) +
                                  frame(PING, b"1") + frame(CONT, b"c", fin=False) +
                                  frame(PING, b"2") + frame(CONT, b"d"), 2, 0.01),
         [(PONG, b"1"), (PONG, b"2"), (TEXT, b"abcd")], None),
    ]
    for name, send, expect, close in cases:
        run_case(port, name, send, expect, close)
    return len(cases)


VALID = [
    "", "Hello-µ@ßöäüàá-UTF-8!!", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000",
    "\U0010ffff", "\ud7ff", "\ue000", "\ufffd",
]
INVALID = [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
    b"\x80", b"\xbf", b"\x80\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
    b"\xf8\x88\x80\x80\xaf", b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80", b"\xfe", b"\xff", b"\xc0", b"\xe0\x80", b"\xf0\x80\x80",
    b"Hello\xce", b"\xed\xa0\x80\xed\xb0\x80",
]


def group6(port: int) -> int:
    n = 0
    for i, text in enumerate(VALID):
        data = text.encode()
        run_case(port, f"6.valid.{i}", lambda c, d=data: c.send(frame(TEXT, d)), [(TEXT, data)],
                 None)
        # The same in fragments of one byte each (UTF-8 cut inside characters).
        if len(data) > 1:
            frames = [frame(TEXT if j == 0 else CONT, data[j:j + 1], fin=j == len(data) - 1)
                      for j in range(len(data))]
            run_case(port, f"6.valid.{i}.bytewise", lambda c, f=frames: c.send(b"".join(f)),
                     [(TEXT, data)], None)
            n += 1
        n += 1
    for i, data in enumerate(INVALID):
        run_case(port, f"6.invalid.{i}", lambda c, d=data: c.send(frame(TEXT, d)), [], 1007)
        run_case(port, f"6.invalid.{i}.fragments",
                 lambda c, d=data: c.send(frame(TEXT, d[:1], fin=False) +
                                          frame(CONT, d[1:], fin=True)),
                 [], 1007)
        n += 2
    # Fail fast: the first fragment is already invalid; the server closes without waiting for
    # the rest, which never comes.
    run_case(port, "6.4.fail-fast", lambda c: c.send(frame(TEXT, b"\xce\xba\xe1\xbd\xb9\xed\xa0"
                                                     b"\x80", fin=False)), [], 1007)
    return n + 1


def group7(port: int) -> int:
    cases = [
        ("7.1.1", lambda c: c.send(frame(TEXT, b"Hello") + close_frame(1000)),
         [(TEXT, b"Hello")], 1000),
        ("7.1.2", lambda c: c.send(close_frame(1000) + close_frame(1000)), [], 1000),
        ("7.1.3", lambda c: c.send(close_frame(1000) + frame(PING)), [], 1000),
        ("7.1.4", lambda c: c.send(close_frame(1000) + frame(TEXT, b"late")), [], 1000),
        ("7.1.5", lambda c: c.send(frame(TEXT, b"frag", fin=False) + close_frame(1000) +
                                   frame(CONT, b"ment")), [], 1000),
        ("7.3.1", lambda c: c.send(close_frame()), [], "any"),
        ("7.3.2", lambda c: c.send(frame(CLOSE, b"\x03")), [], 1002),
        ("7.3.3", lambda c: c.send(close_frame(1000)), [], 1000),
        ("7.3.4", lambda c: c.send(close_frame(1000, b"Hello World!")), [], 1000),
        ("7.3.5", lambda c: c.send(close_frame(1000, b"*" * 123)), [], 1000),
        ("7.3.6", lambda c: c.send(frame(CLOSE, struct.pack("!H", 1000) + b"*" * 124)), [],
         1002),
        ("7.5.1", lambda c: c.send(close_frame(1000, b"\xce\xba\xe1\xbd\xb9\xed\xa0\x80")), [],
         1007),
    ]
    for name, send, expect, close in cases:
        run_case(port, name, send, expect, close)
    n = len(cases)
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
        run_case(port, f"7.7.{code}", lambda c, k=code: c.send(close_frame(k)), [], code)
        n += 1
    for code in (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535):
        run_case(port, f"7.9.{code}", lambda c, k=code: c.send(close_frame(k)), [], 1002)
        n += 1
    return n


def group9(port: int) -> int:
    n = 0
    for size in (64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20):
        payload = b"x" * size
        run_case(port, f"9.1.{size}", lambda c, p=payload: c.send(frame(TEXT, p)),
                 [(TEXT, payload)], None)
        n += 1
    big = random.randbytes(4 << 20)
    for piece in (64, 4096, 256 << 10, 4 << 20):
        frames = [frame(BINARY if i == 0 else CONT, big[i:i + piece], fin=i + piece >= len(big))
                  for i in range(0, len(big), piece)]
        run_case(port, f"9.3.{piece}", lambda c, f=frames: c.send(b"".join(f)), [(BINARY, big)],
                 None)
        n += 1
    messages = [b"m%04d" % i for i in range(1000)]
    run_case(port, "9.7", lambda c: c.send(b"".join(frame(TEXT, m) for m in messages)),
             [(TEXT, m) for m in messages], None)
    # One byte over the limit of a second server: refused at the header with 1009.
    return n + 1


def group12(port: int, takeover_port: int) -> int:
    """Without context takeover (the server's default answer) and with it (a server started with
    --compress-takeover), messages compressed here, echoed compressed and inflated here."""
    n = 0
    offer = "permessage-deflate; client_max_window_bits"
    for label, p in (("no-takeover", port), ("takeover", takeover_port)):
        for size in (16, 64, 256, 1024, 4096, 65536, 1 << 20):
            messages = [("the quick brown fox %d " % i * (size // 20 + 1))[:size].encode()
                        for i in range(3)]
            run_case(p, f"12.{label}.{size}",
                     lambda c, m=messages: c.send(b"".join(frame(TEXT, c.deflate.deflate(x), rsv=4)
                                                           for x in m)),
                     [(TEXT, x) for x in messages], None, offer)
            n += 1
        # A compressed message in fragments: RSV1 on the first frame only.
        text = b"fragmented and compressed " * 100

        def fragments(c, t=text):
            whole = c.deflate.deflate(t)
            c.send(frame(TEXT, whole[:10], fin=False, rsv=4) +
                   frame(CONT, whole[10:20], fin=False) + frame(CONT, whole[20:]))

        run_case(p, f"12.{label}.fragments", fragments, [(TEXT, text)], None, offer)
        n += 1
    # RSV1 on a continuation frame is a protocol error even with the extension.
    run_case(port, "13.rsv1-on-continuation",
             lambda c: c.send(frame(TEXT, b"\x00", fin=False, rsv=4) +
                              frame(CONT, b"\x00", rsv=4)),
             [], 1002, "permessage-deflate")
    # Offers the server declines (RFC 7692 §7.1): an unknown parameter, a window of 8 bits for the
    # server; the connection goes on without compression.
    for bad in ("permessage-deflate; mystery", "permessage-deflate; server_max_window_bits=8"):
        conn = Conn(port, bad)
        if conn.agreed:
            fail(f"13: the offer {bad!r} was answered with {conn.agreed!r}")
        conn.sock.close()
        n += 1
    return n + 1


class Server:
    def __init__(self, binary: str, *args: str):
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--workers", "2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr = []
        banner = {}
        ready = threading.Event()

        def out() -> None:
            banner["line"] = self.process.stdout.readline()
            ready.set()
            self.process.stdout.read()

        def err() -> None:
            for line in self.process.stderr:
                self.stderr.append(line)

        threading.Thread(target=out, daemon=True).start()
        threading.Thread(target=err, daemon=True).start()
        server_log.watch(f"avant-ws-echo {' '.join(args)}", lambda: "".join(self.stderr))
        if not ready.wait(DEADLINE):
            fail("no banner from avant-ws-echo")
        match = BANNER.match(banner.get("line", ""))
        if not match:
            fail(f"unexpected banner {banner.get('line')!r}")
        self.port = int(match.group(1))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("avant-ws-echo did not stop after SIGTERM")
        if code != 0:
            fail(f"avant-ws-echo exited with {code}")


def body(binary: str) -> None:
    random.seed(6455)
    server = Server(binary, "--compress", "--max-message", str(16 << 20))
    total = 0
    for number, group in ((1, group1), (2, group2), (3, group3), (4, group4), (5, group5),
                          (6, group6), (7, group7), (9, group9)):
        count = group(server.port)
        total += count
        print(f"group {number}: {count} cases ok", flush=True)
    takeover = Server(binary, "--compress-takeover")
    count = group12(server.port, takeover.port)
    total += count
    print(f"groups 12-13: {count} cases ok", flush=True)
    takeover.stop()
    server.stop()
    small = Server(binary, "--max-message", "1000")
    run_case(small.port, "9.limit", lambda c: c.send(frame(BINARY, b"x" * 1001)), [], 1009)
    run_case(small.port, "9.limit.fragments",
             lambda c: c.send(frame(BINARY, b"x" * 600, fin=False) + frame(CONT, b"x" * 600)), [],
             1009)
    run_case(small.port, "9.limit.exact", lambda c: c.send(frame(BINARY, b"x" * 1000)),
             [(BINARY, b"x" * 1000)], None)
    small.stop()
    print(f"ok: {total + 3} cases in groups 1-7, 9, 12-13")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1]))
