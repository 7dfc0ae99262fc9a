"""End-to-end test of the HTTP benchmark ceiling, avant-ceiling-http, with python3's http.client,
raw sockets and one second of wrk:

    /usr/bin/python3 http_ceiling_test.py <path/to/avant-ceiling-http>
    avant-ceiling-http: listening on 127.0.0.1:PORT (mode http, 1 thread)

http.client: GET (status, body, Server), 100 requests reusing one connection, HEAD (Content-Length,
no body), a 1000-byte POST followed by another request. Raw sockets: pipelined requests answered
in order in one sendall (3 GETs; GET, HEAD, GET; 2000 GETs), heads and bodies split across sends,
Connection: close, HTTP/1.0 with and without keep-alive, 400 for malformed heads and lengths, 431
for oversized heads, 501 for Transfer-Encoding, a clean close (no reset) when input follows a
closing request. --body 100000 (128 pipelined: more than the server queues before it pauses),
--threads 2, exit 0 on SIGTERM/SIGINT. Every wait has a deadline; nothing sleeps.
"""
import http.client
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

DEADLINE = 10.0
BANNER = re.compile(r"avant-ceiling-http: listening on 127\.0\.0\.1:(\d+) "
                    r"\(mode http, (\d+) threads?\)\n")
HELLO = b"Hello, World!"
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
HEAD = b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
GET_CLOSE = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


class Failure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


class Server:
    """The binary on an ephemeral port; stop() checks it exits 0, close() kills it regardless."""

    def __init__(self, binary: str, *args: str) -> None:
        self.args = " ".join(args) or "defaults"
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], DEADLINE)
        check(bool(ready), f"[{self.args}] no banner within {DEADLINE}s")
        banner = self.proc.stdout.readline()
        match = BANNER.fullmatch(banner)
        check(match is not None, f"[{self.args}] unexpected banner {banner!r}")
        self.port = int(match.group(1))
        self.threads = int(match.group(2))

    def connect(self, rcvbuf: int = 0) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect(), so the window is small from the handshake on
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", self.port))
        return sock

    def client(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            raise Failure(f"[{self.args}] did not exit within {DEADLINE}s of signal {sig}")
        self.stderr.seek(0)
        check(code == 0, f"[{self.args}] exited with {code} on signal {sig}, stderr: "
              f"{self.stderr.read()!r}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()


class Reader:
    """Reads HTTP/1.1 responses off a raw socket, keeping whatever follows one for the next."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _more(self, what: str) -> None:
        chunk = self.sock.recv(1 << 16)
        check(chunk != b"", f"connection closed while waiting for {what}")
        self.buf += chunk

    def response(self, head: bool = False) -> tuple:
        """(status, headers with lower-case names, body); a HEAD response has no body."""
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._more("a response head")
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[:end + 4]
        match = re.fullmatch(r"HTTP/1\.1 (\d{3}) [\w ]+", lines[0])
        check(match is not None, f"bad status line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            check(colon == ":", f"bad header line {line!r}")
            headers[name.lower()] = value.strip()
        check(headers.get("content-length", "").isdigit(), f"no Content-Length in {lines!r}")
        size = 0 if head else int(headers["content-length"])
        while len(self.buf) < size:
            self._more("a response body")
        body = bytes(self.buf[:size])
        del self.buf[:size]
        return int(match.group(1)), headers, body

    def closed(self) -> bool:
        """Whether the server closes cleanly (FIN, not RST) with nothing more to read."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1 << 16) == b""
        except socket.timeout:
            return False


def ok_response(response: tuple, what: str, body: bytes = HELLO, connection: str = None) -> None:
    status, headers, got = response
    check(status == 200 and got == body, f"{what}: got {status} with {len(got)} bytes of body "
          f"(want 200 with {len(body)})")
    check(headers.get("server") == "avant-ceiling", f"{what}: Server header {headers!r}")
    check(headers.get("connection") == connection,
          f"{what}: Connection header {headers.get('connection')!r}, want {connection!r}")


def nothing_arrives(sock: socket.socket, what: str) -> None:
    """A partial request must not be answered: nothing may arrive within 0.2 s."""
    sock.settimeout(0.2)
    try:
        early = sock.recv(1 << 16)
        raise Failure(f"{what}: answered before the request was complete ({early[:60]!r})")
    except socket.timeout:
        pass
    finally:
        sock.settimeout(DEADLINE)


def send_in_background(sock: socket.socket, data: bytes):
    """Sends while the caller reads (the server answers as it reads). Returns a join function."""
    errors = []

    def run() -> None:
        try:
            sock.sendall(data)
        except Exception as e:  # reported by join()
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> None:
        thread.join(DEADLINE)
        check(not thread.is_alive(), f"sender still blocked after {DEADLINE}s")
        if errors:
            raise Failure(f"sender: {errors[0]!r}")

    return join


def expect_close(server: Server, request: bytes, status: int, what: str) -> None:
    """request gets `status` with Connection: close, then a clean close."""
    with server.connect() as sock:
        join = send_in_background(sock, request)
        reader = Reader(sock)
        got, headers, _ = reader.response()
        check(got == status, f"{what}: got {got}, want {status}")
        check(headers.get("connection") == "close", f"{what}: no Connection: close in {headers}")
        check(reader.closed(), f"{what}: not closed cleanly within {DEADLINE}s")
        join()


def check_http_client(server: Server) -> None:
    conn = server.client()
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        ok_response((response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read()), "http.client GET")
        check(response.getheader("Content-Type") == "text/plain", "GET: Content-Type")
        sock = conn.sock
        check(sock is not None, "GET: http.client closed a keep-alive connection")
        port = sock.getsockname()[1]
        for i in range(100):
            conn.request("GET", f"/keep-alive/{i}")
            response = conn.getresponse()
            check(response.status == 200 and response.read() == HELLO, f"keep-alive GET {i}")
            check(conn.sock is sock and sock.getsockname()[1] == port,
                  f"keep-alive GET {i}: the connection was not reused")
        conn.request("HEAD", "/")
        response = conn.getresponse()
        check(response.status == 200 and response.read() == b"", "HEAD: status or body")
        check(response.getheader("Content-Length") == str(len(HELLO)), "HEAD: Content-Length")
        conn.request("POST", "/upload", body=b"p" * 1000)  # http.client adds Content-Length
        response = conn.getresponse()
        check(response.status == 200 and response.read() == HELLO, "POST of 1000 bytes")
        conn.request("GET", "/after-post")  # a body sent by HEAD or read as a request breaks this
        response = conn.getresponse()
        check(response.status == 200 and response.read() == HELLO, "GET after HEAD and POST")
        check(conn.sock is sock, "HEAD, POST, GET: the connection was not reused")
    finally:
        conn.close()


def check_raw(server: Server) -> None:
    with server.connect() as sock:  # exactly three: the third closes, and nothing follows it
        sock.sendall(GET + GET + GET_CLOSE)
        reader = Reader(sock)
        ok_response(reader.response(), "pipelined GET 1")
        ok_response(reader.response(), "pipelined GET 2")
        ok_response(reader.response(), "pipelined GET 3", connection="close")
        check(reader.closed(), "pipelined GETs: more than 3 responses, or no close")

    with server.connect() as sock:  # in order: the HEAD's response, and only it, has no body
        sock.sendall(GET + HEAD + GET)
        reader = Reader(sock)
        ok_response(reader.response(), "GET before HEAD")
        ok_response(reader.response(head=True), "pipelined HEAD", body=b"")
        ok_response(reader.response(), "GET after HEAD")

        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r")  # split inside the final CRLF CRLF
        nothing_arrives(sock, "head without its last LF")
        sock.sendall(b"\nGET / HT")
        ok_response(reader.response(), "head completed by its last LF")
        nothing_arrives(sock, "head split in the request line")
        sock.sendall(b"TP/1.1\r\n\r\n\r\n" + GET)  # and an empty line, which is ignored
        ok_response(reader.response(), "head split in the request line")
        ok_response(reader.response(), "GET after an empty line")

        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b"b" * 400)
        nothing_arrives(sock, "POST with 400 of its 1000 body bytes")
        sock.sendall(b"b" * 600 + GET)
        ok_response(reader.response(), "POST with its body split")
        ok_response(reader.response(), "GET after a split POST body")

        requests = 2000  # more than one sendmsg's iovec limit (1024) in one read
        join = send_in_background(sock, GET * requests)
        for i in range(requests):
            ok_response(reader.response(), f"pipelined GET {i} of {requests}")
        join()

    expect_close(server, GET_CLOSE, 200, "Connection: close")
    expect_close(server, b"GET / HTTP/1.1\r\nconnection: Foo, CLOSE\r\n\r\n", 200,
                 "connection: Foo, CLOSE")
    expect_close(server, b"GET / HTTP/1.0\r\n\r\n", 200, "HTTP/1.0 without keep-alive")
    # Input after a closing request is discarded, not left to turn the close into a reset.
    expect_close(server, GET_CLOSE + b"x" * 300000, 200, "Connection: close followed by input")

    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2)
        reader = Reader(sock)
        ok_response(reader.response(), "HTTP/1.0 keep-alive 1", connection="keep-alive")
        ok_response(reader.response(), "HTTP/1.0 keep-alive 2", connection="keep-alive")

    for bad in [b"garbage\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n",
                b"GET  / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\nHost: t\r\n\r\n",
                b"GET / HTTP/1.1\r\nno colon\r\n\r\n", b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"]:
        expect_close(server, bad, 400, f"malformed {bad!r}")
    with server.connect() as sock:  # what precedes a malformed request is answered, in order
        sock.sendall(GET + b"garbage\r\n\r\n" + GET)
        reader = Reader(sock)
        ok_response(reader.response(), "GET before garbage")
        status, headers, _ = reader.response()
        check(status == 400 and headers.get("connection") == "close", "garbage after a GET")
        check(reader.closed(), "garbage after a GET: answered what followed it, or no close")
    big = b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000
    expect_close(server, big + b"\r\n\r\n", 431, "a 70000-byte head")
    expect_close(server, big, 431, "70000 bytes of head and no end")
    expect_close(server, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
                 "Transfer-Encoding: chunked")


def check_body(binary: str) -> None:
    body = b"x" * 100000
    server = Server(binary, "--body", "100000")
    try:
        conn = server.client()
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            check(response.status == 200 and response.read() == body, "--body 100000: GET")
            conn.request("HEAD", "/")
            response = conn.getresponse()
            check(response.read() == b"" and response.getheader("Content-Length") == "100000",
                  "--body 100000: HEAD")
        finally:
            conn.close()
        # 128 x 100 kB through a small receive window: the server queues past its 4 MiB pause
        # threshold, stops parsing, and resumes as the client reads.
        with server.connect(rcvbuf=16384) as sock:
            sock.sendall(GET * 128)
            reader = Reader(sock)
            for i in range(128):
                ok_response(reader.response(), f"--body 100000: pipelined GET {i}", body=body)
        server.stop(signal.SIGTERM)
    finally:
        server.close()


def check_threads(binary: str) -> None:
    server = Server(binary, "--threads", "2")
    try:
        check(server.threads == 2, "--threads 2: the banner does not say 2 threads")
        clients = [server.client() for _ in range(8)]
        try:
            for i, conn in enumerate(clients):
                conn.request("GET", f"/{i}")
                response = conn.getresponse()
                check(response.status == 200 and response.read() == HELLO, f"--threads 2: GET {i}")
        finally:
            for conn in clients:
                conn.close()
        server.stop(signal.SIGINT)
    finally:
        server.close()


def check_wrk(server: Server) -> str:
    """One second of wrk: it must parse every response (no errors, no non-2xx)."""
    if shutil.which("wrk") is None:
        return "wrk not installed: skipped"
    try:
        run = subprocess.run(["wrk", "-t1", "-c10", "-d1s", "--latency",
                              f"http://127.0.0.1:{server.port}/"],
                             capture_output=True, text=True, timeout=DEADLINE * 3)
    except subprocess.TimeoutExpired:
        raise Failure(f"wrk did not finish within {DEADLINE * 3}s")
    out = run.stdout + run.stderr
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    check(run.returncode == 0 and rate is not None, f"wrk failed: {out!r}")
    check("Non-2xx" not in out and "Socket errors" not in out, f"wrk saw errors: {out!r}")
    check(float(rate.group(1)) > 0, f"wrk made no requests: {out!r}")
    return f"wrk -c10 parsed {rate.group(1)} req/s"


def main() -> None:
    if len(sys.argv) != 2:
        print("usage: http_ceiling_test.py <avant-ceiling-http>")
        sys.exit(2)
    binary = sys.argv[1]
    try:
        server = Server(binary)
        try:
            check(server.threads == 1, "the banner does not say 1 thread")
            check_http_client(server)
            check_raw(server)
            wrk = check_wrk(server)
            server.stop(signal.SIGTERM)
        finally:
            server.close()
        check_body(binary)
        check_threads(binary)
    except Failure as e:
        print("FAIL:", e)
        sys.exit(1)
    except (OSError, ValueError, http.client.HTTPException) as e:  # timeouts are OSErrors
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print(f"ok: GET, 100 keep-alive requests on one connection, HEAD, POST; pipelined requests in "
          f"order; split heads and bodies; Connection: close and HTTP/1.0 close cleanly; 400, 431, "
          f"501; --body 100000 past the pause threshold; --threads 2; exits 0 on SIGTERM/SIGINT; "
          f"{wrk}")


if __name__ == "__main__":
    main()
