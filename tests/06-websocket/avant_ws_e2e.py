"""The assembled server's WebSocket end to end, with Debian's python3-websockets.

    /usr/bin/python3 avant_ws_e2e.py <avant binary> <source folder>

Checked: `avant -c examples/main.ini` (HTTP_TASK, port moved to an ephemeral one with --set)
serves its pages and WebSocket on [websocket] path, with permessage-deflate as configured, 426 for
a plain GET of that path, and no WebSocket elsewhere; with task_type = WEBSOCKET_TASK every path
is WebSocket, a binary message is a ProtoPackage dispatched (since chapter 07: the original's echo
example is answered with its CS_RES_EXAMPLE package) and text is echoed, the static folder is not
needed, and with use_ssl = 1 it is wss (a certificate made by
scripts/example-cert.sh); SIGTERM sends 1001 to a connected client and avant exits 0; bad
[websocket] values stop start-up with file:line and status 2.
"""
import asyncio
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import server_log  # noqa: E402  (tests/support)
from avant_process import Avant  # noqa: E402  (tests/support)

DEADLINE = 15.0
SITE = re.compile(r"avant: serving (.+) on http://127\.0\.0\.1:(\d+)/")
WS_ONLY = re.compile(r"avant: serving WebSocket \(ProtoPackages: the echo example\) on "
                     r"(wss?)://127\.0\.0\.1:(\d+)/")
# The original's echo request without its length prefix: one serialized ProtoPackage
# (docs/original-avant.md), as a WebSocket client sends it.
PACKAGE = bytes([0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8
# Its answer (command 1, the same testContext), as avant's WEBSOCKET_TASK sends it since chapter 07.
ANSWER = bytes([0x08, 0x01, 0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


async def within(awaitable):
    return await asyncio.wait_for(awaitable, DEADLINE)


async def site_checks(port: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", compression="deflate",
                                  open_timeout=DEADLINE) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions") or ""
        check(extensions.startswith("permessage-deflate"),
              f"examples/main.ini enables compression, but {extensions!r} was answered")
        for message in ("hello", "x" * 5000, PACKAGE):
            await ws.send(message)
            check(await within(ws.recv()) == message, f"echo of {message[:20]!r}")
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/index.html",
                                      open_timeout=DEADLINE):
            fail("a page of the site accepted a WebSocket upgrade")
    except websockets.InvalidStatusCode as refused:
        check(refused.status_code != 101, f"/index.html answered {refused.status_code}")


async def echo_everywhere(url: str, tls) -> None:
    for path in ("/", "/any/path"):
        async with websockets.connect(url + path, ssl=tls, open_timeout=DEADLINE) as ws:
            await ws.send(PACKAGE)
            check(await within(ws.recv()) == ANSWER, f"{path}: the package answered byte for byte")
            await ws.send("text stays text")
            check(await within(ws.recv()) == "text stays text", f"{path}: text echo")


async def going_away(url: str, avant: Avant) -> None:
    async with websockets.connect(url + "/", open_timeout=DEADLINE) as ws:
        await ws.send("before")
        check(await within(ws.recv()) == "before", "echo before the stop")
        avant.process.send_signal(signal.SIGTERM)
        try:
            await within(ws.recv())
            fail("a message came instead of the close")
        except websockets.ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1001,
                  f"the stop closed with {closed.rcvd}, not 1001")


def test_site(binary: str, source: str) -> None:
    avant = Avant(binary, os.path.join(source, "examples", "main.ini"), SITE)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{avant.port}/", timeout=DEADLINE) as r:
            check(r.status == 200, f"the site's page: {r.status}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{avant.port}/ws", timeout=DEADLINE)
            fail("a plain GET of /ws was answered 2xx")
        except urllib.error.HTTPError as e:
            check(e.code == 426, f"a plain GET of /ws: {e.code}, not 426")
        asyncio.run(site_checks(avant.port))
    finally:
        code = avant.stop()
    check(code == 0, f"exit status {code} after SIGTERM")


def test_websocket_task(binary: str, source: str, folder: str) -> None:
    config = os.path.join(source, "examples", "main.ini")
    plain = Avant(binary, config, WS_ONLY, "server.task_type=WEBSOCKET_TASK",
                  "server.http_static_dir=no-such-folder")
    url = f"ws://127.0.0.1:{plain.port}"
    asyncio.run(echo_everywhere(url, None))
    asyncio.run(going_away(url, plain))
    try:
        code = plain.process.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        plain.process.kill()
        fail("avant did not exit after SIGTERM")
    check(code == 0, f"exit status {code} after SIGTERM")

    tls = os.path.join(folder, "tls")
    done = subprocess.run([os.path.join(source, "scripts", "example-cert.sh"), tls],
                          capture_output=True, text=True, timeout=DEADLINE)
    check(done.returncode == 0, f"example-cert.sh: {done.stderr}")
    cert = os.path.join(tls, "example-cert.pem")
    secure = Avant(binary, config, WS_ONLY, "server.task_type=WEBSOCKET_TASK",
                   "server.use_ssl=1", f"server.crt.pem={cert}",
                   f"server.key.pem={os.path.join(tls, 'example-key.pem')}")
    try:
        check(secure.match.group(1) == "wss", f"banner {secure.banner!r}")
        context = ssl.create_default_context(cafile=cert)
        asyncio.run(echo_everywhere(f"wss://localhost:{secure.port}", context))
    finally:
        code = secure.stop()
    check(code == 0, f"exit status {code} after SIGTERM (wss)")


def test_bad_configs(binary: str, folder: str) -> None:
    cases = [
        ("[server]\nport = 0\n[websocket]\nslow_consumer = maybe\n",
         "bad.ini:4: websocket.slow_consumer"),
        ("[server]\nport = 0\n[websocket]\npath = ws\n", "bad.ini:4: websocket.path"),
        ("[websocket]\nmax_message_bytes = 0\n", "bad.ini:2: websocket.max_message_bytes"),
        ("[websocket]\norigins = example.org\n", "bad.ini:2: websocket.origins"),
    ]
    for text, expected in cases:
        path = os.path.join(folder, "bad.ini")
        with open(path, "w") as f:
            f.write(text)
        done = subprocess.run([binary, "-c", path], capture_output=True, text=True,
                              timeout=DEADLINE)
        check(done.returncode == 2, f"{text!r}: exit {done.returncode}, stderr {done.stderr!r}")
        check(expected in done.stderr, f"{text!r}: stderr {done.stderr!r} lacks {expected!r}")


def body(binary: str, source: str) -> None:
    test_site(binary, source)
    with tempfile.TemporaryDirectory() as folder:
        test_websocket_task(binary, source, folder)
        test_bad_configs(binary, folder)
    print("ok: the site's /ws, WEBSOCKET_TASK over ws and wss, 1001 on SIGTERM, bad configs")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2]))
