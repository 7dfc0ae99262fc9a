"""The assembled server's UDP listener end to end, with python3's socket module.

    /usr/bin/python3 avant_udp_e2e.py <avant binary> <source folder> <avant-cli binary>

Checked, on `make run`'s configuration (examples/main.ini, ports moved to ephemeral ones): the
original's echo example over UDP byte for byte (docs/original-avant.md: the answer datagram is
`08 01 12 0a 0a 08` and the eight `a`s), a datagram that is not a package changes nothing for the
next sender, a safe stop naming another app is answered and stops nothing, and a safe stop naming
this app (examples/main.ini's app_id, 0.0.0.1) is answered and then stops the server, which exits
with status 0 (the original answered and went on serving). And `avant-cli echo --udp` gets the
echo, and against a port where nobody listens says so at once (the ICMP "port unreachable"),
with exit status 1.
"""
import subprocess
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import avant_process  # noqa: E402  (tests/support)
import server_log  # noqa: E402  (tests/support)

DEADLINE = 15.0
SITE = re.compile(r"avant: serving .* on (http)://127\.0\.0\.1:(\d+)/")
REQUEST = bytes([0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8
ANSWER = bytes([0x08, 0x01, 0x12, 0x0A, 0x0A, 0x08]) + b"a" * 8


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def safe_stop(app_id: bytes) -> bytes:
    """ProtoPackage { cmd = 14 (UDP_SAFESTOP_REQ), protocol = ProtoUDPSafeStopReq { appId } }."""
    inner = bytes([0x0A, len(app_id)]) + app_id
    return bytes([0x08, 0x0E, 0x12, len(inner)]) + inner


# ProtoPackage { cmd = 15 (UDP_SAFESTOP_RES), protocol = { appId = "0.0.0.1" } }.
STOPPED = bytes([0x08, 0x0F, 0x12, 0x09, 0x0A, 0x07]) + b"0.0.0.1"


def ask(port: int, datagram: bytes) -> bytes | None:
    """Sends `datagram` from a socket of its own; the answer, or None after the deadline."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(DEADLINE)
        s.sendto(datagram, ("127.0.0.1", port))
        try:
            answer, sender = s.recvfrom(70000)
        except socket.timeout:
            return None
        check(sender == ("127.0.0.1", port), f"the answer came from {sender}")
        return answer


def closed_udp_port() -> int:
    """A UDP port nobody listens on: bound, then closed again."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=DEADLINE)


def body(binary: str, source: str, cli_binary: str) -> None:
    avant = avant_process.Avant(binary, os.path.join(source, "examples", "main.ini"), SITE)
    stopped_by_itself = None
    try:
        port = avant.udp_port()
        check(ask(port, REQUEST) == ANSWER, "the echo example over UDP")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
            junk.sendto(b"\xff\xff\xff not a package", ("127.0.0.1", port))
        check(ask(port, REQUEST) == ANSWER, "the echo after a datagram that is not a package")
        check(ask(port, safe_stop(b"9.9.9.9")) == STOPPED, "a safe stop for another app")
        check(ask(port, REQUEST) == ANSWER, "the echo after a safe stop for another app")
        check(avant.process.poll() is None, "a safe stop for another app stopped the server")
        echo = cli(cli_binary, "echo", "--udp", "--port", str(port), "--text", "over udp",
                   "--count", "3")
        check(echo.returncode == 0 and echo.stdout.count('testContext: "over udp"') == 3,
              f"avant-cli echo --udp: {echo.returncode} {echo.stdout!r} {echo.stderr!r}")
        refused = cli(cli_binary, "echo", "--udp", "--port", str(closed_udp_port()))
        check(refused.returncode == 1 and "Connection refused" in refused.stderr,
              f"avant-cli echo --udp to a closed port: {refused.returncode} {refused.stderr!r}")
        check(ask(port, safe_stop(b"0.0.0.1")) == STOPPED, "the safe stop for this app")
        stopped_by_itself = avant.wait(DEADLINE)
        check(stopped_by_itself == 0, f"after the safe stop: exit status {stopped_by_itself}")
    finally:
        if stopped_by_itself is None:
            avant.stop()
    check(any("a UDP safe stop: stopping" in line for line in avant.stderr),
          f"no log line for the safe stop: {avant.stderr[-5:]}")
    print("ok: the echo example over UDP (python3 and avant-cli --udp), garbage survived, a "
          "closed port reported, the safe stop answered and obeyed only for this app")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    server_log.main(lambda: body(sys.argv[1], sys.argv[2], sys.argv[3]))
