"""The Go client (clients/go) built offline and run against the assembled server, over TCP and TLS.

    /usr/bin/python3 go_client_e2e.py <avant binary> <source folder> <build folder>

clients/go/build.sh builds the client's tests and its example into <build folder> (the GOPATH
tree, the generated messages and the Go build cache all go there: nothing is downloaded, nothing
is written elsewhere). Checked: the client package's own tests pass (its frame decoder on byte
arrays: many frames in one chunk, one frame cut at every point, the limit refused on the head
alone, the echo example's bytes; its read loop over an in-memory pipe: answers in one write and
cut in two, a frame over the limit, a timeout, the server's close); against `avant` with STREAM_TASK over TCP and with use_ssl = 1
over TLS (a certificate made by scripts/example-cert.sh), the example's echoes come back byte for
byte, a testContext with a NUL and all 256 byte values and one of 10000 bytes among them; a
package over the server's limit of 10240 bytes makes the server close the connection, which the
example reports; SIGTERM stops the server with status 0.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 15.0
BUILD_DEADLINE = 90.0  # a first build compiles Debian's protobuf runtime from source
BANNER = re.compile(r"avant: serving the protobuf stream \(the echo example\) on (tcp|tls)://"
                    r"127\.0\.0\.1:(\d+)/")
ALL_BYTES = b"nul\0here|" + bytes(range(256))
MESSAGES = [b"hello-avant", b"", ALL_BYTES, "ünïcødé ✓".encode(), b"x" * 10000]
ANSWER = re.compile(r"^(\S*) \((\d+) bytes\) in [\d.]+ ms$")


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def run(argv: list[str], timeout: float = DEADLINE) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def echoes(example: str, host: str, port: int, tls: list[str]) -> None:
    done = run([example, *tls, "-hex", host, str(port), *(m.hex() for m in MESSAGES)])
    check(done.returncode == 0, f"example over {tls or 'tcp'}: status {done.returncode}, "
          f"{done.stderr}")
    lines = done.stdout.splitlines()
    check(len(lines) == len(MESSAGES), f"{len(lines)} answers for {len(MESSAGES)} messages: "
          f"{done.stdout[:500]}")
    for sent, line in zip(MESSAGES, lines):
        m = ANSWER.match(line)
        check(m is not None, f"the example printed {line[:200]!r}")
        check(bytes.fromhex(m.group(1)) == sent and int(m.group(2)) == len(sent),
              f"{len(sent)} bytes sent, {m.group(2)} came back: {m.group(1)[:64]}...")
    text = run([example, *tls, host, str(port), "hello-avant"])
    check(text.returncode == 0 and text.stdout.startswith('"hello-avant" (11 bytes) in '),
          f"the example without -hex printed {text.stdout!r} {text.stderr!r}")


def over_the_limit(example: str, avant: avant_process.Avant, tls: list[str]) -> None:
    # A first echo answered, then a testContext that makes the package over 10240 bytes.
    done = run([example, *tls, "-fill", "10240", "127.0.0.1", str(avant.port), "first"])
    check(done.returncode == 1, f"a package over the limit: status {done.returncode}, "
          f"{done.stdout!r} {done.stderr!r}")
    check(done.stdout.startswith('"first" (5 bytes)'), f"the first echo: {done.stdout!r}")
    check("connection closed" in done.stderr or "connection reset" in done.stderr,
          f"the example did not report the close: {done.stderr!r}")


def serve(binary: str, config: str, *sets: str) -> avant_process.Avant:
    return avant_process.Avant(binary, config, BANNER, "server.task_type=STREAM_TASK", *sets)


def body(binary: str, source: str, build: str) -> None:
    built = run([os.path.join(source, "clients", "go", "build.sh"), build], BUILD_DEADLINE)
    check(built.returncode == 0, f"clients/go/build.sh: {built.stdout}{built.stderr}")
    example = os.path.join(build, "example")
    tests = run([os.path.join(build, "avant.test"), "-test.v", "-test.count=1"])
    check(tests.returncode == 0, f"the Go client's tests:\n{tests.stdout}{tests.stderr}")
    check(tests.stdout.count("--- PASS") >= 8, f"the Go client's tests ran: {tests.stdout}")

    config = os.path.join(source, "examples", "main.ini")
    plain = serve(binary, config)
    try:
        check(plain.match.group(1) == "tcp", f"banner {plain.banner!r}")
        echoes(example, "127.0.0.1", plain.port, [])
        over_the_limit(example, plain, [])
        echoes(example, "127.0.0.1", plain.port, [])  # the server still serves the others
    finally:
        code = plain.stop()
    check(code == 0, f"exit status {code} after SIGTERM")
    check(any("is over the limit of 10240" in line for line in plain.stderr),
          "the refusal was not logged")

    with tempfile.TemporaryDirectory() as folder:
        made = run([os.path.join(source, "scripts", "example-cert.sh"), folder])
        check(made.returncode == 0, f"example-cert.sh: {made.stderr}")
        cert = os.path.join(folder, "example-cert.pem")
        secure = serve(binary, config, "server.use_ssl=1", f"server.crt.pem={cert}",
                       f"server.key.pem={os.path.join(folder, 'example-key.pem')}")
        try:
            check(secure.match.group(1) == "tls", f"banner {secure.banner!r}")
            tls = ["-tls", "-ca", cert]
            echoes(example, "127.0.0.1", secure.port, tls)
            echoes(example, "localhost", secure.port, tls)
            over_the_limit(example, secure, tls)
            refused = run([example, "-tls", "127.0.0.1", str(secure.port)])
            check(refused.returncode == 1 and "certificate" in refused.stderr,
                  f"without -ca the example certificate was accepted: {refused.stderr!r}")
        finally:
            code = secure.stop()
        check(code == 0, f"exit status {code} after SIGTERM (tls)")
    print("ok: the Go client built offline; its tests; its echoes over TCP and TLS byte for byte; "
          "a package over the limit closes the connection")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2], sys.argv[3]))
