"""The assembled server end to end: `avant -c examples/main.ini` serving the example site.

    /usr/bin/python3 avant_e2e.py <avant binary> <source folder>

Checked: the example site as configured (port moved to an ephemeral one with --set) with curl
and http.client — pages, types, 404, a range, a conditional GET; HTTPS with use_ssl = 1 and a
certificate made by scripts/example-cert.sh, verified by curl --cacert and python's ssl; bad
configurations stop start-up with file:line and status 2; SIGTERM during a slow download of a
32 MiB file: new clients are refused, the download completes, the exit status is 0.
"""
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 15.0
BANNER = re.compile(r"avant: serving (.+) on (https?)://127\.0\.0\.1:(\d+)/")


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def Avant(binary: str, config: str, *sets: str) -> avant_process.Avant:  # noqa: N802
    return avant_process.Avant(binary, config, BANNER, *sets, port_group=3)


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(DEADLINE), *args],
                          capture_output=True, timeout=DEADLINE + 5)


def test_example_site(binary: str, source: str) -> None:
    config = os.path.join(source, "examples", "main.ini")
    www = os.path.join(source, "examples", "www")
    avant = Avant(binary, config)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", avant.port, timeout=DEADLINE)
        for path, file, ctype in [("/", "index.html", "text/html; charset=utf-8"),
                                  ("/about.html", "about.html", "text/html; charset=utf-8"),
                                  ("/css/site.css", "css/site.css", "text/css; charset=utf-8"),
                                  ("/img/avant.svg", "img/avant.svg", "image/svg+xml")]:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            with open(os.path.join(www, file), "rb") as f:
                check(r.status == 200 and body == f.read(), f"GET {path}: {r.status}")
            check(r.getheader("Content-Type") == ctype, f"{path}: {r.getheader('Content-Type')}")
        conn.request("GET", "/missing.html")
        r = conn.getresponse()
        r.read()
        check(r.status == 404, f"a missing page: {r.status}")
        conn.close()

        # One pool of worker_cnt loops serves both listeners (HTTP and HTTPS): the threads are
        # main + worker_cnt + other (UDP, chapter 08), never a pool per listener.
        task_dir = f"/proc/{avant.process.pid}/task"
        names = sorted(open(os.path.join(task_dir, t, "comm")).read().strip()
                       for t in os.listdir(task_dir))
        extra = int(os.environ.get("AVANT_SANITIZER_THREADS", "0"))  # TSan's own thread
        workers = [n for n in names if n.startswith("worker-")]
        check(workers == ["worker-0", "worker-1"] and "other" in names and
              len(names) == 4 + extra,
              f"threads of avant with worker_cnt = 2 and two listeners: {names}")

        base = f"http://127.0.0.1:{avant.port}"
        ranged = curl("-i", "-r", "0-14", f"{base}/index.html")
        check(ranged.stdout.startswith(b"HTTP/1.1 206"), f"a range: {ranged.stdout[:40]!r}")
        check(ranged.stdout.endswith(b"<!DOCTYPE html>"), "the range's bytes")
        head = curl("-sI", f"{base}/css/site.css").stdout.decode()
        etag = re.search(r"(?im)^etag: (.+?)\r$", head)
        check(etag is not None, f"no ETag in {head!r}")
        again = curl("-i", "-H", f"If-None-Match: {etag.group(1)}", f"{base}/css/site.css")
        check(again.stdout.startswith(b"HTTP/1.1 304"), f"a conditional GET: {again.stdout[:40]!r}")
    finally:
        code = avant.stop()
    check(code == 0, f"exit status {code} after SIGTERM")


def test_https(binary: str, source: str, folder: str) -> None:
    tls = os.path.join(folder, "tls")
    done = subprocess.run([os.path.join(source, "scripts", "example-cert.sh"), tls],
                          capture_output=True, text=True, timeout=DEADLINE)
    check(done.returncode == 0, f"example-cert.sh: {done.stderr}")
    cert = os.path.join(tls, "example-cert.pem")
    config = os.path.join(source, "examples", "main.ini")
    avant = Avant(binary, config, "server.use_ssl=1", f"server.crt.pem={cert}",
                  f"server.key.pem={os.path.join(tls, 'example-key.pem')}")
    try:
        check(avant.banner.split("://")[0].endswith("https"), f"banner {avant.banner!r}")
        got = curl("--cacert", cert, "--resolve", f"localhost:{avant.port}:127.0.0.1",
                   f"https://localhost:{avant.port}/about.html")
        check(got.returncode == 0 and b"<title>About Avant</title>" in got.stdout,
              f"curl over HTTPS: {got.stderr!r}")
        context = ssl.create_default_context(cafile=cert)
        conn = http.client.HTTPSConnection("localhost", avant.port, timeout=DEADLINE,
                                           context=context)
        conn.request("GET", "/")
        r = conn.getresponse()
        check(r.status == 200 and b"Avant" in r.read(), "python https GET /")
        check(conn.sock.version() in ("TLSv1.3", "TLSv1.2"), conn.sock.version())
        conn.close()
    finally:
        code = avant.stop()
    check(code == 0, f"exit status {code} after SIGTERM (https)")


def test_bad_configs(binary: str, folder: str) -> None:
    cases = [
        ("[server]\nip = 127.0.0.1\nport = 70000\n", "bad.ini:3: server.port"),
        ("[server]\nport = 0\nhttp_static_dir = .\nmystery = 1\n", "bad.ini:4: unknown key"),
        ("[server]\nport = 0\ntask_type = UDP_TASK\n", "bad.ini:3: server.task_type"),
        ("[server]\nport = 0\nhttp_static_dir = no-such-folder\n", "server.http_static_dir"),
        ("[server]\nport = 0\nhttp_static_dir = .\nuse_ssl = 1\ncrt.pem = none.pem\n", "none.pem"),
    ]
    for text, expected in cases:
        path = os.path.join(folder, "bad.ini")
        with open(path, "w") as f:
            f.write(text)
        done = subprocess.run([binary, "-c", path], capture_output=True, text=True,
                              timeout=DEADLINE)
        check(done.returncode == 2, f"{text!r}: exit {done.returncode}, stderr {done.stderr!r}")
        check(expected in done.stderr, f"{text!r}: stderr {done.stderr!r} lacks {expected!r}")


def test_sigterm_during_download(binary: str, source: str, folder: str) -> None:
    www = os.path.join(folder, "www")
    os.makedirs(www, exist_ok=True)
    big = os.urandom(1 << 20) * 32  # 32 MiB: far more than the socket buffers hold
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(big)
    config = os.path.join(source, "examples", "main.ini")
    avant = Avant(binary, config, f"server.http_static_dir={www}", "http.drain_timeout_ms=60000")
    with socket.create_connection(("127.0.0.1", avant.port), timeout=DEADLINE) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        data = bytearray()
        while len(data) < (1 << 20):  # the first MiB, then stop reading for a while
            chunk = s.recv(65536)
            check(chunk != b"", "closed early")
            data += chunk
        avant.process.send_signal(signal.SIGTERM)
        # New clients are refused once the listener is closed.
        refused = False
        until = time.monotonic() + DEADLINE
        while time.monotonic() < until and not refused:
            try:
                socket.create_connection(("127.0.0.1", avant.port), timeout=1).close()
            except OSError:
                refused = True
        check(refused, "a new client could still connect after SIGTERM")
        check(avant.process.poll() is None, "avant exited before the download finished")
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    end = data.find(b"\r\n\r\n")
    head, body = bytes(data[:end]).decode(), bytes(data[end + 4:])
    check("Content-Length: 33554432" in head, f"head {head!r}")
    check(len(body) == len(big) and hashlib.sha256(body).digest() == hashlib.sha256(big).digest(),
          f"the download did not complete: {len(body)} of {len(big)} bytes")
    try:
        code = avant.process.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        avant.process.kill()
        fail("avant did not exit after the download")
    check(code == 0, f"exit status {code}")


def main() -> None:
    server_log.main(run_checks)


def run_checks() -> None:
    binary, source = sys.argv[1], sys.argv[2]
    folder = tempfile.mkdtemp(prefix="avant-e2e-")
    try:
        test_example_site(binary, source)
        test_https(binary, source, folder)
        test_bad_configs(binary, folder)
        test_sigterm_during_download(binary, source, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("ok: example site, HTTPS, bad configs exit 2 with file:line, SIGTERM mid-download")


if __name__ == "__main__":
    main()
