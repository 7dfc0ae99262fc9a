"""avant-http-echo against real HTTP clients: curl, python3's http.client, and raw sockets.

    /usr/bin/python3 http_peers.py <avant-http-echo binary>

The server runs with two worker loops on an ephemeral port of 127.0.0.1, a 1000-byte body limit
and a 600 ms header timeout. Checked: curl reuses one connection for several URLs (its -v says
so), speaks HTTP/1.0, uploads chunked; http.client keeps one connection for many requests, posts,
and HEADs; 100 requests pipelined in one write come back in order; a client sending one byte
every 100 ms gets 408 before its head is complete; a body over the limit gets 413 and the
connection closes; SIGTERM ends the server with status 0. Every wait has a deadline.
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import server_log  # noqa: E402  (tests/support)

DEADLINE = 10.0
BANNER = re.compile(r"avant-http-echo: listening on http://127\.0\.0\.1:(\d+) ")


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


class Server:
    def __init__(self, binary: str):
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--workers", "2", "--max-body", "1000",
             "--header-timeout", "600"],
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
        server_log.watch(binary, lambda: "".join(self.stderr))
        check(ready.wait(DEADLINE), "no banner from the server")
        match = BANNER.match(self.banner or "")
        check(match is not None, f"unexpected banner {self.banner!r}")
        self.port = int(match.group(1))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("the server did not stop within the deadline after SIGTERM")
        check(code == 0, f"exit status {code} after SIGTERM")


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(DEADLINE), *args],
                          capture_output=True, timeout=DEADLINE + 5)


def test_curl(base: str) -> None:
    done = curl("-v", "--data-binary", "one", f"{base}/a", "--next", "-v", "--data-binary", "two",
                f"{base}/b")
    check(done.returncode == 0, f"curl: {done.stderr!r}")
    check(done.stdout == b"onetwo", f"curl bodies {done.stdout!r}")
    check(b"Re-using existing connection" in done.stderr,
          "curl did not reuse its connection (keep-alive):\n" + done.stderr.decode())
    old = curl("--http1.0", "-i", "--data-binary", "x", f"{base}/old")
    check(old.returncode == 0 and old.stdout.startswith(b"HTTP/1.1 200"), f"--http1.0: {old!r}")
    check(b"\r\nConnection: close\r\n" in old.stdout, "an HTTP/1.0 answer without Connection: close")
    with tempfile.NamedTemporaryFile() as f:
        payload = os.urandom(900)
        f.write(payload)
        f.flush()
        up = curl("-H", "Transfer-Encoding: chunked", "--data-binary", f"@{f.name}", f"{base}/up")
        check(up.returncode == 0 and up.stdout == payload, "a chunked upload did not echo back")
    big = curl("-i", "--data-binary", "x" * 5000, f"{base}/big")
    check(big.stdout.startswith(b"HTTP/1.1 413"), f"a 5000-byte body: {big.stdout[:40]!r}")


def test_http_client(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    conn.connect()
    first_socket = conn.sock
    for i in range(20):
        body = f"request {i}".encode()
        conn.request("POST", f"/n/{i}?q={i}", body=body, headers={"Content-Type": "text/plain"})
        r = conn.getresponse()
        data = r.read()
        check(r.status == 200 and data == body, f"request {i}: {r.status} {data!r}")
        check(r.getheader("Content-Type") == "text/plain", "Content-Type not echoed")
        check(r.getheader("X-Request-Target") == f"/n/{i}?q={i}", "target not echoed")
        check(r.getheader("Server") == "avant", "no Server: avant")
    check(conn.sock is first_socket, "http.client had to reconnect: no keep-alive")
    conn.request("HEAD", "/head")
    r = conn.getresponse()
    check(r.status == 200 and r.read() == b"", "HEAD")
    conn.request("GET", "/after-head")
    r = conn.getresponse()
    check(r.status == 200 and r.read() == b"", "a GET after HEAD on the same connection")
    conn.close()


def read_responses(sock: socket.socket, count: int) -> list:
    """Reads `count` Content-Length responses; returns their bodies."""
    data = b""
    bodies = []
    sock.settimeout(DEADLINE)
    while len(bodies) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode("latin-1")
            m = re.search(r"\r\ncontent-length: (\d+)", head, re.IGNORECASE)
            check(m is not None, f"no Content-Length in {head!r}")
            length = int(m.group(1))
            if len(data) >= end + 4 + length:
                bodies.append(data[end + 4:end + 4 + length])
                data = data[end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        check(chunk != b"", f"closed after {len(bodies)} responses")
        data += chunk
    return bodies


def test_pipelining(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        requests = b"".join(
            f"POST /p/{i} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(str(i))}\r\n\r\n{i}".encode()
            for i in range(100))
        s.sendall(requests)  # one write
        bodies = read_responses(s, 100)
        check(bodies == [str(i).encode() for i in range(100)], "pipelined answers out of order")


def test_slow_client(port: int) -> None:
    head = b"GET /slow HTTP/1.1\r\nHost: t\r\nX-Slowly: " + b"." * 40 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        answer = b""
        sent = 0
        # A client that sends one byte every 100 ms: a slowloris. Its head takes ~7 s; the
        # server's header timeout is 600 ms.
        s.settimeout(0.1)
        start = time.monotonic()
        while time.monotonic() - start < DEADLINE:
            if sent < len(head):
                try:
                    s.send(head[sent:sent + 1])
                    sent += 1
                except OSError:
                    break
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                break
            answer += chunk
        check(answer.startswith(b"HTTP/1.1 408 "), f"slow client got {answer[:60]!r}")
        check(sent < len(head), "the 408 came only after the whole head")


def test_body_over_limit(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + b"y" * 5000)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        check(data.startswith(b"HTTP/1.1 413 "), f"over the limit: {data[:60]!r}")


def main() -> None:
    server_log.main(run_checks)


def run_checks() -> None:
    server = Server(sys.argv[1])
    try:
        base = f"http://127.0.0.1:{server.port}"
        test_curl(base)
        test_http_client(server.port)
        test_pipelining(server.port)
        test_slow_client(server.port)
        test_body_over_limit(server.port)
    finally:
        if server.process.poll() is None:
            server.stop()
    logged = "".join(server.stderr)
    check("408 Request Timeout" in logged, "the slow client's 408 was not logged:\n" + logged)
    check("413 Content Too Large" in logged, "the 413 was not logged:\n" + logged)
    print("ok: curl, http.client, 100 pipelined, slowloris 408, 413, SIGTERM exit 0")


if __name__ == "__main__":
    main()
