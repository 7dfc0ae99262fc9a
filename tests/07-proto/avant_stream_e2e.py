"""The assembled server's STREAM_TASK end to end, with python3's socket and ssl modules.

    /usr/bin/python3 avant_stream_e2e.py <avant binary> <source folder>

Checked: `avant -c examples/main.ini --set server.task_type=STREAM_TASK` (ports moved to ephemeral
ones) answers the original's echo example byte for byte (docs/original-avant.md) over TCP, also
when the request comes a byte at a time and when 50 requests come in one write; a frame over the
original's 10240-byte limit closes that connection while another is served; with use_ssl = 1 the
same exchange goes over TLS (a certificate made by scripts/example-cert.sh); SIGTERM stops it
with status 0 and the static folder is not needed. And `make run`'s configuration as it is
(HTTP_TASK) serves the same exchange on its listeners beside the site: [listener.proto] over TCP,
[listener.proto-tls] over TLS, [listener.proto-ws] as one WebSocket binary message each way.
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 15.0
BANNER = re.compile(r"avant: serving the protobuf stream \(the echo example\) on (tcp|tls)://"
                    r"127\.0\.0\.1:(\d+)/")
# docs/original-avant.md, "The echo example, byte by byte".
REQUEST = bytes([0, 0, 0, 0, 0, 0, 0, 0x0C, 0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8
ANSWER = bytes([0, 0, 0, 0, 0, 0, 0, 0x0E, 0x08, 0x01, 0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def Avant(binary: str, config: str, *sets: str) -> avant_process.Avant:  # noqa: N802
    return avant_process.Avant(binary, config, BANNER, "server.task_type=STREAM_TASK",
                               "server.http_static_dir=no-such-folder", *sets)


def receive(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def connect(port: int, context: ssl.SSLContext | None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    if context is None:
        return sock
    return context.wrap_socket(sock, server_hostname="localhost")


def exchange(port: int, context: ssl.SSLContext | None) -> None:
    with connect(port, context) as s:
        s.sendall(REQUEST)
        got = receive(s, len(ANSWER))
        check(got == ANSWER, f"answer {got.hex()} is not {ANSWER.hex()}")
        for b in REQUEST:
            s.sendall(bytes([b]))
        check(receive(s, len(ANSWER)) == ANSWER, "no answer to a request sent a byte at a time")
        s.sendall(REQUEST * 50)
        check(receive(s, len(ANSWER) * 50) == ANSWER * 50, "50 requests in one write")


def oversized(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as bad:
        bad.sendall((10241).to_bytes(8, "big"))  # only the head: closed before any body
        check(bad.recv(1) == b"", "a frame over 10240 bytes did not close the connection")
    exchange(port, None)


def body(binary: str, source: str) -> None:
    config = os.path.join(source, "examples", "main.ini")
    plain = Avant(binary, config)
    try:
        check(plain.match.group(1) == "tcp", f"banner {plain.banner!r}")
        exchange(plain.port, None)
        oversized(plain.port)
        check(any("closing (a frame of 10241 bytes is over the limit of 10240)" in line
                  for line in plain.stderr), "the refusal was not logged")
    finally:
        code = plain.stop()
    check(code == 0, f"exit status {code} after SIGTERM")

    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run([os.path.join(source, "scripts", "example-cert.sh"), folder],
                              capture_output=True, text=True, timeout=DEADLINE)
        check(done.returncode == 0, f"example-cert.sh: {done.stderr}")
        cert = os.path.join(folder, "example-cert.pem")
        secure = Avant(binary, config, "server.use_ssl=1", f"server.crt.pem={cert}",
                       f"server.key.pem={os.path.join(folder, 'example-key.pem')}")
        try:
            check(secure.match.group(1) == "tls", f"banner {secure.banner!r}")
            exchange(secure.port, ssl.create_default_context(cafile=cert))
        finally:
            code = secure.stop()
        check(code == 0, f"exit status {code} after SIGTERM (tls)")
    listeners(binary, config)
    print("ok: STREAM_TASK's echo example byte for byte over TCP and TLS, the limit, SIGTERM, "
          "and on make run's listeners (TCP, TLS, WebSocket)")


SITE = re.compile(r"avant: serving .* on (http)://127\.0\.0\.1:(\d+)/")


def listeners(binary: str, config: str) -> None:
    import asyncio
    import websockets  # python3-websockets (Debian's, asyncio only)

    async def ws_exchange(port: int) -> bytes:
        async with websockets.connect(f"ws://127.0.0.1:{port}/", open_timeout=DEADLINE,
                                      close_timeout=DEADLINE) as ws:
            await ws.send(REQUEST[8:])  # the package, without the stream's length
            return await asyncio.wait_for(ws.recv(), DEADLINE)

    avant = avant_process.Avant(binary, config, SITE)
    try:
        exchange(avant.listener_port("proto"), None)
        cert = next(s.split("=", 1)[1] for s in avant_process.example_certificate()
                    if s.startswith("server.crt.pem="))
        exchange(avant.listener_port("proto-tls"), ssl.create_default_context(cafile=cert))
        got = asyncio.run(ws_exchange(avant.listener_port("proto-ws")))
        check(got == ANSWER[8:], f"WebSocket answer {got!r}")
        oversized(avant.listener_port("proto"))
    finally:
        code = avant.stop()
    check(code == 0, f"exit status {code} after SIGTERM (listeners)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2]))
