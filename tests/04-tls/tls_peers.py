"""avant-echo over TLS against real peers: python3's ssl module and `openssl s_client`.

    /usr/bin/python3 tls_peers.py <avant-echo binary>

Certificates are made at test time with the `openssl` command (a CA and a server certificate
signed by it, served as a chain), in a temporary folder. The server runs with two worker loops on
an ephemeral port of 127.0.0.1. Checked: TLS 1.3 by default and 1.2 when the client caps it, ALPN
http/1.1, the certificate chain and its verification, echo of every size up to 1 MiB; refusals
(plain text, a TLS 1.0-only client) each cost one log line and nothing else; SIGTERM ends the
server with status 0. Every wait has a deadline.
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import server_log  # noqa: E402  (tests/support)

DEADLINE = 10.0
BANNER = re.compile(r"avant-echo: listening on 127\.0\.0\.1:(\d+) ")


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
    def __init__(self, binary: str, folder: str):
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--workers", "2",
             "--tls-cert", os.path.join(folder, "server.pem"),
             "--tls-key", os.path.join(folder, "server.key")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.changed = threading.Condition()
        self.banner = None
        self.log_lines = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        server_log.watch(binary, self.log)
        with self.changed:
            check(self.changed.wait_for(lambda: self.banner is not None, DEADLINE),
                  "no banner from the server")
        match = BANNER.match(self.banner)
        check(match is not None, f"unexpected banner {self.banner!r}")
        self.port = int(match.group(1))

    def _read_stdout(self) -> None:
        line = self.process.stdout.readline()
        with self.changed:
            self.banner = line
            self.changed.notify_all()
        self.process.stdout.read()  # drain until exit

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            with self.changed:
                self.log_lines.append(line)
                self.changed.notify_all()

    def log(self) -> str:
        with self.changed:
            return "".join(self.log_lines)

    def wait_log(self, predicate) -> bool:
        """Waits until predicate(log text) holds, up to the deadline."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate("".join(self.log_lines)), DEADLINE)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("the server did not exit within the deadline after SIGTERM")
        return -1

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE)


def client_context(folder: str, tls12: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=os.path.join(folder, "ca.pem"))
    context.set_alpn_protocols(["http/1.1"])
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def recv_exactly(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(min(65536, n - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def check_python_ssl(server: Server, folder: str) -> None:
    for tls12, version in ((False, "TLSv1.3"), (True, "TLSv1.2")):
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as raw:
            with client_context(folder, tls12).wrap_socket(raw, server_hostname="localhost") as s:
                check(s.version() == version, f"python ssl: version {s.version()}, not {version}")
                check(s.selected_alpn_protocol() == "http/1.1",
                      f"python ssl: ALPN {s.selected_alpn_protocol()!r}")
                subject = dict(item[0] for item in s.getpeercert()["subject"])
                check(subject.get("commonName") == "localhost", f"python ssl: subject {subject}")
                for size in (1, 1000, 16384, 16385, 1 << 20):
                    data = bytes((i * 131 + size) % 251 for i in range(size))
                    # One thread: an SSL object must not be read and written at once. The server
                    # buffers the echo (well under its 4 MiB high-water mark) while we send.
                    s.sendall(data)
                    got = recv_exactly(s, size)
                    check(got == data, f"python ssl ({version}): the {size}-byte echo differs")


def check_s_client(server: Server, folder: str) -> None:
    # s_client ends when its stdin does: keep stdin open until the echo is back, then close it.
    client = subprocess.Popen(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-servername", "localhost",
         "-CAfile", os.path.join(folder, "ca.pem"), "-alpn", "http/1.1", "-verify_return_error"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    changed = threading.Condition()
    lines = []

    def read() -> None:
        for line in client.stdout:
            with changed:
                lines.append(line)
                changed.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        client.stdin.write("hello from s_client\n")
        client.stdin.flush()
        with changed:
            echoed = changed.wait_for(lambda: "hello from s_client\n" in lines, DEADLINE)
        client.stdin.close()
        client.wait(DEADLINE)
        reader.join(DEADLINE)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(DEADLINE)
    check(echoed, "s_client: no echo")
    out = "".join(lines)
    check("Verify return code: 0 (ok)" in out, f"s_client: verification failed:\n{out}")
    check("ALPN protocol: http/1.1" in out, "s_client: no ALPN http/1.1")
    check("New, TLSv1.3" in out, "s_client: not TLS 1.3")
    check(re.search(r"^ 0 s:CN = localhost$", out, re.M) is not None, "s_client: leaf missing")
    check(re.search(r"^ 1 s:CN = Avant Test CA$", out, re.M) is not None,
          "s_client: the chain does not carry the CA")


def check_refusals(server: Server) -> None:
    before = server.log().count("\n")
    # Plain text to the TLS port.
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        check(recv_exactly(s, 1 << 16).find(b"HTTP") < 0, "plain text: an HTTP answer came back")
    # A client that offers TLS 1.0 only.
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.0 is deprecated: that is the point of the check
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as raw:
        try:
            old.wrap_socket(raw, server_hostname="localhost").close()
            fail("a TLS 1.0-only client completed a handshake")
        except (ssl.SSLError, ConnectionResetError):
            pass
    # Each refusal is one line in the server's log, naming the reason; wait for both.
    server.wait_log(lambda text: "http request" in text and "unsupported protocol" in text)
    log = server.log()
    check("http request" in log, f"no log line for the plain-text client:\n{log}")
    check("unsupported protocol" in log, f"no log line for the TLS 1.0 client:\n{log}")
    check(log.count("\n") - before == 2, f"not one line per refusal:\n{log}")


def main() -> None:
    if len(sys.argv) != 2:
        print("usage: tls_peers.py <avant-echo binary>")
        sys.exit(2)
    server_log.main(run_checks)


def run_checks() -> None:
    with tempfile.TemporaryDirectory() as folder:
        make_pki(folder)
        server = Server(sys.argv[1], folder)
        try:
            try:
                check_python_ssl(server, folder)
                check_s_client(server, folder)
                check_refusals(server)
                check_python_ssl(server, folder)  # still serving after the refusals
            except (ssl.SSLError, OSError) as error:
                fail(f"{type(error).__name__}: {error}\nthe server's log:\n{server.log()}")
            status = server.stop()
            check(status == 0, f"exit status {status} after SIGTERM")
        finally:
            server.close()
    print("ok: python ssl (TLS 1.3, 1.2), openssl s_client, refusals, SIGTERM")


if __name__ == "__main__":
    main()
