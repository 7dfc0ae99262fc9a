"""avant-ws-echo against a real WebSocket client: Debian's python3-websockets, over ws and wss.

    /usr/bin/python3 ws_peers.py <avant-ws-echo binary>

Three servers run on ephemeral ports of 127.0.0.1 with two worker loops: plain, plain with
permessage-deflate, and TLS (a CA and a server certificate made here with the `openssl` command).
Checked on each: text and binary echo, a message sent in fragments, 1 MiB messages, a ping
answered, the close handshake with the client's code, 50 concurrent clients each echoing 20
messages; on the deflate server that the extension was agreed and large messages still echo
byte for byte; a plain GET answered 426; SIGTERM sends 1001 to a connected client and the
server exits 0. Every wait has a deadline.
"""
import asyncio
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import server_log  # noqa: E402  (tests/support)

DEADLINE = 10.0
BANNER = re.compile(r"avant-ws-echo: listening on (wss?)://127\.0\.0\.1:(\d+) ")


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def run(*argv: str, cwd: str) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=DEADLINE)
    check(done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}")


def make_pki(folder: str) -> None:
    """ca.pem; server.pem = the server's certificate then the CA's; server.key."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=Avant Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    run("openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost", cwd=folder)
    with open(os.path.join(folder, "ext.cnf"), "w") as ext:
        ext.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "ext.cnf", cwd=folder)
    with open(os.path.join(folder, "server.pem"), "w") as chain:
        for part in ("server.crt", "ca.pem"):
            with open(os.path.join(folder, part)) as f:
                chain.write(f.read())


class Server:
    def __init__(self, binary: str, *args: str):
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--workers", "2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.banner = None
        self.stderr = []
        ready = threading.Event()

        def out() -> None:
            self.banner = self.process.stdout.readline()
            ready.set()
            self.process.stdout.read()

        def err() -> None:
            for line in self.process.stderr:
                self.stderr.append(line)

        threading.Thread(target=out, daemon=True).start()
        threading.Thread(target=err, daemon=True).start()
        server_log.watch(f"avant-ws-echo {' '.join(args)}", lambda: "".join(self.stderr))
        check(ready.wait(DEADLINE), "no banner from the server")
        match = BANNER.match(self.banner or "")
        check(match is not None, f"unexpected banner {self.banner!r}")
        self.url = f"{match.group(1)}://127.0.0.1:{match.group(2)}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("the server did not stop within the deadline after SIGTERM")
        check(code == 0, f"exit status {code} after SIGTERM")


async def within(awaitable):
    return await asyncio.wait_for(awaitable, DEADLINE)


async def echo_checks(url: str, tls, compression) -> None:
    async with websockets.connect(url + "/chat", ssl=tls, compression=compression,
                                  max_size=4 << 20, open_timeout=DEADLINE) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions")
        if compression is None:
            check(extensions is None, f"no extension offered, but {extensions!r} answered")
        await ws.send("hello")
        check(await within(ws.recv()) == "hello", "text echo")
        data = bytes(range(256)) * 4
        await ws.send(data)
        check(await within(ws.recv()) == data, "binary echo")
        await ws.send(["frag", "ment", "ed"])
        check(await within(ws.recv()) == "fragmented", "a fragmented message echoes whole")
        big = "é" * (512 << 10)  # 1 MiB of UTF-8
        await ws.send(big)
        check(await within(ws.recv()) == big, "a 1 MiB message")
        pong = await ws.ping(b"are you there")
        await within(pong)
        await ws.close(4001, "done")
        check(ws.close_code == 4001, f"the close handshake echoed {ws.close_code}, not 4001")


async def one_of_many(url: str, tls, index: int) -> None:
    async with websockets.connect(url + "/", ssl=tls, compression=None,
                                  open_timeout=DEADLINE) as ws:
        for n in range(20):
            message = f"client {index} message {n}"
            await ws.send(message)
            check(await within(ws.recv()) == message, f"client {index}: echo {n}")


async def many(url: str, tls) -> None:
    await within(asyncio.gather(*(one_of_many(url, tls, i) for i in range(50))))


async def deflate_checks(url: str) -> None:
    async with websockets.connect(url + "/", compression="deflate", max_size=4 << 20,
                                  open_timeout=DEADLINE) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions") or ""
        check(extensions.startswith("permessage-deflate"),
              f"permessage-deflate was not agreed: {extensions!r}")
        for size in (10, 100, 10_000, 1 << 20):
            text = ("the quick brown fox " * (size // 20 + 1))[:size]
            await ws.send(text)
            check(await within(ws.recv()) == text, f"a compressed echo of {size} bytes")


async def going_away(url: str, server: Server) -> None:
    async with websockets.connect(url + "/", compression=None, open_timeout=DEADLINE) as ws:
        await ws.send("before the stop")
        check(await within(ws.recv()) == "before the stop", "echo before the stop")
        server.process.send_signal(signal.SIGTERM)
        try:
            await within(ws.recv())
            fail("a message came instead of the close")
        except websockets.ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1001,
                  f"the stop closed with {closed.rcvd}, not 1001")


def plain_get(url: str) -> None:
    try:
        urllib.request.urlopen(url.replace("ws://", "http://") + "/", timeout=DEADLINE)
        fail("a plain GET was answered 2xx")
    except urllib.error.HTTPError as e:
        check(e.code == 426, f"a plain GET got {e.code}, not 426")
        check(e.headers.get("Upgrade") == "websocket", "the 426 names websocket")


def body(binary: str) -> None:
    plain = Server(binary)
    asyncio.run(echo_checks(plain.url, None, None))
    asyncio.run(many(plain.url, None))
    plain_get(plain.url)
    asyncio.run(going_away(plain.url, plain))
    try:
        code = plain.process.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        plain.process.kill()
        fail("the server did not exit after SIGTERM")
    check(code == 0, f"exit status {code} after SIGTERM")

    deflate = Server(binary, "--compress")
    asyncio.run(deflate_checks(deflate.url))
    asyncio.run(echo_checks(deflate.url, None, "deflate"))
    deflate.stop()

    with tempfile.TemporaryDirectory() as folder:
        make_pki(folder)
        tls = Server(binary, "--tls-cert", os.path.join(folder, "server.pem"),
                     "--tls-key", os.path.join(folder, "server.key"))
        check(tls.url.startswith("wss://"), f"a TLS server says {tls.url}")
        context = ssl.create_default_context(cafile=os.path.join(folder, "ca.pem"))
        asyncio.run(echo_checks(tls.url, context, None))
        asyncio.run(many(tls.url, context))
        tls.stop()
    print("ok: python3-websockets over ws, ws with permessage-deflate and wss")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1]))
