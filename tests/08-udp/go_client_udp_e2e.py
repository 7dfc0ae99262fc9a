"""The Go client (clients/go) built offline and run over UDP, against peers of the test's own and
against the assembled server's UDP listener.

    /usr/bin/python3 go_client_udp_e2e.py <avant binary> <source folder> <build folder>

clients/go/build.sh builds the client's tests and its example into <build folder> (the GOPATH
tree, the generated messages and the Go build cache all go there: nothing is downloaded, nothing
is written elsewhere). Checked: the client package's own tests pass (among them its datagram mode
over an in-memory pipe: a package per datagram with no frame, an empty package sent as `12 00`,
a datagram that is not a package skipped and reported, a package over the largest datagram
refused before it is sent, a timeout); `example -udp` against a socket of the test's own sends
the echo example's request as one datagram with no length (`12 0a 0a 08` and eight `a`s), takes
the server's answer after a datagram that is not a package (reported on its standard error) and
never a stranger's datagram to its port, and against a socket that never answers asks once more
from another port, then exits 1; against `avant` on make run's configuration (examples/main.ini,
every port ephemeral) the example's echoes over UDP come back byte for byte, a testContext with a
NUL and all 256 byte values, one of 10000 bytes and an empty one among them; the server still
runs, and SIGTERM stops it with status 0; the example then reports the refused port.
"""
import os
import re
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 15.0
BUILD_DEADLINE = 90.0  # a first build compiles Debian's protobuf runtime from source
SITE = re.compile(r"avant: serving .* on (http)://127\.0\.0\.1:(\d+)/")
ALL_BYTES = b"nul\0here|" + bytes(range(256))
MESSAGES = [b"hello-avant", b"", ALL_BYTES, "ünïcødé ✓".encode(), b"x" * 10000]
ANSWER_LINE = re.compile(r"^(\S*) \((\d+) bytes\) in [\d.]+ ms$")
# chapter 08: the echo example's request datagram, and its answer.
REQUEST = bytes([0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8
ANSWER = bytes([0x08, 0x01, 0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def run(argv: list[str], timeout: float = DEADLINE) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def udp_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(DEADLINE)
    s.bind(("127.0.0.1", 0))
    return s


def garbage_then_answer(example: str) -> None:
    """A peer that answers the echo example after a stranger's package and a datagram that is not
    a package: the example prints the answer and reports the datagram."""
    with udp_socket() as server, udp_socket() as stranger:
        seen: list[bytes] = []

        def serve() -> None:
            try:
                request, sender = server.recvfrom(70000)
            except socket.timeout:
                return
            seen.append(request)
            # Sent one after the other on loopback: each is queued (or dropped) at the client
            # before the next leaves.
            stranger.sendto(ANSWER[:-1] + b"b", sender)
            server.sendto(b"\xff\xff\xff", sender)
            server.sendto(ANSWER, sender)

        peer = threading.Thread(target=serve, daemon=True)
        peer.start()
        done = run([example, "-udp", "127.0.0.1", str(server.getsockname()[1]), "aaaaaaaa"])
        peer.join(DEADLINE)
        check(seen == [REQUEST], f"the echo example's request went as {seen}")
        check(done.returncode == 0 and done.stdout.startswith('"aaaaaaaa" (8 bytes) in '),
              f"the example after a stranger's and a bad datagram: status {done.returncode}, "
              f"{done.stdout!r} {done.stderr!r}")
        check("a datagram of 3 bytes is not a ProtoPackage" in done.stderr,
              f"the datagram that is not a package was not reported: {done.stderr!r}")


def no_answer(example: str) -> None:
    """A peer that never answers: the example asks once more, from another port, then gives up."""
    with udp_socket() as silent:
        done = run([example, "-udp", "-timeout", "300ms", "127.0.0.1",
                    str(silent.getsockname()[1]), "lost"])
        check(done.returncode == 1 and "once more" in done.stderr,
              f"the example against a silent peer: status {done.returncode}, {done.stderr!r}")
        # The example has exited: whatever it sent is queued here already.
        silent.setblocking(False)
        asked = []
        try:
            while True:
                asked.append(silent.recvfrom(70000))
        except BlockingIOError:
            pass
        check(len(asked) == 2 and asked[0][1][1] != asked[1][1][1],
              f"the example asked {len(asked)} times: {asked}")


def echoes(example: str, port: int) -> None:
    done = run([example, "-udp", "-hex", "127.0.0.1", str(port), *(m.hex() for m in MESSAGES)])
    check(done.returncode == 0, f"example -udp: status {done.returncode}, {done.stderr}")
    lines = done.stdout.splitlines()
    check(len(lines) == len(MESSAGES), f"{len(lines)} answers for {len(MESSAGES)} messages: "
          f"{done.stdout[:500]}")
    for sent, line in zip(MESSAGES, lines):
        m = ANSWER_LINE.match(line)
        check(m is not None, f"the example printed {line[:200]!r}")
        check(bytes.fromhex(m.group(1)) == sent and int(m.group(2)) == len(sent),
              f"{len(sent)} bytes sent, {m.group(2)} came back: {m.group(1)[:64]}...")
    text = run([example, "-udp", "127.0.0.1", str(port), "hello-avant"])
    check(text.returncode == 0 and text.stdout.startswith('"hello-avant" (11 bytes) in '),
          f"the example without -hex printed {text.stdout!r} {text.stderr!r}")


def body(binary: str, source: str, build: str) -> None:
    built = run([os.path.join(source, "clients", "go", "build.sh"), build], BUILD_DEADLINE)
    check(built.returncode == 0, f"clients/go/build.sh: {built.stdout}{built.stderr}")
    example = os.path.join(build, "example")
    tests = run([os.path.join(build, "avant.test"), "-test.v", "-test.count=1"])
    check(tests.returncode == 0, f"the Go client's tests:\n{tests.stdout}{tests.stderr}")
    check(tests.stdout.count("--- PASS") >= 13 and "Datagram" in tests.stdout,
          f"the Go client's tests ran: {tests.stdout}")

    garbage_then_answer(example)
    no_answer(example)

    avant = avant_process.Avant(binary, os.path.join(source, "examples", "main.ini"), SITE)
    try:
        port = avant.udp_port()
        echoes(example, port)
        check(avant.process.poll() is None, "avant stopped during the echoes")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(DEADLINE)
            s.connect(("127.0.0.1", port))
            s.send(REQUEST)
            check(s.recv(70000) == ANSWER, "the echo example's datagram after the example's")
    finally:
        code = avant.stop()
    check(code == 0, f"exit status {code} after SIGTERM")

    # Nobody at the port any more: the connected socket hears ICMP's "port unreachable".
    gone = run([example, "-udp", "127.0.0.1", str(port), "after the stop"])
    check(gone.returncode == 1 and "connection refused" in gone.stderr,
          f"the example after the stop: status {gone.returncode}, {gone.stderr!r}")
    print("ok: the Go client built offline; its tests; over UDP a datagram per package, strangers "
          "and garbage skipped, one more try after a timeout; its echoes against avant byte for "
          "byte")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2], sys.argv[3]))
